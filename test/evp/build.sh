#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# build.sh - builds OpenSSL's evp_test from the source of the OpenSSL under test, against that
# OpenSSL's libcrypto, into $BUILD/evp/<source version>/ (named by $BUILD/evp/current, a symlink).
# OpenSSL itself is not built, and its source is never committed here.
#
#   evp_test          OpenSSL's test/evp_test.c as it is
#   evp_test_uo       the same, run through uo_evp_test.c: ASYNC jobs and provider checks
#   data              OpenSSL's test/recipes/30-test_evp_data/
#
# The OpenSSL under test is the library that the openssl in PATH runs on (make OPENSSL_PREFIX=...
# puts that prefix's first), and pkg-config's libcrypto, whose headers evp_test is compiled with,
# must be the same version. evp_test reads OpenSSL's private structures (crypto/evp.h) and its
# vectors follow the library's behaviour (3.2's implicit rejection, 4.0's explicit curves), so an
# evp_test of another release fails its own default-provider baseline.
#
# 3.0 (Debian 12's system library): the version is pinned. The system has libcrypto
# 3.0.19-1~deb12u2, whose source is no longer on the mirrors; bookworm's deb-src lists
# 3.0.17-1~deb12u2, 3.0.20-1~deb12u2 and 3.0.22-1~deb12u2 (the last one's .dsc is missing from the
# security mirror). 3.0.20 is the nearest release, one patch level above the library; its evp_test
# builds against 3.0.19's headers and library and passes every evppkey_* file that
# test/integration/evp_test.sh runs with the default provider. It comes from bookworm's source
# index, fetched into an apt state directory of the project's own ($UO_CACHE/apt-bookworm; /etc/apt
# is not touched), is downloaded once and unpacked with dpkg-source (Debian's patches applied).
#
# Any other version (3.5, 4.0: tools/openssl.sh builds them): the upstream tarball of exactly that
# release, openssl_<version>.orig.tar.gz, from the Debian source package that tools/openssl.sh
# built it from, found through the project's own apt state directory ($UO_CACHE/apt-openssl,
# default ~/.cache/uringprov/apt-openssl; /etc/apt is not touched) and checked against the SHA256 in
# Debian's signed index. Only the parts evp_test needs are unpacked.
#
# Either way the source is fetched once per build directory and version; later runs need no
# network. Exit 77 (with the reason) only when the source cannot be downloaded.
set -eu

cd "$(dirname "$0")/../.."
root=$PWD
. "$root/tools/debsrc.sh"
self=$root/test/evp/build.sh
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$root/$BUILD ;; esac
CC=${CC:-cc}
PKG_CONFIG=${PKG_CONFIG:-pkg-config}
CACHE=${UO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/uringprov}
# Flags for OpenSSL's files (its own warnings are not ours to fix); ours get the project's warnings.
EVP_CFLAGS=${EVP_CFLAGS:--O1 -g}
UO_WARN="-Wall -Wextra -Werror -Wmissing-prototypes -Wshadow -Wstrict-prototypes
         -Wno-unused-parameter"

skip() {
    echo "SKIP: $*"
    exit 77
}

die() {
    echo "FAIL: $*"
    exit 1
}

# The version under test: the library that `openssl version` reports ("OpenSSL 3.5.7 <date>
# (Library: OpenSSL 3.5.7 <date>)"; the Library part is missing when it equals the binary's).
command -v openssl >/dev/null 2>&1 || die "no openssl in PATH: cannot tell which OpenSSL is under test"
version=$(openssl version 2>/dev/null | sed -n 's/.*(Library: OpenSSL \([^ ]*\) .*/\1/p; t; s/^OpenSSL \([^ ]*\) .*/\1/p')
[ -n "$version" ] || die "cannot read the library version from '$(openssl version 2>&1)'"
$PKG_CONFIG --exists libcrypto || die "pkg-config cannot find libcrypto (libssl-dev)"
headers=$($PKG_CONFIG --modversion libcrypto)
[ "$headers" = "$version" ] || die "the openssl in PATH runs on libcrypto $version, but pkg-config's" \
    "libcrypto (the headers evp_test would be built with) is $headers: run through" \
    "make OPENSSL_PREFIX=..., which sets both"

case $version in
    3.0.*)
        PIN=3.0.20-1~deb12u2
        UPSTREAM=${PIN%%-*}
        ;;
    *)
        PIN=""
        UPSTREAM=$version
        ;;
esac
out=$BUILD/evp/$UPSTREAM
src=$out/openssl-$UPSTREAM

# 3.0: Debian 12's source package, pinned (see above).
dl=$out/download-$PIN

# The pinned version's source index: bookworm, bookworm-updates and bookworm-security, in an apt
# state directory of the project's own (tools/debsrc.sh; /etc/apt is not touched).
pinned_index() {
    debsrc_init "$CACHE/apt-bookworm" "$out/apt-update.log" bookworm bookworm-updates \
        bookworm-security || skip "$DEBSRC_WHY"
    debsrc_versions openssl | grep -qx "$PIN" && return 0
    echo "evp: fetching Debian's openssl source index (bookworm, -updates, -security) into $DEBSRC_DIR"
    debsrc_index openssl || skip "$DEBSRC_WHY"
    debsrc_versions openssl | grep -qx "$PIN" ||
        skip "Debian's bookworm index no longer lists openssl $PIN (then update PIN here)"
}

fetch_pinned() {
    sh "$root/test/deps.sh" dpkg-dev
    command -v dpkg-source >/dev/null 2>&1 || die "dpkg-source (dpkg-dev) is missing"
    dsc=$dl/openssl_$PIN.dsc
    if [ ! -f "$dl/.uo-downloaded" ]; then
        pinned_index
        rm -rf "$dl"
        mkdir -p "$dl"
        echo "evp: downloading Debian's openssl source $PIN into $dl"
        # apt warns that root downloads unsandboxed when _apt cannot write here; that is harmless.
        (cd "$dl" && debsrc_apt source -qq --download-only "openssl=$PIN") >"$out/download.log" 2>&1 \
            || { cat "$out/download.log"; skip "apt-get source openssl=$PIN failed (see above)"; }
        [ -f "$dsc" ] || skip "apt-get source did not produce $dsc"
        touch "$dl/.uo-downloaded"
    fi
    rm -rf "$src" "$src.tmp"
    echo "evp: unpacking with dpkg-source"
    dpkg-source -q -x "$dsc" "$src.tmp" >"$out/unpack.log" 2>&1 \
        || { cat "$out/unpack.log"; die "dpkg-source -x $dsc"; }
    mv "$src.tmp" "$src"
    # dpkg-source leaves a copy of the upstream tarball beside the tree; the download keeps its own.
    rm -f "$out/openssl_$UPSTREAM.orig.tar.gz" "$out/openssl_$UPSTREAM.orig.tar.gz.asc"
}

# Other versions: the upstream tarball, through the apt state directory that tools/openssl.sh
# keeps (the same index, so the same Debian source package it built the library from).
# debian_version: the newest Debian version of the openssl source package whose upstream release
# is $UPSTREAM (epoch, Debian revision and +suffix dropped), or nothing.
debian_version() {
    debsrc_versions openssl | awk -v want="$UPSTREAM" '
        { u = $1; sub(/^[0-9]+:/, "", u); sub(/-[^-]*$/, "", u); sub(/\+.*/, "", u)
          if (u == want) print $1 }' | sort -r -V | head -n 1
}

fetch_upstream() {
    debsrc_init "$CACHE/apt-openssl" "$out/apt-update.log" trixie sid experimental ||
        skip "$DEBSRC_WHY"
    v=$(debian_version)
    if [ -z "$v" ]; then
        echo "evp: fetching Debian's openssl source index into $DEBSRC_DIR"
        debsrc_index openssl || skip "$DEBSRC_WHY"
        v=$(debian_version)
    fi
    [ -n "$v" ] || skip "Debian lists no openssl source package of OpenSSL $UPSTREAM (trixie, sid," \
        "experimental): cannot get the evp_test of the version under test"
    echo "evp: downloading the upstream tarball of Debian openssl $v into $out"
    rc=0
    debsrc_orig openssl "$v" "$out" || rc=$?
    [ "$rc" -ne 3 ] || die "$DEBSRC_WHY"
    [ "$rc" -eq 0 ] || skip "$DEBSRC_WHY"
    file=$DEBSRC_FILE
    # What evp_test and libtestutil need: the headers (public, internal, apps'), the sources, and
    # the vectors. The tarball has one top directory.
    tar -tf "$file" >"$out/members" || die "cannot list $file"
    top=$(head -n 1 "$out/members")
    top=${top%%/*}
    set --
    for m in include apps/include apps/lib test/testutil test/testutil.h test/evp_test.c \
             test/recipes/30-test_evp_data crypto/evp/evp_local.h e_os.h; do
        grep -q -e "^$top/$m\(/\|\$\)" "$out/members" && set -- "$@" "$top/$m"
    done
    rm -rf "$src" "$src.tmp"
    mkdir -p "$src.tmp"
    echo "evp: unpacking what evp_test needs into $src"
    tar -xf "$file" -C "$src.tmp" --strip-components=1 "$@" || die "cannot unpack $file"
    rm -f "$file" "$out/members"
    mv "$src.tmp" "$src"
}

mkdir -p "$out"
if [ ! -f "$src/.uo-unpacked" ]; then
    if [ -n "$PIN" ]; then
        fetch_pinned
    else
        fetch_upstream
    fi
    touch "$src/.uo-unpacked"
fi
echo "evp: evp_test of OpenSSL $UPSTREAM${PIN:+ (Debian $PIN)} for libcrypto $version, in $out"

# stale TARGET FILE...: true if TARGET is missing or older than one of the files. (sh has no local
# variables: the names are the function's own.)
stale() {
    stale_target=$1
    shift
    [ -e "$stale_target" ] || return 0
    for stale_dep in "$@"; do
        [ "$stale_dep" -nt "$stale_target" ] && return 0
    done
    return 1
}

crypto_cflags=$($PKG_CONFIG --cflags libcrypto)
crypto_libs=$($PKG_CONFIG --libs libcrypto)

# OpenSSL's public headers come from pkg-config's libcrypto, matching the library. Only the
# internal headers evp_test needs (internal/, crypto/, and 3.0's e_os.h) come from the source tree:
# a private include directory that holds just those, so the source tree's openssl/ never shadows
# the installed one.
inc=$out/include
mkdir -p "$inc"
ln -sfn "$src/include/internal" "$inc/internal"
ln -sfn "$src/include/crypto" "$inc/crypto"
if [ -f "$src/e_os.h" ]; then
    ln -sfn "$src/e_os.h" "$inc/e_os.h"
fi
ossl_inc="-I$inc -I$src/apps/include -I$src/test"

# libtestutil.a as OpenSSL's test/build.info makes it (apps/lib/opt.c included), which is what lets
# evp_test.c's own setup_tests/cleanup_tests/test_get_options override the library's defaults.
# Every test/testutil/*.c is in it, in each release (3.5 added helper.c and compare.c).
objs=""
mkdir -p "$out/obj"
for c in "$src"/test/testutil/*.c; do
    f=$(basename "$c" .c)
    o=$out/obj/testutil_$f.o
    if stale "$o" "$c" "$self"; then
        $CC $EVP_CFLAGS $ossl_inc $crypto_cflags -c -o "$o" "$c"
    fi
    objs="$objs $o"
done
o=$out/obj/apps_opt.o
if stale "$o" "$src/apps/lib/opt.c" "$self"; then
    $CC $EVP_CFLAGS $ossl_inc $crypto_cflags -c -o "$o" "$src/apps/lib/opt.c"
fi
objs="$objs $o"
if stale "$out/libtestutil.a" $objs; then
    rm -f "$out/libtestutil.a"
    ar rcs "$out/libtestutil.a" $objs
fi

# evp_test as OpenSSL ships it.
if stale "$out/evp_test" "$src/test/evp_test.c" "$out/libtestutil.a" "$self"; then
    echo "evp: building $out/evp_test"
    $CC $EVP_CFLAGS $ossl_inc $crypto_cflags -o "$out/evp_test" "$src/test/evp_test.c" \
        "$out/libtestutil.a" $crypto_libs
fi

# evp_test_uo: the one call that runs a test becomes "uo_evp_run(t)", defined in uo_evp_test.c,
# which includes the copy so that it can look inside evp_test's structures (see there).
call='t->meth->run_test(t)'
if stale "$out/evp_test_uo" "$src/test/evp_test.c" "$out/libtestutil.a" "$self" \
         "$root/test/evp/uo_evp_test.c" "$root/test/helpers/uo_test.c" \
         "$root/test/helpers/uo_test.h"; then
    echo "evp: building $out/evp_test_uo"
    n=$(grep -cF "$call" "$src/test/evp_test.c" || true)
    [ "$n" = 1 ] || die "expected one '$call' in evp_test.c, found $n"
    sed 's/t->meth->run_test(t)/uo_evp_run(t)/' "$src/test/evp_test.c" >"$out/evp_test_hooked.c"
    # What changed in evp_test.c between releases, told to uo_evp_test.c by what the file has rather
    # than by a version number: 3.0's KeyGen test keeps its context in its data (later releases
    # make it inside the run); 3.5 added the Sign-Message and Verify-Message tests, and its Kem
    # test keeps the context it ran in its data.
    uo_defs=""
    sed -n '/^typedef struct keygen_test_data_st/,/^}/p' "$src/test/evp_test.c" | grep -q genctx &&
        uo_defs="$uo_defs -DUO_EVP_KEYGEN_CTX_IN_DATA"
    grep -q '^static const EVP_TEST_METHOD psign_message_test_method' "$src/test/evp_test.c" &&
        uo_defs="$uo_defs -DUO_EVP_MESSAGE_TESTS"
    sed -n '/^typedef struct kem_data_st/,/^}/p' "$src/test/evp_test.c" |
        grep -q 'EVP_PKEY_CTX \*ctx;' && uo_defs="$uo_defs -DUO_EVP_KEM_TESTS"
    $CC $EVP_CFLAGS $uo_defs $ossl_inc -I"$out" -I"$root/test/helpers" $crypto_cflags \
        -c -o "$out/obj/uo_evp_test.o" "$root/test/evp/uo_evp_test.c"
    $CC -O2 -g $UO_WARN -I"$root/test/helpers" $crypto_cflags \
        -c -o "$out/obj/uo_test.o" "$root/test/helpers/uo_test.c"
    $CC -o "$out/evp_test_uo" "$out/obj/uo_evp_test.o" "$out/obj/uo_test.o" "$out/libtestutil.a" \
        $crypto_libs
fi

ln -sfn "$src/test/recipes/30-test_evp_data" "$out/data"
# test/integration/evp_test.sh runs what this names.
ln -sfn "$UPSTREAM" "$BUILD/evp/current"

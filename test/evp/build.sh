#!/bin/sh
# build.sh - builds OpenSSL's evp_test from Debian's openssl source package, against the system
# libcrypto, into $BUILD/evp/. OpenSSL itself is not built, and its source is never committed here.
#
#   $BUILD/evp/evp_test          OpenSSL's test/evp_test.c as it is
#   $BUILD/evp/evp_test_uo       the same, run through uo_evp_test.c: ASYNC jobs and provider checks
#   $BUILD/evp/data              OpenSSL's test/recipes/30-test_evp_data/
#
# The version is pinned. The system has libcrypto 3.0.19-1~deb12u2, whose source is no longer on
# the mirrors; bookworm's deb-src lists 3.0.17-1~deb12u2, 3.0.20-1~deb12u2 and 3.0.22-1~deb12u2
# (the last one's .dsc is missing from the security mirror). 3.0.20 is the nearest release, one
# patch level above the library; its evp_test builds against 3.0.19's headers and library and
# passes every evppkey_* file that test/integration/evp_test.sh runs with the default provider.
#
# On a fresh Debian 12 machine, as root: when apt does not know the pinned version, it adds the
# deb-src entries (/etc/apt/sources.list.d/uo-src.sources, unless that file exists) and runs
# apt-get update; then it downloads the source once into $BUILD/evp/ and unpacks it there with
# dpkg-source (Debian's patches applied). Later runs use that copy and need no network.
# Exit 77 (with the reason) only when the source package cannot be downloaded.
set -eu

cd "$(dirname "$0")/../.."
root=$PWD
self=$root/test/evp/build.sh
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$root/$BUILD ;; esac
CC=${CC:-cc}
PKG_CONFIG=${PKG_CONFIG:-pkg-config}
# Flags for OpenSSL's files (its own warnings are not ours to fix); ours get the project's warnings.
EVP_CFLAGS=${EVP_CFLAGS:--O1 -g}
UO_WARN="-Wall -Wextra -Werror -Wmissing-prototypes -Wshadow -Wstrict-prototypes
         -Wno-unused-parameter"

PIN=3.0.20-1~deb12u2
UPSTREAM=${PIN%%-*}
out=$BUILD/evp
dl=$out/download-$PIN
src=$out/openssl-$UPSTREAM

skip() {
    echo "SKIP: $*"
    exit 77
}

known_to_apt() {
    apt-cache showsrc openssl 2>/dev/null | grep -qx "Version: $PIN"
}

# Makes apt know the pinned source version: deb-src entries for bookworm, then apt-get update.
apt_index() {
    known_to_apt && return 0
    command -v apt-get >/dev/null 2>&1 || skip "no apt-get: cannot download Debian's openssl source"
    # Where apt reads *.sources from (normally /etc/apt/sources.list.d/; APT_CONFIG can move it).
    sources_dir=/etc/apt/sources.list.d/
    eval "$(apt-config shell sources_dir Dir::Etc::sourceparts/d)"
    sources_file=${sources_dir%/}/uo-src.sources
    [ "$(id -u)" -eq 0 ] || skip "apt does not list openssl source $PIN, and adding deb-src" \
        "entries needs root (run once as root, or add deb-src for bookworm, bookworm-updates and" \
        "bookworm-security)"
    if [ ! -e "$sources_file" ]; then
        echo "evp: adding $sources_file (deb-src for bookworm, bookworm-updates, bookworm-security)"
        cat >"$sources_file" <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    fi
    echo "evp: apt-get update"
    # apt-get update exits 0 when a mirror cannot be reached: its warnings say what is missing.
    apt-get update -qq >"$out/apt-update.log" 2>&1 || true
    if ! known_to_apt; then
        grep -E '^(W|E):' "$out/apt-update.log" || true
        skip "after apt-get update, apt lists no openssl source $PIN (apt-cache showsrc openssl):" \
            "the mirrors cannot be reached (see above) or no longer carry it (then update PIN here)"
    fi
}

fetch() {
    [ -f "$src/.uo-unpacked" ] && return 0
    sh "$root/test/deps.sh" dpkg-dev
    if ! command -v dpkg-source >/dev/null 2>&1; then
        echo "FAIL: dpkg-source (dpkg-dev) is missing"
        exit 1
    fi
    dsc=$dl/openssl_$PIN.dsc
    if [ ! -f "$dl/.uo-downloaded" ]; then
        apt_index
        rm -rf "$dl"
        mkdir -p "$dl"
        echo "evp: downloading Debian's openssl source $PIN into $dl"
        # apt warns that root downloads unsandboxed when _apt cannot write here; that is harmless.
        (cd "$dl" && apt-get source -qq --download-only "openssl=$PIN") >"$out/download.log" 2>&1 \
            || { cat "$out/download.log"; skip "apt-get source openssl=$PIN failed (see above)"; }
        [ -f "$dsc" ] || skip "apt-get source did not produce $dsc"
        touch "$dl/.uo-downloaded"
    fi
    rm -rf "$src" "$src.tmp"
    echo "evp: unpacking with dpkg-source"
    dpkg-source -q -x "$dsc" "$src.tmp" >"$out/unpack.log" 2>&1 \
        || { cat "$out/unpack.log"; echo "FAIL: dpkg-source -x $dsc"; exit 1; }
    mv "$src.tmp" "$src"
    # dpkg-source leaves a copy of the upstream tarball beside the tree; the download keeps its own.
    rm -f "$out/openssl_$UPSTREAM.orig.tar.gz" "$out/openssl_$UPSTREAM.orig.tar.gz.asc"
    touch "$src/.uo-unpacked"
}

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

mkdir -p "$out"
fetch

if ! $PKG_CONFIG --exists libcrypto; then
    echo "FAIL: pkg-config cannot find libcrypto (libssl-dev)"
    exit 1
fi
crypto_cflags=$($PKG_CONFIG --cflags libcrypto)
crypto_libs=$($PKG_CONFIG --libs libcrypto)

# OpenSSL's public headers come from the system (libssl-dev), matching the library. Only the
# internal headers evp_test needs (internal/, crypto/, e_os.h) come from the source tree: a private
# include directory that holds just those, so the source tree's openssl/ never shadows the system's.
inc=$out/include
mkdir -p "$inc"
ln -sfn "$src/include/internal" "$inc/internal"
ln -sfn "$src/include/crypto" "$inc/crypto"
ln -sfn "$src/e_os.h" "$inc/e_os.h"
ossl_inc="-I$inc -I$src/apps/include -I$src/test"

# libtestutil.a as OpenSSL's test/build.info makes it (apps/lib/opt.c included), which is what lets
# evp_test.c's own setup_tests/cleanup_tests/test_get_options override the library's defaults.
testutil="basic_output output driver tests cb stanza format_output load fake_random test_cleanup
          main testutil_init options test_options provider apps_shims random"
objs=""
mkdir -p "$out/obj"
for f in $testutil; do
    o=$out/obj/testutil_$f.o
    if stale "$o" "$src/test/testutil/$f.c" "$self"; then
        $CC $EVP_CFLAGS $ossl_inc $crypto_cflags -c -o "$o" "$src/test/testutil/$f.c"
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
    [ "$n" = 1 ] || { echo "FAIL: expected one '$call' in evp_test.c, found $n"; exit 1; }
    sed 's/t->meth->run_test(t)/uo_evp_run(t)/' "$src/test/evp_test.c" >"$out/evp_test_hooked.c"
    $CC $EVP_CFLAGS $ossl_inc -I"$out" -I"$root/test/helpers" $crypto_cflags \
        -c -o "$out/obj/uo_evp_test.o" "$root/test/evp/uo_evp_test.c"
    $CC -O2 -g $UO_WARN -I"$root/test/helpers" $crypto_cflags \
        -c -o "$out/obj/uo_test.o" "$root/test/helpers/uo_test.c"
    $CC -o "$out/evp_test_uo" "$out/obj/uo_evp_test.o" "$out/obj/uo_test.o" "$out/libtestutil.a" \
        $crypto_libs
fi

ln -sfn "$src/test/recipes/30-test_evp_data" "$out/data"

#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Makes Intel's crypto_mb (multi-buffer RSA/ECDSA, from ipp-crypto) available to the build; run by
# `make deps` as:  MB=auto|no sh tools/crypto_mb.sh VERSION CACHE_DIR
# Debian 13+ packages it (libcrypto-mb-dev); Debian 12 does not, so there a static, libcrypto-free
# libcrypto_mb.a is built from Debian's newer ipp-crypto source into CACHE_DIR (outside the clone),
# without touching /etc/apt. Not fatal: when it cannot be done it says why and exits 0, and the
# build goes on without crypto_mb (no multi-buffer batching). Exits 1 only on a checksum mismatch.
set -eu
. "$(dirname "$0")/debsrc.sh"

P='make deps: crypto_mb:'
VER=${1:-2021.12.1}
CACHE=${2:-${XDG_CACHE_HOME:-$HOME/.cache}/uringprov/crypto_mb-$VER}
CACHE=${CACHE%/}
MB=${MB:-auto}
PKG=ipp-crypto

say() { printf '%s %s\n' "$P" "$*"; }
# Gives up without failing make deps.
skip() { printf '%s %s; building without crypto_mb (multi-buffer batching off)\n' "$P" "$*" >&2; exit 0; }
cache_ok() { [ -f "$1/lib/libcrypto_mb.a" ] && [ -f "$1/include/crypto_mb/rsa.h" ]; }

[ "$MB" = no ] && exit 0
[ -f /usr/include/crypto_mb/rsa.h ] && exit 0
cache_ok "$CACHE" && exit 0

arch=$(uname -m)
case $arch in
    x86_64 | amd64) ;;
    *) skip "crypto_mb needs x86-64 (AVX-512 IFMA), this machine is $arch" ;;
esac
command -v apt-get >/dev/null 2>&1 ||
    skip "no apt-get here (only Debian-based systems are automated); install crypto_mb yourself"

start=$(date +%s 2>/dev/null || echo 0)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/crypto_mb.XXXXXX")
stage=""
cleanup() {
    rm -rf "$tmp"
    [ -z "$stage" ] || rm -rf "$stage"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
log=$tmp/log
: >"$log"

# Shows the end of the log of the step that failed, then gives up.
fail() {
    printf '%s %s; building without crypto_mb (multi-buffer batching off). Its output ended with:\n' \
        "$P" "$1" >&2
    tail -n "${2:-15}" "$log" | sed "s|^|$P   |" >&2
    exit 0
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi
}
apt_install() {
    if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; then
        echo "apt-get install $*: not root and no sudo" >>"$log"
        return 1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" \
        </dev/null >>"$log" 2>&1 && return 0
    # Stale or empty package lists (fresh containers): refresh once and retry.
    as_root apt-get update -q </dev/null >>"$log" 2>&1 || true
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" \
        </dev/null >>"$log" 2>&1
}

# 1. The distribution's package (Debian 13 and later).
if apt-cache policy libcrypto-mb-dev 2>/dev/null | grep -q 'Candidate: [^(]'; then
    say "installing the distribution's libcrypto-mb-dev (apt-get)"
    apt_install libcrypto-mb-dev || fail "apt-get install libcrypto-mb-dev failed (needs root or sudo)"
    say "installed libcrypto-mb-dev"
    exit 0
fi

# 2. Otherwise build it from Debian's ipp-crypto source. Tools first, so that nothing is
#    downloaded when they cannot be had.
need=""
command -v cmake >/dev/null 2>&1 || need="$need cmake"
command -v clang-16 >/dev/null 2>&1 || need="$need clang-16"
command -v make >/dev/null 2>&1 || need="$need make"
command -v nm >/dev/null 2>&1 || need="$need binutils"
command -v sha256sum >/dev/null 2>&1 || need="$need coreutils"
if [ -n "$need" ]; then
    say "no libcrypto-mb-dev in this system's archive; installing build tools:$need (apt-get)"
    # shellcheck disable=SC2086 # a list of package names
    apt_install $need || fail "apt-get install$need failed (needs root or sudo)"
fi

# The source index, in an apt state directory of the project's own (tools/debsrc.sh).
D=$(dirname "$CACHE")/apt
debsrc_init "$D" "$log" trixie sid || skip "$DEBSRC_WHY"
say "fetching Debian's $PKG source index (trixie, sid) into $D"
debsrc_index "$PKG" || fail "$DEBSRC_WHY"

# Candidate versions: the requested one first, then the others of its series, newest first.
series=${VER%.*}
upstream() { u=${1#*:}; u=${u%-*}; printf '%s\n' "${u%%[+~]*}"; }
all=$(debsrc_versions "$PKG" | sort -r -V)
cands=""
for v in $all; do
    [ "$(upstream "$v")" = "$VER" ] && cands="$cands $v"
done
for v in $all; do
    u=$(upstream "$v")
    [ "$u" = "$VER" ] && continue
    case $u in "$series" | "$series".*) cands="$cands $v" ;; esac
done
[ -n "$cands" ] || skip "Debian lists no $PKG $series.x (it has: $(printf %s "$all" | tr "\n" " "))"

# The .dsc and .debian.tar.xz may be 404 (apt-get source then exits 100): only the upstream
# tarball is needed, checked against the SHA256 the signed index lists for it.
got=""
for v in $cands; do
    say "downloading the upstream tarball of $PKG $v"
    rc=0
    debsrc_orig "$PKG" "$v" "$tmp" || rc=$?
    if [ "$rc" -eq 3 ]; then
        printf '%s %s; refusing to build it\n' "$P" "$DEBSRC_WHY" >&2
        exit 1
    fi
    [ "$rc" -eq 0 ] || { say "$DEBSRC_WHY; trying the next version"; continue; }
    file=$DEBSRC_FILE
    say "SHA256 of $(basename "$file") matches Debian's index"
    got=$v
    break
done
[ -n "$got" ] || skip "none of the listed $PKG versions (${cands# }) could be downloaded"

mkdir "$tmp/src"
tar -xf "$file" -C "$tmp/src" 2>>"$log" || fail "cannot unpack $file"
cml=$(find "$tmp/src" -path '*/sources/ippcp/crypto_mb/CMakeLists.txt' | head -n 1)
[ -n "$cml" ] || skip "$file has no sources/ippcp/crypto_mb/CMakeLists.txt"
src=$(dirname "$cml")
top=${src%/sources/ippcp/crypto_mb}
license=""
for f in "$top/LICENSE" "$top"/LICENSE* "$top"/COPYING*; do
    [ -f "$f" ] && { license=$f; break; }
done

# Its cmake files overwrite CMAKE_C_FLAGS, hence the project include. BN_OPENSSL_DISABLE drops
# the OpenSSL-linked *_ssl entry points, so the archive needs no libcrypto.
echo 'add_compile_definitions(BN_OPENSSL_DISABLE)' >"$tmp/defs.cmake"
say "building crypto_mb_s from $PKG $got with clang-16 (cmake, $(nproc 2>/dev/null || echo 1) jobs)"
cmake -S "$src" -B "$tmp/b" -DCMAKE_C_COMPILER=clang-16 -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PROJECT_INCLUDE="$tmp/defs.cmake" </dev/null >>"$log" 2>&1 || fail "cmake configure failed"
cmake --build "$tmp/b" -j "$(nproc 2>/dev/null || echo 1)" --target crypto_mb_s </dev/null >>"$log" 2>&1 ||
    fail "cmake build failed"
lib=$tmp/b/bin/libcrypto_mb.a
[ -f "$lib" ] || lib=$(find "$tmp/b" -name libcrypto_mb.a | head -n 1)
{ [ -n "$lib" ] && [ -f "$lib" ]; } || fail "the build made no libcrypto_mb.a"
nm -u "$lib" >"$tmp/undef" 2>>"$log" || fail "nm cannot read $lib"
if grep -E '(^|[[:space:]])_?(BN|ECDSA)_' "$tmp/undef" >"$log"; then # the log shows just those
    fail "libcrypto_mb.a still references OpenSSL (BN_/ECDSA_ symbols)" 5
fi

# Staged then renamed, so an interrupted run never leaves a half-made cache.
mkdir -p "$(dirname "$CACHE")"
stage=$CACHE.tmp.$$
rm -rf "$stage"
mkdir -p "$stage/lib" "$stage/include/crypto_mb"
cp "$src"/include/crypto_mb/*.h "$stage/include/crypto_mb/"
cp "$lib" "$stage/lib/libcrypto_mb.a"
[ -z "$license" ] || cp "$license" "$stage/LICENSE"
printf '%s\n' "$got" >"$stage/VERSION"
if cache_ok "$CACHE"; then
    say "$CACHE was completed by another run meanwhile; keeping it"
    exit 0
fi
if [ -e "$CACHE" ]; then
    say "replacing the incomplete $CACHE"
    rm -rf "$CACHE"
fi
mv "$stage" "$CACHE"
stage=""
end=$(date +%s 2>/dev/null || echo 0)
say "installed libcrypto_mb.a and headers ($PKG $got, Apache-2.0) into $CACHE in $((end - start)) s"

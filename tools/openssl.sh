#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds an OpenSSL of another series (3.5, 4.0) for the version matrix, from the newest upstream
# release of that series that Debian (trixie, sid, experimental) lists and whose tarball downloads:
#     sh tools/openssl.sh SERIES CACHE_DIR        e.g.  sh tools/openssl.sh 3.5 ~/.cache/uringprov
# then  make OPENSSL_PREFIX=<the printed prefix> BUILD=build-35 check
# It installs into CACHE_DIR/openssl-<version> (outside the clone; 3.5 and 4.0 each build in 4 to 7
# minutes on 2 cores) and names it in CACHE_DIR/current-<series>, a symlink. Later runs reuse that
# install without the network; OPENSSL_REFRESH=1 looks for a newer release first. /etc/apt is never
# touched: the source index lives in an apt state directory of the project's own
# (CACHE_DIR/apt-openssl).
# The upstream .orig.tar.gz alone is used, checked against the SHA256 in Debian's signed index (the
# .dsc may be missing from the mirror). The libraries and the openssl binary carry an rpath to the
# prefix: 3.5's libcrypto.so.3 has the same soname as the system's 3.0.
# Progress goes to stderr, lines prefixed "openssl.sh:"; apt's output to
# CACHE_DIR/openssl-<series>.log, the build's to CACHE_DIR/openssl-<version>.log. The prefix is the
# last (only) line on stdout. Exits non-zero when no OpenSSL of the series can be had, with the
# reason (and the end of the log).
set -eu
. "$(dirname "$0")/debsrc.sh"

P='openssl.sh:'
say() { printf '%s %s\n' "$P" "$*" >&2; }
die() { printf '%s %s\n' "$P" "$*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: sh tools/openssl.sh SERIES CACHE_DIR (SERIES: 3.5, 4.0)"
SERIES=$1
case $SERIES in
    [0-9]*.[0-9]*) ;;
    *) die "SERIES is a major.minor version such as 3.5 or 4.0, not '$SERIES'" ;;
esac
CACHE=${2%/}
case $CACHE in /*) ;; *) CACHE=$PWD/$CACHE ;; esac
PKG=openssl
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 1)}
current=$CACHE/current-$SERIES

# installed PREFIX: an install this script finished (it writes .uo-version last, before the rename)
# whose openssl binary runs on its own library.
installed() {
    [ -f "$1/.uo-version" ] && [ -x "$1/bin/openssl" ] && [ -f "$1/lib/pkgconfig/libcrypto.pc" ] &&
        [ -f "$1/include/openssl/opensslv.h" ] || return 1
    _v=$(cat "$1/.uo-version")
    # "OpenSSL 3.5.7 <date> (Library: OpenSSL 3.5.7 <date>)": the binary's version, then the
    # version of the libcrypto it runs on, which must be its own (found through its rpath).
    env -u LD_LIBRARY_PATH "$1/bin/openssl" version 2>/dev/null |
        grep -q "^OpenSSL $_v .*(Library: OpenSSL $_v "
}

# point_current VERSION: CACHE/current-SERIES -> openssl-VERSION, replaced in one rename.
point_current() {
    ln -sfn "openssl-$1" "$current.tmp.$$"
    mv -Tf "$current.tmp.$$" "$current"
}

mkdir -p "$CACHE" || die "cannot create $CACHE"

if [ -z "${OPENSSL_REFRESH:-}" ] && installed "$current"; then
    prefix=$CACHE/$(readlink "$current")
    say "reusing OpenSSL $(cat "$prefix/.uo-version") in $prefix" \
        "(OPENSSL_REFRESH=1 looks for a newer one)"
    printf '%s\n' "$prefix"
    exit 0
fi

start=$(date +%s)
log=$CACHE/openssl-$SERIES.log
: >"$log" || die "cannot write $log"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/uo-openssl.XXXXXX")
stage=""
cleanup() {
    rm -rf "$tmp"
    [ -z "$stage" ] || rm -rf "$stage"
    rm -f "$current.tmp.$$"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# fail MESSAGE [LINES]: gives up, with the end of the log.
fail() {
    say "$1; the end of $log:"
    tail -n "${2:-30}" "$log" | sed "s|^|$P   |" >&2
    exit 1
}

# newest_cached: the newest complete CACHE/openssl-SERIES.* (for a run without the network).
newest_cached() {
    for _d in $(find "$CACHE" -mindepth 1 -maxdepth 1 -name "openssl-$SERIES.*" | sort -r -V); do
        installed "$_d" && { echo "$_d"; return 0; }
    done
    return 1
}
# offline REASON: use what the cache has, or give up.
offline() {
    if d=$(newest_cached); then
        say "$1; using the cached OpenSSL $(cat "$d/.uo-version") in $d"
        point_current "$(cat "$d/.uo-version")"
        printf '%s\n' "$d"
        exit 0
    fi
    fail "$1"
}

need=""
for t in apt-get apt-cache perl make cc tar sha256sum; do
    command -v "$t" >/dev/null 2>&1 || need="$need $t"
done
command -v curl >/dev/null 2>&1 || command -v wget >/dev/null 2>&1 || need="$need curl"
[ -z "$need" ] || offline "missing tools:$need (build-essential, perl, curl; apt-get for the index)"
# The source index, in an apt state directory of the project's own (tools/debsrc.sh).
D=$CACHE/apt-openssl
debsrc_init "$D" "$log" trixie sid experimental || offline "$DEBSRC_WHY"
say "fetching Debian's $PKG source index (trixie, sid, experimental) into $D"
debsrc_index "$PKG" || offline "$DEBSRC_WHY"

# Candidates: released versions of the series (no ~alpha/~beta/~rc), newest first.
upstream() { _u=${1#*:}; _u=${_u%-*}; printf '%s\n' "${_u%%+*}"; }
all=$(debsrc_versions "$PKG")
cands=""
for v in $all; do
    u=$(upstream "$v")
    case $u in
        *~*) continue ;;
        "$SERIES".*) cands="$cands $u:$v" ;;
    esac
done
# shellcheck disable=SC2086 # word lists
cands=$(printf '%s\n' $cands | sort -r -V)
# shellcheck disable=SC2086
[ -n "$cands" ] ||
    offline "Debian lists no $PKG $SERIES.x release (it has: $(printf '%s ' $all))"
# shellcheck disable=SC2086
say "Debian lists $PKG $SERIES: $(printf '%s\n' $cands | sed 's/^[^:]*://' | tr '\n' ' ')"

# The newest release whose upstream tarball downloads and matches the index's SHA256. One already
# installed in the cache is taken as it is.
got=""
for c in $cands; do
    u=${c%%:*} v=${c#*:}
    if installed "$CACHE/openssl-$u"; then
        say "OpenSSL $u (Debian $v) is already built in $CACHE/openssl-$u"
        point_current "$u"
        printf '%s\n' "$CACHE/openssl-$u"
        exit 0
    fi
    say "downloading the upstream tarball of $PKG $v"
    rc=0
    debsrc_orig "$PKG" "$v" "$tmp" || rc=$?
    [ "$rc" -ne 3 ] || die "$DEBSRC_WHY; not building it"
    [ "$rc" -eq 0 ] || { say "$DEBSRC_WHY; trying the next version"; continue; }
    file=$DEBSRC_FILE
    say "SHA256 of $(basename "$file") matches Debian's index"
    got=$u
    break
done
[ -n "$got" ] || offline "none of the listed $PKG $SERIES releases could be downloaded"

prefix=$CACHE/openssl-$got
log=$CACHE/openssl-$got.log # the build's own log, kept beside the install
: >"$log" || fail "cannot write $log"
say "building OpenSSL $got for $prefix ($JOBS jobs; log: $log)"
mkdir "$tmp/src"
tar -xf "$file" -C "$tmp/src" 2>>"$log" || fail "cannot unpack $file"
rm -f "$file"
src=$(find "$tmp/src" -mindepth 2 -maxdepth 2 -name Configure | head -n 1)
[ -n "$src" ] || fail "$file has no Configure"
src=$(dirname "$src")

# '$(LIBRPATH)' is OpenSSL's own make variable, $prefix/lib (NOTES-UNIX.md). The openssldir inside
# the prefix keeps the build from reading a stray /usr/local/ssl/openssl.cnf.
# shellcheck disable=SC2016 # $(LIBRPATH) is for make, not for this shell
(cd "$src" && ./Configure --prefix="$prefix" --openssldir="$prefix/ssl" --libdir=lib shared no-docs \
    no-tests enable-ec_nistp_64_gcc_128 '-Wl,-rpath,$(LIBRPATH)') </dev/null >>"$log" 2>&1 ||
    fail "Configure failed"
say "Configure done; make build_sw ($(($(date +%s) - start)) s so far)"
(cd "$src" && make -j"$JOBS" build_sw) </dev/null >>"$log" 2>&1 || fail "make build_sw failed"

# Installed into a stage on the cache's file system, then renamed into place: an interrupted run
# never leaves a half install under the final name. A killed run's stage goes here.
for d in "$CACHE"/.openssl-*.stage.*; do
    [ -d "$d" ] || continue
    kill -0 "${d##*.}" 2>/dev/null || rm -rf "$d"
done
stage=$CACHE/.openssl-$got.stage.$$
rm -rf "$stage"
(cd "$src" && make DESTDIR="$stage" install_sw install_ssldirs) </dev/null >>"$log" 2>&1 ||
    fail "make install_sw failed"
staged=$stage$prefix
printf '%s\n' "$got" >"$staged/.uo-version"
out=$(LD_LIBRARY_PATH=$staged/lib "$staged/bin/openssl" version 2>&1) || true
echo "$out" >>"$log"
case $out in
    "OpenSSL $got "*"(Library: OpenSSL $got "*) ;;
    *) fail "the new openssl binary does not run: $out" ;;
esac
if installed "$prefix"; then
    say "$prefix was completed by another run meanwhile; keeping it"
else
    [ ! -e "$prefix" ] || { say "replacing the incomplete $prefix"; rm -rf "$prefix"; }
    mv "$staged" "$prefix"
    if ! installed "$prefix"; then
        out=$(env -u LD_LIBRARY_PATH "$prefix/bin/openssl" version 2>&1) || true
        echo "$out" >>"$log"
        mv "$prefix" "$staged" # not reused by a later run; the EXIT trap removes it
        fail "$prefix/bin/openssl does not run on its own library: $out"
    fi
fi
rm -rf "$stage"
stage=""
point_current "$got"
say "installed OpenSSL $got into $prefix in $(($(date +%s) - start)) s ($current -> openssl-$got)"
printf '%s\n' "$prefix"

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
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -r "$keyring" ] || offline "$keyring is missing (debian-archive-keyring): cannot verify Debian's index"

# The machine's own Debian mirror (not its security one).
uri=""
if [ -r /etc/apt/sources.list.d/debian.sources ]; then
    uri=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
fi
if [ -z "$uri" ] && [ -r /etc/apt/sources.list ]; then
    uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z+]+:\/\// && $i !~ /security/) { print $i; exit } }' \
        /etc/apt/sources.list)
fi
uri=${uri:-http://deb.debian.org/debian}
uri=${uri%/}

D=$CACHE/apt-openssl
mkdir -p "$D/lists/partial" || fail "cannot create $D"
O="-o Dir::Etc::sourcelist=$D/src.list -o Dir::Etc::sourceparts=- -o Dir::State::Lists=$D/lists"
O="$O -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache="
# Concurrent runs (3.5 and 4.0 at once) share the lists: one apt-get update at a time.
serial() {
    if command -v flock >/dev/null 2>&1; then flock "$D/.lock" "$@"; else "$@"; fi
}
index() {
    : >"$D/src.list"
    for suite in trixie sid experimental; do
        printf 'deb-src [signed-by=%s] %s %s main\n' "$keyring" "$1" "$suite" >>"$D/src.list"
    done
    say "fetching Debian's $PKG source index (trixie, sid, experimental) from $1 into $D"
    # shellcheck disable=SC2086 # $O is a list of options
    serial apt-get $O -q update </dev/null >>"$log" 2>&1 &&
        apt-cache $O showsrc --only-source "$PKG" 2>>"$log" | grep -q '^Version:'
}
if ! index "$uri"; then
    if [ "$uri" = http://deb.debian.org/debian ] || ! index http://deb.debian.org/debian; then
        offline "cannot fetch Debian's $PKG source index"
    fi
fi

# Candidates: released versions of the series (no ~alpha/~beta/~rc), newest first.
upstream() { _u=${1#*:}; _u=${_u%-*}; printf '%s\n' "${_u%%+*}"; }
# shellcheck disable=SC2086
all=$(apt-cache $O showsrc --only-source "$PKG" 2>>"$log" | awk '/^Version:/ {print $2}' | sort -u)
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

download() { # URL DEST
    : >"$tmp/dl.err"
    if command -v curl >/dev/null 2>&1; then
        curl -fsSL --retry 2 -o "$2" "$1" 2>>"$tmp/dl.err" && return 0
    fi
    if command -v wget >/dev/null 2>&1; then
        wget -q -O "$2" "$1" 2>>"$tmp/dl.err" || echo "wget: failed ($?)" >>"$tmp/dl.err"
        [ -s "$2" ] && return 0
    fi
    rm -f "$2"
    return 1
}

# The newest release whose upstream tarball downloads and matches the index's SHA256. One already
# installed in the cache is taken as it is.
got=""
tried=""
for c in $cands; do
    u=${c%%:*} v=${c#*:}
    if installed "$CACHE/openssl-$u"; then
        say "OpenSSL $u (Debian $v) is already built in $CACHE/openssl-$u"
        point_current "$u"
        printf '%s\n' "$CACHE/openssl-$u"
        exit 0
    fi
    # shellcheck disable=SC2086
    line=$(apt-get $O source --print-uris "$PKG=$v" </dev/null 2>>"$log" |
        grep "^'[^']*\.orig\.tar\.[a-z0-9]*' " | head -n 1) || line=""
    [ -n "$line" ] || { say "$PKG $v: no upstream tarball listed; trying the next version"; continue; }
    # shellcheck disable=SC2086 # 'URI' file size SHA256:hex
    set -- $line
    url=${1#\'}
    url=${url%\'}
    file=$(basename "$2")
    case $4 in
        SHA256:*) sum=$(printf '%s' "${4#SHA256:}" | tr 'A-F' 'a-f') ;;
        *) say "$PKG $v: no SHA256 listed for $file; trying the next version"; continue ;;
    esac
    case " $tried " in *" $url "*) continue ;; esac
    tried="$tried $url"
    say "downloading $file ($PKG $v, $3 bytes)"
    if ! download "$url" "$tmp/$file"; then
        cat "$tmp/dl.err" >>"$log"
        say "$PKG $v: $url could not be downloaded ($(head -n 1 "$tmp/dl.err")); trying the next version"
        continue
    fi
    have=$(sha256sum "$tmp/$file" | cut -d ' ' -f 1)
    [ "$have" = "$sum" ] ||
        die "SHA256 mismatch for $file from $url: Debian's index says $sum, got $have; not building it"
    say "SHA256 of $file matches Debian's index ($sum)"
    got=$u
    break
done
[ -n "$got" ] || offline "none of the listed $PKG $SERIES releases could be downloaded"

prefix=$CACHE/openssl-$got
log=$CACHE/openssl-$got.log # the build's own log, kept beside the install
: >"$log" || fail "cannot write $log"
say "building OpenSSL $got for $prefix ($JOBS jobs; log: $log)"
mkdir "$tmp/src"
tar -xf "$tmp/$file" -C "$tmp/src" 2>>"$log" || fail "cannot unpack $file"
rm -f "$tmp/$file"
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

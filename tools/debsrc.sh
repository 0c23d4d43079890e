# SPDX-License-Identifier: Apache-2.0
# debsrc.sh - Debian source packages through an apt state directory of the project's own, never
# through /etc/apt. Sourced (never run) by tools/crypto_mb.sh, tools/openssl.sh and
# test/evp/build.sh, which fetch crypto_mb's, OpenSSL 3.5/4.0's and OpenSSL 3.0.20's sources.
#
#   debsrc_init DIR LOG SUITE...   an apt state in DIR (its src.list and lists) whose source index
#                                  names SUITE... (main; a suite ending in -security comes from the
#                                  security archive); apt's output is appended to LOG
#   debsrc_index PKG               fetches the index (the machine's Debian mirror, then
#                                  deb.debian.org) until apt lists PKG's source
#   debsrc_versions PKG            the Debian versions of PKG's source that the index lists
#   debsrc_apt ARGS...             apt-get with the state's options (apt-get source, ...)
#   debsrc_orig PKG VERSION DIR    downloads VERSION's upstream tarball (.orig.tar.*) into DIR,
#                                  checked against the SHA256 in Debian's signed index; its path
#                                  is then in $DEBSRC_FILE. The .dsc may be missing from a mirror:
#                                  the tarball alone is enough for a build
#   debsrc_download URL DEST       curl, wget or python3, whichever is there and works
#
# Each returns non-zero with the reason in $DEBSRC_WHY (so call them outside $(...)); debsrc_orig
# returns 3 on a checksum mismatch (never to be used), 1 otherwise. Only the index is verified by apt (signed-by Debian's
# archive keyring); files are checked against it. One apt-get update at a time per state directory.
# Functions and variables start with debsrc_ / DEBSRC_ / _ds_, so that they never clobber a caller's.
# shellcheck shell=sh

DEBSRC_KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
DEBSRC_WHY=""

debsrc_init() {
    DEBSRC_DIR=$1 DEBSRC_LOG=$2
    shift 2
    DEBSRC_SUITES="$*"
    DEBSRC_O="-o Dir::Etc::sourcelist=$DEBSRC_DIR/src.list -o Dir::Etc::sourceparts=-"
    DEBSRC_O="$DEBSRC_O -o Dir::State::Lists=$DEBSRC_DIR/lists"
    DEBSRC_O="$DEBSRC_O -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache="
    for _ds_t in apt-get apt-cache; do
        command -v "$_ds_t" >/dev/null 2>&1 || { DEBSRC_WHY="no $_ds_t here"; return 1; }
    done
    [ -r "$DEBSRC_KEYRING" ] || {
        DEBSRC_WHY="$DEBSRC_KEYRING is missing (debian-archive-keyring): cannot verify Debian's index"
        return 1
    }
    mkdir -p "$DEBSRC_DIR/lists/partial" 2>>"$DEBSRC_LOG" || { DEBSRC_WHY="cannot create $DEBSRC_DIR"; return 1; }
}

debsrc_apt() {
    # shellcheck disable=SC2086 # $DEBSRC_O is a list of options
    apt-get $DEBSRC_O "$@"
}

# The machine's own Debian mirror (not its security one), from its apt sources; deb.debian.org if
# it names none.
_ds_mirror() {
    _ds_uri=""
    if [ -r /etc/apt/sources.list.d/debian.sources ]; then
        _ds_uri=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
    fi
    if [ -z "$_ds_uri" ] && [ -r /etc/apt/sources.list ]; then
        _ds_uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++)
                           if ($i ~ /^[a-z+]+:\/\// && $i !~ /security/) { print $i; exit } }' \
            /etc/apt/sources.list)
    fi
    _ds_uri=${_ds_uri:-http://deb.debian.org/debian}
    printf '%s\n' "${_ds_uri%/}"
}

# _ds_list URI: writes the source list for URI, unless it already says exactly that (another run
# may be reading the index it names).
_ds_list() {
    for _ds_s in $DEBSRC_SUITES; do
        case $_ds_s in
            *-security) _ds_u=http://deb.debian.org/debian-security ;;
            *) _ds_u=$1 ;;
        esac
        printf 'deb-src [signed-by=%s] %s %s main\n' "$DEBSRC_KEYRING" "$_ds_u" "$_ds_s"
    done >"$DEBSRC_DIR/src.list.new" || return 1
    if cmp -s "$DEBSRC_DIR/src.list.new" "$DEBSRC_DIR/src.list"; then
        rm -f "$DEBSRC_DIR/src.list.new"
    else
        mv -f "$DEBSRC_DIR/src.list.new" "$DEBSRC_DIR/src.list"
    fi
}

_ds_refresh() {
    _ds_list "$1" &&
        # shellcheck disable=SC2086 # $DEBSRC_O is a list of options
        apt-get $DEBSRC_O -q update </dev/null >>"$DEBSRC_LOG" 2>&1
}

# _ds_update URI PKG: the index from URI; succeeds when apt then lists PKG's source. The list and
# the update happen under the state directory's lock: tools/openssl.sh for 3.5 and 4.0, and
# test/evp/build.sh, may share one state directory at once.
_ds_update() {
    if command -v flock >/dev/null 2>&1; then
        ( flock 9 && _ds_refresh "$1" ) 9>"$DEBSRC_DIR/.lock" || return 1
    else
        _ds_refresh "$1" || return 1
    fi
    debsrc_versions "$2" | grep -q .
}

debsrc_index() {
    _ds_m=$(_ds_mirror)
    _ds_update "$_ds_m" "$1" && return 0
    [ "$_ds_m" != http://deb.debian.org/debian ] && _ds_update http://deb.debian.org/debian "$1" &&
        return 0
    DEBSRC_WHY="cannot fetch Debian's $1 source index ($DEBSRC_SUITES) from $_ds_m"
    [ "$_ds_m" = http://deb.debian.org/debian ] || DEBSRC_WHY="$DEBSRC_WHY or deb.debian.org"
    return 1
}

debsrc_versions() {
    # shellcheck disable=SC2086 # $DEBSRC_O is a list of options
    apt-cache $DEBSRC_O showsrc --only-source "$1" 2>>"$DEBSRC_LOG" | awk '/^Version:/ {print $2}' |
        sort -u
}

debsrc_download() {
    _ds_err=$(mktemp "${TMPDIR:-/tmp}/debsrc-dl.XXXXXX") || { DEBSRC_WHY="mktemp failed"; return 1; }
    if command -v curl >/dev/null 2>&1; then
        curl -fsSL --retry 2 -o "$2" "$1" 2>>"$_ds_err" && { rm -f "$_ds_err"; return 0; }
    fi
    if command -v wget >/dev/null 2>&1; then
        wget -q -O "$2" "$1" 2>>"$_ds_err" || echo "wget: failed ($?)" >>"$_ds_err"
        [ -s "$2" ] && { rm -f "$_ds_err"; return 0; }
    fi
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import shutil, sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=120) as r, open(sys.argv[2], "wb") as f:
        shutil.copyfileobj(r, f)
except Exception as e:
    sys.exit("python3: %s" % e)' "$1" "$2" 2>>"$_ds_err" && { rm -f "$_ds_err"; return 0; }
    fi
    DEBSRC_WHY="$1 could not be downloaded ($(head -n 1 "$_ds_err"))"
    cat "$_ds_err" >>"$DEBSRC_LOG"
    rm -f "$2" "$_ds_err"
    return 1
}

debsrc_orig() {
    # 'URI' file size SHA256:hex
    # shellcheck disable=SC2046
    set -- "$1" "$2" "$3" $(debsrc_apt source --print-uris "$1=$2" </dev/null 2>>"$DEBSRC_LOG" |
        grep "^'[^']*\.orig\.tar\.[a-z0-9]*' " | head -n 1)
    [ $# -ge 7 ] || { DEBSRC_WHY="$1 $2: Debian's index lists no upstream tarball"; return 1; }
    _ds_url=${4#\'}
    _ds_url=${_ds_url%\'}
    _ds_file=$3/$5
    case $7 in
        SHA256:*) _ds_sum=$(printf '%s' "${7#SHA256:}" | tr 'A-F' 'a-f') ;;
        *) DEBSRC_WHY="$1 $2: Debian's index lists no SHA256 for $5"; return 1 ;;
    esac
    debsrc_download "$_ds_url" "$_ds_file" || return 1
    _ds_have=$(sha256sum "$_ds_file" | cut -d ' ' -f 1)
    if [ "$_ds_have" != "$_ds_sum" ]; then
        rm -f "$_ds_file"
        DEBSRC_WHY="SHA256 mismatch for $5 from $_ds_url: Debian's index says $_ds_sum, got $_ds_have"
        return 3
    fi
    DEBSRC_FILE=$_ds_file
}

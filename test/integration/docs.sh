#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# docs.sh - README.md, docs/configuration.md, the manual page man/uringprov.7 and
# openssl.cnf.sample agree with the source, and with each other, on:
#   - the configuration keys (provider/uringprov.c's conf_read is the source of truth) and their
#     defaults (README, configuration.md and the manual page must give the same one);
#   - the counters (the UO_PARAM_* names in provider/uringprov.c);
#   - the environment variables (every "URINGPROV_*" string in provider/, offload/, mb/, include/);
#   - the version: UO_VERSION in include/uringprov.h (what `openssl list -providers -verbose`
#     shows), the upstream part of debian/changelog's version (the package's), and the manual
#     page's title line.
# Every difference is named with the file that lacks the entry, and all are reported before the
# test fails. Then it checks that it can fail: on copies with one key and one counter removed from
# the manual page and one environment variable from configuration.md, it must name exactly those.
#
# Needs no build and no tool beyond sh, sed, awk, sort and comm.
# shellcheck disable=SC2016 # the backquotes in patterns are Markdown's, not commands
set -eu

cd "$(dirname "$0")/../.."
. test/lib.sh

work_dir docs

SRC=provider/uringprov.c
HDR=include/uringprov.h
README=README.md
CONF=docs/configuration.md
MAN=man/uringprov.7
SAMPLE=openssl.cnf.sample
CHANGELOG=debian/changelog

# section FILE START END: the lines of FILE after the first line matching START, up to (not
# including) the next line matching END.
section() {
    awk -v start="$2" -v end="$3" 'on && $0 ~ end { exit } on { print } $0 ~ start { on = 1 }' "$1"
}

# md_rows FILE HEADING: the first `code` of each table row in the markdown section HEADING (## only).
md_rows() {
    section "$1" "^## $2\$" '^## ' | sed -n 's/^| *`\([^`]*\)`.*/\1/p'
}

# man_entries FILE SECTION: the names of the .TP entries of the manual page's .SH SECTION, with
# roff's \- turned back into -.
man_entries() {
    section "$1" "^\\.SH $2\$" '^\.SH ' |
        awk 'tp && /^\.B / { sub(/^\.B +/, ""); gsub(/\\-/, "-"); gsub(/"/, ""); print $1 }
             { tp = /^\.TP/ }'
}

keys_src() {
    section "$1" '^static int conf_read' '^}' | sed -n 's/.*OSSL_PARAM_utf8_ptr("\([a-z_]*\)".*/\1/p'
}
keys_readme() { md_rows "$1" Configuration; }
keys_conf() { section "$1" '^## Keys$' '^## ' | sed -n 's/^### `\([a-z_]*\)`.*/\1/p'; }
keys_man() { man_entries "$1" CONFIGURATION; }
# Every key is in the sample's uringprov section, commented out or set.
keys_sample() {
    section "$1" '^\[uringprov_sect\]' '^\[' | sed -n 's/^#* *\([a-z_]*\) = .*/\1/p' | grep -v '^activate$'
}

counters_src() { sed -n 's/^#define UO_PARAM_[A-Z_]* "\(uringprov-[a-z-]*\)"$/\1/p' "$1"; }
counters_readme() { md_rows "$1" Counters; }
counters_conf() { md_rows "$1" Counters; }
counters_man() { man_entries "$1" COUNTERS; }

env_src() { grep -rhoE '"URINGPROV_[A-Z_]+"' provider offload mb include | tr -d '"'; }
env_conf() { md_rows "$1" 'Environment variables' | grep '^URINGPROV_'; }
env_man() { man_entries "$1" ENVIRONMENT | grep '^URINGPROV_'; }

# defaults_*: "key default" lines.
defaults_readme() {
    section "$1" '^## Configuration$' '^## ' |
        sed -n 's/^| *`\([a-z_]*\)` *| *`\([^`]*\)`.*/\1 \2/p'
}
defaults_conf() {
    section "$1" '^## Keys$' '^## ' | awk '
        /^### `/ { key = $2; gsub(/`/, "", key); next }
        key != "" && match($0, /Default: `[^`]*`/) {
            print key, substr($0, RSTART + 10, RLENGTH - 11); key = "" }'
}
defaults_man() {
    section "$1" '^\.SH CONFIGURATION$' '^\.SH ' | awk '
        tp && /^\.B / { key = $2; gsub(/\\-/, "-", key) }
        { tp = /^\.TP/ }
        key != "" && match($0, /Default: [^ .]+\./) {
            print key, substr($0, RSTART + 9, RLENGTH - 10); key = "" }'
}

# list NAME: sorted unique lines of stdin into $tmp/NAME; fails when there are none, since an empty
# list means the extraction no longer matches the file's layout, not that the docs agree.
list() {
    sort -u >"$tmp/$1"
    [ -s "$tmp/$1" ] || { echo "FAIL: found no entries for $1: has the layout of its file changed?"; return 1; }
}

# compare WHAT REF_LIST REF_FILE LIST FILE: reports entries of REF_LIST missing from LIST and
# entries of LIST that are not in REF_LIST; returns 1 when there is any.
compare() {
    _rc=0
    comm -23 "$tmp/$2" "$tmp/$4" >"$tmp/only-ref"
    comm -13 "$tmp/$2" "$tmp/$4" >"$tmp/only-other"
    while IFS= read -r _e; do
        echo "MISSING: $1 '$_e' is in $3 but not in $5"
        _rc=1
    done <"$tmp/only-ref"
    while IFS= read -r _e; do
        echo "EXTRA: $1 '$_e' is in $5 but not in $3"
        _rc=1
    done <"$tmp/only-other"
    return "$_rc"
}

# check_all README CONF MAN SAMPLE: every comparison, every difference printed; 1 if any.
check_all() {
    _r=$1 _c=$2 _m=$3 _s=$4 _bad=0
    keys_src "$SRC" | list keys.src || return 1
    keys_readme "$_r" | list keys.readme || _bad=1
    keys_conf "$_c" | list keys.conf || _bad=1
    keys_man "$_m" | list keys.man || _bad=1
    keys_sample "$_s" | list keys.sample || _bad=1
    compare "configuration key" keys.src "$SRC" keys.readme "$_r" || _bad=1
    compare "configuration key" keys.src "$SRC" keys.conf "$_c" || _bad=1
    compare "configuration key" keys.src "$SRC" keys.man "$_m" || _bad=1
    compare "configuration key" keys.src "$SRC" keys.sample "$_s" || _bad=1

    defaults_readme "$_r" | list defaults.readme || _bad=1
    defaults_conf "$_c" | list defaults.conf || _bad=1
    defaults_man "$_m" | list defaults.man || _bad=1
    compare "key and default" defaults.conf "$_c" defaults.readme "$_r" || _bad=1
    compare "key and default" defaults.conf "$_c" defaults.man "$_m" || _bad=1

    counters_src "$SRC" | list counters.src || return 1
    counters_readme "$_r" | list counters.readme || _bad=1
    counters_conf "$_c" | list counters.conf || _bad=1
    counters_man "$_m" | list counters.man || _bad=1
    compare counter counters.src "$SRC" counters.readme "$_r" || _bad=1
    compare counter counters.src "$SRC" counters.conf "$_c" || _bad=1
    compare counter counters.src "$SRC" counters.man "$_m" || _bad=1

    env_src | list env.src || return 1
    env_conf "$_c" | list env.conf || _bad=1
    env_man "$_m" | list env.man || _bad=1
    compare "environment variable" env.src "provider/, offload/, mb/, include/" env.conf "$_c" || _bad=1
    compare "environment variable" env.src "provider/, offload/, mb/, include/" env.man "$_m" || _bad=1
    # README describes the variables in prose; the tests-only ones may stay out of it.
    for _e in $(grep -v '^URINGPROV_TEST_' "$tmp/env.src"); do
        grep -q "$_e" "$_r" || { echo "MISSING: environment variable '$_e' is not mentioned in $_r"; _bad=1; }
    done
    return "$_bad"
}

# 1. The version: one number in three places.
uo=$(sed -n 's/^#define UO_VERSION "\(.*\)"$/\1/p' "$HDR")
deb=$(sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' "$CHANGELOG")
th=$(sed -n 's/^\.TH [^"]*"uringprov \([^"]*\)".*/\1/p' "$MAN")
[ -n "$uo" ] || fail "no UO_VERSION in $HDR"
[ -n "$deb" ] || fail "no version on the first line of $CHANGELOG"
[ -n "$th" ] || fail "no \"uringprov VERSION\" on the .TH line of $MAN"
bad=0
# The Debian version is UPSTREAM-REVISION (an epoch "N:" would come first).
deb_upstream=${deb#*:}
deb_upstream=${deb_upstream%-*}
[ "$deb_upstream" = "$uo" ] ||
    { echo "MISMATCH: $CHANGELOG is at $deb (upstream $deb_upstream), $HDR's UO_VERSION is $uo"; bad=1; }
[ "$th" = "$uo" ] || { echo "MISMATCH: $MAN's title says uringprov $th, $HDR's UO_VERSION is $uo"; bad=1; }

# 2. Keys, defaults, counters and environment variables.
check_all "$README" "$CONF" "$MAN" "$SAMPLE" || bad=1
[ "$bad" -eq 0 ] || fail "the documentation disagrees with the source or with itself (above)"
echo "   $(wc -l <"$tmp/keys.src") keys, $(wc -l <"$tmp/counters.src") counters," \
     "$(wc -l <"$tmp/env.src") environment variables, version $uo: the same everywhere"

# 3. The check can fail: drop the manual page's multibuffer key and uringprov-mb-ops counter (each
#    .TP entry up to the next .TP or .SH), and URINGPROV_NO_MB's row from configuration.md.
awk '{ l[NR] = $0 }
     END {
         for (i = 1; i <= NR; i++) {
             if (l[i] ~ /^\.TP/ && (l[i + 1] == ".B multibuffer" || l[i + 1] == ".B uringprov\\-mb\\-ops")) {
                 for (i++; i <= NR && l[i] !~ /^\.(TP|SH)/; i++)
                     ;
                 i--
                 continue
             }
             print l[i]
         }
     }' "$MAN" >"$tmp/mutant.7"
grep -v '^| `URINGPROV_NO_MB`' "$CONF" >"$tmp/mutant.md"
if check_all "$README" "$tmp/mutant.md" "$tmp/mutant.7" "$SAMPLE" >"$tmp/mutant.out"; then
    cat "$tmp/mutant.out"
    fail "the check passed on a manual page without multibuffer and uringprov-mb-ops"
fi
for want in "MISSING: configuration key 'multibuffer' is in $SRC but not in $tmp/mutant.7" \
            "MISSING: counter 'uringprov-mb-ops' is in $SRC but not in $tmp/mutant.7" \
            "MISSING: environment variable 'URINGPROV_NO_MB' is in provider/, offload/, mb/, include/ but not in $tmp/mutant.md"; do
    grep -q -x -F -e "$want" "$tmp/mutant.out" || { cat "$tmp/mutant.out"; fail "the check did not report: $want"; }
done
echo "   and it names what is missing where: a copy without one key, counter and variable fails"
echo "PASS: docs"

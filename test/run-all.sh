#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs every Check binary given, then every test/integration/*.sh script (exit 77 = skipped, with
# its reason printed by the script). Ends with one summary line: "N passed, N failed, N skipped".
# CHECKER, if set, prefixes each binary (e.g. CHECKER="valgrind --error-exitcode=99").
pass=0; fail=0; skip=0; failed=""
# The tests load the provider from the build being tested (a sanitizer build has its own).
export UO_BUILD="${UO_BUILD:-${BUILD:-build}}"
# LeakSanitizer's suppressions; test/lsan.supp says why each one is there.
case "$SANITIZE" in
    *address*|*leak*) export LSAN_OPTIONS="suppressions=$(pwd)/test/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}" ;;
esac
run() {
    name=$1; shift
    echo "== $name"
    "$@"
    rc=$?
    case $rc in
        0) pass=$((pass+1)) ;;
        77) skip=$((skip+1)); echo "SKIPPED: $name" ;;
        *) fail=$((fail+1)); failed="$failed $name"; echo "FAILED ($rc): $name" ;;
    esac
}
for t in "$@"; do
    run "$t" $CHECKER "$t"
done
if [ -z "$SANITIZE" ] && [ -z "$CHECKER" ] && [ -z "$UO_NO_INTEGRATION" ]; then
    for s in test/integration/*.sh; do
        [ -e "$s" ] || continue
        run "$s" sh "$s"
    done
fi
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]

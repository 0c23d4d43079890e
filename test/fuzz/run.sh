#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# test/fuzz/run.sh - builds uringprov and its libFuzzer targets with clang (AddressSanitizer, with
# coverage of the provider too), then runs each target for a bounded time on its corpus.
#
#   test/fuzz/run.sh [-t SECONDS] [-m] [TARGET...]
#     -t SECONDS   per target (default 20)
#     -m           merge the new interesting inputs into test/fuzz/corpus/<target> afterwards
#     TARGET       fuzz_import, fuzz_signature, fuzz_asym_cipher, fuzz_keyexch, fuzz_keymgmt_gen
#                  (default: all)
#
# The build goes to $FUZZ_BUILD (default build-fuzz). New inputs found during a run go to a scratch
# corpus in that directory; test/fuzz/corpus changes only with -m. A crash, a leak or an error
# without a reason string stops that target: the input is left in $FUZZ_BUILD/fuzz/artifacts/.
# Exit 77 (skip) when clang or its libFuzzer runtime is missing; 1 when any target failed.
set -u
cd "$(dirname "$0")/../.." || exit 1

secs=20
merge=0
while getopts t:m opt; do
    case $opt in
        t) secs=$OPTARG ;;
        m) merge=1 ;;
        *) echo "usage: $0 [-t SECONDS] [-m] [TARGET...]" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
targets=${*:-"fuzz_import fuzz_signature fuzz_asym_cipher fuzz_keyexch fuzz_keymgmt_gen"}

B=${FUZZ_BUILD:-build-fuzz}
CLANG=${CLANG:-clang}
PKG_CONFIG=${PKG_CONFIG:-pkg-config}

if ! command -v "$CLANG" >/dev/null 2>&1; then
    echo "SKIP: $CLANG not found; the fuzz targets need clang's libFuzzer"
    exit 77
fi
mkdir -p "$B/fuzz/artifacts"
# One run at a time per build directory: concurrent `make check`s would build over each other.
if command -v flock >/dev/null 2>&1; then
    exec 9>"$B/fuzz/.lock"
    flock 9
fi
probe="$B/fuzz/probe"
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { return 0; }\n' \
    > "$probe.c"
if ! "$CLANG" -fsanitize=fuzzer,address -o "$probe" "$probe.c" >/dev/null 2>&1; then
    echo "SKIP: $CLANG cannot link -fsanitize=fuzzer (no libFuzzer runtime: libclang-rt-dev)"
    exit 77
fi

# The provider with coverage instrumentation, so that the fuzzer is guided by uringprov's code.
if ! make --no-print-directory BUILD="$B" CC="$CLANG" SANITIZE=address,fuzzer-no-link all; then
    echo "FAILED: building uringprov for fuzzing"
    exit 1
fi
CFLAGS="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address -Iinclude -Itest \
        $($PKG_CONFIG --cflags libcrypto)"
LIBS="$($PKG_CONFIG --libs libcrypto) -lpthread"

failed=""
for t in $targets; do
    if [ ! -f "test/fuzz/$t.c" ]; then
        echo "FAILED: no such target: $t"
        failed="$failed $t"
        continue
    fi
    # shellcheck disable=SC2086
    if ! "$CLANG" $CFLAGS -o "$B/fuzz/$t" "test/fuzz/$t.c" test/helpers/uo_test.c $LIBS; then
        echo "FAILED: building $t"
        failed="$failed $t"
        continue
    fi
    mkdir -p "test/fuzz/corpus/$t"
    work="$B/fuzz/work-$t"
    rm -rf "$work"
    mkdir -p "$work"
    n=$(find "test/fuzz/corpus/$t" -type f | wc -l)
    echo "== $t: ${secs}s on test/fuzz/corpus/$t ($n inputs)"
    # libFuzzer's own default error exit code is 77, which means "skipped" here: say 1.
    if ! UO_BUILD="$B" "$B/fuzz/$t" -max_total_time="$secs" -max_len=2048 -timeout=30 \
            -rss_limit_mb=4096 -error_exitcode=1 -timeout_exitcode=1 -print_final_stats=1 \
            -artifact_prefix="$B/fuzz/artifacts/$t-" "$work" "test/fuzz/corpus/$t" \
            > "$B/fuzz/$t.log" 2>&1; then
        tail -60 "$B/fuzz/$t.log"
        echo "FAILED: $t (log: $B/fuzz/$t.log, input: $B/fuzz/artifacts/)"
        failed="$failed $t"
        continue
    fi
    grep -E "^(stat::number_of_executed_units|stat::new_units_added|Done)" "$B/fuzz/$t.log" \
        | tr '\n' ' '
    echo
    if [ "$merge" -eq 1 ]; then
        UO_BUILD="$B" "$B/fuzz/$t" -merge=1 -max_len=2048 "test/fuzz/corpus/$t" "$work" \
            > "$B/fuzz/$t.merge.log" 2>&1 || { echo "FAILED: merging $t"; failed="$failed $t"; }
    fi
done
[ -z "$failed" ] || { echo "fuzz targets failed:$failed"; exit 1; }
echo "all fuzz targets ran clean"

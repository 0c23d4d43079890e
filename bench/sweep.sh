#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# sweep.sh - uringprov's throughput in one openssl speed process against -async_jobs (workers at the
# default, one per online CPU) and against the worker count (at BENCH_JOBS jobs), for the chart in
# docs/bench/. Every point's run must offload: the worker threads' CPU time is sampled from /proc.
#
#   sh bench/sweep.sh            writes $OUT/sweep.tsv
# BENCH_SWEEP_SECONDS (1), BENCH_SWEEP_REPS (1), BENCH_JOBS (32), BENCH_SWEEP_ALGS (rsa2048 ecdsap256),
# BENCH_SWEEP_JOBS (1 2 4 8 16 32 64), BENCH_SWEEP_WORKERS (1 2 3 4).
set -eu
. "$(dirname "$0")/lib.sh"

SECS=${BENCH_SWEEP_SECONDS:-1}
REPS=${BENCH_SWEEP_REPS:-1}
JOBS=${BENCH_JOBS:-32}
ALGS=${BENCH_SWEEP_ALGS:-rsa2048 ecdsap256}
JOBLIST=${BENCH_SWEEP_JOBS:-1 2 4 8 16 32 64}
WORKERLIST=${BENCH_SWEEP_WORKERS:-1 2 3 4}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# one CNF JOBS ALG: "<sign/s> <worker cpu s>" of one speed run through uringprov.
one() {
    env OPENSSL_MODULES="$BUILD" OPENSSL_CONF="$1" \
        openssl speed -elapsed -mr -seconds "$SECS" -async_jobs "$2" "$3" \
        >"$tmp/out" 2>"$tmp/err" </dev/null &
    pid=$!
    w=0
    while kill -0 "$pid" 2>/dev/null; do
        w=$(echo "$w $(threads_ns "$pid")" | awk '{ printf "%.0f", ($2 > $1 ? $2 : $1) }')
        sleep 0.25
    done
    wait "$pid" || die "openssl speed -async_jobs $2 $3 failed: $(tail -n 3 "$tmp/err")"
    awk -F: -v w="$w" '$1 == "+F2" || $1 == "+F4" { printf "%d %.2f\n", $4 + 0.5, w / 1e9; exit }' \
        "$tmp/out"
}

points=$(( REPS * $(echo $ALGS | wc -w) * ($(echo $JOBLIST | wc -w) + $(echo $WORKERLIST | wc -w)) ))
n=0
printf 'rep\talg\tvary\tjobs\tworkers\trate\tworker_cpu_s\n' >"$OUT/sweep.tsv"
rep=1
while [ "$rep" -le "$REPS" ]; do
    for alg in $ALGS; do
        for j in $JOBLIST; do
            n=$((n + 1))
            set -- $(one "$URINGPROV_CNF" "$j" "$alg")
            [ "${2%.*}${2#*.}" != 000 ] || die "sweep: $alg -async_jobs $j: the workers did no work"
            progress "sweep [$n/$points] $alg -async_jobs $j, workers $NPROC: $1 sign/s"
            printf '%s\t%s\tjobs\t%s\t%s\t%s\t%s\n' "$rep" "$alg" "$j" "$NPROC" "$1" "$2" >>"$OUT/sweep.tsv"
        done
        for k in $WORKERLIST; do
            n=$((n + 1))
            sed "/^\[uringprov_sect\]/a workers = $k" "$URINGPROV_CNF" >"$tmp/w.cnf"
            set -- $(one "$tmp/w.cnf" "$JOBS" "$alg")
            [ "${2%.*}${2#*.}" != 000 ] || die "sweep: $alg workers=$k: the workers did no work"
            progress "sweep [$n/$points] $alg -async_jobs $JOBS, workers $k: $1 sign/s"
            printf '%s\t%s\tworkers\t%s\t%s\t%s\t%s\n' "$rep" "$alg" "$JOBS" "$k" "$1" "$2" >>"$OUT/sweep.tsv"
        done
    done
    rep=$((rep + 1))
done

#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# profile.sh - where the time of one offloaded operation goes, for docs/benchmarks.md. Not part of
# `make bench` (perf needs root or perf_event_paranoid <= 1): run it by hand when a target is missed.
#
# For each algorithm it runs openssl speed (-elapsed -seconds 6) twice, (a) the default provider in
# one process and (c) uringprov with -async_jobs N, and inside the first phase (sign or derive) it
# takes a window of BENCH_PROF_WINDOW seconds in which it reads every thread's CPU time from
# /proc/PID/task/*/schedstat and runs `perf record -g` on the process. Since the window lies inside
# one phase, CPU per operation = CPU time in the window / operations in the window (the phase's
# rate × the window), for the caller's thread and for the workers separately. A perf report per
# thread group follows: the caller's thread ("openssl") and the workers ("uringprov-N").
#
#   sh bench/profile.sh [alg...]        default: ecdsap256 ed25519 ecdhx25519 rsa2048
# Output: $OUT/profile/<alg>.txt (figures and perf reports) and <alg>.<a|c>.perf.data.
set -eu
. "$(dirname "$0")/lib.sh"

JOBS=${BENCH_JOBS:-32}
WINDOW=${BENCH_PROF_WINDOW:-3}
ALGS=${*:-ecdsap256 ed25519 ecdhx25519 rsa2048}
PD=$OUT/profile
mkdir -p "$PD"
command -v perf >/dev/null 2>&1 || die "perf not found (make deps installs linux-perf)"

# window CFG ALG: runs speed, profiles a window of its first phase; prints
# "rate caller_ns worker_ns wall_ns" (CPU over the window, from schedstat).
window() {
    cfg=$1 alg=$2
    rm -f "$PD/err"
    if [ "$cfg" = c ]; then
        env OPENSSL_MODULES="$BUILD" OPENSSL_CONF="$URINGPROV_CNF" \
            openssl speed -elapsed -mr -seconds 6 -async_jobs "$JOBS" "$alg" \
            >"$PD/out" 2>"$PD/err" </dev/null &
    else
        OPENSSL_CONF=$DEFAULT_CNF openssl speed -elapsed -mr -seconds 6 "$alg" \
            >"$PD/out" 2>"$PD/err" </dev/null &
    fi
    pid=$!
    # The first "+DTP:" line on stderr starts the first phase (keys are made before it).
    while ! grep -q '^+DTP:' "$PD/err" 2>/dev/null; do
        kill -0 "$pid" 2>/dev/null || die "speed $alg exited early"
        sleep 0.05
    done
    sleep 1
    s0=$(threads_ns "$pid")
    t0=$(date +%s%N)
    perf record -q -g -F 2000 -o "$PD/$alg.$cfg.perf.data" -p "$pid" -- sleep "$WINDOW" \
        >/dev/null 2>&1 || true
    t1=$(date +%s%N)
    s1=$(threads_ns "$pid")
    wait "$pid"
    rate=$(awk -F: '$1 ~ /^\+F[2456]$/ { print ($1 == "+F6" ? $5 : $4); exit }' "$PD/out")
    echo "$rate $s0 $s1 $t0 $t1" | awk '{ printf "%s %.0f %.0f %.0f\n", $1, ($5 - $3) - ($4 - $2), $4 - $2, $7 - $6 }'
}

for alg in $ALGS; do
    f=$PD/$alg.txt
    progress "profile $alg: (a) default provider, one process"
    set -- $(window a "$alg")
    ra=$1 a_caller=$2
    a_wall=$4
    progress "profile $alg: (c) uringprov, -async_jobs $JOBS"
    set -- $(window c "$alg")
    rc=$1 c_caller=$2 c_worker=$3 c_wall=$4
    {
        echo "# $alg: CPU per operation inside a ${WINDOW}s window of the first phase (schedstat)"
        echo "$ra $a_caller $a_wall $rc $c_caller $c_worker $c_wall" | awk '{
            opsa = $1 * $3 / 1e9; opsc = $4 * $7 / 1e9;
            printf "(a) default, 1 process: %.0f ops/s; %.2f us CPU/op (caller)\n", $1, $2 / opsa / 1e3;
            printf "(c) uringprov:          %.0f ops/s; %.2f us CPU/op on the caller thread, %.2f us on the workers, %.2f total\n",
                   $4, $5 / opsc / 1e3, $6 / opsc / 1e3, ($5 + $6) / opsc / 1e3;
            printf "offload cost per op: %.2f us (total (c) minus (a)); best c/b on this machine if (b) scaled perfectly: %.2f\n",
                   ($5 + $6) / opsc / 1e3 - $2 / opsa / 1e3, ($2 / opsa) / (($5 + $6) / opsc) }'
        echo
        for cfg in c a; do
            echo "## perf, ($cfg), by thread and shared object"
            perf report -i "$PD/$alg.$cfg.perf.data" --no-children --sort comm,dso --stdio 2>/dev/null \
                | grep -E '^ +[0-9]' | head -n 20
            echo
            echo "## perf, ($cfg), top symbols of each thread group"
            perf report -i "$PD/$alg.$cfg.perf.data" --no-children --sort comm,dso,sym --stdio -g none \
                2>/dev/null | grep -E '^ +[0-9]' | head -n 60
            echo
        done
        echo "## perf, (c), caller thread: callers of its top entries (caller graph, 2% cutoff)"
        perf report -i "$PD/$alg.c.perf.data" --comm openssl --children --sort sym --stdio \
            -g caller,2,callee --percent-limit 4 2>/dev/null | grep -v '^$' | head -n 150
    } >"$f"
    progress "profile $alg: $(sed -n 2,4p "$f" | tr '\n' ' ')"
done

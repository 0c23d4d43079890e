#!/bin/sh
# speed.sh - `openssl speed -elapsed` side by side, for the table in docs/benchmarks.md:
#   (a) OpenSSL's default provider, one process;
#   (b) the default provider with -multi $(nproc): every core's worth, the machine's ceiling;
#   (c) uringprov (openssl.cnf.sample) in one process with -async_jobs N.
# The runs interleave (alg1 a b c, alg2 a b c, ..., then the next repetition) so that machine noise
# hits the three alike; the report takes medians. Always -elapsed: without it speed divides by the
# process's CPU time, and uringprov's worker threads count in it.
#
# Proof that (c) offloaded: uringprov's debug log at level 1 ends with a "stats:" line (offloaded,
# pauses, fallbacks), written at unload, or at exit when the provider is never unloaded (openssl
# speed 3.0 leaks one EVP_PKEY in its ECDSA setup, which keeps uringprov loaded). For every (c) run
# the script also samples /proc/PID/task/*/schedstat: the CPU time of the uringprov-N threads is
# the work they did.
#
#   sh bench/speed.sh            writes $OUT/speed.tsv
# BENCH_REPS (3), BENCH_SECONDS (2), BENCH_JOBS (async jobs for (c), 32), BENCH_ALGS.
set -eu
. "$(dirname "$0")/lib.sh"

REPS=${BENCH_REPS:-3}
SECS=${BENCH_SECONDS:-2}
JOBS=${BENCH_JOBS:-32}
ALGS=${BENCH_ALGS:-rsa2048 rsa3072 rsa4096 ecdsap256 ecdsap384 ecdhp256 ecdhx25519 ed25519}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# rates FILE: "<first rate> <second rate>" from speed's -mr result line: sign/s and verify/s, or
# ECDH op/s and "-".
rates() {
    awk -F: '$1 == "+F2" || $1 == "+F4" { print $4, $5; exit }
             $1 == "+F5" { print $4, "-"; exit }
             $1 == "+F6" { print $5, $6; exit }' "$1"
}

# speed_run CFG ALG LOG ARGS...: runs speed, prints "r1 r2 offloaded pauses fallbacks worker_s main_s".
speed_run() {
    cfg=$1 alg=$2 log=$3
    shift 3
    rm -f "$log"
    if [ "$cfg" = c ]; then
        env OPENSSL_MODULES="$BUILD" OPENSSL_CONF="$URINGPROV_CNF" URINGPROV_DEBUG="file:$log,level:1" \
            openssl speed -elapsed -mr "$@" "$alg" >"$tmp/out" 2>"$tmp/err" </dev/null &
        pid=$!
        last="0 0"
        while kill -0 "$pid" 2>/dev/null; do
            # Both counts only grow while the threads live; workers are joined at unload.
            last=$(echo "$last $(threads_ns "$pid")" \
                   | awk '{ w = $3 > $1 ? $3 : $1; a = $4 > $2 ? $4 : $2; printf "%.0f %.0f", w, a }')
            sleep 0.25
        done
        wait "$pid" || die "openssl speed $* $alg failed: $(tail -n 3 "$tmp/err")"
        grep -q 'loaded uringprov' "$log" 2>/dev/null \
            || die "(c) $alg: uringprov did not load (no debug log): the run used the default provider"
    else
        OPENSSL_CONF=$DEFAULT_CNF openssl speed -elapsed -mr "$@" "$alg" >"$tmp/out" 2>"$tmp/err" \
            </dev/null || die "openssl speed $* $alg failed: $(tail -n 3 "$tmp/err")"
        last="0 0"
    fi
    r=$(rates "$tmp/out")
    [ -n "$r" ] || die "no result line from openssl speed $* $alg"
    off=$(statval offloaded "$log") pauses=$(statval pauses "$log") fb=$(statval fallbacks "$log")
    echo "$r ${off:--} ${pauses:--} ${fb:--} $last" \
        | awk '{ printf "%s %s %s %s %s %.2f %.2f\n", $1 == "-" ? "-" : int($1 + 0.5),
                        $2 == "-" ? "-" : int($2 + 0.5), $3, $4, $5, $6 / 1e9, ($7 - $6) / 1e9 }'
}

total=$((REPS * $(echo $ALGS | wc -w) * 3))
n=0
printf 'rep\talg\tcfg\trate1\trate2\toffloaded\tpauses\tfallbacks\tworker_cpu_s\tmain_cpu_s\n' \
    >"$OUT/speed.tsv"
rep=1
while [ "$rep" -le "$REPS" ]; do
    for alg in $ALGS; do
        for cfg in a b c; do
            n=$((n + 1))
            case $cfg in
            a) args="-seconds $SECS"; what="default, 1 process" ;;
            b) args="-seconds $SECS -multi $NPROC"; what="default, -multi $NPROC" ;;
            c) args="-seconds $SECS -async_jobs $JOBS"; what="uringprov, -async_jobs $JOBS" ;;
            esac
            # shellcheck disable=SC2086
            res=$(speed_run "$cfg" "$alg" "$tmp/uringprov.log" $args)
            set -- $res
            extra=""
            [ "$cfg" = c ] && extra="offloaded=$3 pauses=$4 fallbacks=$5 worker_cpu=${6}s"
            progress "speed [$n/$total] rep $rep $alg ($cfg) $what: $1 $2 /s $extra"
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$alg" "$cfg" "$@" >>"$OUT/speed.tsv"
        done
    done
    rep=$((rep + 1))
done

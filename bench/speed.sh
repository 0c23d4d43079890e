#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# speed.sh - `openssl speed -elapsed` side by side, for the table in docs/benchmarks.md:
#   (a) OpenSSL's default provider, one process;
#   (b) the default provider with -multi $(nproc): every core's worth, the machine's ceiling;
#   (c) uringprov (openssl.cnf.sample) in one process with -async_jobs N;
#   (d) build/bench/mb_limit: the mb layer alone (crypto_mb plus our lane adapters), eight full
#       lanes, one thread per CPU, no provider, queue or ASYNC job: the limit that (c) can approach.
# The runs interleave (alg1 a b c d, alg2 a b c d, ..., then the next repetition) so that machine
# noise hits the four alike; the report takes medians. Always -elapsed: without it speed divides by
# the process's CPU time, and uringprov's worker threads count in it. When mb_limit is not built or
# exits 77 (no batching here) there are no (d) rows, and $OUT/speed_mb.txt says why.
#
# Proof that (c) offloaded: uringprov's debug log at level 1 ends with a "stats:" line (offloaded,
# pauses, fallbacks), written at unload, or at exit when the provider is never unloaded (openssl
# speed 3.0 leaks one EVP_PKEY in its ECDSA setup, which keeps uringprov loaded). For every (c) run
# the script also samples /proc/PID/task/*/schedstat: the CPU time of the uringprov-N threads is
# the work they did. The same line's mb_ops and mb_batches (operations computed in multi-buffer
# batches, and the batches) go into the last two columns; (a), (b) and (d) have "-" there.
#
#   sh bench/speed.sh            writes $OUT/speed.tsv and $OUT/speed_mb.txt
# BENCH_REPS (3), BENCH_SECONDS (2), BENCH_JOBS (async jobs for (c), 32), BENCH_ALGS.
set -eu
. "$(dirname "$0")/lib.sh"

REPS=${BENCH_REPS:-3}
SECS=${BENCH_SECONDS:-2}
JOBS=${BENCH_JOBS:-32}
ALGS=${BENCH_ALGS:-rsa2048 rsa3072 rsa4096 ecdsap256 ecdsap384 ecdsap521 ecdhp256 ecdhp384 ecdhx25519 ed25519}
MB_LIMIT=$BUILD/bench/mb_limit

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# rates FILE: "<first rate> <second rate>" from speed's -mr result line: sign/s and verify/s, or
# ECDH op/s and "-".
rates() {
    awk -F: '$1 == "+F2" || $1 == "+F4" { print $4, $5; exit }
             $1 == "+F5" { print $4, "-"; exit }
             $1 == "+F6" { print $5, $6; exit }' "$1"
}

# speed_run CFG ALG LOG ARGS...: runs speed, prints
# "r1 r2 offloaded pauses fallbacks worker_s main_s mb_ops mb_batches".
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
    mbo=$(statval mb_ops "$log") mbb=$(statval mb_batches "$log")
    echo "$r ${off:--} ${pauses:--} ${fb:--} $last ${mbo:--} ${mbb:--}" \
        | awk '{ printf "%s %s %s %s %s %.2f %.2f %s %s\n", $1 == "-" ? "-" : int($1 + 0.5),
                        $2 == "-" ? "-" : int($2 + 0.5), $3, $4, $5, $6 / 1e9, ($7 - $6) / 1e9, $8, $9 }'
}

# limit_run ALG: (d), mb_limit's ops/s for ALG; exit status 77 (and the reason on stderr) when
# batching is unavailable here.
limit_run() {
    rc=0
    "$MB_LIMIT" "$SECS" "$1" >"$tmp/limit.out" 2>"$tmp/limit.err" </dev/null || rc=$?
    if [ "$rc" -eq 77 ]; then
        sed -n 's/^mb_limit: //p' "$tmp/limit.err" | head -n 1 >&2
        return 77
    fi
    [ "$rc" -eq 0 ] || die "mb_limit $SECS $1 exited $rc: $(tail -n 3 "$tmp/limit.err")"
    r=$(awk -v a="$1" '$1 == a { printf "%.0f", $2 }' "$tmp/limit.out")
    [ -n "$r" ] || die "no result line from mb_limit $SECS $1"
    echo "$r"
}

# notes: $OUT/speed_mb.txt, "provider<TAB>what uringprov's log said about batches" (last (c) run)
# and "limit<TAB>why there is no (d)" when there is none.
mb_notes() {
    {
        [ -z "$prov_note" ] || printf 'provider\t%s\n' "$prov_note"
        [ -z "$limit_note" ] || printf 'limit\t%s\n' "$limit_note"
    } >"$OUT/speed_mb.txt"
}

prov_note="" limit_note=""
cfgs="a b c d"
if [ ! -x "$MB_LIMIT" ]; then
    limit_note="$MB_LIMIT not built (make $MB_LIMIT)"
    cfgs="a b c"
    progress "speed: no (d): $limit_note"
fi
mb_notes
# shellcheck disable=SC2086
nalgs=$(echo $ALGS | wc -w)
# shellcheck disable=SC2086
total=$((REPS * nalgs * $(echo $cfgs | wc -w)))
n=0
printf 'rep\talg\tcfg\trate1\trate2\toffloaded\tpauses\tfallbacks\tworker_cpu_s\tmain_cpu_s\tmb_ops\tmb_batches\n' \
    >"$OUT/speed.tsv"
rep=1
while [ "$rep" -le "$REPS" ]; do
    ai=0
    for alg in $ALGS; do
        ai=$((ai + 1))
        for cfg in $cfgs; do
            n=$((n + 1))
            if [ "$cfg" = d ]; then
                rc=0
                r=$(limit_run "$alg" 2>"$tmp/why") || rc=$?
                if [ "$rc" -eq 77 ]; then
                    limit_note=$(cat "$tmp/why")
                    limit_note=${limit_note:-mb_limit exited 77 (batching unavailable)}
                    mb_notes
                    progress "speed [$n/$total] rep $rep $alg (d) mb_limit: $limit_note; no (d) from here on"
                    cfgs="a b c"
                    n=$((n - 1))
                    total=$((n + (nalgs - ai) * 3 + (REPS - rep) * nalgs * 3))
                    continue
                fi
                [ "$rc" -eq 0 ] || { cat "$tmp/why" >&2; exit "$rc"; }
                progress "speed [$n/$total] rep $rep $alg (d) mb layer alone, 8 lanes x $NPROC threads: $r /s"
                printf '%s\t%s\td\t%s\t-\t-\t-\t-\t-\t-\t-\t-\n' "$rep" "$alg" "$r" >>"$OUT/speed.tsv"
                continue
            fi
            case $cfg in
            a) args="-seconds $SECS"; what="default, 1 process" ;;
            b) args="-seconds $SECS -multi $NPROC"; what="default, -multi $NPROC" ;;
            c) args="-seconds $SECS -async_jobs $JOBS"; what="uringprov, -async_jobs $JOBS" ;;
            esac
            # shellcheck disable=SC2086
            res=$(speed_run "$cfg" "$alg" "$tmp/uringprov.log" $args)
            # shellcheck disable=SC2086
            set -- $res
            extra=""
            if [ "$cfg" = c ]; then
                extra="offloaded=$3 pauses=$4 fallbacks=$5 worker_cpu=${6}s mb_ops=$8 mb_batches=$9"
                note=$(sed -n 's/.* multi-buffer batches //p' "$tmp/uringprov.log" | tail -n 1)
                if [ -n "$note" ] && [ "$note" != "$prov_note" ]; then
                    prov_note=$note
                    mb_notes
                fi
            fi
            progress "speed [$n/$total] rep $rep $alg ($cfg) $what: $1 $2 /s $extra"
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$alg" "$cfg" "$@" \
                >>"$OUT/speed.tsv"
        done
    done
    rep=$((rep + 1))
done

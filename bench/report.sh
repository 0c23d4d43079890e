#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# report.sh - turns the results of bench/*.sh into Markdown tables (stdout), and the sweep into the
# chart's data files and PNG. Ratios are medians of the per-repetition ratios: the runs of one
# repetition ran side by side, so each ratio compares figures taken under the same machine noise.
#
#   sh bench/report.sh CHART.png >report.md
# Reads $OUT (see lib.sh): env.txt, speed.tsv (+ speed_mb.txt), latency.txt, sweep.tsv, tls*.tsv
# (each optional).
set -eu
. "$(dirname "$0")/lib.sh"

chart=${1:-$OUT/throughput.png}
JOBS=${BENCH_JOBS:-32}

# med FILE AWK-FILTER COLUMN: median of COLUMN over the rows of a TSV (header skipped) matching FILTER.
med() {
    awk -F'\t' "NR > 1 && ($2) { print \$$3 }" "$1" | grep -v '^-$' | median
}

# ratio FILE KEY-COLS NUM-FILTER DEN-FILTER COL [REPS]: median over repetitions (those listed in
# REPS, or all) of NUM/DEN, rows paired by rep.
ratio() {
    awk -F'\t' -v col="$5" -v reps=" ${6:-} " "NR > 1 && ($3) { n[\$1] = \$col } NR > 1 && ($4) { d[\$1] = \$col }
        END { for (r in n) if ((r in d) && d[r] > 0 && n[r] != \"-\" && (reps == \"  \" || index(reps, \" \" r \" \")))
              print n[r] / d[r] }" "$1" | median
}

# clean_reps ALG: the speed repetitions in which (b) reached at least 3/4 of NPROC times (a), i.e.
# no other work held a CPU while the ceiling was measured; all of them if there is none.
clean_reps() {
    r=$(awk -F'\t' -v a="$1" -v min="$(echo "$NPROC" | awk '{ print $1 * 0.75 }')" \
        'NR > 1 && $2 == a && $3 == "a" { x[$1] = $4 } NR > 1 && $2 == a && $3 == "b" { y[$1] = $4 }
         END { for (k in x) if ((k in y) && x[k] > 0 && y[k] / x[k] >= min) printf "%s ", k }' "$OUT/speed.tsv")
    echo "${r:-all}"
}

fmt() {
    # fmt NUMBER DECIMALS: "-" for empty.
    if [ -z "$1" ] || [ "$1" = - ]; then echo "-"; else printf "%.${2}f" "$1"; fi
}

meets() {
    # meets VALUE OP TARGET: "yes" / "**no**" / "-".
    if [ -z "$1" ] || [ "$1" = - ] || [ -z "$3" ]; then echo "-"; return; fi
    if awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN { exit !(op == ">=" ? v >= t : v <= t) }'; then
        echo "yes"
    else
        echo "**no**"
    fi
}

met_missed() {
    # met_missed VALUE TARGET: "met" / "**missed**" (VALUE >= TARGET), "-" without either.
    if [ -z "$1" ] || [ "$1" = - ] || [ -z "$2" ]; then echo "-"; return; fi
    if awk -v v="$1" -v t="$2" 'BEGIN { exit !(v >= t) }'; then echo "met"; else echo "**missed**"; fi
}

if [ -f "$OUT/env.txt" ]; then
    echo "### Machine and run"
    echo
    cat "$OUT/env.txt"
    echo
fi

# ---- 1. openssl speed --------------------------------------------------------------------------
if [ -f "$OUT/speed.tsv" ]; then
    f=$OUT/speed.tsv
    reps=$(awk -F'\t' 'NR > 1 { print $1 }' "$f" | sort -u | wc -l)
    has_d=$(awk -F'\t' 'NR > 1 && $3 == "d" { n++ } END { print n + 0 }' "$f")
    prov_note=$(awk -F'\t' '$1 == "provider" { print $2 }' "$OUT/speed_mb.txt" 2>/dev/null || true)
    limit_note=$(awk -F'\t' '$1 == "limit" { print $2 }' "$OUT/speed_mb.txt" 2>/dev/null || true)
    echo "### 1. openssl speed: one uringprov process against the default provider"
    echo
    echo "Rates: medians of $reps interleaved repetitions; ratios: medians of the per-repetition ratios."
    echo "(a) default provider, one process; (b) default provider, \`-multi $NPROC\`; (c) uringprov,"
    echo "one process, \`-async_jobs $JOBS\`, workers = online CPUs ($NPROC), multi-buffer batches as"
    said=""
    [ -z "$prov_note" ] || said="; uringprov's log: \"multi-buffer batches $prov_note\""
    echo "shipped (\`multibuffer = auto\`$said);"
    echo "(d) build/bench/mb_limit: the mb layer alone (crypto_mb plus our lane adapters), eight full"
    echo "lanes, one thread per CPU, no provider/queue/job. (d) is the most that batches can give on this"
    echo "machine; c/d is the share of it that reaches \`openssl speed\` through the provider, the queue,"
    echo "the ASYNC jobs and the wake-ups. (d) signs or derives only: it has no verify column."
    if [ "$has_d" -eq 0 ]; then
        echo "**(d) was not measured: ${limit_note:-no mb_limit rows in speed.tsv}.**"
    fi
    if [ -n "$prov_note" ] && [ "${prov_note#on}" = "$prov_note" ]; then
        echo "**uringprov ran without batches in (c)** (multi-buffer batches $prov_note): its workers"
        echo "computed every operation with OpenSSL's code, one at a time."
    fi
    echo
    echo "b/a is how far the default provider scaled over the $NPROC CPUs in the same repetition. On a"
    echo "shared machine other work sometimes holds a CPU: c/a, c/b and c/d use only the repetitions in"
    echo "which b/a reached 3/4 of $NPROC (\"clean\", listed), or all of them when none did (then they say"
    echo "little). ops/batch: mb_ops ÷ mb_batches of (c)'s \`stats:\` line (median over repetitions; 8"
    echo "is full lanes). Targets (issue 10) are on c/b."
    echo
    echo "| algorithm | op | (a) default /s | (b) default -multi $NPROC /s | (c) uringprov /s | (d) mb limit /s | b/a | clean reps | c/a | c/b | c/d | ops/batch (c) | target c/b | met |"
    echo "|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---|"
    for alg in $(awk -F'\t' 'NR > 1 && !seen[$2]++ { print $2 }' "$f"); do
        case $alg in
        rsa2048) op=sign target=1.8 ;;
        rsa3072 | rsa4096) op=sign target=1.7 ;;
        ecdsap256) op=sign target=2.0 ;;
        ecdsap384) op=sign target=25 ;;
        ecdhx25519) op=derive target=2.8 ;;
        ed25519) op=sign target=4.5 ;;
        ecdh*) op=derive target="" ;;
        *) op=sign target="" ;;
        esac
        a=$(med "$f" "\$2 == \"$alg\" && \$3 == \"a\"" 4)
        b=$(med "$f" "\$2 == \"$alg\" && \$3 == \"b\"" 4)
        c=$(med "$f" "\$2 == \"$alg\" && \$3 == \"c\"" 4)
        d=$(med "$f" "\$2 == \"$alg\" && \$3 == \"d\"" 4)
        clean=$(clean_reps "$alg")
        use=$clean
        [ "$use" = all ] && use=""
        ca=$(ratio "$f" 2 "\$2 == \"$alg\" && \$3 == \"c\"" "\$2 == \"$alg\" && \$3 == \"a\"" 4 "$use")
        cb=$(ratio "$f" 2 "\$2 == \"$alg\" && \$3 == \"c\"" "\$2 == \"$alg\" && \$3 == \"b\"" 4 "$use")
        cd=$(ratio "$f" 2 "\$2 == \"$alg\" && \$3 == \"c\"" "\$2 == \"$alg\" && \$3 == \"d\"" 4 "$use")
        ba=$(ratio "$f" 2 "\$2 == \"$alg\" && \$3 == \"b\"" "\$2 == \"$alg\" && \$3 == \"a\"" 4)
        opb=$(awk -F'\t' -v a="$alg" 'NR > 1 && $2 == a && $3 == "c" && NF >= 12 && $12 + 0 > 0 { print $11 / $12 }' \
              "$f" | median)
        echo "| $alg | $op | $(fmt "$a" 0) | $(fmt "$b" 0) | $(fmt "$c" 0) | $(fmt "$d" 0) | $(fmt "$ba" 2) | ${clean% } | $(fmt "$ca" 2) | $(fmt "$cb" 2) | $(fmt "$cd" 2) | $(fmt "$opb" 1) | ${target:+≥ }${target:--} | $(met_missed "$cb" "$target") |"
    done
    echo
    echo "Verifications (public-key work: uringprov runs it on the caller's thread, inside the job):"
    echo
    echo "| algorithm | (a) verify/s | (b) verify/s | (c) verify/s | c/b |"
    echo "|---|---:|---:|---:|---:|"
    for alg in $(awk -F'\t' 'NR > 1 && $5 != "-" && !seen[$2]++ { print $2 }' "$f"); do
        a=$(med "$f" "\$2 == \"$alg\" && \$3 == \"a\"" 5)
        b=$(med "$f" "\$2 == \"$alg\" && \$3 == \"b\"" 5)
        c=$(med "$f" "\$2 == \"$alg\" && \$3 == \"c\"" 5)
        cb=$(ratio "$f" 2 "\$2 == \"$alg\" && \$3 == \"c\"" "\$2 == \"$alg\" && \$3 == \"b\"" 5)
        echo "| $alg | $(fmt "$a" 0) | $(fmt "$b" 0) | $(fmt "$c" 0) | $(fmt "$cb" 2) |"
    done
    echo
    echo "Proof that (c) offloaded, per repetition: uringprov's \`stats:\` line at unload or exit"
    echo "(offloaded / pauses / fallbacks; mb_ops in mb_batches: the operations that crypto_mb computed,"
    echo "in how many batches; mb_ops > 0 proves that batches ran) and the CPU seconds of the"
    echo "uringprov-N threads against the rest of the process (the verify phase runs on the caller's"
    echo "thread):"
    echo
    echo "| algorithm | offloaded / pauses / fallbacks | mb_ops in mb_batches | worker CPU s | other threads CPU s |"
    echo "|---|---|---|---|---|"
    awk -F'\t' 'NR > 1 && $3 == "c" {
        k = $2; o[k] = o[k] (o[k] == "" ? "" : "; ") $6 " / " $7 " / " $8;
        b[k] = b[k] (b[k] == "" ? "" : "; ") (NF >= 12 ? $11 " in " $12 : "-");
        w[k] = w[k] (w[k] == "" ? "" : ", ") $9; m[k] = m[k] (m[k] == "" ? "" : ", ") $10;
        if (!(k in seen)) { seen[k] = 1; order[++n] = k } }
        END { for (i = 1; i <= n; i++) { k = order[i]; printf "| %s | %s | %s | %s | %s |\n", k, o[k], b[k], w[k], m[k] } }' "$f"
    echo
fi

# ---- 2. added latency --------------------------------------------------------------------------
if [ -f "$OUT/latency.txt" ]; then
    echo "### 2. Added latency of one offloaded operation (build/bench/latency)"
    echo
    sed -n 's/^# \(uringprov added latency.*\)/\1./p' "$OUT/latency.txt"
    echo "Added = offloaded time minus the inline median, same algorithm, same spacing. io_uring-spin:"
    echo "the io_uring path with a caller that polls the fd in a loop instead of sleeping in poll(), so"
    echo "io_uring minus io_uring-spin is the caller's own wake-up (on an idle machine; under load the"
    echo "spinning caller takes a CPU from the worker and the comparison means nothing)."
    echo "Target: median added ≤ 10 µs on the io_uring path at idle."
    echo
    echo "| algorithm | spacing | path | median µs | p99 µs | added median µs | added p99 µs | target met |"
    echo "|---|---|---|---:|---:|---:|---:|---|"
    awk '$1 !~ /^#/ && $1 != "algorithm" && $1 != "idle-pool" && NF == 7 {
        met = "-"; if ($3 == "io_uring") met = ($6 <= 10 ? "yes" : "**no**");
        printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, met }' \
        "$OUT/latency.txt"
    echo
    sed -n 's/^# \(offloaded.*\)/Counters: \1./p' "$OUT/latency.txt"
    echo
fi

# ---- idle pool ---------------------------------------------------------------------------------
if [ -f "$OUT/latency.txt" ] || [ -f "$OUT/tls_idle.tsv" ]; then
    echo "### Idle CPU of the worker pool (target: 0 %)"
    echo
    echo "CPU time (schedstat, ns) and context switches of every uringprov-N thread over an idle"
    echo "interval that starts 0.2–0.5 s after the last operation:"
    echo
    echo "| where | worker threads | idle seconds | CPU ns | CPU % | context switches | met |"
    echo "|---|---:|---:|---:|---:|---:|---|"
    # "idle-pool N threads S s cpu_ns X switches Y"
    awk '$1 == "idle-pool" { pct = $2 ? $7 / ($4 * 1e9) / $2 * 100 : 0;
        printf "| build/bench/latency (two pools: io_uring and fallback) | %s | %s | %s | %.4f | %s | %s |\n",
               $2, $4, $7, pct, $9, ($7 == 0 ? "yes" : "**no**") }' "$OUT/latency.txt" 2>/dev/null || true
    if [ -f "$OUT/tls_idle.tsv" ]; then
        awk -F'\t' 'NR > 1 { pct = $2 ? $4 / ($3 * 1e9) / $2 * 100 : 0;
            printf "| HAProxy async1 after the %s storm | %s | %s | %s | %.4f | %s | %s |\n",
                   $1, $2, $3, $4, pct, $5, ($4 == 0 ? "yes" : "**no**") }' "$OUT/tls_idle.tsv"
    fi
    echo
fi

# ---- 3. TLS ------------------------------------------------------------------------------------
if [ -f "$OUT/tls.tsv" ]; then
    f=$OUT/tls.tsv
    reps=$(awk -F'\t' 'NR > 1 { print $1 }' "$f" | sort -u | wc -l)
    echo "### 3. TLS 1.3 (X25519) with HAProxy on loopback"
    echo
    echo "Medians of $reps interleaved repetitions. Handshakes/s: counted by HAProxy (ssl_sess of the"
    echo "\`option httpclose\` frontend), full handshakes only. Keep-alive: 4 connections opened before"
    echo "the window, 50 requests/s each, while the storm runs; no-storm figures for reference. Ratios"
    echo "are to \`def1\` (nbthread 1, default provider), per repetition, then the median. CPU per"
    echo "handshake from schedstat: HAProxy's threads (uringprov's workers' share in brackets) and the"
    echo "storm client, h2load, which runs on the same $NPROC CPUs (pinned to CPU $((NPROC - 1)))."
    echo "Loop waits: the share of the window in which HAProxy's own threads were runnable but waiting"
    echo "for a CPU (schedstat run-queue delay; summed over threads, so defN can exceed 100 %)."
    echo
    bound=""
    for cert in $(awk -F'\t' 'NR > 1 && !seen[$2]++ { print $2 }' "$f"); do
        case $cert in rsa) cname="RSA-2048" ;; ec) cname="ECDSA P-256" ;; ec384) cname="ECDSA P-384" ;; *) cname=$cert ;; esac
        echo "**$cname certificate**"
        echo
        echo "| configuration | handshakes/s | ÷ def1 | keep-alive p50 µs | keep-alive p99 µs | p99 ÷ def1 | no storm p50 / p99 µs | server CPU µs/hs | of it HAProxy threads / workers | client CPU µs/hs | loop waits % |"
        echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        for cfg in $(awk -F'\t' -v c="$cert" 'NR > 1 && $2 == c && !seen[$3]++ { print $3 }' "$f"); do
            sel="\$2 == \"$cert\" && \$3 == \"$cfg\""
            base="\$2 == \"$cert\" && \$3 == \"def1\""
            hs=$(med "$f" "$sel" 4)
            hsr=$(ratio "$f" 2 "$sel" "$base" 4)
            p50=$(med "$f" "$sel" 5)
            p99=$(med "$f" "$sel" 6)
            p99r=$(ratio "$f" 2 "$sel" "$base" 6)
            srv=$(med "$f" "$sel" 8)
            cli=$(med "$f" "$sel" 9)
            share=$(med "$f" "$sel" 10)
            lwait=$(awk -F'\t' "NR > 1 && ($sel) && NF >= 11 { print \$11 }" "$f" | median)
            loop=$(awk -F'\t' "NR > 1 && ($sel) { print \$8 * (1 - \$10) }" "$f" | median)
            wrk=$(awk -F'\t' "NR > 1 && ($sel) { print \$8 * \$10 }" "$f" | median)
            quiet=$(awk -F'\t' -v c="$cert" -v g="$cfg" 'NR > 1 && $1 == c && $2 == g { printf "%.0f / %.0f", $3, $4 }' \
                    "$OUT/tls_nostorm.tsv" 2>/dev/null)
            case $cfg in
            async1) name="async1: nbthread 1, ssl-mode-async, uringprov" ;;
            async1-nice) name="async1-nice: as async1, worker_priority = 10" ;;
            async1-idle) name="async1-idle: as async1, worker_priority = idle" ;;
            async1-cheap) name="async1-cheap: as async1, inline_below_us = 100" ;;
            async1-nocoalesce) name="async1-nocoalesce: as async1, coalesce_us = 0" ;;
            async1-sign) name="async1-sign: as async1, offload = sign (experiment)" ;;
            async1-nospin) name="async1-nospin: as async1, spin_us = 0" ;;
            async1-w1) name="async1-w1: as async1, workers = 1 (experiment)" ;;
            def1) name="def1: nbthread 1, default provider" ;;
            defN) name="defN: nbthread $NPROC, default provider" ;;
            *) name=$cfg ;;
            esac
            echo "| $name | $(fmt "$hs" 0) | $(fmt "$hsr" 2) | $(fmt "$p50" 0) | $(fmt "$p99" 0) | $(fmt "$p99r" 2) | ${quiet:--} | $(fmt "$srv" 0) | $(fmt "$loop" 0) / $(fmt "$wrk" 0) | $(fmt "$cli" 0) | $(fmt "$lwait" 1) |"
            # The storm client has one CPU: at >= 90 % of it, handshakes/s is the client's limit.
            busy=$(awk -v h="${hs:-0}" -v c="${cli:-0}" 'BEGIN { printf "%.0f", h * c / 1e4 }')
            [ "$busy" -lt 90 ] || bound="$bound${bound:+, }$cfg ($busy %)"
        done
        echo
        if [ "$cert" = ec384 ]; then
            echo "With the P-384 certificate the storm client verifies a P-384 signature per handshake, which"
            echo "costs OpenSSL about as much as signing it, on the client's one CPU: the client caps"
            echo "handshakes/s early, and server CPU µs/hs is the fairer measure of the server's gain."
            echo
        fi
        if [ -n "$bound" ]; then
            echo "Client-bound: the storm client's one CPU was ≥ 90 % busy (handshakes/s × client CPU per"
            echo "handshake) in $bound, so there handshakes/s is the client's limit, not the server's."
            echo
        fi
        bound=""
    done
    echo "Targets (RSA-2048, async1 ÷ def1): handshakes/s ≥ 1.5 — met: $(meets "$(ratio "$f" 2 '$2 == "rsa" && $3 == "async1"' '$2 == "rsa" && $3 == "def1"' 4)" ">=" 1.5);"
    echo "keep-alive p99 ≤ 0.2 — met: $(meets "$(ratio "$f" 2 '$2 == "rsa" && $3 == "async1"' '$2 == "rsa" && $3 == "def1"' 6)" "<=" 0.2)."
    echo
    if [ -f "$OUT/tls_proof.tsv" ]; then
        echo "uringprov's \`stats:\` line when HAProxy (async configurations) exited:"
        echo
        awk -F'\t' 'NR > 1 { printf "- rep %s, %s, %s: `%s`\n", $1, $2, $3, $4 }' "$OUT/tls_proof.tsv"
        echo
    fi
fi

# ---- chart -------------------------------------------------------------------------------------
if [ -f "$OUT/sweep.tsv" ]; then
    for alg in rsa2048 ecdsap256; do
        for vary in jobs workers; do
            col=4
            [ "$vary" = workers ] && col=5
            for x in $(awk -F'\t' -v a="$alg" -v v="$vary" -v c="$col" 'NR > 1 && $2 == a && $3 == v { print $c }' \
                       "$OUT/sweep.tsv" | sort -n -u); do
                echo "$x $(awk -F'\t' -v a="$alg" -v v="$vary" -v c="$col" -v x="$x" \
                           'NR > 1 && $2 == a && $3 == v && $c == x { print $6 }' "$OUT/sweep.tsv" | median)"
            done >"$OUT/sweep_${alg}_$vary.dat"
        done
    done
    sp=$OUT/speed.tsv
    a_rsa=$(med "$sp" '$2 == "rsa2048" && $3 == "a"' 4 2>/dev/null || true)
    b_rsa=$(med "$sp" '$2 == "rsa2048" && $3 == "b"' 4 2>/dev/null || true)
    a_ec=$(med "$sp" '$2 == "ecdsap256" && $3 == "a"' 4 2>/dev/null || true)
    b_ec=$(med "$sp" '$2 == "ecdsap256" && $3 == "b"' 4 2>/dev/null || true)
    note=$(date -u +%Y-%m-%d)
    if command -v gnuplot >/dev/null 2>&1; then
        gnuplot -e "dir='$OUT'; out='$chart'; jobs=$JOBS; nproc=$NPROC; a_rsa=${a_rsa:-0}; b_rsa=${b_rsa:-0}; a_ec=${a_ec:-0}; b_ec=${b_ec:-0}; note='$NPROC CPUs, $note'" \
            "$root/bench/plot.gp" || echo "bench: gnuplot failed" >&2
    fi
    echo "### Throughput against -async_jobs and workers (one uringprov process)"
    echo
    echo "![throughput against async_jobs and workers](bench/$(basename "$chart"))"
    echo
    echo "| algorithm | -async_jobs (workers $NPROC) → sign/s | workers (-async_jobs $JOBS) → sign/s |"
    echo "|---|---|---|"
    for alg in rsa2048 ecdsap256; do
        j=$(awk '{ printf "%s%s: %.0f", (NR > 1 ? ", " : ""), $1, $2 }' "$OUT/sweep_${alg}_jobs.dat")
        w=$(awk '{ printf "%s%s: %.0f", (NR > 1 ? ", " : ""), $1, $2 }' "$OUT/sweep_${alg}_workers.dat")
        echo "| $alg | $j | $w |"
    done
    echo
fi

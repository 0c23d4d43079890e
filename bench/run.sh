#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run.sh - `make bench`: every benchmark of docs/benchmarks.md in one run, with progress on stderr.
#
#   1. build/bench/latency: added latency per operation, and the idle pool's CPU   (~10 s)
#   2. bench/speed.sh: openssl speed, default vs -multi vs uringprov, interleaved with
#      build/bench/mb_limit (the multi-buffer limit, "d")                          (~8 min)
#   3. bench/sweep.sh: uringprov against -async_jobs and workers, for the chart    (~1 min)
#   4. bench/tls.sh: HAProxy handshakes/s and keep-alive latency under a storm,
#      RSA-2048, ECDSA P-256 and P-384 certificates                                (~5 min)
#   5. bench/report.sh: Markdown tables and the PNG chart
#
# Results go to $BUILD/bench/results/ (raw TSV, report.md, throughput.png). With BENCH_DOCS=1 the
# report also replaces the generated part of docs/benchmarks.md and the chart docs/bench/*.png.
# BENCH_ONLY="latency speed sweep tls" picks steps (none: only rewrite the report from the results
# already in $BUILD/bench/results); BENCH_MAX_LOAD=L waits (up to 20 min) until the
# 1-minute load average is below L before starting, since the figures are only as quiet as the
# machine. Each script's own knobs are in its header.
set -eu
. "$(dirname "$0")/lib.sh"

ONLY=${BENCH_ONLY:-latency speed sweep tls}
export BENCH_JOBS=${BENCH_JOBS:-32}

for tool in openssl awk sed sort; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found (make deps)"
done
[ -f "$BUILD/uringprov.so" ] || die "$BUILD/uringprov.so not built (make)"

load1() {
    cut -d' ' -f1 /proc/loadavg
}

if [ -n "${BENCH_MAX_LOAD:-}" ]; then
    waited=0
    while awk -v l="$(load1)" -v m="$BENCH_MAX_LOAD" 'BEGIN { exit !(l >= m) }'; do
        [ "$waited" -lt 1200 ] || { progress "load still $(load1) after 20 min: running anyway"; break; }
        progress "waiting for the machine to quieten: load $(load1) >= $BENCH_MAX_LOAD"
        sleep 30
        waited=$((waited + 30))
    done
fi

progress "bench: results in $OUT; steps: $ONLY; load $(cut -d' ' -f1-3 /proc/loadavg)"

# steps.txt keeps, per step, when it last ran, on which commit, and the load around it: a partial
# run (BENCH_ONLY) replaces only its own steps' lines, and the report says when and on what each
# table was measured.
touch "$OUT/steps.txt"
commit="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$root" diff --quiet HEAD 2>/dev/null || echo ' with uncommitted changes')"
[ "$ONLY" != none ] || ONLY=""
for step in $ONLY; do
    began=$(date -u '+%Y-%m-%d %H:%M UTC')
    load0=$(cut -d' ' -f1-3 /proc/loadavg)
    case $step in
    latency)
        [ -x "$BUILD/bench/latency" ] || die "$BUILD/bench/latency not built (make $BUILD/bench/latency)"
        progress "latency: build/bench/latency ${BENCH_LAT_ARGS:-20 50 1000 3}"
        # shellcheck disable=SC2086
        "$BUILD/bench/latency" ${BENCH_LAT_ARGS:-20 50 1000 3} >"$OUT/latency.txt" \
            || die "latency failed: $(tail -n 3 "$OUT/latency.txt")"
        sed 's/^/    /' "$OUT/latency.txt" >&2
        ;;
    speed) sh "$root/bench/speed.sh" ;;
    sweep) sh "$root/bench/sweep.sh" ;;
    tls) sh "$root/bench/tls.sh" ;;
    *) die "unknown step $step" ;;
    esac
    grep -v "^$step	" "$OUT/steps.txt" >"$OUT/steps.new" || true
    printf '%s\t%s\t%s\t%s\t%s\n' "$step" "$began" "$load0" "$(cut -d' ' -f1-3 /proc/loadavg)" \
        "$commit" >>"$OUT/steps.new"
    mv "$OUT/steps.new" "$OUT/steps.txt"
done

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
virt=$(grep -q hypervisor /proc/cpuinfo && echo ", virtual machine" || true)
{
    echo "- BENCH_JOBS=$BENCH_JOBS; the exact command lines are under \"Commands\""
    echo "- machine: $NPROC × $cpu$virt, Linux $(uname -r), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
    echo "- software: $(openssl version | cut -d' ' -f1-2), $(haproxy -v 2>/dev/null | head -n 1 | cut -d' ' -f1-3),"
    echo "  $(h2load --version 2>/dev/null | head -n 1), $(gnuplot --version 2>/dev/null)"
    echo "- when each step ran, on which commit, and the load average (1, 5, 15 min) before and after it:"
    awk -F'\t' '{ printf "  - %s: %s, commit %s, load %s → %s\n", $1, $2, ($5 != "" ? $5 : "?"), $3, $4 }' \
        "$OUT/steps.txt"
} >"$OUT/env.txt"

sh "$root/bench/report.sh" "$OUT/throughput.png" >"$OUT/report.md"
progress "bench: report in $OUT/report.md"
cat "$OUT/report.md"

if [ "${BENCH_DOCS:-0}" = 1 ]; then
    doc=$root/docs/benchmarks.md
    mkdir -p "$root/docs/bench"
    [ -f "$OUT/throughput.png" ] && cp "$OUT/throughput.png" "$root/docs/bench/throughput.png"
    if [ -f "$doc" ] && grep -q '^<!-- BEGIN GENERATED' "$doc"; then
        awk -v rep="$OUT/report.md" '
            /^<!-- BEGIN GENERATED/ { print; while ((getline l < rep) > 0) print l; skip = 1; next }
            /^<!-- END GENERATED/ { skip = 0 }
            !skip { print }' "$doc" >"$doc.new" && mv "$doc.new" "$doc"
        progress "bench: updated $doc and docs/bench/throughput.png"
    else
        progress "bench: $doc has no BEGIN GENERATED marker; left alone"
    fi
fi

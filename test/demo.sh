#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# demo.sh - what `make demo` shows: RSA-2048 signatures per second, three ways: OpenSSL's default
# provider in one process; the default provider with -multi (one process per CPU: every core, the
# most the machine gives without uringprov); and one process through uringprov with ASYNC jobs,
# whose workers sign up to eight at once in multi-buffer batches (crypto_mb) where the CPU allows.
# Then uringprov's counters, which prove that its workers did the signing, and in batches.
# Every run uses -elapsed: without it openssl speed divides by the process's CPU time, which includes
# uringprov's worker threads, and offload looks like no gain. The rates come from speed's -mr lines
# (the human table differs between OpenSSL versions); the table below is the demo's own.
#
# DEMO_SECONDS (default 5) and DEMO_JOBS (default 32) change the runs. About 32 s with the defaults:
# each run signs for DEMO_SECONDS, then verifies for as long.
set -eu

cd "$(dirname "$0")/.."
. test/lib.sh
secs=${DEMO_SECONDS:-5}
jobs=${DEMO_JOBS:-32}

command -v openssl >/dev/null 2>&1 || { echo "demo: openssl not found (run make deps)"; exit 1; }
[ -f "$BUILD/uringprov.so" ] || { echo "demo: $BUILD/uringprov.so not built (run make)"; exit 1; }

work_dir demo
log=$tmp/uringprov.log

# counter NAME: uringprov's counter NAME at unload, from the third run's debug log.
counter() {
    statval "$1" "$log"
}

cpus=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
echo "uringprov demo: RSA-2048 sign/s ($(openssl version | cut -d' ' -f1-2), $cpus online CPUs)"
echo

echo "1/3  default provider, one process:"
echo "       openssl speed -elapsed -seconds $secs rsa2048"
OPENSSL_CONF=/dev/null openssl speed -elapsed -mr -seconds "$secs" rsa2048 >"$tmp/default.out" 2>&1 \
    </dev/null
base=$(sign_rate "$tmp/default.out")
[ -n "$base" ] || { echo "demo: no result from the default provider's run"; exit 1; }

echo "2/3  default provider, every core:"
echo "       openssl speed -elapsed -seconds $secs -multi $cpus rsa2048"
OPENSSL_CONF=/dev/null openssl speed -elapsed -mr -seconds "$secs" -multi "$cpus" rsa2048 \
    >"$tmp/multi.out" 2>&1 </dev/null
multi=$(sign_rate "$tmp/multi.out")
[ -n "$multi" ] || { echo "demo: no result from the -multi $cpus run"; exit 1; }

echo "3/3  uringprov, one process:"
echo "       OPENSSL_MODULES=$BUILD OPENSSL_CONF=openssl.cnf.sample \\"
echo "       openssl speed -elapsed -seconds $secs -async_jobs $jobs rsa2048"
uo_run "$sample" "$log" 1 \
    openssl speed -elapsed -mr -seconds "$secs" -async_jobs "$jobs" rsa2048 >"$tmp/uringprov.out" 2>&1 \
    </dev/null
fast=$(sign_rate "$tmp/uringprov.out")
[ -n "$fast" ] || { echo "demo: no result from the uringprov run"; exit 1; }
[ -n "$(stats_line "$log")" ] \
    || { echo "demo: uringprov did not load: the third run used the default provider"; exit 1; }

off=$(counter offloaded)
mb=$(counter mb) mbb=$(counter mb_batches) mbo=$(counter mb_ops)
echo
printf '  %-54s %10.0f sign/s\n' "(1) default provider, one process" "$base"
printf '  %-54s %10.0f sign/s\n' "(2) default provider, -multi $cpus (every core)" "$multi"
printf '  %-54s %10.0f sign/s\n' "(3) uringprov, one process, -async_jobs $jobs, $(counter workers) workers" "$fast"
awk -v a="$fast" -v b="$base" -v m="$multi" 'BEGIN {
    printf "  %-54s %10.2fx\n", "(3) / (1)", (b > 0 ? a / b : 0);
    printf "  %-54s %10.2fx\n", "(3) / (2)", (m > 0 ? a / m : 0) }'
echo
echo "  uringprov's counters at unload (the stats: line of its debug log):"
echo "    offloaded=$off  pauses=$(counter pauses)  inline=$(counter inline)" \
     "fallbacks=$(counter fallbacks)  io_uring=$(counter io_uring)"
opb=$(awk -v o="${mbo:-0}" -v b="${mbb:-0}" \
      'BEGIN { if (b > 0) printf "  (%.1f operations per batch, of at most 8)", o / b }')
echo "    mb=${mb:-?}  mb_batches=${mbb:-?}  mb_ops=${mbo:-?}  mb_faults=$(counter mb_faults)$opb"
echo "  offloaded: signatures made by the workers while their jobs paused (pauses >= offloaded)."
echo "  inline: speed's one check signature per job, made outside any job (sync_mode = inline)."
echo "  The verify half of the run is public-key work, done on the caller's thread, not counted."
if [ "${mb:-0}" = 1 ] && [ "${mbo:-0}" -gt 0 ]; then
    echo "  mb_ops > 0 proves that batches ran: crypto_mb computed $mbo of the signatures, several at"
    echo "  once, in $mbb calls."
else
    why=$(grep -E ' multi-buffer batches (unavailable|off): ' "$log" | tail -n 1 \
          | sed 's/.* \(multi-buffer batches \)/\1/')
    if [ "${mb:-0}" = 1 ]; then
        echo "  mb=1 but mb_ops=0: batches were on, yet no signature went through one."
    else
        echo "  mb=0: batching is unavailable here, so the workers signed one at a time with OpenSSL's"
        echo "  code. uringprov's log says why: \"${why:-(no reason logged)}\""
    fi
fi
if [ -z "$off" ] || [ "$off" -eq 0 ]; then
    echo "demo: nothing was offloaded"
    exit 1
fi
if [ "$cpus" = 1 ] && [ "${mbo:-0}" -eq 0 ]; then
    echo "  (one CPU and no batches: offload cannot beat one process here; the counters show the path works)"
fi

#!/bin/sh
# demo.sh - what `make demo` shows: RSA-2048 signatures per second from one openssl process, first
# on the default provider alone, then through uringprov with ASYNC jobs, and the counters that prove
# uringprov's workers did the signing. Both runs use -elapsed: without it openssl speed divides by
# the process's CPU time, which includes uringprov's worker threads, and offload looks like no gain.
#
# DEMO_SECONDS (default 5) and DEMO_JOBS (default 16) change the runs. About 25 s with the defaults.
set -eu

cd "$(dirname "$0")/.."
. test/lib.sh
secs=${DEMO_SECONDS:-5}
jobs=${DEMO_JOBS:-16}

command -v openssl >/dev/null 2>&1 || { echo "demo: openssl not found (run make deps)"; exit 1; }
[ -f "$BUILD/uringprov.so" ] || { echo "demo: $BUILD/uringprov.so not built (run make)"; exit 1; }

work_dir demo
log=$tmp/uringprov.log

# counter NAME: uringprov's counter NAME at unload, from the second run's debug log.
counter() {
    statval "$1" "$log"
}

cpus=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo "?")
echo "uringprov demo: RSA-2048 sign/s from one openssl process ($(openssl version | cut -d' ' -f1-2)," \
     "$cpus online CPUs)"
echo

echo "1/2  default provider:  openssl speed -elapsed -seconds $secs rsa2048"
OPENSSL_CONF=/dev/null openssl speed -elapsed -seconds "$secs" rsa2048 >"$tmp/default.out" 2>&1 \
    </dev/null
base=$(sign_rate "$tmp/default.out")
[ -n "$base" ] || { echo "demo: no result from the default provider's run"; exit 1; }

echo "2/2  uringprov:         OPENSSL_MODULES=$BUILD OPENSSL_CONF=openssl.cnf.sample \\"
echo "                        openssl speed -elapsed -seconds $secs -async_jobs $jobs rsa2048"
uo_run "$sample" "$log" 1 \
    openssl speed -elapsed -seconds "$secs" -async_jobs "$jobs" rsa2048 >"$tmp/uringprov.out" 2>&1 \
    </dev/null
fast=$(sign_rate "$tmp/uringprov.out")
[ -n "$fast" ] || { echo "demo: no result from the uringprov run"; exit 1; }
[ -n "$(stats_line "$log")" ] \
    || { echo "demo: uringprov did not load: the second run used the default provider"; exit 1; }

off=$(counter offloaded)
echo
printf '  %-44s %10s sign/s\n' "default provider, no async jobs" "$base"
printf '  %-44s %10s sign/s\n' "uringprov, -async_jobs $jobs, $(counter workers) workers" "$fast"
awk -v a="$fast" -v b="$base" 'BEGIN { printf "  %-44s %10.2fx\n", "ratio", (b > 0 ? a / b : 0) }'
echo
echo "  uringprov's counters at unload:"
echo "    offloaded=$off  pauses=$(counter pauses)  inline=$(counter inline)" \
     "fallbacks=$(counter fallbacks)  io_uring=$(counter io_uring)"
echo "  offloaded: signatures made by the workers while their jobs paused (pauses >= offloaded)."
echo "  inline: speed's one check signature per job, made outside any job (sync_mode = inline)."
echo "  The verify half of the run is public-key work, done on the caller's thread, not counted."
[ -n "$off" ] && [ "$off" -gt 0 ] || { echo "demo: nothing was offloaded"; exit 1; }
if [ "$cpus" = 1 ]; then
    echo "  (one CPU: offload cannot beat one process here; the counters show the path works)"
fi

#!/bin/sh
# demo.sh - what `make demo` shows: RSA-2048 signatures per second from one openssl process, first
# on the default provider alone, then through uringprov with ASYNC jobs, and the counters that prove
# uringprov's workers did the signing. Both runs use -elapsed: without it openssl speed divides by
# the process's CPU time, which includes uringprov's worker threads, and offload looks like no gain.
#
# DEMO_SECONDS (default 5) and DEMO_JOBS (default 16) change the runs. About 25 s with the defaults.
set -eu

cd "$(dirname "$0")/.."
root=$PWD
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$root/$BUILD ;; esac
secs=${DEMO_SECONDS:-5}
jobs=${DEMO_JOBS:-16}

command -v openssl >/dev/null 2>&1 || { echo "demo: openssl not found (run make deps)"; exit 1; }
[ -f "$BUILD/uringprov.so" ] || { echo "demo: $BUILD/uringprov.so not built (run make)"; exit 1; }

tmp=$(mktemp -d)
on_exit() {
    rc=$?
    if [ "$rc" -ne 0 ]; then
        for f in "$tmp"/*.out "$tmp"/*.log; do
            [ -f "$f" ] || continue
            echo "---- $f"
            tail -n 30 "$f"
        done
    fi
    rm -rf "$tmp"
    exit "$rc"
}
trap on_exit EXIT

# sign_rate OUTPUT: the sign/s column of speed's "rsa 2048 bits" line.
sign_rate() {
    awk '$1 == "rsa" && $2 == "2048" && $3 == "bits" { print $6 }' "$1"
}

statval() {
    grep ' stats: ' "$tmp/uringprov.log" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$1=//p"
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
OPENSSL_MODULES=$BUILD OPENSSL_CONF=$root/openssl.cnf.sample \
    URINGPROV_DEBUG="file:$tmp/uringprov.log,level:1" \
    openssl speed -elapsed -seconds "$secs" -async_jobs "$jobs" rsa2048 >"$tmp/uringprov.out" 2>&1 \
    </dev/null
fast=$(sign_rate "$tmp/uringprov.out")
[ -n "$fast" ] || { echo "demo: no result from the uringprov run"; exit 1; }
grep -q ' stats: ' "$tmp/uringprov.log" 2>/dev/null \
    || { echo "demo: uringprov did not load: the second run used the default provider"; exit 1; }

off=$(statval offloaded)
echo
printf '  %-44s %10s sign/s\n' "default provider, no async jobs" "$base"
printf '  %-44s %10s sign/s\n' "uringprov, -async_jobs $jobs, $(statval workers) workers" "$fast"
awk -v a="$fast" -v b="$base" 'BEGIN { printf "  %-44s %10.2fx\n", "ratio", (b > 0 ? a / b : 0) }'
echo
echo "  uringprov's counters at unload:"
echo "    offloaded=$off  pauses=$(statval pauses)  inline=$(statval inline)" \
     "fallbacks=$(statval fallbacks)  io_uring=$(statval io_uring)"
echo "  offloaded: signatures made by the workers while their jobs paused (pauses >= offloaded)."
echo "  inline: speed's one check signature per job, made outside any job (sync_mode = inline)."
echo "  The verify half of the run is public-key work, done on the caller's thread, not counted."
[ -n "$off" ] && [ "$off" -gt 0 ] || { echo "demo: nothing was offloaded"; exit 1; }
if [ "$cpus" = 1 ]; then
    echo "  (one CPU: offload cannot beat one process here; the counters show the path works)"
fi

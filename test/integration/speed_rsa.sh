#!/bin/sh
# speed_rsa.sh - stock `openssl speed -elapsed -async_jobs 8 rsa2048` through openssl.cnf.sample.
#
# Exit 0 alone proves nothing: speed silently runs on the default provider if uringprov fails to
# load. So each run's debug log must end with uringprov's "stats:" line (written at unload) showing
# work offloaded to the workers, at least one pause per offloaded request (every request in a job
# pauses at least once), and speed must have printed a sign/s figure. The same runs with io_uring
# forced off (URINGPROV_NO_URING=1, then `io_uring = no` in the config) must still offload, with
# io_uring=0 in the stats.
#
# Exit 77 (skip) only when a tool is missing. Run from anywhere; BUILD names the build directory.
set -eu

cd "$(dirname "$0")/../.."
root=$PWD
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$root/$BUILD ;; esac

for tool in openssl timeout awk sed; do
    command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool not found"; exit 77; }
done
[ -f "$BUILD/uringprov.so" ] || { echo "FAIL: $BUILD/uringprov.so not built"; exit 1; }

tmp=$(mktemp -d)
on_exit() {
    rc=$?
    if [ "$rc" -ne 0 ]; then
        for f in "$tmp"/*.out "$tmp"/*.log; do
            [ -f "$f" ] || continue
            echo "---- $f"
            tail -n 40 "$f"
        done
    fi
    rm -rf "$tmp"
    exit "$rc"
}
trap on_exit EXIT

fail() {
    echo "FAIL: $*"
    exit 1
}

# statval NAME LOG: the value of NAME= on the log's last "stats:" line (empty if there is none).
statval() {
    grep ' stats: ' "$2" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# speed NAME CONF SECONDS [ENV=VALUE...]: runs speed through uringprov with the debug log at level 1.
speed() {
    name=$1 conf=$2 secs=$3
    shift 3
    log=$tmp/$name.log
    echo "-- $name: openssl speed -elapsed -seconds $secs -async_jobs 8 rsa2048 ($conf${*:+, $*})"
    env OPENSSL_MODULES="$BUILD" OPENSSL_CONF="$conf" URINGPROV_DEBUG="file:$log,level:1" "$@" \
        timeout 300 openssl speed -elapsed -seconds "$secs" -async_jobs 8 rsa2048 \
        >"$tmp/$name.out" 2>&1 </dev/null || fail "$name: openssl speed exited $?"
    [ -s "$log" ] || fail "$name: no debug log: uringprov was not loaded"
    grep -q ' stats: ' "$log" || fail "$name: no stats line in the log: uringprov never unloaded"
}

# check NAME: offloaded > 0, pauses >= offloaded, and a positive sign/s figure.
check() {
    name=$1
    log=$tmp/$name.log
    off=$(statval offloaded "$log")
    pauses=$(statval pauses "$log")
    fallbacks=$(statval fallbacks "$log")
    inflight=$(statval inflight "$log")
    [ -n "$off" ] && [ "$off" -gt 0 ] || fail "$name: nothing offloaded (offloaded=$off)"
    [ -n "$pauses" ] && [ "$pauses" -gt 0 ] || fail "$name: no job paused (pauses=$pauses)"
    # Every request in a job pauses at least once; speed runs every sign in a job.
    [ "$pauses" -ge "$off" ] || fail "$name: pauses=$pauses < offloaded=$off"
    # Every request has completed by the time the provider unloads.
    [ "$inflight" = 0 ] || fail "$name: inflight=$inflight at unload"
    signs=$(awk '$1 == "rsa" && $2 == "2048" && $3 == "bits" { print $6 }' "$tmp/$name.out")
    [ -n "$signs" ] || fail "$name: speed printed no rsa 2048 result line"
    awk -v s="$signs" 'BEGIN { exit !(s + 0 > 0) }' || fail "$name: sign/s is $signs"
    echo "   sign/s=$signs offloaded=$off pauses=$pauses fallbacks=$fallbacks" \
         "io_uring=$(statval io_uring "$log") workers=$(statval workers "$log")"
}

sample=$root/openssl.cnf.sample

# 1. io_uring as configured by the sample (on).
speed uring "$sample" 2
check uring
if [ "$(statval io_uring "$tmp/uring.log")" != 1 ]; then
    # The fallback is legitimate when the kernel refuses io_uring; it must say so in the log.
    grep -q 'io_uring unavailable' "$tmp/uring.log" \
        || fail "uring: io_uring=0 although the kernel did not refuse io_uring"
    echo "   note: this kernel refuses io_uring; the plain-eventfd fallback ran"
fi

# 2. io_uring forced off by the environment.
speed no_uring_env "$sample" 1 URINGPROV_NO_URING=1
check no_uring_env
[ "$(statval io_uring "$tmp/no_uring_env.log")" = 0 ] || fail "no_uring_env: io_uring is not 0"
grep -q 'switched off by URINGPROV_NO_URING' "$tmp/no_uring_env.log" \
    || fail "no_uring_env: the log does not say why io_uring is off"

# 3. io_uring switched off in the provider's config section.
sed '/^\[uringprov_sect\]/a io_uring = no' "$sample" >"$tmp/no_uring.cnf"
grep -q '^io_uring = no' "$tmp/no_uring.cnf" || fail "could not write $tmp/no_uring.cnf"
speed no_uring_conf "$tmp/no_uring.cnf" 1
check no_uring_conf
[ "$(statval io_uring "$tmp/no_uring_conf.log")" = 0 ] || fail "no_uring_conf: io_uring is not 0"
grep -q 'switched off by configuration' "$tmp/no_uring_conf.log" \
    || fail "no_uring_conf: the log does not say why io_uring is off"

echo "PASS: speed_rsa"

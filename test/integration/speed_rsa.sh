#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# speed_rsa.sh - stock `openssl speed -elapsed -async_jobs 8 rsa2048` through openssl.cnf.sample.
#
# Exit 0 alone proves nothing: speed silently runs on the default provider if uringprov fails to
# load. So each run's debug log must end with uringprov's "stats:" line (written at unload) showing
# work offloaded to the workers, at least one pause per offloaded request (every request in a job
# pauses at least once), and speed must have printed a sign/s figure (read from its -mr line: the
# human table's columns change between OpenSSL versions). The same runs with io_uring
# forced off (URINGPROV_NO_URING=1, then `io_uring = no` in the config) must still offload, with
# io_uring=0 in the stats.
#
# Exit 77 (skip) only when a tool is missing. Run from anywhere; BUILD names the build directory.
set -eu

cd "$(dirname "$0")/../.."
. test/lib.sh

require openssl timeout awk sed
work_dir speed_rsa

# speed NAME CONF SECONDS [ENV=VALUE...]: runs speed through uringprov with the debug log at level 1.
speed() {
    name=$1 conf=$2 secs=$3
    shift 3
    log=$tmp/$name.log
    echo "-- $name: openssl speed -mr -elapsed -seconds $secs -async_jobs 8 rsa2048 ($conf${*:+, $*})"
    uo_run "$conf" "$log" 1 env "$@" \
        timeout 300 openssl speed -mr -elapsed -seconds "$secs" -async_jobs 8 rsa2048 \
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
    signs=$(sign_rate "$tmp/$name.out")
    [ -n "$signs" ] || fail "$name: speed printed no rsa 2048 result (+F2) line"
    awk -v s="$signs" 'BEGIN { exit !(s + 0 > 0) }' || fail "$name: sign/s is $signs"
    echo "   sign/s=$signs offloaded=$off pauses=$pauses fallbacks=$fallbacks" \
         "io_uring=$(statval io_uring "$log") workers=$(statval workers "$log")"
}

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
sample_with "$tmp/no_uring.cnf" "io_uring = no"
speed no_uring_conf "$tmp/no_uring.cnf" 1
check no_uring_conf
[ "$(statval io_uring "$tmp/no_uring_conf.log")" = 0 ] || fail "no_uring_conf: io_uring is not 0"
grep -q 'switched off by configuration' "$tmp/no_uring_conf.log" \
    || fail "no_uring_conf: the log does not say why io_uring is off"

echo "PASS: speed_rsa"

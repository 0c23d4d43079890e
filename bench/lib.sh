# SPDX-License-Identifier: Apache-2.0
# lib.sh - shared by the bench/*.sh scripts (sourced, never run). Sets root, BUILD, OUT and NPROC,
# and provides progress output, medians, uringprov's stats line, and a /proc sampler of a process's
# threads (uringprov's workers are the threads named uringprov-N).
#
# Environment: BUILD (build directory, default build), BENCH_OUT (results, default $BUILD/bench/results),
# BENCH_UO_CNF (uringprov's openssl.cnf, default openssl.cnf.sample).

cd "$(dirname "$0")/.." || exit 1
root=$PWD
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$root/$BUILD ;; esac
OUT=${BENCH_OUT:-$BUILD/bench/results}
mkdir -p "$OUT"
NPROC=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)

# Clients, key generation and the "default" runs must never see uringprov: this file loads only
# OpenSSL's default provider, whatever the caller's OPENSSL_CONF says.
DEFAULT_CNF=$OUT/default.cnf
cat >"$DEFAULT_CNF" <<'EOF'
# default.cnf - OpenSSL's default provider alone (written by bench/lib.sh).
openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
default = default_sect
[default_sect]
activate = 1
EOF

# The sample configuration routes RSA and EC through uringprov (default_properties). BENCH_UO_CNF
# names another one (the same with other uringprov keys, for experiments).
URINGPROV_CNF=${BENCH_UO_CNF:-$root/openssl.cnf.sample}

# progress MESSAGE...: one line on stderr, so that a caller can capture stdout.
progress() {
    printf '%s  %s\n' "$(date +%H:%M:%S)" "$*" >&2
}

die() {
    echo "bench: $*" >&2
    exit 1
}

# median: the median of the numbers on stdin (one a line; empty input prints nothing).
median() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit; if (NR % 2) print v[(NR + 1) / 2];
                                        else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# quantile Q: the Q-quantile (0..1, nearest rank) of the numbers on stdin.
quantile() {
    sort -g | awk -v q="$1" '{ v[NR] = $1 } END { if (NR == 0) exit; i = int(q * NR + 0.999999);
                                                  if (i < 1) i = 1; if (i > NR) i = NR; print v[i] }'
}

# statval NAME LOG: NAME= from the last uringprov "stats:" line in LOG (empty if there is none).
statval() {
    grep ' stats: ' "$2" 2>/dev/null | tail -n 1 | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# threads_ns PID: "<ns on CPU of uringprov-* threads> <ns on CPU of all threads>" from
# /proc/PID/task/*/schedstat (nanoseconds, unlike the 10 ms ticks of /proc/PID/stat).
threads_ns() {
    awk 'FILENAME ~ /\/comm$/ { d = FILENAME; sub(/\/comm$/, "", d); name[d] = $1; next }
         { d = FILENAME; sub(/\/schedstat$/, "", d); all += $1; if (name[d] ~ /^uringprov-/) w += $1 }
         END { printf "%.0f %.0f\n", w, all }' \
        /proc/"$1"/task/*/comm /proc/"$1"/task/*/schedstat 2>/dev/null
}

# loop_wait_ns PID: ns that the threads other than uringprov-* spent runnable but waiting for a CPU
# (schedstat's second field, the run-queue delay): how long an event loop that had work to do sat
# behind other threads.
loop_wait_ns() {
    awk 'FILENAME ~ /\/comm$/ { d = FILENAME; sub(/\/comm$/, "", d); name[d] = $1; next }
         { d = FILENAME; sub(/\/schedstat$/, "", d); if (name[d] !~ /^uringprov-/) w += $2 }
         END { printf "%.0f\n", w }' \
        /proc/"$1"/task/*/comm /proc/"$1"/task/*/schedstat 2>/dev/null
}

# proc_ns PID: ns on CPU of the whole process (every thread, live ones) from schedstat.
proc_ns() {
    threads_ns "$1" | awk '{ print $2 }'
}

# worker_wakeups PID: voluntary plus involuntary context switches of the uringprov-* threads.
worker_wakeups() {
    for t in /proc/"$1"/task/*; do
        case $(cat "$t/comm" 2>/dev/null) in
        uringprov-*) awk '/ctxt_switches/ { s += $2 } END { print s + 0 }' "$t/status" ;;
        esac
    done | awk '{ s += $1 } END { print s + 0 }'
}

# free_ports: the first of three consecutive loopback TCP ports, below the ephemeral range, with no
# socket on any of them now (/proc/net/tcp; HAProxy's bind retries if one is taken meanwhile).
free_ports() {
    while :; do
        p=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 12000))
        used=0
        for q in "$p" $((p + 1)) $((p + 2)); do
            grep -q -i ":$(printf '%04X' "$q") " /proc/net/tcp /proc/net/tcp6 2>/dev/null && used=1
        done
        [ "$used" -eq 0 ] && break
    done
    echo "$p"
}

#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tls.sh - TLS 1.3 (X25519) handshakes per second, and the latency of keep-alive requests while a
# storm of new handshakes runs, with Debian's HAProxy on loopback, for three configurations:
#   async1   nbthread 1, ssl-mode-async, uringprov (openssl.cnf.sample)
#   def1     nbthread 1, OpenSSL's default provider
#   defN     nbthread $(nproc), OpenSSL's default provider
# and four variants of async1 with one setting changed: async1-nice, worker_priority = 10 (HAProxy's
# thread preempts the workers); async1-idle, worker_priority = idle (SCHED_IDLE: the workers run
# only on otherwise idle CPU); async1-nospin, spin_us = 0 (workers sleep as soon as the queue is
# empty); async1-cheap, inline_below_us = 100 (X25519 and P-256 stay on HAProxy's thread).
# Each with an RSA-2048 certificate, then an ECDSA P-256 one; then, with an ECDSA P-384
# certificate (where multi-buffer batches gain most), only async1, def1 and defN, to keep the run
# short (BENCH_TLS_EC384_CONFIGS).
#
# One HAProxy per (configuration, certificate), with three frontends: "storm" closes every
# connection after its response (`option httpclose`: h2load --h1 otherwise reuses its connections),
# "keepalive" keeps them, "stats" serves the CSV counters. In one window of BENCH_TLS_SECONDS:
#   - the storm: h2load --h1 -c BENCH_TLS_CLIENTS, pinned with taskset to the last CPU so that the
#     client, which competes for the same cores, never takes more than one of them;
#   - handshakes/s: the storm frontend's ssl_sess counter (full handshakes: no tickets, no session
#     cache) counted on the server over the window, after a warm-up;
#   - keep-alive latency: a second h2load, 4 connections opened before its first request, each
#     paced at 50 requests/s (--rps), per-request times from --log-file; the keepalive frontend
#     must count exactly 4 connections, so every measured request went on an open connection.
#   - CPU: HAProxy's threads, uringprov's workers among them, and the storm client, from schedstat;
#     and the share of the window that HAProxy's own threads spent runnable but waiting for a CPU
#     (schedstat's run-queue delay), which is what a keep-alive request waits for when the loop is
#     idle but not running.
# The configurations interleave (rsa: async1 def1 defN ..., ec: the same, next repetition).
# Once per certificate the keep-alive latency is also taken without a storm, and after the async1
# storm the worker threads' CPU time and wake-ups are read over BENCH_IDLE_SECONDS of idle.
#
#   sh bench/tls.sh              writes $OUT/tls.tsv, $OUT/tls_idle.tsv, $OUT/tls_proof.tsv
# BENCH_TLS_REPS (3), BENCH_TLS_SECONDS (5), BENCH_TLS_CLIENTS (32), BENCH_IDLE_SECONDS (3),
# BENCH_TLS_CONFIGS ("async1 def1 defN async1-nice async1-idle async1-nospin async1-cheap"; also
# async1-w1: one worker, async1-sign: offload = sign, async1-nocoalesce: coalesce_us = 0),
# BENCH_TLS_CERTS ("rsa ec ec384"), BENCH_TLS_EC384_CONFIGS ("async1 def1 defN": the configurations
# run with the P-384 certificate, those of BENCH_TLS_CONFIGS only), BENCH_TLS_PERF=1 (perf record -g of HAProxy during
# the first repetition's windows, into $OUT/perf/tls-<cert>-<cfg>.data; see bench/profile.sh).
set -eu
. "$(dirname "$0")/lib.sh"

REPS=${BENCH_TLS_REPS:-3}
WINDOW=${BENCH_TLS_SECONDS:-5}
CLIENTS=${BENCH_TLS_CLIENTS:-32}
IDLE=${BENCH_IDLE_SECONDS:-3}
CONFIGS=${BENCH_TLS_CONFIGS:-async1 def1 defN async1-nice async1-idle async1-nospin async1-cheap}
CERTS=${BENCH_TLS_CERTS:-rsa ec ec384}
EC384_CONFIGS=${BENCH_TLS_EC384_CONFIGS:-async1 def1 defN}
WARM=1
KA_CONNS=4
KA_RPS=50
CLIENT_CPU=$((NPROC - 1))

for tool in haproxy h2load curl taskset; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found (make deps installs it)"
done

tmp=$(mktemp -d /tmp/uo-bench-tls.XXXXXX)
pids=""
on_exit() {
    rc=$?
    for p in $pids; do
        kill "$p" 2>/dev/null || true
    done
    if [ "$rc" -ne 0 ]; then
        echo "bench: tls: logs kept in $tmp" >&2
    else
        rm -rf "$tmp"
    fi
    exit "$rc"
}
trap on_exit EXIT
trap 'exit 1' INT TERM HUP

# Certificates, made with the default provider alone.
OPENSSL_CONF=$DEFAULT_CNF openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/rsa.key" \
    -out "$tmp/rsa.crt" -subj /CN=localhost -days 2 >"$tmp/certs.out" 2>&1 || die "rsa certificate"
OPENSSL_CONF=$DEFAULT_CNF openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$tmp/ec.key" -out "$tmp/ec.crt" -subj /CN=localhost -days 2 >>"$tmp/certs.out" 2>&1 \
    || die "ec certificate"
OPENSSL_CONF=$DEFAULT_CNF openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes \
    -keyout "$tmp/ec384.key" -out "$tmp/ec384.crt" -subj /CN=localhost -days 2 >>"$tmp/certs.out" 2>&1 \
    || die "ec384 certificate"
for cert in rsa ec ec384; do
    cat "$tmp/$cert.crt" "$tmp/$cert.key" >"$tmp/$cert.pem"
done

# configs_for CERT: the configurations to run with CERT's certificate.
configs_for() {
    if [ "$1" = ec384 ]; then
        for c in $CONFIGS; do
            case " $EC384_CONFIGS " in *" $c "*) echo "$c" ;; esac
        done
    else
        echo "$CONFIGS"
    fi
}

listening() {
    grep -q -i "0100007F:$(printf '%04X' "$1") 00000000:0000 0A" /proc/net/tcp
}

# write_cfg CFG CERT: $tmp/haproxy.cfg on ports $p_storm, $p_ka, $p_stats.
write_cfg() {
    case $1 in
    async1*) threads=1 async="    ssl-mode-async" ;;
    def1) threads=1 async="" ;;
    defN) threads=$NPROC async="" ;;
    *) die "unknown configuration $1" ;;
    esac
    # TLS 1.3 only, X25519 only, and no resumption: every storm connection is a full handshake.
    tls="ssl crt $tmp/$2.pem ssl-min-ver TLSv1.3 curves X25519 no-tls-tickets alpn http/1.1"
    cat >"$tmp/haproxy.cfg" <<EOF
global
    nbthread $threads
$async
    maxconn 4096
    tune.ssl.cachesize 0

defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s

frontend storm
    bind 127.0.0.1:$p_storm $tls
    option httpclose
    http-request return status 200 content-type text/plain string "ok"

frontend keepalive
    bind 127.0.0.1:$p_ka $tls
    http-request return status 200 content-type text/plain string "ok"

frontend stats
    bind 127.0.0.1:$p_stats
    stats enable
    stats uri /stats
EOF
}

# start_haproxy CFG CERT: starts HAProxy (uringprov only for async1) and waits until it serves.
start_haproxy() {
    tries=0
    while :; do
        p_storm=$(free_ports)
        p_ka=$((p_storm + 1))
        p_stats=$((p_storm + 2))
        write_cfg "$1" "$2"
        rm -f "$tmp/uo.log"
        case $1 in
        async1-w1) sed '/^\[uringprov_sect\]/a workers = 1' "$URINGPROV_CNF" >"$tmp/uo.cnf" ;;
        async1-sign) sed '/^\[uringprov_sect\]/a offload = sign' "$URINGPROV_CNF" >"$tmp/uo.cnf" ;;
        async1-nospin) sed '/^\[uringprov_sect\]/a spin_us = 0' "$URINGPROV_CNF" >"$tmp/uo.cnf" ;;
        async1-nice) sed '/^\[uringprov_sect\]/a worker_priority = 10' "$URINGPROV_CNF" >"$tmp/uo.cnf" ;;
        async1-idle) sed '/^\[uringprov_sect\]/a worker_priority = idle' "$URINGPROV_CNF" >"$tmp/uo.cnf" ;;
        async1-cheap) sed '/^\[uringprov_sect\]/a inline_below_us = 100' "$URINGPROV_CNF" >"$tmp/uo.cnf" ;;
        async1-nocoalesce) sed '/^\[uringprov_sect\]/a coalesce_us = 0' "$URINGPROV_CNF" >"$tmp/uo.cnf" ;;
        async1*) cp "$URINGPROV_CNF" "$tmp/uo.cnf" ;;
        esac
        if [ "${1#async1}" != "$1" ]; then
            env OPENSSL_MODULES="$BUILD" OPENSSL_CONF="$tmp/uo.cnf" \
                URINGPROV_DEBUG="file:$tmp/uo.log,level:1" \
                haproxy -db -f "$tmp/haproxy.cfg" >"$tmp/haproxy.out" 2>&1 &
        else
            OPENSSL_CONF=$DEFAULT_CNF haproxy -db -f "$tmp/haproxy.cfg" >"$tmp/haproxy.out" 2>&1 &
        fi
        hpid=$!
        pids="$pids $hpid"
        w=0
        while kill -0 "$hpid" 2>/dev/null \
              && ! { listening "$p_storm" && listening "$p_ka" && listening "$p_stats"; }; do
            w=$((w + 1))
            [ "$w" -le 200 ] || die "haproxy is not listening after 10 s"
            sleep 0.05
        done
        kill -0 "$hpid" 2>/dev/null && break
        tries=$((tries + 1))
        [ "$tries" -lt 5 ] || die "haproxy exited at start: $(tail -n 5 "$tmp/haproxy.out")"
    done
    if [ "${1#async1}" != "$1" ]; then
        grep -q 'loaded uringprov' "$tmp/uo.log" 2>/dev/null || die "haproxy did not load uringprov"
    fi
    OPENSSL_CONF=$DEFAULT_CNF curl -sk --max-time 10 "https://127.0.0.1:$p_storm/" >/dev/null \
        || die "haproxy ($1, $2) does not answer"
}

# stop_haproxy: soft stop (SIGUSR1: HAProxy exits when its connections are gone, and uringprov
# unloads with its stats line), SIGTERM after 10 s.
stop_haproxy() {
    kill -USR1 "$hpid" 2>/dev/null || true
    w=0
    while kill -0 "$hpid" 2>/dev/null; do
        w=$((w + 1))
        [ "$w" -eq 200 ] && kill "$hpid" 2>/dev/null
        sleep 0.05
    done
    wait "$hpid" 2>/dev/null || true
}

# counter FRONTEND FIELD: a CSV stats field of a frontend.
counter() {
    OPENSSL_CONF=$DEFAULT_CNF curl -s --max-time 5 "http://127.0.0.1:$p_stats/stats;csv" \
        | awk -F, -v fe="$1" -v f="$2" 'NR == 1 { sub(/^# /, ""); for (i = 1; i <= NF; i++) col[$i] = i; next }
                                      $1 == fe && $2 == "FRONTEND" { print $col[f] + 0 }'
}

# keepalive NAME SECONDS: paced requests on KA_CONNS open connections; prints "median_us p99_us n".
keepalive() {
    total=$((KA_CONNS * KA_RPS * $2))
    before=$(counter keepalive conn_tot)
    rm -f "$tmp/$1.ka"
    OPENSSL_CONF=$DEFAULT_CNF timeout $(($2 * 3 + 20)) h2load --h1 -c "$KA_CONNS" -t 1 \
        --rps "$KA_RPS" -n "$total" --log-file "$tmp/$1.ka" "https://127.0.0.1:$p_ka/" \
        >"$tmp/$1.ka.out" 2>&1 || die "keep-alive h2load $1 exited $?: $(tail -n 3 "$tmp/$1.ka.out")"
    conns=$(($(counter keepalive conn_tot) - before))
    [ "$conns" -eq "$KA_CONNS" ] || die "keep-alive $1: $conns connections for $KA_CONNS clients"
    # The first request of each connection waited for its handshake: leave those out.
    lat=$(sort -n "$tmp/$1.ka" | awk -v skip="$KA_CONNS" 'NR > skip && $2 == 200 { print $3 }')
    bad=$(awk '$2 != 200' "$tmp/$1.ka" | wc -l)
    [ "$bad" -eq 0 ] || die "keep-alive $1: $bad failed requests"
    echo "$(echo "$lat" | median) $(echo "$lat" | quantile 0.99) $(echo "$lat" | wc -l)"
}

# idle_workers: CPU ns and wake-ups of HAProxy's uringprov-N threads over IDLE seconds of no load.
idle_workers() {
    sleep 0.5
    w0=$(threads_ns "$hpid" | awk '{ print $1 }')
    c0=$(worker_wakeups "$hpid")
    sleep "$IDLE"
    w1=$(threads_ns "$hpid" | awk '{ print $1 }')
    c1=$(worker_wakeups "$hpid")
    nw=$(for t in /proc/"$hpid"/task/*; do cat "$t/comm"; done 2>/dev/null | grep -c '^uringprov-' || true)
    echo "$nw $((w1 - w0)) $((c1 - c0))"
}

printf 'rep\tcert\tcfg\thandshakes_per_s\tka_median_us\tka_p99_us\tka_n\tserver_cpu_us_per_hs\tclient_cpu_us_per_hs\tworker_cpu_share\tloop_wait_pct\n' \
    >"$OUT/tls.tsv"
printf 'cert\tcfg\tka_median_us\tka_p99_us\tka_n\n' >"$OUT/tls_nostorm.tsv"
printf 'cert\tworkers\tidle_s\tworker_cpu_ns\tworker_wakeups\n' >"$OUT/tls_idle.tsv"
printf 'rep\tcert\tcfg\tstats\n' >"$OUT/tls_proof.tsv"

total=$((REPS * $(for cert in $CERTS; do configs_for "$cert"; done | wc -w)))
n=0
rep=1
while [ "$rep" -le "$REPS" ]; do
    for cert in $CERTS; do
        for cfg in $(configs_for "$cert"); do
            n=$((n + 1))
            start_haproxy "$cfg" "$cert"
            if [ "$rep" -eq 1 ]; then
                # shellcheck disable=SC2046
                set -- $(keepalive "$cfg-$cert-quiet" 2)
                printf '%s\t%s\t%s\t%s\t%s\n' "$cert" "$cfg" "$1" "$2" "$3" >>"$OUT/tls_nostorm.tsv"
                progress "tls: $cert $cfg, no storm: keep-alive median ${1} us, p99 ${2} us ($3 requests)"
            fi
            OPENSSL_CONF=$DEFAULT_CNF taskset -c "$CLIENT_CPU" h2load --h1 -c "$CLIENTS" -t 1 \
                -n 1000000 "https://127.0.0.1:$p_storm/" >"$tmp/storm.out" 2>&1 &
            spid=$!
            pids="$pids $spid"
            sleep "$WARM"
            kill -0 "$spid" 2>/dev/null || die "storm h2load exited: $(tail -n 3 "$tmp/storm.out")"
            hs0=$(counter storm ssl_sess)
            t0=$(date +%s.%N)
            srv0=$(threads_ns "$hpid")
            lw0=$(loop_wait_ns "$hpid")
            cli0=$(proc_ns "$spid")
            ppid=""
            if [ "${BENCH_TLS_PERF:-0}" = 1 ] && [ "$rep" -eq 1 ]; then
                mkdir -p "$OUT/perf"
                perf record -q -g -F 2000 -o "$OUT/perf/tls-$cert-$cfg.data" -p "$hpid" \
                    -- sleep "$WINDOW" >/dev/null 2>&1 &
                ppid=$!
            fi
            # shellcheck disable=SC2046
            set -- $(keepalive "$cfg-$cert-$rep" "$WINDOW")
            ka_med=$1 ka_p99=$2 ka_n=$3
            [ -z "$ppid" ] || wait "$ppid" || true
            hs1=$(counter storm ssl_sess)
            t1=$(date +%s.%N)
            srv1=$(threads_ns "$hpid")
            lw1=$(loop_wait_ns "$hpid")
            cli1=$(proc_ns "$spid")
            kill "$spid" 2>/dev/null || true
            wait "$spid" 2>/dev/null || true
            failed=$(counter storm ssl_failed_handshake)
            row=$(echo "$hs0 $hs1 $t0 $t1 $srv0 $srv1 $cli0 $cli1 $lw0 $lw1" | awk '{
                hs = $2 - $1; dt = $4 - $3;
                srv = $8 - $6; wrk = $7 - $5; cli = $10 - $9; lw = $12 - $11;
                printf "%.0f %.0f %.0f %.2f %.1f", hs / dt, hs ? srv / hs / 1e3 : 0,
                       hs ? cli / hs / 1e3 : 0, srv ? wrk / srv : 0, lw / dt / 1e7 }')
            # shellcheck disable=SC2086
            set -- $row
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$cert" "$cfg" "$1" \
                "$ka_med" "$ka_p99" "$ka_n" "$2" "$3" "$4" "$5" >>"$OUT/tls.tsv"
            progress "tls [$n/$total] rep $rep $cert $cfg: $1 handshakes/s," \
                "keep-alive median $ka_med us p99 $ka_p99 us; server ${2} us CPU/handshake" \
                "(workers $4 of it), storm client ${3} us CPU/handshake, HAProxy's thread waited for a" \
                "CPU ${5} % of the time, failed handshakes $failed"
            if [ "$cfg" = async1 ] && [ "$rep" -eq 1 ]; then
                # shellcheck disable=SC2046
                set -- $(idle_workers)
                printf '%s\t%s\t%s\t%s\t%s\n' "$cert" "$1" "$IDLE" "$2" "$3" >>"$OUT/tls_idle.tsv"
                progress "tls: $cert async1, idle ${IDLE}s after the storm: $1 workers used $2 ns CPU," \
                    "$3 context switches"
            fi
            stop_haproxy
            if [ "${cfg#async1}" != "$cfg" ]; then
                s=$(grep ' stats: ' "$tmp/uo.log" 2>/dev/null | tail -n 1 | sed 's/.* stats: //')
                printf '%s\t%s\t%s\t%s\n' "$rep" "$cert" "$cfg" "${s:-no stats line (not unloaded)}" \
                    >>"$OUT/tls_proof.tsv"
                [ -z "$s" ] || progress "tls: uringprov in haproxy: $s"
            fi
        done
    done
    rep=$((rep + 1))
done

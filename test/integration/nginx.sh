#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# nginx.sh - Debian's nginx (no async mode in its TLS code) with uringprov preferred through
# OPENSSL_CONF, serving an RSA-2048 certificate on one port and an ECDSA P-256 one on another.
#
# nginx loads openssl.cnf in its master, which then forks the workers that do the handshakes: this
# covers uringprov across fork. The master runs in the foreground (`daemon off`, master_process on)
# with two workers, which inherit the provider and its debug log from the master; `env` lines keep
# OPENSSL_CONF, OPENSSL_MODULES and URINGPROV_DEBUG in their environment as a deployment would.
# `keepalive_timeout 0` makes every request a new connection, and with no session tickets (and
# nginx's default of no session cache) each one is a full handshake: h2load would otherwise resume
# its sessions, and a resumed handshake signs nothing. The access log records $ssl_session_reused
# to prove it.
#
# Two runs:
#   - sample: openssl.cnf.sample as shipped (sync_mode = inline). nginx runs no ASYNC job, so the
#     workers compute on their own thread through uringprov: the "stats:" line each worker logs at
#     exit must show inline >= its handshakes;
#   - offload: the sample plus `sync_mode = offload`: each worker starts its own uringprov threads
#     after the fork and blocks on them; the workers' stats lines must show offloaded >= handshakes.
# In both, curl gets the answer over TLS 1.3 and 1.2 from both ports (certificate verified), h2load
# makes 500 requests at 16 concurrent with 0 failed and 500 full handshakes in the access log, and
# the stats lines come from the workers' pids (nginx's error log names them), with no fallback. SIGQUIT stops nginx gracefully, so that
# every process unloads uringprov and logs its line.
#
# Ports are loopback ports that /proc/net/tcp shows free (retried if the bind loses a race);
# readiness is the listening socket. The EXIT trap stops only the pids it started; logs are printed
# and kept on failure. Exit 77 (skip) only when a tool is missing (`make deps` installs nginx,
# nghttp2-client (h2load) and curl), or when nginx runs on another OpenSSL than the one under test
# (test/lib.sh's same_openssl: Debian's nginx under 4.0; under 3.5 it runs on 3.5's libraries, and
# is tested). BUILD names the build directory. Never export a variable named
# NGINX: nginx reads it as inherited listening sockets.
set -eu

cd "$(dirname "$0")/../.."
. test/lib.sh
REQUESTS=${REQUESTS:-500}

require -m "make deps installs nginx, nghttp2-client, curl" \
    nginx h2load curl openssl od awk grep sed ldd
same_openssl nginx
work_dir nginx
# nginx workers run as an unprivileged user: they write the debug log and read nothing else here.
chmod 755 "$tmp"
cd "$tmp"

# fail MESSAGE...: as the lib's, naming the run (sample or offload) in progress.
fail() {
    echo "FAIL: ${mode:+$mode: }$*"
    exit 1
}

make_certs
sample_with sample.cnf
sample_with offload.cnf "sync_mode = offload"

write_conf() {
    mkdir -p "$tmp/$mode"
    cat >"$mode.conf" <<EOF
worker_processes 2;
daemon off;
pid $tmp/$mode/nginx.pid;
error_log $tmp/$mode-error.log notice;

# Workers keep only the environment variables named here.
env OPENSSL_CONF;
env OPENSSL_MODULES;
env URINGPROV_DEBUG;

events {
    worker_connections 1024;
}

http {
    log_format tls "tls \$server_port reused=\$ssl_session_reused \$ssl_protocol \$status";
    access_log $tmp/$mode-access.log tls;
    client_body_temp_path $tmp/$mode/body;
    proxy_temp_path $tmp/$mode/proxy;
    fastcgi_temp_path $tmp/$mode/fastcgi;
    uwsgi_temp_path $tmp/$mode/uwsgi;
    scgi_temp_path $tmp/$mode/scgi;
    # one TLS handshake per request
    keepalive_timeout 0;
    # nginx 1.22's default leaves TLS 1.3 out
    ssl_protocols TLSv1.2 TLSv1.3;
    # every handshake a full one
    ssl_session_tickets off;

    server {
        listen 127.0.0.1:$rsa_port ssl;
        ssl_certificate $tmp/rsa.crt;
        ssl_certificate_key $tmp/rsa.key;
        location / {
            return 200 "hello from nginx";
        }
    }

    server {
        listen 127.0.0.1:$ec_port ssl;
        ssl_certificate $tmp/ec.crt;
        ssl_certificate_key $tmp/ec.key;
        location / {
            return 200 "hello from nginx";
        }
    }
}
EOF
}

# get NAME PORT KIND TLS-VERSION [CURL-ARGS]: one request, with certificate and host name verified.
get() {
    name=$mode-$1
    shift
    curl_check "hello from nginx" "$name" "$@"
}

# run MODE COUNTER: one nginx on MODE.cnf; COUNTER (inline or offloaded) must cover the handshakes.
run() {
    mode=$1 counter=$2
    tries=0
    while :; do
        rsa_port=$(pick_port)
        ec_port=$(pick_port)
        [ "$rsa_port" != "$ec_port" ] || continue
        write_conf
        : >"$mode-uo.log"
        chmod 666 "$mode-uo.log"
        OPENSSL_MODULES=$BUILD OPENSSL_CONF=$tmp/$mode.cnf \
            URINGPROV_DEBUG="file:$tmp/$mode-uo.log,level:2" \
            nginx -p "$tmp/$mode" -c "$tmp/$mode.conf" -e "$tmp/$mode-error.log" >"$mode.out" 2>&1 &
        mpid=$!
        pids="$pids $mpid"
        wait_listening nginx "$mpid" "$rsa_port" "$ec_port" && break
        tries=$((tries + 1))
        if ! grep -q 'Address already in use' "$mode-error.log" "$mode.out" || [ "$tries" -ge 5 ]; then
            fail "nginx exited at start"
        fi
    done
    grep -q "^[0-9:.]* \[$mpid\] .*loaded uringprov" "$mode-uo.log" \
        || fail "the nginx master did not load uringprov"

    get curl-rsa-tls13 "$rsa_port" rsa TLSv1.3 --tlsv1.3
    get curl-rsa-tls12 "$rsa_port" rsa TLSv1.2 --tlsv1.2 --tls-max 1.2
    get curl-ec-tls13 "$ec_port" ec TLSv1.3 --tlsv1.3
    get curl-ec-tls12 "$ec_port" ec TLSv1.2 --tlsv1.2 --tls-max 1.2
    h2load_check "$mode-h2load" "$rsa_port" "$REQUESTS" 16
    kill -0 "$mpid" 2>/dev/null || fail "nginx died"
    full=$(grep -c "^tls $rsa_port reused=\. TLSv1\.3 200\$" "$mode-access.log" || true)
    [ "$full" -ge "$REQUESTS" ] || fail "nginx logged $full full handshakes for $REQUESTS requests"

    kill -QUIT "$mpid"
    wait_exit "$mpid" 30 || fail "nginx exited $? on SIGQUIT"
    workers=$(sed -n 's/.*start worker process \([0-9]*\)$/\1/p' "$mode-error.log")
    [ -n "$workers" ] || fail "no worker pid in the error log"
    grep -q -e '\[alert\]' -e '\[emerg\]' -e 'exited on signal' "$mode-error.log" \
        && fail "nginx logged an alert: $(grep -e '\[alert\]' -e '\[emerg\]' -e 'exited on signal' "$mode-error.log" | head -n 3)"

    # Sum the workers' stats lines; each worker that handshook must have its own.
    total=0 fallbacks=0 lines=""
    for w in $workers; do
        stats=$(stats_line "$mode-uo.log" "$w")
        [ -n "$stats" ] || continue
        v=$(stat_of "$counter" "$stats")
        f=$(stat_of fallbacks "$stats")
        total=$((total + v))
        fallbacks=$((fallbacks + f))
        lines="$lines
  worker $w: ${stats#* stats: }"
    done
    [ -n "$lines" ] || fail "no stats line from any worker ($workers): the workers did not use uringprov"
    echo "ok: $mode: curl TLS 1.3/1.2 on RSA and ECDSA; h2load $(grep '^finished in' "$mode-h2load.out"), $full full handshakes$lines"
    hs=$((REQUESTS + 2))
    [ "$total" -ge "$hs" ] || fail "the workers' $counter counters add up to $total, expected >= $hs"
    [ "$fallbacks" -eq 0 ] || fail "$fallbacks fallbacks"
    if [ "$counter" = offloaded ]; then
        # The workers started their own uringprov threads, after the fork.
        for w in $workers; do
            [ "$(statval offloaded "$mode-uo.log" "$w")" = 0 ] && continue
            grep -q "^[0-9:.]* \[$w\] .*started [0-9]* of [0-9]* workers" "$mode-uo.log" \
                || fail "worker $w offloaded without starting its own threads"
        done
    fi
    mode=
}

run sample inline
run offload offloaded
echo "PASS: nginx"

#!/bin/sh
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
# and kept on failure. Exit 77 (skip) only when a tool is missing: `make deps` installs nginx,
# nghttp2-client (h2load) and curl. BUILD names the build directory. Never export a variable named
# NGINX: nginx reads it as inherited listening sockets.
set -eu

cd "$(dirname "$0")/../.."
root=$PWD
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$root/$BUILD ;; esac
REQUESTS=${REQUESTS:-500}

for tool in nginx h2load curl openssl od awk grep sed; do
    command -v "$tool" >/dev/null 2>&1 \
        || { echo "SKIP: $tool not found (make deps installs nginx, nghttp2-client, curl)"; exit 77; }
done
[ -f "$BUILD/uringprov.so" ] || { echo "FAIL: $BUILD/uringprov.so not built"; exit 1; }

tmp=$(mktemp -d /tmp/uo-nginx.XXXXXX)
# nginx workers run as an unprivileged user: they write the debug log and read nothing else here.
chmod 755 "$tmp"
pids=""
on_exit() {
    rc=$?
    for p in $pids; do
        kill "$p" 2>/dev/null || true
    done
    if [ "$rc" -ne 0 ]; then
        for f in "$tmp"/*.out "$tmp"/*.log; do
            [ -f "$f" ] || continue
            echo "---- $f (last 30 lines)"
            tail -n 30 "$f"
        done
        echo "logs kept in $tmp"
    else
        rm -rf "$tmp"
    fi
    exit "$rc"
}
trap on_exit EXIT
trap 'exit 1' INT TERM HUP
cd "$tmp"

fail() {
    echo "FAIL: ${mode:+$mode: }$*"
    exit 1
}

# forget PID: PID has exited and been waited for; the EXIT trap must not signal its number again.
forget() {
    pids=$(echo " $pids " | sed "s/ $1 / /")
}

wait_exit() {
    n=0
    while kill -0 "$1" 2>/dev/null; do
        n=$((n + 1))
        [ "$n" -le 600 ] || fail "process $1 did not exit"
        sleep 0.05
    done
    wait "$1"
}

pick_port() {
    while :; do
        p=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 12000))
        grep -q -i ":$(printf '%04X' "$p") " /proc/net/tcp /proc/net/tcp6 2>/dev/null || break
    done
    echo "$p"
}

listening() {
    grep -q -i "0100007F:$(printf '%04X' "$1") 00000000:0000 0A" /proc/net/tcp
}

for kind in rsa ec; do
    if [ "$kind" = rsa ]; then alg="-newkey rsa:2048"; else alg="-newkey ec -pkeyopt ec_paramgen_curve:P-256"; fi
    # shellcheck disable=SC2086
    OPENSSL_CONF=/dev/null openssl req -x509 $alg -nodes -keyout "$kind.key" -out "$kind.crt" \
        -subj "/O=uringprov-test-$kind/CN=localhost" -addext subjectAltName=DNS:localhost -days 2 \
        >>certs.out 2>&1 || fail "cannot make the $kind certificate"
done
cat rsa.crt ec.crt >ca.crt

cp "$root/openssl.cnf.sample" sample.cnf
sed '/^\[uringprov_sect\]/a sync_mode = offload' sample.cnf >offload.cnf
grep -q '^sync_mode = offload' offload.cnf || fail "could not write offload.cnf"

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

get() {
    name=$mode-$1 port=$2 kind=$3 version=$4
    shift 4
    curl -sS -v --max-time 20 --cacert ca.crt --resolve "localhost:$port:127.0.0.1" "$@" \
        "https://localhost:$port/" >"$name.body" 2>"$name.out" || fail "curl $name exited $?"
    [ "$(cat "$name.body")" = "hello from nginx" ] || fail "curl $name: unexpected body"
    grep -q "SSL connection using $version" "$name.out" || fail "curl $name: not $version"
    grep -q "subject: O=uringprov-test-$kind" "$name.out" || fail "curl $name: not the $kind certificate"
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
        n=0
        while kill -0 "$mpid" 2>/dev/null && ! { listening "$rsa_port" && listening "$ec_port"; }; do
            n=$((n + 1))
            [ "$n" -le 400 ] || fail "nginx is not listening after 20 s"
            sleep 0.05
        done
        kill -0 "$mpid" 2>/dev/null && break
        wait "$mpid" || true
        forget "$mpid"
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
    timeout 300 h2load --h1 -n "$REQUESTS" -c 16 -t 1 "https://127.0.0.1:$rsa_port/" \
        >"$mode-h2load.out" 2>&1 || fail "h2load exited $?"
    grep -q "^requests: $REQUESTS total, $REQUESTS started, $REQUESTS done, $REQUESTS succeeded, 0 failed, 0 errored" \
        "$mode-h2load.out" || fail "h2load: $(grep '^requests:' "$mode-h2load.out")"
    kill -0 "$mpid" 2>/dev/null || fail "nginx died"
    full=$(grep -c "^tls $rsa_port reused=\. TLSv1\.3 200\$" "$mode-access.log" || true)
    [ "$full" -ge "$REQUESTS" ] || fail "nginx logged $full full handshakes for $REQUESTS requests"

    kill -QUIT "$mpid"
    wait_exit "$mpid" || fail "nginx exited $? on SIGQUIT"
    forget "$mpid"
    workers=$(sed -n 's/.*start worker process \([0-9]*\)$/\1/p' "$mode-error.log")
    [ -n "$workers" ] || fail "no worker pid in the error log"
    grep -q -e '\[alert\]' -e '\[emerg\]' -e 'exited on signal' "$mode-error.log" \
        && fail "nginx logged an alert: $(grep -e '\[alert\]' -e '\[emerg\]' -e 'exited on signal' "$mode-error.log" | head -n 3)"

    # Sum the workers' stats lines; each worker that handshook must have its own.
    total=0 fallbacks=0 lines=""
    for w in $workers; do
        stats=$(grep "^[0-9:.]* \[$w\] .* stats: " "$mode-uo.log" | tail -n 1 || true)
        [ -n "$stats" ] || continue
        v=$(echo "$stats" | tr ' ' '\n' | sed -n "s/^$counter=//p")
        f=$(echo "$stats" | tr ' ' '\n' | sed -n 's/^fallbacks=//p')
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
            grep "^[0-9:.]* \[$w\] .* stats: " "$mode-uo.log" | grep -q ' offloaded=0 ' && continue
            grep -q "^[0-9:.]* \[$w\] .*started [0-9]* of [0-9]* workers" "$mode-uo.log" \
                || fail "worker $w offloaded without starting its own threads"
        done
    fi
    mode=
}

run sample inline
run offload offloaded
echo "PASS: nginx"

#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# haproxy.sh - Debian's HAProxy with `ssl-mode-async`, uringprov preferred through OPENSSL_CONF
# (openssl.cnf.sample), serving an RSA-2048 certificate on one port and an ECDSA P-256 one on another.
#
# HAProxy learns uringprov's eventfd through SSL_get_changed_async_fds after SSL_ERROR_WANT_ASYNC,
# polls it, and turns async mode off once the handshake is done: the handshake is what this tests.
# `option httpclose` closes every connection after its response, so each h2load request is a new
# connection (h2load --h1 would otherwise reuse connections), and with no session cache and no
# tickets each connection is a full handshake (h2load would otherwise resume its sessions, and a
# resumed handshake signs nothing). HAProxy logs ssl_fc_is_resumed for every request to prove it.
#
# Checks:
#   - `haproxy -vv` under the same environment lists uringprov among the loaded providers;
#   - curl gets the answer over TLS 1.3 and TLS 1.2 from both ports, verifying the certificate,
#     and each port serves the certificate it should;
#   - h2load makes 2000 requests at 64 concurrent on each port, with 0 failed, and HAProxy's log
#     shows 2000 new, unresumed TLS sessions for them;
#   - uringprov's debug log (level 2) shows one "registered eventfd" line per handshake that paused,
#     from HAProxy's process: at least one per request on the RSA port (and on the ECDSA port once
#     uringprov serves ECDSA). HAProxy exits on SIGUSR1 after its connections end; when uringprov
#     unloads it logs its "stats:" line, which then must show offloaded >= those handshakes and no
#     fallback.
#
# Servers bind loopback ports that /proc/net/tcp shows free (retried if the bind loses a race);
# readiness is the listening socket plus a successful request. The EXIT trap stops only the pids it
# started; logs are printed and kept on failure. Exit 77 (skip) only when a tool is missing (`make
# deps` installs haproxy, nghttp2-client (h2load) and curl), or when haproxy runs on another OpenSSL
# than the one under test (test/lib.sh's same_openssl: Debian's haproxy under 4.0; under 3.5 it runs
# on 3.5's libraries, and is tested). BUILD names the build directory.
set -eu

cd "$(dirname "$0")/../.."
. test/lib.sh
REQUESTS=${REQUESTS:-2000}

require -m "make deps installs haproxy, nghttp2-client, curl" \
    haproxy h2load curl openssl od awk grep sed ldd
same_openssl haproxy
work_dir haproxy
cd "$tmp"

# Certificates: made here with the default provider alone; HAProxy wants each in one file with its key.
make_certs
for kind in rsa ec; do
    cat "$kind.crt" "$kind.key" >"$kind.pem"
done

ec_served=0
serves_ecdsa && ec_served=1

# Only HAProxy gets uringprov ($sample): curl and h2load run on the system's configuration. The
# configuration is read through OPENSSL_CONF by libssl's initialisation: uringprov must be among the
# providers that HAProxy reports.
OPENSSL_MODULES=$BUILD OPENSSL_CONF=$sample haproxy -vv >vv.out 2>&1 || fail "haproxy -vv exited $?"
grep -q '^OpenSSL providers loaded :.*uringprov' vv.out \
    || fail "haproxy does not list uringprov: $(grep 'providers loaded' vv.out)"

write_cfg() {
    cat >haproxy.cfg <<EOF
global
    ssl-mode-async
    nbthread 2
    maxconn 1024
    log stderr format raw local0 info
    # every handshake a full one: no session cache, no tickets
    tune.ssl.cachesize 0
    ssl-default-bind-options no-tls-tickets

defaults
    mode http
    log global
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    # one TLS handshake per request
    option httpclose
    log-format "tls %f resumed=%[ssl_fc_is_resumed] %[ssl_fc_protocol] %[ssl_fc_cipher] %ST"

frontend rsa
    bind 127.0.0.1:$rsa_port ssl crt $tmp/rsa.pem alpn http/1.1
    http-request return status 200 content-type text/plain string "hello from haproxy"

frontend ecdsa
    bind 127.0.0.1:$ec_port ssl crt $tmp/ec.pem alpn http/1.1
    http-request return status 200 content-type text/plain string "hello from haproxy"
EOF
}

tries=0
while :; do
    rsa_port=$(pick_port)
    ec_port=$(pick_port)
    [ "$rsa_port" != "$ec_port" ] || continue
    write_cfg
    haproxy -c -f haproxy.cfg >check.out 2>&1 || fail "haproxy -c rejects the configuration"
    : >uo.log
    OPENSSL_MODULES=$BUILD OPENSSL_CONF=$sample URINGPROV_DEBUG="file:$tmp/uo.log,level:2" \
        haproxy -db -f haproxy.cfg >haproxy.out 2>&1 &
    hpid=$!
    pids="$pids $hpid"
    wait_listening haproxy "$hpid" "$rsa_port" "$ec_port" && break
    tries=$((tries + 1))
    if ! grep -q -i 'cannot bind' haproxy.out || [ "$tries" -ge 5 ]; then
        fail "haproxy exited at start"
    fi
done
grep -q 'loaded uringprov' uo.log || fail "haproxy did not load uringprov"
echo "haproxy $hpid listening on 127.0.0.1:$rsa_port (RSA-2048) and 127.0.0.1:$ec_port (ECDSA P-256)"

# get NAME PORT KIND TLS-VERSION [CURL-ARGS]: one request, with certificate and host name verified.
get() {
    curl_check "hello from haproxy" "$@"
    echo "ok: $1: $(sed -n 's/^\* SSL connection using //p' "$1.out")"
}

get curl-rsa-tls13 "$rsa_port" rsa TLSv1.3 --tlsv1.3
get curl-rsa-tls12 "$rsa_port" rsa TLSv1.2 --tlsv1.2 --tls-max 1.2
get curl-ec-tls13 "$ec_port" ec TLSv1.3 --tlsv1.3
get curl-ec-tls12 "$ec_port" ec TLSv1.2 --tlsv1.2 --tls-max 1.2
rsa_hs=2
ec_hs=2

# registrations: the "registered eventfd" lines so far; only HAProxy's threads write uo.log.
registrations() {
    grep -c "registered eventfd" uo.log || true
}
[ "$(registrations)" -ge 2 ] || fail "the curl handshakes registered no eventfd"

# full FRONTEND: the requests that HAProxy logged on FRONTEND over a new (unresumed) TLS session.
full() {
    grep -c "^tls $1 resumed=0 .* 200\$" haproxy.out || true
}

# load NAME PORT FRONTEND: h2load, REQUESTS new connections at 64 concurrent, none may fail, and
# each a full handshake.
load() {
    name=$1 port=$2 fe=$3
    before=$(registrations)
    full_before=$(full "$fe")
    start=$(date +%s.%N)
    h2load_check "$name" "$port" "$REQUESTS" 64
    end=$(date +%s.%N)
    kill -0 "$hpid" 2>/dev/null || fail "haproxy died during h2load $name"
    regs=$(($(registrations) - before))
    n=0
    while [ $(($(full "$fe") - full_before)) -lt "$REQUESTS" ]; do
        n=$((n + 1))
        [ "$n" -le 100 ] || fail "h2load $name: HAProxy logged $(($(full "$fe") - full_before)) full handshakes for $REQUESTS requests"
        sleep 0.05
    done
    echo "ok: $name: $(grep '^finished in' "$name.out"); $(sed -n 's/^TLS Protocol: //p' "$name.out")" \
        "$(sed -n 's/^Cipher: //p' "$name.out"); $REQUESTS full handshakes, $regs registered uringprov's eventfd;" \
        "$(awk -v s="$start" -v e="$end" -v n="$REQUESTS" 'BEGIN { printf "%.0f handshakes/s", n / (e - s) }')"
}

load h2load-rsa "$rsa_port" rsa
[ "$regs" -ge "$REQUESTS" ] || fail "h2load-rsa: $regs eventfd registrations for $REQUESTS handshakes"
rsa_hs=$((rsa_hs + REQUESTS))
load h2load-ecdsa "$ec_port" ecdsa
if [ "$ec_served" -eq 1 ]; then
    [ "$regs" -ge "$REQUESTS" ] || fail "h2load-ecdsa: $regs eventfd registrations for $REQUESTS handshakes"
fi
ec_hs=$((ec_hs + REQUESTS))

# Soft stop: HAProxy exits once its connections are closed.
kill -USR1 "$hpid"
wait_exit "$hpid" 30 || fail "haproxy exited $? on SIGUSR1"
grep -q -e 'FATAL' -e 'BUG' haproxy.out && fail "haproxy reported a bug condition"
stats=$(stats_line uo.log)
if [ -n "$stats" ]; then
    val() { stat_of "$1" "$stats"; }
    want=$rsa_hs
    [ "$ec_served" -eq 1 ] && want=$((rsa_hs + ec_hs))
    echo "uringprov in haproxy: ${stats#* stats: }"
    [ "$(val offloaded)" -ge "$want" ] || fail "offloaded=$(val offloaded), expected at least $want"
    [ "$(val fallbacks)" -eq 0 ] || fail "fallbacks=$(val fallbacks): operations ran inline"
else
    echo "note: haproxy exited without unloading uringprov: no stats line; the eventfd registrations are the proof"
fi
echo "PASS: haproxy (uringprov serves ECDSA: $ec_served)"

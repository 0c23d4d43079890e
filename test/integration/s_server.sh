#!/bin/sh
# s_server.sh - `openssl s_server -async` with uringprov preferred through openssl.cnf.sample, driven
# by `openssl s_client -async` and `openssl s_time`.
#
# The server holds an RSA-2048 certificate and an ECDSA P-256 one (-dcert). Clients pick one with
# -sigalgs: TLS 1.3 with RSA-PSS, TLS 1.2 with PKCS#1 v1.5, TLS 1.2 static RSA (the server decrypts),
# and ECDSA in both versions; each must verify the server and get its line through. s_time then makes
# as many new connections as it can in two short runs (TLS 1.2 ECDHE-RSA, then TLS 1.3 with the
# ECDSA certificate). Last, one client and the server exchange a line each way, and "Q" on the
# server's stdin stops it cleanly, so that uringprov unloads and logs its "stats:" line (level 1):
# offloaded must cover every RSA handshake (and every handshake once uringprov serves ECDSA), with
# pauses and no fallback.
#
# s_server reads commands from stdin, and ends at EOF: its stdin is a FIFO held open here. It is not
# run with -www: its www mode sleeps a second whenever a read would block, which an async handshake
# always makes it do.
#
# Exit 77 (skip) only when a tool is missing. Run from anywhere; BUILD names the build directory.
set -eu

cd "$(dirname "$0")/../.."
root=$PWD
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$root/$BUILD ;; esac

for tool in openssl timeout mkfifo awk grep sed; do
    command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool not found"; exit 77; }
done
[ -f "$BUILD/uringprov.so" ] || { echo "FAIL: $BUILD/uringprov.so not built"; exit 1; }

tmp=$(mktemp -d /tmp/uo-s_server.XXXXXX)
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
    echo "FAIL: $*"
    exit 1
}

# forget PID: PID has exited and been waited for; the EXIT trap must not signal its number again.
forget() {
    pids=$(echo " $pids " | sed "s/ $1 / /")
}

# wait_for FILE PATTERN [PID]: until FILE has a line matching PATTERN; fails after 20 s, or at once
# if PID has exited.
wait_for() {
    n=0
    until grep -q -e "$2" "$1" 2>/dev/null; do
        [ -z "${3:-}" ] || kill -0 "$3" 2>/dev/null || fail "process $3 exited before '$2' in $1"
        n=$((n + 1))
        [ "$n" -le 400 ] || fail "no '$2' in $1 after 20 s"
        sleep 0.05
    done
}

# wait_exit PID: until PID exits (20 s at most); returns its status.
wait_exit() {
    n=0
    while kill -0 "$1" 2>/dev/null; do
        n=$((n + 1))
        [ "$n" -le 400 ] || fail "process $1 did not exit"
        sleep 0.05
    done
    wait "$1"
}

# Certificates: made here, self-signed, with the default provider alone.
OPENSSL_CONF=/dev/null openssl req -x509 -newkey rsa:2048 -nodes -keyout rsa.key -out rsa.crt \
    -subj /CN=localhost -days 2 >certs.out 2>&1 || fail "cannot make the RSA certificate"
OPENSSL_CONF=/dev/null openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout ec.key -out ec.crt -subj /CN=localhost -days 2 >>certs.out 2>&1 \
    || fail "cannot make the ECDSA certificate"
cat rsa.crt ec.crt >ca.crt

# Does uringprov serve ECDSA yet? Then the ECDSA handshakes count as well.
ec_served=0
OPENSSL_MODULES=$BUILD OPENSSL_CONF=/dev/null openssl list -signature-algorithms -provider uringprov \
    2>/dev/null | grep -q 'ECDSA.*@ uringprov' && ec_served=1

export OPENSSL_MODULES="$BUILD" OPENSSL_CONF="$root/openssl.cnf.sample"

mkfifo server.in client.in
exec 3<>server.in 5<>client.in
URINGPROV_DEBUG="file:$tmp/server.uo.log,level:1" \
    openssl s_server -async -accept 127.0.0.1:0 -cert rsa.crt -key rsa.key -dcert ec.crt \
    -dkey ec.key <&3 >server.out 2>&1 &
spid=$!
pids="$pids $spid"
wait_for server.out '^ACCEPT 127\.0\.0\.1:' "$spid"
port=$(sed -n 's/^ACCEPT 127\.0\.0\.1:\([0-9]*\)$/\1/p' server.out | head -n 1)
[ -n "$port" ] || fail "no port in server.out"
grep -q 'loaded uringprov' server.uo.log || fail "s_server did not load uringprov"

# client NAME 'EXPECTED LINES|...' S_CLIENT-ARGS...: one connection that sends "ping NAME"; its
# -brief output must hold every expected line, and the server must print the ping.
rsa_conns=0
ec_conns=0
client() {
    name=$1 expect=$2
    shift 2
    echo "ping $name" | timeout 20 openssl s_client -connect "127.0.0.1:$port" -async -brief \
        -CAfile ca.crt -verify_return_error "$@" >"$name.out" 2>&1 \
        || fail "s_client $name exited $? ($(tr '\n' ' ' <"$name.out"))"
    rest=$expect
    while [ -n "$rest" ]; do
        line=${rest%%|*}
        case $rest in *"|"*) rest=${rest#*|} ;; *) rest= ;; esac
        grep -q -F -e "$line" "$name.out" || fail "s_client $name: no '$line' in its output"
    done
    wait_for server.out "^ping $name\$" "$spid"
    echo "ok: $name: $(grep -E '^(Protocol version|Ciphersuite|Signature type):' "$name.out" \
        | sed 's/^[^:]*: //' | tr '\n' ' ')"
}

client tls13-rsa-pss 'Protocol version: TLSv1.3|Signature type: RSA-PSS|Verification: OK' \
    -tls1_3 -sigalgs rsa_pss_rsae_sha256:rsa_pss_rsae_sha384
client tls12-rsa-pkcs1 'Protocol version: TLSv1.2|Signature type: RSA|Verification: OK' \
    -tls1_2 -sigalgs RSA+SHA256
client tls12-static-rsa 'Protocol version: TLSv1.2|Ciphersuite: AES128-GCM-SHA256' \
    -tls1_2 -cipher AES128-GCM-SHA256
client tls13-ecdsa 'Protocol version: TLSv1.3|Signature type: ECDSA|Verification: OK' \
    -tls1_3 -sigalgs ecdsa_secp256r1_sha256
client tls12-ecdsa 'Protocol version: TLSv1.2|Signature type: ECDSA|Verification: OK' \
    -tls1_2 -sigalgs ECDSA+SHA256
rsa_conns=3
ec_conns=2

# s_time: new connections only, as many as fit in 2 s. s_time has no -sigalgs: the TLS 1.2 ECDHE-RSA
# cipher picks the RSA certificate, and TLS 1.3 gets the ECDSA one (the first in s_time's sigalgs).
stime() {
    name=$1
    shift
    timeout 60 openssl s_time -connect "127.0.0.1:$port" -new -time 2 "$@" >"$name.out" 2>&1 \
        || fail "s_time $name exited $?"
    n=$(sed -n 's/^\([0-9][0-9]*\) connections in [0-9]* real seconds.*/\1/p' "$name.out")
    [ "${n:-0}" -gt 0 ] || fail "s_time $name made no connection"
    kill -0 "$spid" 2>/dev/null || fail "s_server died during s_time $name"
    echo "ok: $name: $(grep 'real seconds' "$name.out")"
}
stime s_time-tls12-rsa -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256
rsa_conns=$((rsa_conns + n))
stime s_time-tls13
ec_conns=$((ec_conns + n))

# Data both ways on one connection, then "Q" stops the server cleanly.
timeout 60 openssl s_client -connect "127.0.0.1:$port" -async -CAfile ca.crt -verify_return_error \
    -tls1_3 -sigalgs rsa_pss_rsae_sha256 <&5 >final.out 2>&1 &
cpid=$!
pids="$pids $cpid"
rsa_conns=$((rsa_conns + 1))
echo "ping from the client" >&5
wait_for server.out '^ping from the client$' "$spid"
echo "pong from the server" >&3
wait_for final.out '^pong from the server$' "$cpid"
echo Q >&3
wait_exit "$spid" || fail "s_server exited $? after Q"
forget "$spid"
exec 5>&-
wait_exit "$cpid" || true
forget "$cpid"
echo "ok: data both ways, s_server stopped by Q"

stats=$(grep ' stats: ' server.uo.log | tail -n 1)
[ -n "$stats" ] || fail "no stats line in the server's uringprov log: it did not unload cleanly"
val() { echo "$stats" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
offloaded=$(val offloaded) pauses=$(val pauses) fallbacks=$(val fallbacks)
want=$rsa_conns
[ "$ec_served" -eq 1 ] && want=$((rsa_conns + ec_conns))
echo "s_server: $rsa_conns RSA and $ec_conns ECDSA handshakes (uringprov serves ECDSA: $ec_served);" \
    "uringprov $stats" | sed 's/uringprov [0-9:.]* \[[0-9]*\] uringprov L1 [^ ]* [^ ]* stats: /uringprov: /'
[ "$offloaded" -ge "$want" ] || fail "offloaded=$offloaded, expected at least $want"
[ "$pauses" -ge "$want" ] || fail "pauses=$pauses: the handshakes did not pause"
[ "$fallbacks" -eq 0 ] || fail "fallbacks=$fallbacks: operations ran inline"
echo "PASS: s_server"

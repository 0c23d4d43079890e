#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# s_server.sh - `openssl s_server -async` with uringprov preferred through openssl.cnf.sample, driven
# by `openssl s_client -async` and `openssl s_time`.
#
# The server holds an RSA-2048 certificate and an ECDSA P-256 one (-dcert). Clients pick one with
# -sigalgs: TLS 1.3 with RSA-PSS, TLS 1.2 with PKCS#1 v1.5, TLS 1.2 static RSA (the server decrypts),
# and ECDSA in both versions; each must verify the server and get its line through, and report the
# handshake as the same s_client run reports it against a server on the default provider alone
# (OpenSSL words it differently between versions: 3.0's "Signature type: RSA-PSS" is
# "rsa_pss_rsae_sha256" from 3.5 on). s_time then makes
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
. test/lib.sh

require openssl timeout mkfifo awk grep sed
work_dir s_server
cd "$tmp"

# Certificates: made here, self-signed, with the default provider alone.
make_certs

# Does uringprov serve ECDSA yet? Then the ECDSA handshakes count as well.
ec_served=0
serves_ecdsa && ec_served=1

mkfifo server.in client.in ref.in
exec 3<>server.in 4<>ref.in 5<>client.in

# The reference: the same server on the default provider alone.
OPENSSL_CONF=/dev/null openssl s_server -async -accept 127.0.0.1:0 -cert rsa.crt -key rsa.key \
    -dcert ec.crt -dkey ec.key <&4 >ref-server.out 2>&1 &
rpid=$!
pids="$pids $rpid"
s_server_port ref-server.out "$rpid"
ref_port=$port

export OPENSSL_MODULES="$BUILD" OPENSSL_CONF="$sample"

URINGPROV_DEBUG="file:$tmp/server.uo.log,level:1" \
    openssl s_server -async -accept 127.0.0.1:0 -cert rsa.crt -key rsa.key -dcert ec.crt \
    -dkey ec.key <&3 >server.out 2>&1 &
spid=$!
pids="$pids $spid"
s_server_port server.out "$spid"
grep -q 'loaded uringprov' server.uo.log || fail "s_server did not load uringprov"

# one_client NAME PORT SERVER-OUT SERVER-PID S_CLIENT-ARGS...: one connection that sends
# "ping NAME", which the server must print. (sh has no local variables: client() keeps its own.)
one_client() {
    oc_name=$1 oc_port=$2 oc_out=$3 oc_pid=$4
    shift 4
    echo "ping $oc_name" | timeout 20 openssl s_client -connect "127.0.0.1:$oc_port" -async -brief \
        -CAfile ca.crt -verify_return_error "$@" >"$oc_name.out" 2>&1 \
        || fail "s_client $oc_name exited $? ($(tr '\n' ' ' <"$oc_name.out"))"
    wait_for "$oc_out" "^ping $oc_name\$" "$oc_pid"
}

# client NAME 'EXPECTED LINES|...' S_CLIENT-ARGS...: one_client against uringprov's server, whose
# -brief output must hold every expected line, and describe the handshake (certificate, hash,
# signature type) in the words the same client uses against the reference server.
rsa_conns=0
ec_conns=0
client() {
    name=$1 expect=$2
    shift 2
    one_client "$name-ref" "$ref_port" ref-server.out "$rpid" "$@"
    one_client "$name" "$port" server.out "$spid" "$@"
    rest=$expect
    while [ -n "$rest" ]; do
        line=${rest%%|*}
        case $rest in *"|"*) rest=${rest#*|} ;; *) rest= ;; esac
        grep -q -F -e "$line" "$name.out" || fail "s_client $name: no '$line' in its output"
    done
    for field in 'Protocol version' Ciphersuite 'Peer certificate' 'Hash used' 'Signature type' \
                 Verification; do
        got=$(grep "^$field:" "$name.out" || true)
        want=$(grep "^$field:" "$name-ref.out" || true)
        [ "$got" = "$want" ] || fail "s_client $name: '$got', where the default provider's" \
            "server gives '$want'"
    done
    echo "ok: $name: $(grep -E '^(Protocol version|Ciphersuite|Signature type):' "$name.out" \
        | sed 's/^[^:]*: //' | tr '\n' ' ')"
}

# The signature each client allows is the one it must get: -sigalgs leaves the server no choice.
client tls13-rsa-pss 'Protocol version: TLSv1.3|Verification: OK' \
    -tls1_3 -sigalgs rsa_pss_rsae_sha256:rsa_pss_rsae_sha384
client tls12-rsa-pkcs1 'Protocol version: TLSv1.2|Verification: OK' \
    -tls1_2 -sigalgs RSA+SHA256
client tls12-static-rsa 'Protocol version: TLSv1.2|Ciphersuite: AES128-GCM-SHA256|Verification: OK' \
    -tls1_2 -cipher AES128-GCM-SHA256
client tls13-ecdsa 'Protocol version: TLSv1.3|Verification: OK' \
    -tls1_3 -sigalgs ecdsa_secp256r1_sha256
client tls12-ecdsa 'Protocol version: TLSv1.2|Verification: OK' \
    -tls1_2 -sigalgs ECDSA+SHA256
rsa_conns=3
ec_conns=2
# The reference server is done. (It reads "Q" only during a connection: it is stopped instead.)
kill "$rpid"
wait_exit "$rpid" || true
exec 4>&-

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
exec 5>&-
wait_exit "$cpid" || true
echo "ok: data both ways, s_server stopped by Q"

stats=$(stats_line server.uo.log)
[ -n "$stats" ] || fail "no stats line in the server's uringprov log: it did not unload cleanly"
offloaded=$(stat_of offloaded "$stats") pauses=$(stat_of pauses "$stats")
fallbacks=$(stat_of fallbacks "$stats")
want=$rsa_conns
[ "$ec_served" -eq 1 ] && want=$((rsa_conns + ec_conns))
echo "s_server: $rsa_conns RSA and $ec_conns ECDSA handshakes (uringprov serves ECDSA: $ec_served);" \
    "uringprov $stats" | sed 's/uringprov [0-9:.]* \[[0-9]*\] uringprov L1 [^ ]* [^ ]* stats: /uringprov: /'
[ "$offloaded" -ge "$want" ] || fail "offloaded=$offloaded, expected at least $want"
[ "$pauses" -ge "$want" ] || fail "pauses=$pauses: the handshakes did not pause"
[ "$fallbacks" -eq 0 ] || fail "fallbacks=$fallbacks: operations ran inline"
echo "PASS: s_server"

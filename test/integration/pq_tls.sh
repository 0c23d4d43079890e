#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# pq_tls.sh - OpenSSL 3.5 and later: post-quantum TLS 1.3 through uringprov, configured by
# openssl.cnf.sample alone.
#
# `openssl req -x509 -newkey ML-DSA-65` makes the server's certificate through uringprov (its key
# must be uringprov's: the debug log counts the key generation and the signature). Then an
# `openssl s_server -async` with that certificate serves clients that run on the default provider
# alone, each with one key-share group: the default (X25519MLKEM768), SecP256r1MLKEM768,
# SecP384r1MLKEM1024 and pure MLKEM768. Each handshake must agree, field by field, with the same
# client against the same server on the default provider alone. One client runs through uringprov
# as well, in ASYNC mode: its key generation and decapsulation must be offloaded.
#
# The server's own work per handshake is the ML-DSA signature and the encapsulation, which holds
# both halves of a hybrid key share (ML-KEM and the elliptic-curve key). Its counters, logged when
# "Q" stops it, must show exactly two offloaded operations per handshake, with pauses, nothing run
# inline and no fallback: had the ML-KEM half (or the whole KEM) stayed in the default provider,
# the count would differ.
#
# First, openssl speed -async_jobs with ML-KEM-768 and ML-DSA-44 through the sample configuration.
#
# Exit 77 (skip) when the OpenSSL under test has no ML-KEM (3.0 to 3.4) or a tool is missing.
set -eu

cd "$(dirname "$0")/../.."
. test/lib.sh

require openssl timeout mkfifo awk grep sed
OPENSSL_CONF=/dev/null openssl list -kem-algorithms 2>/dev/null | grep -q 'ML-KEM-768' || {
    echo "SKIP: $(openssl version) has no ML-KEM (OpenSSL 3.5 and later)"
    exit 77
}
work_dir pq_tls
cd "$tmp"

# The certificate, made through uringprov; checked with the default provider alone.
last=req
uo_run "$sample" req.log 1 openssl req -x509 -newkey ML-DSA-65 -nodes -keyout pq.key -out pq.crt \
    -subj "/O=uringprov-test-pq/CN=localhost" -addext subjectAltName=DNS:localhost -days 2 \
    >req.out 2>&1 || fail "openssl req -newkey ML-DSA-65 exited $?"
OPENSSL_CONF=/dev/null openssl verify -CAfile pq.crt pq.crt >>req.out 2>&1 || fail "verify failed"
OPENSSL_CONF=/dev/null openssl x509 -in pq.crt -noout -text >>req.out 2>&1
grep -q 'Public Key Algorithm: ML-DSA-65' req.out || fail "the certificate's key is not ML-DSA-65"
stats=$(stats_line req.log)
[ -n "$stats" ] || fail "no stats line: uringprov did not serve openssl req"
ran=$(( $(stat_of offloaded "$stats") + $(stat_of inline "$stats") ))
[ "$ran" -ge 2 ] || fail "uringprov ran $ran operations for req; expected the keygen and the signature"
echo "ok: req -x509 -newkey ML-DSA-65 through uringprov ($ran operations)"
last=""

# Servers accept the hybrid and pure ML-KEM groups that their defaults leave out.
groups=X25519MLKEM768:SecP256r1MLKEM768:SecP384r1MLKEM1024:MLKEM768:x25519
# openssl speed -async_jobs through uringprov: one ML-KEM and one ML-DSA context each encapsulate,
# decapsulate, sign and verify again and again, in jobs. speed exits 0 even when an operation fails,
# so each of the six operations (keygen, encaps, decaps; keygen, sign, verify) must have its -mr
# count line, "+R<n>:<count>:<algorithm>:<seconds>" (the +F summary tags differ between versions),
# with a count above zero, and no error.
last=speed
uo_run "$sample" speed.log 1 timeout 120 openssl speed -mr -elapsed -seconds 1 -async_jobs 4 \
    ML-KEM-768 ML-DSA-44 </dev/null >speed.out 2>&1 || fail "openssl speed exited $?"
grep -i 'error\|failure' speed.out && fail "openssl speed reported errors"
counts=$(awk -F: '$1 ~ /^\+R[0-9]+$/ && ($3 == "ML-KEM-768" || $3 == "ML-DSA-44") && $2 > 0 { n++ }
                  END { print n + 0 }' speed.out)
[ "$counts" -eq 6 ] || fail "openssl speed: $counts of the 6 operations counted any"
stats=$(stats_line speed.log)
[ "$(stat_of offloaded "$stats")" -gt 0 ] || fail "openssl speed offloaded nothing: $stats"
[ "$(stat_of pauses "$stats")" -ge "$(stat_of offloaded "$stats")" ] ||
    fail "openssl speed: its jobs did not pause for every offloaded operation"
echo "ok: openssl speed -async_jobs 4 ML-KEM-768 ML-DSA-44: $(echo "$stats" | sed 's/.* stats: //' |
    cut -d ' ' -f 1-4)"
last=""

mkfifo server.in ref.in
exec 3<>server.in 4<>ref.in

# The reference: the same server on the default provider alone.
OPENSSL_CONF=/dev/null openssl s_server -async -accept 127.0.0.1:0 -cert pq.crt -key pq.key \
    -groups "$groups" <&4 >ref-server.out 2>&1 &
rpid=$!
pids="$pids $rpid"
s_server_port ref-server.out "$rpid"
ref_port=$port

uo_run "$sample" server.log 1 openssl s_server -async -accept 127.0.0.1:0 -cert pq.crt \
    -key pq.key -groups "$groups" <&3 >server.out 2>&1 &
spid=$!
pids="$pids $spid"
s_server_port server.out "$spid"
grep -q 'loaded uringprov' server.log || fail "s_server did not load uringprov"

# one_client NAME PORT SERVER-OUT SERVER-PID S_CLIENT-ARGS...: a client on the default provider
# alone that sends "ping NAME", which the server must print.
one_client() {
    oc_name=$1 oc_port=$2 oc_out=$3 oc_pid=$4
    shift 4
    echo "ping $oc_name" | OPENSSL_CONF=/dev/null timeout 20 openssl s_client \
        -connect "127.0.0.1:$oc_port" -brief -CAfile pq.crt -verify_return_error "$@" \
        >"$oc_name.out" 2>&1 || fail "s_client $oc_name exited $? ($(tr '\n' ' ' <"$oc_name.out"))"
    wait_for "$oc_out" "^ping $oc_name\$" "$oc_pid"
}

# client NAME GROUP: one handshake with GROUP as the only key share, against both servers; the
# negotiated group must be GROUP, and every field the reference's.
handshakes=0
client() {
    name=$1 group=$2
    one_client "$name-ref" "$ref_port" ref-server.out "$rpid" -groups "$group"
    one_client "$name" "$port" server.out "$spid" -groups "$group"
    grep -i 'group' "$name.out" | grep -q -F -e "$group" || fail "s_client $name: not $group"
    grep -q '^Verification: OK' "$name.out" || fail "s_client $name: not verified"
    for field in 'Protocol version' Ciphersuite 'Peer certificate' 'Signature type' \
                 'Negotiated TLS1.3 group' Verification; do
        got=$(grep "^$field:" "$name.out" || true)
        want=$(grep "^$field:" "$name-ref.out" || true)
        [ "$got" = "$want" ] || fail "s_client $name: '$got', where the default provider's" \
            "server gives '$want'"
    done
    handshakes=$((handshakes + 1))
    echo "ok: $name: $(grep -E '^(Protocol version|Signature type|Negotiated TLS1.3 group):' \
        "$name.out" | sed 's/^[^:]*: //' | tr '\n' ' ')"
}
client x25519mlkem768 X25519MLKEM768
client p256mlkem768 SecP256r1MLKEM768
client p384mlkem1024 SecP384r1MLKEM1024
client mlkem768 MLKEM768
kill "$rpid"
wait_exit "$rpid" || true
exec 4>&-

# A client through uringprov too, in ASYNC mode: its key pair and its decapsulation are offloaded.
# It holds the last connection, during which "Q" stops the server (s_server reads its stdin only
# while it serves a connection), so that uringprov unloads there and logs its counters.
last=uo-client
mkfifo client.in
exec 5<>client.in
uo_run "$sample" uo-client.log 1 timeout 60 openssl s_client -async -connect "127.0.0.1:$port" \
    -brief -CAfile pq.crt -verify_return_error -groups X25519MLKEM768 <&5 >uo-client.out 2>&1 &
cpid=$!
pids="$pids $cpid"
echo "ping uo-client" >&5
wait_for server.out '^ping uo-client$' "$spid"
handshakes=$((handshakes + 1))
echo Q >&3
wait_exit "$spid" || fail "s_server exited $? after Q"
exec 3>&-
exec 5>&-
wait_exit "$cpid" || true
cstats=$(stats_line uo-client.log)
[ -n "$cstats" ] || fail "no stats line in the client's log"
[ "$(stat_of offloaded "$cstats")" -ge 2 ] ||
    fail "client: offloaded=$(stat_of offloaded "$cstats"), expected its keygen and decapsulation"
[ "$(stat_of pauses "$cstats")" -ge 2 ] || fail "client: its operations did not pause"
echo "ok: s_client -async through uringprov: $(echo "$cstats" | sed 's/.* stats: //')"
last=""

stats=$(stats_line server.log)
[ -n "$stats" ] || fail "no stats line in the server's uringprov log: it did not unload cleanly"
offloaded=$(stat_of offloaded "$stats") pauses=$(stat_of pauses "$stats")
inline=$(stat_of inline "$stats") fallbacks=$(stat_of fallbacks "$stats")
echo "s_server: $handshakes handshakes; uringprov: $(echo "$stats" | sed 's/.* stats: //')"
[ "$offloaded" -eq $((2 * handshakes)) ] ||
    fail "offloaded=$offloaded: expected $((2 * handshakes)), a signature and an encapsulation" \
        "per handshake"
[ "$pauses" -ge "$offloaded" ] || fail "pauses=$pauses: the handshakes did not all pause"
[ "$inline" -eq 0 ] || fail "inline=$inline: the server ran work on its event loop"
[ "$fallbacks" -eq 0 ] || fail "fallbacks=$fallbacks"
echo "PASS: pq_tls"

#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# secrets.sh - uringprov's debug log, at its highest level, never holds key material.
#
# With URINGPROV_DEBUG=file:...,level:9 and `sync_mode = offload` (so that the CLI's private-key
# work goes through requests and workers, as in a server), the stock openssl CLI, routed through
# uringprov by openssl.cnf.sample, generates RSA-2048, EC P-256 and X25519 keys, signs (PKCS#1,
# PSS, ECDSA, digest-sign), decrypts (OAEP and PKCS#1 v1.5), derives (X25519 and ECDH), and runs
# a TLS handshake against `s_server -async` (the server's private-key operations in ASYNC jobs).
# Every process must have offloaded work (its "stats:" line), so the log is not empty by accident.
#
# Then the log is searched for every secret: the RSA private exponent and CRT values, the EC and
# X25519 private keys, the decrypted plaintexts and the shared secrets. Any 8-byte window of any of
# them is looked for as lower- and upper-case hex, colon-separated hex (as `openssl pkey -text`
# prints it), base64 at each of the three byte alignments, and raw bytes. The search is checked
# first: a copy of the log with a secret planted in each encoding must be caught.
#
# Exit 77 (skip) only when a tool is missing. Run from anywhere; BUILD names the build directory.
set -eu

cd "$(dirname "$0")/../.."
. test/lib.sh

require openssl od awk grep sed tr head cmp mkfifo timeout
work_dir secrets
cd "$tmp"

sample_with offload.cnf "sync_mode = offload"
LOG=$tmp/uo.log
export OPENSSL_MODULES="$BUILD" OPENSSL_CONF="$tmp/offload.cnf" URINGPROV_DEBUG="file:$LOG,level:9"

# uo NAME ARGS...: `openssl ARGS` through uringprov; it must exit 0 and have offloaded something.
procs=0
uo() {
    last=$1
    shift
    before=$(grep -c ' stats: ' "$LOG" 2>/dev/null || true)
    openssl "$@" >"$last.out" 2>&1 </dev/null || fail "openssl $* exited $?"
    after=$(grep -c ' stats: ' "$LOG" 2>/dev/null || true)
    [ "$after" -gt "${before:-0}" ] || fail "no stats line: uringprov was not loaded"
    [ "$(statval offloaded "$LOG")" -gt 0 ] || fail "nothing offloaded: $(stats_line "$LOG")"
    procs=$((procs + 1))
}

# ---- the work --------------------------------------------------------------------------------
uo keygen-rsa genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.pem
uo keygen-ec genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.pem
uo keygen-ec2 genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec2.pem
uo keygen-x1 genpkey -algorithm X25519 -out x1.pem
uo keygen-x2 genpkey -algorithm X25519 -out x2.pem
OPENSSL_CONF=/dev/null openssl pkey -in ec2.pem -pubout -out ec2.pub
OPENSSL_CONF=/dev/null openssl pkey -in x2.pem -pubout -out x2.pub
OPENSSL_CONF=/dev/null openssl pkey -in rsa.pem -pubout -out rsa.pub

head -c 32 /dev/urandom >dgst
head -c 1000 /dev/urandom >msg
uo sign-pkcs1 pkeyutl -sign -inkey rsa.pem -in dgst -out sig1 -pkeyopt digest:sha256
uo sign-pss pkeyutl -sign -inkey rsa.pem -in dgst -out sig2 -pkeyopt digest:sha256 \
    -pkeyopt rsa_padding_mode:pss
uo sign-ecdsa pkeyutl -sign -inkey ec.pem -in dgst -out sig3
uo digest-sign dgst -sha256 -sign rsa.pem -out sig4 msg

head -c 48 /dev/urandom >pt-oaep
head -c 40 /dev/urandom >pt-pkcs1
OPENSSL_CONF=/dev/null openssl pkeyutl -encrypt -pubin -inkey rsa.pub -in pt-oaep -out ct-oaep \
    -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256
OPENSSL_CONF=/dev/null openssl pkeyutl -encrypt -pubin -inkey rsa.pub -in pt-pkcs1 -out ct-pkcs1
uo decrypt-oaep pkeyutl -decrypt -inkey rsa.pem -in ct-oaep -out dec-oaep \
    -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256
uo decrypt-pkcs1 pkeyutl -decrypt -inkey rsa.pem -in ct-pkcs1 -out dec-pkcs1
cmp -s pt-oaep dec-oaep || fail "OAEP decryption gave the wrong plaintext"
cmp -s pt-pkcs1 dec-pkcs1 || fail "PKCS#1 decryption gave the wrong plaintext"

uo derive-x25519 pkeyutl -derive -inkey x1.pem -peerkey x2.pub -out ss-x25519
uo derive-ecdh pkeyutl -derive -inkey ec.pem -peerkey ec2.pub -out ss-ecdh

# A TLS handshake: the server signs (and, in TLS 1.2 static RSA, decrypts) in ASYNC jobs.
uo cert req -x509 -new -key rsa.pem -subj /CN=localhost -days 2 -out rsa.crt
# -naccept 2: it exits (and unloads uringprov, which logs its stats) after the two clients. Its
# stdin is a FIFO held open here, since s_server ends at EOF on stdin.
mkfifo server.in
exec 3<>server.in
last=s_server
openssl s_server -async -naccept 2 -accept 127.0.0.1:0 -cert rsa.crt -key rsa.pem <&3 \
    >s_server.out 2>&1 &
spid=$!
pids="$pids $spid"
s_server_port s_server.out "$spid"
last=tls13
echo ping | OPENSSL_CONF=/dev/null timeout 20 openssl s_client -connect "127.0.0.1:$port" -brief \
    -tls1_3 -CAfile rsa.crt >tls13.out 2>&1 || fail "s_client exited $?"
last=tls12-static-rsa
echo ping | OPENSSL_CONF=/dev/null timeout 20 openssl s_client -connect "127.0.0.1:$port" -brief \
    -tls1_2 -cipher AES128-GCM-SHA256 -CAfile rsa.crt >tls12-static-rsa.out 2>&1 \
    || fail "s_client exited $?"
last=s_server
wait_exit "$spid" || true
[ "$(statval pauses "$LOG")" -gt 0 ] || fail "s_server never paused a job: $(stats_line "$LOG")"
procs=$((procs + 1))
last=""

# ---- the secrets, as hex ---------------------------------------------------------------------
# field FILE NAME: the value `openssl pkey -text` prints under "NAME:", as plain lower-case hex,
# without the sign byte it adds.
field() {
    OPENSSL_CONF=/dev/null openssl pkey -in "$1" -text -noout | awk -v want="$2:" '
        $0 ~ /^[^ ]/ { on = ($1 == want) ; next }
        on { gsub(/[ :]/, ""); printf "%s", $0 }' | sed 's/^\(00\)*//'
}
filehex() {
    od -An -v -tx1 "$1" | tr -d ' \n'
}

: >secrets.hex
for f in privateExponent prime1 prime2 exponent1 exponent2 coefficient; do
    field rsa.pem "$f" >>secrets.hex
    echo >>secrets.hex
done
for k in ec.pem ec2.pem x1.pem x2.pem; do
    field "$k" priv >>secrets.hex
    echo >>secrets.hex
done
for f in pt-oaep pt-pkcs1 ss-x25519 ss-ecdh; do
    filehex "$f" >>secrets.hex
    echo >>secrets.hex
done
nsecrets=$(grep -c '^[0-9a-f]\{32,\}$' secrets.hex)
[ "$nsecrets" -eq 14 ] || fail "expected 14 secrets of 16+ bytes, got $nsecrets"

# ---- the search ------------------------------------------------------------------------------
# Every 8-byte window of every secret, in each text encoding; raw bytes are found by searching a
# hex dump of the log for the windows in hex.
awk '
function b64(hex,    i, n, v, out, c) {
    out = ""
    for (i = 1; i + 5 <= length(hex) + 1; i += 6) {
        if (i + 5 > length(hex))
            break
        v = 0
        for (n = 0; n < 6; n++)
            v = v * 16 + index("0123456789abcdef", substr(hex, i + n, 1)) - 1
        for (n = 18; n >= 0; n -= 6) {
            c = int(v / 2 ^ n) % 64
            out = out substr(B, c + 1, 1)
        }
    }
    return out
}
BEGIN { B = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/" }
/^[0-9a-f]+$/ {
    h = $0
    for (i = 1; i + 15 <= length(h); i += 2) {
        w = substr(h, i, 16)
        print w > "win.hex"
        colon = substr(w, 1, 2)
        for (j = 3; j < 16; j += 2)
            colon = colon ":" substr(w, j, 2)
        print colon > "win.txt"
        print w > "win.txt"
    }
    for (off = 0; off < 3; off++) {
        e = b64(substr(h, 1 + 2 * off))
        for (i = 1; i + 11 <= length(e); i += 4)
            print substr(e, i, 12) > "win.b64"
    }
}' secrets.hex
if [ ! -s win.hex ] || [ ! -s win.txt ] || [ ! -s win.b64 ]; then fail "no search patterns"; fi

# found LOG: 0 when LOG holds any window of any secret.
found() {
    grep -q -i -F -f win.txt "$1" && return 0
    grep -q -F -f win.b64 "$1" && return 0
    od -An -v -tx1 "$1" | tr -d ' \n' >log.hex
    grep -q -F -f win.hex log.hex && return 0
    return 1
}

# The search itself, checked: each encoding of a secret planted in a copy of the log is caught.
d=$(sed -n 1p secrets.hex)
for plant in \
    "d=$(echo "$d" | cut -c 41-72)" \
    "D=$(echo "$d" | cut -c 41-72 | tr a-f A-F)" \
    "$(echo "$d" | cut -c 81-112 | sed 's/../&:/g; s/:$//')"; do
    cp "$LOG" planted.log
    echo "planted: $plant" >>planted.log
    found planted.log || fail "the search misses a planted secret: $plant"
done
# base64 at an odd alignment and raw bytes: planted from the b64 and hex windows themselves.
for w in "$(sed -n 7p win.b64)" "$(sed -n '$p' win.b64)"; do
    cp "$LOG" planted.log
    echo "planted base64: x${w}y" >>planted.log
    found planted.log || fail "the search misses planted base64 $w"
done
cp "$LOG" planted.log
head -c 24 pt-pkcs1 >>planted.log
found planted.log || fail "the search misses raw plaintext bytes"

lines=$(wc -l <"$LOG")
[ "$lines" -ge "$procs" ] || fail "the log has $lines lines for $procs processes"
if found "$LOG"; then
    grep -n -i -F -f win.txt "$LOG" | head -n 5 | cut -c 1-160 || true
    grep -n -F -f win.b64 "$LOG" | head -n 5 | cut -c 1-160 || true
    fail "the debug log holds key material ($LOG kept)"
fi
echo "ok: $procs processes, $lines log lines at level 9, $nsecrets secrets" \
     "($(wc -l <win.txt) hex, $(wc -l <win.b64) base64 windows): no key material in the log"

#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# ec_cli.sh - EC, X25519/X448 and Ed25519/Ed448 through the stock openssl CLI and openssl.cnf.sample.
#
# 1. `openssl speed -mr -elapsed -seconds 1 -async_jobs 8` on the nine EC algorithms, read from its
#    machine-readable lines (the human table's labels change between versions). Exit 0 proves
#    nothing (speed runs on the default provider if uringprov fails to load), so the debug log must
#    show that uringprov did the work: its "stats:" line, written when the provider unloads, must
#    count offloaded operations, each of which paused its job. OpenSSL 3.0's speed never frees its
#    ECDSA keys, so a run that includes ECDSA never unloads the provider and has no stats line; the
#    ECDSA algorithms then prove their offload by the log's per-job eventfd registrations (level 2,
#    one per ASYNC_WAIT_CTX that a request paused on), and the rest run again on their own to be
#    counted.
# 2. genpkey (EC P-256, X25519, Ed25519), pkey, pkeyutl -derive (compared with the default
#    provider's result), and two certificate chains (EC CA with an Ed25519 leaf, Ed25519 CA with an
#    EC leaf) made with req and x509 and checked with verify. Each command that uses a private key
#    must show it in uringprov's counters; the same steps with `sync_mode = offload` must offload.
#
# Exit 77 (skip) only when a tool is missing. Run from anywhere; BUILD names the build directory.
set -eu

cd "$(dirname "$0")/../.."
. test/lib.sh

require openssl timeout awk sed grep cmp
work_dir ec_cli

sample_with "$tmp/offload.cnf" "sync_mode = offload"

# uo NAME CONF LEVEL openssl-args...: runs openssl through uringprov with its debug log.
uo() {
    name=$1 conf=$2 level=$3
    shift 3
    uo_run "$conf" "$tmp/$name.log" "$level" timeout 300 openssl "$@" \
        >"$tmp/$name.out" 2>&1 </dev/null || fail "$name: openssl $* exited $?"
    grep -q ' loaded uringprov ' "$tmp/$name.log" 2>/dev/null \
        || fail "$name: uringprov was not loaded (no debug log line)"
}

# ref openssl-args...: the default provider alone, for comparison.
ref() {
    env OPENSSL_CONF=/dev/null openssl "$@"
}

# used NAME [offloaded]: the stats line counts at least one operation (offloaded ones if asked).
used() {
    log=$tmp/$1.log
    grep -q ' stats: ' "$log" || fail "$1: no stats line: uringprov never unloaded"
    off=$(statval offloaded "$log")
    inl=$(statval inline "$log")
    if [ "${2:-}" = offloaded ]; then
        [ "$off" -gt 0 ] || fail "$1: nothing offloaded (offloaded=$off inline=$inl)"
    else
        [ $((off + inl)) -gt 0 ] || fail "$1: uringprov ran nothing (offloaded=$off inline=$inl)"
    fi
}

# speed_result OUT KIND BITS NAME: the first rate (signs/s, or derives/s) that `openssl speed -mr`
# printed in OUT for the KIND (sign, derive) algorithm of BITS bits, which must be > 0. The human
# table's labels change between versions (4.0 prints "EC (prime256v1)" for ECDSA, "EC (Ed25519)" for
# EdDSA), and so does the numbering of the -mr lines: ECDSA is +F4:index:bits:sign:verify, EdDSA
# +F6:index:bits:name:sign:verify up to 3.x and +F4 in 4.0, ECDH +F5:index:bits:derive with indexes
# that 4.0 renumbered. What stays is the kind of line and the bits, which tell the nine algorithms
# here apart (ECDSA 256/384/521, EdDSA 253/456; ECDH 256/384/253/448).
speed_result() {
    out=$1 kind=$2 bits=$3 what=$4
    fig=$(awk -F: -v kind="$kind" -v bits="$bits" '
        kind == "sign" && $1 == "+F4" && $3 == bits { printf "%.1f\n", $4; exit }
        kind == "sign" && $1 == "+F6" && $3 == bits { printf "%.1f\n", $5; exit }
        kind == "derive" && $1 == "+F5" && $3 == bits { printf "%.1f\n", $4; exit }' "$out")
    [ -n "$fig" ] || fail "speed printed no -mr result for $what ($kind, $bits bits)"
    awk -v f="$fig" 'BEGIN { exit !(f + 0 > 0) }' || fail "speed's $what rate is not positive: $fig"
    echo "   $what: $fig/s"
}

# ---- 1. openssl speed ----------------------------------------------------------------------

algs="ecdsap256 ecdsap384 ecdsap521 ecdhp256 ecdhp384 ecdhx25519 ecdhx448 ed25519 ed448"
echo "-- openssl speed -mr -elapsed -seconds 1 -async_jobs 8 $algs"
# shellcheck disable=SC2086 # one argument per algorithm
uo speed_all "$sample" 2 speed -mr -elapsed -seconds 1 -async_jobs 8 $algs
for result in "sign 256 ECDSA-P-256" "sign 384 ECDSA-P-384" "sign 521 ECDSA-P-521" \
              "derive 256 ECDH-P-256" "derive 384 ECDH-P-384" "derive 253 X25519" \
              "derive 448 X448" "sign 253 Ed25519" "sign 456 Ed448"; do
    # shellcheck disable=SC2086 # kind, bits, name
    speed_result "$tmp/speed_all.out" $result
done
grep -q 'started [1-9][0-9]* of [0-9]* workers' "$tmp/speed_all.log" \
    || fail "speed_all: no worker was started: nothing was offloaded"
if grep -q ' stats: ' "$tmp/speed_all.log"; then
    used speed_all offloaded
else
    echo "   no stats line: openssl speed never frees its ECDSA keys, so uringprov stays loaded"
fi

# ECDSA alone: every job's wait ctx gets our eventfd when its first request pauses.
uo speed_ecdsa "$sample" 2 speed -mr -elapsed -seconds 1 -async_jobs 8 ecdsap256
speed_result "$tmp/speed_ecdsa.out" sign 256 ECDSA-P-256
fds=$(grep -c 'registered eventfd' "$tmp/speed_ecdsa.log" || true)
[ "$fds" -ge 8 ] || fail "speed_ecdsa: $fds job eventfds registered, want one per job (8)"
grep -q ' stats: ' "$tmp/speed_ecdsa.log" && used speed_ecdsa offloaded
echo "   ECDSA: $fds jobs paused on uringprov's eventfds"

# The others unload the provider: count their offloads.
uo speed_ecdh_eddsa "$sample" 1 speed -elapsed -seconds 1 -async_jobs 8 \
    ecdhp256 ecdhp384 ecdhx25519 ecdhx448 ed25519 ed448
used speed_ecdh_eddsa offloaded
off=$(statval offloaded "$tmp/speed_ecdh_eddsa.log")
pauses=$(statval pauses "$tmp/speed_ecdh_eddsa.log")
# Every request in a job pauses at least once; speed runs each measured operation in a job.
[ "$pauses" -ge "$off" ] || fail "speed_ecdh_eddsa: pauses=$pauses < offloaded=$off"
echo "   ECDH and EdDSA: offloaded=$off pauses=$pauses"

# ---- 2. keys, derive, certificates -----------------------------------------------------------

cd "$tmp"
echo "-- genpkey, pkey, pkeyutl -derive"
uo gen_ec "$sample" 1 genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.pem
used gen_ec
uo gen_x "$sample" 1 genpkey -algorithm X25519 -out x.pem
used gen_x
uo gen_ed "$sample" 1 genpkey -algorithm ED25519 -out ed.pem
used gen_ed
uo gen_x2 "$tmp/offload.cnf" 1 genpkey -algorithm X25519 -out x2.pem
used gen_x2 offloaded
uo gen_ec2 "$tmp/offload.cnf" 1 genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 \
    -pkeyopt ec_param_enc:named_curve -out ec2.pem
used gen_ec2 offloaded

for k in ec ec2 x x2 ed; do
    uo "pkey_$k" "$sample" 1 pkey -in "$k.pem" -pubout -out "$k.pub.pem"
    ref pkey -in "$k.pem" -pubout -out "$k.pub.ref"
    cmp -s "$k.pub.pem" "$k.pub.ref" || fail "pkey -pubout of $k.pem differs from the default's"
    uo "pkeytext_$k" "$sample" 1 pkey -in "$k.pem" -text -noout
    grep -q 'priv:' "$tmp/pkeytext_$k.out" || fail "pkey -text of $k.pem shows no private key"
done
grep -q 'ASN1 OID: prime256v1' "$tmp/pkeytext_ec.out" || fail "pkey -text: P-256 key lost its curve"

uo derive_x "$sample" 1 pkeyutl -derive -inkey x.pem -peerkey x2.pub.pem -out s_x.bin
used derive_x
uo derive_x_rev "$tmp/offload.cnf" 1 pkeyutl -derive -inkey x2.pem -peerkey x.pub.pem -out s_x2.bin
used derive_x_rev offloaded
ref pkeyutl -derive -inkey x.pem -peerkey x2.pub.pem -out s_x.ref
cmp -s s_x.bin s_x.ref || fail "X25519 secret differs from the default provider's"
cmp -s s_x.bin s_x2.bin || fail "X25519 secrets of both sides differ"
uo gen_ec3 "$sample" 1 genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec3.pem
ref pkey -in ec3.pem -pubout -out ec3.pub.pem
uo derive_ec "$tmp/offload.cnf" 1 pkeyutl -derive -inkey ec.pem -peerkey ec3.pub.pem -out s_ec.bin
used derive_ec offloaded
ref pkeyutl -derive -inkey ec3.pem -peerkey ec.pub.pem -out s_ec.ref
cmp -s s_ec.bin s_ec.ref || fail "ECDH P-256 secret differs from the default provider's"
[ "$(wc -c <s_ec.bin)" -eq 32 ] || fail "ECDH P-256 secret is not 32 bytes"

echo "-- certificate chains: EC CA with an Ed25519 leaf, Ed25519 CA with an EC leaf"
# The leaves' extensions come from a file of their own: without -extfile, 4.0's `x509 -req` reads
# them from the default section of the configuration in OPENSSL_CONF, which holds openssl_conf.
printf '%s\n' "basicConstraints = critical,CA:FALSE" "keyUsage = critical,digitalSignature" >leaf.ext
uo ca_ec "$sample" 1 req -x509 -new -key ec2.pem -subj /CN=uringprov-ec-ca -days 2 -sha384 \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
    -out ca_ec.pem
used ca_ec
uo csr_ed "$sample" 1 req -new -key ed.pem -subj /CN=uringprov-ed-leaf -out leaf_ed.csr
used csr_ed
uo sign_ed "$tmp/offload.cnf" 1 x509 -req -in leaf_ed.csr -CA ca_ec.pem -CAkey ec2.pem \
    -CAcreateserial -days 2 -sha384 -extfile leaf.ext -out leaf_ed.pem
used sign_ed offloaded
uo ca_ed "$tmp/offload.cnf" 1 req -x509 -new -key ed.pem -subj /CN=uringprov-ed-ca -days 2 \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
    -out ca_ed.pem
used ca_ed offloaded
uo csr_ec "$sample" 1 req -new -key ec.pem -subj /CN=uringprov-ec-leaf -out leaf_ec.csr
uo sign_ec "$sample" 1 x509 -req -in leaf_ec.csr -CA ca_ed.pem -CAkey ed.pem -CAcreateserial \
    -days 2 -extfile leaf.ext -out leaf_ec.pem
used sign_ec
for chain in "ca_ec.pem leaf_ed.pem" "ca_ed.pem leaf_ec.pem"; do
    # shellcheck disable=SC2086 # the CA and the leaf
    set -- $chain
    uo "verify_$2" "$sample" 1 verify -CAfile "$1" "$2"
    grep -q "^$2: OK" "$tmp/verify_$2.out" || fail "verify $2 against $1 through uringprov"
    ref verify -CAfile "$1" "$2" >"$tmp/verify_ref.out" 2>&1 \
        || fail "the default provider rejects $2 signed through uringprov"
done
ref x509 -in leaf_ed.pem -noout -text | grep -q 'Signature Algorithm: ecdsa-with-SHA384' \
    || fail "leaf_ed.pem is not signed with ECDSA SHA-384"
ref x509 -in leaf_ec.pem -noout -text | grep -q 'Signature Algorithm: ED25519' \
    || fail "leaf_ec.pem is not signed with Ed25519"
# A chain that must not verify: the EC leaf against the EC CA that did not sign it.
if env OPENSSL_MODULES="$BUILD" OPENSSL_CONF="$sample" openssl verify -CAfile ca_ec.pem \
       leaf_ec.pem >"$tmp/verify_bad.out" 2>&1; then
    fail "verify accepted a leaf against the wrong CA"
fi

echo "PASS: ec_cli"

#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# rsa_cli.sh - the stock openssl CLI does every RSA job through uringprov, and gets the default
# provider's answers.
#
# Each command runs through openssl.cnf.sample with two lines added to uringprov's section,
# `sync_mode = offload` and `offload = all`: the CLI runs no ASYNC job, so this sends every RSA
# operation, public ones included, to a worker, and the stats line that uringprov logs at unload
# proves that it did the work (offloaded >= the operations the command does). Exit 0 alone would
# prove nothing: the CLI silently runs on the default provider when uringprov does not load. Then
# the sample as shipped (sync_mode = inline) must run the private-key work on the caller's thread
# (inline >= 1, offloaded = 0). Results are cross-checked against the default provider alone
# (OPENSSL_CONF=/dev/null): deterministic outputs (PKCS#1 v1.5 and X9.31 signatures) must be
# byte-identical, and randomised ones (PSS, encryption) must verify or decrypt on the other side.
# Last, the provider loads with -provider-path/-provider, and `make install DESTDIR=` puts it under
# libcrypto's modulesdir.
#
# Exit 77 (skip) only when a tool is missing. Run from anywhere; BUILD names the build directory.
set -eu

cd "$(dirname "$0")/../.."
. test/lib.sh

require openssl make pkg-config cmp od dd awk sed
work_dir rsa_cli
cd "$tmp"

sample_with offload.cnf "sync_mode = offload" "offload = all"

# uo NAME CONF ARGS...: `openssl ARGS` through uringprov with CONF; output in NAME.out, the debug
# log (level 2) in NAME.log. Fails unless openssl exits 0 and uringprov logged its stats at unload.
uo() {
    last=$1 conf=$2
    shift 2
    rm -f "$last.log"
    uo_run "$conf" "$tmp/$last.log" 2 openssl "$@" >"$last.out" 2>&1 </dev/null \
        || fail "openssl $* exited $?"
    grep -q ' stats: ' "$last.log" 2>/dev/null || fail "no stats line: uringprov was not loaded"
}

# ref NAME ARGS...: `openssl ARGS` with the default provider alone.
ref() {
    last=$1
    shift
    OPENSSL_CONF=/dev/null openssl "$@" >"$last.out" 2>&1 </dev/null \
        || fail "openssl $* (default provider) exited $?"
}

# offloaded NAME MIN: at least MIN operations went to a worker, none fell back, none is still in
# flight at unload.
offloaded() {
    n=$(statval offloaded "$1.log")
    f=$(statval fallbacks "$1.log")
    i=$(statval inflight "$1.log")
    [ -n "$n" ] && [ "$n" -ge "$2" ] || fail "offloaded=$n, expected >= $2"
    [ "$f" = 0 ] || fail "fallbacks=$f, expected 0"
    [ "$i" = 0 ] || fail "inflight=$i at unload, expected 0"
    echo "ok - $1 (offloaded=$n)"
}

# inline NAME MIN: the sample's default: at least MIN operations ran inline, none on a worker.
inline() {
    n=$(statval inline "$1.log")
    o=$(statval offloaded "$1.log")
    [ -n "$n" ] && [ "$n" -ge "$2" ] || fail "inline=$n, expected >= $2"
    [ "$o" = 0 ] || fail "offloaded=$o, expected 0 with sync_mode = inline"
    echo "ok - $1 (inline=$n)"
}

has() {
    grep -q "$2" "$1.out" || fail "output lacks '$2'"
}

same() {
    cmp -s "$1" "$2" || fail "$1 and $2 differ"
}

# ---- key generation ----------------------------------------------------------------------------

uo genpkey offload.cnf genpkey -algorithm RSA -out key.pem
offloaded genpkey 1
uo genpkey3072 offload.cnf genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out key3072.pem
offloaded genpkey3072 1
uo genpkey3p offload.cnf genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
    -pkeyopt rsa_keygen_primes:3 -pkeyopt rsa_keygen_pubexp:65537 -out key3p.pem
offloaded genpkey3p 1
uo genpss offload.cnf genpkey -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048 -out keypss.pem
offloaded genpss 1
# The default provider must find every generated key valid and of the size asked for.
for k in key:2048 key3072:3072 key3p:2048 keypss:2048; do
    ref check-${k%%:*} pkey -in "${k%%:*}.pem" -check -noout -text
    has check-${k%%:*} "Key is valid"
    has check-${k%%:*} "(${k#*:} bit"
done
has check-key3p "3 primes"
ref pubout pkey -in key.pem -pubout -out pub.pem

# ---- pkeyutl: sign and verify ------------------------------------------------------------------

printf 'uringprov rsa_cli test message\n' >msg.txt
ref hash dgst -sha256 -binary -out hash.bin msg.txt

uo sign offload.cnf pkeyutl -sign -inkey key.pem -in hash.bin -out sig.bin -pkeyopt digest:sha256
offloaded sign 1
ref sign-ref pkeyutl -sign -inkey key.pem -in hash.bin -out sig-ref.bin -pkeyopt digest:sha256
same sig.bin sig-ref.bin

uo verify offload.cnf pkeyutl -verify -pubin -inkey pub.pem -in hash.bin -sigfile sig-ref.bin \
    -pkeyopt digest:sha256
has verify "Signature Verified Successfully"
offloaded verify 1
# A wrong signature must fail through uringprov too.
cp sig.bin sig-bad.bin
byte=$(od -An -tu1 -j100 -N1 sig.bin | tr -d ' ')
# shellcheck disable=SC2059
printf "\\$(printf %03o $(( (byte + 1) % 256 )))" | dd of=sig-bad.bin bs=1 seek=100 conv=notrunc \
    2>/dev/null
cmp -s sig.bin sig-bad.bin && fail "could not corrupt the signature"
last=verify-bad
if OPENSSL_MODULES=$BUILD OPENSSL_CONF=offload.cnf openssl pkeyutl -verify -pubin -inkey pub.pem \
       -in hash.bin -sigfile sig-bad.bin -pkeyopt digest:sha256 >verify-bad.out 2>&1; then
    fail "a corrupted signature verified"
fi
has verify-bad "Signature Verification Failure"
echo "ok - verify-bad"

uo sign-x931 offload.cnf pkeyutl -sign -inkey key.pem -in hash.bin -out sigx.bin \
    -pkeyopt digest:sha256 -pkeyopt rsa_padding_mode:x931
offloaded sign-x931 1
ref sign-x931-ref pkeyutl -sign -inkey key.pem -in hash.bin -out sigx-ref.bin \
    -pkeyopt digest:sha256 -pkeyopt rsa_padding_mode:x931
same sigx.bin sigx-ref.bin

pss="-pkeyopt digest:sha256 -pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:digest"
# shellcheck disable=SC2086
uo sign-pss offload.cnf pkeyutl -sign -inkey key.pem -in hash.bin -out sigp.bin $pss
offloaded sign-pss 1
# shellcheck disable=SC2086
ref verify-pss-ref pkeyutl -verify -pubin -inkey pub.pem -in hash.bin -sigfile sigp.bin $pss
has verify-pss-ref "Signature Verified Successfully"
# shellcheck disable=SC2086
ref sign-pss-ref pkeyutl -sign -inkey key.pem -in hash.bin -out sigp-ref.bin $pss
# shellcheck disable=SC2086
uo verify-pss offload.cnf pkeyutl -verify -pubin -inkey pub.pem -in hash.bin -sigfile sigp-ref.bin \
    $pss
has verify-pss "Signature Verified Successfully"
offloaded verify-pss 1

# ---- pkeyutl: encrypt and decrypt, PKCS#1 v1.5 and OAEP ---------------------------------------

printf 'secret for uringprov\n' >pt.txt
oaep="-pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha1"
oaep="$oaep -pkeyopt rsa_oaep_label:0123456789abcdef"
for pad in pkcs1 oaep; do
    opts=""
    [ "$pad" = oaep ] && opts=$oaep
    # shellcheck disable=SC2086
    uo encrypt-$pad offload.cnf pkeyutl -encrypt -pubin -inkey pub.pem -in pt.txt -out ct-$pad.bin \
        $opts
    offloaded encrypt-$pad 1
    # shellcheck disable=SC2086
    ref decrypt-$pad-ref pkeyutl -decrypt -inkey key.pem -in ct-$pad.bin -out pt-$pad-ref.txt $opts
    same pt.txt pt-$pad-ref.txt
    # shellcheck disable=SC2086
    ref encrypt-$pad-ref pkeyutl -encrypt -pubin -inkey pub.pem -in pt.txt -out ct-$pad-ref.bin \
        $opts
    # shellcheck disable=SC2086
    uo decrypt-$pad offload.cnf pkeyutl -decrypt -inkey key.pem -in ct-$pad-ref.bin \
        -out pt-$pad.txt $opts
    offloaded decrypt-$pad 1
    same pt.txt pt-$pad.txt
done

# ---- dgst -sign / -verify ----------------------------------------------------------------------

uo dgst-sign offload.cnf dgst -sha256 -sign key.pem -out dsig.bin msg.txt
offloaded dgst-sign 1
ref dgst-sign-ref dgst -sha256 -sign key.pem -out dsig-ref.bin msg.txt
same dsig.bin dsig-ref.bin
uo dgst-verify offload.cnf dgst -sha256 -verify pub.pem -signature dsig-ref.bin msg.txt
has dgst-verify "Verified OK"
offloaded dgst-verify 1
uo dgst-sign-pss offload.cnf dgst -sha384 -sign key.pem -sigopt rsa_padding_mode:pss \
    -sigopt rsa_pss_saltlen:max -out dsigp.bin msg.txt
offloaded dgst-sign-pss 1
ref dgst-verify-pss-ref dgst -sha384 -verify pub.pem -sigopt rsa_padding_mode:pss \
    -sigopt rsa_pss_saltlen:auto -signature dsigp.bin msg.txt
has dgst-verify-pss-ref "Verified OK"

# ---- req -x509, then verify and x509 -text -----------------------------------------------------

uo req offload.cnf req -x509 -newkey rsa:2048 -nodes -keyout req-key.pem -out cert.pem \
    -subj /CN=uringprov-rsa-cli -days 2
offloaded req 2  # the key generation and the self-signature
# -check_ss_sig: without it verify trusts a self-signed anchor without checking its signature.
uo verify-cert offload.cnf verify -check_ss_sig -CAfile cert.pem cert.pem
has verify-cert "cert.pem: OK"
offloaded verify-cert 1
ref verify-cert-ref verify -check_ss_sig -CAfile cert.pem cert.pem
has verify-cert-ref "cert.pem: OK"
uo x509-text offload.cnf x509 -in cert.pem -noout -text
has x509-text "Public-Key: (2048 bit)"
has x509-text "sha256WithRSAEncryption"
ref x509-text-ref x509 -in cert.pem -noout -text
same x509-text.out x509-text-ref.out
# The subject that req was given, in RFC 2253 form: -text's layout changed (3.0 prints
# "CN = name", later releases "CN=name"); this one did not.
uo x509-subject offload.cnf x509 -in cert.pem -noout -subject -nameopt RFC2253
has x509-subject "^subject=CN=uringprov-rsa-cli$"

# ---- the sample as shipped: private-key work inline on the caller's thread ---------------------

uo s-genpkey "$sample" genpkey -algorithm RSA -out s-key.pem
inline s-genpkey 1
ref s-check pkey -in s-key.pem -check -noout
has s-check "Key is valid"
uo s-sign "$sample" pkeyutl -sign -inkey key.pem -in hash.bin -out s-sig.bin -pkeyopt digest:sha256
inline s-sign 1
same s-sig.bin sig-ref.bin
uo s-decrypt "$sample" pkeyutl -decrypt -inkey key.pem -in ct-pkcs1-ref.bin -out s-pt.txt
inline s-decrypt 1
same pt.txt s-pt.txt
uo s-dgst "$sample" dgst -sha256 -sign key.pem -out s-dsig.bin msg.txt
inline s-dgst 1
same s-dsig.bin dsig-ref.bin
uo s-req "$sample" req -x509 -newkey rsa:2048 -nodes -keyout s-req-key.pem -out s-cert.pem \
    -subj /CN=uringprov-sample -days 2
inline s-req 2
ref s-verify verify -check_ss_sig -CAfile s-cert.pem s-cert.pem
has s-verify "s-cert.pem: OK"

# ---- loading from the command line -------------------------------------------------------------

provargs="-provider-path $BUILD -provider uringprov -provider default"
# shellcheck disable=SC2086
uo cmdline /dev/null list -providers $provargs
has cmdline "uringprov"
grep -A3 '^  uringprov' cmdline.out | grep -q 'status: active' || fail "uringprov is not active"
echo "ok - cmdline: list -providers"
# shellcheck disable=SC2086
uo cmdline-sign /dev/null pkeyutl $provargs -propquery '?provider=uringprov' -sign -inkey key.pem \
    -in hash.bin -out c-sig.bin -pkeyopt digest:sha256
inline cmdline-sign 1
same c-sig.bin sig-ref.bin

# ---- make install ------------------------------------------------------------------------------
# -o: install the module that was tested; never rebuild it from under other tests.

modulesdir=$(pkg-config --variable=modulesdir libcrypto)
[ -n "$modulesdir" ] || fail "pkg-config knows no modulesdir for libcrypto"
last=install
make -C "$root" --no-print-directory -o "$BUILD/uringprov.so" BUILD="$BUILD" DESTDIR="$tmp/root" install >install.out 2>&1 \
    || fail "make install exited $?"
[ -f "$tmp/root$modulesdir/uringprov.so" ] || fail "no $tmp/root$modulesdir/uringprov.so"
cmp -s "$BUILD/uringprov.so" "$tmp/root$modulesdir/uringprov.so" || fail "installed a different file"
echo "ok - install: \$DESTDIR$modulesdir/uringprov.so"
last=install-prefix
make -C "$root" --no-print-directory -o "$BUILD/uringprov.so" BUILD="$BUILD" DESTDIR="$tmp/root2" PREFIX=/opt/uo install \
    >install-prefix.out 2>&1 || fail "make install PREFIX=/opt/uo exited $?"
[ -f "$tmp/root2/opt/uo/lib/ossl-modules/uringprov.so" ] || fail "PREFIX=/opt/uo not honoured"
echo "ok - install: PREFIX=/opt/uo"
# The installed module loads from its directory (as it would from modulesdir after a real install).
uo installed /dev/null list -providers -provider-path "$tmp/root$modulesdir" -provider uringprov
has installed "uringprov"

echo "PASS: rsa_cli"

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_badinput.c - what uringprov does with input that is wrong: malformed, truncated or
 * mismatched key parameters at import (RSA, EC, X25519), signatures of the wrong length, padding
 * and salt parameters out of range, oversized inputs, NULL buffers and size queries.
 *
 * Every case runs three times: on a library context with only the default provider (the
 * reference), on one that prefers uringprov, synchronously, and on the same inside an ASYNC job,
 * where the private-key operations go to a worker and their errors come back to the caller's
 * thread. uringprov must agree with the default provider on success or failure, and every failure
 * must leave a clean error on the queue: at least one entry, and every entry with a reason string
 * (ERR_reason_error_string non-NULL), so that an application prints a sentence, not a number.
 * Size queries must succeed, agree on the size, and never pause a job. An input that a later
 * OpenSSL made valid on purpose (op_valid_from) is expected per version of the library that runs
 * the test: bad input before, an operation that uringprov must do like the default provider (and
 * offload, pausing its job) from then on. Three cases run on uringprov only, because OpenSSL 3.0's
 * default provider crashes or leaks on them (fuzzer findings that uringprov now guards against).
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/async.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>

#include "helpers/uo_test.h"

static OSSL_LIB_CTX *uo, *ref;
/* Keys made by the default provider; used through either library context. */
static EVP_PKEY *rsa, *rsa_pub, *ec, *ec_peer, *ec_pub, *x, *x_peer, *x_pub, *ec384;
static unsigned char rsa_sig[256], ec_sig[80];
static size_t rsa_siglen, ec_siglen;
static const unsigned char tbs32[32] = { 1, 2, 3, 4, 5, 6, 7, 8 };

/* ---- key material -------------------------------------------------------------------------- */

static EVP_PKEY *public_only(EVP_PKEY *k)
{
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(ref, k, NULL);
    EVP_PKEY *pub = NULL;

    ck_assert(c != NULL && EVP_PKEY_todata(k, EVP_PKEY_PUBLIC_KEY, &params) > 0
              && EVP_PKEY_fromdata_init(c) > 0
              && EVP_PKEY_fromdata(c, &pub, EVP_PKEY_PUBLIC_KEY, params) > 0);
    OSSL_PARAM_free(params);
    EVP_PKEY_CTX_free(c);
    return pub;
}

static void setup(void)
{
    EVP_PKEY_CTX *c;

    uo = uot_libctx_new(NULL);
    ck_assert_msg(uo != NULL, "uringprov did not load");
    ref = uot_default_libctx_new();
    ck_assert_ptr_nonnull(ref);
    rsa = EVP_PKEY_Q_keygen(ref, NULL, "RSA", (size_t)2048);
    ec = EVP_PKEY_Q_keygen(ref, NULL, "EC", "P-256");
    ec_peer = EVP_PKEY_Q_keygen(ref, NULL, "EC", "P-256");
    ec384 = EVP_PKEY_Q_keygen(ref, NULL, "EC", "P-384");
    x = EVP_PKEY_Q_keygen(ref, NULL, "X25519");
    x_peer = EVP_PKEY_Q_keygen(ref, NULL, "X25519");
    ck_assert(rsa != NULL && ec != NULL && ec_peer != NULL && ec384 != NULL && x != NULL
              && x_peer != NULL);
    rsa_pub = public_only(rsa);
    ec_pub = public_only(ec);
    x_pub = public_only(x);
    c = EVP_PKEY_CTX_new_from_pkey(ref, rsa, NULL);
    rsa_siglen = sizeof(rsa_sig);
    ck_assert(c != NULL && EVP_PKEY_sign_init(c) > 0
              && EVP_PKEY_CTX_set_signature_md(c, EVP_sha256()) > 0
              && EVP_PKEY_sign(c, rsa_sig, &rsa_siglen, tbs32, sizeof(tbs32)) > 0);
    EVP_PKEY_CTX_free(c);
    c = EVP_PKEY_CTX_new_from_pkey(ref, ec, NULL);
    ec_siglen = sizeof(ec_sig);
    ck_assert(c != NULL && EVP_PKEY_sign_init(c) > 0
              && EVP_PKEY_sign(c, ec_sig, &ec_siglen, tbs32, sizeof(tbs32)) > 0);
    EVP_PKEY_CTX_free(c);
}

static void teardown(void)
{
    EVP_PKEY *keys[] = { rsa, rsa_pub, ec, ec_peer, ec_pub, x, x_peer, x_pub, ec384 };
    size_t i;

    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        EVP_PKEY_free(keys[i]);
    OSSL_LIB_CTX_free(uo);
    OSSL_LIB_CTX_free(ref);
}

/* ---- checks -------------------------------------------------------------------------------- */

/* The error queue after a failure: not empty, and every entry has a reason string. */
static void check_errors(const char *what, const char *mode)
{
    unsigned long e;
    int n = 0;

    while ((e = ERR_get_error()) != 0) {
        n++;
        ck_assert_msg(ERR_reason_error_string(e) != NULL,
                      "%s (%s): error %08lx (library %d, reason %d) has no reason string", what,
                      mode, e, ERR_GET_LIB(e), ERR_GET_REASON(e));
    }
    ck_assert_msg(n > 0, "%s (%s): failed with nothing on the error queue", what, mode);
}

/* ---- import ---------------------------------------------------------------------------------- */

enum imp {
    IMP_RSA_NO_E, IMP_RSA_N_ZERO, IMP_RSA_D_NO_N, IMP_RSA_N_AS_UTF8, IMP_RSA_N_NULL_DATA,
    IMP_RSA_PRIV_ONLY_SEL_PUB, IMP_RSA_E_EVEN_CHECK,
    IMP_EC_PUB_GARBAGE, IMP_EC_PUB_TRUNCATED, IMP_EC_PUB_EMPTY, IMP_EC_GROUP_UNKNOWN,
    IMP_EC_PUB_OTHER_CURVE, IMP_EC_PRIV_ABOVE_ORDER, IMP_EC_NO_GROUP, IMP_EC_PRIV_MISMATCH_CHECK,
    IMP_X25519_PUB_SHORT, IMP_X25519_PUB_LONG, IMP_X25519_PRIV_SHORT,
    IMP_X25519_PRIV_MISMATCH_CHECK,
    IMP_COUNT
};

static const char *const imp_names[IMP_COUNT] = {
    "RSA: n without e", "RSA: n = 0, then a key check", "RSA: d without n",
    "RSA: n as a UTF-8 string", "RSA: n and e with no data, then a key check",
    "RSA: private exponent only, public selection",
    "RSA: even e, then a key check",
    "EC: public point not on the curve", "EC: public point truncated", "EC: empty public point",
    "EC: unknown group", "EC: P-384 point on a P-256 key",
    "EC: private scalar above the order, then a key check",
    "EC: no group", "EC: private scalar of another key, then a key check",
    "X25519: public key 31 bytes", "X25519: public key 33 bytes", "X25519: private key 31 bytes",
    "X25519: private key of another key, then a key check"
};

static BIGNUM *bn_of(EVP_PKEY *k, const char *name)
{
    BIGNUM *bn = NULL;

    ck_assert(EVP_PKEY_get_bn_param(k, name, &bn));
    return bn;
}

static size_t octets_of(EVP_PKEY *k, const char *name, unsigned char *buf, size_t size)
{
    size_t len = 0;

    ck_assert(EVP_PKEY_get_octet_string_param(k, name, buf, size, &len));
    return len;
}

/*
 * Imports the case's parameters in lc. For the cases that end in a key check the import itself is
 * legal (OpenSSL does not check consistency at import), and the check must then fail.
 */
static int import_case(OSSL_LIB_CTX *lc, int id)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL, raw[3];
    const char *type = id <= IMP_RSA_E_EVEN_CHECK ? "RSA" : id <= IMP_EC_PRIV_MISMATCH_CHECK ? "EC"
                                                                                   : "X25519";
    int selection = EVP_PKEY_KEYPAIR, check = 0, rv = 0;
    unsigned char pub[200], priv[64], junk[100];
    BIGNUM *n = NULL, *e = NULL, *d = NULL, *big = NULL;
    EVP_PKEY_CTX *c = NULL, *cc = NULL;
    EVP_PKEY *pkey = NULL;
    size_t len;

    ck_assert_ptr_nonnull(bld);
    memset(junk, 0x5c, sizeof(junk));
    if (id <= IMP_RSA_E_EVEN_CHECK) {
        n = bn_of(rsa, OSSL_PKEY_PARAM_RSA_N);
        e = bn_of(rsa, OSSL_PKEY_PARAM_RSA_E);
        d = bn_of(rsa, OSSL_PKEY_PARAM_RSA_D);
    }
    switch (id) {
    case IMP_RSA_NO_E:
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n);
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, d);
        break;
    case IMP_RSA_N_ZERO:
        BN_zero(n);
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n);
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e);
        check = 1;
        break;
    case IMP_RSA_D_NO_N:
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e);
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, d);
        break;
    case IMP_RSA_N_AS_UTF8:
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_RSA_N, "12345", 0);
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e);
        break;
    case IMP_RSA_N_NULL_DATA:
        raw[0] = OSSL_PARAM_construct_BN(OSSL_PKEY_PARAM_RSA_N, NULL, 0);
        raw[1] = OSSL_PARAM_construct_BN(OSSL_PKEY_PARAM_RSA_E, NULL, 0);
        raw[2] = OSSL_PARAM_construct_end();
        check = 1;
        break;
    case IMP_RSA_PRIV_ONLY_SEL_PUB:
        selection = EVP_PKEY_PUBLIC_KEY;
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, d);
        break;
    case IMP_RSA_E_EVEN_CHECK:
        BN_set_word(e, 65536);
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n);
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e);
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, d);
        check = 1;
        break;
    case IMP_EC_PUB_GARBAGE:
        junk[0] = 0x04;
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0);
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, junk, 65);
        break;
    case IMP_EC_PUB_TRUNCATED:
        len = octets_of(ec, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub));
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0);
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, len - 1);
        break;
    case IMP_EC_PUB_EMPTY:
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0);
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, 0);
        break;
    case IMP_EC_GROUP_UNKNOWN:
        len = octets_of(ec, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub));
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "P-999", 0);
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, len);
        break;
    case IMP_EC_PUB_OTHER_CURVE:
        len = octets_of(ec384, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub));
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0);
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, len);
        break;
    case IMP_EC_PRIV_ABOVE_ORDER:
        big = BN_new();
        ck_assert(big != NULL && BN_set_bit(big, 300));
        len = octets_of(ec, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub));
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0);
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, len);
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, big);
        check = 1;
        break;
    case IMP_EC_NO_GROUP:
        len = octets_of(ec, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub));
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, len);
        break;
    case IMP_EC_PRIV_MISMATCH_CHECK:
        big = bn_of(ec_peer, OSSL_PKEY_PARAM_PRIV_KEY);
        len = octets_of(ec, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub));
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0);
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, len);
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, big);
        check = 1;
        break;
    case IMP_X25519_PUB_SHORT:
    case IMP_X25519_PUB_LONG:
        len = octets_of(x, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub));
        pub[len] = 0;
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub,
                                         id == IMP_X25519_PUB_SHORT ? len - 1 : len + 1);
        break;
    case IMP_X25519_PRIV_SHORT:
        len = octets_of(x, OSSL_PKEY_PARAM_PRIV_KEY, priv, sizeof(priv));
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv, len - 1);
        break;
    case IMP_X25519_PRIV_MISMATCH_CHECK:
        len = octets_of(x, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub));
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, len);
        len = octets_of(x_peer, OSSL_PKEY_PARAM_PRIV_KEY, priv, sizeof(priv));
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv, len);
        check = 1;
        break;
    }
    if (id != IMP_RSA_N_NULL_DATA) {
        params = OSSL_PARAM_BLD_to_param(bld);
        ck_assert_ptr_nonnull(params);
    }
    if (lc == uo) {
        /* The keymgmt that EVP_PKEY_fromdata uses here is uringprov's. */
        EVP_KEYMGMT *km = EVP_KEYMGMT_fetch(lc, type, NULL);

        ck_assert_ptr_nonnull(km);
        ck_assert_str_eq(OSSL_PROVIDER_get0_name(EVP_KEYMGMT_get0_provider(km)), "uringprov");
        EVP_KEYMGMT_free(km);
    }
    c = EVP_PKEY_CTX_new_from_name(lc, type, NULL);
    ck_assert_ptr_nonnull(c);
    rv = EVP_PKEY_fromdata_init(c);
    ck_assert_int_gt(rv, 0);
    rv = EVP_PKEY_fromdata(c, &pkey, selection, params != NULL ? params : raw);
    if (rv > 0 && check) {
        ck_assert_ptr_nonnull(pkey);
        cc = EVP_PKEY_CTX_new_from_pkey(lc, pkey, NULL);
        ck_assert_ptr_nonnull(cc);
        rv = EVP_PKEY_public_check(cc);
        if (rv > 0)
            rv = EVP_PKEY_private_check(cc);
        if (rv > 0)
            rv = EVP_PKEY_pairwise_check(cc);
    }
    if (pkey != NULL && lc == uo && !check)
        ck_assert_str_eq(OSSL_PROVIDER_get0_name(EVP_PKEY_get0_provider(pkey)), "uringprov");
    EVP_PKEY_CTX_free(cc);
    EVP_PKEY_CTX_free(c);
    EVP_PKEY_free(pkey);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    BN_clear_free(d);
    BN_clear_free(big);
    return rv;
}

/* ---- operations ---------------------------------------------------------------------------- */

enum opc {
    /* wrong signature lengths */
    OP_RSA_VERIFY_EMPTY, OP_RSA_VERIFY_SHORT, OP_RSA_VERIFY_LONG, OP_RSA_VERIFY_HUGE,
    OP_RSA_DVERIFY_SHORT, OP_ECDSA_VERIFY_EMPTY, OP_ECDSA_VERIFY_TRUNCATED,
    OP_ECDSA_VERIFY_TRAILING, OP_ECDSA_DVERIFY_TRUNCATED,
    /* output buffers too small */
    OP_RSA_SIGN_SMALL_BUF, OP_ECDSA_SIGN_SMALL_BUF, OP_RSA_DSIGN_SMALL_BUF, OP_X25519_SMALL_BUF,
    /* padding and salt out of range */
    OP_RSA_PAD_BOGUS_INT, OP_RSA_PAD_OAEP_ON_SIGN, OP_RSA_PAD_PSS_ON_DECRYPT,
    OP_PSS_SALT_NEGATIVE, OP_PSS_SALT_TOO_BIG, OP_PSS_SALT_NEGATIVE_STR, OP_OAEP_MD_UNKNOWN,
    OP_MGF1_MD_UNKNOWN,
    OP_SIG_MD_UNKNOWN, OP_SIG_MD_NOT_ALLOWED,
    /* oversized inputs */
    OP_RSA_SIGN_DIGEST_LEN, OP_RSA_SIGN_RAW_TOO_LONG, OP_RSA_SIGN_HUGE, OP_RSA_DECRYPT_HUGE,
    OP_RSA_ENCRYPT_TOO_LONG, OP_RSA_DECRYPT_GARBAGE_OAEP,
    /* keys and peers that cannot do it */
    OP_RSA_DECRYPT_PUBLIC_KEY, OP_ECDH_NO_PEER, OP_ECDH_PUBLIC_KEY, OP_ECDH_PEER_OTHER_CURVE,
    OP_X25519_PUBLIC_KEY, OP_ECDSA_SIGN_PUBLIC_KEY,
    /* NULL buffers */
    OP_RSA_VERIFY_NULL_SIG, OP_RSA_DECRYPT_NULL_IN, OP_ECDSA_VERIFY_NULL_SIG,
    /* size queries: must succeed */
    OP_SIZE_RSA_SIGN, OP_SIZE_RSA_DECRYPT, OP_SIZE_ECDSA_SIGN, OP_SIZE_ECDH, OP_SIZE_X25519,
    OP_SIZE_RSA_DSIGN,
    OP_COUNT
};
#define OP_FIRST_SIZE_QUERY OP_SIZE_RSA_SIGN

static const char *const op_names[OP_COUNT] = {
    "RSA verify: empty signature", "RSA verify: signature one byte short",
    "RSA verify: signature one byte long", "RSA verify: 1 MiB signature",
    "RSA digest verify: signature one byte short", "ECDSA verify: empty signature",
    "ECDSA verify: truncated DER", "ECDSA verify: trailing garbage",
    "ECDSA digest verify: truncated DER",
    "RSA sign: 16-byte output buffer", "ECDSA sign: 16-byte output buffer",
    "RSA digest sign: 16-byte output buffer", "X25519 derive: 16-byte output buffer",
    "RSA: pad-mode 12345", "RSA sign: OAEP padding", "RSA decrypt: PSS padding",
    "RSA-PSS: salt length -4", "RSA-PSS sign: salt length 1000", "RSA-PSS: salt length \"-10\"",
    "RSA-OAEP: digest NOPE", "RSA-PSS: MGF1 digest NOPE", "RSA sign: digest NOPE",
    "RSA sign: digest SHAKE256",
    "RSA sign: SHA-256 with a 33-byte digest", "RSA sign, no padding: 257 bytes",
    "RSA sign, PKCS#1 without digest: 16 MiB", "RSA decrypt: 16 MiB ciphertext",
    "RSA encrypt, PKCS#1: 246 bytes", "RSA decrypt, OAEP: garbage ciphertext",
    "RSA decrypt with a public key", "ECDH derive without a peer",
    "ECDH derive with a public key", "ECDH derive with a P-384 peer",
    "X25519 derive with a public key", "ECDSA sign with a public key",
    "RSA verify: NULL signature", "RSA decrypt: NULL ciphertext", "ECDSA verify: NULL signature",
    "size query: RSA sign", "size query: RSA decrypt", "size query: ECDSA sign",
    "size query: ECDH derive", "size query: X25519 derive", "size query: RSA digest sign",
};

/*
 * The first OpenSSL version (as OpenSSL_version_num() gives it) in which the case is a valid
 * operation, or 0 if it is bad input in every version. Compared with the library that runs the
 * test, not with the headers it was built with.
 */
static unsigned long op_valid_from(int id)
{
    switch (id) {
    case OP_PSS_SALT_NEGATIVE:
        return 0x30100000UL; /* -4: RSA_PSS_SALTLEN_AUTO_DIGEST_MAX ("auto-digestmax"), 3.1 */
    default:
        return 0;
    }
}

/* What one run of an operation case saw; sizes for the size queries. */
typedef struct {
    OSSL_LIB_CTX *lc;
    int id;
    size_t size;
} OPRUN;

static int verify_with(OSSL_LIB_CTX *lc, EVP_PKEY *k, int digest, const unsigned char *sig,
                       size_t siglen)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(lc, k, NULL);
    int rv;

    ck_assert_ptr_nonnull(c);
    rv = EVP_PKEY_verify_init(c);
    if (rv > 0 && digest)
        rv = EVP_PKEY_CTX_set_signature_md(c, EVP_sha256());
    if (rv > 0)
        rv = EVP_PKEY_verify(c, sig, siglen, tbs32, sizeof(tbs32));
    EVP_PKEY_CTX_free(c);
    return rv;
}

static int digest_verify_with(OSSL_LIB_CTX *lc, EVP_PKEY *k, const unsigned char *sig,
                              size_t siglen)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int rv;

    ck_assert_ptr_nonnull(md);
    rv = EVP_DigestVerifyInit_ex(md, NULL, "SHA256", lc, NULL, k, NULL);
    if (rv > 0)
        rv = EVP_DigestVerify(md, sig, siglen, tbs32, sizeof(tbs32));
    EVP_MD_CTX_free(md);
    return rv;
}

/*
 * Sign with k: pad (0: leave it), md (NULL: none), salt (INT_MIN: leave it), input of tbslen bytes,
 * output buffer of outsize bytes (0: size query, *size gets the answer).
 */
static int sign_with(OSSL_LIB_CTX *lc, EVP_PKEY *k, int pad, const char *pad_str, const char *md,
                     int salt, const char *salt_str, size_t tbslen, size_t outsize, size_t *size)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(lc, k, NULL);
    unsigned char *in = calloc(1, tbslen + 1), out[512];
    size_t len = outsize;
    int rv;

    ck_assert(c != NULL && in != NULL && outsize <= sizeof(out));
    memset(in, 0x11, tbslen);
    rv = EVP_PKEY_sign_init(c);
    if (rv > 0 && pad != 0)
        rv = EVP_PKEY_CTX_set_rsa_padding(c, pad);
    if (rv > 0 && pad_str != NULL)
        rv = EVP_PKEY_CTX_ctrl_str(c, "rsa_padding_mode", pad_str);
    if (rv > 0 && md != NULL) {
        OSSL_PARAM p[2] = { OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST,
                                                             (char *)md, 0),
                            OSSL_PARAM_construct_end() };

        rv = EVP_PKEY_CTX_set_params(c, p);
    }
    if (rv > 0 && salt != INT_MIN)
        rv = EVP_PKEY_CTX_set_rsa_pss_saltlen(c, salt);
    if (rv > 0 && salt_str != NULL)
        rv = EVP_PKEY_CTX_ctrl_str(c, "rsa_pss_saltlen", salt_str);
    if (rv > 0)
        rv = EVP_PKEY_sign(c, outsize > 0 ? out : NULL, &len, in, tbslen);
    if (rv > 0 && size != NULL)
        *size = len;
    EVP_PKEY_CTX_free(c);
    free(in);
    return rv;
}

static int digest_sign_with(OSSL_LIB_CTX *lc, EVP_PKEY *k, size_t outsize, size_t *size)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char out[512];
    size_t len = outsize;
    int rv;

    ck_assert_ptr_nonnull(md);
    rv = EVP_DigestSignInit_ex(md, NULL, "SHA256", lc, NULL, k, NULL);
    if (rv > 0)
        rv = EVP_DigestSign(md, outsize > 0 ? out : NULL, &len, tbs32, sizeof(tbs32));
    if (rv > 0 && size != NULL)
        *size = len;
    EVP_MD_CTX_free(md);
    return rv;
}

/* Decrypt with k: pad, OAEP digest or NULL; input of inlen bytes (in NULL: a NULL buffer). */
static int decrypt_with(OSSL_LIB_CTX *lc, EVP_PKEY *k, int pad, const char *oaep_md,
                        const unsigned char *in, size_t inlen, int size_query, size_t *size)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(lc, k, NULL);
    unsigned char out[512];
    size_t len = sizeof(out);
    int rv;

    ck_assert_ptr_nonnull(c);
    rv = EVP_PKEY_decrypt_init(c);
    if (rv > 0 && pad != 0)
        rv = EVP_PKEY_CTX_set_rsa_padding(c, pad);
    if (rv > 0 && oaep_md != NULL) {
        OSSL_PARAM p[2] = { OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST,
                                                             (char *)oaep_md, 0),
                            OSSL_PARAM_construct_end() };

        rv = EVP_PKEY_CTX_set_params(c, p);
    }
    if (rv > 0)
        rv = EVP_PKEY_decrypt(c, size_query ? NULL : out, &len, in, inlen);
    if (rv > 0 && size != NULL)
        *size = len;
    EVP_PKEY_CTX_free(c);
    return rv;
}

static int derive_with(OSSL_LIB_CTX *lc, EVP_PKEY *k, EVP_PKEY *peer, size_t outsize,
                       size_t *size)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(lc, k, NULL);
    unsigned char out[128];
    size_t len = outsize;
    int rv;

    ck_assert_ptr_nonnull(c);
    rv = EVP_PKEY_derive_init(c);
    if (rv > 0 && peer != NULL)
        rv = EVP_PKEY_derive_set_peer(c, peer);
    if (rv > 0)
        rv = EVP_PKEY_derive(c, outsize > 0 ? out : NULL, &len);
    if (rv > 0 && size != NULL)
        *size = len;
    EVP_PKEY_CTX_free(c);
    return rv;
}

static int op_case(void *arg)
{
    OPRUN *r = arg;
    OSSL_LIB_CTX *lc = r->lc;
    unsigned char buf[300];
    unsigned char *huge;
    int rv = 0;

    switch (r->id) {
    case OP_RSA_VERIFY_EMPTY:
        return verify_with(lc, rsa, 1, rsa_sig, 0);
    case OP_RSA_VERIFY_SHORT:
        return verify_with(lc, rsa, 1, rsa_sig, rsa_siglen - 1);
    case OP_RSA_VERIFY_LONG:
        memcpy(buf, rsa_sig, rsa_siglen);
        buf[rsa_siglen] = 0;
        return verify_with(lc, rsa, 1, buf, rsa_siglen + 1);
    case OP_RSA_VERIFY_HUGE:
        huge = calloc(1, 1 << 20);
        ck_assert_ptr_nonnull(huge);
        rv = verify_with(lc, rsa, 1, huge, 1 << 20);
        free(huge);
        return rv;
    case OP_RSA_DVERIFY_SHORT:
        return digest_verify_with(lc, rsa, rsa_sig, rsa_siglen - 1);
    case OP_ECDSA_VERIFY_EMPTY:
        return verify_with(lc, ec, 0, ec_sig, 0);
    case OP_ECDSA_VERIFY_TRUNCATED:
        return verify_with(lc, ec, 0, ec_sig, ec_siglen - 1);
    case OP_ECDSA_VERIFY_TRAILING:
        memcpy(buf, ec_sig, ec_siglen);
        buf[ec_siglen] = 0;
        return verify_with(lc, ec, 0, buf, ec_siglen + 1);
    case OP_ECDSA_DVERIFY_TRUNCATED:
        return digest_verify_with(lc, ec, ec_sig, ec_siglen / 2);
    case OP_RSA_SIGN_SMALL_BUF:
        return sign_with(lc, rsa, 0, NULL, "SHA256", INT_MIN, NULL, 32, 16, NULL);
    case OP_ECDSA_SIGN_SMALL_BUF:
        return sign_with(lc, ec, 0, NULL, NULL, INT_MIN, NULL, 32, 16, NULL);
    case OP_RSA_DSIGN_SMALL_BUF:
        return digest_sign_with(lc, rsa, 16, NULL);
    case OP_X25519_SMALL_BUF:
        return derive_with(lc, x, x_peer, 16, NULL);
    case OP_RSA_PAD_BOGUS_INT:
        return sign_with(lc, rsa, 12345, NULL, NULL, INT_MIN, NULL, 32, 256, NULL);
    case OP_RSA_PAD_OAEP_ON_SIGN:
        return sign_with(lc, rsa, RSA_PKCS1_OAEP_PADDING, NULL, NULL, INT_MIN, NULL, 32, 256,
                         NULL);
    case OP_RSA_PAD_PSS_ON_DECRYPT:
        return decrypt_with(lc, rsa, RSA_PKCS1_PSS_PADDING, NULL, rsa_sig, rsa_siglen, 0, NULL);
    case OP_PSS_SALT_NEGATIVE:
        return sign_with(lc, rsa, RSA_PKCS1_PSS_PADDING, NULL, "SHA256", -4, NULL, 32, 256, NULL);
    case OP_PSS_SALT_TOO_BIG:
        return sign_with(lc, rsa, RSA_PKCS1_PSS_PADDING, NULL, "SHA256", 1000, NULL, 32, 256,
                         NULL);
    case OP_PSS_SALT_NEGATIVE_STR:
        return sign_with(lc, rsa, RSA_PKCS1_PSS_PADDING, NULL, "SHA256", INT_MIN, "-10", 32,
                         256, NULL);
    case OP_OAEP_MD_UNKNOWN:
        return decrypt_with(lc, rsa, RSA_PKCS1_OAEP_PADDING, "NOPE", rsa_sig, rsa_siglen, 0,
                            NULL);
    case OP_MGF1_MD_UNKNOWN: {
        EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(lc, rsa, NULL);
        OSSL_PARAM p[2] = { OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST,
                                                             (char *)"NOPE", 0),
                            OSSL_PARAM_construct_end() };

        ck_assert_ptr_nonnull(c);
        rv = EVP_PKEY_sign_init(c);
        if (rv > 0)
            rv = EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PSS_PADDING);
        if (rv > 0)
            rv = EVP_PKEY_CTX_set_params(c, p);
        EVP_PKEY_CTX_free(c);
        return rv;
    }
    case OP_SIG_MD_UNKNOWN:
        return sign_with(lc, rsa, 0, NULL, "NOPE", INT_MIN, NULL, 32, 256, NULL);
    case OP_SIG_MD_NOT_ALLOWED:
        return sign_with(lc, rsa, 0, NULL, "SHAKE256", INT_MIN, NULL, 32, 256, NULL);
    case OP_RSA_SIGN_DIGEST_LEN:
        return sign_with(lc, rsa, 0, NULL, "SHA256", INT_MIN, NULL, 33, 256, NULL);
    case OP_RSA_SIGN_RAW_TOO_LONG:
        return sign_with(lc, rsa, RSA_NO_PADDING, NULL, NULL, INT_MIN, NULL, 257, 256, NULL);
    case OP_RSA_SIGN_HUGE:
        return sign_with(lc, rsa, RSA_PKCS1_PADDING, NULL, NULL, INT_MIN, NULL, 16 << 20, 256,
                         NULL);
    case OP_RSA_DECRYPT_HUGE:
        huge = calloc(1, 16 << 20);
        ck_assert_ptr_nonnull(huge);
        rv = decrypt_with(lc, rsa, 0, NULL, huge, 16 << 20, 0, NULL);
        free(huge);
        return rv;
    case OP_RSA_ENCRYPT_TOO_LONG: {
        EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(lc, rsa, NULL);
        size_t len = sizeof(buf);

        memset(buf, 0x22, sizeof(buf));
        ck_assert_ptr_nonnull(c);
        rv = EVP_PKEY_encrypt_init(c);
        if (rv > 0)
            rv = EVP_PKEY_encrypt(c, buf, &len, buf, 246);
        EVP_PKEY_CTX_free(c);
        return rv;
    }
    case OP_RSA_DECRYPT_GARBAGE_OAEP:
        memset(buf, 0x33, rsa_siglen);
        buf[0] = 0;
        return decrypt_with(lc, rsa, RSA_PKCS1_OAEP_PADDING, NULL, buf, rsa_siglen, 0, NULL);
    case OP_RSA_DECRYPT_PUBLIC_KEY:
        return decrypt_with(lc, rsa_pub, 0, NULL, rsa_sig, rsa_siglen, 0, NULL);
    case OP_ECDH_NO_PEER:
        return derive_with(lc, ec, NULL, 64, NULL);
    case OP_ECDH_PUBLIC_KEY:
        return derive_with(lc, ec_pub, ec_peer, 64, NULL);
    case OP_ECDH_PEER_OTHER_CURVE:
        return derive_with(lc, ec, ec384, 64, NULL);
    case OP_X25519_PUBLIC_KEY:
        return derive_with(lc, x_pub, x_peer, 64, NULL);
    case OP_ECDSA_SIGN_PUBLIC_KEY:
        return sign_with(lc, ec_pub, 0, NULL, NULL, INT_MIN, NULL, 32, 80, NULL);
    case OP_RSA_VERIFY_NULL_SIG:
        return verify_with(lc, rsa, 1, NULL, 0);
    case OP_RSA_DECRYPT_NULL_IN:
        return decrypt_with(lc, rsa, 0, NULL, NULL, 0, 0, NULL);
    case OP_ECDSA_VERIFY_NULL_SIG:
        return verify_with(lc, ec, 0, NULL, 0);
    case OP_SIZE_RSA_SIGN:
        return sign_with(lc, rsa, 0, NULL, "SHA256", INT_MIN, NULL, 32, 0, &r->size);
    case OP_SIZE_RSA_DECRYPT:
        return decrypt_with(lc, rsa, 0, NULL, rsa_sig, rsa_siglen, 1, &r->size);
    case OP_SIZE_ECDSA_SIGN:
        return sign_with(lc, ec, 0, NULL, NULL, INT_MIN, NULL, 32, 0, &r->size);
    case OP_SIZE_ECDH:
        return derive_with(lc, ec, ec_peer, 0, &r->size);
    case OP_SIZE_X25519:
        return derive_with(lc, x, x_peer, 0, &r->size);
    case OP_SIZE_RSA_DSIGN:
        return digest_sign_with(lc, rsa, 0, &r->size);
    }
    return 0;
}

/* ---- tests --------------------------------------------------------------------------------- */

static int import_in_job(void *arg)
{
    const int *id = arg;

    return import_case(uo, *id);
}

START_TEST(import)
{
    int id = _i, r_ref, r_uo, r_job;
    UOT_JOB_STATS st;

    ERR_clear_error();
    r_ref = import_case(ref, id);
    ck_assert_msg(r_ref <= 0, "%s: the default provider accepts it; not a bad input",
                  imp_names[id]);
    ERR_clear_error();
    r_uo = import_case(uo, id);
    ck_assert_msg(r_uo <= 0, "%s: uringprov accepts it", imp_names[id]);
    check_errors(imp_names[id], "sync");
    r_job = uot_run_in_job(import_in_job, &id, &st);
    ck_assert_msg(r_job <= 0, "%s: uringprov accepts it in a job", imp_names[id]);
    check_errors(imp_names[id], "in a job");
}
END_TEST

START_TEST(operation)
{
    int id = _i, r_ref, r_uo, r_job;
    OPRUN rr = { ref, id, 0 }, ru = { uo, id, 0 }, rj = { uo, id, 0 };
    UOT_JOB_STATS st;
    unsigned long from = op_valid_from(id);
    int valid = from != 0 && OpenSSL_version_num() >= from;

    ERR_clear_error();
    r_ref = op_case(&rr);
    ERR_clear_error();
    r_uo = op_case(&ru);
    if (valid) {
        ck_assert_msg(r_ref > 0, "%s: the default provider of OpenSSL %s refuses it, valid since "
                      "%lx", op_names[id], OpenSSL_version(OPENSSL_VERSION), from);
        ck_assert_msg(r_uo > 0, "%s: valid since %lx, and uringprov refuses it", op_names[id],
                      from);
        ck_assert_int_eq(ERR_peek_error(), 0);
    } else if (id >= OP_FIRST_SIZE_QUERY) {
        ck_assert_msg(r_ref > 0 && r_uo > 0, "%s failed", op_names[id]);
        ck_assert_msg(ru.size == rr.size, "%s: uringprov says %zu, default %zu", op_names[id],
                      ru.size, rr.size);
        ck_assert_int_eq(ERR_peek_error(), 0);
    } else {
        ck_assert_msg(r_ref <= 0, "%s: the default provider accepts it; not a bad input",
                      op_names[id]);
        ck_assert_msg(r_uo <= 0, "%s: uringprov accepts it", op_names[id]);
        check_errors(op_names[id], "sync");
    }
    ERR_clear_error();
    r_job = uot_run_in_job(op_case, &rj, &st);
    if (valid) {
        ck_assert_msg(r_job > 0, "%s: valid since %lx, and uringprov refuses it in a job",
                      op_names[id], from);
        ck_assert_msg(st.pauses > 0, "%s: ran in a job that never paused", op_names[id]);
        ck_assert_int_eq(ERR_peek_error(), 0);
    } else if (id >= OP_FIRST_SIZE_QUERY) {
        ck_assert_msg(r_job > 0 && rj.size == rr.size, "%s failed in a job", op_names[id]);
        ck_assert_msg(st.pauses == 0, "%s paused a job", op_names[id]);
        ck_assert_int_eq(ERR_peek_error(), 0);
    } else {
        ck_assert_msg(r_job <= 0, "%s: uringprov accepts it in a job", op_names[id]);
        check_errors(op_names[id], "in a job");
    }
}
END_TEST

/*
 * Not bad input, but input OpenSSL 3.0's RSA import leaks on: CRT exponents and coefficients
 * without the factors, which it then ignores. uringprov imports the same key, and under ASan the
 * test process must not leak (found by test/fuzz/fuzz_import).
 */
START_TEST(import_lone_crt_values)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    BIGNUM *n = bn_of(rsa, OSSL_PKEY_PARAM_RSA_N), *e = bn_of(rsa, OSSL_PKEY_PARAM_RSA_E);
    BIGNUM *d = bn_of(rsa, OSSL_PKEY_PARAM_RSA_D);
    BIGNUM *dp = bn_of(rsa, OSSL_PKEY_PARAM_RSA_EXPONENT1);
    BIGNUM *qinv = bn_of(rsa, OSSL_PKEY_PARAM_RSA_COEFFICIENT1);
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(uo, "RSA", NULL);
    OSSL_PARAM *params;
    EVP_PKEY *k = NULL;

    ck_assert(bld != NULL && c != NULL);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, d);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT1, dp);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, qinv);
    params = OSSL_PARAM_BLD_to_param(bld);
    ck_assert_ptr_nonnull(params);
    ck_assert_int_gt(EVP_PKEY_fromdata_init(c), 0);
    ck_assert_int_gt(EVP_PKEY_fromdata(c, &k, EVP_PKEY_KEYPAIR, params), 0);
    ck_assert_str_eq(OSSL_PROVIDER_get0_name(EVP_PKEY_get0_provider(k)), "uringprov");
    ck_assert_int_eq(EVP_PKEY_eq(k, rsa), 1);
    EVP_PKEY_free(k);
    EVP_PKEY_CTX_free(c);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    BN_clear_free(d);
    BN_clear_free(dp);
    BN_clear_free(qinv);
}
END_TEST

/*
 * More than two RSA factors without all their CRT values: OpenSSL 3.0's own import frees two
 * factors twice and crashes (so there is no reference run here). uringprov refuses it, with a
 * reason (found by test/fuzz/fuzz_import).
 */
START_TEST(import_incomplete_multiprime)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    BIGNUM *n = bn_of(rsa, OSSL_PKEY_PARAM_RSA_N), *e = bn_of(rsa, OSSL_PKEY_PARAM_RSA_E);
    BIGNUM *d = bn_of(rsa, OSSL_PKEY_PARAM_RSA_D), *three = BN_new();
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(uo, "RSA", NULL);
    OSSL_PARAM *params;
    EVP_PKEY *k = NULL;

    ck_assert(bld != NULL && c != NULL && three != NULL && BN_set_word(three, 3));
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, d);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR1, three);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR2, three);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR3, three);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT1, three);
    params = OSSL_PARAM_BLD_to_param(bld);
    ck_assert_ptr_nonnull(params);
    ERR_clear_error();
    ck_assert_int_gt(EVP_PKEY_fromdata_init(c), 0);
    ck_assert_int_le(EVP_PKEY_fromdata(c, &k, EVP_PKEY_KEYPAIR, params), 0);
    ck_assert_ptr_null(k);
    check_errors("RSA: three factors, one CRT exponent", "sync");
    EVP_PKEY_CTX_free(c);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    BN_clear_free(d);
    BN_free(three);
}
END_TEST

/*
 * An RSA key imported with its domain parameters only holds no modulus: OpenSSL 3.0's RSA verify
 * dereferences it (no reference run, it crashes). uringprov refuses the operation at init, with a
 * reason (found by test/fuzz/fuzz_import).
 */
START_TEST(operation_on_empty_key)
{
    static const char *const types[] = { "RSA", "RSA-PSS" };
    unsigned char sig[256] = { 0 };
    size_t i;

    for (i = 0; i < 2; i++) {
        EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(uo, types[i], NULL), *v = NULL;
        OSSL_PARAM none[1] = { OSSL_PARAM_END };
        EVP_PKEY *k = NULL;

        ck_assert_ptr_nonnull(c);
        ck_assert_int_gt(EVP_PKEY_fromdata_init(c), 0);
        ck_assert_int_gt(EVP_PKEY_fromdata(c, &k, EVP_PKEY_KEY_PARAMETERS, none), 0);
        v = EVP_PKEY_CTX_new_from_pkey(uo, k, NULL);
        ck_assert_ptr_nonnull(v);
        ERR_clear_error();
        ck_assert_int_le(EVP_PKEY_verify_init(v), 0);
        check_errors(types[i], "verify init with no key");
        ck_assert_int_le(EVP_PKEY_sign_init(v), 0);
        check_errors(types[i], "sign init with no key");
        ck_assert_int_le(EVP_PKEY_verify(v, sig, sizeof(sig), tbs32, sizeof(tbs32)), 0);
        ERR_clear_error();
        EVP_PKEY_CTX_free(v);
        EVP_PKEY_CTX_free(c);
        EVP_PKEY_free(k);
    }
}
END_TEST

/* The operations above really reach uringprov, and failures on a worker come back with reasons. */
START_TEST(failures_offloaded)
{
    OPRUN r = { uo, OP_RSA_SIGN_SMALL_BUF, 0 };
    uint64_t off0 = uot_counter(uo, "uringprov-offloaded");
    UOT_JOB_STATS st;

    ERR_clear_error();
    ck_assert_int_le(uot_run_in_job(op_case, &r, &st), 0);
    ck_assert_msg(st.pauses >= 1, "the failing sign did not go to a worker");
    ck_assert_uint_eq(uot_counter(uo, "uringprov-offloaded"), off0 + 1);
    check_errors("RSA sign with a 16-byte buffer on a worker", "in a job");
    r.id = OP_PSS_SALT_TOO_BIG;
    ck_assert_int_le(uot_run_in_job(op_case, &r, &st), 0);
    ck_assert_msg(st.pauses >= 1, "the failing PSS sign did not go to a worker");
    check_errors("RSA-PSS sign with salt 1000 on a worker", "in a job");
}
END_TEST

/*
 * OAEP with a zero-size MGF1 digest ("NULL"): OpenSSL 3.0's default provider accepts it and then
 * loops for ever on every encryption and decryption (fuzz_asym_cipher found it). uringprov
 * refuses the parameter, set later or given at init, with an error; nothing hangs.
 */
START_TEST(oaep_mgf1_without_size)
{
    unsigned char in[256] = { 1 }, out[256];
    size_t outlen = sizeof(out);
    OSSL_PARAM init[] = {
        OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_PAD_MODE, (char *)OSSL_PKEY_RSA_PAD_MODE_OAEP, 0),
        OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST, (char *)"NULL", 0),
        OSSL_PARAM_END
    };
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(uo, rsa, NULL);

    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(EVP_PKEY_decrypt_init(c), 1);
    ck_assert_int_eq(EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_OAEP_PADDING), 1);
    ERR_clear_error();
    ck_assert_int_le(EVP_PKEY_CTX_set_rsa_mgf1_md_name(c, "NULL", NULL), 0);
    check_errors("OAEP with MGF1 digest NULL", "set");
    /* Still a working context: the refused digest left the previous one in place. */
    ck_assert_int_le(EVP_PKEY_decrypt(c, out, &outlen, in, sizeof(in)), 0);
    ERR_clear_error();
    EVP_PKEY_CTX_free(c);

    c = EVP_PKEY_CTX_new_from_pkey(uo, rsa_pub, NULL);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_le(EVP_PKEY_encrypt_init_ex(c, init), 0);
    check_errors("OAEP with MGF1 digest NULL", "init");
    EVP_PKEY_CTX_free(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("badinput");
    TCase *imp = tcase_create("import"), *ops = tcase_create("operations");
    SRunner *sr;
    int failed;

    tcase_add_unchecked_fixture(imp, setup, teardown);
    tcase_add_unchecked_fixture(ops, setup, teardown);
    tcase_set_timeout(imp, 60);
    tcase_set_timeout(ops, 120);
    tcase_add_loop_test(imp, import, 0, IMP_COUNT);
    tcase_add_test(imp, import_lone_crt_values);
    tcase_add_test(imp, import_incomplete_multiprime);
    tcase_add_loop_test(ops, operation, 0, OP_COUNT);
    tcase_add_test(ops, operation_on_empty_key);
    tcase_add_test(ops, failures_offloaded);
    tcase_add_test(ops, oaep_mgf1_without_size);
    suite_add_tcase(s, imp);
    suite_add_tcase(s, ops);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

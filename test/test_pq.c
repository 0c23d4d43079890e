/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_pq.c - ML-KEM, the hybrid KEMs, ML-DSA and SLH-DSA through uringprov (OpenSSL 3.5 and
 * later), differential against the default provider.
 *
 * Each KEM encapsulates on one side and decapsulates on the other, both ways round, and the
 * secrets must match; with a fixed seed and fixed encapsulation randomness, keys and ciphertexts
 * must be byte for byte the default provider's. Signatures made by one side verify on the other,
 * and deterministic ones are identical. Bad input (wrong-size ciphertexts, keys and signatures)
 * fails with an error on both sides alike. The TLS capabilities list the hybrid groups and the
 * ML-DSA signature algorithms. Inside ASYNC jobs, every private operation and key generation
 * pauses its job and grows the offloaded counter; size queries do neither.
 *
 * Exit 77 where the OpenSSL under test has no ML-KEM (3.0 to 3.4).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <openssl/provider.h>
#include <openssl/ssl.h>

#include "helpers/uo_test.h"

static OSSL_LIB_CTX *uo;   /* uringprov preferred */
static OSSL_LIB_CTX *ref;  /* the default provider alone */

static void setup(void)
{
    uo = uot_libctx_new(NULL);
    ref = uot_default_libctx_new();
    ck_assert_ptr_nonnull(uo);
    ck_assert_ptr_nonnull(ref);
}

static void teardown(void)
{
    OSSL_LIB_CTX_free(uo);
    OSSL_LIB_CTX_free(ref);
}

static const char *const kems[] = {
    "ML-KEM-512", "ML-KEM-768", "ML-KEM-1024", "X25519MLKEM768", "X448MLKEM1024",
    "SecP256r1MLKEM768", "SecP384r1MLKEM1024",
};
#define N_KEMS (int)(sizeof(kems) / sizeof(kems[0]))

/* ML-DSA, and the two fast SLH-DSA sets (the slow ones take seconds per signature). */
static const char *const sigs[] = {
    "ML-DSA-44", "ML-DSA-65", "ML-DSA-87", "SLH-DSA-SHA2-128f", "SLH-DSA-SHAKE-128f",
};
#define N_SIGS (int)(sizeof(sigs) / sizeof(sigs[0]))

static const unsigned char msg[] = "uringprov post-quantum message";

/* ---- helpers ------------------------------------------------------------------------------- */

static uint64_t offloaded(void)
{
    return uot_counter(uo, "uringprov-offloaded");
}

/* A key pair of alg made in libctx, from seed when it is not NULL. */
static EVP_PKEY *keygen(OSSL_LIB_CTX *libctx, const char *alg, const unsigned char *seed,
                        size_t seedlen)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(libctx, alg, NULL);
    OSSL_PARAM p[] = { OSSL_PARAM_octet_string("seed", (void *)seed, seedlen), OSSL_PARAM_END };
    EVP_PKEY *pk = NULL;

    if (ctx != NULL && EVP_PKEY_keygen_init(ctx) > 0
        && (seed == NULL || EVP_PKEY_CTX_set_params(ctx, p) > 0))
        EVP_PKEY_generate(ctx, &pk);
    EVP_PKEY_CTX_free(ctx);
    return pk;
}

/* Encapsulates to pub through libctx, with ikme as the randomness when not NULL. 1 on success. */
static int encaps(OSSL_LIB_CTX *libctx, EVP_PKEY *pub, const unsigned char *ikme, size_t ikmelen,
                  unsigned char *ct, size_t *ctlen, unsigned char *ss, size_t *sslen)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(libctx, pub, NULL);
    OSSL_PARAM p[] = { OSSL_PARAM_octet_string("ikme", (void *)ikme, ikmelen), OSSL_PARAM_END };
    int ok = ctx != NULL && EVP_PKEY_encapsulate_init(ctx, ikme != NULL ? p : NULL) > 0
             && EVP_PKEY_encapsulate(ctx, ct, ctlen, ss, sslen) > 0;

    EVP_PKEY_CTX_free(ctx);
    return ok;
}

static int decaps(OSSL_LIB_CTX *libctx, EVP_PKEY *priv, const unsigned char *ct, size_t ctlen,
                  unsigned char *ss, size_t *sslen)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(libctx, priv, NULL);
    int ok = ctx != NULL && EVP_PKEY_decapsulate_init(ctx, NULL) > 0
             && EVP_PKEY_decapsulate(ctx, ss, sslen, ct, ctlen) > 0;

    EVP_PKEY_CTX_free(ctx);
    return ok;
}

/* One-shot sign of msg with no digest, as libssl and X509_sign do; params may be NULL. */
static int sign(OSSL_LIB_CTX *libctx, EVP_PKEY *pk, const OSSL_PARAM *params, unsigned char *sig,
                size_t *siglen)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md != NULL && EVP_DigestSignInit_ex(md, NULL, NULL, libctx, NULL, pk, params) > 0
             && EVP_DigestSign(md, sig, siglen, msg, sizeof(msg)) > 0;

    EVP_MD_CTX_free(md);
    return ok;
}

static int verify(OSSL_LIB_CTX *libctx, EVP_PKEY *pk, const OSSL_PARAM *params,
                  const unsigned char *sig, size_t siglen)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md != NULL && EVP_DigestVerifyInit_ex(md, NULL, NULL, libctx, NULL, pk, params) > 0
             && EVP_DigestVerify(md, sig, siglen, msg, sizeof(msg)) == 1;

    EVP_MD_CTX_free(md);
    ERR_clear_error();
    return ok;
}

static void same_octets(EVP_PKEY *a, EVP_PKEY *b, const char *name, const char *alg)
{
    unsigned char x[8192], y[8192];
    size_t lx = 0, ly = 0;

    ck_assert_msg(EVP_PKEY_get_octet_string_param(a, name, x, sizeof(x), &lx)
                  && EVP_PKEY_get_octet_string_param(b, name, y, sizeof(y), &ly),
                  "%s: no %s", alg, name);
    ck_assert_msg(lx == ly && memcmp(x, y, lx) == 0, "%s: %s differs", alg, name);
}

/* ---- KEMs ---------------------------------------------------------------------------------- */

/*
 * Each side encapsulates to the other's public key, and the key pair's owner decapsulates. (The
 * default provider exports no private key of SecP256r1MLKEM768 or SecP384r1MLKEM1024, so key pairs
 * never change sides here: only public keys do.)
 */
START_TEST(kem_both_ways)
{
    const char *alg = kems[_i];
    EVP_PKEY *key = keygen(uo, alg, NULL, 0), *ref_key = keygen(ref, alg, NULL, 0);
    EVP_PKEY *uo_pub, *ref_pub;
    unsigned char ct[2048], ss1[128], ss2[128];
    size_t ctlen, sslen1, sslen2, qct = 0, qss = 0, rct = 0, rss = 0;
    EVP_PKEY_CTX *q;

    ck_assert_msg(uot_held_by_uo(key) && ref_key != NULL, "%s: keygen", alg);
    uo_pub = uot_transfer(ref_key, uo, EVP_PKEY_PUBLIC_KEY);
    ref_pub = uot_transfer(key, ref, EVP_PKEY_PUBLIC_KEY);
    ck_assert_msg(uot_held_by_uo(uo_pub) && ref_pub != NULL, "%s: public key transfer", alg);

    /* uringprov encapsulates to the default provider's key, which decapsulates. */
    ctlen = sizeof(ct), sslen1 = sizeof(ss1), sslen2 = sizeof(ss2);
    ck_assert_msg(encaps(uo, uo_pub, NULL, 0, ct, &ctlen, ss1, &sslen1), "%s: encaps", alg);
    ck_assert_msg(decaps(ref, ref_key, ct, ctlen, ss2, &sslen2), "%s: ref decaps", alg);
    ck_assert_msg(sslen1 == sslen2 && memcmp(ss1, ss2, sslen1) == 0, "%s: secrets differ", alg);

    /* The other way round. */
    ctlen = sizeof(ct), sslen1 = sizeof(ss1), sslen2 = sizeof(ss2);
    ck_assert_msg(encaps(ref, ref_pub, NULL, 0, ct, &ctlen, ss1, &sslen1), "%s: ref encaps", alg);
    ck_assert_msg(decaps(uo, key, ct, ctlen, ss2, &sslen2), "%s: decaps", alg);
    ck_assert_msg(sslen1 == sslen2 && memcmp(ss1, ss2, sslen1) == 0, "%s: secrets differ", alg);

    /* Sizes: the same answers as the default provider's. */
    q = EVP_PKEY_CTX_new_from_pkey(uo, uo_pub, NULL);
    ck_assert_int_eq(EVP_PKEY_encapsulate_init(q, NULL), 1);
    ck_assert_int_eq(EVP_PKEY_encapsulate(q, NULL, &qct, NULL, &qss), 1);
    EVP_PKEY_CTX_free(q);
    q = EVP_PKEY_CTX_new_from_pkey(ref, ref_pub, NULL);
    ck_assert_int_eq(EVP_PKEY_encapsulate_init(q, NULL), 1);
    ck_assert_int_eq(EVP_PKEY_encapsulate(q, NULL, &rct, NULL, &rss), 1);
    EVP_PKEY_CTX_free(q);
    ck_assert_msg(qct == rct && qss == rss && qct == ctlen, "%s: sizes %zu/%zu, default %zu/%zu",
                  alg, qct, qss, rct, rss);
    /* The key's parameters, as the default keymgmt reports them. */
    ck_assert_int_eq(EVP_PKEY_get_bits(key), EVP_PKEY_get_bits(ref_key));
    ck_assert_int_eq(EVP_PKEY_get_security_bits(key), EVP_PKEY_get_security_bits(ref_key));
    ck_assert_int_eq(EVP_PKEY_get_size(key), EVP_PKEY_get_size(ref_key));
    ck_assert_int_eq(EVP_PKEY_eq(ref_key, uo_pub), 1);
    ck_assert_int_eq(EVP_PKEY_eq(key, ref_pub), 1);
    EVP_PKEY_free(key);
    EVP_PKEY_free(ref_key);
    EVP_PKEY_free(uo_pub);
    EVP_PKEY_free(ref_pub);
}
END_TEST

/* Fixed seed and fixed encapsulation randomness: uringprov's output is the default provider's. */
START_TEST(ml_kem_deterministic)
{
    static const char *const algs[] = { "ML-KEM-512", "ML-KEM-768", "ML-KEM-1024" };
    unsigned char seed[64], ikme[32], ct1[2048], ct2[2048], ss1[64], ss2[64];
    size_t ctlen1 = sizeof(ct1), ctlen2 = sizeof(ct2), sslen1 = sizeof(ss1), sslen2 = sizeof(ss2);
    EVP_PKEY *a, *b;

    memset(seed, 0x5a, sizeof(seed));
    memset(ikme, 0xa5, sizeof(ikme));
    a = keygen(uo, algs[_i], seed, sizeof(seed));
    b = keygen(ref, algs[_i], seed, sizeof(seed));
    ck_assert_msg(uot_held_by_uo(a) && b != NULL, "%s: keygen from a seed", algs[_i]);
    same_octets(a, b, OSSL_PKEY_PARAM_PUB_KEY, algs[_i]);
    same_octets(a, b, OSSL_PKEY_PARAM_PRIV_KEY, algs[_i]);
    ck_assert(encaps(uo, a, ikme, sizeof(ikme), ct1, &ctlen1, ss1, &sslen1));
    ck_assert(encaps(ref, b, ikme, sizeof(ikme), ct2, &ctlen2, ss2, &sslen2));
    ck_assert_msg(ctlen1 == ctlen2 && memcmp(ct1, ct2, ctlen1) == 0, "%s: ciphertexts differ",
                  algs[_i]);
    ck_assert_msg(sslen1 == sslen2 && memcmp(ss1, ss2, sslen1) == 0, "%s: secrets differ",
                  algs[_i]);
    EVP_PKEY_free(a);
    EVP_PKEY_free(b);
}
END_TEST

/* ---- signatures ---------------------------------------------------------------------------- */

START_TEST(sig_both_ways)
{
    const char *alg = sigs[_i];
    EVP_PKEY *key = keygen(uo, alg, NULL, 0), *ref_pair, *ref_pub, *uo_pub;
    static unsigned char sig1[50000], sig2[50000];
    size_t len1 = sizeof(sig1), len2 = sizeof(sig2), qlen = 0;
    int one = 1;
    OSSL_PARAM det[] = {
        OSSL_PARAM_int("deterministic", &one),
        OSSL_PARAM_octet_string("context-string", (void *)"uringprov", 9),
        OSSL_PARAM_END
    };
    EVP_MD_CTX *md;

    ck_assert_msg(uot_held_by_uo(key), "%s: key not made by uringprov", alg);
    ref_pair = uot_transfer(key, ref, OSSL_KEYMGMT_SELECT_KEYPAIR);
    ref_pub = uot_transfer(key, ref, EVP_PKEY_PUBLIC_KEY);
    uo_pub = uot_transfer(key, uo, EVP_PKEY_PUBLIC_KEY);
    ck_assert_msg(ref_pair != NULL && ref_pub != NULL && uot_held_by_uo(uo_pub), "%s: transfer", alg);

    ck_assert_msg(sign(uo, key, NULL, sig1, &len1), "%s: sign", alg);
    ck_assert_msg(verify(ref, ref_pub, NULL, sig1, len1), "%s: ref rejects ours", alg);
    ck_assert_msg(verify(uo, uo_pub, NULL, sig1, len1), "%s: we reject ours", alg);
    ck_assert_msg(sign(ref, ref_pair, NULL, sig2, &len2), "%s: ref sign", alg);
    ck_assert_msg(verify(uo, uo_pub, NULL, sig2, len2), "%s: we reject the ref's", alg);
    /* A context string must match; a deterministic signature is the default provider's. */
    ck_assert_msg(!verify(uo, uo_pub, det, sig2, len2), "%s: wrong context accepted", alg);
    len1 = sizeof(sig1), len2 = sizeof(sig2);
    ck_assert(sign(uo, key, det, sig1, &len1));
    ck_assert(sign(ref, ref_pair, det, sig2, &len2));
    ck_assert_msg(len1 == len2 && memcmp(sig1, sig2, len1) == 0,
                  "%s: deterministic signatures differ", alg);
    ck_assert_msg(verify(ref, ref_pub, det, sig1, len1), "%s: ref rejects ours (context)", alg);

    /* A size query answers the signature's size. */
    md = EVP_MD_CTX_new();
    ck_assert_int_eq(EVP_DigestSignInit_ex(md, NULL, NULL, uo, NULL, key, NULL), 1);
    ck_assert_int_eq(EVP_DigestSign(md, NULL, &qlen, msg, sizeof(msg)), 1);
    ck_assert_uint_eq(qlen, (size_t)EVP_PKEY_get_size(ref_pair));
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    EVP_PKEY_free(ref_pair);
    EVP_PKEY_free(ref_pub);
    EVP_PKEY_free(uo_pub);
}
END_TEST

START_TEST(ml_dsa_seed)
{
    unsigned char seed[32];
    EVP_PKEY *a, *b;

    memset(seed, 0x3c, sizeof(seed));
    a = keygen(uo, "ML-DSA-65", seed, sizeof(seed));
    b = keygen(ref, "ML-DSA-65", seed, sizeof(seed));
    ck_assert(uot_held_by_uo(a) && b != NULL);
    same_octets(a, b, OSSL_PKEY_PARAM_PUB_KEY, "ML-DSA-65");
    same_octets(a, b, OSSL_PKEY_PARAM_PRIV_KEY, "ML-DSA-65");
    ck_assert_int_eq(EVP_PKEY_eq(a, b), 1);
    EVP_PKEY_free(a);
    EVP_PKEY_free(b);
}
END_TEST

/* OpenSSL 3.4's message signing API (pkeyutl's way) reaches the same code. */
START_TEST(message_sign)
{
#if OPENSSL_VERSION_NUMBER >= 0x30400000L
    EVP_PKEY *key = keygen(uo, "ML-DSA-44", NULL, 0);
    EVP_SIGNATURE *alg = EVP_SIGNATURE_fetch(uo, "ML-DSA-44", NULL);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(uo, key, NULL);
    unsigned char sig[4096];
    size_t siglen = sizeof(sig);

    ck_assert_ptr_nonnull(alg);
    ck_assert_str_eq(OSSL_PROVIDER_get0_name(EVP_SIGNATURE_get0_provider(alg)), "uringprov");
    /* One init, then as many messages as the caller likes (openssl speed signs in a loop). */
    ck_assert_int_eq(EVP_PKEY_sign_message_init(ctx, alg, NULL), 1);
    ck_assert_int_eq(EVP_PKEY_sign(ctx, sig, &siglen, msg, sizeof(msg)), 1);
    siglen = sizeof(sig);
    ck_assert_int_eq(EVP_PKEY_sign(ctx, sig, &siglen, msg, sizeof(msg)), 1);
    ck_assert_int_eq(EVP_PKEY_verify_message_init(ctx, alg, NULL), 1);
    ck_assert_int_eq(EVP_PKEY_verify(ctx, sig, siglen, msg, sizeof(msg)), 1);
    ck_assert_int_eq(EVP_PKEY_verify(ctx, sig, siglen, msg, sizeof(msg)), 1);
    sig[7] ^= 1;
    ck_assert_int_ne(EVP_PKEY_verify(ctx, sig, siglen, msg, sizeof(msg)), 1);
    ERR_clear_error();
    EVP_PKEY_CTX_free(ctx);
    EVP_SIGNATURE_free(alg);
    EVP_PKEY_free(key);
#endif
}
END_TEST

/* ---- bad input ----------------------------------------------------------------------------- */

/* Imports octet string param of len bytes as selection into an alg key of libctx; 1 if accepted. */
static int import_octets(OSSL_LIB_CTX *libctx, const char *alg, int selection, const char *param,
                         size_t len)
{
    static unsigned char buf[8192];
    OSSL_PARAM p[] = { OSSL_PARAM_octet_string(param, buf, len), OSSL_PARAM_END };
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(libctx, alg, NULL);
    EVP_PKEY *pk = NULL;
    int ok;

    memset(buf, 0x11, sizeof(buf));
    ok = ctx != NULL && EVP_PKEY_fromdata_init(ctx) > 0
         && EVP_PKEY_fromdata(ctx, &pk, selection, p) > 0;
    EVP_PKEY_free(pk);
    EVP_PKEY_CTX_free(ctx);
    return ok;
}

START_TEST(bad_input)
{
    const char *alg = kems[_i];
    EVP_PKEY *key = keygen(uo, alg, NULL, 0), *pub;
    EVP_PKEY *ref_pair = keygen(ref, alg, NULL, 0);
    unsigned char ct[2048], ss[128];
    size_t ctlen = sizeof(ct), sslen = sizeof(ss), publen = 0, i;
    const size_t bad[] = { 0, 1, 31 };
    int got, want;

    ck_assert(uot_held_by_uo(key) && ref_pair != NULL);
    /* The default provider's refusals are of its own key, with a ciphertext of the same size. */
    ck_assert(encaps(uo, key, NULL, 0, ct, &ctlen, ss, &sslen));
    /* Ciphertexts one byte short and one byte long: refused by both, with an error. */
    for (i = 0; i < 2; i++) {
        size_t len = i == 0 ? ctlen - 1 : ctlen + 1;

        sslen = sizeof(ss);
        ERR_clear_error();
        ck_assert_msg(!decaps(uo, key, ct, len, ss, &sslen), "%s: %zu-byte ciphertext", alg, len);
        ck_assert_msg(ERR_peek_error() != 0, "%s: refused without an error", alg);
        ERR_clear_error();
        sslen = sizeof(ss);
        ck_assert(!decaps(ref, ref_pair, ct, len, ss, &sslen));
        ERR_clear_error();
    }
    /* A secret buffer too small: refused, as by the default provider. */
    sslen = 8;
    got = decaps(uo, key, ct, ctlen, ss, &sslen);
    sslen = 8;
    want = decaps(ref, ref_pair, ct, ctlen, ss, &sslen);
    ck_assert_int_eq(got, want);
    ERR_clear_error();
    /* A public-only key cannot decapsulate. */
    pub = uot_transfer(key, uo, EVP_PKEY_PUBLIC_KEY);
    sslen = sizeof(ss);
    ck_assert(!decaps(uo, pub, ct, ctlen, ss, &sslen));
    ck_assert(ERR_peek_error() != 0);
    ERR_clear_error();
    /* Public and private keys of the wrong size: whatever the default keymgmt says, we say. */
    ck_assert(EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, NULL, 0,
                                              &publen));
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t len = bad[i] == 31 ? publen - 1 : bad[i];

        got = import_octets(uo, alg, OSSL_KEYMGMT_SELECT_PUBLIC_KEY, OSSL_PKEY_PARAM_PUB_KEY, len);
        want = import_octets(ref, alg, OSSL_KEYMGMT_SELECT_PUBLIC_KEY, OSSL_PKEY_PARAM_PUB_KEY,
                             len);
        ck_assert_msg(got == want && !got, "%s: %zu-byte public key: %d, default %d", alg, len,
                      got, want);
        got = import_octets(uo, alg, OSSL_KEYMGMT_SELECT_KEYPAIR, OSSL_PKEY_PARAM_PRIV_KEY, len);
        want = import_octets(ref, alg, OSSL_KEYMGMT_SELECT_KEYPAIR, OSSL_PKEY_PARAM_PRIV_KEY, len);
        ck_assert_msg(got == want && !got, "%s: %zu-byte private key: %d, default %d", alg, len,
                      got, want);
        ERR_clear_error();
    }
    /* An encoded public key of the wrong size, set on a key as libssl sets a peer's share. */
    {
        EVP_PKEY *peer = uot_transfer(key, uo, EVP_PKEY_PUBLIC_KEY);
        unsigned char junk[100];

        memset(junk, 7, sizeof(junk));
        ck_assert_int_ne(EVP_PKEY_set1_encoded_public_key(peer, junk, sizeof(junk)), 1);
        ERR_clear_error();
        EVP_PKEY_free(peer);
    }
    EVP_PKEY_free(pub);
    EVP_PKEY_free(ref_pair);
    EVP_PKEY_free(key);
}
END_TEST

/* Encapsulation into buffers whose lengths are not given: refused, as by the default provider. */
START_TEST(null_lengths)
{
    EVP_PKEY *key = keygen(uo, "ML-KEM-768", NULL, 0);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(uo, key, NULL);
    unsigned char ct[2048], ss[64];
    size_t ctlen = sizeof(ct), sslen = sizeof(ss);

    ck_assert_int_eq(EVP_PKEY_encapsulate_init(ctx, NULL), 1);
    ERR_clear_error();
    ck_assert_int_le(EVP_PKEY_encapsulate(ctx, ct, NULL, ss, &sslen), 0);
    ck_assert(ERR_peek_error() != 0);
    ERR_clear_error();
    ck_assert_int_le(EVP_PKEY_encapsulate(ctx, ct, &ctlen, ss, NULL), 0);
    ck_assert(ERR_peek_error() != 0);
    ERR_clear_error();
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(key);
}
END_TEST

/*
 * A parameters-only copy of a signing key is empty, as the default provider's: it cannot sign
 * (ML-DSA's and SLH-DSA's parameter generation makes a whole random key pair, which must not
 * stand in for an empty key).
 */
START_TEST(params_copy_is_empty)
{
    static const char *const algs[] = { "ML-DSA-65", "SLH-DSA-SHA2-128f", "ML-KEM-768",
                                        "X25519MLKEM768" };
    EVP_PKEY *key = keygen(uo, algs[_i], NULL, 0), *ref_key = keygen(ref, algs[_i], NULL, 0);
    EVP_PKEY *copy = EVP_PKEY_new(), *ref_copy = EVP_PKEY_new();
    size_t len = 0, ref_len = 0;

    ck_assert(uot_held_by_uo(key) && ref_key != NULL);
    ck_assert_int_eq(EVP_PKEY_copy_parameters(copy, key), EVP_PKEY_copy_parameters(ref_copy, ref_key));
    ERR_clear_error();
    ck_assert_int_eq(EVP_PKEY_get_octet_string_param(copy, OSSL_PKEY_PARAM_PRIV_KEY, NULL, 0, &len),
                     EVP_PKEY_get_octet_string_param(ref_copy, OSSL_PKEY_PARAM_PRIV_KEY, NULL, 0,
                                                     &ref_len));
    ck_assert_msg(len == 0 && ref_len == 0, "%s: the copy holds a %zu-byte private key", algs[_i],
                  len);
    ERR_clear_error();
    EVP_PKEY_free(copy);
    EVP_PKEY_free(ref_copy);
    EVP_PKEY_free(key);
    EVP_PKEY_free(ref_key);
}
END_TEST

START_TEST(bad_signatures)
{
    EVP_PKEY *key = keygen(uo, "ML-DSA-65", NULL, 0);
    EVP_PKEY *ref_pub = uot_transfer(key, ref, EVP_PKEY_PUBLIC_KEY);
    unsigned char sig[8192];
    size_t len = sizeof(sig);

    ck_assert(sign(uo, key, NULL, sig, &len));
    ck_assert(verify(uo, key, NULL, sig, len));
    ck_assert(!verify(uo, key, NULL, sig, len - 1));
    ck_assert(!verify(ref, ref_pub, NULL, sig, len - 1));
    ck_assert(!verify(uo, key, NULL, sig, 0));
    sig[100] ^= 0x80;
    ck_assert(!verify(uo, key, NULL, sig, len));
    ck_assert(!verify(ref, ref_pub, NULL, sig, len));
    /* An output buffer too small: an error, not an overrun. */
    len = 100;
    ck_assert(!sign(uo, key, NULL, sig, &len));
    ck_assert(ERR_peek_error() != 0);
    ERR_clear_error();
    /* ML-DSA takes no digest of the caller's. */
    {
        EVP_MD_CTX *md = EVP_MD_CTX_new();

        ck_assert_int_ne(EVP_DigestSignInit_ex(md, NULL, "SHA256", uo, NULL, key, NULL), 1);
        ERR_clear_error();
        EVP_MD_CTX_free(md);
    }
    EVP_PKEY_free(ref_pub);
    EVP_PKEY_free(key);
}
END_TEST

/* ---- TLS capabilities ---------------------------------------------------------------------- */

typedef struct {
    int x25519mlkem768, mlkem1024, mldsa65, bad;
} CAPS_SEEN;

static int group_cb(const OSSL_PARAM params[], void *arg)
{
    CAPS_SEEN *c = arg;
    const OSSL_PARAM *p;
    const char *name = NULL;
    unsigned int id = 0;
    int is_kem = -1;

    if ((p = OSSL_PARAM_locate_const(params, OSSL_CAPABILITY_TLS_GROUP_NAME)) != NULL)
        OSSL_PARAM_get_utf8_string_ptr(p, &name);
    if ((p = OSSL_PARAM_locate_const(params, OSSL_CAPABILITY_TLS_GROUP_ID)) != NULL)
        OSSL_PARAM_get_uint(p, &id);
    if ((p = OSSL_PARAM_locate_const(params, OSSL_CAPABILITY_TLS_GROUP_IS_KEM)) != NULL)
        OSSL_PARAM_get_int(p, &is_kem);
    if (name == NULL) {
        c->bad++;
        return 1;
    }
    c->x25519mlkem768 += strcmp(name, "X25519MLKEM768") == 0 && id == 0x11EC && is_kem == 1;
    c->mlkem1024 += strcmp(name, "MLKEM1024") == 0 && id == 0x0202 && is_kem == 1;
    c->bad += strncmp(name, "ffdhe", 5) == 0;
    return 1;
}

static int sigalg_cb(const OSSL_PARAM params[], void *arg)
{
    CAPS_SEEN *c = arg;
    const OSSL_PARAM *p = OSSL_PARAM_locate_const(params, "tls-sigalg-name");
    const char *name = NULL;

    if (p != NULL)
        OSSL_PARAM_get_utf8_string_ptr(p, &name);
    c->mldsa65 += name != NULL && strcmp(name, "ML-DSA-65") == 0;
    return 1;
}

START_TEST(tls_capabilities)
{
    OSSL_PROVIDER *prov = OSSL_PROVIDER_try_load(uo, "uringprov", 0);
    CAPS_SEEN c = { 0 };
    SSL_CTX *ctx;

    ck_assert_ptr_nonnull(prov);
    ck_assert_int_eq(OSSL_PROVIDER_get_capabilities(prov, "TLS-GROUP", group_cb, &c), 1);
    ck_assert_int_eq(OSSL_PROVIDER_get_capabilities(prov, "TLS-SIGALG", sigalg_cb, &c), 1);
    ck_assert_int_eq(c.bad, 0);
    ck_assert_int_eq(c.x25519mlkem768, 1);
    ck_assert_int_eq(c.mlkem1024, 1);
    ck_assert_int_eq(c.mldsa65, 1);
    OSSL_PROVIDER_unload(prov);

    /* With uringprov's keymgmts preferred, libssl keeps these groups and signature algorithms. */
    ctx = SSL_CTX_new_ex(uo, NULL, TLS_method());
    ck_assert_ptr_nonnull(ctx);
    ck_assert_int_eq(SSL_CTX_set1_groups_list(ctx, "X25519MLKEM768:SecP256r1MLKEM768:"
                                              "SecP384r1MLKEM1024:MLKEM768:x25519"), 1);
    ck_assert_int_eq(SSL_CTX_set1_sigalgs_list(ctx, "mldsa65:mldsa44:mldsa87"), 1);
    SSL_CTX_free(ctx);
}
END_TEST

/* ---- inside ASYNC jobs --------------------------------------------------------------------- */

enum { J_DECAPS, J_ENCAPS, J_SIGN, J_KEYGEN, J_SIZES };

typedef struct {
    int op;
    const char *alg;
    EVP_PKEY *key;
    unsigned char ct[2048], ss[128], sig[20000];
    size_t ctlen, sslen, siglen;
    EVP_PKEY *genkey;
} JOB;

static int job_fn(void *arg)
{
    JOB *j = arg;
    EVP_PKEY_CTX *ctx = NULL;
    int ok = 0;

    j->sslen = sizeof(j->ss);
    switch (j->op) {
    case J_DECAPS:
        ok = decaps(uo, j->key, j->ct, j->ctlen, j->ss, &j->sslen);
        break;
    case J_ENCAPS:
        j->ctlen = sizeof(j->ct);
        ok = encaps(uo, j->key, NULL, 0, j->ct, &j->ctlen, j->ss, &j->sslen);
        break;
    case J_SIGN:
        j->siglen = sizeof(j->sig);
        ok = sign(uo, j->key, NULL, j->sig, &j->siglen);
        break;
    case J_KEYGEN:
        j->genkey = keygen(uo, j->alg, NULL, 0);
        ok = j->genkey != NULL;
        break;
    case J_SIZES: {
        size_t a = 0, b = 0;

        ctx = EVP_PKEY_CTX_new_from_pkey(uo, j->key, NULL);
        ok = ctx != NULL && EVP_PKEY_encapsulate_init(ctx, NULL) > 0
             && EVP_PKEY_encapsulate(ctx, NULL, &a, NULL, &b) > 0 && a > 0 && b > 0
             && EVP_PKEY_decapsulate_init(ctx, NULL) > 0
             && EVP_PKEY_decapsulate(ctx, NULL, &b, j->ct, a) > 0 && b > 0;
        break;
    }
    }
    EVP_PKEY_CTX_free(ctx);
    return ok;
}

static void run_offloaded(JOB *j, const char *what)
{
    UOT_JOB_STATS st;
    uint64_t before = offloaded();

    ck_assert_msg(uot_run_in_job(job_fn, j, &st) == 1, "%s: failed in a job", what);
    ck_assert_msg(st.pauses >= 1, "%s: the job never paused", what);
    ck_assert_msg(st.fds_seen == 1, "%s: %d fds at a pause", what, st.fds_seen);
    ck_assert_msg(offloaded() > before, "%s: the offloaded counter did not grow", what);
}

START_TEST(kem_async)
{
    const char *alg = kems[_i];
    static JOB j;
    EVP_PKEY *ref_key = keygen(ref, alg, NULL, 0), *ref_pub;
    unsigned char ct[2048], ss[128];
    size_t ctlen = sizeof(ct), sslen = sizeof(ss);

    ck_assert_ptr_nonnull(ref_key);
    memset(&j, 0, sizeof(j));
    /* A TLS 1.3 server's key share: encapsulation to the client's key, in a job. */
    j.op = J_ENCAPS;
    j.key = uot_transfer(ref_key, uo, EVP_PKEY_PUBLIC_KEY);
    ck_assert(uot_held_by_uo(j.key));
    run_offloaded(&j, "encapsulate");
    ck_assert(decaps(ref, ref_key, j.ct, j.ctlen, ss, &sslen));
    ck_assert(sslen == j.sslen && memcmp(ss, j.ss, sslen) == 0);
    EVP_PKEY_free(j.key);
    /* A client's: its key pair, then decapsulation of the server's ciphertext. */
    j.op = J_KEYGEN;
    j.alg = alg;
    run_offloaded(&j, "keygen");
    ck_assert(uot_held_by_uo(j.genkey));
    j.key = j.genkey;
    j.genkey = NULL;
    ref_pub = uot_transfer(j.key, ref, EVP_PKEY_PUBLIC_KEY);
    ck_assert_ptr_nonnull(ref_pub);
    sslen = sizeof(ss);
    ck_assert(encaps(ref, ref_pub, NULL, 0, ct, &ctlen, ss, &sslen));
    memcpy(j.ct, ct, ctlen);
    j.ctlen = ctlen;
    j.op = J_DECAPS;
    run_offloaded(&j, "decapsulate");
    ck_assert(sslen == j.sslen && memcmp(ss, j.ss, sslen) == 0);
    EVP_PKEY_free(ref_pub);
    EVP_PKEY_free(ref_key);
    EVP_PKEY_free(j.key);
}
END_TEST

START_TEST(sig_async)
{
    const char *alg = sigs[_i];
    static JOB j;
    EVP_PKEY *ref_pub;

    memset(&j, 0, sizeof(j));
    j.op = J_KEYGEN;
    j.alg = alg;
    run_offloaded(&j, "keygen");
    j.key = j.genkey;
    j.genkey = NULL;
    ref_pub = uot_transfer(j.key, ref, EVP_PKEY_PUBLIC_KEY);
    j.op = J_SIGN;
    run_offloaded(&j, "sign");
    ck_assert_msg(verify(ref, ref_pub, NULL, j.sig, j.siglen), "%s: signed in a job", alg);
    EVP_PKEY_free(ref_pub);
    EVP_PKEY_free(j.key);
}
END_TEST

START_TEST(size_queries_do_not_pause)
{
    static JOB j;
    UOT_JOB_STATS st;
    uint64_t before;

    memset(&j, 0, sizeof(j));
    j.key = keygen(uo, "X25519MLKEM768", NULL, 0);
    ck_assert(uot_held_by_uo(j.key));
    before = offloaded();
    j.op = J_SIZES;
    ck_assert_int_eq(uot_run_in_job(job_fn, &j, &st), 1);
    ck_assert_int_eq(st.pauses, 0);
    ck_assert_uint_eq(offloaded(), before);
    EVP_PKEY_free(j.key);
}
END_TEST

int main(void)
{
    Suite *s;
    TCase *sync, *async;
    EVP_KEM *probe;
    SRunner *sr;
    int failed;

    probe = EVP_KEM_fetch(NULL, "ML-KEM-768", NULL);
    if (probe == NULL) {
        printf("skipped: %s has no ML-KEM (OpenSSL 3.5 and later)\n",
               OpenSSL_version(OPENSSL_VERSION));
        return 77;
    }
    EVP_KEM_free(probe);
    s = suite_create("pq");
    sync = tcase_create("sync");
    async = tcase_create("async");
    tcase_add_checked_fixture(sync, setup, teardown);
    tcase_add_checked_fixture(async, setup, teardown);
    tcase_set_timeout(sync, 120);
    tcase_set_timeout(async, 120);
    tcase_add_loop_test(sync, kem_both_ways, 0, N_KEMS);
    tcase_add_loop_test(sync, ml_kem_deterministic, 0, 3);
    tcase_add_loop_test(sync, sig_both_ways, 0, N_SIGS);
    tcase_add_test(sync, ml_dsa_seed);
    tcase_add_test(sync, message_sign);
    tcase_add_loop_test(sync, bad_input, 0, N_KEMS);
    tcase_add_test(sync, bad_signatures);
    tcase_add_test(sync, null_lengths);
    tcase_add_loop_test(sync, params_copy_is_empty, 0, 4);
    tcase_add_test(sync, tls_capabilities);
    tcase_add_loop_test(async, kem_async, 0, N_KEMS);
    tcase_add_loop_test(async, sig_async, 0, N_SIGS);
    tcase_add_test(async, size_queries_do_not_pause);
    suite_add_tcase(s, sync);
    suite_add_tcase(s, async);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

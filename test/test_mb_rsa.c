/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_mb_rsa.c - the multi-buffer layer's RSA adapter on its own, no provider: batches of every
 * size, built straight from uo_mb.h lanes, against the default provider in a library context of
 * its own. PKCS#1 v1.5 signatures must be byte-equal to the default provider's, PSS signatures must
 * verify there; a bad lane must fail alone; keys crypto_mb cannot take must not be batched; and an
 * injected fault must be caught by the adapter's check. UO_TEST_QUICK=1 keeps to RSA-2048.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "uo_mb.h"

#define NSIZES 3
#define MAXK (4096 / 8)

static OSSL_LIB_CTX *ref;                  /* the default provider alone */
static OSSL_PROVIDER *ref_default;
static const unsigned int sizes[NSIZES] = { 2048, 3072, 4096 };
static EVP_PKEY *keys[NSIZES][2];          /* two keys per size, for mixed batches; NULL: skipped */

/* ---- helpers ------------------------------------------------------------------------------- */

static EVP_MD *md_fetch(const char *name)
{
    EVP_MD *md = EVP_MD_fetch(ref, name, NULL);

    ck_assert_msg(md != NULL, "fetch %s", name);
    return md;
}

static EVP_PKEY *keygen(unsigned int bits, unsigned long e, int primes)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(ref, "RSA", NULL);
    EVP_PKEY *pkey = NULL;
    BIGNUM *bn = BN_new();

    if (ctx == NULL || bn == NULL || !BN_set_word(bn, e) || EVP_PKEY_keygen_init(ctx) <= 0
        || EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, (int)bits) <= 0
        || EVP_PKEY_CTX_set1_rsa_keygen_pubexp(ctx, bn) <= 0
        || EVP_PKEY_CTX_set_rsa_keygen_primes(ctx, primes) <= 0 || EVP_PKEY_keygen(ctx, &pkey) <= 0)
        pkey = NULL;
    BN_free(bn);
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

/* The default provider's signature over in (a digest when md is set, else raw). */
static size_t ref_sign(EVP_PKEY *pkey, int pad, const EVP_MD *md, const unsigned char *in,
                       size_t inlen, unsigned char *out)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(ref, pkey, NULL);
    size_t outlen = MAXK;

    ck_assert_ptr_nonnull(ctx);
    ck_assert_int_eq(EVP_PKEY_sign_init(ctx), 1);
    ck_assert_int_gt(EVP_PKEY_CTX_set_rsa_padding(ctx, pad), 0);
    if (md != NULL)
        ck_assert_int_gt(EVP_PKEY_CTX_set_signature_md(ctx, md), 0);
    ck_assert_int_eq(EVP_PKEY_sign(ctx, out, &outlen, in, inlen), 1);
    EVP_PKEY_CTX_free(ctx);
    return outlen;
}

static int pss_verify(EVP_PKEY *pkey, const EVP_MD *md, const EVP_MD *mgf1md, int saltlen,
                      const unsigned char *sig, size_t siglen, const unsigned char *dgst,
                      size_t dgstlen)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(ref, pkey, NULL);
    int ok;

    ck_assert_ptr_nonnull(ctx);
    ck_assert_int_eq(EVP_PKEY_verify_init(ctx), 1);
    ck_assert_int_gt(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING), 0);
    ck_assert_int_gt(EVP_PKEY_CTX_set_signature_md(ctx, md), 0);
    ck_assert_int_gt(EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, mgf1md != NULL ? mgf1md : md), 0);
    ck_assert_int_gt(EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, saltlen), 0);
    ok = EVP_PKEY_verify(ctx, sig, siglen, dgst, dgstlen) == 1;
    EVP_PKEY_CTX_free(ctx);
    return ok;
}

struct lane_buf {
    UO_MB_LANE lane;
    unsigned char in[MAXK];
    unsigned char out[MAXK];
};

static void lane_set(struct lane_buf *b, UO_MB_KEY *key, int pad, const EVP_MD *md, size_t inlen)
{
    memset(&b->lane, 0, sizeof(b->lane));
    b->lane.op = UO_MB_OP_RSA_SIGN;
    b->lane.key = key;
    b->lane.rsa_pad = pad;
    b->lane.md = md;
    b->lane.saltlen = RSA_PSS_SALTLEN_DIGEST;
    b->lane.libctx = ref;
    b->lane.in = b->in;
    b->lane.inlen = inlen;
    ck_assert_int_eq(RAND_bytes(b->in, (int)inlen), 1);
    b->lane.out = b->out;
    b->lane.outlen = sizeof(b->out);
    memset(b->out, 0, sizeof(b->out));
}

static void run(struct lane_buf *b, unsigned int n, UO_MB_STATS *st)
{
    UO_MB_LANE *lanes[UO_MB_LANES];
    unsigned int i;

    for (i = 0; i < n; i++)
        lanes[i] = &b[i].lane;
    uo_mb_batch(lanes, n, st);
}

/* Lane i checked against the default provider: byte-equal for PKCS#1, verified for PSS. */
static void check_lane(const struct lane_buf *b, EVP_PKEY *pkey, unsigned int k)
{
    const UO_MB_LANE *l = &b->lane;
    unsigned char sig[MAXK];
    size_t siglen;

    ck_assert_int_eq(l->status, 1);
    ck_assert_uint_eq(l->outlen, k);
    if (l->rsa_pad == RSA_PKCS1_PADDING) {
        siglen = ref_sign(pkey, RSA_PKCS1_PADDING, l->md, l->in, l->inlen, sig);
        ck_assert_uint_eq(siglen, k);
        ck_assert_mem_eq(l->out, sig, k);
    } else {
        ck_assert(pss_verify(pkey, l->md, l->mgf1md, l->saltlen == RSA_PSS_SALTLEN_DIGEST
                             ? RSA_PSS_SALTLEN_DIGEST : RSA_PSS_SALTLEN_AUTO,
                             l->out, l->outlen, l->in, l->inlen));
        /* A flipped signature bit must not verify: the check above means something. */
        memcpy(sig, l->out, k);
        sig[k - 1] ^= 1;
        ck_assert(!pss_verify(pkey, l->md, l->mgf1md, RSA_PSS_SALTLEN_AUTO, sig, k, l->in,
                              l->inlen));
        ERR_clear_error();
    }
}

/* ---- tests --------------------------------------------------------------------------------- */

/* Every batch size 1..8, each lane a different encoding, per key size. */
START_TEST(every_size_every_encoding)
{
    const unsigned int bits = sizes[_i], k = bits / 8;
    static const char *const mdnames[] = { "SHA256", "SHA1", "SHA384", "SHA512", "SHA3-256",
                                           "SHA224", "SHA512-256" };
    EVP_MD *mds[7], *sha1;
    struct lane_buf b[UO_MB_LANES];
    UO_MB_STATS st = { 0 };
    UO_MB_KEY *key;
    unsigned int n, i, j;

    if (keys[_i][0] == NULL)
        return;
    for (j = 0; j < 7; j++)
        mds[j] = md_fetch(mdnames[j]);
    sha1 = mds[1];
    key = uo_mb_key_new(ref, keys[_i][0]);
    ck_assert_ptr_nonnull(key);
    ck_assert_uint_eq(key->bits, bits);
    for (n = 1; n <= UO_MB_LANES; n++) {
        for (i = 0; i < n; i++) {
            const EVP_MD *md = mds[(n + i) % 7];

            switch ((n + i) % 5) {
            case 0: /* raw PKCS#1 input, as TLS 1.1's MD5-SHA1 or an application may give */
                lane_set(&b[i], key, RSA_PKCS1_PADDING, NULL, 1 + (n * 7 + i) % (k - 11));
                break;
            case 1:
            case 2:
                lane_set(&b[i], key, RSA_PKCS1_PADDING, md, (size_t)EVP_MD_get_size(md));
                break;
            case 3:
                lane_set(&b[i], key, RSA_PKCS1_PSS_PADDING, md, (size_t)EVP_MD_get_size(md));
                break;
            default:
                lane_set(&b[i], key, RSA_PKCS1_PSS_PADDING, md, (size_t)EVP_MD_get_size(md));
                b[i].lane.saltlen = RSA_PSS_SALTLEN_MAX;
                b[i].lane.mgf1md = sha1;
                break;
            }
        }
        run(b, n, &st);
        for (i = 0; i < n; i++)
            check_lane(&b[i], keys[_i][0], k);
        ck_assert_uint_eq(atomic_load(&st.batches), n);
    }
    ck_assert_uint_eq(atomic_load(&st.ops), UO_MB_LANES * (UO_MB_LANES + 1) / 2);
    ck_assert_uint_eq(atomic_load(&st.faults), 0);
    uo_mb_key_free(key);
    for (j = 0; j < 7; j++)
        EVP_MD_free(mds[j]);
}
END_TEST

/* Two keys of one size interleaved in one batch. */
START_TEST(mixed_keys)
{
    const unsigned int k = sizes[_i] / 8;
    EVP_MD *md = md_fetch("SHA256");
    struct lane_buf b[UO_MB_LANES];
    UO_MB_STATS st = { 0 };
    UO_MB_KEY *key[2];
    unsigned int i;

    if (keys[_i][0] == NULL) {
        EVP_MD_free(md);
        return;
    }
    key[0] = uo_mb_key_new(ref, keys[_i][0]);
    key[1] = uo_mb_key_new(ref, keys[_i][1]);
    ck_assert_ptr_nonnull(key[0]);
    ck_assert_ptr_nonnull(key[1]);
    ck_assert_uint_eq(uo_mb_class(UO_MB_OP_RSA_SIGN, key[0]),
                      uo_mb_class(UO_MB_OP_RSA_SIGN, key[1]));
    for (i = 0; i < UO_MB_LANES; i++)
        lane_set(&b[i], key[i % 3 == 1], i < 5 ? RSA_PKCS1_PADDING : RSA_PKCS1_PSS_PADDING, md, 32);
    run(b, UO_MB_LANES, &st);
    for (i = 0; i < UO_MB_LANES; i++)
        check_lane(&b[i], keys[_i][i % 3 == 1], k);
    ck_assert_uint_eq(atomic_load(&st.ops), UO_MB_LANES);
    uo_mb_key_free(key[0]);
    uo_mb_key_free(key[1]);
    EVP_MD_free(md);
}
END_TEST

/* Lanes that cannot be done fail alone; their neighbours are still right. */
START_TEST(bad_lanes)
{
    const unsigned int k = 2048 / 8;
    EVP_MD *md = md_fetch("SHA256"), *md5sha1 = md_fetch("MD5-SHA1");
    struct lane_buf b[UO_MB_LANES];
    UO_MB_STATS st = { 0 };
    UO_MB_KEY *key = uo_mb_key_new(ref, keys[0][0]);
    unsigned int i;

    ck_assert_ptr_nonnull(key);
    for (i = 0; i < UO_MB_LANES; i++)
        lane_set(&b[i], key, i % 2 ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING, md, 32);
    lane_set(&b[1], key, RSA_PKCS1_PADDING, NULL, k - 10);       /* raw input too long */
    lane_set(&b[2], key, RSA_PKCS1_PADDING, md, 20);             /* not a SHA-256 digest */
    lane_set(&b[4], key, RSA_PKCS1_PSS_PADDING, NULL, 32);       /* PSS without a digest */
    lane_set(&b[5], key, RSA_NO_PADDING, NULL, k);               /* not a batch padding */
    b[7].lane.outlen = k - 1;                                    /* no room for the result */
    run(b, UO_MB_LANES, &st);
    for (i = 0; i < UO_MB_LANES; i++) {
        if (i == 1 || i == 2 || i == 4 || i == 5 || i == 7)
            ck_assert_msg(b[i].lane.status == 0, "lane %u", i);
        else
            check_lane(&b[i], keys[0][0], k);
    }
    ck_assert_uint_eq(atomic_load(&st.ops), 3);
    ck_assert_uint_eq(atomic_load(&st.faults), 0);

    /* A batch in which no lane can be done counts no batch. */
    for (i = 0; i < UO_MB_LANES; i++)
        lane_set(&b[i], key, RSA_PKCS1_PADDING, md, 31);
    run(b, UO_MB_LANES, &st);
    for (i = 0; i < UO_MB_LANES; i++)
        ck_assert_int_eq(b[i].lane.status, 0);
    ck_assert_uint_eq(atomic_load(&st.batches), 1);

    /* MD5-SHA1 (TLS 1.0/1.1) is signed bare, as the default provider does. */
    lane_set(&b[0], key, RSA_PKCS1_PADDING, md5sha1, 36);
    run(b, 1, &st);
    check_lane(&b[0], keys[0][0], k);
    uo_mb_key_free(key);
    EVP_MD_free(md);
    EVP_MD_free(md5sha1);
}
END_TEST

/* Keys crypto_mb's CRT cannot take, or that have nothing to sign with, are not batched. */
START_TEST(unbatchable_keys)
{
    EVP_PKEY *small = keygen(1024, RSA_F4, 2), *e3 = keygen(2048, 3, 2);
    EVP_PKEY *three = keygen(2048, RSA_F4, 3), *pub;
    unsigned char *der = NULL;
    const unsigned char *p;
    int len;

    ERR_clear_error();
    ck_assert_ptr_nonnull(small);
    ck_assert_ptr_nonnull(e3);
    ck_assert_ptr_nonnull(three);
    ck_assert_ptr_null(uo_mb_key_new(ref, small));
    ck_assert_ptr_null(uo_mb_key_new(ref, e3));
    ck_assert_ptr_null(uo_mb_key_new(ref, three));

    len = i2d_PUBKEY(keys[0][0], &der);
    ck_assert_int_gt(len, 0);
    p = der;
    pub = d2i_PUBKEY_ex(NULL, &p, len, ref, NULL);
    ck_assert_ptr_nonnull(pub);
    ck_assert_ptr_null(uo_mb_key_new(ref, pub));
    ck_assert_ptr_null(uo_mb_key_new(ref, NULL));
    ck_assert_int_eq(ERR_peek_error(), 0);

    OPENSSL_free(der);
    EVP_PKEY_free(pub);
    EVP_PKEY_free(small);
    EVP_PKEY_free(e3);
    EVP_PKEY_free(three);
}
END_TEST

/*
 * The adapter's check catches a corrupted CRT result. uo_mb_test_fault reads its variable once per
 * process, so this runs only in fork mode, where this test has a process of its own.
 */
START_TEST(fault_is_caught)
{
    EVP_MD *md = md_fetch("SHA256");
    struct lane_buf b[UO_MB_LANES];
    UO_MB_STATS st = { 0 };
    UO_MB_KEY *key = uo_mb_key_new(ref, keys[0][0]);
    unsigned int i;

    ck_assert_ptr_nonnull(key);
    ck_assert_int_eq(setenv("URINGPROV_TEST_MB_FAULT", "1", 1), 0);
    for (i = 0; i < UO_MB_LANES; i++)
        lane_set(&b[i], key, i % 2 ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING, md, 32);
    run(b, UO_MB_LANES, &st);
    ck_assert_int_eq(b[0].lane.status, 0);
    for (i = 1; i < UO_MB_LANES; i++)
        check_lane(&b[i], keys[0][0], 2048 / 8);
    ck_assert_uint_eq(atomic_load(&st.faults), 1);
    ck_assert_uint_eq(atomic_load(&st.ops), UO_MB_LANES - 1);
    uo_mb_key_free(key);
    EVP_MD_free(md);
}
END_TEST

int main(void)
{
    const char *why = NULL, *ckfork = getenv("CK_FORK");
    const char *quick = getenv("UO_TEST_QUICK");
    int fork_mode = ckfork == NULL || strcmp(ckfork, "no") != 0;
    Suite *s = suite_create("mb_rsa");
    TCase *tc = tcase_create("rsa");
    SRunner *sr;
    unsigned int i, nsizes = quick != NULL && *quick != '\0' && strcmp(quick, "0") != 0 ? 1 : NSIZES;
    int failed;

    if (!uo_mb_available(&why)) {
        printf("SKIP: multi-buffer batches unavailable: %s\n", why);
        return 77;
    }
    ref = OSSL_LIB_CTX_new();
    if (ref == NULL || (ref_default = OSSL_PROVIDER_load(ref, "default")) == NULL) {
        fprintf(stderr, "cannot load the default provider\n");
        return EXIT_FAILURE;
    }
    /* Made once here: forked tests share them, and 4096-bit generation is slow. */
    for (i = 0; i < nsizes; i++) {
        keys[i][0] = keygen(sizes[i], RSA_F4, 2);
        keys[i][1] = keygen(sizes[i], RSA_F4, 2);
        if (keys[i][0] == NULL || keys[i][1] == NULL) {
            fprintf(stderr, "cannot generate RSA-%u keys\n", sizes[i]);
            return EXIT_FAILURE;
        }
    }

    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, every_size_every_encoding, 0, NSIZES);
    tcase_add_loop_test(tc, mixed_keys, 0, NSIZES);
    tcase_add_test(tc, bad_lanes);
    tcase_add_test(tc, unbatchable_keys);
    if (fork_mode)
        tcase_add_test(tc, fault_is_caught);
    else
        printf("note: fault_is_caught needs fork mode (CK_FORK=no given); not run\n");
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    for (i = 0; i < NSIZES; i++) {
        EVP_PKEY_free(keys[i][0]);
        EVP_PKEY_free(keys[i][1]);
    }
    OSSL_PROVIDER_unload(ref_default);
    OSSL_LIB_CTX_free(ref);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

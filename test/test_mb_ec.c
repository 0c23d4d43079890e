/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_mb_ec.c - the multi-buffer NIST-curve adapter (mb/ecnist.c), called through the mb layer
 * with no provider around it, and checked against the default provider: batched ECDSA signatures
 * on P-256, P-384 and P-521 must verify there, batched ECDH secrets must equal its EVP_PKEY_derive
 * byte for byte. Batches of 1 to 8 lanes mix keys and input kinds (digests with their md, raw
 * inputs shorter and longer than the order, a digest above n). A bad lane must be left to the
 * single path without failing its neighbours, and keys on other curves must not be batchable.
 * Skips (77) where crypto_mb cannot run.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/provider.h>
#include <openssl/rand.h>

#include "uo_mb.h"

#define NKEYS 3
#define SIGMAX 160 /* a DER P-521 signature is at most 139 bytes */

static OSSL_LIB_CTX *ref; /* the default provider alone */
static OSSL_PROVIDER *dflt;
static UO_MB_STATS st;

static const struct {
    const char *name;
    const char *digest;   /* the digest TLS pairs with the curve */
    size_t bytes;         /* field bytes: the ECDH secret's length */
    unsigned int bits;
    int nid;
} curves[] = {
    { "P-256", "SHA256", 32, 256, NID_X9_62_prime256v1 },
    { "P-384", "SHA384", 48, 384, NID_secp384r1 },
    { "P-521", "SHA512", 66, 521, NID_secp521r1 },
};

static void setup(void)
{
    ref = OSSL_LIB_CTX_new();
    ck_assert_ptr_nonnull(ref);
    dflt = OSSL_PROVIDER_load(ref, "default");
    ck_assert_ptr_nonnull(dflt);
    atomic_init(&st.batches, 0);
    atomic_init(&st.ops, 0);
    atomic_init(&st.faults, 0);
}

static void teardown(void)
{
    OSSL_PROVIDER_unload(dflt); /* OSSL_LIB_CTX_free alone leaks the handle's copy of its state */
    OSSL_LIB_CTX_free(ref);
}

/* ---- helpers ------------------------------------------------------------------------------- */

static EVP_PKEY *keygen(const char *curve)
{
    EVP_PKEY *pk = EVP_PKEY_Q_keygen(ref, NULL, "EC", curve);

    ck_assert_msg(pk != NULL, "keygen %s", curve);
    return pk;
}

/* The public half only, as a peer key arrives from a handshake. */
static EVP_PKEY *public_only(EVP_PKEY *pk)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(ref, "EC", NULL);
    OSSL_PARAM *params = NULL;
    EVP_PKEY *pub = NULL;

    ck_assert_int_eq(EVP_PKEY_todata(pk, EVP_PKEY_PUBLIC_KEY, &params), 1);
    ck_assert_int_eq(EVP_PKEY_fromdata_init(ctx), 1);
    ck_assert_int_eq(EVP_PKEY_fromdata(ctx, &pub, EVP_PKEY_PUBLIC_KEY, params), 1);
    OSSL_PARAM_free(params);
    EVP_PKEY_CTX_free(ctx);
    return pub;
}

static UO_MB_KEY *mbkey(EVP_PKEY *pk)
{
    UO_MB_KEY *k = uo_mb_key_new(ref, pk);

    ck_assert_ptr_nonnull(k);
    return k;
}

static int verifies(EVP_PKEY *pk, const EVP_MD *md, const unsigned char *tbs, size_t tbslen,
                    const unsigned char *sig, size_t siglen)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(ref, pk, NULL);
    int ok;

    ck_assert_ptr_nonnull(ctx);
    ck_assert_int_eq(EVP_PKEY_verify_init(ctx), 1);
    if (md != NULL)
        ck_assert_int_eq(EVP_PKEY_CTX_set_signature_md(ctx, md), 1);
    ok = EVP_PKEY_verify(ctx, sig, siglen, tbs, tbslen);
    EVP_PKEY_CTX_free(ctx);
    return ok == 1;
}

static void derive_ref(EVP_PKEY *own, EVP_PKEY *peer, unsigned char *out, size_t *outlen)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(ref, own, NULL);

    ck_assert_ptr_nonnull(ctx);
    ck_assert_int_eq(EVP_PKEY_derive_init(ctx), 1);
    ck_assert_int_eq(EVP_PKEY_derive_set_peer(ctx, peer), 1);
    ck_assert_int_eq(EVP_PKEY_derive(ctx, out, outlen), 1);
    EVP_PKEY_CTX_free(ctx);
}

/* What an ECDSA lane may be asked to sign. */
enum input_kind {
    IN_DIGEST,  /* the curve's digest, md set */
    IN_RAW20,   /* 20 raw bytes, no md: what openssl speed signs */
    IN_RAW64,   /* 64 raw bytes, no md: truncated on P-256 and P-384 */
    IN_ONES32,  /* 32 bytes of 0xFF, no md: above n on P-256 */
    IN_KINDS
};

struct sig_lane {
    UO_MB_LANE lane;
    unsigned char in[128];
    unsigned char out[SIGMAX];
    EVP_MD *md;
};

static void sig_lane_init(struct sig_lane *l, UO_MB_KEY *key, unsigned int ci, enum input_kind kind)
{
    unsigned char msg[100];
    unsigned int mdlen;

    memset(l, 0, sizeof(*l));
    l->lane.op = UO_MB_OP_ECDSA_SIGN;
    l->lane.key = key;
    l->lane.in = l->in;
    l->lane.libctx = ref;
    l->lane.out = l->out;
    l->lane.outlen = sizeof(l->out);
    switch (kind) {
    case IN_DIGEST:
        ck_assert_int_eq(RAND_bytes(msg, sizeof(msg)), 1);
        l->md = EVP_MD_fetch(ref, curves[ci].digest, NULL);
        ck_assert_ptr_nonnull(l->md);
        ck_assert_int_eq(EVP_Digest(msg, sizeof(msg), l->in, &mdlen, l->md, NULL), 1);
        l->lane.inlen = mdlen;
        l->lane.md = l->md;
        break;
    case IN_RAW20:
    case IN_RAW64:
        l->lane.inlen = kind == IN_RAW20 ? 20 : 64;
        ck_assert_int_eq(RAND_bytes(l->in, (int)l->lane.inlen), 1);
        break;
    default:
        l->lane.inlen = 32;
        memset(l->in, 0xff, 32);
        break;
    }
}

static int sig_lane_verifies(struct sig_lane *l, EVP_PKEY *pk)
{
    return verifies(pk, l->md, l->lane.in, l->lane.inlen, l->lane.out, l->lane.outlen);
}

static uint64_t load(atomic_uint_fast64_t *v)
{
    return atomic_load(v);
}

/* ---- ECDSA --------------------------------------------------------------------------------- */

/* Every batch size, keys and input kinds mixed within each batch. */
START_TEST(ecdsa_batches)
{
    unsigned int ci = (unsigned int)_i, n, i;
    EVP_PKEY *pk[NKEYS];
    UO_MB_KEY *k[NKEYS];
    struct sig_lane l[UO_MB_LANES];
    UO_MB_LANE *lanes[UO_MB_LANES];

    for (i = 0; i < NKEYS; i++) {
        pk[i] = keygen(curves[ci].name);
        k[i] = mbkey(pk[i]);
    }
    for (n = 1; n <= UO_MB_LANES; n++) {
        uint64_t batches = load(&st.batches), ops = load(&st.ops);

        for (i = 0; i < n; i++) {
            sig_lane_init(&l[i], k[(i + n) % NKEYS], ci, (enum input_kind)((i + n) % IN_KINDS));
            lanes[i] = &l[i].lane;
        }
        uo_mb_batch(lanes, n, &st);
        for (i = 0; i < n; i++) {
            ck_assert_msg(l[i].lane.status == 1, "%s n=%u lane %u", curves[ci].name, n, i);
            ck_assert_msg(sig_lane_verifies(&l[i], pk[(i + n) % NKEYS]),
                          "%s n=%u lane %u kind %u does not verify", curves[ci].name, n, i,
                          (i + n) % IN_KINDS);
            EVP_MD_free(l[i].md);
        }
        ck_assert_uint_eq(load(&st.batches), batches + 1);
        ck_assert_uint_eq(load(&st.ops), ops + n);
    }
    for (i = 0; i < NKEYS; i++) {
        uo_mb_key_free(k[i]);
        EVP_PKEY_free(pk[i]);
    }
}
END_TEST

/* Two signatures of the same input differ: each lane draws its own nonce. */
START_TEST(ecdsa_fresh_nonces)
{
    EVP_PKEY *pk = keygen("P-256");
    UO_MB_KEY *k = mbkey(pk);
    struct sig_lane l[2];
    UO_MB_LANE *lanes[2] = { &l[0].lane, &l[1].lane };

    sig_lane_init(&l[0], k, 0, IN_ONES32);
    sig_lane_init(&l[1], k, 0, IN_ONES32);
    uo_mb_batch(lanes, 2, &st);
    ck_assert_int_eq(l[0].lane.status, 1);
    ck_assert_int_eq(l[1].lane.status, 1);
    ck_assert(l[0].lane.outlen != l[1].lane.outlen
              || memcmp(l[0].out, l[1].out, l[0].lane.outlen) != 0);
    uo_mb_key_free(k);
    EVP_PKEY_free(pk);
}
END_TEST

/*
 * Lanes the batch must leave to the single path (md set with the wrong length, an output buffer
 * too small, a zero message, and on P-521 an input that OpenSSL shifts) among valid ones.
 */
START_TEST(ecdsa_bad_lanes)
{
    unsigned int ci = (unsigned int)_i, i;
    EVP_PKEY *pk = keygen(curves[ci].name);
    UO_MB_KEY *k = mbkey(pk);
    struct sig_lane l[7];
    UO_MB_LANE *lanes[7];
    uint64_t ops = load(&st.ops);
    int expect[7] = { 1, 0, 0, 1, 0, 1, curves[ci].bits % 8 == 0 };

    for (i = 0; i < 7; i++)
        lanes[i] = &l[i].lane;
    sig_lane_init(&l[0], k, ci, IN_DIGEST);
    sig_lane_init(&l[1], k, ci, IN_DIGEST);
    l[1].lane.inlen = 20;
    sig_lane_init(&l[2], k, ci, IN_RAW20);
    l[2].lane.outlen = 8;
    sig_lane_init(&l[3], k, ci, IN_RAW64);
    sig_lane_init(&l[4], k, ci, IN_RAW20);
    memset(l[4].in, 0, 20);
    sig_lane_init(&l[5], k, ci, IN_ONES32);
    sig_lane_init(&l[6], k, ci, IN_RAW64);
    l[6].lane.inlen = 66; /* P-521: 528 bits > 521, OpenSSL shifts; P-256/384: truncated */
    uo_mb_batch(lanes, 7, &st);
    for (i = 0; i < 7; i++) {
        ck_assert_msg(l[i].lane.status == expect[i], "%s lane %u status %d", curves[ci].name, i,
                      l[i].lane.status);
        if (expect[i])
            ck_assert_msg(sig_lane_verifies(&l[i], pk), "%s lane %u", curves[ci].name, i);
        EVP_MD_free(l[i].md);
    }
    ck_assert_uint_eq(load(&st.ops), ops + 3 + (unsigned int)expect[6]);
    uo_mb_key_free(k);
    EVP_PKEY_free(pk);
}
END_TEST

/* ---- ECDH ---------------------------------------------------------------------------------- */

START_TEST(ecdh_batches)
{
    unsigned int ci = (unsigned int)_i, n, i;
    size_t bytes = curves[ci].bytes;
    EVP_PKEY *pk[NKEYS], *peer[UO_MB_LANES];
    UO_MB_KEY *k[NKEYS];
    UO_MB_LANE l[UO_MB_LANES], *lanes[UO_MB_LANES];
    unsigned char out[UO_MB_LANES][80], want[80];
    size_t wantlen;

    for (i = 0; i < NKEYS; i++) {
        pk[i] = keygen(curves[ci].name);
        k[i] = mbkey(pk[i]);
    }
    for (i = 0; i < UO_MB_LANES; i++) {
        EVP_PKEY *full = keygen(curves[ci].name);

        peer[i] = public_only(full);
        EVP_PKEY_free(full);
    }
    for (n = 1; n <= UO_MB_LANES; n++) {
        uint64_t batches = load(&st.batches), ops = load(&st.ops);

        for (i = 0; i < n; i++) {
            memset(&l[i], 0, sizeof(l[i]));
            l[i].op = UO_MB_OP_ECDH_DERIVE;
            l[i].key = k[(i + n) % NKEYS];
            l[i].peer = peer[(i * 3 + n) % UO_MB_LANES];
            l[i].libctx = ref;
            l[i].out = out[i];
            l[i].outlen = sizeof(out[i]); /* more than needed: outlen must come back as bytes */
            lanes[i] = &l[i];
        }
        uo_mb_batch(lanes, n, &st);
        for (i = 0; i < n; i++) {
            ck_assert_msg(l[i].status == 1, "%s n=%u lane %u", curves[ci].name, n, i);
            ck_assert_uint_eq(l[i].outlen, bytes);
            wantlen = sizeof(want);
            derive_ref(pk[(i + n) % NKEYS], l[i].peer, want, &wantlen);
            ck_assert_uint_eq(wantlen, bytes);
            ck_assert_msg(memcmp(out[i], want, bytes) == 0, "%s n=%u lane %u differs",
                          curves[ci].name, n, i);
        }
        ck_assert_uint_eq(load(&st.batches), batches + 1);
        ck_assert_uint_eq(load(&st.ops), ops + n);
    }
    for (i = 0; i < NKEYS; i++) {
        uo_mb_key_free(k[i]);
        EVP_PKEY_free(pk[i]);
    }
    for (i = 0; i < UO_MB_LANES; i++)
        EVP_PKEY_free(peer[i]);
}
END_TEST

/* An output buffer one byte short, or no peer, among valid lanes. */
START_TEST(ecdh_bad_lanes)
{
    unsigned int ci = (unsigned int)_i, i;
    size_t bytes = curves[ci].bytes, wantlen;
    EVP_PKEY *pk = keygen(curves[ci].name), *full = keygen(curves[ci].name);
    EVP_PKEY *peer = public_only(full);
    UO_MB_KEY *k = mbkey(pk);
    UO_MB_LANE l[4], *lanes[4];
    unsigned char out[4][80], want[80];
    const int expect[4] = { 1, 0, 1, 0 };

    for (i = 0; i < 4; i++) {
        memset(&l[i], 0, sizeof(l[i]));
        l[i].op = UO_MB_OP_ECDH_DERIVE;
        l[i].key = k;
        l[i].peer = peer;
        l[i].libctx = ref;
        l[i].out = out[i];
        l[i].outlen = bytes;
        lanes[i] = &l[i];
    }
    l[1].outlen = bytes - 1;
    l[3].peer = NULL;
    uo_mb_batch(lanes, 4, &st);
    wantlen = sizeof(want);
    derive_ref(pk, peer, want, &wantlen);
    for (i = 0; i < 4; i++) {
        ck_assert_msg(l[i].status == expect[i], "%s lane %u", curves[ci].name, i);
        if (expect[i]) {
            ck_assert_uint_eq(l[i].outlen, bytes);
            ck_assert(memcmp(out[i], want, bytes) == 0);
        }
    }
    uo_mb_key_free(k);
    EVP_PKEY_free(pk);
    EVP_PKEY_free(full);
    EVP_PKEY_free(peer);
}
END_TEST

/* ---- keys ---------------------------------------------------------------------------------- */

/*
 * The peer given as bytes (uo_mb_peer_encode, as the provider caches it per peer) instead of as a
 * key: the same secret; a wrong length, or a point off the curve, fails that lane alone.
 */
START_TEST(ecdh_peer_encoded)
{
    unsigned int ci = (unsigned int)_i, i;
    size_t bytes = curves[ci].bytes, wantlen, enclen = 0;
    EVP_PKEY *pk = keygen(curves[ci].name), *full = keygen(curves[ci].name);
    EVP_PKEY *peer = public_only(full);
    UO_MB_KEY *k = mbkey(pk);
    UO_MB_LANE l[4], *lanes[4];
    unsigned char enc[2 * 66], bad[2 * 66], out[4][80], want[80];
    const int expect[4] = { 1, 0, 1, 0 };

    ck_assert(uo_mb_peer_encode(UO_MB_OP_ECDH_DERIVE, peer, enc, sizeof(enc), &enclen));
    ck_assert_uint_eq(enclen, 2 * bytes);
    memcpy(bad, enc, enclen);
    bad[enclen - 1] ^= 1; /* y changed: off the curve */
    for (i = 0; i < 4; i++) {
        memset(&l[i], 0, sizeof(l[i]));
        l[i].op = UO_MB_OP_ECDH_DERIVE;
        l[i].key = k;
        l[i].in = enc;
        l[i].inlen = enclen;
        l[i].libctx = ref;
        l[i].out = out[i];
        l[i].outlen = bytes;
        lanes[i] = &l[i];
    }
    l[1].inlen = enclen - 1;
    l[3].in = bad;
    uo_mb_batch(lanes, 4, &st);
    wantlen = sizeof(want);
    derive_ref(pk, peer, want, &wantlen);
    for (i = 0; i < 4; i++) {
        ck_assert_msg(l[i].status == expect[i], "%s lane %u", curves[ci].name, i);
        if (expect[i])
            ck_assert(memcmp(out[i], want, bytes) == 0);
    }
    uo_mb_key_free(k);
    EVP_PKEY_free(pk);
    EVP_PKEY_free(full);
    EVP_PKEY_free(peer);
}
END_TEST

START_TEST(key_material)
{
    unsigned int ci = (unsigned int)_i;
    EVP_PKEY *pk = keygen(curves[ci].name), *pub = public_only(pk);
    UO_MB_KEY *k = mbkey(pk);
    char name[32];

    ck_assert_uint_eq(k->bits, curves[ci].bits);
    ck_assert_int_eq(k->curve_nid, curves[ci].nid);
    ck_assert_int_eq(uo_mb_key_supports(k, UO_MB_OP_ECDSA_SIGN), 1);
    ck_assert_int_eq(uo_mb_key_supports(k, UO_MB_OP_ECDH_DERIVE), 1);
    ck_assert_int_eq(uo_mb_key_supports(k, UO_MB_OP_RSA_SIGN), 0);
    ck_assert_int_eq(uo_mb_key_supports(k, UO_MB_OP_X25519_DERIVE), 0);
    ck_assert_int_eq(uo_mb_key_supports(k, UO_MB_OP_ED25519_SIGN), 0);
    ck_assert_int_eq(uo_mb_key_supports(k, UO_MB_OP_NONE), 0);
    ck_assert_uint_ne(uo_mb_class(UO_MB_OP_ECDSA_SIGN, k), uo_mb_class(UO_MB_OP_ECDH_DERIVE, k));
    snprintf(name, sizeof(name), "p%u-ecdsa", curves[ci].bits);
    ck_assert_str_eq(uo_mb_class_name(uo_mb_class(UO_MB_OP_ECDSA_SIGN, k)), name);
    /* a key without its private half has nothing to batch */
    ck_assert_ptr_null(uo_mb_key_new(ref, pub));
    /* references: the material outlives the first free */
    ck_assert_int_eq(uo_mb_key_up_ref(k), 1);
    uo_mb_key_free(k);
    ck_assert_uint_eq(k->bits, curves[ci].bits);
    uo_mb_key_free(k);
    EVP_PKEY_free(pub);
    EVP_PKEY_free(pk);
}
END_TEST

START_TEST(other_curves_not_batched)
{
    static const char *const others[] = { "brainpoolP256r1", "secp256k1", "P-224",
                                          "brainpoolP384r1" };
    size_t i;

    for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        EVP_PKEY *pk = keygen(others[i]);

        ck_assert_msg(uo_mb_key_new(ref, pk) == NULL, "%s batchable", others[i]);
        EVP_PKEY_free(pk);
    }
    ck_assert_ptr_null(uo_mb_key_new(ref, NULL));
    ck_assert_int_eq(uo_mb_key_supports(NULL, UO_MB_OP_ECDSA_SIGN), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mb_ec");
    TCase *tc = tcase_create("ecnist");
    SRunner *sr;
    const char *why = NULL;
    int failed;

    if (!uo_mb_available(&why)) {
        printf("skipped: %s\n", why);
        return 77;
    }
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, ecdsa_batches, 0, 3);
    tcase_add_test(tc, ecdsa_fresh_nonces);
    tcase_add_loop_test(tc, ecdsa_bad_lanes, 0, 3);
    tcase_add_loop_test(tc, ecdh_batches, 0, 3);
    tcase_add_loop_test(tc, ecdh_bad_lanes, 0, 3);
    tcase_add_loop_test(tc, ecdh_peer_encoded, 0, 3);
    tcase_add_loop_test(tc, key_material, 0, 3);
    tcase_add_test(tc, other_curves_not_batched);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_mb_ecx.c - the multi-buffer layer's X25519 and Ed25519 adapters, called directly and
 * compared byte for byte with the default provider: X25519 secrets against EVP_PKEY_derive,
 * Ed25519 signatures against EVP_DigestSign, for every batch size, with mixed keys in one batch.
 * A bad lane (a low-order peer, an output buffer too small) must fail alone, keys the adapters
 * cannot batch must get no material, and the counters must count what was done.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/provider.h>

#include "uo_mb.h"

static OSSL_LIB_CTX *ref; /* the default provider alone */
static OSSL_PROVIDER *deflt;

static void setup(void)
{
    ref = OSSL_LIB_CTX_new();
    ck_assert_ptr_nonnull(ref);
    deflt = OSSL_PROVIDER_load(ref, "default");
    ck_assert_ptr_nonnull(deflt);
}

static void teardown(void)
{
    OSSL_PROVIDER_unload(deflt);
    OSSL_LIB_CTX_free(ref);
}

/* ---- helpers ------------------------------------------------------------------------------- */

static EVP_PKEY *keygen(const char *type)
{
    EVP_PKEY *pk = EVP_PKEY_Q_keygen(ref, NULL, type);

    ck_assert_ptr_nonnull(pk);
    return pk;
}

/* The public half alone, as the provider hands a peer to the batch. */
static EVP_PKEY *public_only(EVP_PKEY *pk)
{
    unsigned char pub[32];
    size_t len = sizeof(pub);
    EVP_PKEY *out;

    ck_assert_int_eq(EVP_PKEY_get_raw_public_key(pk, pub, &len), 1);
    out = EVP_PKEY_new_raw_public_key_ex(ref, "X25519", NULL, pub, len);
    ck_assert_ptr_nonnull(out);
    return out;
}

static UO_MB_KEY *mb_key(EVP_PKEY *pk)
{
    UO_MB_KEY *key = uo_mb_key_new(ref, pk);

    ck_assert_ptr_nonnull(key);
    return key;
}

static void ref_derive(EVP_PKEY *priv, EVP_PKEY *peer, unsigned char out[32])
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(ref, priv, NULL);
    size_t len = 32;

    ck_assert_ptr_nonnull(ctx);
    ck_assert_int_eq(EVP_PKEY_derive_init(ctx), 1);
    ck_assert_int_eq(EVP_PKEY_derive_set_peer(ctx, peer), 1);
    ck_assert_int_eq(EVP_PKEY_derive(ctx, out, &len), 1);
    ck_assert_uint_eq(len, 32);
    EVP_PKEY_CTX_free(ctx);
}

static void ref_sign(EVP_PKEY *pk, const unsigned char *msg, size_t len, unsigned char sig[64])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    size_t siglen = 64;

    ck_assert_ptr_nonnull(md);
    ck_assert_int_eq(EVP_DigestSignInit_ex(md, NULL, NULL, ref, NULL, pk, NULL), 1);
    ck_assert_int_eq(EVP_DigestSign(md, sig, &siglen, msg, len), 1);
    ck_assert_uint_eq(siglen, 64);
    EVP_MD_CTX_free(md);
}

static uint64_t count(atomic_uint_fast64_t *c)
{
    return atomic_load(c);
}

/* ---- X25519 -------------------------------------------------------------------------------- */

/* _i + 1 lanes, three private keys among them, each lane its own peer. */
START_TEST(x25519_batch)
{
    unsigned int n = (unsigned int)_i + 1, i;
    EVP_PKEY *priv[3], *peer_full[UO_MB_LANES], *peer[UO_MB_LANES];
    UO_MB_KEY *key[3];
    UO_MB_LANE lane[UO_MB_LANES], *lanes[UO_MB_LANES];
    unsigned char out[UO_MB_LANES][40], want[32];
    UO_MB_STATS st = { 0 };

    for (i = 0; i < 3; i++) {
        priv[i] = keygen("X25519");
        key[i] = mb_key(priv[i]);
        ck_assert(uo_mb_key_supports(key[i], UO_MB_OP_X25519_DERIVE));
        ck_assert(!uo_mb_key_supports(key[i], UO_MB_OP_ED25519_SIGN));
        ck_assert_uint_eq(uo_mb_class(UO_MB_OP_X25519_DERIVE, key[i]),
                          uo_mb_class(UO_MB_OP_X25519_DERIVE, key[0]));
    }
    ck_assert_str_eq(uo_mb_class_name(uo_mb_class(UO_MB_OP_X25519_DERIVE, key[0])),
                     "x25519-derive");
    for (i = 0; i < n; i++) {
        peer_full[i] = keygen("X25519");
        peer[i] = public_only(peer_full[i]);
        memset(&lane[i], 0, sizeof(lane[i]));
        lane[i].op = UO_MB_OP_X25519_DERIVE;
        lane[i].key = key[i % 3];
        lane[i].peer = peer[i];
        lane[i].libctx = ref;
        lane[i].out = out[i];
        lane[i].outlen = sizeof(out[i]);
        lanes[i] = &lane[i];
    }
    uo_mb_batch(lanes, n, &st);
    for (i = 0; i < n; i++) {
        ck_assert_msg(lane[i].status == 1, "lane %u of %u not done", i, n);
        ck_assert_uint_eq(lane[i].outlen, 32);
        ref_derive(priv[i % 3], peer[i], want);
        ck_assert_msg(memcmp(out[i], want, 32) == 0, "lane %u of %u differs", i, n);
    }
    ck_assert_uint_eq(count(&st.batches), 1);
    ck_assert_uint_eq(count(&st.ops), n);
    ck_assert_uint_eq(count(&st.faults), 0);

    for (i = 0; i < n; i++) {
        EVP_PKEY_free(peer[i]);
        EVP_PKEY_free(peer_full[i]);
    }
    for (i = 0; i < 3; i++) {
        uo_mb_key_free(key[i]);
        EVP_PKEY_free(priv[i]);
    }
}
END_TEST

/*
 * Lane 1: a low-order peer (u = 0), whose all-zero secret OpenSSL refuses. Lane 3: room for 31
 * bytes. Lane 4: a peer with the top bit set, which RFC 7748 masks; it must agree with OpenSSL.
 * Lane 5: a peer that is not an X25519 key. Lanes 6 and 7: low-order peers u = 1 and u = p, the
 * latter not reduced. The others are good and must stay so.
 */
START_TEST(x25519_bad_lanes)
{
    static const unsigned char zero[32];
    EVP_PKEY *priv = keygen("X25519"), *good = keygen("X25519"), *ed = keygen("ED25519");
    EVP_PKEY *low, *high, *one, *p, *peer[8];
    EVP_PKEY_CTX *ctx;
    UO_MB_KEY *key = mb_key(priv);
    UO_MB_LANE lane[8], *lanes[8];
    unsigned char out[8][32], want[32], raw[32];
    size_t len = sizeof(raw);
    UO_MB_STATS st = { 0 };
    unsigned int i;

    low = EVP_PKEY_new_raw_public_key_ex(ref, "X25519", NULL, zero, sizeof(zero));
    ck_assert_ptr_nonnull(low);
    ck_assert_int_eq(EVP_PKEY_get_raw_public_key(good, raw, &len), 1);
    raw[31] |= 0x80;
    high = EVP_PKEY_new_raw_public_key_ex(ref, "X25519", NULL, raw, sizeof(raw));
    ck_assert_ptr_nonnull(high);
    memset(raw, 0, sizeof(raw));
    raw[0] = 1;
    one = EVP_PKEY_new_raw_public_key_ex(ref, "X25519", NULL, raw, sizeof(raw));
    memset(raw, 0xff, sizeof(raw));
    raw[0] = 0xed, raw[31] = 0x7f;
    p = EVP_PKEY_new_raw_public_key_ex(ref, "X25519", NULL, raw, sizeof(raw));
    ck_assert(one != NULL && p != NULL);

    /* The premise: the default provider refuses the low-order peer. */
    ctx = EVP_PKEY_CTX_new_from_pkey(ref, priv, NULL);
    len = sizeof(want);
    ck_assert(EVP_PKEY_derive_init(ctx) == 1 && EVP_PKEY_derive_set_peer(ctx, low) == 1);
    ck_assert_int_le(EVP_PKEY_derive(ctx, want, &len), 0);
    EVP_PKEY_CTX_free(ctx);

    peer[0] = good, peer[1] = low, peer[2] = good, peer[3] = good, peer[4] = high, peer[5] = ed;
    peer[6] = one, peer[7] = p;
    memset(out, 0xa5, sizeof(out));
    for (i = 0; i < 8; i++) {
        memset(&lane[i], 0, sizeof(lane[i]));
        lane[i].op = UO_MB_OP_X25519_DERIVE;
        lane[i].key = key;
        lane[i].peer = peer[i];
        lane[i].out = out[i];
        lane[i].outlen = i == 3 ? 31 : 32;
        lanes[i] = &lane[i];
    }
    uo_mb_batch(lanes, 8, &st);
    ck_assert_int_eq(lane[0].status, 1);
    ck_assert_int_eq(lane[1].status, 0);
    ck_assert_int_eq(lane[2].status, 1);
    ck_assert_int_eq(lane[3].status, 0);
    ck_assert_int_eq(lane[4].status, 1);
    ck_assert_int_eq(lane[5].status, 0);
    ck_assert_int_eq(lane[6].status, 0);
    ck_assert_int_eq(lane[7].status, 0);
    ref_derive(priv, good, want);
    ck_assert_mem_eq(out[0], want, 32);
    ck_assert_mem_eq(out[2], want, 32);
    ref_derive(priv, high, want);
    ck_assert_mem_eq(out[4], want, 32);
    for (i = 1; i < 8; i += 2) /* a failed lane's output is left as it was */
        ck_assert_int_eq(out[i][0] & out[i][31], 0xa5);
    ck_assert_int_eq(out[6][0] & out[6][31], 0xa5);
    ck_assert_uint_eq(count(&st.batches), 1);
    ck_assert_uint_eq(count(&st.ops), 3);

    /* A batch of bad lanes alone computes nothing and counts nothing. */
    uo_mb_batch(&lanes[1], 1, &st);
    ck_assert_int_eq(lane[1].status, 0);
    ck_assert_uint_eq(count(&st.batches), 1);
    ck_assert_uint_eq(count(&st.ops), 3);

    uo_mb_key_free(key);
    EVP_PKEY_free(low);
    EVP_PKEY_free(one);
    EVP_PKEY_free(p);
    EVP_PKEY_free(high);
    EVP_PKEY_free(ed);
    EVP_PKEY_free(good);
    EVP_PKEY_free(priv);
}
END_TEST

/* ---- Ed25519 ------------------------------------------------------------------------------- */

static const size_t msglens[] = { 0, 1, 32, 1000 };

/* _i + 1 lanes, three keys and every message length among them. */
START_TEST(ed25519_batch)
{
    unsigned int n = (unsigned int)_i + 1, i;
    EVP_PKEY *pk[3];
    UO_MB_KEY *key[3];
    UO_MB_LANE lane[UO_MB_LANES], *lanes[UO_MB_LANES];
    unsigned char msg[1000], out[UO_MB_LANES][72], want[64];
    UO_MB_STATS st = { 0 };

    for (i = 0; i < sizeof(msg); i++)
        msg[i] = (unsigned char)(i * 7 + 3);
    for (i = 0; i < 3; i++) {
        pk[i] = keygen("ED25519");
        key[i] = mb_key(pk[i]);
        ck_assert(uo_mb_key_supports(key[i], UO_MB_OP_ED25519_SIGN));
        ck_assert(!uo_mb_key_supports(key[i], UO_MB_OP_X25519_DERIVE));
    }
    ck_assert_str_eq(uo_mb_class_name(uo_mb_class(UO_MB_OP_ED25519_SIGN, key[0])),
                     "ed25519-sign");
    for (i = 0; i < n; i++) {
        size_t len = msglens[(i + n) % 4];

        memset(&lane[i], 0, sizeof(lane[i]));
        lane[i].op = UO_MB_OP_ED25519_SIGN;
        lane[i].key = key[i % 3];
        /* an empty message may come as NULL; the others start at different offsets */
        lane[i].in = len == 0 && i % 2 ? NULL : msg + (len == 1000 ? 0 : i);
        lane[i].inlen = len;
        lane[i].out = out[i];
        lane[i].outlen = sizeof(out[i]);
        lanes[i] = &lane[i];
    }
    uo_mb_batch(lanes, n, &st);
    for (i = 0; i < n; i++) {
        ck_assert_msg(lane[i].status == 1, "lane %u of %u not done", i, n);
        ck_assert_uint_eq(lane[i].outlen, 64);
        ref_sign(pk[i % 3], lane[i].in != NULL ? lane[i].in : msg, lane[i].inlen, want);
        ck_assert_msg(memcmp(out[i], want, 64) == 0, "lane %u of %u (%zu bytes) differs", i, n,
                      lane[i].inlen);
    }
    ck_assert_uint_eq(count(&st.batches), 1);
    ck_assert_uint_eq(count(&st.ops), n);
    ck_assert_uint_eq(count(&st.faults), 0);

    for (i = 0; i < 3; i++) {
        uo_mb_key_free(key[i]);
        EVP_PKEY_free(pk[i]);
    }
}
END_TEST

/* Lane 2 has room for 63 bytes; lane 5 claims a message with no bytes behind it. */
START_TEST(ed25519_bad_lanes)
{
    EVP_PKEY *pk = keygen("ED25519");
    UO_MB_KEY *key = mb_key(pk);
    UO_MB_LANE lane[8], *lanes[8];
    unsigned char msg[32] = "one lane fails, the others don't", out[8][64], want[64];
    UO_MB_STATS st = { 0 };
    unsigned int i;

    ref_sign(pk, msg, sizeof(msg), want);
    for (i = 0; i < 8; i++) {
        memset(&lane[i], 0, sizeof(lane[i]));
        lane[i].op = UO_MB_OP_ED25519_SIGN;
        lane[i].key = key;
        lane[i].in = i == 5 ? NULL : msg;
        lane[i].inlen = sizeof(msg);
        lane[i].out = out[i];
        lane[i].outlen = i == 2 ? 63 : 64;
        lanes[i] = &lane[i];
    }
    uo_mb_batch(lanes, 8, &st);
    for (i = 0; i < 8; i++) {
        if (i == 2 || i == 5) {
            ck_assert_int_eq(lane[i].status, 0);
            continue;
        }
        ck_assert_int_eq(lane[i].status, 1);
        ck_assert_mem_eq(out[i], want, 64);
    }
    ck_assert_uint_eq(count(&st.batches), 1);
    ck_assert_uint_eq(count(&st.ops), 6);

    /* The counters add up over batches. */
    uo_mb_batch(lanes, 2, &st);
    ck_assert_uint_eq(count(&st.batches), 2);
    ck_assert_uint_eq(count(&st.ops), 8);

    uo_mb_key_free(key);
    EVP_PKEY_free(pk);
}
END_TEST

/* ---- keys ---------------------------------------------------------------------------------- */

START_TEST(unbatchable_keys)
{
    static const char *const types[] = { "X448", "ED448" };
    EVP_PKEY *pk, *pub;
    UO_MB_KEY *key;
    unsigned int i;

    for (i = 0; i < 2; i++) {
        pk = keygen(types[i]);
        ck_assert_ptr_null(uo_mb_key_new(ref, pk));
        EVP_PKEY_free(pk);
    }
    /* no private half */
    pk = keygen("X25519");
    pub = public_only(pk);
    ck_assert_ptr_null(uo_mb_key_new(ref, pub));
    EVP_PKEY_free(pub);
    EVP_PKEY_free(pk);

    /* A key outlives the EVP_PKEY it came from, for as long as it has references. */
    pk = keygen("ED25519");
    key = mb_key(pk);
    EVP_PKEY_free(pk);
    ck_assert_int_eq(uo_mb_key_up_ref(key), 1);
    uo_mb_key_free(key);
    ck_assert(uo_mb_key_supports(key, UO_MB_OP_ED25519_SIGN));
    uo_mb_key_free(key);
}
END_TEST

int main(void)
{
    const char *why = NULL;
    Suite *s;
    TCase *tc;
    SRunner *sr;
    int failed;

    if (!uo_mb_available(&why)) {
        printf("test_mb_ecx: skipped: %s\n", why);
        return 77;
    }
    s = suite_create("mb_ecx");
    tc = tcase_create("ecx");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, x25519_batch, 0, UO_MB_LANES);
    tcase_add_test(tc, x25519_bad_lanes);
    tcase_add_loop_test(tc, ed25519_batch, 0, UO_MB_LANES);
    tcase_add_test(tc, ed25519_bad_lanes);
    tcase_add_test(tc, unbatchable_keys);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_mb_keygen.c - batched key-pair generation: EC (P-256, P-384, P-521), X25519 and Ed25519.
 *
 * First the multi-buffer layer alone: batches of 1 to 8 key generation lanes of each class. Every
 * key it makes must pass the default provider's checks, carry the public key the default provider
 * derives from its private key, look like a key of the default provider's own keygen (the same
 * parameters, the same export), differ from its neighbours, and work in ECDH, ECDSA, X25519 and
 * Ed25519 against the default provider.
 *
 * Then through the provider: many ASYNC jobs, each calling EVP_PKEY_Q_keygen in a library context
 * where uringprov is preferred, started from one thread and resumed from one poll() loop as an
 * event-driven server would. Every job must have paused (else a synchronous path would pass),
 * `uringprov-mb-ops` must have risen (else the single path would pass), and every key must work
 * against the default provider. Exits 77 when batching is unavailable here. UO_TEST_VERBOSE=1
 * prints the batch counts.
 */
#include <check.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/async.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/params.h>
#include <openssl/provider.h>

#include "helpers/uo_test.h"
#include "uo_mb.h"

#define MB_OPS "uringprov-mb-ops"
#define MB_BATCHES "uringprov-mb-batches"
#define WAIT_MS 30000   /* sanitizers slow everything; a lost wake-up still ends the run */
#define NJOBS 24

static OSSL_LIB_CTX *ref; /* the default provider alone */

/* The classes under test, as the mb layer and as EVP_PKEY_Q_keygen name them. */
static const struct kind {
    enum uo_mb_op op;
    const char *type;   /* EVP key type */
    const char *group;  /* EC curve, else NULL */
    const char *cls;    /* uo_mb_class_name */
} kinds[] = {
    { UO_MB_OP_EC_KEYGEN, "EC", "P-256", "p256-keygen" },
    { UO_MB_OP_EC_KEYGEN, "EC", "P-384", "p384-keygen" },
    { UO_MB_OP_EC_KEYGEN, "EC", "P-521", "p521-keygen" },
    { UO_MB_OP_X25519_KEYGEN, "X25519", NULL, "x25519-keygen" },
    { UO_MB_OP_ED25519_KEYGEN, "ED25519", NULL, "ed25519-keygen" },
};
#define NKINDS ((int)(sizeof(kinds) / sizeof(kinds[0])))

static int verbose(void)
{
    const char *v = getenv("UO_TEST_VERBOSE");

    return v != NULL && *v != '\0' && strcmp(v, "0") != 0;
}

/* ---- keys and the default provider's view of them ------------------------------------------- */

static EVP_PKEY *ref_keygen(OSSL_LIB_CTX *lc, const struct kind *k)
{
    return k->group != NULL ? EVP_PKEY_Q_keygen(lc, NULL, k->type, k->group)
                            : EVP_PKEY_Q_keygen(lc, NULL, k->type);
}

/* The public key as the key's owner encodes it (EC: 04 || x || y; X/Ed25519: 32 raw bytes). */
static size_t pub_of(EVP_PKEY *pk, unsigned char *buf, size_t cap)
{
    size_t len = cap;

    if (!EVP_PKEY_is_a(pk, "EC")) {
        ck_assert_int_eq(EVP_PKEY_get_raw_public_key(pk, buf, &len), 1);
        return len;
    }
    ck_assert_int_eq(EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, buf,
                                                     cap, &len), 1);
    return len;
}

/* A key of k's kind in ref made from selected params of src (exported by src's provider). */
static EVP_PKEY *to_ref(EVP_PKEY *src, int selection)
{
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *out = NULL;

    if (EVP_PKEY_todata(src, selection, &params) > 0
        && (ctx = EVP_PKEY_CTX_new_from_name(ref, EVP_PKEY_get0_type_name(src), NULL)) != NULL
        && EVP_PKEY_fromdata_init(ctx) > 0)
        EVP_PKEY_fromdata(ctx, &out, selection, params);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    ck_assert_msg(out != NULL, "cannot move a %s key to the default provider",
                  EVP_PKEY_get0_type_name(src));
    return out;
}

/* The default provider's checks: the pair matches, each half is valid. */
static void ref_checks(EVP_PKEY *pk)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(ref, pk, NULL);

    ck_assert_ptr_nonnull(ctx);
    ck_assert_int_eq(EVP_PKEY_pairwise_check(ctx), 1);
    ck_assert_int_eq(EVP_PKEY_check(ctx), 1);
    ck_assert_int_eq(EVP_PKEY_public_check(ctx), 1);
    ck_assert_int_eq(EVP_PKEY_private_check(ctx), 1);
    EVP_PKEY_CTX_free(ctx);
}

/* EC: the public point, priv * G, computed by the default provider's EC code from priv alone. */
static size_t ec_pub_from_priv(EVP_PKEY *pk, unsigned char *buf, size_t cap)
{
    char group[64];
    BIGNUM *priv = NULL;
    EC_GROUP *g;
    EC_POINT *pt;
    size_t len;

    ck_assert(EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                             NULL));
    ck_assert(EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_PRIV_KEY, &priv));
    g = EC_GROUP_new_by_curve_name_ex(ref, NULL, OBJ_sn2nid(group));
    ck_assert_ptr_nonnull(g);
    pt = EC_POINT_new(g);
    ck_assert_ptr_nonnull(pt);
    ck_assert_int_eq(EC_POINT_mul(g, pt, priv, NULL, NULL, NULL), 1);
    len = EC_POINT_point2oct(g, pt, POINT_CONVERSION_UNCOMPRESSED, buf, cap, NULL);
    ck_assert_uint_gt(len, 0);
    EC_POINT_free(pt);
    EC_GROUP_free(g);
    BN_clear_free(priv);
    return len;
}

/* X25519, Ed25519: the default provider's public key for the private key alone. */
static size_t ecx_pub_from_priv(EVP_PKEY *pk, unsigned char *buf, size_t cap)
{
    unsigned char priv[32];
    size_t len = sizeof(priv);
    EVP_PKEY *again;

    ck_assert_int_eq(EVP_PKEY_get_raw_private_key(pk, priv, &len), 1);
    ck_assert_uint_eq(len, 32);
    again = EVP_PKEY_new_raw_private_key_ex(ref, EVP_PKEY_get0_type_name(pk), NULL, priv, len);
    ck_assert_ptr_nonnull(again);
    len = pub_of(again, buf, cap);
    EVP_PKEY_free(again);
    OPENSSL_cleanse(priv, sizeof(priv));
    return len;
}

static void same_public_as_ref(EVP_PKEY *pk)
{
    unsigned char got[1 + 2 * 66], want[1 + 2 * 66];
    size_t glen = pub_of(pk, got, sizeof(got)), wlen;

    wlen = EVP_PKEY_is_a(pk, "EC") ? ec_pub_from_priv(pk, want, sizeof(want))
                                   : ecx_pub_from_priv(pk, want, sizeof(want));
    ck_assert_msg(glen == wlen && memcmp(got, want, glen) == 0,
                  "%s: the public key is not the default provider's for its private key",
                  EVP_PKEY_get0_type_name(pk));
}

/* The value of a gettable parameter as text, for comparing the key's shape; "" when absent. */
static void param_text(EVP_PKEY *pk, const char *name, char *buf, size_t cap)
{
    const OSSL_PARAM *gettable = EVP_PKEY_gettable_params(pk);
    const OSSL_PARAM *p = OSSL_PARAM_locate_const(gettable, name);
    int iv = 0;
    size_t len = 0;

    buf[0] = '\0';
    if (p == NULL)
        return;
    if (p->data_type == OSSL_PARAM_UTF8_STRING) {
        if (!EVP_PKEY_get_utf8_string_param(pk, name, buf, cap, NULL))
            snprintf(buf, cap, "(unreadable)");
    } else if (p->data_type == OSSL_PARAM_INTEGER) {
        if (EVP_PKEY_get_int_param(pk, name, &iv))
            snprintf(buf, cap, "%d", iv);
        else
            snprintf(buf, cap, "(unreadable)");
    } else if (p->data_type == OSSL_PARAM_OCTET_STRING) {
        /* Values differ between keys; their presence and size do not. */
        if (EVP_PKEY_get_octet_string_param(pk, name, NULL, 0, &len))
            snprintf(buf, cap, "%zu bytes", len);
    }
}

/* OpenSSL 3.0 has no OSSL_PARAM_clear_free: the exports hold private keys. */
static void params_clear_free(OSSL_PARAM *params)
{
    OSSL_PARAM *p;

    for (p = params; p != NULL && p->key != NULL; p++)
        if (p->data != NULL)
            OPENSSL_cleanse(p->data, p->data_size);
    OSSL_PARAM_free(params);
}

/*
 * The generated key and one of the default provider's own keygen look the same to an application:
 * the same gettable parameters with the same values (other than the key material itself), the
 * same exported parameter names, the same size.
 */
static void same_shape_as_ref(EVP_PKEY *pk, const struct kind *k)
{
    static const char *const names[] = {
        OSSL_PKEY_PARAM_GROUP_NAME, OSSL_PKEY_PARAM_EC_ENCODING,
        OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, OSSL_PKEY_PARAM_USE_COFACTOR_ECDH,
        OSSL_PKEY_PARAM_EC_INCLUDE_PUBLIC, OSSL_PKEY_PARAM_BITS, OSSL_PKEY_PARAM_SECURITY_BITS,
        OSSL_PKEY_PARAM_MAX_SIZE, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, OSSL_PKEY_PARAM_PUB_KEY,
        OSSL_PKEY_PARAM_MANDATORY_DIGEST, OSSL_PKEY_PARAM_DEFAULT_DIGEST,
    };
    EVP_PKEY *want = ref_keygen(ref, k);
    OSSL_PARAM *pa = NULL, *pb = NULL;
    char a[128], b[128];
    size_t i, j;

    ck_assert_ptr_nonnull(want);
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        param_text(pk, names[i], a, sizeof(a));
        param_text(want, names[i], b, sizeof(b));
        ck_assert_msg(strcmp(a, b) == 0, "%s: %s is '%s', the default keygen's '%s'", k->cls,
                      names[i], a, b);
    }
    ck_assert_int_eq(EVP_PKEY_get_size(pk), EVP_PKEY_get_size(want));
    ck_assert_int_eq(EVP_PKEY_get_bits(pk), EVP_PKEY_get_bits(want));
    ck_assert_int_eq(EVP_PKEY_todata(pk, EVP_PKEY_KEYPAIR, &pa), 1);
    ck_assert_int_eq(EVP_PKEY_todata(want, EVP_PKEY_KEYPAIR, &pb), 1);
    for (i = j = 0; pa[i].key != NULL && pb[j].key != NULL; i++, j++) {
        ck_assert_str_eq(pa[i].key, pb[j].key);
        ck_assert_uint_eq(pa[i].data_type, pb[j].data_type);
    }
    ck_assert_msg(pa[i].key == NULL && pb[j].key == NULL, "%s: the exports differ", k->cls);
    params_clear_free(pa);
    params_clear_free(pb);
    EVP_PKEY_free(want);
}

/* The public half alone, in ref, as a peer or a verifier would hold it. */
static EVP_PKEY *public_only(EVP_PKEY *pk)
{
    return to_ref(pk, EVP_PKEY_PUBLIC_KEY);
}

static size_t derive(OSSL_LIB_CTX *lc, EVP_PKEY *priv, EVP_PKEY *peer, unsigned char *out,
                     size_t cap)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(lc, priv, NULL);
    size_t len = cap;

    ck_assert_ptr_nonnull(ctx);
    ck_assert_int_eq(EVP_PKEY_derive_init(ctx), 1);
    ck_assert_int_eq(EVP_PKEY_derive_set_peer(ctx, peer), 1);
    ck_assert_int_eq(EVP_PKEY_derive(ctx, out, &len), 1);
    EVP_PKEY_CTX_free(ctx);
    return len;
}

/* Key agreement with a fresh default-provider key pair agrees from both sides. */
static void agrees(OSSL_LIB_CTX *lc, EVP_PKEY *pk, const struct kind *k)
{
    EVP_PKEY *other = ref_keygen(ref, k), *other_pub, *mine_pub;
    unsigned char s1[66], s2[66];
    size_t l1, l2;

    ck_assert_ptr_nonnull(other);
    other_pub = public_only(other);
    mine_pub = public_only(pk);
    l1 = derive(lc, pk, other_pub, s1, sizeof(s1));
    l2 = derive(ref, other, mine_pub, s2, sizeof(s2));
    ck_assert_msg(l1 == l2 && memcmp(s1, s2, l1) == 0, "%s: the shared secrets differ", k->cls);
    EVP_PKEY_free(other);
    EVP_PKEY_free(other_pub);
    EVP_PKEY_free(mine_pub);
}

/* A signature made with the key (in lc) verifies with its public half in the default provider. */
static void signs(OSSL_LIB_CTX *lc, EVP_PKEY *pk, const struct kind *k)
{
    static const unsigned char msg[] = "a key share for every handshake";
    const char *md = k->group != NULL ? "SHA256" : NULL;
    EVP_MD_CTX *s = EVP_MD_CTX_new(), *v = EVP_MD_CTX_new();
    EVP_PKEY *pub = public_only(pk);
    unsigned char sig[160];
    size_t siglen = sizeof(sig);

    ck_assert(s != NULL && v != NULL);
    ck_assert_int_eq(EVP_DigestSignInit_ex(s, NULL, md, lc, NULL, pk, NULL), 1);
    ck_assert_int_eq(EVP_DigestSign(s, sig, &siglen, msg, sizeof(msg)), 1);
    ck_assert_int_eq(EVP_DigestVerifyInit_ex(v, NULL, md, ref, NULL, pub, NULL), 1);
    ck_assert_msg(EVP_DigestVerify(v, sig, siglen, msg, sizeof(msg)) == 1,
                  "%s: the default provider rejects the key's signature", k->cls);
    EVP_MD_CTX_free(s);
    EVP_MD_CTX_free(v);
    EVP_PKEY_free(pub);
}

/* What every generated key must satisfy; lc is where it is used (its owner's library context). */
static void key_works(OSSL_LIB_CTX *lc, EVP_PKEY *pk, const struct kind *k)
{
    EVP_PKEY *inref = lc == ref ? pk : to_ref(pk, EVP_PKEY_KEYPAIR);

    ck_assert_msg(EVP_PKEY_is_a(pk, k->type), "%s: a %s key", k->cls,
                  EVP_PKEY_get0_type_name(pk));
    ref_checks(inref);
    same_public_as_ref(inref);
    same_shape_as_ref(pk, k);
    if (k->op != UO_MB_OP_ED25519_KEYGEN)
        agrees(lc, pk, k);
    if (k->op != UO_MB_OP_X25519_KEYGEN)
        signs(lc, pk, k);
    if (inref != pk)
        EVP_PKEY_free(inref);
}

/* No two of the keys share a public key (and so a private key). */
static void all_differ(EVP_PKEY *const keys[], int n)
{
    unsigned char a[1 + 2 * 66], b[1 + 2 * 66];
    int i, j;

    for (i = 0; i < n; i++)
        for (j = i + 1; j < n; j++) {
            size_t la = pub_of(keys[i], a, sizeof(a)), lb = pub_of(keys[j], b, sizeof(b));

            ck_assert_msg(la != lb || memcmp(a, b, la) != 0, "keys %d and %d are the same", i, j);
        }
}

/* ---- 1. the mb layer alone ---------------------------------------------------------------- */

static void setup(void)
{
    ref = uot_default_libctx_new();
    ck_assert_ptr_nonnull(ref);
}

static void teardown(void)
{
    OSSL_LIB_CTX_free(ref);
    ref = NULL;
}

/* _i: a kind and a batch size, 1..8 lanes. */
START_TEST(mb_batch)
{
    const struct kind *k = &kinds[_i / UO_MB_LANES];
    unsigned int n = (unsigned int)(_i % UO_MB_LANES) + 1, i;
    UO_MB_KEY *cls = uo_mb_keygen_key(k->op, k->group);
    UO_MB_LANE lane[UO_MB_LANES], *lanes[UO_MB_LANES];
    EVP_PKEY *keys[UO_MB_LANES];
    UO_MB_STATS st = { 0 };

    ck_assert_ptr_nonnull(cls);
    ck_assert(uo_mb_key_supports(cls, k->op));
    ck_assert_str_eq(uo_mb_class_name(uo_mb_class(k->op, cls)), k->cls);
    for (i = 0; i < n; i++) {
        memset(&lane[i], 0, sizeof(lane[i]));
        lane[i].op = k->op;
        lane[i].key = cls;
        lane[i].libctx = ref;
        lanes[i] = &lane[i];
    }
    uo_mb_batch(lanes, n, &st);
    for (i = 0; i < n; i++) {
        ck_assert_msg(lane[i].status == 1, "%s: lane %u of %u not done", k->cls, i, n);
        ck_assert_ptr_nonnull(lane[i].genkey);
        keys[i] = lane[i].genkey;
        key_works(ref, keys[i], k);
    }
    all_differ(keys, (int)n);
    ck_assert_uint_eq(atomic_load(&st.batches), 1);
    ck_assert_uint_eq(atomic_load(&st.ops), n);
    for (i = 0; i < n; i++)
        EVP_PKEY_free(keys[i]);
}
END_TEST

/*
 * Lanes the adapter must leave alone (status 0, genkey untouched) among good ones: one that
 * already holds a key, one of another curve's class in a P-256 batch.
 */
START_TEST(mb_bad_lanes)
{
    UO_MB_KEY *p256 = uo_mb_keygen_key(UO_MB_OP_EC_KEYGEN, "prime256v1");
    UO_MB_KEY *p384 = uo_mb_keygen_key(UO_MB_OP_EC_KEYGEN, "secp384r1");
    UO_MB_LANE lane[4], *lanes[4];
    EVP_PKEY *held = ref_keygen(ref, &kinds[0]);
    UO_MB_STATS st = { 0 };
    unsigned int i;

    ck_assert(p256 != NULL && p384 != NULL && held != NULL);
    for (i = 0; i < 4; i++) {
        memset(&lane[i], 0, sizeof(lane[i]));
        lane[i].op = UO_MB_OP_EC_KEYGEN;
        lane[i].key = p256;
        lane[i].libctx = ref;
        lanes[i] = &lane[i];
    }
    lane[1].genkey = held;
    lane[2].key = p384;
    uo_mb_batch(lanes, 4, &st);
    ck_assert_int_eq(lane[0].status, 1);
    ck_assert_int_eq(lane[1].status, 0);
    ck_assert_ptr_eq(lane[1].genkey, held);
    ck_assert_int_eq(lane[2].status, 0);
    ck_assert_ptr_null(lane[2].genkey);
    ck_assert_int_eq(lane[3].status, 1);
    key_works(ref, lane[0].genkey, &kinds[0]);
    key_works(ref, lane[3].genkey, &kinds[0]);
    ck_assert_uint_eq(atomic_load(&st.ops), 2);
    EVP_PKEY_free(lane[0].genkey);
    EVP_PKEY_free(lane[3].genkey);
    EVP_PKEY_free(held);
}
END_TEST

/* Class keys: which names they accept, what they support, and that counting them does nothing. */
START_TEST(mb_class_keys)
{
    static const char *const p256_names[] = { "P-256", "prime256v1", "p-256", "PRIME256V1" };
    UO_MB_KEY *p256 = uo_mb_keygen_key(UO_MB_OP_EC_KEYGEN, "P-256");
    UO_MB_KEY *x = uo_mb_keygen_key(UO_MB_OP_X25519_KEYGEN, NULL);
    UO_MB_KEY *ed = uo_mb_keygen_key(UO_MB_OP_ED25519_KEYGEN, "ignored");
    size_t i;

    ck_assert(p256 != NULL && x != NULL && ed != NULL);
    for (i = 0; i < sizeof(p256_names) / sizeof(p256_names[0]); i++)
        ck_assert_ptr_eq(uo_mb_keygen_key(UO_MB_OP_EC_KEYGEN, p256_names[i]), p256);
    ck_assert_ptr_null(uo_mb_keygen_key(UO_MB_OP_EC_KEYGEN, "secp256k1"));
    ck_assert_ptr_null(uo_mb_keygen_key(UO_MB_OP_EC_KEYGEN, "brainpoolP256r1"));
    ck_assert_ptr_null(uo_mb_keygen_key(UO_MB_OP_EC_KEYGEN, NULL));
    ck_assert_ptr_null(uo_mb_keygen_key(UO_MB_OP_ECDSA_SIGN, "P-256"));
    ck_assert_ptr_null(uo_mb_keygen_key(UO_MB_OP_X25519_DERIVE, NULL));
    ck_assert_ptr_null(uo_mb_keygen_key(UO_MB_OP_NONE, NULL));
    /* A class key has no material: no operation of a real key may take it, nor it theirs. */
    ck_assert(!uo_mb_key_supports(p256, UO_MB_OP_ECDSA_SIGN));
    ck_assert(!uo_mb_key_supports(p256, UO_MB_OP_ECDH_DERIVE));
    ck_assert(!uo_mb_key_supports(x, UO_MB_OP_X25519_DERIVE));
    ck_assert(!uo_mb_key_supports(ed, UO_MB_OP_ED25519_SIGN));
    ck_assert(!uo_mb_key_supports(x, UO_MB_OP_ED25519_KEYGEN));
    ck_assert_uint_ne(uo_mb_class(UO_MB_OP_EC_KEYGEN, p256),
                      uo_mb_class(UO_MB_OP_EC_KEYGEN,
                                  uo_mb_keygen_key(UO_MB_OP_EC_KEYGEN, "P-384")));
    /* Static: references do nothing, and freeing it leaves it usable. */
    ck_assert_int_eq(uo_mb_key_up_ref(p256), 1);
    uo_mb_key_free(p256);
    uo_mb_key_free(p256);
    ck_assert_int_eq(atomic_load(&p256->refs), 0);
    ck_assert(uo_mb_key_supports(p256, UO_MB_OP_EC_KEYGEN));
    {
        EVP_PKEY *real = ref_keygen(ref, &kinds[0]);
        UO_MB_KEY *mk = uo_mb_key_new(ref, real);

        ck_assert_ptr_nonnull(mk);
        ck_assert(!uo_mb_key_supports(mk, UO_MB_OP_EC_KEYGEN));
        uo_mb_key_free(mk);
        EVP_PKEY_free(real);
    }
}
END_TEST

/* ---- 2. through the provider, from ASYNC jobs ---------------------------------------------- */

/* A job's state lives on the heap: job stacks are 32 KiB without a guard page. */
struct job {
    OSSL_LIB_CTX *lc;
    const struct kind *k;
    EVP_PKEY *key;              /* the job's result */
    unsigned long err;
    ASYNC_JOB *job;
    ASYNC_WAIT_CTX *wctx;
    int ret, started, finished, abandoned, pauses, fd, bad_fds;
};

static int job_main(void *arg)
{
    struct job *j = *(struct job **)arg;

    j->key = ref_keygen(j->lc, j->k);
    j->err = j->key == NULL ? ERR_peek_last_error() : 0;
    ERR_clear_error();
    return j->key != NULL;
}

static int job_step(struct job *j)
{
    struct job *self = j;
    int rc = ASYNC_start_job(&j->job, j->wctx, &j->ret, job_main, &self, sizeof(self));

    j->started = 1;
    if (rc == ASYNC_PAUSE) {
        OSSL_ASYNC_FD fd;
        size_t n = 0;

        j->pauses++;
        if (!ASYNC_WAIT_CTX_get_all_fds(j->wctx, NULL, &n) || n != 1)
            j->bad_fds++;
        else if (ASYNC_WAIT_CTX_get_all_fds(j->wctx, &fd, &n))
            j->fd = fd;
    } else if (rc == ASYNC_FINISH) {
        j->finished = 1;
        j->job = NULL;
    }
    return rc;
}

/*
 * Starts every job not yet started, in turn, then resumes them as their fds become readable;
 * abandoned jobs are left alone. 0 on a failure.
 */
static int drive(struct job *jobs, int n)
{
    struct pollfd *pfd = calloc((size_t)n, sizeof(*pfd));
    int *idx = calloc((size_t)n, sizeof(*idx));
    int i, ok = pfd != NULL && idx != NULL;

    for (i = 0; ok && i < n; i++)
        if (!jobs[i].started)
            ok = job_step(&jobs[i]) != ASYNC_ERR;
    while (ok) {
        int m = 0, k;

        for (i = 0; i < n && ok; i++) {
            if (jobs[i].finished || jobs[i].abandoned)
                continue;
            ok = jobs[i].fd >= 0; /* paused with no fd: nothing could ever wake it */
            pfd[m].fd = jobs[i].fd;
            pfd[m].events = POLLIN;
            pfd[m].revents = 0;
            idx[m++] = i;
        }
        if (!ok || m == 0)
            break;
        if (poll(pfd, (nfds_t)m, WAIT_MS) <= 0) {
            fprintf(stderr, "drive: no fd became readable within %d ms\n", WAIT_MS);
            ok = 0;
        }
        for (k = 0; ok && k < m; k++) {
            if ((pfd[k].revents & POLLNVAL) != 0)
                ok = 0;
            else if (pfd[k].revents != 0)
                ok = job_step(&jobs[idx[k]]) != ASYNC_ERR;
        }
    }
    free(pfd);
    free(idx);
    return ok;
}

static int held_by_uo(const EVP_PKEY *pk)
{
    const OSSL_PROVIDER *p = EVP_PKEY_get0_provider(pk);

    return p != NULL && strcmp(OSSL_PROVIDER_get0_name(p), "uringprov") == 0;
}

/* n jobs of the given kinds (round-robin over kidx[0..nk-1]); all must pause and work. */
static void run_keygens(const int *kidx, int nk, int n, const char *what)
{
    OSSL_LIB_CTX *lc = uot_libctx_new(NULL);
    struct job *jobs = calloc((size_t)n, sizeof(*jobs));
    uint64_t ops0, ops, batches;
    int i;

    ck_assert(lc != NULL && jobs != NULL);
    ops0 = uot_counter(lc, MB_OPS);
    for (i = 0; i < n; i++) {
        jobs[i].lc = lc;
        jobs[i].k = &kinds[kidx[i % nk]];
        jobs[i].fd = -1;
        jobs[i].wctx = ASYNC_WAIT_CTX_new();
        ck_assert_ptr_nonnull(jobs[i].wctx);
    }
    ck_assert_msg(drive(jobs, n), "%s: the event loop failed", what);
    ops = uot_counter(lc, MB_OPS) - ops0;
    batches = uot_counter(lc, MB_BATCHES);
    if (verbose())
        printf("%s: %d key generations, %llu of them in %llu batches\n", what, n,
               (unsigned long long)ops, (unsigned long long)batches);
    for (i = 0; i < n; i++) {
        struct job *j = &jobs[i];

        ck_assert_msg(j->finished, "%s: job %d did not finish", what, i);
        ck_assert_msg(j->pauses >= 1, "%s: job %d never paused: no worker made its key", what,
                      i);
        ck_assert_msg(j->bad_fds == 0, "%s: job %d paused without exactly one fd", what, i);
        ck_assert_msg(j->ret == 1 && j->key != NULL, "%s: job %d failed: %s", what, i,
                      j->err != 0 ? ERR_error_string(j->err, NULL) : "no error queued");
        ck_assert_msg(held_by_uo(j->key), "%s: job %d's key is not uringprov's", what, i);
    }
    ck_assert_msg(ops >= 1, "%s: no key generation came from a batch", what);
    for (i = 0; i < n; i++)
        key_works(lc, jobs[i].key, jobs[i].k);
    for (i = 0; i < n; i++) {
        EVP_PKEY_free(jobs[i].key);
        ASYNC_WAIT_CTX_free(jobs[i].wctx);
    }
    free(jobs);
    OSSL_LIB_CTX_free(lc);
}

/* _i: one kind, NJOBS jobs of it. */
START_TEST(provider_one_kind)
{
    char what[64];

    snprintf(what, sizeof(what), "provider %s", kinds[_i].cls);
    run_keygens(&_i, 1, NJOBS, what);
}
END_TEST

/* X25519, P-256 and Ed25519 interleaved, as a TLS server's key shares and its peers' would be. */
START_TEST(provider_mixed)
{
    static const int mix[] = { 3, 0, 4, 1 };

    run_keygens(mix, 4, 32, "provider mixed");
}
END_TEST

/* OpenSSL never frees a job that is not resumed; keeping them here keeps them reachable. */
static ASYNC_JOB *volatile abandoned_jobs[NJOBS];

/* Waits up to 10 s for the provider to have no request in flight. */
static int settled(OSSL_LIB_CTX *lc)
{
    int i;

    for (i = 0; i < 1000; i++) {
        if (uot_counter(lc, "uringprov-inflight") == 0)
            return 1;
        poll(NULL, 0, 10);
    }
    return 0;
}

/*
 * Jobs abandoned at their first pause (their wait ctx freed, never resumed, as a server drops a
 * connection mid-handshake) beside jobs driven to the end: a key the batch made for an abandoned
 * request must be freed exactly once (ASan and LSan builds tell), and the others still work.
 */
START_TEST(provider_abandoned)
{
    static const int mix[] = { 3, 0, 4 };
    OSSL_LIB_CTX *lc = uot_libctx_new(NULL);
    struct job *jobs = calloc(NJOBS, sizeof(*jobs));
    uint64_t ops0;
    int i, na = 0;

    ck_assert(lc != NULL && jobs != NULL);
    ops0 = uot_counter(lc, MB_OPS);
    for (i = 0; i < NJOBS; i++) {
        jobs[i].lc = lc;
        jobs[i].k = &kinds[mix[i % 3]];
        jobs[i].fd = -1;
        jobs[i].wctx = ASYNC_WAIT_CTX_new();
        ck_assert_ptr_nonnull(jobs[i].wctx);
        ck_assert_int_eq(job_step(&jobs[i]), ASYNC_PAUSE);
        if (i % 2 == 0) {
            abandoned_jobs[na++] = jobs[i].job;
            ASYNC_WAIT_CTX_free(jobs[i].wctx);
            jobs[i].wctx = NULL;
            jobs[i].abandoned = 1;
        }
    }
    ck_assert_msg(drive(jobs, NJOBS), "abandoned: the event loop failed");
    ck_assert_msg(settled(lc), "abandoned: requests still in flight after 10 s");
    ck_assert_uint_gt(uot_counter(lc, MB_OPS), ops0);
    for (i = 0; i < NJOBS; i++) {
        if (jobs[i].abandoned)
            continue;
        ck_assert_msg(jobs[i].finished && jobs[i].key != NULL, "abandoned: job %d failed", i);
        key_works(lc, jobs[i].key, jobs[i].k);
        EVP_PKEY_free(jobs[i].key);
        ASYNC_WAIT_CTX_free(jobs[i].wctx);
    }
    free(jobs);
    OSSL_LIB_CTX_free(lc);
}
END_TEST

/* EC P-256 with a point format set, generated in lc. */
static EVP_PKEY *ec_keygen_format(OSSL_LIB_CTX *lc, const char *format)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(lc, "EC", NULL);
    EVP_PKEY *pk = NULL;
    OSSL_PARAM p[2];

    p[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                            (char *)format, 0);
    p[1] = OSSL_PARAM_construct_end();
    ck_assert(ctx != NULL && EVP_PKEY_keygen_init(ctx) == 1
              && EVP_PKEY_CTX_set_group_name(ctx, "P-256") == 1
              && EVP_PKEY_CTX_set_params(ctx, p) == 1 && EVP_PKEY_generate(ctx, &pk) == 1);
    EVP_PKEY_CTX_free(ctx);
    return pk;
}

/*
 * Generation that must stay on the single path still works through the provider, as the default
 * provider's does: a parameter the batch does not reproduce (point format), and a template (the
 * domain parameters of a key, as openssl speed makes its EC keys).
 */
START_TEST(provider_single_path)
{
    OSSL_LIB_CTX *lc = uot_libctx_new(NULL);
    EVP_PKEY_CTX *ctx;
    EVP_PKEY *pk, *want, *params = NULL, *pk2 = NULL;
    unsigned char a[1 + 2 * 66], b[1 + 2 * 66];
    char fa[32], fb[32];
    uint64_t ops0;

    ck_assert_ptr_nonnull(lc);
    ops0 = uot_counter(lc, MB_OPS);
    pk = ec_keygen_format(lc, "compressed");
    want = ec_keygen_format(ref, "compressed");
    ck_assert(held_by_uo(pk));
    param_text(pk, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, fa, sizeof(fa));
    param_text(want, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, fb, sizeof(fb));
    ck_assert_str_eq(fa, fb);
    ck_assert_uint_eq(pub_of(pk, a, sizeof(a)), pub_of(want, b, sizeof(b)));
    ck_assert_uint_eq(a[0] & 0xfe, b[0] & 0xfe); /* 02/03 compressed, 04 not */

    ctx = EVP_PKEY_CTX_new_from_name(lc, "EC", NULL);
    ck_assert(ctx != NULL && EVP_PKEY_paramgen_init(ctx) == 1
              && EVP_PKEY_CTX_set_group_name(ctx, "P-384") == 1
              && EVP_PKEY_generate(ctx, &params) == 1);
    EVP_PKEY_CTX_free(ctx);
    ctx = EVP_PKEY_CTX_new_from_pkey(lc, params, NULL);
    ck_assert(ctx != NULL && EVP_PKEY_keygen_init(ctx) == 1 && EVP_PKEY_generate(ctx, &pk2) == 1);
    ck_assert(held_by_uo(pk2));
    key_works(lc, pk2, &kinds[1]);
    EVP_PKEY_CTX_free(ctx);
    ck_assert_uint_eq(uot_counter(lc, MB_OPS), ops0);
    EVP_PKEY_free(pk);
    EVP_PKEY_free(want);
    EVP_PKEY_free(params);
    EVP_PKEY_free(pk2);
    OSSL_LIB_CTX_free(lc);
}
END_TEST

/* Whether the provider itself batches: built in, the CPU, its configuration, URINGPROV_NO_MB. */
static int provider_batches(void)
{
    OSSL_LIB_CTX *lc = uot_libctx_new(NULL);
    OSSL_PROVIDER *prov = lc != NULL ? OSSL_PROVIDER_try_load(lc, "uringprov", 0) : NULL;
    OSSL_PARAM p[2];
    int mb = -1;

    if (prov != NULL) {
        p[0] = OSSL_PARAM_construct_int("uringprov-mb", &mb);
        p[1] = OSSL_PARAM_construct_end();
        if (!OSSL_PROVIDER_get_params(prov, p) || !OSSL_PARAM_modified(p))
            mb = -1;
        OSSL_PROVIDER_unload(prov);
    }
    OSSL_LIB_CTX_free(lc);
    return mb;
}

int main(void)
{
    const char *why = NULL;
    Suite *s;
    TCase *tc, *tp;
    SRunner *sr;
    int failed, mb;

    if (!uo_mb_available(&why)) {
        printf("SKIP: multi-buffer batching unavailable: %s\n", why);
        return 77;
    }
    mb = provider_batches();
    s = suite_create("mb_keygen");
    tc = tcase_create("mb");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, mb_batch, 0, NKINDS * UO_MB_LANES);
    tcase_add_test(tc, mb_bad_lanes);
    tcase_add_test(tc, mb_class_keys);
    suite_add_tcase(s, tc);

    tp = tcase_create("provider");
    tcase_add_checked_fixture(tp, setup, teardown);
    tcase_set_timeout(tp, 120);
    if (mb == 1) {
        tcase_add_loop_test(tp, provider_one_kind, 0, NKINDS);
        tcase_add_test(tp, provider_mixed);
        tcase_add_test(tp, provider_abandoned);
    } else {
        printf("note: uringprov does not batch here (uringprov-mb = %d; URINGPROV_DEBUG=1 says "
               "why): the provider's batched key generation is not tested\n", mb);
    }
    tcase_add_test(tp, provider_single_path);
    suite_add_tcase(s, tp);

    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

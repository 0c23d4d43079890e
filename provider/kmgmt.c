/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kmgmt.c - the key management code that every family shares.
 *
 * A UO_KEY wraps an inner EVP_PKEY of the same type made by the default provider in the inner
 * library context. Import and export go through EVP_PKEY_fromdata/EVP_PKEY_export, and parameters
 * through EVP_PKEY_get_params/set_params, so uringprov accepts everything the default keymgmt
 * exports and its own export round-trips. Each family's file (rsa_kmgmt.c, ec_kmgmt.c, ...) adds
 * its descriptor, its constructors and its dispatch table.
 */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_object.h>
#include <openssl/err.h>

#include "raw_kmgmt.h"

typedef struct {
    UO_PROVCTX *pc;
    const UO_KEYTYPE *type;
    EVP_PKEY_CTX *pctx;   /* inner keygen or paramgen context */
    int selection;
    EVP_PKEY *tmpl;       /* inner template key (domain parameters), referenced */
    /*
     * What the inner context was told, as far as a batch must know: the last group name given,
     * and whether anything else was (a parameter or a template), which the batch, making its key
     * from the group alone, would not reproduce.
     */
    char group[64];
    int mb_off;
    UO_MB_LANE mb;        /* the lane template of the last key generation that could batch */
    OSSL_CALLBACK *cb;    /* the caller's progress callback (0 from it aborts), and its arg */
    void *cbarg;
} UO_GEN_CTX;

UO_KEY *uo_key_new(UO_PROVCTX *pc, const UO_KEYTYPE *type)
{
    UO_KEY *key = OPENSSL_zalloc(sizeof(*key));

    if (key == NULL) {
        UO_RAISE(pc, UO_R_MALLOC_FAILURE);
        return NULL;
    }
    key->pc = pc;
    key->type = type;
    return key;
}

static int key_has_param(EVP_PKEY *pkey, const char *name, int is_bn)
{
    size_t len = 0;
    int ok;

    if (name == NULL)
        return 0;
    if (is_bn) {
        BIGNUM *bn = NULL;

        ok = EVP_PKEY_get_bn_param(pkey, name, &bn);
        BN_clear_free(bn);
    } else {
        ok = EVP_PKEY_get_octet_string_param(pkey, name, NULL, 0, &len) && len > 0;
    }
    return ok;
}

/* Drops batch material made from the key's previous contents. */
static void key_mb_reset(UO_KEY *key)
{
    uo_mb_key_free(atomic_exchange(&key->mb, NULL));
    atomic_store(&key->mb_tried, 0);
}

UO_MB_KEY *uo_key_mb(UO_KEY *key)
{
    UO_MB_KEY *mb, *made;

    if (!key->pc->multibuffer || !key->has_priv || key->pkey == NULL)
        return NULL;
    mb = atomic_load_explicit(&key->mb, memory_order_acquire);
    if (mb == NULL && !atomic_load_explicit(&key->mb_tried, memory_order_acquire)) {
        /* Threads that race here each make it; one publishes, the others free theirs. */
        made = uo_mb_key_new(key->pc->libctx, key->pkey);
        if (made != NULL && !atomic_compare_exchange_strong(&key->mb, &mb, made))
            uo_mb_key_free(made);
        else if (made != NULL)
            mb = made;
        atomic_store_explicit(&key->mb_tried, 1, memory_order_release);
        UO_LOG(2, "key %p (%s): %s", (void *)key, key->type->name,
               mb != NULL ? "batch material made" : "not batchable");
    }
    if (mb != NULL)
        uo_mb_key_up_ref(mb);
    return mb;
}

int uo_key_set_pkey(UO_KEY *key, EVP_PKEY *pkey)
{
    int size;

    key_mb_reset(key);
    EVP_PKEY_free(key->pkey);
    key->pkey = pkey;
    key->has_pub = key->has_priv = 0;
    key->max_size = 0;
    if (pkey == NULL)
        return 1;
    key->has_pub = key_has_param(pkey, key->type->pub_param, key->type->pub_is_bn);
    key->has_priv = key_has_param(pkey, key->type->priv_param, key->type->priv_is_bn);
    size = EVP_PKEY_get_size(pkey);
    key->max_size = size > 0 ? (size_t)size : 0;
    ERR_clear_error(); /* probing for absent components is not an error */
    return 1;
}

void uo_kmgmt_free(void *keydata)
{
    UO_KEY *key = keydata;

    if (key == NULL)
        return;
    key_mb_reset(key);
    EVP_PKEY_free(key->pkey);
    OPENSSL_free(key);
}

int uo_kmgmt_has(const void *keydata, int selection)
{
    const UO_KEY *key = keydata;
    int ok = 1;

    if (key == NULL)
        return 0;
    if ((selection & OSSL_KEYMGMT_SELECT_ALL) == 0)
        return 1;
    if ((selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) != 0)
        ok = ok && key->has_pub;
    if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0)
        ok = ok && key->has_priv;
    if ((selection & OSSL_KEYMGMT_SELECT_ALL_PARAMETERS) != 0)
        ok = ok && key->pkey != NULL;
    return ok;
}

/* 1 if both keys hold parameter name with the same value. */
static int key_param_eq(const UO_KEY *k1, const UO_KEY *k2, const char *name, int is_bn)
{
    unsigned char *a = NULL, *b = NULL;
    size_t la = 0, lb = 0;
    int eq = 0;

    if (name == NULL)
        return 0;
    if (is_bn) {
        BIGNUM *x = NULL, *y = NULL;

        eq = EVP_PKEY_get_bn_param(k1->pkey, name, &x) && EVP_PKEY_get_bn_param(k2->pkey, name, &y)
             && BN_cmp(x, y) == 0;
        BN_clear_free(x);
        BN_clear_free(y);
        return eq;
    }
    if (EVP_PKEY_get_octet_string_param(k1->pkey, name, NULL, 0, &la)
        && EVP_PKEY_get_octet_string_param(k2->pkey, name, NULL, 0, &lb) && la == lb && la > 0
        && (a = OPENSSL_secure_malloc(la)) != NULL && (b = OPENSSL_secure_malloc(lb)) != NULL
        && EVP_PKEY_get_octet_string_param(k1->pkey, name, a, la, &la)
        && EVP_PKEY_get_octet_string_param(k2->pkey, name, b, lb, &lb))
        eq = la == lb && CRYPTO_memcmp(a, b, la) == 0;
    OPENSSL_secure_clear_free(a, la);
    OPENSSL_secure_clear_free(b, lb);
    return eq;
}

int uo_kmgmt_match(const void *keydata1, const void *keydata2, int selection)
{
    const UO_KEY *k1 = keydata1, *k2 = keydata2;
    int ok = 1;

    if (k1 == NULL || k2 == NULL || k1->pkey == NULL || k2->pkey == NULL)
        return 0;
    if ((selection & OSSL_KEYMGMT_SELECT_DOMAIN_PARAMETERS) != 0)
        ok = ok && EVP_PKEY_parameters_eq(k1->pkey, k2->pkey) == 1;
    /*
     * As the default keymgmts do: compare the public halves if they were selected and both keys
     * have them, else the private halves if selected and present; a selected half that cannot be
     * compared is a mismatch (a public key does not match a key pair on PRIVATE_KEY alone).
     */
    if ((selection & OSSL_KEYMGMT_SELECT_KEYPAIR) != 0) {
        int checked = 0;

        if ((selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) != 0 && k1->has_pub && k2->has_pub) {
            ok = ok && EVP_PKEY_eq(k1->pkey, k2->pkey) == 1;
            checked = 1;
        }
        if (!checked && (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0
            && k1->has_priv && k2->has_priv) {
            ok = ok && key_param_eq(k1, k2, k1->type->priv_param, k1->type->priv_is_bn);
            checked = 1;
        }
        ok = ok && checked;
    }
    ERR_clear_error();
    return ok;
}

int uo_kmgmt_validate(const void *keydata, int selection, int checktype)
{
    const UO_KEY *key = keydata;
    EVP_PKEY_CTX *ctx;
    int ok = 1;

    if (key == NULL || key->pkey == NULL)
        return 0;
    if ((selection & OSSL_KEYMGMT_SELECT_KEYPAIR) == 0
        && (selection & OSSL_KEYMGMT_SELECT_ALL_PARAMETERS) == 0)
        return 1;
    ctx = EVP_PKEY_CTX_new_from_pkey(key->pc->libctx, key->pkey, NULL);
    if (ctx == NULL)
        return 0;
    if ((selection & OSSL_KEYMGMT_SELECT_KEYPAIR) == OSSL_KEYMGMT_SELECT_KEYPAIR)
        ok = EVP_PKEY_pairwise_check(ctx) == 1 && EVP_PKEY_public_check(ctx) == 1
             && EVP_PKEY_private_check(ctx) == 1;
    else if ((selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) != 0)
        ok = (checktype == OSSL_KEYMGMT_VALIDATE_QUICK_CHECK
                  ? EVP_PKEY_public_check_quick(ctx) : EVP_PKEY_public_check(ctx)) == 1;
    else if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0)
        ok = EVP_PKEY_private_check(ctx) == 1;
    if (ok && (selection & OSSL_KEYMGMT_SELECT_DOMAIN_PARAMETERS) != 0)
        ok = EVP_PKEY_param_check(ctx) == 1;
    EVP_PKEY_CTX_free(ctx);
    /* Some inner checks fail without a word (an X25519 private key of another key pair). */
    if (!ok && ERR_peek_last_error() == 0)
        UO_RAISE_DATA(key->pc, UO_R_INVALID_KEY, "%s key check failed", key->type->name);
    return ok;
}

/*
 * OpenSSL 3.0's RSA import (ossl_rsa_fromdata) mishandles a private key whose CRT values do not
 * match its factors: given exponents and coefficients without the factors, or two factors with
 * the wrong number of them, it leaks the ones it ignores; given more than two factors without all
 * their exponents and coefficients, it frees the first two factors twice and crashes. Both found
 * by test/fuzz/fuzz_import. So the inner import gets the ignored values dropped (the same key, no
 * leak), and never a multi-prime set that is incomplete (*reject). Returns params itself when it
 * is fine, else a copy the caller frees, whose entries point to the caller's data (nothing secret
 * is copied).
 */
static int rsa_crt_kind(const char *key)
{
    if (strncmp(key, "rsa-factor", 10) == 0)
        return 1;
    if (strncmp(key, "rsa-exponent", 12) == 0)
        return 2;
    if (strncmp(key, "rsa-coefficient", 15) == 0)
        return 3;
    return 0;
}

static OSSL_PARAM *rsa_params_checked(const UO_KEY *key, const OSSL_PARAM *params, int *reject)
{
    const OSSL_PARAM *p;
    OSSL_PARAM *out;
    size_t n = 0, count[4] = { 0 };

    *reject = 0;
    if ((key->type->family != UO_FAM_RSA && key->type->family != UO_FAM_RSA_PSS)
        || OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_RSA_D) == NULL)
        return (OSSL_PARAM *)params; /* without d, OpenSSL looks at none of them */
    for (p = params; p->key != NULL; p++, n++)
        count[rsa_crt_kind(p->key)]++;
    if (count[1] >= 2 && count[2] == count[1] && count[3] + 1 == count[1])
        return (OSSL_PARAM *)params;
    if (count[1] > 2) {
        *reject = 1;
        return NULL;
    }
    if (count[1] < 2 && count[2] + count[3] == 0)
        return (OSSL_PARAM *)params;
    /* Exponents and coefficients that OpenSSL would ignore (and leak): leave them out. */
    if ((out = OPENSSL_malloc((n + 1) * sizeof(*out))) == NULL)
        return (OSSL_PARAM *)params;
    for (n = 0, p = params; p->key != NULL; p++)
        if (rsa_crt_kind(p->key) < 2)
            out[n++] = *p;
    out[n] = *p;
    return out;
}

int uo_kmgmt_import(void *keydata, int selection, const OSSL_PARAM params[])
{
    UO_KEY *key = keydata;
    EVP_PKEY_CTX *ctx;
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM *inner;
    int ok, reject;

    if (key == NULL || params == NULL) {
        UO_RAISE(key != NULL ? key->pc : NULL, UO_R_NULL_ARGUMENT);
        return 0;
    }
    ctx = EVP_PKEY_CTX_new_from_name(key->pc->libctx, key->type->name, NULL);
    if (ctx == NULL)
        return 0;
    inner = rsa_params_checked(key, params, &reject);
    if (reject) {
        EVP_PKEY_CTX_free(ctx);
        UO_RAISE_DATA(key->pc, UO_R_INVALID_KEY,
                      "RSA private key with more than two factors but not all their CRT values");
        return 0;
    }
    ok = EVP_PKEY_fromdata_init(ctx) > 0 && EVP_PKEY_fromdata(ctx, &pkey, selection, inner) > 0;
    if (inner != params)
        OPENSSL_free(inner);
    EVP_PKEY_CTX_free(ctx);
    if (!ok) {
        UO_RAISE_DATA(key->pc, UO_R_INVALID_KEY, "%s key import rejected", key->type->name);
        return 0;
    }
    uo_key_set_pkey(key, pkey);
    /*
     * OpenSSL exports a public-only key to us with OSSL_KEYMGMT_SELECT_ALL (peer keys, at
     * EVP_PKEY_derive_set_peer), and the default keymgmt accepts that: only a private part that
     * was given and then lost is an error.
     */
    if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0 && !key->has_priv
        && key->type->priv_param != NULL
        && OSSL_PARAM_locate_const(params, key->type->priv_param) != NULL) {
        UO_RAISE_DATA(key->pc, UO_R_INVALID_KEY, "%s private key import has no private part",
                      key->type->name);
        return 0;
    }
    return 1;
}

int uo_kmgmt_export(void *keydata, int selection, OSSL_CALLBACK *cb, void *cbarg)
{
    UO_KEY *key = keydata;

    if (key == NULL || key->pkey == NULL)
        return 0;
    if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0 && !key->has_priv)
        selection &= ~OSSL_KEYMGMT_SELECT_PRIVATE_KEY;
    return EVP_PKEY_export(key->pkey, selection, cb, cbarg);
}

int uo_kmgmt_get_params(void *keydata, OSSL_PARAM params[])
{
    UO_KEY *key = keydata;

    if (key == NULL || key->pkey == NULL)
        return 0;
    if (params == NULL)
        return 1;
    return EVP_PKEY_get_params(key->pkey, params);
}

int uo_kmgmt_set_params(void *keydata, const OSSL_PARAM params[])
{
    UO_KEY *key = keydata;

    if (key == NULL || key->pkey == NULL)
        return 0;
    if (params == NULL || params->key == NULL)
        return 1;
    if (!EVP_PKEY_set_params(key->pkey, (OSSL_PARAM *)params))
        return 0;
    /* e.g. an encoded public key set on an empty EC key: see what the key holds now. */
    EVP_PKEY_up_ref(key->pkey);
    return uo_key_set_pkey(key, key->pkey);
}

const OSSL_PARAM *uo_kmgmt_gettable(UO_PROVCTX *pc, enum uo_family fam)
{
    return pc->inner[fam].keymgmt != NULL ? EVP_KEYMGMT_gettable_params(pc->inner[fam].keymgmt)
                                          : NULL;
}

const OSSL_PARAM *uo_kmgmt_settable(UO_PROVCTX *pc, enum uo_family fam)
{
    return pc->inner[fam].keymgmt != NULL ? EVP_KEYMGMT_settable_params(pc->inner[fam].keymgmt)
                                          : NULL;
}

/* OpenSSL 3.0 has no OSSL_PARAM_clear_free: wipe what EVP_PKEY_todata exported, then free it. */
static void params_clear_free(OSSL_PARAM *params)
{
    OSSL_PARAM *p;

    for (p = params; p != NULL && p->key != NULL; p++)
        if (p->data != NULL && p->data_size > 0)
            OPENSSL_cleanse(p->data, p->data_size);
    OSSL_PARAM_free(params);
}

void *uo_kmgmt_dup(const void *keydata_from, int selection)
{
    const UO_KEY *src = keydata_from;
    UO_KEY *dst;
    EVP_PKEY *pkey = NULL;

    if (src == NULL)
        return NULL;
    dst = uo_key_new(src->pc, src->type);
    if (dst == NULL || src->pkey == NULL)
        return dst;
    if ((selection & OSSL_KEYMGMT_SELECT_ALL) == OSSL_KEYMGMT_SELECT_ALL) {
        pkey = EVP_PKEY_dup(src->pkey);
    } else {
        OSSL_PARAM *params = NULL;
        EVP_PKEY_CTX *ctx = NULL;

        if (EVP_PKEY_todata(src->pkey, selection, &params) > 0
            && (ctx = EVP_PKEY_CTX_new_from_name(src->pc->libctx, src->type->name, NULL)) != NULL
            && EVP_PKEY_fromdata_init(ctx) > 0)
            EVP_PKEY_fromdata(ctx, &pkey, selection, params);
        EVP_PKEY_CTX_free(ctx);
        params_clear_free(params);
    }
    if (pkey == NULL) {
        uo_kmgmt_free(dst);
        return NULL;
    }
    uo_key_set_pkey(dst, pkey);
    return dst;
}

/* Raw-key families: their public and private keys are octet strings. */
static const OSSL_PARAM raw_types_none[] = { OSSL_PARAM_END };
static const OSSL_PARAM raw_types_pub[] = {
    OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
    OSSL_PARAM_END
};
static const OSSL_PARAM raw_types_priv[] = {
    OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PRIV_KEY, NULL, 0),
    OSSL_PARAM_END
};
static const OSSL_PARAM raw_types_pair[] = {
    OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
    OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PRIV_KEY, NULL, 0),
    OSSL_PARAM_END
};
/* ML-KEM and ML-DSA private keys may come as the seed they are made from (FIPS 203, 204). */
static const OSSL_PARAM seeded_types_priv[] = {
    OSSL_PARAM_octet_string("seed", NULL, 0),
    OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PRIV_KEY, NULL, 0),
    OSSL_PARAM_END
};
static const OSSL_PARAM seeded_types_pair[] = {
    OSSL_PARAM_octet_string("seed", NULL, 0),
    OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PRIV_KEY, NULL, 0),
    OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
    OSSL_PARAM_END
};

const OSSL_PARAM *uo_kmgmt_raw_types(int selection)
{
    int pub = (selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) != 0;
    int priv = (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0;

    return pub && priv ? raw_types_pair : pub ? raw_types_pub : priv ? raw_types_priv
                                                                    : raw_types_none;
}

const OSSL_PARAM *uo_kmgmt_seeded_types(int selection)
{
    int pub = (selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) != 0;
    int priv = (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0;

    return pub && priv ? seeded_types_pair : pub ? raw_types_pub : priv ? seeded_types_priv
                                                                        : raw_types_none;
}

/*
 * A key with nothing in it yet, made by the inner provider's parameter generation; NULL when the
 * inner provider cannot make one. ML-DSA and SLH-DSA make a whole key pair there whatever the
 * selection (OpenSSL 3.5): such a key is dropped, not passed off as an empty one.
 */
static EVP_PKEY *raw_blank(UO_PROVCTX *pc, const UO_KEYTYPE *type)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(pc->libctx, type->name, NULL);
    EVP_PKEY *pkey = NULL;

    if (ctx == NULL || EVP_PKEY_paramgen_init(ctx) <= 0 || EVP_PKEY_paramgen(ctx, &pkey) <= 0)
        pkey = NULL;
    EVP_PKEY_CTX_free(ctx);
    /* Only the private part tells: OpenSSL 3.0's X25519 reports a blank key's public key. */
    if (pkey != NULL && key_has_param(pkey, type->priv_param, 0)) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    ERR_clear_error(); /* probing for absent components is not an error */
    return pkey;
}

/*
 * Raw-key families (raw_kmgmt.h): a parameters-only dup is a blank key, as libssl needs for a peer's
 * key share; where the inner provider has no blank key, an empty one, as the default provider's.
 */
void *uo_kmgmt_raw_dup(const void *keydata_from, int selection)
{
    const UO_KEY *src = keydata_from;
    UO_KEY *dst;
    EVP_PKEY *blank;

    if (src == NULL || src->pkey == NULL || (selection & OSSL_KEYMGMT_SELECT_KEYPAIR) != 0)
        return uo_kmgmt_dup(keydata_from, selection);
    blank = raw_blank(src->pc, src->type);
    dst = uo_key_new(src->pc, src->type);
    if (dst == NULL) {
        EVP_PKEY_free(blank);
        return NULL;
    }
    if (blank != NULL)
        uo_key_set_pkey(dst, blank);
    return dst;
}

/* Raw-key families: a key made by new() alone gets a blank inner key for the encoded public key. */
int uo_kmgmt_raw_set_params(void *keydata, const OSSL_PARAM params[])
{
    UO_KEY *key = keydata;

    if (key == NULL)
        return 0;
    if (key->pkey == NULL && params != NULL && params->key != NULL) {
        EVP_PKEY *blank = raw_blank(key->pc, key->type);

        if (blank == NULL) {
            UO_RAISE_DATA(key->pc, UO_R_MISSING_KEY, "the %s key is empty", key->type->name);
            return 0;
        }
        uo_key_set_pkey(key, blank);
    }
    return uo_kmgmt_set_params(key, params);
}

/*
 * Our keys are never handed out by reference through the object store (uringprov has no decoder),
 * but a caller may pass one of ours: take it over as the default provider does.
 */
void *uo_kmgmt_load(const void *reference, size_t reference_sz)
{
    UO_KEY *key;

    if (reference == NULL || reference_sz != sizeof(key))
        return NULL;
    key = *(UO_KEY **)reference;
    *(UO_KEY **)reference = NULL;
    return key;
}

/* ---- key generation ------------------------------------------------------------------------ */

void *uo_kmgmt_gen_init(UO_PROVCTX *pc, const UO_KEYTYPE *type, int selection,
                        const OSSL_PARAM params[])
{
    UO_GEN_CTX *g = OPENSSL_zalloc(sizeof(*g));
    int ok;

    if (g == NULL) {
        UO_RAISE(pc, UO_R_MALLOC_FAILURE);
        return NULL;
    }
    g->pc = pc;
    g->type = type;
    g->selection = selection;
    g->pctx = EVP_PKEY_CTX_new_from_name(pc->libctx, type->name, NULL);
    if (g->pctx == NULL)
        goto err;
    if ((selection & OSSL_KEYMGMT_SELECT_KEYPAIR) != 0)
        ok = EVP_PKEY_keygen_init(g->pctx) > 0;
    else
        ok = EVP_PKEY_paramgen_init(g->pctx) > 0;
    if (!ok || !uo_kmgmt_gen_set_params(g, params))
        goto err;
    return g;
err:
    uo_kmgmt_gen_cleanup(g);
    return NULL;
}

/*
 * Notes what the inner context accepted. Only the group name is understood; any other parameter
 * (point format, encoding, cofactor mode, explicit curve, group check, properties, a DHKEM seed,
 * or one of a later OpenSSL) could make the default provider's key differ from the batch's.
 */
static void gen_note_params(UO_GEN_CTX *g, const OSSL_PARAM params[])
{
    const OSSL_PARAM *p;
    char *group = g->group;

    for (p = params; p->key != NULL; p++) {
        if (strcmp(p->key, OSSL_PKEY_PARAM_GROUP_NAME) != 0)
            g->mb_off = 1;
        else if (!OSSL_PARAM_get_utf8_string(p, &group, sizeof(g->group)))
            g->mb_off = 1; /* a name too long for us is no name of ours */
    }
}

int uo_kmgmt_gen_set_params(void *genctx, const OSSL_PARAM params[])
{
    UO_GEN_CTX *g = genctx;

    if (params == NULL || params->key == NULL)
        return 1;
    if (EVP_PKEY_CTX_set_params(g->pctx, params) <= 0)
        return 0;
    gen_note_params(g, params);
    return 1;
}

const OSSL_PARAM *uo_kmgmt_gen_settable_params(void *genctx, void *provctx)
{
    UO_GEN_CTX *g = genctx;
    UO_PROVCTX *pc = provctx;
    enum uo_family fam = g != NULL ? g->type->family : UO_FAM_RSA;

    if (g != NULL)
        pc = g->pc;
    return pc->inner[fam].keymgmt != NULL
               ? EVP_KEYMGMT_gen_settable_params(pc->inner[fam].keymgmt) : NULL;
}

int uo_kmgmt_gen_set_template(void *genctx, void *templ)
{
    UO_GEN_CTX *g = genctx;
    UO_KEY *t = templ;
    EVP_PKEY_CTX *pctx;

    if (g == NULL || t == NULL || t->pkey == NULL)
        return 0;
    /* The inner context takes its domain parameters from the template key. */
    pctx = EVP_PKEY_CTX_new_from_pkey(g->pc->libctx, t->pkey, NULL);
    if (pctx == NULL)
        return 0;
    if (((g->selection & OSSL_KEYMGMT_SELECT_KEYPAIR) != 0 ? EVP_PKEY_keygen_init(pctx)
                                                            : EVP_PKEY_paramgen_init(pctx)) <= 0) {
        EVP_PKEY_CTX_free(pctx);
        return 0;
    }
    EVP_PKEY_CTX_free(g->pctx);
    g->pctx = pctx;
    g->mb_off = 1; /* the template may carry more than a group name */
    return 1;
}

/*
 * The lane template when this key generation can go to a batch: a key pair (a parameter
 * generation makes no key), batching on, a family and group the mb layer generates, and nothing
 * set that the batch would not reproduce. Else NULL.
 */
static const UO_MB_LANE *gen_mb(UO_GEN_CTX *g)
{
    enum uo_mb_op op;
    UO_MB_KEY *cls;

    if (!g->pc->multibuffer || g->mb_off
        || (g->selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) == 0)
        return NULL;
    switch (g->type->family) {
    case UO_FAM_EC:
        op = UO_MB_OP_EC_KEYGEN;
        break;
    case UO_FAM_X25519:
        op = UO_MB_OP_X25519_KEYGEN;
        break;
    case UO_FAM_ED25519:
        op = UO_MB_OP_ED25519_KEYGEN;
        break;
    default:
        return NULL;
    }
    if ((cls = uo_mb_keygen_key(op, g->group)) == NULL)
        return NULL;
    memset(&g->mb, 0, sizeof(g->mb));
    g->mb.op = op;
    g->mb.key = cls;
    g->mb.libctx = g->pc->libctx;
    return &g->mb;
}

/*
 * The inner generation's progress, passed on to the caller's callback as the default provider
 * reports it (potential and iteration), so that a long RSA generation can be aborted as it can
 * there: a 0 from the caller stops the inner generation. It runs on the worker while the caller
 * waits for the key (blocked, or its job paused), as the default provider's runs on the caller's
 * thread while the caller waits.
 */
static int gen_progress(EVP_PKEY_CTX *ictx)
{
    UO_GEN_CTX *g = EVP_PKEY_CTX_get_app_data(ictx);
    int potential = EVP_PKEY_CTX_get_keygen_info(ictx, 0);
    int iteration = EVP_PKEY_CTX_get_keygen_info(ictx, 1);
    OSSL_PARAM params[] = {
        OSSL_PARAM_int(OSSL_GEN_PARAM_POTENTIAL, &potential),
        OSSL_PARAM_int(OSSL_GEN_PARAM_ITERATION, &iteration),
        OSSL_PARAM_END
    };

    return g == NULL || g->cb == NULL || g->cb(params, g->cbarg);
}

void *uo_kmgmt_gen(void *genctx, OSSL_CALLBACK *cb, void *cbarg)
{
    UO_GEN_CTX *g = genctx;
    UO_OP op;
    UO_KEY *key;

    if (g == NULL)
        return NULL;
    g->cb = cb;
    g->cbarg = cbarg;
    EVP_PKEY_CTX_set_app_data(g->pctx, g);
    EVP_PKEY_CTX_set_cb(g->pctx, cb != NULL ? gen_progress : NULL);
    memset(&op, 0, sizeof(op));
    op.iop = UO_IOP_KEYGEN;
    op.pctx = g->pctx;
    op.family = (unsigned int)g->type->family + 1;
    /*
     * The core passes a callback to every generation, whether or not the application set one.
     * Batches make EC, X25519 and Ed25519 keys, whose generation in the default provider reports
     * no progress either; RSA, which does, never batches.
     */
    op.mb = gen_mb(g);
    /*
     * Only key pairs are worth a worker: libssl makes the empty key that receives a peer's key share
     * by parameter generation, which costs next to nothing and would pay two wake-ups.
     */
    if (uo_op_run(g->pc, (g->selection & OSSL_KEYMGMT_SELECT_KEYPAIR) != 0 ? UO_OP_KEYGEN : 0,
                  &op) <= 0 || op.genkey == NULL) {
        EVP_PKEY_free(op.genkey);
        return NULL;
    }
    key = uo_key_new(g->pc, g->type);
    if (key == NULL) {
        EVP_PKEY_free(op.genkey);
        return NULL;
    }
    uo_key_set_pkey(key, op.genkey);
    return key;
}

void uo_kmgmt_gen_cleanup(void *genctx)
{
    UO_GEN_CTX *g = genctx;

    if (g == NULL)
        return;
    EVP_PKEY_CTX_free(g->pctx);
    EVP_PKEY_free(g->tmpl);
    OPENSSL_free(g);
}

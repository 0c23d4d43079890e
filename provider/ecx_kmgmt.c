/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ecx_kmgmt.c - X25519, X448, Ed25519 and Ed448 key management: raw public and private keys,
 * encoded-pub-key, key generation (offloaded) and the shared kmgmt.c code for the rest.
 *
 * These keys have no domain parameters, yet libssl still copies "parameters" into a blank key and
 * then sets the peer's encoded public key on it (EVP_PKEY_copy_parameters, then
 * EVP_PKEY_set1_encoded_public_key). The inner keymgmt imports nothing without a key pair, so a
 * parameters-only dup here makes a blank inner key instead, the way the default provider's
 * parameter generation does.
 */
#include "uringprov.h"

static const OSSL_PARAM ecx_types_none[] = { OSSL_PARAM_END };
static const OSSL_PARAM ecx_types_pub[] = {
    OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
    OSSL_PARAM_END
};
static const OSSL_PARAM ecx_types_priv[] = {
    OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PRIV_KEY, NULL, 0),
    OSSL_PARAM_END
};
static const OSSL_PARAM ecx_types_pair[] = {
    OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
    OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PRIV_KEY, NULL, 0),
    OSSL_PARAM_END
};

static const OSSL_PARAM *ecx_types(int selection)
{
    int pub = (selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) != 0;
    int priv = (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0;

    return pub && priv ? ecx_types_pair : pub ? ecx_types_pub : priv ? ecx_types_priv
                                                                    : ecx_types_none;
}

/* A key with nothing in it yet, made by the inner provider's parameter generation. */
static EVP_PKEY *ecx_blank(UO_PROVCTX *pc, const char *name)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(pc->libctx, name, NULL);
    EVP_PKEY *pkey = NULL;

    if (ctx == NULL || EVP_PKEY_paramgen_init(ctx) <= 0 || EVP_PKEY_paramgen(ctx, &pkey) <= 0)
        pkey = NULL;
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

UO_DECL(keymgmt, ecx, dup);
UO_DECL(keymgmt, ecx, set_params);
UO_DECL(keymgmt, ecx, import_types);

static void *ecx_dup(const void *keydata_from, int selection)
{
    const UO_KEY *src = keydata_from;
    UO_KEY *dst;
    EVP_PKEY *blank;

    if (src == NULL || src->pkey == NULL || (selection & OSSL_KEYMGMT_SELECT_KEYPAIR) != 0)
        return uo_kmgmt_dup(keydata_from, selection);
    blank = ecx_blank(src->pc, src->type->name);
    dst = blank != NULL ? uo_key_new(src->pc, src->type) : NULL;
    if (dst == NULL) {
        EVP_PKEY_free(blank);
        return NULL;
    }
    uo_key_set_pkey(dst, blank);
    return dst;
}

static int ecx_set_params(void *keydata, const OSSL_PARAM params[])
{
    UO_KEY *key = keydata;

    if (key == NULL)
        return 0;
    /* A key made by new() alone: give the encoded public key somewhere to go. */
    if (key->pkey == NULL && params != NULL && params->key != NULL) {
        EVP_PKEY *blank = ecx_blank(key->pc, key->type->name);

        if (blank == NULL)
            return 0;
        uo_key_set_pkey(key, blank);
    }
    return uo_kmgmt_set_params(key, params);
}

static const OSSL_PARAM *ecx_import_types(int selection)
{
    return ecx_types(selection);
}

/* Per-algorithm descriptor, constructors and dispatch table; the rest is shared. */
#define UO_ECX_KEYMGMT(alg, fam, NAME)                                                          \
    static const UO_KEYTYPE alg##_type = {                                                      \
        fam, NAME, NAME, OSSL_PKEY_PARAM_PUB_KEY, OSSL_PKEY_PARAM_PRIV_KEY, 0, 0, ecx_types     \
    };                                                                                          \
    UO_DECL(keymgmt, alg, new);                                                                 \
    UO_DECL(keymgmt, alg, gen_init);                                                            \
    UO_DECL(keymgmt, alg, gen_settable_params);                                                 \
    UO_DECL(keymgmt, alg, gettable_params);                                                     \
    UO_DECL(keymgmt, alg, settable_params);                                                     \
    UO_DECL(keymgmt, alg, query_operation_name);                                                \
    static void *alg##_new(void *provctx)                                                       \
    {                                                                                           \
        return uo_key_new(provctx, &alg##_type);                                                \
    }                                                                                           \
    static void *alg##_gen_init(void *provctx, int selection, const OSSL_PARAM params[])        \
    {                                                                                           \
        return uo_kmgmt_gen_init(provctx, &alg##_type, selection, params);                      \
    }                                                                                           \
    static const OSSL_PARAM *alg##_gen_settable_params(void *genctx, void *provctx)             \
    {                                                                                           \
        return EVP_KEYMGMT_gen_settable_params(((UO_PROVCTX *)provctx)->inner[fam].keymgmt);    \
    }                                                                                           \
    static const OSSL_PARAM *alg##_gettable_params(void *provctx)                               \
    {                                                                                           \
        return uo_kmgmt_gettable(provctx, fam);                                                 \
    }                                                                                           \
    static const OSSL_PARAM *alg##_settable_params(void *provctx)                               \
    {                                                                                           \
        return uo_kmgmt_settable(provctx, fam);                                                 \
    }                                                                                           \
    static const char *alg##_query_operation_name(int operation_id)                             \
    {                                                                                           \
        return NAME;                                                                            \
    }                                                                                           \
    const OSSL_DISPATCH uo_##alg##_keymgmt_functions[] = {                                      \
        { OSSL_FUNC_KEYMGMT_NEW, (void (*)(void))alg##_new },                                   \
        { OSSL_FUNC_KEYMGMT_FREE, (void (*)(void))uo_kmgmt_free },                              \
        { OSSL_FUNC_KEYMGMT_HAS, (void (*)(void))uo_kmgmt_has },                                \
        { OSSL_FUNC_KEYMGMT_MATCH, (void (*)(void))uo_kmgmt_match },                            \
        { OSSL_FUNC_KEYMGMT_VALIDATE, (void (*)(void))uo_kmgmt_validate },                      \
        { OSSL_FUNC_KEYMGMT_IMPORT, (void (*)(void))uo_kmgmt_import },                          \
        { OSSL_FUNC_KEYMGMT_IMPORT_TYPES, (void (*)(void))ecx_import_types },                   \
        { OSSL_FUNC_KEYMGMT_EXPORT, (void (*)(void))uo_kmgmt_export },                          \
        { OSSL_FUNC_KEYMGMT_EXPORT_TYPES, (void (*)(void))ecx_import_types },                   \
        { OSSL_FUNC_KEYMGMT_GET_PARAMS, (void (*)(void))uo_kmgmt_get_params },                  \
        { OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS, (void (*)(void))alg##_gettable_params },           \
        { OSSL_FUNC_KEYMGMT_SET_PARAMS, (void (*)(void))ecx_set_params },                       \
        { OSSL_FUNC_KEYMGMT_SETTABLE_PARAMS, (void (*)(void))alg##_settable_params },           \
        { OSSL_FUNC_KEYMGMT_DUP, (void (*)(void))ecx_dup },                                     \
        { OSSL_FUNC_KEYMGMT_LOAD, (void (*)(void))uo_kmgmt_load },                              \
        { OSSL_FUNC_KEYMGMT_GEN_INIT, (void (*)(void))alg##_gen_init },                         \
        { OSSL_FUNC_KEYMGMT_GEN_SET_TEMPLATE, (void (*)(void))uo_kmgmt_gen_set_template },      \
        { OSSL_FUNC_KEYMGMT_GEN_SET_PARAMS, (void (*)(void))uo_kmgmt_gen_set_params },          \
        { OSSL_FUNC_KEYMGMT_GEN_SETTABLE_PARAMS, (void (*)(void))alg##_gen_settable_params },   \
        { OSSL_FUNC_KEYMGMT_GEN, (void (*)(void))uo_kmgmt_gen },                                \
        { OSSL_FUNC_KEYMGMT_GEN_CLEANUP, (void (*)(void))uo_kmgmt_gen_cleanup },                \
        { OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME, (void (*)(void))alg##_query_operation_name }, \
        { 0, NULL }                                                                             \
    }

UO_ECX_KEYMGMT(x25519, UO_FAM_X25519, "X25519");
UO_ECX_KEYMGMT(x448, UO_FAM_X448, "X448");
UO_ECX_KEYMGMT(ed25519, UO_FAM_ED25519, "ED25519");
UO_ECX_KEYMGMT(ed448, UO_FAM_ED448, "ED448");

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * raw_kmgmt.h - the key management table of the families whose keys are octet strings with no
 * domain parameters: X25519, X448, Ed25519, Ed448, ML-KEM, the hybrid KEMs, ML-DSA and SLH-DSA.
 * Each family's file gives its import types and instantiates UO_RAW_KEYMGMT; the callbacks are
 * kmgmt.c's.
 *
 * libssl makes the key that receives a peer's key share by parameter generation, or by copying
 * "parameters" into a blank key, and then sets the peer's encoded public key on it. The inner
 * keymgmt imports nothing without a key, so a parameters-only dup, or a set_params on a key made
 * by new() alone, starts from a blank inner key made by the inner parameter generation
 * (uo_kmgmt_raw_dup, uo_kmgmt_raw_set_params).
 */
#ifndef URINGPROV_RAW_KMGMT_H
#define URINGPROV_RAW_KMGMT_H

#include "uringprov.h"

OSSL_FUNC_keymgmt_dup_fn uo_kmgmt_raw_dup;
OSSL_FUNC_keymgmt_set_params_fn uo_kmgmt_raw_set_params;
/* Import and export types: public and private key; the same plus the seed (ML-KEM, ML-DSA). */
OSSL_FUNC_keymgmt_import_types_fn uo_kmgmt_raw_types;
OSSL_FUNC_keymgmt_import_types_fn uo_kmgmt_seeded_types;

/*
 * alg: the C prefix; fam: enum uo_family; NAME: the inner keymgmt's name; PUB and PRIV: the key
 * parameters present when the key holds that half; types: the import/export types function.
 */
#define UO_RAW_KEYMGMT(alg, fam, NAME, PUB, PRIV, types)                                        \
    static const UO_KEYTYPE alg##_type = { fam, NAME, NAME, PUB, PRIV, 0, 0, types };           \
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
        { OSSL_FUNC_KEYMGMT_IMPORT_TYPES, (void (*)(void))types },                              \
        { OSSL_FUNC_KEYMGMT_EXPORT, (void (*)(void))uo_kmgmt_export },                          \
        { OSSL_FUNC_KEYMGMT_EXPORT_TYPES, (void (*)(void))types },                              \
        { OSSL_FUNC_KEYMGMT_GET_PARAMS, (void (*)(void))uo_kmgmt_get_params },                  \
        { OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS, (void (*)(void))alg##_gettable_params },           \
        { OSSL_FUNC_KEYMGMT_SET_PARAMS, (void (*)(void))uo_kmgmt_raw_set_params },              \
        { OSSL_FUNC_KEYMGMT_SETTABLE_PARAMS, (void (*)(void))alg##_settable_params },           \
        { OSSL_FUNC_KEYMGMT_DUP, (void (*)(void))uo_kmgmt_raw_dup },                            \
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

#endif

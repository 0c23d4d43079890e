/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rsa_kmgmt.c - RSA and RSA-PSS key management: descriptors, import/export types and dispatch.
 * Everything else is the shared code of kmgmt.c; key generation is offloaded there.
 */
#include <string.h>

#include "uringprov.h"

#define RSA_KEY_TYPES                                                              \
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, NULL, 0),                                 \
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, NULL, 0),                                 \
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_D, NULL, 0),                                 \
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_FACTOR1, NULL, 0),                           \
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_FACTOR2, NULL, 0),                           \
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_FACTOR3, NULL, 0),                           \
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_FACTOR4, NULL, 0),                           \
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_FACTOR5, NULL, 0),                           \
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_FACTOR6, NULL, 0),                           \
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_FACTOR7, NULL, 0),                           \
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_FACTOR8, NULL, 0),                           \
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_FACTOR9, NULL, 0),                           \
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_FACTOR10, NULL, 0),                          \
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_EXPONENT1, NULL, 0),                         \
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_EXPONENT2, NULL, 0),                         \
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_EXPONENT3, NULL, 0),                         \
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_EXPONENT4, NULL, 0),                         \
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_EXPONENT5, NULL, 0),                         \
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_EXPONENT6, NULL, 0),                         \
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_EXPONENT7, NULL, 0),                         \
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_EXPONENT8, NULL, 0),                         \
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_EXPONENT9, NULL, 0),                         \
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_EXPONENT10, NULL, 0),                        \
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_COEFFICIENT1, NULL, 0),                      \
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_COEFFICIENT2, NULL, 0),                      \
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_COEFFICIENT3, NULL, 0),                      \
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_COEFFICIENT4, NULL, 0),                      \
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_COEFFICIENT5, NULL, 0),                      \
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_COEFFICIENT6, NULL, 0),                      \
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_COEFFICIENT7, NULL, 0),                      \
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_COEFFICIENT8, NULL, 0),                      \
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_COEFFICIENT9, NULL, 0)

/* RSA-PSS restrictions, carried as "other parameters". */
#define RSA_PSS_TYPES                                                              \
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_RSA_DIGEST, NULL, 0),                   \
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_RSA_DIGEST_PROPS, NULL, 0),             \
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_RSA_MASKGENFUNC, NULL, 0),              \
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_RSA_MGF1_DIGEST, NULL, 0),              \
    OSSL_PARAM_int(OSSL_PKEY_PARAM_RSA_PSS_SALTLEN, NULL)

static const OSSL_PARAM rsa_types_none[] = { OSSL_PARAM_END };
static const OSSL_PARAM rsa_types_key[] = { RSA_KEY_TYPES, OSSL_PARAM_END };
static const OSSL_PARAM rsa_types_pss[] = { RSA_PSS_TYPES, OSSL_PARAM_END };
static const OSSL_PARAM rsa_types_all[] = { RSA_KEY_TYPES, RSA_PSS_TYPES, OSSL_PARAM_END };

static const OSSL_PARAM *rsa_types(int selection)
{
    int key = (selection & OSSL_KEYMGMT_SELECT_KEYPAIR) != 0;
    int pss = (selection & OSSL_KEYMGMT_SELECT_OTHER_PARAMETERS) != 0;

    return key && pss ? rsa_types_all : key ? rsa_types_key : pss ? rsa_types_pss
                                                                : rsa_types_none;
}

static const UO_KEYTYPE rsa_type = {
    UO_FAM_RSA, "RSA", "RSA", OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_D, 1, 1, rsa_types
};
static const UO_KEYTYPE rsapss_type = {
    UO_FAM_RSA_PSS, "RSA-PSS", "RSA", OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_D, 1, 1, rsa_types
};

UO_DECL(keymgmt, rsa, new);
UO_DECL(keymgmt, rsapss, new);
UO_DECL(keymgmt, rsa, gen_init);
UO_DECL(keymgmt, rsapss, gen_init);
UO_DECL(keymgmt, rsa, gettable_params);
UO_DECL(keymgmt, rsapss, gettable_params);
UO_DECL(keymgmt, rsa, settable_params);
UO_DECL(keymgmt, rsa, gen_settable_params);
UO_DECL(keymgmt, rsapss, gen_settable_params);
UO_DECL(keymgmt, rsa, has);
UO_DECL(keymgmt, rsa, dup);
UO_DECL(keymgmt, rsa, import_types);
UO_DECL(keymgmt, rsa, query_operation_name);

static void *rsa_new(void *provctx)
{
    return uo_key_new(provctx, &rsa_type);
}

static void *rsapss_new(void *provctx)
{
    return uo_key_new(provctx, &rsapss_type);
}

static void *rsa_gen_init(void *provctx, int selection, const OSSL_PARAM params[])
{
    return uo_kmgmt_gen_init(provctx, &rsa_type, selection, params);
}

static void *rsapss_gen_init(void *provctx, int selection, const OSSL_PARAM params[])
{
    return uo_kmgmt_gen_init(provctx, &rsapss_type, selection, params);
}

static const OSSL_PARAM *rsa_gettable_params(void *provctx)
{
    return uo_kmgmt_gettable(provctx, UO_FAM_RSA);
}

static const OSSL_PARAM *rsapss_gettable_params(void *provctx)
{
    return uo_kmgmt_gettable(provctx, UO_FAM_RSA_PSS);
}

/*
 * The default RSA keymgmt has nothing settable and answers NULL. An empty table says the same
 * thing to a caller that checks parameters against it, without the NULL that some treat as "the
 * provider cannot tell".
 */
static const OSSL_PARAM *rsa_settable_params(void *provctx)
{
    static const OSSL_PARAM none[] = { OSSL_PARAM_END };
    const OSSL_PARAM *inner = uo_kmgmt_settable(provctx, UO_FAM_RSA);

    return inner != NULL ? inner : none;
}

/*
 * OpenSSL 3.0 asks for the keygen table without a generation context (EVP_KEYMGMT_gen_settable_
 * params passes NULL), so the shared callback cannot tell RSA from RSA-PSS: answer per family.
 */
static const OSSL_PARAM *gen_settable(void *provctx, enum uo_family fam)
{
    EVP_KEYMGMT *km = ((UO_PROVCTX *)provctx)->inner[fam].keymgmt;

    return km != NULL ? EVP_KEYMGMT_gen_settable_params(km) : NULL;
}

static const OSSL_PARAM *rsa_gen_settable_params(void *genctx, void *provctx)
{
    return gen_settable(provctx, UO_FAM_RSA);
}

static const OSSL_PARAM *rsapss_gen_settable_params(void *genctx, void *provctx)
{
    return gen_settable(provctx, UO_FAM_RSA_PSS);
}

/*
 * RSA has no domain parameters, and its other parameters (the PSS restrictions) may be empty: the
 * default keymgmt says both are there even in an empty key. The shared code checks the key halves.
 */
static int rsa_has(const void *keydata, int selection)
{
    if (keydata == NULL)
        return 0;
    return uo_kmgmt_has(keydata, selection & ~OSSL_KEYMGMT_SELECT_ALL_PARAMETERS);
}

/* Like the default keymgmt: a dup that selects no key half would make an empty key; refuse it. */
static void *rsa_dup(const void *keydata_from, int selection)
{
    if ((selection & OSSL_KEYMGMT_SELECT_KEYPAIR) == 0)
        return NULL;
    return uo_kmgmt_dup(keydata_from, selection);
}

static const OSSL_PARAM *rsa_import_types(int selection)
{
    return rsa_types(selection);
}

static const char *rsa_query_operation_name(int operation_id)
{
    return "RSA";
}

#define RSA_COMMON_FUNCTIONS                                                                    \
    { OSSL_FUNC_KEYMGMT_FREE, (void (*)(void))uo_kmgmt_free },                                  \
    { OSSL_FUNC_KEYMGMT_HAS, (void (*)(void))rsa_has },                                         \
    { OSSL_FUNC_KEYMGMT_MATCH, (void (*)(void))uo_kmgmt_match },                                \
    { OSSL_FUNC_KEYMGMT_VALIDATE, (void (*)(void))uo_kmgmt_validate },                          \
    { OSSL_FUNC_KEYMGMT_IMPORT, (void (*)(void))uo_kmgmt_import },                              \
    { OSSL_FUNC_KEYMGMT_IMPORT_TYPES, (void (*)(void))rsa_import_types },                       \
    { OSSL_FUNC_KEYMGMT_EXPORT, (void (*)(void))uo_kmgmt_export },                              \
    { OSSL_FUNC_KEYMGMT_EXPORT_TYPES, (void (*)(void))rsa_import_types },                       \
    { OSSL_FUNC_KEYMGMT_GET_PARAMS, (void (*)(void))uo_kmgmt_get_params },                      \
    { OSSL_FUNC_KEYMGMT_SET_PARAMS, (void (*)(void))uo_kmgmt_set_params },                      \
    { OSSL_FUNC_KEYMGMT_SETTABLE_PARAMS, (void (*)(void))rsa_settable_params },                 \
    { OSSL_FUNC_KEYMGMT_DUP, (void (*)(void))rsa_dup },                                         \
    { OSSL_FUNC_KEYMGMT_LOAD, (void (*)(void))uo_kmgmt_load },                                  \
    { OSSL_FUNC_KEYMGMT_GEN_SET_PARAMS, (void (*)(void))uo_kmgmt_gen_set_params },              \
    { OSSL_FUNC_KEYMGMT_GEN, (void (*)(void))uo_kmgmt_gen },                                    \
    { OSSL_FUNC_KEYMGMT_GEN_CLEANUP, (void (*)(void))uo_kmgmt_gen_cleanup },                    \
    { OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME, (void (*)(void))rsa_query_operation_name }

const OSSL_DISPATCH uo_rsa_keymgmt_functions[] = {
    { OSSL_FUNC_KEYMGMT_NEW, (void (*)(void))rsa_new },
    { OSSL_FUNC_KEYMGMT_GEN_INIT, (void (*)(void))rsa_gen_init },
    { OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS, (void (*)(void))rsa_gettable_params },
    { OSSL_FUNC_KEYMGMT_GEN_SETTABLE_PARAMS, (void (*)(void))rsa_gen_settable_params },
    RSA_COMMON_FUNCTIONS,
    { 0, NULL }
};

const OSSL_DISPATCH uo_rsapss_keymgmt_functions[] = {
    { OSSL_FUNC_KEYMGMT_NEW, (void (*)(void))rsapss_new },
    { OSSL_FUNC_KEYMGMT_GEN_INIT, (void (*)(void))rsapss_gen_init },
    { OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS, (void (*)(void))rsapss_gettable_params },
    { OSSL_FUNC_KEYMGMT_GEN_SETTABLE_PARAMS, (void (*)(void))rsapss_gen_settable_params },
    RSA_COMMON_FUNCTIONS,
    { 0, NULL }
};

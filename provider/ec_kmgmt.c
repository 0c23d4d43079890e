/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ec_kmgmt.c - EC key management for every named curve the inner default provider knows: the
 * descriptor, import/export types, the operation names (ECDSA, ECDH) and the dispatch table.
 * Everything else is kmgmt.c: parameters (group, point-format, encoded-pub-key, ...) pass through
 * to the inner key, and key generation (by group, from a template, or parameters only) runs there,
 * offloaded when it makes a key pair.
 */
#include "uringprov.h"

#define EC_DOMAIN_TYPES                                                            \
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),                   \
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_ENCODING, NULL, 0),                  \
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, NULL, 0),   \
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_FIELD_TYPE, NULL, 0),                \
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_EC_P, NULL, 0),                                  \
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_EC_A, NULL, 0),                                  \
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_EC_B, NULL, 0),                                  \
    OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_EC_GENERATOR, NULL, 0),                \
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_EC_ORDER, NULL, 0),                              \
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_EC_COFACTOR, NULL, 0),                           \
    OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_EC_SEED, NULL, 0),                     \
    OSSL_PARAM_int(OSSL_PKEY_PARAM_EC_DECODED_FROM_EXPLICIT_PARAMS, NULL)

#define EC_PUB_TYPES OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0)
#define EC_PRIV_TYPES OSSL_PARAM_BN(OSSL_PKEY_PARAM_PRIV_KEY, NULL, 0)

#define EC_OTHER_TYPES                                                             \
    OSSL_PARAM_int(OSSL_PKEY_PARAM_USE_COFACTOR_ECDH, NULL),                       \
    OSSL_PARAM_int(OSSL_PKEY_PARAM_EC_INCLUDE_PUBLIC, NULL),                       \
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_GROUP_CHECK_TYPE, NULL, 0)

/* One table per combination the selection can ask for; the inner keymgmt takes each of them. */
static const OSSL_PARAM ec_types[16][20] = {
    { OSSL_PARAM_END },
    { EC_PRIV_TYPES, OSSL_PARAM_END },
    { EC_PUB_TYPES, OSSL_PARAM_END },
    { EC_PRIV_TYPES, EC_PUB_TYPES, OSSL_PARAM_END },
    { EC_DOMAIN_TYPES, OSSL_PARAM_END },
    { EC_DOMAIN_TYPES, EC_PRIV_TYPES, OSSL_PARAM_END },
    { EC_DOMAIN_TYPES, EC_PUB_TYPES, OSSL_PARAM_END },
    { EC_DOMAIN_TYPES, EC_PRIV_TYPES, EC_PUB_TYPES, OSSL_PARAM_END },
    { EC_OTHER_TYPES, OSSL_PARAM_END },
    { EC_OTHER_TYPES, EC_PRIV_TYPES, OSSL_PARAM_END },
    { EC_OTHER_TYPES, EC_PUB_TYPES, OSSL_PARAM_END },
    { EC_OTHER_TYPES, EC_PRIV_TYPES, EC_PUB_TYPES, OSSL_PARAM_END },
    { EC_OTHER_TYPES, EC_DOMAIN_TYPES, OSSL_PARAM_END },
    { EC_OTHER_TYPES, EC_DOMAIN_TYPES, EC_PRIV_TYPES, OSSL_PARAM_END },
    { EC_OTHER_TYPES, EC_DOMAIN_TYPES, EC_PUB_TYPES, OSSL_PARAM_END },
    { EC_OTHER_TYPES, EC_DOMAIN_TYPES, EC_PRIV_TYPES, EC_PUB_TYPES, OSSL_PARAM_END },
};

static const OSSL_PARAM *ec_types_for(int selection)
{
    int i = 0;

    if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0)
        i |= 1;
    if ((selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) != 0)
        i |= 2;
    if ((selection & OSSL_KEYMGMT_SELECT_DOMAIN_PARAMETERS) != 0)
        i |= 4;
    if ((selection & OSSL_KEYMGMT_SELECT_OTHER_PARAMETERS) != 0)
        i |= 8;
    return ec_types[i];
}

static const UO_KEYTYPE ec_type = {
    UO_FAM_EC, "EC", NULL, OSSL_PKEY_PARAM_PUB_KEY, OSSL_PKEY_PARAM_PRIV_KEY, 0, 1, ec_types_for
};

UO_DECL(keymgmt, ec, new);
UO_DECL(keymgmt, ec, gen_init);
UO_DECL(keymgmt, ec, gen_settable_params);
UO_DECL(keymgmt, ec, gettable_params);
UO_DECL(keymgmt, ec, settable_params);
UO_DECL(keymgmt, ec, import_types);
UO_DECL(keymgmt, ec, query_operation_name);

static void *ec_new(void *provctx)
{
    return uo_key_new(provctx, &ec_type);
}

static void *ec_gen_init(void *provctx, int selection, const OSSL_PARAM params[])
{
    return uo_kmgmt_gen_init(provctx, &ec_type, selection, params);
}

/* OpenSSL asks with no gen context (EVP_KEYMGMT_gen_settable_params): answer for EC itself. */
static const OSSL_PARAM *ec_gen_settable_params(void *genctx, void *provctx)
{
    UO_PROVCTX *pc = provctx;

    return EVP_KEYMGMT_gen_settable_params(pc->inner[UO_FAM_EC].keymgmt);
}

static const OSSL_PARAM *ec_gettable_params(void *provctx)
{
    return uo_kmgmt_gettable(provctx, UO_FAM_EC);
}

static const OSSL_PARAM *ec_settable_params(void *provctx)
{
    return uo_kmgmt_settable(provctx, UO_FAM_EC);
}

static const OSSL_PARAM *ec_import_types(int selection)
{
    return ec_types_for(selection);
}

/* An EC key signs with ECDSA and derives with ECDH: the fetches that follow use these names. */
static const char *ec_query_operation_name(int operation_id)
{
    switch (operation_id) {
    case OSSL_OP_SIGNATURE:
        return "ECDSA";
    case OSSL_OP_KEYEXCH:
        return "ECDH";
    }
    return NULL;
}

const OSSL_DISPATCH uo_ec_keymgmt_functions[] = {
    { OSSL_FUNC_KEYMGMT_NEW, (void (*)(void))ec_new },
    { OSSL_FUNC_KEYMGMT_FREE, (void (*)(void))uo_kmgmt_free },
    { OSSL_FUNC_KEYMGMT_HAS, (void (*)(void))uo_kmgmt_has },
    { OSSL_FUNC_KEYMGMT_MATCH, (void (*)(void))uo_kmgmt_match },
    { OSSL_FUNC_KEYMGMT_VALIDATE, (void (*)(void))uo_kmgmt_validate },
    { OSSL_FUNC_KEYMGMT_IMPORT, (void (*)(void))uo_kmgmt_import },
    { OSSL_FUNC_KEYMGMT_IMPORT_TYPES, (void (*)(void))ec_import_types },
    { OSSL_FUNC_KEYMGMT_EXPORT, (void (*)(void))uo_kmgmt_export },
    { OSSL_FUNC_KEYMGMT_EXPORT_TYPES, (void (*)(void))ec_import_types },
    { OSSL_FUNC_KEYMGMT_GET_PARAMS, (void (*)(void))uo_kmgmt_get_params },
    { OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS, (void (*)(void))ec_gettable_params },
    { OSSL_FUNC_KEYMGMT_SET_PARAMS, (void (*)(void))uo_kmgmt_set_params },
    { OSSL_FUNC_KEYMGMT_SETTABLE_PARAMS, (void (*)(void))ec_settable_params },
    { OSSL_FUNC_KEYMGMT_DUP, (void (*)(void))uo_kmgmt_dup },
    { OSSL_FUNC_KEYMGMT_LOAD, (void (*)(void))uo_kmgmt_load },
    { OSSL_FUNC_KEYMGMT_GEN_INIT, (void (*)(void))ec_gen_init },
    { OSSL_FUNC_KEYMGMT_GEN_SET_TEMPLATE, (void (*)(void))uo_kmgmt_gen_set_template },
    { OSSL_FUNC_KEYMGMT_GEN_SET_PARAMS, (void (*)(void))uo_kmgmt_gen_set_params },
    { OSSL_FUNC_KEYMGMT_GEN_SETTABLE_PARAMS, (void (*)(void))ec_gen_settable_params },
    { OSSL_FUNC_KEYMGMT_GEN, (void (*)(void))uo_kmgmt_gen },
    { OSSL_FUNC_KEYMGMT_GEN_CLEANUP, (void (*)(void))uo_kmgmt_gen_cleanup },
    { OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME, (void (*)(void))ec_query_operation_name },
    { 0, NULL }
};

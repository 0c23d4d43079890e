/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ml_kem_kem.c - ML-KEM-512/768/1024 and the hybrid KEMs as KEM operations: encapsulation and
 * decapsulation, offloaded (kem.c has the shared code). Registered only where the inner default
 * provider has them (OpenSSL 3.5 and later).
 */
#include "uringprov.h"

#define UO_KEM(alg, fam)                                                                        \
    UO_DECL(kem, alg##_kem, newctx);                                                            \
    UO_DECL(kem, alg##_kem, gettable_ctx_params);                                               \
    UO_DECL(kem, alg##_kem, settable_ctx_params);                                               \
    static void *alg##_kem_newctx(void *provctx)                                                \
    {                                                                                           \
        return uo_opctx_new(provctx, fam);                                                      \
    }                                                                                           \
    static const OSSL_PARAM *alg##_kem_gettable_ctx_params(void *vctx, void *provctx)           \
    {                                                                                           \
        return uo_kem_gettable(provctx, fam);                                                   \
    }                                                                                           \
    static const OSSL_PARAM *alg##_kem_settable_ctx_params(void *vctx, void *provctx)           \
    {                                                                                           \
        return uo_kem_settable(provctx, fam);                                                   \
    }                                                                                           \
    const OSSL_DISPATCH uo_##alg##_kem_functions[] = {                                          \
        { OSSL_FUNC_KEM_NEWCTX, (void (*)(void))alg##_kem_newctx },                             \
        { OSSL_FUNC_KEM_FREECTX, (void (*)(void))uo_kem_freectx },                              \
        { OSSL_FUNC_KEM_DUPCTX, (void (*)(void))uo_kem_dupctx },                                \
        { OSSL_FUNC_KEM_ENCAPSULATE_INIT, (void (*)(void))uo_kem_encapsulate_init },            \
        { OSSL_FUNC_KEM_ENCAPSULATE, (void (*)(void))uo_kem_encapsulate },                      \
        { OSSL_FUNC_KEM_DECAPSULATE_INIT, (void (*)(void))uo_kem_decapsulate_init },            \
        { OSSL_FUNC_KEM_DECAPSULATE, (void (*)(void))uo_kem_decapsulate },                      \
        { OSSL_FUNC_KEM_GET_CTX_PARAMS, (void (*)(void))uo_kem_get_ctx_params },                \
        { OSSL_FUNC_KEM_GETTABLE_CTX_PARAMS, (void (*)(void))alg##_kem_gettable_ctx_params },   \
        { OSSL_FUNC_KEM_SET_CTX_PARAMS, (void (*)(void))uo_kem_set_ctx_params },                \
        { OSSL_FUNC_KEM_SETTABLE_CTX_PARAMS, (void (*)(void))alg##_kem_settable_ctx_params },   \
        { 0, NULL }                                                                             \
    }

UO_KEM(ml_kem_512, UO_FAM_ML_KEM_512);
UO_KEM(ml_kem_768, UO_FAM_ML_KEM_768);
UO_KEM(ml_kem_1024, UO_FAM_ML_KEM_1024);
UO_KEM(x25519_ml_kem_768, UO_FAM_X25519MLKEM768);
UO_KEM(x448_ml_kem_1024, UO_FAM_X448MLKEM1024);
UO_KEM(p256_ml_kem_768, UO_FAM_P256MLKEM768);
UO_KEM(p384_ml_kem_1024, UO_FAM_P384MLKEM1024);

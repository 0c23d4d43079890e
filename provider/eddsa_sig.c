/* SPDX-License-Identifier: Apache-2.0 */
/*
 * eddsa_sig.c - Ed25519 and Ed448: one-shot digest sign and verify, as in the default provider
 * (no separate sign_init, no streaming). Signing is offloaded. A digest-sign init with no key
 * reuses the context's key: openssl speed re-initialises that way before every signature.
 */
#include "uringprov.h"

#define UO_EDDSA_SIGNATURE(alg, fam)                                                            \
    UO_DECL(signature, alg##_sig, newctx);                                                      \
    UO_DECL(signature, alg##_sig, gettable_ctx_params);                                         \
    UO_DECL(signature, alg##_sig, settable_ctx_params);                                         \
    static void *alg##_sig_newctx(void *provctx, const char *propq)                             \
    {                                                                                           \
        return uo_opctx_new(provctx, fam);                                                      \
    }                                                                                           \
    static const OSSL_PARAM *alg##_sig_gettable_ctx_params(void *vctx, void *provctx)           \
    {                                                                                           \
        return uo_sig_gettable(provctx, fam);                                                   \
    }                                                                                           \
    static const OSSL_PARAM *alg##_sig_settable_ctx_params(void *vctx, void *provctx)           \
    {                                                                                           \
        return uo_sig_settable(provctx, fam);                                                   \
    }                                                                                           \
    const OSSL_DISPATCH uo_##alg##_signature_functions[] = {                                    \
        { OSSL_FUNC_SIGNATURE_NEWCTX, (void (*)(void))alg##_sig_newctx },                       \
        { OSSL_FUNC_SIGNATURE_FREECTX, (void (*)(void))uo_sig_freectx },                        \
        { OSSL_FUNC_SIGNATURE_DUPCTX, (void (*)(void))uo_sig_dupctx },                          \
        { OSSL_FUNC_SIGNATURE_DIGEST_SIGN_INIT, (void (*)(void))uo_sig_digest_sign_init },      \
        { OSSL_FUNC_SIGNATURE_DIGEST_SIGN, (void (*)(void))uo_sig_digest_sign },                \
        { OSSL_FUNC_SIGNATURE_DIGEST_VERIFY_INIT, (void (*)(void))uo_sig_digest_verify_init },  \
        { OSSL_FUNC_SIGNATURE_DIGEST_VERIFY, (void (*)(void))uo_sig_digest_verify },            \
        { OSSL_FUNC_SIGNATURE_GET_CTX_PARAMS, (void (*)(void))uo_sig_get_ctx_params },          \
        { OSSL_FUNC_SIGNATURE_GETTABLE_CTX_PARAMS,                                              \
          (void (*)(void))alg##_sig_gettable_ctx_params },                                      \
        { OSSL_FUNC_SIGNATURE_SET_CTX_PARAMS, (void (*)(void))uo_sig_set_ctx_params },          \
        { OSSL_FUNC_SIGNATURE_SETTABLE_CTX_PARAMS,                                              \
          (void (*)(void))alg##_sig_settable_ctx_params },                                      \
        { 0, NULL }                                                                             \
    }

UO_EDDSA_SIGNATURE(ed25519, UO_FAM_ED25519);
UO_EDDSA_SIGNATURE(ed448, UO_FAM_ED448);

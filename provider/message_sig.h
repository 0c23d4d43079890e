/* SPDX-License-Identifier: Apache-2.0 */
/*
 * message_sig.h - the signature table of the algorithms that sign a whole message in one call,
 * with no digest of the caller's choosing: one-shot digest sign and verify, which libssl and
 * X509_sign use (EdDSA, ML-DSA, SLH-DSA), and for ML-DSA and SLH-DSA message sign and verify too
 * (OpenSSL 3.4 and later: pkeyutl, openssl speed). Signing is offloaded; the callbacks are
 * signature.c's.
 */
#ifndef URINGPROV_MESSAGE_SIG_H
#define URINGPROV_MESSAGE_SIG_H

#include "uringprov.h"

/*
 * The table of a signature that signs the message itself, with no digest of the caller's choosing:
 * one-shot digest sign and verify, plus the dispatch entries given after fam (EdDSA none).
 */
#define UO_ONESHOT_SIGNATURE(alg, fam, ...)                                                     \
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
        __VA_ARGS__                                                                             \
        { 0, NULL }                                                                             \
    }

/* ML-DSA and SLH-DSA: message sign and verify (OpenSSL 3.4 and later) as well. */
#define UO_MESSAGE_SIGNATURE(alg, fam)                                                          \
    UO_ONESHOT_SIGNATURE(alg, fam,                                                              \
        { OSSL_FUNC_SIGNATURE_SIGN_MESSAGE_INIT, (void (*)(void))uo_sig_sign_message_init },    \
        { OSSL_FUNC_SIGNATURE_SIGN, (void (*)(void))uo_sig_sign },                              \
        { OSSL_FUNC_SIGNATURE_VERIFY_MESSAGE_INIT, (void (*)(void))uo_sig_verify_message_init }, \
        { OSSL_FUNC_SIGNATURE_VERIFY, (void (*)(void))uo_sig_verify },)

#endif

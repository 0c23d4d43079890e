/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rsa_sig.c - RSA signatures: sign, verify, verify_recover and digest sign/verify, with every
 * padding the default provider has (PKCS#1 v1.5, PSS, X9.31, none). Parameters such as pad-mode
 * (int or string), saltlen (name or number) and mgf1-digest pass through to the inner context.
 */
#include "uringprov.h"

UO_DECL(signature, rsa_sig, newctx);
UO_DECL(signature, rsa_sig, gettable_ctx_params);
UO_DECL(signature, rsa_sig, settable_ctx_params);

static void *rsa_sig_newctx(void *provctx, const char *propq)
{
    return uo_opctx_new(provctx, UO_FAM_RSA);
}

/*
 * The tables depend on the context's state (once digest-sign has a digest, the digest is no
 * longer settable), so an initialised context answers with its inner context's tables; before
 * init, those of the inner algorithm.
 */
static const OSSL_PARAM *rsa_sig_gettable_ctx_params(void *vctx, void *provctx)
{
    EVP_PKEY_CTX *inner = uo_opctx_param_target(vctx);
    const OSSL_PARAM *t = inner != NULL ? EVP_PKEY_CTX_gettable_params(inner) : NULL;

    return t != NULL ? t : uo_sig_gettable(provctx, UO_FAM_RSA);
}

static const OSSL_PARAM *rsa_sig_settable_ctx_params(void *vctx, void *provctx)
{
    EVP_PKEY_CTX *inner = uo_opctx_param_target(vctx);
    const OSSL_PARAM *t = inner != NULL ? EVP_PKEY_CTX_settable_params(inner) : NULL;

    return t != NULL ? t : uo_sig_settable(provctx, UO_FAM_RSA);
}

const OSSL_DISPATCH uo_rsa_signature_functions[] = {
    { OSSL_FUNC_SIGNATURE_NEWCTX, (void (*)(void))rsa_sig_newctx },
    { OSSL_FUNC_SIGNATURE_FREECTX, (void (*)(void))uo_sig_freectx },
    { OSSL_FUNC_SIGNATURE_DUPCTX, (void (*)(void))uo_sig_dupctx },
    { OSSL_FUNC_SIGNATURE_SIGN_INIT, (void (*)(void))uo_sig_sign_init },
    { OSSL_FUNC_SIGNATURE_SIGN, (void (*)(void))uo_sig_sign },
    { OSSL_FUNC_SIGNATURE_VERIFY_INIT, (void (*)(void))uo_sig_verify_init },
    { OSSL_FUNC_SIGNATURE_VERIFY, (void (*)(void))uo_sig_verify },
    { OSSL_FUNC_SIGNATURE_VERIFY_RECOVER_INIT, (void (*)(void))uo_sig_verify_recover_init },
    { OSSL_FUNC_SIGNATURE_VERIFY_RECOVER, (void (*)(void))uo_sig_verify_recover },
    { OSSL_FUNC_SIGNATURE_DIGEST_SIGN_INIT, (void (*)(void))uo_sig_digest_sign_init },
    { OSSL_FUNC_SIGNATURE_DIGEST_SIGN_UPDATE, (void (*)(void))uo_sig_digest_sign_update },
    { OSSL_FUNC_SIGNATURE_DIGEST_SIGN_FINAL, (void (*)(void))uo_sig_digest_sign_final },
    { OSSL_FUNC_SIGNATURE_DIGEST_VERIFY_INIT, (void (*)(void))uo_sig_digest_verify_init },
    { OSSL_FUNC_SIGNATURE_DIGEST_VERIFY_UPDATE, (void (*)(void))uo_sig_digest_verify_update },
    { OSSL_FUNC_SIGNATURE_DIGEST_VERIFY_FINAL, (void (*)(void))uo_sig_digest_verify_final },
    { OSSL_FUNC_SIGNATURE_GET_CTX_PARAMS, (void (*)(void))uo_sig_get_ctx_params },
    { OSSL_FUNC_SIGNATURE_GETTABLE_CTX_PARAMS, (void (*)(void))rsa_sig_gettable_ctx_params },
    { OSSL_FUNC_SIGNATURE_SET_CTX_PARAMS, (void (*)(void))uo_sig_set_ctx_params },
    { OSSL_FUNC_SIGNATURE_SETTABLE_CTX_PARAMS, (void (*)(void))rsa_sig_settable_ctx_params },
    { OSSL_FUNC_SIGNATURE_GET_CTX_MD_PARAMS, (void (*)(void))uo_sig_get_ctx_md_params },
    { OSSL_FUNC_SIGNATURE_GETTABLE_CTX_MD_PARAMS, (void (*)(void))uo_sig_gettable_ctx_md_params },
    { OSSL_FUNC_SIGNATURE_SET_CTX_MD_PARAMS, (void (*)(void))uo_sig_set_ctx_md_params },
    { OSSL_FUNC_SIGNATURE_SETTABLE_CTX_MD_PARAMS, (void (*)(void))uo_sig_settable_ctx_md_params },
    { 0, NULL }
};

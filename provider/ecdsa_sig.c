/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ecdsa_sig.c - ECDSA signatures on every EC curve: sign and verify of a caller's digest (with or
 * without a digest name set; openssl speed signs 20 bytes with none) and digest sign/verify.
 * Parameters (digest, digest-size, kat) pass through to the inner context; signing is offloaded.
 */
#include "uringprov.h"

UO_DECL(signature, ecdsa_sig, newctx);
UO_DECL(signature, ecdsa_sig, gettable_ctx_params);
UO_DECL(signature, ecdsa_sig, settable_ctx_params);

static void *ecdsa_sig_newctx(void *provctx, const char *propq)
{
    return uo_opctx_new(provctx, UO_FAM_EC);
}

static const OSSL_PARAM *ecdsa_sig_gettable_ctx_params(void *vctx, void *provctx)
{
    return uo_sig_gettable(provctx, UO_FAM_EC);
}

static const OSSL_PARAM *ecdsa_sig_settable_ctx_params(void *vctx, void *provctx)
{
    return uo_sig_settable(provctx, UO_FAM_EC);
}

const OSSL_DISPATCH uo_ecdsa_signature_functions[] = {
    { OSSL_FUNC_SIGNATURE_NEWCTX, (void (*)(void))ecdsa_sig_newctx },
    { OSSL_FUNC_SIGNATURE_FREECTX, (void (*)(void))uo_sig_freectx },
    { OSSL_FUNC_SIGNATURE_DUPCTX, (void (*)(void))uo_sig_dupctx },
    { OSSL_FUNC_SIGNATURE_SIGN_INIT, (void (*)(void))uo_sig_sign_init },
    { OSSL_FUNC_SIGNATURE_SIGN, (void (*)(void))uo_sig_sign },
    { OSSL_FUNC_SIGNATURE_VERIFY_INIT, (void (*)(void))uo_sig_verify_init },
    { OSSL_FUNC_SIGNATURE_VERIFY, (void (*)(void))uo_sig_verify },
    { OSSL_FUNC_SIGNATURE_DIGEST_SIGN_INIT, (void (*)(void))uo_sig_digest_sign_init },
    { OSSL_FUNC_SIGNATURE_DIGEST_SIGN_UPDATE, (void (*)(void))uo_sig_digest_sign_update },
    { OSSL_FUNC_SIGNATURE_DIGEST_SIGN_FINAL, (void (*)(void))uo_sig_digest_sign_final },
    { OSSL_FUNC_SIGNATURE_DIGEST_VERIFY_INIT, (void (*)(void))uo_sig_digest_verify_init },
    { OSSL_FUNC_SIGNATURE_DIGEST_VERIFY_UPDATE, (void (*)(void))uo_sig_digest_verify_update },
    { OSSL_FUNC_SIGNATURE_DIGEST_VERIFY_FINAL, (void (*)(void))uo_sig_digest_verify_final },
    { OSSL_FUNC_SIGNATURE_GET_CTX_PARAMS, (void (*)(void))uo_sig_get_ctx_params },
    { OSSL_FUNC_SIGNATURE_GETTABLE_CTX_PARAMS, (void (*)(void))ecdsa_sig_gettable_ctx_params },
    { OSSL_FUNC_SIGNATURE_SET_CTX_PARAMS, (void (*)(void))uo_sig_set_ctx_params },
    { OSSL_FUNC_SIGNATURE_SETTABLE_CTX_PARAMS, (void (*)(void))ecdsa_sig_settable_ctx_params },
    { OSSL_FUNC_SIGNATURE_GET_CTX_MD_PARAMS, (void (*)(void))uo_sig_get_ctx_md_params },
    { OSSL_FUNC_SIGNATURE_GETTABLE_CTX_MD_PARAMS, (void (*)(void))uo_sig_gettable_ctx_md_params },
    { OSSL_FUNC_SIGNATURE_SET_CTX_MD_PARAMS, (void (*)(void))uo_sig_set_ctx_md_params },
    { OSSL_FUNC_SIGNATURE_SETTABLE_CTX_MD_PARAMS, (void (*)(void))uo_sig_settable_ctx_md_params },
    { 0, NULL }
};

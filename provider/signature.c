/* SPDX-License-Identifier: Apache-2.0 */
/*
 * signature.c - signature callbacks that RSA, ECDSA and EdDSA share. Each family's file (rsa_sig.c,
 * ecdsa_sig.c, eddsa_sig.c) supplies newctx, its parameter tables and its dispatch table.
 *
 * Sign and digest-sign final are private-key work and go through uo_op_run (offloaded by default);
 * RSA and ECDSA sign and digest sign, and Ed25519's one-shot digest sign, may go to a multi-buffer
 * batch there, when the key and the context's parameters allow (uo_opctx_mb);
 * verification runs inline unless `offload` includes verify. A NULL output buffer is a size query:
 * answered on this thread, never offloaded, never paused.
 */
#include "uringprov.h"

size_t uo_out_capacity(const UO_OPCTX *ctx, size_t outsize)
{
    return ctx->max_size > 0 && outsize > ctx->max_size ? ctx->max_size : outsize;
}

void uo_sig_freectx(void *vctx)
{
    uo_opctx_free(vctx);
}

void *uo_sig_dupctx(void *vctx)
{
    return uo_opctx_dup(vctx);
}

int uo_sig_sign_init(void *vctx, void *provkey, const OSSL_PARAM params[])
{
    return uo_opctx_init(vctx, provkey, EVP_PKEY_OP_SIGN, params);
}

static int check_ready(UO_OPCTX *ctx, int operation)
{
    if (ctx == NULL || ctx->pctx == NULL || ctx->operation != operation) {
        UO_RAISE(ctx != NULL ? ctx->pc : NULL, UO_R_OPERATION_NOT_INITIALIZED);
        return 0;
    }
    return 1;
}

int uo_sig_sign(void *vctx, unsigned char *sig, size_t *siglen, size_t sigsize,
                const unsigned char *tbs, size_t tbslen)
{
    UO_OPCTX *ctx = vctx;
    UO_OP op = { 0 };
    int rv;

    if (!check_ready(ctx, EVP_PKEY_OP_SIGN))
        return 0;
    if (sig == NULL)
        return EVP_PKEY_sign(ctx->pctx, NULL, siglen, tbs, tbslen) > 0;
    op.iop = UO_IOP_SIGN;
    op.family = (unsigned int)ctx->family + 1;
    op.pctx = ctx->pctx;
    op.in = tbs;
    op.inlen = tbslen;
    op.out = sig;
    op.outlen = uo_out_capacity(ctx, sigsize);
    if (ctx->family == UO_FAM_RSA)
        op.mb = uo_opctx_mb(ctx, UO_MB_OP_RSA_SIGN);
    else if (ctx->family == UO_FAM_EC)
        op.mb = uo_opctx_mb(ctx, UO_MB_OP_ECDSA_SIGN);
    rv = uo_op_run(ctx->pc, UO_OP_SIGN, &op);
    if (rv > 0)
        *siglen = op.outlen;
    return rv > 0;
}

int uo_sig_verify_init(void *vctx, void *provkey, const OSSL_PARAM params[])
{
    return uo_opctx_init(vctx, provkey, EVP_PKEY_OP_VERIFY, params);
}

int uo_sig_verify(void *vctx, const unsigned char *sig, size_t siglen, const unsigned char *tbs,
                  size_t tbslen)
{
    UO_OPCTX *ctx = vctx;
    UO_OP op = { 0 };

    if (!check_ready(ctx, EVP_PKEY_OP_VERIFY))
        return 0;
    op.iop = UO_IOP_VERIFY;
    op.family = (unsigned int)ctx->family + 1;
    op.pctx = ctx->pctx;
    op.in = sig;
    op.inlen = siglen;
    op.in2 = tbs;
    op.in2len = tbslen;
    return uo_op_run(ctx->pc, UO_OP_VERIFY, &op) > 0;
}

int uo_sig_verify_recover_init(void *vctx, void *provkey, const OSSL_PARAM params[])
{
    return uo_opctx_init(vctx, provkey, EVP_PKEY_OP_VERIFYRECOVER, params);
}

int uo_sig_verify_recover(void *vctx, unsigned char *rout, size_t *routlen, size_t routsize,
                          const unsigned char *sig, size_t siglen)
{
    UO_OPCTX *ctx = vctx;
    UO_OP op = { 0 };
    int rv;

    if (!check_ready(ctx, EVP_PKEY_OP_VERIFYRECOVER))
        return 0;
    if (rout == NULL)
        return EVP_PKEY_verify_recover(ctx->pctx, NULL, routlen, sig, siglen) > 0;
    op.iop = UO_IOP_VERIFY_RECOVER;
    op.family = (unsigned int)ctx->family + 1;
    op.pctx = ctx->pctx;
    op.in = sig;
    op.inlen = siglen;
    op.out = rout;
    op.outlen = uo_out_capacity(ctx, routsize);
    rv = uo_op_run(ctx->pc, UO_OP_VERIFY, &op);
    if (rv > 0)
        *routlen = op.outlen;
    return rv > 0;
}

int uo_sig_digest_sign_init(void *vctx, const char *mdname, void *provkey,
                            const OSSL_PARAM params[])
{
    return uo_opctx_digest_init(vctx, provkey, 1, mdname, NULL, params);
}

int uo_sig_digest_sign_update(void *vctx, const unsigned char *data, size_t datalen)
{
    UO_OPCTX *ctx = vctx;

    if (!check_ready(ctx, EVP_PKEY_OP_SIGNCTX))
        return 0;
    if (ctx->mb_hash != NULL && !EVP_DigestUpdate(ctx->mb_hash, data, datalen)) {
        EVP_MD_CTX_free(ctx->mb_hash); /* no batch for this one; the inner context still signs */
        ctx->mb_hash = NULL;
    }
    return EVP_DigestSignUpdate(ctx->mdctx, data, datalen) > 0;
}

int uo_sig_digest_sign_final(void *vctx, unsigned char *sig, size_t *siglen, size_t sigsize)
{
    UO_OPCTX *ctx = vctx;
    UO_OP op = { 0 };
    unsigned char digest[EVP_MAX_MD_SIZE];
    int rv;

    if (!check_ready(ctx, EVP_PKEY_OP_SIGNCTX))
        return 0;
    if (sig == NULL)
        return EVP_DigestSignFinal(ctx->mdctx, NULL, siglen) > 0;
    op.iop = UO_IOP_DIGEST_SIGN_FINAL;
    op.family = (unsigned int)ctx->family + 1;
    op.mdctx = ctx->mdctx;
    op.out = sig;
    op.outlen = uo_out_capacity(ctx, sigsize);
    if (ctx->mb_hash != NULL) {
        const UO_MB_LANE *tmpl = uo_opctx_mb(ctx, ctx->family == UO_FAM_RSA ? UO_MB_OP_RSA_SIGN
                                                                            : UO_MB_OP_ECDSA_SIGN);
        unsigned int dlen = 0;

        /*
         * The batch signs the digest; the single path (op_exec) ignores it and finishes the inner
         * context, which saw the same message. Finalised once: a second final has no batch.
         */
        if (tmpl != NULL && EVP_DigestFinal_ex(ctx->mb_hash, digest, &dlen)) {
            op.in = digest;
            op.inlen = dlen;
            op.mb = tmpl;
        }
        EVP_MD_CTX_free(ctx->mb_hash);
        ctx->mb_hash = NULL;
    }
    rv = uo_op_run(ctx->pc, UO_OP_SIGN, &op);
    OPENSSL_cleanse(digest, sizeof(digest));
    if (rv > 0)
        *siglen = op.outlen;
    return rv > 0;
}

/*
 * OpenSSL 3.4 and later: EVP_PKEY_sign_message_init or EVP_PKEY_verify_message_init, then any number
 * of EVP_PKEY_sign or EVP_PKEY_verify calls, each over a whole message (ML-DSA, SLH-DSA; openssl
 * speed signs again and again on one context). The inner context is initialised the same way, and
 * uo_sig_sign and uo_sig_verify run its operations.
 */
int uo_sig_sign_message_init(void *vctx, void *provkey, const OSSL_PARAM params[])
{
    return uo_opctx_message_init(vctx, provkey, 1, params);
}

int uo_sig_verify_message_init(void *vctx, void *provkey, const OSSL_PARAM params[])
{
    return uo_opctx_message_init(vctx, provkey, 0, params);
}

int uo_sig_digest_verify_init(void *vctx, const char *mdname, void *provkey,
                              const OSSL_PARAM params[])
{
    return uo_opctx_digest_init(vctx, provkey, 0, mdname, NULL, params);
}

int uo_sig_digest_verify_update(void *vctx, const unsigned char *data, size_t datalen)
{
    UO_OPCTX *ctx = vctx;

    if (!check_ready(ctx, EVP_PKEY_OP_VERIFYCTX))
        return 0;
    return EVP_DigestVerifyUpdate(ctx->mdctx, data, datalen) > 0;
}

int uo_sig_digest_verify_final(void *vctx, const unsigned char *sig, size_t siglen)
{
    UO_OPCTX *ctx = vctx;
    UO_OP op = { 0 };

    if (!check_ready(ctx, EVP_PKEY_OP_VERIFYCTX))
        return 0;
    op.iop = UO_IOP_DIGEST_VERIFY_FINAL;
    op.family = (unsigned int)ctx->family + 1;
    op.mdctx = ctx->mdctx;
    op.in = sig;
    op.inlen = siglen;
    return uo_op_run(ctx->pc, UO_OP_VERIFY, &op) > 0;
}

int uo_sig_digest_sign(void *vctx, unsigned char *sig, size_t *siglen, size_t sigsize,
                       const unsigned char *tbs, size_t tbslen)
{
    UO_OPCTX *ctx = vctx;
    UO_OP op = { 0 };
    int rv;

    if (!check_ready(ctx, EVP_PKEY_OP_SIGNCTX))
        return 0;
    if (sig == NULL)
        return EVP_DigestSign(ctx->mdctx, NULL, siglen, tbs, tbslen) > 0;
    op.iop = UO_IOP_DIGEST_SIGN;
    op.family = (unsigned int)ctx->family + 1;
    op.mdctx = ctx->mdctx;
    op.in = tbs;
    op.inlen = tbslen;
    op.out = sig;
    op.outlen = uo_out_capacity(ctx, sigsize);
    if (ctx->family == UO_FAM_ED25519)
        op.mb = uo_opctx_mb(ctx, UO_MB_OP_ED25519_SIGN);
    rv = uo_op_run(ctx->pc, UO_OP_SIGN, &op);
    if (rv > 0)
        *siglen = op.outlen;
    return rv > 0;
}

int uo_sig_digest_verify(void *vctx, const unsigned char *sig, size_t siglen,
                         const unsigned char *tbs, size_t tbslen)
{
    UO_OPCTX *ctx = vctx;
    UO_OP op = { 0 };

    if (!check_ready(ctx, EVP_PKEY_OP_VERIFYCTX))
        return 0;
    op.iop = UO_IOP_DIGEST_VERIFY;
    op.family = (unsigned int)ctx->family + 1;
    op.mdctx = ctx->mdctx;
    op.in = sig;
    op.inlen = siglen;
    op.in2 = tbs;
    op.in2len = tbslen;
    return uo_op_run(ctx->pc, UO_OP_VERIFY, &op) > 0;
}

int uo_sig_get_ctx_params(void *vctx, OSSL_PARAM params[])
{
    return uo_opctx_get_params(vctx, params);
}

int uo_sig_set_ctx_params(void *vctx, const OSSL_PARAM params[])
{
    return uo_opctx_set_params(vctx, params);
}

int uo_sig_get_ctx_md_params(void *vctx, OSSL_PARAM params[])
{
    UO_OPCTX *ctx = vctx;

    if (ctx == NULL || ctx->mdctx == NULL)
        return 0;
    return EVP_MD_CTX_get_params(ctx->mdctx, params);
}

int uo_sig_set_ctx_md_params(void *vctx, const OSSL_PARAM params[])
{
    UO_OPCTX *ctx = vctx;

    if (ctx == NULL || ctx->mdctx == NULL)
        return 0;
    return EVP_MD_CTX_set_params(ctx->mdctx, params);
}

const OSSL_PARAM *uo_sig_gettable_ctx_md_params(void *vctx)
{
    UO_OPCTX *ctx = vctx;

    return ctx != NULL && ctx->mdctx != NULL ? EVP_MD_CTX_gettable_params(ctx->mdctx) : NULL;
}

const OSSL_PARAM *uo_sig_settable_ctx_md_params(void *vctx)
{
    UO_OPCTX *ctx = vctx;

    return ctx != NULL && ctx->mdctx != NULL ? EVP_MD_CTX_settable_params(ctx->mdctx) : NULL;
}

const OSSL_PARAM *uo_sig_gettable(UO_PROVCTX *pc, enum uo_family fam)
{
    EVP_SIGNATURE *sig = pc->inner[fam].signature;

    return sig != NULL ? EVP_SIGNATURE_gettable_ctx_params(sig) : NULL;
}

const OSSL_PARAM *uo_sig_settable(UO_PROVCTX *pc, enum uo_family fam)
{
    EVP_SIGNATURE *sig = pc->inner[fam].signature;

    return sig != NULL ? EVP_SIGNATURE_settable_ctx_params(sig) : NULL;
}

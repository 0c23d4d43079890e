/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rsa_enc.c - RSA encryption and decryption: PKCS#1 v1.5, OAEP (oaep-digest, mgf1-digest,
 * oaep-label), none, and the TLS padding (tls-client-version, tls-negotiated-version) of TLS 1.2's
 * RSA key exchange, whose implicit-rejection behaviour stays the inner provider's. Decryption is
 * offloaded; encryption runs inline unless `offload` includes encrypt.
 */
#include "uringprov.h"

UO_DECL(asym_cipher, rsa_enc, newctx);
UO_DECL(asym_cipher, rsa_enc, freectx);
UO_DECL(asym_cipher, rsa_enc, dupctx);
UO_DECL(asym_cipher, rsa_enc, encrypt_init);
UO_DECL(asym_cipher, rsa_enc, encrypt);
UO_DECL(asym_cipher, rsa_enc, decrypt_init);
UO_DECL(asym_cipher, rsa_enc, decrypt);
UO_DECL(asym_cipher, rsa_enc, get_ctx_params);
UO_DECL(asym_cipher, rsa_enc, set_ctx_params);
UO_DECL(asym_cipher, rsa_enc, gettable_ctx_params);
UO_DECL(asym_cipher, rsa_enc, settable_ctx_params);

static void *rsa_enc_newctx(void *provctx)
{
    return uo_opctx_new(provctx, UO_FAM_RSA);
}

static void rsa_enc_freectx(void *vctx)
{
    uo_opctx_free(vctx);
}

static void *rsa_enc_dupctx(void *vctx)
{
    return uo_opctx_dup(vctx);
}

static int rsa_enc_encrypt_init(void *vctx, void *provkey, const OSSL_PARAM params[])
{
    return uo_opctx_init(vctx, provkey, EVP_PKEY_OP_ENCRYPT, params);
}

static int rsa_enc_decrypt_init(void *vctx, void *provkey, const OSSL_PARAM params[])
{
    UO_KEY *key = provkey;

    if (key != NULL && !key->has_priv) {
        UO_RAISE(((UO_OPCTX *)vctx)->pc, UO_R_MISSING_PRIVATE_KEY);
        return 0;
    }
    return uo_opctx_init(vctx, provkey, EVP_PKEY_OP_DECRYPT, params);
}

static int run(UO_OPCTX *ctx, int operation, enum uo_iop iop, unsigned int opclass,
               unsigned char *out, size_t *outlen, size_t outsize, const unsigned char *in,
               size_t inlen)
{
    UO_OP op = { 0 };
    int rv;

    if (ctx == NULL || ctx->pctx == NULL || ctx->operation != operation) {
        UO_RAISE(ctx != NULL ? ctx->pc : NULL, UO_R_OPERATION_NOT_INITIALIZED);
        return 0;
    }
    if (out == NULL) /* size query: never offloaded */
        return (operation == EVP_PKEY_OP_ENCRYPT
                    ? EVP_PKEY_encrypt(ctx->pctx, NULL, outlen, in, inlen)
                    : EVP_PKEY_decrypt(ctx->pctx, NULL, outlen, in, inlen)) > 0;
    op.iop = iop;
    op.family = (unsigned int)ctx->family + 1;
    op.pctx = ctx->pctx;
    op.in = in;
    op.inlen = inlen;
    op.out = out;
    op.outlen = uo_out_capacity(ctx, outsize);
    rv = uo_op_run(ctx->pc, opclass, &op);
    if (rv > 0)
        *outlen = op.outlen;
    return rv > 0;
}

static int rsa_enc_encrypt(void *vctx, unsigned char *out, size_t *outlen, size_t outsize,
                           const unsigned char *in, size_t inlen)
{
    return run(vctx, EVP_PKEY_OP_ENCRYPT, UO_IOP_ENCRYPT, UO_OP_ENCRYPT, out, outlen, outsize, in,
               inlen);
}

static int rsa_enc_decrypt(void *vctx, unsigned char *out, size_t *outlen, size_t outsize,
                           const unsigned char *in, size_t inlen)
{
    return run(vctx, EVP_PKEY_OP_DECRYPT, UO_IOP_DECRYPT, UO_OP_DECRYPT, out, outlen, outsize, in,
               inlen);
}

static int rsa_enc_get_ctx_params(void *vctx, OSSL_PARAM params[])
{
    return uo_opctx_get_params(vctx, params);
}

static int rsa_enc_set_ctx_params(void *vctx, const OSSL_PARAM params[])
{
    return uo_opctx_set_params(vctx, params);
}

/* An initialised context answers with its inner context's tables, as rsa_sig.c does. */
static const OSSL_PARAM *rsa_enc_gettable_ctx_params(void *vctx, void *provctx)
{
    EVP_ASYM_CIPHER *c = ((UO_PROVCTX *)provctx)->inner[UO_FAM_RSA].cipher;
    EVP_PKEY_CTX *inner = uo_opctx_param_target(vctx);
    const OSSL_PARAM *t = inner != NULL ? EVP_PKEY_CTX_gettable_params(inner) : NULL;

    return t != NULL ? t : c != NULL ? EVP_ASYM_CIPHER_gettable_ctx_params(c) : NULL;
}

static const OSSL_PARAM *rsa_enc_settable_ctx_params(void *vctx, void *provctx)
{
    EVP_ASYM_CIPHER *c = ((UO_PROVCTX *)provctx)->inner[UO_FAM_RSA].cipher;
    EVP_PKEY_CTX *inner = uo_opctx_param_target(vctx);
    const OSSL_PARAM *t = inner != NULL ? EVP_PKEY_CTX_settable_params(inner) : NULL;

    return t != NULL ? t : c != NULL ? EVP_ASYM_CIPHER_settable_ctx_params(c) : NULL;
}

const OSSL_DISPATCH uo_rsa_asym_cipher_functions[] = {
    { OSSL_FUNC_ASYM_CIPHER_NEWCTX, (void (*)(void))rsa_enc_newctx },
    { OSSL_FUNC_ASYM_CIPHER_FREECTX, (void (*)(void))rsa_enc_freectx },
    { OSSL_FUNC_ASYM_CIPHER_DUPCTX, (void (*)(void))rsa_enc_dupctx },
    { OSSL_FUNC_ASYM_CIPHER_ENCRYPT_INIT, (void (*)(void))rsa_enc_encrypt_init },
    { OSSL_FUNC_ASYM_CIPHER_ENCRYPT, (void (*)(void))rsa_enc_encrypt },
    { OSSL_FUNC_ASYM_CIPHER_DECRYPT_INIT, (void (*)(void))rsa_enc_decrypt_init },
    { OSSL_FUNC_ASYM_CIPHER_DECRYPT, (void (*)(void))rsa_enc_decrypt },
    { OSSL_FUNC_ASYM_CIPHER_GET_CTX_PARAMS, (void (*)(void))rsa_enc_get_ctx_params },
    { OSSL_FUNC_ASYM_CIPHER_GETTABLE_CTX_PARAMS, (void (*)(void))rsa_enc_gettable_ctx_params },
    { OSSL_FUNC_ASYM_CIPHER_SET_CTX_PARAMS, (void (*)(void))rsa_enc_set_ctx_params },
    { OSSL_FUNC_ASYM_CIPHER_SETTABLE_CTX_PARAMS, (void (*)(void))rsa_enc_settable_ctx_params },
    { 0, NULL }
};

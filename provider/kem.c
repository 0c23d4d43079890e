/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kem.c - KEM callbacks that ML-KEM and the hybrid KEMs (X25519MLKEM768, SecP256r1MLKEM768, ...)
 * share. Each family's file (ml_kem_kem.c) supplies newctx, its parameter tables and its dispatch
 * table.
 *
 * Both halves of a KEM make a shared secret, as a key exchange does: encapsulation (a TLS 1.3
 * server's whole key share, with the hybrid's ephemeral elliptic-curve key inside it) and
 * decapsulation (the client's) are counted as `derive` work and offloaded by default. A NULL
 * output is a size query: answered on this thread, never offloaded, never paused. The inner call
 * checks the ciphertext and the buffers, so a caller gets the default provider's errors.
 */
#include "uringprov.h"

void uo_kem_freectx(void *vctx)
{
    uo_opctx_free(vctx);
}

void *uo_kem_dupctx(void *vctx)
{
    return uo_opctx_dup(vctx);
}

static int kem_init(UO_OPCTX *ctx, UO_KEY *key, int operation, const OSSL_PARAM params[])
{
    if (ctx == NULL)
        return 0;
    if (key != NULL && key->type->family != ctx->family) {
        UO_RAISE(ctx->pc, UO_R_KEY_TYPE_MISMATCH);
        return 0;
    }
    if (key != NULL && operation == EVP_PKEY_OP_DECAPSULATE && !key->has_priv) {
        UO_RAISE(ctx->pc, UO_R_MISSING_PRIVATE_KEY);
        return 0;
    }
    if (key != NULL && operation == EVP_PKEY_OP_ENCAPSULATE && !key->has_pub) {
        UO_RAISE_DATA(ctx->pc, UO_R_MISSING_KEY, "the %s key has no public part", key->type->name);
        return 0;
    }
    return uo_opctx_init(ctx, key, operation, params);
}

int uo_kem_encapsulate_init(void *vctx, void *provkey, const OSSL_PARAM params[])
{
    return kem_init(vctx, provkey, EVP_PKEY_OP_ENCAPSULATE, params);
}

int uo_kem_decapsulate_init(void *vctx, void *provkey, const OSSL_PARAM params[])
{
    return kem_init(vctx, provkey, EVP_PKEY_OP_DECAPSULATE, params);
}

static int kem_ready(UO_OPCTX *ctx, int operation)
{
    if (ctx == NULL || ctx->pctx == NULL || ctx->operation != operation) {
        UO_RAISE(ctx != NULL ? ctx->pc : NULL, UO_R_OPERATION_NOT_INITIALIZED);
        return 0;
    }
    return 1;
}

/* The capacity a request gets: the caller's, capped at what the operation makes. */
static size_t kem_capacity(const size_t *given, size_t need)
{
    return given != NULL && *given < need ? *given : need;
}

int uo_kem_encapsulate(void *vctx, unsigned char *out, size_t *outlen, unsigned char *secret,
                       size_t *secretlen)
{
    UO_OPCTX *ctx = vctx;
    UO_OP op = { 0 };
    size_t ctlen = 0, sslen = 0;
    int rv;

    if (!kem_ready(ctx, EVP_PKEY_OP_ENCAPSULATE))
        return 0;
    if (EVP_PKEY_encapsulate(ctx->pctx, NULL, &ctlen, NULL, &sslen) <= 0)
        return 0;
    if (out == NULL) {
        if (outlen != NULL)
            *outlen = ctlen;
        if (secretlen != NULL)
            *secretlen = sslen;
        return 1;
    }
    /* Without the lengths, nothing says how large the caller's buffers are. */
    if (outlen == NULL || secret == NULL || secretlen == NULL) {
        UO_RAISE_DATA(ctx->pc, UO_R_NULL_ARGUMENT,
                      "encapsulation needs the ciphertext's and the secret's buffers and lengths");
        return 0;
    }
    op.iop = UO_IOP_ENCAPSULATE;
    op.pctx = ctx->pctx;
    op.family = (unsigned int)ctx->family + 1;
    op.out = out;
    op.outlen = kem_capacity(outlen, ctlen);
    op.out2 = secret;
    op.out2len = kem_capacity(secretlen, sslen);
    rv = uo_op_run(ctx->pc, UO_OP_DERIVE, &op);
    if (rv > 0) {
        *outlen = op.outlen;
        *secretlen = op.out2len;
    }
    return rv > 0;
}

int uo_kem_decapsulate(void *vctx, unsigned char *out, size_t *outlen, const unsigned char *in,
                       size_t inlen)
{
    UO_OPCTX *ctx = vctx;
    UO_OP op = { 0 };
    size_t need = 0;
    int rv;

    if (!kem_ready(ctx, EVP_PKEY_OP_DECAPSULATE))
        return 0;
    if (EVP_PKEY_decapsulate(ctx->pctx, NULL, &need, in, inlen) <= 0)
        return 0;
    if (out == NULL) {
        if (outlen != NULL)
            *outlen = need;
        return 1;
    }
    op.iop = UO_IOP_DECAPSULATE;
    op.pctx = ctx->pctx;
    op.family = (unsigned int)ctx->family + 1;
    op.in = in;
    op.inlen = inlen;
    op.out = out;
    op.outlen = kem_capacity(outlen, need);
    rv = uo_op_run(ctx->pc, UO_OP_DERIVE, &op);
    if (rv > 0 && outlen != NULL)
        *outlen = op.outlen;
    return rv > 0;
}

int uo_kem_get_ctx_params(void *vctx, OSSL_PARAM params[])
{
    return uo_opctx_get_params(vctx, params);
}

int uo_kem_set_ctx_params(void *vctx, const OSSL_PARAM params[])
{
    return uo_opctx_set_params(vctx, params);
}

const OSSL_PARAM *uo_kem_gettable(UO_PROVCTX *pc, enum uo_family fam)
{
    EVP_KEM *kem = pc->inner[fam].kem;

    return kem != NULL ? EVP_KEM_gettable_ctx_params(kem) : NULL;
}

const OSSL_PARAM *uo_kem_settable(UO_PROVCTX *pc, enum uo_family fam)
{
    EVP_KEM *kem = pc->inner[fam].kem;

    return kem != NULL ? EVP_KEM_settable_ctx_params(kem) : NULL;
}

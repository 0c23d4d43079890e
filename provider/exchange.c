/* SPDX-License-Identifier: Apache-2.0 */
/*
 * exchange.c - key exchange callbacks that ECDH, X25519 and X448 share. Each family's file
 * (ecdh_exch.c, ecx_exch.c) supplies newctx, its parameter tables and its dispatch table.
 *
 * Derive is private-key work and goes through uo_op_run (offloaded by default). A NULL output
 * buffer is a size query: answered on this thread, never offloaded, never paused. The peer key's
 * public-key check is EVP_PKEY_derive_set_peer's, made through the peer's keymgmt before the
 * peer reaches us; the inner set_peer still checks that both keys share a group.
 */
#include "uringprov.h"

void uo_exch_freectx(void *vctx)
{
    uo_opctx_free(vctx);
}

void *uo_exch_dupctx(void *vctx)
{
    return uo_opctx_dup(vctx);
}

static int exch_ready(UO_OPCTX *ctx)
{
    if (ctx == NULL || ctx->pctx == NULL || ctx->operation != EVP_PKEY_OP_DERIVE) {
        UO_RAISE(ctx != NULL ? ctx->pc : NULL, UO_R_OPERATION_NOT_INITIALIZED);
        return 0;
    }
    return 1;
}

int uo_exch_init(void *vctx, void *provkey, const OSSL_PARAM params[])
{
    UO_OPCTX *ctx = vctx;
    UO_KEY *key = provkey;

    if (ctx == NULL)
        return 0;
    if (key != NULL && key->type->family != ctx->family) {
        UO_RAISE(ctx->pc, UO_R_KEY_TYPE_MISMATCH);
        return 0;
    }
    if (key != NULL && !key->has_priv) {
        UO_RAISE(ctx->pc, UO_R_MISSING_PRIVATE_KEY);
        return 0;
    }
    return uo_opctx_init(ctx, key, EVP_PKEY_OP_DERIVE, params);
}

int uo_exch_set_peer(void *vctx, void *provkey)
{
    UO_OPCTX *ctx = vctx;
    UO_KEY *peer = provkey;

    if (!exch_ready(ctx))
        return 0;
    if (peer == NULL || peer->pkey == NULL || !peer->has_pub) {
        UO_RAISE_DATA(ctx->pc, UO_R_MISSING_KEY, "the peer key has no public part");
        return 0;
    }
    if (peer->type->family != ctx->family) {
        UO_RAISE(ctx->pc, UO_R_KEY_TYPE_MISMATCH);
        return 0;
    }
    /* The caller chose whether to validate (EVP_PKEY_derive_set_peer_ex); do not do it twice. */
    if (EVP_PKEY_derive_set_peer_ex(ctx->pctx, peer->pkey, 0) <= 0)
        return 0;
    if (!EVP_PKEY_up_ref(peer->pkey))
        return 0;
    EVP_PKEY_free(ctx->peer);
    ctx->peer = peer->pkey;
    ctx->mb_peer_len = 0;
    return 1;
}

int uo_exch_derive(void *vctx, unsigned char *secret, size_t *secretlen, size_t outlen)
{
    UO_OPCTX *ctx = vctx;
    UO_OP op = { 0 };
    UO_MB_LANE lane;
    size_t need = 0;
    int rv;

    if (!exch_ready(ctx))
        return 0;
    if (ctx->peer == NULL) {
        UO_RAISE_DATA(ctx->pc, UO_R_MISSING_KEY, "no peer key set");
        return 0;
    }
    /*
     * The size query costs no math. Its answer bounds the request's output buffer: ECDH may
     * truncate to a shorter buffer, X25519 and the KDF refuse one; the inner call sees the same
     * shortfall either way, since min(outlen, need) < need exactly when outlen < need.
     */
    if (EVP_PKEY_derive(ctx->pctx, NULL, &need) <= 0)
        return 0;
    if (secret == NULL) {
        *secretlen = need;
        return 1;
    }
    op.iop = UO_IOP_DERIVE;
    op.family = (unsigned int)ctx->family + 1;
    op.pctx = ctx->pctx;
    op.out = secret;
    op.outlen = outlen < need ? outlen : need;
    /* A batch computes the whole secret; ECDH truncated to a short buffer stays single. */
    if (op.outlen == need) {
        const UO_MB_LANE *tmpl = NULL;

        if (ctx->family == UO_FAM_EC)
            tmpl = uo_opctx_mb(ctx, UO_MB_OP_ECDH_DERIVE);
        else if (ctx->family == UO_FAM_X25519)
            tmpl = uo_opctx_mb(ctx, UO_MB_OP_X25519_DERIVE);
        if (tmpl != NULL) {
            lane = *tmpl;
            lane.peer = ctx->peer;
            op.mb = &lane;
            /* Once per peer: openssl speed derives with one peer again and again. */
            if (ctx->mb_peer_len == 0)
                uo_mb_peer_encode(tmpl->op, ctx->peer, ctx->mb_peer, sizeof(ctx->mb_peer),
                                  &ctx->mb_peer_len);
            /* The batch reads the peer from the input; the single path ignores it. */
            if (ctx->mb_peer_len > 0) {
                op.in = ctx->mb_peer;
                op.inlen = ctx->mb_peer_len;
            }
        }
    }
    rv = uo_op_run(ctx->pc, UO_OP_DERIVE, &op);
    if (rv > 0)
        *secretlen = op.outlen;
    return rv > 0;
}

int uo_exch_get_ctx_params(void *vctx, OSSL_PARAM params[])
{
    return uo_opctx_get_params(vctx, params);
}

int uo_exch_set_ctx_params(void *vctx, const OSSL_PARAM params[])
{
    return uo_opctx_set_params(vctx, params);
}

const OSSL_PARAM *uo_exch_gettable(UO_PROVCTX *pc, enum uo_family fam)
{
    EVP_KEYEXCH *kx = pc->inner[fam].exchange;

    return kx != NULL ? EVP_KEYEXCH_gettable_ctx_params(kx) : NULL;
}

const OSSL_PARAM *uo_exch_settable(UO_PROVCTX *pc, enum uo_family fam)
{
    EVP_KEYEXCH *kx = pc->inner[fam].exchange;

    return kx != NULL ? EVP_KEYEXCH_settable_ctx_params(kx) : NULL;
}

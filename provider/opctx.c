/* SPDX-License-Identifier: Apache-2.0 */
/*
 * opctx.c - the operation context that signatures, asymmetric ciphers and key exchanges share: an
 * inner key plus the inner EVP_PKEY_CTX (or EVP_MD_CTX for digest sign/verify) set up for the
 * operation. Parameters go straight to the inner context, which validates them as the default
 * provider does.
 */
#include <string.h>

#include <openssl/err.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>

#include "uringprov.h"

UO_OPCTX *uo_opctx_new(UO_PROVCTX *pc, enum uo_family family)
{
    UO_OPCTX *ctx = OPENSSL_zalloc(sizeof(*ctx));

    if (ctx == NULL) {
        UO_RAISE(pc, UO_R_MALLOC_FAILURE);
        return NULL;
    }
    ctx->pc = pc;
    ctx->family = family;
    return ctx;
}

static void opctx_reset(UO_OPCTX *ctx)
{
    if (ctx->mdctx != NULL) {
        EVP_MD_CTX_free(ctx->mdctx);
        ctx->mdctx = NULL;
        ctx->pctx = NULL; /* it belonged to mdctx */
    }
    EVP_PKEY_CTX_free(ctx->pctx);
    ctx->pctx = NULL;
    EVP_PKEY_free(ctx->peer);
    ctx->peer = NULL;
    ctx->operation = 0;
    ctx->mb_state = UO_MB_UNKNOWN;
    ctx->params_given = 0;
    EVP_MD_CTX_free(ctx->mb_hash);
    ctx->mb_hash = NULL;
    ctx->mb_peer_len = 0;
}

void uo_opctx_free(UO_OPCTX *ctx)
{
    if (ctx == NULL)
        return;
    opctx_reset(ctx);
    EVP_PKEY_free(ctx->pkey);
    uo_mb_key_free(ctx->mbkey);
    EVP_MD_free(ctx->mb_md);
    EVP_MD_free(ctx->mb_mgf1md);
    OPENSSL_free(ctx);
}

UO_OPCTX *uo_opctx_dup(const UO_OPCTX *src)
{
    UO_OPCTX *dst = uo_opctx_new(src->pc, src->family);

    if (dst == NULL)
        return NULL;
    dst->operation = src->operation;
    dst->max_size = src->max_size;
    dst->params_given = src->params_given;
    if (src->pkey != NULL && EVP_PKEY_up_ref(src->pkey))
        dst->pkey = src->pkey;
    if (src->peer != NULL && EVP_PKEY_up_ref(src->peer)) {
        dst->peer = src->peer;
        memcpy(dst->mb_peer, src->mb_peer, src->mb_peer_len);
        dst->mb_peer_len = src->mb_peer_len;
    }
    if (src->mbkey != NULL && uo_mb_key_up_ref(src->mbkey))
        dst->mbkey = src->mbkey; /* the lane template is looked at again on first use */
    if (src->mdctx != NULL) {
        dst->mdctx = EVP_MD_CTX_new();
        if (dst->mdctx == NULL || !EVP_MD_CTX_copy_ex(dst->mdctx, src->mdctx))
            goto err;
        dst->pctx = EVP_MD_CTX_get_pkey_ctx(dst->mdctx);
        /* EVP_DigestSignFinal signs a dup: it must carry the digest so far. */
        if (src->mb_hash != NULL) {
            dst->mb_hash = EVP_MD_CTX_new();
            if (dst->mb_hash == NULL || !EVP_MD_CTX_copy_ex(dst->mb_hash, src->mb_hash)) {
                EVP_MD_CTX_free(dst->mb_hash); /* the copy only loses the batch */
                dst->mb_hash = NULL;
            }
        }
    } else if (src->pctx != NULL) {
        dst->pctx = EVP_PKEY_CTX_dup(src->pctx);
        if (dst->pctx == NULL)
            goto err;
    }
    return dst;
err:
    uo_opctx_free(dst);
    return NULL;
}

static int opctx_set_key(UO_OPCTX *ctx, UO_KEY *key)
{
    if (key == NULL) {
        if (ctx->pkey == NULL) {
            UO_RAISE(ctx->pc, UO_R_MISSING_KEY);
            return 0;
        }
        return 1; /* re-init with the key already set, as openssl speed does */
    }
    if (key->pkey == NULL) {
        UO_RAISE(ctx->pc, UO_R_MISSING_KEY);
        return 0;
    }
    /*
     * A key imported with domain parameters only has nothing to sign or verify with; OpenSSL
     * 3.0's RSA code dereferences the missing modulus (found by test/fuzz/fuzz_import).
     */
    if (!key->has_pub && !key->has_priv) {
        UO_RAISE_DATA(ctx->pc, UO_R_MISSING_KEY, "the %s key holds neither half", key->type->name);
        return 0;
    }
    if (!EVP_PKEY_up_ref(key->pkey))
        return 0;
    EVP_PKEY_free(ctx->pkey);
    ctx->pkey = key->pkey;
    ctx->max_size = key->max_size;
    uo_mb_key_free(ctx->mbkey);
    ctx->mbkey = NULL;
    return 1;
}

/* Private operations may batch: take the key's batch material along (made on first use). */
static void opctx_set_mbkey(UO_OPCTX *ctx, UO_KEY *key, int operation)
{
    if (key == NULL || ctx->mbkey != NULL)
        return;
    if (operation == EVP_PKEY_OP_SIGN || operation == EVP_PKEY_OP_SIGNCTX
        || operation == EVP_PKEY_OP_DERIVE)
        ctx->mbkey = uo_key_mb(key);
}

/*
 * Looks at the inner context's parameters once after each change, and decides whether op can go
 * to a batch: the padding and digest that the RSA adapter encodes with, no KDF for ECDH, no
 * deterministic nonces for ECDSA, plain Ed25519. Anything it does not know stays on the single
 * path.
 */
static int opctx_mb_template(UO_OPCTX *ctx, enum uo_mb_op op)
{
    UO_MB_LANE *l = &ctx->mb;
    const EVP_MD *md = NULL, *mgf1 = NULL;
    int pad = 0, saltlen = 0, ok = 0;

    memset(l, 0, sizeof(*l));
    l->op = op; /* what the answer is for, yes or no */
    EVP_MD_free(ctx->mb_md);
    EVP_MD_free(ctx->mb_mgf1md);
    ctx->mb_md = ctx->mb_mgf1md = NULL;
    if (!uo_mb_key_supports(ctx->mbkey, op) || ctx->pctx == NULL)
        return 0;
    ERR_set_mark();
    switch (op) {
    case UO_MB_OP_RSA_SIGN:
        if (EVP_PKEY_CTX_get_rsa_padding(ctx->pctx, &pad) <= 0
            || (pad != RSA_PKCS1_PADDING && pad != RSA_PKCS1_PSS_PADDING))
            break;
        if (EVP_PKEY_CTX_get_signature_md(ctx->pctx, &md) <= 0)
            md = NULL;
        if (pad == RSA_PKCS1_PSS_PADDING) {
            if (md == NULL || EVP_PKEY_CTX_get_rsa_mgf1_md(ctx->pctx, &mgf1) <= 0
                || EVP_PKEY_CTX_get_rsa_pss_saltlen(ctx->pctx, &saltlen) <= 0)
                break;
            if (mgf1 != NULL
                && (ctx->mb_mgf1md = EVP_MD_fetch(ctx->pc->libctx, EVP_MD_get0_name(mgf1),
                                                  NULL)) == NULL)
                break;
        }
        if (md != NULL
            && (ctx->mb_md = EVP_MD_fetch(ctx->pc->libctx, EVP_MD_get0_name(md), NULL)) == NULL)
            break;
        l->rsa_pad = pad;
        l->saltlen = saltlen;
        ok = 1;
        break;
    case UO_MB_OP_ECDSA_SIGN: {
        unsigned int nonce_type = 0;
        OSSL_PARAM p[] = { OSSL_PARAM_uint("nonce-type", &nonce_type), OSSL_PARAM_END };

        /* 3.2 and later: deterministic nonces (RFC 6979) are the single path's. */
        if (EVP_PKEY_CTX_get_params(ctx->pctx, p) > 0 && OSSL_PARAM_modified(p)
            && nonce_type != 0)
            break;
        if (EVP_PKEY_CTX_get_signature_md(ctx->pctx, &md) <= 0)
            md = NULL;
        if (md != NULL
            && (ctx->mb_md = EVP_MD_fetch(ctx->pc->libctx, EVP_MD_get0_name(md), NULL)) == NULL)
            break;
        ok = 1;
        break;
    }
    case UO_MB_OP_ECDH_DERIVE:
        ok = EVP_PKEY_CTX_get_ecdh_kdf_type(ctx->pctx) == EVP_PKEY_ECDH_KDF_NONE;
        break;
    case UO_MB_OP_X25519_DERIVE:
        ok = 1;
        break;
    case UO_MB_OP_ED25519_SIGN:
        /*
         * 3.2 and later: an "instance" or "context-string" makes Ed25519ctx or Ed25519ph, which
         * the single path signs. The default provider does not report the instance back, so a
         * context given any parameter since its init stays single.
         */
        ok = !ctx->params_given;
        break;
    default:
        break;
    }
    ERR_pop_to_mark();
    if (!ok)
        return 0;
    l->op = op;
    l->key = ctx->mbkey;
    l->md = ctx->mb_md;
    l->mgf1md = ctx->mb_mgf1md;
    l->libctx = ctx->pc->libctx;
    return 1;
}

/*
 * RSA and ECDSA digest sign (TLS signs this way): hash the message alongside the inner context, so
 * that the final signature can be made from the digest in a batch. Without a batchable key or
 * digest nothing is kept, and the inner context alone signs, as before.
 */
static void opctx_mb_hash_init(UO_OPCTX *ctx)
{
    const EVP_MD *md = NULL;
    EVP_MD *fetched;

    EVP_MD_CTX_free(ctx->mb_hash);
    ctx->mb_hash = NULL;
    if (ctx->mbkey == NULL || (ctx->family != UO_FAM_RSA && ctx->family != UO_FAM_EC))
        return;
    ERR_set_mark();
    if (EVP_PKEY_CTX_get_signature_md(ctx->pctx, &md) > 0 && md != NULL
        && (fetched = EVP_MD_fetch(ctx->pc->libctx, EVP_MD_get0_name(md), NULL)) != NULL) {
        ctx->mb_hash = EVP_MD_CTX_new();
        if (ctx->mb_hash != NULL && !EVP_DigestInit_ex2(ctx->mb_hash, fetched, NULL)) {
            EVP_MD_CTX_free(ctx->mb_hash);
            ctx->mb_hash = NULL;
        }
        EVP_MD_free(fetched);
    }
    ERR_pop_to_mark();
}

const UO_MB_LANE *uo_opctx_mb(UO_OPCTX *ctx, enum uo_mb_op op)
{
    if (ctx->mbkey == NULL)
        return NULL;
    if (ctx->mb_state == UO_MB_UNKNOWN || ctx->mb.op != op)
        ctx->mb_state = opctx_mb_template(ctx, op) ? UO_MB_YES : UO_MB_NO;
    return ctx->mb_state == UO_MB_YES ? &ctx->mb : NULL;
}

/*
 * OpenSSL 3.0's default provider takes a zero-length digest ("NULL") as the MGF1 digest of OAEP,
 * and then loops for ever in PKCS1_MGF1 on every encryption or decryption (found by
 * fuzz_asym_cipher; PSS refuses it). A worker stuck for good, and a caller waiting for it for good,
 * are worse than a refusal: refuse a MGF1 digest with no output size here, with a clear error.
 */
static int mgf1_digest_ok(UO_OPCTX *ctx, const OSSL_PARAM params[])
{
    const OSSL_PARAM *p = OSSL_PARAM_locate_const(params, OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST);
    const char *name = NULL;
    EVP_MD *md;
    int size;

    if (p == NULL || !OSSL_PARAM_get_utf8_string_ptr(p, &name) || name == NULL)
        return 1; /* not ours to judge: the inner context refuses what is malformed */
    ERR_set_mark();
    md = EVP_MD_fetch(ctx->pc->libctx, name, NULL);
    ERR_pop_to_mark();
    size = md != NULL ? EVP_MD_get_size(md) : 1;
    EVP_MD_free(md);
    if (size > 0)
        return 1;
    UO_RAISE_DATA(ctx->pc, UO_R_BAD_PARAMETER, "MGF1 digest %s has no output size", name);
    return 0;
}

int uo_opctx_init(UO_OPCTX *ctx, UO_KEY *key, int operation, const OSSL_PARAM params[])
{
    int ok;

    if (ctx == NULL || !opctx_set_key(ctx, key))
        return 0;
    if (params != NULL && !mgf1_digest_ok(ctx, params))
        return 0;
    opctx_reset(ctx);
    ctx->pctx = EVP_PKEY_CTX_new_from_pkey(ctx->pc->libctx, ctx->pkey, NULL);
    if (ctx->pctx == NULL)
        return 0;
    switch (operation) {
    case EVP_PKEY_OP_SIGN:
        ok = EVP_PKEY_sign_init_ex(ctx->pctx, params);
        break;
    case EVP_PKEY_OP_VERIFY:
        ok = EVP_PKEY_verify_init_ex(ctx->pctx, params);
        break;
    case EVP_PKEY_OP_VERIFYRECOVER:
        ok = EVP_PKEY_verify_recover_init_ex(ctx->pctx, params);
        break;
    case EVP_PKEY_OP_ENCRYPT:
        ok = EVP_PKEY_encrypt_init_ex(ctx->pctx, params);
        break;
    case EVP_PKEY_OP_DECRYPT:
        ok = EVP_PKEY_decrypt_init_ex(ctx->pctx, params);
        break;
    case EVP_PKEY_OP_DERIVE:
        ok = EVP_PKEY_derive_init_ex(ctx->pctx, params);
        break;
    case EVP_PKEY_OP_ENCAPSULATE:
        ok = EVP_PKEY_encapsulate_init(ctx->pctx, params);
        break;
    case EVP_PKEY_OP_DECAPSULATE:
        ok = EVP_PKEY_decapsulate_init(ctx->pctx, params);
        break;
    default:
        ok = 0;
    }
    if (ok <= 0) {
        opctx_reset(ctx);
        return 0;
    }
    ctx->operation = operation;
    ctx->params_given = params != NULL && params->key != NULL;
    opctx_set_mbkey(ctx, key, operation);
    return 1;
}

int uo_opctx_message_init(UO_OPCTX *ctx, UO_KEY *key, int sign, const OSSL_PARAM params[])
{
    int (*init)(EVP_PKEY_CTX *, EVP_SIGNATURE *, const OSSL_PARAM *);
    EVP_SIGNATURE *alg;

    if (ctx == NULL || !opctx_set_key(ctx, key))
        return 0;
    init = sign ? ctx->pc->sign_message_init : ctx->pc->verify_message_init;
    alg = ctx->pc->inner[ctx->family].signature;
    if (init == NULL || alg == NULL) {
        UO_RAISE_DATA(ctx->pc, UO_R_UNSUPPORTED, "message signing needs OpenSSL 3.4 or later");
        return 0;
    }
    opctx_reset(ctx);
    ctx->pctx = EVP_PKEY_CTX_new_from_pkey(ctx->pc->libctx, ctx->pkey, NULL);
    if (ctx->pctx == NULL)
        return 0;
    if (init(ctx->pctx, alg, params) <= 0) {
        opctx_reset(ctx);
        return 0;
    }
    ctx->operation = sign ? EVP_PKEY_OP_SIGN : EVP_PKEY_OP_VERIFY;
    ctx->params_given = params != NULL && params->key != NULL;
    return 1;
}

int uo_opctx_digest_init(UO_OPCTX *ctx, UO_KEY *key, int sign, const char *mdname,
                         const char *props, const OSSL_PARAM params[])
{
    EVP_PKEY_CTX *pctx = NULL;
    int ok;

    if (ctx == NULL || !opctx_set_key(ctx, key))
        return 0;
    if (mdname != NULL && *mdname == '\0')
        mdname = NULL;
    /*
     * A re-init with no key (openssl speed does one before every EdDSA signature) re-initialises
     * the inner context in place, as libcrypto does with ours: rebuilding it would cost a
     * signature fetch, a key lookup and two allocations on every operation.
     */
    if (key == NULL && ctx->mdctx != NULL
        && ctx->operation == (sign ? EVP_PKEY_OP_SIGNCTX : EVP_PKEY_OP_VERIFYCTX)) {
        ERR_set_mark();
        ok = sign ? EVP_DigestSignInit_ex(ctx->mdctx, NULL, mdname, ctx->pc->libctx, props, NULL,
                                          params)
                  : EVP_DigestVerifyInit_ex(ctx->mdctx, NULL, mdname, ctx->pc->libctx, props,
                                            NULL, params);
        if (ok > 0) {
            ERR_clear_last_mark();
            /* New parameters may change what can be batched; none (openssl speed) cannot. */
            if (params != NULL && params->key != NULL) {
                ctx->mb_state = UO_MB_UNKNOWN;
                ctx->params_given = 1;
            }
            if (sign)
                opctx_mb_hash_init(ctx);
            return 1;
        }
        ERR_pop_to_mark(); /* rebuild below instead */
    }
    opctx_reset(ctx);
    ctx->mdctx = EVP_MD_CTX_new();
    if (ctx->mdctx == NULL) {
        UO_RAISE(ctx->pc, UO_R_MALLOC_FAILURE);
        return 0;
    }
    if (sign)
        ok = EVP_DigestSignInit_ex(ctx->mdctx, &pctx, mdname, ctx->pc->libctx, props, ctx->pkey,
                                   params);
    else
        ok = EVP_DigestVerifyInit_ex(ctx->mdctx, &pctx, mdname, ctx->pc->libctx, props, ctx->pkey,
                                     params);
    if (ok <= 0) {
        opctx_reset(ctx);
        return 0;
    }
    ctx->pctx = pctx;
    ctx->operation = sign ? EVP_PKEY_OP_SIGNCTX : EVP_PKEY_OP_VERIFYCTX;
    ctx->params_given = params != NULL && params->key != NULL;
    opctx_set_mbkey(ctx, key, ctx->operation);
    if (sign)
        opctx_mb_hash_init(ctx);
    return 1;
}

EVP_PKEY_CTX *uo_opctx_param_target(const UO_OPCTX *ctx)
{
    return ctx != NULL ? ctx->pctx : NULL;
}

int uo_opctx_set_params(UO_OPCTX *ctx, const OSSL_PARAM params[])
{
    if (params == NULL || params->key == NULL)
        return 1;
    if (ctx == NULL || ctx->pctx == NULL) {
        UO_RAISE(ctx != NULL ? ctx->pc : NULL, UO_R_OPERATION_NOT_INITIALIZED);
        return 0;
    }
    if (!mgf1_digest_ok(ctx, params))
        return 0;
    ctx->mb_state = UO_MB_UNKNOWN;
    ctx->params_given = 1;
    if (EVP_PKEY_CTX_set_params(ctx->pctx, params) > 0)
        return 1;
    /* The inner provider sometimes refuses without a word (PSS padding on a decrypt context). */
    if (ERR_peek_last_error() == 0)
        UO_RAISE_DATA(ctx->pc, UO_R_BAD_PARAMETER, "parameters rejected (%s ...)", params->key);
    return 0;
}

int uo_opctx_get_params(UO_OPCTX *ctx, OSSL_PARAM params[])
{
    if (params == NULL || params->key == NULL)
        return 1;
    if (ctx == NULL || ctx->pctx == NULL) {
        UO_RAISE(ctx != NULL ? ctx->pc : NULL, UO_R_OPERATION_NOT_INITIALIZED);
        return 0;
    }
    return EVP_PKEY_CTX_get_params(ctx->pctx, params) > 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ecdh_exch.c - ECDH on every EC curve, with cofactor mode (ecdh-cofactor-mode) and the X9.63 KDF
 * (kdf-type, kdf-digest, kdf-digest-props, kdf-outlen, kdf-ukm), all passed to the inner context.
 * Derivation is offloaded; the shared code is in exchange.c.
 */
#include "uringprov.h"

UO_DECL(keyexch, ecdh, newctx);
UO_DECL(keyexch, ecdh, gettable_ctx_params);
UO_DECL(keyexch, ecdh, settable_ctx_params);

static void *ecdh_newctx(void *provctx)
{
    return uo_opctx_new(provctx, UO_FAM_EC);
}

static const OSSL_PARAM *ecdh_gettable_ctx_params(void *vctx, void *provctx)
{
    return uo_exch_gettable(provctx, UO_FAM_EC);
}

static const OSSL_PARAM *ecdh_settable_ctx_params(void *vctx, void *provctx)
{
    return uo_exch_settable(provctx, UO_FAM_EC);
}

const OSSL_DISPATCH uo_ecdh_keyexch_functions[] = {
    { OSSL_FUNC_KEYEXCH_NEWCTX, (void (*)(void))ecdh_newctx },
    { OSSL_FUNC_KEYEXCH_INIT, (void (*)(void))uo_exch_init },
    { OSSL_FUNC_KEYEXCH_SET_PEER, (void (*)(void))uo_exch_set_peer },
    { OSSL_FUNC_KEYEXCH_DERIVE, (void (*)(void))uo_exch_derive },
    { OSSL_FUNC_KEYEXCH_FREECTX, (void (*)(void))uo_exch_freectx },
    { OSSL_FUNC_KEYEXCH_DUPCTX, (void (*)(void))uo_exch_dupctx },
    { OSSL_FUNC_KEYEXCH_GET_CTX_PARAMS, (void (*)(void))uo_exch_get_ctx_params },
    { OSSL_FUNC_KEYEXCH_GETTABLE_CTX_PARAMS, (void (*)(void))ecdh_gettable_ctx_params },
    { OSSL_FUNC_KEYEXCH_SET_CTX_PARAMS, (void (*)(void))uo_exch_set_ctx_params },
    { OSSL_FUNC_KEYEXCH_SETTABLE_CTX_PARAMS, (void (*)(void))ecdh_settable_ctx_params },
    { 0, NULL }
};

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ecx_exch.c - X25519 and X448 key exchange (RFC 7748). Derivation is offloaded; the shared code
 * is in exchange.c. Like the default provider's, these take no context parameters.
 */
#include "uringprov.h"

#define UO_ECX_KEYEXCH(alg, fam)                                                                \
    UO_DECL(keyexch, alg##_exch, newctx);                                                       \
    static void *alg##_exch_newctx(void *provctx)                                               \
    {                                                                                           \
        return uo_opctx_new(provctx, fam);                                                      \
    }                                                                                           \
    const OSSL_DISPATCH uo_##alg##_keyexch_functions[] = {                                      \
        { OSSL_FUNC_KEYEXCH_NEWCTX, (void (*)(void))alg##_exch_newctx },                        \
        { OSSL_FUNC_KEYEXCH_INIT, (void (*)(void))uo_exch_init },                               \
        { OSSL_FUNC_KEYEXCH_SET_PEER, (void (*)(void))uo_exch_set_peer },                       \
        { OSSL_FUNC_KEYEXCH_DERIVE, (void (*)(void))uo_exch_derive },                           \
        { OSSL_FUNC_KEYEXCH_FREECTX, (void (*)(void))uo_exch_freectx },                         \
        { OSSL_FUNC_KEYEXCH_DUPCTX, (void (*)(void))uo_exch_dupctx },                           \
        { 0, NULL }                                                                             \
    }

UO_ECX_KEYEXCH(x25519, UO_FAM_X25519);
UO_ECX_KEYEXCH(x448, UO_FAM_X448);

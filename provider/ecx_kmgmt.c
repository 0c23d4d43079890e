/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ecx_kmgmt.c - X25519, X448, Ed25519 and Ed448 key management: raw public and private keys,
 * encoded-pub-key, key generation (offloaded), through the shared raw-key table (raw_kmgmt.h).
 */
#include "raw_kmgmt.h"

#define UO_ECX_KEYMGMT(alg, fam, NAME)                                                          \
    UO_RAW_KEYMGMT(alg, fam, NAME, OSSL_PKEY_PARAM_PUB_KEY, OSSL_PKEY_PARAM_PRIV_KEY,           \
                   uo_kmgmt_raw_types)

UO_ECX_KEYMGMT(x25519, UO_FAM_X25519, "X25519");
UO_ECX_KEYMGMT(x448, UO_FAM_X448, "X448");
UO_ECX_KEYMGMT(ed25519, UO_FAM_ED25519, "ED25519");
UO_ECX_KEYMGMT(ed448, UO_FAM_ED448, "ED448");

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ml_dsa_kmgmt.c - ML-DSA-44/65/87 (FIPS 204) key management through the shared raw-key table
 * (raw_kmgmt.h), key generation offloaded. OpenSSL 3.5 and later: registered only where the inner
 * default provider has it. A private key may be imported as its 32-byte seed.
 */
#include "raw_kmgmt.h"

#define UO_ML_DSA_KEYMGMT(alg, fam, NAME)                                                       \
    UO_RAW_KEYMGMT(alg, fam, NAME, OSSL_PKEY_PARAM_PUB_KEY, OSSL_PKEY_PARAM_PRIV_KEY,           \
                   uo_kmgmt_seeded_types)

UO_ML_DSA_KEYMGMT(ml_dsa_44, UO_FAM_ML_DSA_44, "ML-DSA-44");
UO_ML_DSA_KEYMGMT(ml_dsa_65, UO_FAM_ML_DSA_65, "ML-DSA-65");
UO_ML_DSA_KEYMGMT(ml_dsa_87, UO_FAM_ML_DSA_87, "ML-DSA-87");

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * slh_dsa_kmgmt.c - SLH-DSA (FIPS 205), the twelve SHA2 and SHAKE parameter sets: key management
 * through the shared raw-key table (raw_kmgmt.h), key generation offloaded. OpenSSL 3.5 and later:
 * registered only where the inner default provider has them.
 */
#include "raw_kmgmt.h"

#define UO_SLH_DSA_KEYMGMT(alg, fam, NAME)                                                      \
    UO_RAW_KEYMGMT(alg, fam, NAME, OSSL_PKEY_PARAM_PUB_KEY, OSSL_PKEY_PARAM_PRIV_KEY,           \
                   uo_kmgmt_raw_types)

UO_SLH_DSA_KEYMGMT(slh_dsa_sha2_128s, UO_FAM_SLH_DSA_SHA2_128S, "SLH-DSA-SHA2-128s");
UO_SLH_DSA_KEYMGMT(slh_dsa_sha2_128f, UO_FAM_SLH_DSA_SHA2_128F, "SLH-DSA-SHA2-128f");
UO_SLH_DSA_KEYMGMT(slh_dsa_sha2_192s, UO_FAM_SLH_DSA_SHA2_192S, "SLH-DSA-SHA2-192s");
UO_SLH_DSA_KEYMGMT(slh_dsa_sha2_192f, UO_FAM_SLH_DSA_SHA2_192F, "SLH-DSA-SHA2-192f");
UO_SLH_DSA_KEYMGMT(slh_dsa_sha2_256s, UO_FAM_SLH_DSA_SHA2_256S, "SLH-DSA-SHA2-256s");
UO_SLH_DSA_KEYMGMT(slh_dsa_sha2_256f, UO_FAM_SLH_DSA_SHA2_256F, "SLH-DSA-SHA2-256f");
UO_SLH_DSA_KEYMGMT(slh_dsa_shake_128s, UO_FAM_SLH_DSA_SHAKE_128S, "SLH-DSA-SHAKE-128s");
UO_SLH_DSA_KEYMGMT(slh_dsa_shake_128f, UO_FAM_SLH_DSA_SHAKE_128F, "SLH-DSA-SHAKE-128f");
UO_SLH_DSA_KEYMGMT(slh_dsa_shake_192s, UO_FAM_SLH_DSA_SHAKE_192S, "SLH-DSA-SHAKE-192s");
UO_SLH_DSA_KEYMGMT(slh_dsa_shake_192f, UO_FAM_SLH_DSA_SHAKE_192F, "SLH-DSA-SHAKE-192f");
UO_SLH_DSA_KEYMGMT(slh_dsa_shake_256s, UO_FAM_SLH_DSA_SHAKE_256S, "SLH-DSA-SHAKE-256s");
UO_SLH_DSA_KEYMGMT(slh_dsa_shake_256f, UO_FAM_SLH_DSA_SHAKE_256F, "SLH-DSA-SHAKE-256f");

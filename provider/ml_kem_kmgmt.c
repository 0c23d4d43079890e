/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ml_kem_kmgmt.c - ML-KEM-512/768/1024 (FIPS 203) and the hybrid KEMs that pair ML-KEM with an
 * elliptic-curve key (X25519MLKEM768, X448MLKEM1024, SecP256r1MLKEM768, SecP384r1MLKEM1024):
 * key management through the shared raw-key table (raw_kmgmt.h), key generation offloaded.
 *
 * OpenSSL 3.5 and later: uringprov registers them only where the inner default provider has them
 * (uringprov.c). An ML-KEM private key may be imported as its 64-byte seed. A hybrid key shows
 * its public half as the encoded public key, the TLS key share.
 */
#include "raw_kmgmt.h"

#define UO_ML_KEM_KEYMGMT(alg, fam, NAME)                                                       \
    UO_RAW_KEYMGMT(alg, fam, NAME, OSSL_PKEY_PARAM_PUB_KEY, OSSL_PKEY_PARAM_PRIV_KEY,           \
                   uo_kmgmt_seeded_types)
#define UO_MLX_KEYMGMT(alg, fam, NAME)                                                          \
    UO_RAW_KEYMGMT(alg, fam, NAME, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, OSSL_PKEY_PARAM_PRIV_KEY, \
                   uo_kmgmt_raw_types)

UO_ML_KEM_KEYMGMT(ml_kem_512, UO_FAM_ML_KEM_512, "ML-KEM-512");
UO_ML_KEM_KEYMGMT(ml_kem_768, UO_FAM_ML_KEM_768, "ML-KEM-768");
UO_ML_KEM_KEYMGMT(ml_kem_1024, UO_FAM_ML_KEM_1024, "ML-KEM-1024");
UO_MLX_KEYMGMT(x25519_ml_kem_768, UO_FAM_X25519MLKEM768, "X25519MLKEM768");
UO_MLX_KEYMGMT(x448_ml_kem_1024, UO_FAM_X448MLKEM1024, "X448MLKEM1024");
UO_MLX_KEYMGMT(p256_ml_kem_768, UO_FAM_P256MLKEM768, "SecP256r1MLKEM768");
UO_MLX_KEYMGMT(p384_ml_kem_1024, UO_FAM_P384MLKEM1024, "SecP384r1MLKEM1024");

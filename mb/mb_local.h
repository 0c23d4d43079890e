/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mb_local.h - what the multi-buffer layer's files share: the adapters' entry points and the
 * crypto_mb headers. Nothing outside mb/ includes this.
 *
 * Each adapter file batches one family and supplies:
 *   - key_init: fills a UO_MB_KEY (bits, curve, material) from an inner EVP_PKEY through public
 *     APIs; returns 1, or 0 when the key cannot be batched (the key is then simply not batched);
 *   - key_clear: wipes (OPENSSL_cleanse) and frees the material;
 *   - one batch function per operation: gather the lanes, one crypto_mb call, scatter. It sets
 *     each lane's status (1 done, 0 run it singly), counts faults, and leaves the thread's error
 *     queue as it found it. A key generation's batch function reads only its lanes' class key
 *     (type, bits) and libctx, and sets genkey exactly on the lanes it returns done.
 */
#ifndef UO_MB_LOCAL_H
#define UO_MB_LOCAL_H

#include "uo_mb.h"

#ifdef UO_HAVE_CRYPTO_MB
/* The raw interfaces only: the _ssl variants would tie crypto_mb to one libcrypto. */
#ifndef BN_OPENSSL_DISABLE
#define BN_OPENSSL_DISABLE
#endif
#include <crypto_mb/cpu_features.h>
#include <crypto_mb/ec_nistp256.h>
#include <crypto_mb/ec_nistp384.h>
#include <crypto_mb/ec_nistp521.h>
#include <crypto_mb/ed25519.h>
#include <crypto_mb/rsa.h>
#include <crypto_mb/status.h>
#include <crypto_mb/x25519.h>
#endif

typedef int uo_mb_key_init_fn(OSSL_LIB_CTX *libctx, EVP_PKEY *pkey, UO_MB_KEY *key);
typedef void uo_mb_key_clear_fn(UO_MB_KEY *key);
typedef void uo_mb_batch_fn(UO_MB_LANE *const lanes[], unsigned int n, UO_MB_STATS *st);

/* mb/rsa.c */
uo_mb_key_init_fn uo_mb_rsa_key_init;
uo_mb_key_clear_fn uo_mb_rsa_key_clear;
uo_mb_batch_fn uo_mb_rsa_sign;

/* mb/ecnist.c */
uo_mb_key_init_fn uo_mb_ec_key_init;
uo_mb_key_clear_fn uo_mb_ec_key_clear;
uo_mb_batch_fn uo_mb_ecdsa_sign;
uo_mb_batch_fn uo_mb_ecdh_derive;
uo_mb_batch_fn uo_mb_ec_keygen;
/* The field bits (256, 384, 521) of a curve the adapter batches, by any of its names; else 0. */
unsigned int uo_mb_ec_group_bits(const char *group);

/* mb/ecx.c */
uo_mb_key_init_fn uo_mb_x25519_key_init;
uo_mb_key_clear_fn uo_mb_x25519_key_clear;
uo_mb_batch_fn uo_mb_x25519_derive;
uo_mb_batch_fn uo_mb_x25519_keygen;
uo_mb_key_init_fn uo_mb_ed25519_key_init;
uo_mb_key_clear_fn uo_mb_ed25519_key_clear;
uo_mb_batch_fn uo_mb_ed25519_sign;
uo_mb_batch_fn uo_mb_ed25519_keygen;

/*
 * Key generation's last step: the new key pair as an inner EVP_PKEY of type (as
 * EVP_PKEY_CTX_new_from_name takes it) in libctx, imported from params (private and public
 * halves, and the group). The lanes of a batch normally share one library context, so one
 * EVP_PKEY_CTX serves them all; uo_mb_fromdata_end frees it. NULL on failure (the lane then goes
 * to the single path).
 */
typedef struct {
    OSSL_LIB_CTX *libctx;
    EVP_PKEY_CTX *ctx;
} UO_MB_FROMDATA;

EVP_PKEY *uo_mb_keypair_new(UO_MB_FROMDATA *fd, OSSL_LIB_CTX *libctx, const char *type,
                            OSSL_PARAM params[]);
void uo_mb_fromdata_end(UO_MB_FROMDATA *fd);

/*
 * Test-only fault injection (URINGPROV_TEST_MB_FAULT=1): the RSA adapter corrupts lane 0 of every
 * batch before its check, so that a test can see the check catch it. Read once.
 */
int uo_mb_test_fault(void);

#endif

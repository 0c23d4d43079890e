/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_keyexch.c - key exchange context parameters (ECDH cofactor mode, the X9.63 KDF, its digest,
 * output length and UKM) from fuzz bytes, for ECDH P-256, X25519 and X448; then the derive runs
 * on a worker with them, and the gettable parameters are read back.
 */
#include "fuzz_common.h"

static EVP_PKEY *keys[3], *peers[3];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    int i;

    (void)argc;
    (void)argv;
    fz_libctx();
    keys[0] = EVP_PKEY_Q_keygen(fz_ref(), NULL, "EC", "P-256");
    peers[0] = EVP_PKEY_Q_keygen(fz_ref(), NULL, "EC", "P-256");
    keys[1] = EVP_PKEY_Q_keygen(fz_ref(), NULL, "X25519");
    peers[1] = EVP_PKEY_Q_keygen(fz_ref(), NULL, "X25519");
    keys[2] = EVP_PKEY_Q_keygen(fz_ref(), NULL, "X448");
    peers[2] = EVP_PKEY_Q_keygen(fz_ref(), NULL, "X448");
    for (i = 0; i < 3; i++)
        if (keys[i] == NULL || peers[i] == NULL)
            return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    OSSL_LIB_CTX *lc = fz_libctx();
    FZ f = { data, size };
    uint8_t head = fz_u8(&f);
    int k = head % 3;
    unsigned char store[8192], out[512];
    size_t outlen = (head >> 2) % 2 ? sizeof(out) : fz_u8(&f);
    OSSL_PARAM params[8];
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(lc, keys[k], NULL);

    if (c != NULL && EVP_PKEY_derive_init(c) > 0) {
        if (strcmp(OSSL_PROVIDER_get0_name(EVP_PKEY_CTX_get0_provider(c)), "uringprov") != 0)
            abort();
        fz_params(&f, EVP_PKEY_CTX_settable_params(c), params, 8, store, sizeof(store));
        if (EVP_PKEY_CTX_set_params(c, params) > 0 && EVP_PKEY_derive_set_peer(c, peers[k]) > 0)
            EVP_PKEY_derive(c, (head >> 3) % 4 == 0 ? NULL : out, &outlen);
        fz_get_all(EVP_PKEY_CTX_gettable_params(c), fz_ctx_get, c);
    }
    EVP_PKEY_CTX_free(c);
    fz_check_errors();
    return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_asym_cipher.c - RSA encryption context parameters (padding, OAEP digests and label, the TLS
 * versions of implicit rejection) from fuzz bytes, set on an encrypt or a decrypt context; then the
 * operation runs (decrypt on a worker) on fuzzed input, and the gettable parameters are read back.
 */
#include "fuzz_common.h"

static EVP_PKEY *key;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_libctx();
    key = EVP_PKEY_Q_keygen(fz_ref(), NULL, "RSA", (size_t)1024);
    return key == NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    OSSL_LIB_CTX *lc = fz_libctx();
    FZ f = { data, size };
    int decrypt = fz_u8(&f) & 1;
    unsigned char store[8192], out[512];
    size_t outlen = sizeof(out), inlen;
    const uint8_t *in;
    OSSL_PARAM params[8];
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(lc, key, NULL);

    if (c != NULL && (decrypt ? EVP_PKEY_decrypt_init(c) : EVP_PKEY_encrypt_init(c)) > 0) {
        if (strcmp(OSSL_PROVIDER_get0_name(EVP_PKEY_CTX_get0_provider(c)), "uringprov") != 0)
            abort();
        fz_params(&f, EVP_PKEY_CTX_settable_params(c), params, 8, store, sizeof(store));
        in = fz_bytes(&f, 300, &inlen);
        if (EVP_PKEY_CTX_set_params(c, params) > 0) {
            if (decrypt)
                EVP_PKEY_decrypt(c, out, &outlen, in, inlen);
            else
                EVP_PKEY_encrypt(c, out, &outlen, in, inlen);
        }
        fz_get_all(EVP_PKEY_CTX_gettable_params(c), fz_ctx_get, c);
    }
    EVP_PKEY_CTX_free(c);
    fz_check_errors();
    return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_keymgmt_gen.c - key generation parameters from fuzz bytes, over the settable table of
 * uringprov's generation context, for EC (keygen and paramgen), X25519, X448, Ed25519, RSA and
 * RSA-PSS. Keys are then generated on a worker; RSA sizes are capped at 512 bits after the fuzzed
 * parameters so that an input costs milliseconds, not minutes.
 */
#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_libctx();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const types[] = { "EC", "X25519", "X448", "ED25519", "RSA", "RSA-PSS" };
    OSSL_LIB_CTX *lc = fz_libctx();
    FZ f = { data, size };
    uint8_t head = fz_u8(&f);
    const char *type = types[head % 6];
    int rsa = head % 6 >= 4, paramgen = !rsa && strcmp(type, "EC") == 0 && (head & 0x40);
    unsigned char store[8192];
    OSSL_PARAM params[8];
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(lc, type, NULL);
    EVP_PKEY *k = NULL;

    if (c != NULL && (paramgen ? EVP_PKEY_paramgen_init(c) : EVP_PKEY_keygen_init(c)) > 0) {
        fz_params(&f, EVP_PKEY_CTX_settable_params(c), params, 8, store, sizeof(store));
        if (EVP_PKEY_CTX_set_params(c, params) > 0) {
            if (rsa) {
                size_t bits = 512;
                OSSL_PARAM cap[2] = { OSSL_PARAM_construct_size_t(OSSL_PKEY_PARAM_RSA_BITS,
                                                                  &bits),
                                      OSSL_PARAM_construct_end() };

                if (EVP_PKEY_CTX_set_params(c, cap) <= 0)
                    abort(); /* 512 bits is always settable */
            }
            if (EVP_PKEY_generate(c, &k) > 0 && k != NULL && !paramgen
                && strcmp(OSSL_PROVIDER_get0_name(EVP_PKEY_get0_provider(k)), "uringprov") != 0)
                abort();
        }
    }
    EVP_PKEY_free(k);
    EVP_PKEY_CTX_free(c);
    fz_check_errors();
    return 0;
}

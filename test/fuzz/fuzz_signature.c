/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_signature.c - signature context parameters from fuzz bytes. The first byte picks the key
 * (RSA-1024, RSA-PSS, EC P-256, Ed25519) and the init (sign, verify, digest sign, digest verify);
 * the parameters are built over the context's settable table and set; then the operation runs with
 * them (sign on a worker, verify inline) and every gettable parameter is read back.
 */
#include "fuzz_common.h"

static EVP_PKEY *keys[4];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_libctx();
    keys[0] = EVP_PKEY_Q_keygen(fz_ref(), NULL, "RSA", (size_t)1024);
    keys[1] = EVP_PKEY_Q_keygen(fz_ref(), NULL, "RSA-PSS", (size_t)1024);
    keys[2] = EVP_PKEY_Q_keygen(fz_ref(), NULL, "EC", "P-256");
    keys[3] = EVP_PKEY_Q_keygen(fz_ref(), NULL, "ED25519");
    return keys[0] == NULL || keys[1] == NULL || keys[2] == NULL || keys[3] == NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const mds[] = { NULL, "SHA256", "SHA1", "SHA512", "SHA3-256", "MD5" };
    OSSL_LIB_CTX *lc = fz_libctx();
    FZ f = { data, size };
    uint8_t head = fz_u8(&f);
    EVP_PKEY *k = keys[head % 4];
    int mode = (head >> 2) % 4, eddsa = (head % 4) == 3;
    unsigned char store[8192], sig[512], msg[64];
    size_t siglen = sizeof(sig), msglen;
    const uint8_t *m;
    OSSL_PARAM params[8];
    EVP_MD_CTX *md = NULL;
    EVP_PKEY_CTX *c = NULL;
    int ok = 0;

    if (eddsa && mode < 2)
        mode += 2; /* EdDSA is one-shot digest sign/verify only */
    m = fz_bytes(&f, sizeof(msg), &msglen);
    memcpy(msg, m, msglen);
    if (mode < 2) {
        c = EVP_PKEY_CTX_new_from_pkey(lc, k, NULL);
        ok = c != NULL && (mode == 0 ? EVP_PKEY_sign_init(c) : EVP_PKEY_verify_init(c)) > 0;
    } else {
        const char *mdname = eddsa ? NULL : mds[fz_u8(&f) % 6];

        md = EVP_MD_CTX_new();
        ok = md != NULL
             && (mode == 2 ? EVP_DigestSignInit_ex(md, &c, mdname, lc, NULL, k, NULL)
                           : EVP_DigestVerifyInit_ex(md, &c, mdname, lc, NULL, k, NULL)) > 0;
    }
    if (ok) {
        if (strcmp(OSSL_PROVIDER_get0_name(EVP_PKEY_CTX_get0_provider(c)), "uringprov") != 0)
            abort();
        fz_params(&f, EVP_PKEY_CTX_settable_params(c), params, 8, store, sizeof(store));
        if (EVP_PKEY_CTX_set_params(c, params) > 0) {
            switch (mode) {
            case 0:
                EVP_PKEY_sign(c, sig, &siglen, msg, msglen);
                break;
            case 1:
                EVP_PKEY_verify(c, msg, msglen, msg, msglen / 2);
                break;
            case 2:
                EVP_DigestSign(md, sig, &siglen, msg, msglen);
                break;
            case 3:
                EVP_DigestVerify(md, msg, msglen, msg, msglen / 2);
                break;
            }
        }
        fz_get_all(EVP_PKEY_CTX_gettable_params(c), fz_ctx_get, c);
    }
    if (md != NULL)
        EVP_MD_CTX_free(md); /* frees c too */
    else
        EVP_PKEY_CTX_free(c);
    fz_check_errors();
    return 0;
}

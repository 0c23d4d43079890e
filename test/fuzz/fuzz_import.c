/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_import.c - key import into uringprov from fuzz bytes: the first byte picks the key type
 * (RSA, RSA-PSS, EC, X25519, X448, ED25519, and from OpenSSL 3.5 on ML-KEM-768, X25519MLKEM768 and
 * ML-DSA-44) and the selection; the parameters are built over the keymgmt's own import table
 * (EVP_PKEY_fromdata_settable). A key that imports is then used as an application would:
 * parameters read, exported, duplicated, compared, checked, and a cheap operation (verify, derive
 * with a fixed peer, or for a KEM encapsulation and the decapsulation of fuzz bytes). Nothing may
 * crash or leak, and every failure must leave errors with reason strings.
 */
#include "fuzz_common.h"

static const struct {
    const char *name;
    const char *peer_alg;       /* derive with a key of this type, NULL: verify */
    const char *peer_arg;
    int use;                    /* USE_KEM, USE_MESSAGE_SIG, or 0 as above */
    int optional;               /* served only where the OpenSSL under test has it (3.5) */
} types[] = {
    { "RSA", NULL, NULL, 0, 0 }, { "RSA-PSS", NULL, NULL, 0, 0 }, { "EC", "EC", "P-256", 0, 0 },
    { "X25519", "X25519", NULL, 0, 0 }, { "X448", "X448", NULL, 0, 0 },
    { "ED25519", NULL, NULL, 0, 0 },
    { "ML-KEM-768", NULL, NULL, 2, 1 }, { "X25519MLKEM768", NULL, NULL, 2, 1 },
    { "ML-DSA-44", NULL, NULL, 3, 1 },
};
enum { USE_KEM = 2, USE_MESSAGE_SIG = 3 };
#define NTYPES (sizeof(types) / sizeof(types[0]))

static EVP_PKEY *peers[NTYPES];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    size_t i;

    (void)argc;
    (void)argv;
    fz_libctx();
    for (i = 0; i < NTYPES; i++)
        if (types[i].peer_alg != NULL)
            peers[i] = types[i].peer_arg != NULL
                           ? EVP_PKEY_Q_keygen(fz_ref(), NULL, types[i].peer_alg, types[i].peer_arg)
                           : EVP_PKEY_Q_keygen(fz_ref(), NULL, types[i].peer_alg);
    return 0;
}

static void use_key(OSSL_LIB_CTX *lc, EVP_PKEY *k, size_t t, FZ *f)
{
    static const unsigned char tbs[32] = { 1 };
    unsigned char sig[600];
    size_t len;
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(lc, k, NULL);
    EVP_PKEY *dup = EVP_PKEY_dup(k);
    OSSL_PARAM *exported = NULL;

    fz_get_all(EVP_PKEY_gettable_params(k), fz_pkey_get, k);
    if (EVP_PKEY_todata(k, EVP_PKEY_KEYPAIR, &exported) > 0)
        OSSL_PARAM_free(exported);
    if (dup != NULL)
        EVP_PKEY_eq(k, dup);
    EVP_PKEY_free(dup);
    if (c == NULL)
        return;
    if (EVP_PKEY_get_bits(k) <= 4096)
        EVP_PKEY_public_check_quick(c);
    if (types[t].use == USE_KEM) {
        unsigned char ss[64], ct[1200];
        size_t ctlen = sizeof(ct), sslen = sizeof(ss), inlen;
        const uint8_t *in = fz_bytes(f, 1200, &inlen);

        if (EVP_PKEY_encapsulate_init(c, NULL) > 0)
            EVP_PKEY_encapsulate(c, ct, &ctlen, ss, &sslen);
        sslen = sizeof(ss);
        if (EVP_PKEY_decapsulate_init(c, NULL) > 0)
            EVP_PKEY_decapsulate(c, ss, &sslen, in, inlen);
    } else if (types[t].use == USE_MESSAGE_SIG) {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        size_t siglen;
        const uint8_t *s = fz_bytes(f, 2420, &siglen);

        if (md != NULL && EVP_DigestVerifyInit_ex(md, NULL, NULL, lc, NULL, k, NULL) > 0)
            EVP_DigestVerify(md, s, siglen, tbs, sizeof(tbs));
        EVP_MD_CTX_free(md);
    } else if (types[t].peer_alg != NULL && peers[t] != NULL) {
        len = sizeof(sig);
        if (EVP_PKEY_derive_init(c) > 0 && EVP_PKEY_derive_set_peer_ex(c, peers[t], 0) > 0)
            EVP_PKEY_derive(c, sig, &len);
    } else if (strcmp(types[t].name, "ED25519") != 0 && EVP_PKEY_get_bits(k) <= 4096) {
        size_t siglen;
        const uint8_t *s = fz_bytes(f, 512, &siglen);

        if (EVP_PKEY_verify_init(c) > 0)
            EVP_PKEY_verify(c, s, siglen, tbs, sizeof(tbs));
    }
    EVP_PKEY_CTX_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int selections[] = {
        EVP_PKEY_KEYPAIR, EVP_PKEY_PUBLIC_KEY, EVP_PKEY_KEY_PARAMETERS, OSSL_KEYMGMT_SELECT_ALL,
    };
    OSSL_LIB_CTX *lc = fz_libctx();
    FZ f = { data, size };
    uint8_t head = fz_u8(&f);
    size_t t = head % NTYPES;
    int selection = selections[(head >> 4) % 4];
    unsigned char store[8192];
    OSSL_PARAM params[8];
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(lc, types[t].name, NULL);
    EVP_PKEY *k = NULL;

    if (c == NULL && types[t].optional) {
        ERR_clear_error();
        return 0; /* before OpenSSL 3.5 */
    }
    if (c == NULL)
        abort(); /* uringprov serves all of these */
    /* The table first: EVP_PKEY_fromdata_settable re-initialises the context for no operation. */
    fz_params(&f, EVP_PKEY_fromdata_settable(c, selection), params, 8, store, sizeof(store));
    if (EVP_PKEY_fromdata_init(c) > 0 && EVP_PKEY_fromdata(c, &k, selection, params) > 0
        && k != NULL) {
        if (strcmp(OSSL_PROVIDER_get0_name(EVP_PKEY_get0_provider(k)), "uringprov") != 0)
            abort();
        use_key(lc, k, t, &f);
    }
    EVP_PKEY_free(k);
    EVP_PKEY_CTX_free(c);
    fz_check_errors();
    return 0;
}

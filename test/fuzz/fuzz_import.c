/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_import.c - key import into uringprov from fuzz bytes: the first byte picks the key type
 * (RSA, RSA-PSS, EC, X25519, X448, ED25519) and the selection; the parameters are built over the
 * keymgmt's own import table (EVP_PKEY_fromdata_settable). A key that imports is then used as an
 * application would: parameters read, exported, duplicated, compared, checked, and a cheap
 * operation (verify, or derive with a fixed peer). Nothing may crash or leak, and every failure
 * must leave errors with reason strings.
 */
#include "fuzz_common.h"

static const struct {
    const char *name;
    const char *peer_alg;       /* derive with a key of this type, NULL: verify */
    const char *peer_arg;
} types[] = {
    { "RSA", NULL, NULL }, { "RSA-PSS", NULL, NULL }, { "EC", "EC", "P-256" },
    { "X25519", "X25519", NULL }, { "X448", "X448", NULL }, { "ED25519", NULL, NULL },
};
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
    if (types[t].peer_alg != NULL && peers[t] != NULL) {
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

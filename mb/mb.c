/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mb.c - the multi-buffer layer's front: whether batching can run here, the table that maps a
 * key type and an operation to its adapter, per-key material, the class keys of key generation,
 * and the batch entry point that counts what the adapters did.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>

#include "mb_local.h"

#ifdef UO_HAVE_CRYPTO_MB

struct keytype_ops {
    const char *name;          /* inner key type, as EVP_PKEY_is_a takes it */
    uo_mb_key_init_fn *init;
    uo_mb_key_clear_fn *clear;
};

static const struct keytype_ops keytypes[UO_MB_KEY_COUNT] = {
    [UO_MB_KEY_RSA] = { "RSA", uo_mb_rsa_key_init, uo_mb_rsa_key_clear },
    [UO_MB_KEY_EC] = { "EC", uo_mb_ec_key_init, uo_mb_ec_key_clear },
    [UO_MB_KEY_X25519] = { "X25519", uo_mb_x25519_key_init, uo_mb_x25519_key_clear },
    [UO_MB_KEY_ED25519] = { "ED25519", uo_mb_ed25519_key_init, uo_mb_ed25519_key_clear },
};

struct adapter {
    const char *name;          /* after the key size (rsa2048-sign), or whole (x25519-derive) */
    enum uo_mb_keytype keytype;
    uo_mb_batch_fn *batch;
    int keygen;                /* lanes carry a class key, not a key's material */
};

static const struct adapter adapters[UO_MB_OP_COUNT] = {
    [UO_MB_OP_RSA_SIGN] = { "sign", UO_MB_KEY_RSA, uo_mb_rsa_sign, 0 },
    [UO_MB_OP_ECDSA_SIGN] = { "ecdsa", UO_MB_KEY_EC, uo_mb_ecdsa_sign, 0 },
    [UO_MB_OP_ECDH_DERIVE] = { "ecdh", UO_MB_KEY_EC, uo_mb_ecdh_derive, 0 },
    [UO_MB_OP_X25519_DERIVE] = { "x25519-derive", UO_MB_KEY_X25519, uo_mb_x25519_derive, 0 },
    [UO_MB_OP_ED25519_SIGN] = { "ed25519-sign", UO_MB_KEY_ED25519, uo_mb_ed25519_sign, 0 },
    [UO_MB_OP_EC_KEYGEN] = { "keygen", UO_MB_KEY_EC, uo_mb_ec_keygen, 1 },
    [UO_MB_OP_X25519_KEYGEN] = { "x25519-keygen", UO_MB_KEY_X25519, uo_mb_x25519_keygen, 1 },
    [UO_MB_OP_ED25519_KEYGEN] = { "ed25519-keygen", UO_MB_KEY_ED25519, uo_mb_ed25519_keygen, 1 },
};

/*
 * The class keys of key generation: what uo_mb_class and the adapters read (type, bits, curve),
 * with the bits a key of that kind reports (EVP_PKEY_get_bits), so that the classes read like
 * those of the keys' own operations. Never written after initialisation, so shared by all threads.
 */
static UO_MB_KEY class_keys[] = {
    { .type = UO_MB_KEY_EC, .bits = 256, .curve_nid = NID_X9_62_prime256v1, .keygen_class = 1 },
    { .type = UO_MB_KEY_EC, .bits = 384, .curve_nid = NID_secp384r1, .keygen_class = 1 },
    { .type = UO_MB_KEY_EC, .bits = 521, .curve_nid = NID_secp521r1, .keygen_class = 1 },
    { .type = UO_MB_KEY_X25519, .bits = 253, .keygen_class = 1 },
    { .type = UO_MB_KEY_ED25519, .bits = 256, .keygen_class = 1 },
};

int uo_mb_available(const char **why)
{
    static atomic_int applicable = -1; /* threads racing here compute the same answer */

    if (atomic_load_explicit(&applicable, memory_order_relaxed) < 0)
        atomic_store_explicit(&applicable, mbx_is_crypto_mb_applicable(0) ? 1 : 0,
                              memory_order_relaxed);
    if (!atomic_load_explicit(&applicable, memory_order_relaxed)) {
        if (why != NULL)
            *why = "this CPU lacks what crypto_mb needs (AVX-512 IFMA)";
        return 0;
    }
    return 1;
}

UO_MB_KEY *uo_mb_key_new(OSSL_LIB_CTX *libctx, EVP_PKEY *pkey)
{
    UO_MB_KEY *key;
    int t;

    if (pkey == NULL || !uo_mb_available(NULL))
        return NULL;
    for (t = UO_MB_KEY_NONE + 1; t < UO_MB_KEY_COUNT; t++)
        if (EVP_PKEY_is_a(pkey, keytypes[t].name))
            break;
    if (t == UO_MB_KEY_COUNT)
        return NULL;
    key = OPENSSL_zalloc(sizeof(*key));
    if (key == NULL)
        return NULL;
    atomic_init(&key->refs, 1);
    key->type = (enum uo_mb_keytype)t;
    ERR_set_mark();
    if (!keytypes[t].init(libctx, pkey, key)) {
        ERR_pop_to_mark(); /* a key that cannot be batched is not an error */
        keytypes[t].clear(key);
        OPENSSL_free(key);
        return NULL;
    }
    ERR_pop_to_mark();
    return key;
}

int uo_mb_key_up_ref(UO_MB_KEY *key)
{
    if (!key->keygen_class)
        atomic_fetch_add_explicit(&key->refs, 1, memory_order_relaxed);
    return 1;
}

void uo_mb_key_free(UO_MB_KEY *key)
{
    if (key == NULL || key->keygen_class
        || atomic_fetch_sub_explicit(&key->refs, 1, memory_order_acq_rel) != 1)
        return;
    keytypes[key->type].clear(key);
    OPENSSL_clear_free(key, sizeof(*key));
}

UO_MB_KEY *uo_mb_keygen_key(enum uo_mb_op op, const char *group)
{
    enum uo_mb_keytype type;
    unsigned int bits = 0;
    size_t i;

    if (op <= UO_MB_OP_NONE || op >= UO_MB_OP_COUNT || !adapters[op].keygen
        || !uo_mb_available(NULL))
        return NULL;
    type = adapters[op].keytype;
    if (type == UO_MB_KEY_EC && (group == NULL || (bits = uo_mb_ec_group_bits(group)) == 0))
        return NULL;
    for (i = 0; i < sizeof(class_keys) / sizeof(class_keys[0]); i++)
        if (class_keys[i].type == type && (type != UO_MB_KEY_EC || class_keys[i].bits == bits))
            return &class_keys[i];
    return NULL;
}

int uo_mb_key_supports(const UO_MB_KEY *key, enum uo_mb_op op)
{
    return key != NULL && op > UO_MB_OP_NONE && op < UO_MB_OP_COUNT
           && adapters[op].keytype == key->type && adapters[op].keygen == key->keygen_class;
}

unsigned int uo_mb_class(enum uo_mb_op op, const UO_MB_KEY *key)
{
    return ((unsigned int)op << 16) | (key->bits & 0xffff);
}

const char *uo_mb_class_name(unsigned int cls)
{
    /*
     * Every class there is, spelled out: names made on first use shared one slot between the
     * three RSA sizes (and were written by whichever thread came first).
     */
    static const struct { enum uo_mb_op op; unsigned int bits; const char *name; } names[] = {
        { UO_MB_OP_RSA_SIGN, 2048, "rsa2048-sign" }, { UO_MB_OP_RSA_SIGN, 3072, "rsa3072-sign" },
        { UO_MB_OP_RSA_SIGN, 4096, "rsa4096-sign" },
        { UO_MB_OP_ECDSA_SIGN, 256, "p256-ecdsa" }, { UO_MB_OP_ECDSA_SIGN, 384, "p384-ecdsa" },
        { UO_MB_OP_ECDSA_SIGN, 521, "p521-ecdsa" },
        { UO_MB_OP_ECDH_DERIVE, 256, "p256-ecdh" }, { UO_MB_OP_ECDH_DERIVE, 384, "p384-ecdh" },
        { UO_MB_OP_ECDH_DERIVE, 521, "p521-ecdh" },
        { UO_MB_OP_EC_KEYGEN, 256, "p256-keygen" }, { UO_MB_OP_EC_KEYGEN, 384, "p384-keygen" },
        { UO_MB_OP_EC_KEYGEN, 521, "p521-keygen" },
    };
    unsigned int op = cls >> 16, bits = cls & 0xffff;
    size_t i;

    if (op == UO_MB_OP_NONE || op >= UO_MB_OP_COUNT)
        return "none";
    if (adapters[op].keytype == UO_MB_KEY_X25519 || adapters[op].keytype == UO_MB_KEY_ED25519)
        return adapters[op].name; /* one size only */
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].op == (enum uo_mb_op)op && names[i].bits == bits)
            return names[i].name;
    return "none";
}

int uo_mb_peer_encode(enum uo_mb_op op, EVP_PKEY *peer, unsigned char *buf, size_t buflen,
                      size_t *outlen)
{
    size_t len = 0;
    int ok = 0;

    if (peer == NULL)
        return 0;
    ERR_set_mark();
    if (op == UO_MB_OP_X25519_DERIVE) {
        len = buflen;
        ok = EVP_PKEY_is_a(peer, "X25519") && EVP_PKEY_get_raw_public_key(peer, buf, &len)
             && len == 32;
    } else if (op == UO_MB_OP_ECDH_DERIVE) {
        unsigned char enc[1 + 2 * 66]; /* P-521's uncompressed point is the largest */

        /* Uncompressed only (0x04 || x || y); any other form is left to the peer path. */
        ok = EVP_PKEY_get_octet_string_param(peer, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, enc,
                                             sizeof(enc), &len)
             && len >= 3 && (len & 1) == 1 && enc[0] == 0x04 && len - 1 <= buflen;
        if (ok) {
            memcpy(buf, enc + 1, len - 1);
            len--;
        }
    }
    ERR_pop_to_mark();
    *outlen = ok ? len : 0;
    return ok;
}

void uo_mb_batch(UO_MB_LANE *const lanes[], unsigned int n, UO_MB_STATS *st)
{
    enum uo_mb_op op;
    unsigned int i, done = 0;

    if (n == 0)
        return;
    op = lanes[0]->op;
    for (i = 0; i < n; i++)
        lanes[i]->status = 0;
    if (op <= UO_MB_OP_NONE || op >= UO_MB_OP_COUNT || n > UO_MB_LANES)
        return;
    ERR_set_mark();
    adapters[op].batch(lanes, n, st);
    ERR_pop_to_mark();
    for (i = 0; i < n; i++)
        done += lanes[i]->status == 1;
    if (done > 0) {
        atomic_fetch_add_explicit(&st->batches, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&st->ops, done, memory_order_relaxed);
    }
}

EVP_PKEY *uo_mb_keypair_new(UO_MB_FROMDATA *fd, OSSL_LIB_CTX *libctx, const char *type,
                            OSSL_PARAM params[])
{
    EVP_PKEY *pkey = NULL;

    if (fd->ctx == NULL || fd->libctx != libctx) {
        EVP_PKEY_CTX_free(fd->ctx);
        fd->libctx = libctx;
        fd->ctx = EVP_PKEY_CTX_new_from_name(libctx, type, NULL);
        if (fd->ctx != NULL && EVP_PKEY_fromdata_init(fd->ctx) <= 0) {
            EVP_PKEY_CTX_free(fd->ctx);
            fd->ctx = NULL;
        }
        if (fd->ctx == NULL)
            return NULL;
    }
    /* EVP_PKEY_KEYPAIR: the group (EC) and both halves, as the default keygen's key holds them. */
    if (EVP_PKEY_fromdata(fd->ctx, &pkey, EVP_PKEY_KEYPAIR, params) <= 0)
        return NULL;
    return pkey;
}

void uo_mb_fromdata_end(UO_MB_FROMDATA *fd)
{
    EVP_PKEY_CTX_free(fd->ctx);
    fd->ctx = NULL;
    fd->libctx = NULL;
}

int uo_mb_test_fault(void)
{
    static atomic_int fault = -1;

    if (atomic_load_explicit(&fault, memory_order_relaxed) < 0) {
        const char *env = getenv("URINGPROV_TEST_MB_FAULT");

        atomic_store_explicit(&fault, env != NULL && *env != '\0' && strcmp(env, "0") != 0,
                              memory_order_relaxed);
    }
    return atomic_load_explicit(&fault, memory_order_relaxed);
}

#else /* !UO_HAVE_CRYPTO_MB */

int uo_mb_available(const char **why)
{
    if (why != NULL)
        *why = "built without crypto_mb (make MB=no, or crypto_mb was not found: make deps)";
    return 0;
}

UO_MB_KEY *uo_mb_key_new(OSSL_LIB_CTX *libctx, EVP_PKEY *pkey)
{
    return NULL;
}

int uo_mb_key_up_ref(UO_MB_KEY *key)
{
    return 0;
}

void uo_mb_key_free(UO_MB_KEY *key)
{
}

UO_MB_KEY *uo_mb_keygen_key(enum uo_mb_op op, const char *group)
{
    return NULL;
}

int uo_mb_key_supports(const UO_MB_KEY *key, enum uo_mb_op op)
{
    return 0;
}

unsigned int uo_mb_class(enum uo_mb_op op, const UO_MB_KEY *key)
{
    return 0;
}

const char *uo_mb_class_name(unsigned int cls)
{
    return "none";
}

int uo_mb_peer_encode(enum uo_mb_op op, EVP_PKEY *peer, unsigned char *buf, size_t buflen,
                      size_t *outlen)
{
    *outlen = 0;
    return 0;
}

void uo_mb_batch(UO_MB_LANE *const lanes[], unsigned int n, UO_MB_STATS *st)
{
    unsigned int i;

    for (i = 0; i < n; i++)
        lanes[i]->status = 0;
}

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * uo_mb.h - the multi-buffer layer: up to eight operations of one kind in one crypto_mb call.
 *
 * mb/ knows neither the provider's dispatch tables nor io_uring. A caller describes each operation
 * as a lane (a key's batch material, the input, room for the output) and hands up to UO_MB_LANES
 * lanes of one batch class to uo_mb_batch. The adapter for the class gathers the lanes into
 * crypto_mb's arrays, makes one crypto_mb call, and scatters each lane's result and status back.
 * A lane that cannot be done in the batch (bad input, a lane error, an RSA result that fails its
 * check) is left with status 0: the caller then runs that one operation on the single path, which
 * raises exactly the error the default provider raises. A lane never fails its neighbours.
 *
 * Per-key material (RSA's CRT components, an EC private scalar, an X25519 or Ed25519 private key)
 * is taken once per key through public APIs and kept in a UO_MB_KEY, which is reference counted,
 * immutable once made, and wiped when the last reference goes.
 *
 * Key generation has no key to start from: its lanes name their class with a static class key
 * (uo_mb_keygen_key), which holds no material, and the adapter hands each lane's new key pair back
 * as an inner EVP_PKEY (lane->genkey).
 *
 * Built without crypto_mb (make MB=no, or none found) every entry point still exists: no key is
 * batchable and uo_mb_available says why.
 */
#ifndef UO_MB_H
#define UO_MB_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define UO_MB_LANES 8

/* Batch operations; each has one adapter. */
enum uo_mb_op {
    UO_MB_OP_NONE = 0,
    UO_MB_OP_RSA_SIGN,      /* RSA private operation on a PKCS#1 v1.5 or PSS encoded message */
    UO_MB_OP_ECDSA_SIGN,    /* ECDSA on P-256, P-384, P-521 */
    UO_MB_OP_ECDH_DERIVE,   /* plain ECDH on P-256, P-384, P-521 (no KDF) */
    UO_MB_OP_X25519_DERIVE,
    UO_MB_OP_ED25519_SIGN,  /* pure Ed25519 (no context, no prehash) */
    UO_MB_OP_EC_KEYGEN,     /* a key pair on P-256, P-384, P-521 (named curve, defaults) */
    UO_MB_OP_X25519_KEYGEN,
    UO_MB_OP_ED25519_KEYGEN,
    UO_MB_OP_COUNT
};

/* Key types with batch material. */
enum uo_mb_keytype {
    UO_MB_KEY_NONE = 0,
    UO_MB_KEY_RSA,          /* two primes, 2048, 3072 or 4096 bits, e = 65537 */
    UO_MB_KEY_EC,           /* P-256, P-384 or P-521 */
    UO_MB_KEY_X25519,
    UO_MB_KEY_ED25519,
    UO_MB_KEY_COUNT
};

/* Counters, shared by the workers of one provider instance. */
typedef struct {
    atomic_uint_fast64_t batches; /* crypto_mb calls that computed lanes */
    atomic_uint_fast64_t ops;     /* lanes returned done from a batch */
    atomic_uint_fast64_t faults;  /* lanes whose result failed its check (recomputed singly) */
} UO_MB_STATS;

/*
 * A key's batch material. bits names the size class (RSA modulus bits, EC field bits); a batch
 * only ever holds lanes of one op and one bits. material is the adapter's own, wiped and freed
 * with the key. A class key (keygen_class 1) only names the type and size of the keys that a
 * key generation lane makes: it is static, has no material and is never counted or freed.
 */
typedef struct uo_mb_key_st {
    atomic_int refs;
    enum uo_mb_keytype type;
    unsigned int bits;
    int curve_nid;                 /* EC: NID_X9_62_prime256v1, NID_secp384r1, NID_secp521r1 */
    void *material;
    int keygen_class;
} UO_MB_KEY;

/*
 * One operation of a batch. The caller fills everything above `out`; the adapter writes out,
 * outlen and status.
 */
typedef struct {
    enum uo_mb_op op;
    UO_MB_KEY *key;
    const unsigned char *in;    /* RSA: the data to encode (raw, or a digest when md is set);
                                   ECDSA: the digest (or raw data); Ed25519: the message;
                                   ECDH, X25519: the peer's public value as uo_mb_peer_encode
                                   makes it, or NULL to read it from peer */
    size_t inlen;
    EVP_PKEY *peer;             /* ECDH, X25519: the peer's (inner, public) key, borrowed */
    int rsa_pad;                /* RSA_PKCS1_PADDING or RSA_PKCS1_PSS_PADDING */
    const EVP_MD *md;           /* RSA PKCS#1: DigestInfo's digest (NULL: raw); PSS: the hash;
                                   ECDSA: when set, inlen must be its size */
    const EVP_MD *mgf1md;       /* PSS; NULL: md */
    int saltlen;                /* PSS: bytes, or RSA_PSS_SALTLEN_DIGEST/_MAX_SIGN/_MAX */
    OSSL_LIB_CTX *libctx;       /* for random nonces and salts, and for fetches; key generation:
                                   the private key comes from its private generator and the key
                                   pair is made in it */
    unsigned char *out;
    size_t outlen;              /* in: the capacity of out; out: the length written */
    EVP_PKEY *genkey;           /* key generation: in NULL; out (status 1) the new key pair, which
                                   the caller then owns; NULL whenever status is 0 */
    int status;                 /* out: 1 done; 0 not done: run it on the single path */
} UO_MB_LANE;

/*
 * 1 when batches can run: built with crypto_mb and the CPU has what it needs (AVX-512 IFMA). Else
 * 0, and *why (if not NULL) says why, in words for the debug log.
 */
int uo_mb_available(const char **why);

/*
 * The batch material of an inner key, or NULL when the key cannot be batched (type, size, curve,
 * exponent, extra primes, no private half, or batching unavailable). Made through public APIs.
 */
UO_MB_KEY *uo_mb_key_new(OSSL_LIB_CTX *libctx, EVP_PKEY *pkey);
int uo_mb_key_up_ref(UO_MB_KEY *key);
void uo_mb_key_free(UO_MB_KEY *key);

/*
 * The class key for a key generation op (UO_MB_OP_*_KEYGEN): group is the EC curve's name as
 * OSSL_PKEY_PARAM_GROUP_NAME spells it (P-256, prime256v1, ...; ignored for X25519 and Ed25519).
 * NULL when the op or curve has no batch, or batching is unavailable. Static: taking and dropping
 * references to it (uo_mb_key_up_ref, uo_mb_key_free) does nothing.
 */
UO_MB_KEY *uo_mb_keygen_key(enum uo_mb_op op, const char *group);

/* Whether op can be batched with this key's type (a key generation op: with its class key). */
int uo_mb_key_supports(const UO_MB_KEY *key, enum uo_mb_op op);

/*
 * The batch class of a lane: lanes of one class may share a batch. Never 0 for a supported
 * (op, key) pair; fits in 24 bits.
 */
unsigned int uo_mb_class(enum uo_mb_op op, const UO_MB_KEY *key);

/*
 * Computes n (1..UO_MB_LANES) lanes of one class in one crypto_mb call and sets each lane's
 * status. Leaves nothing on the thread's error queue.
 */
void uo_mb_batch(UO_MB_LANE *const lanes[], unsigned int n, UO_MB_STATS *st);

/*
 * The peer's public value in the form the derive adapters read from a lane's in: the affine
 * point x || y (big-endian, field size each) for ECDH, the 32-byte u for X25519. Getting it out of
 * an EVP_PKEY can cost a field inversion, so a caller that derives with one peer again and again
 * makes it once. Returns 1 and sets *outlen, or 0 (then the lane reads peer itself).
 */
int uo_mb_peer_encode(enum uo_mb_op op, EVP_PKEY *peer, unsigned char *buf, size_t buflen,
                      size_t *outlen);

/* The adapter's name for a class, for the debug log ("rsa2048-sign", "p256-ecdsa", ...). */
const char *uo_mb_class_name(unsigned int cls);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ecx.c - the X25519 and Ed25519 adapters of the multi-buffer layer: a key's raw 32-byte halves
 * are taken once through EVP_PKEY_get_raw_*_key, and a batch gathers up to eight lanes into one
 * mbx_x25519_mb8 or mbx_ed25519_sign_mb8 call. Both operations are deterministic, so a lane's
 * result is byte for byte what the default provider returns; a lane the default provider would
 * refuse (a low-order X25519 peer) is left for the single path, which raises that refusal. Key
 * generation draws each lane's 32 private bytes as the default provider does, computes the public
 * keys in one mbx_x25519_public_key_mb8 or mbx_ed25519_public_key_mb8 call, and imports each
 * pair, both halves given, into the lane's library context.
 *
 * crypto_mb neither reads nor writes through a lane whose pointers are NULL (its SIMD lane runs on
 * zeros and is flagged MBX_STATUS_NULL_PARAM_ERR), so unused and refused lanes are simply NULL.
 * Results land in local buffers and reach lane->out only when the lane is done, so a failed lane
 * leaves its output as it was, and in and out may overlap.
 */
#ifdef UO_HAVE_CRYPTO_MB

#include <limits.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "mb_local.h"

#define ECX_KEYLEN 32 /* X25519 keys and secrets, Ed25519 seeds and public keys */
#define ED25519_SIGLEN 64

struct x25519_material {
    unsigned char priv[ECX_KEYLEN];
};

struct ed25519_material {
    ed25519_private_key priv; /* the seed; crypto_mb hashes and clamps it itself */
    ed25519_public_key pub;   /* part of the hashed message: must be the key's own */
};

/* Exactly len raw bytes of the private half, or 0. */
static int get_raw_private(EVP_PKEY *pkey, unsigned char *buf, size_t len)
{
    size_t got = 0;

    if (EVP_PKEY_get_raw_private_key(pkey, NULL, &got) != 1 || got != len)
        return 0;
    return EVP_PKEY_get_raw_private_key(pkey, buf, &got) == 1 && got == len;
}

static int get_raw_public(EVP_PKEY *pkey, unsigned char *buf, size_t len)
{
    size_t got = 0;

    if (EVP_PKEY_get_raw_public_key(pkey, NULL, &got) != 1 || got != len)
        return 0;
    return EVP_PKEY_get_raw_public_key(pkey, buf, &got) == 1 && got == len;
}

/* ---- X25519 --------------------------------------------------------------------------------- */

int uo_mb_x25519_key_init(OSSL_LIB_CTX *libctx, EVP_PKEY *pkey, UO_MB_KEY *key)
{
    struct x25519_material *m = OPENSSL_zalloc(sizeof(*m));

    (void)libctx;
    if (m == NULL)
        return 0;
    key->material = m; /* key_clear wipes it on failure too */
    if (!get_raw_private(pkey, m->priv, sizeof(m->priv)))
        return 0;
    key->bits = (unsigned int)EVP_PKEY_get_bits(pkey);
    return 1;
}

void uo_mb_x25519_key_clear(UO_MB_KEY *key)
{
    OPENSSL_clear_free(key->material, sizeof(struct x25519_material));
    key->material = NULL;
}

void uo_mb_x25519_derive(UO_MB_LANE *const lanes[], unsigned int n, UO_MB_STATS *st)
{
    unsigned char peer[UO_MB_LANES][ECX_KEYLEN];
    unsigned char shared[UO_MB_LANES][ECX_KEYLEN];
    int8u *pa_shared[UO_MB_LANES] = { NULL };
    const int8u *pa_priv[UO_MB_LANES] = { NULL };
    const int8u *pa_peer[UO_MB_LANES] = { NULL };
    mbx_status sts;
    unsigned int i, j, any = 0;

    for (i = 0; i < n; i++) {
        UO_MB_LANE *l = lanes[i];
        const struct x25519_material *m = l->key != NULL ? l->key->material : NULL;

        l->status = 0;
        /*
         * The default provider refuses a peer of another type before deriving; an Ed25519 key
         * would otherwise pass for 32 raw bytes.
         */
        if (m == NULL || l->key->type != UO_MB_KEY_X25519 || l->out == NULL
            || l->outlen < ECX_KEYLEN)
            continue;
        if (l->in != NULL) { /* made once per peer by uo_mb_peer_encode */
            if (l->inlen != ECX_KEYLEN)
                continue;
            memcpy(peer[i], l->in, ECX_KEYLEN);
        } else if (l->peer == NULL || !EVP_PKEY_is_a(l->peer, "X25519")
                   || !get_raw_public(l->peer, peer[i], ECX_KEYLEN)) {
            continue;
        }
        pa_shared[i] = shared[i];
        pa_priv[i] = m->priv;
        pa_peer[i] = peer[i];
        any = 1;
    }
    if (!any)
        return;

    sts = mbx_x25519_mb8(pa_shared, pa_priv, pa_peer);

    for (i = 0; i < n; i++) {
        unsigned char acc = 0;

        if (pa_shared[i] == NULL)
            continue;
        /*
         * crypto_mb flags an all-zero secret as MBX_STATUS_LOW_ORDER_ERR; OpenSSL refuses it as
         * well. Test the bytes too, without an early exit, rather than rely on that flag alone.
         */
        for (j = 0; j < ECX_KEYLEN; j++)
            acc |= shared[i][j];
        if (MBX_GET_STS(sts, (int)i) != MBX_STATUS_OK || acc == 0)
            continue;
        memcpy(lanes[i]->out, shared[i], ECX_KEYLEN);
        lanes[i]->outlen = ECX_KEYLEN;
        lanes[i]->status = 1;
    }
    OPENSSL_cleanse(shared, sizeof(shared));
    (void)st; /* no check to fail: X25519 results are not verified */
}

/* ---- Ed25519 -------------------------------------------------------------------------------- */

int uo_mb_ed25519_key_init(OSSL_LIB_CTX *libctx, EVP_PKEY *pkey, UO_MB_KEY *key)
{
    struct ed25519_material *m = OPENSSL_zalloc(sizeof(*m));

    (void)libctx;
    if (m == NULL)
        return 0;
    key->material = m;
    if (!get_raw_private(pkey, m->priv, sizeof(m->priv))
        || !get_raw_public(pkey, m->pub, sizeof(m->pub)))
        return 0;
    key->bits = (unsigned int)EVP_PKEY_get_bits(pkey);
    return 1;
}

void uo_mb_ed25519_key_clear(UO_MB_KEY *key)
{
    OPENSSL_clear_free(key->material, sizeof(struct ed25519_material));
    key->material = NULL;
}

void uo_mb_ed25519_sign(UO_MB_LANE *const lanes[], unsigned int n, UO_MB_STATS *st)
{
    /* crypto_mb takes a NULL message as a missing lane, so an empty message points here. */
    static const int8u empty[1];
    ed25519_sign_component r[UO_MB_LANES], s[UO_MB_LANES];
    ed25519_sign_component *pa_r[UO_MB_LANES] = { NULL }, *pa_s[UO_MB_LANES] = { NULL };
    const int8u *pa_msg[UO_MB_LANES] = { NULL };
    int32u msglen[UO_MB_LANES] = { 0 };
    const ed25519_private_key *pa_priv[UO_MB_LANES] = { NULL };
    const ed25519_public_key *pa_pub[UO_MB_LANES] = { NULL };
    mbx_status sts;
    unsigned int i, any = 0;

    for (i = 0; i < n; i++) {
        UO_MB_LANE *l = lanes[i];
        const struct ed25519_material *m = l->key != NULL ? l->key->material : NULL;

        l->status = 0;
        /* crypto_mb's SHA-512 takes an int length. */
        if (m == NULL || l->key->type != UO_MB_KEY_ED25519 || l->out == NULL
            || l->outlen < ED25519_SIGLEN || l->inlen > INT_MAX
            || (l->in == NULL && l->inlen != 0))
            continue;
        pa_r[i] = &r[i];
        pa_s[i] = &s[i];
        pa_msg[i] = l->inlen != 0 ? l->in : empty;
        msglen[i] = (int32u)l->inlen;
        pa_priv[i] = &m->priv;
        pa_pub[i] = &m->pub;
        any = 1;
    }
    if (!any)
        return;

    sts = mbx_ed25519_sign_mb8(pa_r, pa_s, pa_msg, msglen, pa_priv, pa_pub);

    for (i = 0; i < n; i++) {
        if (pa_r[i] == NULL || MBX_GET_STS(sts, (int)i) != MBX_STATUS_OK)
            continue;
        memcpy(lanes[i]->out, r[i], sizeof(r[i]));
        memcpy(lanes[i]->out + sizeof(r[i]), s[i], sizeof(s[i]));
        lanes[i]->outlen = ED25519_SIGLEN;
        lanes[i]->status = 1;
    }
    (void)st; /* no check to fail: signatures are not verified here */
}

/* ---- key generation (both types) ---------------------------------------------------------- */

struct ecx_keygen_batch {
    unsigned char priv[UO_MB_LANES][ECX_KEYLEN];
    unsigned char pub[UO_MB_LANES][ECX_KEYLEN];
};

/*
 * A lane's private key, as the default provider's ecx_gen draws it: 32 bytes from the library
 * context's private generator. An X25519 key is stored clamped (RFC 7748's decoding, which the
 * default provider applies before storing it), so that the key exports the same bytes.
 */
static int ecx_keygen_lane(const UO_MB_LANE *l, enum uo_mb_keytype type, unsigned char *priv)
{
    if (l->key == NULL || !l->key->keygen_class || l->key->type != type || l->genkey != NULL
        || RAND_priv_bytes_ex(l->libctx, priv, ECX_KEYLEN, 0) <= 0)
        return 0;
    if (type == UO_MB_KEY_X25519) {
        priv[0] &= 248;
        priv[ECX_KEYLEN - 1] &= 127;
        priv[ECX_KEYLEN - 1] |= 64;
    }
    return 1;
}

/*
 * Imports each computed lane's pair. The default provider's import keeps a given public key as
 * it is (it derives one only when none is given), so the batch's work is not done twice.
 */
static void ecx_keygen_scatter(UO_MB_LANE *const lanes[], unsigned int n, mbx_status sts,
                               const int8u *const pa_priv[], struct ecx_keygen_batch *b,
                               const char *name)
{
    UO_MB_FROMDATA fd = { 0 };
    OSSL_PARAM params[3];
    unsigned int i;

    for (i = 0; i < n; i++) {
        if (pa_priv[i] == NULL || MBX_GET_STS(sts, (int)i) != MBX_STATUS_OK)
            continue;
        params[0] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PRIV_KEY, b->priv[i],
                                                      ECX_KEYLEN);
        params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, b->pub[i],
                                                      ECX_KEYLEN);
        params[2] = OSSL_PARAM_construct_end();
        lanes[i]->genkey = uo_mb_keypair_new(&fd, lanes[i]->libctx, name, params);
        lanes[i]->status = lanes[i]->genkey != NULL;
    }
    uo_mb_fromdata_end(&fd);
}

void uo_mb_x25519_keygen(UO_MB_LANE *const lanes[], unsigned int n, UO_MB_STATS *st)
{
    struct ecx_keygen_batch b;
    int8u *pa_pub[UO_MB_LANES] = { NULL };
    const int8u *pa_priv[UO_MB_LANES] = { NULL };
    unsigned int i, any = 0;

    (void)st;
    for (i = 0; i < n; i++) {
        if (!ecx_keygen_lane(lanes[i], UO_MB_KEY_X25519, b.priv[i]))
            continue;
        pa_priv[i] = b.priv[i];
        pa_pub[i] = b.pub[i];
        any = 1;
    }
    if (any)
        ecx_keygen_scatter(lanes, n, mbx_x25519_public_key_mb8(pa_pub, pa_priv), pa_priv, &b,
                           "X25519");
    OPENSSL_cleanse(&b, sizeof(b));
}

void uo_mb_ed25519_keygen(UO_MB_LANE *const lanes[], unsigned int n, UO_MB_STATS *st)
{
    struct ecx_keygen_batch b;
    ed25519_public_key *pa_pub[UO_MB_LANES] = { NULL };
    const ed25519_private_key *pa_priv[UO_MB_LANES] = { NULL };
    const int8u *pa_done[UO_MB_LANES] = { NULL };
    unsigned int i, any = 0;

    (void)st;
    for (i = 0; i < n; i++) {
        if (!ecx_keygen_lane(lanes[i], UO_MB_KEY_ED25519, b.priv[i]))
            continue;
        pa_priv[i] = (const ed25519_private_key *)b.priv[i];
        pa_pub[i] = (ed25519_public_key *)b.pub[i];
        pa_done[i] = b.priv[i];
        any = 1;
    }
    if (any)
        ecx_keygen_scatter(lanes, n, mbx_ed25519_public_key_mb8(pa_pub, pa_priv), pa_done, &b,
                           "ED25519");
    OPENSSL_cleanse(&b, sizeof(b));
}

#endif /* UO_HAVE_CRYPTO_MB */

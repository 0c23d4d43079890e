/*
 * ecx.c - the X25519 and Ed25519 adapters of the multi-buffer layer: a key's raw 32-byte halves
 * are taken once through EVP_PKEY_get_raw_*_key, and a batch gathers up to eight lanes into one
 * mbx_x25519_mb8 or mbx_ed25519_sign_mb8 call. Both operations are deterministic, so a lane's
 * result is byte for byte what the default provider returns; a lane the default provider would
 * refuse (a low-order X25519 peer) is left for the single path, which raises that refusal.
 *
 * crypto_mb neither reads nor writes through a lane whose pointers are NULL (its SIMD lane runs on
 * zeros and is flagged MBX_STATUS_NULL_PARAM_ERR), so unused and refused lanes are simply NULL. Results land in local buffers and reach lane->out only when the lane is
 * done, so a failed lane leaves its output as it was, and in and out may overlap.
 */
#ifdef UO_HAVE_CRYPTO_MB

#include <limits.h>
#include <string.h>

#include <openssl/crypto.h>

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

#endif /* UO_HAVE_CRYPTO_MB */

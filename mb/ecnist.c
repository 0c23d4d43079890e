/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ecnist.c - the multi-buffer adapter for ECDSA signing, plain ECDH and key generation on P-256,
 * P-384 and P-521.
 *
 * A key's private scalar is taken once, through public APIs, as the little-endian 64-bit words
 * crypto_mb reads, together with the group order for nonces. A batch turns each lane's input into
 * the integer OpenSSL 3.0 would sign (or fetches the peer's affine point), makes one crypto_mb
 * call for all lanes, and encodes each lane's result as the default provider does: a DER
 * ECDSA-Sig-Value, or the shared x coordinate padded to the field size. A key generation draws
 * each lane's private scalar as OpenSSL's EC keygen does, computes all the public points in one
 * crypto_mb call, and imports each key pair into the lane's library context. Any lane crypto_mb
 * or this file will not do exactly as OpenSSL does is left with status 0 for the single path.
 */
#ifdef UO_HAVE_CRYPTO_MB

#include <stdatomic.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>

#include "mb_local.h"

/* P-521's scalars and coordinates need nine 64-bit words; the other curves use fewer of them. */
#define EC_MAX_WORDS 9
#define EC_MAX_BYTES 66

typedef mbx_status ecdsa_sign_fn(int8u *r[8], int8u *s[8], const int8u *const msg[8],
                                 const int64u *const eph[8], const int64u *const priv[8],
                                 int8u *buf);
typedef mbx_status ecdh_fn(int8u *shared[8], const int64u *const priv[8],
                           const int64u *const x[8], const int64u *const y[8],
                           const int64u *const z[8], int8u *buf);
typedef mbx_status ecpublic_fn(int64u *x[8], int64u *y[8], int64u *z[8],
                               const int64u *const priv[8], int8u *buf);

struct curve {
    const char *names[2];       /* as OSSL_PKEY_PARAM_GROUP_NAME may spell it */
    int nid;
    unsigned int bits;          /* field and order bits */
    size_t bytes;               /* field and order bytes: crypto_mb's length for msg, r, s, x */
    size_t words;               /* 64-bit words crypto_mb reads for a scalar or coordinate */
    ecdsa_sign_fn *sign;
    ecdh_fn *ecdh;
    ecpublic_fn *pub;
};

static const struct curve curves[] = {
    { { "prime256v1", "P-256" }, NID_X9_62_prime256v1, 256, 32, 4,
      mbx_nistp256_ecdsa_sign_mb8, mbx_nistp256_ecdh_mb8, mbx_nistp256_ecpublic_key_mb8 },
    { { "secp384r1", "P-384" }, NID_secp384r1, 384, 48, 6,
      mbx_nistp384_ecdsa_sign_mb8, mbx_nistp384_ecdh_mb8, mbx_nistp384_ecpublic_key_mb8 },
    { { "secp521r1", "P-521" }, NID_secp521r1, 521, 66, 9,
      mbx_nistp521_ecdsa_sign_mb8, mbx_nistp521_ecdh_mb8, mbx_nistp521_ecpublic_key_mb8 },
};

struct ec_material {
    int64u priv[EC_MAX_WORDS];  /* little-endian words, zero above the curve's length */
    const BIGNUM *order;        /* n, for nonces and for reducing the message (curve_order) */
    const struct curve *curve;
};

/*
 * The group order of each curve, made once per process: a TLS server makes an ephemeral key per
 * handshake, and building an EC_GROUP for each would cost more than the batch saves. Read-only
 * once published, and kept for the life of the process.
 */
static _Atomic(BIGNUM *) orders[sizeof(curves) / sizeof(curves[0])];

static const BIGNUM *curve_order(OSSL_LIB_CTX *libctx, const struct curve *c)
{
    _Atomic(BIGNUM *) *slot = &orders[c - curves];
    BIGNUM *order = atomic_load_explicit(slot, memory_order_acquire), *made;
    EC_GROUP *ecg;

    if (order != NULL)
        return order;
    ecg = EC_GROUP_new_by_curve_name_ex(libctx, NULL, c->nid);
    made = ecg != NULL ? BN_dup(EC_GROUP_get0_order(ecg)) : NULL;
    EC_GROUP_free(ecg);
    if (made == NULL)
        return NULL;
    if (!atomic_compare_exchange_strong(slot, &order, made)) {
        BN_free(made); /* another thread published the same value first */
        return order;
    }
    return made;
}

static const struct curve *curve_by_bits(unsigned int bits)
{
    size_t i;

    for (i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
        if (curves[i].bits == bits)
            return &curves[i];
    return NULL;
}

/*
 * crypto_mb reads a scalar as int64u words, least significant first. Little-endian bytes laid into
 * 64-bit storage are exactly that on x86-64, the only machine crypto_mb runs on.
 */
static int bn_to_words(const BIGNUM *bn, int64u *words, size_t nwords)
{
    return BN_bn2lebinpad(bn, (unsigned char *)words, (int)(nwords * sizeof(int64u))) >= 0;
}

static const struct curve *curve_by_name(const char *group)
{
    size_t i;

    for (i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
        if (OPENSSL_strcasecmp(group, curves[i].names[0]) == 0
            || OPENSSL_strcasecmp(group, curves[i].names[1]) == 0)
            return &curves[i];
    return NULL;
}

unsigned int uo_mb_ec_group_bits(const char *group)
{
    const struct curve *c = curve_by_name(group);

    return c != NULL ? c->bits : 0;
}

int uo_mb_ec_key_init(OSSL_LIB_CTX *libctx, EVP_PKEY *pkey, UO_MB_KEY *key)
{
    struct ec_material *m;
    const struct curve *c;
    char group[64];
    BIGNUM *priv = NULL;
    int ok = 0;

    /* Keys with explicit parameters have no group name: they stay on the single path. */
    if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                        NULL))
        return 0;
    if ((c = curve_by_name(group)) == NULL)
        return 0;
    m = OPENSSL_zalloc(sizeof(*m));
    if (m == NULL)
        return 0;
    key->material = m;
    m->curve = c;
    key->bits = c->bits;
    key->curve_nid = c->nid;

    if ((m->order = curve_order(libctx, c)) == NULL)
        goto end;
    if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &priv))
        goto end;
    /*
     * crypto_mb rejects a zero scalar and assumes one below n. A key outside [1, n-1] is not a
     * valid key; the single path reports it as OpenSSL does.
     */
    if (BN_is_zero(priv) || BN_is_negative(priv) || BN_cmp(priv, m->order) >= 0)
        goto end;
    ok = bn_to_words(priv, m->priv, c->words);
end:
    BN_clear_free(priv);
    return ok;
}

void uo_mb_ec_key_clear(UO_MB_KEY *key)
{
    struct ec_material *m = key->material;

    if (m == NULL)
        return;
    OPENSSL_clear_free(m, sizeof(*m));
    key->material = NULL;
}

/*
 * The integer ECDSA signs, as OpenSSL 3.0's bits2int makes it: the leftmost bits of the input, as
 * many as n has, reduced mod n (crypto_mb wants 0 < m < n; the signature is the same for m and
 * m mod n). Returns 0 for what only the single path does: a size that does not match md, an input
 * that needs a bit shift (66 bytes or more on P-521), or m = 0 mod n.
 */
static int ecdsa_msg(const UO_MB_LANE *lane, const struct ec_material *m, BN_CTX *bnctx,
                     unsigned char *msg)
{
    const struct curve *c = m->curve;
    size_t len = lane->inlen;
    BIGNUM *bn;
    int ok = 0;

    if (lane->md != NULL
        && (EVP_MD_get_size(lane->md) <= 0 || len != (size_t)EVP_MD_get_size(lane->md)))
        return 0;
    if (c->bits % 8 != 0 && 8 * (unsigned long long)len > c->bits)
        return 0; /* OpenSSL would shift the leftmost bytes right: the single path does that */
    if (len > c->bytes)
        len = c->bytes; /* the leftmost bytes */
    memset(msg, 0, c->bytes);
    if (len > 0)
        memcpy(msg + c->bytes - len, lane->in, len);
    BN_CTX_start(bnctx);
    bn = BN_CTX_get(bnctx);
    if (bn == NULL || BN_bin2bn(msg, (int)c->bytes, bn) == NULL)
        goto end;
    /* m < 2^bits <= 2n: one subtraction reduces it. */
    if (BN_cmp(bn, m->order) >= 0 && !BN_sub(bn, bn, m->order))
        goto end;
    ok = !BN_is_zero(bn) && BN_bn2binpad(bn, msg, (int)c->bytes) == (int)c->bytes;
end:
    BN_CTX_end(bnctx);
    return ok;
}

/*
 * A secret scalar uniform in [1, n-1] (FIPS 186-5), drawn as OpenSSL's EC keygen draws a private
 * key: from bnctx's library context's private generator. As int64u words for crypto_mb and, when
 * native is not NULL, as the native-endian integer (c->bytes long) that OSSL_PARAM_construct_BN
 * takes.
 */
static int random_scalar(const BIGNUM *order, const struct curve *c, BN_CTX *bnctx,
                         int64u *words, unsigned char *native)
{
    BIGNUM *k;
    int ok = 0;

    BN_CTX_start(bnctx);
    k = BN_CTX_get(bnctx);
    if (k == NULL)
        goto end;
    do {
        if (!BN_priv_rand_range_ex(k, order, 0, bnctx))
            goto end;
    } while (BN_is_zero(k));
    ok = bn_to_words(k, words, c->words)
         && (native == NULL || BN_bn2nativepad(k, native, (int)c->bytes) == (int)c->bytes);
end:
    if (k != NULL)
        BN_clear(k); /* BN_CTX_end does not wipe what it hands back */
    BN_CTX_end(bnctx);
    return ok;
}

/* A nonce k uniform in [1, n-1], as int64u words. */
static int ecdsa_nonce(const struct ec_material *m, BN_CTX *bnctx, int64u *words)
{
    return random_scalar(m->order, m->curve, bnctx, words, NULL);
}

/* r, s (big-endian, bytes long) as the DER ECDSA-Sig-Value, into the lane's buffer. */
static int ecdsa_encode(UO_MB_LANE *lane, const unsigned char *r, const unsigned char *s,
                        size_t bytes)
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *br = BN_bin2bn(r, (int)bytes, NULL), *bs = BN_bin2bn(s, (int)bytes, NULL);
    unsigned char *p = lane->out;
    int len, ok = 0;

    if (sig == NULL || br == NULL || bs == NULL || !ECDSA_SIG_set0(sig, br, bs))
        goto end;
    br = bs = NULL; /* sig owns them now */
    len = i2d_ECDSA_SIG(sig, NULL);
    if (len <= 0 || lane->out == NULL || lane->outlen < (size_t)len
        || i2d_ECDSA_SIG(sig, &p) != len)
        goto end;
    lane->outlen = (size_t)len;
    ok = 1;
end:
    BN_free(br);
    BN_free(bs);
    ECDSA_SIG_free(sig);
    return ok;
}

/* Everything a batch touches that is secret or per lane, in one place to wipe once. */
struct ecdsa_batch {
    int64u eph[UO_MB_LANES][EC_MAX_WORDS];
    unsigned char msg[UO_MB_LANES][EC_MAX_BYTES];
    unsigned char r[UO_MB_LANES][EC_MAX_BYTES];
    unsigned char s[UO_MB_LANES][EC_MAX_BYTES];
};

void uo_mb_ecdsa_sign(UO_MB_LANE *const lanes[], unsigned int n, UO_MB_STATS *st)
{
    struct ecdsa_batch b;
    /* crypto_mb gives a lane with any NULL pointer a NULL_PARAM status and computes the rest. */
    int8u *pr[8] = { 0 }, *ps[8] = { 0 };
    const int8u *pmsg[8] = { 0 };
    const int64u *peph[8] = { 0 }, *ppriv[8] = { 0 };
    const struct curve *c = curve_by_bits(lanes[0]->key->bits);
    BN_CTX *bnctx = NULL;
    OSSL_LIB_CTX *bnlibctx = NULL;
    mbx_status sts;
    unsigned int i, work = 0;

    (void)st;
    if (c == NULL)
        return;
    for (i = 0; i < n; i++) {
        UO_MB_LANE *lane = lanes[i];
        const struct ec_material *m = lane->key->material;

        if (lane->key->type != UO_MB_KEY_EC || m == NULL || m->curve != c)
            continue;
        /* Lanes normally share one library context; a new BN_CTX only when it changes. */
        if (bnctx == NULL || lane->libctx != bnlibctx) {
            BN_CTX_free(bnctx);
            bnlibctx = lane->libctx;
            if ((bnctx = BN_CTX_new_ex(bnlibctx)) == NULL)
                continue;
        }
        if (!ecdsa_msg(lane, m, bnctx, b.msg[i]) || !ecdsa_nonce(m, bnctx, b.eph[i]))
            continue;
        pr[i] = b.r[i];
        ps[i] = b.s[i];
        pmsg[i] = b.msg[i];
        peph[i] = b.eph[i];
        ppriv[i] = m->priv;
        work++;
    }
    BN_CTX_free(bnctx);
    if (work > 0) {
        sts = c->sign(pr, ps, pmsg, peph, ppriv, NULL); /* scratch buffer: unused by crypto_mb */
        for (i = 0; i < n; i++)
            if (pr[i] != NULL && MBX_GET_STS(sts, (int)i) == MBX_STATUS_OK)
                lanes[i]->status = ecdsa_encode(lanes[i], b.r[i], b.s[i], c->bytes);
    }
    OPENSSL_cleanse(&b, sizeof(b));
}

struct ecdh_batch {
    int64u x[UO_MB_LANES][EC_MAX_WORDS];
    int64u y[UO_MB_LANES][EC_MAX_WORDS];
    unsigned char shared[UO_MB_LANES][EC_MAX_BYTES];
};

/* Big-endian bytes, as crypto_mb's little-endian words (x86-64: reversing the bytes will do). */
static void be_to_words(const unsigned char *be, size_t len, int64u *words, size_t nwords)
{
    unsigned char *le = (unsigned char *)words;
    size_t i;

    memset(words, 0, nwords * sizeof(int64u));
    for (i = 0; i < len; i++)
        le[i] = be[len - 1 - i];
}

/*
 * The peer's affine point as crypto_mb's words: from the lane's input (x || y, made once per peer
 * by uo_mb_peer_encode) or else from the peer key itself.
 */
static int ecdh_peer(const UO_MB_LANE *lane, const struct curve *c, int64u *x, int64u *y)
{
    EVP_PKEY *peer = lane->peer;
    BIGNUM *bx = NULL, *by = NULL;
    int ok;

    if (lane->in != NULL) {
        if (lane->inlen != 2 * c->bytes)
            return 0;
        be_to_words(lane->in, c->bytes, x, c->words);
        be_to_words(lane->in + c->bytes, c->bytes, y, c->words);
        return 1;
    }
    ok = peer != NULL
         && EVP_PKEY_get_bn_param(peer, OSSL_PKEY_PARAM_EC_PUB_X, &bx)
         && EVP_PKEY_get_bn_param(peer, OSSL_PKEY_PARAM_EC_PUB_Y, &by)
         && (size_t)BN_num_bytes(bx) <= c->bytes && (size_t)BN_num_bytes(by) <= c->bytes
         && bn_to_words(bx, x, c->words) && bn_to_words(by, y, c->words);
    BN_free(bx);
    BN_free(by);
    return ok;
}

void uo_mb_ecdh_derive(UO_MB_LANE *const lanes[], unsigned int n, UO_MB_STATS *st)
{
    struct ecdh_batch b;
    int8u *pshared[8] = { 0 };
    const int64u *ppriv[8] = { 0 }, *px[8] = { 0 }, *py[8] = { 0 };
    const struct curve *c = curve_by_bits(lanes[0]->key->bits);
    mbx_status sts;
    unsigned int i, work = 0;

    (void)st;
    if (c == NULL)
        return;
    for (i = 0; i < n; i++) {
        UO_MB_LANE *lane = lanes[i];
        const struct ec_material *m = lane->key->material;

        if (lane->key->type != UO_MB_KEY_EC || m == NULL || m->curve != c
            || lane->out == NULL || lane->outlen < c->bytes
            || !ecdh_peer(lane, c, b.x[i], b.y[i]))
            continue;
        pshared[i] = b.shared[i];
        ppriv[i] = m->priv;
        px[i] = b.x[i];
        py[i] = b.y[i];
        work++;
    }
    if (work > 0) {
        /* pubz NULL: the points are affine. crypto_mb fails a lane whose point is off the curve. */
        sts = c->ecdh(pshared, ppriv, px, py, NULL, NULL);
        for (i = 0; i < n; i++) {
            if (pshared[i] == NULL || MBX_GET_STS(sts, (int)i) != MBX_STATUS_OK)
                continue;
            memcpy(lanes[i]->out, b.shared[i], c->bytes);
            lanes[i]->outlen = c->bytes;
            lanes[i]->status = 1;
        }
    }
    OPENSSL_cleanse(&b, sizeof(b));
}

/* ---- key generation ------------------------------------------------------------------------ */

/* crypto_mb's little-endian words as len big-endian bytes (the inverse of be_to_words). */
static void words_to_be(const int64u *words, unsigned char *be, size_t len)
{
    const unsigned char *le = (const unsigned char *)words;
    size_t i;

    for (i = 0; i < len; i++)
        be[i] = le[len - 1 - i];
}

/* Everything secret or per lane that a key generation touches, to wipe once. */
struct ec_keygen_batch {
    int64u priv[UO_MB_LANES][EC_MAX_WORDS];
    unsigned char native[UO_MB_LANES][EC_MAX_BYTES];  /* the same scalars for the import */
    int64u x[UO_MB_LANES][EC_MAX_WORDS];
    int64u y[UO_MB_LANES][EC_MAX_WORDS];
    unsigned char pub[1 + 2 * EC_MAX_BYTES];
};

/*
 * The key pair as the default provider's EC keygen makes it: the named group (so the encoding is
 * named_curve and the point format uncompressed, the defaults), the private scalar, and the
 * public point uncompressed (04 || x || y), which the import checks is on the curve and keeps
 * as given: it does not recompute it from the scalar.
 */
static EVP_PKEY *ec_keypair(UO_MB_FROMDATA *fd, OSSL_LIB_CTX *libctx, const struct curve *c,
                            unsigned char *native, const int64u *x, const int64u *y,
                            unsigned char *pub)
{
    OSSL_PARAM params[4];

    pub[0] = POINT_CONVERSION_UNCOMPRESSED;
    words_to_be(x, pub + 1, c->bytes);
    words_to_be(y, pub + 1 + c->bytes, c->bytes);
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                                 (char *)c->names[0], 0);
    params[1] = OSSL_PARAM_construct_BN(OSSL_PKEY_PARAM_PRIV_KEY, native, c->bytes);
    params[2] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pub, 1 + 2 * c->bytes);
    params[3] = OSSL_PARAM_construct_end();
    return uo_mb_keypair_new(fd, libctx, "EC", params);
}

/* A lane's private scalar; 0 when the lane is not one this batch can do. */
static int ec_keygen_lane(const UO_MB_LANE *lane, const struct curve *c, BN_CTX **bnctx,
                          OSSL_LIB_CTX **bnlibctx, int64u *priv, unsigned char *native)
{
    const BIGNUM *order;

    if (lane->key == NULL || !lane->key->keygen_class || lane->key->type != UO_MB_KEY_EC
        || lane->key->bits != c->bits || lane->genkey != NULL)
        return 0;
    /* Lanes normally share one library context; a new BN_CTX only when it changes. */
    if (*bnctx == NULL || lane->libctx != *bnlibctx) {
        BN_CTX_free(*bnctx);
        *bnlibctx = lane->libctx;
        if ((*bnctx = BN_CTX_new_ex(*bnlibctx)) == NULL)
            return 0;
    }
    order = curve_order(lane->libctx, c);
    return order != NULL && random_scalar(order, c, *bnctx, priv, native);
}

void uo_mb_ec_keygen(UO_MB_LANE *const lanes[], unsigned int n, UO_MB_STATS *st)
{
    struct ec_keygen_batch b;
    int64u *px[8] = { 0 }, *py[8] = { 0 };
    const int64u *ppriv[8] = { 0 };
    const struct curve *c = curve_by_bits(lanes[0]->key->bits);
    BN_CTX *bnctx = NULL;
    OSSL_LIB_CTX *bnlibctx = NULL;
    UO_MB_FROMDATA fd = { 0 };
    mbx_status sts;
    unsigned int i, work = 0;

    (void)st;
    if (c == NULL)
        return;
    for (i = 0; i < n; i++) {
        if (!ec_keygen_lane(lanes[i], c, &bnctx, &bnlibctx, b.priv[i], b.native[i]))
            continue;
        ppriv[i] = b.priv[i];
        px[i] = b.x[i];
        py[i] = b.y[i];
        work++;
    }
    BN_CTX_free(bnctx);
    if (work > 0) {
        /* pubz NULL: affine x, y. Scratch buffer: unused by crypto_mb. */
        sts = c->pub(px, py, NULL, ppriv, NULL);
        for (i = 0; i < n; i++) {
            if (ppriv[i] == NULL || MBX_GET_STS(sts, (int)i) != MBX_STATUS_OK)
                continue;
            lanes[i]->genkey = ec_keypair(&fd, lanes[i]->libctx, c, b.native[i], b.x[i], b.y[i],
                                          b.pub);
            lanes[i]->status = lanes[i]->genkey != NULL;
        }
    }
    uo_mb_fromdata_end(&fd);
    OPENSSL_cleanse(&b, sizeof(b));
}

#endif /* UO_HAVE_CRYPTO_MB */

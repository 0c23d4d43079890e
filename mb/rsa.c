/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rsa.c - the RSA adapter of the multi-buffer layer: up to eight RSA signatures (PKCS#1 v1.5 or
 * PSS, 2048, 3072 or 4096 bits, e = 65537, two primes) in one crypto_mb CRT call. Each lane's
 * message is encoded with OpenSSL's own padding functions, so the bytes signed are exactly those
 * the default provider signs; crypto_mb only does the modular arithmetic. Every result is checked
 * with one batched public operation before it leaves, because a wrong CRT result would leak the
 * key's factors (Bellcore attack); a lane that fails the check is counted and left to the single
 * path.
 */

/*
 * RSA_padding_add_PKCS1_type_1, RSA_padding_add_PKCS1_PSS_mgf1 and EVP_PKEY_get1_RSA are
 * deprecated in OpenSSL 3, but they are the only public way to reuse OpenSSL's own encoders, and
 * reusing them is what keeps batched signatures identical to the default provider's.
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "mb_local.h"

#ifdef UO_HAVE_CRYPTO_MB

#define RSA_MAX_BYTES (4096 / 8)

struct rsa_material {
    const mbx_RSA_Method *crt;   /* private CRT operation for this size */
    const mbx_RSA_Method *pub;   /* e = 65537, for the check */
    RSA *rsa;                    /* legacy view of the inner key: PSS encoding needs its n and
                                    its library context (the salt comes from RAND_bytes_ex) */
    size_t size;                 /* bytes allocated for this struct, to wipe it all */
    /* Little-endian 64-bit words, as crypto_mb's raw interface takes them. */
    int64u *p, *q, *dp, *dq, *qinv, *n;
    int64u words[];
};

/* BIGNUM to crypto_mb's word array of exactly nbytes, or 0 when it does not fit. */
static int to_words(const BIGNUM *bn, int64u *w, size_t nbytes)
{
    return BN_bn2lebinpad(bn, (unsigned char *)w, (int)nbytes) == (int)nbytes;
}

int uo_mb_rsa_key_init(OSSL_LIB_CTX *libctx, EVP_PKEY *pkey, UO_MB_KEY *key)
{
    static const char *const names[] = {
        OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E, OSSL_PKEY_PARAM_RSA_FACTOR1,
        OSSL_PKEY_PARAM_RSA_FACTOR2, OSSL_PKEY_PARAM_RSA_EXPONENT1,
        OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
    };
    enum { N, E, P, Q, DP, DQ, QINV, NPARAMS };
    BIGNUM *bn[NPARAMS] = { NULL }, *extra = NULL;
    struct rsa_material *m;
    size_t half, i, size;
    int bits = EVP_PKEY_get_bits(pkey), ok = 0;

    (void)libctx; /* the inner key already carries its library context */
    if (bits != 2048 && bits != 3072 && bits != 4096)
        return 0;
    for (i = 0; i < NPARAMS; i++)
        if (!EVP_PKEY_get_bn_param(pkey, names[i], &bn[i]))
            goto end;
    /* A third factor means a multi-prime key, which crypto_mb's CRT does not do. */
    if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_FACTOR3, &extra))
        goto end;
    /*
     * crypto_mb reads each prime as exactly bits/2 bits and reduces the message modulo each with
     * one Montgomery step and single corrections, which is only right when p and q both have
     * exactly bits/2 bits (as every OpenSSL-generated key does).
     */
    if (BN_num_bits(bn[N]) != bits || !BN_is_word(bn[E], 65537)
        || BN_num_bits(bn[P]) != bits / 2 || BN_num_bits(bn[Q]) != bits / 2)
        goto end;

    half = (size_t)bits / 128;
    size = sizeof(*m) + 7 * half * sizeof(int64u); /* five half-size numbers and n */
    if ((m = OPENSSL_zalloc(size)) == NULL)
        goto end;
    m->size = size;
    key->material = m;
    m->p = m->words;
    m->q = m->p + half;
    m->dp = m->q + half;
    m->dq = m->dp + half;
    m->qinv = m->dq + half;
    m->n = m->qinv + half;
    if (!to_words(bn[P], m->p, half * 8) || !to_words(bn[Q], m->q, half * 8)
        || !to_words(bn[DP], m->dp, half * 8) || !to_words(bn[DQ], m->dq, half * 8)
        || !to_words(bn[QINV], m->qinv, half * 8) || !to_words(bn[N], m->n, half * 16))
        goto end;
    m->crt = mbx_RSA_private_crt_Method(bits);
    m->pub = mbx_RSA_pub65537_Method(bits);
    /*
     * The inner key's provider lives in the inner library context; OpenSSL builds the legacy RSA
     * in that same context, so PSS salts come from the inner context's DRBG.
     */
    m->rsa = EVP_PKEY_get1_RSA(pkey);
    if (m->crt == NULL || m->pub == NULL || m->rsa == NULL)
        goto end;
    key->bits = (unsigned int)bits;
    ok = 1;
 end:
    for (i = 0; i < NPARAMS; i++)
        BN_clear_free(bn[i]);
    BN_clear_free(extra);
    return ok;
}

void uo_mb_rsa_key_clear(UO_MB_KEY *key)
{
    struct rsa_material *m = key->material;

    if (m == NULL)
        return;
    RSA_free(m->rsa);
    OPENSSL_clear_free(m, m->size);
    key->material = NULL;
}

/*
 * Digests whose DigestInfo the default provider signs (with a NULL parameter, as encoded below).
 * MD5-SHA1 is signed bare; MDC2 and anything else take the single path, which signs or refuses
 * them exactly as the default provider does.
 */
static int digestinfo_known(int nid)
{
    static const int nids[] = {
        NID_sha1, NID_sha224, NID_sha256, NID_sha384, NID_sha512, NID_sha512_224,
        NID_sha512_256, NID_sha3_224, NID_sha3_256, NID_sha3_384, NID_sha3_512, NID_md5,
        NID_md4, NID_ripemd160, NID_sm3,
    };
    size_t i;

    for (i = 0; i < sizeof(nids) / sizeof(nids[0]); i++)
        if (nids[i] == nid)
            return 1;
    return 0;
}

/* DER DigestInfo of the lane's digest, in *der (OPENSSL_free it); its length, or -1. */
static int digestinfo(const UO_MB_LANE *l, unsigned char **der)
{
    X509_SIG *sig = X509_SIG_new();
    X509_ALGOR *alg;
    ASN1_OCTET_STRING *digest;
    int len = -1;

    if (sig == NULL)
        return -1;
    X509_SIG_getm(sig, &alg, &digest);
    if (X509_ALGOR_set0(alg, OBJ_nid2obj(EVP_MD_get_type(l->md)), V_ASN1_NULL, NULL)
        && ASN1_OCTET_STRING_set(digest, l->in, (int)l->inlen))
        len = i2d_X509_SIG(sig, der);
    X509_SIG_free(sig);
    return len;
}

/* The lane's encoded message, k bytes, in em; 1, or 0 when the lane must take the single path. */
static int encode(const UO_MB_LANE *l, const struct rsa_material *m, unsigned char *em, size_t k)
{
    unsigned char *der = NULL;
    int mdsize, len, ok;

    if (l->md != NULL && ((mdsize = EVP_MD_get_size(l->md)) <= 0 || l->inlen != (size_t)mdsize))
        return 0;
    switch (l->rsa_pad) {
    case RSA_PKCS1_PADDING:
        if (l->md == NULL || EVP_MD_get_type(l->md) == NID_md5_sha1)
            return l->inlen <= k
                   && RSA_padding_add_PKCS1_type_1(em, (int)k, l->in, (int)l->inlen) == 1;
        if (!digestinfo_known(EVP_MD_get_type(l->md)) || (len = digestinfo(l, &der)) <= 0)
            return 0;
        ok = RSA_padding_add_PKCS1_type_1(em, (int)k, der, len) == 1;
        OPENSSL_free(der);
        return ok;
    case RSA_PKCS1_PSS_PADDING:
        return l->md != NULL
               && RSA_padding_add_PKCS1_PSS_mgf1(m->rsa, em, l->in, l->md,
                                                 l->mgf1md != NULL ? l->mgf1md : l->md,
                                                 l->saltlen) == 1;
    default:
        return 0;
    }
}

void uo_mb_rsa_sign(UO_MB_LANE *const lanes[], unsigned int n, UO_MB_STATS *st)
{
    const struct rsa_material *m0 = lanes[0]->key->material;
    const unsigned int bits = lanes[0]->key->bits;
    const size_t k = bits / 8;
    const int8u *from[UO_MB_LANES] = { NULL };
    int8u *to[UO_MB_LANES] = { NULL }, *back[UO_MB_LANES] = { NULL };
    const int64u *p[UO_MB_LANES] = { NULL }, *q[UO_MB_LANES] = { NULL };
    const int64u *dp[UO_MB_LANES] = { NULL }, *dq[UO_MB_LANES] = { NULL };
    const int64u *qinv[UO_MB_LANES] = { NULL }, *mod[UO_MB_LANES] = { NULL };
    unsigned char *work, *em, *sig, *chk, *scratch;
    size_t scratchlen, worklen;
    int crtlen = mbx_RSA_Method_BufSize(m0->crt), publen = mbx_RSA_Method_BufSize(m0->pub);
    unsigned int i, prepared = 0;
    mbx_status sts;

    if (crtlen <= 0 || publen <= 0)
        return;
    scratchlen = (size_t)(crtlen > publen ? crtlen : publen);
    worklen = 3 * UO_MB_LANES * k + scratchlen;
    if ((work = OPENSSL_malloc(worklen)) == NULL)
        return;
    em = work;
    sig = em + UO_MB_LANES * k;
    chk = sig + UO_MB_LANES * k;
    scratch = chk + UO_MB_LANES * k;

    /* Lanes left NULL are reported by crypto_mb as MBX_STATUS_NULL_PARAM_ERR and never touched. */
    for (i = 0; i < n; i++) {
        const UO_MB_LANE *l = lanes[i];
        const struct rsa_material *m = l->key->material;

        if (l->key->bits != bits || m == NULL || l->out == NULL || l->outlen < k
            || !encode(l, m, em + i * k, k))
            continue;
        from[i] = em + i * k;
        to[i] = sig + i * k;
        back[i] = chk + i * k;
        p[i] = m->p;
        q[i] = m->q;
        dp[i] = m->dp;
        dq[i] = m->dq;
        qinv[i] = m->qinv;
        mod[i] = m->n;
        prepared++;
    }
    if (prepared == 0)
        goto end;

    sts = mbx_rsa_private_crt_mb8(from, to, p, q, dp, dq, qinv, (int)bits, m0->crt, scratch);
    for (i = 0; i < n; i++)
        if (from[i] != NULL && MBX_GET_STS(sts, (int)i) != MBX_STATUS_OK)
            from[i] = to[i] = NULL;
    if (from[0] != NULL && uo_mb_test_fault())
        sig[k / 2] ^= 0xff;

    sts = mbx_rsa_public_mb8((const int8u *const *)to, back, mod, (int)bits, m0->pub, scratch);
    for (i = 0; i < n; i++) {
        UO_MB_LANE *l = lanes[i];

        if (from[i] == NULL || MBX_GET_STS(sts, (int)i) != MBX_STATUS_OK)
            continue;
        if (CRYPTO_memcmp(back[i], from[i], k) != 0) {
            atomic_fetch_add(&st->faults, 1);
            continue;
        }
        memcpy(l->out, to[i], k);
        l->outlen = k;
        l->status = 1;
    }
 end:
    OPENSSL_clear_free(work, worklen);
}

#endif /* UO_HAVE_CRYPTO_MB */

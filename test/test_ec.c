/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_ec.c - EC, X25519/X448 and Ed25519/Ed448 through uringprov, differential against the
 * default provider.
 *
 * Every curve the default provider's EC keymgmt knows is tried: where the default provider makes a
 * key, uringprov must too, and the two must agree on every parameter, on ECDH secrets byte for byte
 * and on each other's ECDSA signatures; where it refuses, uringprov must refuse. Deterministic
 * outputs (ECDH, X25519/X448 secrets, EdDSA signatures) are compared byte for byte, and also
 * against the RFC 7748 and RFC 8032 test vectors. The same operations run inside ASYNC jobs, where each
 * one must pause its job and grow the offloaded counter; size queries must do neither.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/provider.h>
#include <openssl/ssl.h>

#include "helpers/uo_test.h"

static OSSL_LIB_CTX *uo;   /* uringprov preferred */
static OSSL_LIB_CTX *ref;  /* the default provider alone */

static void setup(void)
{
    uo = uot_libctx_new(NULL);
    ref = uot_default_libctx_new();
    ck_assert_ptr_nonnull(uo);
    ck_assert_ptr_nonnull(ref);
}

static void teardown(void)
{
    OSSL_LIB_CTX_free(uo);
    OSSL_LIB_CTX_free(ref);
}

/* ---- helpers ------------------------------------------------------------------------------- */

static uint64_t offloaded(void)
{
    return uot_counter(uo, "uringprov-offloaded");
}

/* Signs tbs with pk (no digest set unless md), through libctx. 1 on success. */
static int sign_raw(OSSL_LIB_CTX *libctx, EVP_PKEY *pk, const char *md, const unsigned char *tbs,
                    size_t tbslen, unsigned char *sig, size_t *siglen)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(libctx, pk, NULL);
    OSSL_PARAM p[2] = { OSSL_PARAM_END, OSSL_PARAM_END };
    int ok;

    if (md != NULL)
        p[0] = OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, (char *)md, 0);
    ok = ctx != NULL && EVP_PKEY_sign_init_ex(ctx, p) > 0
         && EVP_PKEY_sign(ctx, sig, siglen, tbs, tbslen) > 0;
    EVP_PKEY_CTX_free(ctx);
    ERR_clear_error();
    return ok;
}

static int verify_raw(OSSL_LIB_CTX *libctx, EVP_PKEY *pk, const char *md, const unsigned char *tbs,
                      size_t tbslen, const unsigned char *sig, size_t siglen)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(libctx, pk, NULL);
    OSSL_PARAM p[2] = { OSSL_PARAM_END, OSSL_PARAM_END };
    int ok;

    if (md != NULL)
        p[0] = OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, (char *)md, 0);
    ok = ctx != NULL && EVP_PKEY_verify_init_ex(ctx, p) > 0
         && EVP_PKEY_verify(ctx, sig, siglen, tbs, tbslen) == 1;
    EVP_PKEY_CTX_free(ctx);
    ERR_clear_error();
    return ok;
}

/* Derives from priv and peer through libctx with optional context params. 1 on success. */
static int derive(OSSL_LIB_CTX *libctx, EVP_PKEY *priv, EVP_PKEY *peer, const OSSL_PARAM *params,
                  unsigned char *out, size_t *outlen)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(libctx, priv, NULL);
    int ok = ctx != NULL && EVP_PKEY_derive_init_ex(ctx, params) > 0
             && EVP_PKEY_derive_set_peer(ctx, peer) > 0
             && EVP_PKEY_derive(ctx, out, outlen) > 0;

    EVP_PKEY_CTX_free(ctx);
    ERR_clear_error();
    return ok;
}

/* One-shot EdDSA sign through a fresh digest-sign context. */
static int ed_sign(OSSL_LIB_CTX *libctx, EVP_PKEY *pk, const unsigned char *msg, size_t msglen,
                   unsigned char *sig, size_t *siglen)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md != NULL && EVP_DigestSignInit_ex(md, NULL, NULL, libctx, NULL, pk, NULL) > 0
             && EVP_DigestSign(md, sig, siglen, msg, msglen) > 0;

    EVP_MD_CTX_free(md);
    ERR_clear_error();
    return ok;
}

static int ed_verify(OSSL_LIB_CTX *libctx, EVP_PKEY *pk, const unsigned char *msg, size_t msglen,
                     const unsigned char *sig, size_t siglen)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md != NULL && EVP_DigestVerifyInit_ex(md, NULL, NULL, libctx, NULL, pk, NULL) > 0
             && EVP_DigestVerify(md, sig, siglen, msg, msglen) == 1;

    EVP_MD_CTX_free(md);
    ERR_clear_error();
    return ok;
}

static size_t unhex(const char *hex, unsigned char *out, size_t cap)
{
    size_t n = 0;
    unsigned int b;

    for (; hex[0] != '\0' && hex[1] != '\0' && n < cap; hex += 2) {
        ck_assert_int_eq(sscanf(hex, "%2x", &b), 1);
        out[n++] = (unsigned char)b;
    }
    return n;
}

/* Every curve the EC keymgmt could be asked for, by short name. */
static size_t curve_names(const char ***names)
{
    size_t n = EC_get_builtin_curves(NULL, 0), i;
    EC_builtin_curve *c = OPENSSL_malloc(n * sizeof(*c));
    const char **v = OPENSSL_malloc(n * sizeof(*v));

    ck_assert_ptr_nonnull(c);
    ck_assert_ptr_nonnull(v);
    ck_assert_uint_eq(EC_get_builtin_curves(c, n), n);
    for (i = 0; i < n; i++)
        v[i] = OBJ_nid2sn(c[i].nid);
    OPENSSL_free(c);
    *names = v;
    return n;
}

static const unsigned char tbs20[20] = "uringprov ecdsa tbs";

/* ---- EC: every curve, synchronously -------------------------------------------------------- */

/* Compares what both keys report for one integer parameter. */
static void same_int_param(EVP_PKEY *a, EVP_PKEY *b, const char *name, const char *curve)
{
    int va = -1, vb = -2;

    ck_assert_msg(EVP_PKEY_get_int_param(a, name, &va) == EVP_PKEY_get_int_param(b, name, &vb),
                  "%s: %s availability differs", curve, name);
    ERR_clear_error();
    if (va >= 0 || vb >= 0)
        ck_assert_msg(va == vb, "%s: %s %d != %d", curve, name, va, vb);
}

static void same_utf8_param(EVP_PKEY *a, EVP_PKEY *b, const char *name, const char *curve)
{
    char sa[80] = "", sb[80] = "";
    int ra = EVP_PKEY_get_utf8_string_param(a, name, sa, sizeof(sa), NULL);
    int rb = EVP_PKEY_get_utf8_string_param(b, name, sb, sizeof(sb), NULL);

    ERR_clear_error();
    ck_assert_msg(ra == rb, "%s: %s availability differs", curve, name);
    ck_assert_msg(strcmp(sa, sb) == 0, "%s: %s '%s' != '%s'", curve, name, sa, sb);
}

START_TEST(ec_every_curve)
{
    const char **names;
    size_t n = curve_names(&names), i, served = 0, compared = 0;
    int p256 = 0, p521 = 0, k1 = 0, bp = 0, binary = 0;

    for (i = 0; i < n; i++) {
        const char *curve = names[i];
        EVP_PKEY *rk = EVP_PKEY_Q_keygen(ref, NULL, "EC", curve);
        EVP_PKEY *uk = EVP_PKEY_Q_keygen(uo, NULL, "EC", curve);
        EVP_PKEY *u_in_r, *r_in_u;
        unsigned char sig[256], s1[256], s2[256];
        size_t siglen = sizeof(sig), l1 = sizeof(s1), l2 = sizeof(s2);
        int rs, us;

        ERR_clear_error();
        ck_assert_msg((rk != NULL) == (uk != NULL), "%s: keygen default %s, uringprov %s", curve,
                      rk ? "ok" : "fails", uk ? "ok" : "fails");
        if (rk == NULL)
            continue;
        served++;
        p256 |= strcmp(curve, "prime256v1") == 0;
        p521 |= strcmp(curve, "secp521r1") == 0;
        k1 |= strcmp(curve, "secp256k1") == 0;
        bp |= strcmp(curve, "brainpoolP384r1") == 0;
        binary |= strncmp(curve, "sect", 4) == 0;
        ck_assert_msg(uot_held_by_uo(uk), "%s: key not held by uringprov", curve);

        ck_assert_int_eq(EVP_PKEY_get_bits(uk), EVP_PKEY_get_bits(rk));
        ck_assert_int_eq(EVP_PKEY_get_security_bits(uk), EVP_PKEY_get_security_bits(rk));
        ck_assert_int_eq(EVP_PKEY_get_size(uk), EVP_PKEY_get_size(rk));
        same_utf8_param(uk, rk, OSSL_PKEY_PARAM_GROUP_NAME, curve);
        same_utf8_param(uk, rk, OSSL_PKEY_PARAM_EC_FIELD_TYPE, curve);
        same_utf8_param(uk, rk, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, curve);
        same_utf8_param(uk, rk, OSSL_PKEY_PARAM_EC_ENCODING, curve);
        same_int_param(uk, rk, OSSL_PKEY_PARAM_USE_COFACTOR_ECDH, curve);

        /*
         * Our export feeds the default import, and the other way round. The EC keymgmt makes
         * keys on the SM2 curve but imports none (SM2 keys have their own keymgmt): where the
         * default provider cannot even re-import its own key, there is nothing to compare.
         */
        u_in_r = uot_transfer(uk, ref, EVP_PKEY_KEYPAIR);
        r_in_u = uot_transfer(rk, uo, EVP_PKEY_KEYPAIR);
        {
            EVP_PKEY *r_in_r = uot_transfer(rk, ref, EVP_PKEY_KEYPAIR);

            ERR_clear_error();
            ck_assert_msg((u_in_r != NULL) == (r_in_r != NULL)
                              && (r_in_u != NULL) == (r_in_r != NULL),
                          "%s: transfer differs from the default provider's own", curve);
            EVP_PKEY_free(r_in_r);
        }
        if (u_in_r == NULL) {
            EVP_PKEY_free(uk);
            EVP_PKEY_free(rk);
            continue;
        }
        compared++;
        ck_assert(uot_held_by_uo(r_in_u));
        ck_assert_int_eq(EVP_PKEY_eq(uk, u_in_r), 1);
        ck_assert_int_eq(EVP_PKEY_eq(r_in_u, rk), 1);
        ck_assert_int_eq(EVP_PKEY_eq(uk, r_in_u), 0);

        /* ECDSA of 20 bytes with no digest (openssl speed), verified across providers. */
        us = sign_raw(uo, uk, NULL, tbs20, sizeof(tbs20), sig, &siglen);
        rs = sign_raw(ref, u_in_r, NULL, tbs20, sizeof(tbs20), s1, &l1);
        ck_assert_msg(us == rs, "%s: ECDSA sign default %d, uringprov %d", curve, rs, us);
        if (us) {
            ck_assert_msg(verify_raw(ref, u_in_r, NULL, tbs20, sizeof(tbs20), sig, siglen),
                          "%s: default rejects uringprov's signature", curve);
            ck_assert_msg(verify_raw(uo, uk, NULL, tbs20, sizeof(tbs20), s1, l1),
                          "%s: uringprov rejects the default's signature", curve);
            sig[siglen / 2] ^= 0x40;
            ck_assert_msg(!verify_raw(uo, uk, NULL, tbs20, sizeof(tbs20), sig, siglen),
                          "%s: uringprov accepts a corrupted signature", curve);
        }

        /* ECDH: A(uringprov) with B(default) equals the default's own result. */
        us = derive(uo, uk, r_in_u, NULL, s1, &l1);
        rs = derive(ref, rk, u_in_r, NULL, s2, &l2);
        ck_assert_msg(us == rs, "%s: ECDH default %d, uringprov %d", curve, rs, us);
        if (us) {
            ck_assert_uint_eq(l1, l2);
            ck_assert_msg(memcmp(s1, s2, l1) == 0, "%s: ECDH secrets differ", curve);
        }
        EVP_PKEY_free(u_in_r);
        EVP_PKEY_free(r_in_u);
        EVP_PKEY_free(uk);
        EVP_PKEY_free(rk);
    }
    printf("ec_every_curve: %zu of %zu built-in curves served, %zu compared across providers\n",
           served, n, compared);
    OPENSSL_free(names);
    ck_assert_msg(p256 && p521 && k1 && bp, "a well-known curve was not served");
#ifndef OPENSSL_NO_EC2M
    ck_assert_msg(binary, "no binary curve was served");
#endif
    ck_assert_uint_ge(served, 30);
}
END_TEST

/* ---- EC key parameters, import/export, validate, match, dup ---------------------------------- */

static const char *const main_curves[] = { "P-256", "P-384", "P-521", "secp256k1",
                                           "brainpoolP384r1" };

static void same_octets(EVP_PKEY *a, EVP_PKEY *b, const char *name)
{
    unsigned char ba[300], bb[300];
    size_t la = 0, lb = 0, q = 0;

    ck_assert_msg(EVP_PKEY_get_octet_string_param(a, name, NULL, 0, &q), "%s size query", name);
    ck_assert_msg(EVP_PKEY_get_octet_string_param(a, name, ba, sizeof(ba), &la), "%s", name);
    ck_assert_msg(EVP_PKEY_get_octet_string_param(b, name, bb, sizeof(bb), &lb), "%s", name);
    ck_assert_uint_eq(q, la);
    ck_assert_uint_eq(la, lb);
    ck_assert_msg(memcmp(ba, bb, la) == 0, "%s differs", name);
}

static void same_bn(EVP_PKEY *a, EVP_PKEY *b, const char *name)
{
    BIGNUM *x = NULL, *y = NULL;

    ck_assert_msg(EVP_PKEY_get_bn_param(a, name, &x) && EVP_PKEY_get_bn_param(b, name, &y), "%s",
                  name);
    ck_assert_msg(BN_cmp(x, y) == 0, "%s differs", name);
    BN_clear_free(x);
    BN_clear_free(y);
}

START_TEST(ec_key_params)
{
    const char *curve = main_curves[_i];
    EVP_PKEY *uk = EVP_PKEY_Q_keygen(uo, NULL, "EC", curve);
    EVP_PKEY *rk, *pub_u, *pub_r, *other, *far, *dup, *back;
    char name[64], rname[64];
    unsigned char enc[200], sig[200];
    size_t enclen = 0, siglen = sizeof(sig);
    BIO *bio;

    ck_assert(uot_held_by_uo(uk));
    rk = uot_transfer(uk, ref, EVP_PKEY_KEYPAIR);
    ck_assert_ptr_nonnull(rk);

    /* Components: what the default provider reads from our export, we report directly. */
    same_octets(uk, rk, OSSL_PKEY_PARAM_PUB_KEY);
    same_octets(uk, rk, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY);
    same_bn(uk, rk, OSSL_PKEY_PARAM_PRIV_KEY);
    same_bn(uk, rk, OSSL_PKEY_PARAM_EC_PUB_X);
    same_bn(uk, rk, OSSL_PKEY_PARAM_EC_PUB_Y);
    ck_assert_int_eq(EVP_PKEY_get_default_digest_name(uk, name, sizeof(name)),
                     EVP_PKEY_get_default_digest_name(rk, rname, sizeof(rname)));
    ck_assert_str_eq(name, rname);
    ck_assert_str_eq(name, "SHA256");

    /* encoded-pub-key with a NULL buffer is a size query (libssl sizes key shares with it). */
    ck_assert_int_eq(EVP_PKEY_get_octet_string_param(uk, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
                                                     NULL, 0, &enclen), 1);
    ck_assert_uint_eq(enclen, 1 + 2 * (size_t)((EVP_PKEY_get_bits(uk) + 7) / 8));

    /*
     * Point format is settable; in OpenSSL 3.0 it changes "pub" but not encoded-pub-key (always
     * uncompressed). Whatever the default provider does, we do.
     */
    ck_assert(EVP_PKEY_set_utf8_string_param(uk, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                             "compressed"));
    ck_assert(EVP_PKEY_set_utf8_string_param(rk, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                             "compressed"));
    same_octets(uk, rk, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY);
    same_octets(uk, rk, OSSL_PKEY_PARAM_PUB_KEY);
    same_utf8_param(uk, rk, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, curve);
    ck_assert(EVP_PKEY_get_octet_string_param(uk, OSSL_PKEY_PARAM_PUB_KEY, enc, sizeof(enc),
                                              &enclen));
    ck_assert_uint_eq(enclen, 1 + (size_t)((EVP_PKEY_get_bits(uk) + 7) / 8));
    ck_assert(EVP_PKEY_set_utf8_string_param(uk, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                             "uncompressed"));
    ck_assert(EVP_PKEY_set_int_param(uk, OSSL_PKEY_PARAM_USE_COFACTOR_ECDH, 1));

    /* Public-only keys: imported from the default provider's export of our key. */
    pub_r = uot_transfer(uk, ref, EVP_PKEY_PUBLIC_KEY);
    pub_u = uot_transfer(pub_r, uo, EVP_PKEY_PUBLIC_KEY);
    ck_assert(uot_held_by_uo(pub_u));
    ck_assert_int_eq(EVP_PKEY_eq(uk, pub_u), 1);
    ck_assert_int_eq(EVP_PKEY_parameters_eq(uk, pub_u), 1);

    /* validate: the same answers as the default provider, key pair and public-only. */
    {
        EVP_PKEY *keys_u[2] = { uk, pub_u }, *keys_r[2] = { rk, pub_r };
        int k;

        for (k = 0; k < 2; k++) {
            EVP_PKEY_CTX *cu = EVP_PKEY_CTX_new_from_pkey(uo, keys_u[k], NULL);
            EVP_PKEY_CTX *cr = EVP_PKEY_CTX_new_from_pkey(ref, keys_r[k], NULL);

            ck_assert_int_eq(EVP_PKEY_public_check(cu), EVP_PKEY_public_check(cr));
            ck_assert_int_eq(EVP_PKEY_public_check_quick(cu), EVP_PKEY_public_check_quick(cr));
            ck_assert_int_eq(EVP_PKEY_param_check(cu), EVP_PKEY_param_check(cr));
            ck_assert_int_eq(EVP_PKEY_private_check(cu) == 1, EVP_PKEY_private_check(cr) == 1);
            ck_assert_int_eq(EVP_PKEY_pairwise_check(cu) == 1, EVP_PKEY_pairwise_check(cr) == 1);
            ck_assert_int_eq(EVP_PKEY_check(cu) == 1, EVP_PKEY_check(cr) == 1);
            ck_assert_int_eq(EVP_PKEY_public_check(cu), 1);
            if (k == 0)
                ck_assert_int_eq(EVP_PKEY_check(cu), 1);
            EVP_PKEY_CTX_free(cu);
            EVP_PKEY_CTX_free(cr);
            ERR_clear_error();
        }
    }

    /* match */
    other = EVP_PKEY_Q_keygen(uo, NULL, "EC", curve);
    far = EVP_PKEY_Q_keygen(uo, NULL, "EC", strcmp(curve, "P-256") == 0 ? "P-384" : "P-256");
    ck_assert_int_eq(EVP_PKEY_eq(uk, other), 0);
    ck_assert_int_eq(EVP_PKEY_parameters_eq(uk, other), 1);
    ck_assert_int_ne(EVP_PKEY_parameters_eq(uk, far), 1);
    ERR_clear_error();

    /* dup (all) signs; the default provider verifies. */
    dup = EVP_PKEY_dup(uk);
    ck_assert(uot_held_by_uo(dup));
    memset(enc, 7, 32);
    ck_assert(sign_raw(uo, dup, "SHA256", enc, 32, sig, &siglen));
    ck_assert(verify_raw(ref, rk, "SHA256", enc, 32, sig, siglen));

    /*
     * PEM through the default provider's encoders and decoders: the decoded key may stay the
     * default provider's, and is then exported to us when an operation starts.
     */
    bio = BIO_new(BIO_s_mem());
    ck_assert(PEM_write_bio_PrivateKey(bio, uk, NULL, NULL, 0, NULL, NULL));
    back = PEM_read_bio_PrivateKey_ex(bio, NULL, NULL, NULL, uo, NULL);
    ck_assert_ptr_nonnull(back);
    ck_assert_int_eq(EVP_PKEY_eq(back, uk), 1);
    siglen = sizeof(sig);
    ck_assert(sign_raw(uo, back, "SHA256", enc, 32, sig, &siglen)); /* imported at init */
    ck_assert(verify_raw(uo, uk, "SHA256", enc, 32, sig, siglen));
    BIO_free(bio);

    EVP_PKEY_free(back);
    EVP_PKEY_free(dup);
    EVP_PKEY_free(far);
    EVP_PKEY_free(other);
    EVP_PKEY_free(pub_u);
    EVP_PKEY_free(pub_r);
    EVP_PKEY_free(rk);
    EVP_PKEY_free(uk);
}
END_TEST

/*
 * libssl's key-share paths: parameter generation by group name, keygen from that template (also
 * openssl speed's way), EVP_PKEY_copy_parameters into a blank key, and the peer's encoded public
 * key set on it. The secret must equal the default provider's.
 */
static void key_share_roundtrip(const char *alg, const char *group)
{
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(uo, alg, NULL);
    EVP_PKEY *params = NULL, *mine = NULL, *blank, *peer_r, *mine_r;
    EVP_PKEY_CTX *kctx;
    unsigned char *enc = NULL, s1[200], s2[200], want[200];
    size_t enclen, l1 = sizeof(s1), l2 = sizeof(s2), wantlen = sizeof(want);

    ck_assert_ptr_nonnull(pctx);
    ck_assert_int_gt(EVP_PKEY_paramgen_init(pctx), 0);
    if (group != NULL)
        ck_assert_int_gt(EVP_PKEY_CTX_set_group_name(pctx, group), 0);
    ck_assert_int_gt(EVP_PKEY_paramgen(pctx, &params), 0);
    ck_assert(uot_held_by_uo(params));
    ck_assert_int_eq(EVP_PKEY_missing_parameters(params), 0);
    kctx = EVP_PKEY_CTX_new_from_pkey(uo, params, NULL);
    ck_assert_int_gt(EVP_PKEY_keygen_init(kctx), 0);
    ck_assert_int_gt(EVP_PKEY_keygen(kctx, &mine), 0);
    ck_assert(uot_held_by_uo(mine));
    ck_assert_int_eq(EVP_PKEY_parameters_eq(mine, params), 1);

    /* The peer (default provider) sends its encoded public key. */
    peer_r = group != NULL ? EVP_PKEY_Q_keygen(ref, NULL, alg, group)
                           : EVP_PKEY_Q_keygen(ref, NULL, alg);
    ck_assert_ptr_nonnull(peer_r);
    enclen = EVP_PKEY_get1_encoded_public_key(peer_r, &enc);
    ck_assert_uint_gt(enclen, 0);

    /* What the default provider derives from the peer's side. */
    mine_r = uot_transfer(mine, ref, EVP_PKEY_KEYPAIR);
    ck_assert(derive(ref, peer_r, mine_r, NULL, want, &wantlen));

    /* As libssl's TLS 1.3 client: copy our parameters into a blank key, set the peer's point. */
    blank = EVP_PKEY_new();
    ck_assert_int_eq(EVP_PKEY_copy_parameters(blank, mine), 1);
    ck_assert_int_eq(EVP_PKEY_set1_encoded_public_key(blank, enc, enclen), 1);
    ck_assert(uot_held_by_uo(blank));
    ck_assert(derive(uo, mine, blank, NULL, s1, &l1));
    ck_assert_uint_eq(l1, wantlen);
    ck_assert_mem_eq(s1, want, wantlen);

    /* As its server and TLS 1.2 client: a parameters-only key from paramgen takes the point. */
    ck_assert_int_eq(EVP_PKEY_set1_encoded_public_key(params, enc, enclen), 1);
    ck_assert(derive(uo, mine, params, NULL, s2, &l2));
    ck_assert_uint_eq(l2, wantlen);
    ck_assert_mem_eq(s2, want, wantlen);

    OPENSSL_free(enc);
    EVP_PKEY_free(mine_r);
    EVP_PKEY_free(peer_r);
    EVP_PKEY_free(blank);
    EVP_PKEY_free(mine);
    EVP_PKEY_free(params);
    EVP_PKEY_CTX_free(kctx);
    EVP_PKEY_CTX_free(pctx);
}

START_TEST(key_shares)
{
    static const struct { const char *alg, *group; } shares[] = {
        { "EC", "P-256" }, { "EC", "P-384" }, { "EC", "P-521" }, { "EC", "brainpoolP256r1" },
        { "X25519", NULL }, { "X448", NULL },
    };

    key_share_roundtrip(shares[_i].alg, shares[_i].group);
}
END_TEST

/* ---- ECDSA with digests, digest sign/verify, dupctx ---------------------------------------- */

START_TEST(ecdsa_digests)
{
    const char *curve = main_curves[_i];
    EVP_PKEY *uk = EVP_PKEY_Q_keygen(uo, NULL, "EC", curve), *rk;
    unsigned char dgst[48], sig[200], sig2[200], rsig[200];
    size_t siglen = sizeof(sig), sig2len = sizeof(sig2), rsiglen = sizeof(rsig), q = 0;
    static const unsigned char msg[] = "the quick brown fox jumps over the lazy dog, twice over";
    EVP_MD_CTX *md = EVP_MD_CTX_new(), *copy = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    char dname[32] = "";
    OSSL_PARAM gp[2];

    ck_assert(uot_held_by_uo(uk));
    rk = uot_transfer(uk, ref, EVP_PKEY_KEYPAIR);
    memset(dgst, 0x5a, sizeof(dgst));

    /* A digest set on the context: the input is a SHA-384 digest. */
    ck_assert(sign_raw(uo, uk, "SHA384", dgst, 48, sig, &siglen));
    ck_assert(verify_raw(ref, rk, "SHA384", dgst, 48, sig, siglen));
    ck_assert(sign_raw(ref, rk, "SHA384", dgst, 48, rsig, &rsiglen));
    ck_assert(verify_raw(uo, uk, "SHA384", dgst, 48, rsig, rsiglen));
    ck_assert(!sign_raw(uo, uk, "SHA384", dgst, 20, sig2, &sig2len)); /* wrong length, as default */
    ck_assert(!sign_raw(ref, rk, "SHA384", dgst, 20, sig2, &sig2len));

    /* Size query: the largest DER signature, as the default provider says, and no offload. */
    {
        EVP_PKEY_CTX *cu = EVP_PKEY_CTX_new_from_pkey(uo, uk, NULL);
        EVP_PKEY_CTX *cr = EVP_PKEY_CTX_new_from_pkey(ref, rk, NULL);
        size_t qu = 0, qr = 0;

        ck_assert(EVP_PKEY_sign_init(cu) > 0 && EVP_PKEY_sign(cu, NULL, &qu, dgst, 32) > 0);
        ck_assert(EVP_PKEY_sign_init(cr) > 0 && EVP_PKEY_sign(cr, NULL, &qr, dgst, 32) > 0);
        ck_assert_uint_eq(qu, qr);
        ck_assert_uint_eq(qu, (size_t)EVP_PKEY_get_size(uk));
        /* Context parameters pass through: the digest set reads back. */
        gp[0] = OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, "SHA512", 0);
        gp[1] = OSSL_PARAM_construct_end();
        ck_assert(EVP_PKEY_CTX_set_params(cu, gp));
        gp[0] = OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, dname,
                                                 sizeof(dname));
        gp[1] = OSSL_PARAM_construct_end();
        ck_assert(EVP_PKEY_CTX_get_params(cu, gp));
        ck_assert(strcmp(dname, "SHA512") == 0 || strcmp(dname, "SHA2-512") == 0);
        EVP_PKEY_CTX_free(cu);
        EVP_PKEY_CTX_free(cr);
    }

    /* Digest sign in pieces; a copy mid-stream (dupctx) finishes the same message. */
    ck_assert_int_gt(EVP_DigestSignInit_ex(md, &pctx, "SHA256", uo, NULL, uk, NULL), 0);
    ck_assert_int_gt(EVP_DigestSignUpdate(md, msg, 10), 0);
    ck_assert_int_gt(EVP_MD_CTX_copy_ex(copy, md), 0);
    ck_assert_int_gt(EVP_DigestSignUpdate(md, msg + 10, sizeof(msg) - 10), 0);
    ck_assert_int_gt(EVP_DigestSignUpdate(copy, msg + 10, sizeof(msg) - 10), 0);
    ck_assert_int_gt(EVP_DigestSignFinal(md, NULL, &q), 0);
    siglen = sizeof(sig);
    sig2len = sizeof(sig2);
    ck_assert_int_gt(EVP_DigestSignFinal(md, sig, &siglen), 0);
    ck_assert_int_gt(EVP_DigestSignFinal(copy, sig2, &sig2len), 0);
    ck_assert_uint_le(siglen, q);

    /* The default provider verifies both; ours verifies the default's, and rejects a tamper. */
    ck_assert_int_eq(EVP_DigestVerifyInit_ex(md, NULL, "SHA256", ref, NULL, rk, NULL), 1);
    ck_assert_int_eq(EVP_DigestVerify(md, sig, siglen, msg, sizeof(msg)), 1);
    ck_assert_int_eq(EVP_DigestVerifyInit_ex(md, NULL, "SHA256", ref, NULL, rk, NULL), 1);
    ck_assert_int_eq(EVP_DigestVerify(md, sig2, sig2len, msg, sizeof(msg)), 1);
    rsiglen = sizeof(rsig);
    ck_assert_int_eq(EVP_DigestSignInit_ex(md, NULL, "SHA256", ref, NULL, rk, NULL), 1);
    ck_assert_int_eq(EVP_DigestSign(md, rsig, &rsiglen, msg, sizeof(msg)), 1);
    ck_assert_int_eq(EVP_DigestVerifyInit_ex(md, NULL, "SHA256", uo, NULL, uk, NULL), 1);
    ck_assert_int_eq(EVP_DigestVerifyUpdate(md, msg, 5), 1);
    ck_assert_int_eq(EVP_DigestVerifyUpdate(md, msg + 5, sizeof(msg) - 5), 1);
    ck_assert_int_eq(EVP_DigestVerifyFinal(md, rsig, rsiglen), 1);
    ck_assert_int_eq(EVP_DigestVerifyInit_ex(md, NULL, "SHA256", uo, NULL, uk, NULL), 1);
    ck_assert_int_ne(EVP_DigestVerify(md, rsig, rsiglen, msg, sizeof(msg) - 1), 1);
    ERR_clear_error();

    /* Re-init with no key keeps key and digest; each round's signature verifies. */
    ck_assert_int_eq(EVP_DigestSignInit_ex(copy, NULL, "SHA384", uo, NULL, uk, NULL), 1);
    for (int round = 0; round < 3; round++) {
        if (round > 0)
            ck_assert_int_eq(EVP_DigestSignInit(copy, NULL, NULL, NULL, NULL), 1);
        ck_assert_int_eq(EVP_DigestSignUpdate(copy, msg, sizeof(msg)), 1);
        siglen = sizeof(sig);
        ck_assert_int_eq(EVP_DigestSignFinal(copy, sig, &siglen), 1);
        ck_assert_int_eq(EVP_DigestVerifyInit_ex(md, NULL, "SHA384", ref, NULL, rk, NULL), 1);
        ck_assert_int_eq(EVP_DigestVerify(md, sig, siglen, msg, sizeof(msg)), 1);
    }

    EVP_MD_CTX_free(copy);
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(rk);
    EVP_PKEY_free(uk);
}
END_TEST

/* ---- ECDH: cofactor mode, X9.63 KDF, truncation, set_peer checks --------------------------- */

static void ecdh_case(const char *curve, int cofactor, const char *kdf_md, size_t kdf_outlen)
{
    EVP_PKEY *a = EVP_PKEY_Q_keygen(uo, NULL, "EC", curve), *b = EVP_PKEY_Q_keygen(ref, NULL, "EC",
                                                                                   curve);
    EVP_PKEY *a_r = uot_transfer(a, ref, EVP_PKEY_KEYPAIR), *b_u = uot_transfer(b, uo, EVP_PKEY_KEYPAIR);
    unsigned char ukm[] = "shared info", s1[128], s2[128];
    size_t l1 = sizeof(s1), l2 = sizeof(s2);
    OSSL_PARAM p[6];
    int n = 0;

    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b_u);
    p[n++] = OSSL_PARAM_construct_int(OSSL_EXCHANGE_PARAM_EC_ECDH_COFACTOR_MODE, &cofactor);
    if (kdf_md != NULL) {
        p[n++] = OSSL_PARAM_construct_utf8_string(OSSL_EXCHANGE_PARAM_KDF_TYPE, "X963KDF", 0);
        p[n++] = OSSL_PARAM_construct_utf8_string(OSSL_EXCHANGE_PARAM_KDF_DIGEST, (char *)kdf_md,
                                                  0);
        p[n++] = OSSL_PARAM_construct_size_t(OSSL_EXCHANGE_PARAM_KDF_OUTLEN, &kdf_outlen);
        p[n++] = OSSL_PARAM_construct_octet_string(OSSL_EXCHANGE_PARAM_KDF_UKM, ukm,
                                                   sizeof(ukm) - 1);
    }
    p[n] = OSSL_PARAM_construct_end();
    ck_assert_msg(derive(uo, a, b_u, p, s1, &l1), "%s: uringprov derive", curve);
    ck_assert_msg(derive(ref, a_r, b, p, s2, &l2), "%s: default derive", curve);
    ck_assert_uint_eq(l1, l2);
    if (kdf_md != NULL)
        ck_assert_uint_eq(l1, kdf_outlen);
    ck_assert_mem_eq(s1, s2, l1);

    /* The KDF parameters read back through the context. */
    if (kdf_md != NULL) {
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(uo, a, NULL);
        char type[32] = "", mdname[32] = "";
        size_t outlen = 0;
        int cof = -1;
        OSSL_PARAM g[5];

        ck_assert_int_gt(EVP_PKEY_derive_init_ex(ctx, p), 0);
        g[0] = OSSL_PARAM_construct_utf8_string(OSSL_EXCHANGE_PARAM_KDF_TYPE, type, sizeof(type));
        g[1] = OSSL_PARAM_construct_utf8_string(OSSL_EXCHANGE_PARAM_KDF_DIGEST, mdname,
                                                sizeof(mdname));
        g[2] = OSSL_PARAM_construct_size_t(OSSL_EXCHANGE_PARAM_KDF_OUTLEN, &outlen);
        g[3] = OSSL_PARAM_construct_int(OSSL_EXCHANGE_PARAM_EC_ECDH_COFACTOR_MODE, &cof);
        g[4] = OSSL_PARAM_construct_end();
        ck_assert_int_gt(EVP_PKEY_CTX_get_params(ctx, g), 0);
        ck_assert_str_eq(type, "X963KDF");
        {
            EVP_MD *want = EVP_MD_fetch(ref, kdf_md, NULL);

            ck_assert_msg(EVP_MD_is_a(want, mdname), "kdf-digest %s is not %s", mdname, kdf_md);
            EVP_MD_free(want);
        }
        ck_assert_uint_eq(outlen, kdf_outlen);
        ck_assert_int_eq(cof, cofactor);
        /* The legacy control helpers reach the same parameters. */
        ck_assert_int_gt(EVP_PKEY_CTX_set_ecdh_kdf_outlen(ctx, 20), 0);
        ck_assert_int_gt(EVP_PKEY_CTX_get_ecdh_kdf_outlen(ctx, &cof), 0);
        ck_assert_int_eq(cof, 20);
        ck_assert_int_gt(EVP_PKEY_CTX_set_ecdh_kdf_md(ctx, EVP_sha384()), 0);
        EVP_PKEY_CTX_free(ctx);
    }
    EVP_PKEY_free(a);
    EVP_PKEY_free(b);
    EVP_PKEY_free(a_r);
    EVP_PKEY_free(b_u);
}

START_TEST(ecdh_params)
{
    ecdh_case("P-256", 0, NULL, 0);
    ecdh_case("P-256", 1, "SHA256", 48);
    ecdh_case("P-384", 0, "SHA384", 100);
    ecdh_case("secp256k1", 1, "SHA1", 16);
#ifndef OPENSSL_NO_EC2M
    /* cofactor 2: cofactor mode changes the secret; both providers must agree on it. */
    ecdh_case("sect163k1", 1, NULL, 0);
    ecdh_case("sect163k1", 0, NULL, 0);
    ecdh_case("sect283k1", 1, "SHA512", 64);
#endif
}
END_TEST

START_TEST(ecdh_peer_and_sizes)
{
    EVP_PKEY *a = EVP_PKEY_Q_keygen(uo, NULL, "EC", "P-256");
    EVP_PKEY *b = EVP_PKEY_Q_keygen(uo, NULL, "EC", "P-256");
    EVP_PKEY *c = EVP_PKEY_Q_keygen(uo, NULL, "EC", "P-384");
    EVP_PKEY *x = EVP_PKEY_Q_keygen(uo, NULL, "X25519");
    EVP_PKEY *a_r = uot_transfer(a, ref, EVP_PKEY_KEYPAIR), *b_r = uot_transfer(b, ref, EVP_PKEY_KEYPAIR);
    EVP_PKEY *pub_b = uot_transfer(b, uo, EVP_PKEY_PUBLIC_KEY);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(uo, a, NULL), *rctx;
    unsigned char s[64], r[64];
    size_t len = 0, rlen;

    ck_assert_ptr_nonnull(pub_b);
    ck_assert_int_gt(EVP_PKEY_derive_init(ctx), 0);
    /* A peer on another curve, or of another type, is refused, as by the default provider. */
    ck_assert_int_le(EVP_PKEY_derive_set_peer(ctx, c), 0);
    ck_assert_int_le(EVP_PKEY_derive_set_peer(ctx, x), 0);
    ERR_clear_error();
    /* Derive before a peer: an error, not a crash, not an offload. */
    len = sizeof(s);
    ck_assert_int_le(EVP_PKEY_derive(ctx, s, &len), 0);
    ERR_clear_error();
    ck_assert_int_gt(EVP_PKEY_derive_set_peer(ctx, pub_b), 0);
    ck_assert_int_gt(EVP_PKEY_derive(ctx, NULL, &len), 0);
    ck_assert_uint_eq(len, 32);
    /* A short buffer truncates plain ECDH, in both providers alike. */
    len = 16;
    ck_assert_int_gt(EVP_PKEY_derive(ctx, s, &len), 0);
    ck_assert_uint_eq(len, 16);
    rctx = EVP_PKEY_CTX_new_from_pkey(ref, a_r, NULL);
    ck_assert_int_gt(EVP_PKEY_derive_init(rctx), 0);
    ck_assert_int_gt(EVP_PKEY_derive_set_peer(rctx, b_r), 0);
    rlen = 16;
    ck_assert_int_gt(EVP_PKEY_derive(rctx, r, &rlen), 0);
    ck_assert_uint_eq(rlen, 16);
    ck_assert_mem_eq(s, r, 16);
    /* A key exchange context copies (dupctx) with its peer. */
    {
        EVP_PKEY_CTX *d = EVP_PKEY_CTX_dup(ctx);

        ck_assert_ptr_nonnull(d);
        len = sizeof(s);
        ck_assert_int_gt(EVP_PKEY_derive(d, s, &len), 0);
        ck_assert_uint_eq(len, 32);
        EVP_PKEY_CTX_free(d);
    }
    /* A public-only key cannot derive. */
    EVP_PKEY_CTX_free(rctx);
    rctx = EVP_PKEY_CTX_new_from_pkey(uo, pub_b, NULL);
    ck_assert_int_le(EVP_PKEY_derive_init(rctx), 0);
    ERR_clear_error();

    EVP_PKEY_CTX_free(rctx);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(pub_b);
    EVP_PKEY_free(a_r);
    EVP_PKEY_free(b_r);
    EVP_PKEY_free(x);
    EVP_PKEY_free(c);
    EVP_PKEY_free(b);
    EVP_PKEY_free(a);
}
END_TEST

/* ---- X25519 / X448 ------------------------------------------------------------------------- */

/* RFC 7748 section 6: Alice's private key, Bob's public key, and their shared secret. */
static const struct {
    const char *alg, *alice_priv, *alice_pub, *bob_pub, *shared;
} rfc7748[] = {
    { "X25519",
      "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
      "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
      "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
      "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742" },
    { "X448",
      "9a8f4925d1519f5775cf46b04b5800d4ee9ee8bae8bc5565d498c28dd9c9baf574a9419744897391006382a6f1"
      "27ab1d9ac2d8c0a598726b",
      "9b08f7cc31b7e3e67d22d5aea121074a273bd2b83de09c63faa73d2c22c5d9bbc836647241d953d40c5b12da88"
      "120d53177f80e532c41fa0",
      "3eb7a829b0cd20f5bcfc0b599b6feccf6da4627107bdb0d4f345b43027d8b972fc3e34fb4232a13ca706dcb57a"
      "ec3dae07bdc1c67bf33609",
      "07fff4181ac6cc95ec1c16a94a0f74d12da232ce40a77552281d282bb60c0b56fd2464c335543936521c244030"
      "85d59a449a5037514a879d" },
};

START_TEST(ecx_exchange)
{
    const char *alg = rfc7748[_i].alg;
    unsigned char priv[56], pub[56], bobpub[56], shared[56], out[64], out2[64], raw[56];
    size_t privlen = unhex(rfc7748[_i].alice_priv, priv, sizeof(priv));
    size_t publen = unhex(rfc7748[_i].alice_pub, pub, sizeof(pub));
    size_t len = unhex(rfc7748[_i].shared, shared, sizeof(shared));
    size_t outlen = sizeof(out), l2, rawlen;
    EVP_PKEY *alice, *bob, *k1, *k2, *k1_r, *k2_r, *dup, *pubonly, *k2_u;
    EVP_PKEY_CTX *c;

    unhex(rfc7748[_i].bob_pub, bobpub, sizeof(bobpub));
    alice = EVP_PKEY_new_raw_private_key_ex(uo, alg, NULL, priv, privlen);
    bob = EVP_PKEY_new_raw_public_key_ex(uo, alg, NULL, bobpub, publen);
    ck_assert(uot_held_by_uo(alice) && uot_held_by_uo(bob));
    rawlen = sizeof(raw);
    ck_assert(EVP_PKEY_get_raw_public_key(alice, raw, &rawlen));
    ck_assert_uint_eq(rawlen, publen);
    ck_assert_mem_eq(raw, pub, publen);
    rawlen = sizeof(raw);
    ck_assert(EVP_PKEY_get_raw_private_key(alice, raw, &rawlen));
    ck_assert_mem_eq(raw, priv, privlen);
    ck_assert(derive(uo, alice, bob, NULL, out, &outlen));
    ck_assert_uint_eq(outlen, len);
    ck_assert_mem_eq(out, shared, len);

    /* Generated keys against the default provider, byte for byte. */
    k1 = EVP_PKEY_Q_keygen(uo, NULL, alg);
    k2 = EVP_PKEY_Q_keygen(ref, NULL, alg);
    ck_assert(uot_held_by_uo(k1));
    ck_assert_int_eq(EVP_PKEY_get_bits(k1), EVP_PKEY_get_bits(k2));
    ck_assert_int_eq(EVP_PKEY_get_security_bits(k1), EVP_PKEY_get_security_bits(k2));
    ck_assert_int_eq(EVP_PKEY_get_size(k1), EVP_PKEY_get_size(k2));
    k1_r = uot_transfer(k1, ref, EVP_PKEY_KEYPAIR);
    k2_r = uot_transfer(k2, ref, EVP_PKEY_PUBLIC_KEY);
    k2_u = uot_transfer(k2, uo, EVP_PKEY_PUBLIC_KEY);
    outlen = sizeof(out);
    l2 = sizeof(out2);
    ck_assert(derive(uo, k1, k2_u, NULL, out, &outlen));
    ck_assert(derive(ref, k2, k1_r, NULL, out2, &l2));
    ck_assert_uint_eq(outlen, l2);
    ck_assert_mem_eq(out, out2, l2);
    /* Against a peer key that the default provider holds (exported to us at set_peer). */
    outlen = sizeof(out);
    ck_assert(derive(uo, k1, k2_r, NULL, out, &outlen));
    ck_assert_mem_eq(out, out2, l2);

    /* A buffer shorter than the secret is refused, as by the default provider. */
    c = EVP_PKEY_CTX_new_from_pkey(uo, k1, NULL);
    ck_assert(EVP_PKEY_derive_init(c) > 0 && EVP_PKEY_derive_set_peer(c, k2_u) > 0);
    outlen = len - 1;
    ck_assert_int_le(EVP_PKEY_derive(c, out, &outlen), 0);
    ERR_clear_error();
    EVP_PKEY_CTX_free(c);

    /* encoded-pub-key is the raw key, with a size query. */
    rawlen = 0;
    ck_assert(EVP_PKEY_get_octet_string_param(alice, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, NULL, 0,
                                              &rawlen));
    ck_assert_uint_eq(rawlen, publen);

    /* match, validate, dup */
    pubonly = uot_transfer(alice, uo, EVP_PKEY_PUBLIC_KEY);
    ck_assert_int_eq(EVP_PKEY_eq(alice, pubonly), 1);
    ck_assert_int_eq(EVP_PKEY_eq(alice, k1), 0);
    ck_assert_int_eq(EVP_PKEY_parameters_eq(alice, k1), 1);
    c = EVP_PKEY_CTX_new_from_pkey(uo, alice, NULL);
    ck_assert_int_eq(EVP_PKEY_check(c), 1);
    ck_assert_int_eq(EVP_PKEY_public_check(c), 1);
    EVP_PKEY_CTX_free(c);
    c = EVP_PKEY_CTX_new_from_pkey(uo, pubonly, NULL);
    ck_assert_int_eq(EVP_PKEY_public_check(c), 1);
    ck_assert_int_ne(EVP_PKEY_private_check(c), 1);
    ERR_clear_error();
    EVP_PKEY_CTX_free(c);
    dup = EVP_PKEY_dup(alice);
    ck_assert(uot_held_by_uo(dup));
    outlen = sizeof(out);
    ck_assert(derive(uo, dup, bob, NULL, out, &outlen));
    ck_assert_mem_eq(out, shared, len);

    EVP_PKEY_free(dup);
    EVP_PKEY_free(pubonly);
    EVP_PKEY_free(k2_u);
    EVP_PKEY_free(k2_r);
    EVP_PKEY_free(k1_r);
    EVP_PKEY_free(k2);
    EVP_PKEY_free(k1);
    EVP_PKEY_free(bob);
    EVP_PKEY_free(alice);
}
END_TEST

/* ---- Ed25519 / Ed448 ----------------------------------------------------------------------- */

/* RFC 8032 sections 7.1 and 7.4, test 1: empty message. */
static const struct {
    const char *alg, *priv, *pub, *sig;
} rfc8032[] = {
    { "ED25519",
      "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
      "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9"
      "b46bd25bf5f0595bbe24655141438e7a100b" },
    { "ED448",
      "6c82a562cb808d10d632be89c8513ebf6c929f34ddfa8c9f63c9960ef6e348a3528c8a3fcc2f044e39a3fc5b94"
      "492f8f032e7549a20098f95b",
      "5fd7449b59b461fd2ce787ec616ad46a1da1342485a70e1f8a0ea75d80e96778edf124769b46c7061bd6783df1"
      "e50f6cd1fa1abeafe8256180",
      "533a37f6bbe457251f023c0d88f976ae2dfb504a843e34d2074fd823d41a591f2b233f034f628281f2fd7a22ddd4"
      "7d7828c59bd0a21bfd3980ff0d2028d4b18a9df63e006c5d1c2d345b925d8dc00b4104852db99ac5c7cdda8530a1"
      "13a0f4dbb61149f05a7363268c71d95808ff2e652600" },
};

START_TEST(eddsa)
{
    const char *alg = rfc8032[_i].alg;
    unsigned char priv[57], pub[57], want[114], sig[120], sig2[120], raw[57];
    size_t privlen = unhex(rfc8032[_i].priv, priv, sizeof(priv));
    size_t publen = unhex(rfc8032[_i].pub, pub, sizeof(pub));
    size_t wantlen = unhex(rfc8032[_i].sig, want, sizeof(want));
    size_t siglen = sizeof(sig), sig2len = sizeof(sig2), rawlen = sizeof(raw), q = 0;
    static const unsigned char msg[] = "uringprov signs this with EdDSA";
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key_ex(uo, alg, NULL, priv, privlen);
    EVP_PKEY *gen, *gen_r, *pubonly;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *c;

    ck_assert(uot_held_by_uo(k));
    ck_assert(EVP_PKEY_get_raw_public_key(k, raw, &rawlen));
    ck_assert_mem_eq(raw, pub, publen);
    ck_assert(ed_sign(uo, k, NULL, 0, sig, &siglen));
    ck_assert_uint_eq(siglen, wantlen);
    ck_assert_mem_eq(sig, want, wantlen);
    pubonly = EVP_PKEY_new_raw_public_key_ex(uo, alg, NULL, pub, publen);
    ck_assert(uot_held_by_uo(pubonly));
    ck_assert(ed_verify(uo, pubonly, NULL, 0, want, wantlen));
    want[3] ^= 1;
    ck_assert(!ed_verify(uo, pubonly, NULL, 0, want, wantlen));

    /* A generated key signs exactly as the default provider does with the same key. */
    gen = EVP_PKEY_Q_keygen(uo, NULL, alg);
    ck_assert(uot_held_by_uo(gen));
    gen_r = uot_transfer(gen, ref, EVP_PKEY_KEYPAIR);
    ck_assert_ptr_nonnull(gen_r);
    ck_assert_int_eq(EVP_PKEY_get_bits(gen), EVP_PKEY_get_bits(gen_r));
    ck_assert_int_eq(EVP_PKEY_get_security_bits(gen), EVP_PKEY_get_security_bits(gen_r));
    ck_assert_int_eq(EVP_PKEY_get_size(gen), EVP_PKEY_get_size(gen_r));
    siglen = sizeof(sig);
    ck_assert(ed_sign(uo, gen, msg, sizeof(msg), sig, &siglen));
    ck_assert(ed_sign(ref, gen_r, msg, sizeof(msg), sig2, &sig2len));
    ck_assert_uint_eq(siglen, sig2len);
    ck_assert_mem_eq(sig, sig2, siglen);
    ck_assert(ed_verify(ref, gen_r, msg, sizeof(msg), sig, siglen));
    ck_assert(ed_verify(uo, gen, msg, sizeof(msg), sig2, sig2len));
    ck_assert(!ed_verify(uo, gen, msg, sizeof(msg) - 1, sig2, sig2len));

    /* openssl speed's loop: init once, then re-init with no key before each one-shot sign. */
    ck_assert_int_eq(EVP_DigestSignInit_ex(md, NULL, NULL, uo, NULL, gen, NULL), 1);
    ck_assert_int_eq(EVP_DigestSign(md, NULL, &q, msg, sizeof(msg)), 1);
    ck_assert_uint_eq(q, (size_t)EVP_PKEY_get_size(gen));
    for (int round = 0; round < 3; round++) {
        ck_assert_int_eq(EVP_DigestSignInit(md, NULL, NULL, NULL, NULL), 1);
        siglen = sizeof(sig);
        ck_assert_int_eq(EVP_DigestSign(md, sig, &siglen, msg, sizeof(msg)), 1);
        ck_assert_mem_eq(sig, sig2, sig2len);
    }
    ck_assert_int_eq(EVP_DigestVerifyInit_ex(md, NULL, NULL, uo, NULL, gen, NULL), 1);
    for (int round = 0; round < 2; round++) {
        ck_assert_int_eq(EVP_DigestVerifyInit(md, NULL, NULL, NULL, NULL), 1);
        ck_assert_int_eq(EVP_DigestVerify(md, sig2, sig2len, msg, sizeof(msg)), 1);
    }
    /* A digest name is refused, as by the default provider. */
    ck_assert_int_ne(EVP_DigestSignInit_ex(md, NULL, "SHA256", uo, NULL, gen, NULL), 1);
    ERR_clear_error();

    /* Keys: match, validate, dup, and no encoded-pub-key setter needed for signatures. */
    ck_assert_int_eq(EVP_PKEY_eq(k, pubonly), 1);
    ck_assert_int_eq(EVP_PKEY_eq(k, gen), 0);
    c = EVP_PKEY_CTX_new_from_pkey(uo, gen, NULL);
    ck_assert_int_eq(EVP_PKEY_check(c), 1);
    EVP_PKEY_CTX_free(c);
    {
        EVP_PKEY *d = EVP_PKEY_dup(gen);

        siglen = sizeof(sig);
        ck_assert(ed_sign(uo, d, msg, sizeof(msg), sig, &siglen));
        ck_assert_mem_eq(sig, sig2, siglen);
        EVP_PKEY_free(d);
    }

    EVP_MD_CTX_free(md);
    EVP_PKEY_free(gen_r);
    EVP_PKEY_free(gen);
    EVP_PKEY_free(pubonly);
    EVP_PKEY_free(k);
}
END_TEST

/* ---- inside ASYNC jobs --------------------------------------------------------------------- */

enum job_op { J_SIGN, J_DERIVE, J_KEYGEN, J_EDSIGN, J_DIGEST_SIGN, J_SIZE_QUERY };

typedef struct {
    enum job_op op;
    const char *alg, *curve;       /* J_KEYGEN */
    EVP_PKEY *key, *peer;
    unsigned char out[256];
    size_t outlen;
    EVP_PKEY *genkey;
} JOB;

static int job_fn(void *arg)
{
    JOB *j = arg;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_MD_CTX *md = NULL;
    int ok = 0;

    j->outlen = sizeof(j->out);
    switch (j->op) {
    case J_SIGN:
        ctx = EVP_PKEY_CTX_new_from_pkey(uo, j->key, NULL);
        ok = ctx != NULL && EVP_PKEY_sign_init(ctx) > 0
             && EVP_PKEY_sign(ctx, j->out, &j->outlen, tbs20, sizeof(tbs20)) > 0;
        break;
    case J_DERIVE:
        ctx = EVP_PKEY_CTX_new_from_pkey(uo, j->key, NULL);
        ok = ctx != NULL && EVP_PKEY_derive_init(ctx) > 0
             && EVP_PKEY_derive_set_peer(ctx, j->peer) > 0
             && EVP_PKEY_derive(ctx, j->out, &j->outlen) > 0;
        break;
    case J_KEYGEN:
        j->genkey = j->curve != NULL ? EVP_PKEY_Q_keygen(uo, NULL, j->alg, j->curve)
                                     : EVP_PKEY_Q_keygen(uo, NULL, j->alg);
        ok = j->genkey != NULL;
        break;
    case J_EDSIGN:
        /* As openssl speed: the second sign re-initialises with no key. */
        md = EVP_MD_CTX_new();
        ok = md != NULL && EVP_DigestSignInit_ex(md, NULL, NULL, uo, NULL, j->key, NULL) > 0
             && EVP_DigestSign(md, j->out, &j->outlen, tbs20, sizeof(tbs20)) > 0
             && EVP_DigestSignInit(md, NULL, NULL, NULL, NULL) > 0
             && EVP_DigestSign(md, j->out, &j->outlen, tbs20, sizeof(tbs20)) > 0;
        break;
    case J_DIGEST_SIGN:
        md = EVP_MD_CTX_new();
        ok = md != NULL && EVP_DigestSignInit_ex(md, NULL, "SHA256", uo, NULL, j->key, NULL) > 0
             && EVP_DigestSignUpdate(md, tbs20, sizeof(tbs20)) > 0
             && EVP_DigestSignFinal(md, j->out, &j->outlen) > 0;
        break;
    case J_SIZE_QUERY:
        /* Sizes only: a signature's and a secret's, neither of which may offload or pause. */
        ctx = EVP_PKEY_CTX_new_from_pkey(uo, j->key, NULL);
        ok = ctx != NULL && EVP_PKEY_sign_init(ctx) > 0
             && EVP_PKEY_sign(ctx, NULL, &j->outlen, tbs20, sizeof(tbs20)) > 0
             && EVP_PKEY_derive_init(ctx) > 0 && EVP_PKEY_derive_set_peer(ctx, j->peer) > 0
             && EVP_PKEY_derive(ctx, NULL, &j->outlen) > 0;
        break;
    }
    EVP_MD_CTX_free(md);
    EVP_PKEY_CTX_free(ctx);
    return ok;
}

/* Runs j in a job: it must succeed, pause at least once, and grow the offloaded counter. */
static void run_offloaded(JOB *j, const char *what)
{
    UOT_JOB_STATS st;
    uint64_t before = offloaded();

    ck_assert_msg(uot_run_in_job(job_fn, j, &st) == 1, "%s: failed in a job", what);
    ck_assert_msg(st.pauses >= 1, "%s: the job never paused", what);
    ck_assert_msg(st.fds_seen == 1, "%s: %d fds at a pause", what, st.fds_seen);
    ck_assert_msg(offloaded() > before, "%s: the offloaded counter did not grow", what);
}

START_TEST(ec_every_curve_async)
{
    const char **names;
    size_t n = curve_names(&names), i, served = 0;

    for (i = 0; i < n; i++) {
        EVP_PKEY *probe = EVP_PKEY_Q_keygen(ref, NULL, "EC", names[i]);
        EVP_PKEY *peer_r, *peer_u, *mine_r;
        JOB j = { 0 };
        unsigned char s[256];
        size_t slen = sizeof(s);

        ERR_clear_error();
        if (probe == NULL)
            continue;
        served++;
        j.op = J_KEYGEN;
        j.alg = "EC";
        j.curve = names[i];
        run_offloaded(&j, names[i]);
        ck_assert(uot_held_by_uo(j.genkey));

        j.key = j.genkey;
        j.op = J_SIGN;
        mine_r = uot_transfer(j.key, ref, EVP_PKEY_KEYPAIR);
        if (sign_raw(ref, mine_r, NULL, tbs20, sizeof(tbs20), s, &slen)) {
            run_offloaded(&j, names[i]);
            ck_assert_msg(verify_raw(ref, mine_r, NULL, tbs20, sizeof(tbs20), j.out, j.outlen),
                          "%s: signature made in a job does not verify", names[i]);
        }

        peer_r = probe;
        peer_u = uot_transfer(peer_r, uo, EVP_PKEY_PUBLIC_KEY);
        slen = sizeof(s);
        if (derive(ref, peer_r, mine_r, NULL, s, &slen)) {
            j.op = J_DERIVE;
            j.peer = peer_u;
            run_offloaded(&j, names[i]);
            ck_assert_uint_eq(j.outlen, slen);
            ck_assert_msg(memcmp(j.out, s, slen) == 0, "%s: secret from a job differs", names[i]);
        }
        EVP_PKEY_free(peer_u);
        EVP_PKEY_free(mine_r);
        EVP_PKEY_free(j.genkey);
        EVP_PKEY_free(probe);
    }
    OPENSSL_free(names);
    ck_assert_uint_ge(served, 30);
}
END_TEST

START_TEST(ecx_async)
{
    static const char *const algs[] = { "X25519", "X448" };
    const char *alg = algs[_i];
    EVP_PKEY *peer = EVP_PKEY_Q_keygen(ref, NULL, alg), *peer_u, *mine_r;
    unsigned char s[64];
    size_t slen = sizeof(s);
    JOB j = { 0 };

    j.op = J_KEYGEN;
    j.alg = alg;
    run_offloaded(&j, alg);
    ck_assert(uot_held_by_uo(j.genkey));
    peer_u = uot_transfer(peer, uo, EVP_PKEY_PUBLIC_KEY);
    mine_r = uot_transfer(j.genkey, ref, EVP_PKEY_PUBLIC_KEY);
    ck_assert(derive(ref, peer, mine_r, NULL, s, &slen));
    j.op = J_DERIVE;
    j.key = j.genkey;
    j.peer = peer_u;
    run_offloaded(&j, alg);
    ck_assert_uint_eq(j.outlen, slen);
    ck_assert_mem_eq(j.out, s, slen);
    EVP_PKEY_free(mine_r);
    EVP_PKEY_free(peer_u);
    EVP_PKEY_free(peer);
    EVP_PKEY_free(j.genkey);
}
END_TEST

START_TEST(eddsa_async)
{
    static const char *const algs[] = { "ED25519", "ED448" };
    const char *alg = algs[_i];
    unsigned char s[128];
    size_t slen = sizeof(s);
    EVP_PKEY *r;
    JOB j = { 0 };

    j.op = J_KEYGEN;
    j.alg = alg;
    run_offloaded(&j, alg);
    ck_assert(uot_held_by_uo(j.genkey));
    r = uot_transfer(j.genkey, ref, EVP_PKEY_KEYPAIR);
    ck_assert(ed_sign(ref, r, tbs20, sizeof(tbs20), s, &slen));
    j.op = J_EDSIGN;
    j.key = j.genkey;
    {
        UOT_JOB_STATS st;
        uint64_t before = offloaded();

        ck_assert_int_eq(uot_run_in_job(job_fn, &j, &st), 1);
        ck_assert_int_ge(st.pauses, 2); /* two signatures, each offloaded */
        ck_assert_uint_ge(offloaded(), before + 2);
    }
    ck_assert_uint_eq(j.outlen, slen);
    ck_assert_mem_eq(j.out, s, slen);
    EVP_PKEY_free(r);
    EVP_PKEY_free(j.genkey);
}
END_TEST

START_TEST(ecdsa_digest_sign_async)
{
    JOB j = { 0 };
    EVP_PKEY *r;
    EVP_MD_CTX *md = EVP_MD_CTX_new();

    j.key = EVP_PKEY_Q_keygen(uo, NULL, "EC", "P-384");
    r = uot_transfer(j.key, ref, EVP_PKEY_PUBLIC_KEY);
    j.op = J_DIGEST_SIGN;
    run_offloaded(&j, "ECDSA digest sign");
    ck_assert_int_eq(EVP_DigestVerifyInit_ex(md, NULL, "SHA256", ref, NULL, r, NULL), 1);
    ck_assert_int_eq(EVP_DigestVerify(md, j.out, j.outlen, tbs20, sizeof(tbs20)), 1);
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(r);
    EVP_PKEY_free(j.key);
}
END_TEST

START_TEST(size_queries_do_not_pause)
{
    JOB j = { 0 };
    UOT_JOB_STATS st;
    uint64_t before;

    j.key = EVP_PKEY_Q_keygen(uo, NULL, "EC", "P-256");
    j.peer = EVP_PKEY_Q_keygen(uo, NULL, "EC", "P-256");
    j.op = J_SIZE_QUERY;
    before = offloaded();
    ck_assert_int_eq(uot_run_in_job(job_fn, &j, &st), 1);
    ck_assert_int_eq(st.pauses, 0);
    ck_assert_uint_eq(offloaded(), before);
    ck_assert_uint_eq(j.outlen, 32);
    /* The same job with real outputs does pause: the probe above is not blind. */
    j.op = J_DERIVE;
    run_offloaded(&j, "derive after size query");
    EVP_PKEY_free(j.key);
    EVP_PKEY_free(j.peer);
}
END_TEST

/* ---- TLS groups ---------------------------------------------------------------------------- */

typedef struct {
    int n, p256, x25519, x448, p521, ffdhe, bad;
} GROUPS_SEEN;

static int group_cb(const OSSL_PARAM params[], void *arg)
{
    GROUPS_SEEN *g = arg;
    const OSSL_PARAM *p;
    const char *name = NULL, *internal = NULL, *alg = NULL;
    unsigned int id = 0, bits = 0;
    int maxtls = -5;

    if ((p = OSSL_PARAM_locate_const(params, OSSL_CAPABILITY_TLS_GROUP_NAME)) != NULL)
        OSSL_PARAM_get_utf8_string_ptr(p, &name);
    if ((p = OSSL_PARAM_locate_const(params, OSSL_CAPABILITY_TLS_GROUP_NAME_INTERNAL)) != NULL)
        OSSL_PARAM_get_utf8_string_ptr(p, &internal);
    if ((p = OSSL_PARAM_locate_const(params, OSSL_CAPABILITY_TLS_GROUP_ALG)) != NULL)
        OSSL_PARAM_get_utf8_string_ptr(p, &alg);
    if ((p = OSSL_PARAM_locate_const(params, OSSL_CAPABILITY_TLS_GROUP_ID)) != NULL)
        OSSL_PARAM_get_uint(p, &id);
    if ((p = OSSL_PARAM_locate_const(params, OSSL_CAPABILITY_TLS_GROUP_SECURITY_BITS)) != NULL)
        OSSL_PARAM_get_uint(p, &bits);
    if ((p = OSSL_PARAM_locate_const(params, OSSL_CAPABILITY_TLS_GROUP_MAX_TLS)) != NULL)
        OSSL_PARAM_get_int(p, &maxtls);
    if (name == NULL || internal == NULL || alg == NULL || id == 0 || bits == 0 || maxtls == -5) {
        g->bad++;
        return 1;
    }
    g->n++;
    g->p256 += strcmp(name, "secp256r1") == 0 && id == 23 && bits == 128 && maxtls == 0
               && strcmp(internal, "prime256v1") == 0 && strcmp(alg, "EC") == 0;
    g->p521 += strcmp(name, "P-521") == 0 && id == 25 && bits == 256;
    g->x25519 += strcmp(name, "x25519") == 0 && id == 29 && strcmp(alg, "X25519") == 0;
    g->x448 += strcmp(name, "x448") == 0 && id == 30 && bits == 224;
    g->ffdhe += strncmp(name, "ffdhe", 5) == 0;
    /* Every EC group we list must be one our keymgmt can make parameters for. */
    if (strcmp(alg, "EC") == 0) {
        EVP_PKEY *k = EVP_PKEY_Q_keygen(uo, NULL, "EC", internal);

        if (!uot_held_by_uo(k))
            g->bad++;
        EVP_PKEY_free(k);
    }
    return 1;
}

START_TEST(tls_groups)
{
    OSSL_PROVIDER *prov = OSSL_PROVIDER_try_load(uo, "uringprov", 0);
    GROUPS_SEEN g = { 0 };
    SSL_CTX *ctx, *rctx;

    ck_assert_ptr_nonnull(prov);
    ck_assert_int_eq(OSSL_PROVIDER_get_capabilities(prov, "TLS-GROUP", group_cb, &g), 1);
    ck_assert_int_eq(g.bad, 0);
    ck_assert_int_eq(g.p256, 1);
    ck_assert_int_eq(g.p521, 1);
    ck_assert_int_eq(g.x25519, 1);
    ck_assert_int_eq(g.x448, 1);
    ck_assert_int_eq(g.ffdhe, 0); /* DH is the default provider's */
    ck_assert_int_ge(g.n, 20);
    OSSL_PROVIDER_unload(prov);

    /*
     * With uringprov's keymgmt preferred, libssl keeps these groups; the deprecated ones (RFC 8422)
     * as the default provider alone keeps them (OpenSSL 4.0 no longer lists them).
     */
    ctx = SSL_CTX_new_ex(uo, NULL, TLS_method());
    ck_assert_ptr_nonnull(ctx);
    ck_assert_int_eq(SSL_CTX_set1_groups_list(ctx, "x25519:secp256r1:x448:secp521r1:P-384"), 1);
    rctx = SSL_CTX_new_ex(ref, NULL, TLS_method());
    ck_assert_ptr_nonnull(rctx);
    ck_assert_int_eq(SSL_CTX_set1_groups_list(ctx, "brainpoolP256r1:secp256k1"),
                     SSL_CTX_set1_groups_list(rctx, "brainpoolP256r1:secp256k1"));
    ERR_clear_error();
    SSL_CTX_free(rctx);
    SSL_CTX_free(ctx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ec");
    TCase *sync = tcase_create("sync"), *async = tcase_create("async");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(sync, setup, teardown);
    tcase_add_checked_fixture(async, setup, teardown);
    tcase_set_timeout(sync, 120);
    tcase_set_timeout(async, 120);
    tcase_add_test(sync, ec_every_curve);
    tcase_add_loop_test(sync, ec_key_params, 0, 5);
    tcase_add_loop_test(sync, key_shares, 0, 6);
    tcase_add_loop_test(sync, ecdsa_digests, 0, 5);
    tcase_add_test(sync, ecdh_params);
    tcase_add_test(sync, ecdh_peer_and_sizes);
    tcase_add_loop_test(sync, ecx_exchange, 0, 2);
    tcase_add_loop_test(sync, eddsa, 0, 2);
    tcase_add_test(sync, tls_groups);
    tcase_add_test(async, ec_every_curve_async);
    tcase_add_loop_test(async, ecx_async, 0, 2);
    tcase_add_loop_test(async, eddsa_async, 0, 2);
    tcase_add_test(async, ecdsa_digest_sign_async);
    tcase_add_test(async, size_queries_do_not_pause);
    suite_add_tcase(s, sync);
    suite_add_tcase(s, async);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * capabilities.c - the TLS-GROUP capability for the groups whose keymgmt uringprov serves.
 *
 * libssl 3.0 keeps a group only if the provider whose keymgmt wins the fetch for it also
 * advertises it. Once uringprov's EC, X25519 and X448 keymgmt are preferred, the default
 * provider's list no longer counts for them, so uringprov lists the same elliptic-curve groups
 * as OpenSSL 3.0's default provider, with the same ids, security bits and protocol ranges. The
 * finite-field (ffdhe) groups stay the default provider's: their DH keymgmt is not ours.
 */
#include <string.h>
#include <strings.h>

#include <openssl/opensslconf.h>
#include <openssl/prov_ssl.h>

#include "uringprov.h"

typedef struct {
    const char *tls_name;   /* the name SSL_CTX_set1_groups_list takes; aliases repeat a group */
    const char *internal;   /* the group name the keymgmt takes */
    const char *alg;        /* the keymgmt */
    enum uo_family fam;
    unsigned int id;        /* IANA TLS NamedGroup */
    unsigned int secbits;
    int tls12_only;         /* curves RFC 8446 dropped: TLS/DTLS 1.2 at most */
} UO_TLS_GROUP;

#define EC_GROUP_(tls, internal, id, bits, old) { tls, internal, "EC", UO_FAM_EC, id, bits, old }

static const UO_TLS_GROUP tls_groups[] = {
#ifndef OPENSSL_NO_EC2M
    EC_GROUP_("sect163k1", "sect163k1", 1, 80, 1),
    EC_GROUP_("K-163", "sect163k1", 1, 80, 1),
    EC_GROUP_("sect163r1", "sect163r1", 2, 80, 1),
    EC_GROUP_("sect163r2", "sect163r2", 3, 80, 1),
    EC_GROUP_("B-163", "sect163r2", 3, 80, 1),
    EC_GROUP_("sect193r1", "sect193r1", 4, 80, 1),
    EC_GROUP_("sect193r2", "sect193r2", 5, 80, 1),
    EC_GROUP_("sect233k1", "sect233k1", 6, 112, 1),
    EC_GROUP_("K-233", "sect233k1", 6, 112, 1),
    EC_GROUP_("sect233r1", "sect233r1", 7, 112, 1),
    EC_GROUP_("B-233", "sect233r1", 7, 112, 1),
    EC_GROUP_("sect239k1", "sect239k1", 8, 112, 1),
    EC_GROUP_("sect283k1", "sect283k1", 9, 128, 1),
    EC_GROUP_("K-283", "sect283k1", 9, 128, 1),
    EC_GROUP_("sect283r1", "sect283r1", 10, 128, 1),
    EC_GROUP_("B-283", "sect283r1", 10, 128, 1),
    EC_GROUP_("sect409k1", "sect409k1", 11, 192, 1),
    EC_GROUP_("K-409", "sect409k1", 11, 192, 1),
    EC_GROUP_("sect409r1", "sect409r1", 12, 192, 1),
    EC_GROUP_("B-409", "sect409r1", 12, 192, 1),
    EC_GROUP_("sect571k1", "sect571k1", 13, 256, 1),
    EC_GROUP_("K-571", "sect571k1", 13, 256, 1),
    EC_GROUP_("sect571r1", "sect571r1", 14, 256, 1),
    EC_GROUP_("B-571", "sect571r1", 14, 256, 1),
#endif
    EC_GROUP_("secp160k1", "secp160k1", 15, 80, 1),
    EC_GROUP_("secp160r1", "secp160r1", 16, 80, 1),
    EC_GROUP_("secp160r2", "secp160r2", 17, 80, 1),
    EC_GROUP_("secp192k1", "secp192k1", 18, 80, 1),
    EC_GROUP_("secp192r1", "prime192v1", 19, 80, 1),
    EC_GROUP_("P-192", "prime192v1", 19, 80, 1),
    EC_GROUP_("secp224k1", "secp224k1", 20, 112, 1),
    EC_GROUP_("secp224r1", "secp224r1", 21, 112, 1),
    EC_GROUP_("P-224", "secp224r1", 21, 112, 1),
    EC_GROUP_("secp256k1", "secp256k1", 22, 128, 1),
    EC_GROUP_("secp256r1", "prime256v1", 23, 128, 0),
    EC_GROUP_("P-256", "prime256v1", 23, 128, 0),
    EC_GROUP_("secp384r1", "secp384r1", 24, 192, 0),
    EC_GROUP_("P-384", "secp384r1", 24, 192, 0),
    EC_GROUP_("secp521r1", "secp521r1", 25, 256, 0),
    EC_GROUP_("P-521", "secp521r1", 25, 256, 0),
    EC_GROUP_("brainpoolP256r1", "brainpoolP256r1", 26, 128, 1),
    EC_GROUP_("brainpoolP384r1", "brainpoolP384r1", 27, 192, 1),
    EC_GROUP_("brainpoolP512r1", "brainpoolP512r1", 28, 256, 1),
    { "x25519", "X25519", "X25519", UO_FAM_X25519, 29, 128, 0 },
    { "x448", "X448", "X448", UO_FAM_X448, 30, 224, 0 },
};

static int tls_group_report(const UO_TLS_GROUP *g, OSSL_CALLBACK *cb, void *arg)
{
    unsigned int id = g->id, secbits = g->secbits;
    int min_tls = TLS1_VERSION, max_tls = g->tls12_only ? TLS1_2_VERSION : 0;
    int min_dtls = DTLS1_VERSION, max_dtls = g->tls12_only ? DTLS1_2_VERSION : 0;
    OSSL_PARAM p[] = {
        OSSL_PARAM_utf8_string(OSSL_CAPABILITY_TLS_GROUP_NAME, (char *)g->tls_name,
                               strlen(g->tls_name) + 1),
        OSSL_PARAM_utf8_string(OSSL_CAPABILITY_TLS_GROUP_NAME_INTERNAL, (char *)g->internal,
                               strlen(g->internal) + 1),
        OSSL_PARAM_utf8_string(OSSL_CAPABILITY_TLS_GROUP_ALG, (char *)g->alg, strlen(g->alg) + 1),
        OSSL_PARAM_uint(OSSL_CAPABILITY_TLS_GROUP_ID, &id),
        OSSL_PARAM_uint(OSSL_CAPABILITY_TLS_GROUP_SECURITY_BITS, &secbits),
        OSSL_PARAM_int(OSSL_CAPABILITY_TLS_GROUP_MIN_TLS, &min_tls),
        OSSL_PARAM_int(OSSL_CAPABILITY_TLS_GROUP_MAX_TLS, &max_tls),
        OSSL_PARAM_int(OSSL_CAPABILITY_TLS_GROUP_MIN_DTLS, &min_dtls),
        OSSL_PARAM_int(OSSL_CAPABILITY_TLS_GROUP_MAX_DTLS, &max_dtls),
        OSSL_PARAM_END
    };

    return cb(p, arg);
}

int uo_get_capabilities(void *provctx, const char *capability, OSSL_CALLBACK *cb, void *arg)
{
    UO_PROVCTX *pc = provctx;
    size_t i;

    if (capability == NULL || strcasecmp(capability, "TLS-GROUP") != 0)
        return 0;
    for (i = 0; i < sizeof(tls_groups) / sizeof(tls_groups[0]); i++) {
        /* Never advertise a group whose keymgmt the inner provider could not give us. */
        if (pc->inner[tls_groups[i].fam].keymgmt == NULL)
            continue;
        if (!tls_group_report(&tls_groups[i], cb, arg))
            return 0;
    }
    return 1;
}

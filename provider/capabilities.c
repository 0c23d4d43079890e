/* SPDX-License-Identifier: Apache-2.0 */
/*
 * capabilities.c - the TLS-GROUP and TLS-SIGALG capabilities for the algorithms whose keymgmt
 * uringprov serves.
 *
 * libssl 3.0 keeps a group only if the provider whose keymgmt wins the fetch for it also
 * advertises it, and libssl 3.5 does the same for a provider's signature algorithms (ML-DSA).
 * Once uringprov's keymgmts are preferred, the default provider's lists no longer count for them,
 * so uringprov passes on the inner default provider's own lists, keeping the entries whose keymgmt
 * it serves: the same names, ids, security bits and protocol ranges as the running OpenSSL's
 * (3.0's elliptic-curve groups; 3.5's ML-KEM and hybrid groups and ML-DSA signatures as well). The
 * finite-field (ffdhe) groups stay the default provider's: their DH keymgmt is not ours.
 */
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/provider.h>

#include "uringprov.h"

/* OpenSSL 3.5's names, for a build against 3.0's headers that runs on 3.5. */
#ifndef OSSL_CAPABILITY_TLS_SIGALG_NAME
#define OSSL_CAPABILITY_TLS_SIGALG_NAME "tls-sigalg-name"
#define OSSL_CAPABILITY_TLS_SIGALG_SIG_NAME "tls-sigalg-sig-name"
#define OSSL_CAPABILITY_TLS_SIGALG_KEYTYPE "tls-sigalg-keytype"
#endif

typedef struct {
    const UO_PROVCTX *pc;
    const char *const *alg_keys; /* the entry's keymgmt names, in the order libssl reads them */
    OSSL_CALLBACK *cb;
    void *arg;
    int failed;                  /* the caller's callback said stop */
} UO_CAP_FILTER;

/* 1 if uringprov serves a keymgmt of that name. */
static int keymgmt_served(const UO_PROVCTX *pc, const char *name)
{
    int fam;

    for (fam = 0; fam < UO_FAM_COUNT; fam++)
        if (pc->inner[fam].keymgmt != NULL && EVP_KEYMGMT_is_a(pc->inner[fam].keymgmt, name))
            return 1;
    return 0;
}

/* Passes on one entry of the inner list when its keymgmt (the first name present) is ours. */
static int cap_filter(const OSSL_PARAM params[], void *arg)
{
    UO_CAP_FILTER *f = arg;
    const char *name = NULL;
    const char *const *k;
    const OSSL_PARAM *p;

    for (k = f->alg_keys; *k != NULL && name == NULL; k++)
        if ((p = OSSL_PARAM_locate_const(params, *k)) != NULL)
            OSSL_PARAM_get_utf8_string_ptr(p, &name);
    if (name == NULL || !keymgmt_served(f->pc, name))
        return 1;
    if (!f->cb(params, f->arg)) {
        f->failed = 1;
        return 0;
    }
    return 1;
}

int uo_get_capabilities(void *provctx, const char *capability, OSSL_CALLBACK *cb, void *arg)
{
    static const char *const group_keys[] = { OSSL_CAPABILITY_TLS_GROUP_ALG, NULL };
    /* libssl 3.5 takes the key type, else the signature's name, else the sigalg's */
    static const char *const sigalg_keys[] = { OSSL_CAPABILITY_TLS_SIGALG_KEYTYPE,
                                               OSSL_CAPABILITY_TLS_SIGALG_SIG_NAME,
                                               OSSL_CAPABILITY_TLS_SIGALG_NAME, NULL };
    UO_PROVCTX *pc = provctx;
    UO_CAP_FILTER f = { pc, NULL, cb, arg, 0 };

    if (capability == NULL)
        return 0;
    if (strcasecmp(capability, "TLS-GROUP") == 0)
        f.alg_keys = group_keys;
    else if (strcasecmp(capability, "TLS-SIGALG") == 0)
        f.alg_keys = sigalg_keys;
    else
        return 0;
    /* A capability the inner provider does not have (TLS-SIGALG on 3.0) is an empty list. */
    OSSL_PROVIDER_get_capabilities(pc->deflt, capability, cap_filter, &f);
    return !f.failed;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * uringprov.c - the provider's entry point: configuration, the inner library context, algorithm
 * tables, provider parameters (including the offload counters), errors and teardown.
 *
 * OpenSSL 3.0 skips a provider whose init fails without a word, so init does little: it reads its
 * configuration, makes the inner library context that does the math, fetches the inner algorithms
 * from it (never from the application's context), and says in the debug log why it failed if it
 * does. Threads and rings start later, on first use, in each process (see offload/pool.c).
 */
#define _GNU_SOURCE /* dladdr */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/opensslv.h>
#include <openssl/provider.h>

#include "uringprov.h"

static OSSL_FUNC_core_get_params_fn *c_get_params;
static OSSL_FUNC_core_new_error_fn *c_new_error;
static OSSL_FUNC_core_set_error_debug_fn *c_set_error_debug;
static OSSL_FUNC_core_vset_error_fn *c_vset_error;

/* ---- errors -------------------------------------------------------------------------------- */

static const OSSL_ITEM reason_strings[] = {
    { UO_R_INIT_FAILED, "uringprov initialisation failed" },
    { UO_R_MALLOC_FAILURE, "out of memory" },
    { UO_R_INVALID_KEY, "invalid key" },
    { UO_R_MISSING_KEY, "no key set" },
    { UO_R_MISSING_PRIVATE_KEY, "the key has no private part" },
    { UO_R_KEY_TYPE_MISMATCH, "key type does not match the operation" },
    { UO_R_BAD_PARAMETER, "invalid parameter" },
    { UO_R_OPERATION_NOT_INITIALIZED, "operation not initialised" },
    { UO_R_OPERATION_FAILED, "operation failed" },
    { UO_R_OUTPUT_BUFFER_TOO_SMALL, "output buffer too small" },
    { UO_R_NULL_ARGUMENT, "a required argument is NULL" },
    { UO_R_UNSUPPORTED, "unsupported by uringprov" },
    { UO_R_OFFLOAD_FAILED, "offload failed" },
    { 0, NULL }
};

void uo_raise(const UO_PROVCTX *pc, const char *file, int line, const char *func, int reason,
              const char *fmt, ...)
{
    va_list ap;

    if (pc == NULL || c_new_error == NULL || c_vset_error == NULL)
        return;
    c_new_error(pc->handle);
    c_set_error_debug(pc->handle, file, line, func);
    va_start(ap, fmt);
    c_vset_error(pc->handle, (uint32_t)reason, fmt, ap);
    va_end(ap);
    UO_LOG(2, "raised reason %d at %s:%d", reason, file, line);
}

/* ---- configuration ------------------------------------------------------------------------- */

typedef struct {
    char workers[32];
    char offload[128];
    char queue_bound[32];
    char io_uring[16];
    char sync_mode[16];
    char spin_us[32];
    char coalesce_us[32];
    char worker_priority[16];
    char inline_below_us[32];
    char multibuffer[16];
} UO_CONF;

/*
 * A module built against one major version of OpenSSL, loaded by another (a 3.x module in an
 * OpenSSL 4.0 process), pulls the other libcrypto into the process: its ASYNC calls and its inner
 * library context then live in a library the application does not use, and nothing is offloaded.
 * Refuse to load instead, and say why. Returns 1 when the core is ours.
 */
static int core_version_ok(const OSSL_CORE_HANDLE *handle)
{
    char *version = NULL;
    OSSL_PARAM p[] = { OSSL_PARAM_utf8_ptr(OSSL_PROV_PARAM_CORE_VERSION, &version, 0),
                       OSSL_PARAM_END };
    long major;

    if (c_get_params == NULL || !c_get_params(handle, p) || version == NULL)
        return 1; /* a core that does not say: nothing to compare */
    major = strtol(version, NULL, 10);
    if (major == OPENSSL_VERSION_MAJOR)
        return 1;
    UO_LOG(1, "init failed: this module was built for OpenSSL %d.%d and the process runs OpenSSL "
           "%s; it would bring a second libcrypto into the process. Build uringprov against "
           "OpenSSL %s", OPENSSL_VERSION_MAJOR, OPENSSL_VERSION_MINOR, version, version);
    return 0;
}

static int conf_read(const OSSL_CORE_HANDLE *handle, UO_CONF *c)
{
    char *workers = NULL, *offload = NULL, *qb = NULL, *uring = NULL, *sync = NULL, *spin = NULL;
    char *coalesce = NULL, *prio = NULL, *cheap = NULL, *mb = NULL;
    OSSL_PARAM p[] = {
        OSSL_PARAM_utf8_ptr("workers", &workers, 0),
        OSSL_PARAM_utf8_ptr("offload", &offload, 0),
        OSSL_PARAM_utf8_ptr("queue_bound", &qb, 0),
        OSSL_PARAM_utf8_ptr("io_uring", &uring, 0),
        OSSL_PARAM_utf8_ptr("sync_mode", &sync, 0),
        OSSL_PARAM_utf8_ptr("spin_us", &spin, 0),
        OSSL_PARAM_utf8_ptr("coalesce_us", &coalesce, 0),
        OSSL_PARAM_utf8_ptr("worker_priority", &prio, 0),
        OSSL_PARAM_utf8_ptr("inline_below_us", &cheap, 0),
        OSSL_PARAM_utf8_ptr("multibuffer", &mb, 0),
        OSSL_PARAM_END
    };

    memset(c, 0, sizeof(*c));
    if (c_get_params == NULL || !c_get_params(handle, p))
        return 0;
    snprintf(c->workers, sizeof(c->workers), "%s", workers ? workers : "");
    snprintf(c->offload, sizeof(c->offload), "%s", offload ? offload : "");
    snprintf(c->queue_bound, sizeof(c->queue_bound), "%s", qb ? qb : "");
    snprintf(c->io_uring, sizeof(c->io_uring), "%s", uring ? uring : "");
    snprintf(c->sync_mode, sizeof(c->sync_mode), "%s", sync ? sync : "");
    snprintf(c->spin_us, sizeof(c->spin_us), "%s", spin ? spin : "");
    snprintf(c->coalesce_us, sizeof(c->coalesce_us), "%s", coalesce ? coalesce : "");
    snprintf(c->worker_priority, sizeof(c->worker_priority), "%s", prio ? prio : "");
    snprintf(c->inline_below_us, sizeof(c->inline_below_us), "%s", cheap ? cheap : "");
    snprintf(c->multibuffer, sizeof(c->multibuffer), "%s", mb ? mb : "");
    return 1;
}

static int parse_uint(const char *s, unsigned int max, unsigned int *out)
{
    char *end;
    unsigned long v;

    if (*s == '\0')
        return 1; /* keep the default */
    v = strtoul(s, &end, 10);
    if (*end != '\0' || v > max)
        return 0;
    *out = (unsigned int)v;
    return 1;
}

static int parse_bool(const char *s, int *out)
{
    if (*s == '\0')
        return 1;
    if (!strcasecmp(s, "yes") || !strcasecmp(s, "on") || !strcasecmp(s, "true") || !strcmp(s, "1"))
        *out = 1;
    else if (!strcasecmp(s, "no") || !strcasecmp(s, "off") || !strcasecmp(s, "false")
             || !strcmp(s, "0"))
        *out = 0;
    else
        return 0;
    return 1;
}

static int parse_ops(const char *s, unsigned int *out)
{
    static const struct { const char *name; unsigned int ops; } names[] = {
        { "sign", UO_OP_SIGN }, { "verify", UO_OP_VERIFY }, { "decrypt", UO_OP_DECRYPT },
        { "encrypt", UO_OP_ENCRYPT }, { "derive", UO_OP_DERIVE }, { "keygen", UO_OP_KEYGEN },
        { "private", UO_OP_PRIVATE }, { "public", UO_OP_VERIFY | UO_OP_ENCRYPT },
        { "all", UO_OP_ALL }, { "none", 0 },
    };
    char buf[128], *tok, *save = NULL;
    unsigned int ops = 0;
    size_t i;

    if (*s == '\0')
        return 1;
    snprintf(buf, sizeof(buf), "%s", s);
    for (tok = strtok_r(buf, ", \t", &save); tok != NULL; tok = strtok_r(NULL, ", \t", &save)) {
        for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
            if (!strcasecmp(tok, names[i].name))
                break;
        if (i == sizeof(names) / sizeof(names[0]))
            return 0;
        ops |= names[i].ops;
    }
    *out = ops;
    return 1;
}

static int conf_apply(const UO_CONF *c, UO_POOL_CONFIG *pcfg, unsigned int *ops, int *mb)
{
    pcfg->workers = 0;
    pcfg->queue_bound = UO_DEFAULT_QUEUE_BOUND;
    pcfg->use_uring = 1;
    pcfg->sync_mode = UO_SYNC_INLINE;
    pcfg->spin_us = UO_DEFAULT_SPIN_US;
    pcfg->coalesce_us = UO_DEFAULT_COALESCE_US;
    pcfg->worker_nice = 0;
    pcfg->worker_idle = 0;
    pcfg->inline_below_us = 0;
    *ops = UO_OP_PRIVATE;
    *mb = 1;
    if (c->multibuffer[0] != '\0' && strcasecmp(c->multibuffer, "auto") != 0
        && !(parse_bool(c->multibuffer, mb) && *mb == 0)) {
        UO_LOG(1, "config: multibuffer = '%s' is not auto or no", c->multibuffer);
        return 0;
    }
    if (!parse_uint(c->workers, 1024, &pcfg->workers)) {
        UO_LOG(1, "config: workers = '%s' is not a number from 0 to 1024", c->workers);
        return 0;
    }
    if (!parse_uint(c->queue_bound, 1u << 20, &pcfg->queue_bound) || pcfg->queue_bound == 0) {
        UO_LOG(1, "config: queue_bound = '%s' is not a number from 1 to 1048576", c->queue_bound);
        return 0;
    }
    if (!parse_bool(c->io_uring, &pcfg->use_uring)) {
        UO_LOG(1, "config: io_uring = '%s' is not yes or no", c->io_uring);
        return 0;
    }
    if (!parse_uint(c->spin_us, 100000, &pcfg->spin_us)) {
        UO_LOG(1, "config: spin_us = '%s' is not a number from 0 to 100000", c->spin_us);
        return 0;
    }
    if (!parse_uint(c->coalesce_us, 100000, &pcfg->coalesce_us)) {
        UO_LOG(1, "config: coalesce_us = '%s' is not a number from 0 to 100000", c->coalesce_us);
        return 0;
    }
    if (!parse_uint(c->inline_below_us, 100000, &pcfg->inline_below_us)) {
        UO_LOG(1, "config: inline_below_us = '%s' is not a number from 0 to 100000",
               c->inline_below_us);
        return 0;
    }
    if (!strcasecmp(c->worker_priority, "idle")) {
        pcfg->worker_idle = 1;
    } else {
        unsigned int nice = 0;

        if (!parse_uint(c->worker_priority, 19, &nice)) {
            UO_LOG(1, "config: worker_priority = '%s' is not a nice value from 0 to 19, or idle",
                   c->worker_priority);
            return 0;
        }
        pcfg->worker_nice = (int)nice;
    }
    if (c->sync_mode[0] != '\0') {
        if (!strcasecmp(c->sync_mode, "inline")) {
            pcfg->sync_mode = UO_SYNC_INLINE;
        } else if (!strcasecmp(c->sync_mode, "offload")) {
            pcfg->sync_mode = UO_SYNC_OFFLOAD;
        } else {
            UO_LOG(1, "config: sync_mode = '%s' is not inline or offload", c->sync_mode);
            return 0;
        }
    }
    if (!parse_ops(c->offload, ops)) {
        UO_LOG(1, "config: offload = '%s': use a list of sign, verify, decrypt, encrypt, derive, "
               "keygen, or private, public, all, none", c->offload);
        return 0;
    }
    return 1;
}

/* ---- algorithms ---------------------------------------------------------------------------- */

/*
 * Every algorithm uringprov can serve, with the family whose inner algorithm it wraps. init keeps
 * those the inner default provider has (algs_build): the same binary serves ML-KEM, ML-DSA and
 * SLH-DSA on OpenSSL 3.5 and later, and does not announce them on 3.0. Names, aliases and OIDs are
 * the default provider's.
 */
typedef struct {
    int tab;               /* UO_TAB_* */
    enum uo_family fam;
    OSSL_ALGORITHM alg;
} UO_ALG_ENTRY;

#define ALG(tab, fam, names, funcs) { tab, fam, { names, UO_PROPS, funcs, NULL } }
#define ML_KEM_NAMES(n, oid) "ML-KEM-" #n ":MLKEM" #n ":id-alg-ml-kem-" #n ":2.16.840.1.101.3.4.4." #oid
#define ML_DSA_NAMES(n, oid) "ML-DSA-" #n ":MLDSA" #n ":2.16.840.1.101.3.4.3." #oid ":id-ml-dsa-" #n
#define SLH_DSA_NAMES(h, H, v, oid) \
    "SLH-DSA-" H "-" v ":id-slh-dsa-" h "-" v ":2.16.840.1.101.3.4.3." #oid
#define SLH_DSA(h, H, v, V, oid)                                                                \
    ALG(UO_TAB_KEYMGMT, UO_FAM_SLH_DSA_##V, SLH_DSA_NAMES(#h, H, #v, oid),                     \
        uo_slh_dsa_##h##_##v##_keymgmt_functions),                                             \
    ALG(UO_TAB_SIGNATURE, UO_FAM_SLH_DSA_##V, SLH_DSA_NAMES(#h, H, #v, oid),                   \
        uo_slh_dsa_##h##_##v##_signature_functions)

static const UO_ALG_ENTRY uo_algs[] = {
    ALG(UO_TAB_KEYMGMT, UO_FAM_RSA, "RSA:rsaEncryption:1.2.840.113549.1.1.1",
        uo_rsa_keymgmt_functions),
    ALG(UO_TAB_KEYMGMT, UO_FAM_RSA_PSS, "RSA-PSS:RSASSA-PSS:1.2.840.113549.1.1.10",
        uo_rsapss_keymgmt_functions),
    ALG(UO_TAB_KEYMGMT, UO_FAM_EC, "EC:id-ecPublicKey:1.2.840.10045.2.1", uo_ec_keymgmt_functions),
    ALG(UO_TAB_KEYMGMT, UO_FAM_X25519, "X25519:1.3.101.110", uo_x25519_keymgmt_functions),
    ALG(UO_TAB_KEYMGMT, UO_FAM_X448, "X448:1.3.101.111", uo_x448_keymgmt_functions),
    ALG(UO_TAB_KEYMGMT, UO_FAM_ED25519, "ED25519:1.3.101.112", uo_ed25519_keymgmt_functions),
    ALG(UO_TAB_KEYMGMT, UO_FAM_ED448, "ED448:1.3.101.113", uo_ed448_keymgmt_functions),
    ALG(UO_TAB_SIGNATURE, UO_FAM_RSA, "RSA:rsaEncryption:1.2.840.113549.1.1.1",
        uo_rsa_signature_functions),
    ALG(UO_TAB_SIGNATURE, UO_FAM_EC, "ECDSA", uo_ecdsa_signature_functions),
    ALG(UO_TAB_SIGNATURE, UO_FAM_ED25519, "ED25519:1.3.101.112", uo_ed25519_signature_functions),
    ALG(UO_TAB_SIGNATURE, UO_FAM_ED448, "ED448:1.3.101.113", uo_ed448_signature_functions),
    ALG(UO_TAB_ASYM_CIPHER, UO_FAM_RSA, "RSA:rsaEncryption:1.2.840.113549.1.1.1",
        uo_rsa_asym_cipher_functions),
    ALG(UO_TAB_KEYEXCH, UO_FAM_EC, "ECDH", uo_ecdh_keyexch_functions),
    ALG(UO_TAB_KEYEXCH, UO_FAM_X25519, "X25519:1.3.101.110", uo_x25519_keyexch_functions),
    ALG(UO_TAB_KEYEXCH, UO_FAM_X448, "X448:1.3.101.111", uo_x448_keyexch_functions),
    /* OpenSSL 3.5 and later */
    ALG(UO_TAB_KEYMGMT, UO_FAM_ML_KEM_512, ML_KEM_NAMES(512, 1), uo_ml_kem_512_keymgmt_functions),
    ALG(UO_TAB_KEYMGMT, UO_FAM_ML_KEM_768, ML_KEM_NAMES(768, 2), uo_ml_kem_768_keymgmt_functions),
    ALG(UO_TAB_KEYMGMT, UO_FAM_ML_KEM_1024, ML_KEM_NAMES(1024, 3),
        uo_ml_kem_1024_keymgmt_functions),
    ALG(UO_TAB_KEM, UO_FAM_ML_KEM_512, ML_KEM_NAMES(512, 1), uo_ml_kem_512_kem_functions),
    ALG(UO_TAB_KEM, UO_FAM_ML_KEM_768, ML_KEM_NAMES(768, 2), uo_ml_kem_768_kem_functions),
    ALG(UO_TAB_KEM, UO_FAM_ML_KEM_1024, ML_KEM_NAMES(1024, 3), uo_ml_kem_1024_kem_functions),
    ALG(UO_TAB_KEYMGMT, UO_FAM_X25519MLKEM768, "X25519MLKEM768",
        uo_x25519_ml_kem_768_keymgmt_functions),
    ALG(UO_TAB_KEYMGMT, UO_FAM_X448MLKEM1024, "X448MLKEM1024",
        uo_x448_ml_kem_1024_keymgmt_functions),
    ALG(UO_TAB_KEYMGMT, UO_FAM_P256MLKEM768, "SecP256r1MLKEM768",
        uo_p256_ml_kem_768_keymgmt_functions),
    ALG(UO_TAB_KEYMGMT, UO_FAM_P384MLKEM1024, "SecP384r1MLKEM1024",
        uo_p384_ml_kem_1024_keymgmt_functions),
    ALG(UO_TAB_KEM, UO_FAM_X25519MLKEM768, "X25519MLKEM768", uo_x25519_ml_kem_768_kem_functions),
    ALG(UO_TAB_KEM, UO_FAM_X448MLKEM1024, "X448MLKEM1024", uo_x448_ml_kem_1024_kem_functions),
    ALG(UO_TAB_KEM, UO_FAM_P256MLKEM768, "SecP256r1MLKEM768", uo_p256_ml_kem_768_kem_functions),
    ALG(UO_TAB_KEM, UO_FAM_P384MLKEM1024, "SecP384r1MLKEM1024",
        uo_p384_ml_kem_1024_kem_functions),
    ALG(UO_TAB_KEYMGMT, UO_FAM_ML_DSA_44, ML_DSA_NAMES(44, 17), uo_ml_dsa_44_keymgmt_functions),
    ALG(UO_TAB_KEYMGMT, UO_FAM_ML_DSA_65, ML_DSA_NAMES(65, 18), uo_ml_dsa_65_keymgmt_functions),
    ALG(UO_TAB_KEYMGMT, UO_FAM_ML_DSA_87, ML_DSA_NAMES(87, 19), uo_ml_dsa_87_keymgmt_functions),
    ALG(UO_TAB_SIGNATURE, UO_FAM_ML_DSA_44, ML_DSA_NAMES(44, 17),
        uo_ml_dsa_44_signature_functions),
    ALG(UO_TAB_SIGNATURE, UO_FAM_ML_DSA_65, ML_DSA_NAMES(65, 18),
        uo_ml_dsa_65_signature_functions),
    ALG(UO_TAB_SIGNATURE, UO_FAM_ML_DSA_87, ML_DSA_NAMES(87, 19),
        uo_ml_dsa_87_signature_functions),
    SLH_DSA(sha2, "SHA2", 128s, SHA2_128S, 20),
    SLH_DSA(sha2, "SHA2", 128f, SHA2_128F, 21),
    SLH_DSA(sha2, "SHA2", 192s, SHA2_192S, 22),
    SLH_DSA(sha2, "SHA2", 192f, SHA2_192F, 23),
    SLH_DSA(sha2, "SHA2", 256s, SHA2_256S, 24),
    SLH_DSA(sha2, "SHA2", 256f, SHA2_256F, 25),
    SLH_DSA(shake, "SHAKE", 128s, SHAKE_128S, 26),
    SLH_DSA(shake, "SHAKE", 128f, SHAKE_128F, 27),
    SLH_DSA(shake, "SHAKE", 192s, SHAKE_192S, 28),
    SLH_DSA(shake, "SHAKE", 192f, SHAKE_192F, 29),
    SLH_DSA(shake, "SHAKE", 256s, SHAKE_256S, 30),
    SLH_DSA(shake, "SHAKE", 256f, SHAKE_256F, 31),
};

/* 1 if the inner default provider has what entry e wraps. */
static int alg_available(const UO_PROVCTX *pc, const UO_ALG_ENTRY *e)
{
    const UO_INNER_ALGS *a = &pc->inner[e->fam];

    switch (e->tab) {
    case UO_TAB_KEYMGMT:
        return a->keymgmt != NULL;
    case UO_TAB_SIGNATURE:
        return a->keymgmt != NULL && a->signature != NULL;
    case UO_TAB_ASYM_CIPHER:
        return a->keymgmt != NULL && a->cipher != NULL;
    case UO_TAB_KEYEXCH:
        return a->keymgmt != NULL && a->exchange != NULL;
    case UO_TAB_KEM:
        return a->keymgmt != NULL && a->kem != NULL;
    }
    return 0;
}

static int algs_build(UO_PROVCTX *pc)
{
    size_t i, n, count = sizeof(uo_algs) / sizeof(uo_algs[0]);
    int t;

    for (t = 0; t < UO_TAB_COUNT; t++) {
        pc->algs[t] = OPENSSL_zalloc((count + 1) * sizeof(OSSL_ALGORITHM));
        if (pc->algs[t] == NULL)
            return 0;
        for (i = n = 0; i < count; i++)
            if (uo_algs[i].tab == t && alg_available(pc, &uo_algs[i]))
                pc->algs[t][n++] = uo_algs[i].alg;
    }
    return 1;
}

static void algs_free(UO_PROVCTX *pc)
{
    int t;

    for (t = 0; t < UO_TAB_COUNT; t++) {
        OPENSSL_free(pc->algs[t]);
        pc->algs[t] = NULL;
    }
}

static const OSSL_ALGORITHM *uo_query(void *provctx, int operation_id, int *no_cache)
{
    UO_PROVCTX *pc = provctx;

    *no_cache = 0;
    switch (operation_id) {
    case OSSL_OP_KEYMGMT:
        return pc->algs[UO_TAB_KEYMGMT];
    case OSSL_OP_SIGNATURE:
        return pc->algs[UO_TAB_SIGNATURE];
    case OSSL_OP_ASYM_CIPHER:
        return pc->algs[UO_TAB_ASYM_CIPHER];
    case OSSL_OP_KEYEXCH:
        return pc->algs[UO_TAB_KEYEXCH];
    case OSSL_OP_KEM:
        return pc->algs[UO_TAB_KEM];
    }
    return NULL;
}

/* ---- provider parameters ------------------------------------------------------------------- */

#define UO_PARAM_OFFLOADED "uringprov-offloaded"
#define UO_PARAM_INLINE "uringprov-inline"
#define UO_PARAM_FALLBACKS "uringprov-fallbacks"
#define UO_PARAM_INFLIGHT "uringprov-inflight"
#define UO_PARAM_PAUSES "uringprov-pauses"
#define UO_PARAM_WORKERS "uringprov-workers"
#define UO_PARAM_URING "uringprov-io-uring"
#define UO_PARAM_NOTIFIED "uringprov-notified"
#define UO_PARAM_NOTIFY_BATCHES "uringprov-notify-batches"
#define UO_PARAM_MB "uringprov-mb"
#define UO_PARAM_MB_BATCHES "uringprov-mb-batches"
#define UO_PARAM_MB_OPS "uringprov-mb-ops"
#define UO_PARAM_MB_FAULTS "uringprov-mb-faults"

static const OSSL_PARAM uo_param_types[] = {
    OSSL_PARAM_DEFN(OSSL_PROV_PARAM_NAME, OSSL_PARAM_UTF8_PTR, NULL, 0),
    OSSL_PARAM_DEFN(OSSL_PROV_PARAM_VERSION, OSSL_PARAM_UTF8_PTR, NULL, 0),
    OSSL_PARAM_DEFN(OSSL_PROV_PARAM_BUILDINFO, OSSL_PARAM_UTF8_PTR, NULL, 0),
    OSSL_PARAM_DEFN(OSSL_PROV_PARAM_STATUS, OSSL_PARAM_INTEGER, NULL, 0),
    OSSL_PARAM_DEFN(UO_PARAM_OFFLOADED, OSSL_PARAM_UNSIGNED_INTEGER, NULL, 0),
    OSSL_PARAM_DEFN(UO_PARAM_INLINE, OSSL_PARAM_UNSIGNED_INTEGER, NULL, 0),
    OSSL_PARAM_DEFN(UO_PARAM_FALLBACKS, OSSL_PARAM_UNSIGNED_INTEGER, NULL, 0),
    OSSL_PARAM_DEFN(UO_PARAM_INFLIGHT, OSSL_PARAM_UNSIGNED_INTEGER, NULL, 0),
    OSSL_PARAM_DEFN(UO_PARAM_PAUSES, OSSL_PARAM_UNSIGNED_INTEGER, NULL, 0),
    OSSL_PARAM_DEFN(UO_PARAM_WORKERS, OSSL_PARAM_UNSIGNED_INTEGER, NULL, 0),
    OSSL_PARAM_DEFN(UO_PARAM_URING, OSSL_PARAM_INTEGER, NULL, 0),
    OSSL_PARAM_DEFN(UO_PARAM_NOTIFIED, OSSL_PARAM_UNSIGNED_INTEGER, NULL, 0),
    OSSL_PARAM_DEFN(UO_PARAM_NOTIFY_BATCHES, OSSL_PARAM_UNSIGNED_INTEGER, NULL, 0),
    OSSL_PARAM_DEFN(UO_PARAM_MB, OSSL_PARAM_INTEGER, NULL, 0),
    OSSL_PARAM_DEFN(UO_PARAM_MB_BATCHES, OSSL_PARAM_UNSIGNED_INTEGER, NULL, 0),
    OSSL_PARAM_DEFN(UO_PARAM_MB_OPS, OSSL_PARAM_UNSIGNED_INTEGER, NULL, 0),
    OSSL_PARAM_DEFN(UO_PARAM_MB_FAULTS, OSSL_PARAM_UNSIGNED_INTEGER, NULL, 0),
    OSSL_PARAM_END
};

static const OSSL_PARAM *uo_gettable_params(void *provctx)
{
    return uo_param_types;
}

static int set_u64(OSSL_PARAM params[], const char *key, uint64_t v)
{
    OSSL_PARAM *p = OSSL_PARAM_locate(params, key);

    return p == NULL || OSSL_PARAM_set_uint64(p, v);
}

static int uo_get_params(void *provctx, OSSL_PARAM params[])
{
    UO_PROVCTX *pc = provctx;
    UO_POOL_STATS st;
    OSSL_PARAM *p;

    p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_NAME);
    if (p != NULL && !OSSL_PARAM_set_utf8_ptr(p, UO_NAME))
        return 0;
    p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_VERSION);
    if (p != NULL && !OSSL_PARAM_set_utf8_ptr(p, UO_VERSION))
        return 0;
    p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_BUILDINFO);
    if (p != NULL && !OSSL_PARAM_set_utf8_ptr(p, UO_NAME " " UO_VERSION " for " OPENSSL_VERSION_TEXT))
        return 0;
    p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_STATUS);
    if (p != NULL && !OSSL_PARAM_set_int(p, 1))
        return 0;
    uo_pool_get_stats(pc->pool, &st);
    p = OSSL_PARAM_locate(params, UO_PARAM_URING);
    if (p != NULL && !OSSL_PARAM_set_int(p, st.uring))
        return 0;
    p = OSSL_PARAM_locate(params, UO_PARAM_MB);
    if (p != NULL && !OSSL_PARAM_set_int(p, pc->multibuffer))
        return 0;
    return set_u64(params, UO_PARAM_OFFLOADED, st.offloaded)
        && set_u64(params, UO_PARAM_INLINE, st.inline_runs)
        && set_u64(params, UO_PARAM_FALLBACKS, st.fallbacks)
        && set_u64(params, UO_PARAM_INFLIGHT, st.inflight)
        && set_u64(params, UO_PARAM_PAUSES, st.pauses)
        && set_u64(params, UO_PARAM_WORKERS, st.workers)
        && set_u64(params, UO_PARAM_NOTIFIED, st.notified)
        && set_u64(params, UO_PARAM_NOTIFY_BATCHES, st.notify_batches)
        && set_u64(params, UO_PARAM_MB_BATCHES, atomic_load(&pc->mb.batches))
        && set_u64(params, UO_PARAM_MB_OPS, atomic_load(&pc->mb.ops))
        && set_u64(params, UO_PARAM_MB_FAULTS, atomic_load(&pc->mb.faults));
}

/* The multi-buffer counters, on offload's stats line. */
static void stats_extra(void *arg, char *buf, size_t len)
{
    UO_PROVCTX *pc = arg;

    snprintf(buf, len, " mb=%d mb_batches=%llu mb_ops=%llu mb_faults=%llu", pc->multibuffer,
             (unsigned long long)atomic_load(&pc->mb.batches),
             (unsigned long long)atomic_load(&pc->mb.ops),
             (unsigned long long)atomic_load(&pc->mb.faults));
}

/*
 * Batching runs when configured (multibuffer = auto), built in and applicable here;
 * URINGPROV_NO_MB (any value but "0") switches it off as multibuffer = no does (valgrind cannot
 * run AVX-512 code).
 */
static int mb_decide(int configured)
{
    const char *env = getenv("URINGPROV_NO_MB");
    const char *why = NULL;

    if (!configured) {
        UO_LOG(1, "multi-buffer batches off: multibuffer = no");
        return 0;
    }
    if (env != NULL && *env != '\0' && strcmp(env, "0") != 0) {
        UO_LOG(1, "multi-buffer batches off: URINGPROV_NO_MB is set");
        return 0;
    }
    if (!uo_mb_available(&why)) {
        UO_LOG(1, "multi-buffer batches unavailable: %s", why);
        return 0;
    }
    UO_LOG(1, "multi-buffer batches on (crypto_mb)");
    return 1;
}

static const OSSL_ITEM *uo_get_reason_strings(void *provctx)
{
    return reason_strings;
}

/* ---- life cycle ---------------------------------------------------------------------------- */

static void inner_algs_free(UO_PROVCTX *pc)
{
    int i;

    for (i = 0; i < UO_FAM_COUNT; i++) {
        EVP_KEYMGMT_free(pc->inner[i].keymgmt);
        EVP_SIGNATURE_free(pc->inner[i].signature);
        EVP_ASYM_CIPHER_free(pc->inner[i].cipher);
        EVP_KEYEXCH_free(pc->inner[i].exchange);
        EVP_KEM_free(pc->inner[i].kem);
    }
}

static void inner_algs_fetch(UO_PROVCTX *pc)
{
    static const struct {
        enum uo_family fam;
        const char *keymgmt, *signature, *cipher, *exchange, *kem;
    } names[] = {
        { UO_FAM_RSA, "RSA", "RSA", "RSA", NULL, NULL },
        { UO_FAM_RSA_PSS, "RSA-PSS", "RSA", NULL, NULL, NULL },
        { UO_FAM_EC, "EC", "ECDSA", NULL, "ECDH", NULL },
        { UO_FAM_X25519, "X25519", NULL, NULL, "X25519", NULL },
        { UO_FAM_X448, "X448", NULL, NULL, "X448", NULL },
        { UO_FAM_ED25519, "ED25519", "ED25519", NULL, NULL, NULL },
        { UO_FAM_ED448, "ED448", "ED448", NULL, NULL, NULL },
        /* OpenSSL 3.5 and later; on 3.0 these fetches fail and the families stay empty */
#define KEM_FAM(fam, name) { fam, name, NULL, NULL, NULL, name }
#define SIG_FAM(fam, name) { fam, name, name, NULL, NULL, NULL }
        KEM_FAM(UO_FAM_ML_KEM_512, "ML-KEM-512"),
        KEM_FAM(UO_FAM_ML_KEM_768, "ML-KEM-768"),
        KEM_FAM(UO_FAM_ML_KEM_1024, "ML-KEM-1024"),
        KEM_FAM(UO_FAM_X25519MLKEM768, "X25519MLKEM768"),
        KEM_FAM(UO_FAM_X448MLKEM1024, "X448MLKEM1024"),
        KEM_FAM(UO_FAM_P256MLKEM768, "SecP256r1MLKEM768"),
        KEM_FAM(UO_FAM_P384MLKEM1024, "SecP384r1MLKEM1024"),
        SIG_FAM(UO_FAM_ML_DSA_44, "ML-DSA-44"),
        SIG_FAM(UO_FAM_ML_DSA_65, "ML-DSA-65"),
        SIG_FAM(UO_FAM_ML_DSA_87, "ML-DSA-87"),
        SIG_FAM(UO_FAM_SLH_DSA_SHA2_128S, "SLH-DSA-SHA2-128s"),
        SIG_FAM(UO_FAM_SLH_DSA_SHA2_128F, "SLH-DSA-SHA2-128f"),
        SIG_FAM(UO_FAM_SLH_DSA_SHA2_192S, "SLH-DSA-SHA2-192s"),
        SIG_FAM(UO_FAM_SLH_DSA_SHA2_192F, "SLH-DSA-SHA2-192f"),
        SIG_FAM(UO_FAM_SLH_DSA_SHA2_256S, "SLH-DSA-SHA2-256s"),
        SIG_FAM(UO_FAM_SLH_DSA_SHA2_256F, "SLH-DSA-SHA2-256f"),
        SIG_FAM(UO_FAM_SLH_DSA_SHAKE_128S, "SLH-DSA-SHAKE-128s"),
        SIG_FAM(UO_FAM_SLH_DSA_SHAKE_128F, "SLH-DSA-SHAKE-128f"),
        SIG_FAM(UO_FAM_SLH_DSA_SHAKE_192S, "SLH-DSA-SHAKE-192s"),
        SIG_FAM(UO_FAM_SLH_DSA_SHAKE_192F, "SLH-DSA-SHAKE-192f"),
        SIG_FAM(UO_FAM_SLH_DSA_SHAKE_256S, "SLH-DSA-SHAKE-256s"),
        SIG_FAM(UO_FAM_SLH_DSA_SHAKE_256F, "SLH-DSA-SHAKE-256f"),
#undef KEM_FAM
#undef SIG_FAM
    };
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        UO_INNER_ALGS *a = &pc->inner[names[i].fam];

        a->keymgmt = EVP_KEYMGMT_fetch(pc->libctx, names[i].keymgmt, NULL);
        if (a->keymgmt == NULL)
            continue;
        if (names[i].kem != NULL)
            a->kem = EVP_KEM_fetch(pc->libctx, names[i].kem, NULL);
        if (names[i].signature != NULL)
            a->signature = EVP_SIGNATURE_fetch(pc->libctx, names[i].signature, NULL);
        if (names[i].cipher != NULL)
            a->cipher = EVP_ASYM_CIPHER_fetch(pc->libctx, names[i].cipher, NULL);
        if (names[i].exchange != NULL)
            a->exchange = EVP_KEYEXCH_fetch(pc->libctx, names[i].exchange, NULL);
    }
    ERR_clear_error();
}

/*
 * A function of the libcrypto this module runs with, by name, or NULL where that version has none:
 * looked up in the library that holds one of the functions we call, which an application may have
 * loaded privately (RTLD_LOCAL), out of RTLD_DEFAULT's reach.
 */
static void *libcrypto_sym(const char *name)
{
    Dl_info info;
    void *lib, *sym;

    if (dladdr((void *)&EVP_PKEY_CTX_new_from_pkey, &info) == 0 || info.dli_fname == NULL)
        return dlsym(RTLD_DEFAULT, name);
    lib = dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
    if (lib == NULL) /* the address was not libcrypto's own (a non-PIE program's PLT entry) */
        return dlsym(RTLD_DEFAULT, name);
    sym = dlsym(lib, name);
    dlclose(lib); /* RTLD_NOLOAD took a reference on the loaded library; it stays loaded */
    return sym;
}

static void uo_teardown(void *provctx)
{
    UO_PROVCTX *pc = provctx;

    if (pc == NULL)
        return;
    uo_pool_log_stats(pc->pool);
    uo_pool_free(pc->pool);
    algs_free(pc);
    inner_algs_free(pc);
    OSSL_PROVIDER_unload(pc->deflt);
    OSSL_LIB_CTX_free(pc->libctx);
    OPENSSL_free(pc);
}

static const OSSL_DISPATCH uo_dispatch[] = {
    { OSSL_FUNC_PROVIDER_TEARDOWN, (void (*)(void))uo_teardown },
    { OSSL_FUNC_PROVIDER_GETTABLE_PARAMS, (void (*)(void))uo_gettable_params },
    { OSSL_FUNC_PROVIDER_GET_PARAMS, (void (*)(void))uo_get_params },
    { OSSL_FUNC_PROVIDER_QUERY_OPERATION, (void (*)(void))uo_query },
    { OSSL_FUNC_PROVIDER_GET_REASON_STRINGS, (void (*)(void))uo_get_reason_strings },
    { OSSL_FUNC_PROVIDER_GET_CAPABILITIES, (void (*)(void))uo_get_capabilities },
    { 0, NULL }
};

/* The one exported symbol (the build hides everything else). */
__attribute__((visibility("default"))) OSSL_provider_init_fn OSSL_provider_init;

int OSSL_provider_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
                       const OSSL_DISPATCH **out, void **provctx)
{
    UO_PROVCTX *pc = NULL;
    UO_POOL_CONFIG pcfg;
    UO_CONF conf;
    unsigned int ops;
    int mb;

    for (; in->function_id != 0; in++) {
        switch (in->function_id) {
        case OSSL_FUNC_CORE_GET_PARAMS:
            c_get_params = OSSL_FUNC_core_get_params(in);
            break;
        case OSSL_FUNC_CORE_NEW_ERROR:
            c_new_error = OSSL_FUNC_core_new_error(in);
            break;
        case OSSL_FUNC_CORE_SET_ERROR_DEBUG:
            c_set_error_debug = OSSL_FUNC_core_set_error_debug(in);
            break;
        case OSSL_FUNC_CORE_VSET_ERROR:
            c_vset_error = OSSL_FUNC_core_vset_error(in);
            break;
        }
    }
    if (!core_version_ok(handle))
        return 0;
    if (!conf_read(handle, &conf)) {
        UO_LOG(1, "init failed: cannot read the configuration through the core");
        return 0;
    }
    if (!conf_apply(&conf, &pcfg, &ops, &mb)) {
        UO_LOG(1, "init failed: invalid configuration (see above); provider not loaded");
        return 0;
    }
    pc = OPENSSL_zalloc(sizeof(*pc));
    if (pc == NULL) {
        UO_LOG(1, "init failed: out of memory");
        return 0;
    }
    pc->handle = handle;
    pc->offload_ops = ops;
    pc->libctx = OSSL_LIB_CTX_new();
    if (pc->libctx == NULL) {
        UO_LOG(1, "init failed: OSSL_LIB_CTX_new");
        goto err;
    }
    pc->deflt = OSSL_PROVIDER_load(pc->libctx, "default");
    if (pc->deflt == NULL) {
        UO_LOG(1, "init failed: cannot load the default provider into the inner library context");
        goto err;
    }
    inner_algs_fetch(pc);
    if (pc->inner[UO_FAM_RSA].keymgmt == NULL || pc->inner[UO_FAM_RSA].signature == NULL) {
        UO_LOG(1, "init failed: the inner default provider has no RSA");
        goto err;
    }
    /* dlsym's answer is a data pointer; POSIX makes it a function pointer as well. */
    *(void **)&pc->sign_message_init = libcrypto_sym("EVP_PKEY_sign_message_init");
    *(void **)&pc->verify_message_init = libcrypto_sym("EVP_PKEY_verify_message_init");
    if (!algs_build(pc)) {
        UO_LOG(1, "init failed: out of memory");
        goto err;
    }
    UO_LOG(1, "post-quantum: ML-KEM and hybrids %s, ML-DSA %s, SLH-DSA %s",
           pc->inner[UO_FAM_ML_KEM_768].kem != NULL ? "served" : "absent",
           pc->inner[UO_FAM_ML_DSA_65].signature != NULL ? "served" : "absent",
           pc->inner[UO_FAM_SLH_DSA_SHA2_128F].signature != NULL ? "served" : "absent");
    pc->multibuffer = mb_decide(mb);
    pcfg.stats_extra = stats_extra;
    pcfg.stats_arg = pc;
    pc->pool = uo_pool_new(&pcfg);
    if (pc->pool == NULL) {
        UO_LOG(1, "init failed: cannot allocate the worker pool");
        goto err;
    }
    UO_LOG(1, "loaded %s %s: workers=%u (0 = online CPUs), offload=0x%x, queue_bound=%u, "
           "io_uring=%s, sync_mode=%s, spin_us=%u, coalesce_us=%u, worker_priority=%s%d, "
           "inline_below_us=%u, multibuffer=%s", UO_NAME, UO_VERSION, pcfg.workers, ops,
           pcfg.queue_bound, pcfg.use_uring ? "yes" : "no",
           pcfg.sync_mode == UO_SYNC_OFFLOAD ? "offload" : "inline", pcfg.spin_us,
           pcfg.coalesce_us, pcfg.worker_idle ? "idle/" : "", pcfg.worker_nice,
           pcfg.inline_below_us, mb ? "auto" : "no");
    *out = uo_dispatch;
    *provctx = pc;
    return 1;

err:
    if (pc != NULL) {
        algs_free(pc);
        inner_algs_free(pc);
        OSSL_PROVIDER_unload(pc->deflt);
        OSSL_LIB_CTX_free(pc->libctx);
        OPENSSL_free(pc);
    }
    ERR_clear_error();
    return 0;
}

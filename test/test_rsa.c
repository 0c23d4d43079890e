/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_rsa.c - RSA through uringprov, checked against OpenSSL's default provider.
 *
 * Two library contexts: `uo` prefers uringprov, `ref` holds only the default provider. A key is
 * loaded (or generated) on one side and moved to the other by export and import, so that each side
 * computes with its own provider. Deterministic results (PKCS#1 v1.5, X9.31 and raw signatures, raw
 * encryption, recovered data) must match byte for byte; randomised ones (PSS, OAEP, PKCS#1
 * encryption) must verify or decrypt on the other side. Each uringprov operation runs both on the
 * caller's thread and inside an ASYNC job: private-key work in a job must pause and be counted as
 * offloaded; public work and size queries (a NULL output) must neither pause nor be counted.
 *
 * The keys are committed under test/keys/ (UO_TEST_KEYS overrides the directory): generating 4096-
 * and 8192-bit keys would take most of the suite's time budget.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/prov_ssl.h>
#include <openssl/provider.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "helpers/uo_test.h"

#define OFFLOADED "uringprov-offloaded"
#define INLINE "uringprov-inline"
#define FALLBACKS "uringprov-fallbacks"
#define PAUSES "uringprov-pauses"
#define MAXK 1024 /* bytes in an 8192-bit modulus */

static OSSL_LIB_CTX *uo, *ref;

/* uringprov's configuration in `uo` (see offload_configs); the defaults otherwise. */
static struct {
    int public_ops;  /* offload = all: verify and encrypt go to the workers too */
    int none;        /* offload = none */
    int sync_offload; /* sync_mode = offload: outside a job too, on a worker */
} conf;

static void setup(void)
{
    memset(&conf, 0, sizeof(conf));
    uo = uot_libctx_new(NULL);
    ref = uot_default_libctx_new();
    ck_assert_ptr_nonnull(uo);
    ck_assert_ptr_nonnull(ref);
}

static void teardown(void)
{
    OSSL_LIB_CTX_free(uo);
    OSSL_LIB_CTX_free(ref);
    uo = ref = NULL;
}

/* ---- keys ---------------------------------------------------------------------------------- */

static const char *prov_name(const EVP_PKEY *pkey)
{
    const OSSL_PROVIDER *p = EVP_PKEY_get0_provider(pkey);

    return p != NULL ? OSSL_PROVIDER_get0_name(p) : "(legacy)";
}

static BIO *key_file(const char *file)
{
    const char *dir = getenv("UO_TEST_KEYS");
    char path[512];
    BIO *b;

    snprintf(path, sizeof(path), "%s/%s", dir != NULL ? dir : "test/keys", file);
    b = BIO_new_file(path, "r");
    ck_assert_msg(b != NULL, "cannot open %s (run from the source tree or set UO_TEST_KEYS)", path);
    return b;
}

static EVP_PKEY *load_pem(OSSL_LIB_CTX *lc, const char *file)
{
    BIO *b = key_file(file);
    EVP_PKEY *pkey = PEM_read_bio_PrivateKey_ex(b, NULL, NULL, NULL, lc, NULL);

    BIO_free(b);
    ck_assert_msg(pkey != NULL, "cannot decode %s", file);
    return pkey;
}

static const char *key_type(EVP_PKEY *pkey)
{
    return EVP_PKEY_is_a(pkey, "RSA-PSS") ? "RSA-PSS" : "RSA";
}

/* The same key in library context dst, made by dst's preferred keymgmt from src's export. */
static EVP_PKEY *move_key(EVP_PKEY *src, OSSL_LIB_CTX *dst, int selection)
{
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx;
    EVP_PKEY *out = NULL;

    ck_assert_int_eq(EVP_PKEY_todata(src, selection, &params), 1);
    ctx = EVP_PKEY_CTX_new_from_name(dst, key_type(src), NULL);
    ck_assert_ptr_nonnull(ctx);
    ck_assert_int_eq(EVP_PKEY_fromdata_init(ctx), 1);
    ck_assert_int_eq(EVP_PKEY_fromdata(ctx, &out, selection, params), 1);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return out;
}

/* One key on both sides: u in uringprov (in uo), d in the default provider (in ref). */
typedef struct {
    EVP_PKEY *u, *d;
    size_t k; /* modulus bytes */
} KP;

static void kp_load(KP *kp, const char *file)
{
    kp->d = load_pem(ref, file);
    kp->u = move_key(kp->d, uo, EVP_PKEY_KEYPAIR);
    ck_assert_str_eq(prov_name(kp->d), "default");
    ck_assert_str_eq(prov_name(kp->u), "uringprov");
    ck_assert_int_eq(EVP_PKEY_get_size(kp->u), EVP_PKEY_get_size(kp->d));
    kp->k = (size_t)EVP_PKEY_get_size(kp->d);
    ck_assert_uint_le(kp->k, MAXK);
}

static void kp_free(KP *kp)
{
    EVP_PKEY_free(kp->u);
    EVP_PKEY_free(kp->d);
}

static const int sizes[] = { 1024, 2048, 3072, 4096 };
#define NSIZES ((int)(sizeof(sizes) / sizeof(sizes[0])))

static void kp_load_bits(KP *kp, int bits)
{
    char file[32];

    snprintf(file, sizeof(file), "rsa%d.pem", bits);
    kp_load(kp, file);
    ck_assert_int_eq(EVP_PKEY_get_bits(kp->u), bits);
}

/* ---- operation settings, applied the same way on both sides -------------------------------- */

enum how { BY_INT = 0, BY_CTRL_STR, BY_PARAM };

typedef struct {
    int pad;                  /* RSA_*_PADDING; 0 leaves the provider's default */
    enum how pad_how;         /* an int (set_rsa_padding), ctrl_str, or a utf8 OSSL_PARAM */
    const char *md;           /* the signature digest, or the OAEP digest */
    const char *mgf1;
    int has_saltlen;
    enum how salt_how;        /* BY_INT: saltlen_int; else the text in saltlen */
    int saltlen_int;
    const char *saltlen;      /* "digest", "max", "auto" or a number */
    const char *label;        /* OAEP label */
    unsigned int tls_client;  /* tls-client-version, 0: unset */
    unsigned int tls_negotiated;
} CFG;

static const char *pad_name(int pad)
{
    switch (pad) {
    case RSA_PKCS1_PADDING:
        return OSSL_PKEY_RSA_PAD_MODE_PKCSV15;
    case RSA_NO_PADDING:
        return OSSL_PKEY_RSA_PAD_MODE_NONE;
    case RSA_PKCS1_OAEP_PADDING:
        return OSSL_PKEY_RSA_PAD_MODE_OAEP;
    case RSA_X931_PADDING:
        return OSSL_PKEY_RSA_PAD_MODE_X931;
    case RSA_PKCS1_PSS_PADDING:
        return OSSL_PKEY_RSA_PAD_MODE_PSS;
    }
    return "?";
}

static int set_utf8(EVP_PKEY_CTX *c, const char *key, const char *value)
{
    OSSL_PARAM p[2];

    p[0] = OSSL_PARAM_construct_utf8_string(key, (char *)value, 0);
    p[1] = OSSL_PARAM_construct_end();
    return EVP_PKEY_CTX_set_params(c, p) > 0;
}

static int cfg_apply(EVP_PKEY_CTX *c, const CFG *cfg, int is_sig)
{
    if (cfg == NULL)
        return 1;
    /* The digest first: default refuses X9.31 padding while no digest is set. */
    if (cfg->md != NULL && is_sig) {
        const EVP_MD *md = EVP_get_digestbyname(cfg->md);

        if (md == NULL || EVP_PKEY_CTX_set_signature_md(c, md) <= 0)
            return 0;
    }
    if (cfg->pad != 0) {
        switch (cfg->pad_how) {
        case BY_INT:
            if (EVP_PKEY_CTX_set_rsa_padding(c, cfg->pad) <= 0)
                return 0;
            break;
        case BY_CTRL_STR:
            if (EVP_PKEY_CTX_ctrl_str(c, "rsa_padding_mode", pad_name(cfg->pad)) <= 0)
                return 0;
            break;
        case BY_PARAM:
            if (!set_utf8(c, OSSL_SIGNATURE_PARAM_PAD_MODE, pad_name(cfg->pad)))
                return 0;
            break;
        }
    }
    if (cfg->md != NULL && !is_sig && EVP_PKEY_CTX_set_rsa_oaep_md_name(c, cfg->md, NULL) <= 0)
        return 0;
    if (cfg->mgf1 != NULL && EVP_PKEY_CTX_set_rsa_mgf1_md_name(c, cfg->mgf1, NULL) <= 0)
        return 0;
    if (cfg->has_saltlen) {
        switch (cfg->salt_how) {
        case BY_INT:
            if (EVP_PKEY_CTX_set_rsa_pss_saltlen(c, cfg->saltlen_int) <= 0)
                return 0;
            break;
        case BY_CTRL_STR:
            if (EVP_PKEY_CTX_ctrl_str(c, "rsa_pss_saltlen", cfg->saltlen) <= 0)
                return 0;
            break;
        case BY_PARAM:
            if (!set_utf8(c, OSSL_SIGNATURE_PARAM_PSS_SALTLEN, cfg->saltlen))
                return 0;
            break;
        }
    }
    if (cfg->label != NULL) {
        size_t n = strlen(cfg->label);
        unsigned char *l = OPENSSL_memdup(cfg->label, n);

        if (l == NULL || EVP_PKEY_CTX_set0_rsa_oaep_label(c, l, (int)n) <= 0) {
            OPENSSL_free(l);
            return 0;
        }
    }
    if (cfg->tls_client != 0) {
        unsigned int client = cfg->tls_client, negotiated = cfg->tls_negotiated;
        OSSL_PARAM p[3], *q = p;

        *q++ = OSSL_PARAM_construct_uint(OSSL_ASYM_CIPHER_PARAM_TLS_CLIENT_VERSION, &client);
        if (negotiated != 0)
            *q++ = OSSL_PARAM_construct_uint(OSSL_ASYM_CIPHER_PARAM_TLS_NEGOTIATED_VERSION,
                                             &negotiated);
        *q = OSSL_PARAM_construct_end();
        if (EVP_PKEY_CTX_set_params(c, p) <= 0)
            return 0;
    }
    return 1;
}

/* ---- one operation, run on the caller's thread or inside an ASYNC job ---------------------- */

enum op { OP_SIGN, OP_VERIFY, OP_RECOVER, OP_ENCRYPT, OP_DECRYPT };
enum mode { SYNC = 0, ASYNC = 1 };
static const char *const mode_name[] = { "sync", "async" };

/*
 * Everything a job needs, kept off the job's 32 KiB stack. Job functions never assert: they record
 * what happened and the test checks it once the job has finished.
 */
typedef struct {
    OSSL_LIB_CTX *lc;
    EVP_PKEY *key;
    enum op op;
    const CFG *cfg;
    const unsigned char *in;   /* sign: tbs; verify, recover: the signature; encrypt, decrypt */
    size_t inlen;
    const unsigned char *tbs;  /* verify */
    size_t tbslen;
    unsigned char *out;        /* NULL: a size query */
    size_t outsize;
    size_t outlen;             /* written */
    int stage;                 /* 0: the operation ran; 1, 2, 3: context, init or settings failed */
    int rv;                    /* the operation's return value */
    unsigned long err;         /* the first error left on the queue, 0 if none */
} RUN;

static int run_op(void *arg)
{
    RUN *r = arg;
    EVP_PKEY_CTX *c;
    int ok = 0;

    ERR_clear_error();
    r->rv = 0;
    r->outlen = r->outsize;
    r->stage = 1;
    c = EVP_PKEY_CTX_new_from_pkey(r->lc, r->key, NULL);
    if (c == NULL)
        goto done;
    r->stage = 2;
    switch (r->op) {
    case OP_SIGN:
        ok = EVP_PKEY_sign_init(c);
        break;
    case OP_VERIFY:
        ok = EVP_PKEY_verify_init(c);
        break;
    case OP_RECOVER:
        ok = EVP_PKEY_verify_recover_init(c);
        break;
    case OP_ENCRYPT:
        ok = EVP_PKEY_encrypt_init(c);
        break;
    case OP_DECRYPT:
        ok = EVP_PKEY_decrypt_init(c);
        break;
    }
    if (ok <= 0)
        goto done;
    r->stage = 3;
    if (!cfg_apply(c, r->cfg, r->op != OP_ENCRYPT && r->op != OP_DECRYPT))
        goto done;
    r->stage = 0;
    switch (r->op) {
    case OP_SIGN:
        r->rv = EVP_PKEY_sign(c, r->out, &r->outlen, r->in, r->inlen);
        break;
    case OP_VERIFY:
        r->rv = EVP_PKEY_verify(c, r->in, r->inlen, r->tbs, r->tbslen);
        break;
    case OP_RECOVER:
        r->rv = EVP_PKEY_verify_recover(c, r->out, &r->outlen, r->in, r->inlen);
        break;
    case OP_ENCRYPT:
        r->rv = EVP_PKEY_encrypt(c, r->out, &r->outlen, r->in, r->inlen);
        break;
    case OP_DECRYPT:
        r->rv = EVP_PKEY_decrypt(c, r->out, &r->outlen, r->in, r->inlen);
        break;
    }
done:
    r->err = ERR_peek_error();
    EVP_PKEY_CTX_free(c);
    return r->rv > 0;
}

enum expect { EXPECT_ANY = -1, EXPECT_NO_OFFLOAD = 0, EXPECT_OFFLOAD = 1 };


/*
 * Runs fn(arg), in a job when mode is ASYNC. There, EXPECT_OFFLOAD requires that the job paused,
 * on exactly one fd, and that uringprov counted an offloaded operation; EXPECT_NO_OFFLOAD requires
 * no pause and that nothing went through the offload engine at all. Outside a job, EXPECT_OFFLOAD
 * requires a request run inline on the caller's thread (or, with sync_mode = offload, on a worker),
 * and EXPECT_NO_OFFLOAD none.
 */
static int exec_fn(uot_fn *fn, void *arg, enum mode mode, enum expect expect, const char *what)
{
    UOT_JOB_STATS st;
    uint64_t off0, inl0, pauses0, off, inl, pauses;
    int rv;

    off0 = uot_counter(uo, OFFLOADED);
    inl0 = uot_counter(uo, INLINE) + uot_counter(uo, FALLBACKS);
    pauses0 = uot_counter(uo, PAUSES);
    if (mode == SYNC) {
        memset(&st, 0, sizeof(st));
        rv = fn(arg);
    } else {
        rv = uot_run_in_job(fn, arg, &st);
        ck_assert_msg(rv != -1, "%s: the ASYNC job failed", what);
    }
    off = uot_counter(uo, OFFLOADED);
    inl = uot_counter(uo, INLINE) + uot_counter(uo, FALLBACKS);
    pauses = uot_counter(uo, PAUSES);
    if (expect == EXPECT_OFFLOAD && mode == ASYNC) {
        ck_assert_msg(st.pauses >= 1, "%s: the job never paused", what);
        ck_assert_msg(st.fds_seen == 1, "%s: %d fds at a pause, not 1", what, st.fds_seen);
        ck_assert_msg(off > off0, "%s: nothing offloaded (%llu -> %llu)", what,
                      (unsigned long long)off0, (unsigned long long)off);
    } else if (expect == EXPECT_OFFLOAD) {
        if (conf.sync_offload)
            ck_assert_msg(off > off0, "%s: sync_mode = offload, not offloaded", what);
        else
            ck_assert_msg(inl > inl0 && off == off0, "%s: no inline request", what);
    } else if (expect == EXPECT_NO_OFFLOAD) {
        ck_assert_msg(st.pauses == 0, "%s: the job paused %d times", what, st.pauses);
        ck_assert_msg(off == off0, "%s: counted as offloaded", what);
        ck_assert_msg(pauses == pauses0, "%s: counted a pause", what);
        ck_assert_msg(inl == inl0, "%s: went through the offload engine", what);
    }
    return rv;
}

static int exec(RUN *r, enum mode mode, enum expect expect, const char *what)
{
    return exec_fn(run_op, r, mode, expect, what);
}

/* What a private-key operation (sign, decrypt, keygen) does under the configuration. */
static enum expect expect_private(void)
{
    return conf.none ? EXPECT_NO_OFFLOAD : EXPECT_OFFLOAD;
}

/* What verify, verify_recover and encrypt do. */
static enum expect expect_public(void)
{
    return conf.public_ops && !conf.none ? EXPECT_OFFLOAD : EXPECT_NO_OFFLOAD;
}

/* Size queries (a NULL output) never reach the engine; the rest depends on the operation. */
static enum expect expect_for(const RUN *r)
{
    if (r->lc != uo)
        return EXPECT_ANY;
    if (r->op == OP_VERIFY)
        return expect_public();
    if (r->out == NULL)
        return EXPECT_NO_OFFLOAD;
    return r->op == OP_SIGN || r->op == OP_DECRYPT ? expect_private() : expect_public();
}

static size_t sign_ok(OSSL_LIB_CTX *lc, EVP_PKEY *key, const CFG *cfg, const unsigned char *tbs,
                      size_t tbslen, unsigned char *sig, enum mode mode, const char *what)
{
    RUN r = { .lc = lc, .key = key, .op = OP_SIGN, .cfg = cfg, .in = tbs, .inlen = tbslen,
              .out = sig, .outsize = MAXK };

    exec(&r, mode, expect_for(&r), what);
    ck_assert_msg(r.stage == 0 && r.rv == 1, "%s: sign failed (stage %d, rv %d, err %s)", what,
                  r.stage, r.rv, ERR_error_string(r.err, NULL));
    return r.outlen;
}

/* The verify result (1, 0 or negative), with the settings applied successfully. */
static int verify_rc(OSSL_LIB_CTX *lc, EVP_PKEY *key, const CFG *cfg, const unsigned char *sig,
                     size_t siglen, const unsigned char *tbs, size_t tbslen, enum mode mode,
                     const char *what)
{
    RUN r = { .lc = lc, .key = key, .op = OP_VERIFY, .cfg = cfg, .in = sig, .inlen = siglen,
              .tbs = tbs, .tbslen = tbslen };

    exec(&r, mode, expect_for(&r), what);
    ck_assert_msg(r.stage == 0, "%s: verify set-up failed at stage %d (%s)", what, r.stage,
                  ERR_error_string(r.err, NULL));
    return r.rv;
}

static size_t crypt_ok(OSSL_LIB_CTX *lc, EVP_PKEY *key, enum op op, const CFG *cfg,
                       const unsigned char *in, size_t inlen, unsigned char *out, enum mode mode,
                       const char *what)
{
    RUN r = { .lc = lc, .key = key, .op = op, .cfg = cfg, .in = in, .inlen = inlen, .out = out,
              .outsize = MAXK };

    exec(&r, mode, expect_for(&r), what);
    ck_assert_msg(r.stage == 0 && r.rv == 1, "%s: %s failed (stage %d, rv %d, err %s)", what,
                  op == OP_ENCRYPT ? "encrypt" : op == OP_DECRYPT ? "decrypt" : "recover",
                  r.stage, r.rv, ERR_error_string(r.err, NULL));
    return r.outlen;
}

/*
 * A size query through uringprov inside a job: answered as default answers it, without a pause or
 * an offload.
 */
static void size_query(const KP *kp, enum op op, const CFG *cfg, const unsigned char *in,
                       size_t inlen, const char *what)
{
    RUN r = { .lc = uo, .key = kp->u, .op = op, .cfg = cfg, .in = in, .inlen = inlen };
    RUN d = r;

    d.lc = ref;
    d.key = kp->d;
    run_op(&d);
    ck_assert_msg(d.stage == 0 && d.rv == 1, "%s: default's size query failed", what);
    exec(&r, ASYNC, EXPECT_NO_OFFLOAD, what);
    ck_assert_msg(r.stage == 0 && r.rv == 1, "%s: size query failed (stage %d, err %s)", what,
                  r.stage, ERR_error_string(r.err, NULL));
    ck_assert_msg(r.outlen == d.outlen, "%s: size %zu, default %zu", what, r.outlen, d.outlen);
}

static size_t digest(const char *md, const unsigned char *msg, size_t len, unsigned char *out)
{
    size_t n = 0;

    ck_assert_int_eq(EVP_Q_digest(ref, md, NULL, msg, len, out, &n), 1);
    return n;
}

static const unsigned char msg[] = "uringprov differential test message";

/* ---- signatures ---------------------------------------------------------------------------- */

/*
 * A deterministic scheme: uringprov's signature equals default's byte for byte, each side verifies
 * the other's, and a flipped bit fails on both.
 */
static void check_deterministic(KP *kp, const CFG *cfg, const unsigned char *tbs, size_t tbslen,
                                const char *name)
{
    unsigned char sig_d[MAXK], sig_u[MAXK];
    size_t len_d, len_u;
    char what[128];
    int m;

    len_d = sign_ok(ref, kp->d, cfg, tbs, tbslen, sig_d, SYNC, name);
    ck_assert_uint_eq(len_d, kp->k);
    for (m = SYNC; m <= ASYNC; m++) {
        snprintf(what, sizeof(what), "%s %zu-bit %s", name, kp->k * 8, mode_name[m]);
        memset(sig_u, 0, sizeof(sig_u));
        len_u = sign_ok(uo, kp->u, cfg, tbs, tbslen, sig_u, m, what);
        ck_assert_msg(len_u == len_d, "%s: length %zu, default %zu", what, len_u, len_d);
        ck_assert_msg(memcmp(sig_u, sig_d, len_d) == 0, "%s: differs from default", what);
        ck_assert_int_eq(verify_rc(ref, kp->d, cfg, sig_u, len_u, tbs, tbslen, SYNC, what), 1);
        ck_assert_int_eq(verify_rc(uo, kp->u, cfg, sig_d, len_d, tbs, tbslen, m, what), 1);
        sig_u[len_u / 2] ^= 0x10;
        ck_assert_int_le(verify_rc(uo, kp->u, cfg, sig_u, len_u, tbs, tbslen, m, what), 0);
        ck_assert_int_le(verify_rc(ref, kp->d, cfg, sig_u, len_u, tbs, tbslen, SYNC, what), 0);
    }
    snprintf(what, sizeof(what), "%s %zu-bit size query", name, kp->k * 8);
    size_query(kp, OP_SIGN, cfg, tbs, tbslen, what);
}

/* A digest-sized (or 36-byte, as openssl speed signs) input for cfg's digest. */
static size_t tbs_for(const CFG *cfg, unsigned char *tbs)
{
    if (cfg->md == NULL) {
        memset(tbs, 0x5a, 36);
        return 36;
    }
    return digest(cfg->md, msg, sizeof(msg), tbs);
}

START_TEST(sign_pkcs1)
{
    static const CFG cfgs[] = {
        { .pad = RSA_PKCS1_PADDING, .pad_how = BY_INT, .md = "SHA256" },
        { .pad = RSA_PKCS1_PADDING, .pad_how = BY_CTRL_STR, .md = "SHA384" },
        { .pad = RSA_PKCS1_PADDING, .pad_how = BY_PARAM, .md = "SHA512" },
        { .pad = RSA_PKCS1_PADDING, .pad_how = BY_INT, .md = "MD5-SHA1" }, /* TLS 1.0/1.1 */
        { .md = "SHA1" },                                  /* the default padding */
        { .pad = RSA_PKCS1_PADDING, .pad_how = BY_INT },   /* no digest: openssl speed's sign */
        { 0 },                                             /* nothing set at all */
    };
    unsigned char tbs[64];
    size_t i, n;
    KP kp;

    kp_load_bits(&kp, sizes[_i]);
    for (i = 0; i < sizeof(cfgs) / sizeof(cfgs[0]); i++) {
        char name[64];

        snprintf(name, sizeof(name), "PKCS#1 v1.5 #%zu", i);
        n = tbs_for(&cfgs[i], tbs);
        check_deterministic(&kp, &cfgs[i], tbs, n, name);
    }
    kp_free(&kp);
}
END_TEST

START_TEST(sign_x931_none)
{
    static const CFG x931[] = {
        { .pad = RSA_X931_PADDING, .pad_how = BY_INT, .md = "SHA256" },
        { .pad = RSA_X931_PADDING, .pad_how = BY_CTRL_STR, .md = "SHA1" },
        { .pad = RSA_X931_PADDING, .pad_how = BY_PARAM, .md = "SHA512" },
    };
    static const CFG none[] = {
        { .pad = RSA_NO_PADDING, .pad_how = BY_INT },
        { .pad = RSA_NO_PADDING, .pad_how = BY_CTRL_STR },
        { .pad = RSA_NO_PADDING, .pad_how = BY_PARAM },
    };
    unsigned char tbs[MAXK];
    size_t i, n;
    KP kp;

    kp_load_bits(&kp, sizes[_i]);
    for (i = 0; i < sizeof(x931) / sizeof(x931[0]); i++) {
        n = tbs_for(&x931[i], tbs);
        check_deterministic(&kp, &x931[i], tbs, n, "X9.31");
    }
    /* A raw block below the modulus. */
    ck_assert_int_eq(RAND_bytes(tbs, (int)kp.k), 1);
    tbs[0] = 0;
    for (i = 0; i < sizeof(none) / sizeof(none[0]); i++)
        check_deterministic(&kp, &none[i], tbs, kp.k, "no padding");
    kp_free(&kp);
}
END_TEST

/* PSS signs with a fresh salt: each side verifies the other's signatures with vcfg. */
static void check_pss(KP *kp, const CFG *scfg, const CFG *vcfg, const char *name)
{
    unsigned char tbs[64], sig_d[MAXK], sig_u[MAXK];
    size_t tbslen = digest(scfg->md, msg, sizeof(msg), tbs), len_d, len_u;
    char what[128];
    int m;

    len_d = sign_ok(ref, kp->d, scfg, tbs, tbslen, sig_d, SYNC, name);
    for (m = SYNC; m <= ASYNC; m++) {
        snprintf(what, sizeof(what), "%s %zu-bit %s", name, kp->k * 8, mode_name[m]);
        len_u = sign_ok(uo, kp->u, scfg, tbs, tbslen, sig_u, m, what);
        ck_assert_uint_eq(len_u, kp->k);
        ck_assert_msg(verify_rc(ref, kp->d, vcfg, sig_u, len_u, tbs, tbslen, SYNC, what) == 1,
                      "%s: default rejects uringprov's signature", what);
        ck_assert_msg(verify_rc(ref, kp->d, scfg, sig_u, len_u, tbs, tbslen, SYNC, what) == 1,
                      "%s: default rejects uringprov's signature", what);
        ck_assert_msg(verify_rc(uo, kp->u, vcfg, sig_d, len_d, tbs, tbslen, m, what) == 1,
                      "%s: uringprov rejects default's signature", what);
        ck_assert_msg(verify_rc(uo, kp->u, scfg, sig_u, len_u, tbs, tbslen, m, what) == 1,
                      "%s: uringprov rejects its own signature", what);
        tbs[0] ^= 1;
        ck_assert_int_le(verify_rc(uo, kp->u, vcfg, sig_u, len_u, tbs, tbslen, m, what), 0);
        ck_assert_int_le(verify_rc(ref, kp->d, vcfg, sig_u, len_u, tbs, tbslen, SYNC, what), 0);
        tbs[0] ^= 1;
    }
    snprintf(what, sizeof(what), "%s %zu-bit size query", name, kp->k * 8);
    size_query(kp, OP_SIGN, scfg, tbs, tbslen, what);
}

#define PSS(how, md_, mgf1_) .pad = RSA_PKCS1_PSS_PADDING, .pad_how = (how), .md = (md_), \
                             .mgf1 = (mgf1_), .has_saltlen = 1

START_TEST(sign_pss)
{
    static const struct { CFG s, v; } cases[] = {
        /* saltlen names through ctrl_str, verified with the same or with auto */
        { { PSS(BY_INT, "SHA256", "SHA256"), .salt_how = BY_CTRL_STR, .saltlen = "digest" },
          { PSS(BY_INT, "SHA256", "SHA256"), .salt_how = BY_CTRL_STR, .saltlen = "digest" } },
        { { PSS(BY_CTRL_STR, "SHA256", "SHA1"), .salt_how = BY_CTRL_STR, .saltlen = "max" },
          { PSS(BY_INT, "SHA256", "SHA1"), .salt_how = BY_CTRL_STR, .saltlen = "auto" } },
        /* a number, as an int and as text */
        { { PSS(BY_PARAM, "SHA384", NULL), .salt_how = BY_INT, .saltlen_int = 20 },
          { PSS(BY_PARAM, "SHA384", NULL), .salt_how = BY_PARAM, .saltlen = "20" } },
        { { PSS(BY_INT, "SHA256", NULL), .salt_how = BY_CTRL_STR, .saltlen = "0" },
          { PSS(BY_CTRL_STR, "SHA256", NULL), .salt_how = BY_INT, .saltlen_int = 0 } },
        /* the special values as ints, and names as utf8 parameters */
        { { PSS(BY_INT, "SHA256", NULL), .salt_how = BY_INT, .saltlen_int = RSA_PSS_SALTLEN_DIGEST },
          { PSS(BY_INT, "SHA256", NULL), .salt_how = BY_INT, .saltlen_int = RSA_PSS_SALTLEN_AUTO } },
        { { PSS(BY_INT, "SHA512", "SHA256"), .salt_how = BY_INT, .saltlen_int = RSA_PSS_SALTLEN_MAX },
          { PSS(BY_PARAM, "SHA512", "SHA256"), .salt_how = BY_PARAM, .saltlen = "auto" } },
        { { PSS(BY_PARAM, "SHA1", "SHA1"), .salt_how = BY_PARAM, .saltlen = "max" },
          { PSS(BY_PARAM, "SHA1", "SHA1"), .salt_how = BY_PARAM, .saltlen = "max" } },
        /* no saltlen: the default (digest length when signing, auto when verifying) */
        { { .pad = RSA_PKCS1_PSS_PADDING, .pad_how = BY_PARAM, .md = "SHA256" },
          { .pad = RSA_PKCS1_PSS_PADDING, .pad_how = BY_INT, .md = "SHA256" } },
    };
    static const CFG salt20 = { PSS(BY_INT, "SHA256", NULL), .salt_how = BY_INT,
                                .saltlen_int = 20 };
    static const CFG salt32 = { PSS(BY_INT, "SHA256", NULL), .salt_how = BY_CTRL_STR,
                                .saltlen = "32" };
    unsigned char tbs[32], sig[MAXK];
    size_t i, n, len;
    KP kp;

    kp_load_bits(&kp, sizes[_i]);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char name[32];

        snprintf(name, sizeof(name), "PSS #%zu", i);
        check_pss(&kp, &cases[i].s, &cases[i].v, name);
    }
    /* A salt length other than the one expected fails on both sides. */
    n = digest("SHA256", msg, sizeof(msg), tbs);
    len = sign_ok(uo, kp.u, &salt20, tbs, n, sig, ASYNC, "PSS salt 20");
    ck_assert_int_le(verify_rc(uo, kp.u, &salt32, sig, len, tbs, n, SYNC, "PSS salt 32"), 0);
    ck_assert_int_le(verify_rc(ref, kp.d, &salt32, sig, len, tbs, n, SYNC, "PSS salt 32"), 0);
    ck_assert_int_eq(verify_rc(ref, kp.d, &salt20, sig, len, tbs, n, SYNC, "PSS salt 20"), 1);
    kp_free(&kp);
}
END_TEST

START_TEST(verify_recover)
{
    static const CFG cfgs[] = {
        { .pad = RSA_PKCS1_PADDING, .pad_how = BY_INT, .md = "SHA256" },
        { .pad = RSA_PKCS1_PADDING, .pad_how = BY_CTRL_STR },
        { .pad = RSA_X931_PADDING, .pad_how = BY_PARAM, .md = "SHA256" },
        { .pad = RSA_NO_PADDING, .pad_how = BY_INT },
    };
    unsigned char tbs[MAXK], sig[MAXK], out_d[MAXK], out_u[MAXK];
    size_t i, n, len, len_d, len_u;
    KP kp;
    int m;

    kp_load_bits(&kp, sizes[_i]);
    for (i = 0; i < sizeof(cfgs) / sizeof(cfgs[0]); i++) {
        char what[64];

        if (cfgs[i].pad == RSA_NO_PADDING) {
            ck_assert_int_eq(RAND_bytes(tbs, (int)kp.k), 1);
            tbs[0] = 0;
            n = kp.k;
        } else {
            n = tbs_for(&cfgs[i], tbs);
        }
        len = sign_ok(ref, kp.d, &cfgs[i], tbs, n, sig, SYNC, "recover: sign");
        len_d = crypt_ok(ref, kp.d, OP_RECOVER, &cfgs[i], sig, len, out_d, SYNC, "recover");
        ck_assert_uint_eq(len_d, n);
        ck_assert_mem_eq(out_d, tbs, n);
        for (m = SYNC; m <= ASYNC; m++) {
            snprintf(what, sizeof(what), "recover #%zu %zu-bit %s", i, kp.k * 8, mode_name[m]);
            memset(out_u, 0, sizeof(out_u));
            len_u = crypt_ok(uo, kp.u, OP_RECOVER, &cfgs[i], sig, len, out_u, m, what);
            ck_assert_msg(len_u == len_d, "%s: %zu bytes, default %zu", what, len_u, len_d);
            ck_assert_msg(memcmp(out_u, out_d, len_d) == 0, "%s: differs from default", what);
        }
        {
            RUN r = { .lc = uo, .key = kp.u, .op = OP_RECOVER, .cfg = &cfgs[i], .in = sig,
                      .inlen = len };
            RUN d = r;

            d.lc = ref;
            d.key = kp.d;
            run_op(&d);
            exec(&r, ASYNC, EXPECT_NO_OFFLOAD, "recover size query");
            ck_assert_int_eq(r.rv, d.rv);
            ck_assert_uint_eq(r.outlen, d.outlen);
        }
    }
    kp_free(&kp);
}
END_TEST

/* ---- digest sign and verify ---------------------------------------------------------------- */

typedef struct {
    OSSL_LIB_CTX *lc;
    EVP_PKEY *key;
    const char *md;
    const CFG *cfg;           /* applied to the EVP_PKEY_CTX that DigestSignInit returns */
    int size_only;            /* stop after EVP_DigestSignFinal with a NULL buffer */
    size_t qlen;              /* the size query's answer */
    unsigned char sig1[MAXK]; /* msg, through update, update, final */
    unsigned char sig2[MAXK]; /* a copy of the context, fed differently, then final */
    unsigned char sig3[MAXK]; /* one-shot EVP_DigestSign of msg */
    size_t len1, len2, len3;
    int stage;                /* 0: all done; else the step that failed */
    unsigned long err;
} DS;

static const unsigned char part1[] = "the first part, ";
static const unsigned char part2[] = "then the second";
static const unsigned char part3[] = "or another ending";

static int ds_run(void *arg)
{
    DS *d = arg;
    EVP_MD_CTX *mc = EVP_MD_CTX_new(), *copy = EVP_MD_CTX_new(), *one = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pc = NULL;

    ERR_clear_error();
    d->stage = 1;
    if (mc == NULL || copy == NULL || one == NULL
        || EVP_DigestSignInit_ex(mc, &pc, d->md, d->lc, NULL, d->key, NULL) <= 0)
        goto done;
    d->stage = 2;
    if (!cfg_apply(pc, d->cfg, 1))
        goto done;
    d->stage = 3;
    if (EVP_DigestSignUpdate(mc, part1, sizeof(part1) - 1) <= 0)
        goto done;
    d->stage = 4;
    if (!EVP_MD_CTX_copy_ex(copy, mc))
        goto done;
    d->stage = 5;
    d->qlen = 0;
    if (EVP_DigestSignUpdate(mc, part2, sizeof(part2) - 1) <= 0
        || EVP_DigestSignFinal(mc, NULL, &d->qlen) <= 0)
        goto done;
    if (d->size_only) {
        d->stage = 0;
        goto done;
    }
    d->stage = 6;
    d->len1 = sizeof(d->sig1);
    if (EVP_DigestSignFinal(mc, d->sig1, &d->len1) <= 0)
        goto done;
    d->stage = 7;
    d->len2 = sizeof(d->sig2);
    if (EVP_DigestSignUpdate(copy, part3, sizeof(part3) - 1) <= 0
        || EVP_DigestSignFinal(copy, d->sig2, &d->len2) <= 0)
        goto done;
    d->stage = 8;
    pc = NULL;
    d->len3 = sizeof(d->sig3);
    if (EVP_DigestSignInit_ex(one, &pc, d->md, d->lc, NULL, d->key, NULL) <= 0
        || !cfg_apply(pc, d->cfg, 1)
        || EVP_DigestSign(one, d->sig3, &d->len3, msg, sizeof(msg)) <= 0)
        goto done;
    d->stage = 0;
done:
    d->err = ERR_peek_error();
    EVP_MD_CTX_free(mc);
    EVP_MD_CTX_free(copy);
    EVP_MD_CTX_free(one);
    return d->stage == 0;
}

typedef struct {
    OSSL_LIB_CTX *lc;
    EVP_PKEY *key;
    const char *md;
    const CFG *cfg;
    const unsigned char *sig;
    size_t siglen;
    const unsigned char *data1, *data2; /* verified as data1 || data2 (data2 may be NULL) */
    size_t len1, len2;
    int oneshot;                         /* EVP_DigestVerify rather than update and final */
    int rv;
    int stage;
} DV;

static int dv_run(void *arg)
{
    DV *v = arg;
    EVP_MD_CTX *mc = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pc = NULL;

    v->rv = 0;
    v->stage = 1;
    if (mc == NULL || EVP_DigestVerifyInit_ex(mc, &pc, v->md, v->lc, NULL, v->key, NULL) <= 0)
        goto done;
    v->stage = 2;
    if (!cfg_apply(pc, v->cfg, 1))
        goto done;
    v->stage = 0;
    if (v->oneshot) {
        v->rv = EVP_DigestVerify(mc, v->sig, v->siglen, v->data1, v->len1);
    } else if (EVP_DigestVerifyUpdate(mc, v->data1, v->len1) > 0
               && (v->data2 == NULL || EVP_DigestVerifyUpdate(mc, v->data2, v->len2) > 0)) {
        v->rv = EVP_DigestVerifyFinal(mc, v->sig, v->siglen);
    }
done:
    EVP_MD_CTX_free(mc);
    return v->rv > 0;
}

static int dverify(OSSL_LIB_CTX *lc, EVP_PKEY *key, const char *md, const CFG *cfg,
                   const unsigned char *sig, size_t siglen, const unsigned char *d1, size_t l1,
                   const unsigned char *d2, size_t l2, int oneshot, enum mode mode)
{
    DV v = { lc, key, md, cfg, sig, siglen, d1, d2, l1, l2, oneshot, 0, 0 };

    exec_fn(dv_run, &v, mode, lc == uo ? expect_public() : EXPECT_ANY, "digest verify");
    ck_assert_msg(v.stage == 0, "digest verify set-up failed at stage %d", v.stage);
    return v.rv;
}

static void check_digest_sign(KP *kp, const char *md, const CFG *cfg, int deterministic)
{
    DS *u = OPENSSL_zalloc(sizeof(*u)), *d = OPENSSL_zalloc(sizeof(*d));
    unsigned char all12[64], all13[64];
    size_t l12, l13;
    char what[96];
    int m;

    ck_assert_ptr_nonnull(u);
    ck_assert_ptr_nonnull(d);
    l12 = (size_t)snprintf((char *)all12, sizeof(all12), "%s%s", part1, part2);
    l13 = (size_t)snprintf((char *)all13, sizeof(all13), "%s%s", part1, part3);
    *d = (DS){ .lc = ref, .key = kp->d, .md = md, .cfg = cfg };
    ds_run(d);
    ck_assert_msg(d->stage == 0, "default digest sign failed at stage %d", d->stage);
    for (m = SYNC; m <= ASYNC; m++) {
        snprintf(what, sizeof(what), "digest sign %s %s %zu-bit %s", md != NULL ? md : "(default)",
                 cfg != NULL && cfg->pad == RSA_PKCS1_PSS_PADDING ? "PSS" : "PKCS#1",
                 kp->k * 8, mode_name[m]);
        *u = (DS){ .lc = uo, .key = kp->u, .md = md, .cfg = cfg };
        exec_fn(ds_run, u, m, expect_private(), what);
        ck_assert_msg(u->stage == 0, "%s: failed at stage %d (%s)", what, u->stage,
                      ERR_error_string(u->err, NULL));
        ck_assert_uint_eq(u->qlen, kp->k);
        ck_assert_uint_eq(u->len1, kp->k);
        ck_assert_uint_eq(u->len2, kp->k);
        ck_assert_uint_eq(u->len3, kp->k);
        if (deterministic) {
            ck_assert_msg(memcmp(u->sig1, d->sig1, kp->k) == 0, "%s: final differs", what);
            ck_assert_msg(memcmp(u->sig2, d->sig2, kp->k) == 0, "%s: copy differs", what);
            ck_assert_msg(memcmp(u->sig3, d->sig3, kp->k) == 0, "%s: one-shot differs", what);
        }
        /* Each side verifies the other's, by update and final and one-shot. */
        ck_assert_int_eq(dverify(ref, kp->d, md, cfg, u->sig1, u->len1, part1, sizeof(part1) - 1,
                                 part2, sizeof(part2) - 1, 0, SYNC), 1);
        ck_assert_int_eq(dverify(ref, kp->d, md, cfg, u->sig2, u->len2, all13, l13, NULL, 0, 1,
                                 SYNC), 1);
        ck_assert_int_eq(dverify(ref, kp->d, md, cfg, u->sig3, u->len3, msg, sizeof(msg), NULL,
                                 0, 1, SYNC), 1);
        ck_assert_int_eq(dverify(uo, kp->u, md, cfg, d->sig1, d->len1, all12, l12, NULL, 0, 1, m),
                         1);
        ck_assert_int_eq(dverify(uo, kp->u, md, cfg, d->sig2, d->len2, part1, sizeof(part1) - 1,
                                 part3, sizeof(part3) - 1, 0, m), 1);
        ck_assert_int_le(dverify(uo, kp->u, md, cfg, d->sig2, d->len2, all12, l12, NULL, 0, 1, m),
                         0);
        ck_assert_int_le(dverify(uo, kp->u, md, cfg, d->sig2, d->len2, part1, sizeof(part1) - 1,
                                 part2, sizeof(part2) - 1, 0, m), 0);
    }
    /* EVP_DigestSignFinal with a NULL buffer alone: no pause, nothing offloaded. */
    *u = (DS){ .lc = uo, .key = kp->u, .md = md, .cfg = cfg, .size_only = 1 };
    exec_fn(ds_run, u, ASYNC, EXPECT_NO_OFFLOAD, "digest sign size query");
    ck_assert_int_eq(u->stage, 0);
    ck_assert_uint_eq(u->qlen, kp->k);
    OPENSSL_free(u);
    OPENSSL_free(d);
}

START_TEST(digest_sign)
{
    static const CFG pss = { PSS(BY_INT, NULL, "SHA1"), .salt_how = BY_CTRL_STR,
                             .saltlen = "max" };
    static const CFG pss_str = { .pad = RSA_PKCS1_PSS_PADDING, .pad_how = BY_CTRL_STR };
    static const CFG pkcs1_str = { .pad = RSA_PKCS1_PADDING, .pad_how = BY_PARAM };
    KP kp;

    kp_load_bits(&kp, sizes[_i]);
    check_digest_sign(&kp, "SHA256", NULL, 1);
    check_digest_sign(&kp, NULL, NULL, 1); /* the key's default digest */
    check_digest_sign(&kp, "SHA512", &pkcs1_str, 1);
    check_digest_sign(&kp, "SHA256", &pss, 0);
    check_digest_sign(&kp, "SHA384", &pss_str, 0);
    kp_free(&kp);
}
END_TEST

/* ---- encryption ---------------------------------------------------------------------------- */

/* uringprov and default decrypt each other's ciphertexts; a broken one fails alike. */
static void check_crypt(KP *kp, const CFG *cfg, const unsigned char *pt, size_t ptlen,
                        const char *name)
{
    unsigned char ct_d[MAXK], ct_u[MAXK], out[MAXK];
    size_t len_d, len_u, n;
    char what[128];
    int m;

    len_d = crypt_ok(ref, kp->d, OP_ENCRYPT, cfg, pt, ptlen, ct_d, SYNC, name);
    ck_assert_uint_eq(len_d, kp->k);
    for (m = SYNC; m <= ASYNC; m++) {
        snprintf(what, sizeof(what), "%s %zu-bit %s", name, kp->k * 8, mode_name[m]);
        len_u = crypt_ok(uo, kp->u, OP_ENCRYPT, cfg, pt, ptlen, ct_u, m, what);
        ck_assert_uint_eq(len_u, kp->k);
        if (cfg->pad == RSA_NO_PADDING)
            ck_assert_msg(memcmp(ct_u, ct_d, len_d) == 0, "%s: differs from default", what);
        n = crypt_ok(ref, kp->d, OP_DECRYPT, cfg, ct_u, len_u, out, SYNC, what);
        ck_assert_msg(n == ptlen && memcmp(out, pt, n) == 0, "%s: default cannot decrypt", what);
        memset(out, 0, sizeof(out));
        n = crypt_ok(uo, kp->u, OP_DECRYPT, cfg, ct_d, len_d, out, m, what);
        ck_assert_msg(n == ptlen && memcmp(out, pt, n) == 0, "%s: wrong plaintext", what);
        n = crypt_ok(uo, kp->u, OP_DECRYPT, cfg, ct_u, len_u, out, m, what);
        ck_assert_msg(n == ptlen && memcmp(out, pt, n) == 0, "%s: wrong round trip", what);
    }
    snprintf(what, sizeof(what), "%s %zu-bit size query", name, kp->k * 8);
    size_query(kp, OP_ENCRYPT, cfg, pt, ptlen, what);
    size_query(kp, OP_DECRYPT, cfg, ct_d, len_d, what);
}

/* A ciphertext that decrypts to something unusable: both sides give the same answer. */
static void check_bad_ciphertext(KP *kp, const CFG *cfg, const unsigned char *ct, size_t ctlen,
                                 size_t outsize, const char *name)
{
    unsigned char out_d[MAXK], out_u[MAXK];
    RUN d = { .lc = ref, .key = kp->d, .op = OP_DECRYPT, .cfg = cfg, .in = ct, .inlen = ctlen,
              .out = out_d, .outsize = outsize };
    RUN u = d;
    char what[128];
    int m;

    run_op(&d);
    ck_assert_int_eq(d.stage, 0);
    u.lc = uo;
    u.key = kp->u;
    u.out = out_u;
    for (m = SYNC; m <= ASYNC; m++) {
        snprintf(what, sizeof(what), "%s %zu-bit %s", name, kp->k * 8, mode_name[m]);
        exec(&u, m, expect_private(), what);
        ck_assert_int_eq(u.stage, 0);
        ck_assert_msg((u.rv > 0) == (d.rv > 0), "%s: rv %d, default %d", what, u.rv, d.rv);
        if (d.rv > 0) {
            /* an implicit rejection: deterministic, except TLS's random premaster */
            ck_assert_uint_eq(u.outlen, d.outlen);
            if (cfg->pad != RSA_PKCS1_WITH_TLS_PADDING)
                ck_assert_mem_eq(out_u, out_d, d.outlen);
        } else {
            ck_assert_msg(u.err != 0, "%s: failed without an error on the queue", what);
        }
    }
}

START_TEST(encrypt_pkcs1_oaep_none)
{
    static const CFG pkcs1[] = {
        { .pad = RSA_PKCS1_PADDING, .pad_how = BY_INT },
        { .pad = RSA_PKCS1_PADDING, .pad_how = BY_CTRL_STR },
        { .pad = RSA_PKCS1_PADDING, .pad_how = BY_PARAM },
        { 0 }, /* the default padding */
    };
    static const CFG oaep[] = {
        { .pad = RSA_PKCS1_OAEP_PADDING, .pad_how = BY_INT },
        { .pad = RSA_PKCS1_OAEP_PADDING, .pad_how = BY_CTRL_STR, .md = "SHA256" },
        { .pad = RSA_PKCS1_OAEP_PADDING, .pad_how = BY_PARAM, .md = "SHA256", .mgf1 = "SHA1",
          .label = "uringprov label" },
        { .pad = RSA_PKCS1_OAEP_PADDING, .pad_how = BY_INT, .md = "SHA384", .mgf1 = "SHA512" },
    };
    static const CFG none = { .pad = RSA_NO_PADDING, .pad_how = BY_CTRL_STR };
    static const CFG other_label = { .pad = RSA_PKCS1_OAEP_PADDING, .pad_how = BY_PARAM,
                                     .md = "SHA256", .mgf1 = "SHA1", .label = "another label" };
    unsigned char pt[MAXK], ct[MAXK];
    size_t i, len;
    KP kp;

    kp_load_bits(&kp, sizes[_i]);
    ck_assert_int_eq(RAND_bytes(pt, (int)kp.k), 1);
    for (i = 0; i < sizeof(pkcs1) / sizeof(pkcs1[0]); i++)
        check_crypt(&kp, &pkcs1[i], pt, 32, "PKCS#1 v1.5 encryption");
    check_crypt(&kp, &pkcs1[0], pt, kp.k - 11, "PKCS#1 v1.5 encryption, longest");
    for (i = 0; i < sizeof(oaep) / sizeof(oaep[0]); i++)
        check_crypt(&kp, &oaep[i], pt, 16, "OAEP");
    pt[0] = 0;
    check_crypt(&kp, &none, pt, kp.k, "raw RSA");

    /* The wrong label fails on both sides. */
    len = crypt_ok(ref, kp.d, OP_ENCRYPT, &oaep[2], pt, 16, ct, SYNC, "OAEP label");
    check_bad_ciphertext(&kp, &other_label, ct, len, MAXK, "OAEP, wrong label");
    /* So does a ciphertext that is not a valid padding. */
    memset(ct, 0x33, kp.k);
    ct[0] = 0;
    check_bad_ciphertext(&kp, &pkcs1[0], ct, kp.k, MAXK, "PKCS#1, bad padding");
    check_bad_ciphertext(&kp, &oaep[1], ct, kp.k, MAXK, "OAEP, bad padding");
    kp_free(&kp);
}
END_TEST

/* TLS 1.2's RSA key exchange: RSA_PKCS1_WITH_TLS_PADDING and its version checks. */
START_TEST(encrypt_tls)
{
    static const CFG enc = { .pad = RSA_PKCS1_PADDING, .pad_how = BY_INT };
    static const CFG tls = { .pad = RSA_PKCS1_WITH_TLS_PADDING, .pad_how = BY_INT,
                             .tls_client = TLS1_2_VERSION };
    static const CFG tls_nego = { .pad = RSA_PKCS1_WITH_TLS_PADDING, .pad_how = BY_INT,
                                  .tls_client = TLS1_2_VERSION,
                                  .tls_negotiated = TLS1_VERSION };
    unsigned char pms[48], bad[48], ct[MAXK], ct_bad[MAXK], out_u[MAXK], out_d[MAXK];
    size_t len, len_bad, n;
    KP kp;
    int m;

    kp_load_bits(&kp, sizes[_i]);
    ck_assert_int_eq(RAND_bytes(pms, sizeof(pms)), 1);
    pms[0] = TLS1_2_VERSION >> 8;
    pms[1] = TLS1_2_VERSION & 0xff;
    memcpy(bad, pms, sizeof(bad));
    bad[1] = TLS1_VERSION & 0xff; /* a version rollback */
    len = crypt_ok(ref, kp.d, OP_ENCRYPT, &enc, pms, sizeof(pms), ct, SYNC, "TLS: encrypt");
    len_bad = crypt_ok(ref, kp.d, OP_ENCRYPT, &enc, bad, sizeof(bad), ct_bad, SYNC, "TLS");

    for (m = SYNC; m <= ASYNC; m++) {
        n = crypt_ok(uo, kp.u, OP_DECRYPT, &tls, ct, len, out_u, m, "TLS: decrypt");
        ck_assert_uint_eq(n, sizeof(pms));
        ck_assert_mem_eq(out_u, pms, sizeof(pms));
        n = crypt_ok(ref, kp.d, OP_DECRYPT, &tls, ct, len, out_d, SYNC, "TLS: decrypt");
        ck_assert_mem_eq(out_d, pms, sizeof(pms));
    }
    size_query(&kp, OP_DECRYPT, &tls, ct, len, "TLS size query");

    /*
     * A premaster with the wrong version is not an error: the receiver goes on with random bytes,
     * so that an attacker learns nothing. Both sides must do just that.
     */
    for (m = SYNC; m <= ASYNC; m++) {
        RUN u = { .lc = uo, .key = kp.u, .op = OP_DECRYPT, .cfg = &tls, .in = ct_bad,
                  .inlen = len_bad, .out = out_u, .outsize = sizeof(out_u) };
        RUN d = u;

        d.lc = ref;
        d.key = kp.d;
        d.out = out_d;
        run_op(&d);
        exec(&u, m, expect_private(), "TLS: version mismatch");
        ck_assert_int_eq(u.stage, 0);
        ck_assert_int_eq(u.rv, d.rv);
        ck_assert_uint_eq(u.outlen, d.outlen);
        if (d.rv > 0) {
            ck_assert_uint_eq(d.outlen, sizeof(bad));
            ck_assert_msg(memcmp(out_d, bad, sizeof(bad)) != 0, "default returned the premaster");
            ck_assert_msg(memcmp(out_u, bad, sizeof(bad)) != 0,
                          "uringprov returned a premaster with the wrong version");
        }
        /* With tls-negotiated-version naming that version, it is accepted, as by default. */
        n = crypt_ok(uo, kp.u, OP_DECRYPT, &tls_nego, ct_bad, len_bad, out_u, m, "TLS: nego");
        crypt_ok(ref, kp.d, OP_DECRYPT, &tls_nego, ct_bad, len_bad, out_d, SYNC, "TLS: nego");
        ck_assert_uint_eq(n, sizeof(bad));
        ck_assert_mem_eq(out_u, out_d, sizeof(bad));
    }
    /* A broken padding: the same outcome as default, never the error path's timing leak. */
    memset(ct_bad, 0x44, kp.k);
    ct_bad[0] = 0;
    check_bad_ciphertext(&kp, &tls, ct_bad, kp.k, MAXK, "TLS, bad padding");
    kp_free(&kp);
}
END_TEST

/* ---- 8192 bits, once ----------------------------------------------------------------------- */

START_TEST(rsa8192)
{
    static const CFG pkcs1 = { .pad = RSA_PKCS1_PADDING, .pad_how = BY_INT, .md = "SHA256" };
    static const CFG pss = { PSS(BY_CTRL_STR, "SHA256", "SHA256"), .salt_how = BY_CTRL_STR,
                             .saltlen = "digest" };
    static const CFG oaep = { .pad = RSA_PKCS1_OAEP_PADDING, .pad_how = BY_PARAM,
                              .md = "SHA256", .label = "8192" };
    unsigned char tbs[32], pt[32];
    KP kp;

    kp_load(&kp, "rsa8192.pem");
    ck_assert_int_eq(EVP_PKEY_get_bits(kp.u), 8192);
    check_deterministic(&kp, &pkcs1, tbs, digest("SHA256", msg, sizeof(msg), tbs), "PKCS#1");
    check_pss(&kp, &pss, &pss, "PSS");
    ck_assert_int_eq(RAND_bytes(pt, sizeof(pt)), 1);
    check_crypt(&kp, &oaep, pt, sizeof(pt), "OAEP");
    check_digest_sign(&kp, "SHA256", NULL, 1);
    kp_free(&kp);
}
END_TEST

/* ---- key management ------------------------------------------------------------------------ */

/* Every parameter of a's export is in b's with the same value, and the counts match. */
static void params_equal(const OSSL_PARAM *a, const OSSL_PARAM *b, const char *what)
{
    const OSSL_PARAM *p, *q;
    int na = 0, nb = 0;

    for (q = b; q->key != NULL; q++)
        nb++;
    for (p = a; p->key != NULL; p++, na++) {
        q = OSSL_PARAM_locate_const(b, p->key);
        ck_assert_msg(q != NULL, "%s: %s missing", what, p->key);
        ck_assert_msg(p->data_type == q->data_type, "%s: %s changed type", what, p->key);
        if (p->data_type == OSSL_PARAM_UNSIGNED_INTEGER) {
            BIGNUM *x = NULL, *y = NULL;

            ck_assert(OSSL_PARAM_get_BN(p, &x) && OSSL_PARAM_get_BN(q, &y));
            ck_assert_msg(BN_cmp(x, y) == 0, "%s: %s differs", what, p->key);
            BN_free(x);
            BN_free(y);
        } else if (p->data_type == OSSL_PARAM_INTEGER) {
            int x, y;

            ck_assert(OSSL_PARAM_get_int(p, &x) && OSSL_PARAM_get_int(q, &y));
            ck_assert_msg(x == y, "%s: %s is %d, not %d", what, p->key, y, x);
        } else {
            ck_assert_msg(p->data_size == q->data_size
                          && memcmp(p->data, q->data, p->data_size) == 0,
                          "%s: %s differs", what, p->key);
        }
    }
    ck_assert_msg(na == nb, "%s: %d parameters, not %d", what, nb, na);
}

static int has_param(const OSSL_PARAM *table, const char *key)
{
    return table != NULL && OSSL_PARAM_locate_const(table, key) != NULL;
}

static const char *const all_keys[] = {
    "rsa2048.pem", "rsa2048-3prime.pem", "rsapss2048.pem", "rsapss2048-sha256.pem",
};

/* uringprov imports all that default exports, exports it back unchanged, and both match. */
START_TEST(import_export)
{
    static const int selections[] = { EVP_PKEY_KEYPAIR, EVP_PKEY_PUBLIC_KEY };
    size_t s;
    KP kp;

    kp_load(&kp, all_keys[_i]);
    for (s = 0; s < 2; s++) {
        int sel = selections[s];
        OSSL_PARAM *pd = NULL, *pu = NULL;
        EVP_PKEY *u = move_key(kp.d, uo, sel), *back;

        ck_assert_str_eq(prov_name(u), "uringprov");
        ck_assert_int_eq(EVP_PKEY_is_a(u, key_type(kp.d)), 1);
        ck_assert_int_eq(EVP_PKEY_todata(kp.d, sel, &pd), 1);
        ck_assert_int_eq(EVP_PKEY_todata(u, sel, &pu), 1);
        params_equal(pd, pu, all_keys[_i]);
        params_equal(pu, pd, all_keys[_i]);
        /* And the whole export of a public-only import is public-only. */
        OSSL_PARAM_free(pu);
        pu = NULL;
        ck_assert_int_eq(EVP_PKEY_todata(u, EVP_PKEY_KEYPAIR, &pu), 1);
        ck_assert_int_eq(OSSL_PARAM_locate(pu, OSSL_PKEY_PARAM_RSA_D) != NULL,
                         sel == EVP_PKEY_KEYPAIR);
        back = move_key(u, ref, sel);
        ck_assert_str_eq(prov_name(back), "default");
        ck_assert_int_eq(EVP_PKEY_eq(back, kp.d), 1);
        ck_assert_int_eq(EVP_PKEY_eq(u, kp.d), 1);      /* across providers */
        ck_assert_int_eq(EVP_PKEY_eq(u, kp.u), 1);
        EVP_PKEY_free(back);
        EVP_PKEY_free(u);
        OSSL_PARAM_free(pd);
        OSSL_PARAM_free(pu);
    }
    if (strstr(all_keys[_i], "3prime") != NULL) {
        BIGNUM *f3 = NULL, *f3d = NULL;

        ck_assert_int_eq(EVP_PKEY_get_bn_param(kp.u, OSSL_PKEY_PARAM_RSA_FACTOR3, &f3), 1);
        ck_assert_int_eq(EVP_PKEY_get_bn_param(kp.d, OSSL_PKEY_PARAM_RSA_FACTOR3, &f3d), 1);
        ck_assert_int_eq(BN_cmp(f3, f3d), 0);
        BN_free(f3);
        BN_free(f3d);
    }
    kp_free(&kp);
}
END_TEST

/* The key's parameters, as uringprov and default answer them. */
START_TEST(key_params)
{
    static const char *const ints[] = {
        OSSL_PKEY_PARAM_BITS, OSSL_PKEY_PARAM_SECURITY_BITS, OSSL_PKEY_PARAM_MAX_SIZE,
    };
    static const char *const bns[] = {
        OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E, OSSL_PKEY_PARAM_RSA_D,
        OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2, OSSL_PKEY_PARAM_RSA_EXPONENT1,
        OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
    };
    char name_u[64] = "", name_d[64] = "";
    int mand_u = -1, mand_d = -1;
    size_t i;
    KP kp;

    kp_load(&kp, all_keys[_i]);
    for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        int vu = -1, vd = -2;

        ck_assert_msg(EVP_PKEY_get_int_param(kp.u, ints[i], &vu) == 1, "%s missing", ints[i]);
        ck_assert_int_eq(EVP_PKEY_get_int_param(kp.d, ints[i], &vd), 1);
        ck_assert_msg(vu == vd, "%s: %d, default %d", ints[i], vu, vd);
    }
    ck_assert_int_eq(EVP_PKEY_get_bits(kp.u), 2048);
    ck_assert_int_eq(EVP_PKEY_get_security_bits(kp.u), EVP_PKEY_get_security_bits(kp.d));
    ck_assert_int_eq(EVP_PKEY_get_size(kp.u), 256);
    for (i = 0; i < sizeof(bns) / sizeof(bns[0]); i++) {
        BIGNUM *u = NULL, *d = NULL;

        ck_assert_msg(EVP_PKEY_get_bn_param(kp.u, bns[i], &u) == 1, "%s missing", bns[i]);
        ck_assert_int_eq(EVP_PKEY_get_bn_param(kp.d, bns[i], &d), 1);
        ck_assert_msg(BN_cmp(u, d) == 0, "%s differs", bns[i]);
        BN_clear_free(u);
        BN_clear_free(d);
    }
    mand_u = EVP_PKEY_get_default_digest_name(kp.u, name_u, sizeof(name_u));
    mand_d = EVP_PKEY_get_default_digest_name(kp.d, name_d, sizeof(name_d));
    ck_assert_int_eq(mand_u, mand_d);
    ck_assert_str_eq(name_u, name_d);
    ck_assert_int_ge(mand_u, 1);
    kp_free(&kp);
}
END_TEST

/* Both tables name the same parameters. */
static void same_keys(const OSSL_PARAM *u, const OSSL_PARAM *d, const char *what)
{
    const OSSL_PARAM *p;

    ck_assert_msg(u != NULL && d != NULL, "%s: a table is missing", what);
    for (p = d; p->key != NULL; p++)
        ck_assert_msg(has_param(u, p->key), "%s: %s missing", what, p->key);
    for (p = u; p->key != NULL; p++)
        ck_assert_msg(has_param(d, p->key), "%s: %s is not default's", what, p->key);
}

/*
 * An initialised context's tables, in each state, are default's: the strict check that
 * EVP_PKEY_CTX_ctrl_str makes accepts and refuses what it does on default.
 */
static void check_ctx_tables(KP *kp)
{
    static const char *const states[] = {
        "sign", "verify", "verify_recover", "encrypt", "decrypt", "digest sign", "digest verify",
    };
    size_t i;

    for (i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
        EVP_PKEY_CTX *c[2] = { NULL, NULL };
        EVP_MD_CTX *mc[2] = { EVP_MD_CTX_new(), EVP_MD_CTX_new() };
        int side;

        for (side = 0; side < 2; side++) {
            OSSL_LIB_CTX *lc = side == 0 ? uo : ref;
            EVP_PKEY *key = side == 0 ? kp->u : kp->d;

            if (i < 5) {
                c[side] = EVP_PKEY_CTX_new_from_pkey(lc, key, NULL);
                ck_assert_ptr_nonnull(c[side]);
            }
            switch (i) {
            case 0:
                ck_assert_int_eq(EVP_PKEY_sign_init(c[side]), 1);
                break;
            case 1:
                ck_assert_int_eq(EVP_PKEY_verify_init(c[side]), 1);
                break;
            case 2:
                ck_assert_int_eq(EVP_PKEY_verify_recover_init(c[side]), 1);
                break;
            case 3:
                ck_assert_int_eq(EVP_PKEY_encrypt_init(c[side]), 1);
                break;
            case 4:
                ck_assert_int_eq(EVP_PKEY_decrypt_init(c[side]), 1);
                break;
            case 5:
                ck_assert_int_eq(EVP_DigestSignInit_ex(mc[side], &c[side], "SHA256", lc, NULL, key,
                                                       NULL), 1);
                break;
            case 6:
                ck_assert_int_eq(EVP_DigestVerifyInit_ex(mc[side], &c[side], "SHA256", lc, NULL,
                                                         key, NULL), 1);
                break;
            }
        }
        same_keys(EVP_PKEY_CTX_settable_params(c[0]), EVP_PKEY_CTX_settable_params(c[1]),
                  states[i]);
        same_keys(EVP_PKEY_CTX_gettable_params(c[0]), EVP_PKEY_CTX_gettable_params(c[1]),
                  states[i]);
        /* The strict check of ctrl_str: a digest once digest-sign has one is refused alike. */
        if (i >= 5) {
            ERR_set_mark();
            ck_assert_int_eq(EVP_PKEY_CTX_ctrl_str(c[0], "digest", "sha512") > 0,
                             EVP_PKEY_CTX_ctrl_str(c[1], "digest", "sha512") > 0);
            ERR_pop_to_mark();
        }
        for (side = 0; side < 2; side++) {
            if (i < 5)
                EVP_PKEY_CTX_free(c[side]);
            EVP_MD_CTX_free(mc[side]);
        }
    }
}

/* The parameter tables: present, and listing what applications set. */
START_TEST(param_tables)
{
    EVP_PKEY_CTX *c;
    EVP_SIGNATURE *sig;
    EVP_ASYM_CIPHER *ciph;
    EVP_KEYMGMT *km;
    KP kp;

    kp_load(&kp, "rsa2048.pem");
    ck_assert(has_param(EVP_PKEY_gettable_params(kp.u), OSSL_PKEY_PARAM_BITS));
    ck_assert(has_param(EVP_PKEY_gettable_params(kp.u), OSSL_PKEY_PARAM_SECURITY_BITS));
    ck_assert(has_param(EVP_PKEY_gettable_params(kp.u), OSSL_PKEY_PARAM_MAX_SIZE));
    ck_assert(has_param(EVP_PKEY_gettable_params(kp.u), OSSL_PKEY_PARAM_DEFAULT_DIGEST));
    ck_assert(has_param(EVP_PKEY_gettable_params(kp.u), OSSL_PKEY_PARAM_RSA_N));
    ck_assert_ptr_nonnull(EVP_PKEY_settable_params(kp.u));

    km = EVP_KEYMGMT_fetch(uo, "RSA", NULL);
    ck_assert_ptr_nonnull(km);
    ck_assert_str_eq(OSSL_PROVIDER_get0_name(EVP_KEYMGMT_get0_provider(km)), "uringprov");
    ck_assert(has_param(EVP_KEYMGMT_gettable_params(km), OSSL_PKEY_PARAM_RSA_FACTOR3));
    ck_assert(has_param(EVP_KEYMGMT_gen_settable_params(km), OSSL_PKEY_PARAM_RSA_BITS));
    ck_assert(has_param(EVP_KEYMGMT_gen_settable_params(km), OSSL_PKEY_PARAM_RSA_PRIMES));
    ck_assert(has_param(EVP_KEYMGMT_gen_settable_params(km), OSSL_PKEY_PARAM_RSA_E));
    EVP_KEYMGMT_free(km);
    km = EVP_KEYMGMT_fetch(uo, "RSA-PSS", NULL);
    ck_assert_ptr_nonnull(km);
    ck_assert_str_eq(OSSL_PROVIDER_get0_name(EVP_KEYMGMT_get0_provider(km)), "uringprov");
    ck_assert(has_param(EVP_KEYMGMT_gen_settable_params(km), OSSL_PKEY_PARAM_RSA_DIGEST));
    ck_assert(has_param(EVP_KEYMGMT_gen_settable_params(km), OSSL_PKEY_PARAM_RSA_PSS_SALTLEN));
    ck_assert(has_param(EVP_KEYMGMT_gettable_params(km), OSSL_PKEY_PARAM_BITS));
    EVP_KEYMGMT_free(km);

    sig = EVP_SIGNATURE_fetch(uo, "RSA", NULL);
    ck_assert_ptr_nonnull(sig);
    ck_assert_str_eq(OSSL_PROVIDER_get0_name(EVP_SIGNATURE_get0_provider(sig)), "uringprov");
    ck_assert(has_param(EVP_SIGNATURE_settable_ctx_params(sig), OSSL_SIGNATURE_PARAM_PAD_MODE));
    ck_assert(has_param(EVP_SIGNATURE_settable_ctx_params(sig), OSSL_SIGNATURE_PARAM_PSS_SALTLEN));
    ck_assert(has_param(EVP_SIGNATURE_settable_ctx_params(sig), OSSL_SIGNATURE_PARAM_MGF1_DIGEST));
    ck_assert(has_param(EVP_SIGNATURE_gettable_ctx_params(sig), OSSL_SIGNATURE_PARAM_ALGORITHM_ID));
    EVP_SIGNATURE_free(sig);
    ciph = EVP_ASYM_CIPHER_fetch(uo, "RSA", NULL);
    ck_assert_ptr_nonnull(ciph);
    ck_assert_str_eq(OSSL_PROVIDER_get0_name(EVP_ASYM_CIPHER_get0_provider(ciph)), "uringprov");
    ck_assert(has_param(EVP_ASYM_CIPHER_settable_ctx_params(ciph),
                        OSSL_ASYM_CIPHER_PARAM_TLS_CLIENT_VERSION));
    ck_assert(has_param(EVP_ASYM_CIPHER_settable_ctx_params(ciph),
                        OSSL_ASYM_CIPHER_PARAM_TLS_NEGOTIATED_VERSION));
    ck_assert(has_param(EVP_ASYM_CIPHER_settable_ctx_params(ciph),
                        OSSL_ASYM_CIPHER_PARAM_OAEP_LABEL));
    ck_assert(has_param(EVP_ASYM_CIPHER_gettable_ctx_params(ciph),
                        OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST));
    EVP_ASYM_CIPHER_free(ciph);

    /* Through an initialised context too, and the values set come back. */
    c = EVP_PKEY_CTX_new_from_pkey(uo, kp.u, NULL);
    ck_assert_int_eq(EVP_PKEY_sign_init(c), 1);
    ck_assert(has_param(EVP_PKEY_CTX_settable_params(c), OSSL_SIGNATURE_PARAM_DIGEST));
    ck_assert(has_param(EVP_PKEY_CTX_gettable_params(c), OSSL_SIGNATURE_PARAM_PAD_MODE));
    {
        int pad = 0;

        ck_assert_int_eq(EVP_PKEY_CTX_ctrl_str(c, "rsa_padding_mode", "pss"), 1);
        /* OpenSSL 3.0's ctrl shim returns 3 here for default too: any success will do. */
        ck_assert_int_gt(EVP_PKEY_CTX_get_rsa_padding(c, &pad), 0);
        ck_assert_int_eq(pad, RSA_PKCS1_PSS_PADDING);
    }
    EVP_PKEY_CTX_free(c);
    c = EVP_PKEY_CTX_new_from_pkey(uo, kp.u, NULL);
    ck_assert_int_eq(EVP_PKEY_decrypt_init(c), 1);
    ck_assert(has_param(EVP_PKEY_CTX_settable_params(c), OSSL_ASYM_CIPHER_PARAM_PAD_MODE));
    ck_assert(has_param(EVP_PKEY_CTX_gettable_params(c), OSSL_ASYM_CIPHER_PARAM_PAD_MODE));
    EVP_PKEY_CTX_free(c);
    c = EVP_PKEY_CTX_new_from_name(uo, "RSA", NULL);
    ck_assert_int_eq(EVP_PKEY_keygen_init(c), 1);
    ck_assert(has_param(EVP_PKEY_CTX_settable_params(c), OSSL_PKEY_PARAM_RSA_BITS));
    EVP_PKEY_CTX_free(c);
    check_ctx_tables(&kp);
    same_keys(EVP_PKEY_gettable_params(kp.u), EVP_PKEY_gettable_params(kp.d), "key gettable");
    {
        static const char *const algs[] = { "RSA", "RSA-PSS" };
        size_t i;

        for (i = 0; i < 2; i++) {
            EVP_KEYMGMT *ku = EVP_KEYMGMT_fetch(uo, algs[i], NULL);
            EVP_KEYMGMT *kd = EVP_KEYMGMT_fetch(ref, algs[i], NULL);

            same_keys(EVP_KEYMGMT_gen_settable_params(ku), EVP_KEYMGMT_gen_settable_params(kd),
                      algs[i]);
            same_keys(EVP_KEYMGMT_gettable_params(ku), EVP_KEYMGMT_gettable_params(kd), algs[i]);
            EVP_KEYMGMT_free(ku);
            EVP_KEYMGMT_free(kd);
        }
    }
    kp_free(&kp);
}
END_TEST

/* has, match, validate and dup, against the same questions put to default. */
START_TEST(has_match_validate_dup)
{
    KP kp, other;
    EVP_PKEY *pub_u, *pub_d, *dup, *broken_u, *broken_d;
    EVP_PKEY_CTX *cu, *cd;
    OSSL_PARAM *params = NULL, *p;
    BIGNUM *d = NULL;
    unsigned char tbs[32], sig[MAXK];
    size_t len;

    kp_load(&kp, all_keys[_i]);
    kp_load(&other, "rsa1024.pem");
    pub_u = move_key(kp.d, uo, EVP_PKEY_PUBLIC_KEY);
    pub_d = move_key(kp.d, ref, EVP_PKEY_PUBLIC_KEY);

    ck_assert_int_eq(EVP_PKEY_missing_parameters(kp.u), EVP_PKEY_missing_parameters(kp.d));
    ck_assert_int_eq(EVP_PKEY_missing_parameters(pub_u), EVP_PKEY_missing_parameters(pub_d));

    /* match */
    ck_assert_int_eq(EVP_PKEY_eq(kp.u, pub_u), 1);
    ck_assert_int_eq(EVP_PKEY_eq(pub_u, kp.u), 1);
    ck_assert_int_eq(EVP_PKEY_eq(kp.u, kp.d), 1);
    ck_assert_int_ne(EVP_PKEY_eq(kp.u, other.u), 1);
    ck_assert_int_ne(EVP_PKEY_eq(pub_u, other.u), 1);
    ck_assert_int_ne(EVP_PKEY_eq(kp.u, other.d), 1);
    ck_assert_int_eq(EVP_PKEY_parameters_eq(kp.u, pub_u), EVP_PKEY_parameters_eq(kp.d, pub_d));

    /* validate: the same verdicts as default */
    cu = EVP_PKEY_CTX_new_from_pkey(uo, kp.u, NULL);
    cd = EVP_PKEY_CTX_new_from_pkey(ref, kp.d, NULL);
    ck_assert_int_eq(EVP_PKEY_check(cu), 1);
    ck_assert_int_eq(EVP_PKEY_public_check(cu), 1);
    ck_assert_int_eq(EVP_PKEY_public_check_quick(cu), 1);
    ck_assert_int_eq(EVP_PKEY_private_check(cu), 1);
    ck_assert_int_eq(EVP_PKEY_pairwise_check(cu), 1);
    ck_assert_int_eq(EVP_PKEY_param_check(cu), EVP_PKEY_param_check(cd));
    EVP_PKEY_CTX_free(cu);
    EVP_PKEY_CTX_free(cd);
    cu = EVP_PKEY_CTX_new_from_pkey(uo, pub_u, NULL);
    cd = EVP_PKEY_CTX_new_from_pkey(ref, pub_d, NULL);
    ck_assert_int_eq(EVP_PKEY_public_check(cu), 1);
    ck_assert_int_eq(EVP_PKEY_check(cu) == 1, EVP_PKEY_check(cd) == 1);
    ck_assert_int_eq(EVP_PKEY_private_check(cu) == 1, EVP_PKEY_private_check(cd) == 1);
    ck_assert_int_eq(EVP_PKEY_pairwise_check(cu) == 1, EVP_PKEY_pairwise_check(cd) == 1);
    EVP_PKEY_CTX_free(cu);
    EVP_PKEY_CTX_free(cd);

    /* A key whose d does not go with n and e: default accepts the import, and so must we. */
    ck_assert_int_eq(EVP_PKEY_todata(kp.d, EVP_PKEY_KEYPAIR, &params), 1);
    p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_RSA_D);
    ck_assert_ptr_nonnull(p);
    ck_assert(OSSL_PARAM_get_BN(p, &d));
    ck_assert(BN_add_word(d, 2));
    ck_assert(OSSL_PARAM_set_BN(p, d));
    BN_free(d);
    {
        EVP_PKEY_CTX *fu = EVP_PKEY_CTX_new_from_name(uo, key_type(kp.d), NULL);
        EVP_PKEY_CTX *fd = EVP_PKEY_CTX_new_from_name(ref, key_type(kp.d), NULL);

        broken_u = broken_d = NULL;
        ck_assert_int_eq(EVP_PKEY_fromdata_init(fu), 1);
        ck_assert_int_eq(EVP_PKEY_fromdata_init(fd), 1);
        ck_assert_int_eq(EVP_PKEY_fromdata(fd, &broken_d, EVP_PKEY_KEYPAIR, params), 1);
        ck_assert_int_eq(EVP_PKEY_fromdata(fu, &broken_u, EVP_PKEY_KEYPAIR, params), 1);
        EVP_PKEY_CTX_free(fu);
        EVP_PKEY_CTX_free(fd);
    }
    OSSL_PARAM_free(params);
    cu = EVP_PKEY_CTX_new_from_pkey(uo, broken_u, NULL);
    cd = EVP_PKEY_CTX_new_from_pkey(ref, broken_d, NULL);
    ck_assert_int_ne(EVP_PKEY_check(cd), 1);
    ck_assert_int_ne(EVP_PKEY_check(cu), 1);
    ck_assert_int_ne(EVP_PKEY_pairwise_check(cu), 1);
    ck_assert_int_eq(EVP_PKEY_public_check(cu), EVP_PKEY_public_check(cd));
    EVP_PKEY_CTX_free(cu);
    EVP_PKEY_CTX_free(cd);
    EVP_PKEY_free(broken_u);
    EVP_PKEY_free(broken_d);

    /* dup: a key of ours, equal, that outlives the original */
    dup = EVP_PKEY_dup(kp.u);
    ck_assert_ptr_nonnull(dup);
    ck_assert_str_eq(prov_name(dup), "uringprov");
    ck_assert_int_eq(EVP_PKEY_eq(dup, kp.u), 1);
    EVP_PKEY_free(kp.u);
    kp.u = dup;
    if (!EVP_PKEY_is_a(kp.d, "RSA-PSS")) {
        static const CFG cfg = { .pad = RSA_PKCS1_PADDING, .md = "SHA256" };

        len = sign_ok(uo, kp.u, &cfg, tbs, digest("SHA256", msg, sizeof(msg), tbs), sig, ASYNC,
                      "sign with a dup");
        ck_assert_int_eq(verify_rc(ref, kp.d, &cfg, sig, len, tbs, 32, SYNC, "dup"), 1);
    }
    dup = EVP_PKEY_dup(pub_u);
    ck_assert_ptr_nonnull(dup);
    ck_assert_int_eq(EVP_PKEY_eq(dup, kp.d), 1);
    EVP_PKEY_free(dup);

    EVP_PKEY_free(pub_u);
    EVP_PKEY_free(pub_d);
    kp_free(&other);
    kp_free(&kp);
}
END_TEST

/*
 * The keymgmt functions themselves, called through the dispatch tables of uringprov and of
 * default: the EVP API reaches has, match, validate and dup with only a few selections.
 */
typedef struct {
    OSSL_PROVIDER *prov;
    void *provctx;
    OSSL_FUNC_keymgmt_new_fn *new_;
    OSSL_FUNC_keymgmt_free_fn *free_;
    OSSL_FUNC_keymgmt_import_fn *import;
    OSSL_FUNC_keymgmt_import_types_fn *import_types;
    OSSL_FUNC_keymgmt_export_types_fn *export_types;
    OSSL_FUNC_keymgmt_has_fn *has;
    OSSL_FUNC_keymgmt_match_fn *match;
    OSSL_FUNC_keymgmt_validate_fn *validate;
    OSSL_FUNC_keymgmt_dup_fn *dup;
} KM;

static void km_get(KM *km, OSSL_LIB_CTX *lc, const char *provname, const char *alg)
{
    const OSSL_ALGORITHM *algs, *a;
    const OSSL_DISPATCH *f;
    size_t n = strlen(alg);
    int no_cache = 0;

    memset(km, 0, sizeof(*km));
    km->prov = OSSL_PROVIDER_try_load(lc, provname, 0);
    ck_assert_ptr_nonnull(km->prov);
    km->provctx = OSSL_PROVIDER_get0_provider_ctx(km->prov);
    algs = OSSL_PROVIDER_query_operation(km->prov, OSSL_OP_KEYMGMT, &no_cache);
    ck_assert_ptr_nonnull(algs);
    for (a = algs; a->algorithm_names != NULL; a++)
        if (strncmp(a->algorithm_names, alg, n) == 0
            && (a->algorithm_names[n] == ':' || a->algorithm_names[n] == '\0'))
            break;
    ck_assert_msg(a->algorithm_names != NULL, "%s has no %s keymgmt", provname, alg);
    for (f = a->implementation; f->function_id != 0; f++) {
        switch (f->function_id) {
        case OSSL_FUNC_KEYMGMT_NEW:
            km->new_ = OSSL_FUNC_keymgmt_new(f);
            break;
        case OSSL_FUNC_KEYMGMT_FREE:
            km->free_ = OSSL_FUNC_keymgmt_free(f);
            break;
        case OSSL_FUNC_KEYMGMT_IMPORT:
            km->import = OSSL_FUNC_keymgmt_import(f);
            break;
        case OSSL_FUNC_KEYMGMT_IMPORT_TYPES:
            km->import_types = OSSL_FUNC_keymgmt_import_types(f);
            break;
        case OSSL_FUNC_KEYMGMT_EXPORT_TYPES:
            km->export_types = OSSL_FUNC_keymgmt_export_types(f);
            break;
        case OSSL_FUNC_KEYMGMT_HAS:
            km->has = OSSL_FUNC_keymgmt_has(f);
            break;
        case OSSL_FUNC_KEYMGMT_MATCH:
            km->match = OSSL_FUNC_keymgmt_match(f);
            break;
        case OSSL_FUNC_KEYMGMT_VALIDATE:
            km->validate = OSSL_FUNC_keymgmt_validate(f);
            break;
        case OSSL_FUNC_KEYMGMT_DUP:
            km->dup = OSSL_FUNC_keymgmt_dup(f);
            break;
        }
    }
    OSSL_PROVIDER_unquery_operation(km->prov, OSSL_OP_KEYMGMT, algs);
    ck_assert(km->new_ && km->free_ && km->import && km->import_types && km->export_types
              && km->has && km->match && km->validate && km->dup);
}

/* A keydata of km's made from params, or an empty one when params is NULL. */
static void *km_key(const KM *km, int selection, const OSSL_PARAM *params)
{
    void *k = km->new_(km->provctx);

    ck_assert_ptr_nonnull(k);
    if (params != NULL)
        ck_assert_int_eq(km->import(k, selection, params), 1);
    return k;
}

START_TEST(kmgmt_dispatch)
{
    static const int sels[] = {
        0, OSSL_KEYMGMT_SELECT_PUBLIC_KEY, OSSL_KEYMGMT_SELECT_PRIVATE_KEY,
        OSSL_KEYMGMT_SELECT_KEYPAIR, OSSL_KEYMGMT_SELECT_DOMAIN_PARAMETERS,
        OSSL_KEYMGMT_SELECT_OTHER_PARAMETERS, OSSL_KEYMGMT_SELECT_ALL_PARAMETERS,
        OSSL_KEYMGMT_SELECT_PUBLIC_KEY | OSSL_KEYMGMT_SELECT_OTHER_PARAMETERS,
        OSSL_KEYMGMT_SELECT_ALL,
    };
    const char *alg = _i < 2 ? "RSA" : "RSA-PSS";
    KM u, d;
    KP kp, other;
    OSSL_PARAM *full = NULL, *pub = NULL, *oth = NULL;
    void *uk[3], *dk[3], *uo_other, *d_other;
    size_t s, i, j;

    kp_load(&kp, all_keys[_i]);
    kp_load(&other, strcmp(alg, "RSA") == 0 ? "rsa1024.pem" : "rsapss2048.pem");
    km_get(&u, uo, "uringprov", alg);
    km_get(&d, ref, "default", alg);
    ck_assert_int_eq(EVP_PKEY_todata(kp.d, EVP_PKEY_KEYPAIR, &full), 1);
    ck_assert_int_eq(EVP_PKEY_todata(kp.d, EVP_PKEY_PUBLIC_KEY, &pub), 1);
    ck_assert_int_eq(EVP_PKEY_todata(other.d, EVP_PKEY_KEYPAIR, &oth), 1);
    /* a key pair, a public key, an empty key */
    uk[0] = km_key(&u, EVP_PKEY_KEYPAIR, full);
    dk[0] = km_key(&d, EVP_PKEY_KEYPAIR, full);
    uk[1] = km_key(&u, EVP_PKEY_PUBLIC_KEY, pub);
    dk[1] = km_key(&d, EVP_PKEY_PUBLIC_KEY, pub);
    uk[2] = km_key(&u, 0, NULL);
    dk[2] = km_key(&d, 0, NULL);
    uo_other = km_key(&u, EVP_PKEY_KEYPAIR, oth);
    d_other = km_key(&d, EVP_PKEY_KEYPAIR, oth);

    for (s = 0; s < sizeof(sels) / sizeof(sels[0]); s++) {
        int sel = sels[s];
        const OSSL_PARAM *tu = u.import_types(sel), *td = d.import_types(sel);

        /* our tables list at least what default's do */
        for (; td != NULL && td->key != NULL; td++)
            ck_assert_msg(has_param(tu, td->key), "import_types(%d) lacks %s", sel, td->key);
        for (td = d.export_types(sel); td != NULL && td->key != NULL; td++)
            ck_assert_msg(has_param(u.export_types(sel), td->key), "export_types(%d) lacks %s",
                          sel, td->key);
        for (i = 0; i < 3; i++) {
            int hu = u.has(uk[i], sel), hd = d.has(dk[i], sel);

            ck_assert_msg(hu == hd, "%s key #%zu: has(%d) = %d, default %d", alg, i, sel, hu, hd);
            if (i < 2) {
                int vu = u.validate(uk[i], sel, OSSL_KEYMGMT_VALIDATE_FULL_CHECK);
                int vd = d.validate(dk[i], sel, OSSL_KEYMGMT_VALIDATE_FULL_CHECK);

                ck_assert_msg(vu == vd, "%s key #%zu: validate(%d) = %d, default %d", alg, i, sel,
                              vu, vd);
                vu = u.validate(uk[i], sel, OSSL_KEYMGMT_VALIDATE_QUICK_CHECK);
                vd = d.validate(dk[i], sel, OSSL_KEYMGMT_VALIDATE_QUICK_CHECK);
                ck_assert_msg(vu == vd, "%s key #%zu: quick validate(%d) = %d, default %d", alg,
                              i, sel, vu, vd);
            }
            for (j = 0; j < 2; j++) {
                int mu = u.match(uk[i], uk[j], sel), md = d.match(dk[i], dk[j], sel);

                ck_assert_msg(mu == md, "%s: match(#%zu, #%zu, %d) = %d, default %d", alg, i, j,
                              sel, mu, md);
            }
            {
                int mu = u.match(uk[i], uo_other, sel), md = d.match(dk[i], d_other, sel);

                ck_assert_msg(mu == md, "%s: match(#%zu, other, %d) = %d, default %d", alg, i, sel,
                              mu, md);
            }
        }
        /* dup keeps what was selected, no more */
        for (i = 0; i < 2; i++) {
            void *du = u.dup(uk[i], sel), *dd = d.dup(dk[i], sel);
            size_t t;

            ck_assert_msg((du != NULL) == (dd != NULL), "%s: dup(#%zu, %d): %p, default %p", alg,
                          i, sel, du, dd);
            if (du == NULL)
                continue;
            for (t = 0; t < sizeof(sels) / sizeof(sels[0]); t++)
                ck_assert_msg(u.has(du, sels[t]) == d.has(dd, sels[t]),
                              "%s: dup(#%zu, %d) then has(%d): %d, default %d", alg, i, sel,
                              sels[t], u.has(du, sels[t]), d.has(dd, sels[t]));
            u.free_(du);
            d.free_(dd);
        }
    }
    for (i = 0; i < 3; i++) {
        u.free_(uk[i]);
        d.free_(dk[i]);
    }
    u.free_(uo_other);
    d.free_(d_other);
    OSSL_PARAM_free(full);
    OSSL_PARAM_free(pub);
    OSSL_PARAM_free(oth);
    OSSL_PROVIDER_unload(u.prov);
    OSSL_PROVIDER_unload(d.prov);
    kp_free(&other);
    kp_free(&kp);
}
END_TEST

/*
 * Peer keys: public only, as a certificate or a SubjectPublicKeyInfo gives them. Verify and
 * encrypt work; private-key operations fail with an error on the queue, as they do on default.
 */
START_TEST(public_only_keys)
{
    static const CFG pkcs1 = { .pad = RSA_PKCS1_PADDING, .md = "SHA256" };
    static const CFG pss = { PSS(BY_CTRL_STR, "SHA256", NULL), .salt_how = BY_CTRL_STR,
                             .saltlen = "auto" };
    static const CFG oaep = { .pad = RSA_PKCS1_OAEP_PADDING, .md = "SHA256" };
    unsigned char tbs[32], sig[MAXK], ct[MAXK], out[MAXK], *der = NULL;
    const unsigned char *pp;
    EVP_PKEY *pubs[3];
    size_t len, n, i;
    BIO *bio;
    KP kp;
    int m, derlen;

    kp_load(&kp, "rsa2048.pem");
    /* by import, by decoding a PUBKEY PEM, and by decoding DER, in uringprov's library context */
    pubs[0] = move_key(kp.d, uo, EVP_PKEY_PUBLIC_KEY);
    bio = BIO_new(BIO_s_mem());
    ck_assert_int_eq(PEM_write_bio_PUBKEY(bio, kp.d), 1);
    pubs[1] = PEM_read_bio_PUBKEY_ex(bio, NULL, NULL, NULL, uo, NULL);
    BIO_free(bio);
    derlen = i2d_PUBKEY(kp.d, &der);
    ck_assert_int_gt(derlen, 0);
    pp = der;
    pubs[2] = d2i_PUBKEY_ex(NULL, &pp, derlen, uo, NULL);
    OPENSSL_free(der);
    n = digest("SHA256", msg, sizeof(msg), tbs);
    for (i = 0; i < 3; i++) {
        ck_assert_msg(pubs[i] != NULL, "public key #%zu did not load", i);
        ck_assert_int_eq(EVP_PKEY_eq(pubs[i], kp.d), 1);
        for (m = SYNC; m <= ASYNC; m++) {
            RUN r = { .lc = uo, .key = pubs[i], .op = OP_SIGN, .cfg = &pkcs1, .in = tbs,
                      .inlen = n, .out = sig, .outsize = sizeof(sig) };

            len = sign_ok(ref, kp.d, &pkcs1, tbs, n, sig, SYNC, "peer");
            ck_assert_int_eq(verify_rc(uo, pubs[i], &pkcs1, sig, len, tbs, n, m, "peer"), 1);
            len = sign_ok(ref, kp.d, &pss, tbs, n, sig, SYNC, "peer");
            ck_assert_int_eq(verify_rc(uo, pubs[i], &pss, sig, len, tbs, n, m, "peer"), 1);
            len = crypt_ok(uo, pubs[i], OP_ENCRYPT, &oaep, tbs, n, ct, m, "peer encrypt");
            ck_assert_uint_eq(crypt_ok(ref, kp.d, OP_DECRYPT, &oaep, ct, len, out, SYNC, "peer"),
                              n);
            ck_assert_mem_eq(out, tbs, n);
            /* No private key: sign and decrypt fail, with an error. */
            exec(&r, m, EXPECT_ANY, "sign with a public key");
            ck_assert_int_le(r.rv, 0);
            ck_assert_msg(r.err != 0, "sign with a public key: no error queued");
            r.op = OP_DECRYPT;
            r.cfg = &oaep;
            r.in = ct;
            r.inlen = len;
            exec(&r, m, EXPECT_ANY, "decrypt with a public key");
            ck_assert_int_le(r.rv, 0);
            ck_assert_msg(r.err != 0, "decrypt with a public key: no error queued");
        }
        EVP_PKEY_free(pubs[i]);
    }
    kp_free(&kp);
}
END_TEST

/*
 * Keys that applications load reach uringprov by export and import at operation init: a key
 * decoded in uringprov's library context, and one made by default in another, both offload.
 * Encoders (PEM and DER) read uringprov's keys through its export.
 */
typedef struct {
    OSSL_LIB_CTX *lc;
    EVP_PKEY *key;
    unsigned char sig[MAXK];
    size_t len;
    int ok;
} LS;

static int loaded_sign(void *arg)
{
    LS *s = arg;
    EVP_MD_CTX *mc = EVP_MD_CTX_new();

    s->len = sizeof(s->sig);
    s->ok = mc != NULL && EVP_DigestSignInit_ex(mc, NULL, "SHA256", s->lc, NULL, s->key, NULL) > 0
            && EVP_DigestSign(mc, s->sig, &s->len, msg, sizeof(msg)) > 0;
    EVP_MD_CTX_free(mc);
    return s->ok;
}

START_TEST(loaded_and_encoded_keys)
{
    LS *s = OPENSSL_zalloc(sizeof(*s));
    unsigned char *der = NULL, ref_sig[MAXK];
    const unsigned char *pp;
    size_t ref_len = sizeof(ref_sig);
    EVP_PKEY *keys[2], *back;
    EVP_MD_CTX *mc;
    BIO *bio;
    KP kp;
    int i, derlen;

    ck_assert_ptr_nonnull(s);
    kp_load(&kp, "rsa3072.pem");
    mc = EVP_MD_CTX_new();
    ck_assert_int_eq(EVP_DigestSignInit_ex(mc, NULL, "SHA256", ref, NULL, kp.d, NULL), 1);
    ck_assert_int_eq(EVP_DigestSign(mc, ref_sig, &ref_len, msg, sizeof(msg)), 1);
    EVP_MD_CTX_free(mc);

    keys[0] = load_pem(uo, "rsa3072.pem"); /* decoded in uringprov's library context */
    keys[1] = kp.d;                        /* a default provider key from another context */
    for (i = 0; i < 2; i++) {
        s->lc = uo;
        s->key = keys[i];
        exec_fn(loaded_sign, s, ASYNC, EXPECT_OFFLOAD, "sign with a loaded key");
        ck_assert_int_eq(s->ok, 1);
        ck_assert_uint_eq(s->len, ref_len);
        ck_assert_mem_eq(s->sig, ref_sig, ref_len);
    }
    EVP_PKEY_free(keys[0]);

    /* DER, then PEM, of uringprov's key, read back by default. */
    derlen = i2d_PrivateKey(kp.u, &der);
    ck_assert_int_gt(derlen, 0);
    pp = der;
    back = d2i_AutoPrivateKey_ex(NULL, &pp, derlen, ref, NULL);
    OPENSSL_free(der);
    ck_assert_ptr_nonnull(back);
    ck_assert_int_eq(EVP_PKEY_eq(back, kp.d), 1);
    EVP_PKEY_free(back);
    bio = BIO_new(BIO_s_mem());
    ck_assert_int_eq(PEM_write_bio_PrivateKey(bio, kp.u, NULL, NULL, 0, NULL, NULL), 1);
    back = PEM_read_bio_PrivateKey_ex(bio, NULL, NULL, NULL, ref, NULL);
    ck_assert_ptr_nonnull(back);
    ck_assert_int_eq(EVP_PKEY_eq(back, kp.d), 1);
    EVP_PKEY_free(back);
    BIO_free(bio);
    bio = BIO_new(BIO_s_mem());
    ck_assert_int_eq(PEM_write_bio_PUBKEY(bio, kp.u), 1);
    back = PEM_read_bio_PUBKEY_ex(bio, NULL, NULL, NULL, ref, NULL);
    ck_assert_ptr_nonnull(back);
    ck_assert_int_eq(EVP_PKEY_eq(back, kp.d), 1);
    EVP_PKEY_free(back);
    BIO_free(bio);
    kp_free(&kp);
    OPENSSL_free(s);
}
END_TEST

/* ---- RSA-PSS keys and their restrictions --------------------------------------------------- */

typedef struct {
    OSSL_LIB_CTX *lc;
    EVP_PKEY *key;
    const char *md;
    const CFG *cfg;
    unsigned char sig[MAXK];
    size_t len;
    int rv;
    int stage;
} PS;

static int pss_key_sign(void *arg)
{
    PS *s = arg;
    EVP_MD_CTX *mc = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pc = NULL;

    ERR_clear_error();
    s->rv = 0;
    s->len = sizeof(s->sig);
    s->stage = 1;
    if (mc == NULL || EVP_DigestSignInit_ex(mc, &pc, s->md, s->lc, NULL, s->key, NULL) <= 0)
        goto done;
    s->stage = 2;
    if (!cfg_apply(pc, s->cfg, 1))
        goto done;
    s->stage = 0;
    s->rv = EVP_DigestSign(mc, s->sig, &s->len, msg, sizeof(msg));
done:
    EVP_MD_CTX_free(mc);
    return s->rv > 0;
}

START_TEST(pss_key_restrictions)
{
    static const CFG salt40 = { .has_saltlen = 1, .salt_how = BY_INT, .saltlen_int = 40 };
    static const CFG salt20 = { .has_saltlen = 1, .salt_how = BY_CTRL_STR, .saltlen = "20" };
    static const CFG pkcs1 = { .pad = RSA_PKCS1_PADDING, .pad_how = BY_INT };
    static const struct { const char *md; const CFG *cfg; } cases[] = {
        { "SHA256", NULL }, { NULL, NULL }, { "SHA256", &salt40 },  /* allowed */
        { "SHA512", NULL }, { "SHA1", NULL }, { "SHA256", &salt20 }, /* restricted */
        { "SHA256", &pkcs1 },                                        /* PSS keys sign PSS only */
    };
    PS *u = OPENSSL_zalloc(sizeof(*u)), *d = OPENSSL_zalloc(sizeof(*d));
    size_t i;
    KP kp;
    int m;

    ck_assert_ptr_nonnull(u);
    ck_assert_ptr_nonnull(d);
    kp_load(&kp, "rsapss2048-sha256.pem");
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        *d = (PS){ .lc = ref, .key = kp.d, .md = cases[i].md, .cfg = cases[i].cfg };
        pss_key_sign(d);
        for (m = SYNC; m <= ASYNC; m++) {
            int ok_d = d->stage == 0 && d->rv > 0, ok_u;

            *u = (PS){ .lc = uo, .key = kp.u, .md = cases[i].md, .cfg = cases[i].cfg };
            exec_fn(pss_key_sign, u, m, ok_d ? EXPECT_OFFLOAD : EXPECT_ANY, "RSA-PSS key");
            ok_u = u->stage == 0 && u->rv > 0;
            ck_assert_msg(ok_u == ok_d, "RSA-PSS key case %zu %s: uringprov %s, default %s", i,
                          mode_name[m], ok_u ? "signs" : "refuses", ok_d ? "signs" : "refuses");
            if (!ok_d)
                continue;
            ck_assert_uint_eq(u->len, 256);
            /* Each verifies the other's, with the same settings. */
            ck_assert_msg(dverify(ref, kp.d, cases[i].md, cases[i].cfg, u->sig, u->len, msg,
                                  sizeof(msg), NULL, 0, 1, SYNC) == 1,
                          "RSA-PSS key case %zu %s: default rejects uringprov's signature", i,
                          mode_name[m]);
            ck_assert_msg(dverify(uo, kp.u, cases[i].md, cases[i].cfg, d->sig, d->len, msg,
                                  sizeof(msg), NULL, 0, 1, m) == 1,
                          "RSA-PSS key case %zu %s: uringprov rejects default's signature", i,
                          mode_name[m]);
            ck_assert_int_le(dverify(uo, kp.u, cases[i].md, cases[i].cfg, d->sig, d->len, msg,
                                     sizeof(msg) - 1, NULL, 0, 1, m), 0);
        }
    }
    /* EVP_PKEY_sign of a digest with the key's restrictions: allowed and refused alike. */
    {
        static const CFG sha256 = { .md = "SHA256" }, sha1 = { .md = "SHA1" };
        static const CFG *const cfgs[] = { &sha256, &salt40, &sha1, &salt20, &pkcs1 };
        unsigned char tbs[32], sig[MAXK];
        size_t n = digest("SHA256", msg, sizeof(msg), tbs);

        for (i = 0; i < sizeof(cfgs) / sizeof(cfgs[0]); i++) {
            RUN rd = { .lc = ref, .key = kp.d, .op = OP_SIGN, .cfg = cfgs[i], .in = tbs,
                       .inlen = n, .out = sig, .outsize = sizeof(sig) };
            RUN ru = rd;
            int ok_d, ok_u;

            run_op(&rd);
            ok_d = rd.stage == 0 && rd.rv > 0;
            ru.lc = uo;
            ru.key = kp.u;
            exec(&ru, ASYNC, ok_d ? EXPECT_OFFLOAD : EXPECT_ANY, "RSA-PSS key, EVP_PKEY_sign");
            ok_u = ru.stage == 0 && ru.rv > 0;
            ck_assert_msg(ok_u == ok_d, "RSA-PSS key EVP_PKEY_sign #%zu: uringprov %d, default %d",
                          i, ok_u, ok_d);
            if (ok_u)
                ck_assert_int_eq(verify_rc(ref, kp.d, cfgs[i], sig, ru.outlen, tbs, n, SYNC,
                                           "RSA-PSS key"), 1);
            else
                ck_assert_msg(ru.err != 0, "RSA-PSS key #%zu: refused without an error", i);
        }
    }
    /* RSA-PSS keys do not encrypt: refused alike. */
    {
        static const unsigned char pt[16] = { 1 };
        unsigned char out[MAXK];
        RUN ru = { .lc = uo, .key = kp.u, .op = OP_ENCRYPT, .in = pt, .inlen = sizeof(pt),
                   .out = out, .outsize = sizeof(out) };
        RUN rd = ru;

        rd.lc = ref;
        rd.key = kp.d;
        run_op(&rd);
        run_op(&ru);
        ck_assert_int_eq(rd.stage == 0 && rd.rv > 0, ru.stage == 0 && ru.rv > 0);
        ck_assert_msg(ru.err != 0 || (ru.stage == 0 && ru.rv > 0), "no error queued");
    }
    /* Unrestricted RSA-PSS: any digest, PSS only. */
    kp_free(&kp);
    kp_load(&kp, "rsapss2048.pem");
    *u = (PS){ .lc = uo, .key = kp.u, .md = "SHA384" };
    exec_fn(pss_key_sign, u, ASYNC, EXPECT_OFFLOAD, "RSA-PSS unrestricted");
    ck_assert_int_eq(u->rv, 1);
    ck_assert_int_eq(dverify(ref, kp.d, "SHA384", NULL, u->sig, u->len, msg, sizeof(msg), NULL,
                             0, 1, SYNC), 1);
    *u = (PS){ .lc = uo, .key = kp.u, .md = "SHA384", .cfg = &pkcs1 };
    pss_key_sign(u);
    ck_assert_int_ne(u->rv, 1);
    kp_free(&kp);
    OPENSSL_free(u);
    OPENSSL_free(d);
}
END_TEST

/* ---- key generation through uringprov ------------------------------------------------------ */

typedef struct {
    OSSL_LIB_CTX *lc;   /* NULL: uo */
    const char *type;
    int by_ctrl_str;
    int bits, primes;
    unsigned long e;
    const char *pss_md, *pss_mgf1;
    int pss_saltlen;
    EVP_PKEY *pkey;
    int stage;
    unsigned long err;  /* the first error left on the queue */
} GEN;

static int gen_run(void *arg)
{
    GEN *g = arg;
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(g->lc != NULL ? g->lc : uo, g->type, NULL);
    BIGNUM *e = BN_new();
    char buf[32];

    ERR_clear_error();
    g->pkey = NULL;
    g->stage = 1;
    if (c == NULL || e == NULL || EVP_PKEY_keygen_init(c) <= 0)
        goto done;
    g->stage = 2;
    if (g->by_ctrl_str) {
        snprintf(buf, sizeof(buf), "%d", g->bits);
        if (EVP_PKEY_CTX_ctrl_str(c, "rsa_keygen_bits", buf) <= 0)
            goto done;
        snprintf(buf, sizeof(buf), "%d", g->primes);
        if (EVP_PKEY_CTX_ctrl_str(c, "rsa_keygen_primes", buf) <= 0)
            goto done;
        snprintf(buf, sizeof(buf), "%lu", g->e);
        if (EVP_PKEY_CTX_ctrl_str(c, "rsa_keygen_pubexp", buf) <= 0)
            goto done;
    } else if (EVP_PKEY_CTX_set_rsa_keygen_bits(c, g->bits) <= 0
               || EVP_PKEY_CTX_set_rsa_keygen_primes(c, g->primes) <= 0
               || !BN_set_word(e, g->e) || EVP_PKEY_CTX_set1_rsa_keygen_pubexp(c, e) <= 0) {
        goto done;
    }
    g->stage = 3;
    if (g->pss_md != NULL
        && (EVP_PKEY_CTX_set_rsa_pss_keygen_md_name(c, g->pss_md, NULL) <= 0
            || EVP_PKEY_CTX_set_rsa_pss_keygen_mgf1_md_name(c, g->pss_mgf1) <= 0
            || EVP_PKEY_CTX_set_rsa_pss_keygen_saltlen(c, g->pss_saltlen) <= 0))
        goto done;
    g->stage = 4;
    if (EVP_PKEY_generate(c, &g->pkey) <= 0)
        goto done;
    g->stage = 0;
done:
    g->err = ERR_peek_error();
    BN_free(e);
    EVP_PKEY_CTX_free(c);
    return g->stage == 0;
}

START_TEST(keygen)
{
    static const GEN gens[] = {
        { .type = "RSA", .bits = 1024, .primes = 3, .e = 3 },
        { .type = "RSA", .by_ctrl_str = 1, .bits = 1536, .primes = 2, .e = 65537 },
        { .type = "RSA-PSS", .bits = 1024, .primes = 2, .e = 65537, .pss_md = "SHA256",
          .pss_mgf1 = "SHA256", .pss_saltlen = 24 },
    };
    static const CFG pkcs1 = { .pad = RSA_PKCS1_PADDING, .md = "SHA256" };
    const GEN *want = &gens[_i / 2];
    enum mode mode = _i % 2 ? ASYNC : SYNC;
    GEN *g = OPENSSL_zalloc(sizeof(*g));
    unsigned char tbs[32], sig[MAXK];
    BIGNUM *e = NULL, *f3 = NULL;
    EVP_PKEY *d;
    EVP_PKEY_CTX *c;
    size_t len, n;
    int bits = 0;

    ck_assert_ptr_nonnull(g);
    *g = *want;
    exec_fn(gen_run, g, mode, expect_private(), "keygen");
    ck_assert_msg(g->stage == 0, "keygen failed at stage %d", g->stage);
    ck_assert_str_eq(prov_name(g->pkey), "uringprov");
    ck_assert_int_eq(EVP_PKEY_is_a(g->pkey, want->type), 1);
    ck_assert_int_eq(EVP_PKEY_get_int_param(g->pkey, OSSL_PKEY_PARAM_BITS, &bits), 1);
    ck_assert_int_eq(bits, want->bits);
    ck_assert_int_eq(EVP_PKEY_get_bn_param(g->pkey, OSSL_PKEY_PARAM_RSA_E, &e), 1);
    ck_assert(BN_is_word(e, want->e));
    ck_assert_int_eq(EVP_PKEY_get_bn_param(g->pkey, OSSL_PKEY_PARAM_RSA_FACTOR3, &f3),
                     want->primes >= 3);
    BN_free(e);
    BN_free(f3);
    c = EVP_PKEY_CTX_new_from_pkey(uo, g->pkey, NULL);
    ck_assert_int_eq(EVP_PKEY_check(c), 1);
    EVP_PKEY_CTX_free(c);

    /* default agrees that it is a good key, with the restrictions asked for */
    d = move_key(g->pkey, ref, EVP_PKEY_KEYPAIR);
    c = EVP_PKEY_CTX_new_from_pkey(ref, d, NULL);
    ck_assert_int_eq(EVP_PKEY_check(c), 1);
    EVP_PKEY_CTX_free(c);
    if (want->pss_md != NULL) {
        char mdname[32] = "";
        int saltlen = 0;

        ck_assert_int_eq(EVP_PKEY_get_utf8_string_param(d, OSSL_PKEY_PARAM_RSA_DIGEST, mdname,
                                                        sizeof(mdname), NULL), 1);
        EVP_MD *md = EVP_MD_fetch(ref, want->pss_md, NULL);

        ck_assert_int_eq(EVP_MD_is_a(md, mdname), 1);
        EVP_MD_free(md);
        ck_assert_int_eq(EVP_PKEY_get_int_param(d, OSSL_PKEY_PARAM_RSA_PSS_SALTLEN, &saltlen), 1);
        ck_assert_int_eq(saltlen, want->pss_saltlen);
    } else {
        n = digest("SHA256", msg, sizeof(msg), tbs);
        len = sign_ok(uo, g->pkey, &pkcs1, tbs, n, sig, mode, "sign with a generated key");
        ck_assert_int_eq(verify_rc(ref, d, &pkcs1, sig, len, tbs, n, SYNC, "generated"), 1);
    }
    EVP_PKEY_free(d);
    EVP_PKEY_free(g->pkey);
    OPENSSL_free(g);
}
END_TEST

/* ---- contexts: dup, re-init, parameters at init, and what they report ---------------------- */

/*
 * One sequence of calls on a context, run on each side: init, settings, dup, sign with the dup,
 * re-init the original (back to its defaults), sign again. Both signatures are deterministic.
 */
typedef struct {
    OSSL_LIB_CTX *lc;
    EVP_PKEY *key;
    const unsigned char *tbs, *raw;
    size_t tbslen, rawlen;
    unsigned char sig1[MAXK], sig2[MAXK];
    size_t len1, len2;
    char mdname[32];
    int pad, saltlen;
    unsigned char algid[128];
    size_t algidlen;
    int stage;
} CX;

static int cx_run(void *arg)
{
    CX *x = arg;
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(x->lc, x->key, NULL), *dup = NULL;
    OSSL_PARAM get[2];

    x->stage = 1;
    if (c == NULL || EVP_PKEY_sign_init(c) <= 0 || EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) <= 0
        || EVP_PKEY_CTX_set_signature_md(c, EVP_sha256()) <= 0)
        goto done;
    x->stage = 2;
    if ((dup = EVP_PKEY_CTX_dup(c)) == NULL)
        goto done;
    x->stage = 3;
    /* What the dup reports: the digest, the padding and the AlgorithmIdentifier. */
    get[0] = OSSL_PARAM_construct_octet_string(OSSL_SIGNATURE_PARAM_ALGORITHM_ID, x->algid,
                                               sizeof(x->algid));
    get[1] = OSSL_PARAM_construct_end();
    if (EVP_PKEY_CTX_get_signature_md(dup, &(const EVP_MD *){ NULL }) <= 0
        || EVP_PKEY_CTX_get_rsa_padding(dup, &x->pad) <= 0 || EVP_PKEY_CTX_get_params(dup, get) <= 0)
        goto done;
    x->algidlen = get[0].return_size;
    x->stage = 4;
    x->len1 = sizeof(x->sig1);
    if (EVP_PKEY_sign(dup, x->sig1, &x->len1, x->tbs, x->tbslen) <= 0)
        goto done;
    x->stage = 5;
    x->len2 = sizeof(x->sig2);
    if (EVP_PKEY_sign_init(c) <= 0 || EVP_PKEY_sign(c, x->sig2, &x->len2, x->raw, x->rawlen) <= 0)
        goto done;
    x->stage = 0;
done:
    EVP_PKEY_CTX_free(dup);
    EVP_PKEY_CTX_free(c);
    return x->stage == 0;
}

START_TEST(ctx_dup_reinit_params)
{
    CX *u = OPENSSL_zalloc(sizeof(*u)), *d = OPENSSL_zalloc(sizeof(*d));
    unsigned char tbs[32], raw[36], sig[MAXK], pt[16] = { 9, 8, 7 }, ct[MAXK], out[MAXK];
    char mdname[32] = "", padname[16] = "";
    OSSL_PARAM pss_params[4], oaep_params[3], get[3];
    static const CFG pss = { PSS(BY_INT, "SHA256", NULL), .salt_how = BY_CTRL_STR,
                             .saltlen = "digest" };
    static const CFG oaep = { .pad = RSA_PKCS1_OAEP_PADDING, .md = "SHA256" };
    EVP_PKEY_CTX *c;
    EVP_MD_CTX *mc;
    size_t len, n;
    KP kp;
    int m, saltlen = 0;

    ck_assert(u != NULL && d != NULL);
    kp_load(&kp, "rsa2048.pem");
    n = digest("SHA256", msg, sizeof(msg), tbs);
    memset(raw, 0x3c, sizeof(raw));
    *d = (CX){ .lc = ref, .key = kp.d, .tbs = tbs, .tbslen = n, .raw = raw, .rawlen = sizeof(raw) };
    ck_assert_int_eq(cx_run(d), 1);
    for (m = SYNC; m <= ASYNC; m++) {
        *u = (CX){ .lc = uo, .key = kp.u, .tbs = tbs, .tbslen = n, .raw = raw,
                   .rawlen = sizeof(raw) };
        exec_fn(cx_run, u, m, EXPECT_OFFLOAD, "dup and re-init");
        ck_assert_msg(u->stage == 0, "dup and re-init %s: failed at stage %d", mode_name[m],
                      u->stage);
        ck_assert_int_eq(u->pad, d->pad);
        ck_assert_uint_eq(u->algidlen, d->algidlen);
        ck_assert_mem_eq(u->algid, d->algid, d->algidlen);
        ck_assert_uint_eq(u->len1, d->len1);
        ck_assert_mem_eq(u->sig1, d->sig1, d->len1);
        ck_assert_uint_eq(u->len2, d->len2);
        ck_assert_mem_eq(u->sig2, d->sig2, d->len2);
    }

    /* Settings given at init, as OSSL_PARAMs, then read back. */
    pss_params[0] = OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE, "pss", 0);
    pss_params[1] = OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, "SHA256", 0);
    pss_params[2] = OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, "digest",
                                                     0);
    pss_params[3] = OSSL_PARAM_construct_end();
    c = EVP_PKEY_CTX_new_from_pkey(uo, kp.u, NULL);
    ck_assert_int_eq(EVP_PKEY_sign_init_ex(c, pss_params), 1);
    get[0] = OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE, padname,
                                              sizeof(padname));
    get[1] = OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, mdname,
                                              sizeof(mdname));
    get[2] = OSSL_PARAM_construct_end();
    ck_assert_int_eq(EVP_PKEY_CTX_get_params(c, get), 1);
    ck_assert_str_eq(padname, "pss");
    ck_assert_int_gt(EVP_PKEY_CTX_get_rsa_pss_saltlen(c, &saltlen), 0);
    {
        EVP_PKEY_CTX *cd = EVP_PKEY_CTX_new_from_pkey(ref, kp.d, NULL);
        int saltlen_d = 0;

        ck_assert_int_eq(EVP_PKEY_sign_init_ex(cd, pss_params), 1);
        ck_assert_int_gt(EVP_PKEY_CTX_get_rsa_pss_saltlen(cd, &saltlen_d), 0);
        ck_assert_int_eq(saltlen, saltlen_d);
        EVP_PKEY_CTX_free(cd);
    }
    len = sizeof(sig);
    ck_assert_int_eq(EVP_PKEY_sign(c, sig, &len, tbs, n), 1);
    EVP_PKEY_CTX_free(c);
    ck_assert_int_eq(verify_rc(ref, kp.d, &pss, sig, len, tbs, n, SYNC, "PSS set at init"), 1);

    mc = EVP_MD_CTX_new();
    ck_assert_int_eq(EVP_DigestSignInit_ex(mc, NULL, "SHA256", uo, NULL, kp.u, pss_params), 1);
    len = sizeof(sig);
    ck_assert_int_eq(EVP_DigestSign(mc, sig, &len, msg, sizeof(msg)), 1);
    EVP_MD_CTX_free(mc);
    ck_assert_int_eq(dverify(ref, kp.d, "SHA256", &pss, sig, len, msg, sizeof(msg), NULL, 0, 1,
                             SYNC), 1);

    oaep_params[0] = OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_PAD_MODE, "oaep", 0);
    oaep_params[1] = OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST,
                                                      "SHA256", 0);
    oaep_params[2] = OSSL_PARAM_construct_end();
    c = EVP_PKEY_CTX_new_from_pkey(uo, kp.u, NULL);
    ck_assert_int_eq(EVP_PKEY_encrypt_init_ex(c, oaep_params), 1);
    len = sizeof(ct);
    ck_assert_int_eq(EVP_PKEY_encrypt(c, ct, &len, pt, sizeof(pt)), 1);
    ck_assert_int_eq(EVP_PKEY_CTX_get_rsa_oaep_md_name(c, mdname, sizeof(mdname)), 1);
    ck_assert_int_eq(EVP_MD_is_a(EVP_sha256(), mdname) || strcmp(mdname, "SHA256") == 0
                     || strcmp(mdname, "SHA2-256") == 0, 1);
    EVP_PKEY_CTX_free(c);
    ck_assert_uint_eq(crypt_ok(ref, kp.d, OP_DECRYPT, &oaep, ct, len, out, SYNC, "OAEP at init"),
                      sizeof(pt));
    ck_assert_mem_eq(out, pt, sizeof(pt));
    c = EVP_PKEY_CTX_new_from_pkey(uo, kp.u, NULL);
    ck_assert_int_eq(EVP_PKEY_decrypt_init_ex(c, oaep_params), 1);
    len = sizeof(out);
    memset(out, 0, sizeof(out));
    ck_assert_int_eq(EVP_PKEY_decrypt(c, out, &len, ct, kp.k), 1);
    ck_assert_uint_eq(len, sizeof(pt));
    ck_assert_mem_eq(out, pt, sizeof(pt));
    EVP_PKEY_CTX_free(c);
    kp_free(&kp);
    OPENSSL_free(u);
    OPENSSL_free(d);
}
END_TEST

/* ---- certificates: what libcrypto's X509 signing asks of a signature provider --------------- */

typedef struct {
    X509 *x;
    EVP_PKEY *key;
    OSSL_LIB_CTX *lc;
    int pss;
    int rv;
} XS;

static int x509_sign_run(void *arg)
{
    XS *s = arg;
    EVP_MD_CTX *mc;
    EVP_PKEY_CTX *pc = NULL;

    if (!s->pss) {
        s->rv = X509_sign(s->x, s->key, EVP_sha256()) > 0;
        return s->rv;
    }
    mc = EVP_MD_CTX_new();
    s->rv = mc != NULL && EVP_DigestSignInit_ex(mc, &pc, "SHA256", s->lc, NULL, s->key, NULL) > 0
            && EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) > 0
            && EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_DIGEST) > 0
            && X509_sign_ctx(s->x, mc) > 0;
    EVP_MD_CTX_free(mc);
    return s->rv;
}

START_TEST(x509_signing)
{
    XS s = { 0 };
    X509 *x, *back;
    X509_NAME *name;
    unsigned char *der = NULL;
    const unsigned char *pp;
    int derlen, m = _i % 2;
    KP kp;

    kp_load(&kp, "rsa2048.pem");
    x = X509_new_ex(uo, NULL);
    ck_assert_ptr_nonnull(x);
    ck_assert(X509_set_version(x, X509_VERSION_3));
    ck_assert(ASN1_INTEGER_set(X509_get_serialNumber(x), 42));
    /* A name of its own: the certificate's is const from OpenSSL 4.0 on. */
    name = X509_NAME_new();
    ck_assert_ptr_nonnull(name);
    ck_assert(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                         (const unsigned char *)"uringprov", -1, -1, 0));
    ck_assert(X509_set_subject_name(x, name));
    ck_assert(X509_set_issuer_name(x, name));
    X509_NAME_free(name);
    ck_assert_ptr_nonnull(X509_gmtime_adj(X509_getm_notBefore(x), 0));
    ck_assert_ptr_nonnull(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
    ck_assert(X509_set_pubkey(x, kp.u));
    s = (XS){ .x = x, .key = kp.u, .lc = uo, .pss = _i / 2 };
    exec_fn(x509_sign_run, &s, m, EXPECT_OFFLOAD, "X509 signing");
    ck_assert_msg(s.rv == 1, "X509 signing (%s, %s) failed", s.pss ? "PSS" : "PKCS#1",
                  mode_name[m]);
    /* default reads the certificate back and checks it */
    derlen = i2d_X509(x, &der);
    ck_assert_int_gt(derlen, 0);
    pp = der;
    back = X509_new_ex(ref, NULL);
    ck_assert_ptr_nonnull(d2i_X509(&back, &pp, derlen));
    ck_assert_int_eq(X509_verify(back, kp.d), 1);
    ck_assert_int_eq(X509_get_signature_nid(back),
                     s.pss ? NID_rsassaPss : NID_sha256WithRSAEncryption);
    /* and uringprov checks it with a public-only key */
    ck_assert_int_eq(X509_verify(x, kp.u), 1);
    X509_free(back);
    OPENSSL_free(der);
    X509_free(x);
    kp_free(&kp);
}
END_TEST

/* ---- the other offload configurations -------------------------------------------------- */

static const char *const configs[] = {
    "offload = all\n",      /* verify, verify_recover and encrypt go to the workers too */
    "offload = none\n",     /* nothing does: no pause, even in a job */
    "sync_mode = offload\n" /* outside a job too, with the caller blocked */
};

START_TEST(offload_configs)
{
    static const CFG pkcs1 = { .pad = RSA_PKCS1_PADDING, .pad_how = BY_INT, .md = "SHA256" };
    static const CFG pss = { PSS(BY_PARAM, "SHA256", "SHA1"), .salt_how = BY_CTRL_STR,
                             .saltlen = "max" };
    static const CFG oaep = { .pad = RSA_PKCS1_OAEP_PADDING, .pad_how = BY_CTRL_STR,
                              .md = "SHA256", .label = "config" };
    static const CFG none = { .pad = RSA_NO_PADDING, .pad_how = BY_INT };
    static const GEN gen = { .type = "RSA", .bits = 1024, .primes = 2, .e = 65537 };
    unsigned char tbs[32], pt[MAXK], sig[MAXK], out_d[MAXK], out_u[MAXK];
    size_t n, len, len_d, len_u;
    GEN *g = OPENSSL_zalloc(sizeof(*g));
    KP kp;
    int m;

    ck_assert_ptr_nonnull(g);
    OSSL_LIB_CTX_free(uo);
    uo = uot_libctx_new(configs[_i]);
    ck_assert_ptr_nonnull(uo);
    conf.public_ops = _i == 0;
    conf.none = _i == 1;
    conf.sync_offload = _i == 2;

    kp_load(&kp, "rsa2048.pem");
    n = digest("SHA256", msg, sizeof(msg), tbs);
    check_deterministic(&kp, &pkcs1, tbs, n, configs[_i]);
    check_pss(&kp, &pss, &pss, configs[_i]);
    ck_assert_int_eq(RAND_bytes(pt, sizeof(pt)), 1);
    check_crypt(&kp, &oaep, pt, 16, configs[_i]);
    pt[0] = 0;
    check_crypt(&kp, &none, pt, kp.k, configs[_i]);
    check_digest_sign(&kp, "SHA256", NULL, 1);

    len = sign_ok(ref, kp.d, &pkcs1, tbs, n, sig, SYNC, "recover: sign");
    len_d = crypt_ok(ref, kp.d, OP_RECOVER, &pkcs1, sig, len, out_d, SYNC, "recover");
    for (m = SYNC; m <= ASYNC; m++) {
        len_u = crypt_ok(uo, kp.u, OP_RECOVER, &pkcs1, sig, len, out_u, m, "recover");
        ck_assert_uint_eq(len_u, len_d);
        ck_assert_mem_eq(out_u, out_d, len_d);
    }

    /* Errors of work done on a worker reach the caller's queue, in and out of jobs. */
    memset(pt, 0x33, kp.k);
    pt[0] = 0;
    check_bad_ciphertext(&kp, &oaep, pt, kp.k, MAXK, "bad OAEP");
    for (m = SYNC; m <= ASYNC; m++) {
        RUN r = { .lc = uo, .key = kp.u, .op = OP_SIGN, .cfg = &pkcs1, .in = tbs, .inlen = n,
                  .out = sig, .outsize = kp.k - 1 };

        exec(&r, m, expect_private(), "sign into a short buffer");
        ck_assert_int_le(r.rv, 0);
        ck_assert_msg(r.err != 0, "sign into a short buffer, %s: no error", mode_name[m]);
        r.outsize = 0;
        r.inlen = 20; /* the wrong digest length */
        exec(&r, m, expect_private(), "sign a bad digest");
        ck_assert_int_le(r.rv, 0);
        ck_assert_msg(r.err != 0, "sign a bad digest, %s: no error", mode_name[m]);

        *g = gen;
        exec_fn(gen_run, g, m, expect_private(), "keygen");
        ck_assert_int_eq(g->stage, 0);
        ck_assert_int_eq(EVP_PKEY_get_bits(g->pkey), 1024);
        ck_assert_str_eq(prov_name(g->pkey), "uringprov");
        EVP_PKEY_free(g->pkey);
    }
    kp_free(&kp);
    OPENSSL_free(g);
}
END_TEST

/* ---- bad input ----------------------------------------------------------------------------- */

/* uringprov fails where default fails, with an error on the queue, and does not crash. */
typedef struct {
    const char *what;
    enum op op;
    const CFG *cfg;
    int in_kind;      /* 0: NULL input; 1: random; 2: random, top byte cleared */
    long inlen_delta; /* the input's length: k + delta; or fixed when absolute */
    size_t inlen_abs;
    int use_abs;
    size_t outsize_delta_neg; /* the output capacity: k - this (0: MAXK) */
} BAD;

START_TEST(bad_input)
{
    static const CFG pkcs1_md = { .pad = RSA_PKCS1_PADDING, .pad_how = BY_INT, .md = "SHA256" };
    static const CFG pkcs1 = { .pad = RSA_PKCS1_PADDING, .pad_how = BY_INT };
    static const CFG none = { .pad = RSA_NO_PADDING, .pad_how = BY_INT };
    static const CFG pss = { PSS(BY_INT, "SHA256", NULL), .salt_how = BY_INT, .saltlen_int = 20 };
    static const CFG oaep = { .pad = RSA_PKCS1_OAEP_PADDING, .pad_how = BY_INT, .md = "SHA256" };
    static const BAD cases[] = {
        { "verify: signature one byte short", OP_VERIFY, &pkcs1_md, 1, .inlen_delta = -1 },
        { "verify: signature one byte long", OP_VERIFY, &pkcs1_md, 1, .inlen_delta = +1 },
        { "verify: garbage signature", OP_VERIFY, &pkcs1_md, 2, .inlen_delta = 0 },
        { "verify: garbage PSS signature", OP_VERIFY, &pss, 2, .inlen_delta = 0 },
        { "verify: NULL signature", OP_VERIFY, &pkcs1_md, 0, .use_abs = 1, .inlen_abs = 0 },
        { "recover: garbage", OP_RECOVER, &pkcs1_md, 2, .inlen_delta = 0 },
        { "recover: too long", OP_RECOVER, &pkcs1, 1, .inlen_delta = +1 },
        { "sign: digest of the wrong length", OP_SIGN, &pkcs1_md, 1, .use_abs = 1,
          .inlen_abs = 20 },
        { "sign: raw input larger than the modulus", OP_SIGN, &none, 1, .inlen_delta = +1 },
        { "sign: raw input shorter than the modulus", OP_SIGN, &none, 1, .inlen_delta = -1 },
        { "sign: PKCS#1 input too long", OP_SIGN, &pkcs1, 1, .inlen_delta = -10 },
        { "sign: PSS digest of the wrong length", OP_SIGN, &pss, 1, .use_abs = 1,
          .inlen_abs = 48 },
        { "sign: output buffer too small", OP_SIGN, &pkcs1_md, 1, .use_abs = 1, .inlen_abs = 32,
          .outsize_delta_neg = 1 },
        { "encrypt: PKCS#1 input too long", OP_ENCRYPT, &pkcs1, 1, .inlen_delta = -10 },
        { "encrypt: OAEP input too long", OP_ENCRYPT, &oaep, 1, .inlen_delta = -65 },
        { "encrypt: raw input larger than the modulus", OP_ENCRYPT, &none, 1, .inlen_delta = +1 },
        { "decrypt: ciphertext too long", OP_DECRYPT, &pkcs1, 1, .inlen_delta = +1 },
        { "decrypt: ciphertext above the modulus", OP_DECRYPT, &none, 3, .inlen_delta = 0 },
        { "decrypt: NULL ciphertext", OP_DECRYPT, &pkcs1, 0, .use_abs = 1, .inlen_abs = 0 },
        { "decrypt: output buffer too small", OP_DECRYPT, &oaep, 4, .outsize_delta_neg = 250 },
    };
    unsigned char *in = OPENSSL_malloc(MAXK + 16), *out_u = OPENSSL_malloc(MAXK),
                  *out_d = OPENSSL_malloc(MAXK), pt[16] = { 1, 2, 3 };
    size_t i;
    KP kp;
    int m;

    ck_assert(in != NULL && out_u != NULL && out_d != NULL);
    kp_load(&kp, "rsa2048.pem");
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const BAD *b = &cases[i];
        size_t inlen = b->use_abs ? b->inlen_abs : (size_t)((long)kp.k + b->inlen_delta);
        RUN d, u;

        ck_assert_int_eq(RAND_bytes(in, MAXK + 16), 1);
        if (b->in_kind == 2)
            in[0] = 0;
        if (b->in_kind == 3)
            memset(in, 0xff, kp.k);
        if (b->in_kind == 4) /* a valid OAEP ciphertext of 16 bytes */
            inlen = crypt_ok(ref, kp.d, OP_ENCRYPT, &oaep, pt, sizeof(pt), in, SYNC, b->what);
        d = (RUN){ .lc = ref, .key = kp.d, .op = b->op, .cfg = b->cfg,
                   .in = b->in_kind == 0 ? NULL : in, .inlen = inlen, .out = out_d,
                   .outsize = b->outsize_delta_neg != 0 ? kp.k - b->outsize_delta_neg : MAXK };
        if (b->op == OP_VERIFY) {
            d.tbs = in + 8;
            d.tbslen = 32;
            d.out = NULL;
        }
        run_op(&d);
        ck_assert_msg(d.stage == 0, "%s: default set-up failed", b->what);
        ck_assert_msg(d.rv <= 0, "%s: default accepts it: not a bad input", b->what);
        for (m = SYNC; m <= ASYNC; m++) {
            u = d;
            u.lc = uo;
            u.key = kp.u;
            if (u.out != NULL)
                u.out = out_u;
            exec(&u, m, EXPECT_ANY, b->what);
            ck_assert_msg(u.stage == 0, "%s %s: set-up failed", b->what, mode_name[m]);
            ck_assert_msg(u.rv <= 0, "%s %s: uringprov accepts it", b->what, mode_name[m]);
            ck_assert_msg(u.err != 0, "%s %s: no error on the queue", b->what, mode_name[m]);
        }
    }
    /*
     * Key generation that fails only once it runs (more primes than 1024 bits allow): on a worker
     * in a job, and the error comes back. A size that is too small fails when it is set.
     */
    for (m = SYNC; m <= ASYNC; m++) {
        static const GEN bad[] = {
            { .type = "RSA", .bits = 1024, .primes = 5, .e = 65537 },
            { .type = "RSA", .bits = 256, .primes = 2, .e = 65537 },
        };
        GEN g;
        size_t j;

        for (j = 0; j < sizeof(bad) / sizeof(bad[0]); j++) {
            g = bad[j];
            g.lc = ref;
            ck_assert_int_eq(gen_run(&g), 0);
            ck_assert_int_eq(g.stage, j == 0 ? 4 : 2);
            g = bad[j];
            exec_fn(gen_run, &g, m, j == 0 ? EXPECT_OFFLOAD : EXPECT_NO_OFFLOAD, "bad keygen");
            ck_assert_msg(g.stage == (j == 0 ? 4 : 2), "bad keygen #%zu %s: stage %d", j,
                          mode_name[m], g.stage);
            ck_assert_ptr_null(g.pkey);
            ck_assert_msg(g.err != 0, "bad keygen #%zu %s: no error", j, mode_name[m]);
        }
    }
    /* An operation that was never initialised. */
    {
        EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(uo, kp.u, NULL);
        size_t len = MAXK;

        ERR_clear_error();
        ck_assert_int_le(EVP_PKEY_sign(c, out_u, &len, in, 32), 0);
        ck_assert_uint_ne(ERR_peek_error(), 0);
        ERR_clear_error();
        ck_assert_int_le(EVP_PKEY_decrypt(c, out_u, &len, in, kp.k), 0);
        ck_assert_uint_ne(ERR_peek_error(), 0);
        EVP_PKEY_CTX_free(c);
    }
    kp_free(&kp);
    OPENSSL_free(in);
    OPENSSL_free(out_u);
    OPENSSL_free(out_d);
}
END_TEST

/* ---- the suite ----------------------------------------------------------------------------- */

/*
 * Under valgrind (or with UO_TEST_QUICK=1) keys above 2048 bits would take most of an hour: test
 * 1024 and 2048 bits only, and say so.
 */
static int quick_mode(void)
{
    const char *q = getenv("UO_TEST_QUICK"), *preload = getenv("LD_PRELOAD");

    return (q != NULL && *q != '\0' && strcmp(q, "0") != 0)
           || (preload != NULL && strstr(preload, "vgpreload") != NULL);
}

static TCase *tcase(Suite *s, const char *name, int timeout)
{
    TCase *tc = tcase_create(name);

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, timeout);
    suite_add_tcase(s, tc);
    return tc;
}

int main(void)
{
    Suite *s = suite_create("rsa");
    int quick = quick_mode(), nsizes = quick ? 2 : NSIZES;
    SRunner *sr;
    TCase *tc;
    int failed;

    if (quick)
        fprintf(stderr, "test_rsa: quick mode (valgrind or UO_TEST_QUICK): 1024 and 2048 bits "
                        "only, no 8192\n");

    tc = tcase(s, "signatures", 120);
    tcase_add_loop_test(tc, sign_pkcs1, 0, nsizes);
    tcase_add_loop_test(tc, sign_x931_none, 0, nsizes);
    tcase_add_loop_test(tc, sign_pss, 0, nsizes);
    tcase_add_loop_test(tc, verify_recover, 0, nsizes);
    tcase_add_loop_test(tc, digest_sign, 0, nsizes);
    tc = tcase(s, "encryption", 120);
    tcase_add_loop_test(tc, encrypt_pkcs1_oaep_none, 0, nsizes);
    tcase_add_loop_test(tc, encrypt_tls, 0, nsizes);
    if (!quick) {
        tc = tcase(s, "8192", 120);
        tcase_add_test(tc, rsa8192);
    }
    tc = tcase(s, "keymgmt", 120);
    tcase_add_loop_test(tc, import_export, 0, 4);
    tcase_add_loop_test(tc, key_params, 0, 4);
    tcase_add_test(tc, param_tables);
    tcase_add_loop_test(tc, has_match_validate_dup, 0, 4);
    tcase_add_loop_test(tc, kmgmt_dispatch, 0, 4);
    tcase_add_test(tc, public_only_keys);
    tcase_add_test(tc, loaded_and_encoded_keys);
    tcase_add_test(tc, pss_key_restrictions);
    tcase_add_test(tc, ctx_dup_reinit_params);
    tcase_add_loop_test(tc, x509_signing, 0, 4);
    tc = tcase(s, "keygen", 120);
    tcase_add_loop_test(tc, keygen, 0, 6);
    tc = tcase(s, "configurations", 120);
    tcase_add_loop_test(tc, offload_configs, 0, 3);
    tc = tcase(s, "bad input", 60);
    tcase_add_test(tc, bad_input);

    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

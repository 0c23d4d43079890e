/* SPDX-License-Identifier: Apache-2.0 */
/*
 * uo_evp_test.c - OpenSSL's evp_test with two additions for uringprov: each test can run inside
 * an ASYNC job, and each test's operation is checked to have run where it should have.
 *
 * build.sh copies OpenSSL's test/evp_test.c to $BUILD/evp/<version>/evp_test_hooked.c with the one call that
 * runs a test, "t->meth->run_test(t)", replaced by "uo_evp_run(t)", and this file includes that
 * copy so that it sees evp_test's structures. Nothing else in OpenSSL's file changes: the stanza
 * parsing, the operations and the comparison with the expected results are OpenSSL's.
 *
 * UO_EVP_JOBS=1 runs each test's run step (the operation and the comparison) inside an ASYNC job,
 * resumed when the job's wait fd is readable, as libssl runs a handshake step. Each test has its
 * own ASYNC_WAIT_CTX, so the provider's per-wait-ctx fd is made and cleaned up once per test. The
 * set-up (contexts, Ctrl lines) happens while evp_test parses the stanza, outside the job.
 *
 * After each Sign, Verify, VerifyRecover, Decrypt, Derive, Kem (3.5), KeyGen and DigestSign/Verify
 * test:
 * - FALLBACK: the operation ran on another provider although uringprov offers its algorithm.
 *   OpenSSL 3.0 silently uses the key's own provider when uringprov's keymgmt refuses to import
 *   the key, and a vector that the default provider passed says nothing about uringprov.
 * - NO-PAUSE (in jobs): uringprov ran the operation, it succeeded, and the job never paused. With
 *   offload = all every uringprov operation goes to a worker, so a silent inline run is a bug.
 * Each problem is printed as "uo-evp: FALLBACK|NO-PAUSE file:line ...", with a "uo-evp: tests=..."
 * summary at exit; test/integration/evp_test.sh fails on either.
 *
 * The provider that ran an operation comes from EVP_PKEY_CTX_get0_provider, and the algorithm's
 * name from OpenSSL's internal struct evp_pkey_ctx_st, which evp_test.c already includes
 * (crypto/evp.h). build.sh takes evp_test.c and crypto/evp.h from the release under test (3.0.20
 * for Debian 12's 3.0.19, whose struct is the same), and says with UO_EVP_* macros which of the
 * evp_test.c changes below the copy has.
 */
struct evp_test_st;
static int uo_evp_run(struct evp_test_st *t);

#include "evp_test_hooked.c"

#include "uo_test.h"

#define UO_PROV_NAME "uringprov"

static int uo_jobs = -1;
static unsigned long uo_tests, uo_checked, uo_by_uringprov, uo_by_other, uo_fallbacks;
static unsigned long uo_jobs_run, uo_jobs_paused, uo_pauses, uo_no_pause, uo_job_errors;

static void uo_summary(void)
{
    fprintf(stderr, "uo-evp: tests=%lu checked=%lu by_uringprov=%lu by_other=%lu fallbacks=%lu "
            "jobs=%lu paused_jobs=%lu pauses=%lu no_pause=%lu job_errors=%lu\n",
            uo_tests, uo_checked, uo_by_uringprov, uo_by_other, uo_fallbacks, uo_jobs_run,
            uo_jobs_paused, uo_pauses, uo_no_pause, uo_job_errors);
}

/* The context whose operation the test ran, or NULL for tests that run no key operation. */
static EVP_PKEY_CTX *uo_op_ctx(const EVP_TEST *t)
{
    const EVP_TEST_METHOD *m = t->meth;

    if (t->data == NULL)
        return NULL;
    if (m == &psign_test_method || m == &pverify_test_method || m == &pverify_recover_test_method
        || m == &pdecrypt_test_method || m == &pderive_test_method
#ifdef UO_EVP_MESSAGE_TESTS
        || m == &psign_message_test_method || m == &pverify_message_test_method
        || m == &pverify_message_public_test_method
#endif
        )
        return ((PKEY_DATA *)t->data)->ctx;
    if (m == &digestsign_test_method || m == &digestverify_test_method
        || m == &oneshot_digestsign_test_method || m == &oneshot_digestverify_test_method)
        return ((DIGESTSIGN_DATA *)t->data)->pctx;
#ifdef UO_EVP_KEM_TESTS
    if (m == &pkey_kem_test_method)
        return ((KEM_DATA *)t->data)->ctx;
#endif
#ifdef UO_EVP_KEYGEN_CTX_IN_DATA
    if (m == &keygen_test_method)
        return ((KEYGEN_TEST_DATA *)t->data)->genctx;
#endif
    return NULL;
}

#ifndef UO_EVP_KEYGEN_CTX_IN_DATA
/*
 * Newer KeyGen tests make and free their context inside the run. What ran the generation is then
 * the provider of the key it made, which a test that names its key leaves in evp_test's list of
 * private keys: keyname is the pointer that the list takes over.
 */
static EVP_PKEY *uo_generated_key(const char *keyname)
{
    const KEY_LIST *k;

    for (k = private_keys; keyname != NULL && k != NULL; k = k->next)
        if (k->name == keyname)
            return k->key;
    return NULL;
}
#endif

/*
 * Whether uringprov offers the algorithm that ctx's operation uses. -1 when the context holds no
 * provider operation (its init failed, as some vectors expect).
 */
static int uo_uringprov_offers(const EVP_PKEY_CTX *ctx, const char **name)
{
    const char *q = "provider=" UO_PROV_NAME;
    int offers = -1;

    ERR_set_mark(); /* failed fetches must not disturb the error the test is about to check */
    if (EVP_PKEY_CTX_IS_SIGNATURE_OP(ctx) && ctx->op.sig.signature != NULL) {
        EVP_SIGNATURE *s;

        *name = EVP_SIGNATURE_get0_name(ctx->op.sig.signature);
        s = EVP_SIGNATURE_fetch(libctx, *name, q);
        offers = s != NULL;
        EVP_SIGNATURE_free(s);
    } else if (EVP_PKEY_CTX_IS_DERIVE_OP(ctx) && ctx->op.kex.exchange != NULL) {
        EVP_KEYEXCH *x;

        *name = EVP_KEYEXCH_get0_name(ctx->op.kex.exchange);
        x = EVP_KEYEXCH_fetch(libctx, *name, q);
        offers = x != NULL;
        EVP_KEYEXCH_free(x);
    } else if (EVP_PKEY_CTX_IS_ASYM_CIPHER_OP(ctx) && ctx->op.ciph.cipher != NULL) {
        EVP_ASYM_CIPHER *c;

        *name = EVP_ASYM_CIPHER_get0_name(ctx->op.ciph.cipher);
        c = EVP_ASYM_CIPHER_fetch(libctx, *name, q);
        offers = c != NULL;
        EVP_ASYM_CIPHER_free(c);
#ifdef UO_EVP_KEM_TESTS
    } else if (EVP_PKEY_CTX_IS_KEM_OP(ctx) && ctx->op.encap.kem != NULL) {
        EVP_KEM *k;

        *name = EVP_KEM_get0_name(ctx->op.encap.kem);
        k = EVP_KEM_fetch(libctx, *name, q);
        offers = k != NULL;
        EVP_KEM_free(k);
#endif
    } else if (EVP_PKEY_CTX_IS_GEN_OP(ctx) && ctx->keymgmt != NULL) {
        EVP_KEYMGMT *k;

        *name = EVP_KEYMGMT_get0_name(ctx->keymgmt);
        k = EVP_KEYMGMT_fetch(libctx, *name, q);
        offers = k != NULL;
        EVP_KEYMGMT_free(k);
    }
    ERR_pop_to_mark();
    return offers;
}

static int uo_job_body(void *arg)
{
    EVP_TEST *t = arg;

    return t->meth->run_test(t);
}

static int uo_evp_run(struct evp_test_st *t)
{
    UOT_JOB_STATS st = { 0, 0, -1 };
    const OSSL_PROVIDER *prov;
    const char *name = "?", *by;
    EVP_PKEY_CTX *ctx;
    int ret, offers;
#ifndef UO_EVP_KEYGEN_CTX_IN_DATA
    const char *keyname = NULL;

    if (t->meth == &keygen_test_method && t->data != NULL)
        keyname = ((KEYGEN_TEST_DATA *)t->data)->keyname;
#endif

    if (uo_jobs < 0) {
        const char *e = getenv("UO_EVP_JOBS");

        uo_jobs = e != NULL && strcmp(e, "1") == 0;
        atexit(uo_summary);
    }
    uo_tests++;
    if (uo_jobs) {
        uo_jobs_run++;
        ret = uot_run_in_job(uo_job_body, t, &st);
        if (ret < 0) {
            /* ASYNC_start_job failed, or the wait ctx held more fds than a caller can watch. */
            uo_job_errors++;
            fprintf(stderr, "uo-evp: JOB-ERROR %s:%d %s: the ASYNC job could not run\n",
                    t->s.test_file, t->s.start, t->meth->name);
            return 0;
        }
        if (st.pauses > 0) {
            uo_jobs_paused++;
            uo_pauses += (unsigned long)st.pauses;
        }
    } else {
        ret = t->meth->run_test(t);
    }

    ctx = uo_op_ctx(t);
    if (ctx != NULL) {
        if ((offers = uo_uringprov_offers(ctx, &name)) < 0)
            return ret;
        prov = EVP_PKEY_CTX_get0_provider(ctx);
    } else {
#ifndef UO_EVP_KEYGEN_CTX_IN_DATA
        EVP_PKEY *key = uo_generated_key(keyname);
        EVP_KEYMGMT *k;

        if (key == NULL || t->err != NULL)
            return ret;
        name = EVP_PKEY_get0_type_name(key);
        ERR_set_mark();
        k = EVP_KEYMGMT_fetch(libctx, name, "provider=" UO_PROV_NAME);
        offers = k != NULL;
        EVP_KEYMGMT_free(k);
        ERR_pop_to_mark();
        prov = EVP_PKEY_get0_provider(key);
#else
        return ret;
#endif
    }
    uo_checked++;
    by = prov != NULL ? OSSL_PROVIDER_get0_name(prov) : "(legacy)";
    if (strcmp(by, UO_PROV_NAME) == 0) {
        uo_by_uringprov++;
        if (uo_jobs && t->err == NULL && st.pauses == 0) {
            uo_no_pause++;
            fprintf(stderr, "uo-evp: NO-PAUSE %s:%d %s %s: uringprov ran it in a job that never "
                    "paused\n", t->s.test_file, t->s.start, t->meth->name, name);
        }
    } else {
        uo_by_other++;
        if (offers) {
            uo_fallbacks++;
            fprintf(stderr, "uo-evp: FALLBACK %s:%d %s %s ran on provider %s, though uringprov "
                    "offers %s\n", t->s.test_file, t->s.start, t->meth->name, name, by, name);
        }
    }
    return ret;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_smoke.c - the provider loads, answers its parameters and signs through a worker; its
 * configuration keys take their documented values and refuse others.
 */
#include <check.h>
#include <stdlib.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>

#include "helpers/uo_test.h"

static OSSL_LIB_CTX *libctx;

static int sign_once(void *arg)
{
    EVP_PKEY *pkey = arg;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(libctx, pkey, NULL);
    unsigned char tbs[32] = { 1 }, sig[512];
    size_t siglen = sizeof(sig);
    int ok = ctx != NULL && EVP_PKEY_sign_init(ctx) > 0
             && EVP_PKEY_sign(ctx, sig, &siglen, tbs, sizeof(tbs)) > 0;

    EVP_PKEY_CTX_free(ctx);
    return ok;
}

START_TEST(loads_and_offloads)
{
    OSSL_PROVIDER *prov;
    const char *name = NULL;
    OSSL_PARAM p[2];
    EVP_PKEY *pkey;
    UOT_JOB_STATS st;

    libctx = uot_libctx_new(NULL);
    ck_assert_ptr_nonnull(libctx);
    prov = OSSL_PROVIDER_try_load(libctx, "uringprov", 0);
    ck_assert_ptr_nonnull(prov);
    p[0] = OSSL_PARAM_construct_utf8_ptr("name", (char **)&name, 0);
    p[1] = OSSL_PARAM_construct_end();
    ck_assert(OSSL_PROVIDER_get_params(prov, p));
    ck_assert_str_eq(name, "uringprov");
    OSSL_PROVIDER_unload(prov);

    pkey = EVP_PKEY_Q_keygen(libctx, NULL, "RSA", (size_t)2048);
    ck_assert_ptr_nonnull(pkey);
    ck_assert_int_eq(uot_run_in_job(sign_once, pkey, &st), 1);
    ck_assert_int_ge(st.pauses, 1);
    ck_assert_int_eq(st.fds_seen, 1);
    ck_assert_uint_ge(uot_counter(libctx, "uringprov-offloaded"), 1);
    EVP_PKEY_free(pkey);
    OSSL_LIB_CTX_free(libctx);
}
END_TEST

/*
 * Every configuration key accepts its documented values and refuses anything else: an invalid value
 * must stop uringprov from loading (OpenSSL 3.0 then runs without it, which the debug log explains),
 * never be read as some other number.
 */
START_TEST(config_values)
{
    static const struct { const char *conf; int loads; } cases[] = {
        { "workers = 2\n", 1 },             { "workers = x\n", 0 },
        { "workers = 1025\n", 0 },          { "offload = sign, derive\n", 1 },
        { "offload = everything\n", 0 },    { "queue_bound = 1\n", 1 },
        { "queue_bound = 0\n", 0 },         { "io_uring = no\n", 1 },
        { "io_uring = maybe\n", 0 },        { "sync_mode = offload\n", 1 },
        { "sync_mode = fast\n", 0 },        { "spin_us = 0\n", 1 },
        { "spin_us = 1e3\n", 0 },           { "coalesce_us = 0\n", 1 },
        { "coalesce_us = 100000\n", 1 },    { "coalesce_us = 100001\n", 0 },
        { "coalesce_us = -1\n", 0 },        { "coalesce_us = 50us\n", 0 },
        { "worker_priority = 0\n", 1 },     { "worker_priority = 19\n", 1 },
        { "worker_priority = idle\n", 1 },  { "worker_priority = IDLE\n", 1 },
        { "worker_priority = 20\n", 0 },    { "worker_priority = -5\n", 0 },
        { "worker_priority = high\n", 0 },  { "inline_below_us = 0\n", 1 },
        { "inline_below_us = 100\n", 1 },   { "inline_below_us = 100000\n", 1 },
        { "inline_below_us = 100001\n", 0 }, { "inline_below_us = fast\n", 0 },
        { "multibuffer = auto\n", 1 },     { "multibuffer = no\n", 1 },
        { "multibuffer = AUTO\n", 1 },     { "multibuffer = off\n", 1 },
        { "multibuffer = yes\n", 0 },      { "multibuffer = always\n", 0 },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        OSSL_LIB_CTX *ctx = uot_libctx_new(cases[i].conf);

        ck_assert_msg((ctx != NULL) == cases[i].loads, "%s: %s", cases[i].conf,
                      cases[i].loads ? "refused" : "accepted");
        OSSL_LIB_CTX_free(ctx);
    }
}
END_TEST

/*
 * inline_below_us: after the workers have measured RSA-2048 signing (well under 100 ms, even under
 * a sanitizer), the next signature in a job runs on the caller's thread, without a pause.
 */
START_TEST(inline_below_measured)
{
    EVP_PKEY *pkey;
    UOT_JOB_STATS st;
    uint64_t inl;

    libctx = uot_libctx_new("inline_below_us = 100000\n");
    ck_assert_ptr_nonnull(libctx);
    pkey = EVP_PKEY_Q_keygen(libctx, NULL, "RSA", (size_t)2048);
    ck_assert_ptr_nonnull(pkey);
    ck_assert_int_eq(uot_run_in_job(sign_once, pkey, &st), 1);
    ck_assert_int_ge(st.pauses, 1);
    ck_assert_uint_eq(uot_counter(libctx, "uringprov-offloaded"), 1);
    inl = uot_counter(libctx, "uringprov-inline");
    ck_assert_int_eq(uot_run_in_job(sign_once, pkey, &st), 1);
    ck_assert_int_eq(st.pauses, 0);
    ck_assert_uint_eq(uot_counter(libctx, "uringprov-offloaded"), 1);
    ck_assert_uint_eq(uot_counter(libctx, "uringprov-inline"), inl + 1);
    EVP_PKEY_free(pkey);
    OSSL_LIB_CTX_free(libctx);
}
END_TEST

static int keygen_x25519(void *arg)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(libctx, NULL, "X25519");

    (void)arg;
    EVP_PKEY_free(k);
    return k != NULL;
}

static int keygen_rsa(void *arg)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(libctx, NULL, "RSA", (size_t)1024);

    (void)arg;
    EVP_PKEY_free(k);
    return k != NULL;
}

/*
 * Key generations of different families are different kinds of request, though the inner context
 * shows no key size for either: X25519 key generation measured cheap must not send RSA key
 * generation, which nothing has measured yet, inline.
 */
/* Progress calls seen, and after how many the callback says stop (0: never). */
static int progress_calls, progress_stop_after;

static int progress(EVP_PKEY_CTX *ctx)
{
    (void)ctx;
    progress_calls++;
    return progress_stop_after == 0 || progress_calls < progress_stop_after;
}

/* RSA-2048 generation with a progress callback in lib; 1 if a key came out. */
static int keygen_with_progress(OSSL_LIB_CTX *lib, int stop_after)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(lib, "RSA", NULL);
    EVP_PKEY *pkey = NULL;
    int ok;

    ck_assert_ptr_nonnull(ctx);
    ck_assert_int_eq(EVP_PKEY_keygen_init(ctx), 1);
    ck_assert_int_eq(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048), 1);
    EVP_PKEY_CTX_set_cb(ctx, progress);
    progress_calls = 0;
    progress_stop_after = stop_after;
    ok = EVP_PKEY_generate(ctx, &pkey) > 0 && pkey != NULL;
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(ctx);
    ERR_clear_error();
    return ok;
}

/*
 * Issue 12: the caller's key-generation callback reaches the inner generation, on a worker too:
 * it sees progress, and a 0 from it aborts a long RSA generation, as with the default provider.
 */
START_TEST(keygen_progress_and_abort)
{
    OSSL_LIB_CTX *ref = uot_default_libctx_new();

    libctx = uot_libctx_new("sync_mode = offload\n");
    ck_assert_ptr_nonnull(libctx);
    ck_assert_ptr_nonnull(ref);
    ck_assert_int_eq(keygen_with_progress(ref, 0), 1);
    ck_assert_int_gt(progress_calls, 0);
    /* OpenSSL itself may call a few more times before it stops: the count is not the point. */
    ck_assert_int_eq(keygen_with_progress(ref, 3), 0);
    ck_assert_int_ge(progress_calls, 3);

    ck_assert_int_eq(keygen_with_progress(libctx, 0), 1);
    ck_assert_int_gt(progress_calls, 0);
    ck_assert_uint_ge(uot_counter(libctx, "uringprov-offloaded"), 1);
    ck_assert_int_eq(keygen_with_progress(libctx, 3), 0);
    ck_assert_int_ge(progress_calls, 3);
    OSSL_LIB_CTX_free(ref);
    OSSL_LIB_CTX_free(libctx);
}
END_TEST

START_TEST(inline_below_keygen_kinds)
{
    UOT_JOB_STATS st;

    libctx = uot_libctx_new("inline_below_us = 100000\n");
    ck_assert_ptr_nonnull(libctx);
    ck_assert_int_eq(uot_run_in_job(keygen_x25519, NULL, &st), 1);
    ck_assert_int_ge(st.pauses, 1);
    ck_assert_int_eq(uot_run_in_job(keygen_x25519, NULL, &st), 1);
    ck_assert_int_eq(st.pauses, 0);
    ck_assert_int_eq(uot_run_in_job(keygen_rsa, NULL, &st), 1);
    ck_assert_msg(st.pauses >= 1, "RSA key generation ran inline on X25519's measurement");
    OSSL_LIB_CTX_free(libctx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("smoke");
    TCase *tc = tcase_create("smoke");
    SRunner *sr;
    int failed;

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, loads_and_offloads);
    tcase_add_test(tc, config_values);
    tcase_add_test(tc, inline_below_measured);
    tcase_add_test(tc, inline_below_keygen_kinds);
    tcase_add_test(tc, keygen_progress_and_abort);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* test_smoke.c - the provider loads, answers its parameters and signs through a worker. */
#include <check.h>
#include <stdlib.h>

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

int main(void)
{
    Suite *s = suite_create("smoke");
    TCase *tc = tcase_create("smoke");
    SRunner *sr;
    int failed;

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, loads_and_offloads);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

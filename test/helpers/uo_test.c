/* SPDX-License-Identifier: Apache-2.0 */
/*
 * uo_test.c - see uo_test.h.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/async.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/provider.h>

#include "uo_test.h"

static const char *build_dir(void)
{
    const char *b = getenv("UO_BUILD");

    return b != NULL && *b != '\0' ? b : "build";
}

OSSL_LIB_CTX *uot_libctx_from_conf(const char *conf)
{
    char path[] = "/tmp/uo-test-cnf-XXXXXX";
    OSSL_LIB_CTX *libctx;
    FILE *f;
    int fd, ok;

    fd = mkstemp(path);
    if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
        perror("uot_libctx_from_conf: mkstemp");
        return NULL;
    }
    fputs(conf, f);
    fclose(f);
    libctx = OSSL_LIB_CTX_new();
    ok = libctx != NULL && OSSL_PROVIDER_set_default_search_path(libctx, build_dir())
         && OSSL_LIB_CTX_load_config(libctx, path);
    unlink(path);
    if (!ok) {
        fprintf(stderr, "uot_libctx_from_conf: cannot load the test configuration\n");
        ERR_print_errors_fp(stderr);
        OSSL_LIB_CTX_free(libctx);
        return NULL;
    }
    return libctx;
}

OSSL_LIB_CTX *uot_libctx_new(const char *extra_conf)
{
    char conf[4096];
    OSSL_LIB_CTX *libctx;

    snprintf(conf, sizeof(conf),
             "openssl_conf = openssl_init\n"
             "[openssl_init]\nproviders = provider_sect\nalg_section = algorithm_sect\n"
             "[provider_sect]\ndefault = default_sect\nuringprov = uringprov_sect\n"
             "[default_sect]\nactivate = 1\n"
             "[uringprov_sect]\nactivate = 1\n%s\n"
             "[algorithm_sect]\ndefault_properties = ?provider=uringprov\n",
             extra_conf != NULL ? extra_conf : "");
    libctx = uot_libctx_from_conf(conf);
    if (libctx == NULL)
        return NULL;
    /*
     * OpenSSL 3.0 skips a provider whose init fails without a word: check that the configuration
     * activated it. (OSSL_PROVIDER_try_load would load it afresh, without its configuration.)
     */
    if (!OSSL_PROVIDER_available(libctx, "uringprov")) {
        fprintf(stderr, "uot_libctx_new: uringprov did not load from %s with: %s\n", build_dir(),
                extra_conf != NULL ? extra_conf : "(no extra configuration)");
        ERR_print_errors_fp(stderr);
        OSSL_LIB_CTX_free(libctx);
        return NULL;
    }
    return libctx;
}

/*
 * Activated from a config file, the provider belongs to the library context and goes with it;
 * OSSL_PROVIDER_load would hand us a reference to keep and unload.
 */
OSSL_LIB_CTX *uot_default_libctx_new(void)
{
    OSSL_LIB_CTX *libctx = uot_libctx_from_conf("openssl_conf = openssl_init\n"
                                                "[openssl_init]\nproviders = provider_sect\n"
                                                "[provider_sect]\ndefault = default_sect\n"
                                                "[default_sect]\nactivate = 1\n");

    if (libctx != NULL && !OSSL_PROVIDER_available(libctx, "default")) {
        fprintf(stderr, "uot_default_libctx_new: cannot load the default provider\n");
        OSSL_LIB_CTX_free(libctx);
        return NULL;
    }
    return libctx;
}

uint64_t uot_counter(OSSL_LIB_CTX *libctx, const char *name)
{
    OSSL_PROVIDER *prov = OSSL_PROVIDER_try_load(libctx, "uringprov", 0);
    uint64_t v = 0;
    OSSL_PARAM p[2];

    if (prov == NULL)
        return 0;
    p[0] = OSSL_PARAM_construct_uint64(name, &v);
    p[1] = OSSL_PARAM_construct_end();
    if (!OSSL_PROVIDER_get_params(prov, p))
        v = 0;
    OSSL_PROVIDER_unload(prov);
    return v;
}

int uot_worker_threads(int *tids, int max)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *de;
    int n = 0;

    if (d == NULL)
        return -1;
    while ((de = readdir(d)) != NULL) {
        char path[300], comm[32] = "";
        FILE *f;

        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "/proc/self/task/%s/comm", de->d_name);
        if ((f = fopen(path, "r")) == NULL)
            continue; /* the thread is gone */
        if (fgets(comm, sizeof(comm), f) != NULL && strncmp(comm, "uringprov-", 10) == 0) {
            if (tids != NULL && n < max)
                tids[n] = atoi(de->d_name);
            n++;
        }
        fclose(f);
    }
    closedir(d);
    return n;
}

struct job_args {
    uot_fn *fn;
    void *arg;
};

static int job_main(void *vargs)
{
    struct job_args *a = vargs;

    return a->fn(a->arg);
}

int uot_run_in_job(uot_fn *fn, void *arg, UOT_JOB_STATS *st)
{
    ASYNC_WAIT_CTX *wctx = ASYNC_WAIT_CTX_new();
    ASYNC_JOB *job = NULL;
    struct job_args a = { fn, arg };
    UOT_JOB_STATS local;
    int ret = -1, rc;

    if (st == NULL)
        st = &local;
    memset(st, 0, sizeof(*st));
    st->last_fd = -1;
    if (wctx == NULL)
        return -1;
    for (;;) {
        rc = ASYNC_start_job(&job, wctx, &ret, job_main, &a, sizeof(a));
        if (rc == ASYNC_FINISH)
            break;
        if (rc != ASYNC_PAUSE) {
            ret = -1;
            break;
        }
        st->pauses++;
        {
            OSSL_ASYNC_FD fds[8];
            size_t n = 0, i;
            struct pollfd pfd[8];

            if (!ASYNC_WAIT_CTX_get_all_fds(wctx, NULL, &n) || n > 8) {
                ret = -1;
                break;
            }
            ASYNC_WAIT_CTX_get_all_fds(wctx, fds, &n);
            if ((int)n > st->fds_seen)
                st->fds_seen = (int)n;
            for (i = 0; i < n; i++) {
                pfd[i].fd = fds[i];
                pfd[i].events = POLLIN;
            }
            if (n > 0) {
                st->last_fd = fds[0];
                poll(pfd, n, 10000);
            }
        }
    }
    ASYNC_WAIT_CTX_free(wctx);
    return ret;
}

int uot_held_by_uo(const EVP_PKEY *pk)
{
    const OSSL_PROVIDER *p = pk != NULL ? EVP_PKEY_get0_provider(pk) : NULL;

    return p != NULL && strcmp(OSSL_PROVIDER_get0_name(p), "uringprov") == 0;
}

EVP_PKEY *uot_transfer(EVP_PKEY *pk, OSSL_LIB_CTX *libctx, int selection)
{
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *out = NULL;

    if (EVP_PKEY_todata(pk, selection, &params) > 0
        && (ctx = EVP_PKEY_CTX_new_from_name(libctx, EVP_PKEY_get0_type_name(pk), NULL)) != NULL
        && EVP_PKEY_fromdata_init(ctx) > 0)
        EVP_PKEY_fromdata(ctx, &out, selection, params);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return out;
}

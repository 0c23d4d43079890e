/* SPDX-License-Identifier: Apache-2.0 */
/*
 * uo_test.h - helpers shared by the test programs: a library context with uringprov loaded and
 * preferred (from build/ unless UO_BUILD says otherwise), its counters, and a runner that executes a
 * function inside an ASYNC job, waiting on the job's fds with poll() as an event loop would.
 */
#ifndef UO_TEST_H
#define UO_TEST_H

#include <stdint.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

/*
 * A fresh library context with the default provider and uringprov, and default properties
 * "?provider=uringprov". extra_conf: lines added to uringprov's config section (NULL for none),
 * e.g. "sync_mode = offload\nqueue_bound = 4\n". NULL on failure (with the reason on stderr).
 */
OSSL_LIB_CTX *uot_libctx_new(const char *extra_conf);
/* A fresh library context configured by conf (an openssl.cnf text), modules from UO_BUILD. */
OSSL_LIB_CTX *uot_libctx_from_conf(const char *conf);
/* A library context with only the default provider: the reference for differential tests. */
OSSL_LIB_CTX *uot_default_libctx_new(void);
/* A uringprov counter (uringprov-offloaded, -inline, -fallbacks, -inflight, -pauses, -workers). */
uint64_t uot_counter(OSSL_LIB_CTX *libctx, const char *name);

/*
 * uringprov's worker threads alive in this process (named uringprov-N): their count, with up to max
 * of their thread ids stored in tids (which may be NULL). -1 if /proc/self/task cannot be read.
 */
int uot_worker_threads(int *tids, int max);

typedef int uot_fn(void *arg);

typedef struct {
    int pauses;     /* how many times ASYNC_start_job returned ASYNC_PAUSE */
    int fds_seen;   /* largest number of fds the wait ctx held at a pause */
    int last_fd;    /* the fd seen at the last pause, -1 if none */
} UOT_JOB_STATS;

/* 1 if pk's keydata is uringprov's. */
int uot_held_by_uo(const EVP_PKEY *pk);
/* pk's selected components, exported by its provider and imported into libctx; NULL if refused. */
EVP_PKEY *uot_transfer(EVP_PKEY *pk, OSSL_LIB_CTX *libctx, int selection);

/* Runs fn(arg) inside an ASYNC job until it finishes; returns fn's result (-1 on ASYNC_ERR). */
int uot_run_in_job(uot_fn *fn, void *arg, UOT_JOB_STATS *st);

#endif

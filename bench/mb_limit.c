/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mb_limit.c - the multi-buffer limit (d in docs/benchmarks.md): the mb layer alone, called
 * directly with eight lanes always full, on one thread per online CPU, with no provider, no queue,
 * no ASYNC job and no notification. What uringprov reaches through openssl speed, divided by this,
 * is the share of crypto_mb's speed that the offload path lets through.
 *
 *   mb_limit [seconds] [algorithm...]    prints "algorithm ops/s" per line
 *
 * Algorithms: rsa2048 rsa3072 rsa4096 ecdsap256 ecdsap384 ecdsap521 ecdhp256 ecdhp384 ecdhp521
 * ecdhx25519 ed25519. The inputs are what openssl speed signs: 36 bytes for RSA (PKCS#1 v1.5, no
 * digest), 20 bytes for ECDSA, 36 for Ed25519.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>

#include "uo_mb.h"

struct alg {
    const char *name;
    enum uo_mb_op op;
    const char *type;       /* EVP_PKEY_Q_keygen type */
    const char *curve;      /* or NULL */
    size_t bits;            /* RSA */
    size_t inlen;
};

static const struct alg algs[] = {
    { "rsa2048", UO_MB_OP_RSA_SIGN, "RSA", NULL, 2048, 36 },
    { "rsa3072", UO_MB_OP_RSA_SIGN, "RSA", NULL, 3072, 36 },
    { "rsa4096", UO_MB_OP_RSA_SIGN, "RSA", NULL, 4096, 36 },
    { "ecdsap256", UO_MB_OP_ECDSA_SIGN, "EC", "P-256", 0, 20 },
    { "ecdsap384", UO_MB_OP_ECDSA_SIGN, "EC", "P-384", 0, 20 },
    { "ecdsap521", UO_MB_OP_ECDSA_SIGN, "EC", "P-521", 0, 20 },
    { "ecdhp256", UO_MB_OP_ECDH_DERIVE, "EC", "P-256", 0, 0 },
    { "ecdhp384", UO_MB_OP_ECDH_DERIVE, "EC", "P-384", 0, 0 },
    { "ecdhp521", UO_MB_OP_ECDH_DERIVE, "EC", "P-521", 0, 0 },
    { "ecdhx25519", UO_MB_OP_X25519_DERIVE, "X25519", NULL, 0, 0 },
    { "ed25519", UO_MB_OP_ED25519_SIGN, "ED25519", NULL, 0, 36 },
};

static OSSL_LIB_CTX *libctx;
static atomic_int stop;

struct job {
    const struct alg *a;
    EVP_PKEY *key, *peer;
    uint64_t ops;
};

static EVP_PKEY *keygen(const struct alg *a)
{
    if (a->curve != NULL)
        return EVP_PKEY_Q_keygen(libctx, NULL, a->type, a->curve);
    if (a->bits != 0)
        return EVP_PKEY_Q_keygen(libctx, NULL, a->type, a->bits);
    return EVP_PKEY_Q_keygen(libctx, NULL, a->type);
}

static void *run(void *arg)
{
    struct job *j = arg;
    UO_MB_KEY *mk = uo_mb_key_new(libctx, j->key);
    UO_MB_LANE lanes[UO_MB_LANES], *lp[UO_MB_LANES];
    unsigned char in[2 * 66], out[UO_MB_LANES][1024];
    size_t inlen = j->a->inlen;
    UO_MB_STATS st;
    unsigned int i;

    memset(&st, 0, sizeof(st));
    memset(in, 0x5c, sizeof(in));
    if (mk == NULL)
        return NULL;
    /* A derive takes the peer as the provider hands it over: encoded once per peer. */
    if (j->peer != NULL && !uo_mb_peer_encode(j->a->op, j->peer, in, sizeof(in), &inlen))
        return NULL;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        for (i = 0; i < UO_MB_LANES; i++) {
            memset(&lanes[i], 0, sizeof(lanes[i]));
            lanes[i].op = j->a->op;
            lanes[i].key = mk;
            lanes[i].in = in;
            lanes[i].inlen = inlen;
            lanes[i].peer = j->peer;
            lanes[i].rsa_pad = RSA_PKCS1_PADDING;
            lanes[i].libctx = libctx;
            lanes[i].out = out[i];
            lanes[i].outlen = sizeof(out[i]);
            lp[i] = &lanes[i];
        }
        uo_mb_batch(lp, UO_MB_LANES, &st);
    }
    j->ops = atomic_load(&st.ops);
    uo_mb_key_free(mk);
    return NULL;
}

static double measure(const struct alg *a, int seconds)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    struct job *jobs = calloc((size_t)ncpu, sizeof(*jobs));
    pthread_t *th = calloc((size_t)ncpu, sizeof(*th));
    struct timespec t0, t1;
    uint64_t total = 0;
    long i;

    atomic_store(&stop, 0);
    for (i = 0; i < ncpu; i++) {
        jobs[i].a = a;
        jobs[i].key = keygen(a);
        jobs[i].peer = a->op == UO_MB_OP_ECDH_DERIVE || a->op == UO_MB_OP_X25519_DERIVE
                       ? keygen(a) : NULL;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (i = 0; i < ncpu; i++)
        pthread_create(&th[i], NULL, run, &jobs[i]);
    sleep((unsigned int)seconds);
    atomic_store(&stop, 1);
    for (i = 0; i < ncpu; i++) {
        pthread_join(th[i], NULL);
        total += jobs[i].ops;
        EVP_PKEY_free(jobs[i].key);
        EVP_PKEY_free(jobs[i].peer);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    free(jobs);
    free(th);
    return (double)total / ((double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
}

int main(int argc, char **argv)
{
    const char *why = NULL;
    int seconds = argc > 1 ? atoi(argv[1]) : 3, k;
    size_t i;

    if (!uo_mb_available(&why)) {
        fprintf(stderr, "mb_limit: batching unavailable: %s\n", why);
        return 77;
    }
    libctx = OSSL_LIB_CTX_new();
    if (libctx == NULL || OSSL_PROVIDER_load(libctx, "default") == NULL)
        return 1;
    for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        int want = argc <= 2;

        for (k = 2; k < argc; k++)
            want |= strcmp(argv[k], algs[i].name) == 0;
        if (want)
            printf("%s %.1f\n", algs[i].name, measure(&algs[i], seconds > 0 ? seconds : 1));
        fflush(stdout);
    }
    OSSL_LIB_CTX_free(libctx);
    return 0;
}

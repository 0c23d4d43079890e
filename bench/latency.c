/*
 * latency.c - the latency that offload adds to one operation.
 *
 * One operation at a time: inline (uringprov computing on the caller's thread, outside a job) and
 * offloaded (inside an ASYNC job: submit, pause, poll the job's eventfd, resume), for the io_uring
 * path and the plain-eventfd fallback, each in its own library context in this one process. The
 * rounds interleave the modes so that machine noise hits them alike. Prints, per algorithm and
 * path, the median and p99 of the offloaded time minus the inline median.
 *
 *   build/bench/latency [rounds] [ops-per-round]
 */
#define _GNU_SOURCE
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/async.h>
#include <openssl/evp.h>

#include "../test/helpers/uo_test.h"

enum { MODE_INLINE, MODE_URING, MODE_FALLBACK, MODE_COUNT };
static const char *mode_names[MODE_COUNT] = { "inline", "io_uring", "fallback" };

typedef struct {
    const char *name;
    const char *keytype;  /* EVP_PKEY_Q_keygen type */
    const char *param;    /* group or NULL */
    size_t bits;
    int derive;           /* 1: derive with a peer, 0: sign */
} ALG;

static const ALG algs[] = {
    { "rsa2048 sign", "RSA", NULL, 2048, 0 },
    { "ecdsap256 sign", "EC", "P-256", 0, 0 },
    { "ecdhx25519 derive", "X25519", NULL, 0, 1 },
    { "ed25519 sign", "ED25519", NULL, 0, 0 },
};

typedef struct {
    EVP_PKEY_CTX *pctx;   /* sign or derive */
    EVP_MD_CTX *mdctx;    /* EdDSA */
    unsigned char out[1024];
} OPSTATE;

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int do_op(void *arg)
{
    OPSTATE *s = arg;
    static const unsigned char tbs[32] = { 7 };
    size_t len = sizeof(s->out);

    if (s->mdctx != NULL)
        return EVP_DigestSign(s->mdctx, s->out, &len, tbs, sizeof(tbs)) > 0;
    if (EVP_PKEY_CTX_get0_peerkey(s->pctx) != NULL)
        return EVP_PKEY_derive(s->pctx, s->out, &len) > 0;
    return EVP_PKEY_sign(s->pctx, s->out, &len, tbs, 20) > 0;
}

static int setup(OSSL_LIB_CTX *libctx, const ALG *a, OPSTATE *s)
{
    EVP_PKEY *key, *peer = NULL;
    int ok;

    memset(s, 0, sizeof(*s));
    key = a->param != NULL ? EVP_PKEY_Q_keygen(libctx, NULL, a->keytype, a->param)
          : a->bits ? EVP_PKEY_Q_keygen(libctx, NULL, a->keytype, a->bits)
                    : EVP_PKEY_Q_keygen(libctx, NULL, a->keytype);
    if (key == NULL)
        return 0;
    if (strcmp(a->keytype, "ED25519") == 0) {
        s->mdctx = EVP_MD_CTX_new();
        ok = s->mdctx != NULL
             && EVP_DigestSignInit_ex(s->mdctx, NULL, NULL, libctx, NULL, key, NULL) > 0;
    } else if (a->derive) {
        peer = EVP_PKEY_Q_keygen(libctx, NULL, a->keytype);
        s->pctx = EVP_PKEY_CTX_new_from_pkey(libctx, key, NULL);
        ok = peer != NULL && s->pctx != NULL && EVP_PKEY_derive_init(s->pctx) > 0
             && EVP_PKEY_derive_set_peer(s->pctx, peer) > 0;
    } else {
        s->pctx = EVP_PKEY_CTX_new_from_pkey(libctx, key, NULL);
        ok = s->pctx != NULL && EVP_PKEY_sign_init(s->pctx) > 0;
    }
    EVP_PKEY_free(peer);
    EVP_PKEY_free(key);
    return ok;
}

static void teardown(OPSTATE *s)
{
    EVP_PKEY_CTX_free(s->pctx);
    EVP_MD_CTX_free(s->mdctx);
}

static int do_op_job(void *arg)
{
    return do_op(*(OPSTATE **)arg);
}

/* One operation inside its own job on a long-lived wait ctx, as a server's connection would. */
static int one_in_job(ASYNC_WAIT_CTX *wctx, OPSTATE *s)
{
    ASYNC_JOB *job = NULL;
    int ret = 0, rc;

    for (;;) {
        rc = ASYNC_start_job(&job, wctx, &ret, do_op_job, &s, sizeof(s));
        if (rc == ASYNC_FINISH)
            return ret;
        if (rc != ASYNC_PAUSE)
            return 0;
        {
            OSSL_ASYNC_FD fd;
            size_t n = 1;
            struct pollfd p;

            if (ASYNC_WAIT_CTX_get_all_fds(wctx, &fd, &n) && n == 1) {
                p.fd = fd;
                p.events = POLLIN;
                poll(&p, 1, 10000);
            }
        }
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 20;
    int per = argc > 2 ? atoi(argv[2]) : 50;
    static const char *confs[MODE_COUNT] = {
        "sync_mode = inline\n", "io_uring = yes\n", "io_uring = no\n"
    };
    OSSL_LIB_CTX *ctx[MODE_COUNT];
    size_t a, i;
    int m, r, k;

    printf("# uringprov added latency: %d rounds x %d operations, modes interleaved\n", rounds, per);
    printf("%-20s %-9s %10s %10s %12s %12s\n", "algorithm", "path", "median_us", "p99_us",
           "added_med_us", "added_p99_us");
    for (m = 0; m < MODE_COUNT; m++) {
        ctx[m] = uot_libctx_new(confs[m]);
        if (ctx[m] == NULL)
            return 2;
    }
    for (a = 0; a < sizeof(algs) / sizeof(algs[0]); a++) {
        OPSTATE st[MODE_COUNT];
        ASYNC_WAIT_CTX *wctx[MODE_COUNT];
        uint64_t *t[MODE_COUNT];
        size_t n = (size_t)rounds * (size_t)per;
        double inl_med = 0;

        for (m = 0; m < MODE_COUNT; m++) {
            if (!setup(ctx[m], &algs[a], &st[m])) {
                fprintf(stderr, "%s: setup failed\n", algs[a].name);
                return 2;
            }
            wctx[m] = ASYNC_WAIT_CTX_new();
            t[m] = calloc(n, sizeof(uint64_t));
            do_op(&st[m]); /* warm up: workers start, caches fill */
            if (m != MODE_INLINE)
                one_in_job(wctx[m], &st[m]);
        }
        for (r = 0; r < rounds; r++) {
            for (m = 0; m < MODE_COUNT; m++) {
                for (k = 0; k < per; k++) {
                    uint64_t t0 = now_ns();
                    int ok = m == MODE_INLINE ? do_op(&st[m]) : one_in_job(wctx[m], &st[m]);

                    t[m][(size_t)r * (size_t)per + (size_t)k] = now_ns() - t0;
                    if (!ok) {
                        fprintf(stderr, "%s %s: operation failed\n", algs[a].name, mode_names[m]);
                        return 1;
                    }
                }
            }
        }
        for (m = 0; m < MODE_COUNT; m++) {
            double med, p99;

            qsort(t[m], n, sizeof(uint64_t), cmp_u64);
            med = (double)t[m][n / 2] / 1000.0;
            p99 = (double)t[m][(n * 99) / 100] / 1000.0;
            if (m == MODE_INLINE) {
                inl_med = med;
                printf("%-20s %-9s %10.1f %10.1f %12s %12s\n", algs[a].name, mode_names[m], med,
                       p99, "-", "-");
            } else {
                printf("%-20s %-9s %10.1f %10.1f %12.1f %12.1f\n", algs[a].name, mode_names[m],
                       med, p99, med - inl_med, p99 - inl_med);
            }
            free(t[m]);
            teardown(&st[m]);
            ASYNC_WAIT_CTX_free(wctx[m]);
        }
        fflush(stdout);
    }
    for (i = 0; i < MODE_COUNT; i++)
        OSSL_LIB_CTX_free(ctx[i]);
    return 0;
}

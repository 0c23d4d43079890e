/* SPDX-License-Identifier: Apache-2.0 */
/*
 * latency.c - the latency that offload adds to one operation, and what an idle pool costs.
 *
 * One operation at a time: inline (uringprov computing on the caller's thread, outside a job) and
 * offloaded (inside an ASYNC job: submit, pause, poll the job's eventfd, resume), for the io_uring
 * path and the plain-eventfd fallback, each in its own library context in this one process. The
 * rounds interleave the modes so that machine noise hits them alike. Prints, per algorithm and
 * path, the median and p99 of the offloaded time minus the inline median.
 *
 * A fourth path, io_uring-spin, is the io_uring path with a caller that polls the fd without ever
 * sleeping: what it saves against io_uring is the cost of the caller's own wake-up, which belongs to
 * the application's event loop rather than to uringprov.
 *
 * Two spacings: back to back (the next operation arrives while the worker still polls the queue
 * after its last one, as on a busy server), and sparse (a gap longer than the workers' spin, so that
 * every operation wakes a sleeping worker, as on a quiet one).
 *
 * Then the pools rest for idle_seconds, and the CPU time and context switches of every uringprov-N
 * thread over that time are read from /proc/self/task: an idle pool must use no CPU.
 *
 *   build/bench/latency [rounds] [ops-per-round] [gap-us] [idle-seconds]
 *
 * Output lines are whitespace-separated columns (the header names them); a failed check exits 1.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/async.h>
#include <openssl/evp.h>

#include "../test/helpers/uo_test.h"

/*
 * io_uring-spin is the io_uring path with a caller that polls the fd without sleeping (poll with a
 * zero timeout, in a loop): the difference from io_uring is what the caller's own wake-up costs.
 */
enum { MODE_INLINE, MODE_URING, MODE_FALLBACK, MODE_URING_SPIN, MODE_COUNT };
static const char *mode_names[MODE_COUNT] = { "inline", "io_uring", "fallback", "io_uring-spin" };
/* The library context (and so the pool) each mode uses. */
static const int mode_ctx[MODE_COUNT] = { MODE_INLINE, MODE_URING, MODE_FALLBACK, MODE_URING };
#define CTX_COUNT 3

typedef struct {
    const char *name;     /* one word: the output is parsed by bench/run.sh */
    const char *keytype;  /* EVP_PKEY_Q_keygen type */
    const char *param;    /* group or NULL */
    size_t bits;
    int derive;           /* 1: derive with a peer, 0: sign */
} ALG;

static const ALG algs[] = {
    { "rsa2048-sign", "RSA", NULL, 2048, 0 },
    { "ecdsap256-sign", "EC", "P-256", 0, 0 },
    { "x25519-derive", "X25519", NULL, 0, 1 },
    { "ed25519-sign", "ED25519", NULL, 0, 0 },
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

static void sleep_us(unsigned int us)
{
    struct timespec ts = { us / 1000000, (long)(us % 1000000) * 1000L };

    while (nanosleep(&ts, &ts) != 0)
        ;
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

/*
 * One operation inside its own job on a long-lived wait ctx, as a server's connection would.
 * Returns 1 on success; *paused counts the pauses, so that a silent inline fallback is caught.
 */
static int one_in_job(ASYNC_WAIT_CTX *wctx, OPSTATE *s, unsigned long *paused, int spin)
{
    ASYNC_JOB *job = NULL;
    int ret = 0, rc;

    for (;;) {
        rc = ASYNC_start_job(&job, wctx, &ret, do_op_job, &s, sizeof(s));
        if (rc == ASYNC_FINISH)
            return ret;
        if (rc != ASYNC_PAUSE)
            return 0;
        (*paused)++;
        {
            OSSL_ASYNC_FD fd;
            size_t n = 1;
            struct pollfd p;

            if (ASYNC_WAIT_CTX_get_all_fds(wctx, &fd, &n) && n == 1) {
                p.fd = fd;
                p.events = POLLIN;
                if (spin)
                    while (poll(&p, 1, 0) == 0)
                        ;
                else
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

/* CPU time (ns, from schedstat) and context switches of this process's uringprov-N threads. */
static int workers_usage(uint64_t *cpu_ns, uint64_t *switches, unsigned int *nthreads)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    char path[512], line[256];

    *cpu_ns = *switches = 0;
    *nthreads = 0;
    if (d == NULL)
        return 0;
    while ((e = readdir(d)) != NULL) {
        FILE *f;
        char comm[64] = "";
        unsigned long long v;

        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
        if ((f = fopen(path, "r")) == NULL)
            continue;
        if (fgets(comm, sizeof(comm), f) == NULL)
            comm[0] = '\0';
        fclose(f);
        if (strncmp(comm, "uringprov-", 10) != 0)
            continue;
        (*nthreads)++;
        snprintf(path, sizeof(path), "/proc/self/task/%s/schedstat", e->d_name);
        if ((f = fopen(path, "r")) != NULL) {
            if (fscanf(f, "%llu", &v) == 1)
                *cpu_ns += v;
            fclose(f);
        }
        snprintf(path, sizeof(path), "/proc/self/task/%s/status", e->d_name);
        if ((f = fopen(path, "r")) != NULL) {
            while (fgets(line, sizeof(line), f) != NULL)
                if (sscanf(line, "voluntary_ctxt_switches: %llu", &v) == 1
                    || sscanf(line, "nonvoluntary_ctxt_switches: %llu", &v) == 1)
                    *switches += v;
            fclose(f);
        }
    }
    closedir(d);
    return 1;
}

/* Runs one algorithm at one spacing; prints its rows. Returns 0 on failure. */
static int run_alg(OSSL_LIB_CTX **ctx, const ALG *alg, int rounds, int per, unsigned int gap_us)
{
    OPSTATE st[MODE_COUNT];
    ASYNC_WAIT_CTX *wctx[MODE_COUNT];
    uint64_t *t[MODE_COUNT];
    unsigned long paused[MODE_COUNT] = { 0 };
    size_t n = (size_t)rounds * (size_t)per;
    const char *spacing = gap_us ? "sparse" : "b2b";
    double inl_med = 0;
    int m, r, k, ok = 1;

    for (m = 0; m < MODE_COUNT; m++) {
        if (!setup(ctx[mode_ctx[m]], alg, &st[m])) {
            fprintf(stderr, "%s: setup failed\n", alg->name);
            return 0;
        }
        wctx[m] = ASYNC_WAIT_CTX_new();
        t[m] = calloc(n, sizeof(uint64_t));
        if (wctx[m] == NULL || t[m] == NULL)
            return 0;
        do_op(&st[m]); /* warm up: workers start, caches fill */
        if (m != MODE_INLINE)
            one_in_job(wctx[m], &st[m], &paused[m], m == MODE_URING_SPIN);
        paused[m] = 0;
    }
    for (r = 0; r < rounds && ok; r++) {
        for (m = 0; m < MODE_COUNT && ok; m++) {
            for (k = 0; k < per; k++) {
                uint64_t t0;

                if (gap_us)
                    sleep_us(gap_us);
                t0 = now_ns();
                ok = m == MODE_INLINE ? do_op(&st[m])
                     : one_in_job(wctx[m], &st[m], &paused[m], m == MODE_URING_SPIN);
                t[m][(size_t)r * (size_t)per + (size_t)k] = now_ns() - t0;
                if (!ok) {
                    fprintf(stderr, "%s %s: operation failed\n", alg->name, mode_names[m]);
                    break;
                }
            }
        }
    }
    for (m = 0; m < MODE_COUNT && ok; m++) {
        double med, p99;

        if (m != MODE_INLINE && paused[m] < n) {
            fprintf(stderr, "%s %s: %lu pauses for %zu operations: not offloaded\n", alg->name,
                    mode_names[m], paused[m], n);
            ok = 0;
            break;
        }
        qsort(t[m], n, sizeof(uint64_t), cmp_u64);
        med = (double)t[m][n / 2] / 1000.0;
        p99 = (double)t[m][(n * 99) / 100] / 1000.0;
        if (m == MODE_INLINE) {
            inl_med = med;
            printf("%-16s %-7s %-13s %10.1f %10.1f %12s %12s\n", alg->name, spacing, mode_names[m],
                   med, p99, "-", "-");
        } else {
            printf("%-16s %-7s %-13s %10.1f %10.1f %12.1f %12.1f\n", alg->name, spacing,
                   mode_names[m], med, p99, med - inl_med, p99 - inl_med);
        }
    }
    for (m = 0; m < MODE_COUNT; m++) {
        free(t[m]);
        teardown(&st[m]);
        ASYNC_WAIT_CTX_free(wctx[m]);
    }
    fflush(stdout);
    return ok;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 20;
    int per = argc > 2 ? atoi(argv[2]) : 50;
    unsigned int gap_us = argc > 3 ? (unsigned int)atoi(argv[3]) : 1000;
    unsigned int idle_s = argc > 4 ? (unsigned int)atoi(argv[4]) : 3;
    static const char *confs[CTX_COUNT] = {
        "sync_mode = inline\n", "io_uring = yes\n", "io_uring = no\n"
    };
    OSSL_LIB_CTX *ctx[CTX_COUNT];
    uint64_t cpu0, cpu1, sw0, sw1;
    unsigned int nthreads;
    size_t a;
    int m, rc = 0;

    if (rounds < 1 || per < 1) {
        fprintf(stderr, "usage: %s [rounds] [ops-per-round] [gap-us] [idle-seconds]\n", argv[0]);
        return 2;
    }
    printf("# uringprov added latency: %d rounds x %d operations, modes interleaved; "
           "b2b = back to back, sparse = %u us between operations\n", rounds, per, gap_us);
    printf("%-16s %-7s %-13s %10s %10s %12s %12s\n", "algorithm", "spacing", "path", "median_us",
           "p99_us", "added_med_us", "added_p99_us");
    for (m = 0; m < CTX_COUNT; m++) {
        ctx[m] = uot_libctx_new(confs[m]);
        if (ctx[m] == NULL)
            return 2;
    }
    for (a = 0; a < sizeof(algs) / sizeof(algs[0]) && rc == 0; a++) {
        if (!run_alg(ctx, &algs[a], rounds, per, 0)
            || (gap_us > 0 && !run_alg(ctx, &algs[a], rounds, per, gap_us)))
            rc = 1;
    }
    if (rc == 0) {
        if (uot_counter(ctx[MODE_URING], "uringprov-io-uring") != 1)
            printf("# note: the io_uring path fell back to plain eventfd writes (see URINGPROV_DEBUG)\n");
        printf("# offloaded: io_uring pool (io_uring and io_uring-spin paths) %llu, fallback pool %llu; "
               "fallbacks %llu, %llu\n",
               (unsigned long long)uot_counter(ctx[MODE_URING], "uringprov-offloaded"),
               (unsigned long long)uot_counter(ctx[MODE_FALLBACK], "uringprov-offloaded"),
               (unsigned long long)uot_counter(ctx[MODE_URING], "uringprov-fallbacks"),
               (unsigned long long)uot_counter(ctx[MODE_FALLBACK], "uringprov-fallbacks"));
    }
    if (rc == 0 && idle_s > 0) {
        sleep_us(200000); /* past every worker's spin */
        workers_usage(&cpu0, &sw0, &nthreads);
        sleep_us(idle_s * 1000000U);
        workers_usage(&cpu1, &sw1, &nthreads);
        printf("idle-pool %u threads %u s cpu_ns %llu switches %llu\n", nthreads, idle_s,
               (unsigned long long)(cpu1 - cpu0), (unsigned long long)(sw1 - sw0));
    }
    for (m = 0; m < CTX_COUNT; m++)
        OSSL_LIB_CTX_free(ctx[m]);
    return rc;
}

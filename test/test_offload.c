/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_offload.c - unit tests of offload/ on its own: no provider, no key, no crypto. Tasks are plain
 * C closures (a hash loop, a gate that the test opens, an error raiser) run through uo_req_run inside
 * ASYNC jobs, which one poll() loop drives as an event-driven server would, and outside jobs in both
 * sync modes. Every async case asserts that the job really paused. Leaks and late writes are checked
 * through the library's live counters (UO_POOL_STATS live_reqs, live_waiters) and the fds themselves.
 *
 * Nothing here measures time: waits have a generous deadline (WAIT_MS) whose only purpose is to turn a
 * lost wake-up into a failure instead of a hang. Tests that fork report from the child by exit code.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/async.h>
#include <openssl/err.h>

#include "uo_offload.h"
#include "helpers/uo_test.h"

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#if defined(__SANITIZE_THREAD__)
#define UO_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UO_TSAN 1
#endif
#endif
#ifdef UO_TSAN
/*
 * The fork tests start workers in a child of a threaded process, which is what the library is for.
 * Exported: the build hides symbols by default, and the runtime looks this one up dynamically.
 */
__attribute__((visibility("default"))) const char *__tsan_default_options(void);
__attribute__((visibility("default"))) const char *__tsan_default_options(void)
{
    return "die_after_fork=0";
}
#endif

#define WAIT_MS 20000            /* deadline for anything awaited; a lost wake-up, not a timing check */
#define HASH_ITERS 10000         /* a few tens of microseconds of work on a worker */
#define INSTANT_MAGIC 0x5a5a5a5a5a5a5a5aULL
#define TEST_KIND 3

/* ---- small helpers ------------------------------------------------------------------------- */

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int readable(int fd, int ms)
{
    struct pollfd p = { fd, POLLIN, 0 };

    return poll(&p, 1, ms) == 1 && (p.revents & POLLIN) != 0;
}

/* Keeps Check's failure messages readable (an atomic_load expands into a page). */
static int count(atomic_int *c)
{
    return atomic_load(c);
}

static int fd_is_open(int fd)
{
    return fcntl(fd, F_GETFD) != -1 || errno != EBADF;
}

static uint64_t mix(uint64_t x, unsigned int iters)
{
    unsigned int i;

    for (i = 0; i < iters; i++) {
        x += 0x9e3779b97f4a7c15ULL;
        x ^= x >> 30;
        x *= 0xbf58476d1ce4e5b9ULL;
        x ^= x >> 27;
        x *= 0x94d049bb133111ebULL;
        x ^= x >> 31;
    }
    return x;
}

static UO_POOL *pool_new(unsigned int workers, unsigned int queue_bound, int use_uring, int sync_mode)
{
    UO_POOL_CONFIG cfg;

    memset(&cfg, 0, sizeof(cfg));
    cfg.workers = workers;
    cfg.queue_bound = queue_bound;
    cfg.use_uring = use_uring;
    cfg.sync_mode = sync_mode;
    return uo_pool_new(&cfg);
}

static UO_POOL_STATS stats(UO_POOL *pool)
{
    UO_POOL_STATS st;

    uo_pool_get_stats(pool, &st);
    return st;
}

/* Live requests and waiters are released by workers after the caller is done: wait for them. */
static int wait_live(UO_POOL *pool, uint64_t reqs, uint64_t waiters)
{
    int i;

    for (i = 0; i < WAIT_MS; i++) {
        UO_POOL_STATS st = stats(pool);

        if (st.live_reqs == reqs && st.live_waiters == waiters)
            return 1;
        sleep_ms(1);
    }
    return 0;
}

/* Only the request count: a forked child also counts the parent's waiters it let go. */
static int wait_live_reqs(UO_POOL *pool, uint64_t reqs)
{
    int i;

    for (i = 0; i < WAIT_MS; i++) {
        if (stats(pool).live_reqs == reqs)
            return 1;
        sleep_ms(1);
    }
    return 0;
}

/* What the library itself decides: io_uring when a ring can be made here, and not under valgrind. */
static int uring_expected(void)
{
    struct io_uring ring;
    const char *env = getenv(UO_ENV_NO_URING);

    if (env != NULL && *env != '\0' && strcmp(env, "0") != 0)
        return 0;
    if (RUNNING_ON_VALGRIND)
        return 0;
    if (io_uring_queue_init(2, &ring, 0) < 0)
        return 0;
    io_uring_queue_exit(&ring);
    return 1;
}

static unsigned int online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    return n > 0 ? (unsigned int)n : 1;
}

/* A gate a task waits at until the test opens it. */
struct gate {
    pthread_mutex_t m;
    pthread_cond_t c;
    int open;
    atomic_int entered;
};

static void gate_init(struct gate *g)
{
    pthread_mutex_init(&g->m, NULL);
    pthread_cond_init(&g->c, NULL);
    g->open = 0;
    atomic_init(&g->entered, 0);
}

static void gate_pass(struct gate *g)
{
    atomic_fetch_add(&g->entered, 1);
    pthread_mutex_lock(&g->m);
    while (!g->open)
        pthread_cond_wait(&g->c, &g->m);
    pthread_mutex_unlock(&g->m);
}

static void gate_open(struct gate *g)
{
    pthread_mutex_lock(&g->m);
    g->open = 1;
    pthread_cond_broadcast(&g->c);
    pthread_mutex_unlock(&g->m);
}

static int wait_entered(struct gate *g, int n)
{
    int i;

    for (i = 0; i < WAIT_MS; i++) {
        if (atomic_load(&g->entered) >= n)
            return 1;
        sleep_ms(1);
    }
    return 0;
}

/* ---- tasks --------------------------------------------------------------------------------- */

enum task_kind {
    T_HASH,        /* out = mix(seed, iters) */
    T_GATE,        /* waits at the gate, then hashes */
    T_INSTANT,     /* out = seed ^ INSTANT_MAGIC, nothing else */
    T_ERROR,       /* raises ERR_LIB_USER/42 with data and fails */
    T_MANY_ERRORS, /* raises reasons 1..6 and fails */
    T_CLEAN_QUEUE, /* succeeds only if the thread's error queue is empty when it starts */
    T_EXITING,     /* hashes, and reports if it runs after the process's cleanup (see exit test) */
    T_SLOW         /* sleeps 20 ms, then hashes: a single run dearer than any batch call */
};

struct task {
    int kind;
    uint64_t seed;
    unsigned int iters;
    uint64_t out;
    struct gate *gate;
    unsigned int rkind;     /* the request's kind; 0: TEST_KIND */
    pthread_t thread;       /* the thread that ran the task */
    atomic_int *cleanups;   /* counted by task_cleanup */
};

/* exit() test: what the stand-in for OpenSSL's atexit cleanup sees. */
static atomic_int exit_tasks_running;
static atomic_int exit_torn_down;
static int exit_report_fd = -1;

static void exit_report(char what)
{
    if (write(exit_report_fd, &what, 1) < 0)
        abort();
}

static int task_fn(void *payload)
{
    struct task *t = payload;
    int i;

    t->thread = pthread_self();
    switch (t->kind) {
    case T_GATE:
        gate_pass(t->gate);
        /* fall through */
    case T_HASH:
        t->out = mix(t->seed, t->iters);
        return 1;
    case T_SLOW:
        sleep_ms(20);
        t->out = mix(t->seed, t->iters);
        return 1;
    case T_INSTANT:
        t->out = t->seed ^ INSTANT_MAGIC;
        return 1;
    case T_ERROR:
        ERR_raise_data(ERR_LIB_USER, 42, "task %llu failed", (unsigned long long)t->seed);
        return 0;
    case T_MANY_ERRORS:
        for (i = 1; i <= 6; i++)
            ERR_raise(ERR_LIB_USER, i);
        return 0;
    case T_CLEAN_QUEUE:
        return ERR_peek_error() == 0;
    case T_EXITING:
        atomic_fetch_add(&exit_tasks_running, 1);
        if (atomic_load(&exit_torn_down))
            exit_report('A');
        t->out = mix(t->seed, t->iters);
        if (atomic_load(&exit_torn_down))
            exit_report('A');
        atomic_fetch_sub(&exit_tasks_running, 1);
        return 1;
    }
    return 0;
}

static void task_cleanup(void *payload)
{
    struct task *t = payload;

    if (t->cleanups != NULL)
        atomic_fetch_add(t->cleanups, 1);
}

static uint64_t task_expected(const struct task *t)
{
    return t->kind == T_INSTANT ? t->seed ^ INSTANT_MAGIC : mix(t->seed, t->iters);
}

/* One request: payload in, uo_req_run, payload back out. Small enough for a 32 KiB job stack. */
static int run_task(UO_POOL *pool, struct task *t, int *offloaded)
{
    UO_REQ *req = uo_req_new(pool, t->rkind != 0 ? t->rkind : TEST_KIND, task_fn, task_cleanup,
                             sizeof(*t));
    int rc;

    if (req == NULL)
        return -100;
    memcpy(uo_req_payload(req), t, sizeof(*t));
    rc = uo_req_run(req);
    memcpy(t, uo_req_payload(req), sizeof(*t));
    if (offloaded != NULL)
        *offloaded = uo_req_was_offloaded(req);
    uo_req_free(req);
    return rc;
}

/* ---- jobs and the event loop ---------------------------------------------------------------- */

struct job {
    UO_POOL *pool;
    ASYNC_JOB *job;
    ASYNC_WAIT_CTX *wctx;
    int ret;
    int started, finished, abandoned;
    int pauses;          /* ASYNC_PAUSE returns */
    int fd;              /* the fd held at the first pause, -1 before */
    int bad_fds;         /* pauses at which the wait ctx did not hold exactly that one fd */
    /* the work: nops tasks of one kind, run one after the other */
    int kind, nops;
    unsigned int rkind;  /* the requests' kind; 0: TEST_KIND */
    unsigned int iters;
    uint64_t seed;
    struct gate *gate;
    atomic_int *cleanups;
    int ok_ops, offloaded_ops;
};

static void job_init(struct job *j, UO_POOL *pool, int kind, int nops, uint64_t seed)
{
    memset(j, 0, sizeof(*j));
    j->pool = pool;
    j->kind = kind;
    j->nops = nops;
    j->seed = seed;
    j->iters = HASH_ITERS;
    j->fd = -1;
}

static int job_main(void *arg)
{
    struct job *j = *(struct job **)arg;
    int i;

    for (i = 0; i < j->nops; i++) {
        struct task t;
        int off = 0;

        memset(&t, 0, sizeof(t));
        t.kind = j->kind;
        t.seed = j->seed + (uint64_t)i;
        t.iters = j->iters;
        t.gate = j->gate;
        t.rkind = j->rkind;
        t.cleanups = j->cleanups;
        if (run_task(j->pool, &t, &off) == 1 && t.out == task_expected(&t))
            j->ok_ops++;
        j->offloaded_ops += off;
    }
    return j->ok_ops == j->nops;
}

/* One ASYNC_start_job call (start or resume); at a pause, checks the wait ctx's fds. */
static int job_step(struct job *j)
{
    struct job *self = j;
    int rc = ASYNC_start_job(&j->job, j->wctx, &j->ret, job_main, &self, sizeof(self));

    j->started = 1;
    if (rc == ASYNC_PAUSE) {
        OSSL_ASYNC_FD fds[4];
        size_t n = 0;

        j->pauses++;
        if (j->wctx == NULL || !ASYNC_WAIT_CTX_get_all_fds(j->wctx, NULL, &n)) {
            j->bad_fds++;
        } else if (n != 1) {
            j->bad_fds++;
        } else {
            ASYNC_WAIT_CTX_get_all_fds(j->wctx, fds, &n);
            if (j->fd < 0)
                j->fd = fds[0];
            else if (fds[0] != j->fd)
                j->bad_fds++;
        }
    } else if (rc == ASYNC_FINISH) {
        j->finished = 1;
        j->job = NULL;
    }
    return rc;
}

/*
 * Drives the jobs to completion with one poll() over their fds, resuming a job only when its fd is
 * readable. 0 on a lost wake-up (nothing readable within WAIT_MS), a closed fd, or ASYNC_ERR.
 */
static int drive(struct job *jobs, int n)
{
    struct pollfd *pfd = calloc((size_t)n, sizeof(*pfd));
    int *idx = calloc((size_t)n, sizeof(*idx));
    int i, ok = pfd != NULL && idx != NULL;

    for (i = 0; ok && i < n; i++)
        if (!jobs[i].started && job_step(&jobs[i]) == ASYNC_ERR)
            ok = 0;
    while (ok) {
        int m = 0, k;

        for (i = 0; i < n; i++) {
            if (jobs[i].finished || jobs[i].abandoned)
                continue;
            pfd[m].fd = jobs[i].fd;
            pfd[m].events = POLLIN;
            pfd[m].revents = 0;
            idx[m++] = i;
        }
        if (m == 0)
            break;
        if (poll(pfd, (nfds_t)m, WAIT_MS) <= 0) {
            fprintf(stderr, "drive: no fd became readable within %d ms (%d jobs waiting)\n",
                    WAIT_MS, m);
            ok = 0;
            break;
        }
        for (k = 0; ok && k < m; k++) {
            if ((pfd[k].revents & POLLNVAL) != 0)
                ok = 0;
            else if (pfd[k].revents != 0 && job_step(&jobs[idx[k]]) == ASYNC_ERR)
                ok = 0;
        }
    }
    free(pfd);
    free(idx);
    return ok;
}

static struct job *jobs_new(UO_POOL *pool, int n, int kind, int nops, uint64_t seed)
{
    struct job *jobs = calloc((size_t)n, sizeof(*jobs));
    int i;

    if (jobs == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        job_init(&jobs[i], pool, kind, nops, seed + 1000 * (uint64_t)i);
        jobs[i].wctx = ASYNC_WAIT_CTX_new();
        if (jobs[i].wctx == NULL)
            return NULL;
    }
    return jobs;
}

static void jobs_free(struct job *jobs, int n)
{
    int i;

    for (i = 0; i < n; i++)
        if (!jobs[i].abandoned)
            ASYNC_WAIT_CTX_free(jobs[i].wctx);
    free(jobs);
}

/* NULL if every job finished with correct results, paused at least once, on exactly one fd. */
static const char *jobs_bad(const struct job *jobs, int n, int *which)
{
    int i;

    for (i = 0; i < n; i++) {
        const struct job *j = &jobs[i];

        *which = i;
        if (j->abandoned)
            continue;
        if (!j->finished)
            return "did not finish";
        if (j->ret != 1 || j->ok_ops != j->nops)
            return "wrong result";
        if (j->pauses < 1)
            return "never paused";
        if (j->bad_fds != 0)
            return "the wait ctx did not hold exactly one, unchanging fd at a pause";
        if (j->offloaded_ops != j->nops)
            return "an operation was not offloaded";
    }
    return NULL;
}

#define ck_assert_jobs_ok(jobs, n)                                                        \
    do {                                                                                  \
        int which_ = -1;                                                                  \
        const char *bad_ = jobs_bad((jobs), (n), &which_);                                \
        ck_assert_msg(bad_ == NULL, "job %d: %s (pauses %d, bad fds %d, ok ops %d/%d)",   \
                      which_, bad_, (jobs)[which_].pauses, (jobs)[which_].bad_fds,        \
                      (jobs)[which_].ok_ops, (jobs)[which_].nops);                        \
    } while (0)

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;

    return (x > y) - (x < y);
}

/* ---- 1. many concurrent jobs, one event loop ------------------------------------------------- */

static void many_jobs(UO_POOL *pool, int n, int nops, int want_uring)
{
    UO_POOL_STATS base = stats(pool), st;
    struct job *jobs = jobs_new(pool, n, T_HASH, nops, 1);
    int *fds = calloc((size_t)n, sizeof(*fds));
    int i;

    ck_assert_ptr_nonnull(jobs);
    ck_assert_ptr_nonnull(fds);
    ck_assert_msg(drive(jobs, n), "the event loop lost a job");
    ck_assert_jobs_ok(jobs, n);

    /* Every wait ctx has its own eventfd: all distinct while the wait ctxs live. */
    for (i = 0; i < n; i++)
        fds[i] = jobs[i].fd;
    qsort(fds, (size_t)n, sizeof(*fds), cmp_int);
    for (i = 1; i < n; i++)
        ck_assert_int_ne(fds[i - 1], fds[i]);

    st = stats(pool);
    ck_assert_uint_eq(st.offloaded - base.offloaded, (uint64_t)n * (uint64_t)nops);
    ck_assert_uint_eq(st.fallbacks, base.fallbacks);
    ck_assert_uint_eq(st.inline_runs, base.inline_runs);
    ck_assert_uint_ge(st.pauses - base.pauses, (uint64_t)n * (uint64_t)nops);
    ck_assert_uint_eq(st.inflight, 0);
    ck_assert_uint_gt(st.workers, 0);
    ck_assert_int_eq(st.uring, want_uring);
    ck_assert_uint_eq(st.live_waiters, base.live_waiters + (uint64_t)n);

    jobs_free(jobs, n);
    free(fds);
    ck_assert_msg(wait_live(pool, base.live_reqs, base.live_waiters),
                  "requests or eventfds outlived their wait ctxs");
}

START_TEST(many_concurrent_jobs)
{
    UO_POOL *pool = pool_new(0, 0, 1, UO_SYNC_INLINE);

    ck_assert_ptr_nonnull(pool);
    many_jobs(pool, 200, 3, uring_expected());
    ck_assert_uint_eq(stats(pool).workers, online_cpus());
    uo_pool_free(pool);
}
END_TEST

/* ---- 2. spurious resumes ------------------------------------------------------------------- */

START_TEST(spurious_resumes)
{
    UO_POOL *pool = pool_new(2, 0, 1, UO_SYNC_INLINE);
    struct gate g;
    struct job j;
    int i;

    ck_assert_ptr_nonnull(pool);
    gate_init(&g);
    job_init(&j, pool, T_GATE, 2, 7);
    j.gate = &g;
    j.wctx = ASYNC_WAIT_CTX_new();

    ck_assert_int_eq(job_step(&j), ASYNC_PAUSE);
    /* Resumed before the worker even took it, and again while the task is blocked. */
    for (i = 0; i < 3; i++)
        ck_assert_int_eq(job_step(&j), ASYNC_PAUSE);
    ck_assert(wait_entered(&g, 1));
    for (i = 0; i < 5; i++) {
        ck_assert(!readable(j.fd, 0));
        ck_assert_int_eq(job_step(&j), ASYNC_PAUSE);
    }
    ck_assert_int_eq(j.ok_ops, 0);
    gate_open(&g);
    /* The first operation completes; the job moves on to the second and pauses for it. */
    while (!j.finished) {
        ck_assert_msg(readable(j.fd, WAIT_MS), "no wake-up after the task completed");
        ck_assert_int_ne(job_step(&j), ASYNC_ERR);
    }
    ck_assert_int_eq(j.ret, 1);
    ck_assert_int_eq(j.ok_ops, 2);
    ck_assert_int_eq(j.bad_fds, 0);
    ck_assert_int_ge(j.pauses, 10);
    ck_assert_uint_eq(stats(pool).inflight, 0);
    ASYNC_WAIT_CTX_free(j.wctx);
    uo_pool_free(pool);
}
END_TEST

/*
 * While pausing is blocked (ASYNC_block_pause), ASYNC_pause_job returns at once: the request must
 * still complete, with the job blocked on the worker after a bounded number of empty resumes rather
 * than spinning until the task ends.
 */
struct blocked_job {
    UO_POOL *pool;
    struct task t;
    int rc;
};

static int blocked_job_main(void *arg)
{
    struct blocked_job *b = *(struct blocked_job **)arg;

    ASYNC_block_pause();
    b->rc = run_task(b->pool, &b->t, NULL);
    ASYNC_unblock_pause();
    return b->rc;
}

static void *open_gate_later(void *arg)
{
    sleep_ms(200);
    gate_open(arg);
    return NULL;
}

START_TEST(pause_blocked)
{
    UO_POOL *pool = pool_new(2, 0, 1, UO_SYNC_INLINE);
    ASYNC_WAIT_CTX *wctx = ASYNC_WAIT_CTX_new();
    ASYNC_JOB *job = NULL;
    struct blocked_job b, *bp = &b;
    struct gate g;
    pthread_t opener;
    int ret = 0;

    ck_assert_ptr_nonnull(pool);
    gate_init(&g);
    memset(&b, 0, sizeof(b));
    b.pool = pool;
    b.t.kind = T_GATE;
    b.t.seed = 11;
    b.t.iters = 10;
    b.t.gate = &g;
    ck_assert_int_eq(pthread_create(&opener, NULL, open_gate_later, &g), 0);
    ck_assert_int_eq(ASYNC_start_job(&job, wctx, &ret, blocked_job_main, &bp, sizeof(bp)),
                     ASYNC_FINISH);
    pthread_join(opener, NULL);
    ck_assert_int_eq(ret, 1);
    ck_assert(b.t.out == task_expected(&b.t));
    /* 200 ms of spinning would be millions of pauses; the bound keeps it near 64. */
    ck_assert_uint_le(stats(pool).pauses, 100);
    ck_assert_uint_eq(stats(pool).offloaded, 1);
    ASYNC_WAIT_CTX_free(wctx);
    uo_pool_free(pool);
}
END_TEST

/* ---- 3. a stable fd ------------------------------------------------------------------------ */

START_TEST(stable_fd)
{
    UO_POOL *pool = pool_new(2, 0, 1, UO_SYNC_INLINE);
    UO_POOL_STATS base = stats(pool);
    ASYNC_WAIT_CTX *wctx = ASYNC_WAIT_CTX_new();
    OSSL_ASYNC_FD fds[4];
    size_t n = 0;
    int r, fd0 = -1;

    ck_assert_ptr_nonnull(pool);
    for (r = 0; r < 40; r++) {
        struct job j;

        job_init(&j, pool, r % 2 ? T_INSTANT : T_HASH, 1 + r % 4, 100 + (uint64_t)r);
        j.wctx = wctx;
        ck_assert(drive(&j, 1));
        ck_assert_jobs_ok(&j, 1);
        if (fd0 < 0)
            fd0 = j.fd;
        ck_assert_int_eq(j.fd, fd0);
        /* Still registered, and still the only one, between jobs. */
        ck_assert(ASYNC_WAIT_CTX_get_all_fds(wctx, NULL, &n));
        ck_assert_uint_eq(n, 1);
        ASYNC_WAIT_CTX_get_all_fds(wctx, fds, &n);
        ck_assert_int_eq(fds[0], fd0);
    }
    ck_assert_uint_eq(stats(pool).live_waiters, base.live_waiters + 1);
    ASYNC_WAIT_CTX_free(wctx);
    ck_assert(wait_live(pool, base.live_reqs, base.live_waiters));
    ck_assert_msg(!fd_is_open(fd0), "the wait ctx's cleanup did not close its eventfd");
    uo_pool_free(pool);
}
END_TEST

/* ---- 4. an operation in a job pauses at least once -------------------------------------------- */

START_TEST(pause_at_least_once)
{
    UO_POOL *pool = pool_new(2, 0, 1, UO_SYNC_INLINE);
    ASYNC_WAIT_CTX *wctx = ASYNC_WAIT_CTX_new();
    int r, already_done = 0;

    ck_assert_ptr_nonnull(pool);
    for (r = 0; r < 200; r++) {
        struct job j;

        job_init(&j, pool, T_INSTANT, 1, (uint64_t)r);
        j.wctx = wctx;
        ck_assert_int_eq(job_step(&j), ASYNC_PAUSE);
        if (readable(j.fd, 0))
            already_done++;
        /* The notification comes after the result: one wake-up, then done. */
        ck_assert(readable(j.fd, WAIT_MS));
        ck_assert_int_eq(job_step(&j), ASYNC_FINISH);
        ck_assert_int_eq(j.ret, 1);
        ck_assert_int_eq(j.pauses, 1);
        ck_assert_int_eq(j.offloaded_ops, 1);
        ck_assert_int_eq(j.bad_fds, 0);
    }
    fprintf(stderr, "pause_at_least_once: the worker had finished by the pause in %d of 200\n",
            already_done);
    ck_assert_uint_eq(stats(pool).offloaded, 200);
    ASYNC_WAIT_CTX_free(wctx);
    uo_pool_free(pool);
}
END_TEST

/*
 * The same, with the worker made to finish before the job reaches its pause: the job thread and the
 * one worker share a CPU and the job thread runs as SCHED_IDLE, so the worker that its submit wakes
 * preempts it at once and completes the task first. The job must pause all the same.
 */
START_TEST(pause_when_worker_done_first)
{
    UO_POOL_CONFIG cfg;
    UO_POOL *pool;
    ASYNC_WAIT_CTX *wctx = ASYNC_WAIT_CTX_new();
    struct sched_param sp;
    cpu_set_t one;
    struct job j;
    int r, cpu = sched_getcpu(), done_first = 0;

    ck_assert_int_ge(cpu, 0);
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    ck_assert_int_eq(sched_setaffinity(0, sizeof(one), &one), 0);
    memset(&cfg, 0, sizeof(cfg));
    cfg.workers = 1;
    cfg.use_uring = 1;
    cfg.spin_us = 1;    /* the worker sleeps almost at once: each submit has to wake it */
    pool = uo_pool_new(&cfg);
    ck_assert_ptr_nonnull(pool);
    /* The worker starts now, inheriting the CPU but not the idle policy set after. */
    job_init(&j, pool, T_INSTANT, 1, 0);
    j.wctx = wctx;
    ck_assert(drive(&j, 1));
    memset(&sp, 0, sizeof(sp));
    ck_assert_int_eq(pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp), 0);
    for (r = 1; r <= 50; r++) {
        sleep_ms(2);    /* lets the worker fall asleep; the result does not depend on it */
        job_init(&j, pool, T_INSTANT, 1, (uint64_t)r);
        j.wctx = wctx;
        ck_assert_int_eq(job_step(&j), ASYNC_PAUSE);
        if (readable(j.fd, 0))
            done_first++;
        ck_assert(readable(j.fd, WAIT_MS));
        ck_assert_int_eq(job_step(&j), ASYNC_FINISH);
        ck_assert_int_eq(j.ret, 1);
        ck_assert_int_eq(j.pauses, 1);
    }
    fprintf(stderr, "pause_when_worker_done_first: done before the pause in %d of 50\n", done_first);
    /* Valgrind runs one thread at a time and does not switch on a wake-up: no preemption there. */
    if (!RUNNING_ON_VALGRIND)
        ck_assert_msg(done_first > 0, "the set-up never made the worker finish first");
    ASYNC_WAIT_CTX_free(wctx);
    uo_pool_free(pool);
}
END_TEST

/* OpenSSL never frees a job that is not resumed; keeping them here keeps them reachable. */
static ASYNC_JOB *volatile abandoned_jobs[128];
static int n_abandoned;

static void abandon(struct job *j)
{
    ck_assert_int_lt(n_abandoned, 128);
    abandoned_jobs[n_abandoned++] = j->job;
    ASYNC_WAIT_CTX_free(j->wctx);
    j->wctx = NULL;
    j->abandoned = 1;
}

/* ---- 5. callback mode ---------------------------------------------------------------------- */

struct cbstate {
    ASYNC_WAIT_CTX *wctx;
    atomic_int calls;
    atomic_int returned;
    atomic_int status_ok;     /* calls that saw ASYNC_STATUS_OK from inside the callback */
    pthread_t thread;
    struct gate *hold;        /* when set, the callback waits here before it returns */
    pthread_mutex_t *lock;    /* when set, the callback takes this lock before it returns */
    int free_self;            /* the callback frees its own wait ctx */
    sem_t fired;
};

static int test_callback(void *arg)
{
    struct cbstate *c = arg;

    c->thread = pthread_self();
    if (ASYNC_WAIT_CTX_get_status(c->wctx) == ASYNC_STATUS_OK)
        atomic_fetch_add(&c->status_ok, 1);
    atomic_fetch_add(&c->calls, 1);
    sem_post(&c->fired);
    if (c->hold != NULL)
        gate_pass(c->hold);
    if (c->lock != NULL) {
        /* An application's callback that queues the resume under its connection table's lock. */
        pthread_mutex_lock(c->lock);
        pthread_mutex_unlock(c->lock);
    }
    if (c->free_self) {
        ASYNC_WAIT_CTX_free(c->wctx);
        c->wctx = NULL;
    }
    atomic_fetch_add(&c->returned, 1);
    return 1;
}

static int sem_wait_ms(sem_t *s, int ms)
{
    struct timespec ts;
    int rc;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    while ((rc = sem_timedwait(s, &ts)) != 0 && errno == EINTR)
        ;
    return rc == 0;
}

static void cbstate_init(struct cbstate *c, ASYNC_WAIT_CTX *wctx)
{
    memset(c, 0, sizeof(*c));
    c->wctx = wctx;
    sem_init(&c->fired, 0, 0);
    ck_assert(ASYNC_WAIT_CTX_set_callback(wctx, test_callback, c));
}

START_TEST(callback_mode)
{
    UO_POOL *pool = pool_new(2, 0, 1, UO_SYNC_INLINE);
    UO_POOL_STATS base = stats(pool);
    struct cbstate c;
    struct gate g;
    struct job j;
    int op;

    ck_assert_ptr_nonnull(pool);
    gate_init(&g);
    job_init(&j, pool, T_GATE, 3, 11);
    j.gate = &g;
    j.wctx = ASYNC_WAIT_CTX_new();
    cbstate_init(&c, j.wctx);

    ck_assert_int_eq(job_step(&j), ASYNC_PAUSE);
    /* A resume before the callback is not a completion. */
    ck_assert_int_eq(job_step(&j), ASYNC_PAUSE);
    ck_assert_int_eq(ASYNC_WAIT_CTX_get_status(j.wctx), ASYNC_STATUS_OK);
    ck_assert_int_eq(count(&c.calls), 0);
    gate_open(&g);
    for (op = 1; op <= 3; op++) {
        ck_assert_msg(sem_wait_ms(&c.fired, WAIT_MS), "callback %d never came", op);
        ck_assert_int_eq(count(&c.calls), op);
        ck_assert(!pthread_equal(c.thread, pthread_self()));
        ck_assert_int_eq(job_step(&j), op < 3 ? ASYNC_PAUSE : ASYNC_FINISH);
    }
    ck_assert_int_eq(j.ret, 1);
    ck_assert_int_eq(j.ok_ops, 3);
    ck_assert_int_ge(j.pauses, 3);
    ck_assert_int_eq(count(&c.calls), 3);
    ck_assert_int_eq(count(&c.status_ok), 3);
    /*
     * The wait ctx holds the same one eventfd as in fd mode (signalled too): its cleanup is how a
     * callback is cancelled when the application frees the wait ctx mid-flight.
     */
    ck_assert_int_eq(j.bad_fds, 0);
    ck_assert_uint_eq(stats(pool).live_waiters, base.live_waiters + 1);
    ASYNC_WAIT_CTX_free(j.wctx);
    sem_destroy(&c.fired);
    ck_assert(wait_live(pool, base.live_reqs, base.live_waiters));
    uo_pool_free(pool);
}
END_TEST

struct delayed_open {
    struct gate *g;
    int ms;
};

static void *open_later(void *arg)
{
    struct delayed_open *d = arg;

    sleep_ms(d->ms);
    gate_open(d->g);
    return NULL;
}

/*
 * A resume that sees the task done while the worker is still inside the callback must not let the
 * job finish: the application could then free what the callback's argument points to (libssl's SSL)
 * while the worker still uses it.
 */
START_TEST(callback_outlives_no_job)
{
    UO_POOL *pool = pool_new(1, 0, 1, UO_SYNC_INLINE);
    struct delayed_open d;
    struct cbstate c;
    struct gate hold;
    struct job j;
    pthread_t th;

    ck_assert_ptr_nonnull(pool);
    gate_init(&hold);
    job_init(&j, pool, T_INSTANT, 1, 3);
    j.wctx = ASYNC_WAIT_CTX_new();
    cbstate_init(&c, j.wctx);
    c.hold = &hold;

    ck_assert_int_eq(job_step(&j), ASYNC_PAUSE);
    ck_assert(sem_wait_ms(&c.fired, WAIT_MS));
    ck_assert_int_eq(count(&c.returned), 0);
    /* The callback is held; let it go a little later, from another thread. */
    d.g = &hold;
    d.ms = 50;
    ck_assert_int_eq(pthread_create(&th, NULL, open_later, &d), 0);
    ck_assert_int_eq(job_step(&j), ASYNC_FINISH);
    ck_assert_msg(count(&c.returned) == 1, "the job finished while its callback was running");
    pthread_join(th, NULL);
    ck_assert_int_eq(j.ret, 1);
    ck_assert_int_eq(count(&c.calls), 1);
    ASYNC_WAIT_CTX_free(j.wctx);
    sem_destroy(&c.fired);
    uo_pool_free(pool);
}
END_TEST

/* The application frees the wait ctx (libssl: SSL_free) while the task runs: no callback after. */
START_TEST(callback_wait_ctx_freed_before)
{
    UO_POOL *pool = pool_new(2, 0, 1, UO_SYNC_INLINE);
    UO_POOL_STATS base = stats(pool);
    atomic_int cleanups = 0;
    struct cbstate c;
    struct gate g;
    struct job j;

    ck_assert_ptr_nonnull(pool);
    gate_init(&g);
    job_init(&j, pool, T_GATE, 1, 3);
    j.gate = &g;
    j.cleanups = &cleanups;
    j.wctx = ASYNC_WAIT_CTX_new();
    cbstate_init(&c, j.wctx);
    ck_assert_int_eq(job_step(&j), ASYNC_PAUSE);
    ck_assert(wait_entered(&g, 1));
    abandon(&j);
    gate_open(&g);
    ck_assert(wait_live(pool, base.live_reqs, base.live_waiters));
    ck_assert_int_eq(count(&cleanups), 1);
    ck_assert_msg(count(&c.calls) == 0, "a callback came after its wait ctx was freed");
    sem_destroy(&c.fired);
    uo_pool_free(pool);
}
END_TEST

/* Freed while the worker is inside the callback: the free waits for the callback to return. */
START_TEST(callback_wait_ctx_freed_during)
{
    UO_POOL *pool = pool_new(1, 0, 1, UO_SYNC_INLINE);
    UO_POOL_STATS base = stats(pool);
    struct delayed_open d;
    struct cbstate c;
    struct gate hold;
    struct job j;
    pthread_t th;

    ck_assert_ptr_nonnull(pool);
    gate_init(&hold);
    job_init(&j, pool, T_INSTANT, 1, 3);
    j.wctx = ASYNC_WAIT_CTX_new();
    cbstate_init(&c, j.wctx);
    c.hold = &hold;
    ck_assert_int_eq(job_step(&j), ASYNC_PAUSE);
    ck_assert(sem_wait_ms(&c.fired, WAIT_MS));
    d.g = &hold;
    d.ms = 50;
    ck_assert_int_eq(pthread_create(&th, NULL, open_later, &d), 0);
    abandon(&j);
    ck_assert_msg(count(&c.returned) == 1, "the wait ctx was freed while its callback ran");
    pthread_join(th, NULL);
    ck_assert(wait_live(pool, base.live_reqs, base.live_waiters));
    ck_assert_int_eq(count(&c.calls), 1);
    sem_destroy(&c.fired);
    uo_pool_free(pool);
}
END_TEST

/* ---- 6. the plain-eventfd fallback --------------------------------------------------------- */

START_TEST(fallback_env)
{
    UO_POOL *pool;

    ck_assert_int_eq(setenv(UO_ENV_NO_URING, "1", 1), 0);
    pool = pool_new(2, 0, 1, UO_SYNC_INLINE);
    ck_assert_ptr_nonnull(pool);
    many_jobs(pool, 100, 2, 0);
    ck_assert_int_eq(stats(pool).uring, 0);
    uo_pool_free(pool);
    unsetenv(UO_ENV_NO_URING);
}
END_TEST

START_TEST(fallback_config)
{
    UO_POOL *pool = pool_new(2, 0, 0, UO_SYNC_INLINE);

    ck_assert_ptr_nonnull(pool);
    many_jobs(pool, 100, 2, 0);
    uo_pool_free(pool);
}
END_TEST

/* ---- 7. fork ------------------------------------------------------------------------------- */

/*
 * Runs in a forked child and answers with an exit code (0: all well), since a child must not report
 * through Check. parent_dup is a dup of the parent's eventfd of the inherited wait ctx.
 */
static int child_work(UO_POOL *pool, ASYNC_WAIT_CTX *inherited, int parent_dup, int depth)
{
    uint64_t reqs_at_start = stats(pool).live_reqs;
    struct job *jobs, wj;
    int which, status;
    uint64_t v;
    pid_t pid;

    if (stats(pool).workers != 0)
        return 10;      /* the parent's threads do not exist here */
    jobs = jobs_new(pool, 30, T_HASH, 2, 5000 * (uint64_t)depth);
    if (jobs == NULL || !drive(jobs, 30) || jobs_bad(jobs, 30, &which) != NULL)
        return 11;
    jobs_free(jobs, 30);
    if (stats(pool).workers == 0)
        return 12;
    job_init(&wj, pool, T_HASH, 2, 77);
    wj.wctx = inherited;
    if (!drive(&wj, 1) || jobs_bad(&wj, 1, &which) != NULL)
        return 13;
    /* The inherited wait ctx now holds an eventfd of this process: the parent's does not reach it. */
    if (eventfd_write(parent_dup, 7) != 0)
        return 14;
    if (read(wj.fd, &v, sizeof(v)) >= 0)
        return 15;
    if (eventfd_read(parent_dup, &v) != 0 || v != 7)
        return 16;
    if (depth < 2) {
        /* Quiesce first, so that no request's last reference is on a worker that the fork drops. */
        if (!wait_live_reqs(pool, reqs_at_start))
            return 19;
        pid = fork();
        if (pid < 0)
            return 17;
        if (pid == 0)
            _exit(child_work(pool, inherited, parent_dup, depth + 1));
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
            return 18;
        if (WEXITSTATUS(status) != 0)
            return 20 + WEXITSTATUS(status);
    }
    uo_pool_free(pool);
    return 0;
}

START_TEST(forked_child)
{
    UO_POOL *pool = pool_new(2, 0, 1, UO_SYNC_INLINE);
    struct job wj, gj, *jobs;
    ASYNC_WAIT_CTX *w;
    struct gate g;
    int parent_fd, parent_dup, status;
    uint64_t base_reqs;
    pid_t pid;

    ck_assert_ptr_nonnull(pool);
    base_reqs = stats(pool).live_reqs;
    gate_init(&g);
    w = ASYNC_WAIT_CTX_new();
    job_init(&wj, pool, T_HASH, 2, 1);
    wj.wctx = w;
    ck_assert(drive(&wj, 1));
    ck_assert_jobs_ok(&wj, 1);
    parent_fd = wj.fd;
    parent_dup = dup(parent_fd);
    ck_assert_int_ge(parent_dup, 0);

    /* A job in flight across the fork, its task blocked on a worker. */
    job_init(&gj, pool, T_GATE, 1, 2);
    gj.gate = &g;
    gj.wctx = ASYNC_WAIT_CTX_new();
    ck_assert_int_eq(job_step(&gj), ASYNC_PAUSE);
    ck_assert(wait_entered(&g, 1));
    /* Nothing but that one in flight (see child_work). */
    ck_assert(wait_live_reqs(pool, base_reqs + 1));

    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        _exit(child_work(pool, w, parent_dup, 1));

    /* The parent keeps working while the child runs. */
    jobs = jobs_new(pool, 60, T_HASH, 2, 9);
    ck_assert_ptr_nonnull(jobs);
    ck_assert(drive(jobs, 60));
    ck_assert_jobs_ok(jobs, 60);
    jobs_free(jobs, 60);
    ck_assert_uint_eq(stats(pool).workers, 2);
    gate_open(&g);
    ck_assert(drive(&gj, 1));
    ck_assert_jobs_ok(&gj, 1);

    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "child failed: %s %d (see child_work for the code)",
                  WIFEXITED(status) ? "exit" : "signal",
                  WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));

    /* The parent's wait ctx: nothing stray arrived, same single fd, still works. */
    ck_assert(!readable(parent_fd, 0));
    job_init(&wj, pool, T_HASH, 3, 2);
    wj.wctx = w;
    ck_assert(drive(&wj, 1));
    ck_assert_jobs_ok(&wj, 1);
    ck_assert_int_eq(wj.fd, parent_fd);
    close(parent_dup);
    ASYNC_WAIT_CTX_free(w);
    ASYNC_WAIT_CTX_free(gj.wctx);
    uo_pool_free(pool);
}
END_TEST

/* A pool made before the fork but never used by the parent starts its workers in the child. */
START_TEST(fork_before_first_use)
{
    UO_POOL *pool = pool_new(2, 0, 1, UO_SYNC_INLINE);
    int status;
    pid_t pid;

    ck_assert_ptr_nonnull(pool);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct job *jobs = jobs_new(pool, 20, T_HASH, 1, 3);
        int which;

        if (jobs == NULL || !drive(jobs, 20) || jobs_bad(jobs, 20, &which) != NULL)
            _exit(1);
        if (stats(pool).workers != 2)
            _exit(2);
        jobs_free(jobs, 20);
        uo_pool_free(pool);
        _exit(0);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    ck_assert_uint_eq(stats(pool).workers, 0);
    many_jobs(pool, 20, 1, uring_expected());
    uo_pool_free(pool);
}
END_TEST

/* ---- 8. a wait ctx freed mid-flight -------------------------------------------------------- */

START_TEST(wait_ctx_freed_task_running)
{
    UO_POOL *pool = pool_new(2, 0, 1, UO_SYNC_INLINE);
    UO_POOL_STATS base = stats(pool), st;
    atomic_int cleanups = 0;
    struct gate g;
    struct job j;
    int fd, fresh[8], p[2], i, nfresh = 0;

    ck_assert_ptr_nonnull(pool);
    gate_init(&g);
    job_init(&j, pool, T_GATE, 1, 5);
    j.gate = &g;
    j.cleanups = &cleanups;
    j.wctx = ASYNC_WAIT_CTX_new();
    ck_assert_int_eq(job_step(&j), ASYNC_PAUSE);
    ck_assert(wait_entered(&g, 1));
    fd = j.fd;
    st = stats(pool);
    ck_assert_uint_eq(st.live_reqs, base.live_reqs + 1);
    ck_assert_uint_eq(st.live_waiters, base.live_waiters + 1);

    abandon(&j);
    ck_assert_int_eq(count(&cleanups), 0);
    /* New fds, as a server would open for new connections; they take the lowest free numbers. */
    fresh[nfresh++] = eventfd(0, EFD_NONBLOCK);
    fresh[nfresh++] = eventfd(0, EFD_NONBLOCK);
    ck_assert_int_eq(pipe2(p, O_NONBLOCK), 0);
    fresh[nfresh++] = p[0];
    fresh[nfresh++] = p[1];
    fresh[nfresh++] = dup(fresh[0]);
    fresh[nfresh++] = eventfd(0, EFD_NONBLOCK);
    for (i = 0; i < nfresh; i++) {
        ck_assert_int_ge(fresh[i], 0);
        /* The worker still holds the eventfd, so its number is not handed out again yet. */
        ck_assert_int_ne(fresh[i], fd);
    }
    gate_open(&g);
    ck_assert_msg(wait_live(pool, base.live_reqs, base.live_waiters),
                  "the abandoned request or its eventfd was never freed");
    ck_assert_int_eq(count(&cleanups), 1);
    ck_assert_uint_eq(stats(pool).inflight, 0);
    ck_assert_msg(!fd_is_open(fd), "the abandoned wait ctx's eventfd was not closed");
    for (i = 0; i < nfresh; i++)
        ck_assert_msg(!readable(fresh[i], 0), "stray write to fd %d", fresh[i]);
    /* The number is free now; whatever takes it gets nothing either. */
    fresh[nfresh++] = eventfd(0, EFD_NONBLOCK);
    ck_assert(!readable(fresh[nfresh - 1], 0));
    for (i = 0; i < nfresh; i++)
        close(fresh[i]);
    uo_pool_free(pool);
}
END_TEST

START_TEST(wait_ctx_freed_task_done)
{
    UO_POOL *pool = pool_new(2, 0, 1, UO_SYNC_INLINE);
    UO_POOL_STATS base = stats(pool);
    atomic_int cleanups = 0;
    struct job j;
    int fd;

    ck_assert_ptr_nonnull(pool);
    job_init(&j, pool, T_HASH, 1, 5);
    j.cleanups = &cleanups;
    j.wctx = ASYNC_WAIT_CTX_new();
    ck_assert_int_eq(job_step(&j), ASYNC_PAUSE);
    fd = j.fd;
    /* Done and signalled, but the job is never resumed. */
    ck_assert(readable(fd, WAIT_MS));
    abandon(&j);
    ck_assert(wait_live(pool, base.live_reqs, base.live_waiters));
    ck_assert_int_eq(count(&cleanups), 1);
    ck_assert(!fd_is_open(fd));
    uo_pool_free(pool);
}
END_TEST

/* Many jobs, a third abandoned at their first pause, the rest driven to the end beside new fds. */
START_TEST(wait_ctx_freed_under_load)
{
    enum { N = 90, OPS = 2 };
    UO_POOL *pool = pool_new(2, 0, 1, UO_SYNC_INLINE);
    UO_POOL_STATS base = stats(pool);
    atomic_int cleanups = 0;
    struct job *jobs = jobs_new(pool, N, T_HASH, OPS, 1);
    int fresh[N / 3], i, k = 0;

    ck_assert_ptr_nonnull(pool);
    ck_assert_ptr_nonnull(jobs);
    for (i = 0; i < N; i++) {
        jobs[i].cleanups = &cleanups;
        ck_assert_int_eq(job_step(&jobs[i]), ASYNC_PAUSE);
        if (i % 3 == 0) {
            abandon(&jobs[i]);
            fresh[k] = eventfd(0, EFD_NONBLOCK);
            ck_assert_int_ge(fresh[k], 0);
            k++;
        }
    }
    ck_assert(drive(jobs, N));
    ck_assert_jobs_ok(jobs, N);
    jobs_free(jobs, N);
    ck_assert(wait_live(pool, base.live_reqs, base.live_waiters));
    /* Finished jobs ran every operation; abandoned ones only their first. */
    ck_assert_int_eq(count(&cleanups), (N - N / 3) * OPS + N / 3);
    for (i = 0; i < k; i++) {
        ck_assert_msg(!readable(fresh[i], 0), "stray write to fd %d", fresh[i]);
        close(fresh[i]);
    }
    ck_assert_uint_eq(stats(pool).inflight, 0);
    uo_pool_free(pool);
}
END_TEST

/* ---- 9. outside a job ---------------------------------------------------------------------- */

START_TEST(sync_inline)
{
    UO_POOL *pool = pool_new(2, 0, 1, UO_SYNC_INLINE);
    UO_POOL_STATS st;
    struct task t;
    int off = -1;

    ck_assert_ptr_nonnull(pool);
    memset(&t, 0, sizeof(t));
    t.kind = T_HASH;
    t.seed = 42;
    t.iters = HASH_ITERS;
    ck_assert_int_eq(run_task(pool, &t, &off), 1);
    ck_assert(t.out == task_expected(&t));
    ck_assert_int_eq(off, 0);
    ck_assert(pthread_equal(t.thread, pthread_self()));
    st = stats(pool);
    ck_assert_uint_eq(st.inline_runs, 1);
    ck_assert_uint_eq(st.offloaded, 0);
    ck_assert_uint_eq(st.fallbacks, 0);
    ck_assert_uint_eq(st.workers, 0);   /* nothing needed a worker, so none was started */
    uo_pool_free(pool);
}
END_TEST

struct blocked_caller {
    UO_POOL *pool;
    struct gate *g;
    atomic_int returned;
    int rc, off;
    struct task t;
};

static void *blocked_caller_main(void *arg)
{
    struct blocked_caller *b = arg;

    memset(&b->t, 0, sizeof(b->t));
    b->t.kind = T_GATE;
    b->t.gate = b->g;
    b->t.seed = 99;
    b->t.iters = HASH_ITERS;
    b->rc = run_task(b->pool, &b->t, &b->off);
    atomic_store(&b->returned, 1);
    return NULL;
}

START_TEST(sync_offload)
{
    UO_POOL *pool = pool_new(2, 0, 1, UO_SYNC_OFFLOAD);
    struct blocked_caller b;
    UO_POOL_STATS st;
    struct gate g;
    pthread_t th;
    int i;

    ck_assert_ptr_nonnull(pool);
    gate_init(&g);
    memset(&b, 0, sizeof(b));
    b.pool = pool;
    b.g = &g;
    ck_assert_int_eq(pthread_create(&th, NULL, blocked_caller_main, &b), 0);
    ck_assert(wait_entered(&g, 1));
    /* The task is on a worker and the caller is still inside uo_req_run. */
    sleep_ms(20);
    ck_assert_int_eq(count(&b.returned), 0);
    gate_open(&g);
    pthread_join(th, NULL);
    ck_assert_int_eq(b.rc, 1);
    ck_assert(b.t.out == task_expected(&b.t));
    ck_assert_int_eq(b.off, 1);
    ck_assert(!pthread_equal(b.t.thread, th));

    /* And again from this thread, many times. */
    for (i = 0; i < 50; i++) {
        struct task t;
        int off = 0;

        memset(&t, 0, sizeof(t));
        t.kind = i % 2 ? T_INSTANT : T_HASH;
        t.seed = (uint64_t)i;
        t.iters = HASH_ITERS;
        ck_assert_int_eq(run_task(pool, &t, &off), 1);
        ck_assert(t.out == task_expected(&t));
        ck_assert_int_eq(off, 1);
        ck_assert(!pthread_equal(t.thread, pthread_self()));
    }
    st = stats(pool);
    ck_assert_uint_eq(st.offloaded, 51);
    ck_assert_uint_eq(st.inline_runs, 0);
    ck_assert_uint_eq(st.fallbacks, 0);
    ck_assert_uint_eq(st.pauses, 0);
    ck_assert_uint_eq(st.inflight, 0);
    uo_pool_free(pool);
}
END_TEST

/* A job without a wait ctx has nothing to pause on: it blocks on the worker like a sync caller. */
START_TEST(job_without_wait_ctx)
{
    UO_POOL *pool = pool_new(2, 0, 1, UO_SYNC_INLINE);
    struct job j;

    ck_assert_ptr_nonnull(pool);
    job_init(&j, pool, T_HASH, 2, 8);
    ck_assert_int_eq(job_step(&j), ASYNC_FINISH);
    ck_assert_int_eq(j.ret, 1);
    ck_assert_int_eq(j.offloaded_ops, 2);
    ck_assert_uint_eq(stats(pool).offloaded, 2);
    ck_assert_uint_eq(stats(pool).pauses, 0);
    uo_pool_free(pool);
}
END_TEST

/* ---- 10. queue saturation ------------------------------------------------------------------ */

START_TEST(queue_saturation)
{
    enum { NBUSY = 2, NMORE = 12 };
    UO_POOL *pool = pool_new(2, 4, 1, UO_SYNC_INLINE);
    UO_POOL_STATS st;
    atomic_int cleanups = 0;
    struct job busy[NBUSY], *more, *bulk;
    struct gate g;
    int i, queued = 0, fellback = 0;

    ck_assert_ptr_nonnull(pool);
    gate_init(&g);
    /* Both workers blocked in a task each: from now on only the queue's 4 slots can take work. */
    for (i = 0; i < NBUSY; i++) {
        job_init(&busy[i], pool, T_GATE, 1, (uint64_t)i);
        busy[i].gate = &g;
        busy[i].cleanups = &cleanups;
        busy[i].wctx = ASYNC_WAIT_CTX_new();
        ck_assert_int_eq(job_step(&busy[i]), ASYNC_PAUSE);
    }
    ck_assert(wait_entered(&g, NBUSY));
    more = jobs_new(pool, NMORE, T_HASH, 1, 300);
    ck_assert_ptr_nonnull(more);
    for (i = 0; i < NMORE; i++) {
        size_t n = 0;
        int rc;

        more[i].cleanups = &cleanups;
        rc = job_step(&more[i]);
        if (rc == ASYNC_PAUSE) {
            queued++;
        } else {
            /* No room: computed inline on the caller's thread, correctly, without pausing. */
            ck_assert_int_eq(rc, ASYNC_FINISH);
            ck_assert_int_eq(more[i].ret, 1);
            ck_assert_int_eq(more[i].offloaded_ops, 0);
            /* And leaves no fd behind that the application never saw announced. */
            ck_assert(ASYNC_WAIT_CTX_get_all_fds(more[i].wctx, NULL, &n));
            ck_assert_msg(n == 0, "job %d ran inline but left %zu fds in its wait ctx", i, n);
            fellback++;
        }
    }
    ck_assert_int_eq(queued, 4);
    ck_assert_int_eq(fellback, NMORE - 4);
    st = stats(pool);
    ck_assert_uint_eq(st.fallbacks, (uint64_t)fellback);
    ck_assert_uint_eq(st.offloaded, NBUSY + 4);
    gate_open(&g);
    ck_assert(drive(busy, NBUSY));
    ck_assert(drive(more, NMORE));
    ck_assert_jobs_ok(busy, NBUSY);
    for (i = 0; i < NMORE; i++) {
        ck_assert(more[i].finished);
        ck_assert_int_eq(more[i].ret, 1);
        ck_assert_int_eq(more[i].bad_fds, 0);
    }
    ck_assert_int_eq(count(&cleanups), NBUSY + NMORE);
    jobs_free(more, NMORE);
    for (i = 0; i < NBUSY; i++)
        ASYNC_WAIT_CTX_free(busy[i].wctx);

    /* Many jobs against 4 slots: whatever is offloaded or not, every one completes correctly. */
    bulk = jobs_new(pool, 150, T_HASH, 3, 7);
    ck_assert_ptr_nonnull(bulk);
    ck_assert(drive(bulk, 150));
    for (i = 0; i < 150; i++) {
        ck_assert_msg(bulk[i].finished && bulk[i].ret == 1 && bulk[i].ok_ops == 3, "job %d", i);
        ck_assert_int_eq(bulk[i].bad_fds, 0);
        /* A job pauses exactly when one of its operations was offloaded. */
        ck_assert_int_eq(bulk[i].pauses >= 1, bulk[i].offloaded_ops >= 1);
    }
    jobs_free(bulk, 150);
    st = stats(pool);
    ck_assert_uint_eq(st.offloaded + st.fallbacks, NBUSY + NMORE + 150 * 3);
    ck_assert_uint_eq(st.inflight, 0);
    uo_pool_free(pool);
}
END_TEST

/* ---- 11. errors ---------------------------------------------------------------------------- */

static int error_job(void *arg)
{
    UO_POOL *pool = *(UO_POOL **)arg;
    struct task t;
    const char *data = NULL, *file = NULL;
    unsigned long code;
    int off = 0, line = 0, flags = 0;

    ERR_clear_error();
    memset(&t, 0, sizeof(t));
    t.kind = T_ERROR;
    t.seed = 1234;
    if (run_task(pool, &t, &off) != 0 || !off)
        return -1;
    if (pthread_equal(t.thread, pthread_self()))
        return -2;
    code = ERR_get_error_all(&file, &line, NULL, &data, &flags);
    if (ERR_GET_LIB(code) != ERR_LIB_USER || ERR_GET_REASON(code) != 42)
        return -3;
    if ((flags & ERR_TXT_STRING) == 0 || data == NULL || strcmp(data, "task 1234 failed") != 0)
        return -4;
    if (file == NULL || strstr(file, "test_offload.c") == NULL || line <= 0)
        return -5;
    if (ERR_get_error() != 0)
        return -6;
    return 1;
}

START_TEST(errors_cross_to_the_caller)
{
    UO_POOL *pool = pool_new(1, 0, 1, UO_SYNC_OFFLOAD);
    ASYNC_WAIT_CTX *wctx = ASYNC_WAIT_CTX_new();
    ASYNC_JOB *job = NULL;
    struct task t;
    unsigned long code;
    int ret = 0, rc, off = 0, i, pauses = 0;

    ck_assert_ptr_nonnull(pool);
    /* Inside a job. */
    while ((rc = ASYNC_start_job(&job, wctx, &ret, error_job, &pool, sizeof(pool))) == ASYNC_PAUSE) {
        OSSL_ASYNC_FD fd;
        size_t n = 1;

        pauses++;
        ck_assert(ASYNC_WAIT_CTX_get_all_fds(wctx, &fd, &n));
        ck_assert(readable(fd, WAIT_MS));
    }
    ck_assert_int_eq(rc, ASYNC_FINISH);
    ck_assert_int_ge(pauses, 1);
    ck_assert_int_eq(ret, 1);

    /* Outside a job, offloaded with the caller blocked. */
    ERR_clear_error();
    memset(&t, 0, sizeof(t));
    t.kind = T_ERROR;
    t.seed = 5;
    ck_assert_int_eq(run_task(pool, &t, &off), 0);
    ck_assert_int_eq(off, 1);
    code = ERR_get_error();
    ck_assert_int_eq(ERR_GET_LIB(code), ERR_LIB_USER);
    ck_assert_int_eq(ERR_GET_REASON(code), 42);
    ck_assert_uint_eq(ERR_get_error(), 0);

    /* More errors than a request keeps: the first ones, the cause, in order. */
    memset(&t, 0, sizeof(t));
    t.kind = T_MANY_ERRORS;
    ck_assert_int_eq(run_task(pool, &t, &off), 0);
    for (i = 1; (code = ERR_get_error()) != 0; i++) {
        ck_assert_int_eq(ERR_GET_LIB(code), ERR_LIB_USER);
        ck_assert_int_eq(ERR_GET_REASON(code), i);
    }
    ck_assert_int_ge(i, 2);

    /* Nothing stays behind on the (only) worker's queue for the next task. */
    memset(&t, 0, sizeof(t));
    t.kind = T_CLEAN_QUEUE;
    ck_assert_int_eq(run_task(pool, &t, &off), 1);
    ck_assert_int_eq(off, 1);
    ck_assert_uint_eq(ERR_peek_error(), 0);
    ASYNC_WAIT_CTX_free(wctx);
    uo_pool_free(pool);
}
END_TEST

START_TEST(errors_inline)
{
    UO_POOL *pool = pool_new(1, 0, 1, UO_SYNC_INLINE);
    struct task t;
    unsigned long code;
    int off = 1;

    ck_assert_ptr_nonnull(pool);
    ERR_clear_error();
    memset(&t, 0, sizeof(t));
    t.kind = T_ERROR;
    ck_assert_int_eq(run_task(pool, &t, &off), 0);
    ck_assert_int_eq(off, 0);
    code = ERR_get_error();
    ck_assert_int_eq(ERR_GET_LIB(code), ERR_LIB_USER);
    ck_assert_int_eq(ERR_GET_REASON(code), 42);
    ck_assert_uint_eq(ERR_get_error(), 0);
    uo_pool_free(pool);
}
END_TEST

/* ---- 12. payload cleanup ------------------------------------------------------------------- */

START_TEST(payload_cleanup_once)
{
    UO_POOL *inl = pool_new(2, 0, 1, UO_SYNC_INLINE);
    UO_POOL *off = pool_new(2, 0, 1, UO_SYNC_OFFLOAD);
    UO_POOL_STATS base = stats(inl);
    atomic_int cleanups = 0;
    unsigned char *p;
    struct task t;
    struct job j;
    UO_REQ *req;
    size_t i;

    ck_assert_ptr_nonnull(inl);
    ck_assert_ptr_nonnull(off);
    /* Never run: freed by its owner. Its payload came zeroed and aligned. */
    req = uo_req_new(inl, TEST_KIND, task_fn, task_cleanup, 200);
    ck_assert_ptr_nonnull(req);
    p = uo_req_payload(req);
    ck_assert_uint_eq((uintptr_t)p % 16, 0);
    for (i = 0; i < 200; i++)
        ck_assert_uint_eq(p[i], 0);
    ((struct task *)(void *)p)->cleanups = &cleanups;
    uo_req_free(req);
    ck_assert_int_eq(count(&cleanups), 1);

    memset(&t, 0, sizeof(t));
    t.kind = T_HASH;
    t.iters = 10;
    t.cleanups = &cleanups;
    ck_assert_int_eq(run_task(inl, &t, NULL), 1);       /* inline */
    ck_assert_int_eq(count(&cleanups), 2);
    ck_assert_int_eq(run_task(off, &t, NULL), 1);       /* offloaded, caller blocked */
    /* The worker may hold the last reference a little longer: the cleanup runs where it is dropped. */
    ck_assert(wait_live(off, base.live_reqs, base.live_waiters));
    ck_assert_int_eq(count(&cleanups), 3);

    job_init(&j, inl, T_HASH, 4, 1);                     /* in a job */
    j.cleanups = &cleanups;
    j.wctx = ASYNC_WAIT_CTX_new();
    ck_assert(drive(&j, 1));
    ck_assert_jobs_ok(&j, 1);
    ASYNC_WAIT_CTX_free(j.wctx);
    ck_assert(wait_live(inl, base.live_reqs, base.live_waiters));
    ck_assert_int_eq(count(&cleanups), 7);
    uo_pool_free(inl);
    uo_pool_free(off);
}
END_TEST

/* ---- 13. pool freed with work in flight ---------------------------------------------------- */

static void *pool_free_thread(void *pool)
{
    uo_pool_free(pool);
    return NULL;
}

START_TEST(pool_free_with_blocked_callers)
{
    enum { NT = 6 };
    UO_POOL *pool = pool_new(2, 0, 1, UO_SYNC_OFFLOAD);
    UO_POOL *observer = pool_new(1, 0, 1, UO_SYNC_INLINE);  /* reads the live counts afterwards */
    UO_POOL_STATS base = stats(observer);
    struct blocked_caller b[NT];
    pthread_t th[NT], freer;
    struct gate g;
    int i;

    ck_assert_ptr_nonnull(pool);
    gate_init(&g);
    for (i = 0; i < NT; i++) {
        memset(&b[i], 0, sizeof(b[i]));
        b[i].pool = pool;
        b[i].g = &g;
        ck_assert_int_eq(pthread_create(&th[i], NULL, blocked_caller_main, &b[i]), 0);
    }
    /* All six queued or running (two running, blocked at the gate). */
    for (i = 0; i < WAIT_MS && stats(pool).offloaded < NT; i++)
        sleep_ms(1);
    ck_assert_uint_eq(stats(pool).offloaded, NT);
    ck_assert(wait_entered(&g, 2));
    ck_assert_int_eq(pthread_create(&freer, NULL, pool_free_thread, pool), 0);
    sleep_ms(20);   /* likely inside uo_pool_free by now; correctness does not depend on it */
    gate_open(&g);
    pthread_join(freer, NULL);
    for (i = 0; i < NT; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(b[i].rc, 1);
        ck_assert_int_eq(b[i].off, 1);
        ck_assert(b[i].t.out == task_expected(&b[i].t));
    }
    ck_assert_int_eq(count(&g.entered), NT);
    ck_assert(wait_live(observer, base.live_reqs, base.live_waiters));
    uo_pool_free(observer);
}
END_TEST

START_TEST(pool_free_with_paused_jobs)
{
    enum { N = 10 };
    UO_POOL *pool = pool_new(2, 0, 1, UO_SYNC_INLINE);
    UO_POOL *observer = pool_new(1, 0, 1, UO_SYNC_INLINE);
    UO_POOL_STATS base = stats(observer);
    struct job jobs[N];
    pthread_t freer;
    struct gate g;
    int i;

    ck_assert_ptr_nonnull(pool);
    gate_init(&g);
    for (i = 0; i < N; i++) {
        job_init(&jobs[i], pool, T_GATE, 1, (uint64_t)i);
        jobs[i].gate = &g;
        jobs[i].wctx = ASYNC_WAIT_CTX_new();
        ck_assert_int_eq(job_step(&jobs[i]), ASYNC_PAUSE);
    }
    ck_assert(wait_entered(&g, 2));
    ck_assert_int_eq(pthread_create(&freer, NULL, pool_free_thread, pool), 0);
    sleep_ms(20);
    gate_open(&g);
    pthread_join(freer, NULL);
    /* Every queued task ran before the workers stopped: all fds are readable now. */
    for (i = 0; i < N; i++)
        ck_assert_msg(readable(jobs[i].fd, 0), "job %d was not completed by uo_pool_free", i);
    ck_assert(drive(jobs, N));
    ck_assert_jobs_ok(jobs, N);
    for (i = 0; i < N; i++)
        ASYNC_WAIT_CTX_free(jobs[i].wctx);
    ck_assert(wait_live(observer, base.live_reqs, base.live_waiters));
    uo_pool_free(observer);
}
END_TEST

/* ---- exit() with requests in flight ---------------------------------------------------------- */

/*
 * Stands for OpenSSL's atexit cleanup: registered before the pool's first use, as libcrypto's is,
 * so the pool's exit hook runs before it. No task may be running then, nor start after.
 */
static void exit_teardown(void)
{
    if (atomic_load(&exit_tasks_running) != 0)
        exit_report('R');
    atomic_store(&exit_torn_down, 1);
    /* A worker still alive now would start or finish a task meanwhile, and report it. */
    sleep_ms(30);
}

/* The jobs left paused at exit(): still in use when the leak checkers look, so kept reachable. */
static struct job *volatile exit_jobs;

static int exit_child(int report_fd)
{
    enum { N = 64 };
    struct job *jobs;
    UO_POOL *pool;
    int i;

    exit_report_fd = report_fd;
    atexit(exit_teardown);
    pool = pool_new(2, 0, 1, UO_SYNC_INLINE);
    jobs = pool != NULL ? jobs_new(pool, N, T_EXITING, 1, 1) : NULL;
    if (jobs == NULL)
        return 2;
    exit_jobs = jobs;
    for (i = 0; i < N; i++) {
        jobs[i].iters = 20 * HASH_ITERS;
        if (job_step(&jobs[i]) != ASYNC_PAUSE)
            return 3;
    }
    /* One running, the rest queued: exit without a word to the pool. */
    for (i = 0; i < WAIT_MS && atomic_load(&exit_tasks_running) == 0; i++)
        sleep_ms(1);
    exit(0);
}

START_TEST(exit_with_requests_in_flight)
{
    int round;

    for (round = 0; round < 4; round++) {
        char what[16];
        int p[2], status;
        ssize_t n;
        pid_t pid;

        ck_assert_int_eq(pipe(p), 0);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            close(p[0]);
            _exit(exit_child(p[1]));
        }
        close(p[1]);
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_msg(WIFEXITED(status), "the child died by signal %d", WTERMSIG(status));
        ck_assert_int_eq(WEXITSTATUS(status), 0);
        n = read(p[0], what, sizeof(what));
        close(p[0]);
        ck_assert_msg(n == 0, "a task ran %s the process's cleanup",
                      n > 0 && what[0] == 'R' ? "during" : "after");
    }
}
END_TEST

/* ---- 14. no worker thread can be created --------------------------------------------------- */

static void *noop_thread(void *arg)
{
    return arg;
}

/* In a fresh child: an unprivileged user with RLIMIT_NPROC 0 (root ignores the limit). */
static int forbid_threads(void)
{
    struct rlimit r = { 0, 0 };
    pthread_t th;

    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
        return 0;
    if (setrlimit(RLIMIT_NPROC, &r) != 0)
        return 0;
    if (pthread_create(&th, NULL, noop_thread, NULL) == 0) {
        pthread_join(th, NULL);
        return 0;
    }
    return 1;
}

static const char *threads_cannot_be_forbidden(void)
{
    int status;
    pid_t pid = fork();

    if (pid < 0)
        return "fork failed";
    if (pid == 0)
        _exit(forbid_threads() ? 0 : 1);
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return "neither setuid+RLIMIT_NPROC nor RLIMIT_NPROC alone makes pthread_create fail here";
    return NULL;
}

static int no_threads_child(void)
{
    UO_POOL *pool = pool_new(2, 0, 1, UO_SYNC_OFFLOAD);
    UO_POOL_STATS st;
    struct task t;
    struct job j;
    int off = 1;

    if (pool == NULL)
        return 2;
    job_init(&j, pool, T_HASH, 1, 4);
    j.wctx = ASYNC_WAIT_CTX_new();
    /* Nothing can take it: it runs inline in the job, with no pause and no fd. */
    if (job_step(&j) != ASYNC_FINISH || j.ret != 1 || j.offloaded_ops != 0)
        return 3;
    st = stats(pool);
    if (st.fallbacks != 1 || st.offloaded != 0 || st.workers != 0)
        return 4;
    memset(&t, 0, sizeof(t));
    t.kind = T_HASH;
    t.iters = HASH_ITERS;
    if (run_task(pool, &t, &off) != 1 || off != 0 || t.out != task_expected(&t))
        return 5;
    st = stats(pool);
    if (st.fallbacks != 2 || st.inline_runs != 0 || st.inflight != 0)
        return 6;
    ASYNC_WAIT_CTX_free(j.wctx);
    uo_pool_free(pool);
    return 0;
}

START_TEST(no_worker_threads)
{
    int status;
    pid_t pid = fork();

    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        _exit(forbid_threads() ? no_threads_child() : 1);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status), "child died by signal %d", WTERMSIG(status));
    ck_assert_msg(WEXITSTATUS(status) == 0, "child failed with code %d", WEXITSTATUS(status));
}
END_TEST

/* ---- 12. coalesced notifications and worker priority ------------------------------------------ */

static UO_POOL *coalescing_pool(int use_uring, unsigned int coalesce_us)
{
    UO_POOL_CONFIG cfg;

    memset(&cfg, 0, sizeof(cfg));
    cfg.workers = 1;
    cfg.use_uring = use_uring;
    cfg.coalesce_us = coalesce_us;
    return uo_pool_new(&cfg);
}

/*
 * While more work is queued, one worker holds its finished requests' notifications and sends them
 * together: 16 jobs queued behind a gated first one reach their callers in one or two batches, not
 * 16. With coalesce_us = 0 each one goes out alone. Counted, not timed.
 */
START_TEST(coalesce_while_queued)
{
    int use_uring, hold;

    for (use_uring = 0; use_uring <= 1; use_uring++) {
        for (hold = 0; hold <= 1; hold++) {
            UO_POOL *pool = coalescing_pool(use_uring, hold ? 60000000u : 0);
            struct job *jobs = jobs_new(pool, 16, T_INSTANT, 1, 77);
            UO_POOL_STATS before, after;
            struct gate g;
            int i, which;

            ck_assert_ptr_nonnull(pool);
            ck_assert_ptr_nonnull(jobs);
            gate_init(&g);
            jobs[0].kind = T_GATE;
            jobs[0].gate = &g;
            before = stats(pool);
            for (i = 0; i < 16; i++) {
                ck_assert_int_eq(job_step(&jobs[i]), ASYNC_PAUSE);
                if (i == 0)
                    ck_assert(wait_entered(&g, 1)); /* the worker is inside job 0's request */
            }
            gate_open(&g);
            ck_assert(drive(jobs, 16));
            ck_assert_msg(jobs_bad(jobs, 16, &which) == NULL, "job %d: %s", which,
                          jobs_bad(jobs, 16, &which));
            after = stats(pool);
            ck_assert_uint_eq(after.notified - before.notified, 16);
            fprintf(stderr, "coalesce_while_queued: io_uring %d, coalesce %s: 16 notifications in "
                    "%llu batches\n", use_uring, hold ? "on" : "off",
                    (unsigned long long)(after.notify_batches - before.notify_batches));
            if (hold)
                ck_assert_uint_le(after.notify_batches - before.notify_batches, 2);
            else
                ck_assert_uint_eq(after.notify_batches - before.notify_batches, 16);
            jobs_free(jobs, 16);
            uo_pool_free(pool);
        }
    }
}
END_TEST

/*
 * A request with nothing queued behind it is announced at once, however long coalesce_us: one job
 * doing 20 requests one after the other gets 20 batches of one. (Were any held, drive() would wait
 * 60 s for it and fail at WAIT_MS.)
 */
START_TEST(coalesce_never_holds_a_lone_request)
{
    int use_uring;

    for (use_uring = 0; use_uring <= 1; use_uring++) {
        UO_POOL *pool = coalescing_pool(use_uring, 60000000u);
        struct job *jobs = jobs_new(pool, 1, T_HASH, 20, 5);
        UO_POOL_STATS before, after;
        int which;

        ck_assert_ptr_nonnull(jobs);
        before = stats(pool);
        ck_assert(drive(jobs, 1));
        ck_assert_msg(jobs_bad(jobs, 1, &which) == NULL, "%s", jobs_bad(jobs, 1, &which));
        ck_assert_int_ge(jobs[0].pauses, 20);
        after = stats(pool);
        ck_assert_uint_eq(after.notified - before.notified, 20);
        ck_assert_uint_eq(after.notify_batches - before.notify_batches, 20);
        jobs_free(jobs, 1);
        uo_pool_free(pool);
    }
}
END_TEST

#define LONG_KIND 9

/*
 * A worker sends what it holds before it starts a request that it knows takes longer than the
 * hold allows: requests A and B finish while long request C waits in the queue, and their callers
 * hear of it while C still runs (C is held at a gate until they have).
 */
START_TEST(coalesce_flushes_before_a_long_request)
{
    int use_uring;

    for (use_uring = 0; use_uring <= 1; use_uring++) {
        UO_POOL *pool = coalescing_pool(use_uring, 50000); /* 50 ms */
        struct job *jobs = jobs_new(pool, 4, T_INSTANT, 1, 900);
        struct gate teach, ga, gc;
        int which;

        ck_assert_ptr_nonnull(jobs);
        gate_init(&teach);
        gate_init(&ga);
        gate_init(&gc);
        /* jobs[3] teaches the worker that LONG_KIND takes about 200 ms. */
        jobs[3].kind = T_GATE;
        jobs[3].rkind = LONG_KIND;
        jobs[3].gate = &teach;
        ck_assert_int_eq(job_step(&jobs[3]), ASYNC_PAUSE);
        ck_assert(wait_entered(&teach, 1));
        sleep_ms(200);
        gate_open(&teach);
        ck_assert(drive(&jobs[3], 1));

        jobs[0].kind = T_GATE;   /* A, held at a gate until B and C are queued */
        jobs[0].gate = &ga;
        jobs[2].kind = T_GATE;   /* C, long */
        jobs[2].rkind = LONG_KIND;
        jobs[2].gate = &gc;
        ck_assert_int_eq(job_step(&jobs[0]), ASYNC_PAUSE);
        ck_assert(wait_entered(&ga, 1));
        ck_assert_int_eq(job_step(&jobs[1]), ASYNC_PAUSE); /* B */
        ck_assert_int_eq(job_step(&jobs[2]), ASYNC_PAUSE); /* C */
        gate_open(&ga);
        ck_assert(wait_entered(&gc, 1));
        ck_assert_msg(readable(jobs[0].fd, WAIT_MS), "A was held behind a long request");
        ck_assert_msg(readable(jobs[1].fd, WAIT_MS), "B was held behind a long request");
        gate_open(&gc);
        ck_assert(drive(jobs, 3));
        ck_assert_msg(jobs_bad(jobs, 4, &which) == NULL, "job %d: %s", which,
                      jobs_bad(jobs, 4, &which));
        jobs_free(jobs, 4);
        uo_pool_free(pool);
    }
}
END_TEST

/*
 * inline_below_us: once a worker has measured a kind faster than the threshold, requests of that
 * kind run on the caller's thread, inside a job too, without a pause; a kind measured slower keeps
 * going to the workers, and so does a kind never measured.
 */
START_TEST(inline_below_measured_cost)
{
    UO_POOL_CONFIG cfg;
    UO_POOL *pool;
    struct job *jobs;
    struct gate teach;
    UO_POOL_STATS before, after;
    int i, which;

    memset(&cfg, 0, sizeof(cfg));
    cfg.workers = 1;
    cfg.use_uring = 1;
    cfg.inline_below_us = 50000; /* 50 ms: a hash is far below, a 200 ms gate far above */
    pool = uo_pool_new(&cfg);
    jobs = jobs_new(pool, 4, T_HASH, 1, 40);
    ck_assert_ptr_nonnull(jobs);
    gate_init(&teach);

    /* Never measured: offloaded, and measured. */
    ck_assert(drive(&jobs[0], 1));
    ck_assert_int_eq(jobs[0].offloaded_ops, 1);
    ck_assert_int_ge(jobs[0].pauses, 1);

    /* Measured cheap: inline from now on, no pause. */
    before = stats(pool);
    jobs[1].nops = 3;
    ck_assert_int_eq(job_step(&jobs[1]), ASYNC_FINISH);
    ck_assert_int_eq(jobs[1].ok_ops, 3);
    ck_assert_int_eq(jobs[1].offloaded_ops, 0);
    ck_assert_int_eq(jobs[1].pauses, 0);
    after = stats(pool);
    ck_assert_uint_eq(after.inline_runs - before.inline_runs, 3);
    ck_assert_uint_eq(after.offloaded, before.offloaded);

    /* Measured dear (held 200 ms at a gate): still offloaded the next time. */
    jobs[2].kind = T_GATE;
    jobs[2].rkind = LONG_KIND;
    jobs[2].gate = &teach;
    ck_assert_int_eq(job_step(&jobs[2]), ASYNC_PAUSE);
    ck_assert(wait_entered(&teach, 1));
    sleep_ms(200);
    gate_open(&teach);
    ck_assert(drive(&jobs[2], 1));
    jobs[3].kind = T_INSTANT;
    jobs[3].rkind = LONG_KIND;
    ck_assert(drive(&jobs[3], 1));
    ck_assert_int_eq(jobs[3].offloaded_ops, 1);
    ck_assert_int_ge(jobs[3].pauses, 1);
    for (i = 0; i < 4; i++) /* job 1 ran inline: no pause, nothing offloaded, by design */
        if (i != 1)
            ck_assert_msg(jobs_bad(&jobs[i], 1, &which) == NULL, "job %d: %s", i,
                          jobs_bad(&jobs[i], 1, &which));
    ck_assert_int_eq(jobs[1].ret, 1);
    jobs_free(jobs, 4);
    uo_pool_free(pool);
}
END_TEST

/*
 * Issue 12: a kind judged cheap is not inlined for good: one request in UO_REMEASURE_EVERY still
 * goes to a worker and is measured again.
 */
START_TEST(inline_kind_measured_again)
{
    UO_POOL_CONFIG cfg;
    UO_POOL *pool;
    struct job *jobs;
    UO_POOL_STATS before, after;

    memset(&cfg, 0, sizeof(cfg));
    cfg.workers = 1;
    cfg.use_uring = 1;
    cfg.inline_below_us = 50000;
    pool = uo_pool_new(&cfg);
    jobs = jobs_new(pool, 2, T_HASH, 1, 60);
    ck_assert_ptr_nonnull(jobs);
    ck_assert(drive(&jobs[0], 1)); /* measured */
    before = stats(pool);
    jobs[1].nops = 2 * UO_REMEASURE_EVERY;
    ck_assert(drive(&jobs[1], 1));
    after = stats(pool);
    ck_assert_int_eq(jobs[1].ok_ops, 2 * UO_REMEASURE_EVERY);
    ck_assert_uint_eq(after.offloaded - before.offloaded, 2);
    ck_assert_uint_eq(after.inline_runs - before.inline_runs, 2 * UO_REMEASURE_EVERY - 2);
    jobs_free(jobs, 2);
    uo_pool_free(pool);
}
END_TEST

static int priority_set(pid_t tid, int idle, int nice)
{
    if (idle)
        return sched_getscheduler(tid) == SCHED_IDLE;
    errno = 0;
    return getpriority(PRIO_PROCESS, (id_t)tid) == nice && errno == 0;
}

/* worker_priority: the workers run at the nice value asked, or under SCHED_IDLE. */
START_TEST(worker_priority)
{
    int idle;

    for (idle = 0; idle <= 1; idle++) {
        UO_POOL_CONFIG cfg;
        UO_POOL *pool;
        struct job *jobs;
        int tids[8];
        int i, n, which;

        memset(&cfg, 0, sizeof(cfg));
        cfg.workers = 2;
        cfg.use_uring = 1;
        cfg.worker_nice = idle ? 0 : 7;
        cfg.worker_idle = idle;
        pool = uo_pool_new(&cfg);
        jobs = jobs_new(pool, 4, T_HASH, 2, 3);
        ck_assert_ptr_nonnull(jobs);
        ck_assert(drive(jobs, 4));
        ck_assert_msg(jobs_bad(jobs, 4, &which) == NULL, "%s", jobs_bad(jobs, 4, &which));
        n = uot_worker_threads(tids, 8);
        ck_assert_int_eq(n, 2);
        for (i = 0; i < n; i++) {
            int ms;

            /*
             * A worker sets its priority first thing, but one that has not run yet (its sibling
             * did all four jobs) has not set it yet: wait for it, up to the usual deadline.
             */
            for (ms = 0; ms < WAIT_MS && !priority_set(tids[i], idle, 7); ms++)
                sleep_ms(1);
            if (idle) {
                ck_assert_int_eq(sched_getscheduler(tids[i]), SCHED_IDLE);
            } else {
                errno = 0;
                ck_assert_int_eq(getpriority(PRIO_PROCESS, (id_t)tids[i]), 7);
                ck_assert_int_eq(errno, 0);
                ck_assert_int_eq(sched_getscheduler(tids[i]), SCHED_OTHER);
            }
        }
        /* The caller's own priority is untouched. */
        ck_assert_int_eq(getpriority(PRIO_PROCESS, 0), 0);
        ck_assert_int_eq(sched_getscheduler(0), SCHED_OTHER);
        jobs_free(jobs, 4);
        uo_pool_free(pool);
    }
}
END_TEST

/*
 * Issue 12: jobs paused when the process forks, resumed in the child. The child must neither block
 * nor read the parent's eventfds: a request still running in the parent fails at once in the
 * child, one the parent's worker had finished before the fork returns its result, and the
 * parent still gets both wake-ups and finishes both jobs.
 */
static int child_resumes(struct job *running, struct job *finished)
{
    alarm(10); /* a hang fails the test instead of the run */
    if (job_step(running) != ASYNC_FINISH || running->ret != 0 || running->ok_ops != 0)
        return 31;
    if (job_step(finished) != ASYNC_FINISH || finished->ret != 1 || finished->ok_ops != 1)
        return 32;
    /* The parent's fds were taken out of the inherited wait ctxs, not read. */
    if (!ASYNC_WAIT_CTX_get_all_fds(running->wctx, NULL, &(size_t){ 0 }))
        return 33;
    return 0;
}

START_TEST(paused_across_fork)
{
    UO_POOL *pool = pool_new(2, 0, 1, UO_SYNC_INLINE);
    struct job run, fin;
    struct gate g;
    int status, i;
    pid_t pid;

    ck_assert_ptr_nonnull(pool);
    gate_init(&g);
    job_init(&run, pool, T_GATE, 1, 3);
    run.gate = &g;
    run.wctx = ASYNC_WAIT_CTX_new();
    job_init(&fin, pool, T_HASH, 1, 4);
    fin.wctx = ASYNC_WAIT_CTX_new();
    ck_assert_int_eq(job_step(&run), ASYNC_PAUSE);
    ck_assert(wait_entered(&g, 1));
    ck_assert_int_eq(job_step(&fin), ASYNC_PAUSE);
    /* fin's request done and announced, its job not yet resumed. */
    ck_assert(readable(fin.fd, WAIT_MS));

    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        _exit(child_resumes(&run, &fin));
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child: %s %d",
                  WIFEXITED(status) ? "exit" : "signal",
                  WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));

    /* The child took no wake-up of the parent's. */
    ck_assert(readable(fin.fd, 0));
    gate_open(&g);
    ck_assert(readable(run.fd, WAIT_MS));
    for (i = 0; i < 100 && !(run.finished && fin.finished); i++) {
        if (!run.finished)
            job_step(&run);
        if (!fin.finished)
            job_step(&fin);
    }
    ck_assert_jobs_ok(&run, 1);
    ck_assert_jobs_ok(&fin, 1);
    ASYNC_WAIT_CTX_free(run.wctx);
    ASYNC_WAIT_CTX_free(fin.wctx);
    uo_pool_free(pool);
}
END_TEST

/* The calling thread's CPU time, in microseconds. */
static long thread_cpu_us(void)
{
    struct rusage ru;

    getrusage(RUSAGE_THREAD, &ru);
    return ru.ru_utime.tv_sec * 1000000L + ru.ru_utime.tv_usec + ru.ru_stime.tv_sec * 1000000L
           + ru.ru_stime.tv_usec;
}

/*
 * Issue 12: the callback takes a lock that the thread freeing its wait ctx holds (an application
 * that frees a connection under its table's lock). The free must not wait for that callback for
 * ever, nor burn a CPU meanwhile; once the lock goes, the callback finishes, and nothing leaks.
 */
START_TEST(callback_blocked_on_freeing_thread)
{
    UO_POOL *pool = pool_new(1, 0, 1, UO_SYNC_INLINE);
    UO_POOL_STATS base = stats(pool);
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    struct cbstate c;
    struct gate g;
    struct job j;
    long cpu;
    int i;

    ck_assert_ptr_nonnull(pool);
    gate_init(&g);
    job_init(&j, pool, T_GATE, 1, 5);
    j.gate = &g;
    j.wctx = ASYNC_WAIT_CTX_new();
    cbstate_init(&c, j.wctx);
    c.lock = &lock;
    pthread_mutex_lock(&lock);
    ck_assert_int_eq(job_step(&j), ASYNC_PAUSE);
    gate_open(&g);
    ck_assert(sem_wait_ms(&c.fired, WAIT_MS));
    cpu = thread_cpu_us();
    abandon(&j); /* would deadlock if the free waited for the callback */
    cpu = thread_cpu_us() - cpu;
    ck_assert_int_eq(count(&c.returned), 0);
    pthread_mutex_unlock(&lock);
    for (i = 0; i < WAIT_MS && count(&c.returned) == 0; i++)
        sleep_ms(1);
    ck_assert_int_eq(count(&c.returned), 1);
    /* The wait is asleep, bounded by UO_CB_WAIT_NS (200 ms): a spin would take about all of it. */
    ck_assert_msg(cpu < 10000, "freeing the wait ctx took %ld us of CPU while it waited", cpu);
    ck_assert(wait_live(pool, base.live_reqs, base.live_waiters));
    sem_destroy(&c.fired);
    uo_pool_free(pool);
}
END_TEST

/* Issue 12: a callback that frees its own wait ctx: the worker must not wait for itself. */
START_TEST(callback_frees_own_wait_ctx)
{
    UO_POOL *pool = pool_new(1, 0, 1, UO_SYNC_INLINE);
    UO_POOL_STATS base = stats(pool);
    struct cbstate c;
    struct job j, after;
    struct gate g;
    int i;

    ck_assert_ptr_nonnull(pool);
    gate_init(&g);
    job_init(&j, pool, T_GATE, 1, 6);
    j.gate = &g; /* the callback comes after the job paused, as libssl's would */
    j.wctx = ASYNC_WAIT_CTX_new();
    cbstate_init(&c, j.wctx);
    c.free_self = 1;
    ck_assert_int_eq(job_step(&j), ASYNC_PAUSE);
    gate_open(&g);
    ck_assert(sem_wait_ms(&c.fired, WAIT_MS));
    for (i = 0; i < WAIT_MS && count(&c.returned) == 0; i++)
        sleep_ms(1);
    ck_assert_int_eq(count(&c.returned), 1);
    /* The job can never resume now: keep it for the suite's teardown, as abandon() does. */
    abandoned_jobs[n_abandoned++] = j.job;
    ck_assert(wait_live(pool, base.live_reqs, base.live_waiters));
    /* The worker is free: the pool still runs work. */
    job_init(&after, pool, T_HASH, 2, 7);
    after.wctx = ASYNC_WAIT_CTX_new();
    ck_assert(drive(&after, 1));
    ck_assert_jobs_ok(&after, 1);
    ASYNC_WAIT_CTX_free(after.wctx);
    sem_destroy(&c.fired);
    uo_pool_free(pool);
}
END_TEST

/* ---- batches ------------------------------------------------------------------------------- */

#define BATCH_KIND_A 11
#define BATCH_KIND_B 12
#define BAD_SEED 0xbadULL   /* a batch leaves this lane undone: it must run alone */

/* What the batch function saw, for the assertions. */
static atomic_int batch_calls;
static atomic_int batch_sizes[UO_MAX_BATCH + 1];
static atomic_int batch_mixed;   /* a call with two kinds in it */
static atomic_int batch_delay_ms; /* makes a batch call dear */

static void batch_fn(void *const payloads[], int done[], unsigned int n)
{
    unsigned int i;

    atomic_fetch_add(&batch_calls, 1);
    if (atomic_load(&batch_delay_ms) > 0)
        sleep_ms(atomic_load(&batch_delay_ms));
    atomic_fetch_add(&batch_sizes[n], 1);
    for (i = 0; i < n; i++) {
        struct task *t = payloads[i];

        if (t->rkind != ((struct task *)payloads[0])->rkind)
            atomic_store(&batch_mixed, 1);
        t->thread = pthread_self();
        if (t->seed == BAD_SEED) {
            /* Left on the error queue on purpose: the library must not let it reach anyone. */
            ERR_raise(ERR_LIB_USER, 99);
            done[i] = 0;
            continue;
        }
        t->out = mix(t->seed, t->iters);
        done[i] = 1;
    }
}

struct batch_caller {
    UO_POOL *pool;
    struct task t;
    int rc;
    unsigned long err;
};

/* A caller outside any job, with sync_mode = offload: it blocks in uo_req_run. */
static void *batch_caller_main(void *arg)
{
    struct batch_caller *c = arg;
    UO_REQ *req = uo_req_new(c->pool, c->t.rkind, task_fn, task_cleanup, sizeof(c->t));

    if (req == NULL) {
        c->rc = -100;
        return NULL;
    }
    memcpy(uo_req_payload(req), &c->t, sizeof(c->t));
    uo_req_set_batch(req, batch_fn);
    c->rc = uo_req_run(req);
    memcpy(&c->t, uo_req_payload(req), sizeof(c->t));
    c->err = ERR_peek_error(); /* the first: anything the batch left would come before the task's */
    ERR_clear_error();
    uo_req_free(req);
    return NULL;
}

/*
 * One worker held at a gate while callers queue requests of two batchable kinds, interleaved. Once
 * the gate opens, the worker must hand each kind to the batch function in one call (a batch is
 * tried first, before its cost is known), never mixing kinds, and never leaving the other kind
 * behind. A lane the batch leaves undone runs alone: its task fails with its own error, and
 * nothing the batch left on the worker's error queue reaches any caller.
 */
START_TEST(batch_gathers_one_kind)
{
    enum { N = 8 };
    UO_POOL *pool = pool_new(1, 0, 1, UO_SYNC_OFFLOAD);
    struct batch_caller *c = calloc(N, sizeof(*c));
    struct blocked_caller b;
    pthread_t th[N], bt;
    UO_POOL_STATS st;
    struct gate g;
    int i;

    ck_assert_ptr_nonnull(pool);
    ck_assert_ptr_nonnull(c);
    atomic_store(&batch_calls, 0);
    for (i = 0; i <= UO_MAX_BATCH; i++)
        atomic_store(&batch_sizes[i], 0);
    atomic_store(&batch_mixed, 0);
    atomic_store(&batch_delay_ms, 0);
    gate_init(&g);
    memset(&b, 0, sizeof(b));
    b.pool = pool;
    b.g = &g;
    ck_assert_int_eq(pthread_create(&bt, NULL, blocked_caller_main, &b), 0);
    ck_assert(wait_entered(&g, 1));
    for (i = 0; i < N; i++) {
        c[i].pool = pool;
        c[i].t.kind = T_ERROR; /* what runs when the batch leaves the lane undone */
        c[i].t.rkind = i % 2 ? BATCH_KIND_B : BATCH_KIND_A;
        c[i].t.seed = i == 5 ? BAD_SEED : (uint64_t)i + 1;
        c[i].t.iters = HASH_ITERS;
        ck_assert_int_eq(pthread_create(&th[i], NULL, batch_caller_main, &c[i]), 0);
    }
    /* Every request queued behind the gate before the worker may take one. */
    for (i = 0; i < WAIT_MS && stats(pool).inflight < N + 1; i++)
        sleep_ms(1);
    ck_assert_uint_eq(stats(pool).inflight, N + 1);
    gate_open(&g);
    pthread_join(bt, NULL);
    for (i = 0; i < N; i++)
        pthread_join(th[i], NULL);

    for (i = 0; i < N; i++) {
        if (c[i].t.seed == BAD_SEED) {
            ck_assert_int_eq(c[i].rc, 0);
            ck_assert_int_eq(ERR_GET_REASON(c[i].err), 42); /* the task's own, not the batch's */
        } else {
            ck_assert_int_eq(c[i].rc, 1);
            ck_assert_uint_eq(c[i].err, 0);
            ck_assert(c[i].t.out == mix(c[i].t.seed, c[i].t.iters));
        }
    }
    ck_assert_int_eq(count(&batch_mixed), 0);
    ck_assert_int_eq(count(&batch_calls), 2);
    ck_assert_int_eq(count(&batch_sizes[N / 2]), 2);
    st = stats(pool);
    ck_assert_uint_eq(st.batches, 2);
    ck_assert_uint_eq(st.batched, N);
    ck_assert_uint_eq(st.offloaded, N + 1);
    ck_assert_uint_eq(st.inflight, 0);
    ck_assert(wait_live(pool, 0, 0));
    uo_pool_free(pool);
    free(c);
}
END_TEST

/* Lone requests, one after another, from this thread (sync_mode = offload): how many batch calls. */
static int lone_batches(UO_POOL *pool, int kind, int n)
{
    int i, calls0 = atomic_load(&batch_calls);

    for (i = 0; i < n; i++) {
        struct batch_caller c;

        memset(&c, 0, sizeof(c));
        c.pool = pool;
        c.t.kind = kind;
        c.t.rkind = BATCH_KIND_A;
        c.t.seed = (uint64_t)i + 1;
        c.t.iters = 10;
        batch_caller_main(&c);
        ck_assert_int_eq(c.rc, 1);
        ck_assert(c.t.out == mix(c.t.seed, c.t.iters));
    }
    return atomic_load(&batch_calls) - calls0;
}

/*
 * The worker batches a lone request only when its measurements say that is cheaper: with a batch
 * call 50 ms dear and a single run a few microseconds, only the first lone request (which measures
 * the batch) goes to the batch; with a batch call of microseconds and a single run of 20 ms, every
 * lone request but the one that measures the single path goes to the batch. Counted, not timed:
 * the two costs differ a thousandfold.
 */
START_TEST(batch_chosen_by_cost)
{
    UO_POOL *pool = pool_new(1, 0, 1, UO_SYNC_OFFLOAD);

    ck_assert_ptr_nonnull(pool);
    atomic_store(&batch_calls, 0);
    atomic_store(&batch_delay_ms, 50);
    ck_assert_int_eq(lone_batches(pool, T_HASH, 6), 1);
    uo_pool_free(pool);

    pool = pool_new(1, 0, 1, UO_SYNC_OFFLOAD);
    ck_assert_ptr_nonnull(pool);
    atomic_store(&batch_delay_ms, 0);
    ck_assert_int_eq(lone_batches(pool, T_SLOW, 6), 5);
    ck_assert_uint_eq(stats(pool).batched, 5);
    uo_pool_free(pool);
}
END_TEST

/* ---- suite --------------------------------------------------------------------------------- */

static void add(Suite *s, const char *name, const TTest *tests[], int n)
{
    TCase *tc = tcase_create(name);
    int i;

    tcase_set_timeout(tc, 120);
    for (i = 0; i < n; i++)
        tcase_add_test(tc, tests[i]);
    suite_add_tcase(s, tc);
}

#define ADD(s, name, ...)                                                      \
    do {                                                                       \
        const TTest *t_[] = { __VA_ARGS__ };                                   \
        add((s), (name), t_, (int)(sizeof(t_) / sizeof(t_[0])));               \
    } while (0)

int main(void)
{
    Suite *s = suite_create("offload");
    const char *why_not;
    SRunner *sr;
    int failed;

    ADD(s, "jobs", many_concurrent_jobs, spurious_resumes, stable_fd, pause_at_least_once,
        pause_when_worker_done_first, pause_blocked);
    ADD(s, "callback", callback_mode, callback_outlives_no_job, callback_wait_ctx_freed_before,
        callback_wait_ctx_freed_during, callback_blocked_on_freeing_thread,
        callback_frees_own_wait_ctx);
    ADD(s, "fallback", fallback_env, fallback_config);
#ifdef UO_TSAN
    /*
     * TSan does not support threads started after a fork of a threaded process: the child's new
     * threads reuse the ids of the parent's, which it still counts as running ("dup thread with
     * used id"). Only the fork of a process with no worker running yet is checked under TSan.
     */
    printf("SKIPPED offload:fork:forked_child: TSan cannot start threads after a threaded fork\n");
    fflush(stdout);
    (void)forked_child;
    ADD(s, "fork", fork_before_first_use, paused_across_fork); /* no thread starts in its child */
#else
    ADD(s, "fork", forked_child, fork_before_first_use, paused_across_fork);
#endif
    ADD(s, "abandoned", wait_ctx_freed_task_running, wait_ctx_freed_task_done,
        wait_ctx_freed_under_load);
    ADD(s, "sync", sync_inline, sync_offload, job_without_wait_ctx);
    ADD(s, "saturation", queue_saturation);
    ADD(s, "errors", errors_cross_to_the_caller, errors_inline);
    ADD(s, "batches", batch_gathers_one_kind, batch_chosen_by_cost);
    ADD(s, "cleanup", payload_cleanup_once);
    ADD(s, "coalescing", coalesce_while_queued, coalesce_never_holds_a_lone_request,
        coalesce_flushes_before_a_long_request, inline_below_measured_cost,
        inline_kind_measured_again, worker_priority);
    ADD(s, "teardown", pool_free_with_blocked_callers, pool_free_with_paused_jobs,
        exit_with_requests_in_flight);
    why_not = threads_cannot_be_forbidden();
    if (why_not == NULL)
        ADD(s, "nothreads", no_worker_threads);
    else
        printf("SKIPPED offload:nothreads:no_worker_threads: %s\n", why_not);
    fflush(stdout); /* before Check forks: a child would print the buffer again */

    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

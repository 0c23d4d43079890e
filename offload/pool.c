/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pool.c - the worker pool: one bounded queue shared by the workers, and one io_uring per worker.
 *
 * A caller pushes a request under a mutex and wakes a worker only if one is asleep, so submitting to
 * a busy pool costs no syscall. A worker takes up to UO_MAX_BATCH requests of one kind at a time,
 * runs them (together, through the kind's batch function, when it has one and the worker measured
 * a batch to be cheaper), and announces each completion with an 8-byte write to the job's eventfd,
 * queued on its ring.
 *
 * Completions are coalesced: while more work is queued, a worker holds finished requests'
 * notifications back, for at most coalesce_us, and sends them together in one io_uring_submit. One
 * wake-up of the caller then delivers many completions, and the caller refills the queue in one go;
 * waking a thread asleep in poll() is the dearest part of an offloaded operation (tens of µs in a
 * VM, against 20-40 µs for an EC signature). The hold never delays a lone request: a worker that
 * finds the queue empty sends what it holds at once, and it sends before starting a request that
 * would push the oldest held notification past coalesce_us (each worker keeps the run time of
 * recent requests per kind to judge that).
 *
 * After its last request a worker polls the queue for a bounded time (UO_DEFAULT_SPIN_US) to spare
 * the next request a wake-up, yielding the CPU now and then so that the caller it has just notified
 * is not kept off it, then sleeps in io_uring_submit_and_wait on a read of its wake eventfd: an idle
 * pool uses no CPU.
 *
 * Without io_uring (ENOSYS, EPERM, kernel.io_uring_disabled, URINGPROV_NO_URING) the same loop uses
 * write() for completions (coalesced alike) and a blocking read() of the wake eventfd to sleep.
 *
 * Threads and rings belong to the process that made them: after fork() the engine is made anew on
 * first use and the parent's is left untouched (its threads do not exist in the child).
 *
 * At exit() the workers stop before OpenSSL's own atexit cleanup runs (our handler is registered
 * later, so it runs first): a worker still inside a task while libcrypto tears itself down crashes
 * the process. Requests still queued then are left undone; their jobs can never resume anyway.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <liburing.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/futex.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#include "offload_local.h"
#include "uo_log.h"

#define WAKE_TAG 1ULL          /* user_data of the wake read; waiters are 8-aligned pointers */
#define RING_ENTRIES 64
#define FORK_WAIT_NS 200000000ULL /* longest fork() waits for the workers' requests to finish */
#define MAX_HELD 32            /* notifications a worker holds back at most (half the ring) */

#define SCAN_WINDOW 256         /* queued requests a worker looks through to fill a batch */
#define PROBE_EVERY 64         /* lone requests between re-measurements of the single path */

struct uo_cost {
    unsigned int kind;
    int known;                 /* ns is measured */
    int batch_known;           /* batch_ns is measured */
    unsigned int updates;
    unsigned int lone;         /* lone requests sent to a batch, for PROBE_EVERY */
    unsigned int singles;      /* choices of the single path, for PROBE_EVERY */
    uint64_t ns;               /* moving average of the run time of one request of this kind */
    uint64_t batch_ns;         /* moving average of one batch call of this kind, any size */
};

struct uo_worker {
    struct uo_engine *eng;
    pthread_t thread;
    unsigned int idx;
    int started;
    int wake_fd;
    atomic_int sleeping;       /* 0 awake, 1 asleep, 2 asleep and a wake is on its way */
    atomic_int in_task;        /* 1 while running a request and its completion (OpenSSL code) */
    int have_ring;
    struct io_uring ring;
    uint64_t wake_buf;
    unsigned int unsubmitted;  /* prepared SQEs not yet submitted */
    unsigned int writes_out;   /* writes in the kernel, each holding a waiter reference */
    unsigned int nheld;        /* finished requests' notifications held back */
    uint64_t first_held_ns;    /* when the oldest of them finished */
    struct uo_waiter *held[MAX_HELD];
    struct uo_cost cost[UO_COST_SLOTS];
} __attribute__((aligned(UO_CACHELINE)));

struct uo_engine {
    UO_POOL *pool;
    unsigned int gen;
    unsigned int nworkers;
    struct uo_worker *workers;
    int uring;
    atomic_int stop;
    atomic_int halt;           /* the process is exiting: run nothing more, not even the queue */
    atomic_int forking;        /* futex word: a fork() is under way, start no request */
    int joined;                /* the exit hook joined the workers (under engines_lock) */
    struct uo_engine *next_live; /* in live_engines */
    pthread_mutex_t lock;
    UO_REQ **q;
    unsigned int qcap, qhead;
    atomic_uint qcount;        /* read without the lock by spinning workers */
    struct uo_engine *inherited; /* the engine this one replaced after a fork, kept until pool free */
};

/* ---- process generation, bumped in the child after fork ------------------------------------- */

static atomic_uint fork_gen = 1;
static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;

/* This process's engines with running workers, for the exit hook. */
static pthread_mutex_t engines_lock = PTHREAD_MUTEX_INITIALIZER;
static struct uo_engine *live_engines;

static void futex_wake_all(atomic_int *addr)
{
    syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

static uint64_t now_ns(void);

/*
 * A child inherits every lock as it was at fork(), with no thread to release it. A worker in the
 * middle of an RSA signature holds the key's lock for a moment (its blinding), and a child that
 * then used that key would wait for ever. So while fork() is under way the workers start no
 * request, and fork() waits for those inside one to finish it, for up to FORK_WAIT_NS: enough for
 * any signature, but a request that runs longer (a large key generation, or a task that waits for
 * the very thread that forks) must not hold fork() up for ever. Such requests hold no lock on a
 * shared key for long.
 */
static void on_fork_prepare(void)
{
    struct uo_engine *eng;
    uint64_t deadline;
    unsigned int i;

    pthread_mutex_lock(&engines_lock);
    for (eng = live_engines; eng != NULL; eng = eng->next_live)
        atomic_store(&eng->forking, 1);
    deadline = now_ns() + FORK_WAIT_NS;
    for (eng = live_engines; eng != NULL; eng = eng->next_live)
        for (i = 0; i < eng->nworkers; i++)
            while (atomic_load(&eng->workers[i].in_task) && now_ns() < deadline)
                sched_yield();
}

static void on_fork_parent(void)
{
    struct uo_engine *eng;

    for (eng = live_engines; eng != NULL; eng = eng->next_live) {
        atomic_store(&eng->forking, 0);
        futex_wake_all(&eng->forking);
    }
    pthread_mutex_unlock(&engines_lock);
}

/* Marks the worker inside a request, once no fork() is under way (see on_fork_prepare). */
static void task_enter(struct uo_worker *w)
{
    for (;;) {
        atomic_store(&w->in_task, 1);
        if (!atomic_load(&w->eng->forking))
            return;
        atomic_store(&w->in_task, 0);
        syscall(SYS_futex, &w->eng->forking, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0);
    }
}

static void on_fork_child(void)
{
    atomic_fetch_add(&fork_gen, 1);
    /* The parent's engines are not this process's to stop. */
    live_engines = NULL;
    pthread_mutex_unlock(&engines_lock);
}

static void on_exit_stop_workers(void)
{
    struct uo_engine *eng;
    unsigned int i;

    pthread_mutex_lock(&engines_lock);
    for (eng = live_engines; eng != NULL; eng = eng->next_live) {
        atomic_store(&eng->halt, 1);
        atomic_store(&eng->stop, 1);
        for (i = 0; i < eng->nworkers; i++)
            eventfd_write(eng->workers[i].wake_fd, 1);
    }
    /* Each worker finishes the task it is in (and its eventfd writes), then leaves. */
    for (eng = live_engines; eng != NULL; eng = eng->next_live) {
        for (i = 0; i < eng->nworkers; i++)
            pthread_join(eng->workers[i].thread, NULL);
        eng->joined = 1;
        uo_pool_log_stats(eng->pool);
    }
    live_engines = NULL;
    pthread_mutex_unlock(&engines_lock);
}

static void hooks_setup(void)
{
    /* Handlers of a dlopen()ed object go away with it in glibc; the module is also -z nodelete. */
    pthread_atfork(on_fork_prepare, on_fork_parent, on_fork_child);
    atexit(on_exit_stop_workers);
}

static void engine_link(struct uo_engine *eng)
{
    pthread_mutex_lock(&engines_lock);
    eng->next_live = live_engines;
    live_engines = eng;
    pthread_mutex_unlock(&engines_lock);
}

static void engine_unlink(struct uo_engine *eng)
{
    struct uo_engine **p;

    pthread_mutex_lock(&engines_lock);
    for (p = &live_engines; *p != NULL; p = &(*p)->next_live) {
        if (*p == eng) {
            *p = eng->next_live;
            break;
        }
    }
    pthread_mutex_unlock(&engines_lock);
}

unsigned int uo_fork_generation(void)
{
    return atomic_load_explicit(&fork_gen, memory_order_relaxed);
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

/* ---- completions --------------------------------------------------------------------------- */

static void reap(struct uo_worker *w)
{
    struct io_uring_cqe *cqe;
    unsigned int head, n = 0;

    io_uring_for_each_cqe(&w->ring, head, cqe) {
        n++;
        if (cqe->user_data == WAKE_TAG) {
            struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);

            /* Re-arm now; it reaches the kernel with the next submit. */
            if (sqe != NULL) {
                io_uring_prep_read(sqe, w->wake_fd, &w->wake_buf, sizeof(w->wake_buf), 0);
                io_uring_sqe_set_data64(sqe, WAKE_TAG);
                w->unsubmitted++;
            }
        } else {
            struct uo_waiter *wt = (struct uo_waiter *)(uintptr_t)cqe->user_data;

            if (cqe->res < 0)
                UO_LOG(1, "eventfd write failed: %s", strerror(-cqe->res));
            w->writes_out--;
            uo_waiter_release(wt);
        }
    }
    io_uring_cq_advance(&w->ring, n);
}

static void submit(struct uo_worker *w)
{
    if (w->unsubmitted == 0)
        return;
    for (;;) {
        int rc = io_uring_submit(&w->ring);

        if (rc >= 0 || (rc != -EINTR && rc != -EAGAIN && rc != -EBUSY))
            break;
        reap(w);
    }
    w->unsubmitted = 0;
    reap(w);
}

static void write_now(struct uo_waiter *wt)
{
    ssize_t rc;

    do {
        rc = write(wt->fd, &wt->one, sizeof(wt->one));
    } while (rc < 0 && errno == EINTR);
    if (rc < 0)
        UO_LOG(1, "eventfd write failed: %s", strerror(errno));
    uo_waiter_release(wt);
}

/* Sends every held notification: one io_uring_submit for all of them, or a write() each. */
static void flush(struct uo_worker *w)
{
    UO_POOL *pool = w->eng->pool;
    unsigned int i;

    if (w->nheld == 0)
        return;
    atomic_fetch_add_explicit(&pool->notify_batches, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&pool->notified, w->nheld, memory_order_relaxed);

    for (i = 0; i < w->nheld; i++) {
        struct uo_waiter *wt = w->held[i];
        struct io_uring_sqe *sqe;

        if (!w->have_ring) {
            write_now(wt);
            continue;
        }
        while ((sqe = io_uring_get_sqe(&w->ring)) == NULL)
            submit(w);
        io_uring_prep_write(sqe, wt->fd, &wt->one, sizeof(wt->one), 0);
        io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)wt);
        w->unsubmitted++;
        w->writes_out++;
    }
    w->nheld = 0;
    if (w->have_ring)
        submit(w);
}

/* Holds the notification (and the waiter reference that comes with it) until the next flush. */
static void notify(struct uo_worker *w, struct uo_waiter *wt)
{
    if (w->nheld == MAX_HELD)
        flush(w);
    if (w->nheld == 0)
        w->first_held_ns = now_ns();
    w->held[w->nheld++] = wt;
}

/* ---- coalescing ---------------------------------------------------------------------------- */

static struct uo_cost *cost_slot(struct uo_worker *w, unsigned int kind)
{
    struct uo_cost *c = &w->cost[uo_cost_slot(kind)];

    if (c->kind != kind || (!c->known && !c->batch_known)) {
        memset(c, 0, sizeof(*c));
        c->kind = kind;
    }
    return c;
}

/*
 * The expected run time of a request of this kind (or of one batch call of it); unknown kinds count
 * as too long to wait for.
 */
static uint64_t cost_guess(struct uo_worker *w, unsigned int kind, int batched)
{
    const struct uo_cost *c = &w->cost[uo_cost_slot(kind)];

    if (c->kind != kind)
        return UINT64_MAX;
    if (batched)
        return c->batch_known ? c->batch_ns : UINT64_MAX;
    return c->known ? c->ns : UINT64_MAX;
}

/* Publish for callers (inline_below_us): at once for a new kind, then every 8th measurement. */
static void cost_publish(struct uo_worker *w, struct uo_cost *c, uint64_t ns)
{
    if ((c->updates++ & 7) == 0) {
        struct uo_pool_cost *pc = &w->eng->pool->costs[uo_cost_slot(c->kind)];
        unsigned int seq = atomic_load(&pc->seq);

        /*
         * Another worker writing this slot: skip this publication, the next one will do. All
         * sequentially consistent (no fences, which gcc's TSan cannot follow): a publication
         * comes every eighth request, and on x86 the reads cost nothing more.
         */
        if ((seq & 1) != 0 || !atomic_compare_exchange_strong(&pc->seq, &seq, seq + 1))
            return;
        atomic_store(&pc->kind, c->kind + 1);
        atomic_store(&pc->ns, ns);
        atomic_store(&pc->seq, seq + 2);
    }
}

static void cost_learn(struct uo_worker *w, unsigned int kind, uint64_t ns)
{
    struct uo_cost *c = cost_slot(w, kind);

    c->ns = c->known ? (c->ns * 7 + ns) / 8 : ns;
    c->known = 1;
    cost_publish(w, c, c->ns);
}

/* A batch of n: what a caller compares with inline_below_us is the worker's time per request. */
static void cost_learn_batch(struct uo_worker *w, unsigned int kind, unsigned int n, uint64_t ns)
{
    struct uo_cost *c = cost_slot(w, kind);

    c->batch_ns = c->batch_known ? (c->batch_ns * 7 + ns) / 8 : ns;
    c->batch_known = 1;
    cost_publish(w, c, c->known && c->ns < ns / n ? c->ns : ns / n);
}

/*
 * Whether n queued requests of a batchable kind go to one batch call or run one by one: whichever
 * this worker measured to be cheaper. One batch call costs about the same for 1 or 8 requests, so
 * for RSA-2048 (a call takes four single signatures' time) a batch pays from about four requests,
 * while one P-384 lane already beats the single path. The batch cost is measured first; the
 * single cost is learnt from lone requests that succeed. Each is measured again now and then
 * (every PROBE_EVERY choices of the other), so that a stale figure (a cold start, a busy CPU when
 * it was taken) does not hold for ever.
 */
static int choose_batch(struct uo_worker *w, unsigned int kind, unsigned int n)
{
    struct uo_cost *c = cost_slot(w, kind);

    if (!c->batch_known)
        return 1;
    if (!c->known)
        return n > 1;
    if (c->batch_ns < n * c->ns) {
        if (n == 1 && ++c->lone % PROBE_EVERY == 0)
            return 0;
        return 1;
    }
    /* Now and then the batch too, so that one slow batch (a cold start) is not believed for ever. */
    return ++c->singles % PROBE_EVERY == 0;
}

/*
 * Before running a request, at time now: send what is held if waiting for this one too would take
 * too long.
 */
static void flush_if_late(struct uo_worker *w, unsigned int kind, int batched, uint64_t hold_ns,
                          uint64_t now)
{
    uint64_t guess;

    if (w->nheld == 0)
        return;
    guess = cost_guess(w, kind, batched);
    if (guess > hold_ns || now - w->first_held_ns + guess > hold_ns)
        flush(w);
}

static void futex_wake(atomic_int *addr)
{
    syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void complete(struct uo_worker *w, UO_REQ *req)
{
    struct uo_waiter *wt = req->waiter;

    /* Before DONE: whoever sees the request done also sees it no longer counted in flight. */
    atomic_fetch_sub(&req->pool->inflight, 1);
    if (wt != NULL)
        uo_waiter_ref(wt); /* for the write; the job may free the request once it sees DONE */
    /* DONE first: the job that the callback gets resumed must see it. */
    atomic_store(&req->state, UO_REQ_DONE);
    if (req->cb != NULL) {
        int armed = UO_CB_ARMED;

        /* Unless the wait ctx's cleanup cancelled it: its application is freeing the argument. */
        if (atomic_compare_exchange_strong(&req->cb_state, &armed, UO_CB_FIRING)) {
            uo_cb_firing = req;
            req->cb(req->cbarg);
            uo_cb_firing = NULL;
            atomic_store(&req->cb_state, UO_CB_RETURNED);
            futex_wake_all(&req->cb_state);
        }
    }
    if (wt != NULL)
        notify(w, wt);
    if (atomic_load(&req->blocked))
        futex_wake(&req->state);
    uo_req_release(req);
}

/* ---- queue --------------------------------------------------------------------------------- */

int uo_engine_submit(struct uo_engine *eng, UO_REQ *req)
{
    unsigned int i;

    pthread_mutex_lock(&eng->lock);
    if (atomic_load_explicit(&eng->qcount, memory_order_relaxed) >= eng->qcap) {
        pthread_mutex_unlock(&eng->lock);
        return 0;
    }
    atomic_fetch_add(&req->refs, 1); /* the worker's */
    atomic_store_explicit(&req->state, UO_REQ_QUEUED, memory_order_relaxed);
    eng->q[(eng->qhead + atomic_load_explicit(&eng->qcount, memory_order_relaxed)) % eng->qcap] = req;
    atomic_fetch_add(&eng->qcount, 1);
    pthread_mutex_unlock(&eng->lock);

    /* Pairs with the worker's store to sleeping and its re-check of qcount (both seq_cst). */
    atomic_thread_fence(memory_order_seq_cst);
    for (i = 0; i < eng->nworkers; i++) {
        struct uo_worker *w = &eng->workers[i];
        int expect = 1;

        if (atomic_compare_exchange_strong(&w->sleeping, &expect, 2)) {
            eventfd_write(w->wake_fd, 1);
            break;
        }
    }
    return 1;
}

/*
 * Takes the requests a worker runs next. A kind with a batch function: every request of the head's
 * kind among the first SCAN_WINDOW queued, up to UO_MAX_BATCH, if one batch is the cheaper way to
 * run them, else the head alone; the others keep their order. Interleaved work (TLS key shares
 * between signatures) still fills batches, and a lone request is never held back to wait for
 * company. Other kinds: a run of one kind at the head, no more than a fair share so that the other
 * workers are not left idle.
 */
static unsigned int pop_batch(struct uo_worker *w, UO_REQ **out, int *batched)
{
    struct uo_engine *eng = w->eng;
    unsigned int n = 0, avail, max, qcap = eng->qcap;
    UO_REQ *head;

    *batched = 0;
    if (atomic_load_explicit(&eng->qcount, memory_order_relaxed) == 0)
        return 0;
    pthread_mutex_lock(&eng->lock);
    avail = atomic_load_explicit(&eng->qcount, memory_order_relaxed);
    if (avail == 0) { /* another worker took it */
        pthread_mutex_unlock(&eng->lock);
        return 0;
    }
    head = eng->q[eng->qhead];
    if (head->batch != NULL) {
        unsigned int at[UO_MAX_BATCH], window = avail < SCAN_WINDOW ? avail : SCAN_WINDOW;
        unsigned int j, k, to;

        for (j = 0; j < window && n < UO_MAX_BATCH; j++) {
            UO_REQ *req = eng->q[(eng->qhead + j) % qcap];

            if (req->kind == head->kind && req->batch == head->batch)
                at[n++] = j;
        }
        if (choose_batch(w, head->kind, n)) {
            *batched = 1;
            for (k = 0; k < n; k++)
                out[k] = eng->q[(eng->qhead + at[k]) % qcap];
            /* Close the gaps: shift the requests left behind towards the tail, in order. */
            to = at[n - 1];
            k = n;
            for (j = at[n - 1] + 1; j-- > 0;) {
                if (k > 0 && at[k - 1] == j) {
                    k--;
                    continue;
                }
                eng->q[(eng->qhead + to) % qcap] = eng->q[(eng->qhead + j) % qcap];
                to--;
            }
        } else {
            n = 1;
            out[0] = head;
        }
        eng->qhead = (eng->qhead + n) % qcap;
    } else {
        max = avail / eng->nworkers;
        if (max < 1)
            max = 1;
        if (max > UO_MAX_BATCH)
            max = UO_MAX_BATCH;
        while (n < avail && n < max) {
            UO_REQ *req = eng->q[eng->qhead];

            if (n > 0 && req->kind != out[0]->kind)
                break;
            out[n++] = req;
            eng->qhead = (eng->qhead + 1) % qcap;
        }
    }
    atomic_fetch_sub(&eng->qcount, n);
    pthread_mutex_unlock(&eng->lock);
    return n;
}

/* ---- workers ------------------------------------------------------------------------------- */

static void worker_sleep(struct uo_worker *w)
{
    struct uo_engine *eng = w->eng;

    atomic_store(&w->sleeping, 1);
    if (atomic_load(&eng->qcount) != 0 || atomic_load(&eng->stop)) {
        atomic_store(&w->sleeping, 0);
        return;
    }
    if (w->have_ring) {
        int rc;

        w->unsubmitted = 0; /* the notifications were flushed before sleeping; this re-arms */
        rc = io_uring_submit_and_wait(&w->ring, 1);
        if (rc < 0 && rc != -EINTR && rc != -ETIME)
            UO_LOG(1, "io_uring_submit_and_wait: %s", strerror(-rc));
        reap(w);
    } else {
        eventfd_t v;

        eventfd_read(w->wake_fd, &v);
    }
    atomic_store(&w->sleeping, 0);
}

static int queue_idle_spin(struct uo_worker *w, uint64_t spin_ns)
{
    struct uo_engine *eng = w->eng;
    uint64_t end = now_ns() + spin_ns;
    unsigned int i = 0;

    while (atomic_load_explicit(&eng->qcount, memory_order_relaxed) == 0) {
        if (atomic_load_explicit(&eng->stop, memory_order_relaxed))
            return 0;
        cpu_relax();
        if ((++i & 63) == 0) {
            if (now_ns() >= end)
                return 0;
            /* Let a thread that waits for this CPU (the caller just notified) have it. */
            sched_yield();
        }
    }
    return 1;
}

/* worker_priority: nice needs no privilege to raise, nor SCHED_IDLE to enter. */
static void worker_set_priority(struct uo_worker *w)
{
    const UO_POOL_CONFIG *cfg = &w->eng->pool->cfg;

    if (cfg->worker_idle) {
        struct sched_param sp;
        int rc;

        memset(&sp, 0, sizeof(sp));
        rc = pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);
        if (rc != 0)
            UO_LOG(1, "worker %u: cannot enter SCHED_IDLE: %s", w->idx, strerror(rc));
    }
    if (cfg->worker_nice > 0
        && setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), cfg->worker_nice) != 0)
        UO_LOG(1, "worker %u: cannot set nice %d: %s", w->idx, cfg->worker_nice, strerror(errno));
}

/* The process is exiting: popped requests stay undone, and no longer count as in flight. */
static void abandon(struct uo_engine *eng, UO_REQ *const reqs[], unsigned int n)
{
    unsigned int i;

    for (i = 0; i < n; i++) {
        atomic_fetch_sub(&eng->pool->inflight, 1);
        uo_req_release(reqs[i]);
    }
}

static void run_one(struct uo_worker *w, UO_REQ *req, uint64_t hold_ns)
{
    unsigned int kind = req->kind;
    uint64_t t0 = now_ns(); /* a flush it triggers counts in the run time; flushes are rare */

    flush_if_late(w, kind, 0, hold_ns, t0);
    task_enter(w);
    uo_req_execute(req);
    /* A failure (bad input) is quick and says nothing of the kind's cost: it would turn batches off. */
    if (req->result > 0)
        cost_learn(w, kind, now_ns() - t0);
    complete(w, req);
    atomic_store(&w->in_task, 0);
    if (hold_ns == 0)
        flush(w);
}

/*
 * One batch call for n requests of one kind. Every request it computed completes as soon as the
 * call returns; those it left undone (bad input, a failed check) then run alone, one by one, so
 * that no request waits for more than the batch and its own single run.
 */
static void run_batch(struct uo_worker *w, UO_REQ *const reqs[], unsigned int n, uint64_t hold_ns)
{
    UO_POOL *pool = w->eng->pool;
    unsigned int kind = reqs[0]->kind, i;
    int done[UO_MAX_BATCH];
    uint64_t t0;

    if (atomic_load_explicit(&w->eng->halt, memory_order_relaxed)) {
        abandon(w->eng, reqs, n);
        return;
    }
    t0 = now_ns();
    flush_if_late(w, kind, 1, hold_ns, t0);
    task_enter(w);
    uo_req_execute_batch(reqs, n, done);
    cost_learn_batch(w, kind, n, now_ns() - t0);
    atomic_fetch_add_explicit(&pool->batches, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&pool->batched, n, memory_order_relaxed);
    for (i = 0; i < n; i++)
        if (done[i])
            complete(w, reqs[i]);
    atomic_store(&w->in_task, 0);
    /*
     * A batch's completions are already one notification's worth. Holding them for the next batch
     * would leave the caller idle while this worker computes, and then this worker idle while the
     * caller refills the queue; sent now, the caller makes the next batch's work meanwhile.
     */
    flush(w);
    for (i = 0; i < n; i++) {
        if (done[i])
            continue;
        if (atomic_load_explicit(&w->eng->halt, memory_order_relaxed)) {
            abandon(w->eng, reqs + i, 1);
            continue;
        }
        run_one(w, reqs[i], hold_ns);
    }
}

static void *worker_main(void *arg)
{
    struct uo_worker *w = arg;
    struct uo_engine *eng = w->eng;
    uint64_t spin_ns = (uint64_t)eng->pool->cfg.spin_us * 1000ULL; /* 0: sleep at once */
    uint64_t hold_ns = (uint64_t)eng->pool->cfg.coalesce_us * 1000ULL; /* 0: notify at once */
    UO_REQ *batch[UO_MAX_BATCH];
    unsigned int i;
    int batched;

    /*
     * Make this thread's OpenSSL error state now, at one known place: a forked child inherits it
     * without the thread, and test/valgrind.supp names this call to tell that apart from a leak.
     */
    ERR_clear_error();
    worker_set_priority(w);
    if (w->have_ring) {
        struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);

        io_uring_prep_read(sqe, w->wake_fd, &w->wake_buf, sizeof(w->wake_buf), 0);
        io_uring_sqe_set_data64(sqe, WAKE_TAG);
        w->unsubmitted++;
        submit(w);
    }
    for (;;) {
        unsigned int n;

        if (atomic_load_explicit(&eng->halt, memory_order_relaxed))
            break;
        n = pop_batch(w, batch, &batched);
        if (n == 0) {
            flush(w);
            if (atomic_load(&eng->stop))
                break;
            if (spin_ns > 0 && queue_idle_spin(w, spin_ns))
                continue;
            worker_sleep(w);
            continue;
        }
        if (batched) {
            run_batch(w, batch, n, hold_ns);
        } else {
            for (i = 0; i < n; i++) {
                if (atomic_load_explicit(&eng->halt, memory_order_relaxed)) {
                    abandon(eng, batch + i, n - i); /* exiting: the rest stay undone */
                    break;
                }
                run_one(w, batch[i], hold_ns);
            }
        }
        /* Nothing more queued: the caller needs its completions to make more work. */
        if (w->nheld > 0 && atomic_load_explicit(&eng->qcount, memory_order_relaxed) == 0)
            flush(w);
    }
    /* Every write must land before its waiter reference (and maybe its fd) goes. */
    flush(w);
    if (w->have_ring) {
        while (w->writes_out > 0) {
            struct io_uring_cqe *cqe;

            submit(w);
            if (w->writes_out > 0 && io_uring_wait_cqe(&w->ring, &cqe) == 0)
                reap(w);
        }
    }
    for (i = 0; i < UO_COST_SLOTS; i++) {
        if (w->cost[i].known)
            UO_LOG(2, "worker %u: requests of kind %u took %llu ns (moving average)", w->idx,
                   w->cost[i].kind, (unsigned long long)w->cost[i].ns);
        if (w->cost[i].batch_known)
            UO_LOG(2, "worker %u: batches of kind %u took %llu ns (moving average)", w->idx,
                   w->cost[i].kind, (unsigned long long)w->cost[i].batch_ns);
    }
    OPENSSL_thread_stop();
    return NULL;
}

static int worker_ring_init(struct uo_worker *w)
{
    struct io_uring_params p;
    int rc;

    memset(&p, 0, sizeof(p));
#ifdef IORING_SETUP_COOP_TASKRUN
    p.flags |= IORING_SETUP_COOP_TASKRUN;
#endif
    rc = io_uring_queue_init_params(RING_ENTRIES, &w->ring, &p);
    if (rc == -EINVAL) {
        memset(&p, 0, sizeof(p));
        rc = io_uring_queue_init_params(RING_ENTRIES, &w->ring, &p);
    }
    return rc;
}

static int uring_usable(const UO_POOL *pool)
{
    const char *env = getenv(UO_ENV_NO_URING);
    struct io_uring probe;
    int rc;

    if (!pool->cfg.use_uring) {
        UO_LOG(1, "io_uring switched off by configuration; using plain eventfd writes");
        return 0;
    }
    if (env != NULL && *env != '\0' && strcmp(env, "0") != 0) {
        UO_LOG(1, "io_uring switched off by %s; using plain eventfd writes", UO_ENV_NO_URING);
        return 0;
    }
    if (RUNNING_ON_VALGRIND) {
        /*
         * Valgrind (3.19) keeps its global lock across a blocking io_uring_enter: a worker asleep
         * in its ring would stop every other thread, the one that would wake it included.
         */
        UO_LOG(1, "running under valgrind; using plain eventfd writes");
        return 0;
    }
    rc = io_uring_queue_init(2, &probe, 0);
    if (rc < 0) {
        UO_LOG(1, "io_uring unavailable (%s); falling back to plain eventfd writes", strerror(-rc));
        return 0;
    }
    io_uring_queue_exit(&probe);
    return 1;
}

static unsigned int default_workers(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    return n > 0 ? (unsigned int)n : 1;
}

static struct uo_engine *engine_new(UO_POOL *pool, unsigned int gen)
{
    struct uo_engine *eng = calloc(1, sizeof(*eng));
    unsigned int i, want = pool->cfg.workers ? pool->cfg.workers : default_workers();
    sigset_t all, old;

    if (eng == NULL)
        return NULL;
    eng->pool = pool;
    eng->gen = gen;
    eng->qcap = pool->cfg.queue_bound ? pool->cfg.queue_bound : UO_DEFAULT_QUEUE_BOUND;
    eng->q = calloc(eng->qcap, sizeof(*eng->q));
    eng->workers = calloc(want, sizeof(*eng->workers));
    if (eng->q == NULL || eng->workers == NULL) {
        free(eng->q);
        free(eng->workers);
        free(eng);
        return NULL;
    }
    pthread_mutex_init(&eng->lock, NULL);
    eng->uring = uring_usable(pool);

    /* Workers take no signal meant for the application. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    for (i = 0; i < want; i++) {
        struct uo_worker *w = &eng->workers[eng->nworkers];
        char name[16];
        int rc;

        w->eng = eng;
        w->idx = eng->nworkers;
        w->wake_fd = eventfd(0, EFD_CLOEXEC);
        if (w->wake_fd < 0) {
            UO_LOG(1, "worker %u: eventfd: %s", i, strerror(errno));
            break;
        }
        if (eng->uring) {
            rc = worker_ring_init(w);
            if (rc < 0) {
                UO_LOG(1, "worker %u: io_uring_queue_init: %s; this worker uses eventfd writes",
                       i, strerror(-rc));
            } else {
                w->have_ring = 1;
            }
        }
        rc = pthread_create(&w->thread, NULL, worker_main, w);
        if (rc != 0) {
            UO_LOG(1, "cannot create worker thread %u: %s", i, strerror(rc));
            if (w->have_ring)
                io_uring_queue_exit(&w->ring);
            close(w->wake_fd);
            memset(w, 0, sizeof(*w));
            break;
        }
        w->started = 1;
        snprintf(name, sizeof(name), "uringprov-%u", i % 10000);
        pthread_setname_np(w->thread, name);
        eng->nworkers++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (eng->nworkers > 0)
        engine_link(eng);
    if (eng->nworkers == 0)
        UO_LOG(1, "no worker thread could be created: every operation runs inline");
    else
        UO_LOG(1, "started %u of %u workers, %s, queue bound %u", eng->nworkers, want,
               eng->uring ? "io_uring" : "plain eventfd", eng->qcap);
    return eng;
}

static void engine_drop_inherited(struct uo_engine *eng);

/* NULL when no worker can take a request: none could be started, or the process is exiting. */
static struct uo_engine *engine_usable(struct uo_engine *eng)
{
    return eng->nworkers > 0 && !atomic_load_explicit(&eng->halt, memory_order_relaxed) ? eng : NULL;
}

struct uo_engine *uo_engine_get(UO_POOL *pool)
{
    unsigned int gen = uo_fork_generation();
    struct uo_engine *cur = atomic_load_explicit(&pool->eng, memory_order_acquire);
    unsigned int owner;

    if (cur != NULL && cur->gen == gen)
        return engine_usable(cur);
    pthread_once(&hooks_once, hooks_setup);
    /*
     * One thread of this process makes the engine while the others wait: threads arriving together
     * must not each start a pool's worth of workers only to stop them again. A claim made in another
     * process generation (the fork came while a parent thread was making one) belongs to a thread
     * that does not exist here, so it is taken over.
     */
    for (;;) {
        owner = atomic_load_explicit(&pool->making, memory_order_acquire);
        if (owner != gen) {
            if (atomic_compare_exchange_weak_explicit(&pool->making, &owner, gen,
                                                      memory_order_acquire, memory_order_relaxed))
                break;
            continue;
        }
        cur = atomic_load_explicit(&pool->eng, memory_order_acquire);
        if (cur != NULL && cur->gen == gen)
            return engine_usable(cur);
        sched_yield();
    }
    cur = atomic_load_explicit(&pool->eng, memory_order_acquire);
    if (cur == NULL || cur->gen != gen) {
        struct uo_engine *fresh = engine_new(pool, gen);

        if (fresh != NULL) {
            if (cur != NULL) {
                UO_LOG(1, "new process (fork): started fresh workers; the parent's are not touched");
                engine_drop_inherited(cur);
                fresh->inherited = cur;
            }
            atomic_store_explicit(&pool->eng, fresh, memory_order_release);
        }
        cur = fresh;
    }
    atomic_store_explicit(&pool->making, 0, memory_order_release);
    return cur != NULL ? engine_usable(cur) : NULL;
}

/*
 * An engine inherited across fork(): its threads do not exist here, so there is nothing to join. Its
 * wake eventfds and rings are this process's copies; closing them keeps a child from holding the
 * parent's rings open. Requests left in its queue are the parent's and are not touched. Its lock may
 * have been held by a parent thread, so it is not destroyed. The struct itself stays until the pool
 * goes (chained to the engine that replaced it): a thread of this process may still be reading its
 * gen on uo_engine_get's fast path.
 */
static void engine_drop_inherited(struct uo_engine *eng)
{
    unsigned int i;

    if (eng->workers == NULL)
        return;
    for (i = 0; i < eng->nworkers; i++) {
        struct uo_worker *w = &eng->workers[i];

        if (w->have_ring)
            io_uring_queue_exit(&w->ring);
        close(w->wake_fd);
    }
    free(eng->q);
    free(eng->workers);
    eng->q = NULL;
    eng->workers = NULL;
}

static void engine_free_inherited(struct uo_engine *eng)
{
    while (eng != NULL) {
        struct uo_engine *next = eng->inherited;

        engine_drop_inherited(eng);
        free(eng);
        eng = next;
    }
}

void uo_engine_stop(struct uo_engine *eng)
{
    unsigned int i;

    if (eng == NULL)
        return;
    if (eng->gen != uo_fork_generation()) {
        engine_free_inherited(eng);
        return;
    }
    /* Under engines_lock, so this reads joined after the exit hook is done with this engine. */
    engine_unlink(eng);
    if (!eng->joined) {
        atomic_store(&eng->stop, 1);
        for (i = 0; i < eng->nworkers; i++)
            eventfd_write(eng->workers[i].wake_fd, 1);
        for (i = 0; i < eng->nworkers; i++)
            pthread_join(eng->workers[i].thread, NULL);
    }
    for (i = 0; i < eng->nworkers; i++) {
        struct uo_worker *w = &eng->workers[i];

        if (w->have_ring)
            io_uring_queue_exit(&w->ring);
        close(w->wake_fd);
    }
    pthread_mutex_destroy(&eng->lock);
    free(eng->q);
    free(eng->workers);
    engine_free_inherited(eng->inherited);
    free(eng);
}

/* Both report on this process's engine only: a parent's engine has no threads here. */
unsigned int uo_engine_workers(const struct uo_engine *eng)
{
    return eng != NULL && eng->gen == uo_fork_generation() ? eng->nworkers : 0;
}

int uo_engine_uring(const struct uo_engine *eng)
{
    unsigned int i;

    if (eng == NULL || !eng->uring || eng->gen != uo_fork_generation())
        return 0;
    for (i = 0; i < eng->nworkers; i++)
        if (!eng->workers[i].have_ring)
            return 0;
    return 1;
}

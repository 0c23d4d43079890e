/* SPDX-License-Identifier: Apache-2.0 */
/*
 * req.c - requests, the per-wait-ctx eventfd, and the ASYNC glue.
 *
 * Inside a job: the request goes to a worker, the job registers its wait ctx's eventfd (registered
 * only once the request is on a worker) and pauses, at least once, until the request is done. If the
 * wait ctx has a callback, the worker calls it too; the eventfd is still there, since its cleanup is
 * how a callback is cancelled when the application frees the wait ctx. Each resume drains the
 * fd and checks the request: a resume is not a completion. Outside a job the request runs inline, or
 * on a worker with the caller blocked on a futex, as configured. Whenever no worker can take a
 * request (queue full, no fd, no thread) it runs inline and counts as a fallback: nothing is dropped.
 *
 * Lifetimes: a request starts with the caller's reference and gains the worker's while queued. If the
 * application frees the wait ctx while its job is paused (a connection closed mid-handshake), the
 * waiter's cleanup drops the abandoned job's reference for it, and the request goes when the worker
 * is done with it. The eventfd closes only when the wait ctx, every request and every write in the
 * kernel have let it go.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <openssl/async.h>
#include <openssl/crypto.h>
#include <openssl/err.h>

#include "offload_local.h"
#include "uo_log.h"

atomic_int_fast64_t uo_live_reqs;
atomic_int_fast64_t uo_live_waiters;
__thread UO_REQ *uo_cb_firing;

/* The wait ctx key: compared by address, one per process. */
static const char wait_key = 'u';

/*
 * Waiters a forked child found in its wait ctxs: the parent's. Never freed here, since a copied
 * request of the parent's may still point at one, but kept reachable rather than leaked.
 */
static _Atomic(struct uo_waiter *) inherited_waiters;

/* ---- pool ---------------------------------------------------------------------------------- */

UO_POOL *uo_pool_new(const UO_POOL_CONFIG *cfg)
{
    UO_POOL *pool = aligned_alloc(UO_CACHELINE, (sizeof(*pool) + UO_CACHELINE - 1)
                                                / UO_CACHELINE * UO_CACHELINE);

    if (pool == NULL)
        return NULL;
    memset(pool, 0, sizeof(*pool));
    if (cfg != NULL)
        pool->cfg = *cfg;
    return pool;
}

void uo_pool_free(UO_POOL *pool)
{
    if (pool == NULL)
        return;
    uo_engine_stop(atomic_load(&pool->eng));
    free(pool);
}

void uo_pool_log_stats(UO_POOL *pool)
{
    UO_POOL_STATS st;
    char extra[256] = "";

    if (pool == NULL || atomic_exchange(&pool->stats_logged, 1))
        return;
    uo_pool_get_stats(pool, &st);
    if (pool->cfg.stats_extra != NULL)
        pool->cfg.stats_extra(pool->cfg.stats_arg, extra, sizeof(extra));
    UO_LOG(1, "stats: offloaded=%llu inline=%llu fallbacks=%llu pauses=%llu inflight=%llu "
           "workers=%u io_uring=%d notified=%llu notify_batches=%llu batches=%llu batched=%llu%s",
           (unsigned long long)st.offloaded, (unsigned long long)st.inline_runs,
           (unsigned long long)st.fallbacks, (unsigned long long)st.pauses,
           (unsigned long long)st.inflight, st.workers, st.uring,
           (unsigned long long)st.notified, (unsigned long long)st.notify_batches,
           (unsigned long long)st.batches, (unsigned long long)st.batched, extra);
}

void uo_pool_get_stats(UO_POOL *pool, UO_POOL_STATS *st)
{
    struct uo_engine *eng = atomic_load(&pool->eng);

    memset(st, 0, sizeof(*st));
    st->offloaded = atomic_load(&pool->offloaded);
    st->inline_runs = atomic_load(&pool->inline_runs);
    st->fallbacks = atomic_load(&pool->fallbacks);
    st->pauses = atomic_load(&pool->pauses);
    st->inflight = (uint64_t)atomic_load(&pool->inflight);
    st->notified = atomic_load(&pool->notified);
    st->notify_batches = atomic_load(&pool->notify_batches);
    st->batches = atomic_load(&pool->batches);
    st->batched = atomic_load(&pool->batched);
    st->live_reqs = (uint64_t)atomic_load(&uo_live_reqs);
    st->live_waiters = (uint64_t)atomic_load(&uo_live_waiters);
    st->workers = uo_engine_workers(eng);
    st->uring = uo_engine_uring(eng);
}

/* ---- waiters ------------------------------------------------------------------------------- */

void uo_waiter_ref(struct uo_waiter *w)
{
    atomic_fetch_add_explicit(&w->refs, 1, memory_order_relaxed);
}

void uo_waiter_release(struct uo_waiter *w)
{
    if (atomic_fetch_sub_explicit(&w->refs, 1, memory_order_acq_rel) != 1)
        return;
    close(w->fd);
    free(w);
    atomic_fetch_sub(&uo_live_waiters, 1);
}

static uint64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * Waits, asleep, for a callback that a worker is running to return: for at most UO_CB_WAIT_NS,
 * and not at all when this very thread is inside it (a callback that frees its own wait ctx).
 * A callback that blocks on a lock held by the thread that frees its wait ctx would otherwise
 * deadlock both; after the bound, this thread goes on and the callback finishes on its own.
 * Returns 1 if the callback is known to have returned.
 */
static int cb_wait(UO_REQ *req)
{
    uint64_t deadline = mono_ns() + UO_CB_WAIT_NS;
    int s;

    if (uo_cb_firing == req)
        return 0;
    while ((s = atomic_load(&req->cb_state)) == UO_CB_FIRING) {
        uint64_t now = mono_ns();
        struct timespec left;

        if (now >= deadline) {
            UO_LOG(1, "a wait ctx's callback still runs after %llu ms: not waiting for it any "
                   "longer (does it wait for the thread that frees its wait ctx?)",
                   (unsigned long long)(UO_CB_WAIT_NS / 1000000ULL));
            return 0;
        }
        left.tv_sec = (time_t)((deadline - now) / 1000000000ULL);
        left.tv_nsec = (long)((deadline - now) % 1000000000ULL);
        syscall(SYS_futex, &req->cb_state, FUTEX_WAIT_PRIVATE, s, &left, NULL, 0);
    }
    return 1;
}

static void waiter_cleanup(ASYNC_WAIT_CTX *ctx, const void *key, OSSL_ASYNC_FD fd, void *data)
{
    struct uo_waiter *w = data;
    UO_REQ *abandoned = atomic_exchange(&w->pending, NULL);

    (void)ctx;
    (void)key;
    (void)fd;
    if (abandoned != NULL) {
        /* The job paused on this wait ctx will never resume: drop its reference for it. */
        UO_LOG(2, "wait ctx freed with a request in flight; the request goes when its worker is done");
        if (abandoned->cb != NULL) {
            int armed = UO_CB_ARMED;

            /*
             * The application is freeing what the callback's argument points to (libssl calls this
             * from SSL_free, before the SSL goes): cancel the callback, or wait out the call that
             * a worker is making right now.
             */
            if (!atomic_compare_exchange_strong(&abandoned->cb_state, &armed, UO_CB_CANCELLED))
                cb_wait(abandoned);
        }
        /* The worker holds its own reference while it is in the callback: this frees nothing under it. */
        uo_req_release(abandoned);
    }
    uo_waiter_release(w);
}

/*
 * The waiter this process registered in the wait ctx, or NULL. One inherited across fork is taken
 * out of the wait ctx, so that the child never signals the parent's eventfd.
 */
static struct uo_waiter *waiter_find(ASYNC_WAIT_CTX *wctx)
{
    OSSL_ASYNC_FD fd = OSSL_BAD_ASYNC_FD;
    void *data = NULL;
    struct uo_waiter *w;

    if (!ASYNC_WAIT_CTX_get_fd(wctx, &wait_key, &fd, &data) || data == NULL)
        return NULL;
    w = data;
    if (w->fork_gen == uo_fork_generation())
        return w;
    /* Inherited across fork: forget it here without touching the parent's object. */
    ASYNC_WAIT_CTX_clear_fd(wctx, &wait_key);
    close(fd);
    w->inherited_next = atomic_load(&inherited_waiters);
    while (!atomic_compare_exchange_weak(&inherited_waiters, &w->inherited_next, w))
        ;
    return NULL;
}

/*
 * A new waiter, holding the reference that the wait ctx takes over at registration. It is registered
 * only once its request is on a worker: a job that then runs inline leaves no fd in its wait ctx that
 * the application never saw announced (HAProxy aborts on one).
 */
static struct uo_waiter *waiter_new(UO_POOL *pool)
{
    struct uo_waiter *w = calloc(1, sizeof(*w));

    if (w == NULL)
        return NULL;
    w->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->fd < 0) {
        int err = errno;

        free(w);
        if (atomic_exchange(&pool->warned_nofd, 1) == 0)
            UO_LOG(1, "eventfd: %s; operations in ASYNC jobs run inline until fds are available",
                   strerror(err));
        return NULL;
    }
    w->one = 1;
    w->fork_gen = uo_fork_generation();
    atomic_init(&w->refs, 1);
    atomic_fetch_add(&uo_live_waiters, 1);
    return w;
}

/* Hands the waiter's first reference to the wait ctx. */
static int waiter_register(ASYNC_WAIT_CTX *wctx, struct uo_waiter *w)
{
    if (!ASYNC_WAIT_CTX_set_wait_fd(wctx, &wait_key, w->fd, w, waiter_cleanup))
        return 0;
    UO_LOG(2, "wait ctx %p: registered eventfd %d", (void *)wctx, w->fd);
    return 1;
}

/* Returns 1 if a wake-up was pending. */
static int waiter_drain(struct uo_waiter *w)
{
    uint64_t v;
    ssize_t rc;

    while ((rc = read(w->fd, &v, sizeof(v))) < 0 && errno == EINTR)
        ;
    return rc == (ssize_t)sizeof(v);
}

/*
 * Resumes in a row that found neither a wake-up nor a finished request before the job stops pausing
 * and blocks on the worker. ASYNC_pause_job returns at once while pausing is blocked
 * (ASYNC_block_pause), and some callers (s_server's handshake loop) resume without waiting for the
 * fd: either way the loop would only burn the caller's CPU until the worker is done.
 */
#define UO_MAX_EMPTY_RESUMES 64

/* ---- requests ------------------------------------------------------------------------------ */

UO_REQ *uo_req_new(UO_POOL *pool, unsigned int kind, uo_task_fn *fn, uo_cleanup_fn *cleanup,
                   size_t payload_size)
{
    UO_REQ *req = calloc(1, sizeof(*req) + payload_size);

    if (req == NULL)
        return NULL;
    atomic_init(&req->refs, 1);
    req->pool = pool;
    req->kind = kind;
    req->fn = fn;
    req->cleanup = cleanup;
    req->payload_size = payload_size;
    atomic_fetch_add(&uo_live_reqs, 1);
    return req;
}

void *uo_req_payload(UO_REQ *req)
{
    return req->payload;
}

void uo_req_set_batch(UO_REQ *req, uo_batch_fn *batch)
{
    req->batch = batch;
}

int uo_req_forked(const UO_REQ *req)
{
    return req->forked;
}

int uo_req_was_offloaded(const UO_REQ *req)
{
    return req->offloaded;
}

void uo_req_release(UO_REQ *req)
{
    if (atomic_fetch_sub_explicit(&req->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (req->cleanup != NULL)
        req->cleanup(req->payload);
    OPENSSL_cleanse(req->payload, req->payload_size);
    if (req->errs != NULL) {
        OPENSSL_cleanse(req->errs, sizeof(*req->errs) * UO_MAX_ERRS);
        free(req->errs);
    }
    if (req->waiter != NULL)
        uo_waiter_release(req->waiter);
    free(req);
    atomic_fetch_sub(&uo_live_reqs, 1);
}

void uo_req_free(UO_REQ *req)
{
    if (req != NULL)
        uo_req_release(req);
}

/* Runs on a worker: the task, then its errors moved off this thread's queue into the request. */
void uo_req_execute(UO_REQ *req)
{
    const char *file, *func, *data;
    int line, flags;
    unsigned long code;

    req->offloaded = 1;
    req->result = req->fn(req->payload);
    if (req->result <= 0) {
        while ((code = ERR_get_error_all(&file, &line, &func, &data, &flags)) != 0) {
            struct uo_errrec *e;

            if (req->errs == NULL) {
                req->errs = calloc(UO_MAX_ERRS, sizeof(*req->errs));
                if (req->errs == NULL)
                    break;
            }
            if (req->nerrs == UO_MAX_ERRS)
                continue; /* keep the first ones: the cause comes first */
            e = &req->errs[req->nerrs++];
            e->code = code;
            e->line = line;
            snprintf(e->file, sizeof(e->file), "%s", file != NULL ? file : "");
            snprintf(e->func, sizeof(e->func), "%s", func != NULL ? func : "");
            if ((flags & ERR_TXT_STRING) != 0 && data != NULL)
                snprintf(e->data, sizeof(e->data), "%s", data);
        }
    }
    ERR_clear_error();
}

void uo_req_execute_batch(UO_REQ *const reqs[], unsigned int n, int done[])
{
    void *payloads[UO_MAX_BATCH] = { 0 };
    unsigned int i;

    for (i = 0; i < n; i++) {
        payloads[i] = reqs[i]->payload;
        done[i] = 0;
    }
    reqs[0]->batch(payloads, done, n);
    /* A lane's failure is reported by its own task, rerun alone: nothing from here may leak. */
    ERR_clear_error();
    for (i = 0; i < n; i++) {
        if (done[i] == 1) {
            reqs[i]->offloaded = 1;
            reqs[i]->result = 1;
        } else {
            done[i] = 0;
        }
    }
}

static void replay_errors(const UO_REQ *req)
{
    int i;

    for (i = 0; i < req->nerrs; i++) {
        const struct uo_errrec *e = &req->errs[i];

        ERR_new();
        ERR_set_debug(e->file, e->line, e->func);
        if (e->data[0] != '\0')
            ERR_set_error(ERR_GET_LIB(e->code), ERR_GET_REASON(e->code), "%s", e->data);
        else
            ERR_set_error(ERR_GET_LIB(e->code), ERR_GET_REASON(e->code), NULL);
    }
}

static int run_inline(UO_REQ *req, atomic_uint_fast64_t *counter)
{
    atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
    req->result = req->fn(req->payload);
    atomic_store(&req->state, UO_REQ_DONE);
    return req->result;
}

static int submit(UO_REQ *req, struct uo_engine *eng)
{
    UO_POOL *pool = req->pool;

    atomic_fetch_add(&pool->inflight, 1);
    if (!uo_engine_submit(eng, req)) {
        atomic_fetch_sub(&pool->inflight, 1);
        if (atomic_exchange(&pool->warned_full, 1) == 0)
            UO_LOG(1, "queue full: running on the caller's thread (counted as a fallback)");
        return 0;
    }
    /* Release: whoever reads the count (uo_pool_get_stats) knows these submits are over. */
    atomic_fetch_add_explicit(&pool->offloaded, 1, memory_order_release);
    return 1;
}

static void futex_wait(atomic_int *addr, int val)
{
    syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

/* Blocks the calling thread until the worker is done: for callers outside a job. */
static void wait_blocking(UO_REQ *req)
{
    int s;

    atomic_store(&req->blocked, 1);
    while ((s = atomic_load(&req->state)) != UO_REQ_DONE)
        futex_wait(&req->state, s);
}

static int run_blocking(UO_REQ *req)
{
    struct uo_engine *eng = uo_engine_get(req->pool);

    if (eng == NULL || !submit(req, eng))
        return run_inline(req, &req->pool->fallbacks);
    wait_blocking(req);
    replay_errors(req);
    return req->result;
}

/* Callback mode: the worker must be done with the callback's argument before the job finishes. */
static void wait_callback(UO_REQ *req)
{
    int armed = UO_CB_ARMED;

    /* Not fired yet (the job is not paused, or never was): it must not come at all now. */
    if (atomic_compare_exchange_strong(&req->cb_state, &armed, UO_CB_CANCELLED))
        return;
    /*
     * A resume (spurious, or the one the callback itself asked for) can see DONE while the worker
     * is still inside the callback. Finishing now would let the application free the callback's
     * argument (libssl's SSL) under it, so wait that short, already running call out (bounded).
     */
    cb_wait(req);
}

/*
 * The job was paused when the process forked, and this is the child resuming it. The wait ctx's
 * eventfd is shared with the parent, so it is neither read (that would steal the parent's wake-up)
 * nor written: the child forgets its entry and closes its own copy, and never touches the
 * parent's waiter. A request the parent's worker had finished before the fork has its result
 * here too, and returns it. Any other request is the parent's to run, and no worker here ever
 * will: it fails at once (uo_req_forked tells the caller why) rather than running inline, since a
 * worker may have been inside OpenSSL with the inner context at fork time, and this process's copy
 * of it may be mid-operation. The references and in-flight count that the parent's worker held
 * are this process's copies: they are let go here.
 */
static int run_forked_child(UO_REQ *req, ASYNC_WAIT_CTX *wctx)
{
    int done = atomic_load(&req->state) == UO_REQ_DONE;

    waiter_find(wctx);
    req->waiter = NULL;
    atomic_store(&req->cb_state, UO_CB_CANCELLED);
    if (done) {
        replay_errors(req);
        return req->result;
    }
    UO_LOG(1, "a job paused before fork() resumed in the child: its operation fails here "
           "(the parent completes its own)");
    atomic_fetch_sub(&req->refs, 1);
    atomic_fetch_sub(&req->pool->inflight, 1);
    req->forked = 1;
    req->result = 0;
    return 0;
}

static int run_in_job(UO_REQ *req, ASYNC_JOB *job)
{
    UO_POOL *pool = req->pool;
    ASYNC_WAIT_CTX *wctx = ASYNC_get_wait_ctx(job);
    ASYNC_callback_fn cb = NULL;
    void *cbarg = NULL;
    struct uo_waiter *w;
    struct uo_engine *eng;
    int fresh = 0, old_status = ASYNC_STATUS_UNSUPPORTED, empty = 0;

    if (wctx == NULL)
        return run_blocking(req);
    eng = uo_engine_get(pool);
    if (eng == NULL)
        return run_inline(req, &pool->fallbacks);
    w = waiter_find(wctx);
    if (w == NULL) {
        w = waiter_new(pool);
        if (w == NULL)
            return run_inline(req, &pool->fallbacks);
        fresh = 1;
    }
    uo_waiter_ref(w);
    req->waiter = w;
    if (ASYNC_WAIT_CTX_get_callback(wctx, &cb, &cbarg) && cb != NULL) {
        req->cb = cb;
        req->cbarg = cbarg;
        /* Set before the submit: the callback may read it on the worker as soon as the task ends. */
        old_status = ASYNC_WAIT_CTX_get_status(wctx);
        ASYNC_WAIT_CTX_set_status(wctx, ASYNC_STATUS_OK);
    }
    atomic_store(&w->pending, req);
    if (!submit(req, eng)) {
        atomic_store(&w->pending, NULL);
        if (cb != NULL)
            ASYNC_WAIT_CTX_set_status(wctx, old_status);
        if (fresh) {
            /* Never registered: the request's reference and the one meant for the wait ctx. */
            req->waiter = NULL;
            uo_waiter_release(w);
            uo_waiter_release(w);
        }
        return run_inline(req, &pool->fallbacks);
    }
    if (fresh && !waiter_register(wctx, w)) {
        /* Nothing to pause on: wait for the worker on this thread. */
        atomic_store(&w->pending, NULL);
        uo_waiter_release(w);
        wait_blocking(req);
        if (cb != NULL)
            wait_callback(req);
        replay_errors(req);
        return req->result;
    }
    /* Pause at least once even if the worker is already done: see docs/architecture.md. */
    do {
        OSSL_ASYNC_FD fd;
        void *data;

        if (!ASYNC_WAIT_CTX_get_fd(wctx, &wait_key, &fd, &data)) {
            /* The application cleared it: register it again, with the ctx's own reference. */
            uo_waiter_ref(w);
            if (!waiter_register(wctx, w))
                uo_waiter_release(w);
        }
        atomic_fetch_add_explicit(&pool->pauses, 1, memory_order_relaxed);
        if (!ASYNC_pause_job()) {
            wait_blocking(req);
            break;
        }
        if (w->fork_gen != uo_fork_generation())
            return run_forked_child(req, wctx);
        if (waiter_drain(w))
            empty = 0;
        else if (++empty >= UO_MAX_EMPTY_RESUMES
                 && atomic_load_explicit(&req->state, memory_order_acquire) != UO_REQ_DONE) {
            wait_blocking(req);
            break;
        }
    } while (atomic_load_explicit(&req->state, memory_order_acquire) != UO_REQ_DONE);
    atomic_store(&w->pending, NULL);
    if (cb != NULL)
        wait_callback(req);
    replay_errors(req);
    return req->result;
}

/*
 * inline_below_us: a kind the workers have measured to run in less than that is cheaper to compute
 * here than to send away and be woken for. Unknown kinds go to the workers, who measure them, and
 * so does one in UO_REMEASURE_EVERY requests of a cheap kind, so that a kind judged on a fast
 * moment is not inlined for good. Kind and time are read as the pair one worker published.
 */
static int cheap(const UO_REQ *req)
{
    UO_POOL *pool = req->pool;
    struct uo_pool_cost *pc;
    unsigned int seq, kind;
    uint64_t ns;

    if (pool->cfg.inline_below_us == 0)
        return 0;
    pc = &pool->costs[uo_cost_slot(req->kind)];
    seq = atomic_load(&pc->seq);
    if ((seq & 1) != 0)
        return 0;
    kind = atomic_load(&pc->kind);
    ns = atomic_load(&pc->ns);
    if (atomic_load(&pc->seq) != seq || kind != req->kind + 1
        || ns >= (uint64_t)pool->cfg.inline_below_us * 1000ULL)
        return 0;
    return atomic_fetch_add_explicit(&pc->inlined, 1, memory_order_relaxed) % UO_REMEASURE_EVERY
           != UO_REMEASURE_EVERY - 1;
}

int uo_req_run(UO_REQ *req)
{
    ASYNC_JOB *job = ASYNC_get_current_job();

    if (cheap(req))
        return run_inline(req, &req->pool->inline_runs);

    if (job != NULL)
        return run_in_job(req, job);
    if (req->pool->cfg.sync_mode == UO_SYNC_OFFLOAD)
        return run_blocking(req);
    return run_inline(req, &req->pool->inline_runs);
}

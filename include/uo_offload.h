/* SPDX-License-Identifier: Apache-2.0 */
/*
 * uo_offload.h - the offload library's whole public surface.
 *
 * offload/ runs closures ("tasks") on a pool of worker threads, each with its own io_uring. It knows
 * nothing about RSA or EC. A caller allocates a request with room for its payload, fills the payload,
 * and runs it: inside an OpenSSL ASYNC job the request goes to a worker and the job pauses on one
 * eventfd per ASYNC_WAIT_CTX (the worker also calls the wait ctx's callback, if one is set); outside a
 * job it runs inline or on a worker with the caller blocked, as configured. The request owns its
 * payload, so a job that is abandoned mid-flight (its wait ctx freed) leaves nothing behind once the
 * worker finishes.
 */
#ifndef UO_OFFLOAD_H
#define UO_OFFLOAD_H

#include <stddef.h>
#include <stdint.h>

typedef struct uo_pool_st UO_POOL;
typedef struct uo_req_st UO_REQ;

/* Runs on a worker thread (or inline). Returns 1 on success, <= 0 on failure. */
typedef int uo_task_fn(void *payload);
/* Releases what the payload owns. Runs once, on whichever thread drops the last reference. */
typedef void uo_cleanup_fn(void *payload);
/*
 * Runs on a worker: computes n (1..UO_MAX_BATCH) requests of one kind together. Sets done[i] to 1
 * for each payload it computed (that request then succeeds), or 0: the worker then runs that
 * request's own task, alone, which reports its own error. It leaves nothing on the thread's error
 * queue. Used for multi-buffer backends, where one call costs about the same for 1 or 8 requests.
 */
typedef void uo_batch_fn(void *const payloads[], int done[], unsigned int n);

enum uo_sync_mode {
    UO_SYNC_INLINE = 0,  /* outside a job: compute on the caller's thread */
    UO_SYNC_OFFLOAD = 1  /* outside a job: run on a worker, caller blocks */
};

typedef struct {
    unsigned int workers;      /* 0: the number of online CPUs */
    unsigned int queue_bound;  /* 0: UO_DEFAULT_QUEUE_BOUND */
    int use_uring;             /* 0: plain eventfd writes, no io_uring */
    int sync_mode;             /* enum uo_sync_mode */
    unsigned int spin_us;      /* how long an idle worker polls before sleeping; 0: not at all */
    unsigned int coalesce_us;  /* longest a completion's notification is held back; 0: not at all */
    int worker_nice;           /* nice value of the worker threads (0..19) */
    int worker_idle;           /* 1: the worker threads run under SCHED_IDLE */
    unsigned int inline_below_us; /* kinds measured to run faster than this run inline; 0: none */
    /* Appends the user's own counters to the stats line (" name=value ..."); may be NULL. */
    void (*stats_extra)(void *arg, char *buf, size_t len);
    void *stats_arg;
} UO_POOL_CONFIG;

#define UO_DEFAULT_QUEUE_BOUND 1024
#define UO_DEFAULT_SPIN_US 50
#define UO_DEFAULT_COALESCE_US 500
#define UO_MAX_BATCH 8
/* inline_below_us: one in this many requests of a kind judged cheap still goes to a worker. */
#define UO_REMEASURE_EVERY 64

typedef struct {
    uint64_t offloaded;   /* requests run on a worker */
    uint64_t inline_runs; /* requests run on the caller's thread by choice (sync mode inline, or
                             measured cheaper than inline_below_us) */
    uint64_t fallbacks;   /* requests that wanted a worker but ran inline (queue full, no fd, no threads) */
    uint64_t pauses;      /* ASYNC_pause_job calls */
    uint64_t inflight;    /* requests submitted and not yet completed */
    uint64_t notified;    /* completions announced on a job's eventfd */
    uint64_t notify_batches; /* times a worker sent what it held: notified / this = coalescing */
    uint64_t batches;     /* batch function calls */
    uint64_t batched;     /* requests handed to a batch function */
    uint64_t live_reqs;   /* requests allocated and not yet freed */
    uint64_t live_waiters; /* per-wait-ctx eventfd holders not yet closed */
    unsigned int workers; /* worker threads running in this process (0 before first use) */
    int uring;            /* 1 when the workers use io_uring, 0 for the plain-eventfd fallback */
} UO_POOL_STATS;

/* The pool starts no thread: threads and rings are created on first use, in each process. */
UO_POOL *uo_pool_new(const UO_POOL_CONFIG *cfg);
/* Stops the workers after they finish every queued request; frees the pool. */
void uo_pool_free(UO_POOL *pool);
void uo_pool_get_stats(UO_POOL *pool, UO_POOL_STATS *st);
/*
 * Writes the "stats: offloaded=N ..." line to the debug log (level 1), once per pool: at pool free,
 * or at exit() for a pool that is never freed (openssl speed never frees its ECDSA keys, so the
 * provider never unloads).
 */
void uo_pool_log_stats(UO_POOL *pool);

/*
 * kind tags requests of one operation and cost: a worker takes up to UO_MAX_BATCH of one kind at a
 * time (handed to the kind's batch function, if it has one), and learns how long each kind runs,
 * alone and in batches, to choose between the two and to bound how long it holds completions back
 * (coalesce_us).
 * The payload is zeroed, 16-byte aligned, and wiped with OPENSSL_cleanse when the request is freed.
 */
UO_REQ *uo_req_new(UO_POOL *pool, unsigned int kind, uo_task_fn *fn, uo_cleanup_fn *cleanup,
                   size_t payload_size);
void *uo_req_payload(UO_REQ *req);
/*
 * Lets a worker compute this request in a batch with others of its kind. Every request of one kind
 * must name the same batch function. A worker that finds several of a kind queued hands them over
 * in one call when its measurements say that one batch costs less than running them one by one;
 * it never waits for a batch to fill.
 */
void uo_req_set_batch(UO_REQ *req, uo_batch_fn *batch);
/*
 * Runs the task as the calling context dictates and returns its result. Errors that the task left
 * on a worker's error queue are raised again on the caller's queue. Never call twice on one request.
 */
int uo_req_run(UO_REQ *req);
/* 1 if the task ran on a worker thread. */
int uo_req_was_offloaded(const UO_REQ *req);
/*
 * 1 if the request failed because its job was paused when the process forked and was resumed in
 * the child, where no worker runs the parent's requests: the caller may retry the operation.
 */
int uo_req_forked(const UO_REQ *req);
/* Drops the caller's reference. */
void uo_req_free(UO_REQ *req);

/* Environment variable that forces the plain-eventfd fallback (any value but "0"). */
#define UO_ENV_NO_URING "URINGPROV_NO_URING"

#endif

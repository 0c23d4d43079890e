/* SPDX-License-Identifier: Apache-2.0 */
/*
 * offload_local.h - internals shared by the offload library's files; nothing outside offload/ sees
 * these. pool.c owns the workers, their rings and the queue; req.c owns requests, waiters and the
 * ASYNC glue.
 */
#ifndef UO_OFFLOAD_LOCAL_H
#define UO_OFFLOAD_LOCAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "uo_offload.h"

/* A cache line, so that counters written by workers do not share one with the caller's state. */
#define UO_CACHELINE 64

enum uo_req_state { UO_REQ_NEW = 0, UO_REQ_QUEUED, UO_REQ_DONE };

/* Callback mode: the worker fires the callback at most once, unless the wait ctx's cleanup cancels. */
enum uo_cb_state { UO_CB_ARMED = 0, UO_CB_FIRING, UO_CB_RETURNED, UO_CB_CANCELLED };

/*
 * One per ASYNC_WAIT_CTX: the eventfd the application polls. The wait ctx holds one reference
 * (dropped by its cleanup callback); each request in flight holds one; each io_uring write in the
 * kernel holds one. The fd is closed only when the last one goes, so no worker ever writes to a
 * closed or reused fd. A wait ctx with a callback gets one too: its cleanup is the only word we get
 * that the application is freeing what the callback's argument points to (libssl's SSL_free).
 */
struct uo_waiter {
    atomic_int refs;
    int fd;
    unsigned int fork_gen;    /* process generation that created the fd */
    uint64_t one;             /* source buffer of io_uring writes; lives while refs are held */
    _Atomic(UO_REQ *) pending; /* the request the job waits on; the job's thread sets it */
    struct uo_waiter *inherited_next; /* a forked child's list of the parent's waiters it let go */
};

/*
 * An error copied off a worker's queue. The strings are copied too: OpenSSL 3.0 keeps its own copies
 * of file and func in the thread's error state and frees them when the entry is popped.
 */
struct uo_errrec {
    unsigned long code;
    int line;
    char file[96];
    char func[64];
    char data[160];
};
#define UO_MAX_ERRS 4

struct uo_req_st {
    atomic_int refs;
    atomic_int state;         /* enum uo_req_state; futex word for blocked callers */
    atomic_int blocked;       /* a caller sleeps on state */
    int result;
    int offloaded;
    unsigned int kind;
    UO_POOL *pool;
    uo_task_fn *fn;
    uo_cleanup_fn *cleanup;
    uo_batch_fn *batch;       /* NULL: this kind is never batched */
    struct uo_waiter *waiter; /* fd mode: signalled on completion */
    int (*cb)(void *);        /* callback mode: called on completion, from the worker */
    void *cbarg;
    atomic_int cb_state;      /* enum uo_cb_state: the worker is done with cb and cbarg once RETURNED;
                                 futex word for those waiting for that */
    int forked;               /* the job resumed in a forked child: the request never ran here */
    UO_REQ *next;
    struct uo_errrec *errs;   /* worker's errors, replayed on the caller's thread */
    int nerrs;
    size_t payload_size;
    _Alignas(16) unsigned char payload[];
};

struct uo_engine;

#define UO_COST_SLOTS 16

struct uo_pool_st {
    UO_POOL_CONFIG cfg;
    _Atomic(struct uo_engine *) eng;
    atomic_uint making;       /* fork generation of the thread making the engine, 0 for none */
    atomic_int stats_logged;
    atomic_int warned_nofd;
    atomic_int warned_full;
    _Alignas(UO_CACHELINE) atomic_uint_fast64_t offloaded;
    atomic_uint_fast64_t inline_runs;
    atomic_uint_fast64_t fallbacks;
    atomic_uint_fast64_t pauses;
    atomic_int_fast64_t inflight;
    /* written by the workers, on a line of their own */
    _Alignas(UO_CACHELINE) atomic_uint_fast64_t notified;
    atomic_uint_fast64_t notify_batches;
    atomic_uint_fast64_t batches;
    atomic_uint_fast64_t batched;
    /* run time per request kind, as the workers measured it: for inline_below_us */
    /*
     * Each is a seqlock: kind and time are only ever read as a pair that one worker wrote
     * together (kinds share slots, and a kind judged by another kind's time could be inlined for
     * good).
     */
    struct uo_pool_cost {
        atomic_uint seq;       /* odd while a worker writes */
        atomic_uint kind;      /* kind + 1; 0: empty */
        atomic_uint_fast64_t ns;
        atomic_uint inlined;   /* requests of this kind run inline, for the re-measurements */
    } costs[UO_COST_SLOTS];
};


/* The slot of a request kind in a cost table of UO_COST_SLOTS (2^4) entries. */
static inline unsigned int uo_cost_slot(unsigned int kind)
{
    /* Fibonacci hashing: kinds that differ only in their high bits still spread over the slots. */
    return (kind * 2654435761u) >> 28;
}

/* Live object counts for tests: a freed wait ctx must leave nothing behind. */
extern atomic_int_fast64_t uo_live_reqs;
extern atomic_int_fast64_t uo_live_waiters;

unsigned int uo_fork_generation(void);
/* The engine of this process, created on first use; NULL when no worker can run. */
struct uo_engine *uo_engine_get(UO_POOL *pool);
/* Queues the request; 0 when the queue is full. Takes the worker's reference on success. */
int uo_engine_submit(struct uo_engine *eng, UO_REQ *req);
void uo_engine_stop(struct uo_engine *eng);
unsigned int uo_engine_workers(const struct uo_engine *eng);
int uo_engine_uring(const struct uo_engine *eng);

/* How long a wait ctx's cleanup, or a finishing job, waits for a callback already running. */
#define UO_CB_WAIT_NS 200000000ULL

/* The request whose callback this thread is inside, if any (a callback may free its own wait ctx). */
extern __thread UO_REQ *uo_cb_firing;

/* req.c, called by workers */
void uo_req_execute(UO_REQ *req);
/* Runs the requests' batch function; done[i] as uo_batch_fn sets it. */
void uo_req_execute_batch(UO_REQ *const reqs[], unsigned int n, int done[]);
void uo_req_release(UO_REQ *req);
void uo_waiter_ref(struct uo_waiter *w);
void uo_waiter_release(struct uo_waiter *w);

#endif

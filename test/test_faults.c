/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_faults.c - uringprov under the faults a server meets: connections closed while their
 * private-key operation is in flight, fork, no io_uring, no file descriptors, a full queue, the
 * provider unloaded mid-flight, and no worker threads. Each test drives uringprov through libcrypto
 * or libssl, as an application would, and asserts what the application can observe: results,
 * pauses, async fds, uringprov's counters, the debug log, and the process's fds and threads.
 *
 * The process runs with URINGPROV_DEBUG=file:<tmp>,level:1 (set in main before anything loads the
 * provider), so that tests can count the warnings uringprov logs. Check runs each test in a child
 * process, one at a time; a test reads the log from the offset where it started.
 *
 * Under ASan, the mid-handshake test leaves 10,000 ASYNC_JOBs behind: OpenSSL 3.0's SSL_free never
 * frees a paused job. test/lsan.supp suppresses exactly those (see there); docs/reliability.md
 * describes every test.
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/async.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "helpers/uo_test.h"

#ifndef CLONE_THREAD
#define CLONE_THREAD 0x00010000
#endif

static char log_path[64];

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UOT_ASAN 1
#endif
#endif
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UOT_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__) || defined(UOT_TSAN)
/*
 * The fork test's children start worker threads, which TSan refuses after a multi-threaded fork
 * unless told otherwise. TSan's memory also grows faster than linearly with the number of ASYNC
 * fibre stacks alive (2,000 abandoned jobs: 3.7 GB), so the mid-handshake test does fewer
 * connections under TSan: it is there for races, which a few hundred connections exercise.
 */
__attribute__((visibility("default"))) const char *__tsan_default_options(void)
{
    return "die_after_fork=0";
}
#define CONNS_FD 500
#define CONNS_CB 200
#else
#define CONNS_FD 10000
#define CONNS_CB 2000
#endif

#if defined(__SANITIZE_ADDRESS__) || defined(UOT_ASAN)
/*
 * Full allocation stacks: libcrypto has no frame pointers, and test/lsan.supp's one suppression
 * (the ASYNC_JOBs that OpenSSL leaks when an SSL is freed mid-job) matches on ASYNC_start_job.
 */
__attribute__((visibility("default"))) const char *__asan_default_options(void)
{
    return "fast_unwind_on_malloc=0";
}
#endif

/* ---- what the process can observe ---------------------------------------------------------- */

static int fd_count(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    int n = 0;

    ck_assert_msg(d != NULL, "opendir /proc/self/fd: %s", strerror(errno));
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the DIR's own fd */
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/*
 * uringprov's wait-ctx eventfds still open: the process's non-blocking eventfds, less the ones the
 * test opened itself (skip). The workers' own wake eventfds are blocking ones. A waiter's eventfd
 * closes when its wait ctx, every request and every write in the kernel have let it go, so this is
 * uringprov's live waiter count, seen from outside.
 */
static int waiter_fds(const int *skip, int nskip)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    int n = 0;

    ck_assert_ptr_nonnull(d);
    while ((de = readdir(d)) != NULL) {
        char path[64], target[64], line[128];
        int fd = atoi(de->d_name), i, skipped = 0;
        unsigned int flags = 0;
        ssize_t len;
        FILE *f;

        if (de->d_name[0] == '.' || fd == dirfd(d))
            continue;
        for (i = 0; i < nskip; i++)
            skipped |= skip[i] == fd;
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        len = readlink(path, target, sizeof(target) - 1);
        if (skipped || len <= 0)
            continue;
        target[len] = '\0';
        if (strcmp(target, "anon_inode:[eventfd]") != 0)
            continue;
        snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
        if ((f = fopen(path, "r")) == NULL)
            continue;
        while (fgets(line, sizeof(line), f) != NULL)
            if (sscanf(line, "flags: %o", &flags) == 1)
                break;
        fclose(f);
        if ((flags & O_NONBLOCK) != 0)
            n++;
    }
    closedir(d);
    return n;
}

/* Waits until nothing is in flight and no waiter is left (but the ones of skip). */
static int wait_no_waiters(OSSL_LIB_CTX *libctx, const int *skip, int nskip)
{
    int i;

    for (i = 0; i < 30000; i++) {
        if (uot_counter(libctx, "uringprov-inflight") == 0 && waiter_fds(skip, nskip) == 0)
            return 1;
        sleep_ms(1);
    }
    return 0;
}

static off_t log_size(void)
{
    struct stat st;

    return stat(log_path, &st) == 0 ? st.st_size : 0;
}

/* Lines of the debug log written since offset `from` that contain `needle`. */
static int log_count(off_t from, const char *needle)
{
    FILE *f = fopen(log_path, "r");
    char line[2048];
    int n = 0;

    if (f == NULL)
        return 0;
    if (fseeko(f, from, SEEK_SET) == 0)
        while (fgets(line, sizeof(line), f) != NULL)
            if (strstr(line, needle) != NULL)
                n++;
    fclose(f);
    return n;
}

static void log_dump(off_t from)
{
    FILE *f = fopen(log_path, "r");
    char line[2048];

    if (f == NULL)
        return;
    if (fseeko(f, from, SEEK_SET) == 0)
        while (fgets(line, sizeof(line), f) != NULL)
            fprintf(stderr, "  log: %s", line);
    fclose(f);
}

/* ---- keys ---------------------------------------------------------------------------------- */

static int held_by_uringprov(const EVP_PKEY *pkey)
{
    const OSSL_PROVIDER *p = EVP_PKEY_get0_provider(pkey);

    return p != NULL && strcmp(OSSL_PROVIDER_get0_name(p), "uringprov") == 0;
}

static EVP_PKEY *rsa_key(OSSL_LIB_CTX *libctx, unsigned int bits)
{
    EVP_PKEY *pkey = EVP_PKEY_Q_keygen(libctx, NULL, "RSA", (size_t)bits);

    ck_assert_msg(pkey != NULL, "RSA-%u key generation failed", bits);
    ck_assert_msg(held_by_uringprov(pkey), "the RSA key is not uringprov's");
    return pkey;
}

/* ---- jobs ---------------------------------------------------------------------------------- */

typedef struct {
    int pauses;
    int fds_seen;    /* most fds in the wait ctx at a pause */
    int fds_left;    /* fds in the wait ctx when the job finished */
} JOB_STATS;

/*
 * Runs fn(arg) in a job to the end, waiting on the wait ctx's fds with poll() between resumes.
 * Unlike uot_run_in_job it also reports the fds left in the wait ctx once the job is over: an fd
 * registered by an operation that then never paused is one an event loop would learn about only
 * when it tears the connection down (HAProxy aborts on exactly that).
 */
typedef struct {
    int (*fn)(void *);
    void *arg;
} JOB_CALL;

/* ASYNC_start_job copies its argument block: pass the call, not what the call points to. */
static int job_trampoline(void *v)
{
    JOB_CALL *c = v;

    return c->fn(c->arg);
}

static int run_job(int (*fn)(void *), void *arg, JOB_STATS *st)
{
    ASYNC_WAIT_CTX *wctx = ASYNC_WAIT_CTX_new();
    ASYNC_JOB *job = NULL;
    JOB_CALL call = { fn, arg };
    int ret = -1, rc;
    size_t n;

    memset(st, 0, sizeof(*st));
    ck_assert_ptr_nonnull(wctx);
    while ((rc = ASYNC_start_job(&job, wctx, &ret, job_trampoline, &call, sizeof(call)))
           == ASYNC_PAUSE) {
        OSSL_ASYNC_FD fds[4];
        struct pollfd pfd[4];
        size_t i;

        st->pauses++;
        n = 0;
        ck_assert(ASYNC_WAIT_CTX_get_all_fds(wctx, NULL, &n) && n <= 4);
        ASYNC_WAIT_CTX_get_all_fds(wctx, fds, &n);
        if ((int)n > st->fds_seen)
            st->fds_seen = (int)n;
        for (i = 0; i < n; i++) {
            pfd[i].fd = fds[i];
            pfd[i].events = POLLIN;
        }
        ck_assert_msg(n > 0, "a job paused with no fd to wait on");
        ck_assert_msg(poll(pfd, n, 30000) > 0, "a paused job's fd never became readable");
    }
    ck_assert_int_eq(rc, ASYNC_FINISH);
    n = 0;
    ASYNC_WAIT_CTX_get_all_fds(wctx, NULL, &n);
    st->fds_left = (int)n;
    ASYNC_WAIT_CTX_free(wctx);
    return ret;
}

/* ---- the same operations, each in its own ASYNC job ---------------------------------------- */

typedef struct {
    OSSL_LIB_CTX *libctx;
    EVP_PKEY *rsa, *ec, *ec_peer, *x, *x_peer;
    unsigned char ct[256];            /* RSA-OAEP ciphertext of pt */
    size_t ctlen;
    unsigned char pt[32];
    unsigned char ec_secret[64], x_secret[64];
    size_t ec_secretlen, x_secretlen;
} BATTERY;

typedef struct {
    BATTERY *b;
    int which;
} BOP;

enum { B_RSA_SIGN, B_RSA_PSS_DIGEST_SIGN, B_RSA_DECRYPT, B_ECDSA_DIGEST_SIGN, B_ECDH, B_X25519,
       B_EC_KEYGEN, B_COUNT };

static const char *const bop_names[B_COUNT] = {
    "RSA PKCS#1 sign", "RSA-PSS digest sign", "RSA-OAEP decrypt", "ECDSA digest sign",
    "ECDH derive",
    "X25519 derive", "EC P-256 keygen"
};

static int derive(OSSL_LIB_CTX *libctx, EVP_PKEY *own, EVP_PKEY *peer, unsigned char *out,
                  size_t *outlen)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(libctx, own, NULL);
    int ok = c != NULL && EVP_PKEY_derive_init(c) > 0 && EVP_PKEY_derive_set_peer(c, peer) > 0
             && EVP_PKEY_derive(c, out, outlen) > 0;

    EVP_PKEY_CTX_free(c);
    return ok;
}

static int digest_sign_verify(OSSL_LIB_CTX *libctx, EVP_PKEY *pkey, int pss)
{
    static const unsigned char msg[] = "uringprov faults";
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char sig[512];
    size_t siglen = sizeof(sig);
    int ok;

    ok = md != NULL && EVP_DigestSignInit_ex(md, &pctx, "SHA256", libctx, NULL, pkey, NULL) > 0
         && (!pss || EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0)
         && EVP_DigestSign(md, sig, &siglen, msg, sizeof(msg)) > 0;
    EVP_MD_CTX_free(md);
    if (!ok)
        return 0;
    md = EVP_MD_CTX_new();
    pctx = NULL;
    ok = md != NULL && EVP_DigestVerifyInit_ex(md, &pctx, "SHA256", libctx, NULL, pkey, NULL) > 0
         && (!pss || EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0)
         && EVP_DigestVerify(md, sig, siglen, msg, sizeof(msg)) == 1;
    EVP_MD_CTX_free(md);
    return ok;
}

static int bop_run(void *arg)
{
    BOP *o = arg;
    BATTERY *b = o->b;
    EVP_PKEY_CTX *c = NULL;
    unsigned char buf[512], tbs[32];
    size_t len = sizeof(buf);
    EVP_PKEY *gen = NULL;
    int ok = 0;

    memset(tbs, 0x5a, sizeof(tbs));
    switch (o->which) {
    case B_RSA_SIGN:
        c = EVP_PKEY_CTX_new_from_pkey(b->libctx, b->rsa, NULL);
        ok = c != NULL && EVP_PKEY_sign_init(c) > 0
             && EVP_PKEY_CTX_set_signature_md(c, EVP_sha256()) > 0
             && EVP_PKEY_sign(c, buf, &len, tbs, sizeof(tbs)) > 0
             && EVP_PKEY_verify_init(c) > 0
             && EVP_PKEY_CTX_set_signature_md(c, EVP_sha256()) > 0
             && EVP_PKEY_verify(c, buf, len, tbs, sizeof(tbs)) == 1;
        break;
    case B_RSA_PSS_DIGEST_SIGN:
        ok = digest_sign_verify(b->libctx, b->rsa, 1);
        break;
    case B_RSA_DECRYPT:
        c = EVP_PKEY_CTX_new_from_pkey(b->libctx, b->rsa, NULL);
        ok = c != NULL && EVP_PKEY_decrypt_init(c) > 0
             && EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_OAEP_PADDING) > 0
             && EVP_PKEY_decrypt(c, buf, &len, b->ct, b->ctlen) > 0
             && len == sizeof(b->pt) && memcmp(buf, b->pt, len) == 0;
        break;
    case B_ECDSA_DIGEST_SIGN:
        ok = digest_sign_verify(b->libctx, b->ec, 0);
        break;
    case B_ECDH:
        ok = derive(b->libctx, b->ec, b->ec_peer, buf, &len) && len == b->ec_secretlen
             && memcmp(buf, b->ec_secret, len) == 0;
        break;
    case B_X25519:
        ok = derive(b->libctx, b->x, b->x_peer, buf, &len) && len == b->x_secretlen
             && memcmp(buf, b->x_secret, len) == 0;
        break;
    case B_EC_KEYGEN:
        gen = EVP_PKEY_Q_keygen(b->libctx, NULL, "EC", "P-256");
        ok = gen != NULL && held_by_uringprov(gen) && digest_sign_verify(b->libctx, gen, 0);
        break;
    }
    EVP_PKEY_CTX_free(c);
    EVP_PKEY_free(gen);
    return ok;
}

/* Keys made (outside any job) in libctx; peers' secrets computed by the peer side. */
static void battery_init(BATTERY *b, OSSL_LIB_CTX *libctx)
{
    EVP_PKEY_CTX *c;

    memset(b, 0, sizeof(*b));
    b->libctx = libctx;
    b->rsa = rsa_key(libctx, 1024);
    b->ec = EVP_PKEY_Q_keygen(libctx, NULL, "EC", "P-256");
    b->ec_peer = EVP_PKEY_Q_keygen(libctx, NULL, "EC", "P-256");
    b->x = EVP_PKEY_Q_keygen(libctx, NULL, "X25519");
    b->x_peer = EVP_PKEY_Q_keygen(libctx, NULL, "X25519");
    ck_assert(b->ec != NULL && b->ec_peer != NULL && b->x != NULL && b->x_peer != NULL);
    ck_assert(held_by_uringprov(b->ec) && held_by_uringprov(b->x));
    memset(b->pt, 0xa7, sizeof(b->pt));
    b->ctlen = sizeof(b->ct);
    c = EVP_PKEY_CTX_new_from_pkey(libctx, b->rsa, NULL);
    ck_assert(c != NULL && EVP_PKEY_encrypt_init(c) > 0
              && EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_OAEP_PADDING) > 0
              && EVP_PKEY_encrypt(c, b->ct, &b->ctlen, b->pt, sizeof(b->pt)) > 0);
    EVP_PKEY_CTX_free(c);
    b->ec_secretlen = sizeof(b->ec_secret);
    b->x_secretlen = sizeof(b->x_secret);
    ck_assert(derive(libctx, b->ec_peer, b->ec, b->ec_secret, &b->ec_secretlen));
    ck_assert(derive(libctx, b->x_peer, b->x, b->x_secret, &b->x_secretlen));
}

static void battery_free(BATTERY *b)
{
    EVP_PKEY_free(b->rsa);
    EVP_PKEY_free(b->ec);
    EVP_PKEY_free(b->ec_peer);
    EVP_PKEY_free(b->x);
    EVP_PKEY_free(b->x_peer);
}

/*
 * Runs every operation in its own job. offloaded: each must pause on exactly one fd (the worker did
 * it); else each must finish without pausing and leave no fd in the wait ctx (it ran inline).
 * Returns how many operations ran.
 */
static int battery_run(BATTERY *b, int offloaded)
{
    int i;

    for (i = 0; i < B_COUNT; i++) {
        BOP o = { b, i };
        JOB_STATS st;

        ck_assert_msg(run_job(bop_run, &o, &st) == 1, "%s failed in a job", bop_names[i]);
        if (offloaded) {
            ck_assert_msg(st.pauses >= 1, "%s did not pause", bop_names[i]);
            ck_assert_msg(st.fds_seen == 1, "%s: %d fds at a pause", bop_names[i], st.fds_seen);
        } else {
            ck_assert_msg(st.pauses == 0, "%s paused %d times", bop_names[i], st.pauses);
            ck_assert_msg(st.fds_left == 0, "%s ran inline but left %d fds in the wait ctx",
                          bop_names[i], st.fds_left);
        }
    }
    return B_COUNT;
}

/* ---- 1. connections closed while their private-key operation is in flight ------------------ */

typedef struct {
    OSSL_LIB_CTX *libctx;
    EVP_PKEY *key;
    X509 *cert;
    SSL_CTX *sctx;
    unsigned char hello[4096];      /* one client's ClientHello, replayed to every server */
    int hello_len;
} TLS_ENV;

static X509 *self_signed(OSSL_LIB_CTX *libctx, EVP_PKEY *key)
{
    X509 *x = X509_new_ex(libctx, NULL);
    /* A name of its own: the certificate's is const from OpenSSL 4.0 on. */
    X509_NAME *name = X509_NAME_new();
    int ok;

    ck_assert_ptr_nonnull(x);
    ck_assert_ptr_nonnull(name);
    ok = X509_set_version(x, X509_VERSION_3) && ASN1_INTEGER_set(X509_get_serialNumber(x), 1)
         && X509_gmtime_adj(X509_getm_notBefore(x), -3600) != NULL
         && X509_gmtime_adj(X509_getm_notAfter(x), 86400L) != NULL && X509_set_pubkey(x, key)
         && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"faults",
                                       -1, -1, 0)
         && X509_set_subject_name(x, name) && X509_set_issuer_name(x, name)
         && X509_sign(x, key, EVP_sha256()) > 0;
    X509_NAME_free(name);
    ck_assert_msg(ok, "cannot make the server certificate");
    return x;
}

static SSL_CTX *tls_ctx(TLS_ENV *t, int server)
{
    SSL_CTX *ctx = SSL_CTX_new_ex(t->libctx, NULL, server ? TLS_server_method()
                                                          : TLS_client_method());

    ck_assert_ptr_nonnull(ctx);
    /* RSA-1024 keeps 10,000 handshakes cheap; it needs security level 1. */
    SSL_CTX_set_security_level(ctx, 1);
    ck_assert(SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION)
              && SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION)
              && SSL_CTX_set1_groups_list(ctx, "x25519") == 1);
    if (server) {
        SSL_CTX_set_mode(ctx, SSL_MODE_ASYNC);
        ck_assert(SSL_CTX_use_certificate(ctx, t->cert) == 1
                  && SSL_CTX_use_PrivateKey(ctx, t->key) == 1);
    }
    return ctx;
}

static void tls_env_init(TLS_ENV *t, const char *conf)
{
    SSL_CTX *cctx;
    SSL *c;
    BIO *rb, *wb;

    memset(t, 0, sizeof(*t));
    t->libctx = uot_libctx_new(conf);
    ck_assert_msg(t->libctx != NULL, "uringprov did not load");
    t->key = rsa_key(t->libctx, 1024);
    t->cert = self_signed(t->libctx, t->key);
    t->sctx = tls_ctx(t, 1);
    cctx = tls_ctx(t, 0);
    c = SSL_new(cctx);
    rb = BIO_new(BIO_s_mem());
    wb = BIO_new(BIO_s_mem());
    ck_assert(c != NULL && rb != NULL && wb != NULL);
    SSL_set_bio(c, rb, wb);
    ck_assert_int_eq(SSL_connect(c), -1);
    ck_assert_int_eq(SSL_get_error(c, -1), SSL_ERROR_WANT_READ);
    t->hello_len = BIO_read(wb, t->hello, sizeof(t->hello));
    ck_assert_int_gt(t->hello_len, 0);
    SSL_free(c);
    SSL_CTX_free(cctx);
}

static void tls_env_free(TLS_ENV *t)
{
    SSL_CTX_free(t->sctx);
    X509_free(t->cert);
    EVP_PKEY_free(t->key);
    OSSL_LIB_CTX_free(t->libctx);
}

typedef struct {
    atomic_int fired;               /* callback mode: completions the worker announced */
    atomic_int freed;               /* the test has freed the SSL */
} CONN_CB;

/* Callbacks that came for an SSL already freed: libssl read the freed SSL to make them. */
static atomic_int late_callbacks;

static int conn_async_cb(SSL *s, void *arg)
{
    CONN_CB *cb = arg;

    (void)s;
    if (atomic_load(&cb->freed))
        atomic_fetch_add(&late_callbacks, 1);
    atomic_fetch_add(&cb->fired, 1);
    return 1;
}

typedef struct {
    int sv[2];
    SSL *ssl;
    int stages;                     /* SSL_ERROR_WANT_ASYNC seen so far */
    OSSL_ASYNC_FD async_fd;         /* fd mode: the fd of the last pause */
    CONN_CB *cb;                    /* NULL: fd mode */
} CONN;

static void conn_open(TLS_ENV *t, CONN *c, CONN_CB *cb)
{
    memset(c, 0, sizeof(*c));
    c->async_fd = -1;
    c->cb = cb;
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, c->sv), 0);
    ck_assert_int_eq(write(c->sv[1], t->hello, (size_t)t->hello_len), t->hello_len);
    c->ssl = SSL_new(t->sctx);
    ck_assert_ptr_nonnull(c->ssl);
    ck_assert(SSL_set_fd(c->ssl, c->sv[0]) == 1);
    SSL_set_accept_state(c->ssl);
    if (cb != NULL) {
        atomic_init(&cb->fired, 0);
        SSL_set_async_callback(c->ssl, conn_async_cb);
        SSL_set_async_callback_arg(c->ssl, cb);
    }
}

/*
 * Drives the server until its next SSL_ERROR_WANT_ASYNC (returns 1) or until it has sent its whole
 * first flight and waits for the client (returns 0).
 */
static int conn_step(CONN *c)
{
    int r = SSL_do_handshake(c->ssl), e;

    ck_assert_msg(r <= 0, "the handshake cannot finish without the client");
    e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ)
        return 0;
    ck_assert_msg(e == SSL_ERROR_WANT_ASYNC, "SSL_get_error %d: %s", e,
                  ERR_reason_error_string(ERR_peek_last_error()));
    c->stages++;
    if (c->cb == NULL) {
        size_t n = 0;

        ck_assert(SSL_get_all_async_fds(c->ssl, NULL, &n));
        ck_assert_msg(n == 1, "paused with %zu async fds", n);
        ck_assert(SSL_get_all_async_fds(c->ssl, &c->async_fd, &n));
    }
    return 1;
}

/* Waits until the worker announced the completion of the operation the job paused on. */
static void conn_wait(CONN *c, int announced)
{
    if (c->cb == NULL) {
        struct pollfd p = { c->async_fd, POLLIN, 0 };

        ck_assert_msg(poll(&p, 1, 30000) == 1, "async fd %d never became readable", c->async_fd);
    } else {
        int i;

        for (i = 0; atomic_load(&c->cb->fired) < announced; i++) {
            ck_assert_msg(i < 30000000, "the async callback never came");
            sched_yield();
        }
    }
}

static void conn_close(CONN *c)
{
    SSL_free(c->ssl);
    if (c->cb != NULL)
        atomic_store(&c->cb->freed, 1);
    close(c->sv[0]);
    close(c->sv[1]);
}

/* How many times one server pauses in its first flight when nobody interrupts it. */
static int full_flight_stages(TLS_ENV *t)
{
    CONN c;
    int n;

    conn_open(t, &c, NULL);
    while (conn_step(&c))
        conn_wait(&c, c.stages);
    n = c.stages;
    conn_close(&c);
    return n;
}

/* fds opened right after an SSL_free to take the numbers it released; nothing may write to them. */
#define DECOY_MAX 1024

typedef struct {
    int fd[DECOY_MAX];
    int is_pipe[DECOY_MAX];         /* 1: read end of a pipe whose write end is fd + 1 entry */
    int n;
} DECOYS;

static void decoys_open(DECOYS *d)
{
    int p[2];

    ck_assert(d->n + 4 <= DECOY_MAX);
    d->fd[d->n] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    d->is_pipe[d->n++] = 0;
    d->fd[d->n] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    d->is_pipe[d->n++] = 0;
    ck_assert_int_eq(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
    d->fd[d->n] = p[0];
    d->is_pipe[d->n++] = 1;
    d->fd[d->n] = p[1];
    d->is_pipe[d->n++] = 2;
    ck_assert(d->fd[d->n - 4] >= 0 && d->fd[d->n - 3] >= 0);
}

static int decoys_have(const DECOYS *d, int fd)
{
    int i;

    for (i = 0; i < d->n; i++)
        if (d->fd[i] == fd)
            return 1;
    return 0;
}

/* Every eventfd still at 0 and every pipe still empty; then closes them all. */
static void decoys_check_close(DECOYS *d)
{
    int i;

    for (i = 0; i < d->n; i++) {
        uint64_t v = 0;
        char b;
        ssize_t r;

        if (d->is_pipe[i] == 0) {
            r = read(d->fd[i], &v, sizeof(v));
            ck_assert_msg(r < 0 && errno == EAGAIN,
                          "stray write: decoy eventfd %d holds %llu", d->fd[i],
                          (unsigned long long)v);
        } else if (d->is_pipe[i] == 1) {
            r = read(d->fd[i], &b, 1);
            ck_assert_msg(r < 0 && errno == EAGAIN, "stray write: decoy pipe %d has data",
                          d->fd[i]);
        }
        close(d->fd[i]);
    }
    d->n = 0;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define DECOY_BATCH 100

/*
 * Connection i is freed at its (1 + i % stages)-th pause, either at once (the request queued or
 * running) or after its completion was announced (the write landed or the callback ran, and the job
 * was never resumed). After each SSL_free, decoy fds take the lowest free numbers, which include
 * the ones that free released. Every DECOY_BATCH connections, once uringprov is quiet, no decoy may
 * have been written to, and the process must hold its baseline fds plus the decoys: a waiter or
 * request left behind keeps an eventfd open.
 */
static void close_midflight(int cbmode, int nconns)
{
    TLS_ENV t;
    DECOYS d = { .n = 0 };
    CONN_CB *cbs = NULL;
    int i, stages, base_fds, base_threads, reused = 0, freed_at[8] = { 0 }, freed_done = 0;
    double t0;

    tls_env_init(&t, NULL);
    stages = full_flight_stages(&t);
    ck_assert_msg(stages >= 1, "the server never paused: nothing went through uringprov");
    ck_assert_msg(stages < 8, "%d pauses in one flight", stages);
    ck_assert(wait_no_waiters(t.libctx, NULL, 0));
    base_fds = fd_count();
    base_threads = uot_worker_threads(NULL, 0);
    ck_assert_int_ge(base_threads, 1);
    if (cbmode) {
        cbs = calloc((size_t)nconns, sizeof(*cbs));
        ck_assert_ptr_nonnull(cbs);
    }
    t0 = now_s();
    for (i = 0; i < nconns; i++) {
        int target = 1 + i % stages, after_done = (i / stages) % 2;
        OSSL_ASYNC_FD last_fd;
        CONN c;

        conn_open(&t, &c, cbmode ? &cbs[i] : NULL);
        while (c.stages < target && conn_step(&c))
            if (c.stages < target || after_done)
                conn_wait(&c, c.stages);
        ck_assert_msg(c.stages == target, "connection %d: %d pauses, wanted %d", i, c.stages,
                      target);
        freed_at[target]++;
        freed_done += after_done;
        last_fd = c.async_fd;
        conn_close(&c);
        decoys_open(&d);
        if (last_fd >= 0 && decoys_have(&d, last_fd))
            reused++;
        if (d.n + 4 > DECOY_BATCH * 4 || i == nconns - 1) {
            ck_assert_msg(wait_no_waiters(t.libctx, d.fd, d.n),
                          "after %d connections: %d waiters and %llu requests still live", i + 1,
                          waiter_fds(d.fd, d.n),
                          (unsigned long long)uot_counter(t.libctx, "uringprov-inflight"));
            ck_assert_int_eq(fd_count(), base_fds + d.n);
            decoys_check_close(&d);
        }
    }
    fprintf(stderr, "close_midflight(%s): %d connections in %.2f s; freed at pause 1..%d:",
            cbmode ? "callback" : "fd", nconns, now_s() - t0, stages);
    for (i = 1; i <= stages; i++)
        fprintf(stderr, " %d", freed_at[i]);
    fprintf(stderr, "; %d after the completion; %d async fd numbers reused by a decoy\n",
            freed_done, reused);
    ck_assert_msg(atomic_load(&late_callbacks) == 0,
                  "%d async callbacks came after their SSL was freed (use after free in libssl)",
                  atomic_load(&late_callbacks));
    ck_assert_uint_eq(uot_counter(t.libctx, "uringprov-inflight"), 0);
    ck_assert_uint_eq(uot_counter(t.libctx, "uringprov-fallbacks"), 0);
    ck_assert_uint_ge(uot_counter(t.libctx, "uringprov-offloaded"), (uint64_t)nconns);
    ck_assert_int_eq(fd_count(), base_fds);
    ck_assert_int_eq(uot_worker_threads(NULL, 0), base_threads);
    free(cbs);
    tls_env_free(&t);
}

START_TEST(closed_midflight_fd)
{
    close_midflight(0, CONNS_FD);
}
END_TEST

START_TEST(closed_midflight_callback)
{
    close_midflight(1, CONNS_CB);
}
END_TEST

/* ---- jobs that sign, started and resumed by an event loop ---------------------------------- */

typedef struct {
    OSSL_LIB_CTX *libctx;
    EVP_PKEY *key;
    ASYNC_JOB *job;
    ASYNC_WAIT_CTX *wctx;
    int ret;
    int pauses;
    int finished;
    int cbmode;                     /* the wait ctx has a callback: resume on `fired` */
    atomic_int fired;
    unsigned char tbs[32];
    unsigned char sig[256];
    size_t siglen;
} SJOB;

static int sjob_main(void *v)
{
    SJOB *j = *(SJOB **)v;
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(j->libctx, j->key, NULL);
    int ok;

    j->siglen = sizeof(j->sig);
    ok = c != NULL && EVP_PKEY_sign_init(c) > 0
         && EVP_PKEY_CTX_set_signature_md(c, EVP_sha256()) > 0
         && EVP_PKEY_sign(c, j->sig, &j->siglen, j->tbs, sizeof(j->tbs)) > 0;
    EVP_PKEY_CTX_free(c);
    return ok;
}

static SJOB *sjobs_new(OSSL_LIB_CTX *libctx, EVP_PKEY *key, int n)
{
    SJOB *js = calloc((size_t)n, sizeof(*js));
    int i;

    ck_assert_ptr_nonnull(js);
    for (i = 0; i < n; i++) {
        js[i].libctx = libctx;
        js[i].key = key;
        js[i].wctx = ASYNC_WAIT_CTX_new();
        ck_assert_ptr_nonnull(js[i].wctx);
        memset(js[i].tbs, 0, sizeof(js[i].tbs));
        memcpy(js[i].tbs, &i, sizeof(i));
    }
    return js;
}

static int sjob_step(SJOB *j)
{
    SJOB *self = j;
    int rc = ASYNC_start_job(&j->job, j->wctx, &j->ret, sjob_main, &self, sizeof(self));

    ck_assert_msg(rc == ASYNC_PAUSE || rc == ASYNC_FINISH, "ASYNC_start_job: %d", rc);
    if (rc == ASYNC_PAUSE)
        j->pauses++;
    else
        j->finished = 1;
    return rc;
}

static size_t wctx_fds(ASYNC_WAIT_CTX *wctx, OSSL_ASYNC_FD *fd)
{
    size_t n = 0;

    ck_assert(ASYNC_WAIT_CTX_get_all_fds(wctx, NULL, &n));
    if (n == 1 && fd != NULL)
        ASYNC_WAIT_CTX_get_all_fds(wctx, fd, &n);
    return n;
}

/* Resumes the paused jobs as their fds (or callbacks) say they can go, until all have finished. */
static void sjobs_drive(SJOB *js, int n)
{
    struct pollfd *pfd = calloc((size_t)n, sizeof(*pfd));
    int *who = calloc((size_t)n, sizeof(*who));
    int idle_rounds = 0;

    ck_assert(pfd != NULL && who != NULL);
    for (;;) {
        int i, np = 0, live = 0, cb_ready = 0, rc;

        for (i = 0; i < n; i++) {
            OSSL_ASYNC_FD fd;

            if (js[i].finished)
                continue;
            live++;
            if (js[i].cbmode) {
                if (atomic_load(&js[i].fired) > 0) {
                    atomic_store(&js[i].fired, 0);
                    sjob_step(&js[i]);
                    cb_ready++;
                }
                continue;
            }
            ck_assert_msg(wctx_fds(js[i].wctx, &fd) == 1, "job %d paused without one fd", i);
            pfd[np].fd = fd;
            pfd[np].events = POLLIN;
            who[np++] = i;
        }
        if (live == 0)
            break;
        rc = np > 0 ? poll(pfd, (nfds_t)np, cb_ready ? 0 : 10) : 0;
        ck_assert(rc >= 0 || errno == EINTR);
        for (i = 0; i < np && rc > 0; i++)
            if (pfd[i].revents != 0)
                sjob_step(&js[who[i]]);
        idle_rounds = rc > 0 || cb_ready ? 0 : idle_rounds + 1;
        ck_assert_msg(idle_rounds < 3000, "%d jobs stuck: no fd readable for 30 s", live);
    }
    free(pfd);
    free(who);
}

static void sjobs_verify_free(SJOB *js, int n)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(js[0].libctx, js[0].key, NULL);
    int i;

    ck_assert(c != NULL && EVP_PKEY_verify_init(c) > 0
              && EVP_PKEY_CTX_set_signature_md(c, EVP_sha256()) > 0);
    for (i = 0; i < n; i++) {
        ck_assert_msg(js[i].finished && js[i].ret == 1, "job %d did not sign", i);
        ck_assert_msg(EVP_PKEY_verify(c, js[i].sig, js[i].siglen, js[i].tbs, sizeof(js[i].tbs))
                      == 1, "job %d: bad signature", i);
        ASYNC_WAIT_CTX_free(js[i].wctx);
    }
    EVP_PKEY_CTX_free(c);
    free(js);
}

/* ---- 2. fork ------------------------------------------------------------------------------- */

/* In a child: runs the battery (offloaded), and its own sync-mode operation. Returns normally. */
static void child_ops(BATTERY *b, ASYNC_WAIT_CTX *inherited)
{
    OSSL_LIB_CTX *libctx = b->libctx;
    uint64_t off0 = uot_counter(libctx, "uringprov-offloaded");
    SJOB *j;
    OSSL_ASYNC_FD fd = -1;
    EVP_PKEY *k;

    battery_run(b, 1);
    /* sync_mode = offload: a call outside any job goes to this process's workers too. */
    k = EVP_PKEY_Q_keygen(libctx, NULL, "EC", "P-256");
    ck_assert(k != NULL && digest_sign_verify(libctx, k, 0));
    EVP_PKEY_free(k);
    ck_assert_uint_ge(uot_counter(libctx, "uringprov-offloaded") - off0, B_COUNT + 2);
    ck_assert_uint_ge(uot_counter(libctx, "uringprov-workers"), 1);
    ck_assert_uint_eq(uot_counter(libctx, "uringprov-fallbacks"), 0);

    /* A job on a wait ctx inherited from the parent pauses on an eventfd of this process. */
    j = sjobs_new(libctx, b->rsa, 1);
    ASYNC_WAIT_CTX_free(j->wctx);
    j->wctx = inherited;
    ck_assert_int_eq(sjob_step(j), ASYNC_PAUSE);
    ck_assert_uint_eq(wctx_fds(inherited, &fd), 1);
    sjobs_drive(j, 1);
    ck_assert_int_eq(j->ret, 1);
    j->wctx = ASYNC_WAIT_CTX_new();   /* the inherited one is the caller's to free */
    sjobs_verify_free(j, 1);
}

static int wait_child(pid_t pid)
{
    int status;

    while (waitpid(pid, &status, 0) < 0)
        ck_assert_int_eq(errno, EINTR);
    ck_assert_msg(WIFEXITED(status), "child %d died with signal %d", (int)pid,
                  WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    return WEXITSTATUS(status);
}

/*
 * The parent loads the provider and offloads, then forks with one job's request in flight. The
 * child offloads on workers of its own (the parent's threads do not exist there), on a fresh wait
 * ctx and on one it inherited, then forks a grandchild that does the same. The parent's in-flight
 * job must complete in the parent, its inherited eventfd must never be written by the children,
 * and the parent keeps offloading afterwards.
 */
START_TEST(fork_parent_child_grandchild)
{
    OSSL_LIB_CTX *libctx = uot_libctx_new("sync_mode = offload\n");
    BATTERY b;
    SJOB *inflight, *shared;
    OSSL_ASYNC_FD shared_fd = -1;
    uint64_t v;
    pid_t pid;

    ck_assert_ptr_nonnull(libctx);
    battery_init(&b, libctx);
    battery_run(&b, 1);
    ck_assert_uint_ge(uot_counter(libctx, "uringprov-workers"), 1);

    /* A wait ctx that holds uringprov's eventfd, idle at fork time. */
    shared = sjobs_new(libctx, b.rsa, 1);
    ck_assert_int_eq(sjob_step(shared), ASYNC_PAUSE);
    sjobs_drive(shared, 1);
    ck_assert_uint_eq(wctx_fds(shared->wctx, &shared_fd), 1);
    /* And a job paused with its request on a worker. */
    inflight = sjobs_new(libctx, b.rsa, 1);
    ck_assert_int_eq(sjob_step(inflight), ASYNC_PAUSE);

    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        pid_t gpid;

        child_ops(&b, shared->wctx);
        gpid = fork();
        if (gpid == 0) {
            child_ops(&b, shared->wctx);
            _exit(0);
        }
        _exit(gpid > 0 && wait_child(gpid) == 0 ? 0 : 1);
    }
    ck_assert_int_eq(wait_child(pid), 0);

    sjobs_drive(inflight, 1);
    ck_assert_int_eq(inflight->pauses, 1);
    sjobs_verify_free(inflight, 1);
    ck_assert_msg(read(shared_fd, &v, sizeof(v)) < 0 && errno == EAGAIN,
                  "a child wrote to the parent's eventfd");
    ck_assert_uint_eq(wctx_fds(shared->wctx, NULL), 1);
    sjobs_verify_free(shared, 1);
    battery_run(&b, 1);
    ck_assert_uint_eq(uot_counter(libctx, "uringprov-fallbacks"), 0);
    battery_free(&b);
    OSSL_LIB_CTX_free(libctx);
}
END_TEST

/* ---- 3. io_uring unavailable --------------------------------------------------------------- */

static void no_uring_battery(const char *why_in_log)
{
    off_t off = log_size();
    OSSL_LIB_CTX *libctx = uot_libctx_new(NULL);
    BATTERY b;
    uint64_t off0;

    ck_assert_ptr_nonnull(libctx);
    battery_init(&b, libctx);
    off0 = uot_counter(libctx, "uringprov-offloaded");
    battery_run(&b, 1);
    ck_assert_uint_ge(uot_counter(libctx, "uringprov-offloaded") - off0, B_COUNT);
    ck_assert_uint_ge(uot_counter(libctx, "uringprov-pauses"), B_COUNT);
    ck_assert_uint_ge(uot_counter(libctx, "uringprov-workers"), 1);
    ck_assert_uint_eq(uot_counter(libctx, "uringprov-io-uring"), 0);
    ck_assert_uint_eq(uot_counter(libctx, "uringprov-fallbacks"), 0);
    if (log_count(off, why_in_log) != 1)
        log_dump(off);
    ck_assert_msg(log_count(off, why_in_log) == 1, "the log does not say '%s' once", why_in_log);
    battery_free(&b);
    OSSL_LIB_CTX_free(libctx);
}

START_TEST(no_uring_env)
{
    ck_assert_int_eq(setenv("URINGPROV_NO_URING", "1", 1), 0);
    no_uring_battery("io_uring switched off by URINGPROV_NO_URING");
}
END_TEST

static void seccomp_install(int nrules, const int *syscalls, const int *errnos, int clone_thread)
{
    scmp_filter_ctx f = seccomp_init(SCMP_ACT_ALLOW);
    int i;

    ck_assert_ptr_nonnull(f);
    for (i = 0; i < nrules; i++) {
        if (syscalls[i] == SCMP_SYS(clone) && clone_thread)
            ck_assert_int_eq(seccomp_rule_add(f, SCMP_ACT_ERRNO(errnos[i]), syscalls[i], 1,
                                              SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD,
                                                      CLONE_THREAD)), 0);
        else
            ck_assert_int_eq(seccomp_rule_add(f, SCMP_ACT_ERRNO(errnos[i]), syscalls[i], 0), 0);
    }
    ck_assert_int_eq(seccomp_load(f), 0);
    seccomp_release(f);
}

static void no_uring_seccomp(int err)
{
    int sys[1] = { SCMP_SYS(io_uring_setup) }, errs[1] = { err };
    char why[128];
    long rc;

    seccomp_install(1, sys, errs, 0);
    /* The filter is real: the syscall itself now fails as the kernel would without io_uring. */
    rc = syscall(__NR_io_uring_setup, 2, NULL);
    ck_assert_msg(rc == -1 && errno == err, "io_uring_setup: %ld, errno %d", rc, errno);
    snprintf(why, sizeof(why), "io_uring unavailable (%s)", strerror(err));
    no_uring_battery(why);
}

START_TEST(no_uring_seccomp_enosys)
{
    no_uring_seccomp(ENOSYS);
}
END_TEST

START_TEST(no_uring_seccomp_eperm)
{
    no_uring_seccomp(EPERM);
}
END_TEST

/* ---- 4. no file descriptor left for the wait ctx's eventfd --------------------------------- */

#define NOFD_WARNING "operations in ASYNC jobs run inline until fds are available"

START_TEST(nofile_exhausted)
{
    OSSL_LIB_CTX *libctx = uot_libctx_new(NULL);
    BATTERY b;
    struct rlimit rl, saved;
    int *held, nheld = 0, i;
    uint64_t fb0;
    off_t off;

    ck_assert_ptr_nonnull(libctx);
    battery_init(&b, libctx);
    battery_run(&b, 1); /* the workers and their rings exist before the fds run out */
    ck_assert(wait_no_waiters(libctx, NULL, 0));

    off = log_size();
    fb0 = uot_counter(libctx, "uringprov-fallbacks");
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &saved), 0);
    rl = saved;
    rl.rlim_cur = (rlim_t)fd_count() + 64;
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
    held = calloc(rl.rlim_cur, sizeof(*held));
    ck_assert_ptr_nonnull(held);
    for (;;) {
        int fd = eventfd(0, EFD_CLOEXEC);

        if (fd < 0) {
            ck_assert_int_eq(errno, EMFILE);
            break;
        }
        held[nheld++] = fd;
    }
    ck_assert_int_gt(nheld, 0);

    /* Every operation completes on this thread, without pausing and without an fd in the ctx. */
    battery_run(&b, 0);
    battery_run(&b, 0);
    ck_assert_uint_ge(uot_counter(libctx, "uringprov-fallbacks") - fb0, 2 * B_COUNT);

    /* fds back (the log can be read again): offloading resumes. */
    for (i = 0; i < nheld; i++)
        close(held[i]);
    free(held);
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &saved), 0);
    fb0 = uot_counter(libctx, "uringprov-fallbacks");
    battery_run(&b, 1);
    ck_assert_uint_eq(uot_counter(libctx, "uringprov-fallbacks"), fb0);
    /* One warning for the whole episode, not one per operation. */
    if (log_count(off, NOFD_WARNING) != 1)
        log_dump(off);
    ck_assert_msg(log_count(off, NOFD_WARNING) == 1,
                  "expected exactly one warning, found %d", log_count(off, NOFD_WARNING));
    ck_assert_int_eq(log_count(off, "eventfd: Too many open files"), 1);
    battery_free(&b);
    OSSL_LIB_CTX_free(libctx);
}
END_TEST

/* ---- 5. a full queue ----------------------------------------------------------------------- */

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int open;
    atomic_int entered;
} gate = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0 };

/* The first job's completion callback: holds the only worker until the test opens the gate. */
static int gate_cb(void *arg)
{
    SJOB *j = arg;

    atomic_store(&gate.entered, 1);
    pthread_mutex_lock(&gate.mu);
    while (!gate.open)
        pthread_cond_wait(&gate.cv, &gate.mu);
    pthread_mutex_unlock(&gate.mu);
    atomic_fetch_add(&j->fired, 1);
    return 1;
}

#define SAT_JOBS 4096
#define SAT_BOUND 64

/*
 * 4,096 jobs sign at once against queue_bound = 64 and one worker, which the first job's callback
 * holds: exactly 64 requests queue, every other one runs inline on the caller's thread without
 * pausing (and leaves no fd behind), and every job completes with a valid signature.
 */
START_TEST(queue_saturation)
{
    OSSL_LIB_CTX *libctx = uot_libctx_new("workers = 1\nqueue_bound = 64\n");
    EVP_PKEY *key;
    SJOB *js;
    struct rlimit rl;
    int i, paused = 0, inline_done = 0, base_fds;
    uint64_t off0, fb0;

    ck_assert_ptr_nonnull(libctx);
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    ck_assert_msg(rl.rlim_cur >= SAT_JOBS + 256, "RLIMIT_NOFILE %llu is too low for %d jobs",
                  (unsigned long long)rl.rlim_cur, SAT_JOBS);
    key = rsa_key(libctx, 1024);
    /* Warm up: the worker exists and is idle. */
    js = sjobs_new(libctx, key, 1);
    ck_assert_int_eq(sjob_step(js), ASYNC_PAUSE);
    sjobs_drive(js, 1);
    sjobs_verify_free(js, 1);
    ck_assert(wait_no_waiters(libctx, NULL, 0));
    base_fds = fd_count();
    js = sjobs_new(libctx, key, SAT_JOBS);
    off0 = uot_counter(libctx, "uringprov-offloaded");
    fb0 = uot_counter(libctx, "uringprov-fallbacks");

    js[0].cbmode = 1;
    ck_assert(ASYNC_WAIT_CTX_set_callback(js[0].wctx, gate_cb, &js[0]));
    ck_assert_int_eq(sjob_step(&js[0]), ASYNC_PAUSE);
    for (i = 0; !atomic_load(&gate.entered); i++) {
        ck_assert_msg(i < 30000, "the worker never reached the first job's callback");
        sleep_ms(1);
    }
    for (i = 1; i < SAT_JOBS; i++) {
        if (sjob_step(&js[i]) == ASYNC_PAUSE) {
            paused++;
            ck_assert_uint_eq(wctx_fds(js[i].wctx, NULL), 1);
        } else {
            inline_done++;
            ck_assert_int_eq(js[i].ret, 1);
            ck_assert_msg(wctx_fds(js[i].wctx, NULL) == 0,
                          "job %d ran inline (queue full) but left an fd in its wait ctx", i);
        }
    }
    ck_assert_int_eq(paused, SAT_BOUND);
    ck_assert_int_eq(inline_done, SAT_JOBS - 1 - SAT_BOUND);
    ck_assert_uint_eq(uot_counter(libctx, "uringprov-offloaded") - off0, 1 + SAT_BOUND);
    ck_assert_uint_eq(uot_counter(libctx, "uringprov-fallbacks") - fb0, inline_done);
    /* The first job's task is done (its completion is being announced): not counted in flight. */
    ck_assert_uint_eq(uot_counter(libctx, "uringprov-inflight"), SAT_BOUND);

    pthread_mutex_lock(&gate.mu);
    gate.open = 1;
    pthread_cond_broadcast(&gate.cv);
    pthread_mutex_unlock(&gate.mu);
    sjobs_drive(js, SAT_JOBS);
    ck_assert_uint_eq(uot_counter(libctx, "uringprov-inflight"), 0);
    ck_assert_uint_eq(uot_counter(libctx, "uringprov-offloaded") - off0
                      + uot_counter(libctx, "uringprov-fallbacks") - fb0, SAT_JOBS);
    sjobs_verify_free(js, SAT_JOBS);
    ck_assert(wait_no_waiters(libctx, NULL, 0));
    ck_assert_int_eq(fd_count(), base_fds);
    EVP_PKEY_free(key);
    OSSL_LIB_CTX_free(libctx);
}
END_TEST

/* ---- 6. the provider unloaded while operations are in flight ------------------------------- */

/*
 * A library context whose configuration describes uringprov without activating it, so that the
 * test's OSSL_PROVIDER_load is its only activation and OSSL_PROVIDER_unload really unloads it.
 */
static OSSL_LIB_CTX *libctx_unloadable(const char *extra, OSSL_PROVIDER **prov)
{
    char conf[2048];
    OSSL_LIB_CTX *libctx;

    snprintf(conf, sizeof(conf), "openssl_conf = openssl_init\n"
             "[openssl_init]\nproviders = provider_sect\nalg_section = algorithm_sect\n"
             "[provider_sect]\ndefault = default_sect\nuringprov = uringprov_sect\n"
             "[default_sect]\nactivate = 1\n"
             "[uringprov_sect]\n%s\n"
             "[algorithm_sect]\ndefault_properties = ?provider=uringprov\n", extra);
    libctx = uot_libctx_from_conf(conf);
    ck_assert_ptr_nonnull(libctx);
    ck_assert(!OSSL_PROVIDER_available(libctx, "uringprov"));
    *prov = OSSL_PROVIDER_load(libctx, "uringprov");
    ck_assert_msg(*prov != NULL, "uringprov did not load");
    return libctx;
}

static uint64_t prov_counter(OSSL_PROVIDER *prov, const char *name)
{
    uint64_t v = 0;
    OSSL_PARAM p[2];

    p[0] = OSSL_PARAM_construct_uint64(name, &v);
    p[1] = OSSL_PARAM_construct_end();
    ck_assert(OSSL_PROVIDER_get_params(prov, p));
    return v;
}

typedef struct {
    OSSL_LIB_CTX *libctx;
    EVP_PKEY *key;
    EVP_PKEY_CTX *early;            /* made before the unload, used after it */
    atomic_int done;
    atomic_int stop;
    int failures;
} SIGNER;

static void *signer_main(void *arg)
{
    SIGNER *s = arg;
    unsigned char tbs[32] = { 7 }, sig[256];
    int i;

    for (i = 0; !atomic_load(&s->stop) || i < 200; i++) {
        EVP_PKEY_CTX *c = i % 2 ? s->early : EVP_PKEY_CTX_new_from_pkey(s->libctx, s->key, NULL);
        size_t len = sizeof(sig);
        int ok;

        ok = c != NULL && (c == s->early || EVP_PKEY_sign_init(c) > 0)
             && EVP_PKEY_sign(c, sig, &len, tbs, sizeof(tbs)) > 0;
        if (c != s->early)
            EVP_PKEY_CTX_free(c);
        if (!ok)
            s->failures++;
        atomic_fetch_add(&s->done, 1);
        if (i > 100000)
            break;
    }
    return NULL;
}

/*
 * A thread signs in a loop, synchronously but on uringprov's workers (sync_mode = offload), with
 * one context made before the unload and fresh ones, while the main thread unloads uringprov. The
 * objects that still refer to uringprov keep it (and its workers) alive; new fetches go elsewhere;
 * no operation fails. Once the last object goes, the workers are gone: the process is back to the
 * threads and fds it had before the load.
 */
START_TEST(unload_while_signing)
{
    int base_fds;
    OSSL_PROVIDER *prov;
    OSSL_LIB_CTX *libctx;
    SIGNER s;
    pthread_t th;
    off_t off = log_size();

    memset(&s, 0, sizeof(s));
    libctx = libctx_unloadable("sync_mode = offload\n", &prov);
    base_fds = fd_count();
    s.libctx = libctx;
    s.key = rsa_key(libctx, 1024);
    s.early = EVP_PKEY_CTX_new_from_pkey(libctx, s.key, NULL);
    ck_assert(s.early != NULL && EVP_PKEY_sign_init(s.early) > 0);
    ck_assert_int_eq(pthread_create(&th, NULL, signer_main, &s), 0);
    while (atomic_load(&s.done) < 50)
        sleep_ms(1);
    ck_assert_uint_ge(prov_counter(prov, "uringprov-offloaded"), 25);
    ck_assert_uint_ge(prov_counter(prov, "uringprov-workers"), 1);
    ck_assert_int_ge(uot_worker_threads(NULL, 0), 1);
    ck_assert(OSSL_PROVIDER_unload(prov));
    ck_assert(!OSSL_PROVIDER_available(libctx, "uringprov"));
    atomic_store(&s.stop, 1);
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    ck_assert_int_eq(s.failures, 0);
    /* Unloaded but not torn down: objects still use it, and the store holds it to the end. */
    ck_assert_int_eq(log_count(off, "stats: "), 0);
    EVP_PKEY_CTX_free(s.early);
    EVP_PKEY_free(s.key);
    OSSL_LIB_CTX_free(libctx);
    ck_assert_int_eq(log_count(off, "stats: "), 1);
    ck_assert_int_eq(uot_worker_threads(NULL, 0), 0);
    ck_assert_int_le(fd_count(), base_fds);
}
END_TEST

/*
 * 32 jobs pause with their requests on the workers; uringprov is unloaded; then the jobs are
 * resumed as their fds fire and finish normally. Freeing the last object tears uringprov down.
 */
START_TEST(unload_with_paused_jobs)
{
    OSSL_PROVIDER *prov;
    OSSL_LIB_CTX *libctx = libctx_unloadable("", &prov);
    EVP_PKEY *key = rsa_key(libctx, 2048);
    SJOB *js = sjobs_new(libctx, key, 32);
    off_t off = log_size();
    int i;

    for (i = 0; i < 32; i++)
        ck_assert_int_eq(sjob_step(&js[i]), ASYNC_PAUSE);
    ck_assert_int_ge(uot_worker_threads(NULL, 0), 1);
    ck_assert(OSSL_PROVIDER_unload(prov));
    sjobs_drive(js, 32);
    sjobs_verify_free(js, 32);
    ck_assert_int_eq(log_count(off, "stats: "), 0);
    EVP_PKEY_free(key);
    OSSL_LIB_CTX_free(libctx);
    ck_assert_int_eq(log_count(off, "stats: offloaded=32 "), 1);
    ck_assert_int_eq(uot_worker_threads(NULL, 0), 0);
}
END_TEST

/* An atexit handler registered before OpenSSL's own, so it runs after OPENSSL_cleanup. */
static void slow_exit_handler(void)
{
    sleep_ms(200);
}

/*
 * The process exits (exit(), so OPENSSL_cleanup runs from atexit) while jobs are paused and the
 * workers are busy with their requests, as a server worker does on a reload. Other libraries'
 * exit handlers may still run for a while after OpenSSL's cleanup (here: 200 ms of one, registered
 * earlier). uringprov's workers must not be inside libcrypto by then: the process must exit 0.
 */
START_TEST(exit_with_requests_in_flight)
{
    int round;

    for (round = 0; round < 8; round++) {
        pid_t pid = fork();

        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            OSSL_LIB_CTX *libctx;

            atexit(slow_exit_handler);
            libctx = uot_libctx_new(NULL);
            EVP_PKEY *key;
            SJOB *js;
            int i;

            if (libctx == NULL)
                _exit(2);
            key = EVP_PKEY_Q_keygen(libctx, NULL, "RSA", (size_t)2048);
            if (key == NULL)
                _exit(3);
            js = sjobs_new(libctx, key, 64);
            for (i = 0; i < 64; i++)
                if (sjob_step(&js[i]) != ASYNC_PAUSE)
                    _exit(4);
            if (round % 2)
                sched_yield();
            exit(0);
        }
        ck_assert_int_eq(wait_child(pid), 0);
    }
}
END_TEST

/* ---- 7. no worker thread can be created ---------------------------------------------------- */

static void *idle_thread(void *arg)
{
    return arg;
}

/*
 * A seccomp filter makes clone3 fail with ENOSYS (glibc then tries clone) and clone with
 * CLONE_THREAD fail with EAGAIN, as under RLIMIT_NPROC or a cgroup's pids.max: pthread_create
 * returns EAGAIN. uringprov must say so and run every operation inline, in a job or not.
 */
START_TEST(no_worker_threads)
{
    int sys[2] = { SCMP_SYS(clone3), SCMP_SYS(clone) }, errs[2] = { ENOSYS, EAGAIN };
    off_t off = log_size();
    OSSL_LIB_CTX *libctx;
    pthread_t th;
    BATTERY b;

    seccomp_install(2, sys, errs, 1);
    ck_assert_int_eq(pthread_create(&th, NULL, idle_thread, NULL), EAGAIN);
    libctx = uot_libctx_new("sync_mode = offload\n");
    ck_assert_ptr_nonnull(libctx);
    battery_init(&b, libctx);
    battery_run(&b, 0);
    ck_assert_uint_eq(uot_counter(libctx, "uringprov-workers"), 0);
    ck_assert_uint_eq(uot_counter(libctx, "uringprov-offloaded"), 0);
    ck_assert_uint_eq(uot_counter(libctx, "uringprov-pauses"), 0);
    ck_assert_uint_ge(uot_counter(libctx, "uringprov-fallbacks"), B_COUNT);
    if (log_count(off, "no worker thread could be created") != 1)
        log_dump(off);
    ck_assert_int_eq(log_count(off, "no worker thread could be created"), 1);
    ck_assert_int_ge(log_count(off, "cannot create worker thread 0: Resource temporarily"), 1);
    battery_free(&b);
    OSSL_LIB_CTX_free(libctx);
}
END_TEST

/* ---- the suite ----------------------------------------------------------------------------- */

static void raise_nofile(void)
{
    struct rlimit rl;

    /* Decoys and 4,096 concurrent jobs need more than a default soft limit of 1,024. */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max > 65536 ? 65536 : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void add(Suite *s, const char *name, const TTest *t, int timeout)
{
    TCase *tc = tcase_create(name);

    tcase_set_timeout(tc, timeout);
    tcase_add_test(tc, t);
    suite_add_tcase(s, tc);
}

int main(void)
{
    Suite *s = suite_create("faults");
    SRunner *sr;
    char env[128];
    int failed, fd;

    snprintf(log_path, sizeof(log_path), "/tmp/uot-faults-%d.log", (int)getpid());
    fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        perror(log_path);
        return EXIT_FAILURE;
    }
    close(fd);
    snprintf(env, sizeof(env), "file:%s,level:1", log_path);
    setenv("URINGPROV_DEBUG", env, 1);
    raise_nofile();

    add(s, "closed_midflight_fd", closed_midflight_fd, 600);
    add(s, "closed_midflight_callback", closed_midflight_callback, 600);
    add(s, "fork_parent_child_grandchild", fork_parent_child_grandchild, 120);
    add(s, "no_uring_env", no_uring_env, 60);
    add(s, "no_uring_seccomp_enosys", no_uring_seccomp_enosys, 60);
    add(s, "no_uring_seccomp_eperm", no_uring_seccomp_eperm, 60);
    add(s, "nofile_exhausted", nofile_exhausted, 60);
    add(s, "queue_saturation", queue_saturation, 300);
    add(s, "unload_while_signing", unload_while_signing, 120);
    add(s, "unload_with_paused_jobs", unload_with_paused_jobs, 120);
    add(s, "exit_with_requests_in_flight", exit_with_requests_in_flight, 120);
    add(s, "no_worker_threads", no_worker_threads, 60);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (failed == 0)
        unlink(log_path);
    else
        fprintf(stderr, "uringprov's debug log: %s\n", log_path);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

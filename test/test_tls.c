/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_tls.c - TLS end to end in one process: libssl on a library context that prefers uringprov,
 * SSL_MODE_ASYNC on both ends, over non-blocking socketpairs.
 *
 * One event loop drives every connection, as a server's would: it polls the sockets of the
 * connections that want to read or write, and the async fds of the ones that returned
 * SSL_ERROR_WANT_ASYNC. It learns those fds from SSL_get_changed_async_fds, as HAProxy does, and
 * checks its view against SSL_get_all_async_fds. Each test asserts that the handshake finished, that
 * data went both ways, that the side whose key uringprov holds saw SSL_ERROR_WANT_ASYNC, and that
 * uringprov's offloaded counter grew by at least one per private-key operation, with no fallback.
 *
 * Keys whose algorithm uringprov does not serve yet (EC, Ed25519 and the ECDHE groups before the EC
 * work lands) come from the default provider: those handshakes must still work, and the async
 * assertions then apply to the operations that uringprov does serve. Nothing of ours runs inside the
 * ASYNC jobs (no callbacks), so the 32 KiB job stacks hold only libssl's and the providers' frames.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/async.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "helpers/uo_test.h"

enum { K_CA, K_RSA, K_P256, K_P384, K_ED25519, K_CLIENT_RSA, K_COUNT };

static const char *const key_names[K_COUNT] = {
    "CA (P-256)", "RSA-2048", "ECDSA P-256", "ECDSA P-384", "Ed25519", "client RSA-2048"
};

static OSSL_LIB_CTX *libctx;
static EVP_PKEY *keys[K_COUNT];
static X509 *certs[K_COUNT];

/* ---- keys and certificates ----------------------------------------------------------------- */

static EVP_PKEY *keygen(int k)
{
    switch (k) {
    case K_RSA:
    case K_CLIENT_RSA:
        return EVP_PKEY_Q_keygen(libctx, NULL, "RSA", (size_t)2048);
    case K_CA:
    case K_P256:
        return EVP_PKEY_Q_keygen(libctx, NULL, "EC", "P-256");
    case K_P384:
        return EVP_PKEY_Q_keygen(libctx, NULL, "EC", "P-384");
    case K_ED25519:
        return EVP_PKEY_Q_keygen(libctx, NULL, "ED25519");
    }
    return NULL;
}

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v3;
    X509_EXTENSION *ext;
    int ok;

    X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    ok = ext != NULL && X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

/* A certificate for keys[k], signed by the CA (the CA's own is self-signed). */
static X509 *make_cert(int k)
{
    static long serial = 1;
    X509 *x = X509_new_ex(libctx, NULL);
    X509 *issuer = k == K_CA ? x : certs[K_CA];
    /* A name of its own: the certificate's is const from OpenSSL 4.0 on. */
    X509_NAME *name = X509_NAME_new();
    int ok;

    if (x == NULL || name == NULL) {
        X509_free(x);
        X509_NAME_free(name);
        return NULL;
    }
    ok = X509_set_version(x, X509_VERSION_3)
         && ASN1_INTEGER_set(X509_get_serialNumber(x), serial++)
         && X509_gmtime_adj(X509_getm_notBefore(x), -3600) != NULL
         && X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 2) != NULL
         && X509_set_pubkey(x, keys[k])
         && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                       (const unsigned char *)key_names[k], -1, -1, 0)
         && X509_set_subject_name(x, name)
         && X509_set_issuer_name(x, X509_get_subject_name(issuer))
         && add_ext(x, issuer, NID_basic_constraints,
                    k == K_CA ? "critical,CA:TRUE" : "critical,CA:FALSE")
         && X509_sign(x, keys[K_CA], EVP_sha256()) > 0;
    X509_NAME_free(name);
    if (!ok) {
        ERR_print_errors_fp(stderr);
        X509_free(x);
        return NULL;
    }
    return x;
}

/* Unchecked fixture: runs once in the parent, so RSA key generation is not paid per test. */
static void setup(void)
{
    int k;

    libctx = uot_libctx_new(NULL);
    ck_assert_msg(libctx != NULL, "uringprov did not load");
    for (k = 0; k < K_COUNT; k++) {
        keys[k] = keygen(k);
        ck_assert_msg(keys[k] != NULL, "cannot generate the %s key", key_names[k]);
        certs[k] = make_cert(k);
        ck_assert_msg(certs[k] != NULL, "cannot make the %s certificate", key_names[k]);
    }
}

static void teardown(void)
{
    int k;

    for (k = 0; k < K_COUNT; k++) {
        X509_free(certs[k]);
        EVP_PKEY_free(keys[k]);
        certs[k] = NULL;
        keys[k] = NULL;
    }
    OSSL_LIB_CTX_free(libctx);
    libctx = NULL;
}

/* 1 when uringprov holds the key, so that its private-key operations go through uringprov. */
static int uringprov_holds(int k)
{
    const OSSL_PROVIDER *p = EVP_PKEY_get0_provider(keys[k]);

    return p != NULL && strcmp(OSSL_PROVIDER_get0_name(p), "uringprov") == 0;
}

/* 1 when uringprov serves the key exchange of a TLS group (keymgmt name as libssl fetches it). */
static int uringprov_serves_group(const char *group)
{
    const char *alg = strcmp(group, "x25519") == 0 ? "X25519"
                      : strcmp(group, "x448") == 0 ? "X448" : "EC";
    EVP_KEYMGMT *km = EVP_KEYMGMT_fetch(libctx, alg, "provider=uringprov");
    EVP_KEYEXCH *kx = EVP_KEYEXCH_fetch(libctx, strcmp(alg, "EC") == 0 ? "ECDH" : alg,
                                        "provider=uringprov");
    int yes = km != NULL && kx != NULL;

    EVP_KEYMGMT_free(km);
    EVP_KEYEXCH_free(kx);
    ERR_clear_error();
    return yes;
}

/* ---- one TLS case: what both ends are configured with -------------------------------------- */

typedef struct {
    int version;                 /* TLS1_2_VERSION or TLS1_3_VERSION */
    int server_key;              /* K_* */
    int client_key;              /* K_* for mutual TLS, -1 for none */
    const char *groups;          /* both ends, NULL: libssl's default */
    const char *ciphers;         /* TLS 1.2 cipher list on both ends, NULL: default */
    const char *client_sigalgs;  /* NULL: default */
} TLS_CASE;

static SSL_CTX *ctx_new(const TLS_CASE *tc, int server)
{
    SSL_CTX *ctx = SSL_CTX_new_ex(libctx, NULL, server ? TLS_server_method() : TLS_client_method());
    int own = server ? tc->server_key : tc->client_key;
    int ok;

    ck_assert_ptr_nonnull(ctx);
    ok = SSL_CTX_set_min_proto_version(ctx, tc->version)
         && SSL_CTX_set_max_proto_version(ctx, tc->version)
         && X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), certs[K_CA])
         && SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"uot", 3);
    ck_assert_msg(ok, "SSL_CTX set-up");
    SSL_CTX_set_mode(ctx, SSL_MODE_ASYNC);
    if (own >= 0) {
        ck_assert_msg(SSL_CTX_use_certificate(ctx, certs[own]) == 1
                      && SSL_CTX_use_PrivateKey(ctx, keys[own]) == 1
                      && SSL_CTX_check_private_key(ctx) == 1,
                      "cannot use the %s key and certificate", key_names[own]);
    }
    if (tc->groups != NULL)
        ck_assert_msg(SSL_CTX_set1_groups_list(ctx, tc->groups) == 1, "groups %s", tc->groups);
    if (tc->ciphers != NULL)
        ck_assert_msg(SSL_CTX_set_cipher_list(ctx, tc->ciphers) == 1, "ciphers %s", tc->ciphers);
    if (!server && tc->client_sigalgs != NULL)
        ck_assert(SSL_CTX_set1_sigalgs_list(ctx, tc->client_sigalgs) == 1);
    if (server && tc->client_key >= 0)
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    if (!server)
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    return ctx;
}

/* ---- endpoints and the event loop ---------------------------------------------------------- */

enum phase { PH_HANDSHAKE, PH_FIRST, PH_SECOND, PH_SHUTDOWN, PH_DONE };

#define MSG_MAX 96
#define EP_MAX_FDS 4

typedef struct {
    SSL *ssl;
    int fd;
    int server;
    int id;
    enum phase phase;
    int want;                        /* SSL_ERROR_WANT_* of the last call */
    int want_async;                  /* how many times SSL_ERROR_WANT_ASYNC came back */
    size_t nfds;                     /* the async fds as learnt from the changed-fds calls */
    OSSL_ASYNC_FD fds[EP_MAX_FDS];
    char out[MSG_MAX];
    size_t outlen;
    char in[MSG_MAX];
    size_t inlen;
} EP;

typedef struct {
    EP c, s;
} PAIR;

typedef struct {
    int max_async_waiting;           /* most endpoints paused on an async fd at once */
    char err[512];
} LOOP_STATS;

static int loop_fail(LOOP_STATS *ls, const EP *e, const char *what)
{
    unsigned long code = ERR_peek_last_error();
    char buf[256] = "";

    if (code != 0)
        ERR_error_string_n(code, buf, sizeof(buf));
    snprintf(ls->err, sizeof(ls->err), "%s %d, phase %d: %s %s", e->server ? "server" : "client",
             e->id, (int)e->phase, what, buf);
    return 0;
}

static int fd_index(const EP *e, OSSL_ASYNC_FD fd)
{
    size_t i;

    for (i = 0; i < e->nfds; i++)
        if (e->fds[i] == fd)
            return (int)i;
    return -1;
}

/* Learns the async fds the way HAProxy does, then checks the result against the full list. */
static int track_async_fds(EP *e, LOOP_STATS *ls)
{
    OSSL_ASYNC_FD add[EP_MAX_FDS], del[EP_MAX_FDS], all[EP_MAX_FDS];
    size_t nadd = 0, ndel = 0, nall = 0, i;
    int j;

    if (!SSL_get_changed_async_fds(e->ssl, NULL, &nadd, NULL, &ndel))
        return loop_fail(ls, e, "SSL_get_changed_async_fds");
    if (nadd > EP_MAX_FDS || ndel > EP_MAX_FDS)
        return loop_fail(ls, e, "too many changed async fds");
    if (nadd + ndel > 0 && !SSL_get_changed_async_fds(e->ssl, add, &nadd, del, &ndel))
        return loop_fail(ls, e, "SSL_get_changed_async_fds");
    for (i = 0; i < ndel; i++)
        if ((j = fd_index(e, del[i])) >= 0)
            e->fds[j] = e->fds[--e->nfds];
    for (i = 0; i < nadd; i++) {
        if (fd_index(e, add[i]) >= 0)
            continue;
        if (e->nfds == EP_MAX_FDS)
            return loop_fail(ls, e, "too many async fds");
        e->fds[e->nfds++] = add[i];
    }
    if (!SSL_get_all_async_fds(e->ssl, NULL, &nall) || nall > EP_MAX_FDS
        || !SSL_get_all_async_fds(e->ssl, all, &nall))
        return loop_fail(ls, e, "SSL_get_all_async_fds");
    if (nall != e->nfds)
        return loop_fail(ls, e, "changed async fds disagree with SSL_get_all_async_fds");
    for (i = 0; i < nall; i++)
        if (fd_index(e, all[i]) < 0)
            return loop_fail(ls, e, "changed async fds disagree with SSL_get_all_async_fds");
    return 1;
}

/*
 * One libssl call for the endpoint's phase. The client writes then reads; the server the reverse.
 * Both then close cleanly: a connection freed without close_notify makes its session unresumable.
 */
static int ep_call(EP *e)
{
    size_t n = 0;
    int r;

    if (e->phase == PH_HANDSHAKE)
        return SSL_do_handshake(e->ssl);
    if (e->phase == PH_SHUTDOWN) {
        /* 0: close_notify sent; the second call reads the peer's. */
        r = SSL_shutdown(e->ssl);
        return r != 0 ? r : SSL_shutdown(e->ssl);
    }
    if ((e->phase == PH_FIRST) != e->server)
        return SSL_write_ex(e->ssl, e->out, e->outlen, &n);
    r = SSL_read_ex(e->ssl, e->in + e->inlen, sizeof(e->in) - 1 - e->inlen, &n);
    if (r > 0) {
        e->inlen += n;
        e->in[e->inlen] = '\0';
    }
    return r;
}

/* Runs the endpoint until it must wait; 0 on a hard error. */
static int ep_step(EP *e, LOOP_STATS *ls)
{
    while (e->phase != PH_DONE) {
        int r = ep_call(e), se;

        if (r > 0) {
            if (e->server && e->phase == PH_FIRST)
                e->outlen = (size_t)snprintf(e->out, sizeof(e->out), "reply to <%s>", e->in);
            e->phase++;
            continue;
        }
        if (!track_async_fds(e, ls))
            return 0;
        if (e->phase == PH_SHUTDOWN && r == 0) {
            /* Still no close_notify from the peer: wait until the socket is readable. */
            e->want = SSL_ERROR_WANT_READ;
            return 1;
        }
        se = SSL_get_error(e->ssl, r);
        switch (se) {
        case SSL_ERROR_WANT_ASYNC:
            e->want_async++;
            /* FALLTHROUGH */
        case SSL_ERROR_WANT_READ:
        case SSL_ERROR_WANT_WRITE:
            e->want = se;
            return 1;
        default: {
            char what[64];

            snprintf(what, sizeof(what), "SSL_get_error %d", se);
            return loop_fail(ls, e, what);
        }
        }
    }
    e->want = 0;
    return track_async_fds(e, ls);
}

/*
 * The event loop: steps every endpoint that can make progress, then polls the sockets and async
 * fds that the others wait on. An endpoint paused in a job must have an async fd: without one an
 * event loop could never wake it.
 */
static int pump(EP **eps, int n, LOOP_STATS *ls)
{
    struct pollfd *pfd = calloc((size_t)n * EP_MAX_FDS, sizeof(*pfd));
    int *owner = calloc((size_t)n * EP_MAX_FDS, sizeof(*owner));
    char *ready = calloc((size_t)n, 1);
    int ok = 0, i;

    ck_assert(pfd != NULL && owner != NULL && ready != NULL);
    memset(ready, 1, (size_t)n);
    for (;;) {
        int live = 0, waiting = 0, np = 0, rc;

        for (i = 0; i < n; i++) {
            if (ready[i] && eps[i]->phase != PH_DONE && !ep_step(eps[i], ls))
                goto out;
            ready[i] = 0;
        }
        for (i = 0; i < n; i++) {
            EP *e = eps[i];
            size_t k;

            if (e->phase == PH_DONE)
                continue;
            live++;
            if (e->want == SSL_ERROR_WANT_ASYNC) {
                if (e->nfds != 1) {
                    loop_fail(ls, e, e->nfds == 0 ? "paused with no async fd to wait on"
                                             : "paused with more than one async fd");
                    goto out;
                }
                waiting++;
                for (k = 0; k < e->nfds; k++) {
                    pfd[np].fd = e->fds[k];
                    pfd[np].events = POLLIN;
                    owner[np++] = i;
                }
            } else {
                pfd[np].fd = e->fd;
                pfd[np].events = e->want == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN;
                owner[np++] = i;
            }
        }
        if (waiting > ls->max_async_waiting)
            ls->max_async_waiting = waiting;
        if (live == 0)
            break;
        do
            rc = poll(pfd, (nfds_t)np, 30000);
        while (rc < 0 && errno == EINTR);
        if (rc <= 0) {
            snprintf(ls->err, sizeof(ls->err), "poll: %s with %d endpoints live",
                     rc == 0 ? "nothing happened for 30 s" : strerror(errno), live);
            goto out;
        }
        for (i = 0; i < np; i++)
            if (pfd[i].revents != 0)
                ready[owner[i]] = 1;
    }
    ok = 1;
out:
    free(pfd);
    free(owner);
    free(ready);
    return ok;
}

static void pair_init(PAIR *p, SSL_CTX *sctx, SSL_CTX *cctx, int id, SSL_SESSION *resume)
{
    int sv[2];

    memset(p, 0, sizeof(*p));
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    p->s.ssl = SSL_new(sctx);
    p->c.ssl = SSL_new(cctx);
    ck_assert(p->s.ssl != NULL && p->c.ssl != NULL);
    p->s.fd = sv[0];
    p->c.fd = sv[1];
    ck_assert(SSL_set_fd(p->s.ssl, sv[0]) == 1 && SSL_set_fd(p->c.ssl, sv[1]) == 1);
    SSL_set_accept_state(p->s.ssl);
    SSL_set_connect_state(p->c.ssl);
    if (resume != NULL)
        ck_assert(SSL_set_session(p->c.ssl, resume) == 1);
    p->s.server = 1;
    p->s.id = p->c.id = id;
    p->c.outlen = (size_t)snprintf(p->c.out, sizeof(p->c.out), "hello %d from the client", id);
}

static void pair_free(PAIR *p)
{
    SSL_free(p->s.ssl);
    SSL_free(p->c.ssl);
    close(p->s.fd);
    close(p->c.fd);
}

/* Data went both ways, intact. */
static void check_data(const PAIR *p)
{
    char want[2 * MSG_MAX];

    ck_assert_str_eq(p->s.in, p->c.out);
    snprintf(want, sizeof(want), "reply to <%s>", p->c.out);
    ck_assert_str_eq(p->c.in, want);
}

typedef struct {
    uint64_t offloaded, fallbacks, pauses;
} COUNTERS;

static void counters_get(COUNTERS *c)
{
    c->offloaded = uot_counter(libctx, "uringprov-offloaded");
    c->fallbacks = uot_counter(libctx, "uringprov-fallbacks");
    c->pauses = uot_counter(libctx, "uringprov-pauses");
}

/* Private-key operations that uringprov must offload in one full handshake of tc, per side. */
static int server_ops(const TLS_CASE *tc)
{
    return uringprov_holds(tc->server_key) ? 1 : 0;
}

static int client_ops(const TLS_CASE *tc)
{
    return tc->client_key >= 0 && uringprov_holds(tc->client_key) ? 1 : 0;
}

static int group_ops(const TLS_CASE *tc)
{
    return tc->groups != NULL && tc->ciphers == NULL && uringprov_serves_group(tc->groups);
}

/* What one run saw: its loop, the counters around it, and the first connection's parameters. */
typedef struct {
    LOOP_STATS loop;
    COUNTERS before, after;
    int expected_ops;            /* private-key operations that must have been offloaded */
    int server_async, client_async;
    int sig_nid;                 /* the server's signature type seen by client 0, NID_undef: none */
    int group_nid;               /* the negotiated group of connection 0 */
    const char *cipher;
} RUN;

typedef struct {
    SSL_CTX *s, *c;
} CTX_PAIR;

static void ctxs_new(const TLS_CASE *cases, int ncases, CTX_PAIR *ctxs)
{
    int i;

    for (i = 0; i < ncases; i++) {
        ctxs[i].s = ctx_new(&cases[i], 1);
        ctxs[i].c = ctx_new(&cases[i], 0);
    }
}

static void ctxs_free(CTX_PAIR *ctxs, int ncases)
{
    int i;

    for (i = 0; i < ncases; i++) {
        SSL_CTX_free(ctxs[i].s);
        SSL_CTX_free(ctxs[i].c);
    }
}

/*
 * Runs n connections (connection i uses cases[i % ncases] and ctxs[i % ncases]) through one event
 * loop and checks each one. resume: a session for every client; session_out: client 0's session.
 */
static void run_cases(const TLS_CASE *cases, CTX_PAIR *ctxs, int ncases, int n,
                      SSL_SESSION *resume, RUN *run, SSL_SESSION **session_out)
{
    PAIR *pairs = calloc((size_t)n, sizeof(*pairs));
    EP **eps = calloc((size_t)n * 2, sizeof(*eps));
    int i;

    ck_assert(pairs != NULL && eps != NULL);
    memset(run, 0, sizeof(*run));
    for (i = 0; i < n; i++) {
        pair_init(&pairs[i], ctxs[i % ncases].s, ctxs[i % ncases].c, i, resume);
        /* Clients first: the loop's first pass sends every ClientHello before any server reads. */
        eps[i] = &pairs[i].c;
        eps[n + i] = &pairs[i].s;
    }
    counters_get(&run->before);
    ck_assert_msg(pump(eps, 2 * n, &run->loop), "%s", run->loop.err);
    counters_get(&run->after);

    for (i = 0; i < n; i++) {
        const TLS_CASE *tc = &cases[i % ncases];
        PAIR *p = &pairs[i];
        int reused = SSL_session_reused(p->c.ssl);

        ck_assert_int_eq(SSL_version(p->c.ssl), tc->version);
        ck_assert_int_eq(SSL_get_verify_result(p->c.ssl), X509_V_OK);
        ck_assert_int_eq(SSL_session_reused(p->s.ssl), reused);
        ck_assert_int_eq(reused, resume != NULL);
        check_data(p);
        if (tc->client_key >= 0) {
            X509 *peer = SSL_get0_peer_certificate(p->s.ssl);

            ck_assert_msg(peer != NULL, "the server has no client certificate");
            ck_assert_int_eq(X509_cmp(peer, certs[tc->client_key]), 0);
            ck_assert_int_eq(SSL_get_verify_result(p->s.ssl), X509_V_OK);
        }
        if (!reused) {
            int sops = server_ops(tc) + (group_ops(tc) ? 2 : 0);
            int cops = client_ops(tc) + (group_ops(tc) ? 2 : 0);

            /* A side that has private-key work for uringprov must have paused on it. */
            if (sops > 0)
                ck_assert_msg(p->s.want_async > 0, "server %d never saw SSL_ERROR_WANT_ASYNC", i);
            if (cops > 0)
                ck_assert_msg(p->c.want_async > 0, "client %d never saw SSL_ERROR_WANT_ASYNC", i);
            run->expected_ops += sops + cops;
        }
        run->server_async += p->s.want_async;
        run->client_async += p->c.want_async;
    }
    if (!SSL_get_peer_signature_type_nid(pairs[0].c.ssl, &run->sig_nid))
        run->sig_nid = NID_undef;
    run->group_nid = SSL_get_negotiated_group(pairs[0].c.ssl);
    run->cipher = SSL_CIPHER_get_name(SSL_get_current_cipher(pairs[0].c.ssl));
    if (session_out != NULL) {
        *session_out = SSL_get1_session(pairs[0].c.ssl);
        ck_assert_ptr_nonnull(*session_out);
        ck_assert(SSL_SESSION_is_resumable(*session_out));
    }
    ck_assert_msg(run->after.offloaded - run->before.offloaded >= (uint64_t)run->expected_ops,
                  "uringprov offloaded %llu operations, expected at least %d",
                  (unsigned long long)(run->after.offloaded - run->before.offloaded),
                  run->expected_ops);
    ck_assert_msg(run->after.fallbacks == run->before.fallbacks,
                  "%llu operations fell back to running inline",
                  (unsigned long long)(run->after.fallbacks - run->before.fallbacks));
    if (run->server_async + run->client_async > 0)
        ck_assert_uint_gt(run->after.pauses, run->before.pauses);
    for (i = 0; i < n; i++)
        pair_free(&pairs[i]);
    free(eps);
    free(pairs);
}

/* One connection on fresh contexts. */
static void run_one(const TLS_CASE *tc, RUN *run)
{
    CTX_PAIR ctxs;

    ctxs_new(tc, 1, &ctxs);
    run_cases(tc, &ctxs, 1, 1, NULL, run, NULL);
    ctxs_free(&ctxs, 1);
}

/* ---- server certificates ------------------------------------------------------------------- */

START_TEST(rsa_tls12_pkcs1)
{
    TLS_CASE tc = { TLS1_2_VERSION, K_RSA, -1, "x25519", NULL, "RSA+SHA256" };
    RUN run;

    ck_assert_msg(uringprov_holds(K_RSA), "uringprov must hold RSA keys");
    run_one(&tc, &run);
    ck_assert_int_gt(run.server_async, 0);
    ck_assert_int_ge(run.expected_ops, 1);
    ck_assert_int_eq(run.sig_nid, NID_rsaEncryption); /* PKCS#1 v1.5 */
}
END_TEST

START_TEST(rsa_tls13_pss)
{
    TLS_CASE tc = { TLS1_3_VERSION, K_RSA, -1, "x25519", NULL, NULL };
    RUN run;

    run_one(&tc, &run);
    ck_assert_int_gt(run.server_async, 0);
    ck_assert_int_ge(run.expected_ops, 1);
    ck_assert_int_eq(run.sig_nid, NID_rsassaPss);
    ck_assert_int_eq(run.group_nid, NID_X25519);
}
END_TEST

/* TLS 1.2 needs the certificate's curve among the client's groups (RFC 8422). */
static const struct {
    int key, version, sig_nid;
    const char *groups;
} ec_certs[] = {
    { K_P256, TLS1_3_VERSION, NID_X9_62_id_ecPublicKey, "secp256r1" },
    { K_P256, TLS1_2_VERSION, NID_X9_62_id_ecPublicKey, "secp256r1" },
    { K_P384, TLS1_3_VERSION, NID_X9_62_id_ecPublicKey, "secp256r1" },
    { K_P384, TLS1_2_VERSION, NID_X9_62_id_ecPublicKey, "secp384r1" },
    { K_ED25519, TLS1_3_VERSION, NID_ED25519, "x25519" },
    { K_ED25519, TLS1_2_VERSION, NID_ED25519, "x25519" },
};

/*
 * ECDSA and Ed25519 server certificates. The client signs with RSA (mutual TLS), so that every
 * handshake has an operation that uringprov serves whatever the state of its EC support; the
 * server's own signature is asserted to pause as soon as uringprov holds the key.
 */
START_TEST(ec_server_cert)
{
    TLS_CASE tc = { ec_certs[_i].version, ec_certs[_i].key, K_CLIENT_RSA, ec_certs[_i].groups,
                    NULL, NULL };
    RUN run;

    run_one(&tc, &run);
    ck_assert_int_gt(run.client_async, 0);
    if (uringprov_holds(tc.server_key))
        ck_assert_int_gt(run.server_async, 0);
    else
        fprintf(stderr, "note: uringprov does not hold %s keys: the server signed on the "
                        "default provider\n", key_names[tc.server_key]);
    ck_assert_int_eq(run.sig_nid, ec_certs[_i].sig_nid);
}
END_TEST

/* ---- groups -------------------------------------------------------------------------------- */

static const char *const groups[] = { "x25519", "secp256r1", "secp384r1", "x448" };
static const int group_nids[] = { NID_X25519, NID_X9_62_prime256v1, NID_secp384r1, NID_X448 };

/* Loop index: group in the low two bits, TLS 1.2 in bit 2. */
START_TEST(group)
{
    TLS_CASE tc = { (_i & 4) ? TLS1_2_VERSION : TLS1_3_VERSION, K_RSA, -1, groups[_i & 3], NULL,
                    NULL };
    RUN run;

    run_one(&tc, &run);
    ck_assert_int_gt(run.server_async, 0);
    if (uringprov_serves_group(tc.groups))
        ck_assert_int_gt(run.client_async, 0);
    ck_assert_int_eq(run.group_nid, group_nids[_i & 3]);
}
END_TEST

/* ---- TLS 1.2 static RSA: the server decrypts the premaster with the TLS padding ------------- */

START_TEST(static_rsa_tls12)
{
    TLS_CASE tc = { TLS1_2_VERSION, K_RSA, -1, NULL, "AES128-GCM-SHA256", NULL };
    RUN run;

    run_one(&tc, &run);
    ck_assert_int_gt(run.server_async, 0);
    ck_assert_uint_ge(run.after.offloaded - run.before.offloaded, 1);
    ck_assert_str_eq(run.cipher, "AES128-GCM-SHA256");
    ck_assert_int_eq(run.sig_nid, NID_undef); /* no ServerKeyExchange: nothing was signed */
}
END_TEST

/* ---- mutual TLS: the client signs ---------------------------------------------------------- */

START_TEST(mutual_tls)
{
    TLS_CASE tc = { _i == 0 ? TLS1_3_VERSION : TLS1_2_VERSION, K_RSA, K_CLIENT_RSA, "x25519",
                    NULL, NULL };
    RUN run;

    run_one(&tc, &run);
    ck_assert_int_gt(run.server_async, 0);
    ck_assert_int_gt(run.client_async, 0);
    ck_assert_uint_ge(run.after.offloaded - run.before.offloaded, 2);
}
END_TEST

/* ---- session resumption: the second handshake needs no signature ---------------------------- */

START_TEST(resumption)
{
    TLS_CASE tc = { _i == 0 ? TLS1_3_VERSION : TLS1_2_VERSION, K_RSA, -1, "x25519", NULL, NULL };
    SSL_SESSION *sess = NULL;
    CTX_PAIR ctxs;
    RUN first, second;

    ctxs_new(&tc, 1, &ctxs);
    run_cases(&tc, &ctxs, 1, 1, NULL, &first, &sess);
    ck_assert_int_gt(first.server_async, 0);
    run_cases(&tc, &ctxs, 1, 1, sess, &second, NULL); /* asserts that both ends report reuse */
    /* No certificate, no signature: only the key shares of a TLS 1.3 resumption remain. */
    if (tc.version == TLS1_2_VERSION || !uringprov_serves_group(tc.groups))
        ck_assert_uint_eq(second.after.offloaded, second.before.offloaded);
    SSL_SESSION_free(sess);
    ctxs_free(&ctxs, 1);
}
END_TEST

/* ---- 64 concurrent handshakes on one thread ------------------------------------------------ */

START_TEST(concurrent_64)
{
    static const TLS_CASE cases[] = {
        { TLS1_3_VERSION, K_RSA, -1, "x25519", NULL, NULL },
        { TLS1_2_VERSION, K_RSA, -1, "secp256r1", NULL, NULL },
        { TLS1_2_VERSION, K_RSA, -1, NULL, "AES128-GCM-SHA256", NULL },
        { TLS1_3_VERSION, K_RSA, K_CLIENT_RSA, "x25519", NULL, NULL },
    };
    CTX_PAIR ctxs[4];
    RUN run;

    ctxs_new(cases, 4, ctxs);
    run_cases(cases, ctxs, 4, 64, NULL, &run, NULL);
    ctxs_free(ctxs, 4);
    /* 64 signatures or decryptions by the servers and 16 signatures by the clients. */
    ck_assert_int_ge(run.expected_ops, 64 + 16);
    ck_assert_int_ge(run.server_async, 64);
    ck_assert_int_ge(run.client_async, 16);
    /* The operations overlapped: many jobs were paused on their fds at the same time. */
    ck_assert_msg(run.loop.max_async_waiting >= 2, "at most %d endpoints waited at once",
                  run.loop.max_async_waiting);
    fprintf(stderr, "concurrent_64: up to %d endpoints paused at once, %llu offloaded, "
                    "%llu pauses\n", run.loop.max_async_waiting,
            (unsigned long long)(run.after.offloaded - run.before.offloaded),
            (unsigned long long)(run.after.pauses - run.before.pauses));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tls");
    TCase *tc = tcase_create("tls");
    SRunner *sr;
    int failed;

    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_add_test(tc, rsa_tls12_pkcs1);
    tcase_add_test(tc, rsa_tls13_pss);
    tcase_add_loop_test(tc, ec_server_cert, 0, (int)(sizeof(ec_certs) / sizeof(ec_certs[0])));
    tcase_add_loop_test(tc, group, 0, 8);
    tcase_add_test(tc, static_rsa_tls12);
    tcase_add_loop_test(tc, mutual_tls, 0, 2);
    tcase_add_loop_test(tc, resumption, 0, 2);
    tcase_add_test(tc, concurrent_64);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

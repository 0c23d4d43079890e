/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_common.h - what the libFuzzer targets share: a library context that prefers uringprov (with
 * every synchronous private-key operation sent to a worker, so that requests, copies and the error
 * replay are fuzzed too), a reader over the fuzz input, and a builder that turns fuzz bytes into an
 * OSSL_PARAM array for any settable table: the keys come from the table, the values from the input
 * (often from a dictionary of names OpenSSL knows, so that the fuzzer gets past the first check).
 *
 * Header-only: each target is one .c file (test/fuzz/fuzz_*.c) built by test/fuzz/run.sh.
 */
#ifndef UO_FUZZ_COMMON_H
#define UO_FUZZ_COMMON_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/provider.h>

#include "helpers/uo_test.h"

typedef struct {
    const uint8_t *p;
    size_t n;
} FZ;

static uint8_t fz_u8(FZ *f)
{
    uint8_t v = 0;

    if (f->n > 0) {
        v = *f->p++;
        f->n--;
    }
    return v;
}

static uint32_t fz_u32(FZ *f)
{
    uint32_t v = 0;
    int i;

    for (i = 0; i < 4; i++)
        v = (v << 8) | fz_u8(f);
    return v;
}

/* Up to max bytes, length first; points into the input. */
static const uint8_t *fz_bytes(FZ *f, size_t max, size_t *len)
{
    const uint8_t *p = f->p;

    *len = fz_u8(f);
    if (max > 255)
        *len = (*len << 8) | fz_u8(f);
    if (*len > max)
        *len %= max + 1;
    if (*len > f->n)
        *len = f->n;
    p = f->p;
    f->p += *len;
    f->n -= *len;
    return p;
}

static OSSL_LIB_CTX *fz_libctx(void)
{
    static OSSL_LIB_CTX *lc;

    if (lc == NULL) {
        lc = uot_libctx_new("sync_mode = offload\nworkers = 1\n");
        if (lc == NULL) {
            fprintf(stderr, "fuzz: uringprov did not load (UO_BUILD=%s)\n", getenv("UO_BUILD"));
            abort();
        }
    }
    return lc;
}

/* A reference library context with the default provider only, for making keys. */
static OSSL_LIB_CTX *fz_ref(void)
{
    static OSSL_LIB_CTX *lc;

    if (lc == NULL && (lc = uot_default_libctx_new()) == NULL)
        abort();
    return lc;
}

static const char *const fz_names[] = {
    "SHA256", "SHA1", "SHA2-384", "SHA512", "SHA3-256", "SHAKE256", "MD5", "MD5-SHA1", "SM3",
    "NULL", "", "pss", "oaep", "pkcs1", "none", "x931", "digest", "max", "auto", "auto-digestmax",
    "P-256", "P-384", "secp256k1", "prime256v1", "X25519", "RSA", "RSA-PSS", "EC", "named_curve",
    "explicit", "compressed", "uncompressed", "hybrid", "default", "yes", "no", "1", "0", "-1",
    "-2", "-3", "20", "32", "65537", "1024", "2048", "3",
};

static const int fz_ints[] = {
    0, 1, 2, 3, 4, 5, -1, -2, -3, -4, 20, 32, 48, 64, 222, 256, 512, 1024, 2048, 4096, 65537,
    INT_MAX, INT_MIN,
};

/*
 * Params for `table` from the input: up to 6 entries, each a key of the table (or, rarely, one it
 * does not list) with a value of the key's type. Storage lives in `store` (caller's, >= 4 KiB).
 */
static OSSL_PARAM *fz_params(FZ *f, const OSSL_PARAM *table, OSSL_PARAM *out, size_t max_out,
                             unsigned char *store, size_t store_size)
{
    size_t ntab = 0, nout = 0, used = 0, want, i;

    for (; table != NULL && table[ntab].key != NULL; ntab++)
        ;
    want = fz_u8(f) % 7;
    if (want > max_out - 1)
        want = max_out - 1;
    for (i = 0; i < want && f->n > 0; i++) {
        uint8_t pick = fz_u8(f), how = fz_u8(f);
        const char *key;
        unsigned int type;
        size_t size, len;
        const uint8_t *b;

        if (ntab == 0 || pick == 0xff) {
            key = "uringprov-no-such-param";
            type = OSSL_PARAM_UTF8_STRING;
            size = 0;
        } else {
            key = table[pick % ntab].key;
            type = table[pick % ntab].data_type;
            size = table[pick % ntab].data_size;
        }
        if (used + 300 > store_size)
            break;
        switch (type) {
        case OSSL_PARAM_INTEGER:
        case OSSL_PARAM_UNSIGNED_INTEGER:
            if (size == 0 || size > 8) { /* a BIGNUM */
                b = fz_bytes(f, 64, &len);
                memcpy(store + used, b, len);
                out[nout++] = OSSL_PARAM_construct_BN(key, store + used, len);
                used += len;
                break;
            }
            if ((how & 3) != 0) {
                int64_t v = fz_ints[fz_u8(f) % (sizeof(fz_ints) / sizeof(fz_ints[0]))];

                memcpy(store + used, &v, sizeof(v));
            } else {
                uint32_t hi = fz_u32(f), lo = fz_u32(f);
                uint64_t v = ((uint64_t)hi << 32) | lo;

                memcpy(store + used, &v, sizeof(v));
            }
            /* The caller's view of the size: 1, 2, 4 or 8 bytes, mostly the table's. */
            if ((how & 0x30) == 0x30)
                size = (size_t)1 << (fz_u8(f) % 4);
            out[nout++] = (OSSL_PARAM){ key, type, store + used, size, OSSL_PARAM_UNMODIFIED };
            used += 8;
            break;
        case OSSL_PARAM_UTF8_STRING:
            if ((how & 3) != 0) {
                const char *s = fz_names[fz_u8(f) % (sizeof(fz_names) / sizeof(fz_names[0]))];

                len = strlen(s);
                memcpy(store + used, s, len + 1);
            } else {
                b = fz_bytes(f, 128, &len);
                memcpy(store + used, b, len);
                store[used + len] = '\0';
            }
            out[nout++] = OSSL_PARAM_construct_utf8_string(key, (char *)store + used,
                                                           (how & 4) ? 0 : len);
            used += len + 1;
            break;
        case OSSL_PARAM_OCTET_STRING:
            b = fz_bytes(f, 256, &len);
            memcpy(store + used, b, len);
            out[nout++] = OSSL_PARAM_construct_octet_string(key, store + used, len);
            used += len;
            break;
        default: /* pointer types: not settable from outside */
            break;
        }
        used = (used + 15) & ~(size_t)15;
    }
    out[nout] = OSSL_PARAM_construct_end();
    return out;
}

/* Asks for every gettable parameter, with buffers of the sizes the table gives (or small ones). */
static void fz_get_all(const OSSL_PARAM *table, int (*get)(void *, OSSL_PARAM *), void *obj)
{
    OSSL_PARAM p[2];
    unsigned char buf[1024];
    size_t i;

    for (i = 0; table != NULL && table[i].key != NULL; i++) {
        p[0] = table[i];
        p[0].data = buf;
        if (p[0].data_type == OSSL_PARAM_UTF8_PTR || p[0].data_type == OSSL_PARAM_OCTET_PTR)
            p[0].data_size = sizeof(void *);
        else if (p[0].data_size == 0 || p[0].data_size > sizeof(buf))
            p[0].data_size = sizeof(buf);
        p[0].return_size = OSSL_PARAM_UNMODIFIED;
        p[1] = OSSL_PARAM_construct_end();
        get(obj, p);
    }
}

static int fz_ctx_get(void *c, OSSL_PARAM *p)
{
    return EVP_PKEY_CTX_get_params(c, p);
}

static int fz_pkey_get(void *k, OSSL_PARAM *p)
{
    return EVP_PKEY_get_params(k, p);
}

/* Every failure must leave errors with reason strings: abort (a fuzzer finding) otherwise. */
static void fz_check_errors(void)
{
    unsigned long e;

    while ((e = ERR_get_error()) != 0)
        if (ERR_reason_error_string(e) == NULL) {
            fprintf(stderr, "fuzz: error %08lx (library %d, reason %d) has no reason string\n", e,
                    ERR_GET_LIB(e), ERR_GET_REASON(e));
            abort();
        }
}

#endif

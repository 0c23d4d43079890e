/* SPDX-License-Identifier: Apache-2.0 */
/*
 * op.c - runs one inner EVP operation, through offload/ when its class is offloaded.
 *
 * The request owns copies of the inputs and the output buffer: the caller's buffers may belong to a
 * connection that is freed while the worker runs (SSL_free mid-handshake), so the worker never
 * touches them. The inner EVP_PKEY_CTX/EVP_MD_CTX are borrowed from the operation context; an
 * abandoned ASYNC job is never resumed or unwound by OpenSSL, so the frames that own them outlive
 * the worker's use.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "uringprov.h"

static int op_exec(UO_OP *op)
{
    switch (op->iop) {
    case UO_IOP_SIGN:
        return EVP_PKEY_sign(op->pctx, op->out, &op->outlen, op->in, op->inlen);
    case UO_IOP_VERIFY:
        return EVP_PKEY_verify(op->pctx, op->in, op->inlen, op->in2, op->in2len);
    case UO_IOP_VERIFY_RECOVER:
        return EVP_PKEY_verify_recover(op->pctx, op->out, &op->outlen, op->in, op->inlen);
    case UO_IOP_ENCRYPT:
        return EVP_PKEY_encrypt(op->pctx, op->out, &op->outlen, op->in, op->inlen);
    case UO_IOP_DECRYPT:
        return EVP_PKEY_decrypt(op->pctx, op->out, &op->outlen, op->in, op->inlen);
    case UO_IOP_DERIVE:
        return EVP_PKEY_derive(op->pctx, op->out, &op->outlen);
    case UO_IOP_DIGEST_SIGN_FINAL:
        return EVP_DigestSignFinal(op->mdctx, op->out, &op->outlen);
    case UO_IOP_DIGEST_VERIFY_FINAL:
        return EVP_DigestVerifyFinal(op->mdctx, op->in, op->inlen);
    case UO_IOP_DIGEST_SIGN:
        return EVP_DigestSign(op->mdctx, op->out, &op->outlen, op->in, op->inlen);
    case UO_IOP_DIGEST_VERIFY:
        return EVP_DigestVerify(op->mdctx, op->in, op->inlen, op->in2, op->in2len);
    case UO_IOP_KEYGEN:
        return EVP_PKEY_generate(op->pctx, &op->genkey);
    case UO_IOP_ENCAPSULATE:
        return EVP_PKEY_encapsulate(op->pctx, op->out, &op->outlen, op->out2, &op->out2len);
    case UO_IOP_DECAPSULATE:
        return EVP_PKEY_decapsulate(op->pctx, op->out, &op->outlen, op->in, op->inlen);
    }
    return 0;
}

/*
 * Some inner failures leave the error queue empty (ECDSA with a short output buffer, a signature
 * that is not DER): name them, so that an application never gets a failure it cannot explain. A
 * verification that merely does not match (0) is an answer, not an error.
 */
static int op_failure_named(UO_PROVCTX *pc, const UO_OP *op, int rv)
{
    static const char *const names[] = {
        [UO_IOP_SIGN] = "sign", [UO_IOP_VERIFY] = "verify",
        [UO_IOP_VERIFY_RECOVER] = "verify-recover", [UO_IOP_ENCRYPT] = "encrypt",
        [UO_IOP_DECRYPT] = "decrypt", [UO_IOP_DERIVE] = "derive",
        [UO_IOP_DIGEST_SIGN_FINAL] = "digest-sign", [UO_IOP_DIGEST_VERIFY_FINAL] = "digest-verify",
        [UO_IOP_DIGEST_SIGN] = "digest-sign", [UO_IOP_DIGEST_VERIFY] = "digest-verify",
        [UO_IOP_KEYGEN] = "keygen", [UO_IOP_ENCAPSULATE] = "encapsulate",
        [UO_IOP_DECAPSULATE] = "decapsulate",
    };
    int answer = op->iop == UO_IOP_VERIFY || op->iop == UO_IOP_DIGEST_VERIFY_FINAL
                 || op->iop == UO_IOP_DIGEST_VERIFY;

    if ((rv < 0 || (rv == 0 && !answer)) && ERR_peek_last_error() == 0)
        UO_RAISE_DATA(pc, UO_R_OPERATION_FAILED, "%s failed", names[op->iop]);
    return rv;
}

/*
 * A request's payload: the operation, and for a batchable one its lane, which points at the same
 * request-owned copies of the input and output. The inputs and output buffer follow.
 */
typedef struct {
    UO_OP op;
    UO_MB_LANE lane;
    UO_PROVCTX *pc;
} UO_OP_PAYLOAD;

static int op_task(void *payload)
{
    UO_OP_PAYLOAD *p = payload;

    return op_exec(&p->op);
}

static void op_cleanup(void *payload)
{
    UO_OP_PAYLOAD *p = payload;

    /* A key generated for a caller that never collected it. */
    EVP_PKEY_free(p->op.genkey);
    p->op.genkey = NULL;
    EVP_PKEY_free(p->lane.genkey); /* NULL: op_batch moves a batch's key to op.genkey */
    p->lane.genkey = NULL;
    uo_mb_key_free(p->lane.key);
    p->lane.key = NULL;
}

/*
 * offload/'s batch function for every batchable kind: the mb layer computes the lanes in one
 * crypto_mb call; a lane it leaves undone is run alone by the worker (op_task), which raises the
 * single path's own error.
 */
static void op_batch(void *const payloads[], int done[], unsigned int n)
{
    UO_MB_LANE *lanes[UO_MB_LANES] = { 0 };
    UO_OP_PAYLOAD *p;
    unsigned int i;

    for (i = 0; i < n; i++) {
        p = payloads[i];
        lanes[i] = &p->lane;
    }
    p = payloads[0];
    uo_mb_batch(lanes, n, &p->pc->mb);
    for (i = 0; i < n; i++) {
        p = payloads[i];
        done[i] = p->lane.status == 1;
        if (done[i])
            p->op.outlen = p->lane.outlen;
        /*
         * A key generation's result goes where the single path puts it, so that uo_op_run hands
         * it over, or op_cleanup frees it for a caller that has gone, the same way. A lane left
         * undone has none: the single path then starts from op.genkey NULL.
         */
        if (done[i] && p->lane.genkey != NULL) {
            p->op.genkey = p->lane.genkey;
            p->lane.genkey = NULL;
        }
    }
}

/*
 * The request's kind for offload/: the operation, the key's size and, for key generation, the
 * family, which together tell how long a request takes (offload/ holds completions back only
 * behind requests it knows to be short). An RSA and an EC key generation must never share a kind.
 */
static unsigned int op_kind(const UO_OP *op)
{
    EVP_PKEY_CTX *pctx = op->pctx;
    EVP_PKEY *pkey;
    int bits;

    if (pctx == NULL && op->mdctx != NULL)
        pctx = EVP_MD_CTX_get_pkey_ctx(op->mdctx);
    pkey = pctx != NULL ? EVP_PKEY_CTX_get0_pkey(pctx) : NULL;
    bits = pkey != NULL ? EVP_PKEY_get_bits(pkey) : 0;
    return (unsigned int)op->iop | (bits > 0 ? ((unsigned int)bits & 0xffff) << 4 : 0)
           | op->family << 20;
}

/* Batchable kinds are the batch class, which names the operation and the key size. */
#define UO_KIND_BATCH 0x80000000u

int uo_op_run(UO_PROVCTX *pc, unsigned int opclass, UO_OP *op)
{
    UO_REQ *req;
    UO_OP_PAYLOAD *p;
    UO_OP *rop;
    unsigned char *tail;
    size_t outcap = op->out != NULL ? op->outlen : 0;
    size_t out2cap = op->out2 != NULL ? op->out2len : 0;
    unsigned int kind;
    int rv;

    if ((pc->offload_ops & opclass) == 0)
        return op_failure_named(pc, op, op_exec(op));

    kind = op->mb != NULL ? UO_KIND_BATCH | uo_mb_class(op->mb->op, op->mb->key) : op_kind(op);
    req = uo_req_new(pc->pool, kind, op_task, op_cleanup,
                     sizeof(*p) + op->inlen + op->in2len + outcap + out2cap);
    if (req == NULL) {
        UO_RAISE(pc, UO_R_MALLOC_FAILURE);
        return 0;
    }
    p = uo_req_payload(req);
    p->pc = pc;
    rop = &p->op;
    *rop = *op;
    rop->mb = NULL;
    tail = (unsigned char *)(p + 1);
    if (op->in != NULL) {
        memcpy(tail, op->in, op->inlen);
        rop->in = tail;
        tail += op->inlen;
    }
    if (op->in2 != NULL) {
        memcpy(tail, op->in2, op->in2len);
        rop->in2 = tail;
        tail += op->in2len;
    }
    if (op->out != NULL) {
        rop->out = tail;
        tail += outcap;
    }
    if (op->out2 != NULL)
        rop->out2 = tail;
    rop->genkey = NULL;
    if (op->mb != NULL && uo_mb_key_up_ref(op->mb->key)) {
        p->lane = *op->mb;
        p->lane.in = rop->in;
        p->lane.inlen = rop->inlen;
        p->lane.out = rop->out;
        p->lane.outlen = rop->outlen;
        p->lane.genkey = NULL;
        p->lane.status = 0;
        uo_req_set_batch(req, op_batch);
    }

    rv = uo_req_run(req);

    if (rv > 0 && ((op->out != NULL && rop->outlen > outcap)
                   || (op->out2 != NULL && rop->out2len > out2cap))) {
        rv = 0; /* the inner call broke its contract; never overrun the caller */
        UO_RAISE(pc, UO_R_OUTPUT_BUFFER_TOO_SMALL);
    }
    if (rv > 0 && op->out != NULL)
        memcpy(op->out, rop->out, rop->outlen);
    if (rv > 0 && op->out2 != NULL)
        memcpy(op->out2, rop->out2, rop->out2len);
    op->outlen = rop->outlen;
    op->out2len = rop->out2len;
    if (rv > 0) {
        op->genkey = rop->genkey;
        rop->genkey = NULL;
    } else if (uo_req_forked(req)) {
        UO_RAISE_DATA(pc, UO_R_OFFLOAD_FAILED, "the operation was in flight when the process "
                      "forked, and only the parent can finish it: retry it here");
    }
    uo_req_free(req);
    return op_failure_named(pc, op, rv);
}

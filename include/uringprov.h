/* SPDX-License-Identifier: Apache-2.0 */
/*
 * uringprov.h - the provider's umbrella header: the provider context, keys, the inner operation
 * runner, errors and the algorithm descriptors that every provider/ file shares.
 *
 * The math is done by an inner OSSL_LIB_CTX that loads OpenSSL's default provider. uringprov's own
 * objects wrap inner ones: a key holds an inner EVP_PKEY, an operation context an inner EVP_PKEY_CTX
 * or EVP_MD_CTX. Parameters pass through to the inner objects, so uringprov accepts and returns
 * exactly what the default provider does. Private-key work runs through offload/.
 */
#ifndef URINGPROV_H
#define URINGPROV_H

#include <stddef.h>

#include <openssl/core.h>
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "uo_log.h"
#include "uo_mb.h"
#include "uo_offload.h"

#define UO_NAME "uringprov"
#define UO_VERSION "0.1.0"
#define UO_PROPS "provider=uringprov"

#define UO_UNUSED __attribute__((unused))

/* Declares a dispatch callback with OpenSSL's typedef, so the compiler checks its signature. */
#define UO_DECL(type, prefix, name) static OSSL_FUNC_##type##_##name##_fn prefix##_##name

/* Operation classes; the `offload` configuration key chooses which of them go to the workers. */
enum {
    UO_OP_SIGN = 1 << 0,
    UO_OP_VERIFY = 1 << 1,
    UO_OP_DECRYPT = 1 << 2,
    UO_OP_ENCRYPT = 1 << 3,
    UO_OP_DERIVE = 1 << 4,
    UO_OP_KEYGEN = 1 << 5,
};
#define UO_OP_PRIVATE (UO_OP_SIGN | UO_OP_DECRYPT | UO_OP_DERIVE | UO_OP_KEYGEN)
#define UO_OP_ALL (UO_OP_PRIVATE | UO_OP_VERIFY | UO_OP_ENCRYPT)

/* Key families served; each indexes the provider context's table of inner algorithms. */
enum uo_family {
    UO_FAM_RSA = 0,
    UO_FAM_RSA_PSS,
    UO_FAM_EC,
    UO_FAM_X25519,
    UO_FAM_X448,
    UO_FAM_ED25519,
    UO_FAM_ED448,
    /* OpenSSL 3.5 and later: present only where the inner default provider has them */
    UO_FAM_ML_KEM_512,
    UO_FAM_ML_KEM_768,
    UO_FAM_ML_KEM_1024,
    UO_FAM_X25519MLKEM768,
    UO_FAM_X448MLKEM1024,
    UO_FAM_P256MLKEM768,
    UO_FAM_P384MLKEM1024,
    UO_FAM_ML_DSA_44,
    UO_FAM_ML_DSA_65,
    UO_FAM_ML_DSA_87,
    UO_FAM_SLH_DSA_SHA2_128S,
    UO_FAM_SLH_DSA_SHA2_128F,
    UO_FAM_SLH_DSA_SHA2_192S,
    UO_FAM_SLH_DSA_SHA2_192F,
    UO_FAM_SLH_DSA_SHA2_256S,
    UO_FAM_SLH_DSA_SHA2_256F,
    UO_FAM_SLH_DSA_SHAKE_128S,
    UO_FAM_SLH_DSA_SHAKE_128F,
    UO_FAM_SLH_DSA_SHAKE_192S,
    UO_FAM_SLH_DSA_SHAKE_192F,
    UO_FAM_SLH_DSA_SHAKE_256S,
    UO_FAM_SLH_DSA_SHAKE_256F,
    UO_FAM_COUNT
};

/* Inner algorithms fetched once at init from the inner library context. NULL where none. */
typedef struct {
    EVP_KEYMGMT *keymgmt;
    EVP_SIGNATURE *signature;
    EVP_ASYM_CIPHER *cipher;
    EVP_KEYEXCH *exchange;
    EVP_KEM *kem;
} UO_INNER_ALGS;

/* The operations whose algorithm tables are made at init from what the inner provider has. */
enum { UO_TAB_KEYMGMT, UO_TAB_SIGNATURE, UO_TAB_ASYM_CIPHER, UO_TAB_KEYEXCH, UO_TAB_KEM,
       UO_TAB_COUNT };

typedef struct uo_provctx_st {
    const OSSL_CORE_HANDLE *handle;
    OSSL_LIB_CTX *libctx;          /* inner: loads "default" and does the math */
    OSSL_PROVIDER *deflt;
    UO_POOL *pool;
    unsigned int offload_ops;      /* UO_OP_* */
    int multibuffer;               /* 1: batch through crypto_mb (configured, built in, applicable) */
    UO_MB_STATS mb;
    UO_INNER_ALGS inner[UO_FAM_COUNT];
    OSSL_ALGORITHM *algs[UO_TAB_COUNT]; /* what query_operation answers, NULL-terminated */
    /*
     * OpenSSL 3.4's EVP_PKEY_sign_message_init and EVP_PKEY_verify_message_init, looked up in the
     * running libcrypto (NULL before 3.4), so that a module built against 3.0 needs no newer symbol.
     */
    int (*sign_message_init)(EVP_PKEY_CTX *, EVP_SIGNATURE *, const OSSL_PARAM *);
    int (*verify_message_init)(EVP_PKEY_CTX *, EVP_SIGNATURE *, const OSSL_PARAM *);
} UO_PROVCTX;

/* Family descriptor: what a key of that family needs beyond the shared code. */
typedef struct uo_keytype_st {
    enum uo_family family;
    const char *name;               /* inner keymgmt name, e.g. "RSA", "RSA-PSS", "EC", "X25519" */
    const char *op_name;            /* name answered to query_operation_name, NULL: none */
    const char *pub_param;          /* present when the key has its public part */
    const char *priv_param;         /* present when the key has its private part */
    int pub_is_bn;                  /* pub_param/priv_param are BIGNUMs (RSA) or octet strings */
    int priv_is_bn;
    const OSSL_PARAM *(*import_types)(int selection);
} UO_KEYTYPE;

/* uringprov's keydata. */
typedef struct uo_key_st {
    UO_PROVCTX *pc;
    const UO_KEYTYPE *type;
    EVP_PKEY *pkey;                 /* inner; NULL while empty */
    int has_pub;
    int has_priv;
    size_t max_size;                /* largest signature/ciphertext/secret, 0 if unknown */
    /*
     * Batch material, made on the first private operation that could use it: NULL before, and
     * for good once mb_tried is set and it is still NULL. Immutable once published.
     */
    _Atomic(UO_MB_KEY *) mb;
    atomic_int mb_tried;
} UO_KEY;

UO_KEY *uo_key_new(UO_PROVCTX *pc, const UO_KEYTYPE *type);
/* The key's batch material (referenced for the caller), or NULL when it cannot be batched. */
UO_MB_KEY *uo_key_mb(UO_KEY *key);
/* Takes ownership of pkey and works out what the key holds. */
int uo_key_set_pkey(UO_KEY *key, EVP_PKEY *pkey);

/* ---- generic keymgmt callbacks shared by every family (provider/kmgmt.c) ------------------ */
OSSL_FUNC_keymgmt_free_fn uo_kmgmt_free;
OSSL_FUNC_keymgmt_has_fn uo_kmgmt_has;
OSSL_FUNC_keymgmt_match_fn uo_kmgmt_match;
OSSL_FUNC_keymgmt_validate_fn uo_kmgmt_validate;
OSSL_FUNC_keymgmt_import_fn uo_kmgmt_import;
OSSL_FUNC_keymgmt_export_fn uo_kmgmt_export;
OSSL_FUNC_keymgmt_get_params_fn uo_kmgmt_get_params;
OSSL_FUNC_keymgmt_set_params_fn uo_kmgmt_set_params;
OSSL_FUNC_keymgmt_dup_fn uo_kmgmt_dup;
OSSL_FUNC_keymgmt_load_fn uo_kmgmt_load;
OSSL_FUNC_keymgmt_gen_set_params_fn uo_kmgmt_gen_set_params;
OSSL_FUNC_keymgmt_gen_settable_params_fn uo_kmgmt_gen_settable_params;
OSSL_FUNC_keymgmt_gen_set_template_fn uo_kmgmt_gen_set_template;
OSSL_FUNC_keymgmt_gen_fn uo_kmgmt_gen;
OSSL_FUNC_keymgmt_gen_cleanup_fn uo_kmgmt_gen_cleanup;
void *uo_kmgmt_gen_init(UO_PROVCTX *pc, const UO_KEYTYPE *type, int selection,
                        const OSSL_PARAM params[]);
const OSSL_PARAM *uo_kmgmt_gettable(UO_PROVCTX *pc, enum uo_family fam);
const OSSL_PARAM *uo_kmgmt_settable(UO_PROVCTX *pc, enum uo_family fam);

/* ---- inner operations, offloaded or not (provider/op.c) ----------------------------------- */
enum uo_iop {
    UO_IOP_SIGN,                 /* EVP_PKEY_sign(pctx, out, in) */
    UO_IOP_VERIFY,               /* EVP_PKEY_verify(pctx, sig=in, tbs=in2) */
    UO_IOP_VERIFY_RECOVER,       /* EVP_PKEY_verify_recover(pctx, out, in) */
    UO_IOP_ENCRYPT,              /* EVP_PKEY_encrypt(pctx, out, in) */
    UO_IOP_DECRYPT,              /* EVP_PKEY_decrypt(pctx, out, in) */
    UO_IOP_DERIVE,               /* EVP_PKEY_derive(pctx, out) */
    UO_IOP_DIGEST_SIGN_FINAL,    /* EVP_DigestSignFinal(mdctx, out) */
    UO_IOP_DIGEST_VERIFY_FINAL,  /* EVP_DigestVerifyFinal(mdctx, sig=in) */
    UO_IOP_DIGEST_SIGN,          /* EVP_DigestSign(mdctx, out, in) */
    UO_IOP_DIGEST_VERIFY,        /* EVP_DigestVerify(mdctx, sig=in, tbs=in2) */
    UO_IOP_KEYGEN,               /* EVP_PKEY_generate(pctx, &genkey) */
    UO_IOP_ENCAPSULATE,          /* EVP_PKEY_encapsulate(pctx, out, out2) */
    UO_IOP_DECAPSULATE,          /* EVP_PKEY_decapsulate(pctx, out, in) */
};

typedef struct {
    enum uo_iop iop;
    EVP_PKEY_CTX *pctx;
    EVP_MD_CTX *mdctx;
    const unsigned char *in;
    size_t inlen;
    const unsigned char *in2;
    size_t in2len;
    unsigned char *out;
    size_t outlen;               /* in: the capacity of out; out: the length written */
    unsigned char *out2;         /* ENCAPSULATE: the shared secret (out: the ciphertext) */
    size_t out2len;
    EVP_PKEY *genkey;            /* KEYGEN: the result, owned by the caller on success */
    unsigned int family;         /* enum uo_family + 1 (0: not given): with the key's size, tells
                                    offload/ what kind of request it is (Ed25519 and SLH-DSA-128
                                    keys both have 256 bits; a key generation's inner ctx has no
                                    key yet) */
    const UO_MB_LANE *mb;        /* batchable: the lane's fixed part (op, key, padding); in, out
                                    and their lengths come from the op itself */
} UO_OP;

/*
 * Runs op, on a worker when its class (UO_OP_*) is offloaded, else on this thread. Inputs are
 * copied and outputs written to request-owned memory and copied back, so that a caller that goes
 * away mid-flight leaves the worker nothing freed to touch. Returns the inner call's result.
 */
int uo_op_run(UO_PROVCTX *pc, unsigned int opclass, UO_OP *op);

/* ---- operation contexts shared by signature, asym cipher and key exchange (provider/opctx.c) */
typedef struct uo_opctx_st {
    UO_PROVCTX *pc;
    enum uo_family family;
    int operation;               /* EVP_PKEY_OP_* of the last init, 0 before */
    EVP_PKEY *pkey;              /* inner key, referenced */
    size_t max_size;
    EVP_PKEY_CTX *pctx;          /* inner; owned unless it belongs to mdctx */
    EVP_MD_CTX *mdctx;           /* inner digest-sign/verify context */
    EVP_PKEY *peer;              /* key exchange: inner peer key, referenced */
    UO_MB_KEY *mbkey;            /* the key's batch material, referenced; NULL: never batched */
    int mb_state;                /* UO_MB_UNKNOWN until the parameters are next looked at */
    int params_given;            /* parameters were set since the last init: an Ed25519 context
                                    may then be Ed25519ctx or Ed25519ph, which the inner context
                                    does not report back */
    UO_MB_LANE mb;               /* the lane template, valid when mb_state is UO_MB_YES */
    EVP_MD *mb_md, *mb_mgf1md;   /* fetched from the inner library context, for the lane */
    EVP_MD_CTX *mb_hash;         /* digest sign with batch material: the message's own digest,
                                    so that the final signature can go to a batch */
    unsigned char mb_peer[2 * 66]; /* derive: the peer's public value for the lanes, made once
                                      per peer (uo_mb_peer_encode); mb_peer_len 0: not yet */
    size_t mb_peer_len;
} UO_OPCTX;

enum { UO_MB_UNKNOWN = 0, UO_MB_YES, UO_MB_NO };

/*
 * The lane template for op on this context, or NULL when this operation cannot be batched with
 * the context's key and parameters (looked at once after each init or parameter change).
 */
const UO_MB_LANE *uo_opctx_mb(UO_OPCTX *ctx, enum uo_mb_op op);

UO_OPCTX *uo_opctx_new(UO_PROVCTX *pc, enum uo_family family);
void uo_opctx_free(UO_OPCTX *ctx);
UO_OPCTX *uo_opctx_dup(const UO_OPCTX *src);
/* (Re)initialises ctx->pctx for operation on key (NULL: keep the current key). */
int uo_opctx_init(UO_OPCTX *ctx, UO_KEY *key, int operation, const OSSL_PARAM params[]);
/*
 * Message sign/verify init (OpenSSL 3.4 and later) on the inner side: the inner context is set up
 * by EVP_PKEY_sign_message_init or EVP_PKEY_verify_message_init, and each EVP_PKEY_sign or
 * EVP_PKEY_verify that follows signs or verifies one whole message, as often as the caller likes.
 */
int uo_opctx_message_init(UO_OPCTX *ctx, UO_KEY *key, int sign, const OSSL_PARAM params[]);
/* Digest sign/verify init on the inner side; key NULL reuses the current key. */
int uo_opctx_digest_init(UO_OPCTX *ctx, UO_KEY *key, int sign, const char *mdname,
                         const char *props, const OSSL_PARAM params[]);
/* The inner EVP_PKEY_CTX that parameters go to, or NULL before init. */
EVP_PKEY_CTX *uo_opctx_param_target(const UO_OPCTX *ctx);
int uo_opctx_set_params(UO_OPCTX *ctx, const OSSL_PARAM params[]);
int uo_opctx_get_params(UO_OPCTX *ctx, OSSL_PARAM params[]);

/* ---- signature callbacks shared by RSA, ECDSA and EdDSA (provider/signature.c) ------------ */
OSSL_FUNC_signature_freectx_fn uo_sig_freectx;
OSSL_FUNC_signature_dupctx_fn uo_sig_dupctx;
OSSL_FUNC_signature_sign_init_fn uo_sig_sign_init;
OSSL_FUNC_signature_sign_fn uo_sig_sign;
OSSL_FUNC_signature_verify_init_fn uo_sig_verify_init;
OSSL_FUNC_signature_verify_fn uo_sig_verify;
OSSL_FUNC_signature_verify_recover_init_fn uo_sig_verify_recover_init;
OSSL_FUNC_signature_verify_recover_fn uo_sig_verify_recover;
OSSL_FUNC_signature_digest_sign_init_fn uo_sig_digest_sign_init;
OSSL_FUNC_signature_digest_sign_update_fn uo_sig_digest_sign_update;
OSSL_FUNC_signature_digest_sign_final_fn uo_sig_digest_sign_final;
OSSL_FUNC_signature_digest_verify_init_fn uo_sig_digest_verify_init;
OSSL_FUNC_signature_digest_verify_update_fn uo_sig_digest_verify_update;
OSSL_FUNC_signature_digest_verify_final_fn uo_sig_digest_verify_final;
OSSL_FUNC_signature_digest_sign_fn uo_sig_digest_sign;
OSSL_FUNC_signature_digest_verify_fn uo_sig_digest_verify;
int uo_sig_sign_message_init(void *vctx, void *provkey, const OSSL_PARAM params[]);
int uo_sig_verify_message_init(void *vctx, void *provkey, const OSSL_PARAM params[]);
OSSL_FUNC_signature_get_ctx_params_fn uo_sig_get_ctx_params;
OSSL_FUNC_signature_set_ctx_params_fn uo_sig_set_ctx_params;
OSSL_FUNC_signature_get_ctx_md_params_fn uo_sig_get_ctx_md_params;
OSSL_FUNC_signature_set_ctx_md_params_fn uo_sig_set_ctx_md_params;
OSSL_FUNC_signature_gettable_ctx_md_params_fn uo_sig_gettable_ctx_md_params;
OSSL_FUNC_signature_settable_ctx_md_params_fn uo_sig_settable_ctx_md_params;
const OSSL_PARAM *uo_sig_gettable(UO_PROVCTX *pc, enum uo_family fam);
const OSSL_PARAM *uo_sig_settable(UO_PROVCTX *pc, enum uo_family fam);
/* Caps a caller's output capacity at what the key can produce, so requests stay small. */
size_t uo_out_capacity(const UO_OPCTX *ctx, size_t outsize);

/* ---- key exchange callbacks shared by ECDH, X25519 and X448 (provider/exchange.c) --------- */
OSSL_FUNC_keyexch_freectx_fn uo_exch_freectx;
OSSL_FUNC_keyexch_dupctx_fn uo_exch_dupctx;
OSSL_FUNC_keyexch_init_fn uo_exch_init;
OSSL_FUNC_keyexch_set_peer_fn uo_exch_set_peer;
OSSL_FUNC_keyexch_derive_fn uo_exch_derive;
OSSL_FUNC_keyexch_get_ctx_params_fn uo_exch_get_ctx_params;
OSSL_FUNC_keyexch_set_ctx_params_fn uo_exch_set_ctx_params;
const OSSL_PARAM *uo_exch_gettable(UO_PROVCTX *pc, enum uo_family fam);
const OSSL_PARAM *uo_exch_settable(UO_PROVCTX *pc, enum uo_family fam);

/* ---- KEM callbacks shared by ML-KEM and the hybrid KEMs (provider/kem.c) ------------------ */
OSSL_FUNC_kem_freectx_fn uo_kem_freectx;
OSSL_FUNC_kem_dupctx_fn uo_kem_dupctx;
OSSL_FUNC_kem_encapsulate_init_fn uo_kem_encapsulate_init;
OSSL_FUNC_kem_encapsulate_fn uo_kem_encapsulate;
OSSL_FUNC_kem_decapsulate_init_fn uo_kem_decapsulate_init;
OSSL_FUNC_kem_decapsulate_fn uo_kem_decapsulate;
OSSL_FUNC_kem_get_ctx_params_fn uo_kem_get_ctx_params;
OSSL_FUNC_kem_set_ctx_params_fn uo_kem_set_ctx_params;
const OSSL_PARAM *uo_kem_gettable(UO_PROVCTX *pc, enum uo_family fam);
const OSSL_PARAM *uo_kem_settable(UO_PROVCTX *pc, enum uo_family fam);

/* OpenSSL 3.4's message signature functions, named here when the headers are 3.0's. */
#ifndef OSSL_FUNC_SIGNATURE_SIGN_MESSAGE_INIT
#define OSSL_FUNC_SIGNATURE_SIGN_MESSAGE_INIT 27
#define OSSL_FUNC_SIGNATURE_VERIFY_MESSAGE_INIT 30
#endif

/* ---- provider capabilities: TLS-GROUP (provider/capabilities.c) --------------------------- */
OSSL_FUNC_provider_get_capabilities_fn uo_get_capabilities;

/* ---- errors (provider/uringprov.c) --------------------------------------------------------- */
enum uo_reason {
    UO_R_INIT_FAILED = 1,
    UO_R_MALLOC_FAILURE,
    UO_R_INVALID_KEY,
    UO_R_MISSING_KEY,
    UO_R_MISSING_PRIVATE_KEY,
    UO_R_KEY_TYPE_MISMATCH,
    UO_R_BAD_PARAMETER,
    UO_R_OPERATION_NOT_INITIALIZED,
    UO_R_OPERATION_FAILED,
    UO_R_OUTPUT_BUFFER_TOO_SMALL,
    UO_R_NULL_ARGUMENT,
    UO_R_UNSUPPORTED,
    UO_R_OFFLOAD_FAILED,
};

void uo_raise(const UO_PROVCTX *pc, const char *file, int line, const char *func, int reason,
              const char *fmt, ...) __attribute__((format(printf, 6, 7)));
#define UO_RAISE(pc, reason) uo_raise((pc), __FILE__, __LINE__, __func__, (reason), NULL)
#define UO_RAISE_DATA(pc, reason, ...) \
    uo_raise((pc), __FILE__, __LINE__, __func__, (reason), __VA_ARGS__)

/* ---- dispatch tables, one per algorithm and operation ------------------------------------- */
extern const OSSL_DISPATCH uo_rsa_keymgmt_functions[];
extern const OSSL_DISPATCH uo_rsapss_keymgmt_functions[];
extern const OSSL_DISPATCH uo_rsa_signature_functions[];
extern const OSSL_DISPATCH uo_rsa_asym_cipher_functions[];
extern const OSSL_DISPATCH uo_ec_keymgmt_functions[];
extern const OSSL_DISPATCH uo_x25519_keymgmt_functions[];
extern const OSSL_DISPATCH uo_x448_keymgmt_functions[];
extern const OSSL_DISPATCH uo_ed25519_keymgmt_functions[];
extern const OSSL_DISPATCH uo_ed448_keymgmt_functions[];
extern const OSSL_DISPATCH uo_ecdsa_signature_functions[];
extern const OSSL_DISPATCH uo_ed25519_signature_functions[];
extern const OSSL_DISPATCH uo_ed448_signature_functions[];
extern const OSSL_DISPATCH uo_ecdh_keyexch_functions[];
extern const OSSL_DISPATCH uo_x25519_keyexch_functions[];
extern const OSSL_DISPATCH uo_x448_keyexch_functions[];
extern const OSSL_DISPATCH uo_ml_kem_512_keymgmt_functions[];
extern const OSSL_DISPATCH uo_ml_kem_512_kem_functions[];
extern const OSSL_DISPATCH uo_ml_kem_768_keymgmt_functions[];
extern const OSSL_DISPATCH uo_ml_kem_768_kem_functions[];
extern const OSSL_DISPATCH uo_ml_kem_1024_keymgmt_functions[];
extern const OSSL_DISPATCH uo_ml_kem_1024_kem_functions[];
extern const OSSL_DISPATCH uo_x25519_ml_kem_768_keymgmt_functions[];
extern const OSSL_DISPATCH uo_x25519_ml_kem_768_kem_functions[];
extern const OSSL_DISPATCH uo_x448_ml_kem_1024_keymgmt_functions[];
extern const OSSL_DISPATCH uo_x448_ml_kem_1024_kem_functions[];
extern const OSSL_DISPATCH uo_p256_ml_kem_768_keymgmt_functions[];
extern const OSSL_DISPATCH uo_p256_ml_kem_768_kem_functions[];
extern const OSSL_DISPATCH uo_p384_ml_kem_1024_keymgmt_functions[];
extern const OSSL_DISPATCH uo_p384_ml_kem_1024_kem_functions[];
extern const OSSL_DISPATCH uo_ml_dsa_44_keymgmt_functions[];
extern const OSSL_DISPATCH uo_ml_dsa_44_signature_functions[];
extern const OSSL_DISPATCH uo_ml_dsa_65_keymgmt_functions[];
extern const OSSL_DISPATCH uo_ml_dsa_65_signature_functions[];
extern const OSSL_DISPATCH uo_ml_dsa_87_keymgmt_functions[];
extern const OSSL_DISPATCH uo_ml_dsa_87_signature_functions[];
extern const OSSL_DISPATCH uo_slh_dsa_sha2_128s_keymgmt_functions[];
extern const OSSL_DISPATCH uo_slh_dsa_sha2_128s_signature_functions[];
extern const OSSL_DISPATCH uo_slh_dsa_sha2_128f_keymgmt_functions[];
extern const OSSL_DISPATCH uo_slh_dsa_sha2_128f_signature_functions[];
extern const OSSL_DISPATCH uo_slh_dsa_sha2_192s_keymgmt_functions[];
extern const OSSL_DISPATCH uo_slh_dsa_sha2_192s_signature_functions[];
extern const OSSL_DISPATCH uo_slh_dsa_sha2_192f_keymgmt_functions[];
extern const OSSL_DISPATCH uo_slh_dsa_sha2_192f_signature_functions[];
extern const OSSL_DISPATCH uo_slh_dsa_sha2_256s_keymgmt_functions[];
extern const OSSL_DISPATCH uo_slh_dsa_sha2_256s_signature_functions[];
extern const OSSL_DISPATCH uo_slh_dsa_sha2_256f_keymgmt_functions[];
extern const OSSL_DISPATCH uo_slh_dsa_sha2_256f_signature_functions[];
extern const OSSL_DISPATCH uo_slh_dsa_shake_128s_keymgmt_functions[];
extern const OSSL_DISPATCH uo_slh_dsa_shake_128s_signature_functions[];
extern const OSSL_DISPATCH uo_slh_dsa_shake_128f_keymgmt_functions[];
extern const OSSL_DISPATCH uo_slh_dsa_shake_128f_signature_functions[];
extern const OSSL_DISPATCH uo_slh_dsa_shake_192s_keymgmt_functions[];
extern const OSSL_DISPATCH uo_slh_dsa_shake_192s_signature_functions[];
extern const OSSL_DISPATCH uo_slh_dsa_shake_192f_keymgmt_functions[];
extern const OSSL_DISPATCH uo_slh_dsa_shake_192f_signature_functions[];
extern const OSSL_DISPATCH uo_slh_dsa_shake_256s_keymgmt_functions[];
extern const OSSL_DISPATCH uo_slh_dsa_shake_256s_signature_functions[];
extern const OSSL_DISPATCH uo_slh_dsa_shake_256f_keymgmt_functions[];
extern const OSSL_DISPATCH uo_slh_dsa_shake_256f_signature_functions[];

#endif

/*
 * signature - the two signature families every delivery carries (API.md §5, §8).
 *
 * Description:
 *  - Standard Webhooks v1: base64(HMAC-SHA256(key, "<id>.<ts>.<body>")) where
 *    key is the base64-decoded part of a "whsec_" secret; header entry "v1,<b64>".
 *  - Standard Webhooks v1a: Ed25519 over the same bytes; entry "v1a,<b64>".
 *  - HookBridge: lower-case hex HMAC-SHA256 with the whole "whsec_..." string
 *    as the key over "<ts>.<body>"; header entry "sha256=<hex>".
 *  - Bridge PKI (the bridge-rsa scheme): RSASSA-PKCS1-v1_5 with SHA-256 over
 *    the 32-byte SHA-256 digest of "<t_ms>.<body>" (the data is hashed twice,
 *    as Bridge does); entry "v0=<base64>", header "t=<t_ms>,v0=<b64>[,v0=...]".
 * Key material for the asymmetric schemes: Ed25519 keys are stored as
 * "whsk_<base64 32-byte seed>" and published as "whpk_<base64 32-byte public
 * key>" (Standard Webhooks names); RSA keys are stored as PKCS#8 PEM and
 * published as SPKI PEM ("-----BEGIN PUBLIC KEY-----"). This module never
 * encrypts them: the caller seals what it stores (secretbox.h).
 * Verification helpers exist for tests and for receivers we may ship; they
 * compare in constant time (the RSA and Ed25519 checks are public-key
 * operations on public data).
 * Threading: any thread; no shared state. A prepared key (signature_key,
 * signature_pkey) is used by one thread at a time.
 * Ownership: callers pass output buffers (SIGNATURE_ENTRY_MAX bytes for the
 * HMAC and Ed25519 entries, SIGNATURE_BRIDGE_ENTRY_MAX for "v0=" entries, the
 * *_MAX sizes below for keys). Private keys written into caller buffers are the
 * caller's to wipe (explicit_bzero). signature_pkey_new_* allocate;
 * signature_pkey_free wipes and frees.
 * Errors: ERR_INVAL for a malformed secret or key, or an output buffer that is
 * too small; key generation returns ERR_IO when libcrypto fails. OOM aborts.
 * See also: signature_scheme.h (which headers each scheme sends).
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_CORE_SIGNATURE_H
#define HOOKD_CORE_SIGNATURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define SIGNATURE_ENTRY_MAX 128

/* "v1,<base64>" for secret "whsec_<base64 key>". */
enum err signature_v1(char *out, size_t outlen, const char *secret, const char *msg_id,
                      int64_t ts_sec, const void *body, size_t body_len);

/* "v1a,<base64>"; sk_b64 is the base64 of a 64-byte (seed || public) or 32-byte seed key,
 * optionally prefixed "whsk_" (the stored form, see signature_ed25519_generate). */
enum err signature_v1a(char *out, size_t outlen, const char *sk_b64, const char *msg_id,
                       int64_t ts_sec, const void *body, size_t body_len);

/* "sha256=<hex>" (HookBridge): HMAC key is the whole secret string as-is. */
enum err signature_hookbridge(char *out, size_t outlen, const char *secret, int64_t ts_sec,
                              const void *body, size_t body_len);

/*
 * A secret prepared for many signatures: both HMAC keys are set up once (the
 * base64 decode and the HMAC key schedule), so each delivery only hashes its
 * bytes. Not shared between threads; signature_key_release wipes it.
 */
struct signature_key {
    struct hmac_sha256_key *v1; /* keyed with the decoded "whsec_" key */
    struct hmac_sha256_key *hb; /* keyed with the whole secret string (HookBridge) */
};

/* ERR_INVAL for a malformed secret (then k holds nothing to release). */
enum err signature_key_init(struct signature_key *k, const char *secret);
void signature_key_release(struct signature_key *k);
/* As signature_v1 / signature_hookbridge, with a prepared key. */
enum err signature_key_v1(const struct signature_key *k, char *out, size_t outlen,
                          const char *msg_id, int64_t ts_sec, const void *body, size_t body_len);
enum err signature_key_hookbridge(const struct signature_key *k, char *out, size_t outlen,
                                  int64_t ts_sec, const void *body, size_t body_len);

/* True when a space-separated webhook-signature header holds a v1 entry valid for secret. */
bool signature_verify_v1(const char *header, const char *secret, const char *msg_id, int64_t ts_sec,
                         const void *body, size_t body_len);

/* True when a v1a entry in header verifies with the base64 32-byte public key
 * (optionally prefixed "whpk_", the published form). */
bool signature_verify_v1a(const char *header, const char *pk_b64, const char *msg_id,
                          int64_t ts_sec, const void *body, size_t body_len);

/* ---- asymmetric keys: the ed25519 and bridge-rsa schemes ---- */

#define SIGNATURE_ED25519_SECRET_MAX 64 /* "whsk_" + 44 base64 + NUL = 50 */
#define SIGNATURE_ED25519_PUBLIC_MAX 64 /* "whpk_" + 44 base64 + NUL = 50 */
#define SIGNATURE_RSA_BITS 2048         /* what signature_rsa_generate makes */
#define SIGNATURE_RSA_MAX_BITS 4096     /* the largest key the loaders accept */
#define SIGNATURE_RSA_PRIVATE_MAX 4096  /* PKCS#8 PEM of a 4096-bit key is ~3,270 bytes */
#define SIGNATURE_RSA_PUBLIC_MAX 1024   /* SPKI PEM of a 4096-bit key is ~800 bytes */
/* "v0=" + base64 of a SIGNATURE_RSA_MAX_BITS signature (684) + NUL */
#define SIGNATURE_BRIDGE_ENTRY_MAX 688

/* A fresh Ed25519 key pair: secret "whsk_<base64 seed>" (to store, sealed) and
 * public "whpk_<base64 public key>" (to show). ERR_INVAL when a buffer is short. */
enum err signature_ed25519_generate(char *secret, size_t secret_len, char *public_key,
                                    size_t public_len);

/* The "whpk_..." public key of a stored Ed25519 secret (signature_v1a's key forms). */
enum err signature_ed25519_public(char *public_key, size_t public_len, const char *secret);

/* A fresh RSA key pair of SIGNATURE_RSA_BITS: the private key as PKCS#8 PEM
 * (to store, sealed) and the public key as SPKI PEM (to show). */
enum err signature_rsa_generate(char *private_pem, size_t private_len, char *public_pem,
                                size_t public_len);

/* The SPKI PEM public key of a PKCS#8 PEM RSA private key. */
enum err signature_rsa_public(char *public_pem, size_t public_len, const char *private_pem);

/* "v0=<base64>" (Bridge PKI) with a PKCS#8 PEM RSA private key of 2048 to 4096 bits. */
enum err signature_bridge_rsa(char *out, size_t outlen, const char *private_pem, int64_t t_ms,
                              const void *body, size_t body_len);

/*
 * True when header "t=<ms>,v0=<b64>[,v0=<b64>...]" carries a v0 entry that
 * verifies with the SPKI PEM public key over body (PKCS#1 v1.5 only: single-
 * hash and PSS signatures are refused). *t_ms (may be NULL) receives t when the
 * header parses; the caller enforces the timestamp window (300 s, API.md §8).
 */
bool signature_verify_bridge_rsa(const char *header, const char *public_pem, const void *body,
                                 size_t body_len, int64_t *t_ms);

/*
 * A private key loaded once for many signatures (parsing a PEM costs more
 * than an Ed25519 signature). Opaque; one thread at a time.
 */
struct signature_pkey;

/* Load a stored Ed25519 secret (signature_v1a's key forms); ERR_INVAL when malformed. */
enum err signature_pkey_new_ed25519(struct signature_pkey **out, const char *secret);
/* Load a PKCS#8 PEM RSA private key of 2048 to SIGNATURE_RSA_MAX_BITS bits. */
enum err signature_pkey_new_rsa(struct signature_pkey **out, const char *private_pem);
void signature_pkey_free(struct signature_pkey *k); /* NULL is a no-op */

/* As signature_v1a with a prepared Ed25519 key (ERR_INVAL for an RSA key). */
enum err signature_pkey_v1a(const struct signature_pkey *k, char *out, size_t outlen,
                            const char *msg_id, int64_t ts_sec, const void *body, size_t body_len);
/* As signature_bridge_rsa with a prepared RSA key (ERR_INVAL for an Ed25519 key). */
enum err signature_pkey_bridge_rsa(const struct signature_pkey *k, char *out, size_t outlen,
                                   int64_t t_ms, const void *body, size_t body_len);

#endif

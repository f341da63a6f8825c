/*
 * signature - the two signature families every delivery carries (API.md §5, §8).
 *
 * Description:
 *  - Standard Webhooks v1: base64(HMAC-SHA256(key, "<id>.<ts>.<body>")) where
 *    key is the base64-decoded part of a "whsec_" secret; header entry "v1,<b64>".
 *  - Standard Webhooks v1a: Ed25519 over the same bytes; entry "v1a,<b64>".
 *  - HookBridge: lower-case hex HMAC-SHA256 with the whole "whsec_..." string
 *    as the key over "<ts>.<body>"; header entry "sha256=<hex>".
 * Verification helpers exist for tests and for receivers we may ship; they
 * compare in constant time.
 * Threading: any thread; no shared state.
 * Ownership: callers pass output buffers (SIGNATURE_ENTRY_MAX bytes).
 * Errors: ERR_INVAL for a malformed secret or key.
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

/* "v1a,<base64>"; sk_b64 is the base64 of a 64-byte (seed || public) or 32-byte seed key. */
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

/* True when a v1a entry in header verifies with the base64 32-byte public key. */
bool signature_verify_v1a(const char *header, const char *pk_b64, const char *msg_id,
                          int64_t ts_sec, const void *body, size_t body_len);

#endif

/*
 * hmac_sha256 - HMAC-SHA256 (RFC 2104) with the key schedule done once: the
 * inner and outer SHA-256 states after the padded key are kept, so each MAC
 * costs two compressions plus the message, with no allocation and no
 * provider lookups (OpenSSL 3's EVP_MAC spends more on those than on
 * hashing a 200-byte webhook).
 * Threading: a key may be used by one thread at a time.
 * Ownership: hmac_sha256_key_new allocates; hmac_sha256_key_free wipes and frees.
 * Errors: none (OOM aborts).
 * See also: signature.c, the only user; tests/unit/test_signature.c checks it
 * against the one-shot EVP_MAC path and the Standard Webhooks vectors.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_CORE_HMAC_SHA256_H
#define HOOKD_CORE_HMAC_SHA256_H

#include <stddef.h>

#define HMAC_SHA256_LEN 32

struct hmac_sha256_key;

struct hmac_sha256_key *hmac_sha256_key_new(const void *key, size_t key_len);
void hmac_sha256_key_free(struct hmac_sha256_key *k); /* NULL is a no-op */

/* mac = HMAC(key, parts[0] || ... || parts[n-1]). */
void hmac_sha256(unsigned char mac[HMAC_SHA256_LEN], const struct hmac_sha256_key *k,
                 const void *const *parts, const size_t *lens, size_t n);

#endif

/*
 * secretbox - authenticated encryption of small secrets at rest (AES-256-GCM).
 *
 * Description: seals a secret (a signing secret, later destination
 * credentials) into one printable, versioned string and opens it again:
 *
 *   enc:v1:<key id>:<base64(nonce[12] | ciphertext | tag[16])>
 *
 * The key id is 16 lower-case hex characters derived from the key
 * (HMAC-SHA256(key, "hookd secretbox key id v1"), first 8 bytes), so a store
 * can tell which key sealed a value (rotation) and detect a wrong key without
 * decrypting. Every seal draws a fresh random 96-bit nonce. The additional
 * authenticated data is the header "enc:v1:<key id>:" followed by the
 * caller's aad, which names the value's place (e.g. "signing_keys.secret:sk_…"):
 * a value copied into another row, or sealed under another key id, does not
 * open. Opening fails (ERR_PROTO) on any tampering, a wrong key or a wrong
 * aad; it never returns unauthenticated bytes.
 * Keys are 32 random bytes. Their text form (files, HOOKD_ENCRYPTION_KEY) is
 * 64 hex characters or the standard base64 of the 32 bytes; surrounding
 * whitespace is ignored.
 * This module is pure logic over OpenSSL libcrypto: no files, no store.
 * Threading: a struct secretbox keeps its cipher contexts, so one thread at a
 * time per box; give each thread (store connection) its own box. The free
 * functions are thread-safe.
 * Ownership: secretbox_new copies the key; secretbox_free wipes it
 * (OPENSSL_cleanse) along with the cipher contexts. Callers own every buffer.
 * Errors: ERR_INVAL (malformed key text, output buffer too small, value too
 * long), ERR_PROTO (not a sealed value, or authentication failed), ERR_IO
 * (OpenSSL or the random source failed).
 * See also: src/store/store_secrets.c (where the store seals and opens),
 * docs/internals/secrets.md.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_CORE_SECRETBOX_H
#define HOOKD_CORE_SECRETBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define SECRETBOX_KEY_LEN 32
#define SECRETBOX_NONCE_LEN 12
#define SECRETBOX_TAG_LEN 16
#define SECRETBOX_KEY_ID_LEN 16 /* hex characters, without the NUL */
#define SECRETBOX_PREFIX "enc:v1:"
#define SECRETBOX_PLAIN_MAX 4096 /* longest secret we seal */

struct secretbox;

/* Parse key text (64 hex characters, or base64 of 32 bytes) of len bytes
 * into key. Leading and trailing whitespace (a file's newline) is ignored. */
enum err secretbox_key_parse(const char *text, size_t len, uint8_t key[SECRETBOX_KEY_LEN],
                             struct err_detail *d);

/* 32 fresh bytes from the OS-seeded CSPRNG. */
enum err secretbox_key_generate(uint8_t key[SECRETBOX_KEY_LEN], struct err_detail *d);

/* The text form written to key files: 64 lower-case hex characters and a NUL. */
void secretbox_key_hex(const uint8_t key[SECRETBOX_KEY_LEN], char out[2 * SECRETBOX_KEY_LEN + 1]);

/* The key id of key (see above) as 16 hex characters and a NUL. */
void secretbox_key_id(const uint8_t key[SECRETBOX_KEY_LEN], char out[SECRETBOX_KEY_ID_LEN + 1]);

/* A box holding a copy of key, ready to seal and open. */
enum err secretbox_new(struct secretbox **out, const uint8_t key[SECRETBOX_KEY_LEN],
                       struct err_detail *d);
/* Wipe and free (NULL is fine). */
void secretbox_free(struct secretbox *b);
/* The box's key id (static for the box's lifetime). */
const char *secretbox_id(const struct secretbox *b);

/* Bytes a sealed value of plain_len needs, NUL included. */
size_t secretbox_sealed_size(size_t plain_len);

/* Seal len bytes of plain bound to aad (a NUL-terminated string, may be "")
 * into out (out_size bytes, at least secretbox_sealed_size(len)). */
enum err secretbox_seal(struct secretbox *b, const char *aad, const void *plain, size_t len,
                        char *out, size_t out_size, struct err_detail *d);

/* Open the NUL-terminated sealed value under aad into out (out_size bytes;
 * the plaintext is NUL-terminated, so it needs its length + 1); *out_len
 * gets the plaintext length (may be NULL). On failure out is wiped. */
enum err secretbox_open(struct secretbox *b, const char *aad, const char *sealed, char *out,
                        size_t out_size, size_t *out_len, struct err_detail *d);

/* True when v starts like a sealed value ("enc:"), whatever its version. */
bool secretbox_is_sealed(const char *v);

/* The key id of a well-formed v1 sealed value into out; false when v is not one. */
bool secretbox_sealed_key_id(const char *v, char out[SECRETBOX_KEY_ID_LEN + 1]);

#endif

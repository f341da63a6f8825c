/*
 * id - identifiers and secrets: UUIDv7 message ids, prefixed random ids
 * (ep_, sk_, key_, req_), whsec_ signing secrets and hk_live_/hk_test_ API keys.
 *
 * Description: every id comes from the kernel CSPRNG (getrandom): public ids
 * through a per-thread pool refilled 512 bytes at a time (no syscall per
 * id), secrets (signing secrets, API keys) directly. UUIDv7 ids are
 * time-ordered, so they double as pagination cursors.
 * Threading: any thread. Ownership: callers pass the output buffer.
 * Errors: none; a failing getrandom is a broken system and panics.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_CORE_ID_H
#define HOOKD_CORE_ID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ID_UUID_LEN 36 /* without the NUL */
#define ID_MAX 64      /* room for any id below, NUL included */

/* Fill buf with n random bytes from this thread's pool of kernel CSPRNG bytes
 * (not for secrets: those read the kernel directly, see id_signing_secret). */
void id_random(void *buf, size_t n);

/* Fill buf with n bytes straight from the kernel CSPRNG, bypassing the pool:
 * for keys, secrets and nonces. Panics if the kernel fails. */
void id_os_random(void *buf, size_t n);

/* How many times any thread's pool was refilled from the kernel (for tests). */
unsigned long id_pool_refills(void);

/* A lower-case UUIDv7 for unix_ms into out (>= ID_UUID_LEN + 1 bytes). */
void id_uuid7(char *out, int64_t unix_ms);
/* The creation time (unix ms) a UUIDv7 carries; -1 when id is not a UUID. */
int64_t id_uuid7_time_ms(const char *id);

/* True when s is a 36-char lower-case hex UUID with dashes in the right places. */
bool id_is_uuid(const char *s);

/* prefix followed by hex_chars random lower-case hex characters, into out (size outlen). */
void id_prefixed_hex(char *out, size_t outlen, const char *prefix, size_t hex_chars);

/* prefix + 26 lower-case Crockford base32 characters: 48 bits of unix_ms, then 80
 * random bits (ULID layout), so ids of one prefix sort by creation time
 * (TENANCY.md §1: "app_<26 base32, time-ordered>"). out needs strlen(prefix) + 27. */
void id_time_ordered(char *out, size_t outlen, const char *prefix, int64_t unix_ms);

/* "ep_" + 32 hex: the endpoint id format of API.md §3.1. */
bool id_is_endpoint(const char *s);

/* A fresh signing secret "whsec_" + base64 of 24 random bytes (38 chars) into out (>= 64). */
void id_signing_secret(char *out, size_t outlen);

/* A fresh API key "hk_<mode>_" + 40 hex into out (>= 64). mode is "live" or "test". */
void id_api_key(char *out, size_t outlen, const char *mode);

#endif

/*
 * validate - checks on API input that do not need the store: the send body
 * (API.md §3.1), custom header sets, and endpoint URLs.
 *
 * Description: every limit of ARCHITECTURE §6 is enforced here, before any
 * write. Errors fill err_detail with the API code (INVALID_REQUEST,
 * PAYLOAD_TOO_LARGE, INVALID_HEADERS, INVALID_ENDPOINT) and a message.
 * The send body is scanned, not parsed into a tree, so the payload keeps
 * the bytes the producer sent.
 * Threading: any thread. Ownership: validate_send fills a send_request whose
 * heap fields are freed by send_request_release.
 * See also: json_scan.h.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_CORE_VALIDATE_H
#define HOOKD_CORE_VALIDATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/id.h"
#include "util/err.h"

#define VALIDATE_MAX_PAYLOAD_BYTES (1024 * 1024)
#define VALIDATE_MAX_HEADERS 50
#define VALIDATE_MAX_HEADER_BYTES 8192
#define VALIDATE_MAX_IDEMPOTENCY_KEY 255
#define VALIDATE_MAX_URL 2048
#define VALIDATE_MAX_JSON_DEPTH 64

struct send_request {
    char endpoint_id[ID_MAX];
    char
        *payload; /* raw bytes of "payload" exactly as sent (no outer whitespace), NUL-terminated */
    size_t payload_len;
    char payload_sha256[65];                                /* lower-case hex */
    char *headers_json;                                     /* compact JSON object or NULL */
    char idempotency_key[VALIDATE_MAX_IDEMPOTENCY_KEY + 1]; /* "" when absent */
    int retention_hours;                                    /* -1 when absent */
};

/* Parse a JSON request body into a jansson tree, with our depth limit; NULL + detail on error. */
json_t *validate_parse_json(const char *body, size_t len, struct err_detail *d);

/*
 * Validate a POST /v1/webhooks/send body and fill out. The body must be
 * strict RFC 8259 JSON (see json_scan.h) and an object; "payload" is kept as
 * the exact bytes of its value, limited to VALIDATE_MAX_PAYLOAD_BYTES
 * (ERR_LIMIT, PAYLOAD_TOO_LARGE) and hashed as is. For a duplicate
 * top-level key the last member wins. On error out holds no heap memory.
 */
enum err validate_send(struct send_request *out, const char *body, size_t len,
                       struct err_detail *d);

void send_request_release(struct send_request *r);

/* The SHA-256 of buf as 64 lower-case hex digits and a NUL: the payload_sha256 of a
 * message, whichever surface made it. The digest is fetched from libcrypto once per
 * process (EVP_sha256() in EVP_Digest looks it up again on every call). */
void validate_sha256_hex(char out[65], const void *buf, size_t len);

/* Refuse a member of object obj (a setting named name, e.g. "retry") that is
 * not one of known[0..n): ERR_INVAL with code, field "<name>.<member>" and a
 * message listing the members (list: "strategy, count and interval_ms"). */
enum err validate_known_members(const json_t *obj, const char *name, const char *const *known,
                                size_t n, const char *list, const char *code, struct err_detail *d);

/* Check a custom-header object (string -> string): count, size, names, forbidden names. */
enum err validate_headers(const json_t *headers, struct err_detail *d);

/* Check an endpoint URL: absolute http(s), length, https unless allow_http. */
enum err validate_endpoint_url(const char *url, bool allow_http, struct err_detail *d);

#endif

/*
 * api internal - shared between the api/ files only (api__ names).
 *
 * A request lives in one struct api_request from the first callback until
 * libmicrohttpd reports it completed. Handlers either respond at once
 * (api__respond_*) or start an async op with api__defer and respond in the
 * resume callback. Per-request heap data is freed in api__request_free.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_API_INTERNAL_H
#define HOOKD_API_INTERNAL_H

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>

#include "api/api.h"
#include "core/id.h"
#include "store/committer.h"
#include "store/store.h"

#define API_MAX_BODY (2 * 1024 * 1024)
#define API_PATH_SEGMENTS 12
#define API_MAX_PARAMS 3

struct api_request;

/* ---- the request seam (server.c) ----
 * A request served by libmicrohttpd reads headers and query arguments from
 * its connection and queues its response there. A request with an io table
 * (the fuzz harness in tests/fuzz/fuzz_request.c) goes through these
 * callbacks instead, so the whole path router -> handler -> response runs
 * without a socket. Only lookups, the response and the op wakeup differ. */
struct api_header {
    const char *name, *value;
};
struct api_io {
    /* kind is MHD_HEADER_KIND (name case-insensitive) or MHD_GET_ARGUMENT_KIND */
    const char *(*lookup)(void *ctx, enum MHD_ValueKind kind, const char *name);
    /* The response: status, body (borrowed for the call) and headers. */
    void (*respond)(void *ctx, unsigned status, const char *body, size_t len,
                    const struct api_header *headers, size_t nheaders);
    /* A deferred op finished (committer thread): call api__request_resume soon. */
    void (*wake)(void *ctx);
    void *ctx;
};

/* Called on an MHD thread once the deferred op is done; must respond. */
typedef void (*api_resume_fn)(struct api_request *r);

/* A surface's error body (surface/svix): status, the HookBridge-style code the
 * caller chose, the message (valid UTF-8) and r->error_field; must respond. */
typedef void (*api_error_fn)(struct api_request *r, unsigned status, const char *code,
                             const char *msg);

struct api_request {
    struct api *api;
    struct MHD_Connection *conn; /* NULL when io is set */
    const struct api_io *io;     /* NULL: served by libmicrohttpd */
    const char *method;
    const char *url; /* the request path, owned by libmicrohttpd */
    char *body;
    size_t body_len, body_cap;
    bool body_too_large;
    char request_id[32];
    const char *seg[API_PATH_SEGMENTS]; /* path split at '/', into path_buf */
    int nseg;
    const char *param[API_MAX_PARAMS]; /* ":x" captures of the matched route */
    char path_buf[512];
    struct store_api_key key; /* the authenticated key (for /v1 routes) */

    bool responded;
    bool deferred;  /* waiting for an op; resume_fn then responds */
    bool abandoned; /* client went away while deferred: respond is a no-op */
    api_resume_fn resume_fn;
    void *op; /* the deferred op, owned by the resume_fn */
    bool counted_active;

    /* api keys, rate limit and request log (keys.c, ratelimit.c, server.c) */
    bool authenticated;      /* key holds the caller's key */
    bool has_rate;           /* add the X-RateLimit-* headers (respond.c) */
    int64_t rate_limit;      /* X-RateLimit-Limit: requests per minute */
    int64_t rate_remaining;  /* X-RateLimit-Remaining */
    int64_t rate_reset_unix; /* X-RateLimit-Reset: unix s when the bucket is full */
    int64_t retry_after_s;   /* > 0: add Retry-After (a 429) */
    unsigned status;         /* the status queued, for the request log line */
    int64_t started_mono_us; /* first callback, for duration_ms */
    char client_ip[48];      /* the peer address: "" until api__client_ip formats it */
    /* The surface that answers errors (NULL: HookBridge's envelope), and the input
     * field at fault of the error being answered (err_detail.field; "" if none). */
    api_error_fn render_error;
    char error_field[40];
    /* Authenticated with a portal token (service/portal_tokens.h) instead of an
     * API key: it acts for portal_app only, writing only with portal_write. */
    bool portal;
    bool portal_write;
    char portal_app[ID_MAX];
    /* CORS: the Access-Control-Allow-Origin every answer carries ("" = none) */
    char cors_origin[256];
};

struct api_stats {
    unsigned long long requests, sends_accepted, sends_duplicate;
};

struct api {
    struct api_deps deps;
    struct MHD_Daemon *daemon;
    int port;
    pthread_mutex_t pool_mu;
    struct store **pool;
    size_t pool_len, pool_cap;
    int active_submitters; /* requests between the draining check and their submit */
    int suspended;
    bool draining;
    struct api_stats stats;
    struct api_ratelimit *ratelimit; /* per-key buckets (ratelimit.c) */
    struct api_authfail *authfail;   /* failed-auth throttle per client address (ratelimit.c) */
    struct api_keycache *keycache;   /* verified keys by digest (keys.c) */
};

/* The head of every api write op: the commit op and the waiting request. */
struct api_op {
    struct commit_op op;
    struct api_request *r;
};

/* A done() for ops with nothing to do after commit but wake the request. */
void api__op_done(struct commit_op *op);

/* ---- request lifecycle and seam (server.c) ---- */
/* A headless api (no daemon): the state every request needs. api_start adds
 * the daemon; the fuzz harness uses it as is. */
struct api *api__new(const struct api_deps *deps);
void api__free(struct api *a);
/* A new request context for method and url (both borrowed until
 * api__request_free); conn or io says where it came from. */
/* The client's address as text, formatted on first use (only auth throttling
 * needs it; inet_ntop on every request cost more than routing it). */
const char *api__client_ip(struct api_request *r);
struct api_request *api__request_new(struct api *a, struct MHD_Connection *conn,
                                     const struct api_io *io, const char *method, const char *url);
/* Append a chunk of the body (bounded by API_MAX_BODY). */
void api__request_body(struct api_request *r, const char *data, size_t len);
/* The whole request is in: route it (or 503 while draining). */
void api__request_handle(struct api_request *r);
/* After the op's wakeup: run the resume callback, which responds. */
void api__request_resume(struct api_request *r);
/* The connection is done with r (client gone or response sent): log it, free it. */
void api__request_free(struct api_request *r);
/* A request header (case-insensitive name) or NULL. */
const char *api__header(struct api_request *r, const char *name);
/* Send the response: status, body (borrowed, copied) and extra headers. */
void api__respond_raw(struct api_request *r, unsigned status, const char *body, size_t len,
                      const struct api_header *headers, size_t nheaders);
/* The same with a malloc'd body that is handed over (no copy). */
void api__respond_take(struct api_request *r, unsigned status, char *body_take, size_t len,
                       const struct api_header *headers, size_t nheaders);

/* ---- responses (respond.c) ---- */
/* Respond with the JSON document root as is (steals it), with the standard headers
 * (X-Request-Id, rate limit, Retry-After); for envelopes with extra top-level fields.
 * root NULL (a json_pack that failed) or a document that cannot be serialised
 * answers a fixed 500 INTERNAL_ERROR envelope instead: never an abort. */
void api__respond_json(struct api_request *r, unsigned status, json_t *root);
/* The same for a document already serialised (text_take: malloc'ed, taken). */
void api__respond_json_text(struct api_request *r, unsigned status, char *text_take);
/* Respond with {data, meta:{request_id, ...extra_meta}}; steals data and extra_meta. */
void api__respond_data(struct api_request *r, unsigned status, json_t *data, json_t *extra_meta);
/* Respond with {error:{code,message}, meta:{request_id}}. The formatted message
 * may hold request bytes: it is made valid UTF-8 (invalid bytes become U+FFFD)
 * and is never cut inside a character. */
void api__respond_error(struct api_request *r, unsigned status, const char *code, const char *fmt,
                        ...) __attribute__((format(printf, 4, 5)));
/* Map an enum err + detail to the error envelope. */
void api__respond_err(struct api_request *r, enum err e, const struct err_detail *d);
/* A JSON string of text that may not be UTF-8 (receiver bytes, request bytes):
 * invalid bytes become U+FFFD; NULL gives JSON null. Never NULL. */
json_t *api__json_text(const char *s);
/* RFC 3339 string value, or JSON null when unix_ms == 0. */
json_t *api__time(int64_t unix_ms);

/* ---- request helpers (request.c) ---- */
/* The JSON body as a tree (caller json_decref's). With allow_empty, an empty
 * body (PHP clients send none on POSTs but declare JSON) yields an empty
 * object. NULL + detail (INVALID_REQUEST / PAYLOAD_TOO_LARGE) on error. */
json_t *api__parse_body(struct api_request *r, bool allow_empty, struct err_detail *d);
/* Query "limit": default when absent; responds 400 and returns false when not 1..max. */
bool api__parse_limit(struct api_request *r, int def, int max, int *out);
/* Query name as RFC 3339 into *out_ms (0 when absent); responds 400 and returns false
 * when malformed. */
bool api__parse_time(struct api_request *r, const char *name, int64_t *out_ms);
/* The Idempotency-Key header of a POST into key (keylen bytes; "" when absent or
 * not a POST) and the SHA-256 (hex) of the method, path and body into sha; false
 * after answering 400 when the key is longer than keylen - 1 bytes. */
bool api__idempotency(struct api_request *r, char *key, size_t keylen, char sha[65]);
/* The list meta object: {has_more, next_cursor (string iff has_more, else null)}. */
json_t *api__page_meta(bool has_more, const char *next_cursor);

/* ---- plumbing (server.c) ---- */
/* Borrow / return a read-only store connection. */
struct store *api__store_acquire(struct api *a);
void api__store_release(struct api *a, struct store *s);
/* Submit op for r and suspend r until op->done calls api__op_finished. */
void api__defer(struct api_request *r, struct commit_op *op, void *owner, api_resume_fn fn);
/* From an op's done() (committer thread): wake the request up. */
void api__op_finished(struct api_request *r);
/* A query-string argument or NULL. */
const char *api__query(struct api_request *r, const char *name);

/* ---- routes (router.c); every handler reads its path captures from r->param ---- */
void api__route(struct api_request *r);
/* Does the path from segment `first` on match pattern ("a/:x/b")? Fills r->param. */
bool api__match(struct api_request *r, int first, const char *pattern);
/* Authenticate the Bearer API key (401/429 answered through r->render_error). */
bool api__authenticate(struct api_request *r);
void api__ops_healthz(struct api_request *r);
void api__ops_metrics(struct api_request *r);
/* send.c */
void api__send(struct api_request *r);
/* endpoints.c */
void api__endpoints_create(struct api_request *r);
void api__endpoints_list(struct api_request *r);
void api__endpoints_get(struct api_request *r);
void api__endpoints_update(struct api_request *r);
void api__endpoints_delete(struct api_request *r);
/* endpoint_state.c: pause / resume */
void api__endpoints_pause(struct api_request *r);
void api__endpoints_resume(struct api_request *r);
/* signing_keys.c */
void api__signing_keys_create(struct api_request *r);
void api__signing_keys_list(struct api_request *r);
void api__signing_keys_delete(struct api_request *r);
/* keys.c: API keys */
void api__keys_list(struct api_request *r);
void api__keys_create(struct api_request *r);
void api__keys_delete(struct api_request *r);
/* messages.c: reads */
void api__messages_get(struct api_request *r);
void api__messages_attempts(struct api_request *r);
json_t *api__render_message(const struct store_message *m); /* the Message of API.md §3.2 */
/* message_ops.c: replay, retry-now, cancel, deletes */
void api__messages_replay(struct api_request *r);
void api__messages_retry_now(struct api_request *r);
void api__messages_cancel(struct api_request *r);
void api__messages_replay_all(struct api_request *r);
void api__messages_replay_batch(struct api_request *r);
void api__messages_delete(struct api_request *r);
void api__messages_delete_batch(struct api_request *r);
void api__messages_delete_all(struct api_request *r);
/* logs.c */
void api__logs_list(struct api_request *r);
/* metrics.c */
void api__metrics_summary(struct api_request *r);
void api__metrics_timeseries(struct api_request *r);
/* dlq.c */
void api__dlq_list(struct api_request *r);
void api__dlq_replay(struct api_request *r);

/* ---- api keys: last_used_at, per-key rate limit (keys.c, ratelimit.c) ---- */
/* After authentication: submit a fire-and-forget op setting the key's last_used_at
 * when the stored value is older than API_KEY_TOUCH_MS (or never set). */
#define API_KEY_TOUCH_MS 60000
void api__keys_touch(struct api_request *r);
/* Per-key state: token buckets (per_min 0 = no limit) and last_used_at writes. */
struct api_ratelimit *api__ratelimit_new(int per_min, int burst);
void api__ratelimit_free(struct api_ratelimit *rl);
struct api_rate_result {
    int64_t limit; /* 0: limit off, nothing else set */
    int64_t remaining, reset_unix, retry_after_s;
};
/* Take a token of key_id's bucket at the given clocks; false when empty (then
 * retry_after_s >= 1). Pure logic behind a mutex, unit tested. */
bool api__ratelimit_take(struct api_ratelimit *rl, const char *key_id, int64_t now_mono_ms,
                         int64_t now_unix_ms, struct api_rate_result *out);
/* True (once per API_KEY_TOUCH_MS per key) when the caller should write last_used_at. */
bool api__ratelimit_claim_touch(struct api_ratelimit *rl, const char *key_id, int64_t now_mono_ms);
/* Take one token for r->key and fill r's X-RateLimit-* fields; when the bucket is
 * empty, respond 429 RATE_LIMITED (with Retry-After) and return false. */
bool api__ratelimit_check(struct api_request *r);
/* Drop the bucket of a deleted key. */
void api__ratelimit_forget(struct api_ratelimit *rl, const char *key_id);

/* ---- verified API keys by SHA-256 (keycache.c) ---- */
#define API_KEYCACHE_SLOTS 1024
#define API_KEYCACHE_TTL_MS 10000 /* re-checked against the store after this */
struct api_keycache *api__keycache_new(void);
void api__keycache_free(struct api_keycache *kc);
/* True and *out filled when digest is a verified key seen within the TTL. */
bool api__keycache_get(struct api_keycache *kc, const uint8_t digest[32], int64_t now_mono_ms,
                       struct store_api_key *out);
/* Read before the store lookup; put only inserts when no forget happened since. */
uint64_t api__keycache_generation(struct api_keycache *kc);
void api__keycache_put(struct api_keycache *kc, const uint8_t digest[32],
                       const struct store_api_key *key, uint64_t generation, int64_t now_mono_ms);
/* Drop every entry of key_id (a deleted key fails from the next request on). */
void api__keycache_forget(struct api_keycache *kc, const char *key_id);

/* ---- failed-authentication throttle per client address (ratelimit.c) ---- */
#define API_AUTHFAIL_MAX_ADDRS 4096
/* per_min 0 turns the throttle off. */
struct api_authfail *api__authfail_new(int per_min);
void api__authfail_free(struct api_authfail *af);
/* Count one failed authentication from addr; false when addr is over its
 * budget, with *retry_after_s (>= 1) set. IPv6 addresses count per /64. */
bool api__authfail_take(struct api_authfail *af, const char *addr, int64_t now_mono_ms,
                        int64_t *retry_after_s);

#endif

/*
 * http internal - the request, its responses and the plumbing that every
 * surface (src/surface/...) builds on (http__ names).
 *
 * A request lives in one struct http_request from the first callback until
 * libmicrohttpd reports it completed. Handlers either respond at once
 * (http__respond_*) or start an async op with http__defer and respond in the
 * resume callback. Per-request heap data is freed in http__request_free.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_HTTP_INTERNAL_H
#define HOOKD_HTTP_INTERNAL_H

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>

#include "core/id.h"
#include "http/http.h"
#include "service/service.h"
#include "store/committer.h"
#include "store/store.h"

#define HTTP_MAX_BODY (2 * 1024 * 1024)
#define HTTP_PATH_SEGMENTS 12
#define HTTP_MAX_PARAMS 3

struct http_request;

/* ---- the request seam (server.c) ----
 * A request served by libmicrohttpd reads headers and query arguments from
 * its connection and queues its response there. A request with an io table
 * (the fuzz harness in tests/fuzz/fuzz_request.c) goes through these
 * callbacks instead, so the whole path router -> handler -> response runs
 * without a socket. Only lookups, the response and the op wakeup differ. */
struct http_header {
    const char *name, *value;
};
struct http_io {
    /* kind is MHD_HEADER_KIND (name case-insensitive) or MHD_GET_ARGUMENT_KIND */
    const char *(*lookup)(void *ctx, enum MHD_ValueKind kind, const char *name);
    /* The response: status, body (borrowed for the call) and headers. */
    void (*respond)(void *ctx, unsigned status, const char *body, size_t len,
                    const struct http_header *headers, size_t nheaders);
    /* A deferred op finished (committer thread): call http__request_resume soon. */
    void (*wake)(void *ctx);
    void *ctx;
};

/* Called on an MHD thread once the deferred op is done; must respond. */
typedef void (*http_resume_fn)(struct http_request *r);

/* A surface's error body (surface/svix): status, the HookBridge-style code the
 * caller chose, the message (valid UTF-8) and r->error_field; must respond. */
typedef void (*http_error_fn)(struct http_request *r, unsigned status, const char *code,
                              const char *msg);

struct http_request {
    struct http_server *server;
    struct MHD_Connection *conn; /* NULL when io is set */
    const struct http_io *io;    /* NULL: served by libmicrohttpd */
    const char *method;
    const char *url; /* the request path, owned by libmicrohttpd */
    char *body;
    size_t body_len, body_cap;
    bool body_too_large;
    char request_id[32];
    const char *seg[HTTP_PATH_SEGMENTS]; /* path split at '/', into path_buf */
    int nseg;
    const char *param[HTTP_MAX_PARAMS]; /* ":x" captures of the matched route */
    char path_buf[512];
    struct store_api_key key; /* the authenticated key (for /v1 routes) */

    bool responded;
    bool deferred;  /* waiting for an op; resume_fn then responds */
    bool abandoned; /* client went away while deferred: respond is a no-op */
    http_resume_fn resume_fn;
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
    char client_ip[48];      /* the peer address: "" until http__client_ip formats it */
    /* The surface that answers errors (NULL: HookBridge's envelope), and the input
     * field at fault of the error being answered (err_detail.field; "" if none). */
    http_error_fn render_error;
    char error_field[40];
    /* Authenticated with a portal token (service/portal_tokens.h) instead of an
     * API key: it acts for portal_app only, writing only with portal_write. */
    bool portal;
    bool portal_write;
    char portal_app[ID_MAX];
    /* CORS: the Access-Control-Allow-Origin every answer carries ("" = none) */
    char cors_origin[256];
};

struct http_stats {
    unsigned long long requests, sends_accepted, sends_duplicate;
};

struct http_server {
    struct http_deps deps;
    struct MHD_Daemon *daemon;
    int port;
    pthread_mutex_t pool_mu;
    struct store **pool;
    size_t pool_len, pool_cap;
    int active_submitters; /* requests between the draining check and their submit */
    int suspended;
    int live_requests; /* made and not yet freed (their answer is not out yet) */
    bool draining;
    struct http_stats stats;
    struct api_ratelimit *ratelimit; /* per-key buckets (ratelimit.c) */
    struct api_authfail *authfail;   /* failed-auth throttle per client address (ratelimit.c) */
    struct api_keycache *keycache;   /* verified keys by digest (keys.c) */
    /* The store's gauges for /metrics, read at most every OPS_GAUGES_TTL_MS (ops.c). */
    pthread_mutex_t gauges_mu;
    int64_t gauges_mono_ms; /* when read; 0 = never */
    bool gauges_ok;
    struct store_gauges gauges;
    /* http__offload: works running, and the flag that asks them to end */
    pthread_mutex_t offload_mu;
    pthread_cond_t offload_cv;
    int offloads;
    bool offload_cancel;
};

/* ---- request lifecycle and seam (server.c) ---- */
/* A headless api (no daemon): the state every request needs. http_start adds
 * the daemon; the fuzz harness uses it as is. */
struct http_server *http__new(const struct http_deps *deps);
void http__free(struct http_server *a);
/* A new request context for method and url (both borrowed until
 * http__request_free); conn or io says where it came from. */
/* The client's address as text, formatted on first use (only auth throttling
 * needs it; inet_ntop on every request cost more than routing it). */
const char *http__client_ip(struct http_request *r);
struct http_request *http__request_new(struct http_server *a, struct MHD_Connection *conn,
                                       const struct http_io *io, const char *method,
                                       const char *url);
/* Append a chunk of the body (bounded by HTTP_MAX_BODY). */
void http__request_body(struct http_request *r, const char *data, size_t len);
/* The whole request is in: route it (or 503 while draining). */
void http__request_handle(struct http_request *r);
/* After the op's wakeup: run the resume callback, which responds. */
void http__request_resume(struct http_request *r);
/* The connection is done with r (client gone or response sent): log it, free it. */
void http__request_free(struct http_request *r);
/* A request header (case-insensitive name) or NULL. */
const char *http__header(struct http_request *r, const char *name);
/* Send the response: status, body (borrowed, copied) and extra headers. */
void http__respond_raw(struct http_request *r, unsigned status, const char *body, size_t len,
                       const struct http_header *headers, size_t nheaders);
/* The same with a malloc'd body that is handed over (no copy). */
void http__respond_take(struct http_request *r, unsigned status, char *body_take, size_t len,
                        const struct http_header *headers, size_t nheaders);

/* ---- the built pages (static.c) ---- */
/* GET or HEAD of /portal/ or /console/ (also without the slash, index.html)
 * or of a file under their assets/: the page files, never the JSON routes. */
bool http__static_owns(const struct http_request *r);
/* Answer such a request from the web directory (--web-dir). */
void http__static(struct http_request *r);

/* ---- responses (respond.c) ---- */
/* Respond with the JSON document root as is (steals it), with the standard headers
 * (X-Request-Id, rate limit, Retry-After); for envelopes with extra top-level fields.
 * root NULL (a json_pack that failed) or a document that cannot be serialised
 * answers a fixed 500 INTERNAL_ERROR envelope instead: never an abort. */
void http__respond_json(struct http_request *r, unsigned status, json_t *root);
/* The same for a document already serialised (text_take: malloc'ed, taken). */
void http__respond_json_text(struct http_request *r, unsigned status, char *text_take);
/* Respond with {data, meta:{request_id, ...extra_meta}}; steals data and extra_meta. */
void http__respond_data(struct http_request *r, unsigned status, json_t *data, json_t *extra_meta);
/* Respond with {error:{code,message}, meta:{request_id}}. The formatted message
 * may hold request bytes: it is made valid UTF-8 (invalid bytes become U+FFFD)
 * and is never cut inside a character. */
void http__respond_error(struct http_request *r, unsigned status, const char *code, const char *fmt,
                         ...) __attribute__((format(printf, 4, 5)));
/* Map an enum err + detail to the error envelope. */
void http__respond_err(struct http_request *r, enum err e, const struct err_detail *d);
/* A JSON string of text that may not be UTF-8 (receiver bytes, request bytes):
 * invalid bytes become U+FFFD; NULL gives JSON null. Never NULL. */
json_t *http__json_text(const char *s);
/* A domain field name (snake_case) as the camelCase of the Svix and Hookbase wires,
 * into buf (len bytes); returns buf. */
const char *http__camel_case(const char *field, char *buf, size_t len);
/* RFC 3339 string value, or JSON null when unix_ms == 0. */
json_t *http__time(int64_t unix_ms);

/* ---- request helpers (request.c) ---- */
/* The JSON body as a tree (caller json_decref's). With allow_empty, an empty
 * body (PHP clients send none on POSTs but declare JSON) yields an empty
 * object. NULL + detail (INVALID_REQUEST / PAYLOAD_TOO_LARGE) on error. */
json_t *http__parse_body(struct http_request *r, bool allow_empty, struct err_detail *d);
/* Query "limit": default when absent; responds 400 and returns false when not 1..max. */
bool http__parse_limit(struct http_request *r, int def, int max, int *out);
/* Query name as RFC 3339 into *out_ms (0 when absent); responds 400 and returns false
 * when malformed. */
bool http__parse_time(struct http_request *r, const char *name, int64_t *out_ms);
/* The Idempotency-Key header of a POST into key (keylen bytes; "" when absent or
 * not a POST) and the SHA-256 (hex) of the method, path and body into sha; false
 * after answering 400 when the key is longer than keylen - 1 bytes. */
bool http__idempotency(struct http_request *r, char *key, size_t keylen, char sha[65]);
/* CORS (TENANCY.md §4): set r->cors_origin (the Access-Control-Allow-Origin every
 * answer then carries) when the request's Origin is allowed by --portal-origins. */
void http__cors(struct http_request *r);
/* The list meta object: {has_more, next_cursor (string iff has_more, else null)}. */
json_t *http__page_meta(bool has_more, const char *next_cursor);

/* ---- plumbing (server.c) ---- */
/* Borrow / return a read-only store connection. */
struct store *http__store_acquire(struct http_server *a);
void http__store_release(struct http_server *a, struct store *s);
/* Submit a service op (service/service.h) for r and suspend r until the
 * committer is done with it; then fn runs on an MHD thread with r->op == op
 * and must respond (and free the op). */
void http__defer(struct http_request *r, struct service_op *op, http_resume_fn fn);
/* A query-string argument or NULL. */
const char *http__query(struct http_request *r, const char *name);

/*
 * Work that blocks (a test send waits on a receiver for up to the delivery
 * timeout) must not hold an MHD thread, which serves every other request of
 * its connections: http__offload runs work(r, cancel) on a thread of its
 * own, with r suspended as http__defer suspends it, then resume(r) runs on
 * an MHD thread (or the seam's, after io->wake) with r->op == op and must
 * respond and free the op, as after http__defer; r->abandoned is set there
 * when the client went away meanwhile.
 * work may read r (its params, key, body) and r->op, and must not respond,
 * touch the connection or keep r: once work returns, r belongs to its MHD
 * thread again. *cancel (read it with __atomic_load_n) turns true when the
 * server stops; work should then end within a second or so, as http_stop
 * waits for every offloaded work before it stops the daemon.
 * At most HTTP_OFFLOAD_MAX works run at once in the process: beyond that,
 * and once the server is stopping, nothing is started and false is
 * returned; the caller responds itself (429) and still owns op. Each work
 * gets a detached thread (should one not start, the work runs on the
 * calling thread instead: slower to answer others, never lost).
 */
#define HTTP_OFFLOAD_MAX 8
typedef void (*http_work_fn)(struct http_request *r, const bool *cancel);
bool http__offload(struct http_request *r, void *op, http_work_fn work, http_resume_fn resume);

/* ---- routing (router.c) and authentication (auth.c) ---- */
void http__route(struct http_request *r);
/* A surface's route: path is the segments after the surface's prefix; ":x"
 * captures one segment into r->param. */
struct http_route {
    const char *method;
    const char *path;
    void (*handler)(struct http_request *r);
};
/* Run the first route whose path matches from segment `first` on and whose
 * method is r's; else 405 (the path is known) or 404, through r->render_error. */
void http__dispatch(struct http_request *r, int first, const struct http_route *routes, size_t n);
/* Does the path from segment `first` on match pattern ("a/:x/b")? Fills r->param. */
bool http__match(struct http_request *r, int first, const char *pattern);
/* Authenticate the Bearer API key (401/429 answered through r->render_error). */
bool http__authenticate(struct http_request *r);
void http__ops_healthz(struct http_request *r);
void http__ops_readyz(struct http_request *r);
void http__ops_metrics(struct http_request *r);

/* ---- api keys: last_used_at (auth.c), per-key rate limit (ratelimit.c) ---- */
/* After authentication a fire-and-forget op sets the key's last_used_at when
 * the stored value is older than API_KEY_TOUCH_MS (or never set). */
#define API_KEY_TOUCH_MS 60000
/* Per-key state: token buckets (per_min 0 = no limit) and last_used_at writes. */
struct api_ratelimit *http__ratelimit_new(int per_min, int burst);
void http__ratelimit_free(struct api_ratelimit *rl);
struct api_rate_result {
    int64_t limit; /* 0: limit off, nothing else set */
    int64_t remaining, reset_unix, retry_after_s;
};
/* Take a token of key_id's bucket at the given clocks; false when empty (then
 * retry_after_s >= 1). Pure logic behind a mutex, unit tested. */
bool http__ratelimit_take(struct api_ratelimit *rl, const char *key_id, int64_t now_mono_ms,
                          int64_t now_unix_ms, struct api_rate_result *out);
/* True (once per API_KEY_TOUCH_MS per key) when the caller should write last_used_at. */
bool http__ratelimit_claim_touch(struct api_ratelimit *rl, const char *key_id, int64_t now_mono_ms);
/* Take one token for r->key and fill r's X-RateLimit-* fields; when the bucket is
 * empty, respond 429 RATE_LIMITED (with Retry-After) and return false. */
bool http__ratelimit_check(struct http_request *r);
/* Drop the bucket of a deleted key. */
void http__ratelimit_forget(struct api_ratelimit *rl, const char *key_id);

/* ---- verified API keys by SHA-256 (keycache.c) ---- */
#define API_KEYCACHE_SLOTS 1024
#define API_KEYCACHE_TTL_MS 10000 /* re-checked against the store after this */
struct api_keycache *http__keycache_new(void);
void http__keycache_free(struct api_keycache *kc);
/* True and *out filled when digest is a verified key seen within the TTL. */
bool http__keycache_get(struct api_keycache *kc, const uint8_t digest[32], int64_t now_mono_ms,
                        struct store_api_key *out);
/* Read before the store lookup; put only inserts when no forget happened since. */
uint64_t http__keycache_generation(struct api_keycache *kc);
void http__keycache_put(struct api_keycache *kc, const uint8_t digest[32],
                        const struct store_api_key *key, uint64_t generation, int64_t now_mono_ms);
/* Drop every entry of key_id (a deleted key fails from the next request on). */
void http__keycache_forget(struct api_keycache *kc, const char *key_id);

/* ---- failed-authentication throttle per client address (ratelimit.c) ---- */
#define API_AUTHFAIL_MAX_ADDRS 4096
/* per_min 0 turns the throttle off. */
struct api_authfail *http__authfail_new(int per_min);
void http__authfail_free(struct api_authfail *af);
/* Count one failed authentication from addr; false when addr is over its
 * budget, with *retry_after_s (>= 1) set. IPv6 addresses count per /64. */
bool http__authfail_take(struct api_authfail *af, const char *addr, int64_t now_mono_ms,
                         int64_t *retry_after_s);

#endif

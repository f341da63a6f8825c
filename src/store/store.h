/*
 * store - hookd's persistence seam, in the domain's words (ARCHITECTURE §7).
 *
 * Description: one struct store is one database connection. The committer
 * thread owns the only writing connection and wraps batches of operations in
 * store_batch_begin/commit with a savepoint per operation; API threads and
 * the dispatcher read through their own connections. No SQL lives outside
 * src/store/. The SQLite implementation runs in WAL mode with
 * synchronous=FULL, so a committed batch survives kill -9 and power loss.
 * Schema changes are numbered migrations applied by store_open(..., migrate).
 * Threading: a struct store is used by one thread at a time.
 * Ownership: output structs with heap fields have a matching _release;
 * strings in them belong to the struct.
 * Errors: ERR_NOTFOUND, ERR_CONFLICT (idempotency mismatch, duplicate),
 * ERR_BUSY (database locked), ERR_IO (anything else; detail carries the
 * SQLite message).
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_STORE_STORE_H
#define HOOKD_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/id.h"
#include "util/err.h"

struct store;

/* Message states (ARCHITECTURE §4). */
enum store_status {
    STATUS_QUEUED = 0,
    STATUS_DELIVERING,
    STATUS_SUCCEEDED,
    STATUS_PENDING_RETRY,
    STATUS_FAILED_PERMANENT,
};

const char *store_status_name(enum store_status s);

/* Open data_dir/hookd.db, creating the directory and file when missing.
 * With migrate, apply pending migrations (do this once, before other opens). */
enum err store_open(struct store **out, const char *data_dir, bool migrate, struct err_detail *d);
void store_close(struct store *s);

/* Batch transactions (the committer). An op runs between op_begin and
 * op_end(ok); a failed op is rolled back alone. */
enum err store_batch_begin(struct store *s, struct err_detail *d);
enum err store_batch_commit(struct store *s, struct err_detail *d);
void store_batch_rollback(struct store *s);
enum err store_op_begin(struct store *s, struct err_detail *d);
void store_op_end(struct store *s, bool ok);

/* ---- API keys ---- */
struct store_api_key {
    char id[ID_MAX];
    char mode[8]; /* "live" | "test" */
    char prefix[16];
    char label[256];
    int64_t created_at_ms;
    int64_t last_used_at_ms; /* 0 = never */
};

enum err store_api_key_insert(struct store *s, const struct store_api_key *k,
                              const uint8_t key_sha256[32], struct err_detail *d);
/* Look up a live (not deleted) key by the SHA-256 of its secret. */
enum err store_api_key_find(struct store *s, const uint8_t key_sha256[32],
                            struct store_api_key *out, struct err_detail *d);
enum err store_api_key_count(struct store *s, int64_t *out, struct err_detail *d);

/* ---- endpoints and signing keys ---- */
struct store_endpoint {
    char id[ID_MAX];
    char mode[8];
    char *url;
    char *description;  /* NULL when unset */
    char *headers_json; /* NULL when unset */
    int rate_limit_rps; /* 0 = unlimited */
    int burst;          /* 0 = rate_limit_rps */
    bool paused;
    bool hmac_enabled;
    int64_t created_at_ms;
    int64_t updated_at_ms;
    int64_t deleted_at_ms; /* 0 = live */
};
void store_endpoint_release(struct store_endpoint *e);

struct store_signing_key {
    char id[ID_MAX];
    char secret[ID_MAX];
    int64_t created_at_ms;
};

#define STORE_MAX_ACTIVE_KEYS 2

/* Insert an endpoint with its first signing key. ERR_CONFLICT (DUPLICATE_URL) when
 * another live endpoint of the same mode has the same URL. */
enum err store_endpoint_insert(struct store *s, const struct store_endpoint *e,
                               const struct store_signing_key *k, struct err_detail *d);
/* A live endpoint of mode by id (include_deleted for the dispatcher). */
enum err store_endpoint_get(struct store *s, const char *mode, const char *id, bool include_deleted,
                            struct store_endpoint *out, struct err_detail *d);
/* Overwrite the mutable fields of a live endpoint (url, description, headers,
 * rate_limit_rps, burst, hmac_enabled, paused, updated_at); DUPLICATE_URL as above. */
enum err store_endpoint_update(struct store *s, const struct store_endpoint *e,
                               struct err_detail *d);
/* Soft delete; ERR_NOTFOUND when absent or already deleted. */
enum err store_endpoint_delete(struct store *s, const char *mode, const char *id, int64_t now_ms,
                               struct err_detail *d);
/* Page through live endpoints of mode, newest first, after cursor (cursor "" = start;
 * a cursor that is not an endpoint id of this mode is ERR_INVAL).
 * Fills up to limit entries into out (caller array); *n the count; *has_more. */
enum err store_endpoint_list(struct store *s, const char *mode, const char *cursor, int limit,
                             struct store_endpoint *out, int *n, bool *has_more,
                             struct err_detail *d);
/* Active signing keys of an endpoint, oldest first, at most STORE_MAX_ACTIVE_KEYS. */
enum err store_signing_keys_active(struct store *s, const char *endpoint_id,
                                   struct store_signing_key *out, int *n, struct err_detail *d);

/* ---- sends and messages ---- */
struct store_send {
    char message_id[ID_MAX]; /* chosen by the caller */
    const char *endpoint_id;
    const char *mode;
    const char *payload;
    size_t payload_len;
    const char *content_type;
    const char *headers_json;    /* NULL = none */
    const char *idempotency_key; /* "" = none */
    const char *payload_sha256;
    int retention_hours; /* -1 = server default */
    int64_t now_ms;
};

/*
 * Make the event and its message, status queued. When the endpoint already
 * has a message with the same idempotency key: same payload hash -> ERR_OK with
 * *existed = true and existing_id filled; other payload -> ERR_CONFLICT
 * (IDEMPOTENCY_MISMATCH). Unknown or deleted endpoint -> ERR_NOTFOUND.
 */
enum err store_send_insert(struct store *s, const struct store_send *in, char existing_id[ID_MAX],
                           bool *existed, struct err_detail *d);

struct store_message {
    char id[ID_MAX];
    char endpoint_id[ID_MAX];
    enum store_status status;
    int attempt_count;
    int replay_count;
    char content_type[128];
    int64_t size_bytes;
    char payload_sha256[65];
    char idempotency_key[256];
    int64_t next_attempt_at_ms;  /* 0 = none */
    char *last_error;            /* NULL = none */
    int response_status;         /* 0 = none */
    int64_t response_latency_ms; /* -1 = none */
    int64_t created_at_ms;
    int64_t updated_at_ms;
    int64_t delivered_at_ms; /* 0 = none */
    int64_t failed_at_ms;    /* 0 = none */
};
void store_message_release(struct store_message *m);

enum err store_message_get(struct store *s, const char *mode, const char *id,
                           struct store_message *out, struct err_detail *d);

/* ---- attempts ---- */
struct store_attempt {
    char id[ID_MAX];
    char message_id[ID_MAX];
    int attempt_no;
    int64_t created_at_ms;
    int response_status; /* 0 = no HTTP answer */
    int64_t latency_ms;
    char *error_text;    /* NULL = none */
    char *response_body; /* truncated, NULL = none */
    bool response_body_truncated;
    char *response_headers_json; /* NULL = none */
    char *request_headers_json;  /* NULL = none */
    const char *retry_type;      /* "fast" | "slow" | NULL */
    int64_t retry_after_seconds; /* -1 = none */
    char resolved_ip[64];
    bool conn_reused;
    int64_t dns_ms, tcp_connect_ms, tls_handshake_ms, ttfb_ms, transfer_ms; /* -1 = n/a */
};
void store_attempt_release(struct store_attempt *a);

/*
 * Record a finished attempt and move its message: new_status is succeeded,
 * pending_retry (next_attempt_at_ms set) or failed_permanent. The attempt row
 * is always written; the message only moves while its sched_version still
 * equals sched_version (a cancel or replay during the attempt wins). Also
 * counts the outcome in the per-minute rollups.
 */
enum err store_attempt_record(struct store *s, const struct store_attempt *a,
                              enum store_status new_status, int64_t next_attempt_at_ms,
                              int64_t sched_version, struct err_detail *d);

/* Attempts of a message in attempt order; up to max into out, *n count, *has_more. */
enum err store_attempt_list(struct store *s, const char *message_id, int max,
                            struct store_attempt *out, int *n, bool *has_more,
                            struct err_detail *d);

/* ---- delivery ---- */
struct store_pending {
    char message_id[ID_MAX];
    char endpoint_id[ID_MAX];
    int attempt_count;
    int64_t due_ms;
    int64_t sched_version;
};

/* Call fn for every message not yet finished (queued, delivering, pending_retry):
 * restart recovery. fn returns false to stop early. */
enum err store_pending_scan(struct store *s, bool (*fn)(const struct store_pending *, void *),
                            void *ctx, struct err_detail *d);

struct store_delivery {
    int64_t sched_version; /* bumped by retry-now, cancel, replay: stale jobs are dropped */
    char *payload;
    size_t payload_len;
    char *content_type;
    char *headers_json; /* NULL = none */
    int attempt_count;
    enum store_status status;
};
void store_delivery_release(struct store_delivery *dl);

/* What an attempt needs of a message. ERR_NOTFOUND when gone (deleted). */
enum err store_delivery_load(struct store *s, const char *message_id, struct store_delivery *out,
                             struct err_detail *d);

/* ---- rollups (store_rollups.c): per-minute counters kept as messages change state ---- */
#define STORE_ROLLUP_BUCKET_MS 60000

struct store_rollup {
    int64_t total, succeeded, failed, retries, latency_sum_ms, latency_count;
};

/* Sum the rollups of mode (and endpoint_id unless NULL) over [from_ms, to_ms). */
enum err store_rollup_sum(struct store *s, const char *mode, const char *endpoint_id,
                          int64_t from_ms, int64_t to_ms, struct store_rollup *out,
                          struct err_detail *d);

/* ---- api keys (store_keys.c) ---- */

/* ---- endpoint state and signing keys (store_endpoint_state.c) ---- */

/* ---- message operations, DLQ and retention (store_messages.c) ---- */

/* ---- logs and metrics queries (store_queries.c) ---- */

#endif

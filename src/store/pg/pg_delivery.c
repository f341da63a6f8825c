/*
 * pg_delivery - sends, messages, attempts and a delivery's load on PostgreSQL
 * (the twins of the send/message/attempt/delivery functions of
 * sqlite/store_sqlite.c).
 *
 * Description: a send checks its endpoint in SQL every time (no live-endpoint
 * cache: several hookd nodes may change endpoints under one another), then the
 * idempotency key, the deduplicate rule (pg_dedupe.c), and inserts the event
 * and the message; an attempt moves its message only while the message is at
 * the schedule version the attempt was made for. Rollup deltas go through
 * pg__rollup_add (pg_rollups.c).
 * Threading and errors: as store.h. SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg/pg_internal.h"

static const char SQL_EP_LIVE[] =
    "SELECT policy FROM endpoints WHERE id = $1 AND mode = $2 AND deleted_at IS NULL";
static const char SQL_IDEM_FIND[] = "SELECT id, payload_sha256 FROM messages "
                                    "WHERE endpoint_id = $1 AND idempotency_key = $2";

/* A send's event and its message with its status (a literal), in one statement: one
 * round trip to the server, the committer's time per send. */
#define MSG_INSERT(status)                                                                         \
    "WITH ev AS (INSERT INTO events (content_type, payload, created_at) VALUES ($2, $12, $10) "    \
    "RETURNING id) INSERT INTO messages (id, event_id, endpoint_id, mode, headers, "               \
    "idempotency_key, payload_sha256, size_bytes, status, retention_hours, created_at, "           \
    "updated_at, payload_expires_at, lease_owner) SELECT $1, ev.id, $3, $4, $5, $6, $7, "          \
    "$8, " status ", $9, $10, $10, $11, " PG_NODE " FROM ev"
static const char SQL_MSG_INSERT[] = MSG_INSERT("0");
static const char SQL_MSG_INSERT_DEDUPED[] = MSG_INSERT("5");

static const char SQL_MSG_GET[] =
    "SELECT m.id, m.endpoint_id, m.status, m.attempt_count, m.replay_count, "
    "e.content_type, m.size_bytes, m.payload_sha256, m.idempotency_key, "
    "m.next_attempt_at, m.last_error, m.response_status, m.response_latency_ms, "
    "m.created_at, m.updated_at, m.delivered_at, m.failed_at "
    "FROM messages m JOIN events e ON e.id = m.event_id "
    "WHERE m.id = $1 AND m.mode = $2 AND m.deleted_at IS NULL";

static const char SQL_ATTEMPT_INSERT[] =
    "INSERT INTO attempts (id, message_id, attempt_no, created_at, response_status, "
    "latency_ms, error_text, response_body, response_body_truncated, response_headers, "
    "request_headers, retry_type, retry_after_seconds, resolved_ip, conn_reused, dns_ms, "
    "tcp_connect_ms, tls_handshake_ms, ttfb_ms, transfer_ms, replay_no) VALUES ($1, $2, $3, "
    "$4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)";
static const char SQL_MSG_FOR_RESULT[] =
    "SELECT mode, endpoint_id, replay_count, sched_version FROM messages WHERE id = $1 "
    "FOR UPDATE";
static const char SQL_MSG_RESULT[] =
    "UPDATE messages SET status = $2::bigint, attempt_count = GREATEST(attempt_count, $3), "
    "next_attempt_at = $4, last_error = $5, response_status = $6, "
    "response_latency_ms = $7, updated_at = $8::bigint, lease_owner = " PG_NODE ", "
    "delivered_at = CASE WHEN $2::bigint = 2 THEN $8::bigint ELSE delivered_at END, "
    "failed_at = CASE WHEN $2::bigint = 4 THEN $8::bigint ELSE failed_at END "
    "WHERE id = $1 AND sched_version = $9";
/* The common attempt result (a message never rescheduled): its move and its attempt row
 * in one statement; no row when the message was rescheduled or purged meanwhile. $1-$9
 * as SQL_MSG_RESULT (sched_version 0), then the attempt's own columns. */
static const char SQL_RESULT_FAST[] =
    "WITH u AS (UPDATE messages SET status = $2::bigint, attempt_count = GREATEST(attempt_count, "
    "$3::bigint), next_attempt_at = $4, last_error = $5, response_status = $6::bigint, "
    "response_latency_ms = $7::bigint, updated_at = $8::bigint, lease_owner = " PG_NODE ", "
    "delivered_at = CASE WHEN $2::bigint = 2 THEN $8::bigint ELSE delivered_at END, "
    "failed_at = CASE WHEN $2::bigint = 4 THEN $8::bigint ELSE failed_at END "
    "WHERE id = $1 AND sched_version = $9 RETURNING id) "
    "INSERT INTO attempts (id, message_id, attempt_no, created_at, response_status, "
    "latency_ms, error_text, response_body, response_body_truncated, response_headers, "
    "request_headers, retry_type, retry_after_seconds, resolved_ip, conn_reused, dns_ms, "
    "tcp_connect_ms, tls_handshake_ms, ttfb_ms, transfer_ms, replay_no) SELECT $10, u.id, "
    "$3::bigint, $11, $6::bigint, $7::bigint, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, "
    "$22, $23, $24, $25, 0 FROM u";
static const char SQL_ATTEMPT_LIST[] =
    "SELECT id, message_id, attempt_no, created_at, response_status, latency_ms, error_text, "
    "response_body, response_body_truncated, response_headers, request_headers, retry_type, "
    "retry_after_seconds, resolved_ip, conn_reused, dns_ms, tcp_connect_ms, "
    "tls_handshake_ms, ttfb_ms, transfer_ms FROM attempts WHERE message_id = $1 AND id > $3 "
    "ORDER BY id LIMIT $2";
static const char SQL_DELIVERY_LOAD[] =
    "SELECT e.payload, e.content_type, m.headers, m.attempt_count, m.status, "
    "m.sched_version, e.public_id "
    "FROM messages m JOIN events e ON e.id = m.event_id "
    "WHERE m.id = $1 AND m.deleted_at IS NULL";

/* ---- sends and messages ---- */

/* ERR_NOTFOUND unless endpoint id of mode exists and is not deleted; *dedupe is its
 * deduplicate rule (NULL = none), borrowed from s->live_ep until the next call. Within
 * a batch, an endpoint found once is not looked up again while no statement of the
 * batch wrote the endpoints table (ep_gen): a batch of sends to one endpoint reads it
 * once. Never across batches: another node may change it. */
static enum err check_endpoint_live(struct pg_store *s, const char *id, const char *mode,
                                    struct dedupe_policy **dedupe, struct err_detail *d)
{
    const size_t slots = sizeof(s->live_ep) / sizeof(s->live_ep[0]);
    size_t slot = 0;
    for (size_t i = 0; i < slots; i++) {
        if (s->live_ep[i].gen == s->ep_gen && !strcmp(s->live_ep[i].id, id) &&
            !strcmp(s->live_ep[i].mode, mode)) {
            *dedupe = s->live_ep[i].dedupe;
            return ERR_OK;
        }
        if (s->live_ep[i].gen != s->ep_gen)
            slot = i; /* a stale slot is free */
    }
    *dedupe = NULL;
    struct pgq q;
    pgq_init(&q, s, SQL_EP_LIVE);
    pgq_text(&q, 1, id);
    pgq_text(&q, 2, mode);
    enum err e = pgq_run(&q, d, "check endpoint");
    if (e == ERR_OK && !pgq_next(&q))
        e = err_set(d, ERR_NOTFOUND, "ENDPOINT_NOT_FOUND", "endpoint '%s' not found", id);
    else if (e == ERR_OK)
        *dedupe = store__dedupe_policy_of(pgq_str(&q, 0));
    pgq_done(&q);
    if (e != ERR_OK)
        return e;
    if (!s->in_batch) { /* nothing to keep it for: the caller's, freed by the next call */
        slot = slots - 1;
    }
    store__dedupe_policy_free(s->live_ep[slot].dedupe);
    snprintf(s->live_ep[slot].id, sizeof(s->live_ep[slot].id), "%s", id);
    snprintf(s->live_ep[slot].mode, sizeof(s->live_ep[slot].mode), "%s", mode);
    s->live_ep[slot].dedupe = *dedupe;
    s->live_ep[slot].gen = s->in_batch ? s->ep_gen : 0;
    return ERR_OK;
}

/* The idempotency key's earlier message, if any: *existed, or ERR_CONFLICT for a
 * different payload. */
static enum err check_idempotency(struct pg_store *s, const struct store_send *in,
                                  char existing_id[ID_MAX], bool *existed, struct err_detail *d)
{
    struct pgq q;
    pgq_init(&q, s, SQL_IDEM_FIND);
    pgq_text(&q, 1, in->endpoint_id);
    pgq_text(&q, 2, in->idempotency_key);
    enum err e = pgq_run(&q, d, "check idempotency key");
    if (e == ERR_OK && pgq_next(&q)) {
        const char *sha = pgq_str(&q, 1);
        bool same = sha && strcmp(sha, in->payload_sha256) == 0;
        pgq_copy(existing_id, ID_MAX, &q, 0);
        if (!same)
            e = err_set(d, ERR_CONFLICT, "IDEMPOTENCY_MISMATCH",
                        "idempotency key '%s' was used with a different payload",
                        in->idempotency_key);
        else
            *existed = true;
    }
    pgq_done(&q);
    return e;
}

static enum err insert_send(struct pg_store *s, const struct store_send *in, bool has_key,
                            bool duplicate, struct err_detail *d)
{
    struct pgq q;
    pgq_init(&q, s, duplicate ? SQL_MSG_INSERT_DEDUPED : SQL_MSG_INSERT);
    pgq_text(&q, 1, in->message_id);
    pgq_text(&q, 2, in->content_type);
    pgq_text(&q, 3, in->endpoint_id);
    pgq_text(&q, 4, in->mode);
    pgq_text(&q, 5, in->headers_json);
    pgq_text(&q, 6, has_key ? in->idempotency_key : NULL);
    pgq_text(&q, 7, in->payload_sha256);
    pgq_int(&q, 8, (int64_t)in->payload_len);
    pgq_opt_int(&q, 9, in->retention_hours, -1);
    pgq_int(&q, 10, in->now_ms);
    pgq_opt_int(&q, 11, in->payload_expires_at_ms, 0);
    pgq_blob(&q, 12, in->payload, in->payload_len);
    enum err e = pgq_run(&q, d, "insert message");
    pgq_done(&q);
    return e;
}

enum err pg_send_insert(struct store *st, const struct store_send *in, char existing_id[ID_MAX],
                        bool *existed, struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    *existed = false;
    struct dedupe_policy *rule;
    enum err e = check_endpoint_live(s, in->endpoint_id, in->mode, &rule, d);
    if (e != ERR_OK)
        return e;
    bool has_key = in->idempotency_key && in->idempotency_key[0];
    if (has_key && ((e = check_idempotency(s, in, existing_id, existed, d)) != ERR_OK || *existed))
        goto out;
    bool duplicate = false;
    if (rule && (e = pg__dedupe_see(s, in->endpoint_id, rule, in->payload, in->payload_len,
                                    in->headers_json, NULL, in->now_ms, &duplicate, d)) != ERR_OK)
        goto out;
    if ((e = insert_send(s, in, has_key, duplicate, d)) != ERR_OK)
        goto out;
    struct feed *f = pg__feed(s);
    if (f && !duplicate) /* the first attempt needs nothing read back */
        feed_item_attach(feed_push_due(f, in->message_id, in->endpoint_id, 0, in->now_ms),
                         in->payload, in->payload_len, in->content_type, in->headers_json, NULL);
    /* total counts sends accepted, a deduplicated one too (never succeeded or failed) */
    struct store_rollup delta = {.total = 1};
    e = pg__rollup_add(s, in->mode, in->endpoint_id, in->now_ms, &delta, d);
out:
    return e; /* rule is s->live_ep's */
}

enum err pg_message_get(struct store *st, const char *mode, const char *id, struct store_message *m,
                        struct err_detail *d)
{
    struct pgq q;
    pgq_init(&q, pg_of(st), SQL_MSG_GET);
    pgq_text(&q, 1, id);
    pgq_text(&q, 2, mode);
    enum err e = pgq_run(&q, d, "read message");
    if (e == ERR_OK && pgq_next(&q)) {
        memset(m, 0, sizeof(*m));
        pgq_copy(m->id, sizeof(m->id), &q, 0);
        pgq_copy(m->endpoint_id, sizeof(m->endpoint_id), &q, 1);
        m->status = (enum store_status)pgq_i64(&q, 2);
        m->attempt_count = (int)pgq_i64(&q, 3);
        m->replay_count = (int)pgq_i64(&q, 4);
        pgq_copy(m->content_type, sizeof(m->content_type), &q, 5);
        m->size_bytes = pgq_i64(&q, 6);
        pgq_copy(m->payload_sha256, sizeof(m->payload_sha256), &q, 7);
        pgq_copy(m->idempotency_key, sizeof(m->idempotency_key), &q, 8);
        m->next_attempt_at_ms = pgq_opt_i64(&q, 9, 0);
        m->last_error = pgq_dup(&q, 10);
        m->response_status = (int)pgq_opt_i64(&q, 11, 0);
        m->response_latency_ms = pgq_opt_i64(&q, 12, -1);
        m->created_at_ms = pgq_i64(&q, 13);
        m->updated_at_ms = pgq_i64(&q, 14);
        m->delivered_at_ms = pgq_opt_i64(&q, 15, 0);
        m->failed_at_ms = pgq_opt_i64(&q, 16, 0);
    } else if (e == ERR_OK) {
        e = err_set(d, ERR_NOTFOUND, "MESSAGE_NOT_FOUND", "message '%s' not found", id);
    }
    pgq_done(&q);
    return e;
}

/* ---- attempts ---- */

static enum err insert_attempt(struct pg_store *s, const struct store_attempt *a, int64_t replay_no,
                               struct err_detail *d)
{
    struct pgq q;
    pgq_init(&q, s, SQL_ATTEMPT_INSERT);
    pgq_text(&q, 1, a->id);
    pgq_text(&q, 2, a->message_id);
    pgq_int(&q, 3, a->attempt_no);
    pgq_int(&q, 4, a->created_at_ms);
    pgq_opt_int(&q, 5, a->response_status, 0);
    pgq_int(&q, 6, a->latency_ms);
    pgq_text(&q, 7, a->error_text);
    pgq_text(&q, 8, a->response_body);
    pgq_int(&q, 9, a->response_body_truncated ? 1 : 0);
    pgq_text(&q, 10, a->response_headers_json);
    pgq_text(&q, 11, a->request_headers_json);
    pgq_text(&q, 12, a->retry_type);
    pgq_opt_int(&q, 13, a->retry_after_seconds, -1);
    pgq_text(&q, 14, a->resolved_ip[0] ? a->resolved_ip : NULL);
    pgq_int(&q, 15, a->conn_reused ? 1 : 0);
    pgq_opt_int(&q, 16, a->dns_ms, -1);
    pgq_opt_int(&q, 17, a->tcp_connect_ms, -1);
    pgq_opt_int(&q, 18, a->tls_handshake_ms, -1);
    pgq_opt_int(&q, 19, a->ttfb_ms, -1);
    pgq_opt_int(&q, 20, a->transfer_ms, -1);
    pgq_int(&q, 21, replay_no);
    enum err e = pgq_run(&q, d, "insert attempt");
    pgq_done(&q);
    return e;
}

/* SQL_RESULT_FAST: *moved when the message was at sched_version 0 and is now moved,
 * with the attempt row written. */
static enum err record_fast(struct pg_store *s, const struct store_attempt *a,
                            enum store_status new_status, int64_t next_attempt_at_ms, bool *moved,
                            struct err_detail *d)
{
    struct pgq q;
    pgq_init(&q, s, SQL_RESULT_FAST);
    pgq_text(&q, 1, a->message_id);
    pgq_int(&q, 2, (int64_t)new_status);
    pgq_int(&q, 3, a->attempt_no);
    pgq_opt_int(&q, 4, new_status == STATUS_PENDING_RETRY ? next_attempt_at_ms : 0, 0);
    pgq_text(&q, 5, new_status == STATUS_SUCCEEDED ? NULL : a->error_text);
    pgq_opt_int(&q, 6, a->response_status, 0);
    pgq_int(&q, 7, a->latency_ms);
    pgq_int(&q, 8, a->created_at_ms + a->latency_ms);
    pgq_int(&q, 9, 0);
    pgq_text(&q, 10, a->id);
    pgq_int(&q, 11, a->created_at_ms);
    pgq_text(&q, 12, a->error_text);
    pgq_text(&q, 13, a->response_body);
    pgq_int(&q, 14, a->response_body_truncated ? 1 : 0);
    pgq_text(&q, 15, a->response_headers_json);
    pgq_text(&q, 16, a->request_headers_json);
    pgq_text(&q, 17, a->retry_type);
    pgq_opt_int(&q, 18, a->retry_after_seconds, -1);
    pgq_text(&q, 19, a->resolved_ip[0] ? a->resolved_ip : NULL);
    pgq_int(&q, 20, a->conn_reused ? 1 : 0);
    pgq_opt_int(&q, 21, a->dns_ms, -1);
    pgq_opt_int(&q, 22, a->tcp_connect_ms, -1);
    pgq_opt_int(&q, 23, a->tls_handshake_ms, -1);
    pgq_opt_int(&q, 24, a->ttfb_ms, -1);
    pgq_opt_int(&q, 25, a->transfer_ms, -1);
    enum err e = pgq_run(&q, d, "record attempt");
    *moved = e == ERR_OK && pgq_changes(&q) == 1;
    pgq_done(&q);
    return e;
}

/* Move the message to the attempt's outcome if it is still at sched_version;
 * *moved says whether it was. */
static enum err move_message(struct pg_store *s, const struct store_attempt *a,
                             enum store_status new_status, int64_t next_attempt_at_ms,
                             int64_t sched_version, bool *moved, struct err_detail *d)
{
    struct pgq q;
    pgq_init(&q, s, SQL_MSG_RESULT);
    pgq_text(&q, 1, a->message_id);
    pgq_int(&q, 2, (int64_t)new_status);
    pgq_int(&q, 3, a->attempt_no);
    pgq_opt_int(&q, 4, new_status == STATUS_PENDING_RETRY ? next_attempt_at_ms : 0, 0);
    pgq_text(&q, 5, new_status == STATUS_SUCCEEDED ? NULL : a->error_text);
    pgq_opt_int(&q, 6, a->response_status, 0);
    pgq_int(&q, 7, a->latency_ms);
    pgq_int(&q, 8, a->created_at_ms + a->latency_ms);
    pgq_int(&q, 9, sched_version);
    enum err e = pgq_run(&q, d, "update message");
    *moved = e == ERR_OK && pgq_changes(&q) == 1;
    pgq_done(&q);
    return e;
}

static enum err count_outcome(struct pg_store *s, const char *mode, const char *endpoint_id,
                              const struct store_attempt *a, enum store_status new_status,
                              struct err_detail *d)
{
    struct store_rollup delta;
    if (!store__attempt_delta(a, new_status, &delta))
        return ERR_OK;
    return pg__rollup_add(s, mode, endpoint_id, a->created_at_ms + a->latency_ms, &delta, d);
}

enum err pg_attempt_record(struct store *st, const struct store_attempt *a,
                           enum store_status new_status, int64_t next_attempt_at_ms,
                           int64_t sched_version, struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    enum err e;
    bool moved;
    if (sched_version == 0 && a->mode[0] && a->endpoint_id[0]) {
        /* The common case, without reading the message: never rescheduled, so
         * replay 0, and the caller knows its mode and endpoint. */
        if ((e = record_fast(s, a, new_status, next_attempt_at_ms, &moved, d)) != ERR_OK)
            return e;
        if (moved)
            return count_outcome(s, a->mode, a->endpoint_id, a, new_status, d);
        /* rescheduled, deleted or purged meanwhile: as below */
    }
    /* One read of the message (FOR UPDATE: another node's reschedule waits for this
     * transaction), then the attempt row and the message's move. */
    struct pgq q;
    pgq_init(&q, s, SQL_MSG_FOR_RESULT);
    pgq_text(&q, 1, a->message_id);
    if ((e = pgq_run(&q, d, "read message")) != ERR_OK || !pgq_next(&q)) {
        pgq_done(&q); /* purged by history retention meanwhile: nothing to keep */
        return e;
    }
    char mode[8], endpoint_id[ID_MAX];
    pgq_copy(mode, sizeof(mode), &q, 0);
    pgq_copy(endpoint_id, sizeof(endpoint_id), &q, 1);
    int64_t replay_no = pgq_i64(&q, 2);
    bool current = pgq_i64(&q, 3) == sched_version;
    pgq_done(&q);
    if ((e = insert_attempt(s, a, replay_no, d)) != ERR_OK)
        return e;
    if (!current) /* deleted or rescheduled meanwhile: the attempt is history only */
        return ERR_OK;
    if ((e = move_message(s, a, new_status, next_attempt_at_ms, sched_version, &moved, d)) !=
        ERR_OK)
        return e;
    return count_outcome(s, mode, endpoint_id, a, new_status, d);
}

enum err pg_attempt_list(struct store *st, const char *message_id, const char *after_id, int max,
                         struct store_attempt *out, int *n, bool *has_more, struct err_detail *d)
{
    struct pgq q;
    pgq_init(&q, pg_of(st), SQL_ATTEMPT_LIST);
    pgq_text(&q, 1, message_id);
    pgq_int(&q, 2, (int64_t)max + 1);
    pgq_text(&q, 3, after_id ? after_id : "");
    *n = 0;
    *has_more = false;
    enum err e = pgq_run(&q, d, "list attempts");
    while (e == ERR_OK && pgq_next(&q)) {
        if (*n == max) {
            *has_more = true;
            break;
        }
        struct store_attempt *a = &out[(*n)++];
        memset(a, 0, sizeof(*a));
        pgq_copy(a->id, sizeof(a->id), &q, 0);
        pgq_copy(a->message_id, sizeof(a->message_id), &q, 1);
        a->attempt_no = (int)pgq_i64(&q, 2);
        a->created_at_ms = pgq_i64(&q, 3);
        a->response_status = (int)pgq_opt_i64(&q, 4, 0);
        a->latency_ms = pgq_opt_i64(&q, 5, -1);
        a->error_text = pgq_dup(&q, 6);
        a->response_body = pgq_dup(&q, 7);
        a->response_body_truncated = pgq_bool(&q, 8);
        a->response_headers_json = pgq_dup(&q, 9);
        a->request_headers_json = pgq_dup(&q, 10);
        const char *rt = pgq_str(&q, 11);
        a->retry_type = !rt ? NULL : strcmp(rt, "fast") == 0 ? "fast" : "slow";
        a->retry_after_seconds = pgq_opt_i64(&q, 12, -1);
        pgq_copy(a->resolved_ip, sizeof(a->resolved_ip), &q, 13);
        a->conn_reused = pgq_bool(&q, 14);
        a->dns_ms = pgq_opt_i64(&q, 15, -1);
        a->tcp_connect_ms = pgq_opt_i64(&q, 16, -1);
        a->tls_handshake_ms = pgq_opt_i64(&q, 17, -1);
        a->ttfb_ms = pgq_opt_i64(&q, 18, -1);
        a->transfer_ms = pgq_opt_i64(&q, 19, -1);
    }
    pgq_done(&q);
    return e;
}

/* ---- delivery ---- */

enum err pg_delivery_load(struct store *st, const char *message_id, struct store_delivery *out,
                          struct err_detail *d)
{
    struct pgq q;
    pgq_init(&q, pg_of(st), SQL_DELIVERY_LOAD);
    pgq_text(&q, 1, message_id);
    enum err e = pgq_run(&q, d, "load delivery");
    if (e == ERR_OK && pgq_next(&q)) {
        memset(out, 0, sizeof(*out));
        size_t n = 0;
        out->payload = pgq_bytes(&q, 0, &n);
        if (!out->payload && !(out->payload = calloc(1, 1))) /* a purged payload: "" */
            abort();
        out->payload_len = n;
        out->content_type = pgq_dup(&q, 1);
        out->headers_json = pgq_dup(&q, 2);
        out->attempt_count = (int)pgq_i64(&q, 3);
        out->status = (enum store_status)pgq_i64(&q, 4);
        out->sched_version = pgq_i64(&q, 5);
        out->webhook_id = pgq_dup(&q, 6);
    } else if (e == ERR_OK) {
        e = err_set(d, ERR_NOTFOUND, "MESSAGE_NOT_FOUND", "message '%s' not found", message_id);
    }
    pgq_done(&q);
    return e;
}

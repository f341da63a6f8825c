/*
 * pg_messages - message operations (retry-now, cancel, replay, soft delete),
 * bulk selection, the dead-letter queue and retention, on PostgreSQL: the
 * twin of sqlite/store_messages.c.
 *
 * Description: every operation that reschedules a message bumps its
 * sched_version in the same UPDATE, so dispatcher jobs made before the
 * change are dropped and late attempt results only add history. The row is
 * read FOR UPDATE first, so that a node changing the same message at the
 * same time waits instead of slipping between the check and the UPDATE.
 * Retention works in bounded chunks, each a few set-based statements.
 * Threading, ownership, errors: as store.h.
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg/pg_internal.h"

static const char SQL_MSG_STATE[] =
    "SELECT status, replay_count, endpoint_id, payload_purged_at, payload_expires_at "
    "FROM messages WHERE id = $1 AND mode = $2 AND deleted_at IS NULL FOR UPDATE";

static const char SQL_RETRY_NOW[] =
    "UPDATE messages SET next_attempt_at = $2, updated_at = $2, lease_owner = " PG_NODE ", "
    "sched_version = sched_version + 1 WHERE id = $1 AND status = 3 RETURNING sched_version";

static const char SQL_CANCEL[] =
    "UPDATE messages SET status = 4, next_attempt_at = NULL, failed_at = $2, updated_at = $2, "
    "sched_version = sched_version + 1 WHERE id = $1 AND status = 3 RETURNING sched_version";

static const char SQL_REPLAY[] =
    "UPDATE messages SET status = 0, replay_count = replay_count + 1, attempt_count = 0, "
    "next_attempt_at = NULL, delivered_at = NULL, failed_at = NULL, updated_at = $2, "
    "lease_owner = " PG_NODE ", sched_version = sched_version + 1 "
    "WHERE id = $1 AND status IN (2, 4, 5) "
    "RETURNING sched_version";

/* $1 mode, $2 lo, $3 hi, $4 endpoint or NULL, $5 after, $6 before, $7 limit, $8 status.
 * One status other than succeeded repeats the partial messages_mode_status's
 * "status <> 2" so the planner may use it; succeeded and any walk messages_mode_id. */
#define SELECT_WHERE                                                                               \
    "SELECT id FROM messages WHERE mode = $1 AND id >= $2 AND id < $3 AND deleted_at IS NULL "     \
    "AND ($4::text IS NULL OR endpoint_id = $4) AND ($5::bigint = 0 OR created_at > $5) "          \
    "AND ($6::bigint = 0 OR created_at < $6) "
static const char SQL_SELECT_STATUS[] =
    SELECT_WHERE "AND status = $8 AND status <> 2 ORDER BY id LIMIT $7";
static const char SQL_SELECT_SUCCEEDED[] = SELECT_WHERE "AND status = $8 ORDER BY id LIMIT $7";
static const char SQL_SELECT_ANY[] = SELECT_WHERE "ORDER BY id LIMIT $7";

static const char SQL_DELETE_FIND[] =
    "SELECT deleted_at, event_id, endpoint_id FROM messages WHERE id = $1 AND mode = $2 "
    "FOR UPDATE";

static const char SQL_DELETE[] =
    "UPDATE messages SET deleted_at = $2, updated_at = $2, payload_purged_at = "
    "coalesce(payload_purged_at, $2), next_attempt_at = NULL, sched_version = sched_version + 1 "
    "WHERE id = $1 AND deleted_at IS NULL";

/* The payload of a published event is shared by its messages: it goes with the last
 * of them that still needs it. A direct send's event has one message. */
static const char SQL_EVENT_DROP_PAYLOAD[] =
    "UPDATE events SET payload = NULL WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM messages "
    "WHERE fanout_event = $1 AND payload_purged_at IS NULL)";

static const char SQL_DLQ[] =
    "SELECT m.id, m.endpoint_id, ep.url, m.attempt_count, m.created_at, m.failed_at, "
    "m.last_error, m.response_status, m.response_latency_ms "
    "FROM messages m LEFT JOIN endpoints ep ON ep.id = m.endpoint_id "
    "WHERE m.mode = $1 AND m.status = 4 AND m.id < $2 AND m.deleted_at IS NULL "
    "ORDER BY m.id DESC LIMIT $3";

/* $1 now, $2 max: mark a chunk purged, giving each marked message's event. */
static const char SQL_PURGE_MARK[] =
    "UPDATE messages SET payload_purged_at = $1 WHERE id IN (SELECT id FROM messages "
    "WHERE payload_purged_at IS NULL AND payload_expires_at IS NOT NULL "
    "AND payload_expires_at <= $1 AND (status IN (2, 4, 5) OR deleted_at IS NOT NULL) LIMIT $2) "
    "RETURNING event_id";

/* After the marks (a later statement sees them): as SQL_EVENT_DROP_PAYLOAD, for a
 * chunk's events ($1, a bigint[]). */
static const char SQL_PURGE_EVENTS[] =
    "UPDATE events e SET payload = NULL WHERE e.id = ANY ($1::bigint[]) "
    "AND e.payload IS NOT NULL AND NOT EXISTS (SELECT 1 FROM messages "
    "WHERE fanout_event = e.id AND payload_purged_at IS NULL)";

/* $1 the id boundary, $2 max: delete a chunk of finished or deleted messages with their
 * attempts, giving each deleted message's event. */
static const char SQL_HISTORY_MESSAGES[] =
    "WITH v AS (SELECT id FROM messages WHERE id < $1 "
    "AND (status IN (2, 4, 5) OR deleted_at IS NOT NULL) ORDER BY id LIMIT $2), "
    "a AS (DELETE FROM attempts WHERE message_id IN (SELECT id FROM v)) "
    "DELETE FROM messages WHERE id IN (SELECT id FROM v) RETURNING event_id";

/* A published event goes with the last of its messages ($1, a bigint[]). */
static const char SQL_HISTORY_EVENTS[] =
    "DELETE FROM events e WHERE e.id = ANY ($1::bigint[]) AND NOT EXISTS "
    "(SELECT 1 FROM messages WHERE fanout_event = e.id)";

static const char SQL_HISTORY_ORPHANS[] = "DELETE FROM events WHERE id IN (SELECT id FROM events "
                                          "WHERE orphan = 1 AND created_at < $1 LIMIT $2)";

/* Run a no-row statement with a text $1 and an int $2. */
static enum err exec_id_int(struct pg_store *s, const char *sql, const char *id, int64_t arg2,
                            const char *what, struct err_detail *d)
{
    struct pgq q;
    pgq_init(&q, s, sql);
    pgq_text(&q, 1, id);
    pgq_int(&q, 2, arg2);
    enum err e = pgq_run(&q, d, what);
    pgq_done(&q);
    return e;
}

enum err pg_message_action(struct store *st, const char *mode, const char *id,
                           enum store_msg_action act, int64_t now_ms, struct store_resched *out,
                           struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    struct pgq q;
    pgq_init(&q, s, SQL_MSG_STATE);
    pgq_text(&q, 1, id);
    pgq_text(&q, 2, mode);
    enum err e = pgq_run(&q, d, "read message");
    if (e != ERR_OK || !pgq_next(&q)) {
        pgq_done(&q);
        return e != ERR_OK
                   ? e
                   : err_set(d, ERR_NOTFOUND, "MESSAGE_NOT_FOUND", "message '%s' not found", id);
    }
    struct store__msg_state ms = {
        .status = (int)pgq_i64(&q, 0),
        .replay_count = (int)pgq_i64(&q, 1),
        .purged = !pgq_isnull(&q, 3),
        .payload_expires_at_ms = pgq_opt_i64(&q, 4, 0),
    };
    memset(out, 0, sizeof(*out));
    snprintf(out->message_id, sizeof(out->message_id), "%s", id);
    pgq_copy(out->endpoint_id, sizeof(out->endpoint_id), &q, 2);
    pgq_done(&q);

    if ((e = store__msg_action_check(act, id, &ms, now_ms, d)) != ERR_OK)
        return e;
    pgq_init(&q, s,
             act == STORE_ACT_CANCEL      ? SQL_CANCEL
             : act == STORE_ACT_RETRY_NOW ? SQL_RETRY_NOW
                                          : SQL_REPLAY);
    pgq_text(&q, 1, id);
    pgq_int(&q, 2, now_ms);
    e = pgq_run(&q, d, "reschedule message");
    if (e == ERR_OK && !pgq_next(&q)) /* locked and checked just before */
        e = err_set(d, ERR_IO, "INTERNAL_ERROR", "message changed under a reschedule");
    if (e == ERR_OK)
        out->sched_version = pgq_i64(&q, 0);
    pgq_done(&q);
    if (e != ERR_OK)
        return e;
    if (pg__feed(s)) { /* due now, or (cancel) no longer */
        if (act == STORE_ACT_CANCEL)
            feed_push_dropped(pg__feed(s), id, out->endpoint_id, out->sched_version);
        else
            feed_push_due(pg__feed(s), id, out->endpoint_id, out->sched_version, now_ms);
    }
    struct store_rollup delta;
    if (store__msg_action_delta(act, &delta))
        return pg__rollup_add(s, mode, out->endpoint_id, now_ms, &delta, d);
    return ERR_OK;
}

enum err pg_message_select(struct store *st, const struct store_msg_filter *f, int limit,
                           char (*out)[ID_MAX], int *n, struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    *n = 0;
    /* Ids are UUIDv7, so the creation bounds become an id range on the index. */
    char lo[ID_MAX], hi[ID_MAX];
    store__msg_select_range(f, lo, hi);
    struct pgq q;
    pgq_init(&q, s,
             f->status < 0                   ? SQL_SELECT_ANY
             : f->status == STATUS_SUCCEEDED ? SQL_SELECT_SUCCEEDED
                                             : SQL_SELECT_STATUS);
    pgq_text(&q, 1, f->mode);
    pgq_text(&q, 2, lo);
    pgq_text(&q, 3, hi);
    pgq_text(&q, 4, f->endpoint_id);
    pgq_int(&q, 5, f->created_after_ms);
    pgq_int(&q, 6, f->created_before_ms);
    pgq_int(&q, 7, limit);
    if (f->status >= 0)
        pgq_int(&q, 8, f->status);
    enum err e = pgq_run(&q, d, "select messages");
    while (e == ERR_OK && *n < limit && pgq_next(&q))
        pgq_copy(out[(*n)++], ID_MAX, &q, 0);
    pgq_done(&q);
    return e;
}

enum err pg_message_delete(struct store *st, const char *mode, const char *id, int64_t now_ms,
                           int64_t *deleted_at_ms, bool *already, struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    *already = false;
    *deleted_at_ms = 0;
    struct pgq q;
    pgq_init(&q, s, SQL_DELETE_FIND);
    pgq_text(&q, 1, id);
    pgq_text(&q, 2, mode);
    enum err e = pgq_run(&q, d, "read message");
    if (e != ERR_OK || !pgq_next(&q)) {
        pgq_done(&q);
        return e != ERR_OK
                   ? e
                   : err_set(d, ERR_NOTFOUND, "MESSAGE_NOT_FOUND", "message '%s' not found", id);
    }
    int64_t was_deleted = pgq_opt_i64(&q, 0, 0);
    int64_t event_id = pgq_i64(&q, 1);
    char endpoint_id[ID_MAX];
    pgq_copy(endpoint_id, sizeof(endpoint_id), &q, 2);
    pgq_done(&q);
    if (was_deleted) {
        *already = true;
        *deleted_at_ms = was_deleted;
        return ERR_OK;
    }
    if ((e = exec_id_int(s, SQL_DELETE, id, now_ms, "delete message", d)) != ERR_OK)
        return e;
    pgq_init(&q, s, SQL_EVENT_DROP_PAYLOAD);
    pgq_int(&q, 1, event_id);
    e = pgq_run(&q, d, "drop payload");
    pgq_done(&q);
    if (e != ERR_OK)
        return e;
    if (pg__feed(s)) /* a deleted message never comes back: drop every job of it */
        feed_push_dropped(pg__feed(s), id, endpoint_id, INT64_MAX);
    *deleted_at_ms = now_ms;
    return ERR_OK;
}

enum err pg_dlq_list(struct store *st, const char *mode, const char *cursor, int limit,
                     struct store_dlq_item *out, int *n, bool *has_more, struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    *n = 0;
    *has_more = false;
    struct pgq q;
    pgq_init(&q, s, SQL_DLQ);
    pgq_text(&q, 1, mode);
    pgq_text(&q, 2, cursor && cursor[0] ? cursor : STORE__ID_TOP);
    pgq_int(&q, 3, (int64_t)limit + 1); /* one extra row tells has_more */
    enum err e = pgq_run(&q, d, "list the dead-letter queue");
    while (e == ERR_OK && pgq_next(&q)) {
        if (*n == limit) {
            *has_more = true;
            break;
        }
        struct store_dlq_item *it = &out[(*n)++];
        memset(it, 0, sizeof(*it));
        pgq_copy(it->id, sizeof(it->id), &q, 0);
        pgq_copy(it->endpoint_id, sizeof(it->endpoint_id), &q, 1);
        it->endpoint_url = pgq_dup(&q, 2);
        it->attempt_count = (int)pgq_i64(&q, 3);
        it->created_at_ms = pgq_i64(&q, 4);
        it->failed_at_ms = pgq_opt_i64(&q, 5, 0);
        it->last_error = pgq_dup(&q, 6);
        it->response_status = (int)pgq_opt_i64(&q, 7, 0);
        it->response_latency_ms = pgq_opt_i64(&q, 8, -1);
    }
    pgq_done(&q);
    return e;
}

/* The event ids of q's rows (column 0) as a PostgreSQL bigint[] literal, on the heap. */
static char *event_array(struct pgq *q)
{
    size_t cap = 3 + (size_t)pgq_rows(q) * 21, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        abort();
    buf[len++] = '{';
    for (int i = 0; pgq_next(q); i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%lld", i ? "," : "",
                                (long long)pgq_i64(q, 0));
    snprintf(buf + len, cap - len, "}");
    return buf;
}

/* Run sql (a chunk's statement returning event ids), then events_sql on those
 * events; *n the rows sql touched. */
static enum err chunk_then_events(struct pg_store *s, struct pgq *q, const char *events_sql,
                                  const char *what, int *n, struct err_detail *d)
{
    enum err e = pgq_run(q, d, what);
    if (e != ERR_OK) {
        pgq_done(q);
        return e;
    }
    *n = pgq_rows(q);
    char *events = event_array(q);
    pgq_done(q);
    if (*n > 0) {
        pgq_init(q, s, events_sql);
        pgq_text(q, 1, events);
        e = pgq_run(q, d, "drop the chunk's events");
        pgq_done(q);
    }
    free(events);
    return e;
}

enum err pg_retention_purge_payloads(struct store *st, int64_t now_ms, int max, int *n,
                                     struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    *n = 0;
    struct pgq q;
    pgq_init(&q, s, SQL_PURGE_MARK);
    pgq_int(&q, 1, now_ms);
    pgq_int(&q, 2, max);
    int found = 0;
    enum err e = chunk_then_events(s, &q, SQL_PURGE_EVENTS, "mark payloads purged", &found, d);
    if (e == ERR_OK)
        *n = found;
    return e;
}

enum err pg_retention_delete_history(struct store *st, int64_t before_ms, int max, int *n,
                                     struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    *n = 0;
    char boundary[ID_MAX];
    store_uuid7_floor(boundary, before_ms);
    struct pgq q;
    pgq_init(&q, s, SQL_HISTORY_MESSAGES);
    pgq_text(&q, 1, boundary);
    pgq_int(&q, 2, max);
    int found = 0;
    enum err e = chunk_then_events(s, &q, SQL_HISTORY_EVENTS, "delete history", &found, d);
    if (e == ERR_OK && found < max) { /* then published events that reached no endpoint */
        pgq_init(&q, s, SQL_HISTORY_ORPHANS);
        pgq_int(&q, 1, before_ms);
        pgq_int(&q, 2, max - found);
        e = pgq_run(&q, d, "delete events that reached no endpoint");
        if (e == ERR_OK)
            found += (int)pgq_changes(&q);
        pgq_done(&q);
    }
    if (e == ERR_OK)
        *n = found;
    return e;
}

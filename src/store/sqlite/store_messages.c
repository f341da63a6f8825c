/*
 * store_messages - message operations (retry-now, cancel, replay, soft
 * delete), bulk selection, the dead-letter queue and retention, on SQLite.
 *
 * Description: every operation that reschedules a message bumps its
 * sched_version in the same UPDATE, so dispatcher jobs made before the
 * change are dropped and late attempt results only add history (see
 * store_attempt_record). The write functions run on the committer's
 * connection inside a batch savepoint; store_dlq_list runs on a read
 * connection. Retention works in bounded chunks so one janitor op never
 * holds the writer for long.
 * Threading, ownership, errors: as store.h.
 * See also: store.h, janitor.h, docs/api.md "Message operations".
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite_internal.h"

static const char SQL_MSG_STATE[] =
    "SELECT status, replay_count, endpoint_id, payload_purged_at, payload_expires_at "
    "FROM messages WHERE id = ?1 AND mode = ?2 AND deleted_at IS NULL";

static const char SQL_RETRY_NOW[] =
    "UPDATE messages SET next_attempt_at = ?2, updated_at = ?2, "
    "sched_version = sched_version + 1 WHERE id = ?1 AND status = 3 RETURNING sched_version";

static const char SQL_CANCEL[] =
    "UPDATE messages SET status = 4, next_attempt_at = NULL, failed_at = ?2, updated_at = ?2, "
    "sched_version = sched_version + 1 WHERE id = ?1 AND status = 3 RETURNING sched_version";

static const char SQL_REPLAY[] =
    "UPDATE messages SET status = 0, replay_count = replay_count + 1, attempt_count = 0, "
    "next_attempt_at = NULL, delivered_at = NULL, failed_at = NULL, updated_at = ?2, "
    "sched_version = sched_version + 1 WHERE id = ?1 AND status IN (2, 4, 5) "
    "RETURNING sched_version";

/* By status: as store_queries.c's logs, "status <> 2" repeated for the partial
 * messages_mode_status, succeeded along messages_mode_id. */
static const char SQL_SELECT_STATUS[] =
    "SELECT id FROM messages WHERE mode = ?1 AND status = ?2 AND status <> 2 AND id >= ?3 "
    "AND id < ?4 "
    "AND deleted_at IS NULL AND (?5 IS NULL OR endpoint_id = ?5) "
    "AND (?6 = 0 OR created_at > ?6) AND (?7 = 0 OR created_at < ?7) ORDER BY id LIMIT ?8";

static const char SQL_SELECT_SUCCEEDED[] =
    "SELECT id FROM messages INDEXED BY messages_mode_id WHERE mode = ?1 AND status = ?2 "
    "AND id >= ?3 AND id < ?4 "
    "AND deleted_at IS NULL AND (?5 IS NULL OR endpoint_id = ?5) "
    "AND (?6 = 0 OR created_at > ?6) AND (?7 = 0 OR created_at < ?7) ORDER BY id LIMIT ?8";

static const char SQL_SELECT_ANY[] =
    "SELECT id FROM messages WHERE mode = ?1 AND id >= ?3 AND id < ?4 "
    "AND deleted_at IS NULL AND (?5 IS NULL OR endpoint_id = ?5) "
    "AND (?6 = 0 OR created_at > ?6) AND (?7 = 0 OR created_at < ?7) ORDER BY id LIMIT ?8";

static const char SQL_DELETE_FIND[] =
    "SELECT deleted_at, event_id, endpoint_id FROM messages WHERE id = ?1 AND mode = ?2";

static const char SQL_DELETE[] =
    "UPDATE messages SET deleted_at = ?2, updated_at = ?2, payload_purged_at = "
    "coalesce(payload_purged_at, ?2), next_attempt_at = NULL, sched_version = sched_version + 1 "
    "WHERE id = ?1 AND deleted_at IS NULL";

/* The payload of a published event is shared by its messages (migration 12): it goes
 * with the last of them that still needs it. A direct send's event has one message. */
static const char SQL_EVENT_DROP_PAYLOAD[] =
    "UPDATE events SET payload = NULL WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM messages "
    "WHERE fanout_event = ?1 AND payload_purged_at IS NULL)";

static const char SQL_DLQ[] =
    "SELECT m.id, m.endpoint_id, ep.url, m.attempt_count, m.created_at, m.failed_at, "
    "m.last_error, m.response_status, m.response_latency_ms "
    "FROM messages m LEFT JOIN endpoints ep ON ep.id = m.endpoint_id "
    "WHERE m.mode = ?1 AND m.status = 4 AND m.status <> 2 AND m.id < ?2 AND m.deleted_at IS NULL "
    "ORDER BY m.id DESC LIMIT ?3";

static const char SQL_PURGE_FIND[] =
    "SELECT id, event_id FROM messages WHERE payload_purged_at IS NULL "
    "AND payload_expires_at IS NOT NULL AND payload_expires_at <= ?1 "
    "AND (status IN (2, 4, 5) OR deleted_at IS NOT NULL) LIMIT ?2";

static const char SQL_PURGE_MARK[] = "UPDATE messages SET payload_purged_at = ?2 WHERE id = ?1";

static const char SQL_HISTORY_FIND[] =
    "SELECT id, event_id FROM messages WHERE id < ?1 "
    "AND (status IN (2, 4, 5) OR deleted_at IS NOT NULL) ORDER BY id LIMIT ?2";

static const char SQL_HISTORY_ORPHANS[] =
    "DELETE FROM events WHERE id IN (SELECT id FROM events INDEXED BY events_orphan "
    "WHERE orphan = 1 AND created_at < ?1 LIMIT ?2)";

static const char SQL_HISTORY_ATTEMPTS[] = "DELETE FROM attempts WHERE message_id = ?1";
static const char SQL_HISTORY_MESSAGE[] = "DELETE FROM messages WHERE id = ?1";
/* As SQL_EVENT_DROP_PAYLOAD: a published event goes with the last of its messages. */
static const char SQL_HISTORY_EVENT[] =
    "DELETE FROM events WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM messages "
    "WHERE fanout_event = ?1)";

/* Run a no-row statement keyed by a message id (?1), with an optional int ?2. */
static enum err exec_msg(struct sqlite_store *s, const char *sql, const char *id, int64_t arg2,
                         const char *what, struct err_detail *d)
{
    sqlite3_stmt *q = store__prepare(s, sql);
    store__bind_text(q, 1, id);
    if (sqlite3_bind_parameter_count(q) >= 2)
        sqlite3_bind_int64(q, 2, arg2);
    return store__exec(s, q, d, what);
}

/* Run a no-row statement keyed by an event id (?1). */
static enum err exec_event(struct sqlite_store *s, const char *sql, int64_t event_id,
                           const char *what, struct err_detail *d)
{
    sqlite3_stmt *q = store__prepare(s, sql);
    sqlite3_bind_int64(q, 1, event_id);
    return store__exec(s, q, d, what);
}

/* Run an UPDATE ... RETURNING sched_version that must hit one row. */
static enum err step_version(struct sqlite_store *s, sqlite3_stmt *q, int64_t *version,
                             struct err_detail *d)
{
    int rc = sqlite3_step(q);
    enum err e = ERR_OK;
    if (rc == SQLITE_ROW)
        *version = sqlite3_column_int64(q, 0);
    else if (rc == SQLITE_DONE) /* checked just before in the same transaction */
        e = err_set(d, ERR_IO, "INTERNAL_ERROR", "message changed under a reschedule");
    else
        e = store__db_err(s, rc, d, "reschedule message");
    sqlite3_reset(q);
    return e;
}

enum err sqlite_message_action(struct store *st, const char *mode, const char *id,
                               enum store_msg_action act, int64_t now_ms, struct store_resched *out,
                               struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    sqlite3_stmt *q = store__prepare(s, SQL_MSG_STATE);
    store__bind_text(q, 1, id);
    store__bind_text(q, 2, mode);
    int rc = sqlite3_step(q);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(q);
        if (rc == SQLITE_DONE)
            return err_set(d, ERR_NOTFOUND, "MESSAGE_NOT_FOUND", "message '%s' not found", id);
        return store__db_err(s, rc, d, "read message");
    }
    struct store__msg_state ms = {
        .status = sqlite3_column_int(q, 0),
        .replay_count = sqlite3_column_int(q, 1),
        .purged = sqlite3_column_type(q, 3) != SQLITE_NULL,
        .payload_expires_at_ms = store__col_opt_int(q, 4, 0),
    };
    memset(out, 0, sizeof(*out));
    snprintf(out->message_id, sizeof(out->message_id), "%s", id);
    store__col_copy(out->endpoint_id, sizeof(out->endpoint_id), q, 2);
    sqlite3_reset(q);

    enum err e = store__msg_action_check(act, id, &ms, now_ms, d);
    if (e != ERR_OK)
        return e;
    const char *sql = act == STORE_ACT_CANCEL      ? SQL_CANCEL
                      : act == STORE_ACT_RETRY_NOW ? SQL_RETRY_NOW
                                                   : SQL_REPLAY;
    q = store__prepare(s, sql);
    store__bind_text(q, 1, id);
    sqlite3_bind_int64(q, 2, now_ms);
    e = step_version(s, q, &out->sched_version, d);
    if (e != ERR_OK)
        return e;
    if (store__feed(s)) { /* due now, or (cancel) no longer */
        if (act == STORE_ACT_CANCEL)
            feed_push_dropped(store__feed(s), id, out->endpoint_id, out->sched_version);
        else
            feed_push_due(store__feed(s), id, out->endpoint_id, out->sched_version, now_ms);
    }
    struct store_rollup delta;
    if (store__msg_action_delta(act, &delta))
        return store__rollup_add(s, mode, out->endpoint_id, now_ms, &delta, d);
    return ERR_OK;
}

enum err sqlite_message_select(struct store *st, const struct store_msg_filter *f, int limit,
                               char (*out)[ID_MAX], int *n, struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    /* Ids are UUIDv7, so the creation bounds become an id range on the index. */
    char lo[ID_MAX], hi[ID_MAX];
    store__msg_select_range(f, lo, hi);
    sqlite3_stmt *q = store__prepare(s, f->status < 0                   ? SQL_SELECT_ANY
                                        : f->status == STATUS_SUCCEEDED ? SQL_SELECT_SUCCEEDED
                                                                        : SQL_SELECT_STATUS);
    store__bind_text(q, 1, f->mode);
    if (f->status >= 0)
        sqlite3_bind_int(q, 2, f->status);
    store__bind_text(q, 3, lo);
    store__bind_text(q, 4, hi);
    store__bind_text(q, 5, f->endpoint_id);
    sqlite3_bind_int64(q, 6, f->created_after_ms);
    sqlite3_bind_int64(q, 7, f->created_before_ms);
    sqlite3_bind_int(q, 8, limit);
    int rc;
    *n = 0;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW && *n < limit)
        store__col_copy(out[(*n)++], ID_MAX, q, 0);
    sqlite3_reset(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        *n = 0;
        return store__db_err(s, rc, d, "select messages");
    }
    return ERR_OK;
}

enum err sqlite_message_delete(struct store *st, const char *mode, const char *id, int64_t now_ms,
                               int64_t *deleted_at_ms, bool *already, struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    *already = false;
    *deleted_at_ms = 0;
    sqlite3_stmt *q = store__prepare(s, SQL_DELETE_FIND);
    store__bind_text(q, 1, id);
    store__bind_text(q, 2, mode);
    int rc = sqlite3_step(q);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(q);
        if (rc == SQLITE_DONE)
            return err_set(d, ERR_NOTFOUND, "MESSAGE_NOT_FOUND", "message '%s' not found", id);
        return store__db_err(s, rc, d, "read message");
    }
    int64_t was_deleted = store__col_opt_int(q, 0, 0);
    int64_t event_id = sqlite3_column_int64(q, 1);
    char endpoint_id[ID_MAX];
    store__col_copy(endpoint_id, sizeof(endpoint_id), q, 2);
    sqlite3_reset(q);
    if (was_deleted) {
        *already = true;
        *deleted_at_ms = was_deleted;
        return ERR_OK;
    }
    q = store__prepare(s, SQL_DELETE);
    store__bind_text(q, 1, id);
    sqlite3_bind_int64(q, 2, now_ms);
    enum err e = store__exec(s, q, d, "delete message");
    if (e != ERR_OK)
        return e;
    if ((e = exec_event(s, SQL_EVENT_DROP_PAYLOAD, event_id, "drop payload", d)) != ERR_OK)
        return e;
    if (store__feed(s)) /* a deleted message never comes back: drop every job of it */
        feed_push_dropped(store__feed(s), id, endpoint_id, INT64_MAX);
    *deleted_at_ms = now_ms;
    return ERR_OK;
}

enum err sqlite_dlq_list(struct store *st, const char *mode, const char *cursor, int limit,
                         struct store_dlq_item *out, int *n, bool *has_more, struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    sqlite3_stmt *q = store__prepare(s, SQL_DLQ);
    store__bind_text(q, 1, mode);
    store__bind_text(q, 2, cursor && cursor[0] ? cursor : STORE__ID_TOP);
    sqlite3_bind_int(q, 3, limit + 1); /* one extra row tells has_more */
    int rc;
    *n = 0;
    *has_more = false;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (*n == limit) {
            *has_more = true;
            break;
        }
        struct store_dlq_item *it = &out[(*n)++];
        memset(it, 0, sizeof(*it));
        store__col_copy(it->id, sizeof(it->id), q, 0);
        store__col_copy(it->endpoint_id, sizeof(it->endpoint_id), q, 1);
        it->endpoint_url = store__col_dup(q, 2);
        it->attempt_count = sqlite3_column_int(q, 3);
        it->created_at_ms = sqlite3_column_int64(q, 4);
        it->failed_at_ms = store__col_opt_int(q, 5, 0);
        it->last_error = store__col_dup(q, 6);
        it->response_status = (int)store__col_opt_int(q, 7, 0);
        it->response_latency_ms = store__col_opt_int(q, 8, -1);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        for (int i = 0; i < *n; i++)
            store_dlq_item_release(&out[i]);
        *n = 0;
        return store__db_err(s, rc, d, "list the dead-letter queue");
    }
    return ERR_OK;
}

struct victim {
    char id[ID_MAX];
    int64_t event_id;
};

/* Read up to max (id, event_id) rows of q (already bound) into a new array. */
static enum err collect(struct sqlite_store *s, sqlite3_stmt *q, int max, struct victim **out,
                        int *n, struct err_detail *d)
{
    struct victim *v = calloc((size_t)(max > 0 ? max : 1), sizeof(*v));
    if (!v)
        abort();
    int rc = SQLITE_DONE;
    *n = 0;
    while (*n < max && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        store__col_copy(v[*n].id, sizeof(v[*n].id), q, 0);
        v[(*n)++].event_id = sqlite3_column_int64(q, 1);
    }
    if (*n < max && rc != SQLITE_DONE) {
        sqlite3_reset(q);
        free(v);
        *n = 0;
        return store__db_err(s, rc, d, "find expired messages");
    }
    sqlite3_reset(q);
    *out = v;
    return ERR_OK;
}

enum err sqlite_retention_purge_payloads(struct store *st, int64_t now_ms, int max, int *n,
                                         struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    *n = 0;
    sqlite3_stmt *q = store__prepare(s, SQL_PURGE_FIND);
    sqlite3_bind_int64(q, 1, now_ms);
    sqlite3_bind_int(q, 2, max);
    struct victim *v = NULL;
    int found = 0;
    enum err e = collect(s, q, max, &v, &found, d);
    for (int i = 0; e == ERR_OK && i < found; i++) { /* marked first: the drop counts it */
        e = exec_msg(s, SQL_PURGE_MARK, v[i].id, now_ms, "mark payload purged", d);
        if (e == ERR_OK)
            e = exec_event(s, SQL_EVENT_DROP_PAYLOAD, v[i].event_id, "drop payload", d);
    }
    free(v);
    if (e == ERR_OK)
        *n = found;
    return e;
}

enum err sqlite_retention_delete_history(struct store *st, int64_t before_ms, int max, int *n,
                                         struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    *n = 0;
    char boundary[ID_MAX];
    store_uuid7_floor(boundary, before_ms);
    sqlite3_stmt *q = store__prepare(s, SQL_HISTORY_FIND);
    store__bind_text(q, 1, boundary);
    sqlite3_bind_int(q, 2, max);
    struct victim *v = NULL;
    int found = 0;
    enum err e = collect(s, q, max, &v, &found, d);
    for (int i = 0; e == ERR_OK && i < found; i++) {
        e = exec_msg(s, SQL_HISTORY_ATTEMPTS, v[i].id, 0, "delete attempts", d);
        if (e == ERR_OK)
            e = exec_msg(s, SQL_HISTORY_MESSAGE, v[i].id, 0, "delete message", d);
        if (e == ERR_OK)
            e = exec_event(s, SQL_HISTORY_EVENT, v[i].event_id, "delete event", d);
    }
    free(v);
    if (e == ERR_OK && found < max) { /* then published events that reached no endpoint */
        q = store__prepare(s, SQL_HISTORY_ORPHANS);
        sqlite3_bind_int64(q, 1, before_ms);
        sqlite3_bind_int(q, 2, max - found);
        e = store__exec(s, q, d, "delete events that reached no endpoint");
        if (e == ERR_OK)
            found += sqlite3_changes(s->db);
    }
    if (e == ERR_OK)
        *n = found;
    return e;
}

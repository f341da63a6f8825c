/*
 * store_backlog - the unfinished messages as delivery pages them in: per
 * endpoint, earliest due first, on the messages_backlog partial index
 * (migration 4), so a page costs the same with 10 or 10 million messages
 * waiting (ARCHITECTURE §3: memory does not grow with the backlog).
 * Threading, ownership, errors: as store.h; read connections of the
 * delivery threads.
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>

#include "store/sqlite/sqlite_internal.h"

/* The WHERE terms must repeat the partial index's own for SQLite to use it. */
static const char SQL_BACKLOG_ENDPOINTS[] =
    "SELECT e.id, (SELECT coalesce(m.next_attempt_at, 0) FROM messages m "
    "WHERE m.endpoint_id = e.id AND m.status <> 2 AND m.status <> 4 AND m.status <> 5 AND m.status "
    "<> 6 AND "
    "m.deleted_at IS NULL "
    "ORDER BY m.next_attempt_at LIMIT 1) AS due FROM endpoints e WHERE due IS NOT NULL";

static const char SQL_BACKLOG_PAGE[] =
    "SELECT m.id, m.attempt_count, coalesce(m.next_attempt_at, 0), m.sched_version, e.payload, "
    "e.content_type, m.headers, e.public_id FROM messages m JOIN events e ON e.id = m.event_id "
    "WHERE m.endpoint_id = ?1 AND m.status <> 2 AND m.status <> 4 AND m.status <> 5 AND m.status "
    "<> 6 AND "
    "m.deleted_at IS NULL "
    "ORDER BY m.next_attempt_at, m.id LIMIT ?2";

enum err sqlite_backlog_endpoints(struct store *st,
                                  bool (*fn)(const char *endpoint_id, int64_t due_ms, void *ctx),
                                  void *ctx, struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    sqlite3_stmt *q = store__prepare(s, SQL_BACKLOG_ENDPOINTS);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (!fn((const char *)sqlite3_column_text(q, 0), sqlite3_column_int64(q, 1), ctx)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return store__db_err(s, rc, d, "list endpoints with a backlog");
    return ERR_OK;
}

enum err sqlite_backlog_page(struct store *st, const char *endpoint_id, int max,
                             bool (*fn)(const struct store_pending *, void *), void *ctx,
                             struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    sqlite3_stmt *q = store__prepare(s, SQL_BACKLOG_PAGE);
    store__bind_text(q, 1, endpoint_id);
    sqlite3_bind_int(q, 2, max);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        struct store_pending p;
        store__col_copy(p.message_id, sizeof(p.message_id), q, 0);
        snprintf(p.endpoint_id, sizeof(p.endpoint_id), "%s", endpoint_id);
        p.attempt_count = sqlite3_column_int(q, 1);
        p.due_ms = sqlite3_column_int64(q, 2);
        p.sched_version = sqlite3_column_int64(q, 3);
        p.payload = sqlite3_column_blob(q, 4);
        p.payload_len = (size_t)sqlite3_column_bytes(q, 4);
        p.content_type = (const char *)sqlite3_column_text(q, 5);
        p.headers_json = (const char *)sqlite3_column_text(q, 6);
        p.webhook_id = (const char *)sqlite3_column_text(q, 7);
        if (!fn(&p, ctx)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return store__db_err(s, rc, d, "page the backlog of endpoint");
    return ERR_OK;
}

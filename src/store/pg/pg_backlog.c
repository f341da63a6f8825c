/*
 * pg_backlog - the unfinished messages as delivery pages them in, on PostgreSQL
 * (sqlite/store_backlog.c's twin): per endpoint, earliest due first, a new
 * message (next_attempt_at NULL, due at once) before any retry, as SQLite
 * orders NULL first. On the messages_backlog partial index. With several nodes on
 * the database, paging claims: see pg_node.c.
 * Threading, ownership, errors: as store.h. SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>

#include "store/pg/pg_internal.h"

#define UNFINISHED                                                                                 \
    "m.status <> 2 AND m.status <> 4 AND m.status <> 5 AND m.status <> 6 AND m.deleted_at IS NULL"

/* Due 0 when a message waits with no time (two probes of the index: PostgreSQL sorts
 * NULL last), else its earliest time; NULL without a backlog. Only what this node may
 * claim (PG_CLAIMABLE): at a start, its own leases (a node restarted with the same
 * name) and every lease of a dead node. */
static const char SQL_BACKLOG_ENDPOINTS[] =
    "SELECT id, due FROM (SELECT e.seq, e.id, CASE WHEN EXISTS (SELECT 1 FROM messages m "
    "WHERE m.endpoint_id = e.id AND " UNFINISHED " AND m.next_attempt_at IS NULL AND " PG_CLAIMABLE
    ") THEN 0 ELSE (SELECT min(m.next_attempt_at) FROM messages m WHERE m.endpoint_id = e.id "
    "AND " UNFINISHED " AND " PG_CLAIMABLE ") END AS due FROM endpoints e) x WHERE due IS NOT NULL "
    "ORDER BY seq";

/* Later looks (the dispatcher's rescans): the work no live node holds, by the
 * messages_lease index: nobody's, or a dead node's (hookd_nodes keeps a dead node
 * while it holds unfinished messages). */
static const char SQL_BACKLOG_ORPHANS[] =
    "SELECT m.endpoint_id, min(coalesce(m.next_attempt_at, 0)) FROM messages m WHERE " UNFINISHED
    " AND (m.lease_owner IS NULL OR m.lease_owner IN (SELECT id FROM hookd_nodes WHERE seen_at "
    "< " PG_NOW_MS " - " PG_NODE_LEASE_SQL ")) GROUP BY m.endpoint_id";

/* One page, claimed: rows no other live node holds, locked without waiting for
 * another node's claim of the same rows (SKIP LOCKED), leased to this node where
 * they were not already. The outer SELECT reads them in backlog order. */
static const char SQL_BACKLOG_PAGE[] =
    "WITH c AS (SELECT m.id FROM messages m WHERE m.endpoint_id = $1 AND " UNFINISHED
    " AND " PG_CLAIMABLE
    " ORDER BY m.next_attempt_at NULLS FIRST, m.id LIMIT $2 FOR UPDATE OF m SKIP "
    "LOCKED), u AS (UPDATE messages m SET lease_owner = " PG_NODE " FROM c WHERE m.id = c.id "
    "AND m.lease_owner IS DISTINCT FROM " PG_NODE " RETURNING m.id) "
    "SELECT m.id, m.attempt_count, coalesce(m.next_attempt_at, 0), m.sched_version, e.payload, "
    "e.content_type, m.headers, e.public_id FROM c JOIN messages m ON m.id = c.id "
    "JOIN events e ON e.id = m.event_id ORDER BY m.next_attempt_at NULLS FIRST, m.id";

enum err pg_backlog_endpoints(struct store *st,
                              bool (*fn)(const char *endpoint_id, int64_t due_ms, void *ctx),
                              void *ctx, struct err_detail *d)
{
    struct pgq q;
    struct pg_store *s = pg_of(st);
    pgq_init(&q, s, s->backlog_scanned ? SQL_BACKLOG_ORPHANS : SQL_BACKLOG_ENDPOINTS);
    enum err e = pgq_run(&q, d, "list endpoints with a backlog");
    while (e == ERR_OK && pgq_next(&q))
        if (!fn(pgq_str(&q, 0), pgq_i64(&q, 1), ctx))
            break;
    pgq_done(&q);
    if (e == ERR_OK)
        s->backlog_scanned = true;
    return e;
}

enum err pg_backlog_page(struct store *st, const char *endpoint_id, int max,
                         bool (*fn)(const struct store_pending *, void *), void *ctx,
                         struct err_detail *d)
{
    struct pgq q;
    pgq_init(&q, pg_of(st), SQL_BACKLOG_PAGE);
    pgq_text(&q, 1, endpoint_id);
    pgq_int(&q, 2, max);
    enum err e = pgq_run(&q, d, "page the backlog of endpoint");
    while (e == ERR_OK && pgq_next(&q)) {
        struct store_pending p;
        pgq_copy(p.message_id, sizeof(p.message_id), &q, 0);
        snprintf(p.endpoint_id, sizeof(p.endpoint_id), "%s", endpoint_id);
        p.attempt_count = (int)pgq_i64(&q, 1);
        p.due_ms = pgq_i64(&q, 2);
        p.sched_version = pgq_i64(&q, 3);
        void *payload = pgq_bytes(&q, 4, &p.payload_len);
        p.payload = payload;
        p.content_type = pgq_str(&q, 5);
        p.headers_json = pgq_str(&q, 6);
        p.webhook_id = pgq_str(&q, 7);
        bool more = fn(&p, ctx);
        free(payload);
        if (!more)
            break;
    }
    pgq_done(&q);
    return e;
}

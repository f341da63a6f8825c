/*
 * pg_queries - the read side of the observability API on PostgreSQL: /v1/logs
 * pages, the rollup sums behind /v1/metrics and /v1/metrics/timeseries, an
 * endpoint's counts by state and the /metrics gauges. The twin of
 * sqlite/store_queries.c.
 *
 * Description: log pages walk messages_mode_id / messages_mode_status
 * backwards from a cursor, a time range being an id range (UUIDv7 ids,
 * message_rules.c). Metrics never touch message rows: they read the rollups
 * pg_rollups.c keeps, which writes each batch's deltas at commit into both
 * rollups (per minute) and rollups_hourly (per hour), with no journal. So a
 * minute part reads rollups (through store_rollup_sum's query), whole hours
 * read rollups_hourly, and no row is counted twice.
 * Threading and errors: see store.h. SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg/pg_internal.h"

/* $1 mode, $2 lo, $3 hi, $4 limit, $5 application or NULL, $6 status. */
#define LOG_SELECT                                                                                 \
    "SELECT m.id, m.endpoint_id, coalesce(e.url, ''), m.status, m.attempt_count, m.created_at, "   \
    "m.delivered_at, m.response_status, m.response_latency_ms, m.last_error "                      \
    "FROM messages m LEFT JOIN endpoints e ON e.id = m.endpoint_id "                               \
    "WHERE m.mode = $1 AND m.id >= $2 AND m.id < $3 AND m.deleted_at IS NULL "                     \
    "AND ($5::text IS NULL OR e.application_id = $5) "
static const char SQL_LOG_ANY[] = LOG_SELECT "ORDER BY m.id DESC LIMIT $4";
/* Any status but succeeded: "status <> 2" repeated for the partial messages_mode_status. */
static const char SQL_LOG_STATUS[] =
    LOG_SELECT "AND m.status = $6 AND m.status <> 2 ORDER BY m.id DESC LIMIT $4";
static const char SQL_LOG_SUCCEEDED[] = LOG_SELECT "AND m.status = $6 ORDER BY m.id DESC LIMIT $4";

#define SUM_COLS                                                                                   \
    "coalesce(sum(total), 0)::bigint, coalesce(sum(succeeded), 0)::bigint, "                       \
    "coalesce(sum(failed), 0)::bigint, coalesce(sum(retries), 0)::bigint, "                        \
    "coalesce(sum(latency_sum_ms), 0)::bigint, coalesce(sum(latency_count), 0)::bigint "

/* $1 mode, $2 from, $3 to, $4 endpoint. */
static const char SQL_HOURLY_SUM[] = "SELECT " SUM_COLS "FROM rollups_hourly "
                                     "WHERE mode = $1 AND bucket_ms >= $2 AND bucket_ms < $3";
static const char SQL_HOURLY_SUM_EP[] =
    "SELECT " SUM_COLS "FROM rollups_hourly "
    "WHERE mode = $1 AND endpoint_id = $4 AND bucket_ms >= $2 AND bucket_ms < $3";

/* $1 mode, $2 from, $3 to, $4 bucket size, $5 endpoint: one row per non-empty bucket. */
#define SERIES(table, ep)                                                                          \
    "SELECT (bucket_ms - $2) / $4 AS b, " SUM_COLS "FROM " table " WHERE mode = $1 " ep            \
    "AND bucket_ms >= $2 AND bucket_ms < $3 GROUP BY b"
static const char SQL_SERIES_MIN[] = SERIES("rollups", "");
static const char SQL_SERIES_MIN_EP[] = SERIES("rollups", "AND endpoint_id = $5 ");
static const char SQL_SERIES_HOUR[] = SERIES("rollups_hourly", "");
static const char SQL_SERIES_HOUR_EP[] = SERIES("rollups_hourly", "AND endpoint_id = $5 ");

/* An endpoint's unfinished messages by status, with the WHERE terms of messages_backlog. */
static const char SQL_EP_UNFINISHED[] =
    "SELECT status, count(*) FROM messages WHERE endpoint_id = $1 AND mode = $2 "
    "AND status <> 2 AND status <> 4 AND status <> 5 AND status <> 6 AND deleted_at IS NULL "
    "AND created_at >= $3 AND created_at < $4 GROUP BY status";

/* The backlog index's live unfinished messages (count, earliest due time), the
 * dead-letter messages, disabled endpoints and open circuits, in one round trip. */
static const char SQL_GAUGES[] =
    "WITH b AS (SELECT count(*) AS n, min(next_attempt_at) AS due FROM messages "
    "WHERE status <> 2 AND status <> 4 AND status <> 5 AND status <> 6 AND deleted_at IS NULL) "
    "SELECT b.n, b.due, "
    "(SELECT count(*) FROM messages WHERE status = 4 AND deleted_at IS NULL), "
    "(SELECT count(*) FROM endpoints WHERE disabled = 1 AND deleted_at IS NULL), "
    "(SELECT count(*) FROM endpoints WHERE circuit_state <> 0 AND deleted_at IS NULL) FROM b";

static void read_log_entry(const struct pgq *q, struct store_log_entry *e)
{
    memset(e, 0, sizeof(*e));
    pgq_copy(e->message_id, sizeof(e->message_id), q, 0);
    pgq_copy(e->endpoint_id, sizeof(e->endpoint_id), q, 1);
    e->endpoint_url = pgq_dup(q, 2);
    if (!e->endpoint_url && !(e->endpoint_url = strdup("")))
        abort();
    e->status = (enum store_status)pgq_i64(q, 3);
    e->attempt_count = (int)pgq_i64(q, 4);
    e->created_at_ms = pgq_i64(q, 5);
    e->delivered_at_ms = pgq_opt_i64(q, 6, 0);
    e->response_status = (int)pgq_opt_i64(q, 7, 0);
    e->response_latency_ms = pgq_opt_i64(q, 8, -1);
    e->last_error = pgq_dup(q, 9);
}

enum err pg_log_list(struct store *st, const struct store_log_filter *f,
                     struct store_log_entry *out, int *n, bool *has_more, struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    *n = 0;
    *has_more = false;
    char lo[ID_MAX], upper[ID_MAX];
    enum err e = store__log_bounds(f, lo, upper, d);
    if (e != ERR_OK)
        return e;
    struct pgq q;
    pgq_init(&q, s,
             f->status < 0                   ? SQL_LOG_ANY
             : f->status == STATUS_SUCCEEDED ? SQL_LOG_SUCCEEDED
                                             : SQL_LOG_STATUS);
    pgq_text(&q, 1, f->mode);
    pgq_text(&q, 2, lo);
    pgq_text(&q, 3, upper);
    pgq_int(&q, 4, (int64_t)f->limit + 1); /* one extra row tells has_more */
    pgq_text(&q, 5, f->application_id);
    if (f->status >= 0)
        pgq_int(&q, 6, f->status);
    e = pgq_run(&q, d, "list logs");
    while (e == ERR_OK && pgq_next(&q)) {
        if (*n == f->limit) {
            *has_more = true;
            break;
        }
        read_log_entry(&q, &out[(*n)++]);
    }
    pgq_done(&q);
    return e;
}

/* Columns first..first+5 of a SUM_COLS row into r. */
static void read_sums(const struct pgq *q, int first, struct store_rollup *r)
{
    r->total = pgq_i64(q, first);
    r->succeeded = pgq_i64(q, first + 1);
    r->failed = pgq_i64(q, first + 2);
    r->retries = pgq_i64(q, first + 3);
    r->latency_sum_ms = pgq_i64(q, first + 4);
    r->latency_count = pgq_i64(q, first + 5);
}

static enum err hourly_sum(struct pg_store *s, const char *mode, const char *endpoint_id,
                           int64_t from_ms, int64_t to_ms, struct store_rollup *out,
                           struct err_detail *d)
{
    struct pgq q;
    pgq_init(&q, s, endpoint_id ? SQL_HOURLY_SUM_EP : SQL_HOURLY_SUM);
    pgq_text(&q, 1, mode);
    pgq_int(&q, 2, from_ms);
    pgq_int(&q, 3, to_ms);
    if (endpoint_id)
        pgq_text(&q, 4, endpoint_id);
    enum err e = pgq_run(&q, d, "sum hourly rollups");
    if (e == ERR_OK && pgq_next(&q))
        read_sums(&q, 0, out);
    pgq_done(&q);
    return e;
}

enum err pg_metrics_sum(struct store *st, const char *mode, const char *endpoint_id,
                        int64_t from_ms, int64_t to_ms, struct store_rollup *out,
                        struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    memset(out, 0, sizeof(*out));
    if (to_ms <= from_ms)
        return ERR_OK;
    int64_t h0, h1;
    if (!store__whole_hours(from_ms, to_ms, &h0, &h1)) /* minutes only */
        return pg_rollup_sum(st, mode, endpoint_id, from_ms, to_ms, out, d);
    struct store_rollup part = {0};
    enum err e = pg_rollup_sum(st, mode, endpoint_id, from_ms, h0, &part, d);
    if (e != ERR_OK)
        return e;
    store__rollup_accumulate(out, &part);
    memset(&part, 0, sizeof(part));
    if ((e = hourly_sum(s, mode, endpoint_id, h0, h1, &part, d)) != ERR_OK)
        return e;
    store__rollup_accumulate(out, &part);
    memset(&part, 0, sizeof(part));
    if ((e = pg_rollup_sum(st, mode, endpoint_id, h1, to_ms, &part, d)) != ERR_OK)
        return e;
    store__rollup_accumulate(out, &part);
    return ERR_OK;
}

enum err pg_metrics_series(struct store *st, const char *mode, const char *endpoint_id,
                           int64_t from_ms, int64_t bucket_ms, int nbuckets,
                           struct store_rollup *out, struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    bool hourly;
    enum err e = store__series_layout(from_ms, bucket_ms, nbuckets, &hourly, d);
    if (e != ERR_OK)
        return e;
    memset(out, 0, sizeof(*out) * (size_t)nbuckets);
    struct pgq q;
    pgq_init(&q, s,
             hourly ? (endpoint_id ? SQL_SERIES_HOUR_EP : SQL_SERIES_HOUR)
                    : (endpoint_id ? SQL_SERIES_MIN_EP : SQL_SERIES_MIN));
    pgq_text(&q, 1, mode);
    pgq_int(&q, 2, from_ms);
    pgq_int(&q, 3, from_ms + bucket_ms * nbuckets);
    pgq_int(&q, 4, bucket_ms);
    if (endpoint_id)
        pgq_text(&q, 5, endpoint_id);
    e = pgq_run(&q, d, "read rollup series");
    while (e == ERR_OK && pgq_next(&q)) {
        int64_t b = pgq_i64(&q, 0);
        if (b >= 0 && b < nbuckets)
            read_sums(&q, 1, &out[b]);
    }
    pgq_done(&q);
    return e;
}

enum err pg_endpoint_stats(struct store *st, const char *mode, const char *endpoint_id,
                           int64_t from_ms, int64_t to_ms, struct store_endpoint_stats *out,
                           struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    memset(out, 0, sizeof(*out));
    struct store_rollup sum;
    enum err e = pg_metrics_sum(st, mode, endpoint_id, from_ms, to_ms, &sum, d);
    if (e != ERR_OK)
        return e;
    out->succeeded = sum.succeeded;
    out->failed = sum.failed;
    struct pgq q;
    pgq_init(&q, s, SQL_EP_UNFINISHED);
    pgq_text(&q, 1, endpoint_id);
    pgq_text(&q, 2, mode);
    pgq_int(&q, 3, from_ms);
    pgq_int(&q, 4, to_ms);
    e = pgq_run(&q, d, "count unfinished messages");
    while (e == ERR_OK && pgq_next(&q)) {
        int64_t n = pgq_i64(&q, 1);
        if (pgq_i64(&q, 0) == STATUS_DELIVERING)
            out->delivering += n;
        else
            out->waiting += n;
    }
    pgq_done(&q);
    return e;
}

enum err pg_gauges(struct store *st, struct store_gauges *out, struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    memset(out, 0, sizeof(*out));
    struct pgq q;
    pgq_init(&q, s, SQL_GAUGES);
    enum err e = pgq_run(&q, d, "read the store's gauges");
    if (e == ERR_OK && pgq_next(&q)) {
        out->unfinished = pgq_i64(&q, 0);
        out->earliest_due_ms = pgq_opt_i64(&q, 1, 0);
        out->dead_letter = pgq_i64(&q, 2);
        out->endpoints_disabled = pgq_i64(&q, 3);
        out->circuits_open = pgq_i64(&q, 4);
    }
    pgq_done(&q);
    return e;
}

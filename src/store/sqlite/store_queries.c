/*
 * store_queries - the read side of the observability API: /v1/logs pages
 * and the rollup sums behind /v1/metrics and /v1/metrics/timeseries, and an
 * endpoint's counts by state (Svix's endpoint stats).
 *
 * Description: log pages walk the messages_mode_id / messages_mode_status
 * indexes backwards from a cursor; a time range becomes an id range because
 * message ids are UUIDv7 whose first 48 bits (12 hex digits) are the unix
 * milliseconds of creation. So a page costs O(limit) rows wherever it starts,
 * plus the rows skipped for being deleted. Metrics never touch message rows:
 * they sum the per-minute rollups (store_rollups.c) and, for whole hours, the
 * hourly rollups written beside them (store_rollups.c), each with the
 * journal of rows not folded into them yet (rollups_recent, migration 6).
 * Threading and errors: see store.h. SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite_internal.h"

#define LOG_COLS_FROM(indexed)                                                                     \
    "SELECT m.id, m.endpoint_id, coalesce(e.url, ''), m.status, m.attempt_count, m.created_at, "   \
    "m.delivered_at, m.response_status, m.response_latency_ms, m.last_error "                      \
    "FROM messages m " indexed "LEFT JOIN endpoints e ON e.id = m.endpoint_id "
#define LOG_COLS LOG_COLS_FROM("")

static const char SQL_LOG_ANY[] =
    LOG_COLS "WHERE m.mode = ?1 AND m.id >= ?2 AND m.id < ?3 AND m.deleted_at IS NULL "
             "AND (?6 IS NULL OR e.application_id = ?6) ORDER BY m.id DESC LIMIT ?4";

/* Any status but succeeded: through the partial messages_mode_status (migration 7),
 * whose own "status <> 2" the query must repeat for SQLite to use it. */
static const char SQL_LOG_STATUS[] =
    LOG_COLS "WHERE m.mode = ?1 AND m.status = ?5 AND m.status <> 2 AND m.id >= ?2 AND m.id < ?3 "
             "AND m.deleted_at IS NULL AND (?6 IS NULL OR e.application_id = ?6) "
             "ORDER BY m.id DESC LIMIT ?4";
/* Succeeded: along messages_mode_id, where nearly every message is one. */
static const char SQL_LOG_SUCCEEDED[] = LOG_COLS_FROM(
    "INDEXED BY messages_mode_id ") "WHERE m.mode = ?1 AND m.status = ?5 AND m.id >= ?2 "
                                    "AND m.id < ?3 AND m.deleted_at IS NULL "
                                    "AND (?6 IS NULL OR e.application_id = ?6) "
                                    "ORDER BY m.id DESC LIMIT ?4";

#define SUM_COLS                                                                                   \
    "coalesce(sum(total), 0), coalesce(sum(succeeded), 0), coalesce(sum(failed), 0), "             \
    "coalesce(sum(retries), 0), coalesce(sum(latency_sum_ms), 0), "                                \
    "coalesce(sum(latency_count), 0) "

/* Rollup rows not folded yet (store_rollups.c) count with the minute and hourly rows:
 * "FROM (<table part> UNION ALL <journal part>)". The journal is small and unindexed. */
#define ROLLUP_VALS "total, succeeded, failed, retries, latency_sum_ms, latency_count "
#define RECENT_PART(ep)                                                                            \
    " UNION ALL SELECT bucket_ms, " ROLLUP_VALS "FROM rollups_recent WHERE mode = ?1 " ep          \
    "AND bucket_ms >= ?2 AND bucket_ms < ?3"

static const char SQL_HOURLY_SUM[] =
    "SELECT " SUM_COLS "FROM (SELECT bucket_ms, " ROLLUP_VALS "FROM rollups_hourly "
    "WHERE mode = ?1 AND bucket_ms >= ?2 AND bucket_ms < ?3" RECENT_PART("") ")";
static const char SQL_HOURLY_SUM_EP[] =
    "SELECT " SUM_COLS "FROM (SELECT bucket_ms, " ROLLUP_VALS
    "FROM rollups_hourly INDEXED BY rollups_hourly_endpoint "
    "WHERE mode = ?1 AND endpoint_id = ?4 AND bucket_ms >= ?2 AND bucket_ms < ?3" RECENT_PART(
        "AND endpoint_id = ?4 ") ")";

/* ?1 mode, ?2 from, ?3 to, ?4 bucket size, ?5 endpoint: one row per non-empty bucket. */
#define SERIES(table, ep)                                                                          \
    "SELECT (bucket_ms - ?2) / ?4 AS b, " SUM_COLS "FROM (SELECT bucket_ms, " ROLLUP_VALS          \
    "FROM " table " WHERE mode = ?1 " ep                                                           \
    "AND bucket_ms >= ?2 AND bucket_ms < ?3" RECENT_PART(ep) ") GROUP BY b"
static const char SQL_SERIES_MIN[] = SERIES("rollups", "");
static const char SQL_SERIES_MIN_EP[] = SERIES("rollups", "AND endpoint_id = ?5 ");
static const char SQL_SERIES_HOUR[] = SERIES("rollups_hourly", "");
/* the endpoint index, or the planner scans every endpoint's hours in the window */
static const char SQL_SERIES_HOUR_EP[] =
    SERIES("rollups_hourly INDEXED BY rollups_hourly_endpoint", "AND endpoint_id = ?5 ");

/* An endpoint's unfinished messages by status: its part of messages_backlog,
 * whose WHERE terms the query repeats so SQLite uses that partial index (no
 * index serves an endpoint's finished messages: those come from the rollups). */
static const char SQL_EP_UNFINISHED[] =
    "SELECT status, count(*) FROM messages INDEXED BY messages_backlog WHERE endpoint_id = ?1 "
    "AND mode = ?2 AND status <> 2 AND status <> 4 AND status <> 5 AND status <> 6 AND deleted_at "
    "IS NULL "
    "AND created_at >= ?3 AND created_at < ?4 GROUP BY status";

static void read_log_entry(sqlite3_stmt *q, struct store_log_entry *e)
{
    memset(e, 0, sizeof(*e));
    store__col_copy(e->message_id, sizeof(e->message_id), q, 0);
    store__col_copy(e->endpoint_id, sizeof(e->endpoint_id), q, 1);
    e->endpoint_url = store__col_dup(q, 2);
    if (!e->endpoint_url && !(e->endpoint_url = strdup("")))
        abort();
    e->status = (enum store_status)sqlite3_column_int(q, 3);
    e->attempt_count = sqlite3_column_int(q, 4);
    e->created_at_ms = sqlite3_column_int64(q, 5);
    e->delivered_at_ms = store__col_opt_int(q, 6, 0);
    e->response_status = (int)store__col_opt_int(q, 7, 0);
    e->response_latency_ms = store__col_opt_int(q, 8, -1);
    e->last_error = store__col_dup(q, 9);
}

enum err sqlite_log_list(struct store *st, const struct store_log_filter *f,
                         struct store_log_entry *out, int *n, bool *has_more, struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    *n = 0;
    *has_more = false;
    char lo[ID_MAX], upper[ID_MAX];
    enum err e = store__log_bounds(f, lo, upper, d);
    if (e != ERR_OK)
        return e;

    sqlite3_stmt *q = store__prepare(s, f->status < 0                   ? SQL_LOG_ANY
                                        : f->status == STATUS_SUCCEEDED ? SQL_LOG_SUCCEEDED
                                                                        : SQL_LOG_STATUS);
    store__bind_text(q, 1, f->mode);
    store__bind_text(q, 2, lo);
    store__bind_text(q, 3, upper);
    sqlite3_bind_int(q, 4, f->limit + 1); /* one extra row tells has_more */
    store__bind_text(q, 6, f->application_id);
    if (f->status >= 0)
        sqlite3_bind_int(q, 5, f->status);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (*n == f->limit) {
            *has_more = true;
            break;
        }
        read_log_entry(q, &out[(*n)++]);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        for (int i = 0; i < *n; i++)
            store_log_entry_release(&out[i]);
        *n = 0;
        *has_more = false;
        return store__db_err(s, rc, d, "list logs");
    }
    return ERR_OK;
}

/* Columns first..first+5 of a SUM_COLS row into r. */
static void read_sums(sqlite3_stmt *q, int first, struct store_rollup *r)
{
    r->total = sqlite3_column_int64(q, first);
    r->succeeded = sqlite3_column_int64(q, first + 1);
    r->failed = sqlite3_column_int64(q, first + 2);
    r->retries = sqlite3_column_int64(q, first + 3);
    r->latency_sum_ms = sqlite3_column_int64(q, first + 4);
    r->latency_count = sqlite3_column_int64(q, first + 5);
}

static enum err hourly_sum(struct sqlite_store *s, const char *mode, const char *endpoint_id,
                           int64_t from_ms, int64_t to_ms, struct store_rollup *out,
                           struct err_detail *d)
{
    sqlite3_stmt *q = store__prepare(s, endpoint_id ? SQL_HOURLY_SUM_EP : SQL_HOURLY_SUM);
    store__bind_text(q, 1, mode);
    sqlite3_bind_int64(q, 2, from_ms);
    sqlite3_bind_int64(q, 3, to_ms);
    if (endpoint_id)
        store__bind_text(q, 4, endpoint_id);
    int rc = sqlite3_step(q);
    enum err e = ERR_OK;
    if (rc == SQLITE_ROW)
        read_sums(q, 0, out);
    else
        e = store__db_err(s, rc, d, "sum hourly rollups");
    sqlite3_reset(q);
    return e;
}

enum err sqlite_metrics_sum(struct store *st, const char *mode, const char *endpoint_id,
                            int64_t from_ms, int64_t to_ms, struct store_rollup *out,
                            struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    memset(out, 0, sizeof(*out));
    if (to_ms <= from_ms)
        return ERR_OK;
    int64_t h0, h1;
    if (!store__whole_hours(from_ms, to_ms, &h0, &h1)) /* minutes only */
        return sqlite_rollup_sum(&s->base, mode, endpoint_id, from_ms, to_ms, out, d);
    struct store_rollup part;
    enum err e = sqlite_rollup_sum(&s->base, mode, endpoint_id, from_ms, h0, &part, d);
    if (e != ERR_OK)
        return e;
    store__rollup_accumulate(out, &part);
    if ((e = hourly_sum(s, mode, endpoint_id, h0, h1, &part, d)) != ERR_OK)
        return e;
    store__rollup_accumulate(out, &part);
    if ((e = sqlite_rollup_sum(&s->base, mode, endpoint_id, h1, to_ms, &part, d)) != ERR_OK)
        return e;
    store__rollup_accumulate(out, &part);
    return ERR_OK;
}

enum err sqlite_metrics_series(struct store *st, const char *mode, const char *endpoint_id,
                               int64_t from_ms, int64_t bucket_ms, int nbuckets,
                               struct store_rollup *out, struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    bool hourly;
    enum err e = store__series_layout(from_ms, bucket_ms, nbuckets, &hourly, d);
    if (e != ERR_OK)
        return e;
    memset(out, 0, sizeof(*out) * (size_t)nbuckets);
    const char *sql = hourly ? (endpoint_id ? SQL_SERIES_HOUR_EP : SQL_SERIES_HOUR)
                             : (endpoint_id ? SQL_SERIES_MIN_EP : SQL_SERIES_MIN);
    sqlite3_stmt *q = store__prepare(s, sql);
    store__bind_text(q, 1, mode);
    sqlite3_bind_int64(q, 2, from_ms);
    sqlite3_bind_int64(q, 3, from_ms + bucket_ms * nbuckets);
    sqlite3_bind_int64(q, 4, bucket_ms);
    if (endpoint_id)
        store__bind_text(q, 5, endpoint_id);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t b = sqlite3_column_int64(q, 0);
        if (b >= 0 && b < nbuckets)
            read_sums(q, 1, &out[b]);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return store__db_err(s, rc, d, "read rollup series");
    return ERR_OK;
}

enum err sqlite_endpoint_stats(struct store *st, const char *mode, const char *endpoint_id,
                               int64_t from_ms, int64_t to_ms, struct store_endpoint_stats *out,
                               struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    memset(out, 0, sizeof(*out));
    struct store_rollup sum;
    enum err e = sqlite_metrics_sum(&s->base, mode, endpoint_id, from_ms, to_ms, &sum, d);
    if (e != ERR_OK)
        return e;
    out->succeeded = sum.succeeded;
    out->failed = sum.failed;
    sqlite3_stmt *q = store__prepare(s, SQL_EP_UNFINISHED);
    store__bind_text(q, 1, endpoint_id);
    store__bind_text(q, 2, mode);
    sqlite3_bind_int64(q, 3, from_ms);
    sqlite3_bind_int64(q, 4, to_ms);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t n = sqlite3_column_int64(q, 1);
        if (sqlite3_column_int(q, 0) == STATUS_DELIVERING)
            out->delivering += n;
        else
            out->waiting += n;
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return store__db_err(s, rc, d, "count unfinished messages");
    return ERR_OK;
}

/* One scan of the backlog index (live unfinished messages: count and earliest
 * due time), the dead-letter messages through messages_mode_status, and the
 * disabled endpoints. */
#define SQL_GAUGE_BACKLOG                                                                          \
    "SELECT count(*), min(next_attempt_at) FROM messages INDEXED BY messages_backlog"              \
    " WHERE status <> 2 AND status <> 4 AND status <> 5 AND status <> 6 AND deleted_at IS NULL"
#define SQL_GAUGE_DLQ "SELECT count(*) FROM messages WHERE status = 4 AND deleted_at IS NULL"
#define SQL_GAUGE_DISABLED                                                                         \
    "SELECT count(*) FROM endpoints WHERE disabled = 1 AND deleted_at IS NULL"
#define SQL_GAUGE_OPEN                                                                             \
    "SELECT count(*) FROM endpoints WHERE circuit_state <> 0 AND deleted_at IS NULL"

static enum err gauge_row(struct sqlite_store *s, const char *sql, int64_t *a, int64_t *b,
                          struct err_detail *d)
{
    sqlite3_stmt *q = store__prepare(s, sql);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        *a = sqlite3_column_int64(q, 0);
        if (b)
            *b = sqlite3_column_type(q, 1) == SQLITE_NULL ? 0 : sqlite3_column_int64(q, 1);
    }
    sqlite3_reset(q);
    return rc == SQLITE_ROW ? ERR_OK : store__db_err(s, rc, d, "read the store's gauges");
}

enum err sqlite_gauges(struct store *st, struct store_gauges *out, struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    memset(out, 0, sizeof(*out));
    enum err e = gauge_row(s, SQL_GAUGE_BACKLOG, &out->unfinished, &out->earliest_due_ms, d);
    if (e == ERR_OK)
        e = gauge_row(s, SQL_GAUGE_DLQ, &out->dead_letter, NULL, d);
    if (e == ERR_OK)
        e = gauge_row(s, SQL_GAUGE_DISABLED, &out->endpoints_disabled, NULL, d);
    if (e == ERR_OK)
        e = gauge_row(s, SQL_GAUGE_OPEN, &out->circuits_open, NULL, d);
    return e;
}

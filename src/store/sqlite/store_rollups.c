/*
 * store_rollups - per-minute counters per (mode, endpoint) that /v1/metrics
 * and /v1/metrics/timeseries read, maintained in the same transaction as the
 * state change they count, so metrics never scan message rows.
 *
 * Description: inside a committer batch, deltas are summed in memory per
 * (mode, endpoint, minute) in a hash table with no size limit (rollup_set.c), the current
 * op's deltas apart so a rolled-back op drops them. Just before COMMIT the
 * batch's sums are appended to rollups_recent (a rowid table with no index:
 * each row lands on the right-hand edge of one B-tree, so a commit writes
 * about one page there however many endpoints it touched). Once the journal
 * holds STORE__ROLLUP_FOLD_ROWS rows, one batch folds it into rollups (one
 * upsert per distinct (mode, endpoint, minute)) and rollups_hourly (one per
 * (mode, endpoint, hour): no triggers since migration 8) and empties it. Readers sum
 * rollups (or rollups_hourly) and rollups_recent together, so every count is
 * exact and durable from the commit that made it; a crash leaves the journal
 * for the next fold. Outside a batch (tests, tools) a delta goes straight
 * into rollups.
 * Threading: as store.h; the batch state belongs to the committer's store.
 * See also: store.h, sqlite_internal.h, docs/internals/store.md.
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite_internal.h"

#define ROLLUP_COLS "total, succeeded, failed, retries, latency_sum_ms, latency_count"

static const char SQL_ADD[] =
    "INSERT INTO rollups (mode, endpoint_id, bucket_ms, " ROLLUP_COLS ") "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
    "ON CONFLICT (mode, endpoint_id, bucket_ms) DO UPDATE SET total = total + ?4, "
    "succeeded = succeeded + ?5, failed = failed + ?6, retries = retries + ?7, "
    "latency_sum_ms = latency_sum_ms + ?8, latency_count = latency_count + ?9";

/* The same delta into its hour (migration 8: no trigger does it). */
static const char SQL_ADD_HOURLY[] =
    "INSERT INTO rollups_hourly (mode, endpoint_id, bucket_ms, " ROLLUP_COLS ") "
    "VALUES (?1, ?2, ?3 - ?3 % 3600000, ?4, ?5, ?6, ?7, ?8, ?9) "
    "ON CONFLICT (mode, bucket_ms, endpoint_id) DO UPDATE SET total = total + ?4, "
    "succeeded = succeeded + ?5, failed = failed + ?6, retries = retries + ?7, "
    "latency_sum_ms = latency_sum_ms + ?8, latency_count = latency_count + ?9";

static const char SQL_RECENT_ADD[] =
    "INSERT INTO rollups_recent (mode, endpoint_id, bucket_ms, " ROLLUP_COLS ") "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";

static const char SQL_RECENT_COUNT[] = "SELECT count(*) FROM rollups_recent";

/* "WHERE true": an upsert's SELECT needs a WHERE to parse (SQLite "parsing ambiguity"). */
static const char SQL_FOLD[] =
    "INSERT INTO rollups (mode, endpoint_id, bucket_ms, " ROLLUP_COLS ") "
    "SELECT mode, endpoint_id, bucket_ms, sum(total), sum(succeeded), sum(failed), "
    "sum(retries), sum(latency_sum_ms), sum(latency_count) FROM rollups_recent WHERE true "
    "GROUP BY mode, endpoint_id, bucket_ms "
    "ON CONFLICT (mode, endpoint_id, bucket_ms) DO UPDATE SET "
    "total = total + excluded.total, succeeded = succeeded + excluded.succeeded, "
    "failed = failed + excluded.failed, retries = retries + excluded.retries, "
    "latency_sum_ms = latency_sum_ms + excluded.latency_sum_ms, "
    "latency_count = latency_count + excluded.latency_count";

/* The journal's hours, one upsert per (mode, endpoint, hour). */
static const char SQL_FOLD_HOURLY[] =
    "INSERT INTO rollups_hourly (mode, bucket_ms, endpoint_id, " ROLLUP_COLS ") "
    "SELECT mode, bucket_ms - bucket_ms % 3600000 AS hour, endpoint_id, sum(total), "
    "sum(succeeded), sum(failed), sum(retries), sum(latency_sum_ms), sum(latency_count) "
    "FROM rollups_recent WHERE true GROUP BY mode, hour, endpoint_id "
    "ON CONFLICT (mode, bucket_ms, endpoint_id) DO UPDATE SET "
    "total = total + excluded.total, succeeded = succeeded + excluded.succeeded, "
    "failed = failed + excluded.failed, retries = retries + excluded.retries, "
    "latency_sum_ms = latency_sum_ms + excluded.latency_sum_ms, "
    "latency_count = latency_count + excluded.latency_count";

static const char SQL_RECENT_CLEAR[] = "DELETE FROM rollups_recent";

/* Both tables, so a sum is exact before and after a fold. */
#define SUM_PART(table)                                                                            \
    "SELECT " ROLLUP_COLS " FROM " table " WHERE mode = ?1 AND (?2 IS NULL OR endpoint_id = ?2) "  \
    "AND bucket_ms >= ?3 AND bucket_ms < ?4"
static const char SQL_SUM[] =
    "SELECT coalesce(sum(total), 0), coalesce(sum(succeeded), 0), coalesce(sum(failed), 0), "
    "coalesce(sum(retries), 0), coalesce(sum(latency_sum_ms), 0), coalesce(sum(latency_count), 0) "
    "FROM (" SUM_PART("rollups") " UNION ALL " SUM_PART("rollups_recent") ")";

static void bind_delta(sqlite3_stmt *q, const char *mode, const char *endpoint_id,
                       int64_t bucket_ms, const struct store_rollup *delta)
{
    store__bind_text(q, 1, mode);
    store__bind_text(q, 2, endpoint_id);
    sqlite3_bind_int64(q, 3, bucket_ms);
    sqlite3_bind_int64(q, 4, delta->total);
    sqlite3_bind_int64(q, 5, delta->succeeded);
    sqlite3_bind_int64(q, 6, delta->failed);
    sqlite3_bind_int64(q, 7, delta->retries);
    sqlite3_bind_int64(q, 8, delta->latency_sum_ms);
    sqlite3_bind_int64(q, 9, delta->latency_count);
}

void store__rollup_release(struct sqlite_store *s)
{
    store__rollup_set_free(&s->batch_rollups);
    store__rollup_set_free(&s->op_rollups);
}

enum err store__rollup_add(struct sqlite_store *s, const char *mode, const char *endpoint_id,
                           int64_t at_ms, const struct store_rollup *delta, struct err_detail *d)
{
    int64_t bucket = at_ms - at_ms % STORE_ROLLUP_BUCKET_MS;
    if (!s->in_batch) {
        sqlite3_stmt *q = store__prepare(s, SQL_ADD);
        bind_delta(q, mode, endpoint_id, bucket, delta);
        enum err e = store__exec(s, q, d, "update rollups");
        if (e != ERR_OK)
            return e;
        q = store__prepare(s, SQL_ADD_HOURLY);
        bind_delta(q, mode, endpoint_id, bucket, delta);
        return store__exec(s, q, d, "update hourly rollups");
    }
    store__rollup_merge(s->in_op ? &s->op_rollups : &s->batch_rollups, mode, endpoint_id, bucket,
                        delta);
    return ERR_OK;
}

enum err store__rollup_op_end(struct sqlite_store *s, bool ok, struct err_detail *d)
{
    (void)d;
    if (ok)
        store__rollup_merge_set(&s->batch_rollups, &s->op_rollups);
    store__rollup_reset(&s->op_rollups);
    return ERR_OK;
}

/* Fold the journal into rollups once it is long enough (see the file header). */
static enum err maybe_fold(struct sqlite_store *s, struct err_detail *d)
{
    if (s->recent_rows < 0) { /* first batch since open: count what a past run left */
        sqlite3_stmt *q = store__prepare(s, SQL_RECENT_COUNT);
        int rc = sqlite3_step(q);
        s->recent_rows = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
        sqlite3_reset(q);
        if (rc != SQLITE_ROW)
            return store__db_err(s, rc, d, "count recent rollups");
    }
    if (s->recent_rows < STORE__ROLLUP_FOLD_ROWS)
        return ERR_OK;
    enum err e = store__exec(s, store__prepare(s, SQL_FOLD), d, "fold rollups");
    if (e == ERR_OK)
        e = store__exec(s, store__prepare(s, SQL_FOLD_HOURLY), d, "fold hourly rollups");
    if (e == ERR_OK)
        e = store__exec(s, store__prepare(s, SQL_RECENT_CLEAR), d, "clear recent rollups");
    /* XXX: if this batch then fails to commit, the count is low until the next open; the
     * journal just folds later (readers include it either way). */
    if (e == ERR_OK)
        s->recent_rows = 0;
    return e;
}

enum err store__rollup_flush(struct sqlite_store *s, struct err_detail *d)
{
    enum err e = ERR_OK;
    for (int i = 0; i < s->batch_rollups.n && e == ERR_OK; i++) {
        const struct store__rollup_pending *p = &s->batch_rollups.items[i];
        sqlite3_stmt *q = store__prepare(s, SQL_RECENT_ADD);
        bind_delta(q, p->mode, p->endpoint_id, p->bucket_ms, &p->delta);
        e = store__exec(s, q, d, "journal rollups");
    }
    if (e == ERR_OK && s->batch_rollups.n > 0) {
        if (s->recent_rows >= 0)
            s->recent_rows += s->batch_rollups.n;
        e = maybe_fold(s, d);
    }
    store__rollup_reset(&s->batch_rollups);
    return e;
}

enum err sqlite_rollup_sum(struct store *st, const char *mode, const char *endpoint_id,
                           int64_t from_ms, int64_t to_ms, struct store_rollup *out,
                           struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    sqlite3_stmt *q = store__prepare(s, SQL_SUM);
    store__bind_text(q, 1, mode);
    store__bind_text(q, 2, endpoint_id);
    sqlite3_bind_int64(q, 3, from_ms);
    sqlite3_bind_int64(q, 4, to_ms);
    int rc = sqlite3_step(q);
    enum err e = ERR_OK;
    if (rc == SQLITE_ROW) {
        out->total = sqlite3_column_int64(q, 0);
        out->succeeded = sqlite3_column_int64(q, 1);
        out->failed = sqlite3_column_int64(q, 2);
        out->retries = sqlite3_column_int64(q, 3);
        out->latency_sum_ms = sqlite3_column_int64(q, 4);
        out->latency_count = sqlite3_column_int64(q, 5);
    } else {
        e = store__db_err(s, rc, d, "sum rollups");
    }
    sqlite3_reset(q);
    return e;
}

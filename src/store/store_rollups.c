/*
 * store_rollups - per-minute counters per (mode, endpoint) that /v1/metrics
 * and /v1/metrics/timeseries read, maintained in the same transaction as the
 * state change they count, so metrics never scan message rows.
 * See store.h. SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <string.h>

#include "store/sqlite_internal.h"

static const char SQL_ADD[] =
    "INSERT INTO rollups (mode, endpoint_id, bucket_ms, total, succeeded, failed, retries, "
    "latency_sum_ms, latency_count) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
    "ON CONFLICT (mode, endpoint_id, bucket_ms) DO UPDATE SET total = total + ?4, "
    "succeeded = succeeded + ?5, failed = failed + ?6, retries = retries + ?7, "
    "latency_sum_ms = latency_sum_ms + ?8, latency_count = latency_count + ?9";

static const char SQL_SUM[] =
    "SELECT coalesce(sum(total), 0), coalesce(sum(succeeded), 0), coalesce(sum(failed), 0), "
    "coalesce(sum(retries), 0), coalesce(sum(latency_sum_ms), 0), coalesce(sum(latency_count), 0) "
    "FROM rollups WHERE mode = ?1 AND (?2 IS NULL OR endpoint_id = ?2) "
    "AND bucket_ms >= ?3 AND bucket_ms < ?4";

static enum err write_delta(struct store *s, const char *mode, const char *endpoint_id,
                            int64_t bucket_ms, const struct store_rollup *delta,
                            struct err_detail *d)
{
    sqlite3_stmt *q = store__prepare(s, SQL_ADD);
    store__bind_text(q, 1, mode);
    store__bind_text(q, 2, endpoint_id);
    sqlite3_bind_int64(q, 3, bucket_ms);
    sqlite3_bind_int64(q, 4, delta->total);
    sqlite3_bind_int64(q, 5, delta->succeeded);
    sqlite3_bind_int64(q, 6, delta->failed);
    sqlite3_bind_int64(q, 7, delta->retries);
    sqlite3_bind_int64(q, 8, delta->latency_sum_ms);
    sqlite3_bind_int64(q, 9, delta->latency_count);
    return store__exec(s, q, d, "update rollups");
}

static void sum_into(struct store_rollup *to, const struct store_rollup *from)
{
    to->total += from->total;
    to->succeeded += from->succeeded;
    to->failed += from->failed;
    to->retries += from->retries;
    to->latency_sum_ms += from->latency_sum_ms;
    to->latency_count += from->latency_count;
}

/* Merge into list (of n, capacity cap); false when a new entry does not fit. */
static bool merge(struct store__rollup_pending *list, int *n, int cap, const char *mode,
                  const char *endpoint_id, int64_t bucket_ms, const struct store_rollup *delta)
{
    for (int i = 0; i < *n; i++) {
        if (list[i].bucket_ms == bucket_ms && !strcmp(list[i].endpoint_id, endpoint_id) &&
            !strcmp(list[i].mode, mode)) {
            sum_into(&list[i].delta, delta);
            return true;
        }
    }
    if (*n == cap)
        return false;
    struct store__rollup_pending *p = &list[(*n)++];
    snprintf(p->mode, sizeof(p->mode), "%s", mode);
    snprintf(p->endpoint_id, sizeof(p->endpoint_id), "%s", endpoint_id);
    p->bucket_ms = bucket_ms;
    p->delta = *delta;
    return true;
}

enum err store__rollup_add(struct store *s, const char *mode, const char *endpoint_id,
                           int64_t at_ms, const struct store_rollup *delta, struct err_detail *d)
{
    int64_t bucket = at_ms - at_ms % STORE_ROLLUP_BUCKET_MS;
    if (!s->in_batch)
        return write_delta(s, mode, endpoint_id, bucket, delta, d);
    if (s->in_op) {
        if (merge(s->op_rollups, &s->n_op_rollups, 4, mode, endpoint_id, bucket, delta))
            return ERR_OK;
        /* XXX: an op touching more than 4 buckets writes the rest directly (the
         * savepoint still covers them). */
        return write_delta(s, mode, endpoint_id, bucket, delta, d);
    }
    if (merge(s->batch_rollups, &s->n_batch_rollups, STORE__ROLLUP_PENDING_MAX, mode, endpoint_id,
              bucket, delta))
        return ERR_OK;
    return write_delta(s, mode, endpoint_id, bucket, delta, d);
}

enum err store__rollup_op_end(struct store *s, bool ok, struct err_detail *d)
{
    enum err e = ERR_OK;
    for (int i = 0; ok && i < s->n_op_rollups && e == ERR_OK; i++) {
        struct store__rollup_pending *p = &s->op_rollups[i];
        if (!merge(s->batch_rollups, &s->n_batch_rollups, STORE__ROLLUP_PENDING_MAX, p->mode,
                   p->endpoint_id, p->bucket_ms, &p->delta))
            e = write_delta(s, p->mode, p->endpoint_id, p->bucket_ms, &p->delta, d);
    }
    s->n_op_rollups = 0;
    return e;
}

enum err store__rollup_flush(struct store *s, struct err_detail *d)
{
    enum err e = ERR_OK;
    for (int i = 0; i < s->n_batch_rollups && e == ERR_OK; i++) {
        struct store__rollup_pending *p = &s->batch_rollups[i];
        e = write_delta(s, p->mode, p->endpoint_id, p->bucket_ms, &p->delta, d);
    }
    s->n_batch_rollups = 0;
    return e;
}

enum err store_rollup_sum(struct store *s, const char *mode, const char *endpoint_id,
                          int64_t from_ms, int64_t to_ms, struct store_rollup *out,
                          struct err_detail *d)
{
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

/*
 * pg_rollups - per-minute counters per (mode, endpoint) on PostgreSQL, written in
 * the transaction of the state change they count (store_rollups.c's twin).
 *
 * Description: inside a committer batch, deltas are summed in memory per
 * (mode, endpoint, minute) (rollup_set.c), the current op's apart so a
 * rolled-back op drops them. Just before COMMIT the batch's sums are upserted
 * into rollups and, summed per hour, into rollups_hourly: two statements per
 * batch whatever its size (the sums travel as arrays), keys in one order so
 * that nodes sharing the database take the rows' locks in one order.
 * PostgreSQL has no journal (rollups_recent stays empty): rollups and
 * rollups_hourly are exact from the commit that counted. Outside a batch
 * (tests, tools) a delta goes straight into both.
 * Threading: as store.h. SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg/pg_internal.h"

struct pg_rollups {
    struct store__rollup_set batch, op;
};

#define UNNEST                                                                                     \
    "unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], "      \
    "$7::bigint[], $8::bigint[], $9::bigint[]) AS u(mode, endpoint_id, bucket_ms, total, "         \
    "succeeded, failed, retries, latency_sum_ms, latency_count)"
#define ROLLUP_COLS "total, succeeded, failed, retries, latency_sum_ms, latency_count"
#define ADD_EXCLUDED(t)                                                                            \
    "total = " t ".total + excluded.total, succeeded = " t ".succeeded + excluded.succeeded, "     \
    "failed = " t ".failed + excluded.failed, retries = " t ".retries + excluded.retries, "        \
    "latency_sum_ms = " t ".latency_sum_ms + excluded.latency_sum_ms, "                            \
    "latency_count = " t ".latency_count + excluded.latency_count"

/* The arrays hold distinct keys, in order (store__rollup_sort). */
static const char SQL_ADD[] =
    "INSERT INTO rollups (mode, endpoint_id, bucket_ms, " ROLLUP_COLS ") "
    "SELECT mode, endpoint_id, bucket_ms, " ROLLUP_COLS " FROM " UNNEST
    " ON CONFLICT (mode, endpoint_id, bucket_ms) DO UPDATE SET " ADD_EXCLUDED("rollups");

/* Several minutes of one hour are one row: summed first (an upsert may not touch a
 * row twice). */
static const char SQL_ADD_HOURLY[] =
    "INSERT INTO rollups_hourly (mode, bucket_ms, endpoint_id, " ROLLUP_COLS ") "
    "SELECT mode, bucket_ms - bucket_ms % 3600000 AS hour, endpoint_id, sum(total)::bigint, "
    "sum(succeeded)::bigint, sum(failed)::bigint, sum(retries)::bigint, "
    "sum(latency_sum_ms)::bigint, sum(latency_count)::bigint FROM " UNNEST
    " GROUP BY mode, hour, endpoint_id ORDER BY mode, endpoint_id, hour "
    "ON CONFLICT (mode, bucket_ms, endpoint_id) DO UPDATE SET " ADD_EXCLUDED("rollups_hourly");

static const char SQL_SUM[] =
    "SELECT coalesce(sum(total), 0), coalesce(sum(succeeded), 0), coalesce(sum(failed), 0), "
    "coalesce(sum(retries), 0), coalesce(sum(latency_sum_ms), 0), coalesce(sum(latency_count), 0) "
    "FROM rollups WHERE mode = $1 AND ($2::text IS NULL OR endpoint_id = $2) "
    "AND bucket_ms >= $3 AND bucket_ms < $4";

static struct pg_rollups *rollups_of(struct pg_store *s)
{
    if (!s->rollups && !(s->rollups = calloc(1, sizeof(*s->rollups))))
        abort();
    return s->rollups;
}

/* A growing text buffer for one array literal. */
struct buf {
    char *p;
    size_t n, cap;
};

static void put(struct buf *b, const char *v, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        b->cap = 2 * (b->n + n + 1) + 64;
        if (!(b->p = realloc(b->p, b->cap)))
            abort();
    }
    memcpy(b->p + b->n, v, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void put_text_item(struct buf *b, const char *v)
{
    put(b, b->n > 1 ? ",\"" : "\"", b->n > 1 ? 2 : 1);
    for (; *v; v++) {
        if (*v == '"' || *v == '\\')
            put(b, "\\", 1);
        put(b, v, 1);
    }
    put(b, "\"", 1);
}

static void put_int_item(struct buf *b, int64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof(num), "%s%lld", b->n > 1 ? "," : "", (long long)v);
    put(b, num, (size_t)n);
}

/* Upsert set's sums (distinct keys) into rollups and rollups_hourly. */
static enum err write_set(struct pg_store *s, struct store__rollup_set *set, struct err_detail *d)
{
    if (set->n == 0)
        return ERR_OK;
    store__rollup_sort(set);
    struct buf cols[9] = {0};
    for (int c = 0; c < 9; c++)
        put(&cols[c], "{", 1);
    for (int i = 0; i < set->n; i++) {
        const struct store__rollup_pending *p = &set->items[i];
        const struct store_rollup *r = &p->delta;
        put_text_item(&cols[0], p->mode);
        put_text_item(&cols[1], p->endpoint_id);
        int64_t v[] = {p->bucket_ms, r->total,          r->succeeded,    r->failed,
                       r->retries,   r->latency_sum_ms, r->latency_count};
        for (int c = 0; c < 7; c++)
            put_int_item(&cols[2 + c], v[c]);
    }
    for (int c = 0; c < 9; c++)
        put(&cols[c], "}", 1);
    enum err e = ERR_OK;
    const char *const sqls[] = {SQL_ADD, SQL_ADD_HOURLY};
    const char *const whats[] = {"update rollups", "update hourly rollups"};
    for (int k = 0; k < 2 && e == ERR_OK; k++) {
        struct pgq q;
        pgq_init(&q, s, sqls[k]);
        for (int c = 0; c < 9; c++)
            pgq_text(&q, c + 1, cols[c].p);
        e = pgq_run(&q, d, whats[k]);
        pgq_done(&q);
    }
    for (int c = 0; c < 9; c++)
        free(cols[c].p);
    return e;
}

enum err pg__rollup_add(struct pg_store *s, const char *mode, const char *endpoint_id,
                        int64_t at_ms, const struct store_rollup *delta, struct err_detail *d)
{
    int64_t bucket = at_ms - at_ms % STORE_ROLLUP_BUCKET_MS;
    if (!s->in_batch) {
        struct store__rollup_set one = {0};
        store__rollup_merge(&one, mode, endpoint_id, bucket, delta);
        enum err e = write_set(s, &one, d);
        store__rollup_set_free(&one);
        return e;
    }
    struct pg_rollups *r = rollups_of(s);
    store__rollup_merge(s->in_op ? &r->op : &r->batch, mode, endpoint_id, bucket, delta);
    return ERR_OK;
}

void pg__rollups_reset(struct pg_store *s, bool batch_too)
{
    if (!s->rollups)
        return;
    store__rollup_reset(&s->rollups->op);
    if (batch_too)
        store__rollup_reset(&s->rollups->batch);
}

enum err pg__rollups_op_end(struct pg_store *s, bool ok, struct err_detail *d)
{
    (void)d;
    if (!s->rollups)
        return ERR_OK;
    if (ok)
        store__rollup_merge_set(&s->rollups->batch, &s->rollups->op);
    store__rollup_reset(&s->rollups->op);
    return ERR_OK;
}

enum err pg__rollups_flush(struct pg_store *s, struct err_detail *d)
{
    if (!s->rollups)
        return ERR_OK;
    enum err e = write_set(s, &s->rollups->batch, d);
    store__rollup_reset(&s->rollups->batch);
    return e;
}

void pg__rollups_release(struct pg_store *s)
{
    if (!s->rollups)
        return;
    store__rollup_set_free(&s->rollups->batch);
    store__rollup_set_free(&s->rollups->op);
    free(s->rollups);
    s->rollups = NULL;
}

enum err pg_rollup_sum(struct store *st, const char *mode, const char *endpoint_id, int64_t from_ms,
                       int64_t to_ms, struct store_rollup *out, struct err_detail *d)
{
    struct pgq q;
    pgq_init(&q, pg_of(st), SQL_SUM);
    pgq_text(&q, 1, mode);
    pgq_text(&q, 2, endpoint_id);
    pgq_int(&q, 3, from_ms);
    pgq_int(&q, 4, to_ms);
    enum err e = pgq_run(&q, d, "sum rollups");
    if (e == ERR_OK && pgq_next(&q)) {
        out->total = pgq_i64(&q, 0);
        out->succeeded = pgq_i64(&q, 1);
        out->failed = pgq_i64(&q, 2);
        out->retries = pgq_i64(&q, 3);
        out->latency_sum_ms = pgq_i64(&q, 4);
        out->latency_count = pgq_i64(&q, 5);
    }
    pgq_done(&q);
    return e;
}

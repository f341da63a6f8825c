/*
 * pg_keys - API keys on PostgreSQL: insert, the lookup by the SHA-256 of the
 * secret, counts, get by id, list, soft delete and the last_used_at touch.
 *
 * Description: the twin of sqlite/store_keys.c and the "API keys" section of
 * sqlite/store_sqlite.c. Only the SHA-256 of a secret is stored (BYTEA). A
 * deleted key keeps its row (deleted_at set) and no longer authenticates.
 * An insert that would break a unique key (id or key_sha256) inserts nothing
 * (ON CONFLICT DO NOTHING) and answers ERR_CONFLICT, so it never aborts the
 * batch's transaction.
 * Threading and errors: as store.h. SPDX-License-Identifier: MIT
 */
#include "store/pg/pg_internal.h"

#define KEY_COLS "id, mode, prefix, label, created_at, last_used_at"

static const char SQL_INSERT[] =
    "INSERT INTO api_keys (id, mode, prefix, label, key_sha256, created_at) "
    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING";

static const char SQL_FIND[] =
    "SELECT " KEY_COLS " FROM api_keys WHERE key_sha256 = $1 AND deleted_at IS NULL";

static const char SQL_COUNT_ALL[] = "SELECT count(*) FROM api_keys WHERE deleted_at IS NULL";

static const char SQL_GET[] =
    "SELECT " KEY_COLS " FROM api_keys WHERE id = $1 AND deleted_at IS NULL";

static const char SQL_LIST[] = "SELECT " KEY_COLS " FROM api_keys "
                               "WHERE deleted_at IS NULL AND ($1::ctext IS NULL OR mode = $1) "
                               "ORDER BY created_at, id LIMIT $2";

static const char SQL_COUNT[] = "SELECT count(*) FROM api_keys WHERE deleted_at IS NULL "
                                "AND ($1::ctext IS NULL OR mode = $1)";

static const char SQL_DELETE[] =
    "UPDATE api_keys SET deleted_at = $2 WHERE id = $1 AND deleted_at IS NULL";

static const char SQL_TOUCH[] = "UPDATE api_keys SET last_used_at = $2 "
                                "WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)";

static void read_key(const struct pgq *q, struct store_api_key *out)
{
    pgq_copy(out->id, sizeof(out->id), q, 0);
    pgq_copy(out->mode, sizeof(out->mode), q, 1);
    pgq_copy(out->prefix, sizeof(out->prefix), q, 2);
    pgq_copy(out->label, sizeof(out->label), q, 3);
    out->created_at_ms = pgq_i64(q, 4);
    out->last_used_at_ms = pgq_opt_i64(q, 5, 0);
}

enum err pg_api_key_insert(struct store *st, const struct store_api_key *k,
                           const uint8_t key_sha256[32], struct err_detail *d)
{
    struct pgq q;
    pgq_init(&q, pg_of(st), SQL_INSERT);
    pgq_text(&q, 1, k->id);
    pgq_text(&q, 2, k->mode);
    pgq_text(&q, 3, k->prefix);
    pgq_text(&q, 4, k->label[0] ? k->label : NULL);
    pgq_blob(&q, 5, key_sha256, 32);
    pgq_int(&q, 6, k->created_at_ms);
    enum err e = pgq_run(&q, d, "insert api key");
    if (e == ERR_CONFLICT || (e == ERR_OK && pgq_changes(&q) == 0))
        e = err_set(d, ERR_CONFLICT, "INVALID_REQUEST", "api key already exists");
    pgq_done(&q);
    return e;
}

/* Run q (its parameters bound) and read its one key into out; ERR_NOTFOUND
 * (with no detail: the caller's) when there is none. */
static enum err get_one(struct pgq *q, struct store_api_key *out, struct err_detail *d,
                        const char *what)
{
    enum err e = pgq_run(q, d, what);
    if (e == ERR_OK && pgq_next(q))
        read_key(q, out);
    else if (e == ERR_OK)
        e = ERR_NOTFOUND;
    pgq_done(q);
    return e;
}

enum err pg_api_key_find(struct store *st, const uint8_t key_sha256[32], struct store_api_key *out,
                         struct err_detail *d)
{
    struct pgq q;
    pgq_init(&q, pg_of(st), SQL_FIND);
    pgq_blob(&q, 1, key_sha256, 32);
    enum err e = get_one(&q, out, d, "look up api key");
    if (e == ERR_NOTFOUND)
        err_set(d, ERR_NOTFOUND, "UNAUTHORIZED", "unknown api key");
    return e;
}

/* The count of sql's first column (mode bound to $1 when sql has it). */
static enum err count(struct pg_store *s, const char *sql, const char *mode, bool bind_mode,
                      int64_t *out, struct err_detail *d)
{
    struct pgq q;
    pgq_init(&q, s, sql);
    if (bind_mode)
        pgq_text(&q, 1, mode);
    *out = 0;
    enum err e = pgq_run(&q, d, "count api keys");
    if (e == ERR_OK && pgq_next(&q))
        *out = pgq_i64(&q, 0);
    pgq_done(&q);
    return e;
}

enum err pg_api_key_count(struct store *st, int64_t *out, struct err_detail *d)
{
    return count(pg_of(st), SQL_COUNT_ALL, NULL, false, out, d);
}

enum err pg_api_key_get(struct store *st, const char *id, struct store_api_key *out,
                        struct err_detail *d)
{
    struct pgq q;
    pgq_init(&q, pg_of(st), SQL_GET);
    pgq_text(&q, 1, id);
    enum err e = get_one(&q, out, d, "read api key");
    if (e == ERR_NOTFOUND)
        err_set(d, ERR_NOTFOUND, "NOT_FOUND", "api key '%s' not found", id);
    return e;
}

enum err pg_api_key_list(struct store *st, const char *mode, struct store_api_key *out, int max,
                         int *n, struct err_detail *d)
{
    struct pgq q;
    pgq_init(&q, pg_of(st), SQL_LIST);
    pgq_text(&q, 1, mode);
    pgq_int(&q, 2, max);
    *n = 0;
    enum err e = pgq_run(&q, d, "list api keys");
    while (e == ERR_OK && *n < max && pgq_next(&q))
        read_key(&q, &out[(*n)++]);
    pgq_done(&q);
    return e;
}

enum err pg_api_key_count_mode(struct store *st, const char *mode, int64_t *out,
                               struct err_detail *d)
{
    return count(pg_of(st), SQL_COUNT, mode, true, out, d);
}

enum err pg_api_key_delete(struct store *st, const char *id, int64_t now_ms, struct err_detail *d)
{
    struct pgq q;
    pgq_init(&q, pg_of(st), SQL_DELETE);
    pgq_text(&q, 1, id);
    pgq_int(&q, 2, now_ms);
    enum err e = pgq_run(&q, d, "delete api key");
    if (e == ERR_OK && pgq_changes(&q) == 0)
        e = err_set(d, ERR_NOTFOUND, "NOT_FOUND", "api key '%s' not found", id);
    pgq_done(&q);
    return e;
}

enum err pg_api_key_touch(struct store *st, const char *id, int64_t now_ms, struct err_detail *d)
{
    struct pgq q;
    pgq_init(&q, pg_of(st), SQL_TOUCH);
    pgq_text(&q, 1, id);
    pgq_int(&q, 2, now_ms);
    enum err e = pgq_run(&q, d, "touch api key");
    pgq_done(&q);
    return e;
}

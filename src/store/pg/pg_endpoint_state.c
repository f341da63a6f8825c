/*
 * pg_endpoint_state - endpoint pause state and signing-key rotation in the
 * PostgreSQL store (store.h "endpoint state and signing keys"); the SQLite twin
 * is sqlite/store_endpoint_state.c, whose description holds here too: the
 * writes run in the committer's transaction, a retired key's secret is
 * overwritten with "", a rotated-away key stops being active at its expires_at
 * without a write. Keys created in the same millisecond order by id (SQLite:
 * by rowid).
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <string.h>

#include "store/pg/pg_internal.h"

static const char SQL_SET_PAUSED[] =
    "UPDATE endpoints SET paused = $3, "
    "updated_at = CASE WHEN paused <> $3 THEN $4 ELSE updated_at END "
    "WHERE id = $1 AND mode = $2 AND deleted_at IS NULL";

/* The endpoint's part of messages_backlog: the unfinished messages. */
static const char SQL_COUNT_UNFINISHED[] =
    "SELECT count(*) FROM messages WHERE endpoint_id = $1 AND mode = $2 AND status <> 2 "
    "AND status <> 4 AND status <> 5 AND status <> 6 AND deleted_at IS NULL";

static const char SQL_EP_LIVE[] =
    "SELECT 1 FROM endpoints WHERE id = $1 AND mode = $2 AND deleted_at IS NULL";

/* Keys active at $3: how many, whether $2 is one of them, and how many others
 * never expire. */
static const char SQL_SK_COUNT[] =
    "SELECT count(*), count(*) FILTER (WHERE id = $2), "
    "count(*) FILTER (WHERE id <> $2 AND expires_at IS NULL) "
    "FROM signing_keys WHERE endpoint_id = $1 AND deleted_at IS NULL "
    "AND (expires_at IS NULL OR expires_at > $3)";

/* One row per key active at $3; a live endpoint without keys gives one row of
 * NULLs, an unknown one no row. */
static const char SQL_SK_LIST[] =
    "SELECT k.id, k.secret, k.created_at FROM endpoints e "
    "LEFT JOIN signing_keys k ON k.endpoint_id = e.id AND k.deleted_at IS NULL "
    "AND (k.expires_at IS NULL OR k.expires_at > $3) "
    "WHERE e.id = $1 AND e.mode = $2 AND e.deleted_at IS NULL "
    "ORDER BY k.created_at, k.id";

static const char SQL_SK_RETIRE[] = "UPDATE signing_keys SET deleted_at = $3, secret = '' "
                                    "WHERE id = $2 AND endpoint_id = $1 AND deleted_at IS NULL";

/* Rotation, at $2: the newest key not expired (the one that keeps signing for a
 * while), then every other unretired key is retired, then the newest gets its
 * expiry. */
static const char SQL_SK_NEWEST[] =
    "SELECT id FROM signing_keys WHERE endpoint_id = $1 AND deleted_at IS NULL "
    "AND (expires_at IS NULL OR expires_at > $2) ORDER BY created_at DESC, id DESC LIMIT 1";

static const char SQL_SK_RETIRE_OTHERS[] =
    "UPDATE signing_keys SET deleted_at = $2, secret = '' "
    "WHERE endpoint_id = $1 AND deleted_at IS NULL AND id <> $3";

static const char SQL_SK_EXPIRE[] =
    "UPDATE signing_keys SET expires_at = LEAST(coalesce(expires_at, $2), $2) WHERE id = $1";

static enum err endpoint_not_found(struct err_detail *d, const char *id)
{
    return err_set(d, ERR_NOTFOUND, "ENDPOINT_NOT_FOUND", "endpoint '%s' not found", id);
}

/* Run q, which only writes; ERR_OK or its error. */
static enum err run_done(struct pgq *q, struct err_detail *d, const char *what)
{
    enum err e = pgq_run(q, d, what);
    pgq_done(q);
    return e;
}

/* ERR_OK when id is a live endpoint of mode, else ERR_NOTFOUND or a store error. */
static enum err check_endpoint(struct pg_store *s, const char *mode, const char *id,
                               struct err_detail *d)
{
    struct pgq q;
    pgq_init(&q, s, SQL_EP_LIVE);
    pgq_text(&q, 1, id);
    pgq_text(&q, 2, mode);
    enum err e = pgq_run(&q, d, "read endpoint");
    if (e == ERR_OK && !pgq_next(&q))
        e = endpoint_not_found(d, id);
    pgq_done(&q);
    return e;
}

/* Count the keys of endpoint_id active at now_ms into *active; *has_key says
 * key_id is one; *others_lasting counts the other ones that never expire. */
static enum err count_keys(struct pg_store *s, const char *endpoint_id, const char *key_id,
                           int64_t now_ms, int64_t *active, bool *has_key, int64_t *others_lasting,
                           struct err_detail *d)
{
    struct pgq q;
    pgq_init(&q, s, SQL_SK_COUNT);
    pgq_text(&q, 1, endpoint_id);
    pgq_text(&q, 2, key_id ? key_id : "");
    pgq_int(&q, 3, now_ms);
    enum err e = pgq_run(&q, d, "count signing keys");
    if (e == ERR_OK && pgq_next(&q)) {
        *active = pgq_i64(&q, 0);
        *has_key = pgq_i64(&q, 1) > 0;
        *others_lasting = pgq_i64(&q, 2);
    }
    pgq_done(&q);
    return e;
}

enum err pg_endpoint_set_paused(struct store *st, const char *mode, const char *id, bool paused,
                                int64_t now_ms, int64_t *unfinished, struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    struct pgq q;
    pgq_init(&q, s, SQL_SET_PAUSED);
    pgq_text(&q, 1, id);
    pgq_text(&q, 2, mode);
    pgq_int(&q, 3, paused);
    pgq_int(&q, 4, now_ms);
    enum err e = pgq_run(&q, d, "set endpoint paused");
    if (e == ERR_OK && pgq_changes(&q) == 0)
        e = endpoint_not_found(d, id);
    pgq_done(&q);
    if (e != ERR_OK)
        return e;
    if (pg__feed(s)) /* pause holds its due messages; resume releases them */
        feed_push_endpoint_changed(pg__feed(s), id);
    if (!unfinished)
        return ERR_OK;
    pgq_init(&q, s, SQL_COUNT_UNFINISHED);
    pgq_text(&q, 1, id);
    pgq_text(&q, 2, mode);
    e = pgq_run(&q, d, "count unfinished messages");
    if (e == ERR_OK && pgq_next(&q))
        *unfinished = pgq_i64(&q, 0);
    pgq_done(&q);
    return e;
}

enum err pg_signing_key_add(struct store *st, const char *mode, const char *endpoint_id,
                            const struct store_signing_key *k, struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    enum err e = check_endpoint(s, mode, endpoint_id, d);
    if (e != ERR_OK)
        return e;
    int64_t active = 0, unused_n;
    bool unused;
    if ((e = count_keys(s, endpoint_id, NULL, k->created_at_ms, &active, &unused, &unused_n, d)) !=
        ERR_OK)
        return e;
    if (active >= STORE_MAX_ACTIVE_KEYS)
        return err_set(d, ERR_CONFLICT, "SIGNING_KEY_LIMIT",
                       "endpoint '%s' already has %d active signing keys; delete one first",
                       endpoint_id, STORE_MAX_ACTIVE_KEYS);
    if ((e = pg__signing_key_insert(s, endpoint_id, k, d)) != ERR_OK)
        return e;
    if (pg__feed(s)) /* the next attempt signs with the new key too */
        feed_push_endpoint_changed(pg__feed(s), endpoint_id);
    return ERR_OK;
}

enum err pg_signing_key_rotate(struct store *st, const char *mode, const char *endpoint_id,
                               const struct store_signing_key *k, int64_t overlap_ms,
                               struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    int64_t now = k->created_at_ms;
    enum err e = check_endpoint(s, mode, endpoint_id, d);
    if (e != ERR_OK)
        return e;
    char keep[ID_MAX] = ""; /* the newest active key, which overlaps with k */
    struct pgq q;
    pgq_init(&q, s, SQL_SK_NEWEST);
    pgq_text(&q, 1, endpoint_id);
    pgq_int(&q, 2, now);
    e = pgq_run(&q, d, "find the newest signing key");
    if (e == ERR_OK && pgq_next(&q) && overlap_ms > 0)
        pgq_copy(keep, sizeof(keep), &q, 0);
    pgq_done(&q);
    if (e != ERR_OK)
        return e;
    pgq_init(&q, s, SQL_SK_RETIRE_OTHERS);
    pgq_text(&q, 1, endpoint_id);
    pgq_int(&q, 2, now);
    pgq_text(&q, 3, keep);
    if ((e = run_done(&q, d, "retire signing keys")) != ERR_OK)
        return e;
    if (keep[0]) {
        pgq_init(&q, s, SQL_SK_EXPIRE);
        pgq_text(&q, 1, keep);
        pgq_int(&q, 2, now + overlap_ms);
        if ((e = run_done(&q, d, "set signing key expiry")) != ERR_OK)
            return e;
    }
    if ((e = pg__signing_key_insert(s, endpoint_id, k, d)) != ERR_OK)
        return e;
    if (pg__feed(s)) /* the next attempt signs with the new key set */
        feed_push_endpoint_changed(pg__feed(s), endpoint_id);
    return ERR_OK;
}

enum err pg_signing_key_list(struct store *st, const char *mode, const char *endpoint_id,
                             int64_t now_ms, struct store_signing_key_info *out, int max, int *n,
                             struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    struct pgq q;
    pgq_init(&q, s, SQL_SK_LIST);
    pgq_text(&q, 1, endpoint_id);
    pgq_text(&q, 2, mode);
    pgq_int(&q, 3, now_ms);
    *n = 0;
    enum err e = pgq_run(&q, d, "list signing keys");
    bool found = e == ERR_OK && pgq_rows(&q) > 0;
    while (e == ERR_OK && pgq_next(&q)) {
        if (pgq_isnull(&q, 0))
            continue; /* a live endpoint without active keys */
        if (*n == max)
            continue; /* cannot happen while the limit holds; keep the oldest */
        struct store_signing_key_info *k = &out[(*n)++];
        pgq_copy(k->id, sizeof(k->id), &q, 0);
        char secret[ID_MAX];
        e = store__unseal_box(s->box, "signing_keys.secret", k->id, pgq_str(&q, 1), secret,
                              sizeof(secret), d);
        size_t len = e == ERR_OK ? strlen(secret) : 0;
        snprintf(k->key_hint, sizeof(k->key_hint), "%s", e == ERR_OK ? secret + (len > 4 ? len - 4 : 0) : "");
        explicit_bzero(secret, sizeof(secret));
        k->created_at_ms = pgq_i64(&q, 2);
    }
    pgq_done(&q);
    if (e != ERR_OK) {
        *n = 0;
        return e;
    }
    if (!found)
        return endpoint_not_found(d, endpoint_id);
    return ERR_OK;
}

enum err pg_signing_key_delete(struct store *st, const char *mode, const char *endpoint_id,
                               const char *key_id, int64_t now_ms, struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    enum err e = check_endpoint(s, mode, endpoint_id, d);
    if (e != ERR_OK)
        return e;
    int64_t active = 0, others_lasting = 0;
    bool has_key = false;
    if ((e = count_keys(s, endpoint_id, key_id, now_ms, &active, &has_key, &others_lasting, d)) !=
        ERR_OK)
        return e;
    if (!has_key)
        return err_set(d, ERR_NOTFOUND, "SIGNING_KEY_NOT_FOUND",
                       "signing key '%s' not found on endpoint '%s'", key_id, endpoint_id);
    if (others_lasting == 0) /* what is left would stop signing, now or when it expires */
        return err_set(d, ERR_CONFLICT, "LAST_SIGNING_KEY",
                       "signing key '%s' is the endpoint's only active key that does not "
                       "expire; create another one before deleting it",
                       key_id);
    struct pgq q;
    pgq_init(&q, s, SQL_SK_RETIRE);
    pgq_text(&q, 1, endpoint_id);
    pgq_text(&q, 2, key_id);
    pgq_int(&q, 3, now_ms);
    e = run_done(&q, d, "retire signing key");
    if (e == ERR_OK && pg__feed(s))
        feed_push_endpoint_changed(pg__feed(s), endpoint_id);
    return e;
}

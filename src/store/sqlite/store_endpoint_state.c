/*
 * store_endpoint_state - endpoint pause state and signing-key rotation
 * (API.md §3.6): set the paused flag, add, list, rotate and retire signing
 * keys.
 *
 * Description: the writes run on the committer's connection inside its batch
 * transaction, so the "at most two active keys" and "never the last key"
 * checks and the change they guard are atomic with respect to every other
 * write. Secrets are sealed on write and opened on read (store_secrets.c);
 * listing opens each active secret only to show its last four characters
 * (key_hint). A retired key's secret is overwritten with "" in its row; the
 * old bytes SQLite may keep in free space are ciphertext.
 * A key rotated away (store_signing_key_rotate) gets an expires_at and stops
 * being active then, without a write: every query here and the dispatcher's
 * store_signing_keys_active compare it with the time they are given. Its row
 * is retired (secret erased) by the endpoint's next rotation.
 * XXX: an expired key's sealed secret stays in its row until then; the
 * janitor could retire expired keys on its rounds.
 * See store.h. SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <string.h>

#include "store/sqlite/sqlite_internal.h"

static const char SQL_SET_PAUSED[] =
    "UPDATE endpoints SET paused = ?3, "
    "updated_at = CASE WHEN paused != ?3 THEN ?4 ELSE updated_at END "
    "WHERE id = ?1 AND mode = ?2 AND deleted_at IS NULL";

/* The endpoint's part of messages_backlog: the unfinished messages, whose
 * WHERE terms the query repeats so SQLite uses that partial index. */
static const char SQL_COUNT_UNFINISHED[] =
    "SELECT count(*) FROM messages INDEXED BY messages_backlog WHERE endpoint_id = ?1 "
    "AND mode = ?2 AND status <> 2 "
    "AND status <> 4 AND status <> 5 AND status <> 6 AND deleted_at IS NULL";

static const char SQL_EP_LIVE[] =
    "SELECT 1 FROM endpoints WHERE id = ?1 AND mode = ?2 AND deleted_at IS NULL";

/* Keys active at ?3: how many, whether ?2 is one of them, and how many others
 * never expire. */
static const char SQL_SK_COUNT[] =
    "SELECT count(*), coalesce(sum(id = ?2), 0), coalesce(sum(id <> ?2 AND expires_at IS NULL), 0) "
    "FROM signing_keys WHERE endpoint_id = ?1 AND deleted_at IS NULL "
    "AND (expires_at IS NULL OR expires_at > ?3)";

static const char SQL_SK_INSERT[] =
    "INSERT INTO signing_keys (id, endpoint_id, secret, created_at) "
    "VALUES (?1, ?2, ?3, ?4)";

/* One row per key active at ?3; a live endpoint without keys gives one row of
 * NULLs, an unknown one no row. rowid breaks created_at ties in insertion order. */
static const char SQL_SK_LIST[] =
    "SELECT k.id, k.secret, k.created_at FROM endpoints e "
    "LEFT JOIN signing_keys k ON k.endpoint_id = e.id AND k.deleted_at IS NULL "
    "AND (k.expires_at IS NULL OR k.expires_at > ?3) "
    "WHERE e.id = ?1 AND e.mode = ?2 AND e.deleted_at IS NULL "
    "ORDER BY k.created_at, k.rowid";

static const char SQL_SK_RETIRE[] = "UPDATE signing_keys SET deleted_at = ?3, secret = '' "
                                    "WHERE id = ?2 AND endpoint_id = ?1 AND deleted_at IS NULL";

/* Rotation, at ?2: the newest key not expired (the one that keeps signing for a
 * while), then every other unretired key is retired (expired ones, and the
 * older of two active ones), then the newest gets its expiry. */
static const char SQL_SK_NEWEST[] =
    "SELECT id FROM signing_keys WHERE endpoint_id = ?1 AND deleted_at IS NULL "
    "AND (expires_at IS NULL OR expires_at > ?2) ORDER BY created_at DESC, rowid DESC LIMIT 1";

static const char SQL_SK_RETIRE_OTHERS[] =
    "UPDATE signing_keys SET deleted_at = ?2, secret = '' "
    "WHERE endpoint_id = ?1 AND deleted_at IS NULL AND id <> ?3";

static const char SQL_SK_EXPIRE[] =
    "UPDATE signing_keys SET expires_at = min(coalesce(expires_at, ?2), ?2) WHERE id = ?1";

static enum err endpoint_not_found(struct err_detail *d, const char *id)
{
    return err_set(d, ERR_NOTFOUND, "ENDPOINT_NOT_FOUND", "endpoint '%s' not found", id);
}

/* ERR_OK when id is a live endpoint of mode, else ERR_NOTFOUND or a store error. */
static enum err check_endpoint(struct sqlite_store *s, const char *mode, const char *id,
                               struct err_detail *d)
{
    sqlite3_stmt *q = store__prepare(s, SQL_EP_LIVE);
    store__bind_text(q, 1, id);
    store__bind_text(q, 2, mode);
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    if (rc == SQLITE_ROW)
        return ERR_OK;
    if (rc == SQLITE_DONE)
        return endpoint_not_found(d, id);
    return store__db_err(s, rc, d, "read endpoint");
}

/* Count the keys of endpoint_id active at now_ms into *active; *has_key says
 * key_id is one; *others_lasting counts the other ones that never expire. */
static enum err count_keys(struct sqlite_store *s, const char *endpoint_id, const char *key_id,
                           int64_t now_ms, int64_t *active, bool *has_key, int64_t *others_lasting,
                           struct err_detail *d)
{
    sqlite3_stmt *q = store__prepare(s, SQL_SK_COUNT);
    store__bind_text(q, 1, endpoint_id);
    store__bind_text(q, 2, key_id ? key_id : "");
    sqlite3_bind_int64(q, 3, now_ms);
    int rc = sqlite3_step(q);
    enum err e = ERR_OK;
    if (rc == SQLITE_ROW) {
        *active = sqlite3_column_int64(q, 0);
        *has_key = sqlite3_column_int64(q, 1) > 0;
        *others_lasting = sqlite3_column_int64(q, 2);
    } else {
        e = store__db_err(s, rc, d, "count signing keys");
    }
    sqlite3_reset(q);
    return e;
}

/* Insert k (sealed) as an active key of endpoint_id, without expiry. */
static enum err insert_key(struct sqlite_store *s, const char *endpoint_id,
                           const struct store_signing_key *k, struct err_detail *d)
{
    char sealed[STORE__SEALED_MAX];
    enum err e = store__seal(s, "signing_keys.secret", k->id, k->secret, sealed, sizeof(sealed), d);
    if (e != ERR_OK)
        return e;
    sqlite3_stmt *q = store__prepare(s, SQL_SK_INSERT);
    store__bind_text(q, 1, k->id);
    store__bind_text(q, 2, endpoint_id);
    store__bind_text(q, 3, sealed);
    sqlite3_bind_int64(q, 4, k->created_at_ms);
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    if (rc == SQLITE_CONSTRAINT)
        return err_set(d, ERR_CONFLICT, "INVALID_REQUEST", "signing key id already exists");
    if (rc != SQLITE_DONE)
        return store__db_err(s, rc, d, "insert signing key");
    return ERR_OK;
}

enum err sqlite_endpoint_set_paused(struct store *st, const char *mode, const char *id, bool paused,
                                    int64_t now_ms, int64_t *unfinished, struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    sqlite3_stmt *q = store__prepare(s, SQL_SET_PAUSED);
    store__bind_text(q, 1, id);
    store__bind_text(q, 2, mode);
    sqlite3_bind_int(q, 3, paused);
    sqlite3_bind_int64(q, 4, now_ms);
    enum err e = store__exec(s, q, d, "set endpoint paused");
    if (e != ERR_OK)
        return e;
    if (sqlite3_changes(s->db) == 0)
        return endpoint_not_found(d, id);
    if (store__feed(s)) /* pause holds its due messages; resume releases them */
        feed_push_endpoint_changed(store__feed(s), id);
    if (!unfinished)
        return ERR_OK;
    q = store__prepare(s, SQL_COUNT_UNFINISHED);
    store__bind_text(q, 1, id);
    store__bind_text(q, 2, mode);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *unfinished = sqlite3_column_int64(q, 0);
    else
        e = store__db_err(s, rc, d, "count unfinished messages");
    sqlite3_reset(q);
    return e;
}

enum err sqlite_signing_key_add(struct store *st, const char *mode, const char *endpoint_id,
                                const struct store_signing_key *k, struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
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
    if ((e = insert_key(s, endpoint_id, k, d)) != ERR_OK)
        return e;
    if (store__feed(s)) /* the next attempt signs with the new key too */
        feed_push_endpoint_changed(store__feed(s), endpoint_id);
    return ERR_OK;
}

enum err sqlite_signing_key_rotate(struct store *st, const char *mode, const char *endpoint_id,
                                   const struct store_signing_key *k, int64_t overlap_ms,
                                   struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    int64_t now = k->created_at_ms;
    enum err e = check_endpoint(s, mode, endpoint_id, d);
    if (e != ERR_OK)
        return e;
    char keep[ID_MAX] = ""; /* the newest active key, which overlaps with k */
    sqlite3_stmt *q = store__prepare(s, SQL_SK_NEWEST);
    store__bind_text(q, 1, endpoint_id);
    sqlite3_bind_int64(q, 2, now);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW && overlap_ms > 0)
        store__col_copy(keep, sizeof(keep), q, 0);
    sqlite3_reset(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store__db_err(s, rc, d, "find the newest signing key");
    q = store__prepare(s, SQL_SK_RETIRE_OTHERS);
    store__bind_text(q, 1, endpoint_id);
    sqlite3_bind_int64(q, 2, now);
    store__bind_text(q, 3, keep);
    if ((e = store__exec(s, q, d, "retire signing keys")) != ERR_OK)
        return e;
    if (keep[0]) {
        q = store__prepare(s, SQL_SK_EXPIRE);
        store__bind_text(q, 1, keep);
        sqlite3_bind_int64(q, 2, now + overlap_ms);
        if ((e = store__exec(s, q, d, "set signing key expiry")) != ERR_OK)
            return e;
    }
    if ((e = insert_key(s, endpoint_id, k, d)) != ERR_OK)
        return e;
    if (store__feed(s)) /* the next attempt signs with the new key set */
        feed_push_endpoint_changed(store__feed(s), endpoint_id);
    return ERR_OK;
}

enum err sqlite_signing_key_list(struct store *st, const char *mode, const char *endpoint_id,
                                 int64_t now_ms, struct store_signing_key_info *out, int max,
                                 int *n, struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    sqlite3_stmt *q = store__prepare(s, SQL_SK_LIST);
    store__bind_text(q, 1, endpoint_id);
    store__bind_text(q, 2, mode);
    sqlite3_bind_int64(q, 3, now_ms);
    bool found = false;
    enum err e = ERR_OK;
    int rc;
    *n = 0;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        found = true;
        if (sqlite3_column_type(q, 0) == SQLITE_NULL)
            continue; /* a live endpoint without active keys */
        if (*n == max)
            continue; /* cannot happen while the limit holds; keep the oldest */
        struct store_signing_key_info *k = &out[(*n)++];
        store__col_copy(k->id, sizeof(k->id), q, 0);
        char secret[ID_MAX];
        e = store__unseal(s, "signing_keys.secret", k->id, (const char *)sqlite3_column_text(q, 1),
                          secret, sizeof(secret), d);
        size_t len = strlen(secret);
        snprintf(k->key_hint, sizeof(k->key_hint), "%s", secret + (len > 4 ? len - 4 : 0));
        explicit_bzero(secret, sizeof(secret));
        k->created_at_ms = sqlite3_column_int64(q, 2);
        if (e != ERR_OK)
            break;
    }
    sqlite3_reset(q);
    if (e != ERR_OK) {
        *n = 0;
        return e;
    }
    if (rc != SQLITE_DONE) {
        *n = 0;
        return store__db_err(s, rc, d, "list signing keys");
    }
    if (!found)
        return endpoint_not_found(d, endpoint_id);
    return ERR_OK;
}

enum err sqlite_signing_key_delete(struct store *st, const char *mode, const char *endpoint_id,
                                   const char *key_id, int64_t now_ms, struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
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
    sqlite3_stmt *q = store__prepare(s, SQL_SK_RETIRE);
    store__bind_text(q, 1, endpoint_id);
    store__bind_text(q, 2, key_id);
    sqlite3_bind_int64(q, 3, now_ms);
    e = store__exec(s, q, d, "retire signing key");
    if (e == ERR_OK && store__feed(s))
        feed_push_endpoint_changed(store__feed(s), endpoint_id);
    return e;
}

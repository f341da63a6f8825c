/*
 * store_keys - API keys beyond the core lookup of store_sqlite.c: get by id,
 * list, count per mode, soft delete and the last_used_at touch.
 *
 * Description: keys are store-wide objects; the mode filter is the caller's
 * policy (a test key sees only test keys). Only the SHA-256 of a secret is
 * ever stored, so nothing here can reveal a key. A deleted key keeps its row
 * (deleted_at set) and no longer authenticates (store_api_key_find).
 * Threading and errors: as store.h. See store.h. SPDX-License-Identifier: MIT
 */
#include "store/sqlite/sqlite_internal.h"

#define KEY_COLS "id, mode, prefix, label, created_at, last_used_at"

static const char SQL_GET[] =
    "SELECT " KEY_COLS " FROM api_keys WHERE id = ?1 AND deleted_at IS NULL";

static const char SQL_LIST[] = "SELECT " KEY_COLS " FROM api_keys "
                               "WHERE deleted_at IS NULL AND (?1 IS NULL OR mode = ?1) "
                               "ORDER BY created_at, id LIMIT ?2";

static const char SQL_COUNT[] =
    "SELECT count(*) FROM api_keys WHERE deleted_at IS NULL AND (?1 IS NULL OR mode = ?1)";

static const char SQL_DELETE[] =
    "UPDATE api_keys SET deleted_at = ?2 WHERE id = ?1 AND deleted_at IS NULL";

static const char SQL_TOUCH[] = "UPDATE api_keys SET last_used_at = ?2 "
                                "WHERE id = ?1 AND (last_used_at IS NULL OR last_used_at < ?2)";

static void read_key(sqlite3_stmt *q, struct store_api_key *out)
{
    store__col_copy(out->id, sizeof(out->id), q, 0);
    store__col_copy(out->mode, sizeof(out->mode), q, 1);
    store__col_copy(out->prefix, sizeof(out->prefix), q, 2);
    store__col_copy(out->label, sizeof(out->label), q, 3);
    out->created_at_ms = sqlite3_column_int64(q, 4);
    out->last_used_at_ms = store__col_opt_int(q, 5, 0);
}

enum err sqlite_api_key_get(struct store *st, const char *id, struct store_api_key *out,
                            struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    sqlite3_stmt *q = store__prepare(s, SQL_GET);
    store__bind_text(q, 1, id);
    int rc = sqlite3_step(q);
    enum err e = ERR_OK;
    if (rc == SQLITE_ROW)
        read_key(q, out);
    else if (rc == SQLITE_DONE)
        e = err_set(d, ERR_NOTFOUND, "NOT_FOUND", "api key '%s' not found", id);
    else
        e = store__db_err(s, rc, d, "read api key");
    sqlite3_reset(q);
    return e;
}

enum err sqlite_api_key_list(struct store *st, const char *mode, struct store_api_key *out, int max,
                             int *n, struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    sqlite3_stmt *q = store__prepare(s, SQL_LIST);
    store__bind_text(q, 1, mode);
    sqlite3_bind_int(q, 2, max);
    *n = 0;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW && *n < max) {
        read_key(q, &out[*n]);
        (*n)++;
    }
    sqlite3_reset(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store__db_err(s, rc, d, "list api keys");
    return ERR_OK;
}

enum err sqlite_api_key_count_mode(struct store *st, const char *mode, int64_t *out,
                                   struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    sqlite3_stmt *q = store__prepare(s, SQL_COUNT);
    store__bind_text(q, 1, mode);
    int rc = sqlite3_step(q);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
    sqlite3_reset(q);
    return rc == SQLITE_ROW ? ERR_OK : store__db_err(s, rc, d, "count api keys");
}

enum err sqlite_api_key_delete(struct store *st, const char *id, int64_t now_ms,
                               struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    sqlite3_stmt *q = store__prepare(s, SQL_DELETE);
    store__bind_text(q, 1, id);
    sqlite3_bind_int64(q, 2, now_ms);
    enum err e = store__exec(s, q, d, "delete api key");
    if (e == ERR_OK && sqlite3_changes(s->db) == 0)
        e = err_set(d, ERR_NOTFOUND, "NOT_FOUND", "api key '%s' not found", id);
    return e;
}

enum err sqlite_api_key_touch(struct store *st, const char *id, int64_t now_ms,
                              struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    sqlite3_stmt *q = store__prepare(s, SQL_TOUCH);
    store__bind_text(q, 1, id);
    sqlite3_bind_int64(q, 2, now_ms);
    return store__exec(s, q, d, "touch api key");
}

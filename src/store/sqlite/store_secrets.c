/*
 * store_secrets - secrets at rest in the SQLite store: sealing on write,
 * opening on read, the key check, the one-time sealing of plaintext secrets,
 * and offline rotation (store.h "secrets at rest").
 *
 * Description: every secret column is listed in store__secret_cols
 * (store/secrets_seal.c, which also seals, opens and makes the key check for
 * both backends; this file holds SQLite's SQL); a value is
 * stored as a core/secretbox string sealed with the process key and bound to
 * "<table>.<column>:<row id>", so the rest of hookd only ever sees
 * plaintext and a value copied into another row does not open. The table
 * `encryption` (migration 3) holds one row: the id of the key the secrets are
 * sealed with and a check value (a known constant sealed with it), so a wrong
 * key is refused when the store opens, before any secret is read.
 * Migration 3's data step needs the key, so it runs here rather than in SQL:
 * when a migrating connection opens with a key and finds plaintext secrets
 * (a store written before encryption existed) or no key check yet, it seals
 * them in one transaction, records the key, and scrubs free space (the
 * secret tables rebuilt, free pages overwritten, WAL truncated) so no
 * plaintext survives in the file (store_open turns secure_delete on, so
 * later erasures are zeroed too).
 * Rotation does the same with a new key and refuses to run while another
 * connection (a running hookd) has the store open (hookd.lock, store_open).
 * Threading: store_secrets_set_key before any store is opened or thread
 * started; each connection then has its own box (struct sqlite_store.box).
 * Ownership: the process key lives in a static buffer wiped by
 * store_secrets_set_key(NULL); boxes are wiped by store_close.
 * See store.h, core/secretbox.h, docs/internals/secrets.md.
 * SPDX-License-Identifier: MIT
 */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>

#include "core/secretbox.h"
#include "store/sqlite/sqlite_internal.h"
#include "util/clock.h"
#include "util/log.h"

#define NCOLS STORE__NSECRET_COLS
#define secret_cols store__secret_cols
#define PAGE 64 /* rows re-sealed per read while sealing or rotating */

enum err store__seal(struct sqlite_store *s, const char *place, const char *row_id,
                     const char *plain, char *out, size_t cap, struct err_detail *d)
{
    return store__seal_box(s->box, place, row_id, plain, out, cap, d);
}

enum err store__unseal(struct sqlite_store *s, const char *place, const char *row_id,
                       const char *stored, char *out, size_t cap, struct err_detail *d)
{
    return store__unseal_box(s->box, place, row_id, stored, out, cap, d);
}

/* Run one statement of text without results; its error as ERR_IO/ERR_BUSY. */
static enum err exec_sql(struct sqlite_store *s, const char *sql, struct err_detail *d,
                         const char *what)
{
    char *msg = NULL;
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
    if (rc == SQLITE_OK)
        return ERR_OK;
    enum err e = (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) ? ERR_BUSY : ERR_IO;
    err_set(d, e, "INTERNAL_ERROR", "cannot %s: %s", what, msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return e;
}

static enum err prepare(struct sqlite_store *s, const char *sql, sqlite3_stmt **q,
                        struct err_detail *d)
{
    if (sqlite3_prepare_v2(s->db, sql, -1, q, NULL) != SQLITE_OK)
        return store__db_err(s, SQLITE_ERROR, d, "prepare a secrets statement");
    return ERR_OK;
}

/* The recorded key id and check value; *found false when none yet (or no table). */
static enum err read_check(struct sqlite_store *s, char kid[SECRETBOX_KEY_ID_LEN + 1], char *check,
                           size_t cap, bool *found, struct err_detail *d)
{
    *found = false;
    kid[0] = '\0';
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT key_id, check_value FROM encryption WHERE id = 1", -1, &q,
                           NULL) != SQLITE_OK)
        return ERR_OK; /* the table does not exist before migration 3 */
    int rc = sqlite3_step(q);
    enum err e = ERR_OK;
    if (rc == SQLITE_ROW) {
        *found = true;
        store__col_copy(kid, SECRETBOX_KEY_ID_LEN + 1, q, 0);
        store__col_copy(check, cap, q, 1);
    } else if (rc != SQLITE_DONE) {
        e = store__db_err(s, rc, d, "read the encryption key check");
    }
    sqlite3_finalize(q);
    return e;
}

enum err sqlite_secrets_key_id(struct store *st, char out[STORE_SECRET_KEY_ID_SIZE],
                               struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    char check[256];
    bool found;
    return read_check(s, out, check, sizeof(check), &found, d);
}

/* Record box's key id and a fresh check value (insert or replace the one row). */
static enum err write_check(struct sqlite_store *s, struct secretbox *box, struct err_detail *d)
{
    char check[256];
    enum err e = store__check_make(box, check, sizeof(check), d);
    if (e != ERR_OK)
        return e;
    sqlite3_stmt *q;
    if ((e = prepare(s,
                     "INSERT INTO encryption (id, key_id, check_value, created_at) "
                     "VALUES (1, ?1, ?2, ?3) ON CONFLICT (id) DO UPDATE SET "
                     "key_id = excluded.key_id, check_value = excluded.check_value, "
                     "created_at = excluded.created_at",
                     &q, d)) != ERR_OK)
        return e;
    sqlite3_bind_text(q, 1, secretbox_id(box), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, check, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, clock_now_ms());
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? ERR_OK : store__db_err(s, rc, d, "record the encryption key");
}

/*
 * Re-seal every non-empty value of c with to: values sealed with from are
 * opened with it, plaintext values (from == NULL) taken as they are, values
 * already sealed with to left alone. *n counts the rows rewritten.
 * Runs inside the caller's transaction, a page of rows at a time.
 */
static enum err reseal_column(struct sqlite_store *s, const struct store__secret_col *c,
                              struct secretbox *from, struct secretbox *to, int64_t *n,
                              struct err_detail *d)
{
    char sel[256], upd[160];
    const char *place = c->place;
    if (from)
        snprintf(sel, sizeof(sel),
                 "SELECT id, %s FROM %s WHERE id > ?1 AND %s != '' ORDER BY id LIMIT %d", c->column,
                 c->table, c->column, PAGE);
    else /* plaintext only */
        snprintf(sel, sizeof(sel),
                 "SELECT id, %s FROM %s WHERE id > ?1 AND %s != '' AND substr(%s, 1, 4) != "
                 "'enc:' ORDER BY id LIMIT %d",
                 c->column, c->table, c->column, c->column, PAGE);
    snprintf(upd, sizeof(upd), "UPDATE %s SET %s = ?2 WHERE id = ?1", c->table, c->column);
    sqlite3_stmt *qs = NULL, *qu = NULL;
    enum err e = prepare(s, sel, &qs, d);
    if (e == ERR_OK)
        e = prepare(s, upd, &qu, d);
    char *ids[PAGE] = {0}, *vals[PAGE] = {0}, *last = NULL;
    static const size_t sealed_cap = STORE__SEALED_CAP;
    char *sealed = malloc(sealed_cap);
    if (!sealed)
        abort();
    while (e == ERR_OK) {
        int got = 0, rc = SQLITE_DONE;
        sqlite3_reset(qs);
        sqlite3_bind_text(qs, 1, last ? last : "", -1, SQLITE_TRANSIENT);
        while (got < PAGE && (rc = sqlite3_step(qs)) == SQLITE_ROW) {
            ids[got] = store__col_dup(qs, 0);
            vals[got] = store__col_dup(qs, 1);
            got++;
        }
        if (got < PAGE && rc != SQLITE_DONE)
            e = store__db_err(s, rc, d, "read secrets");
        for (int i = 0; i < got && e == ERR_OK; i++) {
            bool skip = false;
            e = store__reseal_value(from, to, place, ids[i], vals[i], sealed, sealed_cap, &skip, d);
            if (e != ERR_OK || skip)
                continue;
            sqlite3_reset(qu);
            sqlite3_bind_text(qu, 1, ids[i], -1, SQLITE_STATIC);
            sqlite3_bind_text(qu, 2, sealed, -1, SQLITE_STATIC);
            int urc = sqlite3_step(qu);
            if (urc != SQLITE_DONE)
                e = store__db_err(s, urc, d, "update a secret");
            else
                (*n)++;
        }
        free(last);
        last = got ? ids[got - 1] : NULL;
        for (int i = 0; i < got; i++) {
            if (i != got - 1)
                free(ids[i]);
            if (vals[i])
                OPENSSL_cleanse(vals[i], strlen(vals[i]));
            free(vals[i]);
            ids[i] = vals[i] = NULL;
        }
        if (got < PAGE)
            break;
    }
    free(last);
    OPENSSL_cleanse(sealed, sealed_cap);
    free(sealed);
    sqlite3_finalize(qs);
    sqlite3_finalize(qu);
    return e;
}

/* One integer from a one-row pragma or query. */
static enum err query_int(struct sqlite_store *s, const char *sql, int64_t *out,
                          struct err_detail *d)
{
    sqlite3_stmt *q;
    enum err e = prepare(s, sql, &q, d);
    if (e != ERR_OK)
        return e;
    int rc = sqlite3_step(q);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
    sqlite3_finalize(q);
    return rc == SQLITE_ROW ? ERR_OK : store__db_err(s, rc, d, sql);
}

/*
 * Rebuild table so that none of its pages keeps old values in free space:
 * copy its rows (with their rowids) to a temporary table in memory, empty it
 * (with secure_delete, its freed pages are zeroed), and copy them back.
 * Costs O(rows of the table), unlike a VACUUM of the whole file.
 * XXX: secret tables must be rowid tables.
 */
static enum err scrub_table(struct sqlite_store *s, const char *table, struct err_detail *d)
{
    char cols[1024] = "", sql[3600];
    snprintf(sql, sizeof(sql), "SELECT name FROM pragma_table_info('%s') ORDER BY cid", table);
    sqlite3_stmt *q;
    enum err e = prepare(s, sql, &q, d);
    if (e != ERR_OK)
        return e;
    size_t len = 0;
    while (sqlite3_step(q) == SQLITE_ROW && len < sizeof(cols))
        len += (size_t)snprintf(cols + len, sizeof(cols) - len, "%s%s", len ? ", " : "",
                                (const char *)sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    if (len == 0 || len >= sizeof(cols))
        return err_set(d, ERR_IO, "INTERNAL_ERROR", "cannot list the columns of %s", table);
    snprintf(sql, sizeof(sql),
             "CREATE TEMP TABLE hookd_scrub AS SELECT rowid AS hookd_rowid, %s FROM main.%s;"
             "DELETE FROM main.%s;"
             "INSERT INTO main.%s (rowid, %s) SELECT hookd_rowid, %s FROM temp.hookd_scrub;"
             "DROP TABLE temp.hookd_scrub;",
             cols, table, table, table, cols, cols);
    return exec_sql(s, sql, d, "rewrite a table of secrets");
}

/*
 * Overwrite the pages on the freelist, which may hold bytes freed before
 * secure_delete was on: fill them with a zero blob, then free them again
 * (zeroed by secure_delete). Costs O(free pages).
 */
static enum err scrub_freelist(struct sqlite_store *s, struct err_detail *d)
{
    int64_t free_pages = 0, page_size = 0;
    enum err e = query_int(s, "PRAGMA freelist_count", &free_pages, d);
    if (e == ERR_OK)
        e = query_int(s, "PRAGMA page_size", &page_size, d);
    if (e != ERR_OK || free_pages == 0)
        return e;
    if ((e = exec_sql(s, "CREATE TABLE hookd_scrub_free (b BLOB)", d, "scrub free pages")) !=
        ERR_OK)
        return e;
    for (int i = 0; i < 100000 && e == ERR_OK && free_pages > 0; i++) {
        char sql[128];
        int64_t pages = free_pages < 16384 ? free_pages : 16384;
        snprintf(sql, sizeof(sql), "INSERT INTO hookd_scrub_free VALUES (zeroblob(%lld))",
                 (long long)(pages * (page_size - 8)));
        if ((e = exec_sql(s, sql, d, "scrub free pages")) == ERR_OK)
            e = query_int(s, "PRAGMA freelist_count", &free_pages, d);
    }
    if (e == ERR_OK)
        e = exec_sql(s, "DROP TABLE hookd_scrub_free", d, "scrub free pages");
    return e;
}

/*
 * In one transaction: re-seal every secret with to (opening them with from,
 * or taking plaintext when from is NULL), record to's key check, and scrub
 * the secret tables and the freelist so the file keeps no old bytes in free
 * space; then truncate the WAL, which holds old page images. *n: values
 * rewritten.
 */
static enum err reseal_all(struct sqlite_store *s, struct secretbox *from, struct secretbox *to,
                           int64_t *n, struct err_detail *d)
{
    *n = 0;
    enum err e = exec_sql(s, "BEGIN IMMEDIATE", d, "begin re-encrypting secrets");
    if (e != ERR_OK)
        return e;
    for (size_t i = 0; i < NCOLS && e == ERR_OK; i++)
        e = reseal_column(s, &secret_cols[i], from, to, n, d);
    if (e == ERR_OK)
        e = write_check(s, to, d);
    for (size_t i = 0; i < NCOLS && e == ERR_OK; i++)
        e = scrub_table(s, secret_cols[i].table, d);
    if (e == ERR_OK)
        e = scrub_freelist(s, d);
    if (e == ERR_OK)
        e = exec_sql(s, "COMMIT", d, "commit re-encrypted secrets");
    if (e != ERR_OK) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return e;
    }
    /* Committed: a failure to truncate is worth a warning, not a failed re-encryption. */
    struct err_detail w = {0};
    if (exec_sql(s, "PRAGMA wal_checkpoint(TRUNCATE)", &w, "checkpoint the WAL") != ERR_OK)
        log_warn("store", "%s; old secret bytes stay in the WAL until its next checkpoint", w.msg);
    return ERR_OK;
}

/* Whether a plaintext (never sealed) secret is stored anywhere. */
static enum err any_plaintext(struct sqlite_store *s, bool *any, struct err_detail *d)
{
    *any = false;
    for (size_t i = 0; i < NCOLS && !*any; i++) {
        const struct store__secret_col *c = &secret_cols[i];
        char sql[256];
        snprintf(sql, sizeof(sql),
                 "SELECT EXISTS (SELECT 1 FROM %s WHERE %s != '' AND substr(%s, 1, 4) != 'enc:')",
                 c->table, c->column, c->column);
        sqlite3_stmt *q;
        enum err e = prepare(s, sql, &q, d);
        if (e != ERR_OK)
            return e;
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW)
            *any = sqlite3_column_int(q, 0) != 0;
        sqlite3_finalize(q);
        if (rc != SQLITE_ROW)
            return store__db_err(s, rc, d, "look for plaintext secrets");
    }
    return ERR_OK;
}

enum err store__secrets_attach(struct sqlite_store *s, bool migrate, struct err_detail *d)
{
    if (!store__process_key())
        return ERR_OK; /* secrets cannot be read or written on this connection */
    enum err e = store__secrets_box(&s->box, d);
    if (e != ERR_OK)
        return e;
    char kid[SECRETBOX_KEY_ID_LEN + 1], check[256];
    bool found;
    if ((e = read_check(s, kid, check, sizeof(check), &found, d)) != ERR_OK)
        return e;
    if (found && (e = store__check_verify(s->box, kid, check, d)) != ERR_OK)
        return e;
    if (!migrate)
        return ERR_OK;
    bool plain = false;
    if ((e = any_plaintext(s, &plain, d)) != ERR_OK)
        return e;
    if (found && !plain)
        return ERR_OK;
    int64_t n = 0;
    if ((e = reseal_all(s, NULL, s->box, &n, d)) != ERR_OK)
        return e;
    if (n > 0)
        log_info("store", "encrypted %lld plaintext secrets with key %s", (long long)n,
                 secretbox_id(s->box));
    return ERR_OK;
}

void store__secrets_detach(struct sqlite_store *s)
{
    secretbox_free(s->box);
    s->box = NULL;
}

enum err sqlite_secrets_rotate(struct store *st, const uint8_t new_key[STORE_SECRET_KEY_LEN],
                               int64_t *n, struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    *n = 0;
    if (!s->box)
        return store__no_key(d);
    struct secretbox *to = NULL;
    enum err e = secretbox_new(&to, new_key, d);
    if (e != ERR_OK)
        return e;
    /* Every open connection holds a shared lock on hookd.lock (store_open): ours can only
     * become exclusive while no other connection, in this or another process, is open. */
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0)
        e = err_set(d, ERR_BUSY, "INTERNAL_ERROR",
                    "the store is in use (is hookd serve running?); stop it before rotating "
                    "the encryption key");
    if (e == ERR_OK)
        e = reseal_all(s, s->box, to, n, d);
    flock(s->lock_fd, LOCK_SH);
    if (e != ERR_OK) {
        secretbox_free(to);
        return e;
    }
    secretbox_free(s->box);
    s->box = to;
    return ERR_OK;
}

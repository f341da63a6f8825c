/*
 * store_sqlite - the embedded SQLite implementation of store.h.
 *
 * Description: one sqlite3 connection per struct sqlite_store, with every statement
 * prepared once and cached. WAL journal, synchronous=FULL (each commit is
 * fsync'd), busy_timeout for the rare reader/checkpoint contention,
 * secure_delete (freed space is zeroed, as Debian's SQLite does by default,
 * so an erased secret leaves no bytes behind).
 * See store.h for the contract.
 * SPDX-License-Identifier: MIT
 */
#include "store/sqlite/wal_buffer.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/sqlite/migrations.h"
#include "store/sqlite/sqlite_internal.h"
#include "util/log.h"

#define EP_COLS                                                                                    \
    "id, mode, url, description, headers, rate_limit_rps, burst, paused, hmac_enabled, "           \
    "created_at, updated_at, deleted_at, application_id, uid, disabled, all_event_types, "         \
    "channels, filter, metadata, (SELECT json_group_array(event_type) FROM (SELECT event_type "    \
    "FROM subscriptions WHERE endpoint_id = endpoints.id ORDER BY rowid)), policy, "               \
    "disabled_reason, disabled_at, circuit_state, circuit_opened_at, failing_since, verified_at"

/* A send's message with its status (a literal: the hot statement binds nothing more). */
#define MSG_INSERT(status)                                                                         \
    "INSERT INTO messages (id, event_id, endpoint_id, mode, headers, idempotency_key, "            \
    "payload_sha256, size_bytes, status, retention_hours, created_at, updated_at, "                \
    "payload_expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, " status ", ?9, ?10, ?10, ?11)"

static const char *const stmt_sql[S_COUNT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_SAVEPOINT] = "SAVEPOINT op",
    [S_RELEASE] = "RELEASE op",
    [S_ROLLBACK_TO] = "ROLLBACK TO op",
    [S_KEY_INSERT] = "INSERT INTO api_keys (id, mode, prefix, label, key_sha256, created_at) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [S_KEY_FIND] = "SELECT id, mode, prefix, label, created_at, last_used_at FROM api_keys "
                   "WHERE key_sha256 = ?1 AND deleted_at IS NULL",
    [S_KEY_COUNT] = "SELECT count(*) FROM api_keys WHERE deleted_at IS NULL",
    [S_EP_INSERT] =
        "INSERT INTO endpoints (id, mode, url, description, headers, rate_limit_rps, "
        "burst, paused, hmac_enabled, created_at, updated_at, application_id, uid, "
        "disabled, all_event_types, channels, filter, metadata, policy, disabled_reason, "
        "disabled_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
        "coalesce(nullif(?12, ''), 'app_default_' || ?2), ?13, ?14, ?15, ?16, ?17, ?18, ?19, "
        "?20, ?21)",
    [S_SK_INSERT] = "INSERT INTO signing_keys (id, endpoint_id, secret, created_at) "
                    "VALUES (?1, ?2, ?3, ?4)",
    [S_EP_GET] = "SELECT " EP_COLS " FROM endpoints WHERE id = ?1 AND (?2 IS NULL OR mode = ?2) "
                 "AND (?3 OR deleted_at IS NULL)",
    [S_EP_UPDATE] =
        "UPDATE endpoints SET verified_at = ?22, url = ?2, description = ?3, headers = ?4, "
        "rate_limit_rps = ?5, burst = ?6, paused = ?7, hmac_enabled = ?8, "
        "updated_at = ?9, uid = ?13, disabled = ?14, all_event_types = ?15, "
        "channels = ?16, filter = ?17, metadata = ?18, policy = ?19, "
        "disabled_reason = ?20, disabled_at = ?21 "
        "WHERE id = ?1 AND deleted_at IS NULL",
    [S_EP_DELETE] = "UPDATE endpoints SET deleted_at = ?3, updated_at = ?3 "
                    "WHERE id = ?1 AND mode = ?2 AND deleted_at IS NULL",
    [S_EP_LIST] = "SELECT " EP_COLS " FROM endpoints WHERE mode = ?1 AND deleted_at IS NULL "
                  "ORDER BY seq DESC LIMIT ?2",
    [S_EP_LIST_AFTER] = "SELECT " EP_COLS " FROM endpoints WHERE mode = ?1 AND deleted_at IS NULL "
                        "AND seq < (SELECT seq FROM endpoints WHERE id = ?3) "
                        "ORDER BY seq DESC LIMIT ?2",
    [S_SK_ACTIVE] = "SELECT id, secret, created_at, expires_at FROM signing_keys "
                    "WHERE endpoint_id = ?1 AND deleted_at IS NULL "
                    "AND (expires_at IS NULL OR expires_at > ?2) "
                    "ORDER BY created_at, rowid LIMIT 2",
    [S_EP_URL_TAKEN] = "SELECT id FROM endpoints WHERE application_id = 'app_default_' || ?1 "
                       "AND url = ?2 AND id != ?3 AND deleted_at IS NULL LIMIT 1",
    [S_EP_CURSOR] = "SELECT 1 FROM endpoints WHERE id = ?1 AND mode = ?2",
    [S_EP_LIVE] = "SELECT policy FROM endpoints WHERE id = ?1 AND mode = ?2 AND deleted_at IS NULL",
    [S_IDEM_FIND] = "SELECT id, payload_sha256 FROM messages "
                    "WHERE endpoint_id = ?1 AND idempotency_key = ?2",
    [S_EVENT_INSERT] = "INSERT INTO events (content_type, payload, created_at) VALUES (?1, ?2, ?3)",
    [S_MSG_INSERT] = MSG_INSERT("0"),
    [S_MSG_INSERT_DEDUPED] = MSG_INSERT("5"),
    [S_MSG_GET] = "SELECT m.id, m.endpoint_id, m.status, m.attempt_count, m.replay_count, "
                  "e.content_type, m.size_bytes, m.payload_sha256, m.idempotency_key, "
                  "m.next_attempt_at, m.last_error, m.response_status, m.response_latency_ms, "
                  "m.created_at, m.updated_at, m.delivered_at, m.failed_at "
                  "FROM messages m JOIN events e ON e.id = m.event_id "
                  "WHERE m.id = ?1 AND m.mode = ?2 AND m.deleted_at IS NULL",
    [S_ATTEMPT_INSERT] =
        "INSERT INTO attempts (id, message_id, attempt_no, created_at, response_status, "
        "latency_ms, error_text, response_body, response_body_truncated, response_headers, "
        "request_headers, retry_type, retry_after_seconds, resolved_ip, conn_reused, dns_ms, "
        "tcp_connect_ms, tls_handshake_ms, ttfb_ms, transfer_ms, replay_no) VALUES (?1, ?2, ?3, "
        "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)",
    /* No RETURNING: SQLite materialises it in an ephemeral table (a pager of
     * its own, zeroed pages), which cost more than the rest of the attempt. */
    [S_MSG_FOR_RESULT] =
        "SELECT mode, endpoint_id, replay_count, sched_version FROM messages WHERE id = ?1",
    [S_MSG_RESULT] = "UPDATE messages SET status = ?2, attempt_count = max(attempt_count, ?3), "
                     "next_attempt_at = ?4, last_error = ?5, response_status = ?6, "
                     "response_latency_ms = ?7, updated_at = ?8, "
                     "delivered_at = CASE WHEN ?2 = 2 THEN ?8 ELSE delivered_at END, "
                     "failed_at = CASE WHEN ?2 = 4 THEN ?8 ELSE failed_at END "
                     "WHERE id = ?1 AND sched_version = ?9",
    [S_ATTEMPT_LIST] =
        "SELECT id, message_id, attempt_no, created_at, response_status, latency_ms, error_text, "
        "response_body, response_body_truncated, response_headers, request_headers, retry_type, "
        "retry_after_seconds, resolved_ip, conn_reused, dns_ms, tcp_connect_ms, "
        "tls_handshake_ms, ttfb_ms, transfer_ms FROM attempts WHERE message_id = ?1 AND id > ?3 "
        "ORDER BY id LIMIT ?2",
    [S_DELIVERY_LOAD] = "SELECT e.payload, e.content_type, m.headers, m.attempt_count, m.status, "
                        "m.sched_version, e.public_id "
                        "FROM messages m JOIN events e ON e.id = m.event_id "
                        "WHERE m.id = ?1 AND m.deleted_at IS NULL",
};

enum err store__db_err(struct sqlite_store *s, int rc, struct err_detail *d, const char *what)
{
    enum err e = (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) ? ERR_BUSY : ERR_IO;
    return err_set(d, e, "INTERNAL_ERROR", "cannot %s: %s", what, sqlite3_errmsg(s->db));
}

/* Borrow a cached statement, reset and unbound. */
sqlite3_stmt *store__st(struct sqlite_store *s, enum stmt_id id)
{
    sqlite3_stmt *q = s->stmt[id];
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    return q;
}

void store__bind_text(sqlite3_stmt *q, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(q, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, i);
}

void store__bind_opt_int(sqlite3_stmt *q, int i, int64_t v, int64_t none)
{
    if (v == none)
        sqlite3_bind_null(q, i);
    else
        sqlite3_bind_int64(q, i, v);
}

char *store__col_dup(sqlite3_stmt *q, int i)
{
    if (sqlite3_column_type(q, i) == SQLITE_NULL)
        return NULL;
    const char *t = (const char *)sqlite3_column_text(q, i);
    char *r = strdup(t ? t : "");
    if (!r)
        abort();
    return r;
}

void store__col_copy(char *dst, size_t len, sqlite3_stmt *q, int i)
{
    const char *t = (const char *)sqlite3_column_text(q, i);
    snprintf(dst, len, "%s", t ? t : "");
}

int64_t store__col_opt_int(sqlite3_stmt *q, int i, int64_t none)
{
    return sqlite3_column_type(q, i) == SQLITE_NULL ? none : sqlite3_column_int64(q, i);
}

/* Run a statement that returns no rows. */
enum err store__exec(struct sqlite_store *s, sqlite3_stmt *q, struct err_detail *d,
                     const char *what)
{
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return store__db_err(s, rc, d, what);
    return ERR_OK;
}

static enum err migrate(struct sqlite_store *s, struct err_detail *d)
{
    sqlite3_stmt *q;
    int version = 0;
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &q, NULL) != SQLITE_OK)
        return store__db_err(s, SQLITE_ERROR, d, "read schema version");
    if (sqlite3_step(q) == SQLITE_ROW)
        version = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    if ((size_t)version > store__migrations_count)
        return err_set(d, ERR_IO, "INTERNAL_ERROR",
                       "database schema version %d is newer than this hookd (%zu)", version,
                       store__migrations_count);
    for (size_t v = (size_t)version; v < store__migrations_count; v++) {
        char *msg = NULL;
        char sql[64];
        snprintf(sql, sizeof(sql), ";PRAGMA user_version = %zu;", v + 1);
        int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, &msg);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(s->db, store__migrations[v], NULL, NULL, &msg);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, &msg);
        if (rc != SQLITE_OK) {
            err_set(d, ERR_IO, "INTERNAL_ERROR", "cannot apply migration %zu: %s", v + 1,
                    msg ? msg : "unknown error");
            sqlite3_free(msg);
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            return ERR_IO;
        }
        log_info("store", "applied migration %zu", v + 1);
    }
    return ERR_OK;
}

/* Create path 0600 when missing and take group/other access away from it and its
 * -wal/-shm files (SQLite creates those with the database file's mode). */
static enum err private_files(const char *path, struct err_detail *d)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return err_set(d, ERR_IO, "INTERNAL_ERROR", "cannot open '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) == 0 && (st.st_mode & 077) && fchmod(fd, st.st_mode & 0700) != 0)
        log_warn("store", "cannot make '%s' private (mode 0600): %s", path, strerror(errno));
    close(fd);
    static const char *const suffixes[] = {"-wal", "-shm"};
    for (size_t i = 0; i < 2; i++) {
        char p[1300];
        snprintf(p, sizeof(p), "%s%s", path, suffixes[i]);
        if (stat(p, &st) == 0 && (st.st_mode & 077) && chmod(p, st.st_mode & 0700) != 0)
            log_warn("store", "cannot make '%s' private (mode 0600): %s", p, strerror(errno));
    }
    return ERR_OK;
}

/* Every connection holds a shared flock on <data>/hookd.lock while it is open, so an
 * offline operation (store_secrets_rotate) can tell that no one else uses the store
 * by upgrading its own lock to exclusive, and a store being rotated cannot be opened. */
static enum err lock_shared(struct sqlite_store *s, const char *data_dir, struct err_detail *d)
{
    char path[1200];
    snprintf(path, sizeof(path), "%s/hookd.lock", data_dir);
    s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s->lock_fd < 0)
        return err_set(d, ERR_IO, "INTERNAL_ERROR", "cannot open '%s': %s", path, strerror(errno));
    if (flock(s->lock_fd, LOCK_SH | LOCK_NB) != 0)
        return err_set(d, ERR_BUSY, "INTERNAL_ERROR",
                       "the store in '%s' is locked by another command (hookd encryption rotate)",
                       data_dir);
    return ERR_OK;
}

/* Process-wide SQLite settings, before its first use: no allocation
 * statistics (they take a global mutex around every malloc and free, ~4 % of
 * the committer's instructions per send; hookd never reads them), and the VFS
 * that writes each commit's WAL frames in one call (wal_buffer.h). */
static int wal_vfs_rc = SQLITE_ERROR;
static void configure_sqlite(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); /* SQLITE_MISUSE if already initialised */
    sqlite3_initialize();
    wal_vfs_rc = wal_buffer_register(WAL_BUFFER_VFS, NULL);
}

/* Any row of endpoints, applications or subscriptions inserted, updated or deleted:
 * forget what sends found live and what publishes found (struct sqlite_store, ep_gen). */
static void on_row_change(void *ctx, int op, const char *db, const char *table, sqlite3_int64 row)
{
    (void)op;
    (void)db;
    (void)row;
    if (strcmp(table, "endpoints") == 0 || strcmp(table, "applications") == 0 ||
        strcmp(table, "subscriptions") == 0)
        ((struct sqlite_store *)ctx)->ep_gen++;
}

enum err sqlite_open(struct store **out, const char *data_dir, bool do_migrate,
                     struct err_detail *d)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, configure_sqlite);
    *out = NULL;
    if (mkdir(data_dir, 0700) != 0 && errno != EEXIST)
        return err_set(d, ERR_IO, "INTERNAL_ERROR", "cannot create data directory '%s': %s",
                       data_dir, strerror(errno));
    char path[1200];
    snprintf(path, sizeof(path), "%s/hookd.db", data_dir);
    enum err e = private_files(path, d);
    if (e != ERR_OK)
        return e;
    struct sqlite_store *s = calloc(1, sizeof(*s));
    if (!s)
        abort();
    s->base.ops = &sqlite_store_ops;
    s->lock_fd = -1;
    if ((e = lock_shared(s, data_dir, d)) != ERR_OK)
        goto out;
    s->recent_rows = -1;
    /* The WAL buffer is only sound with a sync at every commit: synchronous=FULL below. */
    int rc = sqlite3_open_v2(path, &s->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             wal_vfs_rc == SQLITE_OK ? WAL_BUFFER_VFS : NULL);
    if (rc != SQLITE_OK) {
        e = err_set(d, ERR_IO, "INTERNAL_ERROR", "cannot open '%s': %s", path,
                    s->db ? sqlite3_errmsg(s->db) : "out of memory");
        goto out;
    }
    sqlite3_busy_timeout(s->db, 5000);
    char *msg = NULL;
    rc = sqlite3_exec(s->db,
                      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                      "PRAGMA foreign_keys=OFF; PRAGMA temp_store=MEMORY; "
                      "PRAGMA secure_delete=ON;",
                      NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        e = err_set(d, ERR_IO, "INTERNAL_ERROR", "cannot configure '%s': %s", path,
                    msg ? msg : "unknown error");
        sqlite3_free(msg);
        goto out;
    }
    s->ep_gen = 1;
    sqlite3_update_hook(s->db, on_row_change, s);
    if (do_migrate && (e = migrate(s, d)) != ERR_OK)
        goto out;
    if ((e = store__secrets_attach(s, do_migrate, d)) != ERR_OK)
        goto out;
    for (int i = 0; i < S_COUNT; i++) {
        rc = sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[i],
                                NULL);
        if (rc != SQLITE_OK) {
            e = err_set(d, ERR_IO, "INTERNAL_ERROR", "cannot prepare statement %d: %s", i,
                        sqlite3_errmsg(s->db));
            goto out;
        }
    }
out:
    if (e != ERR_OK) {
        sqlite_close(&s->base);
        return e;
    }
    *out = &s->base;
    return ERR_OK;
}

sqlite3_stmt *store__prepare(struct sqlite_store *s, const char *sql)
{
    for (int i = 0; i < s->ncache; i++) {
        if (s->cache[i].sql == sql) {
            sqlite3_reset(s->cache[i].q);
            sqlite3_clear_bindings(s->cache[i].q);
            return s->cache[i].q;
        }
    }
    if (s->ncache == STORE__CACHE_MAX)
        PANIC("more than %d cached statements: raise STORE__CACHE_MAX", STORE__CACHE_MAX);
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &q, NULL) != SQLITE_OK)
        PANIC("cannot prepare '%s': %s", sql, sqlite3_errmsg(s->db));
    s->cache[s->ncache].sql = sql;
    s->cache[s->ncache++].q = q;
    return q;
}

void sqlite_close(struct store *st)
{
    struct sqlite_store *s = sqlite_of(st);
    if (!s)
        return;
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(s->stmt[i]);
    for (int i = 0; i < s->ncache; i++)
        sqlite3_finalize(s->cache[i].q);
    sqlite3_close(s->db);
    for (int i = 0; i < STORE__LIVE_EP_SLOTS; i++)
        store__dedupe_policy_free(s->live_ep[i].dedupe);
    feed_clear(&s->op_feed);
    feed_clear(&s->batch_feed);
    store__rollup_release(s);
    store__fanout_release(s);
    store__secrets_detach(s);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    free(s);
}

enum err sqlite_batch_begin(struct store *st, struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    enum err e = store__exec(s, store__st(s, S_BEGIN), d, "begin transaction");
    s->in_batch = e == ERR_OK;
    store__rollup_reset(&s->batch_rollups);
    store__rollup_reset(&s->op_rollups);
    feed_clear(&s->op_feed);
    feed_clear(&s->batch_feed);
    return e;
}

enum err sqlite_batch_commit(struct store *st, struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    enum err e = store__rollup_flush(s, d);
    s->in_batch = false;
    if (e != ERR_OK)
        return e;
    return store__exec(s, store__st(s, S_COMMIT), d, "commit");
}

void sqlite_batch_rollback(struct store *st)
{
    struct sqlite_store *s = sqlite_of(st);
    s->ep_gen++; /* an endpoint written in the batch may be gone again */
    s->in_batch = s->in_op = false;
    store__rollup_reset(&s->batch_rollups);
    store__rollup_reset(&s->op_rollups);
    feed_clear(&s->op_feed);
    feed_clear(&s->batch_feed);
    if (!sqlite3_get_autocommit(s->db))
        store__exec(s, store__st(s, S_ROLLBACK), NULL, "rollback");
}

enum err sqlite_op_begin(struct store *st, struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    enum err e = store__exec(s, store__st(s, S_SAVEPOINT), d, "open savepoint");
    s->in_op = e == ERR_OK;
    store__rollup_reset(&s->op_rollups);
    feed_clear(&s->op_feed);
    return e;
}

enum err sqlite_op_end(struct store *st, bool ok, struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    s->in_op = false;
    enum err e = ERR_OK;
    if (ok && (e = store__rollup_op_end(s, true, d)) != ERR_OK)
        ok = false; /* its rollup could not be written: undo the whole op */
    if (!ok) {
        s->ep_gen++;
        store__rollup_op_end(s, false, NULL);
        store__exec(s, store__st(s, S_ROLLBACK_TO), NULL, "roll back savepoint");
        feed_clear(&s->op_feed);
    }
    store__exec(s, store__st(s, S_RELEASE), NULL, "release savepoint");
    feed_move(&s->batch_feed, &s->op_feed);
    return e;
}

void sqlite_op_begin_unguarded(struct store *st)
{
    struct sqlite_store *s = sqlite_of(st);
    s->in_op = true;
    s->op_changes = sqlite3_total_changes64(s->db);
    store__rollup_reset(&s->op_rollups);
    feed_clear(&s->op_feed);
}

bool sqlite_op_end_unguarded(struct store *st, bool ok)
{
    struct sqlite_store *s = sqlite_of(st);
    s->in_op = false;
    store__rollup_op_end(s, ok, NULL);
    if (!ok) {
        feed_clear(&s->op_feed);
        /* A single-row statement checks its constraints before it writes, so a
         * refused one changed nothing; anything else needs the batch undone. */
        return sqlite3_total_changes64(s->db) == s->op_changes && !sqlite3_get_autocommit(s->db);
    }
    feed_move(&s->batch_feed, &s->op_feed);
    return true;
}

void sqlite_batch_take_feed(struct store *st, struct feed *out)
{
    struct sqlite_store *s = sqlite_of(st);
    feed_move(out, &s->batch_feed);
}

struct feed *store__feed(struct sqlite_store *s)
{
    return s->in_op ? &s->op_feed : NULL;
}

/* ---- API keys ---- */

enum err sqlite_api_key_insert(struct store *st, const struct store_api_key *k,
                               const uint8_t key_sha256[32], struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    sqlite3_stmt *q = store__st(s, S_KEY_INSERT);
    store__bind_text(q, 1, k->id);
    store__bind_text(q, 2, k->mode);
    store__bind_text(q, 3, k->prefix);
    store__bind_text(q, 4, k->label[0] ? k->label : NULL);
    sqlite3_bind_blob(q, 5, key_sha256, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 6, k->created_at_ms);
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    if (rc == SQLITE_CONSTRAINT)
        return err_set(d, ERR_CONFLICT, "INVALID_REQUEST", "api key already exists");
    if (rc != SQLITE_DONE)
        return store__db_err(s, rc, d, "insert api key");
    return ERR_OK;
}

enum err sqlite_api_key_find(struct store *st, const uint8_t key_sha256[32],
                             struct store_api_key *out, struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    sqlite3_stmt *q = store__st(s, S_KEY_FIND);
    sqlite3_bind_blob(q, 1, key_sha256, 32, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    enum err e = ERR_OK;
    if (rc == SQLITE_ROW) {
        store__col_copy(out->id, sizeof(out->id), q, 0);
        store__col_copy(out->mode, sizeof(out->mode), q, 1);
        store__col_copy(out->prefix, sizeof(out->prefix), q, 2);
        store__col_copy(out->label, sizeof(out->label), q, 3);
        out->created_at_ms = sqlite3_column_int64(q, 4);
        out->last_used_at_ms = store__col_opt_int(q, 5, 0);
    } else if (rc == SQLITE_DONE) {
        e = err_set(d, ERR_NOTFOUND, "UNAUTHORIZED", "unknown api key");
    } else {
        e = store__db_err(s, rc, d, "look up api key");
    }
    sqlite3_reset(q);
    return e;
}

enum err sqlite_api_key_count(struct store *st, int64_t *out, struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    sqlite3_stmt *q = store__st(s, S_KEY_COUNT);
    int rc = sqlite3_step(q);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
    sqlite3_reset(q);
    return rc == SQLITE_ROW ? ERR_OK : store__db_err(s, rc, d, "count api keys");
}

/* ---- endpoints ---- */

static void read_endpoint(sqlite3_stmt *q, struct store_endpoint *e)
{
    store__col_copy(e->id, sizeof(e->id), q, 0);
    store__col_copy(e->mode, sizeof(e->mode), q, 1);
    e->url = store__col_dup(q, 2);
    e->description = store__col_dup(q, 3);
    e->headers_json = store__col_dup(q, 4);
    e->rate_limit_rps = sqlite3_column_int(q, 5);
    e->burst = sqlite3_column_int(q, 6);
    e->paused = sqlite3_column_int(q, 7) != 0;
    e->hmac_enabled = sqlite3_column_int(q, 8) != 0;
    e->created_at_ms = sqlite3_column_int64(q, 9);
    e->updated_at_ms = sqlite3_column_int64(q, 10);
    e->deleted_at_ms = store__col_opt_int(q, 11, 0);
    store__col_copy(e->application_id, sizeof(e->application_id), q, 12);
    e->uid = store__col_dup(q, 13);
    e->disabled = sqlite3_column_int(q, 14) != 0;
    e->all_event_types = sqlite3_column_int(q, 15) != 0;
    e->channels_json = store__col_dup(q, 16);
    e->filter_json = store__col_dup(q, 17);
    e->metadata_json = store__col_dup(q, 18);
    e->event_types_json = e->all_event_types ? NULL : store__col_dup(q, 19);
    e->policy_json = store__col_dup(q, 20);
    store__col_copy(e->disabled_reason, sizeof(e->disabled_reason), q, 21);
    e->disabled_at_ms = store__col_opt_int(q, 22, 0);
    e->circuit_state = sqlite3_column_int(q, 23);
    e->circuit_opened_at_ms = store__col_opt_int(q, 24, 0);
    e->failing_since_ms = store__col_opt_int(q, 25, 0);
    e->verified_at_ms = store__col_opt_int(q, 26, 0);
}

static const char SQL_EP_UID_TAKEN[] =
    "SELECT 1 FROM endpoints WHERE application_id = coalesce(nullif(?1, ''), 'app_default_' || ?2) "
    "AND uid = ?3 AND id <> ?4 AND deleted_at IS NULL";
static const char SQL_SUB_KEEP_ONLY[] =
    "DELETE FROM subscriptions WHERE endpoint_id = ?1 AND (?2 IS NULL OR event_type NOT IN "
    "(SELECT value FROM json_each(?2)))";
static const char SQL_SUB_ADD[] =
    "INSERT OR IGNORE INTO subscriptions (id, endpoint_id, event_type, enabled, created_at) "
    "VALUES (?1, ?2, ?3, 1, ?4)";

/* ERR_CONFLICT (field "uid") when the endpoint's application has another live
 * endpoint with its uid. */
static enum err check_uid_free(struct sqlite_store *s, const struct store_endpoint *e,
                               struct err_detail *d)
{
    if (!e->uid)
        return ERR_OK;
    sqlite3_stmt *q = store__prepare(s, SQL_EP_UID_TAKEN);
    store__bind_text(q, 1, e->application_id);
    store__bind_text(q, 2, e->mode);
    store__bind_text(q, 3, e->uid);
    store__bind_text(q, 4, e->id);
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    if (rc == SQLITE_ROW)
        return err_set_field(d, ERR_CONFLICT, "CONFLICT", "uid",
                             "an endpoint with uid '%s' already exists in this application",
                             e->uid);
    return rc == SQLITE_DONE ? ERR_OK : store__db_err(s, rc, d, "check endpoint uid");
}

/* The subscriptions of e become its event_types_json (kept rows keep their id and
 * enabled flag); every row goes when it receives every type. */
static enum err write_subscriptions(struct sqlite_store *s, const struct store_endpoint *e,
                                    struct err_detail *d)
{
    const char *list = e->all_event_types ? "[]" : e->event_types_json ? e->event_types_json : "[]";
    sqlite3_stmt *q = store__prepare(s, SQL_SUB_KEEP_ONLY);
    store__bind_text(q, 1, e->id);
    store__bind_text(q, 2, list);
    enum err r = store__exec(s, q, d, "replace subscriptions");
    if (r != ERR_OK || e->all_event_types || !e->event_types_json)
        return r;
    sqlite3_stmt *each = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT value FROM json_each(?1)", -1, &each, NULL) != SQLITE_OK)
        return store__db_err(s, sqlite3_errcode(s->db), d, "read event types");
    sqlite3_bind_text(each, 1, list, -1, SQLITE_STATIC);
    int rc;
    while (r == ERR_OK && (rc = sqlite3_step(each)) == SQLITE_ROW) {
        char id[ID_MAX];
        id_time_ordered(id, sizeof(id), "sub_", e->updated_at_ms);
        q = store__prepare(s, SQL_SUB_ADD);
        store__bind_text(q, 1, id);
        store__bind_text(q, 2, e->id);
        store__bind_text(q, 3, (const char *)sqlite3_column_text(each, 0));
        sqlite3_bind_int64(q, 4, e->updated_at_ms);
        r = store__exec(s, q, d, "add subscription");
    }
    sqlite3_finalize(each);
    return r;
}

/* The columns of migrations 9, 10 and 17, bound as ?12..?21 of S_EP_INSERT/S_EP_UPDATE. */
static void bind_tenancy(sqlite3_stmt *q, const struct store_endpoint *e)
{
    store__bind_text(q, 19, e->policy_json);
    store__bind_text(q, 20, e->disabled && e->disabled_reason[0] ? e->disabled_reason : NULL);
    if (e->disabled && e->disabled_at_ms)
        sqlite3_bind_int64(q, 21, e->disabled_at_ms);
    else
        sqlite3_bind_null(q, 21);
    store__bind_text(q, 12, e->application_id);
    store__bind_text(q, 13, e->uid);
    sqlite3_bind_int(q, 14, e->disabled);
    sqlite3_bind_int(q, 15, e->all_event_types);
    store__bind_text(q, 16, e->channels_json);
    store__bind_text(q, 17, e->filter_json);
    store__bind_text(q, 18, e->metadata_json);
}

/* ERR_CONFLICT (DUPLICATE_URL) when another live endpoint of the mode has the URL. */
static enum err check_url_free(struct sqlite_store *s, const struct store_endpoint *e,
                               struct err_detail *d)
{
    if (e->application_id[0] &&
        strncmp(e->application_id, STORE_DEFAULT_APP_PREFIX, strlen(STORE_DEFAULT_APP_PREFIX)) != 0)
        return ERR_OK; /* only HookBridge's endpoints have unique URLs */
    sqlite3_stmt *q = store__st(s, S_EP_URL_TAKEN);
    store__bind_text(q, 1, e->mode);
    store__bind_text(q, 2, e->url);
    store__bind_text(q, 3, e->id);
    int rc = sqlite3_step(q);
    enum err r = ERR_OK;
    if (rc == SQLITE_ROW)
        r = err_set(d, ERR_CONFLICT, "DUPLICATE_URL", "endpoint %s already uses this URL",
                    (const char *)sqlite3_column_text(q, 0));
    else if (rc != SQLITE_DONE)
        r = store__db_err(s, rc, d, "check endpoint url");
    sqlite3_reset(q);
    return r;
}

enum err sqlite_endpoint_insert(struct store *st, const struct store_endpoint *e,
                                const struct store_signing_key *k, struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    enum err r = check_url_free(s, e, d);
    if (r == ERR_OK)
        r = check_uid_free(s, e, d);
    if (r != ERR_OK)
        return r;
    sqlite3_stmt *q = store__st(s, S_EP_INSERT);
    bind_tenancy(q, e);
    store__bind_text(q, 1, e->id);
    store__bind_text(q, 2, e->mode);
    store__bind_text(q, 3, e->url);
    store__bind_text(q, 4, e->description);
    store__bind_text(q, 5, e->headers_json);
    sqlite3_bind_int(q, 6, e->rate_limit_rps);
    sqlite3_bind_int(q, 7, e->burst);
    sqlite3_bind_int(q, 8, e->paused);
    sqlite3_bind_int(q, 9, e->hmac_enabled);
    sqlite3_bind_int64(q, 10, e->created_at_ms);
    sqlite3_bind_int64(q, 11, e->updated_at_ms);
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    if (rc == SQLITE_CONSTRAINT)
        return err_set(d, ERR_CONFLICT, "INVALID_REQUEST", "endpoint id already exists");
    if (rc != SQLITE_DONE)
        return store__db_err(s, rc, d, "insert endpoint");
    if ((r = write_subscriptions(s, e, d)) != ERR_OK)
        return r;
    char sealed[STORE__SEALED_MAX];
    if ((r = store__seal(s, "signing_keys.secret", k->id, k->secret, sealed, sizeof(sealed), d)) !=
        ERR_OK)
        return r;
    q = store__st(s, S_SK_INSERT);
    store__bind_text(q, 1, k->id);
    store__bind_text(q, 2, e->id);
    store__bind_text(q, 3, sealed);
    sqlite3_bind_int64(q, 4, k->created_at_ms);
    return store__exec(s, q, d, "insert signing key");
}

enum err sqlite_endpoint_get(struct store *st, const char *mode, const char *id,
                             bool include_deleted, struct store_endpoint *out, struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    sqlite3_stmt *q = store__st(s, S_EP_GET);
    store__bind_text(q, 1, id);
    store__bind_text(q, 2, mode);
    sqlite3_bind_int(q, 3, include_deleted);
    int rc = sqlite3_step(q);
    enum err e = ERR_OK;
    if (rc == SQLITE_ROW)
        read_endpoint(q, out);
    else if (rc == SQLITE_DONE)
        e = err_set(d, ERR_NOTFOUND, "ENDPOINT_NOT_FOUND", "endpoint '%s' not found", id);
    else
        e = store__db_err(s, rc, d, "read endpoint");
    sqlite3_reset(q);
    return e;
}

enum err sqlite_endpoint_update(struct store *st, const struct store_endpoint *e,
                                struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    enum err r0 = check_url_free(s, e, d);
    if (r0 == ERR_OK)
        r0 = check_uid_free(s, e, d);
    if (r0 != ERR_OK)
        return r0;
    sqlite3_stmt *q = store__st(s, S_EP_UPDATE);
    bind_tenancy(q, e);
    store__bind_text(q, 1, e->id);
    store__bind_text(q, 2, e->url);
    store__bind_text(q, 3, e->description);
    store__bind_text(q, 4, e->headers_json);
    sqlite3_bind_int(q, 5, e->rate_limit_rps);
    sqlite3_bind_int(q, 6, e->burst);
    sqlite3_bind_int(q, 7, e->paused);
    sqlite3_bind_int(q, 8, e->hmac_enabled);
    sqlite3_bind_int64(q, 9, e->updated_at_ms);
    store__bind_opt_int(q, 22, e->verified_at_ms, 0);
    enum err r = store__exec(s, q, d, "update endpoint");
    if (r == ERR_OK && sqlite3_changes(s->db) == 0)
        return err_set(d, ERR_NOTFOUND, "ENDPOINT_NOT_FOUND", "endpoint '%s' not found", e->id);
    if (r == ERR_OK)
        r = write_subscriptions(s, e, d);
    if (r == ERR_OK && store__feed(s))
        feed_push_endpoint_changed(store__feed(s), e->id);
    return r;
}

enum err sqlite_endpoint_delete(struct store *st, const char *mode, const char *id, int64_t now_ms,
                                struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    sqlite3_stmt *q = store__st(s, S_EP_DELETE);
    store__bind_text(q, 1, id);
    store__bind_text(q, 2, mode);
    sqlite3_bind_int64(q, 3, now_ms);
    enum err r = store__exec(s, q, d, "delete endpoint");
    if (r == ERR_OK && sqlite3_changes(s->db) == 0)
        return err_set(d, ERR_NOTFOUND, "ENDPOINT_NOT_FOUND", "endpoint '%s' not found", id);
    if (r == ERR_OK && store__feed(s))
        feed_push_endpoint_changed(store__feed(s), id);
    return r;
}

/* By id, else by uid, each on its own index (as store_application_get). */
static const char SQL_EP_FIND_ID[] = "SELECT " EP_COLS " FROM endpoints WHERE id = ?3 "
                                     "AND mode = ?1 AND application_id = ?2 AND deleted_at IS NULL";
static const char SQL_EP_FIND_UID[] = "SELECT " EP_COLS " FROM endpoints WHERE application_id = ?2 "
                                      "AND uid = ?3 AND mode = ?1 AND deleted_at IS NULL";
static const char SQL_EP_APP_SEQ[] =
    "SELECT seq FROM endpoints WHERE id = ?1 AND application_id = ?2 AND deleted_at IS NULL";
static const char SQL_EP_APP_ASC[] = "SELECT " EP_COLS " FROM endpoints WHERE mode = ?1 "
                                     "AND application_id = ?2 AND deleted_at IS NULL "
                                     "AND seq > ?3 ORDER BY seq LIMIT ?4";
static const char SQL_EP_APP_DESC[] = "SELECT " EP_COLS " FROM endpoints WHERE mode = ?1 "
                                      "AND application_id = ?2 AND deleted_at IS NULL "
                                      "AND seq < ?3 ORDER BY seq DESC LIMIT ?4";

enum err store__iterator_seq(struct sqlite_store *s, const char *sql, const char *id,
                             const char *scope, int64_t *out, struct err_detail *d)
{
    sqlite3_stmt *q = store__prepare(s, sql);
    store__bind_text(q, 1, id);
    store__bind_text(q, 2, scope);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(q, 0);
    sqlite3_reset(q);
    if (rc == SQLITE_DONE)
        return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", "iterator",
                             "'iterator' is not an iterator of this list");
    return rc == SQLITE_ROW ? ERR_OK : store__db_err(s, rc, d, "read iterator");
}

enum err sqlite_endpoint_find(struct store *st, const char *mode, const char *app_id,
                              const char *id_or_uid, struct store_endpoint *out,
                              struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    int rc = SQLITE_DONE;
    for (int pass = 0; pass < 2 && rc == SQLITE_DONE; pass++) {
        sqlite3_stmt *q = store__prepare(s, pass == 0 ? SQL_EP_FIND_ID : SQL_EP_FIND_UID);
        store__bind_text(q, 1, mode);
        store__bind_text(q, 2, app_id);
        store__bind_text(q, 3, id_or_uid);
        rc = sqlite3_step(q);
        if (rc == SQLITE_ROW)
            read_endpoint(q, out);
        sqlite3_reset(q);
    }
    if (rc == SQLITE_ROW)
        return ERR_OK;
    if (rc == SQLITE_DONE)
        return err_set(d, ERR_NOTFOUND, "ENDPOINT_NOT_FOUND", "endpoint '%s' not found", id_or_uid);
    return store__db_err(s, rc, d, "read endpoint");
}

enum err sqlite_endpoint_list_app(struct store *st, const char *mode, const char *app_id,
                                  const char *after_id, bool descending, int limit,
                                  struct store_endpoint *out, int *n, bool *has_more,
                                  struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    int64_t seq = descending ? INT64_MAX : 0;
    *n = 0;
    *has_more = false;
    sqlite3_stmt *q;
    int rc;
    if (after_id && after_id[0]) {
        enum err e = store__iterator_seq(s, SQL_EP_APP_SEQ, after_id, app_id, &seq, d);
        if (e != ERR_OK)
            return e;
    }
    q = store__prepare(s, descending ? SQL_EP_APP_DESC : SQL_EP_APP_ASC);
    store__bind_text(q, 1, mode);
    store__bind_text(q, 2, app_id);
    sqlite3_bind_int64(q, 3, seq);
    sqlite3_bind_int(q, 4, limit + 1);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (*n == limit) {
            *has_more = true;
            break;
        }
        read_endpoint(q, &out[(*n)++]);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        for (int i = 0; i < *n; i++)
            store_endpoint_release(&out[i]);
        *n = 0;
        return store__db_err(s, rc, d, "list endpoints");
    }
    return ERR_OK;
}

enum err sqlite_endpoint_list(struct store *st, const char *mode, const char *cursor, int limit,
                              struct store_endpoint *out, int *n, bool *has_more,
                              struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    bool after = cursor && cursor[0];
    sqlite3_stmt *q;
    if (after) { /* a cursor is the id of the last endpoint of the previous page */
        q = store__st(s, S_EP_CURSOR);
        store__bind_text(q, 1, cursor);
        store__bind_text(q, 2, mode);
        int rc0 = sqlite3_step(q);
        sqlite3_reset(q);
        if (rc0 == SQLITE_DONE)
            return err_set(d, ERR_INVAL, "INVALID_REQUEST",
                           "'cursor' is not a cursor of this list");
        if (rc0 != SQLITE_ROW)
            return store__db_err(s, rc0, d, "check cursor");
    }
    q = store__st(s, after ? S_EP_LIST_AFTER : S_EP_LIST);
    store__bind_text(q, 1, mode);
    sqlite3_bind_int(q, 2, limit + 1); /* one extra row tells has_more */
    if (after)
        store__bind_text(q, 3, cursor);
    int rc;
    *n = 0;
    *has_more = false;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (*n == limit) {
            *has_more = true;
            break;
        }
        memset(&out[*n], 0, sizeof(out[*n]));
        read_endpoint(q, &out[(*n)++]);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        for (int i = 0; i < *n; i++)
            store_endpoint_release(&out[i]);
        *n = 0;
        return store__db_err(s, rc, d, "list endpoints");
    }
    return ERR_OK;
}

enum err sqlite_signing_keys_active(struct store *st, const char *endpoint_id, int64_t now_ms,
                                    struct store_signing_key *out, int *n, struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    sqlite3_stmt *q = store__st(s, S_SK_ACTIVE);
    store__bind_text(q, 1, endpoint_id);
    sqlite3_bind_int64(q, 2, now_ms);
    int rc;
    *n = 0;
    enum err e = ERR_OK;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW && *n < STORE_MAX_ACTIVE_KEYS) {
        store__col_copy(out[*n].id, sizeof(out[*n].id), q, 0);
        e = store__unseal(s, "signing_keys.secret", out[*n].id,
                          (const char *)sqlite3_column_text(q, 1), out[*n].secret,
                          sizeof(out[*n].secret), d);
        if (e != ERR_OK)
            break;
        out[*n].created_at_ms = sqlite3_column_int64(q, 2);
        out[*n].expires_at_ms = sqlite3_column_int64(q, 3); /* NULL reads 0: none */
        (*n)++;
    }
    sqlite3_reset(q);
    if (e == ERR_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
        e = store__db_err(s, rc, d, "read signing keys");
    if (e != ERR_OK) { /* never hand out part of the keys, nor a secret that did not open */
        for (int i = 0; i < STORE_MAX_ACTIVE_KEYS; i++)
            explicit_bzero(out[i].secret, sizeof(out[i].secret));
        *n = 0;
    }
    return e;
}

/* ---- sends and messages ---- */

/* ERR_NOTFOUND unless endpoint id of mode exists and is not deleted; a send to
 * an endpoint found live since the endpoints last changed reads nothing. *dedupe
 * is its deduplicate rule (NULL = none), borrowed from the cache slot until the
 * next call: the rule is parsed once per slot fill, and only for an endpoint
 * whose policy has one. */
static enum err check_endpoint_live(struct sqlite_store *s, const char *id, const char *mode,
                                    const struct dedupe_policy **dedupe, struct err_detail *d)
{
    unsigned h = 2166136261u;
    for (const char *p = id; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    struct store__live_ep *slot = &s->live_ep[h % STORE__LIVE_EP_SLOTS];
    if (slot->gen == s->ep_gen && strcmp(slot->id, id) == 0 && strcmp(slot->mode, mode) == 0) {
        *dedupe = slot->dedupe;
        return ERR_OK;
    }
    *dedupe = NULL;
    if (strlen(id) >= sizeof(slot->id) || strlen(mode) >= sizeof(slot->mode))
        return err_set(d, ERR_NOTFOUND, "ENDPOINT_NOT_FOUND", "endpoint '%s' not found", id);
    sqlite3_stmt *q = store__st(s, S_EP_LIVE);
    store__bind_text(q, 1, id);
    store__bind_text(q, 2, mode);
    int rc = sqlite3_step(q);
    struct dedupe_policy *rule = NULL;
    if (rc == SQLITE_ROW)
        rule = store__dedupe_policy_of((const char *)sqlite3_column_text(q, 0));
    sqlite3_reset(q);
    if (rc == SQLITE_DONE)
        return err_set(d, ERR_NOTFOUND, "ENDPOINT_NOT_FOUND", "endpoint '%s' not found", id);
    if (rc != SQLITE_ROW)
        return store__db_err(s, rc, d, "check endpoint");
    store__dedupe_policy_free(slot->dedupe);
    strcpy(slot->id, id);
    strcpy(slot->mode, mode);
    slot->gen = s->ep_gen;
    slot->dedupe = rule;
    *dedupe = rule;
    return ERR_OK;
}

enum err sqlite_send_insert(struct store *st, const struct store_send *in, char existing_id[ID_MAX],
                            bool *existed, struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    *existed = false;
    const struct dedupe_policy *rule;
    enum err e = check_endpoint_live(s, in->endpoint_id, in->mode, &rule, d);
    if (e != ERR_OK)
        return e;
    sqlite3_stmt *q;
    int rc;

    bool has_key = in->idempotency_key && in->idempotency_key[0];
    if (has_key) {
        q = store__st(s, S_IDEM_FIND);
        store__bind_text(q, 1, in->endpoint_id);
        store__bind_text(q, 2, in->idempotency_key);
        rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) {
            const char *sha = (const char *)sqlite3_column_text(q, 1);
            bool same = sha && strcmp(sha, in->payload_sha256) == 0;
            store__col_copy(existing_id, ID_MAX, q, 0);
            sqlite3_reset(q);
            if (!same)
                return err_set(d, ERR_CONFLICT, "IDEMPOTENCY_MISMATCH",
                               "idempotency key '%s' was used with a different payload",
                               in->idempotency_key);
            *existed = true;
            return ERR_OK;
        }
        sqlite3_reset(q);
        if (rc != SQLITE_DONE)
            return store__db_err(s, rc, d, "check idempotency key");
    }

    /* Only endpoints with a deduplicate rule get here (store_dedupe.c). */
    bool duplicate = false;
    if (rule &&
        (e = store__dedupe_see(s, in->endpoint_id, rule, in->payload, in->payload_len,
                               in->headers_json, NULL, in->now_ms, &duplicate, d)) != ERR_OK)
        return e;

    q = store__st(s, S_EVENT_INSERT);
    store__bind_text(q, 1, in->content_type);
    sqlite3_bind_blob(q, 2, in->payload, (int)in->payload_len, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, in->now_ms);
    e = store__exec(s, q, d, "insert event");
    if (e != ERR_OK)
        return e;
    sqlite3_int64 event_id = sqlite3_last_insert_rowid(s->db);

    q = store__st(s, duplicate ? S_MSG_INSERT_DEDUPED : S_MSG_INSERT);
    store__bind_text(q, 1, in->message_id);
    sqlite3_bind_int64(q, 2, event_id);
    store__bind_text(q, 3, in->endpoint_id);
    store__bind_text(q, 4, in->mode);
    store__bind_text(q, 5, in->headers_json);
    store__bind_text(q, 6, has_key ? in->idempotency_key : NULL);
    store__bind_text(q, 7, in->payload_sha256);
    sqlite3_bind_int64(q, 8, (sqlite3_int64)in->payload_len);
    store__bind_opt_int(q, 9, in->retention_hours, -1);
    sqlite3_bind_int64(q, 10, in->now_ms);
    store__bind_opt_int(q, 11, in->payload_expires_at_ms, 0);
    if ((e = store__exec(s, q, d, "insert message")) != ERR_OK)
        return e;
    struct feed *f = store__feed(s);
    if (f && !duplicate) /* the first attempt needs nothing read back */
        feed_item_attach(feed_push_due(f, in->message_id, in->endpoint_id, 0, in->now_ms),
                         in->payload, in->payload_len, in->content_type, in->headers_json, NULL);
    /* total counts sends accepted, a deduplicated one too (never succeeded or failed) */
    struct store_rollup delta = {.total = 1};
    return store__rollup_add(s, in->mode, in->endpoint_id, in->now_ms, &delta, d);
}

enum err sqlite_message_get(struct store *st, const char *mode, const char *id,
                            struct store_message *m, struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    sqlite3_stmt *q = store__st(s, S_MSG_GET);
    store__bind_text(q, 1, id);
    store__bind_text(q, 2, mode);
    int rc = sqlite3_step(q);
    enum err e = ERR_OK;
    if (rc == SQLITE_ROW) {
        memset(m, 0, sizeof(*m));
        store__col_copy(m->id, sizeof(m->id), q, 0);
        store__col_copy(m->endpoint_id, sizeof(m->endpoint_id), q, 1);
        m->status = (enum store_status)sqlite3_column_int(q, 2);
        m->attempt_count = sqlite3_column_int(q, 3);
        m->replay_count = sqlite3_column_int(q, 4);
        store__col_copy(m->content_type, sizeof(m->content_type), q, 5);
        m->size_bytes = sqlite3_column_int64(q, 6);
        store__col_copy(m->payload_sha256, sizeof(m->payload_sha256), q, 7);
        store__col_copy(m->idempotency_key, sizeof(m->idempotency_key), q, 8);
        m->next_attempt_at_ms = store__col_opt_int(q, 9, 0);
        m->last_error = store__col_dup(q, 10);
        m->response_status = (int)store__col_opt_int(q, 11, 0);
        m->response_latency_ms = store__col_opt_int(q, 12, -1);
        m->created_at_ms = sqlite3_column_int64(q, 13);
        m->updated_at_ms = sqlite3_column_int64(q, 14);
        m->delivered_at_ms = store__col_opt_int(q, 15, 0);
        m->failed_at_ms = store__col_opt_int(q, 16, 0);
    } else if (rc == SQLITE_DONE) {
        e = err_set(d, ERR_NOTFOUND, "MESSAGE_NOT_FOUND", "message '%s' not found", id);
    } else {
        e = store__db_err(s, rc, d, "read message");
    }
    sqlite3_reset(q);
    return e;
}

/* ---- attempts ---- */

static enum err insert_attempt(struct sqlite_store *s, const struct store_attempt *a,
                               int64_t replay_no, struct err_detail *d)
{
    sqlite3_stmt *q = store__st(s, S_ATTEMPT_INSERT);
    store__bind_text(q, 1, a->id);
    store__bind_text(q, 2, a->message_id);
    sqlite3_bind_int(q, 3, a->attempt_no);
    sqlite3_bind_int64(q, 4, a->created_at_ms);
    store__bind_opt_int(q, 5, a->response_status, 0);
    sqlite3_bind_int64(q, 6, a->latency_ms);
    store__bind_text(q, 7, a->error_text);
    store__bind_text(q, 8, a->response_body);
    sqlite3_bind_int(q, 9, a->response_body_truncated);
    store__bind_text(q, 10, a->response_headers_json);
    store__bind_text(q, 11, a->request_headers_json);
    store__bind_text(q, 12, a->retry_type);
    store__bind_opt_int(q, 13, a->retry_after_seconds, -1);
    store__bind_text(q, 14, a->resolved_ip[0] ? a->resolved_ip : NULL);
    sqlite3_bind_int(q, 15, a->conn_reused);
    store__bind_opt_int(q, 16, a->dns_ms, -1);
    store__bind_opt_int(q, 17, a->tcp_connect_ms, -1);
    store__bind_opt_int(q, 18, a->tls_handshake_ms, -1);
    store__bind_opt_int(q, 19, a->ttfb_ms, -1);
    store__bind_opt_int(q, 20, a->transfer_ms, -1);
    sqlite3_bind_int64(q, 21, replay_no);
    return store__exec(s, q, d, "insert attempt");
}

/* Move the message to the attempt's outcome if it is still at sched_version;
 * *moved says whether it was. */
static enum err move_message(struct sqlite_store *s, const struct store_attempt *a,
                             enum store_status new_status, int64_t next_attempt_at_ms,
                             int64_t sched_version, bool *moved, struct err_detail *d)
{
    sqlite3_stmt *q = store__st(s, S_MSG_RESULT);
    store__bind_text(q, 1, a->message_id);
    sqlite3_bind_int(q, 2, (int)new_status);
    sqlite3_bind_int(q, 3, a->attempt_no);
    store__bind_opt_int(q, 4, new_status == STATUS_PENDING_RETRY ? next_attempt_at_ms : 0, 0);
    store__bind_text(q, 5, new_status == STATUS_SUCCEEDED ? NULL : a->error_text);
    store__bind_opt_int(q, 6, a->response_status, 0);
    sqlite3_bind_int64(q, 7, a->latency_ms);
    sqlite3_bind_int64(q, 8, a->created_at_ms + a->latency_ms);
    sqlite3_bind_int64(q, 9, sched_version);
    enum err e = store__exec(s, q, d, "update message");
    *moved = e == ERR_OK && sqlite3_changes(s->db) == 1;
    return e;
}

static enum err count_outcome(struct sqlite_store *s, const char *mode, const char *endpoint_id,
                              const struct store_attempt *a, enum store_status new_status,
                              struct err_detail *d)
{
    struct store_rollup delta;
    if (!store__attempt_delta(a, new_status, &delta))
        return ERR_OK;
    return store__rollup_add(s, mode, endpoint_id, a->created_at_ms + a->latency_ms, &delta, d);
}

enum err sqlite_attempt_record(struct store *st, const struct store_attempt *a,
                               enum store_status new_status, int64_t next_attempt_at_ms,
                               int64_t sched_version, struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    enum err e;
    bool moved;
    if (sched_version == 0 && a->mode[0] && a->endpoint_id[0]) {
        /* The common case, without reading the message: never rescheduled, so
         * replay 0, and the caller knows its mode and endpoint. */
        if ((e = move_message(s, a, new_status, next_attempt_at_ms, 0, &moved, d)) != ERR_OK)
            return e;
        if (moved) {
            if ((e = insert_attempt(s, a, 0, d)) != ERR_OK)
                return e;
            return count_outcome(s, a->mode, a->endpoint_id, a, new_status, d);
        }
        /* rescheduled, deleted or purged meanwhile: as below */
    }
    /* One read of the message (the single writer: nothing changes it between
     * this and the writes), then the attempt row and the message's move. */
    sqlite3_stmt *q = store__st(s, S_MSG_FOR_RESULT);
    store__bind_text(q, 1, a->message_id);
    int rc = sqlite3_step(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        sqlite3_reset(q);
        return store__db_err(s, rc, d, "read message");
    }
    if (rc == SQLITE_DONE) { /* purged by history retention meanwhile: nothing to keep */
        sqlite3_reset(q);
        return ERR_OK;
    }
    char mode[8], endpoint_id[ID_MAX];
    store__col_copy(mode, sizeof(mode), q, 0);
    store__col_copy(endpoint_id, sizeof(endpoint_id), q, 1);
    int64_t replay_no = sqlite3_column_int64(q, 2);
    bool current = sqlite3_column_int64(q, 3) == sched_version;
    sqlite3_reset(q);
    if ((e = insert_attempt(s, a, replay_no, d)) != ERR_OK)
        return e;
    if (!current) /* deleted or rescheduled meanwhile: the attempt is history only */
        return ERR_OK;
    if ((e = move_message(s, a, new_status, next_attempt_at_ms, sched_version, &moved, d)) !=
        ERR_OK)
        return e;
    return count_outcome(s, mode, endpoint_id, a, new_status, d);
}

enum err sqlite_attempt_list(struct store *st, const char *message_id, const char *after_id,
                             int max, struct store_attempt *out, int *n, bool *has_more,
                             struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    sqlite3_stmt *q = store__st(s, S_ATTEMPT_LIST);
    store__bind_text(q, 1, message_id);
    sqlite3_bind_int(q, 2, max + 1);
    store__bind_text(q, 3, after_id ? after_id : "");
    int rc;
    *n = 0;
    *has_more = false;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (*n == max) {
            *has_more = true;
            break;
        }
        struct store_attempt *a = &out[(*n)++];
        memset(a, 0, sizeof(*a));
        store__col_copy(a->id, sizeof(a->id), q, 0);
        store__col_copy(a->message_id, sizeof(a->message_id), q, 1);
        a->attempt_no = sqlite3_column_int(q, 2);
        a->created_at_ms = sqlite3_column_int64(q, 3);
        a->response_status = (int)store__col_opt_int(q, 4, 0);
        a->latency_ms = store__col_opt_int(q, 5, -1);
        a->error_text = store__col_dup(q, 6);
        a->response_body = store__col_dup(q, 7);
        a->response_body_truncated = sqlite3_column_int(q, 8) != 0;
        a->response_headers_json = store__col_dup(q, 9);
        a->request_headers_json = store__col_dup(q, 10);
        const char *rt = (const char *)sqlite3_column_text(q, 11);
        a->retry_type = !rt ? NULL : strcmp(rt, "fast") == 0 ? "fast" : "slow";
        a->retry_after_seconds = store__col_opt_int(q, 12, -1);
        store__col_copy(a->resolved_ip, sizeof(a->resolved_ip), q, 13);
        a->conn_reused = sqlite3_column_int(q, 14) != 0;
        a->dns_ms = store__col_opt_int(q, 15, -1);
        a->tcp_connect_ms = store__col_opt_int(q, 16, -1);
        a->tls_handshake_ms = store__col_opt_int(q, 17, -1);
        a->ttfb_ms = store__col_opt_int(q, 18, -1);
        a->transfer_ms = store__col_opt_int(q, 19, -1);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        for (int i = 0; i < *n; i++)
            store_attempt_release(&out[i]);
        *n = 0;
        return store__db_err(s, rc, d, "list attempts");
    }
    return ERR_OK;
}

/* ---- delivery ---- */

enum err sqlite_delivery_load(struct store *st, const char *message_id, struct store_delivery *out,
                              struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    sqlite3_stmt *q = store__st(s, S_DELIVERY_LOAD);
    store__bind_text(q, 1, message_id);
    int rc = sqlite3_step(q);
    enum err e = ERR_OK;
    if (rc == SQLITE_ROW) {
        memset(out, 0, sizeof(*out));
        int n = sqlite3_column_bytes(q, 0);
        const void *p = sqlite3_column_blob(q, 0);
        out->payload = malloc((size_t)n + 1);
        if (!out->payload)
            abort();
        if (n)
            memcpy(out->payload, p, (size_t)n);
        out->payload[n] = '\0';
        out->payload_len = (size_t)n;
        out->content_type = store__col_dup(q, 1);
        out->headers_json = store__col_dup(q, 2);
        out->attempt_count = sqlite3_column_int(q, 3);
        out->status = (enum store_status)sqlite3_column_int(q, 4);
        out->sched_version = sqlite3_column_int64(q, 5);
        out->webhook_id = store__col_dup(q, 6);
    } else if (rc == SQLITE_DONE) {
        e = err_set(d, ERR_NOTFOUND, "MESSAGE_NOT_FOUND", "message '%s' not found", message_id);
    } else {
        e = store__db_err(s, rc, d, "load delivery");
    }
    sqlite3_reset(q);
    return e;
}

/* ---- one node: a SQLite store belongs to one process (hookd.lock) ---- */

bool sqlite_shared(struct store *st)
{
    (void)st;
    return false;
}

enum err sqlite_node_start(struct store *st, store_feed_fn fn, void *ctx, struct err_detail *d)
{
    (void)st;
    (void)fn;
    (void)ctx;
    (void)d;
    return ERR_OK;
}

void sqlite_node_stop(struct store *st)
{
    (void)st;
}

int sqlite_live_nodes(struct store *st)
{
    (void)st;
    return 1;
}

const struct store_ops sqlite_store_ops = {
#define OP(ret, name, params, args) .name = sqlite_##name,
#define OPV(name, params, args) .name = sqlite_##name,
#include "store/store_ops.def"
#undef OP
#undef OPV
};

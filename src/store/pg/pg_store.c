/*
 * pg_store - the PostgreSQL backend's connection, transactions, migrations and
 * query layer (pg_internal.h). See docs/operations/postgresql.md.
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg/pg_internal.h"
#include "util/log.h"
#include "util/utf8.h"

static enum err result_err(struct pg_store *s, const PGresult *r, struct err_detail *d,
                           const char *what)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = r ? PQresultErrorMessage(r) : PQerrorMessage(s->conn);
    enum err e = ERR_IO;
    if (state && (!strcmp(state, "23505") || !strcmp(state, "23P01")))
        e = ERR_CONFLICT;
    else if (state && (!strcmp(state, "40001") || !strcmp(state, "40P01")))
        e = ERR_BUSY;
    char clean[512];
    snprintf(clean, sizeof(clean), "%s", msg && msg[0] ? msg : "connection lost");
    clean[strcspn(clean, "\n")] = '\0';
    return err_set(d, e, "INTERNAL_ERROR", "cannot %s: %s", what, clean);
}

/* A statement failed: outside a savepoint, the open transaction is now unusable. */
static void note_failure(struct pg_store *s)
{
    if (s->in_batch && !(s->in_op && s->op_guarded))
        s->tx_failed = true;
}

enum err pg_exec(struct pg_store *s, const char *sql, struct err_detail *d, const char *what)
{
    PGresult *r = PQexec(s->conn, sql);
    ExecStatusType st = PQresultStatus(r);
    enum err e = ERR_OK;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        e = result_err(s, r, d, what);
        note_failure(s);
    }
    PQclear(r);
    return e;
}

/* ---- the query layer ---- */

void pgq_init(struct pgq *q, struct pg_store *s, const char *sql)
{
    memset(q, 0, sizeof(*q));
    q->s = s;
    q->sql = sql;
    q->row = -1;
}

static void bind(struct pgq *q, int i, const char *v, int len, int fmt)
{
    if (i < 1 || i > PGQ_MAX_PARAMS)
        abort(); /* a programming error: the statement has more parameters than the layer */
    q->vals[i - 1] = v;
    q->lens[i - 1] = len;
    q->fmts[i - 1] = fmt;
    if (i > q->n)
        q->n = i;
}

void pgq_text(struct pgq *q, int i, const char *v)
{
    size_t len = v ? strlen(v) : 0;
    if (v && !utf8_is_valid(v, len)) {
        /* PostgreSQL refuses text that is not UTF-8 (SQLite keeps the bytes): what
         * hookd would show of it anyway, with U+FFFD for each bad byte */
        if (i < 1 || i > PGQ_MAX_PARAMS)
            abort();
        free(q->owned[i - 1]);
        size_t cap = len * 3 + 1;
        q->owned[i - 1] = malloc(cap);
        if (!q->owned[i - 1])
            abort();
        utf8_sanitize(q->owned[i - 1], cap, v, len);
        v = q->owned[i - 1];
    }
    bind(q, i, v, 0, 0);
}

void pgq_int(struct pgq *q, int i, int64_t v)
{
    if (i < 1 || i > PGQ_MAX_PARAMS)
        abort();
    snprintf(q->ints[i - 1], sizeof(q->ints[0]), "%lld", (long long)v);
    bind(q, i, q->ints[i - 1], 0, 0);
}

void pgq_opt_int(struct pgq *q, int i, int64_t v, int64_t none)
{
    if (v == none)
        pgq_null(q, i);
    else
        pgq_int(q, i, v);
}

void pgq_null(struct pgq *q, int i)
{
    bind(q, i, NULL, 0, 0);
}

void pgq_blob(struct pgq *q, int i, const void *p, size_t n)
{
    /* an empty BYTEA still needs a non-NULL pointer, or it is SQL NULL */
    bind(q, i, p ? (const char *)p : "", (int)n, 1);
}

/* Does sql write the endpoints table (and so end what pg_delivery.c keeps of them)? */
static bool writes_endpoints(const char *sql)
{
    return strstr(sql, "UPDATE endpoints") || strstr(sql, "INSERT INTO endpoints") ||
           strstr(sql, "DELETE FROM endpoints");
}

/* The name of sql's prepared statement on this connection, preparing it on first use
 * (NULL: run it unprepared); *writes_ep is writes_endpoints(sql), worked out once. */
static const char *prepared(struct pg_store *s, const char *sql, struct err_detail *d,
                            const char *what, enum err *e, bool *writes_ep)
{
    for (int i = 0; i < s->nstmts; i++)
        if (s->stmts[i].sql == sql) {
            *writes_ep = s->stmts[i].writes_endpoints;
            return s->stmts[i].name;
        }
    *writes_ep = writes_endpoints(sql);
    if (s->nstmts == PG_STMT_CACHE)
        return NULL; /* run unprepared */
    char name[16];
    snprintf(name, sizeof(name), "h%d", s->nstmts);
    PGresult *r = PQprepare(s->conn, name, sql, 0, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        *e = result_err(s, r, d, what);
        note_failure(s);
        PQclear(r);
        return NULL;
    }
    PQclear(r);
    s->stmts[s->nstmts].sql = sql;
    s->stmts[s->nstmts].writes_endpoints = *writes_ep;
    snprintf(s->stmts[s->nstmts].name, sizeof(s->stmts[0].name), "%s", name);
    return s->stmts[s->nstmts++].name;
}

/* Outside a transaction, a lost connection is re-opened (a restarted or failed-over
 * server): its prepared statements are gone with it. */
static void reconnect_if_lost(struct pg_store *s)
{
    if (PQstatus(s->conn) != CONNECTION_BAD || s->in_batch)
        return;
    PQreset(s->conn);
    s->nstmts = 0;
    if (PQstatus(s->conn) == CONNECTION_OK)
        log_warn("store", "reconnected to PostgreSQL");
}

enum err pgq_run(struct pgq *q, struct err_detail *d, const char *what)
{
    struct pg_store *s = q->s;
    PQclear(q->res);
    q->res = NULL;
    q->row = -1;
    q->nrows = 0;
    reconnect_if_lost(s);
    enum err e = ERR_OK;
    bool writes_ep = false;
    const char *name = prepared(s, q->sql, d, what, &e, &writes_ep);
    if (writes_ep) /* even when it fails: what a send kept may no longer hold */
        s->ep_gen++;
    if (e != ERR_OK)
        return e;
    q->res = name ? PQexecPrepared(s->conn, name, q->n, q->vals, q->lens, q->fmts, 0)
                  : PQexecParams(s->conn, q->sql, q->n, NULL, q->vals, q->lens, q->fmts, 0);
    ExecStatusType st = PQresultStatus(q->res);
    if (st == PGRES_TUPLES_OK) {
        q->nrows = PQntuples(q->res);
        const char *ct = PQcmdTuples(q->res); /* INSERT/UPDATE/DELETE ... RETURNING */
        if (ct[0] && strncmp(PQcmdStatus(q->res), "SELECT", 6) != 0)
            s->op_writes += atoll(ct);
        return ERR_OK;
    }
    if (st == PGRES_COMMAND_OK) {
        s->op_writes += atoll(PQcmdTuples(q->res));
        return ERR_OK;
    }
    e = result_err(s, q->res, d, what);
    note_failure(s);
    return e;
}

bool pgq_next(struct pgq *q)
{
    if (!q->res || q->row + 1 >= q->nrows)
        return false;
    q->row++;
    return true;
}

int pgq_rows(const struct pgq *q)
{
    return q->nrows;
}

int64_t pgq_changes(const struct pgq *q)
{
    return q->res ? atoll(PQcmdTuples(q->res)) : 0;
}

bool pgq_isnull(const struct pgq *q, int c)
{
    return PQgetisnull(q->res, q->row, c) != 0;
}

const char *pgq_str(const struct pgq *q, int c)
{
    return pgq_isnull(q, c) ? NULL : PQgetvalue(q->res, q->row, c);
}

int64_t pgq_i64(const struct pgq *q, int c)
{
    return pgq_opt_i64(q, c, 0);
}

int64_t pgq_opt_i64(const struct pgq *q, int c, int64_t none)
{
    const char *v = pgq_str(q, c);
    if (!v)
        return none;
    if (v[0] == 't' || v[0] == 'f') /* a boolean expression's column */
        return v[0] == 't';
    return strtoll(v, NULL, 10);
}

bool pgq_bool(const struct pgq *q, int c)
{
    return pgq_i64(q, c) != 0;
}

char *pgq_dup(const struct pgq *q, int c)
{
    const char *v = pgq_str(q, c);
    if (!v)
        return NULL;
    char *out = strdup(v);
    if (!out)
        abort();
    return out;
}

void pgq_copy(char *dst, size_t len, const struct pgq *q, int c)
{
    const char *v = pgq_str(q, c);
    snprintf(dst, len, "%s", v ? v : "");
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c - 'A' + 10;
}

void *pgq_bytes(const struct pgq *q, int c, size_t *len)
{
    *len = 0;
    const char *v = pgq_str(q, c);
    if (!v)
        return NULL;
    size_t n = strlen(v);
    unsigned char *out = malloc(n / 2 + 1);
    if (!out)
        abort();
    if (v[0] == '\\' && v[1] == 'x') { /* bytea_output = hex, the default since 9.0 */
        for (size_t i = 2; i + 1 < n; i += 2)
            out[(*len)++] = (unsigned char)(hexval(v[i]) << 4 | hexval(v[i + 1]));
    } else { /* not BYTEA after all: the text itself */
        memcpy(out, v, n);
        *len = n;
    }
    out[*len] = '\0';
    return out;
}

bool pgq_bytes_n(const struct pgq *q, int c, void *out, size_t n)
{
    size_t len = 0;
    void *b = pgq_bytes(q, c, &len);
    bool ok = b && len == n;
    if (ok)
        memcpy(out, b, n);
    free(b);
    return ok;
}

void pgq_done(struct pgq *q)
{
    PQclear(q->res);
    q->res = NULL;
    for (int i = 0; i < PGQ_MAX_PARAMS; i++) {
        free(q->owned[i]);
        q->owned[i] = NULL;
    }
}

enum err pg__iterator_seq(struct pg_store *s, const char *sql, const char *id, const char *scope,
                          int64_t *out, struct err_detail *d)
{
    struct pgq q;
    pgq_init(&q, s, sql);
    pgq_text(&q, 1, id);
    pgq_text(&q, 2, scope);
    enum err e = pgq_run(&q, d, "read iterator");
    if (e == ERR_OK && !pgq_next(&q))
        e = err_set_field(d, ERR_INVAL, "INVALID_REQUEST", "iterator",
                          "'iterator' is not an iterator of this list");
    else if (e == ERR_OK)
        *out = pgq_i64(&q, 0);
    pgq_done(&q);
    return e;
}

/* ---- open, migrations, close ---- */

static enum err schema_version(struct pg_store *s, int64_t *version, struct err_detail *d)
{
    enum err e = pg_exec(s,
                         "CREATE TABLE IF NOT EXISTS hookd_schema (version BIGINT NOT NULL);"
                         "INSERT INTO hookd_schema SELECT 0 WHERE NOT EXISTS "
                         "(SELECT 1 FROM hookd_schema)",
                         d, "create the schema version table");
    if (e != ERR_OK)
        return e;
    PGresult *r = PQexec(s->conn, "SELECT version FROM hookd_schema");
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
        e = result_err(s, r, d, "read the schema version");
    else
        *version = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return e;
}

/* A connection opened without migrate: the schema must be exactly this hookd's. */
static enum err check_version(struct pg_store *s, struct err_detail *d)
{
    PGresult *r = PQexec(s->conn, "SELECT version FROM hookd_schema");
    int64_t version = -1;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        version = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    if (version == (int64_t)pg__migrations_count)
        return ERR_OK;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "database schema version %lld is not this hookd's (%zu): run hookd migrate "
                   "with this hookd",
                   (long long)version, pg__migrations_count);
}

static enum err migrate(struct pg_store *s, struct err_detail *d)
{
    enum err e = pg_exec(s, "SELECT pg_advisory_lock(44830, hashtext(current_schema()))", d,
                         "take the migration lock");
    if (e != ERR_OK)
        return e;
    int64_t version = 0;
    if ((e = schema_version(s, &version, d)) != ERR_OK)
        goto out;
    if (version > (int64_t)pg__migrations_count) {
        e = err_set(d, ERR_IO, "INTERNAL_ERROR",
                    "database schema version %lld is newer than this hookd (%zu)",
                    (long long)version, pg__migrations_count);
        goto out;
    }
    for (size_t v = (size_t)version; v < pg__migrations_count; v++) {
        char bump[96];
        snprintf(bump, sizeof(bump), "UPDATE hookd_schema SET version = %zu", v + 1);
        if ((e = pg_exec(s, "BEGIN", d, "begin a migration")) != ERR_OK)
            goto out;
        for (const char *const *stmt = pg__migrations[v]; *stmt && e == ERR_OK; stmt++)
            e = pg_exec(s, *stmt, d, "apply a migration");
        if (e != ERR_OK || (e = pg_exec(s, bump, d, "record the schema version")) != ERR_OK ||
            (e = pg_exec(s, "COMMIT", d, "commit a migration")) != ERR_OK) {
            pg_exec(s, "ROLLBACK", NULL, "roll back a migration");
            goto out;
        }
        log_info("store", "applied PostgreSQL migration %zu", v + 1);
    }
out:
    pg_exec(s, "SELECT pg_advisory_unlock(44830, hashtext(current_schema()))", NULL,
            "release the migration lock");
    return e;
}

/* The session's node id, which the SQL of leases reads (PG_NODE). */
static enum err set_node(struct pg_store *s, struct err_detail *d)
{
    struct pgq q;
    pgq_init(&q, s, "SELECT set_config('hookd.node', $1, false)");
    pgq_text(&q, 1, pg__node_id());
    enum err e = pgq_run(&q, d, "set the node id");
    pgq_done(&q);
    return e;
}

static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

enum err pg_open(struct store **out, const char *conninfo, bool do_migrate, struct err_detail *d)
{
    *out = NULL;
    struct pg_store *s = calloc(1, sizeof(*s));
    if (!s)
        abort();
    s->base.ops = &pg_store_ops;
    s->ep_gen = 1;
    enum err e = ERR_OK;
    s->conninfo = strdup(conninfo);
    if (!s->conninfo)
        abort();
    s->conn = PQconnectdb(conninfo);
    if (s->conn)
        PQsetNoticeProcessor(s->conn, ignore_notice, NULL); /* "already exists, skipping" */
    if (PQstatus(s->conn) != CONNECTION_OK) {
        char msg[512];
        snprintf(msg, sizeof(msg), "%s", s->conn ? PQerrorMessage(s->conn) : "out of memory");
        msg[strcspn(msg, "\n")] = '\0';
        e = err_set(d, ERR_IO, "INTERNAL_ERROR", "cannot connect to PostgreSQL: %s", msg);
        goto out;
    }
    if ((e = pg_exec(s, "SET application_name = 'hookd'; SET TIME ZONE 'UTC'", d,
                     "configure the session")) != ERR_OK ||
        (e = set_node(s, d)) != ERR_OK ||
        (e = (do_migrate ? migrate(s, d) : check_version(s, d))) != ERR_OK ||
        (e = pg__node_channel(s, d)) != ERR_OK ||
        (e = pg__secrets_attach(s, do_migrate, d)) != ERR_OK)
        goto out;
out:
    if (e != ERR_OK) {
        pg_close(&s->base);
        return e;
    }
    *out = &s->base;
    return ERR_OK;
}

void pg_close(struct store *st)
{
    struct pg_store *s = pg_of(st);
    if (!s)
        return;
    pg_node_stop(st);
    for (size_t i = 0; i < sizeof(s->live_ep) / sizeof(s->live_ep[0]); i++)
        store__dedupe_policy_free(s->live_ep[i].dedupe);
    PQfinish(s->conn);
    free(s->conninfo);
    feed_clear(&s->op_feed);
    feed_clear(&s->batch_feed);
    pg__rollups_release(s);
    pg__secrets_detach(s);
    free(s);
}

/* ---- batches and ops ---- */

enum err pg_batch_begin(struct store *st, struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    reconnect_if_lost(s);
    enum err e = pg_exec(s, "BEGIN", d, "begin transaction");
    s->in_batch = e == ERR_OK;
    s->ep_gen++; /* what a send checked holds for one batch at most */
    s->in_op = s->tx_failed = false;
    pg__rollups_reset(s, true);
    feed_clear(&s->op_feed);
    feed_clear(&s->batch_feed);
    return e;
}

enum err pg_batch_commit(struct store *st, struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    enum err e = s->tx_failed ? err_set(d, ERR_IO, "INTERNAL_ERROR",
                                        "cannot commit: a statement of the batch failed")
                              : pg__rollups_flush(s, d);
    if (e == ERR_OK)
        e = pg__node_announce(s, d);
    if (e == ERR_OK)
        e = pg_exec(s, "COMMIT", d, "commit");
    s->in_batch = false;
    return e;
}

void pg_batch_rollback(struct store *st)
{
    struct pg_store *s = pg_of(st);
    s->ep_gen++; /* an endpoint written in the batch may be gone again */
    s->in_batch = s->in_op = s->tx_failed = false;
    pg__rollups_reset(s, true);
    feed_clear(&s->op_feed);
    feed_clear(&s->batch_feed);
    if (PQtransactionStatus(s->conn) != PQTRANS_IDLE)
        pg_exec(s, "ROLLBACK", NULL, "rollback");
}

enum err pg_op_begin(struct store *st, struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    enum err e = pg_exec(s, "SAVEPOINT op", d, "open savepoint");
    s->in_op = e == ERR_OK;
    s->op_guarded = true;
    pg__rollups_reset(s, false);
    feed_clear(&s->op_feed);
    return e;
}

enum err pg_op_end(struct store *st, bool ok, struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    enum err e = ERR_OK;
    if (ok && (e = pg__rollups_op_end(s, true, d)) != ERR_OK)
        ok = false; /* its rollup could not be kept: undo the whole op */
    if (!ok) {
        s->ep_gen++; /* an endpoint the op wrote may be gone again */
        pg__rollups_op_end(s, false, NULL);
        pg_exec(s, "ROLLBACK TO SAVEPOINT op", NULL, "roll back savepoint");
        feed_clear(&s->op_feed);
    }
    s->in_op = s->op_guarded = false;
    pg_exec(s, "RELEASE SAVEPOINT op", NULL, "release savepoint");
    feed_move(&s->batch_feed, &s->op_feed);
    return e;
}

void pg_op_begin_unguarded(struct store *st)
{
    struct pg_store *s = pg_of(st);
    s->in_op = true;
    s->op_guarded = false;
    s->op_writes = 0;
    pg__rollups_reset(s, false);
    feed_clear(&s->op_feed);
}

bool pg_op_end_unguarded(struct store *st, bool ok)
{
    struct pg_store *s = pg_of(st);
    s->in_op = false;
    pg__rollups_op_end(s, ok && !s->tx_failed, NULL);
    if (!ok || s->tx_failed) {
        s->ep_gen++;
        feed_clear(&s->op_feed);
        /* A refused op that wrote nothing leaves the batch whole; anything else
         * (a write, or a failed statement, which aborts the transaction) needs the
         * batch undone. */
        return !s->tx_failed && s->op_writes == 0 && s->in_batch;
    }
    feed_move(&s->batch_feed, &s->op_feed);
    return true;
}

void pg_batch_take_feed(struct store *st, struct feed *out)
{
    struct pg_store *s = pg_of(st);
    feed_move(out, &s->batch_feed);
}

struct feed *pg__feed(struct pg_store *s)
{
    return s->in_op ? &s->op_feed : NULL;
}

const struct store_ops pg_store_ops = {
#define OP(ret, name, params, args) .name = pg_##name,
#define OPV(name, params, args) .name = pg_##name,
#include "store/store_ops.def"
#undef OP
#undef OPV
};

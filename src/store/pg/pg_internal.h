/*
 * pg_internal - shared by the PostgreSQL store files only (pg_ and pgq_ names).
 *
 * Description: struct pg_store (one libpq connection) and a small query
 * layer shaped like the SQLite one, so that each pg_*.c file reads like its
 * sqlite/ twin: pgq_init with the SQL (a string literal: statements are
 * prepared once per connection and cached by the string's address), bind
 * parameters by 1-based index ($1, $2, ...), pgq_run, then pgq_next over the
 * rows and pgq_* column readers. Values travel as text; BYTEA goes in as
 * binary (pgq_blob) and comes out hex-decoded (pgq_bytes). Integer and flag
 * columns are BIGINT, text columns the domain ctext (TEXT COLLATE "C", so
 * ids sort bytewise as in SQLite): migration 1 in pg_migrations.c.
 * Transactions: the committer's batch is one transaction, a guarded op a
 * SAVEPOINT; a statement that fails outside a savepoint aborts the whole
 * transaction (tx_failed), which op_end_unguarded reports so that the
 * committer applies the batch again op by op.
 * Threading: as store.h (one thread per struct store).
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_STORE_PG_INTERNAL_H
#define HOOKD_STORE_PG_INTERNAL_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/feed.h"
#include "store/store.h"
#include "store/store_internal.h"
#include "store/store_ops.h"

#define PGQ_MAX_PARAMS 40
#define PG_STMT_CACHE 512

struct secretbox;
struct pg_rollups; /* pg_rollups.c */

struct pg_store {
    struct store base; /* first: what store.h's callers hold */
    PGconn *conn;
    struct secretbox *box; /* the process key's box; NULL without a key (pg_secrets.c) */
    bool in_batch, in_op, op_guarded;
    bool tx_failed;       /* a statement failed outside a savepoint: the batch is lost */
    int64_t op_writes;    /* rows the current op inserted, updated or deleted */
    bool backlog_scanned; /* pg_backlog_endpoints ran once: later looks are for orphans */
    /* Sends' endpoint checks, kept within one batch while no statement of this
     * connection wrote the endpoints table (ep_gen moves on each such statement and
     * each batch): pg_delivery.c. */
    uint64_t ep_gen;
    struct {
        char id[ID_MAX], mode[8];
        uint64_t gen;                 /* 0 = empty */
        struct dedupe_policy *dedupe; /* owned; NULL = none */
    } live_ep[8];
    /* The completion feed (feed.h): the current op's items, kept apart so a
     * rolled-back op drops them, and the batch's items, taken after COMMIT. */
    struct feed op_feed, batch_feed;
    struct pg_rollups *rollups; /* rollup deltas of the batch and the op (pg_rollups.c) */
    char *conninfo;             /* what it was opened with: the node's listener opens its own */
    char channel[40];           /* NOTIFY channel of this database and schema (pg_node.c) */
    struct pg_node *node;       /* the node's heartbeat and listener, on the writer (pg_node.c) */
    struct {
        const char *sql; /* the statement's text, by address */
        char name[16];
        bool writes_endpoints; /* it writes the endpoints table (pg_delivery.c's live_ep) */
    } stmts[PG_STMT_CACHE];
    int nstmts;
};

static inline struct pg_store *pg_of(struct store *st)
{
    return (struct pg_store *)st;
}

#define OP(ret, name, params, args) ret pg_##name params;
#define OPV(name, params, args) void pg_##name params;
#include "store/store_ops.def"
#undef OP
#undef OPV
extern const struct store_ops pg_store_ops;
enum err pg_open(struct store **out, const char *conninfo, bool migrate, struct err_detail *d);

/* ---- queries (pg_store.c) ---- */
struct pgq {
    struct pg_store *s;
    const char *sql;
    int n; /* highest parameter index bound */
    const char *vals[PGQ_MAX_PARAMS];
    int lens[PGQ_MAX_PARAMS];
    int fmts[PGQ_MAX_PARAMS];
    char ints[PGQ_MAX_PARAMS][24];
    char *owned[PGQ_MAX_PARAMS]; /* text made valid UTF-8 (pgq_text); freed by pgq_done */
    PGresult *res;
    int row, nrows;
};

/* Start a query; sql must outlive the connection (a literal or static string). */
void pgq_init(struct pgq *q, struct pg_store *s, const char *sql);
void pgq_text(struct pgq *q, int i, const char *v); /* NULL binds NULL; v is borrowed */
void pgq_int(struct pgq *q, int i, int64_t v);
void pgq_opt_int(struct pgq *q, int i, int64_t v, int64_t none); /* none binds NULL */
void pgq_null(struct pgq *q, int i);
void pgq_blob(struct pgq *q, int i, const void *p, size_t n); /* BYTEA; p is borrowed */
/* Run it. ERR_CONFLICT on a unique or exclusion violation (23505, 23P01),
 * ERR_BUSY on a serialization failure or deadlock (40001, 40P01), else ERR_IO;
 * the detail names what and carries PostgreSQL's message. */
enum err pgq_run(struct pgq *q, struct err_detail *d, const char *what);
/* Step to the next row of the result: false after the last. */
bool pgq_next(struct pgq *q);
int pgq_rows(const struct pgq *q);
int64_t pgq_changes(const struct pgq *q); /* rows an INSERT/UPDATE/DELETE touched */
bool pgq_isnull(const struct pgq *q, int c);
const char *pgq_str(const struct pgq *q, int c); /* NULL for SQL NULL; borrowed */
int64_t pgq_i64(const struct pgq *q, int c);     /* 0 for NULL */
int64_t pgq_opt_i64(const struct pgq *q, int c, int64_t none);
bool pgq_bool(const struct pgq *q, int c); /* a flag column: non-zero */
char *pgq_dup(const struct pgq *q, int c); /* NULL for NULL; caller frees */
void pgq_copy(char *dst, size_t len, const struct pgq *q, int c);
/* A BYTEA column decoded into a new heap buffer (*len bytes, NUL-terminated);
 * NULL for SQL NULL. */
void *pgq_bytes(const struct pgq *q, int c, size_t *len);
/* Decode a BYTEA column into out (exactly n bytes); false if NULL or not n. */
bool pgq_bytes_n(const struct pgq *q, int c, void *out, size_t n);
void pgq_done(struct pgq *q); /* frees the result; the pgq may be reused with pgq_init */

/* A parameterless command (BEGIN, SAVEPOINT ...), not cached. */
enum err pg_exec(struct pg_store *s, const char *sql, struct err_detail *d, const char *what);

/* The current op's feed (NULL outside an op: nothing is fed). */
struct feed *pg__feed(struct pg_store *s);

/* For a list's iterator: the first column of sql (binding $1 id and $2 scope);
 * ERR_INVAL (field "iterator") when there is no such item. */
enum err pg__iterator_seq(struct pg_store *s, const char *sql, const char *id, const char *scope,
                          int64_t *out, struct err_detail *d);

/* ---- nodes (pg_node.c) ---- */
/* This process's node id ("n" and 16 hex digits), the owner written into the leases
 * of the messages it works on. */
const char *pg__node_id(void);
/* A node whose heartbeat is older than this is dead: its leases may be claimed. */
#define PG_NODE_LEASE_MS 10000
#define PG_NODE_LEASE_SQL "10000" /* the same, for SQL text */
/* In SQL: this connection's node id (set at open), for the leases its writes take,
 * and the database's clock in ms, which every node's heartbeat and lease test use. */
#define PG_NODE "current_setting('hookd.node')"
#define PG_NOW_MS "(extract(epoch from clock_timestamp()) * 1000)::bigint"
/* In SQL, for messages m: no live node other than this one holds m. */
#define PG_CLAIMABLE                                                                               \
    "(m.lease_owner IS NULL OR m.lease_owner = " PG_NODE " OR NOT EXISTS (SELECT 1 FROM "          \
    "hookd_nodes n WHERE n.id = m.lease_owner AND n.seen_at >= " PG_NOW_MS " - " PG_NODE_LEASE_SQL \
    "))"
/* pg_open: the channel name of this connection's database and schema. */
enum err pg__node_channel(struct pg_store *s, struct err_detail *d);
/* pg_batch_commit, before COMMIT: tell the other nodes what the batch changed that
 * they may hold in memory (endpoint changes, rescheduled or dropped messages). */
enum err pg__node_announce(struct pg_store *s, struct err_detail *d);

/* ---- rollups (pg_rollups.c) ---- */
void pg__rollups_reset(struct pg_store *s, bool batch_too); /* drop the op's (and batch's) */
/* The op ended: keep its deltas in the batch (ok) or drop them. */
enum err pg__rollups_op_end(struct pg_store *s, bool ok, struct err_detail *d);
/* Before COMMIT: write the batch's deltas. */
enum err pg__rollups_flush(struct pg_store *s, struct err_detail *d);
void pg__rollups_release(struct pg_store *s);

/* ---- secrets at rest (pg_secrets.c) ---- */
/* store_open: give the connection a box for the process key (if any), check it
 * against the store, and with migrate seal plaintext secrets / record the key. */
enum err pg__secrets_attach(struct pg_store *s, bool migrate, struct err_detail *d);
void pg__secrets_detach(struct pg_store *s);

/* ---- migrations (pg_migrations.c) ---- */
/* Migration N (1-based) is pg__migrations[N-1], a NULL-terminated list of statements. */
extern const char *const *const pg__migrations[];
extern const size_t pg__migrations_count;

/* ---- group keys_apps: declarations of its pg_*.c files go below this line ---- */

/* ---- end of group keys_apps ---- */

/* ---- group endpoints: declarations of its pg_*.c files go below this line ---- */
/* An endpoint's event types (its subscriptions, in the order written) as a JSON
 * array of strings, for the endpoint row whose id is the SQL expression ep_id
 * (a literal); "[]" when none. Subscription ids sort in their list's order
 * within a write (pg_endpoints.c write_subscriptions). */
#define PG_SUB_TYPES_JSON(ep_id)                                                                   \
    "(SELECT '[' || coalesce(string_agg(to_json(event_type::text)::text, ',' "                     \
    "ORDER BY created_at, id), '') || ']' FROM subscriptions WHERE endpoint_id = " ep_id ")"
/* Seal k's secret and insert it as an active key of endpoint_id, without expiry
 * (pg_endpoints.c); ERR_CONFLICT (INVALID_REQUEST) for a taken key id. */
enum err pg__signing_key_insert(struct pg_store *s, const char *endpoint_id,
                                const struct store_signing_key *k, struct err_detail *d);

/* ---- end of group endpoints ---- */

/* ---- group delivery: declarations of its pg_*.c files go below this line ---- */

/* Add delta to the rollup bucket of (mode, endpoint_id) holding at_ms: summed in
 * memory inside a batch (the op's apart) and upserted into rollups and
 * rollups_hourly before COMMIT; outside a batch at once (pg_rollups.c). */
enum err pg__rollup_add(struct pg_store *s, const char *mode, const char *endpoint_id,
                        int64_t at_ms, const struct store_rollup *delta, struct err_detail *d);

struct dedupe_policy;
/* Judge a new message of endpoint_id by rule p at now_ms, as SQLite's store__dedupe_see:
 * record its key until now_ms + the window unless a live row holds it; *duplicate
 * tells which (pg_dedupe.c). */
enum err pg__dedupe_see(struct pg_store *s, const char *endpoint_id, const struct dedupe_policy *p,
                        const void *payload, size_t payload_len, const char *headers_json,
                        const char *event_type, int64_t now_ms, bool *duplicate,
                        struct err_detail *d);

/* ---- end of group delivery ---- */

/* ---- group publish: declarations of its pg_*.c files go below this line ---- */

/* The event columns of pg_publish.c's EVENT_COLS, from column first on, into e
 * (pg_publish.c; also the endpoint's fan-out messages of pg_publish_reads.c). */
void pg__read_event(const struct pgq *q, int first, struct store_event *e);

/* ---- end of group publish ---- */

/* ---- group messages: declarations of its pg_*.c files go below this line ---- */

/* ---- end of group messages ---- */

#endif

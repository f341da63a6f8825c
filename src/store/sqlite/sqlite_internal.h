/*
 * sqlite_internal - shared by the SQLite store files only (store__ names).
 *
 * Description: struct sqlite_store and the small statement helpers. Domain files
 * (store_*.c) prepare their statements lazily with store__prepare, which
 * caches them per connection keyed by the SQL string's address, so pass
 * string literals or static strings only.
 * Threading: as store.h (one thread per struct sqlite_store).
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_STORE_SQLITE_INTERNAL_H
#define HOOKD_STORE_SQLITE_INTERNAL_H

#include <sqlite3.h>

#include "store/feed.h"
#include "store/store.h"
#include "store/store_internal.h"
#include "store/store_ops.h"

enum stmt_id {
    S_BEGIN,
    S_COMMIT,
    S_ROLLBACK,
    S_SAVEPOINT,
    S_RELEASE,
    S_ROLLBACK_TO,
    S_KEY_INSERT,
    S_KEY_FIND,
    S_KEY_COUNT,
    S_EP_INSERT,
    S_SK_INSERT,
    S_EP_GET,
    S_EP_UPDATE,
    S_EP_DELETE,
    S_EP_LIST,
    S_EP_LIST_AFTER,
    S_SK_ACTIVE,
    S_EP_LIVE,
    S_EP_URL_TAKEN,
    S_EP_CURSOR,
    S_IDEM_FIND,
    S_EVENT_INSERT,
    S_MSG_INSERT,
    S_MSG_INSERT_DEDUPED,
    S_MSG_GET,
    S_ATTEMPT_INSERT,
    S_MSG_FOR_RESULT,
    S_MSG_RESULT,
    S_ATTEMPT_LIST,
    S_DELIVERY_LOAD,
    S_COUNT
};

#define STORE__CACHE_MAX 128
/* Rows of rollups_recent that make one batch fold them into rollups (store_rollups.c):
 * bounds what readers scan beside rollups, and how often a fold rewrites rollup pages. */
#define STORE__ROLLUP_FOLD_ROWS 4096

struct secretbox;
#define STORE__LIVE_EP_SLOTS 64
struct dedupe_policy;
struct store__live_ep {
    char id[ID_MAX];
    char mode[8];
    uint64_t gen;                 /* 0 = empty (ep_gen starts at 1) */
    struct dedupe_policy *dedupe; /* its deduplicate rule, owned; NULL = none (most) */
};

/* What store_fanout_get answered for (mode, application id or uid), kept while gen is
 * the store's ep_gen (store_publish.c). 16 slots: the applications published to most
 * recently; a miss costs what no cache would. */
#define STORE__FANOUT_SLOTS 16
#define STORE__FANOUT_KEY_MAX 264 /* an application id or uid (NAMES_MAX) and its NUL */
struct store__fanout_slot {
    char mode[8];
    char key[STORE__FANOUT_KEY_MAX];
    uint64_t gen; /* 0 = not to be given again (ep_gen starts at 1) */
    bool missing; /* the answer was ERR_NOTFOUND (no such live application) */
    struct store_fanout f;
};

struct sqlite_store {
    struct store base; /* first: what store.h's callers hold */
    sqlite3 *db;
    struct secretbox *box;       /* the process key's box; NULL without a key (store_secrets.c) */
    int lock_fd;                 /* <data>/hookd.lock, flock'ed shared while open (-1 = none) */
    sqlite3_stmt *stmt[S_COUNT]; /* the core statements of store_sqlite.c */
    struct {
        const char *sql;
        sqlite3_stmt *q;
    } cache[STORE__CACHE_MAX];
    int ncache;
    /* Inside a committer batch, rollup deltas are summed in memory and journaled
     * once per (mode, endpoint, minute) just before COMMIT; the current op's
     * deltas are kept apart so a rolled-back op drops them. */
    bool in_batch, in_op;
    int64_t op_changes; /* sqlite3_total_changes64 when an unguarded op began */
    struct store__rollup_set batch_rollups, op_rollups;
    int64_t recent_rows; /* rows in rollups_recent; -1 until counted */
    /* The completion feed (feed.h): the current op's items, kept apart so a
     * rolled-back op drops them, and the batch's items, taken after COMMIT. */
    struct feed op_feed, batch_feed;
    /* Endpoints a send found live, so the next send to one does not look again,
     * and the applications and candidate endpoints publishes found (fanout): an
     * entry holds while ep_gen is what it was when the entry was made, and ep_gen
     * moves on every change to the endpoints, applications and subscriptions
     * tables (an update hook, which SQLite skips only for a DELETE without WHERE:
     * hookd has none) and every rollback. Only the writing connection uses them,
     * inside batches (store_send_insert, store_fanout_get): it makes every change. */
    uint64_t ep_gen;
    struct store__live_ep live_ep[STORE__LIVE_EP_SLOTS];
    /* and one more, kept for the operational applications (STORE_OPS_APP_PREFIX),
     * looked for at attempts: they never push a published application out */
    struct store__fanout_slot fanout[STORE__FANOUT_SLOTS + 1];
};

static inline struct sqlite_store *sqlite_of(struct store *st)
{
    return (struct sqlite_store *)st;
}

#define OP(ret, name, params, args) ret sqlite_##name params;
#define OPV(name, params, args) void sqlite_##name params;
#include "store/store_ops.def"
#undef OP
#undef OPV
extern const struct store_ops sqlite_store_ops;
enum err sqlite_open(struct store **out, const char *data_dir, bool migrate, struct err_detail *d);

/* For a list's iterator: the first column of sql (binding ?1 id and ?2 scope, e.g.
 * the item's seq or rowid); ERR_INVAL (field "iterator") when there is no such item. */
enum err store__iterator_seq(struct sqlite_store *s, const char *sql, const char *id,
                             const char *scope, int64_t *out, struct err_detail *d);
/* A cached statement for sql (a string with static storage), reset and unbound. */
sqlite3_stmt *store__prepare(struct sqlite_store *s, const char *sql);
/* A core statement, reset and unbound. */
sqlite3_stmt *store__st(struct sqlite_store *s, enum stmt_id id);
/* Map a SQLite failure to ERR_BUSY/ERR_IO with "cannot <what>: <sqlite message>". */
enum err store__db_err(struct sqlite_store *s, int rc, struct err_detail *d, const char *what);
/* Step a statement that returns no rows, then reset it. */
enum err store__exec(struct sqlite_store *s, sqlite3_stmt *q, struct err_detail *d,
                     const char *what);
void store__bind_text(sqlite3_stmt *q, int i, const char *v); /* NULL binds NULL */
void store__bind_opt_int(sqlite3_stmt *q, int i, int64_t v, int64_t none);
char *store__col_dup(sqlite3_stmt *q, int i); /* NULL for SQL NULL; caller frees */
void store__col_copy(char *dst, size_t len, sqlite3_stmt *q, int i);
int64_t store__col_opt_int(sqlite3_stmt *q, int i, int64_t none);

/* Add delta to the rollup bucket of (mode, endpoint_id) holding at_ms: at once
 * outside a batch, else at the batch's commit (see struct sqlite_store). */
enum err store__rollup_add(struct sqlite_store *s, const char *mode, const char *endpoint_id,
                           int64_t at_ms, const struct store_rollup *delta, struct err_detail *d);

/* The current op's feed, or NULL outside a committer op (nothing to tell). */
struct feed *store__feed(struct sqlite_store *s);

/* Free what the fanout slots hold (store_close). */
void store__fanout_release(struct sqlite_store *s);

/* ---- deduplication (store_dedupe.c) ---- */
/* Judge a new message of endpoint_id by rule p at now_ms: compute its key (payload,
 * custom headers as JSON text or NULL, event type or NULL) and, unless the endpoint
 * saw that key in an unexpired row, record it until now_ms + the window. *duplicate
 * tells which. One statement: an upsert that writes only when the key is new or
 * expired, so a duplicate changes no row. */
enum err store__dedupe_see(struct sqlite_store *s, const char *endpoint_id,
                           const struct dedupe_policy *p, const void *payload, size_t payload_len,
                           const char *headers_json, const char *event_type, int64_t now_ms,
                           bool *duplicate, struct err_detail *d);

/* Free the rollup sets (store_close). */
void store__rollup_release(struct sqlite_store *s);
/* Journal the batch's summed rollup deltas, folding the journal when it is long
 * enough (store_batch_commit, before COMMIT). */
enum err store__rollup_flush(struct sqlite_store *s, struct err_detail *d);
/* The current op ended: keep (ok) or drop its deltas. */
enum err store__rollup_op_end(struct sqlite_store *s, bool ok, struct err_detail *d);

/* ---- secrets at rest (store_secrets.c) ----
 * place names the column ("signing_keys.secret"); the value is bound to
 * "<place>:<row_id>", so it only opens in its own row. */

/* Seal plain for (place, row_id) into out (cap bytes). ERR_IO without a key. */
enum err store__seal(struct sqlite_store *s, const char *place, const char *row_id,
                     const char *plain, char *out, size_t cap, struct err_detail *d);
/* Open a stored value into out (cap bytes); "" stays "" (an erased secret).
 * ERR_IO for plaintext, a missing key, or a value that does not authenticate. */
enum err store__unseal(struct sqlite_store *s, const char *place, const char *row_id,
                       const char *stored, char *out, size_t cap, struct err_detail *d);
/* store_open: give the connection a box for the process key (if any), check it
 * against the store's key check, and with migrate seal plaintext secrets. */
enum err store__secrets_attach(struct sqlite_store *s, bool migrate, struct err_detail *d);
/* store_close: wipe the connection's box. */
void store__secrets_detach(struct sqlite_store *s);

#endif

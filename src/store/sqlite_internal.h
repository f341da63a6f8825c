/*
 * sqlite_internal - shared by the SQLite store files only (store__ names).
 *
 * Description: struct store and the small statement helpers. Domain files
 * (store_*.c) prepare their statements lazily with store__prepare, which
 * caches them per connection keyed by the SQL string's address, so pass
 * string literals or static strings only.
 * Threading: as store.h (one thread per struct store).
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_STORE_SQLITE_INTERNAL_H
#define HOOKD_STORE_SQLITE_INTERNAL_H

#include <sqlite3.h>

#include "store/store.h"

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
    S_MSG_GET,
    S_ATTEMPT_INSERT,
    S_MSG_RESULT,
    S_ATTEMPT_LIST,
    S_PENDING_SCAN,
    S_DELIVERY_LOAD,
    S_COUNT
};

#define STORE__CACHE_MAX 128
/* Rows of rollups_recent that make one batch fold them into rollups (store_rollups.c):
 * bounds what readers scan beside rollups, and how often a fold rewrites rollup pages. */
#define STORE__ROLLUP_FOLD_ROWS 4096

/* A rollup delta waiting for the end of its op or batch (store_rollups.c). */
struct store__rollup_pending {
    char mode[8];
    char endpoint_id[ID_MAX];
    int64_t bucket_ms;
    struct store_rollup delta;
};

/* Deltas summed per (mode, endpoint, bucket): items plus an open-addressing index. */
struct store__rollup_set {
    struct store__rollup_pending *items;
    int n, cap;
    int *slots; /* indexes into items, -1 for empty; nslots is a power of two */
    int nslots;
};

struct store {
    sqlite3 *db;
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
    struct store__rollup_set batch_rollups, op_rollups;
    int64_t recent_rows; /* rows in rollups_recent; -1 until counted */
};

/* A cached statement for sql (a string with static storage), reset and unbound. */
sqlite3_stmt *store__prepare(struct store *s, const char *sql);
/* A core statement, reset and unbound. */
sqlite3_stmt *store__st(struct store *s, enum stmt_id id);
/* Map a SQLite failure to ERR_BUSY/ERR_IO with "cannot <what>: <sqlite message>". */
enum err store__db_err(struct store *s, int rc, struct err_detail *d, const char *what);
/* Step a statement that returns no rows, then reset it. */
enum err store__exec(struct store *s, sqlite3_stmt *q, struct err_detail *d, const char *what);
void store__bind_text(sqlite3_stmt *q, int i, const char *v); /* NULL binds NULL */
void store__bind_opt_int(sqlite3_stmt *q, int i, int64_t v, int64_t none);
char *store__col_dup(sqlite3_stmt *q, int i); /* NULL for SQL NULL; caller frees */
void store__col_copy(char *dst, size_t len, sqlite3_stmt *q, int i);
int64_t store__col_opt_int(sqlite3_stmt *q, int i, int64_t none);

/* Add delta to the rollup bucket of (mode, endpoint_id) holding at_ms: at once
 * outside a batch, else at the batch's commit (see struct store). */
enum err store__rollup_add(struct store *s, const char *mode, const char *endpoint_id,
                           int64_t at_ms, const struct store_rollup *delta, struct err_detail *d);

/* Forget a set's deltas (batch or op start, rollback). */
void store__rollup_reset(struct store__rollup_set *set);
/* Free the rollup sets (store_close). */
void store__rollup_release(struct store *s);
/* Journal the batch's summed rollup deltas, folding the journal when it is long
 * enough (store_batch_commit, before COMMIT). */
enum err store__rollup_flush(struct store *s, struct err_detail *d);
/* The current op ended: keep (ok) or drop its deltas. */
enum err store__rollup_op_end(struct store *s, bool ok, struct err_detail *d);

#endif

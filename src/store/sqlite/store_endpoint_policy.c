/*
 * store_endpoint_policy - the sealed half of an endpoint's delivery policy
 * (its destination-auth config and its signing private key, migration 17)
 * and its circuit breaker's state.
 *
 * Description: the two secrets are separate columns sealed for their row
 * (store_secrets.c), read only by who needs them: the service when it merges
 * a change, delivery when it loads the endpoint. The policy document itself
 * (no secrets) is a column of the endpoint row (store_endpoint_insert/update).
 * The circuit columns are written apart from the rest of the row so that
 * delivery, which moves the breaker, never rewrites what an API call set.
 * See store.h. SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "core/secretbox.h"
#include "store/sqlite/sqlite_internal.h"

static const char SQL_SECRETS_GET[] =
    "SELECT auth_secret, scheme_secret FROM endpoints WHERE id = ?1";
static const char SQL_SECRETS_SET[] =
    "UPDATE endpoints SET auth_secret = ?2, scheme_secret = ?3 WHERE id = ?1";
static const char SQL_DISABLE[] =
    "UPDATE endpoints SET disabled = 1, disabled_reason = ?2, disabled_at = ?3, updated_at = ?3 "
    "WHERE id = ?1 AND disabled = 0 AND deleted_at IS NULL";
static const char SQL_CIRCUIT_RESET[] =
    "UPDATE endpoints SET circuit_state = 0, circuit_opened_at = NULL "
    "WHERE id = ?1 AND mode = ?2 AND deleted_at IS NULL";
static const char SQL_FAILING_SET[] = "UPDATE endpoints SET failing_since = ?2 WHERE id = ?1";
static const char SQL_CIRCUIT_SET[] =
    "UPDATE endpoints SET circuit_state = ?2, circuit_opened_at = ?3 WHERE id = ?1";

enum err sqlite_endpoint_secrets_get(struct store *st, const char *id, char **auth, char **scheme,
                                     struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    *auth = *scheme = NULL;
    sqlite3_stmt *q = store__prepare(s, SQL_SECRETS_GET);
    store__bind_text(q, 1, id);
    int rc = sqlite3_step(q);
    enum err e = ERR_OK;
    if (rc == SQLITE_ROW) {
        e = store__secret_open(s->box, "endpoints.auth_secret", id,
                               (const char *)sqlite3_column_text(q, 0), auth, d);
        if (e == ERR_OK)
            e = store__secret_open(s->box, "endpoints.scheme_secret", id,
                                   (const char *)sqlite3_column_text(q, 1), scheme, d);
    } else if (rc == SQLITE_DONE) {
        e = err_set(d, ERR_NOTFOUND, "ENDPOINT_NOT_FOUND", "endpoint '%s' not found", id);
    } else {
        e = store__db_err(s, rc, d, "read endpoint secrets");
    }
    sqlite3_reset(q);
    if (e != ERR_OK) {
        store_endpoint_secret_free(*auth);
        store_endpoint_secret_free(*scheme);
        *auth = *scheme = NULL;
    }
    return e;
}

enum err sqlite_endpoint_secrets_set(struct store *st, const char *id, const char *auth,
                                     const char *scheme, struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    char *a = NULL, *k = NULL;
    enum err e = store__secret_seal(s->box, "endpoints.auth_secret", id, auth, &a, d);
    if (e == ERR_OK)
        e = store__secret_seal(s->box, "endpoints.scheme_secret", id, scheme, &k, d);
    if (e == ERR_OK) {
        sqlite3_stmt *q = store__prepare(s, SQL_SECRETS_SET);
        store__bind_text(q, 1, id);
        store__bind_text(q, 2, a);
        store__bind_text(q, 3, k);
        e = store__exec(s, q, d, "write endpoint secrets");
    }
    free(a);
    free(k);
    return e;
}

enum err sqlite_endpoint_set_circuit(struct store *st, const char *id, int state,
                                     int64_t opened_at_ms, struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    sqlite3_stmt *q = store__prepare(s, SQL_CIRCUIT_SET);
    store__bind_text(q, 1, id);
    sqlite3_bind_int(q, 2, state);
    if (opened_at_ms)
        sqlite3_bind_int64(q, 3, opened_at_ms);
    else
        sqlite3_bind_null(q, 3);
    return store__exec(s, q, d, "write circuit state");
}

enum err sqlite_endpoint_disable(struct store *st, const char *id, const char *reason,
                                 int64_t now_ms, bool *changed, struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    sqlite3_stmt *q = store__prepare(s, SQL_DISABLE);
    store__bind_text(q, 1, id);
    store__bind_text(q, 2, reason);
    sqlite3_bind_int64(q, 3, now_ms);
    enum err e = store__exec(s, q, d, "disable endpoint");
    *changed = e == ERR_OK && sqlite3_changes(s->db) > 0;
    if (*changed && store__feed(s))
        feed_push_endpoint_changed(store__feed(s), id);
    return e;
}

enum err sqlite_endpoint_reset_circuit(struct store *st, const char *mode, const char *id,
                                       struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    sqlite3_stmt *q = store__prepare(s, SQL_CIRCUIT_RESET);
    store__bind_text(q, 1, id);
    store__bind_text(q, 2, mode);
    enum err e = store__exec(s, q, d, "reset circuit");
    if (e == ERR_OK && sqlite3_changes(s->db) == 0)
        return err_set(d, ERR_NOTFOUND, "ENDPOINT_NOT_FOUND", "endpoint '%s' not found", id);
    if (e == ERR_OK && store__feed(s))
        feed_push_endpoint_changed(store__feed(s), id);
    return e;
}

enum err sqlite_endpoint_set_failing(struct store *st, const char *id, int64_t since_ms,
                                     struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    sqlite3_stmt *q = store__prepare(s, SQL_FAILING_SET);
    store__bind_text(q, 1, id);
    if (since_ms)
        sqlite3_bind_int64(q, 2, since_ms);
    else
        sqlite3_bind_null(q, 2);
    return store__exec(s, q, d, "write failing_since");
}

static const char SQL_EVENT_TYPE[] = "SELECT e.event_type FROM messages m JOIN events e ON "
                                     "e.id = m.event_id WHERE m.id = ?1";

enum err sqlite_message_event_type(struct store *st, const char *message_id, char **out,
                                   struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    *out = NULL;
    sqlite3_stmt *q = store__prepare(s, SQL_EVENT_TYPE);
    store__bind_text(q, 1, message_id);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *out = store__col_dup(q, 0);
    sqlite3_reset(q);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? ERR_OK
                                                 : store__db_err(s, rc, d, "read event type");
}

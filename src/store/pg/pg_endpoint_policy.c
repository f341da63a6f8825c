/*
 * pg_endpoint_policy - an endpoint's disabling and its circuit breaker's state on
 * PostgreSQL (the non-secret half of sqlite/store_endpoint_policy.c), and a
 * message's event type. The circuit columns are written apart from the rest of
 * the row so that delivery, which moves the breaker, never rewrites what an API
 * call set. See store.h. SPDX-License-Identifier: MIT
 */
#include "store/pg/pg_internal.h"

static const char SQL_DISABLE[] =
    "UPDATE endpoints SET disabled = 1, disabled_reason = $2, disabled_at = $3, updated_at = $3 "
    "WHERE id = $1 AND disabled = 0 AND deleted_at IS NULL";
static const char SQL_CIRCUIT_RESET[] =
    "UPDATE endpoints SET circuit_state = 0, circuit_opened_at = NULL "
    "WHERE id = $1 AND mode = $2 AND deleted_at IS NULL";
static const char SQL_FAILING_SET[] = "UPDATE endpoints SET failing_since = $2 WHERE id = $1";
static const char SQL_CIRCUIT_SET[] =
    "UPDATE endpoints SET circuit_state = $2, circuit_opened_at = $3 WHERE id = $1";
static const char SQL_EVENT_TYPE[] = "SELECT e.event_type FROM messages m JOIN events e ON "
                                     "e.id = m.event_id WHERE m.id = $1";

enum err pg_endpoint_set_circuit(struct store *st, const char *id, int state, int64_t opened_at_ms,
                                 struct err_detail *d)
{
    struct pgq q;
    pgq_init(&q, pg_of(st), SQL_CIRCUIT_SET);
    pgq_text(&q, 1, id);
    pgq_int(&q, 2, state);
    pgq_opt_int(&q, 3, opened_at_ms, 0);
    enum err e = pgq_run(&q, d, "write circuit state");
    pgq_done(&q);
    return e;
}

enum err pg_endpoint_disable(struct store *st, const char *id, const char *reason, int64_t now_ms,
                             bool *changed, struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    struct pgq q;
    pgq_init(&q, s, SQL_DISABLE);
    pgq_text(&q, 1, id);
    pgq_text(&q, 2, reason);
    pgq_int(&q, 3, now_ms);
    enum err e = pgq_run(&q, d, "disable endpoint");
    *changed = e == ERR_OK && pgq_changes(&q) > 0;
    pgq_done(&q);
    if (*changed && pg__feed(s))
        feed_push_endpoint_changed(pg__feed(s), id);
    return e;
}

enum err pg_endpoint_reset_circuit(struct store *st, const char *mode, const char *id,
                                   struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    struct pgq q;
    pgq_init(&q, s, SQL_CIRCUIT_RESET);
    pgq_text(&q, 1, id);
    pgq_text(&q, 2, mode);
    enum err e = pgq_run(&q, d, "reset circuit");
    bool none = e == ERR_OK && pgq_changes(&q) == 0;
    pgq_done(&q);
    if (none)
        return err_set(d, ERR_NOTFOUND, "ENDPOINT_NOT_FOUND", "endpoint '%s' not found", id);
    if (e == ERR_OK && pg__feed(s))
        feed_push_endpoint_changed(pg__feed(s), id);
    return e;
}

enum err pg_endpoint_set_failing(struct store *st, const char *id, int64_t since_ms,
                                 struct err_detail *d)
{
    struct pgq q;
    pgq_init(&q, pg_of(st), SQL_FAILING_SET);
    pgq_text(&q, 1, id);
    pgq_opt_int(&q, 2, since_ms, 0);
    enum err e = pgq_run(&q, d, "write failing_since");
    pgq_done(&q);
    return e;
}

enum err pg_message_event_type(struct store *st, const char *message_id, char **out,
                               struct err_detail *d)
{
    *out = NULL;
    struct pgq q;
    pgq_init(&q, pg_of(st), SQL_EVENT_TYPE);
    pgq_text(&q, 1, message_id);
    enum err e = pgq_run(&q, d, "read event type");
    if (e == ERR_OK && pgq_next(&q))
        *out = pgq_dup(&q, 0);
    pgq_done(&q);
    return e;
}

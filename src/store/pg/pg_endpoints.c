/*
 * pg_endpoints - endpoints and their first signing key in the PostgreSQL store
 * (store.h "endpoints and signing keys"): insert, get, update, find, the two
 * lists, delete, and the dispatcher's active signing keys. The SQLite twin is
 * sqlite/store_sqlite.c.
 * Description: an endpoint's event types are its subscriptions rows, read back
 * as a JSON array in the order they were written (PG_SUB_TYPES_JSON): their ids
 * sort in that order within a write (sub_ids), as SQLite's rowid does.
 * Signing keys with the same created_at order by id (SQLite: by rowid).
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/id.h"
#include "store/pg/pg_internal.h"

#define EP_COLS                                                                                    \
    "id, mode, url, description, headers, rate_limit_rps, burst, paused, hmac_enabled, "           \
    "created_at, updated_at, deleted_at, application_id, uid, disabled, all_event_types, "         \
    "channels, filter, metadata, " PG_SUB_TYPES_JSON(                                              \
        "endpoints.id") ", policy, "                                                               \
                        "disabled_reason, disabled_at, circuit_state, circuit_opened_at, "         \
                        "failing_since, verified_at"

static const char SQL_EP_INSERT[] =
    "INSERT INTO endpoints (id, mode, url, description, headers, rate_limit_rps, "
    "burst, paused, hmac_enabled, created_at, updated_at, application_id, uid, "
    "disabled, all_event_types, channels, filter, metadata, policy, disabled_reason, "
    "disabled_at) "
    "VALUES ($1, $2::text, $3, $4, $5, $6, $7, $8, $9, $10, $11, "
    "coalesce(nullif($12::text, ''), 'app_default_' || $2::text), $13, $14, $15, $16, $17, $18, "
    "$19, $20, $21) ON CONFLICT DO NOTHING";
static const char SQL_SK_INSERT[] =
    "INSERT INTO signing_keys (id, endpoint_id, secret, created_at) "
    "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";
static const char SQL_EP_GET[] =
    "SELECT " EP_COLS " FROM endpoints WHERE id = $1 AND ($2::text IS NULL OR mode = $2::text) "
    "AND ($3::bigint = 1 OR deleted_at IS NULL)";
static const char SQL_EP_UPDATE[] =
    "UPDATE endpoints SET verified_at = $19, url = $2, description = $3, headers = $4, "
    "rate_limit_rps = $5, burst = $6, paused = $7, hmac_enabled = $8, "
    "updated_at = $9, uid = $10, disabled = $11, all_event_types = $12, "
    "channels = $13, filter = $14, metadata = $15, policy = $16, "
    "disabled_reason = $17, disabled_at = $18 "
    "WHERE id = $1 AND deleted_at IS NULL";
static const char SQL_EP_DELETE[] = "UPDATE endpoints SET deleted_at = $3, updated_at = $3 "
                                    "WHERE id = $1 AND mode = $2 AND deleted_at IS NULL";
static const char SQL_EP_LIST[] = "SELECT " EP_COLS " FROM endpoints WHERE mode = $1 AND "
                                  "deleted_at IS NULL ORDER BY seq DESC LIMIT $2";
static const char SQL_EP_LIST_AFTER[] =
    "SELECT " EP_COLS " FROM endpoints WHERE mode = $1 AND deleted_at IS NULL "
    "AND seq < (SELECT seq FROM endpoints WHERE id = $3) ORDER BY seq DESC LIMIT $2";
static const char SQL_SK_ACTIVE[] = "SELECT id, secret, created_at, expires_at FROM signing_keys "
                                    "WHERE endpoint_id = $1 AND deleted_at IS NULL "
                                    "AND (expires_at IS NULL OR expires_at > $2) "
                                    "ORDER BY created_at, id LIMIT 2";
static const char SQL_EP_URL_TAKEN[] =
    "SELECT id FROM endpoints WHERE application_id = 'app_default_' || $1::text "
    "AND url = $2 AND id <> $3 AND deleted_at IS NULL LIMIT 1";
static const char SQL_EP_CURSOR[] = "SELECT 1 FROM endpoints WHERE id = $1 AND mode = $2";
static const char SQL_EP_UID_TAKEN[] = "SELECT 1 FROM endpoints WHERE application_id = "
                                       "coalesce(nullif($1::text, ''), 'app_default_' || $2::text) "
                                       "AND uid = $3 AND id <> $4 AND deleted_at IS NULL";
static const char SQL_SUB_KEEP_ONLY[] =
    "DELETE FROM subscriptions WHERE endpoint_id = $1 AND event_type NOT IN "
    "(SELECT jsonb_array_elements_text($2::jsonb))";
static const char SQL_SUB_TYPES[] = "SELECT jsonb_array_elements_text($1::jsonb)";
static const char SQL_SUB_ADD[] =
    "INSERT INTO subscriptions (id, endpoint_id, event_type, enabled, created_at) "
    "VALUES ($1, $2, $3, 1, $4) ON CONFLICT DO NOTHING";
/* By id, else by uid (as store_application_get). */
static const char SQL_EP_FIND_ID[] = "SELECT " EP_COLS " FROM endpoints WHERE id = $3 "
                                     "AND mode = $1 AND application_id = $2 AND deleted_at IS NULL";
static const char SQL_EP_FIND_UID[] = "SELECT " EP_COLS " FROM endpoints WHERE application_id = $2 "
                                      "AND uid = $3 AND mode = $1 AND deleted_at IS NULL";
static const char SQL_EP_APP_SEQ[] =
    "SELECT seq FROM endpoints WHERE id = $1 AND application_id = $2 AND deleted_at IS NULL";
static const char SQL_EP_APP_ASC[] = "SELECT " EP_COLS " FROM endpoints WHERE mode = $1 "
                                     "AND application_id = $2 AND deleted_at IS NULL "
                                     "AND seq > $3 ORDER BY seq LIMIT $4";
static const char SQL_EP_APP_DESC[] = "SELECT " EP_COLS " FROM endpoints WHERE mode = $1 "
                                      "AND application_id = $2 AND deleted_at IS NULL "
                                      "AND seq < $3 ORDER BY seq DESC LIMIT $4";

static enum err not_found(struct err_detail *d, const char *id)
{
    return err_set(d, ERR_NOTFOUND, "ENDPOINT_NOT_FOUND", "endpoint '%s' not found", id);
}

static void read_endpoint(const struct pgq *q, struct store_endpoint *e)
{
    pgq_copy(e->id, sizeof(e->id), q, 0);
    pgq_copy(e->mode, sizeof(e->mode), q, 1);
    e->url = pgq_dup(q, 2);
    e->description = pgq_dup(q, 3);
    e->headers_json = pgq_dup(q, 4);
    e->rate_limit_rps = (int)pgq_i64(q, 5);
    e->burst = (int)pgq_i64(q, 6);
    e->paused = pgq_bool(q, 7);
    e->hmac_enabled = pgq_bool(q, 8);
    e->created_at_ms = pgq_i64(q, 9);
    e->updated_at_ms = pgq_i64(q, 10);
    e->deleted_at_ms = pgq_opt_i64(q, 11, 0);
    pgq_copy(e->application_id, sizeof(e->application_id), q, 12);
    e->uid = pgq_dup(q, 13);
    e->disabled = pgq_bool(q, 14);
    e->all_event_types = pgq_bool(q, 15);
    e->channels_json = pgq_dup(q, 16);
    e->filter_json = pgq_dup(q, 17);
    e->metadata_json = pgq_dup(q, 18);
    e->event_types_json = e->all_event_types ? NULL : pgq_dup(q, 19);
    e->policy_json = pgq_dup(q, 20);
    pgq_copy(e->disabled_reason, sizeof(e->disabled_reason), q, 21);
    e->disabled_at_ms = pgq_opt_i64(q, 22, 0);
    e->circuit_state = (int)pgq_i64(q, 23);
    e->circuit_opened_at_ms = pgq_opt_i64(q, 24, 0);
    e->failing_since_ms = pgq_opt_i64(q, 25, 0);
    e->verified_at_ms = pgq_opt_i64(q, 26, 0);
}

/* ERR_CONFLICT (field "uid") when the endpoint's application has another live
 * endpoint with its uid. */
static enum err check_uid_free(struct pg_store *s, const struct store_endpoint *e,
                               struct err_detail *d)
{
    if (!e->uid)
        return ERR_OK;
    struct pgq q;
    pgq_init(&q, s, SQL_EP_UID_TAKEN);
    pgq_text(&q, 1, e->application_id);
    pgq_text(&q, 2, e->mode);
    pgq_text(&q, 3, e->uid);
    pgq_text(&q, 4, e->id);
    enum err r = pgq_run(&q, d, "check endpoint uid");
    if (r == ERR_OK && pgq_next(&q))
        r = err_set_field(d, ERR_CONFLICT, "CONFLICT", "uid",
                          "an endpoint with uid '%s' already exists in this application", e->uid);
    pgq_done(&q);
    return r;
}

/* ERR_CONFLICT (DUPLICATE_URL) when another live endpoint of the mode's default
 * application has the URL. */
static enum err check_url_free(struct pg_store *s, const struct store_endpoint *e,
                               struct err_detail *d)
{
    if (e->application_id[0] &&
        strncmp(e->application_id, STORE_DEFAULT_APP_PREFIX, strlen(STORE_DEFAULT_APP_PREFIX)) != 0)
        return ERR_OK; /* only HookBridge's endpoints have unique URLs */
    struct pgq q;
    pgq_init(&q, s, SQL_EP_URL_TAKEN);
    pgq_text(&q, 1, e->mode);
    pgq_text(&q, 2, e->url);
    pgq_text(&q, 3, e->id);
    enum err r = pgq_run(&q, d, "check endpoint url");
    if (r == ERR_OK && pgq_next(&q))
        r = err_set(d, ERR_CONFLICT, "DUPLICATE_URL", "endpoint %s already uses this URL",
                    pgq_str(&q, 0));
    pgq_done(&q);
    return r;
}

/* The subscriptions of e become its event_types_json (kept rows keep their id and
 * enabled flag); every row goes when it receives every type. New rows get ids
 * that sort in the list's order (PG_SUB_TYPES_JSON reads them back by id). */
static enum err write_subscriptions(struct pg_store *s, const struct store_endpoint *e,
                                    struct err_detail *d)
{
    const char *list = e->all_event_types ? "[]" : e->event_types_json ? e->event_types_json : "[]";
    struct pgq q;
    pgq_init(&q, s, SQL_SUB_KEEP_ONLY);
    pgq_text(&q, 1, e->id);
    pgq_text(&q, 2, list);
    enum err r = pgq_run(&q, d, "replace subscriptions");
    pgq_done(&q);
    if (r != ERR_OK || e->all_event_types || !e->event_types_json)
        return r;
    struct pgq each;
    pgq_init(&each, s, SQL_SUB_TYPES);
    pgq_text(&each, 1, list);
    r = pgq_run(&each, d, "read event types");
    char base[ID_MAX];
    id_time_ordered(base, sizeof(base), "sub_", e->updated_at_ms);
    for (int i = 0; r == ERR_OK && pgq_next(&each); i++) {
        char id[ID_MAX + 16];
        snprintf(id, sizeof(id), "%.40s%06d", base, i % 1000000);
        pgq_init(&q, s, SQL_SUB_ADD);
        pgq_text(&q, 1, id);
        pgq_text(&q, 2, e->id);
        pgq_text(&q, 3, pgq_str(&each, 0));
        pgq_int(&q, 4, e->updated_at_ms);
        r = pgq_run(&q, d, "add subscription");
        pgq_done(&q);
    }
    pgq_done(&each);
    return r;
}

/* The columns of migrations 10 and 17, bound from base on: $13..$21 of
 * SQL_EP_INSERT, $10..$18 of SQL_EP_UPDATE (PostgreSQL types every parameter
 * up to the highest, so the update's are numbered without gaps). */
static void bind_tenancy(struct pgq *q, const struct store_endpoint *e, int base)
{
    pgq_text(q, base, e->uid);
    pgq_int(q, base + 1, e->disabled);
    pgq_int(q, base + 2, e->all_event_types);
    pgq_text(q, base + 3, e->channels_json);
    pgq_text(q, base + 4, e->filter_json);
    pgq_text(q, base + 5, e->metadata_json);
    pgq_text(q, base + 6, e->policy_json);
    pgq_text(q, base + 7, e->disabled && e->disabled_reason[0] ? e->disabled_reason : NULL);
    pgq_opt_int(q, base + 8, e->disabled ? e->disabled_at_ms : 0, 0);
}

/* $1..$11 of SQL_EP_INSERT, $1..$9 of SQL_EP_UPDATE (after at $10, $11). */
static void bind_fields(struct pgq *q, const struct store_endpoint *e, bool insert)
{
    int at = insert ? 2 : 1; /* the update has no mode */
    pgq_text(q, 1, e->id);
    if (insert)
        pgq_text(q, 2, e->mode);
    pgq_text(q, at + 1, e->url);
    pgq_text(q, at + 2, e->description);
    pgq_text(q, at + 3, e->headers_json);
    pgq_int(q, at + 4, e->rate_limit_rps);
    pgq_int(q, at + 5, e->burst);
    pgq_int(q, at + 6, e->paused);
    pgq_int(q, at + 7, e->hmac_enabled);
    if (insert) {
        pgq_int(q, 10, e->created_at_ms);
        pgq_int(q, 11, e->updated_at_ms);
    } else {
        pgq_int(q, 9, e->updated_at_ms);
    }
}

enum err pg__signing_key_insert(struct pg_store *s, const char *endpoint_id,
                                const struct store_signing_key *k, struct err_detail *d)
{
    char sealed[STORE__SEALED_MAX];
    enum err e =
        store__seal_box(s->box, "signing_keys.secret", k->id, k->secret, sealed, sizeof(sealed), d);
    if (e != ERR_OK)
        return e;
    struct pgq q;
    pgq_init(&q, s, SQL_SK_INSERT);
    pgq_text(&q, 1, k->id);
    pgq_text(&q, 2, endpoint_id);
    pgq_text(&q, 3, sealed);
    pgq_int(&q, 4, k->created_at_ms);
    e = pgq_run(&q, d, "insert signing key");
    if (e == ERR_OK && pgq_changes(&q) == 0)
        e = err_set(d, ERR_CONFLICT, "INVALID_REQUEST", "signing key id already exists");
    pgq_done(&q);
    return e;
}

enum err pg_endpoint_insert(struct store *st, const struct store_endpoint *e,
                            const struct store_signing_key *k, struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    enum err r = check_url_free(s, e, d);
    if (r == ERR_OK)
        r = check_uid_free(s, e, d);
    if (r != ERR_OK)
        return r;
    struct pgq q;
    pgq_init(&q, s, SQL_EP_INSERT);
    pgq_text(&q, 12, e->application_id);
    bind_tenancy(&q, e, 13);
    bind_fields(&q, e, true);
    r = pgq_run(&q, d, "insert endpoint");
    /* ON CONFLICT DO NOTHING: a taken id (or a uid another node took since the check)
     * does not abort the batch's transaction */
    bool taken = r == ERR_OK && pgq_changes(&q) == 0;
    pgq_done(&q);
    if (taken && (r = check_uid_free(s, e, d)) == ERR_OK)
        r = err_set(d, ERR_CONFLICT, "INVALID_REQUEST", "endpoint id already exists");
    if (r == ERR_OK)
        r = write_subscriptions(s, e, d);
    if (r == ERR_OK)
        r = pg__signing_key_insert(s, e->id, k, d);
    return r;
}

enum err pg_endpoint_get(struct store *st, const char *mode, const char *id, bool include_deleted,
                         struct store_endpoint *out, struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    struct pgq q;
    pgq_init(&q, s, SQL_EP_GET);
    pgq_text(&q, 1, id);
    pgq_text(&q, 2, mode);
    pgq_int(&q, 3, include_deleted);
    enum err e = pgq_run(&q, d, "read endpoint");
    if (e == ERR_OK && pgq_next(&q))
        read_endpoint(&q, out);
    else if (e == ERR_OK)
        e = not_found(d, id);
    pgq_done(&q);
    return e;
}

enum err pg_endpoint_update(struct store *st, const struct store_endpoint *e, struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    enum err r = check_url_free(s, e, d);
    if (r == ERR_OK)
        r = check_uid_free(s, e, d);
    if (r != ERR_OK)
        return r;
    struct pgq q;
    pgq_init(&q, s, SQL_EP_UPDATE);
    bind_tenancy(&q, e, 10);
    bind_fields(&q, e, false);
    pgq_opt_int(&q, 19, e->verified_at_ms, 0);
    r = pgq_run(&q, d, "update endpoint");
    if (r == ERR_OK && pgq_changes(&q) == 0)
        r = not_found(d, e->id);
    pgq_done(&q);
    if (r == ERR_OK)
        r = write_subscriptions(s, e, d);
    if (r == ERR_OK && pg__feed(s))
        feed_push_endpoint_changed(pg__feed(s), e->id);
    return r;
}

enum err pg_endpoint_delete(struct store *st, const char *mode, const char *id, int64_t now_ms,
                            struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    struct pgq q;
    pgq_init(&q, s, SQL_EP_DELETE);
    pgq_text(&q, 1, id);
    pgq_text(&q, 2, mode);
    pgq_int(&q, 3, now_ms);
    enum err r = pgq_run(&q, d, "delete endpoint");
    if (r == ERR_OK && pgq_changes(&q) == 0)
        r = not_found(d, id);
    pgq_done(&q);
    if (r == ERR_OK && pg__feed(s))
        feed_push_endpoint_changed(pg__feed(s), id);
    return r;
}

enum err pg_endpoint_find(struct store *st, const char *mode, const char *app_id,
                          const char *id_or_uid, struct store_endpoint *out, struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    enum err e = ERR_OK;
    bool found = false;
    for (int pass = 0; pass < 2 && e == ERR_OK && !found; pass++) {
        struct pgq q;
        pgq_init(&q, s, pass == 0 ? SQL_EP_FIND_ID : SQL_EP_FIND_UID);
        pgq_text(&q, 1, mode);
        pgq_text(&q, 2, app_id);
        pgq_text(&q, 3, id_or_uid);
        e = pgq_run(&q, d, "read endpoint");
        if (e == ERR_OK && pgq_next(&q)) {
            read_endpoint(&q, out);
            found = true;
        }
        pgq_done(&q);
    }
    if (e == ERR_OK && !found)
        e = not_found(d, id_or_uid);
    return e;
}

/* Read the rows of q (run with limit + 1) into out; *has_more for the extra one. */
static void read_page(struct pgq *q, int limit, struct store_endpoint *out, int *n, bool *has_more)
{
    *n = 0;
    *has_more = false;
    while (pgq_next(q)) {
        if (*n == limit) {
            *has_more = true;
            break;
        }
        memset(&out[*n], 0, sizeof(out[*n]));
        read_endpoint(q, &out[(*n)++]);
    }
}

enum err pg_endpoint_list_app(struct store *st, const char *mode, const char *app_id,
                              const char *after_id, bool descending, int limit,
                              struct store_endpoint *out, int *n, bool *has_more,
                              struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    int64_t seq = descending ? INT64_MAX : 0;
    *n = 0;
    *has_more = false;
    if (after_id && after_id[0]) {
        enum err e = pg__iterator_seq(s, SQL_EP_APP_SEQ, after_id, app_id, &seq, d);
        if (e != ERR_OK)
            return e;
    }
    struct pgq q;
    pgq_init(&q, s, descending ? SQL_EP_APP_DESC : SQL_EP_APP_ASC);
    pgq_text(&q, 1, mode);
    pgq_text(&q, 2, app_id);
    pgq_int(&q, 3, seq);
    pgq_int(&q, 4, limit + 1);
    enum err e = pgq_run(&q, d, "list endpoints");
    if (e == ERR_OK)
        read_page(&q, limit, out, n, has_more);
    pgq_done(&q);
    return e;
}

enum err pg_endpoint_list(struct store *st, const char *mode, const char *cursor, int limit,
                          struct store_endpoint *out, int *n, bool *has_more, struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    bool after = cursor && cursor[0];
    struct pgq q;
    *n = 0;
    *has_more = false;
    enum err e = ERR_OK;
    if (after) { /* a cursor is the id of the last endpoint of the previous page */
        pgq_init(&q, s, SQL_EP_CURSOR);
        pgq_text(&q, 1, cursor);
        pgq_text(&q, 2, mode);
        e = pgq_run(&q, d, "check cursor");
        if (e == ERR_OK && !pgq_next(&q))
            e = err_set(d, ERR_INVAL, "INVALID_REQUEST", "'cursor' is not a cursor of this list");
        pgq_done(&q);
        if (e != ERR_OK)
            return e;
    }
    pgq_init(&q, s, after ? SQL_EP_LIST_AFTER : SQL_EP_LIST);
    pgq_text(&q, 1, mode);
    pgq_int(&q, 2, limit + 1); /* one extra row tells has_more */
    if (after)
        pgq_text(&q, 3, cursor);
    e = pgq_run(&q, d, "list endpoints");
    if (e == ERR_OK)
        read_page(&q, limit, out, n, has_more);
    pgq_done(&q);
    return e;
}

enum err pg_signing_keys_active(struct store *st, const char *endpoint_id, int64_t now_ms,
                                struct store_signing_key *out, int *n, struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    struct pgq q;
    pgq_init(&q, s, SQL_SK_ACTIVE);
    pgq_text(&q, 1, endpoint_id);
    pgq_int(&q, 2, now_ms);
    *n = 0;
    enum err e = pgq_run(&q, d, "read signing keys");
    while (e == ERR_OK && *n < STORE_MAX_ACTIVE_KEYS && pgq_next(&q)) {
        pgq_copy(out[*n].id, sizeof(out[*n].id), &q, 0);
        e = store__unseal_box(s->box, "signing_keys.secret", out[*n].id, pgq_str(&q, 1),
                              out[*n].secret, sizeof(out[*n].secret), d);
        if (e != ERR_OK)
            break;
        out[*n].created_at_ms = pgq_i64(&q, 2);
        out[*n].expires_at_ms = pgq_i64(&q, 3); /* NULL reads 0: none */
        (*n)++;
    }
    pgq_done(&q);
    if (e != ERR_OK) { /* never hand out part of the keys, nor a secret that did not open */
        for (int i = 0; i < STORE_MAX_ACTIVE_KEYS; i++)
            explicit_bzero(out[i].secret, sizeof(out[i].secret));
        *n = 0;
    }
    return e;
}

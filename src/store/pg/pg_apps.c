/*
 * pg_apps - applications, event types, idempotency records and portal tokens
 * on PostgreSQL.
 *
 * Description: the twin of sqlite/store_apps.c, same results and errors. An
 * application is found by its id or by its uid (an id wins); deleting one
 * soft-deletes it and then each of its live endpoints through
 * pg_endpoint_delete, so delivery hears of each. Event types are found by
 * name or id (a name wins); "delete" archives unless expunged. Lists are in
 * creation order (seq), continued after the id of the last item. Uniqueness
 * the SQLite code checks before writing (an application's uid, an event
 * type's name) is checked the same way here, so that a refused op has not
 * run a failing statement (which would abort the batch's transaction).
 * Threading and errors: as store.h. SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "store/pg/pg_internal.h"

#define APP_COLS "id, mode, uid, name, metadata, throttle_rate, created_at, updated_at"

static const char SQL_APP_INSERT[] =
    "INSERT INTO applications (id, mode, uid, name, metadata, throttle_rate, created_at, "
    "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)";
/* By id or uid, the application whose id it is first. */
static const char SQL_APP_GET[] = "SELECT " APP_COLS " FROM applications "
                                  "WHERE mode = $1 AND (id = $2 OR uid = $2) "
                                  "AND deleted_at IS NULL ORDER BY id = $2 DESC LIMIT 1";
static const char SQL_APP_UPDATE[] =
    "UPDATE applications SET uid = $3, name = $4, metadata = $5, throttle_rate = $6, "
    "updated_at = $7 WHERE id = $1 AND mode = $2 AND deleted_at IS NULL";
static const char SQL_APP_DELETE[] =
    "UPDATE applications SET deleted_at = $3 WHERE id = $1 AND mode = $2 "
    "AND deleted_at IS NULL";
static const char SQL_APP_ENDPOINTS[] =
    "SELECT id FROM endpoints WHERE application_id = $1 AND deleted_at IS NULL ORDER BY seq";
static const char SQL_APP_UID_TAKEN[] =
    "SELECT 1 FROM applications WHERE mode = $1 AND uid = $2 AND id <> $3 AND deleted_at IS NULL";
static const char SQL_APP_SEQ[] =
    "SELECT seq FROM applications WHERE id = $1 AND mode = $2 AND deleted_at IS NULL";
static const char SQL_APP_LIST_ASC[] = "SELECT " APP_COLS " FROM applications WHERE mode = $1 "
                                       "AND deleted_at IS NULL AND seq > $2 ORDER BY seq LIMIT $3";
static const char SQL_APP_LIST_DESC[] =
    "SELECT " APP_COLS " FROM applications WHERE mode = $1 "
    "AND deleted_at IS NULL AND seq < $2 ORDER BY seq DESC LIMIT $3";

#define ET_COLS                                                                                    \
    "id, mode, name, display_name, description, category, schemas, example_payload, "              \
    "feature_flags, documentation_url, archived, deprecated, created_at, updated_at"

static const char SQL_ET_INSERT[] =
    "INSERT INTO event_types (id, mode, name, display_name, description, category, schemas, "
    "example_payload, feature_flags, documentation_url, archived, deprecated, created_at, "
    "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)";
static const char SQL_ET_GET[] = "SELECT " ET_COLS " FROM event_types "
                                 "WHERE mode = $1 AND (name = $2 OR id = $2) "
                                 "ORDER BY name = $2 DESC LIMIT 1";
static const char SQL_ET_UPDATE[] =
    "UPDATE event_types SET display_name = $3, description = $4, category = $5, schemas = $6, "
    "example_payload = $7, feature_flags = $8, documentation_url = $9, archived = $10, "
    "deprecated = $11, updated_at = $12 WHERE id = $1 AND mode = $2";
static const char SQL_ET_EXPUNGE[] = "DELETE FROM event_types WHERE id = $1 AND mode = $2";
static const char SQL_ET_SEQ[] = "SELECT seq FROM event_types WHERE id = $1 AND mode = $2";
static const char SQL_ET_LIST[] =
    "SELECT " ET_COLS " FROM event_types WHERE mode = $1 "
    "AND seq > $2 AND ($3::bigint <> 0 OR archived = 0) ORDER BY seq LIMIT $4";

static void read_app(const struct pgq *q, struct store_application *out)
{
    pgq_copy(out->id, sizeof(out->id), q, 0);
    pgq_copy(out->mode, sizeof(out->mode), q, 1);
    out->uid = pgq_dup(q, 2);
    out->name = pgq_dup(q, 3);
    out->metadata_json = pgq_dup(q, 4);
    out->throttle_rate = pgq_opt_i64(q, 5, -1);
    out->created_at_ms = pgq_i64(q, 6);
    out->updated_at_ms = pgq_i64(q, 7);
}

/* ERR_CONFLICT when another live application of mode has uid. */
static enum err check_uid(struct pg_store *s, const struct store_application *a,
                          struct err_detail *d)
{
    if (!a->uid)
        return ERR_OK;
    struct pgq q;
    pgq_init(&q, s, SQL_APP_UID_TAKEN);
    pgq_text(&q, 1, a->mode);
    pgq_text(&q, 2, a->uid);
    pgq_text(&q, 3, a->id);
    enum err e = pgq_run(&q, d, "check application uid");
    if (e == ERR_OK && pgq_rows(&q) > 0)
        e = err_set_field(d, ERR_CONFLICT, "CONFLICT", "uid",
                          "an application with uid '%s' already exists", a->uid);
    pgq_done(&q);
    return e;
}

static void bind_app_fields(struct pgq *q, const struct store_application *a)
{
    pgq_text(q, 3, a->uid);
    pgq_text(q, 4, a->name);
    pgq_text(q, 5, a->metadata_json);
    pgq_opt_int(q, 6, a->throttle_rate, -1);
}

enum err pg_application_insert(struct store *st, const struct store_application *a,
                               struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    enum err e = check_uid(s, a, d);
    if (e != ERR_OK)
        return e;
    struct pgq q;
    pgq_init(&q, s, SQL_APP_INSERT);
    pgq_text(&q, 1, a->id);
    pgq_text(&q, 2, a->mode);
    bind_app_fields(&q, a);
    pgq_int(&q, 7, a->created_at_ms);
    e = pgq_run(&q, d, "insert application");
    pgq_done(&q);
    return e;
}

enum err pg_application_get(struct store *st, const char *mode, const char *id_or_uid,
                            struct store_application *out, struct err_detail *d)
{
    struct pgq q;
    pgq_init(&q, pg_of(st), SQL_APP_GET);
    pgq_text(&q, 1, mode);
    pgq_text(&q, 2, id_or_uid);
    enum err e = pgq_run(&q, d, "read application");
    if (e == ERR_OK && pgq_next(&q))
        read_app(&q, out);
    else if (e == ERR_OK)
        e = err_set(d, ERR_NOTFOUND, "NOT_FOUND", "application '%s' not found", id_or_uid);
    pgq_done(&q);
    return e;
}

enum err pg_application_update(struct store *st, const struct store_application *a,
                               struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    enum err e = check_uid(s, a, d);
    if (e != ERR_OK)
        return e;
    struct pgq q;
    pgq_init(&q, s, SQL_APP_UPDATE);
    pgq_text(&q, 1, a->id);
    pgq_text(&q, 2, a->mode);
    bind_app_fields(&q, a);
    pgq_int(&q, 7, a->updated_at_ms);
    e = pgq_run(&q, d, "update application");
    if (e == ERR_OK && pgq_changes(&q) == 0)
        e = err_set(d, ERR_NOTFOUND, "NOT_FOUND", "application '%s' not found", a->id);
    pgq_done(&q);
    return e;
}

enum err pg_application_delete(struct store *st, const char *mode, const char *id, int64_t now_ms,
                               struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    struct pgq q;
    pgq_init(&q, s, SQL_APP_DELETE);
    pgq_text(&q, 1, id);
    pgq_text(&q, 2, mode);
    pgq_int(&q, 3, now_ms);
    enum err e = pgq_run(&q, d, "delete application");
    bool gone = e == ERR_OK && pgq_changes(&q) == 0;
    pgq_done(&q);
    if (gone)
        return err_set(d, ERR_NOTFOUND, "NOT_FOUND", "application '%s' not found", id);
    if (e != ERR_OK)
        return e;
    /* Its endpoints go with it, one by one so that delivery hears of each (the ids
     * are all in the result before the first is deleted). */
    pgq_init(&q, s, SQL_APP_ENDPOINTS);
    pgq_text(&q, 1, id);
    e = pgq_run(&q, d, "list the application's endpoints");
    while (e == ERR_OK && pgq_next(&q))
        e = pg_endpoint_delete(st, mode, pgq_str(&q, 0), now_ms, d);
    pgq_done(&q);
    return e;
}

enum err pg_application_list(struct store *st, const char *mode, const char *after_id,
                             bool descending, int limit, struct store_application *out, int *n,
                             bool *has_more, struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    int64_t seq = descending ? INT64_MAX : 0;
    *n = 0;
    *has_more = false;
    if (after_id && after_id[0]) {
        enum err e = pg__iterator_seq(s, SQL_APP_SEQ, after_id, mode, &seq, d);
        if (e != ERR_OK)
            return e;
    }
    struct pgq q;
    pgq_init(&q, s, descending ? SQL_APP_LIST_DESC : SQL_APP_LIST_ASC);
    pgq_text(&q, 1, mode);
    pgq_int(&q, 2, seq);
    pgq_int(&q, 3, (int64_t)limit + 1);
    enum err e = pgq_run(&q, d, "list applications");
    while (e == ERR_OK && pgq_next(&q)) {
        if (*n == limit) {
            *has_more = true;
            break;
        }
        read_app(&q, &out[(*n)++]);
    }
    pgq_done(&q);
    return e;
}

/* ---- event types ---- */

static void read_et(const struct pgq *q, struct store_event_type *out)
{
    pgq_copy(out->id, sizeof(out->id), q, 0);
    pgq_copy(out->mode, sizeof(out->mode), q, 1);
    out->name = pgq_dup(q, 2);
    out->display_name = pgq_dup(q, 3);
    out->description = pgq_dup(q, 4);
    out->category = pgq_dup(q, 5);
    out->schemas_json = pgq_dup(q, 6);
    out->example_payload = pgq_dup(q, 7);
    out->feature_flags_json = pgq_dup(q, 8);
    out->documentation_url = pgq_dup(q, 9);
    out->archived = pgq_bool(q, 10);
    out->deprecated = pgq_bool(q, 11);
    out->created_at_ms = pgq_i64(q, 12);
    out->updated_at_ms = pgq_i64(q, 13);
}

enum err pg_event_type_insert(struct store *st, const struct store_event_type *t,
                              struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    struct store_event_type old = {0};
    enum err e = pg_event_type_get(st, t->mode, t->name, &old, NULL);
    store_event_type_release(&old);
    if (e == ERR_OK)
        return err_set_field(d, ERR_CONFLICT, "CONFLICT", "name",
                             "an event type named '%s' already exists", t->name);
    struct pgq q;
    pgq_init(&q, s, SQL_ET_INSERT);
    pgq_text(&q, 1, t->id);
    pgq_text(&q, 2, t->mode);
    pgq_text(&q, 3, t->name);
    pgq_text(&q, 4, t->display_name);
    pgq_text(&q, 5, t->description ? t->description : "");
    pgq_text(&q, 6, t->category);
    pgq_text(&q, 7, t->schemas_json);
    pgq_text(&q, 8, t->example_payload);
    pgq_text(&q, 9, t->feature_flags_json);
    pgq_text(&q, 10, t->documentation_url);
    pgq_int(&q, 11, t->archived);
    pgq_int(&q, 12, t->deprecated);
    pgq_int(&q, 13, t->created_at_ms);
    e = pgq_run(&q, d, "insert event type");
    pgq_done(&q);
    return e;
}

enum err pg_event_type_get(struct store *st, const char *mode, const char *name_or_id,
                           struct store_event_type *out, struct err_detail *d)
{
    struct pgq q;
    pgq_init(&q, pg_of(st), SQL_ET_GET);
    pgq_text(&q, 1, mode);
    pgq_text(&q, 2, name_or_id);
    enum err e = pgq_run(&q, d, "read event type");
    if (e == ERR_OK && pgq_next(&q))
        read_et(&q, out);
    else if (e == ERR_OK)
        e = err_set(d, ERR_NOTFOUND, "NOT_FOUND", "event type '%s' not found", name_or_id);
    pgq_done(&q);
    return e;
}

enum err pg_event_type_update(struct store *st, const struct store_event_type *t,
                              struct err_detail *d)
{
    struct pgq q;
    pgq_init(&q, pg_of(st), SQL_ET_UPDATE);
    pgq_text(&q, 1, t->id);
    pgq_text(&q, 2, t->mode);
    pgq_text(&q, 3, t->display_name);
    pgq_text(&q, 4, t->description ? t->description : "");
    pgq_text(&q, 5, t->category);
    pgq_text(&q, 6, t->schemas_json);
    pgq_text(&q, 7, t->example_payload);
    pgq_text(&q, 8, t->feature_flags_json);
    pgq_text(&q, 9, t->documentation_url);
    pgq_int(&q, 10, t->archived);
    pgq_int(&q, 11, t->deprecated);
    pgq_int(&q, 12, t->updated_at_ms);
    enum err e = pgq_run(&q, d, "update event type");
    if (e == ERR_OK && pgq_changes(&q) == 0)
        e = err_set(d, ERR_NOTFOUND, "NOT_FOUND", "event type '%s' not found", t->name);
    pgq_done(&q);
    return e;
}

enum err pg_event_type_expunge(struct store *st, const char *mode, const char *id,
                               struct err_detail *d)
{
    struct pgq q;
    pgq_init(&q, pg_of(st), SQL_ET_EXPUNGE);
    pgq_text(&q, 1, id);
    pgq_text(&q, 2, mode);
    enum err e = pgq_run(&q, d, "delete event type");
    if (e == ERR_OK && pgq_changes(&q) == 0)
        e = err_set(d, ERR_NOTFOUND, "NOT_FOUND", "event type '%s' not found", id);
    pgq_done(&q);
    return e;
}

enum err pg_event_type_list(struct store *st, const char *mode, const char *after_id,
                            bool include_archived, int limit, struct store_event_type *out, int *n,
                            bool *has_more, struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    int64_t seq = 0;
    *n = 0;
    *has_more = false;
    if (after_id && after_id[0]) {
        enum err e = pg__iterator_seq(s, SQL_ET_SEQ, after_id, mode, &seq, d);
        if (e != ERR_OK)
            return e;
    }
    struct pgq q;
    pgq_init(&q, s, SQL_ET_LIST);
    pgq_text(&q, 1, mode);
    pgq_int(&q, 2, seq);
    pgq_int(&q, 3, include_archived);
    pgq_int(&q, 4, (int64_t)limit + 1);
    enum err e = pgq_run(&q, d, "list event types");
    while (e == ERR_OK && pgq_next(&q)) {
        if (*n == limit) {
            *has_more = true;
            break;
        }
        read_et(&q, &out[(*n)++]);
    }
    pgq_done(&q);
    return e;
}

/* ---- idempotency keys ---- */

static const char SQL_IDEM_FIND[] =
    "SELECT request_sha256, status, resource, created_at FROM idempotency "
    "WHERE mode = $1 AND key = $2 AND created_at >= $3";
static const char SQL_IDEM_PUT[] =
    "INSERT INTO idempotency (mode, key, request_sha256, status, resource, created_at) "
    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (mode, key) DO UPDATE SET "
    "request_sha256 = EXCLUDED.request_sha256, status = EXCLUDED.status, "
    "resource = EXCLUDED.resource, created_at = EXCLUDED.created_at";

enum err pg_idem_find(struct store *st, const char *mode, const char *key, int64_t since_ms,
                      struct store_idem *out, struct err_detail *d)
{
    struct pgq q;
    pgq_init(&q, pg_of(st), SQL_IDEM_FIND);
    pgq_text(&q, 1, mode);
    pgq_text(&q, 2, key);
    pgq_int(&q, 3, since_ms);
    enum err e = pgq_run(&q, d, "read idempotency key");
    if (e == ERR_OK && pgq_next(&q)) {
        pgq_copy(out->request_sha256, sizeof(out->request_sha256), &q, 0);
        out->status = (int)pgq_i64(&q, 1);
        pgq_copy(out->resource, sizeof(out->resource), &q, 2);
        out->created_at_ms = pgq_i64(&q, 3);
    } else if (e == ERR_OK) {
        e = err_set(d, ERR_NOTFOUND, "NOT_FOUND", "no such idempotency key");
    }
    pgq_done(&q);
    return e;
}

enum err pg_idem_put(struct store *st, const char *mode, const char *key,
                     const struct store_idem *rec, struct err_detail *d)
{
    struct pgq q;
    pgq_init(&q, pg_of(st), SQL_IDEM_PUT);
    pgq_text(&q, 1, mode);
    pgq_text(&q, 2, key);
    pgq_text(&q, 3, rec->request_sha256);
    pgq_int(&q, 4, rec->status);
    pgq_text(&q, 5, rec->resource[0] ? rec->resource : NULL);
    pgq_int(&q, 6, rec->created_at_ms);
    enum err e = pgq_run(&q, d, "write idempotency key");
    pgq_done(&q);
    return e;
}

/* ---- portal tokens ---- */

static const char SQL_PTOK_INSERT[] =
    "INSERT INTO portal_tokens (id, mode, application_id, token_sha256, name, scopes, "
    "allowed_ips, expires_at, created_at, token_prefix) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
#define PTOK_COLS                                                                                  \
    "id, mode, application_id, name, scopes, allowed_ips, expires_at, revoked_at, created_at, "    \
    "token_prefix"
static const char SQL_PTOK_FIND[] =
    "SELECT " PTOK_COLS " FROM portal_tokens WHERE token_sha256 = $1";
static const char SQL_PTOK_LIST[] = "SELECT " PTOK_COLS " FROM portal_tokens "
                                    "WHERE mode = $1 AND application_id = $2 "
                                    "ORDER BY created_at DESC, id DESC LIMIT $3";
static const char SQL_PTOK_REVOKE[] =
    "UPDATE portal_tokens SET revoked_at = COALESCE(revoked_at, $3) WHERE id = $1 AND mode = $2";

enum err pg_portal_token_insert(struct store *st, const struct store_portal_token *t,
                                const uint8_t token_sha256[32], struct err_detail *d)
{
    struct pgq q;
    pgq_init(&q, pg_of(st), SQL_PTOK_INSERT);
    pgq_text(&q, 1, t->id);
    pgq_text(&q, 2, t->mode);
    pgq_text(&q, 3, t->application_id);
    pgq_blob(&q, 4, token_sha256, 32);
    pgq_text(&q, 5, t->name[0] ? t->name : NULL);
    pgq_text(&q, 6, t->scopes);
    pgq_text(&q, 7, t->allowed_ips_json);
    pgq_int(&q, 8, t->expires_at_ms);
    pgq_int(&q, 9, t->created_at_ms);
    pgq_text(&q, 10, t->prefix[0] ? t->prefix : NULL);
    enum err e = pgq_run(&q, d, "insert portal token");
    pgq_done(&q);
    return e;
}

static void ptok_row(const struct pgq *q, struct store_portal_token *out)
{
    memset(out, 0, sizeof(*out));
    pgq_copy(out->id, sizeof(out->id), q, 0);
    pgq_copy(out->mode, sizeof(out->mode), q, 1);
    pgq_copy(out->application_id, sizeof(out->application_id), q, 2);
    pgq_copy(out->name, sizeof(out->name), q, 3);
    pgq_copy(out->scopes, sizeof(out->scopes), q, 4);
    out->allowed_ips_json = pgq_dup(q, 5);
    out->expires_at_ms = pgq_i64(q, 6);
    out->revoked_at_ms = pgq_opt_i64(q, 7, 0);
    out->created_at_ms = pgq_i64(q, 8);
    pgq_copy(out->prefix, sizeof(out->prefix), q, 9);
}

enum err pg_portal_token_find(struct store *st, const uint8_t token_sha256[32],
                              struct store_portal_token *out, struct err_detail *d)
{
    struct pgq q;
    pgq_init(&q, pg_of(st), SQL_PTOK_FIND);
    pgq_blob(&q, 1, token_sha256, 32);
    memset(out, 0, sizeof(*out));
    enum err e = pgq_run(&q, d, "look up portal token");
    if (e == ERR_OK && pgq_next(&q))
        ptok_row(&q, out);
    else if (e == ERR_OK)
        e = err_set(d, ERR_NOTFOUND, "UNAUTHORIZED", "unknown portal token");
    pgq_done(&q);
    return e;
}

enum err pg_portal_token_list(struct store *st, const char *mode, const char *application_id,
                              int max, struct store_portal_token *out, int *n, struct err_detail *d)
{
    struct pgq q;
    pgq_init(&q, pg_of(st), SQL_PTOK_LIST);
    pgq_text(&q, 1, mode);
    pgq_text(&q, 2, application_id);
    pgq_int(&q, 3, max);
    *n = 0;
    enum err e = pgq_run(&q, d, "list portal tokens");
    while (e == ERR_OK && *n < max && pgq_next(&q))
        ptok_row(&q, &out[(*n)++]);
    pgq_done(&q);
    return e;
}

enum err pg_portal_token_revoke(struct store *st, const char *mode, const char *id, int64_t now_ms,
                                struct err_detail *d)
{
    struct pgq q;
    pgq_init(&q, pg_of(st), SQL_PTOK_REVOKE);
    pgq_text(&q, 1, id);
    pgq_text(&q, 2, mode);
    pgq_int(&q, 3, now_ms);
    enum err e = pgq_run(&q, d, "revoke portal token");
    if (e == ERR_OK && pgq_changes(&q) == 0)
        e = err_set(d, ERR_NOTFOUND, "NOT_FOUND", "portal token '%s' not found", id);
    pgq_done(&q);
    return e;
}

static const char SQL_EP_VERIFIED[] =
    "UPDATE endpoints SET verified_at = $3 WHERE id = $1 AND mode = $2 AND deleted_at IS NULL";

enum err pg_endpoint_set_verified(struct store *st, const char *mode, const char *id, int64_t at_ms,
                                  struct err_detail *d)
{
    struct pgq q;
    pgq_init(&q, pg_of(st), SQL_EP_VERIFIED);
    pgq_text(&q, 1, id);
    pgq_text(&q, 2, mode);
    pgq_int(&q, 3, at_ms);
    enum err e = pgq_run(&q, d, "mark endpoint verified");
    if (e == ERR_OK && pgq_changes(&q) == 0)
        e = err_set(d, ERR_NOTFOUND, "ENDPOINT_NOT_FOUND", "endpoint '%s' not found", id);
    pgq_done(&q);
    return e;
}

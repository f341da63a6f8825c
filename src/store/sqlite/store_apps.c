/*
 * store_apps - applications and event types (migration 9, TENANCY.md §1).
 *
 * Description: both are per mode. An application is found by its id or by
 * its uid (the user's own id); deleting one soft-deletes it and its endpoints
 * (each through store_endpoint_delete, so delivery hears of it). Event types
 * are found by name (or id); "delete" archives unless expunged. Lists are in
 * creation order (seq) either way, continued after the id of the last item.
 * Threading and errors: as store.h. SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite_internal.h"

#define APP_COLS "id, mode, uid, name, metadata, throttle_rate, created_at, updated_at"

static const char SQL_APP_INSERT[] =
    "INSERT INTO applications (id, mode, uid, name, metadata, throttle_rate, created_at, "
    "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)";
/* By id, else by uid: two lookups, each on its own index (an OR of the two made
 * SQLite walk every application of the mode). */
static const char SQL_APP_GET_ID[] = "SELECT " APP_COLS " FROM applications "
                                     "WHERE id = ?2 AND mode = ?1 AND deleted_at IS NULL";
static const char SQL_APP_GET_UID[] = "SELECT " APP_COLS " FROM applications "
                                      "WHERE mode = ?1 AND uid = ?2 AND deleted_at IS NULL";
static const char SQL_APP_UPDATE[] =
    "UPDATE applications SET uid = ?3, name = ?4, metadata = ?5, throttle_rate = ?6, "
    "updated_at = ?7 WHERE id = ?1 AND mode = ?2 AND deleted_at IS NULL";
static const char SQL_APP_DELETE[] =
    "UPDATE applications SET deleted_at = ?3 WHERE id = ?1 AND mode = ?2 "
    "AND deleted_at IS NULL";
static const char SQL_APP_ENDPOINTS[] =
    "SELECT id FROM endpoints WHERE application_id = ?1 AND deleted_at IS NULL";
static const char SQL_APP_UID_TAKEN[] =
    "SELECT 1 FROM applications WHERE mode = ?1 AND uid = ?2 AND id <> ?3 AND deleted_at IS NULL";
static const char SQL_APP_SEQ[] =
    "SELECT seq FROM applications WHERE id = ?1 AND mode = ?2 AND deleted_at IS NULL";
static const char SQL_APP_LIST_ASC[] = "SELECT " APP_COLS " FROM applications WHERE mode = ?1 "
                                       "AND deleted_at IS NULL AND seq > ?2 ORDER BY seq LIMIT ?3";
static const char SQL_APP_LIST_DESC[] =
    "SELECT " APP_COLS " FROM applications WHERE mode = ?1 "
    "AND deleted_at IS NULL AND seq < ?2 ORDER BY seq DESC LIMIT ?3";

#define ET_COLS                                                                                    \
    "id, mode, name, display_name, description, category, schemas, example_payload, "              \
    "feature_flags, documentation_url, archived, deprecated, created_at, updated_at"

static const char SQL_ET_INSERT[] =
    "INSERT INTO event_types (id, mode, name, display_name, description, category, schemas, "
    "example_payload, feature_flags, documentation_url, archived, deprecated, created_at, "
    "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13)";
static const char SQL_ET_GET[] = "SELECT " ET_COLS " FROM event_types "
                                 "WHERE mode = ?1 AND (name = ?2 OR id = ?2) "
                                 "ORDER BY name = ?2 DESC LIMIT 1";
static const char SQL_ET_UPDATE[] =
    "UPDATE event_types SET display_name = ?3, description = ?4, category = ?5, schemas = ?6, "
    "example_payload = ?7, feature_flags = ?8, documentation_url = ?9, archived = ?10, "
    "deprecated = ?11, updated_at = ?12 WHERE id = ?1 AND mode = ?2";
static const char SQL_ET_EXPUNGE[] = "DELETE FROM event_types WHERE id = ?1 AND mode = ?2";
static const char SQL_ET_SEQ[] = "SELECT seq FROM event_types WHERE id = ?1 AND mode = ?2";
static const char SQL_ET_LIST[] = "SELECT " ET_COLS " FROM event_types WHERE mode = ?1 "
                                  "AND seq > ?2 AND (?3 OR archived = 0) ORDER BY seq LIMIT ?4";

static void read_app(sqlite3_stmt *q, struct store_application *out)
{
    store__col_copy(out->id, sizeof(out->id), q, 0);
    store__col_copy(out->mode, sizeof(out->mode), q, 1);
    out->uid = store__col_dup(q, 2);
    out->name = store__col_dup(q, 3);
    out->metadata_json = store__col_dup(q, 4);
    out->throttle_rate = store__col_opt_int(q, 5, -1);
    out->created_at_ms = sqlite3_column_int64(q, 6);
    out->updated_at_ms = sqlite3_column_int64(q, 7);
}

/* ERR_CONFLICT when another live application of mode has uid. */
static enum err check_uid(struct sqlite_store *s, const struct store_application *a,
                          struct err_detail *d)
{
    if (!a->uid)
        return ERR_OK;
    sqlite3_stmt *q = store__prepare(s, SQL_APP_UID_TAKEN);
    store__bind_text(q, 1, a->mode);
    store__bind_text(q, 2, a->uid);
    store__bind_text(q, 3, a->id);
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    if (rc == SQLITE_ROW)
        return err_set_field(d, ERR_CONFLICT, "CONFLICT", "uid",
                             "an application with uid '%s' already exists", a->uid);
    return rc == SQLITE_DONE ? ERR_OK : store__db_err(s, rc, d, "check application uid");
}

static void bind_app_fields(sqlite3_stmt *q, const struct store_application *a)
{
    store__bind_text(q, 3, a->uid);
    store__bind_text(q, 4, a->name);
    store__bind_text(q, 5, a->metadata_json);
    store__bind_opt_int(q, 6, a->throttle_rate, -1);
}

enum err sqlite_application_insert(struct store *st, const struct store_application *a,
                                   struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    enum err e = check_uid(s, a, d);
    if (e != ERR_OK)
        return e;
    sqlite3_stmt *q = store__prepare(s, SQL_APP_INSERT);
    store__bind_text(q, 1, a->id);
    store__bind_text(q, 2, a->mode);
    bind_app_fields(q, a);
    sqlite3_bind_int64(q, 7, a->created_at_ms);
    return store__exec(s, q, d, "insert application");
}

enum err sqlite_application_get(struct store *st, const char *mode, const char *id_or_uid,
                                struct store_application *out, struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    int rc = SQLITE_DONE;
    for (int pass = 0; pass < 2 && rc == SQLITE_DONE; pass++) {
        sqlite3_stmt *q = store__prepare(s, pass == 0 ? SQL_APP_GET_ID : SQL_APP_GET_UID);
        store__bind_text(q, 1, mode);
        store__bind_text(q, 2, id_or_uid);
        rc = sqlite3_step(q);
        if (rc == SQLITE_ROW)
            read_app(q, out);
        sqlite3_reset(q);
    }
    if (rc == SQLITE_ROW)
        return ERR_OK;
    if (rc == SQLITE_DONE)
        return err_set(d, ERR_NOTFOUND, "NOT_FOUND", "application '%s' not found", id_or_uid);
    return store__db_err(s, rc, d, "read application");
}

enum err sqlite_application_update(struct store *st, const struct store_application *a,
                                   struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    enum err e = check_uid(s, a, d);
    if (e != ERR_OK)
        return e;
    sqlite3_stmt *q = store__prepare(s, SQL_APP_UPDATE);
    store__bind_text(q, 1, a->id);
    store__bind_text(q, 2, a->mode);
    bind_app_fields(q, a);
    sqlite3_bind_int64(q, 7, a->updated_at_ms);
    e = store__exec(s, q, d, "update application");
    if (e == ERR_OK && sqlite3_changes(s->db) == 0)
        return err_set(d, ERR_NOTFOUND, "NOT_FOUND", "application '%s' not found", a->id);
    return e;
}

enum err sqlite_application_delete(struct store *st, const char *mode, const char *id,
                                   int64_t now_ms, struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    sqlite3_stmt *q = store__prepare(s, SQL_APP_DELETE);
    store__bind_text(q, 1, id);
    store__bind_text(q, 2, mode);
    sqlite3_bind_int64(q, 3, now_ms);
    enum err e = store__exec(s, q, d, "delete application");
    if (e != ERR_OK)
        return e;
    if (sqlite3_changes(s->db) == 0)
        return err_set(d, ERR_NOTFOUND, "NOT_FOUND", "application '%s' not found", id);
    /* Its endpoints go with it, one by one so that delivery hears of each. The ids
     * are read first: deleting while the statement walks the index is not allowed. */
    char(*ids)[ID_MAX] = NULL;
    size_t n = 0, cap = 0;
    q = store__prepare(s, SQL_APP_ENDPOINTS);
    store__bind_text(q, 1, id);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            ids = realloc(ids, cap * sizeof(*ids));
            if (!ids)
                abort();
        }
        store__col_copy(ids[n++], ID_MAX, q, 0);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        e = store__db_err(s, rc, d, "list the application's endpoints");
    for (size_t i = 0; e == ERR_OK && i < n; i++)
        e = sqlite_endpoint_delete(&s->base, mode, ids[i], now_ms, d);
    free(ids);
    return e;
}

enum err sqlite_application_list(struct store *st, const char *mode, const char *after_id,
                                 bool descending, int limit, struct store_application *out, int *n,
                                 bool *has_more, struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    int64_t seq = descending ? INT64_MAX : 0;
    *n = 0;
    *has_more = false;
    if (after_id && after_id[0]) {
        enum err e = store__iterator_seq(s, SQL_APP_SEQ, after_id, mode, &seq, d);
        if (e != ERR_OK)
            return e;
    }
    sqlite3_stmt *q = store__prepare(s, descending ? SQL_APP_LIST_DESC : SQL_APP_LIST_ASC);
    store__bind_text(q, 1, mode);
    sqlite3_bind_int64(q, 2, seq);
    sqlite3_bind_int(q, 3, limit + 1);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (*n == limit) {
            *has_more = true;
            break;
        }
        read_app(q, &out[(*n)++]);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        for (int i = 0; i < *n; i++)
            store_application_release(&out[i]);
        *n = 0;
        return store__db_err(s, rc, d, "list applications");
    }
    return ERR_OK;
}

/* ---- event types ---- */

static void read_et(sqlite3_stmt *q, struct store_event_type *out)
{
    store__col_copy(out->id, sizeof(out->id), q, 0);
    store__col_copy(out->mode, sizeof(out->mode), q, 1);
    out->name = store__col_dup(q, 2);
    out->display_name = store__col_dup(q, 3);
    out->description = store__col_dup(q, 4);
    out->category = store__col_dup(q, 5);
    out->schemas_json = store__col_dup(q, 6);
    out->example_payload = store__col_dup(q, 7);
    out->feature_flags_json = store__col_dup(q, 8);
    out->documentation_url = store__col_dup(q, 9);
    out->archived = sqlite3_column_int(q, 10) != 0;
    out->deprecated = sqlite3_column_int(q, 11) != 0;
    out->created_at_ms = sqlite3_column_int64(q, 12);
    out->updated_at_ms = sqlite3_column_int64(q, 13);
}

enum err sqlite_event_type_insert(struct store *st, const struct store_event_type *t,
                                  struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    struct store_event_type old = {0};
    enum err e = sqlite_event_type_get(&s->base, t->mode, t->name, &old, NULL);
    store_event_type_release(&old);
    if (e == ERR_OK)
        return err_set_field(d, ERR_CONFLICT, "CONFLICT", "name",
                             "an event type named '%s' already exists", t->name);
    sqlite3_stmt *q = store__prepare(s, SQL_ET_INSERT);
    store__bind_text(q, 1, t->id);
    store__bind_text(q, 2, t->mode);
    store__bind_text(q, 3, t->name);
    store__bind_text(q, 4, t->display_name);
    store__bind_text(q, 5, t->description ? t->description : "");
    store__bind_text(q, 6, t->category);
    store__bind_text(q, 7, t->schemas_json);
    store__bind_text(q, 8, t->example_payload);
    store__bind_text(q, 9, t->feature_flags_json);
    store__bind_text(q, 10, t->documentation_url);
    sqlite3_bind_int(q, 11, t->archived);
    sqlite3_bind_int(q, 12, t->deprecated);
    sqlite3_bind_int64(q, 13, t->created_at_ms);
    return store__exec(s, q, d, "insert event type");
}

enum err sqlite_event_type_get(struct store *st, const char *mode, const char *name_or_id,
                               struct store_event_type *out, struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    sqlite3_stmt *q = store__prepare(s, SQL_ET_GET);
    store__bind_text(q, 1, mode);
    store__bind_text(q, 2, name_or_id);
    int rc = sqlite3_step(q);
    enum err e = ERR_OK;
    if (rc == SQLITE_ROW)
        read_et(q, out);
    else if (rc == SQLITE_DONE)
        e = err_set(d, ERR_NOTFOUND, "NOT_FOUND", "event type '%s' not found", name_or_id);
    else
        e = store__db_err(s, rc, d, "read event type");
    sqlite3_reset(q);
    return e;
}

enum err sqlite_event_type_update(struct store *st, const struct store_event_type *t,
                                  struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    sqlite3_stmt *q = store__prepare(s, SQL_ET_UPDATE);
    store__bind_text(q, 1, t->id);
    store__bind_text(q, 2, t->mode);
    store__bind_text(q, 3, t->display_name);
    store__bind_text(q, 4, t->description ? t->description : "");
    store__bind_text(q, 5, t->category);
    store__bind_text(q, 6, t->schemas_json);
    store__bind_text(q, 7, t->example_payload);
    store__bind_text(q, 8, t->feature_flags_json);
    store__bind_text(q, 9, t->documentation_url);
    sqlite3_bind_int(q, 10, t->archived);
    sqlite3_bind_int(q, 11, t->deprecated);
    sqlite3_bind_int64(q, 12, t->updated_at_ms);
    enum err e = store__exec(s, q, d, "update event type");
    if (e == ERR_OK && sqlite3_changes(s->db) == 0)
        return err_set(d, ERR_NOTFOUND, "NOT_FOUND", "event type '%s' not found", t->name);
    return e;
}

enum err sqlite_event_type_expunge(struct store *st, const char *mode, const char *id,
                                   struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    sqlite3_stmt *q = store__prepare(s, SQL_ET_EXPUNGE);
    store__bind_text(q, 1, id);
    store__bind_text(q, 2, mode);
    enum err e = store__exec(s, q, d, "delete event type");
    if (e == ERR_OK && sqlite3_changes(s->db) == 0)
        return err_set(d, ERR_NOTFOUND, "NOT_FOUND", "event type '%s' not found", id);
    return e;
}

enum err sqlite_event_type_list(struct store *st, const char *mode, const char *after_id,
                                bool include_archived, int limit, struct store_event_type *out,
                                int *n, bool *has_more, struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    int64_t seq = 0;
    *n = 0;
    *has_more = false;
    if (after_id && after_id[0]) {
        enum err e = store__iterator_seq(s, SQL_ET_SEQ, after_id, mode, &seq, d);
        if (e != ERR_OK)
            return e;
    }
    sqlite3_stmt *q = store__prepare(s, SQL_ET_LIST);
    store__bind_text(q, 1, mode);
    sqlite3_bind_int64(q, 2, seq);
    sqlite3_bind_int(q, 3, include_archived);
    sqlite3_bind_int(q, 4, limit + 1);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (*n == limit) {
            *has_more = true;
            break;
        }
        read_et(q, &out[(*n)++]);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        for (int i = 0; i < *n; i++)
            store_event_type_release(&out[i]);
        *n = 0;
        return store__db_err(s, rc, d, "list event types");
    }
    return ERR_OK;
}

/* ---- idempotency keys ---- */

static const char SQL_IDEM_FIND[] =
    "SELECT request_sha256, status, resource, created_at FROM idempotency "
    "WHERE mode = ?1 AND key = ?2 AND created_at >= ?3";
static const char SQL_IDEM_PUT[] =
    "INSERT OR REPLACE INTO idempotency (mode, key, request_sha256, status, resource, created_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

enum err sqlite_idem_find(struct store *st, const char *mode, const char *key, int64_t since_ms,
                          struct store_idem *out, struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    sqlite3_stmt *q = store__prepare(s, SQL_IDEM_FIND);
    store__bind_text(q, 1, mode);
    store__bind_text(q, 2, key);
    sqlite3_bind_int64(q, 3, since_ms);
    int rc = sqlite3_step(q);
    enum err e = ERR_OK;
    if (rc == SQLITE_ROW) {
        store__col_copy(out->request_sha256, sizeof(out->request_sha256), q, 0);
        out->status = sqlite3_column_int(q, 1);
        store__col_copy(out->resource, sizeof(out->resource), q, 2);
        out->created_at_ms = sqlite3_column_int64(q, 3);
    } else if (rc == SQLITE_DONE) {
        e = err_set(d, ERR_NOTFOUND, "NOT_FOUND", "no such idempotency key");
    } else {
        e = store__db_err(s, rc, d, "read idempotency key");
    }
    sqlite3_reset(q);
    return e;
}

enum err sqlite_idem_put(struct store *st, const char *mode, const char *key,
                         const struct store_idem *rec, struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    sqlite3_stmt *q = store__prepare(s, SQL_IDEM_PUT);
    store__bind_text(q, 1, mode);
    store__bind_text(q, 2, key);
    store__bind_text(q, 3, rec->request_sha256);
    sqlite3_bind_int(q, 4, rec->status);
    store__bind_text(q, 5, rec->resource[0] ? rec->resource : NULL);
    sqlite3_bind_int64(q, 6, rec->created_at_ms);
    return store__exec(s, q, d, "write idempotency key");
}

/* ---- portal tokens ---- */

static const char SQL_PTOK_INSERT[] =
    "INSERT INTO portal_tokens (id, mode, application_id, token_sha256, name, scopes, "
    "allowed_ips, expires_at, created_at, token_prefix) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
#define PTOK_COLS                                                                                  \
    "id, mode, application_id, name, scopes, allowed_ips, expires_at, revoked_at, created_at, "    \
    "token_prefix"
static const char SQL_PTOK_FIND[] =
    "SELECT " PTOK_COLS " FROM portal_tokens WHERE token_sha256 = ?1";
static const char SQL_PTOK_LIST[] = "SELECT " PTOK_COLS " FROM portal_tokens "
                                    "WHERE mode = ?1 AND application_id = ?2 "
                                    "ORDER BY created_at DESC, id DESC LIMIT ?3";
static const char SQL_PTOK_REVOKE[] =
    "UPDATE portal_tokens SET revoked_at = COALESCE(revoked_at, ?3) WHERE id = ?1 AND mode = ?2";

enum err sqlite_portal_token_insert(struct store *st, const struct store_portal_token *t,
                                    const uint8_t token_sha256[32], struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    sqlite3_stmt *q = store__prepare(s, SQL_PTOK_INSERT);
    store__bind_text(q, 1, t->id);
    store__bind_text(q, 2, t->mode);
    store__bind_text(q, 3, t->application_id);
    sqlite3_bind_blob(q, 4, token_sha256, 32, SQLITE_STATIC);
    store__bind_text(q, 5, t->name[0] ? t->name : NULL);
    store__bind_text(q, 6, t->scopes);
    store__bind_text(q, 7, t->allowed_ips_json);
    sqlite3_bind_int64(q, 8, t->expires_at_ms);
    sqlite3_bind_int64(q, 9, t->created_at_ms);
    store__bind_text(q, 10, t->prefix[0] ? t->prefix : NULL);
    return store__exec(s, q, d, "insert portal token");
}

static void ptok_row(sqlite3_stmt *q, struct store_portal_token *out)
{
    memset(out, 0, sizeof(*out));
    store__col_copy(out->id, sizeof(out->id), q, 0);
    store__col_copy(out->mode, sizeof(out->mode), q, 1);
    store__col_copy(out->application_id, sizeof(out->application_id), q, 2);
    store__col_copy(out->name, sizeof(out->name), q, 3);
    store__col_copy(out->scopes, sizeof(out->scopes), q, 4);
    out->allowed_ips_json = store__col_dup(q, 5);
    out->expires_at_ms = sqlite3_column_int64(q, 6);
    out->revoked_at_ms = store__col_opt_int(q, 7, 0);
    out->created_at_ms = sqlite3_column_int64(q, 8);
    store__col_copy(out->prefix, sizeof(out->prefix), q, 9);
}

enum err sqlite_portal_token_find(struct store *st, const uint8_t token_sha256[32],
                                  struct store_portal_token *out, struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    sqlite3_stmt *q = store__prepare(s, SQL_PTOK_FIND);
    sqlite3_bind_blob(q, 1, token_sha256, 32, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    enum err e = ERR_OK;
    memset(out, 0, sizeof(*out));
    if (rc == SQLITE_ROW)
        ptok_row(q, out);
    else if (rc == SQLITE_DONE)
        e = err_set(d, ERR_NOTFOUND, "UNAUTHORIZED", "unknown portal token");
    else
        e = store__db_err(s, rc, d, "look up portal token");
    sqlite3_reset(q);
    return e;
}

enum err sqlite_portal_token_list(struct store *st, const char *mode, const char *application_id,
                                  int max, struct store_portal_token *out, int *n,
                                  struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    sqlite3_stmt *q = store__prepare(s, SQL_PTOK_LIST);
    store__bind_text(q, 1, mode);
    store__bind_text(q, 2, application_id);
    sqlite3_bind_int(q, 3, max);
    *n = 0;
    int rc = SQLITE_DONE;
    while (*n < max && (rc = sqlite3_step(q)) == SQLITE_ROW)
        ptok_row(q, &out[(*n)++]);
    enum err e =
        (*n == max || rc == SQLITE_DONE) ? ERR_OK : store__db_err(s, rc, d, "list portal tokens");
    sqlite3_reset(q);
    return e;
}

enum err sqlite_portal_token_revoke(struct store *st, const char *mode, const char *id,
                                    int64_t now_ms, struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    sqlite3_stmt *q = store__prepare(s, SQL_PTOK_REVOKE);
    store__bind_text(q, 1, id);
    store__bind_text(q, 2, mode);
    sqlite3_bind_int64(q, 3, now_ms);
    enum err e = store__exec(s, q, d, "revoke portal token");
    if (e == ERR_OK && sqlite3_changes(s->db) == 0)
        e = err_set(d, ERR_NOTFOUND, "NOT_FOUND", "portal token '%s' not found", id);
    return e;
}

static const char SQL_EP_VERIFIED[] =
    "UPDATE endpoints SET verified_at = ?3 WHERE id = ?1 AND mode = ?2 AND deleted_at IS NULL";

enum err sqlite_endpoint_set_verified(struct store *st, const char *mode, const char *id,
                                      int64_t at_ms, struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    sqlite3_stmt *q = store__prepare(s, SQL_EP_VERIFIED);
    store__bind_text(q, 1, id);
    store__bind_text(q, 2, mode);
    sqlite3_bind_int64(q, 3, at_ms);
    enum err e = store__exec(s, q, d, "mark endpoint verified");
    if (e == ERR_OK && sqlite3_changes(s->db) == 0)
        e = err_set(d, ERR_NOTFOUND, "ENDPOINT_NOT_FOUND", "endpoint '%s' not found", id);
    return e;
}

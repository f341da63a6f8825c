/*
 * hookbase event types - /api/event-types: EventType {id, name, displayName,
 * description, category, schema (a JSON string), examplePayload (a JSON
 * string), isEnabled, documentationUrl, createdAt, updatedAt} onto
 * service/event_types. isEnabled false is an archived type; DELETE removes
 * the type for good. The id in paths is the type's id or its name.
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "service/event_types.h"
#include "surface/hookbase/internal.h"

/* The schema of the newest version, as a JSON string (null when none). */
static json_t *schema_text(const char *schemas_json)
{
    json_t *all = schemas_json ? json_loads(schemas_json, 0, NULL) : NULL;
    const char *k, *best = NULL;
    json_t *v, *pick = NULL;
    json_object_foreach(all, k, v)
    {
        if (!best || strtol(k, NULL, 10) > strtol(best, NULL, 10))
            best = k, pick = v;
    }
    char *t = pick ? json_dumps(pick, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_t *out = t ? json_string(t) : json_null();
    free(t);
    json_decref(all);
    return out ? out : json_null();
}

json_t *hookbase__event_type_json(const struct store_event_type *t)
{
    return json_pack(
        "{s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:b, s:o, s:o, s:o}", "id", t->id, "name", t->name,
        "displayName", json_string(t->display_name ? t->display_name : t->name), "description",
        t->description ? t->description : "", "category",
        t->category ? json_string(t->category) : json_null(), "schema",
        schema_text(t->schemas_json), "examplePayload",
        t->example_payload ? json_string(t->example_payload) : json_null(), "isEnabled",
        !t->archived, "documentationUrl",
        t->documentation_url ? json_string(t->documentation_url) : json_null(), "createdAt",
        hookbase__time(t->created_at_ms), "updatedAt", hookbase__time(t->updated_at_ms));
}

struct et_op {
    struct service_event_type_op svc;
};

static void write_done(struct http_request *r)
{
    struct et_op *x = r->op;
    struct commit_op *op = &x->svc.head.op;
    if (op->result != ERR_OK)
        http__respond_err(r, op->result, &op->detail);
    else if (x->svc.kind == EVENT_TYPE_EXPUNGE)
        hookbase__respond_no_content(r);
    else
        hookbase__respond_data(r, x->svc.created ? MHD_HTTP_CREATED : MHD_HTTP_OK,
                               hookbase__event_type_json(&x->svc.type));
    service_event_type_op_release(&x->svc);
    free(x);
}

/* A JSON text field (schema, examplePayload) parsed into *out (owned; JSON null
 * when the field is null); false after answering when it is not JSON text. */
static bool json_field(struct http_request *r, json_t *body, const char *wire, const char *domain,
                       json_t **out)
{
    json_t *v = json_object_get(body, wire);
    *out = NULL;
    if (!v)
        return true;
    if (json_is_null(v)) {
        *out = json_null();
        return true;
    }
    if (json_is_string(v))
        *out = json_loads(json_string_value(v), JSON_DECODE_ANY, NULL);
    else if (json_is_object(v)) /* a client that sends the schema itself */
        *out = json_incref(v);
    if (*out)
        return true;
    snprintf(r->error_field, sizeof(r->error_field), "%s", domain);
    http__respond_error(r, MHD_HTTP_BAD_REQUEST, "INVALID_REQUEST",
                        "'%s' must be a string of JSON text", wire);
    return false;
}

static void submit(struct http_request *r, enum event_type_write kind)
{
    json_t *body = NULL, *schema = NULL, *schemas = NULL, *example = NULL, *archived = NULL;
    struct event_type_fields f = {0};
    if (kind != EVENT_TYPE_EXPUNGE) {
        if (!(body = hookbase__body(r)))
            return;
        if (!json_field(r, body, "schema", "schemas", &schema) ||
            !json_field(r, body, "examplePayload", "example_payload", &example)) {
            json_decref(schema);
            json_decref(body);
            return;
        }
        if (kind == EVENT_TYPE_CREATE)
            f.name = json_object_get(body, "name");
        f.display_name = json_object_get(body, "displayName");
        f.description = json_object_get(body, "description");
        f.category = json_object_get(body, "category");
        f.documentation_url = json_object_get(body, "documentationUrl");
        if (schema)
            f.schemas = schemas =
                json_is_null(schema) ? json_null() : json_pack("{s:O}", "1", schema);
        f.example_payload = example;
        json_t *enabled = json_object_get(body, "isEnabled");
        if (enabled && !json_is_boolean(enabled)) {
            json_decref(schema);
            json_decref(schemas);
            json_decref(example);
            json_decref(body);
            snprintf(r->error_field, sizeof(r->error_field), "archived");
            http__respond_error(r, MHD_HTTP_BAD_REQUEST, "INVALID_REQUEST",
                                "'isEnabled' must be a boolean");
            return;
        }
        if (enabled)
            f.archived = archived = json_boolean(!json_is_true(enabled));
    }
    struct et_op *x = calloc(1, sizeof(*x));
    if (!x)
        abort();
    struct err_detail d = {0};
    enum err e = service_event_type_op_init(&x->svc, kind, r->key.mode, r->param[0], &f, &d);
    json_decref(schema);
    json_decref(schemas);
    json_decref(example);
    json_decref(archived);
    json_decref(body);
    if (e != ERR_OK) {
        free(x);
        http__respond_err(r, e, &d);
        return;
    }
    hookbase__defer(r, &x->svc.head, write_done);
}

void hookbase__event_type_create(struct http_request *r)
{
    submit(r, EVENT_TYPE_CREATE);
}
void hookbase__event_type_patch(struct http_request *r)
{
    submit(r, EVENT_TYPE_PATCH);
}
void hookbase__event_type_delete(struct http_request *r)
{
    submit(r, EVENT_TYPE_EXPUNGE);
}

void hookbase__event_type_get(struct http_request *r)
{
    struct store_event_type t = {0};
    struct err_detail d = {0};
    struct store *s = http__store_acquire(r->server);
    enum err e = s ? service_event_type_get(s, r->key.mode, r->param[0], &t, &d) : ERR_IO;
    http__store_release(r->server, s);
    if (e != ERR_OK) {
        http__respond_err(r, e, &d);
        return;
    }
    hookbase__respond_data(r, MHD_HTTP_OK, hookbase__event_type_json(&t));
    store_event_type_release(&t);
}

/* Every type of the mode passing the filters, as Hookbase items (or the portal's). */
static json_t *collect(struct http_request *r, const char *category, bool has_enabled, bool enabled,
                       const char *search, enum err *e, struct err_detail *d)
{
    struct store_event_type *types = calloc(SERVICE_PAGE_MAX, sizeof(*types));
    if (!types)
        abort();
    json_t *all = json_array();
    char after[ID_MAX] = "";
    bool more = true;
    *e = ERR_OK;
    struct store *s = http__store_acquire(r->server);
    if (!s)
        *e = ERR_IO;
    while (*e == ERR_OK && more && json_array_size(all) < HOOKBASE_SCAN_MAX) {
        int n = 0;
        *e = service_event_type_list(s, r->key.mode, after[0] ? after : NULL, true,
                                     SERVICE_PAGE_MAX, types, &n, &more, d);
        for (int i = 0; i < n; i++) {
            const struct store_event_type *t = &types[i];
            bool ok = (!category || (t->category && !strcmp(t->category, category))) &&
                      (!has_enabled || enabled == !t->archived) &&
                      (!search || hookbase__contains(t->name, search) ||
                       (t->display_name && hookbase__contains(t->display_name, search)) ||
                       (t->description && hookbase__contains(t->description, search)));
            if (ok)
                json_array_append_new(all, hookbase__event_type_json(t));
            if (i == n - 1)
                snprintf(after, sizeof(after), "%s", t->id);
            store_event_type_release(&types[i]);
        }
        if (!n)
            more = false;
    }
    http__store_release(r->server, s);
    free(types);
    return all;
}

void hookbase__event_type_list(struct http_request *r)
{
    struct hookbase_page p;
    bool has_enabled, enabled;
    if (!hookbase__page(r, &p) || !hookbase__query_bool(r, "isEnabled", &has_enabled, &enabled))
        return;
    const char *category = http__query(r, "category"), *search = http__query(r, "search");
    enum err e;
    struct err_detail d = {0};
    json_t *all = collect(r, category && *category ? category : NULL, has_enabled, enabled,
                          search && *search ? search : NULL, &e, &d);
    if (e != ERR_OK) {
        json_decref(all);
        http__respond_err(r, e, &d);
        return;
    }
    hookbase__respond_page(r, all, &p, NULL);
}

/* GET /portal/event-types: the enabled types, not paged, without timestamps. */
void hookbase__portal_event_types(struct http_request *r)
{
    enum err e;
    struct err_detail d = {0};
    json_t *all = collect(r, NULL, true, true, NULL, &e, &d);
    if (e != ERR_OK) {
        json_decref(all);
        http__respond_err(r, e, &d);
        return;
    }
    size_t i;
    json_t *v;
    json_array_foreach(all, i, v)
    {
        json_object_del(v, "createdAt");
        json_object_del(v, "updatedAt");
        json_object_del(v, "isEnabled");
    }
    hookbase__respond_data(r, MHD_HTTP_OK, all);
}

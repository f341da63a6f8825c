/*
 * hookbase applications - /api/webhook-applications: App {id, name,
 * externalId (the uid), metadata, createdAt, updatedAt} onto
 * service/applications; by-external-id, and the upsert by externalId.
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "service/applications.h"
#include "surface/hookbase/internal.h"

json_t *hookbase__app_json(const struct store_application *a)
{
    return json_pack("{s:s, s:s, s:o, s:o, s:o, s:o}", "id", a->id, "name", a->name ? a->name : "",
                     "externalId", a->uid ? json_string(a->uid) : json_null(), "metadata",
                     hookbase__json_or(a->metadata_json, json_object()), "createdAt",
                     hookbase__time(a->created_at_ms), "updatedAt",
                     hookbase__time(a->updated_at_ms));
}

struct app_op {
    struct service_app_op svc;
    bool upsert; /* answer {data, created} */
};

static void write_done(struct http_request *r)
{
    struct app_op *x = r->op;
    struct commit_op *op = &x->svc.head.op;
    if (op->result != ERR_OK)
        http__respond_err(r, op->result, &op->detail);
    else if (x->svc.kind == APP_DELETE)
        hookbase__respond_no_content(r);
    else if (x->upsert)
        http__respond_json(r, x->svc.created ? MHD_HTTP_CREATED : MHD_HTTP_OK,
                           json_pack("{s:o, s:b}", "data", hookbase__app_json(&x->svc.app),
                                     "created", x->svc.created));
    else
        hookbase__respond_data(r, x->svc.created ? MHD_HTTP_CREATED : MHD_HTTP_OK,
                               hookbase__app_json(&x->svc.app));
    service_app_op_release(&x->svc);
    free(x);
}

static void submit(struct http_request *r, enum app_write kind, bool upsert)
{
    json_t *body = NULL;
    struct app_fields f = {0};
    const char *target = r->param[0];
    if (kind != APP_DELETE) {
        if (!(body = hookbase__body(r)))
            return;
        json_t *v;
        if ((v = json_object_get(body, "name"))) {
            f.has_name = true;
            f.name = json_is_string(v) ? json_string_value(v) : json_is_null(v) ? NULL : "";
        }
        if (kind != APP_PATCH && (v = json_object_get(body, "externalId"))) {
            f.has_uid = true;
            f.uid = json_is_string(v) ? json_string_value(v) : json_is_null(v) ? NULL : "";
        }
        if ((v = json_object_get(body, "metadata"))) {
            f.has_metadata = true;
            f.metadata = v;
        }
        if (upsert) {
            if (!f.has_uid || !f.uid || !*f.uid) {
                json_decref(body);
                snprintf(r->error_field, sizeof(r->error_field), "uid");
                http__respond_error(r, MHD_HTTP_BAD_REQUEST, "INVALID_REQUEST",
                                    "'externalId' is required");
                return;
            }
            target = f.uid;
        }
    }
    struct app_op *x = calloc(1, sizeof(*x));
    if (!x)
        abort();
    x->upsert = upsert;
    struct err_detail d = {0};
    enum err e = service_app_op_init(&x->svc, kind, r->key.mode, target, &f, false, &d);
    json_decref(body); /* init copied what it keeps */
    if (e != ERR_OK) {
        free(x);
        http__respond_err(r, e, &d);
        return;
    }
    hookbase__defer(r, &x->svc.head, write_done);
}

void hookbase__app_create(struct http_request *r)
{
    submit(r, APP_CREATE, false);
}
void hookbase__app_patch(struct http_request *r)
{
    submit(r, APP_PATCH, false);
}
void hookbase__app_delete(struct http_request *r)
{
    submit(r, APP_DELETE, false);
}
/* PUT /api/webhook-applications[/upsert] {externalId, name, metadata?}: the
 * application of that externalId is replaced (absent metadata cleared), or made. */
void hookbase__app_upsert(struct http_request *r)
{
    submit(r, APP_REPLACE, true);
}

static void get_one(struct http_request *r, const char *id_or_uid, bool uid_only)
{
    struct store_application a = {0};
    struct err_detail d = {0};
    struct store *s = http__store_acquire(r->server);
    enum err e = s ? service_app_get(s, r->key.mode, id_or_uid, &a, &d) : ERR_IO;
    http__store_release(r->server, s);
    if (e == ERR_OK && uid_only && (!a.uid || strcmp(a.uid, id_or_uid) != 0))
        e = err_set(&d, ERR_NOTFOUND, "APPLICATION_NOT_FOUND",
                    "no application with externalId '%s'", id_or_uid);
    if (e != ERR_OK) {
        store_application_release(&a);
        http__respond_err(r, e, &d);
        return;
    }
    hookbase__respond_data(r, MHD_HTTP_OK, hookbase__app_json(&a));
    store_application_release(&a);
}

void hookbase__app_get(struct http_request *r)
{
    get_one(r, r->param[0], false);
}

void hookbase__app_by_external_id(struct http_request *r)
{
    get_one(r, r->param[0], true);
}

/* Does the application's name or externalId contain needle (case-insensitive)? */
static bool found(const struct store_application *a, const char *needle)
{
    return (a->name && hookbase__contains(a->name, needle)) ||
           (a->uid && hookbase__contains(a->uid, needle));
}

void hookbase__app_list(struct http_request *r)
{
    struct hookbase_page p;
    if (!hookbase__page(r, &p))
        return;
    const char *search = http__query(r, "search");
    if (search && !*search)
        search = NULL;
    struct store_application *apps = calloc(SERVICE_PAGE_MAX, sizeof(*apps));
    if (!apps)
        abort();
    json_t *all = json_array();
    char after[ID_MAX] = "";
    bool more = true;
    enum err e = ERR_OK;
    struct err_detail d = {0};
    struct store *s = http__store_acquire(r->server);
    if (!s)
        e = ERR_IO;
    while (e == ERR_OK && more && json_array_size(all) < HOOKBASE_SCAN_MAX) {
        int n = 0;
        e = service_app_list(s, r->key.mode, after[0] ? after : NULL, true, SERVICE_PAGE_MAX, apps,
                             &n, &more, &d);
        for (int i = 0; i < n; i++) {
            if (!service_app_is_builtin(&apps[i]) && (!search || found(&apps[i], search)))
                json_array_append_new(all, hookbase__app_json(&apps[i]));
            if (i == n - 1)
                snprintf(after, sizeof(after), "%s", apps[i].id);
            store_application_release(&apps[i]);
        }
        if (!n)
            more = false;
    }
    http__store_release(r->server, s);
    free(apps);
    if (e != ERR_OK) {
        json_decref(all);
        http__respond_err(r, e, &d);
        return;
    }
    hookbase__respond_page(r, all, &p, NULL);
}

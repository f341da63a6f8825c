/*
 * svix applications - /api/v1/app: ApplicationIn/ApplicationOut onto
 * service/applications (both 1.x and 2.x names: throttleRate and rateLimit).
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "service/applications.h"
#include "surface/svix/internal.h"

static json_t *render(const struct store_application *a)
{
    json_t *rate = a->throttle_rate >= 0 ? json_integer(a->throttle_rate) : json_null();
    return json_pack("{s:s, s:s?, s:s, s:O, s:o, s:o, s:o, s:o}", "id", a->id, "uid", a->uid,
                     "name", a->name ? a->name : "", "throttleRate", rate, "rateLimit", rate,
                     "metadata", svix__json_or(a->metadata_json, json_object()), "createdAt",
                     svix__time(a->created_at_ms), "updatedAt", svix__time(a->updated_at_ms));
}

/* ApplicationIn onto the domain fields (1.x's rateLimit = 2.x's throttleRate). */
static void read_fields(json_t *body, struct app_fields *f)
{
    memset(f, 0, sizeof(*f));
    json_t *v;
    if ((v = json_object_get(body, "name"))) {
        f->has_name = true;
        f->name = json_is_string(v) ? json_string_value(v) : "";
        if (json_is_null(v))
            f->name = NULL;
    }
    if ((v = json_object_get(body, "uid"))) {
        f->has_uid = true;
        f->uid = json_is_string(v) ? json_string_value(v) : json_is_null(v) ? NULL : "";
    }
    if ((v = json_object_get(body, "metadata"))) {
        f->has_metadata = true;
        f->metadata = v;
    }
    if ((v = json_object_get(body, "throttleRate")) || (v = json_object_get(body, "rateLimit"))) {
        f->has_throttle_rate = true;
        f->throttle_rate = v;
    }
}

struct app_op {
    struct service_app_op svc; /* first: the service op is the commit op */
};

static void write_done(struct http_request *r)
{
    struct app_op *x = svix__op(r);
    struct commit_op *op = &x->svc.head.op;
    if (op->result != ERR_OK)
        http__respond_err(r, op->result, &op->detail);
    else if (x->svc.kind == APP_DELETE)
        http__respond_raw(r, MHD_HTTP_NO_CONTENT, "", 0, NULL, 0);
    else
        http__respond_json(r, x->svc.created ? MHD_HTTP_CREATED : MHD_HTTP_OK, render(&x->svc.app));
    service_app_op_release(&x->svc);
    free(x);
}

static void submit(struct http_request *r, enum app_write kind, bool get_if_exists)
{
    json_t *body = NULL;
    struct app_fields f = {0};
    if (kind != APP_DELETE) {
        if (!(body = svix__body(r)))
            return;
        read_fields(body, &f);
    }
    struct app_op *x = calloc(1, sizeof(*x));
    if (!x)
        abort();
    struct err_detail d = {0};
    enum err e =
        service_app_op_init(&x->svc, kind, r->key.mode, r->param[0], &f, get_if_exists, &d);
    json_decref(body); /* init copied what it keeps */
    if (e != ERR_OK) {
        free(x);
        http__respond_err(r, e, &d);
        return;
    }
    svix__defer(r, &x->svc.head, write_done);
}

void svix__app_create(struct http_request *r)
{
    bool get_if_exists;
    if (svix__query_bool(r, "get_if_exists", false, &get_if_exists))
        submit(r, APP_CREATE, get_if_exists);
}

void svix__app_replace(struct http_request *r)
{
    submit(r, APP_REPLACE, false);
}
void svix__app_patch(struct http_request *r)
{
    submit(r, APP_PATCH, false);
}
void svix__app_delete(struct http_request *r)
{
    submit(r, APP_DELETE, false);
}

void svix__app_get(struct http_request *r)
{
    struct store_application a = {0};
    struct err_detail d = {0};
    struct store *s = http__store_acquire(r->server);
    enum err e = s ? service_app_get(s, r->key.mode, r->param[0], &a, &d) : ERR_IO;
    http__store_release(r->server, s);
    if (e != ERR_OK) {
        http__respond_err(r, e, &d);
        return;
    }
    http__respond_json(r, MHD_HTTP_OK, render(&a));
    store_application_release(&a);
}

void svix__app_list(struct http_request *r)
{
    if (r->portal) { /* a portal token sees its own application only */
        struct store_application a = {0};
        struct err_detail d = {0};
        struct store *s = http__store_acquire(r->server);
        enum err e = s ? service_app_get(s, r->key.mode, r->portal_app, &a, &d) : ERR_IO;
        http__store_release(r->server, s);
        if (e != ERR_OK) {
            http__respond_err(r, e, &d);
            return;
        }
        json_t *data = json_array();
        json_array_append_new(data, render(&a));
        store_application_release(&a);
        svix__respond_list(r, data, NULL, false);
        return;
    }
    int limit;
    const char *iterator;
    if (!svix__page(r, &limit, &iterator))
        return;
    bool descending;
    if (!svix__order(r, &descending))
        return;
    struct store_application *apps = calloc((size_t)limit, sizeof(*apps));
    if (!apps)
        abort();
    int n = 0;
    bool has_more = false;
    struct err_detail d = {0};
    struct store *s = http__store_acquire(r->server);
    enum err e =
        s ? service_app_list(s, r->key.mode, iterator, descending, limit, apps, &n, &has_more, &d)
          : ERR_IO;
    http__store_release(r->server, s);
    if (e != ERR_OK) {
        free(apps);
        http__respond_err(r, e, &d);
        return;
    }
    json_t *data = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(data, render(&apps[i]));
    svix__respond_list(r, data, n ? apps[n - 1].id : NULL, has_more);
    for (int i = 0; i < n; i++)
        store_application_release(&apps[i]);
    free(apps);
}

/*
 * svix event types - /api/v1/event-type: EventTypeIn/EventTypeOut onto
 * service/event_types (groupName = category; featureFlags and 1.x's single
 * featureFlag). DELETE archives; ?expunge=true deletes.
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "service/event_types.h"
#include "surface/svix/internal.h"

static json_t *render(const struct store_event_type *t)
{
    json_t *flags = svix__json_or(t->feature_flags_json, json_null());
    json_t *first = json_is_array(flags) && json_array_size(flags)
                        ? json_incref(json_array_get(flags, 0))
                        : json_null();
    return json_pack("{s:s, s:s, s:b, s:b, s:o, s:s?, s:o, s:o, s:o, s:o}", "name", t->name,
                     "description", t->description ? t->description : "", "archived", t->archived,
                     "deprecated", t->deprecated, "schemas",
                     svix__json_or(t->schemas_json, json_null()), "groupName", t->category,
                     "featureFlags", flags, "featureFlag", first, "createdAt",
                     svix__time(t->created_at_ms), "updatedAt", svix__time(t->updated_at_ms));
}

struct et_op {
    struct service_event_type_op svc;
    json_t *flags; /* featureFlag (1.x) made a one-item featureFlags */
};

static void write_done(struct http_request *r)
{
    struct et_op *x = svix__op(r);
    struct commit_op *op = &x->svc.head.op;
    if (op->result != ERR_OK)
        http__respond_err(r, op->result, &op->detail);
    else if (x->svc.kind == EVENT_TYPE_ARCHIVE || x->svc.kind == EVENT_TYPE_EXPUNGE)
        http__respond_raw(r, MHD_HTTP_NO_CONTENT, "", 0, NULL, 0);
    else
        http__respond_json(r, x->svc.created ? MHD_HTTP_CREATED : MHD_HTTP_OK,
                           render(&x->svc.type));
    service_event_type_op_release(&x->svc);
    free(x);
}

static void submit(struct http_request *r, enum event_type_write kind)
{
    struct et_op *x = calloc(1, sizeof(*x));
    if (!x)
        abort();
    json_t *body = NULL;
    struct event_type_fields f = {0};
    bool has_fields = kind != EVENT_TYPE_ARCHIVE && kind != EVENT_TYPE_EXPUNGE;
    if (has_fields) {
        if (!(body = svix__body(r))) {
            free(x);
            return;
        }
        f.name = json_object_get(body, "name");
        f.description = json_object_get(body, "description");
        f.category = json_object_get(body, "groupName");
        f.schemas = json_object_get(body, "schemas");
        f.archived = json_object_get(body, "archived");
        f.deprecated = json_object_get(body, "deprecated");
        f.feature_flags = json_object_get(body, "featureFlags");
        json_t *one = json_object_get(body, "featureFlag");
        if (!f.feature_flags && one)
            f.feature_flags = x->flags = json_is_null(one) ? json_null() : json_pack("[O]", one);
        if (kind != EVENT_TYPE_CREATE)
            f.name = NULL;       /* the path names it; a body name cannot rename it */
        else if (!f.description) /* Svix requires it; hookd defaults it to "" */
            f.description = NULL;
    }
    struct err_detail d = {0};
    enum err e = service_event_type_op_init(&x->svc, kind, r->key.mode, r->param[0],
                                            has_fields ? &f : NULL, &d);
    json_decref(body);
    json_decref(x->flags);
    x->flags = NULL;
    if (e != ERR_OK) {
        free(x);
        http__respond_err(r, e, &d);
        return;
    }
    svix__defer(r, &x->svc.head, write_done);
}

void svix__event_type_create(struct http_request *r)
{
    submit(r, EVENT_TYPE_CREATE);
}
void svix__event_type_replace(struct http_request *r)
{
    submit(r, EVENT_TYPE_REPLACE);
}
void svix__event_type_patch(struct http_request *r)
{
    submit(r, EVENT_TYPE_PATCH);
}

void svix__event_type_delete(struct http_request *r)
{
    bool expunge;
    if (svix__query_bool(r, "expunge", false, &expunge))
        submit(r, expunge ? EVENT_TYPE_EXPUNGE : EVENT_TYPE_ARCHIVE);
}

void svix__event_type_get(struct http_request *r)
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
    http__respond_json(r, MHD_HTTP_OK, render(&t));
    store_event_type_release(&t);
}

void svix__event_type_list(struct http_request *r)
{
    int limit;
    const char *iterator;
    bool include_archived;
    if (!svix__page(r, &limit, &iterator) ||
        !svix__query_bool(r, "include_archived", false, &include_archived))
        return;
    struct store_event_type *types = calloc((size_t)limit, sizeof(*types));
    if (!types)
        abort();
    int n = 0;
    bool has_more = false;
    struct err_detail d = {0};
    struct store *s = http__store_acquire(r->server);
    enum err e = s ? service_event_type_list(s, r->key.mode, iterator, include_archived, limit,
                                             types, &n, &has_more, &d)
                   : ERR_IO;
    http__store_release(r->server, s);
    if (e != ERR_OK) {
        free(types);
        http__respond_err(r, e, &d);
        return;
    }
    json_t *data = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(data, render(&types[i]));
    svix__respond_list(r, data, n ? types[n - 1].id : NULL, has_more);
    for (int i = 0; i < n; i++)
        store_event_type_release(&types[i]);
    free(types);
}

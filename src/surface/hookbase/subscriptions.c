/*
 * hookbase subscriptions - /api/webhook-subscriptions (and the portal's
 * /portal/subscriptions): Subscription {id, endpointId, eventTypeId,
 * eventTypeName, isEnabled, createdAt} onto service/subscriptions, which
 * keeps them as the endpoint's event-type entries (the rows Svix's
 * eventTypes shows). Entries that are wildcards or name no existing type are
 * not listed. createdAt is the later of the endpoint's and the type's
 * creation (the row's own time is not kept apart).
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "service/endpoints.h"
#include "service/event_types.h"
#include "service/subscriptions.h"
#include "surface/hookbase/internal.h"

static const char *scope_app(const struct http_request *r)
{
    return r->portal ? r->portal_app : NULL;
}

static json_t *item(const struct store_endpoint *e, const struct store_event_type *t, bool enabled)
{
    char id[SUBSCRIPTION_ID_MAX];
    service_subscription_id(id, e->id, t->id);
    int64_t at = e->created_at_ms > t->created_at_ms ? e->created_at_ms : t->created_at_ms;
    return json_pack("{s:s, s:s, s:s, s:s, s:b, s:o}", "id", id, "endpointId", e->id, "eventTypeId",
                     t->id, "eventTypeName", t->name, "isEnabled", enabled, "createdAt",
                     hookbase__time(at));
}

/* ---- writes ---- */

enum sub_answer { ONE, ONE_PATCH, REMOVED, BULK };

struct sub_op {
    struct service_subscription_op svc;
    enum sub_answer answer;
};

static void write_done(struct http_request *r)
{
    struct sub_op *x = r->op;
    struct service_subscription_op *s = &x->svc;
    struct commit_op *op = &s->head.op;
    if (op->result != ERR_OK) {
        http__respond_err(r, op->result, &op->detail);
    } else if (x->answer == REMOVED) {
        if (s->changed[0])
            hookbase__respond_no_content(r);
        else
            http__respond_error(r, MHD_HTTP_NOT_FOUND, "NOT_FOUND", "no such subscription");
    } else if (x->answer == ONE && !s->changed[0]) {
        http__respond_error(r, MHD_HTTP_CONFLICT, "CONFLICT",
                            "endpoint '%s' is subscribed to '%s' already", s->ep.id,
                            s->found[0].name);
    } else if (x->answer == ONE || x->answer == ONE_PATCH) {
        hookbase__respond_data(r, x->answer == ONE ? MHD_HTTP_CREATED : MHD_HTTP_OK,
                               item(&s->ep, &s->found[0], !s->remove));
    } else {
        int created = 0;
        json_t *subs = json_array();
        for (int i = 0; i < s->n; i++) {
            created += s->changed[i];
            json_array_append_new(subs, item(&s->ep, &s->found[i], true));
        }
        http__respond_json(r, MHD_HTTP_OK,
                           json_pack("{s:i, s:i, s:o}", "created", created, "skipped",
                                     s->n - created, "subscriptions", subs));
    }
    service_subscription_op_release(s);
    free(x);
}

/* The endpoint id (within r's scope) of the request's endpointId; false after answering. */
static bool endpoint_of(struct http_request *r, const json_t *v, char out[ID_MAX])
{
    if (!json_is_string(v) || !json_string_length(v)) {
        snprintf(r->error_field, sizeof(r->error_field), "endpoint_id");
        http__respond_error(r, MHD_HTTP_BAD_REQUEST, "INVALID_REQUEST", "'endpointId' is required");
        return false;
    }
    struct store_endpoint ep = {0};
    struct err_detail d = {0};
    struct store *s = http__store_acquire(r->server);
    enum err e =
        s ? service_endpoint_get(s, r->key.mode, scope_app(r), json_string_value(v), &ep, &d)
          : ERR_IO;
    http__store_release(r->server, s);
    if (e == ERR_OK)
        snprintf(out, ID_MAX, "%s", ep.id);
    store_endpoint_release(&ep);
    if (e != ERR_OK)
        http__respond_err(r, e, &d);
    return e == ERR_OK;
}

static void submit(struct http_request *r, bool remove, enum sub_answer answer, const char *ep,
                   const char *const *types, int n)
{
    struct sub_op *x = calloc(1, sizeof(*x));
    if (!x)
        abort();
    x->answer = answer;
    service_subscription_op_init(&x->svc, remove, r->key.mode, scope_app(r), ep, types, n);
    hookbase__defer(r, &x->svc.head, write_done);
}

static bool type_arg(struct http_request *r, const json_t *v, const char *wire)
{
    if (json_is_string(v) && json_string_length(v) && json_string_length(v) < ID_MAX)
        return true;
    snprintf(r->error_field, sizeof(r->error_field), "event_type_id");
    http__respond_error(r, MHD_HTTP_BAD_REQUEST, "INVALID_REQUEST", "'%s' must be an event type id",
                        wire);
    return false;
}

void hookbase__subscription_create(struct http_request *r)
{
    json_t *body = hookbase__body(r);
    if (!body)
        return;
    char ep[ID_MAX];
    json_t *t = json_object_get(body, "eventTypeId");
    if (type_arg(r, t, "eventTypeId") && endpoint_of(r, json_object_get(body, "endpointId"), ep)) {
        const char *types[1] = {json_string_value(t)};
        submit(r, false, ONE, ep, types, 1);
    }
    json_decref(body);
}

void hookbase__subscription_bulk(struct http_request *r)
{
    json_t *body = hookbase__body(r);
    if (!body)
        return;
    json_t *ids = json_object_get(body, "eventTypeIds");
    size_t n = json_array_size(ids);
    bool ok = json_is_array(ids) && n >= 1 && n <= SUBSCRIPTION_BULK_MAX;
    for (size_t i = 0; ok && i < n; i++) {
        const json_t *v = json_array_get(ids, i);
        ok = json_is_string(v) && json_string_length(v) && json_string_length(v) < ID_MAX;
    }
    char ep[ID_MAX];
    if (!ok) {
        snprintf(r->error_field, sizeof(r->error_field), "event_type_ids");
        http__respond_error(r, MHD_HTTP_BAD_REQUEST, "INVALID_REQUEST",
                            "'eventTypeIds' must be an array of 1 to %d event type ids",
                            SUBSCRIPTION_BULK_MAX);
    } else if (endpoint_of(r, json_object_get(body, "endpointId"), ep)) {
        const char *types[SUBSCRIPTION_BULK_MAX];
        for (size_t i = 0; i < n; i++)
            types[i] = json_string_value(json_array_get(ids, i));
        submit(r, false, BULK, ep, types, (int)n);
    }
    json_decref(body);
}

/* The endpoint and type of subscription id param 0; false after answering 404. */
static bool parse(struct http_request *r, char ep[ID_MAX], char et[ID_MAX])
{
    if (service_subscription_parse(r->param[0], ep, et))
        return true;
    http__respond_error(r, MHD_HTTP_NOT_FOUND, "NOT_FOUND", "no subscription '%s'", r->param[0]);
    return false;
}

void hookbase__subscription_delete(struct http_request *r)
{
    char ep[ID_MAX], et[ID_MAX];
    if (!parse(r, ep, et))
        return;
    const char *types[1] = {et};
    submit(r, true, REMOVED, ep, types, 1);
}

/* PATCH {isEnabled}: true subscribes, false unsubscribes (a disabled subscription
 * is not kept: it no longer shows in lists). */
void hookbase__subscription_patch(struct http_request *r)
{
    char ep[ID_MAX], et[ID_MAX];
    if (!parse(r, ep, et))
        return;
    json_t *body = hookbase__body(r);
    if (!body)
        return;
    json_t *en = json_object_get(body, "isEnabled");
    bool enable = !en || json_is_true(en);
    if (en && !json_is_boolean(en)) {
        json_decref(body);
        snprintf(r->error_field, sizeof(r->error_field), "is_enabled");
        http__respond_error(r, MHD_HTTP_BAD_REQUEST, "INVALID_REQUEST",
                            "'isEnabled' must be a boolean");
        return;
    }
    json_decref(body);
    const char *types[1] = {et};
    submit(r, !enable, ONE_PATCH, ep, types, 1);
}

/* ---- reads ---- */

void hookbase__subscription_get(struct http_request *r)
{
    char ep_id[ID_MAX], et_id[ID_MAX];
    if (!parse(r, ep_id, et_id))
        return;
    struct store_endpoint ep = {0};
    struct store_event_type t = {0};
    struct err_detail d = {0};
    struct store *s = http__store_acquire(r->server);
    enum err e = s ? service_endpoint_get(s, r->key.mode, scope_app(r), ep_id, &ep, &d) : ERR_IO;
    if (e == ERR_OK)
        e = service_event_type_get(s, r->key.mode, et_id, &t, &d);
    http__store_release(r->server, s);
    if (e == ERR_OK && !service_subscription_has(&ep, t.name))
        e = err_set(&d, ERR_NOTFOUND, "NOT_FOUND", "no subscription '%s'", r->param[0]);
    if (e != ERR_OK)
        http__respond_err(r, e, &d);
    else
        hookbase__respond_data(r, MHD_HTTP_OK, item(&ep, &t, true));
    store_endpoint_release(&ep);
    store_event_type_release(&t);
}

/* Every event type of the mode, by name. */
static enum err types_by_name(struct http_request *r, struct store *s,
                              struct store_event_type **out, int *count, struct err_detail *d)
{
    int cap = SERVICE_PAGE_MAX, n = 0;
    struct store_event_type *all = calloc((size_t)cap, sizeof(*all));
    if (!all)
        abort();
    bool more = true;
    enum err e = ERR_OK;
    while (e == ERR_OK && more && n < HOOKBASE_SCAN_MAX) {
        if (n + SERVICE_PAGE_MAX > cap) {
            cap *= 2;
            all = realloc(all, (size_t)cap * sizeof(*all));
            if (!all)
                abort();
        }
        int got = 0;
        e = service_event_type_list(s, r->key.mode, n ? all[n - 1].id : NULL, true,
                                    SERVICE_PAGE_MAX, all + n, &got, &more, d);
        n += got;
        if (!got)
            more = false;
    }
    *out = all;
    *count = n;
    return e;
}

void hookbase__subscription_list(struct http_request *r)
{
    struct hookbase_page p;
    bool has_en, en;
    if (!hookbase__page(r, &p) || !hookbase__query_bool(r, "isEnabled", &has_en, &en))
        return;
    const char *app = scope_app(r), *q;
    if (!app && (q = http__query(r, "applicationId")) && *q)
        app = q;
    const char *only_ep = http__query(r, "endpointId");
    const char *only_et = http__query(r, "eventTypeId");
    if (only_ep && !*only_ep)
        only_ep = NULL;
    if (only_et && !*only_et)
        only_et = NULL;
    json_t *all = json_array();
    struct err_detail d = {0};
    struct store_event_type *types = NULL;
    int ntypes = 0;
    struct store_endpoint *eps = calloc(SERVICE_PAGE_MAX, sizeof(*eps));
    if (!eps)
        abort();
    struct store *s = http__store_acquire(r->server);
    enum err e = s ? types_by_name(r, s, &types, &ntypes, &d) : ERR_IO;
    char after[ID_MAX] = "";
    bool more = true;
    while (e == ERR_OK && more && json_array_size(all) < HOOKBASE_SCAN_MAX && !(has_en && !en)) {
        int n = 0;
        if (only_ep) { /* one endpoint */
            e = service_endpoint_get(s, r->key.mode, app, only_ep, &eps[0], &d);
            n = e == ERR_OK;
            more = false;
        } else {
            e = service_endpoint_list(s, r->key.mode, app, after[0] ? after : NULL, false,
                                      SERVICE_PAGE_MAX, eps, &n, &more, &d);
        }
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < ntypes; k++) {
                if (only_et && strcmp(only_et, types[k].id) && strcmp(only_et, types[k].name))
                    continue;
                if (service_subscription_has(&eps[i], types[k].name))
                    json_array_append_new(all, item(&eps[i], &types[k], true));
            }
            if (i == n - 1)
                snprintf(after, sizeof(after), "%s", eps[i].id);
            store_endpoint_release(&eps[i]);
        }
        if (!n)
            more = false;
    }
    http__store_release(r->server, s);
    for (int k = 0; k < ntypes; k++)
        store_event_type_release(&types[k]);
    free(types);
    free(eps);
    if (e != ERR_OK) {
        json_decref(all);
        http__respond_err(r, e, &d);
        return;
    }
    if (r->portal) /* the portal's list is not paged */
        hookbase__respond_data(r, MHD_HTTP_OK, all);
    else
        hookbase__respond_page(r, all, &p, NULL);
}

/*
 * svix endpoints - /api/v1/app/{app}/endpoint: EndpointIn/EndpointOut onto
 * service/endpoints (1.x names filterTypes and rateLimit beside 2.x's
 * eventTypes and throttleRate; hookd's `filter` extension), the secret, and
 * the custom headers.
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "service/endpoints.h"
#include "service/recover.h"
#include "surface/svix/internal.h"
#include "util/clock.h"

static json_t *render(const struct store_endpoint *e)
{
    json_t *types = svix__json_or(e->all_event_types ? NULL : e->event_types_json, json_null());
    json_t *rate = e->rate_limit_rps ? json_integer(e->rate_limit_rps) : json_null();
    return json_pack("{s:s, s:s?, s:s, s:s, s:b, s:O, s:o, s:o, s:O, s:o, s:i, s:o, s:o, s:o, "
                     "s:o}",
                     "id", e->id, "uid", e->uid, "url", e->url ? e->url : "", "description",
                     e->description ? e->description : "", "disabled", e->disabled, "eventTypes",
                     types, "filterTypes", types, "channels",
                     svix__json_or(e->channels_json, json_null()), "throttleRate", rate,
                     "rateLimit", rate, "version", 1, "metadata",
                     svix__json_or(e->metadata_json, json_object()), "filter",
                     svix__json_or(e->filter_json, json_null()), "createdAt",
                     svix__time(e->created_at_ms), "updatedAt", svix__time(e->updated_at_ms));
}

static void read_fields(json_t *body, struct endpoint_fields *f)
{
    memset(f, 0, sizeof(*f));
    f->url = json_object_get(body, "url");
    f->description = json_object_get(body, "description");
    f->uid = json_object_get(body, "uid");
    f->disabled = json_object_get(body, "disabled");
    if (!(f->event_types = json_object_get(body, "eventTypes")))
        f->event_types = json_object_get(body, "filterTypes");
    f->channels = json_object_get(body, "channels");
    f->filter = json_object_get(body, "filter");
    if (!(f->rate_limit_rps = json_object_get(body, "throttleRate")))
        f->rate_limit_rps = json_object_get(body, "rateLimit");
    f->metadata = json_object_get(body, "metadata");
    f->headers = json_object_get(body, "headers");
    f->secret = json_object_get(body, "secret");
}

struct ep_op {
    struct service_endpoint_op svc;
};

static void write_done(struct http_request *r)
{
    struct ep_op *x = svix__op(r);
    struct commit_op *op = &x->svc.head.op;
    if (op->result != ERR_OK)
        http__respond_err(r, op->result, &op->detail);
    else if (x->svc.kind == ENDPOINT_DELETE)
        http__respond_raw(r, MHD_HTTP_NO_CONTENT, "", 0, NULL, 0);
    else
        http__respond_json(r, x->svc.created ? MHD_HTTP_CREATED : MHD_HTTP_OK, render(&x->svc.ep));
    service_endpoint_op_release(&x->svc);
    free(x);
}

static void submit(struct http_request *r, enum endpoint_write kind)
{
    json_t *body = NULL;
    struct endpoint_fields f = {0};
    if (kind != ENDPOINT_DELETE) {
        if (!(body = svix__body(r)))
            return;
        read_fields(body, &f);
        if (kind == ENDPOINT_PATCH && f.secret && !json_is_null(f.secret))
            f.secret = NULL; /* 1.x may send the current secret back on PATCH: ignored */
    }
    struct ep_op *x = calloc(1, sizeof(*x));
    if (!x)
        abort();
    struct err_detail d = {0};
    enum err e = service_endpoint_op_init(&x->svc, kind, r->key.mode, r->param[0], r->param[1], &f,
                                          r->server->deps.cfg, &d);
    json_decref(body);
    if (e != ERR_OK) {
        free(x);
        http__respond_err(r, e, &d);
        return;
    }
    svix__defer(r, &x->svc.head, write_done);
}

void svix__endpoint_create(struct http_request *r)
{
    submit(r, ENDPOINT_CREATE);
}
void svix__endpoint_replace(struct http_request *r)
{
    submit(r, ENDPOINT_REPLACE);
}
void svix__endpoint_patch(struct http_request *r)
{
    submit(r, ENDPOINT_PATCH);
}
void svix__endpoint_delete(struct http_request *r)
{
    submit(r, ENDPOINT_DELETE);
}

void svix__endpoint_get(struct http_request *r)
{
    struct store_endpoint ep = {0};
    struct err_detail d = {0};
    struct store *s = http__store_acquire(r->server);
    enum err e =
        s ? service_endpoint_get(s, r->key.mode, r->param[0], r->param[1], &ep, &d) : ERR_IO;
    http__store_release(r->server, s);
    if (e != ERR_OK) {
        http__respond_err(r, e, &d);
        return;
    }
    http__respond_json(r, MHD_HTTP_OK, render(&ep));
    store_endpoint_release(&ep);
}

void svix__endpoint_list(struct http_request *r)
{
    int limit;
    const char *iterator;
    bool descending;
    if (!svix__page(r, &limit, &iterator) || !svix__order(r, &descending))
        return;
    struct store_endpoint *eps = calloc((size_t)limit, sizeof(*eps));
    if (!eps)
        abort();
    int n = 0;
    bool has_more = false;
    struct err_detail d = {0};
    struct store *s = http__store_acquire(r->server);
    enum err e = s ? service_endpoint_list(s, r->key.mode, r->param[0], iterator, descending, limit,
                                           eps, &n, &has_more, &d)
                   : ERR_IO;
    http__store_release(r->server, s);
    if (e != ERR_OK) {
        free(eps);
        http__respond_err(r, e, &d);
        return;
    }
    json_t *data = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(data, render(&eps[i]));
    svix__respond_list(r, data, n ? eps[n - 1].id : NULL, has_more);
    for (int i = 0; i < n; i++)
        store_endpoint_release(&eps[i]);
    free(eps);
}

void svix__endpoint_secret(struct http_request *r)
{
    char secret[ID_MAX] = "";
    struct err_detail d = {0};
    struct store *s = http__store_acquire(r->server);
    enum err e =
        s ? service_endpoint_secret(s, r->key.mode, r->param[0], r->param[1], secret, &d) : ERR_IO;
    http__store_release(r->server, s);
    if (e != ERR_OK) {
        http__respond_err(r, e, &d);
        return;
    }
    http__respond_json(r, MHD_HTTP_OK, json_pack("{s:s}", "key", secret));
    explicit_bzero(secret, sizeof(secret));
}

struct recover_op {
    struct service_recover_op svc;
};

static void recover_done(struct http_request *r)
{
    struct recover_op *x = svix__op(r);
    struct commit_op *op = &x->svc.head.op;
    if (op->result != ERR_OK) {
        http__respond_err(r, op->result, &op->detail);
    } else {
        char id[ID_MAX];
        id_time_ordered(id, sizeof(id), "qtask_", clock_now_ms());
        http__respond_json(r, MHD_HTTP_ACCEPTED,
                           json_pack("{s:s, s:s, s:s, s:o, s:i}", "id", id, "status", "finished",
                                     "task", "endpoint.recover", "updatedAt",
                                     svix__time(clock_now_ms()), "recovered", x->svc.recovered));
    }
    service_recover_op_release(&x->svc);
    free(x);
}

/* A body time (RFC 3339 string) into *ms (0 when absent); false after answering. */
static bool body_time(struct http_request *r, json_t *body, const char *name, int64_t *ms)
{
    json_t *v = json_object_get(body, name);
    *ms = 0;
    if (!v || json_is_null(v))
        return true;
    if (json_is_string(v) && clock_parse_rfc3339(json_string_value(v), ms))
        return true;
    snprintf(r->error_field, sizeof(r->error_field), "%s", name);
    http__respond_error(r, MHD_HTTP_BAD_REQUEST, "INVALID_REQUEST", "'%s' must be an RFC 3339 time",
                        name);
    return false;
}

void svix__endpoint_recover(struct http_request *r)
{
    json_t *body = svix__body(r);
    if (!body)
        return;
    int64_t since = 0, until = 0;
    bool ok = body_time(r, body, "since", &since) && body_time(r, body, "until", &until);
    json_decref(body);
    if (!ok)
        return;
    struct recover_op *x = calloc(1, sizeof(*x));
    if (!x)
        abort();
    struct err_detail d = {0};
    enum err e =
        service_recover_op_init(&x->svc, r->key.mode, r->param[0], r->param[1], since, until, &d);
    if (e != ERR_OK) {
        free(x);
        http__respond_err(r, e, &d);
        return;
    }
    svix__defer(r, &x->svc.head, recover_done);
}

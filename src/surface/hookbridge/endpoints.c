/*
 * endpoints - /v1/endpoints: create, list, get, update (PATCH or PUT, both
 * patch), soft delete (API.md §3.6), as service/endpoints.h ops and reads: an
 * endpoint is addressed by id in any application of the key's mode, and one
 * made here belongs to the mode's default application.
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "service/endpoints.h"
#include "surface/hookbridge/internal.h"

#define ENDPOINT_LIST_DEFAULT 50
#define ENDPOINT_LIST_MAX 100

/* The endpoint fields of a /v1 body. rate_limit_rps and burst of 0 mean none
 * (null); everything else is the service's to check. */
static enum err read_fields(json_t *body, struct endpoint_fields *f, json_t **policy,
                            struct err_detail *d)
{
    memset(f, 0, sizeof(*f));
    if (!json_is_object(body))
        return err_set(d, ERR_INVAL, "INVALID_REQUEST", "request body must be a JSON object");
    f->url = json_object_get(body, "url");
    f->description = json_object_get(body, "description");
    f->hmac_enabled = json_object_get(body, "hmac_enabled");
    f->headers = json_object_get(body, "headers");
    f->rate_limit_rps = json_object_get(body, "rate_limit_rps");
    f->burst = json_object_get(body, "burst");
    if (json_is_integer(f->rate_limit_rps) && json_integer_value(f->rate_limit_rps) == 0)
        f->rate_limit_rps = json_null();
    if (json_is_integer(f->burst) && json_integer_value(f->burst) == 0)
        f->burst = json_null();
    f->disabled = json_object_get(body, "disabled");
    json_t *status = json_object_get(body, "status"); /* POLICIES §5: "active" | "disabled" */
    if (status) {
        const char *st = json_string_value(status);
        if (!st || (strcmp(st, "active") && strcmp(st, "disabled")))
            return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", "status",
                                 "'status' must be \"active\" or \"disabled\"");
        if (!f->disabled)
            f->disabled = !strcmp(st, "disabled") ? json_true() : json_false();
    }
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        if (!endpoint_policy_is_member(key))
            continue;
        if (!*policy)
            *policy = json_object();
        json_object_set(*policy, key, v);
    }
    f->policy = *policy;
    return ERR_OK;
}

static json_t *render_endpoint(const struct store_endpoint *e)
{
    json_t *headers = e->headers_json ? json_loads(e->headers_json, 0, NULL) : NULL;
    json_t *o = json_pack(
        "{s:s, s:s, s:s?, s:b, s:o, s:o, s:o, s:b, s:s, s:o, s:o}", "id", e->id, "url", e->url,
        "description", e->description, "hmac_enabled", e->hmac_enabled, "rate_limit_rps",
        e->rate_limit_rps ? json_integer(e->rate_limit_rps) : json_null(), "burst",
        e->burst ? json_integer(e->burst) : json_null(), "headers", headers ? headers : json_null(),
        "paused", e->paused, "status", service_endpoint_status(e), "created_at",
        http__time(e->created_at_ms), "updated_at", http__time(e->updated_at_ms));
    if (o)
        endpoint_policy_render(e, o);
    return o;
}

/* ---- writes: create, update (PATCH and PUT both patch), delete ---- */

struct write_op {
    struct service_endpoint_op svc;
    char id[ID_MAX]; /* the path's id (delete answers it) */
};

static void write_resume(struct http_request *r)
{
    struct write_op *x = r->op;
    struct commit_op *op = &x->svc.head.op;
    if (op->result != ERR_OK) {
        http__respond_err(r, op->result, &op->detail);
    } else if (x->svc.kind == ENDPOINT_DELETE) {
        http__respond_data(r, MHD_HTTP_OK, json_pack("{s:s, s:b}", "id", x->id, "deleted", true),
                           NULL);
    } else if (x->svc.kind == ENDPOINT_CREATE) {
        json_t *data = render_endpoint(&x->svc.ep);
        const char *sec = x->svc.secret;
        json_object_set_new(data, "signing_key_id", json_string(x->svc.key_id));
        json_object_set_new(data, "signing_secret", json_string(sec));
        json_object_set_new(data, "key_hint", json_string(sec + strlen(sec) - 4));
        http__respond_data(r, MHD_HTTP_CREATED, data, NULL);
    } else {
        json_t *data = render_endpoint(&x->svc.ep);
        json_object_set_new(data, "updated", json_true());
        http__respond_data(r, MHD_HTTP_OK, data, NULL);
    }
    service_endpoint_op_release(&x->svc);
    free(x);
}

static void submit(struct http_request *r, enum endpoint_write kind)
{
    struct err_detail d = {0};
    json_t *body = NULL, *policy = NULL;
    struct endpoint_fields f = {0};
    enum err e = ERR_OK;
    if (kind != ENDPOINT_DELETE)
        e = (body = http__parse_body(r, false, &d)) ? read_fields(body, &f, &policy, &d)
                                                    : ERR_INVAL;
    struct write_op *x = calloc(1, sizeof(*x));
    if (!x)
        abort();
    const char *id = kind == ENDPOINT_CREATE ? NULL : r->param[0];
    if (e == ERR_OK)
        e = service_endpoint_op_init(&x->svc, kind, r->key.mode, NULL, id, &f, r->server->deps.cfg,
                                     &d);
    json_decref(body);
    json_decref(policy);
    if (e != ERR_OK) {
        free(x);
        http__respond_err(r, e, &d);
        return;
    }
    snprintf(x->id, sizeof(x->id), "%s", id ? id : "");
    http__defer(r, &x->svc.head, write_resume);
}

void hookbridge__endpoints_create(struct http_request *r)
{
    submit(r, ENDPOINT_CREATE);
}

void hookbridge__endpoints_update(struct http_request *r)
{
    submit(r, ENDPOINT_PATCH);
}

void hookbridge__endpoints_delete(struct http_request *r)
{
    submit(r, ENDPOINT_DELETE);
}

/* ---- list and get ---- */

void hookbridge__endpoints_list(struct http_request *r)
{
    int limit;
    if (!http__parse_limit(r, ENDPOINT_LIST_DEFAULT, ENDPOINT_LIST_MAX, &limit))
        return;
    const char *cursor = http__query(r, "cursor");
    struct store_endpoint eps[ENDPOINT_LIST_MAX];
    int n = 0;
    bool has_more = false;
    struct err_detail d = {0};
    struct store *s = http__store_acquire(r->server);
    enum err e = s ? service_endpoint_list(s, r->key.mode, NULL, cursor, false, limit, eps, &n,
                                           &has_more, &d)
                   : ERR_IO;
    http__store_release(r->server, s);
    if (e != ERR_OK) {
        http__respond_err(r, e, &d);
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) {
        json_array_append_new(arr, render_endpoint(&eps[i]));
        store_endpoint_release(&eps[i]);
    }
    json_t *meta = http__page_meta(has_more, n ? eps[n - 1].id : NULL);
    http__respond_data(r, MHD_HTTP_OK, arr, meta);
}

void hookbridge__endpoints_get(struct http_request *r)
{
    const char *id = r->param[0];
    struct store_endpoint ep = {0};
    struct err_detail d = {0};
    struct store *s = http__store_acquire(r->server);
    enum err e = s ? service_endpoint_get(s, r->key.mode, NULL, id, &ep, &d) : ERR_IO;
    http__store_release(r->server, s);
    if (e != ERR_OK) {
        http__respond_err(r, e, &d);
        return;
    }
    http__respond_data(r, MHD_HTTP_OK, render_endpoint(&ep), NULL);
    store_endpoint_release(&ep);
}

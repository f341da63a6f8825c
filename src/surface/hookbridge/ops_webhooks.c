/*
 * ops_webhooks - /v1/ops-webhooks (POLICIES.md §6): register, list and delete
 * the operational webhooks of the key's mode, as service/ops_events.h ops and
 * reads. An operational webhook is an endpoint of the mode's built-in
 * operational application, so it is also visible (and can be patched, paused
 * or have its secret rotated) under /v1/endpoints/{id}.
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "service/endpoints.h"
#include "service/ops_events.h"
#include "surface/hookbridge/internal.h"

#define OPS_LIST_DEFAULT 50
#define OPS_LIST_MAX 100

static json_t *render(const struct store_endpoint *e)
{
    return json_pack("{s:s, s:s, s:s, s:o}", "id", e->id, "url", e->url, "status",
                     service_endpoint_status(e), "created_at", http__time(e->created_at_ms));
}

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
    } else {
        json_t *data = render(&x->svc.ep);
        json_object_set_new(data, "signing_secret", json_string(x->svc.secret));
        http__respond_data(r, MHD_HTTP_CREATED, data, NULL);
    }
    service_endpoint_op_release(&x->svc);
    free(x);
}

void hookbridge__ops_webhooks_create(struct http_request *r)
{
    struct err_detail d = {0};
    json_t *body = http__parse_body(r, false, &d);
    enum err e = body ? ERR_OK : ERR_INVAL;
    if (body && !json_is_object(body))
        e = err_set(&d, ERR_INVAL, "INVALID_REQUEST", "request body must be a JSON object");
    struct write_op *x = calloc(1, sizeof(*x));
    if (!x)
        abort();
    if (e == ERR_OK)
        e = ops_events_create_init(&x->svc, r->key.mode, json_object_get(body, "url"),
                                   r->server->deps.cfg, &d);
    json_decref(body);
    if (e != ERR_OK) {
        free(x);
        http__respond_err(r, e, &d);
        return;
    }
    http__defer(r, &x->svc.head, write_resume);
}

void hookbridge__ops_webhooks_delete(struct http_request *r)
{
    struct err_detail d = {0};
    struct write_op *x = calloc(1, sizeof(*x));
    if (!x)
        abort();
    enum err e = ops_events_delete_init(&x->svc, r->key.mode, r->param[0], r->server->deps.cfg, &d);
    if (e != ERR_OK) {
        free(x);
        http__respond_err(r, e, &d);
        return;
    }
    snprintf(x->id, sizeof(x->id), "%s", r->param[0]);
    http__defer(r, &x->svc.head, write_resume);
}

void hookbridge__ops_webhooks_list(struct http_request *r)
{
    int limit;
    if (!http__parse_limit(r, OPS_LIST_DEFAULT, OPS_LIST_MAX, &limit))
        return;
    const char *cursor = http__query(r, "cursor");
    struct store_endpoint eps[OPS_LIST_MAX];
    int n = 0;
    bool has_more = false;
    struct err_detail d = {0};
    struct store *s = http__store_acquire(r->server);
    enum err e =
        s ? ops_events_list(s, r->key.mode, cursor, limit, eps, &n, &has_more, &d) : ERR_IO;
    http__store_release(r->server, s);
    if (e != ERR_OK) {
        http__respond_err(r, e, &d);
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) {
        json_array_append_new(arr, render(&eps[i]));
        store_endpoint_release(&eps[i]);
    }
    json_t *meta = http__page_meta(has_more, n ? eps[n - 1].id : NULL);
    http__respond_data(r, MHD_HTTP_OK, arr, meta);
}

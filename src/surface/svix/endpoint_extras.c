/*
 * svix endpoint extras - /api/v1/app/{app}/endpoint/{ep}/secret/rotate,
 * /headers and /stats onto service/endpoint_extras: the wire names
 * (gracePeriodSeconds, deleteHeaders), 204 for the writes (the SDKs ignore
 * their bodies), {headers, sensitive} and EndpointStats.
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "service/endpoint_extras.h"
#include "surface/svix/internal.h"
#include "util/clock.h"

static void write_done(struct http_request *r)
{
    struct service_endpoint_extra_op *x = svix__op(r);
    struct commit_op *op = &x->head.op;
    if (op->result != ERR_OK)
        http__respond_err(r, op->result, &op->detail);
    else
        http__respond_raw(r, MHD_HTTP_NO_CONTENT, "", 0, NULL, 0);
    service_endpoint_extra_op_release(x);
    free(x);
}

/* Submit x once its init returned e (x is freed on failure). */
static void submit(struct http_request *r, struct service_endpoint_extra_op *x, enum err e,
                   const struct err_detail *d)
{
    if (e != ERR_OK) {
        service_endpoint_extra_op_release(x);
        free(x);
        http__respond_err(r, e, d);
        return;
    }
    svix__defer(r, &x->head, write_done);
}

static struct service_endpoint_extra_op *op_new(void)
{
    struct service_endpoint_extra_op *x = calloc(1, sizeof(*x));
    if (!x)
        abort();
    return x;
}

void svix__endpoint_secret_rotate(struct http_request *r)
{
    json_t *body = svix__body(r);
    if (!body)
        return;
    struct service_endpoint_extra_op *x = op_new();
    struct err_detail d = {0};
    enum err e = service_endpoint_rotate_init(x, r->key.mode, r->param[0], r->param[1],
                                              json_object_get(body, "key"),
                                              json_object_get(body, "gracePeriodSeconds"), &d);
    json_decref(body);
    submit(r, x, e, &d);
}

static void headers_write(struct http_request *r, bool merge)
{
    json_t *body = svix__body(r);
    if (!body)
        return;
    struct service_endpoint_extra_op *x = op_new();
    struct err_detail d = {0};
    enum err e = service_endpoint_headers_init(
        x, merge, r->key.mode, r->param[0], r->param[1], json_object_get(body, "headers"),
        merge ? json_object_get(body, "deleteHeaders") : NULL, &d);
    json_decref(body);
    submit(r, x, e, &d);
}

void svix__endpoint_headers_set(struct http_request *r)
{
    headers_write(r, false);
}

void svix__endpoint_headers_patch(struct http_request *r)
{
    headers_write(r, true);
}

void svix__endpoint_headers_get(struct http_request *r)
{
    json_t *headers = NULL;
    struct err_detail d = {0};
    struct store *s = http__store_acquire(r->server);
    enum err e =
        s ? service_endpoint_headers(s, r->key.mode, r->param[0], r->param[1], &headers, &d)
          : ERR_IO;
    http__store_release(r->server, s);
    if (e != ERR_OK) {
        http__respond_err(r, e, &d);
        return;
    }
    http__respond_json(r, MHD_HTTP_OK, json_pack("{s:o, s:[]}", "headers", headers, "sensitive"));
}

/* A 422 naming a query parameter (Svix's shape, loc "query"). */
static void query_invalid(struct http_request *r, const char *name, const char *msg)
{
    json_t *item =
        json_pack("{s:[s,s], s:s, s:s}", "loc", "query", name, "msg", msg, "type", "value_error");
    http__respond_json(r, 422, json_pack("{s:[o]}", "detail", item));
}

/* An optional RFC 3339 query time into *out (0 when absent); false after answering. */
static bool query_time(struct http_request *r, const char *name, int64_t *out)
{
    const char *v = http__query(r, name);
    *out = 0;
    if (!v)
        return true;
    if (clock_parse_rfc3339(v, out))
        return true;
    char msg[64];
    snprintf(msg, sizeof(msg), "'%s' must be an RFC 3339 date-time", name);
    query_invalid(r, name, msg);
    return false;
}

void svix__endpoint_stats(struct http_request *r)
{
    int64_t since, until;
    if (!query_time(r, "since", &since) || !query_time(r, "until", &until))
        return;
    struct store_endpoint_stats st;
    struct err_detail d = {0};
    struct store *s = http__store_acquire(r->server);
    enum err e =
        s ? service_endpoint_stats(s, r->key.mode, r->param[0], r->param[1], since, until, &st, &d)
          : ERR_IO;
    http__store_release(r->server, s);
    if (e == ERR_INVAL && (!strcmp(d.field, "since") || !strcmp(d.field, "until"))) {
        query_invalid(r, d.field, d.msg);
        return;
    }
    if (e != ERR_OK) {
        http__respond_err(r, e, &d);
        return;
    }
    /* canceled: hookd's cancelled messages end failed (they count in fail) */
    http__respond_json(r, MHD_HTTP_OK,
                       json_pack("{s:I, s:I, s:I, s:I, s:i}", "success", (json_int_t)st.succeeded,
                                 "pending", (json_int_t)st.waiting, "sending",
                                 (json_int_t)st.delivering, "fail", (json_int_t)st.failed,
                                 "canceled", 0));
}

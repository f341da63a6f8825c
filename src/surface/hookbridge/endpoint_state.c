/*
 * endpoint_state - POST /v1/endpoints/{id}/pause and /resume (API.md §3.6)
 * on service/endpoint_state.h, which holds the rules (the flag, its
 * durability, the unfinished count of a resume).
 *
 * Description: pause answers {id, paused: true}; resume answers {id, paused:
 * false, messages_requeued}, the unfinished messages the resume released.
 * Both routes take no body, which is the surface's to check: an empty body
 * (PHP declares JSON but sends none), {} or null are accepted; anything else
 * is 400 INVALID_REQUEST.
 * Threading: handlers on MHD threads; the op applies on the committer.
 * Ownership: each op is freed by its resume callback.
 * Errors: 404 ENDPOINT_NOT_FOUND for unknown, deleted or other-mode endpoints.
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>

#include "service/endpoint_state.h"
#include "surface/hookbridge/internal.h"

static void state_resume(struct http_request *r)
{
    struct service_endpoint_pause_op *x = r->op;
    if (x->head.op.result != ERR_OK) {
        http__respond_err(r, x->head.op.result, &x->head.op.detail);
    } else {
        json_t *data = json_pack("{s:s, s:b}", "id", x->id, "paused", x->paused);
        if (!x->paused)
            json_object_set_new(data, "messages_requeued", json_integer(x->unfinished));
        http__respond_data(r, MHD_HTTP_OK, data, NULL);
    }
    free(x);
}

/* The routes take no body, but a client may send an empty one, {} or null. */
static bool check_empty_body(struct http_request *r)
{
    struct err_detail d = {0};
    json_t *body = http__parse_body(r, true, &d);
    if (!body) {
        http__respond_err(r, ERR_INVAL, &d);
        return false;
    }
    bool ok = json_is_object(body) || json_is_null(body);
    json_decref(body);
    if (!ok)
        http__respond_error(r, MHD_HTTP_BAD_REQUEST, "INVALID_REQUEST",
                            "request body must be empty or a JSON object");
    return ok;
}

static void set_paused(struct http_request *r, bool paused)
{
    if (!check_empty_body(r))
        return;
    struct service_endpoint_pause_op *x = malloc(sizeof(*x));
    if (!x)
        abort();
    struct err_detail d = {0};
    enum err e = service_endpoint_pause_op_init(x, r->key.mode, r->param[0], paused, &d);
    if (e != ERR_OK) {
        free(x);
        http__respond_err(r, e, &d);
        return;
    }
    http__defer(r, &x->head, state_resume);
}

void hookbridge__endpoints_pause(struct http_request *r)
{
    set_paused(r, true);
}

void hookbridge__endpoints_resume(struct http_request *r)
{
    set_paused(r, false);
}

static void reset_resume(struct http_request *r)
{
    struct service_endpoint_reset_circuit_op *x = r->op;
    if (x->head.op.result != ERR_OK)
        http__respond_err(r, x->head.op.result, &x->head.op.detail);
    else
        http__respond_data(r, MHD_HTTP_OK,
                           json_pack("{s:s, s:s}", "id", x->id, "circuit_state", "closed"), NULL);
    free(x);
}

void hookbridge__endpoints_reset_circuit(struct http_request *r)
{
    if (!check_empty_body(r))
        return;
    struct service_endpoint_reset_circuit_op *x = malloc(sizeof(*x));
    if (!x)
        abort();
    struct err_detail d = {0};
    enum err e = service_endpoint_reset_circuit_op_init(x, r->key.mode, r->param[0], &d);
    if (e != ERR_OK) {
        free(x);
        http__respond_err(r, e, &d);
        return;
    }
    http__defer(r, &x->head, reset_resume);
}

/*
 * endpoint_state - POST /v1/endpoints/{id}/pause and /resume (API.md §3.6).
 *
 * Description: the paused flag is a column of the endpoint, written through
 * the committer, so it survives restarts; the store's completion feed tells
 * delivery after the commit, which holds the endpoint's due messages while
 * paused (they are not attempts) and releases them on resume.
 * Resume answers messages_requeued: the endpoint's unfinished (queued or
 * pending_retry) messages counted in the resume's own transaction. Both
 * routes are idempotent and take no body: an empty body (PHP declares JSON
 * but sends none), {} or null are accepted; anything else is 400.
 * Threading: handlers on MHD threads; apply/done on the committer thread.
 * Errors: 404 ENDPOINT_NOT_FOUND for unknown, deleted or other-mode endpoints.
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "surface/hookbridge/internal.h"
#include "util/clock.h"

struct state_op {
    struct http_op base;
    char id[ID_MAX];
    char mode[8];
    bool paused;
    int64_t unfinished;
};

static enum err state_apply(struct store *s, struct commit_op *op)
{
    struct state_op *x = (struct state_op *)op;
    x->unfinished = 0;
    return store_endpoint_set_paused(s, x->mode, x->id, x->paused, clock_now_ms(),
                                     x->paused ? NULL : &x->unfinished, &op->detail);
}

static void state_resume(struct http_request *r)
{
    struct state_op *x = r->op;
    if (x->base.op.result != ERR_OK) {
        http__respond_err(r, x->base.op.result, &x->base.op.detail);
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
    const char *id = r->param[0];
    if (!check_empty_body(r))
        return;
    if (strlen(id) >= ID_MAX) {
        http__respond_error(r, MHD_HTTP_NOT_FOUND, "ENDPOINT_NOT_FOUND", "endpoint not found");
        return;
    }
    struct state_op *x = calloc(1, sizeof(*x));
    if (!x)
        abort();
    x->base.r = r;
    snprintf(x->id, sizeof(x->id), "%s", id);
    snprintf(x->mode, sizeof(x->mode), "%s", r->key.mode);
    x->paused = paused;
    x->base.op.apply = state_apply;
    x->base.op.done = http__op_done;
    http__defer(r, &x->base.op, x, state_resume);
}

void hookbridge__endpoints_pause(struct http_request *r)
{
    set_paused(r, true);
}

void hookbridge__endpoints_resume(struct http_request *r)
{
    set_paused(r, false);
}

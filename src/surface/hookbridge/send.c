/*
 * send - POST /v1/webhooks/send (API.md §3.1): validate, make the event and
 * message durable through the committer, answer 202 only after the commit,
 * (the store's completion feed hands the new message, with its payload, to
 * delivery). Idempotency is resolved inside the op, so concurrent
 * duplicates serialise on the single writer and share one message.
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "core/validate.h"
#include "surface/hookbridge/internal.h"
#include "util/clock.h"

#define SEND_CONTENT_TYPE "application/json"

struct send_op {
    struct http_op base;
    struct send_request req;
    struct store_send in;
    char mode[8];
    char existing_id[ID_MAX];
    bool existed;
};

static enum err send_apply(struct store *s, struct commit_op *op)
{
    struct send_op *x = (struct send_op *)op;
    return store_send_insert(s, &x->in, x->existing_id, &x->existed, &op->detail);
}

static void send_done(struct commit_op *op)
{
    struct send_op *x = (struct send_op *)op;
    struct http_server *a = x->base.r->server;
    if (op->result == ERR_OK)
        __atomic_add_fetch(x->existed ? &a->stats.sends_duplicate : &a->stats.sends_accepted, 1,
                           __ATOMIC_RELAXED);
    http__op_finished(x->base.r);
}

/* The 202 envelope, written directly: the busiest answer hookd gives, and
 * jansson's build-and-dump cost as much as the rest of the response. Both ids
 * are hookd's own (hex, '-' and '_'), which need no JSON escaping. */
static void respond_accepted(struct http_request *r, const char *message_id)
{
    static const char fmt[] =
        "{\"data\":{\"message_id\":\"%s\",\"status\":\"queued\"},\"meta\":{\"request_id\":\"%s\"}}";
    size_t cap = sizeof(fmt) + strlen(message_id) + strlen(r->request_id);
    char *text = malloc(cap);
    if (!text)
        abort();
    snprintf(text, cap, fmt, message_id, r->request_id);
    http__respond_json_text(r, MHD_HTTP_ACCEPTED, text);
}

static void send_resume(struct http_request *r)
{
    struct send_op *x = r->op;
    if (x->base.op.result != ERR_OK) {
        http__respond_err(r, x->base.op.result, &x->base.op.detail);
    } else {
        respond_accepted(r, x->existed ? x->existing_id : x->in.message_id);
    }
    send_request_release(&x->req);
    free(x);
}

void hookbridge__send(struct http_request *r)
{
    struct send_op *x = calloc(1, sizeof(*x));
    if (!x)
        abort();
    struct err_detail d = {0};
    enum err e;
    if (r->body_too_large)
        e = err_set(&d, ERR_LIMIT, "PAYLOAD_TOO_LARGE",
                    "request body is larger than %d bytes; payload is limited to 1 MB",
                    HTTP_MAX_BODY);
    else
        e = validate_send(&x->req, r->body ? r->body : "", r->body_len, &d);
    if (e != ERR_OK) {
        send_request_release(&x->req);
        free(x);
        http__respond_err(r, e, &d);
        return;
    }
    int64_t now = clock_now_ms();
    id_uuid7(x->in.message_id, now);
    snprintf(x->mode, sizeof(x->mode), "%s", r->key.mode);
    x->in.endpoint_id = x->req.endpoint_id;
    x->in.mode = x->mode;
    x->in.payload = x->req.payload;
    x->in.payload_len = x->req.payload_len;
    x->in.content_type = SEND_CONTENT_TYPE;
    x->in.headers_json = x->req.headers_json;
    x->in.idempotency_key = x->req.idempotency_key;
    x->in.payload_sha256 = x->req.payload_sha256;
    x->in.retention_hours = x->req.retention_hours;
    x->in.now_ms = now;
    /* retention_hours 0: the payload goes as soon as the message is finished. */
    x->in.payload_expires_at_ms =
        now + (x->req.retention_hours >= 0 ? (int64_t)x->req.retention_hours * 3600000
                                           : r->server->deps.cfg->retention_ms);
    x->base.r = r;
    x->base.op.apply = send_apply;
    x->base.op.done = send_done;
    x->base.op.rerunnable = true; /* send_apply sets existed/existing_id afresh */
    http__defer(r, &x->base.op, x, send_resume);
}

/*
 * send - POST /v1/webhooks/send (API.md §3.1) on service/send.h: answers 202
 * only after the commit that made the message durable, and counts accepted
 * sends and idempotent repeats for /metrics.
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "service/send.h"
#include "surface/hookbridge/internal.h"

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
    struct service_send_op *x = r->op;
    if (x->head.op.result != ERR_OK) {
        http__respond_err(r, x->head.op.result, &x->head.op.detail);
    } else {
        struct http_stats *st = &r->server->stats;
        __atomic_add_fetch(x->existed ? &st->sends_duplicate : &st->sends_accepted, 1,
                           __ATOMIC_RELAXED);
        respond_accepted(r, service_send_message_id(x));
    }
    service_send_op_release(x);
    free(x);
}

void hookbridge__send(struct http_request *r)
{
    struct service_send_op *x = malloc(sizeof(*x));
    if (!x)
        abort();
    struct err_detail d = {0};
    enum err e;
    if (r->body_too_large)
        e = err_set(&d, ERR_LIMIT, "PAYLOAD_TOO_LARGE",
                    "request body is larger than %d bytes; payload is limited to 1 MB",
                    HTTP_MAX_BODY);
    else
        e = service_send_op_init(x, r->key.mode, r->body ? r->body : "", r->body_len,
                                 r->server->deps.cfg->retention_ms, &d);
    if (e != ERR_OK) {
        free(x);
        http__respond_err(r, e, &d);
        return;
    }
    http__defer(r, &x->head, send_resume);
}

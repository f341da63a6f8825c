/* send - see send.h. SPDX-License-Identifier: MIT */
#include "service/send.h"

#include <string.h>

#include "util/clock.h"

#define SEND_CONTENT_TYPE "application/json"

static enum err send_apply(struct store *s, struct commit_op *op)
{
    struct service_send_op *x = (struct service_send_op *)op;
    return store_send_insert(s, &x->in, x->existing_id, &x->existed, &op->detail);
}

enum err service_send_op_init(struct service_send_op *x, const char *mode, const char *body,
                              size_t len, int64_t default_retention_ms, struct err_detail *d)
{
    memset(x, 0, sizeof(*x));
    enum err e = validate_send(&x->req, body, len, d);
    if (e != ERR_OK) {
        send_request_release(&x->req);
        return e;
    }
    int64_t now = clock_now_ms();
    id_uuid7(x->in.message_id, now);
    snprintf(x->mode, sizeof(x->mode), "%s", mode);
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
                                           : default_retention_ms);
    x->head.op.apply = send_apply;
    x->head.op.rerunnable = true; /* send_apply sets existed/existing_id afresh */
    return ERR_OK;
}

const char *service_send_message_id(const struct service_send_op *x)
{
    return x->existed ? x->existing_id : x->in.message_id;
}

void service_send_op_release(struct service_send_op *x)
{
    send_request_release(&x->req);
}

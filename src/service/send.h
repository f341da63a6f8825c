/*
 * send - a payload sent to one endpoint (HookBridge's POST /v1/webhooks/send):
 * the event and its one message made durable in one commit, status queued.
 *
 * Description: the body is checked by core/validate.h (validate_send); the
 * payload's bytes are kept exactly as sent. Idempotency is per endpoint and
 * resolved inside the op, so concurrent duplicates serialise on the single
 * writer and share one message: the same key with the same payload answers
 * the first message (existed), with another payload ERR_CONFLICT
 * (IDEMPOTENCY_MISMATCH). The payload is kept retention_hours after the
 * message is finished (0: dropped at once; absent: the server's default).
 * After the commit the store's completion feed hands the message to delivery.
 * Threading: init on any thread; apply on the committer (rerunnable).
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_SERVICE_SEND_H
#define HOOKD_SERVICE_SEND_H

#include "core/validate.h"
#include "service/service.h"

struct service_send_op {
    struct service_op head;
    struct send_request req;
    struct store_send in;
    char mode[8];
    /* out */
    char existing_id[ID_MAX];
    bool existed; /* an idempotent repeat: existing_id is the message */
};

/* Check body (len bytes) and make the op; on error nothing is held. */
enum err service_send_op_init(struct service_send_op *x, const char *mode, const char *body,
                              size_t len, int64_t default_retention_ms, struct err_detail *d);
/* The message the send answers with (new, or the first one of an idempotent repeat). */
const char *service_send_message_id(const struct service_send_op *x);
void service_send_op_release(struct service_send_op *x);

#endif

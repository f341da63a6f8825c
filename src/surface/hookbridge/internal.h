/*
 * hookbridge internal - the handlers of the /v1 routes (router.c's table),
 * shared between the surface/hookbridge files only (hookbridge__ names).
 * Every handler reads its path captures from r->param.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_SURFACE_HOOKBRIDGE_INTERNAL_H
#define HOOKD_SURFACE_HOOKBRIDGE_INTERNAL_H

#include "http/internal.h"
#include "surface/hookbridge/hookbridge.h"

/* send.c */
void hookbridge__send(struct http_request *r);
/* endpoints.c */
void hookbridge__endpoints_create(struct http_request *r);
void hookbridge__endpoints_list(struct http_request *r);
void hookbridge__endpoints_get(struct http_request *r);
void hookbridge__endpoints_update(struct http_request *r);
void hookbridge__endpoints_delete(struct http_request *r);
/* endpoint_state.c: pause / resume */
void hookbridge__endpoints_pause(struct http_request *r);
void hookbridge__endpoints_resume(struct http_request *r);
void hookbridge__endpoints_reset_circuit(struct http_request *r);
/* endpoint_transform.c */
void hookbridge__endpoints_transformation_test(struct http_request *r);
/* endpoint_test.c: the test send */
void hookbridge__endpoints_test(struct http_request *r);
/* signing_keys.c */
void hookbridge__signing_keys_create(struct http_request *r);
void hookbridge__signing_keys_list(struct http_request *r);
void hookbridge__signing_keys_delete(struct http_request *r);
/* keys.c: API keys */
void hookbridge__keys_list(struct http_request *r);
void hookbridge__keys_create(struct http_request *r);
void hookbridge__keys_delete(struct http_request *r);
/* messages.c: reads */
void hookbridge__messages_get(struct http_request *r);
void hookbridge__messages_payload(struct http_request *r);
void hookbridge__messages_attempts(struct http_request *r);
json_t *hookbridge__render_message(const struct store_message *m); /* the Message of API.md §3.2 */
/* message_ops.c: replay, retry-now, cancel, deletes */
void hookbridge__messages_replay(struct http_request *r);
void hookbridge__messages_retry_now(struct http_request *r);
void hookbridge__messages_cancel(struct http_request *r);
void hookbridge__messages_replay_all(struct http_request *r);
void hookbridge__messages_replay_batch(struct http_request *r);
void hookbridge__messages_delete(struct http_request *r);
void hookbridge__messages_delete_batch(struct http_request *r);
void hookbridge__messages_delete_all(struct http_request *r);
/* logs.c */
void hookbridge__logs_list(struct http_request *r);
/* metrics.c */
void hookbridge__metrics_summary(struct http_request *r);
void hookbridge__metrics_timeseries(struct http_request *r);
/* ops_webhooks.c: operational webhooks (POLICIES §6) */
void hookbridge__ops_webhooks_create(struct http_request *r);
void hookbridge__ops_webhooks_list(struct http_request *r);
void hookbridge__ops_webhooks_delete(struct http_request *r);
/* dlq.c */
void hookbridge__dlq_list(struct http_request *r);
void hookbridge__dlq_replay(struct http_request *r);

#endif

/*
 * router - the HookBridge surface's routes (/v1, API.md): the route table,
 * authentication before any of them, 403 for portal tokens (they act only
 * through an application's routes), 404 and 405 in HookBridge's envelope.
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "surface/hookbridge/internal.h"

/* Every /v1 route. Literal segments are listed before captures on the same
 * level (e.g. /messages/replay-all before /messages/:id), first match wins. */
static const struct http_route routes[] = {
    {"POST", "webhooks/send", hookbridge__send},
    {"GET", "api-keys", hookbridge__keys_list},
    {"POST", "api-keys", hookbridge__keys_create},
    {"DELETE", "api-keys/:id", hookbridge__keys_delete},
    {"POST", "endpoints", hookbridge__endpoints_create},
    {"GET", "endpoints", hookbridge__endpoints_list},
    {"GET", "endpoints/:id", hookbridge__endpoints_get},
    {"PATCH", "endpoints/:id", hookbridge__endpoints_update},
    {"PUT", "endpoints/:id", hookbridge__endpoints_update},
    {"DELETE", "endpoints/:id", hookbridge__endpoints_delete},
    {"POST", "endpoints/:id/pause", hookbridge__endpoints_pause},
    {"POST", "endpoints/:id/resume", hookbridge__endpoints_resume},
    {"POST", "endpoints/:id/reset-circuit", hookbridge__endpoints_reset_circuit},
    {"POST", "endpoints/:id/transformation/test", hookbridge__endpoints_transformation_test},
    {"POST", "endpoints/:id/test", hookbridge__endpoints_test},
    {"POST", "endpoints/:id/signing-keys", hookbridge__signing_keys_create},
    {"GET", "endpoints/:id/signing-keys", hookbridge__signing_keys_list},
    {"DELETE", "endpoints/:id/signing-keys/:key", hookbridge__signing_keys_delete},
    {"POST", "messages/replay-all", hookbridge__messages_replay_all},
    {"POST", "messages/replay-batch", hookbridge__messages_replay_batch},
    {"POST", "messages/delete-batch", hookbridge__messages_delete_batch},
    {"POST", "messages/delete-all", hookbridge__messages_delete_all},
    {"GET", "messages/:id", hookbridge__messages_get},
    {"DELETE", "messages/:id", hookbridge__messages_delete},
    {"GET", "messages/:id/attempts", hookbridge__messages_attempts},
    {"GET", "messages/:id/payload", hookbridge__messages_payload},
    {"POST", "messages/:id/replay", hookbridge__messages_replay},
    {"POST", "messages/:id/retry-now", hookbridge__messages_retry_now},
    {"POST", "messages/:id/cancel", hookbridge__messages_cancel},
    {"GET", "logs", hookbridge__logs_list},
    {"GET", "metrics", hookbridge__metrics_summary},
    {"GET", "metrics/timeseries", hookbridge__metrics_timeseries},
    {"POST", "ops-webhooks", hookbridge__ops_webhooks_create},
    {"GET", "ops-webhooks", hookbridge__ops_webhooks_list},
    {"DELETE", "ops-webhooks/:id", hookbridge__ops_webhooks_delete},
    {"GET", "dlq/messages", hookbridge__dlq_list},
    {"POST", "dlq/replay/:id", hookbridge__dlq_replay},
};

void hookbridge_route(struct http_request *r)
{
    if (!http__authenticate(r))
        return;
    if (r->portal) {
        http__respond_error(r, MHD_HTTP_FORBIDDEN, "FORBIDDEN",
                            "a portal token acts only for its application, not on /v1");
        return;
    }
    http__dispatch(r, 1, routes, sizeof(routes) / sizeof(routes[0]));
}

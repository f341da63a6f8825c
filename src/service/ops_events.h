/*
 * ops_events - operational webhooks (POLICIES.md §6): the events hookd
 * publishes about itself (endpoint.created, endpoint.updated,
 * endpoint.deleted, endpoint.disabled, message.attempt.failing,
 * message.attempt.exhausted, message.attempt.recovered) to the endpoints of
 * the built-in operational application of a mode (app_ops_<mode>, uid "ops"),
 * and the registration of those endpoints.
 *
 * Description: every emit runs on the committer thread inside the
 * transaction of the change it reports (an endpoint op, an attempt batch, a
 * disabling), so the event commits with its cause or not at all. An event is
 * stored like a published one (one event row, one message per operational
 * endpoint that takes its type) and delivered, signed and retried through the
 * ordinary pipeline. The operational application exists only once its first
 * endpoint is created (same transaction); until then, and while it has no
 * enabled endpoint, an emit is one look into the committer's fan-out cache
 * (store_fanout_get) and returns before any JSON is built. Nothing is ever
 * emitted about the operational application's own endpoints or messages (no
 * loops).
 *
 * Threading: the emit functions on the committer thread only (inside an
 * apply); the op inits from any thread.
 * Ownership: arguments are borrowed.
 * Errors: what the store answers (ERR_IO); an emit error rolls back the op
 * that caused it.
 * See also: service/publish.c (the same fan-out), deliver/worker_attempts.c
 * (the attempt hook), docs/policies/ops-webhooks.md.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_SERVICE_OPS_EVENTS_H
#define HOOKD_SERVICE_OPS_EVENTS_H

#include <stdbool.h>

#include "config.h"
#include "service/endpoints.h"
#include "store/store.h"

/* The id of the operational application of a mode is this prefix and the mode. */
#define OPS_EVENTS_APP_PREFIX STORE_OPS_APP_PREFIX
#define OPS_EVENTS_APP_UID "ops"

/* Whether app_id is an operational application's id. */
bool ops_events_is_ops_app(const char *app_id);

/* Into out (ID_MAX bytes): the id of mode's operational application. */
void ops_events_app_id(char *out, size_t len, const char *mode);

/* endpoint.created, endpoint.updated or endpoint.deleted (type) about ep. */
enum err ops_events_endpoint(struct store *s, const struct config *cfg, const char *type,
                             const struct store_endpoint *ep, struct err_detail *d);

/* endpoint.disabled about the endpoint of mode with id endpoint_id (read once
 * someone listens: its application and failing_since), with reason manual,
 * gone or auto_failing. */
enum err ops_events_endpoint_disabled(struct store *s, const struct config *cfg, const char *mode,
                                      const char *endpoint_id, const char *reason, int64_t now_ms,
                                      struct err_detail *d);

/* The attempt hook: a just recorded attempt a that moved its message to
 * status. Emits message.attempt.failing when a failed attempt is the
 * cfg->ops_failing_after'th, message.attempt.exhausted when the message ended
 * failed_permanent, message.attempt.recovered when it succeeded after a failed
 * attempt (attempt_no > 1). */
enum err ops_events_attempt(struct store *s, const struct config *cfg,
                            const struct store_attempt *a, enum store_status status,
                            struct err_detail *d);

/* POST /v1/ops-webhooks: an endpoint op creating an operational endpoint of
 * mode with url (a borrowed JSON value), subscribed to every type. The
 * application is created in the op's transaction when missing. Release with
 * service_endpoint_op_release. */
enum err ops_events_create_init(struct service_endpoint_op *x, const char *mode, const json_t *url,
                                const struct config *cfg, struct err_detail *d);

/* DELETE /v1/ops-webhooks/{id}: an endpoint op deleting an operational endpoint. */
enum err ops_events_delete_init(struct service_endpoint_op *x, const char *mode, const char *id,
                                const struct config *cfg, struct err_detail *d);

/* The operational endpoints of mode after iterator (an endpoint id; NULL: from
 * the start), oldest first; none when the application does not exist yet. */
enum err ops_events_list(struct store *s, const char *mode, const char *iterator, int limit,
                         struct store_endpoint *out, int *n, bool *has_more, struct err_detail *d);

#endif

/* ops_events - see ops_events.h. SPDX-License-Identifier: MIT */
#include "service/ops_events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/event_match.h"
#include "core/id.h"
#include "core/validate.h"
#include "service/publish.h"
#include "util/clock.h"

bool ops_events_is_ops_app(const char *app_id)
{
    return app_id && strncmp(app_id, OPS_EVENTS_APP_PREFIX, strlen(OPS_EVENTS_APP_PREFIX)) == 0;
}

void ops_events_app_id(char *out, size_t len, const char *mode)
{
    snprintf(out, len, "%s%s", OPS_EVENTS_APP_PREFIX, mode);
}

/* The operational application of mode and its enabled endpoints, or NULL (and
 * *e ERR_OK) when nobody would receive an event: the cheap test every emit
 * makes first. Borrowed from s until the next store_fanout_get. */
static const struct store_fanout *receivers(struct store *s, const char *mode, enum err *e,
                                            struct err_detail *d)
{
    char app[ID_MAX];
    ops_events_app_id(app, sizeof(app), mode);
    const struct store_fanout *fan = NULL;
    *e = store_fanout_get(s, mode, app, &fan, d);
    if (*e == ERR_NOTFOUND) {
        *e = ERR_OK;
        return NULL;
    }
    return *e == ERR_OK && fan->n > 0 ? fan : NULL;
}

/* Store {type, timestamp, data} as an event of the operational application and
 * queue one message per endpoint of fan that takes type. Takes data. */
static enum err publish(struct store *s, const struct config *cfg, const char *mode,
                        const struct store_fanout *fan, const char *type, json_t *data,
                        struct err_detail *d)
{
    int64_t now = clock_now_ms();
    char ts[40];
    clock_format_rfc3339(ts, sizeof(ts), now);
    json_t *body = json_pack("{s:s, s:s, s:o}", "type", type, "timestamp", ts, "data", data);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text)
        abort();
    char sha[65];
    size_t len = strlen(text);
    validate_sha256_hex(sha, text, len);
    struct store_event_in ev = {.event_type = type,
                                .payload = text,
                                .payload_len = len,
                                .content_type = "application/json",
                                .payload_sha256 = sha,
                                .now_ms = now,
                                .payload_expires_at_ms = now + cfg->retention_ms};
    id_time_ordered(ev.public_id, sizeof(ev.public_id), "msg_", now);
    snprintf(ev.mode, sizeof(ev.mode), "%s", mode);
    snprintf(ev.application_id, sizeof(ev.application_id), "%s", fan->app_id);
    int64_t rowid = 0;
    enum err e = store_event_insert(s, &ev, &rowid, d);
    for (size_t i = 0; e == ERR_OK && i < fan->n; i++) {
        if (!service_candidate_receives_type(&fan->cands[i], type))
            continue;
        char message_id[ID_MAX];
        id_uuid7(message_id, now);
        e = store_event_message_insert(s, &ev, rowid, message_id, fan->cands[i].id, NULL, NULL, d);
    }
    free(text);
    return e;
}

/* Whether some endpoint of fan takes type (so that nothing is built for none). */
static bool anyone_takes(const struct store_fanout *fan, const char *type)
{
    for (size_t i = 0; i < fan->n; i++)
        if (service_candidate_receives_type(&fan->cands[i], type))
            return true;
    return false;
}

enum err ops_events_endpoint(struct store *s, const struct config *cfg, const char *type,
                             const struct store_endpoint *ep, struct err_detail *d)
{
    if (ops_events_is_ops_app(ep->application_id))
        return ERR_OK; /* about itself: never */
    enum err e;
    const struct store_fanout *fan = receivers(s, ep->mode, &e, d);
    if (!fan || !anyone_takes(fan, type))
        return e;
    json_t *data = json_pack("{s:s, s:s, s:s?}", "appId", ep->application_id, "endpointId", ep->id,
                             "endpointUid", ep->uid);
    return publish(s, cfg, ep->mode, fan, type, data, d);
}

enum err ops_events_endpoint_disabled(struct store *s, const struct config *cfg, const char *mode,
                                      const char *endpoint_id, const char *reason, int64_t now_ms,
                                      struct err_detail *d)
{
    enum err e;
    const struct store_fanout *fan = receivers(s, mode, &e, d);
    if (!fan || !anyone_takes(fan, "endpoint.disabled"))
        return e; /* nobody listens: not even the endpoint is read */
    struct store_endpoint ep = {0};
    if ((e = store_endpoint_get(s, mode, endpoint_id, true, &ep, d)) != ERR_OK)
        return e;
    if (!ops_events_is_ops_app(ep.application_id)) {
        char since[40];
        clock_format_rfc3339(since, sizeof(since),
                             ep.failing_since_ms ? ep.failing_since_ms : now_ms);
        json_t *data =
            json_pack("{s:s, s:s, s:s?, s:s, s:s}", "endpointId", ep.id, "appId", ep.application_id,
                      "endpointUid", ep.uid, "failSince", since, "reason", reason);
        e = publish(s, cfg, mode, fan, "endpoint.disabled", data, d);
    }
    store_endpoint_release(&ep);
    return e;
}

enum err ops_events_attempt(struct store *s, const struct config *cfg,
                            const struct store_attempt *a, enum store_status status,
                            struct err_detail *d)
{
    const char *type = NULL;
    if (status == STATUS_FAILED_PERMANENT)
        type = "message.attempt.exhausted";
    else if (status == STATUS_PENDING_RETRY && a->attempt_no == cfg->ops_failing_after)
        type = "message.attempt.failing";
    else if (status == STATUS_SUCCEEDED && a->attempt_no > 1)
        type = "message.attempt.recovered";
    if (!type || !a->mode[0])
        return ERR_OK; /* most attempts: nothing to tell, not even a look */
    enum err e;
    const struct store_fanout *fan = receivers(s, a->mode, &e, d);
    if (!fan || !anyone_takes(fan, type))
        return e;
    char msg_id[ID_MAX], app_id[ID_MAX];
    e = store_message_origin(s, a->message_id, msg_id, app_id, d);
    if (e == ERR_NOTFOUND)
        return ERR_OK; /* deleted meanwhile: nothing left to tell about */
    if (e != ERR_OK || ops_events_is_ops_app(app_id))
        return e; /* an operational message's own fate: never (no loops) */
    char ts[40];
    clock_format_rfc3339(ts, sizeof(ts), a->created_at_ms ? a->created_at_ms : clock_now_ms());
    json_t *last = json_pack("{s:s, s:s, s:i, s:i}", "id", a->id, "timestamp", ts,
                             "responseStatusCode", a->response_status, "attempt", a->attempt_no);
    json_t *data = json_pack("{s:s, s:s, s:s, s:s, s:o}", "appId", app_id, "endpointId",
                             a->endpoint_id, "msgId", msg_id[0] ? msg_id : a->message_id,
                             "messageId", a->message_id, "lastAttempt", last);
    return publish(s, cfg, a->mode, fan, type, data, d);
}

enum err ops_events_create_init(struct service_endpoint_op *x, const char *mode, const json_t *url,
                                const struct config *cfg, struct err_detail *d)
{
    char app[ID_MAX];
    ops_events_app_id(app, sizeof(app), mode);
    struct endpoint_fields f = {.url = url};
    return service_endpoint_op_init(x, ENDPOINT_CREATE, mode, app, NULL, &f, cfg, d);
}

enum err ops_events_delete_init(struct service_endpoint_op *x, const char *mode, const char *id,
                                const struct config *cfg, struct err_detail *d)
{
    char app[ID_MAX];
    ops_events_app_id(app, sizeof(app), mode);
    return service_endpoint_op_init(x, ENDPOINT_DELETE, mode, app, id, NULL, cfg, d);
}

enum err ops_events_list(struct store *s, const char *mode, const char *iterator, int limit,
                         struct store_endpoint *out, int *n, bool *has_more, struct err_detail *d)
{
    char app[ID_MAX];
    ops_events_app_id(app, sizeof(app), mode);
    enum err e = service_endpoint_list(s, mode, app, iterator, false, limit, out, n, has_more, d);
    if (e == ERR_NOTFOUND && !*n) /* no operational endpoint was ever made */
        e = ERR_OK;
    return e;
}

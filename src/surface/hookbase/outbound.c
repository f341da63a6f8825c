/*
 * hookbase outbound messages - /api/outbound-messages (and the portal's
 * /portal/messages): OutboundMessage {id, messageId (the event), endpointId,
 * endpointUrl, eventType, status, attempts, maxAttempts, lastAttemptAt,
 * nextAttemptAt, lastResponseStatus, lastResponseBody, lastError,
 * deliveredAt, createdAt} onto service/outbound; the attempts of one; and
 * replay, which makes a new message of the same event to the same endpoint
 * (service/publish).
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "service/outbound.h"
#include "service/publish.h"
#include "surface/hookbase/internal.h"
#include "util/clock.h"

#define ATTEMPTS_MAX 250

static int max_attempts(const struct http_request *r)
{
    return r->server->deps.cfg->retry.max_attempts;
}

static json_t *render(const struct service_outbound *o)
{
    const struct store_message *m = &o->msg;
    return json_pack(
        "{s:s, s:o, s:s, s:s, s:o, s:s, s:i, s:i, s:o, s:o, s:o, s:o, s:o, s:o, "
        "s:o}",
        "id", m->id, "messageId", o->event_id[0] ? json_string(o->event_id) : json_null(),
        "endpointId", m->endpoint_id, "endpointUrl", o->endpoint_url ? o->endpoint_url : "",
        "eventType", o->event_type ? json_string(o->event_type) : json_null(), "status", o->status,
        "attempts", m->attempt_count, "maxAttempts", o->max_attempts, "lastAttemptAt",
        hookbase__time(o->last_attempt_ms), "nextAttemptAt",
        !strcmp(o->status, "pending") && m->next_attempt_at_ms
            ? hookbase__time(m->next_attempt_at_ms)
            : json_null(),
        "lastResponseStatus", m->response_status ? json_integer(m->response_status) : json_null(),
        "lastResponseBody", http__json_text(o->last_response_body), "lastError",
        http__json_text(m->last_error), "deliveredAt", hookbase__time(m->delivered_at_ms),
        "createdAt", hookbase__time(m->created_at_ms));
}

/* A query time (RFC 3339) into *ms (0 when absent); false after answering. */
static bool query_time(struct http_request *r, const char *name, int64_t *ms)
{
    const char *v = http__query(r, name);
    *ms = 0;
    if (!v || !*v || clock_parse_rfc3339(v, ms))
        return true;
    snprintf(r->error_field, sizeof(r->error_field), "%s", name);
    http__respond_error(r, MHD_HTTP_BAD_REQUEST, "INVALID_REQUEST", "'%s' must be an RFC 3339 time",
                        name);
    return false;
}

static const char *query(struct http_request *r, const char *name)
{
    const char *v = http__query(r, name);
    return v && *v ? v : NULL;
}

void hookbase__outbound_list(struct http_request *r)
{
    struct hookbase_page p;
    if (!hookbase__page(r, &p))
        return;
    struct service_outbound_filter f = {.mode = r->key.mode,
                                        .app =
                                            r->portal ? r->portal_app : query(r, "applicationId"),
                                        .endpoint_id = query(r, "endpointId"),
                                        .event_id = query(r, "messageId"),
                                        .status = query(r, "status"),
                                        .event_type = query(r, "eventType"),
                                        .max_attempts = max_attempts(r),
                                        .max_scan = HOOKBASE_SCAN_MAX};
    if (!query_time(r, "startDate", &f.start_ms) || !query_time(r, "endDate", &f.end_ms))
        return;
    if (f.status && strcmp(f.status, "pending") && strcmp(f.status, "success") &&
        strcmp(f.status, "failed") && strcmp(f.status, "exhausted")) {
        snprintf(r->error_field, sizeof(r->error_field), "status");
        http__respond_error(r, MHD_HTTP_BAD_REQUEST, "INVALID_REQUEST",
                            "'status' must be pending, success, failed or exhausted");
        return;
    }
    struct err_detail d = {0};
    char(*ids)[ID_MAX] = NULL;
    int n = 0;
    struct store *s = http__store_acquire(r->server);
    enum err e = s ? service_outbound_select(s, &f, &ids, &n, &d) : ERR_IO;
    json_t *all = json_array();
    /* only the page is read in full: the others are listed by id */
    size_t start = (size_t)p.offset;
    if (p.cursor)
        for (int i = 0; i < n; i++)
            if (!strcmp(ids[i], p.cursor))
                start = (size_t)i + 1;
    for (int i = 0; e == ERR_OK && i < n; i++) {
        if ((size_t)i < start || (size_t)i >= start + (size_t)p.limit) {
            json_array_append_new(all, json_pack("{s:s}", "id", ids[i]));
            continue;
        }
        struct service_outbound o;
        struct err_detail d2 = {0};
        if (service_outbound_get(s, r->key.mode, f.app, ids[i], max_attempts(r), &o, &d2) ==
            ERR_OK) {
            json_t *item = render(&o);
            if (r->portal) { /* the portal's message items */
                json_t *small = json_pack(
                    "{s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O}", "id",
                    json_object_get(item, "id"), "eventType", json_object_get(item, "eventType"),
                    "endpointId", json_object_get(item, "endpointId"), "endpointUrl",
                    json_object_get(item, "endpointUrl"), "status", json_object_get(item, "status"),
                    "attempts", json_object_get(item, "attempts"), "lastAttemptAt",
                    json_object_get(item, "lastAttemptAt"), "nextAttemptAt",
                    json_object_get(item, "nextAttemptAt"), "createdAt",
                    json_object_get(item, "createdAt"));
                json_decref(item);
                item = small;
            }
            json_array_append_new(all, item);
            service_outbound_release(&o);
        } else { /* gone between the scan and now */
            json_array_append_new(all, json_pack("{s:s}", "id", ids[i]));
        }
    }
    http__store_release(r->server, s);
    free(ids);
    if (e != ERR_OK) {
        json_decref(all);
        http__respond_err(r, e, &d);
        return;
    }
    if (!r->portal) {
        hookbase__respond_page(r, all, &p, NULL);
        return;
    }
    /* the portal's pager: {data, total, limit, offset} */
    size_t total = json_array_size(all);
    json_t *data = json_array();
    for (size_t i = start; i < total && json_array_size(data) < (size_t)p.limit; i++)
        json_array_append(data, json_array_get(all, i));
    json_decref(all);
    http__respond_json(r, MHD_HTTP_OK,
                       json_pack("{s:o, s:I, s:i, s:I}", "data", data, "total", (json_int_t)total,
                                 "limit", p.limit, "offset", (json_int_t)start));
}

void hookbase__outbound_get(struct http_request *r)
{
    struct service_outbound o;
    struct err_detail d = {0};
    struct store *s = http__store_acquire(r->server);
    enum err e = s ? service_outbound_get(s, r->key.mode, hookbase__scope(r), r->param[0],
                                          max_attempts(r), &o, &d)
                   : ERR_IO;
    http__store_release(r->server, s);
    if (e != ERR_OK) {
        http__respond_err(r, e, &d);
        return;
    }
    hookbase__respond_data(r, MHD_HTTP_OK, render(&o));
    service_outbound_release(&o);
}

void hookbase__outbound_attempts(struct http_request *r)
{
    struct store_attempt *at = calloc(ATTEMPTS_MAX, sizeof(*at));
    if (!at)
        abort();
    int n = 0;
    struct err_detail d = {0};
    struct store *s = http__store_acquire(r->server);
    enum err e = s ? service_outbound_attempts(s, r->key.mode, hookbase__scope(r), r->param[0],
                                               ATTEMPTS_MAX, at, &n, &d)
                   : ERR_IO;
    http__store_release(r->server, s);
    if (e != ERR_OK) {
        free(at);
        http__respond_err(r, e, &d);
        return;
    }
    json_t *data = json_array();
    for (int i = 0; i < n; i++) {
        json_t *headers = hookbase__json_or(at[i].response_headers_json, json_null());
        json_array_append_new(
            data,
            json_pack("{s:s, s:s, s:i, s:o, s:o, s:o, s:o, s:I, s:o}", "id", at[i].id,
                      "outboundMessageId", r->param[0], "attemptNumber", i + 1, "responseStatus",
                      at[i].response_status ? json_integer(at[i].response_status) : json_null(),
                      "responseBody", http__json_text(at[i].response_body), "responseHeaders",
                      headers, "error", http__json_text(at[i].error_text), "latencyMs",
                      (json_int_t)(at[i].latency_ms > 0 ? at[i].latency_ms : 0), "attemptedAt",
                      hookbase__time(at[i].created_at_ms)));
        store_attempt_release(&at[i]);
    }
    free(at);
    hookbase__respond_data(r, MHD_HTTP_OK, data);
}

static void replay_done(struct http_request *r)
{
    struct service_message_copy_op *x = r->op;
    if (x->head.op.result != ERR_OK)
        http__respond_err(r, x->head.op.result, &x->head.op.detail);
    else
        hookbase__respond_data(r, MHD_HTTP_OK,
                               json_pack("{s:s, s:s, s:s}", "originalMessageId", x->id,
                                         "newMessageId", x->new_id, "status", "pending"));
    free(x);
}

void hookbase__outbound_replay(struct http_request *r)
{
    struct service_message_copy_op *x = calloc(1, sizeof(*x));
    if (!x)
        abort();
    service_message_copy_op_init(x, r->key.mode, hookbase__scope(r), r->param[0],
                                 r->server->deps.cfg->retention_ms);
    hookbase__defer(r, &x->head, replay_done);
}

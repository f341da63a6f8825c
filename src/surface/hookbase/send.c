/*
 * hookbase send - POST /api/send-event {applicationId, eventType, payload,
 * eventId?, metadata?, endpointIds?} onto service/publish (with its Hookbase
 * rules: the type must exist and be enabled, else 404; a reused eventId
 * answers the first event; endpointIds narrows the fan-out; the receiver
 * gets {type, data, timestamp, webhookId}). Answers 202 {data: {eventId,
 * messagesQueued, endpoints: [{id, url}]}}; a deduplicated eventId answers 200
 * with the first event's. `metadata` is accepted and not kept.
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "core/json_scan.h"
#include "core/validate.h"
#include "service/endpoints.h"
#include "service/publish.h"
#include "surface/hookbase/internal.h"

struct send_in {
    const char *body;
    json_t *fields;
    size_t payload_start, payload_end;
    bool has_payload;
};

static enum err read_member(void *ctx, const struct json_scan_member *m, struct err_detail *d)
{
    struct send_in *in = ctx;
    static const char *const small[] = {"applicationId", "eventType", "eventId", "endpointIds"};
    if (json_scan_key_equals(m->key, m->key_len, "payload")) {
        in->payload_start = m->value_start;
        in->payload_end = m->value_end;
        in->has_payload =
            !(m->value_end - m->value_start == 4 && !memcmp(in->body + m->value_start, "null", 4));
        return ERR_OK;
    }
    for (size_t i = 0; i < sizeof(small) / sizeof(small[0]); i++) {
        if (!json_scan_key_equals(m->key, m->key_len, small[i]))
            continue;
        json_t *v = json_loadb(in->body + m->value_start, m->value_end - m->value_start,
                               JSON_DECODE_ANY, NULL);
        if (!v)
            return err_set(d, ERR_INVAL, "INVALID_REQUEST", "'%s' cannot be read", small[i]);
        json_object_set_new(in->fields, small[i], v);
    }
    return ERR_OK;
}

struct send_op {
    struct service_publish_op svc;
};

static void send_done(struct http_request *r)
{
    struct send_op *x = r->op;
    struct service_publish_op *p = &x->svc;
    struct commit_op *op = &p->head.op;
    if (op->result != ERR_OK) {
        http__respond_err(r, op->result, &op->detail);
    } else {
        json_t *eps = json_array();
        struct store *s = http__store_acquire(r->server);
        for (int i = 0; s && p->targets && i < p->messages; i++) {
            struct store_endpoint ep = {0};
            struct err_detail d = {0};
            if (service_endpoint_get(s, r->key.mode, NULL, p->targets[i], &ep, &d) == ERR_OK)
                json_array_append_new(
                    eps, json_pack("{s:s, s:s}", "id", ep.id, "url", ep.url ? ep.url : ""));
            else
                json_array_append_new(eps, json_pack("{s:s, s:n}", "id", p->targets[i], "url"));
            store_endpoint_release(&ep);
        }
        http__store_release(r->server, s);
        hookbase__respond_data(r, p->duplicate ? MHD_HTTP_OK : MHD_HTTP_ACCEPTED,
                               json_pack("{s:s, s:i, s:o}", "eventId", p->ev.public_id,
                                         "messagesQueued", p->messages, "endpoints", eps));
    }
    service_publish_op_release(p);
    free(x);
}

void hookbase__send_event(struct http_request *r)
{
    struct err_detail d = {0};
    if (r->body_too_large) {
        err_set(&d, ERR_LIMIT, "PAYLOAD_TOO_LARGE", "request body is larger than %d bytes",
                HTTP_MAX_BODY);
        http__respond_err(r, ERR_LIMIT, &d);
        return;
    }
    struct send_in in = {.body = r->body ? r->body : "{}", .fields = json_object()};
    size_t len = r->body ? r->body_len : 2;
    enum err e = json_scan_object(in.body, len, VALIDATE_MAX_JSON_DEPTH, read_member, &in, &d);
    json_t *app = json_object_get(in.fields, "applicationId");
    if (e == ERR_OK && (!json_is_string(app) || !json_string_length(app)))
        e = err_set_field(&d, ERR_INVAL, "INVALID_REQUEST", "application_id",
                          "'applicationId' is required");
    if (e != ERR_OK) {
        json_decref(in.fields);
        http__respond_err(r, e, &d);
        return;
    }
    struct publish_fields f = {0};
    f.event_type = json_object_get(in.fields, "eventType");
    f.event_id = json_object_get(in.fields, "eventId");
    f.endpoint_ids = json_object_get(in.fields, "endpointIds");
    f.hookbase = true;
    if (in.has_payload) {
        f.payload = in.body + in.payload_start;
        f.payload_len = in.payload_end - in.payload_start;
    }
    struct send_op *x = calloc(1, sizeof(*x));
    if (!x)
        abort();
    e = service_publish_op_init(&x->svc, r->key.mode, json_string_value(app), &f,
                                r->server->deps.cfg->retention_ms, &d);
    json_decref(in.fields);
    if (e != ERR_OK) {
        free(x);
        http__respond_err(r, e, &d);
        return;
    }
    hookbase__defer(r, &x->svc.head, send_done);
}

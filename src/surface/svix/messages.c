/*
 * svix messages - /api/v1/app/{app}/msg: MessageIn onto service/publish
 * (fan-out), and MessageOut reads. The payload (alias `data`) is taken from
 * the request body byte for byte; with_content=false answers `payload: {}`
 * (the 2.x SDK always sends it; the default is true, as 1.x expects).
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "core/json_scan.h"
#include "core/validate.h"
#include "service/event_types.h"
#include "service/publish.h"
#include "surface/svix/internal.h"
#include "util/clock.h"

/* MessageOut. */
json_t *svix__message_out(const struct store_event *e, bool with_content)
{
    json_t *payload = NULL;
    if (with_content && e->payload)
        payload = json_loadb(e->payload, e->payload_len, JSON_DECODE_ANY, NULL);
    return json_pack("{s:s, s:s?, s:s, s:o, s:o, s:o, s:o}", "id", e->public_id, "eventId",
                     e->producer_id, "eventType", e->event_type ? e->event_type : "", "payload",
                     payload ? payload : json_object(), "channels",
                     svix__json_or(e->channels_json, json_null()), "tags",
                     svix__json_or(e->tags_json, json_null()), "timestamp",
                     svix__time(e->created_at_ms));
}

/* MessageIn as json_scan_object reads it: the small fields parsed, the payload (or
 * `data`) left as the exact bytes sent. Like jansson, a repeated key keeps its last
 * value. */
struct msg_in {
    const char *body;
    json_t *fields; /* eventType, eventId, channels, tags, application */
    size_t payload_start, payload_end;
    bool has_payload;
};

static enum err read_member(void *ctx, const struct json_scan_member *m, struct err_detail *d)
{
    struct msg_in *in = ctx;
    static const char *const small[] = {"eventType", "eventId", "channels", "tags", "application"};
    if (json_scan_key_equals(m->key, m->key_len, "payload") ||
        json_scan_key_equals(m->key, m->key_len, "data")) {
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
        if (!v) /* json_scan accepted it: only what jansson cannot represent gets here */
            return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", small[i], "'%s' cannot be read",
                                 small[i]);
        json_object_set_new(in->fields, small[i], v);
    }
    return ERR_OK;
}

struct publish_op {
    struct service_publish_op svc;
    bool with_content;
};

/* The 202 of a publish: MessageOut written straight from the op, as svix__message_out() would give
 * it (the same members in the same order) but without a jansson tree and its dump. The
 * payload goes in as its exact bytes (valid JSON: the request's scan checked them); the
 * public id, the event id and the type need no escaping (service_publish_op_init took
 * only names: [a-zA-Z0-9._-]); channels and tags are the compact JSON text the op made of
 * them, which a parse and dump would give back unchanged. */
static char *accepted_text(const struct publish_op *x)
{
    const struct service_publish_op *p = &x->svc;
    char ts[40];
    clock_format_rfc3339(ts, sizeof(ts), p->ev.now_ms);
    const char *payload = x->with_content ? p->payload : "{}";
    size_t payload_len = x->with_content ? p->payload_len : 2;
    const char *event_id = p->producer_id ? p->producer_id : "null";
    const char *channels = p->channels_json ? p->channels_json : "null";
    const char *tags = p->tags_json ? p->tags_json : "null";
    size_t head_cap = strlen(p->ev.public_id) + strlen(event_id) + strlen(p->event_type) + 64;
    size_t tail_cap = strlen(channels) + strlen(tags) + strlen(ts) + 64;
    char *out = malloc(head_cap + payload_len + tail_cap);
    if (!out)
        abort();
    const char *quote = p->producer_id ? "\"" : "";
    int head = snprintf(out, head_cap,
                        "{\"id\":\"%s\",\"eventId\":%s%s%s,\"eventType\":\"%s\",\"payload\":",
                        p->ev.public_id, quote, event_id, quote, p->event_type);
    memcpy(out + head, payload, payload_len);
    snprintf(out + (size_t)head + payload_len, tail_cap,
             ",\"channels\":%s,\"tags\":%s,\"timestamp\":\"%s\"}", channels, tags, ts);
    return out;
}

static void publish_done(struct http_request *r)
{
    struct publish_op *x = svix__op(r);
    struct commit_op *op = &x->svc.head.op;
    if (op->result != ERR_OK)
        http__respond_err(r, op->result, &op->detail);
    else
        http__respond_json_text(r, MHD_HTTP_ACCEPTED, accepted_text(x));
    service_publish_op_release(&x->svc);
    free(x);
}

void svix__msg_create(struct http_request *r)
{
    bool with_content;
    if (!svix__query_bool(r, "with_content", true, &with_content))
        return;
    struct err_detail d = {0};
    if (r->body_too_large) {
        err_set(&d, ERR_LIMIT, "PAYLOAD_TOO_LARGE", "request body is larger than %d bytes",
                HTTP_MAX_BODY);
        http__respond_err(r, ERR_LIMIT, &d);
        return;
    }
    /* One strict scan of the body (no tree of the payload): the small fields are parsed
     * one by one, the payload stays bytes until a filter needs it. */
    struct msg_in in = {.body = r->body ? r->body : "{}", .fields = json_object()};
    size_t len = r->body ? r->body_len : 2;
    enum err e = json_scan_object(in.body, len, VALIDATE_MAX_JSON_DEPTH, read_member, &in, &d);
    if (e != ERR_OK) {
        json_decref(in.fields);
        http__respond_err(r, e, &d);
        return;
    }
    struct publish_fields f = {0};
    f.event_type = json_object_get(in.fields, "eventType");
    f.event_id = json_object_get(in.fields, "eventId");
    f.channels = json_object_get(in.fields, "channels");
    f.tags = json_object_get(in.fields, "tags");
    f.application = json_object_get(in.fields, "application");
    if (in.has_payload) {
        f.payload = in.body + in.payload_start;
        f.payload_len = in.payload_end - in.payload_start;
    }
    struct publish_op *x = calloc(1, sizeof(*x));
    if (!x)
        abort();
    x->with_content = with_content;
    e = service_publish_op_init(&x->svc, r->key.mode, r->param[0], &f,
                                r->server->deps.cfg->retention_ms, &d);
    json_decref(in.fields);
    if (e != ERR_OK) {
        free(x);
        http__respond_err(r, e, &d);
        return;
    }
    svix__defer(r, &x->svc.head, publish_done);
}

void svix__msg_get(struct http_request *r)
{
    bool with_content;
    if (!svix__query_bool(r, "with_content", true, &with_content))
        return;
    struct store_event e = {0};
    struct err_detail d = {0};
    struct store *s = http__store_acquire(r->server);
    enum err err = s ? service_event_get(s, r->key.mode, r->param[0], r->param[1], &e, &d) : ERR_IO;
    http__store_release(r->server, s);
    if (err != ERR_OK) {
        http__respond_err(r, err, &d);
        return;
    }
    http__respond_json(r, MHD_HTTP_OK, svix__message_out(&e, with_content));
    store_event_release(&e);
}

void svix__msg_list(struct http_request *r)
{
    int limit;
    const char *iterator;
    bool with_content;
    if (!svix__page(r, &limit, &iterator) ||
        !svix__query_bool(r, "with_content", true, &with_content))
        return;
    struct store_event_filter f = {.channel = http__query(r, "channel"),
                                   .tag = http__query(r, "tag")};
    if (!svix__query_time(r, "before", &f.before_ms) || !svix__query_time(r, "after", &f.after_ms))
        return;
    char *types = svix__comma_list(http__query(r, "event_types"));
    f.event_types_json = types;
    struct store_event *evs = calloc((size_t)limit, sizeof(*evs));
    if (!evs)
        abort();
    int n = 0;
    bool has_more = false;
    struct err_detail d = {0};
    struct store *s = http__store_acquire(r->server);
    enum err e = s ? service_event_list(s, r->key.mode, r->param[0], iterator, &f, limit, evs, &n,
                                        &has_more, &d)
                   : ERR_IO;
    http__store_release(r->server, s);
    free(types);
    if (e != ERR_OK) {
        free(evs);
        http__respond_err(r, e, &d);
        return;
    }
    json_t *data = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(data, svix__message_out(&evs[i], with_content));
    svix__respond_list(r, data, n ? evs[n - 1].public_id : NULL, has_more);
    for (int i = 0; i < n; i++)
        store_event_release(&evs[i]);
    free(evs);
}

struct erase_op {
    struct service_event_erase_op svc;
};

static void erase_done(struct http_request *r)
{
    struct erase_op *x = svix__op(r);
    struct commit_op *op = &x->svc.head.op;
    if (op->result != ERR_OK)
        http__respond_err(r, op->result, &op->detail);
    else
        http__respond_raw(r, MHD_HTTP_NO_CONTENT, "", 0, NULL, 0);
    service_event_erase_op_release(&x->svc);
    free(x);
}

void svix__msg_erase(struct http_request *r)
{
    struct erase_op *x = calloc(1, sizeof(*x));
    if (!x)
        abort();
    service_event_erase_op_init(&x->svc, r->key.mode, r->param[0], r->param[1]);
    svix__defer(r, &x->svc.head, erase_done);
}

/* POST .../endpoint/{ep}/send-example {eventType}: an event of that type with its
 * example payload, to that endpoint only. */
void svix__endpoint_send_example(struct http_request *r)
{
    json_t *body = svix__body(r);
    if (!body)
        return;
    struct publish_fields f = {0};
    f.event_type = json_object_get(body, "eventType");
    f.only_endpoint = r->param[1];
    struct store *s = http__store_acquire(r->server);
    char *example =
        json_is_string(f.event_type)
            ? service_event_type_example(s, r->key.mode, json_string_value(f.event_type))
            : NULL;
    http__store_release(r->server, s);
    f.payload = example;
    f.payload_len = example ? strlen(example) : 0;
    struct publish_op *x = calloc(1, sizeof(*x));
    if (!x)
        abort();
    x->with_content = true;
    struct err_detail d = {0};
    enum err e = service_publish_op_init(&x->svc, r->key.mode, r->param[0], &f,
                                         r->server->deps.cfg->retention_ms, &d);
    json_decref(body);
    free(example);
    if (e != ERR_OK) {
        free(x);
        http__respond_err(r, e, &d);
        return;
    }
    svix__defer(r, &x->svc.head, publish_done);
}

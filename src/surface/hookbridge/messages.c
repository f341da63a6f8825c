/*
 * messages - GET /v1/messages/{id} and GET /v1/messages/{id}/attempts
 * (API.md §3.2), answered from a read connection.
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "surface/hookbridge/internal.h"

#define ATTEMPTS_DEFAULT 100
#define ATTEMPTS_MAX 500

static void set_opt_int(json_t *o, const char *k, int64_t v, int64_t none)
{
    if (v != none)
        json_object_set_new(o, k, json_integer(v));
}

static void set_opt_str(json_t *o, const char *k, const char *v)
{
    if (v && v[0]) /* receiver text (response body, error) may not be UTF-8 */
        json_object_set_new(o, k, http__json_text(v));
}

static void set_opt_json(json_t *o, const char *k, const char *text)
{
    json_t *v = text ? json_loads(text, 0, NULL) : NULL;
    if (v)
        json_object_set_new(o, k, v);
}

json_t *hookbridge__render_message(const struct store_message *m)
{
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:s, s:I, s:s, s:o, s:o}", "id", m->id,
                  "project_id", "default", "endpoint_id", m->endpoint_id, "status",
                  store_status_name(m->status), "attempt_count", m->attempt_count, "replay_count",
                  m->replay_count, "content_type", m->content_type, "size_bytes",
                  (json_int_t)m->size_bytes, "payload_sha256", m->payload_sha256, "created_at",
                  http__time(m->created_at_ms), "updated_at", http__time(m->updated_at_ms));
    set_opt_str(o, "idempotency_key", m->idempotency_key);
    if (m->next_attempt_at_ms)
        json_object_set_new(o, "next_attempt_at", http__time(m->next_attempt_at_ms));
    set_opt_str(o, "last_error", m->last_error);
    set_opt_int(o, "response_status", m->response_status, 0);
    set_opt_int(o, "response_latency_ms", m->response_latency_ms, -1);
    if (m->delivered_at_ms)
        json_object_set_new(o, "delivered_at", http__time(m->delivered_at_ms));
    if (m->failed_at_ms)
        json_object_set_new(o, "failed_at", http__time(m->failed_at_ms));
    return o;
}

void hookbridge__messages_get(struct http_request *r)
{
    const char *id = r->param[0];
    struct store_message m;
    struct err_detail d = {0};
    struct store *s = http__store_acquire(r->server);
    enum err e = s ? store_message_get(s, r->key.mode, id, &m, &d) : ERR_IO;
    http__store_release(r->server, s);
    if (e != ERR_OK) {
        http__respond_err(r, e, &d);
        return;
    }
    http__respond_data(r, MHD_HTTP_OK, hookbridge__render_message(&m), NULL);
    store_message_release(&m);
}

/* GET /v1/messages/{id}/payload (hookd's addition, docs/api.md): what was sent, for the
 * console. {content_type, size_bytes, payload} where payload is the JSON value when the
 * bytes are JSON, else payload_text holds them (UTF-8 made valid). 410
 * PAYLOAD_UNAVAILABLE once retention removed it. */
void hookbridge__messages_payload(struct http_request *r)
{
    const char *id = r->param[0];
    struct store_message m;
    struct store_delivery dl = {0};
    struct err_detail d = {0};
    struct store *s = http__store_acquire(r->server);
    enum err e = s ? store_message_get(s, r->key.mode, id, &m, &d) : ERR_IO;
    int64_t size = 0;
    if (e == ERR_OK) {
        size = m.size_bytes;
        store_message_release(&m);
        e = store_delivery_load(s, id, &dl, &d);
    }
    http__store_release(r->server, s);
    /* a purged payload reads as none, or as no bytes of a message that had some */
    if (e == ERR_OK && (!dl.payload || (dl.payload_len == 0 && size > 0))) {
        store_delivery_release(&dl);
        http__respond_error(r, MHD_HTTP_GONE, "PAYLOAD_UNAVAILABLE",
                            "the payload of message '%s' is no longer kept (retention)", id);
        return;
    }
    if (e != ERR_OK) {
        store_delivery_release(&dl);
        http__respond_err(r, e, &d);
        return;
    }
    json_t *out = json_pack("{s:s, s:I}", "content_type", dl.content_type ? dl.content_type : "",
                            "size_bytes", (json_int_t)dl.payload_len);
    json_t *v = json_loadb(dl.payload, dl.payload_len, JSON_DECODE_ANY, NULL);
    if (v)
        json_object_set_new(out, "payload", v);
    else
        json_object_set_new(out, "payload_text", http__json_text(dl.payload));
    store_delivery_release(&dl);
    http__respond_data(r, MHD_HTTP_OK, out, NULL);
}

static json_t *render_attempt(const struct store_attempt *a)
{
    json_t *o = json_pack("{s:s, s:i, s:o, s:b, s:b}", "id", a->id, "attempt_no", a->attempt_no,
                          "created_at", http__time(a->created_at_ms), "conn_reused", a->conn_reused,
                          "response_body_truncated", a->response_body_truncated);
    set_opt_int(o, "response_status", a->response_status, 0);
    set_opt_int(o, "response_latency_ms", a->latency_ms, -1);
    set_opt_str(o, "error_text", a->error_text);
    set_opt_str(o, "retry_type", a->retry_type);
    set_opt_int(o, "retry_after_seconds", a->retry_after_seconds, -1);
    set_opt_str(o, "resolved_ip", a->resolved_ip);
    set_opt_str(o, "response_body", a->response_body);
    set_opt_json(o, "response_headers", a->response_headers_json);
    set_opt_json(o, "request_headers", a->request_headers_json);
    set_opt_int(o, "dns_ms", a->dns_ms, -1);
    set_opt_int(o, "tcp_connect_ms", a->tcp_connect_ms, -1);
    set_opt_int(o, "tls_handshake_ms", a->tls_handshake_ms, -1);
    set_opt_int(o, "ttfb_ms", a->ttfb_ms, -1);
    set_opt_int(o, "transfer_ms", a->transfer_ms, -1);
    return o;
}

void hookbridge__messages_attempts(struct http_request *r)
{
    const char *id = r->param[0];
    int limit;
    if (!http__parse_limit(r, ATTEMPTS_DEFAULT, ATTEMPTS_MAX, &limit))
        return;
    const char *cursor = http__query(r, "cursor");
    if (cursor && !id_is_uuid(cursor)) {
        http__respond_error(r, MHD_HTTP_BAD_REQUEST, "INVALID_REQUEST",
                            "'cursor' is not a cursor of this list");
        return;
    }
    struct store_message m;
    struct err_detail d = {0};
    struct store *s = http__store_acquire(r->server);
    if (!s) {
        http__respond_err(r, ERR_IO, NULL);
        return;
    }
    /* The message lookup enforces the key's mode partition. */
    enum err e = store_message_get(s, r->key.mode, id, &m, &d);
    struct store_attempt *atts = NULL;
    int n = 0;
    bool has_more = false;
    if (e == ERR_OK) {
        store_message_release(&m);
        atts = calloc((size_t)limit, sizeof(*atts));
        if (!atts)
            abort();
        e = store_attempt_list(s, id, cursor ? cursor : "", limit, atts, &n, &has_more, &d);
    }
    http__store_release(r->server, s);
    if (e != ERR_OK) {
        free(atts);
        http__respond_err(r, e, &d);
        return;
    }
    json_t *arr = json_array();
    char last[ID_MAX] = "";
    for (int i = 0; i < n; i++) {
        json_array_append_new(arr, render_attempt(&atts[i]));
        snprintf(last, sizeof(last), "%s", atts[i].id);
        store_attempt_release(&atts[i]);
    }
    free(atts);
    http__respond_data(r, MHD_HTTP_OK, arr, http__page_meta(has_more, last));
}

/*
 * hookbase router - /api/... routes (but /api/v1, Svix's), Hookbase's error
 * body, and the envelopes and lists every Hookbase route shares (TENANCY.md
 * §6). Lists accept limit, offset and cursor and answer both of Hookbase's
 * list shapes at once.
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "surface/hookbase/internal.h"
#include "util/clock.h"

static const struct http_route routes[] = {
    {"POST", "webhook-applications", hookbase__app_create},
    {"GET", "webhook-applications", hookbase__app_list},
    {"PUT", "webhook-applications", hookbase__app_upsert},
    {"PUT", "webhook-applications/upsert", hookbase__app_upsert},
    {"GET", "webhook-applications/by-external-id/:uid", hookbase__app_by_external_id},
    {"GET", "webhook-applications/:id", hookbase__app_get},
    {"PATCH", "webhook-applications/:id", hookbase__app_patch},
    {"DELETE", "webhook-applications/:id", hookbase__app_delete},
    {"POST", "event-types", hookbase__event_type_create},
    {"GET", "event-types", hookbase__event_type_list},
    {"GET", "event-types/:id", hookbase__event_type_get},
    {"PATCH", "event-types/:id", hookbase__event_type_patch},
    {"DELETE", "event-types/:id", hookbase__event_type_delete},
    {"POST", "webhook-endpoints", hookbase__endpoint_create},
    {"GET", "webhook-endpoints", hookbase__endpoint_list},
    {"GET", "webhook-endpoints/:id", hookbase__endpoint_get},
    {"PATCH", "webhook-endpoints/:id", hookbase__endpoint_patch},
    {"DELETE", "webhook-endpoints/:id", hookbase__endpoint_delete},
    {"POST", "webhook-endpoints/:id/rotate-secret", hookbase__endpoint_rotate},
    {"POST", "webhook-endpoints/:id/reset-circuit", hookbase__endpoint_reset_circuit},
    {"POST", "webhook-endpoints/:id/test", hookbase__endpoint_test},
    {"POST", "webhook-endpoints/:id/verify", hookbase__endpoint_verify},
    {"POST", "webhook-subscriptions", hookbase__subscription_create},
    {"GET", "webhook-subscriptions", hookbase__subscription_list},
    {"POST", "webhook-subscriptions/bulk", hookbase__subscription_bulk},
    {"GET", "webhook-subscriptions/:id", hookbase__subscription_get},
    {"PATCH", "webhook-subscriptions/:id", hookbase__subscription_patch},
    {"DELETE", "webhook-subscriptions/:id", hookbase__subscription_delete},
    {"POST", "send-event", hookbase__send_event},
    {"GET", "outbound-messages", hookbase__outbound_list},
    {"GET", "outbound-messages/:id", hookbase__outbound_get},
    {"GET", "outbound-messages/:id/attempts", hookbase__outbound_attempts},
    {"POST", "outbound-messages/:id/replay", hookbase__outbound_replay},
    {"POST", "portal/webhook-applications/:app/tokens", hookbase__token_create},
    {"POST", "portal/webhook-applications/:app/magic-link", hookbase__magic_link},
    {"GET", "portal/webhook-applications/:app/tokens", hookbase__token_list},
    {"DELETE", "portal/tokens/:id", hookbase__token_revoke},
};

/* The wire name of a domain field (err_detail.field) in Hookbase's bodies. */
static const char *wire_field(const char *field, char *buf, size_t len)
{
    static const struct {
        const char *domain, *wire;
    } special[] = {{"uid", "externalId"},           {"event_types", "filterTypes"},
                   {"rate_limit_rps", "rateLimit"}, {"schemas", "schema"},
                   {"disabled", "isDisabled"},      {"archived", "isEnabled"},
                   {"event_id", "eventId"},         {"expiry", "expiresInDays"}};
    for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
        if (!strcmp(field, special[i].domain))
            return special[i].wire;
    return http__camel_case(field, buf, len);
}

void hookbase__render_error(struct http_request *r, unsigned status, const char *code,
                            const char *msg)
{
    r->render_error = NULL; /* answer once, in this shape */
    if (!strcmp(code, "PAYLOAD_TOO_LARGE"))
        status = MHD_HTTP_CONTENT_TOO_LARGE;
    const char *hb_code = code;
    switch (status) {
    case MHD_HTTP_BAD_REQUEST:
        hb_code = "VALIDATION_ERROR";
        break;
    case MHD_HTTP_UNAUTHORIZED:
        hb_code = "UNAUTHORIZED";
        break;
    case MHD_HTTP_FORBIDDEN:
        hb_code = "FORBIDDEN";
        break;
    case MHD_HTTP_NOT_FOUND:
        hb_code = "NOT_FOUND";
        break;
    case MHD_HTTP_CONFLICT:
        hb_code = "CONFLICT";
        break;
    case MHD_HTTP_TOO_MANY_REQUESTS:
        hb_code = "RATE_LIMITED";
        break;
    default:
        break;
    }
    json_t *err = json_pack("{s:s, s:s}", "message", msg, "code", hb_code);
    if (status == MHD_HTTP_BAD_REQUEST && r->error_field[0]) {
        char buf[64];
        const char *field = wire_field(r->error_field, buf, sizeof(buf));
        json_object_set_new(err, "validationErrors",
                            json_pack("[{s:s, s:s}]", "field", field, "message", msg));
    }
    http__respond_json(r, status, json_pack("{s:o}", "error", err));
}

bool hookbase_owns(const struct http_request *r)
{
    if (r->nseg >= 2 && !strcmp(r->seg[0], "api"))
        return strcmp(r->seg[1], "v1") != 0;
    return r->nseg >= 1 && !strcmp(r->seg[0], "portal");
}

void hookbase_claim(struct http_request *r)
{
    if (hookbase_owns(r))
        r->render_error = hookbase__render_error;
}

/* What a portal token may do under /api: nothing (its routes are /portal/...). */
void hookbase_route(struct http_request *r)
{
    r->render_error = hookbase__render_error;
    http__cors(r);
    if (!strcmp(r->method, "OPTIONS")) { /* a preflight: answered without a key */
        static const struct http_header h[] = {
            {"Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE"},
            {"Access-Control-Allow-Headers", "Authorization, Content-Type, Idempotency-Key, "
                                             "x-api-key"},
            {"Access-Control-Max-Age", "600"}};
        http__respond_raw(r, MHD_HTTP_NO_CONTENT, "", 0, h, sizeof(h) / sizeof(h[0]));
        return;
    }
    if (!http__authenticate(r))
        return;
    if (r->portal) {
        http__respond_error(r, MHD_HTTP_FORBIDDEN, "FORBIDDEN",
                            "a portal token may use /portal/... only, not %s", r->url);
        return;
    }
    char key[STORE_IDEM_KEY_MAX + 1], sha[65];
    if (!http__idempotency(r, key, sizeof(key), sha))
        return;
    http__dispatch(r, 1, routes, sizeof(routes) / sizeof(routes[0]));
}

/* ---- shared by the route files ---- */

void hookbase__respond_data(struct http_request *r, unsigned status, json_t *data)
{
    http__respond_json(r, status, json_pack("{s:o}", "data", data ? data : json_null()));
}

void hookbase__respond_no_content(struct http_request *r)
{
    http__respond_raw(r, MHD_HTTP_NO_CONTENT, "", 0, NULL, 0);
}

static bool bad_query(struct http_request *r, const char *name, const char *what)
{
    snprintf(r->error_field, sizeof(r->error_field), "%s", name);
    http__respond_error(r, MHD_HTTP_BAD_REQUEST, "INVALID_REQUEST", "'%s' must be %s", name, what);
    return false;
}

bool hookbase__page(struct http_request *r, struct hookbase_page *p)
{
    p->limit = HOOKBASE_LIST_DEFAULT;
    p->offset = 0;
    p->cursor = http__query(r, "cursor");
    if (p->cursor && !*p->cursor)
        p->cursor = NULL;
    const char *v = http__query(r, "limit");
    char *end;
    if (v) {
        long n = strtol(v, &end, 10);
        if (!*v || *end || n < 1 || n > SERVICE_PAGE_MAX)
            return bad_query(r, "limit", "an integer from 1 to 250");
        p->limit = (int)n;
    }
    if ((v = http__query(r, "offset"))) {
        long n = strtol(v, &end, 10);
        if (!*v || *end || n < 0 || n > HOOKBASE_SCAN_MAX)
            return bad_query(r, "offset", "an integer from 0 to 10000");
        p->offset = n;
    }
    return true;
}

void hookbase__respond_page(struct http_request *r, json_t *all, const struct hookbase_page *p,
                            void (*enrich)(struct http_request *r, json_t *item))
{
    size_t total = json_array_size(all), start = (size_t)p->offset;
    if (p->cursor) { /* the item after the one named (an unknown cursor: from the start) */
        for (size_t i = 0; i < total; i++) {
            const char *id = json_string_value(json_object_get(json_array_get(all, i), "id"));
            if (id && !strcmp(id, p->cursor)) {
                start = i + 1;
                break;
            }
        }
    }
    json_t *data = json_array();
    for (size_t i = start; i < total && json_array_size(data) < (size_t)p->limit; i++) {
        json_t *item = json_array_get(all, i);
        if (enrich)
            enrich(r, item);
        json_array_append(data, item);
    }
    size_t n = json_array_size(data);
    bool more = start + n < total;
    json_t *next =
        more && n ? json_incref(json_object_get(json_array_get(data, n - 1), "id")) : json_null();
    json_t *root = json_pack("{s:o, s:{s:b, s:O}, s:I, s:i, s:I, s:b}", "data", data, "pagination",
                             "hasMore", more, "nextCursor", next, "total", (json_int_t)total,
                             "limit", p->limit, "offset", (json_int_t)start, "hasMore", more);
    json_decref(next);
    json_decref(all);
    http__respond_json(r, MHD_HTTP_OK, root);
}

json_t *hookbase__body(struct http_request *r)
{
    struct err_detail d = {0};
    json_t *body = http__parse_body(r, true, &d);
    if (!body) {
        http__respond_err(
            r, d.code[0] && !strcmp(d.code, "PAYLOAD_TOO_LARGE") ? ERR_LIMIT : ERR_INVAL, &d);
        return NULL;
    }
    if (json_is_null(body)) {
        json_decref(body);
        body = json_object();
    }
    if (!json_is_object(body)) {
        json_decref(body);
        http__respond_error(r, MHD_HTTP_BAD_REQUEST, "INVALID_REQUEST",
                            "the request body must be a JSON object");
        return NULL;
    }
    return body;
}

bool hookbase__query_bool(struct http_request *r, const char *name, bool *has, bool *out)
{
    const char *v = http__query(r, name);
    *has = v != NULL;
    *out = false;
    if (!v)
        return true;
    if (!strcmp(v, "true") || !strcmp(v, "false")) {
        *out = v[0] == 't';
        return true;
    }
    return bad_query(r, name, "true or false");
}

void hookbase__defer(struct http_request *r, struct service_op *op, http_resume_fn fn)
{
    /* the route has refused a key that does not fit: this cannot fail */
    http__idempotency(r, op->idem.key, sizeof(op->idem.key), op->idem.request_sha256);
    http__defer(r, op, fn);
}

json_t *hookbase__time(int64_t unix_ms)
{
    return http__time(unix_ms);
}

json_t *hookbase__json_or(const char *text, json_t *fallback)
{
    json_t *v = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
    if (v) {
        json_decref(fallback);
        return v;
    }
    return fallback;
}

bool hookbase__contains(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (!strncasecmp(hay, needle, n))
            return true;
    return !n;
}

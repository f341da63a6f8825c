/*
 * svix router - /api/v1 routes, Svix's error bodies, and the envelopes and
 * iterators every Svix route shares (TENANCY.md §5).
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/applications.h"
#include "surface/svix/internal.h"
#include "util/clock.h"

static void health(struct http_request *r)
{
    http__respond_raw(r, MHD_HTTP_NO_CONTENT, "", 0, NULL, 0);
}

static const struct http_route routes[] = {
    {"GET", "health", health},
    {"HEAD", "health", health},
    {"POST", "app", svix__app_create},
    {"GET", "app", svix__app_list},
    {"GET", "app/:app", svix__app_get},
    {"PUT", "app/:app", svix__app_replace},
    {"PATCH", "app/:app", svix__app_patch},
    {"DELETE", "app/:app", svix__app_delete},
    {"POST", "app/:app/endpoint", svix__endpoint_create},
    {"GET", "app/:app/endpoint", svix__endpoint_list},
    {"GET", "app/:app/endpoint/:ep", svix__endpoint_get},
    {"PUT", "app/:app/endpoint/:ep", svix__endpoint_replace},
    {"PATCH", "app/:app/endpoint/:ep", svix__endpoint_patch},
    {"DELETE", "app/:app/endpoint/:ep", svix__endpoint_delete},
    {"GET", "app/:app/endpoint/:ep/secret", svix__endpoint_secret},
    {"POST", "app/:app/endpoint/:ep/secret/rotate", svix__endpoint_secret_rotate},
    {"GET", "app/:app/endpoint/:ep/headers", svix__endpoint_headers_get},
    {"PUT", "app/:app/endpoint/:ep/headers", svix__endpoint_headers_set},
    {"PATCH", "app/:app/endpoint/:ep/headers", svix__endpoint_headers_patch},
    {"GET", "app/:app/endpoint/:ep/stats", svix__endpoint_stats},
    {"POST", "app/:app/msg", svix__msg_create},
    {"GET", "app/:app/msg", svix__msg_list},
    {"GET", "app/:app/msg/:msg", svix__msg_get},
    {"GET", "app/:app/attempt/msg/:msg", svix__attempts_by_msg},
    {"GET", "app/:app/msg/:msg/attempt/:attempt", svix__attempt_get},
    {"GET", "app/:app/msg/:msg/endpoint", svix__msg_destinations},
    {"POST", "app/:app/msg/:msg/endpoint/:ep/resend", svix__msg_resend},
    {"DELETE", "app/:app/msg/:msg/content", svix__msg_erase},
    {"POST", "app/:app/endpoint/:ep/send-example", svix__endpoint_send_example},
    {"POST", "app/:app/endpoint/:ep/recover", svix__endpoint_recover},
    {"POST", "auth/app-portal-access/:app", svix__app_portal_access},
    {"GET", "app/:app/attempt/endpoint/:ep", svix__attempts_by_endpoint},
    {"GET", "app/:app/endpoint/:ep/msg", svix__endpoint_messages},
    {"POST", "event-type", svix__event_type_create},
    {"GET", "event-type", svix__event_type_list},
    {"GET", "event-type/:name", svix__event_type_get},
    {"PUT", "event-type/:name", svix__event_type_replace},
    {"PATCH", "event-type/:name", svix__event_type_patch},
    {"DELETE", "event-type/:name", svix__event_type_delete},
};

/* The wire name of a domain field (err_detail.field) in Svix's bodies. */
static const char *wire_field(const char *field, char *buf, size_t len)
{
    static const struct {
        const char *domain, *wire;
    } special[] = {{"category", "groupName"},
                   {"event_types", "eventTypes"},
                   {"rate_limit_rps", "throttleRate"}};
    for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
        if (!strcmp(field, special[i].domain))
            return special[i].wire;
    return http__camel_case(field, buf, len);
}

/* A query parameter as r->error_field: "query:<name>" (names stay as sent). */
#define QUERY_FIELD "query:"

/* Svix's error bodies: {code, detail}, or 422 {detail: [{loc, msg, type}]} when
 * the fault is a field of the body or query. */
static void render_error(struct http_request *r, unsigned status, const char *code, const char *msg)
{
    r->render_error = NULL; /* answer once, in this shape */
    if (status == MHD_HTTP_BAD_REQUEST && r->error_field[0]) {
        /* query parameters keep their names as sent ("query:<name>", or a name below
         * that the store or service sets); body fields are camelCase */
        static const char *const query_fields[] = {
            "limit",        "iterator",         "order",   "before",       "after",
            "with_content", "include_archived", "expunge", "get_if_exists"};
        bool query = !strncmp(r->error_field, QUERY_FIELD, strlen(QUERY_FIELD));
        const char *name = query ? r->error_field + strlen(QUERY_FIELD) : r->error_field;
        for (size_t i = 0; !query && i < sizeof(query_fields) / sizeof(query_fields[0]); i++)
            query = !strcmp(name, query_fields[i]);
        char buf[64];
        const char *field = query ? name : wire_field(name, buf, sizeof(buf));
        const char *where = query ? "query" : "body";
        if (!strcmp(name, "idempotency_key")) { /* the Idempotency-Key header */
            where = "header";
            field = "idempotency-key";
        }
        json_t *item = json_pack("{s:[s,s], s:s, s:s}", "loc", where, field, "msg", msg, "type",
                                 "value_error");
        http__respond_json(r, 422, json_pack("{s:[o]}", "detail", item));
        return;
    }
    const char *svix_code;
    switch (status) {
    case MHD_HTTP_UNAUTHORIZED:
        svix_code = "authentication_failed";
        break;
    case MHD_HTTP_FORBIDDEN:
        svix_code = "insufficient_access";
        break;
    case MHD_HTTP_NOT_FOUND:
        svix_code = "not_found";
        break;
    case MHD_HTTP_METHOD_NOT_ALLOWED:
        svix_code = "method_not_allowed";
        break;
    case MHD_HTTP_CONFLICT:
        svix_code = "conflict";
        break;
    case MHD_HTTP_TOO_MANY_REQUESTS:
        svix_code = "rate_limited";
        break;
    default:
        svix_code = status >= 500 ? "server_error" : "generic_error";
    }
    if (!strcmp(code, "PAYLOAD_TOO_LARGE")) {
        status = MHD_HTTP_CONTENT_TOO_LARGE;
        svix_code = "payload_too_large";
    }
    http__respond_json(r, status, json_pack("{s:s, s:s}", "code", svix_code, "detail", msg));
}

/* What a portal token may do here (TENANCY.md §4): read the event types, list its own
 * application, and work inside it (writing only with the write scope); everything
 * else (other applications, making or changing applications, event-type writes,
 * portal access) is 403. True when the request may go on; false after answering. */
static bool portal_allows(struct http_request *r)
{
    if (!r->portal)
        return true;
    bool read = !strcmp(r->method, "GET") || !strcmp(r->method, "HEAD");
    const char *top = r->nseg > 2 ? r->seg[2] : "";
    bool ok = false;
    if (!strcmp(top, "health") || (!strcmp(top, "event-type") && read)) {
        ok = true;
    } else if (!strcmp(top, "app") && r->nseg == 3) {
        ok = read; /* the list shows its own application only */
    } else if (!strcmp(top, "app") && r->nseg >= 4 && (r->nseg > 4 || read)) {
        struct store_application a = {0};
        struct store *s = http__store_acquire(r->server);
        bool mine = s && service_app_get(s, r->key.mode, r->seg[3], &a, NULL) == ERR_OK &&
                    !strcmp(a.id, r->portal_app);
        http__store_release(r->server, s);
        store_application_release(&a);
        ok = mine && (read || r->portal_write);
    }
    if (!ok)
        http__respond_error(r, MHD_HTTP_FORBIDDEN, "FORBIDDEN", "this portal token may not %s %s",
                            r->method, r->url);
    return ok;
}

void svix_claim(struct http_request *r)
{
    if (r->nseg >= 2 && !strcmp(r->seg[0], "api") && !strcmp(r->seg[1], "v1"))
        r->render_error = render_error;
}

void svix_route(struct http_request *r)
{
    r->render_error = render_error;
    http__cors(r);
    if (!strcmp(r->method, "OPTIONS")) { /* a preflight: answered without a token */
        static const struct http_header h[] = {
            {"Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE"},
            {"Access-Control-Allow-Headers",
             "Authorization, Content-Type, Idempotency-Key, svix-req-id"},
            {"Access-Control-Max-Age", "600"}};
        http__respond_raw(r, MHD_HTTP_NO_CONTENT, "", 0, h, sizeof(h) / sizeof(h[0]));
        return;
    }
    if (!http__authenticate(r))
        return;
    char key[STORE_IDEM_KEY_MAX + 1], sha[65];
    if (!portal_allows(r) || !http__idempotency(r, key, sizeof(key), sha))
        return;
    http__dispatch(r, 2, routes, sizeof(routes) / sizeof(routes[0]));
}

/* ---- shared by the route files ---- */

void svix__respond_list(struct http_request *r, json_t *data, const char *last_id, bool has_more)
{
    json_t *it = has_more && last_id ? json_string(last_id) : json_null();
    http__respond_json(r, MHD_HTTP_OK,
                       json_pack("{s:o, s:o, s:n, s:b}", "data", data, "iterator", it,
                                 "prevIterator", "done", !has_more));
}

json_t *svix__body(struct http_request *r)
{
    struct err_detail d = {0};
    json_t *body = http__parse_body(r, true, &d);
    if (!body) {
        http__respond_err(
            r, d.code[0] && !strcmp(d.code, "PAYLOAD_TOO_LARGE") ? ERR_LIMIT : ERR_INVAL, &d);
        return NULL;
    }
    if (!json_is_object(body)) {
        json_decref(body);
        http__respond_error(r, MHD_HTTP_BAD_REQUEST, "INVALID_REQUEST",
                            "the request body must be a JSON object");
        return NULL;
    }
    return body;
}

bool svix__page(struct http_request *r, int *limit, const char **iterator)
{
    const char *ls = http__query(r, "limit");
    *limit = SVIX_LIST_DEFAULT;
    if (ls) {
        char *end;
        long n = strtol(ls, &end, 10);
        if (!*ls || *end || n < 1 || n > SERVICE_PAGE_MAX) {
            snprintf(r->error_field, sizeof(r->error_field), "limit");
            http__respond_error(r, MHD_HTTP_BAD_REQUEST, "INVALID_REQUEST",
                                "'limit' must be an integer from 1 to %d", SERVICE_PAGE_MAX);
            return false;
        }
        *limit = (int)n;
    }
    *iterator = http__query(r, "iterator");
    return true;
}

bool svix__order(struct http_request *r, bool *descending)
{
    const char *order = http__query(r, "order");
    *descending = order && !strcmp(order, "descending");
    if (!order || *descending || !strcmp(order, "ascending"))
        return true;
    snprintf(r->error_field, sizeof(r->error_field), QUERY_FIELD "order");
    http__respond_error(r, MHD_HTTP_BAD_REQUEST, "INVALID_REQUEST",
                        "'order' must be ascending or descending");
    return false;
}

bool svix__query_bool(struct http_request *r, const char *name, bool def, bool *out)
{
    const char *v = http__query(r, name);
    *out = def;
    if (!v)
        return true;
    if (!strcmp(v, "true") || !strcmp(v, "false")) {
        *out = v[0] == 't';
        return true;
    }
    snprintf(r->error_field, sizeof(r->error_field), QUERY_FIELD "%s", name);
    http__respond_error(r, MHD_HTTP_BAD_REQUEST, "INVALID_REQUEST", "'%s' must be true or false",
                        name);
    return false;
}

json_t *svix__time(int64_t unix_ms)
{
    char buf[40];
    clock_format_rfc3339(buf, sizeof(buf), unix_ms);
    return json_string(buf);
}

json_t *svix__json_or(const char *text, json_t *fallback)
{
    json_t *v = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
    if (v) {
        json_decref(fallback);
        return v;
    }
    return fallback;
}

/* "a,b" (how the SDKs send arrays) as a JSON array text; NULL for absent. */
char *svix__comma_list(const char *v)
{
    if (!v || !*v)
        return NULL;
    json_t *arr = json_array();
    const char *p = v;
    while (*p) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        if (n)
            json_array_append_new(arr, json_stringn(p, n));
        p += n + (c ? 1 : 0);
    }
    char *t = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    return t;
}

/* A query time (RFC 3339) into *ms (0 when absent); false after answering 422. */
bool svix__query_time(struct http_request *r, const char *name, int64_t *ms)
{
    const char *v = http__query(r, name);
    *ms = 0;
    if (!v || clock_parse_rfc3339(v, ms))
        return true;
    snprintf(r->error_field, sizeof(r->error_field), "%s", name);
    http__respond_error(r, MHD_HTTP_BAD_REQUEST, "INVALID_REQUEST", "'%s' must be an RFC 3339 time",
                        name);
    return false;
}

void svix__defer(struct http_request *r, struct service_op *op, http_resume_fn fn)
{
    /* svix_route has refused a key that does not fit: this cannot fail */
    http__idempotency(r, op->idem.key, sizeof(op->idem.key), op->idem.request_sha256);
    http__defer(r, op, fn);
}

/*
 * respond - JSON envelopes of API.md §2 (see internal.h). Every message that
 * may carry request bytes is made valid UTF-8 here, and a document that cannot
 * be built becomes a fixed 500 envelope: no response path aborts.
 * SPDX-License-Identifier: MIT
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/internal.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/utf8.h"

/* The answer when no JSON document can be built: constant, valid, never fails. */
static void respond_fixed_500(struct http_request *r)
{
    char body[160];
    int n = snprintf(body, sizeof(body),
                     "{\"error\":{\"code\":\"INTERNAL_ERROR\",\"message\":\"internal error "
                     "(request %s)\"},\"meta\":{\"request_id\":\"%s\"}}",
                     r->request_id, r->request_id);
    const struct http_header h[] = {{MHD_HTTP_HEADER_CONTENT_TYPE, "application/json"},
                                    {"X-Request-Id", r->request_id}};
    http__respond_raw(r, MHD_HTTP_INTERNAL_SERVER_ERROR, body, (size_t)n, h, 2);
}

void http__respond_json(struct http_request *r, unsigned status, json_t *root)
{
    if (r->abandoned) {
        json_decref(root);
        return;
    }
    char *text = root ? json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;
    json_decref(root);
    if (!text) {
        /* A bug (a NULL member in a json_pack, a string that is not UTF-8):
         * log it and answer 500 rather than take the server down. */
        log_error("api", "request_id=%s cannot build the %u JSON response", r->request_id, status);
        respond_fixed_500(r);
        return;
    }
    http__respond_json_text(r, status, text);
}

void http__respond_json_text(struct http_request *r, unsigned status, char *text)
{
    if (r->abandoned) {
        free(text);
        return;
    }
    struct http_header h[8];
    size_t n = 0;
    char limit[24], remaining[24], reset[24], retry[24];
    h[n++] = (struct http_header){MHD_HTTP_HEADER_CONTENT_TYPE, "application/json"};
    h[n++] = (struct http_header){"X-Request-Id", r->request_id};
    if (r->has_rate) { /* authenticated /v1 request under an API rate limit (ratelimit.c) */
        snprintf(limit, sizeof(limit), "%lld", (long long)r->rate_limit);
        snprintf(remaining, sizeof(remaining), "%lld", (long long)r->rate_remaining);
        snprintf(reset, sizeof(reset), "%lld", (long long)r->rate_reset_unix);
        h[n++] = (struct http_header){"X-RateLimit-Limit", limit};
        h[n++] = (struct http_header){"X-RateLimit-Remaining", remaining};
        h[n++] = (struct http_header){"X-RateLimit-Reset", reset};
    }
    if (r->retry_after_s > 0) {
        snprintf(retry, sizeof(retry), "%lld", (long long)r->retry_after_s);
        h[n++] = (struct http_header){MHD_HTTP_HEADER_RETRY_AFTER, retry};
    }
    if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
        h[n++] = (struct http_header){MHD_HTTP_HEADER_CONNECTION, "close"};
    http__respond_take(r, status, text, strlen(text), h, n);
}

void http__respond_data(struct http_request *r, unsigned status, json_t *data, json_t *extra_meta)
{
    json_t *meta = extra_meta ? extra_meta : json_object();
    json_object_set_new(meta, "request_id", json_string(r->request_id));
    http__respond_json(r, status, json_pack("{s:o, s:o}", "data", data, "meta", meta));
}

void http__respond_error(struct http_request *r, unsigned status, const char *code, const char *fmt,
                         ...)
{
    char raw[512], msg[600];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(raw, sizeof(raw), fmt, ap);
    va_end(ap);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof(raw) ? (size_t)n : sizeof(raw) - 1;
    if (n >= (int)sizeof(raw)) /* truncated: do not leave half a character behind */
        len = utf8_trim_partial(raw, len);
    /* Request bytes may be in the message: make it valid UTF-8 for JSON. */
    utf8_sanitize(msg, sizeof(msg), raw, len);
    char safe_code[48];
    utf8_sanitize(safe_code, sizeof(safe_code), code, strlen(code));
    if (status >= 500)
        log_error("api", "request_id=%s status=%u code=%s: %s", r->request_id, status, safe_code,
                  msg);
    if (r->render_error) {
        r->render_error(r, status, safe_code, msg);
        return;
    }
    json_t *err = json_pack("{s:s, s:s}", "code", safe_code, "message", msg);
    json_t *meta = json_pack("{s:s}", "request_id", r->request_id);
    http__respond_json(r, status, json_pack("{s:o, s:o}", "error", err, "meta", meta));
}

void http__respond_err(struct http_request *r, enum err e, const struct err_detail *d)
{
    unsigned status;
    const char *code;
    switch (e) {
    case ERR_INVAL:
    case ERR_LIMIT:
        status = MHD_HTTP_BAD_REQUEST;
        code = "INVALID_REQUEST";
        break;
    case ERR_NOTFOUND:
        status = MHD_HTTP_NOT_FOUND;
        code = "NOT_FOUND";
        break;
    case ERR_CONFLICT:
        status = MHD_HTTP_CONFLICT;
        code = "CONFLICT";
        break;
    case ERR_BUSY:
    case ERR_TIMEOUT:
        status = MHD_HTTP_SERVICE_UNAVAILABLE;
        code = "UNAVAILABLE";
        break;
    default:
        status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        code = "INTERNAL_ERROR";
        break;
    }
    if (d && d->code[0] && status < 500)
        code = d->code;
    snprintf(r->error_field, sizeof(r->error_field), "%s", d && status < 500 ? d->field : "");
    if (status >= 500) /* never leak SQLite detail to clients; it is logged */
        http__respond_error(r, status, code, "%s (request %s)",
                            status == 503 ? "the store is busy, retry shortly" : "internal error",
                            r->request_id);
    else
        http__respond_error(r, status, code, "%s", d && d->msg[0] ? d->msg : err_str(e));
    if (status >= 500 && d)
        log_error("api", "request_id=%s detail: %s", r->request_id, d->msg);
}

json_t *http__time(int64_t unix_ms)
{
    if (unix_ms == 0)
        return json_null();
    char buf[40];
    clock_format_rfc3339(buf, sizeof(buf), unix_ms);
    return json_string(buf);
}

json_t *http__json_text(const char *s)
{
    if (!s)
        return json_null();
    json_t *j = json_string(s);
    if (j)
        return j;
    size_t len = strlen(s), cap = len * 3 + 1; /* each byte may become U+FFFD */
    char *buf = malloc(cap);
    if (!buf)
        abort();
    size_t n = utf8_sanitize(buf, cap, s, len);
    j = json_stringn(buf, n);
    free(buf);
    return j ? j : json_null();
}

const char *http__camel_case(const char *field, char *buf, size_t len)
{
    size_t o = 0;
    for (const char *p = field; *p && o + 1 < len; p++) {
        if (*p == '_' && p[1]) {
            p++;
            buf[o++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
        } else {
            buf[o++] = *p;
        }
    }
    buf[o] = '\0';
    return buf;
}

/* respond - JSON envelopes of API.md §2 (see internal.h). SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "util/clock.h"
#include "util/log.h"

void api__respond_json(struct api_request *r, unsigned status, json_t *root)
{
    if (r->abandoned) {
        json_decref(root);
        return;
    }
    char *text = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(6));
    json_decref(root);
    if (!text)
        abort();
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (!resp)
        abort();
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(resp, "X-Request-Id", r->request_id);
    if (r->has_rate) { /* authenticated /v1 request under an API rate limit (ratelimit.c) */
        char v[24];
        snprintf(v, sizeof(v), "%lld", (long long)r->rate_limit);
        MHD_add_response_header(resp, "X-RateLimit-Limit", v);
        snprintf(v, sizeof(v), "%lld", (long long)r->rate_remaining);
        MHD_add_response_header(resp, "X-RateLimit-Remaining", v);
        snprintf(v, sizeof(v), "%lld", (long long)r->rate_reset_unix);
        MHD_add_response_header(resp, "X-RateLimit-Reset", v);
    }
    if (r->retry_after_s > 0) {
        char v[24];
        snprintf(v, sizeof(v), "%lld", (long long)r->retry_after_s);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, v);
    }
    r->status = status;
    if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    MHD_queue_response(r->conn, status, resp);
    MHD_destroy_response(resp);
    r->responded = true;
}

void api__respond_data(struct api_request *r, unsigned status, json_t *data, json_t *extra_meta)
{
    json_t *meta = extra_meta ? extra_meta : json_object();
    json_object_set_new(meta, "request_id", json_string(r->request_id));
    api__respond_json(r, status, json_pack("{s:o, s:o}", "data", data, "meta", meta));
}

void api__respond_error(struct api_request *r, unsigned status, const char *code, const char *fmt,
                        ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (status >= 500)
        log_error("api", "request_id=%s status=%u code=%s: %s", r->request_id, status, code, msg);
    json_t *err = json_pack("{s:s, s:s}", "code", code, "message", msg);
    json_t *meta = json_pack("{s:s}", "request_id", r->request_id);
    api__respond_json(r, status, json_pack("{s:o, s:o}", "error", err, "meta", meta));
}

void api__respond_err(struct api_request *r, enum err e, const struct err_detail *d)
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
    if (status >= 500) /* never leak SQLite detail to clients; it is logged */
        api__respond_error(r, status, code, "%s (request %s)",
                           status == 503 ? "the store is busy, retry shortly" : "internal error",
                           r->request_id);
    else
        api__respond_error(r, status, code, "%s", d && d->msg[0] ? d->msg : err_str(e));
    if (status >= 500 && d)
        log_error("api", "request_id=%s detail: %s", r->request_id, d->msg);
}

json_t *api__time(int64_t unix_ms)
{
    if (unix_ms == 0)
        return json_null();
    char buf[40];
    clock_format_rfc3339(buf, sizeof(buf), unix_ms);
    return json_string(buf);
}

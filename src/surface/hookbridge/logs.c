/*
 * logs - GET /v1/logs (API.md §3.3): a cursor-paged list of MessageSummary
 * items, newest first, filtered by status and creation time.
 *
 * Description: validates the query (status name, RFC 3339 start_time
 * (inclusive) and end_time (exclusive) with any offset, limit 1..500, cursor) and answers from a
 * read connection through store_log_list, which turns the time range into a UUIDv7 id range. The
 * cursor is the id of the last item of a page. Errors: 400 INVALID_REQUEST for bad query values;
 * store errors as usual. See also: docs/api.md "Logs and metrics". SPDX-License-Identifier: MIT
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "service/applications.h"
#include "surface/hookbridge/internal.h"

#define LOGS_DEFAULT_LIMIT 50

/* The enum value of a status name, or -1. */
static int parse_status(const char *name)
{
    for (int st = STATUS_QUEUED; st <= STORE_STATUS_LAST; st++)
        if (strcmp(name, store_status_name((enum store_status)st)) == 0)
            return st;
    return -1;
}

static json_t *render_summary(const struct store_log_entry *e)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:i, s:o}", "message_id", e->message_id, "endpoint",
                          e->endpoint_url, "endpoint_id", e->endpoint_id, "status",
                          store_status_name(e->status), "attempt_count", e->attempt_count,
                          "created_at", http__time(e->created_at_ms));
    if (!o)
        abort();
    if (e->delivered_at_ms)
        json_object_set_new(o, "delivered_at", http__time(e->delivered_at_ms));
    if (e->response_status)
        json_object_set_new(o, "response_status", json_integer(e->response_status));
    if (e->response_latency_ms >= 0)
        json_object_set_new(o, "response_latency_ms", json_integer(e->response_latency_ms));
    if (e->last_error && e->last_error[0])
        json_object_set_new(o, "last_error", http__json_text(e->last_error));
    return o;
}

/* Reads start_time or end_time into *out_ms, leaving it untouched when absent. */
static bool parse_bound(struct http_request *r, const char *name, int64_t *out_ms)
{
    if (!http__query(r, name))
        return true;
    return http__parse_time(r, name, out_ms);
}

void hookbridge__logs_list(struct http_request *r)
{
    struct store_log_filter f = {
        .mode = r->key.mode,
        .status = -1,
        .start_ms = INT64_MIN,
        .end_ms = INT64_MAX,
        .cursor = http__query(r, "cursor"),
    };
    if (!http__parse_limit(r, LOGS_DEFAULT_LIMIT, STORE_LOG_MAX_LIMIT, &f.limit))
        return;
    const char *st = http__query(r, "status");
    if (st && st[0] && (f.status = parse_status(st)) < 0) {
        http__respond_error(r, MHD_HTTP_BAD_REQUEST, "INVALID_REQUEST",
                            "'status' must be one of queued, delivering, succeeded, "
                            "pending_retry, failed_permanent, deduplicated, filtered");
        return;
    }
    if (!parse_bound(r, "start_time", &f.start_ms) || !parse_bound(r, "end_time", &f.end_ms))
        return;

    if (f.start_ms > f.end_ms) {
        http__respond_error(r, MHD_HTTP_BAD_REQUEST, "INVALID_REQUEST",
                            "'start_time' must not be after 'end_time'");
        return;
    }

    struct store_application app = {0};
    const char *app_q = http__query(r, "application_id");
    if (app_q) { /* id or uid of an application of the key's mode */
        struct store *s = http__store_acquire(r->server);
        bool known = s && service_app_get(s, r->key.mode, app_q, &app, NULL) == ERR_OK;
        http__store_release(r->server, s);
        if (!known) {
            store_application_release(&app);
            http__respond_error(r, MHD_HTTP_BAD_REQUEST, "INVALID_REQUEST",
                                "'application_id' is not an application of this key's mode");
            return;
        }
        f.application_id = app.id;
    }

    struct store_log_entry *rows = calloc((size_t)f.limit, sizeof(*rows));
    if (!rows)
        abort();
    int n = 0;
    bool has_more = false;
    struct err_detail d = {0};
    struct store *s = http__store_acquire(r->server);
    enum err e = s ? store_log_list(s, &f, rows, &n, &has_more, &d) : ERR_IO;
    http__store_release(r->server, s);
    store_application_release(&app);
    if (e != ERR_OK) {
        free(rows);
        http__respond_err(r, e, &d);
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, render_summary(&rows[i]));
    json_t *meta = http__page_meta(has_more, n ? rows[n - 1].message_id : NULL);
    for (int i = 0; i < n; i++)
        store_log_entry_release(&rows[i]);
    free(rows);
    http__respond_data(r, MHD_HTTP_OK, arr, meta);
}

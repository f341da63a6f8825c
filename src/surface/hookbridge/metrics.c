/*
 * metrics - GET /v1/metrics and GET /v1/metrics/timeseries (API.md §3.3):
 * delivery counts over a window, in total and as chart buckets.
 *
 * Description: both read only the rollups (per-minute and hourly counters
 * kept in the commit transaction as messages change state), never message
 * rows, so their cost depends on the window, not on how many messages the
 * store holds. Counts are events inside the window: total = sends accepted,
 * succeeded / failed = messages that reached succeeded / failed_permanent,
 * retries = attempts that ended in pending_retry; latency averages cover
 * successful attempts. success_rate = succeeded / (succeeded + failed), 0.0
 * when nothing finished. Timeseries buckets are aligned to UTC multiples of
 * the bucket size; the last bucket holds now and is still filling.
 * Errors: 400 INVALID_REQUEST for an unknown window, 404 ENDPOINT_NOT_FOUND
 * for an endpoint_id that is not an endpoint (live or deleted) of the key's mode.
 * See also: docs/api.md "Logs and metrics". SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "surface/hookbridge/internal.h"
#include "util/clock.h"

#define MINUTE_MS (60 * 1000LL)
#define HOUR_MS (60 * MINUTE_MS)
#define DAY_MS (24 * HOUR_MS)
#define MAX_BUCKETS 30

struct window {
    const char *name;
    int64_t span_ms;
    int64_t bucket_ms;
    int nbuckets; /* span_ms / bucket_ms */
};

static const struct window windows[] = {
    {"1h", HOUR_MS, 5 * MINUTE_MS, 12},
    {"24h", DAY_MS, HOUR_MS, 24},
    {"7d", 7 * DAY_MS, 6 * HOUR_MS, 28},
    {"30d", 30 * DAY_MS, DAY_MS, 30},
};

/* The window named by the query (default 24h); responds 400 and returns NULL when unknown. */
static const struct window *parse_window(struct http_request *r)
{
    const char *w = http__query(r, "window");
    if (!w || !w[0])
        w = "24h";
    for (size_t i = 0; i < sizeof(windows) / sizeof(windows[0]); i++)
        if (strcmp(w, windows[i].name) == 0)
            return &windows[i];
    http__respond_error(r, MHD_HTTP_BAD_REQUEST, "INVALID_REQUEST",
                        "'window' must be one of 1h, 24h, 7d, 30d");
    return NULL;
}

static json_int_t avg_latency(const struct store_rollup *ru)
{
    if (ru->latency_count <= 0)
        return 0;
    return (json_int_t)((ru->latency_sum_ms + ru->latency_count / 2) / ru->latency_count);
}

void hookbridge__metrics_summary(struct http_request *r)
{
    const struct window *w = parse_window(r);
    if (!w)
        return;
    int64_t now = clock_now_ms();
    struct store_rollup ru = {0};
    struct err_detail d = {0};
    struct store *s = http__store_acquire(r->server);
    /* to is exclusive: now + 1 keeps the minute holding now */
    enum err e =
        s ? store_metrics_sum(s, r->key.mode, NULL, now - w->span_ms, now + 1, &ru, &d) : ERR_IO;
    http__store_release(r->server, s);
    if (e != ERR_OK) {
        http__respond_err(r, e, &d);
        return;
    }
    int64_t finished = ru.succeeded + ru.failed;
    double rate = finished > 0 ? (double)ru.succeeded / (double)finished : 0.0;
    json_t *data =
        json_pack("{s:s, s:I, s:I, s:I, s:I, s:f, s:I}", "window", w->name, "total_messages",
                  (json_int_t)ru.total, "succeeded", (json_int_t)ru.succeeded, "failed",
                  (json_int_t)ru.failed, "retries", (json_int_t)ru.retries, "success_rate", rate,
                  "avg_latency_ms", avg_latency(&ru));
    http__respond_data(r, MHD_HTTP_OK, data, NULL);
}

void hookbridge__metrics_timeseries(struct http_request *r)
{
    const struct window *w = parse_window(r);
    if (!w)
        return;
    const char *ep = http__query(r, "endpoint_id");
    if (ep && !ep[0])
        ep = NULL;
    int64_t now = clock_now_ms();
    int64_t end = now - now % w->bucket_ms + w->bucket_ms; /* the bucket holding now is last */
    int64_t from = end - w->bucket_ms * w->nbuckets;
    struct store_rollup b[MAX_BUCKETS];
    struct err_detail d = {0};
    enum err e = ERR_IO;
    struct store *s = http__store_acquire(r->server);
    if (s && ep) {
        struct store_endpoint found = {0};
        e = store_endpoint_get(s, r->key.mode, ep, true, &found, &d);
        store_endpoint_release(&found);
    }
    if (s && (!ep || e == ERR_OK))
        e = store_metrics_series(s, r->key.mode, ep, from, w->bucket_ms, w->nbuckets, b, &d);
    http__store_release(r->server, s);
    if (e != ERR_OK) {
        http__respond_err(r, e, &d);
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < w->nbuckets; i++) {
        json_array_append_new(
            arr,
            json_pack("{s:o, s:I, s:I, s:I, s:I, s:I}", "timestamp",
                      http__time(from + w->bucket_ms * i), "succeeded", (json_int_t)b[i].succeeded,
                      "failed", (json_int_t)b[i].failed, "retrying", (json_int_t)b[i].retries,
                      "total", (json_int_t)b[i].total, "avg_latency_ms", avg_latency(&b[i])));
    }
    json_t *data = json_pack("{s:s, s:o}", "window", w->name, "buckets", arr);
    if (ep)
        json_object_set_new(data, "endpoint_id", json_string(ep));
    http__respond_data(r, MHD_HTTP_OK, data, NULL);
}

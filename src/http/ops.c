/*
 * ops - operator endpoints without auth: GET /healthz (the process answers),
 * GET /readyz (it can take work: the store commits and delivery runs) and
 * GET /metrics (Prometheus text exposition of the counters, histograms and
 * gauges kept by http, committer, dispatcher, janitor and the store).
 *
 * Description: /readyz sends a no-op op through the committer and answers
 * once it is back: 200 {"status":"ready"} when the committer turned it round,
 * no batch failed to commit within OPS_READY_FAILURE_MS and every delivery
 * thread went round its loop within OPS_READY_STALL_MS; else 503 with the
 * reasons. The store's gauges scan an index, so they are read at most every
 * OPS_GAUGES_TTL_MS and shared by the scrapes in between.
 * SPDX-License-Identifier: MIT
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/internal.h"
#include "util/clock.h"

#define OPS_GAUGES_TTL_MS 5000
#define OPS_READY_FAILURE_MS 30000
#define OPS_READY_STALL_MS 10000
#define METRICS_CAP 16384

void http__ops_healthz(struct http_request *r)
{
    static const char body[] = "{\"status\":\"ok\"}";
    const struct http_header h[] = {{MHD_HTTP_HEADER_CONTENT_TYPE, "application/json"}};
    http__respond_raw(r, MHD_HTTP_OK, body, strlen(body), h, 1);
}

/* ---- /readyz ---- */

static enum err noop_apply(struct store *s, struct commit_op *op)
{
    (void)s;
    (void)op;
    return ERR_OK;
}

static void ready_resume(struct http_request *r)
{
    struct service_op *op = r->op;
    struct http_server *a = r->server;
    json_t *why = json_array();
    if (op->op.result != ERR_OK)
        json_array_append_new(why, json_string("the committer cannot run a transaction"));
    struct committer_stats cs;
    committer_get_stats(a->deps.committer, &cs);
    int64_t now = clock_mono_ms();
    if (cs.last_failure_mono_ms && now - cs.last_failure_mono_ms < OPS_READY_FAILURE_MS)
        json_array_append_new(why, json_string("a commit failed in the last 30 s"));
    if (a->deps.delivery_stats) {
        struct http_delivery_stats ds = {0};
        a->deps.delivery_stats(a->deps.delivery_ctx, &ds);
        if (ds.stalest_loop_mono_ms && now - ds.stalest_loop_mono_ms > OPS_READY_STALL_MS)
            json_array_append_new(why, json_string("a delivery thread is stalled"));
    }
    bool ready = json_array_size(why) == 0;
    json_t *body = ready ? json_pack("{s:s}", "status", "ready")
                         : json_pack("{s:s, s:o}", "status", "not_ready", "reasons", why);
    if (ready)
        json_decref(why);
    http__respond_json(r, ready ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, body);
    free(op);
}

void http__ops_readyz(struct http_request *r)
{
    struct service_op *op = calloc(1, sizeof(*op));
    if (!op)
        abort();
    op->op.apply = noop_apply;
    op->op.rerunnable = true;
    http__defer(r, op, ready_resume);
}

/* ---- /metrics ---- */

__attribute__((format(printf, 4, 5))) static void put(char *buf, size_t cap, size_t *len,
                                                      const char *fmt, ...)
{
    if (*len >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *len, cap - *len, fmt, ap);
    va_end(ap);
    *len = n < 0 || (size_t)n >= cap - *len ? cap : *len + (size_t)n;
}

static void counter(char *buf, size_t *len, const char *name, unsigned long long v)
{
    put(buf, METRICS_CAP, len, "# TYPE %s counter\n%s %llu\n", name, name, v);
}

static void gauge(char *buf, size_t *len, const char *name, long long v)
{
    put(buf, METRICS_CAP, len, "# TYPE %s gauge\n%s %lld\n", name, name, v);
}

/* The store's gauges, read again when older than OPS_GAUGES_TTL_MS. */
static bool store_gauges_cached(struct http_server *a, struct store_gauges *out)
{
    pthread_mutex_lock(&a->gauges_mu);
    int64_t now = clock_mono_ms();
    if (!a->gauges_mono_ms || now - a->gauges_mono_ms >= OPS_GAUGES_TTL_MS) {
        struct err_detail d = {0};
        struct store *s = http__store_acquire(a);
        a->gauges_ok = s && store_gauges(s, &a->gauges, &d) == ERR_OK;
        http__store_release(a, s);
        a->gauges_mono_ms = now;
    }
    bool ok = a->gauges_ok;
    *out = a->gauges;
    pthread_mutex_unlock(&a->gauges_mu);
    return ok;
}

void http__ops_metrics(struct http_request *r)
{
    struct http_server *a = r->server;
    struct http_delivery_stats ds = {0};
    struct committer_stats cs;
    struct janitor_stats js;
    if (a->deps.delivery_stats)
        a->deps.delivery_stats(a->deps.delivery_ctx, &ds);
    committer_get_stats(a->deps.committer, &cs);
    janitor_get_stats(a->deps.janitor, &js);
    char *buf = malloc(METRICS_CAP);
    if (!buf)
        abort();
    size_t n = 0;
    counter(buf, &n, "hookd_http_requests_total",
            __atomic_load_n(&a->stats.requests, __ATOMIC_RELAXED));
    counter(buf, &n, "hookd_sends_accepted_total",
            __atomic_load_n(&a->stats.sends_accepted, __ATOMIC_RELAXED));
    counter(buf, &n, "hookd_sends_duplicate_total",
            __atomic_load_n(&a->stats.sends_duplicate, __ATOMIC_RELAXED));
    counter(buf, &n, "hookd_delivery_attempts_total", ds.attempts);
    counter(buf, &n, "hookd_deliveries_succeeded_total", ds.succeeded);
    counter(buf, &n, "hookd_delivery_attempts_failed_total", ds.failed_attempts);
    counter(buf, &n, "hookd_messages_failed_permanent_total", ds.failed_permanent);
    gauge(buf, &n, "hookd_deliveries_in_flight", ds.in_flight);
    gauge(buf, &n, "hookd_deliveries_scheduled", ds.scheduled);
    gauge(buf, &n, "hookd_deliveries_resident", ds.resident);
    counter(buf, &n, "hookd_backlog_paged_in_total", ds.paged_in);
    counter(buf, &n, "hookd_commit_batches_total", cs.batches);
    counter(buf, &n, "hookd_commit_ops_total", cs.ops);
    counter(buf, &n, "hookd_commit_batches_failed_total", cs.failed_batches);
    counter(buf, &n, "hookd_janitor_runs_total", js.runs);
    counter(buf, &n, "hookd_payloads_purged_total", js.payloads_purged);
    counter(buf, &n, "hookd_messages_expired_total", js.messages_deleted);
    counter(buf, &n, "hookd_dedupe_keys_expired_total", js.dedupe_keys_deleted);
    counter(buf, &n, "hookd_janitor_errors_total", js.errors);
    histogram_render(&ds.latency_ok, "hookd_delivery_duration_seconds", "outcome=\"success\"", true,
                     buf, METRICS_CAP, &n);
    histogram_render(&ds.latency_failed, "hookd_delivery_duration_seconds", "outcome=\"failure\"",
                     false, buf, METRICS_CAP, &n);
    histogram_render(&ds.first_attempt_lag, "hookd_first_attempt_lag_seconds", "", true, buf,
                     METRICS_CAP, &n);
    histogram_render(&cs.batch_size, "hookd_commit_batch_size", "", true, buf, METRICS_CAP, &n);
    histogram_render(&cs.commit_us, "hookd_commit_duration_seconds", "", true, buf, METRICS_CAP,
                     &n);
    struct store_gauges g;
    if (store_gauges_cached(a, &g)) {
        gauge(buf, &n, "hookd_messages_unfinished", g.unfinished);
        gauge(buf, &n, "hookd_messages_dead_letter", g.dead_letter);
        int64_t now = clock_now_ms();
        long long age = g.earliest_due_ms && g.earliest_due_ms < now
                            ? (long long)(now - g.earliest_due_ms) / 1000
                            : 0;
        gauge(buf, &n, "hookd_oldest_due_age_seconds", age);
        gauge(buf, &n, "hookd_endpoints_disabled", g.endpoints_disabled);
        gauge(buf, &n, "hookd_circuits_open", g.circuits_open);
    }
    struct store *s = http__store_acquire(a); /* nodes sharing the store (1 on SQLite) */
    if (s)
        gauge(buf, &n, "hookd_nodes_live", store_live_nodes(s));
    http__store_release(a, s);
    if (n >= METRICS_CAP) /* never send past the buffer (the text fits by far) */
        n = METRICS_CAP - 1;
    const struct http_header h[] = {
        {MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8"}};
    http__respond_take(r, MHD_HTTP_OK, buf, n, h, 1);
}

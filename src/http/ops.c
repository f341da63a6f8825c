/*
 * ops - operator endpoints without auth: GET /healthz and GET /metrics
 * (Prometheus text exposition of the counters kept by api, committer and
 * dispatcher).
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/internal.h"

void http__ops_healthz(struct http_request *r)
{
    static const char body[] = "{\"status\":\"ok\"}";
    const struct http_header h[] = {{MHD_HTTP_HEADER_CONTENT_TYPE, "application/json"}};
    http__respond_raw(r, MHD_HTTP_OK, body, strlen(body), h, 1);
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
    char *buf = malloc(4096);
    if (!buf)
        abort();
    int n = snprintf(
        buf, 4096,
        "# TYPE hookd_http_requests_total counter\nhookd_http_requests_total %llu\n"
        "# TYPE hookd_sends_accepted_total counter\nhookd_sends_accepted_total %llu\n"
        "# TYPE hookd_sends_duplicate_total counter\nhookd_sends_duplicate_total %llu\n"
        "# TYPE hookd_delivery_attempts_total counter\nhookd_delivery_attempts_total %llu\n"
        "# TYPE hookd_deliveries_succeeded_total counter\nhookd_deliveries_succeeded_total %llu\n"
        "# TYPE hookd_delivery_attempts_failed_total counter\n"
        "hookd_delivery_attempts_failed_total %llu\n"
        "# TYPE hookd_messages_failed_permanent_total counter\n"
        "hookd_messages_failed_permanent_total %llu\n"
        "# TYPE hookd_deliveries_in_flight gauge\nhookd_deliveries_in_flight %lld\n"
        "# TYPE hookd_deliveries_scheduled gauge\nhookd_deliveries_scheduled %lld\n"
        "# TYPE hookd_deliveries_resident gauge\nhookd_deliveries_resident %lld\n"
        "# TYPE hookd_backlog_paged_in_total counter\nhookd_backlog_paged_in_total %llu\n"
        "# TYPE hookd_commit_batches_total counter\nhookd_commit_batches_total %llu\n"
        "# TYPE hookd_commit_ops_total counter\nhookd_commit_ops_total %llu\n"
        "# TYPE hookd_janitor_runs_total counter\nhookd_janitor_runs_total %llu\n"
        "# TYPE hookd_payloads_purged_total counter\nhookd_payloads_purged_total %llu\n"
        "# TYPE hookd_messages_expired_total counter\nhookd_messages_expired_total %llu\n"
        "# TYPE hookd_janitor_errors_total counter\nhookd_janitor_errors_total %llu\n",
        __atomic_load_n(&a->stats.requests, __ATOMIC_RELAXED),
        __atomic_load_n(&a->stats.sends_accepted, __ATOMIC_RELAXED),
        __atomic_load_n(&a->stats.sends_duplicate, __ATOMIC_RELAXED), ds.attempts, ds.succeeded,
        ds.failed_attempts, ds.failed_permanent, ds.in_flight, ds.scheduled, ds.resident,
        ds.paged_in, cs.batches, cs.ops, js.runs, js.payloads_purged, js.messages_deleted,
        js.errors);
    if (n < 0 || n >= 4096) /* never send past the buffer (the text fits by far) */
        n = n < 0 ? 0 : 4095;
    const struct http_header h[] = {
        {MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8"}};
    http__respond_take(r, MHD_HTTP_OK, buf, (size_t)n, h, 1);
}

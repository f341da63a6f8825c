/*
 * http - hookd's HTTP server on libmicrohttpd, carrying every wire API
 * (surface/hookbridge: /v1, surface/svix: /api/v1).
 *
 * Description: parses and authenticates requests and hands them to their
 * surface by path; answers reads
 * from a pool of read-only store connections; turns writes into commit ops
 * and suspends the connection until the committer has made them durable
 * (so no thread waits on an fsync). Also serves /healthz and /metrics.
 * It never talks to receivers itself: a test send (POST
 * /v1/endpoints/{id}/test) is delivered by the injected test sender, on a
 * thread of its own with the connection suspended (http__offload), at most
 * HTTP_OFFLOAD_MAX at once.
 * Threading: libmicrohttpd's worker pool (api_threads); op completions run
 * on the committer thread and only resume the connection; offloaded works
 * run on their own threads, which http_stop cancels and waits for.
 * Errors: http_start returns ERR_IO when the port cannot be bound.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_HTTP_HTTP_H
#define HOOKD_HTTP_HTTP_H

#include "config.h"
#include "store/committer.h"
#include "store/janitor.h"
#include "util/err.h"
#include "util/histogram.h"

struct http_server;

/* Delivery counters for /metrics, filled by whoever wired the api (main.c):
 * the api never talks to delivery itself (work reaches it through the
 * committer's completion feed). */
struct http_delivery_stats {
    unsigned long long attempts, succeeded, failed_attempts, failed_permanent, paged_in;
    long long in_flight, scheduled, resident;
    int64_t stalest_loop_mono_ms; /* see dispatcher_stats */
    struct histogram latency_ok, latency_failed, first_attempt_lag;
};

struct service_test_sender;

struct http_deps {
    const struct config *cfg;
    struct committer *committer;
    struct janitor *janitor; /* for /metrics */
    void (*delivery_stats)(void *ctx, struct http_delivery_stats *out);
    void *delivery_ctx;
    /* The test send's delivery (service/endpoint_test.h), lent by main.c; it
     * must outlive http_stop. NULL: test sends answer 500. */
    const struct service_test_sender *test_sender;
};

enum err http_start(struct http_server **out, const struct http_deps *deps, struct err_detail *d);

/* The bound TCP port (useful with --listen HOST:0). */
int http_port(const struct http_server *a);

/* Stop accepting: new requests get 503 and every write already accepted has
 * been handed to the committer when this returns. */
void http_drain(struct http_server *a);

/* Stop the HTTP daemon and free everything (after the committer has stopped). */
void http_stop(struct http_server *a);

#endif

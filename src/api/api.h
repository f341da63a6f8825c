/*
 * api - the HookBridge-compatible HTTP surface (API.md), on libmicrohttpd.
 *
 * Description: parses, authenticates and validates requests; answers reads
 * from a pool of read-only store connections; turns writes into commit ops
 * and suspends the connection until the committer has made them durable
 * (so no thread waits on an fsync). Also serves /healthz and /metrics.
 * It never talks to receivers.
 * Threading: libmicrohttpd's worker pool (api_threads); op completions run
 * on the committer thread and only resume the connection.
 * Errors: api_start returns ERR_IO when the port cannot be bound.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_API_API_H
#define HOOKD_API_API_H

#include "config.h"
#include "store/committer.h"
#include "store/janitor.h"
#include "util/err.h"

struct api;

/* Delivery counters for /metrics, filled by whoever wired the api (main.c):
 * the api never talks to delivery itself (work reaches it through the
 * committer's completion feed). */
struct api_delivery_stats {
    unsigned long long attempts, succeeded, failed_attempts, failed_permanent, paged_in;
    long long in_flight, scheduled, resident;
};

struct api_deps {
    const struct config *cfg;
    struct committer *committer;
    struct janitor *janitor; /* for /metrics */
    void (*delivery_stats)(void *ctx, struct api_delivery_stats *out);
    void *delivery_ctx;
};

enum err api_start(struct api **out, const struct api_deps *deps, struct err_detail *d);

/* The bound TCP port (useful with --listen HOST:0). */
int api_port(const struct api *a);

/* Stop accepting: new requests get 503 and every write already accepted has
 * been handed to the committer when this returns. */
void api_drain(struct api *a);

/* Stop the HTTP daemon and free everything (after the committer has stopped). */
void api_stop(struct api *a);

#endif

/*
 * dispatcher - owns delivery (ARCHITECTURE §3, §5): the delivery threads
 * (worker.h), each with its own curl multi loop, and the routing of work to
 * them: an endpoint belongs to one thread, chosen by a hash of its id.
 *
 * Description: work arrives only through the committer's completion feed
 * (dispatcher_feed is the sink main.c installs) and from the store, which
 * each thread pages in; nothing else calls into delivery. Every finished
 * attempt becomes a write op for the committer: attempt row + message state
 * (succeeded, pending_retry, failed_permanent). A slow or dead receiver only
 * occupies its own endpoint's slots, and its own thread's CPU, never the
 * others'. Not here: multi-node leases (PostgreSQL).
 * Threading: dispatcher_feed and dispatcher_get_stats from any thread; the
 * rest from the thread that started it.
 * Ownership: the read stores (one per thread) stay the caller's and must
 * outlive dispatcher_stop.
 * Errors: dispatcher_start returns ERR_IO when curl or a thread cannot start.
 * See also: docs/internals/dispatcher.md.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_DELIVER_DISPATCHER_H
#define HOOKD_DELIVER_DISPATCHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/retry.h"
#include "store/committer.h"
#include "store/feed.h"
#include "store/store.h"
#include "util/histogram.h"

struct store_attempt;

/* What the rest of hookd wants to hear from delivery, inside the committer's
 * transactions (main.c fills it from service/ops_events.h: operational
 * webhooks, POLICIES §6). Each runs on the committer thread in the op that
 * records the change, and an error rolls that op back. NULL members: nothing. */
struct dispatcher_hooks {
    /* attempt a was recorded and moved its message to status */
    enum err (*attempt)(void *ctx, struct store *s, const struct store_attempt *a, int status,
                        struct err_detail *d);
    /* delivery disabled endpoint_id of mode (reason gone or auto_failing); it was enabled */
    enum err (*disabled)(void *ctx, struct store *s, const char *mode, const char *endpoint_id,
                         const char *reason, int64_t now_ms, struct err_detail *d);
    void *ctx;
};

struct dispatcher_config {
    struct retry_policy retry;
    int64_t timeout_ms;
    int max_in_flight; /* in all; each thread gets its share */
    int endpoint_concurrency;
    bool allow_private_networks;
    int64_t shutdown_grace_ms;
    const char *user_agent;
    const char *header_prefix;   /* of X-Webhook-*: the server's (POLICIES §4) */
    int circuit_failures;        /* failed attempts in a row that open a circuit; 0 = off */
    int64_t circuit_cooldown_ms; /* the first cool-down of an open circuit */
    bool disable_on_gone;        /* a 410 disables the endpoint (POLICIES §5) */
    int64_t disable_after_ms;    /* failing this long with no success disables it; 0 = never */
    struct transform_pool *transforms; /* jq transformations (NULL = none can run) */
    int threads;                       /* delivery threads, >= 1 */
    struct dispatcher_hooks hooks;
};

struct dispatcher;
struct transform_pool;

/* Start cfg->threads delivery threads; thread i reads through read_stores[i]. */
enum err dispatcher_start(struct dispatcher **out, const struct dispatcher_config *cfg,
                          struct store **read_stores, struct committer *committer,
                          struct err_detail *d);

/* The committer's feed sink (committer_feed_fn; ctx is the dispatcher): routes
 * each item to the thread of its endpoint. Takes every item. */
void dispatcher_feed(void *ctx, struct feed *items);

/* The delivery thread (0..threads-1) that owns endpoint_id. */
int dispatcher_thread_of(const char *endpoint_id, int threads);

/* Stop starting attempts, let in-flight ones finish within shutdown_grace_ms
 * (results go to the committer), abort the rest and join the threads. Later
 * feed items (ops the committer still completes) are dropped: the store has
 * them for the next start. */
void dispatcher_stop(struct dispatcher *dp);

/* Free a stopped dispatcher (after the committer has stopped). NULL is a no-op. */
void dispatcher_free(struct dispatcher *dp);

struct dispatcher_stats {
    unsigned long long attempts, succeeded, failed_attempts, failed_permanent, paged_in;
    long long in_flight, scheduled, resident;
    /* The monotonic ms at which the delivery thread that went round its loop
     * least recently did so (each goes round at least every second). */
    int64_t stalest_loop_mono_ms;
    /* Attempt latency in seconds by outcome (2xx or not), and the time from a
     * message's creation to the start of its first attempt. */
    struct histogram latency_ok, latency_failed, first_attempt_lag;
};
/* The bounds of those histograms (ms), for whoever renders or sums them. */
void dispatcher_histograms_init(struct dispatcher_stats *s);
void dispatcher_get_stats(struct dispatcher *dp, struct dispatcher_stats *out);

#endif

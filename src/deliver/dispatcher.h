/*
 * dispatcher - owns delivery (ARCHITECTURE §3, §5): a min-heap of due
 * deliveries, per-endpoint concurrency caps, and one libcurl multi loop on
 * its own thread that signs and POSTs every attempt.
 *
 * Description: new messages arrive from the committer (dispatcher_submit,
 * with their payload, so the common path reads nothing back); retries and
 * restart recovery come from the store (dispatcher_start scans unfinished
 * messages). Each finished attempt becomes a write op for the committer:
 * attempt row + message state (succeeded, pending_retry, failed_permanent).
 * A slow or dead receiver only occupies its own endpoint's slots
 * (endpoint_concurrency), never the others'. Not here: rate limits and
 * pause (issue 3), multi-node leases (PostgreSQL).
 * Threading: dispatcher_submit, dispatcher_endpoint_changed and
 * dispatcher_get_stats from any thread; everything else on the dispatcher
 * thread. The read store passed in is used by the dispatcher thread only.
 * Ownership: dispatcher_submit takes the payload/content_type/headers buffers.
 * Errors: dispatcher_start returns ERR_IO when curl or the thread cannot start.
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
#include "store/store.h"

struct dispatcher_config {
    struct retry_policy retry;
    int64_t timeout_ms;
    int max_in_flight;
    int endpoint_concurrency;
    bool allow_private_networks;
    int64_t shutdown_grace_ms;
    const char *user_agent;
};

struct dispatcher;

/* Start the thread; recovers every unfinished message found in read_store. */
enum err dispatcher_start(struct dispatcher **out, const struct dispatcher_config *cfg,
                          struct store *read_store, struct committer *committer,
                          struct err_detail *d);

/*
 * Schedule a committed message for an attempt, due now: a new send (with its
 * payload, 0 as sched_version), or a message that retry-now, replay or resume
 * made due (payload NULL: loaded from the store). sched_version is the
 * message's version after that change; jobs of older versions are dropped,
 * so a rescheduled message is never attempted twice. Takes payload,
 * content_type and headers_json (all NULL to load them from the store).
 */
void dispatcher_submit(struct dispatcher *dp, const char *message_id, const char *endpoint_id,
                       int64_t sched_version, char *payload, size_t payload_len, char *content_type,
                       char *headers_json);

/* An endpoint's settings, keys, pause state or rate limit changed: reload them
 * before its next attempt (resuming releases the messages held while paused). */
void dispatcher_endpoint_changed(struct dispatcher *dp, const char *endpoint_id);

/* Stop starting attempts, let in-flight ones finish within shutdown_grace_ms
 * (results go to the committer), abort the rest and join the thread. Later
 * dispatcher_submit / dispatcher_endpoint_changed calls (ops the committer
 * still completes) are safe no-ops until dispatcher_free. */
void dispatcher_stop(struct dispatcher *dp);

/* Free a stopped dispatcher (after the committer has stopped). NULL is a no-op. */
void dispatcher_free(struct dispatcher *dp);

struct dispatcher_stats {
    unsigned long long attempts, succeeded, failed_attempts, failed_permanent;
    long long in_flight, scheduled;
};
void dispatcher_get_stats(struct dispatcher *dp, struct dispatcher_stats *out);

#endif

/*
 * janitor - retention: drops expired payloads and removes old history.
 *
 * Description: a small thread that wakes every interval_ms and submits
 * retention work to the committer as ordinary write ops, one bounded chunk
 * (chunk rows) per op, waiting for each to commit before the next, so it
 * never holds the single writer for long nor queues unbounded work. A run
 * first purges the payloads of finished (or deleted) messages whose
 * payload_expires_at has passed, then deletes finished messages (with
 * their attempts and events) older than history_retention_ms, and last
 * deletes the deduplication keys whose window is over (store_dedupe_purge;
 * until then an expired key only counts as absent). It is not
 * the place for anything that must happen on time: a run may be late by
 * up to one interval.
 * Threading: janitor_start/janitor_stop/janitor_get_stats from the main
 * thread (stats from any thread); the work itself runs on the committer.
 * Ownership: janitor_start returns a heap object freed by janitor_stop.
 * Errors: janitor_start returns ERR_IO when the thread cannot start; a
 * failing chunk is logged and retried at the next run.
 * See also: store.h (store_retention_*), committer.h.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_STORE_JANITOR_H
#define HOOKD_STORE_JANITOR_H

#include <stdint.h>

#include "store/committer.h"
#include "util/err.h"

#define JANITOR_CHUNK 500       /* rows per commit op */
#define JANITOR_MAX_CHUNKS 1000 /* per kind and run: bounds one run's work */

struct janitor_config {
    int64_t interval_ms;
    int64_t history_retention_ms; /* <= 0: keep history forever */
    int chunk;                    /* 0 = JANITOR_CHUNK */
};

struct janitor;

/* Start the thread; the committer must outlive it (stop the janitor first). */
enum err janitor_start(struct janitor **out, const struct janitor_config *cfg,
                       struct committer *committer, struct err_detail *d);

/* Run retention now (wakes the thread; returns at once). For tests and operators. */
void janitor_kick(struct janitor *j);

/* Finish the chunk in progress, join the thread and free; NULL is a no-op. */
void janitor_stop(struct janitor *j);

struct janitor_stats {
    unsigned long long runs, payloads_purged, messages_deleted, dedupe_keys_deleted, errors;
};
void janitor_get_stats(struct janitor *j, struct janitor_stats *out);

#endif

/*
 * worker - one delivery thread (ARCHITECTURE §3): its own curl multi handle,
 * due-time heap, endpoint cache and store read connection, for the
 * endpoints the dispatcher routes to it (hash of the endpoint id), so their
 * limits and state stay exact without locks and a slow handshake or a huge
 * response on one thread never stalls the endpoints of another.
 *
 * Description: work arrives through worker_feed (the committer's completion
 * feed, routed by dispatcher.c) and from the store: at start the thread
 * looks up which endpoints have unfinished messages, then pages each
 * endpoint's backlog in, earliest due first, a bounded number of messages
 * at a time and only those due within a short horizon. Memory therefore
 * follows the endpoints and the work in progress, not the backlog. Each
 * finished attempt becomes a commit op (attempt row + message state).
 * Threading: worker_feed and worker_add_stats from any thread; the rest
 * from the thread that started the worker.
 * Ownership: worker_feed takes the items; the read store stays the caller's.
 * Errors: worker_start returns ERR_IO when curl or the thread cannot start.
 * See also: dispatcher.h, jobs.h, docs/internals/dispatcher.md.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_DELIVER_WORKER_H
#define HOOKD_DELIVER_WORKER_H

#include "deliver/dispatcher.h"
#include "store/feed.h"

struct worker;

/* Start delivery thread number index; max_in_flight is this thread's share. */
enum err worker_start(struct worker **out, const struct dispatcher_config *cfg, int index,
                      int max_in_flight, struct store *read_store, struct committer *committer,
                      struct err_detail *d);

/* Hand the thread committed work for its endpoints; takes every item of items. */
void worker_feed(struct worker *w, struct feed *items);

/* Stop starting attempts, give in-flight ones the shutdown grace, join. */
void worker_stop(struct worker *w);

/* Free a stopped worker once the committer has stopped. NULL is a no-op. */
void worker_free(struct worker *w);

/* Add this thread's counters to out. */
void worker_add_stats(struct worker *w, struct dispatcher_stats *out);

#endif

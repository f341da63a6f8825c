/*
 * committer - the single writer thread with group commit (ARCHITECTURE §3).
 *
 * Description: producers (API threads, the dispatcher) submit write ops; the
 * committer drains everything queued into one transaction, applies each op,
 * commits once (one fsync for the whole
 * batch), hands what the batch made due to the feed sink (feed.h: the only
 * way work reaches delivery) and then calls each op's done() in submission
 * order, so a request answered in done() is already known to delivery. An op whose
 * apply fails is rolled back alone; when the commit itself fails every op of
 * the batch gets ERR_IO. An acknowledged write is therefore always on disk.
 * Threading: committer_submit from any thread; apply/done run on the
 * committer thread and must not block on anything but the store.
 * Ownership: ops are owned by the submitter and must stay valid until done()
 * has been called; done() may free them.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_STORE_COMMITTER_H
#define HOOKD_STORE_COMMITTER_H

#include "store/feed.h"
#include "store/store.h"
#include "util/err.h"
#include "util/histogram.h"

struct commit_op {
    /* Runs inside the batch transaction; returns the op's result. */
    enum err (*apply)(struct store *s, struct commit_op *op);
    /* Runs after the batch committed or failed; op->result says which. */
    void (*done)(struct commit_op *op);
    enum err result;
    struct err_detail detail;
    /* apply may run twice: it reads only its inputs and overwrites its outputs.
     * A batch of rerunnable ops runs without any savepoint (SQLite copies every
     * page a savepoint touches into its sub-journal); an op refused before it
     * wrote anything fails alone, and one that fails after writing sends the
     * batch back: rolled back and applied again, consecutive rerunnable ops
     * sharing a savepoint, each op of a failing group then in its own, as every
     * batch holding a non-rerunnable op is applied. */
    bool rerunnable;
    struct commit_op *next; /* committer-private */
};

struct committer;

/* Start the thread on an open writing connection (the committer uses it exclusively). */
enum err committer_start(struct committer **out, struct store *s, struct err_detail *d);

/* Receives the feed of every committed batch, on the committer thread; takes
 * the items (it must empty *items). Without a sink the items are dropped. */
typedef void (*committer_feed_fn)(void *ctx, struct feed *items);

/* Set (or clear, fn NULL) the feed sink; safe while the thread runs. */
void committer_set_feed_sink(struct committer *c, committer_feed_fn fn, void *ctx);

/* Queue an op; it will be applied in a later batch. */
void committer_submit(struct committer *c, struct commit_op *op);

/* Apply everything queued, stop the thread. The store stays open for the caller. */
void committer_stop(struct committer *c);

/* Counters for /metrics. */
struct committer_stats {
    unsigned long long batches;
    unsigned long long ops;
    unsigned long long failed_batches; /* rolled back: the store could not write */
    int64_t last_failure_mono_ms;      /* of the last one; 0 = never */
    struct histogram batch_size;       /* ops per batch */
    struct histogram commit_us;        /* the batch's COMMIT: the WAL write and its fsync */
};
void committer_get_stats(struct committer *c, struct committer_stats *out);

#endif

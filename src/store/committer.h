/*
 * committer - the single writer thread with group commit (ARCHITECTURE §3).
 *
 * Description: producers (API threads, the dispatcher) submit write ops; the
 * committer drains everything queued into one transaction, runs each op's
 * apply() inside its own savepoint, commits once (one fsync for the whole
 * batch) and then calls each op's done() in submission order. An op whose
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

#include "store/store.h"
#include "util/err.h"

struct commit_op {
    /* Runs inside the batch transaction; returns the op's result. */
    enum err (*apply)(struct store *s, struct commit_op *op);
    /* Runs after the batch committed or failed; op->result says which. */
    void (*done)(struct commit_op *op);
    enum err result;
    struct err_detail detail;
    struct commit_op *next; /* committer-private */
};

struct committer;

/* Start the thread on an open writing connection (the committer uses it exclusively). */
enum err committer_start(struct committer **out, struct store *s, struct err_detail *d);

/* Queue an op; it will be applied in a later batch. */
void committer_submit(struct committer *c, struct commit_op *op);

/* Apply everything queued, stop the thread. The store stays open for the caller. */
void committer_stop(struct committer *c);

/* Counters for /metrics. */
struct committer_stats {
    unsigned long long batches;
    unsigned long long ops;
};
void committer_get_stats(struct committer *c, struct committer_stats *out);

#endif

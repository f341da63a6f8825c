/*
 * committer - see committer.h.
 *
 * The queue is an intrusive singly linked list guarded by one mutex. The
 * thread swaps the whole list out, so producers never wait for a commit to
 * enqueue, and everything that arrived during one fsync forms the next batch.
 * SPDX-License-Identifier: MIT
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include "store/committer.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "util/clock.h"
#include "util/log.h"

struct committer {
    struct store *store;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct commit_op *head, *tail;
    bool stopping;
    committer_feed_fn feed_fn; /* guarded by mu */
    void *feed_ctx;
    unsigned long long batches, ops, failed_batches;
    int64_t last_failure_mono_ms;
    struct histogram batch_size, commit_us;
};

static const int64_t batch_size_bounds[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};
static const int64_t commit_us_bounds[] = {100,   250,   500,   1000,   2500,   5000,
                                           10000, 25000, 50000, 100000, 250000, 1000000};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void hand_over_feed(struct committer *c)
{
    struct feed items = {0};
    store_batch_take_feed(c->store, &items);
    if (!items.head)
        return;
    pthread_mutex_lock(&c->mu);
    committer_feed_fn fn = c->feed_fn;
    void *ctx = c->feed_ctx;
    pthread_mutex_unlock(&c->mu);
    if (fn)
        fn(ctx, &items);
    feed_clear(&items);
}

/* Most consecutive rerunnable ops that share a savepoint. */
#define GROUP_MAX 256

/* Apply op in a savepoint of its own; returns a store error (not op's). */
static enum err run_alone(struct committer *c, struct commit_op *op, struct err_detail *d)
{
    op->detail.code[0] = op->detail.msg[0] = '\0';
    enum err e = store_op_begin(c->store, d);
    if (e != ERR_OK)
        return e;
    op->result = op->apply(c->store, op);
    enum err end = store_op_end(c->store, op->result == ERR_OK, &op->detail);
    if (op->result == ERR_OK && end != ERR_OK)
        op->result = end;
    return ERR_OK;
}

/* Apply the rerunnable ops [op, end) in one savepoint; when one fails, roll
 * them all back and run each alone. */
static enum err run_group(struct committer *c, struct commit_op *op, struct commit_op *end,
                          struct err_detail *d)
{
    enum err e = store_op_begin(c->store, d);
    if (e != ERR_OK)
        return e;
    bool ok = true;
    for (struct commit_op *x = op; x != end && ok; x = x->next) {
        x->detail.code[0] = x->detail.msg[0] = '\0';
        x->result = x->apply(c->store, x);
        ok = x->result == ERR_OK;
    }
    struct err_detail end_d = {0};
    if (store_op_end(c->store, ok, &end_d) == ERR_OK && ok)
        return ERR_OK;
    for (struct commit_op *x = op; x != end && e == ERR_OK; x = x->next)
        e = run_alone(c, x, d);
    return e;
}

/* Apply the batch the careful way: each group of consecutive rerunnable ops
 * in one savepoint, every other op in its own. */
static enum err apply_guarded(struct committer *c, struct commit_op *batch, struct err_detail *d)
{
    enum err e = ERR_OK;
    for (struct commit_op *op = batch; op && e == ERR_OK;) {
        struct commit_op *end = op->next;
        if (op->rerunnable) {
            int k = 1;
            while (end && end->rerunnable && k < GROUP_MAX)
                end = end->next, k++;
            e = k > 1 ? run_group(c, op, end, d) : run_alone(c, op, d);
        } else {
            e = run_alone(c, op, d);
        }
        op = end;
    }
    return e;
}

/* The fast path for a batch of rerunnable ops: no savepoint at all. An op
 * refused before it wrote anything (an unknown endpoint, a reused
 * idempotency key) fails alone; false when one failed after writing, and the
 * batch must be rolled back and applied again the careful way. */
static bool apply_unguarded(struct committer *c, struct commit_op *batch)
{
    for (struct commit_op *op = batch; op; op = op->next) {
        op->detail.code[0] = op->detail.msg[0] = '\0';
        store_op_begin_unguarded(c->store);
        op->result = op->apply(c->store, op);
        if (!store_op_end_unguarded(c->store, op->result == ERR_OK))
            return false;
    }
    return true;
}

static bool all_rerunnable(const struct commit_op *batch, unsigned long long *n)
{
    bool all = true;
    *n = 0;
    for (const struct commit_op *op = batch; op; op = op->next, ++*n)
        all = all && op->rerunnable;
    return all;
}

static void run_batch(struct committer *c, struct commit_op *batch)
{
    struct err_detail d = {0};
    unsigned long long n;
    bool fast = all_rerunnable(batch, &n);
    enum err e = store_batch_begin(c->store, &d);
    if (e == ERR_OK && fast && !apply_unguarded(c, batch)) {
        store_batch_rollback(c->store);
        e = store_batch_begin(c->store, &d);
        fast = false;
    }
    if (e == ERR_OK && !fast)
        e = apply_guarded(c, batch, &d);
    if (e == ERR_OK) {
        int64_t t0 = clock_mono_us();
        e = store_batch_commit(c->store, &d);
        histogram_record(&c->commit_us, clock_mono_us() - t0);
    }
    if (e == ERR_OK)
        hand_over_feed(c);
    if (e != ERR_OK) {
        log_error("committer", "cannot commit batch of %llu ops: %s", n, d.msg);
        __atomic_add_fetch(&c->failed_batches, 1, __ATOMIC_RELAXED);
        __atomic_store_n(&c->last_failure_mono_ms, clock_mono_ms(), __ATOMIC_RELAXED);
        store_batch_rollback(c->store);
        for (struct commit_op *op = batch; op; op = op->next) {
            op->result = ERR_IO;
            op->detail = d;
        }
    }
    __atomic_add_fetch(&c->batches, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&c->ops, n, __ATOMIC_RELAXED);
    histogram_record(&c->batch_size, (int64_t)n);
    /* done() may free the op, so read next first. */
    for (struct commit_op *op = batch, *next; op; op = next) {
        next = op->next;
        op->done(op);
    }
}

static void *committer_main(void *arg)
{
    pthread_setname_np(pthread_self(), "committer");
    struct committer *c = arg;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->head && !c->stopping)
            pthread_cond_wait(&c->cv, &c->mu);
        if (!c->head && c->stopping)
            break;
        struct commit_op *batch = c->head;
        c->head = c->tail = NULL;
        pthread_mutex_unlock(&c->mu);
        run_batch(c, batch);
        pthread_mutex_lock(&c->mu);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

enum err committer_start(struct committer **out, struct store *s, struct err_detail *d)
{
    struct committer *c = calloc(1, sizeof(*c));
    if (c) {
        histogram_init(&c->batch_size, batch_size_bounds, COUNT(batch_size_bounds), 1);
        histogram_init(&c->commit_us, commit_us_bounds, COUNT(commit_us_bounds), 1e-6);
    }
    if (!c)
        abort();
    c->store = s;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    if (pthread_create(&c->thread, NULL, committer_main, c) != 0) {
        free(c);
        return err_set(d, ERR_IO, "INTERNAL_ERROR", "cannot start committer thread");
    }
    *out = c;
    return ERR_OK;
}

void committer_set_feed_sink(struct committer *c, committer_feed_fn fn, void *ctx)
{
    pthread_mutex_lock(&c->mu);
    c->feed_fn = fn;
    c->feed_ctx = ctx;
    pthread_mutex_unlock(&c->mu);
}

void committer_submit(struct committer *c, struct commit_op *op)
{
    op->next = NULL;
    pthread_mutex_lock(&c->mu);
    if (c->tail)
        c->tail->next = op;
    else
        c->head = op;
    c->tail = op;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

void committer_stop(struct committer *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->stopping = true;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c);
}

void committer_get_stats(struct committer *c, struct committer_stats *out)
{
    out->batches = __atomic_load_n(&c->batches, __ATOMIC_RELAXED);
    out->ops = __atomic_load_n(&c->ops, __ATOMIC_RELAXED);
    out->failed_batches = __atomic_load_n(&c->failed_batches, __ATOMIC_RELAXED);
    out->last_failure_mono_ms = __atomic_load_n(&c->last_failure_mono_ms, __ATOMIC_RELAXED);
    histogram_init(&out->batch_size, batch_size_bounds, COUNT(batch_size_bounds), 1);
    histogram_add(&out->batch_size, &c->batch_size);
    histogram_init(&out->commit_us, commit_us_bounds, COUNT(commit_us_bounds), 1e-6);
    histogram_add(&out->commit_us, &c->commit_us);
}

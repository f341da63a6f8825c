/*
 * janitor - see janitor.h.
 *
 * One mutex guards the stop/kick flags and the completion flag of the op in
 * flight; one condition variable (on CLOCK_MONOTONIC) serves both the
 * interval sleep and the wait for a chunk's commit.
 * SPDX-License-Identifier: MIT
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include "store/janitor.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/clock.h"
#include "util/log.h"

enum chunk_kind { CHUNK_PURGE, CHUNK_HISTORY, CHUNK_DEDUPE };

struct chunk_op {
    struct commit_op op;
    struct janitor *j;
    enum chunk_kind kind;
    int64_t at_ms; /* now (purge) or the history boundary */
    int max;
    int n; /* rows handled */
};

struct janitor {
    struct janitor_config cfg;
    struct committer *committer;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stopping, kicked, op_done;
    unsigned long long runs, payloads_purged, messages_deleted, dedupe_keys_deleted, errors;
};

static enum err chunk_apply(struct store *s, struct commit_op *op)
{
    struct chunk_op *c = (struct chunk_op *)op;
    if (c->kind == CHUNK_PURGE)
        return store_retention_purge_payloads(s, c->at_ms, c->max, &c->n, &op->detail);
    if (c->kind == CHUNK_DEDUPE)
        return store_dedupe_purge(s, c->at_ms, c->max, &c->n, &op->detail);
    return store_retention_delete_history(s, c->at_ms, c->max, &c->n, &op->detail);
}

static void chunk_done(struct commit_op *op)
{
    struct chunk_op *c = (struct chunk_op *)op;
    pthread_mutex_lock(&c->j->mu);
    c->j->op_done = true;
    pthread_cond_broadcast(&c->j->cv);
    pthread_mutex_unlock(&c->j->mu);
}

/* Submit one chunk and wait for its commit; returns rows handled or -1 on error. */
static int run_chunk(struct janitor *j, enum chunk_kind kind, int64_t at_ms)
{
    struct chunk_op c = {0};
    c.op.apply = chunk_apply;
    c.op.done = chunk_done;
    c.j = j;
    c.kind = kind;
    c.at_ms = at_ms;
    c.max = j->cfg.chunk;
    pthread_mutex_lock(&j->mu);
    j->op_done = false;
    pthread_mutex_unlock(&j->mu);
    committer_submit(j->committer, &c.op);
    pthread_mutex_lock(&j->mu);
    while (!j->op_done) /* the committer completes every op, even while stopping */
        pthread_cond_wait(&j->cv, &j->mu);
    pthread_mutex_unlock(&j->mu);
    if (c.op.result != ERR_OK) {
        __atomic_add_fetch(&j->errors, 1, __ATOMIC_RELAXED);
        log_warn("janitor", "cannot %s: %s",
                 kind == CHUNK_PURGE    ? "purge expired payloads"
                 : kind == CHUNK_DEDUPE ? "delete expired deduplication keys"
                                        : "delete old history",
                 c.op.detail.msg);
        return -1;
    }
    return c.n;
}

static bool is_stopping(struct janitor *j)
{
    pthread_mutex_lock(&j->mu);
    bool s = j->stopping;
    pthread_mutex_unlock(&j->mu);
    return s;
}

/* Chunks of one kind until a short chunk, an error, the per-run cap or stop. */
static long long run_kind(struct janitor *j, enum chunk_kind kind, int64_t at_ms)
{
    long long total = 0;
    for (int i = 0; i < JANITOR_MAX_CHUNKS && !is_stopping(j); i++) {
        int n = run_chunk(j, kind, at_ms);
        if (n < 0)
            break;
        total += n;
        if (n < j->cfg.chunk)
            break;
    }
    return total;
}

static void run_once(struct janitor *j)
{
    int64_t now = clock_now_ms();
    long long purged = run_kind(j, CHUNK_PURGE, now);
    long long deleted = 0;
    if (j->cfg.history_retention_ms > 0)
        deleted = run_kind(j, CHUNK_HISTORY, now - j->cfg.history_retention_ms);
    long long keys = run_kind(j, CHUNK_DEDUPE, now);
    __atomic_add_fetch(&j->runs, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&j->dedupe_keys_deleted, (unsigned long long)keys, __ATOMIC_RELAXED);
    __atomic_add_fetch(&j->payloads_purged, (unsigned long long)purged, __ATOMIC_RELAXED);
    __atomic_add_fetch(&j->messages_deleted, (unsigned long long)deleted, __ATOMIC_RELAXED);
    if (purged || deleted)
        log_info("janitor", "purged %lld expired payloads, deleted %lld old messages", purged,
                 deleted);
}

static void deadline_after(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += (time_t)(ms / 1000);
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static void *janitor_main(void *arg)
{
    struct janitor *j = arg;
    pthread_setname_np(pthread_self(), "janitor");
    for (;;) {
        struct timespec until;
        deadline_after(&until, j->cfg.interval_ms);
        pthread_mutex_lock(&j->mu);
        while (!j->stopping && !j->kicked && pthread_cond_timedwait(&j->cv, &j->mu, &until) == 0)
            ; /* spurious wake-ups and op completions of nobody: wait on */
        bool stop = j->stopping;
        j->kicked = false;
        pthread_mutex_unlock(&j->mu);
        if (stop)
            break;
        run_once(j);
    }
    return NULL;
}

enum err janitor_start(struct janitor **out, const struct janitor_config *cfg,
                       struct committer *committer, struct err_detail *d)
{
    struct janitor *j = calloc(1, sizeof(*j));
    if (!j)
        abort();
    j->cfg = *cfg;
    if (j->cfg.chunk <= 0)
        j->cfg.chunk = JANITOR_CHUNK;
    if (j->cfg.interval_ms <= 0)
        j->cfg.interval_ms = 60000;
    j->committer = committer;
    pthread_mutex_init(&j->mu, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&j->cv, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&j->thread, NULL, janitor_main, j) != 0) {
        pthread_cond_destroy(&j->cv);
        pthread_mutex_destroy(&j->mu);
        free(j);
        return err_set(d, ERR_IO, "INTERNAL_ERROR", "cannot start the janitor thread");
    }
    *out = j;
    return ERR_OK;
}

void janitor_kick(struct janitor *j)
{
    pthread_mutex_lock(&j->mu);
    j->kicked = true;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
}

void janitor_stop(struct janitor *j)
{
    if (!j)
        return;
    pthread_mutex_lock(&j->mu);
    j->stopping = true;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
    pthread_join(j->thread, NULL);
    pthread_cond_destroy(&j->cv);
    pthread_mutex_destroy(&j->mu);
    free(j);
}

void janitor_get_stats(struct janitor *j, struct janitor_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (!j)
        return;
    out->runs = __atomic_load_n(&j->runs, __ATOMIC_RELAXED);
    out->payloads_purged = __atomic_load_n(&j->payloads_purged, __ATOMIC_RELAXED);
    out->messages_deleted = __atomic_load_n(&j->messages_deleted, __ATOMIC_RELAXED);
    out->dedupe_keys_deleted = __atomic_load_n(&j->dedupe_keys_deleted, __ATOMIC_RELAXED);
    out->errors = __atomic_load_n(&j->errors, __ATOMIC_RELAXED);
}

/*
 * worker - see worker.h: the feed, the loop and the lifecycle of one delivery
 * thread (its state: worker_internal.h).
 * SPDX-License-Identifier: MIT
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deliver/worker_internal.h"
#include "util/clock.h"
#include "util/log.h"

/* ---- the feed ---- */

static void feed_due(struct worker *w, struct feed_item *it, int64_t now)
{
    struct target *t = worker__target_get(w, it->endpoint_id);
    struct job *old = job_index_find(&w->index, it->message_id);
    if (old) {
        if (it->sched_version <= old->sched_version)
            return; /* already resident (a page found it first) */
        worker__supersede(w, old);
    }
    if (!worker__has_room(w, t, it->due_ms, now)) {
        worker__spill(w, t, it->due_ms);
        return;
    }
    struct job *j = worker__job_new(t, it->message_id, 1, it->due_ms, it->sched_version);
    worker__job_take_payload(w, j, it);
    worker__admit(w, j);
}

/* A cancel or delete: a resident job of an older version must not run. */
static void feed_dropped(struct worker *w, struct feed_item *it)
{
    struct job *old = job_index_find(&w->index, it->message_id);
    if (old && old->sched_version < it->sched_version)
        worker__supersede(w, old);
}

static void feed_endpoint_changed(struct worker *w, const char *endpoint_id)
{
    struct target *t = worker__target_find(w, endpoint_id);
    if (!t)
        return; /* not cached: read afresh when needed */
    t->stale = true;
    if ((t->wait_head || t->spilled) && worker__target_load(w, t)) {
        worker__pump(w, t); /* e.g. resumed: release what the pause held */
        worker__pages_update(w, t);
    }
}

static void drain_inbox(struct worker *w)
{
    pthread_mutex_lock(&w->mu);
    struct feed items = w->inbox;
    memset(&w->inbox, 0, sizeof(w->inbox));
    struct attempt_op *settled = w->settle_head;
    w->settle_head = w->settle_tail = NULL;
    pthread_mutex_unlock(&w->mu);
    while (settled) {
        struct attempt_op *next = settled->next;
        worker__settle(w, settled);
        settled = next;
    }
    int64_t now = clock_now_ms();
    struct feed_item *it;
    while ((it = feed_pop(&items))) {
        if (it->kind == FEED_DUE)
            feed_due(w, it, now);
        else if (it->kind == FEED_DROPPED)
            feed_dropped(w, it);
        else
            feed_endpoint_changed(w, it->endpoint_id);
        feed_item_free(it);
    }
}

/* ---- the loop ---- */

static void run_due(struct worker *w)
{
    int64_t now = clock_now_ms();
    while (w->heap.len && job_heap_top(&w->heap)->due_ms <= now &&
           w->in_flight < w->max_in_flight) {
        struct job *j = job_heap_pop(&w->heap);
        if (j->superseded)
            worker__job_release(w, j);
        else
            worker__dispatch_job(w, j);
    }
}

static void reap_finished(struct worker *w)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(w->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        struct transfer *x = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        worker__finish_transfer(w, x, m->data.result);
    }
}

static bool is_stopping(struct worker *w)
{
    pthread_mutex_lock(&w->mu);
    bool s = w->stopping;
    pthread_mutex_unlock(&w->mu);
    return s;
}

static void publish_stats(struct worker *w)
{
    __atomic_store_n(&w->stat_in_flight, (long long)w->in_flight, __ATOMIC_RELAXED);
    __atomic_store_n(&w->stat_scheduled, (long long)w->heap.len, __ATOMIC_RELAXED);
    __atomic_store_n(&w->stat_resident, (long long)w->index.len, __ATOMIC_RELAXED);
    __atomic_store_n(&w->stat_loop_mono_ms, clock_mono_ms(), __ATOMIC_RELAXED);
}

/* How long the loop may sleep: until the next due job, wake, page or 1 s. */
static long poll_timeout(struct worker *w, int64_t next_wake)
{
    int64_t due = INT64_MAX;
    if (w->in_flight < w->max_in_flight) {
        if (w->heap.len)
            due = job_heap_top(&w->heap)->due_ms;
        if (next_wake < due)
            due = next_wake;
    }
    if (w->pages_len && w->index.len < RESIDENT_MAX && w->pages[0]->spill_due_ms - HORIZON_MS < due)
        due = w->pages[0]->spill_due_ms - HORIZON_MS;
    if (!w->backlog_known)
        due = clock_now_ms() + STORE_RETRY_MS;
    if (due == INT64_MAX)
        return IDLE_POLL_MS;
    int64_t wait = due - clock_now_ms();
    return wait < 0 ? 0 : wait < IDLE_POLL_MS ? (long)wait : IDLE_POLL_MS;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    char name[16];
    snprintf(name, sizeof(name), "deliver-%d", w->thread_no);
    pthread_setname_np(pthread_self(), name);
    int64_t grace_deadline = 0;
    for (;;) {
        bool stopping = is_stopping(w);
        int64_t next_wake = INT64_MAX;
        if (!stopping) {
            drain_inbox(w);
            worker__find_backlog(w);
            worker__page_due(w);
            next_wake = worker__pump_woken(w);
            run_due(w);
        } else if (!grace_deadline) {
            w->draining = true;
            grace_deadline = clock_mono_ms() + w->cfg.shutdown_grace_ms;
            if (w->in_flight)
                log_info("dispatcher", "stopping: waiting for %d in-flight attempts", w->in_flight);
        }
        int running = 0;
        curl_multi_perform(w->multi, &running);
        reap_finished(w);
        worker__submit_attempts(w);
        publish_stats(w);
        if (stopping && (w->in_flight == 0 || clock_mono_ms() >= grace_deadline))
            break;
        long timeout = stopping ? 50 : poll_timeout(w, next_wake);
        curl_multi_poll(w->multi, NULL, 0, (int)timeout, NULL);
    }
    if (w->in_flight)
        log_warn("dispatcher",
                 "abandoning %d in-flight attempts at shutdown; they are redelivered after "
                 "restart (see --shutdown-grace)",
                 w->in_flight);
    return NULL;
}

/* ---- lifecycle ---- */

enum err worker_start(struct worker **out, const struct dispatcher_config *cfg, int index,
                      int max_in_flight, struct store *read_store, struct committer *committer,
                      struct err_detail *d)
{
    struct worker *w = calloc(1, sizeof(*w));
    if (!w)
        abort();
    w->cfg = *cfg;
    w->thread_no = index;
    w->max_in_flight = max_in_flight > 0 ? max_in_flight : 1;
    w->resident_per_endpoint = 4 * cfg->endpoint_concurrency > RESIDENT_PER_ENDPOINT_MIN
                                   ? 4 * cfg->endpoint_concurrency
                                   : RESIDENT_PER_ENDPOINT_MIN;
    w->store = read_store;
    w->shared = store_shared(read_store);
    w->committer = committer;
    struct dispatcher_stats bounds;
    dispatcher_histograms_init(&bounds);
    w->latency_ok = bounds.latency_ok;
    w->latency_failed = bounds.latency_failed;
    w->first_attempt_lag = bounds.first_attempt_lag;
    pthread_mutex_init(&w->mu, NULL);
    w->oauth2 = oauth2_cache_new(NULL, NULL);
    w->multi = curl_multi_init();
    if (!w->multi) {
        oauth2_cache_free(w->oauth2);
        pthread_mutex_destroy(&w->mu);
        free(w);
        return err_set(d, ERR_IO, "INTERNAL_ERROR", "cannot create a curl multi handle");
    }
    /* Our own caps (per endpoint, per thread) decide what runs; a per-host cap
     * below the thread's share would only park transfers in libcurl's pending
     * queue, which it walks again and again, when several endpoints share a host. */
    curl_multi_setopt(w->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)w->max_in_flight);
    curl_multi_setopt(w->multi, CURLMOPT_MAXCONNECTS, (long)w->max_in_flight);
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        curl_multi_cleanup(w->multi);
        oauth2_cache_free(w->oauth2);
        pthread_mutex_destroy(&w->mu);
        free(w);
        return err_set(d, ERR_IO, "INTERNAL_ERROR", "cannot start a delivery thread");
    }
    *out = w;
    return ERR_OK;
}

void worker_feed(struct worker *w, struct feed *items)
{
    pthread_mutex_lock(&w->mu);
    if (w->closed) { /* shutting down: the store still has it for the next start */
        pthread_mutex_unlock(&w->mu);
        feed_clear(items);
        return;
    }
    bool was_empty = w->inbox.head == NULL;
    feed_move(&w->inbox, items);
    pthread_mutex_unlock(&w->mu);
    if (was_empty)
        curl_multi_wakeup(w->multi);
}

static void free_wait_queue(struct worker *w, struct target *t)
{
    for (struct job *j = t->wait_head, *next; j; j = next) {
        next = j->next;
        worker__job_release(w, j);
    }
    t->wait_head = t->wait_tail = NULL;
}

void worker_stop(struct worker *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    w->closed = true;
    pthread_mutex_unlock(&w->mu);
    curl_multi_wakeup(w->multi);
    pthread_join(w->thread, NULL);

    /* Every job is in a transfer, the heap, a wait queue or an attempt op;
     * the committing ones belong to their ops (attempt_done frees them). */
    while (w->active) {
        struct transfer *x = w->active;
        w->active = x->active_next;
        curl_multi_remove_handle(w->multi, x->req.easy);
        request_release(&x->req);
        worker__job_release(w, x->job);
        curl_easy_cleanup(x->req.easy);
        free(x);
    }
    while (w->free_transfers) {
        struct transfer *x = w->free_transfers;
        w->free_transfers = x->next_free;
        curl_easy_cleanup(x->req.easy);
        free(x);
    }
    while (w->heap.len)
        worker__job_release(w, job_heap_pop(&w->heap));
    job_heap_release(&w->heap);
    for (int b = 0; b < TARGET_BUCKETS; b++) {
        for (struct target *t = w->buckets[b], *next; t; t = next) {
            next = t->next;
            free_wait_queue(w, t);
            worker__target_clear(t);
            free(t);
        }
        w->buckets[b] = NULL;
    }
    job_index_release(&w->index);
    free(w->pages);
    w->pages = NULL;
    w->pages_len = 0;
    feed_clear(&w->inbox);
    curl_multi_cleanup(w->multi);
    w->multi = NULL;
    oauth2_cache_free(w->oauth2);
    w->oauth2 = NULL;
}

void worker_free(struct worker *w)
{
    if (!w)
        return;
    /* Attempts committed after the thread's last look (before it closed). */
    for (struct attempt_op *a = w->settle_head, *next; a; a = next) {
        next = a->next;
        job_free(a->job);
        worker__attempt_op_free(a);
    }
    pthread_mutex_destroy(&w->mu);
    free(w);
}

void worker_add_stats(struct worker *w, struct dispatcher_stats *out)
{
    out->attempts += __atomic_load_n(&w->attempts, __ATOMIC_RELAXED);
    out->succeeded += __atomic_load_n(&w->succeeded, __ATOMIC_RELAXED);
    out->failed_attempts += __atomic_load_n(&w->failed_attempts, __ATOMIC_RELAXED);
    out->failed_permanent += __atomic_load_n(&w->failed_permanent, __ATOMIC_RELAXED);
    out->paged_in += __atomic_load_n(&w->paged_in, __ATOMIC_RELAXED);
    out->in_flight += __atomic_load_n(&w->stat_in_flight, __ATOMIC_RELAXED);
    out->scheduled += __atomic_load_n(&w->stat_scheduled, __ATOMIC_RELAXED);
    out->resident += __atomic_load_n(&w->stat_resident, __ATOMIC_RELAXED);
    int64_t loop = __atomic_load_n(&w->stat_loop_mono_ms, __ATOMIC_RELAXED);
    if (!out->stalest_loop_mono_ms || loop < out->stalest_loop_mono_ms)
        out->stalest_loop_mono_ms = loop;
    histogram_add(&out->latency_ok, &w->latency_ok);
    histogram_add(&out->latency_failed, &w->latency_failed);
    histogram_add(&out->first_attempt_lag, &w->first_attempt_lag);
}

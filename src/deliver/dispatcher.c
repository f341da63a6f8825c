/*
 * dispatcher - see dispatcher.h and docs/internals/dispatcher.md.
 *
 * Data: jobs (one per message on its way) live either in the due-time heap,
 * in their endpoint's wait queue (endpoint at its concurrency cap), or in a
 * transfer. Endpoint settings are cached in a small hash table and reloaded
 * when the API reports a change.
 * SPDX-License-Identifier: MIT
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include "deliver/dispatcher.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/id.h"
#include "deliver/request.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/token_bucket.h"

#define TARGET_BUCKETS 1024
#define IDLE_POLL_MS 1000
/* An endpoint failing this many attempts in a row gets only SICK_CONCURRENCY
 * slots until it answers 2xx again, so many dead receivers (each holding
 * connections for up to the timeout) cannot use up --max-in-flight. */
#define SICK_AFTER_FAILURES 3
#define SICK_CONCURRENCY 2

struct target;

struct job {
    char message_id[ID_MAX];
    char endpoint_id[ID_MAX];
    int attempt_no; /* number of the next attempt (1-based) */
    int64_t due_ms;
    int64_t sched_version; /* the message's version when this job was made */
    char *payload;         /* NULL until loaded */
    size_t payload_len;
    char *content_type;
    char *headers_json;
    struct job *next; /* inbox or endpoint wait queue */
};

struct target {
    char id[ID_MAX];
    struct request_target t;
    bool loaded;
    bool stale;
    bool paused;
    int rate_limit_rps; /* 0 = unlimited */
    int burst;
    struct token_bucket bucket;
    int in_flight;
    int consecutive_failures; /* attempts in a row without a 2xx */
    /* Due jobs that cannot start yet: paused, at endpoint_concurrency, out of
     * tokens, or the global max_in_flight was reached. FIFO. */
    struct job *wait_head, *wait_tail;
    bool in_wake_list;
    int64_t wake_ms; /* when to pump again (0 = as soon as there is room) */
    struct target *wake_next;
    struct target *next; /* hash chain */
};

struct transfer {
    struct request req;
    struct job *job;
    struct target *target;
    struct transfer *next_free;
    struct transfer *active_prev, *active_next; /* in dp->active while in the multi */
};

struct attempt_op {
    struct commit_op op;
    struct store_attempt attempt;
    enum store_status status;
    int64_t next_at_ms;
    int64_t sched_version;
};

struct dispatcher {
    struct dispatcher_config cfg;
    struct store *store; /* read connection, dispatcher thread only */
    struct committer *committer;
    CURLM *multi;
    pthread_t thread;

    pthread_mutex_t mu; /* guards inbox, changed list, stopping, closed */
    struct job *inbox_head, *inbox_tail;
    char (*changed)[ID_MAX];
    size_t n_changed, cap_changed;
    bool stopping;
    bool closed;

    struct job **heap;
    size_t heap_len, heap_cap;
    struct target *buckets[TARGET_BUCKETS];
    struct target *wake_list; /* targets with waiting jobs to pump later */
    struct transfer *free_transfers;
    struct transfer *active;
    int in_flight;

    unsigned long long attempts, succeeded, failed_attempts, failed_permanent;
    long long stat_in_flight, stat_scheduled;
};

/* ---- jobs and the heap ---- */

static void job_free(struct job *j)
{
    if (!j)
        return;
    free(j->payload);
    free(j->content_type);
    free(j->headers_json);
    free(j);
}

static void job_drop_payload(struct job *j)
{
    free(j->payload);
    free(j->content_type);
    free(j->headers_json);
    j->payload = j->content_type = j->headers_json = NULL;
}

static void heap_push(struct dispatcher *dp, struct job *j)
{
    if (dp->heap_len == dp->heap_cap) {
        dp->heap_cap = dp->heap_cap ? dp->heap_cap * 2 : 1024;
        dp->heap = realloc(dp->heap, dp->heap_cap * sizeof(*dp->heap));
        if (!dp->heap)
            abort();
    }
    size_t i = dp->heap_len++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (dp->heap[parent]->due_ms <= j->due_ms)
            break;
        dp->heap[i] = dp->heap[parent];
        i = parent;
    }
    dp->heap[i] = j;
}

static struct job *heap_pop(struct dispatcher *dp)
{
    struct job *top = dp->heap[0];
    struct job *last = dp->heap[--dp->heap_len];
    size_t i = 0, n = dp->heap_len;
    while (n) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && dp->heap[c + 1]->due_ms < dp->heap[c]->due_ms)
            c++;
        if (last->due_ms <= dp->heap[c]->due_ms)
            break;
        dp->heap[i] = dp->heap[c];
        i = c;
    }
    if (n)
        dp->heap[i] = last;
    return top;
}

/* ---- endpoint cache ---- */

static unsigned hash_id(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % TARGET_BUCKETS;
}

static void target_clear(struct target *t)
{
    free(t->t.url);
    free(t->t.headers_json);
    explicit_bzero(t->t.keys, sizeof(t->t.keys));
    memset(&t->t, 0, sizeof(t->t));
    t->loaded = false;
}

static struct target *target_get(struct dispatcher *dp, const char *id)
{
    unsigned b = hash_id(id);
    for (struct target *t = dp->buckets[b]; t; t = t->next)
        if (strcmp(t->id, id) == 0)
            return t;
    struct target *t = calloc(1, sizeof(*t));
    if (!t)
        abort();
    snprintf(t->id, sizeof(t->id), "%s", id);
    t->next = dp->buckets[b];
    dp->buckets[b] = t;
    return t;
}

/* Make sure t holds current settings; false when the endpoint cannot be read. */
static bool target_load(struct dispatcher *dp, struct target *t)
{
    if (t->loaded && !t->stale)
        return true;
    target_clear(t);
    t->stale = false;
    struct store_endpoint ep = {0};
    struct err_detail d = {0};
    /* Deleted endpoints still deliver what was already queued (soft delete). */
    if (store_endpoint_get(dp->store, NULL, t->id, true, &ep, &d) != ERR_OK) {
        log_warn("dispatcher", "cannot load endpoint %s: %s", t->id, d.msg);
        return false;
    }
    if (store_signing_keys_active(dp->store, t->id, t->t.keys, &t->t.n_keys, &d) != ERR_OK) {
        log_warn("dispatcher", "cannot load signing keys of endpoint %s: %s", t->id, d.msg);
        store_endpoint_release(&ep);
        return false;
    }
    t->t.url = ep.url;
    t->t.headers_json = ep.headers_json;
    t->t.hmac_enabled = ep.hmac_enabled;
    t->paused = ep.paused;
    if (ep.rate_limit_rps != t->rate_limit_rps || ep.burst != t->burst) {
        t->rate_limit_rps = ep.rate_limit_rps;
        t->burst = ep.burst;
        if (t->rate_limit_rps > 0)
            token_bucket_init(&t->bucket, t->rate_limit_rps,
                              t->burst > 0 ? t->burst : t->rate_limit_rps, clock_now_ms());
    }
    ep.url = ep.headers_json = NULL;
    store_endpoint_release(&ep);
    t->loaded = true;
    return true;
}

/* ---- attempts ---- */

static enum err attempt_apply(struct store *s, struct commit_op *op)
{
    struct attempt_op *a = (struct attempt_op *)op;
    return store_attempt_record(s, &a->attempt, a->status, a->next_at_ms, a->sched_version,
                                &op->detail);
}

static void attempt_done(struct commit_op *op)
{
    struct attempt_op *a = (struct attempt_op *)op;
    if (op->result != ERR_OK)
        log_error("dispatcher", "cannot record attempt %d of message %s: %s", a->attempt.attempt_no,
                  a->attempt.message_id, op->detail.msg);
    store_attempt_release(&a->attempt);
    free(a);
}

static struct transfer *transfer_get(struct dispatcher *dp)
{
    struct transfer *x = dp->free_transfers;
    if (x) {
        dp->free_transfers = x->next_free;
        curl_easy_reset(x->req.easy);
        return x;
    }
    x = calloc(1, sizeof(*x));
    if (!x)
        abort();
    x->req.easy = curl_easy_init();
    if (!x->req.easy)
        abort();
    return x;
}

/* Load what the job lacks; false when the message is gone or already finished. */
static bool job_ready(struct dispatcher *dp, struct job *j)
{
    if (j->payload)
        return true;
    struct store_delivery dl;
    struct err_detail d = {0};
    enum err e = store_delivery_load(dp->store, j->message_id, &dl, &d);
    if (e != ERR_OK) {
        if (e != ERR_NOTFOUND)
            log_warn("dispatcher", "cannot load message %s: %s", j->message_id, d.msg);
        return false;
    }
    /* Finished, or rescheduled since this job was made (retry-now, cancel,
     * replay): another job of the current version owns the message. */
    if (dl.status == STATUS_SUCCEEDED || dl.status == STATUS_FAILED_PERMANENT ||
        dl.sched_version != j->sched_version) {
        store_delivery_release(&dl);
        return false;
    }
    j->payload = dl.payload;
    j->payload_len = dl.payload_len;
    j->content_type = dl.content_type;
    j->headers_json = dl.headers_json;
    if (dl.attempt_count + 1 > j->attempt_no)
        j->attempt_no = dl.attempt_count + 1;
    return true;
}

static void start_job(struct dispatcher *dp, struct target *t, struct job *j)
{
    if (!job_ready(dp, j)) {
        job_free(j);
        return;
    }
    struct transfer *x = transfer_get(dp);
    x->job = j;
    x->target = t;
    request_setup(&x->req, &t->t, j->message_id, j->payload, j->payload_len, j->content_type,
                  j->headers_json, dp->cfg.user_agent, dp->cfg.timeout_ms,
                  dp->cfg.allow_private_networks);
    curl_easy_setopt(x->req.easy, CURLOPT_PRIVATE, x);
    if (curl_multi_add_handle(dp->multi, x->req.easy) != CURLM_OK)
        PANIC("cannot add a transfer to the curl multi handle");
    x->active_prev = NULL;
    x->active_next = dp->active;
    if (dp->active)
        dp->active->active_prev = x;
    dp->active = x;
    t->in_flight++;
    dp->in_flight++;
}

static void wake_later(struct dispatcher *dp, struct target *t, int64_t at_ms)
{
    if (t->in_wake_list) {
        if (at_ms < t->wake_ms)
            t->wake_ms = at_ms;
        return;
    }
    t->in_wake_list = true;
    t->wake_ms = at_ms;
    t->wake_next = dp->wake_list;
    dp->wake_list = t;
}

/* Start waiting jobs of t while the endpoint is live, under its caps and has
 * tokens. Held-back jobs are not attempts: they just wait. */
static int concurrency_of(const struct dispatcher *dp, const struct target *t)
{
    if (t->consecutive_failures >= SICK_AFTER_FAILURES &&
        dp->cfg.endpoint_concurrency > SICK_CONCURRENCY)
        return SICK_CONCURRENCY;
    return dp->cfg.endpoint_concurrency;
}

static void pump(struct dispatcher *dp, struct target *t)
{
    int64_t now = clock_now_ms();
    while (t->wait_head) {
        if (t->paused || t->in_flight >= concurrency_of(dp, t))
            return; /* resume / a finishing transfer pumps again */
        if (dp->in_flight >= dp->cfg.max_in_flight) {
            wake_later(dp, t, 0);
            return;
        }
        if (t->rate_limit_rps > 0 && !token_bucket_take(&t->bucket, now)) {
            wake_later(dp, t, now + token_bucket_wait_ms(&t->bucket, now));
            return;
        }
        struct job *j = t->wait_head;
        t->wait_head = j->next;
        if (!t->wait_head)
            t->wait_tail = NULL;
        start_job(dp, t, j);
    }
}

static void park(struct target *t, struct job *j)
{
    if (t->paused)
        job_drop_payload(j); /* a pause may be long: keep memory bounded */
    j->next = NULL;
    if (t->wait_tail)
        t->wait_tail->next = j;
    else
        t->wait_head = j;
    t->wait_tail = j;
}

/* Route a due job to its endpoint's queue and start what may start. */
static void dispatch_job(struct dispatcher *dp, struct job *j)
{
    struct target *t = target_get(dp, j->endpoint_id);
    if (!target_load(dp, t)) {
        /* Endpoint unreadable (store trouble): try again shortly. */
        j->due_ms = clock_now_ms() + 1000;
        heap_push(dp, j);
        return;
    }
    park(t, j);
    pump(dp, t);
}

/* Pump the targets whose wake time has come; returns the earliest pending wake. */
static int64_t pump_woken(struct dispatcher *dp)
{
    int64_t now = clock_now_ms(), next = INT64_MAX;
    struct target *list = dp->wake_list;
    dp->wake_list = NULL;
    while (list) {
        struct target *t = list;
        list = t->wake_next;
        t->in_wake_list = false;
        if (t->wake_ms <= now && (t->wake_ms != 0 || dp->in_flight < dp->cfg.max_in_flight))
            pump(dp, t);
        else
            wake_later(dp, t, t->wake_ms);
    }
    for (struct target *t = dp->wake_list; t; t = t->wake_next)
        if (t->wake_ms < next)
            next = t->wake_ms;
    return next;
}

static void finish_transfer(struct dispatcher *dp, struct transfer *x, CURLcode result)
{
    struct job *j = x->job;
    struct target *t = x->target;
    curl_multi_remove_handle(dp->multi, x->req.easy);
    if (x->active_prev)
        x->active_prev->active_next = x->active_next;
    else
        dp->active = x->active_next;
    if (x->active_next)
        x->active_next->active_prev = x->active_prev;

    struct attempt_op *a = calloc(1, sizeof(*a));
    if (!a)
        abort();
    a->attempt.retry_after_seconds = -1;
    bool ok = request_finish(&x->req, result, &a->attempt);
    request_release(&x->req);
    id_uuid7(a->attempt.id, clock_now_ms());
    snprintf(a->attempt.message_id, sizeof(a->attempt.message_id), "%s", j->message_id);
    a->attempt.attempt_no = j->attempt_no;
    a->sched_version = j->sched_version;
    __atomic_add_fetch(&dp->attempts, 1, __ATOMIC_RELAXED);

    t->consecutive_failures = ok ? 0 : t->consecutive_failures + 1;
    if (ok) {
        a->status = STATUS_SUCCEEDED;
        __atomic_add_fetch(&dp->succeeded, 1, __ATOMIC_RELAXED);
    } else {
        __atomic_add_fetch(&dp->failed_attempts, 1, __ATOMIC_RELAXED);
        int64_t now = clock_now_ms();
        int64_t ra = x->req.retry_after[0] ? retry_parse_retry_after(x->req.retry_after, now) : -1;
        if (ra >= 0)
            a->attempt.retry_after_seconds = ra / 1000;
        struct retry_decision rd =
            retry_decide(&dp->cfg.retry, j->attempt_no, a->attempt.response_status, ra);
        if (rd.give_up) {
            a->status = STATUS_FAILED_PERMANENT;
            __atomic_add_fetch(&dp->failed_permanent, 1, __ATOMIC_RELAXED);
        } else {
            a->status = STATUS_PENDING_RETRY;
            a->next_at_ms = now + rd.delay_ms;
            a->attempt.retry_type = retry_type_name(rd.type);
        }
    }
    log_debug("dispatcher", "message=%s endpoint=%s attempt=%d status=%d outcome=%s", j->message_id,
              j->endpoint_id, j->attempt_no, a->attempt.response_status,
              store_status_name(a->status));

    if (a->status == STATUS_PENDING_RETRY) {
        j->attempt_no++;
        j->due_ms = a->next_at_ms;
        job_drop_payload(j); /* bound memory: reload from the store when due */
        heap_push(dp, j);
    } else {
        job_free(j);
    }
    a->op.apply = attempt_apply;
    a->op.done = attempt_done;
    committer_submit(dp->committer, &a->op);

    x->job = NULL;
    x->next_free = dp->free_transfers;
    dp->free_transfers = x;
    t->in_flight--;
    dp->in_flight--;
    if (!dp->stopping)
        pump(dp, t);
}

/* ---- the loop ---- */

static void drain_inbox(struct dispatcher *dp)
{
    pthread_mutex_lock(&dp->mu);
    struct job *j = dp->inbox_head;
    dp->inbox_head = dp->inbox_tail = NULL;
    char(*changed)[ID_MAX] = dp->changed;
    size_t n_changed = dp->n_changed;
    dp->changed = NULL;
    dp->n_changed = dp->cap_changed = 0;
    pthread_mutex_unlock(&dp->mu);
    for (size_t i = 0; i < n_changed; i++) {
        struct target *t = target_get(dp, changed[i]);
        t->stale = true;
        if (t->wait_head && target_load(dp, t))
            pump(dp, t); /* e.g. resumed: release what the pause held */
    }
    free(changed);
    while (j) {
        struct job *next = j->next;
        heap_push(dp, j);
        j = next;
    }
}

static void run_due(struct dispatcher *dp)
{
    int64_t now = clock_now_ms();
    while (dp->heap_len && dp->heap[0]->due_ms <= now && dp->in_flight < dp->cfg.max_in_flight)
        dispatch_job(dp, heap_pop(dp));
}

static void reap_finished(struct dispatcher *dp)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(dp->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        struct transfer *x = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        finish_transfer(dp, x, m->data.result);
    }
}

static bool is_stopping(struct dispatcher *dp)
{
    pthread_mutex_lock(&dp->mu);
    bool s = dp->stopping;
    pthread_mutex_unlock(&dp->mu);
    return s;
}

static void publish_stats(struct dispatcher *dp)
{
    long long sched = (long long)dp->heap_len;
    __atomic_store_n(&dp->stat_in_flight, (long long)dp->in_flight, __ATOMIC_RELAXED);
    __atomic_store_n(&dp->stat_scheduled, sched, __ATOMIC_RELAXED);
}

static void *dispatcher_main(void *arg)
{
    pthread_setname_np(pthread_self(), "dispatcher");
    struct dispatcher *dp = arg;
    int64_t grace_deadline = 0;
    for (;;) {
        bool stopping = is_stopping(dp);
        int64_t next_wake = INT64_MAX;
        if (!stopping) {
            drain_inbox(dp);
            next_wake = pump_woken(dp);
            run_due(dp);
        } else if (!grace_deadline) {
            grace_deadline = clock_mono_ms() + dp->cfg.shutdown_grace_ms;
            log_info("dispatcher", "stopping: waiting for %d in-flight attempts", dp->in_flight);
        }
        int running = 0;
        curl_multi_perform(dp->multi, &running);
        reap_finished(dp);
        publish_stats(dp);
        if (stopping && (dp->in_flight == 0 || clock_mono_ms() >= grace_deadline))
            break;
        long timeout = IDLE_POLL_MS;
        if (!stopping && dp->in_flight < dp->cfg.max_in_flight) {
            int64_t due = dp->heap_len ? dp->heap[0]->due_ms : INT64_MAX;
            if (next_wake < due)
                due = next_wake;
            if (due != INT64_MAX) {
                int64_t wait = due - clock_now_ms();
                timeout = wait < 0 ? 0 : wait < timeout ? (long)wait : timeout;
            }
        }
        if (stopping)
            timeout = 50;
        curl_multi_poll(dp->multi, NULL, 0, (int)timeout, NULL);
    }
    if (dp->in_flight)
        log_warn("dispatcher",
                 "abandoning %d in-flight attempts at shutdown; they are redelivered after "
                 "restart (see --shutdown-grace)",
                 dp->in_flight);
    return NULL;
}

static bool recover_one(const struct store_pending *p, void *ctx)
{
    struct dispatcher *dp = ctx;
    struct job *j = calloc(1, sizeof(*j));
    if (!j)
        abort();
    snprintf(j->message_id, sizeof(j->message_id), "%s", p->message_id);
    snprintf(j->endpoint_id, sizeof(j->endpoint_id), "%s", p->endpoint_id);
    j->attempt_no = p->attempt_count + 1;
    j->due_ms = p->due_ms;
    j->sched_version = p->sched_version;
    heap_push(dp, j);
    return true;
}

enum err dispatcher_start(struct dispatcher **out, const struct dispatcher_config *cfg,
                          struct store *read_store, struct committer *committer,
                          struct err_detail *d)
{
    struct dispatcher *dp = calloc(1, sizeof(*dp));
    if (!dp)
        abort();
    dp->cfg = *cfg;
    dp->store = read_store;
    dp->committer = committer;
    pthread_mutex_init(&dp->mu, NULL);
    dp->multi = curl_multi_init();
    if (!dp->multi) {
        free(dp);
        return err_set(d, ERR_IO, "INTERNAL_ERROR", "cannot create a curl multi handle");
    }
    curl_multi_setopt(dp->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)cfg->endpoint_concurrency);
    curl_multi_setopt(dp->multi, CURLMOPT_MAXCONNECTS, (long)cfg->max_in_flight);
    enum err e = store_pending_scan(read_store, recover_one, dp, d);
    if (e != ERR_OK)
        goto fail;
    if (dp->heap_len)
        log_info("dispatcher", "recovered %zu unfinished messages", dp->heap_len);
    if (pthread_create(&dp->thread, NULL, dispatcher_main, dp) != 0) {
        e = err_set(d, ERR_IO, "INTERNAL_ERROR", "cannot start dispatcher thread");
        goto fail;
    }
    *out = dp;
    return ERR_OK;
fail:
    while (dp->heap_len)
        job_free(heap_pop(dp));
    free(dp->heap);
    curl_multi_cleanup(dp->multi);
    free(dp);
    return e;
}

void dispatcher_submit(struct dispatcher *dp, const char *message_id, const char *endpoint_id,
                       int64_t sched_version, char *payload, size_t payload_len, char *content_type,
                       char *headers_json)
{
    struct job *j = calloc(1, sizeof(*j));
    if (!j)
        abort();
    snprintf(j->message_id, sizeof(j->message_id), "%s", message_id);
    snprintf(j->endpoint_id, sizeof(j->endpoint_id), "%s", endpoint_id);
    j->attempt_no = 1; /* corrected from the store when the payload is loaded */
    j->due_ms = clock_now_ms();
    j->sched_version = sched_version;
    j->payload = payload;
    j->payload_len = payload_len;
    j->content_type = content_type;
    j->headers_json = headers_json;
    if (!payload) /* all or nothing: reload everything from the store */
        job_drop_payload(j);
    pthread_mutex_lock(&dp->mu);
    if (dp->closed) { /* shutting down: the store still has it for the next start */
        pthread_mutex_unlock(&dp->mu);
        job_free(j);
        return;
    }
    bool was_empty = dp->inbox_head == NULL;
    if (dp->inbox_tail)
        dp->inbox_tail->next = j;
    else
        dp->inbox_head = j;
    dp->inbox_tail = j;
    pthread_mutex_unlock(&dp->mu);
    if (was_empty)
        curl_multi_wakeup(dp->multi);
}

void dispatcher_endpoint_changed(struct dispatcher *dp, const char *endpoint_id)
{
    pthread_mutex_lock(&dp->mu);
    if (dp->closed) { /* stopped: the next start reads the endpoint afresh */
        pthread_mutex_unlock(&dp->mu);
        return;
    }
    if (dp->n_changed == dp->cap_changed) {
        dp->cap_changed = dp->cap_changed ? dp->cap_changed * 2 : 8;
        dp->changed = realloc(dp->changed, dp->cap_changed * sizeof(*dp->changed));
        if (!dp->changed)
            abort();
    }
    snprintf(dp->changed[dp->n_changed++], ID_MAX, "%s", endpoint_id);
    pthread_mutex_unlock(&dp->mu);
    curl_multi_wakeup(dp->multi);
}

void dispatcher_stop(struct dispatcher *dp)
{
    if (!dp)
        return;
    pthread_mutex_lock(&dp->mu);
    dp->stopping = true;
    dp->closed = true;
    pthread_mutex_unlock(&dp->mu);
    curl_multi_wakeup(dp->multi);
    pthread_join(dp->thread, NULL);

    /* Abandoned transfers, queued jobs and cached endpoints. */
    while (dp->active) {
        struct transfer *x = dp->active;
        dp->active = x->active_next;
        curl_multi_remove_handle(dp->multi, x->req.easy);
        request_release(&x->req);
        job_free(x->job);
        curl_easy_cleanup(x->req.easy);
        free(x);
    }
    while (dp->free_transfers) {
        struct transfer *x = dp->free_transfers;
        dp->free_transfers = x->next_free;
        curl_easy_cleanup(x->req.easy);
        free(x);
    }
    while (dp->heap_len)
        job_free(heap_pop(dp));
    free(dp->heap);
    for (struct job *j = dp->inbox_head, *next; j; j = next) {
        next = j->next;
        job_free(j);
    }
    for (int b = 0; b < TARGET_BUCKETS; b++) {
        for (struct target *t = dp->buckets[b], *next; t; t = next) {
            next = t->next;
            for (struct job *j = t->wait_head, *jn; j; j = jn) {
                jn = j->next;
                job_free(j);
            }
            target_clear(t);
            free(t);
        }
    }
    curl_multi_cleanup(dp->multi);
    dp->multi = NULL;
}

void dispatcher_free(struct dispatcher *dp)
{
    if (!dp)
        return;
    free(dp->changed);
    pthread_mutex_destroy(&dp->mu);
    free(dp);
}

void dispatcher_get_stats(struct dispatcher *dp, struct dispatcher_stats *out)
{
    out->attempts = __atomic_load_n(&dp->attempts, __ATOMIC_RELAXED);
    out->succeeded = __atomic_load_n(&dp->succeeded, __ATOMIC_RELAXED);
    out->failed_attempts = __atomic_load_n(&dp->failed_attempts, __ATOMIC_RELAXED);
    out->failed_permanent = __atomic_load_n(&dp->failed_permanent, __ATOMIC_RELAXED);
    out->in_flight = __atomic_load_n(&dp->stat_in_flight, __ATOMIC_RELAXED);
    out->scheduled = __atomic_load_n(&dp->stat_scheduled, __ATOMIC_RELAXED);
}

/*
 * worker - see worker.h and docs/internals/dispatcher.md.
 *
 * Data: a resident job is in the index and in exactly one of the heap
 * (JOB_QUEUED), its target's wait queue (JOB_WAITING), a transfer
 * (JOB_RUNNING) or an attempt op on its way through the committer
 * (JOB_COMMITTING). A superseded job has left the index and is freed where
 * it is met next. Targets (endpoints) are cached in a hash table for the
 * thread's life; those whose backlog is partly in the store ("spilled") sit
 * in a second heap keyed by the earliest due time they may hold.
 * SPDX-License-Identifier: MIT
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include "deliver/worker.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/id.h"
#include "deliver/jobs.h"
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
/* Paging: only messages due within HORIZON_MS are resident, at most
 * max(RESIDENT_PER_ENDPOINT_MIN, 4 x endpoint concurrency) per endpoint and
 * RESIDENT_MAX per thread; an endpoint is paged again once half of its
 * resident jobs are done. */
#define HORIZON_MS 2000
#define RESIDENT_PER_ENDPOINT_MIN 256
#define RESIDENT_MAX 65536
#define PAGES_PER_LOOP 64
/* Payload bytes kept for resident jobs (beyond it they are read back when due). */
#define PAYLOAD_BUDGET ((size_t)64 << 20)
/* After a store error, look again this much later. */
#define STORE_RETRY_MS 1000
#define NO_POS ((size_t)-1)

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
    int resident;             /* its jobs in the index */
    /* The store may hold unfinished messages of this endpoint that are not
     * resident; none of them is due before spill_due_ms. */
    bool spilled;
    int64_t spill_due_ms;
    size_t page_pos; /* in w->pages, or NO_POS */
    /* Due jobs that cannot start yet: paused, at endpoint_concurrency, out of
     * tokens, or the thread's max_in_flight was reached. FIFO. */
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
    struct transfer *active_prev, *active_next; /* in w->active while in the multi */
};

struct attempt_op {
    struct commit_op op;
    struct worker *w;
    struct job *job; /* JOB_COMMITTING: owned by this op until settled */
    struct store_attempt attempt;
    enum store_status status;
    int64_t next_at_ms;
    int64_t sched_version;
    struct attempt_op *next_settle;
};

struct worker {
    struct dispatcher_config cfg;
    int thread_no;
    int max_in_flight;
    int resident_per_endpoint;
    struct store *store; /* read connection, this thread only */
    struct committer *committer;
    CURLM *multi;
    pthread_t thread;

    pthread_mutex_t mu; /* guards inbox, settle list, stopping, closed */
    struct feed inbox;
    struct attempt_op *settle_head; /* committed attempts to settle */
    bool stopping;
    bool closed;
    bool draining; /* this thread's own copy of stopping */

    struct job_heap heap;
    struct job_index index;
    struct target **pages; /* min-heap of pageable targets on spill_due_ms */
    size_t pages_len, pages_cap;
    struct target *buckets[TARGET_BUCKETS];
    struct target *wake_list; /* targets with waiting jobs to pump later */
    struct transfer *free_transfers;
    struct transfer *active;
    int in_flight;
    size_t payload_bytes;
    bool backlog_known; /* the start-up lookup of endpoints with a backlog is done */
    int64_t backlog_retry_ms;

    unsigned long long attempts, succeeded, failed_attempts, failed_permanent, paged_in;
    long long stat_in_flight, stat_scheduled, stat_resident;
};

/* ---- payload memory ---- */

static void job_drop_payload(struct worker *w, struct job *j)
{
    if (j->payload)
        w->payload_bytes -= j->payload_len;
    free(j->payload);
    free(j->content_type);
    free(j->headers_json);
    j->payload = j->content_type = j->headers_json = NULL;
    j->payload_len = 0;
}

static void job_release(struct worker *w, struct job *j)
{
    job_drop_payload(w, j);
    job_free(j);
}

/* Take the feed item's payload when the budget allows (else it is read back when due). */
static void job_take_payload(struct worker *w, struct job *j, struct feed_item *it)
{
    if (!it->payload || w->payload_bytes + it->payload_len > PAYLOAD_BUDGET)
        return;
    j->payload = it->payload;
    j->payload_len = it->payload_len;
    j->content_type = it->content_type;
    j->headers_json = it->headers_json;
    it->payload = it->content_type = it->headers_json = NULL;
    w->payload_bytes += j->payload_len;
}

/* ---- endpoint cache ---- */

static unsigned bucket_of(const char *s)
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
    request_target_clear_keys(&t->t);
    memset(&t->t, 0, sizeof(t->t));
    t->loaded = false;
}

static struct target *target_find(struct worker *w, const char *id)
{
    for (struct target *t = w->buckets[bucket_of(id)]; t; t = t->next)
        if (strcmp(t->id, id) == 0)
            return t;
    return NULL;
}

static struct target *target_get(struct worker *w, const char *id)
{
    struct target *t = target_find(w, id);
    if (t)
        return t;
    t = calloc(1, sizeof(*t));
    if (!t)
        abort();
    snprintf(t->id, sizeof(t->id), "%s", id);
    t->page_pos = NO_POS;
    unsigned b = bucket_of(id);
    t->next = w->buckets[b];
    w->buckets[b] = t;
    return t;
}

/* Make sure t holds current settings; false when the endpoint cannot be read. */
static bool target_load(struct worker *w, struct target *t)
{
    if (t->loaded && !t->stale)
        return true;
    target_clear(t);
    t->stale = false;
    struct store_endpoint ep = {0};
    struct err_detail d = {0};
    /* Deleted endpoints still deliver what was already queued (soft delete). */
    if (store_endpoint_get(w->store, NULL, t->id, true, &ep, &d) != ERR_OK) {
        log_warn("dispatcher", "cannot load endpoint %s: %s", t->id, d.msg);
        return false;
    }
    if (store_signing_keys_active(w->store, t->id, t->t.keys, &t->t.n_keys, &d) != ERR_OK) {
        log_warn("dispatcher", "cannot load signing keys of endpoint %s: %s", t->id, d.msg);
        store_endpoint_release(&ep);
        return false;
    }
    request_target_prepare(&t->t);
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

/* ---- the page heap: spilled targets by the earliest due time they may hold ---- */

static void pages_set(struct worker *w, size_t i, struct target *t)
{
    w->pages[i] = t;
    t->page_pos = i;
}

static void pages_sift_up(struct worker *w, size_t i)
{
    struct target *t = w->pages[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (w->pages[parent]->spill_due_ms <= t->spill_due_ms)
            break;
        pages_set(w, i, w->pages[parent]);
        i = parent;
    }
    pages_set(w, i, t);
}

static void pages_sift_down(struct worker *w, size_t i)
{
    struct target *t = w->pages[i];
    size_t n = w->pages_len;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && w->pages[c + 1]->spill_due_ms < w->pages[c]->spill_due_ms)
            c++;
        if (t->spill_due_ms <= w->pages[c]->spill_due_ms)
            break;
        pages_set(w, i, w->pages[c]);
        i = c;
    }
    pages_set(w, i, t);
}

static void pages_remove(struct worker *w, struct target *t)
{
    size_t i = t->page_pos;
    t->page_pos = NO_POS;
    struct target *last = w->pages[--w->pages_len];
    if (i == w->pages_len)
        return;
    pages_set(w, i, last);
    pages_sift_up(w, i);
    pages_sift_down(w, last->page_pos);
}

/* Keep t in the page heap exactly while its backlog may be paged in now. */
static void pages_update(struct worker *w, struct target *t)
{
    bool pageable =
        t->spilled && !(t->loaded && t->paused) && t->resident <= w->resident_per_endpoint / 2;
    if (!pageable) {
        if (t->page_pos != NO_POS)
            pages_remove(w, t);
        return;
    }
    if (t->page_pos != NO_POS) {
        pages_sift_up(w, t->page_pos);
        pages_sift_down(w, t->page_pos);
        return;
    }
    if (w->pages_len == w->pages_cap) {
        w->pages_cap = w->pages_cap ? w->pages_cap * 2 : 64;
        w->pages = realloc(w->pages, w->pages_cap * sizeof(*w->pages));
        if (!w->pages)
            abort();
    }
    pages_set(w, w->pages_len++, t);
    pages_sift_up(w, t->page_pos);
}

/* The store holds a message of t due at due_ms that is not resident. */
static void spill(struct worker *w, struct target *t, int64_t due_ms)
{
    if (!t->spilled || due_ms < t->spill_due_ms)
        t->spill_due_ms = due_ms;
    t->spilled = true;
    pages_update(w, t);
}

/* ---- resident jobs ---- */

static bool has_room(const struct worker *w, const struct target *t, int64_t due_ms, int64_t now)
{
    return due_ms <= now + HORIZON_MS && t->resident < w->resident_per_endpoint &&
           w->index.len < RESIDENT_MAX;
}

static struct job *job_new(struct target *t, const char *message_id, int attempt_no, int64_t due_ms,
                           int64_t sched_version)
{
    struct job *j = calloc(1, sizeof(*j));
    if (!j)
        abort();
    snprintf(j->message_id, sizeof(j->message_id), "%s", message_id);
    j->target = t;
    j->attempt_no = attempt_no;
    j->due_ms = due_ms;
    j->sched_version = sched_version;
    return j;
}

/* Make j resident and schedule it. */
static void admit(struct worker *w, struct job *j)
{
    job_index_add(&w->index, j);
    j->target->resident++;
    j->state = JOB_QUEUED;
    job_heap_push(&w->heap, j);
}

/* j is no longer the resident job of its message. */
static void evict(struct worker *w, struct job *j)
{
    job_index_remove(&w->index, j);
    j->target->resident--;
    pages_update(w, j->target);
}

/* A newer version of j's message arrived: j is freed where it is met next. */
static void supersede(struct worker *w, struct job *j)
{
    evict(w, j);
    j->superseded = true;
    job_drop_payload(w, j);
}

/* ---- attempts ---- */

static enum err attempt_apply(struct store *s, struct commit_op *op)
{
    struct attempt_op *a = (struct attempt_op *)op;
    return store_attempt_record(s, &a->attempt, a->status, a->next_at_ms, a->sched_version,
                                &op->detail);
}

static void attempt_op_free(struct attempt_op *a)
{
    store_attempt_release(&a->attempt);
    free(a);
}

/* Committer thread: hand the committed attempt back to its thread, which
 * settles its job (a stopped thread has no use for it). */
static void attempt_done(struct commit_op *op)
{
    struct attempt_op *a = (struct attempt_op *)op;
    struct worker *w = a->w;
    if (op->result != ERR_OK)
        log_error("dispatcher", "cannot record attempt %d of message %s: %s", a->attempt.attempt_no,
                  a->attempt.message_id, op->detail.msg);
    pthread_mutex_lock(&w->mu);
    if (w->closed) {
        pthread_mutex_unlock(&w->mu);
        job_free(a->job);
        attempt_op_free(a);
        return;
    }
    bool was_empty = w->settle_head == NULL;
    a->next_settle = w->settle_head;
    w->settle_head = a;
    pthread_mutex_unlock(&w->mu);
    if (was_empty)
        curl_multi_wakeup(w->multi);
}

/* The attempt of a->job is on disk (or failed to be): the job leaves memory,
 * unless its retry is due within the horizon. */
static void settle(struct worker *w, struct attempt_op *a)
{
    struct job *j = a->job;
    struct target *t = j->target;
    int64_t now = clock_now_ms();
    if (j->superseded) {
        job_release(w, j);
    } else if (a->op.result != ERR_OK) {
        evict(w, j); /* the store still has the message as it was: page it in again */
        job_release(w, j);
        spill(w, t, now + STORE_RETRY_MS);
    } else if (a->status == STATUS_PENDING_RETRY) {
        evict(w, j);
        j->attempt_no++;
        j->due_ms = a->next_at_ms;
        if (has_room(w, t, j->due_ms, now)) {
            admit(w, j);
        } else {
            job_release(w, j);
            spill(w, t, a->next_at_ms);
        }
    } else {
        evict(w, j);
        job_release(w, j);
    }
    attempt_op_free(a);
}

static struct transfer *transfer_get(struct worker *w)
{
    struct transfer *x = w->free_transfers;
    if (x) {
        w->free_transfers = x->next_free;
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

enum readiness { READY, GONE, STORE_TROUBLE };

/* Load what the job lacks; GONE when the message is deleted, finished or
 * rescheduled since this job was made (another job owns it then). */
static enum readiness job_ready(struct worker *w, struct job *j)
{
    if (j->payload)
        return READY;
    struct store_delivery dl;
    struct err_detail d = {0};
    enum err e = store_delivery_load(w->store, j->message_id, &dl, &d);
    if (e != ERR_OK) {
        if (e == ERR_NOTFOUND)
            return GONE;
        log_warn("dispatcher", "cannot load message %s: %s", j->message_id, d.msg);
        return STORE_TROUBLE;
    }
    if (dl.status == STATUS_SUCCEEDED || dl.status == STATUS_FAILED_PERMANENT ||
        dl.sched_version != j->sched_version) {
        store_delivery_release(&dl);
        return GONE;
    }
    j->payload = dl.payload;
    j->payload_len = dl.payload_len;
    j->content_type = dl.content_type;
    j->headers_json = dl.headers_json;
    w->payload_bytes += j->payload_len;
    if (dl.attempt_count + 1 > j->attempt_no)
        j->attempt_no = dl.attempt_count + 1;
    return READY;
}

static void start_job(struct worker *w, struct target *t, struct job *j)
{
    enum readiness r = job_ready(w, j);
    if (r != READY) {
        evict(w, j);
        job_release(w, j);
        if (r == STORE_TROUBLE)
            spill(w, t, clock_now_ms() + STORE_RETRY_MS);
        return;
    }
    struct transfer *x = transfer_get(w);
    x->job = j;
    x->target = t;
    j->state = JOB_RUNNING;
    request_setup(&x->req, &t->t, j->message_id, j->payload, j->payload_len, j->content_type,
                  j->headers_json, w->cfg.user_agent, w->cfg.timeout_ms,
                  w->cfg.allow_private_networks);
    curl_easy_setopt(x->req.easy, CURLOPT_PRIVATE, x);
    if (curl_multi_add_handle(w->multi, x->req.easy) != CURLM_OK)
        PANIC("cannot add a transfer to the curl multi handle");
    x->active_prev = NULL;
    x->active_next = w->active;
    if (w->active)
        w->active->active_prev = x;
    w->active = x;
    t->in_flight++;
    w->in_flight++;
}

static void wake_later(struct worker *w, struct target *t, int64_t at_ms)
{
    if (t->in_wake_list) {
        if (at_ms < t->wake_ms)
            t->wake_ms = at_ms;
        return;
    }
    t->in_wake_list = true;
    t->wake_ms = at_ms;
    t->wake_next = w->wake_list;
    w->wake_list = t;
}

static int concurrency_of(const struct worker *w, const struct target *t)
{
    if (t->consecutive_failures >= SICK_AFTER_FAILURES &&
        w->cfg.endpoint_concurrency > SICK_CONCURRENCY)
        return SICK_CONCURRENCY;
    return w->cfg.endpoint_concurrency;
}

/* Start waiting jobs of t while the endpoint is live, under its caps and has
 * tokens. Held-back jobs are not attempts: they just wait. */
static void pump(struct worker *w, struct target *t)
{
    int64_t now = clock_now_ms();
    while (t->wait_head) {
        struct job *j = t->wait_head;
        if (!j->superseded) {
            if (t->paused || t->in_flight >= concurrency_of(w, t))
                return; /* resume / a finishing transfer pumps again */
            if (w->in_flight >= w->max_in_flight) {
                wake_later(w, t, 0);
                return;
            }
            if (t->rate_limit_rps > 0 && !token_bucket_take(&t->bucket, now)) {
                wake_later(w, t, now + token_bucket_wait_ms(&t->bucket, now));
                return;
            }
        }
        t->wait_head = j->next;
        if (!t->wait_head)
            t->wait_tail = NULL;
        j->next = NULL;
        if (j->superseded)
            job_release(w, j);
        else
            start_job(w, t, j);
    }
}

static void park(struct worker *w, struct target *t, struct job *j)
{
    if (t->paused)
        job_drop_payload(w, j); /* a pause may be long: keep memory bounded */
    j->state = JOB_WAITING;
    j->next = NULL;
    if (t->wait_tail)
        t->wait_tail->next = j;
    else
        t->wait_head = j;
    t->wait_tail = j;
}

/* Route a due job to its endpoint's queue and start what may start. */
static void dispatch_job(struct worker *w, struct job *j)
{
    struct target *t = j->target;
    if (!target_load(w, t)) { /* endpoint unreadable (store trouble): try again shortly */
        j->due_ms = clock_now_ms() + STORE_RETRY_MS;
        job_heap_push(&w->heap, j);
        return;
    }
    park(w, t, j);
    pump(w, t);
}

/* Pump the targets whose wake time has come; returns the earliest pending wake. */
static int64_t pump_woken(struct worker *w)
{
    int64_t now = clock_now_ms(), next = INT64_MAX;
    struct target *list = w->wake_list;
    w->wake_list = NULL;
    while (list) {
        struct target *t = list;
        list = t->wake_next;
        t->in_wake_list = false;
        if (t->wake_ms <= now && (t->wake_ms != 0 || w->in_flight < w->max_in_flight))
            pump(w, t);
        else
            wake_later(w, t, t->wake_ms);
    }
    for (struct target *t = w->wake_list; t; t = t->wake_next)
        if (t->wake_ms < next)
            next = t->wake_ms;
    return next;
}

static void finish_transfer(struct worker *w, struct transfer *x, CURLcode result)
{
    struct job *j = x->job;
    struct target *t = x->target;
    curl_multi_remove_handle(w->multi, x->req.easy);
    if (x->active_prev)
        x->active_prev->active_next = x->active_next;
    else
        w->active = x->active_next;
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
    __atomic_add_fetch(&w->attempts, 1, __ATOMIC_RELAXED);

    t->consecutive_failures = ok ? 0 : t->consecutive_failures + 1;
    if (ok) {
        a->status = STATUS_SUCCEEDED;
        __atomic_add_fetch(&w->succeeded, 1, __ATOMIC_RELAXED);
    } else {
        __atomic_add_fetch(&w->failed_attempts, 1, __ATOMIC_RELAXED);
        int64_t now = clock_now_ms();
        int64_t ra = x->req.retry_after[0] ? retry_parse_retry_after(x->req.retry_after, now) : -1;
        if (ra >= 0)
            a->attempt.retry_after_seconds = ra / 1000;
        struct retry_decision rd =
            retry_decide(&w->cfg.retry, j->attempt_no, a->attempt.response_status, ra);
        if (rd.give_up) {
            a->status = STATUS_FAILED_PERMANENT;
            __atomic_add_fetch(&w->failed_permanent, 1, __ATOMIC_RELAXED);
        } else {
            a->status = STATUS_PENDING_RETRY;
            a->next_at_ms = now + rd.delay_ms;
            a->attempt.retry_type = retry_type_name(rd.type);
        }
    }
    log_debug("dispatcher", "message=%s endpoint=%s attempt=%d status=%d outcome=%s", j->message_id,
              t->id, j->attempt_no, a->attempt.response_status, store_status_name(a->status));

    /* The job waits, without its payload, until its attempt is on disk, so
     * that no page of the backlog makes the message resident twice. */
    job_drop_payload(w, j);
    j->state = JOB_COMMITTING;
    a->w = w;
    a->job = j;
    a->op.apply = attempt_apply;
    a->op.done = attempt_done;
    committer_submit(w->committer, &a->op);

    x->job = NULL;
    x->next_free = w->free_transfers;
    w->free_transfers = x;
    t->in_flight--;
    w->in_flight--;
    if (!w->draining)
        pump(w, t);
}

/* ---- paging the backlog in ---- */

struct page_ctx {
    struct worker *w;
    struct target *t;
    int64_t now;
    int rows;
    bool stopped;     /* a row was left in the store */
    int64_t stop_due; /* its due time */
};

static bool page_row(const struct store_pending *p, void *ctx)
{
    struct page_ctx *c = ctx;
    c->rows++;
    if (job_index_find(&c->w->index, p->message_id))
        return true; /* resident already (or its last attempt is not on disk yet) */
    if (!has_room(c->w, c->t, p->due_ms, c->now)) {
        c->stopped = true;
        c->stop_due = p->due_ms;
        return false;
    }
    admit(c->w, job_new(c->t, p->message_id, p->attempt_count + 1, p->due_ms, p->sched_version));
    __atomic_add_fetch(&c->w->paged_in, 1, __ATOMIC_RELAXED);
    return true;
}

static void page_in(struct worker *w, struct target *t, int64_t now)
{
    if (!target_load(w, t)) {
        t->spill_due_ms = now + HORIZON_MS + STORE_RETRY_MS;
        pages_update(w, t);
        return;
    }
    if (t->paused) { /* resume pages it in */
        pages_update(w, t);
        return;
    }
    /* Every row either fills a free place or is one of t's resident jobs, so
     * reading one more than the cap either fills t or reaches the end. */
    int limit = w->resident_per_endpoint + 1;
    struct page_ctx c = {.w = w, .t = t, .now = now};
    struct err_detail d = {0};
    if (store_backlog_page(w->store, t->id, limit, page_row, &c, &d) != ERR_OK) {
        log_warn("dispatcher", "cannot page in the backlog of endpoint %s: %s", t->id, d.msg);
        t->spill_due_ms = now + HORIZON_MS + STORE_RETRY_MS;
    } else if (c.stopped) {
        t->spill_due_ms = c.stop_due;
    } else if (c.rows < limit) {
        t->spilled = false; /* all of it is resident now */
    }
    pages_update(w, t);
}

static void page_due(struct worker *w)
{
    int64_t now = clock_now_ms();
    for (int n = 0; n < PAGES_PER_LOOP && w->pages_len && w->index.len < RESIDENT_MAX; n++) {
        struct target *t = w->pages[0];
        if (t->spill_due_ms > now + HORIZON_MS)
            break;
        page_in(w, t, now);
    }
}

static bool on_backlog_endpoint(const char *endpoint_id, int64_t due_ms, void *ctx)
{
    struct worker *w = ctx;
    if (dispatcher_thread_of(endpoint_id, w->cfg.threads) == w->thread_no)
        spill(w, target_get(w, endpoint_id), due_ms);
    return true;
}

/* After a start: which endpoints have unfinished messages (not the messages). */
static void find_backlog(struct worker *w)
{
    if (w->backlog_known || clock_mono_ms() < w->backlog_retry_ms)
        return;
    struct err_detail d = {0};
    if (store_backlog_endpoints(w->store, on_backlog_endpoint, w, &d) != ERR_OK) {
        log_warn("dispatcher", "cannot look up the unfinished messages: %s", d.msg);
        w->backlog_retry_ms = clock_mono_ms() + STORE_RETRY_MS;
        return;
    }
    w->backlog_known = true;
    if (w->pages_len)
        log_info("dispatcher", "thread %d: %zu endpoints have unfinished messages", w->thread_no,
                 w->pages_len);
}

/* ---- the feed ---- */

static void feed_due(struct worker *w, struct feed_item *it, int64_t now)
{
    struct target *t = target_get(w, it->endpoint_id);
    struct job *old = job_index_find(&w->index, it->message_id);
    if (old) {
        if (it->sched_version <= old->sched_version)
            return; /* already resident (a page found it first) */
        supersede(w, old);
    }
    if (!has_room(w, t, it->due_ms, now)) {
        spill(w, t, it->due_ms);
        return;
    }
    struct job *j = job_new(t, it->message_id, 1, it->due_ms, it->sched_version);
    job_take_payload(w, j, it);
    admit(w, j);
}

static void feed_endpoint_changed(struct worker *w, const char *endpoint_id)
{
    struct target *t = target_find(w, endpoint_id);
    if (!t)
        return; /* not cached: read afresh when needed */
    t->stale = true;
    if ((t->wait_head || t->spilled) && target_load(w, t)) {
        pump(w, t); /* e.g. resumed: release what the pause held */
        pages_update(w, t);
    }
}

static void drain_inbox(struct worker *w)
{
    pthread_mutex_lock(&w->mu);
    struct feed items = w->inbox;
    memset(&w->inbox, 0, sizeof(w->inbox));
    struct attempt_op *settled = w->settle_head;
    w->settle_head = NULL;
    pthread_mutex_unlock(&w->mu);
    while (settled) {
        struct attempt_op *next = settled->next_settle;
        settle(w, settled);
        settled = next;
    }
    int64_t now = clock_now_ms();
    struct feed_item *it;
    while ((it = feed_pop(&items))) {
        if (it->kind == FEED_DUE)
            feed_due(w, it, now);
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
            job_release(w, j);
        else
            dispatch_job(w, j);
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
        finish_transfer(w, x, m->data.result);
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
            find_backlog(w);
            page_due(w);
            next_wake = pump_woken(w);
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
    w->committer = committer;
    pthread_mutex_init(&w->mu, NULL);
    w->multi = curl_multi_init();
    if (!w->multi) {
        pthread_mutex_destroy(&w->mu);
        free(w);
        return err_set(d, ERR_IO, "INTERNAL_ERROR", "cannot create a curl multi handle");
    }
    curl_multi_setopt(w->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)cfg->endpoint_concurrency);
    curl_multi_setopt(w->multi, CURLMOPT_MAXCONNECTS, (long)w->max_in_flight);
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        curl_multi_cleanup(w->multi);
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
        job_release(w, j);
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
        job_release(w, x->job);
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
        job_release(w, job_heap_pop(&w->heap));
    job_heap_release(&w->heap);
    for (int b = 0; b < TARGET_BUCKETS; b++) {
        for (struct target *t = w->buckets[b], *next; t; t = next) {
            next = t->next;
            free_wait_queue(w, t);
            target_clear(t);
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
}

void worker_free(struct worker *w)
{
    if (!w)
        return;
    /* Attempts committed after the thread's last look (before it closed). */
    for (struct attempt_op *a = w->settle_head, *next; a; a = next) {
        next = a->next_settle;
        job_free(a->job);
        attempt_op_free(a);
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
}

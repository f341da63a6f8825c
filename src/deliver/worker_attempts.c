/*
 * worker_attempts - one delivery thread's endpoints and attempts: the endpoint
 * cache, wait queues and limits, transfers, and the attempt ops that carry
 * each result to the committer and back (see worker_internal.h,
 * docs/internals/dispatcher.md "Jobs").
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/id.h"
#include "deliver/worker_internal.h"
#include "util/clock.h"
#include "util/log.h"

/* ---- endpoint cache ---- */

static unsigned bucket_of(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % TARGET_BUCKETS;
}

void worker__target_clear(struct target *t)
{
    free(t->t.url);
    free(t->t.headers_json);
    request_target_clear_keys(&t->t);
    memset(&t->t, 0, sizeof(t->t));
    delivery_policy_free(t->pol);
    t->pol = NULL;
    t->loaded = false;
}

struct target *worker__target_find(struct worker *w, const char *id)
{
    for (struct target *t = w->buckets[bucket_of(id)]; t; t = t->next)
        if (strcmp(t->id, id) == 0)
            return t;
    return NULL;
}

struct target *worker__target_get(struct worker *w, const char *id)
{
    struct target *t = worker__target_find(w, id);
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

/* t->pol from the endpoint's policy document and sealed secrets. A policy that
 * cannot be read is logged and the endpoint delivers with the defaults. */
static void load_policy(struct worker *w, struct target *t, const struct store_endpoint *ep)
{
    char *auth = NULL, *scheme = NULL;
    struct err_detail d = {0};
    enum err e = ERR_OK;
    if (delivery_policy_wants_secrets(ep->policy_json))
        e = store_endpoint_secrets_get(w->store, t->id, &auth, &scheme, &d);
    if (e == ERR_OK)
        e = delivery_policy_load(&t->pol, ep->policy_json, auth, scheme, &d);
    store_endpoint_secret_free(auth);
    store_endpoint_secret_free(scheme);
    if (e != ERR_OK)
        log_error("dispatcher", "endpoint %s: cannot use its delivery policy: %s", t->id, d.msg);
    int rate = t->pol ? t->pol->rate : 0;
    int64_t period = t->pol ? t->pol->period_ms : 0;
    if (rate != t->period_rate || period != t->period_ms) {
        t->period_rate = rate;
        t->period_ms = period;
        if (rate > 0) /* the whole period's allowance at once, refilled evenly over it */
            token_bucket_init(&t->period_bucket, rate * 1000.0 / (double)period, rate,
                              clock_now_ms());
    }
}

/* Make sure t holds current settings; false when the endpoint cannot be read. */
bool worker__target_load(struct worker *w, struct target *t)
{
    int64_t now = clock_now_ms();
    if (t->loaded && !t->stale && !(t->keys_expire_ms && now >= t->keys_expire_ms))
        return true; /* past a key's expiry: read the keys again, so its secret leaves memory */
    worker__target_clear(t);
    t->stale = false;
    struct store_endpoint ep = {0};
    struct err_detail d = {0};
    /* Deleted endpoints still deliver what was already queued (soft delete). */
    if (store_endpoint_get(w->store, NULL, t->id, true, &ep, &d) != ERR_OK) {
        log_warn("dispatcher", "cannot load endpoint %s: %s", t->id, d.msg);
        return false;
    }
    if (store_signing_keys_active(w->store, t->id, now, t->t.keys, &t->t.n_keys, &d) != ERR_OK) {
        log_warn("dispatcher", "cannot load signing keys of endpoint %s: %s", t->id, d.msg);
        store_endpoint_release(&ep);
        return false;
    }
    load_policy(w, t, &ep);
    t->t.pol = t->pol;
    t->t.server_prefix = w->cfg.header_prefix;
    request_target_prepare(&t->t);
    t->keys_expire_ms = 0;
    for (int i = 0; i < t->t.n_keys; i++)
        if (t->t.keys[i].expires_at_ms &&
            (!t->keys_expire_ms || t->t.keys[i].expires_at_ms < t->keys_expire_ms))
            t->keys_expire_ms = t->t.keys[i].expires_at_ms;
    t->t.url = ep.url;
    t->t.headers_json = ep.headers_json;
    t->t.hmac_enabled = ep.hmac_enabled;
    t->paused = ep.paused || ep.disabled; /* a disabled endpoint's messages wait (POLICIES §5) */
    snprintf(t->mode, sizeof(t->mode), "%s", ep.mode);
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

static enum err attempts_apply(struct store *s, struct commit_op *op)
{
    struct attempt_batch *b = (struct attempt_batch *)op;
    for (struct attempt_op *a = b->head; a; a = a->next) {
        enum err e = store_attempt_record(s, &a->attempt, a->status, a->next_at_ms,
                                          a->sched_version, &op->detail);
        if (e != ERR_OK)
            return e; /* the whole batch is rolled back; its messages are paged in again */
    }
    return ERR_OK;
}

void worker__attempt_op_free(struct attempt_op *a)
{
    store_attempt_release(&a->attempt);
    free(a);
}

/* Committer thread: hand the committed attempts back to their thread, which
 * settles their jobs (a stopped thread has no use for them). */
static void attempts_done(struct commit_op *op)
{
    struct attempt_batch *b = (struct attempt_batch *)op;
    struct worker *w = b->w;
    struct attempt_op *tail = NULL;
    for (struct attempt_op *a = b->head; a; a = a->next) {
        a->result = op->result;
        tail = a;
    }
    if (op->result != ERR_OK)
        log_error("dispatcher", "cannot record the attempts of message %s and others: %s",
                  b->head->attempt.message_id, op->detail.msg);
    pthread_mutex_lock(&w->mu);
    if (w->closed) {
        pthread_mutex_unlock(&w->mu);
        for (struct attempt_op *a = b->head, *next; a; a = next) {
            next = a->next;
            job_free(a->job);
            worker__attempt_op_free(a);
        }
        free(b);
        return;
    }
    bool was_empty = w->settle_head == NULL;
    if (w->settle_tail)
        w->settle_tail->next = b->head;
    else
        w->settle_head = b->head;
    w->settle_tail = tail;
    pthread_mutex_unlock(&w->mu);
    free(b);
    if (was_empty)
        curl_multi_wakeup(w->multi);
}

void worker__submit_attempts(struct worker *w)
{
    if (!w->unsent_head)
        return;
    struct attempt_batch *b = calloc(1, sizeof(*b));
    if (!b)
        abort();
    b->w = w;
    b->head = w->unsent_head;
    w->unsent_head = w->unsent_tail = NULL;
    b->op.apply = attempts_apply;
    b->op.done = attempts_done;
    b->op.rerunnable = true; /* it only writes the store */
    committer_submit(w->committer, &b->op);
}

/* The attempt of a->job is on disk (or failed to be): the job leaves memory,
 * unless its retry is due within the horizon. */
void worker__settle(struct worker *w, struct attempt_op *a)
{
    struct job *j = a->job;
    struct target *t = j->target;
    int64_t now = clock_now_ms();
    if (j->superseded) {
        worker__job_release(w, j);
    } else if (a->result != ERR_OK) {
        worker__evict(w, j); /* the store still has the message as it was: page it in again */
        worker__job_release(w, j);
        worker__spill(w, t, now + STORE_RETRY_MS);
    } else if (a->status == STATUS_PENDING_RETRY) {
        worker__evict(w, j);
        j->attempt_no++;
        j->due_ms = a->next_at_ms;
        if (worker__has_room(w, t, j->due_ms, now)) {
            worker__admit(w, j);
        } else {
            worker__job_release(w, j);
            worker__spill(w, t, a->next_at_ms);
        }
    } else {
        worker__evict(w, j);
        worker__job_release(w, j);
    }
    worker__attempt_op_free(a);
}

static struct transfer *transfer_get(struct worker *w)
{
    struct transfer *x = w->free_transfers;
    if (x) { /* its handle keeps the shared options (request_init) */
        w->free_transfers = x->next_free;
        return x;
    }
    x = calloc(1, sizeof(*x));
    if (!x || !request_init(&x->req))
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
        dl.status == STATUS_DEDUPLICATED || dl.sched_version != j->sched_version) {
        store_delivery_release(&dl);
        return GONE;
    }
    j->payload = dl.payload;
    j->payload_len = dl.payload_len;
    j->content_type = dl.content_type;
    j->headers_json = dl.headers_json;
    j->webhook_id = dl.webhook_id;
    w->payload_bytes += j->payload_len;
    if (dl.attempt_count + 1 > j->attempt_no)
        j->attempt_no = dl.attempt_count + 1;
    return READY;
}

static void record_attempt(struct worker *w, struct transfer *x, CURLcode result, bool pump);

/* A token for t's oauth2 auth into token (OAUTH2_TOKEN_MAX + 1 bytes); false
 * with why set when there is none. After a failed fetch the endpoint's
 * attempts fail at once for OAUTH2_FAILURE_HOLD_MS instead of each blocking
 * this thread on another fetch. */
#define OAUTH2_FAILURE_HOLD_MS 5000
static bool oauth2_for(struct worker *w, struct target *t, char *token, struct err_detail *why)
{
    int64_t now = clock_mono_ms();
    if (t->oauth2_hold_until_ms > now) {
        snprintf(why->msg, sizeof(why->msg), "%s", t->oauth2_error);
        return false;
    }
    /* Blocks this thread for one fetch per token lifetime (deliver/oauth2.h). */
    if (oauth2_token(w->oauth2, t->id, &t->pol->auth, w->cfg.allow_private_networks,
                     w->cfg.timeout_ms, token, why) == ERR_OK)
        return true;
    t->oauth2_hold_until_ms = clock_mono_ms() + OAUTH2_FAILURE_HOLD_MS;
    snprintf(t->oauth2_error, sizeof(t->oauth2_error), "%s", why->msg);
    return false;
}

static void start_job(struct worker *w, struct target *t, struct job *j)
{
    enum readiness r = job_ready(w, j);
    if (r != READY) {
        worker__evict(w, j);
        worker__job_release(w, j);
        if (r == STORE_TROUBLE)
            worker__spill(w, t, clock_now_ms() + STORE_RETRY_MS);
        return;
    }
    struct transfer *x = transfer_get(w);
    x->job = j;
    x->target = t;
    j->state = JOB_RUNNING;
    char *token = NULL;
    struct err_detail td = {0};
    if (t->pol && t->pol->auth.type == DEST_AUTH_OAUTH2_CC) {
        token = malloc(OAUTH2_TOKEN_MAX + 1);
        if (!token)
            abort();
        if (!oauth2_for(w, t, token, &td)) {
            free(token);
            token = NULL;
        }
    }
    request_setup(&x->req, &t->t, j->webhook_id ? j->webhook_id : j->message_id, j->payload,
                  j->payload_len, j->content_type, j->headers_json, w->cfg.user_agent,
                  w->cfg.timeout_ms, w->cfg.allow_private_networks, token);
    if (token) {
        explicit_bzero(token, strlen(token));
        free(token);
    } else if (td.msg[0]) {
        snprintf(x->req.preflight_error, sizeof(x->req.preflight_error), "%s", td.msg);
    }
    t->in_flight++;
    w->in_flight++;
    if (!request_ready(&x->req)) { /* failed before any request: recorded as the attempt */
        record_attempt(w, x, CURLE_ABORTED_BY_CALLBACK, false); /* the caller pumps on */
        return;
    }
    curl_easy_setopt(x->req.easy, CURLOPT_PRIVATE, x);
    if (curl_multi_add_handle(w->multi, x->req.easy) != CURLM_OK)
        PANIC("cannot add a transfer to the curl multi handle");
    x->active_prev = NULL;
    x->active_next = w->active;
    if (w->active)
        w->active->active_prev = x;
    w->active = x;
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
    int n = w->cfg.endpoint_concurrency;
    if (t->pol && t->pol->fifo)
        return 1; /* one attempt in flight, in order */
    if (t->pol && t->pol->max_concurrency && t->pol->max_concurrency < n)
        n = t->pol->max_concurrency;
    if (t->consecutive_failures >= SICK_AFTER_FAILURES && n > SICK_CONCURRENCY)
        return SICK_CONCURRENCY;
    return n;
}

/* Start waiting jobs of t while the endpoint is live, under its caps and has
 * tokens. Held-back jobs are not attempts: they just wait. */
void worker__pump(struct worker *w, struct target *t)
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
            /* the period's allowance is looked at first, so a per-second token
             * is not spent on an attempt the period refuses */
            if (t->period_rate > 0 && token_bucket_remaining(&t->period_bucket, now) < 1) {
                wake_later(w, t, now + token_bucket_wait_ms(&t->period_bucket, now));
                return;
            }
            if (t->rate_limit_rps > 0 && !token_bucket_take(&t->bucket, now)) {
                wake_later(w, t, now + token_bucket_wait_ms(&t->bucket, now));
                return;
            }
            if (t->period_rate > 0)
                token_bucket_take(&t->period_bucket, now);
        }
        t->wait_head = j->next;
        if (!t->wait_head)
            t->wait_tail = NULL;
        j->next = NULL;
        if (j->superseded)
            worker__job_release(w, j);
        else
            start_job(w, t, j);
    }
}

static void park(struct worker *w, struct target *t, struct job *j)
{
    if (t->paused)
        worker__job_drop_payload(w, j); /* a pause may be long: keep memory bounded */
    j->state = JOB_WAITING;
    j->next = NULL;
    if (t->wait_tail)
        t->wait_tail->next = j;
    else
        t->wait_head = j;
    t->wait_tail = j;
}

/* Route a due job to its endpoint's queue and start what may start. */
void worker__dispatch_job(struct worker *w, struct job *j)
{
    struct target *t = j->target;
    if (!worker__target_load(w, t)) { /* endpoint unreadable (store trouble): try again shortly */
        j->due_ms = clock_now_ms() + STORE_RETRY_MS;
        job_heap_push(&w->heap, j);
        return;
    }
    if (t->pol && t->pol->delay_ms && j->attempt_no == 1) { /* POLICIES §2 delay_ms */
        int64_t at = id_uuid7_time_ms(j->message_id) + t->pol->delay_ms;
        if (at > clock_now_ms()) {
            j->due_ms = at;
            job_heap_push(&w->heap, j);
            return;
        }
    }
    park(w, t, j);
    worker__pump(w, t);
}

/* Pump the targets whose wake time has come; returns the earliest pending wake. */
int64_t worker__pump_woken(struct worker *w)
{
    int64_t now = clock_now_ms(), next = INT64_MAX;
    struct target *list = w->wake_list;
    w->wake_list = NULL;
    while (list) {
        struct target *t = list;
        list = t->wake_next;
        t->in_wake_list = false;
        if (t->wake_ms <= now && (t->wake_ms != 0 || w->in_flight < w->max_in_flight))
            worker__pump(w, t);
        else
            wake_later(w, t, t->wake_ms);
    }
    for (struct target *t = w->wake_list; t; t = t->wake_next)
        if (t->wake_ms < next)
            next = t->wake_ms;
    return next;
}

void worker__finish_transfer(struct worker *w, struct transfer *x, CURLcode result)
{
    curl_multi_remove_handle(w->multi, x->req.easy);
    if (x->active_prev)
        x->active_prev->active_next = x->active_next;
    else
        w->active = x->active_next;
    if (x->active_next)
        x->active_next->active_prev = x->active_prev;
    record_attempt(w, x, result, true);
}

/* What follows a failed attempt: the endpoint's retry policy, else the server's ladders. */
static struct retry_decision decide(const struct worker *w, const struct target *t, int attempt_no,
                                    int status, int64_t retry_after_ms)
{
    if (!t->pol || !t->pol->has_retry)
        return retry_decide(&w->cfg.retry, attempt_no, status, retry_after_ms);
    uint32_t random = 0;
    id_random(&random, sizeof(random));
    struct retry_policy_decision pd = retry_policy_decide(&t->pol->retry, &w->cfg.retry, attempt_no,
                                                          status, retry_after_ms, random);
    return (struct retry_decision){.give_up = pd.give_up, .type = pd.type, .delay_ms = pd.delay_ms};
}

/* The attempt x made (or failed to make) goes to the committer as an attempt op. */
static void record_attempt(struct worker *w, struct transfer *x, CURLcode result, bool pump)
{
    struct job *j = x->job;
    struct target *t = x->target;
    struct attempt_op *a = calloc(1, sizeof(*a));
    if (!a)
        abort();
    a->attempt.retry_after_seconds = -1;
    bool ok = request_finish(&x->req, result, &a->attempt);
    request_release(&x->req);
    id_uuid7(a->attempt.id, clock_now_ms());
    snprintf(a->attempt.message_id, sizeof(a->attempt.message_id), "%s", j->message_id);
    a->attempt.attempt_no = j->attempt_no;
    snprintf(a->attempt.mode, sizeof(a->attempt.mode), "%s", t->mode);
    snprintf(a->attempt.endpoint_id, sizeof(a->attempt.endpoint_id), "%s", t->id);
    a->sched_version = j->sched_version;
    __atomic_add_fetch(&w->attempts, 1, __ATOMIC_RELAXED);

    t->consecutive_failures = ok ? 0 : t->consecutive_failures + 1;
    histogram_record(ok ? &w->latency_ok : &w->latency_failed, a->attempt.latency_ms);
    if (j->attempt_no == 1) {
        int64_t made = id_uuid7_time_ms(j->message_id);
        if (made > 0 && a->attempt.created_at_ms >= made)
            histogram_record(&w->first_attempt_lag, a->attempt.created_at_ms - made);
    }
    if (ok) {
        a->status = STATUS_SUCCEEDED;
        __atomic_add_fetch(&w->succeeded, 1, __ATOMIC_RELAXED);
    } else {
        __atomic_add_fetch(&w->failed_attempts, 1, __ATOMIC_RELAXED);
        int64_t now = clock_now_ms();
        int64_t ra = x->req.retry_after[0] ? retry_parse_retry_after(x->req.retry_after, now) : -1;
        if (ra >= 0)
            a->attempt.retry_after_seconds = ra / 1000;
        struct retry_decision rd = decide(w, t, j->attempt_no, a->attempt.response_status, ra);
        if (a->attempt.response_status == 401 && t->pol &&
            t->pol->auth.type == DEST_AUTH_OAUTH2_CC) {
            /* POLICIES §3: a 401 refreshes the token once, and the message is
             * tried again with it at once; a second 401 follows the policy. */
            oauth2_invalidate(w->oauth2, t->id, &t->pol->auth, NULL);
            if (!j->auth_refreshed) {
                j->auth_refreshed = true;
                rd = (struct retry_decision){.type = RETRY_SLOW, .delay_ms = 0};
            }
        }
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
    worker__job_drop_payload(w, j);
    j->state = JOB_COMMITTING;
    a->job = j;
    a->next = NULL;
    if (w->unsent_tail)
        w->unsent_tail->next = a;
    else
        w->unsent_head = a;
    w->unsent_tail = a; /* submitted with the others of this loop iteration */

    x->job = NULL;
    x->next_free = w->free_transfers;
    w->free_transfers = x;
    t->in_flight--;
    w->in_flight--;
    if (pump && !w->draining)
        worker__pump(w, t);
}

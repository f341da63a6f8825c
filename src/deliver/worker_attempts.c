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
#include "deliver/transform.h"
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
    struct breaker_config bc;
    breaker_config_default(&bc);
    bc.failures = w->cfg.circuit_failures;
    if (w->cfg.circuit_cooldown_ms > 0)
        bc.cooldown_ms = w->cfg.circuit_cooldown_ms;
    if (bc.max_cooldown_ms < bc.cooldown_ms)
        bc.max_cooldown_ms = bc.cooldown_ms;
    breaker_init(&t->br, &bc);
    unsigned b = bucket_of(id);
    t->next = w->buckets[b];
    w->buckets[b] = t;
    return t;
}

/* t's token buckets for its limits. When several nodes share the store, each takes
 * an equal share of the endpoint's rates (and of its bursts, rounded up), so their
 * sum holds (docs/operations/postgresql.md); a change in the number of live nodes
 * sets them again (force: the limits themselves changed). */
static void share_limits(struct worker *w, struct target *t, bool force)
{
    int nodes = store_live_nodes(w->store);
    if (!force && nodes == t->limit_nodes)
        return;
    t->limit_nodes = nodes;
    int64_t now = clock_now_ms();
    if (t->rate_limit_rps > 0) {
        int burst = t->burst > 0 ? t->burst : t->rate_limit_rps;
        token_bucket_init(&t->bucket, (double)t->rate_limit_rps / nodes,
                          (burst + nodes - 1) / nodes, now);
    }
    if (t->period_rate > 0) /* the whole period's allowance at once, refilled evenly over it */
        token_bucket_init(&t->period_bucket, t->period_rate * 1000.0 / (double)t->period_ms / nodes,
                          (t->period_rate + nodes - 1) / nodes, now);
}

/* t's rate over a period from t->pol (request_target_load read the policy;
 * one that cannot be read leaves the defaults). */
static void load_policy(struct worker *w, struct target *t)
{
    int rate = t->pol ? t->pol->rate : 0;
    int64_t period = t->pol ? t->pol->period_ms : 0;
    if (rate != t->period_rate || period != t->period_ms) {
        t->period_rate = rate;
        t->period_ms = period;
        share_limits(w, t, true);
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
    struct err_detail pd = {0};
    if (request_target_load(&t->t, &t->pol, w->store, &ep, w->cfg.header_prefix, now, &d, &pd) !=
        ERR_OK) {
        log_warn("dispatcher", "cannot load signing keys of endpoint %s: %s", t->id, d.msg);
        store_endpoint_release(&ep);
        return false;
    }
    if (pd.msg[0])
        log_error("dispatcher", "endpoint %s: cannot use its delivery policy: %s", t->id, pd.msg);
    load_policy(w, t);
    t->keys_expire_ms = 0;
    for (int i = 0; i < t->t.n_keys; i++)
        if (t->t.keys[i].expires_at_ms &&
            (!t->keys_expire_ms || t->t.keys[i].expires_at_ms < t->keys_expire_ms))
            t->keys_expire_ms = t->t.keys[i].expires_at_ms;
    t->paused = ep.paused || ep.disabled; /* a disabled endpoint's messages wait (POLICIES §5) */
    if (!t->br_loaded && ep.circuit_state != BREAKER_CLOSED && t->br.cfg.failures > 0) {
        /* open before a restart: the next attempt is the probe */
        t->br.state = BREAKER_OPEN;
        t->br.opened_at_ms = ep.circuit_opened_at_ms ? ep.circuit_opened_at_ms : now;
        t->br.cooldown_ms = t->br.cfg.cooldown_ms;
        t->br.probe_at_ms = now;
    } else if (t->br_loaded && t->br.state != BREAKER_CLOSED &&
               ep.circuit_state == BREAKER_CLOSED && !ep.circuit_opened_at_ms) {
        breaker_reset(&t->br); /* POST /v1/endpoints/{id}/reset-circuit */
        t->br_last_failed[0] = '\0';
    }
    if (!t->br_loaded)
        t->failing_since_ms = ep.failing_since_ms;
    t->br_loaded = true;
    snprintf(t->mode, sizeof(t->mode), "%s", ep.mode);
    if (ep.rate_limit_rps != t->rate_limit_rps || ep.burst != t->burst) {
        t->rate_limit_rps = ep.rate_limit_rps;
        t->burst = ep.burst;
        share_limits(w, t, true);
    }
    store_endpoint_release(&ep); /* its url and headers are t->t's now */
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
        const struct dispatcher_hooks *h = &b->w->cfg.hooks;
        if (e == ERR_OK && h->attempt) /* operational webhooks, in this transaction */
            e = h->attempt(h->ctx, s, &a->attempt, (int)a->status, &op->detail);
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
        dl.status == STATUS_DEDUPLICATED || dl.status == STATUS_FILTERED ||
        dl.sched_version != j->sched_version) {
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

/* Run t's transformation on j for transfer x: false with why set when it
 * failed; *filtered when the program returned null (skip this delivery);
 * else x->tx_body / x->tx_headers are what to send instead. Blocks this
 * thread for the run (deliver/transform.h: bounded by its budgets). */
static bool transform(struct worker *w, struct target *t, struct job *j, struct transfer *x,
                      bool *filtered, struct err_detail *why)
{
    if (!w->cfg.transforms) {
        snprintf(why->msg, sizeof(why->msg), "transformations cannot run in this process");
        return false;
    }
    char *event_type = NULL;
    struct err_detail d = {0};
    if (store_message_event_type(w->store, j->message_id, &event_type, &d) != ERR_OK)
        log_warn("dispatcher", "message %s: %s (its transformation sees no event_type)",
                 j->message_id, d.msg);
    struct transform_input in = {.program = t->pol->transformation,
                                 .program_len = strlen(t->pol->transformation),
                                 .payload = j->payload,
                                 .payload_len = j->payload_len,
                                 .headers_json = j->headers_json,
                                 .event_type = event_type,
                                 .endpoint_id = t->id,
                                 .endpoint_url = t->t.url};
    struct transform_result res = {0};
    enum err e = transform_run(w->cfg.transforms, &in, &res, why);
    free(event_type);
    if (e != ERR_OK)
        return false;
    if (res.skip) {
        *filtered = true;
        snprintf(why->msg, sizeof(why->msg), "skipped by the endpoint's transformation");
    } else {
        x->tx_body = res.body;
        x->tx_body_len = res.body_len;
        x->tx_headers = res.headers_json;
        res.body = res.headers_json = NULL;
    }
    transform_result_release(&res);
    return !*filtered;
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
    struct err_detail xd = {0};
    bool filtered = false;
    if (t->pol && t->pol->transformation)
        transform(w, t, j, x, &filtered, &xd); /* a failure is in xd: the attempt's error */
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
    request_setup(&x->req, &t->t, j->webhook_id ? j->webhook_id : j->message_id,
                  x->tx_body ? x->tx_body : j->payload,
                  x->tx_body ? x->tx_body_len : j->payload_len, j->content_type,
                  x->tx_body ? x->tx_headers : j->headers_json, w->cfg.user_agent,
                  w->cfg.timeout_ms, w->cfg.allow_private_networks, token);
    if (token) {
        explicit_bzero(token, strlen(token));
        free(token);
    } else if (td.msg[0]) {
        snprintf(x->req.preflight_error, sizeof(x->req.preflight_error), "%s", td.msg);
    }
    if (xd.msg[0]) /* nothing goes out: a failed run is an error, a skip is filtered */
        snprintf(x->req.preflight_error, sizeof(x->req.preflight_error), "%s%s",
                 filtered ? "" : "transformation failed: ", xd.msg);
    x->filtered = filtered;
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
            if (t->fifo_head[0] && t->pol && t->pol->fifo &&
                strcmp(j->message_id, t->fifo_head) != 0)
                return; /* fifo: the failing head goes first, when its retry is due */
            if (w->in_flight >= w->max_in_flight) {
                wake_later(w, t, 0);
                return;
            }
            /* the period's allowance is looked at first, so a per-second token
             * is not spent on an attempt the period refuses */
            if (t->rate_limit_rps > 0 || t->period_rate > 0)
                share_limits(w, t, false);
            if (t->period_rate > 0 && token_bucket_remaining(&t->period_bucket, now) < 1) {
                wake_later(w, t, now + token_bucket_wait_ms(&t->period_bucket, now));
                return;
            }
            if (t->rate_limit_rps > 0 && token_bucket_remaining(&t->bucket, now) < 1) {
                wake_later(w, t, now + token_bucket_wait_ms(&t->bucket, now));
                return;
            }
            int64_t until = 0; /* last: in half_open this claims the probe */
            if (!breaker_may_attempt(&t->br, now, &until)) {
                if (until != BREAKER_WAIT_PROBE)
                    wake_later(w, t, until); /* the probe's result pumps otherwise */
                return;
            }
            if (t->rate_limit_rps > 0)
                token_bucket_take(&t->bucket, now);
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
    if (t->fifo_head[0] && !strcmp(j->message_id, t->fifo_head)) { /* the head: first in line */
        j->next = t->wait_head;
        t->wait_head = j;
        if (!t->wait_tail)
            t->wait_tail = j;
        return;
    }
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

/* The breaker moved: its state goes to the endpoint's row (fire-and-forget;
 * GET /v1/endpoints shows it, a restart reads it back). */
struct circuit_op {
    struct commit_op op;
    char id[ID_MAX];
    int state;
    int64_t opened_at_ms;
};

static enum err circuit_apply(struct store *s, struct commit_op *op)
{
    struct circuit_op *x = (struct circuit_op *)op;
    return store_endpoint_set_circuit(s, x->id, x->state, x->opened_at_ms, &op->detail);
}

static void circuit_done(struct commit_op *op)
{
    struct circuit_op *x = (struct circuit_op *)op;
    if (op->result != ERR_OK)
        log_warn("dispatcher", "cannot store the circuit of endpoint %s: %s", x->id,
                 op->detail.msg);
    free(x);
}

static void breaker_result(struct worker *w, struct target *t, const struct job *j, bool ok,
                           int64_t now)
{
    bool count = ok || t->br.state == BREAKER_HALF_OPEN || strcmp(t->br_last_failed, j->message_id);
    if (!count)
        return; /* this message's own retry: counted when it first failed */
    snprintf(t->br_last_failed, sizeof(t->br_last_failed), "%s", ok ? "" : j->message_id);
    enum breaker_state was = t->br.state;
    if (!breaker_on_result(&t->br, ok, now))
        return;
    log_info("dispatcher", "endpoint %s: circuit %s -> %s", t->id, breaker_state_name(was),
             breaker_state_name(t->br.state));
    struct circuit_op *x = calloc(1, sizeof(*x));
    if (!x)
        abort();
    snprintf(x->id, sizeof(x->id), "%s", t->id);
    x->state = (int)t->br.state;
    x->opened_at_ms = t->br.state == BREAKER_CLOSED ? 0 : t->br.opened_at_ms;
    x->op.apply = circuit_apply;
    x->op.done = circuit_done;
    committer_submit(w->committer, &x->op);
}

/* Delivery disables an endpoint (a 410: reason gone; failing too long:
 * auto_failing), or records since when it fails: fire-and-forget ops like
 * last_used_at's (the store's feed then reloads the endpoint here, and its
 * messages wait while it is disabled). */
struct endpoint_op {
    struct commit_op op;
    char id[ID_MAX];
    char mode[8];
    const char *reason; /* disable with this reason; NULL: write failing_since */
    const struct dispatcher_hooks *hooks;
    int64_t now_ms, failing_since_ms;
    bool changed;
};

static enum err endpoint_op_apply(struct store *s, struct commit_op *op)
{
    struct endpoint_op *x = (struct endpoint_op *)op;
    if (!x->reason)
        return store_endpoint_set_failing(s, x->id, x->failing_since_ms, &op->detail);
    enum err e = store_endpoint_disable(s, x->id, x->reason, x->now_ms, &x->changed, &op->detail);
    if (e == ERR_OK && x->changed && x->hooks->disabled) /* endpoint.disabled, POLICIES §6 */
        e = x->hooks->disabled(x->hooks->ctx, s, x->mode, x->id, x->reason, x->now_ms, &op->detail);
    return e;
}

static void endpoint_op_done(struct commit_op *op)
{
    struct endpoint_op *x = (struct endpoint_op *)op;
    if (op->result != ERR_OK)
        log_warn("dispatcher", "endpoint %s: cannot store its %s: %s", x->id,
                 x->reason ? "disabling" : "failure time", op->detail.msg);
    else if (x->changed)
        log_info("dispatcher", "endpoint %s disabled (reason %s)", x->id, x->reason);
    free(x);
}

static void endpoint_op_submit(struct worker *w, const struct target *t, const char *reason,
                               int64_t failing_since_ms)
{
    struct endpoint_op *x = calloc(1, sizeof(*x));
    if (!x)
        abort();
    snprintf(x->id, sizeof(x->id), "%s", t->id);
    snprintf(x->mode, sizeof(x->mode), "%s", t->mode);
    x->reason = reason;
    x->hooks = &w->cfg.hooks;
    x->now_ms = clock_now_ms();
    x->failing_since_ms = failing_since_ms;
    x->op.apply = endpoint_op_apply;
    x->op.done = endpoint_op_done;
    committer_submit(w->committer, &x->op);
}

/* POLICIES §5: a 410 disables at once; failing for --disable-after with no
 * success between disables too (auto_failing). */
static void track_health(struct worker *w, struct target *t, bool ok, int status, int64_t now)
{
    if (ok) {
        if (t->failing_since_ms) {
            t->failing_since_ms = 0;
            endpoint_op_submit(w, t, NULL, 0);
        }
        return;
    }
    if (!t->failing_since_ms) {
        t->failing_since_ms = now;
        endpoint_op_submit(w, t, NULL, now);
    }
    const char *reason = NULL;
    if (status == 410 && w->cfg.disable_on_gone)
        reason = "gone";
    else if (w->cfg.disable_after_ms && now - t->failing_since_ms >= w->cfg.disable_after_ms)
        reason = "auto_failing";
    if (reason && !t->paused) {
        endpoint_op_submit(w, t, reason, 0);
        t->paused = true; /* hold its other messages now, before the reload */
    }
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
    /* the id carries the attempt's start, as its timestamp does: lists ordered by id are
     * newest first by start, even when a later attempt finished first */
    id_uuid7(a->attempt.id,
             a->attempt.created_at_ms > 0 ? a->attempt.created_at_ms : clock_now_ms());
    snprintf(a->attempt.message_id, sizeof(a->attempt.message_id), "%s", j->message_id);
    a->attempt.attempt_no = j->attempt_no;
    snprintf(a->attempt.mode, sizeof(a->attempt.mode), "%s", t->mode);
    snprintf(a->attempt.endpoint_id, sizeof(a->attempt.endpoint_id), "%s", t->id);
    a->sched_version = j->sched_version;
    __atomic_add_fetch(&w->attempts, 1, __ATOMIC_RELAXED);

    if (!x->filtered) { /* a skip says nothing of the receiver's health */
        t->consecutive_failures = ok ? 0 : t->consecutive_failures + 1;
        breaker_result(w, t, j, ok, clock_now_ms());
        track_health(w, t, ok, a->attempt.response_status, clock_now_ms());
        histogram_record(ok ? &w->latency_ok : &w->latency_failed, a->attempt.latency_ms);
    }
    if (j->attempt_no == 1) {
        int64_t made = id_uuid7_time_ms(j->message_id);
        if (made > 0 && a->attempt.created_at_ms >= made)
            histogram_record(&w->first_attempt_lag, a->attempt.created_at_ms - made);
    }
    if (ok || x->filtered) {
        a->status = ok ? STATUS_SUCCEEDED : STATUS_FILTERED;
        if (!strcmp(t->fifo_head, j->message_id))
            t->fifo_head[0] = '\0';
        if (ok)
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
            if (!strcmp(t->fifo_head, j->message_id))
                t->fifo_head[0] = '\0';
            __atomic_add_fetch(&w->failed_permanent, 1, __ATOMIC_RELAXED);
        } else {
            a->status = STATUS_PENDING_RETRY;
            if (t->pol && t->pol->fifo) /* a failing head holds the rest of this endpoint */
                snprintf(t->fifo_head, sizeof(t->fifo_head), "%s", j->message_id);
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
    x->filtered = false;
    free(x->tx_body);
    free(x->tx_headers);
    x->tx_body = x->tx_headers = NULL;
    x->next_free = w->free_transfers;
    w->free_transfers = x;
    t->in_flight--;
    w->in_flight--;
    if (pump && !w->draining)
        worker__pump(w, t);
}

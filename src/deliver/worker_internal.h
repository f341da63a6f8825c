/*
 * worker internal - shared by worker.c (the loop, the feed, lifecycle),
 * worker_attempts.c (endpoints, transfers, attempts) and worker_backlog.c
 * (resident jobs and paging the backlog in): worker__ names, one delivery
 * thread's state. See worker.h and docs/internals/dispatcher.md.
 *
 * Data: a resident job is in the index and in exactly one of the heap
 * (JOB_QUEUED), its target's wait queue (JOB_WAITING), a transfer
 * (JOB_RUNNING) or an attempt op on its way through the committer
 * (JOB_COMMITTING). A superseded job has left the index and is freed where
 * it is met next. Targets (endpoints) are cached in a hash table for the
 * thread's life; those whose backlog is partly in the store ("spilled") sit
 * in a second heap keyed by the earliest due time they may hold.
 * Threading: the worker's own thread, except where worker.c takes w->mu.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_DELIVER_WORKER_INTERNAL_H
#define HOOKD_DELIVER_WORKER_INTERNAL_H

#include <curl/curl.h>
#include <pthread.h>

#include "core/breaker.h"
#include "deliver/jobs.h"
#include "deliver/oauth2.h"
#include "deliver/policy.h"
#include "deliver/request.h"
#include "deliver/worker.h"
#include "util/histogram.h"
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
/* Several nodes on one store: how often a thread looks for work no live node holds. */
#define SHARED_RESCAN_MS 2000
#define NO_POS ((size_t)-1)

struct target {
    char id[ID_MAX];
    char mode[8]; /* the endpoint's, once loaded: its messages' mode */
    struct request_target t;
    bool loaded;
    bool stale;
    int64_t keys_expire_ms; /* the earliest expiry of the loaded keys; 0 = none */
    bool paused;
    struct delivery_policy *pol;       /* NULL = none (deliver/policy.h) */
    struct token_bucket period_bucket; /* pol->rate per pol->period_ms */
    int period_rate;
    int limit_nodes; /* the live nodes its buckets were shared among (share_limits) */
    int64_t period_ms;
    int64_t oauth2_hold_until_ms; /* mono ms: fail at once until then (last fetch failed) */
    /* fifo: the message whose retry holds the others ("" = none); in memory
     * only, so a restart lets newer messages go first once */
    char fifo_head[ID_MAX];
    /* The circuit breaker (core/breaker.h). Failures count once per message:
     * a message's own retries do not count again until another message
     * fails, so one payload the receiver rejects cannot open the circuit. */
    struct breaker br;
    bool br_loaded;              /* its state was read from the store once */
    char br_last_failed[ID_MAX]; /* the message of the last failure counted */
    int64_t failing_since_ms;    /* attempts failing since, no success between (0 = none) */
    char oauth2_error[256];
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
    /* the endpoint's transformation's output for this attempt (NULL: none) */
    char *tx_body, *tx_headers;
    size_t tx_body_len;
    bool filtered; /* the transformation skipped this delivery: status filtered */
    struct job *job;
    struct target *target;
    struct transfer *next_free;
    struct transfer *active_prev, *active_next; /* in w->active while in the multi */
};

/* One finished attempt on its way to the store and back. */
struct attempt_op {
    struct job *job; /* JOB_COMMITTING: owned by this op until settled */
    struct store_attempt attempt;
    enum store_status status;
    int64_t next_at_ms;
    int64_t sched_version;
    enum err result; /* of its commit, set before it is settled */
    struct attempt_op *next;
};

/* The attempts a loop iteration finished, recorded as one commit op: one
 * savepoint (SQLite copies each page an op touches into its sub-journal)
 * for all of them instead of one each. */
struct attempt_batch {
    struct commit_op op;
    struct worker *w;
    struct attempt_op *head;
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
    struct attempt_op *settle_head, *settle_tail; /* committed attempts to settle */
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
    struct attempt_op *unsent_head, *unsent_tail; /* finished, not yet submitted */
    struct oauth2_cache *oauth2;                  /* tokens of this thread's oauth2 endpoints */
    size_t payload_bytes;
    bool backlog_known; /* the start-up lookup of endpoints with a backlog is done */
    bool shared;        /* other nodes may share the store (store_shared): look again */
    int64_t backlog_retry_ms;

    unsigned long long attempts, succeeded, failed_attempts, failed_permanent, paged_in;
    long long stat_in_flight, stat_scheduled, stat_resident;
    int64_t stat_loop_mono_ms; /* when the loop last went round */
    /* attempt latency (ms) by outcome, and a message's wait for its first attempt */
    struct histogram latency_ok, latency_failed, first_attempt_lag;
};

/* ---- worker_backlog.c: payload memory, resident jobs, paging ---- */
/* Free j's payload (it is read back when due). */
void worker__job_drop_payload(struct worker *w, struct job *j);
/* Free j and its payload. */
void worker__job_release(struct worker *w, struct job *j);
/* Take the feed item's payload when the thread's budget allows. */
void worker__job_take_payload(struct worker *w, struct job *j, struct feed_item *it);
/* Keep t in the page heap exactly while its backlog may be paged in now. */
void worker__pages_update(struct worker *w, struct target *t);
/* The store holds a message of t due at due_ms that is not resident. */
void worker__spill(struct worker *w, struct target *t, int64_t due_ms);
/* May a message of t due at due_ms become resident now? */
bool worker__has_room(const struct worker *w, const struct target *t, int64_t due_ms, int64_t now);
/* A new job (not resident yet). */
struct job *worker__job_new(struct target *t, const char *message_id, int attempt_no,
                            int64_t due_ms, int64_t sched_version);
/* Make j resident and schedule it. */
void worker__admit(struct worker *w, struct job *j);
/* j is no longer the resident job of its message. */
void worker__evict(struct worker *w, struct job *j);
/* A newer version of j's message arrived: j is freed where it is met next. */
void worker__supersede(struct worker *w, struct job *j);
/* Page in the backlogs whose time has come (a bounded number per loop). */
void worker__page_due(struct worker *w);
/* After a start: which endpoints have unfinished messages (not the messages). */
void worker__find_backlog(struct worker *w);

/* ---- worker_attempts.c: endpoints, transfers, attempts ---- */
/* Forget t's loaded settings and keys. */
void worker__target_clear(struct target *t);
/* The cached endpoint, or NULL. */
struct target *worker__target_find(struct worker *w, const char *id);
/* The cached endpoint, created (unloaded) when missing. */
struct target *worker__target_get(struct worker *w, const char *id);
/* Make sure t holds current settings; false when the endpoint cannot be read. */
bool worker__target_load(struct worker *w, struct target *t);
/* Free an attempt op (not its job). */
void worker__attempt_op_free(struct attempt_op *a);
/* Submit the attempts finished so far as one commit op. */
void worker__submit_attempts(struct worker *w);
/* The attempt of a->job is on disk (or failed to be): let the job go or requeue it. */
void worker__settle(struct worker *w, struct attempt_op *a);
/* Start waiting jobs of t while its limits allow. */
void worker__pump(struct worker *w, struct target *t);
/* Route a due job to its endpoint's queue and start what may start. */
void worker__dispatch_job(struct worker *w, struct job *j);
/* Pump the targets whose wake time has come; the earliest pending wake. */
int64_t worker__pump_woken(struct worker *w);
/* A transfer ended: its attempt op goes to the committer. */
void worker__finish_transfer(struct worker *w, struct transfer *x, CURLcode result);

#endif

/*
 * jobs - the in-memory side of one delivery thread's schedule: a job per
 * resident message, a min-heap on due time and an index by message id.
 *
 * Description: a job is one message on its way (ARCHITECTURE §3). Only
 * messages due within a short horizon are resident; the rest stay in the
 * store and are paged in (worker.c). The index makes a message resident at
 * most once, whatever the feed and the pages say about it; a job replaced by
 * a newer version of its message is marked superseded and freed where it
 * is met next (heap pop, end of its transfer).
 * Threading: one delivery thread; no locking.
 * Ownership: the caller owns jobs; the heap and the index only point at them.
 * Errors: none; OOM aborts.
 * See also: worker.c, docs/internals/dispatcher.md.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_DELIVER_JOBS_H
#define HOOKD_DELIVER_JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/id.h"

struct target;

enum job_state {
    JOB_QUEUED,     /* in the heap, not due yet or not dispatched yet */
    JOB_WAITING,    /* due, in its target's wait queue (caps, pause, tokens) */
    JOB_RUNNING,    /* a transfer */
    JOB_COMMITTING, /* finished; its attempt op has not committed yet */
};

struct job {
    char message_id[ID_MAX];
    struct target *target;
    enum job_state state;
    bool superseded;     /* no longer the message's job: free it where met */
    bool auth_refreshed; /* an OAuth2 token was refreshed after a 401 to this message */
    int attempt_no;      /* number of the next attempt (1-based) */
    int64_t due_ms;
    int64_t sched_version; /* the message's version when this job was made */
    char *payload;         /* NULL until loaded (all or none of the three) */
    size_t payload_len;
    char *content_type;
    char *headers_json;
    char *webhook_id;     /* with the payload: the event's public id; NULL = message_id */
    struct job *next;     /* target wait queue */
    struct job *idx_next; /* index chain */
};

/* Free j and its buffers. NULL is a no-op. */
void job_free(struct job *j);

struct job_heap {
    struct job **v;
    size_t len, cap;
};

void job_heap_push(struct job_heap *h, struct job *j);
/* The earliest job; the heap must not be empty. */
struct job *job_heap_pop(struct job_heap *h);
static inline struct job *job_heap_top(const struct job_heap *h)
{
    return h->len ? h->v[0] : NULL;
}
void job_heap_release(struct job_heap *h); /* frees the array, not the jobs */

struct job_index {
    struct job **buckets;
    size_t nbuckets, len;
};

struct job *job_index_find(const struct job_index *x, const char *message_id);
/* Add j; no job of the same message may be in the index. */
void job_index_add(struct job_index *x, struct job *j);
/* Remove j (a no-op when j is not in the index). */
void job_index_remove(struct job_index *x, struct job *j);
void job_index_release(struct job_index *x); /* frees the buckets, not the jobs */

#endif

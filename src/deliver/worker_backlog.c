/*
 * worker_backlog - one delivery thread's resident jobs and how its backlog is
 * paged in from the store: payload memory, the page heap of spilled
 * endpoints, admitting and evicting jobs, reading a page (see
 * worker_internal.h, docs/internals/dispatcher.md "Paging the backlog").
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deliver/worker_internal.h"
#include "util/clock.h"
#include "util/log.h"

/* ---- payload memory ---- */

void worker__job_drop_payload(struct worker *w, struct job *j)
{
    if (j->payload)
        w->payload_bytes -= j->payload_len;
    free(j->payload);
    free(j->content_type);
    free(j->headers_json);
    free(j->webhook_id);
    j->payload = j->content_type = j->headers_json = j->webhook_id = NULL;
    j->payload_len = 0;
}

void worker__job_release(struct worker *w, struct job *j)
{
    worker__job_drop_payload(w, j);
    job_free(j);
}

/* Take the feed item's payload when the budget allows (else it is read back when due). */
/* Copy a paged-in message's payload into j when the budget allows. */
static void job_copy_payload(struct worker *w, struct job *j, const struct store_pending *p)
{
    if (!p->payload || !p->content_type || w->payload_bytes + p->payload_len > PAYLOAD_BUDGET)
        return;
    j->payload = malloc(p->payload_len + 1);
    j->content_type = strdup(p->content_type);
    j->headers_json = p->headers_json ? strdup(p->headers_json) : NULL;
    j->webhook_id = p->webhook_id ? strdup(p->webhook_id) : NULL;
    if (!j->payload || !j->content_type || (p->headers_json && !j->headers_json) ||
        (p->webhook_id && !j->webhook_id))
        abort();
    memcpy(j->payload, p->payload, p->payload_len);
    j->payload[p->payload_len] = '\0';
    j->payload_len = p->payload_len;
    w->payload_bytes += p->payload_len;
}

void worker__job_take_payload(struct worker *w, struct job *j, struct feed_item *it)
{
    if (!it->payload || w->payload_bytes + it->payload_len > PAYLOAD_BUDGET)
        return;
    j->payload = it->payload;
    j->payload_len = it->payload_len;
    j->content_type = it->content_type;
    j->headers_json = it->headers_json;
    j->webhook_id = it->webhook_id;
    it->payload = it->content_type = it->headers_json = it->webhook_id = NULL;
    w->payload_bytes += j->payload_len;
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
void worker__pages_update(struct worker *w, struct target *t)
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
void worker__spill(struct worker *w, struct target *t, int64_t due_ms)
{
    if (!t->spilled || due_ms < t->spill_due_ms)
        t->spill_due_ms = due_ms;
    t->spilled = true;
    worker__pages_update(w, t);
}

/* ---- resident jobs ---- */

bool worker__has_room(const struct worker *w, const struct target *t, int64_t due_ms, int64_t now)
{
    return due_ms <= now + HORIZON_MS && t->resident < w->resident_per_endpoint &&
           w->index.len < RESIDENT_MAX;
}

struct job *worker__job_new(struct target *t, const char *message_id, int attempt_no,
                            int64_t due_ms, int64_t sched_version)
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
void worker__admit(struct worker *w, struct job *j)
{
    job_index_add(&w->index, j);
    j->target->resident++;
    j->state = JOB_QUEUED;
    job_heap_push(&w->heap, j);
}

/* j is no longer the resident job of its message. */
void worker__evict(struct worker *w, struct job *j)
{
    job_index_remove(&w->index, j);
    j->target->resident--;
    worker__pages_update(w, j->target);
}

/* A newer version of j's message arrived: j is freed where it is met next. */
void worker__supersede(struct worker *w, struct job *j)
{
    if (j->target && !strcmp(j->target->fifo_head, j->message_id))
        j->target->fifo_head[0] = '\0'; /* replayed, cancelled or deleted: no longer the head */
    worker__evict(w, j);
    j->superseded = true;
    worker__job_drop_payload(w, j);
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
    if (!worker__has_room(c->w, c->t, p->due_ms, c->now)) {
        c->stopped = true;
        c->stop_due = p->due_ms;
        return false;
    }
    struct job *j =
        worker__job_new(c->t, p->message_id, p->attempt_count + 1, p->due_ms, p->sched_version);
    job_copy_payload(c->w, j, p); /* read with the page: no second read when it starts */
    worker__admit(c->w, j);
    __atomic_add_fetch(&c->w->paged_in, 1, __ATOMIC_RELAXED);
    return true;
}

static void page_in(struct worker *w, struct target *t, int64_t now)
{
    if (!worker__target_load(w, t)) {
        t->spill_due_ms = now + HORIZON_MS + STORE_RETRY_MS;
        worker__pages_update(w, t);
        return;
    }
    if (t->paused) { /* resume pages it in */
        worker__pages_update(w, t);
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
    worker__pages_update(w, t);
}

void worker__page_due(struct worker *w)
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
        worker__spill(w, worker__target_get(w, endpoint_id), due_ms);
    return true;
}

/* After a start: which endpoints have unfinished messages (not the messages). When
 * other nodes share the store, again every SHARED_RESCAN_MS: the store then answers
 * the endpoints with work no live node holds (a dead node's, or nobody's yet). */
void worker__find_backlog(struct worker *w)
{
    if ((w->backlog_known && !w->shared) || clock_mono_ms() < w->backlog_retry_ms)
        return;
    struct err_detail d = {0};
    if (store_backlog_endpoints(w->store, on_backlog_endpoint, w, &d) != ERR_OK) {
        log_warn("dispatcher", "cannot look up the unfinished messages: %s", d.msg);
        w->backlog_retry_ms = clock_mono_ms() + STORE_RETRY_MS;
        return;
    }
    bool first = !w->backlog_known;
    w->backlog_known = true;
    if (w->shared)
        w->backlog_retry_ms = clock_mono_ms() + SHARED_RESCAN_MS;
    if (first && w->pages_len)
        log_info("dispatcher", "thread %d: %zu endpoints have unfinished messages", w->thread_no,
                 w->pages_len);
}

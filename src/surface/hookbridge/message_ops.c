/*
 * message_ops - message operations of API.md §3.2: retry-now, cancel,
 * replay (single, replay-all, replay-batch) and deletes (single,
 * delete-batch, delete-all); also POST /v1/dlq/replay/{id} (dlq.c).
 *
 * Description: every operation is one commit op, so a bulk request is one
 * transaction: it either happens entirely or not at all. Each reschedule
 * bumps the message's sched_version in the store; after the commit, the
 * store's completion feed hands retried and replayed messages to delivery
 * (payload loaded from the store), whose jobs of older versions are dropped. States and
 * codes (docs/api.md "Message operations"): a wrong state is 409
 * INVALID_STATE, a replay past payload retention 410 RETENTION_EXPIRED, the
 * STORE_REPLAY_LIMIT-th replay 429 REPLAY_LIMIT_EXCEEDED.
 * Threading: handlers on libmicrohttpd threads, apply/done on the committer.
 * Ownership: each op is freed by its resume callback.
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "surface/hookbridge/internal.h"
#include "util/clock.h"
#include "util/utf8.h"

#define BATCH_IDS_MAX 100
#define BULK_LIMIT_MAX 1000
#define REPLAY_ALL_DEFAULT_LIMIT 100
#define DELETE_ALL_DEFAULT_LIMIT 1000

/* ---- shared helpers ---- */

/* The error envelope for an op's result: the message-op codes carry their own status. */
static void respond_op_err(struct http_request *r, enum err e, const struct err_detail *d)
{
    unsigned status = 0;
    if (!strcmp(d->code, "INVALID_STATE"))
        status = MHD_HTTP_CONFLICT;
    else if (!strcmp(d->code, "RETENTION_EXPIRED"))
        status = MHD_HTTP_GONE;
    else if (!strcmp(d->code, "REPLAY_LIMIT_EXCEEDED"))
        status = MHD_HTTP_TOO_MANY_REQUESTS;
    if (status)
        http__respond_error(r, status, d->code, "%s", d->msg);
    else
        http__respond_err(r, e, d);
}

/* {message, data, meta}: the replay-all / replay-batch envelope (API.md §2). */
static void respond_data_msg(struct http_request *r, unsigned status, const char *message,
                             json_t *data)
{
    json_t *root = json_pack("{s:s, s:o, s:{s:s}}", "message", message, "data", data, "meta",
                             "request_id", r->request_id);
    http__respond_json(r, status, root); /* a NULL root answers a fixed 500 */
}

static void respond_not_found(struct http_request *r, const char *id)
{
    http__respond_error(r, MHD_HTTP_NOT_FOUND, "MESSAGE_NOT_FOUND", "message '%.*s' not found",
                        (int)utf8_prefix_len(id, strlen(id), 64), id);
}

/* ---- single-message actions: retry-now, cancel, replay, DLQ replay ---- */

struct action_op {
    struct http_op base;
    enum store_msg_action act;
    char mode[8];
    char id[ID_MAX];
    int64_t now_ms;
    struct store_resched rs;
};

static enum err action_apply(struct store *s, struct commit_op *op)
{
    struct action_op *x = (struct action_op *)op;
    return store_message_action(s, x->mode, x->id, x->act, x->now_ms, &x->rs, &op->detail);
}

static void action_resume(struct http_request *r)
{
    struct action_op *x = r->op;
    if (x->base.op.result != ERR_OK) {
        respond_op_err(r, x->base.op.result, &x->base.op.detail);
    } else if (x->act == STORE_ACT_REPLAY || x->act == STORE_ACT_REPLAY_DLQ) {
        http__respond_data(r, MHD_HTTP_OK,
                           json_pack("{s:s, s:s}", "message_id", x->id, "status", "queued"), NULL);
    } else { /* retry-now and cancel answer the Message as it is now */
        struct store_message m;
        struct err_detail d = {0};
        struct store *s = http__store_acquire(r->server);
        enum err e = s ? store_message_get(s, r->key.mode, x->id, &m, &d) : ERR_IO;
        http__store_release(r->server, s);
        if (e != ERR_OK) {
            http__respond_err(r, e, &d);
        } else {
            http__respond_data(r, MHD_HTTP_OK, hookbridge__render_message(&m), NULL);
            store_message_release(&m);
        }
    }
    free(x);
}

static void start_action(struct http_request *r, enum store_msg_action act)
{
    const char *id = r->param[0];
    if (!id_is_uuid(id) || id[ID_UUID_LEN] != '\0') {
        respond_not_found(r, id);
        return;
    }
    struct action_op *x = calloc(1, sizeof(*x));
    if (!x)
        abort();
    x->act = act;
    snprintf(x->mode, sizeof(x->mode), "%s", r->key.mode);
    snprintf(x->id, sizeof(x->id), "%s", id);
    x->now_ms = clock_now_ms();
    x->base.r = r;
    x->base.op.apply = action_apply;
    x->base.op.done = http__op_done;
    http__defer(r, &x->base.op, x, action_resume);
}

void hookbridge__messages_retry_now(struct http_request *r)
{
    start_action(r, STORE_ACT_RETRY_NOW);
}

void hookbridge__messages_cancel(struct http_request *r)
{
    start_action(r, STORE_ACT_CANCEL);
}

void hookbridge__messages_replay(struct http_request *r)
{
    start_action(r, STORE_ACT_REPLAY);
}

void hookbridge__dlq_replay(struct http_request *r)
{
    start_action(r, STORE_ACT_REPLAY_DLQ);
}

/* ---- DELETE /v1/messages/{id} ---- */

struct delete_op {
    struct http_op base;
    char mode[8];
    char id[ID_MAX];
    int64_t now_ms;
    int64_t deleted_at_ms;
    bool already;
};

static enum err delete_apply(struct store *s, struct commit_op *op)
{
    struct delete_op *x = (struct delete_op *)op;
    return store_message_delete(s, x->mode, x->id, x->now_ms, &x->deleted_at_ms, &x->already,
                                &op->detail);
}

static void delete_resume(struct http_request *r)
{
    struct delete_op *x = r->op;
    if (x->base.op.result != ERR_OK)
        http__respond_err(r, x->base.op.result, &x->base.op.detail);
    else
        http__respond_data(r, MHD_HTTP_OK,
                           json_pack("{s:s, s:o, s:b}", "message_id", x->id, "deleted_at",
                                     http__time(x->deleted_at_ms), "already_deleted", x->already),
                           NULL);
    free(x);
}

void hookbridge__messages_delete(struct http_request *r)
{
    const char *id = r->param[0];
    if (!id_is_uuid(id) || id[ID_UUID_LEN] != '\0') {
        respond_not_found(r, id);
        return;
    }
    struct delete_op *x = calloc(1, sizeof(*x));
    if (!x)
        abort();
    snprintf(x->mode, sizeof(x->mode), "%s", r->key.mode);
    snprintf(x->id, sizeof(x->id), "%s", id);
    x->now_ms = clock_now_ms();
    x->base.r = r;
    x->base.op.apply = delete_apply;
    x->base.op.done = http__op_done;
    http__defer(r, &x->base.op, x, delete_resume);
}

/* ---- bulk operations: replay-all, replay-batch, delete-batch, delete-all ---- */

enum bulk_kind { BULK_REPLAY_ALL, BULK_REPLAY_BATCH, BULK_DELETE_BATCH, BULK_DELETE_ALL };

enum outcome { OUT_REPLAYED, OUT_FAILED, OUT_STUCK, OUT_DELETED, OUT_ALREADY, OUT_NOT_FOUND };

struct bulk_item {
    char id[ID_MAX]; /* as given (batch) or selected (all) */
    enum outcome outcome;
    struct err_detail why; /* failed / stuck */
    int64_t deleted_at_ms;
    struct store_resched rs;
};

struct bulk_op {
    struct http_op base;
    enum bulk_kind kind;
    char mode[8];
    char endpoint_id[ID_MAX];
    struct store_msg_filter filter; /* the *_ALL kinds; points into this op */
    int limit;
    int64_t now_ms;
    struct bulk_item *items; /* batch: the given ids; all: filled in apply */
    int n;
};

static bool is_replay(enum bulk_kind k)
{
    return k == BULK_REPLAY_ALL || k == BULK_REPLAY_BATCH;
}

/* One item; only store failures (ERR_IO, ERR_BUSY) abort the whole op. */
static enum err bulk_one(struct store *s, struct bulk_op *x, struct bulk_item *it)
{
    if (!id_is_uuid(it->id) || it->id[ID_UUID_LEN] != '\0') {
        err_set(&it->why, ERR_NOTFOUND, "MESSAGE_NOT_FOUND", "message not found");
        it->outcome = is_replay(x->kind) ? OUT_FAILED : OUT_NOT_FOUND;
        return ERR_OK;
    }
    enum err e;
    if (is_replay(x->kind)) {
        e = store_message_action(s, x->mode, it->id, STORE_ACT_REPLAY, x->now_ms, &it->rs,
                                 &it->why);
        if (e == ERR_OK)
            it->outcome = OUT_REPLAYED;
        else if (e == ERR_CONFLICT && !strcmp(it->why.code, "INVALID_STATE"))
            it->outcome = OUT_STUCK; /* still on its way: left alone */
        else if (e == ERR_NOTFOUND || e == ERR_CONFLICT || e == ERR_LIMIT)
            it->outcome = OUT_FAILED;
        else
            return e;
        return ERR_OK;
    }
    bool already = false;
    e = store_message_delete(s, x->mode, it->id, x->now_ms, &it->deleted_at_ms, &already, &it->why);
    if (e == ERR_OK)
        it->outcome = already ? OUT_ALREADY : OUT_DELETED;
    else if (e == ERR_NOTFOUND)
        it->outcome = OUT_NOT_FOUND;
    else
        return e;
    return ERR_OK;
}

static enum err bulk_apply(struct store *s, struct commit_op *op)
{
    struct bulk_op *x = (struct bulk_op *)op;
    if (x->kind == BULK_REPLAY_ALL || x->kind == BULK_DELETE_ALL) {
        char(*ids)[ID_MAX] = calloc((size_t)x->limit, ID_MAX);
        if (!ids)
            abort();
        int n = 0;
        enum err e = store_message_select(s, &x->filter, x->limit, ids, &n, &op->detail);
        if (e == ERR_OK) {
            x->items = calloc((size_t)(n ? n : 1), sizeof(*x->items));
            if (!x->items)
                abort();
            for (int i = 0; i < n; i++)
                memcpy(x->items[i].id, ids[i], ID_MAX);
            x->n = n;
        }
        free(ids);
        if (e != ERR_OK)
            return e;
    }
    for (int i = 0; i < x->n; i++) {
        enum err e = bulk_one(s, x, &x->items[i]);
        if (e != ERR_OK) {
            op->detail = x->items[i].why;
            return e;
        }
    }
    return ERR_OK;
}

static void respond_replay(struct http_request *r, struct bulk_op *x)
{
    int replayed = 0, failed = 0, stuck = 0;
    json_t *results = json_array(), *replayed_ids = json_array(), *stuck_ids = json_array();
    for (int i = 0; i < x->n; i++) {
        struct bulk_item *it = &x->items[i];
        json_t *res = json_pack("{s:s, s:s}", "message_id", it->id, "status",
                                it->outcome == OUT_REPLAYED ? "replayed" : "failed");
        if (it->outcome == OUT_REPLAYED) {
            replayed++;
            json_array_append_new(replayed_ids, json_string(it->id));
        } else {
            if (it->outcome == OUT_STUCK) {
                stuck++;
                json_array_append_new(stuck_ids, json_string(it->id));
            } else {
                failed++;
            }
            json_object_set_new(res, "error", json_string(it->why.msg));
            json_object_set_new(res, "error_code", json_string(it->why.code));
        }
        json_array_append_new(results, res);
    }
    json_t *data =
        json_pack("{s:i, s:i, s:i}", "replayed", replayed, "failed", failed, "stuck", stuck);
    if (x->kind == BULK_REPLAY_ALL) {
        json_object_set_new(data, "replayed_message_ids", replayed_ids);
        json_object_set_new(data, "stuck_message_ids", stuck_ids);
        json_decref(results);
    } else {
        json_object_set_new(data, "results", results);
        json_decref(replayed_ids);
        json_decref(stuck_ids);
    }
    char msg[96];
    snprintf(msg, sizeof(msg), "%d message%s queued for replay", replayed,
             replayed == 1 ? "" : "s");
    respond_data_msg(r, MHD_HTTP_OK, msg, data);
}

static void respond_delete(struct http_request *r, struct bulk_op *x)
{
    if (x->kind == BULK_DELETE_ALL) {
        json_t *ids = json_array();
        int deleted = 0;
        for (int i = 0; i < x->n; i++) {
            if (x->items[i].outcome == OUT_DELETED) {
                deleted++;
                json_array_append_new(ids, json_string(x->items[i].id));
            }
        }
        http__respond_data(r, MHD_HTTP_OK,
                           json_pack("{s:i, s:o}", "deleted", deleted, "deleted_message_ids", ids),
                           NULL);
        return;
    }
    int counts[3] = {0}; /* deleted, already_deleted, not_found */
    json_t *results = json_array();
    for (int i = 0; i < x->n; i++) {
        struct bulk_item *it = &x->items[i];
        static const char *const names[] = {"deleted", "already_deleted", "not_found"};
        int k = it->outcome == OUT_DELETED ? 0 : it->outcome == OUT_ALREADY ? 1 : 2;
        counts[k]++;
        json_t *res = json_pack("{s:s, s:s}", "message_id", it->id, "outcome", names[k]);
        if (k < 2)
            json_object_set_new(res, "deleted_at", http__time(it->deleted_at_ms));
        json_array_append_new(results, res);
    }
    http__respond_data(r, MHD_HTTP_OK,
                       json_pack("{s:o, s:i, s:i, s:i}", "results", results, "deleted_count",
                                 counts[0], "already_deleted_count", counts[1], "not_found_count",
                                 counts[2]),
                       NULL);
}

static void bulk_free(struct bulk_op *x)
{
    free(x->items);
    free(x);
}

static void bulk_resume(struct http_request *r)
{
    struct bulk_op *x = r->op;
    if (x->base.op.result != ERR_OK)
        http__respond_err(r, x->base.op.result, &x->base.op.detail);
    else if (is_replay(x->kind))
        respond_replay(r, x);
    else
        respond_delete(r, x);
    bulk_free(x);
}

static struct bulk_op *bulk_new(struct http_request *r, enum bulk_kind kind)
{
    struct bulk_op *x = calloc(1, sizeof(*x));
    if (!x)
        abort();
    x->kind = kind;
    snprintf(x->mode, sizeof(x->mode), "%s", r->key.mode);
    x->filter.mode = x->mode;
    x->filter.status = -1;
    x->now_ms = clock_now_ms();
    x->base.r = r;
    x->base.op.apply = bulk_apply;
    x->base.op.done = http__op_done;
    return x;
}

/* Parse {message_ids: [1..BATCH_IDS_MAX strings]} into x->items; responds 400 on error. */
static bool parse_ids(struct http_request *r, struct bulk_op *x)
{
    struct err_detail d = {0};
    json_t *body = http__parse_body(r, false, &d);
    if (!body) {
        http__respond_err(r, ERR_INVAL, &d);
        return false;
    }
    json_t *ids = json_is_object(body) ? json_object_get(body, "message_ids") : NULL;
    size_t n = json_is_array(ids) ? json_array_size(ids) : 0;
    const char *problem = NULL;
    if (!json_is_object(body))
        problem = "the body must be a JSON object";
    else if (!json_is_array(ids))
        problem = "'message_ids' must be an array of message ids";
    else if (n == 0 || n > BATCH_IDS_MAX)
        problem = "'message_ids' must hold 1 to 100 ids";
    for (size_t i = 0; !problem && i < n; i++) {
        json_t *v = json_array_get(ids, i);
        if (!json_is_string(v) || json_string_length(v) >= ID_MAX)
            problem = "every entry of 'message_ids' must be a message id string";
    }
    if (problem) {
        json_decref(body);
        http__respond_error(r, MHD_HTTP_BAD_REQUEST, "INVALID_REQUEST", "%s", problem);
        return false;
    }
    x->items = calloc(n, sizeof(*x->items));
    if (!x->items)
        abort();
    for (size_t i = 0; i < n; i++)
        snprintf(x->items[i].id, ID_MAX, "%s", json_string_value(json_array_get(ids, i)));
    x->n = (int)n;
    json_decref(body);
    return true;
}

/* Query "status" into *out (-1 when absent); responds 400 when not a status name. */
static bool parse_status(struct http_request *r, int *out)
{
    const char *v = http__query(r, "status");
    *out = -1;
    if (!v)
        return true;
    for (int s = STATUS_QUEUED; s <= STATUS_FAILED_PERMANENT; s++) {
        if (!strcmp(v, store_status_name((enum store_status)s))) {
            *out = s;
            return true;
        }
    }
    http__respond_error(r, MHD_HTTP_BAD_REQUEST, "INVALID_REQUEST",
                        "'status' must be queued, delivering, succeeded, pending_retry or "
                        "failed_permanent");
    return false;
}

/* Query "endpoint_id" into x->endpoint_id; responds 400 when malformed. */
static bool parse_endpoint(struct http_request *r, struct bulk_op *x)
{
    const char *v = http__query(r, "endpoint_id");
    if (!v)
        return true;
    if (!id_is_endpoint(v)) {
        http__respond_error(r, MHD_HTTP_BAD_REQUEST, "INVALID_REQUEST",
                            "'endpoint_id' must look like ep_ followed by 32 hex characters");
        return false;
    }
    snprintf(x->endpoint_id, sizeof(x->endpoint_id), "%s", v);
    x->filter.endpoint_id = x->endpoint_id;
    return true;
}

void hookbridge__messages_replay_all(struct http_request *r)
{
    struct bulk_op *x = bulk_new(r, BULK_REPLAY_ALL);
    if (!http__query(r, "status")) {
        bulk_free(x);
        http__respond_error(r, MHD_HTTP_BAD_REQUEST, "INVALID_REQUEST",
                            "query parameter 'status' is required (e.g. status=failed_permanent)");
        return;
    }
    if (!parse_status(r, &x->filter.status) || !parse_endpoint(r, x) ||
        !http__parse_limit(r, REPLAY_ALL_DEFAULT_LIMIT, BULK_LIMIT_MAX, &x->limit)) {
        bulk_free(x);
        return;
    }
    http__defer(r, &x->base.op, x, bulk_resume);
}

void hookbridge__messages_replay_batch(struct http_request *r)
{
    struct bulk_op *x = bulk_new(r, BULK_REPLAY_BATCH);
    if (!parse_ids(r, x)) {
        bulk_free(x);
        return;
    }
    http__defer(r, &x->base.op, x, bulk_resume);
}

void hookbridge__messages_delete_batch(struct http_request *r)
{
    struct bulk_op *x = bulk_new(r, BULK_DELETE_BATCH);
    if (!parse_ids(r, x)) {
        bulk_free(x);
        return;
    }
    http__defer(r, &x->base.op, x, bulk_resume);
}

void hookbridge__messages_delete_all(struct http_request *r)
{
    struct bulk_op *x = bulk_new(r, BULK_DELETE_ALL);
    if (!parse_status(r, &x->filter.status) || !parse_endpoint(r, x) ||
        !http__parse_time(r, "created_after", &x->filter.created_after_ms) ||
        !http__parse_time(r, "created_before", &x->filter.created_before_ms) ||
        !http__parse_limit(r, DELETE_ALL_DEFAULT_LIMIT, BULK_LIMIT_MAX, &x->limit)) {
        bulk_free(x);
        return;
    }
    http__defer(r, &x->base.op, x, bulk_resume);
}

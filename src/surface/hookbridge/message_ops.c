/*
 * message_ops - message operations of API.md §3.2 on service/messages.h:
 * retry-now, cancel, replay (single, replay-all, replay-batch) and deletes
 * (single, delete-batch, delete-all); also POST /v1/dlq/replay/{id} (dlq.c).
 *
 * Description: the surface parses ids, query and body and renders HookBridge's
 * envelopes; the rules (states, outcomes, one transaction per request) are the
 * service's. Codes (docs/api.md "Message operations"): a wrong state is 409
 * INVALID_STATE, a replay past payload retention 410 RETENTION_EXPIRED, the
 * STORE_REPLAY_LIMIT-th replay 429 REPLAY_LIMIT_EXCEEDED.
 * Threading: handlers on libmicrohttpd threads; ops apply on the committer.
 * Ownership: each op is freed by its resume callback.
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/messages.h"
#include "surface/hookbridge/internal.h"

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

/* ---- single-message actions: retry-now, cancel, replay, DLQ replay ---- */

static void action_resume(struct http_request *r)
{
    struct service_message_action_op *x = r->op;
    if (x->head.op.result != ERR_OK) {
        respond_op_err(r, x->head.op.result, &x->head.op.detail);
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
    struct service_message_action_op *x = malloc(sizeof(*x));
    if (!x)
        abort();
    struct err_detail d = {0};
    enum err e = service_message_action_op_init(x, act, r->key.mode, r->param[0], &d);
    if (e != ERR_OK) {
        free(x);
        http__respond_err(r, e, &d);
        return;
    }
    http__defer(r, &x->head, action_resume);
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

static void delete_resume(struct http_request *r)
{
    struct service_message_delete_op *x = r->op;
    if (x->head.op.result != ERR_OK)
        http__respond_err(r, x->head.op.result, &x->head.op.detail);
    else
        http__respond_data(r, MHD_HTTP_OK,
                           json_pack("{s:s, s:o, s:b}", "message_id", x->id, "deleted_at",
                                     http__time(x->deleted_at_ms), "already_deleted", x->already),
                           NULL);
    free(x);
}

void hookbridge__messages_delete(struct http_request *r)
{
    struct service_message_delete_op *x = malloc(sizeof(*x));
    if (!x)
        abort();
    struct err_detail d = {0};
    enum err e = service_message_delete_op_init(x, r->key.mode, r->param[0], &d);
    if (e != ERR_OK) {
        free(x);
        http__respond_err(r, e, &d);
        return;
    }
    http__defer(r, &x->head, delete_resume);
}

/* ---- bulk operations: replay-all, replay-batch, delete-batch, delete-all ---- */

static void respond_replay(struct http_request *r, struct service_bulk_op *x)
{
    int replayed = 0, failed = 0, stuck = 0;
    json_t *results = json_array(), *replayed_ids = json_array(), *stuck_ids = json_array();
    for (int i = 0; i < x->n; i++) {
        struct service_bulk_item *it = &x->items[i];
        json_t *res = json_pack("{s:s, s:s}", "message_id", it->id, "status",
                                it->outcome == SERVICE_BULK_REPLAYED ? "replayed" : "failed");
        if (it->outcome == SERVICE_BULK_REPLAYED) {
            replayed++;
            json_array_append_new(replayed_ids, json_string(it->id));
        } else {
            if (it->outcome == SERVICE_BULK_STUCK) {
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
    if (x->kind == SERVICE_BULK_REPLAY_ALL) {
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

static void respond_delete(struct http_request *r, struct service_bulk_op *x)
{
    if (x->kind == SERVICE_BULK_DELETE_ALL) {
        json_t *ids = json_array();
        int deleted = 0;
        for (int i = 0; i < x->n; i++) {
            if (x->items[i].outcome == SERVICE_BULK_DELETED) {
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
        struct service_bulk_item *it = &x->items[i];
        static const char *const names[] = {"deleted", "already_deleted", "not_found"};
        int k = it->outcome == SERVICE_BULK_DELETED   ? 0
                : it->outcome == SERVICE_BULK_ALREADY ? 1
                                                      : 2;
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

static void bulk_free(struct service_bulk_op *x)
{
    service_bulk_op_release(x);
    free(x);
}

static void bulk_resume(struct http_request *r)
{
    struct service_bulk_op *x = r->op;
    if (x->head.op.result != ERR_OK)
        http__respond_err(r, x->head.op.result, &x->head.op.detail);
    else if (service_bulk_is_replay(x->kind))
        respond_replay(r, x);
    else
        respond_delete(r, x);
    bulk_free(x);
}

static struct service_bulk_op *bulk_new(struct http_request *r, enum service_bulk_kind kind)
{
    struct service_bulk_op *x = malloc(sizeof(*x));
    if (!x)
        abort();
    service_bulk_op_init(x, kind, r->key.mode);
    return x;
}

/* Parse {message_ids: [1..SERVICE_BULK_IDS_MAX strings]} into x->items; responds 400 on error. */
static bool parse_ids(struct http_request *r, struct service_bulk_op *x)
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
    else if (n == 0 || n > SERVICE_BULK_IDS_MAX)
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
    service_bulk_op_reserve(x, (int)n);
    for (size_t i = 0; i < n; i++)
        snprintf(x->items[i].id, ID_MAX, "%s", json_string_value(json_array_get(ids, i)));
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
    for (int s = STATUS_QUEUED; s <= STORE_STATUS_LAST; s++) {
        if (!strcmp(v, store_status_name((enum store_status)s))) {
            *out = s;
            return true;
        }
    }
    http__respond_error(r, MHD_HTTP_BAD_REQUEST, "INVALID_REQUEST",
                        "'status' must be queued, delivering, succeeded, pending_retry, "
                        "failed_permanent, deduplicated or filtered");
    return false;
}

/* Query "endpoint_id" into x's filter; responds 400 when malformed. */
static bool parse_endpoint(struct http_request *r, struct service_bulk_op *x)
{
    const char *v = http__query(r, "endpoint_id");
    struct err_detail d = {0};
    if (v && service_bulk_op_endpoint(x, v, &d) != ERR_OK) {
        http__respond_err(r, ERR_INVAL, &d);
        return false;
    }
    return true;
}

void hookbridge__messages_replay_all(struct http_request *r)
{
    struct service_bulk_op *x = bulk_new(r, SERVICE_BULK_REPLAY_ALL);
    if (!http__query(r, "status")) {
        bulk_free(x);
        http__respond_error(r, MHD_HTTP_BAD_REQUEST, "INVALID_REQUEST",
                            "query parameter 'status' is required (e.g. status=failed_permanent)");
        return;
    }
    if (!parse_status(r, &x->filter.status) || !parse_endpoint(r, x) ||
        !http__parse_limit(r, REPLAY_ALL_DEFAULT_LIMIT, SERVICE_BULK_LIMIT_MAX, &x->limit)) {
        bulk_free(x);
        return;
    }
    http__defer(r, &x->head, bulk_resume);
}

void hookbridge__messages_replay_batch(struct http_request *r)
{
    struct service_bulk_op *x = bulk_new(r, SERVICE_BULK_REPLAY_BATCH);
    if (!parse_ids(r, x)) {
        bulk_free(x);
        return;
    }
    http__defer(r, &x->head, bulk_resume);
}

void hookbridge__messages_delete_batch(struct http_request *r)
{
    struct service_bulk_op *x = bulk_new(r, SERVICE_BULK_DELETE_BATCH);
    if (!parse_ids(r, x)) {
        bulk_free(x);
        return;
    }
    http__defer(r, &x->head, bulk_resume);
}

void hookbridge__messages_delete_all(struct http_request *r)
{
    struct service_bulk_op *x = bulk_new(r, SERVICE_BULK_DELETE_ALL);
    if (!parse_status(r, &x->filter.status) || !parse_endpoint(r, x) ||
        !http__parse_time(r, "created_after", &x->filter.created_after_ms) ||
        !http__parse_time(r, "created_before", &x->filter.created_before_ms) ||
        !http__parse_limit(r, DELETE_ALL_DEFAULT_LIMIT, SERVICE_BULK_LIMIT_MAX, &x->limit)) {
        bulk_free(x);
        return;
    }
    http__defer(r, &x->head, bulk_resume);
}

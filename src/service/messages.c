/* messages - see messages.h. SPDX-License-Identifier: MIT */
#include "service/messages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "util/utf8.h"

static bool is_message_id(const char *id)
{
    return id_is_uuid(id) && id[ID_UUID_LEN] == '\0';
}

static enum err not_found(const char *id, struct err_detail *d)
{
    return err_set(d, ERR_NOTFOUND, "MESSAGE_NOT_FOUND", "message '%.*s' not found",
                   (int)utf8_prefix_len(id, strlen(id), 64), id);
}

/* ---- one message ---- */

static enum err action_apply(struct store *s, struct commit_op *op)
{
    struct service_message_action_op *x = (struct service_message_action_op *)op;
    return store_message_action(s, x->mode, x->id, x->act, x->now_ms, &x->rs, &op->detail);
}

enum err service_message_action_op_init(struct service_message_action_op *x,
                                        enum store_msg_action act, const char *mode, const char *id,
                                        struct err_detail *d)
{
    memset(x, 0, sizeof(*x));
    if (!is_message_id(id))
        return not_found(id, d);
    x->act = act;
    snprintf(x->mode, sizeof(x->mode), "%s", mode);
    snprintf(x->id, sizeof(x->id), "%s", id);
    x->now_ms = clock_now_ms();
    x->head.op.apply = action_apply;
    return ERR_OK;
}

static enum err delete_apply(struct store *s, struct commit_op *op)
{
    struct service_message_delete_op *x = (struct service_message_delete_op *)op;
    return store_message_delete(s, x->mode, x->id, x->now_ms, &x->deleted_at_ms, &x->already,
                                &op->detail);
}

enum err service_message_delete_op_init(struct service_message_delete_op *x, const char *mode,
                                        const char *id, struct err_detail *d)
{
    memset(x, 0, sizeof(*x));
    if (!is_message_id(id))
        return not_found(id, d);
    snprintf(x->mode, sizeof(x->mode), "%s", mode);
    snprintf(x->id, sizeof(x->id), "%s", id);
    x->now_ms = clock_now_ms();
    x->head.op.apply = delete_apply;
    return ERR_OK;
}

/* ---- many messages ---- */

bool service_bulk_is_replay(enum service_bulk_kind k)
{
    return k == SERVICE_BULK_REPLAY_ALL || k == SERVICE_BULK_REPLAY_BATCH;
}

/* One item; only store failures (ERR_IO, ERR_BUSY) abort the whole op. */
static enum err bulk_one(struct store *s, struct service_bulk_op *x, struct service_bulk_item *it)
{
    bool replay = service_bulk_is_replay(x->kind);
    if (!is_message_id(it->id)) {
        err_set(&it->why, ERR_NOTFOUND, "MESSAGE_NOT_FOUND", "message not found");
        it->outcome = replay ? SERVICE_BULK_FAILED : SERVICE_BULK_NOT_FOUND;
        return ERR_OK;
    }
    enum err e;
    if (replay) {
        e = store_message_action(s, x->mode, it->id, STORE_ACT_REPLAY, x->now_ms, &it->rs,
                                 &it->why);
        if (e == ERR_OK)
            it->outcome = SERVICE_BULK_REPLAYED;
        else if (e == ERR_CONFLICT && !strcmp(it->why.code, "INVALID_STATE"))
            it->outcome = SERVICE_BULK_STUCK; /* still on its way: left alone */
        else if (e == ERR_NOTFOUND || e == ERR_CONFLICT || e == ERR_LIMIT)
            it->outcome = SERVICE_BULK_FAILED;
        else
            return e;
        return ERR_OK;
    }
    bool already = false;
    e = store_message_delete(s, x->mode, it->id, x->now_ms, &it->deleted_at_ms, &already, &it->why);
    if (e == ERR_OK)
        it->outcome = already ? SERVICE_BULK_ALREADY : SERVICE_BULK_DELETED;
    else if (e == ERR_NOTFOUND)
        it->outcome = SERVICE_BULK_NOT_FOUND;
    else
        return e;
    return ERR_OK;
}

/* The *_ALL kinds: x->items are the messages the filter selects now. */
static enum err bulk_select(struct store *s, struct service_bulk_op *x, struct err_detail *d)
{
    char(*ids)[ID_MAX] = calloc((size_t)x->limit, ID_MAX);
    if (!ids)
        abort();
    int n = 0;
    enum err e = store_message_select(s, &x->filter, x->limit, ids, &n, d);
    if (e == ERR_OK) {
        free(x->items); /* a rerun of apply selects again */
        x->items = calloc((size_t)(n ? n : 1), sizeof(*x->items));
        if (!x->items)
            abort();
        for (int i = 0; i < n; i++)
            memcpy(x->items[i].id, ids[i], ID_MAX);
        x->n = n;
    }
    free(ids);
    return e;
}

static enum err bulk_apply(struct store *s, struct commit_op *op)
{
    struct service_bulk_op *x = (struct service_bulk_op *)op;
    enum err e;
    if ((x->kind == SERVICE_BULK_REPLAY_ALL || x->kind == SERVICE_BULK_DELETE_ALL) &&
        (e = bulk_select(s, x, &op->detail)) != ERR_OK)
        return e;
    for (int i = 0; i < x->n; i++) {
        if ((e = bulk_one(s, x, &x->items[i])) != ERR_OK) {
            op->detail = x->items[i].why;
            return e;
        }
    }
    return ERR_OK;
}

void service_bulk_op_init(struct service_bulk_op *x, enum service_bulk_kind kind, const char *mode)
{
    memset(x, 0, sizeof(*x));
    x->kind = kind;
    snprintf(x->mode, sizeof(x->mode), "%s", mode);
    x->filter.mode = x->mode;
    x->filter.status = -1;
    x->limit = 1;
    x->now_ms = clock_now_ms();
    x->head.op.apply = bulk_apply;
}

enum err service_bulk_op_endpoint(struct service_bulk_op *x, const char *id, struct err_detail *d)
{
    if (!id_is_endpoint(id))
        return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", "endpoint_id",
                             "'endpoint_id' must look like ep_ followed by 32 hex characters");
    snprintf(x->endpoint_id, sizeof(x->endpoint_id), "%s", id);
    x->filter.endpoint_id = x->endpoint_id;
    return ERR_OK;
}

void service_bulk_op_reserve(struct service_bulk_op *x, int n)
{
    free(x->items);
    x->items = calloc((size_t)(n > 0 ? n : 1), sizeof(*x->items));
    if (!x->items)
        abort();
    x->n = n;
}

void service_bulk_op_release(struct service_bulk_op *x)
{
    free(x->items);
    x->items = NULL;
    x->n = 0;
}

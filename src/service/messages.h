/*
 * messages - operations on existing messages (one event to one endpoint):
 * retry now, cancel, replay (one, from the dead-letter queue, a batch, or
 * every message a filter selects) and delete (one, a batch, or by filter).
 *
 * Description: every operation is one committer op, so a bulk operation is
 * one transaction: it happens entirely or not at all; only a store failure
 * fails it as a whole, and each message of a bulk gets its own outcome. A
 * replay of a message still on its way (queued, delivering, pending_retry)
 * is "stuck" and left alone; any other refusal of one message (not found,
 * payload past retention, replay limit) is "failed". Each reschedule bumps
 * the message's sched_version: after the commit the store's completion feed
 * hands it to delivery, whose jobs of older versions are dropped.
 * Errors of single operations (err_detail.code): INVALID_STATE (ERR_CONFLICT),
 * RETENTION_EXPIRED, REPLAY_LIMIT_EXCEEDED (ERR_LIMIT), MESSAGE_NOT_FOUND.
 * Threading: *_init on any thread; apply on the committer.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_SERVICE_MESSAGES_H
#define HOOKD_SERVICE_MESSAGES_H

#include "service/service.h"
#include "store/store.h"

/* One message: retry now, cancel, replay, replay from the DLQ. */
struct service_message_action_op {
    struct service_op head;
    enum store_msg_action act;
    char mode[8];
    char id[ID_MAX];
    int64_t now_ms;
    struct store_resched rs; /* out */
};
/* ERR_NOTFOUND (MESSAGE_NOT_FOUND) when id cannot be a message id. */
enum err service_message_action_op_init(struct service_message_action_op *x,
                                        enum store_msg_action act, const char *mode, const char *id,
                                        struct err_detail *d);

/* One message: idempotent soft delete. */
struct service_message_delete_op {
    struct service_op head;
    char mode[8];
    char id[ID_MAX];
    int64_t now_ms;
    int64_t deleted_at_ms; /* out: the first deletion's time */
    bool already;          /* out: deleted before */
};
enum err service_message_delete_op_init(struct service_message_delete_op *x, const char *mode,
                                        const char *id, struct err_detail *d);

/* Many messages. */
enum service_bulk_kind {
    SERVICE_BULK_REPLAY_ALL,   /* the messages filter selects */
    SERVICE_BULK_REPLAY_BATCH, /* the given ids */
    SERVICE_BULK_DELETE_BATCH, /* the given ids */
    SERVICE_BULK_DELETE_ALL,   /* the messages filter selects */
};

enum service_bulk_outcome {
    SERVICE_BULK_REPLAYED,
    SERVICE_BULK_FAILED, /* replay refused: why says so */
    SERVICE_BULK_STUCK,  /* replay of a message still on its way */
    SERVICE_BULK_DELETED,
    SERVICE_BULK_ALREADY,   /* deleted before */
    SERVICE_BULK_NOT_FOUND, /* delete of no such message */
};

struct service_bulk_item {
    char id[ID_MAX]; /* as given (batch) or selected (all) */
    enum service_bulk_outcome outcome;
    struct err_detail why; /* failed / stuck */
    int64_t deleted_at_ms;
    struct store_resched rs;
};

#define SERVICE_BULK_IDS_MAX 100    /* ids of one batch */
#define SERVICE_BULK_LIMIT_MAX 1000 /* messages one *_ALL op selects */

struct service_bulk_op {
    struct service_op head;
    enum service_bulk_kind kind;
    char mode[8];
    char endpoint_id[ID_MAX];
    struct store_msg_filter filter; /* the *_ALL kinds; points into this op */
    int limit;
    int64_t now_ms;
    struct service_bulk_item *items; /* batch: the given ids; all: filled in apply */
    int n;
};

/* A bulk op of mode: then fill filter (status, created_*; endpoint through
 * service_bulk_op_endpoint) and limit for the *_ALL kinds, or add the ids of a
 * batch with service_bulk_op_add. */
void service_bulk_op_init(struct service_bulk_op *x, enum service_bulk_kind kind, const char *mode);
/* Select only the messages of endpoint id; ERR_INVAL (field endpoint_id) when
 * it is not an endpoint id. */
enum err service_bulk_op_endpoint(struct service_bulk_op *x, const char *id, struct err_detail *d);
/* Room for n ids (at most SERVICE_BULK_IDS_MAX), then set items[i].id. */
void service_bulk_op_reserve(struct service_bulk_op *x, int n);
void service_bulk_op_release(struct service_bulk_op *x);
bool service_bulk_is_replay(enum service_bulk_kind k);

#endif

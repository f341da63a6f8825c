/*
 * feed - the committer's completion feed: what a committed batch made due
 * for delivery (ARCHITECTURE §3).
 *
 * Description: store write functions that make a message due (a new send,
 * replay, retry-now) or change what delivery needs to know of an endpoint
 * (settings, keys, pause, resume, delete) append a feed item on the writing
 * connection. The items of an op that rolls back are dropped with it; after
 * a batch commits, the committer hands the batch's items to its sink (the
 * dispatcher), before any op's done() runs. The feed is a hint, never the
 * truth: the store is, so a consumer may drop items (memory caps) and find
 * the work again by paging the store. With PostgreSQL the same items will be
 * filled from the database (claims, LISTEN/NOTIFY).
 * Threading: a struct feed belongs to one thread at a time; ownership moves
 * with the whole list.
 * Ownership: items and their payload/content_type/headers_json buffers
 * belong to the list; feed_clear frees them.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_STORE_FEED_H
#define HOOKD_STORE_FEED_H

#include <stddef.h>
#include <stdint.h>

#include "core/id.h"

enum feed_kind {
    FEED_DUE = 1,          /* message_id is due at due_ms */
    FEED_DROPPED,          /* message_id was cancelled or deleted: forget older jobs of it */
    FEED_ENDPOINT_CHANGED, /* reload endpoint_id before its next attempt */
};

struct feed_item {
    struct feed_item *next;
    enum feed_kind kind;
    char endpoint_id[ID_MAX];
    /* FEED_DUE and FEED_DROPPED: */
    char message_id[ID_MAX];
    int64_t sched_version; /* the message's version after the change */
    int64_t due_ms;
    /* Optional (all or none): a new send carries what its first attempt needs,
     * so the common path reads nothing back. */
    char *payload;
    size_t payload_len;
    char *content_type;
    char *headers_json; /* NULL = no custom headers */
    char *webhook_id;   /* the event's public id (webhook-id); NULL = the message id */
};

struct feed {
    struct feed_item *head, *tail;
    size_t len;
};

/* Append a due message (no payload); returns the item so a caller may attach one. */
struct feed_item *feed_push_due(struct feed *f, const char *message_id, const char *endpoint_id,
                                int64_t sched_version, int64_t due_ms);
/* Append a cancelled or deleted message; jobs older than sched_version go. */
void feed_push_dropped(struct feed *f, const char *message_id, const char *endpoint_id,
                       int64_t sched_version);
/* Append an endpoint change. */
void feed_push_endpoint_changed(struct feed *f, const char *endpoint_id);
/* Copy payload, content_type and headers_json (NULL = none) into it. */
void feed_item_attach(struct feed_item *it, const char *payload, size_t payload_len,
                      const char *content_type, const char *headers_json, const char *webhook_id);
/* Append a detached item (one from feed_pop). */
void feed_push_item(struct feed *f, struct feed_item *it);
/* Move every item of src to the end of dst; src is left empty. */
void feed_move(struct feed *dst, struct feed *src);
/* Detach and return the first item (NULL when empty). */
struct feed_item *feed_pop(struct feed *f);
void feed_item_free(struct feed_item *it);
/* Free every item; f is left empty. */
void feed_clear(struct feed *f);

#endif

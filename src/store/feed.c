/* feed - see feed.h. SPDX-License-Identifier: MIT */
#include "store/feed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct feed_item *push(struct feed *f, enum feed_kind kind, const char *endpoint_id)
{
    struct feed_item *it = calloc(1, sizeof(*it));
    if (!it)
        abort();
    it->kind = kind;
    snprintf(it->endpoint_id, sizeof(it->endpoint_id), "%s", endpoint_id);
    feed_push_item(f, it);
    return it;
}

struct feed_item *feed_push_due(struct feed *f, const char *message_id, const char *endpoint_id,
                                int64_t sched_version, int64_t due_ms)
{
    struct feed_item *it = push(f, FEED_DUE, endpoint_id);
    snprintf(it->message_id, sizeof(it->message_id), "%s", message_id);
    it->sched_version = sched_version;
    it->due_ms = due_ms;
    return it;
}

void feed_push_dropped(struct feed *f, const char *message_id, const char *endpoint_id,
                       int64_t sched_version)
{
    struct feed_item *it = push(f, FEED_DROPPED, endpoint_id);
    snprintf(it->message_id, sizeof(it->message_id), "%s", message_id);
    it->sched_version = sched_version;
}

void feed_push_endpoint_changed(struct feed *f, const char *endpoint_id)
{
    push(f, FEED_ENDPOINT_CHANGED, endpoint_id);
}

static char *dup_or_die(const char *s)
{
    char *c = strdup(s);
    if (!c)
        abort();
    return c;
}

void feed_item_attach(struct feed_item *it, const char *payload, size_t payload_len,
                      const char *content_type, const char *headers_json, const char *webhook_id)
{
    it->webhook_id = webhook_id ? dup_or_die(webhook_id) : NULL;
    it->payload = malloc(payload_len + 1);
    if (!it->payload)
        abort();
    memcpy(it->payload, payload, payload_len);
    it->payload[payload_len] = '\0';
    it->payload_len = payload_len;
    it->content_type = dup_or_die(content_type);
    it->headers_json = headers_json ? dup_or_die(headers_json) : NULL;
}

void feed_push_item(struct feed *f, struct feed_item *it)
{
    it->next = NULL;
    if (f->tail)
        f->tail->next = it;
    else
        f->head = it;
    f->tail = it;
    f->len++;
}

void feed_move(struct feed *dst, struct feed *src)
{
    if (!src->head)
        return;
    if (dst->tail)
        dst->tail->next = src->head;
    else
        dst->head = src->head;
    dst->tail = src->tail;
    dst->len += src->len;
    src->head = src->tail = NULL;
    src->len = 0;
}

struct feed_item *feed_pop(struct feed *f)
{
    struct feed_item *it = f->head;
    if (!it)
        return NULL;
    f->head = it->next;
    if (!f->head)
        f->tail = NULL;
    f->len--;
    it->next = NULL;
    return it;
}

void feed_item_free(struct feed_item *it)
{
    if (!it)
        return;
    free(it->payload);
    free(it->webhook_id);
    free(it->content_type);
    free(it->headers_json);
    free(it);
}

void feed_clear(struct feed *f)
{
    struct feed_item *it;
    while ((it = feed_pop(f)))
        feed_item_free(it);
}

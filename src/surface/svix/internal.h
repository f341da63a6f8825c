/*
 * svix internal - shared by the files of surface/svix only (svix__ names):
 * envelopes, iterators, times, and the write-op plumbing onto service/.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_SURFACE_SVIX_INTERNAL_H
#define HOOKD_SURFACE_SVIX_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>

#include "http/internal.h"
#include "service/service.h"
#include "surface/svix/svix.h"

#define SVIX_LIST_DEFAULT 50

/* A list page: {data, iterator, prevIterator, done}; steals data. */
void svix__respond_list(struct http_request *r, json_t *data, const char *last_id, bool has_more);
/* The JSON body (an empty body reads as {}); NULL after answering the error. */
json_t *svix__body(struct http_request *r);
/* Query limit (default 50, 1..250) and iterator; false after answering the error. */
bool svix__page(struct http_request *r, int *limit, const char **iterator);
/* Query order: ascending (the default) or descending; false after answering the error. */
bool svix__order(struct http_request *r, bool *descending);
/* A query boolean ("true"/"false"); false after answering the error. */
bool svix__query_bool(struct http_request *r, const char *name, bool def, bool *out);
/* "a,b" (how the SDKs send arrays in a query) as JSON array text (malloc'ed); NULL
 * for absent or empty. */
char *svix__comma_list(const char *v);
/* A query time (RFC 3339) into *ms (0 when absent); false after answering 422. */
bool svix__query_time(struct http_request *r, const char *name, int64_t *ms);
/* RFC 3339 with milliseconds, as Svix writes times. */
json_t *svix__time(int64_t unix_ms);
/* A JSON value from stored JSON text (NULL text: fallback, which is stolen). */
json_t *svix__json_or(const char *text, json_t *fallback);
/* MessageOut {id, eventId, eventType, payload, channels, tags, timestamp} of an event
 * (messages.c); with_content false (or an erased payload) answers `payload: {}`. */
json_t *svix__message_out(const struct store_event *e, bool with_content);

/* Submit a service op for r; fn answers once it is done. */
void svix__defer(struct http_request *r, struct service_op *op, http_resume_fn fn);
/* The op r is waiting for (in fn). */
static inline void *svix__op(struct http_request *r)
{
    return r->op;
}

/* routes */
void svix__app_create(struct http_request *r);
void svix__app_list(struct http_request *r);
void svix__app_get(struct http_request *r);
void svix__app_replace(struct http_request *r);
void svix__app_patch(struct http_request *r);
void svix__app_delete(struct http_request *r);
void svix__endpoint_create(struct http_request *r);
void svix__endpoint_list(struct http_request *r);
void svix__endpoint_get(struct http_request *r);
void svix__endpoint_replace(struct http_request *r);
void svix__endpoint_patch(struct http_request *r);
void svix__endpoint_delete(struct http_request *r);
void svix__endpoint_secret(struct http_request *r);
void svix__endpoint_secret_rotate(struct http_request *r);
void svix__endpoint_headers_get(struct http_request *r);
void svix__endpoint_headers_set(struct http_request *r);
void svix__endpoint_headers_patch(struct http_request *r);
void svix__endpoint_stats(struct http_request *r);
void svix__msg_create(struct http_request *r);
void svix__msg_list(struct http_request *r);
void svix__msg_get(struct http_request *r);
void svix__attempts_by_msg(struct http_request *r);
void svix__attempt_get(struct http_request *r);
void svix__msg_destinations(struct http_request *r);
void svix__msg_resend(struct http_request *r);
void svix__msg_erase(struct http_request *r);
void svix__endpoint_send_example(struct http_request *r);
void svix__endpoint_recover(struct http_request *r);
void svix__app_portal_access(struct http_request *r);
void svix__attempts_by_endpoint(struct http_request *r);
void svix__endpoint_messages(struct http_request *r);
void svix__event_type_create(struct http_request *r);
void svix__event_type_list(struct http_request *r);
void svix__event_type_get(struct http_request *r);
void svix__event_type_replace(struct http_request *r);
void svix__event_type_patch(struct http_request *r);
void svix__event_type_delete(struct http_request *r);

#endif

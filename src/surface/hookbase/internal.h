/*
 * hookbase internal - shared by surface/hookbase and surface/portal
 * (hookbase__ names): envelopes, lists, the objects of TENANCY.md §6, and the
 * handlers the portal reuses inside its application.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_SURFACE_HOOKBASE_INTERNAL_H
#define HOOKD_SURFACE_HOOKBASE_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>

#include "http/internal.h"
#include "service/service.h"
#include "surface/hookbase/hookbase.h"

#define HOOKBASE_LIST_DEFAULT 50
/* Lists count every match for `total`: at most this many items are scanned. */
#define HOOKBASE_SCAN_MAX 10000

/* Hookbase's error body {error: {message, code, validationErrors?}}. */
void hookbase__render_error(struct http_request *r, unsigned status, const char *code,
                            const char *msg);

/* {data: data} (steals data). */
void hookbase__respond_data(struct http_request *r, unsigned status, json_t *data);
void hookbase__respond_no_content(struct http_request *r);

/* Paging asked for: limit (1..SERVICE_PAGE_MAX), offset, cursor (an item id). */
struct hookbase_page {
    int limit;
    long offset;
    const char *cursor;
};
/* Read limit, offset and cursor; false after answering 400. */
bool hookbase__page(struct http_request *r, struct hookbase_page *p);
/* Answer a page of all (every match, in order; stolen): {data, pagination:
 * {hasMore, nextCursor}, total, limit, offset, hasMore}. Each item has an "id".
 * enrich, when set, completes each item of the page (e.g. an endpoint's counts). */
void hookbase__respond_page(struct http_request *r, json_t *all, const struct hookbase_page *p,
                            void (*enrich)(struct http_request *r, json_t *item));
/* The JSON body (an empty body reads as {}); NULL after answering. */
json_t *hookbase__body(struct http_request *r);
/* A query boolean "true"/"false" into *out (absent: *has false); false after answering. */
bool hookbase__query_bool(struct http_request *r, const char *name, bool *has, bool *out);
/* Submit a service op; fn answers once it is done. */
void hookbase__defer(struct http_request *r, struct service_op *op, http_resume_fn fn);
/* Does hay contain needle, ignoring ASCII case? (a search filter) */
bool hookbase__contains(const char *hay, const char *needle);
/* RFC 3339 or null for 0. */
json_t *hookbase__time(int64_t unix_ms);
/* A JSON value from stored JSON text (NULL: fallback, stolen). */
json_t *hookbase__json_or(const char *text, json_t *fallback);

/* Objects. */
json_t *hookbase__app_json(const struct store_application *a);
json_t *hookbase__event_type_json(const struct store_event_type *t);
/* Endpoint without its counts (hookbase__endpoint_counts adds them). */
json_t *hookbase__endpoint_json(const struct store_endpoint *e);
void hookbase__endpoint_counts(struct http_request *r, json_t *item);

/* The application a request may touch: a portal token's ("" for an API key). */
static inline const char *hookbase__scope(const struct http_request *r)
{
    return r->portal ? r->portal_app : "";
}

/* Routes (the portal calls the starred ones inside its application). */
void hookbase__app_create(struct http_request *r);
void hookbase__app_list(struct http_request *r);
void hookbase__app_get(struct http_request *r);
void hookbase__app_by_external_id(struct http_request *r);
void hookbase__app_patch(struct http_request *r);
void hookbase__app_delete(struct http_request *r);
void hookbase__app_upsert(struct http_request *r);
void hookbase__event_type_create(struct http_request *r);
void hookbase__event_type_list(struct http_request *r);
void hookbase__event_type_get(struct http_request *r);
void hookbase__event_type_patch(struct http_request *r);
void hookbase__event_type_delete(struct http_request *r);
void hookbase__endpoint_create(struct http_request *r); /* * */
void hookbase__endpoint_list(struct http_request *r);   /* * */
void hookbase__endpoint_get(struct http_request *r);    /* * */
void hookbase__endpoint_patch(struct http_request *r);  /* * */
void hookbase__endpoint_delete(struct http_request *r); /* * */
void hookbase__endpoint_rotate(struct http_request *r); /* * */
void hookbase__endpoint_reset_circuit(struct http_request *r);
void hookbase__endpoint_test(struct http_request *r);          /* * */
void hookbase__endpoint_verify(struct http_request *r);        /* * */
void hookbase__endpoint_replay_failed(struct http_request *r); /* * */
void hookbase__subscription_create(struct http_request *r);    /* * */
void hookbase__subscription_list(struct http_request *r);      /* * */
void hookbase__subscription_get(struct http_request *r);
void hookbase__subscription_patch(struct http_request *r);
void hookbase__subscription_delete(struct http_request *r); /* * */
void hookbase__subscription_bulk(struct http_request *r);
void hookbase__send_event(struct http_request *r);
void hookbase__outbound_list(struct http_request *r); /* * */
void hookbase__outbound_get(struct http_request *r);  /* * */
void hookbase__outbound_attempts(struct http_request *r);
void hookbase__outbound_replay(struct http_request *r); /* * */
void hookbase__token_create(struct http_request *r);
void hookbase__token_list(struct http_request *r);
void hookbase__token_revoke(struct http_request *r);
void hookbase__magic_link(struct http_request *r);
void hookbase__portal_event_types(struct http_request *r);

#endif

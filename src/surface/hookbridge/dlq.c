/*
 * dlq - GET /v1/dlq/messages (API.md §3.3): the dead-letter queue, i.e. the
 * live failed_permanent messages of the key's mode, newest first, with the
 * paging fields inside data (not meta). POST /v1/dlq/replay/{id} is in
 * message_ops.c (it shares the replay op).
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>

#include "surface/hookbridge/internal.h"

#define DLQ_DEFAULT_LIMIT 100
#define DLQ_MAX_LIMIT 1000

static json_t *render_item(const struct store_dlq_item *it)
{
    /* Both the Go item and PHP's MessageSummary (which requires status). */
    json_t *last_error = http__json_text(it->last_error); /* null when none */
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:s, s:i, s:o, s:o, s:o}", "message_id", it->id, "endpoint",
                  it->endpoint_url ? it->endpoint_url : "", "endpoint_id", it->endpoint_id,
                  "status", store_status_name(STATUS_FAILED_PERMANENT), "attempt_count",
                  it->attempt_count, "created_at", http__time(it->created_at_ms), "failed_at",
                  http__time(it->failed_at_ms), "last_error", last_error);
    if (!o)
        abort();
    if (it->response_status)
        json_object_set_new(o, "response_status", json_integer(it->response_status));
    if (it->response_latency_ms >= 0)
        json_object_set_new(o, "response_latency_ms", json_integer(it->response_latency_ms));
    return o;
}

void hookbridge__dlq_list(struct http_request *r)
{
    int limit;
    if (!http__parse_limit(r, DLQ_DEFAULT_LIMIT, DLQ_MAX_LIMIT, &limit))
        return;
    const char *cursor = http__query(r, "cursor");
    if (cursor && cursor[0] && (!id_is_uuid(cursor) || cursor[ID_UUID_LEN] != '\0')) {
        http__respond_error(r, MHD_HTTP_BAD_REQUEST, "INVALID_REQUEST",
                            "'cursor' is not a cursor of this list");
        return;
    }
    struct store_dlq_item *items = calloc((size_t)limit, sizeof(*items));
    if (!items)
        abort();
    int n = 0;
    bool has_more = false;
    struct err_detail d = {0};
    struct store *s = http__store_acquire(r->server);
    enum err e =
        s ? store_dlq_list(s, r->key.mode, cursor, limit, items, &n, &has_more, &d) : ERR_IO;
    http__store_release(r->server, s);
    if (e != ERR_OK) {
        free(items);
        http__respond_err(r, e, &d);
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, render_item(&items[i]));
    json_t *page = http__page_meta(has_more && n > 0, n > 0 ? items[n - 1].id : NULL);
    json_object_set_new(page, "messages", arr);
    for (int i = 0; i < n; i++)
        store_dlq_item_release(&items[i]);
    free(items);
    http__respond_data(r, MHD_HTTP_OK, page, NULL);
}

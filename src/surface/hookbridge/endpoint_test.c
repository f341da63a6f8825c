/*
 * endpoint_test - POST /v1/endpoints/{id}/test {event_type?, payload?}
 * (POLICIES.md §5, §8) on service/endpoint_test.h, which holds the rules.
 *
 * Description: answers 200 {data: {status: "succeeded"|"failed",
 * response_status (null: no HTTP answer), latency_ms, response_body (null:
 * none), error (null on success), headers_sent: {name: value}}} whatever
 * the receiver said: the test ran. headers_sent holds the id and signature
 * headers as sent, and the destination auth's header (if the endpoint has
 * one that is a header) by name with the value "[redacted]". The body may
 * be empty, {} or null (every field is optional); unknown fields are
 * ignored; anything else is 400 INVALID_REQUEST.
 * The check and the endpoint lookup run on the MHD thread (store reads);
 * the delivery runs with the request suspended on a thread of its own
 * (http__offload), so a slow receiver holds no API thread.
 * Threading: handler and resume on MHD threads, the send on its own thread.
 * Ownership: the op is freed by the resume callback, or here when it never
 * starts.
 * Errors: 400 INVALID_REQUEST / PAYLOAD_TOO_LARGE, 404 ENDPOINT_NOT_FOUND,
 * 429 RATE_LIMITED (with Retry-After: 1) when HTTP_OFFLOAD_MAX test sends
 * are already running.
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>

#include "service/endpoint_test.h"
#include "surface/hookbridge/internal.h"

#define REDACTED "[redacted]"

static void test_work(struct http_request *r, const bool *cancel)
{
    service_endpoint_test_send(r->op, cancel);
}

static void test_resume(struct http_request *r)
{
    struct service_endpoint_test *x = r->op;
    const struct service_test_attempt *a = &x->attempt;
    json_t *headers = json_object();
    for (size_t i = 0; i < a->n_headers; i++)
        json_object_set_new(headers, a->headers[i].name,
                            http__json_text(a->headers[i].value ? a->headers[i].value : REDACTED));
    json_t *data = json_pack("{s:s, s:o, s:I, s:o, s:o, s:o}", "status",
                             a->succeeded ? "succeeded" : "failed", "response_status",
                             a->response_status ? json_integer(a->response_status) : json_null(),
                             "latency_ms", (json_int_t)(a->latency_ms > 0 ? a->latency_ms : 0),
                             "response_body", http__json_text(a->response_body), "error",
                             http__json_text(a->error), "headers_sent", headers);
    http__respond_data(r, MHD_HTTP_OK, data, NULL);
    service_endpoint_test_release(x);
    free(x);
}

void hookbridge__endpoints_test(struct http_request *r)
{
    struct err_detail d = {0};
    json_t *body = http__parse_body(r, true, &d);
    if (!body) {
        http__respond_err(r, ERR_INVAL, &d);
        return;
    }
    if (!json_is_object(body) && !json_is_null(body)) {
        json_decref(body);
        http__respond_error(r, MHD_HTTP_BAD_REQUEST, "INVALID_REQUEST",
                            "request body must be empty or a JSON object");
        return;
    }
    struct endpoint_test_fields f = {.event_type = json_object_get(body, "event_type"),
                                     .payload = json_object_get(body, "payload")};
    struct service_endpoint_test *x = malloc(sizeof(*x));
    if (!x)
        abort();
    struct store *s = http__store_acquire(r->server);
    enum err e = service_endpoint_test_prepare(x, r->server->deps.test_sender, s, r->key.mode,
                                               r->param[0], &f, &d);
    http__store_release(r->server, s);
    json_decref(body);
    if (e != ERR_OK) {
        free(x);
        http__respond_err(r, e, &d);
        return;
    }
    if (!http__offload(r, x, test_work, test_resume)) {
        service_endpoint_test_release(x);
        free(x);
        r->retry_after_s = 1;
        http__respond_error(r, MHD_HTTP_TOO_MANY_REQUESTS, "RATE_LIMITED",
                            "%d test sends are already running; retry in a moment",
                            HTTP_OFFLOAD_MAX);
    }
}

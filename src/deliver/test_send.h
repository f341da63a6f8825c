/*
 * test_send - one delivery to one endpoint, now, outside the queue
 * (POLICIES.md §5 "Test send"): what POST /v1/endpoints/{id}/test sends.
 *
 * Description: test_sender_load reads the endpoint's delivery settings the
 * way a delivery thread does (request_target_load: URL, custom headers,
 * active signing keys, the delivery policy with its sealed secrets);
 * test_sender_send builds the request with request.c, exactly as an attempt
 * is built (signature scheme, header prefix, destination auth with oauth2,
 * method, custom headers, User-Agent, the address policy, the delivery
 * timeout), runs it with a blocking curl_easy_perform and reports the
 * attempt as request_finish records attempts, plus the id and signature
 * headers it sent. Nothing is written to the store and no delivery thread
 * is involved: the endpoint's state (paused, disabled, an open circuit),
 * its rate limits and concurrency caps do not apply. An oauth2 endpoint
 * gets its token from the test sender's own cache (not the delivery
 * threads'); a 401 from the receiver refreshes it once and the request is
 * sent again, as a delivery would be, and the second answer is reported.
 * XXX: transformations are not applied, as delivery threads do not apply
 * them yet either.
 * Threading: test_sender_new/free on the thread that wires the server;
 * load and send from any thread, concurrently (the oauth2 cache locks).
 * test_sender_send blocks its thread for up to the delivery timeout (plus
 * one oauth2 token fetch): never call it on a thread that serves others.
 * Ownership: a test_target belongs to its caller (test_target_free); a
 * result's strings are freed by test_send_result_release.
 * Errors: test_sender_load returns the store's errors (ERR_NOTFOUND with
 * code ENDPOINT_NOT_FOUND for an unknown, deleted or other-mode endpoint).
 * A failed send is a result, not an error.
 * See also: request.h, oauth2.h, src/service/endpoint_test.h (the
 * operation, which main.c wires to this module).
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_DELIVER_TEST_SEND_H
#define HOOKD_DELIVER_TEST_SEND_H

#include <stdbool.h>
#include <stddef.h>

#include "deliver/dispatcher.h"
#include "store/store.h"

/* The most headers a result reports (a scheme sends at most a dozen). */
#define TEST_SEND_HEADERS_MAX 16

struct test_sender;
struct test_target;

/* A sender with the delivery settings of cfg (timeout_ms, user_agent,
 * header_prefix, allow_private_networks; the strings are borrowed and must
 * outlive it). */
struct test_sender *test_sender_new(const struct dispatcher_config *cfg);
/* Wipe its oauth2 tokens and free it (NULL is a no-op); no call may be running. */
void test_sender_free(struct test_sender *ts);

/* Read the delivery settings of mode's live endpoint endpoint_id through s
 * (store reads only: quick) into a new *out. */
enum err test_sender_load(struct test_sender *ts, struct store *s, const char *mode,
                          const char *endpoint_id, struct test_target **out, struct err_detail *d);
/* Free a target and wipe its keys (NULL is a no-op). */
void test_target_free(struct test_target *t);

struct test_send_header {
    char *name;
    char *value; /* NULL: the destination auth's header, its value withheld */
};

struct test_send_result {
    bool ok; /* the receiver answered 2xx */
    /* As request_finish fills it: response_status (0 = no HTTP answer),
     * latency_ms, response_body (NULL = none; cut at REQUEST_BODY_MAX bytes,
     * response_body_truncated), error_text (NULL when ok). */
    struct store_attempt attempt;
    struct test_send_header headers[TEST_SEND_HEADERS_MAX];
    size_t n_headers;
};

/*
 * Send payload (payload_len bytes, JSON) to t's endpoint now with webhook_id
 * as its id, and fill out (zeroed first). *cancel (read atomically; NULL =
 * never) turning true aborts the transfer within about a second, which is
 * then reported as failed.
 */
void test_sender_send(struct test_sender *ts, struct test_target *t, const char *webhook_id,
                      const char *payload, size_t payload_len, const bool *cancel,
                      struct test_send_result *out);
void test_send_result_release(struct test_send_result *r);

#endif

/*
 * endpoint_test - the test send (POLICIES.md §5): one signed example to one
 * endpoint, now, outside the queue, answered with the attempt.
 *
 * Description: service_endpoint_test_prepare checks the input, finds the
 * endpoint (live, of the caller's mode) and builds the payload:
 *   - payload given (any JSON value but null): it, compact;
 *   - else an event_type whose mode has that event type with an example
 *     payload (event types are mode-wide, so every application of the mode
 *     has it): the example, as stored;
 *   - else {"type": "<event_type, or hookd.test>", "data": {}}.
 * event_type is only used to pick that payload; a test send ignores the
 * endpoint's subscriptions, filters and channels, and its state: paused,
 * disabled and circuit-open endpoints get it too. Its webhook-id is a fresh
 * UUIDv7, shaped like the ids of /v1 messages.
 * service_endpoint_test_send then has the injected sender deliver it,
 * exactly as a delivery attempt is built, and keeps what came back.
 * Nothing is written: no message, no attempt, no log row, no counter; the
 * endpoint and its circuit do not change (a Hookbase verify that succeeded then
 * marks the endpoint verified: service_endpoint_mark_verified).
 *
 * Delivery is injected: service never includes deliver/, so the sender
 * (struct service_test_sender) is a table of functions that main.c fills
 * from src/deliver/test_send.h and hands to the api (http_deps).
 *
 * Threading: prepare on any thread (store reads through the caller's
 * connection: quick); send blocks its thread for up to the delivery timeout
 * plus one oauth2 token fetch, so it runs on a thread of its own
 * (http__offload), never on one that serves other requests; release
 * anywhere.
 * Ownership: the caller owns the struct; release frees what prepare and
 * send made (the payload, the sender's target, the attempt's strings).
 * Errors: prepare returns ERR_INVAL (INVALID_REQUEST, field "event_type" or
 * "payload"), ERR_LIMIT (PAYLOAD_TOO_LARGE, field "payload", over
 * VALIDATE_MAX_PAYLOAD_BYTES compact), ERR_NOTFOUND (ENDPOINT_NOT_FOUND for
 * an id no endpoint can have, an unknown, deleted or other-mode endpoint),
 * ERR_IO from the store or when no sender is wired in. A failed delivery is
 * an attempt with succeeded false, not an error.
 * See also: src/deliver/test_send.h, src/surface/hookbridge/endpoint_test.c,
 * docs/api.md "Test send".
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_SERVICE_ENDPOINT_TEST_H
#define HOOKD_SERVICE_ENDPOINT_TEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/id.h"
#include "store/store.h"

/* The event type of the default payload when the request names none. */
#define SERVICE_TEST_DEFAULT_TYPE "hookd.test"

/* A header the test send sent. */
struct service_test_header {
    char *name;
    char *value; /* NULL: the destination auth's header, whose value is never given out */
};

/* What the one attempt did. */
struct service_test_attempt {
    bool succeeded;      /* the receiver answered 2xx */
    int response_status; /* 0: no HTTP answer */
    int64_t latency_ms;
    char *response_body; /* NULL: none; cut at 4 KiB as attempts' are */
    bool response_body_truncated;
    char *error; /* NULL on success */
    /* The id and signature headers, and the destination auth's by name only;
     * never Content-Type, User-Agent or custom headers. */
    struct service_test_header *headers;
    size_t n_headers;
};
/* Free the attempt's strings and zero it. */
void service_test_attempt_release(struct service_test_attempt *a);

/* Delivery's part, lent by main.c. Every function receives ctx. */
struct service_test_sender {
    /* Read the delivery settings of mode's live endpoint endpoint_id through
     * s into *target (opaque): ERR_NOTFOUND (ENDPOINT_NOT_FOUND) or the
     * store's errors, with d set. */
    enum err (*load)(void *ctx, struct store *s, const char *mode, const char *endpoint_id,
                     void **target, struct err_detail *d);
    /* Deliver payload to target now, signed, with webhook_id; fill out (whose
     * strings are malloc'ed: service_test_attempt_release frees them).
     * Blocking; *cancel (read atomically) turning true ends it early. */
    void (*send)(void *ctx, void *target, const char *webhook_id, const char *payload,
                 size_t payload_len, const bool *cancel, struct service_test_attempt *out);
    void (*target_free)(void *ctx, void *target);
    void *ctx;
};

/* The request, as a surface read it: borrowed JSON values, NULL or JSON null = absent. */
struct endpoint_test_fields {
    const json_t *event_type; /* a string, an event-type name */
    const json_t *payload;    /* any JSON value */
};

struct service_endpoint_test {
    const struct service_test_sender *sender;
    void *target; /* the sender's, for the endpoint */
    char endpoint_id[ID_MAX];
    char webhook_id[ID_MAX];
    char *payload; /* JSON text */
    size_t payload_len;
    struct service_test_attempt attempt; /* out of service_endpoint_test_send */
};

/* Check f, find endpoint_id of mode through s and build the payload (see
 * above) into x, which holds nothing afterwards on error. */
enum err service_endpoint_test_prepare(struct service_endpoint_test *x,
                                       const struct service_test_sender *sender, struct store *s,
                                       const char *mode, const char *endpoint_id,
                                       const struct endpoint_test_fields *f, struct err_detail *d);
/* Deliver the prepared example now (blocking; see Threading) into x->attempt. */
void service_endpoint_test_send(struct service_endpoint_test *x, const bool *cancel);
/* Free what prepare and send made (a zeroed x is fine). */
void service_endpoint_test_release(struct service_endpoint_test *x);

/* Hookbase's verify: a test send that got a 2xx marks the endpoint verified
 * (store_endpoint_set_verified, now). A fire-and-forget op through committer c:
 * the answer to the verify does not wait for it; a failure is logged. The only
 * write a test send makes. */
struct committer;
void service_endpoint_mark_verified(struct committer *c, const char *mode, const char *id);

#endif

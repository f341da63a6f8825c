/*
 * endpoint_state - the state of an endpoint beside its fields: paused or
 * not (HookBridge's POST /v1/endpoints/{id}/pause and /resume). The rest of
 * the endpoint lifecycle (disabled, the circuit breaker) is to move here.
 *
 * Description: the paused flag is a column of the endpoint, written through
 * the committer, so it survives restarts; the store's completion feed tells
 * delivery after the commit, which holds the endpoint's due messages while
 * paused (they are not attempts) and releases them on resume. Setting the
 * flag the endpoint already has changes nothing, so both are idempotent. A
 * resume counts the endpoint's unfinished (queued or pending_retry) messages
 * in its own transaction: the messages it releases. How a surface reads its
 * request (a body or none) is the surface's business.
 * Threading: *_init on any thread; apply on the committer.
 * Ownership: the caller owns the op (embedded or allocated); it holds no
 * heap memory, so there is no release.
 * Errors: ERR_NOTFOUND (ENDPOINT_NOT_FOUND) for an id no endpoint can have
 * and for an unknown, deleted or other-mode endpoint; ERR_IO, ERR_BUSY from
 * the store.
 * See also: endpoints.h (the endpoint's fields), store.h
 * (store_endpoint_set_paused).
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_SERVICE_ENDPOINT_STATE_H
#define HOOKD_SERVICE_ENDPOINT_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "service/service.h"
#include "store/store.h"

/* Pause (paused true) or resume (false) an endpoint of a mode by id. */
struct service_endpoint_pause_op {
    struct service_op head;
    char mode[8];
    char id[ID_MAX];
    bool paused;
    /* out */
    int64_t unfinished; /* resume: the endpoint's unfinished messages (released) */
};

enum err service_endpoint_pause_op_init(struct service_endpoint_pause_op *x, const char *mode,
                                        const char *id, bool paused, struct err_detail *d);

/* Close an endpoint's circuit breaker by hand (POLICIES §5 reset-circuit): its
 * waiting messages go out at once. Idempotent. */
struct service_endpoint_reset_circuit_op {
    struct service_op head;
    char mode[8];
    char id[ID_MAX];
};
enum err service_endpoint_reset_circuit_op_init(struct service_endpoint_reset_circuit_op *x,
                                                const char *mode, const char *id,
                                                struct err_detail *d);

#endif

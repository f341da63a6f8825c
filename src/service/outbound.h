/*
 * outbound - Hookbase's outbound messages (TENANCY.md §1, §6): one message
 * of an event on its way to one endpoint, read with what its views show
 * (the event, the endpoint's URL, the last attempt), and the status names
 * pending | success | failed | exhausted.
 *
 * Description: status: queued, delivering and pending_retry are pending;
 * succeeded is success; failed_permanent is exhausted when the attempts ran
 * out (attempt_count reached max_attempts) and failed otherwise (cancelled,
 * or an answer the retry policy does not retry); deduplicated and filtered
 * (finished, never failed) read as success. max_attempts is the server's
 * retry policy's (an endpoint policy's own limit is not looked at).
 * Lists scan the mode's messages newest first (at most max_scan), since the
 * filters that Hookbase offers are not all indexed.
 * Errors: ERR_NOTFOUND (MESSAGE_NOT_FOUND), ERR_INVAL, ERR_IO.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_SERVICE_OUTBOUND_H
#define HOOKD_SERVICE_OUTBOUND_H

#include <stdbool.h>

#include "service/service.h"
#include "store/store.h"

struct service_outbound {
    struct store_message msg;
    char event_id[ID_MAX]; /* the event's public id ("" for a /v1 send) */
    char app_id[ID_MAX];   /* of its endpoint */
    char *endpoint_url;    /* owned; never NULL once filled */
    char *event_type;      /* owned; NULL for a /v1 send */
    const char *status;    /* pending | success | failed | exhausted */
    int max_attempts;
    int64_t last_attempt_ms;  /* 0 = none */
    char *last_response_body; /* owned; NULL = none */
};
void service_outbound_release(struct service_outbound *o);

/* The Hookbase status name of a message. */
const char *service_outbound_status(enum store_status s, int attempt_count, int max_attempts);

/* Message id of mode (of application app unless NULL or ""), with its views. */
enum err service_outbound_get(struct store *s, const char *mode, const char *app, const char *id,
                              int max_attempts, struct service_outbound *out, struct err_detail *d);

struct service_outbound_filter {
    const char *mode;
    const char *app;          /* NULL = any */
    const char *endpoint_id;  /* NULL = any */
    const char *event_id;     /* the event's public id; NULL = any */
    const char *status;       /* a Hookbase status name; NULL = any */
    const char *event_type;   /* NULL = any */
    int64_t start_ms, end_ms; /* created in [start, end); 0 = unbounded */
    int max_attempts;
    int max_scan;
};
/* The ids of every matching message, newest first, into *ids (malloc'ed, *n of
 * them): at most f->max_scan messages are looked at. */
enum err service_outbound_select(struct store *s, const struct service_outbound_filter *f,
                                 char (**ids)[ID_MAX], int *n, struct err_detail *d);

/* Attempts of message id (within app unless NULL or ""), oldest first, at most max. */
enum err service_outbound_attempts(struct store *s, const char *mode, const char *app,
                                   const char *id, int max, struct store_attempt *out, int *n,
                                   struct err_detail *d);

#endif

/*
 * publish - publish an event to an application and fan it out (TENANCY.md §1).
 *
 * Description: the event is stored once and one message is made for every
 * endpoint of the application that is live and not disabled, receives the
 * event's type (every type, or an enabled subscription naming it or a
 * wildcard matching it), has no channels or shares one with the event, and
 * whose filter (if any) matches the payload. The event, its messages and their feed items
 * are one committer op: one commit however many endpoints match, and nothing
 * of it is visible before the publisher is answered. An event matching no
 * endpoint is stored all the same. The payload is kept byte for byte.
 * Rules: the event type is a name (^[a-zA-Z0-9\-_.]{1,256}$); the producer
 * event id (eventId) 1-256 bytes of the uid alphabet, unique per application
 * (ERR_CONFLICT); at most 10 channels and 20 tags of 1-128 bytes.
 * Errors: ERR_INVAL (field named), ERR_NOTFOUND (application), ERR_CONFLICT,
 * ERR_IO. SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_SERVICE_PUBLISH_H
#define HOOKD_SERVICE_PUBLISH_H

#include <jansson.h>

#include "service/service.h"
#include "store/store.h"

/* What a surface read of a publish request (borrowed). */
struct publish_fields {
    const json_t *event_type, *event_id, *channels, *tags;
    const char *payload; /* the payload value's exact bytes (JSON) */
    size_t payload_len;
};

struct service_publish_op {
    struct service_op head;
    char mode[8];
    char *app;
    char *event_type, *producer_id, *payload, *channels_json, *tags_json;
    size_t payload_len;
    char payload_sha256[65];
    json_t *payload_doc; /* the payload parsed, for filters */
    json_t *channels;    /* the event's channels (array) or NULL */
    int64_t retention_ms;
    /* out */
    struct store_event_in ev; /* public id, application id, time */
    int messages;             /* endpoints the event went to */
};

/* retention_ms: how long the payload is kept once its messages are finished. */
enum err service_publish_op_init(struct service_publish_op *x, const char *mode, const char *app,
                                 const struct publish_fields *f, int64_t retention_ms,
                                 struct err_detail *d);
void service_publish_op_release(struct service_publish_op *x);

/* Reads of events of an application (by id or uid). */
enum err service_event_get(struct store *s, const char *mode, const char *app,
                           const char *id_or_event_id, struct store_event *out,
                           struct err_detail *d);
enum err service_event_list(struct store *s, const char *mode, const char *app,
                            const char *iterator, const char *event_types_json, int limit,
                            struct store_event *out, int *n, bool *has_more, struct err_detail *d);

#endif

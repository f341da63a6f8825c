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
 * An endpoint with a deduplicate policy (POLICIES §2) gets its message all the
 * same, but as `deduplicated` (never delivered) when the event's key (payload
 * and event type, or the rule's fields) was seen for it within the window: the
 * store judges and records the key in this op (store_event_message_insert).
 * A send-example (only_endpoint) and a resend are asked for by hand and are not
 * judged.
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
    /* {name, uid?}: make the application when it does not exist (Svix `application`) */
    const json_t *application;
    /* send-example: only this endpoint (id or uid) gets it, whatever it subscribes to */
    const char *only_endpoint;
    /* Hookbase (TENANCY §6): an array of endpoint ids the event may reach (the
     * others are skipped; ids not of the application are ignored); NULL = all */
    const json_t *endpoint_ids;
    /* Hookbase: the event type must exist and be enabled (else ERR_NOTFOUND,
     * EVENT_TYPE_NOT_FOUND); a reused event_id answers the event made first
     * (duplicate set) instead of ERR_CONFLICT; the payload is delivered inside
     * {type, data, timestamp, webhookId} (TENANCY §2). */
    bool hookbase;
};

struct service_publish_op {
    struct service_op head;
    char mode[8];
    char *app;
    char *event_type, *producer_id, *payload, *channels_json, *tags_json;
    size_t payload_len;
    char payload_sha256[65];
    json_t *payload_doc; /* the payload parsed, once a filter needs it (else NULL) */
    json_t *channels;    /* the event's channels (array) or NULL */
    int64_t retention_ms;
    char *new_app_name, *new_app_uid; /* make the application when missing */
    char *only_endpoint;
    json_t *endpoint_ids; /* array of ids or NULL */
    bool hookbase;
    char *envelope; /* hookbase: the payload as delivered (made in apply) */
    /* out */
    struct store_event_in ev; /* public id, application id, time */
    int messages;             /* endpoints the event went to */
    char (*targets)[ID_MAX];  /* their ids (messages of them) */
    bool duplicate;           /* hookbase: the event_id was published before: ev is that event */
};

/* retention_ms: how long the payload is kept once its messages are finished. */
enum err service_publish_op_init(struct service_publish_op *x, const char *mode, const char *app,
                                 const struct publish_fields *f, int64_t retention_ms,
                                 struct err_detail *d);
void service_publish_op_release(struct service_publish_op *x);

/* Erase the payload of an event (Svix DELETE .../msg/{msg}/content): its messages
 * keep their metadata; a replay or resend of them answers RETENTION_EXPIRED. */
struct service_event_erase_op {
    struct service_op head;
    char mode[8];
    char *app, *msg;
};
void service_event_erase_op_init(struct service_event_erase_op *x, const char *mode,
                                 const char *app, const char *msg);
void service_event_erase_op_release(struct service_event_erase_op *x);

/* Reads of events of an application (by id or uid). */
enum err service_event_get(struct store *s, const char *mode, const char *app,
                           const char *id_or_event_id, struct store_event *out,
                           struct err_detail *d);
enum err service_event_list(struct store *s, const char *mode, const char *app,
                            const char *iterator, const struct store_event_filter *f, int limit,
                            struct store_event *out, int *n, bool *has_more, struct err_detail *d);
/* The events of application app with public ids ids[0..n), ids[i] into out[i] (the
 * caller releases each with store_event_release, also after an error): one store read
 * per id. An id that names no event (history retention took it since the caller
 * listed it) leaves out[i] zeroed (public_id ""), not an error. */
enum err service_event_get_many(struct store *s, const char *mode, const char *app,
                                const char *const *ids, size_t n, struct store_event *out,
                                struct err_detail *d);

/* Attempts of the event's messages (to endpoint ep, id or uid, unless NULL), newest
 * first, before the attempt id iterator. */
enum err service_event_attempts(struct store *s, const char *mode, const char *app, const char *msg,
                                const char *ep, const char *iterator,
                                const struct store_attempt_filter *f, int limit,
                                struct store_event_attempt *out, int *n, bool *has_more,
                                struct err_detail *d);
/* The endpoints the event was sent to: its messages and, index for index, their
 * endpoints (both malloc'ed; release with service_destinations_free). */
enum err service_event_destinations(struct store *s, const char *mode, const char *app,
                                    const char *msg, struct store_event_message **out,
                                    struct store_endpoint **eps, size_t *n, struct err_detail *d);
void service_destinations_free(struct store_event_message *msgs, struct store_endpoint *eps,
                               size_t n);

/* The fan-out messages of endpoint ep (id or uid) of application app, newest first,
 * before message iterator; and their attempts, before (iter_msg, iter_attempt). */
enum err service_endpoint_messages(struct store *s, const char *mode, const char *app,
                                   const char *ep, const char *iterator, int limit,
                                   struct store_endpoint_message *out, int *n, bool *has_more,
                                   struct err_detail *d);
enum err service_endpoint_attempts(struct store *s, const char *mode, const char *app,
                                   const char *ep, const char *iter_msg, const char *iter_attempt,
                                   const struct store_attempt_filter *f, int limit,
                                   struct store_event_attempt *out, int *n, bool *has_more,
                                   struct err_detail *d);

/* Resend an event to one endpoint of its application: a finished message (a
 * deduplicated one too) starts a new attempt series, a retrying one is due at once,
 * a queued one is left alone, and an endpoint that never had the event gets a new
 * message of it. */
struct service_resend_op {
    struct service_op head;
    char mode[8];
    char *app, *msg, *ep;
    int64_t retention_ms;
};
enum err service_resend_op_init(struct service_resend_op *x, const char *mode, const char *app,
                                const char *msg, const char *ep, int64_t retention_ms);
void service_resend_op_release(struct service_resend_op *x);

/* Replay a message as a new message of the same event to the same endpoint
 * (Hookbase's replay: the old one keeps its history). ERR_NOTFOUND when id is
 * not a live message of mode, or not of an event (a /v1 send: replay it on /v1);
 * ERR_CONFLICT (RETENTION_EXPIRED) when the payload is gone. With app set, the
 * message must be of that application (a portal token's). */
struct service_message_copy_op {
    struct service_op head;
    char mode[8];
    char app[ID_MAX]; /* "" = any */
    char id[ID_MAX];
    int64_t retention_ms;
    char new_id[ID_MAX]; /* out */
};
void service_message_copy_op_init(struct service_message_copy_op *x, const char *mode,
                                  const char *app, const char *id, int64_t retention_ms);

/* Replay every message of endpoint ep (an id) that ended failed_permanent, each
 * as a new message (at most SERVICE_REPLAY_FAILED_MAX, newest first). */
#define SERVICE_REPLAY_FAILED_MAX 100
struct service_replay_failed_op {
    struct service_op head;
    char mode[8];
    char app[ID_MAX];
    char ep[ID_MAX];
    int64_t retention_ms;
    char (*new_ids)[ID_MAX]; /* out: n of them */
    int n;
};
void service_replay_failed_op_init(struct service_replay_failed_op *x, const char *mode,
                                   const char *app, const char *ep, int64_t retention_ms);
void service_replay_failed_op_release(struct service_replay_failed_op *x);

/* Does a candidate endpoint (store_publish_candidates) receive events of type:
 * every type, or one of its subscriptions (names or patterns) matches? Used
 * by publishing and by the operational events (ops_events.h). */
bool service_candidate_receives_type(const struct store_candidate *c, const char *type);

#endif

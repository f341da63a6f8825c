/*
 * endpoint_extras - what an endpoint has beyond its fields (TENANCY.md §5):
 * its custom headers set or merged, its signing secret rotated with an
 * overlap, and its deliveries counted by state.
 *
 * Description: the headers are an object of strings sent with every
 * delivery (validate_headers rules, checked again on the merged result);
 * names are compared without case, so a header set as "X-A" is replaced or
 * removed by "x-a". Rotation makes a new secret (given: whsec_ + base64 of
 * 24 to 64 bytes; else generated) the endpoint's signing secret; the one it
 * replaces keeps signing beside it for the overlap (default 24 h, 0 to 7
 * days), then stops; an older one still overlapping is dropped at once (at
 * most two active keys). Stats are store_endpoint_stats over a window.
 * Threading: *_init and reads on any thread; apply on the committer.
 * Errors: ERR_INVAL (field named: "headers", "delete_headers", "key",
 * "grace_period_seconds", "until"), ERR_NOTFOUND (application or endpoint),
 * ERR_CONFLICT (idempotency key reused for another request), ERR_IO.
 * See also: endpoints.h, signing_keys.h (how the new key is made), store.h
 * (store_signing_key_rotate).
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_SERVICE_ENDPOINT_EXTRAS_H
#define HOOKD_SERVICE_ENDPOINT_EXTRAS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "service/service.h"
#include "store/store.h"

/* How long a rotated-away secret keeps signing, unless the request says. */
#define SERVICE_ROTATE_OVERLAP_MS (24 * 3600 * 1000LL)
#define SERVICE_ROTATE_OVERLAP_MAX_MS (7 * 24 * 3600 * 1000LL)

enum endpoint_extra {
    ENDPOINT_HEADERS_SET,   /* the headers become exactly the given object */
    ENDPOINT_HEADERS_MERGE, /* given names set; null values and deleted names removed */
    ENDPOINT_SECRET_ROTATE,
};

struct service_endpoint_extra_op {
    struct service_op head;
    enum endpoint_extra kind;
    char mode[8];
    char *app;                    /* the application's id or uid */
    char *target;                 /* the endpoint's id or uid */
    json_t *headers;              /* HEADERS_*: checked; MERGE: null values remove */
    int64_t overlap_ms;           /* ROTATE */
    struct store_signing_key key; /* ROTATE: the new key (secret given or made) */
};

/* Headers: set (merge false) or merge. headers (borrowed) is required for a
 * set; delete_names (a JSON array of names, or NULL) only for a merge. */
enum err service_endpoint_headers_init(struct service_endpoint_extra_op *x, bool merge,
                                       const char *mode, const char *app, const char *target,
                                       const json_t *headers, const json_t *delete_names,
                                       struct err_detail *d);

/* Rotation: key is the new secret (NULL or JSON null: generate one),
 * grace_seconds how long the current one keeps signing (NULL or null: 24 h). */
enum err service_endpoint_rotate_init(struct service_endpoint_extra_op *x, const char *mode,
                                      const char *app, const char *target, const json_t *key,
                                      const json_t *grace_seconds, struct err_detail *d);

void service_endpoint_extra_op_release(struct service_endpoint_extra_op *x);

/* Read: the endpoint's custom headers as a new object ({} when none). */
enum err service_endpoint_headers(struct store *s, const char *mode, const char *app,
                                  const char *id_or_uid, json_t **out, struct err_detail *d);

/* Read: the endpoint's deliveries by state over [since_ms, until_ms); 0 for
 * since_ms means from the start, 0 for until_ms up to now. */
enum err service_endpoint_stats(struct store *s, const char *mode, const char *app,
                                const char *id_or_uid, int64_t since_ms, int64_t until_ms,
                                struct store_endpoint_stats *out, struct err_detail *d);

#endif

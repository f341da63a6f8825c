/*
 * endpoints - create, update (replace or patch) and delete the endpoints of
 * an application (TENANCY.md §1), and the URL rule every surface applies.
 *
 * Description: an endpoint belongs to one application and is addressed in it
 * by id or uid; with app NULL (HookBridge's /v1, which sees every application
 * of the mode) by id in any application of the mode. Rules kept here: the URL
 * (service_endpoint_check_url); uid shape and uniqueness in the application; event types are names
 * or wildcard patterns (core/event_match.h), an empty or absent list meaning every type; at most 10
 * channels of 1-128 bytes; the filter is a valid core/filter.h document; rate 1..100,000
 * deliveries/s or none, burst the same; hmac_enabled a boolean (default true); metadata an object
 * of strings; headers as validate_headers; a given secret is whsec_ + base64 of 24 to 64 bytes.
 * Errors: ERR_INVAL (field named in domain words: "url", "event_types",
 * "channels", "filter", "rate_limit_rps", ...), ERR_NOTFOUND, ERR_CONFLICT, ERR_IO.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_SERVICE_ENDPOINTS_H
#define HOOKD_SERVICE_ENDPOINTS_H

#include <jansson.h>
#include <stdbool.h>

#include "config.h"
#include "service/endpoint_policy.h"
#include "service/service.h"
#include "store/store.h"

/* Refuse a URL that is not a valid endpoint URL (https unless allow_http) or
 * (unless allow_private_networks) names an IP literal outside public space or
 * a localhost name. Hostnames are checked again after DNS at delivery. */
enum err service_endpoint_check_url(const char *url, const struct config *cfg,
                                    struct err_detail *d);

/* Whether s is a signing secret hookd accepts: whsec_ + standard base64 of 24
 * to 64 bytes. */
bool service_endpoint_secret_ok(const char *s);

/* An endpoint's settable fields as a surface read them: borrowed JSON values,
 * NULL when absent; JSON null clears. */
struct endpoint_fields {
    const json_t *url, *description, *uid, *disabled, *event_types, *channels, *filter,
        *rate_limit_rps, *burst, *hmac_enabled, *metadata, *headers, *secret;
    const json_t *policy; /* an object of policy members (service/endpoint_policy.h) */
    /* An empty event_types array subscribes to nothing (Hookbase, TENANCY §1 rule
     * 2) instead of every type (Svix's empty list). */
    bool empty_event_types_is_none;
};

enum endpoint_write {
    ENDPOINT_CREATE,  /* url required */
    ENDPOINT_REPLACE, /* PUT: url required, absent fields reset; creates a missing uid */
    ENDPOINT_PATCH,   /* only present fields change */
    ENDPOINT_DELETE,
};

struct service_endpoint_op {
    struct service_op head;
    enum endpoint_write kind;
    char mode[8];
    char *app;           /* the application's id or uid; NULL: any (CREATE: the default one) */
    char *target;        /* the endpoint's id or uid (not for CREATE); an id when app is NULL */
    json_t *fields;      /* checked fields present, keyed by domain name */
    char secret[ID_MAX]; /* CREATE: the first signing secret (given or made) */
    struct endpoint_policy_change policy;
    const struct config *cfg;
    bool reuse_same_url; /* CREATE: answer a live endpoint with the same url instead */
    /* out */
    struct store_endpoint ep;
    bool created;        /* a new endpoint (CREATE, or a PUT naming a missing uid) */
    char key_id[ID_MAX]; /* created: the id of its first signing key */
};

enum err service_endpoint_op_init(struct service_endpoint_op *x, enum endpoint_write kind,
                                  const char *mode, const char *app, const char *target,
                                  const struct endpoint_fields *f, const struct config *cfg,
                                  struct err_detail *d);
void service_endpoint_op_release(struct service_endpoint_op *x);

/* Read: an endpoint of an application (both by id or uid; app NULL: by id in
 * any application). */
enum err service_endpoint_get(struct store *s, const char *mode, const char *app,
                              const char *id_or_uid, struct store_endpoint *out,
                              struct err_detail *d);
/* A page of an application's endpoints after iterator (app NULL: of every
 * application of the mode, ascending only; iterator is then a cursor). */
enum err service_endpoint_list(struct store *s, const char *mode, const char *app,
                               const char *iterator, bool descending, int limit,
                               struct store_endpoint *out, int *n, bool *has_more,
                               struct err_detail *d);
/* The newest active signing secret of an endpoint of an application. */
enum err service_endpoint_secret(struct store *s, const char *mode, const char *app,
                                 const char *id_or_uid, char secret[ID_MAX], struct err_detail *d);

/* The endpoint's state as POLICIES §5 names it: "disabled", "paused" or "active". */
const char *service_endpoint_status(const struct store_endpoint *e);

#endif

/*
 * applications - create, read, update (replace or patch, with upsert) and
 * delete applications (TENANCY.md §1), for every surface.
 *
 * Description: an application is one customer of the team, in one mode. It
 * is addressed by its id (app_ + 26 time-ordered base32) or its uid. Rules
 * kept here: name required and at most 256 bytes; uid matches
 * ^[a-zA-Z0-9\-_.]{1,256}$ and is unique per mode; metadata is an object of
 * strings; throttle_rate is 1..100000 or none; the default application (the
 * home of /v1 endpoints) cannot be deleted.
 * Errors: ERR_INVAL (field named), ERR_NOTFOUND, ERR_CONFLICT (uid taken),
 * ERR_IO. SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_SERVICE_APPLICATIONS_H
#define HOOKD_SERVICE_APPLICATIONS_H

#include <jansson.h>
#include <stdbool.h>

#include "service/service.h"
#include "store/store.h"

/* An application's settable fields as a surface read them; has_* = present. */
struct app_fields {
    bool has_name, has_uid, has_metadata, has_throttle_rate;
    const char *name;            /* borrowed */
    const char *uid;             /* borrowed; NULL clears */
    const json_t *metadata;      /* borrowed; NULL or JSON null clears */
    const json_t *throttle_rate; /* borrowed JSON value; JSON null clears */
};

enum app_write {
    APP_CREATE,  /* POST: name required */
    APP_REPLACE, /* PUT: absent fields are cleared; creates when missing */
    APP_PATCH,   /* PATCH: only present fields change */
    APP_DELETE,
};

struct service_app_op {
    struct service_op head;
    /* in */
    enum app_write kind;
    char mode[8];
    char *target;                /* id or uid being addressed (not for APP_CREATE) */
    bool get_if_exists;          /* APP_CREATE: an existing uid answers with that application */
    struct store_application in; /* the checked fields (owned) */
    bool has_name, has_uid, has_metadata, has_throttle_rate;
    /* out */
    struct store_application app; /* the result (not for APP_DELETE) */
    bool created;                 /* a new application was made */
};

/* Check f for kind and fill x (mode from the caller's key; target for all but
 * APP_CREATE). On ERR_INVAL nothing is left to release. */
enum err service_app_op_init(struct service_app_op *x, enum app_write kind, const char *mode,
                             const char *target, const struct app_fields *f, bool get_if_exists,
                             struct err_detail *d);
/* Free what the op owns (its inputs and outputs). */
void service_app_op_release(struct service_app_op *x);

/* Is a the built-in application of /v1 endpoints or of operational webhooks
 * (not one of the team's customers: Hookbase's lists leave them out)? */
bool service_app_is_builtin(const struct store_application *a);

enum err service_app_get(struct store *s, const char *mode, const char *id_or_uid,
                         struct store_application *out, struct err_detail *d);
/* A page of applications; limit 1..SERVICE_PAGE_MAX. */
enum err service_app_list(struct store *s, const char *mode, const char *iterator, bool descending,
                          int limit, struct store_application *out, int *n, bool *has_more,
                          struct err_detail *d);

#endif

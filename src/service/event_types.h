/*
 * event_types - create, read, update (replace or patch, with upsert),
 * archive and expunge event types (TENANCY.md §1), for every surface.
 *
 * Description: an event type is mode-wide (not per application) and named
 * like a uid (^[a-zA-Z0-9\-_.]{1,256}$), unique per mode. Rules kept here:
 * schemas is an object (version -> JSON Schema object); feature_flags an array
 * of at most 10 uid-shaped strings; description and display_name at most
 * 1,024 / 256 bytes; "delete" archives (an archived type stays addressable
 * and can be unarchived); expunge removes it.
 * Errors: ERR_INVAL (field named), ERR_NOTFOUND, ERR_CONFLICT (name taken), ERR_IO.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_SERVICE_EVENT_TYPES_H
#define HOOKD_SERVICE_EVENT_TYPES_H

#include <jansson.h>
#include <stdbool.h>

#include "service/service.h"
#include "store/store.h"

/* An event type's settable fields as a surface read them; has_* = present. Every
 * value is a borrowed JSON value; JSON null clears. */
struct event_type_fields {
    const json_t *name, *display_name, *description, *category, *schemas, *example_payload,
        *feature_flags, *documentation_url, *archived, *deprecated;
};

enum event_type_write {
    EVENT_TYPE_CREATE,  /* POST: name required; ERR_CONFLICT when it exists */
    EVENT_TYPE_REPLACE, /* PUT: absent fields are reset; creates when missing */
    EVENT_TYPE_PATCH,   /* PATCH: only present fields change */
    EVENT_TYPE_ARCHIVE, /* DELETE */
    EVENT_TYPE_EXPUNGE, /* DELETE ?expunge=true */
};

struct service_event_type_op {
    struct service_op head;
    enum event_type_write kind;
    char mode[8];
    char *target;   /* name or id (not for CREATE) */
    json_t *fields; /* the checked fields present, as an object keyed by domain name */
    struct store_event_type type; /* out */
    bool created;
};

enum err service_event_type_op_init(struct service_event_type_op *x, enum event_type_write kind,
                                    const char *mode, const char *target,
                                    const struct event_type_fields *f, struct err_detail *d);
void service_event_type_op_release(struct service_event_type_op *x);

enum err service_event_type_get(struct store *s, const char *mode, const char *name_or_id,
                                struct store_event_type *out, struct err_detail *d);
enum err service_event_type_list(struct store *s, const char *mode, const char *iterator,
                                 bool include_archived, int limit, struct store_event_type *out,
                                 int *n, bool *has_more, struct err_detail *d);

/* The example payload of type name (JSON text, malloc'ed): its example_payload, or
 * "{}" when it has none or does not exist (what send-example sends). */
char *service_event_type_example(struct store *s, const char *mode, const char *name);

#endif

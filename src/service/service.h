/*
 * service - the operations of hookd in the domain's words, shared by every
 * surface (ARCHITECTURE §8): applications, event types, and (as they move
 * here) endpoints, publishing and message operations.
 *
 * Description: a surface reads its wire format into the domain structs of a
 * service header (struct app_fields, ...), and the service checks them, names
 * the field at fault in err_detail.field (domain names: "uid",
 * "throttle_rate"), and does the work. Reads take a store connection the
 * caller borrowed; writes are ops for the committer: the surface embeds the
 * service op, fills it with a service *_init function, sets head.waiter and
 * head.op.done (its own wake-up) and submits it; after done() the op's
 * result and outputs are final.
 * Threading: *_init and the checks on any thread; apply runs on the committer.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_SERVICE_SERVICE_H
#define HOOKD_SERVICE_SERVICE_H

#include "store/committer.h"
#include "store/store.h"

/* The idempotency key of a POST (TENANCY.md §1): the same key with the same
 * request within 24 h answers what the first request made, again; with another
 * request it is ERR_CONFLICT. The op's apply checks it first and records it last,
 * in the transaction of what the request makes, so a crash cannot split them. */
struct service_idem {
    char key[STORE_IDEM_KEY_MAX + 1]; /* "" = none */
    char request_sha256[65];          /* of the method, path and body */
    /* out of service_idem_begin: */
    bool replayed; /* answered before: rec.resource is what it made */
    struct store_idem rec;
};

/* The head of every service write op. */
struct service_op {
    struct commit_op op;
    void *waiter; /* the surface's request, for its done() */
    struct service_idem idem;
};

/* In apply, before anything else: sets x->replayed (and x->rec) when the key was
 * answered before; ERR_CONFLICT when it was used for another request. A no-op
 * without a key. */
enum err service_idem_begin(struct store *s, const char *mode, struct service_idem *x,
                            struct err_detail *d);
/* In apply, once the request succeeded: record the key with the status answered,
 * the id of what was made ("" for none) and its time (0: now). A no-op without a
 * key. */
enum err service_idem_end(struct store *s, const char *mode, struct service_idem *x, int status,
                          const char *resource, int64_t at_ms, struct err_detail *d);

/* Lists: the most items one page may hold, whatever a surface allows. */
#define SERVICE_PAGE_MAX 250

#endif

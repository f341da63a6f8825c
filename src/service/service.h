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

/* The head of every service write op. */
struct service_op {
    struct commit_op op;
    void *waiter; /* the surface's request, for its done() */
};

/* Lists: the most items one page may hold, whatever a surface allows. */
#define SERVICE_PAGE_MAX 250

#endif

/*
 * subscriptions - Hookbase's subscriptions (TENANCY.md §1, §6): an endpoint's
 * entries of exact event-type names, added and removed one by one (or a few
 * at once), as rows of the same list that Svix's eventTypes and /v1's
 * event_types write.
 *
 * Description: a subscription is named by its endpoint and its event type;
 * service_subscription_id makes its id from both ("sub_" + the endpoint id +
 * "." + the type id) and service_subscription_parse reads them back, so no
 * row of its own is needed. Adding names an existing event type (archived
 * ones too: the fan-out skips nothing by archive). Adding to an endpoint
 * that receives every type makes it receive the added types only; removing
 * the last entry leaves it receiving nothing, never everything. Wildcard
 * entries are kept but not shown as subscriptions.
 * Errors: ERR_INVAL (field named), ERR_NOTFOUND (endpoint or event type),
 * ERR_IO. SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_SERVICE_SUBSCRIPTIONS_H
#define HOOKD_SERVICE_SUBSCRIPTIONS_H

#include <stdbool.h>

#include "service/service.h"
#include "store/store.h"

#define SUBSCRIPTION_ID_MAX (2 * ID_MAX + 8)
#define SUBSCRIPTION_BULK_MAX 100

/* "sub_<endpoint id>.<event type id>" into out. */
void service_subscription_id(char out[SUBSCRIPTION_ID_MAX], const char *endpoint_id,
                             const char *event_type_id);
/* The endpoint and event type ids of a subscription id; false when it is not one. */
bool service_subscription_parse(const char *id, char endpoint_id[ID_MAX],
                                char event_type_id[ID_MAX]);

/* Does endpoint e hold an entry of exactly name? */
bool service_subscription_has(const struct store_endpoint *e, const char *name);

struct service_subscription_op {
    struct service_op head;
    bool remove;
    char mode[8];
    char app[ID_MAX];         /* "" = any application (an API key) */
    char endpoint_id[ID_MAX]; /* an endpoint id */
    char (*types)[ID_MAX];    /* event type ids or names */
    int n;
    /* out, index for index with types: */
    struct store_event_type *found;
    bool *changed; /* added (was not there) / removed (was there) */
    struct store_endpoint ep;
};
/* Add (or remove) the event types types[0..n) (ids or names, n 1..SUBSCRIPTION_BULK_MAX)
 * to endpoint_id of mode (of application app unless NULL or ""). */
void service_subscription_op_init(struct service_subscription_op *x, bool remove, const char *mode,
                                  const char *app, const char *endpoint_id,
                                  const char *const *types, int n);
void service_subscription_op_release(struct service_subscription_op *x);

#endif

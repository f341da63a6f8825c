/* subscriptions - see subscriptions.h. SPDX-License-Identifier: MIT */
#include "service/subscriptions.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"

void service_subscription_id(char out[SUBSCRIPTION_ID_MAX], const char *endpoint_id,
                             const char *event_type_id)
{
    snprintf(out, SUBSCRIPTION_ID_MAX, "sub_%s.%s", endpoint_id, event_type_id);
}

bool service_subscription_parse(const char *id, char endpoint_id[ID_MAX],
                                char event_type_id[ID_MAX])
{
    if (strncmp(id, "sub_", 4) != 0)
        return false;
    const char *dot = strchr(id + 4, '.');
    if (!dot || dot == id + 4 || !dot[1] || (size_t)(dot - id - 4) >= ID_MAX ||
        strlen(dot + 1) >= ID_MAX)
        return false;
    snprintf(endpoint_id, ID_MAX, "%.*s", (int)(dot - id - 4), id + 4);
    snprintf(event_type_id, ID_MAX, "%s", dot + 1);
    return true;
}

bool service_subscription_has(const struct store_endpoint *e, const char *name)
{
    if (e->all_event_types || !e->event_types_json)
        return false;
    json_t *list = json_loads(e->event_types_json, 0, NULL);
    bool yes = false;
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        if (json_is_string(v) && !strcmp(json_string_value(v), name))
            yes = true;
    }
    json_decref(list);
    return yes;
}

static enum err apply(struct store *s, struct commit_op *op)
{
    struct service_subscription_op *x = (struct service_subscription_op *)op;
    struct err_detail *d = &op->detail;
    store_endpoint_release(&x->ep);
    memset(&x->ep, 0, sizeof(x->ep));
    enum err e = store_endpoint_get(s, x->mode, x->endpoint_id, false, &x->ep, d);
    if (e == ERR_OK && x->app[0] && strcmp(x->ep.application_id, x->app) != 0)
        e = err_set(d, ERR_NOTFOUND, "ENDPOINT_NOT_FOUND", "no endpoint '%s'", x->endpoint_id);
    if (e != ERR_OK)
        return e;
    json_t *list = x->ep.all_event_types || !x->ep.event_types_json
                       ? json_array()
                       : json_loads(x->ep.event_types_json, 0, NULL);
    if (!list)
        list = json_array();
    bool any = false;
    for (int k = 0; e == ERR_OK && k < x->n; k++) {
        store_event_type_release(&x->found[k]);
        memset(&x->found[k], 0, sizeof(x->found[k]));
        x->changed[k] = false;
        e = store_event_type_get(s, x->mode, x->types[k], &x->found[k], d);
        if (e == ERR_NOTFOUND)
            e = err_set_field(d, ERR_NOTFOUND, "EVENT_TYPE_NOT_FOUND", "event_type_id",
                              "no event type '%s'", x->types[k]);
        if (e != ERR_OK)
            break;
        const char *name = x->found[k].name;
        size_t i, at = (size_t)-1;
        json_t *v;
        json_array_foreach(list, i, v)
        {
            if (json_is_string(v) && !strcmp(json_string_value(v), name))
                at = i;
        }
        if (x->remove && at != (size_t)-1) {
            json_array_remove(list, at);
            x->changed[k] = any = true;
        } else if (!x->remove && (at == (size_t)-1 || x->ep.all_event_types)) {
            if (at == (size_t)-1)
                json_array_append_new(list, json_string(name));
            x->changed[k] = any = true;
        }
    }
    if (e == ERR_OK && (any || x->ep.all_event_types) && !x->remove) {
        if (json_array_size(list) > 100)
            e = err_set_field(d, ERR_INVAL, "INVALID_REQUEST", "event_types",
                              "an endpoint subscribes to at most 100 event types");
    }
    if (e == ERR_OK && any) {
        free(x->ep.event_types_json);
        x->ep.event_types_json = json_dumps(list, JSON_COMPACT);
        if (!x->ep.event_types_json)
            abort();
        x->ep.all_event_types = false; /* never "every type" again (TENANCY §1) */
        x->ep.updated_at_ms = clock_now_ms();
        e = store_endpoint_update(s, &x->ep, d);
    }
    json_decref(list);
    return e;
}

void service_subscription_op_init(struct service_subscription_op *x, bool remove, const char *mode,
                                  const char *app, const char *endpoint_id,
                                  const char *const *types, int n)
{
    memset(x, 0, sizeof(*x));
    x->remove = remove;
    snprintf(x->mode, sizeof(x->mode), "%s", mode);
    snprintf(x->app, sizeof(x->app), "%s", app ? app : "");
    snprintf(x->endpoint_id, sizeof(x->endpoint_id), "%s", endpoint_id);
    x->n = n;
    x->types = calloc((size_t)(n > 0 ? n : 1), sizeof(*x->types));
    x->found = calloc((size_t)(n > 0 ? n : 1), sizeof(*x->found));
    x->changed = calloc((size_t)(n > 0 ? n : 1), sizeof(*x->changed));
    if (!x->types || !x->found || !x->changed)
        abort();
    for (int i = 0; i < n; i++)
        snprintf(x->types[i], ID_MAX, "%s", types[i]);
    x->head.op.apply = apply;
}

void service_subscription_op_release(struct service_subscription_op *x)
{
    for (int i = 0; x->found && i < x->n; i++)
        store_event_type_release(&x->found[i]);
    free(x->found);
    free(x->types);
    free(x->changed);
    store_endpoint_release(&x->ep);
    memset(x, 0, sizeof(*x));
}

/* publish - see publish.h. SPDX-License-Identifier: MIT */
#include "service/publish.h"

#include <stdlib.h>
#include <string.h>

#include "core/event_match.h"
#include "core/filter.h"
#include "core/names.h"
#include "core/validate.h"
#include "util/clock.h"

#define CHANNELS_MAX 10
#define TAGS_MAX 20
#define LABEL_MAX 128

static char *dup_or_null(const char *s)
{
    if (!s)
        return NULL;
    char *r = strdup(s);
    if (!r)
        abort();
    return r;
}

static bool is_set(const json_t *v)
{
    return v && !json_is_null(v);
}

/* An array of at most max strings of 1..LABEL_MAX bytes, as JSON text (NULL when empty). */
static enum err labels(const json_t *v, const char *field, size_t max, char **out,
                       struct err_detail *d)
{
    *out = NULL;
    if (!is_set(v))
        return ERR_OK;
    if (!json_is_array(v) || json_array_size(v) > max)
        return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", field,
                             "'%s' must be an array of at most %zu strings", field, max);
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item)
    {
        if (!json_is_string(item) || json_string_length(item) < 1 ||
            json_string_length(item) > LABEL_MAX)
            return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", field,
                                 "'%s' items must be strings of 1 to %d bytes", field, LABEL_MAX);
    }
    if (json_array_size(v) && !(*out = json_dumps(v, JSON_COMPACT)))
        abort();
    return ERR_OK;
}

static enum err apply(struct store *s, struct commit_op *op);

enum err service_publish_op_init(struct service_publish_op *x, const char *mode, const char *app,
                                 const struct publish_fields *f, int64_t retention_ms,
                                 struct err_detail *d)
{
    memset(x, 0, sizeof(*x));
    snprintf(x->mode, sizeof(x->mode), "%s", mode);
    enum err e = ERR_OK;
    if (!f->event_type || !json_is_string(f->event_type) ||
        !event_type_name_is_valid(json_string_value(f->event_type)))
        e = err_set_field(d, ERR_INVAL, "INVALID_REQUEST", "event_type",
                          "'event_type' is required: 1 to 256 characters of a-z, A-Z, 0-9, '-', "
                          "'_' and '.'");
    else if (!f->payload || !f->payload_len)
        e = err_set_field(d, ERR_INVAL, "INVALID_REQUEST", "payload", "'payload' is required");
    else if (is_set(f->event_id) &&
             (!json_is_string(f->event_id) || !names_is_uid(json_string_value(f->event_id))))
        e = names_check_uid(json_is_string(f->event_id) ? json_string_value(f->event_id) : "",
                            "event_id", d);
    if (e == ERR_OK)
        e = labels(f->channels, "channels", CHANNELS_MAX, &x->channels_json, d);
    if (e == ERR_OK)
        e = labels(f->tags, "tags", TAGS_MAX, &x->tags_json, d);
    if (e == ERR_OK && is_set(f->endpoint_ids)) {
        bool ok = json_is_array(f->endpoint_ids) && json_array_size(f->endpoint_ids) <= 100;
        size_t i;
        json_t *v;
        json_array_foreach(f->endpoint_ids, i, v)
        {
            if (!json_is_string(v) || !json_string_length(v) || json_string_length(v) >= ID_MAX)
                ok = false;
        }
        if (!ok)
            e = err_set_field(d, ERR_INVAL, "INVALID_REQUEST", "endpoint_ids",
                              "'endpoint_ids' must be an array of at most 100 endpoint ids");
    }
    if (e == ERR_OK && is_set(f->application)) {
        const json_t *name = json_object_get(f->application, "name");
        const json_t *uid = json_object_get(f->application, "uid");
        if (!json_is_object(f->application) || !json_is_string(name) || !json_string_length(name) ||
            json_string_length(name) > 256)
            e = err_set_field(d, ERR_INVAL, "INVALID_REQUEST", "application",
                              "'application' must be an object with a 'name' of 1 to 256 bytes");
        else if (is_set(uid) && (!json_is_string(uid) || !names_is_uid(json_string_value(uid))))
            e = names_check_uid(json_is_string(uid) ? json_string_value(uid) : "", "application",
                                d);
        if (e == ERR_OK) {
            x->new_app_name = dup_or_null(json_string_value(name));
            x->new_app_uid = is_set(uid) ? dup_or_null(json_string_value(uid)) : NULL;
        }
    }
    if (e != ERR_OK) {
        service_publish_op_release(x);
        return e;
    }
    x->app = dup_or_null(app);
    x->event_type = dup_or_null(json_string_value(f->event_type));
    x->producer_id = is_set(f->event_id) ? dup_or_null(json_string_value(f->event_id)) : NULL;
    x->payload = malloc(f->payload_len + 1);
    if (!x->payload)
        abort();
    memcpy(x->payload, f->payload, f->payload_len);
    x->payload[f->payload_len] = '\0';
    x->payload_len = f->payload_len;
    validate_sha256_hex(x->payload_sha256, x->payload, x->payload_len);
    x->channels = x->channels_json ? json_loads(x->channels_json, 0, NULL) : NULL;
    x->retention_ms = retention_ms;
    x->only_endpoint = dup_or_null(f->only_endpoint);
    x->endpoint_ids = is_set(f->endpoint_ids) ? json_deep_copy(f->endpoint_ids) : NULL;
    x->hookbase = f->hookbase;
    x->head.op.apply = apply;
    /* apply reads only its inputs and sets every output afresh: no savepoint needed */
    x->head.op.rerunnable = true;
    return ERR_OK;
}

void service_publish_op_release(struct service_publish_op *x)
{
    free(x->app);
    free(x->event_type);
    free(x->producer_id);
    free(x->payload);
    free(x->channels_json);
    free(x->tags_json);
    json_decref(x->payload_doc);
    json_decref(x->channels);
    free(x->new_app_name);
    free(x->new_app_uid);
    free(x->only_endpoint);
    json_decref(x->endpoint_ids);
    free(x->envelope);
    free(x->targets);
    memset(x, 0, sizeof(*x));
}

bool service_candidate_receives_type(const struct store_candidate *c, const char *type)
{
    if (c->all_event_types)
        return true;
    json_t *subs = c->event_types_json ? json_loads(c->event_types_json, 0, NULL) : NULL;
    bool yes = false;
    size_t i;
    json_t *v;
    json_array_foreach(subs, i, v)
    {
        if (json_is_string(v) && event_type_pattern_matches(json_string_value(v), type)) {
            yes = true;
            break;
        }
    }
    json_decref(subs);
    return yes;
}

/* The strings of a JSON array text, borrowed from doc (set *doc; decref it). */
static size_t strings_of(const char *json_text, json_t **doc, const char **out, size_t max)
{
    *doc = json_text ? json_loads(json_text, 0, NULL) : NULL;
    size_t n = 0, i;
    json_t *v;
    json_array_foreach(*doc, i, v)
    {
        if (n < max && json_is_string(v))
            out[n++] = json_string_value(v);
    }
    return n;
}

static bool matches(struct service_publish_op *x, const struct store_candidate *c)
{
    if (!service_candidate_receives_type(c, x->event_type))
        return false;
    const char *ep_ch[CHANNELS_MAX], *ev_ch[CHANNELS_MAX];
    json_t *ep_doc = NULL, *ev_doc = NULL;
    size_t n_ep = strings_of(c->channels_json, &ep_doc, ep_ch, CHANNELS_MAX);
    size_t n_ev = strings_of(x->channels_json, &ev_doc, ev_ch, CHANNELS_MAX);
    bool ok = event_channels_match(ep_ch, n_ep, ev_ch, n_ev);
    json_decref(ep_doc);
    json_decref(ev_doc);
    if (!ok || !c->filter_json)
        return ok;
    if (!x->payload_doc) /* parsed once, and only when a filter needs it */
        x->payload_doc = json_loadb(x->payload, x->payload_len, JSON_DECODE_ANY, NULL);
    json_t *filter = json_loads(c->filter_json, 0, NULL);
    json_t *headers = json_object(); /* published events carry no headers of their own */
    ok = filter_match(filter, x->payload_doc, headers);
    json_decref(filter);
    json_decref(headers);
    return ok;
}

/* Is endpoint id among the publisher's endpoint_ids (or were none named)? */
static bool targeted(const struct service_publish_op *x, const char *id)
{
    if (!x->endpoint_ids)
        return true;
    size_t i;
    json_t *v;
    json_array_foreach(x->endpoint_ids, i, v)
    {
        if (!strcmp(json_string_value(v), id))
            return true;
    }
    return false;
}

/* Answer the event of application app_id with public or producer id id, made
 * before (x->duplicate, x->ev, x->targets); ERR_OK without duplicate when none. */
static enum err answer_existing(struct store *s, struct service_publish_op *x, const char *app_id,
                                const char *id, struct err_detail *d)
{
    struct store_event ev = {0};
    enum err e = store_event_get(s, app_id, id, &ev, d);
    if (e == ERR_NOTFOUND) {
        store_event_release(&ev);
        return ERR_OK;
    }
    if (e != ERR_OK)
        return e;
    memset(&x->ev, 0, sizeof(x->ev));
    snprintf(x->ev.public_id, sizeof(x->ev.public_id), "%s", ev.public_id);
    snprintf(x->ev.application_id, sizeof(x->ev.application_id), "%s", ev.application_id);
    x->ev.now_ms = ev.created_at_ms;
    struct store_event_message *msgs = NULL;
    size_t n = 0;
    e = store_event_messages(s, ev.rowid, NULL, &msgs, &n, d);
    store_event_release(&ev);
    if (e == ERR_OK && n && !(x->targets = calloc(n, sizeof(*x->targets))))
        abort();
    for (size_t i = 0; e == ERR_OK && i < n; i++)
        snprintf(x->targets[i], ID_MAX, "%s", msgs[i].endpoint_id);
    free(msgs);
    x->messages = e == ERR_OK ? (int)n : 0;
    x->duplicate = e == ERR_OK;
    return e != ERR_OK
               ? e
               : service_idem_end(s, x->mode, &x->head.idem, 200, x->ev.public_id, x->ev.now_ms, d);
}

/* Hookbase's rules before an event is made: the type exists and is enabled; a
 * reused event_id answers the first event (x->duplicate, x->ev, x->targets). */
static enum err hookbase_checks(struct store *s, struct service_publish_op *x, const char *app_id,
                                struct err_detail *d)
{
    struct store_event_type t = {0};
    enum err e = store_event_type_get(s, x->mode, x->event_type, &t, d);
    bool enabled = e == ERR_OK && !t.archived && !strcmp(t.name, x->event_type);
    store_event_type_release(&t);
    if (e != ERR_OK && e != ERR_NOTFOUND)
        return e;
    if (!enabled)
        return err_set_field(d, ERR_NOTFOUND, "EVENT_TYPE_NOT_FOUND", "event_type",
                             "event type '%s' does not exist or is disabled", x->event_type);
    if (!x->producer_id)
        return ERR_OK;
    return answer_existing(s, x, app_id, x->producer_id, d);
}

static enum err apply(struct store *s, struct commit_op *op)
{
    struct service_publish_op *x = (struct service_publish_op *)op;
    struct err_detail *d = &op->detail;
    x->messages = 0;
    x->duplicate = false;
    free(x->targets);
    x->targets = NULL;
    struct service_idem *idem = &x->head.idem;
    enum err e = service_idem_begin(s, x->mode, idem, d);
    if (e != ERR_OK)
        return e;
    if (idem->replayed) { /* the same request: the same event, answered again */
        snprintf(x->ev.public_id, sizeof(x->ev.public_id), "%s", idem->rec.resource);
        x->ev.now_ms = idem->rec.created_at_ms;
        const struct store_fanout *f = NULL;
        if (!x->hookbase || store_fanout_get(s, x->mode, x->app, &f, d) != ERR_OK)
            return ERR_OK;
        idem->key[0] = '\0'; /* recorded already */
        char id[ID_MAX];
        snprintf(id, sizeof(id), "%s", idem->rec.resource);
        e = answer_existing(s, x, f->app_id, id, d);
        x->duplicate = false;
        return e;
    }
    /* the application and its candidate endpoints: kept by the store between publishes */
    const struct store_fanout *fan = NULL;
    e = store_fanout_get(s, x->mode, x->app, &fan, d);
    if (e == ERR_NOTFOUND && x->new_app_name) { /* Svix: `application` makes it */
        struct store_application app = {0};
        app.name = x->new_app_name;
        app.uid = x->new_app_uid                                            ? x->new_app_uid
                  : names_is_uid(x->app) && strncmp(x->app, "app_", 4) != 0 ? x->app
                                                                            : NULL;
        snprintf(app.mode, sizeof(app.mode), "%s", x->mode);
        app.throttle_rate = -1;
        app.created_at_ms = app.updated_at_ms = clock_now_ms();
        id_time_ordered(app.id, sizeof(app.id), "app_", app.created_at_ms);
        e = store_application_insert(s, &app, d);
        if (e == ERR_OK)
            e = store_fanout_get(s, x->mode, app.id, &fan, d);
    }
    if (e != ERR_OK)
        return e;
    if (x->hookbase) {
        if ((e = hookbase_checks(s, x, fan->app_id, d)) != ERR_OK || x->duplicate)
            return e;
    }
    struct store_event_in *ev = &x->ev;
    memset(ev, 0, sizeof(*ev));
    ev->now_ms = clock_now_ms();
    id_time_ordered(ev->public_id, sizeof(ev->public_id), "msg_", ev->now_ms);
    snprintf(ev->mode, sizeof(ev->mode), "%s", x->mode);
    snprintf(ev->application_id, sizeof(ev->application_id), "%s", fan->app_id);
    ev->event_type = x->event_type;
    ev->producer_id = x->producer_id;
    ev->payload = x->payload;
    ev->payload_len = x->payload_len;
    ev->content_type = "application/json";
    ev->payload_sha256 = x->payload_sha256;
    char envelope_sha[65];
    if (x->hookbase) { /* TENANCY §2: {type, data, timestamp, webhookId} */
        free(x->envelope);
        char ts[40];
        clock_format_rfc3339(ts, sizeof(ts), ev->now_ms);
        json_t *type = json_string(x->event_type);
        char *type_text = json_dumps(type, JSON_ENCODE_ANY);
        json_decref(type);
        size_t cap = x->payload_len + strlen(type_text) + 160;
        x->envelope = malloc(cap);
        if (!type_text || !x->envelope)
            abort();
        int n = snprintf(x->envelope, cap,
                         "{\"type\":%s,\"data\":%s,\"timestamp\":\"%s\",\"webhookId\":\"%s\"}",
                         type_text, x->payload, ts, ev->public_id);
        free(type_text);
        ev->payload = x->envelope;
        ev->payload_len = (size_t)n;
        validate_sha256_hex(envelope_sha, x->envelope, (size_t)n);
        ev->payload_sha256 = envelope_sha;
    }
    ev->channels_json = x->channels_json;
    ev->tags_json = x->tags_json;
    ev->payload_expires_at_ms = ev->now_ms + x->retention_ms;
    int64_t rowid = 0;
    if ((e = store_event_insert(s, ev, &rowid, d)) != ERR_OK)
        return e;
    char only[ID_MAX] = "";
    if (x->only_endpoint) {
        struct store_endpoint ep = {0};
        e = store_endpoint_find(s, x->mode, ev->application_id, x->only_endpoint, &ep, d);
        snprintf(only, sizeof(only), "%s", ep.id);
        store_endpoint_release(&ep);
    }
    const struct store_candidate *cands = fan->cands;
    if (fan->n && !(x->targets = calloc(fan->n, sizeof(*x->targets))))
        abort();
    for (size_t i = 0; e == ERR_OK && i < fan->n; i++) {
        if (only[0] ? strcmp(cands[i].id, only) != 0 : !matches(x, &cands[i]))
            continue;
        if (!targeted(x, cands[i].id))
            continue;
        snprintf(x->targets[x->messages], ID_MAX, "%s", cands[i].id);
        char message_id[ID_MAX];
        id_uuid7(message_id, ev->now_ms);
        /* judged by the endpoint's deduplicate rule, if any (a repeat is stored
         * deduplicated), unless asked for by hand (send-example) */
        e = store_event_message_insert(s, ev, rowid, message_id, cands[i].id,
                                       only[0] ? NULL : cands[i].dedupe, NULL, d);
        x->messages++;
    }
    if (e == ERR_OK && x->messages == 0) /* nothing will take it away at retention */
        e = store_event_set_orphan(s, rowid, true, d);
    return e != ERR_OK ? e : service_idem_end(s, x->mode, idem, 202, ev->public_id, ev->now_ms, d);
}

enum err service_event_get(struct store *s, const char *mode, const char *app,
                           const char *id_or_event_id, struct store_event *out,
                           struct err_detail *d)
{
    struct store_application a = {0};
    enum err e = store_application_get(s, mode, app, &a, d);
    if (e == ERR_OK)
        e = store_event_get(s, a.id, id_or_event_id, out, d);
    store_application_release(&a);
    return e;
}

enum err service_event_list(struct store *s, const char *mode, const char *app,
                            const char *iterator, const struct store_event_filter *f, int limit,
                            struct store_event *out, int *n, bool *has_more, struct err_detail *d)
{
    *n = 0;
    *has_more = false;
    if (limit < 1 || limit > SERVICE_PAGE_MAX)
        return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", "limit",
                             "'limit' must be from 1 to %d", SERVICE_PAGE_MAX);
    struct store_application a = {0};
    enum err e = store_application_get(s, mode, app, &a, d);
    if (e == ERR_OK)
        e = store_event_list(s, a.id, iterator, f, limit, out, n, has_more, d);
    store_application_release(&a);
    return e;
}

enum err service_event_get_many(struct store *s, const char *mode, const char *app,
                                const char *const *ids, size_t n, struct store_event *out,
                                struct err_detail *d)
{
    memset(out, 0, n * sizeof(*out));
    struct store_application a = {0};
    enum err e = store_application_get(s, mode, app, &a, d);
    for (size_t i = 0; e == ERR_OK && i < n; i++) {
        e = store_event_get(s, a.id, ids[i], &out[i], d);
        if (e == ERR_NOTFOUND)
            e = ERR_OK; /* out[i] stays zeroed */
    }
    store_application_release(&a);
    return e;
}

/* The application id, event and (when ep is not NULL) endpoint id that a request names. */
static enum err resolve(struct store *s, const char *mode, const char *app, const char *msg,
                        const char *ep, struct store_event *ev, char ep_id[ID_MAX],
                        struct err_detail *d)
{
    enum err e = service_event_get(s, mode, app, msg, ev, d);
    if (e != ERR_OK || !ep)
        return e;
    struct store_endpoint endpoint = {0};
    e = store_endpoint_find(s, mode, ev->application_id, ep, &endpoint, d);
    if (e == ERR_OK)
        snprintf(ep_id, ID_MAX, "%s", endpoint.id);
    else
        store_event_release(ev);
    store_endpoint_release(&endpoint);
    return e;
}

enum err service_event_attempts(struct store *s, const char *mode, const char *app, const char *msg,
                                const char *ep, const char *iterator,
                                const struct store_attempt_filter *f, int limit,
                                struct store_event_attempt *out, int *n, bool *has_more,
                                struct err_detail *d)
{
    *n = 0;
    *has_more = false;
    if (limit < 1 || limit > SERVICE_PAGE_MAX)
        return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", "limit",
                             "'limit' must be from 1 to %d", SERVICE_PAGE_MAX);
    struct store_event ev = {0};
    char ep_id[ID_MAX] = "";
    enum err e = resolve(s, mode, app, msg, ep, &ev, ep_id, d);
    if (e != ERR_OK)
        return e;
    e = store_event_attempts(s, ev.rowid, ep ? ep_id : NULL, iterator, f, limit, out, n, has_more,
                             d);
    store_event_release(&ev);
    return e;
}

enum err service_event_destinations(struct store *s, const char *mode, const char *app,
                                    const char *msg, struct store_event_message **out,
                                    struct store_endpoint **eps, size_t *n, struct err_detail *d)
{
    *out = NULL;
    *eps = NULL;
    *n = 0;
    struct store_event ev = {0};
    enum err e = resolve(s, mode, app, msg, NULL, &ev, NULL, d);
    if (e != ERR_OK)
        return e;
    e = store_event_messages(s, ev.rowid, NULL, out, n, d);
    store_event_release(&ev);
    if (e != ERR_OK || *n == 0)
        return e;
    *eps = calloc(*n, sizeof(**eps));
    if (!*eps)
        abort();
    for (size_t i = 0; e == ERR_OK && i < *n; i++)
        e = store_endpoint_get(s, mode, (*out)[i].endpoint_id, true, &(*eps)[i], d);
    if (e != ERR_OK) {
        service_destinations_free(*out, *eps, *n);
        *out = NULL;
        *eps = NULL;
        *n = 0;
    }
    return e;
}

void service_destinations_free(struct store_event_message *msgs, struct store_endpoint *eps,
                               size_t n)
{
    for (size_t i = 0; eps && i < n; i++)
        store_endpoint_release(&eps[i]);
    free(eps);
    free(msgs);
}

static enum err resend_apply(struct store *s, struct commit_op *op)
{
    struct service_resend_op *x = (struct service_resend_op *)op;
    struct err_detail *d = &op->detail;
    struct service_idem *idem = &x->head.idem;
    enum err e = service_idem_begin(s, x->mode, idem, d);
    if (e != ERR_OK || idem->replayed)
        return e;
    struct store_event ev = {0};
    char ep_id[ID_MAX] = "";
    e = resolve(s, x->mode, x->app, x->msg, x->ep, &ev, ep_id, d);
    if (e != ERR_OK)
        return e;
    struct store_event_message *msgs = NULL;
    size_t n = 0;
    if ((e = store_event_messages(s, ev.rowid, ep_id, &msgs, &n, d)) != ERR_OK)
        goto out;
    int64_t now = clock_now_ms();
    if (n == 0) { /* the endpoint never had it (made later, or did not match): a new message */
        if (!ev.payload) {
            e = err_set(d, ERR_CONFLICT, "RETENTION_EXPIRED",
                        "the payload of message '%s' is no longer kept", ev.public_id);
            goto out;
        }
        char sha[65];
        validate_sha256_hex(sha, ev.payload, ev.payload_len);
        struct store_event_in in = {.event_type = ev.event_type,
                                    .producer_id = ev.producer_id,
                                    .payload = ev.payload,
                                    .payload_len = ev.payload_len,
                                    .content_type = ev.content_type,
                                    .payload_sha256 = sha,
                                    .channels_json = ev.channels_json,
                                    .tags_json = ev.tags_json,
                                    .now_ms = now,
                                    .payload_expires_at_ms = now + x->retention_ms};
        snprintf(in.public_id, sizeof(in.public_id), "%s", ev.public_id);
        snprintf(in.mode, sizeof(in.mode), "%s", ev.mode);
        snprintf(in.application_id, sizeof(in.application_id), "%s", ev.application_id);
        char message_id[ID_MAX];
        id_uuid7(message_id, now);
        /* asked for by hand: not judged by the endpoint's deduplicate rule */
        e = store_event_message_insert(s, &in, ev.rowid, message_id, ep_id, NULL, NULL, d);
        if (e == ERR_OK) /* it has a message now, which takes it away at retention */
            e = store_event_set_orphan(s, ev.rowid, false, d);
        goto out;
    }
    struct store_resched r;
    switch (msgs[0].status) {
    case STATUS_SUCCEEDED:
    case STATUS_FAILED_PERMANENT:
    case STATUS_DEDUPLICATED: /* never delivered: a resend delivers it after all */
    case STATUS_FILTERED:
        e = store_message_action(s, x->mode, msgs[0].message_id, STORE_ACT_REPLAY, now, &r, d);
        break;
    case STATUS_PENDING_RETRY:
        e = store_message_action(s, x->mode, msgs[0].message_id, STORE_ACT_RETRY_NOW, now, &r, d);
        break;
    default: /* queued or being delivered: an attempt is on its way already */
        break;
    }
out:
    free(msgs);
    store_event_release(&ev);
    return e != ERR_OK ? e : service_idem_end(s, x->mode, idem, 202, "", 0, d);
}

enum err service_resend_op_init(struct service_resend_op *x, const char *mode, const char *app,
                                const char *msg, const char *ep, int64_t retention_ms)
{
    memset(x, 0, sizeof(*x));
    snprintf(x->mode, sizeof(x->mode), "%s", mode);
    x->app = dup_or_null(app);
    x->msg = dup_or_null(msg);
    x->ep = dup_or_null(ep);
    x->retention_ms = retention_ms;
    x->head.op.apply = resend_apply;
    return ERR_OK;
}

void service_resend_op_release(struct service_resend_op *x)
{
    free(x->app);
    free(x->msg);
    free(x->ep);
    x->app = x->msg = x->ep = NULL;
}

static enum err erase_apply(struct store *s, struct commit_op *op)
{
    struct service_event_erase_op *x = (struct service_event_erase_op *)op;
    struct store_event ev = {0};
    enum err e = service_event_get(s, x->mode, x->app, x->msg, &ev, &op->detail);
    if (e == ERR_OK)
        e = store_event_erase_payload(s, ev.rowid, clock_now_ms(), &op->detail);
    store_event_release(&ev);
    return e;
}

void service_event_erase_op_init(struct service_event_erase_op *x, const char *mode,
                                 const char *app, const char *msg)
{
    memset(x, 0, sizeof(*x));
    snprintf(x->mode, sizeof(x->mode), "%s", mode);
    x->app = dup_or_null(app);
    x->msg = dup_or_null(msg);
    x->head.op.apply = erase_apply;
}

void service_event_erase_op_release(struct service_event_erase_op *x)
{
    free(x->app);
    free(x->msg);
    x->app = x->msg = NULL;
}

/* The id of endpoint ep (id or uid) of application app (id or uid). */
static enum err endpoint_of(struct store *s, const char *mode, const char *app, const char *ep,
                            char out[ID_MAX], struct err_detail *d)
{
    struct store_application a = {0};
    struct store_endpoint e = {0};
    enum err err = store_application_get(s, mode, app, &a, d);
    if (err == ERR_OK)
        err = store_endpoint_find(s, mode, a.id, ep, &e, d);
    if (err == ERR_OK)
        snprintf(out, ID_MAX, "%s", e.id);
    store_endpoint_release(&e);
    store_application_release(&a);
    return err;
}

enum err service_endpoint_messages(struct store *s, const char *mode, const char *app,
                                   const char *ep, const char *iterator, int limit,
                                   struct store_endpoint_message *out, int *n, bool *has_more,
                                   struct err_detail *d)
{
    *n = 0;
    *has_more = false;
    if (limit < 1 || limit > SERVICE_PAGE_MAX)
        return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", "limit",
                             "'limit' must be from 1 to %d", SERVICE_PAGE_MAX);
    char ep_id[ID_MAX];
    enum err e = endpoint_of(s, mode, app, ep, ep_id, d);
    return e != ERR_OK
               ? e
               : store_endpoint_event_messages(s, ep_id, iterator, limit, out, n, has_more, d);
}

enum err service_endpoint_attempts(struct store *s, const char *mode, const char *app,
                                   const char *ep, const char *iter_msg, const char *iter_attempt,
                                   const struct store_attempt_filter *f, int limit,
                                   struct store_event_attempt *out, int *n, bool *has_more,
                                   struct err_detail *d)
{
    *n = 0;
    *has_more = false;
    if (limit < 1 || limit > SERVICE_PAGE_MAX)
        return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", "limit",
                             "'limit' must be from 1 to %d", SERVICE_PAGE_MAX);
    char ep_id[ID_MAX];
    enum err e = endpoint_of(s, mode, app, ep, ep_id, d);
    return e != ERR_OK ? e
                       : store_endpoint_event_attempts(s, ep_id, iter_msg, iter_attempt, f, limit,
                                                       out, n, has_more, d);
}

/* A new message of event ev to endpoint ep_id (asked for by hand: no dedupe rule). */
static enum err new_message(struct store *s, const struct store_event *ev, const char *ep_id,
                            int64_t retention_ms, char out[ID_MAX], struct err_detail *d)
{
    if (!ev->payload)
        return err_set(d, ERR_CONFLICT, "RETENTION_EXPIRED",
                       "the payload of message '%s' is no longer kept", ev->public_id);
    int64_t now = clock_now_ms();
    char sha[65];
    validate_sha256_hex(sha, ev->payload, ev->payload_len);
    struct store_event_in in = {.event_type = ev->event_type,
                                .producer_id = ev->producer_id,
                                .payload = ev->payload,
                                .payload_len = ev->payload_len,
                                .content_type = ev->content_type,
                                .payload_sha256 = sha,
                                .channels_json = ev->channels_json,
                                .tags_json = ev->tags_json,
                                .now_ms = now,
                                .payload_expires_at_ms = now + retention_ms};
    snprintf(in.public_id, sizeof(in.public_id), "%s", ev->public_id);
    snprintf(in.mode, sizeof(in.mode), "%s", ev->mode);
    snprintf(in.application_id, sizeof(in.application_id), "%s", ev->application_id);
    id_uuid7(out, now);
    enum err e = store_event_message_insert(s, &in, ev->rowid, out, ep_id, NULL, NULL, d);
    return e != ERR_OK ? e : store_event_set_orphan(s, ev->rowid, false, d);
}

/* The event of message id (of mode, and of application app unless ""), and its endpoint. */
static enum err event_of_message(struct store *s, const char *mode, const char *app, const char *id,
                                 struct store_event *ev, char ep_id[ID_MAX], struct err_detail *d)
{
    struct store_message m = {0};
    enum err e = store_message_get(s, mode, id, &m, d);
    if (e != ERR_OK)
        return e;
    snprintf(ep_id, ID_MAX, "%s", m.endpoint_id);
    store_message_release(&m);
    char public_id[ID_MAX] = "", app_id[ID_MAX] = "";
    if ((e = store_message_origin(s, id, public_id, app_id, d)) != ERR_OK)
        return e;
    if (!public_id[0] || (app[0] && strcmp(app, app_id) != 0))
        return err_set(d, ERR_NOTFOUND, "MESSAGE_NOT_FOUND", "no message '%s'", id);
    return store_event_get(s, app_id, public_id, ev, d);
}

static enum err copy_apply(struct store *s, struct commit_op *op)
{
    struct service_message_copy_op *x = (struct service_message_copy_op *)op;
    struct err_detail *d = &op->detail;
    struct service_idem *idem = &x->head.idem;
    enum err e = service_idem_begin(s, x->mode, idem, d);
    if (e != ERR_OK)
        return e;
    if (idem->replayed) {
        snprintf(x->new_id, sizeof(x->new_id), "%s", idem->rec.resource);
        return ERR_OK;
    }
    struct store_event ev = {0};
    char ep_id[ID_MAX] = "";
    e = event_of_message(s, x->mode, x->app, x->id, &ev, ep_id, d);
    if (e == ERR_OK)
        e = new_message(s, &ev, ep_id, x->retention_ms, x->new_id, d);
    store_event_release(&ev);
    return e != ERR_OK ? e : service_idem_end(s, x->mode, idem, 200, x->new_id, 0, d);
}

void service_message_copy_op_init(struct service_message_copy_op *x, const char *mode,
                                  const char *app, const char *id, int64_t retention_ms)
{
    memset(x, 0, sizeof(*x));
    snprintf(x->mode, sizeof(x->mode), "%s", mode);
    snprintf(x->app, sizeof(x->app), "%s", app ? app : "");
    snprintf(x->id, sizeof(x->id), "%s", id);
    x->retention_ms = retention_ms;
    x->head.op.apply = copy_apply;
}

static enum err replay_failed_apply(struct store *s, struct commit_op *op)
{
    struct service_replay_failed_op *x = (struct service_replay_failed_op *)op;
    struct err_detail *d = &op->detail;
    x->n = 0;
    struct store_endpoint ep = {0};
    enum err e = store_endpoint_find(s, x->mode, x->app, x->ep, &ep, d);
    store_endpoint_release(&ep);
    if (e != ERR_OK)
        return e;
    /* newest first, a page at a time, until SERVICE_REPLAY_FAILED_MAX are replayed */
    enum { PAGE = 100 };
    struct store_endpoint_message *page = calloc(PAGE, sizeof(*page));
    if (!page)
        abort();
    char before[ID_MAX] = "";
    bool more = true;
    while (e == ERR_OK && more && x->n < SERVICE_REPLAY_FAILED_MAX) {
        int n = 0;
        e = store_endpoint_event_messages(s, x->ep, before[0] ? before : NULL, PAGE, page, &n,
                                          &more, d);
        for (int i = 0; i < n; i++) {
            if (e == ERR_OK && page[i].status == STATUS_FAILED_PERMANENT &&
                x->n < SERVICE_REPLAY_FAILED_MAX)
                e = new_message(s, &page[i].event, x->ep, x->retention_ms, x->new_ids[x->n++], d);
            if (i == n - 1)
                snprintf(before, sizeof(before), "%s", page[i].message_id);
            store_event_release(&page[i].event);
        }
        if (n == 0)
            more = false;
    }
    free(page);
    return e;
}

void service_replay_failed_op_init(struct service_replay_failed_op *x, const char *mode,
                                   const char *app, const char *ep, int64_t retention_ms)
{
    memset(x, 0, sizeof(*x));
    snprintf(x->mode, sizeof(x->mode), "%s", mode);
    snprintf(x->app, sizeof(x->app), "%s", app);
    snprintf(x->ep, sizeof(x->ep), "%s", ep);
    x->retention_ms = retention_ms;
    x->new_ids = calloc(SERVICE_REPLAY_FAILED_MAX, sizeof(*x->new_ids));
    if (!x->new_ids)
        abort();
    x->head.op.apply = replay_failed_apply;
}

void service_replay_failed_op_release(struct service_replay_failed_op *x)
{
    free(x->new_ids);
    x->new_ids = NULL;
}

/*
 * svix attempts - the attempts of a message (MessageAttemptOut), the
 * endpoints it was sent to, and resend (TENANCY.md §5), onto service/publish.
 * Attempt ids are hookd's attempt ids prefixed "atmpt_"; attempt status 0 is
 * success (a 2xx answer) and 2 fail; a message's status per endpoint is
 * 0 success, 1 pending (queued or waiting for a retry), 3 sending, 2 fail; a
 * message the endpoint's deduplicate policy suppressed is 0 success (finished,
 * never attempted: it has no attempts).
 * The attempt lists take with_content (false: `response: ""`) and accept
 * expanded_statuses (no effect: hookd has no canceled attempt); attempts by
 * endpoint take with_msg (each attempt's MessageOut as `msg`).
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "service/publish.h"
#include "surface/svix/internal.h"

#define ATTEMPT_PREFIX "atmpt_"

/* MessageAttemptOut; with_content false answers `response: ""` (Svix leaves the
 * attempt's content out). */
static json_t *render_attempt(const struct store_event_attempt *a, const char *msg_id,
                              bool with_content)
{
    char id[ID_MAX + 8];
    snprintf(id, sizeof(id), ATTEMPT_PREFIX "%s", a->id);
    bool ok = a->response_status >= 200 && a->response_status < 300;
    const char *response = !with_content      ? ""
                           : a->response_body ? a->response_body
                           : a->error_text    ? a->error_text
                                              : "";
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:i, s:I, s:i, s:s, s:i, s:o}", "id", id, "msgId",
                     msg_id, "endpointId", a->endpoint_id, "url", a->url ? a->url : "", "response",
                     http__json_text(response), "responseStatusCode", a->response_status,
                     "responseDurationMs", (json_int_t)a->latency_ms, "status", ok ? 0 : 2,
                     "statusText", ok ? "success" : "fail", "triggerType", a->replay_no > 0 ? 1 : 0,
                     "timestamp", svix__time(a->created_at_ms));
}

/* The page (limit, iterator), attempt filters (status, status_code_class, before,
 * after, event_types) and with_content (default true) of a list query; *types is
 * malloc'ed. expanded_statuses is read and ignored: with it false, Svix answers a
 * canceled attempt (status 4) as a success (0), and hookd has no canceled attempt
 * (an attempt is 0 or 2; a cancelled message ends failed), so both values answer the
 * same. False after answering 422. */
static bool attempt_query(struct http_request *r, int *limit, const char **iterator,
                          struct store_attempt_filter *f, char **types, bool *with_content)
{
    *types = NULL;
    bool expanded;
    if (!svix__page(r, limit, iterator) ||
        !svix__query_bool(r, "with_content", true, with_content) ||
        !svix__query_bool(r, "expanded_statuses", true, &expanded))
        return false;
    memset(f, 0, sizeof(*f));
    f->status = f->code_class = -1;
    *types = NULL;
    const struct {
        const char *name;
        int *out;
        int max;
    } ints[] = {{"status", &f->status, 4}, {"status_code_class", &f->code_class, 500}};
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        const char *v = http__query(r, ints[i].name);
        if (!v)
            continue;
        char *end;
        long n = strtol(v, &end, 10);
        if (!*v || *end || n < 0 || n > ints[i].max) {
            snprintf(r->error_field, sizeof(r->error_field), "query:%s", ints[i].name);
            http__respond_error(r, MHD_HTTP_BAD_REQUEST, "INVALID_REQUEST",
                                "'%s' must be an integer from 0 to %d", ints[i].name, ints[i].max);
            return false;
        }
        *ints[i].out = (int)n;
    }
    if (!svix__query_time(r, "before", &f->before_ms) ||
        !svix__query_time(r, "after", &f->after_ms))
        return false;
    f->event_types_json = *types = svix__comma_list(http__query(r, "event_types"));
    return true;
}

/* The attempts of message param[1] (to endpoint ep unless NULL). */
static void list(struct http_request *r, const char *ep)
{
    int limit;
    const char *iterator;
    struct store_attempt_filter f;
    char *types;
    bool with_content;
    if (!attempt_query(r, &limit, &iterator, &f, &types, &with_content))
        return;
    if (iterator && !strncmp(iterator, ATTEMPT_PREFIX, strlen(ATTEMPT_PREFIX)))
        iterator += strlen(ATTEMPT_PREFIX);
    if (!ep)
        ep = http__query(r, "endpoint_id");
    struct store_event_attempt *as = calloc((size_t)limit, sizeof(*as));
    if (!as)
        abort();
    struct store_event ev = {0};
    int n = 0;
    bool has_more = false;
    struct err_detail d = {0};
    struct store *s = http__store_acquire(r->server);
    enum err e = s ? service_event_get(s, r->key.mode, r->param[0], r->param[1], &ev, &d) : ERR_IO;
    if (e == ERR_OK)
        e = service_event_attempts(s, r->key.mode, r->param[0], ev.public_id, ep, iterator, &f,
                                   limit, as, &n, &has_more, &d);
    http__store_release(r->server, s);
    if (e != ERR_OK) {
        free(as);
        store_event_release(&ev);
        free(types);
        http__respond_err(r, e, &d);
        return;
    }
    json_t *data = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(data, render_attempt(&as[i], ev.public_id, with_content));
    char last[ID_MAX + 8] = "";
    if (n)
        snprintf(last, sizeof(last), ATTEMPT_PREFIX "%s", as[n - 1].id);
    svix__respond_list(r, data, n ? last : NULL, has_more);
    for (int i = 0; i < n; i++)
        store_event_attempt_release(&as[i]);
    free(as);
    free(types);
    store_event_release(&ev);
}

void svix__attempts_by_msg(struct http_request *r)
{
    list(r, NULL);
}

void svix__attempt_get(struct http_request *r)
{
    const char *want = r->param[2];
    if (!strncmp(want, ATTEMPT_PREFIX, strlen(ATTEMPT_PREFIX)))
        want += strlen(ATTEMPT_PREFIX);
    struct store_event_attempt *as = calloc(SERVICE_PAGE_MAX, sizeof(*as));
    if (!as)
        abort();
    struct store_event ev = {0};
    int n = 0;
    bool has_more = false;
    struct err_detail d = {0};
    struct store *s = http__store_acquire(r->server);
    enum err e = s ? service_event_get(s, r->key.mode, r->param[0], r->param[1], &ev, &d) : ERR_IO;
    char before[ID_MAX] = "";
    int found = -1;
    /* newest first, a page at a time, until the attempt is met */
    while (e == ERR_OK && found < 0) {
        for (int i = 0; i < n; i++)
            store_event_attempt_release(&as[i]);
        e = service_event_attempts(s, r->key.mode, r->param[0], ev.public_id, NULL, before, NULL,
                                   SERVICE_PAGE_MAX, as, &n, &has_more, &d);
        for (int i = 0; e == ERR_OK && i < n && found < 0; i++)
            if (!strcmp(as[i].id, want))
                found = i;
        if (e != ERR_OK || found >= 0 || !has_more)
            break;
        snprintf(before, sizeof(before), "%s", as[n - 1].id);
    }
    http__store_release(r->server, s);
    if (e == ERR_OK && found < 0)
        e = err_set(&d, ERR_NOTFOUND, "NOT_FOUND", "attempt '%s' not found", r->param[2]);
    if (e != ERR_OK)
        http__respond_err(r, e, &d);
    else
        http__respond_json(r, MHD_HTTP_OK, render_attempt(&as[found], ev.public_id, true));
    for (int i = 0; i < n; i++)
        store_event_attempt_release(&as[i]);
    free(as);
    store_event_release(&ev);
}

static int message_status(enum store_status st, const char **text)
{
    switch (st) {
    case STATUS_SUCCEEDED:
        *text = "success";
        return 0;
    case STATUS_DELIVERING:
        *text = "sending";
        return 3;
    case STATUS_FAILED_PERMANENT:
        *text = "fail";
        return 2;
    case STATUS_DEDUPLICATED:
    case STATUS_FILTERED:
        /* Svix has no such state: finished and not a failure, shown as Svix shows a
         * canceled message without expanded statuses (the native API says deduplicated) */
        *text = "success";
        return 0;
    default:
        *text = "pending";
        return 1;
    }
}

void svix__msg_destinations(struct http_request *r)
{
    struct store_event_message *msgs = NULL;
    struct store_endpoint *eps = NULL;
    size_t n = 0;
    struct err_detail d = {0};
    struct store *s = http__store_acquire(r->server);
    enum err e = s ? service_event_destinations(s, r->key.mode, r->param[0], r->param[1], &msgs,
                                                &eps, &n, &d)
                   : ERR_IO;
    http__store_release(r->server, s);
    if (e != ERR_OK) {
        http__respond_err(r, e, &d);
        return;
    }
    json_t *data = json_array();
    for (size_t i = 0; i < n; i++) {
        const struct store_endpoint *ep = &eps[i];
        const char *text;
        int status = message_status(msgs[i].status, &text);
        /* MessageEndpointOut: EndpointOut's fields (both SDKs' names) plus the status */
        json_t *types =
            svix__json_or(ep->all_event_types ? NULL : ep->event_types_json, json_null());
        json_t *rate = ep->rate_limit_rps ? json_integer(ep->rate_limit_rps) : json_null();
        json_t *item = json_pack(
            "{s:s, s:s?, s:s, s:s, s:b, s:O, s:o, s:o, s:O, s:o, s:i, s:o, s:o, s:i, s:s, s:o}",
            "id", ep->id, "uid", ep->uid, "url", ep->url ? ep->url : "", "description",
            ep->description ? ep->description : "", "disabled", ep->disabled, "eventTypes", types,
            "filterTypes", types, "channels", svix__json_or(ep->channels_json, json_null()),
            "throttleRate", rate, "rateLimit", rate, "version", 1, "createdAt",
            svix__time(ep->created_at_ms), "updatedAt", svix__time(ep->updated_at_ms), "status",
            status, "statusText", text, "nextAttempt",
            msgs[i].next_attempt_at_ms ? svix__time(msgs[i].next_attempt_at_ms) : json_null());
        json_array_append_new(data, item);
    }
    service_destinations_free(msgs, eps, n);
    svix__respond_list(r, data, NULL, false);
}

struct resend_op {
    struct service_resend_op svc;
};

static void resend_done(struct http_request *r)
{
    struct resend_op *x = svix__op(r);
    struct commit_op *op = &x->svc.head.op;
    if (op->result != ERR_OK)
        http__respond_err(r, op->result, &op->detail);
    else
        http__respond_json(r, MHD_HTTP_ACCEPTED, json_object());
    service_resend_op_release(&x->svc);
    free(x);
}

void svix__msg_resend(struct http_request *r)
{
    struct resend_op *x = calloc(1, sizeof(*x));
    if (!x)
        abort();
    service_resend_op_init(&x->svc, r->key.mode, r->param[0], r->param[1], r->param[2],
                           r->server->deps.cfg->retention_ms);
    svix__defer(r, &x->svc.head, resend_done);
}

/* The events of a page of attempts of application param[0], for with_msg: one read
 * per distinct event, however many attempts it has on the page. of[i] is the index in
 * *evs of as[i]'s event; *evs (malloc'ed, *n_evs entries) is released by the caller,
 * also after an error. */
static enum err attempt_events(struct store *s, struct http_request *r,
                               const struct store_event_attempt *as, int n, int *of,
                               struct store_event **evs, size_t *n_evs, struct err_detail *d)
{
    const char **ids = calloc((size_t)n, sizeof(*ids));
    if (!ids)
        abort();
    size_t m = 0;
    for (int i = 0; i < n; i++) {
        size_t j = 0;
        while (j < m && strcmp(ids[j], as[i].event_public_id))
            j++;
        if (j == m)
            ids[m++] = as[i].event_public_id;
        of[i] = (int)j;
    }
    *evs = calloc(m ? m : 1, sizeof(**evs));
    if (!*evs)
        abort();
    *n_evs = m;
    enum err e = service_event_get_many(s, r->key.mode, r->param[0], ids, m, *evs, d);
    free(ids);
    return e;
}

/* GET .../attempt/endpoint/{ep}: the iterator is "<message id>.<attempt id>";
 * with_msg=true adds each attempt's MessageOut as `msg` (payload {} with
 * with_content=false, like the attempt's response). */
void svix__attempts_by_endpoint(struct http_request *r)
{
    int limit;
    const char *iterator;
    struct store_attempt_filter f;
    char *types;
    bool with_content, with_msg;
    if (!attempt_query(r, &limit, &iterator, &f, &types, &with_content))
        return;
    if (!svix__query_bool(r, "with_msg", false, &with_msg)) {
        free(types);
        return;
    }
    char it_msg[ID_MAX] = "", it_att[ID_MAX] = "";
    if (iterator) {
        const char *dot = strchr(iterator, '.');
        if (!dot || (size_t)(dot - iterator) >= sizeof(it_msg) ||
            strlen(dot + 1) >= sizeof(it_att)) {
            snprintf(r->error_field, sizeof(r->error_field), "iterator");
            http__respond_error(r, MHD_HTTP_BAD_REQUEST, "INVALID_REQUEST",
                                "'iterator' is not an iterator of this list");
            free(types);
            return;
        }
        snprintf(it_msg, sizeof(it_msg), "%.*s", (int)(dot - iterator), iterator);
        snprintf(it_att, sizeof(it_att), "%s", dot + 1);
    }
    struct store_event_attempt *as = calloc((size_t)limit, sizeof(*as));
    int *of = calloc((size_t)limit, sizeof(*of));
    if (!as || !of)
        abort();
    struct store_event *evs = NULL;
    size_t n_evs = 0;
    int n = 0;
    bool has_more = false;
    struct err_detail d = {0};
    struct store *s = http__store_acquire(r->server);
    enum err e = s ? service_endpoint_attempts(s, r->key.mode, r->param[0], r->param[1], it_msg,
                                               it_att, &f, limit, as, &n, &has_more, &d)
                   : ERR_IO;
    if (e == ERR_OK && with_msg && n)
        e = attempt_events(s, r, as, n, of, &evs, &n_evs, &d);
    http__store_release(r->server, s);
    free(types);
    if (e != ERR_OK) {
        http__respond_err(r, e, &d);
    } else {
        json_t *data = json_array();
        for (int i = 0; i < n; i++) {
            json_t *item = render_attempt(&as[i], as[i].event_public_id, with_content);
            if (evs && evs[of[i]].public_id[0]) /* else its event is gone: no msg */
                json_object_set_new(item, "msg", svix__message_out(&evs[of[i]], with_content));
            json_array_append_new(data, item);
        }
        char last[2 * ID_MAX + 2] = "";
        if (n)
            snprintf(last, sizeof(last), "%s.%s", as[n - 1].message_id, as[n - 1].id);
        svix__respond_list(r, data, n ? last : NULL, has_more);
    }
    for (size_t i = 0; i < n_evs; i++)
        store_event_release(&evs[i]);
    free(evs);
    for (int i = 0; i < n; i++)
        store_event_attempt_release(&as[i]);
    free(of);
    free(as);
}

/* GET .../endpoint/{ep}/msg: EndpointMessageOut, newest first; the iterator is the
 * message id of the last item. */
void svix__endpoint_messages(struct http_request *r)
{
    int limit;
    const char *iterator;
    bool with_content;
    if (!svix__page(r, &limit, &iterator) ||
        !svix__query_bool(r, "with_content", true, &with_content))
        return;
    struct store_endpoint_message *ms = calloc((size_t)limit, sizeof(*ms));
    if (!ms)
        abort();
    int n = 0;
    bool has_more = false;
    struct err_detail d = {0};
    struct store *s = http__store_acquire(r->server);
    enum err e = s ? service_endpoint_messages(s, r->key.mode, r->param[0], r->param[1], iterator,
                                               limit, ms, &n, &has_more, &d)
                   : ERR_IO;
    http__store_release(r->server, s);
    if (e != ERR_OK) {
        free(ms);
        http__respond_err(r, e, &d);
        return;
    }
    json_t *data = json_array();
    for (int i = 0; i < n; i++) {
        const char *text;
        int status = message_status(ms[i].status, &text);
        /* EndpointMessageOut: MessageOut plus the message's status at the endpoint */
        json_t *item = svix__message_out(&ms[i].event, with_content);
        json_object_set_new(item, "status", json_integer(status));
        json_object_set_new(item, "statusText", json_string(text));
        json_object_set_new(item, "nextAttempt",
                            ms[i].next_attempt_at_ms ? svix__time(ms[i].next_attempt_at_ms)
                                                     : json_null());
        json_array_append_new(data, item);
    }
    svix__respond_list(r, data, n ? ms[n - 1].message_id : NULL, has_more);
    for (int i = 0; i < n; i++)
        store_event_release(&ms[i].event);
    free(ms);
}

/*
 * hookbase endpoints - /api/webhook-endpoints (and the portal's
 * /portal/endpoints): Endpoint {id, applicationId, url, description,
 * isDisabled, circuitState, circuitOpenedAt, filterTypes, rateLimit,
 * rateLimitPeriod, headers, metadata, totalMessages, totalSuccesses,
 * totalFailures, createdAt, updatedAt} onto service/endpoints, with `secret`
 * in the create answer only; rotate-secret, reset-circuit, and the signed
 * test delivery behind test and verify (service/endpoint_test).
 *
 * Description: an endpoint made here without filterTypes subscribes to no
 * event type (TENANCY §1 rule 2). rateLimit is per rateLimitPeriod (second,
 * minute or hour; default second) and kept as deliveries per second, so it
 * must divide into a whole number of them; it reads back per second. A
 * portal token reaches the endpoints of its application only (404 for
 * others).
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/breaker.h"
#include "service/endpoint_extras.h"
#include "service/endpoint_state.h"
#include "service/endpoint_test.h"
#include "service/endpoints.h"
#include "service/publish.h"
#include "surface/hookbase/internal.h"
#include "util/clock.h"

/* The application r may reach endpoints of: NULL = any (an API key). */
static const char *scope_app(const struct http_request *r)
{
    return r->portal ? r->portal_app : NULL;
}

static const char *circuit_name(int state)
{
    return state == BREAKER_OPEN ? "open" : state == BREAKER_HALF_OPEN ? "half_open" : "closed";
}

/* The portal's isVerified and verifiedAt (a verify that got a 2xx). */
static void verified_json(json_t *item, const struct store_endpoint *e)
{
    json_object_set_new(item, "isVerified", json_boolean(e->verified_at_ms != 0));
    json_object_set_new(item, "verifiedAt",
                        e->verified_at_ms ? hookbase__time(e->verified_at_ms) : json_null());
}

json_t *hookbase__endpoint_json(const struct store_endpoint *e)
{
    json_t *types =
        e->all_event_types ? json_null() : hookbase__json_or(e->event_types_json, json_array());
    return json_pack(
        "{s:s, s:s, s:s, s:o, s:b, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id", e->id,
        "applicationId", e->application_id, "url", e->url ? e->url : "", "description",
        e->description ? json_string(e->description) : json_null(), "isDisabled", e->disabled,
        "circuitState", circuit_name(e->circuit_state), "circuitOpenedAt",
        hookbase__time(e->circuit_opened_at_ms), "filterTypes", types, "rateLimit",
        e->rate_limit_rps ? json_integer(e->rate_limit_rps) : json_null(), "rateLimitPeriod",
        e->rate_limit_rps ? json_string("second") : json_null(), "headers",
        hookbase__json_or(e->headers_json, json_object()), "metadata",
        hookbase__json_or(e->metadata_json, json_object()), "createdAt",
        hookbase__time(e->created_at_ms), "updatedAt", hookbase__time(e->updated_at_ms));
}

void hookbase__endpoint_counts(struct http_request *r, json_t *item)
{
    struct store_endpoint_stats st = {0};
    struct err_detail d = {0};
    const char *id = json_string_value(json_object_get(item, "id"));
    struct store *s = http__store_acquire(r->server);
    enum err e = s && id ? service_endpoint_stats(s, r->key.mode, NULL, id, 0, 0, &st, &d) : ERR_IO;
    http__store_release(r->server, s);
    if (e != ERR_OK)
        memset(&st, 0, sizeof(st));
    json_object_set_new(item, "totalMessages",
                        json_integer(st.succeeded + st.failed + st.waiting + st.delivering));
    json_object_set_new(item, "totalSuccesses", json_integer(st.succeeded));
    json_object_set_new(item, "totalFailures", json_integer(st.failed));
}

struct ep_op {
    struct service_endpoint_op svc;
    json_t *rate; /* rateLimit made per second */
};

static void write_done(struct http_request *r)
{
    struct ep_op *x = r->op;
    struct commit_op *op = &x->svc.head.op;
    if (op->result != ERR_OK) {
        http__respond_err(r, op->result, &op->detail);
    } else if (x->svc.kind == ENDPOINT_DELETE) {
        hookbase__respond_no_content(r);
    } else {
        json_t *item = hookbase__endpoint_json(&x->svc.ep);
        hookbase__endpoint_counts(r, item);
        if (x->svc.kind == ENDPOINT_CREATE) /* the secret: shown here only */
            json_object_set_new(item, "secret", json_string(x->svc.secret));
        if (r->portal) {
            verified_json(item, &x->svc.ep);
        }
        hookbase__respond_data(r, x->svc.created ? MHD_HTTP_CREATED : MHD_HTTP_OK, item);
    }
    json_decref(x->rate);
    service_endpoint_op_release(&x->svc);
    free(x);
}

/* rateLimit per rateLimitPeriod as deliveries per second into *out (a new JSON
 * value, or NULL when absent); false after answering. */
static bool read_rate(struct http_request *r, json_t *body, json_t **out)
{
    json_t *rate = json_object_get(body, "rateLimit");
    json_t *period = json_object_get(body, "rateLimitPeriod");
    *out = NULL;
    if (!rate)
        return true;
    if (json_is_null(rate)) {
        *out = json_null();
        return true;
    }
    const char *p = json_is_string(period) ? json_string_value(period) : "second";
    long secs = !strcmp(p, "second")   ? 1
                : !strcmp(p, "minute") ? 60
                : !strcmp(p, "hour")   ? 3600
                                       : 0;
    if (!secs || (period && !json_is_null(period) && !json_is_string(period))) {
        snprintf(r->error_field, sizeof(r->error_field), "rate_limit_period");
        http__respond_error(r, MHD_HTTP_BAD_REQUEST, "INVALID_REQUEST",
                            "'rateLimitPeriod' must be second, minute or hour");
        return false;
    }
    if (!json_is_integer(rate) || json_integer_value(rate) < 1 || json_integer_value(rate) % secs) {
        snprintf(r->error_field, sizeof(r->error_field), "rate_limit_rps");
        http__respond_error(r, MHD_HTTP_BAD_REQUEST, "INVALID_REQUEST",
                            "'rateLimit' must be a positive integer that makes a whole number of "
                            "deliveries per second");
        return false;
    }
    *out = json_integer(json_integer_value(rate) / secs);
    return true;
}

static void submit(struct http_request *r, enum endpoint_write kind)
{
    json_t *body = NULL, *rate = NULL;
    struct endpoint_fields f = {0};
    const char *app = scope_app(r);
    if (kind != ENDPOINT_DELETE) {
        if (!(body = hookbase__body(r)))
            return;
        if (!read_rate(r, body, &rate)) {
            json_decref(body);
            return;
        }
        if (kind == ENDPOINT_CREATE && !r->portal) {
            json_t *a = json_object_get(body, "applicationId");
            if (!json_is_string(a) || !json_string_length(a)) {
                json_decref(body);
                json_decref(rate);
                snprintf(r->error_field, sizeof(r->error_field), "application_id");
                http__respond_error(r, MHD_HTTP_BAD_REQUEST, "INVALID_REQUEST",
                                    "'applicationId' is required");
                return;
            }
            app = json_string_value(a);
        }
        f.url = json_object_get(body, "url");
        f.description = json_object_get(body, "description");
        f.event_types = json_object_get(body, "filterTypes");
        f.empty_event_types_is_none = true;
        f.rate_limit_rps = rate;
        f.headers = json_object_get(body, "headers");
        f.metadata = json_object_get(body, "metadata");
        f.disabled = json_object_get(body, "isDisabled");
    }
    json_t *none = NULL;
    if (kind == ENDPOINT_CREATE && (!f.event_types || json_is_null(f.event_types)))
        f.event_types = none = json_array(); /* subscribed to nothing yet */
    struct ep_op *x = calloc(1, sizeof(*x));
    if (!x)
        abort();
    x->rate = rate;
    struct err_detail d = {0};
    enum err e = service_endpoint_op_init(&x->svc, kind, r->key.mode, app,
                                          kind == ENDPOINT_CREATE ? NULL : r->param[0], &f,
                                          r->server->deps.cfg, &d);
    json_decref(none);
    json_decref(body);
    if (e != ERR_OK) {
        json_decref(rate);
        free(x);
        http__respond_err(r, e, &d);
        return;
    }
    hookbase__defer(r, &x->svc.head, write_done);
}

void hookbase__endpoint_create(struct http_request *r)
{
    submit(r, ENDPOINT_CREATE);
}
void hookbase__endpoint_patch(struct http_request *r)
{
    submit(r, ENDPOINT_PATCH);
}
void hookbase__endpoint_delete(struct http_request *r)
{
    submit(r, ENDPOINT_DELETE);
}

/* The endpoint of param 0 within r's scope into *ep; false after answering. */
static bool find(struct http_request *r, struct store_endpoint *ep)
{
    struct err_detail d = {0};
    struct store *s = http__store_acquire(r->server);
    enum err e =
        s ? service_endpoint_get(s, r->key.mode, scope_app(r), r->param[0], ep, &d) : ERR_IO;
    http__store_release(r->server, s);
    if (e != ERR_OK) {
        store_endpoint_release(ep);
        http__respond_err(r, e, &d);
        return false;
    }
    return true;
}

void hookbase__endpoint_get(struct http_request *r)
{
    struct store_endpoint ep = {0};
    if (!find(r, &ep))
        return;
    json_t *item = hookbase__endpoint_json(&ep);
    hookbase__endpoint_counts(r, item);
    if (r->portal) {
        verified_json(item, &ep);
    }
    hookbase__respond_data(r, MHD_HTTP_OK, item);
    store_endpoint_release(&ep);
}

/* Every endpoint of app (NULL: of the mode) passing isDisabled, newest first. */
static json_t *collect(struct http_request *r, const char *app, bool has_dis, bool dis, enum err *e,
                       struct err_detail *d)
{
    struct store_endpoint *eps = calloc(SERVICE_PAGE_MAX, sizeof(*eps));
    if (!eps)
        abort();
    json_t *all = json_array();
    char after[ID_MAX] = "";
    bool more = true;
    *e = ERR_OK;
    struct store *s = http__store_acquire(r->server);
    if (!s)
        *e = ERR_IO;
    while (*e == ERR_OK && more && json_array_size(all) < HOOKBASE_SCAN_MAX) {
        int n = 0;
        *e = service_endpoint_list(s, r->key.mode, app, after[0] ? after : NULL, true,
                                   SERVICE_PAGE_MAX, eps, &n, &more, d);
        for (int i = 0; i < n; i++) {
            if (!has_dis || eps[i].disabled == dis) {
                json_t *item = hookbase__endpoint_json(&eps[i]);
                if (r->portal)
                    verified_json(item, &eps[i]);
                json_array_append_new(all, item);
            }
            if (i == n - 1)
                snprintf(after, sizeof(after), "%s", eps[i].id);
            store_endpoint_release(&eps[i]);
        }
        if (!n)
            more = false;
    }
    http__store_release(r->server, s);
    free(eps);
    return all;
}

void hookbase__endpoint_list(struct http_request *r)
{
    struct hookbase_page p;
    bool has_dis, dis;
    if (!hookbase__page(r, &p) || !hookbase__query_bool(r, "isDisabled", &has_dis, &dis))
        return;
    const char *app = scope_app(r);
    const char *q = http__query(r, "applicationId");
    if (!app && q && *q)
        app = q;
    enum err e;
    struct err_detail d = {0};
    json_t *all = collect(r, app, has_dis, dis, &e, &d);
    if (e != ERR_OK) {
        json_decref(all);
        http__respond_err(r, e, &d);
        return;
    }
    if (!r->portal) {
        hookbase__respond_page(r, all, &p, hookbase__endpoint_counts);
        return;
    }
    size_t i; /* the portal's list is not paged */
    json_t *v;
    json_array_foreach(all, i, v) hookbase__endpoint_counts(r, v);
    hookbase__respond_data(r, MHD_HTTP_OK, all);
}

/* ---- rotate-secret ---- */

static void rotate_done(struct http_request *r)
{
    struct service_endpoint_extra_op *x = r->op;
    if (x->head.op.result != ERR_OK)
        http__respond_err(r, x->head.op.result, &x->head.op.detail);
    else if (r->portal)
        hookbase__respond_data(r, MHD_HTTP_OK, json_pack("{s:s}", "secret", x->key.secret));
    else /* clients read either place */
        http__respond_json(
            r, MHD_HTTP_OK,
            json_pack("{s:{s:s}, s:s}", "data", "secret", x->key.secret, "secret", x->key.secret));
    service_endpoint_extra_op_release(x);
    free(x);
}

void hookbase__endpoint_rotate(struct http_request *r)
{
    json_t *body = hookbase__body(r);
    if (!body)
        return;
    struct store_endpoint ep = {0};
    if (!find(r, &ep)) {
        json_decref(body);
        return;
    }
    struct service_endpoint_extra_op *x = calloc(1, sizeof(*x));
    if (!x)
        abort();
    struct err_detail d = {0};
    enum err e = service_endpoint_rotate_init(x, r->key.mode, ep.application_id, ep.id, NULL,
                                              json_object_get(body, "gracePeriod"), &d);
    if (e == ERR_INVAL && !strcmp(d.field, "grace_period_seconds"))
        snprintf(d.field, sizeof(d.field), "grace_period");
    store_endpoint_release(&ep);
    json_decref(body);
    if (e != ERR_OK) {
        free(x);
        http__respond_err(r, e, &d);
        return;
    }
    hookbase__defer(r, &x->head, rotate_done);
}

/* ---- reset-circuit ---- */

static void reset_done(struct http_request *r)
{
    struct service_endpoint_reset_circuit_op *x = r->op;
    if (x->head.op.result != ERR_OK)
        http__respond_err(r, x->head.op.result, &x->head.op.detail);
    else
        hookbase__respond_data(r, MHD_HTTP_OK,
                               json_pack("{s:s, s:s}", "id", x->id, "circuitState", "closed"));
    free(x);
}

void hookbase__endpoint_reset_circuit(struct http_request *r)
{
    struct store_endpoint ep = {0};
    if (!find(r, &ep))
        return;
    struct service_endpoint_reset_circuit_op *x = calloc(1, sizeof(*x));
    if (!x)
        abort();
    struct err_detail d = {0};
    enum err e = service_endpoint_reset_circuit_op_init(x, r->key.mode, ep.id, &d);
    store_endpoint_release(&ep);
    if (e != ERR_OK) {
        free(x);
        http__respond_err(r, e, &d);
        return;
    }
    hookbase__defer(r, &x->head, reset_done);
}

/* ---- test and verify: one signed delivery now ---- */

struct test_op {
    struct service_endpoint_test svc;
    bool verify;
    char type[257];
    int64_t at_ms;
};

static void test_work(struct http_request *r, const bool *cancel)
{
    struct test_op *x = r->op;
    service_endpoint_test_send(&x->svc, cancel);
}

static const char *header_of(const struct service_test_attempt *a, const char *name)
{
    for (size_t i = 0; i < a->n_headers; i++)
        if (!strcasecmp(a->headers[i].name, name))
            return a->headers[i].value;
    return NULL;
}

static void test_resume(struct http_request *r)
{
    struct test_op *x = r->op;
    const struct service_test_attempt *a = &x->svc.attempt;
    if (x->verify) {
        if (a->succeeded)
            service_endpoint_mark_verified(r->server->deps.committer, r->key.mode,
                                           x->svc.endpoint_id);
        json_t *data = json_pack("{s:b}", "verified", a->succeeded);
        if (!a->succeeded) {
            char why[300];
            if (a->error)
                snprintf(why, sizeof(why), "%s", a->error);
            else
                snprintf(why, sizeof(why), "the endpoint answered %d", a->response_status);
            json_object_set_new(data, "error", http__json_text(why));
        }
        hookbase__respond_data(r, MHD_HTTP_OK, data);
    } else {
        const char *sig = header_of(a, "webhook-signature");
        const char *ts = header_of(a, "webhook-timestamp");
        json_t *out = json_pack(
            "{s:b, s:{s:s, s:s, s:o}, s:{s:s, s:o, s:I, s:o, s:o}, s:{s:s, s:o, s:o}}", "success",
            a->succeeded, "testEvent", "id", x->svc.webhook_id, "type", x->type, "timestamp",
            hookbase__time(x->at_ms), "delivery", "status", a->succeeded ? "success" : "failed",
            "responseStatus", a->response_status ? json_integer(a->response_status) : json_null(),
            "responseTimeMs", (json_int_t)(a->latency_ms > 0 ? a->latency_ms : 0), "responseBody",
            http__json_text(a->response_body), "errorMessage", http__json_text(a->error),
            "signature", "header", "webhook-signature", "value", http__json_text(sig), "timestamp",
            http__json_text(ts));
        if (r->portal) /* the portal reads it unwrapped */
            http__respond_json(r, MHD_HTTP_OK, out);
        else
            hookbase__respond_data(r, MHD_HTTP_OK, out);
    }
    service_endpoint_test_release(&x->svc);
    free(x);
}

static void test_or_verify(struct http_request *r, bool verify)
{
    json_t *body = hookbase__body(r);
    if (!body)
        return;
    struct store_endpoint ep = {0};
    if (!find(r, &ep)) {
        json_decref(body);
        return;
    }
    json_t *type = json_object_get(body, "eventType");
    struct endpoint_test_fields f = {.event_type = verify ? NULL : type,
                                     .payload = verify ? NULL : json_object_get(body, "payload")};
    struct test_op *x = calloc(1, sizeof(*x));
    if (!x)
        abort();
    x->verify = verify;
    x->at_ms = clock_now_ms();
    snprintf(x->type, sizeof(x->type), "%s",
             !verify && json_is_string(type) ? json_string_value(type) : SERVICE_TEST_DEFAULT_TYPE);
    struct err_detail d = {0};
    struct store *s = http__store_acquire(r->server);
    enum err e = service_endpoint_test_prepare(&x->svc, r->server->deps.test_sender, s, r->key.mode,
                                               ep.id, &f, &d);
    http__store_release(r->server, s);
    store_endpoint_release(&ep);
    json_decref(body);
    if (e != ERR_OK) {
        free(x);
        http__respond_err(r, e, &d);
        return;
    }
    if (!http__offload(r, x, test_work, test_resume)) {
        service_endpoint_test_release(&x->svc);
        free(x);
        r->retry_after_s = 1;
        http__respond_error(r, MHD_HTTP_TOO_MANY_REQUESTS, "RATE_LIMITED",
                            "%d test sends are already running; retry in a moment",
                            HTTP_OFFLOAD_MAX);
    }
}

void hookbase__endpoint_test(struct http_request *r)
{
    test_or_verify(r, false);
}

void hookbase__endpoint_verify(struct http_request *r)
{
    test_or_verify(r, true);
}

/* ---- the portal's replay-failed ---- */

static void replay_failed_done(struct http_request *r)
{
    struct service_replay_failed_op *x = r->op;
    if (x->head.op.result != ERR_OK) {
        http__respond_err(r, x->head.op.result, &x->head.op.detail);
    } else {
        json_t *ids = json_array();
        for (int i = 0; i < x->n; i++)
            json_array_append_new(ids, json_string(x->new_ids[i]));
        hookbase__respond_data(r, MHD_HTTP_OK,
                               json_pack("{s:i, s:o}", "replayed", x->n, "newMessageIds", ids));
    }
    service_replay_failed_op_release(x);
    free(x);
}

void hookbase__endpoint_replay_failed(struct http_request *r)
{
    struct store_endpoint ep = {0};
    if (!find(r, &ep))
        return;
    struct service_replay_failed_op *x = calloc(1, sizeof(*x));
    if (!x)
        abort();
    service_replay_failed_op_init(x, r->key.mode, ep.application_id, ep.id,
                                  r->server->deps.cfg->retention_ms);
    store_endpoint_release(&ep);
    hookbase__defer(r, &x->head, replay_failed_done);
}

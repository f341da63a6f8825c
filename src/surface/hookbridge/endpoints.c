/*
 * endpoints - /v1/endpoints: create, list, get, update (PATCH), soft delete
 * (API.md §3.6). Writes go through the committer; the read-modify-write of
 * PATCH happens inside the op so concurrent updates cannot lose each other.
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/validate.h"
#include "service/endpoints.h"
#include "surface/hookbridge/internal.h"
#include "util/clock.h"

#define ENDPOINT_LIST_DEFAULT 50
#define ENDPOINT_LIST_MAX 100
#define DESCRIPTION_MAX 1024
#define RATE_MAX 100000

/* The settable fields of an endpoint body; has_* says the field was present. */
struct ep_fields {
    bool has_url, has_description, has_hmac, has_rps, has_burst, has_headers;
    const char *url;         /* borrowed from the JSON tree */
    const char *description; /* NULL = clear */
    bool hmac_enabled;
    int rate_limit_rps, burst;
    char *headers_json; /* owned; NULL = clear */
};

static enum err int_field(json_t *v, const char *name, int *out, struct err_detail *d)
{
    if (json_is_null(v)) {
        *out = 0;
        return ERR_OK;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > RATE_MAX)
        return err_set(d, ERR_INVAL, "INVALID_REQUEST", "'%s' must be an integer between 0 and %d",
                       name, RATE_MAX);
    *out = (int)json_integer_value(v);
    return ERR_OK;
}

static enum err parse_fields(json_t *body, const struct config *cfg, struct ep_fields *f,
                             struct err_detail *d)
{
    memset(f, 0, sizeof(*f));
    if (!json_is_object(body))
        return err_set(d, ERR_INVAL, "INVALID_REQUEST", "request body must be a JSON object");
    json_t *v;
    enum err e;
    if ((v = json_object_get(body, "url"))) {
        if (!json_is_string(v))
            return err_set(d, ERR_INVAL, "INVALID_ENDPOINT", "'url' must be a string");
        if ((e = service_endpoint_check_url(json_string_value(v), cfg, d)) != ERR_OK)
            return e;
        f->has_url = true;
        f->url = json_string_value(v);
    }
    if ((v = json_object_get(body, "description"))) {
        if (!json_is_string(v) && !json_is_null(v))
            return err_set(d, ERR_INVAL, "INVALID_REQUEST", "'description' must be a string");
        if (json_is_string(v) && json_string_length(v) > DESCRIPTION_MAX)
            return err_set(d, ERR_INVAL, "INVALID_REQUEST", "'description' is longer than %d bytes",
                           DESCRIPTION_MAX);
        f->has_description = true;
        f->description = json_string_value(v);
    }
    if ((v = json_object_get(body, "hmac_enabled"))) {
        if (!json_is_boolean(v))
            return err_set(d, ERR_INVAL, "INVALID_REQUEST", "'hmac_enabled' must be a boolean");
        f->has_hmac = true;
        f->hmac_enabled = json_is_true(v);
    }
    if ((v = json_object_get(body, "rate_limit_rps"))) {
        if ((e = int_field(v, "rate_limit_rps", &f->rate_limit_rps, d)) != ERR_OK)
            return e;
        f->has_rps = true;
    }
    if ((v = json_object_get(body, "burst"))) {
        if ((e = int_field(v, "burst", &f->burst, d)) != ERR_OK)
            return e;
        f->has_burst = true;
    }
    if ((v = json_object_get(body, "headers"))) {
        if (!json_is_null(v)) {
            if ((e = validate_headers(v, d)) != ERR_OK)
                return e;
            if (json_object_size(v)) {
                f->headers_json = json_dumps(v, JSON_COMPACT);
                if (!f->headers_json)
                    abort();
            }
        }
        f->has_headers = true;
    }
    return ERR_OK;
}

static char *dup_or_null(const char *s)
{
    if (!s)
        return NULL;
    char *r = strdup(s);
    if (!r)
        abort();
    return r;
}

/* Move the present fields of f into e (takes f->headers_json). */
static void apply_fields(struct store_endpoint *e, struct ep_fields *f)
{
    if (f->has_url) {
        free(e->url);
        e->url = dup_or_null(f->url);
    }
    if (f->has_description) {
        free(e->description);
        e->description = dup_or_null(f->description);
    }
    if (f->has_hmac)
        e->hmac_enabled = f->hmac_enabled;
    if (f->has_rps)
        e->rate_limit_rps = f->rate_limit_rps;
    if (f->has_burst)
        e->burst = f->burst;
    if (f->has_headers) {
        free(e->headers_json);
        e->headers_json = f->headers_json;
        f->headers_json = NULL;
    }
}

static json_t *render_endpoint(const struct store_endpoint *e)
{
    json_t *headers = e->headers_json ? json_loads(e->headers_json, 0, NULL) : NULL;
    return json_pack("{s:s, s:s, s:s?, s:b, s:o, s:o, s:o, s:b, s:o, s:o}", "id", e->id, "url",
                     e->url, "description", e->description, "hmac_enabled", e->hmac_enabled,
                     "rate_limit_rps",
                     e->rate_limit_rps ? json_integer(e->rate_limit_rps) : json_null(), "burst",
                     e->burst ? json_integer(e->burst) : json_null(), "headers",
                     headers ? headers : json_null(), "paused", e->paused, "created_at",
                     http__time(e->created_at_ms), "updated_at", http__time(e->updated_at_ms));
}

/* ---- create ---- */

struct create_op {
    struct http_op base;
    struct store_endpoint ep;
    struct store_signing_key key;
};

static enum err create_apply(struct store *s, struct commit_op *op)
{
    struct create_op *c = (struct create_op *)op;
    return store_endpoint_insert(s, &c->ep, &c->key, &op->detail);
}

static void create_resume(struct http_request *r)
{
    struct create_op *c = r->op;
    if (c->base.op.result != ERR_OK) {
        http__respond_err(r, c->base.op.result, &c->base.op.detail);
    } else {
        json_t *data = render_endpoint(&c->ep);
        const char *sec = c->key.secret;
        json_object_set_new(data, "signing_key_id", json_string(c->key.id));
        json_object_set_new(data, "signing_secret", json_string(sec));
        json_object_set_new(data, "key_hint", json_string(sec + strlen(sec) - 4));
        http__respond_data(r, MHD_HTTP_CREATED, data, NULL);
    }
    store_endpoint_release(&c->ep);
    explicit_bzero(c->key.secret, sizeof(c->key.secret));
    free(c);
}

void hookbridge__endpoints_create(struct http_request *r)
{
    struct err_detail d = {0};
    json_t *body = http__parse_body(r, false, &d);
    struct ep_fields f;
    enum err e = body ? parse_fields(body, r->server->deps.cfg, &f, &d) : ERR_INVAL;
    if (e == ERR_OK && !f.has_url)
        e = err_set(&d, ERR_INVAL, "INVALID_REQUEST", "'url' is required");
    if (e != ERR_OK) {
        if (body)
            free(f.headers_json);
        json_decref(body);
        http__respond_err(r, e, &d);
        return;
    }
    struct create_op *c = calloc(1, sizeof(*c));
    if (!c)
        abort();
    c->base.r = r;
    int64_t now = clock_now_ms();
    id_prefixed_hex(c->ep.id, sizeof(c->ep.id), "ep_", 32);
    snprintf(c->ep.mode, sizeof(c->ep.mode), "%s", r->key.mode);
    c->ep.hmac_enabled = true;
    c->ep.all_event_types = true; /* /v1 endpoints receive every event of the default app */
    apply_fields(&c->ep, &f);
    c->ep.created_at_ms = c->ep.updated_at_ms = now;
    id_prefixed_hex(c->key.id, sizeof(c->key.id), "sk_", 24);
    id_signing_secret(c->key.secret, sizeof(c->key.secret));
    c->key.created_at_ms = now;
    json_decref(body);
    c->base.op.apply = create_apply;
    c->base.op.done = http__op_done;
    http__defer(r, &c->base.op, c, create_resume);
}

/* ---- list and get ---- */

void hookbridge__endpoints_list(struct http_request *r)
{
    int limit;
    if (!http__parse_limit(r, ENDPOINT_LIST_DEFAULT, ENDPOINT_LIST_MAX, &limit))
        return;
    const char *cursor = http__query(r, "cursor");
    struct store_endpoint eps[ENDPOINT_LIST_MAX];
    int n = 0;
    bool has_more = false;
    struct err_detail d = {0};
    struct store *s = http__store_acquire(r->server);
    enum err e =
        s ? store_endpoint_list(s, r->key.mode, cursor ? cursor : "", limit, eps, &n, &has_more, &d)
          : ERR_IO;
    http__store_release(r->server, s);
    if (e != ERR_OK) {
        http__respond_err(r, e, &d);
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) {
        json_array_append_new(arr, render_endpoint(&eps[i]));
        store_endpoint_release(&eps[i]);
    }
    json_t *meta = http__page_meta(has_more, n ? eps[n - 1].id : NULL);
    http__respond_data(r, MHD_HTTP_OK, arr, meta);
}

void hookbridge__endpoints_get(struct http_request *r)
{
    const char *id = r->param[0];
    struct store_endpoint ep = {0};
    struct err_detail d = {0};
    struct store *s = http__store_acquire(r->server);
    enum err e = s ? store_endpoint_get(s, r->key.mode, id, false, &ep, &d) : ERR_IO;
    http__store_release(r->server, s);
    if (e != ERR_OK) {
        http__respond_err(r, e, &d);
        return;
    }
    http__respond_data(r, MHD_HTTP_OK, render_endpoint(&ep), NULL);
    store_endpoint_release(&ep);
}

/* ---- update ---- */

struct update_op {
    struct http_op base;
    char id[ID_MAX];
    char mode[8];
    struct ep_fields f;
    json_t *body;             /* keeps f's borrowed strings alive */
    struct store_endpoint ep; /* the result */
};

static enum err update_apply(struct store *s, struct commit_op *op)
{
    struct update_op *u = (struct update_op *)op;
    store_endpoint_release(&u->ep);
    enum err e = store_endpoint_get(s, u->mode, u->id, false, &u->ep, &op->detail);
    if (e != ERR_OK)
        return e;
    struct ep_fields copy = u->f;
    if (copy.headers_json) {
        copy.headers_json = strdup(copy.headers_json);
        if (!copy.headers_json)
            abort();
    }
    apply_fields(&u->ep, &copy);
    u->ep.updated_at_ms = clock_now_ms();
    return store_endpoint_update(s, &u->ep, &op->detail);
}

static void update_resume(struct http_request *r)
{
    struct update_op *u = r->op;
    if (u->base.op.result != ERR_OK) {
        http__respond_err(r, u->base.op.result, &u->base.op.detail);
    } else {
        json_t *data = render_endpoint(&u->ep);
        json_object_set_new(data, "updated", json_true());
        http__respond_data(r, MHD_HTTP_OK, data, NULL);
    }
    store_endpoint_release(&u->ep);
    free(u->f.headers_json);
    json_decref(u->body);
    free(u);
}

void hookbridge__endpoints_update(struct http_request *r)
{
    const char *id = r->param[0];
    struct err_detail d = {0};
    json_t *body = http__parse_body(r, false, &d);
    struct ep_fields f;
    enum err e = body ? parse_fields(body, r->server->deps.cfg, &f, &d) : ERR_INVAL;
    if (e != ERR_OK) {
        json_decref(body);
        http__respond_err(r, e, &d);
        return;
    }
    struct update_op *u = calloc(1, sizeof(*u));
    if (!u)
        abort();
    u->base.r = r;
    snprintf(u->id, sizeof(u->id), "%s", id);
    snprintf(u->mode, sizeof(u->mode), "%s", r->key.mode);
    u->f = f;
    u->body = body;
    u->base.op.apply = update_apply;
    u->base.op.done = http__op_done;
    http__defer(r, &u->base.op, u, update_resume);
}

/* ---- delete ---- */

struct delete_op {
    struct http_op base;
    char id[ID_MAX];
    char mode[8];
};

static enum err delete_apply(struct store *s, struct commit_op *op)
{
    struct delete_op *x = (struct delete_op *)op;
    return store_endpoint_delete(s, x->mode, x->id, clock_now_ms(), &op->detail);
}

static void delete_resume(struct http_request *r)
{
    struct delete_op *x = r->op;
    if (x->base.op.result != ERR_OK)
        http__respond_err(r, x->base.op.result, &x->base.op.detail);
    else
        http__respond_data(r, MHD_HTTP_OK, json_pack("{s:s, s:b}", "id", x->id, "deleted", true),
                           NULL);
    free(x);
}

void hookbridge__endpoints_delete(struct http_request *r)
{
    const char *id = r->param[0];
    struct delete_op *x = calloc(1, sizeof(*x));
    if (!x)
        abort();
    x->base.r = r;
    snprintf(x->id, sizeof(x->id), "%s", id);
    snprintf(x->mode, sizeof(x->mode), "%s", r->key.mode);
    x->base.op.apply = delete_apply;
    x->base.op.done = http__op_done;
    http__defer(r, &x->base.op, x, delete_resume);
}

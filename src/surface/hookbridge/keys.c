/*
 * keys - /v1/api-keys (API.md §3.4): list, create, soft delete, and the
 * last_used_at touch done after authentication.
 *
 * Description: keys are store-wide admin objects. A live key sees and
 * manages every key; a test key sees, creates and deletes test keys only
 * (a live key it may not touch answers 404, creating one 403 FORBIDDEN).
 * The full secret "hk_<mode>_<40 hex>" exists only in the create response;
 * the store keeps its SHA-256. Deleting the last active live key of the
 * store is refused (409 LAST_LIVE_KEY) because nothing but the offline
 * `hookd keys create` could then reach live data; otherwise a key may delete
 * itself and is 401 from its next request on. last_used_at is written at most
 * once per API_KEY_TOUCH_MS (60 s) per key by a fire-and-forget commit op, so
 * a busy key costs no write per request; the value is therefore accurate to
 * about a minute.
 * Writes go through the committer like every api write op.
 * Threading: MHD threads; apply/done on the committer thread.
 * Ownership: ops are heap objects freed by their resume (or done for touch).
 * SPDX-License-Identifier: MIT
 */
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "surface/hookbridge/internal.h"
#include "util/clock.h"
#include "util/log.h"

#define API_KEY_LABEL_MAX 255 /* bytes of UTF-8 (struct store_api_key.label) */

static bool is_test(const struct http_request *r)
{
    return !strcmp(r->key.mode, "test");
}

static json_t *render_key(const struct store_api_key *k)
{
    return json_pack("{s:s, s:s, s:o, s:o, s:o, s:s}", "key_id", k->id, "prefix", k->prefix,
                     "created_at", http__time(k->created_at_ms), "label",
                     k->label[0] ? json_string(k->label) : json_null(), "last_used_at",
                     http__time(k->last_used_at_ms), "mode", k->mode);
}

/* ---- list ---- */

void hookbridge__keys_list(struct http_request *r)
{
    struct store_api_key *keys = calloc(STORE_MAX_API_KEYS, sizeof(*keys));
    if (!keys)
        abort();
    int n = 0;
    struct err_detail d = {0};
    struct store *s = http__store_acquire(r->server);
    enum err e =
        s ? store_api_key_list(s, is_test(r) ? "test" : NULL, keys, STORE_MAX_API_KEYS, &n, &d)
          : ERR_IO;
    http__store_release(r->server, s);
    if (e != ERR_OK) {
        free(keys);
        http__respond_err(r, e, &d);
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, render_key(&keys[i]));
    free(keys);
    http__respond_data(r, MHD_HTTP_OK, arr, NULL);
}

/* ---- create ---- */

struct create_op {
    struct http_op base;
    struct store_api_key key;
    uint8_t digest[32];
    char secret[ID_MAX];
};

static enum err create_apply(struct store *s, struct commit_op *op)
{
    struct create_op *c = (struct create_op *)op;
    int64_t n = 0;
    enum err e = store_api_key_count_mode(s, NULL, &n, &op->detail);
    if (e != ERR_OK)
        return e;
    if (n >= STORE_MAX_API_KEYS)
        return err_set(&op->detail, ERR_LIMIT, "FORBIDDEN",
                       "the store already has %d active API keys; delete unused ones first",
                       STORE_MAX_API_KEYS);
    return store_api_key_insert(s, &c->key, c->digest, &op->detail);
}

static void create_resume(struct http_request *r)
{
    struct create_op *c = r->op;
    enum err e = c->base.op.result;
    if (e == ERR_LIMIT) {
        http__respond_error(r, MHD_HTTP_FORBIDDEN, "FORBIDDEN", "%s", c->base.op.detail.msg);
    } else if (e != ERR_OK) {
        http__respond_err(r, e, &c->base.op.detail);
    } else {
        json_t *data = render_key(&c->key);
        json_object_del(data, "last_used_at");
        json_object_set_new(data, "key", json_string(c->secret));
        http__respond_data(r, MHD_HTTP_CREATED, data, NULL);
    }
    explicit_bzero(c->secret, sizeof(c->secret));
    free(c);
}

/* Validate the create body into mode and label (label[256]). */
static enum err parse_create(json_t *body, char mode[8], char label[256], struct err_detail *d)
{
    if (!json_is_object(body))
        return err_set(d, ERR_INVAL, "INVALID_REQUEST", "request body must be a JSON object");
    snprintf(mode, 8, "live");
    label[0] = '\0';
    json_t *v = json_object_get(body, "mode");
    if (v && !json_is_null(v)) {
        const char *m = json_string_value(v);
        if (!m || (strcmp(m, "live") && strcmp(m, "test")))
            return err_set(d, ERR_INVAL, "INVALID_REQUEST", "'mode' must be \"live\" or \"test\"");
        snprintf(mode, 8, "%s", m);
    }
    v = json_object_get(body, "label");
    if (v && !json_is_null(v)) {
        const char *l = json_string_value(v);
        if (!l)
            return err_set(d, ERR_INVAL, "INVALID_REQUEST", "'label' must be a string");
        size_t len = json_string_length(v);
        if (strlen(l) != len || len > API_KEY_LABEL_MAX)
            return err_set(d, ERR_INVAL, "INVALID_REQUEST",
                           "'label' must be at most %d bytes of UTF-8, without NUL",
                           API_KEY_LABEL_MAX);
        memcpy(label, l, len + 1);
    }
    return ERR_OK;
}

void hookbridge__keys_create(struct http_request *r)
{
    struct err_detail d = {0};
    json_t *body = http__parse_body(r, true, &d);
    char mode[8], label[256];
    enum err e = body ? parse_create(body, mode, label, &d) : ERR_INVAL;
    json_decref(body);
    if (e != ERR_OK) {
        http__respond_err(r, e, &d);
        return;
    }
    if (is_test(r) && !strcmp(mode, "live")) {
        http__respond_error(r, MHD_HTTP_FORBIDDEN, "FORBIDDEN",
                            "a test key cannot create live keys; use a live key");
        return;
    }
    struct create_op *c = calloc(1, sizeof(*c));
    if (!c)
        abort();
    c->base.r = r;
    id_prefixed_hex(c->key.id, sizeof(c->key.id), "key_", 24);
    snprintf(c->key.mode, sizeof(c->key.mode), "%s", mode);
    snprintf(c->key.prefix, sizeof(c->key.prefix), "hk_%s", mode);
    memcpy(c->key.label, label, sizeof(c->key.label));
    c->key.created_at_ms = clock_now_ms();
    id_api_key(c->secret, sizeof(c->secret), mode);
    SHA256((const unsigned char *)c->secret, strlen(c->secret), c->digest);
    c->base.op.apply = create_apply;
    c->base.op.done = http__op_done;
    http__defer(r, &c->base.op, c, create_resume);
}

/* ---- delete ---- */

struct delete_op {
    struct http_op base;
    char id[ID_MAX];
    bool caller_is_test;
};

static enum err delete_apply(struct store *s, struct commit_op *op)
{
    struct delete_op *x = (struct delete_op *)op;
    struct store_api_key k;
    enum err e = store_api_key_get(s, x->id, &k, &op->detail);
    if (e != ERR_OK)
        return e;
    if (x->caller_is_test && strcmp(k.mode, "test"))
        return err_set(&op->detail, ERR_NOTFOUND, "NOT_FOUND", "api key '%s' not found", x->id);
    if (!strcmp(k.mode, "live")) {
        int64_t n = 0;
        if ((e = store_api_key_count_mode(s, "live", &n, &op->detail)) != ERR_OK)
            return e;
        if (n <= 1)
            return err_set(&op->detail, ERR_CONFLICT, "LAST_LIVE_KEY",
                           "api key '%s' is the last live key of this hookd; create another "
                           "live key before deleting it",
                           x->id);
    }
    return store_api_key_delete(s, x->id, clock_now_ms(), &op->detail);
}

static void delete_done(struct commit_op *op)
{
    struct delete_op *x = (struct delete_op *)op;
    if (op->result == ERR_OK) { /* before the 200: the key fails from the next request on */
        http__keycache_forget(x->base.r->server->keycache, x->id);
        http__ratelimit_forget(x->base.r->server->ratelimit, x->id);
    }
    http__op_finished(x->base.r);
}

static void delete_resume(struct http_request *r)
{
    struct delete_op *x = r->op;
    if (x->base.op.result != ERR_OK)
        http__respond_err(r, x->base.op.result, &x->base.op.detail);
    else
        http__respond_data(r, MHD_HTTP_OK,
                           json_pack("{s:s, s:b}", "key_id", x->id, "deleted", true), NULL);
    free(x);
}

void hookbridge__keys_delete(struct http_request *r)
{
    const char *id = r->param[0];
    if (strlen(id) >= ID_MAX) {
        http__respond_error(r, MHD_HTTP_NOT_FOUND, "NOT_FOUND", "api key not found");
        return;
    }
    struct delete_op *x = calloc(1, sizeof(*x));
    if (!x)
        abort();
    x->base.r = r;
    snprintf(x->id, sizeof(x->id), "%s", id);
    x->caller_is_test = is_test(r);
    x->base.op.apply = delete_apply;
    x->base.op.done = delete_done;
    http__defer(r, &x->base.op, x, delete_resume);
}

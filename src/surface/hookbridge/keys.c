/*
 * keys - /v1/api-keys (API.md §3.4): list, create, soft delete, on
 * service/api_keys.h, which holds the rules (what a test key may see and
 * touch, the key limit, the last live key, labels and modes, how a key is
 * made). The last_used_at touch after authentication is http/auth.c's.
 *
 * Description: the surface reads the create body ({mode?, label?}; empty is
 * {}) and renders {key_id, prefix, created_at, label, last_used_at, mode};
 * the create response alone carries the full secret (key) and no
 * last_used_at. The service's FORBIDDEN (the key limit, a test key asking for
 * a live key) is 403 here. After a successful delete the key's cache entry
 * and rate-limit state are forgotten before the 200 goes out, so the key
 * fails from the next request on.
 * Threading: MHD threads; ops apply on the committer.
 * Ownership: ops are heap objects freed by their resume; the create op's
 * secret is wiped there.
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "service/api_keys.h"
#include "surface/hookbridge/internal.h"

static json_t *render_key(const struct store_api_key *k)
{
    return json_pack("{s:s, s:s, s:o, s:o, s:o, s:s}", "key_id", k->id, "prefix", k->prefix,
                     "created_at", http__time(k->created_at_ms), "label",
                     k->label[0] ? json_string(k->label) : json_null(), "last_used_at",
                     http__time(k->last_used_at_ms), "mode", k->mode);
}

/* The service's error; its FORBIDDEN refusals are 403 on /v1. */
static void respond_err(struct http_request *r, enum err e, const struct err_detail *d)
{
    if (!strcmp(d->code, "FORBIDDEN"))
        http__respond_error(r, MHD_HTTP_FORBIDDEN, "FORBIDDEN", "%s", d->msg);
    else
        http__respond_err(r, e, d);
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
    enum err e = s ? service_api_key_list(s, r->key.mode, keys, &n, &d) : ERR_IO;
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

static void create_resume(struct http_request *r)
{
    struct service_api_key_create_op *x = r->op;
    if (x->head.op.result != ERR_OK) {
        respond_err(r, x->head.op.result, &x->head.op.detail);
    } else {
        json_t *data = render_key(&x->key);
        json_object_del(data, "last_used_at");
        json_object_set_new(data, "key", json_string(x->secret));
        http__respond_data(r, MHD_HTTP_CREATED, data, NULL);
    }
    service_api_key_create_op_release(x);
    free(x);
}

void hookbridge__keys_create(struct http_request *r)
{
    struct err_detail d = {0};
    json_t *body = http__parse_body(r, true, &d);
    if (!body) {
        http__respond_err(r, ERR_INVAL, &d);
        return;
    }
    struct service_api_key_create_op *x = malloc(sizeof(*x));
    if (!x)
        abort();
    enum err e =
        json_is_object(body)
            ? service_api_key_create_op_init(x, r->key.mode, json_object_get(body, "mode"),
                                             json_object_get(body, "label"), &d)
            : err_set(&d, ERR_INVAL, "INVALID_REQUEST", "request body must be a JSON object");
    json_decref(body);
    if (e != ERR_OK) {
        free(x);
        respond_err(r, e, &d);
        return;
    }
    http__defer(r, &x->head, create_resume);
}

/* ---- delete ---- */

static void delete_resume(struct http_request *r)
{
    struct service_api_key_delete_op *x = r->op;
    if (x->head.op.result != ERR_OK) {
        http__respond_err(r, x->head.op.result, &x->head.op.detail);
    } else {
        /* Before the 200, so the key fails from the client's next request on.
         * Here rather than in the op's done() (committer thread): a lookup
         * that read the key before the delete committed cannot cache it after
         * this forget (keycache.c's generation counter), and one that starts
         * after the commit finds no key in the store, so the later moment is
         * as safe; the ratelimit table is then touched by MHD threads only. */
        http__keycache_forget(r->server->keycache, x->id);
        http__ratelimit_forget(r->server->ratelimit, x->id);
        http__respond_data(r, MHD_HTTP_OK,
                           json_pack("{s:s, s:b}", "key_id", x->id, "deleted", true), NULL);
    }
    free(x);
}

void hookbridge__keys_delete(struct http_request *r)
{
    struct service_api_key_delete_op *x = malloc(sizeof(*x));
    if (!x)
        abort();
    struct err_detail d = {0};
    enum err e = service_api_key_delete_op_init(x, r->key.mode, r->param[0], &d);
    if (e != ERR_OK) {
        free(x);
        http__respond_err(r, e, &d);
        return;
    }
    http__defer(r, &x->head, delete_resume);
}

/*
 * signing_keys - /v1/endpoints/{id}/signing-keys: create, list, delete
 * (API.md §3.6, checklist 19 and 28) on service/signing_keys.h, which holds
 * the rules (at most two active keys, never the last one, how a key is made);
 * the SDKs' rotateEndpointSecret is the create call.
 *
 * Description: create answers 201 {id, signing_secret, key_hint, created_at}
 * (the whsec_ secret appears only in that response), the list an array of
 * {id, key_hint, created_at} oldest first, delete {id, deleted: true}. The
 * create route takes no body, which is the surface's to check: empty, {} or
 * null.
 * Threading: handlers on MHD threads; ops apply on the committer.
 * Ownership: each op is freed by its resume callback; the create op's secret
 * is wiped (service_signing_key_create_op_release) after the response is
 * queued; it is never logged.
 * Errors: 404 ENDPOINT_NOT_FOUND (unknown, deleted, other-mode endpoint),
 * 404 SIGNING_KEY_NOT_FOUND, 409 SIGNING_KEY_LIMIT, 409 LAST_SIGNING_KEY,
 * 400 INVALID_REQUEST for a create body that is neither empty, {} nor null.
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>

#include "service/signing_keys.h"
#include "surface/hookbridge/internal.h"

/* ---- create ---- */

static void create_resume(struct http_request *r)
{
    struct service_signing_key_create_op *x = r->op;
    if (x->head.op.result != ERR_OK) {
        http__respond_err(r, x->head.op.result, &x->head.op.detail);
    } else {
        const char *sec = x->key.secret;
        json_t *data = json_pack("{s:s, s:s, s:s, s:o}", "id", x->key.id, "signing_secret", sec,
                                 "key_hint", service_signing_key_hint(sec), "created_at",
                                 http__time(x->key.created_at_ms));
        /* XXX: jansson keeps its own copy of the secret in the response tree;
         * it is freed (not wiped) once the body is serialised. */
        http__respond_data(r, MHD_HTTP_CREATED, data, NULL);
    }
    service_signing_key_create_op_release(x);
    free(x);
}

void hookbridge__signing_keys_create(struct http_request *r)
{
    struct err_detail d = {0};
    json_t *body = http__parse_body(r, true, &d);
    if (!body) {
        http__respond_err(r, ERR_INVAL, &d);
        return;
    }
    bool body_ok = json_is_object(body) || json_is_null(body);
    json_decref(body);
    if (!body_ok) {
        http__respond_error(r, MHD_HTTP_BAD_REQUEST, "INVALID_REQUEST",
                            "request body must be empty or a JSON object");
        return;
    }
    struct service_signing_key_create_op *x = malloc(sizeof(*x));
    if (!x)
        abort();
    enum err e = service_signing_key_create_op_init(x, r->key.mode, r->param[0], &d);
    if (e != ERR_OK) {
        free(x);
        http__respond_err(r, e, &d);
        return;
    }
    http__defer(r, &x->head, create_resume);
}

/* ---- list ---- */

void hookbridge__signing_keys_list(struct http_request *r)
{
    struct store_signing_key_info keys[STORE_MAX_ACTIVE_KEYS];
    int n = 0;
    struct err_detail d = {0};
    struct store *s = http__store_acquire(r->server);
    enum err e = s ? service_signing_key_list(s, r->key.mode, r->param[0], keys, &n, &d) : ERR_IO;
    http__store_release(r->server, s);
    if (e != ERR_OK) {
        http__respond_err(r, e, &d);
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, json_pack("{s:s, s:s, s:o}", "id", keys[i].id, "key_hint",
                                             keys[i].key_hint, "created_at",
                                             http__time(keys[i].created_at_ms)));
    http__respond_data(r, MHD_HTTP_OK, arr, NULL);
}

/* ---- delete ---- */

static void delete_resume(struct http_request *r)
{
    struct service_signing_key_delete_op *x = r->op;
    if (x->head.op.result != ERR_OK)
        http__respond_err(r, x->head.op.result, &x->head.op.detail);
    else
        http__respond_data(r, MHD_HTTP_OK,
                           json_pack("{s:s, s:b}", "id", x->key_id, "deleted", true), NULL);
    free(x);
}

void hookbridge__signing_keys_delete(struct http_request *r)
{
    struct service_signing_key_delete_op *x = malloc(sizeof(*x));
    if (!x)
        abort();
    struct err_detail d = {0};
    enum err e = service_signing_key_delete_op_init(x, r->key.mode, r->param[0], r->param[1], &d);
    if (e != ERR_OK) {
        free(x);
        http__respond_err(r, e, &d);
        return;
    }
    http__defer(r, &x->head, delete_resume);
}

/*
 * signing_keys - /v1/endpoints/{id}/signing-keys: create, list, delete
 * (API.md §3.6, checklist 19 and 28); the SDKs' rotateEndpointSecret is the
 * create call.
 *
 * Description: an endpoint has one or two active signing keys. Create adds a
 * key (201; the whsec_ secret appears only in that response) and is refused
 * with 409 SIGNING_KEY_LIMIT while two are active; delete retires a key and is
 * refused with 409 LAST_SIGNING_KEY for the only active one. While two keys
 * are active the dispatcher signs every attempt with both. After each change
 * the store's completion feed makes the next attempt use the new key set.
 * Rotation: create a second key, move receivers to it, delete the old one.
 * Threading: handlers on MHD threads; apply/done on the committer thread.
 * Ownership: the secret lives in the op and is wiped (explicit_bzero) after
 * the response is queued; it is never logged.
 * Errors: 404 ENDPOINT_NOT_FOUND (unknown, deleted, other-mode endpoint),
 * 404 SIGNING_KEY_NOT_FOUND, 409 SIGNING_KEY_LIMIT, 409 LAST_SIGNING_KEY,
 * 400 INVALID_REQUEST for a create body that is neither empty, {} nor null.
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "surface/hookbridge/internal.h"
#include "util/clock.h"

#define KEY_HINT_LEN 4

/* Path captures longer than any id cannot name anything: answer 404 at once. */
static bool ids_fit(struct http_request *r, int n)
{
    for (int i = 0; i < n; i++) {
        if (strlen(r->param[i]) >= ID_MAX) {
            if (i == 0)
                http__respond_error(r, MHD_HTTP_NOT_FOUND, "ENDPOINT_NOT_FOUND",
                                    "endpoint not found");
            else
                http__respond_error(r, MHD_HTTP_NOT_FOUND, "SIGNING_KEY_NOT_FOUND",
                                    "signing key not found");
            return false;
        }
    }
    return true;
}

/* ---- create ---- */

struct create_op {
    struct http_op base;
    char endpoint_id[ID_MAX];
    char mode[8];
    struct store_signing_key key;
};

static enum err create_apply(struct store *s, struct commit_op *op)
{
    struct create_op *c = (struct create_op *)op;
    return store_signing_key_add(s, c->mode, c->endpoint_id, &c->key, &op->detail);
}

static void create_resume(struct http_request *r)
{
    struct create_op *c = r->op;
    if (c->base.op.result != ERR_OK) {
        http__respond_err(r, c->base.op.result, &c->base.op.detail);
    } else {
        const char *sec = c->key.secret;
        json_t *data = json_pack("{s:s, s:s, s:s, s:o}", "id", c->key.id, "signing_secret", sec,
                                 "key_hint", sec + strlen(sec) - KEY_HINT_LEN, "created_at",
                                 http__time(c->key.created_at_ms));
        /* XXX: jansson keeps its own copy of the secret in the response tree;
         * it is freed (not wiped) once the body is serialised. */
        http__respond_data(r, MHD_HTTP_CREATED, data, NULL);
    }
    explicit_bzero(c->key.secret, sizeof(c->key.secret));
    free(c);
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
    if (!ids_fit(r, 1))
        return;
    struct create_op *c = calloc(1, sizeof(*c));
    if (!c)
        abort();
    c->base.r = r;
    snprintf(c->endpoint_id, sizeof(c->endpoint_id), "%s", r->param[0]);
    snprintf(c->mode, sizeof(c->mode), "%s", r->key.mode);
    id_prefixed_hex(c->key.id, sizeof(c->key.id), "sk_", 24);
    id_signing_secret(c->key.secret, sizeof(c->key.secret));
    c->key.created_at_ms = clock_now_ms();
    c->base.op.apply = create_apply;
    c->base.op.done = http__op_done;
    http__defer(r, &c->base.op, c, create_resume);
}

/* ---- list ---- */

void hookbridge__signing_keys_list(struct http_request *r)
{
    if (!ids_fit(r, 1))
        return;
    struct store_signing_key_info keys[STORE_MAX_ACTIVE_KEYS];
    int n = 0;
    struct err_detail d = {0};
    struct store *s = http__store_acquire(r->server);
    enum err e = s ? store_signing_key_list(s, r->key.mode, r->param[0], clock_now_ms(), keys,
                                            STORE_MAX_ACTIVE_KEYS, &n, &d)
                   : ERR_IO;
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

struct delete_op {
    struct http_op base;
    char endpoint_id[ID_MAX];
    char key_id[ID_MAX];
    char mode[8];
};

static enum err delete_apply(struct store *s, struct commit_op *op)
{
    struct delete_op *x = (struct delete_op *)op;
    return store_signing_key_delete(s, x->mode, x->endpoint_id, x->key_id, clock_now_ms(),
                                    &op->detail);
}

static void delete_resume(struct http_request *r)
{
    struct delete_op *x = r->op;
    if (x->base.op.result != ERR_OK)
        http__respond_err(r, x->base.op.result, &x->base.op.detail);
    else
        http__respond_data(r, MHD_HTTP_OK,
                           json_pack("{s:s, s:b}", "id", x->key_id, "deleted", true), NULL);
    free(x);
}

void hookbridge__signing_keys_delete(struct http_request *r)
{
    if (!ids_fit(r, 2))
        return;
    struct delete_op *x = calloc(1, sizeof(*x));
    if (!x)
        abort();
    x->base.r = r;
    snprintf(x->endpoint_id, sizeof(x->endpoint_id), "%s", r->param[0]);
    snprintf(x->key_id, sizeof(x->key_id), "%s", r->param[1]);
    snprintf(x->mode, sizeof(x->mode), "%s", r->key.mode);
    x->base.op.apply = delete_apply;
    x->base.op.done = http__op_done;
    http__defer(r, &x->base.op, x, delete_resume);
}

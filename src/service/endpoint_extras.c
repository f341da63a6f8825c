/* endpoint_extras - see endpoint_extras.h. SPDX-License-Identifier: MIT */
#include "service/endpoint_extras.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/validate.h"
#include "service/endpoints.h"
#include "service/signing_keys.h"
#include "util/clock.h"

/* Names a merge may delete in one request (deleteHeaders). */
#define DELETE_NAMES_MAX 100

static char *dup_str(const char *s)
{
    char *r = strdup(s);
    if (!r)
        abort();
    return r;
}

static bool is_set(const json_t *v)
{
    return v && !json_is_null(v);
}

static enum err bad(struct err_detail *d, const char *field, const char *what)
{
    return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", field, "'%s' must be %s", field, what);
}

/* validate_headers on obj, the fault named as the field "headers". */
static enum err check_headers(const json_t *obj, struct err_detail *d)
{
    enum err e = validate_headers(obj, d);
    if (e != ERR_OK)
        snprintf(d->field, sizeof(d->field), "headers");
    return e;
}

static enum err apply(struct store *s, struct commit_op *op);

static void init_common(struct service_endpoint_extra_op *x, enum endpoint_extra kind,
                        const char *mode, const char *app, const char *target)
{
    x->kind = kind;
    snprintf(x->mode, sizeof(x->mode), "%s", mode);
    x->app = dup_str(app);
    x->target = dup_str(target);
    x->head.op.apply = apply;
}

enum err service_endpoint_headers_init(struct service_endpoint_extra_op *x, bool merge,
                                       const char *mode, const char *app, const char *target,
                                       const json_t *headers, const json_t *delete_names,
                                       struct err_detail *d)
{
    memset(x, 0, sizeof(*x));
    if (!merge && !is_set(headers))
        return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", "headers", "'headers' is required");
    if (is_set(headers) && !json_is_object(headers))
        return bad(d, "headers", "an object of strings");
    if (!merge) {
        enum err e = check_headers(headers, d);
        if (e != ERR_OK)
            return e;
        init_common(x, ENDPOINT_HEADERS_SET, mode, app, target);
        x->headers = json_deep_copy(headers);
        return ERR_OK;
    }
    /* merge: the values set must be valid headers; null values and the
     * deleted names become null entries of the patch */
    json_t *patch = json_object(), *set = json_object();
    const char *name;
    json_t *v;
    json_object_foreach((json_t *)headers, name, v)
    {
        if (!json_is_null(v))
            json_object_set(set, name, v);
        json_object_set(patch, name, v);
    }
    enum err e = check_headers(set, d);
    json_decref(set);
    if (e == ERR_OK && is_set(delete_names)) {
        if (!json_is_array(delete_names) || json_array_size(delete_names) > DELETE_NAMES_MAX)
            e = bad(d, "delete_headers", "an array of at most 100 header names");
        size_t i;
        json_array_foreach(delete_names, i, v)
        {
            if (e != ERR_OK)
                break;
            if (!json_is_string(v) || !json_string_length(v))
                e = bad(d, "delete_headers", "an array of header names");
            else
                json_object_set_new(patch, json_string_value(v), json_null());
        }
    }
    if (e != ERR_OK) {
        json_decref(patch);
        return e;
    }
    init_common(x, ENDPOINT_HEADERS_MERGE, mode, app, target);
    x->headers = patch;
    return ERR_OK;
}

enum err service_endpoint_rotate_init(struct service_endpoint_extra_op *x, const char *mode,
                                      const char *app, const char *target, const json_t *key,
                                      const json_t *grace_seconds, struct err_detail *d)
{
    memset(x, 0, sizeof(*x));
    x->overlap_ms = SERVICE_ROTATE_OVERLAP_MS;
    if (is_set(grace_seconds)) {
        if (!json_is_integer(grace_seconds) || json_integer_value(grace_seconds) < 0 ||
            json_integer_value(grace_seconds) > SERVICE_ROTATE_OVERLAP_MAX_MS / 1000)
            return bad(d, "grace_period_seconds", "an integer from 0 to 604800 (7 days)");
        x->overlap_ms = (int64_t)json_integer_value(grace_seconds) * 1000;
    }
    if (is_set(key) &&
        (!json_is_string(key) || !service_endpoint_secret_ok(json_string_value(key))))
        return bad(d, "key", "'whsec_' followed by the base64 of 24 to 64 bytes");
    service_signing_key_make(&x->key, is_set(key) ? json_string_value(key) : NULL);
    init_common(x, ENDPOINT_SECRET_ROTATE, mode, app, target);
    return ERR_OK;
}

void service_endpoint_extra_op_release(struct service_endpoint_extra_op *x)
{
    json_decref(x->headers);
    x->headers = NULL;
    free(x->app);
    free(x->target);
    x->app = x->target = NULL;
    explicit_bzero(&x->key, sizeof(x->key));
}

/* Remove every member of obj named name, whatever the case. */
static void remove_name(json_t *obj, const char *name)
{
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(obj, tmp, k, v)
    {
        if (!strcasecmp(k, name))
            json_object_del(obj, k);
    }
}

static enum err apply_headers(struct store *s, struct service_endpoint_extra_op *x,
                              struct store_endpoint *ep, struct err_detail *d)
{
    json_t *now = NULL;
    if (x->kind == ENDPOINT_HEADERS_SET) {
        now = json_deep_copy(x->headers);
    } else {
        now = ep->headers_json ? json_loads(ep->headers_json, 0, NULL) : NULL;
        if (!json_is_object(now)) { /* none yet (or unreadable: the merge replaces it) */
            json_decref(now);
            now = json_object();
        }
        const char *name;
        json_t *v;
        json_object_foreach(x->headers, name, v)
        {
            remove_name(now, name);
            if (!json_is_null(v))
                json_object_set(now, name, v);
        }
    }
    enum err e = check_headers(now, d); /* the merged whole: count and size */
    if (e == ERR_OK) {
        free(ep->headers_json);
        ep->headers_json = NULL;
        if (json_object_size(now) && !(ep->headers_json = json_dumps(now, JSON_COMPACT)))
            abort();
        ep->updated_at_ms = clock_now_ms();
        e = store_endpoint_update(s, ep, d);
    }
    json_decref(now);
    return e;
}

static enum err apply(struct store *s, struct commit_op *op)
{
    struct service_endpoint_extra_op *x = (struct service_endpoint_extra_op *)op;
    struct err_detail *d = &op->detail;
    struct service_idem *idem = &x->head.idem;
    enum err e;
    if (x->kind == ENDPOINT_SECRET_ROTATE) { /* a POST: its idempotency key counts */
        if ((e = service_idem_begin(s, x->mode, idem, d)) != ERR_OK || idem->replayed)
            return e;
    }
    struct store_endpoint ep = {0};
    if ((e = service_endpoint_get(s, x->mode, x->app, x->target, &ep, d)) != ERR_OK)
        return e;
    if (x->kind == ENDPOINT_SECRET_ROTATE) {
        x->key.created_at_ms = clock_now_ms();
        e = store_signing_key_rotate(s, x->mode, ep.id, &x->key, x->overlap_ms, d);
        if (e == ERR_OK)
            e = service_idem_end(s, x->mode, idem, 204, "", 0, d);
    } else {
        e = apply_headers(s, x, &ep, d);
    }
    store_endpoint_release(&ep);
    return e;
}

enum err service_endpoint_headers(struct store *s, const char *mode, const char *app,
                                  const char *id_or_uid, json_t **out, struct err_detail *d)
{
    *out = NULL;
    struct store_endpoint ep = {0};
    enum err e = service_endpoint_get(s, mode, app, id_or_uid, &ep, d);
    if (e != ERR_OK)
        return e;
    json_t *h = ep.headers_json ? json_loads(ep.headers_json, 0, NULL) : NULL;
    if (!json_is_object(h)) {
        json_decref(h);
        h = json_object();
    }
    *out = h;
    store_endpoint_release(&ep);
    return ERR_OK;
}

enum err service_endpoint_stats(struct store *s, const char *mode, const char *app,
                                const char *id_or_uid, int64_t since_ms, int64_t until_ms,
                                struct store_endpoint_stats *out, struct err_detail *d)
{
    memset(out, 0, sizeof(*out));
    if (until_ms && until_ms < since_ms)
        return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", "until",
                             "'until' must not be before 'since'");
    if (since_ms < 0)
        since_ms = 0;
    if (until_ms == 0) /* what happened up to now, this millisecond too */
        until_ms = clock_now_ms() + 1;
    if (until_ms < since_ms) /* since is in the future: nothing yet */
        until_ms = since_ms;
    struct store_endpoint ep = {0};
    enum err e = service_endpoint_get(s, mode, app, id_or_uid, &ep, d);
    if (e == ERR_OK)
        e = store_endpoint_stats(s, mode, ep.id, since_ms, until_ms, out, d);
    store_endpoint_release(&ep);
    return e;
}

/* applications - see applications.h. SPDX-License-Identifier: MIT */
#include "service/applications.h"

#include <stdlib.h>
#include <string.h>

#include "core/names.h"
#include "util/clock.h"

#define APP_NAME_MAX 256
#define THROTTLE_MAX 100000

static char *dup_or_null(const char *s)
{
    if (!s)
        return NULL;
    char *r = strdup(s);
    if (!r)
        abort();
    return r;
}

static enum err check_fields(struct service_app_op *x, const struct app_fields *f,
                             struct err_detail *d)
{
    bool need_name = x->kind == APP_CREATE || x->kind == APP_REPLACE;
    if (need_name && (!f->has_name || !f->name))
        return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", "name", "'name' is required");
    if (f->has_name) {
        if (!f->name || !f->name[0] || strlen(f->name) > APP_NAME_MAX)
            return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", "name",
                                 "'name' must be a string of 1 to %d bytes", APP_NAME_MAX);
        x->in.name = dup_or_null(f->name);
    }
    if (f->has_uid && f->uid) {
        enum err e = names_check_uid(f->uid, "uid", d);
        if (e != ERR_OK)
            return e;
        x->in.uid = dup_or_null(f->uid);
    }
    if (f->has_metadata && f->metadata && !json_is_null(f->metadata)) {
        enum err e = names_check_metadata(f->metadata, "metadata", d);
        if (e != ERR_OK)
            return e;
        if (json_object_size(f->metadata)) {
            x->in.metadata_json = json_dumps(f->metadata, JSON_COMPACT);
            if (!x->in.metadata_json)
                abort();
        }
    }
    x->in.throttle_rate = -1;
    if (f->has_throttle_rate && f->throttle_rate && !json_is_null(f->throttle_rate)) {
        if (!json_is_integer(f->throttle_rate) || json_integer_value(f->throttle_rate) < 1 ||
            json_integer_value(f->throttle_rate) > THROTTLE_MAX)
            return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", "throttle_rate",
                                 "'throttle_rate' must be an integer from 1 to %d, or null",
                                 THROTTLE_MAX);
        x->in.throttle_rate = json_integer_value(f->throttle_rate);
    }
    x->has_name = f->has_name;
    x->has_uid = f->has_uid;
    x->has_metadata = f->has_metadata;
    x->has_throttle_rate = f->has_throttle_rate;
    return ERR_OK;
}

/* Copy the fields the op changes into a (an existing application). */
static void merge(struct store_application *a, const struct service_app_op *x)
{
    bool replace = x->kind == APP_REPLACE;
    if (x->has_name) {
        free(a->name);
        a->name = dup_or_null(x->in.name);
    }
    if (x->has_uid) { /* an absent uid keeps the old one, even on PUT: it is an address */
        free(a->uid);
        a->uid = dup_or_null(x->in.uid);
    }
    if (x->has_metadata || replace) {
        free(a->metadata_json);
        a->metadata_json = dup_or_null(x->in.metadata_json);
    }
    if (x->has_throttle_rate || replace)
        a->throttle_rate = x->in.throttle_rate;
}

static void copy_app(struct store_application *dst, const struct store_application *src)
{
    *dst = *src;
    dst->uid = dup_or_null(src->uid);
    dst->name = dup_or_null(src->name);
    dst->metadata_json = dup_or_null(src->metadata_json);
}

static enum err create(struct store *s, struct service_app_op *x, const char *uid,
                       struct err_detail *d)
{
    struct store_application a;
    copy_app(&a, &x->in);
    free(a.uid);
    a.uid = dup_or_null(uid);
    snprintf(a.mode, sizeof(a.mode), "%s", x->mode);
    a.created_at_ms = a.updated_at_ms = clock_now_ms();
    id_time_ordered(a.id, sizeof(a.id), "app_", a.created_at_ms);
    enum err e = store_application_insert(s, &a, d);
    if (e != ERR_OK) {
        store_application_release(&a);
        return e;
    }
    x->app = a;
    x->created = true;
    return ERR_OK;
}

static enum err apply(struct store *s, struct commit_op *op)
{
    struct service_app_op *x = (struct service_app_op *)op;
    struct err_detail *d = &op->detail;
    store_application_release(&x->app);
    x->created = false;
    if (x->kind == APP_CREATE) {
        struct service_idem *idem = &x->head.idem;
        enum err e = service_idem_begin(s, x->mode, idem, d);
        if (e != ERR_OK)
            return e;
        if (idem->replayed) {
            x->created = idem->rec.status == 201;
            return store_application_get(s, x->mode, idem->rec.resource, &x->app, d);
        }
        if (x->get_if_exists && x->in.uid &&
            store_application_get(s, x->mode, x->in.uid, &x->app, NULL) == ERR_OK)
            return service_idem_end(s, x->mode, idem, 200, x->app.id, 0, d);
        e = create(s, x, x->in.uid, d);
        return e != ERR_OK ? e : service_idem_end(s, x->mode, idem, 201, x->app.id, 0, d);
    }
    struct store_application a = {0};
    enum err e = store_application_get(s, x->mode, x->target, &a, d);
    /* PUT creates an application the path names by uid; an id hookd did not make
     * cannot be created (a repeated PUT would make a new one each time): 404 */
    if (e == ERR_NOTFOUND && x->kind == APP_REPLACE && names_is_uid(x->target) &&
        strncmp(x->target, "app_", 4) != 0)
        return create(s, x, x->has_uid ? x->in.uid : x->target, d);
    if (e != ERR_OK)
        return e;
    if (x->kind == APP_DELETE) {
        if (strncmp(a.id, STORE_DEFAULT_APP_PREFIX, strlen(STORE_DEFAULT_APP_PREFIX)) == 0)
            e = err_set(d, ERR_CONFLICT, "CONFLICT",
                        "the default application holds the /v1 endpoints and cannot be deleted");
        else if (strncmp(a.id, STORE_OPS_APP_PREFIX, strlen(STORE_OPS_APP_PREFIX)) == 0)
            e = err_set(d, ERR_CONFLICT, "CONFLICT",
                        "the operational application holds the operational webhooks and cannot "
                        "be deleted (DELETE /v1/ops-webhooks/{id} removes one)");
        else
            e = store_application_delete(s, x->mode, a.id, clock_now_ms(), d);
        store_application_release(&a);
        return e;
    }
    merge(&a, x);
    a.updated_at_ms = clock_now_ms();
    e = store_application_update(s, &a, d);
    if (e != ERR_OK) {
        store_application_release(&a);
        return e;
    }
    x->app = a;
    return ERR_OK;
}

enum err service_app_op_init(struct service_app_op *x, enum app_write kind, const char *mode,
                             const char *target, const struct app_fields *f, bool get_if_exists,
                             struct err_detail *d)
{
    memset(x, 0, sizeof(*x));
    x->kind = kind;
    snprintf(x->mode, sizeof(x->mode), "%s", mode);
    x->get_if_exists = get_if_exists;
    x->app.throttle_rate = -1;
    if (kind != APP_DELETE) {
        enum err e = check_fields(x, f, d);
        if (e != ERR_OK) {
            service_app_op_release(x);
            return e;
        }
    }
    x->target = dup_or_null(target);
    x->head.op.apply = apply;
    return ERR_OK;
}

void service_app_op_release(struct service_app_op *x)
{
    store_application_release(&x->in);
    store_application_release(&x->app);
    free(x->target);
    x->target = NULL;
}

enum err service_app_get(struct store *s, const char *mode, const char *id_or_uid,
                         struct store_application *out, struct err_detail *d)
{
    return store_application_get(s, mode, id_or_uid, out, d);
}

enum err service_app_list(struct store *s, const char *mode, const char *iterator, bool descending,
                          int limit, struct store_application *out, int *n, bool *has_more,
                          struct err_detail *d)
{
    if (limit < 1 || limit > SERVICE_PAGE_MAX)
        return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", "limit",
                             "'limit' must be from 1 to %d", SERVICE_PAGE_MAX);
    return store_application_list(s, mode, iterator, descending, limit, out, n, has_more, d);
}

bool service_app_is_builtin(const struct store_application *a)
{
    return !strncmp(a->id, STORE_DEFAULT_APP_PREFIX, strlen(STORE_DEFAULT_APP_PREFIX)) ||
           !strncmp(a->id, STORE_OPS_APP_PREFIX, strlen(STORE_OPS_APP_PREFIX));
}

/* event_types - see event_types.h. SPDX-License-Identifier: MIT */
#include "service/event_types.h"

#include <stdlib.h>
#include <string.h>

#include "core/names.h"
#include "util/clock.h"

#define DESCRIPTION_MAX 1024
#define DISPLAY_NAME_MAX 256
#define FEATURE_FLAGS_MAX 10
#define EXAMPLE_MAX (64 * 1024)

static char *dup_or_null(const char *s)
{
    if (!s)
        return NULL;
    char *r = strdup(s);
    if (!r)
        abort();
    return r;
}

static enum err bad(struct err_detail *d, const char *field, const char *what)
{
    return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", field, "'%s' must be %s", field, what);
}

static enum err check_string(const json_t *v, const char *field, size_t max, struct err_detail *d)
{
    if (!v || json_is_null(v))
        return ERR_OK;
    if (!json_is_string(v) || json_string_length(v) > max)
        return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", field,
                             "'%s' must be a string of at most %zu bytes", field, max);
    return ERR_OK;
}

/* Check every present field and collect them (JSON null kept: it clears). */
static enum err check_fields(struct service_event_type_op *x, const struct event_type_fields *f,
                             struct err_detail *d)
{
    enum err e;
    if (x->kind == EVENT_TYPE_CREATE || x->kind == EVENT_TYPE_REPLACE) {
        if (x->kind == EVENT_TYPE_CREATE && (!f->name || !json_is_string(f->name)))
            return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", "name", "'name' is required");
    }
    if (f->name && (e = names_check_uid(json_string_value(f->name), "name", d)) != ERR_OK)
        return e;
    if ((e = check_string(f->display_name, "display_name", DISPLAY_NAME_MAX, d)) != ERR_OK ||
        (e = check_string(f->description, "description", DESCRIPTION_MAX, d)) != ERR_OK ||
        (e = check_string(f->category, "category", DISPLAY_NAME_MAX, d)) != ERR_OK ||
        (e = check_string(f->documentation_url, "documentation_url", 2048, d)) != ERR_OK)
        return e;
    if (f->schemas && !json_is_null(f->schemas)) {
        if (!json_is_object(f->schemas))
            return bad(d, "schemas", "an object of JSON Schemas by version");
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)f->schemas, k, v)
        {
            if (!json_is_object(v) && !json_is_boolean(v))
                return bad(d, "schemas", "an object of JSON Schemas by version");
        }
    }
    if (f->feature_flags && !json_is_null(f->feature_flags)) {
        if (!json_is_array(f->feature_flags) ||
            json_array_size(f->feature_flags) > FEATURE_FLAGS_MAX)
            return bad(d, "feature_flags", "an array of at most 10 names");
        size_t i;
        json_t *v;
        json_array_foreach(f->feature_flags, i, v)
        {
            if (!json_is_string(v) || !names_is_uid(json_string_value(v)))
                return bad(d, "feature_flags", "an array of at most 10 names");
        }
    }
    if (f->archived && !json_is_boolean(f->archived))
        return bad(d, "archived", "a boolean");
    if (f->deprecated && !json_is_boolean(f->deprecated))
        return bad(d, "deprecated", "a boolean");
    if (f->example_payload && !json_is_null(f->example_payload)) {
        char *text = json_dumps(f->example_payload, JSON_COMPACT | JSON_ENCODE_ANY);
        size_t len = text ? strlen(text) : 0;
        free(text);
        if (len > EXAMPLE_MAX)
            return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", "example_payload",
                                 "'example_payload' is larger than %d bytes", EXAMPLE_MAX);
    }
    x->fields = json_object();
    const struct {
        const char *name;
        const json_t *v;
    } all[] = {{"name", f->name},
               {"display_name", f->display_name},
               {"description", f->description},
               {"category", f->category},
               {"schemas", f->schemas},
               {"example_payload", f->example_payload},
               {"feature_flags", f->feature_flags},
               {"documentation_url", f->documentation_url},
               {"archived", f->archived},
               {"deprecated", f->deprecated}};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        if (all[i].v)
            json_object_set_new(x->fields, all[i].name, json_deep_copy(all[i].v));
    return ERR_OK;
}

/* The text a JSON-valued column holds for field (NULL for absent or null). */
static char *json_text(const json_t *v)
{
    if (!v || json_is_null(v))
        return NULL;
    char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!t)
        abort();
    return t;
}

static void set_str(char **dst, const json_t *fields, const char *name, bool reset)
{
    json_t *v = json_object_get(fields, name);
    if (!v && !reset)
        return;
    free(*dst);
    *dst = v && json_is_string(v) ? dup_or_null(json_string_value(v)) : NULL;
}

static void set_json(char **dst, const json_t *fields, const char *name, bool reset)
{
    json_t *v = json_object_get(fields, name);
    if (!v && !reset)
        return;
    free(*dst);
    *dst = json_text(v);
}

/* Apply the op's fields to t; reset: absent fields go back to their defaults (PUT). */
static void merge(struct store_event_type *t, const json_t *fields, bool reset)
{
    set_str(&t->display_name, fields, "display_name", reset);
    set_str(&t->description, fields, "description", reset);
    set_str(&t->category, fields, "category", reset);
    set_str(&t->documentation_url, fields, "documentation_url", reset);
    set_json(&t->schemas_json, fields, "schemas", reset);
    set_json(&t->example_payload, fields, "example_payload", reset);
    set_json(&t->feature_flags_json, fields, "feature_flags", reset);
    json_t *v = json_object_get(fields, "archived");
    if (v || reset)
        t->archived = json_is_true(v);
    v = json_object_get(fields, "deprecated");
    if (v || reset)
        t->deprecated = json_is_true(v);
}

static enum err create(struct store *s, struct service_event_type_op *x, const char *name,
                       struct err_detail *d)
{
    struct store_event_type t = {0};
    snprintf(t.mode, sizeof(t.mode), "%s", x->mode);
    t.name = dup_or_null(name);
    merge(&t, x->fields, true);
    t.created_at_ms = t.updated_at_ms = clock_now_ms();
    id_time_ordered(t.id, sizeof(t.id), "et_", t.created_at_ms);
    enum err e = store_event_type_insert(s, &t, d);
    if (e != ERR_OK) {
        store_event_type_release(&t);
        return e;
    }
    x->type = t;
    x->created = true;
    return ERR_OK;
}

static enum err apply(struct store *s, struct commit_op *op)
{
    struct service_event_type_op *x = (struct service_event_type_op *)op;
    struct err_detail *d = &op->detail;
    store_event_type_release(&x->type);
    x->created = false;
    json_t *name = json_object_get(x->fields, "name");
    if (x->kind == EVENT_TYPE_CREATE) {
        struct service_idem *idem = &x->head.idem;
        enum err e = service_idem_begin(s, x->mode, idem, d);
        if (e != ERR_OK)
            return e;
        if (idem->replayed) {
            x->created = true;
            return store_event_type_get(s, x->mode, idem->rec.resource, &x->type, d);
        }
        e = create(s, x, json_string_value(name), d);
        return e != ERR_OK ? e : service_idem_end(s, x->mode, idem, 201, x->type.id, 0, d);
    }
    struct store_event_type t = {0};
    enum err e = store_event_type_get(s, x->mode, x->target, &t, d);
    if (e == ERR_NOTFOUND && x->kind == EVENT_TYPE_REPLACE && names_is_uid(x->target))
        return create(s, x, x->target, d);
    if (e != ERR_OK)
        return e;
    if (x->kind == EVENT_TYPE_EXPUNGE) {
        e = store_event_type_expunge(s, x->mode, t.id, d);
        store_event_type_release(&t);
        return e;
    }
    if (x->kind == EVENT_TYPE_ARCHIVE)
        t.archived = true;
    else
        merge(&t, x->fields, x->kind == EVENT_TYPE_REPLACE);
    t.updated_at_ms = clock_now_ms();
    e = store_event_type_update(s, &t, d);
    if (e != ERR_OK) {
        store_event_type_release(&t);
        return e;
    }
    x->type = t;
    return ERR_OK;
}

enum err service_event_type_op_init(struct service_event_type_op *x, enum event_type_write kind,
                                    const char *mode, const char *target,
                                    const struct event_type_fields *f, struct err_detail *d)
{
    memset(x, 0, sizeof(*x));
    x->kind = kind;
    snprintf(x->mode, sizeof(x->mode), "%s", mode);
    if (f) {
        enum err e = check_fields(x, f, d);
        if (e != ERR_OK) {
            service_event_type_op_release(x);
            return e;
        }
    } else {
        x->fields = json_object();
    }
    x->target = dup_or_null(target);
    x->head.op.apply = apply;
    return ERR_OK;
}

void service_event_type_op_release(struct service_event_type_op *x)
{
    json_decref(x->fields);
    x->fields = NULL;
    store_event_type_release(&x->type);
    free(x->target);
    x->target = NULL;
}

enum err service_event_type_get(struct store *s, const char *mode, const char *name_or_id,
                                struct store_event_type *out, struct err_detail *d)
{
    return store_event_type_get(s, mode, name_or_id, out, d);
}

enum err service_event_type_list(struct store *s, const char *mode, const char *iterator,
                                 bool include_archived, int limit, struct store_event_type *out,
                                 int *n, bool *has_more, struct err_detail *d)
{
    if (limit < 1 || limit > SERVICE_PAGE_MAX)
        return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", "limit",
                             "'limit' must be from 1 to %d", SERVICE_PAGE_MAX);
    return store_event_type_list(s, mode, iterator, include_archived, limit, out, n, has_more, d);
}

char *service_event_type_example(struct store *s, const char *mode, const char *name)
{
    struct store_event_type t = {0};
    char *out = NULL;
    if (s && store_event_type_get(s, mode, name, &t, NULL) == ERR_OK && t.example_payload) {
        out = t.example_payload;
        t.example_payload = NULL;
    }
    store_event_type_release(&t);
    return out ? out : dup_or_null("{}");
}

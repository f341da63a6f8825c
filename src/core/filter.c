/*
 * filter - endpoint payload/header filters; see filter.h for the contract and
 * docs/filters.md for the rules as users read them.
 *
 * One recursive matcher, match(value, schema), serves both the filter and
 * the values a $ref points at: with `literal` set, object keys are plain
 * field names (an event may hold keys starting with "$"), so a referenced
 * value matches exactly as if it had been written into the filter. A value
 * pointer of NULL stands for a missing field; only $exist:false, $not and
 * the logical operators built on them can match it.
 * Object schemas are conjunctions: operator members test the value itself,
 * field members (as one group) test its fields, and against an array the
 * group must hold for one element. Validation walks the same shapes and
 * counts every value, so the evaluator's recursion on the filter side is
 * bounded by FILTER_MAX_DEPTH; the event side (arrays of arrays, deep
 * equality, referenced subtrees) is bounded by FILTER_MAX_EVAL_DEPTH, and
 * the total work by FILTER_MAX_STEPS, because a referenced subtree matched
 * against another part of the event costs their product.
 * SPDX-License-Identifier: MIT
 */
#include "core/filter.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define LOC_MAX 160

enum op {
    OP_NONE = 0,
    OP_EQ,
    OP_NEQ,
    OP_GT,
    OP_GTE,
    OP_LT,
    OP_LTE,
    OP_IN,
    OP_NIN,
    OP_STARTS_WITH,
    OP_ENDS_WITH,
    OP_EXIST,
    OP_OR,
    OP_AND,
    OP_NOT,
    OP_REF,
};

static const struct {
    const char *name;
    enum op op;
} ops[] = {
    {"$eq", OP_EQ},
    {"$neq", OP_NEQ},
    {"$gt", OP_GT},
    {"$gte", OP_GTE},
    {"$lt", OP_LT},
    {"$lte", OP_LTE},
    {"$in", OP_IN},
    {"$nin", OP_NIN},
    {"$startsWith", OP_STARTS_WITH},
    {"$endsWith", OP_ENDS_WITH},
    {"$exist", OP_EXIST},
    {"$or", OP_OR},
    {"$and", OP_AND},
    {"$not", OP_NOT},
    {"$ref", OP_REF},
};

/* Names people bring from other filter languages, for the error hint. */
static const struct {
    const char *alias;
    const char *name;
} op_aliases[] = {
    {"$exists", "$exist"},
    {"$ne", "$neq"},
    {"$contains", "$in"},
    {"$notin", "$nin"},
    {"$startswith", "$startsWith"},
    {"$endswith", "$endsWith"},
    {"$starts_with", "$startsWith"},
    {"$ends_with", "$endsWith"},
};

static bool is_op_key(const char *key, size_t len)
{
    return len > 0 && key[0] == '$';
}

static enum op op_lookup(const char *key, size_t len)
{
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (strlen(ops[i].name) == len && !memcmp(ops[i].name, key, len))
            return ops[i].op;
    return OP_NONE;
}

static const char *op_name(enum op op)
{
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (ops[i].op == op)
            return ops[i].name;
    return "?";
}

static char ascii_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool ascii_case_equal(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++)
        if (ascii_lower(a[i]) != ascii_lower(b[i]))
            return false;
    return true;
}

/* The operator an unknown "$..." key was probably meant to be, or NULL. */
static const char *op_hint(const char *key, size_t len)
{
    for (size_t i = 0; i < sizeof(op_aliases) / sizeof(op_aliases[0]); i++)
        if (ascii_case_equal(op_aliases[i].alias, strlen(op_aliases[i].alias), key, len))
            return op_aliases[i].name;
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (ascii_case_equal(ops[i].name, strlen(ops[i].name), key, len))
            return ops[i].name;
    return NULL;
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "a value";
}

/* An operand of the form {"$ref": ...} (exactly one member). */
static bool is_ref_operand(const json_t *v)
{
    return json_is_object(v) && json_object_size(v) == 1 && json_object_get(v, "$ref");
}

/*
 * Walk a $ref path: dotted segments, each a field name (a name of digits
 * also indexes an array), optionally followed by [n] indexes ("a.b[0].c",
 * "items.0.id", "[1]"). Returns false on a syntax error. With doc NULL only
 * the syntax is checked; otherwise *out is the value found, or NULL when it
 * does not exist. fold compares field names ASCII-case-insensitively.
 */
static const json_t *get_field(const json_t *obj, const char *key, size_t len, bool fold);

static bool parse_index(const char *p, size_t len, size_t *idx)
{
    if (len == 0 || len > 9)
        return false;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        n = n * 10 + (size_t)(p[i] - '0');
    }
    *idx = n;
    return true;
}

static const json_t *step_name(const json_t *cur, const char *name, size_t len, bool fold)
{
    size_t idx;
    if (json_is_object(cur))
        return get_field(cur, name, len, fold);
    if (json_is_array(cur) && parse_index(name, len, &idx))
        return json_array_get(cur, idx);
    return NULL;
}

static bool path_walk(const char *p, size_t len, const json_t *doc, bool fold, const json_t **out)
{
    const json_t *cur = doc;
    size_t i = 0;
    if (len == 0)
        return false;
    for (;;) {
        size_t start = i;
        while (i < len && p[i] != '.' && p[i] != '[' && p[i] != ']')
            i++;
        if (i < len && p[i] == ']')
            return false;
        if (i == start && (i == len || p[i] != '['))
            return false; /* empty segment */
        if (i > start && cur)
            cur = step_name(cur, p + start, i - start, fold);
        while (i < len && p[i] == '[') {
            size_t open = ++i, idx;
            while (i < len && p[i] != ']')
                i++;
            if (i == len || !parse_index(p + open, i - open, &idx))
                return false;
            i++; /* ']' */
            if (cur)
                cur = json_is_array(cur) ? json_array_get(cur, idx) : NULL;
        }
        if (i == len)
            break;
        if (p[i] != '.' || i + 1 == len)
            return false;
        i++;
    }
    if (out)
        *out = cur;
    return true;
}

/* ---- validation ---------------------------------------------------------- */

struct vctx {
    struct err_detail *d;
    size_t nodes;
    size_t bytes;
    char loc[LOC_MAX];
    size_t loc_len;
};

/* Append to the location ("body.items[2].$or[0]"); returns the length to restore. */
static size_t __attribute__((format(printf, 2, 3))) loc_push(struct vctx *v, const char *fmt, ...)
{
    size_t old = v->loc_len;
    size_t room = sizeof(v->loc) - v->loc_len;
    if (room <= 4)
        return old; /* already cut short with "..." */
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(v->loc + v->loc_len, room, fmt, ap);
    va_end(ap);
    if (n < 0) {
        v->loc[old] = '\0';
    } else if ((size_t)n >= room) {
        memcpy(v->loc + sizeof(v->loc) - 4, "...", 4);
        v->loc_len = sizeof(v->loc) - 1;
    } else {
        v->loc_len += (size_t)n;
    }
    return old;
}

static void loc_pop(struct vctx *v, size_t old)
{
    v->loc_len = old;
    v->loc[old] = '\0';
}

static size_t loc_push_key(struct vctx *v, const char *key, size_t len)
{
    int n = len > 64 ? 64 : (int)len;
    return loc_push(v, ".%.*s%s", n, key, len > 64 ? "..." : "");
}

/* Count one value against the size limits and its depth against FILTER_MAX_DEPTH. */
static enum err count_value(struct vctx *v, const json_t *s, int depth)
{
    if ((json_is_object(s) || json_is_array(s)) && depth > FILTER_MAX_DEPTH)
        return err_set(v->d, ERR_INVAL, FILTER_ERR_CODE, "filter nests deeper than %d levels at %s",
                       FILTER_MAX_DEPTH, v->loc);
    if (++v->nodes > FILTER_MAX_NODES)
        return err_set(v->d, ERR_INVAL, FILTER_ERR_CODE, "filter is too large: more than %d values",
                       FILTER_MAX_NODES);
    if (json_is_string(s))
        v->bytes += json_string_length(s);
    if (v->bytes > FILTER_MAX_BYTES)
        return err_set(v->d, ERR_INVAL, FILTER_ERR_CODE,
                       "filter is too large: more than %d bytes of text", FILTER_MAX_BYTES);
    return ERR_OK;
}

/* A plain JSON value (an operand): counted and depth-checked, never interpreted. */
static enum err check_literal(struct vctx *v, const json_t *s, int depth)
{
    enum err e = count_value(v, s, depth);
    if (e)
        return e;
    if (json_is_array(s)) {
        size_t i;
        const json_t *item;
        json_array_foreach(s, i, item)
        {
            if ((e = check_literal(v, item, depth + 1)))
                return e;
        }
    } else if (json_is_object(s)) {
        const char *key;
        size_t len;
        json_t *val;
        json_object_keylen_foreach((json_t *)s, key, len, val)
        {
            v->bytes += len;
            if ((e = check_literal(v, val, depth + 1)))
                return e;
        }
    }
    return ERR_OK;
}

static enum err check_ref_path(struct vctx *v, const char *opname, const json_t *path)
{
    if (!json_is_string(path))
        return err_set(v->d, ERR_INVAL, FILTER_ERR_CODE,
                       "operator \"%s\" at %s needs a string path, not %s", opname, v->loc,
                       type_name(path));
    const char *p = json_string_value(path);
    size_t len = json_string_length(path);
    if (len > FILTER_MAX_REF_PATH)
        return err_set(v->d, ERR_INVAL, FILTER_ERR_CODE,
                       "operator \"%s\" at %s has a path longer than %d bytes", opname, v->loc,
                       FILTER_MAX_REF_PATH);
    if (!path_walk(p, len, NULL, false, NULL))
        return err_set(v->d, ERR_INVAL, FILTER_ERR_CODE,
                       "operator \"%s\" at %s has an invalid path \"%.64s\": expected "
                       "dotted field names with optional [n] indexes",
                       opname, v->loc, p);
    return ERR_OK;
}

/* An operand of opname that may be a {"$ref": path} instead of a value; *is_ref tells which. */
static enum err check_maybe_ref(struct vctx *v, const char *opname, const json_t *operand,
                                int depth, bool *is_ref)
{
    *is_ref = is_ref_operand(operand);
    if (!*is_ref)
        return ERR_OK;
    enum err e = count_value(v, operand, depth);
    if (!e) {
        v->bytes += 4; /* "$ref" */
        e = count_value(v, json_object_get(operand, "$ref"), depth + 1);
    }
    if (!e) {
        size_t old = loc_push(v, ".%s", opname);
        e = check_ref_path(v, "$ref", json_object_get(operand, "$ref"));
        loc_pop(v, old);
    }
    return e;
}

static enum err check_schema(struct vctx *v, const json_t *s, int depth);

static enum err check_op(struct vctx *v, enum op op, const json_t *operand, int depth)
{
    const char *name = op_name(op);
    bool is_ref = false;
    enum err e = ERR_OK;

    switch (op) {
    case OP_EQ:
    case OP_NEQ:
        if ((e = check_maybe_ref(v, name, operand, depth, &is_ref)) || is_ref)
            return e;
        return check_literal(v, operand, depth);
    case OP_GT:
    case OP_GTE:
    case OP_LT:
    case OP_LTE:
        if ((e = check_maybe_ref(v, name, operand, depth, &is_ref)) || is_ref)
            return e;
        if (!json_is_number(operand) && !json_is_string(operand))
            return err_set(v->d, ERR_INVAL, FILTER_ERR_CODE,
                           "operator \"%s\" at %s needs a number or a string, not %s", name, v->loc,
                           type_name(operand));
        return count_value(v, operand, depth);
    case OP_IN:
    case OP_NIN:
        if ((e = check_maybe_ref(v, name, operand, depth, &is_ref)) || is_ref)
            return e;
        if (!json_is_array(operand) && !json_is_string(operand))
            return err_set(v->d, ERR_INVAL, FILTER_ERR_CODE,
                           "operator \"%s\" at %s needs an array or a string, not %s", name, v->loc,
                           type_name(operand));
        return check_literal(v, operand, depth);
    case OP_STARTS_WITH:
    case OP_ENDS_WITH:
        if ((e = check_maybe_ref(v, name, operand, depth, &is_ref)) || is_ref)
            return e;
        if (!json_is_string(operand))
            return err_set(v->d, ERR_INVAL, FILTER_ERR_CODE,
                           "operator \"%s\" at %s needs a string, not %s", name, v->loc,
                           type_name(operand));
        return count_value(v, operand, depth);
    case OP_EXIST:
        if (!json_is_boolean(operand))
            return err_set(v->d, ERR_INVAL, FILTER_ERR_CODE,
                           "operator \"%s\" at %s needs true or false, not %s", name, v->loc,
                           type_name(operand));
        return count_value(v, operand, depth);
    case OP_OR:
    case OP_AND: {
        if (!json_is_array(operand) || json_array_size(operand) == 0)
            return err_set(v->d, ERR_INVAL, FILTER_ERR_CODE,
                           "operator \"%s\" at %s needs a non-empty array of schemas, not %s%s",
                           name, v->loc, json_is_array(operand) ? "an " : "",
                           json_is_array(operand) ? "empty array" : type_name(operand));
        if ((e = count_value(v, operand, depth)))
            return e;
        size_t i;
        const json_t *item;
        json_array_foreach(operand, i, item)
        {
            size_t old = loc_push(v, ".%s[%zu]", name, i);
            e = check_schema(v, item, depth + 1);
            loc_pop(v, old);
            if (e)
                return e;
        }
        return ERR_OK;
    }
    case OP_NOT: {
        size_t old = loc_push(v, ".$not");
        e = check_schema(v, operand, depth);
        loc_pop(v, old);
        return e;
    }
    case OP_REF:
        if ((e = count_value(v, operand, depth)))
            return e;
        return check_ref_path(v, name, operand);
    case OP_NONE:
        break;
    }
    return err_set(v->d, ERR_INVAL, FILTER_ERR_CODE, "unknown operator at %s", v->loc);
}

static enum err check_schema(struct vctx *v, const json_t *s, int depth)
{
    enum err e = count_value(v, s, depth);
    if (e)
        return e;
    if (json_is_array(s)) {
        size_t i;
        const json_t *item;
        json_array_foreach(s, i, item)
        {
            size_t old = loc_push(v, "[%zu]", i);
            e = check_schema(v, item, depth + 1);
            loc_pop(v, old);
            if (e)
                return e;
        }
        return ERR_OK;
    }
    if (!json_is_object(s))
        return ERR_OK;
    const char *key;
    size_t len;
    json_t *val;
    json_object_keylen_foreach((json_t *)s, key, len, val)
    {
        v->bytes += len;
        if (is_op_key(key, len)) {
            enum op op = op_lookup(key, len);
            if (op == OP_NONE) {
                const char *hint = op_hint(key, len);
                int n = len > 64 ? 64 : (int)len;
                return err_set(v->d, ERR_INVAL, FILTER_ERR_CODE,
                               "unknown operator \"%.*s\" at %s%s%s%s", n, key, v->loc,
                               hint ? " (did you mean \"" : "", hint ? hint : "",
                               hint ? "\"?)" : "");
            }
            e = check_op(v, op, val, depth + 1);
        } else {
            size_t old = loc_push_key(v, key, len);
            e = check_schema(v, val, depth + 1);
            loc_pop(v, old);
        }
        if (e)
            return e;
    }
    return ERR_OK;
}

enum err filter_validate(const json_t *filter, struct err_detail *d)
{
    struct vctx v = {.d = d};
    if (!filter || json_is_null(filter))
        return ERR_OK;
    if (!json_is_object(filter))
        return err_set(d, ERR_INVAL, FILTER_ERR_CODE,
                       "filter must be an object with \"body\" and/or \"headers\", not %s",
                       type_name(filter));
    const char *key;
    size_t len;
    json_t *part;
    json_object_keylen_foreach((json_t *)filter, key, len, part)
    {
        bool is_body = len == 4 && !memcmp(key, "body", 4);
        bool is_headers = len == 7 && !memcmp(key, "headers", 7);
        if (!is_body && !is_headers) {
            int n = len > 64 ? 64 : (int)len;
            return err_set(d, ERR_INVAL, FILTER_ERR_CODE,
                           "unknown filter part \"%.*s\": expected \"body\" or \"headers\"", n,
                           key);
        }
        if (json_is_null(part))
            continue;
        if (is_headers && !json_is_object(part))
            return err_set(d, ERR_INVAL, FILTER_ERR_CODE,
                           "headers filter must be an object of header names, not %s",
                           type_name(part));
        loc_pop(&v, 0);
        loc_push(&v, "%s", key);
        enum err e = check_schema(&v, part, 1);
        if (e)
            return e;
    }
    return ERR_OK;
}

/* ---- evaluation ---------------------------------------------------------- */

struct mctx {
    const json_t *root; /* the document $ref paths start from; NULL when missing */
    bool fold;          /* header names: compare field names case-insensitively */
    bool gave_up;       /* a bound was hit: the whole part does not match */
    unsigned long steps;
};

static const json_t *get_field(const json_t *obj, const char *key, size_t len, bool fold)
{
    if (!fold)
        return json_object_getn(obj, key, len);
    const char *k;
    size_t klen;
    json_t *val;
    json_object_keylen_foreach((json_t *)obj, k, klen, val)
    {
        if (ascii_case_equal(k, klen, key, len))
            return val;
    }
    return NULL;
}

/* Spend one step at this depth; false (and gave_up) once a bound is passed. */
static bool tick(struct mctx *c, int depth)
{
    if (c->gave_up)
        return false;
    if (++c->steps > FILTER_MAX_STEPS || depth > FILTER_MAX_EVAL_DEPTH) {
        c->gave_up = true;
        return false;
    }
    return true;
}

static const json_t *resolve_ref(const struct mctx *c, const json_t *path)
{
    const json_t *out = NULL;
    if (!c->root || !json_is_string(path))
        return NULL;
    if (!path_walk(json_string_value(path), json_string_length(path), c->root, c->fold, &out))
        return NULL;
    return out;
}

static int num_cmp(const json_t *a, const json_t *b)
{
    if (json_is_integer(a) && json_is_integer(b)) {
        json_int_t x = json_integer_value(a), y = json_integer_value(b);
        return (x > y) - (x < y);
    }
    /* XXX: an integer beyond 2^53 loses precision against a real. */
    double x = json_number_value(a), y = json_number_value(b);
    return (x > y) - (x < y);
}

static int str_cmp(const json_t *a, const json_t *b)
{
    size_t alen = json_string_length(a), blen = json_string_length(b);
    int r = memcmp(json_string_value(a), json_string_value(b), alen < blen ? alen : blen);
    if (r)
        return r < 0 ? -1 : 1;
    return (alen > blen) - (alen < blen);
}

/* Deep equality: numbers by value (1 == 1.0), arrays in order, objects in any key order. */
static bool deep_equal(struct mctx *c, const json_t *a, const json_t *b, int depth)
{
    if (!tick(c, depth))
        return false;
    if (json_is_number(a) && json_is_number(b))
        return num_cmp(a, b) == 0;
    if (json_typeof(a) != json_typeof(b))
        return false;
    switch (json_typeof(a)) {
    case JSON_STRING:
        return str_cmp(a, b) == 0;
    case JSON_ARRAY: {
        size_t n = json_array_size(a);
        if (n != json_array_size(b))
            return false;
        for (size_t i = 0; i < n; i++)
            if (!deep_equal(c, json_array_get(a, i), json_array_get(b, i), depth + 1))
                return false;
        return true;
    }
    case JSON_OBJECT: {
        if (json_object_size(a) != json_object_size(b))
            return false;
        const char *key;
        size_t len;
        json_t *val;
        json_object_keylen_foreach((json_t *)a, key, len, val)
        {
            const json_t *other = json_object_getn(b, key, len);
            if (!other || !deep_equal(c, val, other, depth + 1))
                return false;
        }
        return true;
    }
    default: /* true, false, null: equal types are equal values */
        return true;
    }
}

/* $gt/$gte/$lt/$lte on one scalar: numbers with numbers, strings with strings (bytewise). */
static bool compare_scalar(const json_t *v, const json_t *x, enum op op)
{
    int r;
    if (json_is_number(v) && json_is_number(x))
        r = num_cmp(v, x);
    else if (json_is_string(v) && json_is_string(x))
        r = str_cmp(v, x);
    else
        return false;
    switch (op) {
    case OP_GT:
        return r > 0;
    case OP_GTE:
        return r >= 0;
    case OP_LT:
        return r < 0;
    case OP_LTE:
        return r <= 0;
    default:
        return false;
    }
}

/* $startsWith/$endsWith on one scalar. */
static bool affix_scalar(const json_t *v, const json_t *x, enum op op)
{
    if (!json_is_string(v) || !json_is_string(x))
        return false;
    size_t vlen = json_string_length(v), xlen = json_string_length(x);
    if (xlen > vlen)
        return false;
    const char *s = json_string_value(v);
    if (op == OP_ENDS_WITH)
        s += vlen - xlen;
    return !memcmp(s, json_string_value(x), xlen);
}

static bool contains_substring(const json_t *v, const json_t *x)
{
    if (!json_is_string(v))
        return false;
    size_t vlen = json_string_length(v), xlen = json_string_length(x);
    const char *s = json_string_value(v), *t = json_string_value(x);
    if (xlen == 0)
        return true;
    for (size_t i = 0; i + xlen <= vlen; i++)
        if (s[i] == t[0] && !memcmp(s + i, t, xlen))
            return true;
    return false;
}

/* $in on one scalar: one of the array's items, or containing the string. */
static bool in_scalar(struct mctx *c, const json_t *v, const json_t *x, int depth)
{
    if (json_is_string(x))
        return contains_substring(v, x);
    size_t i;
    const json_t *item;
    json_array_foreach(x, i, item)
    {
        if (deep_equal(c, v, item, depth + 1))
            return true;
        if (c->gave_up)
            return false;
    }
    return false;
}

/* A scalar operator on a value: an array passes when one of its elements does. */
static bool scalar_op(struct mctx *c, enum op op, const json_t *v, const json_t *x, int depth)
{
    if (json_is_array(v)) {
        size_t i;
        const json_t *e;
        json_array_foreach(v, i, e)
        {
            if (!json_is_array(e) && scalar_op(c, op, e, x, depth + 1))
                return true;
            if (!tick(c, depth))
                return false;
        }
        return false;
    }
    switch (op) {
    case OP_GT:
    case OP_GTE:
    case OP_LT:
    case OP_LTE:
        return compare_scalar(v, x, op);
    case OP_STARTS_WITH:
    case OP_ENDS_WITH:
        return affix_scalar(v, x, op);
    case OP_IN:
        return in_scalar(c, v, x, depth);
    default:
        return false;
    }
}

static bool match(struct mctx *c, const json_t *v, const json_t *s, bool literal, int depth);

static bool op_holds(struct mctx *c, const json_t *v, enum op op, const json_t *operand, int depth)
{
    size_t i;
    const json_t *item;

    switch (op) {
    case OP_OR:
        if (!json_is_array(operand))
            return false;
        json_array_foreach(operand, i, item)
        {
            if (match(c, v, item, false, depth + 1))
                return true;
        }
        return false;
    case OP_AND:
        if (!json_is_array(operand))
            return false;
        json_array_foreach(operand, i, item)
        {
            if (!match(c, v, item, false, depth + 1))
                return false;
        }
        return true;
    case OP_NOT:
        return !match(c, v, operand, false, depth + 1);
    case OP_EXIST:
        return json_is_boolean(operand) && (v != NULL) == json_is_true(operand);
    case OP_REF: {
        const json_t *target = resolve_ref(c, operand);
        return v && target && match(c, v, target, true, depth + 1);
    }
    default:
        break;
    }

    /* Value operators: a missing field passes none of them. */
    if (!v)
        return false;
    const json_t *x = operand;
    if (is_ref_operand(operand) && !(x = resolve_ref(c, json_object_get(operand, "$ref"))))
        return false;
    switch (op) {
    case OP_EQ:
        return deep_equal(c, v, x, depth + 1);
    case OP_NEQ:
        return !deep_equal(c, v, x, depth + 1);
    case OP_GT:
    case OP_GTE:
    case OP_LT:
    case OP_LTE:
        if (!json_is_number(x) && !json_is_string(x))
            return false;
        return scalar_op(c, op, v, x, depth);
    case OP_STARTS_WITH:
    case OP_ENDS_WITH:
        return json_is_string(x) && scalar_op(c, op, v, x, depth);
    case OP_IN:
        return (json_is_array(x) || json_is_string(x)) && scalar_op(c, OP_IN, v, x, depth);
    case OP_NIN:
        /* The negation of $in where $in applies: a substring test needs a string or an array. */
        if (json_is_string(x) && !json_is_string(v) && !json_is_array(v))
            return false;
        if (!json_is_array(x) && !json_is_string(x))
            return false;
        return !scalar_op(c, OP_IN, v, x, depth);
    default: /* an unknown operator in an unvalidated filter */
        return false;
    }
}

/* The field members of s (all members when literal) against v. */
static bool fields_match(struct mctx *c, const json_t *v, const json_t *s, bool literal, int depth)
{
    if (!tick(c, depth))
        return false;
    if (json_is_array(v)) {
        size_t i;
        const json_t *e;
        json_array_foreach(v, i, e)
        {
            if (fields_match(c, e, s, literal, depth + 1))
                return true;
        }
        return false;
    }
    if (json_object_size(s) == 0)
        return json_is_object(v);
    const char *key;
    size_t len;
    json_t *sub;
    json_object_keylen_foreach((json_t *)s, key, len, sub)
    {
        if (!literal && is_op_key(key, len))
            continue;
        const json_t *child = json_is_object(v) ? get_field(v, key, len, c->fold) : NULL;
        if (!match(c, child, sub, literal, depth + 1))
            return false;
    }
    return true;
}

/* v is the event value (NULL when missing), s the schema. */
static bool match(struct mctx *c, const json_t *v, const json_t *s, bool literal, int depth)
{
    if (!tick(c, depth))
        return false;

    if (json_is_object(s)) {
        bool has_fields = json_object_size(s) == 0;
        const char *key;
        size_t len;
        json_t *operand;
        json_object_keylen_foreach((json_t *)s, key, len, operand)
        {
            if (literal || !is_op_key(key, len))
                has_fields = true;
            else if (!op_holds(c, v, op_lookup(key, len), operand, depth))
                return false;
        }
        return !has_fields || fields_match(c, v, s, literal, depth);
    }

    if (!v)
        return false;

    size_t i;
    const json_t *item;
    if (json_is_array(s)) {
        /* The event array holds something matching each item of the schema array. */
        if (!json_is_array(v))
            return false;
        json_array_foreach(s, i, item)
        {
            bool found = false;
            size_t j;
            const json_t *e;
            json_array_foreach(v, j, e)
            {
                if ((found = match(c, e, item, literal, depth + 1)))
                    break;
            }
            if (!found)
                return false;
        }
        return true;
    }

    /* A primitive: equal, or an element of the event array. */
    if (json_is_array(v)) {
        json_array_foreach(v, i, item)
        {
            if (match(c, item, s, literal, depth + 1))
                return true;
        }
        return false;
    }
    return deep_equal(c, v, s, depth);
}

static bool part_matches(const json_t *schema, const json_t *doc, bool fold)
{
    struct mctx c = {.root = doc, .fold = fold};
    bool ok = match(&c, doc, schema, false, 0);
    return ok && !c.gave_up;
}

bool filter_match(const json_t *filter, const json_t *body, const json_t *headers)
{
    if (!filter || json_is_null(filter))
        return true;
    if (!json_is_object(filter))
        return false;
    const json_t *body_schema = json_object_get(filter, "body");
    const json_t *headers_schema = json_object_get(filter, "headers");
    if (body_schema && !json_is_null(body_schema) && !part_matches(body_schema, body, false))
        return false;
    if (headers_schema && !json_is_null(headers_schema)) {
        json_t *empty = headers ? NULL : json_object();
        bool ok = part_matches(headers_schema, headers ? headers : empty, true);
        json_decref(empty);
        if (!ok)
            return false;
    }
    return true;
}

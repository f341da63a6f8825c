/*
 * dedupe - deduplication rules and keys; see dedupe.h for the contract and
 * docs/policies/deduplicate.md for the rules as users read them.
 *
 * The key is computed in three steps: build the document as a jansson tree
 * (parsing the payload, lower-casing header names, applying the paths),
 * serialise it canonically into one growing buffer, hash the buffer. The
 * payload is bounded by the caller (max_payload_bytes) and the document is
 * no larger than payload plus headers plus escapes, so the buffer needs no
 * ceiling of its own; recursion depth is bounded by jansson's parser
 * (JSON_PARSER_MAX_DEPTH) for payloads and by the headers being flat.
 * SPDX-License-Identifier: MIT
 */
#include "core/dedupe.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/validate.h"

#define FIELD_WINDOW "deduplicate.window_ms"
#define FIELD_INCLUDE "deduplicate.include_fields"
#define FIELD_EXCLUDE "deduplicate.exclude_fields"

/* ---- canonical JSON ------------------------------------------------------- */

struct buf {
    char *p;
    size_t len, cap;
};

static void put(struct buf *b, const void *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            abort();
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void put_c(struct buf *b, char c)
{
    put(b, &c, 1);
}

static void put_string(struct buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    put_c(b, '"');
    size_t run = 0; /* bytes copied as they are, flushed in one go */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[7];
        switch (c) {
        case '"':
            esc = "\\\"";
            break;
        case '\\':
            esc = "\\\\";
            break;
        case '\b':
            esc = "\\b";
            break;
        case '\f':
            esc = "\\f";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        case '\t':
            esc = "\\t";
            break;
        default:
            if (c < 0x20) {
                u[0] = '\\';
                u[1] = 'u';
                u[2] = '0';
                u[3] = '0';
                u[4] = hex[c >> 4];
                u[5] = hex[c & 15];
                u[6] = '\0';
                esc = u;
            }
        }
        if (!esc) {
            run++;
            continue;
        }
        put(b, s + i - run, run);
        run = 0;
        put(b, esc, strlen(esc));
    }
    put(b, s + n - run, run);
    put_c(b, '"');
}

/* 2^53: doubles below it hold every integer exactly. */
#define EXACT_INT_LIMIT 9007199254740992.0

static void put_number(struct buf *b, const json_t *v)
{
    char num[40];
    if (json_is_integer(v)) {
        snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
    } else {
        double x = json_real_value(v);
        if (isfinite(x) && x == trunc(x) && fabs(x) < EXACT_INT_LIMIT)
            snprintf(num, sizeof(num), "%lld", (long long)x); /* -0.0 gives "0" */
        else
            snprintf(num, sizeof(num), "%.17g", x);
    }
    put(b, num, strlen(num));
}

struct member {
    const char *key;
    size_t key_len;
    const json_t *value;
};

static int member_cmp(const void *a, const void *b)
{
    const struct member *x = a, *y = b;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = memcmp(x->key, y->key, n);
    if (c != 0)
        return c;
    return (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

static void put_value(struct buf *b, const json_t *v);

static void put_object(struct buf *b, const json_t *v)
{
    size_t n = json_object_size(v), i = 0;
    struct member *m = n ? calloc(n, sizeof(*m)) : NULL;
    if (n && !m)
        abort();
    const char *key;
    size_t key_len;
    json_t *val;
    json_object_keylen_foreach((json_t *)v, key, key_len, val)
    {
        m[i].key = key;
        m[i].key_len = key_len;
        m[i].value = val;
        i++;
    }
    if (n > 1)
        qsort(m, n, sizeof(*m), member_cmp);
    put_c(b, '{');
    for (i = 0; i < n; i++) {
        if (i)
            put_c(b, ',');
        put_string(b, m[i].key, m[i].key_len);
        put_c(b, ':');
        put_value(b, m[i].value);
    }
    put_c(b, '}');
    free(m);
}

static void put_value(struct buf *b, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        put_object(b, v);
        return;
    case JSON_ARRAY: {
        put_c(b, '[');
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                put_c(b, ',');
            put_value(b, json_array_get(v, i));
        }
        put_c(b, ']');
        return;
    }
    case JSON_STRING:
        put_string(b, json_string_value(v), json_string_length(v));
        return;
    case JSON_INTEGER:
    case JSON_REAL:
        put_number(b, v);
        return;
    case JSON_TRUE:
        put(b, "true", 4);
        return;
    case JSON_FALSE:
        put(b, "false", 5);
        return;
    case JSON_NULL:
        put(b, "null", 4);
        return;
    }
}

char *dedupe_canonical_json(const json_t *v)
{
    struct buf b = {NULL, 0, 0};
    if (v)
        put_value(&b, v);
    else
        put(&b, "null", 4);
    return b.p;
}

/* ---- paths ---------------------------------------------------------------- */

static bool is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static char ascii_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

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

/*
 * One step of a body path at p[*i]: ".name" or "[n]". Sets the name (or the
 * index) and advances *i; false on a syntax error.
 */
struct step {
    const char *name;
    size_t name_len;
    bool is_index; /* "[n]": arrays only */
    size_t index;
};

static bool next_step(const char *p, size_t len, size_t *i, struct step *st)
{
    memset(st, 0, sizeof(*st));
    if (p[*i] == '.') {
        size_t start = ++*i;
        while (*i < len && p[*i] != '.' && p[*i] != '[' && p[*i] != ']')
            (*i)++;
        if (*i == start || (*i < len && p[*i] == ']'))
            return false;
        st->name = p + start;
        st->name_len = *i - start;
        return true;
    }
    if (p[*i] == '[') {
        size_t start = ++*i;
        while (*i < len && p[*i] != ']')
            (*i)++;
        if (*i == len || !parse_index(p + start, *i - start, &st->index))
            return false;
        (*i)++;
        st->is_index = true;
        return true;
    }
    return false;
}

/* Where a path points: its part and, for body paths, the steps after "body". */
enum root { ROOT_BODY, ROOT_HEADERS };

static bool split_root(const char *path, enum root *root, const char **rest)
{
    if (strncmp(path, "body", 4) == 0 && (path[4] == '\0' || path[4] == '.' || path[4] == '[')) {
        *root = ROOT_BODY;
        *rest = path + 4;
        return true;
    }
    if (strncmp(path, "headers", 7) == 0 && (path[7] == '\0' || path[7] == '.')) {
        *root = ROOT_HEADERS;
        *rest = path[7] ? path + 8 : path + 7;
        return true;
    }
    return false;
}

/*
 * Check one path and write its normalised form (header names lower-cased)
 * into a new string. Returns NULL with *why set on a bad path.
 */
static char *normalise_path(const char *path, size_t len, const char **why)
{
    enum root root;
    const char *rest;
    if (len == 0 || len > DEDUPE_MAX_PATH || memchr(path, '\0', len)) {
        *why = "must be a path of 1 to 256 bytes";
        return NULL;
    }
    if (!split_root(path, &root, &rest)) {
        *why = "must be 'body', 'headers', or start with 'body.' or 'headers.'";
        return NULL;
    }
    char *out = strdup(path);
    if (!out)
        abort();
    size_t rest_off = (size_t)(rest - path);
    if (root == ROOT_HEADERS) {
        if (path[7] == '.' && rest[0] == '\0') {
            *why = "names no header after 'headers.'";
            free(out);
            return NULL;
        }
        for (size_t i = rest_off; i < len; i++) {
            if (!is_tchar((unsigned char)path[i])) {
                *why = "is not a header name: use 'headers.<name>' with the characters HTTP "
                       "allows in a name";
                free(out);
                return NULL;
            }
            out[i] = ascii_lower(path[i]);
        }
        return out;
    }
    size_t rlen = len - rest_off, i = 0;
    while (i < rlen) {
        struct step st;
        if (!next_step(rest, rlen, &i, &st)) {
            *why = "is not a path: use dotted names after 'body.', with [n] or a number for "
                   "an array index (body.items[0].id)";
            free(out);
            return NULL;
        }
    }
    return out;
}

/* The value a body path after "body" points at, or NULL when missing. */
static json_t *walk(json_t *cur, const char *p, size_t len)
{
    size_t i = 0;
    while (cur && i < len) {
        struct step st;
        if (!next_step(p, len, &i, &st))
            return NULL; /* paths were checked at parse */
        if (st.is_index) {
            cur = json_is_array(cur) ? json_array_get(cur, st.index) : NULL;
        } else if (json_is_object(cur)) {
            cur = json_object_getn(cur, st.name, st.name_len);
        } else if (json_is_array(cur) && parse_index(st.name, st.name_len, &st.index)) {
            cur = json_array_get(cur, st.index);
        } else {
            cur = NULL;
        }
    }
    return cur;
}

/* Remove what a body path after "body" (non-empty) points at: an object
 * member is deleted, an array element becomes null. */
static void remove_at(json_t *body, const char *p, size_t len)
{
    /* The last step starts at the last '.' or '[' outside brackets. */
    size_t last = 0, i = 0;
    while (i < len) {
        last = i;
        struct step st;
        if (!next_step(p, len, &i, &st))
            return;
    }
    json_t *parent = walk(body, p, last);
    struct step st;
    i = last;
    if (!parent || !next_step(p, len, &i, &st))
        return;
    if (st.is_index) {
        if (json_is_array(parent) && st.index < json_array_size(parent))
            json_array_set_new(parent, st.index, json_null());
    } else if (json_is_object(parent)) {
        json_object_deln(parent, st.name, st.name_len);
    } else if (json_is_array(parent) && parse_index(st.name, st.name_len, &st.index) &&
               st.index < json_array_size(parent)) {
        json_array_set_new(parent, st.index, json_null());
    }
}

/* ---- policy --------------------------------------------------------------- */

void dedupe_policy_init(struct dedupe_policy *p)
{
    memset(p, 0, sizeof(*p));
    p->mode = DEDUPE_WHOLE;
}

void dedupe_policy_release(struct dedupe_policy *p)
{
    for (size_t i = 0; i < p->n_fields; i++)
        free(p->fields[i]);
    dedupe_policy_init(p);
}

static enum err parse_fields(const json_t *v, const char *field, bool allow_empty,
                             struct dedupe_policy *p, struct err_detail *d)
{
    size_t n = json_array_size(v);
    if (!json_is_array(v) || n > DEDUPE_MAX_FIELDS || (n == 0 && !allow_empty))
        return err_set_field(d, ERR_INVAL, DEDUPE_ERR_CODE, field,
                             "'%s' must be an array of %d to %d paths such as \"body.id\" or "
                             "\"headers.x-request-id\"",
                             field, allow_empty ? 0 : 1, DEDUPE_MAX_FIELDS);
    bool whole_body = false, whole_headers = false;
    for (size_t i = 0; i < n; i++) {
        const json_t *item = json_array_get(v, i);
        if (!json_is_string(item))
            return err_set_field(d, ERR_INVAL, DEDUPE_ERR_CODE, field,
                                 "'%s' item %zu must be a string path such as \"body.id\"", field,
                                 i);
        const char *why = NULL;
        const char *s = json_string_value(item);
        char *norm = normalise_path(s, json_string_length(item), &why);
        if (!norm)
            return err_set_field(d, ERR_INVAL, DEDUPE_ERR_CODE, field, "'%s' item %zu '%.64s' %s",
                                 field, i, s, why);
        whole_body = whole_body || strcmp(norm, "body") == 0;
        whole_headers = whole_headers || strcmp(norm, "headers") == 0;
        p->fields[p->n_fields++] = norm;
    }
    if (p->mode == DEDUPE_EXCLUDE && whole_body && whole_headers)
        return err_set_field(d, ERR_INVAL, DEDUPE_ERR_CODE, field,
                             "'%s' excludes both 'body' and 'headers', which leaves nothing to "
                             "tell messages apart",
                             field);
    return ERR_OK;
}

enum err dedupe_policy_parse(const json_t *v, struct dedupe_policy *out, struct err_detail *d)
{
    static const char *const known[] = {"window_ms", "include_fields", "exclude_fields"};
    if (!json_is_object(v))
        return err_set_field(d, ERR_INVAL, DEDUPE_ERR_CODE, "deduplicate",
                             "'deduplicate' must be an object such as {\"window_ms\": 60000, "
                             "\"include_fields\": [\"body.id\"]}, or null");
    enum err ke =
        validate_known_members(v, "deduplicate", known, sizeof(known) / sizeof(known[0]),
                               "window_ms, include_fields and exclude_fields", DEDUPE_ERR_CODE, d);
    if (ke != ERR_OK)
        return ke;

    const json_t *window = json_object_get(v, "window_ms");
    if (!window || json_is_null(window))
        return err_set_field(d, ERR_INVAL, DEDUPE_ERR_CODE, FIELD_WINDOW,
                             "'" FIELD_WINDOW "' is required");
    if (!json_is_integer(window) || json_integer_value(window) < DEDUPE_MIN_WINDOW_MS ||
        json_integer_value(window) > DEDUPE_MAX_WINDOW_MS)
        return err_set_field(d, ERR_INVAL, DEDUPE_ERR_CODE, FIELD_WINDOW,
                             "'" FIELD_WINDOW "' must be an integer from %lld to %lld (1 s to 1 h)",
                             DEDUPE_MIN_WINDOW_MS, DEDUPE_MAX_WINDOW_MS);

    const json_t *include = json_object_get(v, "include_fields");
    const json_t *exclude = json_object_get(v, "exclude_fields");
    if (include && json_is_null(include))
        include = NULL;
    if (exclude && json_is_null(exclude))
        exclude = NULL;
    if (include && exclude)
        return err_set_field(d, ERR_INVAL, DEDUPE_ERR_CODE, FIELD_EXCLUDE,
                             "'" FIELD_INCLUDE "' and '" FIELD_EXCLUDE "' cannot both be set: "
                             "list the fields that identify a message, or the ones to ignore");

    struct dedupe_policy p;
    dedupe_policy_init(&p);
    p.window_ms = json_integer_value(window);
    enum err e = ERR_OK;
    if (include) {
        p.mode = DEDUPE_INCLUDE;
        e = parse_fields(include, FIELD_INCLUDE, false, &p, d);
    } else if (exclude) {
        p.mode = DEDUPE_EXCLUDE;
        e = parse_fields(exclude, FIELD_EXCLUDE, true, &p, d);
        if (e == ERR_OK && p.n_fields == 0)
            p.mode = DEDUPE_WHOLE; /* [] excludes nothing */
    }
    if (e != ERR_OK) {
        dedupe_policy_release(&p);
        return e;
    }
    dedupe_policy_release(out);
    *out = p;
    return ERR_OK;
}

json_t *dedupe_policy_to_json(const struct dedupe_policy *p)
{
    json_t *o = json_object();
    if (!o)
        abort();
    json_object_set_new(o, "window_ms", json_integer(p->window_ms));
    if (p->mode != DEDUPE_WHOLE) {
        json_t *a = json_array();
        for (size_t i = 0; i < p->n_fields; i++)
            json_array_append_new(a, json_string(p->fields[i]));
        json_object_set_new(o, p->mode == DEDUPE_INCLUDE ? "include_fields" : "exclude_fields", a);
    }
    return o;
}

/* ---- keys ----------------------------------------------------------------- */

struct ranked {
    char *text; /* canonical form, the sort key */
    json_t *value;
};

static int ranked_cmp(const void *a, const void *b)
{
    return strcmp(((const struct ranked *)a)->text, ((const struct ranked *)b)->text);
}

/* Sort a header's values (two names differing only in case) by their canonical text. */
static void sort_values(json_t *arr)
{
    size_t n = json_array_size(arr);
    struct ranked *r = calloc(n, sizeof(*r));
    if (!r)
        abort();
    for (size_t i = 0; i < n; i++) {
        r[i].value = json_incref(json_array_get(arr, i));
        r[i].text = dedupe_canonical_json(r[i].value);
    }
    qsort(r, n, sizeof(*r), ranked_cmp);
    json_array_clear(arr);
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(arr, r[i].value);
        free(r[i].text);
    }
    free(r);
}

/* The custom headers with lower-cased names; never NULL. */
static json_t *lower_headers(const json_t *headers)
{
    json_t *out = json_object(), *dups = json_object();
    if (!out || !dups)
        abort();
    if (json_is_object(headers)) {
        const char *name;
        size_t name_len;
        json_t *value;
        json_object_keylen_foreach((json_t *)headers, name, name_len, value)
        {
            char *lk = malloc(name_len + 1);
            if (!lk)
                abort();
            for (size_t i = 0; i < name_len; i++)
                lk[i] = ascii_lower(name[i]);
            lk[name_len] = '\0';
            json_t *have = json_object_getn(out, lk, name_len);
            if (!have) {
                json_object_setn_new_nocheck(out, lk, name_len, json_deep_copy(value));
            } else if (json_object_getn(dups, lk, name_len)) {
                json_array_append_new(have, json_deep_copy(value));
            } else {
                json_t *arr = json_array();
                json_array_append_new(arr, json_deep_copy(have));
                json_array_append_new(arr, json_deep_copy(value));
                json_object_setn_new_nocheck(out, lk, name_len, arr);
                json_object_setn_new_nocheck(dups, lk, name_len, json_true());
            }
            free(lk);
        }
        const char *key;
        size_t key_len;
        json_t *flag;
        json_object_keylen_foreach(dups, key, key_len, flag)
        {
            (void)flag;
            sort_values(json_object_getn(out, key, key_len));
        }
    }
    json_decref(dups);
    return out;
}

/* validate_sha256_hex keeps the digest fetched from libcrypto (EVP_sha256() looks it
 * up again on every EVP_Digest call: a third of the hash's cost on a small payload). */
static void sha256_hex(const void *data, size_t len, char out[DEDUPE_KEY_LEN + 1])
{
    validate_sha256_hex(out, data, len);
}

/* The payload as JSON, or {"$raw_sha256": hex} when jansson cannot read it. */
static json_t *payload_tree(const void *payload, size_t len)
{
    json_t *body =
        payload ? json_loadb(payload, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL) : NULL;
    if (body)
        return body;
    char hex[DEDUPE_KEY_LEN + 1];
    sha256_hex(payload ? payload : "", payload ? len : 0, hex);
    return json_pack("{s:s}", "$raw_sha256", hex);
}

static json_t *build_document(const struct dedupe_policy *p, const void *payload, size_t len,
                              const json_t *headers, const char *event_type)
{
    json_t *body = payload_tree(payload, len);
    json_t *hdrs = lower_headers(headers);
    json_t *doc = json_object();
    if (!doc)
        abort();
    if (p->mode == DEDUPE_INCLUDE) {
        for (size_t i = 0; i < p->n_fields; i++) {
            enum root root;
            const char *rest;
            json_t *value = NULL;
            if (!split_root(p->fields[i], &root, &rest))
                continue; /* checked at parse */
            if (root == ROOT_BODY)
                value = walk(body, rest, strlen(rest));
            else
                value = rest[0] ? json_object_get(hdrs, rest) : hdrs;
            json_object_set_new(doc, p->fields[i], value ? json_incref(value) : json_null());
        }
    } else {
        bool keep_body = true, keep_headers = true;
        for (size_t i = 0; i < p->n_fields; i++) {
            enum root root;
            const char *rest;
            if (!split_root(p->fields[i], &root, &rest))
                continue;
            if (root == ROOT_BODY && rest[0] == '\0')
                keep_body = false;
            else if (root == ROOT_BODY)
                remove_at(body, rest, strlen(rest));
            else if (rest[0] == '\0')
                keep_headers = false;
            else
                json_object_del(hdrs, rest);
        }
        if (keep_body)
            json_object_set(doc, "body", body);
        if (keep_headers)
            json_object_set(doc, "headers", hdrs);
        if (event_type)
            json_object_set_new(doc, "event_type",
                                json_stringn_nocheck(event_type, strlen(event_type)));
    }
    json_decref(body);
    json_decref(hdrs);
    return doc;
}

char *dedupe_canonical(const struct dedupe_policy *p, const void *payload, size_t payload_len,
                       const json_t *headers, const char *event_type)
{
    json_t *doc = build_document(p, payload, payload_len, headers, event_type);
    char *text = dedupe_canonical_json(doc);
    json_decref(doc);
    return text;
}

void dedupe_key(const struct dedupe_policy *p, const void *payload, size_t payload_len,
                const json_t *headers, const char *event_type, char out[DEDUPE_KEY_LEN + 1])
{
    char *text = dedupe_canonical(p, payload, payload_len, headers, event_type);
    sha256_hex(text, strlen(text), out);
    free(text);
}

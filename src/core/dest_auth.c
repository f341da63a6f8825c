/* dest_auth - see dest_auth.h. SPDX-License-Identifier: MIT */
#include "core/dest_auth.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/hmac_sha256.h"
#include "core/validate.h"
#include "util/utf8.h"

#define CODE "INVALID_REQUEST"
#define DEFAULT_HEADER_PREFIX "X-Webhook-"

/* The member names of one type: its secret, its name-like field, the rest. */
struct type_spec {
    enum dest_auth_type type;
    const char *api_name;
    const char *secret_field;
    const char *name_field;
    const char *option_field;  /* to / encoding / client_auth, NULL when none */
    const char *option_values; /* "a|b", the first is the default */
};

static const struct type_spec specs[] = {
    {DEST_AUTH_BEARER, "bearer", "token", NULL, NULL, NULL},
    {DEST_AUTH_BASIC, "basic", "password", "username", NULL, NULL},
    {DEST_AUTH_API_KEY, "api_key", "key", "name", "to", "header|query"},
    {DEST_AUTH_CUSTOM_HMAC, "custom_hmac", "secret", "header", "encoding", "hex|base64"},
    {DEST_AUTH_OAUTH2_CC, "oauth2_client_credentials", "client_secret", "client_id", "client_auth",
     "basic|body"},
};

/* Header names no auth type may choose (compared without case). */
static const char *const reserved_headers[] = {
    "host",       "content-type", "content-length", "transfer-encoding",
    "connection", "keep-alive",   "upgrade",        "te",
    "trailer",    "expect",       "user-agent",     "cookie",
};
static const char *const reserved_prefixes[] = {"proxy-", "webhook-", "svix-"};

static const struct type_spec *spec_of(enum dest_auth_type t)
{
    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
        if (specs[i].type == t)
            return &specs[i];
    return NULL;
}

static char *dup_str(const char *s)
{
    char *r = strdup(s);
    if (!r)
        abort();
    return r;
}

static void free_secret(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

const char *dest_auth_type_name(enum dest_auth_type t)
{
    const struct type_spec *s = spec_of(t);
    return s ? s->api_name : "none";
}

static bool is_tchar(unsigned char c)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool has_prefix_nocase(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

bool dest_auth_header_is_reserved(const char *name, const char *header_prefix)
{
    for (size_t i = 0; i < sizeof(reserved_headers) / sizeof(reserved_headers[0]); i++)
        if (strcasecmp(name, reserved_headers[i]) == 0)
            return true;
    for (size_t i = 0; i < sizeof(reserved_prefixes) / sizeof(reserved_prefixes[0]); i++)
        if (has_prefix_nocase(name, reserved_prefixes[i]))
            return true;
    if (!header_prefix)
        header_prefix = DEFAULT_HEADER_PREFIX;
    return header_prefix[0] && has_prefix_nocase(name, header_prefix);
}

/* ---- parsing ------------------------------------------------------------ */

struct parse_ctx {
    const json_t *obj;
    struct err_detail *d;
    const struct dest_auth_rules *rules;
    bool is_load; /* reading back a stored config: the write-time rules are not re-applied */
};

static enum err bad(struct parse_ctx *p, const char *member, const char *fmt, const char *what)
{
    char field[40];
    snprintf(field, sizeof(field), "auth.%s", member);
    return err_set_field(p->d, ERR_INVAL, CODE, field, fmt, field, what);
}

/* The string member `member`: *out borrows it (NULL when absent or null).
 * Checks type, NUL/control bytes and max_len; empty strings pass (the caller
 * decides). */
static enum err get_string(struct parse_ctx *p, const char *member, size_t max_len,
                           const char **out)
{
    const json_t *v = json_object_get(p->obj, member);
    *out = NULL;
    if (!v || json_is_null(v))
        return ERR_OK;
    if (!json_is_string(v))
        return bad(p, member, "'%s' must be %s", "a string");
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (strlen(s) != len)
        return bad(p, member, "'%s' must not contain %s", "NUL characters");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return bad(p, member, "'%s' must not contain %s",
                       "control characters (CR, LF, tab and the like)");
    }
    if (len > max_len) {
        char what[64];
        snprintf(what, sizeof(what), "%zu bytes", max_len);
        return bad(p, member, "'%s' must be at most %s", what);
    }
    *out = s;
    return ERR_OK;
}

/* A required, non-empty string member. */
static enum err get_required(struct parse_ctx *p, const char *member, size_t max_len,
                             const char **out)
{
    enum err e = get_string(p, member, max_len, out);
    if (e != ERR_OK)
        return e;
    if (!*out)
        return bad(p, member, "'%s' is %s", "required");
    if (!(*out)[0])
        return bad(p, member, "'%s' must not be %s", "empty");
    return ERR_OK;
}

/* A header name the user chooses: a token, and none hookd reserves. */
static enum err check_header_name(struct parse_ctx *p, const char *member, const char *name)
{
    for (const char *c = name; *c; c++)
        if (!is_tchar((unsigned char)*c))
            return bad(p, member, "'%s' must be %s",
                       "a header name (letters, digits and !#$%&'*+-.^_`|~)");
    if (!p->is_load && dest_auth_header_is_reserved(name, p->rules->header_prefix)) {
        char field[40];
        snprintf(field, sizeof(field), "auth.%s", member);
        return err_set_field(p->d, ERR_INVAL, CODE, field,
                             "'%s' names a header hookd sets itself or that frames the request "
                             "('%.64s')",
                             field, name);
    }
    return ERR_OK;
}

/* The option member (to / encoding / client_auth): index into "a|b", 0 when absent. */
static enum err get_option(struct parse_ctx *p, const struct type_spec *s, bool *second)
{
    const char *v;
    *second = false;
    if (!s->option_field)
        return ERR_OK;
    enum err e = get_string(p, s->option_field, 32, &v);
    if (e != ERR_OK || !v)
        return e;
    const char *bar = strchr(s->option_values, '|');
    size_t first_len = (size_t)(bar - s->option_values);
    if (strlen(v) == first_len && strncmp(v, s->option_values, first_len) == 0)
        return ERR_OK;
    if (strcmp(v, bar + 1) == 0) {
        *second = true;
        return ERR_OK;
    }
    char what[64];
    snprintf(what, sizeof(what), "\"%.*s\" or \"%s\"", (int)first_len, s->option_values, bar + 1);
    return bad(p, s->option_field, "'%s' must be %s", what);
}

/* Every member of the object is one this type knows. */
static enum err check_members(struct parse_ctx *p, const struct type_spec *s)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)p->obj, k, v)
    {
        if (strcmp(k, "type") == 0 || strcmp(k, "hint") == 0 || strcmp(k, s->secret_field) == 0 ||
            (s->name_field && strcmp(k, s->name_field) == 0) ||
            (s->option_field && strcmp(k, s->option_field) == 0))
            continue;
        if (s->type == DEST_AUTH_OAUTH2_CC &&
            (strcmp(k, "token_url") == 0 || strcmp(k, "scope") == 0))
            continue;
        char shown[48];
        size_t n = utf8_prefix_len(k, strlen(k), 32);
        utf8_sanitize(shown, sizeof(shown), k, n);
        return err_set_field(p->d, ERR_INVAL, CODE, "auth",
                             "'auth' has no member '%s' for type \"%s\"", shown, s->api_name);
    }
    return ERR_OK;
}

/* token_url: an absolute http(s) URL as endpoint URLs are, the error naming the field. */
static enum err check_token_url(struct parse_ctx *p, const char *url)
{
    struct err_detail tmp;
    memset(&tmp, 0, sizeof(tmp));
    if (validate_endpoint_url(url, p->is_load || p->rules->allow_http, &tmp) == ERR_OK)
        return ERR_OK;
    /* validate_endpoint_url speaks of "endpoint URL ..."; say which URL */
    const char *rest = tmp.msg;
    if (strncmp(rest, "endpoint URL", 12) == 0)
        rest += 12;
    return err_set_field(p->d, ERR_INVAL, CODE, "auth.token_url", "'auth.token_url'%s", rest);
}

static enum err parse_obj(struct dest_auth *out, struct parse_ctx *p, const struct dest_auth *prev)
{
    const json_t *tv = json_object_get(p->obj, "type");
    if (!tv)
        return err_set_field(p->d, ERR_INVAL, CODE, "auth.type", "'auth.type' is required");
    const struct type_spec *s = NULL;
    if (json_is_string(tv))
        for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
            if (strcmp(json_string_value(tv), specs[i].api_name) == 0)
                s = &specs[i];
    if (!s)
        return err_set_field(p->d, ERR_INVAL, CODE, "auth.type",
                             "'auth.type' must be one of \"bearer\", \"basic\", \"api_key\", "
                             "\"custom_hmac\", \"oauth2_client_credentials\"");
    enum err e = check_members(p, s);
    if (e != ERR_OK)
        return e;

    bool second = false;
    if ((e = get_option(p, s, &second)) != ERR_OK)
        return e;

    /* the name-like field */
    const char *name = NULL;
    if (s->name_field) {
        if ((e = get_required(p, s->name_field, DEST_AUTH_NAME_MAX, &name)) != ERR_OK)
            return e;
        bool is_header_name =
            (s->type == DEST_AUTH_API_KEY && !second) || s->type == DEST_AUTH_CUSTOM_HMAC;
        if (is_header_name && (e = check_header_name(p, s->name_field, name)) != ERR_OK)
            return e;
        /* RFC 7617: a user-id with a colon cannot be told from the password */
        bool is_basic_user =
            s->type == DEST_AUTH_BASIC || (s->type == DEST_AUTH_OAUTH2_CC && !second);
        if (is_basic_user && strchr(name, ':'))
            return bad(p, s->name_field, "'%s' must not contain %s",
                       "':' (HTTP Basic authentication cannot carry it)");
    }

    /* the secret: given, or kept from prev of the same type */
    const char *secret = NULL;
    if ((e = get_string(p, s->secret_field, DEST_AUTH_SECRET_MAX, &secret)) != ERR_OK)
        return e;
    if (!secret && prev && prev->type == s->type && prev->secret)
        secret = prev->secret;
    if (!secret)
        return bad(p, s->secret_field, "'%s' is %s", "required");
    if (!secret[0] && s->type != DEST_AUTH_BASIC) /* basic allows "key:" with no password */
        return bad(p, s->secret_field, "'%s' must not be %s", "empty");

    const char *token_url = NULL, *scope = NULL;
    if (s->type == DEST_AUTH_OAUTH2_CC) {
        if ((e = get_required(p, "token_url", VALIDATE_MAX_URL, &token_url)) != ERR_OK)
            return e;
        if ((e = check_token_url(p, token_url)) != ERR_OK)
            return e;
        if ((e = get_string(p, "scope", DEST_AUTH_SCOPE_MAX, &scope)) != ERR_OK)
            return e;
        if (scope && !scope[0])
            scope = NULL; /* "" means no scope: no empty scope= in the form */
    }

    struct dest_auth a = {.type = s->type};
    a.secret = dup_str(secret);
    a.name = name ? dup_str(name) : NULL;
    a.token_url = token_url ? dup_str(token_url) : NULL;
    a.scope = scope ? dup_str(scope) : NULL;
    a.to_query = s->type == DEST_AUTH_API_KEY && second;
    a.base64 = s->type == DEST_AUTH_CUSTOM_HMAC && second;
    a.client_body = s->type == DEST_AUTH_OAUTH2_CC && second;

    char *json = dest_auth_to_json(&a);
    size_t json_len = strlen(json);
    dest_auth_json_free(json);
    if (json_len > DEST_AUTH_JSON_MAX) {
        dest_auth_release(&a);
        return err_set_field(p->d, ERR_LIMIT, CODE, "auth",
                             "'auth' is too large: %zu bytes serialised (max %d)", json_len,
                             DEST_AUTH_JSON_MAX);
    }
    *out = a;
    return ERR_OK;
}

enum err dest_auth_parse(struct dest_auth *out, const json_t *v, const struct dest_auth *prev,
                         const struct dest_auth_rules *rules, struct err_detail *d)
{
    static const struct dest_auth_rules defaults = {false, NULL};
    memset(out, 0, sizeof(*out));
    if (!v || json_is_null(v))
        return ERR_OK;
    if (!json_is_object(v))
        return err_set_field(d, ERR_INVAL, CODE, "auth",
                             "'auth' must be an object with a \"type\"");
    struct parse_ctx p = {v, d, rules ? rules : &defaults, false};
    return parse_obj(out, &p, prev);
}

enum err dest_auth_from_json(struct dest_auth *out, const char *json, size_t len,
                             struct err_detail *d)
{
    memset(out, 0, sizeof(*out));
    if (len > DEST_AUTH_JSON_MAX)
        return err_set_field(d, ERR_INVAL, CODE, "auth", "stored 'auth' is longer than %d bytes",
                             DEST_AUTH_JSON_MAX);
    json_t *v = json_loadb(json, len, 0, NULL);
    if (!json_is_object(v)) {
        json_decref(v);
        return err_set_field(d, ERR_INVAL, CODE, "auth", "stored 'auth' is not a JSON object");
    }
    static const struct dest_auth_rules any = {true, ""};
    struct parse_ctx p = {v, d, &any, true};
    enum err e = parse_obj(out, &p, NULL);
    /* XXX jansson frees its copy of the secret without wiping it */
    json_decref(v);
    return e;
}

void dest_auth_release(struct dest_auth *a)
{
    if (!a)
        return;
    free_secret(a->secret);
    free(a->name);
    free(a->token_url);
    free(a->scope);
    memset(a, 0, sizeof(*a));
}

/* ---- rendering ---------------------------------------------------------- */

void dest_auth_hint(const struct dest_auth *a, char out[DEST_AUTH_HINT_MAX])
{
    out[0] = '\0';
    if (!a || !a->secret)
        return;
    const char *s = a->secret;
    size_t len = strlen(s), chars = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            chars++;
    size_t show = chars / 2 < 4 ? chars / 2 : 4; /* never more than half the secret */
    size_t start = len;
    while (show > 0 && start > 0) {
        start--;
        if (((unsigned char)s[start] & 0xc0) != 0x80)
            show--;
    }
    size_t n = len - start;
    if (n >= DEST_AUTH_HINT_MAX) /* cannot happen for well-formed UTF-8 */
        n = 0;
    memcpy(out, s + start, n);
    out[n] = '\0';
}

/* {type, non-secret fields}: what both renderings share. */
static json_t *common_json(const struct dest_auth *a, const struct type_spec *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string(s->api_name));
    if (a->token_url)
        json_object_set_new(o, "token_url", json_string(a->token_url));
    if (s->name_field)
        json_object_set_new(o, s->name_field, json_string(a->name ? a->name : ""));
    if (a->scope)
        json_object_set_new(o, "scope", json_string(a->scope));
    if (s->option_field) {
        bool second = a->to_query || a->base64 || a->client_body;
        const char *bar = strchr(s->option_values, '|');
        json_object_set_new(o, s->option_field,
                            second
                                ? json_string(bar + 1)
                                : json_stringn(s->option_values, (size_t)(bar - s->option_values)));
    }
    return o;
}

json_t *dest_auth_public_json(const struct dest_auth *a)
{
    const struct type_spec *s = a ? spec_of(a->type) : NULL;
    if (!s)
        return json_null();
    json_t *o = common_json(a, s);
    char hint[DEST_AUTH_HINT_MAX];
    dest_auth_hint(a, hint);
    json_object_set_new(o, "hint", json_string(hint));
    return o;
}

char *dest_auth_to_json(const struct dest_auth *a)
{
    const struct type_spec *s = a ? spec_of(a->type) : NULL;
    if (!s)
        return NULL;
    json_t *o = common_json(a, s);
    json_object_set_new(o, s->secret_field, json_string(a->secret ? a->secret : ""));
    char *out = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    if (!out)
        abort();
    return out;
}

void dest_auth_json_free(char *json)
{
    free_secret(json);
}

/* ---- one attempt -------------------------------------------------------- */

/* Standard padded base64 of n bytes, heap-allocated. */
static char *base64_of(const void *in, size_t n)
{
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    if (!out)
        abort();
    EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    return out;
}

/* prefix + value, heap-allocated. */
static char *concat(const char *prefix, const char *value)
{
    size_t pl = strlen(prefix), vl = strlen(value);
    char *out = malloc(pl + vl + 1);
    if (!out)
        abort();
    memcpy(out, prefix, pl);
    memcpy(out + pl, value, vl + 1);
    return out;
}

/* RFC 3986 percent-encoding of s into out (room for 3 * strlen(s)); unreserved kept. */
static size_t percent_encode(char *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 0xf];
        }
    }
    return o;
}

/* url with name=value added to its query (before any fragment). */
static char *append_query(const char *url, const char *name, const char *value)
{
    size_t url_len = strlen(url);
    const char *hash = strchr(url, '#');
    size_t base_len = hash ? (size_t)(hash - url) : url_len;
    char *out = malloc(url_len + 3 * (strlen(name) + strlen(value)) + 3);
    if (!out)
        abort();
    memcpy(out, url, base_len);
    size_t o = base_len;
    const char *q = memchr(url, '?', base_len);
    if (!q)
        out[o++] = '?';
    else if (o > 0 && out[o - 1] != '?' && out[o - 1] != '&')
        out[o++] = '&';
    o += percent_encode(out + o, name);
    out[o++] = '=';
    o += percent_encode(out + o, value);
    memcpy(out + o, url + base_len, url_len - base_len + 1); /* the fragment and the NUL */
    return out;
}

static char *hmac_value(const struct dest_auth *a, const void *body, size_t body_len)
{
    unsigned char mac[HMAC_SHA256_LEN];
    struct hmac_sha256_key *k = hmac_sha256_key_new(a->secret, strlen(a->secret));
    const void *parts[1] = {body ? body : ""};
    size_t lens[1] = {body ? body_len : 0};
    hmac_sha256(mac, k, parts, lens, 1);
    hmac_sha256_key_free(k);
    char *out;
    if (a->base64) {
        out = base64_of(mac, sizeof(mac));
    } else {
        static const char hex[] = "0123456789abcdef";
        out = malloc(2 * sizeof(mac) + 1);
        if (!out)
            abort();
        for (size_t i = 0; i < sizeof(mac); i++) {
            out[2 * i] = hex[mac[i] >> 4];
            out[2 * i + 1] = hex[mac[i] & 0xf];
        }
        out[2 * sizeof(mac)] = '\0';
    }
    explicit_bzero(mac, sizeof(mac));
    return out;
}

enum err dest_auth_apply(const struct dest_auth *a, const char *url, const void *body,
                         size_t body_len, const char *access_token, struct dest_auth_result *out,
                         struct err_detail *d)
{
    memset(out, 0, sizeof(*out));
    if (!a || a->type == DEST_AUTH_NONE)
        return ERR_OK;
    switch (a->type) {
    case DEST_AUTH_BEARER:
        out->header_name = dup_str("Authorization");
        out->header_value = concat("Bearer ", a->secret);
        break;
    case DEST_AUTH_BASIC: {
        size_t ul = strlen(a->name), pl = strlen(a->secret);
        char *pair = malloc(ul + pl + 2);
        if (!pair)
            abort();
        memcpy(pair, a->name, ul);
        pair[ul] = ':';
        memcpy(pair + ul + 1, a->secret, pl + 1);
        char *b64 = base64_of(pair, ul + 1 + pl);
        free_secret(pair);
        out->header_name = dup_str("Authorization");
        out->header_value = concat("Basic ", b64);
        free_secret(b64);
        break;
    }
    case DEST_AUTH_API_KEY:
        if (a->to_query) {
            if (!url)
                return err_set(d, ERR_INVAL, CODE, "api_key to \"query\" needs the request URL");
            out->url = append_query(url, a->name, a->secret);
        } else {
            out->header_name = dup_str(a->name);
            out->header_value = dup_str(a->secret);
        }
        break;
    case DEST_AUTH_CUSTOM_HMAC:
        out->header_name = dup_str(a->name);
        out->header_value = hmac_value(a, body, body_len);
        break;
    case DEST_AUTH_OAUTH2_CC:
        if (!access_token || !access_token[0])
            return err_set(d, ERR_INVAL, CODE, "oauth2 access token missing");
        for (const char *c = access_token; *c; c++)
            if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f)
                return err_set(d, ERR_INVAL, CODE,
                               "oauth2 access token contains characters a header cannot carry");
        out->header_name = dup_str("Authorization");
        out->header_value = concat("Bearer ", access_token);
        break;
    case DEST_AUTH_NONE:
        break;
    }
    return ERR_OK;
}

void dest_auth_result_clear(struct dest_auth_result *out)
{
    if (!out)
        return;
    free(out->header_name);
    free_secret(out->header_value);
    free_secret(out->url);
    memset(out, 0, sizeof(*out));
}

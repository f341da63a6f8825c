/*
 * validate - API input checks that need no store; see validate.h for the contract.
 *
 * validate_parse_json checks JSON nesting depth by a byte pre-scan before
 * jansson parses anything, so a "[[[[..." bomb costs one linear pass and no
 * allocation. validate_send does not build a tree of the body: json_scan
 * validates it strictly and finds the raw span of each top-level member, so
 * the payload is kept byte for byte (big integers, "\u0000", 1e400 and 0.1
 * survive unchanged). The body is scanned once: string fields without
 * escapes and integers of up to 18 digits are read from their spans as
 * they are; only escaped strings, other numbers and the headers object are
 * decoded by jansson (so the errors stay jansson's).
 * Duplicate object keys are accepted (last one wins), as most servers do;
 * inside the payload they are passed through untouched.
 * Endpoint URLs are parsed with libcurl's URL API, the same parser that
 * will later connect to them.
 * SPDX-License-Identifier: MIT
 */
#include "core/validate.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/json_scan.h"
#include "util/utf8.h"

#define CODE_REQUEST "INVALID_REQUEST"
#define CODE_TOO_LARGE "PAYLOAD_TOO_LARGE"
#define CODE_HEADERS "INVALID_HEADERS"
#define CODE_ENDPOINT "INVALID_ENDPOINT"
#define MAX_RETENTION_HOURS 87600 /* ten years */

/* Headers a caller may not set: transport, auth, framing, and our own signature headers. */
static const char *const forbidden_headers[] = {
    "host",
    "authorization",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "proxy-authorization",
    "proxy-connection",
    "expect",
    "cookie",
    "user-agent",
    "content-type",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "x-webhook-id",
    "x-webhook-timestamp",
    "x-webhook-signature",
};

/* True when the bytes nest [ and { (outside strings) deeper than max. */
static bool too_deep(const char *s, size_t len, int max)
{
    int depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_string) {
            if (c == '\\')
                i++; /* skip the escaped char; \uXXXX digits are harmless */
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max)
                return true;
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return false;
}

json_t *validate_parse_json(const char *body, size_t len, struct err_detail *d)
{
    json_error_t jerr;
    if (!body || len == 0) {
        err_set(d, ERR_INVAL, CODE_REQUEST, "request body is empty");
        return NULL;
    }
    if (too_deep(body, len, VALIDATE_MAX_JSON_DEPTH)) {
        err_set(d, ERR_INVAL, CODE_REQUEST, "invalid JSON: nesting deeper than %d levels",
                VALIDATE_MAX_JSON_DEPTH);
        return NULL;
    }
    json_t *root = json_loadb(body, len, JSON_DECODE_ANY, &jerr);
    if (!root)
        err_set(d, ERR_INVAL, CODE_REQUEST, "invalid JSON at line %d, column %d: %s", jerr.line,
                jerr.column, jerr.text);
    return root;
}

static bool is_tchar(unsigned char c)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Header value bytes: anything but control characters (HTAB excepted) and DEL. */
static bool is_valid_field_value(const char *v, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return false;
    }
    return true;
}

enum err validate_headers(const json_t *headers, struct err_detail *d)
{
    if (!json_is_object(headers))
        return err_set(d, ERR_INVAL, CODE_HEADERS, "headers must be an object of strings");
    size_t count = json_object_size(headers);
    if (count > VALIDATE_MAX_HEADERS)
        return err_set(d, ERR_INVAL, CODE_HEADERS, "too many headers: %zu (max %d)", count,
                       VALIDATE_MAX_HEADERS);

    size_t total = 0;
    const char *name;
    json_t *value;
    /* json_object_foreach wants a non-const object; iteration does not modify it. */
    json_t *obj = (json_t *)headers;
    json_object_foreach(obj, name, value)
    {
        size_t name_len = strlen(name);
        if (name_len == 0)
            return err_set(d, ERR_INVAL, CODE_HEADERS, "header names must not be empty");
        for (size_t i = 0; i < name_len; i++)
            if (!is_tchar((unsigned char)name[i]))
                return err_set(d, ERR_INVAL, CODE_HEADERS,
                               "header name '%.*s' contains invalid characters",
                               (int)utf8_prefix_len(name, name_len, 64), name);
        for (size_t i = 0; i < sizeof(forbidden_headers) / sizeof(forbidden_headers[0]); i++)
            if (strcasecmp(name, forbidden_headers[i]) == 0)
                return err_set(d, ERR_INVAL, CODE_HEADERS,
                               "header '%s' is forbidden and cannot be overridden", name);
        if (!json_is_string(value))
            return err_set(d, ERR_INVAL, CODE_HEADERS, "header '%.*s' value must be a string",
                           (int)utf8_prefix_len(name, name_len, 64), name);
        size_t value_len = json_string_length(value);
        if (!is_valid_field_value(json_string_value(value), value_len))
            return err_set(d, ERR_INVAL, CODE_HEADERS,
                           "header '%.64s' value contains control characters", name);
        total += name_len + value_len;
        if (total > VALIDATE_MAX_HEADER_BYTES)
            return err_set(d, ERR_INVAL, CODE_HEADERS, "headers exceed %d bytes in total",
                           VALIDATE_MAX_HEADER_BYTES);
    }
    return ERR_OK;
}

static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

/* Fetch SHA-256 once: EVP_sha256() makes EVP_Digest look the algorithm up on every call. */
static void sha256_fetch(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (!sha256_md)
        abort(); /* no SHA-256 in libcrypto */
}

void validate_sha256_hex(char out[65], const void *buf, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[32];
    unsigned int md_len = 0;
    pthread_once(&sha256_once, sha256_fetch);
    if (EVP_Digest(buf, len, md, &md_len, sha256_md, NULL) != 1 || md_len != sizeof(md))
        abort(); /* SHA-256 over memory cannot fail short of a broken libcrypto */
    for (size_t i = 0; i < sizeof(md); i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 0x0f];
    }
    out[64] = '\0';
}

/* json_dumps that aborts on OOM (its only failure for a valid tree). */
static char *dump_compact(const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s)
        abort();
    return s;
}

static bool is_idempotency_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

/* Raw value spans of the top-level members validate_send looks at. */
struct send_spans {
    struct span {
        bool is_set;
        size_t start, end;
    } endpoint_id, payload, headers, idempotency_key, retention_hours;
};

/* json_scan member callback: remember where each known field is; the last duplicate wins. */
static enum err on_member(void *ctx, const struct json_scan_member *m, struct err_detail *d)
{
    struct send_spans *f = ctx;
    static const char *const names[] = {"endpoint_id", "payload", "headers", "idempotency_key",
                                        "retention_hours"};
    struct span *const spans[] = {&f->endpoint_id, &f->payload, &f->headers, &f->idempotency_key,
                                  &f->retention_hours};
    (void)d;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (json_scan_key_equals(m->key, m->key_len, names[i])) {
            spans[i]->is_set = true;
            spans[i]->start = m->value_start;
            spans[i]->end = m->value_end;
            break;
        }
    }
    return ERR_OK;
}

static bool span_is_null(const char *body, const struct span *sp)
{
    return sp->end - sp->start == 4 && memcmp(body + sp->start, "null", 4) == 0;
}

/*
 * Decode one field's raw span with jansson; optional fields sent as JSON
 * null count as absent (some clients send nulls), so *out stays NULL. The
 * span is already valid JSON, so jansson fails only on what it cannot
 * represent (\u0000, integers beyond int64, reals that overflow a double).
 */
static enum err decode_field(json_t **out, const char *body, const struct span *sp,
                             const char *name, bool is_optional, struct err_detail *d)
{
    json_error_t jerr;
    *out = NULL;
    if (!sp->is_set || (is_optional && span_is_null(body, sp)))
        return ERR_OK;
    *out = json_loadb(body + sp->start, sp->end - sp->start, JSON_DECODE_ANY, &jerr);
    if (!*out)
        return err_set(d, ERR_INVAL, CODE_REQUEST, "cannot decode '%s': %s", name, jerr.text);
    return ERR_OK;
}

/*
 * A string value with no escape: its bytes between the quotes are already
 * its decoded UTF-8 (json_scan checked them), so no decoder is needed. False
 * for anything else, which then goes through decode_field and jansson.
 */
static bool plain_string(const char *body, const struct span *sp, const char **str, size_t *len)
{
    size_t n = sp->end - sp->start;
    const char *v = body + sp->start;
    if (!sp->is_set || n < 2 || v[0] != '"' || memchr(v + 1, '\\', n - 2))
        return false;
    *str = v + 1;
    *len = n - 2;
    return true;
}

/* An integer of at most 18 digits, optionally negative (exactly what jansson
 * would decode to the same json_int_t); false for anything else. */
static bool plain_integer(const char *body, const struct span *sp, long long *out)
{
    const char *v = body + sp->start;
    size_t n = sp->end - sp->start;
    size_t i = n > 0 && v[0] == '-' ? 1 : 0;
    if (n == i || n - i > 18)
        return false;
    long long x = 0;
    for (; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return false;
        x = x * 10 + (v[i] - '0');
    }
    *out = v[0] == '-' ? -x : x;
    return true;
}

enum err validate_send(struct send_request *out, const char *body, size_t len, struct err_detail *d)
{
    enum err e = ERR_INVAL;
    struct send_spans f;
    json_t *ep = NULL;
    json_t *headers = NULL;
    json_t *key = NULL;
    json_t *retention = NULL;
    memset(out, 0, sizeof(*out));
    memset(&f, 0, sizeof(f));
    out->retention_hours = -1;

    if (!body || len == 0)
        return err_set(d, ERR_INVAL, CODE_REQUEST, "request body is empty");
    size_t first = 0;
    while (first < len && body[first] != '\0' && strchr(" \t\r\n", body[first]))
        first++;
    if (first == len || body[first] != '{') {
        /* Report a syntax error first, as a parser would, then the wrong type. */
        if (json_scan_text(body, len, VALIDATE_MAX_JSON_DEPTH, d) != ERR_OK)
            return ERR_INVAL;
        return err_set(d, ERR_INVAL, CODE_REQUEST, "request body must be a JSON object");
    }
    if (json_scan_object(body, len, VALIDATE_MAX_JSON_DEPTH, on_member, &f, d) != ERR_OK)
        return ERR_INVAL;

    if (!f.endpoint_id.is_set) {
        err_set(d, ERR_INVAL, CODE_REQUEST, "endpoint_id is required");
        goto out;
    }
    const char *ep_str;
    size_t ep_len;
    if (!plain_string(body, &f.endpoint_id, &ep_str, &ep_len)) {
        if (decode_field(&ep, body, &f.endpoint_id, "endpoint_id", false, d) != ERR_OK)
            goto out;
        if (!json_is_string(ep)) {
            err_set(d, ERR_INVAL, CODE_REQUEST, "endpoint_id must be a string");
            goto out;
        }
        ep_str = json_string_value(ep);
        ep_len = json_string_length(ep);
    }
    if (ep_len == 0 || ep_len >= sizeof(out->endpoint_id) || memchr(ep_str, '\0', ep_len)) {
        err_set(d, ERR_INVAL, CODE_REQUEST, "endpoint_id must be 1 to %zu characters",
                sizeof(out->endpoint_id) - 1);
        goto out;
    }
    memcpy(out->endpoint_id, ep_str, ep_len);
    out->endpoint_id[ep_len] = '\0';

    if (!f.payload.is_set) {
        err_set(d, ERR_INVAL, CODE_REQUEST, "payload is required");
        goto out;
    }
    if (span_is_null(body, &f.payload)) {
        err_set(d, ERR_INVAL, CODE_REQUEST, "payload must not be null");
        goto out;
    }

    if (decode_field(&headers, body, &f.headers, "headers", true, d) != ERR_OK)
        goto out;
    if (headers && (e = validate_headers(headers, d)) != ERR_OK)
        goto out;
    e = ERR_INVAL;

    const char *k = NULL;
    size_t klen = 0;
    if (f.idempotency_key.is_set && !span_is_null(body, &f.idempotency_key) &&
        !plain_string(body, &f.idempotency_key, &k, &klen)) {
        if (decode_field(&key, body, &f.idempotency_key, "idempotency_key", true, d) != ERR_OK)
            goto out;
        if (!json_is_string(key)) {
            err_set(d, ERR_INVAL, CODE_REQUEST, "idempotency_key must be a string");
            goto out;
        }
        k = json_string_value(key);
        klen = json_string_length(key);
    }
    if (k) {
        bool ok = klen >= 1 && klen <= VALIDATE_MAX_IDEMPOTENCY_KEY;
        for (size_t i = 0; ok && i < klen; i++)
            ok = is_idempotency_char(k[i]);
        if (!ok) {
            err_set(d, ERR_INVAL, CODE_REQUEST,
                    "idempotency_key must be 1 to %d characters of [A-Za-z0-9_-]",
                    VALIDATE_MAX_IDEMPOTENCY_KEY);
            goto out;
        }
        memcpy(out->idempotency_key, k, klen);
        out->idempotency_key[klen] = '\0';
    }

    long long h = 0;
    bool has_retention = false;
    if (f.retention_hours.is_set && !span_is_null(body, &f.retention_hours)) {
        has_retention = plain_integer(body, &f.retention_hours, &h);
        if (!has_retention) {
            if (decode_field(&retention, body, &f.retention_hours, "retention_hours", true, d) !=
                ERR_OK)
                goto out;
            if (!json_is_integer(retention)) {
                err_set(d, ERR_INVAL, CODE_REQUEST, "retention_hours must be an integer");
                goto out;
            }
            h = json_integer_value(retention);
            has_retention = true;
        }
    }
    if (has_retention) {
        if (h < 0 || h > MAX_RETENTION_HOURS) {
            err_set(d, ERR_INVAL, CODE_REQUEST, "retention_hours must be between 0 and %d",
                    MAX_RETENTION_HOURS);
            goto out;
        }
        out->retention_hours = (int)h;
    }

    /* The payload is delivered byte for byte as sent: the span holds no outer whitespace. */
    size_t payload_len = f.payload.end - f.payload.start;
    if (payload_len > VALIDATE_MAX_PAYLOAD_BYTES) {
        e = err_set(d, ERR_LIMIT, CODE_TOO_LARGE, "payload is %zu bytes, more than the %d allowed",
                    payload_len, VALIDATE_MAX_PAYLOAD_BYTES);
        goto out;
    }
    out->payload = malloc(payload_len + 1);
    if (!out->payload)
        abort();
    memcpy(out->payload, body + f.payload.start, payload_len);
    out->payload[payload_len] = '\0';
    out->payload_len = payload_len;
    validate_sha256_hex(out->payload_sha256, out->payload, out->payload_len);
    if (headers && json_object_size(headers) > 0)
        out->headers_json = dump_compact(headers);
    e = ERR_OK;
out:
    json_decref(retention);
    json_decref(key);
    json_decref(headers);
    json_decref(ep);
    if (e != ERR_OK)
        send_request_release(out);
    return e;
}

void send_request_release(struct send_request *r)
{
    if (!r)
        return;
    free(r->payload);
    free(r->headers_json);
    r->payload = NULL;
    r->payload_len = 0;
    r->headers_json = NULL;
}

/* Fill d with an INVALID_ENDPOINT detail; returns ERR_INVAL. */
#define BAD_URL(...) err_set(d, ERR_INVAL, CODE_ENDPOINT, __VA_ARGS__)

enum err validate_endpoint_url(const char *url, bool allow_http, struct err_detail *d)
{
    if (!url || url[0] == '\0')
        return BAD_URL("endpoint URL is required");
    size_t len = strlen(url);
    if (len > VALIDATE_MAX_URL)
        return BAD_URL("endpoint URL is longer than %d characters", VALIDATE_MAX_URL);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= 0x20 || c >= 0x7f)
            return BAD_URL("endpoint URL contains whitespace, control or non-ASCII characters");
    }

    bool is_https = strncasecmp(url, "https://", 8) == 0;
    bool is_http = strncasecmp(url, "http://", 7) == 0;
    if (!is_https && !(is_http && allow_http)) {
        if (allow_http)
            return BAD_URL("endpoint URL must be an absolute http:// or https:// URL");
        return BAD_URL("endpoint URL must use https");
    }

    /* Credentials in the URL would be sent to the receiver and shown in logs. */
    const char *authority = url + (is_https ? 8 : 7);
    size_t auth_len = strcspn(authority, "/?#");
    if (auth_len == 0) /* curl would read "https:///x" as host "x" */
        return BAD_URL("endpoint URL has no host");
    if (memchr(authority, '@', auth_len))
        return BAD_URL("endpoint URL must not contain credentials");

    enum err e = ERR_OK;
    char *host = NULL;
    CURLU *u = curl_url();
    if (!u)
        abort();
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
        e = BAD_URL("endpoint URL is not a valid URL");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host || host[0] == '\0') {
        e = BAD_URL("endpoint URL has no host");
        goto out;
    }
out:
    curl_free(host);
    curl_url_cleanup(u);
    return e;
}

enum err validate_known_members(const json_t *obj, const char *name, const char *const *known,
                                size_t n, const char *list, const char *code, struct err_detail *d)
{
    const char *key;
    const json_t *val;
    json_object_foreach((json_t *)obj, key, val)
    {
        bool ok = false;
        for (size_t i = 0; i < n && !ok; i++)
            ok = strcmp(key, known[i]) == 0;
        if (!ok) {
            char field[64];
            snprintf(field, sizeof(field), "%.24s.%.32s", name, key);
            return err_set_field(d, ERR_INVAL, code, field,
                                 "unknown field '%s.%.64s'; the fields are %s", name, key, list);
        }
    }
    return ERR_OK;
}

/*
 * request - small request helpers shared by the api handlers: body parsing,
 * pagination and time query parameters, list meta (API.md §2 paging rules).
 * SPDX-License-Identifier: MIT
 */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "core/validate.h"
#include "http/internal.h"
#include "util/clock.h"

json_t *http__parse_body(struct http_request *r, bool allow_empty, struct err_detail *d)
{
    if (r->body_too_large) {
        err_set(d, ERR_LIMIT, "PAYLOAD_TOO_LARGE", "request body is larger than %d bytes",
                HTTP_MAX_BODY);
        return NULL;
    }
    if (allow_empty) {
        size_t i = 0;
        while (i < r->body_len && strchr(" \t\r\n", r->body[i]))
            i++;
        if (i == r->body_len)
            return json_object();
    }
    return validate_parse_json(r->body ? r->body : "", r->body_len, d);
}

bool http__parse_limit(struct http_request *r, int def, int max, int *out)
{
    const char *ls = http__query(r, "limit");
    if (!ls) {
        *out = def;
        return true;
    }
    char *end;
    long n = strtol(ls, &end, 10);
    if (!*ls || *end || n < 1 || n > max) {
        http__respond_error(r, MHD_HTTP_BAD_REQUEST, "INVALID_REQUEST",
                            "'limit' must be an integer between 1 and %d", max);
        return false;
    }
    *out = (int)n;
    return true;
}

bool http__parse_time(struct http_request *r, const char *name, int64_t *out_ms)
{
    const char *v = http__query(r, name);
    *out_ms = 0;
    if (!v)
        return true;
    if (!clock_parse_rfc3339(v, out_ms)) {
        http__respond_error(r, MHD_HTTP_BAD_REQUEST, "INVALID_REQUEST",
                            "'%s' must be an RFC 3339 time such as 2026-01-02T15:04:05Z", name);
        return false;
    }
    return true;
}

json_t *http__page_meta(bool has_more, const char *next_cursor)
{
    bool more = has_more && next_cursor && next_cursor[0];
    return json_pack("{s:b, s:o}", "has_more", more, "next_cursor",
                     more ? json_string(next_cursor) : json_null());
}

bool http__idempotency(struct http_request *r, char *key, size_t keylen, char sha[65])
{
    key[0] = sha[0] = '\0';
    const char *h = strcmp(r->method, "POST") == 0 ? http__header(r, "Idempotency-Key") : NULL;
    if (!h || !*h)
        return true;
    if (strlen(h) >= keylen) {
        snprintf(r->error_field, sizeof(r->error_field), "idempotency_key");
        http__respond_error(r, MHD_HTTP_BAD_REQUEST, "INVALID_REQUEST",
                            "the Idempotency-Key header is longer than %zu bytes", keylen - 1);
        return false;
    }
    snprintf(key, keylen, "%s", h);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char md[32];
    unsigned int n = 0;
    if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) ||
        !EVP_DigestUpdate(ctx, r->method, strlen(r->method) + 1) ||
        !EVP_DigestUpdate(ctx, r->url, strlen(r->url) + 1) ||
        !EVP_DigestUpdate(ctx, r->body ? r->body : "", r->body_len) ||
        !EVP_DigestFinal_ex(ctx, md, &n))
        abort();
    EVP_MD_CTX_free(ctx);
    for (int i = 0; i < 32; i++)
        snprintf(sha + 2 * i, 3, "%02x", md[i]);
    return true;
}

/* CORS (TENANCY.md §4): which origin the answers allow, from --portal-origins. */
void http__cors(struct http_request *r)
{
    const char *origin = http__header(r, "Origin");
    const char *allowed = r->server->deps.cfg->portal_origins;
    if (!origin || !*origin || strlen(origin) >= sizeof(r->cors_origin))
        return;
    if (!strcmp(allowed, "*")) {
        snprintf(r->cors_origin, sizeof(r->cors_origin), "*");
        return;
    }
    size_t n = strlen(origin);
    for (const char *p = allowed; *p;) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        while (len && *p == ' ')
            p++, len--;
        if (len == n && !strncmp(p, origin, n)) {
            snprintf(r->cors_origin, sizeof(r->cors_origin), "%s", origin);
            return;
        }
        p += len + (c ? 1 : 0);
    }
}

/*
 * router - maps method + path to a handler and authenticates /v1 routes
 * (Bearer key, looked up by its SHA-256; the key itself is never stored).
 * SPDX-License-Identifier: MIT
 */
#include <openssl/sha.h>
#include <string.h>
#include <strings.h>

#include "api/internal.h"

static bool is(const struct api_request *r, const char *m)
{
    return strcmp(r->method, m) == 0;
}

static bool seg(const struct api_request *r, int i, const char *s)
{
    return i < r->nseg && strcmp(r->seg[i], s) == 0;
}

static bool authenticate(struct api_request *r)
{
    const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0 || !h[7]) {
        api__respond_error(r, MHD_HTTP_UNAUTHORIZED, "UNAUTHORIZED",
                           "missing API key: send 'Authorization: Bearer <key>'");
        return false;
    }
    const char *key = h + 7;
    while (*key == ' ')
        key++;
    uint8_t digest[32];
    SHA256((const unsigned char *)key, strlen(key), digest);
    struct store *s = api__store_acquire(r->api);
    struct err_detail d = {0};
    enum err e = s ? store_api_key_find(s, digest, &r->key, &d) : ERR_IO;
    api__store_release(r->api, s);
    if (e == ERR_NOTFOUND) {
        api__respond_error(r, MHD_HTTP_UNAUTHORIZED, "UNAUTHORIZED", "invalid or inactive API key");
        return false;
    }
    if (e != ERR_OK) {
        api__respond_err(r, e, &d);
        return false;
    }
    return true;
}

static void method_not_allowed(struct api_request *r)
{
    api__respond_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED",
                       "method %s is not allowed on this path", r->method);
}

static void route_v1(struct api_request *r)
{
    int n = r->nseg;
    if (n == 3 && seg(r, 1, "webhooks") && seg(r, 2, "send")) {
        if (is(r, "POST")) {
            api__send(r);
            return;
        }
        {
            method_not_allowed(r);
            return;
        }
    }
    if (n == 2 && seg(r, 1, "endpoints")) {
        if (is(r, "POST")) {
            api__endpoints_create(r);
            return;
        }
        if (is(r, "GET")) {
            api__endpoints_list(r);
            return;
        }
        {
            method_not_allowed(r);
            return;
        }
    }
    if (n == 3 && seg(r, 1, "endpoints")) {
        if (is(r, "GET")) {
            api__endpoints_get(r, r->seg[2]);
            return;
        }
        if (is(r, "PATCH") || is(r, "PUT")) {
            api__endpoints_update(r, r->seg[2]);
            return;
        }
        if (is(r, "DELETE")) {
            api__endpoints_delete(r, r->seg[2]);
            return;
        }
        {
            method_not_allowed(r);
            return;
        }
    }
    if (n == 3 && seg(r, 1, "messages")) {
        if (is(r, "GET")) {
            api__messages_get(r, r->seg[2]);
            return;
        }
        {
            method_not_allowed(r);
            return;
        }
    }
    if (n == 4 && seg(r, 1, "messages") && seg(r, 3, "attempts")) {
        if (is(r, "GET")) {
            api__messages_attempts(r, r->seg[2]);
            return;
        }
        {
            method_not_allowed(r);
            return;
        }
    }
    api__respond_error(r, MHD_HTTP_NOT_FOUND, "NOT_FOUND", "no route for %s %s", r->method, r->url);
}

void api__route(struct api_request *r)
{
    if (r->nseg == 1 && seg(r, 0, "healthz") && (is(r, "GET") || is(r, "HEAD"))) {
        api__ops_healthz(r);
        return;
    }
    if (r->nseg == 1 && seg(r, 0, "metrics") && is(r, "GET")) {
        api__ops_metrics(r);
        return;
    }
    if (r->nseg >= 1 && seg(r, 0, "v1")) {
        if (!authenticate(r))
            return;
        route_v1(r);
        return;
    }
    api__respond_error(r, MHD_HTTP_NOT_FOUND, "NOT_FOUND", "no route for %s %s", r->method, r->url);
}

/*
 * router - hands each request to its surface by path prefix: /healthz and
 * /metrics (ops.c), /v1 (surface/hookbridge), /api/v1 (surface/svix), /api/...
 * (surface/hookbase), /portal/... (surface/portal), the built pages of
 * /portal/ and /console/ (static.c), and
 * path matching for the surfaces' route tables. Request bytes reach messages
 * only through http__respond_error, which makes them valid UTF-8.
 * SPDX-License-Identifier: MIT
 */
#include <string.h>
#include <strings.h>

#include "http/internal.h"
#include "surface/hookbase/hookbase.h"
#include "surface/hookbridge/hookbridge.h"
#include "surface/portal/portal.h"
#include "surface/svix/svix.h"

static bool is(const struct http_request *r, const char *m)
{
    return strcmp(r->method, m) == 0;
}

bool http__match(struct http_request *r, int first, const char *pattern)
{
    int i = first, np = 0;
    const char *p = pattern;
    while (*p) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (i >= r->nseg)
            return false;
        if (p[0] == ':') {
            if (np < HTTP_MAX_PARAMS)
                r->param[np++] = r->seg[i];
        } else if (strlen(r->seg[i]) != len || strncmp(r->seg[i], p, len) != 0) {
            return false;
        }
        i++;
        p += len + (end ? 1 : 0);
    }
    return i == r->nseg;
}

void http__dispatch(struct http_request *r, int first, const struct http_route *routes, size_t n)
{
    bool path_known = false;
    for (size_t i = 0; i < n; i++) {
        if (!http__match(r, first, routes[i].path))
            continue;
        if (!is(r, routes[i].method)) {
            path_known = true;
            continue;
        }
        routes[i].handler(r);
        return;
    }
    if (path_known)
        http__respond_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED",
                            "method %s is not allowed on %s", r->method, r->url);
    else
        http__respond_error(r, MHD_HTTP_NOT_FOUND, "NOT_FOUND", "no route for %s %s", r->method,
                            r->url);
}

/* RFC 9110 token: what a method may be made of. */
static bool is_token(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!strchr("!#$%&'*+-.^_`|~", *s) && !(*s >= '0' && *s <= '9') &&
            !(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z'))
            return false;
    return true;
}

void http__route(struct http_request *r)
{
    if (!is_token(r->method)) {
        http__respond_error(r, MHD_HTTP_BAD_REQUEST, "INVALID_REQUEST",
                            "the request method is not an HTTP token");
        return;
    }
    if (r->nseg == 1 && !strcmp(r->seg[0], "healthz") && (is(r, "GET") || is(r, "HEAD"))) {
        http__ops_healthz(r);
        return;
    }
    if (r->nseg == 1 && !strcmp(r->seg[0], "readyz") && (is(r, "GET") || is(r, "HEAD"))) {
        http__ops_readyz(r);
        return;
    }
    if (r->nseg == 1 && !strcmp(r->seg[0], "metrics") && is(r, "GET")) {
        http__ops_metrics(r);
        return;
    }
    if (r->nseg >= 1 && !strcmp(r->seg[0], "v1")) {
        hookbridge_route(r);
        return;
    }
    if (r->nseg >= 2 && !strcmp(r->seg[0], "api") && !strcmp(r->seg[1], "v1")) {
        svix_route(r);
        return;
    }
    if (http__static_owns(r)) { /* /portal/, /console/ and their assets */
        http__static(r);
        return;
    }
    if (r->nseg >= 1 && !strcmp(r->seg[0], "portal")) {
        portal_route(r);
        return;
    }
    if (hookbase_owns(r)) { /* /api/... but /api/v1 */
        hookbase_route(r);
        return;
    }
    http__respond_error(r, MHD_HTTP_NOT_FOUND, "NOT_FOUND", "no route for %s %s", r->method,
                        r->url);
}

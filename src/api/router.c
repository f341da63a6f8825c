/*
 * router - maps method + path to a handler and authenticates /v1 routes
 * (Bearer key, looked up by its SHA-256 - in keycache.c, else in the store;
 * the key itself is never stored). Failed authentications count against the
 * client address (ratelimit.c). Request bytes reach messages only through
 * api__respond_error, which makes them valid UTF-8.
 * SPDX-License-Identifier: MIT
 */
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <string.h>
#include <strings.h>

#include "api/internal.h"
#include "service/portal_tokens.h"
#include "surface/svix/svix.h"
#include "util/clock.h"

static EVP_MD *sha256_md;

static void fetch_sha256(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL); /* kept for the process lifetime */
}

static bool is(const struct api_request *r, const char *m)
{
    return strcmp(r->method, m) == 0;
}

struct route {
    const char *method;
    const char *path; /* segments after /v1; ":x" captures one segment into r->param */
    void (*handler)(struct api_request *r);
};

/* Every /v1 route. Literal segments are listed before captures on the same
 * level (e.g. /messages/replay-all before /messages/:id), first match wins. */
static const struct route routes[] = {
    {"POST", "webhooks/send", api__send},
    {"GET", "api-keys", api__keys_list},
    {"POST", "api-keys", api__keys_create},
    {"DELETE", "api-keys/:id", api__keys_delete},
    {"POST", "endpoints", api__endpoints_create},
    {"GET", "endpoints", api__endpoints_list},
    {"GET", "endpoints/:id", api__endpoints_get},
    {"PATCH", "endpoints/:id", api__endpoints_update},
    {"PUT", "endpoints/:id", api__endpoints_update},
    {"DELETE", "endpoints/:id", api__endpoints_delete},
    {"POST", "endpoints/:id/pause", api__endpoints_pause},
    {"POST", "endpoints/:id/resume", api__endpoints_resume},
    {"POST", "endpoints/:id/signing-keys", api__signing_keys_create},
    {"GET", "endpoints/:id/signing-keys", api__signing_keys_list},
    {"DELETE", "endpoints/:id/signing-keys/:key", api__signing_keys_delete},
    {"POST", "messages/replay-all", api__messages_replay_all},
    {"POST", "messages/replay-batch", api__messages_replay_batch},
    {"POST", "messages/delete-batch", api__messages_delete_batch},
    {"POST", "messages/delete-all", api__messages_delete_all},
    {"GET", "messages/:id", api__messages_get},
    {"DELETE", "messages/:id", api__messages_delete},
    {"GET", "messages/:id/attempts", api__messages_attempts},
    {"POST", "messages/:id/replay", api__messages_replay},
    {"POST", "messages/:id/retry-now", api__messages_retry_now},
    {"POST", "messages/:id/cancel", api__messages_cancel},
    {"GET", "logs", api__logs_list},
    {"GET", "metrics", api__metrics_summary},
    {"GET", "metrics/timeseries", api__metrics_timeseries},
    {"GET", "dlq/messages", api__dlq_list},
    {"POST", "dlq/replay/:id", api__dlq_replay},
};

bool api__match(struct api_request *r, int first, const char *pattern)
{
    int i = first, np = 0;
    const char *p = pattern;
    while (*p) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (i >= r->nseg)
            return false;
        if (p[0] == ':') {
            if (np < API_MAX_PARAMS)
                r->param[np++] = r->seg[i];
        } else if (strlen(r->seg[i]) != len || strncmp(r->seg[i], p, len) != 0) {
            return false;
        }
        i++;
        p += len + (end ? 1 : 0);
    }
    return i == r->nseg;
}

/* SHA-256 of the presented key. OpenSSL 3's one-shot SHA256() looks the
 * algorithm up on every call (about two thirds of its cost here): fetch it once. */
static void key_digest(const char *key, uint8_t digest[32])
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, fetch_sha256);
    const EVP_MD *md = sha256_md;
    unsigned int len = 0;
    if (!md || !EVP_Digest(key, strlen(key), digest, &len, md, NULL))
        SHA256((const unsigned char *)key, strlen(key), digest);
}

/* A 401, or a 429 RATE_LIMITED when the client address has failed too often
 * (ratelimit.c); valid keys never reach this. */
static void auth_failed(struct api_request *r, const char *msg)
{
    int64_t retry_after_s = 0;
    if (!api__authfail_take(r->api->authfail, api__client_ip(r), clock_mono_ms(), &retry_after_s)) {
        r->retry_after_s = retry_after_s;
        api__respond_error(r, MHD_HTTP_TOO_MANY_REQUESTS, "RATE_LIMITED",
                           "too many failed authentication attempts from this address; retry "
                           "after %lld s",
                           (long long)retry_after_s);
        return;
    }
    api__respond_error(r, MHD_HTTP_UNAUTHORIZED, "UNAUTHORIZED", "%s", msg);
}

/* A portal token: the request acts for its application only (mode from the token). */
static bool authenticate_portal(struct api_request *r, const char *token)
{
    struct store_portal_token t = {0};
    struct err_detail d = {0};
    struct store *s = api__store_acquire(r->api);
    enum err e = s ? service_portal_authenticate(s, token, &t, &d) : ERR_IO;
    api__store_release(r->api, s);
    if (e == ERR_NOTFOUND) {
        auth_failed(r, d.msg[0] ? d.msg : "invalid portal token");
        return false;
    }
    if (e != ERR_OK) {
        api__respond_err(r, e, &d);
        return false;
    }
    memset(&r->key, 0, sizeof(r->key));
    snprintf(r->key.id, sizeof(r->key.id), "%s", t.id);
    snprintf(r->key.mode, sizeof(r->key.mode), "%s", t.mode);
    snprintf(r->key.prefix, sizeof(r->key.prefix), "whpt");
    r->portal = true;
    r->portal_write = service_portal_can_write(&t);
    snprintf(r->portal_app, sizeof(r->portal_app), "%s", t.application_id);
    store_portal_token_release(&t);
    r->authenticated = true;
    return api__ratelimit_check(r);
}

bool api__authenticate(struct api_request *r)
{
    const char *h = api__header(r, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0 || !h[7]) {
        auth_failed(r, "missing API key: send 'Authorization: Bearer <key>'");
        return false;
    }
    const char *key = h + 7;
    while (*key == ' ')
        key++;
    if (!strncmp(key, PORTAL_TOKEN_PREFIX, strlen(PORTAL_TOKEN_PREFIX)))
        return authenticate_portal(r, key);
    uint8_t digest[32];
    key_digest(key, digest);
    int64_t now_mono = clock_mono_ms();
    if (!api__keycache_get(r->api->keycache, digest, now_mono, &r->key)) {
        uint64_t gen = api__keycache_generation(r->api->keycache);
        struct store *s = api__store_acquire(r->api);
        struct err_detail d = {0};
        enum err e = s ? store_api_key_find(s, digest, &r->key, &d) : ERR_IO;
        api__store_release(r->api, s);
        if (e == ERR_NOTFOUND) {
            auth_failed(r, "invalid or inactive API key");
            return false;
        }
        if (e != ERR_OK) {
            api__respond_err(r, e, &d);
            return false;
        }
        api__keycache_put(r->api->keycache, digest, &r->key, gen, now_mono);
    }
    /* Only a known key is counted: a 401 costs nobody a token. */
    r->authenticated = true;
    api__keys_touch(r);
    return api__ratelimit_check(r);
}

static void route_v1(struct api_request *r)
{
    if (r->portal) {
        api__respond_error(r, MHD_HTTP_FORBIDDEN, "FORBIDDEN",
                           "a portal token acts only for its application, not on /v1");
        return;
    }
    bool path_known = false;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (!api__match(r, 1, routes[i].path))
            continue;
        if (!is(r, routes[i].method)) {
            path_known = true;
            continue;
        }
        routes[i].handler(r);
        return;
    }
    if (path_known)
        api__respond_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED",
                           "method %s is not allowed on %s", r->method, r->url);
    else
        api__respond_error(r, MHD_HTTP_NOT_FOUND, "NOT_FOUND", "no route for %s %s", r->method,
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

void api__route(struct api_request *r)
{
    if (!is_token(r->method)) {
        api__respond_error(r, MHD_HTTP_BAD_REQUEST, "INVALID_REQUEST",
                           "the request method is not an HTTP token");
        return;
    }
    if (r->nseg == 1 && !strcmp(r->seg[0], "healthz") && (is(r, "GET") || is(r, "HEAD"))) {
        api__ops_healthz(r);
        return;
    }
    if (r->nseg == 1 && !strcmp(r->seg[0], "metrics") && is(r, "GET")) {
        api__ops_metrics(r);
        return;
    }
    if (r->nseg >= 1 && !strcmp(r->seg[0], "v1")) {
        if (api__authenticate(r))
            route_v1(r);
        return;
    }
    if (r->nseg >= 2 && !strcmp(r->seg[0], "api") && !strcmp(r->seg[1], "v1")) {
        svix_route(r);
        return;
    }
    api__respond_error(r, MHD_HTTP_NOT_FOUND, "NOT_FOUND", "no route for %s %s", r->method, r->url);
}

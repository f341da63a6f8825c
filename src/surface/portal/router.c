/*
 * portal router - /portal/... routes (see portal.h): CORS, the token's
 * scope, and GET /portal/application; the rest are Hookbase's handlers run
 * with r->portal set, which scope every read and write to r->portal_app.
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "service/applications.h"
#include "surface/hookbase/internal.h"
#include "surface/portal/portal.h"

static void application(struct http_request *r)
{
    struct store_application a = {0};
    struct err_detail d = {0};
    struct store *s = http__store_acquire(r->server);
    enum err e = s ? service_app_get(s, r->key.mode, r->portal_app, &a, &d) : ERR_IO;
    http__store_release(r->server, s);
    if (e != ERR_OK) {
        store_application_release(&a);
        http__respond_err(r, e, &d);
        return;
    }
    hookbase__respond_data(r, MHD_HTTP_OK,
                           json_pack("{s:s, s:s, s:o}", "id", a.id, "name", a.name ? a.name : "",
                                     "organizationId", json_null()));
    store_application_release(&a);
}

static const struct http_route routes[] = {
    {"GET", "application", application},
    {"GET", "endpoints", hookbase__endpoint_list},
    {"POST", "endpoints", hookbase__endpoint_create},
    {"GET", "endpoints/:id", hookbase__endpoint_get},
    {"PATCH", "endpoints/:id", hookbase__endpoint_patch},
    {"DELETE", "endpoints/:id", hookbase__endpoint_delete},
    {"POST", "endpoints/:id/rotate-secret", hookbase__endpoint_rotate},
    {"POST", "endpoints/:id/replay-failed", hookbase__endpoint_replay_failed},
    {"POST", "endpoints/:id/verify", hookbase__endpoint_verify},
    {"POST", "endpoints/:id/test", hookbase__endpoint_test},
    {"GET", "event-types", hookbase__portal_event_types},
    {"GET", "subscriptions", hookbase__subscription_list},
    {"POST", "subscriptions", hookbase__subscription_create},
    {"DELETE", "subscriptions/:id", hookbase__subscription_delete},
    {"GET", "messages", hookbase__outbound_list},
    {"GET", "messages/:id", hookbase__outbound_get},
    {"GET", "messages/:id/attempts", hookbase__outbound_attempts},
    {"POST", "messages/:id/replay", hookbase__outbound_replay},
};

void portal_route(struct http_request *r)
{
    r->render_error = hookbase__render_error;
    http__cors(r);
    if (!strcmp(r->method, "OPTIONS")) { /* a preflight: answered without a token */
        static const struct http_header h[] = {
            {"Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE"},
            {"Access-Control-Allow-Headers", "Authorization, Content-Type, Idempotency-Key"},
            {"Access-Control-Max-Age", "600"}};
        http__respond_raw(r, MHD_HTTP_NO_CONTENT, "", 0, h, sizeof(h) / sizeof(h[0]));
        return;
    }
    if (!http__authenticate(r))
        return;
    if (!r->portal) {
        http__respond_error(r, MHD_HTTP_FORBIDDEN, "FORBIDDEN",
                            "the portal routes take a portal token (whpt_...), not an API key");
        return;
    }
    bool read = !strcmp(r->method, "GET") || !strcmp(r->method, "HEAD");
    if (!read && !r->portal_write) {
        http__respond_error(r, MHD_HTTP_FORBIDDEN, "FORBIDDEN",
                            "this portal token is read-only: it may not %s %s", r->method, r->url);
        return;
    }
    char key[STORE_IDEM_KEY_MAX + 1], sha[65];
    if (!http__idempotency(r, key, sizeof(key), sha))
        return;
    http__dispatch(r, 1, routes, sizeof(routes) / sizeof(routes[0]));
}

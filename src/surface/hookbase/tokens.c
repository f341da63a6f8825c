/*
 * hookbase portal tokens - POST /api/portal/webhook-applications/{app}/tokens
 * and .../magic-link onto service/portal_tokens. A token (whpt_..., stored
 * as a SHA-256 only, shown once) acts for one application through
 * /portal/... with its scopes until it expires. A magic link is a token of
 * 1 to 1440 minutes (default 60) and the URL of hookd's portal page with it:
 * <scheme://host of the request>/portal/?token=<token>. GET .../tokens lists an
 * application's tokens (never the secrets: their first 12 characters) and
 * DELETE /api/portal/tokens/{id} revokes one: its next request is a 401.
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "service/portal_tokens.h"
#include "surface/hookbase/internal.h"
#include "util/clock.h"

struct token_op {
    struct service_portal_token_op svc;
    bool magic;
    char base[300]; /* scheme://host of the request, for the URL */
};

static json_t *scopes_json(const char *scopes)
{
    json_t *a = json_array();
    json_array_append_new(a, json_string("read"));
    if (strstr(scopes, "write"))
        json_array_append_new(a, json_string("write"));
    return a;
}

static void token_done(struct http_request *r)
{
    struct token_op *x = r->op;
    struct commit_op *op = &x->svc.head.op;
    const struct store_portal_token *t = &x->svc.token;
    if (op->result != ERR_OK) {
        http__respond_err(r, op->result, &op->detail);
    } else if (x->magic) {
        char url[512];
        snprintf(url, sizeof(url), "%s/portal/?token=%s", x->base, x->svc.secret);
        hookbase__respond_data(r, MHD_HTTP_CREATED,
                               json_pack("{s:s, s:s, s:o}", "url", url, "token", x->svc.secret,
                                         "expiresAt", hookbase__time(t->expires_at_ms)));
    } else {
        char prefix[16];
        snprintf(prefix, sizeof(prefix), "%.12s", x->svc.secret);
        hookbase__respond_data(
            r, MHD_HTTP_CREATED,
            json_pack(
                "{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "id", t->id, "applicationId",
                t->application_id, "token", x->svc.secret, "tokenPrefix", prefix, "name",
                t->name[0] ? json_string(t->name) : json_null(), "scopes", scopes_json(t->scopes),
                "allowedIps", hookbase__json_or(t->allowed_ips_json, json_null()), "expiresAt",
                hookbase__time(t->expires_at_ms), "createdAt", hookbase__time(t->created_at_ms)));
    }
    service_portal_token_op_release(&x->svc);
    free(x);
}

/* An optional integer field into *out (0 when absent); false after answering. */
static bool int_field(struct http_request *r, json_t *body, const char *wire, const char *domain,
                      int64_t *out)
{
    json_t *v = json_object_get(body, wire);
    *out = 0;
    if (!v || json_is_null(v))
        return true;
    if (json_is_integer(v) && json_integer_value(v) > 0) {
        *out = json_integer_value(v);
        return true;
    }
    snprintf(r->error_field, sizeof(r->error_field), "%s", domain);
    http__respond_error(r, MHD_HTTP_BAD_REQUEST, "INVALID_REQUEST",
                        "'%s' must be a positive integer", wire);
    return false;
}

static void submit(struct http_request *r, bool magic)
{
    json_t *body = hookbase__body(r);
    if (!body)
        return;
    int64_t n = 0;
    const char *wire = magic ? "expiresInMinutes" : "expiresInDays";
    const char *domain = magic ? "expires_in_minutes" : "expires_in_days";
    if (!int_field(r, body, wire, domain, &n)) {
        json_decref(body);
        return;
    }
    int64_t unit = magic ? 60 : 86400;
    struct portal_token_fields f = {.name = magic ? NULL : json_object_get(body, "name"),
                                    .scopes = json_object_get(body, "scopes"),
                                    .allowed_ips =
                                        magic ? NULL : json_object_get(body, "allowedIps"),
                                    .expiry_s = n > 100000 ? -1 : n * unit,
                                    .min_s = unit,
                                    .max_s = (magic ? 1440 : 365) * unit,
                                    .def_s = (magic ? 60 : 30) * unit,
                                    .expiry_field = domain};
    struct token_op *x = calloc(1, sizeof(*x));
    if (!x)
        abort();
    x->magic = magic;
    struct err_detail d = {0};
    enum err e = service_portal_token_op_init_fields(&x->svc, r->key.mode, r->param[0], &f, &d);
    json_decref(body);
    if (e != ERR_OK) {
        free(x);
        if (!strcmp(d.field, domain))
            snprintf(d.msg, sizeof(d.msg), "'%s' must be from 1 to %d", wire, magic ? 1440 : 365);
        http__respond_err(r, e, &d);
        return;
    }
    const char *host = http__header(r, "Host");
    bool sane =
        host && *host && strlen(host) < 256 &&
        strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") ==
            strlen(host);
    snprintf(x->base, sizeof(x->base), "http://%s", sane ? host : "localhost");
    hookbase__defer(r, &x->svc.head, token_done);
}

void hookbase__token_create(struct http_request *r)
{
    submit(r, false);
}

void hookbase__magic_link(struct http_request *r)
{
    submit(r, true);
}

#define TOKEN_LIST_MAX 200

void hookbase__token_list(struct http_request *r)
{
    struct store_portal_token *tokens = calloc(TOKEN_LIST_MAX, sizeof(*tokens));
    if (!tokens)
        abort();
    int n = 0;
    struct err_detail d = {0};
    struct store *s = http__store_acquire(r->server);
    enum err e =
        s ? service_portal_tokens_list(s, r->key.mode, r->param[0], tokens, TOKEN_LIST_MAX, &n, &d)
          : ERR_IO;
    http__store_release(r->server, s);
    json_t *items = json_array();
    int64_t now = clock_now_ms();
    for (int i = 0; i < n; i++) {
        const struct store_portal_token *t = &tokens[i];
        json_array_append_new(
            items, json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:b, s:o}", "id", t->id,
                             "applicationId", t->application_id, "tokenPrefix",
                             t->prefix[0] ? json_string(t->prefix) : json_null(), "name",
                             t->name[0] ? json_string(t->name) : json_null(), "scopes",
                             scopes_json(t->scopes), "allowedIps",
                             hookbase__json_or(t->allowed_ips_json, json_null()), "expiresAt",
                             hookbase__time(t->expires_at_ms), "createdAt",
                             hookbase__time(t->created_at_ms), "isExpired", t->expires_at_ms <= now,
                             "isRevoked", t->revoked_at_ms != 0, "revokedAt",
                             t->revoked_at_ms ? hookbase__time(t->revoked_at_ms) : json_null()));
        store_portal_token_release(&tokens[i]);
    }
    free(tokens);
    if (e != ERR_OK) {
        json_decref(items);
        http__respond_err(r, e, &d);
        return;
    }
    hookbase__respond_data(r, MHD_HTTP_OK, items);
}

struct revoke_op {
    struct service_portal_token_revoke_op svc;
};

static void revoke_done(struct http_request *r)
{
    struct revoke_op *x = r->op;
    struct commit_op *op = &x->svc.head.op;
    if (op->result != ERR_OK)
        http__respond_err(r, op->result, &op->detail);
    else
        hookbase__respond_no_content(r);
    free(x);
}

void hookbase__token_revoke(struct http_request *r)
{
    struct revoke_op *x = calloc(1, sizeof(*x));
    if (!x)
        abort();
    service_portal_token_revoke_op_init(&x->svc, r->key.mode, r->param[0]);
    hookbase__defer(r, &x->svc.head, revoke_done);
}

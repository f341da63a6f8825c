/*
 * svix portal - POST /api/v1/auth/app-portal-access/{app}: a portal token for
 * one application (service/portal_tokens) and the URL of hookd's portal page
 * with it. `readOnly`, or capabilities that include none of the Manage* /
 * CreateAttempts ones, make a read-only token; `expiry` is in seconds.
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "service/portal_tokens.h"
#include "surface/svix/internal.h"

struct portal_op {
    struct service_portal_token_op svc;
    char base[300]; /* scheme://host of the request, for the URL */
};

static void access_done(struct http_request *r)
{
    struct portal_op *x = svix__op(r);
    struct commit_op *op = &x->svc.head.op;
    if (op->result != ERR_OK) {
        http__respond_err(r, op->result, &op->detail);
    } else {
        /* the token rides in the fragment: browsers never send it to a server */
        char url[512];
        snprintf(url, sizeof(url), "%s/portal/#token=%s", x->base, x->svc.secret);
        http__respond_json(r, MHD_HTTP_OK,
                           json_pack("{s:s, s:s}", "url", url, "token", x->svc.secret));
    }
    service_portal_token_op_release(&x->svc);
    free(x);
}

/* Do the capabilities (an array of strings) include any that writes? */
static bool writes(const json_t *caps)
{
    size_t i;
    json_t *v;
    json_array_foreach(caps, i, v)
    {
        const char *c = json_string_value(v);
        if (c && (!strncmp(c, "Manage", 6) || !strcmp(c, "CreateAttempts")))
            return true;
    }
    return false;
}

void svix__app_portal_access(struct http_request *r)
{
    json_t *body = svix__body(r);
    if (!body)
        return;
    json_t *expiry = json_object_get(body, "expiry");
    json_t *ro = json_object_get(body, "readOnly");
    json_t *caps = json_object_get(body, "capabilities");
    int64_t expiry_s = json_is_integer(expiry) ? json_integer_value(expiry) : 0;
    bool read_only = json_is_true(ro) || (json_is_array(caps) && !writes(caps));
    struct err_detail d = {0};
    enum err e = ERR_OK;
    if (expiry && !json_is_null(expiry) && !json_is_integer(expiry))
        e = err_set_field(&d, ERR_INVAL, "INVALID_REQUEST", "expiry",
                          "'expiry' must be a number of seconds");
    struct portal_op *x = calloc(1, sizeof(*x));
    if (!x)
        abort();
    if (e == ERR_OK)
        e = service_portal_token_op_init(&x->svc, r->key.mode, r->param[0], expiry_s, read_only,
                                         &d);
    json_decref(body);
    if (e != ERR_OK) {
        free(x);
        http__respond_err(r, e, &d);
        return;
    }
    const char *host = http__header(r, "Host");
    bool sane =
        host && *host && strlen(host) < 256 &&
        strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") ==
            strlen(host);
    snprintf(x->base, sizeof(x->base), "http://%s", sane ? host : "localhost");
    svix__defer(r, &x->svc.head, access_done);
}

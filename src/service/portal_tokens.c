/* portal_tokens - see portal_tokens.h. SPDX-License-Identifier: MIT */
#include "service/portal_tokens.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"

static void digest(const char *secret, uint8_t out[32])
{
    unsigned int n = 0;
    if (!EVP_Digest(secret, strlen(secret), out, &n, EVP_sha256(), NULL))
        abort();
}

static enum err apply(struct store *s, struct commit_op *op)
{
    struct service_portal_token_op *x = (struct service_portal_token_op *)op;
    struct store_application app = {0};
    enum err e = store_application_get(s, x->mode, x->app, &app, &op->detail);
    if (e != ERR_OK)
        return e;
    struct store_portal_token *t = &x->token;
    memset(t, 0, sizeof(*t));
    t->created_at_ms = clock_now_ms();
    id_time_ordered(t->id, sizeof(t->id), "ptok_", t->created_at_ms);
    snprintf(t->mode, sizeof(t->mode), "%s", x->mode);
    snprintf(t->application_id, sizeof(t->application_id), "%s", app.id);
    snprintf(t->scopes, sizeof(t->scopes), "%s", x->read_only ? "read" : "read,write");
    t->expires_at_ms = t->created_at_ms + x->expiry_s * 1000;
    store_application_release(&app);
    unsigned char raw[24];
    id_os_random(raw, sizeof(raw));
    char *p = x->secret + snprintf(x->secret, sizeof(x->secret), PORTAL_TOKEN_PREFIX);
    for (size_t i = 0; i < sizeof(raw); i++)
        p += snprintf(p, 3, "%02x", raw[i]);
    uint8_t sha[32];
    digest(x->secret, sha);
    return store_portal_token_insert(s, t, sha, &op->detail);
}

enum err service_portal_token_op_init(struct service_portal_token_op *x, const char *mode,
                                      const char *app, int64_t expiry_s, bool read_only,
                                      struct err_detail *d)
{
    memset(x, 0, sizeof(*x));
    if (expiry_s == 0)
        expiry_s = PORTAL_EXPIRY_DEFAULT_S;
    if (expiry_s < PORTAL_EXPIRY_MIN_S || expiry_s > PORTAL_EXPIRY_MAX_S)
        return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", "expiry",
                             "'expiry' must be from %d to %d seconds", PORTAL_EXPIRY_MIN_S,
                             PORTAL_EXPIRY_MAX_S);
    snprintf(x->mode, sizeof(x->mode), "%s", mode);
    x->app = strdup(app);
    if (!x->app)
        abort();
    x->expiry_s = expiry_s;
    x->read_only = read_only;
    x->head.op.apply = apply;
    return ERR_OK;
}

void service_portal_token_op_release(struct service_portal_token_op *x)
{
    free(x->app);
    x->app = NULL;
    store_portal_token_release(&x->token);
    explicit_bzero(x->secret, sizeof(x->secret));
}

enum err service_portal_authenticate(struct store *s, const char *secret,
                                     struct store_portal_token *out, struct err_detail *d)
{
    uint8_t sha[32];
    digest(secret, sha);
    enum err e = store_portal_token_find(s, sha, out, d);
    if (e != ERR_OK)
        return e;
    if (out->revoked_at_ms || out->expires_at_ms <= clock_now_ms()) {
        store_portal_token_release(out);
        return err_set(d, ERR_NOTFOUND, "UNAUTHORIZED", "the portal token has %s",
                       out->revoked_at_ms ? "been revoked" : "expired");
    }
    return ERR_OK;
}

bool service_portal_can_write(const struct store_portal_token *t)
{
    return strstr(t->scopes, "write") != NULL;
}

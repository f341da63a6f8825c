/* portal_tokens - see portal_tokens.h. SPDX-License-Identifier: MIT */
#include "service/portal_tokens.h"

#include <arpa/inet.h>
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
    snprintf(t->scopes, sizeof(t->scopes), "%s",
             x->scopes[0]   ? x->scopes
             : x->read_only ? "read"
                            : "read,write");
    snprintf(t->name, sizeof(t->name), "%s", x->name);
    if (x->allowed_ips_json && !(t->allowed_ips_json = strdup(x->allowed_ips_json)))
        abort();
    t->expires_at_ms = t->created_at_ms + x->expiry_s * 1000;
    store_application_release(&app);
    unsigned char raw[24];
    id_os_random(raw, sizeof(raw));
    char *p = x->secret + snprintf(x->secret, sizeof(x->secret), PORTAL_TOKEN_PREFIX);
    for (size_t i = 0; i < sizeof(raw); i++)
        p += snprintf(p, 3, "%02x", raw[i]);
    snprintf(t->prefix, sizeof(t->prefix), "%.12s", x->secret);
    uint8_t sha[32];
    digest(x->secret, sha);
    return store_portal_token_insert(s, t, sha, &op->detail);
}

enum err service_portal_tokens_list(struct store *s, const char *mode, const char *app,
                                    struct store_portal_token *out, int max, int *n,
                                    struct err_detail *d)
{
    struct store_application a = {0};
    enum err e = store_application_get(s, mode, app, &a, d);
    if (e == ERR_OK)
        e = store_portal_token_list(s, mode, a.id, max, out, n, d);
    store_application_release(&a);
    return e;
}

static enum err revoke_apply(struct store *s, struct commit_op *op)
{
    struct service_portal_token_revoke_op *x = (struct service_portal_token_revoke_op *)op;
    return store_portal_token_revoke(s, x->mode, x->id, clock_now_ms(), &op->detail);
}

void service_portal_token_revoke_op_init(struct service_portal_token_revoke_op *x, const char *mode,
                                         const char *id)
{
    memset(x, 0, sizeof(*x));
    snprintf(x->mode, sizeof(x->mode), "%s", mode);
    snprintf(x->id, sizeof(x->id), "%s", id);
    x->head.op.apply = revoke_apply;
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
    free(x->allowed_ips_json);
    x->allowed_ips_json = NULL;
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

/* An address or IPv4 CIDR entry of allowed_ips. */
static bool ip_entry_ok(const char *v)
{
    char buf[64];
    unsigned char addr[16];
    if (strlen(v) >= sizeof(buf))
        return false;
    snprintf(buf, sizeof(buf), "%s", v);
    char *slash = strchr(buf, '/');
    if (slash) {
        *slash = '\0';
        char *end;
        long bits = strtol(slash + 1, &end, 10);
        return slash[1] && !*end && bits >= 0 && bits <= 32 && inet_pton(AF_INET, buf, addr) == 1;
    }
    return inet_pton(AF_INET, buf, addr) == 1 || inet_pton(AF_INET6, buf, addr) == 1;
}

enum err service_portal_token_op_init_fields(struct service_portal_token_op *x, const char *mode,
                                             const char *app, const struct portal_token_fields *f,
                                             struct err_detail *d)
{
    memset(x, 0, sizeof(*x));
    int64_t expiry_s = f->expiry_s ? f->expiry_s : f->def_s;
    if (expiry_s < f->min_s || expiry_s > f->max_s)
        return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", f->expiry_field,
                             "'%s' is out of range", f->expiry_field);
    if (f->name && !json_is_null(f->name) &&
        (!json_is_string(f->name) || json_string_length(f->name) >= sizeof(x->name)))
        return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", "name",
                             "'name' must be a string of at most 127 bytes");
    bool read = false, write = false;
    if (f->scopes && !json_is_null(f->scopes)) {
        size_t i;
        json_t *v;
        bool ok = json_is_array(f->scopes) && json_array_size(f->scopes) > 0;
        json_array_foreach(f->scopes, i, v)
        {
            const char *sc = json_string_value(v);
            if (sc && !strcmp(sc, "read"))
                read = true;
            else if (sc && !strcmp(sc, "write"))
                write = true;
            else
                ok = false;
        }
        if (!ok)
            return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", "scopes",
                                 "'scopes' must be a non-empty array of 'read' and 'write'");
    } else {
        read = write = true;
    }
    (void)read; /* write implies read: a portal that cannot see cannot edit */
    if (f->allowed_ips && !json_is_null(f->allowed_ips)) {
        size_t i;
        json_t *v;
        bool ok = json_is_array(f->allowed_ips) && json_array_size(f->allowed_ips) <= 100;
        json_array_foreach(f->allowed_ips, i, v)
        {
            if (!json_is_string(v) || !ip_entry_ok(json_string_value(v)))
                ok = false;
        }
        if (!ok)
            return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", "allowed_ips",
                                 "'allowed_ips' must be an array of IP addresses or IPv4 CIDRs");
        if (json_array_size(f->allowed_ips) &&
            !(x->allowed_ips_json = json_dumps(f->allowed_ips, JSON_COMPACT)))
            abort();
    }
    snprintf(x->mode, sizeof(x->mode), "%s", mode);
    x->app = strdup(app);
    if (!x->app)
        abort();
    x->expiry_s = expiry_s;
    x->read_only = !write;
    snprintf(x->scopes, sizeof(x->scopes), "%s", write ? "read,write" : "read");
    if (json_is_string(f->name))
        snprintf(x->name, sizeof(x->name), "%s", json_string_value(f->name));
    x->head.op.apply = apply;
    return ERR_OK;
}

bool service_portal_ip_allowed(const struct store_portal_token *t, const char *ip)
{
    if (!t->allowed_ips_json)
        return true;
    json_t *list = json_loads(t->allowed_ips_json, 0, NULL);
    if (!json_is_array(list) || !json_array_size(list)) {
        json_decref(list);
        return true;
    }
    const char *addr_text = !strncmp(ip, "::ffff:", 7) && strchr(ip, '.') ? ip + 7 : ip;
    struct in_addr a4;
    unsigned char a6[16], e6[16];
    bool is4 = inet_pton(AF_INET, addr_text, &a4) == 1;
    bool is6 = !is4 && inet_pton(AF_INET6, addr_text, a6) == 1;
    bool ok = false;
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        char buf[64];
        snprintf(buf, sizeof(buf), "%s", json_string_value(v) ? json_string_value(v) : "");
        char *slash = strchr(buf, '/');
        long bits = 32;
        if (slash) {
            *slash = '\0';
            bits = strtol(slash + 1, NULL, 10);
        }
        struct in_addr e4;
        if (is4 && inet_pton(AF_INET, buf, &e4) == 1) {
            uint32_t mask = bits <= 0 ? 0 : bits >= 32 ? 0xffffffffu : ~((1u << (32 - bits)) - 1);
            if ((ntohl(a4.s_addr) & mask) == (ntohl(e4.s_addr) & mask))
                ok = true;
        } else if (is6 && !slash && inet_pton(AF_INET6, buf, e6) == 1 && !memcmp(a6, e6, 16)) {
            ok = true;
        }
    }
    json_decref(list);
    return ok;
}

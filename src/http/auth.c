/*
 * auth - who a request is: the Bearer API key (looked up by its SHA-256, in
 * keycache.c, else in the store; the key itself is never stored) or a portal
 * token (service/portal_tokens.h), the key's last_used_at touch, and the
 * throttle of failed authentications per client address (ratelimit.c).
 * Every surface authenticates through http__authenticate.
 * SPDX-License-Identifier: MIT
 */
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/internal.h"
#include "service/portal_tokens.h"
#include "util/clock.h"
#include "util/log.h"

static EVP_MD *sha256_md;

static void fetch_sha256(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL); /* kept for the process lifetime */
}

struct touch_op {
    struct commit_op op;
    char key_id[ID_MAX];
    int64_t now_ms;
};

static enum err touch_apply(struct store *s, struct commit_op *op)
{
    struct touch_op *t = (struct touch_op *)op;
    return store_api_key_touch(s, t->key_id, t->now_ms, &op->detail);
}

static void touch_done(struct commit_op *op)
{
    struct touch_op *t = (struct touch_op *)op;
    if (op->result != ERR_OK)
        log_warn("api", "cannot update last_used_at of api key %s: %s", t->key_id,
                 op->detail.msg[0] ? op->detail.msg : err_str(op->result));
    free(t);
}

static void keys_touch(struct http_request *r)
{
    int64_t now = clock_now_ms();
    if (r->key.last_used_at_ms && now - r->key.last_used_at_ms < API_KEY_TOUCH_MS)
        return;
    if (!http__ratelimit_claim_touch(r->server->ratelimit, r->key.id, clock_mono_ms()))
        return;
    struct touch_op *t = calloc(1, sizeof(*t));
    if (!t)
        abort();
    snprintf(t->key_id, sizeof(t->key_id), "%s", r->key.id);
    t->now_ms = now;
    t->op.apply = touch_apply;
    t->op.done = touch_done;
    committer_submit(r->server->deps.committer, &t->op);
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
static void auth_failed(struct http_request *r, const char *msg)
{
    int64_t retry_after_s = 0;
    if (!http__authfail_take(r->server->authfail, http__client_ip(r), clock_mono_ms(),
                             &retry_after_s)) {
        r->retry_after_s = retry_after_s;
        http__respond_error(r, MHD_HTTP_TOO_MANY_REQUESTS, "RATE_LIMITED",
                            "too many failed authentication attempts from this address; retry "
                            "after %lld s",
                            (long long)retry_after_s);
        return;
    }
    http__respond_error(r, MHD_HTTP_UNAUTHORIZED, "UNAUTHORIZED", "%s", msg);
}

/* A portal token: the request acts for its application only (mode from the token). */
static bool authenticate_portal(struct http_request *r, const char *token)
{
    struct store_portal_token t = {0};
    struct err_detail d = {0};
    struct store *s = http__store_acquire(r->server);
    enum err e = s ? service_portal_authenticate(s, token, &t, &d) : ERR_IO;
    http__store_release(r->server, s);
    if (e == ERR_NOTFOUND) {
        auth_failed(r, d.msg[0] ? d.msg : "invalid portal token");
        return false;
    }
    if (e != ERR_OK) {
        http__respond_err(r, e, &d);
        return false;
    }
    if (!service_portal_ip_allowed(&t, http__client_ip(r))) {
        store_portal_token_release(&t);
        http__respond_error(r, MHD_HTTP_FORBIDDEN, "FORBIDDEN",
                            "this portal token may not be used from this address");
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
    return http__ratelimit_check(r);
}

bool http__authenticate(struct http_request *r)
{
    const char *h = http__header(r, "Authorization");
    const char *x_api_key = http__header(r, "x-api-key"); /* Hookbase's clients */
    if ((!h || !*h) && x_api_key && *x_api_key)
        h = NULL;
    else if (!h || strncasecmp(h, "Bearer ", 7) != 0 || !h[7]) {
        auth_failed(r, "missing API key: send 'Authorization: Bearer <key>'");
        return false;
    }
    const char *key = h ? h + 7 : x_api_key;
    while (*key == ' ')
        key++;
    if (!strncmp(key, PORTAL_TOKEN_PREFIX, strlen(PORTAL_TOKEN_PREFIX)))
        return authenticate_portal(r, key);
    uint8_t digest[32];
    key_digest(key, digest);
    int64_t now_mono = clock_mono_ms();
    if (!http__keycache_get(r->server->keycache, digest, now_mono, &r->key)) {
        uint64_t gen = http__keycache_generation(r->server->keycache);
        struct store *s = http__store_acquire(r->server);
        struct err_detail d = {0};
        enum err e = s ? store_api_key_find(s, digest, &r->key, &d) : ERR_IO;
        http__store_release(r->server, s);
        if (e == ERR_NOTFOUND) {
            auth_failed(r, "invalid or inactive API key");
            return false;
        }
        if (e != ERR_OK) {
            http__respond_err(r, e, &d);
            return false;
        }
        http__keycache_put(r->server->keycache, digest, &r->key, gen, now_mono);
    }
    /* Only a known key is counted: a 401 costs nobody a token. */
    r->authenticated = true;
    keys_touch(r);
    return http__ratelimit_check(r);
}

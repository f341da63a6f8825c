/* oauth2 - see oauth2.h. SPDX-License-Identifier: MIT */
#include "deliver/oauth2.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "deliver/addr_guard.h"
#include "util/clock.h"

#ifndef HOOKD_VERSION
#define HOOKD_VERSION "dev"
#endif

#define BUCKETS 256
#define CONNECT_TIMEOUT_MAX_MS 10000
#define FAILED "oauth2 token request failed: "

struct entry {
    struct entry *next;
    unsigned char key[32]; /* SHA-256(endpoint id, NUL, the config's JSON) */
    char *endpoint_id;
    char *token;            /* the last fetched token, NULL when none or invalidated */
    int64_t fresh_until_ms; /* new callers may use token before this (0: not cached) */
    bool fetching;
    uint64_t gen; /* fetches finished; waiters compare it */
    enum err last_err;
    struct err_detail last_detail;
    int users; /* callers inside oauth2_token holding this entry */
};

struct oauth2_cache {
    pthread_mutex_t mu;
    pthread_cond_t done; /* a fetch finished (any entry) */
    oauth2_clock_fn now_ms;
    void *clock_ctx;
    struct entry *buckets[BUCKETS];
    struct oauth2_stats stats;
};

static int64_t mono_clock(void *ctx)
{
    (void)ctx;
    return clock_mono_ms();
}

static void lock(pthread_mutex_t *m)
{
    int rc = pthread_mutex_lock(m);
    if (rc != 0)
        abort(); /* only EINVAL/EDEADLK, both bugs */
}

static void unlock(pthread_mutex_t *m)
{
    pthread_mutex_unlock(m);
}

static void wipe_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

static char *dup_str(const char *s)
{
    char *r = strdup(s);
    if (!r)
        abort();
    return r;
}

struct oauth2_cache *oauth2_cache_new(oauth2_clock_fn now_ms, void *clock_ctx)
{
    struct oauth2_cache *c = calloc(1, sizeof(*c));
    if (!c)
        abort();
    if (pthread_mutex_init(&c->mu, NULL) != 0 || pthread_cond_init(&c->done, NULL) != 0)
        abort();
    c->now_ms = now_ms ? now_ms : mono_clock;
    c->clock_ctx = clock_ctx;
    return c;
}

static void entry_free(struct entry *e)
{
    wipe_free(e->token);
    free(e->endpoint_id);
    explicit_bzero(e, sizeof(*e));
    free(e);
}

void oauth2_cache_free(struct oauth2_cache *c)
{
    if (!c)
        return;
    for (int b = 0; b < BUCKETS; b++)
        for (struct entry *e = c->buckets[b], *next; e; e = next) {
            next = e->next;
            entry_free(e);
        }
    pthread_cond_destroy(&c->done);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

void oauth2_get_stats(struct oauth2_cache *c, struct oauth2_stats *out)
{
    lock(&c->mu);
    *out = c->stats;
    unlock(&c->mu);
}

/* The cache key of (endpoint_id, a); false when a is not an oauth2 config. */
static bool make_key(unsigned char key[32], const char *endpoint_id, const struct dest_auth *a)
{
    if (!a || a->type != DEST_AUTH_OAUTH2_CC || !endpoint_id)
        return false;
    char *json = dest_auth_to_json(a);
    unsigned int n = 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(md, endpoint_id, strlen(endpoint_id) + 1) != 1 ||
        EVP_DigestUpdate(md, json, strlen(json)) != 1 || EVP_DigestFinal_ex(md, key, &n) != 1 ||
        n != 32)
        abort(); /* SHA-256 over memory cannot fail short of a broken libcrypto */
    EVP_MD_CTX_free(md);
    dest_auth_json_free(json);
    return true;
}

/* The entry of key, or NULL. Under the lock. */
static struct entry *find(struct oauth2_cache *c, const unsigned char key[32])
{
    for (struct entry *e = c->buckets[key[0]]; e; e = e->next)
        if (memcmp(e->key, key, 32) == 0)
            return e;
    return NULL;
}

/*
 * After a fetch for `keep`: drop entries nobody is using that hold no fresh
 * token, and the other entries of the same endpoint (an older config), so
 * the cache holds about one entry per endpoint with oauth2 auth. Under the
 * lock; runs once per fetch, not per attempt.
 */
static void prune(struct oauth2_cache *c, const struct entry *keep, int64_t now)
{
    for (int b = 0; b < BUCKETS; b++) {
        struct entry **pp = &c->buckets[b];
        while (*pp) {
            struct entry *e = *pp;
            bool stale = !e->token || now >= e->fresh_until_ms ||
                         strcmp(e->endpoint_id, keep->endpoint_id) == 0;
            if (e != keep && e->users == 0 && !e->fetching && stale) {
                *pp = e->next;
                entry_free(e);
            } else {
                pp = &e->next;
            }
        }
    }
}

/* ---- the transfer ------------------------------------------------------- */

struct fetch {
    char *body;
    size_t len;
    bool too_big;
    struct addr_guard guard;
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct fetch *f = ud;
    size_t n = size * nmemb;
    if (f->len + n > OAUTH2_RESPONSE_MAX) {
        f->too_big = true;
        return 0; /* CURLE_WRITE_ERROR */
    }
    char *grown = realloc(f->body, f->len + n + 1);
    if (!grown)
        abort();
    f->body = grown;
    memcpy(f->body + f->len, ptr, n);
    f->len += n;
    f->body[f->len] = '\0';
    return n;
}

/* Append "&name=<form-encoded value>" (no "&" when *len is 0) to a heap buffer. */
static void form_add(CURL *curl, char **buf, size_t *len, const char *name, const char *value)
{
    char *enc = curl_easy_escape(curl, value, 0);
    if (!enc)
        abort();
    size_t nl = strlen(name), el = strlen(enc);
    char *grown = malloc(*len + nl + el + 3);
    if (!grown)
        abort();
    if (*buf)
        memcpy(grown, *buf, *len);
    size_t o = *len;
    if (o)
        grown[o++] = '&';
    memcpy(grown + o, name, nl);
    o += nl;
    grown[o++] = '=';
    memcpy(grown + o, enc, el);
    o += el;
    grown[o] = '\0';
    explicit_bzero(enc, el);
    curl_free(enc);
    wipe_free(*buf);
    *buf = grown;
    *len = o;
}

/* expires_in as seconds: a number, or a string of digits (some servers send
 * "3599"); the default when absent or unreadable, clamped to the maximum. */
static long long expires_in_s(const json_t *v)
{
    long long s = OAUTH2_DEFAULT_EXPIRES_S;
    if (json_is_integer(v)) {
        s = json_integer_value(v);
    } else if (json_is_real(v)) {
        double r = json_real_value(v);
        s = r > (double)OAUTH2_MAX_EXPIRES_S ? OAUTH2_MAX_EXPIRES_S : (long long)r;
    } else if (json_is_string(v)) {
        const char *t = json_string_value(v);
        char *end = NULL;
        errno = 0;
        long long parsed = strtoll(t, &end, 10);
        if (end != t && *end == '\0' && errno == 0)
            s = parsed;
    }
    if (s > OAUTH2_MAX_EXPIRES_S)
        s = OAUTH2_MAX_EXPIRES_S;
    return s;
}

/* The OAuth "error" code of a refusal, when it is a short, printable word. */
static void oauth_error_code(const char *body, size_t len, char *out, size_t out_size)
{
    out[0] = '\0';
    json_t *v = body ? json_loadb(body, len, 0, NULL) : NULL;
    const char *code = json_string_value(json_object_get(v, "error"));
    if (code && strlen(code) < out_size && strlen(code) <= 64) {
        bool ok = code[0] != '\0';
        for (const char *p = code; *p && ok; p++)
            ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                 *p == '_' || *p == '-' || *p == '.';
        if (ok)
            snprintf(out, out_size, "%s", code);
    }
    json_decref(v);
}

/* Read the token answer into *token (heap) and *expires_s. */
static enum err parse_answer(const char *body, size_t len, char **token, long long *expires_s,
                             struct err_detail *d)
{
    json_error_t jerr;
    json_t *v = json_loadb(body ? body : "", len, 0, &jerr);
    enum err e = ERR_OK;
    if (!json_is_object(v)) {
        e = err_set(d, ERR_PROTO, NULL,
                    "oauth2 token response from token_url is not a JSON object");
        goto out;
    }
    const json_t *at = json_object_get(v, "access_token");
    if (!json_is_string(at) || json_string_length(at) == 0) {
        e = err_set(d, ERR_PROTO, NULL, "oauth2 token response from token_url has no access_token");
        goto out;
    }
    if (json_string_length(at) > OAUTH2_TOKEN_MAX) {
        e = err_set(d, ERR_LIMIT, NULL,
                    "oauth2 access_token from token_url is longer than %d bytes", OAUTH2_TOKEN_MAX);
        goto out;
    }
    const char *tok = json_string_value(at);
    if (strlen(tok) != json_string_length(at)) {
        e = err_set(d, ERR_PROTO, NULL,
                    "oauth2 access_token from token_url contains characters a header cannot "
                    "carry");
        goto out;
    }
    for (const char *p = tok; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
            e = err_set(d, ERR_PROTO, NULL,
                        "oauth2 access_token from token_url contains characters a header cannot "
                        "carry");
            goto out;
        }
    const json_t *tt = json_object_get(v, "token_type");
    if (tt && !json_is_null(tt) &&
        !(json_is_string(tt) && strcasecmp(json_string_value(tt), "bearer") == 0)) {
        char shown[40] = "";
        if (json_is_string(tt))
            for (size_t i = 0; i < sizeof(shown) - 1 && json_string_value(tt)[i]; i++) {
                char ch = json_string_value(tt)[i];
                shown[i] = ch >= 0x20 && ch < 0x7f && ch != '"' ? ch : '?';
                shown[i + 1] = '\0';
            }
        e = err_set(d, ERR_PROTO, NULL,
                    "oauth2 token_type \"%s\" from token_url is not supported (only Bearer)",
                    shown);
        goto out;
    }
    *token = dup_str(tok);
    *expires_s = expires_in_s(json_object_get(v, "expires_in"));
out:
    /* XXX jansson frees its copy of the token without wiping it */
    json_decref(v);
    return e;
}

/* One POST to a->token_url; on success *token (heap) and *expires_s. */
static enum err fetch_token(const struct dest_auth *a, bool allow_private, int64_t timeout_ms,
                            char **token, long long *expires_s, struct err_detail *d)
{
    struct fetch f = {.guard.allow_private = allow_private};
    char errbuf[CURL_ERROR_SIZE] = "";
    char *form = NULL;
    size_t form_len = 0;
    struct curl_slist *headers = NULL;
    struct dest_auth_result basic = {0};
    enum err e = ERR_OK;
    *token = NULL;

    CURL *curl = curl_easy_init();
    if (!curl)
        return err_set(d, ERR_IO, NULL, FAILED "cannot create a curl handle");

    form_add(curl, &form, &form_len, "grant_type", "client_credentials");
    if (a->scope)
        form_add(curl, &form, &form_len, "scope", a->scope);
    if (a->client_body) {
        form_add(curl, &form, &form_len, "client_id", a->name);
        form_add(curl, &form, &form_len, "client_secret", a->secret);
    } else {
        /* dest_auth's basic type makes the header: client_id:client_secret, as they are */
        struct dest_auth as_basic = {.type = DEST_AUTH_BASIC, .name = a->name, .secret = a->secret};
        if (dest_auth_apply(&as_basic, NULL, NULL, 0, NULL, &basic, NULL) != ERR_OK)
            abort(); /* basic cannot fail */
        char line[DEST_AUTH_JSON_MAX * 2];
        snprintf(line, sizeof(line), "%s: %s", basic.header_name, basic.header_value);
        headers = curl_slist_append(headers, line);
        explicit_bzero(line, sizeof(line));
    }
    headers = curl_slist_append(headers, "Accept: application/json");
    headers = curl_slist_append(headers, "Content-Type: application/x-www-form-urlencoded");
    headers = curl_slist_append(headers, "Expect:");
    if (!headers)
        abort();

    if (timeout_ms <= 0)
        timeout_ms = OAUTH2_TIMEOUT_DEFAULT_MS;
    curl_easy_setopt(curl, CURLOPT_URL, a->token_url);
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, form);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)form_len);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "hookd/" HOOKD_VERSION);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*"); /* the policy must see the real peer */
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(
        curl, CURLOPT_CONNECTTIMEOUT_MS,
        (long)(timeout_ms < CONNECT_TIMEOUT_MAX_MS ? timeout_ms : CONNECT_TIMEOUT_MAX_MS));
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &f);
    addr_guard_install(curl, &f.guard);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);

    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);

    if (f.guard.blocked && rc != CURLE_OK) {
        e = err_set(d, ERR_INVAL, NULL,
                    FAILED "token_url resolves to a non-public address, refused by the address "
                           "policy (see --allow-private-networks)");
    } else if (f.too_big) {
        e = err_set(d, ERR_LIMIT, NULL, FAILED "the answer from token_url exceeds %d bytes",
                    OAUTH2_RESPONSE_MAX);
    } else if (rc == CURLE_OPERATION_TIMEDOUT) {
        e = err_set(d, ERR_TIMEOUT, NULL, FAILED "no answer from token_url within %lld ms",
                    (long long)timeout_ms);
    } else if (rc != CURLE_OK) {
        e = err_set(d, ERR_IO, NULL, FAILED "%s%s%s", curl_easy_strerror(rc), errbuf[0] ? ": " : "",
                    errbuf);
    } else if (status < 200 || status > 299) {
        char code[65];
        oauth_error_code(f.body, f.len, code, sizeof(code));
        e = err_set(d, ERR_PROTO, NULL, FAILED "HTTP %ld from token_url%s%s%s", status,
                    code[0] ? " (" : "", code, code[0] ? ")" : "");
    } else {
        e = parse_answer(f.body, f.len, token, expires_s, d);
    }

    curl_easy_cleanup(curl);
    curl_slist_free_all(headers); /* XXX curl's copy of the Basic line is freed unwiped */
    dest_auth_result_clear(&basic);
    wipe_free(form);
    if (f.body) {
        explicit_bzero(f.body, f.len);
        free(f.body);
    }
    return e;
}

/* ---- the cache ---------------------------------------------------------- */

/* Copy e's token out (it fits: fetch_token bounds it). */
static void give(const struct entry *e, char token[OAUTH2_TOKEN_MAX + 1])
{
    snprintf(token, OAUTH2_TOKEN_MAX + 1, "%s", e->token);
}

enum err oauth2_token(struct oauth2_cache *c, const char *endpoint_id, const struct dest_auth *a,
                      bool allow_private, int64_t timeout_ms, char token[OAUTH2_TOKEN_MAX + 1],
                      struct err_detail *d)
{
    unsigned char key[32];
    token[0] = '\0';
    if (!make_key(key, endpoint_id, a))
        return err_set(d, ERR_INVAL, NULL,
                       "oauth2 token asked for an endpoint without oauth2 auth");

    lock(&c->mu);
    struct entry *e = find(c, key);
    if (!e) {
        e = calloc(1, sizeof(*e));
        if (!e)
            abort();
        memcpy(e->key, key, sizeof(key));
        e->endpoint_id = dup_str(endpoint_id);
        e->next = c->buckets[key[0]];
        c->buckets[key[0]] = e;
    }
    e->users++;

    enum err rc = ERR_OK;
    bool waited = false;
    uint64_t waited_gen = 0;
    for (;;) {
        int64_t now = c->now_ms(c->clock_ctx);
        if (e->token && now < e->fresh_until_ms) {
            give(e, token);
            break;
        }
        if (waited && e->gen != waited_gen) {
            /* the fetch we waited for ended: share its outcome */
            if (e->last_err != ERR_OK) {
                rc = e->last_err;
                if (d)
                    *d = e->last_detail;
                break;
            }
            if (e->token) {
                give(e, token);
                break;
            }
            /* invalidated in between: fetch ourselves */
        }
        if (e->fetching) {
            waited = true;
            waited_gen = e->gen;
            c->stats.waits++;
            c->stats.waiting++;
            pthread_cond_wait(&c->done, &c->mu);
            c->stats.waiting--;
            continue;
        }

        e->fetching = true;
        c->stats.fetches++;
        unlock(&c->mu);
        char *fresh = NULL;
        long long expires_s = 0;
        struct err_detail fd;
        memset(&fd, 0, sizeof(fd));
        rc = fetch_token(a, allow_private, timeout_ms, &fresh, &expires_s, &fd);
        lock(&c->mu);

        wipe_free(e->token);
        e->token = fresh;
        e->fresh_until_ms = 0;
        /* the lifetime counts from before the request: the server started it then or later */
        if (fresh && expires_s * 1000 > OAUTH2_EXPIRY_MARGIN_MS)
            e->fresh_until_ms = now + expires_s * 1000 - OAUTH2_EXPIRY_MARGIN_MS;
        e->last_err = rc;
        e->last_detail = fd;
        e->gen++;
        e->fetching = false;
        pthread_cond_broadcast(&c->done);
        if (rc == ERR_OK)
            give(e, token);
        else if (d)
            *d = fd;
        e->users--;
        prune(c, e, c->now_ms(c->clock_ctx));
        unlock(&c->mu);
        return rc;
    }
    e->users--;
    unlock(&c->mu);
    return rc;
}

void oauth2_invalidate(struct oauth2_cache *c, const char *endpoint_id, const struct dest_auth *a,
                       const char *refused)
{
    unsigned char key[32];
    if (!make_key(key, endpoint_id, a))
        return;
    lock(&c->mu);
    struct entry *e = find(c, key);
    if (e && e->token && (!refused || strcmp(e->token, refused) == 0)) {
        wipe_free(e->token);
        e->token = NULL;
        e->fresh_until_ms = 0;
    }
    unlock(&c->mu);
}

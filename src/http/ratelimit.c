/*
 * ratelimit - per-API-key state kept in memory: the token bucket of the API
 * rate limit and the time of the last last_used_at write, and the throttle of
 * failed authentications per client address (see internal.h).
 *
 * Description: one entry per key id in a chained hash table behind one mutex
 * (held for a few arithmetic operations per request). The bucket refills
 * per_min tokens per minute up to burst; an empty bucket answers 429
 * RATE_LIMITED with Retry-After. Every authenticated /v1 response carries
 * X-RateLimit-Limit (per_min), X-RateLimit-Remaining (whole tokens left) and
 * X-RateLimit-Reset (unix seconds at which the bucket is full again). With
 * per_min == 0 nothing is limited and no headers are sent; the table still
 * remembers last_used_at writes. Buckets live in this process only: each
 * node of a multi-node deployment limits on its own, and a restart refills.
 * Entries of deleted keys are dropped by http__ratelimit_forget; there is at
 * most one entry per key that ever authenticated, which STORE_MAX_API_KEYS
 * bounds in practice (XXX: keys deleted by another node keep their entry).
 * Threading: any MHD thread. Ownership: the table owns its entries.
 * SPDX-License-Identifier: MIT
 */
#include <arpa/inet.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "http/internal.h"
#include "util/clock.h"
#include "util/token_bucket.h"

struct entry {
    char key_id[ID_MAX];
    struct token_bucket tb;
    int64_t touched_mono_ms; /* last last_used_at write submitted; 0 = none */
    struct entry *next;
};

struct api_ratelimit {
    pthread_mutex_t mu;
    int per_min, burst;
    struct entry **slots;
    size_t nslots, count; /* nslots is a power of two */
};

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static struct entry **slots_new(size_t n)
{
    struct entry **s = calloc(n, sizeof(*s));
    if (!s)
        abort();
    return s;
}

struct api_ratelimit *http__ratelimit_new(int per_min, int burst)
{
    struct api_ratelimit *rl = calloc(1, sizeof(*rl));
    if (!rl)
        abort();
    pthread_mutex_init(&rl->mu, NULL);
    rl->per_min = per_min > 0 ? per_min : 0;
    rl->burst = burst >= 1 ? burst : 1;
    rl->nslots = 64;
    rl->slots = slots_new(rl->nslots);
    return rl;
}

void http__ratelimit_free(struct api_ratelimit *rl)
{
    if (!rl)
        return;
    for (size_t i = 0; i < rl->nslots; i++) {
        for (struct entry *e = rl->slots[i], *next; e; e = next) {
            next = e->next;
            free(e);
        }
    }
    free(rl->slots);
    pthread_mutex_destroy(&rl->mu);
    free(rl);
}

static void grow(struct api_ratelimit *rl)
{
    size_t n = rl->nslots * 2;
    struct entry **slots = slots_new(n);
    for (size_t i = 0; i < rl->nslots; i++) {
        for (struct entry *e = rl->slots[i], *next; e; e = next) {
            next = e->next;
            size_t j = hash(e->key_id) & (n - 1);
            e->next = slots[j];
            slots[j] = e;
        }
    }
    free(rl->slots);
    rl->slots = slots;
    rl->nslots = n;
}

/* The entry of key_id, created with a full bucket when missing. Caller holds mu. */
static struct entry *lookup(struct api_ratelimit *rl, const char *key_id, int64_t now_mono_ms)
{
    size_t i = hash(key_id) & (rl->nslots - 1);
    for (struct entry *e = rl->slots[i]; e; e = e->next)
        if (!strcmp(e->key_id, key_id))
            return e;
    if (rl->count >= rl->nslots) {
        grow(rl);
        i = hash(key_id) & (rl->nslots - 1);
    }
    struct entry *e = calloc(1, sizeof(*e));
    if (!e)
        abort();
    snprintf(e->key_id, sizeof(e->key_id), "%s", key_id);
    if (rl->per_min)
        token_bucket_init(&e->tb, rl->per_min / 60.0, rl->burst, now_mono_ms);
    e->next = rl->slots[i];
    rl->slots[i] = e;
    rl->count++;
    return e;
}

void http__ratelimit_forget(struct api_ratelimit *rl, const char *key_id)
{
    if (!rl)
        return;
    pthread_mutex_lock(&rl->mu);
    for (struct entry **p = &rl->slots[hash(key_id) & (rl->nslots - 1)]; *p; p = &(*p)->next) {
        if (!strcmp((*p)->key_id, key_id)) {
            struct entry *e = *p;
            *p = e->next;
            free(e);
            rl->count--;
            break;
        }
    }
    pthread_mutex_unlock(&rl->mu);
}

bool http__ratelimit_take(struct api_ratelimit *rl, const char *key_id, int64_t now_mono_ms,
                          int64_t now_unix_ms, struct api_rate_result *out)
{
    memset(out, 0, sizeof(*out));
    if (!rl || !rl->per_min)
        return true;
    pthread_mutex_lock(&rl->mu);
    struct entry *e = lookup(rl, key_id, now_mono_ms);
    bool ok = token_bucket_take(&e->tb, now_mono_ms);
    int64_t wait_ms = ok ? 0 : token_bucket_wait_ms(&e->tb, now_mono_ms);
    double missing = e->tb.burst - e->tb.tokens; /* tokens is current after take/wait */
    int64_t remaining = token_bucket_remaining(&e->tb, now_mono_ms);
    int64_t full_ms = missing > 0 ? (int64_t)ceil(missing / e->tb.rate_per_ms) : 0;
    pthread_mutex_unlock(&rl->mu);

    out->limit = rl->per_min;
    out->remaining = remaining;
    out->reset_unix = (now_unix_ms + full_ms + 999) / 1000;
    if (!ok) {
        out->retry_after_s = (wait_ms + 999) / 1000;
        if (out->retry_after_s < 1)
            out->retry_after_s = 1;
    }
    return ok;
}

bool http__ratelimit_claim_touch(struct api_ratelimit *rl, const char *key_id, int64_t now_mono_ms)
{
    pthread_mutex_lock(&rl->mu);
    struct entry *e = lookup(rl, key_id, now_mono_ms);
    bool claim = !e->touched_mono_ms || now_mono_ms - e->touched_mono_ms >= API_KEY_TOUCH_MS;
    if (claim)
        e->touched_mono_ms = now_mono_ms;
    pthread_mutex_unlock(&rl->mu);
    return claim;
}

bool http__ratelimit_check(struct http_request *r)
{
    struct api_rate_result res;
    bool ok = http__ratelimit_take(r->server->ratelimit, r->key.id, clock_mono_ms(), clock_now_ms(),
                                   &res);
    if (!res.limit)
        return true;
    r->has_rate = true;
    r->rate_limit = res.limit;
    r->rate_remaining = res.remaining;
    r->rate_reset_unix = res.reset_unix;
    if (ok)
        return true;
    r->retry_after_s = res.retry_after_s;
    http__respond_error(r, MHD_HTTP_TOO_MANY_REQUESTS, "RATE_LIMITED",
                        "API rate limit of %lld requests per minute exceeded for this key; "
                        "retry after %lld s",
                        (long long)res.limit, (long long)res.retry_after_s);
    return false;
}

/* ---- failed authentication per client address ----
 * A bucket of per_min failures (burst per_min) per address: each 401 takes a
 * token and an empty bucket turns the 401 into 429 RATE_LIMITED. A valid key
 * is never refused by it (the throttle is consulted only after the key
 * failed), so a NAT shared with a misconfigured client costs valid keys
 * nothing. At most API_AUTHFAIL_MAX_ADDRS addresses are tracked; when full,
 * addresses whose bucket has refilled are dropped, and if none has, new
 * addresses share one overflow bucket (so many addresses cannot dodge it). */

struct af_entry {
    char addr[48];
    struct token_bucket tb;
    struct af_entry *next;
};

#define AF_SLOTS 1024

struct api_authfail {
    pthread_mutex_t mu;
    int per_min;
    size_t count;
    struct af_entry overflow;
    struct af_entry *slots[AF_SLOTS];
};

struct api_authfail *http__authfail_new(int per_min)
{
    struct api_authfail *af = calloc(1, sizeof(*af));
    if (!af)
        abort();
    pthread_mutex_init(&af->mu, NULL);
    af->per_min = per_min > 0 ? per_min : 0;
    if (af->per_min)
        token_bucket_init(&af->overflow.tb, af->per_min / 60.0, af->per_min, clock_mono_ms());
    return af;
}

void http__authfail_free(struct api_authfail *af)
{
    if (!af)
        return;
    for (size_t i = 0; i < AF_SLOTS; i++) {
        for (struct af_entry *e = af->slots[i], *next; e; e = next) {
            next = e->next;
            free(e);
        }
    }
    pthread_mutex_destroy(&af->mu);
    free(af);
}

/* Drop the entries whose bucket is full again (no recent failures). Caller holds mu. */
static void af_sweep(struct api_authfail *af, int64_t now_mono_ms)
{
    for (size_t i = 0; i < AF_SLOTS; i++) {
        for (struct af_entry **p = &af->slots[i]; *p;) {
            struct af_entry *e = *p;
            if (token_bucket_remaining(&e->tb, now_mono_ms) >= (int64_t)e->tb.burst) {
                *p = e->next;
                free(e);
                af->count--;
            } else {
                p = &e->next;
            }
        }
    }
}

/* The entry counting failures of addr (its /64 for IPv6). Caller holds mu. */
static struct af_entry *af_lookup(struct api_authfail *af, const char *addr, int64_t now_mono_ms)
{
    char key[48];
    struct in6_addr a6;
    if (inet_pton(AF_INET6, addr, &a6) == 1) {
        memset(a6.s6_addr + 8, 0, 8);
        inet_ntop(AF_INET6, &a6, key, sizeof(key));
    } else {
        snprintf(key, sizeof(key), "%s", addr);
    }
    size_t i = hash(key) & (AF_SLOTS - 1);
    for (struct af_entry *e = af->slots[i]; e; e = e->next)
        if (!strcmp(e->addr, key))
            return e;
    if (af->count >= API_AUTHFAIL_MAX_ADDRS)
        af_sweep(af, now_mono_ms);
    if (af->count >= API_AUTHFAIL_MAX_ADDRS)
        return &af->overflow;
    struct af_entry *e = calloc(1, sizeof(*e));
    if (!e)
        abort();
    snprintf(e->addr, sizeof(e->addr), "%s", key);
    token_bucket_init(&e->tb, af->per_min / 60.0, af->per_min, now_mono_ms);
    e->next = af->slots[i];
    af->slots[i] = e;
    af->count++;
    return e;
}

bool http__authfail_take(struct api_authfail *af, const char *addr, int64_t now_mono_ms,
                         int64_t *retry_after_s)
{
    *retry_after_s = 0;
    if (!af || !af->per_min)
        return true;
    pthread_mutex_lock(&af->mu);
    struct af_entry *e = af_lookup(af, addr, now_mono_ms);
    bool ok = token_bucket_take(&e->tb, now_mono_ms);
    int64_t wait_ms = ok ? 0 : token_bucket_wait_ms(&e->tb, now_mono_ms);
    pthread_mutex_unlock(&af->mu);
    if (!ok)
        *retry_after_s = wait_ms < 1000 ? 1 : (wait_ms + 999) / 1000;
    return ok;
}

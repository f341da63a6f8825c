/*
 * token_bucket - a rate limiter: `rate` tokens per second, at most `burst`
 * stored. Used for per-endpoint delivery limits and per-key API limits.
 * Threading: none; callers serialise access. Pure arithmetic on caller time.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_UTIL_TOKEN_BUCKET_H
#define HOOKD_UTIL_TOKEN_BUCKET_H

#include <stdbool.h>
#include <stdint.h>

struct token_bucket {
    double rate_per_ms; /* tokens added per millisecond */
    double burst;       /* capacity */
    double tokens;
    int64_t last_ms;
};

/* A full bucket; rate_per_sec > 0, burst >= 1. */
void token_bucket_init(struct token_bucket *tb, double rate_per_sec, double burst, int64_t now_ms);

/* Take one token if available. */
bool token_bucket_take(struct token_bucket *tb, int64_t now_ms);

/* Milliseconds until one token is available (0 when one is). */
int64_t token_bucket_wait_ms(struct token_bucket *tb, int64_t now_ms);

/* Whole tokens left now (for X-RateLimit-Remaining). */
int64_t token_bucket_remaining(struct token_bucket *tb, int64_t now_ms);

#endif

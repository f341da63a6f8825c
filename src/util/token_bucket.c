/* token_bucket - see token_bucket.h. SPDX-License-Identifier: MIT */
#include "util/token_bucket.h"

#include <math.h>

void token_bucket_init(struct token_bucket *tb, double rate_per_sec, double burst, int64_t now_ms)
{
    tb->rate_per_ms = rate_per_sec / 1000.0;
    tb->burst = burst < 1 ? 1 : burst;
    tb->tokens = tb->burst;
    tb->last_ms = now_ms;
}

static void refill(struct token_bucket *tb, int64_t now_ms)
{
    if (now_ms > tb->last_ms) {
        tb->tokens += (double)(now_ms - tb->last_ms) * tb->rate_per_ms;
        if (tb->tokens > tb->burst)
            tb->tokens = tb->burst;
        tb->last_ms = now_ms;
    }
}

bool token_bucket_take(struct token_bucket *tb, int64_t now_ms)
{
    refill(tb, now_ms);
    if (tb->tokens < 1.0)
        return false;
    tb->tokens -= 1.0;
    return true;
}

int64_t token_bucket_wait_ms(struct token_bucket *tb, int64_t now_ms)
{
    refill(tb, now_ms);
    if (tb->tokens >= 1.0)
        return 0;
    return (int64_t)ceil((1.0 - tb->tokens) / tb->rate_per_ms);
}

int64_t token_bucket_remaining(struct token_bucket *tb, int64_t now_ms)
{
    refill(tb, now_ms);
    return (int64_t)floor(tb->tokens);
}

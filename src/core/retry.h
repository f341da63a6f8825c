/*
 * retry - the retry policy of ARCHITECTURE §5: which ladder an attempt's
 * outcome takes, how long to wait, and when to give up.
 *
 * Description: a 429 takes the fast ladder, any other failure the slow one.
 * After failed attempt n (1-based) the delay is ladder[min(n-1, len-1)].
 * A receiver's Retry-After is a minimum, capped at retry_after_cap_ms.
 * After max_attempts the message is failed_permanent.
 * Threading: pure functions over an immutable policy.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_CORE_RETRY_H
#define HOOKD_CORE_RETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RETRY_LADDER_MAX 16

struct retry_policy {
    int64_t fast_ms[RETRY_LADDER_MAX];
    size_t fast_len;
    int64_t slow_ms[RETRY_LADDER_MAX];
    size_t slow_len;
    int max_attempts;
    int64_t retry_after_cap_ms;
};

enum retry_type { RETRY_FAST, RETRY_SLOW };

struct retry_decision {
    bool give_up;         /* no more attempts: failed_permanent */
    enum retry_type type; /* which ladder */
    int64_t delay_ms;     /* wait before the next attempt (when !give_up) */
};

/* The documented defaults: fast 30s..300s, slow 30m..96h, 8 attempts, Retry-After cap 24h. */
void retry_policy_default(struct retry_policy *p);

/* Parse a comma list of durations ("30s,1m,2m") into a ladder; false when malformed. */
bool retry_parse_ladder(const char *s, int64_t *out_ms, size_t *out_len);

/*
 * Decide what follows failed attempt attempt_no. http_status 0 means no HTTP
 * answer (timeout, connection error). retry_after_ms < 0 means absent.
 */
struct retry_decision retry_decide(const struct retry_policy *p, int attempt_no, int http_status,
                                   int64_t retry_after_ms);

/* Parse a Retry-After value (delta seconds or HTTP-date) into ms from now_ms; -1 if invalid. */
int64_t retry_parse_retry_after(const char *value, int64_t now_ms);

/* "fast" or "slow". */
const char *retry_type_name(enum retry_type t);

#endif

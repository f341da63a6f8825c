/*
 * retry_policy - an endpoint's own retry policy (POLICIES §1, §8 `retry`):
 * parsed from the JSON a user sends, checked, rendered back for GET, and
 * evaluated after each failed attempt.
 *
 * Description: `retry: {strategy, count, interval_ms, schedule_ms?,
 * status_codes?}`. Strategies:
 *  - "ladder" (the default): without schedule_ms, the server-wide fast/slow
 *    ladders of retry.h, evaluated by retry_decide exactly as today (no
 *    jitter, today's Retry-After rule); with schedule_ms, retry n waits
 *    schedule_ms[min(n-1, len-1)] whatever the answer.
 *  - "svix": Svix's schedule: the first attempt at once, then 5 s, 5 min,
 *    30 min, 2 h, 5 h, 10 h, 10 h (7 retries by default; past the 7th the
 *    last step repeats).
 *  - "linear": every wait is interval_ms.
 *  - "exponential": interval_ms, doubling after each retry.
 * `count` is the number of retries after the first attempt (count 2 -> 3
 * attempts). Every delay the policy computes itself (all but the server
 * ladders) gets ±20 % jitter from a caller-supplied random value, then is
 * capped at RETRY_POLICY_MAX_DELAY_MS. A Retry-After answer is a minimum,
 * clamped to 2 × the scheduled delay (before jitter) and to
 * RETRY_POLICY_MAX_DELAY_MS.
 * `status_codes` names the HTTP answers that are retried, as tokens "404",
 * "500-599", ">=500", ">400", "<500", "<=499", and exclusions with "!"
 * before any of those ("!401", "!500-503"). An answer is retried when it
 * matches an inclusion (or there is none) and no exclusion. An answer that
 * is not retried ends the message at once (failed_permanent); no answer at
 * all (status 0: timeout, connection error) is always retried. Without
 * status_codes every non-2xx answer is retried.
 * An endpoint without a `retry` object behaves as retry_policy_init leaves
 * a spec: the server ladders, --max-attempts, today's behaviour exactly.
 * The user-facing rules and every [inferred] choice are in
 * docs/policies/retry.md; keep the two in step.
 * This module does no I/O and keeps no state: the caller stores the
 * rendered JSON and draws the random value.
 * Threading: pure functions; any thread.
 * Ownership: struct retry_policy_spec is caller-owned, fixed size, no heap
 * (copy it freely). retry_policy_to_json returns a new reference.
 * Errors: retry_policy_parse returns ERR_OK or ERR_INVAL with code
 * RETRY_POLICY_ERR_CODE, the field at fault ("retry.status_codes") and a
 * lower-case message naming the bad value or token. Nothing else fails.
 * See also: retry.h (the server ladders, Retry-After parsing),
 * docs/policies/retry.md.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_CORE_RETRY_POLICY_H
#define HOOKD_CORE_RETRY_POLICY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/retry.h"
#include "util/err.h"

#define RETRY_POLICY_ERR_CODE "INVALID_REQUEST"
/* Retries after the first attempt. */
#define RETRY_POLICY_MAX_COUNT 50
/* interval_ms and every schedule_ms step: 1 s .. 24 h. */
#define RETRY_POLICY_MIN_INTERVAL_MS 1000LL
#define RETRY_POLICY_MAX_INTERVAL_MS (24LL * 60 * 60 * 1000)
/* No single wait the policy computes (jitter and Retry-After included) is longer. */
#define RETRY_POLICY_MAX_DELAY_MS RETRY_POLICY_MAX_INTERVAL_MS
/* The scheduled waits of one message (before jitter) add up to at most 7 days;
 * not checked for the server ladders, whose length is the operator's choice. */
#define RETRY_POLICY_MAX_HORIZON_MS (7LL * 24 * 60 * 60 * 1000)
/* status_codes: at most this many tokens, each at most this many bytes. */
#define RETRY_POLICY_MAX_STATUS_TOKENS 32
#define RETRY_POLICY_MAX_TOKEN_LEN 16
/* Jitter: a computed delay d becomes a value in [d - d/5, d + d/5). */
#define RETRY_POLICY_JITTER_PCT 20
/* The Svix preset: retries after the first attempt, by default. */
#define RETRY_POLICY_SVIX_COUNT 7

enum retry_strategy {
    RETRY_STRATEGY_LADDER = 0,
    RETRY_STRATEGY_LINEAR,
    RETRY_STRATEGY_EXPONENTIAL,
    RETRY_STRATEGY_SVIX,
};

/* How a status token was written; rendering gives the same form back. */
enum retry_status_op {
    RETRY_STATUS_EQ = 0, /* "404" */
    RETRY_STATUS_RANGE,  /* "500-599" (a..b, both included) */
    RETRY_STATUS_GE,     /* ">=500" */
    RETRY_STATUS_GT,     /* ">400" */
    RETRY_STATUS_LE,     /* "<=499" */
    RETRY_STATUS_LT,     /* "<500" */
};

struct retry_status_token {
    enum retry_status_op op;
    int a;        /* the status, or the range's first status */
    int b;        /* the range's last status (RETRY_STATUS_RANGE only) */
    bool exclude; /* written with a leading "!" */
};

struct retry_policy_spec {
    enum retry_strategy strategy;
    int count;           /* retries after the first attempt; -1 = the strategy's default */
    int64_t interval_ms; /* linear and exponential; 0 otherwise */
    size_t schedule_len; /* ladder: 0 = the server ladders, else schedule_ms[0..len) */
    int64_t schedule_ms[RETRY_POLICY_MAX_COUNT];
    size_t status_len; /* 0 = every non-2xx answer is retried */
    struct retry_status_token status[RETRY_POLICY_MAX_STATUS_TOKENS];
};

/* Why a decision gives up. */
enum retry_policy_end {
    RETRY_POLICY_CONTINUE = 0,  /* not giving up */
    RETRY_POLICY_EXHAUSTED,     /* the last allowed attempt failed */
    RETRY_POLICY_NOT_RETRYABLE, /* status_codes does not retry this answer */
};

struct retry_policy_decision {
    bool give_up;              /* no more attempts: failed_permanent */
    enum retry_policy_end end; /* why, when give_up */
    enum retry_type type;      /* the attempt record's label: 429 -> fast, else slow */
    int64_t delay_ms;          /* wait before the next attempt (when !give_up) */
};

/* The spec of an endpoint without a `retry` object: ladder, server ladders,
 * --max-attempts, every non-2xx retried. */
void retry_policy_init(struct retry_policy_spec *s);

/*
 * Parse and check the `retry` object a user sent. v must be a JSON object
 * (a JSON null, meaning "remove the policy", is the caller's to handle; it
 * is refused here). On ERR_OK *out is replaced; on ERR_INVAL *out is left
 * as it was and d (may be NULL) names the field at fault, e.g.
 * field "retry.status_codes", message "'retry.status_codes' token '>=5x0'
 * is not ...". Unknown members are refused. Members may be null, which
 * means absent.
 */
enum err retry_policy_parse(const json_t *v, struct retry_policy_spec *out, struct err_detail *d);

/*
 * Render a spec as the JSON object GET answers: strategy always; count when
 * it is set or follows from the strategy alone (svix: 7, a custom ladder:
 * its length); interval_ms, schedule_ms and status_codes when they apply.
 * retry_policy_parse of the result gives an equal policy. Returns a new
 * reference (OOM aborts).
 */
json_t *retry_policy_to_json(const struct retry_policy_spec *s);

/* "ladder", "linear", "exponential" or "svix"; static storage. */
const char *retry_policy_strategy_name(enum retry_strategy st);

/*
 * Whether an HTTP answer that failed is retried under status_codes. 0 (no
 * answer) is always retried; a 2xx is never (it is not a failure).
 */
bool retry_policy_is_retryable(const struct retry_policy_spec *s, int http_status);

/* Attempts in all (first attempt plus retries); server gives --max-attempts
 * for the server ladders. */
int retry_policy_max_attempts(const struct retry_policy_spec *s, const struct retry_policy *server);

/*
 * The scheduled wait after failed attempt attempt_no (1-based; < 1 counts as
 * 1), before jitter and Retry-After, capped at RETRY_POLICY_MAX_DELAY_MS
 * except for the server ladders. http_status only picks the server ladder
 * (429 fast). For a preview of the schedule (console, docs).
 */
int64_t retry_policy_delay_ms(const struct retry_policy_spec *s, const struct retry_policy *server,
                              int attempt_no, int http_status);

/*
 * delay_ms with ±RETRY_POLICY_JITTER_PCT % jitter: random spread uniformly
 * over [0, 2^32) maps to [delay - delay/5, delay + delay/5). Never negative.
 */
int64_t retry_policy_jitter(int64_t delay_ms, uint32_t random);

/*
 * Decide what follows failed attempt attempt_no (1-based). http_status 0
 * means no HTTP answer (timeout, connection error); call this only for a
 * failure (a 2xx gives up as not retryable). retry_after_ms is the parsed
 * Retry-After (retry_parse_retry_after), < 0 when absent. random is a
 * uniformly random 32-bit value for the jitter (the dispatcher draws one per
 * decision; tests pass fixed ones). server supplies the ladders and
 * --max-attempts of the default strategy.
 */
struct retry_policy_decision retry_policy_decide(const struct retry_policy_spec *s,
                                                 const struct retry_policy *server, int attempt_no,
                                                 int http_status, int64_t retry_after_ms,
                                                 uint32_t random);

#endif

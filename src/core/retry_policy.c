/*
 * retry_policy - an endpoint's retry policy; see retry_policy.h for the
 * contract and docs/policies/retry.md for the rules as users read them.
 *
 * The parser works on a local copy and writes *out only on success, so a
 * refused PATCH leaves the stored policy as it was. Status tokens keep the
 * form they were written in (">=500" stays ">=500", not "500-599"), so GET
 * shows the user's rule back, normalised only in spacing.
 * SPDX-License-Identifier: MIT
 */
#include "core/retry_policy.h"

#include "core/validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEC_MS 1000LL
#define MIN_MS (60 * SEC_MS)
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS (24 * HOUR_MS)

#define STATUS_MIN 100
#define STATUS_MAX 599

/* Svix's waits after attempts 1..7; the last one repeats past the 7th retry. */
static const int64_t svix_ms[RETRY_POLICY_SVIX_COUNT] = {
    5 * SEC_MS, 5 * MIN_MS, 30 * MIN_MS, 2 * HOUR_MS, 5 * HOUR_MS, 10 * HOUR_MS, 10 * HOUR_MS,
};

static const char *const strategy_names[] = {
    [RETRY_STRATEGY_LADDER] = "ladder",
    [RETRY_STRATEGY_LINEAR] = "linear",
    [RETRY_STRATEGY_EXPONENTIAL] = "exponential",
    [RETRY_STRATEGY_SVIX] = "svix",
};

#define N_STRATEGIES (sizeof(strategy_names) / sizeof(strategy_names[0]))

void retry_policy_init(struct retry_policy_spec *s)
{
    memset(s, 0, sizeof(*s));
    s->strategy = RETRY_STRATEGY_LADDER;
    s->count = -1;
}

const char *retry_policy_strategy_name(enum retry_strategy st)
{
    if ((size_t)st < N_STRATEGIES)
        return strategy_names[st];
    return "ladder";
}

/* "7d 3h", "2h 30m", "45s", "1500ms": the two largest non-zero units. */
static void format_duration(char *buf, size_t len, int64_t ms)
{
    static const struct {
        int64_t ms;
        const char *unit;
    } units[] = {{DAY_MS, "d"}, {HOUR_MS, "h"}, {MIN_MS, "m"}, {SEC_MS, "s"}};
    if (ms < SEC_MS) {
        snprintf(buf, len, "%lldms", (long long)ms);
        return;
    }
    size_t used = 0;
    int shown = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]) && shown < 2; i++) {
        int64_t n = ms / units[i].ms;
        if (n == 0) {
            if (shown)
                break; /* "2d" rather than "2d 0h 5m" */
            continue;
        }
        ms -= n * units[i].ms;
        int w = snprintf(buf + used, len - used, "%s%lld%s", shown ? " " : "", (long long)n,
                         units[i].unit);
        if (w < 0 || (size_t)w >= len - used)
            return;
        used += (size_t)w;
        shown++;
    }
}

/* ---- status tokens -------------------------------------------------------- */

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

static void skip_space(const char **p, const char *end)
{
    while (*p < end && is_space(**p))
        (*p)++;
}

/* One to three digits at *p; more digits or none is a syntax error. */
static bool parse_status_number(const char **p, const char *end, int *out)
{
    int v = 0, n = 0;
    while (*p < end && **p >= '0' && **p <= '9') {
        if (++n > 3)
            return false;
        v = v * 10 + (**p - '0');
        (*p)++;
    }
    *out = v;
    return n > 0;
}

static bool token_matches(const struct retry_status_token *t, int status)
{
    switch (t->op) {
    case RETRY_STATUS_EQ:
        return status == t->a;
    case RETRY_STATUS_RANGE:
        return status >= t->a && status <= t->b;
    case RETRY_STATUS_GE:
        return status >= t->a;
    case RETRY_STATUS_GT:
        return status > t->a;
    case RETRY_STATUS_LE:
        return status <= t->a;
    case RETRY_STATUS_LT:
        return status < t->a;
    }
    return false;
}

/* The token's text as rendered, e.g. "!500-599". */
static void format_token(char *buf, size_t len, const struct retry_status_token *t)
{
    static const char *const ops[] = {
        [RETRY_STATUS_EQ] = "",  [RETRY_STATUS_RANGE] = "", [RETRY_STATUS_GE] = ">=",
        [RETRY_STATUS_GT] = ">", [RETRY_STATUS_LE] = "<=",  [RETRY_STATUS_LT] = "<",
    };
    const char *bang = t->exclude ? "!" : "";
    if (t->op == RETRY_STATUS_RANGE)
        snprintf(buf, len, "%s%d-%d", bang, t->a, t->b);
    else
        snprintf(buf, len, "%s%s%d", bang, ops[t->op], t->a);
}

#define FIELD_STATUS "retry.status_codes"

static enum err bad_token(struct err_detail *d, const char *tok, const char *why)
{
    return err_set_field(d, ERR_INVAL, RETRY_POLICY_ERR_CODE, FIELD_STATUS,
                         "'" FIELD_STATUS "' token '%s' %s", tok, why);
}

/*
 * Parse one token: optional "!", then "NNN", "NNN-NNN", ">=NNN", ">NNN",
 * "<=NNN" or "<NNN"; spaces are allowed around the parts. tok is for the
 * error message only.
 */
static enum err parse_token(const char *s, size_t len, const char *tok,
                            struct retry_status_token *t, struct err_detail *d)
{
    const char *p = s, *end = s + len;
    memset(t, 0, sizeof(*t));
    skip_space(&p, end);
    if (p < end && *p == '!') {
        t->exclude = true;
        p++;
        skip_space(&p, end);
    }
    if (p < end && (*p == '>' || *p == '<')) {
        bool gt = *p == '>';
        p++;
        bool eq = p < end && *p == '=';
        if (eq)
            p++;
        t->op = gt ? (eq ? RETRY_STATUS_GE : RETRY_STATUS_GT)
                   : (eq ? RETRY_STATUS_LE : RETRY_STATUS_LT);
        skip_space(&p, end);
        if (!parse_status_number(&p, end, &t->a))
            goto syntax;
    } else {
        if (!parse_status_number(&p, end, &t->a))
            goto syntax;
        skip_space(&p, end);
        t->op = RETRY_STATUS_EQ;
        if (p < end && *p == '-') {
            p++;
            skip_space(&p, end);
            if (!parse_status_number(&p, end, &t->b))
                goto syntax;
            t->op = RETRY_STATUS_RANGE;
        }
    }
    skip_space(&p, end);
    if (p != end)
        goto syntax;

    int hi = t->op == RETRY_STATUS_RANGE ? t->b : t->a;
    if (t->a < STATUS_MIN || t->a > STATUS_MAX || hi < STATUS_MIN || hi > STATUS_MAX)
        return bad_token(d, tok, "names a number that is not an HTTP status from 100 to 599");
    if (t->op == RETRY_STATUS_RANGE && t->a > t->b)
        return bad_token(d, tok, "is an empty range: its first status is above its last");
    if ((t->op == RETRY_STATUS_LT && t->a == STATUS_MIN) ||
        (t->op == RETRY_STATUS_GT && t->a == STATUS_MAX))
        return bad_token(d, tok, "matches no HTTP status");
    /* A rule about successes only is a mistake: a 2xx never reaches it. */
    if (t->a >= 200 && hi <= 299 && (t->op == RETRY_STATUS_EQ || t->op == RETRY_STATUS_RANGE))
        return bad_token(d, tok, "names only successes (2xx); only failed answers are retried");
    return ERR_OK;

syntax:
    return bad_token(d, tok,
                     "is not a status (404), a range (500-599) or a comparison (>=500, >400, "
                     "<500, <=499), optionally after '!' to exclude it");
}

static enum err parse_status_codes(const json_t *v, struct retry_policy_spec *s,
                                   struct err_detail *d)
{
    if (!json_is_array(v))
        return err_set_field(d, ERR_INVAL, RETRY_POLICY_ERR_CODE, FIELD_STATUS,
                             "'" FIELD_STATUS "' must be an array of status tokens such as "
                             "\"500-599\" or \"!401\"");
    size_t n = json_array_size(v);
    if (n == 0)
        return err_set_field(d, ERR_INVAL, RETRY_POLICY_ERR_CODE, FIELD_STATUS,
                             "'" FIELD_STATUS "' must list at least one token; leave it out "
                             "to retry every non-2xx answer");
    if (n > RETRY_POLICY_MAX_STATUS_TOKENS)
        return err_set_field(d, ERR_INVAL, RETRY_POLICY_ERR_CODE, FIELD_STATUS,
                             "'" FIELD_STATUS "' has %zu tokens; at most %d are allowed", n,
                             RETRY_POLICY_MAX_STATUS_TOKENS);
    size_t i;
    const json_t *item;
    json_array_foreach(v, i, item)
    {
        char num[32];
        const char *text;
        size_t len;
        if (json_is_integer(item)) {
            /* A bare number is the token of that status [inferred]. */
            snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(item));
            text = num;
            len = strlen(num);
        } else if (json_is_string(item)) {
            text = json_string_value(item);
            len = json_string_length(item);
            if (len > RETRY_POLICY_MAX_TOKEN_LEN || memchr(text, '\0', len))
                return err_set_field(d, ERR_INVAL, RETRY_POLICY_ERR_CODE, FIELD_STATUS,
                                     "'" FIELD_STATUS "' item %zu is longer than %d bytes", i,
                                     RETRY_POLICY_MAX_TOKEN_LEN);
        } else {
            return err_set_field(d, ERR_INVAL, RETRY_POLICY_ERR_CODE, FIELD_STATUS,
                                 "'" FIELD_STATUS "' item %zu must be a string token such as "
                                 "\"500-599\"",
                                 i);
        }
        enum err e = parse_token(text, len, text, &s->status[i], d);
        if (e != ERR_OK)
            return e;
    }
    s->status_len = n;
    return ERR_OK;
}

bool retry_policy_is_retryable(const struct retry_policy_spec *s, int http_status)
{
    if (http_status == 0)
        return true;
    if (http_status >= 200 && http_status <= 299)
        return false;
    bool has_inclusion = false, included = false;
    for (size_t i = 0; i < s->status_len; i++) {
        const struct retry_status_token *t = &s->status[i];
        if (t->exclude) {
            if (token_matches(t, http_status))
                return false;
        } else {
            has_inclusion = true;
            included = included || token_matches(t, http_status);
        }
    }
    return !has_inclusion || included;
}

/* ---- schedule ------------------------------------------------------------- */

static bool uses_server_ladders(const struct retry_policy_spec *s)
{
    return s->strategy == RETRY_STRATEGY_LADDER && s->schedule_len == 0;
}

/* Retries when count is not set: -1 for the server ladders (--max-attempts). */
static int default_count(const struct retry_policy_spec *s)
{
    switch (s->strategy) {
    case RETRY_STRATEGY_LADDER:
        return s->schedule_len > 0 ? (int)s->schedule_len : -1;
    case RETRY_STRATEGY_SVIX:
        return RETRY_POLICY_SVIX_COUNT;
    case RETRY_STRATEGY_LINEAR:
    case RETRY_STRATEGY_EXPONENTIAL:
        break;
    }
    return -1; /* the parser requires count for these */
}

static int effective_count(const struct retry_policy_spec *s)
{
    return s->count >= 0 ? s->count : default_count(s);
}

int retry_policy_max_attempts(const struct retry_policy_spec *s, const struct retry_policy *server)
{
    int count = effective_count(s);
    if (count < 0)
        return server->max_attempts;
    return count + 1;
}

/* The wait after failed attempt n >= 1 for the strategies this module computes. */
static int64_t own_delay_ms(const struct retry_policy_spec *s, int n)
{
    size_t idx = (size_t)(n - 1);
    switch (s->strategy) {
    case RETRY_STRATEGY_LADDER:
        if (s->schedule_len == 0)
            return 0; /* not ours: the server ladders */
        return s->schedule_ms[idx < s->schedule_len ? idx : s->schedule_len - 1];
    case RETRY_STRATEGY_SVIX:
        return svix_ms[idx < RETRY_POLICY_SVIX_COUNT ? idx : RETRY_POLICY_SVIX_COUNT - 1];
    case RETRY_STRATEGY_LINEAR:
        return s->interval_ms;
    case RETRY_STRATEGY_EXPONENTIAL: {
        int64_t v = s->interval_ms;
        for (int i = 1; i < n && v < RETRY_POLICY_MAX_DELAY_MS; i++)
            v *= 2;
        return v;
    }
    }
    return 0;
}

int64_t retry_policy_delay_ms(const struct retry_policy_spec *s, const struct retry_policy *server,
                              int attempt_no, int http_status)
{
    int n = attempt_no < 1 ? 1 : attempt_no;
    if (uses_server_ladders(s)) {
        bool fast = http_status == 429;
        const int64_t *ladder = fast ? server->fast_ms : server->slow_ms;
        size_t len = fast ? server->fast_len : server->slow_len;
        if (len == 0)
            return 0;
        size_t idx = (size_t)(n - 1);
        return ladder[idx < len ? idx : len - 1];
    }
    int64_t v = own_delay_ms(s, n);
    return v > RETRY_POLICY_MAX_DELAY_MS ? RETRY_POLICY_MAX_DELAY_MS : v;
}

int64_t retry_policy_jitter(int64_t delay_ms, uint32_t random)
{
    if (delay_ms <= 0)
        return 0;
    if (delay_ms > INT64_MAX / 2)
        delay_ms = INT64_MAX / 2;
    int64_t fifth =
        delay_ms / 100 * RETRY_POLICY_JITTER_PCT + delay_ms % 100 * RETRY_POLICY_JITTER_PCT / 100;
    /* offset = span * random / 2^32, in two halves so nothing overflows. */
    uint64_t span = (uint64_t)fifth * 2;
    uint64_t off = (span >> 32) * random + (((span & 0xffffffffu) * random) >> 32);
    return delay_ms - fifth + (int64_t)off;
}

struct retry_policy_decision retry_policy_decide(const struct retry_policy_spec *s,
                                                 const struct retry_policy *server, int attempt_no,
                                                 int http_status, int64_t retry_after_ms,
                                                 uint32_t random)
{
    struct retry_policy_decision d = {.give_up = false};
    d.type = http_status == 429 ? RETRY_FAST : RETRY_SLOW;

    if (!retry_policy_is_retryable(s, http_status)) {
        d.give_up = true;
        d.end = RETRY_POLICY_NOT_RETRYABLE;
        return d;
    }
    int max_attempts = retry_policy_max_attempts(s, server);
    if (attempt_no >= max_attempts) {
        d.give_up = true;
        d.end = RETRY_POLICY_EXHAUSTED;
        return d;
    }
    if (uses_server_ladders(s)) {
        /* Today's behaviour, only the attempt budget may differ. */
        struct retry_policy p = *server;
        p.max_attempts = max_attempts;
        struct retry_decision rd = retry_decide(&p, attempt_no, http_status, retry_after_ms);
        d.give_up = rd.give_up;
        d.end = rd.give_up ? RETRY_POLICY_EXHAUSTED : RETRY_POLICY_CONTINUE;
        d.type = rd.type;
        d.delay_ms = rd.delay_ms;
        return d;
    }
    int64_t base = retry_policy_delay_ms(s, server, attempt_no, http_status);
    int64_t delay = retry_policy_jitter(base, random);
    if (retry_after_ms >= 0) {
        int64_t floor_ms = retry_after_ms;
        if (floor_ms > 2 * base)
            floor_ms = 2 * base;
        if (floor_ms > delay)
            delay = floor_ms;
    }
    d.delay_ms = delay > RETRY_POLICY_MAX_DELAY_MS ? RETRY_POLICY_MAX_DELAY_MS : delay;
    return d;
}

/* ---- parse ---------------------------------------------------------------- */

static enum err bad_int(struct err_detail *d, const char *field, long long lo, long long hi,
                        const char *hint)
{
    return err_set_field(d, ERR_INVAL, RETRY_POLICY_ERR_CODE, field,
                         "'%s' must be an integer from %lld to %lld%s", field, lo, hi, hint);
}

static bool int_in(const json_t *v, long long lo, long long hi, long long *out)
{
    if (!json_is_integer(v))
        return false;
    json_int_t x = json_integer_value(v);
    if (x < lo || x > hi)
        return false;
    *out = x;
    return true;
}

static bool is_absent(const json_t *v)
{
    return !v || json_is_null(v);
}

static enum err parse_schedule(const json_t *v, struct retry_policy_spec *s, struct err_detail *d)
{
    static const char field[] = "retry.schedule_ms";
    size_t n = json_array_size(v);
    if (!json_is_array(v) || n == 0 || n > RETRY_POLICY_MAX_COUNT)
        return err_set_field(d, ERR_INVAL, RETRY_POLICY_ERR_CODE, field,
                             "'%s' must be an array of 1 to %d waits in milliseconds", field,
                             RETRY_POLICY_MAX_COUNT);
    size_t i;
    const json_t *item;
    json_array_foreach(v, i, item)
    {
        long long x;
        if (!int_in(item, RETRY_POLICY_MIN_INTERVAL_MS, RETRY_POLICY_MAX_INTERVAL_MS, &x))
            return err_set_field(d, ERR_INVAL, RETRY_POLICY_ERR_CODE, field,
                                 "'%s' item %zu must be an integer from %lld to %lld (1 s to "
                                 "24 h)",
                                 field, i, RETRY_POLICY_MIN_INTERVAL_MS,
                                 RETRY_POLICY_MAX_INTERVAL_MS);
        s->schedule_ms[i] = x;
    }
    s->schedule_len = n;
    return ERR_OK;
}

/* The scheduled waits of a whole message must fit RETRY_POLICY_MAX_HORIZON_MS. */
static enum err check_horizon(const struct retry_policy_spec *s, struct err_detail *d)
{
    if (uses_server_ladders(s))
        return ERR_OK;
    int count = effective_count(s);
    int64_t total = 0;
    for (int n = 1; n <= count; n++) {
        int64_t v = own_delay_ms(s, n);
        total += v > RETRY_POLICY_MAX_DELAY_MS ? RETRY_POLICY_MAX_DELAY_MS : v;
    }
    if (total <= RETRY_POLICY_MAX_HORIZON_MS)
        return ERR_OK;
    char span[32];
    format_duration(span, sizeof(span), total);
    return err_set_field(d, ERR_INVAL, RETRY_POLICY_ERR_CODE, "retry.count",
                         "%d retries of strategy '%s' would wait %s in all (before jitter); the "
                         "retries of one message must fit in 7d: lower 'retry.count'%s",
                         count, retry_policy_strategy_name(s->strategy), span,
                         s->strategy == RETRY_STRATEGY_LINEAR ||
                                 s->strategy == RETRY_STRATEGY_EXPONENTIAL
                             ? " or 'retry.interval_ms'"
                             : "");
}

enum err retry_policy_parse(const json_t *v, struct retry_policy_spec *out, struct err_detail *d)
{
    static const char *const known[] = {"strategy", "count", "interval_ms", "schedule_ms",
                                        "status_codes"};
    if (!json_is_object(v))
        return err_set_field(d, ERR_INVAL, RETRY_POLICY_ERR_CODE, "retry",
                             "'retry' must be an object such as {\"strategy\": \"exponential\", "
                             "\"count\": 5, \"interval_ms\": 60000}, or null");
    enum err ke = validate_known_members(
        v, "retry", known, sizeof(known) / sizeof(known[0]),
        "strategy, count, interval_ms, schedule_ms and status_codes", RETRY_POLICY_ERR_CODE, d);
    if (ke != ERR_OK)
        return ke;

    struct retry_policy_spec s;
    retry_policy_init(&s);
    enum err e;

    const json_t *strategy = json_object_get(v, "strategy");
    if (!is_absent(strategy)) {
        const char *name = json_string_value(strategy);
        size_t i = 0;
        while (name && i < N_STRATEGIES && strcmp(name, strategy_names[i]) != 0)
            i++;
        if (!name || i == N_STRATEGIES)
            return err_set_field(d, ERR_INVAL, RETRY_POLICY_ERR_CODE, "retry.strategy",
                                 "'retry.strategy' must be \"ladder\", \"linear\", "
                                 "\"exponential\" or \"svix\"");
        s.strategy = (enum retry_strategy)i;
    }
    const char *sname = retry_policy_strategy_name(s.strategy);
    bool needs_interval =
        s.strategy == RETRY_STRATEGY_LINEAR || s.strategy == RETRY_STRATEGY_EXPONENTIAL;

    const json_t *count = json_object_get(v, "count");
    if (!is_absent(count)) {
        long long x;
        if (!int_in(count, 0, RETRY_POLICY_MAX_COUNT, &x))
            return bad_int(d, "retry.count", 0, RETRY_POLICY_MAX_COUNT,
                           " (retries after the first attempt)");
        s.count = (int)x;
    } else if (needs_interval) {
        return err_set_field(d, ERR_INVAL, RETRY_POLICY_ERR_CODE, "retry.count",
                             "'retry.count' is required with strategy '%s'", sname);
    }

    const json_t *interval = json_object_get(v, "interval_ms");
    if (!is_absent(interval)) {
        long long x;
        if (!needs_interval)
            return err_set_field(d, ERR_INVAL, RETRY_POLICY_ERR_CODE, "retry.interval_ms",
                                 "'retry.interval_ms' applies to the linear and exponential "
                                 "strategies, not to '%s'",
                                 sname);
        if (!int_in(interval, RETRY_POLICY_MIN_INTERVAL_MS, RETRY_POLICY_MAX_INTERVAL_MS, &x))
            return bad_int(d, "retry.interval_ms", RETRY_POLICY_MIN_INTERVAL_MS,
                           RETRY_POLICY_MAX_INTERVAL_MS, " (1 s to 24 h)");
        s.interval_ms = x;
    } else if (needs_interval) {
        return err_set_field(d, ERR_INVAL, RETRY_POLICY_ERR_CODE, "retry.interval_ms",
                             "'retry.interval_ms' is required with strategy '%s'", sname);
    }

    const json_t *schedule = json_object_get(v, "schedule_ms");
    if (!is_absent(schedule)) {
        if (s.strategy != RETRY_STRATEGY_LADDER)
            return err_set_field(d, ERR_INVAL, RETRY_POLICY_ERR_CODE, "retry.schedule_ms",
                                 "'retry.schedule_ms' applies to the ladder strategy, not to "
                                 "'%s'",
                                 sname);
        if ((e = parse_schedule(schedule, &s, d)) != ERR_OK)
            return e;
    }

    const json_t *codes = json_object_get(v, "status_codes");
    if (!is_absent(codes) && (e = parse_status_codes(codes, &s, d)) != ERR_OK)
        return e;

    if ((e = check_horizon(&s, d)) != ERR_OK)
        return e;
    *out = s;
    return ERR_OK;
}

/* ---- render --------------------------------------------------------------- */

json_t *retry_policy_to_json(const struct retry_policy_spec *s)
{
    json_t *o = json_object();
    if (!o)
        abort();
    json_object_set_new(o, "strategy", json_string(retry_policy_strategy_name(s->strategy)));
    int count = effective_count(s);
    if (count >= 0)
        json_object_set_new(o, "count", json_integer(count));
    if (s->strategy == RETRY_STRATEGY_LINEAR || s->strategy == RETRY_STRATEGY_EXPONENTIAL)
        json_object_set_new(o, "interval_ms", json_integer(s->interval_ms));
    if (s->strategy == RETRY_STRATEGY_LADDER && s->schedule_len > 0) {
        json_t *a = json_array();
        for (size_t i = 0; i < s->schedule_len; i++)
            json_array_append_new(a, json_integer(s->schedule_ms[i]));
        json_object_set_new(o, "schedule_ms", a);
    }
    if (s->status_len > 0) {
        json_t *a = json_array();
        for (size_t i = 0; i < s->status_len; i++) {
            char buf[RETRY_POLICY_MAX_TOKEN_LEN + 1];
            format_token(buf, sizeof(buf), &s->status[i]);
            json_array_append_new(a, json_string(buf));
        }
        json_object_set_new(o, "status_codes", a);
    }
    return o;
}

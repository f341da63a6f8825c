/*
 * test_retry_policy - an endpoint's retry policy (core/retry_policy.c):
 * parsing and its errors, rendering, every strategy, count, jitter bounds,
 * status tokens, Retry-After clamping, and the default being today's
 * server ladders exactly.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/retry_policy.h"

#define S 1000LL
#define M (60 * S)
#define H (60 * M)

/* Random values: the low end, the middle and the top of the jitter range. */
#define R_LOW 0u
#define R_MID 0x80000000u
#define R_HIGH 0xffffffffu

static enum err parse_text(const char *text, struct retry_policy_spec *s, struct err_detail *d)
{
    json_error_t jerr;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (!v)
        fail_msg("bad test JSON %s: %s", text, jerr.text);
    enum err e = retry_policy_parse(v, s, d);
    json_decref(v);
    return e;
}

static void parse_ok(const char *text, struct retry_policy_spec *s)
{
    struct err_detail d = {{0}, {0}, {0}};
    if (parse_text(text, s, &d) != ERR_OK)
        fail_msg("%s: refused: [%s] %s", text, d.field, d.msg);
}

static void test_default_is_server_ladders(void **state)
{
    (void)state;
    struct retry_policy server;
    retry_policy_default(&server);
    struct retry_policy_spec s;
    retry_policy_init(&s);
    assert_int_equal(s.strategy, RETRY_STRATEGY_LADDER);
    assert_int_equal(s.count, -1);
    assert_int_equal(retry_policy_max_attempts(&s, &server), 8);

    /* Same answers as retry_decide for every attempt, status, Retry-After and random. */
    static const int statuses[] = {0, 400, 404, 429, 500, 503};
    static const int64_t ras[] = {-1, 0, 5 * S, 120 * S, 7 * 24 * H};
    static const uint32_t rs[] = {R_LOW, R_MID, R_HIGH};
    for (int n = 0; n <= 10; n++)
        for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
            for (size_t k = 0; k < sizeof(ras) / sizeof(ras[0]); k++)
                for (size_t r = 0; r < sizeof(rs) / sizeof(rs[0]); r++) {
                    struct retry_decision want = retry_decide(&server, n, statuses[i], ras[k]);
                    struct retry_policy_decision got =
                        retry_policy_decide(&s, &server, n, statuses[i], ras[k], rs[r]);
                    assert_int_equal(got.give_up, want.give_up);
                    assert_int_equal(got.type, want.type);
                    if (!want.give_up)
                        assert_int_equal(got.delay_ms, want.delay_ms);
                    else
                        assert_int_equal(got.end, RETRY_POLICY_EXHAUSTED);
                }

    /* The server's own attempt budget follows its config. */
    server.max_attempts = 3;
    assert_int_equal(retry_policy_max_attempts(&s, &server), 3);
    assert_true(retry_policy_decide(&s, &server, 3, 500, -1, R_MID).give_up);

    /* {"strategy": "ladder"} is the same policy; its GET shape is just the strategy. */
    struct retry_policy_spec p;
    parse_ok("{\"strategy\": \"ladder\"}", &p);
    assert_memory_equal(&p, &s, sizeof(s));
    parse_ok("{}", &p);
    assert_memory_equal(&p, &s, sizeof(s));
    json_t *j = retry_policy_to_json(&s);
    char *text = json_dumps(j, JSON_COMPACT);
    assert_string_equal(text, "{\"strategy\":\"ladder\"}");
    free(text);
    json_decref(j);
}

static void test_ladder_count_overrides_server(void **state)
{
    (void)state;
    struct retry_policy server;
    retry_policy_default(&server);
    struct retry_policy_spec s;
    parse_ok("{\"count\": 2}", &s); /* strategy defaults to ladder */
    assert_int_equal(retry_policy_max_attempts(&s, &server), 3);

    struct retry_policy_decision d = retry_policy_decide(&s, &server, 1, 503, -1, R_LOW);
    assert_false(d.give_up);
    assert_int_equal(d.delay_ms, 30 * M); /* slow ladder, no jitter */
    d = retry_policy_decide(&s, &server, 2, 429, -1, R_HIGH);
    assert_false(d.give_up);
    assert_int_equal(d.type, RETRY_FAST);
    assert_int_equal(d.delay_ms, 60 * S);
    d = retry_policy_decide(&s, &server, 3, 503, -1, R_LOW);
    assert_true(d.give_up);
    assert_int_equal(d.end, RETRY_POLICY_EXHAUSTED);

    /* count 0: the first failure is final. */
    parse_ok("{\"count\": 0}", &s);
    assert_int_equal(retry_policy_max_attempts(&s, &server), 1);
    assert_true(retry_policy_decide(&s, &server, 1, 0, -1, R_LOW).give_up);

    /* Beyond the server ladder's length the last step repeats. */
    parse_ok("{\"count\": 50}", &s);
    d = retry_policy_decide(&s, &server, 40, 500, -1, R_LOW);
    assert_false(d.give_up);
    assert_int_equal(d.delay_ms, 96 * H);
    assert_true(retry_policy_decide(&s, &server, 51, 500, -1, R_LOW).give_up);
}

static void test_ladder_schedule(void **state)
{
    (void)state;
    struct retry_policy server;
    retry_policy_default(&server);
    struct retry_policy_spec s;
    parse_ok("{\"strategy\": \"ladder\", \"schedule_ms\": [1000, 60000, 3600000]}", &s);
    assert_int_equal(s.schedule_len, 3);
    assert_int_equal(retry_policy_max_attempts(&s, &server), 4); /* count = its length */

    /* One schedule for every answer, 429 included. */
    assert_int_equal(retry_policy_delay_ms(&s, &server, 1, 429), 1 * S);
    assert_int_equal(retry_policy_delay_ms(&s, &server, 1, 500), 1 * S);
    assert_int_equal(retry_policy_delay_ms(&s, &server, 2, 0), 60 * S);
    assert_int_equal(retry_policy_delay_ms(&s, &server, 3, 503), 1 * H);
    assert_int_equal(retry_policy_delay_ms(&s, &server, 0, 503), 1 * S);

    struct retry_policy_decision d = retry_policy_decide(&s, &server, 2, 503, -1, R_MID);
    assert_false(d.give_up);
    assert_int_equal(d.delay_ms, 60 * S); /* the middle of the jitter range */
    assert_true(retry_policy_decide(&s, &server, 4, 503, -1, R_MID).give_up);

    /* A longer count repeats the last step. */
    parse_ok("{\"schedule_ms\": [2000, 5000], \"count\": 5}", &s);
    assert_int_equal(retry_policy_max_attempts(&s, &server), 6);
    assert_int_equal(retry_policy_delay_ms(&s, &server, 5, 500), 5 * S);
    /* A shorter one stops early. */
    parse_ok("{\"schedule_ms\": [2000, 5000, 9000], \"count\": 1}", &s);
    assert_int_equal(retry_policy_max_attempts(&s, &server), 2);
}

static void test_svix(void **state)
{
    (void)state;
    struct retry_policy server;
    retry_policy_default(&server);
    struct retry_policy_spec s;
    parse_ok("{\"strategy\": \"svix\"}", &s);
    assert_int_equal(retry_policy_max_attempts(&s, &server), 8);

    const int64_t want[] = {5 * S, 5 * M, 30 * M, 2 * H, 5 * H, 10 * H, 10 * H};
    for (int n = 1; n <= 7; n++) {
        assert_int_equal(retry_policy_delay_ms(&s, &server, n, 500), want[n - 1]);
        struct retry_policy_decision d = retry_policy_decide(&s, &server, n, 500, -1, R_MID);
        assert_false(d.give_up);
        assert_int_equal(d.delay_ms, want[n - 1]);
    }
    struct retry_policy_decision d = retry_policy_decide(&s, &server, 8, 500, -1, R_MID);
    assert_true(d.give_up);
    assert_int_equal(d.end, RETRY_POLICY_EXHAUSTED);

    /* A count past 7 repeats 10 h. */
    parse_ok("{\"strategy\": \"svix\", \"count\": 10}", &s);
    assert_int_equal(retry_policy_delay_ms(&s, &server, 10, 500), 10 * H);
    assert_int_equal(retry_policy_max_attempts(&s, &server), 11);
    parse_ok("{\"strategy\": \"svix\", \"count\": 2}", &s);
    assert_int_equal(retry_policy_max_attempts(&s, &server), 3);
}

static void test_linear(void **state)
{
    (void)state;
    struct retry_policy server;
    retry_policy_default(&server);
    struct retry_policy_spec s;
    parse_ok("{\"strategy\": \"linear\", \"count\": 2, \"interval_ms\": 30000}", &s);
    assert_int_equal(retry_policy_max_attempts(&s, &server), 3);
    for (int n = 1; n <= 2; n++) {
        assert_int_equal(retry_policy_delay_ms(&s, &server, n, 500), 30 * S);
        struct retry_policy_decision d = retry_policy_decide(&s, &server, n, 500, -1, R_LOW);
        assert_false(d.give_up);
        assert_int_equal(d.delay_ms, 24 * S); /* -20 % */
    }
    assert_true(retry_policy_decide(&s, &server, 3, 500, -1, R_LOW).give_up);
}

static void test_exponential(void **state)
{
    (void)state;
    struct retry_policy server;
    retry_policy_default(&server);
    struct retry_policy_spec s;
    parse_ok("{\"strategy\": \"exponential\", \"count\": 5, \"interval_ms\": 1000}", &s);
    const int64_t want[] = {1 * S, 2 * S, 4 * S, 8 * S, 16 * S};
    for (int n = 1; n <= 5; n++)
        assert_int_equal(retry_policy_delay_ms(&s, &server, n, 503), want[n - 1]);
    assert_true(retry_policy_decide(&s, &server, 6, 503, -1, R_MID).give_up);

    /* Doubling stops at the 24 h cap, and jitter never goes above it. */
    parse_ok("{\"strategy\": \"exponential\", \"count\": 7, \"interval_ms\": 3600000}", &s);
    assert_int_equal(retry_policy_delay_ms(&s, &server, 5, 503), 16 * H);
    assert_int_equal(retry_policy_delay_ms(&s, &server, 6, 503), 24 * H);
    assert_int_equal(retry_policy_delay_ms(&s, &server, 7, 503), 24 * H);
    assert_int_equal(retry_policy_decide(&s, &server, 6, 503, -1, R_HIGH).delay_ms, 24 * H);
    assert_int_equal(retry_policy_decide(&s, &server, 6, 503, -1, R_LOW).delay_ms,
                     24 * H - 24 * H / 5);
    /* Far past the cap nothing overflows. */
    s.count = 50;
    assert_int_equal(retry_policy_delay_ms(&s, &server, 50, 503), 24 * H);
}

static void test_jitter_bounds(void **state)
{
    (void)state;
    const int64_t ds[] = {1, 4, 5, 999, 1000, 5 * S, 60 * S, 10 * H, 24 * H, INT64_MAX / 4};
    for (size_t i = 0; i < sizeof(ds) / sizeof(ds[0]); i++) {
        int64_t d = ds[i], fifth = d / 5;
        assert_int_equal(retry_policy_jitter(d, R_LOW), d - fifth);
        assert_int_equal(retry_policy_jitter(d, R_MID), d);
        int64_t hi = retry_policy_jitter(d, R_HIGH);
        assert_true(hi <= d + fifth);
        if (fifth > 0)
            assert_true(hi < d + fifth);
        /* A sweep stays inside the bounds and never goes down as random goes up. */
        int64_t prev = -1;
        for (uint64_t r = 0; r <= 0xffffffffu; r += 0x01000193u) {
            int64_t j = retry_policy_jitter(d, (uint32_t)r);
            assert_true(j >= d - fifth);
            assert_true(j <= d + fifth);
            assert_true(j >= prev);
            prev = j;
        }
    }
    assert_int_equal(retry_policy_jitter(0, R_HIGH), 0);
    assert_int_equal(retry_policy_jitter(-5, R_HIGH), 0);
    /* 60 s spreads over 48 s .. 72 s. */
    assert_int_equal(retry_policy_jitter(60 * S, R_LOW), 48 * S);
    assert_int_equal(retry_policy_jitter(60 * S, R_HIGH), 72 * S - 1);
    assert_int_equal(retry_policy_jitter(60 * S, 0x40000000u), 54 * S);
}

static void test_status_tokens(void **state)
{
    (void)state;
    static const struct {
        const char *codes;
        int status;
        bool retried;
    } rows[] = {
        {"[\"404\"]", 404, true},
        {"[\"404\"]", 500, false},
        {"[\"404\"]", 0, true}, /* no answer: always retried */
        {"[\"500-599\"]", 500, true},
        {"[\"500-599\"]", 599, true},
        {"[\"500-599\"]", 499, false},
        {"[\">=500\"]", 500, true},
        {"[\">=500\"]", 499, false},
        {"[\">400\"]", 400, false},
        {"[\">400\"]", 401, true},
        {"[\"<500\"]", 499, true},
        {"[\"<500\"]", 500, false},
        {"[\"<=499\"]", 499, true},
        {"[\"<=499\"]", 500, false},
        {"[\"!401\"]", 401, false},
        {"[\"!401\"]", 403, true}, /* exclusions alone: every other non-2xx */
        {"[\"!401\"]", 503, true},
        {"[\">=400\", \"!401\", \"!403\"]", 401, false},
        {"[\">=400\", \"!401\", \"!403\"]", 403, false},
        {"[\">=400\", \"!401\", \"!403\"]", 404, true},
        {"[\">=400\", \"!401\", \"!403\"]", 302, false},
        {"[\"!500-503\"]", 502, false},
        {"[\"!500-503\"]", 504, true},
        {"[\"408\", \"429\", \">=500\"]", 408, true},
        {"[\"408\", \"429\", \">=500\"]", 429, true},
        {"[\"408\", \"429\", \">=500\"]", 404, false},
        {"[\"408\", \"429\", \">=500\"]", 0, true},
        {"[\"!<500\"]", 404, false},
        {"[\"!<500\"]", 500, true},
        {"[\"!100-599\"]", 0, true}, /* even when every answer is excluded */
        {"[\"!100-599\"]", 500, false},
        {"[\" >= 500 \", \" ! 404\"]", 500, true},
        {"[\" >= 500 \", \" ! 404\"]", 404, false},
        {"[\"500 - 502\"]", 502, true},
        {"[404, 410]", 410, true},
        {"[404, 410]", 500, false},
        {"[\"<500\"]", 200, false}, /* a 2xx is never a failure */
        {"[\"!401\"]", 204, false},
        {"[\"300-399\"]", 302, true}, /* a redirect is a failure */
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char text[256];
        snprintf(text, sizeof(text), "{\"status_codes\": %s}", rows[i].codes);
        struct retry_policy_spec s;
        parse_ok(text, &s);
        if (retry_policy_is_retryable(&s, rows[i].status) != rows[i].retried)
            fail_msg("%s, status %d: want %s", rows[i].codes, rows[i].status,
                     rows[i].retried ? "retried" : "not retried");
    }

    /* Without status_codes every non-2xx answer and no answer are retried. */
    struct retry_policy_spec s;
    retry_policy_init(&s);
    for (int st = 100; st <= 599; st++)
        assert_int_equal(retry_policy_is_retryable(&s, st), st < 200 || st > 299);
    assert_true(retry_policy_is_retryable(&s, 0));
}

static void test_not_retried_ends_at_once(void **state)
{
    (void)state;
    struct retry_policy server;
    retry_policy_default(&server);
    struct retry_policy_spec s;
    parse_ok("{\"strategy\": \"linear\", \"count\": 5, \"interval_ms\": 1000, "
             "\"status_codes\": [\">=500\", \"429\"]}",
             &s);
    struct retry_policy_decision d = retry_policy_decide(&s, &server, 1, 404, -1, R_MID);
    assert_true(d.give_up);
    assert_int_equal(d.end, RETRY_POLICY_NOT_RETRYABLE);
    d = retry_policy_decide(&s, &server, 1, 503, -1, R_MID);
    assert_false(d.give_up);
    assert_int_equal(d.end, RETRY_POLICY_CONTINUE);
    d = retry_policy_decide(&s, &server, 1, 0, -1, R_MID);
    assert_false(d.give_up);
    d = retry_policy_decide(&s, &server, 2, 429, -1, R_MID);
    assert_false(d.give_up);
    assert_int_equal(d.type, RETRY_FAST);

    /* The server ladders honour status_codes too. */
    parse_ok("{\"status_codes\": [\"!401\"]}", &s);
    d = retry_policy_decide(&s, &server, 1, 401, -1, R_MID);
    assert_true(d.give_up);
    assert_int_equal(d.end, RETRY_POLICY_NOT_RETRYABLE);
    d = retry_policy_decide(&s, &server, 1, 500, -1, R_MID);
    assert_false(d.give_up);
    assert_int_equal(d.delay_ms, 30 * M);
}

static void test_retry_after(void **state)
{
    (void)state;
    struct retry_policy server;
    retry_policy_default(&server);
    struct retry_policy_spec s;
    parse_ok("{\"strategy\": \"linear\", \"count\": 5, \"interval_ms\": 60000}", &s);

    /* A minimum: longer than the jittered delay wins ... */
    struct retry_policy_decision d = retry_policy_decide(&s, &server, 1, 429, 90 * S, R_MID);
    assert_int_equal(d.delay_ms, 90 * S);
    /* ... shorter loses to it. */
    d = retry_policy_decide(&s, &server, 1, 429, 10 * S, R_LOW);
    assert_int_equal(d.delay_ms, 48 * S);
    d = retry_policy_decide(&s, &server, 1, 429, 0, R_LOW);
    assert_int_equal(d.delay_ms, 48 * S);
    /* Clamped to 2x the scheduled delay (before jitter). */
    d = retry_policy_decide(&s, &server, 1, 503, 3600 * S, R_LOW);
    assert_int_equal(d.delay_ms, 120 * S);
    /* Jitter above the clamp still counts. */
    d = retry_policy_decide(&s, &server, 1, 503, 61 * S, R_HIGH);
    assert_int_equal(d.delay_ms, 72 * S - 1);

    /* And to the 24 h maximum. */
    parse_ok("{\"strategy\": \"linear\", \"count\": 3, \"interval_ms\": 72000000}", &s);
    d = retry_policy_decide(&s, &server, 1, 503, 30 * H, R_LOW);
    assert_int_equal(d.delay_ms, 24 * H);
    d = retry_policy_decide(&s, &server, 1, 503, 7 * 24 * H, R_HIGH);
    assert_int_equal(d.delay_ms, 24 * H);

    /* The Svix schedule clamps its 5 s step the same way. */
    parse_ok("{\"strategy\": \"svix\"}", &s);
    d = retry_policy_decide(&s, &server, 1, 503, 60 * S, R_MID);
    assert_int_equal(d.delay_ms, 10 * S);

    /* The server ladders keep today's rule: no 2x clamp, capped at 24 h. */
    retry_policy_init(&s);
    d = retry_policy_decide(&s, &server, 1, 429, 3600 * S, R_MID);
    assert_int_equal(d.delay_ms, 3600 * S);
}

/* Every bad shape is refused with the field at fault and a message naming the problem. */
static void test_parse_errors(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        const char *field;
        const char *msg; /* a part of the message */
    } rows[] = {
        {"[]", "retry", "must be an object"},
        {"\"svix\"", "retry", "must be an object"},
        {"null", "retry", "or null"},
        {"{\"stratgy\": \"svix\"}", "retry.stratgy", "unknown field 'retry.stratgy'"},
        {"{\"strategy\": \"fibonacci\"}", "retry.strategy", "\"svix\""},
        {"{\"strategy\": \"Linear\", \"count\": 1, \"interval_ms\": 1000}", "retry.strategy",
         "must be"},
        {"{\"strategy\": 1}", "retry.strategy", "must be"},
        {"{\"count\": -1}", "retry.count", "from 0 to 50"},
        {"{\"count\": 51}", "retry.count", "from 0 to 50"},
        {"{\"count\": 2.0}", "retry.count", "an integer"},
        {"{\"count\": \"3\"}", "retry.count", "an integer"},
        {"{\"strategy\": \"linear\", \"interval_ms\": 1000}", "retry.count", "required"},
        {"{\"strategy\": \"exponential\", \"count\": 3}", "retry.interval_ms", "required"},
        {"{\"strategy\": \"linear\", \"count\": 3, \"interval_ms\": 999}", "retry.interval_ms",
         "from 1000 to 86400000"},
        {"{\"strategy\": \"linear\", \"count\": 3, \"interval_ms\": 86400001}", "retry.interval_ms",
         "from 1000 to 86400000"},
        {"{\"strategy\": \"linear\", \"count\": 3, \"interval_ms\": \"1s\"}", "retry.interval_ms",
         "an integer"},
        {"{\"interval_ms\": 5000}", "retry.interval_ms", "not to 'ladder'"},
        {"{\"strategy\": \"svix\", \"interval_ms\": 5000}", "retry.interval_ms", "not to 'svix'"},
        {"{\"strategy\": \"linear\", \"count\": 3, \"interval_ms\": 1000, \"schedule_ms\": "
         "[1000]}",
         "retry.schedule_ms", "not to 'linear'"},
        {"{\"schedule_ms\": []}", "retry.schedule_ms", "1 to 50 waits"},
        {"{\"schedule_ms\": 1000}", "retry.schedule_ms", "an array"},
        {"{\"schedule_ms\": [1000, 500]}", "retry.schedule_ms", "item 1"},
        {"{\"schedule_ms\": [1000, \"5s\"]}", "retry.schedule_ms", "item 1"},
        {"{\"status_codes\": \"500\"}", "retry.status_codes", "an array"},
        {"{\"status_codes\": []}", "retry.status_codes", "at least one"},
        {"{\"status_codes\": [\"5xx\"]}", "retry.status_codes", "token '5xx'"},
        {"{\"status_codes\": [\"500\", \">=5x0\"]}", "retry.status_codes", "token '>=5x0'"},
        {"{\"status_codes\": [\"=500\"]}", "retry.status_codes", "token '=500'"},
        {"{\"status_codes\": [\"!\"]}", "retry.status_codes", "token '!'"},
        {"{\"status_codes\": [\"!!401\"]}", "retry.status_codes", "token '!!401'"},
        {"{\"status_codes\": [\"500-\"]}", "retry.status_codes", "token '500-'"},
        {"{\"status_codes\": [\"-500\"]}", "retry.status_codes", "token '-500'"},
        {"{\"status_codes\": [\"\"]}", "retry.status_codes", "token ''"},
        {"{\"status_codes\": [\"4040\"]}", "retry.status_codes", "token '4040'"},
        {"{\"status_codes\": [\"600\"]}", "retry.status_codes", "token '600' names a number"},
        {"{\"status_codes\": [\"99\"]}", "retry.status_codes", "from 100 to 599"},
        {"{\"status_codes\": [\"500-600\"]}", "retry.status_codes", "token '500-600'"},
        {"{\"status_codes\": [\"599-500\"]}", "retry.status_codes", "empty range"},
        {"{\"status_codes\": [\"<100\"]}", "retry.status_codes", "matches no HTTP status"},
        {"{\"status_codes\": [\">599\"]}", "retry.status_codes", "matches no HTTP status"},
        {"{\"status_codes\": [\"200\"]}", "retry.status_codes", "only successes"},
        {"{\"status_codes\": [\"!200-299\"]}", "retry.status_codes", "only successes"},
        {"{\"status_codes\": [\"500 599\"]}", "retry.status_codes", "token '500 599'"},
        {"{\"status_codes\": [\"500-599-600\"]}", "retry.status_codes", "token '500-599-600'"},
        {"{\"status_codes\": [\">=500            1\"]}", "retry.status_codes", "longer than 16"},
        {"{\"status_codes\": [true]}", "retry.status_codes", "item 0 must be a string"},
        {"{\"status_codes\": [\"500\", null]}", "retry.status_codes", "item 1"},
        {"{\"status_codes\": [6000]}", "retry.status_codes", "token '6000'"},
        {"{\"status_codes\": [-404]}", "retry.status_codes", "token '-404'"},
        /* Horizons longer than 7 days. */
        {"{\"strategy\": \"linear\", \"count\": 50, \"interval_ms\": 86400000}", "retry.count",
         "wait 50d in all"},
        {"{\"strategy\": \"exponential\", \"count\": 20, \"interval_ms\": 60000}", "retry.count",
         "or 'retry.interval_ms'"},
        {"{\"strategy\": \"svix\", \"count\": 50}", "retry.count", "strategy 'svix' would wait"},
        {"{\"schedule_ms\": [86400000], \"count\": 8}", "retry.count", "fit in 7d"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct retry_policy_spec s, before;
        retry_policy_init(&s);
        s.count = 42; /* a refused parse leaves *out alone */
        before = s;
        struct err_detail d = {{0}, {0}, {0}};
        enum err e = parse_text(rows[i].json, &s, &d);
        if (e != ERR_INVAL)
            fail_msg("%s: accepted, want an error on %s", rows[i].json, rows[i].field);
        if (strcmp(d.field, rows[i].field) != 0 || !strstr(d.msg, rows[i].msg))
            fail_msg("%s: got [%s] %s\nwant [%s] ...%s...", rows[i].json, d.field, d.msg,
                     rows[i].field, rows[i].msg);
        assert_string_equal(d.code, RETRY_POLICY_ERR_CODE);
        assert_true(strlen(d.msg) < sizeof(d.msg) - 1); /* never truncated */
        assert_memory_equal(&s, &before, sizeof(s));
        /* No detail buffer is needed. */
        assert_int_equal(parse_text(rows[i].json, &s, NULL), ERR_INVAL);
    }

    /* Too many tokens. */
    char text[1024] = "{\"status_codes\": [\"500\"";
    for (int i = 1; i < RETRY_POLICY_MAX_STATUS_TOKENS; i++)
        strcat(text, ", \"500\"");
    struct retry_policy_spec s;
    struct err_detail d = {{0}, {0}, {0}};
    char ok[1100];
    snprintf(ok, sizeof(ok), "%s]}", text);
    parse_ok(ok, &s);
    assert_int_equal(s.status_len, RETRY_POLICY_MAX_STATUS_TOKENS);
    snprintf(ok, sizeof(ok), "%s, \"501\"]}", text);
    assert_int_equal(parse_text(ok, &s, &d), ERR_INVAL);
    assert_string_equal(d.field, "retry.status_codes");
    assert_non_null(strstr(d.msg, "at most 32"));

    /* The limits themselves are accepted. */
    parse_ok("{\"strategy\": \"linear\", \"count\": 7, \"interval_ms\": 86400000}", &s);
    parse_ok("{\"strategy\": \"linear\", \"count\": 50, \"interval_ms\": 1000}", &s);
    parse_ok("{\"strategy\": \"svix\", \"count\": 21}", &s);
    assert_int_equal(parse_text("{\"strategy\": \"svix\", \"count\": 22}", &s, NULL), ERR_INVAL);
    /* Null members are absent. */
    parse_ok("{\"strategy\": null, \"count\": null, \"interval_ms\": null, \"schedule_ms\": "
             "null, \"status_codes\": null}",
             &s);
    assert_int_equal(s.strategy, RETRY_STRATEGY_LADDER);
    assert_int_equal(s.count, -1);
}

static void test_render_round_trip(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *out; /* compact, keys in insertion order */
    } rows[] = {
        {"{}", "{\"strategy\":\"ladder\"}"},
        {"{\"count\": 3}", "{\"strategy\":\"ladder\",\"count\":3}"},
        {"{\"schedule_ms\": [1000, 2000]}",
         "{\"strategy\":\"ladder\",\"count\":2,\"schedule_ms\":[1000,2000]}"},
        {"{\"strategy\": \"svix\"}", "{\"strategy\":\"svix\",\"count\":7}"},
        {"{\"strategy\": \"linear\", \"interval_ms\": 5000, \"count\": 4}",
         "{\"strategy\":\"linear\",\"count\":4,\"interval_ms\":5000}"},
        {"{\"strategy\": \"exponential\", \"interval_ms\": 1000, \"count\": 0, \"status_codes\": "
         "[\" >= 500\", \"!501\", 404, \"400 - 403\", \"<=199\", \"<300\", \">410\"]}",
         "{\"strategy\":\"exponential\",\"count\":0,\"interval_ms\":1000,\"status_codes\":[\">="
         "500\",\"!501\",\"404\",\"400-403\",\"<=199\",\"<300\",\">410\"]}"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct retry_policy_spec s, again;
        parse_ok(rows[i].in, &s);
        json_t *j = retry_policy_to_json(&s);
        char *text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
        assert_string_equal(text, rows[i].out);
        /* Parsing the rendered form gives the same behaviour. */
        struct err_detail d = {{0}, {0}, {0}};
        assert_int_equal(retry_policy_parse(j, &again, &d), ERR_OK);
        struct retry_policy server;
        retry_policy_default(&server);
        assert_int_equal(retry_policy_max_attempts(&again, &server),
                         retry_policy_max_attempts(&s, &server));
        for (int n = 1; n <= 10; n++)
            assert_int_equal(retry_policy_delay_ms(&again, &server, n, 500),
                             retry_policy_delay_ms(&s, &server, n, 500));
        for (int st = 100; st <= 599; st++)
            assert_int_equal(retry_policy_is_retryable(&again, st),
                             retry_policy_is_retryable(&s, st));
        free(text);
        json_decref(j);
    }
    assert_string_equal(retry_policy_strategy_name(RETRY_STRATEGY_LADDER), "ladder");
    assert_string_equal(retry_policy_strategy_name(RETRY_STRATEGY_LINEAR), "linear");
    assert_string_equal(retry_policy_strategy_name(RETRY_STRATEGY_EXPONENTIAL), "exponential");
    assert_string_equal(retry_policy_strategy_name(RETRY_STRATEGY_SVIX), "svix");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_is_server_ladders),
        cmocka_unit_test(test_ladder_count_overrides_server),
        cmocka_unit_test(test_ladder_schedule),
        cmocka_unit_test(test_svix),
        cmocka_unit_test(test_linear),
        cmocka_unit_test(test_exponential),
        cmocka_unit_test(test_jitter_bounds),
        cmocka_unit_test(test_status_tokens),
        cmocka_unit_test(test_not_retried_ends_at_once),
        cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_render_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

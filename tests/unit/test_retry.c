/*
 * test_retry - ladders, ladder choice, clamping, give-up, Retry-After.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "core/retry.h"

#define S 1000LL
#define M (60 * S)
#define H (60 * M)

static void test_defaults(void **state)
{
    (void)state;
    struct retry_policy p;
    retry_policy_default(&p);
    const int64_t fast[] = {30 * S, 60 * S, 120 * S, 240 * S, 300 * S};
    const int64_t slow[] = {30 * M, 2 * H, 6 * H, 12 * H, 24 * H, 48 * H, 72 * H, 96 * H};
    assert_int_equal(p.fast_len, 5);
    assert_int_equal(p.slow_len, 8);
    assert_memory_equal(p.fast_ms, fast, sizeof(fast));
    assert_memory_equal(p.slow_ms, slow, sizeof(slow));
    assert_int_equal(p.max_attempts, 8);
    assert_int_equal(p.retry_after_cap_ms, 24 * H);
    assert_string_equal(retry_type_name(RETRY_FAST), "fast");
    assert_string_equal(retry_type_name(RETRY_SLOW), "slow");
}

static void test_ladder_choice(void **state)
{
    (void)state;
    struct retry_policy p;
    retry_policy_default(&p);

    struct retry_decision d = retry_decide(&p, 1, 429, -1);
    assert_false(d.give_up);
    assert_int_equal(d.type, RETRY_FAST);
    assert_int_equal(d.delay_ms, 30 * S);

    d = retry_decide(&p, 1, 500, -1);
    assert_false(d.give_up);
    assert_int_equal(d.type, RETRY_SLOW);
    assert_int_equal(d.delay_ms, 30 * M);

    d = retry_decide(&p, 1, 0, -1);
    assert_int_equal(d.type, RETRY_SLOW);
    assert_int_equal(d.delay_ms, 30 * M);

    d = retry_decide(&p, 3, 404, -1);
    assert_int_equal(d.type, RETRY_SLOW);
    assert_int_equal(d.delay_ms, 6 * H);

    d = retry_decide(&p, 2, 429, -1);
    assert_int_equal(d.delay_ms, 60 * S);
}

static void test_clamp_and_give_up(void **state)
{
    (void)state;
    struct retry_policy p;
    retry_policy_default(&p);

    /* The fast ladder has 5 steps: attempts 5, 6 and 7 all wait 300 s. */
    for (int n = 5; n <= 7; n++) {
        struct retry_decision d = retry_decide(&p, n, 429, -1);
        assert_false(d.give_up);
        assert_int_equal(d.delay_ms, 300 * S);
    }
    struct retry_decision d = retry_decide(&p, 7, 503, -1);
    assert_false(d.give_up);
    assert_int_equal(d.delay_ms, 72 * H);

    /* Attempt 8 is the last one. */
    d = retry_decide(&p, 8, 500, -1);
    assert_true(d.give_up);
    d = retry_decide(&p, 8, 429, 5 * S);
    assert_true(d.give_up);
    d = retry_decide(&p, 9, 500, -1);
    assert_true(d.give_up);

    /* A policy with a longer attempt budget clamps at the ladder's end. */
    p.max_attempts = 12;
    d = retry_decide(&p, 11, 500, -1);
    assert_false(d.give_up);
    assert_int_equal(d.delay_ms, 96 * H);

    /* Nonsense attempt numbers are treated as the first attempt. */
    d = retry_decide(&p, 0, 500, -1);
    assert_int_equal(d.delay_ms, 30 * M);
}

static void test_retry_after_minimum(void **state)
{
    (void)state;
    struct retry_policy p;
    retry_policy_default(&p);

    /* Bigger than the ladder step wins. */
    struct retry_decision d = retry_decide(&p, 1, 429, 120 * S);
    assert_int_equal(d.delay_ms, 120 * S);
    /* Smaller loses. */
    d = retry_decide(&p, 1, 429, 5 * S);
    assert_int_equal(d.delay_ms, 30 * S);
    d = retry_decide(&p, 1, 503, 0);
    assert_int_equal(d.delay_ms, 30 * M);
    /* Capped at 24 h. */
    d = retry_decide(&p, 1, 429, 7 * 24 * H);
    assert_int_equal(d.delay_ms, 24 * H);
    /* The cap never shortens a longer ladder step. */
    d = retry_decide(&p, 6, 503, 30 * 24 * H);
    assert_int_equal(d.delay_ms, 48 * H);
}

static void test_parse_retry_after(void **state)
{
    (void)state;
    const int64_t now = 784111777LL * 1000; /* Sun, 06 Nov 1994 08:49:37 GMT */

    assert_int_equal(retry_parse_retry_after("120", now), 120 * S);
    assert_int_equal(retry_parse_retry_after("0", now), 0);
    assert_int_equal(retry_parse_retry_after(" 5 ", now), 5 * S);
    assert_true(retry_parse_retry_after("99999999999999999999999", now) > 24 * H);
    assert_int_equal(retry_parse_retry_after("-5", now), -1);
    assert_int_equal(retry_parse_retry_after("1.5", now), -1);
    assert_int_equal(retry_parse_retry_after("12abc", now), -1);
    assert_int_equal(retry_parse_retry_after("", now), -1);
    assert_int_equal(retry_parse_retry_after("soon", now), -1);
    assert_int_equal(retry_parse_retry_after(NULL, now), -1);

    /* IMF-fixdate, 90 s in the future. */
    assert_int_equal(retry_parse_retry_after("Sun, 06 Nov 1994 08:51:07 GMT", now), 90 * S);
    /* A date in the past means "now". */
    assert_int_equal(retry_parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now), 0);
    /* The obsolete forms recipients must accept. */
    assert_int_equal(retry_parse_retry_after("Sunday, 06-Nov-94 08:51:07 GMT", now), 90 * S);
    assert_int_equal(retry_parse_retry_after("Sun Nov  6 08:51:07 1994", now), 90 * S);
    /* One day later, crossing a month boundary. */
    assert_int_equal(retry_parse_retry_after("Thu, 01 Dec 1994 08:49:37 GMT", now), 25 * 24 * H);

    assert_int_equal(retry_parse_retry_after("Sun, 06 Nov 1994 08:51:07 UTC", now), -1);
    assert_int_equal(retry_parse_retry_after("Sun, 06 Foo 1994 08:51:07 GMT", now), -1);
    assert_int_equal(retry_parse_retry_after("Sun, 6 Nov 1994 08:51:07 GMT", now), -1);
    assert_int_equal(retry_parse_retry_after("Sun, 06 Nov 1994 25:51:07 GMT", now), -1);
    assert_int_equal(retry_parse_retry_after("Sun, 00 Nov 1994 08:51:07 GMT", now), -1);
}

static void test_parse_ladder(void **state)
{
    (void)state;
    int64_t l[RETRY_LADDER_MAX];
    size_t n = 99;

    assert_true(retry_parse_ladder("30s,1m", l, &n));
    assert_int_equal(n, 2);
    assert_int_equal(l[0], 30 * S);
    assert_int_equal(l[1], 60 * S);

    assert_true(retry_parse_ladder("250ms, 2h ,1d", l, &n));
    assert_int_equal(n, 3);
    assert_int_equal(l[0], 250);
    assert_int_equal(l[1], 2 * H);
    assert_int_equal(l[2], 24 * H);

    n = 99;
    assert_false(retry_parse_ladder("", l, &n));
    assert_false(retry_parse_ladder("5x", l, &n));
    assert_false(retry_parse_ladder("1,2", l, &n));
    assert_false(retry_parse_ladder("30s,", l, &n));
    assert_false(retry_parse_ladder(",30s", l, &n));
    assert_false(retry_parse_ladder("30s,,1m", l, &n));
    assert_false(retry_parse_ladder("0s", l, &n));
    assert_false(retry_parse_ladder("-1s", l, &n));
    assert_false(retry_parse_ladder(NULL, l, &n));
    assert_int_equal(n, 99); /* untouched on failure */

    /* At most RETRY_LADDER_MAX steps. */
    char buf[256] = "1s";
    for (int i = 1; i < RETRY_LADDER_MAX; i++)
        strcat(buf, ",1s");
    assert_true(retry_parse_ladder(buf, l, &n));
    assert_int_equal(n, RETRY_LADDER_MAX);
    strcat(buf, ",1s");
    assert_false(retry_parse_ladder(buf, l, &n));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),          cmocka_unit_test(test_ladder_choice),
        cmocka_unit_test(test_clamp_and_give_up), cmocka_unit_test(test_retry_after_minimum),
        cmocka_unit_test(test_parse_retry_after), cmocka_unit_test(test_parse_ladder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

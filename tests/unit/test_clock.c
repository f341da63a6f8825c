/*
 * test_clock - RFC 3339 rendering and parsing, duration parsing, clocks.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "util/clock.h"

static void test_format(void **state)
{
    (void)state;
    char buf[32];
    clock_format_rfc3339(buf, sizeof(buf), 0);
    assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
    clock_format_rfc3339(buf, sizeof(buf), 1765022400000LL);
    assert_string_equal(buf, "2025-12-06T12:00:00.000Z");
    clock_format_rfc3339(buf, sizeof(buf), 1775398991123LL);
    assert_string_equal(buf, "2026-04-05T14:23:11.123Z");
    clock_format_rfc3339(buf, sizeof(buf), 951782400999LL); /* leap day 2000 */
    assert_string_equal(buf, "2000-02-29T00:00:00.999Z");
    assert_int_equal(strlen(buf), 24);
    /* Before the epoch the millisecond part stays in 0..999. */
    clock_format_rfc3339(buf, sizeof(buf), -1);
    assert_string_equal(buf, "1969-12-31T23:59:59.999Z");
    int64_t back = 0;
    assert_true(clock_parse_rfc3339(buf, &back));
    assert_int_equal(back, -1);
}

static void test_round_trip(void **state)
{
    (void)state;
    static const int64_t samples[] = {0,
                                      1,
                                      999,
                                      1000,
                                      86399999,
                                      951782400999LL,
                                      1765022400000LL,
                                      1775398991123LL,
                                      4102444799999LL};
    char buf[32];
    for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        int64_t back = -1;
        clock_format_rfc3339(buf, sizeof(buf), samples[i]);
        assert_true(clock_parse_rfc3339(buf, &back));
        assert_int_equal(back, samples[i]);
    }
}

static void test_parse(void **state)
{
    (void)state;
    int64_t ms = 0;
    assert_true(clock_parse_rfc3339("2025-12-06T12:00:00Z", &ms));
    assert_int_equal(ms, 1765022400000LL);
    /* PHP sends +00:00 offsets. */
    assert_true(clock_parse_rfc3339("2025-12-06T12:00:00+00:00", &ms));
    assert_int_equal(ms, 1765022400000LL);
    assert_true(clock_parse_rfc3339("2025-12-06T14:30:00+02:30", &ms));
    assert_int_equal(ms, 1765022400000LL);
    assert_true(clock_parse_rfc3339("2025-12-06T07:00:00-05:00", &ms));
    assert_int_equal(ms, 1765022400000LL);
    /* Fractions: milliseconds kept, shorter ones scaled, longer ones truncated. */
    assert_true(clock_parse_rfc3339("2026-04-05T14:23:11.123Z", &ms));
    assert_int_equal(ms, 1775398991123LL);
    assert_true(clock_parse_rfc3339("2026-04-05T14:23:11.1Z", &ms));
    assert_int_equal(ms, 1775398991100LL);
    assert_true(clock_parse_rfc3339("2026-04-05T14:23:11.123456789+00:00", &ms));
    assert_int_equal(ms, 1775398991123LL);
    assert_true(clock_parse_rfc3339("2026-04-05t14:23:11z", &ms));
    assert_int_equal(ms, 1775398991000LL);

    static const char *const bad[] = {
        "",
        "2025-12-06",
        "2025-12-06 12:00:00Z",
        "2025-12-06T12:00:00",
        "2025-13-06T12:00:00Z",
        "2025-12-00T12:00:00Z",
        "2025-12-06T24:00:00Z",
        "2025-12-06T12:60:00Z",
        "2025-12-06T12:00:00.Z",
        "2025-12-06T12:00:00+0000",
        "2025-12-06T12:00:00+00:00x",
        "2025-12-06T12:00:00Zx",
        "2025/12/06T12:00:00Z",
        "abcd-12-06T12:00:00Z",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (clock_parse_rfc3339(bad[i], &ms))
            fail_msg("'%s' parsed", bad[i]);
}

static bool dur(const char *s, int64_t *out)
{
    return clock_parse_duration(s, strlen(s), out);
}

static void test_duration(void **state)
{
    (void)state;
    int64_t ms = 0;
    assert_true(dur("250ms", &ms));
    assert_int_equal(ms, 250);
    assert_true(dur("30s", &ms));
    assert_int_equal(ms, 30000);
    assert_true(dur("5m", &ms));
    assert_int_equal(ms, 300000);
    assert_true(dur("2h", &ms));
    assert_int_equal(ms, 7200000);
    assert_true(dur("1d", &ms));
    assert_int_equal(ms, 86400000);
    assert_true(dur("0s", &ms));
    assert_int_equal(ms, 0);
    /* Only the first len bytes count. */
    assert_true(clock_parse_duration("30s,1m", 3, &ms));
    assert_int_equal(ms, 30000);

    static const char *const bad[] = {"",
                                      "s",
                                      "30",
                                      "30x",
                                      "30 s",
                                      " 30s",
                                      "-5s",
                                      "1.5s",
                                      "30S",
                                      "5mss",
                                      "99999999999999999999d",
                                      "900000000000000d",
                                      "9223372036854776s"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (dur(bad[i], &ms))
            fail_msg("'%s' parsed", bad[i]);
}

static void test_clocks(void **state)
{
    (void)state;
    int64_t now = clock_now_ms();
    assert_true(now > 1700000000000LL); /* after 2023 */
    int64_t a = clock_mono_ms();
    int64_t b = clock_mono_ms();
    assert_true(b >= a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format), cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_parse),  cmocka_unit_test(test_duration),
        cmocka_unit_test(test_clocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

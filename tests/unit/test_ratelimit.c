/* test_ratelimit - the per-key API rate limit table (api/ratelimit.c) on
 * injected clocks: burst, refill, headers' values, per-key isolation, off,
 * forget, and the once-a-minute last_used_at claim. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "http/internal.h"

#define UNIX0 1700000000000LL /* ms */

static void test_burst_refill_and_headers(void **state)
{
    (void)state;
    struct api_ratelimit *rl = http__ratelimit_new(60, 3); /* 1 token/s, burst 3 */
    struct api_rate_result r;
    assert_true(http__ratelimit_take(rl, "key_a", 0, UNIX0, &r));
    assert_int_equal(r.limit, 60);
    assert_int_equal(r.remaining, 2);
    assert_int_equal(r.reset_unix, UNIX0 / 1000 + 1); /* one token missing: full in 1 s */
    assert_int_equal(r.retry_after_s, 0);
    assert_true(http__ratelimit_take(rl, "key_a", 0, UNIX0, &r));
    assert_true(http__ratelimit_take(rl, "key_a", 0, UNIX0, &r));
    assert_int_equal(r.remaining, 0);
    assert_int_equal(r.reset_unix, UNIX0 / 1000 + 3);
    assert_false(http__ratelimit_take(rl, "key_a", 100, UNIX0 + 100, &r));
    assert_int_equal(r.remaining, 0);
    assert_int_equal(r.retry_after_s, 1); /* 900 ms rounds up to 1 s */
    /* Other keys have their own bucket. */
    assert_true(http__ratelimit_take(rl, "key_b", 100, UNIX0 + 100, &r));
    assert_int_equal(r.remaining, 2);
    /* One second later one token is back. */
    assert_true(http__ratelimit_take(rl, "key_a", 1000, UNIX0 + 1000, &r));
    assert_false(http__ratelimit_take(rl, "key_a", 1000, UNIX0 + 1000, &r));
    /* Forget refills (a deleted key's bucket is dropped). */
    http__ratelimit_forget(rl, "key_a");
    assert_true(http__ratelimit_take(rl, "key_a", 1000, UNIX0 + 1000, &r));
    assert_int_equal(r.remaining, 2);
    http__ratelimit_free(rl);
}

static void test_retry_after_is_whole_seconds(void **state)
{
    (void)state;
    struct api_ratelimit *rl = http__ratelimit_new(6, 1); /* one token per 10 s */
    struct api_rate_result r;
    assert_true(http__ratelimit_take(rl, "k", 0, UNIX0, &r));
    assert_false(http__ratelimit_take(rl, "k", 2500, UNIX0 + 2500, &r));
    assert_int_equal(r.retry_after_s, 8); /* 7.5 s up to 8 */
    assert_int_equal(r.reset_unix, (UNIX0 + 2500 + 7500) / 1000);
    http__ratelimit_free(rl);
}

static void test_off_and_many_keys(void **state)
{
    (void)state;
    struct api_ratelimit *rl = http__ratelimit_new(0, 1);
    struct api_rate_result r;
    for (int i = 0; i < 10; i++) {
        assert_true(http__ratelimit_take(rl, "k", 0, UNIX0, &r));
        assert_int_equal(r.limit, 0);
    }
    http__ratelimit_free(rl);

    rl = http__ratelimit_new(600, 2);
    char id[32];
    for (int i = 0; i < 1000; i++) { /* grows the table several times */
        snprintf(id, sizeof(id), "key_%d", i);
        assert_true(http__ratelimit_take(rl, id, 0, UNIX0, &r));
    }
    for (int i = 0; i < 1000; i++) {
        snprintf(id, sizeof(id), "key_%d", i);
        assert_true(http__ratelimit_take(rl, id, 0, UNIX0, &r));
        assert_false(http__ratelimit_take(rl, id, 0, UNIX0, &r));
    }
    http__ratelimit_free(rl);
    http__ratelimit_free(NULL);
}

static void test_touch_claim_once_a_minute(void **state)
{
    (void)state;
    struct api_ratelimit *rl = http__ratelimit_new(0, 1);
    assert_true(http__ratelimit_claim_touch(rl, "k", 5));
    assert_false(http__ratelimit_claim_touch(rl, "k", 5 + API_KEY_TOUCH_MS - 1));
    assert_true(http__ratelimit_claim_touch(rl, "other", 10));
    assert_true(http__ratelimit_claim_touch(rl, "k", 5 + API_KEY_TOUCH_MS));
    http__ratelimit_free(rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_refill_and_headers),
        cmocka_unit_test(test_retry_after_is_whole_seconds),
        cmocka_unit_test(test_off_and_many_keys),
        cmocka_unit_test(test_touch_claim_once_a_minute),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

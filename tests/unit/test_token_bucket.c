/* test_token_bucket - rate limiter arithmetic on an injected clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/token_bucket.h"

static void test_burst_then_rate(void **state)
{
    (void)state;
    struct token_bucket tb;
    token_bucket_init(&tb, 5, 2, 1000); /* 5/s, burst 2 */
    assert_true(token_bucket_take(&tb, 1000));
    assert_true(token_bucket_take(&tb, 1000));
    assert_false(token_bucket_take(&tb, 1000));
    assert_int_equal(token_bucket_wait_ms(&tb, 1000), 200);
    assert_false(token_bucket_take(&tb, 1199));
    assert_true(token_bucket_take(&tb, 1200));
    assert_int_equal(token_bucket_remaining(&tb, 1200), 0);
    /* Idle time refills only up to the burst. */
    assert_int_equal(token_bucket_remaining(&tb, 100000), 2);
}

static void test_clock_going_back_is_harmless(void **state)
{
    (void)state;
    struct token_bucket tb;
    token_bucket_init(&tb, 1, 1, 5000);
    assert_true(token_bucket_take(&tb, 5000));
    assert_false(token_bucket_take(&tb, 4000));
    assert_true(token_bucket_take(&tb, 6000));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_rate),
        cmocka_unit_test(test_clock_going_back_is_harmless),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_histogram - bucketing, cumulative exposition text, sums across threads' copies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/histogram.h"

static const int64_t bounds[] = {10, 100, 1000};

static void test_buckets_and_text(void **state)
{
    (void)state;
    struct histogram h;
    histogram_init(&h, bounds, 3, 1e-3);
    histogram_record(&h, 10);   /* on a bound: that bucket (le is inclusive) */
    histogram_record(&h, 11);   /* the next one */
    histogram_record(&h, 1000); /* the last bound */
    histogram_record(&h, 5000); /* +Inf */
    histogram_record(&h, -3);   /* a clock step back counts as 0 in the sum */
    char buf[1024];
    size_t n = 0;
    histogram_render(&h, "x_seconds", "outcome=\"a\"", true, buf, sizeof(buf), &n);
    buf[n] = '\0';
    assert_string_equal(buf, "# TYPE x_seconds histogram\n"
                             "x_seconds_bucket{outcome=\"a\",le=\"0.01\"} 2\n"
                             "x_seconds_bucket{outcome=\"a\",le=\"0.1\"} 3\n"
                             "x_seconds_bucket{outcome=\"a\",le=\"1\"} 4\n"
                             "x_seconds_bucket{outcome=\"a\",le=\"+Inf\"} 5\n"
                             "x_seconds_sum{outcome=\"a\"} 6.021\n"
                             "x_seconds_count{outcome=\"a\"} 5\n");
}

static void test_no_labels_and_add(void **state)
{
    (void)state;
    struct histogram a, b, sum;
    histogram_init(&a, bounds, 3, 1);
    histogram_init(&b, bounds, 3, 1);
    histogram_init(&sum, bounds, 3, 1);
    histogram_record(&a, 5);
    histogram_record(&b, 500);
    histogram_add(&sum, &a);
    histogram_add(&sum, &b);
    char buf[512];
    size_t n = 0;
    histogram_render(&sum, "y", "", false, buf, sizeof(buf), &n);
    buf[n] = '\0';
    assert_string_equal(buf,
                        "y_bucket{le=\"10\"} 1\ny_bucket{le=\"100\"} 1\ny_bucket{le=\"1000\"} 2\n"
                        "y_bucket{le=\"+Inf\"} 2\ny_sum 505\ny_count 2\n");
}

static void test_output_is_cut_at_cap(void **state)
{
    (void)state;
    struct histogram h;
    histogram_init(&h, bounds, 3, 1);
    char buf[40];
    memset(buf, 'z', sizeof(buf));
    size_t n = 0;
    histogram_render(&h, "long_metric_name", "", true, buf, sizeof(buf), &n);
    assert_int_equal(n, sizeof(buf)); /* full: nothing more is written */
    histogram_render(&h, "more", "", true, buf, sizeof(buf), &n);
    assert_int_equal(n, sizeof(buf));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buckets_and_text),
        cmocka_unit_test(test_no_labels_and_add),
        cmocka_unit_test(test_output_is_cut_at_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

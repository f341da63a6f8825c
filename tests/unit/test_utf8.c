/* test_utf8 - util/utf8.c: well-formedness as jansson sees it, truncation on
 * sequence boundaries, and the sanitising copy used for error messages
 * (issue 6 §1: request bytes must never reach a JSON string invalid or cut). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "util/err.h"
#include "util/utf8.h"

static void test_valid_and_invalid(void **state)
{
    (void)state;
    assert_true(utf8_is_valid("", 0));
    assert_true(utf8_is_valid("abc \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 15));
    const char *bad[] = {"\xff",
                         "\xc3",
                         "\xc0\xaf", /* overlong */
                         "\xe0\x80\xaf",
                         "\xed\xa0\x80",     /* surrogate */
                         "\xf4\x90\x80\x80", /* > U+10FFFF */
                         "\xf0\x9f\x98",
                         "\x80",
                         "\xc3\x28"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_false(utf8_is_valid(bad[i], strlen(bad[i])));
        /* jansson agrees: it refuses the same strings */
        assert_null(json_stringn(bad[i], strlen(bad[i])));
    }
    assert_false(utf8_is_valid("a\0b", 3));
}

static void test_prefix_len_never_cuts_a_character(void **state)
{
    (void)state;
    char s[200];
    memset(s, 'a', 63);
    memcpy(s + 63, "\xc3\xa9", 3); /* 63 x 'a' + 'é' (65 bytes) */
    assert_int_equal(utf8_prefix_len(s, 65, 64), 63);
    assert_int_equal(utf8_prefix_len(s, 65, 65), 65);
    assert_int_equal(utf8_prefix_len("\xe2\x82\xac", 3, 2), 0);
    assert_int_equal(utf8_prefix_len("\xff\xff", 2, 1), 1); /* invalid bytes count as one */
}

static void test_trim_partial(void **state)
{
    (void)state;
    assert_int_equal(utf8_trim_partial("ab\xc3", 3), 2);
    assert_int_equal(utf8_trim_partial("ab\xe2\x82", 4), 2);
    assert_int_equal(utf8_trim_partial("ab\xf0\x9f\x98", 5), 2);
    assert_int_equal(utf8_trim_partial("ab\xc3\xa9", 4), 4);
    assert_int_equal(utf8_trim_partial("ab\xff", 3), 3); /* not a cut sequence: sanitize's job */
    assert_int_equal(utf8_trim_partial("", 0), 0);
}

static void test_sanitize(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(utf8_sanitize(out, sizeof(out), "G\xffT", 3), 5);
    assert_string_equal(out, "G\xef\xbf\xbdT");
    utf8_sanitize(out, sizeof(out), "x\xc3", 2);
    assert_string_equal(out, "x\xef\xbf\xbd");
    utf8_sanitize(out, sizeof(out), "\xed\xa0\x80", 3); /* a surrogate: 3 bytes, 3 U+FFFD */
    assert_string_equal(out, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    /* Too small: stops before a character that does not fit. */
    assert_int_equal(utf8_sanitize(out, 4, "a\xc3\xa9\xc3\xa9", 5), 3);
    assert_string_equal(out, "a\xc3\xa9");
    assert_int_equal(utf8_sanitize(out, 3, "a\xc3\xa9", 3), 1);
    /* The result is always something jansson takes. */
    unsigned char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    char big[1024];
    size_t n = utf8_sanitize(big, sizeof(big), (const char *)all, sizeof(all));
    assert_true(utf8_is_valid(big, n));
    json_t *j = json_stringn(big, n);
    assert_non_null(j);
    json_decref(j);
}

static void test_err_set_truncation_keeps_whole_characters(void **state)
{
    (void)state;
    char name[600];
    memset(name, 0, sizeof(name));
    for (size_t i = 0; i + 2 < sizeof(name); i += 2)
        memcpy(name + i, "\xc3\xa9", 2);
    struct err_detail d;
    err_set(&d, ERR_INVAL, "X", "'%s'", name);
    assert_true(utf8_is_valid(d.msg, strlen(d.msg)));
    err_set(&d, ERR_INVAL, "X", "%s", name); /* even length: no cut, still valid */
    assert_true(utf8_is_valid(d.msg, strlen(d.msg)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_and_invalid),
        cmocka_unit_test(test_prefix_len_never_cuts_a_character),
        cmocka_unit_test(test_trim_partial),
        cmocka_unit_test(test_sanitize),
        cmocka_unit_test(test_err_set_truncation_keeps_whole_characters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

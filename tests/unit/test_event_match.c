/*
 * test_event_match - event-type patterns and channel overlap
 * (core/event_match.c): the fan-out rule's conditions 2 and 3.
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

#include "core/event_match.h"

static void test_pattern_matches(void **state)
{
    (void)state;
    static const struct {
        const char *pattern;
        const char *type;
        bool want;
    } rows[] = {
        /* exact names */
        {"order.created", "order.created", true},
        {"order.created", "order.updated", false},
        {"order.created", "Order.created", false},
        {"order.created", "order.created.v2", false},
        {"order", "order.created", false},
        {"order.created", "", false},
        /* a lone star */
        {"*", "order.created", true},
        {"*", "x", true},
        {"*", "*", true},
        /* a trailing ".*" */
        {"order.*", "order.created", true},
        {"order.*", "order.item.added", true},
        {"order.*", "order.x", true},
        {"order.*", "order", false},
        {"order.*", "order.", false},
        {"order.*", "orders.x", false},
        {"order.*", "orderx", false},
        {"order.*", "xorder.created", false},
        {"order.*", "Order.created", false},
        {"order.item.*", "order.item.added", true},
        {"order.item.*", "order.items.added", false},
        {"order.item.*", "order.created", false},
        {"a.*", "a.b", true},
        /* no other wildcard positions: the star is a plain character there */
        {"*.created", "order.created", false},
        {"*.created", "*.created", true},
        {"order*", "order.created", false},
        {"order.*.added", "order.item.added", false},
        {"**", "order", false},
        {".*", "x", false},
        {".*", ".x", false},
        /* NULL never matches */
        {NULL, "order.created", false},
        {"*", NULL, false},
        {NULL, NULL, false},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        bool got = event_type_pattern_matches(rows[i].pattern, rows[i].type);
        if (got != rows[i].want)
            fail_msg("pattern '%s' vs type '%s': got %d, want %d",
                     rows[i].pattern ? rows[i].pattern : "(null)",
                     rows[i].type ? rows[i].type : "(null)", got, rows[i].want);
    }
}

static void test_pattern_is_valid(void **state)
{
    (void)state;
    static const struct {
        const char *pattern;
        bool name;       /* event_type_name_is_valid */
        bool pattern_ok; /* event_type_pattern_is_valid */
    } rows[] = {
        {"order.created", true, true},
        {"a", true, true},
        {"A-Z_09.x", true, true},
        {"user.signup-v2_beta", true, true},
        {".", true, true},
        {"*", false, true},
        {"order.*", false, true},
        {"order.item.*", false, true},
        {"a.*", false, true},
        {"", false, false},
        {".*", false, false},
        {"*.created", false, false},
        {"order*", false, false},
        {"order.*.added", false, false},
        {"order.**", false, false},
        {"**", false, false},
        {"order. created", false, false},
        {"order/created", false, false},
        {"ordér", false, false},
        {"order:created", false, false},
        {NULL, false, false},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *p = rows[i].pattern;
        if (event_type_name_is_valid(p) != rows[i].name)
            fail_msg("name_is_valid('%s') != %d", p ? p : "(null)", rows[i].name);
        if (event_type_pattern_is_valid(p) != rows[i].pattern_ok)
            fail_msg("pattern_is_valid('%s') != %d", p ? p : "(null)", rows[i].pattern_ok);
    }
}

static void test_pattern_length(void **state)
{
    (void)state;
    char buf[EVENT_TYPE_NAME_MAX + 8];

    /* A name: 256 bytes is the limit. */
    memset(buf, 'a', EVENT_TYPE_NAME_MAX);
    buf[EVENT_TYPE_NAME_MAX] = '\0';
    assert_true(event_type_name_is_valid(buf));
    assert_true(event_type_pattern_is_valid(buf));
    buf[EVENT_TYPE_NAME_MAX] = 'a';
    buf[EVENT_TYPE_NAME_MAX + 1] = '\0';
    assert_false(event_type_name_is_valid(buf));
    assert_false(event_type_pattern_is_valid(buf));

    /* A prefix pattern: 254 name bytes plus ".*" still covers a 256-byte name. */
    memset(buf, 'a', EVENT_TYPE_NAME_MAX - 2);
    memcpy(buf + EVENT_TYPE_NAME_MAX - 2, ".*", 3);
    assert_true(event_type_pattern_is_valid(buf));
    char type[EVENT_TYPE_NAME_MAX + 1];
    memcpy(type, buf, EVENT_TYPE_NAME_MAX - 1); /* the name and its dot */
    type[EVENT_TYPE_NAME_MAX - 1] = 'x';
    type[EVENT_TYPE_NAME_MAX] = '\0';
    assert_true(event_type_name_is_valid(type));
    assert_true(event_type_pattern_matches(buf, type));

    /* One more byte of prefix could match no valid name. */
    memset(buf, 'a', EVENT_TYPE_NAME_MAX - 1);
    memcpy(buf + EVENT_TYPE_NAME_MAX - 1, ".*", 3);
    assert_false(event_type_pattern_is_valid(buf));
}

static void test_channels(void **state)
{
    (void)state;
    const char *const none[] = {NULL};
    const char *const ab[] = {"a", "b"};
    const char *const b[] = {"b"};
    const char *const c[] = {"c"};
    const char *const cd[] = {"c", "d"};
    const char *const upper_b[] = {"B"};
    const char *const null_b[] = {NULL, "b"};
    const char *const nulls[] = {NULL, NULL};

    /* An endpoint without channels gets every event, with or without channels. */
    assert_true(event_channels_match(NULL, 0, NULL, 0));
    assert_true(event_channels_match(none, 0, ab, 2));
    assert_true(event_channels_match(NULL, 0, ab, 2));
    assert_true(event_channels_match(nulls, 2, ab, 2));
    /* An endpoint with channels needs a shared one. */
    assert_true(event_channels_match(ab, 2, b, 1));
    assert_true(event_channels_match(b, 1, ab, 2));
    assert_true(event_channels_match(ab, 2, ab, 2));
    assert_false(event_channels_match(ab, 2, c, 1));
    assert_false(event_channels_match(ab, 2, cd, 2));
    assert_false(event_channels_match(b, 1, upper_b, 1));
    /* An event without channels reaches only endpoints without channels. */
    assert_false(event_channels_match(ab, 2, NULL, 0));
    assert_false(event_channels_match(ab, 2, none, 0));
    assert_false(event_channels_match(ab, 2, nulls, 2));
    /* NULL entries are skipped. */
    assert_true(event_channels_match(null_b, 2, b, 1));
    assert_true(event_channels_match(b, 1, null_b, 2));
    assert_false(event_channels_match(null_b, 2, c, 1));
    /* Only the first n entries count. */
    assert_false(event_channels_match(ab, 1, b, 1));
    assert_false(event_channels_match(b, 1, ab, 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pattern_matches),
        cmocka_unit_test(test_pattern_is_valid),
        cmocka_unit_test(test_pattern_length),
        cmocka_unit_test(test_channels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

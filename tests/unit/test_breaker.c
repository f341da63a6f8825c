/*
 * test_breaker - the circuit breaker state machine (core/breaker.c): every
 * transition of breaker.h, cool-down doubling and its cap, stragglers,
 * abandoned probes, manual reset, the off switch, config bounds, names and
 * the GET rendering. Time is passed in, so nothing waits.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/breaker.h"

#define S 1000LL
#define T0 1700000000000LL /* 2023-11-14T22:13:20Z */

/* Fail n attempts at time now; returns whether the last one changed the state. */
static bool fail_n(struct breaker *b, int n, int64_t now)
{
    bool changed = false;
    for (int i = 0; i < n; i++)
        changed = breaker_on_result(b, false, now);
    return changed;
}

/* Open a default breaker at T0. */
static void open_at_t0(struct breaker *b)
{
    breaker_init(b, NULL);
    assert_false(fail_n(b, 4, T0));
    assert_true(fail_n(b, 1, T0));
    assert_int_equal(b->state, BREAKER_OPEN);
}

static void test_defaults(void **state)
{
    (void)state;
    struct breaker b;
    breaker_init(&b, NULL);
    assert_int_equal(b.cfg.failures, 5);
    assert_int_equal(b.cfg.cooldown_ms, 60 * S);
    assert_int_equal(b.cfg.max_cooldown_ms, 3600 * S);
    assert_int_equal(b.state, BREAKER_CLOSED);
    assert_int_equal(b.consecutive_failures, 0);
    assert_int_equal(b.opened_at_ms, 0);
    assert_int_equal(b.cooldown_ms, 60 * S);
    assert_false(b.probe_in_flight);
    int64_t wait = -7;
    assert_true(breaker_may_attempt(&b, T0, &wait));
    assert_int_equal(wait, -7); /* untouched on yes */
    assert_int_equal(b.state, BREAKER_CLOSED);
}

static void test_closed_opens_after_n_consecutive(void **state)
{
    (void)state;
    struct breaker b;
    breaker_init(&b, NULL);
    /* 4 failures, a success, 4 failures: never 5 in a row. */
    assert_false(fail_n(&b, 4, T0));
    assert_int_equal(b.consecutive_failures, 4);
    assert_false(breaker_on_result(&b, true, T0));
    assert_int_equal(b.consecutive_failures, 0);
    assert_false(fail_n(&b, 4, T0));
    assert_int_equal(b.state, BREAKER_CLOSED);
    assert_true(breaker_may_attempt(&b, T0, NULL));
    /* The fifth in a row opens it. */
    assert_true(breaker_on_result(&b, false, T0 + 5));
    assert_int_equal(b.state, BREAKER_OPEN);
    assert_int_equal(b.opened_at_ms, T0 + 5);
    assert_int_equal(b.cooldown_ms, 60 * S);
    assert_int_equal(b.probe_at_ms, T0 + 5 + 60 * S);
    assert_int_equal(b.consecutive_failures, 5);
}

static void test_open_waits_then_probes(void **state)
{
    (void)state;
    struct breaker b;
    open_at_t0(&b);
    int64_t wait = 0;
    /* Due messages wait until the cool-down is over. */
    assert_false(breaker_may_attempt(&b, T0, &wait));
    assert_int_equal(wait, T0 + 60 * S);
    assert_false(breaker_may_attempt(&b, T0 + 60 * S - 1, &wait));
    assert_int_equal(wait, T0 + 60 * S);
    assert_false(breaker_may_attempt(&b, T0 + 30 * S, NULL));
    assert_int_equal(b.state, BREAKER_OPEN);
    /* Then exactly one probe. */
    assert_true(breaker_may_attempt(&b, T0 + 60 * S, &wait));
    assert_int_equal(b.state, BREAKER_HALF_OPEN);
    assert_true(b.probe_in_flight);
    assert_false(breaker_may_attempt(&b, T0 + 60 * S, &wait));
    assert_int_equal(wait, BREAKER_WAIT_PROBE);
    assert_false(breaker_may_attempt(&b, T0 + 3600 * S, &wait));
    assert_int_equal(wait, BREAKER_WAIT_PROBE);
    assert_int_equal(b.opened_at_ms, T0); /* still the time it opened */
}

static void test_probe_success_closes(void **state)
{
    (void)state;
    struct breaker b;
    open_at_t0(&b);
    assert_true(breaker_may_attempt(&b, T0 + 61 * S, NULL));
    assert_true(breaker_on_result(&b, true, T0 + 62 * S));
    assert_int_equal(b.state, BREAKER_CLOSED);
    assert_int_equal(b.consecutive_failures, 0);
    assert_int_equal(b.opened_at_ms, 0);
    assert_int_equal(b.cooldown_ms, 60 * S);
    assert_false(b.probe_in_flight);
    assert_true(breaker_may_attempt(&b, T0 + 62 * S, NULL));
    assert_true(breaker_may_attempt(&b, T0 + 62 * S, NULL)); /* no probe limit when closed */
}

static void test_probe_failure_reopens_doubled(void **state)
{
    (void)state;
    struct breaker b;
    open_at_t0(&b);
    int64_t now = T0 + 60 * S, wait = 0;
    assert_true(breaker_may_attempt(&b, now, NULL));
    assert_true(breaker_on_result(&b, false, now + 1));
    assert_int_equal(b.state, BREAKER_OPEN);
    assert_false(b.probe_in_flight);
    assert_int_equal(b.cooldown_ms, 120 * S);
    assert_int_equal(b.probe_at_ms, now + 1 + 120 * S);
    assert_int_equal(b.opened_at_ms, T0); /* open since T0, through the probe */
    assert_false(breaker_may_attempt(&b, now + 120 * S, &wait));
    assert_int_equal(wait, now + 1 + 120 * S);
    assert_true(breaker_may_attempt(&b, now + 1 + 120 * S, &wait));
    assert_int_equal(b.state, BREAKER_HALF_OPEN);
}

static void test_cooldown_doubles_to_cap_and_resets(void **state)
{
    (void)state;
    struct breaker b;
    open_at_t0(&b);
    const int64_t want[] = {120, 240, 480, 960, 1920, 3600, 3600, 3600};
    int64_t now = T0;
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        now = b.probe_at_ms;
        assert_true(breaker_may_attempt(&b, now, NULL));
        assert_true(breaker_on_result(&b, false, now));
        assert_int_equal(b.cooldown_ms, want[i] * S);
        assert_int_equal(b.probe_at_ms, now + want[i] * S);
    }
    /* A 2xx probe resets it: the next opening starts at 60 s again. */
    now = b.probe_at_ms;
    assert_true(breaker_may_attempt(&b, now, NULL));
    assert_true(breaker_on_result(&b, true, now));
    assert_int_equal(b.cooldown_ms, 60 * S);
    assert_true(fail_n(&b, 5, now + 10));
    assert_int_equal(b.cooldown_ms, 60 * S);
    assert_int_equal(b.probe_at_ms, now + 10 + 60 * S);
    assert_int_equal(b.opened_at_ms, now + 10);
}

static void test_stragglers(void **state)
{
    (void)state;
    struct breaker b;
    open_at_t0(&b);
    /* Failures of attempts that started before it opened only count. */
    assert_false(fail_n(&b, 3, T0 + 10 * S));
    assert_int_equal(b.state, BREAKER_OPEN);
    assert_int_equal(b.consecutive_failures, 8);
    assert_int_equal(b.probe_at_ms, T0 + 60 * S); /* no extension */
    assert_int_equal(b.cooldown_ms, 60 * S);
    /* A 2xx from one closes it. */
    assert_true(breaker_on_result(&b, true, T0 + 20 * S));
    assert_int_equal(b.state, BREAKER_CLOSED);
    assert_int_equal(b.consecutive_failures, 0);
    /* In half_open the next result decides, whoever sent it (XXX in breaker.h). */
    open_at_t0(&b);
    assert_true(breaker_may_attempt(&b, T0 + 60 * S, NULL));
    assert_true(breaker_on_result(&b, false, T0 + 61 * S));
    assert_int_equal(b.state, BREAKER_OPEN);
    assert_false(breaker_on_result(&b, false, T0 + 62 * S)); /* the real probe, late */
    assert_int_equal(b.cooldown_ms, 120 * S);
}

static void test_manual_reset(void **state)
{
    (void)state;
    struct breaker b;
    open_at_t0(&b);
    breaker_reset(&b);
    assert_int_equal(b.state, BREAKER_CLOSED);
    assert_int_equal(b.consecutive_failures, 0);
    assert_int_equal(b.opened_at_ms, 0);
    assert_true(breaker_may_attempt(&b, T0, NULL));
    /* From half_open with a doubled cool-down, too. */
    open_at_t0(&b);
    assert_true(breaker_may_attempt(&b, T0 + 60 * S, NULL));
    assert_true(breaker_on_result(&b, false, T0 + 60 * S));
    assert_true(breaker_may_attempt(&b, T0 + 180 * S, NULL));
    assert_int_equal(b.state, BREAKER_HALF_OPEN);
    breaker_reset(&b);
    assert_int_equal(b.state, BREAKER_CLOSED);
    assert_false(b.probe_in_flight);
    assert_int_equal(b.cooldown_ms, 60 * S);
    /* Counting starts over: 4 failures do not reopen it. */
    assert_false(fail_n(&b, 4, T0 + 200 * S));
    assert_int_equal(b.state, BREAKER_CLOSED);
    /* Resetting a closed breaker changes nothing that matters. */
    breaker_reset(&b);
    assert_int_equal(b.state, BREAKER_CLOSED);
    assert_int_equal(b.consecutive_failures, 0);
}

static void test_abandon_probe(void **state)
{
    (void)state;
    struct breaker b;
    open_at_t0(&b);
    assert_false(breaker_abandon_probe(&b, T0 + 1)); /* open: nothing to abandon */
    assert_int_equal(b.probe_at_ms, T0 + 60 * S);
    assert_true(breaker_may_attempt(&b, T0 + 60 * S, NULL));
    assert_true(breaker_abandon_probe(&b, T0 + 70 * S));
    assert_int_equal(b.state, BREAKER_OPEN);
    assert_false(b.probe_in_flight);
    assert_int_equal(b.cooldown_ms, 60 * S); /* not doubled */
    assert_int_equal(b.opened_at_ms, T0);
    /* The next due message may probe at once. */
    assert_true(breaker_may_attempt(&b, T0 + 70 * S, NULL));
    assert_int_equal(b.state, BREAKER_HALF_OPEN);

    breaker_init(&b, NULL);
    assert_false(breaker_abandon_probe(&b, T0));
    assert_int_equal(b.state, BREAKER_CLOSED);

    /* A breaker restored in half_open without abandoning lets one probe start. */
    open_at_t0(&b);
    b.state = BREAKER_HALF_OPEN;
    b.probe_in_flight = false;
    assert_true(breaker_may_attempt(&b, T0, NULL));
    assert_false(breaker_may_attempt(&b, T0, NULL));
}

static void test_off_and_custom_config(void **state)
{
    (void)state;
    struct breaker_config c;
    breaker_config_default(&c);
    c.failures = 0;
    struct breaker b;
    breaker_init(&b, &c);
    assert_false(fail_n(&b, 10000, T0));
    assert_int_equal(b.state, BREAKER_CLOSED);
    assert_true(breaker_may_attempt(&b, T0, NULL));

    c.failures = 1;
    c.cooldown_ms = 1 * S;
    c.max_cooldown_ms = 3 * S;
    breaker_init(&b, &c);
    assert_true(breaker_on_result(&b, false, T0));
    assert_int_equal(b.probe_at_ms, T0 + 1 * S);
    const int64_t want[] = {2, 3, 3};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        int64_t now = b.probe_at_ms;
        assert_true(breaker_may_attempt(&b, now, NULL));
        assert_true(breaker_on_result(&b, false, now));
        assert_int_equal(b.cooldown_ms, want[i] * S);
    }
}

static void test_config_check(void **state)
{
    (void)state;
    struct breaker_config c;
    struct err_detail d = {{0}, {0}, {0}};
    breaker_config_default(&c);
    assert_int_equal(breaker_config_check(&c, &d), ERR_OK);
    c.failures = 0;
    assert_int_equal(breaker_config_check(&c, &d), ERR_OK);
    c.failures = BREAKER_MAX_FAILURES + 1;
    assert_int_equal(breaker_config_check(&c, &d), ERR_INVAL);
    assert_string_equal(d.field, "circuit-failures");
    c.failures = -1;
    assert_int_equal(breaker_config_check(&c, NULL), ERR_INVAL);
    breaker_config_default(&c);
    c.cooldown_ms = 999;
    assert_int_equal(breaker_config_check(&c, &d), ERR_INVAL);
    assert_string_equal(d.field, "circuit-cooldown");
    breaker_config_default(&c);
    c.max_cooldown_ms = 59 * S;
    assert_int_equal(breaker_config_check(&c, &d), ERR_INVAL);
    assert_string_equal(d.field, "circuit-max-cooldown");
    c.max_cooldown_ms = BREAKER_MAX_COOLDOWN_MS + 1;
    assert_int_equal(breaker_config_check(&c, &d), ERR_INVAL);
    c.max_cooldown_ms = 60 * S;
    assert_int_equal(breaker_config_check(&c, &d), ERR_OK);
}

static void test_names_and_render(void **state)
{
    (void)state;
    assert_string_equal(breaker_state_name(BREAKER_CLOSED), "closed");
    assert_string_equal(breaker_state_name(BREAKER_OPEN), "open");
    assert_string_equal(breaker_state_name(BREAKER_HALF_OPEN), "half_open");
    enum breaker_state st = BREAKER_CLOSED;
    assert_true(breaker_state_parse("half_open", &st));
    assert_int_equal(st, BREAKER_HALF_OPEN);
    assert_true(breaker_state_parse("open", &st));
    assert_int_equal(st, BREAKER_OPEN);
    assert_true(breaker_state_parse("closed", &st));
    assert_int_equal(st, BREAKER_CLOSED);
    assert_false(breaker_state_parse("half-open", &st));
    assert_false(breaker_state_parse("Open", &st));
    assert_false(breaker_state_parse(NULL, &st));

    struct breaker b;
    breaker_init(&b, NULL);
    json_t *o = json_object();
    breaker_render(&b, o);
    char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(text, "{\"circuit_opened_at\":null,\"circuit_state\":\"closed\"}");
    free(text);
    open_at_t0(&b);
    breaker_render(&b, o);
    text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(
        text, "{\"circuit_opened_at\":\"2023-11-14T22:13:20.000Z\",\"circuit_state\":\"open\"}");
    free(text);
    assert_true(breaker_may_attempt(&b, T0 + 60 * S, NULL));
    breaker_render(&b, o);
    assert_string_equal(json_string_value(json_object_get(o, "circuit_state")), "half_open");
    assert_string_equal(json_string_value(json_object_get(o, "circuit_opened_at")),
                        "2023-11-14T22:13:20.000Z");
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_closed_opens_after_n_consecutive),
        cmocka_unit_test(test_open_waits_then_probes),
        cmocka_unit_test(test_probe_success_closes),
        cmocka_unit_test(test_probe_failure_reopens_doubled),
        cmocka_unit_test(test_cooldown_doubles_to_cap_and_resets),
        cmocka_unit_test(test_stragglers),
        cmocka_unit_test(test_manual_reset),
        cmocka_unit_test(test_abandon_probe),
        cmocka_unit_test(test_off_and_custom_config),
        cmocka_unit_test(test_config_check),
        cmocka_unit_test(test_names_and_render),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

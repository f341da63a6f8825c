/*
 * breaker - the circuit breaker state machine; see breaker.h for the
 * contract and docs/policies/circuit-breaker.md for the rules as users
 * read them.
 * SPDX-License-Identifier: MIT
 */
#include "core/breaker.h"

#include <limits.h>
#include <string.h>

#include "util/clock.h"

static const char *const state_names[] = {
    [BREAKER_CLOSED] = "closed",
    [BREAKER_OPEN] = "open",
    [BREAKER_HALF_OPEN] = "half_open",
};

void breaker_config_default(struct breaker_config *c)
{
    c->failures = BREAKER_DEFAULT_FAILURES;
    c->cooldown_ms = BREAKER_DEFAULT_COOLDOWN_MS;
    c->max_cooldown_ms = BREAKER_DEFAULT_MAX_COOLDOWN_MS;
}

enum err breaker_config_check(const struct breaker_config *c, struct err_detail *d)
{
    if (c->failures < 0 || c->failures > BREAKER_MAX_FAILURES)
        return err_set_field(d, ERR_INVAL, "INVALID_CONFIG", "circuit-failures",
                             "'circuit-failures' must be from 0 (off) to %d, not %d",
                             BREAKER_MAX_FAILURES, c->failures);
    if (c->cooldown_ms < BREAKER_MIN_COOLDOWN_MS || c->cooldown_ms > BREAKER_MAX_COOLDOWN_MS)
        return err_set_field(d, ERR_INVAL, "INVALID_CONFIG", "circuit-cooldown",
                             "'circuit-cooldown' must be from 1s to 24h, not %lldms",
                             (long long)c->cooldown_ms);
    if (c->max_cooldown_ms < c->cooldown_ms || c->max_cooldown_ms > BREAKER_MAX_COOLDOWN_MS)
        return err_set_field(d, ERR_INVAL, "INVALID_CONFIG", "circuit-max-cooldown",
                             "'circuit-max-cooldown' must be from the cool-down (%lldms) to 24h, "
                             "not %lldms",
                             (long long)c->cooldown_ms, (long long)c->max_cooldown_ms);
    return ERR_OK;
}

void breaker_init(struct breaker *b, const struct breaker_config *cfg)
{
    memset(b, 0, sizeof(*b));
    if (cfg)
        b->cfg = *cfg;
    else
        breaker_config_default(&b->cfg);
    b->state = BREAKER_CLOSED;
    b->cooldown_ms = b->cfg.cooldown_ms;
}

static void close_circuit(struct breaker *b)
{
    b->state = BREAKER_CLOSED;
    b->consecutive_failures = 0;
    b->opened_at_ms = 0;
    b->cooldown_ms = b->cfg.cooldown_ms;
    b->probe_at_ms = 0;
    b->probe_in_flight = false;
}

void breaker_reset(struct breaker *b)
{
    close_circuit(b);
}

bool breaker_may_attempt(struct breaker *b, int64_t now_ms, int64_t *wait_until_ms)
{
    switch (b->state) {
    case BREAKER_CLOSED:
        return true;
    case BREAKER_OPEN:
        if (now_ms < b->probe_at_ms) {
            if (wait_until_ms)
                *wait_until_ms = b->probe_at_ms;
            return false;
        }
        b->state = BREAKER_HALF_OPEN;
        b->probe_in_flight = true;
        return true;
    case BREAKER_HALF_OPEN:
        if (b->probe_in_flight) {
            if (wait_until_ms)
                *wait_until_ms = BREAKER_WAIT_PROBE;
            return false;
        }
        /* Only a breaker restored in half_open without breaker_abandon_probe. */
        b->probe_in_flight = true;
        return true;
    }
    return true;
}

bool breaker_on_result(struct breaker *b, bool success, int64_t now_ms)
{
    if (success) {
        bool changed = b->state != BREAKER_CLOSED;
        close_circuit(b);
        return changed;
    }
    if (b->consecutive_failures < INT_MAX)
        b->consecutive_failures++;
    switch (b->state) {
    case BREAKER_CLOSED:
        if (b->cfg.failures <= 0 || b->consecutive_failures < b->cfg.failures)
            return false;
        b->state = BREAKER_OPEN;
        b->opened_at_ms = now_ms;
        b->cooldown_ms = b->cfg.cooldown_ms;
        b->probe_at_ms = now_ms + b->cooldown_ms;
        return true;
    case BREAKER_OPEN:
        return false; /* a straggler: the cool-down already runs */
    case BREAKER_HALF_OPEN:
        b->state = BREAKER_OPEN;
        b->probe_in_flight = false;
        b->cooldown_ms = b->cooldown_ms > b->cfg.max_cooldown_ms / 2 ? b->cfg.max_cooldown_ms
                                                                     : b->cooldown_ms * 2;
        if (b->cooldown_ms < b->cfg.cooldown_ms)
            b->cooldown_ms = b->cfg.cooldown_ms;
        b->probe_at_ms = now_ms + b->cooldown_ms;
        return true;
    }
    return false;
}

bool breaker_abandon_probe(struct breaker *b, int64_t now_ms)
{
    if (b->state != BREAKER_HALF_OPEN)
        return false;
    b->state = BREAKER_OPEN;
    b->probe_in_flight = false;
    b->probe_at_ms = now_ms;
    return true;
}

const char *breaker_state_name(enum breaker_state s)
{
    if ((size_t)s < sizeof(state_names) / sizeof(state_names[0]))
        return state_names[s];
    return "closed";
}

bool breaker_state_parse(const char *name, enum breaker_state *out)
{
    for (size_t i = 0; name && i < sizeof(state_names) / sizeof(state_names[0]); i++) {
        if (strcmp(name, state_names[i]) == 0) {
            *out = (enum breaker_state)i;
            return true;
        }
    }
    return false;
}

void breaker_render(const struct breaker *b, json_t *obj)
{
    json_object_set_new(obj, "circuit_state", json_string(breaker_state_name(b->state)));
    if (b->state == BREAKER_CLOSED) {
        json_object_set_new(obj, "circuit_opened_at", json_null());
    } else {
        char when[40];
        clock_format_rfc3339(when, sizeof(when), b->opened_at_ms);
        json_object_set_new(obj, "circuit_opened_at", json_string(when));
    }
}

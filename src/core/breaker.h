/*
 * breaker - an endpoint's circuit breaker (POLICIES §5, §8 circuit_state,
 * circuit_opened_at): the state machine only, with time passed in.
 *
 * Description:
 *   closed    --N consecutive failed attempts-->           open
 *   open      --cool-down over, breaker_may_attempt-->     half_open (one probe)
 *   half_open --probe 2xx-->                               closed (cool-down resets)
 *   half_open --probe failed-->                            open, cool-down doubled (up to max)
 *   any       --any 2xx result, breaker_reset-->           closed
 * While the circuit is not closed, due messages wait: breaker_may_attempt
 * says no and until when, and a waiting message is not an attempt. In
 * half_open exactly one probe may be in flight. N defaults to 5
 * (--circuit-failures), the cool-down to 60 s doubling up to 1 h; N = 0
 * turns the breaker off (it never opens).
 * What counts as a failure is the caller's call: the dispatcher reports
 * every attempt that was not a 2xx (an error answer, a timeout, a refused
 * connection) as a failure, as its consecutive_failures count does today.
 * Results of attempts that started before the circuit opened (stragglers)
 * may arrive while it is open: a failure only counts, a 2xx closes it.
 * XXX: in half_open the next result is taken as the probe's; a straggler
 * arriving first decides in its place (both are evidence about the same
 * endpoint, so this costs at most one early or late probe).
 * The fields of struct breaker are plain values so that the store can keep
 * them (state, consecutive_failures, opened_at_ms, cooldown_ms,
 * probe_at_ms); a breaker read back in half_open had its probe lost with
 * the process: call breaker_abandon_probe on it.
 * Threading: not thread-safe; the thread that owns the endpoint calls it.
 * Ownership: struct breaker is caller-owned, fixed size, no heap.
 * breaker_render adds new references to a caller's object.
 * Errors: breaker_config_check returns ERR_INVAL naming the setting;
 * nothing else fails.
 * See also: docs/policies/circuit-breaker.md.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_CORE_BREAKER_H
#define HOOKD_CORE_BREAKER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/err.h"

#define BREAKER_DEFAULT_FAILURES 5
#define BREAKER_DEFAULT_COOLDOWN_MS (60LL * 1000)
#define BREAKER_DEFAULT_MAX_COOLDOWN_MS (60LL * 60 * 1000)
/* Bounds breaker_config_check enforces. */
#define BREAKER_MAX_FAILURES 1000
#define BREAKER_MIN_COOLDOWN_MS 1000LL
#define BREAKER_MAX_COOLDOWN_MS (24LL * 60 * 60 * 1000)
/* breaker_may_attempt's wait_until while a probe is in flight: no time is
 * known; the probe's result (or breaker_abandon_probe) ends the wait. */
#define BREAKER_WAIT_PROBE INT64_MAX

enum breaker_state {
    BREAKER_CLOSED = 0,
    BREAKER_OPEN,
    BREAKER_HALF_OPEN,
};

struct breaker_config {
    int failures;            /* consecutive failed attempts that open it; 0 = never opens */
    int64_t cooldown_ms;     /* the first cool-down after opening */
    int64_t max_cooldown_ms; /* doubling stops here */
};

struct breaker {
    struct breaker_config cfg;
    enum breaker_state state;
    int consecutive_failures; /* failed attempts since the last 2xx */
    int64_t opened_at_ms;     /* when it left closed (kept through half_open); 0 when closed */
    int64_t cooldown_ms;      /* the current cool-down */
    int64_t probe_at_ms;      /* open: when the probe may start */
    bool probe_in_flight;     /* half_open: the probe has started and not reported */
};

/* 5 failures, 60 s, 1 h. */
void breaker_config_default(struct breaker_config *c);

/* ERR_OK, or ERR_INVAL with d naming the setting: failures 0..1000,
 * cooldown 1 s..24 h, max_cooldown cooldown..24 h. */
enum err breaker_config_check(const struct breaker_config *c, struct err_detail *d);

/* A closed breaker; cfg NULL means the defaults. cfg is copied. */
void breaker_init(struct breaker *b, const struct breaker_config *cfg);

/*
 * May an attempt start now? Closed: yes. Open before probe_at_ms: no, and
 * *wait_until_ms = probe_at_ms. Open after it: yes, and this call claims
 * the probe (the breaker goes half_open). Half_open with the probe in
 * flight: no, and *wait_until_ms = BREAKER_WAIT_PROBE. wait_until_ms may be
 * NULL and is untouched when the answer is yes. Call it only when an attempt
 * is about to start: a yes in open is the probe, which must then run and
 * report through breaker_on_result (or breaker_abandon_probe).
 */
bool breaker_may_attempt(struct breaker *b, int64_t now_ms, int64_t *wait_until_ms);

/*
 * Report the result of an attempt that breaker_may_attempt let start:
 * success is a 2xx. Returns true when the state changed (the caller then
 * stores it, logs, updates its gauge, and on a close pumps the waiting
 * messages).
 */
bool breaker_on_result(struct breaker *b, bool success, int64_t now_ms);

/*
 * The probe ended without a result (its message was cancelled or deleted,
 * the process stopped): half_open goes back to open with the probe allowed
 * at once; the cool-down is not doubled. No-op in other states. Returns true
 * when the state changed.
 */
bool breaker_abandon_probe(struct breaker *b, int64_t now_ms);

/* Close by hand (reset-circuit): counters, cool-down and probe cleared. */
void breaker_reset(struct breaker *b);

/* "closed", "open" or "half_open"; static storage. */
const char *breaker_state_name(enum breaker_state s);

/* The inverse of breaker_state_name; false for anything else. */
bool breaker_state_parse(const char *name, enum breaker_state *out);

/*
 * Set the GET fields on an endpoint object: "circuit_state" (a state name)
 * and "circuit_opened_at" (RFC 3339 with milliseconds, or null when closed).
 */
void breaker_render(const struct breaker *b, json_t *obj);

#endif

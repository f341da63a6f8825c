/*
 * clock - wall and monotonic time in milliseconds, RFC 3339 rendering, and
 * strict duration parsing ("250ms", "30s", "5m", "2h").
 * Threading: any thread. SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_UTIL_CLOCK_H
#define HOOKD_UTIL_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Milliseconds since the Unix epoch. */
int64_t clock_now_ms(void);

/* Monotonic milliseconds, for timeouts. */
int64_t clock_mono_ms(void);

/* Monotonic microseconds, for latency histograms. */
int64_t clock_mono_us(void);

/* Render unix ms as RFC 3339 UTC with millisecond precision into buf (>= 25 bytes). */
void clock_format_rfc3339(char *buf, size_t len, int64_t unix_ms);

/* Parse an RFC 3339 timestamp ("Z" or "+hh:mm" offset) into unix ms. */
bool clock_parse_rfc3339(const char *s, int64_t *out_unix_ms);

/* Parse a duration with a unit (ms, s, m, h, d) into ms; false when malformed. */
bool clock_parse_duration(const char *s, size_t len, int64_t *out_ms);

#endif

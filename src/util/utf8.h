/*
 * utf8 - byte strings made safe for JSON text: validation, sanitising copy,
 * truncation on sequence boundaries.
 *
 * Description: request bytes (method, path, query, headers, body fields)
 * may be any bytes; JSON strings (and jansson) accept only well-formed
 * UTF-8. Whatever user text goes into a message or a JSON string passes
 * through utf8_sanitize (invalid bytes become U+FFFD) and is cut only where
 * a sequence ends (utf8_prefix_len), never inside one. Well-formed means
 * RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF - the
 * same rule jansson applies.
 * Threading: pure functions. Ownership: caller-owned buffers.
 * Errors: none; every function is total.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_UTIL_UTF8_H
#define HOOKD_UTIL_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length (1..4) of the well-formed sequence at s[0..len), or 0 when the bytes
 * there do not start one (invalid, or cut short by len). */
size_t utf8_seq_len(const char *s, size_t len);

/* True when s[0..len) is well-formed UTF-8 without NUL bytes. */
bool utf8_is_valid(const char *s, size_t len);

/* The largest n <= max such that s[0..n) does not end inside a sequence
 * (counted on s[0..len)); invalid bytes count as sequences of one. */
size_t utf8_prefix_len(const char *s, size_t len, size_t max);

/* len minus the bytes of a sequence cut short at the end of s[0..len) (for
 * text a fixed buffer truncated, such as vsnprintf output). */
size_t utf8_trim_partial(const char *s, size_t len);

/* Copies src[0..src_len) into dst (capacity cap >= 1), replacing every byte
 * that does not start a well-formed sequence, and every NUL, by U+FFFD; stops
 * at the last whole character that fits, always NUL-terminates. Returns the
 * bytes written (without the NUL). */
size_t utf8_sanitize(char *dst, size_t cap, const char *src, size_t src_len);

#endif

/*
 * json_scan - a strict RFC 8259 JSON validator that reports byte spans
 * instead of building a tree.
 *
 * Description: checks that bytes are well-formed JSON and tells the caller
 * where each value starts and ends, so a value can be passed on exactly as it
 * was sent (no re-serialisation, no number rounding, no escape rewriting).
 * The grammar is RFC 8259 with no extensions: no comments, no trailing
 * commas, no leading zeros, no single quotes, no BOM, whitespace only
 * space/HTAB/LF/CR. Numbers of any size and precision are accepted, since
 * nothing is converted. Strings must be valid UTF-8 (no overlong forms, no
 * encoded surrogates, nothing above U+10FFFF) with no raw control bytes
 * below 0x20; "\u0000" is accepted. A \u escape of a UTF-16 surrogate must
 * be a high surrogate immediately followed by an escaped low one; lone
 * surrogates are rejected, because they cannot become UTF-8 and most
 * receivers' parsers reject them. Nesting is limited by max_depth, where
 * every array or object counts one level (a top-level object is level 1).
 * It is deliberately not a decoder: duplicate keys are not detected (the
 * callback sees every member in order) and nothing is unescaped except by
 * json_scan_key_equals.
 * Threading: any thread; no state. Ownership: borrows the input only; spans
 * are offsets into it. Recursion depth is bounded by max_depth.
 * Errors: ERR_INVAL with detail code INVALID_REQUEST and a message
 * "invalid JSON at line L, column C: ..." (1-based, column in bytes), or
 * whatever a member callback returns.
 * See also: validate.h (the send body).
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_CORE_JSON_SCAN_H
#define HOOKD_CORE_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

/* One member of an object: the raw key and the raw value span. */
struct json_scan_member {
    const char *key; /* key bytes between the quotes, escapes not decoded */
    size_t key_len;
    size_t value_start; /* offset of the value's first byte */
    size_t value_end;   /* offset just past the value's last byte */
};

/*
 * Called once per member of the object, in input order. Return ERR_OK to go
 * on; anything else stops the scan and is returned as is (fill d yourself).
 */
typedef enum err (*json_scan_member_fn)(void *ctx, const struct json_scan_member *m,
                                        struct err_detail *d);

/*
 * Validate the JSON value starting at s[*pos] (after any whitespace) and
 * advance *pos just past its last byte; trailing whitespace is not consumed.
 * On error *pos is unspecified.
 */
enum err json_scan_value(const char *s, size_t len, size_t *pos, int max_depth,
                         struct err_detail *d);

/* Validate that s[0..len) is exactly one JSON value with only whitespace around it. */
enum err json_scan_text(const char *s, size_t len, int max_depth, struct err_detail *d);

/*
 * Validate that s[0..len) is exactly one JSON object with only whitespace
 * around it, calling fn (unless NULL) for each top-level member as it is
 * scanned; members of nested objects are not reported. A syntax error
 * later in the text can follow callbacks, so fn should only record spans
 * and the caller act once this returns ERR_OK. The object itself is depth 1.
 */
enum err json_scan_object(const char *s, size_t len, int max_depth, json_scan_member_fn fn,
                          void *ctx, struct err_detail *d);

/*
 * True when the raw, already validated string contents key[0..key_len)
 * decode to exactly the NUL-terminated UTF-8 string name.
 */
bool json_scan_key_equals(const char *key, size_t key_len, const char *name);

#endif

/*
 * dedupe - an endpoint's deduplication rule (POLICIES §2, §8 `deduplicate`):
 * parsed from the JSON a user sends, checked, rendered back for GET, and the
 * key that decides whether two messages are the same.
 *
 * Description: `deduplicate: {window_ms, include_fields?, exclude_fields?}`.
 * A message whose key was already seen for the endpoint within window_ms is
 * recorded as deduplicated and not delivered (the store keeps the keys and
 * the window; this module only computes them). The key is the SHA-256 (hex)
 * of a canonical JSON document:
 *  - include_fields: {"<path>": <value>, ...} for each listed path; a field
 *    that is missing counts as null [inferred].
 *  - otherwise: {"body": <payload>, "event_type": <type>, "headers":
 *    <custom headers>}, minus every path of exclude_fields. The event type
 *    is in it [inferred] so that one payload sent as two event types is
 *    not dropped; it is never part of an include_fields key.
 * include_fields and exclude_fields cannot both be set [inferred]. A path is
 * "body" or "headers" (the whole part), "body.<field>..." (dotted names;
 * a name of digits or "[n]" indexes an array: "body.items[0].id",
 * "body.items.0.id"), or "headers.<name>" (one header; names compare
 * case-insensitively and are stored lower-cased).
 * Canonical JSON: no whitespace; object members sorted by the bytes of
 * their UTF-8 keys; array order kept; strings as UTF-8 with only '"', '\\'
 * and control characters escaped (\b \f \n \r \t, else \u00XX lower-case);
 * integers in decimal; a real with an integral value below 2^53 as that
 * integer (1.0 == 1), any other real as "%.17g" (shortest exact form is not
 * attempted; the same double always gives the same text). Header names are
 * lower-cased; two names that differ only in case make an array of their
 * values, sorted. Equal content therefore gives equal keys whatever the
 * member order or spacing.
 * A payload jansson cannot read (not JSON; an integer beyond 64 bits) is
 * taken as the object {"$raw_sha256": "<hex of its bytes>"}, so its key
 * depends on its exact bytes.
 * XXX: reals are compared as doubles: two payloads differing only past the
 * 17th significant digit of a number get the same key. Excluding an array
 * element replaces it by null (removing it would shift the later indexes
 * of the same exclusion list).
 * Threading: pure functions; any thread.
 * Ownership: struct dedupe_policy is caller-owned with heap-held paths:
 * dedupe_policy_init before use, dedupe_policy_release after.
 * dedupe_policy_to_json and the canonical functions return memory the
 * caller frees (json_decref, free).
 * Errors: dedupe_policy_parse returns ERR_OK or ERR_INVAL with code
 * DEDUPE_ERR_CODE, the field at fault ("deduplicate.include_fields") and a
 * lower-case message naming the bad value. Nothing else fails (OOM aborts).
 * See also: docs/policies/deduplicate.md.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_CORE_DEDUPE_H
#define HOOKD_CORE_DEDUPE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define DEDUPE_ERR_CODE "INVALID_REQUEST"
#define DEDUPE_MIN_WINDOW_MS 1000LL
#define DEDUPE_MAX_WINDOW_MS (60LL * 60 * 1000)
/* Paths in include_fields or exclude_fields, and bytes of one path. */
#define DEDUPE_MAX_FIELDS 20
#define DEDUPE_MAX_PATH 256
/* Hex digits of a key (SHA-256). */
#define DEDUPE_KEY_LEN 64

enum dedupe_mode {
    DEDUPE_WHOLE = 0, /* whole payload, event type and custom headers */
    DEDUPE_INCLUDE,   /* only the listed fields */
    DEDUPE_EXCLUDE,   /* the whole message minus the listed fields */
};

struct dedupe_policy {
    int64_t window_ms;
    enum dedupe_mode mode;
    size_t n_fields;
    char *fields[DEDUPE_MAX_FIELDS]; /* normalised paths, owned */
};

/* An empty policy: window 0, whole mode, no fields. Not a valid rule by
 * itself (parse one); safe to release. */
void dedupe_policy_init(struct dedupe_policy *p);

/* Free the paths and re-initialise. */
void dedupe_policy_release(struct dedupe_policy *p);

/*
 * Parse and check the `deduplicate` object a user sent. v must be a JSON
 * object (null, meaning "remove the rule", is the caller's to handle; it is
 * refused here). out must be initialised; on ERR_OK its old contents are
 * released and replaced, on ERR_INVAL it is left as it was and d (may be
 * NULL) names the field at fault.
 */
enum err dedupe_policy_parse(const json_t *v, struct dedupe_policy *out, struct err_detail *d);

/* The GET shape: {window_ms, include_fields | exclude_fields when set}, with
 * header names lower-cased. A new reference. */
json_t *dedupe_policy_to_json(const struct dedupe_policy *p);

/*
 * The key of a message: payload is its body bytes (normally JSON), headers
 * its custom headers (an object of name -> string, or NULL for none),
 * event_type its event type (NULL leaves it out). Writes DEDUPE_KEY_LEN
 * lower-case hex digits and a NUL to out.
 */
void dedupe_key(const struct dedupe_policy *p, const void *payload, size_t payload_len,
                const json_t *headers, const char *event_type, char out[DEDUPE_KEY_LEN + 1]);

/*
 * The canonical document whose SHA-256 dedupe_key returns, as text (for
 * tests, debugging and docs). The caller frees it.
 */
char *dedupe_canonical(const struct dedupe_policy *p, const void *payload, size_t payload_len,
                       const json_t *headers, const char *event_type);

/* The canonical form of any JSON value (rules above, header names aside).
 * The caller frees it. */
char *dedupe_canonical_json(const json_t *v);

#endif

/*
 * filter - endpoint filters on an event's payload and headers (TENANCY §3):
 * Hookdeck's open JSON filter format, checked when an endpoint is saved and
 * evaluated at fan-out.
 *
 * Description: a filter is {"body": <schema>, "headers": <schema>}, each
 * part optional; an event passes when every present part matches. A schema
 * is a JSON value: a primitive matches by equality, an object partially and
 * recursively (extra keys in the event are ignored), arrays by containment,
 * and objects whose keys start with "$" are operators ($eq, $neq, $gt, $gte,
 * $lt, $lte, $in, $nin, $startsWith, $endsWith, $exist, $or, $and, $not,
 * $ref). The user-facing rules, with every choice this module makes, are
 * in docs/filters.md; keep the two in step.
 * filter_validate is the gate: it rejects unknown operators, operands of
 * the wrong type, and filters nested deeper than FILTER_MAX_DEPTH or larger
 * than FILTER_MAX_NODES values / FILTER_MAX_BYTES of strings.
 * filter_match never fails: a type mismatch is no match. It is total on any
 * JSON (validated or not): an unknown operator or a malformed operand in an
 * unvalidated filter makes that condition false. Its work is bounded by
 * FILTER_MAX_STEPS and FILTER_MAX_EVAL_DEPTH; past either, the event does
 * not match (XXX: a silent "no"; the bounds are far above what a real
 * filter on a 1 MiB payload needs).
 * This module does not parse payloads or headers; the caller hands in
 * jansson trees.
 * Threading: pure functions; any thread.
 * Ownership: every argument is borrowed; nothing outlives a call (filter_match
 * allocates only an empty header object when headers is NULL).
 * Errors: filter_validate returns ERR_OK or ERR_INVAL with code
 * FILTER_ERR_CODE and a lower-case message that names the bad operator
 * and where it sits (e.g. `operator "$in" at body.status needs an array
 * or a string, not a number`).
 * See also: docs/filters.md, event_match.h (the rest of the fan-out rule).
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_CORE_FILTER_H
#define HOOKD_CORE_FILTER_H

#include <jansson.h>
#include <stdbool.h>

#include "util/err.h"

#define FILTER_ERR_CODE "INVALID_FILTER"
/* Nesting of arrays and objects inside one part; the part's own value is level 1. */
#define FILTER_MAX_DEPTH 32
/* JSON values in the whole filter, operands and literals included. */
#define FILTER_MAX_NODES 4096
/* Bytes of object keys and strings in the whole filter. */
#define FILTER_MAX_BYTES (64 * 1024)
/* Bytes of one $ref path. */
#define FILTER_MAX_REF_PATH 1024
/* Comparisons one part may spend on one event before giving up (no match). */
#define FILTER_MAX_STEPS (1UL << 22)
/* Recursion depth of evaluation (event nesting under arrays, deep equality). */
#define FILTER_MAX_EVAL_DEPTH 256

/*
 * Check a filter before it is stored. NULL and JSON null mean "no filter" and
 * are valid; anything else must be an object with at most the members "body"
 * (any schema, or null = no condition) and "headers" (an object schema, or
 * null). Returns ERR_OK, or ERR_INVAL with d (may be NULL) filled.
 */
enum err filter_validate(const json_t *filter, struct err_detail *d);

/*
 * True when the event passes the filter: filter NULL, JSON null or {} match
 * every event. body is the parsed payload, or NULL when the payload is not
 * JSON (a body part then sees a missing value, so only schemas such as
 * {"$exist": false} or a $not can pass). headers is an object of header name
 * -> string whose names the caller has already lower-cased; NULL is an empty
 * set. Header names in the filter are compared case-insensitively (ASCII),
 * header values exactly. Works on unvalidated filters too (see above).
 */
bool filter_match(const json_t *filter, const json_t *body, const json_t *headers);

#endif

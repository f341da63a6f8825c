/*
 * event_match - the event-type and channel parts of the fan-out rule
 * (TENANCY §1, conditions 2 and 3) as pure predicates.
 *
 * Description: an endpoint's subscription entry is an event-type name or a
 * wildcard pattern, and its channel list narrows which events it receives.
 * Patterns: a lone "*" matches every type; a name followed by ".*" (such as
 * "order.*") matches every type that starts with that name and a dot and
 * has at least one more character ("order.created", "order.item.added",
 * not "order" nor "orders.x"); anything else matches only the identical
 * name. No other wildcard position exists: "*.created" or "order*" is not a
 * pattern (event_type_pattern_is_valid rejects it, and matching treats it
 * as a plain name, which no event type can equal). Names and channels are
 * compared byte for byte (case-sensitive).
 * This module does not know whether an endpoint subscribes to every type,
 * whether a subscription is enabled, or whether a type exists: the caller
 * (service) decides that and calls these per subscription row.
 * Threading: pure functions; any thread.
 * Ownership: borrows every argument.
 * Errors: none; every function is total (NULL arguments never match and
 * are never valid).
 * See also: filter.h (condition 4), docs/filters.md.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_CORE_EVENT_MATCH_H
#define HOOKD_CORE_EVENT_MATCH_H

#include <stdbool.h>
#include <stddef.h>

/* Longest event-type name, and longest pattern (a 254-byte name plus ".*"). */
#define EVENT_TYPE_NAME_MAX 256

/* True when the subscription pattern (a name, "name.*" or "*") covers the event type. */
bool event_type_pattern_matches(const char *pattern, const char *type);

/* True when s is an event-type name: ^[a-zA-Z0-9\-_.]{1,256}$. */
bool event_type_name_is_valid(const char *s);

/*
 * True when an endpoint may store pattern in its event-type list: a valid
 * name, a lone "*", or a valid name followed by ".*" with at most
 * EVENT_TYPE_NAME_MAX bytes in all (a longer prefix could match no name).
 */
bool event_type_pattern_is_valid(const char *pattern);

/*
 * True when an event with the channels event_channels[0..n_ev) reaches an
 * endpoint with endpoint_channels[0..n_ep): an endpoint without channels
 * (n_ep == 0) gets every event; otherwise they must share at least one
 * channel, so an event without channels reaches only endpoints without
 * channels. NULL entries are skipped (an endpoint list of only NULLs counts
 * as empty), and a NULL array counts as empty.
 */
bool event_channels_match(const char *const *endpoint_channels, size_t n_ep,
                          const char *const *event_channels, size_t n_ev);

#endif

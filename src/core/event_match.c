/*
 * event_match - event-type patterns and channel overlap; see event_match.h.
 *
 * Channel lists are short (Svix allows ten per endpoint and per message), so
 * the overlap test is a plain nested loop.
 * SPDX-License-Identifier: MIT
 */
#include "core/event_match.h"

#include <string.h>

static bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
}

/* s[0..len) is 1..EVENT_TYPE_NAME_MAX name characters. */
static bool is_name(const char *s, size_t len)
{
    if (len == 0 || len > EVENT_TYPE_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!is_name_char(s[i]))
            return false;
    return true;
}

/* True when pattern ends in ".*" after at least one character. */
static bool is_prefix_pattern(const char *pattern, size_t len)
{
    return len >= 3 && pattern[len - 2] == '.' && pattern[len - 1] == '*';
}

bool event_type_pattern_matches(const char *pattern, const char *type)
{
    if (!pattern || !type)
        return false;
    if (!strcmp(pattern, "*"))
        return true;
    size_t plen = strlen(pattern);
    if (is_prefix_pattern(pattern, plen)) {
        size_t prefix = plen - 1; /* the name and its dot */
        return strlen(type) > prefix && !memcmp(type, pattern, prefix);
    }
    return !strcmp(pattern, type);
}

bool event_type_name_is_valid(const char *s)
{
    return s && is_name(s, strlen(s));
}

bool event_type_pattern_is_valid(const char *pattern)
{
    if (!pattern)
        return false;
    size_t len = strlen(pattern);
    if (len == 1 && pattern[0] == '*')
        return true;
    if (len > EVENT_TYPE_NAME_MAX)
        return false;
    if (is_prefix_pattern(pattern, len))
        return is_name(pattern, len - 2);
    return is_name(pattern, len);
}

bool event_channels_match(const char *const *endpoint_channels, size_t n_ep,
                          const char *const *event_channels, size_t n_ev)
{
    bool has_channels = false;
    for (size_t i = 0; endpoint_channels && i < n_ep; i++) {
        if (!endpoint_channels[i])
            continue;
        has_channels = true;
        for (size_t j = 0; event_channels && j < n_ev; j++)
            if (event_channels[j] && !strcmp(endpoint_channels[i], event_channels[j]))
                return true;
    }
    return !has_channels;
}

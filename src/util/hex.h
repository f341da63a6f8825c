/*
 * hex - the value of one hexadecimal digit, for the parsers that read hex
 * (JSON \u escapes, key text, fuzz inputs). Pure; no state.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_UTIL_HEX_H
#define HOOKD_UTIL_HEX_H

/* 0..15 for [0-9a-fA-F], else -1. */
static inline int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

#endif

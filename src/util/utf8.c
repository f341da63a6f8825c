/* utf8 - see utf8.h. SPDX-License-Identifier: MIT */
#include "util/utf8.h"

#include <string.h>

size_t utf8_seq_len(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    if (len == 0)
        return 0;
    unsigned char c = p[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF; /* range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0; /* no overlong forms */
        else if (c == 0xED)
            hi = 0x9F; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F; /* nothing above U+10FFFF */
    } else {
        return 0;
    }
    if (len < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

bool utf8_is_valid(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t n = utf8_seq_len(s + i, len - i);
        if (n == 0 || s[i] == '\0')
            return false;
        i += n;
    }
    return true;
}

size_t utf8_prefix_len(const char *s, size_t len, size_t max)
{
    size_t i = 0;
    while (i < len) {
        size_t n = utf8_seq_len(s + i, len - i);
        if (n == 0)
            n = 1;
        if (i + n > max)
            break;
        i += n;
    }
    return i;
}

size_t utf8_trim_partial(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t k = 1; k <= 3 && k <= len; k++) {
        unsigned char c = p[len - k];
        if ((c & 0xC0) == 0x80)
            continue; /* a continuation byte: look further back for the lead */
        size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
        return need > k && c >= 0xC2 && c <= 0xF4 ? len - k : len;
    }
    return len;
}

size_t utf8_sanitize(char *dst, size_t cap, const char *src, size_t src_len)
{
    static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */
    size_t o = 0, i = 0;
    while (i < src_len) {
        size_t n = utf8_seq_len(src + i, src_len - i);
        const char *piece = src + i;
        size_t piece_len = n;
        if (n == 0 || src[i] == '\0') {
            piece = replacement;
            piece_len = 3;
            n = 1;
        }
        if (o + piece_len + 1 > cap)
            break;
        memcpy(dst + o, piece, piece_len);
        o += piece_len;
        i += n;
    }
    if (cap)
        dst[o] = '\0';
    return o;
}

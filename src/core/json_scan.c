/*
 * json_scan - strict JSON validation by byte spans; see json_scan.h for the contract.
 *
 * A recursive-descent scanner over one buffer: one pass, no allocation, the
 * C stack bounded by max_depth (each level costs one scan_value frame plus
 * one scan_object/scan_array frame). Positions in messages are computed
 * only on error, by counting newlines up to the offending byte.
 * SPDX-License-Identifier: MIT
 */
#include "core/json_scan.h"
#include "util/hex.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define CODE_REQUEST "INVALID_REQUEST"

struct scanner {
    const char *s;
    size_t len;
    size_t pos;
    int max_depth;
    struct err_detail *d;
};

static enum err scan_value(struct scanner *sc, int depth, json_scan_member_fn fn, void *ctx);

/* Fill the detail with the line and column of offset at; returns ERR_INVAL. */
__attribute__((format(printf, 3, 4))) static enum err fail(const struct scanner *sc, size_t at,
                                                           const char *fmt, ...)
{
    char what[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    size_t line = 1;
    size_t line_start = 0;
    for (size_t i = 0; i < at && i < sc->len; i++) {
        if (sc->s[i] == '\n') {
            line++;
            line_start = i + 1;
        }
    }
    return err_set(sc->d, ERR_INVAL, CODE_REQUEST, "invalid JSON at line %zu, column %zu: %s", line,
                   at - line_start + 1, what);
}

static enum err fail_eof(const struct scanner *sc)
{
    return fail(sc, sc->len, "unexpected end of input");
}

static void skip_ws(struct scanner *sc)
{
    while (sc->pos < sc->len) {
        char c = sc->s[sc->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            return;
        sc->pos++;
    }
}

/* Four hex digits at s[at..at+4) into *out; false when short or not hex. */
static bool read_hex4(const char *s, size_t len, size_t at, uint32_t *out)
{
    if (len < 4 || at > len - 4)
        return false;
    uint32_t v = 0;
    for (size_t i = 0; i < 4; i++) {
        int h = hex_digit(s[at + i]);
        if (h < 0)
            return false;
        v = v << 4 | (uint32_t)h;
    }
    *out = v;
    return true;
}

/* The escape after a backslash at sc->pos; leaves pos after it. */
static enum err scan_escape(struct scanner *sc)
{
    size_t at = sc->pos; /* the backslash */
    if (at + 1 >= sc->len)
        return fail_eof(sc);
    char c = sc->s[at + 1];
    if (c != '\0' && strchr("\"\\/bfnrt", c)) {
        sc->pos = at + 2;
        return ERR_OK;
    }
    if (c != 'u')
        return fail(sc, at, "invalid escape '\\%c'", c >= 0x20 && c < 0x7f ? c : '?');
    uint32_t cp;
    if (!read_hex4(sc->s, sc->len, at + 2, &cp))
        return fail(sc, at, "\\u must be followed by four hex digits");
    sc->pos = at + 6;
    if (cp >= 0xDC00 && cp <= 0xDFFF)
        return fail(sc, at, "lone low surrogate '\\u%04X'", (unsigned)cp);
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        uint32_t lo;
        if (sc->pos + 1 >= sc->len || sc->s[sc->pos] != '\\' || sc->s[sc->pos + 1] != 'u' ||
            !read_hex4(sc->s, sc->len, sc->pos + 2, &lo) || lo < 0xDC00 || lo > 0xDFFF)
            return fail(sc, at, "high surrogate '\\u%04X' not followed by a low surrogate",
                        (unsigned)cp);
        sc->pos += 6;
    }
    return ERR_OK;
}

/*
 * One UTF-8 sequence of two or more bytes at sc->pos (RFC 3629 table: no
 * overlong forms, no surrogates, nothing above U+10FFFF).
 */
static enum err scan_utf8(struct scanner *sc)
{
    const unsigned char *u = (const unsigned char *)sc->s;
    size_t at = sc->pos;
    unsigned char b = u[at];
    size_t n;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) {
        n = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
        n = 3;
        if (b == 0xE0)
            lo = 0xA0;
        else if (b == 0xED)
            hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
        n = 4;
        if (b == 0xF0)
            lo = 0x90;
        else if (b == 0xF4)
            hi = 0x8F;
    } else {
        return fail(sc, at, "invalid UTF-8 byte 0x%02X in string", b);
    }
    if (sc->len - at < n)
        return fail(sc, at, "truncated UTF-8 sequence in string");
    if (u[at + 1] < lo || u[at + 1] > hi)
        return fail(sc, at, "invalid UTF-8 sequence in string");
    for (size_t i = 2; i < n; i++)
        if (u[at + i] < 0x80 || u[at + i] > 0xBF)
            return fail(sc, at, "invalid UTF-8 sequence in string");
    sc->pos = at + n;
    return ERR_OK;
}

/* A string starting at the opening quote at sc->pos; leaves pos after the closing quote. */
static enum err scan_string(struct scanner *sc)
{
    size_t open = sc->pos;
    enum err e;
    sc->pos++;
    for (;;) {
        if (sc->pos >= sc->len)
            return fail(sc, open, "unterminated string");
        unsigned char c = (unsigned char)sc->s[sc->pos];
        if (c == '"') {
            sc->pos++;
            return ERR_OK;
        }
        if (c == '\\') {
            if ((e = scan_escape(sc)) != ERR_OK)
                return e;
        } else if (c < 0x20) {
            return fail(sc, sc->pos, "control character 0x%02X in string must be escaped", c);
        } else if (c < 0x80) {
            sc->pos++;
        } else if ((e = scan_utf8(sc)) != ERR_OK) {
            return e;
        }
    }
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Digits from sc->pos; false when there is none. */
static bool scan_digits(struct scanner *sc)
{
    size_t start = sc->pos;
    while (sc->pos < sc->len && is_digit(sc->s[sc->pos]))
        sc->pos++;
    return sc->pos > start;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, of any length. */
static enum err scan_number(struct scanner *sc)
{
    size_t start = sc->pos;
    if (sc->s[sc->pos] == '-')
        sc->pos++;
    if (sc->pos >= sc->len || !is_digit(sc->s[sc->pos]))
        return fail(sc, start, "invalid number: '-' must be followed by a digit");
    if (sc->s[sc->pos] == '0') {
        sc->pos++;
        if (sc->pos < sc->len && is_digit(sc->s[sc->pos]))
            return fail(sc, start, "invalid number: leading zeros are not allowed");
    } else {
        scan_digits(sc);
    }
    if (sc->pos < sc->len && sc->s[sc->pos] == '.') {
        sc->pos++;
        if (!scan_digits(sc))
            return fail(sc, start, "invalid number: '.' must be followed by a digit");
    }
    if (sc->pos < sc->len && (sc->s[sc->pos] == 'e' || sc->s[sc->pos] == 'E')) {
        sc->pos++;
        if (sc->pos < sc->len && (sc->s[sc->pos] == '+' || sc->s[sc->pos] == '-'))
            sc->pos++;
        if (!scan_digits(sc))
            return fail(sc, start, "invalid number: exponent must have digits");
    }
    return ERR_OK;
}

static enum err scan_literal(struct scanner *sc, const char *word)
{
    size_t n = strlen(word);
    if (sc->len - sc->pos < n || memcmp(sc->s + sc->pos, word, n) != 0)
        return fail(sc, sc->pos, "invalid literal (expected '%s')", word);
    sc->pos += n;
    return ERR_OK;
}

/*
 * The members of an object whose '{' is at sc->pos, the object being at
 * depth; fn (when set) sees each member.
 */
static enum err scan_object(struct scanner *sc, int depth, json_scan_member_fn fn, void *ctx)
{
    enum err e;
    sc->pos++;
    skip_ws(sc);
    if (sc->pos < sc->len && sc->s[sc->pos] == '}') {
        sc->pos++;
        return ERR_OK;
    }
    for (;;) {
        skip_ws(sc);
        if (sc->pos >= sc->len)
            return fail_eof(sc);
        if (sc->s[sc->pos] != '"')
            return fail(sc, sc->pos, "expected a string as object key");
        struct json_scan_member m;
        size_t key_open = sc->pos;
        if ((e = scan_string(sc)) != ERR_OK)
            return e;
        m.key = sc->s + key_open + 1;
        m.key_len = sc->pos - key_open - 2;
        skip_ws(sc);
        if (sc->pos >= sc->len)
            return fail_eof(sc);
        if (sc->s[sc->pos] != ':')
            return fail(sc, sc->pos, "expected ':' after object key");
        sc->pos++;
        skip_ws(sc);
        m.value_start = sc->pos;
        if ((e = scan_value(sc, depth, NULL, NULL)) != ERR_OK)
            return e;
        m.value_end = sc->pos;
        if (fn && (e = fn(ctx, &m, sc->d)) != ERR_OK)
            return e;
        skip_ws(sc);
        if (sc->pos >= sc->len)
            return fail_eof(sc);
        if (sc->s[sc->pos] == '}') {
            sc->pos++;
            return ERR_OK;
        }
        if (sc->s[sc->pos] != ',')
            return fail(sc, sc->pos, "expected ',' or '}' in object");
        sc->pos++;
    }
}

/* The elements of an array whose '[' is at sc->pos, the array being at depth. */
static enum err scan_array(struct scanner *sc, int depth)
{
    enum err e;
    sc->pos++;
    skip_ws(sc);
    if (sc->pos < sc->len && sc->s[sc->pos] == ']') {
        sc->pos++;
        return ERR_OK;
    }
    for (;;) {
        if ((e = scan_value(sc, depth, NULL, NULL)) != ERR_OK)
            return e;
        skip_ws(sc);
        if (sc->pos >= sc->len)
            return fail_eof(sc);
        if (sc->s[sc->pos] == ']') {
            sc->pos++;
            return ERR_OK;
        }
        if (sc->s[sc->pos] != ',')
            return fail(sc, sc->pos, "expected ',' or ']' in array");
        sc->pos++;
    }
}

/*
 * Any value after optional whitespace; depth is that of the enclosing
 * container (0 at the top). fn applies only if the value is an object.
 */
static enum err scan_value(struct scanner *sc, int depth, json_scan_member_fn fn, void *ctx)
{
    skip_ws(sc);
    if (sc->pos >= sc->len)
        return fail_eof(sc);
    char c = sc->s[sc->pos];
    switch (c) {
    case '{':
    case '[':
        if (depth >= sc->max_depth)
            return fail(sc, sc->pos, "nesting deeper than %d levels", sc->max_depth);
        return c == '{' ? scan_object(sc, depth + 1, fn, ctx) : scan_array(sc, depth + 1);
    case '"':
        return scan_string(sc);
    case 't':
        return scan_literal(sc, "true");
    case 'f':
        return scan_literal(sc, "false");
    case 'n':
        return scan_literal(sc, "null");
    default:
        if (c == '-' || is_digit(c))
            return scan_number(sc);
        if (c > 0x20 && c < 0x7f)
            return fail(sc, sc->pos, "unexpected character '%c'", c);
        return fail(sc, sc->pos, "unexpected byte 0x%02X", (unsigned char)c);
    }
}

enum err json_scan_value(const char *s, size_t len, size_t *pos, int max_depth,
                         struct err_detail *d)
{
    struct scanner sc = {s, len, *pos, max_depth, d};
    enum err e = scan_value(&sc, 0, NULL, NULL);
    *pos = sc.pos;
    return e;
}

/* The whole text as one value, which must be an object when is_object. */
static enum err scan_text(const char *s, size_t len, int max_depth, bool is_object,
                          json_scan_member_fn fn, void *ctx, struct err_detail *d)
{
    struct scanner sc = {s, len, 0, max_depth, d};
    enum err e;
    skip_ws(&sc);
    if (is_object && (sc.pos >= len || s[sc.pos] != '{'))
        return sc.pos >= len ? fail_eof(&sc) : fail(&sc, sc.pos, "expected an object");
    if ((e = scan_value(&sc, 0, fn, ctx)) != ERR_OK)
        return e;
    skip_ws(&sc);
    if (sc.pos != len)
        return fail(&sc, sc.pos, "unexpected data after the JSON value");
    return ERR_OK;
}

enum err json_scan_text(const char *s, size_t len, int max_depth, struct err_detail *d)
{
    return scan_text(s, len, max_depth, false, NULL, NULL, d);
}

enum err json_scan_object(const char *s, size_t len, int max_depth, json_scan_member_fn fn,
                          void *ctx, struct err_detail *d)
{
    return scan_text(s, len, max_depth, true, fn, ctx, d);
}

/* Code point cp as UTF-8 into out; returns the length (1 to 4). */
static size_t utf8_encode(uint32_t cp, unsigned char out[4])
{
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xC0 | cp >> 6);
        out[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xE0 | cp >> 12);
        out[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | cp >> 18);
    out[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

bool json_scan_key_equals(const char *key, size_t key_len, const char *name)
{
    size_t name_len = strlen(name);
    size_t j = 0;
    for (size_t i = 0; i < key_len;) {
        unsigned char buf[4];
        size_t n = 1;
        if (key[i] != '\\') {
            buf[0] = (unsigned char)key[i];
            i++;
        } else {
            if (i + 1 >= key_len)
                return false;
            char c = key[i + 1];
            i += 2;
            switch (c) {
            case 'b':
                buf[0] = '\b';
                break;
            case 'f':
                buf[0] = '\f';
                break;
            case 'n':
                buf[0] = '\n';
                break;
            case 'r':
                buf[0] = '\r';
                break;
            case 't':
                buf[0] = '\t';
                break;
            case 'u': {
                uint32_t cp;
                if (!read_hex4(key, key_len, i, &cp))
                    return false;
                i += 4;
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    uint32_t lo;
                    if (i + 1 >= key_len || key[i] != '\\' || key[i + 1] != 'u' ||
                        !read_hex4(key, key_len, i + 2, &lo))
                        return false;
                    i += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                n = utf8_encode(cp, buf);
                break;
            }
            default: /* '"', '\\' and '/' stand for themselves */
                buf[0] = (unsigned char)c;
                break;
            }
        }
        if (name_len - j < n || memcmp(name + j, buf, n) != 0)
            return false;
        j += n;
    }
    return j == name_len;
}

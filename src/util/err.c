/* err - see err.h. SPDX-License-Identifier: MIT */
#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/utf8.h"

const char *err_str(enum err e)
{
    switch (e) {
    case ERR_OK:
        return "ok";
    case ERR_INVAL:
        return "invalid argument";
    case ERR_NOTFOUND:
        return "not found";
    case ERR_CONFLICT:
        return "conflict";
    case ERR_BUSY:
        return "busy";
    case ERR_IO:
        return "i/o error";
    case ERR_TIMEOUT:
        return "timeout";
    case ERR_PROTO:
        return "protocol error";
    case ERR_LIMIT:
        return "limit exceeded";
    }
    return "unknown error";
}

static enum err set(struct err_detail *d, enum err e, const char *code, const char *field,
                    const char *fmt, va_list ap)
{
    snprintf(d->code, sizeof(d->code), "%s", code ? code : "");
    snprintf(d->field, sizeof(d->field), "%s", field ? field : "");
    int n = vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
    if (n >= (int)sizeof(d->msg)) /* truncated: never end inside a UTF-8 sequence */
        d->msg[utf8_trim_partial(d->msg, sizeof(d->msg) - 1)] = '\0';
    return e;
}

enum err err_set(struct err_detail *d, enum err e, const char *code, const char *fmt, ...)
{
    if (!d)
        return e;
    va_list ap;
    va_start(ap, fmt);
    set(d, e, code, NULL, fmt, ap);
    va_end(ap);
    return e;
}

enum err err_set_field(struct err_detail *d, enum err e, const char *code, const char *field,
                       const char *fmt, ...)
{
    if (!d)
        return e;
    va_list ap;
    va_start(ap, fmt);
    set(d, e, code, field, fmt, ap);
    va_end(ap);
    return e;
}

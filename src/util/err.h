/*
 * err - the one result type shared by every hookd module.
 *
 * Description: functions that can fail return enum err (ERR_OK == 0) and
 * hand results back through out-parameters. A struct err_detail, filled by
 * the lowest layer that knows the cause, carries the human text; the API
 * copies it into the JSON error body once.
 * Threading: any thread. Ownership: err_detail is caller-owned, fixed size.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_UTIL_ERR_H
#define HOOKD_UTIL_ERR_H

#include <stddef.h>

enum err {
    ERR_OK = 0,
    ERR_INVAL,    /* bad input from a caller */
    ERR_NOTFOUND, /* the named thing does not exist */
    ERR_CONFLICT, /* state or uniqueness conflict */
    ERR_BUSY,     /* try again later */
    ERR_IO,       /* storage or system failure */
    ERR_TIMEOUT,
    ERR_PROTO, /* peer spoke nonsense */
    ERR_LIMIT, /* a size or count limit was exceeded */
};

#define ERR_DETAIL_MAX 256

struct err_detail {
    char code[40]; /* API error code, e.g. "INVALID_HEADERS"; may be empty */
    char msg[ERR_DETAIL_MAX];
    char field[40]; /* the input field at fault, in the domain's name ("uid"); may be empty */
};

/* Short lower-case name of an error value; static storage. */
const char *err_str(enum err e);

/* Fill a detail (NULL-safe) with an API code and a printf-style message; returns e. */
enum err err_set(struct err_detail *d, enum err e, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* err_set, naming the input field at fault (surfaces translate it to their own
 * name, e.g. Svix's 422 "loc"). */
enum err err_set_field(struct err_detail *d, enum err e, const char *code, const char *field,
                       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif

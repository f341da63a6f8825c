/*
 * log - logfmt lines on stderr.
 *
 * Description: one event per line: ts=... level=... mod=... msg="..." plus
 * caller-supplied key=value pairs already formatted into the message.
 * The level test happens before any formatting.
 * Threading: any thread; each line is written with one write(2).
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_UTIL_LOG_H
#define HOOKD_UTIL_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

extern enum log_level log_threshold;

/* Parse "error|warn|info|debug"; returns -1 when unknown. */
int log_level_parse(const char *s);

/* Write one line whatever the threshold (the log_* macros test it first).
 * fields: preformatted "k=v k=v" (may be NULL); fmt: the msg text. */
void log_write(enum log_level lvl, const char *mod, const char *fields, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define log_error(mod, ...) log_write(LOG_ERROR, mod, NULL, __VA_ARGS__)
#define log_warn(mod, ...)                                                                         \
    do {                                                                                           \
        if (log_threshold >= LOG_WARN)                                                             \
            log_write(LOG_WARN, mod, NULL, __VA_ARGS__);                                           \
    } while (0)
#define log_info(mod, ...)                                                                         \
    do {                                                                                           \
        if (log_threshold >= LOG_INFO)                                                             \
            log_write(LOG_INFO, mod, NULL, __VA_ARGS__);                                           \
    } while (0)
#define log_debug(mod, ...)                                                                        \
    do {                                                                                           \
        if (log_threshold >= LOG_DEBUG)                                                            \
            log_write(LOG_DEBUG, mod, NULL, __VA_ARGS__);                                          \
    } while (0)

/* A broken invariant: log file and line, then abort for a core dump. */
#define PANIC(...)                                                                                 \
    do {                                                                                           \
        log_write(LOG_ERROR, "panic", NULL, __VA_ARGS__);                                          \
        log_write(LOG_ERROR, "panic", NULL, "at %s:%d", __FILE__, __LINE__);                       \
        abort();                                                                                   \
    } while (0)

#endif

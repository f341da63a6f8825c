/* log - see log.h. SPDX-License-Identifier: MIT */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

enum log_level log_threshold = LOG_INFO;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

int log_level_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s, level_names[i]) == 0)
            return i;
    return -1;
}

void log_write(enum log_level lvl, const char *mod, const char *fields, const char *fmt, ...)
{
    char line[2048];
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    int n = snprintf(
        line, sizeof(line), "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03dZ level=%s mod=%s%s%s msg=\"",
        tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
        (int)(tv.tv_usec / 1000), level_names[lvl], mod, fields ? " " : "", fields ? fields : "");
    if (n < 0 || (size_t)n >= sizeof(line) - 3)
        n = (int)sizeof(line) - 3;
    char msg[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* Escape quotes and newlines so one event stays one line. */
    for (const char *p = msg; *p && (size_t)n < sizeof(line) - 4; p++) {
        if (*p == '"' || *p == '\\') {
            line[n++] = '\\';
            line[n++] = *p;
        } else if (*p == '\n') {
            line[n++] = ' ';
        } else {
            line[n++] = *p;
        }
    }
    line[n++] = '"';
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
}

/*
 * retry - the retry policy; see retry.h for the contract.
 *
 * Retry-After accepts the three HTTP-date forms RFC 9110 §5.6.7 requires a
 * recipient to read (IMF-fixdate, RFC 850, asctime) plus delta-seconds. The
 * date parser is hand-written rather than strptime() so that it does not
 * depend on the process locale.
 * SPDX-License-Identifier: MIT
 */
#include "core/retry.h"

#include <string.h>
#include <time.h>

#include "util/clock.h"

#define SEC_MS 1000LL
#define MIN_MS (60 * SEC_MS)
#define HOUR_MS (60 * MIN_MS)

void retry_policy_default(struct retry_policy *p)
{
    static const int64_t fast[] = {30 * SEC_MS, 60 * SEC_MS, 120 * SEC_MS, 240 * SEC_MS,
                                   300 * SEC_MS};
    static const int64_t slow[] = {30 * MIN_MS,  2 * HOUR_MS,  6 * HOUR_MS,  12 * HOUR_MS,
                                   24 * HOUR_MS, 48 * HOUR_MS, 72 * HOUR_MS, 96 * HOUR_MS};

    memset(p, 0, sizeof(*p));
    memcpy(p->fast_ms, fast, sizeof(fast));
    p->fast_len = sizeof(fast) / sizeof(fast[0]);
    memcpy(p->slow_ms, slow, sizeof(slow));
    p->slow_len = sizeof(slow) / sizeof(slow[0]);
    p->max_attempts = 8;
    p->retry_after_cap_ms = 24 * HOUR_MS;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

bool retry_parse_ladder(const char *s, int64_t *out_ms, size_t *out_len)
{
    int64_t tmp[RETRY_LADDER_MAX];
    size_t n = 0;

    if (!s)
        return false;
    for (const char *p = s;;) {
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        const char *a = p, *b = end;
        while (a < b && is_space(*a))
            a++;
        while (b > a && is_space(b[-1]))
            b--;
        /* Zero delays would turn a failing endpoint into a busy loop. */
        if (n == RETRY_LADDER_MAX || !clock_parse_duration(a, (size_t)(b - a), &tmp[n]) ||
            tmp[n] <= 0)
            return false;
        n++;
        if (*end == '\0')
            break;
        p = end + 1;
    }
    memcpy(out_ms, tmp, n * sizeof(tmp[0]));
    *out_len = n;
    return true;
}

struct retry_decision retry_decide(const struct retry_policy *p, int attempt_no, int http_status,
                                   int64_t retry_after_ms)
{
    struct retry_decision d = {.give_up = false};

    d.type = http_status == 429 ? RETRY_FAST : RETRY_SLOW;
    if (attempt_no >= p->max_attempts) {
        d.give_up = true;
        return d;
    }
    const int64_t *ladder = d.type == RETRY_FAST ? p->fast_ms : p->slow_ms;
    size_t len = d.type == RETRY_FAST ? p->fast_len : p->slow_len;
    if (len > 0) {
        size_t idx = attempt_no > 1 ? (size_t)(attempt_no - 1) : 0;
        if (idx > len - 1)
            idx = len - 1;
        d.delay_ms = ladder[idx];
    }
    if (retry_after_ms >= 0) {
        int64_t ra = retry_after_ms;
        if (p->retry_after_cap_ms >= 0 && ra > p->retry_after_cap_ms)
            ra = p->retry_after_cap_ms;
        if (ra > d.delay_ms)
            d.delay_ms = ra;
    }
    return d;
}

static bool parse_digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* Index 0..11 of a three-letter English month name, or -1. */
static int parse_month(const char *s)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    for (int i = 0; i < 12; i++)
        if (strncmp(s, months + 3 * i, 3) == 0)
            return i;
    return -1;
}

static bool is_day_name(const char *s, size_t len, bool long_form)
{
    static const char *const short_names[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    static const char *const long_names[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                             "Friday", "Saturday", "Sunday"};
    for (int i = 0; i < 7; i++) {
        const char *n = long_form ? long_names[i] : short_names[i];
        if (strlen(n) == len && strncmp(s, n, len) == 0)
            return true;
    }
    return false;
}

/* "HH:MM:SS" at s into tm. */
static bool parse_hms(const char *s, struct tm *tm)
{
    return s[2] == ':' && s[5] == ':' && parse_digits(s, 2, &tm->tm_hour) &&
           parse_digits(s + 3, 2, &tm->tm_min) && parse_digits(s + 6, 2, &tm->tm_sec) &&
           tm->tm_hour <= 23 && tm->tm_min <= 59 && tm->tm_sec <= 60;
}

/* Parse an HTTP-date (RFC 9110 §5.6.7) into Unix seconds. */
static bool parse_http_date(const char *s, size_t len, int64_t *out_sec)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *comma = memchr(s, ',', len);

    if (comma && (size_t)(comma - s) == 3) {
        /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
        if (len != 29 || !is_day_name(s, 3, false) || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' ||
            s[16] != ' ' || s[25] != ' ' || memcmp(s + 26, "GMT", 3) != 0)
            return false;
        if (!parse_digits(s + 5, 2, &tm.tm_mday) || (tm.tm_mon = parse_month(s + 8)) < 0 ||
            !parse_digits(s + 12, 4, &tm.tm_year) || !parse_hms(s + 17, &tm))
            return false;
        tm.tm_year -= 1900;
    } else if (comma) {
        /* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" */
        size_t dl = (size_t)(comma - s);
        const char *r = comma + 1;
        if (!is_day_name(s, dl, true) || len != dl + 24 || r[0] != ' ' || r[3] != '-' ||
            r[7] != '-' || r[10] != ' ' || r[19] != ' ' || memcmp(r + 20, "GMT", 3) != 0)
            return false;
        if (!parse_digits(r + 1, 2, &tm.tm_mday) || (tm.tm_mon = parse_month(r + 4)) < 0 ||
            !parse_digits(r + 8, 2, &tm.tm_year) || !parse_hms(r + 11, &tm))
            return false;
        /* Two-digit years: RFC 9110 says a year more than 50 years ahead is in the past. */
        tm.tm_year += tm.tm_year < 70 ? 100 : 0;
    } else {
        /* asctime: "Sun Nov  6 08:49:37 1994" */
        if (len != 24 || !is_day_name(s, 3, false) || s[3] != ' ' || s[7] != ' ' || s[10] != ' ' ||
            s[19] != ' ')
            return false;
        const char *day = s[8] == ' ' ? s + 9 : s + 8;
        if ((tm.tm_mon = parse_month(s + 4)) < 0 ||
            !parse_digits(day, s[8] == ' ' ? 1 : 2, &tm.tm_mday) || !parse_hms(s + 11, &tm) ||
            !parse_digits(s + 20, 4, &tm.tm_year))
            return false;
        tm.tm_year -= 1900;
    }
    if (tm.tm_mday < 1 || tm.tm_mday > 31)
        return false;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return false;
    *out_sec = (int64_t)t;
    return true;
}

int64_t retry_parse_retry_after(const char *value, int64_t now_ms)
{
    if (!value)
        return -1;
    const char *a = value, *b = value + strlen(value);
    while (a < b && is_space(*a))
        a++;
    while (b > a && is_space(b[-1]))
        b--;
    if (a == b)
        return -1;

    if (*a >= '0' && *a <= '9') {
        int64_t secs = 0;
        for (const char *p = a; p < b; p++) {
            if (*p < '0' || *p > '9')
                return -1;
            /* Saturate: retry_decide caps the delay anyway. */
            if (secs < INT64_MAX / SEC_MS / 10)
                secs = secs * 10 + (*p - '0');
        }
        return secs * SEC_MS;
    }

    int64_t when_sec;
    if (!parse_http_date(a, (size_t)(b - a), &when_sec))
        return -1;
    int64_t delta = when_sec * SEC_MS - now_ms;
    return delta > 0 ? delta : 0;
}

const char *retry_type_name(enum retry_type t)
{
    return t == RETRY_FAST ? "fast" : "slow";
}

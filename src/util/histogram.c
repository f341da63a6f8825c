/* histogram - see histogram.h. SPDX-License-Identifier: MIT */
#include "util/histogram.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

void histogram_init(struct histogram *h, const int64_t *bounds, size_t n, double scale)
{
    memset(h, 0, sizeof(*h));
    h->bounds = bounds;
    h->n = n < HISTOGRAM_BUCKETS_MAX ? n : HISTOGRAM_BUCKETS_MAX;
    h->scale = scale;
}

void histogram_record(struct histogram *h, int64_t value)
{
    size_t i = 0;
    while (i < h->n && value > h->bounds[i])
        i++;
    __atomic_add_fetch(&h->counts[i], 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&h->sum, (uint64_t)(value > 0 ? value : 0), __ATOMIC_RELAXED);
}

void histogram_add(struct histogram *dst, const struct histogram *src)
{
    for (size_t i = 0; i <= src->n && i <= dst->n; i++)
        dst->counts[i] += __atomic_load_n(&src->counts[i], __ATOMIC_RELAXED);
    dst->sum += __atomic_load_n(&src->sum, __ATOMIC_RELAXED);
}

__attribute__((format(printf, 4, 5))) static void put(char *buf, size_t cap, size_t *len,
                                                      const char *fmt, ...)
{
    if (*len >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *len, cap - *len, fmt, ap);
    va_end(ap);
    *len = n < 0 || (size_t)n >= cap - *len ? cap : *len + (size_t)n;
}

void histogram_render(const struct histogram *h, const char *name, const char *labels, bool type,
                      char *buf, size_t cap, size_t *len)
{
    const char *sep = labels[0] ? "," : "";
    if (type)
        put(buf, cap, len, "# TYPE %s histogram\n", name);
    uint64_t cum = 0;
    for (size_t i = 0; i <= h->n; i++) {
        cum += __atomic_load_n(&h->counts[i], __ATOMIC_RELAXED);
        if (i < h->n)
            put(buf, cap, len, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep,
                (double)h->bounds[i] * h->scale, (unsigned long long)cum);
        else
            put(buf, cap, len, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep,
                (unsigned long long)cum);
    }
    const char *open = labels[0] ? "{" : "", *close = labels[0] ? "}" : "";
    put(buf, cap, len, "%s_sum%s%s%s %g\n", name, open, labels, close,
        (double)__atomic_load_n(&h->sum, __ATOMIC_RELAXED) * h->scale);
    put(buf, cap, len, "%s_count%s%s%s %llu\n", name, open, labels, close, (unsigned long long)cum);
}

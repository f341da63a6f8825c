/*
 * histogram - a Prometheus histogram with fixed bucket bounds, recorded from
 * any thread without a lock (relaxed atomic adds) and rendered in the text
 * exposition format (cumulative _bucket{le=...}, _sum, _count).
 *
 * Description: bounds are given once, in the unit of the recorded values
 * (e.g. microseconds), with a scale that turns them into the exposed unit
 * (1e-6 for seconds). Reading while others record gives a snapshot that may
 * mix a few in-flight observations, which Prometheus tolerates.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_UTIL_HISTOGRAM_H
#define HOOKD_UTIL_HISTOGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HISTOGRAM_BUCKETS_MAX 16

struct histogram {
    const int64_t *bounds;                      /* ascending upper bounds, in recorded units */
    size_t n;                                   /* <= HISTOGRAM_BUCKETS_MAX */
    double scale;                               /* recorded unit -> exposed unit */
    uint64_t counts[HISTOGRAM_BUCKETS_MAX + 1]; /* per bucket, the last one is +Inf */
    uint64_t sum;                               /* in recorded units */
};

void histogram_init(struct histogram *h, const int64_t *bounds, size_t n, double scale);
void histogram_record(struct histogram *h, int64_t value);
/* Add src's counts into dst (same bounds): per-thread histograms summed for export. */
void histogram_add(struct histogram *dst, const struct histogram *src);

/* Append the exposition of h as metric name (labels: "" or `outcome="ok"`,
 * without braces) to buf at *len, at most cap bytes; with type, the "# TYPE"
 * line first. Output that does not fit is cut and *len stops at cap. */
void histogram_render(const struct histogram *h, const char *name, const char *labels, bool type,
                      char *buf, size_t cap, size_t *len);

#endif

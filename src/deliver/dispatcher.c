/* dispatcher - see dispatcher.h. SPDX-License-Identifier: MIT */
#include "deliver/dispatcher.h"

#include <stdlib.h>
#include <string.h>

#include "deliver/worker.h"

struct dispatcher {
    int n;
    struct worker **workers;
};

int dispatcher_thread_of(const char *endpoint_id, int threads)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const char *p = endpoint_id; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return threads > 1 ? (int)(h % (uint32_t)threads) : 0;
}

enum err dispatcher_start(struct dispatcher **out, const struct dispatcher_config *cfg,
                          struct store **read_stores, struct committer *committer,
                          struct err_detail *d)
{
    struct dispatcher *dp = calloc(1, sizeof(*dp));
    if (!dp)
        abort();
    dp->n = cfg->threads > 0 ? cfg->threads : 1;
    dp->workers = calloc((size_t)dp->n, sizeof(*dp->workers));
    if (!dp->workers)
        abort();
    struct dispatcher_config wc = *cfg;
    wc.threads = dp->n;
    int share = (cfg->max_in_flight + dp->n - 1) / dp->n;
    for (int i = 0; i < dp->n; i++) {
        enum err e = worker_start(&dp->workers[i], &wc, i, share, read_stores[i], committer, d);
        if (e != ERR_OK) {
            dispatcher_stop(dp);
            dispatcher_free(dp);
            return e;
        }
    }
    *out = dp;
    return ERR_OK;
}

void dispatcher_feed(void *ctx, struct feed *items)
{
    struct dispatcher *dp = ctx;
    if (dp->n == 1) {
        worker_feed(dp->workers[0], items);
        return;
    }
    struct feed per[64], *split = dp->n <= 64 ? per : calloc((size_t)dp->n, sizeof(*split));
    if (!split)
        abort();
    memset(split, 0, (size_t)dp->n * sizeof(*split));
    struct feed_item *it;
    while ((it = feed_pop(items)))
        feed_push_item(&split[dispatcher_thread_of(it->endpoint_id, dp->n)], it);
    for (int i = 0; i < dp->n; i++)
        if (split[i].head)
            worker_feed(dp->workers[i], &split[i]);
    if (split != per)
        free(split);
}

void dispatcher_stop(struct dispatcher *dp)
{
    if (!dp)
        return;
    for (int i = 0; i < dp->n; i++)
        worker_stop(dp->workers[i]);
}

void dispatcher_free(struct dispatcher *dp)
{
    if (!dp)
        return;
    for (int i = 0; i < dp->n; i++)
        worker_free(dp->workers[i]);
    free(dp->workers);
    free(dp);
}

static const int64_t latency_bounds_ms[] = {5,   10,   25,   50,   100,   250,
                                            500, 1000, 2500, 5000, 10000, 30000};
static const int64_t lag_bounds_ms[] = {1, 5, 10, 50, 100, 500, 1000, 5000, 10000, 60000, 300000};

void dispatcher_histograms_init(struct dispatcher_stats *s)
{
    size_t nl = sizeof(latency_bounds_ms) / sizeof(latency_bounds_ms[0]);
    histogram_init(&s->latency_ok, latency_bounds_ms, nl, 1e-3);
    histogram_init(&s->latency_failed, latency_bounds_ms, nl, 1e-3);
    histogram_init(&s->first_attempt_lag, lag_bounds_ms,
                   sizeof(lag_bounds_ms) / sizeof(lag_bounds_ms[0]), 1e-3);
}

void dispatcher_get_stats(struct dispatcher *dp, struct dispatcher_stats *out)
{
    memset(out, 0, sizeof(*out));
    dispatcher_histograms_init(out);
    for (int i = 0; i < dp->n; i++)
        worker_add_stats(dp->workers[i], out);
}

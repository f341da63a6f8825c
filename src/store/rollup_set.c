/*
 * rollup_set - rollup deltas summed in memory per (mode, endpoint, bucket), for
 * both backends: a committer batch (and its current op apart, so a rolled-back
 * op drops its deltas) writes each key's sum once, just before COMMIT.
 * A hash set with no size limit: items in an array plus an open-addressing index.
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"

static void sum_into(struct store_rollup *to, const struct store_rollup *from)
{
    to->total += from->total;
    to->succeeded += from->succeeded;
    to->failed += from->failed;
    to->retries += from->retries;
    to->latency_sum_ms += from->latency_sum_ms;
    to->latency_count += from->latency_count;
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q)
        abort(); /* as every allocation in hookd: out of memory is fatal */
    return q;
}

static uint64_t key_hash(const char *mode, const char *endpoint_id, int64_t bucket_ms)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (const char *p = mode; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h = (h ^ 0xff) * 1099511628211ULL;
    for (const char *p = endpoint_id; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return (h ^ (uint64_t)bucket_ms) * 1099511628211ULL;
}

static bool same_key(const struct store__rollup_pending *p, const char *mode,
                     const char *endpoint_id, int64_t bucket_ms)
{
    return p->bucket_ms == bucket_ms && !strcmp(p->endpoint_id, endpoint_id) &&
           !strcmp(p->mode, mode);
}

/* src into dst, cut to fit (snprintf's "%s" cost more than the rest of a merge). */
static void copy_key(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* A new entry at the end of set (its index is set->n - 1), growing the array. */
static struct store__rollup_pending *append(struct store__rollup_set *set, const char *mode,
                                            const char *endpoint_id, int64_t bucket_ms,
                                            const struct store_rollup *delta)
{
    if (set->n == set->cap) {
        set->cap = set->cap ? 2 * set->cap : 16;
        set->items = xrealloc(set->items, sizeof(*set->items) * (size_t)set->cap);
    }
    struct store__rollup_pending *p = &set->items[set->n++];
    copy_key(p->mode, sizeof(p->mode), mode);
    copy_key(p->endpoint_id, sizeof(p->endpoint_id), endpoint_id);
    p->bucket_ms = bucket_ms;
    p->delta = *delta;
    return p;
}

/* Rebuild the open-addressing index of set with room for twice its entries. */
static void rehash(struct store__rollup_set *set)
{
    int slots = 64;
    while (slots < 4 * (set->n + 1))
        slots *= 2;
    free(set->slots);
    set->slots = xrealloc(NULL, sizeof(*set->slots) * (size_t)slots);
    memset(set->slots, 0xff, sizeof(*set->slots) * (size_t)slots); /* -1: empty */
    set->nslots = slots;
    for (int i = 0; i < set->n; i++) {
        const struct store__rollup_pending *p = &set->items[i];
        size_t at = (size_t)key_hash(p->mode, p->endpoint_id, p->bucket_ms) & (size_t)(slots - 1);
        while (set->slots[at] >= 0)
            at = (at + 1) & (size_t)(slots - 1);
        set->slots[at] = i;
    }
}

void store__rollup_merge(struct store__rollup_set *set, const char *mode, const char *endpoint_id,
                         int64_t bucket_ms, const struct store_rollup *delta)
{
    if (2 * (set->n + 1) > set->nslots)
        rehash(set);
    size_t mask = (size_t)set->nslots - 1;
    size_t at = (size_t)key_hash(mode, endpoint_id, bucket_ms) & mask;
    for (; set->slots[at] >= 0; at = (at + 1) & mask) {
        struct store__rollup_pending *p = &set->items[set->slots[at]];
        if (same_key(p, mode, endpoint_id, bucket_ms)) {
            sum_into(&p->delta, delta);
            return;
        }
    }
    append(set, mode, endpoint_id, bucket_ms, delta);
    set->slots[at] = set->n - 1;
}

void store__rollup_merge_set(struct store__rollup_set *to, const struct store__rollup_set *from)
{
    for (int i = 0; i < from->n; i++) {
        const struct store__rollup_pending *p = &from->items[i];
        store__rollup_merge(to, p->mode, p->endpoint_id, p->bucket_ms, &p->delta);
    }
}

void store__rollup_reset(struct store__rollup_set *set)
{
    set->n = 0;
    if (set->slots)
        memset(set->slots, 0xff, sizeof(*set->slots) * (size_t)set->nslots);
}

void store__rollup_set_free(struct store__rollup_set *set)
{
    free(set->items);
    free(set->slots);
    memset(set, 0, sizeof(*set));
}

static int by_key(const void *a, const void *b)
{
    const struct store__rollup_pending *x = a, *y = b;
    int c = strcmp(x->mode, y->mode);
    if (!c)
        c = strcmp(x->endpoint_id, y->endpoint_id);
    if (!c)
        c = (x->bucket_ms > y->bucket_ms) - (x->bucket_ms < y->bucket_ms);
    return c;
}

void store__rollup_sort(struct store__rollup_set *set)
{
    if (set->n < 2)
        return;
    qsort(set->items, (size_t)set->n, sizeof(*set->items), by_key);
    rehash(set);
}

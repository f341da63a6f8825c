/* jobs - see jobs.h. SPDX-License-Identifier: MIT */
#include "deliver/jobs.h"

#include <stdlib.h>
#include <string.h>

void job_free(struct job *j)
{
    if (!j)
        return;
    free(j->payload);
    free(j->content_type);
    free(j->headers_json);
    free(j->webhook_id);
    free(j);
}

void job_heap_push(struct job_heap *h, struct job *j)
{
    if (h->len == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 256;
        h->v = realloc(h->v, h->cap * sizeof(*h->v));
        if (!h->v)
            abort();
    }
    size_t i = h->len++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (h->v[parent]->due_ms <= j->due_ms)
            break;
        h->v[i] = h->v[parent];
        i = parent;
    }
    h->v[i] = j;
}

struct job *job_heap_pop(struct job_heap *h)
{
    struct job *top = h->v[0];
    struct job *last = h->v[--h->len];
    size_t i = 0, n = h->len;
    while (n) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && h->v[c + 1]->due_ms < h->v[c]->due_ms)
            c++;
        if (last->due_ms <= h->v[c]->due_ms)
            break;
        h->v[i] = h->v[c];
        i = c;
    }
    if (n)
        h->v[i] = last;
    return top;
}

void job_heap_release(struct job_heap *h)
{
    free(h->v);
    memset(h, 0, sizeof(*h));
}

static size_t hash_id(const char *s, size_t nbuckets)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (size_t)(h & (nbuckets - 1));
}

struct job *job_index_find(const struct job_index *x, const char *message_id)
{
    if (!x->nbuckets)
        return NULL;
    for (struct job *j = x->buckets[hash_id(message_id, x->nbuckets)]; j; j = j->idx_next)
        if (strcmp(j->message_id, message_id) == 0)
            return j;
    return NULL;
}

static void grow(struct job_index *x)
{
    size_t n = x->nbuckets ? x->nbuckets * 2 : 1024;
    struct job **b = calloc(n, sizeof(*b));
    if (!b)
        abort();
    for (size_t i = 0; i < x->nbuckets; i++) {
        for (struct job *j = x->buckets[i], *next; j; j = next) {
            next = j->idx_next;
            size_t h = hash_id(j->message_id, n);
            j->idx_next = b[h];
            b[h] = j;
        }
    }
    free(x->buckets);
    x->buckets = b;
    x->nbuckets = n;
}

void job_index_add(struct job_index *x, struct job *j)
{
    if (x->len >= x->nbuckets)
        grow(x);
    size_t h = hash_id(j->message_id, x->nbuckets);
    j->idx_next = x->buckets[h];
    x->buckets[h] = j;
    x->len++;
}

void job_index_remove(struct job_index *x, struct job *j)
{
    if (!x->nbuckets)
        return;
    for (struct job **p = &x->buckets[hash_id(j->message_id, x->nbuckets)]; *p;
         p = &(*p)->idx_next) {
        if (*p == j) {
            *p = j->idx_next;
            j->idx_next = NULL;
            x->len--;
            return;
        }
    }
}

void job_index_release(struct job_index *x)
{
    free(x->buckets);
    memset(x, 0, sizeof(*x));
}

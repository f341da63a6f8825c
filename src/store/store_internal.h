/*
 * store_internal - helpers shared by the store backends (sqlite/, pg/), not by
 * the rest of hookd. They hold no SQL: what is the same whatever the database.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_STORE_STORE_INTERNAL_H
#define HOOKD_STORE_STORE_INTERNAL_H

#include <stdint.h>

struct dedupe_policy;

/* The process key store_secrets_set_key set (SECRETBOX_KEY_LEN bytes), or NULL. */
const uint8_t *store__process_key(void);

/* The deduplicate rule of an endpoint's policy document (NULL or no rule: NULL), on
 * the heap; free with store__dedupe_policy_free. A rule that no longer parses is
 * logged and ignored (the service checked it when it was written). */
struct dedupe_policy *store__dedupe_policy_of(const char *policy_json);
void store__dedupe_policy_free(struct dedupe_policy *p);

/* ---- group delivery: rollup deltas summed in memory (rollup_set.c) and the
 * deduplication key (dedupe_digest.c) ---- */
#include <stdbool.h>
#include <stddef.h>

#include "store/store.h"

/* A rollup delta waiting for the end of its op or batch. */
struct store__rollup_pending {
    char mode[8];
    char endpoint_id[ID_MAX];
    int64_t bucket_ms;
    struct store_rollup delta;
};

/* Deltas summed per (mode, endpoint, bucket): items plus an open-addressing index. */
struct store__rollup_set {
    struct store__rollup_pending *items;
    int n, cap;
    int *slots; /* indexes into items, -1 for empty; nslots is a power of two */
    int nslots;
};

/* Add delta to set's entry for (mode, endpoint_id, bucket_ms): O(1) expected. */
void store__rollup_merge(struct store__rollup_set *set, const char *mode, const char *endpoint_id,
                         int64_t bucket_ms, const struct store_rollup *delta);
/* Merge every entry of from into to. */
void store__rollup_merge_set(struct store__rollup_set *to, const struct store__rollup_set *from);
/* Forget a set's deltas (batch or op start, rollback); keeps its memory. */
void store__rollup_reset(struct store__rollup_set *set);
/* Free a set's memory and empty it. */
void store__rollup_set_free(struct store__rollup_set *set);
/* Order the items by (mode, endpoint_id, bucket_ms), so that concurrent writers
 * take the rows' locks in one order; the index is rebuilt. */
void store__rollup_sort(struct store__rollup_set *set);

#define STORE__DEDUPE_KEY_BYTES 32
/* The key of a new message under deduplicate rule p (core/dedupe.h): the SHA-256
 * of its canonical form (payload, custom headers as JSON text or NULL, event
 * type or NULL), as the 32 bytes the dedupe_keys table stores. */
void store__dedupe_digest(const struct dedupe_policy *p, const void *payload, size_t payload_len,
                          const char *headers_json, const char *event_type,
                          unsigned char key[STORE__DEDUPE_KEY_BYTES]);
/* ---- end of group delivery ---- */

#endif

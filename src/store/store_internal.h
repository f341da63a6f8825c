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

#endif

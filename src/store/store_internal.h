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

/* ---- message operations and queries (message_rules.c) ---- */
#include <stdbool.h>

#include "store/store.h"

#define STORE__ID_TOP "~" /* sorts after every message id: "no upper bound" */

/* What store_message_action checks of a live message. */
struct store__msg_state {
    int status; /* enum store_status */
    int replay_count;
    bool purged;                   /* payload_purged_at is set */
    int64_t payload_expires_at_ms; /* 0 = none */
};
/* ERR_OK when act may apply to message id in state st at now_ms, else
 * store_message_action's error (INVALID_STATE, RETENTION_EXPIRED,
 * REPLAY_LIMIT_EXCEEDED; ERR_INVAL for an unknown action). */
enum err store__msg_action_check(enum store_msg_action act, const char *id,
                                 const struct store__msg_state *st, int64_t now_ms,
                                 struct err_detail *d);
/* The rollup delta act counts (cancel: a failure, replay: a new series) into out;
 * false when it counts none. */
bool store__msg_action_delta(enum store_msg_action act, struct store_rollup *out);
/* The ids [lo, hi) of the messages created within f's (exclusive) bounds. */
void store__msg_select_range(const struct store_msg_filter *f, char lo[ID_MAX], char hi[ID_MAX]);
/* Check f's limit and cursor (ERR_INVAL, INVALID_REQUEST) and give the ids
 * [lo, hi) of the page: f's time window, hi lowered to the cursor. */
enum err store__log_bounds(const struct store_log_filter *f, char lo[ID_MAX], char hi[ID_MAX],
                           struct err_detail *d);
void store__rollup_accumulate(struct store_rollup *dst, const struct store_rollup *src);
/* The whole hours [*h0, *h1) inside [from_ms, to_ms); false when there is none. */
bool store__whole_hours(int64_t from_ms, int64_t to_ms, int64_t *h0, int64_t *h1);
/* store_metrics_series's layout rule: ERR_INVAL (INVALID_REQUEST) when refused; *hourly
 * when the buckets are whole hours from a whole hour. */
enum err store__series_layout(int64_t from_ms, int64_t bucket_ms, int nbuckets, bool *hourly,
                              struct err_detail *d);
/* ---- end of message operations and queries ---- */

#endif

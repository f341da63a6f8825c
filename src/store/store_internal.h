/*
 * store_internal - helpers shared by the store backends (sqlite/, pg/), not by
 * the rest of hookd. They hold no SQL: what is the same whatever the database.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_STORE_STORE_INTERNAL_H
#define HOOKD_STORE_STORE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

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

/* ---- secrets at rest, what no backend owns (secrets_seal.c) ----
 * place names the column ("signing_keys.secret"); a value is sealed for
 * "<place>:<row id>", so it only opens in its own row. A NULL box is a
 * connection without the process key: sealing or opening then fails. */
struct secretbox;
#define STORE__SEALED_MAX 256              /* a sealed secret of fewer than ID_MAX characters */
#define STORE__SEALED_CAP (2 * 4096 + 128) /* a sealed SECRETBOX_PLAIN_MAX secret */
#define STORE__NSECRET_COLS 3
struct store__secret_col {
    const char *table, *column, *place; /* the table's key column is "id" (TEXT) */
};
extern const struct store__secret_col store__secret_cols[STORE__NSECRET_COLS];
enum err store__no_key(struct err_detail *d); /* ERR_IO: no process key */
/* A new box for the process key into *box (NULL, and ERR_OK, when no key is set). */
enum err store__secrets_box(struct secretbox **box, struct err_detail *d);
/* Seal plain for (place, row_id) into out (cap bytes). ERR_IO without a key. */
enum err store__seal_box(struct secretbox *box, const char *place, const char *row_id,
                         const char *plain, char *out, size_t cap, struct err_detail *d);
/* Open a stored value into out (cap bytes); NULL or "" gives "" (an erased secret).
 * ERR_IO for plaintext, a missing key, or a value that does not authenticate. */
enum err store__unseal_box(struct secretbox *box, const char *place, const char *row_id,
                           const char *stored, char *out, size_t cap, struct err_detail *d);
/* As store__unseal_box into a new string (*out NULL for NULL or ""); free it
 * with store_endpoint_secret_free. */
enum err store__secret_open(struct secretbox *box, const char *place, const char *row_id,
                            const char *stored, char **out, struct err_detail *d);
/* Seal plain (NULL or "" = none: *out NULL) into a new string the caller frees;
 * ERR_INVAL when longer than SECRETBOX_PLAIN_MAX. */
enum err store__secret_seal(struct secretbox *box, const char *place, const char *row_id,
                            const char *plain, char **out, struct err_detail *d);
/* The key check value of box (a known constant sealed with it) into out. */
enum err store__check_make(struct secretbox *box, char *out, size_t cap, struct err_detail *d);
/* ERR_CONFLICT (ENCRYPTION_KEY_MISMATCH) unless box is the key kid whose check is check. */
enum err store__check_verify(struct secretbox *box, const char *kid, const char *check,
                             struct err_detail *d);
/* Re-seal one stored value of place/row_id with to into out: a value sealed with
 * from is opened with it, plaintext (from NULL) taken as it is. *skip (nothing to
 * write) for NULL, "" or a value already sealed with to. */
enum err store__reseal_value(struct secretbox *from, struct secretbox *to, const char *place,
                             const char *row_id, const char *stored, char *out, size_t cap,
                             bool *skip, struct err_detail *d);

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
/* The rollup delta of attempt a leaving its message in new_status (a success with
 * its latency, a failure, or a retry) into out; false when it counts none (a
 * message filtered out on purpose). */
bool store__attempt_delta(const struct store_attempt *a, enum store_status new_status,
                          struct store_rollup *out);
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

/*
 * message_rules - what the message operations and the log and metrics
 * queries decide without a database, shared by both backends
 * (store_internal.h): which message action a state allows, the rollup delta
 * an action counts, UUIDv7 id ranges for time windows, and the hour/minute
 * split of rollup reads.
 * Description: message ids are UUIDv7 whose first 48 bits (12 hex digits) are
 * the unix milliseconds of creation, so a creation-time window is an id range
 * on an index. "~" sorts after every id (all lower-case hex and dashes).
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <string.h>

#include "core/id.h"
#include "store/store.h"
#include "store/store_internal.h"

#define UUID7_MAX_MS ((int64_t)0xffffffffffff) /* the 48-bit time field */

static enum err invalid_state(struct err_detail *d, const char *id, int status, const char *what)
{
    return err_set(d, ERR_CONFLICT, "INVALID_STATE", "message '%s' is %s; %s", id,
                   store_status_name((enum store_status)status), what);
}

enum err store__msg_action_check(enum store_msg_action act, const char *id,
                                 const struct store__msg_state *st, int64_t now_ms,
                                 struct err_detail *d)
{
    switch (act) {
    case STORE_ACT_RETRY_NOW:
    case STORE_ACT_CANCEL:
        if (st->status != STATUS_PENDING_RETRY)
            return invalid_state(d, id, st->status,
                                 act == STORE_ACT_CANCEL
                                     ? "only a pending_retry message can be cancelled"
                                     : "only a pending_retry message can be retried now");
        return ERR_OK;
    case STORE_ACT_REPLAY:
    case STORE_ACT_REPLAY_DLQ:
        if (act == STORE_ACT_REPLAY_DLQ && st->status != STATUS_FAILED_PERMANENT)
            return invalid_state(d, id, st->status,
                                 "only a failed_permanent message is in the dead-letter queue");
        /* A deduplicated message was never attempted: replaying it delivers it
         * after all (the policy judges new messages only). */
        if (st->status != STATUS_SUCCEEDED && st->status != STATUS_FAILED_PERMANENT &&
            st->status != STATUS_DEDUPLICATED && st->status != STATUS_FILTERED)
            return invalid_state(d, id, st->status,
                                 "only succeeded, failed_permanent, deduplicated or filtered "
                                 "messages can be replayed");
        if (st->purged || (st->payload_expires_at_ms && st->payload_expires_at_ms <= now_ms))
            return err_set(d, ERR_CONFLICT, "RETENTION_EXPIRED",
                           "the payload of message '%s' is past its retention and was removed", id);
        if (st->replay_count >= STORE_REPLAY_LIMIT)
            return err_set(d, ERR_LIMIT, "REPLAY_LIMIT_EXCEEDED",
                           "message '%s' was already replayed %d times (the limit)", id,
                           st->replay_count);
        return ERR_OK;
    }
    return err_set(d, ERR_INVAL, "INVALID_REQUEST", "unknown message action");
}

bool store__msg_action_delta(enum store_msg_action act, struct store_rollup *out)
{
    memset(out, 0, sizeof(*out));
    if (act == STORE_ACT_CANCEL)
        out->failed = 1;
    else if (act == STORE_ACT_REPLAY || act == STORE_ACT_REPLAY_DLQ)
        out->total = 1; /* one more delivery series: it counts in total like a send */
    else
        return false;
    return true;
}

void store__msg_select_range(const struct store_msg_filter *f, char lo[ID_MAX], char hi[ID_MAX])
{
    lo[0] = '\0';
    snprintf(hi, ID_MAX, "%s", STORE__ID_TOP);
    if (f->created_after_ms)
        store_uuid7_floor(lo, f->created_after_ms + 1);
    if (f->created_before_ms)
        store_uuid7_floor(hi, f->created_before_ms);
}

/* The first 12 hex digits of every UUIDv7 made at unix_ms, dash included
 * ("0190f3a2-1b4c"): every id of that millisecond sorts at or after it and
 * before the prefix of the next millisecond. */
static void id_prefix(char out[ID_MAX], int64_t unix_ms)
{
    uint64_t ms = (uint64_t)unix_ms;
    snprintf(out, ID_MAX, "%08llx-%04llx", (unsigned long long)(ms >> 16),
             (unsigned long long)(ms & 0xffff));
}

enum err store__log_bounds(const struct store_log_filter *f, char lo[ID_MAX], char hi[ID_MAX],
                           struct err_detail *d)
{
    if (f->limit < 1 || f->limit > STORE_LOG_MAX_LIMIT)
        return err_set(d, ERR_INVAL, "INVALID_REQUEST", "'limit' must be between 1 and %d",
                       STORE_LOG_MAX_LIMIT);
    const char *cursor = f->cursor && f->cursor[0] ? f->cursor : NULL;
    /* Any well-formed id is a position, even one deleted since the previous page. */
    if (cursor && !id_is_uuid(cursor))
        return err_set(d, ERR_INVAL, "INVALID_REQUEST", "'cursor' is not a cursor of this list");
    if (f->start_ms <= 0)
        lo[0] = '\0';
    else
        id_prefix(lo, f->start_ms > UUID7_MAX_MS ? UUID7_MAX_MS : f->start_ms);
    if (f->end_ms > UUID7_MAX_MS)
        snprintf(hi, ID_MAX, "%s", STORE__ID_TOP);
    else if (f->end_ms <= 0)
        hi[0] = '\0'; /* nothing sorts before "" */
    else
        id_prefix(hi, f->end_ms);
    if (cursor && strcmp(cursor, hi) < 0)
        snprintf(hi, ID_MAX, "%s", cursor);
    return ERR_OK;
}

void store__rollup_accumulate(struct store_rollup *dst, const struct store_rollup *src)
{
    dst->total += src->total;
    dst->succeeded += src->succeeded;
    dst->failed += src->failed;
    dst->retries += src->retries;
    dst->latency_sum_ms += src->latency_sum_ms;
    dst->latency_count += src->latency_count;
}

static int64_t floor_to(int64_t v, int64_t unit)
{
    int64_t r = v % unit;
    return r < 0 ? v - r - unit : v - r;
}

bool store__whole_hours(int64_t from_ms, int64_t to_ms, int64_t *h0, int64_t *h1)
{
    *h0 = floor_to(from_ms + STORE_ROLLUP_HOUR_MS - 1, STORE_ROLLUP_HOUR_MS);
    *h1 = floor_to(to_ms, STORE_ROLLUP_HOUR_MS);
    return *h0 < *h1;
}

enum err store__series_layout(int64_t from_ms, int64_t bucket_ms, int nbuckets, bool *hourly,
                              struct err_detail *d)
{
    if (nbuckets < 1 || bucket_ms < STORE_ROLLUP_BUCKET_MS)
        return err_set(d, ERR_INVAL, "INVALID_REQUEST", "bad bucket layout");
    *hourly = bucket_ms % STORE_ROLLUP_HOUR_MS == 0 && from_ms % STORE_ROLLUP_HOUR_MS == 0;
    if (!*hourly && (bucket_ms % STORE_ROLLUP_BUCKET_MS || from_ms % STORE_ROLLUP_BUCKET_MS))
        return err_set(d, ERR_INVAL, "INVALID_REQUEST", "bad bucket layout");
    return ERR_OK;
}

bool store__attempt_delta(const struct store_attempt *a, enum store_status new_status,
                          struct store_rollup *out)
{
    memset(out, 0, sizeof(*out));
    if (new_status == STATUS_SUCCEEDED) {
        out->succeeded = 1;
        out->latency_sum_ms = a->latency_ms > 0 ? a->latency_ms : 0;
        out->latency_count = 1;
    } else if (new_status == STATUS_FAILED_PERMANENT) {
        out->failed = 1;
    } else if (new_status == STATUS_FILTERED) {
        return false; /* skipped on purpose: neither a delivery nor a retry */
    } else {
        out->retries = 1;
    }
    return true;
}

/* pg_todo_messages_queries - PLACEHOLDER, to be deleted: the operations of this group not yet
 * written for PostgreSQL. Each fails with "not implemented". */
#include "store/pg/pg_internal.h"
#pragma GCC diagnostic ignored "-Wunused-parameter"

enum err pg_message_action(struct store *st, const char *mode, const char *id,
                           enum store_msg_action act, int64_t now_ms, struct store_resched *out,
                           struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "message_action is not implemented on PostgreSQL yet");
}

enum err pg_message_select(struct store *st, const struct store_msg_filter *f, int limit,
                           char (*out)[ID_MAX], int *n, struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "message_select is not implemented on PostgreSQL yet");
}

enum err pg_message_delete(struct store *st, const char *mode, const char *id, int64_t now_ms,
                           int64_t *deleted_at_ms, bool *already, struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "message_delete is not implemented on PostgreSQL yet");
}

enum err pg_dlq_list(struct store *st, const char *mode, const char *cursor, int limit,
                     struct store_dlq_item *out, int *n, bool *has_more, struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR", "dlq_list is not implemented on PostgreSQL yet");
}

enum err pg_retention_purge_payloads(struct store *st, int64_t now_ms, int max, int *n,
                                     struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "retention_purge_payloads is not implemented on PostgreSQL yet");
}

enum err pg_retention_delete_history(struct store *st, int64_t before_ms, int max, int *n,
                                     struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "retention_delete_history is not implemented on PostgreSQL yet");
}

enum err pg_log_list(struct store *st, const struct store_log_filter *f,
                     struct store_log_entry *out, int *n, bool *has_more, struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR", "log_list is not implemented on PostgreSQL yet");
}

enum err pg_metrics_sum(struct store *st, const char *mode, const char *endpoint_id,
                        int64_t from_ms, int64_t to_ms, struct store_rollup *out,
                        struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR", "metrics_sum is not implemented on PostgreSQL yet");
}

enum err pg_metrics_series(struct store *st, const char *mode, const char *endpoint_id,
                           int64_t from_ms, int64_t bucket_ms, int nbuckets,
                           struct store_rollup *out, struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "metrics_series is not implemented on PostgreSQL yet");
}

enum err pg_gauges(struct store *st, struct store_gauges *out, struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR", "gauges is not implemented on PostgreSQL yet");
}

enum err pg_endpoint_stats(struct store *st, const char *mode, const char *endpoint_id,
                           int64_t from_ms, int64_t to_ms, struct store_endpoint_stats *out,
                           struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "endpoint_stats is not implemented on PostgreSQL yet");
}

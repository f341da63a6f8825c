/* pg_todo_delivery - PLACEHOLDER, to be deleted: the operations of this group not yet
 * written for PostgreSQL. Each fails with "not implemented". */
#include "store/pg/pg_internal.h"
#pragma GCC diagnostic ignored "-Wunused-parameter"

enum err pg_send_insert(struct store *st, const struct store_send *in, char existing_id[ID_MAX],
                        bool *existed, struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR", "send_insert is not implemented on PostgreSQL yet");
}

enum err pg_message_get(struct store *st, const char *mode, const char *id,
                        struct store_message *out, struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR", "message_get is not implemented on PostgreSQL yet");
}

enum err pg_attempt_record(struct store *st, const struct store_attempt *a,
                           enum store_status new_status, int64_t next_attempt_at_ms,
                           int64_t sched_version, struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "attempt_record is not implemented on PostgreSQL yet");
}

enum err pg_attempt_list(struct store *st, const char *message_id, const char *after_id, int max,
                         struct store_attempt *out, int *n, bool *has_more, struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "attempt_list is not implemented on PostgreSQL yet");
}

enum err pg_delivery_load(struct store *st, const char *message_id, struct store_delivery *out,
                          struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "delivery_load is not implemented on PostgreSQL yet");
}

enum err pg_backlog_endpoints(struct store *st,
                              bool (*fn)(const char *endpoint_id, int64_t due_ms, void *ctx),
                              void *ctx, struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "backlog_endpoints is not implemented on PostgreSQL yet");
}

enum err pg_backlog_page(struct store *st, const char *endpoint_id, int max,
                         bool (*fn)(const struct store_pending *, void *), void *ctx,
                         struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "backlog_page is not implemented on PostgreSQL yet");
}

enum err pg_dedupe_purge(struct store *st, int64_t now_ms, int max, int *n, struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "dedupe_purge is not implemented on PostgreSQL yet");
}

enum err pg_rollup_sum(struct store *st, const char *mode, const char *endpoint_id, int64_t from_ms,
                       int64_t to_ms, struct store_rollup *out, struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR", "rollup_sum is not implemented on PostgreSQL yet");
}

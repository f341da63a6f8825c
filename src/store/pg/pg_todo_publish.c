/* pg_todo_publish - PLACEHOLDER, to be deleted: the operations of this group not yet
 * written for PostgreSQL. Each fails with "not implemented". */
#include "store/pg/pg_internal.h"
#pragma GCC diagnostic ignored "-Wunused-parameter"

enum err pg_publish_candidates(struct store *st, const char *app_id, struct store_candidate **out,
                               size_t *n, struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "publish_candidates is not implemented on PostgreSQL yet");
}

enum err pg_fanout_get(struct store *st, const char *mode, const char *app,
                       const struct store_fanout **out, struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR", "fanout_get is not implemented on PostgreSQL yet");
}

enum err pg_event_insert(struct store *st, const struct store_event_in *ev, int64_t *rowid,
                         struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "event_insert is not implemented on PostgreSQL yet");
}

enum err pg_event_message_insert(struct store *st, const struct store_event_in *ev, int64_t rowid,
                                 const char *message_id, const char *endpoint_id,
                                 const struct dedupe_policy *dedupe, bool *deduplicated,
                                 struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "event_message_insert is not implemented on PostgreSQL yet");
}

enum err pg_message_origin(struct store *st, const char *message_id, char public_id[ID_MAX],
                           char app_id[ID_MAX], struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "message_origin is not implemented on PostgreSQL yet");
}

enum err pg_event_get(struct store *st, const char *app_id, const char *id_or_producer_id,
                      struct store_event *out, struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR", "event_get is not implemented on PostgreSQL yet");
}

enum err pg_event_list(struct store *st, const char *app_id, const char *after_public_id,
                       const struct store_event_filter *f, int limit, struct store_event *out,
                       int *n, bool *has_more, struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR", "event_list is not implemented on PostgreSQL yet");
}

enum err pg_event_set_orphan(struct store *st, int64_t rowid, bool orphan, struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "event_set_orphan is not implemented on PostgreSQL yet");
}

enum err pg_event_erase_payload(struct store *st, int64_t rowid, int64_t now_ms,
                                struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "event_erase_payload is not implemented on PostgreSQL yet");
}

enum err pg_event_messages(struct store *st, int64_t rowid, const char *endpoint_id,
                           struct store_event_message **out, size_t *n, struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "event_messages is not implemented on PostgreSQL yet");
}

enum err pg_event_attempts(struct store *st, int64_t rowid, const char *endpoint_id,
                           const char *before_id, const struct store_attempt_filter *f, int limit,
                           struct store_event_attempt *out, int *n, bool *has_more,
                           struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "event_attempts is not implemented on PostgreSQL yet");
}

enum err pg_endpoint_event_messages(struct store *st, const char *endpoint_id,
                                    const char *before_message_id, int limit,
                                    struct store_endpoint_message *out, int *n, bool *has_more,
                                    struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "endpoint_event_messages is not implemented on PostgreSQL yet");
}

enum err pg_endpoint_event_attempts(struct store *st, const char *endpoint_id,
                                    const char *before_message_id, const char *before_attempt_id,
                                    const struct store_attempt_filter *f, int limit,
                                    struct store_event_attempt *out, int *n, bool *has_more,
                                    struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "endpoint_event_attempts is not implemented on PostgreSQL yet");
}

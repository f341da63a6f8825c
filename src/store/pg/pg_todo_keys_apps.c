/* pg_todo_keys_apps - PLACEHOLDER, to be deleted: the operations of this group not yet
 * written for PostgreSQL. Each fails with "not implemented". */
#include "store/pg/pg_internal.h"
#pragma GCC diagnostic ignored "-Wunused-parameter"

enum err pg_application_insert(struct store *st, const struct store_application *a,
                               struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "application_insert is not implemented on PostgreSQL yet");
}

enum err pg_application_get(struct store *st, const char *mode, const char *id_or_uid,
                            struct store_application *out, struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "application_get is not implemented on PostgreSQL yet");
}

enum err pg_application_update(struct store *st, const struct store_application *a,
                               struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "application_update is not implemented on PostgreSQL yet");
}

enum err pg_application_delete(struct store *st, const char *mode, const char *id, int64_t now_ms,
                               struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "application_delete is not implemented on PostgreSQL yet");
}

enum err pg_application_list(struct store *st, const char *mode, const char *after_id,
                             bool descending, int limit, struct store_application *out, int *n,
                             bool *has_more, struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "application_list is not implemented on PostgreSQL yet");
}

enum err pg_event_type_insert(struct store *st, const struct store_event_type *t,
                              struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "event_type_insert is not implemented on PostgreSQL yet");
}

enum err pg_event_type_get(struct store *st, const char *mode, const char *name_or_id,
                           struct store_event_type *out, struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "event_type_get is not implemented on PostgreSQL yet");
}

enum err pg_event_type_update(struct store *st, const struct store_event_type *t,
                              struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "event_type_update is not implemented on PostgreSQL yet");
}

enum err pg_event_type_expunge(struct store *st, const char *mode, const char *id,
                               struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "event_type_expunge is not implemented on PostgreSQL yet");
}

enum err pg_event_type_list(struct store *st, const char *mode, const char *after_id,
                            bool include_archived, int limit, struct store_event_type *out, int *n,
                            bool *has_more, struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "event_type_list is not implemented on PostgreSQL yet");
}

enum err pg_idem_find(struct store *st, const char *mode, const char *key, int64_t since_ms,
                      struct store_idem *out, struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR", "idem_find is not implemented on PostgreSQL yet");
}

enum err pg_idem_put(struct store *st, const char *mode, const char *key,
                     const struct store_idem *rec, struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR", "idem_put is not implemented on PostgreSQL yet");
}

enum err pg_portal_token_insert(struct store *st, const struct store_portal_token *t,
                                const uint8_t token_sha256[32], struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "portal_token_insert is not implemented on PostgreSQL yet");
}

enum err pg_portal_token_find(struct store *st, const uint8_t token_sha256[32],
                              struct store_portal_token *out, struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "portal_token_find is not implemented on PostgreSQL yet");
}

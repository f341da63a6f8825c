/* pg_todo_endpoints - PLACEHOLDER, to be deleted: the operations of this group not yet
 * written for PostgreSQL. Each fails with "not implemented". */
#include "store/pg/pg_internal.h"
#pragma GCC diagnostic ignored "-Wunused-parameter"

enum err pg_endpoint_set_paused(struct store *st, const char *mode, const char *id, bool paused,
                                int64_t now_ms, int64_t *unfinished, struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "endpoint_set_paused is not implemented on PostgreSQL yet");
}

enum err pg_signing_key_add(struct store *st, const char *mode, const char *endpoint_id,
                            const struct store_signing_key *k, struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "signing_key_add is not implemented on PostgreSQL yet");
}

enum err pg_signing_key_rotate(struct store *st, const char *mode, const char *endpoint_id,
                               const struct store_signing_key *k, int64_t overlap_ms,
                               struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "signing_key_rotate is not implemented on PostgreSQL yet");
}

enum err pg_signing_key_list(struct store *st, const char *mode, const char *endpoint_id,
                             int64_t now_ms, struct store_signing_key_info *out, int max, int *n,
                             struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "signing_key_list is not implemented on PostgreSQL yet");
}

enum err pg_signing_key_delete(struct store *st, const char *mode, const char *endpoint_id,
                               const char *key_id, int64_t now_ms, struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "signing_key_delete is not implemented on PostgreSQL yet");
}

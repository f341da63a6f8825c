/* pg_todo_policy_secrets - PLACEHOLDER, to be deleted: the operations of this group not yet
 * written for PostgreSQL. Each fails with "not implemented". */
#include "store/pg/pg_internal.h"
#pragma GCC diagnostic ignored "-Wunused-parameter"

enum err pg_endpoint_secrets_get(struct store *st, const char *id, char **auth, char **scheme,
                                 struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "endpoint_secrets_get is not implemented on PostgreSQL yet");
}

enum err pg_endpoint_secrets_set(struct store *st, const char *id, const char *auth,
                                 const char *scheme, struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "endpoint_secrets_set is not implemented on PostgreSQL yet");
}

enum err pg_secrets_key_id(struct store *st, char out[STORE_SECRET_KEY_ID_SIZE],
                           struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "secrets_key_id is not implemented on PostgreSQL yet");
}

enum err pg_secrets_rotate(struct store *st, const uint8_t new_key[STORE_SECRET_KEY_LEN],
                           int64_t *n, struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "secrets_rotate is not implemented on PostgreSQL yet");
}

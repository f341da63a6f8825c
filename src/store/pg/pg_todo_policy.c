/* pg_todo_policy_secrets - PLACEHOLDER, to be deleted: the operations of this group not yet
 * written for PostgreSQL. Each fails with "not implemented". */
#include "store/pg/pg_internal.h"
#pragma GCC diagnostic ignored "-Wunused-parameter"

enum err pg_endpoint_disable(struct store *st, const char *id, const char *reason, int64_t now_ms,
                             bool *changed, struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "endpoint_disable is not implemented on PostgreSQL yet");
}

enum err pg_endpoint_reset_circuit(struct store *st, const char *mode, const char *id,
                                   struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "endpoint_reset_circuit is not implemented on PostgreSQL yet");
}

enum err pg_message_event_type(struct store *st, const char *message_id, char **out,
                               struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "message_event_type is not implemented on PostgreSQL yet");
}

enum err pg_endpoint_set_failing(struct store *st, const char *id, int64_t since_ms,
                                 struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "endpoint_set_failing is not implemented on PostgreSQL yet");
}

enum err pg_endpoint_set_circuit(struct store *st, const char *id, int state, int64_t opened_at_ms,
                                 struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "endpoint_set_circuit is not implemented on PostgreSQL yet");
}

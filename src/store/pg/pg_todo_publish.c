/* pg_todo_publish - PLACEHOLDER, to be deleted: the operations of this group not yet
 * written for PostgreSQL. Each fails with "not implemented". */
#include "store/pg/pg_internal.h"
#pragma GCC diagnostic ignored "-Wunused-parameter"

enum err pg_event_message_insert(struct store *st, const struct store_event_in *ev, int64_t rowid,
                                 const char *message_id, const char *endpoint_id,
                                 const struct dedupe_policy *dedupe, bool *deduplicated,
                                 struct err_detail *d)
{
    (void)st;
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "event_message_insert is not implemented on PostgreSQL yet");
}

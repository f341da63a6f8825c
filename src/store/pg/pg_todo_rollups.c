/* pg_todo_rollups - PLACEHOLDER, to be deleted: the rollup hooks of pg_store.c. */
#include "store/pg/pg_internal.h"

void pg__rollups_reset(struct pg_store *s, bool batch_too)
{
    (void)s;
    (void)batch_too;
}

enum err pg__rollups_op_end(struct pg_store *s, bool ok, struct err_detail *d)
{
    (void)s;
    (void)ok;
    (void)d;
    return ERR_OK;
}

enum err pg__rollups_flush(struct pg_store *s, struct err_detail *d)
{
    (void)s;
    (void)d;
    return ERR_OK;
}

void pg__rollups_release(struct pg_store *s)
{
    (void)s;
}

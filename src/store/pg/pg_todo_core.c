/* pg_todo_core - PLACEHOLDER, to be deleted: rollups and secrets hooks of pg_store.c
 * not yet written for PostgreSQL. */
#include "store/pg/pg_internal.h"
#pragma GCC diagnostic ignored "-Wunused-parameter"

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

enum err pg__secrets_attach(struct pg_store *s, bool migrate, struct err_detail *d)
{
    (void)s;
    (void)migrate;
    (void)d;
    return ERR_OK;
}

void pg__secrets_detach(struct pg_store *s)
{
    (void)s;
}

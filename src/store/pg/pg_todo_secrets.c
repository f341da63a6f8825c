/* pg_todo_secrets - PLACEHOLDER, to be deleted: the secrets hooks of pg_store.c. */
#include "store/pg/pg_internal.h"

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

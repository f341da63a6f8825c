/*
 * store - the public store_<name> functions: each calls its backend's
 * operation (store_ops.h), and store_open chooses the backend from the
 * database string (ARCHITECTURE §7, docs/operations/postgresql.md).
 * SPDX-License-Identifier: MIT
 */
#include "store/store.h"

#include <string.h>

#include "store/store_ops.h"

enum err sqlite_open(struct store **out, const char *data_dir, bool migrate, struct err_detail *d);
enum err pg_open(struct store **out, const char *conninfo, bool migrate, struct err_detail *d);

enum store_backend store_backend_of(const char *db, const char **rest)
{
    if (strncmp(db, "sqlite:", 7) == 0) {
        *rest = db + 7;
        return STORE_SQLITE;
    }
    *rest = db;
    if (strncmp(db, "postgres://", 11) == 0 || strncmp(db, "postgresql://", 13) == 0)
        return STORE_POSTGRES;
    /* A libpq key=value string ("host=... dbname=..."): a '=' before any '/'. */
    const char *eq = strchr(db, '='), *slash = strchr(db, '/');
    if (eq && (!slash || eq < slash))
        return STORE_POSTGRES;
    return STORE_SQLITE;
}

enum err store_open(struct store **out, const char *db, bool migrate, struct err_detail *d)
{
    const char *rest;
    if (store_backend_of(db, &rest) == STORE_POSTGRES)
        return pg_open(out, rest, migrate, d);
    return sqlite_open(out, rest, migrate, d);
}

#define OP(ret, name, params, args)                                                                \
    ret store_##name params                                                                        \
    {                                                                                              \
        return s->ops->name args;                                                                  \
    }
#define OPV(name, params, args)                                                                    \
    void store_##name params                                                                       \
    {                                                                                              \
        if (s) /* store_close(NULL) is a no-op */                                                  \
            s->ops->name args;                                                                     \
    }
#include "store/store_ops.def"
#undef OP
#undef OPV

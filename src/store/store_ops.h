/*
 * store_ops - the table of operations behind store.h (ARCHITECTURE §7).
 *
 * Description: a backend (sqlite/, pg/) defines its own struct with a
 * struct store as its first member, sets ops in its open function, and fills
 * one const struct store_ops from store_ops.def. store.c turns every public
 * store_<name>(s, ...) into s->ops-><name>(s, ...). Only src/store/ includes
 * this header.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_STORE_STORE_OPS_H
#define HOOKD_STORE_STORE_OPS_H

#include "store/feed.h"
#include "store/store.h"

struct store_ops {
#define OP(ret, name, params, args) ret(*name) params;
#define OPV(name, params, args) void(*name) params;
#include "store/store_ops.def"
#undef OP
#undef OPV
};

struct store {
    const struct store_ops *ops;
};

/* A backend declares its functions with the same file:
 *   #define OP(ret, name, params, args) ret sqlite_##name params;
 *   #define OPV(name, params, args) void sqlite_##name params;
 *   #include "store/store_ops.def" */

#endif

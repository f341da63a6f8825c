/*
 * migrations - the numbered schema migrations of the SQLite store.
 *
 * Description: migration N (1-based) is store_migrations[N-1]; the store
 * records the applied version in PRAGMA user_version and applies the rest
 * in one transaction at start-up. Never edit a released migration: add one.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_STORE_MIGRATIONS_H
#define HOOKD_STORE_MIGRATIONS_H

#include <stddef.h>

extern const char *const store__migrations[];
extern const size_t store__migrations_count;

#endif

/*
 * names - the shapes of user-chosen names shared by the tenancy model
 * (TENANCY.md §1): uids of applications and endpoints and event-type names
 * match ^[a-zA-Z0-9\-_.]{1,256}$; metadata is an object of string values.
 * Errors name the field (err_set_field) with the caller's field name.
 * Threading: any. SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_CORE_NAMES_H
#define HOOKD_CORE_NAMES_H

#include <jansson.h>
#include <stdbool.h>

#include "util/err.h"

#define NAMES_MAX 256
#define NAMES_METADATA_MAX_KEYS 50
#define NAMES_METADATA_MAX_BYTES 4096

/* s matches ^[a-zA-Z0-9\-_.]{1,256}$. */
bool names_is_uid(const char *s);
/* ERR_INVAL naming field unless names_is_uid(s). */
enum err names_check_uid(const char *s, const char *field, struct err_detail *d);
/* ERR_INVAL naming field unless v is an object of at most 50 string values
 * (4 KiB in all). */
enum err names_check_metadata(const json_t *v, const char *field, struct err_detail *d);

#endif

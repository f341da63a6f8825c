/*
 * api_keys - the API keys of the store (HookBridge's /v1/api-keys, the
 * first key and `hookd keys create`): list, make and retire them, and who
 * may see and touch which.
 *
 * Description: keys are store-wide admin objects of a mode, live or test.
 * The caller is the key making the request, named by its mode: a live
 * caller sees and manages every key; a test caller sees, makes and retires
 * test keys only (a live key is not found for it, and asking to make one is
 * refused). A key is "hk_<mode>_<40 hex>"; the full secret exists only in
 * the op that made it (to be shown once), the store keeps its SHA-256. At
 * most STORE_MAX_API_KEYS keys are active at once. The last active live key
 * of the store cannot be retired, because nothing but the offline `hookd
 * keys create` could then reach live data; otherwise a key may retire
 * itself. A label is at most SERVICE_API_KEY_LABEL_MAX bytes of UTF-8
 * without NUL. Not here: last_used_at, written after authentication
 * (http/auth.c), and what a server keeps in memory about a key (its cache
 * entry, its rate limit), which the caller forgets after a retire.
 * Threading: *_init and make on any thread; apply on the committer; the
 * list on the thread that borrowed the store connection.
 * Ownership: the caller owns the ops (embedded or allocated); a create op
 * holds the secret until service_api_key_create_op_release wipes it
 * (explicit_bzero). Secrets are never logged.
 * Errors: ERR_INVAL (INVALID_REQUEST, field "mode" or "label"; FORBIDDEN,
 * field "mode": a test caller asking for a live key), ERR_LIMIT (FORBIDDEN:
 * STORE_MAX_API_KEYS active already), ERR_NOTFOUND (NOT_FOUND),
 * ERR_CONFLICT (LAST_LIVE_KEY), ERR_IO, ERR_BUSY.
 * See also: store.h (store_api_key_*), core/id.h (id_api_key).
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_SERVICE_API_KEYS_H
#define HOOKD_SERVICE_API_KEYS_H

#include <jansson.h>
#include <stdint.h>

#include "service/service.h"
#include "store/store.h"

#define SERVICE_API_KEY_LABEL_MAX 255 /* bytes of UTF-8 (struct store_api_key.label) */

/* Make k a new key of mode ("live" or "test") for the full key secret: a
 * fresh id (key_ + 24 hex), its prefix (hk_<mode>), label (NULL: none) and
 * created_at now; digest gets the SHA-256 of secret, all the store keeps of it. */
void service_api_key_make(struct store_api_key *k, uint8_t digest[32], const char *mode,
                          const char *label, const char *secret);

/* Make a key for a caller of caller_mode. */
struct service_api_key_create_op {
    struct service_op head;
    struct store_api_key key; /* as it is stored */
    uint8_t digest[32];
    char secret[ID_MAX]; /* the full key, made by init: shown once */
};
/* mode and label are the request's (borrowed; NULL or JSON null when absent):
 * mode "live" (the default) or "test", label a string. */
enum err service_api_key_create_op_init(struct service_api_key_create_op *x,
                                        const char *caller_mode, const json_t *mode,
                                        const json_t *label, struct err_detail *d);
/* Wipe the secret. */
void service_api_key_create_op_release(struct service_api_key_create_op *x);

/* Retire (soft delete) the key id for a caller of caller_mode. */
struct service_api_key_delete_op {
    struct service_op head;
    char caller_mode[8];
    char id[ID_MAX];
};
enum err service_api_key_delete_op_init(struct service_api_key_delete_op *x,
                                        const char *caller_mode, const char *id,
                                        struct err_detail *d);

/* Read: the active keys a caller of caller_mode sees, oldest first, into out
 * (room for STORE_MAX_API_KEYS); *n the count. */
enum err service_api_key_list(struct store *s, const char *caller_mode, struct store_api_key *out,
                              int *n, struct err_detail *d);

#endif

/*
 * signing_keys - the signing keys of an endpoint, one by one (HookBridge's
 * /v1/endpoints/{id}/signing-keys): add one, list the active ones, retire
 * one; and how any new signing key is made (its id and secret), for the
 * endpoint's first key (endpoints.h) and a rotation (endpoint_extras.h) too.
 *
 * Description: an endpoint has one or two active signing keys. Adding a key
 * is refused while two are active; retiring one is refused for the only
 * active one. While two keys are active delivery signs every attempt with
 * both; after each change the store's completion feed makes the next attempt
 * use the new key set. Rotation is: add a second key, move receivers to it,
 * retire the old one. A listed key shows only its hint (the last
 * SERVICE_SIGNING_KEY_HINT_LEN characters of its secret), never the secret.
 * Threading: *_init, make and hint on any thread; apply on the committer;
 * the list on the thread that borrowed the store connection.
 * Ownership: the caller owns the ops (embedded or allocated); a create op
 * holds the new secret until service_signing_key_create_op_release wipes it
 * (explicit_bzero). Secrets are never logged.
 * Errors: ERR_NOTFOUND (ENDPOINT_NOT_FOUND: an id no endpoint can have, an
 * unknown, deleted or other-mode endpoint; SIGNING_KEY_NOT_FOUND: likewise
 * for the key), ERR_CONFLICT (SIGNING_KEY_LIMIT: two keys active already;
 * LAST_SIGNING_KEY: no other active key would be left), ERR_IO, ERR_BUSY.
 * See also: store.h (store_signing_key_add, _list, _delete), endpoint_extras.h
 * (a rotation with an overlap).
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_SERVICE_SIGNING_KEYS_H
#define HOOKD_SERVICE_SIGNING_KEYS_H

#include "service/service.h"
#include "store/store.h"

#define SERVICE_SIGNING_KEY_HINT_LEN 4

/* Make k a new signing key: a fresh id (sk_ + 24 hex) and as its secret a
 * copy of secret, or a fresh whsec_ one when secret is NULL. The caller sets
 * created_at_ms (and expires_at_ms) and wipes k->secret when done. */
void service_signing_key_make(struct store_signing_key *k, const char *secret);

/* The hint of a key as lists show it: the end of its secret, valid while
 * secret is. */
const char *service_signing_key_hint(const char *secret);

/* Add a key to an endpoint of a mode by id. */
struct service_signing_key_create_op {
    struct service_op head;
    char mode[8];
    char endpoint_id[ID_MAX];
    struct store_signing_key key; /* the new key, made by init; its secret is shown once */
};
enum err service_signing_key_create_op_init(struct service_signing_key_create_op *x,
                                            const char *mode, const char *endpoint_id,
                                            struct err_detail *d);
/* Wipe the secret. */
void service_signing_key_create_op_release(struct service_signing_key_create_op *x);

/* Retire a key of an endpoint of a mode, both by id; its secret is erased. */
struct service_signing_key_delete_op {
    struct service_op head;
    char mode[8];
    char endpoint_id[ID_MAX];
    char key_id[ID_MAX];
};
enum err service_signing_key_delete_op_init(struct service_signing_key_delete_op *x,
                                            const char *mode, const char *endpoint_id,
                                            const char *key_id, struct err_detail *d);

/* Read: the active keys of an endpoint of a mode by id, oldest first, into
 * out (room for STORE_MAX_ACTIVE_KEYS); *n the count. */
enum err service_signing_key_list(struct store *s, const char *mode, const char *endpoint_id,
                                  struct store_signing_key_info *out, int *n, struct err_detail *d);

#endif

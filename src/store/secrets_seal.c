/*
 * secrets_seal - the backend-independent half of secrets at rest
 * (store_internal.h): which columns hold secrets, sealing and opening a value
 * for its row with a connection's box, the key check value, and re-sealing one
 * stored value during the one-time sealing or a rotation. Each backend keeps
 * only its SQL (sqlite/store_secrets.c, pg/pg_secrets.c).
 * See store.h "secrets at rest", core/secretbox.h, docs/internals/secrets.md.
 * SPDX-License-Identifier: MIT
 */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/secretbox.h"
#include "store/store.h"
#include "store/store_internal.h"

const struct store__secret_col store__secret_cols[STORE__NSECRET_COLS] = {
    {"signing_keys", "secret", "signing_keys.secret"},
    {"endpoints", "auth_secret", "endpoints.auth_secret"},
    {"endpoints", "scheme_secret", "endpoints.scheme_secret"},
};

_Static_assert(STORE__SEALED_CAP == 2 * SECRETBOX_PLAIN_MAX + 128, "sealed cap");

#define CHECK_PLAIN "hookd encryption key check v1"
#define CHECK_AAD "encryption.check_value:1"

enum err store__no_key(struct err_detail *d)
{
    return err_set(d, ERR_IO, "INTERNAL_ERROR",
                   "no encryption key is set for secrets at rest (see --encryption-key-file)");
}

enum err store__secrets_box(struct secretbox **box, struct err_detail *d)
{
    *box = NULL;
    const uint8_t *key = store__process_key();
    return key ? secretbox_new(box, key, d) : ERR_OK;
}

enum err store__seal_box(struct secretbox *box, const char *place, const char *row_id,
                         const char *plain, char *out, size_t cap, struct err_detail *d)
{
    if (!box)
        return store__no_key(d);
    char aad[160];
    snprintf(aad, sizeof(aad), "%s:%s", place, row_id);
    return secretbox_seal(box, aad, plain, strlen(plain), out, cap, d);
}

enum err store__unseal_box(struct secretbox *box, const char *place, const char *row_id,
                           const char *stored, char *out, size_t cap, struct err_detail *d)
{
    if (!stored || !stored[0]) { /* a retired secret is erased to "" */
        if (cap)
            out[0] = '\0';
        return ERR_OK;
    }
    if (!secretbox_is_sealed(stored))
        return err_set(d, ERR_IO, "INTERNAL_ERROR",
                       "%s of '%s' is not encrypted; start hookd serve with the encryption key "
                       "to encrypt it",
                       place, row_id);
    if (!box)
        return store__no_key(d);
    char aad[160];
    snprintf(aad, sizeof(aad), "%s:%s", place, row_id);
    struct err_detail why = {0};
    if (secretbox_open(box, aad, stored, out, cap, NULL, &why) == ERR_OK)
        return ERR_OK;
    return err_set(d, ERR_IO, "INTERNAL_ERROR", "cannot decrypt %s of '%s': %s", place, row_id,
                   why.msg);
}

enum err store__secret_open(struct secretbox *box, const char *place, const char *row_id,
                            const char *stored, char **out, struct err_detail *d)
{
    *out = NULL;
    if (!stored || !stored[0])
        return ERR_OK;
    char *plain = malloc(SECRETBOX_PLAIN_MAX + 1);
    if (!plain)
        abort();
    enum err e = store__unseal_box(box, place, row_id, stored, plain, SECRETBOX_PLAIN_MAX + 1, d);
    if (e != ERR_OK) {
        free(plain);
        return e;
    }
    *out = plain;
    return ERR_OK;
}

enum err store__secret_seal(struct secretbox *box, const char *place, const char *row_id,
                            const char *plain, char **out, struct err_detail *d)
{
    *out = NULL;
    if (!plain || !plain[0])
        return ERR_OK;
    if (strlen(plain) > SECRETBOX_PLAIN_MAX)
        return err_set(d, ERR_INVAL, "INVALID_REQUEST", "a secret of this endpoint is too long");
    char *sealed = malloc(STORE__SEALED_CAP);
    if (!sealed)
        abort();
    enum err e = store__seal_box(box, place, row_id, plain, sealed, STORE__SEALED_CAP, d);
    if (e != ERR_OK) {
        free(sealed);
        return e;
    }
    *out = sealed;
    return ERR_OK;
}

enum err store__check_make(struct secretbox *box, char *out, size_t cap, struct err_detail *d)
{
    return secretbox_seal(box, CHECK_AAD, CHECK_PLAIN, strlen(CHECK_PLAIN), out, cap, d);
}

enum err store__check_verify(struct secretbox *box, const char *kid, const char *check,
                             struct err_detail *d)
{
    char plain[64];
    if (strcmp(kid, secretbox_id(box)) != 0)
        return err_set(d, ERR_CONFLICT, "ENCRYPTION_KEY_MISMATCH",
                       "the encryption key given (id %s) is not the key this store's secrets are "
                       "encrypted with (id %s)",
                       secretbox_id(box), kid);
    if (secretbox_open(box, CHECK_AAD, check, plain, sizeof(plain), NULL, NULL) != ERR_OK ||
        strcmp(plain, CHECK_PLAIN) != 0)
        return err_set(d, ERR_CONFLICT, "ENCRYPTION_KEY_MISMATCH",
                       "the encryption key given (id %s) does not open this store's key check",
                       secretbox_id(box));
    return ERR_OK;
}

enum err store__reseal_value(struct secretbox *from, struct secretbox *to, const char *place,
                             const char *row_id, const char *stored, char *out, size_t cap,
                             bool *skip, struct err_detail *d)
{
    char kid[SECRETBOX_KEY_ID_LEN + 1], aad[160];
    *skip = !stored || !stored[0] ||
            (secretbox_sealed_key_id(stored, kid) && !strcmp(kid, secretbox_id(to)));
    if (*skip)
        return ERR_OK;
    char *plain = malloc(SECRETBOX_PLAIN_MAX + 1);
    if (!plain)
        abort();
    enum err e = ERR_OK;
    snprintf(aad, sizeof(aad), "%s:%s", place, row_id);
    if (from) {
        struct err_detail why = {0};
        if (secretbox_open(from, aad, stored, plain, SECRETBOX_PLAIN_MAX + 1, NULL, &why) != ERR_OK)
            e = err_set(d, ERR_IO, "INTERNAL_ERROR", "cannot decrypt %s of '%s': %s", place, row_id,
                        why.msg);
    } else {
        snprintf(plain, SECRETBOX_PLAIN_MAX + 1, "%s", stored);
    }
    if (e == ERR_OK)
        e = secretbox_seal(to, aad, plain, strlen(plain), out, cap, d);
    OPENSSL_cleanse(plain, SECRETBOX_PLAIN_MAX + 1);
    free(plain);
    return e;
}

/* signing_keys - see signing_keys.h. SPDX-License-Identifier: MIT */
#include "service/signing_keys.h"

#include <stdio.h>
#include <string.h>

#include "util/clock.h"

/* Ids longer than any id cannot name anything: ERR_NOTFOUND before the store. */
static enum err check_ids(const char *endpoint_id, const char *key_id, struct err_detail *d)
{
    if (strlen(endpoint_id) >= ID_MAX)
        return err_set(d, ERR_NOTFOUND, "ENDPOINT_NOT_FOUND", "endpoint not found");
    if (key_id && strlen(key_id) >= ID_MAX)
        return err_set(d, ERR_NOTFOUND, "SIGNING_KEY_NOT_FOUND", "signing key not found");
    return ERR_OK;
}

void service_signing_key_make(struct store_signing_key *k, const char *secret)
{
    id_prefixed_hex(k->id, sizeof(k->id), "sk_", 24);
    if (secret)
        snprintf(k->secret, sizeof(k->secret), "%s", secret);
    else
        id_signing_secret(k->secret, sizeof(k->secret));
}

const char *service_signing_key_hint(const char *secret)
{
    size_t len = strlen(secret);
    return secret + (len > SERVICE_SIGNING_KEY_HINT_LEN ? len - SERVICE_SIGNING_KEY_HINT_LEN : 0);
}

/* ---- create ---- */

static enum err create_apply(struct store *s, struct commit_op *op)
{
    struct service_signing_key_create_op *x = (struct service_signing_key_create_op *)op;
    return store_signing_key_add(s, x->mode, x->endpoint_id, &x->key, &op->detail);
}

enum err service_signing_key_create_op_init(struct service_signing_key_create_op *x,
                                            const char *mode, const char *endpoint_id,
                                            struct err_detail *d)
{
    memset(x, 0, sizeof(*x));
    enum err e = check_ids(endpoint_id, NULL, d);
    if (e != ERR_OK)
        return e;
    snprintf(x->mode, sizeof(x->mode), "%s", mode);
    snprintf(x->endpoint_id, sizeof(x->endpoint_id), "%s", endpoint_id);
    service_signing_key_make(&x->key, NULL);
    x->key.created_at_ms = clock_now_ms();
    x->head.op.apply = create_apply;
    return ERR_OK;
}

void service_signing_key_create_op_release(struct service_signing_key_create_op *x)
{
    explicit_bzero(x->key.secret, sizeof(x->key.secret));
}

/* ---- delete ---- */

static enum err delete_apply(struct store *s, struct commit_op *op)
{
    struct service_signing_key_delete_op *x = (struct service_signing_key_delete_op *)op;
    return store_signing_key_delete(s, x->mode, x->endpoint_id, x->key_id, clock_now_ms(),
                                    &op->detail);
}

enum err service_signing_key_delete_op_init(struct service_signing_key_delete_op *x,
                                            const char *mode, const char *endpoint_id,
                                            const char *key_id, struct err_detail *d)
{
    memset(x, 0, sizeof(*x));
    enum err e = check_ids(endpoint_id, key_id, d);
    if (e != ERR_OK)
        return e;
    snprintf(x->mode, sizeof(x->mode), "%s", mode);
    snprintf(x->endpoint_id, sizeof(x->endpoint_id), "%s", endpoint_id);
    snprintf(x->key_id, sizeof(x->key_id), "%s", key_id);
    x->head.op.apply = delete_apply;
    return ERR_OK;
}

/* ---- list ---- */

enum err service_signing_key_list(struct store *s, const char *mode, const char *endpoint_id,
                                  struct store_signing_key_info *out, int *n, struct err_detail *d)
{
    *n = 0;
    enum err e = check_ids(endpoint_id, NULL, d);
    if (e != ERR_OK)
        return e;
    return store_signing_key_list(s, mode, endpoint_id, clock_now_ms(), out, STORE_MAX_ACTIVE_KEYS,
                                  n, d);
}

/* api_keys - see api_keys.h. SPDX-License-Identifier: MIT */
#include "service/api_keys.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

#include "util/clock.h"

static bool is_test(const char *mode)
{
    return !strcmp(mode, "test");
}

void service_api_key_make(struct store_api_key *k, uint8_t digest[32], const char *mode,
                          const char *label, const char *secret)
{
    memset(k, 0, sizeof(*k));
    id_prefixed_hex(k->id, sizeof(k->id), "key_", 24);
    snprintf(k->mode, sizeof(k->mode), "%s", mode);
    snprintf(k->prefix, sizeof(k->prefix), "hk_%s", mode);
    snprintf(k->label, sizeof(k->label), "%s", label ? label : "");
    k->created_at_ms = clock_now_ms();
    SHA256((const unsigned char *)secret, strlen(secret), digest);
}

/* ---- list ---- */

enum err service_api_key_list(struct store *s, const char *caller_mode, struct store_api_key *out,
                              int *n, struct err_detail *d)
{
    return store_api_key_list(s, is_test(caller_mode) ? "test" : NULL, out, STORE_MAX_API_KEYS, n,
                              d);
}

/* ---- create ---- */

static enum err create_apply(struct store *s, struct commit_op *op)
{
    struct service_api_key_create_op *x = (struct service_api_key_create_op *)op;
    int64_t n = 0;
    enum err e = store_api_key_count_mode(s, NULL, &n, &op->detail);
    if (e != ERR_OK)
        return e;
    if (n >= STORE_MAX_API_KEYS)
        return err_set(&op->detail, ERR_LIMIT, "FORBIDDEN",
                       "the store already has %d active API keys; delete unused ones first",
                       STORE_MAX_API_KEYS);
    return store_api_key_insert(s, &x->key, x->digest, &op->detail);
}

enum err service_api_key_create_op_init(struct service_api_key_create_op *x,
                                        const char *caller_mode, const json_t *mode,
                                        const json_t *label, struct err_detail *d)
{
    memset(x, 0, sizeof(*x));
    const char *m = "live", *l = NULL;
    if (mode && !json_is_null(mode)) {
        m = json_string_value(mode);
        if (!m || (strcmp(m, "live") && strcmp(m, "test")))
            return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", "mode",
                                 "'mode' must be \"live\" or \"test\"");
    }
    if (label && !json_is_null(label)) {
        l = json_string_value(label);
        if (!l)
            return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", "label",
                                 "'label' must be a string");
        size_t len = json_string_length(label);
        if (strlen(l) != len || len > SERVICE_API_KEY_LABEL_MAX)
            return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", "label",
                                 "'label' must be at most %d bytes of UTF-8, without NUL",
                                 SERVICE_API_KEY_LABEL_MAX);
    }
    if (is_test(caller_mode) && !strcmp(m, "live"))
        return err_set_field(d, ERR_INVAL, "FORBIDDEN", "mode",
                             "a test key cannot create live keys; use a live key");
    id_api_key(x->secret, sizeof(x->secret), m);
    service_api_key_make(&x->key, x->digest, m, l, x->secret);
    x->head.op.apply = create_apply;
    return ERR_OK;
}

void service_api_key_create_op_release(struct service_api_key_create_op *x)
{
    explicit_bzero(x->secret, sizeof(x->secret));
}

/* ---- delete ---- */

static enum err delete_apply(struct store *s, struct commit_op *op)
{
    struct service_api_key_delete_op *x = (struct service_api_key_delete_op *)op;
    struct store_api_key k;
    enum err e = store_api_key_get(s, x->id, &k, &op->detail);
    if (e != ERR_OK)
        return e;
    if (is_test(x->caller_mode) && strcmp(k.mode, "test"))
        return err_set(&op->detail, ERR_NOTFOUND, "NOT_FOUND", "api key '%s' not found", x->id);
    if (!strcmp(k.mode, "live")) {
        int64_t n = 0;
        if ((e = store_api_key_count_mode(s, "live", &n, &op->detail)) != ERR_OK)
            return e;
        if (n <= 1)
            return err_set(&op->detail, ERR_CONFLICT, "LAST_LIVE_KEY",
                           "api key '%s' is the last live key of this hookd; create another "
                           "live key before deleting it",
                           x->id);
    }
    return store_api_key_delete(s, x->id, clock_now_ms(), &op->detail);
}

enum err service_api_key_delete_op_init(struct service_api_key_delete_op *x,
                                        const char *caller_mode, const char *id,
                                        struct err_detail *d)
{
    memset(x, 0, sizeof(*x));
    if (strlen(id) >= ID_MAX) /* longer than any id: names nothing */
        return err_set(d, ERR_NOTFOUND, "NOT_FOUND", "api key not found");
    snprintf(x->caller_mode, sizeof(x->caller_mode), "%s", caller_mode);
    snprintf(x->id, sizeof(x->id), "%s", id);
    x->head.op.apply = delete_apply;
    return ERR_OK;
}

/*
 * signature_scheme - per-scheme key material and delivery headers; see
 * signature_scheme.h for the contract. The signatures themselves come from
 * signature.c; this file only decides names, order and joining.
 * SPDX-License-Identifier: MIT
 */
#include "core/signature_scheme.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/id.h"

#define CODE "INVALID_REQUEST"

static const char *const scheme_names[] = {
    [SIGNATURE_SCHEME_STANDARD] = "standard",
    [SIGNATURE_SCHEME_ED25519] = "ed25519",
    [SIGNATURE_SCHEME_BRIDGE_RSA] = "bridge-rsa",
    [SIGNATURE_SCHEME_NONE] = "none",
};
#define N_SCHEMES (sizeof(scheme_names) / sizeof(scheme_names[0]))

const char *signature_scheme_name(enum signature_scheme scheme)
{
    if ((size_t)scheme >= N_SCHEMES)
        return "?";
    return scheme_names[scheme];
}

enum err signature_scheme_parse(enum signature_scheme *out, const char *name, const char *field,
                                struct err_detail *d)
{
    for (size_t i = 0; name && i < N_SCHEMES; i++) {
        if (strcmp(name, scheme_names[i]) == 0) {
            *out = (enum signature_scheme)i;
            return ERR_OK;
        }
    }
    return err_set_field(d, ERR_INVAL, CODE, field,
                         "'%s' must be one of \"standard\", \"ed25519\", \"bridge-rsa\" and "
                         "\"none\"",
                         field);
}

/* An HTTP token character (RFC 9110 §5.6.2 tchar). */
static bool is_tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

enum err signature_scheme_check_prefix(const char *prefix, const char *field, struct err_detail *d)
{
    size_t n = prefix ? strnlen(prefix, SIGNATURE_SCHEME_PREFIX_MAX + 1) : 0;
    if (n < 2 || n > SIGNATURE_SCHEME_PREFIX_MAX)
        return err_set_field(d, ERR_INVAL, CODE, field, "'%s' must be 2 to %d characters long",
                             field, SIGNATURE_SCHEME_PREFIX_MAX);
    for (size_t i = 0; i < n; i++)
        if (!is_tchar(prefix[i]))
            return err_set_field(d, ERR_INVAL, CODE, field,
                                 "'%s' may hold only letters, digits and !#$%%&'*+-.^_`|~", field);
    if (prefix[n - 1] != '-')
        return err_set_field(d, ERR_INVAL, CODE, field, "'%s' must end with '-'", field);
    if (strcasecmp(prefix, "webhook-") == 0 || strcasecmp(prefix, "svix-") == 0)
        return err_set_field(d, ERR_INVAL, CODE, field,
                             "'%s' must not be \"webhook-\" or \"svix-\": those headers are "
                             "the Standard Webhooks and Svix ones",
                             field);
    return ERR_OK;
}

enum err signature_scheme_generate(enum signature_scheme scheme, char *secret, size_t secret_len,
                                   char *public_key, size_t public_len)
{
    if (secret_len == 0 || public_len == 0)
        return ERR_INVAL;
    secret[0] = public_key[0] = '\0';
    switch (scheme) {
    case SIGNATURE_SCHEME_STANDARD:
        if (secret_len < ID_MAX)
            return ERR_INVAL; /* id_signing_secret panics on a short buffer */
        id_signing_secret(secret, secret_len);
        return ERR_OK;
    case SIGNATURE_SCHEME_ED25519:
        return signature_ed25519_generate(secret, secret_len, public_key, public_len);
    case SIGNATURE_SCHEME_BRIDGE_RSA:
        return signature_rsa_generate(secret, secret_len, public_key, public_len);
    case SIGNATURE_SCHEME_NONE:
        return ERR_OK;
    }
    return ERR_INVAL;
}

enum err signature_scheme_public_key(enum signature_scheme scheme, char *public_key,
                                     size_t public_len, const char *secret)
{
    if (public_len == 0)
        return ERR_INVAL;
    public_key[0] = '\0';
    switch (scheme) {
    case SIGNATURE_SCHEME_STANDARD:
    case SIGNATURE_SCHEME_NONE:
        return ERR_OK;
    case SIGNATURE_SCHEME_ED25519:
        return signature_ed25519_public(public_key, public_len, secret);
    case SIGNATURE_SCHEME_BRIDGE_RSA:
        return signature_rsa_public(public_key, public_len, secret);
    }
    return ERR_INVAL;
}

enum err signature_scheme_key_init(struct signature_scheme_key *k, enum signature_scheme scheme,
                                   const char *secret)
{
    memset(k, 0, sizeof(*k));
    k->scheme = scheme;
    switch (scheme) {
    case SIGNATURE_SCHEME_STANDARD:
        return signature_key_init(&k->hmac, secret);
    case SIGNATURE_SCHEME_ED25519:
        return signature_pkey_new_ed25519(&k->pkey, secret);
    case SIGNATURE_SCHEME_BRIDGE_RSA:
        return signature_pkey_new_rsa(&k->pkey, secret);
    case SIGNATURE_SCHEME_NONE:
        break;
    }
    return ERR_INVAL;
}

void signature_scheme_key_release(struct signature_scheme_key *k)
{
    signature_key_release(&k->hmac);
    signature_pkey_free(k->pkey);
    k->pkey = NULL;
}

/* ---- headers ---- */

/* A value under construction in a fixed buffer. */
struct value {
    char *buf;
    size_t len;
};

/* Append s (plus sep first unless the value is empty); false when it does not fit. */
static bool append(struct value *v, const char *sep, const char *s)
{
    size_t sl = v->len && sep ? strlen(sep) : 0, n = strlen(s);
    if (v->len + sl + n + 1 > SIGNATURE_SCHEME_HEADER_VALUE_MAX)
        return false;
    if (sl)
        memcpy(v->buf + v->len, sep, sl);
    memcpy(v->buf + v->len + sl, s, n + 1);
    v->len += sl + n;
    return true;
}

/* A new header prefix + name (prefix may be ""); its value starts empty. */
static struct value add(struct signature_scheme_header_list *out, const char *prefix,
                        const char *name)
{
    struct signature_scheme_header *h = &out->h[out->n++];
    /* Both parts are bounded: the prefix was checked, names are ours. */
    snprintf(h->name, sizeof(h->name), "%s%s", prefix, name);
    h->value[0] = '\0';
    return (struct value){.buf = h->value, .len = 0};
}

static void add_text(struct signature_scheme_header_list *out, const char *prefix, const char *name,
                     const char *text)
{
    struct value v = add(out, prefix, name);
    append(&v, NULL, text); /* ids and timestamps are far below the ceiling */
}

/* True for 1..SIGNATURE_SCHEME_MSG_ID_MAX visible ASCII characters (nothing a header could split
 * on). */
static bool is_header_safe_id(const char *s)
{
    size_t n = s ? strnlen(s, SIGNATURE_SCHEME_MSG_ID_MAX + 1) : 0;
    if (n == 0 || n > SIGNATURE_SCHEME_MSG_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7e)
            return false;
    return true;
}

/* Each key's Standard Webhooks entry ("v1," or "v1a,"), space-separated, into v. */
static enum err webhook_signature(struct value *v, enum signature_scheme scheme,
                                  const struct signature_scheme_key *const *keys, size_t n_keys,
                                  const char *msg_id, int64_t ts_sec, const void *body,
                                  size_t body_len)
{
    for (size_t i = 0; i < n_keys; i++) {
        char e[SIGNATURE_ENTRY_MAX];
        enum err r =
            scheme == SIGNATURE_SCHEME_STANDARD
                ? signature_key_v1(&keys[i]->hmac, e, sizeof(e), msg_id, ts_sec, body, body_len)
                : signature_pkey_v1a(keys[i]->pkey, e, sizeof(e), msg_id, ts_sec, body, body_len);
        if (r != ERR_OK)
            return r;
        if (!append(v, " ", e))
            return ERR_INVAL;
    }
    return ERR_OK;
}

/* <prefix>Signature: "sha256=<hex>[,sha256=...]" or "t=<ms>,v0=<b64>[,v0=...]". */
static enum err prefixed_signature(struct value *v, enum signature_scheme scheme,
                                   const struct signature_scheme_key *const *keys, size_t n_keys,
                                   int64_t now_ms, const void *body, size_t body_len)
{
    if (scheme == SIGNATURE_SCHEME_BRIDGE_RSA) {
        char t[32];
        snprintf(t, sizeof(t), "t=%" PRId64, now_ms);
        append(v, NULL, t);
    }
    for (size_t i = 0; i < n_keys; i++) {
        char e[SIGNATURE_BRIDGE_ENTRY_MAX];
        enum err r =
            scheme == SIGNATURE_SCHEME_STANDARD
                ? signature_key_hookbridge(&keys[i]->hmac, e, sizeof(e), now_ms / 1000, body,
                                           body_len)
                : signature_pkey_bridge_rsa(keys[i]->pkey, e, sizeof(e), now_ms, body, body_len);
        if (r != ERR_OK)
            return r;
        if (!append(v, ",", e))
            return ERR_INVAL;
    }
    return ERR_OK;
}

/* Copy the webhook-* headers added so far as svix-* (same values). */
static void add_svix(struct signature_scheme_header_list *out, size_t first, size_t count)
{
    for (size_t i = first; i < first + count; i++) {
        struct value v = add(out, "svix-", out->h[i].name + strlen("webhook-"));
        append(&v, NULL, out->h[i].value);
    }
}

static enum err build(struct signature_scheme_header_list *out,
                      const struct signature_scheme_cfg *cfg,
                      const struct signature_scheme_key *const *keys, size_t n_keys,
                      const char *msg_id, int64_t now_ms, const void *body, size_t body_len)
{
    enum signature_scheme scheme = cfg->scheme;
    const char *prefix = cfg->header_prefix ? cfg->header_prefix : SIGNATURE_SCHEME_DEFAULT_PREFIX;
    bool is_signed = scheme != SIGNATURE_SCHEME_NONE;
    /* Which families carry a signature: Standard Webhooks (webhook-*) and hookd's own. */
    bool sw = scheme == SIGNATURE_SCHEME_STANDARD || scheme == SIGNATURE_SCHEME_ED25519;
    bool own = scheme == SIGNATURE_SCHEME_STANDARD || scheme == SIGNATURE_SCHEME_BRIDGE_RSA;
    enum err e;
    char ts[32];

    if ((size_t)scheme >= N_SCHEMES || !is_header_safe_id(msg_id) || now_ms < 0 ||
        (body_len > 0 && !body) ||
        (cfg->header_prefix && signature_scheme_check_prefix(prefix, "header_prefix", NULL)))
        return ERR_INVAL;
    if (is_signed) {
        if (n_keys == 0 || n_keys > SIGNATURE_SCHEME_MAX_KEYS || !keys)
            return ERR_INVAL;
        for (size_t i = 0; i < n_keys; i++)
            if (!keys[i] || keys[i]->scheme != scheme)
                return ERR_INVAL;
    }
    snprintf(ts, sizeof(ts), "%" PRId64, now_ms / 1000);

    size_t first = out->n;
    add_text(out, "", "webhook-id", msg_id);
    if (sw) {
        add_text(out, "", "webhook-timestamp", ts);
        struct value v = add(out, "", "webhook-signature");
        e = webhook_signature(&v, scheme, keys, n_keys, msg_id, now_ms / 1000, body, body_len);
        if (e != ERR_OK)
            return e;
    }
    if (cfg->svix_headers)
        add_svix(out, first, out->n - first);

    add_text(out, prefix, "Id", msg_id);
    if (scheme == SIGNATURE_SCHEME_STANDARD)
        add_text(out, prefix, "Timestamp", ts); /* bridge-rsa carries its t in the signature */
    if (own) {
        struct value v = add(out, prefix, "Signature");
        e = prefixed_signature(&v, scheme, keys, n_keys, now_ms, body, body_len);
        if (e != ERR_OK)
            return e;
    }
    return ERR_OK;
}

enum err signature_scheme_headers(struct signature_scheme_header_list *out,
                                  const struct signature_scheme_cfg *cfg,
                                  const struct signature_scheme_key *const *keys, size_t n_keys,
                                  const char *msg_id, int64_t now_ms, const void *body,
                                  size_t body_len)
{
    out->n = 0;
    enum err e = build(out, cfg, keys, n_keys, msg_id, now_ms, body, body_len);
    if (e != ERR_OK)
        out->n = 0;
    return e;
}

const char *signature_scheme_find_header(const struct signature_scheme_header_list *h,
                                         const char *name)
{
    for (size_t i = 0; i < h->n; i++)
        if (strcasecmp(h->h[i].name, name) == 0)
            return h->h[i].value;
    return NULL;
}

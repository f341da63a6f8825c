/*
 * signature_scheme - which signature and id headers a delivery carries, per
 * endpoint signature scheme (POLICIES.md §4, §8; API.md §5, §8; TENANCY.md §2).
 *
 * Description: an endpoint picks one scheme:
 *  - standard (default): webhook-id, webhook-timestamp, webhook-signature
 *    ("v1,<b64>" per key, space-separated) and hookd's own <prefix>Id,
 *    <prefix>Timestamp, <prefix>Signature ("sha256=<hex>" per key,
 *    comma-separated). The key is the endpoint's "whsec_" secret.
 *  - ed25519: webhook-id, webhook-timestamp, webhook-signature ("v1a,<b64>"
 *    per key) and <prefix>Id. The key is a stored "whsk_" Ed25519 secret; the
 *    endpoint shows its "whpk_" public key.
 *  - bridge-rsa: webhook-id, <prefix>Id and <prefix>Signature
 *    "t=<unix ms>,v0=<b64>" (",v0=<b64>" more per extra key). The key is a
 *    PKCS#8 PEM RSA private key; the endpoint shows the SPKI PEM public key.
 *  - none: unsigned; only webhook-id and <prefix>Id, the ids receivers
 *    dedupe on.
 * A timestamp header goes with the signature it feeds, and only then. The
 * prefix (default "X-Webhook-") renames only hookd's own X-Webhook-* family;
 * the Standard Webhooks webhook-* names never change. With svix_headers the
 * svix-id, svix-timestamp and svix-signature headers repeat the webhook-*
 * ones beside them (Svix's libraries read either family).
 * During a rotation overlap every key given signs; the caller passes only
 * the keys still active (expiry is its business, as in request.c).
 * This module builds header values; it does not send them, store keys or
 * seal private keys (secretbox.h does that for the caller).
 * Threading: any thread; a prepared key is used by one thread at a time.
 * Ownership: struct signature_scheme_key is caller-owned, set up with
 * signature_scheme_key_init and wiped by signature_scheme_key_release; the
 * header list is a caller-owned fixed-size struct. Secrets written into
 * caller buffers by signature_scheme_generate are the caller's to wipe.
 * Errors: ERR_INVAL for an unknown scheme name, a bad header prefix, a
 * malformed key or message id, a key of another scheme, or no key for a
 * signed scheme; the *_check and _parse functions fill an err_detail naming
 * the caller's field (code INVALID_REQUEST). ERR_IO when libcrypto cannot
 * generate a key. OOM aborts.
 * See also: signature.h (the primitives), src/deliver/request.c (today's
 * delivery headers, not yet built from this module),
 * docs/policies/signatures.md.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_CORE_SIGNATURE_SCHEME_H
#define HOOKD_CORE_SIGNATURE_SCHEME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/signature.h"
#include "util/err.h"

enum signature_scheme {
    SIGNATURE_SCHEME_STANDARD = 0,
    SIGNATURE_SCHEME_ED25519,
    SIGNATURE_SCHEME_BRIDGE_RSA,
    SIGNATURE_SCHEME_NONE,
};

#define SIGNATURE_SCHEME_DEFAULT SIGNATURE_SCHEME_STANDARD
#define SIGNATURE_SCHEME_DEFAULT_PREFIX "X-Webhook-"
#define SIGNATURE_SCHEME_PREFIX_MAX 32 /* characters of a header prefix, '-' included */
#define SIGNATURE_SCHEME_MAX_KEYS 2    /* active keys during a rotation overlap */
#define SIGNATURE_SCHEME_MSG_ID_MAX 255
#define SIGNATURE_SCHEME_HEADERS_MAX 9 /* standard with svix-*: 3 webhook-, 3 svix-, 3 prefixed */
#define SIGNATURE_SCHEME_HEADER_NAME_MAX (SIGNATURE_SCHEME_PREFIX_MAX + 16)
/* The longest value: "t=<19 digits>,v0=<684>,v0=<684>" for two 4096-bit RSA keys. */
#define SIGNATURE_SCHEME_HEADER_VALUE_MAX 1408
/* What signature_scheme_generate writes, NUL included. */
#define SIGNATURE_SCHEME_SECRET_MAX SIGNATURE_RSA_PRIVATE_MAX
#define SIGNATURE_SCHEME_PUBLIC_MAX SIGNATURE_RSA_PUBLIC_MAX

/* "standard", "ed25519", "bridge-rsa" or "none"; static storage ("?" for a bad value). */
const char *signature_scheme_name(enum signature_scheme scheme);

/* The scheme called name (exact, lower case); ERR_INVAL naming field otherwise. */
enum err signature_scheme_parse(enum signature_scheme *out, const char *name, const char *field,
                                struct err_detail *d);

/*
 * Check a header prefix: 2 to SIGNATURE_SCHEME_PREFIX_MAX HTTP token
 * characters (RFC 9110 tchar) ending with '-', and not "webhook-" or "svix-"
 * in any case (their headers would collide with the Standard Webhooks and
 * Svix families). ERR_INVAL naming field ("header_prefix", "--header-prefix").
 */
enum err signature_scheme_check_prefix(const char *prefix, const char *field, struct err_detail *d);

/*
 * Fresh key material for an endpoint of scheme: secret is what the caller
 * seals and stores, public_key what the endpoint shows ("" when there is
 * nothing to show). standard: a "whsec_" secret (id_signing_secret), no
 * public key; ed25519: "whsk_" / "whpk_"; bridge-rsa: PKCS#8 PEM / SPKI PEM
 * (2048 bits; takes tens to hundreds of milliseconds); none: both "".
 * Buffers of SIGNATURE_SCHEME_SECRET_MAX and _PUBLIC_MAX always suffice.
 */
enum err signature_scheme_generate(enum signature_scheme scheme, char *secret, size_t secret_len,
                                   char *public_key, size_t public_len);

/* The public key an endpoint shows for a stored secret of scheme ("" for standard and none). */
enum err signature_scheme_public_key(enum signature_scheme scheme, char *public_key,
                                     size_t public_len, const char *secret);

/* One active key of an endpoint, prepared for many deliveries. */
struct signature_scheme_key {
    enum signature_scheme scheme;
    struct signature_key hmac;   /* standard */
    struct signature_pkey *pkey; /* ed25519, bridge-rsa */
};

/*
 * Prepare secret (the stored form, see signature_scheme_generate) for
 * scheme; ERR_INVAL when it is malformed or scheme is none (then k holds
 * nothing to release).
 */
enum err signature_scheme_key_init(struct signature_scheme_key *k, enum signature_scheme scheme,
                                   const char *secret);
void signature_scheme_key_release(struct signature_scheme_key *k);

/* An endpoint's header settings. */
struct signature_scheme_cfg {
    enum signature_scheme scheme;
    const char *header_prefix; /* NULL: SIGNATURE_SCHEME_DEFAULT_PREFIX */
    bool svix_headers;         /* add svix-* beside webhook-* */
};

struct signature_scheme_header {
    char name[SIGNATURE_SCHEME_HEADER_NAME_MAX];
    char value[SIGNATURE_SCHEME_HEADER_VALUE_MAX];
};

struct signature_scheme_header_list {
    size_t n;
    struct signature_scheme_header h[SIGNATURE_SCHEME_HEADERS_MAX];
};

/*
 * The id and signature headers of one delivery attempt of msg_id at now_ms
 * (>= 0; webhook-timestamp and <prefix>Timestamp carry now_ms / 1000, Bridge's t
 * carries now_ms) over body, signed with each of keys[0..n_keys) (1 to
 * SIGNATURE_SCHEME_MAX_KEYS, all of cfg->scheme; ignored for none). msg_id is
 * 1 to SIGNATURE_SCHEME_MSG_ID_MAX visible ASCII characters. On error out
 * holds no headers (out->n == 0).
 */
enum err signature_scheme_headers(struct signature_scheme_header_list *out,
                                  const struct signature_scheme_cfg *cfg,
                                  const struct signature_scheme_key *const *keys, size_t n_keys,
                                  const char *msg_id, int64_t now_ms, const void *body,
                                  size_t body_len);

/* The value of the header called name (ASCII case-insensitive) in h, or NULL. */
const char *signature_scheme_find_header(const struct signature_scheme_header_list *h,
                                         const char *name);

#endif

/*
 * signature - Standard Webhooks v1/v1a and HookBridge sha256= signatures;
 * see signature.h for the contract.
 *
 * HMACs are computed incrementally so that the body is never copied (one
 * shot: EVP_MAC; prepared keys for deliveries: hmac_sha256.c); Ed25519 has no streaming mode, so
 * v1a builds the signed bytes in one heap buffer (the body is already bounded by the API's payload
 * limit). Decoded keys live in stack buffers that are wiped before returning. Base64 decoding is
 * strict: standard alphabet, length a multiple of 4, padding only at the end.
 * SPDX-License-Identifier: MIT
 */
#include "core/signature.h"

#include "core/hmac_sha256.h"

#include <inttypes.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET_PREFIX "whsec_"
#define SECRET_PREFIX_LEN 6
#define KEY_MAX 128    /* largest decoded HMAC key we accept */
#define HMAC_LEN 32    /* SHA-256 */
#define ED25519_SIG 64 /* Ed25519 signature bytes */
#define ED25519_KEY 32 /* seed or public key bytes */

static bool is_b64_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

/*
 * Strictly decode len chars of standard padded base64 into out (cap bytes).
 * Returns the decoded length, or -1 when malformed or too long for out.
 */
static int b64_decode(unsigned char *out, size_t cap, const char *in, size_t len)
{
    if (len == 0 || len % 4 != 0 || len / 4 * 3 > cap || len > INT32_MAX)
        return -1;
    size_t pad = 0;
    if (in[len - 1] == '=')
        pad++;
    if (in[len - 2] == '=')
        pad++;
    for (size_t i = 0; i < len - pad; i++)
        if (!is_b64_char(in[i]))
            return -1;
    int n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)len);
    if (n < 0)
        return -1;
    /* EVP_DecodeBlock counts padding as zero bytes; drop them. */
    return n - (int)pad;
}

/* Encode n bytes as standard base64 into out (cap bytes, NUL included); false when short. */
static bool b64_encode(char *out, size_t cap, const unsigned char *in, size_t n)
{
    if ((n + 2) / 3 * 4 + 1 > cap)
        return false;
    EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    return true;
}

/* Decode the key of a "whsec_<base64>" secret (prefix optional, as in the reference libraries). */
static int decode_secret(unsigned char *key, size_t cap, const char *secret)
{
    if (!secret)
        return -1;
    if (strncmp(secret, SECRET_PREFIX, SECRET_PREFIX_LEN) == 0)
        secret += SECRET_PREFIX_LEN;
    return b64_decode(key, cap, secret, strlen(secret));
}

/* HMAC-SHA256 over the concatenation of n parts; false on a libcrypto failure. */
static bool hmac_sha256_once(unsigned char mac[HMAC_LEN], const void *key, size_t key_len,
                             const void *const *parts, const size_t *lens, size_t n)
{
    bool ok = false;
    EVP_MAC *alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = alg ? EVP_MAC_CTX_new(alg) : NULL;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    size_t out_len = 0;

    if (!ctx || !EVP_MAC_init(ctx, key, key_len, params))
        goto out;
    for (size_t i = 0; i < n; i++)
        if (lens[i] > 0 && !EVP_MAC_update(ctx, parts[i], lens[i]))
            goto out;
    if (!EVP_MAC_final(ctx, mac, &out_len, HMAC_LEN) || out_len != HMAC_LEN)
        goto out;
    ok = true;
out:
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(alg);
    return ok;
}

/* v1 MAC of "<id>.<ts>.<body>" with the decoded secret. */
static enum err v1_mac(unsigned char mac[HMAC_LEN], const char *secret, const char *msg_id,
                       int64_t ts_sec, const void *body, size_t body_len)
{
    unsigned char key[KEY_MAX];
    char ts[32];
    int key_len = decode_secret(key, sizeof(key), secret);
    if (key_len <= 0 || !msg_id) {
        explicit_bzero(key, sizeof(key));
        return ERR_INVAL;
    }
    int ts_len = snprintf(ts, sizeof(ts), "%" PRId64, ts_sec);
    const void *parts[] = {msg_id, ".", ts, ".", body};
    const size_t lens[] = {strlen(msg_id), 1, (size_t)ts_len, 1, body_len};
    bool ok = hmac_sha256_once(mac, key, (size_t)key_len, parts, lens, 5);
    explicit_bzero(key, sizeof(key));
    return ok ? ERR_OK : ERR_INVAL;
}

/* Heap copy of "<id>.<ts>.<body>" for Ed25519; aborts on OOM. */
static unsigned char *signed_bytes(const char *msg_id, int64_t ts_sec, const void *body,
                                   size_t body_len, size_t *out_len)
{
    char ts[32];
    int ts_len = snprintf(ts, sizeof(ts), "%" PRId64, ts_sec);
    size_t id_len = strlen(msg_id);
    size_t n = id_len + 1 + (size_t)ts_len + 1 + body_len;
    unsigned char *buf = malloc(n ? n : 1);
    if (!buf)
        abort();
    unsigned char *p = buf;
    memcpy(p, msg_id, id_len);
    p += id_len;
    *p++ = '.';
    memcpy(p, ts, (size_t)ts_len);
    p += ts_len;
    *p++ = '.';
    if (body_len)
        memcpy(p, body, body_len);
    *out_len = n;
    return buf;
}

/* "v1,<base64 mac>" into out. */
static enum err format_v1(char *out, size_t outlen, const unsigned char mac[HMAC_LEN])
{
    if (outlen < 3 || !b64_encode(out + 3, outlen - 3, mac, HMAC_LEN))
        return ERR_INVAL;
    memcpy(out, "v1,", 3);
    return ERR_OK;
}

/* "sha256=<hex mac>" into out (7 + 64 + 1 bytes, checked by the callers). */
static void format_hookbridge(char *out, const unsigned char mac[HMAC_LEN])
{
    static const char hex[] = "0123456789abcdef";
    memcpy(out, "sha256=", 7);
    for (size_t i = 0; i < HMAC_LEN; i++) {
        out[7 + 2 * i] = hex[mac[i] >> 4];
        out[7 + 2 * i + 1] = hex[mac[i] & 0x0f];
    }
    out[7 + 2 * HMAC_LEN] = '\0';
}

enum err signature_v1(char *out, size_t outlen, const char *secret, const char *msg_id,
                      int64_t ts_sec, const void *body, size_t body_len)
{
    unsigned char mac[HMAC_LEN];
    enum err e = v1_mac(mac, secret, msg_id, ts_sec, body, body_len);
    if (e != ERR_OK)
        return e;
    return format_v1(out, outlen, mac);
}

/* An Ed25519 private key from base64 of a 32-byte seed or a 64-byte seed || public key. */
static EVP_PKEY *load_ed25519_private(const char *sk_b64)
{
    unsigned char raw[96];
    EVP_PKEY *pkey = NULL;
    int n = sk_b64 ? b64_decode(raw, sizeof(raw), sk_b64, strlen(sk_b64)) : -1;
    if (n != ED25519_KEY && n != 2 * ED25519_KEY)
        goto out;
    pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, raw, ED25519_KEY);
    if (pkey && n == 2 * ED25519_KEY) {
        /* The second half must be the public key of the seed, or the key is corrupt. */
        unsigned char pub[ED25519_KEY];
        size_t pub_len = sizeof(pub);
        if (!EVP_PKEY_get_raw_public_key(pkey, pub, &pub_len) || pub_len != ED25519_KEY ||
            CRYPTO_memcmp(pub, raw + ED25519_KEY, ED25519_KEY) != 0) {
            EVP_PKEY_free(pkey);
            pkey = NULL;
        }
    }
out:
    explicit_bzero(raw, sizeof(raw));
    return pkey;
}

enum err signature_v1a(char *out, size_t outlen, const char *sk_b64, const char *msg_id,
                       int64_t ts_sec, const void *body, size_t body_len)
{
    enum err e = ERR_INVAL;
    unsigned char sig[ED25519_SIG];
    size_t sig_len = sizeof(sig);
    unsigned char *msg = NULL;
    size_t msg_len = 0;
    EVP_MD_CTX *md = NULL;
    EVP_PKEY *pkey = load_ed25519_private(sk_b64);

    if (!pkey || !msg_id)
        goto out;
    md = EVP_MD_CTX_new();
    if (!md)
        abort();
    msg = signed_bytes(msg_id, ts_sec, body, body_len, &msg_len);
    if (EVP_DigestSignInit(md, NULL, NULL, NULL, pkey) != 1 ||
        EVP_DigestSign(md, sig, &sig_len, msg, msg_len) != 1 || sig_len != ED25519_SIG)
        goto out;
    if (outlen < 4 || !b64_encode(out + 4, outlen - 4, sig, sig_len))
        goto out;
    memcpy(out, "v1a,", 4);
    e = ERR_OK;
out:
    free(msg);
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pkey);
    return e;
}

enum err signature_hookbridge(char *out, size_t outlen, const char *secret, int64_t ts_sec,
                              const void *body, size_t body_len)
{
    unsigned char mac[HMAC_LEN];
    char ts[32];

    if (!secret || secret[0] == '\0' || outlen < 7 + 2 * HMAC_LEN + 1)
        return ERR_INVAL;
    int ts_len = snprintf(ts, sizeof(ts), "%" PRId64, ts_sec);
    const void *parts[] = {ts, ".", body};
    const size_t lens[] = {(size_t)ts_len, 1, body_len};
    if (!hmac_sha256_once(mac, secret, strlen(secret), parts, lens, 3))
        return ERR_INVAL;
    format_hookbridge(out, mac);
    return ERR_OK;
}

/*
 * Call fn on the base64 part of each "<version>,<b64>" entry of a
 * space-separated header; true as soon as one call returns true.
 */
static bool each_entry(const char *header, const char *version,
                       bool (*fn)(const char *b64, size_t len, void *ctx), void *ctx)
{
    size_t vlen = strlen(version);
    const char *p = header;
    while (p && *p) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *end = p;
        while (*end && *end != ' ' && *end != '\t')
            end++;
        size_t len = (size_t)(end - p);
        if (len > vlen + 1 && memcmp(p, version, vlen) == 0 && p[vlen] == ',' &&
            fn(p + vlen + 1, len - vlen - 1, ctx))
            return true;
        p = end;
    }
    return false;
}

static bool match_v1(const char *b64, size_t len, void *ctx)
{
    unsigned char got[HMAC_LEN + 3];
    return b64_decode(got, sizeof(got), b64, len) == HMAC_LEN &&
           CRYPTO_memcmp(got, ctx, HMAC_LEN) == 0;
}

bool signature_verify_v1(const char *header, const char *secret, const char *msg_id, int64_t ts_sec,
                         const void *body, size_t body_len)
{
    unsigned char mac[HMAC_LEN];
    if (!header || v1_mac(mac, secret, msg_id, ts_sec, body, body_len) != ERR_OK)
        return false;
    bool ok = each_entry(header, "v1", match_v1, mac);
    explicit_bzero(mac, sizeof(mac));
    return ok;
}

struct v1a_ctx {
    EVP_PKEY *pkey;
    const unsigned char *msg;
    size_t msg_len;
};

static bool match_v1a(const char *b64, size_t len, void *arg)
{
    struct v1a_ctx *c = arg;
    unsigned char sig[ED25519_SIG + 3];
    if (b64_decode(sig, sizeof(sig), b64, len) != ED25519_SIG)
        return false;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md)
        abort();
    bool ok = EVP_DigestVerifyInit(md, NULL, NULL, NULL, c->pkey) == 1 &&
              EVP_DigestVerify(md, sig, ED25519_SIG, c->msg, c->msg_len) == 1;
    EVP_MD_CTX_free(md);
    return ok;
}

bool signature_verify_v1a(const char *header, const char *pk_b64, const char *msg_id,
                          int64_t ts_sec, const void *body, size_t body_len)
{
    unsigned char pub[ED25519_KEY + 3];
    if (!header || !pk_b64 || !msg_id ||
        b64_decode(pub, sizeof(pub), pk_b64, strlen(pk_b64)) != ED25519_KEY)
        return false;
    EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, ED25519_KEY);
    if (!pkey)
        return false;
    struct v1a_ctx c = {.pkey = pkey};
    unsigned char *msg = signed_bytes(msg_id, ts_sec, body, body_len, &c.msg_len);
    c.msg = msg;
    bool ok = each_entry(header, "v1a", match_v1a, &c);
    free(msg);
    EVP_PKEY_free(pkey);
    return ok;
}

/* ---- prepared keys ---- */

enum err signature_key_init(struct signature_key *k, const char *secret)
{
    memset(k, 0, sizeof(*k));
    unsigned char key[KEY_MAX];
    int key_len = decode_secret(key, sizeof(key), secret);
    if (key_len <= 0) {
        explicit_bzero(key, sizeof(key));
        return ERR_INVAL;
    }
    k->v1 = hmac_sha256_key_new(key, (size_t)key_len);
    k->hb = hmac_sha256_key_new(secret, strlen(secret));
    explicit_bzero(key, sizeof(key));
    return ERR_OK;
}

void signature_key_release(struct signature_key *k)
{
    hmac_sha256_key_free(k->v1); /* wiped before it is freed */
    hmac_sha256_key_free(k->hb);
    k->v1 = k->hb = NULL;
}

enum err signature_key_v1(const struct signature_key *k, char *out, size_t outlen,
                          const char *msg_id, int64_t ts_sec, const void *body, size_t body_len)
{
    if (!k->v1 || !msg_id)
        return ERR_INVAL;
    char ts[32];
    int ts_len = snprintf(ts, sizeof(ts), "%" PRId64, ts_sec);
    const void *parts[] = {msg_id, ".", ts, ".", body};
    const size_t lens[] = {strlen(msg_id), 1, (size_t)ts_len, 1, body_len};
    unsigned char mac[HMAC_LEN];
    hmac_sha256(mac, k->v1, parts, lens, 5);
    return format_v1(out, outlen, mac);
}

enum err signature_key_hookbridge(const struct signature_key *k, char *out, size_t outlen,
                                  int64_t ts_sec, const void *body, size_t body_len)
{
    char ts[32];
    int ts_len = snprintf(ts, sizeof(ts), "%" PRId64, ts_sec);
    const void *parts[] = {ts, ".", body};
    const size_t lens[] = {(size_t)ts_len, 1, body_len};
    unsigned char mac[HMAC_LEN];
    if (outlen < 7 + 2 * HMAC_LEN + 1 || !k->hb)
        return ERR_INVAL;
    hmac_sha256(mac, k->hb, parts, lens, 3);
    format_hookbridge(out, mac);
    return ERR_OK;
}

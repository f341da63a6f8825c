/*
 * signature - Standard Webhooks v1/v1a, HookBridge sha256= and Bridge PKI v0=
 * signatures, and the Ed25519 and RSA key material; see signature.h for the
 * contract.
 *
 * HMACs are computed incrementally so that the body is never copied (one
 * shot: EVP_MAC; prepared keys for deliveries: hmac_sha256.c); Ed25519 has no streaming mode, so
 * v1a builds the signed bytes in one heap buffer (the body is already bounded by the API's payload
 * limit). Decoded keys live in stack buffers that are wiped before returning. Base64 decoding is
 * strict: standard alphabet, length a multiple of 4, padding only at the end.
 *
 * Ed25519 seeds come from the kernel (id_os_random), not from libcrypto's
 * DRBG, so generating one creates no per-thread RAND state. RSA cannot avoid
 * the DRBG: key generation and the blinding of every private-key operation
 * draw from it. libcrypto's error queue is cleared on every failure here, so
 * a bad key never leaves stale errors for libcurl's TLS code on the same
 * thread to report.
 * SPDX-License-Identifier: MIT
 */
#include "core/signature.h"

#include "core/hmac_sha256.h"
#include "core/id.h"

#include <inttypes.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET_PREFIX "whsec_"
#define SECRET_PREFIX_LEN 6
#define KEY_MAX 128    /* largest decoded HMAC key we accept */
#define HMAC_LEN 32    /* SHA-256 */
#define ED25519_SIG 64 /* Ed25519 signature bytes */
#define ED25519_KEY 32 /* seed or public key bytes */
#define ED25519_SECRET_PREFIX "whsk_"
#define ED25519_PUBLIC_PREFIX "whpk_"
#define ED25519_PREFIX_LEN 5
#define RSA_SIG_MAX (SIGNATURE_RSA_MAX_BITS / 8)
#define BRIDGE_HEADER_MAX 8192 /* longest header signature_verify_bridge_rsa looks at */
#define BRIDGE_V0_MAX 8        /* most v0 entries it tries */

struct signature_pkey {
    EVP_PKEY *pkey;
    bool is_rsa;
};

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
    if (sk_b64 && strncmp(sk_b64, ED25519_SECRET_PREFIX, ED25519_PREFIX_LEN) == 0)
        sk_b64 += ED25519_PREFIX_LEN;
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
    if (!pkey)
        ERR_clear_error();
    return pkey;
}

/* "v1a,<base64>" with a loaded Ed25519 key. */
static enum err sign_v1a(EVP_PKEY *pkey, char *out, size_t outlen, const char *msg_id,
                         int64_t ts_sec, const void *body, size_t body_len)
{
    enum err e = ERR_INVAL;
    unsigned char sig[ED25519_SIG];
    size_t sig_len = sizeof(sig);
    unsigned char *msg = NULL;
    size_t msg_len = 0;
    EVP_MD_CTX *md = NULL;

    if (!pkey || !msg_id)
        goto out;
    md = EVP_MD_CTX_new();
    if (!md)
        abort();
    msg = signed_bytes(msg_id, ts_sec, body, body_len, &msg_len);
    if (EVP_DigestSignInit(md, NULL, NULL, NULL, pkey) != 1 ||
        EVP_DigestSign(md, sig, &sig_len, msg, msg_len) != 1 || sig_len != ED25519_SIG) {
        ERR_clear_error();
        goto out;
    }
    if (outlen < 4 || !b64_encode(out + 4, outlen - 4, sig, sig_len))
        goto out;
    memcpy(out, "v1a,", 4);
    e = ERR_OK;
out:
    free(msg);
    EVP_MD_CTX_free(md);
    return e;
}

enum err signature_v1a(char *out, size_t outlen, const char *sk_b64, const char *msg_id,
                       int64_t ts_sec, const void *body, size_t body_len)
{
    EVP_PKEY *pkey = load_ed25519_private(sk_b64);
    if (!pkey)
        return ERR_INVAL;
    enum err e = sign_v1a(pkey, out, outlen, msg_id, ts_sec, body, body_len);
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
    if (!ok)
        ERR_clear_error();
    return ok;
}

bool signature_verify_v1a(const char *header, const char *pk_b64, const char *msg_id,
                          int64_t ts_sec, const void *body, size_t body_len)
{
    unsigned char pub[ED25519_KEY + 3];
    if (pk_b64 && strncmp(pk_b64, ED25519_PUBLIC_PREFIX, ED25519_PREFIX_LEN) == 0)
        pk_b64 += ED25519_PREFIX_LEN;
    if (!header || !pk_b64 || !msg_id ||
        b64_decode(pub, sizeof(pub), pk_b64, strlen(pk_b64)) != ED25519_KEY)
        return false;
    EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, ED25519_KEY);
    if (!pkey) {
        ERR_clear_error();
        return false;
    }
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

/* ---- Ed25519 and RSA key material ---- */

/* prefix + base64 of n bytes into out; false when out is too small. */
static bool prefixed_b64(char *out, size_t outlen, const char *prefix, const unsigned char *in,
                         size_t n)
{
    size_t plen = strlen(prefix);
    if (outlen < plen || !b64_encode(out + plen, outlen - plen, in, n))
        return false;
    memcpy(out, prefix, plen);
    return true;
}

/* "whpk_<base64>" of a loaded Ed25519 key. */
static enum err ed25519_public_of(char *out, size_t outlen, const EVP_PKEY *pkey)
{
    unsigned char pub[ED25519_KEY];
    size_t pub_len = sizeof(pub);
    if (EVP_PKEY_get_raw_public_key(pkey, pub, &pub_len) != 1 || pub_len != ED25519_KEY) {
        ERR_clear_error();
        return ERR_INVAL;
    }
    return prefixed_b64(out, outlen, ED25519_PUBLIC_PREFIX, pub, pub_len) ? ERR_OK : ERR_INVAL;
}

enum err signature_ed25519_generate(char *secret, size_t secret_len, char *public_key,
                                    size_t public_len)
{
    unsigned char seed[ED25519_KEY];
    enum err e = ERR_INVAL;
    EVP_PKEY *pkey = NULL;

    id_os_random(seed, sizeof(seed));
    pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, sizeof(seed));
    if (!pkey) {
        ERR_clear_error();
        e = ERR_IO;
        goto out;
    }
    if (!prefixed_b64(secret, secret_len, ED25519_SECRET_PREFIX, seed, sizeof(seed)))
        goto out;
    e = ed25519_public_of(public_key, public_len, pkey);
out:
    if (e != ERR_OK && secret_len > 0)
        explicit_bzero(secret, secret_len);
    explicit_bzero(seed, sizeof(seed));
    EVP_PKEY_free(pkey);
    return e;
}

enum err signature_ed25519_public(char *public_key, size_t public_len, const char *secret)
{
    EVP_PKEY *pkey = load_ed25519_private(secret);
    if (!pkey)
        return ERR_INVAL;
    enum err e = ed25519_public_of(public_key, public_len, pkey);
    EVP_PKEY_free(pkey);
    return e;
}

/* libcrypto must never prompt on the terminal for the passphrase of an encrypted PEM. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1;
}

/* An RSA key of 2048..SIGNATURE_RSA_MAX_BITS bits, or NULL (the key is freed). */
static EVP_PKEY *check_rsa(EVP_PKEY *pkey)
{
    if (pkey && EVP_PKEY_is_a(pkey, "RSA") && EVP_PKEY_get_bits(pkey) >= 2048 &&
        EVP_PKEY_get_bits(pkey) <= SIGNATURE_RSA_MAX_BITS)
        return pkey;
    EVP_PKEY_free(pkey);
    ERR_clear_error();
    return NULL;
}

/* A private (PKCS#8, or the older PKCS#1 form) or public (SPKI) RSA key from PEM text. */
static EVP_PKEY *load_rsa(const char *pem, bool private)
{
    size_t n = pem ? strlen(pem) : 0;
    if (n == 0 || n > (private ? SIGNATURE_RSA_PRIVATE_MAX : SIGNATURE_RSA_PUBLIC_MAX))
        return NULL;
    BIO *b = BIO_new_mem_buf(pem, (int)n);
    if (!b)
        abort();
    EVP_PKEY *pkey = private ? PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL)
                             : PEM_read_bio_PUBKEY(b, NULL, no_passphrase, NULL);
    BIO_free(b);
    return check_rsa(pkey);
}

/*
 * PEM text of pkey (PKCS#8 private or SPKI public) into out; false when it does
 * not fit. The private form goes through a secure-heap BIO, whose buffer
 * libcrypto wipes when it grows and when it is freed.
 */
static bool write_pem(char *out, size_t outlen, EVP_PKEY *pkey, bool private)
{
    BIO *b = BIO_new(private ? BIO_s_secmem() : BIO_s_mem());
    if (!b)
        abort();
    char *data = NULL;
    bool ok = private ? PEM_write_bio_PrivateKey(b, pkey, NULL, NULL, 0, NULL, NULL) == 1
                      : PEM_write_bio_PUBKEY(b, pkey) == 1;
    long n = ok ? BIO_get_mem_data(b, &data) : 0;
    ok = ok && n > 0 && data && (size_t)n < outlen;
    if (ok) {
        memcpy(out, data, (size_t)n);
        out[n] = '\0';
    } else {
        ERR_clear_error();
    }
    BIO_free(b);
    return ok;
}

enum err signature_rsa_generate(char *private_pem, size_t private_len, char *public_pem,
                                size_t public_len)
{
    EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)SIGNATURE_RSA_BITS);
    if (!pkey) {
        ERR_clear_error();
        return ERR_IO;
    }
    enum err e = ERR_INVAL;
    if (write_pem(private_pem, private_len, pkey, true) &&
        write_pem(public_pem, public_len, pkey, false))
        e = ERR_OK;
    else if (private_len > 0)
        explicit_bzero(private_pem, private_len);
    EVP_PKEY_free(pkey);
    return e;
}

enum err signature_rsa_public(char *public_pem, size_t public_len, const char *private_pem)
{
    EVP_PKEY *pkey = load_rsa(private_pem, true);
    if (!pkey)
        return ERR_INVAL;
    bool ok = write_pem(public_pem, public_len, pkey, false);
    EVP_PKEY_free(pkey);
    return ok ? ERR_OK : ERR_INVAL;
}

/* SHA-256 of "<t_ms>.<body>": the first of Bridge's two hashes. */
static bool bridge_digest(unsigned char d[HMAC_LEN], int64_t t_ms, const void *body,
                          size_t body_len)
{
    char t[32];
    int t_len = snprintf(t, sizeof(t), "%" PRId64, t_ms);
    unsigned int d_len = 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md)
        abort();
    bool ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
              EVP_DigestUpdate(md, t, (size_t)t_len) == 1 && EVP_DigestUpdate(md, ".", 1) == 1 &&
              (body_len == 0 || EVP_DigestUpdate(md, body, body_len) == 1) &&
              EVP_DigestFinal_ex(md, d, &d_len) == 1 && d_len == HMAC_LEN;
    EVP_MD_CTX_free(md);
    if (!ok)
        ERR_clear_error();
    return ok;
}

/* Start a PKCS#1 v1.5 SHA-256 sign or verify on md: the second hash is the signature's own. */
static bool rsa_pkcs1_init(EVP_MD_CTX *md, EVP_PKEY *pkey, bool sign)
{
    EVP_PKEY_CTX *pctx = NULL;
    int rc = sign ? EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, pkey)
                  : EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, pkey);
    return rc == 1 && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0;
}

/* "v0=<base64>" with a loaded RSA key. */
static enum err sign_bridge(EVP_PKEY *pkey, char *out, size_t outlen, int64_t t_ms,
                            const void *body, size_t body_len)
{
    unsigned char d[HMAC_LEN], sig[RSA_SIG_MAX];
    size_t sig_len = sizeof(sig);
    enum err e = ERR_INVAL;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md)
        abort();
    if (!bridge_digest(d, t_ms, body, body_len))
        goto out;
    if (!rsa_pkcs1_init(md, pkey, true) || EVP_DigestSign(md, sig, &sig_len, d, sizeof(d)) != 1) {
        ERR_clear_error();
        goto out;
    }
    if (outlen < 3 || !b64_encode(out + 3, outlen - 3, sig, sig_len))
        goto out;
    memcpy(out, "v0=", 3);
    e = ERR_OK;
out:
    EVP_MD_CTX_free(md);
    return e;
}

enum err signature_bridge_rsa(char *out, size_t outlen, const char *private_pem, int64_t t_ms,
                              const void *body, size_t body_len)
{
    EVP_PKEY *pkey = load_rsa(private_pem, true);
    if (!pkey)
        return ERR_INVAL;
    enum err e = sign_bridge(pkey, out, outlen, t_ms, body, body_len);
    EVP_PKEY_free(pkey);
    return e;
}

/* A non-negative decimal int64 of len digits at s; false when malformed or too large. */
static bool parse_ms(const char *s, size_t len, int64_t *out)
{
    int64_t v = 0;
    if (len == 0 || len > 19)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9' || v > (INT64_MAX - (s[i] - '0')) / 10)
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* True when the base64 signature b64[0..len) verifies over the 32-byte digest d. */
static bool verify_v0(EVP_PKEY *pkey, const unsigned char d[HMAC_LEN], const char *b64, size_t len)
{
    unsigned char sig[RSA_SIG_MAX + 3];
    int n = b64_decode(sig, sizeof(sig), b64, len);
    if (n <= 0 || n != EVP_PKEY_get_size(pkey))
        return false;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md)
        abort();
    bool ok =
        rsa_pkcs1_init(md, pkey, false) && EVP_DigestVerify(md, sig, (size_t)n, d, HMAC_LEN) == 1;
    EVP_MD_CTX_free(md);
    if (!ok)
        ERR_clear_error();
    return ok;
}

/*
 * Call fn(key, key_len, value, value_len) on each "key=value" item of the
 * comma-separated header (spaces around items ignored); stop and return false
 * when fn does, or when an item has no '='.
 */
static bool each_item(const char *header, size_t len,
                      bool (*fn)(const char *k, size_t kl, const char *v, size_t vl, void *ctx),
                      void *ctx)
{
    const char *p = header, *end = header + len;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *ie = comma ? comma : end;
        while (p < ie && *p == ' ')
            p++;
        const char *ve = ie;
        while (ve > p && ve[-1] == ' ')
            ve--;
        const char *eq = memchr(p, '=', (size_t)(ve - p));
        if (!eq || !fn(p, (size_t)(eq - p), eq + 1, (size_t)(ve - eq - 1), ctx))
            return false;
        p = comma ? comma + 1 : end;
    }
    return true;
}

struct bridge_parse {
    bool has_t;
    int64_t t_ms;
    int n_v0;
    const char *v0[BRIDGE_V0_MAX];
    size_t v0_len[BRIDGE_V0_MAX];
};

static bool bridge_item(const char *k, size_t kl, const char *v, size_t vl, void *ctx)
{
    struct bridge_parse *bp = ctx;
    if (kl == 1 && k[0] == 't') {
        if (bp->has_t)
            return false; /* two timestamps: which one was signed? */
        bp->has_t = true;
        return parse_ms(v, vl, &bp->t_ms);
    }
    if (kl == 2 && k[0] == 'v' && k[1] == '0' && bp->n_v0 < BRIDGE_V0_MAX) {
        bp->v0[bp->n_v0] = v;
        bp->v0_len[bp->n_v0++] = vl;
    }
    return true; /* other schemes' entries are not ours to judge */
}

bool signature_verify_bridge_rsa(const char *header, const char *public_pem, const void *body,
                                 size_t body_len, int64_t *t_ms)
{
    struct bridge_parse bp = {0};
    size_t len = header ? strnlen(header, BRIDGE_HEADER_MAX + 1) : 0;
    if (len == 0 || len > BRIDGE_HEADER_MAX || !each_item(header, len, bridge_item, &bp) ||
        !bp.has_t || bp.n_v0 == 0)
        return false;
    if (t_ms)
        *t_ms = bp.t_ms;
    EVP_PKEY *pkey = load_rsa(public_pem, false);
    unsigned char d[HMAC_LEN];
    bool ok = false;
    if (pkey && bridge_digest(d, bp.t_ms, body, body_len))
        for (int i = 0; i < bp.n_v0 && !ok; i++)
            ok = verify_v0(pkey, d, bp.v0[i], bp.v0_len[i]);
    EVP_PKEY_free(pkey);
    return ok;
}

/* ---- prepared asymmetric keys ---- */

static struct signature_pkey *pkey_wrap(EVP_PKEY *pkey, bool is_rsa)
{
    struct signature_pkey *k = malloc(sizeof(*k));
    if (!k)
        abort();
    k->pkey = pkey;
    k->is_rsa = is_rsa;
    return k;
}

enum err signature_pkey_new_ed25519(struct signature_pkey **out, const char *secret)
{
    EVP_PKEY *pkey = load_ed25519_private(secret);
    *out = pkey ? pkey_wrap(pkey, false) : NULL;
    return pkey ? ERR_OK : ERR_INVAL;
}

enum err signature_pkey_new_rsa(struct signature_pkey **out, const char *private_pem)
{
    EVP_PKEY *pkey = load_rsa(private_pem, true);
    *out = pkey ? pkey_wrap(pkey, true) : NULL;
    return pkey ? ERR_OK : ERR_INVAL;
}

void signature_pkey_free(struct signature_pkey *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pkey); /* libcrypto clears the private parts */
    free(k);
}

enum err signature_pkey_v1a(const struct signature_pkey *k, char *out, size_t outlen,
                            const char *msg_id, int64_t ts_sec, const void *body, size_t body_len)
{
    if (!k || k->is_rsa)
        return ERR_INVAL;
    return sign_v1a(k->pkey, out, outlen, msg_id, ts_sec, body, body_len);
}

enum err signature_pkey_bridge_rsa(const struct signature_pkey *k, char *out, size_t outlen,
                                   int64_t t_ms, const void *body, size_t body_len)
{
    if (!k || !k->is_rsa)
        return ERR_INVAL;
    return sign_bridge(k->pkey, out, outlen, t_ms, body, body_len);
}

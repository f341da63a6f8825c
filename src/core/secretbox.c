/*
 * secretbox - AES-256-GCM sealing of small secrets; see secretbox.h.
 *
 * Each box keys two EVP cipher contexts once (one to seal, one to open), so a
 * seal or open only sets the nonce: no key schedule and no allocation per
 * value. Base64 is checked strictly (alphabet, length, padding) before
 * EVP_DecodeBlock, which would otherwise accept whitespace and silently pad.
 * Plaintext and key copies on the stack are wiped before returning.
 * SPDX-License-Identifier: MIT
 */
#include "core/secretbox.h"
#include "core/id.h"
#include "util/hex.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX_LEN (sizeof(SECRETBOX_PREFIX) - 1)
#define HEADER_LEN (PREFIX_LEN + SECRETBOX_KEY_ID_LEN + 1) /* "enc:v1:<id>:" */
#define RAW_MAX (SECRETBOX_NONCE_LEN + SECRETBOX_PLAIN_MAX + SECRETBOX_TAG_LEN)

struct secretbox {
    EVP_CIPHER_CTX *seal, *open;
    char id[SECRETBOX_KEY_ID_LEN + 1];
};

static bool is_b64_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

/* Strictly decode len chars of padded base64 into out (cap bytes); -1 when malformed. */
static int b64_decode(const char *in, size_t len, uint8_t *out, size_t cap)
{
    if (len == 0 || len % 4 != 0 || len / 4 * 3 > cap)
        return -1;
    size_t pad = 0;
    for (size_t i = 0; i < len; i++) {
        if (in[i] == '=' && i >= len - 2)
            pad++;
        else if (pad || !is_b64_char(in[i]))
            return -1;
    }
    int n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)len);
    return n < 0 ? -1 : n - (int)pad;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

enum err secretbox_key_parse(const char *text, size_t len, uint8_t key[SECRETBOX_KEY_LEN],
                             struct err_detail *d)
{
    while (len && is_space(text[0])) {
        text++;
        len--;
    }
    while (len && is_space(text[len - 1]))
        len--;
    if (len == 2 * SECRETBOX_KEY_LEN) {
        for (size_t i = 0; i < SECRETBOX_KEY_LEN; i++) {
            int hi = hex_digit(text[2 * i]), lo = hex_digit(text[2 * i + 1]);
            if (hi < 0 || lo < 0) {
                OPENSSL_cleanse(key, SECRETBOX_KEY_LEN);
                return err_set(d, ERR_INVAL, "INVALID_KEY",
                               "encryption key is 64 characters but not hexadecimal");
            }
            key[i] = (uint8_t)(hi << 4 | lo);
        }
        return ERR_OK;
    }
    uint8_t buf[SECRETBOX_KEY_LEN + 3];
    int n = b64_decode(text, len, buf, sizeof(buf));
    if (n == SECRETBOX_KEY_LEN)
        memcpy(key, buf, SECRETBOX_KEY_LEN);
    OPENSSL_cleanse(buf, sizeof(buf));
    if (n == SECRETBOX_KEY_LEN)
        return ERR_OK;
    return err_set(d, ERR_INVAL, "INVALID_KEY",
                   "encryption key must be 64 hex characters or the base64 of 32 bytes "
                   "(got %zu characters)",
                   len);
}

enum err secretbox_key_generate(uint8_t key[SECRETBOX_KEY_LEN], struct err_detail *d)
{
    (void)d; /* the kernel's CSPRNG cannot fail short of a broken system (it panics) */
    id_os_random(key, SECRETBOX_KEY_LEN);
    return ERR_OK;
}

void secretbox_key_hex(const uint8_t key[SECRETBOX_KEY_LEN], char out[2 * SECRETBOX_KEY_LEN + 1])
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < SECRETBOX_KEY_LEN; i++) {
        out[2 * i] = digits[key[i] >> 4];
        out[2 * i + 1] = digits[key[i] & 15];
    }
    out[2 * SECRETBOX_KEY_LEN] = '\0';
}

void secretbox_key_id(const uint8_t key[SECRETBOX_KEY_LEN], char out[SECRETBOX_KEY_ID_LEN + 1])
{
    static const char label[] = "hookd secretbox key id v1";
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    HMAC(EVP_sha256(), key, SECRETBOX_KEY_LEN, (const unsigned char *)label, sizeof(label) - 1, mac,
         &n);
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < SECRETBOX_KEY_ID_LEN / 2; i++) {
        out[2 * i] = digits[mac[i] >> 4];
        out[2 * i + 1] = digits[mac[i] & 15];
    }
    out[SECRETBOX_KEY_ID_LEN] = '\0';
}

enum err secretbox_new(struct secretbox **out, const uint8_t key[SECRETBOX_KEY_LEN],
                       struct err_detail *d)
{
    *out = NULL;
    struct secretbox *b = calloc(1, sizeof(*b));
    if (!b)
        abort();
    secretbox_key_id(key, b->id);
    b->seal = EVP_CIPHER_CTX_new();
    b->open = EVP_CIPHER_CTX_new();
    if (!b->seal || !b->open ||
        EVP_EncryptInit_ex(b->seal, EVP_aes_256_gcm(), NULL, key, NULL) != 1 ||
        EVP_DecryptInit_ex(b->open, EVP_aes_256_gcm(), NULL, key, NULL) != 1) {
        secretbox_free(b);
        return err_set(d, ERR_IO, "INTERNAL_ERROR", "cannot set up AES-256-GCM");
    }
    *out = b;
    return ERR_OK;
}

void secretbox_free(struct secretbox *b)
{
    if (!b)
        return;
    EVP_CIPHER_CTX_free(b->seal); /* cleanses the key schedule */
    EVP_CIPHER_CTX_free(b->open);
    OPENSSL_cleanse(b, sizeof(*b));
    free(b);
}

const char *secretbox_id(const struct secretbox *b)
{
    return b->id;
}

size_t secretbox_sealed_size(size_t plain_len)
{
    size_t raw = SECRETBOX_NONCE_LEN + plain_len + SECRETBOX_TAG_LEN;
    return HEADER_LEN + (raw + 2) / 3 * 4 + 1;
}

/* Feed the GCM additional data: the value's header, then the caller's aad. */
static bool add_aad(EVP_CIPHER_CTX *c, bool enc, const char *header, const char *aad)
{
    int n;
    int (*update)(EVP_CIPHER_CTX *, unsigned char *, int *, const unsigned char *, int) =
        enc ? EVP_EncryptUpdate : EVP_DecryptUpdate;
    if (update(c, NULL, &n, (const unsigned char *)header, (int)HEADER_LEN) != 1)
        return false;
    size_t al = strlen(aad);
    return al == 0 || update(c, NULL, &n, (const unsigned char *)aad, (int)al) == 1;
}

enum err secretbox_seal(struct secretbox *b, const char *aad, const void *plain, size_t len,
                        char *out, size_t out_size, struct err_detail *d)
{
    if (len > SECRETBOX_PLAIN_MAX)
        return err_set(d, ERR_INVAL, "INTERNAL_ERROR", "secret of %zu bytes is too long to seal",
                       len);
    if (out_size < secretbox_sealed_size(len))
        return err_set(d, ERR_INVAL, "INTERNAL_ERROR", "no room for a sealed secret");
    char header[HEADER_LEN + 1];
    snprintf(header, sizeof(header), "%s%s:", SECRETBOX_PREFIX, b->id);
    uint8_t raw[RAW_MAX];
    uint8_t *nonce = raw, *ct = raw + SECRETBOX_NONCE_LEN, *tag = ct + len;
    int n = 0, fin = 0;
    enum err e = ERR_OK;
    /* The kernel's CSPRNG, not RAND_bytes: libcrypto would keep a random
     * generator per calling thread (the committer) that outlives its own exit
     * handler when that thread stops last. */
    id_os_random(nonce, SECRETBOX_NONCE_LEN);
    if (EVP_EncryptInit_ex(b->seal, NULL, NULL, NULL, nonce) != 1 ||
        !add_aad(b->seal, true, header, aad) ||
        (len && EVP_EncryptUpdate(b->seal, ct, &n, plain, (int)len) != 1) ||
        EVP_EncryptFinal_ex(b->seal, ct + n, &fin) != 1 ||
        EVP_CIPHER_CTX_ctrl(b->seal, EVP_CTRL_GCM_GET_TAG, SECRETBOX_TAG_LEN, tag) != 1) {
        e = err_set(d, ERR_IO, "INTERNAL_ERROR", "cannot encrypt a secret");
        goto out;
    }
    memcpy(out, header, HEADER_LEN);
    EVP_EncodeBlock((unsigned char *)out + HEADER_LEN, raw,
                    (int)(SECRETBOX_NONCE_LEN + len + SECRETBOX_TAG_LEN));
out:
    OPENSSL_cleanse(raw, sizeof(raw));
    return e;
}

bool secretbox_is_sealed(const char *v)
{
    return v && strncmp(v, "enc:", 4) == 0;
}

bool secretbox_sealed_key_id(const char *v, char out[SECRETBOX_KEY_ID_LEN + 1])
{
    if (!v || strncmp(v, SECRETBOX_PREFIX, PREFIX_LEN) != 0 || strlen(v) < HEADER_LEN ||
        v[HEADER_LEN - 1] != ':')
        return false;
    for (size_t i = 0; i < SECRETBOX_KEY_ID_LEN; i++) {
        char c = v[PREFIX_LEN + i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    memcpy(out, v + PREFIX_LEN, SECRETBOX_KEY_ID_LEN);
    out[SECRETBOX_KEY_ID_LEN] = '\0';
    return true;
}

enum err secretbox_open(struct secretbox *b, const char *aad, const char *sealed, char *out,
                        size_t out_size, size_t *out_len, struct err_detail *d)
{
    char kid[SECRETBOX_KEY_ID_LEN + 1];
    if (out_size)
        out[0] = '\0';
    if (!secretbox_sealed_key_id(sealed, kid))
        return err_set(d, ERR_PROTO, "INTERNAL_ERROR", "not a sealed secret (want %s...)",
                       SECRETBOX_PREFIX);
    if (strcmp(kid, b->id) != 0)
        return err_set(d, ERR_PROTO, "INTERNAL_ERROR",
                       "secret was sealed with key %s, not with the given key %s", kid, b->id);
    uint8_t raw[RAW_MAX + 3];
    const char *b64 = sealed + HEADER_LEN;
    int n = b64_decode(b64, strlen(b64), raw, sizeof(raw));
    if (n < SECRETBOX_NONCE_LEN + SECRETBOX_TAG_LEN)
        return err_set(d, ERR_PROTO, "INTERNAL_ERROR", "sealed secret is malformed");
    size_t len = (size_t)n - SECRETBOX_NONCE_LEN - SECRETBOX_TAG_LEN;
    if (out_size < len + 1)
        return err_set(d, ERR_INVAL, "INTERNAL_ERROR", "no room for an opened secret");
    uint8_t *nonce = raw, *ct = raw + SECRETBOX_NONCE_LEN, *tag = ct + len;
    int m = 0, fin = 0;
    enum err e = ERR_OK;
    if (EVP_DecryptInit_ex(b->open, NULL, NULL, NULL, nonce) != 1 ||
        !add_aad(b->open, false, sealed, aad) ||
        (len && EVP_DecryptUpdate(b->open, (unsigned char *)out, &m, ct, (int)len) != 1) ||
        EVP_CIPHER_CTX_ctrl(b->open, EVP_CTRL_GCM_SET_TAG, SECRETBOX_TAG_LEN, tag) != 1 ||
        EVP_DecryptFinal_ex(b->open, (unsigned char *)out + m, &fin) != 1) {
        OPENSSL_cleanse(out, out_size);
        e = err_set(d, ERR_PROTO, "INTERNAL_ERROR",
                    "cannot decrypt a secret: authentication failed (wrong key, tampered value "
                    "or value moved from another row)");
        goto out;
    }
    out[len] = '\0';
    if (out_len)
        *out_len = len;
out:
    OPENSSL_cleanse(raw, sizeof(raw));
    return e;
}

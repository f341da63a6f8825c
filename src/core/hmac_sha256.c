/* hmac_sha256 - see hmac_sha256.h. SPDX-License-Identifier: MIT */
/* The SHA256_* functions are deprecated in OpenSSL 3 in favour of EVP, whose
 * per-call overhead is what this module avoids; they remain supported. */
#define OPENSSL_API_COMPAT 10101
#include "core/hmac_sha256.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 64 /* SHA-256 block size */

struct hmac_sha256_key {
    SHA256_CTX inner; /* after (key ^ ipad) */
    SHA256_CTX outer; /* after (key ^ opad) */
};

struct hmac_sha256_key *hmac_sha256_key_new(const void *key, size_t key_len)
{
    struct hmac_sha256_key *k = calloc(1, sizeof(*k));
    if (!k)
        abort();
    unsigned char block[BLOCK] = {0}, pad[BLOCK];
    if (key_len > BLOCK)
        SHA256(key, key_len, block);
    else if (key_len)
        memcpy(block, key, key_len);
    for (int i = 0; i < BLOCK; i++)
        pad[i] = block[i] ^ 0x36;
    SHA256_Init(&k->inner);
    SHA256_Update(&k->inner, pad, BLOCK);
    for (int i = 0; i < BLOCK; i++)
        pad[i] = block[i] ^ 0x5c;
    SHA256_Init(&k->outer);
    SHA256_Update(&k->outer, pad, BLOCK);
    OPENSSL_cleanse(block, sizeof(block));
    OPENSSL_cleanse(pad, sizeof(pad));
    return k;
}

void hmac_sha256_key_free(struct hmac_sha256_key *k)
{
    if (!k)
        return;
    OPENSSL_cleanse(k, sizeof(*k));
    free(k);
}

void hmac_sha256(unsigned char mac[HMAC_SHA256_LEN], const struct hmac_sha256_key *k,
                 const void *const *parts, const size_t *lens, size_t n)
{
    SHA256_CTX c = k->inner;
    for (size_t i = 0; i < n; i++)
        if (lens[i])
            SHA256_Update(&c, parts[i], lens[i]);
    unsigned char inner[HMAC_SHA256_LEN];
    SHA256_Final(inner, &c);
    c = k->outer;
    SHA256_Update(&c, inner, sizeof(inner));
    SHA256_Final(mac, &c);
    OPENSSL_cleanse(&c, sizeof(c));
    OPENSSL_cleanse(inner, sizeof(inner));
}

/*
 * dedupe_digest - the key under which a message is recorded in dedupe_keys, for
 * both backends: core/dedupe.h's hex digest of the message, as its 32 bytes.
 * SPDX-License-Identifier: MIT
 */
#include <jansson.h>

#include "core/dedupe.h"
#include "store/store_internal.h"
#include "util/hex.h"

_Static_assert(DEDUPE_KEY_LEN == 2 * STORE__DEDUPE_KEY_BYTES, "a dedupe key is a SHA-256");

void store__dedupe_digest(const struct dedupe_policy *p, const void *payload, size_t payload_len,
                          const char *headers_json, const char *event_type,
                          unsigned char key[STORE__DEDUPE_KEY_BYTES])
{
    json_t *headers = headers_json ? json_loads(headers_json, 0, NULL) : NULL;
    char hex[DEDUPE_KEY_LEN + 1];
    dedupe_key(p, payload, payload_len, headers, event_type, hex);
    json_decref(headers);
    for (size_t i = 0; i < STORE__DEDUPE_KEY_BYTES; i++)
        key[i] = (unsigned char)(hex_digit(hex[2 * i]) << 4 | hex_digit(hex[2 * i + 1]));
}

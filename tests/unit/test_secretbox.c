/*
 * test_secretbox - AES-256-GCM sealing of secrets at rest: round trips, the
 * stored format, and every way opening must fail (tampering, wrong key, wrong
 * aad, malformed values), plus key text parsing and key ids.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#include "core/secretbox.h"

#define SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define AAD "signing_keys.secret:sk_0123456789abcdef01234567"

static const uint8_t KEY_A[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                  17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const uint8_t KEY_B[32] = {32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17,
                                  16, 15, 14, 13, 12, 11, 10, 9,  8,  7,  6,  5,  4,  3,  2,  1};

static struct secretbox *box(const uint8_t key[32])
{
    struct secretbox *b = NULL;
    assert_int_equal(secretbox_new(&b, key, NULL), ERR_OK);
    return b;
}

static void seal(struct secretbox *b, const char *aad, const char *plain, char *out, size_t cap)
{
    struct err_detail d = {0};
    assert_int_equal(secretbox_seal(b, aad, plain, strlen(plain), out, cap, &d), ERR_OK);
}

static void test_round_trip_and_format(void **state)
{
    (void)state;
    struct secretbox *b = box(KEY_A);
    char sealed[256], opened[128];
    seal(b, AAD, SECRET, sealed, sizeof(sealed));
    /* enc:v1:<16 hex>:<base64 of 12 + 38 + 16 = 66 bytes = 88 chars> */
    assert_int_equal(strncmp(sealed, "enc:v1:", 7), 0);
    assert_string_equal(sealed + 7 + 16 + 1 + 88, "");
    assert_int_equal(strlen(sealed) + 1, secretbox_sealed_size(strlen(SECRET)));
    assert_null(strstr(sealed, "whsec_"));
    char kid[SECRETBOX_KEY_ID_LEN + 1];
    assert_true(secretbox_sealed_key_id(sealed, kid));
    assert_string_equal(kid, secretbox_id(b));
    assert_true(secretbox_is_sealed(sealed));
    assert_false(secretbox_is_sealed(SECRET));
    size_t n = 0;
    assert_int_equal(secretbox_open(b, AAD, sealed, opened, sizeof(opened), &n, NULL), ERR_OK);
    assert_string_equal(opened, SECRET);
    assert_int_equal(n, strlen(SECRET));
    secretbox_free(b);
}

static void test_lengths_and_fresh_nonces(void **state)
{
    (void)state;
    struct secretbox *b = box(KEY_A);
    static char plain[SECRETBOX_PLAIN_MAX + 1], sealed[8192], opened[SECRETBOX_PLAIN_MAX + 1];
    const size_t lens[] = {0, 1, 2, 3, 15, 16, 17, 100, SECRETBOX_PLAIN_MAX};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        memset(plain, 'a' + (int)i, lens[i]);
        plain[lens[i]] = '\0';
        seal(b, "", plain, sealed, secretbox_sealed_size(lens[i]));
        size_t n = 99;
        assert_int_equal(secretbox_open(b, "", sealed, opened, lens[i] + 1, &n, NULL), ERR_OK);
        assert_int_equal(n, lens[i]);
        assert_memory_equal(opened, plain, lens[i] + 1);
    }
    /* The same secret sealed twice differs (fresh random nonce each time). */
    char s1[256], s2[256];
    seal(b, AAD, SECRET, s1, sizeof(s1));
    seal(b, AAD, SECRET, s2, sizeof(s2));
    assert_string_not_equal(s1, s2);
    assert_memory_not_equal(s1 + 24, s2 + 24, 16); /* the base64 of the nonce */
    /* Too long to seal, no room to seal or to open. */
    struct err_detail d = {0};
    assert_int_equal(
        secretbox_seal(b, "", plain, SECRETBOX_PLAIN_MAX + 1, sealed, sizeof(sealed), &d),
        ERR_INVAL);
    assert_int_equal(secretbox_seal(b, "", SECRET, strlen(SECRET), s1,
                                    secretbox_sealed_size(strlen(SECRET)) - 1, &d),
                     ERR_INVAL);
    seal(b, AAD, SECRET, s1, sizeof(s1));
    assert_int_equal(secretbox_open(b, AAD, s1, opened, strlen(SECRET), NULL, &d), ERR_INVAL);
    secretbox_free(b);
}

/* Flipping any byte of a sealed value (header, nonce, ciphertext or tag) must fail. */
static void test_tamper_fails(void **state)
{
    (void)state;
    struct secretbox *b = box(KEY_A);
    char sealed[256], opened[128];
    seal(b, AAD, SECRET, sealed, sizeof(sealed));
    size_t len = strlen(sealed);
    for (size_t i = 0; i < len; i++) {
        char t[256];
        memcpy(t, sealed, len + 1);
        /* A valid base64 character that differs from the original. */
        t[i] = t[i] == 'A' ? 'B' : 'A';
        struct err_detail d = {0};
        memset(opened, 'x', sizeof(opened));
        enum err e = secretbox_open(b, AAD, t, opened, sizeof(opened), NULL, &d);
        if (e == ERR_OK) /* 66 raw bytes: no base64 padding, so every bit counts */
            fail_msg("tampered byte %zu (%s) opened", i, t);
        assert_int_equal(e, ERR_PROTO);
        assert_null(strstr(opened, "whsec_")); /* nothing unauthenticated leaks out */
    }
    /* Truncated, extended, emptied, unknown version, not base64. */
    const char *bad[] = {"",          "enc:",
                         "enc:v1:",   "enc:v2:0123456789abcdef:AAAA",
                         "whsec_abc", "enc:v1:0123456789abcdeg:AAAA"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(secretbox_open(b, AAD, bad[i], opened, sizeof(opened), NULL, NULL),
                         ERR_PROTO);
    char t[300];
    snprintf(t, sizeof(t), "%.*s", (int)(len - 4), sealed);
    assert_int_equal(secretbox_open(b, AAD, t, opened, sizeof(opened), NULL, NULL), ERR_PROTO);
    snprintf(t, sizeof(t), "%sAAAA", sealed);
    assert_int_equal(secretbox_open(b, AAD, t, opened, sizeof(opened), NULL, NULL), ERR_PROTO);
    snprintf(t, sizeof(t), "%.*s %s", 24, sealed, sealed + 25);
    assert_int_equal(secretbox_open(b, AAD, t, opened, sizeof(opened), NULL, NULL), ERR_PROTO);
    secretbox_free(b);
}

static void test_wrong_key_fails(void **state)
{
    (void)state;
    struct secretbox *a = box(KEY_A), *b = box(KEY_B);
    assert_string_not_equal(secretbox_id(a), secretbox_id(b));
    char sealed[256], opened[128];
    seal(a, AAD, SECRET, sealed, sizeof(sealed));
    struct err_detail d = {0};
    assert_int_equal(secretbox_open(b, AAD, sealed, opened, sizeof(opened), NULL, &d), ERR_PROTO);
    assert_non_null(strstr(d.msg, "sealed with key"));
    /* Even when the header claims the other key's id, the tag does not verify. */
    char forged[256];
    memcpy(forged, sealed, strlen(sealed) + 1);
    memcpy(forged + 7, secretbox_id(b), SECRETBOX_KEY_ID_LEN);
    assert_int_equal(secretbox_open(b, AAD, forged, opened, sizeof(opened), NULL, &d), ERR_PROTO);
    assert_non_null(strstr(d.msg, "authentication failed"));
    secretbox_free(a);
    secretbox_free(b);
}

/* A value moved to another row (other aad) does not open. */
static void test_wrong_aad_fails(void **state)
{
    (void)state;
    struct secretbox *b = box(KEY_A);
    char sealed[256], opened[128];
    seal(b, "signing_keys.secret:sk_1", SECRET, sealed, sizeof(sealed));
    const char *others[] = {"signing_keys.secret:sk_2", "signing_keys.secret:sk_", "",
                            "signing_keys.secret:sk_10", "destinations.password:sk_1"};
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
        assert_int_equal(secretbox_open(b, others[i], sealed, opened, sizeof(opened), NULL, NULL),
                         ERR_PROTO);
    assert_int_equal(
        secretbox_open(b, "signing_keys.secret:sk_1", sealed, opened, sizeof(opened), NULL, NULL),
        ERR_OK);
    secretbox_free(b);
}

static void test_key_parse(void **state)
{
    (void)state;
    uint8_t k[32];
    char hex[65];
    secretbox_key_hex(KEY_A, hex);
    assert_string_equal(hex, "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20");
    assert_int_equal(secretbox_key_parse(hex, strlen(hex), k, NULL), ERR_OK);
    assert_memory_equal(k, KEY_A, 32);
    const char *upper = "  0102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F20\n";
    assert_int_equal(secretbox_key_parse(upper, strlen(upper), k, NULL), ERR_OK);
    assert_memory_equal(k, KEY_A, 32);
    const char *b64 = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=\n";
    memset(k, 0, sizeof(k));
    assert_int_equal(secretbox_key_parse(b64, strlen(b64), k, NULL), ERR_OK);
    assert_memory_equal(k, KEY_A, 32);
    const char *bad[] = {"",
                         "\n",
                         "0102",
                         "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2g",
                         "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2",
                         "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHw==", /* 31 bytes */
                         "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA",  /* no padding */
                         "AQIDBAUGBwgJCgsMDQ4PEBESExQV FhcYGRobHB0eHyA="};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct err_detail d = {0};
        assert_int_equal(secretbox_key_parse(bad[i], strlen(bad[i]), k, &d), ERR_INVAL);
        assert_true(d.msg[0] != '\0');
    }
    uint8_t g1[32], g2[32];
    assert_int_equal(secretbox_key_generate(g1, NULL), ERR_OK);
    assert_int_equal(secretbox_key_generate(g2, NULL), ERR_OK);
    assert_memory_not_equal(g1, g2, 32);
}

/* The key id is HMAC-SHA256(key, label)[0..8) in hex, computed independently here. */
static void test_key_id(void **state)
{
    (void)state;
    static const char label[] = "hookd secretbox key id v1";
    unsigned char mac[32];
    unsigned int n = 0;
    HMAC(EVP_sha256(), KEY_A, 32, (const unsigned char *)label, sizeof(label) - 1, mac, &n);
    char want[17];
    for (int i = 0; i < 8; i++)
        snprintf(want + 2 * i, 3, "%02x", mac[i]);
    char id[SECRETBOX_KEY_ID_LEN + 1];
    secretbox_key_id(KEY_A, id);
    assert_string_equal(id, want);
    struct secretbox *b = box(KEY_A);
    assert_string_equal(secretbox_id(b), want);
    secretbox_free(b);
    secretbox_free(NULL);
    assert_false(secretbox_sealed_key_id("enc:v1:0123456789ABCDEF:AAAA", id));
    assert_true(secretbox_sealed_key_id("enc:v1:0123456789abcdef:AAAA", id));
    assert_string_equal(id, "0123456789abcdef");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_and_format),
        cmocka_unit_test(test_lengths_and_fresh_nonces),
        cmocka_unit_test(test_tamper_fails),
        cmocka_unit_test(test_wrong_key_fails),
        cmocka_unit_test(test_wrong_aad_fails),
        cmocka_unit_test(test_key_parse),
        cmocka_unit_test(test_key_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_signature - Standard Webhooks v1/v1a vectors of API.md §8 and the
 * HookBridge sha256= format, checked against an independent HMAC().
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

#include "core/signature.h"

#define A_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define A_ID "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define A_TS 1614265330
#define A_BODY "{\"test\": 2432232314}"
#define A_SIG "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

#define B_SECRET "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
#define B_ID "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk"
#define B_TS 1649367553
#define B_BODY "{\"email\":\"test@example.com\",\"username\":\"test_user\"}"
#define B_SIG "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
#define B_BAD "v1,R3PTzyfHASBKHH98a7yexTwaJ4yNIcGhFQc1yuN+BPU="

#define C_SK                                                                                       \
    "6Xb/dCcHpPea21PS1N9VY/NZW723CEc77N4rJCubMbfVKIDij2HKpMKkioLlX0dRqSKJp4AJ6p9lMicMFs6Kvg=="
#define C_PK "1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4="
#define C_SIG                                                                                      \
    "v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg=="

static void test_vector_a(void **state)
{
    (void)state;
    char out[SIGNATURE_ENTRY_MAX];
    assert_int_equal(signature_v1(out, sizeof(out), A_SECRET, A_ID, A_TS, A_BODY, strlen(A_BODY)),
                     ERR_OK);
    assert_string_equal(out, A_SIG);
    assert_true(signature_verify_v1(A_SIG, A_SECRET, A_ID, A_TS, A_BODY, strlen(A_BODY)));
}

static void test_vector_b(void **state)
{
    (void)state;
    char out[SIGNATURE_ENTRY_MAX];
    assert_int_equal(signature_v1(out, sizeof(out), B_SECRET, B_ID, B_TS, B_BODY, strlen(B_BODY)),
                     ERR_OK);
    assert_string_equal(out, B_SIG);
    assert_true(signature_verify_v1(B_SIG, B_SECRET, B_ID, B_TS, B_BODY, strlen(B_BODY)));
}

static void test_vector_c(void **state)
{
    (void)state;
    char out[SIGNATURE_ENTRY_MAX];
    assert_int_equal(signature_v1a(out, sizeof(out), C_SK, A_ID, A_TS, A_BODY, strlen(A_BODY)),
                     ERR_OK);
    assert_string_equal(out, C_SIG);
    assert_true(signature_verify_v1a(C_SIG, C_PK, A_ID, A_TS, A_BODY, strlen(A_BODY)));
    assert_false(signature_verify_v1a(C_SIG, C_PK, A_ID, A_TS + 1, A_BODY, strlen(A_BODY)));
}

static void test_v1a_seed_only(void **state)
{
    (void)state;
    /* The first 32 bytes of C_SK (the seed) alone must give the same signature. */
    unsigned char raw[66];
    unsigned char seed_b64[48];
    char out[SIGNATURE_ENTRY_MAX];
    assert_int_equal(EVP_DecodeBlock(raw, (const unsigned char *)C_SK, (int)strlen(C_SK)), 66);
    assert_int_equal(EVP_EncodeBlock(seed_b64, raw, 32), 44);
    assert_int_equal(
        signature_v1a(out, sizeof(out), (const char *)seed_b64, A_ID, A_TS, A_BODY, strlen(A_BODY)),
        ERR_OK);
    assert_string_equal(out, C_SIG);
}

static void test_negative(void **state)
{
    (void)state;
    assert_false(signature_verify_v1(B_BAD, B_SECRET, B_ID, B_TS, B_BODY, strlen(B_BODY)));
    char out[SIGNATURE_ENTRY_MAX];
    assert_int_equal(signature_v1(out, sizeof(out), B_SECRET, B_ID, B_TS, B_BODY, strlen(B_BODY)),
                     ERR_OK);
    assert_string_not_equal(out, B_BAD);
}

static void test_multi_entry(void **state)
{
    (void)state;
    const char *body = B_BODY;
    size_t len = strlen(body);
    assert_true(signature_verify_v1(B_BAD " " B_SIG, B_SECRET, B_ID, B_TS, body, len));
    assert_true(signature_verify_v1(B_SIG " " B_BAD, B_SECRET, B_ID, B_TS, body, len));
    assert_true(signature_verify_v1("v1a,AAAA  " B_SIG " ", B_SECRET, B_ID, B_TS, body, len));
    assert_false(signature_verify_v1(B_BAD " " B_BAD, B_SECRET, B_ID, B_TS, body, len));
    assert_false(signature_verify_v1("", B_SECRET, B_ID, B_TS, body, len));
    /* A v1 value under the wrong version tag does not count. */
    assert_false(signature_verify_v1("v2,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=", B_SECRET,
                                     B_ID, B_TS, body, len));
    assert_true(signature_verify_v1a(A_SIG " " C_SIG, C_PK, A_ID, A_TS, A_BODY, strlen(A_BODY)));
    assert_false(signature_verify_v1a(A_SIG, C_PK, A_ID, A_TS, A_BODY, strlen(A_BODY)));
}

static void test_tampered(void **state)
{
    (void)state;
    const char *tampered = "{\"email\":\"test@example.com\",\"username\":\"test_usex\"}";
    assert_false(signature_verify_v1(B_SIG, B_SECRET, B_ID, B_TS, tampered, strlen(tampered)));
    assert_false(signature_verify_v1(B_SIG, B_SECRET, "msg_other", B_TS, B_BODY, strlen(B_BODY)));
    assert_false(signature_verify_v1(B_SIG, A_SECRET, B_ID, B_TS, B_BODY, strlen(B_BODY)));
    const char *a_tampered = "{\"test\": 2432232315}";
    assert_false(signature_verify_v1a(C_SIG, C_PK, A_ID, A_TS, a_tampered, strlen(a_tampered)));
}

static void test_bad_keys(void **state)
{
    (void)state;
    char out[SIGNATURE_ENTRY_MAX];
    assert_int_equal(signature_v1(out, sizeof(out), "whsec_", "m", 1, "x", 1), ERR_INVAL);
    assert_int_equal(signature_v1(out, sizeof(out), "whsec_abc", "m", 1, "x", 1), ERR_INVAL);
    assert_int_equal(signature_v1(out, sizeof(out), "whsec_ab!d", "m", 1, "x", 1), ERR_INVAL);
    assert_int_equal(signature_v1(out, 10, A_SECRET, A_ID, A_TS, "x", 1), ERR_INVAL);
    assert_int_equal(signature_v1a(out, sizeof(out), "AAAA", A_ID, A_TS, "x", 1), ERR_INVAL);
    /* 64-byte key whose second half is not the seed's public key. */
    char bad_sk[sizeof(C_SK)];
    memcpy(bad_sk, C_SK, sizeof(C_SK));
    bad_sk[60] = bad_sk[60] == 'A' ? 'B' : 'A';
    assert_int_equal(signature_v1a(out, sizeof(out), bad_sk, A_ID, A_TS, "x", 1), ERR_INVAL);
    assert_false(signature_verify_v1a(C_SIG, "short", A_ID, A_TS, A_BODY, strlen(A_BODY)));
    assert_false(signature_verify_v1(A_SIG, "whsec_!!!!", A_ID, A_TS, A_BODY, strlen(A_BODY)));
}

static void test_hookbridge(void **state)
{
    (void)state;
    const char *secret = A_SECRET;
    const char *body = A_BODY;
    char out[SIGNATURE_ENTRY_MAX];
    assert_int_equal(signature_hookbridge(out, sizeof(out), secret, A_TS, body, strlen(body)),
                     ERR_OK);

    /* Independent computation: HMAC-SHA256 keyed by the whole string over "ts.body". */
    char msg[256];
    int msg_len = snprintf(msg, sizeof(msg), "%d.%s", A_TS, body);
    unsigned char mac[32];
    unsigned int mac_len = 0;
    assert_non_null(HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)msg,
                         (size_t)msg_len, mac, &mac_len));
    assert_int_equal(mac_len, 32);
    char expected[80] = "sha256=";
    for (int i = 0; i < 32; i++)
        snprintf(expected + 7 + 2 * i, 3, "%02x", mac[i]);
    assert_string_equal(out, expected);

    assert_int_equal(strlen(out), 7 + 64);
    assert_memory_equal(out, "sha256=", 7);
    for (int i = 7; i < 71; i++)
        assert_true((out[i] >= '0' && out[i] <= '9') || (out[i] >= 'a' && out[i] <= 'f'));

    /* Different timestamp or body, different signature. */
    char other[SIGNATURE_ENTRY_MAX];
    assert_int_equal(
        signature_hookbridge(other, sizeof(other), secret, A_TS + 1, body, strlen(body)), ERR_OK);
    assert_string_not_equal(out, other);
    assert_int_equal(signature_hookbridge(other, 20, secret, A_TS, body, strlen(body)), ERR_INVAL);
}

static void test_empty_body(void **state)
{
    (void)state;
    char out[SIGNATURE_ENTRY_MAX];
    assert_int_equal(signature_v1(out, sizeof(out), A_SECRET, A_ID, A_TS, NULL, 0), ERR_OK);
    assert_true(signature_verify_v1(out, A_SECRET, A_ID, A_TS, "", 0));
    assert_int_equal(signature_v1a(out, sizeof(out), C_SK, A_ID, A_TS, NULL, 0), ERR_OK);
    assert_true(signature_verify_v1a(out, C_PK, A_ID, A_TS, "", 0));
}

/* A prepared key signs exactly as the one-shot functions, again and again. */
static void test_prepared_key(void **state)
{
    (void)state;
    struct signature_key k;
    assert_int_equal(signature_key_init(&k, A_SECRET), ERR_OK);
    char out[SIGNATURE_ENTRY_MAX], want[SIGNATURE_ENTRY_MAX];
    for (int round = 0; round < 3; round++) { /* reuse after each final */
        assert_int_equal(signature_key_v1(&k, out, sizeof(out), A_ID, A_TS, A_BODY, strlen(A_BODY)),
                         ERR_OK);
        assert_string_equal(out, A_SIG);
        assert_int_equal(
            signature_key_hookbridge(&k, out, sizeof(out), A_TS, A_BODY, strlen(A_BODY)), ERR_OK);
        assert_int_equal(
            signature_hookbridge(want, sizeof(want), A_SECRET, A_TS, A_BODY, strlen(A_BODY)),
            ERR_OK);
        assert_string_equal(out, want);
    }
    assert_int_equal(signature_key_v1(&k, out, sizeof(out), B_ID, B_TS, "", 0), ERR_OK);
    assert_int_equal(signature_v1(want, sizeof(want), A_SECRET, B_ID, B_TS, "", 0), ERR_OK);
    assert_string_equal(out, want);
    assert_int_equal(signature_key_v1(&k, out, 10, A_ID, A_TS, A_BODY, strlen(A_BODY)), ERR_INVAL);
    signature_key_release(&k);
    signature_key_release(&k); /* twice: a no-op */

    assert_int_equal(signature_key_init(&k, B_SECRET), ERR_OK);
    assert_int_equal(signature_key_v1(&k, out, sizeof(out), B_ID, B_TS, B_BODY, strlen(B_BODY)),
                     ERR_OK);
    assert_string_equal(out, B_SIG);
    signature_key_release(&k);

    /* Keys longer than a SHA-256 block are hashed first (RFC 2104): both HMACs. */
    const char *long_secret = "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdH"
                              "V2d3h5ejAxMjM0NTY3ODk=";
    assert_int_equal(signature_key_init(&k, long_secret), ERR_OK);
    assert_int_equal(signature_key_v1(&k, out, sizeof(out), A_ID, A_TS, A_BODY, strlen(A_BODY)),
                     ERR_OK);
    assert_int_equal(
        signature_v1(want, sizeof(want), long_secret, A_ID, A_TS, A_BODY, strlen(A_BODY)), ERR_OK);
    assert_string_equal(out, want);
    assert_int_equal(signature_key_hookbridge(&k, out, sizeof(out), A_TS, A_BODY, strlen(A_BODY)),
                     ERR_OK);
    assert_int_equal(
        signature_hookbridge(want, sizeof(want), long_secret, A_TS, A_BODY, strlen(A_BODY)),
        ERR_OK);
    assert_string_equal(out, want);
    signature_key_release(&k);

    assert_int_equal(signature_key_init(&k, "whsec_not*base64"), ERR_INVAL);
    assert_null(k.v1);
    assert_int_equal(signature_key_init(&k, ""), ERR_INVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector_a),     cmocka_unit_test(test_vector_b),
        cmocka_unit_test(test_vector_c),     cmocka_unit_test(test_v1a_seed_only),
        cmocka_unit_test(test_negative),     cmocka_unit_test(test_multi_entry),
        cmocka_unit_test(test_tampered),     cmocka_unit_test(test_bad_keys),
        cmocka_unit_test(test_hookbridge),   cmocka_unit_test(test_empty_body),
        cmocka_unit_test(test_prepared_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

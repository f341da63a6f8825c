/*
 * test_id - UUIDv7 layout and ordering, prefixed ids, secrets and API keys.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/id.h"

static int hex_val(char c)
{
    return c <= '9' ? c - '0' : c - 'a' + 10;
}

static void test_uuid7_format(void **state)
{
    (void)state;
    char u[ID_UUID_LEN + 1];
    const int64_t ms = 0x0123456789abLL;
    id_uuid7(u, ms);
    assert_int_equal(strlen(u), ID_UUID_LEN);
    assert_true(id_is_uuid(u));
    /* 48-bit big-endian timestamp in the first 12 hex digits. */
    assert_memory_equal(u, "01234567-89ab-", 14);
    assert_int_equal(u[14], '7'); /* version */
    int variant = hex_val(u[19]);
    assert_int_equal(variant & 0xc, 0x8); /* RFC 9562 variant 10xx */
    for (int i = 0; i < ID_UUID_LEN; i++)
        assert_true(u[i] == '-' || (u[i] >= '0' && u[i] <= '9') || (u[i] >= 'a' && u[i] <= 'f'));
}

static void test_uuid7_order(void **state)
{
    (void)state;
    char prev[ID_UUID_LEN + 1], cur[ID_UUID_LEN + 1];
    int64_t ms = 1733486400000LL;
    id_uuid7(prev, ms);
    for (int i = 1; i < 1000; i++) {
        id_uuid7(cur, ms + i);
        assert_true(strcmp(prev, cur) < 0);
        memcpy(prev, cur, sizeof(cur));
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void test_uuid7_unique(void **state)
{
    (void)state;
    enum { N = 10000 };
    char(*ids)[ID_UUID_LEN + 1] = malloc(N * sizeof(*ids));
    assert_non_null(ids);
    for (int i = 0; i < N; i++)
        id_uuid7(ids[i], 1733486400000LL); /* all in the same millisecond */
    qsort(ids, N, sizeof(*ids), cmp_str);
    for (int i = 1; i < N; i++)
        assert_string_not_equal(ids[i - 1], ids[i]);
    free(ids);
}

static void test_is_uuid(void **state)
{
    (void)state;
    assert_true(id_is_uuid("0193a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b"));
    assert_false(id_is_uuid("0193A1B2-C3D4-7E5F-8A6B-7C8D9E0F1A2B"));
    assert_false(id_is_uuid("0193a1b2c3d47e5f8a6b7c8d9e0f1a2b"));
    assert_false(id_is_uuid("0193a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2"));
    assert_false(id_is_uuid("0193a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2bc"));
    assert_false(id_is_uuid("0193a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2g"));
    assert_false(id_is_uuid(""));
    assert_false(id_is_uuid(NULL));
}

static void test_time_ordered_id(void **state)
{
    (void)state;
    char a[ID_MAX], b[ID_MAX], c[ID_MAX];
    id_time_ordered(a, sizeof(a), "app_", 1700000000000);
    id_time_ordered(b, sizeof(b), "app_", 1700000000001);
    id_time_ordered(c, sizeof(c), "app_", 1700000000001);
    assert_int_equal(strlen(a), 4 + 26);
    assert_int_equal(strncmp(a, "app_", 4), 0);
    assert_true(strcmp(a, b) < 0);              /* a later millisecond sorts after */
    assert_string_not_equal(b, c);              /* random bits differ within one */
    assert_int_equal(strncmp(b, c, 4 + 10), 0); /* 10 chars = 50 bits cover the time */
    for (const char *p = a + 4; *p; p++)
        assert_non_null(strchr("0123456789abcdefghjkmnpqrstvwxyz", *p));
    /* ULID layout: time 0 is ten zeros; the maximal 48-bit time starts with '7' */
    id_time_ordered(a, sizeof(a), "", 0);
    assert_int_equal(strncmp(a, "0000000000", 10), 0);
    id_time_ordered(a, sizeof(a), "", 0xffffffffffffLL);
    assert_int_equal(strncmp(a, "7zzzzzzzzz", 10), 0);
}

static void test_endpoint_id(void **state)
{
    (void)state;
    char id[ID_MAX];
    id_prefixed_hex(id, sizeof(id), "ep_", 32);
    assert_int_equal(strlen(id), 35);
    assert_true(id_is_endpoint(id));

    assert_true(id_is_endpoint("ep_0123456789abcdef0123456789abcdef"));
    assert_false(id_is_endpoint("ep_0123456789ABCDEF0123456789abcdef"));
    assert_false(id_is_endpoint("ep_0123456789abcdef0123456789abcde"));
    assert_false(id_is_endpoint("ep_0123456789abcdef0123456789abcdef0"));
    assert_false(id_is_endpoint("ex_0123456789abcdef0123456789abcdef"));
    assert_false(id_is_endpoint("ep_"));
    assert_false(id_is_endpoint(NULL));

    /* Odd lengths and other prefixes. */
    id_prefixed_hex(id, sizeof(id), "req_", 7);
    assert_int_equal(strlen(id), 11);
    assert_memory_equal(id, "req_", 4);
    char other[ID_MAX];
    id_prefixed_hex(other, sizeof(other), "req_", 7);
    id_prefixed_hex(id, sizeof(id), "sk_", 24);
    id_prefixed_hex(other, sizeof(other), "sk_", 24);
    assert_string_not_equal(id, other);
}

static void test_signing_secret(void **state)
{
    (void)state;
    char s[64], t[64];
    id_signing_secret(s, sizeof(s));
    id_signing_secret(t, sizeof(t));
    assert_int_equal(strlen(s), 38);
    assert_memory_equal(s, "whsec_", 6);
    assert_string_not_equal(s, t);
    /* The part after the prefix is standard base64 of exactly 24 bytes. */
    unsigned char raw[32];
    assert_int_equal(EVP_DecodeBlock(raw, (const unsigned char *)s + 6, 32), 24);
    for (int i = 6; i < 38; i++)
        assert_true(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
                           s[i]) != NULL);
}

static void test_api_key(void **state)
{
    (void)state;
    char k[64], k2[64];
    id_api_key(k, sizeof(k), "live");
    assert_int_equal(strlen(k), 8 + 40);
    assert_memory_equal(k, "hk_live_", 8);
    for (int i = 8; i < 48; i++)
        assert_true((k[i] >= '0' && k[i] <= '9') || (k[i] >= 'a' && k[i] <= 'f'));
    id_api_key(k2, sizeof(k2), "test");
    assert_memory_equal(k2, "hk_test_", 8);
    assert_non_null(strstr(k2, "_test_"));
    assert_int_equal(strlen(k2), 48);
    id_api_key(k2, sizeof(k2), "live");
    assert_string_not_equal(k, k2);
}

static void test_random(void **state)
{
    (void)state;
    unsigned char a[32] = {0}, b[32] = {0};
    id_random(a, sizeof(a));
    id_random(b, sizeof(b));
    assert_memory_not_equal(a, b, sizeof(a));
    id_random(a, 0);
}

/* Ids made one after the other in the same millisecond sort in creation order. */
static void test_uuid7_monotonic_within_a_millisecond(void **state)
{
    (void)state;
    char prev[ID_MAX], cur[ID_MAX];
    id_uuid7(prev, 1800000000000LL);
    for (int i = 0; i < 2000; i++) {
        id_uuid7(cur, 1800000000000LL);
        assert_true(strcmp(prev, cur) < 0);
        assert_true(id_is_uuid(cur));
        memcpy(prev, cur, sizeof(cur));
    }
    /* A back-dated id does not disturb the order of the current millisecond. */
    char old[ID_MAX];
    id_uuid7(old, 1700000000000LL);
    assert_true(strcmp(old, prev) < 0);
    id_uuid7(cur, 1800000000000LL);
    assert_true(strcmp(prev, cur) < 0);
}

/* Ids draw from a per-thread pool: a thousand UUIDv7s cost about 20 kernel reads, not 1000. */
static void test_ids_need_no_syscall_each(void **state)
{
    (void)state;
    char u[ID_MAX];
    unsigned long before = id_pool_refills();
    for (int i = 0; i < 1000; i++)
        id_uuid7(u, 1800000000000LL + i);
    unsigned long refills = id_pool_refills() - before;
    assert_true(refills >= 1 && refills <= 1000 * 10 / 512 + 1);
}

/* Secrets never come from the pool: making them leaves the pool untouched. */
static void test_secrets_bypass_the_pool(void **state)
{
    (void)state;
    char s[ID_MAX];
    unsigned char a[8], b[8];
    id_random(a, sizeof(a)); /* the pool holds bytes now */
    unsigned long before = id_pool_refills();
    for (int i = 0; i < 200; i++) {
        id_signing_secret(s, sizeof(s));
        id_api_key(s, sizeof(s), "live");
    }
    assert_int_equal(id_pool_refills(), before);
    id_random(b, sizeof(b));
    assert_memory_not_equal(a, b, sizeof(a));
}

/* A forked child does not reuse the bytes its parent's pool still holds. */
static void test_fork_child_gets_other_bytes(void **state)
{
    (void)state;
    unsigned char warm[4], parent[16], child[16];
    id_random(warm, sizeof(warm));
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        id_random(child, sizeof(child));
        _exit(write(fds[1], child, sizeof(child)) == (ssize_t)sizeof(child) ? 0 : 1);
    }
    close(fds[1]);
    assert_int_equal(read(fds[0], child, sizeof(child)), (ssize_t)sizeof(child));
    close(fds[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    id_random(parent, sizeof(parent));
    assert_memory_not_equal(parent, child, sizeof(parent));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uuid7_monotonic_within_a_millisecond),
        cmocka_unit_test(test_uuid7_format),
        cmocka_unit_test(test_uuid7_order),
        cmocka_unit_test(test_uuid7_unique),
        cmocka_unit_test(test_is_uuid),
        cmocka_unit_test(test_time_ordered_id),
        cmocka_unit_test(test_endpoint_id),
        cmocka_unit_test(test_signing_secret),
        cmocka_unit_test(test_api_key),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_ids_need_no_syscall_each),
        cmocka_unit_test(test_secrets_bypass_the_pool),
        cmocka_unit_test(test_fork_child_gets_other_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_addr_policy - every refused IPv4/IPv6 range, plus public addresses.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

#include "core/addr_policy.h"

/* Parse a v4 or v6 literal into a sockaddr and ask the policy. */
static bool is_public(const char *addr)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    if (strchr(addr, ':')) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(443);
        if (inet_pton(AF_INET6, addr, &s6->sin6_addr) != 1)
            fail_msg("bad test literal %s", addr);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons(443);
        if (inet_pton(AF_INET, addr, &s4->sin_addr) != 1)
            fail_msg("bad test literal %s", addr);
    }
    return addr_policy_is_public((const struct sockaddr *)&ss);
}

static void check_all(const char *const *addrs, size_t n, bool expect)
{
    for (size_t i = 0; i < n; i++)
        if (is_public(addrs[i]) != expect)
            fail_msg("%s: expected %s", addrs[i], expect ? "public" : "refused");
}

#define CHECK(arr, expect) check_all(arr, sizeof(arr) / sizeof(arr[0]), expect)

static void test_v4_public(void **state)
{
    (void)state;
    static const char *const ok[] = {
        "8.8.8.8",        "1.1.1.1",         "93.184.216.34",   "9.255.255.255",  "11.0.0.1",
        "100.63.255.255", "100.128.0.0",     "126.255.255.255", "128.0.0.1",      "169.253.255.255",
        "169.255.0.1",    "172.15.255.255",  "172.32.0.0",      "192.0.1.1",      "192.0.3.1",
        "192.88.98.255",  "192.167.255.255", "192.169.0.0",     "198.17.255.255", "198.20.0.0",
        "198.51.99.255",  "203.0.112.255",   "223.255.255.254",
    };
    CHECK(ok, true);
}

static void test_v4_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "0.0.0.0",      "0.255.255.255",   "10.0.0.1",        "10.255.255.255",
        "100.64.0.1",   "100.127.255.255", "127.0.0.1",       "127.255.255.254",
        "169.254.0.1",  "169.254.169.254", "172.16.0.1",      "172.31.255.255",
        "192.0.0.1",    "192.0.0.255",     "192.0.2.1",       "192.88.99.1",
        "192.168.0.1",  "192.168.255.255", "198.18.0.1",      "198.19.255.255",
        "198.51.100.7", "203.0.113.9",     "224.0.0.1",       "239.255.255.255",
        "240.0.0.1",    "254.255.255.255", "255.255.255.255",
    };
    CHECK(bad, false);
}

static void test_v6_public(void **state)
{
    (void)state;
    static const char *const ok[] = {
        "2606:4700::1111",
        "2001:4860:4860::8888",
        "2a00:1450:4001:80b::200e",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "2002:808:808::1",
        "2001:1::1",
        "3ffe::1",
    };
    CHECK(ok, true);
}

static void test_v6_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "::",
        "::1",
        "fc00::1",
        "fdff:ffff::1",
        "fe80::1",
        "febf::1",
        "ff02::1",
        "ff0e::1",
        "2001:db8::1",
        "2001:db8:ffff::1",
        "fec0::1",
        "100::1",
        "100::ffff:ffff:ffff:ffff",
        "2001::1",
        "2001:0:ffff::1",
        /* IPv4-mapped forms of refused v4 */
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "::ffff:192.168.1.1",
        "::ffff:0.0.0.0",
        /* NAT64 and 6to4 embedding refused v4 */
        "64:ff9b::127.0.0.1",
        "64:ff9b::a00:1",
        "2002:7f00:1::1",
        "2002:a00:1::",
        "2002:a9fe:a9fe::1",
        /* IPv4-compatible (deprecated) */
        "::127.0.0.1",
        "::8.8.8.8",
        /* other special blocks */
        "64:ff9b:1::1",
        "2001:2::1",
        "2001:10::1",
        "2001:20::1",
        "3fff::1",
    };
    CHECK(bad, false);
}

static void test_other_families(void **state)
{
    (void)state;
    struct sockaddr_un un;
    memset(&un, 0, sizeof(un));
    un.sun_family = AF_UNIX;
    assert_false(addr_policy_is_public((const struct sockaddr *)&un));
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    ss.ss_family = AF_UNSPEC;
    assert_false(addr_policy_is_public((const struct sockaddr *)&ss));
    assert_false(addr_policy_is_public(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v4_public),      cmocka_unit_test(test_v4_refused),
        cmocka_unit_test(test_v6_public),      cmocka_unit_test(test_v6_refused),
        cmocka_unit_test(test_other_families),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

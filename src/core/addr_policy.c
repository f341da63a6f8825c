/*
 * addr_policy - which resolved addresses a delivery may reach; see addr_policy.h.
 *
 * IPv4 is checked against the IANA special-purpose registry entries that
 * are not globally reachable. IPv6 is an allow-list: only 2000::/3 (the
 * global unicast block) can be public, minus its special-purpose parts.
 * Forms that embed an IPv4 address (IPv4-mapped, NAT64 64:ff9b::/96 and
 * 6to4 2002::/16) are judged by the embedded address, so ::ffff:127.0.0.1
 * is as private as 127.0.0.1.
 * SPDX-License-Identifier: MIT
 */
#include "core/addr_policy.h"

#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

struct v4_range {
    uint32_t net;
    int bits;
};

#define V4(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))

static const struct v4_range v4_blocked[] = {
    {V4(0, 0, 0, 0), 8},          /* "this network" */
    {V4(10, 0, 0, 0), 8},         /* RFC 1918 */
    {V4(100, 64, 0, 0), 10},      /* CGNAT */
    {V4(127, 0, 0, 0), 8},        /* loopback */
    {V4(169, 254, 0, 0), 16},     /* link-local, cloud metadata 169.254.169.254 */
    {V4(172, 16, 0, 0), 12},      /* RFC 1918 */
    {V4(192, 0, 0, 0), 24},       /* IETF protocol assignments */
    {V4(192, 0, 2, 0), 24},       /* TEST-NET-1 */
    {V4(192, 88, 99, 0), 24},     /* 6to4 relay anycast */
    {V4(192, 168, 0, 0), 16},     /* RFC 1918 */
    {V4(198, 18, 0, 0), 15},      /* benchmarking */
    {V4(198, 51, 100, 0), 24},    /* TEST-NET-2 */
    {V4(203, 0, 113, 0), 24},     /* TEST-NET-3 */
    {V4(224, 0, 0, 0), 4},        /* multicast */
    {V4(240, 0, 0, 0), 4},        /* reserved, includes broadcast 255.255.255.255 */
    {V4(255, 255, 255, 255), 32}, /* limited broadcast (kept explicit) */
};

/* a is in host byte order. */
static bool v4_is_public(uint32_t a)
{
    for (size_t i = 0; i < sizeof(v4_blocked) / sizeof(v4_blocked[0]); i++) {
        uint32_t mask = 0xffffffffu << (32 - v4_blocked[i].bits);
        if ((a & mask) == v4_blocked[i].net)
            return false;
    }
    return true;
}

static uint32_t load_v4(const uint8_t *p)
{
    return V4(p[0], p[1], p[2], p[3]);
}

/* True when the first bits of a equal those of prefix. */
static bool v6_has_prefix(const uint8_t *a, const uint8_t *prefix, int bits)
{
    int full = bits / 8, rest = bits % 8;
    if (memcmp(a, prefix, (size_t)full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[full] & mask) == (prefix[full] & mask);
}

static bool v6_is_public(const uint8_t *a)
{
    static const uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const uint8_t nat64[16] = {0x00, 0x64, 0xff, 0x9b};
    static const uint8_t sixto4[16] = {0x20, 0x02};
    static const uint8_t global[16] = {0x20};
    static const struct {
        uint8_t prefix[16];
        int bits;
    } blocked[] = {
        {{0x20, 0x01, 0x00, 0x00}, 32}, /* Teredo */
        {{0x20, 0x01, 0x00, 0x02}, 48}, /* benchmarking 2001:2::/48 */
        {{0x20, 0x01, 0x00, 0x10}, 28}, /* ORCHID 2001:10::/28 */
        {{0x20, 0x01, 0x00, 0x20}, 28}, /* ORCHIDv2 2001:20::/28 */
        {{0x20, 0x01, 0x0d, 0xb8}, 32}, /* documentation */
        {{0x3f, 0xff}, 20},             /* documentation 3fff::/20 (RFC 9637) */
    };

    if (v6_has_prefix(a, mapped, 96) || v6_has_prefix(a, nat64, 96))
        return v4_is_public(load_v4(a + 12));
    if (v6_has_prefix(a, sixto4, 16))
        return v4_is_public(load_v4(a + 2));
    /*
     * Everything outside 2000::/3 is special or unallocated: ::, ::1,
     * IPv4-compatible ::/96, 64:ff9b:1::/48, 100::/64, fc00::/7, fe80::/10,
     * fec0::/10, ff00::/8.
     */
    if (!v6_has_prefix(a, global, 3))
        return false;
    for (size_t i = 0; i < sizeof(blocked) / sizeof(blocked[0]); i++)
        if (v6_has_prefix(a, blocked[i].prefix, blocked[i].bits))
            return false;
    return true;
}

bool addr_policy_is_public(const struct sockaddr *sa)
{
    if (!sa)
        return false;
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in sin;
        memcpy(&sin, sa, sizeof(sin));
        return v4_is_public(ntohl(sin.sin_addr.s_addr));
    }
    if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 sin6;
        memcpy(&sin6, sa, sizeof(sin6));
        return v6_is_public(sin6.sin6_addr.s6_addr);
    }
    return false;
}

/* test_keycache - api/keycache.c (verified keys by SHA-256) and the
 * failed-authentication throttle per address (api/ratelimit.c): TTL, forget
 * by id, the generation guard against a lookup racing a delete, and the
 * per-address budget (IPv6 per /64, bounded table). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http/internal.h"

static void key(struct store_api_key *k, const char *id)
{
    memset(k, 0, sizeof(*k));
    snprintf(k->id, sizeof(k->id), "%s", id);
    snprintf(k->mode, sizeof(k->mode), "live");
}

static void test_hit_ttl_and_forget(void **state)
{
    (void)state;
    struct api_keycache *kc = http__keycache_new();
    uint8_t d1[32], d2[32];
    memset(d1, 1, sizeof(d1));
    memset(d2, 2, sizeof(d2));
    struct store_api_key k, out;
    assert_false(http__keycache_get(kc, d1, 0, &out));
    key(&k, "key_a");
    http__keycache_put(kc, d1, &k, http__keycache_generation(kc), 0);
    key(&k, "key_b");
    http__keycache_put(kc, d2, &k, http__keycache_generation(kc), 0);
    assert_true(http__keycache_get(kc, d1, 5, &out));
    assert_string_equal(out.id, "key_a");
    /* After the TTL the store must be asked again. */
    assert_false(http__keycache_get(kc, d1, API_KEYCACHE_TTL_MS, &out));
    /* Forget drops the key at once and only that key. */
    assert_true(http__keycache_get(kc, d2, 5, &out));
    http__keycache_forget(kc, "key_b");
    assert_false(http__keycache_get(kc, d2, 5, &out));
    http__keycache_free(kc);
}

static void test_put_after_a_forget_is_dropped(void **state)
{
    (void)state;
    struct api_keycache *kc = http__keycache_new();
    uint8_t d[32];
    memset(d, 7, sizeof(d));
    struct store_api_key k, out;
    key(&k, "key_a");
    uint64_t gen = http__keycache_generation(kc); /* lookup starts, reads the key... */
    http__keycache_forget(kc, "key_a");           /* ...the key is deleted meanwhile... */
    http__keycache_put(kc, d, &k, gen, 0);        /* ...and the stale result is not kept */
    assert_false(http__keycache_get(kc, d, 1, &out));
    http__keycache_free(kc);
}

static void test_authfail_budget_per_address(void **state)
{
    (void)state;
    struct api_authfail *af = http__authfail_new(3); /* 3 failures, then one per 20 s */
    int64_t ra;
    for (int i = 0; i < 3; i++)
        assert_true(http__authfail_take(af, "10.0.0.1", 0, &ra));
    assert_false(http__authfail_take(af, "10.0.0.1", 0, &ra));
    assert_int_equal(ra, 20); /* 20 s until a token */
    /* Another address is not affected. */
    assert_true(http__authfail_take(af, "10.0.0.2", 0, &ra));
    /* IPv6 counts per /64. */
    for (int i = 0; i < 3; i++)
        assert_true(http__authfail_take(af, i % 2 ? "2001:db8::1" : "2001:db8::2", 0, &ra));
    assert_false(http__authfail_take(af, "2001:db8::ffff", 0, &ra));
    assert_true(http__authfail_take(af, "2001:db8:0:1::1", 0, &ra));
    /* A token comes back after 20 s. */
    assert_true(http__authfail_take(af, "10.0.0.1", 20000, &ra));
    http__authfail_free(af);
}

static void test_authfail_off_and_bounded(void **state)
{
    (void)state;
    int64_t ra;
    struct api_authfail *off = http__authfail_new(0);
    for (int i = 0; i < 100; i++)
        assert_true(http__authfail_take(off, "10.0.0.1", 0, &ra));
    http__authfail_free(off);
    struct api_authfail *af = http__authfail_new(1);
    char addr[48];
    /* More addresses than the table holds, each failing once and staying
     * throttled: the rest share the overflow bucket. */
    for (int i = 0; i < API_AUTHFAIL_MAX_ADDRS; i++) {
        snprintf(addr, sizeof(addr), "10.%d.%d.1", i / 256, i % 256);
        assert_true(http__authfail_take(af, addr, 0, &ra));
    }
    assert_true(http__authfail_take(af, "192.0.2.1", 0, &ra));  /* overflow's one token */
    assert_false(http__authfail_take(af, "192.0.2.2", 0, &ra)); /* shared, now empty */
    /* Once entries refill they are swept and new addresses get their own. */
    assert_true(http__authfail_take(af, "192.0.2.3", 120000, &ra));
    assert_true(http__authfail_take(af, "192.0.2.4", 120000, &ra));
    http__authfail_free(af);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hit_ttl_and_forget),
        cmocka_unit_test(test_put_after_a_forget_is_dropped),
        cmocka_unit_test(test_authfail_budget_per_address),
        cmocka_unit_test(test_authfail_off_and_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

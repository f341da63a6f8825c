/* test_store_keys - API keys in the store (SQLite, or PostgreSQL with HOOKD_TEST_PG):
 * insert (a taken id or digest is a conflict), find by digest, get, list by mode, count,
 * soft delete (no longer authenticates), last_used_at touch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/store.h"
#include "store_fixture.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    return fixture_setup_dir(dir, sizeof(dir), "keys");
}

static int teardown(void **state)
{
    (void)state;
    return fixture_remove_dir(dir);
}

static void add_key(struct store *s, const char *id, const char *mode, int64_t at, uint8_t tag)
{
    struct store_api_key k = {0};
    snprintf(k.id, sizeof(k.id), "%s", id);
    snprintf(k.mode, sizeof(k.mode), "%s", mode);
    snprintf(k.prefix, sizeof(k.prefix), "hk_%s", mode);
    k.created_at_ms = at;
    uint8_t digest[32];
    memset(digest, tag, sizeof(digest));
    struct err_detail d = {0};
    assert_int_equal(store_api_key_insert(s, &k, digest, &d), ERR_OK);
}

static void test_list_count_delete_touch(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    struct err_detail d = {0};
    add_key(s, "key_a", "live", 1000, 1);
    add_key(s, "key_b", "test", 2000, 2);
    add_key(s, "key_c", "live", 3000, 3);

    struct store_api_key out[4];
    int n = 0;
    assert_int_equal(store_api_key_list(s, NULL, out, 4, &n, &d), ERR_OK);
    assert_int_equal(n, 3);
    assert_string_equal(out[0].id, "key_a"); /* oldest first */
    assert_string_equal(out[2].id, "key_c");
    assert_int_equal(store_api_key_list(s, "test", out, 4, &n, &d), ERR_OK);
    assert_int_equal(n, 1);
    assert_string_equal(out[0].id, "key_b");
    assert_string_equal(out[0].prefix, "hk_test");
    assert_int_equal(store_api_key_list(s, NULL, out, 2, &n, &d), ERR_OK);
    assert_int_equal(n, 2); /* max honoured */

    int64_t c = 0;
    assert_int_equal(store_api_key_count_mode(s, "live", &c, &d), ERR_OK);
    assert_int_equal(c, 2);

    /* touch: set once, never moved backwards */
    struct store_api_key k;
    assert_int_equal(store_api_key_get(s, "key_a", &k, &d), ERR_OK);
    assert_int_equal(k.last_used_at_ms, 0);
    assert_int_equal(store_api_key_touch(s, "key_a", 5000, &d), ERR_OK);
    assert_int_equal(store_api_key_touch(s, "key_a", 4000, &d), ERR_OK);
    assert_int_equal(store_api_key_get(s, "key_a", &k, &d), ERR_OK);
    assert_int_equal(k.last_used_at_ms, 5000);
    assert_int_equal(store_api_key_touch(s, "key_unknown", 5000, &d), ERR_OK);

    /* soft delete: gone from get, list, count and authentication */
    assert_int_equal(store_api_key_delete(s, "key_a", 6000, &d), ERR_OK);
    assert_int_equal(store_api_key_delete(s, "key_a", 6000, &d), ERR_NOTFOUND);
    assert_int_equal(store_api_key_delete(s, "key_zz", 6000, &d), ERR_NOTFOUND);
    assert_int_equal(store_api_key_get(s, "key_a", &k, &d), ERR_NOTFOUND);
    assert_int_equal(store_api_key_count_mode(s, "live", &c, &d), ERR_OK);
    assert_int_equal(c, 1);
    assert_int_equal(store_api_key_count_mode(s, NULL, &c, &d), ERR_OK);
    assert_int_equal(c, 2);
    uint8_t digest[32];
    memset(digest, 1, sizeof(digest));
    assert_int_equal(store_api_key_find(s, digest, &k, &d), ERR_NOTFOUND);
    memset(digest, 3, sizeof(digest));
    assert_int_equal(store_api_key_find(s, digest, &k, &d), ERR_OK);
    assert_string_equal(k.id, "key_c");
    store_close(s);
}

/* A second key with a taken id or digest is refused with a conflict and leaves the batch
 * usable: the next op of the same transaction still commits. */
static void test_insert_conflict_count(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    struct err_detail d = {0};
    int64_t c = -1;
    assert_int_equal(store_api_key_count(s, &c, &d), ERR_OK);
    assert_int_equal(c, 0);
    add_key(s, "key_a", "live", 1000, 1);

    assert_int_equal(store_batch_begin(s, &d), ERR_OK);
    struct store_api_key k = {0};
    snprintf(k.id, sizeof(k.id), "key_a"); /* taken id */
    snprintf(k.mode, sizeof(k.mode), "live");
    snprintf(k.prefix, sizeof(k.prefix), "hk_live");
    uint8_t digest[32];
    memset(digest, 9, sizeof(digest));
    store_op_begin_unguarded(s);
    assert_int_equal(store_api_key_insert(s, &k, digest, &d), ERR_CONFLICT);
    assert_string_equal(d.code, "INVALID_REQUEST");
    assert_true(store_op_end_unguarded(s, false)); /* nothing written: the batch goes on */
    snprintf(k.id, sizeof(k.id), "key_b");
    memset(digest, 1, sizeof(digest)); /* taken digest */
    store_op_begin_unguarded(s);
    assert_int_equal(store_api_key_insert(s, &k, digest, &d), ERR_CONFLICT);
    assert_true(store_op_end_unguarded(s, false));
    memset(digest, 2, sizeof(digest));
    snprintf(k.label, sizeof(k.label), "second");
    k.created_at_ms = 2000;
    store_op_begin_unguarded(s);
    assert_int_equal(store_api_key_insert(s, &k, digest, &d), ERR_OK);
    assert_true(store_op_end_unguarded(s, true));
    assert_int_equal(store_batch_commit(s, &d), ERR_OK);

    assert_int_equal(store_api_key_count(s, &c, &d), ERR_OK);
    assert_int_equal(c, 2);
    struct store_api_key got;
    assert_int_equal(store_api_key_find(s, digest, &got, &d), ERR_OK);
    assert_string_equal(got.id, "key_b");
    assert_string_equal(got.mode, "live");
    assert_string_equal(got.prefix, "hk_live");
    assert_string_equal(got.label, "second");
    assert_int_equal(got.created_at_ms, 2000);
    assert_int_equal(got.last_used_at_ms, 0);
    memset(digest, 7, sizeof(digest));
    assert_int_equal(store_api_key_find(s, digest, &got, &d), ERR_NOTFOUND);
    assert_string_equal(d.code, "UNAUTHORIZED");
    assert_int_equal(store_api_key_get(s, "key_a", &got, &d), ERR_OK);
    assert_string_equal(got.label, ""); /* no label: NULL in the store */
    assert_int_equal(store_api_key_delete(s, "key_a", 3000, &d), ERR_OK);
    assert_int_equal(store_api_key_count(s, &c, &d), ERR_OK);
    assert_int_equal(c, 1);
    store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_list_count_delete_touch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_insert_conflict_count, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_store_apps - applications and event types in the SQLite store
 * (store_apps.c, migration 9): the default application of each mode holds the
 * /v1 endpoints, lookups by id or uid, uid uniqueness per mode, paging in both
 * orders, and deleting an application deletes its endpoints.
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "store/sqlite_internal.h"
#include "store_fixture.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    return fixture_setup_dir(dir, sizeof(dir), "apps");
}

static int teardown(void **state)
{
    (void)state;
    return fixture_remove_dir(dir);
}

static void make_app(struct store *s, const char *id, const char *mode, const char *uid)
{
    struct store_application a = {0};
    snprintf(a.id, sizeof(a.id), "%s", id);
    snprintf(a.mode, sizeof(a.mode), "%s", mode);
    a.uid = (char *)uid;
    a.name = (char *)"n";
    a.throttle_rate = -1;
    a.created_at_ms = a.updated_at_ms = 5;
    struct err_detail d = {0};
    assert_int_equal(store_application_insert(s, &a, &d), ERR_OK);
}

static void test_default_applications_hold_v1_endpoints(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    struct store_application a = {0};
    struct err_detail d = {0};
    assert_int_equal(store_application_get(s, "live", "default", &a, &d), ERR_OK);
    assert_string_equal(a.id, STORE_DEFAULT_APP_PREFIX "live");
    store_application_release(&a);
    assert_int_equal(store_application_get(s, "test", "app_default_test", &a, &d), ERR_OK);
    store_application_release(&a);
    assert_int_equal(store_application_get(s, "live", "app_default_test", &a, &d), ERR_NOTFOUND);

    fixture_make_endpoint(s, "ep_a", "test", "https://a.example/", FIXTURE_SECRET, 1);
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(s->db,
                                        "SELECT application_id FROM endpoints WHERE id='ep_a'", -1,
                                        &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "app_default_test");
    sqlite3_finalize(q);
    store_close(s);
}

static void test_uid_lookup_and_uniqueness(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    make_app(s, "app_1", "live", "acme");
    make_app(s, "app_2", "test", "acme"); /* uids are per mode */
    struct store_application a = {0};
    struct err_detail d = {0};
    assert_int_equal(store_application_get(s, "live", "acme", &a, &d), ERR_OK);
    assert_string_equal(a.id, "app_1");
    assert_int_equal(a.throttle_rate, -1);
    store_application_release(&a);

    struct store_application dup = {.uid = (char *)"acme", .name = (char *)"x"};
    snprintf(dup.id, sizeof(dup.id), "app_3");
    snprintf(dup.mode, sizeof(dup.mode), "live");
    assert_int_equal(store_application_insert(s, &dup, &d), ERR_CONFLICT);
    assert_string_equal(d.field, "uid");

    /* a deleted application frees its uid */
    assert_int_equal(store_application_delete(s, "live", "app_1", 9, &d), ERR_OK);
    assert_int_equal(store_application_get(s, "live", "acme", &a, &d), ERR_NOTFOUND);
    assert_int_equal(store_application_insert(s, &dup, &d), ERR_OK);
    assert_int_equal(store_application_delete(s, "live", "app_1", 9, &d), ERR_NOTFOUND);
    store_close(s);
}

static void test_list_pages_both_ways(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    const char *ids[] = {"app_b", "app_a", "app_c"}; /* creation order, not id order */
    for (int i = 0; i < 3; i++)
        make_app(s, ids[i], "test", NULL);
    struct store_application page[2];
    int n = 0;
    bool more = false;
    struct err_detail d = {0};
    assert_int_equal(store_application_list(s, "test", NULL, false, 2, page, &n, &more, &d),
                     ERR_OK);
    assert_int_equal(n, 2);
    assert_true(more);
    assert_string_equal(page[0].id, "app_default_test");
    assert_string_equal(page[1].id, "app_b");
    for (int i = 0; i < n; i++)
        store_application_release(&page[i]);
    assert_int_equal(store_application_list(s, "test", "app_b", false, 2, page, &n, &more, &d),
                     ERR_OK);
    assert_int_equal(n, 2);
    assert_false(more);
    assert_string_equal(page[0].id, "app_a");
    assert_string_equal(page[1].id, "app_c");
    for (int i = 0; i < n; i++)
        store_application_release(&page[i]);
    assert_int_equal(store_application_list(s, "test", "app_a", true, 2, page, &n, &more, &d),
                     ERR_OK);
    assert_int_equal(n, 2);
    assert_string_equal(page[0].id, "app_b");
    assert_string_equal(page[1].id, "app_default_test");
    for (int i = 0; i < n; i++)
        store_application_release(&page[i]);
    assert_int_equal(store_application_list(s, "test", "app_zz", false, 2, page, &n, &more, &d),
                     ERR_INVAL);
    assert_string_equal(d.field, "iterator");
    store_close(s);
}

static void test_delete_takes_the_endpoints(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    make_app(s, "app_x", "live", NULL);
    fixture_make_endpoint(s, "ep_1", "live", "https://1.example/", FIXTURE_SECRET, 1);
    fixture_make_endpoint(s, "ep_2", "live", "https://2.example/", FIXTURE_SECRET, 1);
    fixture_make_endpoint(s, "ep_3", "live", "https://3.example/", FIXTURE_SECRET, 1);
    assert_int_equal(sqlite3_exec(s->db,
                                  "UPDATE endpoints SET application_id = 'app_x' "
                                  "WHERE id IN ('ep_1', 'ep_2')",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    struct err_detail d = {0};
    assert_int_equal(store_application_delete(s, "live", "app_x", 9, &d), ERR_OK);
    struct store_endpoint e = {0};
    assert_int_equal(store_endpoint_get(s, "live", "ep_1", false, &e, &d), ERR_NOTFOUND);
    assert_int_equal(store_endpoint_get(s, "live", "ep_2", false, &e, &d), ERR_NOTFOUND);
    assert_int_equal(store_endpoint_get(s, "live", "ep_3", false, &e, &d), ERR_OK);
    store_endpoint_release(&e);
    store_close(s);
}

static void test_event_types(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    struct store_event_type t = {.name = (char *)"order.created", .created_at_ms = 1};
    snprintf(t.id, sizeof(t.id), "et_1");
    snprintf(t.mode, sizeof(t.mode), "live");
    struct err_detail d = {0};
    assert_int_equal(store_event_type_insert(s, &t, &d), ERR_OK);
    snprintf(t.id, sizeof(t.id), "et_2");
    assert_int_equal(store_event_type_insert(s, &t, &d), ERR_CONFLICT);
    snprintf(t.mode, sizeof(t.mode), "test"); /* names are per mode */
    assert_int_equal(store_event_type_insert(s, &t, &d), ERR_OK);

    struct store_event_type got = {0};
    assert_int_equal(store_event_type_get(s, "live", "order.created", &got, &d), ERR_OK);
    assert_string_equal(got.id, "et_1");
    assert_string_equal(got.description, "");
    got.archived = true;
    assert_int_equal(store_event_type_update(s, &got, &d), ERR_OK);
    store_event_type_release(&got);

    struct store_event_type page[4];
    int n = 0;
    bool more = false;
    assert_int_equal(store_event_type_list(s, "live", NULL, false, 4, page, &n, &more, &d), ERR_OK);
    assert_int_equal(n, 0); /* archived: hidden */
    assert_int_equal(store_event_type_list(s, "live", NULL, true, 4, page, &n, &more, &d), ERR_OK);
    assert_int_equal(n, 1);
    store_event_type_release(&page[0]);
    assert_int_equal(store_event_type_expunge(s, "live", "et_1", &d), ERR_OK);
    assert_int_equal(store_event_type_get(s, "live", "et_1", &got, &d), ERR_NOTFOUND);
    store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_default_applications_hold_v1_endpoints, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_uid_lookup_and_uniqueness, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_pages_both_ways, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_takes_the_endpoints, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_types, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_store_apps - applications and event types in the store (SQLite's
 * store_apps.c, migration 9; PostgreSQL's pg_apps.c with HOOKD_TEST_PG): the
 * default application of each mode holds the /v1 endpoints, lookups by id or
 * uid, uid uniqueness per mode, paging in both orders, and deleting an
 * application deletes its endpoints. The query plans and the statement runs
 * counted by the fan-out cache tests are SQLite's own (checked there only).
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "store/sqlite/sqlite_internal.h"
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
    assert_int_equal(fixture_int(s, "SELECT count(*) FROM endpoints WHERE id = 'ep_a' AND "
                                    "application_id = 'app_default_test'"),
                     1);
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
    fixture_exec(s, "UPDATE endpoints SET application_id = 'app_x' WHERE id IN ('ep_1', 'ep_2')");
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

/* Update (uid kept unique, fields overwritten, NULLs kept as NULL), an id winning over
 * another application's uid, event types by name or id and paged, an idempotency record
 * overwritten in place and found only from its time on, portal tokens by digest. */
static void test_updates_idempotency_portal_tokens(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    struct err_detail d = {0};
    make_app(s, "app_1", "live", "u1");
    make_app(s, "app_2", "live", "app_1"); /* a uid that is another's id */
    struct store_application a = {0};
    assert_int_equal(store_application_get(s, "live", "app_1", &a, &d), ERR_OK);
    assert_string_equal(a.id, "app_1"); /* the id wins */
    assert_null(a.metadata_json);
    free(a.uid);
    a.uid = strdup("u2");
    free(a.metadata_json);
    a.metadata_json = strdup("{\"k\":\"v\"}");
    a.throttle_rate = 7;
    a.updated_at_ms = 99;
    assert_int_equal(store_application_update(s, &a, &d), ERR_OK);
    store_application_release(&a);
    assert_int_equal(store_application_get(s, "live", "u2", &a, &d), ERR_OK);
    assert_string_equal(a.id, "app_1");
    assert_string_equal(a.name, "n");
    assert_string_equal(a.metadata_json, "{\"k\":\"v\"}");
    assert_int_equal(a.throttle_rate, 7);
    assert_int_equal(a.created_at_ms, 5);
    assert_int_equal(a.updated_at_ms, 99);
    free(a.uid);
    a.uid = strdup("app_1"); /* app_2's uid */
    assert_int_equal(store_application_update(s, &a, &d), ERR_CONFLICT);
    assert_string_equal(d.field, "uid");
    snprintf(a.id, sizeof(a.id), "app_nope");
    free(a.uid);
    a.uid = NULL;
    assert_int_equal(store_application_update(s, &a, &d), ERR_NOTFOUND);
    store_application_release(&a);
    assert_int_equal(store_application_get(s, "live", "u1", &a, &d), ERR_NOTFOUND);
    assert_int_equal(store_application_delete(s, "test", "app_1", 9, &d), ERR_NOTFOUND);

    /* event types: a name wins over another type's id; paging by iterator */
    const char *names[] = {"a.one", "et_3", "c.three"};
    for (int i = 0; i < 3; i++) {
        struct store_event_type t = {.name = (char *)names[i], .created_at_ms = 10 + i};
        snprintf(t.id, sizeof(t.id), "et_%d", i + 1);
        snprintf(t.mode, sizeof(t.mode), "live");
        t.deprecated = i == 2;
        t.display_name = (char *)(i == 0 ? "One" : NULL);
        assert_int_equal(store_event_type_insert(s, &t, &d), ERR_OK);
    }
    struct store_event_type got = {0};
    assert_int_equal(store_event_type_get(s, "live", "et_3", &got, &d), ERR_OK);
    assert_string_equal(got.id, "et_2"); /* named "et_3" */
    store_event_type_release(&got);
    assert_int_equal(store_event_type_get(s, "live", "c.three", &got, &d), ERR_OK);
    assert_string_equal(got.name, "c.three");
    assert_true(got.deprecated);
    assert_false(got.archived);
    assert_null(got.display_name);
    assert_null(got.schemas_json);
    assert_int_equal(got.created_at_ms, 12);
    store_event_type_release(&got);
    assert_int_equal(store_event_type_get(s, "test", "c.three", &got, &d), ERR_NOTFOUND);
    struct store_event_type page[2];
    int n = 0;
    bool more = false;
    assert_int_equal(store_event_type_list(s, "live", NULL, false, 2, page, &n, &more, &d), ERR_OK);
    assert_int_equal(n, 2);
    assert_true(more);
    assert_string_equal(page[0].name, "a.one");
    assert_string_equal(page[0].display_name, "One");
    for (int i = 0; i < n; i++)
        store_event_type_release(&page[i]);
    assert_int_equal(store_event_type_list(s, "live", "et_2", false, 2, page, &n, &more, &d),
                     ERR_OK);
    assert_int_equal(n, 1);
    assert_false(more);
    assert_string_equal(page[0].id, "et_3");
    store_event_type_release(&page[0]);
    assert_int_equal(store_event_type_list(s, "live", "et_9", false, 2, page, &n, &more, &d),
                     ERR_INVAL);
    assert_string_equal(d.field, "iterator");
    struct store_event_type ghost = {.name = (char *)"ghost"};
    snprintf(ghost.id, sizeof(ghost.id), "et_9");
    snprintf(ghost.mode, sizeof(ghost.mode), "live");
    assert_int_equal(store_event_type_update(s, &ghost, &d), ERR_NOTFOUND);
    assert_int_equal(store_event_type_expunge(s, "live", "et_9", &d), ERR_NOTFOUND);

    /* idempotency records */
    struct store_idem rec = {.status = 201, .created_at_ms = 1000};
    snprintf(rec.request_sha256, sizeof(rec.request_sha256), "%064d", 1);
    snprintf(rec.resource, sizeof(rec.resource), "msg_1");
    assert_int_equal(store_idem_put(s, "live", "k1", &rec, &d), ERR_OK);
    struct store_idem found = {0};
    assert_int_equal(store_idem_find(s, "live", "k1", 1000, &found, &d), ERR_OK);
    assert_string_equal(found.request_sha256, rec.request_sha256);
    assert_int_equal(found.status, 201);
    assert_string_equal(found.resource, "msg_1");
    assert_int_equal(found.created_at_ms, 1000);
    assert_int_equal(store_idem_find(s, "live", "k1", 1001, &found, &d), ERR_NOTFOUND);
    assert_int_equal(store_idem_find(s, "test", "k1", 0, &found, &d), ERR_NOTFOUND);
    rec.status = 409;
    rec.resource[0] = '\0';
    rec.created_at_ms = 2000;
    assert_int_equal(store_idem_put(s, "live", "k1", &rec, &d), ERR_OK); /* replaced */
    assert_int_equal(store_idem_find(s, "live", "k1", 1500, &found, &d), ERR_OK);
    assert_int_equal(found.status, 409);
    assert_string_equal(found.resource, "");
    assert_int_equal(fixture_int(s, "SELECT count(*) FROM idempotency"), 1);

    /* portal tokens */
    struct store_portal_token t = {.expires_at_ms = 5000, .created_at_ms = 1000};
    snprintf(t.id, sizeof(t.id), "ptok_1");
    snprintf(t.mode, sizeof(t.mode), "live");
    snprintf(t.application_id, sizeof(t.application_id), "app_1");
    snprintf(t.scopes, sizeof(t.scopes), "read");
    t.allowed_ips_json = (char *)"[\"10.0.0.0/8\"]";
    uint8_t sha[32];
    memset(sha, 0xab, sizeof(sha));
    assert_int_equal(store_portal_token_insert(s, &t, sha, &d), ERR_OK);
    struct store_portal_token pt;
    assert_int_equal(store_portal_token_find(s, sha, &pt, &d), ERR_OK);
    assert_string_equal(pt.id, "ptok_1");
    assert_string_equal(pt.application_id, "app_1");
    assert_string_equal(pt.name, "");
    assert_string_equal(pt.scopes, "read");
    assert_string_equal(pt.allowed_ips_json, "[\"10.0.0.0/8\"]");
    assert_int_equal(pt.expires_at_ms, 5000);
    assert_int_equal(pt.revoked_at_ms, 0);
    assert_int_equal(pt.created_at_ms, 1000);
    store_portal_token_release(&pt);
    sha[31] = 0;
    assert_int_equal(store_portal_token_find(s, sha, &pt, &d), ERR_NOTFOUND);
    assert_string_equal(d.code, "UNAUTHORIZED");

    /* a second, newer token of app_1 with its prefix; one of another application */
    snprintf(t.id, sizeof(t.id), "ptok_2");
    snprintf(t.prefix, sizeof(t.prefix), "whpt_0123456");
    t.created_at_ms = 2000;
    assert_int_equal(store_portal_token_insert(s, &t, sha, &d), ERR_OK);
    snprintf(t.id, sizeof(t.id), "ptok_3");
    snprintf(t.application_id, sizeof(t.application_id), "app_2");
    sha[30] = 0;
    assert_int_equal(store_portal_token_insert(s, &t, sha, &d), ERR_OK);
    struct store_portal_token list[4];
    int nt = 0;
    assert_int_equal(store_portal_token_list(s, "live", "app_1", 4, list, &nt, &d), ERR_OK);
    assert_int_equal(nt, 2);
    assert_string_equal(list[0].id, "ptok_2"); /* newest first */
    assert_string_equal(list[0].prefix, "whpt_0123456");
    assert_string_equal(list[1].id, "ptok_1");
    assert_string_equal(list[1].prefix, "");
    for (int i = 0; i < nt; i++)
        store_portal_token_release(&list[i]);
    assert_int_equal(store_portal_token_list(s, "live", "app_1", 1, list, &nt, &d), ERR_OK);
    assert_int_equal(nt, 1);
    store_portal_token_release(&list[0]);
    assert_int_equal(store_portal_token_list(s, "test", "app_1", 4, list, &nt, &d), ERR_OK);
    assert_int_equal(nt, 0);

    /* revoking: at once, the first time kept, unknown ids and other modes refused */
    assert_int_equal(store_portal_token_revoke(s, "live", "ptok_1", 7000, &d), ERR_OK);
    assert_int_equal(store_portal_token_revoke(s, "live", "ptok_1", 9000, &d), ERR_OK);
    memset(sha, 0xab, sizeof(sha));
    assert_int_equal(store_portal_token_find(s, sha, &pt, &d), ERR_OK);
    assert_int_equal(pt.revoked_at_ms, 7000);
    store_portal_token_release(&pt);
    assert_int_equal(store_portal_token_revoke(s, "live", "ptok_none", 7000, &d), ERR_NOTFOUND);
    assert_int_equal(store_portal_token_revoke(s, "test", "ptok_2", 7000, &d), ERR_NOTFOUND);
    store_close(s);
}

/* Publish an event of app_x (payload {"n":1}, purged when finished, at t=now) with
 * one message per endpoint id. */
static int64_t publish(struct store *s, const char *const *eps, int n, const char *public_id)
{
    struct store_event_in ev = {.event_type = "t.x",
                                .payload = "{\"n\":1}",
                                .payload_len = 7,
                                .content_type = "application/json",
                                .payload_sha256 = "00",
                                .now_ms = 1000,
                                .payload_expires_at_ms = 1000};
    snprintf(ev.public_id, sizeof(ev.public_id), "%s", public_id);
    snprintf(ev.mode, sizeof(ev.mode), "live");
    snprintf(ev.application_id, sizeof(ev.application_id), "app_x");
    int64_t rowid = 0;
    struct err_detail d = {0};
    assert_int_equal(store_event_insert(s, &ev, &rowid, &d), ERR_OK);
    for (int i = 0; i < n; i++) {
        char id[ID_MAX]; /* UUID-shaped: the first is old (history), the second new */
        snprintf(id, sizeof(id), "%s-0000-7000-8000-00000000000%c",
                 i == 0 ? "00000000" : "ffffffff", public_id[4]);
        assert_int_equal(store_event_message_insert(s, &ev, rowid, id, eps[i], NULL, NULL, &d),
                         ERR_OK);
    }
    return rowid;
}

static bool has_payload(struct store *s, const char *message_id)
{
    struct store_delivery dl = {0};
    struct err_detail d = {0};
    enum err e = store_delivery_load(s, message_id, &dl, &d);
    bool yes = e == ERR_OK && dl.payload && dl.payload_len > 0;
    store_delivery_release(&dl);
    return yes;
}

/* A published event's payload is shared by its messages: deleting one message, or
 * purging one that finished, keeps it for the others (it goes with the last). */
static void test_shared_payload_goes_with_the_last_message(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    make_app(s, "app_x", "live", NULL);
    fixture_make_endpoint(s, "ep_1", "live", "https://1.example/", FIXTURE_SECRET, 1);
    fixture_make_endpoint(s, "ep_2", "live", "https://2.example/", FIXTURE_SECRET, 1);
    const char *eps[] = {"ep_1", "ep_2"};
    publish(s, eps, 2, "msg_a");
    struct err_detail d = {0};
    bool already = false;
    int64_t at = 0;
    assert_int_equal(store_message_delete(s, "live", "00000000-0000-7000-8000-00000000000a", 2000,
                                          &at, &already, &d),
                     ERR_OK);
    assert_true(has_payload(s, "ffffffff-0000-7000-8000-00000000000a"));
    assert_int_equal(store_message_delete(s, "live", "ffffffff-0000-7000-8000-00000000000a", 2000,
                                          &at, &already, &d),
                     ERR_OK);
    struct store_event ev = {0};
    assert_int_equal(store_event_get(s, "app_x", "msg_a", &ev, &d), ERR_OK);
    assert_null(ev.payload); /* the last one took it */
    store_event_release(&ev);

    /* retention: only finished messages are purged, and the payload stays while one waits */
    publish(s, eps, 2, "msg_b");
    fixture_exec(
        s, "UPDATE messages SET status = 2 WHERE id = '00000000-0000-7000-8000-00000000000b'");
    int n = 0;
    assert_int_equal(store_retention_purge_payloads(s, 5000, 100, &n, &d), ERR_OK);
    assert_int_equal(n, 1);
    assert_true(has_payload(s, "ffffffff-0000-7000-8000-00000000000b"));
    fixture_exec(
        s, "UPDATE messages SET status = 2 WHERE id = 'ffffffff-0000-7000-8000-00000000000b'");
    assert_int_equal(store_retention_purge_payloads(s, 5000, 100, &n, &d), ERR_OK);
    assert_int_equal(store_event_get(s, "app_x", "msg_b", &ev, &d), ERR_OK);
    assert_null(ev.payload);
    store_event_release(&ev);

    /* history: the old message of each event goes; both events stay for the other */
    assert_int_equal(store_retention_delete_history(s, 1000, 100, &n, &d), ERR_OK);
    assert_int_equal(n, 2);
    assert_int_equal(fixture_int(s, "SELECT count(*) FROM events WHERE public_id IS NOT NULL"), 2);
    store_close(s);
}

/* Published events that reached no endpoint go at history retention by their own
 * index; one that got a message later (a resend) goes with its message instead. */
static void test_orphan_events_go_at_history_retention(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    make_app(s, "app_x", "live", NULL);
    fixture_make_endpoint(s, "ep_1", "live", "https://1.example/", FIXTURE_SECRET, 1);
    const char *none[] = {NULL};
    int64_t lonely = publish(s, none, 0, "msg_l");
    int64_t adopted = publish(s, none, 0, "msg_a");
    struct err_detail d = {0};
    assert_int_equal(store_event_set_orphan(s, lonely, true, &d), ERR_OK);
    assert_int_equal(store_event_set_orphan(s, adopted, true, &d), ERR_OK);
    assert_int_equal(store_event_set_orphan(s, adopted, false, &d), ERR_OK); /* a resend */
    int n = 0;
    assert_int_equal(store_retention_delete_history(s, 500, 100, &n, &d), ERR_OK);
    assert_int_equal(n, 0); /* created at 1000: not before the boundary yet */
    assert_int_equal(store_retention_delete_history(s, 5000, 100, &n, &d), ERR_OK);
    assert_int_equal(n, 1);
    struct store_event ev = {0};
    assert_int_equal(store_event_get(s, "app_x", "msg_l", &ev, &d), ERR_NOTFOUND);
    assert_int_equal(store_event_get(s, "app_x", "msg_a", &ev, &d), ERR_OK);
    store_event_release(&ev);
    store_close(s);
}

/* The plan of sql has a line containing want (EXPLAIN QUERY PLAN). */
static bool plan_has(struct store *s, const char *sql, const char *want, char *plan, size_t len)
{
    char explain[2048];
    snprintf(explain, sizeof(explain), "EXPLAIN QUERY PLAN %s", sql);
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(sqlite_of(s)->db, explain, -1, &q, NULL), SQLITE_OK);
    bool found = false;
    plan[0] = '\0';
    while (sqlite3_step(q) == SQLITE_ROW) {
        const char *detail = (const char *)sqlite3_column_text(q, 3);
        found = found || strstr(detail, want);
        strncat(plan, detail, len - strlen(plan) - 2);
        strncat(plan, ";", len - strlen(plan) - 1);
    }
    sqlite3_finalize(q);
    return found;
}

/* Lookups by id or uid go through their unique indexes, whatever the number of
 * applications (an OR of id and uid once made SQLite walk every application of the
 * mode on every publish). */
static void test_lookups_use_their_indexes(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    FIXTURE_SQLITE_ONLY(s); /* SQLite's query plans */
    make_app(s, "app_x", "live", "ux");
    fixture_make_endpoint(s, "ep_1", "live", "https://1.example/", FIXTURE_SECRET, 1);
    struct err_detail d = {0};
    struct store_application a = {0};
    assert_int_equal(store_application_get(s, "live", "ux", &a, &d), ERR_OK); /* both passes */
    store_application_release(&a);
    struct store_endpoint e = {0};
    assert_int_equal(store_endpoint_find(s, "live", "app_default_live", "nope", &e, &d),
                     ERR_NOTFOUND);
    struct store_event ev = {0};
    assert_int_equal(store_event_get(s, "app_x", "msg_nope", &ev, &d), ERR_NOTFOUND);
    struct store_event_type t = {0};
    assert_int_equal(store_event_type_get(s, "live", "nope", &t, &d), ERR_NOTFOUND);
    struct store_candidate *c = NULL;
    size_t nc = 0;
    assert_int_equal(store_publish_candidates(s, "app_x", &c, &nc, &d), ERR_OK);
    store_candidates_free(c, nc);
    static const struct {
        const char *sql_has, *plan_has;
    } want[] = {
        {"FROM applications WHERE id = ?2", "sqlite_autoindex_applications_1"},
        {"FROM applications WHERE mode = ?1 AND uid = ?2", "applications_uid"},
        {"FROM endpoints WHERE id = ?3", "sqlite_autoindex_endpoints_1"},
        {"FROM endpoints WHERE application_id = ?2 AND uid = ?3", "endpoints_uid"},
        {"FROM events WHERE application_id = ?1 AND (public_id", "events_public"},
        {"FROM event_types WHERE mode = ?1 AND (name", "event_types_name"},
        {"FROM endpoints e WHERE e.application_id = ?1", "endpoints_application"},
    };
    for (size_t w = 0; w < sizeof(want) / sizeof(want[0]); w++) {
        bool seen = false;
        for (int i = 0; i < sqlite_of(s)->ncache; i++) {
            if (!strstr(sqlite_of(s)->cache[i].sql, want[w].sql_has))
                continue;
            seen = true;
            char plan[1024];
            if (!plan_has(s, sqlite_of(s)->cache[i].sql, want[w].plan_has, plan, sizeof(plan)))
                fail_msg("%s: plan '%s' does not use %s", sqlite_of(s)->cache[i].sql, plan,
                         want[w].plan_has);
        }
        if (!seen)
            fail_msg("no statement with '%s' was prepared", want[w].sql_has);
    }
    store_close(s);
}

/* Runs of the candidates statement so far on s (prepared once per connection); 0 on
 * PostgreSQL, which counts no runs (and keeps no fan-out cache). */
static int candidate_reads(struct store *s)
{
    if (fixture_is_pg(s))
        return 0;
    for (int i = 0; i < sqlite_of(s)->ncache; i++)
        if (strstr(sqlite_of(s)->cache[i].sql, "FROM endpoints e WHERE e.application_id"))
            return sqlite3_stmt_status(sqlite_of(s)->cache[i].q, SQLITE_STMTSTATUS_RUN, 0);
    return 0;
}

/* The reads a fan-out took were want: checked on SQLite only (its cache). */
#define assert_reads(s, reads, want)                                                               \
    do {                                                                                           \
        if (!fixture_is_pg(s))                                                                     \
            assert_int_equal((reads), (want));                                                     \
    } while (0)

static void exec(struct store *s, const char *sql)
{
    fixture_exec(s, sql);
}

/* store_fanout_get of app (live) inside the current batch: the number of candidates
 * (-1: not found), the event types of the first in types, and *reads the candidate
 * reads it took. */
static int fanout_in_batch(struct store *s, const char *app, char *types, size_t len, int *reads)
{
    int before = candidate_reads(s);
    struct err_detail d = {0};
    const struct store_fanout *f = NULL;
    enum err e = store_fanout_get(s, "live", app, &f, &d);
    *reads = candidate_reads(s) - before;
    if (e == ERR_NOTFOUND)
        return -1;
    assert_int_equal(e, ERR_OK);
    if (types)
        snprintf(types, len, "%s",
                 f->n && f->cands[0].event_types_json ? f->cands[0].event_types_json : "");
    return (int)f->n;
}

/* The same in a batch of its own. */
static int fanout(struct store *s, const char *app, char *types, size_t len, int *reads)
{
    struct err_detail d = {0};
    assert_int_equal(store_batch_begin(s, &d), ERR_OK);
    int n = fanout_in_batch(s, app, types, len, reads);
    assert_int_equal(store_batch_commit(s, &d), ERR_OK);
    return n;
}

/* The committer keeps an application's candidate endpoints between publishes: they are
 * read again after any change to an endpoint, a subscription or the application, and
 * after a rollback of what was read inside it; never kept outside a batch. */
static void test_fanout_cache_follows_changes(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    make_app(s, "app_x", "live", "ux");
    fixture_make_endpoint(s, "ep_1", "live", "https://1.example/", FIXTURE_SECRET, 1);
    fixture_make_endpoint(s, "ep_2", "live", "https://2.example/", FIXTURE_SECRET, 1);
    exec(s, "UPDATE endpoints SET application_id = 'app_x' WHERE id IN ('ep_1', 'ep_2')");
    int reads = 0;
    char types[128];
    assert_int_equal(fanout(s, "ux", NULL, 0, &reads), 2);
    assert_reads(s, reads, 1);
    assert_int_equal(fanout(s, "ux", NULL, 0, &reads), 2); /* kept */
    assert_reads(s, reads, 0);
    assert_int_equal(fanout(s, "app_x", NULL, 0, &reads), 2); /* by id: a key of its own */
    assert_reads(s, reads, 1);

    /* an endpoint made, disabled, deleted */
    fixture_make_endpoint(s, "ep_3", "live", "https://3.example/", FIXTURE_SECRET, 1);
    exec(s, "UPDATE endpoints SET application_id = 'app_x' WHERE id = 'ep_3'");
    assert_int_equal(fanout(s, "ux", NULL, 0, &reads), 3);
    assert_reads(s, reads, 1);
    exec(s, "UPDATE endpoints SET disabled = 1 WHERE id = 'ep_3'");
    assert_int_equal(fanout(s, "ux", NULL, 0, &reads), 2);
    struct err_detail d = {0};
    assert_int_equal(store_endpoint_delete(s, "live", "ep_2", 2000, &d), ERR_OK);
    assert_int_equal(fanout(s, "ux", NULL, 0, &reads), 1);

    /* subscriptions alone */
    exec(s, "UPDATE endpoints SET all_event_types = 0 WHERE id = 'ep_1';"
            "INSERT INTO subscriptions (id, endpoint_id, event_type, created_at) "
            "VALUES ('sub_1', 'ep_1', 'a.b', 1)");
    assert_int_equal(fanout(s, "ux", types, sizeof(types), &reads), 1);
    assert_string_equal(types, "[\"a.b\"]");
    assert_int_equal(fanout(s, "ux", types, sizeof(types), &reads), 1);
    assert_reads(s, reads, 0);
    exec(s, "INSERT INTO subscriptions (id, endpoint_id, event_type, created_at) "
            "VALUES ('sub_2', 'ep_1', 'c.d', 1)");
    assert_int_equal(fanout(s, "ux", types, sizeof(types), &reads), 1);
    assert_string_equal(types, "[\"a.b\",\"c.d\"]");
    exec(s, "UPDATE subscriptions SET enabled = 0 WHERE id = 'sub_1'");
    assert_int_equal(fanout(s, "ux", types, sizeof(types), &reads), 1);
    assert_string_equal(types, "[\"c.d\"]");

    /* a change read inside an op, then rolled back with it; then with its batch */
    assert_int_equal(store_batch_begin(s, &d), ERR_OK);
    assert_int_equal(store_op_begin(s, &d), ERR_OK);
    exec(s, "UPDATE endpoints SET disabled = 0 WHERE id = 'ep_3'");
    assert_int_equal(fanout_in_batch(s, "ux", NULL, 0, &reads), 2);
    assert_int_equal(store_op_end(s, false, &d), ERR_OK);
    assert_int_equal(fanout_in_batch(s, "ux", NULL, 0, &reads), 1);
    assert_reads(s, reads, 1);
    exec(s, "UPDATE endpoints SET disabled = 0 WHERE id = 'ep_3'");
    assert_int_equal(fanout_in_batch(s, "ux", NULL, 0, &reads), 2);
    store_batch_rollback(s);
    assert_int_equal(fanout(s, "ux", NULL, 0, &reads), 1);
    assert_reads(s, reads, 1);

    /* outside a batch nothing is kept */
    assert_int_equal(fanout_in_batch(s, "ux", NULL, 0, &reads), 1);
    assert_int_equal(fanout_in_batch(s, "ux", NULL, 0, &reads), 1);
    assert_reads(s, reads, 1);

    /* the application deleted */
    assert_int_equal(fanout(s, "ux", NULL, 0, &reads), 1);
    exec(s, "UPDATE applications SET deleted_at = 3000 WHERE id = 'app_x'");
    assert_int_equal(fanout(s, "ux", NULL, 0, &reads), -1);
    store_close(s);
}

/* Runs of the application-by-id statement so far on s (0 before its first use; 0
 * always on PostgreSQL). */
static int app_reads(struct store *s)
{
    if (fixture_is_pg(s))
        return 0;
    for (int i = 0; i < sqlite_of(s)->ncache; i++)
        if (strstr(sqlite_of(s)->cache[i].sql, "FROM applications") &&
            strstr(sqlite_of(s)->cache[i].sql, "id = ?2"))
            return sqlite3_stmt_status(sqlite_of(s)->cache[i].q, SQLITE_STMTSTATUS_RUN, 0);
    return 0;
}

/* An application that does not exist is kept as absent too (the operational
 * application, looked for at attempts, usually is): no read until an
 * application row changes; and the operational application's slot is its own,
 * so looking for it never pushes a published application out. */
static void test_fanout_cache_keeps_an_absence(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    int reads = 0;
    assert_int_equal(fanout(s, "app_ops_live", NULL, 0, &reads), -1);
    int before = app_reads(s);
    assert_int_equal(fanout(s, "app_ops_live", NULL, 0, &reads), -1);
    assert_int_equal(fanout(s, "app_ops_live", NULL, 0, &reads), -1);
    assert_int_equal(app_reads(s), before); /* kept: not read again */

    make_app(s, "app_y", "live", "uy");
    make_app(s, "app_ops_live", "live", "ops");
    assert_int_equal(fanout(s, "app_ops_live", NULL, 0, &reads), 0); /* made: seen at once */
    assert_int_equal(fanout(s, "app_y", NULL, 0, &reads), 0);
    assert_reads(s, reads, 1);
    assert_int_equal(fanout(s, "app_ops_live", NULL, 0, &reads), 0);
    assert_reads(s, reads, 0);
    assert_int_equal(fanout(s, "app_y", NULL, 0, &reads), 0); /* still kept */
    assert_reads(s, reads, 0);
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
        cmocka_unit_test_setup_teardown(test_updates_idempotency_portal_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shared_payload_goes_with_the_last_message, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_lookups_use_their_indexes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_orphan_events_go_at_history_retention, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fanout_cache_follows_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fanout_cache_keeps_an_absence, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_store_endpoint_state - endpoints (insert, get, update, find, lists, delete),
 * their sealed secrets, the pause flag and signing-key rotation; on SQLite, and on
 * PostgreSQL with HOOKD_TEST_PG. */
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

/* The secret of the signing key each endpoint is created with. */
#define FIRST_SECRET "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAfirst"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    return fixture_setup_dir(dir, sizeof(dir), "epstate");
}

static int teardown(void **state)
{
    (void)state;
    return fixture_remove_dir(dir);
}

static struct store_signing_key a_key(const char *id, const char *secret, int64_t at_ms)
{
    struct store_signing_key k = {0};
    snprintf(k.id, sizeof(k.id), "%s", id);
    snprintf(k.secret, sizeof(k.secret), "%s", secret);
    k.created_at_ms = at_ms;
    return k;
}

static void send_one(struct store *s, const char *msg_id, const char *ep)
{
    struct store_send in = {0};
    snprintf(in.message_id, sizeof(in.message_id), "%s", msg_id);
    in.endpoint_id = ep;
    in.mode = "live";
    in.payload = "{}";
    in.payload_len = 2;
    in.content_type = "application/json";
    in.idempotency_key = "";
    in.payload_sha256 = "00";
    in.retention_hours = -1;
    in.now_ms = 2000;
    char existing[ID_MAX];
    bool existed = false;
    struct err_detail d = {0};
    assert_int_equal(store_send_insert(s, &in, existing, &existed, &d), ERR_OK);
}

static void test_pause_resume(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    struct err_detail d = {0};
    fixture_make_endpoint(s, "ep_p", "live", "https://example.com/p", FIRST_SECRET, 1000);
    fixture_make_endpoint(s, "ep_q", "live", "https://example.com/q", FIRST_SECRET, 1000);
    fixture_make_endpoint(s, "ep_t", "test", "https://example.com/t", FIRST_SECRET, 1000);
    send_one(s, "m1", "ep_p");
    send_one(s, "m2", "ep_p");
    send_one(s, "m3", "ep_q");

    assert_int_equal(store_endpoint_set_paused(s, "live", "ep_p", true, 5000, NULL, &d), ERR_OK);
    struct store_endpoint e = {0};
    assert_int_equal(store_endpoint_get(s, "live", "ep_p", false, &e, &d), ERR_OK);
    assert_true(e.paused);
    assert_int_equal(e.updated_at_ms, 5000);
    store_endpoint_release(&e);

    /* Pausing again changes nothing, not even updated_at. */
    assert_int_equal(store_endpoint_set_paused(s, "live", "ep_p", true, 6000, NULL, &d), ERR_OK);
    assert_int_equal(store_endpoint_get(s, "live", "ep_p", false, &e, &d), ERR_OK);
    assert_int_equal(e.updated_at_ms, 5000);
    store_endpoint_release(&e);

    /* Resume counts this endpoint's unfinished messages only. */
    int64_t n = -1;
    assert_int_equal(store_endpoint_set_paused(s, "live", "ep_p", false, 7000, &n, &d), ERR_OK);
    assert_int_equal(n, 2);
    assert_int_equal(store_endpoint_get(s, "live", "ep_p", false, &e, &d), ERR_OK);
    assert_false(e.paused);
    assert_int_equal(e.updated_at_ms, 7000);
    store_endpoint_release(&e);

    /* A finished message is not counted. */
    struct store_attempt a = {0};
    snprintf(a.id, sizeof(a.id), "at1");
    snprintf(a.message_id, sizeof(a.message_id), "m1");
    a.attempt_no = 1;
    a.created_at_ms = 8000;
    a.response_status = 200;
    a.retry_after_seconds = -1;
    a.dns_ms = a.tcp_connect_ms = a.tls_handshake_ms = a.ttfb_ms = a.transfer_ms = -1;
    assert_int_equal(store_attempt_record(s, &a, STATUS_SUCCEEDED, 0, 0, &d), ERR_OK);
    assert_int_equal(store_endpoint_set_paused(s, "live", "ep_p", false, 9000, &n, &d), ERR_OK);
    assert_int_equal(n, 1);

    /* Other mode, unknown and deleted endpoints are not found. */
    assert_int_equal(store_endpoint_set_paused(s, "live", "ep_t", true, 9000, NULL, &d),
                     ERR_NOTFOUND);
    assert_string_equal(d.code, "ENDPOINT_NOT_FOUND");
    assert_int_equal(store_endpoint_set_paused(s, "live", "ep_zz", true, 9000, NULL, &d),
                     ERR_NOTFOUND);
    assert_int_equal(store_endpoint_delete(s, "live", "ep_q", 9000, &d), ERR_OK);
    assert_int_equal(store_endpoint_set_paused(s, "live", "ep_q", true, 9500, &n, &d),
                     ERR_NOTFOUND);
    store_close(s);
}

static void test_signing_keys(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    struct err_detail d = {0};
    fixture_make_endpoint(s, "ep_k", "live", "https://example.com/k", FIRST_SECRET, 1000);
    fixture_make_endpoint(s, "ep_o", "live", "https://example.com/o", FIRST_SECRET, 1000);

    struct store_signing_key_info list[STORE_MAX_ACTIVE_KEYS];
    int n = -1;
    assert_int_equal(store_signing_key_list(s, "live", "ep_k", 0, list, 2, &n, &d), ERR_OK);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].id, "sk_ep_k");
    assert_string_equal(list[0].key_hint, "irst");

    struct store_signing_key k2 =
        a_key("sk_two", "whsec_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBsecond", 1000);
    assert_int_equal(store_signing_key_add(s, "live", "ep_k", &k2, &d), ERR_OK);
    struct store_signing_key k3 =
        a_key("sk_three", "whsec_CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCthird", 3000);
    assert_int_equal(store_signing_key_add(s, "live", "ep_k", &k3, &d), ERR_CONFLICT);
    assert_string_equal(d.code, "SIGNING_KEY_LIMIT");
    assert_int_equal(store_signing_key_add(s, "test", "ep_k", &k3, &d), ERR_NOTFOUND);
    assert_string_equal(d.code, "ENDPOINT_NOT_FOUND");

    /* Same created_at: insertion order decides. The dispatcher sees both. */
    assert_int_equal(store_signing_key_list(s, "live", "ep_k", 0, list, 2, &n, &d), ERR_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].id, "sk_ep_k");
    assert_string_equal(list[1].id, "sk_two");
    assert_string_equal(list[1].key_hint, "cond");
    struct store_signing_key active[STORE_MAX_ACTIVE_KEYS];
    assert_int_equal(store_signing_keys_active(s, "ep_k", 0, active, &n, &d), ERR_OK);
    assert_int_equal(n, 2);

    /* Delete: unknown key, a key of another endpoint, then a real one. */
    assert_int_equal(store_signing_key_delete(s, "live", "ep_k", "sk_nope", 4000, &d),
                     ERR_NOTFOUND);
    assert_string_equal(d.code, "SIGNING_KEY_NOT_FOUND");
    assert_int_equal(store_signing_key_delete(s, "live", "ep_k", "sk_ep_o", 4000, &d),
                     ERR_NOTFOUND);
    assert_int_equal(store_signing_key_delete(s, "live", "ep_k", "sk_ep_k", 4000, &d), ERR_OK);
    assert_int_equal(store_signing_keys_active(s, "ep_k", 0, active, &n, &d), ERR_OK);
    assert_int_equal(n, 1);
    assert_string_equal(active[0].id, "sk_two");
    assert_string_equal(active[0].secret, "whsec_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBsecond");

    /* The last key stays. */
    assert_int_equal(store_signing_key_delete(s, "live", "ep_k", "sk_two", 4000, &d), ERR_CONFLICT);
    assert_string_equal(d.code, "LAST_SIGNING_KEY");
    assert_int_equal(store_signing_key_delete(s, "live", "ep_k", "sk_ep_k", 4000, &d),
                     ERR_NOTFOUND);

    /* A slot is free again. */
    assert_int_equal(store_signing_key_add(s, "live", "ep_k", &k3, &d), ERR_OK);
    assert_int_equal(store_signing_key_list(s, "live", "ep_k", 0, list, 2, &n, &d), ERR_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[1].id, "sk_three");

    /* A deleted endpoint has no keys to list. */
    assert_int_equal(store_endpoint_delete(s, "live", "ep_o", 5000, &d), ERR_OK);
    assert_int_equal(store_signing_key_list(s, "live", "ep_o", 0, list, 2, &n, &d), ERR_NOTFOUND);
    assert_string_equal(d.code, "ENDPOINT_NOT_FOUND");
    assert_int_equal(store_signing_key_list(s, "test", "ep_k", 0, list, 2, &n, &d), ERR_NOTFOUND);
    store_close(s);
}

/* Rotation: the key that was newest keeps signing until its expiry, beside the
 * new one; a third key drops the oldest at once; expired keys are not active
 * for anything (signing, listing, the two-key limit, the last-key rule). */
static void test_signing_key_rotate(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    struct err_detail d = {0};
    fixture_make_endpoint(s, "ep_r", "live", "https://example.com/r", FIRST_SECRET, 1000);
    struct store_signing_key active[STORE_MAX_ACTIVE_KEYS];
    struct store_signing_key_info list[STORE_MAX_ACTIVE_KEYS];
    int n = -1;

    struct store_signing_key k2 =
        a_key("sk_r2", "whsec_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBsecond", 2000);
    assert_int_equal(store_signing_key_rotate(s, "test", "ep_r", &k2, 1000, &d), ERR_NOTFOUND);
    assert_int_equal(store_signing_key_rotate(s, "live", "ep_r", &k2, 1000, &d), ERR_OK);
    assert_int_equal(store_signing_keys_active(s, "ep_r", 2999, active, &n, &d), ERR_OK);
    assert_int_equal(n, 2);
    assert_string_equal(active[0].id, "sk_ep_r");
    assert_int_equal(active[0].expires_at_ms, 3000);
    assert_string_equal(active[1].id, "sk_r2");
    assert_int_equal(active[1].expires_at_ms, 0);
    /* the new key is not the last one that lasts: the overlapping one expires */
    assert_int_equal(store_signing_key_delete(s, "live", "ep_r", "sk_r2", 2500, &d), ERR_CONFLICT);
    assert_string_equal(d.code, "LAST_SIGNING_KEY");
    assert_int_equal(store_signing_key_add(s, "live", "ep_r", &k2, &d), ERR_CONFLICT);
    assert_string_equal(d.code, "SIGNING_KEY_LIMIT");
    /* at its expiry the old key is gone everywhere */
    assert_int_equal(store_signing_keys_active(s, "ep_r", 3000, active, &n, &d), ERR_OK);
    assert_int_equal(n, 1);
    assert_string_equal(active[0].id, "sk_r2");
    assert_int_equal(store_signing_key_list(s, "live", "ep_r", 3000, list, 2, &n, &d), ERR_OK);
    assert_int_equal(n, 1);
    assert_int_equal(store_signing_key_delete(s, "live", "ep_r", "sk_ep_r", 3000, &d),
                     ERR_NOTFOUND);

    /* two active (the overlap): a rotation drops the older at once */
    struct store_signing_key k3 =
        a_key("sk_r3", "whsec_CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCthird", 2500);
    assert_int_equal(store_signing_key_rotate(s, "live", "ep_r", &k3, 1000, &d), ERR_OK);
    assert_int_equal(store_signing_keys_active(s, "ep_r", 2600, active, &n, &d), ERR_OK);
    assert_int_equal(n, 2);
    assert_string_equal(active[0].id, "sk_r2");
    assert_int_equal(active[0].expires_at_ms, 3500);
    assert_string_equal(active[1].id, "sk_r3");
    assert_string_equal(active[1].secret, "whsec_CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCthird");

    /* past the overlap a /v1 key fits again: the expired one does not count */
    struct store_signing_key k4 =
        a_key("sk_r4", "whsec_DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDfourth", 3600);
    assert_int_equal(store_signing_key_add(s, "live", "ep_r", &k4, &d), ERR_OK);

    /* no overlap: every other key is retired at once */
    struct store_signing_key k5 =
        a_key("sk_r5", "whsec_EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEfifth", 3700);
    assert_int_equal(store_signing_key_rotate(s, "live", "ep_r", &k5, 0, &d), ERR_OK);
    assert_int_equal(store_signing_keys_active(s, "ep_r", 0, active, &n, &d), ERR_OK);
    assert_int_equal(n, 1);
    assert_string_equal(active[0].id, "sk_r5");
    store_close(s);
}

static struct store_endpoint an_endpoint(const char *id, const char *mode, const char *app,
                                         const char *url)
{
    struct store_endpoint e = {0};
    snprintf(e.id, sizeof(e.id), "%s", id);
    snprintf(e.mode, sizeof(e.mode), "%s", mode);
    snprintf(e.application_id, sizeof(e.application_id), "%s", app);
    e.url = (char *)url;
    e.hmac_enabled = true;
    e.all_event_types = true;
    e.created_at_ms = e.updated_at_ms = 1000;
    return e;
}

static void insert_ok(struct store *s, struct store_endpoint *e)
{
    struct store_signing_key k = a_key("", FIRST_SECRET, 1000);
    snprintf(k.id, sizeof(k.id), "sk_%.40s", e->id);
    struct err_detail d = {0};
    assert_int_equal(store_endpoint_insert(s, e, &k, &d), ERR_OK);
}

/* Insert, get, update, find and delete; the conflicts each reports; event types
 * come back in the order written. */
static void test_endpoint_crud(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    struct err_detail d = {0};
    struct store_endpoint e = an_endpoint("ep_c1", "live", "", "https://example.com/c");
    e.description = (char *)"first";
    e.headers_json = (char *)"{\"X-A\":\"1\"}";
    e.rate_limit_rps = 5;
    e.burst = 7;
    e.all_event_types = false;
    e.event_types_json = (char *)"[\"z.last\",\"a.first\",\"m.*\"]";
    e.channels_json = (char *)"[\"ch\"]";
    e.metadata_json = (char *)"{\"k\":\"v\"}";
    e.policy_json = (char *)"{\"retry\":{}}";
    insert_ok(s, &e);

    struct store_endpoint g = {0};
    assert_int_equal(store_endpoint_get(s, "live", "ep_c1", false, &g, &d), ERR_OK);
    assert_string_equal(g.id, "ep_c1");
    assert_string_equal(g.url, "https://example.com/c");
    assert_string_equal(g.description, "first");
    assert_string_equal(g.headers_json, "{\"X-A\":\"1\"}");
    assert_int_equal(g.rate_limit_rps, 5);
    assert_int_equal(g.burst, 7);
    assert_true(g.hmac_enabled);
    assert_false(g.paused);
    assert_false(g.all_event_types);
    assert_string_equal(g.event_types_json, "[\"z.last\",\"a.first\",\"m.*\"]");
    assert_string_equal(g.application_id, "app_default_live");
    assert_null(g.uid);
    assert_string_equal(g.channels_json, "[\"ch\"]");
    assert_null(g.filter_json);
    assert_string_equal(g.metadata_json, "{\"k\":\"v\"}");
    assert_string_equal(g.policy_json, "{\"retry\":{}}");
    assert_string_equal(g.disabled_reason, "");
    assert_int_equal(g.deleted_at_ms, 0);
    assert_int_equal(g.circuit_state, 0);
    store_endpoint_release(&g);
    assert_int_equal(store_endpoint_get(s, "test", "ep_c1", false, &g, &d), ERR_NOTFOUND);
    assert_string_equal(d.code, "ENDPOINT_NOT_FOUND");
    assert_int_equal(store_endpoint_get(s, NULL, "ep_c1", false, &g, &d), ERR_OK);
    store_endpoint_release(&g);

    /* The same URL in the default application, the same id, the same uid. */
    struct store_endpoint dup = an_endpoint("ep_c2", "live", "", "https://example.com/c");
    struct store_signing_key k = a_key("sk_c2", FIRST_SECRET, 1000);
    assert_int_equal(store_endpoint_insert(s, &dup, &k, &d), ERR_CONFLICT);
    assert_string_equal(d.code, "DUPLICATE_URL");
    dup.url = (char *)"https://example.com/c2";
    snprintf(dup.id, sizeof(dup.id), "ep_c1");
    assert_int_equal(store_endpoint_insert(s, &dup, &k, &d), ERR_CONFLICT);
    assert_string_equal(d.code, "INVALID_REQUEST");
    struct store_endpoint a1 = an_endpoint("ep_a1", "live", "app_x", "https://example.com/c");
    a1.uid = (char *)"u1";
    insert_ok(s, &a1); /* another application may share the URL */
    struct store_endpoint a2 = an_endpoint("ep_a2", "live", "app_x", "https://example.com/a2");
    a2.uid = (char *)"u1";
    k = a_key("sk_a2", FIRST_SECRET, 1000);
    assert_int_equal(store_endpoint_insert(s, &a2, &k, &d), ERR_CONFLICT);
    assert_string_equal(d.field, "uid");
    a2.uid = (char *)"u2";
    insert_ok(s, &a2);

    /* Update: fields, event types replaced (kept ones keep their place), uid rule. */
    e.url = (char *)"https://example.com/c-new";
    e.description = NULL;
    e.paused = true;
    e.updated_at_ms = 2000;
    e.event_types_json = (char *)"[\"a.first\",\"n.new\"]";
    e.disabled = true;
    snprintf(e.disabled_reason, sizeof(e.disabled_reason), "manual");
    e.disabled_at_ms = 2000;
    assert_int_equal(store_endpoint_update(s, &e, &d), ERR_OK);
    assert_int_equal(store_endpoint_get(s, "live", "ep_c1", false, &g, &d), ERR_OK);
    assert_string_equal(g.url, "https://example.com/c-new");
    assert_null(g.description);
    assert_true(g.paused);
    assert_int_equal(g.updated_at_ms, 2000);
    assert_int_equal(g.created_at_ms, 1000);
    assert_string_equal(g.event_types_json, "[\"a.first\",\"n.new\"]");
    assert_true(g.disabled);
    assert_string_equal(g.disabled_reason, "manual");
    assert_int_equal(g.disabled_at_ms, 2000);
    store_endpoint_release(&g);
    e.all_event_types = true;
    assert_int_equal(store_endpoint_update(s, &e, &d), ERR_OK);
    assert_int_equal(store_endpoint_get(s, "live", "ep_c1", false, &g, &d), ERR_OK);
    assert_true(g.all_event_types);
    assert_null(g.event_types_json);
    store_endpoint_release(&g);
    assert_int_equal(fixture_int(s, "SELECT count(*) FROM subscriptions"), 0);
    a2.uid = (char *)"u1";
    assert_int_equal(store_endpoint_update(s, &a2, &d), ERR_CONFLICT);
    assert_string_equal(d.field, "uid");
    struct store_endpoint ghost = an_endpoint("ep_ghost", "live", "", "https://example.com/g");
    assert_int_equal(store_endpoint_update(s, &ghost, &d), ERR_NOTFOUND);

    /* Find by id, then by uid, within the application. */
    assert_int_equal(store_endpoint_find(s, "live", "app_x", "u2", &g, &d), ERR_OK);
    assert_string_equal(g.id, "ep_a2");
    store_endpoint_release(&g);
    assert_int_equal(store_endpoint_find(s, "live", "app_x", "ep_a1", &g, &d), ERR_OK);
    assert_string_equal(g.uid, "u1");
    store_endpoint_release(&g);
    assert_int_equal(store_endpoint_find(s, "live", "app_y", "ep_a1", &g, &d), ERR_NOTFOUND);
    assert_int_equal(store_endpoint_find(s, "test", "app_x", "u1", &g, &d), ERR_NOTFOUND);

    /* Delete: once; then only the dispatcher's include_deleted sees it; a deleted
     * endpoint's uid and URL are free again. */
    assert_int_equal(store_endpoint_delete(s, "live", "ep_a1", 3000, &d), ERR_OK);
    assert_int_equal(store_endpoint_delete(s, "live", "ep_a1", 3000, &d), ERR_NOTFOUND);
    assert_int_equal(store_endpoint_delete(s, "test", "ep_a2", 3000, &d), ERR_NOTFOUND);
    assert_int_equal(store_endpoint_get(s, "live", "ep_a1", false, &g, &d), ERR_NOTFOUND);
    assert_int_equal(store_endpoint_get(s, "live", "ep_a1", true, &g, &d), ERR_OK);
    assert_int_equal(g.deleted_at_ms, 3000);
    assert_int_equal(g.updated_at_ms, 3000);
    store_endpoint_release(&g);
    assert_int_equal(store_endpoint_find(s, "live", "app_x", "u1", &g, &d), ERR_NOTFOUND);
    struct store_endpoint a3 = an_endpoint("ep_a3", "live", "app_x", "https://example.com/a3");
    a3.uid = (char *)"u1";
    insert_ok(s, &a3);
    store_close(s);
}

/* Both lists: newest first with a cursor, and an application's in either order
 * with an iterator; deleted endpoints and other modes are left out. */
static void test_endpoint_lists(void **state)
{
    (void)state;
    char own[64]; /* a store of its own: the other tests' endpoints would be listed */
    assert_int_equal(fixture_setup_dir(own, sizeof(own), "eplists"), 0);
    struct store *s = fixture_open_store(own);
    struct err_detail d = {0};
    static const char *const ids[] = {"ep_l1", "ep_l2", "ep_l3", "ep_l4", "ep_l5"};
    for (int i = 0; i < 5; i++) {
        char url[64];
        snprintf(url, sizeof(url), "https://example.com/l%d", i);
        struct store_endpoint e = an_endpoint(ids[i], "test", i % 2 ? "app_l" : "", url);
        insert_ok(s, &e);
    }
    struct store_endpoint other = an_endpoint("ep_lz", "live", "", "https://example.com/lz");
    insert_ok(s, &other);
    assert_int_equal(store_endpoint_delete(s, "test", "ep_l3", 2000, &d), ERR_OK);

    struct store_endpoint out[4];
    int n = -1;
    bool more = false;
    assert_int_equal(store_endpoint_list(s, "test", "", 2, out, &n, &more, &d), ERR_OK);
    assert_int_equal(n, 2);
    assert_true(more);
    assert_string_equal(out[0].id, "ep_l5");
    assert_string_equal(out[1].id, "ep_l4");
    for (int i = 0; i < n; i++)
        store_endpoint_release(&out[i]);
    assert_int_equal(store_endpoint_list(s, "test", "ep_l4", 2, out, &n, &more, &d), ERR_OK);
    assert_int_equal(n, 2);
    assert_false(more);
    assert_string_equal(out[0].id, "ep_l2");
    assert_string_equal(out[1].id, "ep_l1");
    for (int i = 0; i < n; i++)
        store_endpoint_release(&out[i]);
    assert_int_equal(store_endpoint_list(s, "test", "ep_lz", 2, out, &n, &more, &d), ERR_INVAL);
    assert_int_equal(store_endpoint_list(s, "test", "ep_nope", 2, out, &n, &more, &d), ERR_INVAL);

    /* app_l holds ep_l2 and ep_l4 */
    assert_int_equal(
        store_endpoint_list_app(s, "test", "app_l", NULL, false, 1, out, &n, &more, &d), ERR_OK);
    assert_int_equal(n, 1);
    assert_true(more);
    assert_string_equal(out[0].id, "ep_l2");
    store_endpoint_release(&out[0]);
    assert_int_equal(
        store_endpoint_list_app(s, "test", "app_l", "ep_l2", false, 4, out, &n, &more, &d), ERR_OK);
    assert_int_equal(n, 1);
    assert_false(more);
    assert_string_equal(out[0].id, "ep_l4");
    store_endpoint_release(&out[0]);
    assert_int_equal(store_endpoint_list_app(s, "test", "app_l", "", true, 4, out, &n, &more, &d),
                     ERR_OK);
    assert_int_equal(n, 2);
    assert_string_equal(out[0].id, "ep_l4");
    assert_string_equal(out[1].id, "ep_l2");
    for (int i = 0; i < n; i++)
        store_endpoint_release(&out[i]);
    assert_int_equal(
        store_endpoint_list_app(s, "test", "app_l", "ep_l1", true, 4, out, &n, &more, &d),
        ERR_INVAL);
    assert_string_equal(d.field, "iterator");
    assert_int_equal(
        store_endpoint_list_app(s, "test", "app_default_test", NULL, false, 4, out, &n, &more, &d),
        ERR_OK);
    assert_int_equal(n, 2); /* ep_l1, ep_l5: ep_l3 is deleted */
    assert_string_equal(out[0].id, "ep_l1");
    assert_string_equal(out[1].id, "ep_l5");
    for (int i = 0; i < n; i++)
        store_endpoint_release(&out[i]);
    store_close(s);
    fixture_remove_dir(own);
}

/* The sealed half of the policy: written sealed, read opened, "" or NULL = none. */
static void test_endpoint_secrets(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    struct err_detail d = {0};
    fixture_make_endpoint(s, "ep_s", "live", "https://example.com/s", FIRST_SECRET, 1000);
    char *auth = (char *)"x", *scheme = (char *)"x";
    assert_int_equal(store_endpoint_secrets_get(s, "ep_s", &auth, &scheme, &d), ERR_OK);
    assert_null(auth);
    assert_null(scheme);
    assert_int_equal(store_endpoint_secrets_set(s, "ep_s", "{\"token\":\"t0p\"}", "whsk_seed", &d),
                     ERR_OK);
    assert_int_equal(fixture_int(s, "SELECT count(*) FROM endpoints WHERE auth_secret LIKE "
                                    "'enc:v1:%' AND scheme_secret LIKE 'enc:v1:%'"),
                     1);
    assert_int_equal(store_endpoint_secrets_get(s, "ep_s", &auth, &scheme, &d), ERR_OK);
    assert_string_equal(auth, "{\"token\":\"t0p\"}");
    assert_string_equal(scheme, "whsk_seed");
    store_endpoint_secret_free(auth);
    store_endpoint_secret_free(scheme);
    assert_int_equal(store_endpoint_secrets_set(s, "ep_s", "", NULL, &d), ERR_OK);
    assert_int_equal(store_endpoint_secrets_get(s, "ep_s", &auth, &scheme, &d), ERR_OK);
    assert_null(auth);
    assert_null(scheme);
    assert_int_equal(store_endpoint_secrets_get(s, "ep_nope", &auth, &scheme, &d), ERR_NOTFOUND);
    assert_string_equal(d.code, "ENDPOINT_NOT_FOUND");
    /* A value copied into another column does not open there. */
    assert_int_equal(store_endpoint_secrets_set(s, "ep_s", "a", NULL, &d), ERR_OK);
    fixture_exec(s, "UPDATE endpoints SET scheme_secret = auth_secret WHERE id = 'ep_s'");
    assert_int_equal(store_endpoint_secrets_get(s, "ep_s", &auth, &scheme, &d), ERR_IO);
    assert_null(auth);
    assert_null(scheme);
    store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pause_resume),       cmocka_unit_test(test_signing_keys),
        cmocka_unit_test(test_signing_key_rotate), cmocka_unit_test(test_endpoint_crud),
        cmocka_unit_test(test_endpoint_lists),     cmocka_unit_test(test_endpoint_secrets),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

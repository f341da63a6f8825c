/* test_store_endpoint_state - pause flag and signing-key rotation in the SQLite store. */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pause_resume),
        cmocka_unit_test(test_signing_keys),
        cmocka_unit_test(test_signing_key_rotate),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/*
 * test_store_dedupe - the deduplicate policy in the store (sqlite/store_dedupe.c,
 * migration 18; pg/pg_dedupe.c with HOOKD_TEST_PG): a repeat within the window is stored
 * deduplicated and not handed to delivery, after the window it is a new message, endpoints are
 * judged apart, include_fields and custom headers, a rolled-back op or batch leaves no key, a
 * policy change is seen at once, fan-out messages, the janitor's purge, and the
 * status everywhere it is read (finished for retention, out of the backlog,
 * replayable, listed by status). An endpoint without the policy never touches
 * the keys table.
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "core/id.h"
#include "store/sqlite/sqlite_internal.h"
#include "store_fixture.h"

#define T0 1700000000000LL /* an arbitrary "now" */
#define WINDOW 60000

static char dir[64];

static int setup(void **state)
{
    (void)state;
    return fixture_setup_dir(dir, sizeof(dir), "dedupe");
}

static int teardown(void **state)
{
    (void)state;
    return fixture_remove_dir(dir);
}

/* Endpoint id (live) with policy document policy (NULL = none). */
static void make_endpoint(struct store *s, const char *id, const char *policy)
{
    struct store_endpoint e = {0};
    snprintf(e.id, sizeof(e.id), "%s", id);
    snprintf(e.mode, sizeof(e.mode), "live");
    char url[128];
    snprintf(url, sizeof(url), "https://example.com/%s", id);
    e.url = url;
    e.hmac_enabled = true;
    e.all_event_types = true;
    e.created_at_ms = e.updated_at_ms = 1000;
    e.policy_json = (char *)policy;
    struct store_signing_key k = {0};
    snprintf(k.id, sizeof(k.id), "sk_%s", id);
    snprintf(k.secret, sizeof(k.secret), "%s", FIXTURE_SECRET);
    struct err_detail d = {0};
    assert_int_equal(store_endpoint_insert(s, &e, &k, &d), ERR_OK);
}

/* Send payload (custom headers: headers JSON or NULL) to ep at at_ms; returns the
 * new message's status. id gets the message id (may be NULL). */
static enum store_status send_at(struct store *s, const char *ep, const char *payload,
                                 const char *headers, int64_t at_ms, char *id)
{
    struct store_send in = {0};
    id_uuid7(in.message_id, at_ms);
    in.endpoint_id = ep;
    in.mode = "live";
    in.payload = payload;
    in.payload_len = strlen(payload);
    in.content_type = "application/json";
    in.headers_json = headers;
    in.idempotency_key = "";
    in.payload_sha256 = "abcd";
    in.retention_hours = -1;
    in.now_ms = at_ms;
    in.payload_expires_at_ms = at_ms + 3600000;
    char existing[ID_MAX];
    bool existed;
    struct err_detail d = {0};
    assert_int_equal(store_send_insert(s, &in, existing, &existed, &d), ERR_OK);
    assert_false(existed);
    struct store_message m;
    assert_int_equal(store_message_get(s, "live", in.message_id, &m, &d), ERR_OK);
    store_message_release(&m);
    if (id)
        snprintf(id, ID_MAX, "%s", in.message_id);
    return m.status;
}

static int64_t count(struct store *s, const char *sql)
{
    return fixture_int(s, sql);
}

static void exec(struct store *s, const char *sql)
{
    fixture_exec(s, sql);
}

/* Has this connection prepared (hence ever run) a statement containing part? */
static bool prepared(struct store *s, const char *part)
{
    if (fixture_is_pg(s)) {
        for (int i = 0; i < pg_of(s)->nstmts; i++)
            if (strstr(pg_of(s)->stmts[i].sql, part))
                return true;
        return false;
    }
    for (int i = 0; i < sqlite_of(s)->ncache; i++)
        if (strstr(sqlite_of(s)->cache[i].sql, part))
            return true;
    return false;
}

static void test_status_name(void **state)
{
    (void)state;
    assert_string_equal(store_status_name(STATUS_DEDUPLICATED), "deduplicated");
    assert_int_equal(STATUS_DEDUPLICATED, 5); /* stored: the partial indexes name it */
    assert_string_equal(store_status_name(STATUS_FILTERED), "filtered");
    assert_int_equal(STATUS_FILTERED, 6);
    assert_int_equal(STORE_STATUS_LAST, STATUS_FILTERED);
}

static void test_within_window_deduplicated_after_window_delivered(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    make_endpoint(s, "ep_d", "{\"deduplicate\":{\"window_ms\":60000}}");
    const char *p = "{\"id\":\"evt_1\",\"n\":1}";
    char first[ID_MAX], dup[ID_MAX];
    assert_int_equal(send_at(s, "ep_d", p, NULL, T0, first), STATUS_QUEUED);
    /* member order and spacing do not matter: the same key */
    assert_int_equal(send_at(s, "ep_d", "{ \"n\": 1, \"id\": \"evt_1\" }", NULL, T0 + 10, dup),
                     STATUS_DEDUPLICATED);
    assert_int_equal(send_at(s, "ep_d", p, NULL, T0 + WINDOW - 1, NULL), STATUS_DEDUPLICATED);
    assert_int_equal(send_at(s, "ep_d", "{\"id\":\"evt_2\",\"n\":1}", NULL, T0 + 20, NULL),
                     STATUS_QUEUED);
    /* the window runs from the message that was kept: at T0 + WINDOW the key is gone,
     * the message is new, and it opens a window of its own */
    assert_int_equal(send_at(s, "ep_d", p, NULL, T0 + WINDOW, NULL), STATUS_QUEUED);
    assert_int_equal(send_at(s, "ep_d", p, NULL, T0 + 2 * WINDOW - 1, NULL), STATUS_DEDUPLICATED);
    assert_int_equal(send_at(s, "ep_d", p, NULL, T0 + 2 * WINDOW, NULL), STATUS_QUEUED);
    assert_int_equal(count(s, "SELECT count(*) FROM dedupe_keys"), 2);

    /* a deduplicated message: never attempted, nothing due, no delivery to load */
    struct store_message m;
    struct err_detail d = {0};
    assert_int_equal(store_message_get(s, "live", dup, &m, &d), ERR_OK);
    assert_int_equal(m.attempt_count, 0);
    assert_int_equal(m.next_attempt_at_ms, 0);
    assert_int_equal(m.delivered_at_ms, 0);
    assert_int_equal(m.failed_at_ms, 0);
    store_message_release(&m);
    /* rollups: every send counts in total, none as succeeded or failed */
    struct store_rollup ru;
    assert_int_equal(store_rollup_sum(s, "live", "ep_d", 0, INT64_MAX, &ru, &d), ERR_OK);
    assert_int_equal(ru.total, 7);
    assert_int_equal(ru.failed, 0);
    assert_int_equal(ru.succeeded, 0);
    store_close(s);
}

/* Inside a batch: a duplicate is not handed to delivery, and two sends of one key in
 * the same batch are judged in order (the second is the duplicate). */
static void test_duplicate_not_in_feed(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    make_endpoint(s, "ep_d", "{\"deduplicate\":{\"window_ms\":60000}}");
    struct err_detail d = {0};
    char a[ID_MAX], b[ID_MAX];
    assert_int_equal(store_batch_begin(s, &d), ERR_OK);
    store_op_begin_unguarded(s);
    assert_int_equal(send_at(s, "ep_d", "{\"x\":1}", NULL, T0, a), STATUS_QUEUED);
    assert_true(store_op_end_unguarded(s, true));
    store_op_begin_unguarded(s);
    assert_int_equal(send_at(s, "ep_d", "{\"x\":1}", NULL, T0 + 1, b), STATUS_DEDUPLICATED);
    assert_true(store_op_end_unguarded(s, true));
    assert_int_equal(store_batch_commit(s, &d), ERR_OK);
    struct feed f = {0};
    store_batch_take_feed(s, &f);
    assert_int_equal(f.len, 1);
    assert_string_equal(f.head->message_id, a);
    feed_clear(&f);
    store_close(s);
}

static void test_endpoints_are_independent(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    make_endpoint(s, "ep_a", "{\"deduplicate\":{\"window_ms\":60000}}");
    make_endpoint(s, "ep_b", "{\"deduplicate\":{\"window_ms\":60000}}");
    make_endpoint(s, "ep_plain", NULL);
    const char *p = "{\"id\":\"evt_1\"}";
    assert_int_equal(send_at(s, "ep_a", p, NULL, T0, NULL), STATUS_QUEUED);
    assert_int_equal(send_at(s, "ep_b", p, NULL, T0, NULL), STATUS_QUEUED);
    assert_int_equal(send_at(s, "ep_a", p, NULL, T0 + 1, NULL), STATUS_DEDUPLICATED);
    assert_int_equal(send_at(s, "ep_b", p, NULL, T0 + 1, NULL), STATUS_DEDUPLICATED);
    store_close(s);

    /* an endpoint without the policy: every repeat is delivered, and its sends never
     * prepare the key statement nor write a key (a fresh connection to see it) */
    s = fixture_open_store(dir);
    for (int i = 0; i < 3; i++)
        assert_int_equal(send_at(s, "ep_plain", p, NULL, T0 + i, NULL), STATUS_QUEUED);
    assert_false(prepared(s, "dedupe_keys"));
    assert_int_equal(count(s, "SELECT count(*) FROM dedupe_keys WHERE endpoint_id = 'ep_plain'"),
                     0);
    /* and it is looked up once, then found in the live-endpoint cache (SQLite's: on
     * PostgreSQL every send looks) */
    if (fixture_is_pg(s)) {
        store_close(s);
        return;
    }
    sqlite3_stmt *live = sqlite_of(s)->stmt[S_EP_LIVE];
    int runs = sqlite3_stmt_status(live, SQLITE_STMTSTATUS_RUN, 0);
    assert_int_equal(send_at(s, "ep_plain", p, NULL, T0 + 9, NULL), STATUS_QUEUED);
    assert_int_equal(sqlite3_stmt_status(live, SQLITE_STMTSTATUS_RUN, 0), runs);
    store_close(s);
}

static void test_include_fields_and_headers(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    make_endpoint(s, "ep_i",
                  "{\"deduplicate\":{\"window_ms\":60000,"
                  "\"include_fields\":[\"body.id\",\"headers.x-request-id\"]}}");
    make_endpoint(s, "ep_w", "{\"deduplicate\":{\"window_ms\":60000}}");
    make_endpoint(s, "ep_x",
                  "{\"deduplicate\":{\"window_ms\":60000,"
                  "\"exclude_fields\":[\"body.sent_at\"]}}");
    const char *h1 = "{\"X-Request-Id\":\"req_1\"}";
    assert_int_equal(send_at(s, "ep_i", "{\"id\":\"a\",\"n\":1}", h1, T0, NULL), STATUS_QUEUED);
    /* other fields differ, the included ones do not; header names compare
     * case-insensitively */
    assert_int_equal(
        send_at(s, "ep_i", "{\"id\":\"a\",\"n\":2}", "{\"x-request-id\":\"req_1\"}", T0 + 1, NULL),
        STATUS_DEDUPLICATED);
    assert_int_equal(send_at(s, "ep_i", "{\"id\":\"b\",\"n\":1}", h1, T0 + 2, NULL), STATUS_QUEUED);
    assert_int_equal(
        send_at(s, "ep_i", "{\"id\":\"a\",\"n\":1}", "{\"X-Request-Id\":\"req_2\"}", T0 + 3, NULL),
        STATUS_QUEUED);
    /* the whole message: custom headers are part of it */
    assert_int_equal(send_at(s, "ep_w", "{\"id\":\"a\"}", h1, T0, NULL), STATUS_QUEUED);
    assert_int_equal(send_at(s, "ep_w", "{\"id\":\"a\"}", h1, T0 + 1, NULL), STATUS_DEDUPLICATED);
    assert_int_equal(send_at(s, "ep_w", "{\"id\":\"a\"}", NULL, T0 + 2, NULL), STATUS_QUEUED);
    /* exclude_fields: what is left out does not count */
    assert_int_equal(send_at(s, "ep_x", "{\"id\":\"a\",\"sent_at\":1}", NULL, T0, NULL),
                     STATUS_QUEUED);
    assert_int_equal(send_at(s, "ep_x", "{\"id\":\"a\",\"sent_at\":2}", NULL, T0 + 1, NULL),
                     STATUS_DEDUPLICATED);
    store_close(s);
}

/* A key is recorded in the transaction of its message: an op or a batch rolled back
 * takes the key with it. */
static void test_rollback_leaves_no_key(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    make_endpoint(s, "ep_d", "{\"deduplicate\":{\"window_ms\":60000}}");
    struct err_detail d = {0};
    const char *p = "{\"x\":1}";
    assert_int_equal(store_batch_begin(s, &d), ERR_OK);
    assert_int_equal(store_op_begin(s, &d), ERR_OK);
    assert_int_equal(send_at(s, "ep_d", p, NULL, T0, NULL), STATUS_QUEUED);
    assert_int_equal(store_op_end(s, false, &d), ERR_OK); /* the op fails */
    assert_int_equal(store_op_begin(s, &d), ERR_OK);
    assert_int_equal(send_at(s, "ep_d", p, NULL, T0 + 1, NULL), STATUS_QUEUED);
    assert_int_equal(store_op_end(s, true, &d), ERR_OK);
    store_batch_rollback(s); /* the commit fails */
    assert_int_equal(count(s, "SELECT count(*) FROM dedupe_keys"), 0);
    assert_int_equal(send_at(s, "ep_d", p, NULL, T0 + 2, NULL), STATUS_QUEUED);
    assert_int_equal(send_at(s, "ep_d", p, NULL, T0 + 3, NULL), STATUS_DEDUPLICATED);
    store_close(s);
}

/* The rule is cached with the endpoint: a change of the policy is seen by the next
 * send, and removing it stops the judging. */
static void test_policy_change_seen_at_once(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    make_endpoint(s, "ep_c", NULL);
    const char *p = "{\"x\":1}";
    assert_int_equal(send_at(s, "ep_c", p, NULL, T0, NULL), STATUS_QUEUED);
    assert_int_equal(send_at(s, "ep_c", p, NULL, T0 + 1, NULL), STATUS_QUEUED);
    exec(s, "UPDATE endpoints SET policy = '{\"deduplicate\":{\"window_ms\":60000},"
            "\"fifo\":true}' WHERE id = 'ep_c'");
    assert_int_equal(send_at(s, "ep_c", p, NULL, T0 + 2, NULL), STATUS_QUEUED);
    assert_int_equal(send_at(s, "ep_c", p, NULL, T0 + 3, NULL), STATUS_DEDUPLICATED);
    exec(s, "UPDATE endpoints SET policy = '{\"fifo\":true}' WHERE id = 'ep_c'");
    assert_int_equal(send_at(s, "ep_c", p, NULL, T0 + 4, NULL), STATUS_QUEUED);
    /* a document that does not parse (never written by hookd) is no rule, not an error */
    exec(s, "UPDATE endpoints SET policy = '{\"deduplicate\":{\"window_ms\":1}}' "
            "WHERE id = 'ep_c'");
    assert_int_equal(send_at(s, "ep_c", p, NULL, T0 + 5, NULL), STATUS_QUEUED);
    assert_int_equal(send_at(s, "ep_c", p, NULL, T0 + 6, NULL), STATUS_QUEUED);
    store_close(s);
}

/* Fan-out: a candidate carries its endpoint's rule; the event type is part of the
 * whole-message key; a message inserted without the rule (resend) is not judged. */
static void test_fanout_messages(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    make_endpoint(s, "ep_f", "{\"deduplicate\":{\"window_ms\":60000}}");
    make_endpoint(s, "ep_g", NULL);
    struct err_detail d = {0};
    assert_int_equal(store_batch_begin(s, &d), ERR_OK);
    store_op_begin_unguarded(s); /* one publish op */
    const struct store_fanout *fan = NULL;
    assert_int_equal(store_fanout_get(s, "live", "app_default_live", &fan, &d), ERR_OK);
    assert_int_equal(fan->n, 2);
    const struct store_candidate *cf =
        strcmp(fan->cands[0].id, "ep_f") ? &fan->cands[1] : &fan->cands[0];
    const struct store_candidate *cg = cf == &fan->cands[0] ? &fan->cands[1] : &fan->cands[0];
    assert_non_null(cf->dedupe);
    assert_null(cg->dedupe);
    const char *types[] = {"order.created", "order.created", "order.deleted", "order.created"};
    const bool want_dup[] = {false, true, false, true};
    for (int i = 0; i < 4; i++) {
        struct store_event_in ev = {.event_type = types[i],
                                    .payload = "{\"n\":1}",
                                    .payload_len = 7,
                                    .content_type = "application/json",
                                    .payload_sha256 = "00",
                                    .now_ms = T0 + i,
                                    .payload_expires_at_ms = T0 + 3600000};
        snprintf(ev.public_id, sizeof(ev.public_id), "msg_%d", i);
        snprintf(ev.mode, sizeof(ev.mode), "live");
        snprintf(ev.application_id, sizeof(ev.application_id), "app_default_live");
        int64_t rowid = 0;
        assert_int_equal(store_event_insert(s, &ev, &rowid, &d), ERR_OK);
        char mf[ID_MAX], mg[ID_MAX];
        id_uuid7(mf, ev.now_ms);
        id_uuid7(mg, ev.now_ms);
        bool dup = true;
        /* the last one as a resend would make it: without the rule */
        assert_int_equal(store_event_message_insert(s, &ev, rowid, mf, cf->id,
                                                    i == 3 ? NULL : cf->dedupe, &dup, &d),
                         ERR_OK);
        assert_int_equal(dup, i == 3 ? false : want_dup[i]);
        assert_int_equal(
            store_event_message_insert(s, &ev, rowid, mg, cg->id, cg->dedupe, &dup, &d), ERR_OK);
        assert_false(dup);
    }
    assert_true(store_op_end_unguarded(s, true));
    assert_int_equal(store_batch_commit(s, &d), ERR_OK);
    struct feed f = {0};
    store_batch_take_feed(s, &f);
    assert_int_equal(f.len, 4 + 3); /* ep_g 4, ep_f 2 + the resent one */
    feed_clear(&f);
    assert_int_equal(count(s, "SELECT count(*) FROM messages WHERE status = 5"), 1);
    store_close(s);
}

static void test_janitor_purge_bounded(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    make_endpoint(s, "ep_d", "{\"deduplicate\":{\"window_ms\":1000}}");
    char p[32];
    for (int i = 0; i < 5; i++) {
        snprintf(p, sizeof(p), "{\"i\":%d}", i);
        assert_int_equal(send_at(s, "ep_d", p, NULL, T0 + i * 1000, NULL), STATUS_QUEUED);
    }
    /* keys expire at T0 + 1000, + 2000, ... + 5000 */
    struct err_detail d = {0};
    int n = -1;
    assert_int_equal(store_dedupe_purge(s, T0 + 999, 10, &n, &d), ERR_OK);
    assert_int_equal(n, 0);
    assert_int_equal(store_dedupe_purge(s, T0 + 3000, 2, &n, &d), ERR_OK);
    assert_int_equal(n, 2); /* bounded */
    assert_int_equal(store_dedupe_purge(s, T0 + 3000, 2, &n, &d), ERR_OK);
    assert_int_equal(n, 1);
    assert_int_equal(store_dedupe_purge(s, T0 + 3000, 2, &n, &d), ERR_OK);
    assert_int_equal(n, 0);
    assert_int_equal(count(s, "SELECT count(*) FROM dedupe_keys"), 2);
    /* the live ones still judge */
    assert_int_equal(send_at(s, "ep_d", "{\"i\":4}", NULL, T0 + 4500, NULL), STATUS_DEDUPLICATED);
    store_close(s);
}

/* Where the status is read: out of the backlog (never delivered after a restart),
 * not unfinished for endpoint stats, listed by status, finished for retention, and
 * a replay delivers it after all. */
static void test_status_everywhere(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    make_endpoint(s, "ep_d", "{\"deduplicate\":{\"window_ms\":60000}}");
    char kept[ID_MAX], dup[ID_MAX];
    assert_int_equal(send_at(s, "ep_d", "{\"x\":1}", NULL, T0, kept), STATUS_QUEUED);
    assert_int_equal(send_at(s, "ep_d", "{\"x\":1}", NULL, T0 + 1, dup), STATUS_DEDUPLICATED);
    struct err_detail d = {0};
    /* the kept one is delivered: only the deduplicated one is left */
    exec(s, "UPDATE messages SET status = 2 WHERE status = 0");
    int64_t n_unfinished = -1;
    assert_int_equal(store_endpoint_set_paused(s, "live", "ep_d", true, T0 + 2, &n_unfinished, &d),
                     ERR_OK);
    assert_int_equal(n_unfinished, 0);
    assert_int_equal(count(s, fixture_is_pg(s)
                                  ? "SELECT count(*) FROM messages "
                                    "WHERE status <> 2 AND status <> 4 AND status <> 5 "
                                    "AND status <> 6 AND deleted_at IS NULL"
                                  : "SELECT count(*) FROM messages INDEXED BY "
                                    "messages_backlog WHERE status <> 2 AND status <> 4 "
                                    "AND status <> 5 AND status <> 6 AND deleted_at IS NULL"),
                     0);
    struct store_gauges g;
    assert_int_equal(store_gauges(s, &g, &d), ERR_OK);
    assert_int_equal(g.unfinished, 0);
    assert_int_equal(g.dead_letter, 0);
    struct store_endpoint_stats st;
    assert_int_equal(store_endpoint_stats(s, "live", "ep_d", 0, INT64_MAX, &st, &d), ERR_OK);
    assert_int_equal(st.waiting + st.delivering + st.failed, 0);

    struct store_log_filter lf = {.mode = "live",
                                  .status = STATUS_DEDUPLICATED,
                                  .start_ms = INT64_MIN,
                                  .end_ms = INT64_MAX,
                                  .limit = 10};
    struct store_log_entry le[10];
    int n = 0;
    bool more = false;
    assert_int_equal(store_log_list(s, &lf, le, &n, &more, &d), ERR_OK);
    assert_int_equal(n, 1);
    assert_string_equal(le[0].message_id, dup);
    assert_int_equal(le[0].status, STATUS_DEDUPLICATED);
    store_log_entry_release(&le[0]);
    struct store_msg_filter mf = {.mode = "live", .status = STATUS_DEDUPLICATED};
    char ids[4][ID_MAX];
    assert_int_equal(store_message_select(s, &mf, 4, ids, &n, &d), ERR_OK);
    assert_int_equal(n, 1);
    assert_string_equal(ids[0], dup);

    /* a replay delivers it after all: queued, due at once */
    struct store_resched rs;
    assert_int_equal(store_message_action(s, "live", dup, STORE_ACT_RETRY_NOW, T0 + 3, &rs, &d),
                     ERR_CONFLICT);
    assert_int_equal(store_message_action(s, "live", dup, STORE_ACT_REPLAY_DLQ, T0 + 3, &rs, &d),
                     ERR_CONFLICT);
    assert_int_equal(store_message_action(s, "live", dup, STORE_ACT_REPLAY, T0 + 3, &rs, &d),
                     ERR_OK);
    struct store_message m;
    assert_int_equal(store_message_get(s, "live", dup, &m, &d), ERR_OK);
    assert_int_equal(m.status, STATUS_QUEUED);
    assert_int_equal(m.replay_count, 1);
    store_message_release(&m);

    /* retention: a deduplicated message is finished (its payload goes at expiry, its
     * row with old history) */
    char old[ID_MAX];
    assert_int_equal(send_at(s, "ep_d", "{\"x\":1}", NULL, T0 + 4, old), STATUS_DEDUPLICATED);
    exec(s, "UPDATE messages SET status = 2 WHERE status = 0");
    assert_int_equal(store_retention_purge_payloads(s, T0 + 7200000, 10, &n, &d), ERR_OK);
    assert_int_equal(n, 3);
    assert_int_equal(store_retention_delete_history(s, T0 + 7200000, 10, &n, &d), ERR_OK);
    assert_int_equal(n, 3);
    assert_int_equal(store_message_get(s, "live", old, &m, &d), ERR_NOTFOUND);
    store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_name),
        cmocka_unit_test_setup_teardown(test_within_window_deduplicated_after_window_delivered,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_not_in_feed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_endpoints_are_independent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_include_fields_and_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_leaves_no_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_change_seen_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fanout_messages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_janitor_purge_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_everywhere, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

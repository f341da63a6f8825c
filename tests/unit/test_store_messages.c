/* test_store_messages - message operations, DLQ, retention (store_messages.c) and the
 * janitor against a temp directory. Each test uses its own fresh store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/id.h"
#include "store/committer.h"
#include "store/feed.h"
#include "store/janitor.h"
#include "store/store.h"
#include "store_fixture.h"

#define T0 1700000000000LL /* an arbitrary "now" */

static char dir[64];

static int setup(void **state)
{
    (void)state;
    return fixture_setup_dir(dir, sizeof(dir), "msgops");
}

static int teardown(void **state)
{
    (void)state;
    return fixture_remove_dir(dir);
}

/* A message created at at_ms (its id carries that time) that expires_ms after creation. */
static void make_message(struct store *s, char id[ID_MAX], const char *ep, int64_t at_ms,
                         int64_t expires_ms)
{
    struct store_send in = {0};
    id_uuid7(in.message_id, at_ms);
    in.endpoint_id = ep;
    in.mode = "live";
    in.payload = "{\"x\":1}";
    in.payload_len = strlen(in.payload);
    in.content_type = "application/json";
    in.idempotency_key = "";
    in.payload_sha256 = "abcd";
    in.retention_hours = -1;
    in.now_ms = at_ms;
    in.payload_expires_at_ms = at_ms + expires_ms;
    char existing[ID_MAX];
    bool existed;
    struct err_detail d = {0};
    assert_int_equal(store_send_insert(s, &in, existing, &existed, &d), ERR_OK);
    snprintf(id, ID_MAX, "%s", in.message_id);
}

/* Record attempt n of id moving it to status (version ver). */
static void attempt(struct store *s, const char *id, int n, enum store_status status, int64_t ver,
                    int64_t at_ms)
{
    struct store_attempt a = {0};
    id_uuid7(a.id, at_ms);
    snprintf(a.message_id, sizeof(a.message_id), "%s", id);
    a.attempt_no = n;
    a.created_at_ms = at_ms;
    a.response_status = status == STATUS_SUCCEEDED ? 200 : 500;
    a.latency_ms = 5;
    a.error_text = status == STATUS_SUCCEEDED ? NULL : (char *)"receiver answered HTTP 500";
    a.retry_after_seconds = -1;
    a.dns_ms = a.tcp_connect_ms = a.tls_handshake_ms = a.ttfb_ms = a.transfer_ms = -1;
    struct err_detail d = {0};
    assert_int_equal(store_attempt_record(s, &a, status, at_ms + 60000, ver, &d), ERR_OK);
}

static struct store_message get(struct store *s, const char *id)
{
    struct store_message m;
    struct err_detail d = {0};
    assert_int_equal(store_message_get(s, "live", id, &m, &d), ERR_OK);
    store_message_release(&m);
    return m;
}

static void test_uuid7_floor_orders_ids(void **state)
{
    (void)state;
    char floor[ID_MAX], id[ID_MAX];
    store_uuid7_floor(floor, T0);
    assert_true(id_is_uuid(floor));
    for (int i = 0; i < 200; i++) {
        id_uuid7(id, T0 - 1);
        assert_true(strcmp(id, floor) < 0);
        id_uuid7(id, T0);
        assert_true(strcmp(id, floor) >= 0);
        id_uuid7(id, T0 + 1);
        assert_true(strcmp(id, floor) > 0);
    }
    store_uuid7_floor(floor, 0);
    assert_string_equal(floor, "00000000-0000-7000-8000-000000000000");
}

static void test_retry_now_cancel_replay_states(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    struct err_detail d = {0};
    struct store_resched rs;
    char id[ID_MAX];
    fixture_make_endpoint(s, "ep_a", "live", "https://example.com/hook", FIXTURE_SECRET, 0);
    make_message(s, id, "ep_a", T0, 3600000);

    /* queued: neither retry-now, cancel nor replay. */
    assert_int_equal(store_message_action(s, "live", id, STORE_ACT_RETRY_NOW, T0, &rs, &d),
                     ERR_CONFLICT);
    assert_string_equal(d.code, "INVALID_STATE");
    assert_int_equal(store_message_action(s, "live", id, STORE_ACT_CANCEL, T0, &rs, &d),
                     ERR_CONFLICT);
    assert_int_equal(store_message_action(s, "live", id, STORE_ACT_REPLAY, T0, &rs, &d),
                     ERR_CONFLICT);
    assert_string_equal(d.code, "INVALID_STATE");
    /* Another mode does not see it. */
    assert_int_equal(store_message_action(s, "test", id, STORE_ACT_CANCEL, T0, &rs, &d),
                     ERR_NOTFOUND);

    attempt(s, id, 1, STATUS_PENDING_RETRY, 0, T0 + 10);
    assert_int_equal(store_message_action(s, "live", id, STORE_ACT_RETRY_NOW, T0 + 20, &rs, &d),
                     ERR_OK);
    assert_int_equal(rs.sched_version, 1);
    assert_string_equal(rs.endpoint_id, "ep_a");
    struct store_message m = get(s, id);
    assert_int_equal(m.status, STATUS_PENDING_RETRY);
    assert_int_equal(m.next_attempt_at_ms, T0 + 20);

    /* A late result of version 0 is history only. */
    attempt(s, id, 2, STATUS_SUCCEEDED, 0, T0 + 30);
    assert_int_equal(get(s, id).status, STATUS_PENDING_RETRY);

    assert_int_equal(store_message_action(s, "live", id, STORE_ACT_CANCEL, T0 + 40, &rs, &d),
                     ERR_OK);
    assert_int_equal(rs.sched_version, 2);
    m = get(s, id);
    assert_int_equal(m.status, STATUS_FAILED_PERMANENT);
    assert_int_equal(m.failed_at_ms, T0 + 40);
    assert_int_equal(m.next_attempt_at_ms, 0);

    /* DLQ replay: new series, replay_count 1, attempt_count 0. */
    assert_int_equal(store_message_action(s, "live", id, STORE_ACT_REPLAY_DLQ, T0 + 50, &rs, &d),
                     ERR_OK);
    assert_int_equal(rs.sched_version, 3);
    m = get(s, id);
    assert_int_equal(m.status, STATUS_QUEUED);
    assert_int_equal(m.replay_count, 1);
    assert_int_equal(m.attempt_count, 0);
    assert_int_equal(m.failed_at_ms, 0);

    attempt(s, id, 1, STATUS_SUCCEEDED, 3, T0 + 60);
    assert_int_equal(get(s, id).status, STATUS_SUCCEEDED);
    /* Only failed_permanent is in the DLQ; a plain replay takes succeeded. */
    assert_int_equal(store_message_action(s, "live", id, STORE_ACT_REPLAY_DLQ, T0 + 70, &rs, &d),
                     ERR_CONFLICT);
    assert_string_equal(d.code, "INVALID_STATE");

    /* Replays up to the limit, then REPLAY_LIMIT_EXCEEDED. */
    for (int i = 1; i < STORE_REPLAY_LIMIT; i++) {
        assert_int_equal(
            store_message_action(s, "live", id, STORE_ACT_REPLAY, T0 + 100 + i, &rs, &d), ERR_OK);
        attempt(s, id, 1, STATUS_SUCCEEDED, rs.sched_version, T0 + 100 + i);
    }
    assert_int_equal(get(s, id).replay_count, STORE_REPLAY_LIMIT);
    assert_int_equal(store_message_action(s, "live", id, STORE_ACT_REPLAY, T0 + 500, &rs, &d),
                     ERR_LIMIT);
    assert_string_equal(d.code, "REPLAY_LIMIT_EXCEEDED");

    /* Attempts carry the replay number of their series (trigger of migration 2). */
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT min(replay_no) FROM attempts WHERE message_id = '%s'", id);
    assert_int_equal(fixture_int(s, sql), 0);
    snprintf(sql, sizeof(sql), "SELECT max(replay_no) FROM attempts WHERE message_id = '%s'", id);
    assert_int_equal(fixture_int(s, sql), STORE_REPLAY_LIMIT);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM attempts WHERE message_id = '%s'", id);
    assert_int_equal(fixture_int(s, sql), 2 + STORE_REPLAY_LIMIT);
    store_close(s);
}

static void test_delete_is_idempotent_and_hides(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    struct err_detail d = {0};
    char id[ID_MAX], other[ID_MAX];
    fixture_make_endpoint(s, "ep_a", "live", "https://example.com/hook", FIXTURE_SECRET, 0);
    make_message(s, id, "ep_a", T0, 3600000);
    make_message(s, other, "ep_a", T0 + 1, 3600000);

    int64_t at = 0;
    bool already = true;
    assert_int_equal(store_message_delete(s, "test", id, T0 + 5, &at, &already, &d), ERR_NOTFOUND);
    assert_int_equal(store_message_delete(s, "live", id, T0 + 5, &at, &already, &d), ERR_OK);
    assert_false(already);
    assert_int_equal(at, T0 + 5);
    assert_int_equal(store_message_delete(s, "live", id, T0 + 9, &at, &already, &d), ERR_OK);
    assert_true(already);
    assert_int_equal(at, T0 + 5);

    struct store_message m;
    assert_int_equal(store_message_get(s, "live", id, &m, &d), ERR_NOTFOUND);
    struct store_delivery dl;
    assert_int_equal(store_delivery_load(s, id, &dl, &d), ERR_NOTFOUND);
    struct store_resched rs;
    assert_int_equal(store_message_action(s, "live", id, STORE_ACT_REPLAY, T0, &rs, &d),
                     ERR_NOTFOUND);

    /* Bulk selection skips the deleted one. */
    char ids[4][ID_MAX];
    int n = 0;
    struct store_msg_filter f = {.mode = "live", .status = STATUS_QUEUED};
    assert_int_equal(store_message_select(s, &f, 4, ids, &n, &d), ERR_OK);
    assert_int_equal(n, 1);
    assert_string_equal(ids[0], other);
    f.created_before_ms = T0 + 1; /* exclusive */
    assert_int_equal(store_message_select(s, &f, 4, ids, &n, &d), ERR_OK);
    assert_int_equal(n, 0);
    f.created_before_ms = 0;
    f.created_after_ms = T0;
    f.endpoint_id = "ep_a";
    assert_int_equal(store_message_select(s, &f, 4, ids, &n, &d), ERR_OK);
    assert_int_equal(n, 1);
    f.endpoint_id = "ep_b";
    assert_int_equal(store_message_select(s, &f, 4, ids, &n, &d), ERR_OK);
    assert_int_equal(n, 0);
    store_close(s);
}

static void test_dlq_pages_newest_first(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    struct err_detail d = {0};
    char ids[5][ID_MAX];
    fixture_make_endpoint(s, "ep_a", "live", "https://example.com/hook", FIXTURE_SECRET, 0);
    for (int i = 0; i < 5; i++) {
        make_message(s, ids[i], "ep_a", T0 + i, 3600000);
        if (i != 2) /* one stays queued: not in the DLQ */
            attempt(s, ids[i], 1, STATUS_FAILED_PERMANENT, 0, T0 + 100);
    }
    struct store_dlq_item items[3];
    int n = 0;
    bool more = false;
    assert_int_equal(store_dlq_list(s, "live", NULL, 3, items, &n, &more, &d), ERR_OK);
    assert_int_equal(n, 3);
    assert_true(more);
    assert_string_equal(items[0].id, ids[4]);
    assert_string_equal(items[1].id, ids[3]);
    assert_string_equal(items[2].id, ids[1]);
    assert_string_equal(items[0].endpoint_url, "https://example.com/hook");
    assert_int_equal(items[0].attempt_count, 1);
    assert_int_equal(items[0].failed_at_ms, T0 + 105);
    assert_string_equal(items[0].last_error, "receiver answered HTTP 500");
    char cursor[ID_MAX];
    snprintf(cursor, sizeof(cursor), "%s", items[2].id);
    for (int i = 0; i < n; i++)
        store_dlq_item_release(&items[i]);
    assert_int_equal(store_dlq_list(s, "live", cursor, 3, items, &n, &more, &d), ERR_OK);
    assert_int_equal(n, 1);
    assert_false(more);
    assert_string_equal(items[0].id, ids[0]);
    store_dlq_item_release(&items[0]);
    assert_int_equal(store_dlq_list(s, "test", NULL, 3, items, &n, &more, &d), ERR_OK);
    assert_int_equal(n, 0);
    store_close(s);
}

static void test_retention_purges_and_deletes_history(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    struct err_detail d = {0};
    char done[ID_MAX], pending[ID_MAX], fresh[ID_MAX], old[ID_MAX], old_pending[ID_MAX];
    fixture_make_endpoint(s, "ep_a", "live", "https://example.com/hook", FIXTURE_SECRET, 0);
    make_message(s, done, "ep_a", T0, 0);        /* retention 0, succeeded */
    make_message(s, pending, "ep_a", T0, 0);     /* retention 0, still retrying */
    make_message(s, fresh, "ep_a", T0, 3600000); /* retention 1 h, succeeded */
    make_message(s, old, "ep_a", T0 - 100LL * 86400000, 3600000);
    make_message(s, old_pending, "ep_a", T0 - 100LL * 86400000, 3600000);
    attempt(s, done, 1, STATUS_SUCCEEDED, 0, T0 + 10);
    attempt(s, pending, 1, STATUS_PENDING_RETRY, 0, T0 + 10);
    attempt(s, fresh, 1, STATUS_SUCCEEDED, 0, T0 + 10);
    attempt(s, old, 1, STATUS_FAILED_PERMANENT, 0, T0 - 99LL * 86400000);
    attempt(s, old_pending, 1, STATUS_PENDING_RETRY, 0, T0 - 99LL * 86400000);

    /* Chunks of 1: the first run purges one, the loop continues while full. */
    int n = 0, total = 0;
    for (int i = 0; i < 10; i++) {
        assert_int_equal(store_retention_purge_payloads(s, T0 + 20, 1, &n, &d), ERR_OK);
        total += n;
        if (n < 1)
            break;
    }
    assert_int_equal(total, 2); /* done and old: finished and expired */

    struct store_resched rs;
    assert_int_equal(store_message_action(s, "live", done, STORE_ACT_REPLAY, T0 + 30, &rs, &d),
                     ERR_CONFLICT);
    assert_string_equal(d.code, "RETENTION_EXPIRED");
    assert_int_equal(get(s, done).status, STATUS_SUCCEEDED); /* metadata stays */
    struct store_delivery dl;
    assert_int_equal(store_delivery_load(s, done, &dl, &d), ERR_OK);
    assert_int_equal(dl.payload_len, 0);
    store_delivery_release(&dl);
    assert_int_equal(store_delivery_load(s, pending, &dl, &d), ERR_OK);
    assert_int_equal(dl.payload_len, 7); /* an unfinished message keeps its payload */
    store_delivery_release(&dl);
    assert_int_equal(store_message_action(s, "live", fresh, STORE_ACT_REPLAY, T0 + 30, &rs, &d),
                     ERR_OK);
    attempt(s, fresh, 1, STATUS_SUCCEEDED, rs.sched_version, T0 + 40);
    /* Expired but not purged yet: replay already refuses. */
    assert_int_equal(
        store_message_action(s, "live", fresh, STORE_ACT_REPLAY, T0 + 7200000, &rs, &d),
        ERR_CONFLICT);
    assert_string_equal(d.code, "RETENTION_EXPIRED");

    /* History older than 90 days: only the finished old message goes. */
    assert_int_equal(store_retention_delete_history(s, T0 - 90LL * 86400000, 500, &n, &d), ERR_OK);
    assert_int_equal(n, 1);
    struct store_message m;
    assert_int_equal(store_message_get(s, "live", old, &m, &d), ERR_NOTFOUND);
    struct store_attempt atts[2];
    bool more;
    assert_int_equal(store_attempt_list(s, old, "", 2, atts, &n, &more, &d), ERR_OK);
    assert_int_equal(n, 0);
    assert_int_equal(store_message_get(s, "live", old_pending, &m, &d), ERR_OK);
    store_message_release(&m);
    assert_int_equal(store_message_get(s, "live", done, &m, &d), ERR_OK);
    store_message_release(&m);
    store_close(s);
}

static void test_janitor_runs_through_committer(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    char id[ID_MAX];
    fixture_make_endpoint(s, "ep_a", "live", "https://example.com/hook", FIXTURE_SECRET, 0);
    int64_t now = (int64_t)time(NULL) * 1000;
    make_message(s, id, "ep_a", now - 1000, 0);
    attempt(s, id, 1, STATUS_SUCCEEDED, 0, now - 900);

    struct committer *c = NULL;
    struct janitor *j = NULL;
    struct err_detail d = {0};
    assert_int_equal(committer_start(&c, s, &d), ERR_OK);
    struct janitor_config jc = {.interval_ms = 3600000, .history_retention_ms = 3600000};
    assert_int_equal(janitor_start(&j, &jc, c, &d), ERR_OK);
    janitor_kick(j);
    struct janitor_stats st = {0};
    for (int i = 0; i < 500 && st.runs == 0; i++) {
        usleep(10000);
        janitor_get_stats(j, &st);
    }
    assert_int_equal(st.runs, 1);
    assert_int_equal(st.payloads_purged, 1);
    assert_int_equal(st.errors, 0);
    janitor_stop(j);
    committer_stop(c);
    struct store_resched rs;
    assert_int_equal(store_message_action(s, "live", id, STORE_ACT_REPLAY, now, &rs, &d),
                     ERR_CONFLICT);
    assert_string_equal(d.code, "RETENTION_EXPIRED");
    store_close(s);
}

/* Inside a committer batch, each action feeds the dispatcher what it changed, with the
 * message's new sched_version, and counts in the rollups at commit; a refused op
 * feeds and counts nothing. */
static void test_actions_feed_and_count(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    struct err_detail d = {0};
    char id[ID_MAX], other[ID_MAX];
    fixture_make_endpoint(s, "ep_a", "live", "https://example.com/hook", FIXTURE_SECRET, 0);
    make_message(s, id, "ep_a", T0, 3600000);
    make_message(s, other, "ep_a", T0 + 1, 3600000);
    attempt(s, id, 1, STATUS_PENDING_RETRY, 0, T0 + 10);
    struct store_rollup before;
    assert_int_equal(store_rollup_sum(s, "live", "ep_a", T0 - 3600000, T0 + 3600000, &before, &d),
                     ERR_OK);

    struct store_resched rs;
    int64_t at = 0;
    bool already = false;
    assert_int_equal(store_batch_begin(s, &d), ERR_OK);
    assert_int_equal(store_op_begin(s, &d), ERR_OK);
    assert_int_equal(store_message_action(s, "live", id, STORE_ACT_RETRY_NOW, T0 + 20, &rs, &d),
                     ERR_OK);
    assert_int_equal(store_op_end(s, true, &d), ERR_OK);
    assert_int_equal(store_op_begin(s, &d), ERR_OK); /* refused: queued */
    assert_int_equal(store_message_action(s, "live", other, STORE_ACT_CANCEL, T0 + 25, &rs, &d),
                     ERR_CONFLICT);
    assert_int_equal(store_op_end(s, false, &d), ERR_OK);
    assert_int_equal(store_op_begin(s, &d), ERR_OK);
    assert_int_equal(store_message_action(s, "live", id, STORE_ACT_CANCEL, T0 + 30, &rs, &d),
                     ERR_OK);
    assert_int_equal(store_op_end(s, true, &d), ERR_OK);
    assert_int_equal(store_op_begin(s, &d), ERR_OK);
    assert_int_equal(store_message_action(s, "live", id, STORE_ACT_REPLAY_DLQ, T0 + 40, &rs, &d),
                     ERR_OK);
    assert_int_equal(store_op_end(s, true, &d), ERR_OK);
    assert_int_equal(store_op_begin(s, &d), ERR_OK);
    assert_int_equal(store_message_delete(s, "live", other, T0 + 50, &at, &already, &d), ERR_OK);
    assert_int_equal(store_op_end(s, true, &d), ERR_OK);
    assert_int_equal(store_batch_commit(s, &d), ERR_OK);

    struct feed f = {0};
    store_batch_take_feed(s, &f);
    static const struct {
        enum feed_kind kind;
        int64_t version, due_ms;
        bool other;
    } want[] = {
        {FEED_DUE, 1, T0 + 20, false},
        {FEED_DROPPED, 2, 0, false},
        {FEED_DUE, 3, T0 + 40, false},
        {FEED_DROPPED, INT64_MAX, 0, true},
    };
    assert_int_equal(f.len, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        struct feed_item *it = feed_pop(&f);
        assert_int_equal(it->kind, want[i].kind);
        assert_string_equal(it->message_id, want[i].other ? other : id);
        assert_string_equal(it->endpoint_id, "ep_a");
        assert_int_equal(it->sched_version, want[i].version);
        if (it->kind == FEED_DUE)
            assert_int_equal(it->due_ms, want[i].due_ms);
        feed_item_free(it);
    }
    /* the cancel is a failure, the replay a new series */
    struct store_rollup after;
    assert_int_equal(store_rollup_sum(s, "live", "ep_a", T0 - 3600000, T0 + 3600000, &after, &d),
                     ERR_OK);
    assert_int_equal(after.failed - before.failed, 1);
    assert_int_equal(after.total - before.total, 1);
    assert_int_equal(after.succeeded - before.succeeded, 0);
    store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uuid7_floor_orders_ids),
        cmocka_unit_test_setup_teardown(test_retry_now_cancel_replay_states, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_is_idempotent_and_hides, setup, teardown),
        cmocka_unit_test_setup_teardown(test_actions_feed_and_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dlq_pages_newest_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention_purges_and_deletes_history, setup, teardown),
        cmocka_unit_test_setup_teardown(test_janitor_runs_through_committer, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

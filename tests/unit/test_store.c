/* test_store - the store and the committer against a temp directory: SQLite, or
 * PostgreSQL with HOOKD_TEST_PG (store_fixture.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/committer.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/sqlite_internal.h"
#include "store/store.h"
#include "store_fixture.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    return fixture_setup_dir(dir, sizeof(dir), "store");
}

static int teardown(void **state)
{
    (void)state;
    return fixture_remove_dir(dir);
}

static struct store_send a_send(const char *msg_id, const char *ep, const char *key,
                                const char *payload, const char *sha)
{
    struct store_send in = {0};
    snprintf(in.message_id, sizeof(in.message_id), "%s", msg_id);
    in.endpoint_id = ep;
    in.mode = "live";
    in.payload = payload;
    in.payload_len = strlen(payload);
    in.content_type = "application/json";
    in.idempotency_key = key;
    in.payload_sha256 = sha;
    in.retention_hours = -1;
    in.now_ms = 5000;
    return in;
}

static void test_send_idempotency_and_partition(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    struct err_detail d = {0};
    fixture_make_endpoint(s, "ep_a", "live", "https://example.com/hook", FIXTURE_SECRET, 0);
    fixture_make_endpoint(s, "ep_t", "test", "https://example.com/hook", FIXTURE_SECRET, 0);
    char existing[ID_MAX] = "";
    bool existed = true;

    struct store_send in = a_send("m1", "ep_a", "k1", "{\"a\":1}", "aaaa");
    assert_int_equal(store_send_insert(s, &in, existing, &existed, &d), ERR_OK);
    assert_false(existed);

    in = a_send("m2", "ep_a", "k1", "{\"a\":1}", "aaaa");
    assert_int_equal(store_send_insert(s, &in, existing, &existed, &d), ERR_OK);
    assert_true(existed);
    assert_string_equal(existing, "m1");

    in = a_send("m3", "ep_a", "k1", "{\"a\":2}", "bbbb");
    assert_int_equal(store_send_insert(s, &in, existing, &existed, &d), ERR_CONFLICT);
    assert_string_equal(d.code, "IDEMPOTENCY_MISMATCH");

    /* A live key cannot send to a test-mode endpoint. */
    in = a_send("m4", "ep_t", "", "{}", "cccc");
    assert_int_equal(store_send_insert(s, &in, existing, &existed, &d), ERR_NOTFOUND);
    assert_string_equal(d.code, "ENDPOINT_NOT_FOUND");

    struct store_message m;
    assert_int_equal(store_message_get(s, "live", "m1", &m, &d), ERR_OK);
    assert_int_equal(m.status, STATUS_QUEUED);
    assert_int_equal(m.size_bytes, 7);
    store_message_release(&m);
    assert_int_equal(store_message_get(s, "test", "m1", &m, &d), ERR_NOTFOUND);
    assert_int_equal(store_message_get(s, "live", "m2", &m, &d), ERR_NOTFOUND);
    store_close(s);
}

static bool count_pending(const struct store_pending *p, void *ctx)
{
    assert_string_equal(p->endpoint_id, "ep_a");
    (*(int *)ctx)++;
    return true;
}

static bool find_ep_a(const char *endpoint_id, int64_t due_ms, void *ctx)
{
    if (strcmp(endpoint_id, "ep_a") == 0)
        *(int64_t *)ctx = due_ms;
    return true;
}

/* Attempt 1 of message_id at 6000 ms: answered status after latency_ms. */
static struct store_attempt an_attempt(const char *id, const char *message_id, int status,
                                       int64_t latency_ms, const char *error_text)
{
    struct store_attempt a = {0};
    snprintf(a.id, sizeof(a.id), "%s", id);
    snprintf(a.message_id, sizeof(a.message_id), "%s", message_id);
    a.attempt_no = 1;
    a.created_at_ms = 6000;
    a.response_status = status;
    a.latency_ms = latency_ms;
    a.error_text = (char *)error_text;
    a.retry_after_seconds = -1;
    a.dns_ms = a.tcp_connect_ms = a.tls_handshake_ms = a.ttfb_ms = a.transfer_ms = -1;
    return a;
}

static void test_attempts_move_state(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    struct err_detail d = {0};
    int pending = 0;
    assert_int_equal(store_backlog_page(s, "ep_a", 10, count_pending, &pending, &d), ERR_OK);
    assert_int_equal(pending, 1); /* m1 from the previous test (same directory) */
    int64_t due = -1;
    assert_int_equal(store_backlog_endpoints(s, find_ep_a, &due, &d), ERR_OK);
    assert_int_equal(due, 0); /* a new send is due at once */

    struct store_attempt a = an_attempt("at1", "m1", 503, 12, "receiver answered HTTP 503");
    a.retry_type = "slow";
    assert_int_equal(store_attempt_record(s, &a, STATUS_PENDING_RETRY, 9000, 0, &d), ERR_OK);

    struct store_message m;
    assert_int_equal(store_message_get(s, "live", "m1", &m, &d), ERR_OK);
    assert_int_equal(m.status, STATUS_PENDING_RETRY);
    assert_int_equal(m.attempt_count, 1);
    assert_int_equal(m.next_attempt_at_ms, 9000);
    assert_string_equal(m.last_error, "receiver answered HTTP 503");
    store_message_release(&m);

    /* A result for an older schedule (cancelled or replayed meanwhile) is
     * history only: the row is written, the message does not move. */
    snprintf(a.id, sizeof(a.id), "at2");
    a.attempt_no = 9;
    assert_int_equal(store_attempt_record(s, &a, STATUS_FAILED_PERMANENT, 0, 7, &d), ERR_OK);
    assert_int_equal(store_message_get(s, "live", "m1", &m, &d), ERR_OK);
    assert_int_equal(m.status, STATUS_PENDING_RETRY);
    assert_int_equal(m.attempt_count, 1);
    store_message_release(&m);

    snprintf(a.id, sizeof(a.id), "at3");
    a.attempt_no = 2;
    a.response_status = 200;
    a.error_text = NULL;
    a.retry_type = NULL;
    assert_int_equal(store_attempt_record(s, &a, STATUS_SUCCEEDED, 0, 0, &d), ERR_OK);
    assert_int_equal(store_message_get(s, "live", "m1", &m, &d), ERR_OK);
    assert_int_equal(m.status, STATUS_SUCCEEDED);
    assert_int_equal(m.attempt_count, 2);
    assert_null(m.last_error);
    assert_int_not_equal(m.delivered_at_ms, 0);
    store_message_release(&m);

    struct store_attempt list[4];
    int n = 0;
    bool more = true;
    assert_int_equal(store_attempt_list(s, "m1", "", 4, list, &n, &more, &d), ERR_OK);
    assert_int_equal(n, 3);
    assert_false(more);
    assert_int_equal(list[0].attempt_no, 1);
    assert_string_equal(list[0].retry_type, "slow");
    for (int i = 0; i < n; i++)
        store_attempt_release(&list[i]);

    pending = 0;
    assert_int_equal(store_backlog_page(s, "ep_a", 10, count_pending, &pending, &d), ERR_OK);
    assert_int_equal(pending, 0);
    due = -1;
    assert_int_equal(store_backlog_endpoints(s, find_ep_a, &due, &d), ERR_OK);
    assert_int_equal(due, -1); /* nothing left to deliver */
    store_close(s);
}

/* Delivery names the message's mode and endpoint: a message never rescheduled
 * moves without being read, with the same outcome; one rescheduled meanwhile
 * (retry-now bumps its sched_version) keeps the attempt as history only. */
static void test_attempts_with_owner_known(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    struct err_detail d = {0};
    char existing[ID_MAX];
    bool existed;
    struct store_send in = a_send("m9", "ep_a", "", "{}", "cccc");
    assert_int_equal(store_send_insert(s, &in, existing, &existed, &d), ERR_OK);
    struct store_rollup before = {0}, after = {0};
    assert_int_equal(store_rollup_sum(s, "live", "ep_a", 0, INT64_MAX, &before, &d), ERR_OK);

    struct store_attempt a = an_attempt("at91", "m9", 500, 7, "receiver answered HTTP 500");
    snprintf(a.mode, sizeof(a.mode), "live");
    snprintf(a.endpoint_id, sizeof(a.endpoint_id), "ep_a");
    assert_int_equal(store_attempt_record(s, &a, STATUS_PENDING_RETRY, 9000, 0, &d), ERR_OK);
    struct store_message m;
    assert_int_equal(store_message_get(s, "live", "m9", &m, &d), ERR_OK);
    assert_int_equal(m.status, STATUS_PENDING_RETRY);
    assert_int_equal(m.attempt_count, 1);
    assert_string_equal(m.last_error, "receiver answered HTTP 500");
    store_message_release(&m);
    assert_int_equal(store_rollup_sum(s, "live", "ep_a", 0, INT64_MAX, &after, &d), ERR_OK);
    assert_int_equal(after.retries - before.retries, 1);

    struct store_resched rs;
    assert_int_equal(store_message_action(s, "live", "m9", STORE_ACT_RETRY_NOW, 7000, &rs, &d),
                     ERR_OK);
    assert_int_equal(rs.sched_version, 1);
    snprintf(a.id, sizeof(a.id), "at92");
    a.attempt_no = 2;
    a.response_status = 200;
    a.error_text = NULL;
    assert_int_equal(store_attempt_record(s, &a, STATUS_SUCCEEDED, 0, 0, &d), ERR_OK);
    assert_int_equal(store_message_get(s, "live", "m9", &m, &d), ERR_OK);
    assert_int_equal(m.status, STATUS_PENDING_RETRY); /* the older schedule's result */
    store_message_release(&m);

    snprintf(a.id, sizeof(a.id), "at93");
    a.attempt_no = 3;
    assert_int_equal(store_attempt_record(s, &a, STATUS_SUCCEEDED, 0, 1, &d), ERR_OK);
    assert_int_equal(store_message_get(s, "live", "m9", &m, &d), ERR_OK);
    assert_int_equal(m.status, STATUS_SUCCEEDED);
    assert_int_equal(m.attempt_count, 3);
    store_message_release(&m);

    struct store_attempt list[4];
    int n = 0;
    bool more = true;
    assert_int_equal(store_attempt_list(s, "m9", "", 4, list, &n, &more, &d), ERR_OK);
    assert_int_equal(n, 3);
    for (int i = 0; i < n; i++)
        store_attempt_release(&list[i]);
    assert_int_equal(store_rollup_sum(s, "live", "ep_a", 0, INT64_MAX, &after, &d), ERR_OK);
    assert_int_equal(after.succeeded - before.succeeded, 1);
    store_close(s);
}

/* Sends remember which endpoints they found live; deleting one, or rolling
 * back the op or batch that created one, makes the next send look again. */
static void test_send_endpoint_check_follows_changes(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    struct err_detail d = {0};
    char existing[ID_MAX];
    bool existed;
    fixture_make_endpoint(s, "ep_gone", "live", "https://example.com/gone", FIXTURE_SECRET, 0);
    struct store_send in = a_send("lv1", "ep_gone", "", "{}", "eeee");
    assert_int_equal(store_send_insert(s, &in, existing, &existed, &d), ERR_OK);
    in = a_send("lv2", "ep_gone", "", "{}", "eeee");
    in.mode = "test"; /* the same id in another mode is another endpoint */
    assert_int_equal(store_send_insert(s, &in, existing, &existed, &d), ERR_NOTFOUND);
    assert_int_equal(store_endpoint_delete(s, "live", "ep_gone", 7000, &d), ERR_OK);
    in = a_send("lv3", "ep_gone", "", "{}", "eeee");
    assert_int_equal(store_send_insert(s, &in, existing, &existed, &d), ERR_NOTFOUND);
    assert_string_equal(d.code, "ENDPOINT_NOT_FOUND");

    /* Created and sent to in an op that is rolled back: gone for the next op. */
    assert_int_equal(store_batch_begin(s, &d), ERR_OK);
    assert_int_equal(store_op_begin(s, &d), ERR_OK);
    fixture_make_endpoint(s, "ep_brief", "live", "https://example.com/brief", FIXTURE_SECRET, 0);
    in = a_send("lv4", "ep_brief", "", "{}", "eeee");
    assert_int_equal(store_send_insert(s, &in, existing, &existed, &d), ERR_OK);
    assert_int_equal(store_op_end(s, false, &d), ERR_OK);
    assert_int_equal(store_op_begin(s, &d), ERR_OK);
    in = a_send("lv5", "ep_brief", "", "{}", "eeee");
    assert_int_equal(store_send_insert(s, &in, existing, &existed, &d), ERR_NOTFOUND);
    assert_int_equal(store_op_end(s, false, &d), ERR_OK);
    /* ... and when the whole batch is rolled back. */
    assert_int_equal(store_op_begin(s, &d), ERR_OK);
    fixture_make_endpoint(s, "ep_brief", "live", "https://example.com/brief", FIXTURE_SECRET, 0);
    in = a_send("lv6", "ep_brief", "", "{}", "eeee");
    assert_int_equal(store_send_insert(s, &in, existing, &existed, &d), ERR_OK);
    assert_int_equal(store_op_end(s, true, &d), ERR_OK);
    store_batch_rollback(s);
    in = a_send("lv7", "ep_brief", "", "{}", "eeee");
    assert_int_equal(store_send_insert(s, &in, existing, &existed, &d), ERR_NOTFOUND);
    store_close(s);
}

static bool collect_ids(const struct store_pending *p, void *ctx)
{
    char(*ids)[ID_MAX] = ctx;
    int i = 0;
    while (ids[i][0])
        i++;
    snprintf(ids[i], ID_MAX, "%s", p->message_id);
    assert_int_equal(p->payload_len, 2);
    assert_memory_equal(p->payload, "{}", 2);
    assert_string_equal(p->content_type, "application/json");
    assert_null(p->webhook_id);
    return i < 2; /* stops after the third */
}

/* What delivery reads and writes besides attempts: a message's load, the backlog's
 * order (new messages first, then by due time), the circuit and failing columns, an
 * endpoint's disabling (fed once), a message's event type, and the hourly rollups
 * kept beside the minutes. */
static void test_delivery_reads_and_endpoint_state(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    struct err_detail d = {0};
    fixture_make_endpoint(s, "ep_dl", "live", "https://example.com/dl", FIXTURE_SECRET, 0);
    char existing[ID_MAX];
    bool existed;
    const char *ids[] = {"dl1", "dl2", "dl3", "dl4"};
    for (int i = 0; i < 4; i++) {
        struct store_send in = a_send(ids[i], "ep_dl", "", "{}", "ffff");
        in.headers_json = i == 0 ? "{\"X-A\":\"1\"}" : NULL;
        assert_int_equal(store_send_insert(s, &in, existing, &existed, &d), ERR_OK);
    }
    struct store_delivery dl;
    assert_int_equal(store_delivery_load(s, "dl1", &dl, &d), ERR_OK);
    assert_int_equal(dl.payload_len, 2);
    assert_string_equal(dl.payload, "{}");
    assert_string_equal(dl.content_type, "application/json");
    assert_string_equal(dl.headers_json, "{\"X-A\":\"1\"}");
    assert_null(dl.webhook_id);
    assert_int_equal(dl.status, STATUS_QUEUED);
    assert_int_equal(dl.sched_version, 0);
    store_delivery_release(&dl);
    assert_int_equal(store_delivery_load(s, "nope", &dl, &d), ERR_NOTFOUND);
    assert_string_equal(d.code, "MESSAGE_NOT_FOUND");
    char *type = (char *)"x";
    assert_int_equal(store_message_event_type(s, "dl1", &type, &d), ERR_OK);
    assert_null(type); /* a send has no event type */

    /* dl1 and dl2 retried (dl2 due first), dl3 and dl4 new: new first, by id */
    struct store_attempt a = an_attempt("at_dl1", "dl1", 500, 5, "HTTP 500");
    assert_int_equal(store_attempt_record(s, &a, STATUS_PENDING_RETRY, 90000, 0, &d), ERR_OK);
    a = an_attempt("at_dl2", "dl2", 500, 5, "HTTP 500");
    assert_int_equal(store_attempt_record(s, &a, STATUS_PENDING_RETRY, 80000, 0, &d), ERR_OK);
    char got[4][ID_MAX] = {{0}};
    assert_int_equal(store_backlog_page(s, "ep_dl", 10, collect_ids, got, &d), ERR_OK);
    assert_string_equal(got[0], "dl3");
    assert_string_equal(got[1], "dl4");
    assert_string_equal(got[2], "dl2");
    assert_string_equal(got[3], ""); /* the callback stopped the page */
    int64_t due = -1;
    assert_int_equal(store_backlog_endpoints(s, find_ep_a, &due, &d), ERR_OK);

    /* circuit and failing columns, written apart */
    assert_int_equal(store_endpoint_set_circuit(s, "ep_dl", 1, 7000, &d), ERR_OK);
    assert_int_equal(store_endpoint_set_failing(s, "ep_dl", 6500, &d), ERR_OK);
    struct store_endpoint e = {0};
    assert_int_equal(store_endpoint_get(s, "live", "ep_dl", false, &e, &d), ERR_OK);
    assert_int_equal(e.circuit_state, 1);
    assert_int_equal(e.circuit_opened_at_ms, 7000);
    assert_int_equal(e.failing_since_ms, 6500);
    store_endpoint_release(&e);
    assert_int_equal(store_endpoint_reset_circuit(s, "test", "ep_dl", &d), ERR_NOTFOUND);
    assert_string_equal(d.code, "ENDPOINT_NOT_FOUND");
    assert_int_equal(store_endpoint_set_failing(s, "ep_dl", 0, &d), ERR_OK);

    /* in a batch: reset and disable tell delivery (the feed), a second disable does not */
    assert_int_equal(store_batch_begin(s, &d), ERR_OK);
    assert_int_equal(store_op_begin(s, &d), ERR_OK);
    assert_int_equal(store_endpoint_reset_circuit(s, "live", "ep_dl", &d), ERR_OK);
    bool changed = false;
    assert_int_equal(store_endpoint_disable(s, "ep_dl", "auto_failing", 8000, &changed, &d),
                     ERR_OK);
    assert_true(changed);
    assert_int_equal(store_endpoint_disable(s, "ep_dl", "manual", 8001, &changed, &d), ERR_OK);
    assert_false(changed);
    assert_int_equal(store_op_end(s, true, &d), ERR_OK);
    assert_int_equal(store_batch_commit(s, &d), ERR_OK);
    struct feed f = {0};
    store_batch_take_feed(s, &f);
    assert_int_equal(f.len, 2);
    feed_clear(&f);
    assert_int_equal(store_endpoint_get(s, "live", "ep_dl", false, &e, &d), ERR_OK);
    assert_true(e.disabled);
    assert_string_equal(e.disabled_reason, "auto_failing");
    assert_int_equal(e.disabled_at_ms, 8000);
    assert_int_equal(e.circuit_state, 0);
    assert_int_equal(e.circuit_opened_at_ms, 0);
    assert_int_equal(e.failing_since_ms, 0);
    store_endpoint_release(&e);

    /* the hours hold what the minutes hold (journaled rows not folded yet aside) */
    struct store_rollup r;
    assert_int_equal(store_rollup_sum(s, "live", "ep_dl", 0, INT64_MAX, &r, &d), ERR_OK);
    assert_int_equal(r.total, 4);
    assert_int_equal(r.retries, 2);
    assert_int_equal(fixture_int(s, "SELECT coalesce(sum(total), 0) + coalesce(sum(retries), 0) "
                                    "FROM rollups_hourly WHERE endpoint_id = 'ep_dl'") +
                         fixture_int(s, "SELECT coalesce(sum(total), 0) + "
                                        "coalesce(sum(retries), 0) FROM rollups_recent "
                                        "WHERE endpoint_id = 'ep_dl'"),
                     6);
    store_close(s);
}

/* ---- committer: failing ops roll back alone, all ops share batches ---- */

struct test_op {
    struct commit_op op;
    int n; /* ep_c<n>; base + index */
    bool fail;
    int *done_count;
};

static int all_submitted;

static enum err test_apply(struct store *s, struct commit_op *op)
{
    struct test_op *t = (struct test_op *)op;
    /* Op 0 holds its batch open until every other op is queued, so they must
     * all land in the next batch: the group commit this test checks. */
    for (int i = 0; t->n == 0 && i < 10000 && !__atomic_load_n(&all_submitted, __ATOMIC_SEQ_CST);
         i++)
        usleep(1000);
    char id[32];
    snprintf(id, sizeof(id), "ep_c%d", t->n);
    struct store_endpoint e = {0};
    snprintf(e.id, sizeof(e.id), "%s", id);
    snprintf(e.mode, sizeof(e.mode), "live");
    char url[64];
    snprintf(url, sizeof(url), "https://example.com/%d", t->n);
    e.url = url;
    struct store_signing_key k = {0};
    snprintf(k.id, sizeof(k.id), "sk_c%d", t->n);
    snprintf(k.secret, sizeof(k.secret), "whsec_x");
    enum err e2 = store_endpoint_insert(s, &e, &k, &op->detail);
    if (e2 == ERR_OK && t->fail)
        return err_set(&op->detail, ERR_INVAL, "TEST", "planned failure");
    return e2;
}

static void test_done(struct commit_op *op)
{
    struct test_op *t = (struct test_op *)op;
    __atomic_add_fetch(t->done_count, 1, __ATOMIC_SEQ_CST);
}

static void committer_batches(bool rerunnable, int base)
{
    struct store *w = fixture_open_store(dir);
    struct committer *c = NULL;
    struct err_detail d = {0};
    assert_int_equal(committer_start(&c, w, &d), ERR_OK);
    enum { N = 200 };
    static struct test_op ops[N];
    int done = 0;
    __atomic_store_n(&all_submitted, 0, __ATOMIC_SEQ_CST);
    for (int i = 0; i < N; i++) {
        ops[i] = (struct test_op){.n = base + i, .fail = i % 10 == 3, .done_count = &done};
        ops[i].op.apply = test_apply;
        ops[i].op.done = test_done;
        ops[i].op.rerunnable = rerunnable;
        committer_submit(c, &ops[i].op);
    }
    __atomic_store_n(&all_submitted, 1, __ATOMIC_SEQ_CST);
    /* Await the completions (bounded), then check they shared transactions. */
    for (int i = 0; i < 10000 && __atomic_load_n(&done, __ATOMIC_SEQ_CST) < N; i++)
        usleep(1000);
    assert_int_equal(done, N);
    struct committer_stats st;
    committer_get_stats(c, &st);
    assert_int_equal(st.ops, N);
    assert_true(st.batches <= 2); /* at worst op 0 alone, then the other 199 in one commit */
    committer_stop(c);
    struct store *r = fixture_open_store(dir);
    for (int i = 0; i < N; i++) {
        char id[32];
        snprintf(id, sizeof(id), "ep_c%d", base + i);
        struct store_endpoint e = {0};
        enum err got = store_endpoint_get(r, "live", id, false, &e, &d);
        assert_int_equal(got, i % 10 == 3 ? ERR_NOTFOUND : ERR_OK);
        assert_int_equal(ops[i].op.result, i % 10 == 3 ? ERR_INVAL : ERR_OK);
        store_endpoint_release(&e);
    }
    store_close(r);
    store_close(w);
}

static void test_committer_batches(void **state)
{
    (void)state;
    committer_batches(false, 0);
}

/* Rerunnable ops share savepoints; a failing one sends its group back to one
 * savepoint each, so the outcome is exactly the same. */
static void test_committer_groups_rerunnable_ops(void **state)
{
    (void)state;
    committer_batches(true, 1000);
}

/* ---- rollups summed per batch: a rolled-back op's counts are dropped ---- */

struct send_op {
    struct commit_op op;
    struct store_send in;
    bool fail_after; /* insert, then fail: the savepoint must undo the counts too */
    int applied;     /* how many times apply ran */
};

static enum err send_apply(struct store *s, struct commit_op *op)
{
    struct send_op *x = (struct send_op *)op;
    x->applied++;
    char existing[ID_MAX];
    bool existed;
    enum err e = store_send_insert(s, &x->in, existing, &existed, &op->detail);
    if (e == ERR_OK && x->fail_after)
        return err_set(&op->detail, ERR_INVAL, "TEST", "planned failure");
    return e;
}

static void send_done(struct commit_op *op)
{
    (void)op;
}

static const char *ids_of(const char *prefix, int i)
{
    static char id[16];
    snprintf(id, sizeof(id), "%s%d", prefix, i);
    return id;
}

static void rollups_follow_the_batch(bool rerunnable, const char *prefix)
{
    struct store *w = fixture_open_store(dir);
    struct err_detail d = {0};
    struct store_rollup before = {0}, after = {0};
    assert_int_equal(store_rollup_sum(w, "live", "ep_a", 0, INT64_MAX, &before, &d), ERR_OK);
    struct committer *c = NULL;
    assert_int_equal(committer_start(&c, w, &d), ERR_OK);
    static struct send_op ops[10];
    for (int i = 0; i < 10; i++) {
        static char ids[10][16];
        snprintf(ids[i], sizeof(ids[i]), "%s%d", prefix, i);
        ops[i] =
            (struct send_op){.in = a_send(ids[i], "ep_a", "", "{}", "dddd"), .fail_after = i == 4};
        ops[i].op.apply = send_apply;
        ops[i].op.done = send_done;
        ops[i].op.rerunnable = rerunnable;
        committer_submit(c, &ops[i].op);
    }
    committer_stop(c);
    assert_int_equal(ops[4].op.result, ERR_INVAL);
    assert_int_equal(store_rollup_sum(w, "live", "ep_a", 0, INT64_MAX, &after, &d), ERR_OK);
    assert_int_equal(after.total - before.total, 9);
    for (int i = 0; i < 10; i++) {
        struct store_message m;
        assert_int_equal(store_message_get(w, "live", ids_of(prefix, i), &m, &d),
                         i == 4 ? ERR_NOTFOUND : ERR_OK);
        if (i != 4)
            store_message_release(&m);
    }
    store_close(w);
}

static void test_rollups_follow_the_batch(void **state)
{
    (void)state;
    rollups_follow_the_batch(false, "rb");
}

static void test_rollups_follow_a_rerun_group(void **state)
{
    (void)state;
    rollups_follow_the_batch(true, "rg");
}

static int holding;

/* Holds its batch open until the test has queued the next one. */
static enum err hold_apply(struct store *s, struct commit_op *op)
{
    (void)s;
    (void)op;
    __atomic_store_n(&holding, 1, __ATOMIC_SEQ_CST);
    for (int i = 0; i < 10000 && !__atomic_load_n(&all_submitted, __ATOMIC_SEQ_CST); i++)
        usleep(1000);
    return ERR_OK;
}

static void hold_done(struct commit_op *op)
{
    (void)op;
}

/* A batch of rerunnable ops runs without savepoints: one refused before it
 * wrote (an unknown endpoint) fails alone and nothing runs twice; one that
 * fails after writing sends the whole batch back to the careful path, with
 * the same outcome as above. */
static void test_committer_unguarded_batch(void **state)
{
    (void)state;
    struct store *w = fixture_open_store(dir);
    struct err_detail d = {0};
    struct store_rollup before = {0}, after = {0};
    assert_int_equal(store_rollup_sum(w, "live", "ep_a", 0, INT64_MAX, &before, &d), ERR_OK);
    struct committer *c = NULL;
    assert_int_equal(committer_start(&c, w, &d), ERR_OK);
    static struct send_op ops[10];
    static char ids[10][16];
    for (int i = 0; i < 10; i++) {
        snprintf(ids[i], sizeof(ids[i]), "ug%d", i);
        ops[i] = (struct send_op){
            .in = a_send(ids[i], i == 4 ? "ep_nowhere" : "ep_a", "", "{}", "dddd")};
        ops[i].op.apply = send_apply;
        ops[i].op.done = send_done;
        ops[i].op.rerunnable = true;
    }
    /* Queued while the committer is inside the hold op's batch, so all ten
     * share the next one. */
    __atomic_store_n(&all_submitted, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&holding, 0, __ATOMIC_SEQ_CST);
    static struct commit_op hold;
    hold = (struct commit_op){.apply = hold_apply, .done = hold_done};
    committer_submit(c, &hold);
    for (int i = 0; i < 10000 && !__atomic_load_n(&holding, __ATOMIC_SEQ_CST); i++)
        usleep(1000);
    for (int i = 0; i < 10; i++)
        committer_submit(c, &ops[i].op);
    __atomic_store_n(&all_submitted, 1, __ATOMIC_SEQ_CST);
    committer_stop(c);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(ops[i].op.result, i == 4 ? ERR_NOTFOUND : ERR_OK);
        assert_int_equal(ops[i].applied, 1);
    }
    assert_int_equal(store_rollup_sum(w, "live", "ep_a", 0, INT64_MAX, &after, &d), ERR_OK);
    assert_int_equal(after.total - before.total, 9);
    store_close(w);
}

/* ---- rollups of many endpoints: one journal row per key and commit, folded later ---- */

/* An op adding one delta to each of n endpoints "ep_<i>" at minute bucket at_ms. */
struct spread_op {
    struct commit_op op;
    int n;
    int64_t at_ms;
};

/* The backend's own way in for a rollup delta (what sends and attempts call). */
static enum err rollup_add(struct store *s, const char *ep, int64_t at_ms,
                           const struct store_rollup *delta, struct err_detail *d)
{
    if (fixture_is_pg(s))
        return pg__rollup_add(pg_of(s), "live", ep, at_ms, delta, d);
    return store__rollup_add(sqlite_of(s), "live", ep, at_ms, delta, d);
}

static enum err spread_apply(struct store *s, struct commit_op *op)
{
    struct spread_op *x = (struct spread_op *)op;
    struct store_rollup one = {.total = 1, .succeeded = 1, .latency_sum_ms = 3, .latency_count = 1};
    for (int i = 0; i < x->n; i++) {
        char ep[ID_MAX];
        snprintf(ep, sizeof(ep), "ep_%d", i);
        enum err e = rollup_add(s, ep, x->at_ms, &one, &op->detail);
        if (e != ERR_OK)
            return e;
    }
    return ERR_OK;
}

static int64_t count_rows(struct store *s, const char *table)
{
    char sql[96];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
    return fixture_int(s, sql);
}

/* Run ops (n of them) as one committer batch on w. */
static void run_as_one_batch(struct store *w, struct spread_op *ops, int n)
{
    struct err_detail d = {0};
    assert_int_equal(store_batch_begin(w, &d), ERR_OK);
    for (int i = 0; i < n; i++) {
        assert_int_equal(store_op_begin(w, &d), ERR_OK);
        ops[i].op.result = ops[i].op.apply(w, &ops[i].op);
        assert_int_equal(store_op_end(w, ops[i].op.result == ERR_OK, &ops[i].op.detail), ERR_OK);
    }
    assert_int_equal(store_batch_commit(w, &d), ERR_OK);
}

static void test_rollups_of_many_endpoints(void **state)
{
    (void)state;
    char own[64];
    assert_int_equal(fixture_setup_dir(own, sizeof(own), "rollups"), 0);
    struct store *w = fixture_open_store(own);
    struct err_detail d = {0};
    const int64_t t = 480000LL * STORE_ROLLUP_HOUR_MS;

    /* 3 ops over the same 1,000 endpoints in one batch: 1,000 journal rows, none in
     * rollups, every sum exact (readers include the journal). PostgreSQL has no
     * journal: the batch's 1,000 sums go straight into rollups. */
    bool pg = fixture_is_pg(w);
    struct spread_op ops[3];
    for (int i = 0; i < 3; i++)
        ops[i] = (struct spread_op){.op.apply = spread_apply, .n = 1000, .at_ms = t + 5};
    run_as_one_batch(w, ops, 3);
    assert_int_equal(count_rows(w, "rollups_recent"), pg ? 0 : 1000);
    assert_int_equal(count_rows(w, "rollups"), pg ? 1000 : 0);
    assert_int_equal(count_rows(w, "rollups_hourly"), pg ? 1000 : 0);
    struct store_rollup r;
    assert_int_equal(store_rollup_sum(w, "live", "ep_999", 0, INT64_MAX, &r, &d), ERR_OK);
    assert_int_equal(r.total, 3);
    assert_int_equal(store_metrics_sum(w, "live", NULL, t, t + STORE_ROLLUP_HOUR_MS, &r, &d),
                     ERR_OK);
    assert_int_equal(r.total, 3000);
    assert_int_equal(r.latency_sum_ms, 9000);
    store_close(w);

    /* Reopened (as after a crash), the journal still counts; the batch that takes it
     * past STORE__ROLLUP_FOLD_ROWS folds it into rollups and the hourly rows (on
     * PostgreSQL the batch adds to the rows already there). */
    w = fixture_open_store(own);
    struct spread_op big = {.op.apply = spread_apply, .n = STORE__ROLLUP_FOLD_ROWS, .at_ms = t + 5};
    run_as_one_batch(w, &big, 1);
    assert_int_equal(count_rows(w, "rollups_recent"), 0);
    assert_int_equal(count_rows(w, "rollups"), STORE__ROLLUP_FOLD_ROWS);
    assert_int_equal(store_rollup_sum(w, "live", "ep_999", 0, INT64_MAX, &r, &d), ERR_OK);
    assert_int_equal(r.total, 4);
    assert_int_equal(store_rollup_sum(w, "live", NULL, 0, INT64_MAX, &r, &d), ERR_OK);
    assert_int_equal(r.total, 3000 + STORE__ROLLUP_FOLD_ROWS);
    /* A window of whole hours reads rollups_hourly, which the fold filled. */
    assert_int_equal(store_metrics_sum(w, "live", "ep_5", t, t + STORE_ROLLUP_HOUR_MS, &r, &d),
                     ERR_OK);
    assert_int_equal(r.total, 4);
    assert_int_equal(r.latency_count, 4);

    /* A rolled-back op leaves nothing in the journal either. */
    ops[0] = (struct spread_op){.op.apply = spread_apply, .n = 100, .at_ms = t + 5};
    assert_int_equal(store_batch_begin(w, &d), ERR_OK);
    assert_int_equal(store_op_begin(w, &d), ERR_OK);
    assert_int_equal(ops[0].op.apply(w, &ops[0].op), ERR_OK);
    assert_int_equal(store_op_end(w, false, &ops[0].op.detail), ERR_OK);
    assert_int_equal(store_batch_commit(w, &d), ERR_OK);
    assert_int_equal(count_rows(w, "rollups_recent"), 0);
    assert_int_equal(store_rollup_sum(w, "live", NULL, 0, INT64_MAX, &r, &d), ERR_OK);
    assert_int_equal(r.total, 3000 + STORE__ROLLUP_FOLD_ROWS);
    store_close(w);
    assert_int_equal(fixture_remove_dir(own), 0);
}

/* A store migrated by a newer hookd (a higher schema version than this one
 * knows) is refused at open, before anything is read or written, and is left
 * as it was; the version this hookd knows opens. */
/* Set the schema version of the store at db (closed) behind hookd's back. */
static void set_schema_version(bool pg, const char *db, size_t version)
{
    char sql[96];
    if (!pg) {
        snprintf(sql, sizeof(sql), "PRAGMA user_version = %zu", version);
        char path[600];
        snprintf(path, sizeof(path), "%s/hookd.db", db);
        sqlite3 *h = NULL;
        assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
        assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(h);
        return;
    }
    snprintf(sql, sizeof(sql), "UPDATE hookd_schema SET version = %zu", version);
    PGconn *c = PQconnectdb(db);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *r = PQexec(c, sql);
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    PQfinish(c);
}

static void test_newer_schema_is_refused(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    bool pg = fixture_is_pg(s);
    size_t known = pg ? pg__migrations_count : store__migrations_count;
    store_close(s);
    char db[600];
    fixture_db(db, sizeof(db), dir);
    set_schema_version(pg, db, known + 1);
    struct store *again = NULL;
    struct err_detail d = {0};
    assert_int_not_equal(store_open(&again, db, true, &d), ERR_OK);
    assert_null(again);
    assert_non_null(strstr(d.msg, "newer than this hookd"));
    /* back to the version it knows: it opens */
    set_schema_version(pg, db, known);
    s = fixture_open_store(dir);
    store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_send_idempotency_and_partition),
        cmocka_unit_test(test_attempts_move_state),
        cmocka_unit_test(test_attempts_with_owner_known),
        cmocka_unit_test(test_send_endpoint_check_follows_changes),
        cmocka_unit_test(test_delivery_reads_and_endpoint_state),
        cmocka_unit_test(test_committer_batches),
        cmocka_unit_test(test_committer_groups_rerunnable_ops),
        cmocka_unit_test(test_rollups_follow_the_batch),
        cmocka_unit_test(test_rollups_follow_a_rerun_group),
        cmocka_unit_test(test_rollups_of_many_endpoints),
        cmocka_unit_test(test_committer_unguarded_batch),
        cmocka_unit_test(test_newer_schema_is_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

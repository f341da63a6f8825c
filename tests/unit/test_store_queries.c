/* test_store_queries - log pages (id ranges from UUIDv7 times, cursors, filters)
 * and the rollup sums (hourly triggers, hour/minute split, grouped series). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/id.h"
#include "store/sqlite/sqlite_internal.h"
#include "store/store.h"
#include "store_fixture.h"

#define MIN_MS 60000LL
#define HOUR_MS 3600000LL

static char dir[64];

static int setup(void **state)
{
    (void)state;
    return fixture_setup_dir(dir, sizeof(dir), "queries");
}

static int teardown(void **state)
{
    (void)state;
    return fixture_remove_dir(dir);
}

/* true: add() goes through a commit batch, so on SQLite its rows wait in the
 * rollups_recent journal (store_rollups.c) instead of landing in rollups and the
 * hourly rows; on PostgreSQL they are written at commit (pg_rollups.c). */
static bool via_batch;

static void add(struct store *s, const char *mode, const char *ep, int64_t at_ms, int64_t total,
                int64_t succeeded, int64_t latency)
{
    struct store_rollup r = {.total = total,
                             .succeeded = succeeded,
                             .failed = total - succeeded,
                             .retries = 1,
                             .latency_sum_ms = latency,
                             .latency_count = succeeded};
    struct err_detail d = {0};
    if (via_batch)
        assert_int_equal(store_batch_begin(s, &d), ERR_OK);
    /* each backend's own rollup writer: the readers must match it */
    if (fixture_is_pg(s))
        assert_int_equal(pg__rollup_add(pg_of(s), mode, ep, at_ms, &r, &d), ERR_OK);
    else
        assert_int_equal(store__rollup_add(sqlite_of(s), mode, ep, at_ms, &r, &d), ERR_OK);
    if (via_batch)
        assert_int_equal(store_batch_commit(s, &d), ERR_OK);
}

static void assert_rollup_equal(const struct store_rollup *a, const struct store_rollup *b)
{
    assert_int_equal(a->total, b->total);
    assert_int_equal(a->succeeded, b->succeeded);
    assert_int_equal(a->failed, b->failed);
    assert_int_equal(a->retries, b->retries);
    assert_int_equal(a->latency_sum_ms, b->latency_sum_ms);
    assert_int_equal(a->latency_count, b->latency_count);
}

/* store_metrics_sum (hourly rows for whole hours, minutes at the edges) must equal the
 * plain per-minute sum for every range, including after updates of minute rows. */
static void test_metrics_sum_matches_minutes(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    struct err_detail d = {0};
    const int64_t h = 500000 * HOUR_MS;
    const int64_t at[] = {h - 30 * MIN_MS,
                          h,
                          h + 10 * MIN_MS,
                          h + 10 * MIN_MS + 500, /* same minute: update */
                          h + 65 * MIN_MS,
                          h + 2 * HOUR_MS + 5 * MIN_MS,
                          h + 3 * HOUR_MS - 1,
                          h + 3 * HOUR_MS,
                          h + 5 * HOUR_MS + 59 * MIN_MS};
    for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
        add(s, "live", "ep_a", at[i], (int64_t)i + 1, 1, 10 * (int64_t)i);
        add(s, "live", "ep_b", at[i] + 7 * MIN_MS, 2, 2, 5);
        add(s, "test", "ep_t", at[i], 100, 50, 1);
    }
    const char *eps[] = {NULL, "ep_a", "ep_b"};
    for (int64_t from = h - HOUR_MS; from <= h + 4 * HOUR_MS; from += 17 * MIN_MS + 333) {
        for (int64_t len = 0; len <= 7 * HOUR_MS; len += 23 * MIN_MS + 7) {
            for (size_t e = 0; e < 3; e++) {
                struct store_rollup want, got;
                assert_int_equal(store_rollup_sum(s, "live", eps[e], from, from + len, &want, &d),
                                 ERR_OK);
                assert_int_equal(store_metrics_sum(s, "live", eps[e], from, from + len, &got, &d),
                                 ERR_OK);
                assert_rollup_equal(&got, &want);
            }
        }
    }
    /* Whole range: every row of the mode, none of the other. */
    struct store_rollup all;
    assert_int_equal(store_metrics_sum(s, "live", NULL, 0, h + 10 * HOUR_MS, &all, &d), ERR_OK);
    assert_int_equal(all.total, 45 + 18);
    assert_int_equal(store_metrics_sum(s, "test", NULL, 0, h + 10 * HOUR_MS, &all, &d), ERR_OK);
    assert_int_equal(all.total, 900);
    store_close(s);
}

static void test_metrics_series(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    struct err_detail d = {0};
    const int64_t day = 24 * HOUR_MS;
    const int64_t t0 = 20000 * day; /* aligned to a day */
    add(s, "live", "ep_x", t0 + 1, 1, 1, 100);
    add(s, "live", "ep_x", t0 + 6 * HOUR_MS + 3 * MIN_MS, 2, 1, 50);
    add(s, "live", "ep_y", t0 + 6 * HOUR_MS + 59 * MIN_MS, 4, 4, 40);
    add(s, "live", "ep_x", t0 + day + 1, 8, 0, 0);
    add(s, "live", "ep_x", t0 - 1, 16, 0, 0); /* before the series */

    struct store_rollup b[30];
    /* 6-hour buckets (hourly table): [t0, t0+6h) [t0+6h, t0+12h) ... */
    assert_int_equal(store_metrics_series(s, "live", NULL, t0, 6 * HOUR_MS, 28, b, &d), ERR_OK);
    assert_int_equal(b[0].total, 1);
    assert_int_equal(b[1].total, 6);
    assert_int_equal(b[1].succeeded, 5);
    assert_int_equal(b[1].latency_sum_ms, 90);
    assert_int_equal(b[4].total, 8);
    for (int i = 0; i < 28; i++)
        if (i != 0 && i != 1 && i != 4)
            assert_int_equal(b[i].total, 0);
    /* one endpoint */
    assert_int_equal(store_metrics_series(s, "live", "ep_y", t0, 6 * HOUR_MS, 28, b, &d), ERR_OK);
    assert_int_equal(b[1].total, 4);
    assert_int_equal(b[0].total + b[4].total, 0);
    /* 5-minute buckets (minute table) */
    assert_int_equal(store_metrics_series(s, "live", NULL, t0 + 6 * HOUR_MS, 5 * MIN_MS, 12, b, &d),
                     ERR_OK);
    assert_int_equal(b[0].total, 2);
    assert_int_equal(b[11].total, 4);
    assert_int_equal(
        store_metrics_series(s, "live", "ep_x", t0 + 6 * HOUR_MS, 5 * MIN_MS, 12, b, &d), ERR_OK);
    assert_int_equal(b[11].total, 0);
    /* daily buckets; the test mode sees nothing */
    assert_int_equal(store_metrics_series(s, "live", NULL, t0 - 29 * day, day, 30, b, &d), ERR_OK);
    assert_int_equal(b[28].total, 16);
    assert_int_equal(b[29].total, 7);
    assert_int_equal(store_metrics_series(s, "test", NULL, t0 - 29 * day, day, 30, b, &d), ERR_OK);
    for (int i = 0; i < 30; i++)
        assert_int_equal(b[i].total, 0);
    /* layouts off the minute grid are refused */
    assert_int_equal(store_metrics_series(s, "live", NULL, t0 + 1, 5 * MIN_MS, 12, b, &d),
                     ERR_INVAL);
    assert_int_equal(store_metrics_series(s, "live", NULL, t0, 1000, 12, b, &d), ERR_INVAL);
    store_close(s);
}

/* Sends a message created at ms into ep; returns its id in id. */
static void send_at(struct store *s, const char *mode, const char *ep, int64_t ms, char id[ID_MAX])
{
    struct store_send in = {0};
    id_uuid7(in.message_id, ms);
    snprintf(id, ID_MAX, "%s", in.message_id);
    in.endpoint_id = ep;
    in.mode = mode;
    in.payload = "{}";
    in.payload_len = 2;
    in.content_type = "application/json";
    in.idempotency_key = "";
    in.payload_sha256 = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
    in.retention_hours = -1;
    in.now_ms = ms;
    char existing[ID_MAX];
    bool existed;
    struct err_detail d = {0};
    assert_int_equal(store_send_insert(s, &in, existing, &existed, &d), ERR_OK);
}

static int list(struct store *s, struct store_log_filter *f, char ids[][ID_MAX], bool *more)
{
    struct store_log_entry rows[STORE_LOG_MAX_LIMIT];
    int n = 0;
    struct err_detail d = {0};
    assert_int_equal(store_log_list(s, f, rows, &n, more, &d), ERR_OK);
    for (int i = 0; i < n; i++) {
        memcpy(ids[i], rows[i].message_id, ID_MAX);
        assert_non_null(rows[i].endpoint_url);
        store_log_entry_release(&rows[i]);
    }
    return n;
}

static void test_log_list(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    struct err_detail d = {0};
    fixture_make_endpoint(s, "ep_l", "live", "https://example.com/ep_l", FIXTURE_SECRET, 0);
    fixture_make_endpoint(s, "ep_m", "test", "https://example.com/ep_m", FIXTURE_SECRET, 0);
    const int64_t base = 1767225600000LL; /* 2026-01-01T00:00:00Z */
    char ids[10][ID_MAX], other[ID_MAX];
    for (int i = 0; i < 10; i++)
        send_at(s, "live", "ep_l", base + i * 1000, ids[i]);
    send_at(s, "test", "ep_m", base + 5500, other);

    /* move ids[3] and ids[7] to succeeded */
    for (int k = 3; k <= 7; k += 4) {
        struct store_attempt a = {0};
        snprintf(a.id, sizeof(a.id), "att%d", k);
        snprintf(a.message_id, sizeof(a.message_id), "%s", ids[k]);
        a.attempt_no = 1;
        a.created_at_ms = base + 20000;
        a.response_status = 200;
        a.latency_ms = 5;
        a.retry_after_seconds = -1;
        a.dns_ms = a.tcp_connect_ms = a.tls_handshake_ms = a.ttfb_ms = a.transfer_ms = -1;
        assert_int_equal(store_attempt_record(s, &a, STATUS_SUCCEEDED, 0, 0, &d), ERR_OK);
    }

    char got[STORE_LOG_MAX_LIMIT][ID_MAX];
    bool more;
    struct store_log_filter f = {
        .mode = "live", .status = -1, .start_ms = INT64_MIN, .end_ms = INT64_MAX, .limit = 4};
    /* newest first, in pages of 4 */
    int n = list(s, &f, got, &more);
    assert_int_equal(n, 4);
    assert_true(more);
    assert_string_equal(got[0], ids[9]);
    assert_string_equal(got[3], ids[6]);
    f.cursor = ids[6];
    n = list(s, &f, got, &more);
    assert_int_equal(n, 4);
    assert_string_equal(got[0], ids[5]);
    f.cursor = ids[2];
    n = list(s, &f, got, &more);
    assert_int_equal(n, 2);
    assert_false(more);
    assert_string_equal(got[1], ids[0]);

    /* [start, end) by creation time */
    f.cursor = NULL;
    f.limit = 100;
    f.start_ms = base + 2000;
    f.end_ms = base + 5000;
    n = list(s, &f, got, &more);
    assert_int_equal(n, 3);
    assert_string_equal(got[0], ids[4]);
    assert_string_equal(got[2], ids[2]);
    f.end_ms = base + 5001;
    assert_int_equal(list(s, &f, got, &more), 4);
    /* with a cursor inside the range */
    f.cursor = ids[5];
    n = list(s, &f, got, &more);
    assert_int_equal(n, 3);
    assert_string_equal(got[0], ids[4]);
    /* empty and outside ranges */
    f.cursor = NULL;
    f.start_ms = f.end_ms = base + 3000;
    assert_int_equal(list(s, &f, got, &more), 0);
    f.start_ms = INT64_MIN;
    f.end_ms = 0;
    assert_int_equal(list(s, &f, got, &more), 0);
    f.end_ms = INT64_MAX;
    f.start_ms = INT64_MAX - 1;
    assert_int_equal(list(s, &f, got, &more), 0);

    /* status */
    f.start_ms = INT64_MIN;
    f.status = STATUS_SUCCEEDED;
    n = list(s, &f, got, &more);
    assert_int_equal(n, 2);
    assert_string_equal(got[0], ids[7]);
    assert_string_equal(got[1], ids[3]);
    f.status = STATUS_QUEUED;
    assert_int_equal(list(s, &f, got, &more), 8);

    /* the test mode sees only its own message */
    f.status = -1;
    f.mode = "test";
    n = list(s, &f, got, &more);
    assert_int_equal(n, 1);
    assert_string_equal(got[0], other);

    /* bad cursors and limits */
    struct store_log_entry rows[1];
    f.mode = "live";
    f.cursor = "not-an-id";
    f.limit = 1;
    assert_int_equal(store_log_list(s, &f, rows, &n, &more, &d), ERR_INVAL);
    assert_string_equal(d.code, "INVALID_REQUEST");
    f.cursor = NULL;
    f.limit = 0;
    assert_int_equal(store_log_list(s, &f, rows, &n, &more, &d), ERR_INVAL);
    store_close(s);
}

/* The same sums and series while the rows are still in the journal, not yet folded. */
static void test_metrics_sum_journaled(void **state)
{
    via_batch = true;
    test_metrics_sum_matches_minutes(state);
    via_batch = false;
}

static void test_metrics_series_journaled(void **state)
{
    via_batch = true;
    test_metrics_series(state);
    via_batch = false;
}

static bool no_pending(const struct store_pending *p, void *ctx)
{
    (void)p;
    (void)ctx;
    fail_msg("no message is pending");
    return false;
}

static bool no_endpoint(const char *endpoint_id, int64_t due_ms, void *ctx)
{
    (void)endpoint_id;
    (void)due_ms;
    (void)ctx;
    fail_msg("no endpoint has a backlog");
    return false;
}

/* Every status query reaches messages through an index, the partial
 * messages_mode_status included (migration 7: it holds no succeeded message,
 * and SQLite uses it only when a query repeats its "status <> 2"): the plan of
 * each cached statement that reads messages names an index, never a bare scan. */
/* Record an attempt of message id at at_ms that moves it to st. */
static void attempt(struct store *s, const char *id, int64_t at_ms, enum store_status st,
                    int64_t next_ms)
{
    static int seq;
    struct store_attempt a = {0};
    snprintf(a.id, sizeof(a.id), "att_stats_%d", seq++);
    snprintf(a.message_id, sizeof(a.message_id), "%s", id);
    a.attempt_no = 1;
    a.created_at_ms = at_ms;
    a.response_status = st == STATUS_SUCCEEDED ? 200 : 500;
    a.latency_ms = 5;
    a.retry_after_seconds = -1;
    a.dns_ms = a.tcp_connect_ms = a.tls_handshake_ms = a.ttfb_ms = a.transfer_ms = -1;
    struct err_detail d = {0};
    assert_int_equal(store_attempt_record(s, &a, st, next_ms, 0, &d), ERR_OK);
}

/* Svix's endpoint stats: finished deliveries from the rollups (by when they
 * finished), unfinished ones from the backlog (by when they were made). */
static void test_endpoint_stats(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    fixture_make_endpoint(s, "ep_s", "live", "https://example.com/s", FIXTURE_SECRET, 0);
    fixture_make_endpoint(s, "ep_t", "live", "https://example.com/t", FIXTURE_SECRET, 0);
    const int64_t base = 1767225600000LL; /* 2026-01-01T00:00:00Z */
    const int64_t hour = 3600000;
    char ids[6][ID_MAX], other[ID_MAX];
    for (int i = 0; i < 6; i++)
        send_at(s, "live", "ep_s", base + i * hour, ids[i]);
    send_at(s, "live", "ep_t", base, other);
    attempt(s, ids[0], base + 1000, STATUS_SUCCEEDED, 0);
    attempt(s, ids[1], base + hour + 1000, STATUS_SUCCEEDED, 0);
    attempt(s, ids[2], base + 2 * hour + 1000, STATUS_FAILED_PERMANENT, 0);
    attempt(s, ids[3], base + 3 * hour + 1000, STATUS_PENDING_RETRY, base + 4 * hour);
    attempt(s, other, base + 1000, STATUS_SUCCEEDED, 0);
    /* ids[4] and ids[5] stay queued */

    struct store_endpoint_stats st;
    struct err_detail d = {0};
    assert_int_equal(store_endpoint_stats(s, "live", "ep_s", 0, base + 10 * hour, &st, &d), ERR_OK);
    assert_int_equal(st.succeeded, 2);
    assert_int_equal(st.failed, 1);
    assert_int_equal(st.waiting, 3); /* pending_retry and two queued */
    assert_int_equal(st.delivering, 0);
    /* a window: the second hour up to the fifth */
    assert_int_equal(store_endpoint_stats(s, "live", "ep_s", base + hour, base + 4 * hour, &st, &d),
                     ERR_OK);
    assert_int_equal(st.succeeded, 1);
    assert_int_equal(st.failed, 1);
    assert_int_equal(st.waiting, 1); /* ids[3]; ids[4] was made at the window's end */
    /* the other mode sees nothing */
    assert_int_equal(store_endpoint_stats(s, "test", "ep_s", 0, base + 10 * hour, &st, &d), ERR_OK);
    assert_int_equal(st.succeeded + st.failed + st.waiting + st.delivering, 0);
    store_close(s);
}

static void test_status_queries_use_indexes(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    FIXTURE_SQLITE_ONLY(s); /* SQLite's statement cache and query plans */
    fixture_make_endpoint(s, "ep_p", "live", "https://example.com/p", FIXTURE_SECRET, 0);
    struct err_detail d = {0};
    struct store_log_entry rows[2];
    int n;
    bool more;
    static const int statuses[] = {-1, STATUS_QUEUED, STATUS_SUCCEEDED, STATUS_PENDING_RETRY,
                                   STATUS_FAILED_PERMANENT};
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        struct store_log_filter f = {.mode = "live",
                                     .status = statuses[i],
                                     .start_ms = INT64_MIN,
                                     .end_ms = INT64_MAX,
                                     .limit = 2};
        assert_int_equal(store_log_list(s, &f, rows, &n, &more, &d), ERR_OK);
        for (int k = 0; k < n; k++)
            store_log_entry_release(&rows[k]);
        struct store_msg_filter m = {.mode = "live", .status = statuses[i]};
        char ids[2][ID_MAX];
        assert_int_equal(store_message_select(s, &m, 2, ids, &n, &d), ERR_OK);
    }
    struct store_dlq_item dlq[2];
    assert_int_equal(store_dlq_list(s, "live", NULL, 2, dlq, &n, &more, &d), ERR_OK);
    int64_t unfinished = -1;
    assert_int_equal(store_endpoint_set_paused(s, "live", "ep_p", true, 1000, &unfinished, &d),
                     ERR_OK);
    assert_int_equal(unfinished, 0);
    assert_int_equal(store_backlog_page(s, "ep_p", 10, no_pending, NULL, &d), ERR_OK);
    assert_int_equal(store_backlog_endpoints(s, no_endpoint, NULL, &d), ERR_OK);
    struct store_endpoint_stats st;
    assert_int_equal(store_endpoint_stats(s, "live", "ep_p", 0, 1000, &st, &d), ERR_OK);

    /* Which index each kind of query must use. */
    int checked = 0;
    for (int i = 0; i < sqlite_of(s)->ncache; i++) {
        const char *sql = sqlite_of(s)->cache[i].sql;
        if (!strstr(sql, "FROM messages") || strncmp(sql, "SELECT", 6) != 0)
            continue;
        const char *want = NULL;
        if (strstr(sql, "status <> 4"))
            want = "messages_backlog"; /* an endpoint's unfinished messages */
        else if (strstr(sql, "INDEXED BY messages_mode_id") ||
                 (!strstr(sql, "status = ?") && !strstr(sql, "status = 4")))
            want = "messages_mode_id"; /* succeeded, or any status */
        else
            want = "messages_mode_status"; /* one status other than succeeded, the DLQ */
        char explain[2048];
        snprintf(explain, sizeof(explain), "EXPLAIN QUERY PLAN %s", sql);
        sqlite3_stmt *q = NULL;
        assert_int_equal(sqlite3_prepare_v2(sqlite_of(s)->db, explain, -1, &q, NULL), SQLITE_OK);
        bool found = false;
        char plan[1024] = "";
        while (sqlite3_step(q) == SQLITE_ROW) {
            const char *detail = (const char *)sqlite3_column_text(q, 3);
            found = found || strstr(detail, want);
            strncat(plan, detail, sizeof(plan) - strlen(plan) - 2);
            strcat(plan, ";");
        }
        sqlite3_finalize(q);
        if (!found) {
            print_error("not through %s: %s\n  plan: %s\n", want, sql, plan);
            fail();
        }
        checked++;
    }
    assert_true(checked >= 5);
    store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_metrics_sum_matches_minutes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_series, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_sum_journaled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_series_journaled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_endpoint_stats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_queries_use_indexes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

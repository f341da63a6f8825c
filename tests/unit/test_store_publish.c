/*
 * test_store_publish - published events and their fan-out in the store, on both
 * backends (sqlite/store_publish.c, pg/pg_publish*.c): the candidate endpoints
 * of an application, store_fanout_get following every change (PostgreSQL keeps
 * nothing between calls), producer-id conflicts that leave the batch usable,
 * reads of events by public or producer id and their filtered, paged list, the
 * origin of a message, the payload erased, orphans, and the messages and
 * attempts of an event and of an endpoint with their filters and cursors.
 * Rows the API of other groups would make are written with portable SQL.
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "store/feed.h"
#include "store_fixture.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    return fixture_setup_dir(dir, sizeof(dir), "publish");
}

static int teardown(void **state)
{
    (void)state;
    return fixture_remove_dir(dir);
}

/* app_x (uid ux) with ep_1 (every type), ep_2 (subscriptions, channels, a filter and
 * a deduplicate rule), ep_3 disabled, ep_4 deleted, and ep_5 of another application. */
static void make_app_and_endpoints(struct store *s)
{
    fixture_exec(s, "INSERT INTO applications (id, mode, uid, name, created_at, updated_at) "
                    "VALUES ('app_x', 'live', 'ux', 'n', 1, 1), "
                    "('app_y', 'live', NULL, 'n', 1, 1)");
    fixture_exec(s, "INSERT INTO endpoints (id, mode, url, created_at, updated_at, "
                    "application_id, all_event_types, channels, filter, policy, disabled, "
                    "deleted_at) VALUES "
                    "('ep_1', 'live', 'https://1.example/', 1, 1, 'app_x', 1, NULL, NULL, "
                    "NULL, 0, NULL), "
                    "('ep_2', 'live', 'https://2.example/', 1, 1, 'app_x', 0, '[\"c1\"]', "
                    "'{\"a\":1}', '{\"deduplicate\":{\"window_ms\":60000}}', 0, NULL), "
                    "('ep_3', 'live', 'https://3.example/', 1, 1, 'app_x', 1, NULL, NULL, "
                    "NULL, 1, NULL), "
                    "('ep_4', 'live', 'https://4.example/', 1, 1, 'app_x', 1, NULL, NULL, "
                    "NULL, 0, 5), "
                    "('ep_5', 'live', 'https://5.example/', 1, 1, 'app_y', 1, NULL, NULL, "
                    "NULL, 0, NULL)");
    fixture_exec(s, "INSERT INTO subscriptions (id, endpoint_id, event_type, enabled, "
                    "created_at) VALUES ('sub_2', 'ep_2', 'c.d', 1, 1), "
                    "('sub_1', 'ep_2', 'a.b', 1, 1), ('sub_3', 'ep_2', 'x.y', 0, 1), "
                    "('sub_4', 'ep_1', 'q\"q', 1, 1)");
}

static void test_candidates_are_the_live_endpoints_in_creation_order(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    make_app_and_endpoints(s);
    struct store_candidate *c = NULL;
    size_t n = 0;
    struct err_detail d = {0};
    assert_int_equal(store_publish_candidates(s, "app_x", &c, &n, &d), ERR_OK);
    assert_int_equal(n, 2);
    assert_string_equal(c[0].id, "ep_1");
    assert_true(c[0].all_event_types);
    assert_null(c[0].channels_json);
    assert_null(c[0].filter_json);
    assert_null(c[0].dedupe);
    assert_string_equal(c[0].event_types_json, "[\"q\\\"q\"]"); /* JSON, escaped */
    assert_string_equal(c[1].id, "ep_2");
    assert_false(c[1].all_event_types);
    assert_string_equal(c[1].event_types_json, "[\"a.b\",\"c.d\"]"); /* enabled only */
    assert_string_equal(c[1].channels_json, "[\"c1\"]");
    assert_string_equal(c[1].filter_json, "{\"a\":1}");
    assert_non_null(c[1].dedupe);
    store_candidates_free(c, n);

    /* none: an empty list; no subscriptions: an empty array */
    assert_int_equal(store_publish_candidates(s, "app_nope", &c, &n, &d), ERR_OK);
    assert_int_equal(n, 0);
    store_candidates_free(c, n);
    assert_int_equal(store_publish_candidates(s, "app_y", &c, &n, &d), ERR_OK);
    assert_int_equal(n, 1);
    assert_string_equal(c[0].event_types_json, "[]");
    store_candidates_free(c, n);
    store_close(s);
}

/* Inside a batch too, every answer is what the rows say now; a missing application
 * is ERR_NOTFOUND; two stores of one thread keep their own answers. */
static void test_fanout_follows_every_change(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    make_app_and_endpoints(s);
    struct err_detail d = {0};
    const struct store_fanout *f = NULL;
    assert_int_equal(store_fanout_get(s, "live", "ux", &f, &d), ERR_OK);
    assert_string_equal(f->app_id, "app_x");
    assert_int_equal(f->n, 2);
    assert_int_equal(store_fanout_get(s, "test", "ux", &f, &d), ERR_NOTFOUND);
    assert_int_equal(store_fanout_get(s, "live", "app_nope", &f, &d), ERR_NOTFOUND);

    assert_int_equal(store_batch_begin(s, &d), ERR_OK);
    assert_int_equal(store_fanout_get(s, "live", "app_x", &f, &d), ERR_OK);
    assert_int_equal(f->n, 2);
    fixture_exec(s, "UPDATE endpoints SET disabled = 0 WHERE id = 'ep_3'");
    assert_int_equal(store_fanout_get(s, "live", "app_x", &f, &d), ERR_OK);
    assert_int_equal(f->n, 3);
    assert_string_equal(f->cands[2].id, "ep_3");
    fixture_exec(s, "INSERT INTO subscriptions (id, endpoint_id, event_type, created_at) "
                    "VALUES ('sub_5', 'ep_2', 'b.c', 1)");
    assert_int_equal(store_fanout_get(s, "live", "app_x", &f, &d), ERR_OK);
    assert_string_equal(f->cands[1].event_types_json, "[\"a.b\",\"b.c\",\"c.d\"]");
    fixture_exec(s, "UPDATE applications SET deleted_at = 9 WHERE id = 'app_x'");
    assert_int_equal(store_fanout_get(s, "live", "ux", &f, &d), ERR_NOTFOUND);
    store_batch_rollback(s);
    assert_int_equal(store_fanout_get(s, "live", "ux", &f, &d), ERR_OK);
    assert_int_equal(f->n, 2);

    struct store *other = fixture_open_store(dir);
    const struct store_fanout *g = NULL;
    assert_int_equal(store_fanout_get(other, "live", "app_y", &g, &d), ERR_OK);
    assert_int_equal(g->n, 1);
    assert_string_equal(f->app_id, "app_x"); /* s's answer is still lent */
    assert_int_equal(f->n, 2);
    assert_string_equal(f->cands[1].id, "ep_2");
    store_close(other);
    store_close(s);
}

/* An event of app_x at created_ms with payload, type, producer id, channels, tags. */
static int64_t event(struct store *s, const char *public_id, const char *type,
                     const char *producer_id, const char *channels, const char *tags,
                     int64_t created_ms)
{
    struct store_event_in ev = {.event_type = type,
                                .producer_id = producer_id,
                                .payload = "{\"n\":1}\0x",
                                .payload_len = 9,
                                .content_type = "application/json",
                                .payload_sha256 = "00",
                                .channels_json = channels,
                                .tags_json = tags,
                                .now_ms = created_ms,
                                .payload_expires_at_ms = created_ms + 1000};
    snprintf(ev.public_id, sizeof(ev.public_id), "%s", public_id);
    snprintf(ev.mode, sizeof(ev.mode), "live");
    snprintf(ev.application_id, sizeof(ev.application_id), "app_x");
    int64_t rowid = 0;
    struct err_detail d = {0};
    assert_int_equal(store_event_insert(s, &ev, &rowid, &d), ERR_OK);
    assert_true(rowid > 0);
    return rowid;
}

static void test_events_by_public_or_producer_id(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    make_app_and_endpoints(s);
    int64_t a = event(s, "msg_a", "t.a", "prod_1", "[\"c1\"]", "[\"g1\"]", 1000);
    int64_t b = event(s, "msg_b", "t.b", "msg_a", NULL, NULL, 2000); /* a producer id clash */
    assert_true(b > a);
    struct err_detail d = {0};
    struct store_event ev = {0};
    assert_int_equal(store_event_get(s, "app_x", "msg_a", &ev, &d), ERR_OK);
    assert_int_equal(ev.rowid, a); /* a public id wins */
    assert_string_equal(ev.public_id, "msg_a");
    assert_string_equal(ev.mode, "live");
    assert_string_equal(ev.application_id, "app_x");
    assert_string_equal(ev.event_type, "t.a");
    assert_string_equal(ev.producer_id, "prod_1");
    assert_int_equal(ev.payload_len, 9);
    assert_memory_equal(ev.payload, "{\"n\":1}\0x", 9); /* bytes, NUL included */
    assert_string_equal(ev.content_type, "application/json");
    assert_string_equal(ev.channels_json, "[\"c1\"]");
    assert_string_equal(ev.tags_json, "[\"g1\"]");
    assert_int_equal(ev.created_at_ms, 1000);
    store_event_release(&ev);
    assert_int_equal(store_event_get(s, "app_x", "prod_1", &ev, &d), ERR_OK);
    assert_int_equal(ev.rowid, a);
    store_event_release(&ev);
    assert_int_equal(store_event_get(s, "app_x", "msg_b", &ev, &d), ERR_OK);
    assert_null(ev.channels_json);
    assert_null(ev.tags_json);
    store_event_release(&ev);
    assert_int_equal(store_event_get(s, "app_y", "msg_a", &ev, &d), ERR_NOTFOUND);
    assert_int_equal(store_event_get(s, "app_x", "msg_nope", &ev, &d), ERR_NOTFOUND);
    assert_string_equal(d.code, "NOT_FOUND");

    /* erased: the payload goes, the fan-out messages are marked */
    fixture_exec(s, "INSERT INTO messages (id, event_id, endpoint_id, mode, payload_sha256, "
                    "size_bytes, status, created_at, updated_at, fanout_event) SELECT 'm_1', id, "
                    "'ep_1', 'live', '00', 9, 0, 1, 1, id FROM events WHERE public_id = 'msg_a'");
    assert_int_equal(store_event_erase_payload(s, a, 7000, &d), ERR_OK);
    assert_int_equal(store_event_get(s, "app_x", "msg_a", &ev, &d), ERR_OK);
    assert_null(ev.payload);
    assert_int_equal(ev.payload_len, 0);
    store_event_release(&ev);
    assert_int_equal(fixture_int(s, "SELECT payload_purged_at FROM messages WHERE id = 'm_1'"),
                     7000);
    assert_int_equal(store_event_erase_payload(s, a, 8000, &d), ERR_OK); /* kept: the first */
    assert_int_equal(fixture_int(s, "SELECT payload_purged_at FROM messages WHERE id = 'm_1'"),
                     7000);

    /* orphans: 1 when marked, NULL (out of the index) when not */
    assert_int_equal(store_event_set_orphan(s, b, true, &d), ERR_OK);
    assert_int_equal(fixture_int(s, "SELECT count(*) FROM events WHERE orphan = 1"), 1);
    assert_int_equal(store_event_set_orphan(s, b, false, &d), ERR_OK);
    assert_int_equal(fixture_int(s, "SELECT count(*) FROM events WHERE orphan IS NOT NULL"), 0);
    store_close(s);
}

/* A producer id already used in the application is ERR_CONFLICT on field event_id,
 * inside a batch's op (guarded or not) without losing the batch; other applications
 * may use it. */
static void test_producer_id_conflict_keeps_the_batch(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    make_app_and_endpoints(s);
    event(s, "msg_a", "t.a", "prod_1", NULL, NULL, 1000);
    struct store_event_in ev = {.event_type = "t.a",
                                .producer_id = "prod_1",
                                .payload = "{}",
                                .payload_len = 2,
                                .content_type = "application/json",
                                .payload_sha256 = "00",
                                .now_ms = 2000};
    snprintf(ev.public_id, sizeof(ev.public_id), "msg_b");
    snprintf(ev.mode, sizeof(ev.mode), "live");
    snprintf(ev.application_id, sizeof(ev.application_id), "app_x");
    struct err_detail d = {0};
    int64_t rowid = 0;
    assert_int_equal(store_batch_begin(s, &d), ERR_OK);
    store_op_begin_unguarded(s);
    assert_int_equal(store_event_insert(s, &ev, &rowid, &d), ERR_CONFLICT);
    assert_string_equal(d.field, "event_id");
    assert_string_equal(d.code, "CONFLICT");
    assert_true(store_op_end_unguarded(s, false)); /* nothing written: the batch goes on */
    assert_int_equal(store_op_begin(s, &d), ERR_OK);
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_event_insert(s, &ev, &rowid, &d), ERR_CONFLICT);
    assert_string_equal(d.field, "event_id");
    assert_int_equal(store_op_end(s, false, &d), ERR_OK);
    snprintf(ev.public_id, sizeof(ev.public_id), "msg_c");
    snprintf(ev.application_id, sizeof(ev.application_id), "app_y");
    store_op_begin_unguarded(s);
    assert_int_equal(store_event_insert(s, &ev, &rowid, &d), ERR_OK);
    assert_true(store_op_end_unguarded(s, true));
    assert_int_equal(store_batch_commit(s, &d), ERR_OK);
    struct store_event got = {0};
    assert_int_equal(store_event_get(s, "app_y", "prod_1", &got, &d), ERR_OK);
    assert_string_equal(got.public_id, "msg_c");
    store_event_release(&got);
    store_close(s);
}

/* A message per endpoint in one publish op: queued, pointing at its event, handed
 * to the feed with the event's public id as webhook-id and the payload, counted in
 * the rollups; a repeat under the deduplicate rule is stored deduplicated and not
 * fed; an op rolled back leaves neither rows nor feed items. */
static void test_event_messages_are_queued_and_fed(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    make_app_and_endpoints(s);
    struct err_detail d = {0};
    struct store_event_in ev = {.event_type = "t.a",
                                .payload = "{\"n\":1}",
                                .payload_len = 7,
                                .content_type = "application/json",
                                .payload_sha256 = "ab",
                                .now_ms = 1000000,
                                .payload_expires_at_ms = 2000000};
    snprintf(ev.mode, sizeof(ev.mode), "live");
    snprintf(ev.application_id, sizeof(ev.application_id), "app_x");
    assert_int_equal(store_batch_begin(s, &d), ERR_OK);
    for (int i = 0; i < 2; i++) {
        store_op_begin_unguarded(s);
        const struct store_fanout *fan = NULL;
        assert_int_equal(store_fanout_get(s, "live", "app_x", &fan, &d), ERR_OK);
        snprintf(ev.public_id, sizeof(ev.public_id), "msg_%d", i);
        int64_t rowid = 0;
        assert_int_equal(store_event_insert(s, &ev, &rowid, &d), ERR_OK);
        for (size_t c = 0; c < fan->n; c++) {
            char id[2 * ID_MAX];
            snprintf(id, sizeof(id), "m_%d_%s", i, fan->cands[c].id);
            bool dup = true;
            assert_int_equal(store_event_message_insert(s, &ev, rowid, id, fan->cands[c].id,
                                                        fan->cands[c].dedupe, &dup, &d),
                             ERR_OK);
            assert_int_equal(dup, i == 1 && c == 1); /* ep_2's rule: the repeat */
        }
        assert_true(store_op_end_unguarded(s, true));
    }
    assert_int_equal(store_batch_commit(s, &d), ERR_OK);
    struct feed f = {0};
    store_batch_take_feed(s, &f);
    assert_int_equal(f.len, 3);
    struct feed_item *it = f.head;
    assert_string_equal(it->message_id, "m_0_ep_1");
    assert_string_equal(it->endpoint_id, "ep_1");
    assert_int_equal(it->due_ms, 1000000);
    assert_string_equal(it->webhook_id, "msg_0");
    assert_int_equal(it->payload_len, 7);
    assert_memory_equal(it->payload, "{\"n\":1}", 7);
    assert_string_equal(it->content_type, "application/json");
    assert_null(it->headers_json);
    assert_string_equal(it->next->message_id, "m_0_ep_2");
    assert_string_equal(it->next->next->message_id, "m_1_ep_1");
    feed_clear(&f);

    assert_int_equal(fixture_int(s, "SELECT count(*) FROM messages m JOIN events e ON "
                                    "e.id = m.fanout_event AND e.id = m.event_id WHERE "
                                    "m.status = 0 AND m.mode = 'live' AND m.size_bytes = 7 AND "
                                    "m.payload_sha256 = 'ab' AND m.created_at = 1000000 AND "
                                    "m.updated_at = 1000000 AND m.payload_expires_at = 2000000 "
                                    "AND m.attempt_count = 0"),
                     3);
    assert_int_equal(fixture_int(s, "SELECT status FROM messages WHERE id = 'm_1_ep_2'"), 5);
    struct store_rollup r = {0};
    assert_int_equal(store_rollup_sum(s, "live", "ep_2", 0, 9000000, &r, &d), ERR_OK);
    assert_int_equal(r.total, 2); /* the deduplicated one too */

    /* rolled back: nothing stays */
    assert_int_equal(store_batch_begin(s, &d), ERR_OK);
    assert_int_equal(store_op_begin(s, &d), ERR_OK);
    snprintf(ev.public_id, sizeof(ev.public_id), "msg_2");
    int64_t rowid = 0;
    assert_int_equal(store_event_insert(s, &ev, &rowid, &d), ERR_OK);
    assert_int_equal(store_event_message_insert(s, &ev, rowid, "m_2", "ep_1", NULL, NULL, &d),
                     ERR_OK);
    assert_int_equal(store_op_end(s, false, &d), ERR_OK);
    assert_int_equal(store_batch_commit(s, &d), ERR_OK);
    store_batch_take_feed(s, &f);
    assert_int_equal(f.len, 0);
    assert_int_equal(fixture_int(s, "SELECT count(*) FROM messages WHERE id = 'm_2'"), 0);
    assert_int_equal(store_rollup_sum(s, "live", "ep_1", 0, 9000000, &r, &d), ERR_OK);
    assert_int_equal(r.total, 2);
    store_close(s);
}

/* The public ids of a page of store_event_list, comma-separated. */
static void list(struct store *s, const char *after, const struct store_event_filter *f, int limit,
                 char *ids, size_t len, bool *more)
{
    struct store_event page[8];
    int n = 0;
    struct err_detail d = {0};
    assert_int_equal(store_event_list(s, "app_x", after, f, limit, page, &n, more, &d), ERR_OK);
    ids[0] = '\0';
    for (int i = 0; i < n; i++) {
        snprintf(ids + strlen(ids), len - strlen(ids), "%s%s", i ? "," : "", page[i].public_id);
        store_event_release(&page[i]);
    }
}

static void test_event_list_filters_and_pages(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    make_app_and_endpoints(s);
    event(s, "msg_1", "t.a", NULL, "[\"c1\",\"c2\"]", "[\"g1\"]", 1000);
    event(s, "msg_2", "t.b", NULL, "[\"c2\"]", NULL, 2000);
    event(s, "msg_3", "t.a", NULL, NULL, "[\"g1\",\"g2\"]", 3000);
    event(s, "msg_4", "t.c", NULL, "[\"c1\"]", NULL, 4000);
    char ids[256];
    bool more = false;
    list(s, NULL, NULL, 8, ids, sizeof(ids), &more);
    assert_string_equal(ids, "msg_4,msg_3,msg_2,msg_1");
    assert_false(more);
    list(s, NULL, NULL, 2, ids, sizeof(ids), &more);
    assert_string_equal(ids, "msg_4,msg_3");
    assert_true(more);
    list(s, "msg_3", NULL, 2, ids, sizeof(ids), &more);
    assert_string_equal(ids, "msg_2,msg_1");
    assert_false(more);

    struct store_event_filter f = {.event_types_json = "[\"t.a\",\"t.c\"]"};
    list(s, NULL, &f, 8, ids, sizeof(ids), &more);
    assert_string_equal(ids, "msg_4,msg_3,msg_1");
    f = (struct store_event_filter){.channel = "c2"};
    list(s, NULL, &f, 8, ids, sizeof(ids), &more);
    assert_string_equal(ids, "msg_2,msg_1");
    f = (struct store_event_filter){.tag = "g1", .channel = "c1"};
    list(s, NULL, &f, 8, ids, sizeof(ids), &more);
    assert_string_equal(ids, "msg_1");
    f = (struct store_event_filter){.before_ms = 4000, .after_ms = 1000}; /* exclusive */
    list(s, NULL, &f, 8, ids, sizeof(ids), &more);
    assert_string_equal(ids, "msg_3,msg_2");

    struct store_event page[2];
    int n = 0;
    struct err_detail d = {0};
    assert_int_equal(store_event_list(s, "app_x", "msg_nope", NULL, 2, page, &n, &more, &d),
                     ERR_INVAL);
    assert_string_equal(d.field, "iterator");
    assert_int_equal(store_event_list(s, "app_y", "msg_1", NULL, 2, page, &n, &more, &d),
                     ERR_INVAL); /* another application's event */
    store_close(s);
}

/* Messages m_<ep>_<event> and attempts: event 1 has a message for ep_1 (attempts
 * a_1 200, a_2 500 at 1100 and 1200) and ep_2 (a_3 no answer at 1300, a_4 204 at
 * 1400 by a replay); event 2 a message for ep_1 (a_5 404 at 2100), deleted one
 * for ep_2; a /v1 send s_1 of ep_1 with an event of no public id. */
static void make_messages(struct store *s, int64_t e1, int64_t e2)
{
    char sql[1024];
    snprintf(sql, sizeof(sql),
             "INSERT INTO messages (id, event_id, endpoint_id, mode, payload_sha256, "
             "size_bytes, status, created_at, updated_at, fanout_event, next_attempt_at, "
             "attempt_count, deleted_at) VALUES "
             "('m_1_1', %lld, 'ep_1', 'live', '00', 9, 2, 1, 1, %lld, NULL, 2, NULL), "
             "('m_2_1', %lld, 'ep_2', 'live', '00', 9, 1, 1, 1, %lld, 5000, 1, NULL), "
             "('m_1_2', %lld, 'ep_1', 'live', '00', 9, 0, 2, 2, %lld, 6000, 1, NULL), "
             "('m_2_2', %lld, 'ep_2', 'live', '00', 9, 0, 2, 2, %lld, NULL, 0, 3)",
             (long long)e1, (long long)e1, (long long)e1, (long long)e1, (long long)e2,
             (long long)e2, (long long)e2, (long long)e2);
    fixture_exec(s, sql);
    fixture_exec(s, "INSERT INTO events (content_type, payload, created_at) "
                    "VALUES ('application/json', NULL, 1)");
    fixture_exec(s, "INSERT INTO messages (id, event_id, endpoint_id, mode, payload_sha256, "
                    "size_bytes, status, created_at, updated_at) SELECT 's_1', max(id), 'ep_1', "
                    "'live', '00', 9, 0, 1, 1 FROM events");
    fixture_exec(s, "INSERT INTO attempts (id, message_id, attempt_no, created_at, "
                    "response_status, latency_ms, error_text, response_body, replay_no) VALUES "
                    "('a_1', 'm_1_1', 1, 1100, 200, 10, NULL, 'ok', 0), "
                    "('a_2', 'm_1_1', 2, 1200, 500, 20, 'HTTP 500', 'no', 0), "
                    "('a_3', 'm_2_1', 1, 1300, NULL, NULL, 'timeout', NULL, 0), "
                    "('a_4', 'm_2_1', 2, 1400, 204, 5, NULL, NULL, 1), "
                    "('a_5', 'm_1_2', 1, 2100, 404, 7, 'HTTP 404', NULL, 0), "
                    "('a_6', 's_1', 1, 2200, 200, 7, NULL, NULL, 0)");
}

/* The ids of an attempt page, comma-separated. */
static void attempt_ids(struct store_event_attempt *a, int n, char *ids, size_t len)
{
    ids[0] = '\0';
    for (int i = 0; i < n; i++) {
        snprintf(ids + strlen(ids), len - strlen(ids), "%s%s", i ? "," : "", a[i].id);
        store_event_attempt_release(&a[i]);
    }
}

static void test_event_messages_and_attempts(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    make_app_and_endpoints(s);
    int64_t e1 = event(s, "msg_1", "t.a", NULL, NULL, NULL, 1000);
    int64_t e2 = event(s, "msg_2", "t.b", NULL, NULL, NULL, 2000);
    make_messages(s, e1, e2);
    struct err_detail d = {0};

    char pub[ID_MAX], app[ID_MAX];
    assert_int_equal(store_message_origin(s, "m_2_1", pub, app, &d), ERR_OK);
    assert_string_equal(pub, "msg_1");
    assert_string_equal(app, "app_x");
    assert_int_equal(store_message_origin(s, "s_1", pub, app, &d), ERR_OK);
    assert_string_equal(pub, "");
    assert_string_equal(app, "app_x");
    assert_int_equal(store_message_origin(s, "m_nope", pub, app, &d), ERR_NOTFOUND);

    struct store_event_message *m = NULL;
    size_t nm = 0;
    assert_int_equal(store_event_messages(s, e1, NULL, &m, &nm, &d), ERR_OK);
    assert_int_equal(nm, 2);
    assert_string_equal(m[0].message_id, "m_1_1");
    assert_string_equal(m[0].endpoint_id, "ep_1");
    assert_int_equal(m[0].status, 2);
    assert_int_equal(m[0].next_attempt_at_ms, 0);
    assert_int_equal(m[0].attempt_count, 2);
    assert_string_equal(m[1].message_id, "m_2_1");
    assert_int_equal(m[1].next_attempt_at_ms, 5000);
    free(m);
    assert_int_equal(store_event_messages(s, e2, NULL, &m, &nm, &d), ERR_OK);
    assert_int_equal(nm, 1); /* the deleted one is not */
    free(m);
    assert_int_equal(store_event_messages(s, e1, "ep_2", &m, &nm, &d), ERR_OK);
    assert_int_equal(nm, 1);
    assert_string_equal(m[0].message_id, "m_2_1");
    free(m);

    struct store_event_attempt a[8];
    int n = 0;
    bool more = false;
    char ids[128];
    assert_int_equal(store_event_attempts(s, e1, NULL, NULL, NULL, 8, a, &n, &more, &d), ERR_OK);
    assert_int_equal(n, 4);
    assert_string_equal(a[0].id, "a_4");
    assert_string_equal(a[0].message_id, "m_2_1");
    assert_string_equal(a[0].endpoint_id, "ep_2");
    assert_string_equal(a[0].url, "https://2.example/");
    assert_int_equal(a[0].replay_no, 1);
    assert_string_equal(a[1].id, "a_3");
    assert_int_equal(a[1].response_status, 0);
    assert_int_equal(a[1].latency_ms, 0);
    assert_null(a[1].response_body);
    assert_string_equal(a[1].error_text, "timeout");
    assert_string_equal(a[2].id, "a_2");
    assert_int_equal(a[2].response_status, 500);
    assert_int_equal(a[2].latency_ms, 20);
    assert_string_equal(a[2].response_body, "no");
    assert_int_equal(a[2].created_at_ms, 1200);
    attempt_ids(a, n, ids, sizeof(ids));
    assert_false(more);
    assert_int_equal(store_event_attempts(s, e1, NULL, NULL, NULL, 2, a, &n, &more, &d), ERR_OK);
    attempt_ids(a, n, ids, sizeof(ids));
    assert_string_equal(ids, "a_4,a_3");
    assert_true(more);
    assert_int_equal(store_event_attempts(s, e1, NULL, "a_3", NULL, 2, a, &n, &more, &d), ERR_OK);
    attempt_ids(a, n, ids, sizeof(ids));
    assert_string_equal(ids, "a_2,a_1");
    assert_false(more);
    assert_int_equal(store_event_attempts(s, e1, "ep_1", NULL, NULL, 8, a, &n, &more, &d), ERR_OK);
    attempt_ids(a, n, ids, sizeof(ids));
    assert_string_equal(ids, "a_2,a_1");

    static const struct {
        struct store_attempt_filter f;
        const char *want;
    } filters[] = {
        {{.status = 0, .code_class = -1}, "a_4,a_1"},
        {{.status = 2, .code_class = -1}, "a_3,a_2"},
        {{.status = -1, .code_class = 0}, "a_3"},
        {{.status = -1, .code_class = 500}, "a_2"},
        {{.status = -1, .code_class = 200}, "a_4,a_1"},
        {{.status = -1, .code_class = -1, .before_ms = 1400, .after_ms = 1100}, "a_3,a_2"},
        {{.status = -1, .code_class = -1, .event_types_json = "[\"t.b\"]"}, ""},
        {{.status = -1, .code_class = -1, .event_types_json = "[\"t.b\",\"t.a\"]"},
         "a_4,a_3,a_2,a_1"},
    };
    for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
        assert_int_equal(
            store_event_attempts(s, e1, NULL, NULL, &filters[i].f, 8, a, &n, &more, &d), ERR_OK);
        attempt_ids(a, n, ids, sizeof(ids));
        if (strcmp(ids, filters[i].want) != 0)
            fail_msg("filter %zu: %s, not %s", i, ids, filters[i].want);
    }
    store_close(s);
}

static void test_endpoint_fanout_messages_and_attempts(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    make_app_and_endpoints(s);
    int64_t e1 = event(s, "msg_1", "t.a", NULL, NULL, NULL, 1000);
    int64_t e2 = event(s, "msg_2", "t.b", NULL, NULL, NULL, 2000);
    make_messages(s, e1, e2);
    struct err_detail d = {0};

    struct store_endpoint_message m[4];
    int n = 0;
    bool more = false;
    assert_int_equal(store_endpoint_event_messages(s, "ep_1", NULL, 4, m, &n, &more, &d), ERR_OK);
    assert_int_equal(n, 2); /* fan-out messages only: not s_1 */
    assert_false(more);
    assert_string_equal(m[0].message_id, "m_1_2");
    assert_int_equal(m[0].status, 0);
    assert_int_equal(m[0].next_attempt_at_ms, 6000);
    assert_int_equal(m[0].event.rowid, e2);
    assert_string_equal(m[0].event.public_id, "msg_2");
    assert_string_equal(m[0].event.event_type, "t.b");
    assert_int_equal(m[0].event.payload_len, 9);
    assert_string_equal(m[1].message_id, "m_1_1");
    for (int i = 0; i < n; i++)
        store_event_release(&m[i].event);
    assert_int_equal(store_endpoint_event_messages(s, "ep_1", NULL, 1, m, &n, &more, &d), ERR_OK);
    assert_int_equal(n, 1);
    assert_true(more);
    store_event_release(&m[0].event);
    assert_int_equal(store_endpoint_event_messages(s, "ep_1", "m_1_2", 1, m, &n, &more, &d),
                     ERR_OK);
    assert_int_equal(n, 1);
    assert_false(more);
    assert_string_equal(m[0].message_id, "m_1_1");
    store_event_release(&m[0].event);
    assert_int_equal(store_endpoint_event_messages(s, "ep_2", NULL, 4, m, &n, &more, &d), ERR_OK);
    assert_int_equal(n, 1); /* not the deleted one */
    store_event_release(&m[0].event);

    struct store_event_attempt a[8];
    char ids[128];
    assert_int_equal(
        store_endpoint_event_attempts(s, "ep_1", NULL, NULL, NULL, 8, a, &n, &more, &d), ERR_OK);
    assert_int_equal(n, 3); /* newest message first, its attempts newest first */
    assert_string_equal(a[0].event_public_id, "msg_2");
    assert_string_equal(a[2].event_public_id, "msg_1");
    assert_string_equal(a[2].url, "https://1.example/");
    attempt_ids(a, n, ids, sizeof(ids));
    assert_string_equal(ids, "a_5,a_2,a_1");
    assert_int_equal(
        store_endpoint_event_attempts(s, "ep_1", NULL, NULL, NULL, 2, a, &n, &more, &d), ERR_OK);
    attempt_ids(a, n, ids, sizeof(ids));
    assert_string_equal(ids, "a_5,a_2");
    assert_true(more);
    assert_int_equal(
        store_endpoint_event_attempts(s, "ep_1", "m_1_1", "a_2", NULL, 2, a, &n, &more, &d),
        ERR_OK);
    attempt_ids(a, n, ids, sizeof(ids));
    assert_string_equal(ids, "a_1");
    assert_false(more);
    struct store_attempt_filter f = {.status = 2, .code_class = -1};
    assert_int_equal(store_endpoint_event_attempts(s, "ep_1", NULL, NULL, &f, 8, a, &n, &more, &d),
                     ERR_OK);
    attempt_ids(a, n, ids, sizeof(ids));
    assert_string_equal(ids, "a_5,a_2");
    f = (struct store_attempt_filter){
        .status = -1, .code_class = 400, .event_types_json = "[\"t.b\"]"};
    assert_int_equal(store_endpoint_event_attempts(s, "ep_1", NULL, NULL, &f, 8, a, &n, &more, &d),
                     ERR_OK);
    attempt_ids(a, n, ids, sizeof(ids));
    assert_string_equal(ids, "a_5");
    store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_candidates_are_the_live_endpoints_in_creation_order,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_fanout_follows_every_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_by_public_or_producer_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_producer_id_conflict_keeps_the_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_messages_are_queued_and_fed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_list_filters_and_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_messages_and_attempts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_endpoint_fanout_messages_and_attempts, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

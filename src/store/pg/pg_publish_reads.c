/*
 * pg_publish_reads - the messages and attempts of a published event, and the
 * fan-out messages and attempts of an endpoint, on PostgreSQL: the read half
 * of sqlite/store_publish.c (pg_publish.c has the rest).
 * Threading and errors: as store.h. SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "store/pg/pg_internal.h"

/* ---- the messages and attempts of an event ---- */

static const char SQL_EVENT_MESSAGES[] =
    "SELECT id, endpoint_id, status, coalesce(next_attempt_at, 0), attempt_count FROM messages "
    "WHERE fanout_event = $1 AND ($2::text IS NULL OR endpoint_id = $2::text) "
    "AND deleted_at IS NULL ORDER BY id";
/* struct store_attempt_filter as $5..$9: Svix status (0 success, 2 fail; a finished
 * attempt is never 1, 3 or 4), status code class (0: no answer), time bounds, types. */
#define ATTEMPT_FILTER                                                                             \
    "AND ($5::bigint < 0 OR ($5 = 0 AND coalesce(a.response_status, 0) BETWEEN 200 AND 299) "      \
    "OR ($5 = 2 AND coalesce(a.response_status, 0) NOT BETWEEN 200 AND 299)) "                     \
    "AND ($6::bigint < 0 OR ($6 = 0 AND coalesce(a.response_status, 0) = 0) "                      \
    "OR ($6 > 0 AND a.response_status >= $6 AND a.response_status < $6 + 100)) "                   \
    "AND ($7::bigint = 0 OR a.created_at < $7) AND ($8::bigint = 0 OR a.created_at > $8) "         \
    "AND ($9::jsonb IS NULL OR ev.event_type IN (SELECT jsonb_array_elements_text($9::jsonb))) "

static const char SQL_EVENT_ATTEMPTS[] =
    "SELECT a.id, a.message_id, m.endpoint_id, ep.url, a.response_body, a.response_status, "
    "a.latency_ms, a.error_text, a.created_at, a.replay_no FROM messages m "
    "JOIN attempts a ON a.message_id = m.id JOIN events ev ON ev.id = m.fanout_event "
    "LEFT JOIN endpoints ep ON ep.id = m.endpoint_id "
    "WHERE m.fanout_event = $1 AND ($2::text IS NULL OR m.endpoint_id = $2::text) "
    "AND ($3::text IS NULL OR a.id < $3::text) " ATTEMPT_FILTER "ORDER BY a.id DESC LIMIT $4";

/* An attempt row: columns 0..9 of SQL_EVENT_ATTEMPTS and SQL_EP_ATTEMPTS. */
static void read_attempt(const struct pgq *q, struct store_event_attempt *a)
{
    memset(a, 0, sizeof(*a));
    pgq_copy(a->id, sizeof(a->id), q, 0);
    pgq_copy(a->message_id, sizeof(a->message_id), q, 1);
    pgq_copy(a->endpoint_id, sizeof(a->endpoint_id), q, 2);
    a->url = pgq_dup(q, 3);
    a->response_body = pgq_dup(q, 4);
    a->response_status = (int)pgq_i64(q, 5);
    a->latency_ms = pgq_i64(q, 6);
    a->error_text = pgq_dup(q, 7);
    a->created_at_ms = pgq_i64(q, 8);
    a->replay_no = (int)pgq_i64(q, 9);
}

static void bind_attempt_filter(struct pgq *q, const struct store_attempt_filter *f)
{
    static const struct store_attempt_filter none = {.status = -1, .code_class = -1};
    if (!f)
        f = &none;
    pgq_int(q, 5, f->status);
    pgq_int(q, 6, f->code_class);
    pgq_int(q, 7, f->before_ms);
    pgq_int(q, 8, f->after_ms);
    pgq_text(q, 9, f->event_types_json);
}

enum err pg_event_messages(struct store *st, int64_t rowid, const char *endpoint_id,
                           struct store_event_message **out, size_t *n, struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    *out = NULL;
    *n = 0;
    struct pgq q;
    pgq_init(&q, s, SQL_EVENT_MESSAGES);
    pgq_int(&q, 1, rowid);
    pgq_text(&q, 2, endpoint_id);
    enum err e = pgq_run(&q, d, "read the event's messages");
    if (e == ERR_OK && pgq_rows(&q) > 0) {
        *out = calloc((size_t)pgq_rows(&q), sizeof(**out));
        if (!*out)
            abort();
    }
    while (e == ERR_OK && pgq_next(&q)) {
        struct store_event_message *m = &(*out)[(*n)++];
        pgq_copy(m->message_id, sizeof(m->message_id), &q, 0);
        pgq_copy(m->endpoint_id, sizeof(m->endpoint_id), &q, 1);
        m->status = (enum store_status)pgq_i64(&q, 2);
        m->next_attempt_at_ms = pgq_i64(&q, 3);
        m->attempt_count = (int)pgq_i64(&q, 4);
    }
    pgq_done(&q);
    return e;
}

enum err pg_event_attempts(struct store *st, int64_t rowid, const char *endpoint_id,
                           const char *before_id, const struct store_attempt_filter *f, int limit,
                           struct store_event_attempt *out, int *n, bool *has_more,
                           struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    *n = 0;
    *has_more = false;
    struct pgq q;
    pgq_init(&q, s, SQL_EVENT_ATTEMPTS);
    pgq_int(&q, 1, rowid);
    pgq_text(&q, 2, endpoint_id);
    pgq_text(&q, 3, before_id && before_id[0] ? before_id : NULL);
    pgq_int(&q, 4, limit + 1);
    bind_attempt_filter(&q, f);
    enum err e = pgq_run(&q, d, "list the event's attempts");
    while (e == ERR_OK && pgq_next(&q)) {
        if (*n == limit) {
            *has_more = true;
            break;
        }
        read_attempt(&q, &out[(*n)++]);
    }
    pgq_done(&q);
    return e;
}

/* ---- the fan-out messages and attempts of an endpoint ---- */

static const char SQL_EP_MESSAGES[] =
    "SELECT m.id, m.status, coalesce(m.next_attempt_at, 0), e.id, e.public_id, e.mode, "
    "e.application_id, e.event_type, e.producer_id, e.payload, e.content_type, e.channels, "
    "e.tags, e.created_at FROM messages m " /* pg__read_event from column 3 */
    "JOIN events e ON e.id = m.fanout_event WHERE m.endpoint_id = $1 "
    "AND m.fanout_event IS NOT NULL AND m.deleted_at IS NULL "
    "AND ($2::text IS NULL OR m.id < $2::text) ORDER BY m.id DESC LIMIT $3";
static const char SQL_EP_ATTEMPTS[] =
    "SELECT a.id, a.message_id, m.endpoint_id, ep.url, a.response_body, a.response_status, "
    "a.latency_ms, a.error_text, a.created_at, a.replay_no, ev.public_id FROM messages m "
    "JOIN attempts a ON a.message_id = m.id JOIN events ev ON ev.id = m.fanout_event "
    "LEFT JOIN endpoints ep ON ep.id = m.endpoint_id WHERE m.endpoint_id = $1 "
    "AND m.fanout_event IS NOT NULL AND ($2::text IS NULL OR m.id < $2::text "
    "OR (m.id = $2::text AND a.id < $3::text)) " ATTEMPT_FILTER
    "ORDER BY m.id DESC, a.id DESC LIMIT $4";

enum err pg_endpoint_event_messages(struct store *st, const char *endpoint_id,
                                    const char *before_message_id, int limit,
                                    struct store_endpoint_message *out, int *n, bool *has_more,
                                    struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    *n = 0;
    *has_more = false;
    struct pgq q;
    pgq_init(&q, s, SQL_EP_MESSAGES);
    pgq_text(&q, 1, endpoint_id);
    pgq_text(&q, 2, before_message_id && before_message_id[0] ? before_message_id : NULL);
    pgq_int(&q, 3, limit + 1);
    enum err e = pgq_run(&q, d, "list the endpoint's messages");
    while (e == ERR_OK && pgq_next(&q)) {
        if (*n == limit) {
            *has_more = true;
            break;
        }
        struct store_endpoint_message *m = &out[(*n)++];
        memset(m, 0, sizeof(*m));
        pgq_copy(m->message_id, sizeof(m->message_id), &q, 0);
        m->status = (enum store_status)pgq_i64(&q, 1);
        m->next_attempt_at_ms = pgq_i64(&q, 2);
        pg__read_event(&q, 3, &m->event);
    }
    pgq_done(&q);
    return e;
}

enum err pg_endpoint_event_attempts(struct store *st, const char *endpoint_id,
                                    const char *before_message_id, const char *before_attempt_id,
                                    const struct store_attempt_filter *f, int limit,
                                    struct store_event_attempt *out, int *n, bool *has_more,
                                    struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    *n = 0;
    *has_more = false;
    struct pgq q;
    pgq_init(&q, s, SQL_EP_ATTEMPTS);
    pgq_text(&q, 1, endpoint_id);
    bool after = before_message_id && before_message_id[0];
    pgq_text(&q, 2, after ? before_message_id : NULL);
    pgq_text(&q, 3, after ? before_attempt_id : NULL);
    pgq_int(&q, 4, limit + 1);
    bind_attempt_filter(&q, f);
    enum err e = pgq_run(&q, d, "list the endpoint's attempts");
    while (e == ERR_OK && pgq_next(&q)) {
        if (*n == limit) {
            *has_more = true;
            break;
        }
        struct store_event_attempt *a = &out[(*n)++];
        read_attempt(&q, a);
        pgq_copy(a->event_public_id, sizeof(a->event_public_id), &q, 10);
    }
    pgq_done(&q);
    return e;
}

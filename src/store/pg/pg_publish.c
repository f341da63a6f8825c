/*
 * pg_publish - published events and their fan-out on PostgreSQL, the twin of
 * sqlite/store_publish.c: the endpoints of an application as the fan-out rule
 * needs them, the event row, one message per matching endpoint (handed to the
 * completion feed with the event's public id as its webhook-id), and reads of
 * events by public or producer id. The messages and attempts of an event or an
 * endpoint are in pg_publish_reads.c.
 * Description: unlike SQLite, store_fanout_get keeps no answer between
 * publishes: another hookd node may change the endpoints of an application at
 * any time, so every publish reads the application and its candidates again.
 * Threading and errors: as store.h. SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg/pg_internal.h"

/* The enabled subscriptions as a compact JSON array, as SQLite's json_group_array
 * writes it (ordered as its unique index (endpoint_id, event_type) reads them). */
static const char SQL_CANDIDATES[] =
    "SELECT e.id, e.all_event_types, e.channels, e.filter, "
    "(SELECT '[' || COALESCE(string_agg(to_json(s.event_type::text)::text, ',' "
    "ORDER BY s.event_type), '') || ']' FROM subscriptions s WHERE s.endpoint_id = e.id "
    "AND s.enabled = 1), e.policy FROM endpoints e WHERE e.application_id = $1 "
    "AND e.deleted_at IS NULL AND e.disabled = 0 ORDER BY e.seq";
/* A taken producer id (or, in theory, public id) inserts nothing and returns no row:
 * a conflict that leaves the transaction usable, also when another node raced us. */
static const char SQL_EVENT_INSERT[] =
    "INSERT INTO events (content_type, payload, created_at, public_id, mode, application_id, "
    "event_type, producer_id, channels, tags) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
    "ON CONFLICT DO NOTHING RETURNING id";

#define FANOUT_MSG_INSERT(status)                                                                  \
    "INSERT INTO messages (id, event_id, endpoint_id, mode, payload_sha256, size_bytes, status, "  \
    "created_at, updated_at, payload_expires_at, fanout_event, lease_owner) "                      \
    "VALUES ($1, $2, $3, $4, $5, $6, " status ", $7, $7, $8, $2, " PG_NODE ")"
static const char SQL_FANOUT_MSG_INSERT[] = FANOUT_MSG_INSERT("0");
static const char SQL_FANOUT_MSG_INSERT_DEDUPED[] = FANOUT_MSG_INSERT("5"); /* deduplicated */

#define EVENT_COLS                                                                                 \
    "id, public_id, mode, application_id, event_type, producer_id, payload, content_type, "        \
    "channels, tags, created_at"
/* a public id wins over a producer id (IS TRUE: NULL sorts first in DESC order) */
static const char SQL_EVENT_GET[] = "SELECT " EVENT_COLS " FROM events WHERE application_id = $1 "
                                    "AND (public_id = $2 OR producer_id = $2) "
                                    "ORDER BY (public_id = $2) IS TRUE DESC LIMIT 1";
static const char SQL_EVENT_ROWID[] =
    "SELECT id FROM events WHERE public_id = $1 AND application_id = $2";
static const char SQL_EVENT_LIST[] =
    "SELECT " EVENT_COLS " FROM events WHERE application_id = $1 AND id < $2 "
    "AND ($3::jsonb IS NULL OR event_type IN (SELECT jsonb_array_elements_text($3::jsonb))) "
    "AND ($5::text IS NULL OR EXISTS (SELECT 1 FROM "
    "jsonb_array_elements_text(events.channels::jsonb) v WHERE v = $5::text)) "
    "AND ($6::text IS NULL OR EXISTS (SELECT 1 FROM "
    "jsonb_array_elements_text(events.tags::jsonb) v WHERE v = $6::text)) "
    "AND ($7::bigint = 0 OR created_at < $7) AND ($8::bigint = 0 OR created_at > $8) "
    "ORDER BY id DESC LIMIT $4";

enum err pg_publish_candidates(struct store *st, const char *app_id, struct store_candidate **out,
                               size_t *n, struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    *out = NULL;
    *n = 0;
    struct pgq q;
    pgq_init(&q, s, SQL_CANDIDATES);
    pgq_text(&q, 1, app_id);
    enum err e = pgq_run(&q, d, "read the application's endpoints");
    if (e == ERR_OK && pgq_rows(&q) > 0) {
        *out = calloc((size_t)pgq_rows(&q), sizeof(**out));
        if (!*out)
            abort();
    }
    while (e == ERR_OK && pgq_next(&q)) {
        struct store_candidate *c = &(*out)[(*n)++];
        pgq_copy(c->id, sizeof(c->id), &q, 0);
        c->all_event_types = pgq_bool(&q, 1);
        c->channels_json = pgq_dup(&q, 2);
        c->filter_json = pgq_dup(&q, 3);
        c->event_types_json = pgq_dup(&q, 4);
        c->dedupe = store__dedupe_policy_of(pgq_str(&q, 5)); /* NULL without the rule */
    }
    pgq_done(&q);
    return e;
}

/* ---- what store_fanout_get lends ---- */

/* The answer of pg_fanout_get is borrowed by its caller until the next call on the
 * same store, so it must live somewhere tied to the store; struct pg_store has no
 * field for it, so each thread (a store is used by one thread at a time) holds the
 * last answer of up to FANOUT_HELD stores, freed when the thread ends. It is never
 * given again: every call reads anew. */
#define FANOUT_HELD 4
struct fanout_held {
    struct {
        const struct pg_store *s;
        struct store_fanout f;
    } slot[FANOUT_HELD];
    unsigned next; /* the slot to take over when all are in use */
};

static pthread_key_t held_key;
static pthread_once_t held_once = PTHREAD_ONCE_INIT;

static void held_free(void *p)
{
    struct fanout_held *h = p;
    for (int i = 0; h && i < FANOUT_HELD; i++)
        store_candidates_free(h->slot[i].f.cands, h->slot[i].f.n);
    free(h);
}

static void held_key_make(void)
{
    if (pthread_key_create(&held_key, held_free) != 0)
        abort();
}

/* The slot of s in this thread, emptied. */
static struct store_fanout *held_slot(const struct pg_store *s)
{
    pthread_once(&held_once, held_key_make);
    struct fanout_held *h = pthread_getspecific(held_key);
    if (!h) {
        if (!(h = calloc(1, sizeof(*h))) || pthread_setspecific(held_key, h) != 0)
            abort();
    }
    int i = 0;
    while (i < FANOUT_HELD && h->slot[i].s != s)
        i++;
    if (i == FANOUT_HELD) {
        for (i = 0; i < FANOUT_HELD && h->slot[i].s; i++)
            ;
        if (i == FANOUT_HELD)
            i = (int)(h->next++ % FANOUT_HELD);
    }
    h->slot[i].s = s;
    store_candidates_free(h->slot[i].f.cands, h->slot[i].f.n);
    memset(&h->slot[i].f, 0, sizeof(h->slot[i].f));
    return &h->slot[i].f;
}

enum err pg_fanout_get(struct store *st, const char *mode, const char *app,
                       const struct store_fanout **out, struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    *out = NULL;
    struct store_fanout *f = held_slot(s);
    struct store_application a = {0};
    enum err e = pg_application_get(st, mode, app, &a, d);
    if (e == ERR_OK) {
        snprintf(f->app_id, sizeof(f->app_id), "%s", a.id);
        e = pg_publish_candidates(st, a.id, &f->cands, &f->n, d);
    }
    store_application_release(&a);
    if (e == ERR_OK)
        *out = f;
    return e;
}

/* ---- writing an event ---- */

enum err pg_event_insert(struct store *st, const struct store_event_in *ev, int64_t *rowid,
                         struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    struct pgq q;
    pgq_init(&q, s, SQL_EVENT_INSERT);
    pgq_text(&q, 1, ev->content_type);
    if (ev->payload)
        pgq_blob(&q, 2, ev->payload, ev->payload_len);
    else
        pgq_null(&q, 2);
    pgq_int(&q, 3, ev->now_ms);
    pgq_text(&q, 4, ev->public_id);
    pgq_text(&q, 5, ev->mode);
    pgq_text(&q, 6, ev->application_id);
    pgq_text(&q, 7, ev->event_type);
    pgq_text(&q, 8, ev->producer_id);
    pgq_text(&q, 9, ev->channels_json);
    pgq_text(&q, 10, ev->tags_json);
    enum err e = pgq_run(&q, d, "insert event");
    if (e == ERR_OK && pgq_next(&q))
        *rowid = pgq_i64(&q, 0);
    else if (e == ERR_OK && ev->producer_id)
        e = err_set_field(d, ERR_CONFLICT, "CONFLICT", "event_id",
                          "an event with eventId '%s' was already published to this "
                          "application",
                          ev->producer_id);
    else if (e == ERR_OK)
        e = err_set(d, ERR_CONFLICT, "CONFLICT", "an event with id '%s' already exists",
                    ev->public_id);
    pgq_done(&q);
    return e;
}

enum err pg_event_message_insert(struct store *st, const struct store_event_in *ev, int64_t rowid,
                                 const char *message_id, const char *endpoint_id,
                                 const struct dedupe_policy *dedupe, bool *deduplicated,
                                 struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    bool duplicate = false;
    if (deduplicated)
        *deduplicated = false;
    enum err e;
    /* Only endpoints with a deduplicate rule get here (pg_dedupe.c); a published
     * event has no custom headers of its own. */
    if (dedupe && (e = pg__dedupe_see(s, endpoint_id, dedupe, ev->payload, ev->payload_len, NULL,
                                      ev->event_type, ev->now_ms, &duplicate, d)) != ERR_OK)
        return e;
    struct pgq q;
    pgq_init(&q, s, duplicate ? SQL_FANOUT_MSG_INSERT_DEDUPED : SQL_FANOUT_MSG_INSERT);
    pgq_text(&q, 1, message_id);
    pgq_int(&q, 2, rowid);
    pgq_text(&q, 3, endpoint_id);
    pgq_text(&q, 4, ev->mode);
    pgq_text(&q, 5, ev->payload_sha256);
    pgq_int(&q, 6, (int64_t)ev->payload_len);
    pgq_int(&q, 7, ev->now_ms);
    pgq_opt_int(&q, 8, ev->payload_expires_at_ms, 0);
    e = pgq_run(&q, d, "insert message");
    pgq_done(&q);
    if (e != ERR_OK)
        return e;
    if (deduplicated)
        *deduplicated = duplicate;
    struct feed *f = pg__feed(s);
    if (f && !duplicate)
        feed_item_attach(feed_push_due(f, message_id, endpoint_id, 0, ev->now_ms), ev->payload,
                         ev->payload_len, ev->content_type, NULL, ev->public_id);
    /* total counts a deduplicated message too, as store_send_insert does */
    struct store_rollup delta = {.total = 1};
    return pg__rollup_add(s, ev->mode, endpoint_id, ev->now_ms, &delta, d);
}

/* ---- reading events ---- */

static const char SQL_MESSAGE_ORIGIN[] =
    "SELECT ev.public_id, ep.application_id FROM messages m "
    "JOIN endpoints ep ON ep.id = m.endpoint_id LEFT JOIN events ev ON ev.id = m.event_id "
    "WHERE m.id = $1";

enum err pg_message_origin(struct store *st, const char *message_id, char public_id[ID_MAX],
                           char app_id[ID_MAX], struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    public_id[0] = app_id[0] = '\0';
    struct pgq q;
    pgq_init(&q, s, SQL_MESSAGE_ORIGIN);
    pgq_text(&q, 1, message_id);
    enum err e = pgq_run(&q, d, "read the origin of a message");
    if (e == ERR_OK && pgq_next(&q)) {
        pgq_copy(public_id, ID_MAX, &q, 0);
        pgq_copy(app_id, ID_MAX, &q, 1);
    } else if (e == ERR_OK) {
        e = err_set(d, ERR_NOTFOUND, "NOT_FOUND", "message '%s' not found", message_id);
    }
    pgq_done(&q);
    return e;
}

void pg__read_event(const struct pgq *q, int first, struct store_event *e)
{
    e->rowid = pgq_i64(q, first);
    pgq_copy(e->public_id, sizeof(e->public_id), q, first + 1);
    pgq_copy(e->mode, sizeof(e->mode), q, first + 2);
    pgq_copy(e->application_id, sizeof(e->application_id), q, first + 3);
    e->event_type = pgq_dup(q, first + 4);
    e->producer_id = pgq_dup(q, first + 5);
    e->payload = pgq_bytes(q, first + 6, &e->payload_len); /* NULL once purged */
    e->content_type = pgq_dup(q, first + 7);
    e->channels_json = pgq_dup(q, first + 8);
    e->tags_json = pgq_dup(q, first + 9);
    e->created_at_ms = pgq_i64(q, first + 10);
}

enum err pg_event_get(struct store *st, const char *app_id, const char *id_or_producer_id,
                      struct store_event *out, struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    memset(out, 0, sizeof(*out));
    struct pgq q;
    pgq_init(&q, s, SQL_EVENT_GET);
    pgq_text(&q, 1, app_id);
    pgq_text(&q, 2, id_or_producer_id);
    enum err e = pgq_run(&q, d, "read event");
    if (e == ERR_OK && pgq_next(&q))
        pg__read_event(&q, 0, out);
    else if (e == ERR_OK)
        e = err_set(d, ERR_NOTFOUND, "NOT_FOUND", "message '%s' not found", id_or_producer_id);
    pgq_done(&q);
    return e;
}

enum err pg_event_list(struct store *st, const char *app_id, const char *after_public_id,
                       const struct store_event_filter *f, int limit, struct store_event *out,
                       int *n, bool *has_more, struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    static const struct store_event_filter none;
    if (!f)
        f = &none;
    int64_t before = INT64_MAX;
    *n = 0;
    *has_more = false;
    if (after_public_id && after_public_id[0]) {
        enum err e = pg__iterator_seq(s, SQL_EVENT_ROWID, after_public_id, app_id, &before, d);
        if (e != ERR_OK)
            return e;
    }
    struct pgq q;
    pgq_init(&q, s, SQL_EVENT_LIST);
    pgq_text(&q, 1, app_id);
    pgq_int(&q, 2, before);
    pgq_text(&q, 3, f->event_types_json);
    pgq_int(&q, 4, limit + 1);
    pgq_text(&q, 5, f->channel);
    pgq_text(&q, 6, f->tag);
    pgq_int(&q, 7, f->before_ms);
    pgq_int(&q, 8, f->after_ms);
    enum err e = pgq_run(&q, d, "list events");
    while (e == ERR_OK && pgq_next(&q)) {
        if (*n == limit) {
            *has_more = true;
            break;
        }
        memset(&out[*n], 0, sizeof(out[*n]));
        pg__read_event(&q, 0, &out[(*n)++]);
    }
    pgq_done(&q);
    return e;
}

/* ---- marks on an event ---- */

static const char SQL_ORPHAN[] = "UPDATE events SET orphan = $2 WHERE id = $1";

enum err pg_event_set_orphan(struct store *st, int64_t rowid, bool orphan, struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    struct pgq q;
    pgq_init(&q, s, SQL_ORPHAN);
    pgq_int(&q, 1, rowid);
    pgq_opt_int(&q, 2, orphan ? 1 : 0, 0); /* NULL when not: out of the orphan index */
    enum err e = pgq_run(&q, d, "mark the event's endpoints");
    pgq_done(&q);
    return e;
}

static const char SQL_ERASE_EVENT[] = "UPDATE events SET payload = NULL WHERE id = $1";
static const char SQL_ERASE_MESSAGES[] =
    "UPDATE messages SET payload_purged_at = $2 WHERE fanout_event = $1 "
    "AND payload_purged_at IS NULL";

enum err pg_event_erase_payload(struct store *st, int64_t rowid, int64_t now_ms,
                                struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    struct pgq q;
    pgq_init(&q, s, SQL_ERASE_EVENT);
    pgq_int(&q, 1, rowid);
    enum err e = pgq_run(&q, d, "erase the event's payload");
    pgq_done(&q);
    if (e != ERR_OK)
        return e;
    pgq_init(&q, s, SQL_ERASE_MESSAGES);
    pgq_int(&q, 1, rowid);
    pgq_int(&q, 2, now_ms);
    e = pgq_run(&q, d, "mark the event's messages purged");
    pgq_done(&q);
    return e;
}

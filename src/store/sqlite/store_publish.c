/*
 * store_publish - published events and their fan-out (migration 11,
 * TENANCY.md §1): the endpoints of an application as the fan-out rule needs
 * them, the event row, one message per matching endpoint (each handed to the
 * completion feed with the event's public id as its webhook-id), and reads
 * of events by public or producer id.
 * Description: the caller (service/publish.c, inside one committer op)
 * decides which candidates match; everything an event writes is in that op's
 * transaction, so an event and all its messages commit together.
 * Threading and errors: as store.h. SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite_internal.h"

static const char SQL_CANDIDATES[] =
    "SELECT e.id, e.all_event_types, e.channels, e.filter, "
    "(SELECT json_group_array(event_type) FROM subscriptions s WHERE s.endpoint_id = e.id "
    "AND s.enabled), e.policy FROM endpoints e WHERE e.application_id = ?1 "
    "AND e.deleted_at IS NULL AND e.disabled = 0 ORDER BY e.seq";
static const char SQL_PRODUCER_TAKEN[] =
    "SELECT public_id FROM events WHERE application_id = ?1 AND producer_id = ?2";
#define FANOUT_MSG_INSERT(status)                                                                  \
    "INSERT INTO messages (id, event_id, endpoint_id, mode, payload_sha256, size_bytes, status, "  \
    "created_at, updated_at, payload_expires_at, fanout_event) "                                   \
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, " status ", ?7, ?7, ?8, ?2)"
static const char SQL_FANOUT_MSG_INSERT[] = FANOUT_MSG_INSERT("0");
static const char SQL_FANOUT_MSG_INSERT_DEDUPED[] = FANOUT_MSG_INSERT("5"); /* deduplicated */
static const char SQL_EVENT_INSERT[] =
    "INSERT INTO events (content_type, payload, created_at, public_id, mode, application_id, "
    "event_type, producer_id, channels, tags) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";

#define EVENT_COLS                                                                                 \
    "id, public_id, mode, application_id, event_type, producer_id, payload, content_type, "        \
    "channels, tags, created_at"
static const char SQL_EVENT_GET[] = "SELECT " EVENT_COLS " FROM events WHERE application_id = ?1 "
                                    "AND (public_id = ?2 OR producer_id = ?2) "
                                    "ORDER BY public_id = ?2 DESC LIMIT 1";
static const char SQL_EVENT_ROWID[] =
    "SELECT id FROM events WHERE public_id = ?1 AND application_id = ?2";
static const char SQL_EVENT_LIST[] =
    "SELECT " EVENT_COLS " FROM events WHERE application_id = ?1 AND id < ?2 "
    "AND (?3 IS NULL OR event_type IN (SELECT value FROM json_each(?3))) "
    "AND (?5 IS NULL OR EXISTS (SELECT 1 FROM json_each(events.channels) WHERE value = ?5)) "
    "AND (?6 IS NULL OR EXISTS (SELECT 1 FROM json_each(events.tags) WHERE value = ?6)) "
    "AND (?7 = 0 OR created_at < ?7) AND (?8 = 0 OR created_at > ?8) "
    "ORDER BY id DESC LIMIT ?4";

enum err sqlite_publish_candidates(struct store *st, const char *app_id,
                                   struct store_candidate **out, size_t *n, struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    *out = NULL;
    *n = 0;
    size_t cap = 0;
    sqlite3_stmt *q = store__prepare(s, SQL_CANDIDATES);
    store__bind_text(q, 1, app_id);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            struct store_candidate *grown = realloc(*out, cap * sizeof(**out));
            if (!grown)
                abort();
            *out = grown;
        }
        struct store_candidate *c = &(*out)[(*n)++];
        memset(c, 0, sizeof(*c));
        store__col_copy(c->id, sizeof(c->id), q, 0);
        c->all_event_types = sqlite3_column_int(q, 1) != 0;
        c->channels_json = store__col_dup(q, 2);
        c->filter_json = store__col_dup(q, 3);
        c->event_types_json = store__col_dup(q, 4);
        /* parsed here, once per cache fill: NULL for an endpoint without the rule */
        c->dedupe = store__dedupe_policy_of((const char *)sqlite3_column_text(q, 5));
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) {
        store_candidates_free(*out, *n);
        *out = NULL;
        *n = 0;
        return store__db_err(s, rc, d, "read the application's endpoints");
    }
    return ERR_OK;
}

void store__fanout_release(struct sqlite_store *s)
{
    for (int i = 0; i < STORE__FANOUT_SLOTS + 1; i++) {
        struct store__fanout_slot *slot = &s->fanout[i];
        store_candidates_free(slot->f.cands, slot->f.n);
        memset(slot, 0, sizeof(*slot));
    }
}

enum err sqlite_fanout_get(struct store *st, const char *mode, const char *app,
                           const struct store_fanout **out, struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    *out = NULL;
    unsigned h = 2166136261u;
    for (const char *p = app; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    bool ops = strncmp(app, STORE_OPS_APP_PREFIX, strlen(STORE_OPS_APP_PREFIX)) == 0;
    struct store__fanout_slot *slot =
        &s->fanout[ops ? STORE__FANOUT_SLOTS : h % STORE__FANOUT_SLOTS];
    if (s->in_batch && slot->gen == s->ep_gen && strcmp(slot->key, app) == 0 &&
        strcmp(slot->mode, mode) == 0) {
        if (slot->missing) /* as store_application_get says it */
            return err_set(d, ERR_NOTFOUND, "NOT_FOUND", "application '%s' not found", app);
        *out = &slot->f;
        return ERR_OK;
    }
    uint64_t gen = s->ep_gen; /* reading changes nothing; taken first all the same */
    store_candidates_free(slot->f.cands, slot->f.n);
    memset(slot, 0, sizeof(*slot));
    struct store_application a = {0};
    enum err e = sqlite_application_get(&s->base, mode, app, &a, d);
    if (e == ERR_OK) {
        snprintf(slot->f.app_id, sizeof(slot->f.app_id), "%s", a.id);
        e = sqlite_publish_candidates(&s->base, a.id, &slot->f.cands, &slot->f.n, d);
    }
    store_application_release(&a);
    if (e != ERR_OK && e != ERR_NOTFOUND)
        return e;
    /* an absence is kept too: the operational application is looked for at every
     * attempt and usually does not exist (service/ops_events.c) */
    if (s->in_batch && strlen(app) < sizeof(slot->key) && strlen(mode) < sizeof(slot->mode)) {
        strcpy(slot->key, app);
        strcpy(slot->mode, mode);
        slot->gen = gen;
        slot->missing = e == ERR_NOTFOUND;
    }
    if (e != ERR_OK)
        return e;
    *out = &slot->f;
    return ERR_OK;
}

enum err sqlite_event_insert(struct store *st, const struct store_event_in *ev, int64_t *rowid,
                             struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    sqlite3_stmt *q;
    if (ev->producer_id) {
        q = store__prepare(s, SQL_PRODUCER_TAKEN);
        store__bind_text(q, 1, ev->application_id);
        store__bind_text(q, 2, ev->producer_id);
        int rc = sqlite3_step(q);
        sqlite3_reset(q);
        if (rc == SQLITE_ROW)
            return err_set_field(d, ERR_CONFLICT, "CONFLICT", "event_id",
                                 "an event with eventId '%s' was already published to this "
                                 "application",
                                 ev->producer_id);
        if (rc != SQLITE_DONE)
            return store__db_err(s, rc, d, "check the event id");
    }
    q = store__prepare(s, SQL_EVENT_INSERT);
    store__bind_text(q, 1, ev->content_type);
    sqlite3_bind_blob(q, 2, ev->payload, (int)ev->payload_len, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, ev->now_ms);
    store__bind_text(q, 4, ev->public_id);
    store__bind_text(q, 5, ev->mode);
    store__bind_text(q, 6, ev->application_id);
    store__bind_text(q, 7, ev->event_type);
    store__bind_text(q, 8, ev->producer_id);
    store__bind_text(q, 9, ev->channels_json);
    store__bind_text(q, 10, ev->tags_json);
    enum err e = store__exec(s, q, d, "insert event");
    if (e == ERR_OK)
        *rowid = sqlite3_last_insert_rowid(s->db);
    return e;
}

enum err sqlite_event_message_insert(struct store *st, const struct store_event_in *ev,
                                     int64_t rowid, const char *message_id, const char *endpoint_id,
                                     const struct dedupe_policy *dedupe, bool *deduplicated,
                                     struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    bool duplicate = false;
    if (deduplicated)
        *deduplicated = false;
    enum err e;
    /* Only endpoints with a deduplicate rule get here (store_dedupe.c); a published
     * event has no custom headers of its own. */
    if (dedupe && (e = store__dedupe_see(s, endpoint_id, dedupe, ev->payload, ev->payload_len, NULL,
                                         ev->event_type, ev->now_ms, &duplicate, d)) != ERR_OK)
        return e;
    sqlite3_stmt *q =
        store__prepare(s, duplicate ? SQL_FANOUT_MSG_INSERT_DEDUPED : SQL_FANOUT_MSG_INSERT);
    store__bind_text(q, 1, message_id);
    sqlite3_bind_int64(q, 2, rowid);
    store__bind_text(q, 3, endpoint_id);
    store__bind_text(q, 4, ev->mode);
    store__bind_text(q, 5, ev->payload_sha256);
    sqlite3_bind_int64(q, 6, (sqlite3_int64)ev->payload_len);
    sqlite3_bind_int64(q, 7, ev->now_ms);
    store__bind_opt_int(q, 8, ev->payload_expires_at_ms, 0);
    e = store__exec(s, q, d, "insert message");
    if (e != ERR_OK)
        return e;
    if (deduplicated)
        *deduplicated = duplicate;
    struct feed *f = store__feed(s);
    if (f && !duplicate)
        feed_item_attach(feed_push_due(f, message_id, endpoint_id, 0, ev->now_ms), ev->payload,
                         ev->payload_len, ev->content_type, NULL, ev->public_id);
    struct store_rollup delta = {.total = 1};
    return store__rollup_add(s, ev->mode, endpoint_id, ev->now_ms, &delta, d);
}

static const char SQL_MESSAGE_ORIGIN[] =
    "SELECT ev.public_id, ep.application_id FROM messages m "
    "JOIN endpoints ep ON ep.id = m.endpoint_id LEFT JOIN events ev ON ev.id = m.event_id "
    "WHERE m.id = ?1";

enum err sqlite_message_origin(struct store *st, const char *message_id, char public_id[ID_MAX],
                               char app_id[ID_MAX], struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    public_id[0] = app_id[0] = '\0';
    sqlite3_stmt *q = store__prepare(s, SQL_MESSAGE_ORIGIN);
    store__bind_text(q, 1, message_id);
    int rc = sqlite3_step(q);
    enum err e = ERR_OK;
    if (rc == SQLITE_ROW) {
        store__col_copy(public_id, ID_MAX, q, 0);
        store__col_copy(app_id, ID_MAX, q, 1);
    } else if (rc == SQLITE_DONE) {
        e = err_set(d, ERR_NOTFOUND, "NOT_FOUND", "message '%s' not found", message_id);
    } else {
        e = store__db_err(s, rc, d, "read the origin of a message");
    }
    sqlite3_reset(q);
    return e;
}

/* The event's columns (EVENT_COLS) from column first on. */
static void read_event(sqlite3_stmt *q, int first, struct store_event *e)
{
    e->rowid = sqlite3_column_int64(q, first);
    store__col_copy(e->public_id, sizeof(e->public_id), q, first + 1);
    store__col_copy(e->mode, sizeof(e->mode), q, first + 2);
    store__col_copy(e->application_id, sizeof(e->application_id), q, first + 3);
    e->event_type = store__col_dup(q, first + 4);
    e->producer_id = store__col_dup(q, first + 5);
    if (sqlite3_column_type(q, first + 6) != SQLITE_NULL) {
        int n = sqlite3_column_bytes(q, first + 6);
        e->payload = malloc((size_t)n + 1);
        if (!e->payload)
            abort();
        if (n)
            memcpy(e->payload, sqlite3_column_blob(q, first + 6), (size_t)n);
        e->payload[n] = '\0';
        e->payload_len = (size_t)n;
    }
    e->content_type = store__col_dup(q, first + 7);
    e->channels_json = store__col_dup(q, first + 8);
    e->tags_json = store__col_dup(q, first + 9);
    e->created_at_ms = sqlite3_column_int64(q, first + 10);
}

enum err sqlite_event_get(struct store *st, const char *app_id, const char *id_or_producer_id,
                          struct store_event *out, struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    sqlite3_stmt *q = store__prepare(s, SQL_EVENT_GET);
    store__bind_text(q, 1, app_id);
    store__bind_text(q, 2, id_or_producer_id);
    int rc = sqlite3_step(q);
    enum err e = ERR_OK;
    memset(out, 0, sizeof(*out));
    if (rc == SQLITE_ROW)
        read_event(q, 0, out);
    else if (rc == SQLITE_DONE)
        e = err_set(d, ERR_NOTFOUND, "NOT_FOUND", "message '%s' not found", id_or_producer_id);
    else
        e = store__db_err(s, rc, d, "read event");
    sqlite3_reset(q);
    return e;
}

enum err sqlite_event_list(struct store *st, const char *app_id, const char *after_public_id,
                           const struct store_event_filter *f, int limit, struct store_event *out,
                           int *n, bool *has_more, struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    static const struct store_event_filter none;
    if (!f)
        f = &none;
    int64_t before = INT64_MAX;
    *n = 0;
    *has_more = false;
    sqlite3_stmt *q;
    int rc;
    if (after_public_id && after_public_id[0]) {
        enum err e = store__iterator_seq(s, SQL_EVENT_ROWID, after_public_id, app_id, &before, d);
        if (e != ERR_OK)
            return e;
    }
    q = store__prepare(s, SQL_EVENT_LIST);
    store__bind_text(q, 1, app_id);
    sqlite3_bind_int64(q, 2, before);
    store__bind_text(q, 3, f->event_types_json);
    sqlite3_bind_int(q, 4, limit + 1);
    store__bind_text(q, 5, f->channel);
    store__bind_text(q, 6, f->tag);
    sqlite3_bind_int64(q, 7, f->before_ms);
    sqlite3_bind_int64(q, 8, f->after_ms);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (*n == limit) {
            *has_more = true;
            break;
        }
        memset(&out[*n], 0, sizeof(out[*n]));
        read_event(q, 0, &out[(*n)++]);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        for (int i = 0; i < *n; i++)
            store_event_release(&out[i]);
        *n = 0;
        return store__db_err(s, rc, d, "list events");
    }
    return ERR_OK;
}

/* ---- the messages and attempts of an event ---- */

static const char SQL_EVENT_MESSAGES[] =
    "SELECT id, endpoint_id, status, coalesce(next_attempt_at, 0), attempt_count FROM messages "
    "WHERE fanout_event = ?1 AND (?2 IS NULL OR endpoint_id = ?2) AND deleted_at IS NULL "
    "ORDER BY id";
/* struct store_attempt_filter as ?5..?9: Svix status (0 success, 2 fail; a finished
 * attempt is never 1, 3 or 4), status code class (0: no answer), time bounds, types. */
#define ATTEMPT_FILTER                                                                             \
    "AND (?5 < 0 OR (?5 = 0 AND coalesce(a.response_status, 0) BETWEEN 200 AND 299) "              \
    "OR (?5 = 2 AND coalesce(a.response_status, 0) NOT BETWEEN 200 AND 299)) "                     \
    "AND (?6 < 0 OR (?6 = 0 AND coalesce(a.response_status, 0) = 0) "                              \
    "OR (?6 > 0 AND a.response_status >= ?6 AND a.response_status < ?6 + 100)) "                   \
    "AND (?7 = 0 OR a.created_at < ?7) AND (?8 = 0 OR a.created_at > ?8) "                         \
    "AND (?9 IS NULL OR ev.event_type IN (SELECT value FROM json_each(?9))) "

static const char SQL_EVENT_ATTEMPTS[] =
    "SELECT a.id, a.message_id, m.endpoint_id, ep.url, a.response_body, a.response_status, "
    "a.latency_ms, a.error_text, a.created_at, a.replay_no FROM messages m "
    "JOIN attempts a ON a.message_id = m.id JOIN events ev ON ev.id = m.fanout_event "
    "LEFT JOIN endpoints ep ON ep.id = m.endpoint_id "
    "WHERE m.fanout_event = ?1 AND (?2 IS NULL OR m.endpoint_id = ?2) "
    "AND (?3 IS NULL OR a.id < ?3) " ATTEMPT_FILTER "ORDER BY a.id DESC LIMIT ?4";

/* An attempt row: columns 0..9 of SQL_EVENT_ATTEMPTS and SQL_EP_ATTEMPTS. */
static void read_attempt(sqlite3_stmt *q, struct store_event_attempt *a)
{
    memset(a, 0, sizeof(*a));
    store__col_copy(a->id, sizeof(a->id), q, 0);
    store__col_copy(a->message_id, sizeof(a->message_id), q, 1);
    store__col_copy(a->endpoint_id, sizeof(a->endpoint_id), q, 2);
    a->url = store__col_dup(q, 3);
    a->response_body = store__col_dup(q, 4);
    a->response_status = (int)store__col_opt_int(q, 5, 0);
    a->latency_ms = store__col_opt_int(q, 6, 0);
    a->error_text = store__col_dup(q, 7);
    a->created_at_ms = sqlite3_column_int64(q, 8);
    a->replay_no = sqlite3_column_int(q, 9);
}

static void bind_attempt_filter(sqlite3_stmt *q, const struct store_attempt_filter *f)
{
    static const struct store_attempt_filter none = {.status = -1, .code_class = -1};
    if (!f)
        f = &none;
    sqlite3_bind_int(q, 5, f->status);
    sqlite3_bind_int(q, 6, f->code_class);
    sqlite3_bind_int64(q, 7, f->before_ms);
    sqlite3_bind_int64(q, 8, f->after_ms);
    store__bind_text(q, 9, f->event_types_json);
}

enum err sqlite_event_messages(struct store *st, int64_t rowid, const char *endpoint_id,
                               struct store_event_message **out, size_t *n, struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    *out = NULL;
    *n = 0;
    size_t cap = 0;
    sqlite3_stmt *q = store__prepare(s, SQL_EVENT_MESSAGES);
    sqlite3_bind_int64(q, 1, rowid);
    store__bind_text(q, 2, endpoint_id);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            struct store_event_message *grown = realloc(*out, cap * sizeof(**out));
            if (!grown)
                abort();
            *out = grown;
        }
        struct store_event_message *m = &(*out)[(*n)++];
        store__col_copy(m->message_id, sizeof(m->message_id), q, 0);
        store__col_copy(m->endpoint_id, sizeof(m->endpoint_id), q, 1);
        m->status = (enum store_status)sqlite3_column_int(q, 2);
        m->next_attempt_at_ms = sqlite3_column_int64(q, 3);
        m->attempt_count = sqlite3_column_int(q, 4);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) {
        free(*out);
        *out = NULL;
        *n = 0;
        return store__db_err(s, rc, d, "read the event's messages");
    }
    return ERR_OK;
}

enum err sqlite_event_attempts(struct store *st, int64_t rowid, const char *endpoint_id,
                               const char *before_id, const struct store_attempt_filter *f,
                               int limit, struct store_event_attempt *out, int *n, bool *has_more,
                               struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    *n = 0;
    *has_more = false;
    sqlite3_stmt *q = store__prepare(s, SQL_EVENT_ATTEMPTS);
    sqlite3_bind_int64(q, 1, rowid);
    store__bind_text(q, 2, endpoint_id);
    store__bind_text(q, 3, before_id && before_id[0] ? before_id : NULL);
    sqlite3_bind_int(q, 4, limit + 1);
    bind_attempt_filter(q, f);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (*n == limit) {
            *has_more = true;
            break;
        }
        struct store_event_attempt *a = &out[(*n)++];
        read_attempt(q, a);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        for (int i = 0; i < *n; i++)
            store_event_attempt_release(&out[i]);
        *n = 0;
        return store__db_err(s, rc, d, "list the event's attempts");
    }
    return ERR_OK;
}

static const char SQL_ERASE_EVENT[] = "UPDATE events SET payload = NULL WHERE id = ?1";
static const char SQL_ERASE_MESSAGES[] =
    "UPDATE messages SET payload_purged_at = ?2 WHERE fanout_event = ?1 "
    "AND payload_purged_at IS NULL";

enum err sqlite_event_erase_payload(struct store *st, int64_t rowid, int64_t now_ms,
                                    struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    sqlite3_stmt *q = store__prepare(s, SQL_ERASE_EVENT);
    sqlite3_bind_int64(q, 1, rowid);
    enum err e = store__exec(s, q, d, "erase the event's payload");
    if (e != ERR_OK)
        return e;
    q = store__prepare(s, SQL_ERASE_MESSAGES);
    sqlite3_bind_int64(q, 1, rowid);
    sqlite3_bind_int64(q, 2, now_ms);
    return store__exec(s, q, d, "mark the event's messages purged");
}

/* ---- the fan-out messages and attempts of an endpoint ---- */

static const char SQL_EP_MESSAGES[] =
    "SELECT m.id, m.status, coalesce(m.next_attempt_at, 0), e.id, e.public_id, e.mode, "
    "e.application_id, e.event_type, e.producer_id, e.payload, e.content_type, e.channels, "
    "e.tags, e.created_at FROM messages m INDEXED BY messages_fanout_endpoint " /* read_event */
    "JOIN events e ON e.id = m.fanout_event WHERE m.endpoint_id = ?1 "
    "AND m.fanout_event IS NOT NULL AND m.deleted_at IS NULL AND (?2 IS NULL OR m.id < ?2) "
    "ORDER BY m.id DESC LIMIT ?3";
static const char SQL_EP_ATTEMPTS[] =
    "SELECT a.id, a.message_id, m.endpoint_id, ep.url, a.response_body, a.response_status, "
    "a.latency_ms, a.error_text, a.created_at, a.replay_no, ev.public_id "
    "FROM messages m INDEXED BY messages_fanout_endpoint "
    "JOIN attempts a ON a.message_id = m.id JOIN events ev ON ev.id = m.fanout_event "
    "LEFT JOIN endpoints ep ON ep.id = m.endpoint_id WHERE m.endpoint_id = ?1 "
    "AND m.fanout_event IS NOT NULL AND (?2 IS NULL OR m.id < ?2 OR (m.id = ?2 AND a.id < "
    "?3)) " ATTEMPT_FILTER "ORDER BY m.id DESC, a.id DESC LIMIT ?4";

enum err sqlite_endpoint_event_messages(struct store *st, const char *endpoint_id,
                                        const char *before_message_id, int limit,
                                        struct store_endpoint_message *out, int *n, bool *has_more,
                                        struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    *n = 0;
    *has_more = false;
    sqlite3_stmt *q = store__prepare(s, SQL_EP_MESSAGES);
    store__bind_text(q, 1, endpoint_id);
    store__bind_text(q, 2, before_message_id && before_message_id[0] ? before_message_id : NULL);
    sqlite3_bind_int(q, 3, limit + 1);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (*n == limit) {
            *has_more = true;
            break;
        }
        struct store_endpoint_message *m = &out[(*n)++];
        memset(m, 0, sizeof(*m));
        store__col_copy(m->message_id, sizeof(m->message_id), q, 0);
        m->status = (enum store_status)sqlite3_column_int(q, 1);
        m->next_attempt_at_ms = sqlite3_column_int64(q, 2);
        read_event(q, 3, &m->event);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        for (int i = 0; i < *n; i++)
            store_event_release(&out[i].event);
        *n = 0;
        return store__db_err(s, rc, d, "list the endpoint's messages");
    }
    return ERR_OK;
}

enum err sqlite_endpoint_event_attempts(struct store *st, const char *endpoint_id,
                                        const char *before_message_id,
                                        const char *before_attempt_id,
                                        const struct store_attempt_filter *f, int limit,
                                        struct store_event_attempt *out, int *n, bool *has_more,
                                        struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    *n = 0;
    *has_more = false;
    sqlite3_stmt *q = store__prepare(s, SQL_EP_ATTEMPTS);
    store__bind_text(q, 1, endpoint_id);
    bool after = before_message_id && before_message_id[0];
    store__bind_text(q, 2, after ? before_message_id : NULL);
    store__bind_text(q, 3, after ? before_attempt_id : NULL);
    sqlite3_bind_int(q, 4, limit + 1);
    bind_attempt_filter(q, f);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (*n == limit) {
            *has_more = true;
            break;
        }
        struct store_event_attempt *a = &out[(*n)++];
        read_attempt(q, a);
        store__col_copy(a->event_public_id, sizeof(a->event_public_id), q, 10);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        for (int i = 0; i < *n; i++)
            store_event_attempt_release(&out[i]);
        *n = 0;
        return store__db_err(s, rc, d, "list the endpoint's attempts");
    }
    return ERR_OK;
}

static const char SQL_ORPHAN[] = "UPDATE events SET orphan = ?2 WHERE id = ?1";

enum err sqlite_event_set_orphan(struct store *st, int64_t rowid, bool orphan, struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    sqlite3_stmt *q = store__prepare(s, SQL_ORPHAN);
    sqlite3_bind_int64(q, 1, rowid);
    store__bind_opt_int(q, 2, orphan ? 1 : 0, 0);
    return store__exec(s, q, d, "mark the event's endpoints");
}

/*
 * pg_node - several hookd nodes on one PostgreSQL database: this process's node
 * id, its heartbeat (the table hookd_nodes), and the listener that turns what
 * other nodes commit into feed items for this node's dispatcher.
 *
 * Description: a node's claims on messages (messages.lease_owner) hold while its
 * heartbeat is fresh (PG_NODE_LEASE_MS): the lease is the node's, not each row's,
 * so keeping a large backlog costs one UPDATE per heartbeat, not one per message.
 * A node that stops beating is dead; other nodes claim its unfinished messages
 * (pg_backlog's claims). Node ids are per process: a restarted node is a new
 * node, and its old claims expire like any dead node's.
 * Changes travel by NOTIFY inside the committing transaction (delivered only if
 * it commits) on a channel named for the database and schema, so deployments in
 * different schemas of one database do not hear each other. The listener thread
 * has its own connection; when it reconnects, and every POLL_MS anyway, it also
 * reads the endpoints updated since its last look (the fallback for a missed
 * notification).
 * Threading: pg__node_announce on the committer; the listener on its own thread.
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>

#include "store/pg/pg_internal.h"
#include "util/clock.h"
#include "util/log.h"

#define HEARTBEAT_MS (PG_NODE_LEASE_MS / 4)
#define POLL_MS 5000

struct pg_node {
    struct pg_store *conn; /* the listener's own connection */
    store_feed_fn fn;
    void *ctx;
    pthread_t thread;
    int stop; /* atomic */
    int64_t started_ms;
};

static char node_id[24];
/* Nodes with a fresh heartbeat, this one included: one node per process, so one count
 * for every connection of it (atomic). */
static int64_t live_nodes = 1;
static pthread_once_t node_once = PTHREAD_ONCE_INIT;

static char node_name[512];

void store_set_node_name(const char *name)
{
    snprintf(node_name, sizeof(node_name), "%s", name ? name : "");
}

/* From the node's name (the same name is the same node: a restart keeps its claims),
 * else random. */
static void make_node_id(void)
{
    unsigned char r[32];
    if (node_name[0])
        SHA256((const unsigned char *)node_name, strlen(node_name), r);
    else if (RAND_bytes(r, 8) != 1)
        abort();
    snprintf(node_id, sizeof(node_id), "n%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3],
             r[4], r[5], r[6], r[7]);
}

const char *pg__node_id(void)
{
    pthread_once(&node_once, make_node_id);
    return node_id;
}

enum err pg__node_channel(struct pg_store *s, struct err_detail *d)
{
    struct pgq q;
    pgq_init(
        &q, s,
        "SELECT 'hookd_' || substr(md5(current_database() || '.' || current_schema()), 1, 16)");
    enum err e = pgq_run(&q, d, "name the notification channel");
    if (e == ERR_OK && pgq_next(&q))
        pgq_copy(s->channel, sizeof(s->channel), &q, 0);
    pgq_done(&q);
    return e;
}

static enum err notify(struct pg_store *s, const char *payload, struct err_detail *d)
{
    struct pgq q;
    pgq_init(&q, s, "SELECT pg_notify($1, $2)");
    pgq_text(&q, 1, s->channel);
    pgq_text(&q, 2, payload);
    enum err e = pgq_run(&q, d, "notify the other nodes");
    pgq_done(&q);
    return e;
}

enum err pg__node_announce(struct pg_store *s, struct err_detail *d)
{
    enum err e = ERR_OK;
    char payload[3 * ID_MAX + 64];
    for (struct feed_item *it = s->batch_feed.head; it && e == ERR_OK; it = it->next) {
        if (it->kind == FEED_ENDPOINT_CHANGED) {
            snprintf(payload, sizeof(payload), "%s|ep|%s", pg__node_id(), it->endpoint_id);
        } else if (it->sched_version > 0) {
            /* rescheduled (replay, retry-now, cancel, delete): a node holding an older job
             * of it must drop that job; new messages (version 0) are nobody else's yet */
            snprintf(payload, sizeof(payload), "%s|msg|%s|%s|%lld", pg__node_id(), it->endpoint_id,
                     it->message_id, (long long)it->sched_version);
        } else {
            continue;
        }
        e = notify(s, payload, d);
    }
    return e;
}

/* ---- the listener thread ---- */

static void heartbeat(struct pg_node *n)
{
    struct err_detail d = {0};
    struct pgq q;
    int64_t now = clock_now_ms();
    pgq_init(&q, n->conn,
             "INSERT INTO hookd_nodes (id, started_at, seen_at) VALUES ($1, $2, " PG_NOW_MS ") "
             "ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at");
    pgq_text(&q, 1, pg__node_id());
    pgq_int(&q, 2, n->started_ms);
    enum err e = pgq_run(&q, &d, "beat the node's heartbeat");
    pgq_done(&q);
    if (e != ERR_OK) {
        log_warn("store", "%s", d.msg);
        return;
    }
    pgq_init(&q, n->conn,
             "SELECT count(*) FROM hookd_nodes WHERE seen_at >= " PG_NOW_MS
             " - " PG_NODE_LEASE_SQL);
    if (pgq_run(&q, &d, "count the live nodes") == ERR_OK && pgq_next(&q)) {
        int64_t live = pgq_i64(&q, 0);
        __atomic_store_n(&live_nodes, live < 1 ? 1 : live, __ATOMIC_RELAXED);
    }
    pgq_done(&q);
    /* forget nodes dead for a day whose claims were all taken over */
    pgq_init(&q, n->conn,
             "DELETE FROM hookd_nodes n WHERE seen_at < $1 AND NOT EXISTS (SELECT 1 FROM "
             "messages m WHERE m.lease_owner = n.id AND m.status <> 2 AND m.status <> 4 AND "
             "m.status <> 5 AND m.status <> 6 AND m.deleted_at IS NULL)");
    pgq_int(&q, 1, now - 86400000);
    pgq_run(&q, &d, "forget dead nodes");
    pgq_done(&q);
}

static void listen_channel(struct pg_node *n)
{
    char sql[64];
    snprintf(sql, sizeof(sql), "LISTEN %s", n->conn->channel);
    struct err_detail d = {0};
    if (pg_exec(n->conn, sql, &d, "listen for other nodes") != ERR_OK)
        log_warn("store", "%s", d.msg);
}

/* Endpoints updated at or after since: changed, for all this node knows. */
static void poll_endpoints(struct pg_node *n, int64_t since, struct feed *out)
{
    struct err_detail d = {0};
    struct pgq q;
    pgq_init(&q, n->conn, "SELECT id FROM endpoints WHERE updated_at >= $1");
    pgq_int(&q, 1, since);
    if (pgq_run(&q, &d, "look for changed endpoints") == ERR_OK)
        while (pgq_next(&q))
            feed_push_endpoint_changed(out, pgq_str(&q, 0));
    pgq_done(&q);
}

/* One notification's payload: "<node>|ep|<endpoint>" or
 * "<node>|msg|<endpoint>|<message>|<version>". Our own are skipped. */
static void on_notification(const char *payload, struct feed *out)
{
    char buf[3 * ID_MAX + 64];
    snprintf(buf, sizeof(buf), "%s", payload);
    char *save = NULL;
    const char *node = strtok_r(buf, "|", &save);
    const char *kind = strtok_r(NULL, "|", &save);
    const char *ep = strtok_r(NULL, "|", &save);
    if (!node || !kind || !ep || !strcmp(node, pg__node_id()))
        return;
    if (!strcmp(kind, "ep")) {
        feed_push_endpoint_changed(out, ep);
        return;
    }
    const char *msg = strtok_r(NULL, "|", &save);
    const char *ver = strtok_r(NULL, "|", &save);
    if (!strcmp(kind, "msg") && msg && ver)
        feed_push_dropped(out, msg, ep, strtoll(ver, NULL, 10));
}

static void *listener_main(void *arg)
{
    struct pg_node *n = arg;
    PGconn *c = n->conn->conn;
    int64_t next_beat = 0, next_poll = 0, polled_at = clock_now_ms();
    bool listening = false;
    while (!__atomic_load_n(&n->stop, __ATOMIC_RELAXED)) {
        struct feed items = {0};
        int64_t now = clock_now_ms();
        if (PQstatus(c) != CONNECTION_OK) {
            PQreset(c);
            n->conn->nstmts = 0;
            listening = false;
            if (PQstatus(c) != CONNECTION_OK) {
                struct timespec ts = {.tv_sec = 1};
                nanosleep(&ts, NULL);
                continue;
            }
            next_poll = 0; /* notifications were lost meanwhile */
        }
        if (!listening) {
            listen_channel(n);
            listening = true;
        }
        if (now >= next_beat) {
            heartbeat(n);
            next_beat = now + HEARTBEAT_MS;
        }
        if (now >= next_poll) {
            /* 1 s of slack: an update committed late with an earlier updated_at */
            poll_endpoints(n, polled_at - 1000, &items);
            polled_at = now;
            next_poll = now + POLL_MS;
        }
        int sock = PQsocket(c);
        if (sock >= 0) {
            fd_set rd;
            FD_ZERO(&rd);
            FD_SET(sock, &rd);
            struct timeval tv = {.tv_sec = 0, .tv_usec = 200000}; /* to see stop */
            if (select(sock + 1, &rd, NULL, NULL, &tv) > 0)
                PQconsumeInput(c);
        }
        PGnotify *note;
        while ((note = PQnotifies(c)) != NULL) {
            on_notification(note->extra, &items);
            PQfreemem(note);
        }
        if (items.head && n->fn)
            n->fn(n->ctx, &items);
        feed_clear(&items);
    }
    return NULL;
}

enum err pg_node_start(struct store *st, store_feed_fn fn, void *ctx, struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    if (s->node)
        return ERR_OK;
    struct pg_node *n = calloc(1, sizeof(*n));
    if (!n)
        abort();
    n->fn = fn;
    n->ctx = ctx;
    n->started_ms = clock_now_ms();
    struct store *conn = NULL;
    enum err e = pg_open(&conn, s->conninfo, false, d);
    if (e != ERR_OK) {
        free(n);
        return e;
    }
    n->conn = pg_of(conn);
    heartbeat(n); /* claims made before the thread's first beat are already alive */
    if (pthread_create(&n->thread, NULL, listener_main, n) != 0) {
        pg_close(conn);
        free(n);
        return err_set(d, ERR_IO, "INTERNAL_ERROR", "cannot start the node listener: %s",
                       strerror(errno));
    }
    s->node = n;
    log_info("store", "node %s joined the database", pg__node_id());
    return ERR_OK;
}

void pg_node_stop(struct store *st)
{
    struct pg_store *s = pg_of(st);
    struct pg_node *n = s ? s->node : NULL;
    if (!n)
        return;
    __atomic_store_n(&n->stop, 1, __ATOMIC_RELAXED);
    pthread_join(n->thread, NULL);
    pg_close(&n->conn->base);
    free(n);
    s->node = NULL;
}

bool pg_shared(struct store *st)
{
    (void)st;
    return true;
}

int pg_live_nodes(struct store *st)
{
    (void)st;
    return (int)__atomic_load_n(&live_nodes, __ATOMIC_RELAXED);
}

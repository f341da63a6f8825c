/*
 * scale_fill - writes a large synthetic history straight into a hookd store,
 * for bench/scale.sh.
 *
 * Description
 *   Opens DATA_DIR/hookd.db, whose schema `hookd migrate --data DATA_DIR` has
 *   created, and writes ENDPOINTS live endpoints plus one test-mode endpoint
 *   (each with a signing key), then N messages with their events, spread
 *   evenly over the last DAYS days in creation order, with UUIDv7 ids made
 *   from their creation time (as hookd makes them). Every 20th message is a
 *   test-mode message (5%). Status mix: ~5% failed_permanent (8 attempts),
 *   ~2% pending_retry (3 attempts, next attempt 30 days ahead, so hookd does
 *   not deliver them during the benchmark), the rest succeeded (3% of those
 *   after one retry). Failed and retrying messages get one attempt row (their
 *   last). Per-minute rollups are computed to match the messages and inserted
 *   at the end, and the hourly rollups summed from them.
 *
 *   It is synthetic in one way that matters little for read benchmarks: a
 *   message's outcome is placed in the minute it was created, not hours later
 *   as real retries would.
 *
 *   With -q URL it writes a delivery backlog instead (bench/backlog.sh): one
 *   live endpoint with that URL (plus the usual test-mode one, left empty) and
 *   N messages to it, all queued (status 0, no attempt yet, due now), each
 *   with a ~200-byte JSON payload like bench/send.lua's, created over the last
 *   DAYS days; their rollups count them as sent, nothing else. That is what
 *   the store holds after N accepted sends to a receiver that never answered.
 *
 *   Writes go in transactions of 50,000 rows with synchronous=OFF: this is a
 *   fixture, not a durability test. Ids come from a seeded PRNG, so a given
 *   seed gives the same ids relative to the start time.
 *
 * Usage
 *   scale_fill DATA_DIR [-n MESSAGES] [-e ENDPOINTS] [-d DAYS] [-s SEED] [-q URL]
 *   defaults: -n 1000000 -e 20 -d 30 -s 1 (-q sets -e 1)
 *
 * Output
 *   key=value lines on stdout: messages, live, test, succeeded,
 *   failed_permanent, pending_retry, attempts, rollup_rows, endpoints,
 *   deep_cursor (the id of the live message 90% of the way down the
 *   newest-first log, i.e. an old one), mid_time_ms (creation time of the
 *   middle message), elapsed_s; with -q also queued and endpoint_id (the
 *   backlog's endpoint).
 *
 * SPDX-License-Identifier: MIT
 */
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TXN_ROWS 50000
#define MINUTE_MS 60000LL
#define DAY_MS 86400000LL
#define MAX_ENDPOINTS 1000

struct rollup {
    int64_t total, succeeded, failed, retries, latency_sum_ms, latency_count;
};

static uint64_t rng_state;

static uint64_t rng(void) /* xorshift64* */
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void die(sqlite3 *db, const char *what)
{
    fprintf(stderr, "scale_fill: %s: %s\n", what, db ? sqlite3_errmsg(db) : "no database");
    exit(1);
}

static void exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "scale_fill: %s: %s\n", sql, msg ? msg : "?");
        exit(1);
    }
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
        die(db, sql);
    return q;
}

static void step_done(sqlite3 *db, sqlite3_stmt *q, const char *what)
{
    if (sqlite3_step(q) != SQLITE_DONE)
        die(db, what);
    sqlite3_reset(q);
}

/* A lower-case UUIDv7 for unix_ms (RFC 9562 §5.7), as hookd's id_uuid7. */
static void uuid7(char out[37], int64_t unix_ms)
{
    unsigned char b[16];
    uint64_t r1 = rng(), r2 = rng();
    uint64_t ms = (uint64_t)unix_ms & 0xffffffffffffULL;
    for (int i = 0; i < 6; i++)
        b[i] = (unsigned char)(ms >> (40 - 8 * i));
    for (int i = 6; i < 16; i++)
        b[i] = (unsigned char)((i < 11 ? r1 : r2) >> (8 * (i % 8)));
    b[6] = (unsigned char)(0x70 | (b[6] & 0x0f));
    b[8] = (unsigned char)(0x80 | (b[8] & 0x3f));
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 0x0f];
    }
    out[o] = '\0';
}

static void rand_hex(char *out, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++)
        out[i] = hex[rng() & 15];
    out[n] = '\0';
}

static void usage(void)
{
    fprintf(stderr, "usage: scale_fill DATA_DIR [-n MESSAGES] [-e ENDPOINTS] [-d DAYS] [-s SEED] "
                    "[-q URL]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    long n = 1000000, nep = 20, days = 30;
    unsigned long long seed = 1;
    const char *queue_url = NULL; /* -q: a queued backlog to this URL */
    if (argc < 2 || argv[1][0] == '-')
        usage();
    const char *dir = argv[1];
    int opt;
    optind = 2;
    while ((opt = getopt(argc, argv, "n:e:d:s:q:")) != -1) {
        switch (opt) {
        case 'n':
            n = atol(optarg);
            break;
        case 'e':
            nep = atol(optarg);
            break;
        case 'd':
            days = atol(optarg);
            break;
        case 's':
            seed = strtoull(optarg, NULL, 10);
            break;
        case 'q':
            queue_url = optarg;
            break;
        default:
            usage();
        }
    }
    if (queue_url)
        nep = 1;
    if (n < 10 || nep < 1 || nep > MAX_ENDPOINTS || days < 1 || days > 3650)
        usage();
    rng_state = seed * 0x9E3779B97F4A7C15ULL + 1;

    char path[4096];
    snprintf(path, sizeof(path), "%s/hookd.db", dir);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        die(db, "open (run `hookd migrate --data DIR` first)");
    sqlite3_busy_timeout(db, 5000);
    exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; PRAGMA cache_size=-262144");

    double t0 = now_s();
    int64_t now = wall_ms();
    int64_t start = now - days * DAY_MS;
    int64_t span = days * DAY_MS - MINUTE_MS; /* the newest message is a minute old */
    int64_t nminutes = days * 1440 + 2;

    /* endpoints: 0..nep-1 live, nep = the test-mode one */
    char(*ep_ids)[36] = calloc((size_t)nep + 1, sizeof(*ep_ids));
    struct rollup *ru = calloc((size_t)(nep + 1) * (size_t)nminutes, sizeof(*ru));
    if (!ep_ids || !ru) {
        fprintf(stderr, "scale_fill: out of memory\n");
        return 1;
    }
    exec(db, "BEGIN");
    sqlite3_stmt *qe = prepare(db, "INSERT INTO endpoints (id, mode, url, description, created_at, "
                                   "updated_at) VALUES (?1, ?2, ?3, 'scale benchmark', ?4, ?4)");
    sqlite3_stmt *qk = prepare(db, "INSERT INTO signing_keys (id, endpoint_id, secret, created_at) "
                                   "VALUES (?1, ?2, ?3, ?4)");
    for (long e = 0; e <= nep; e++) {
        char url[128], sk[40], secret[64];
        memcpy(ep_ids[e], "ep_", 3);
        rand_hex(ep_ids[e] + 3, 32);
        if (queue_url && e == 0)
            snprintf(url, sizeof(url), "%s", queue_url);
        else
            snprintf(url, sizeof(url), "http://127.0.0.1:9/scale/%ld", e);
        memcpy(sk, "sk_", 3);
        rand_hex(sk + 3, 32);
        snprintf(secret, sizeof(secret), "whsec_");
        rand_hex(secret + 6, 32); /* 32 hex chars are valid base64 of 24 bytes */
        sqlite3_bind_text(qe, 1, ep_ids[e], -1, SQLITE_STATIC);
        sqlite3_bind_text(qe, 2, e == nep ? "test" : "live", -1, SQLITE_STATIC);
        sqlite3_bind_text(qe, 3, url, -1, SQLITE_STATIC);
        sqlite3_bind_int64(qe, 4, start - DAY_MS);
        step_done(db, qe, "insert endpoint");
        sqlite3_bind_text(qk, 1, sk, -1, SQLITE_STATIC);
        sqlite3_bind_text(qk, 2, ep_ids[e], -1, SQLITE_STATIC);
        sqlite3_bind_text(qk, 3, secret, -1, SQLITE_STATIC);
        sqlite3_bind_int64(qk, 4, start - DAY_MS);
        step_done(db, qk, "insert signing key");
    }

    sqlite3_stmt *qev = prepare(db, "INSERT INTO events (content_type, payload, created_at) "
                                    "VALUES ('application/json', ?1, ?2)");
    sqlite3_stmt *qm = prepare(
        db, "INSERT INTO messages (id, event_id, endpoint_id, mode, payload_sha256, size_bytes, "
            "status, attempt_count, next_attempt_at, last_error, response_status, "
            "response_latency_ms, created_at, updated_at, delivered_at, failed_at) VALUES "
            "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)");
    sqlite3_stmt *qa = prepare(
        db, "INSERT INTO attempts (id, message_id, attempt_no, created_at, response_status, "
            "latency_ms, error_text, retry_type) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'slow')");

    long counts[5] = {0}, live = 0, test = 0, attempts = 0;
    long deep_index = n / 10; /* 90% down the newest-first list */
    char deep_cursor[37] = "", id[37], aid[37], sha[65];
    int64_t mid_time = 0;
    for (long i = 0; i < n; i++) {
        int64_t created = start + (int64_t)((double)span * (double)i / (double)n);
        bool is_test = !queue_url && i % 20 == 19;
        long e = is_test ? nep : (long)(rng() % (uint64_t)nep);
        const char *mode = is_test ? "test" : "live";
        unsigned r = (unsigned)(rng() % 1000);
        int status, att, resp;
        int64_t latency = 20 + (int64_t)(rng() % 280), next = 0, retries;
        const char *err = NULL;
        if (queue_url) {
            status = 0, att = 0, resp = 0, retries = 0;
        } else if (r < 50) {
            status = 4, att = 8, resp = 500, retries = 7, err = "HTTP 500 from receiver";
        } else if (r < 70) {
            status = 3, att = 3, resp = 503, retries = 3, next = now + 30 * DAY_MS;
            err = "HTTP 503 from receiver";
        } else {
            status = 2, att = r < 100 ? 2 : 1, resp = 200, retries = att - 1;
        }
        uuid7(id, created);
        rand_hex(sha, 64);
        char payload[320];
        int plen = snprintf(payload, sizeof(payload),
                            "{\"type\":\"invoice.paid\",\"seq\":%ld,\"amount\":%llu,"
                            "\"customer\":\"cus_%08llx\"%s}",
                            i, (unsigned long long)(rng() % 100000),
                            (unsigned long long)(rng() & 0xffffffff),
                            queue_url ? ",\"data\":{\"invoice_id\":\"inv_0123456789abcdef\","
                                        "\"currency\":\"eur\",\"lines\":[{\"sku\":\"plan-pro\","
                                        "\"qty\":1}],\"note\":\"bench backlog\"}"
                                      : "");
        sqlite3_bind_blob(qev, 1, payload, plen, SQLITE_STATIC);
        sqlite3_bind_int64(qev, 2, created);
        step_done(db, qev, "insert event");
        int64_t ev = sqlite3_last_insert_rowid(db);
        int64_t done_at = created + latency;

        sqlite3_bind_text(qm, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(qm, 2, ev);
        sqlite3_bind_text(qm, 3, ep_ids[e], -1, SQLITE_STATIC);
        sqlite3_bind_text(qm, 4, mode, -1, SQLITE_STATIC);
        sqlite3_bind_text(qm, 5, sha, -1, SQLITE_STATIC);
        sqlite3_bind_int(qm, 6, plen);
        sqlite3_bind_int(qm, 7, status);
        sqlite3_bind_int(qm, 8, att);
        if (next)
            sqlite3_bind_int64(qm, 9, next);
        else
            sqlite3_bind_null(qm, 9);
        if (err)
            sqlite3_bind_text(qm, 10, err, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(qm, 10);
        if (queue_url) { /* nothing happened to it yet */
            sqlite3_bind_null(qm, 11);
            sqlite3_bind_null(qm, 12);
            done_at = created;
        } else {
            sqlite3_bind_int(qm, 11, resp);
            sqlite3_bind_int64(qm, 12, latency);
        }
        sqlite3_bind_int64(qm, 13, created);
        sqlite3_bind_int64(qm, 14, done_at);
        if (status == 2)
            sqlite3_bind_int64(qm, 15, done_at);
        else
            sqlite3_bind_null(qm, 15);
        if (status == 4)
            sqlite3_bind_int64(qm, 16, done_at);
        else
            sqlite3_bind_null(qm, 16);
        step_done(db, qm, "insert message");

        if (status != 2 && status != 0) {
            uuid7(aid, created);
            sqlite3_bind_text(qa, 1, aid, -1, SQLITE_STATIC);
            sqlite3_bind_text(qa, 2, id, -1, SQLITE_STATIC);
            sqlite3_bind_int(qa, 3, att);
            sqlite3_bind_int64(qa, 4, created);
            sqlite3_bind_int(qa, 5, resp);
            sqlite3_bind_int64(qa, 6, latency);
            sqlite3_bind_text(qa, 7, err, -1, SQLITE_STATIC);
            step_done(db, qa, "insert attempt");
            attempts++;
        }

        int64_t minute = (created - (start - start % MINUTE_MS)) / MINUTE_MS;
        struct rollup *b = &ru[(size_t)e * (size_t)nminutes + (size_t)minute];
        b->total++;
        b->retries += retries;
        if (status == 2) {
            b->succeeded++;
            b->latency_sum_ms += latency;
            b->latency_count++;
        } else if (status == 4) {
            b->failed++;
        }
        /* (a queued message is only counted in total) */
        counts[status]++;
        if (is_test)
            test++;
        else
            live++;
        if (i == deep_index - (deep_index % 20)) /* a live message (i % 20 != 19) */
            snprintf(deep_cursor, sizeof(deep_cursor), "%s", id);
        if (i == n / 2)
            mid_time = created;
        if (i % TXN_ROWS == TXN_ROWS - 1) {
            exec(db, "COMMIT");
            exec(db, "BEGIN");
        }
    }
    exec(db, "COMMIT");

    /* Rollup rows, aligned the way hookd aligns them (bucket_ms % 60000 == 0). */
    exec(db, "BEGIN");
    sqlite3_stmt *qr = prepare(
        db, "INSERT INTO rollups (mode, endpoint_id, bucket_ms, total, succeeded, failed, "
            "retries, latency_sum_ms, latency_count) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    long rollup_rows = 0;
    int64_t start_bucket = start - start % MINUTE_MS;
    for (long e = 0; e <= nep; e++) {
        for (int64_t m = 0; m < nminutes; m++) {
            struct rollup *b = &ru[(size_t)e * (size_t)nminutes + (size_t)m];
            if (!b->total && !b->retries)
                continue;
            int64_t bucket = start_bucket + m * MINUTE_MS;
            sqlite3_bind_text(qr, 1, e == nep ? "test" : "live", -1, SQLITE_STATIC);
            sqlite3_bind_text(qr, 2, ep_ids[e], -1, SQLITE_STATIC);
            sqlite3_bind_int64(qr, 3, bucket);
            sqlite3_bind_int64(qr, 4, b->total);
            sqlite3_bind_int64(qr, 5, b->succeeded);
            sqlite3_bind_int64(qr, 6, b->failed);
            sqlite3_bind_int64(qr, 7, b->retries);
            sqlite3_bind_int64(qr, 8, b->latency_sum_ms);
            sqlite3_bind_int64(qr, 9, b->latency_count);
            step_done(db, qr, "insert rollup");
            if (++rollup_rows % TXN_ROWS == 0) {
                exec(db, "COMMIT");
                exec(db, "BEGIN");
            }
        }
    }
    exec(db, "COMMIT");
    /* The hourly rows, as hookd's rollup writes keep them (migration 8). */
    exec(db,
         "INSERT INTO rollups_hourly (mode, bucket_ms, endpoint_id, total, succeeded, failed, "
         "retries, latency_sum_ms, latency_count) SELECT mode, bucket_ms - bucket_ms % 3600000 "
         "AS hour, endpoint_id, sum(total), sum(succeeded), sum(failed), sum(retries), "
         "sum(latency_sum_ms), sum(latency_count) FROM rollups GROUP BY mode, hour, endpoint_id");
    /* No ANALYZE: hookd's own stores have no statistics, so neither does this one. */
    exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");

    sqlite3_finalize(qe);
    sqlite3_finalize(qk);
    sqlite3_finalize(qev);
    sqlite3_finalize(qm);
    sqlite3_finalize(qa);
    sqlite3_finalize(qr);
    if (sqlite3_close(db) != SQLITE_OK)
        die(db, "close");
    if (queue_url)
        printf("queued=%ld\nendpoint_id=%s\n", counts[0], ep_ids[0]);
    free(ru);
    free(ep_ids);
    printf("messages=%ld\nlive=%ld\ntest=%ld\nsucceeded=%ld\nfailed_permanent=%ld\n"
           "pending_retry=%ld\nattempts=%ld\nrollup_rows=%ld\nendpoints=%ld\n"
           "deep_cursor=%s\nmid_time_ms=%lld\nelapsed_s=%.1f\n",
           n, live, test, counts[2], counts[4], counts[3], attempts, rollup_rows, nep + 1,
           deep_cursor, (long long)mid_time, now_s() - t0);

    return 0;
}

/*
 * sqlite_ceiling - raw SQLite durable-insert ceiling, context for hookd's sends/s.
 *
 * Description
 *   Opens a fresh database in WAL mode with synchronous=FULL (hookd's settings)
 *   and inserts rows of about 300 bytes (a 36-character time-ordered text key,
 *   an integer timestamp and a 256-byte blob) for a fixed duration, BATCH rows
 *   per transaction. Each COMMIT is one WAL fsync, so with BATCH=1 the result is
 *   this disk's fsyncs/s, and with BATCH=64 it shows what group commit buys.
 *   WAL auto-checkpoints stay on, as they would in a server.
 *
 *   It deliberately models only the write path: no indexes beyond the primary
 *   key, no concurrent readers, one thread.
 *
 * Usage
 *   sqlite_ceiling DB_PATH [-b BATCH] [-d SECONDS]
 *   defaults: -b 1 -d 5. DB_PATH must not exist yet; the caller removes it.
 *
 * Output
 *   One line: rows=N txns=N elapsed_s=S rows_per_s=R txns_per_s=T batch=B
 *
 * SPDX-License-Identifier: MIT
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(sqlite3 *db, const char *what)
{
    fprintf(stderr, "sqlite_ceiling: %s: %s\n", what, db ? sqlite3_errmsg(db) : "no database");
    exit(1);
}

static void exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "sqlite_ceiling: %s: %s\n", sql, msg ? msg : "?");
        exit(1);
    }
}

static void usage(void)
{
    fprintf(stderr, "usage: sqlite_ceiling DB_PATH [-b BATCH] [-d SECONDS]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    long batch = 1;
    double duration_s = 5.0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-b") == 0 && i + 1 < argc) {
            batch = strtol(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "-d") == 0 && i + 1 < argc) {
            duration_s = strtod(argv[++i], NULL);
        } else if (argv[i][0] != '-' && path == NULL) {
            path = argv[i];
        } else {
            usage();
        }
    }
    if (path == NULL || batch < 1 || batch > 100000 || duration_s <= 0)
        usage();
    if (access(path, F_OK) == 0) {
        fprintf(stderr, "sqlite_ceiling: %s already exists; give a fresh path\n", path);
        return 2;
    }

    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        die(db, "open");
    exec(db, "PRAGMA journal_mode=WAL");
    exec(db, "PRAGMA synchronous=FULL");
    exec(db, "CREATE TABLE msg(id TEXT PRIMARY KEY, created_at INTEGER NOT NULL, body BLOB NOT "
             "NULL) WITHOUT ROWID");

    /* Confirm the settings really took (journal_mode can silently stay "delete"). */
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL) != SQLITE_OK ||
        sqlite3_step(q) != SQLITE_ROW)
        die(db, "read journal_mode");
    if (strcmp((const char *)sqlite3_column_text(q, 0), "wal") != 0) {
        fprintf(stderr, "sqlite_ceiling: journal_mode is %s, not wal\n",
                (const char *)sqlite3_column_text(q, 0));
        return 1;
    }
    sqlite3_finalize(q);

    sqlite3_stmt *ins = NULL, *begin = NULL, *commit = NULL;
    if (sqlite3_prepare_v2(db, "INSERT INTO msg(id, created_at, body) VALUES (?1, ?2, ?3)", -1,
                           &ins, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "COMMIT", -1, &commit, NULL) != SQLITE_OK)
        die(db, "prepare");

    unsigned char blob[256];
    for (size_t i = 0; i < sizeof(blob); i++)
        blob[i] = (unsigned char)(i * 131u + 7u);

    long long rows = 0, txns = 0;
    double t0 = now_s(), t = t0;
    char id[40];
    while (t - t0 < duration_s) {
        if (sqlite3_step(begin) != SQLITE_DONE)
            die(db, "begin");
        sqlite3_reset(begin);
        for (long i = 0; i < batch; i++) {
            /* Time-ordered key shaped like a UUIDv7 string (36 characters). */
            snprintf(id, sizeof(id), "0190a1b2-%04llx-7%03llx-8%03llx-%012llx",
                     (rows >> 36) & 0xffffULL, (rows >> 24) & 0xfffULL, (rows >> 12) & 0xfffULL,
                     rows & 0xffffffffffffULL);
            blob[0] = (unsigned char)rows;
            sqlite3_bind_text(ins, 1, id, 36, SQLITE_TRANSIENT);
            sqlite3_bind_int64(ins, 2, (sqlite3_int64)(1700000000000LL + rows));
            sqlite3_bind_blob(ins, 3, blob, (int)sizeof(blob), SQLITE_TRANSIENT);
            if (sqlite3_step(ins) != SQLITE_DONE)
                die(db, "insert");
            sqlite3_reset(ins);
            rows++;
        }
        if (sqlite3_step(commit) != SQLITE_DONE)
            die(db, "commit");
        sqlite3_reset(commit);
        txns++;
        t = now_s();
    }
    double elapsed = t - t0;

    sqlite3_finalize(ins);
    sqlite3_finalize(begin);
    sqlite3_finalize(commit);
    if (sqlite3_close(db) != SQLITE_OK)
        die(db, "close");

    printf("rows=%lld txns=%lld elapsed_s=%.3f rows_per_s=%.1f txns_per_s=%.1f batch=%ld\n", rows,
           txns, elapsed, (double)rows / elapsed, (double)txns / elapsed, batch);
    return 0;
}

/*
 * test_wal_buffer - the VFS that gathers a commit's WAL writes into one
 * (store/wal_buffer.c): a commit reaches the file in one or two writes instead of
 * two per page; what is committed is on disk and seen by other connections; a
 * transaction larger than the page cache (frames written, then read back and
 * rewritten before the commit) stays exact; and a write that fails when the
 * buffer is flushed fails the commit and leaves the database as it was.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/sqlite/wal_buffer.h"
#include "store_fixture.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
    (void)state;
    if (fixture_setup_dir(dir, sizeof(dir), "walbuf") != 0)
        return -1;
    snprintf(path, sizeof(path), "%s/t.db", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return fixture_remove_dir(dir);
}

static void exec_ok(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
}

static int64_t query_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return v;
}

/* A connection as the store opens one: the buffering VFS, WAL, synchronous=FULL. */
static sqlite3 *open_buffered(void)
{
    sqlite3 *db = NULL;
    assert_int_equal(
        sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, WAL_BUFFER_VFS),
        SQLITE_OK);
    exec_ok(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA wal_autocheckpoint=0;"
                "CREATE TABLE IF NOT EXISTS t (k INTEGER PRIMARY KEY, v BLOB NOT NULL);");
    return db;
}

/* Inserts rows [from, from + n) of 300 bytes each, in one transaction. */
static int insert_rows(sqlite3 *db, int from, int n)
{
    char sql[160];
    snprintf(sql, sizeof(sql),
             "BEGIN; WITH RECURSIVE c(i) AS (SELECT %d UNION ALL SELECT i + 1 FROM c WHERE i < %d)"
             " INSERT INTO t SELECT i, randomblob(300) FROM c; COMMIT;",
             from, from + n - 1);
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

static void test_commit_reaches_the_file_in_one_write(void **state)
{
    (void)state;
    sqlite3 *db = open_buffered();
    struct wal_buffer_stats a, b;
    wal_buffer_stats(&a);
    assert_int_equal(insert_rows(db, 1, 200), SQLITE_OK); /* ~60 KiB: ~16 pages */
    wal_buffer_stats(&b);
    uint64_t in = b.writes_in - a.writes_in, out = b.writes_out - a.writes_out;
    /* SQLite wrote a header and a page per frame; the file saw them in one call. */
    assert_true(in >= 30);
    assert_true(out <= 2);
    sqlite3_close(db);
}

static void test_committed_rows_are_on_disk_for_every_reader(void **state)
{
    (void)state;
    sqlite3 *db = open_buffered();
    sqlite3 *reader = NULL; /* the plain VFS, as another process would read */
    assert_int_equal(sqlite3_open_v2(path, &reader, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    for (int i = 0; i < 50; i++) {
        assert_int_equal(insert_rows(db, 1 + i * 20, 20), SQLITE_OK);
        assert_int_equal(query_int(reader, "SELECT count(*) FROM t"), (i + 1) * 20);
    }
    sqlite3_close(reader);
    sqlite3_close(db);
    /* reopened without the buffer: nothing is missing or torn */
    assert_int_equal(sqlite3_open_v2(path, &reader, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(query_int(reader, "SELECT count(*) FROM t"), 1000);
    assert_int_equal(query_int(reader, "SELECT count(*) FROM pragma_integrity_check "
                                       "WHERE integrity_check <> 'ok'"),
                     0);
    sqlite3_close(reader);
}

static void test_transaction_larger_than_the_cache(void **state)
{
    (void)state;
    sqlite3 *db = open_buffered();
    /* A 10-page cache spills frames to the WAL mid-transaction; the updates read
     * them back and rewrite them in place before the commit. */
    exec_ok(db, "PRAGMA cache_size=10; BEGIN;"
                "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 3000)"
                " INSERT INTO t SELECT i, zeroblob(300) FROM c;"
                "UPDATE t SET v = randomblob(300) WHERE k % 7 = 0;"
                "UPDATE t SET v = zeroblob(301) WHERE k % 11 = 0;");
    assert_int_equal(query_int(db, "SELECT sum(length(v)) FROM t"), 3000 * 300 + 3000 / 11);
    exec_ok(db, "COMMIT");
    sqlite3_close(db);
    sqlite3 *reader = NULL;
    assert_int_equal(sqlite3_open_v2(path, &reader, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(query_int(reader, "SELECT sum(length(v)) FROM t"), 3000 * 300 + 3000 / 11);
    assert_int_equal(query_int(reader, "SELECT count(*) FROM t WHERE k % 7 = 0 AND k % 11 <> 0 "
                                       "AND v = zeroblob(300)"),
                     0);
    assert_int_equal(query_int(reader, "SELECT count(*) FROM pragma_integrity_check "
                                       "WHERE integrity_check <> 'ok'"),
                     0);
    sqlite3_close(reader);
}

static void test_failed_flush_fails_the_commit(void **state)
{
    (void)state;
    sqlite3 *db = open_buffered();
    assert_int_equal(insert_rows(db, 1, 100), SQLITE_OK);
    char wal[160];
    snprintf(wal, sizeof(wal), "%s-wal", path);
    struct stat st;
    assert_int_equal(stat(wal, &st), 0);
    /* Files may not grow past 8 KiB beyond the WAL's end: the flush at the next
     * commit fails (EFBIG; the signal that comes with it is ignored). */
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = (rlim_t)st.st_size + 8192;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    int rc = insert_rows(db, 101, 200);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, SIG_DFL);
    assert_int_not_equal(rc, SQLITE_OK);
    if (!sqlite3_get_autocommit(db))
        exec_ok(db, "ROLLBACK");
    assert_int_equal(query_int(db, "SELECT count(*) FROM t"), 100);
    assert_int_equal(insert_rows(db, 101, 200), SQLITE_OK); /* and the next one works */
    sqlite3_close(db);
    sqlite3 *reader = NULL;
    assert_int_equal(sqlite3_open_v2(path, &reader, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(query_int(reader, "SELECT count(*) FROM t"), 300);
    assert_int_equal(query_int(reader, "SELECT count(*) FROM pragma_integrity_check "
                                       "WHERE integrity_check <> 'ok'"),
                     0);
    sqlite3_close(reader);
}

int main(void)
{
    assert_int_equal(wal_buffer_register(WAL_BUFFER_VFS, NULL), SQLITE_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_commit_reaches_the_file_in_one_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_committed_rows_are_on_disk_for_every_reader, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_transaction_larger_than_the_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_flush_fails_the_commit, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* store_fixture.h - fixture helpers shared by the store unit tests (test_store*.c):
 * a fresh temp directory per test or group, opening a store in it, and inserting an
 * endpoint with its first signing key. Everything is static inline so a test file that
 * does not use a helper gets no unused-function warning.
 * With HOOKD_TEST_PG set to a PostgreSQL server's URL (postgres://user@host:port, as
 * scripts/pg-throwaway.sh prints), every store opens a fresh database of that server
 * instead, one per test directory (fixture_db): the same tests run on both backends. The header
 * includes what it needs itself (cmocka and its prerequisites, store/store.h). */
#ifndef HOOKD_TESTS_UNIT_STORE_FIXTURE_H
#define HOOKD_TESTS_UNIT_STORE_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include <libpq-fe.h>
#include <sqlite3.h>
#include <string.h>

#include "store/pg/pg_internal.h"
#include "store/sqlite/sqlite_internal.h"
#include "store/store.h"

/* The signing secret most store tests give their endpoints. */
#define FIXTURE_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

/* Creates /tmp/hookd-test-<name>-XXXXXX into dir (len bytes). 0 on success, -1 on failure,
 * so a cmocka setup function can return it directly. */
static inline int fixture_setup_dir(char *dir, size_t len, const char *name)
{
    snprintf(dir, len, "/tmp/hookd-test-%s-XXXXXX", name);
    return mkdtemp(dir) ? 0 : -1;
}

/* Removes dir and everything in it. 0 on success, -1 on failure (for a cmocka teardown). */
static inline int fixture_remove_dir(const char *dir)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* The encryption key of secrets at rest the store tests use (store_secrets_set_key). */
static const uint8_t FIXTURE_KEY[STORE_SECRET_KEY_LEN] = {
    0x6b, 0x65, 0x79, 0x20, 0x6f, 0x66, 0x20, 0x74, 0x68, 0x65, 0x20, 0x73, 0x74, 0x6f, 0x72, 0x65,
    0x20, 0x74, 0x65, 0x73, 0x74, 0x73, 0x20, 0x28, 0x33, 0x32, 0x20, 0x62, 0x79, 0x74, 0x65, 0x29};

/* The PostgreSQL server the tests use (HOOKD_TEST_PG), or NULL for SQLite. */
static inline const char *fixture_pg_url(void)
{
    const char *u = getenv("HOOKD_TEST_PG");
    return u && u[0] ? u : NULL;
}

/* The database string for the store of test directory dir: dir itself on SQLite; on
 * PostgreSQL a database named after dir's last component, created when missing. */
static inline const char *fixture_db(char *out, size_t len, const char *dir)
{
    const char *url = fixture_pg_url();
    if (!url) {
        snprintf(out, len, "%s", dir);
        return out;
    }
    const char *base = strrchr(dir, '/');
    char name[64];
    size_t n = 0;
    for (const char *c = base ? base + 1 : dir; *c && n < sizeof(name) - 1; c++)
        name[n++] = (char)((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ? *c
                           : (*c >= 'A' && *c <= 'Z')                           ? *c + 32
                                                                                : '_');
    name[n] = '\0';
    char admin[512], sql[128];
    snprintf(admin, sizeof(admin), "%s/postgres", url);
    PGconn *c = PQconnectdb(admin);
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("cannot connect to %s: %s", admin, PQerrorMessage(c));
    snprintf(sql, sizeof(sql), "CREATE DATABASE \"%s\"", name);
    PGresult *r = PQexec(c, sql);
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && !(state && !strcmp(state, "42P04")))
        fail_msg("cannot create database %s: %s", name, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    snprintf(out, len, "%s/%s", url, name);
    return out;
}

/* Opens (creating if needed) the store of dir with FIXTURE_KEY as the process key;
 * fails the test if it cannot. */
static inline struct store *fixture_open_store(const char *dir)
{
    assert_int_equal(store_secrets_set_key(FIXTURE_KEY), ERR_OK);
    struct store *s = NULL;
    struct err_detail d = {0};
    char db[600];
    assert_int_equal(store_open(&s, fixture_db(db, sizeof(db), dir), true, &d), ERR_OK);
    return s;
}

/* Whether s is a PostgreSQL store. */
static inline bool fixture_is_pg(struct store *s)
{
    return s->ops == &pg_store_ops;
}

/* Runs sql (no parameters, no rows wanted) on s's own connection; fails the test if it
 * fails. For setting up states the API cannot make; keep sql portable to both. */
static inline void fixture_exec(struct store *s, const char *sql)
{
    if (fixture_is_pg(s)) {
        PGresult *r = PQexec(pg_of(s)->conn, sql);
        if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
            fail_msg("%s: %s", sql, PQresultErrorMessage(r));
        PQclear(r);
        return;
    }
    char *msg = NULL;
    if (sqlite3_exec(sqlite_of(s)->db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
}

/* The first column of the first row of sql, as an integer (0 for NULL or no row). */
static inline int64_t fixture_int(struct store *s, const char *sql)
{
    int64_t v = 0;
    if (fixture_is_pg(s)) {
        PGresult *r = PQexec(pg_of(s)->conn, sql);
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
            fail_msg("%s: %s", sql, PQresultErrorMessage(r));
        if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
            v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        PQclear(r);
        return v;
    }
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(sqlite_of(s)->db, sql, -1, &q, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(sqlite_of(s)->db));
    if (sqlite3_step(q) == SQLITE_ROW)
        v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return v;
}

/* Skips the calling test on PostgreSQL (closing s, which the skip leaves behind): for
 * tests of SQLite's own machinery (statement caches, query plans, the WAL). */
#define FIXTURE_SQLITE_ONLY(s)                                                                     \
    do {                                                                                           \
        if (fixture_is_pg(s)) {                                                                    \
            store_close(s);                                                                        \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

/* Inserts endpoint id (mode, url, HMAC on, created/updated at 1000) with its first signing
 * key "sk_<id>" holding secret, created at key_created_at_ms; fails the test if it cannot. */
static inline void fixture_make_endpoint(struct store *s, const char *id, const char *mode,
                                         const char *url, const char *secret,
                                         int64_t key_created_at_ms)
{
    struct store_endpoint e = {0};
    snprintf(e.id, sizeof(e.id), "%s", id);
    snprintf(e.mode, sizeof(e.mode), "%s", mode);
    e.url = (char *)url;
    e.hmac_enabled = true;
    e.created_at_ms = e.updated_at_ms = 1000;
    struct store_signing_key k = {0};
    snprintf(k.id, sizeof(k.id), "sk_%s", id);
    snprintf(k.secret, sizeof(k.secret), "%s", secret);
    k.created_at_ms = key_created_at_ms;
    struct err_detail d = {0};
    assert_int_equal(store_endpoint_insert(s, &e, &k, &d), ERR_OK);
}

#endif

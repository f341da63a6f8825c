/*
 * test_store_secrets - secrets at rest in the store: values are sealed in
 * their rows and bound to them, a wrong or missing key is refused, the
 * plaintext secrets of an older store are sealed (migration 3), offline
 * rotation re-seals everything, and (SQLite) the database files are private
 * (0600) and hold no plaintext secret, not even in free space. On PostgreSQL
 * (HOOKD_TEST_PG) the raw reads go through a connection of their own and the
 * checks of what is stored look at the rows, not at the server's files.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "core/secretbox.h"
#include "store/sqlite/migrations.h"
#include "store/store.h"
#include "store_fixture.h"

#define SECRET_1 "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define SECRET_2 "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"

static const uint8_t OTHER_KEY[STORE_SECRET_KEY_LEN] = {
    9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8};

static char dir[64];

static int setup(void **state)
{
    (void)state;
    return fixture_setup_dir(dir, sizeof(dir), "secrets");
}

static int teardown(void **state)
{
    (void)state;
    store_secrets_set_key(NULL);
    return fixture_remove_dir(dir);
}

/* Open the store in dir with key (NULL: no key); the result of store_open. */
static enum err open_with(const uint8_t *key, bool migrate, struct store **s, struct err_detail *d)
{
    store_secrets_set_key(key);
    char db[600];
    return store_open(s, fixture_db(db, sizeof(db), dir), migrate, d);
}

/* A connection of its own to dir's PostgreSQL database. */
static PGconn *raw_pg(void)
{
    char db[600];
    PGconn *c = PQconnectdb(fixture_db(db, sizeof(db), dir));
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("cannot connect: %s", PQerrorMessage(c));
    return c;
}

/* Run sql on a raw connection to the database (what an attacker with the file could do). */
static void raw_exec(const char *sql)
{
    if (fixture_pg_url()) {
        PGconn *c = raw_pg();
        PGresult *r = PQexec(c, sql);
        if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
            fail_msg("%s: %s", sql, PQresultErrorMessage(r));
        PQclear(r);
        PQfinish(c);
        return;
    }
    char path[128];
    snprintf(path, sizeof(path), "%s/hookd.db", dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
    sqlite3_close(db);
}

/* One column of one row through a raw connection, into out. */
static void raw_text(const char *sql, char *out, size_t len)
{
    if (fixture_pg_url()) {
        PGconn *c = raw_pg();
        PGresult *r = PQexec(c, sql);
        if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) < 1)
            fail_msg("%s: %s", sql, PQresultErrorMessage(r));
        snprintf(out, len, "%s", PQgetvalue(r, 0, 0));
        PQclear(r);
        PQfinish(c);
        return;
    }
    char path[128];
    snprintf(path, sizeof(path), "%s/hookd.db", dir);
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    snprintf(out, len, "%s", (const char *)sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    sqlite3_close(db);
}

/* Whether needle occurs in the bytes of the database, its WAL or its shared memory. */
static bool files_contain(const char *needle)
{
    static const char *const names[] = {"hookd.db", "hookd.db-wal", "hookd.db-shm"};
    size_t nl = strlen(needle);
    for (size_t i = 0; i < 3; i++) {
        char path[128];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        static char buf[1 << 22];
        size_t n = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        for (size_t j = 0; j + nl <= n; j++)
            if (memcmp(buf + j, needle, nl) == 0)
                return true;
    }
    return false;
}

/* Whether needle is stored: on SQLite anywhere in the files (free space too), on
 * PostgreSQL in a secret column or the key check (its files are the server's). */
static bool stored_contains(const char *needle)
{
    if (!fixture_pg_url())
        return files_contain(needle);
    char sql[600], v[32];
    snprintf(sql, sizeof(sql),
             "SELECT (SELECT count(*) FROM signing_keys WHERE strpos(secret, '%s') > 0) + "
             "(SELECT count(*) FROM endpoints WHERE strpos(coalesce(auth_secret, '') || "
             "coalesce(scheme_secret, ''), '%s') > 0) + "
             "(SELECT count(*) FROM encryption WHERE strpos(check_value, '%s') > 0)",
             needle, needle, needle);
    raw_text(sql, v, sizeof(v));
    return atoll(v) > 0;
}

static void add_key(struct store *s, const char *ep, const char *id, const char *secret)
{
    struct store_signing_key k = {0};
    snprintf(k.id, sizeof(k.id), "%s", id);
    snprintf(k.secret, sizeof(k.secret), "%s", secret);
    k.created_at_ms = 2000;
    struct err_detail d = {0};
    assert_int_equal(store_signing_key_add(s, "live", ep, &k, &d), ERR_OK);
}

/* The active secrets of ep (oldest first) must be want1 (and want2 unless NULL). */
static void expect_secrets(struct store *s, const char *ep, const char *want1, const char *want2)
{
    struct store_signing_key keys[STORE_MAX_ACTIVE_KEYS];
    int n = 0;
    struct err_detail d = {0};
    assert_int_equal(store_signing_keys_active(s, ep, 0, keys, &n, &d), ERR_OK);
    assert_int_equal(n, want2 ? 2 : 1);
    assert_string_equal(keys[0].secret, want1);
    if (want2)
        assert_string_equal(keys[1].secret, want2);
}

static void test_sealed_in_the_row(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    fixture_make_endpoint(s, "ep_a", "live", "https://example.com/a", SECRET_1, 1000);
    add_key(s, "ep_a", "sk_a2", SECRET_2);
    expect_secrets(s, "ep_a", SECRET_1, SECRET_2);
    struct store_signing_key_info info[STORE_MAX_ACTIVE_KEYS];
    int n = 0;
    struct err_detail d = {0};
    assert_int_equal(store_signing_key_list(s, "live", "ep_a", 0, info, 2, &n, &d), ERR_OK);
    assert_int_equal(n, 2);
    assert_string_equal(info[0].key_hint, "LaSw");
    assert_string_equal(info[1].key_hint, "b7oD");
    store_close(s);

    char v[512], want[32];
    raw_text("SELECT secret FROM signing_keys WHERE id = 'sk_ep_a'", v, sizeof(v));
    char kid[STORE_SECRET_KEY_ID_SIZE];
    secretbox_key_id(FIXTURE_KEY, kid);
    snprintf(want, sizeof(want), "enc:v1:%s:", kid);
    assert_int_equal(strncmp(v, want, strlen(want)), 0);
    raw_text("SELECT key_id FROM encryption", v, sizeof(v));
    assert_string_equal(v, kid);
    assert_false(stored_contains("whsec_"));

    /* Retiring a key erases its value; the other still opens. */
    s = fixture_open_store(dir);
    assert_int_equal(store_signing_key_delete(s, "live", "ep_a", "sk_ep_a", 3000, &d), ERR_OK);
    expect_secrets(s, "ep_a", SECRET_2, NULL);
    store_close(s);
}

/* Values moved between rows, or altered, do not open: an error, never a wrong secret. */
static void test_swapped_or_tampered_value_fails(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    fixture_make_endpoint(s, "ep_a", "live", "https://example.com/a", SECRET_1, 1000);
    fixture_make_endpoint(s, "ep_b", "live", "https://example.com/b", SECRET_2, 1000);
    store_close(s);
    raw_exec("UPDATE signing_keys SET secret = (SELECT secret FROM signing_keys "
             "WHERE id = 'sk_ep_b') WHERE id = 'sk_ep_a'");
    s = fixture_open_store(dir);
    struct store_signing_key keys[STORE_MAX_ACTIVE_KEYS];
    int n = 9;
    struct err_detail d = {0};
    assert_int_equal(store_signing_keys_active(s, "ep_a", 0, keys, &n, &d), ERR_IO);
    assert_int_equal(n, 0);
    assert_non_null(strstr(d.msg, "cannot decrypt signing_keys.secret of 'sk_ep_a'"));
    struct store_signing_key_info info[STORE_MAX_ACTIVE_KEYS];
    assert_int_equal(store_signing_key_list(s, "live", "ep_a", 0, info, 2, &n, &d), ERR_IO);
    expect_secrets(s, "ep_b", SECRET_2, NULL);
    store_close(s);

    /* One character of the ciphertext changed. */
    raw_exec("UPDATE signing_keys SET secret = substr(secret, 1, 40) || "
             "CASE substr(secret, 41, 1) WHEN 'A' THEN 'B' ELSE 'A' END || substr(secret, 42) "
             "WHERE id = 'sk_ep_b'");
    s = fixture_open_store(dir);
    assert_int_equal(store_signing_keys_active(s, "ep_b", 0, keys, &n, &d), ERR_IO);
    /* A plaintext value slipped into a row is refused too. */
    store_close(s);
    raw_exec("UPDATE signing_keys SET secret = '" SECRET_1 "' WHERE id = 'sk_ep_b'");
    s = fixture_open_store(dir); /* migrating open: seals it */
    expect_secrets(s, "ep_b", SECRET_1, NULL);
    store_close(s);
    raw_exec("UPDATE signing_keys SET secret = '" SECRET_1 "' WHERE id = 'sk_ep_b'");
    assert_int_equal(open_with(FIXTURE_KEY, false, &s, &d), ERR_OK); /* a reader does not */
    assert_int_equal(store_signing_keys_active(s, "ep_b", 0, keys, &n, &d), ERR_IO);
    assert_non_null(strstr(d.msg, "is not encrypted"));
    store_close(s);
}

static void test_wrong_or_missing_key(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    fixture_make_endpoint(s, "ep_a", "live", "https://example.com/a", SECRET_1, 1000);
    store_close(s);
    struct err_detail d = {0};
    /* Another key: refused at open, by the writer and by readers. */
    assert_int_equal(open_with(OTHER_KEY, true, &s, &d), ERR_CONFLICT);
    assert_null(s);
    assert_string_equal(d.code, "ENCRYPTION_KEY_MISMATCH");
    assert_non_null(strstr(d.msg, "is not the key this store's secrets are encrypted with"));
    assert_int_equal(open_with(OTHER_KEY, false, &s, &d), ERR_CONFLICT);
    /* A forged check row with the right key id but a value sealed by another key. */
    char kid[STORE_SECRET_KEY_ID_SIZE], sql[256];
    secretbox_key_id(OTHER_KEY, kid);
    snprintf(sql, sizeof(sql), "UPDATE encryption SET key_id = '%s'", kid);
    raw_exec(sql);
    assert_int_equal(open_with(OTHER_KEY, true, &s, &d), ERR_CONFLICT);
    assert_non_null(strstr(d.msg, "does not open this store's key check"));
    secretbox_key_id(FIXTURE_KEY, kid);
    snprintf(sql, sizeof(sql), "UPDATE encryption SET key_id = '%s'", kid);
    raw_exec(sql);

    /* No key: the store opens (offline commands), but no secret is read or written. */
    assert_int_equal(open_with(NULL, true, &s, &d), ERR_OK);
    char got[STORE_SECRET_KEY_ID_SIZE];
    assert_int_equal(store_secrets_key_id(s, got, &d), ERR_OK);
    assert_string_equal(got, kid);
    struct store_signing_key keys[STORE_MAX_ACTIVE_KEYS];
    int n = 0;
    assert_int_equal(store_signing_keys_active(s, "ep_a", 0, keys, &n, &d), ERR_IO);
    assert_non_null(strstr(d.msg, "no encryption key"));
    struct store_signing_key k = {.id = "sk_x", .secret = SECRET_2, .created_at_ms = 1};
    assert_int_equal(store_signing_key_add(s, "live", "ep_a", &k, &d), ERR_IO);
    store_close(s);

    /* A fresh store records no key until it is opened with one. */
    fixture_remove_dir(dir);
    fixture_setup_dir(dir, sizeof(dir), "secrets");
    assert_int_equal(open_with(NULL, true, &s, &d), ERR_OK);
    assert_int_equal(store_secrets_key_id(s, got, &d), ERR_OK);
    assert_string_equal(got, "");
    store_close(s);
}

/* A store written before encryption (schema 2, plaintext secrets, a retired one whose
 * old bytes sit in free space) is sealed at the first migrating open with a key. */
static void test_plaintext_store_is_sealed(void **state)
{
    (void)state;
    if (fixture_pg_url()) { /* PostgreSQL never stored plaintext: plant some */
        struct store *s = NULL;
        struct err_detail d = {0};
        assert_int_equal(open_with(NULL, true, &s, &d), ERR_OK);
        store_close(s);
        raw_exec("INSERT INTO endpoints (id, mode, url, created_at, updated_at, auth_secret) "
                 "VALUES ('ep_a', 'live', 'https://example.com/a', 1, 1, 'whsec_auth');"
                 "INSERT INTO signing_keys (id, endpoint_id, secret, created_at) VALUES "
                 "('sk_1', 'ep_a', '" SECRET_1 "', 1), ('sk_2', 'ep_a', '" SECRET_2 "', 2);"
                 "INSERT INTO signing_keys (id, endpoint_id, secret, created_at, deleted_at) "
                 "VALUES ('sk_0', 'ep_a', '', 0, 3)");
        assert_true(stored_contains("whsec_"));
        s = fixture_open_store(dir);
        expect_secrets(s, "ep_a", SECRET_1, SECRET_2);
        char *auth = NULL, *scheme = NULL;
        assert_int_equal(store_endpoint_secrets_get(s, "ep_a", &auth, &scheme, &d), ERR_OK);
        assert_string_equal(auth, "whsec_auth");
        assert_null(scheme);
        store_endpoint_secret_free(auth);
        char kid[STORE_SECRET_KEY_ID_SIZE];
        assert_int_equal(store_secrets_key_id(s, kid, &d), ERR_OK);
        assert_int_equal(strlen(kid), 16);
        store_close(s);
        assert_false(stored_contains("whsec_"));
        return;
    }
    char path[128];
    snprintf(path, sizeof(path), "%s/hookd.db", dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    /* As an SQLite built without SECURE_DELETE would (Debian's zeroes freed space). */
    assert_int_equal(
        sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA secure_delete=OFF", NULL, NULL, NULL),
        SQLITE_OK);
    for (size_t v = 0; v < 2; v++)
        assert_int_equal(sqlite3_exec(db, store__migrations[v], NULL, NULL, NULL), SQLITE_OK);
    const char *legacy =
        "PRAGMA user_version = 2;"
        "INSERT INTO endpoints (id, mode, url, created_at, updated_at) VALUES "
        "('ep_a', 'live', 'https://example.com/a', 1, 1);"
        /* Pages of keys retired long ago, which sealing the live keys does not touch. */
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100) "
        "INSERT INTO signing_keys (id, endpoint_id, secret, created_at) "
        "SELECT 'sk_old' || i, 'ep_a', 'whsec_retired' || hex(randomblob(24)), 0 FROM n;"
        "UPDATE signing_keys SET secret = '', deleted_at = 3;"
        "INSERT INTO signing_keys (id, endpoint_id, secret, created_at) VALUES "
        "('sk_1', 'ep_a', '" SECRET_1 "', 1), ('sk_2', 'ep_a', '" SECRET_2 "', 2);"
        /* Free pages that held secrets (a table of them dropped): the freelist. */
        "CREATE TABLE old_copy AS SELECT 'whsec_onthefreelist' || hex(randomblob(400)) AS s "
        "FROM signing_keys;"
        "DROP TABLE old_copy;";
    assert_int_equal(sqlite3_exec(db, legacy, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_true(files_contain("whsec_retired"));
    assert_true(files_contain("whsec_onthefreelist"));

    struct store *s = fixture_open_store(dir);
    expect_secrets(s, "ep_a", SECRET_1, SECRET_2);
    char kid[STORE_SECRET_KEY_ID_SIZE];
    struct err_detail d = {0};
    assert_int_equal(store_secrets_key_id(s, kid, &d), ERR_OK);
    assert_int_equal(strlen(kid), 16);
    store_close(s);
    assert_false(stored_contains("whsec_"));
    char v[512];
    raw_text("PRAGMA user_version", v, sizeof(v));
    char want[8];
    snprintf(want, sizeof(want), "%zu", store__migrations_count);
    assert_string_equal(v, want);
}

static void test_rotate(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    fixture_make_endpoint(s, "ep_a", "live", "https://example.com/a", SECRET_1, 1000);
    fixture_make_endpoint(s, "ep_b", "live", "https://example.com/b", SECRET_2, 1000);
    add_key(s, "ep_b", "sk_b2", SECRET_1);
    struct err_detail d = {0};
    assert_int_equal(store_signing_key_delete(s, "live", "ep_b", "sk_ep_b", 3000, &d), ERR_OK);
    for (int i = 0; i < 150; i++) { /* more than one page of re-sealed rows */
        char id[32], url[64];
        snprintf(id, sizeof(id), "ep_n%03d", i);
        snprintf(url, sizeof(url), "https://example.com/n%d", i);
        fixture_make_endpoint(s, id, "live", url, SECRET_2, 1000);
    }
    store_close(s);
    char old_kid[STORE_SECRET_KEY_ID_SIZE], new_kid[STORE_SECRET_KEY_ID_SIZE], hdr[40];
    secretbox_key_id(FIXTURE_KEY, old_kid);
    secretbox_key_id(OTHER_KEY, new_kid);

    /* Refused while another connection (a running hookd) has the store open. */
    struct store *other = NULL;
    assert_int_equal(open_with(FIXTURE_KEY, true, &s, &d), ERR_OK);
    assert_int_equal(open_with(FIXTURE_KEY, false, &other, &d), ERR_OK);
    int64_t n = -1;
    assert_int_equal(store_secrets_rotate(s, OTHER_KEY, &n, &d), ERR_BUSY);
    assert_non_null(strstr(d.msg, "is hookd serve running?"));
    store_close(other);
    store_close(s);

    assert_int_equal(open_with(FIXTURE_KEY, true, &s, &d), ERR_OK);
    assert_int_equal(store_secrets_rotate(s, OTHER_KEY, &n, &d), ERR_OK);
    assert_int_equal(n, 1 + 1 + 150);          /* the retired key's "" is not a secret */
    expect_secrets(s, "ep_a", SECRET_1, NULL); /* the connection now uses the new key */
    store_close(s);

    snprintf(hdr, sizeof(hdr), "enc:v1:%s:", old_kid);
    assert_false(stored_contains(hdr));
    snprintf(hdr, sizeof(hdr), "enc:v1:%s:", new_kid);
    assert_true(stored_contains(hdr));
    assert_false(stored_contains("whsec_"));

    assert_int_equal(open_with(FIXTURE_KEY, true, &s, &d), ERR_CONFLICT);
    assert_int_equal(open_with(OTHER_KEY, true, &s, &d), ERR_OK);
    char kid[STORE_SECRET_KEY_ID_SIZE];
    assert_int_equal(store_secrets_key_id(s, kid, &d), ERR_OK);
    assert_string_equal(kid, new_kid);
    expect_secrets(s, "ep_a", SECRET_1, NULL);
    expect_secrets(s, "ep_b", SECRET_1, NULL);
    expect_secrets(s, "ep_n149", SECRET_2, NULL);
    /* Rotating back works the same way. */
    store_close(s);
    assert_int_equal(open_with(OTHER_KEY, true, &s, &d), ERR_OK);
    assert_int_equal(store_secrets_rotate(s, FIXTURE_KEY, &n, &d), ERR_OK);
    store_close(s);
    s = fixture_open_store(dir);
    expect_secrets(s, "ep_n000", SECRET_2, NULL);
    store_close(s);
}

static mode_t mode_of(const char *name)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 0777;
}

static void test_files_are_private(void **state)
{
    (void)state;
    if (fixture_pg_url())
        skip(); /* the files are the server's */
    mode_t old = umask(022);
    char sub[128];
    snprintf(sub, sizeof(sub), "%s/data", dir);
    struct store *s = NULL;
    struct err_detail d = {0};
    store_secrets_set_key(FIXTURE_KEY);
    assert_int_equal(store_open(&s, sub, true, &d), ERR_OK);
    fixture_make_endpoint(s, "ep_a", "live", "https://example.com/a", SECRET_1, 1000);
    snprintf(dir + strlen(dir), sizeof(dir) - strlen(dir), "/data");
    assert_int_equal(mode_of(""), 0700);
    assert_int_equal(mode_of("hookd.db"), 0600);
    assert_int_equal(mode_of("hookd.db-wal"), 0600);
    assert_int_equal(mode_of("hookd.db-shm"), 0600);
    store_close(s);
    /* Files of an older hookd made with the umask's 0644 are made private at open. */
    char path[160];
    snprintf(path, sizeof(path), "%s/hookd.db", dir);
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(open_with(FIXTURE_KEY, false, &s, &d), ERR_OK);
    assert_int_equal(mode_of("hookd.db"), 0600);
    store_close(s);
    dir[strlen(dir) - 5] = '\0';
    umask(old);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sealed_in_the_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_swapped_or_tampered_value_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_or_missing_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plaintext_store_is_sealed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_files_are_private, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

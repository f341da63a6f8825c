/*
 * pg_secrets - secrets at rest in the PostgreSQL store: the key check at open,
 * the one-time sealing of plaintext secrets, offline rotation, and the sealed
 * half of an endpoint's policy (store.h "secrets at rest",
 * store_endpoint_secrets_get/set). The sealing itself is shared with SQLite
 * (store/secrets_seal.c); this file holds the SQL.
 * Description: every connection holds a shared session-level advisory lock
 * (SECRETS_LOCK) from open to close, as every SQLite connection holds
 * hookd.lock shared; rotation takes it exclusive without waiting, so it only
 * runs while no other hookd connection is open. Unlike SQLite, old values are
 * not scrubbed from the database's free space: PostgreSQL keeps dead row
 * versions until VACUUM reuses their space.
 * SPDX-License-Identifier: MIT
 */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "core/secretbox.h"
#include "store/pg/pg_internal.h"
#include "util/clock.h"
#include "util/log.h"

#define PAGE 64 /* rows re-sealed per read while sealing or rotating */

static const char SQL_LOCK_SHARED[] =
    "SELECT pg_advisory_lock_shared(44831, hashtext(current_schema()))";
static const char SQL_LOCK_TRY[] = "SELECT pg_try_advisory_lock(44831, hashtext(current_schema()))";
static const char SQL_UNLOCK[] = "SELECT pg_advisory_unlock(44831, hashtext(current_schema()))";

static const char SQL_CHECK_READ[] = "SELECT key_id, check_value FROM encryption WHERE id = 1";
static const char SQL_CHECK_WRITE[] =
    "INSERT INTO encryption (id, key_id, check_value, created_at) VALUES (1, $1, $2, $3) "
    "ON CONFLICT (id) DO UPDATE SET key_id = excluded.key_id, "
    "check_value = excluded.check_value, created_at = excluded.created_at";
static const char SQL_ANY_PLAIN[] =
    "SELECT EXISTS (SELECT 1 FROM signing_keys WHERE secret <> '' "
    "AND substr(secret, 1, 4) <> 'enc:') OR EXISTS (SELECT 1 FROM endpoints WHERE "
    "auth_secret <> '' AND substr(auth_secret, 1, 4) <> 'enc:') OR EXISTS (SELECT 1 FROM "
    "endpoints WHERE scheme_secret <> '' AND substr(scheme_secret, 1, 4) <> 'enc:')";

/* Per column of store__secret_cols (same order): every non-empty value, the
 * plaintext ones only, and the update. */
static const struct {
    const char *all, *plain, *update;
} col_sql[STORE__NSECRET_COLS] = {
    {"SELECT id, secret FROM signing_keys WHERE id > $1 AND secret <> '' ORDER BY id LIMIT 64",
     "SELECT id, secret FROM signing_keys WHERE id > $1 AND secret <> '' "
     "AND substr(secret, 1, 4) <> 'enc:' ORDER BY id LIMIT 64",
     "UPDATE signing_keys SET secret = $2 WHERE id = $1"},
    {"SELECT id, auth_secret FROM endpoints WHERE id > $1 AND auth_secret <> '' "
     "ORDER BY id LIMIT 64",
     "SELECT id, auth_secret FROM endpoints WHERE id > $1 AND auth_secret <> '' "
     "AND substr(auth_secret, 1, 4) <> 'enc:' ORDER BY id LIMIT 64",
     "UPDATE endpoints SET auth_secret = $2 WHERE id = $1"},
    {"SELECT id, scheme_secret FROM endpoints WHERE id > $1 AND scheme_secret <> '' "
     "ORDER BY id LIMIT 64",
     "SELECT id, scheme_secret FROM endpoints WHERE id > $1 AND scheme_secret <> '' "
     "AND substr(scheme_secret, 1, 4) <> 'enc:' ORDER BY id LIMIT 64",
     "UPDATE endpoints SET scheme_secret = $2 WHERE id = $1"},
};

static const char SQL_SECRETS_GET[] =
    "SELECT auth_secret, scheme_secret FROM endpoints WHERE id = $1";
static const char SQL_SECRETS_SET[] =
    "UPDATE endpoints SET auth_secret = $2, scheme_secret = $3 WHERE id = $1";

/* The recorded key id and check value; *found false when none yet. */
static enum err read_check(struct pg_store *s, char kid[SECRETBOX_KEY_ID_LEN + 1], char *check,
                           size_t cap, bool *found, struct err_detail *d)
{
    *found = false;
    kid[0] = '\0';
    struct pgq q;
    pgq_init(&q, s, SQL_CHECK_READ);
    enum err e = pgq_run(&q, d, "read the encryption key check");
    if (e == ERR_OK && pgq_next(&q)) {
        *found = true;
        pgq_copy(kid, SECRETBOX_KEY_ID_LEN + 1, &q, 0);
        pgq_copy(check, cap, &q, 1);
    }
    pgq_done(&q);
    return e;
}

enum err pg_secrets_key_id(struct store *st, char out[STORE_SECRET_KEY_ID_SIZE],
                           struct err_detail *d)
{
    char check[256];
    bool found;
    return read_check(pg_of(st), out, check, sizeof(check), &found, d);
}

/* Record box's key id and a fresh check value. */
static enum err write_check(struct pg_store *s, struct secretbox *box, struct err_detail *d)
{
    char check[256];
    enum err e = store__check_make(box, check, sizeof(check), d);
    if (e != ERR_OK)
        return e;
    struct pgq q;
    pgq_init(&q, s, SQL_CHECK_WRITE);
    pgq_text(&q, 1, secretbox_id(box));
    pgq_text(&q, 2, check);
    pgq_int(&q, 3, clock_now_ms());
    e = pgq_run(&q, d, "record the encryption key");
    pgq_done(&q);
    return e;
}

/* Re-seal every non-empty value of column c with to (store__reseal_value), a page
 * at a time, inside the caller's transaction; *n counts the rows rewritten. */
static enum err reseal_column(struct pg_store *s, size_t c, struct secretbox *from,
                              struct secretbox *to, int64_t *n, struct err_detail *d)
{
    const char *place = store__secret_cols[c].place;
    char last[ID_MAX] = "";
    char *sealed = malloc(STORE__SEALED_CAP);
    if (!sealed)
        abort();
    enum err e = ERR_OK;
    for (;;) {
        struct pgq qs, qu;
        pgq_init(&qs, s, from ? col_sql[c].all : col_sql[c].plain);
        pgq_text(&qs, 1, last);
        if ((e = pgq_run(&qs, d, "read secrets")) != ERR_OK) {
            pgq_done(&qs);
            break;
        }
        int got = pgq_rows(&qs);
        while (e == ERR_OK && pgq_next(&qs)) {
            const char *id = pgq_str(&qs, 0);
            bool skip = false;
            pgq_copy(last, sizeof(last), &qs, 0);
            e = store__reseal_value(from, to, place, id, pgq_str(&qs, 1), sealed, STORE__SEALED_CAP,
                                    &skip, d);
            if (e != ERR_OK || skip)
                continue;
            pgq_init(&qu, s, col_sql[c].update);
            pgq_text(&qu, 1, id);
            pgq_text(&qu, 2, sealed);
            if ((e = pgq_run(&qu, d, "update a secret")) == ERR_OK)
                (*n)++;
            pgq_done(&qu);
        }
        pgq_done(&qs);
        if (e != ERR_OK || got < PAGE)
            break;
    }
    OPENSSL_cleanse(sealed, STORE__SEALED_CAP);
    free(sealed);
    return e;
}

/* In one transaction: re-seal every secret with to (opening them with from, or
 * taking plaintext when from is NULL) and record to's key check. */
static enum err reseal_all(struct pg_store *s, struct secretbox *from, struct secretbox *to,
                           int64_t *n, struct err_detail *d)
{
    *n = 0;
    enum err e = pg_exec(s, "BEGIN", d, "begin re-encrypting secrets");
    if (e != ERR_OK)
        return e;
    for (size_t c = 0; c < STORE__NSECRET_COLS && e == ERR_OK; c++)
        e = reseal_column(s, c, from, to, n, d);
    if (e == ERR_OK)
        e = write_check(s, to, d);
    if (e == ERR_OK)
        e = pg_exec(s, "COMMIT", d, "commit re-encrypted secrets");
    if (e != ERR_OK)
        pg_exec(s, "ROLLBACK", NULL, "roll back re-encrypting secrets");
    return e;
}

/* The first column of a one-row query without parameters, as a flag. */
static enum err query_flag(struct pg_store *s, const char *sql, bool *out, struct err_detail *d,
                           const char *what)
{
    struct pgq q;
    pgq_init(&q, s, sql);
    enum err e = pgq_run(&q, d, what);
    *out = e == ERR_OK && pgq_next(&q) && pgq_bool(&q, 0);
    pgq_done(&q);
    return e;
}

enum err pg__secrets_attach(struct pg_store *s, bool migrate, struct err_detail *d)
{
    bool unused;
    enum err e = query_flag(s, SQL_LOCK_SHARED, &unused, d, "take the store's shared lock");
    if (e != ERR_OK || !store__process_key())
        return e; /* without a key, secrets cannot be read or written on this connection */
    if ((e = store__secrets_box(&s->box, d)) != ERR_OK)
        return e;
    char kid[SECRETBOX_KEY_ID_LEN + 1], check[256];
    bool found;
    if ((e = read_check(s, kid, check, sizeof(check), &found, d)) != ERR_OK)
        return e;
    if (found && (e = store__check_verify(s->box, kid, check, d)) != ERR_OK)
        return e;
    if (!migrate)
        return ERR_OK;
    bool plain = false;
    if ((e = query_flag(s, SQL_ANY_PLAIN, &plain, d, "look for plaintext secrets")) != ERR_OK)
        return e;
    if (found && !plain)
        return ERR_OK;
    int64_t n = 0;
    if ((e = reseal_all(s, NULL, s->box, &n, d)) != ERR_OK)
        return e;
    if (n > 0)
        log_info("store", "encrypted %lld plaintext secrets with key %s", (long long)n,
                 secretbox_id(s->box));
    return ERR_OK;
}

void pg__secrets_detach(struct pg_store *s)
{
    secretbox_free(s->box);
    s->box = NULL;
}

enum err pg_secrets_rotate(struct store *st, const uint8_t new_key[STORE_SECRET_KEY_LEN],
                           int64_t *n, struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    *n = 0;
    if (!s->box)
        return store__no_key(d);
    struct secretbox *to = NULL;
    enum err e = secretbox_new(&to, new_key, d);
    if (e != ERR_OK)
        return e;
    /* Every open connection holds the lock shared (pg__secrets_attach): ours can only
     * take it exclusive while no other connection, of any hookd, is open. */
    bool mine = false;
    if ((e = query_flag(s, SQL_LOCK_TRY, &mine, d, "lock the store")) == ERR_OK && !mine)
        e = err_set(d, ERR_BUSY, "INTERNAL_ERROR",
                    "the store is in use (is hookd serve running?); stop it before rotating "
                    "the encryption key");
    if (e == ERR_OK)
        e = reseal_all(s, s->box, to, n, d);
    bool unused;
    if (mine)
        query_flag(s, SQL_UNLOCK, &unused, NULL, "unlock the store");
    if (e != ERR_OK) {
        secretbox_free(to);
        return e;
    }
    secretbox_free(s->box);
    s->box = to;
    return ERR_OK;
}

enum err pg_endpoint_secrets_get(struct store *st, const char *id, char **auth, char **scheme,
                                 struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    *auth = *scheme = NULL;
    struct pgq q;
    pgq_init(&q, s, SQL_SECRETS_GET);
    pgq_text(&q, 1, id);
    enum err e = pgq_run(&q, d, "read endpoint secrets");
    if (e == ERR_OK && pgq_next(&q)) {
        e = store__secret_open(s->box, "endpoints.auth_secret", id, pgq_str(&q, 0), auth, d);
        if (e == ERR_OK)
            e = store__secret_open(s->box, "endpoints.scheme_secret", id, pgq_str(&q, 1), scheme,
                                   d);
    } else if (e == ERR_OK) {
        e = err_set(d, ERR_NOTFOUND, "ENDPOINT_NOT_FOUND", "endpoint '%s' not found", id);
    }
    pgq_done(&q);
    if (e != ERR_OK) {
        store_endpoint_secret_free(*auth);
        store_endpoint_secret_free(*scheme);
        *auth = *scheme = NULL;
    }
    return e;
}

enum err pg_endpoint_secrets_set(struct store *st, const char *id, const char *auth,
                                 const char *scheme, struct err_detail *d)
{
    struct pg_store *s = pg_of(st);
    char *a = NULL, *k = NULL;
    enum err e = store__secret_seal(s->box, "endpoints.auth_secret", id, auth, &a, d);
    if (e == ERR_OK)
        e = store__secret_seal(s->box, "endpoints.scheme_secret", id, scheme, &k, d);
    if (e == ERR_OK) {
        struct pgq q;
        pgq_init(&q, s, SQL_SECRETS_SET);
        pgq_text(&q, 1, id);
        pgq_text(&q, 2, a);
        pgq_text(&q, 3, k);
        e = pgq_run(&q, d, "write endpoint secrets");
        pgq_done(&q);
    }
    free(a);
    free(k);
    return e;
}

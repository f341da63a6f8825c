/*
 * store_dedupe - the keys an endpoint's deduplicate policy has seen
 * (migration 18, POLICIES §2, docs/policies/deduplicate.md).
 *
 * Description: a new message of an endpoint with a deduplicate rule is judged
 * on the committer, in the transaction that makes it: its key (core/dedupe.h,
 * SHA-256 of a canonical form of the payload, custom headers and event type,
 * or of the rule's fields) is upserted into dedupe_keys(endpoint_id, key,
 * expires_at) with one statement that writes only when the row is absent or
 * expired. No write means a live row holds the key: the message is a
 * duplicate. Because the check and the record are one statement in the
 * message's own transaction, two sends of one key in one batch, or racing
 * from two connections, cannot both pass, and a rolled-back op leaves no key.
 * The window is the one in force when a key was recorded: it runs from the
 * message that was kept, and a duplicate does not extend it [inferred].
 * Endpoints without a rule never come here: the callers hold the parsed rule
 * in the caches they already keep (the live-endpoint cache of sends, the
 * fan-out candidates of publishes), NULL for most endpoints.
 * The janitor deletes expired rows in bounded chunks (store_dedupe_purge);
 * until then an expired row is simply replaced.
 * Threading and errors: as store.h. SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "core/dedupe.h"
#include "store/sqlite/sqlite_internal.h"
#include "util/log.h"

/* Insert the key, or take over a row whose window is over (expires_at <= now); a
 * live row is left alone, so sqlite3_changes() is 0 exactly for a duplicate. */
static const char SQL_DEDUPE_SEE[] =
    "INSERT INTO dedupe_keys (endpoint_id, key, expires_at) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (endpoint_id, key) DO UPDATE SET expires_at = excluded.expires_at "
    "WHERE dedupe_keys.expires_at <= ?4";

static const char SQL_DEDUPE_PURGE[] =
    "DELETE FROM dedupe_keys WHERE (endpoint_id, key) IN (SELECT endpoint_id, key "
    "FROM dedupe_keys INDEXED BY dedupe_keys_expiry WHERE expires_at <= ?1 LIMIT ?2)";

enum err store__dedupe_see(struct sqlite_store *s, const char *endpoint_id,
                           const struct dedupe_policy *p, const void *payload, size_t payload_len,
                           const char *headers_json, const char *event_type, int64_t now_ms,
                           bool *duplicate, struct err_detail *d)
{
    *duplicate = false;
    unsigned char key[STORE__DEDUPE_KEY_BYTES];
    store__dedupe_digest(p, payload, payload_len, headers_json, event_type, key);
    sqlite3_stmt *q = store__prepare(s, SQL_DEDUPE_SEE);
    store__bind_text(q, 1, endpoint_id);
    sqlite3_bind_blob(q, 2, key, (int)sizeof(key), SQLITE_TRANSIENT);
    sqlite3_bind_int64(q, 3, now_ms + p->window_ms);
    sqlite3_bind_int64(q, 4, now_ms);
    enum err e = store__exec(s, q, d, "record the deduplication key");
    if (e == ERR_OK)
        *duplicate = sqlite3_changes(s->db) == 0;
    return e;
}

enum err sqlite_dedupe_purge(struct store *st, int64_t now_ms, int max, int *n,
                             struct err_detail *d)
{
    struct sqlite_store *s = sqlite_of(st);
    *n = 0;
    sqlite3_stmt *q = store__prepare(s, SQL_DEDUPE_PURGE);
    sqlite3_bind_int64(q, 1, now_ms);
    sqlite3_bind_int(q, 2, max);
    enum err e = store__exec(s, q, d, "delete expired deduplication keys");
    if (e == ERR_OK)
        *n = sqlite3_changes(s->db);
    return e;
}

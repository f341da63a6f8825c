/*
 * pg_dedupe - the keys an endpoint's deduplicate policy has seen, on PostgreSQL
 * (sqlite/store_dedupe.c's twin; docs/policies/deduplicate.md).
 *
 * Description: one upsert in the message's own transaction records the key
 * unless a live row holds it, so no write means a duplicate. Two nodes sending
 * one key at once: the second waits on the first's row and, once it commits,
 * finds it live (READ COMMITTED re-checks the conflicting row).
 * Threading and errors: as store.h. SPDX-License-Identifier: MIT
 */
#include <jansson.h>

#include "core/dedupe.h"
#include "store/pg/pg_internal.h"

static const char SQL_DEDUPE_SEE[] =
    "INSERT INTO dedupe_keys (endpoint_id, key, expires_at) VALUES ($1, $2, $3) "
    "ON CONFLICT (endpoint_id, key) DO UPDATE SET expires_at = excluded.expires_at "
    "WHERE dedupe_keys.expires_at <= $4";

static const char SQL_DEDUPE_PURGE[] =
    "DELETE FROM dedupe_keys WHERE (endpoint_id, key) IN (SELECT endpoint_id, key "
    "FROM dedupe_keys WHERE expires_at <= $1 LIMIT $2)";

enum err pg__dedupe_see(struct pg_store *s, const char *endpoint_id, const struct dedupe_policy *p,
                        const void *payload, size_t payload_len, const char *headers_json,
                        const char *event_type, int64_t now_ms, bool *duplicate,
                        struct err_detail *d)
{
    *duplicate = false;
    unsigned char key[STORE__DEDUPE_KEY_BYTES];
    store__dedupe_digest(p, payload, payload_len, headers_json, event_type, key);
    struct pgq q;
    pgq_init(&q, s, SQL_DEDUPE_SEE);
    pgq_text(&q, 1, endpoint_id);
    pgq_blob(&q, 2, key, sizeof(key));
    pgq_int(&q, 3, now_ms + p->window_ms);
    pgq_int(&q, 4, now_ms);
    enum err e = pgq_run(&q, d, "record the deduplication key");
    if (e == ERR_OK)
        *duplicate = pgq_changes(&q) == 0;
    pgq_done(&q);
    return e;
}

enum err pg_dedupe_purge(struct store *st, int64_t now_ms, int max, int *n, struct err_detail *d)
{
    *n = 0;
    struct pgq q;
    pgq_init(&q, pg_of(st), SQL_DEDUPE_PURGE);
    pgq_int(&q, 1, now_ms);
    pgq_int(&q, 2, max);
    enum err e = pgq_run(&q, d, "delete expired deduplication keys");
    if (e == ERR_OK)
        *n = (int)pgq_changes(&q);
    pgq_done(&q);
    return e;
}

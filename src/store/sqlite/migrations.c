/* migrations - see migrations.h. SPDX-License-Identifier: MIT */
#include "store/sqlite/migrations.h"

const char *const store__migrations[] = {
    /* 1: core pipeline */
    "CREATE TABLE api_keys ("
    "  id TEXT PRIMARY KEY, mode TEXT NOT NULL, prefix TEXT NOT NULL, label TEXT,"
    "  key_sha256 BLOB NOT NULL UNIQUE, created_at INTEGER NOT NULL,"
    "  last_used_at INTEGER, deleted_at INTEGER);"
    "CREATE TABLE endpoints ("
    "  seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, mode TEXT NOT NULL, url TEXT NOT NULL,"
    "  description TEXT, headers TEXT, rate_limit_rps INTEGER NOT NULL DEFAULT 0,"
    "  burst INTEGER NOT NULL DEFAULT 0, paused INTEGER NOT NULL DEFAULT 0,"
    "  hmac_enabled INTEGER NOT NULL DEFAULT 1, created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL, deleted_at INTEGER);"
    "CREATE INDEX endpoints_mode ON endpoints(mode, seq) WHERE deleted_at IS NULL;"
    "CREATE TABLE signing_keys ("
    "  id TEXT PRIMARY KEY, endpoint_id TEXT NOT NULL, secret TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL, expires_at INTEGER, deleted_at INTEGER);"
    "CREATE INDEX signing_keys_endpoint ON signing_keys(endpoint_id);"
    "CREATE TABLE events ("
    "  id INTEGER PRIMARY KEY, content_type TEXT NOT NULL, payload BLOB,"
    "  created_at INTEGER NOT NULL);"
    "CREATE TABLE messages ("
    "  id TEXT PRIMARY KEY, event_id INTEGER NOT NULL, endpoint_id TEXT NOT NULL,"
    "  mode TEXT NOT NULL, headers TEXT, idempotency_key TEXT, payload_sha256 TEXT NOT NULL,"
    "  size_bytes INTEGER NOT NULL, status INTEGER NOT NULL,"
    "  attempt_count INTEGER NOT NULL DEFAULT 0, replay_count INTEGER NOT NULL DEFAULT 0,"
    "  next_attempt_at INTEGER, last_error TEXT, response_status INTEGER,"
    "  response_latency_ms INTEGER, retention_hours INTEGER, created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL, delivered_at INTEGER, failed_at INTEGER) WITHOUT ROWID;"
    "CREATE UNIQUE INDEX messages_idempotency ON messages(endpoint_id, idempotency_key)"
    "  WHERE idempotency_key IS NOT NULL;"
    "CREATE TABLE attempts ("
    "  id TEXT PRIMARY KEY, message_id TEXT NOT NULL, attempt_no INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL, response_status INTEGER, latency_ms INTEGER,"
    "  error_text TEXT, response_body TEXT, response_body_truncated INTEGER NOT NULL DEFAULT 0,"
    "  response_headers TEXT, request_headers TEXT, retry_type TEXT,"
    "  retry_after_seconds INTEGER, resolved_ip TEXT, conn_reused INTEGER NOT NULL DEFAULT 0,"
    "  dns_ms INTEGER, tcp_connect_ms INTEGER, tls_handshake_ms INTEGER, ttfb_ms INTEGER,"
    "  transfer_ms INTEGER) WITHOUT ROWID;"
    "CREATE INDEX attempts_message ON attempts(message_id, attempt_no);",
    /* 2: outbound API (keys, lifecycle, message operations, logs, metrics, retention) */
    "ALTER TABLE messages ADD COLUMN sched_version INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE messages ADD COLUMN deleted_at INTEGER;"
    "ALTER TABLE messages ADD COLUMN payload_expires_at INTEGER;"
    "ALTER TABLE messages ADD COLUMN payload_purged_at INTEGER;"
    "ALTER TABLE attempts ADD COLUMN replay_no INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX messages_mode_id ON messages(mode, id);"
    /* Serves logs/DLQ by status and the unfinished scans (restart recovery,
     * resume counts): every extra messages index costs each send and each
     * delivery a write, so there is deliberately no other status index. */
    "CREATE INDEX messages_mode_status ON messages(mode, status, id);"
    "CREATE INDEX messages_payload_expiry ON messages(payload_expires_at)"
    "  WHERE payload_purged_at IS NULL AND payload_expires_at IS NOT NULL;"
    "CREATE TABLE rollups ("
    "  mode TEXT NOT NULL, endpoint_id TEXT NOT NULL, bucket_ms INTEGER NOT NULL,"
    "  total INTEGER NOT NULL DEFAULT 0, succeeded INTEGER NOT NULL DEFAULT 0,"
    "  failed INTEGER NOT NULL DEFAULT 0, retries INTEGER NOT NULL DEFAULT 0,"
    "  latency_sum_ms INTEGER NOT NULL DEFAULT 0, latency_count INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (mode, endpoint_id, bucket_ms)) WITHOUT ROWID;"
    "CREATE INDEX rollups_time ON rollups(mode, bucket_ms);"
    /* 2, api keys: */ ""
    /* 2, endpoint state and signing keys: */
    ""
    /* 2, message operations and retention: (attempts.replay_no is set by the insert) */ ""
    /* 2, logs and metrics: hourly rollups, kept from the per-minute rows by triggers so
     * long metric windows read few rows (store_queries.c). The update trigger adds the
     * difference (rollup keys never change). Deleting minute rows leaves the hours alone. */
    "CREATE TABLE rollups_hourly ("
    "  mode TEXT NOT NULL, bucket_ms INTEGER NOT NULL, endpoint_id TEXT NOT NULL,"
    "  total INTEGER NOT NULL DEFAULT 0, succeeded INTEGER NOT NULL DEFAULT 0,"
    "  failed INTEGER NOT NULL DEFAULT 0, retries INTEGER NOT NULL DEFAULT 0,"
    "  latency_sum_ms INTEGER NOT NULL DEFAULT 0, latency_count INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (mode, bucket_ms, endpoint_id)) WITHOUT ROWID;"
    "CREATE INDEX rollups_hourly_endpoint ON rollups_hourly(mode, endpoint_id, bucket_ms);"
    "CREATE TRIGGER rollups_hourly_insert AFTER INSERT ON rollups BEGIN"
    "  INSERT INTO rollups_hourly (mode, bucket_ms, endpoint_id, total, succeeded, failed,"
    "  retries, latency_sum_ms, latency_count) VALUES (NEW.mode,"
    "  NEW.bucket_ms - NEW.bucket_ms % 3600000, NEW.endpoint_id, NEW.total, NEW.succeeded,"
    "  NEW.failed, NEW.retries, NEW.latency_sum_ms, NEW.latency_count)"
    "  ON CONFLICT (mode, bucket_ms, endpoint_id) DO UPDATE SET total = total + excluded.total,"
    "  succeeded = succeeded + excluded.succeeded, failed = failed + excluded.failed,"
    "  retries = retries + excluded.retries,"
    "  latency_sum_ms = latency_sum_ms + excluded.latency_sum_ms,"
    "  latency_count = latency_count + excluded.latency_count;"
    " END;"
    "CREATE TRIGGER rollups_hourly_update AFTER UPDATE ON rollups BEGIN"
    "  INSERT INTO rollups_hourly (mode, bucket_ms, endpoint_id, total, succeeded, failed,"
    "  retries, latency_sum_ms, latency_count) VALUES (NEW.mode,"
    "  NEW.bucket_ms - NEW.bucket_ms % 3600000, NEW.endpoint_id, NEW.total - OLD.total,"
    "  NEW.succeeded - OLD.succeeded, NEW.failed - OLD.failed, NEW.retries - OLD.retries,"
    "  NEW.latency_sum_ms - OLD.latency_sum_ms, NEW.latency_count - OLD.latency_count)"
    "  ON CONFLICT (mode, bucket_ms, endpoint_id) DO UPDATE SET total = total + excluded.total,"
    "  succeeded = succeeded + excluded.succeeded, failed = failed + excluded.failed,"
    "  retries = retries + excluded.retries,"
    "  latency_sum_ms = latency_sum_ms + excluded.latency_sum_ms,"
    "  latency_count = latency_count + excluded.latency_count;"
    " END;",
    /* 3: secrets at rest. One row: the id of the key the secrets are sealed with and a
     * check value sealed with it, so a wrong key is refused at start-up. The data step
     * (sealing the plaintext secrets of older stores) needs the key, so it runs when a
     * migrating connection opens with one (store_secrets.c, store__secrets_attach). */
    "CREATE TABLE encryption ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1), key_id TEXT NOT NULL,"
    "  check_value TEXT NOT NULL, created_at INTEGER NOT NULL);",
    /* 4: the delivery backlog, paged per endpoint in due order (store_backlog.c): only
     * unfinished messages are in it, so a message leaves it when it succeeds or fails for
     * good. NULL next_attempt_at (new sends, replays) sorts first: due at once. Not
     * "status IN (...)": SQLite evaluates an IN list through an ephemeral table, twice
     * per UPDATE of a message, which doubled the cost of recording an attempt. */
    "CREATE INDEX messages_backlog ON messages(endpoint_id, next_attempt_at)"
    "  WHERE status <> 2 AND status <> 4 AND deleted_at IS NULL;",
    /* 5: attempts keyed by (message_id, id): every read is "the attempts of a message in
     * id (= time) order", so the table itself serves it and the attempts_message index,
     * one more B-tree insert per attempt, goes. */
    "CREATE TABLE attempts_by_message ("
    "  id TEXT NOT NULL, message_id TEXT NOT NULL, attempt_no INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL, response_status INTEGER, latency_ms INTEGER,"
    "  error_text TEXT, response_body TEXT, response_body_truncated INTEGER NOT NULL DEFAULT 0,"
    "  response_headers TEXT, request_headers TEXT, retry_type TEXT,"
    "  retry_after_seconds INTEGER, resolved_ip TEXT, conn_reused INTEGER NOT NULL DEFAULT 0,"
    "  dns_ms INTEGER, tcp_connect_ms INTEGER, tls_handshake_ms INTEGER, ttfb_ms INTEGER,"
    "  transfer_ms INTEGER, replay_no INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (message_id, id)) WITHOUT ROWID;"
    "INSERT INTO attempts_by_message (id, message_id, attempt_no, created_at, response_status, "
    "latency_ms, error_text, response_body, response_body_truncated, response_headers, "
    "request_headers, retry_type, retry_after_seconds, resolved_ip, conn_reused, dns_ms, "
    "tcp_connect_ms, tls_handshake_ms, ttfb_ms, transfer_ms, replay_no) SELECT id, message_id, "
    "attempt_no, created_at, response_status, latency_ms, error_text, response_body, "
    "response_body_truncated, response_headers, request_headers, retry_type, retry_after_seconds, "
    "resolved_ip, conn_reused, dns_ms, tcp_connect_ms, tls_handshake_ms, ttfb_ms, transfer_ms, "
    "replay_no FROM attempts;"
    "DROP TABLE attempts;"
    "ALTER TABLE attempts_by_message RENAME TO attempts;",
    /* 6: rollup journal. Each commit batch appends its summed deltas here (no index, so
     * one right-edge page however many endpoints the batch touched); a batch folds the
     * journal into rollups once it is STORE__ROLLUP_FOLD_ROWS long (store_rollups.c).
     * Readers sum both tables. */
    "CREATE TABLE rollups_recent ("
    "  mode TEXT NOT NULL, endpoint_id TEXT NOT NULL, bucket_ms INTEGER NOT NULL,"
    "  total INTEGER NOT NULL DEFAULT 0, succeeded INTEGER NOT NULL DEFAULT 0,"
    "  failed INTEGER NOT NULL DEFAULT 0, retries INTEGER NOT NULL DEFAULT 0,"
    "  latency_sum_ms INTEGER NOT NULL DEFAULT 0, latency_count INTEGER NOT NULL DEFAULT 0);",
    /* 7: no status-index entry for succeeded messages, the bulk of the store: a
     * delivery that succeeds then only removes its message's entry instead of
     * moving it (one B-tree insert less per delivery). Lists of succeeded
     * messages walk messages_mode_id, where nearly every row is one; every other
     * status query repeats the "status <> 2" term so SQLite can use the index. */
    "DROP INDEX messages_mode_status;"
    "CREATE INDEX messages_mode_status ON messages(mode, status, id) WHERE status <> 2;",
    /* 8: the hourly rollups are written by the statements that write the minute rows
     * (store_rollups.c), not by triggers: a fold then upserts each endpoint-hour once
     * from the whole journal instead of once per endpoint-minute through a trigger
     * sub-program per row (with thousands of endpoints, 40 % of the committer's work). */
    "DROP TRIGGER rollups_hourly_insert;"
    "DROP TRIGGER rollups_hourly_update;",
    /* 9: applications (one per customer of the team, per mode) and event types (per
     * mode), TENANCY.md §1. Every endpoint belongs to an application; those made
     * through /v1 to the built-in `default` application of their mode, whose ids
     * are fixed so that no lookup is needed to place one. seq orders lists and
     * backs the iterators, as for endpoints. */
    "CREATE TABLE applications ("
    "  seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, mode TEXT NOT NULL, uid TEXT,"
    "  name TEXT NOT NULL, metadata TEXT, throttle_rate INTEGER,"
    "  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, deleted_at INTEGER);"
    "CREATE UNIQUE INDEX applications_uid ON applications(mode, uid)"
    "  WHERE uid IS NOT NULL AND deleted_at IS NULL;"
    "CREATE INDEX applications_mode ON applications(mode, seq) WHERE deleted_at IS NULL;"
    "INSERT INTO applications (id, mode, uid, name, created_at, updated_at)"
    "  SELECT 'app_default_' || m, m, 'default', 'default', t, t FROM (SELECT"
    "  CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) AS t),"
    "  (SELECT 'live' AS m UNION ALL SELECT 'test');"
    "CREATE TABLE event_types ("
    "  seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, mode TEXT NOT NULL, name TEXT NOT NULL,"
    "  display_name TEXT, description TEXT NOT NULL DEFAULT '', category TEXT, schemas TEXT,"
    "  example_payload TEXT, feature_flags TEXT, documentation_url TEXT,"
    "  archived INTEGER NOT NULL DEFAULT 0, deprecated INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
    "CREATE UNIQUE INDEX event_types_name ON event_types(mode, name);"
    "ALTER TABLE endpoints ADD COLUMN application_id TEXT;"
    "UPDATE endpoints SET application_id = 'app_default_' || mode;"
    "CREATE INDEX endpoints_application ON endpoints(application_id, seq)"
    "  WHERE deleted_at IS NULL;",
    /* 10: what an endpoint of an application receives (TENANCY.md §1): its uid, the
     * disabled flag, channels and filter (JSON text), metadata, and its event types:
     * every type (all_event_types) or the enabled rows of subscriptions, one per
     * name or wildcard pattern. */
    "ALTER TABLE endpoints ADD COLUMN uid TEXT;"
    "ALTER TABLE endpoints ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE endpoints ADD COLUMN all_event_types INTEGER NOT NULL DEFAULT 1;"
    "ALTER TABLE endpoints ADD COLUMN channels TEXT;"
    "ALTER TABLE endpoints ADD COLUMN filter TEXT;"
    "ALTER TABLE endpoints ADD COLUMN metadata TEXT;"
    "CREATE UNIQUE INDEX endpoints_uid ON endpoints(application_id, uid)"
    "  WHERE uid IS NOT NULL AND deleted_at IS NULL;"
    "CREATE TABLE subscriptions ("
    "  id TEXT NOT NULL UNIQUE, endpoint_id TEXT NOT NULL, event_type TEXT NOT NULL,"
    "  enabled INTEGER NOT NULL DEFAULT 1, created_at INTEGER NOT NULL);"
    "CREATE UNIQUE INDEX subscriptions_endpoint ON subscriptions(endpoint_id, event_type);",
    /* 11: published events (TENANCY.md §1): an event of an application is stored once
     * with its public id (msg_..., the webhook-id of every delivery of it), its type,
     * the producer's event id (unique per application), channels and tags; its
     * messages, one per matching endpoint, reference it. Direct /v1 sends leave these
     * columns NULL. */
    "ALTER TABLE events ADD COLUMN public_id TEXT;"
    "ALTER TABLE events ADD COLUMN mode TEXT;"
    "ALTER TABLE events ADD COLUMN application_id TEXT;"
    "ALTER TABLE events ADD COLUMN event_type TEXT;"
    "ALTER TABLE events ADD COLUMN producer_id TEXT;"
    "ALTER TABLE events ADD COLUMN channels TEXT;"
    "ALTER TABLE events ADD COLUMN tags TEXT;"
    "CREATE UNIQUE INDEX events_public ON events(public_id) WHERE public_id IS NOT NULL;"
    "CREATE UNIQUE INDEX events_producer ON events(application_id, producer_id)"
    "  WHERE producer_id IS NOT NULL;"
    "CREATE INDEX events_application ON events(application_id, id)"
    "  WHERE application_id IS NOT NULL;",
    /* 12: the messages of a published event, by event and endpoint (attempts by
     * message, attempted destinations, resend). Only fan-out messages carry
     * fanout_event, so /v1 sends pay no index entry for it. */
    "ALTER TABLE messages ADD COLUMN fanout_event INTEGER;"
    "CREATE INDEX messages_fanout ON messages(fanout_event, endpoint_id)"
    "  WHERE fanout_event IS NOT NULL;",
    /* 13: idempotency keys of POST requests (TENANCY.md §1): per mode and key, the
     * SHA-256 of the request (method, path, body), the status answered and the id
     * of the resource it made, written in the same transaction as the resource. */
    "CREATE TABLE idempotency ("
    "  mode TEXT NOT NULL, key TEXT NOT NULL, request_sha256 TEXT NOT NULL,"
    "  status INTEGER NOT NULL, resource TEXT, created_at INTEGER NOT NULL,"
    "  PRIMARY KEY (mode, key)) WITHOUT ROWID;",
    /* 14: portal tokens (TENANCY.md §1, §4): act for one application with their
     * scopes until they expire or are revoked; only the SHA-256 of a token is kept. */
    "CREATE TABLE portal_tokens ("
    "  id TEXT PRIMARY KEY, mode TEXT NOT NULL, application_id TEXT NOT NULL,"
    "  token_sha256 BLOB NOT NULL UNIQUE, name TEXT, scopes TEXT NOT NULL,"
    "  allowed_ips TEXT, expires_at INTEGER NOT NULL, revoked_at INTEGER,"
    "  created_at INTEGER NOT NULL);"
    "CREATE INDEX portal_tokens_application ON portal_tokens(application_id);",
    /* 15: the fan-out messages of an endpoint, newest first (Svix attempts by endpoint
     * and messages by endpoint); /v1 sends pay nothing for it. */
    "CREATE INDEX messages_fanout_endpoint ON messages(endpoint_id, id)"
    "  WHERE fanout_event IS NOT NULL;",
    /* 16: published events that reached no endpoint (orphan = 1) have no message to take
     * them away at history retention: the janitor finds them by this index instead (only
     * such events pay for it). */
    "ALTER TABLE events ADD COLUMN orphan INTEGER;"
    "CREATE INDEX events_orphan ON events(created_at) WHERE orphan = 1;",
    /* 17: delivery policies and lifecycle (POLICIES.md): the endpoint's policy document
     * (no secret in it), its destination-auth config and signing private key sealed
     * (store_secrets.c), why and when it was disabled, its circuit breaker, and since
     * when its attempts have failed without a success between (auto-disable). */
    "ALTER TABLE endpoints ADD COLUMN policy TEXT;"
    "ALTER TABLE endpoints ADD COLUMN auth_secret TEXT;"
    "ALTER TABLE endpoints ADD COLUMN scheme_secret TEXT;"
    "ALTER TABLE endpoints ADD COLUMN disabled_reason TEXT;"
    "ALTER TABLE endpoints ADD COLUMN disabled_at INTEGER;"
    "ALTER TABLE endpoints ADD COLUMN circuit_state INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE endpoints ADD COLUMN circuit_opened_at INTEGER;"
    "ALTER TABLE endpoints ADD COLUMN failing_since INTEGER;",
    /* 18: deduplication (POLICIES §2, store_dedupe.c). The keys an endpoint with a
     * deduplicate policy has seen, until they expire (the window of the message that
     * recorded the key); an expired row counts as absent and is replaced, and the
     * janitor deletes expired rows by dedupe_keys_expiry. Endpoints without the policy
     * never write here. A suppressed message has status 5 (deduplicated), a message
     * its endpoint's transformation skipped status 6 (filtered): both finished from
     * the start, so they leave the backlog index, which is rebuilt without them
     * (once, at upgrade: a scan of messages). Every query on messages_backlog repeats
     * the new "status <> 5 AND status <> 6" terms. */
    "CREATE TABLE dedupe_keys ("
    "  endpoint_id TEXT NOT NULL, key BLOB NOT NULL, expires_at INTEGER NOT NULL,"
    "  PRIMARY KEY (endpoint_id, key)) WITHOUT ROWID;"
    "CREATE INDEX dedupe_keys_expiry ON dedupe_keys(expires_at);"
    "DROP INDEX messages_backlog;"
    "CREATE INDEX messages_backlog ON messages(endpoint_id, next_attempt_at)"
    "  WHERE status <> 2 AND status <> 4 AND status <> 5 AND status <> 6"
    "  AND deleted_at IS NULL;",
    /* 19: portal tokens keep their first characters (Hookbase lists them); an
     * endpoint remembers when a verify test delivery last succeeded */
    "ALTER TABLE portal_tokens ADD COLUMN token_prefix TEXT;"
    "ALTER TABLE endpoints ADD COLUMN verified_at INTEGER;",
};

const size_t store__migrations_count = sizeof(store__migrations) / sizeof(store__migrations[0]);

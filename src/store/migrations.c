/* migrations - see migrations.h. SPDX-License-Identifier: MIT */
#include "store/migrations.h"

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
    /* status < 2: queued/delivering; 3: pending_retry (enum store_status) */
    "CREATE INDEX messages_unfinished ON messages(next_attempt_at)"
    "  WHERE status IN (0, 1, 3);"
    "CREATE TABLE attempts ("
    "  id TEXT PRIMARY KEY, message_id TEXT NOT NULL, attempt_no INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL, response_status INTEGER, latency_ms INTEGER,"
    "  error_text TEXT, response_body TEXT, response_body_truncated INTEGER NOT NULL DEFAULT 0,"
    "  response_headers TEXT, request_headers TEXT, retry_type TEXT,"
    "  retry_after_seconds INTEGER, resolved_ip TEXT, conn_reused INTEGER NOT NULL DEFAULT 0,"
    "  dns_ms INTEGER, tcp_connect_ms INTEGER, tls_handshake_ms INTEGER, ttfb_ms INTEGER,"
    "  transfer_ms INTEGER) WITHOUT ROWID;"
    "CREATE INDEX attempts_message ON attempts(message_id, attempt_no);",
};

const size_t store__migrations_count = sizeof(store__migrations) / sizeof(store__migrations[0]);

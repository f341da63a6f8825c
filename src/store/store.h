/*
 * store - hookd's persistence seam, in the domain's words (ARCHITECTURE §7).
 *
 * Description: one struct store is one database connection. The committer
 * thread owns the only writing connection and wraps batches of operations in
 * store_batch_begin/commit with a savepoint per operation; API threads and
 * the dispatcher read through their own connections. No SQL lives outside
 * src/store/. The SQLite implementation runs in WAL mode with
 * synchronous=FULL, so a committed batch survives kill -9 and power loss.
 * Schema changes are numbered migrations applied by store_open(..., migrate).
 * Threading: a struct store is used by one thread at a time.
 * Ownership: output structs with heap fields have a matching _release;
 * strings in them belong to the struct.
 * Secrets (signing secrets, later credentials) are encrypted at rest with the
 * process key (store_secrets_set_key, store_secrets.c): callers read and
 * write plaintext, the columns hold only sealed values.
 * Errors: ERR_NOTFOUND, ERR_CONFLICT (idempotency mismatch, duplicate),
 * ERR_BUSY (database locked), ERR_IO (anything else; detail carries the
 * SQLite message).
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_STORE_STORE_H
#define HOOKD_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/id.h"
#include "util/err.h"

struct store;

/* Message states (ARCHITECTURE §4). The values are stored: never renumber. */
enum store_status {
    STATUS_QUEUED = 0,
    STATUS_DELIVERING,
    STATUS_SUCCEEDED,
    STATUS_PENDING_RETRY,
    STATUS_FAILED_PERMANENT,
    /* Suppressed by the endpoint's deduplicate policy (POLICIES §2): made finished,
     * never attempted, not a failure; replay delivers it after all. */
    STATUS_DEDUPLICATED,
    /* Skipped by the endpoint's transformation (it returned null, POLICIES §2):
     * finished, not a failure; replay runs the transformation again. */
    STATUS_FILTERED,
};
#define STORE_STATUS_LAST STATUS_FILTERED /* for loops over every status */

const char *store_status_name(enum store_status s);

/* Which backend a database string names: "sqlite:DIR" or a bare path is SQLite
 * (DIR/hookd.db); "postgres://...", "postgresql://..." or a libpq key=value
 * string (a '=' before any '/') is PostgreSQL. *rest is what the backend opens. */
enum store_backend { STORE_SQLITE, STORE_POSTGRES };
enum store_backend store_backend_of(const char *db, const char **rest);

/* Open the database db names (store_backend_of). SQLite: DIR/hookd.db, creating
 * the directory (0700) and file (0600) when missing. With migrate, apply pending
 * migrations (do this once, before other opens); a store migrated by a newer
 * hookd is refused (ERR_IO naming both versions). When a process key is set
 * (store_secrets_set_key) it is checked against the store's key check:
 * ERR_CONFLICT (ENCRYPTION_KEY_MISMATCH) when the secrets were sealed with
 * another key; with migrate, plaintext secrets are sealed and a fresh store
 * records the key (migration 3's data step). */
enum err store_open(struct store **out, const char *db, bool migrate, struct err_detail *d);
void store_close(struct store *s);

/* Batch transactions (the committer). An op runs between op_begin and
 * op_end(ok); a failed op is rolled back alone. */
enum err store_batch_begin(struct store *s, struct err_detail *d);
enum err store_batch_commit(struct store *s, struct err_detail *d);
void store_batch_rollback(struct store *s);
enum err store_op_begin(struct store *s, struct err_detail *d);
/* ok: keep the op's writes; returns an error (and rolls the op back) when they
 * could not be completed. */
enum err store_op_end(struct store *s, bool ok, struct err_detail *d);
/* An op without a savepoint (the committer's fast path: a savepoint copies every
 * page it touches into a sub-journal). Its rollups and feed items are kept apart
 * as in op_begin/op_end, but its writes cannot be undone alone: op_end_unguarded
 * returns false when a failed op had changed rows, or the transaction is gone,
 * and the caller must then roll the whole batch back. */
void store_op_begin_unguarded(struct store *s);
bool store_op_end_unguarded(struct store *s, bool ok);
/* After store_batch_commit: move what the batch made due (feed.h) to out. */
struct feed;
void store_batch_take_feed(struct store *s, struct feed *out);

/* ---- API keys ---- */
struct store_api_key {
    char id[ID_MAX];
    char mode[8]; /* "live" | "test" */
    char prefix[16];
    char label[256];
    int64_t created_at_ms;
    int64_t last_used_at_ms; /* 0 = never */
};

enum err store_api_key_insert(struct store *s, const struct store_api_key *k,
                              const uint8_t key_sha256[32], struct err_detail *d);
/* Look up a live (not deleted) key by the SHA-256 of its secret. */
enum err store_api_key_find(struct store *s, const uint8_t key_sha256[32],
                            struct store_api_key *out, struct err_detail *d);
enum err store_api_key_count(struct store *s, int64_t *out, struct err_detail *d);

/* ---- endpoints and signing keys ---- */
struct store_endpoint {
    char id[ID_MAX];
    char mode[8];
    char *url;
    char *description;  /* NULL when unset */
    char *headers_json; /* NULL when unset */
    int rate_limit_rps; /* 0 = unlimited */
    int burst;          /* 0 = rate_limit_rps */
    bool paused;
    bool hmac_enabled;
    int64_t created_at_ms;
    int64_t updated_at_ms;
    int64_t deleted_at_ms; /* 0 = live */
    /* its application and what it receives (migrations 9 and 10) */
    char application_id[ID_MAX]; /* insert: "" = the default application of the mode */
    char *uid;                   /* NULL when unset */
    bool disabled;
    bool all_event_types;   /* every event type; else event_types_json */
    char *event_types_json; /* JSON array of enabled subscriptions (names, patterns) */
    char *channels_json;    /* JSON array of strings; NULL = every channel */
    char *filter_json;      /* core/filter.h document; NULL = none */
    char *metadata_json;    /* object of strings; NULL = {} */
    /* delivery policies and lifecycle (migration 17, POLICIES.md) */
    char *policy_json;            /* service/endpoint_policy.h document, no secrets; NULL = none */
    char disabled_reason[16];     /* manual | auto_failing | gone; "" when not disabled */
    int64_t disabled_at_ms;       /* 0 when not disabled */
    int circuit_state;            /* enum breaker_state (core/breaker.h); written apart */
    int64_t circuit_opened_at_ms; /* 0 when closed */
    int64_t failing_since_ms;     /* attempts failing since, no success between; 0 = none */
    int64_t verified_at_ms;       /* a verify test delivery last got a 2xx at; 0 = never
                                   * (store_endpoint_update writes it as given) */
};
void store_endpoint_release(struct store_endpoint *e);

struct store_signing_key {
    char id[ID_MAX];
    char secret[ID_MAX];
    int64_t created_at_ms;
    int64_t expires_at_ms; /* 0 = until retired; from then on the key is not active */
};

#define STORE_MAX_ACTIVE_KEYS 2

/* ---- the sealed half of an endpoint's policy, and its circuit (store_endpoint_policy.c) ----
 * The destination-auth config and the signing private key, opened: new strings
 * (NULL = none) the caller frees with store_endpoint_secret_free (wipes). */
enum err store_endpoint_secrets_get(struct store *s, const char *id, char **auth, char **scheme,
                                    struct err_detail *d);
/* Seal and write both (NULL or "" = none). */
enum err store_endpoint_secrets_set(struct store *s, const char *id, const char *auth,
                                    const char *scheme, struct err_detail *d);
void store_endpoint_secret_free(char *secret);
/* Disable a live, enabled endpoint by delivery's decision (reason "gone" or
 * "auto_failing"); *changed false when it was disabled or deleted already. */
enum err store_endpoint_disable(struct store *s, const char *id, const char *reason, int64_t now_ms,
                                bool *changed, struct err_detail *d);
/* Close an endpoint's circuit by hand (the delivery thread sees it through the
 * feed); ERR_NOTFOUND for an unknown or deleted endpoint of mode. */
enum err store_endpoint_reset_circuit(struct store *s, const char *mode, const char *id,
                                      struct err_detail *d);
/* The event type of a message's event (*out NULL when it has none: a /v1 send);
 * for delivery's transformations, which give it to the program. */
enum err store_message_event_type(struct store *s, const char *message_id, char **out,
                                  struct err_detail *d);
/* Since when the endpoint's attempts have failed with no success between (0 = they do not). */
enum err store_endpoint_set_failing(struct store *s, const char *id, int64_t since_ms,
                                    struct err_detail *d);
/* The breaker's state (enum breaker_state) and when it opened (0 = closed). */
enum err store_endpoint_set_circuit(struct store *s, const char *id, int state,
                                    int64_t opened_at_ms, struct err_detail *d);

/* Insert an endpoint with its first signing key (and its subscriptions when not
 * all_event_types). ERR_CONFLICT (DUPLICATE_URL) when another live endpoint of the
 * default application of the mode has the same URL (HookBridge's rule; endpoints
 * of other applications may share URLs); ERR_CONFLICT (field "uid") when its
 * application has a live endpoint with its uid. */
enum err store_endpoint_insert(struct store *s, const struct store_endpoint *e,
                               const struct store_signing_key *k, struct err_detail *d);
/* A live endpoint of mode by id (include_deleted for the dispatcher). */
enum err store_endpoint_get(struct store *s, const char *mode, const char *id, bool include_deleted,
                            struct store_endpoint *out, struct err_detail *d);
/* Overwrite the mutable fields of a live endpoint (url, description, headers,
 * rate_limit_rps, burst, hmac_enabled, paused, updated_at, uid, disabled, channels,
 * filter, metadata, and its event types: the subscriptions are replaced by
 * event_types_json unless all_event_types); DUPLICATE_URL as above. */
enum err store_endpoint_update(struct store *s, const struct store_endpoint *e,
                               struct err_detail *d);
/* A live endpoint of application app_id (of mode) by id or uid. */
enum err store_endpoint_find(struct store *s, const char *mode, const char *app_id,
                             const char *id_or_uid, struct store_endpoint *out,
                             struct err_detail *d);
/* Live endpoints of an application in creation order (descending: newest first),
 * after the one with id after_id, as store_application_list. */
enum err store_endpoint_list_app(struct store *s, const char *mode, const char *app_id,
                                 const char *after_id, bool descending, int limit,
                                 struct store_endpoint *out, int *n, bool *has_more,
                                 struct err_detail *d);
/* Soft delete; ERR_NOTFOUND when absent or already deleted. */
enum err store_endpoint_delete(struct store *s, const char *mode, const char *id, int64_t now_ms,
                               struct err_detail *d);
/* Page through live endpoints of mode, newest first, after cursor (cursor "" = start;
 * a cursor that is not an endpoint id of this mode is ERR_INVAL).
 * Fills up to limit entries into out (caller array); *n the count; *has_more. */
enum err store_endpoint_list(struct store *s, const char *mode, const char *cursor, int limit,
                             struct store_endpoint *out, int *n, bool *has_more,
                             struct err_detail *d);
/* Signing keys of an endpoint active at now_ms (not retired, and not past their
 * expires_at: a key rotated away keeps signing only until then), oldest first, at
 * most STORE_MAX_ACTIVE_KEYS. */
enum err store_signing_keys_active(struct store *s, const char *endpoint_id, int64_t now_ms,
                                   struct store_signing_key *out, int *n, struct err_detail *d);

/* ---- applications and event types (store_apps.c) ---- */
/* The built-in application of a mode that /v1 endpoints belong to (migration 9). */
#define STORE_DEFAULT_APP_PREFIX "app_default_"
/* The built-in operational application of a mode (service/ops_events.h), made
 * with its first endpoint: this prefix and the mode. */
#define STORE_OPS_APP_PREFIX "app_ops_"

struct store_application {
    char id[ID_MAX];
    char mode[8];
    char *uid; /* NULL when unset */
    char *name;
    char *metadata_json;   /* a JSON object of strings; NULL = {} */
    int64_t throttle_rate; /* deliveries/s default for its endpoints; -1 = none */
    int64_t created_at_ms, updated_at_ms;
};
void store_application_release(struct store_application *a);
/* ERR_CONFLICT (field "uid") when another live application of the mode has its uid. */
enum err store_application_insert(struct store *s, const struct store_application *a,
                                  struct err_detail *d);
/* A live application of mode by id or uid (an id wins). */
enum err store_application_get(struct store *s, const char *mode, const char *id_or_uid,
                               struct store_application *out, struct err_detail *d);
/* Overwrite uid, name, metadata, throttle_rate and updated_at of a live application. */
enum err store_application_update(struct store *s, const struct store_application *a,
                                  struct err_detail *d);
/* Soft-delete it and every live endpoint of it. */
enum err store_application_delete(struct store *s, const char *mode, const char *id, int64_t now_ms,
                                  struct err_detail *d);
/* Live applications of mode in creation order (descending: newest first), after the
 * one with id after_id (NULL or "": from the start; unknown: ERR_INVAL, field
 * "iterator"). Up to limit into out (caller array); *has_more. */
enum err store_application_list(struct store *s, const char *mode, const char *after_id,
                                bool descending, int limit, struct store_application *out, int *n,
                                bool *has_more, struct err_detail *d);

struct store_event_type {
    char id[ID_MAX];
    char mode[8];
    char *name;
    char *display_name;       /* NULL when unset */
    char *description;        /* "" when unset */
    char *category;           /* Svix groupName; NULL when unset */
    char *schemas_json;       /* object: version -> JSON Schema; NULL when unset */
    char *example_payload;    /* JSON text; NULL when unset */
    char *feature_flags_json; /* array of strings; NULL when unset */
    char *documentation_url;  /* NULL when unset */
    bool archived, deprecated;
    int64_t created_at_ms, updated_at_ms;
};
void store_event_type_release(struct store_event_type *t);
/* ERR_CONFLICT (field "name") when the mode has a type of that name, archived or not. */
enum err store_event_type_insert(struct store *s, const struct store_event_type *t,
                                 struct err_detail *d);
/* A type of mode by name or id (archived ones too). */
enum err store_event_type_get(struct store *s, const char *mode, const char *name_or_id,
                              struct store_event_type *out, struct err_detail *d);
/* Overwrite every field but id, mode, name and created_at. */
enum err store_event_type_update(struct store *s, const struct store_event_type *t,
                                 struct err_detail *d);
/* Delete the row for good (Svix ?expunge=true). */
enum err store_event_type_expunge(struct store *s, const char *mode, const char *id,
                                  struct err_detail *d);
/* Types of mode in creation order after the one with id after_id, as
 * store_application_list; archived ones only with include_archived. */
enum err store_event_type_list(struct store *s, const char *mode, const char *after_id,
                               bool include_archived, int limit, struct store_event_type *out,
                               int *n, bool *has_more, struct err_detail *d);

/* ---- published events and their fan-out (store_publish.c) ---- */
struct dedupe_policy;
/* An endpoint of an application as the fan-out rule needs it (live, not disabled). */
struct store_candidate {
    char id[ID_MAX];
    bool all_event_types;
    char *event_types_json;       /* enabled subscriptions (JSON array) */
    char *channels_json;          /* NULL = every channel */
    char *filter_json;            /* NULL = none */
    struct dedupe_policy *dedupe; /* its deduplicate rule (core/dedupe.h); NULL = none */
};
void store_candidates_free(struct store_candidate *c, size_t n);
/* The application's endpoints in creation order; *out is malloc'ed (free with
 * store_candidates_free). */
enum err store_publish_candidates(struct store *s, const char *app_id, struct store_candidate **out,
                                  size_t *n, struct err_detail *d);

/* An application as publishing needs it: its id and its candidate endpoints. */
struct store_fanout {
    char app_id[ID_MAX];
    struct store_candidate *cands; /* as store_publish_candidates gives them */
    size_t n;
};
/* The live application of mode by id or uid (an id wins, as store_application_get)
 * and its candidates; ERR_NOTFOUND when there is none. *out is borrowed from s until
 * the next store_fanout_get on it. Inside a batch, on the writing connection, the
 * answer is kept and given again without a read until a row of applications,
 * endpoints or subscriptions changes, or a batch or op is rolled back (struct store,
 * ep_gen): a publish to the application published to before reads nothing. */
enum err store_fanout_get(struct store *s, const char *mode, const char *app,
                          const struct store_fanout **out, struct err_detail *d);

/* An event to store (borrowed fields). */
struct store_event_in {
    char public_id[ID_MAX]; /* msg_... */
    char mode[8];
    char application_id[ID_MAX];
    const char *event_type;
    const char *producer_id; /* the publisher's eventId; NULL when none */
    const char *payload;
    size_t payload_len;
    const char *content_type;
    const char *payload_sha256; /* hex */
    const char *channels_json;  /* NULL = none */
    const char *tags_json;      /* NULL = none */
    int64_t now_ms;
    int64_t payload_expires_at_ms;
};
/* Insert the event row; *rowid identifies it for its messages. ERR_CONFLICT (field
 * "event_id") when the application already has an event with its producer id. */
enum err store_event_insert(struct store *s, const struct store_event_in *ev, int64_t *rowid,
                            struct err_detail *d);
/* One message of the event for an endpoint, queued at once and handed to the feed
 * with the event's public id as webhook-id. With a deduplicate rule (dedupe, the
 * candidate's; NULL = none) a message whose key the endpoint saw within the rule's
 * window is stored as deduplicated instead, and not handed to delivery
 * (*deduplicated, may be NULL, tells which); the key is recorded in the same
 * transaction. */
enum err store_event_message_insert(struct store *s, const struct store_event_in *ev, int64_t rowid,
                                    const char *message_id, const char *endpoint_id,
                                    const struct dedupe_policy *dedupe, bool *deduplicated,
                                    struct err_detail *d);

/* The public id of a message's event ("" for a /v1 send without one) and the
 * application of its endpoint; ERR_NOTFOUND for an unknown message. */
enum err store_message_origin(struct store *s, const char *message_id, char public_id[ID_MAX],
                              char app_id[ID_MAX], struct err_detail *d);

/* A stored event (owned strings). */
struct store_event {
    int64_t rowid;
    char public_id[ID_MAX];
    char mode[8];
    char application_id[ID_MAX];
    char *event_type, *producer_id;
    char *payload; /* NULL once purged */
    size_t payload_len;
    char *content_type, *channels_json, *tags_json;
    int64_t created_at_ms;
};
void store_event_release(struct store_event *e);
/* An event of an application by public id or producer id (a public id wins). */
enum err store_event_get(struct store *s, const char *app_id, const char *id_or_producer_id,
                         struct store_event *out, struct err_detail *d);
/* Which events a list holds (every field optional: NULL or 0). */
struct store_event_filter {
    const char *event_types_json; /* JSON array of type names */
    const char *channel;          /* events with this channel */
    const char *tag;              /* events with this tag */
    int64_t before_ms, after_ms;  /* created before / after (exclusive) */
};
/* Events of an application, newest first, after the one with public id
 * after_public_id, that pass f (NULL: all). */
enum err store_event_list(struct store *s, const char *app_id, const char *after_public_id,
                          const struct store_event_filter *f, int limit, struct store_event *out,
                          int *n, bool *has_more, struct err_detail *d);

/* Mark event rowid as having reached no endpoint (or, false, as having a message
 * now): history retention deletes such events by their own index. */
enum err store_event_set_orphan(struct store *s, int64_t rowid, bool orphan, struct err_detail *d);

/* Drop the payload of event rowid and mark its messages' payloads purged. */
enum err store_event_erase_payload(struct store *s, int64_t rowid, int64_t now_ms,
                                   struct err_detail *d);

/* The message of an event for one endpoint (fan-out messages only). */
struct store_event_message {
    char message_id[ID_MAX];
    char endpoint_id[ID_MAX];
    enum store_status status;
    int64_t next_attempt_at_ms; /* 0 = none */
    int attempt_count;
};
/* The live messages of event rowid (of one endpoint unless NULL); *out malloc'ed. */
enum err store_event_messages(struct store *s, int64_t rowid, const char *endpoint_id,
                              struct store_event_message **out, size_t *n, struct err_detail *d);

/* An attempt of a message of an event. */
struct store_event_attempt {
    char id[ID_MAX];
    char message_id[ID_MAX];
    char endpoint_id[ID_MAX];
    char *url;           /* the endpoint's URL now */
    char *response_body; /* NULL = none */
    int response_status; /* 0 = no HTTP answer */
    int64_t latency_ms;
    char *error_text; /* NULL = none */
    int64_t created_at_ms;
    int replay_no;                /* > 0: made by a replay or resend */
    char event_public_id[ID_MAX]; /* store_endpoint_event_attempts only */
};
void store_event_attempt_release(struct store_event_attempt *a);
/* Which attempts a list holds (NULL filter: all). */
struct store_attempt_filter {
    int status;                   /* Svix attempt status: 0 success, 2 fail, else none; -1 = any */
    int code_class;               /* 0 (no answer), 100, 200, ... 500; -1 = any */
    int64_t before_ms, after_ms;  /* created before / after (exclusive); 0 = unbounded */
    const char *event_types_json; /* JSON array of type names; NULL = any */
};
/* Attempts of the event's messages (of one endpoint unless NULL), newest first,
 * before attempt before_id (NULL: from the newest), passing f. */
enum err store_event_attempts(struct store *s, int64_t rowid, const char *endpoint_id,
                              const char *before_id, const struct store_attempt_filter *f,
                              int limit, struct store_event_attempt *out, int *n, bool *has_more,
                              struct err_detail *d);

/* ---- portal tokens (store_apps.c) ---- */
struct store_portal_token {
    char id[ID_MAX];
    char mode[8];
    char application_id[ID_MAX];
    char name[128];
    char scopes[32];        /* "read" or "read,write" */
    char prefix[16];        /* the token's first characters, to tell tokens apart ("" before) */
    char *allowed_ips_json; /* JSON array of addresses/CIDRs; NULL = any */
    int64_t expires_at_ms, revoked_at_ms, created_at_ms;
};
void store_portal_token_release(struct store_portal_token *t);
enum err store_portal_token_insert(struct store *s, const struct store_portal_token *t,
                                   const uint8_t token_sha256[32], struct err_detail *d);
/* A token by the SHA-256 of its secret (expired and revoked ones too: the caller
 * decides); ERR_NOTFOUND when unknown. */
enum err store_portal_token_find(struct store *s, const uint8_t token_sha256[32],
                                 struct store_portal_token *out, struct err_detail *d);
/* The tokens of application_id of mode, newest first (expired and revoked ones too),
 * at most max into out (*n of them; release each). */
enum err store_portal_token_list(struct store *s, const char *mode, const char *application_id,
                                 int max, struct store_portal_token *out, int *n,
                                 struct err_detail *d);
/* Revoke token id of mode at now_ms: from then on store_portal_token_find shows it
 * revoked. Revoking again keeps the first time. ERR_NOTFOUND when unknown. */
/* Endpoint id of mode was verified (a signed test delivery got a 2xx) at at_ms;
 * ERR_NOTFOUND when there is no such live endpoint. */
enum err store_endpoint_set_verified(struct store *s, const char *mode, const char *id,
                                     int64_t at_ms, struct err_detail *d);
enum err store_portal_token_revoke(struct store *s, const char *mode, const char *id,
                                   int64_t now_ms, struct err_detail *d);

/* ---- idempotency keys of POST requests (store_apps.c) ---- */
#define STORE_IDEM_KEY_MAX 256
struct store_idem {
    char request_sha256[65];
    int status;
    char resource[ID_MAX]; /* id of what the request made; "" = none */
    int64_t created_at_ms;
};
/* The record of key in mode made at or after since_ms; ERR_NOTFOUND when none. */
enum err store_idem_find(struct store *s, const char *mode, const char *key, int64_t since_ms,
                         struct store_idem *out, struct err_detail *d);
/* Write (or overwrite an expired) record of key. */
enum err store_idem_put(struct store *s, const char *mode, const char *key,
                        const struct store_idem *rec, struct err_detail *d);

/* A fan-out message of an endpoint with its event. */
struct store_endpoint_message {
    char message_id[ID_MAX];
    enum store_status status;
    int64_t next_attempt_at_ms; /* 0 = none */
    struct store_event event;   /* release with store_event_release */
};
/* The endpoint's fan-out messages, newest first, before message before_message_id. */
enum err store_endpoint_event_messages(struct store *s, const char *endpoint_id,
                                       const char *before_message_id, int limit,
                                       struct store_endpoint_message *out, int *n, bool *has_more,
                                       struct err_detail *d);
/* The attempts of the endpoint's fan-out messages, newest message first (its
 * attempts newest first), after (before_message_id, before_attempt_id). */
enum err store_endpoint_event_attempts(struct store *s, const char *endpoint_id,
                                       const char *before_message_id, const char *before_attempt_id,
                                       const struct store_attempt_filter *f, int limit,
                                       struct store_event_attempt *out, int *n, bool *has_more,
                                       struct err_detail *d);

/* ---- sends and messages ---- */
struct store_send {
    char message_id[ID_MAX]; /* chosen by the caller */
    const char *endpoint_id;
    const char *mode;
    const char *payload;
    size_t payload_len;
    const char *content_type;
    const char *headers_json;    /* NULL = none */
    const char *idempotency_key; /* "" = none */
    const char *payload_sha256;
    int retention_hours; /* -1 = server default */
    int64_t now_ms;
    int64_t payload_expires_at_ms; /* payload purge time once finished; 0 = never */
};

/*
 * Make the event and its message, status queued. When the endpoint already
 * has a message with the same idempotency key: same payload hash -> ERR_OK with
 * *existed = true and existing_id filled; other payload -> ERR_CONFLICT
 * (IDEMPOTENCY_MISMATCH). Unknown or deleted endpoint -> ERR_NOTFOUND.
 * When the endpoint has a deduplicate policy and saw the message's key (payload
 * and custom headers, core/dedupe.h) within its window, the message is made with
 * status deduplicated and not handed to delivery; the key is judged and recorded
 * in this transaction. The endpoint's rule is kept with the live-endpoint cache,
 * so an endpoint without one costs nothing more.
 */
enum err store_send_insert(struct store *s, const struct store_send *in, char existing_id[ID_MAX],
                           bool *existed, struct err_detail *d);

struct store_message {
    char id[ID_MAX];
    char endpoint_id[ID_MAX];
    enum store_status status;
    int attempt_count;
    int replay_count;
    char content_type[128];
    int64_t size_bytes;
    char payload_sha256[65];
    char idempotency_key[256];
    int64_t next_attempt_at_ms;  /* 0 = none */
    char *last_error;            /* NULL = none */
    int response_status;         /* 0 = none */
    int64_t response_latency_ms; /* -1 = none */
    int64_t created_at_ms;
    int64_t updated_at_ms;
    int64_t delivered_at_ms; /* 0 = none */
    int64_t failed_at_ms;    /* 0 = none */
};
void store_message_release(struct store_message *m);

enum err store_message_get(struct store *s, const char *mode, const char *id,
                           struct store_message *out, struct err_detail *d);

/* ---- attempts ---- */
struct store_attempt {
    char id[ID_MAX];
    char message_id[ID_MAX];
    int attempt_no;
    int64_t created_at_ms;
    int response_status; /* 0 = no HTTP answer */
    int64_t latency_ms;
    char *error_text;    /* NULL = none */
    char *response_body; /* truncated, NULL = none */
    bool response_body_truncated;
    char *response_headers_json; /* NULL = none */
    char *request_headers_json;  /* NULL = none */
    const char *retry_type;      /* "fast" | "slow" | NULL */
    int64_t retry_after_seconds; /* -1 = none */
    char resolved_ip[64];
    bool conn_reused;
    int64_t dns_ms, tcp_connect_ms, tls_handshake_ms, ttfb_ms, transfer_ms; /* -1 = n/a */
    /* store_attempt_record only, optional ("" = unknown): the message's mode and
     * endpoint, which delivery knows. With them and sched_version 0 (never
     * rescheduled, hence never replayed) the message is moved without being
     * read first. */
    char mode[8];
    char endpoint_id[ID_MAX];
};
void store_attempt_release(struct store_attempt *a);

/*
 * Record a finished attempt and move its message: new_status is succeeded,
 * pending_retry (next_attempt_at_ms set) or failed_permanent. The attempt row
 * is always written; the message only moves while its sched_version still
 * equals sched_version (a cancel or replay during the attempt wins). Also
 * counts the outcome in the per-minute rollups.
 */
enum err store_attempt_record(struct store *s, const struct store_attempt *a,
                              enum store_status new_status, int64_t next_attempt_at_ms,
                              int64_t sched_version, struct err_detail *d);

/* Attempts of a message, oldest first (ids are UUIDv7, so id order is time order
 * across replay series), after the attempt id after_id ("" = from the start);
 * up to max into out, *n the count, *has_more. */
enum err store_attempt_list(struct store *s, const char *message_id, const char *after_id, int max,
                            struct store_attempt *out, int *n, bool *has_more,
                            struct err_detail *d);

/* ---- delivery ---- */
/* A message not yet finished (queued, delivering or pending_retry). */
struct store_pending {
    char message_id[ID_MAX];
    char endpoint_id[ID_MAX];
    int attempt_count;
    int64_t due_ms; /* 0 = due at once (a new send or a replay) */
    int64_t sched_version;
    /* store_backlog_page only, borrowed until the callback returns: what an
     * attempt needs, so a paged-in message is not read a second time. */
    const void *payload; /* NULL when purged */
    size_t payload_len;
    const char *content_type;
    const char *headers_json; /* NULL = none */
    const char *webhook_id;   /* the event's public id; NULL = the message id */
};

/* Every endpoint (deleted ones included: they still deliver what was
 * queued) with unfinished messages, and the due time of its earliest one:
 * where delivery starts after a restart. fn returns false to stop early. */
enum err store_backlog_endpoints(struct store *s,
                                 bool (*fn)(const char *endpoint_id, int64_t due_ms, void *ctx),
                                 void *ctx, struct err_detail *d);

/* Up to max unfinished messages of endpoint_id, earliest due first (due
 * time, then id), with their payloads: one page of its backlog. fn returns
 * false to stop early. */
enum err store_backlog_page(struct store *s, const char *endpoint_id, int max,
                            bool (*fn)(const struct store_pending *, void *), void *ctx,
                            struct err_detail *d);

struct store_delivery {
    int64_t sched_version; /* bumped by retry-now, cancel, replay: stale jobs are dropped */
    char *payload;
    size_t payload_len;
    char *content_type;
    char *headers_json; /* NULL = none */
    char *webhook_id;   /* the event's public id; NULL = the message id */
    int attempt_count;
    enum store_status status;
};
void store_delivery_release(struct store_delivery *dl);

/* What an attempt needs of a message. ERR_NOTFOUND when gone (deleted). */
enum err store_delivery_load(struct store *s, const char *message_id, struct store_delivery *out,
                             struct err_detail *d);

/* ---- rollups (store_rollups.c): per-minute counters kept as messages change state ---- */
#define STORE_ROLLUP_BUCKET_MS 60000

struct store_rollup {
    int64_t total, succeeded, failed, retries, latency_sum_ms, latency_count;
};

/* Sum the rollups of mode (and endpoint_id unless NULL) over [from_ms, to_ms). */
enum err store_rollup_sum(struct store *s, const char *mode, const char *endpoint_id,
                          int64_t from_ms, int64_t to_ms, struct store_rollup *out,
                          struct err_detail *d);

/* ---- api keys (store_keys.c) ---- */
#define STORE_MAX_API_KEYS 1000 /* active keys per store; bounds the unpaged key list */

/* An active (not deleted) key by id; ERR_NOTFOUND when absent or deleted. */
enum err store_api_key_get(struct store *s, const char *id, struct store_api_key *out,
                           struct err_detail *d);
/* Active keys of mode (NULL = every mode), oldest first; up to max into out (caller
 * array), *n the count. */
enum err store_api_key_list(struct store *s, const char *mode, struct store_api_key *out, int max,
                            int *n, struct err_detail *d);
/* Number of active keys of mode (NULL = every mode). */
enum err store_api_key_count_mode(struct store *s, const char *mode, int64_t *out,
                                  struct err_detail *d);
/* Soft delete (sets deleted_at); ERR_NOTFOUND when absent or already deleted. */
enum err store_api_key_delete(struct store *s, const char *id, int64_t now_ms,
                              struct err_detail *d);
/* Set last_used_at = now_ms unless it is already later; a deleted or unknown key is
 * not an error (the touch is best effort). */
enum err store_api_key_touch(struct store *s, const char *id, int64_t now_ms, struct err_detail *d);

/* ---- endpoint state and signing keys (store_endpoint_state.c) ---- */

/*
 * Set the paused flag of a live endpoint of mode (updated_at moves only when
 * the flag changes, so repeating a pause or resume is a no-op). When
 * unfinished is not NULL, *unfinished gets the number of the endpoint's
 * messages not yet finished (queued or pending_retry), counted in the same
 * transaction. ERR_NOTFOUND (ENDPOINT_NOT_FOUND) when the endpoint is
 * unknown, deleted or of the other mode.
 */
enum err store_endpoint_set_paused(struct store *s, const char *mode, const char *id, bool paused,
                                   int64_t now_ms, int64_t *unfinished, struct err_detail *d);

/* A signing key as listed: never the secret, only its last 4 characters. */
struct store_signing_key_info {
    char id[ID_MAX];
    char key_hint[8];
    int64_t created_at_ms;
};

/* In this section a key is active while it is not retired and (when it has an
 * expiry) k->created_at_ms / now_ms is before its expires_at. */

/* Add k as an active signing key of the live endpoint endpoint_id of mode
 * (k->created_at_ms is now). ERR_NOTFOUND (ENDPOINT_NOT_FOUND); ERR_CONFLICT
 * (SIGNING_KEY_LIMIT) when the endpoint already has STORE_MAX_ACTIVE_KEYS active
 * keys. */
enum err store_signing_key_add(struct store *s, const char *mode, const char *endpoint_id,
                               const struct store_signing_key *k, struct err_detail *d);

/*
 * Rotate: make k (k->created_at_ms is now; its expires_at_ms is ignored) the
 * newest signing key of the live endpoint endpoint_id of mode, in one step.
 * Keys past their expiry are retired. The key that was the newest stays active
 * beside k until now + overlap_ms (or its own earlier expiry), so receivers can
 * move to k; any older active key is retired at once (at most
 * STORE_MAX_ACTIVE_KEYS active, as on /v1), and with overlap_ms 0 the newest
 * is retired too. Retired keys have their secret erased. The dispatcher is
 * told (endpoint changed). ERR_NOTFOUND (ENDPOINT_NOT_FOUND).
 */
enum err store_signing_key_rotate(struct store *s, const char *mode, const char *endpoint_id,
                                  const struct store_signing_key *k, int64_t overlap_ms,
                                  struct err_detail *d);

/* The signing keys of a live endpoint of mode active at now_ms, oldest first, up
 * to max into out (caller array); *n the count. ERR_NOTFOUND (ENDPOINT_NOT_FOUND). */
enum err store_signing_key_list(struct store *s, const char *mode, const char *endpoint_id,
                                int64_t now_ms, struct store_signing_key_info *out, int max, int *n,
                                struct err_detail *d);

/* Retire an active signing key of a live endpoint of mode; its secret is
 * erased from the row. ERR_NOTFOUND (ENDPOINT_NOT_FOUND, SIGNING_KEY_NOT_FOUND);
 * ERR_CONFLICT (LAST_SIGNING_KEY) when no other active key would be left, or
 * only one that expires (rotated away). */
enum err store_signing_key_delete(struct store *s, const char *mode, const char *endpoint_id,
                                  const char *key_id, int64_t now_ms, struct err_detail *d);

/* ---- message operations, DLQ and retention (store_messages.c) ---- */
/* Replays allowed per message; one more is REPLAY_LIMIT_EXCEEDED. */
#define STORE_REPLAY_LIMIT 100

enum store_msg_action {
    STORE_ACT_RETRY_NOW,  /* pending_retry: due now */
    STORE_ACT_CANCEL,     /* pending_retry -> failed_permanent */
    STORE_ACT_REPLAY,     /* succeeded | failed_permanent -> queued, new attempt series */
    STORE_ACT_REPLAY_DLQ, /* as replay, from failed_permanent only */
};

/* What a reschedule leaves for the dispatcher (dispatcher_submit after commit). */
struct store_resched {
    char message_id[ID_MAX];
    char endpoint_id[ID_MAX];
    int64_t sched_version; /* the version after the change */
};

/*
 * Apply act to the live message id of mode, bumping its sched_version so
 * that older dispatcher jobs and late attempt results are ignored. Cancel
 * counts a failure and replay a new message in the rollups. Errors:
 * ERR_NOTFOUND (MESSAGE_NOT_FOUND, also when deleted), ERR_CONFLICT with
 * code INVALID_STATE (wrong status) or RETENTION_EXPIRED (payload purged or
 * past its retention), ERR_LIMIT with REPLAY_LIMIT_EXCEEDED.
 */
enum err store_message_action(struct store *s, const char *mode, const char *id,
                              enum store_msg_action act, int64_t now_ms, struct store_resched *out,
                              struct err_detail *d);

/* Which live messages a bulk operation selects. */
struct store_msg_filter {
    const char *mode;
    int status;                /* enum store_status, or -1 for any */
    const char *endpoint_id;   /* NULL = any */
    int64_t created_after_ms;  /* exclusive; 0 = no bound */
    int64_t created_before_ms; /* exclusive; 0 = no bound */
};

/* Ids of up to limit live messages matching f, oldest first, into out; *n the count. */
enum err store_message_select(struct store *s, const struct store_msg_filter *f, int limit,
                              char (*out)[ID_MAX], int *n, struct err_detail *d);

/* Idempotent soft delete of message id of mode: the message is never attempted
 * again (sched_version bumped), disappears from reads, and its payload is
 * dropped. *already tells a repeat; *deleted_at_ms is the first deletion's time.
 * ERR_NOTFOUND when there is no such message. */
enum err store_message_delete(struct store *s, const char *mode, const char *id, int64_t now_ms,
                              int64_t *deleted_at_ms, bool *already, struct err_detail *d);

/* One dead-letter entry: a live failed_permanent message. */
struct store_dlq_item {
    char id[ID_MAX];
    char endpoint_id[ID_MAX];
    char *endpoint_url; /* NULL when the endpoint row is gone */
    int attempt_count;
    int64_t created_at_ms;
    int64_t failed_at_ms;
    char *last_error;            /* NULL = none */
    int response_status;         /* 0 = none */
    int64_t response_latency_ms; /* -1 = none */
};
void store_dlq_item_release(struct store_dlq_item *it);

/* Page through the DLQ of mode, newest message first, after cursor (a message id;
 * "" or NULL = start). Up to limit entries into out (caller array), *n, *has_more. */
enum err store_dlq_list(struct store *s, const char *mode, const char *cursor, int limit,
                        struct store_dlq_item *out, int *n, bool *has_more, struct err_detail *d);

/* Deduplication keys past their window, one bounded chunk per call (the janitor
 * loops while *n == max): delete up to max rows that expired at or before now_ms. */
enum err store_dedupe_purge(struct store *s, int64_t now_ms, int max, int *n, struct err_detail *d);

/* Retention, one bounded chunk per call (the janitor loops while *n == max):
 * drop the payloads of up to max finished or deleted messages whose
 * payload_expires_at has passed (metadata stays; replay answers 410). */
enum err store_retention_purge_payloads(struct store *s, int64_t now_ms, int max, int *n,
                                        struct err_detail *d);
/* Delete up to max finished or deleted messages created before before_ms, with their
 * attempts and events (a published event with its last message), then, within the
 * same max, published events created before before_ms that reached no endpoint.
 * Unfinished messages are kept until they finish. */
enum err store_retention_delete_history(struct store *s, int64_t before_ms, int max, int *n,
                                        struct err_detail *d);
/* The smallest UUIDv7 of unix_ms (random bits zero) into out: every id made at or after
 * unix_ms compares >= it, every id made before compares < it. */
void store_uuid7_floor(char out[ID_MAX], int64_t unix_ms);

/* ---- logs and metrics queries (store_queries.c) ---- */
#define STORE_LOG_MAX_LIMIT 500
#define STORE_ROLLUP_HOUR_MS 3600000

/* A /v1/logs page request. Ids are UUIDv7, so the time range becomes an id range. */
struct store_log_filter {
    const char *mode;
    int status;                 /* an enum store_status, or -1 for any */
    int64_t start_ms;           /* inclusive; INT64_MIN = unbounded */
    int64_t end_ms;             /* exclusive; INT64_MAX = unbounded */
    const char *cursor;         /* NULL = first page; else the id of the previous page's last row */
    int limit;                  /* 1..STORE_LOG_MAX_LIMIT */
    const char *application_id; /* only messages to its endpoints; NULL = any */
};

struct store_log_entry {
    char message_id[ID_MAX];
    char endpoint_id[ID_MAX];
    char *endpoint_url; /* never NULL once filled */
    enum store_status status;
    int attempt_count;
    int64_t created_at_ms;
    int64_t delivered_at_ms;     /* 0 = none */
    int response_status;         /* 0 = none */
    int64_t response_latency_ms; /* -1 = none */
    char *last_error;            /* NULL = none */
};
void store_log_entry_release(struct store_log_entry *e);

/* Messages of f->mode matching f (not deleted), newest first, into out (caller array of
 * f->limit); *n the count, *has_more when another row follows. Walks messages_mode_id or
 * messages_mode_status, so a page costs O(limit) wherever the cursor points.
 * ERR_INVAL (INVALID_REQUEST) for a cursor that is not a message id. */
enum err store_log_list(struct store *s, const struct store_log_filter *f,
                        struct store_log_entry *out, int *n, bool *has_more, struct err_detail *d);

/* Like store_rollup_sum over [from_ms, to_ms) at minute resolution, but whole hours
 * come from the hourly rollups (rollups_hourly, kept by triggers on rollups), so a 30-day
 * window reads ~720 rows per endpoint instead of ~43,200. */
enum err store_metrics_sum(struct store *s, const char *mode, const char *endpoint_id,
                           int64_t from_ms, int64_t to_ms, struct store_rollup *out,
                           struct err_detail *d);

/* Sum the rollups of mode (and endpoint_id unless NULL) into nbuckets consecutive
 * buckets of bucket_ms starting at from_ms, with one grouped query; out[nbuckets] is
 * zeroed first, so empty buckets stay zero. bucket_ms and from_ms must be multiples of
 * an hour (hourly rollups) or else of a minute; ERR_INVAL otherwise. */
enum err store_metrics_series(struct store *s, const char *mode, const char *endpoint_id,
                              int64_t from_ms, int64_t bucket_ms, int nbuckets,
                              struct store_rollup *out, struct err_detail *d);

/* An endpoint's deliveries by state over a time window (store_endpoint_stats). */
struct store_endpoint_stats {
    int64_t succeeded, failed; /* messages that reached the state in the window */
    int64_t waiting;           /* unfinished, created in the window: queued or pending_retry */
    int64_t delivering;        /* unfinished, created in the window, marked delivering */
};

/* Gauges for /metrics (every mode): live unfinished messages (queued,
 * delivering, pending_retry) and the earliest next-attempt time among them
 * (0 when none), live dead-letter messages, disabled endpoints, open circuits. Scans the
 * backlog index: cache it (the caller asks at most every few seconds). */
struct store_gauges {
    int64_t unfinished, earliest_due_ms, dead_letter, endpoints_disabled;
    int64_t circuits_open; /* endpoints whose circuit is open or half open */
};
enum err store_gauges(struct store *s, struct store_gauges *out, struct err_detail *d);

/*
 * Count endpoint_id's deliveries (of mode) over [from_ms, to_ms), without
 * walking its history: succeeded and failed are the rollup counters
 * (store_metrics_sum, minute resolution), so they count what finished in the
 * window, once per delivery series (a replay that succeeds again counts
 * again; a cancel counts as failed). waiting and delivering count its
 * unfinished messages by created_at, along messages_backlog: O(its backlog).
 */
enum err store_endpoint_stats(struct store *s, const char *mode, const char *endpoint_id,
                              int64_t from_ms, int64_t to_ms, struct store_endpoint_stats *out,
                              struct err_detail *d);

/* ---- secrets at rest (store_secrets.c) ---- */
#define STORE_SECRET_KEY_LEN 32
#define STORE_SECRET_KEY_ID_SIZE 17 /* 16 hex characters and a NUL */

/* Set (copy) the process key every store opened afterwards seals and opens
 * secrets with; NULL wipes it. Call before opening stores and starting
 * threads. Without a key, stores open but reading or writing a secret fails. */
enum err store_secrets_set_key(const uint8_t key[STORE_SECRET_KEY_LEN]);

/* The id of the key the store's secrets are sealed with, "" when none is
 * recorded yet (a fresh store, or one not yet opened with a key). */
enum err store_secrets_key_id(struct store *s, char out[STORE_SECRET_KEY_ID_SIZE],
                              struct err_detail *d);

/* Offline rotation: in one transaction, re-seal every secret with new_key
 * (opening it with the connection's key) and record new_key's check; then
 * scrub the file so no value sealed with the old key survives in free
 * space. *n: values rewritten. ERR_BUSY when another connection (a running
 * hookd) has the database open. On success the connection uses new_key. */
enum err store_secrets_rotate(struct store *s, const uint8_t new_key[STORE_SECRET_KEY_LEN],
                              int64_t *n, struct err_detail *d);

/* ---- several hookd nodes on one database (PostgreSQL; SQLite has one node) ----
 * See docs/operations/postgresql.md. */
struct feed;
/* Receives feed items on a store thread (the dispatcher's dispatcher_feed). */
typedef void (*store_feed_fn)(void *ctx, struct feed *items);

/* Whether other hookd processes may share this store: the dispatcher then looks for
 * work to claim (store_backlog_endpoints) periodically, not only at start. */
bool store_shared(struct store *s);

/* Start this process's node on the writing connection's database: a heartbeat that
 * keeps the node's claims alive, and a listener (its own connection and thread) that
 * hands fn the changes other nodes commit (endpoint changes, pauses and resumes;
 * messages rescheduled elsewhere, as FEED_DROPPED so a stale resident job is not
 * run), with a poll of the endpoints as the fallback for a missed notification.
 * A no-op on SQLite. */
enum err store_node_start(struct store *s, store_feed_fn fn, void *ctx, struct err_detail *d);
void store_node_stop(struct store *s);

/* This process's node name (before any store_open; process-wide, like the key):
 * the same name is the same node, so a node restarted under its name resumes the
 * messages it had claimed at once instead of after its lease ran out. NULL or ""
 * (the default): a random node per process. */
void store_set_node_name(const char *name);

/* How many nodes share the store now (heartbeats within the lease; at least 1):
 * per-endpoint rate limits are divided among them. */
int store_live_nodes(struct store *s);

#endif

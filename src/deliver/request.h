/*
 * request - one outbound delivery attempt as a curl easy handle: headers
 * (content type, user agent, merged custom headers, both signature
 * families), the connect-time address policy, response capture with
 * ceilings, and the attempt record built from the finished transfer.
 *
 * Description: the dispatcher owns scheduling; this module only turns a
 * message + endpoint into a configured CURL handle and a finished handle
 * into a store_attempt. Response bodies are kept up to REQUEST_BODY_MAX
 * bytes, response headers up to REQUEST_HEADERS_MAX.
 * Threading: a struct request and its request_target are used by one
 * thread at a time: a delivery thread's, or the thread of a test send
 * (deliver/test_send.h), which builds its one request with these same
 * functions so it is sent exactly as a delivery would be.
 * Ownership: struct request is owned by the dispatcher (or the test send);
 * request_release frees what request_setup allocated (the easy handle
 * itself is reused).
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_DELIVER_REQUEST_H
#define HOOKD_DELIVER_REQUEST_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/signature.h"
#include "deliver/addr_guard.h"
#include "deliver/policy.h"
#include "store/store.h"

#define REQUEST_BODY_MAX 4096
/* Past this many response body bytes the transfer is cut (the connection is
 * closed): reading on keeps a connection reusable, but a receiver answering
 * 10 MB would otherwise cost its delivery thread 10 MB of reads per attempt. */
#define REQUEST_DRAIN_MAX (64 * 1024)
#define REQUEST_HEADERS_MAX 4096

/* What a delivery needs of its endpoint (the dispatcher caches this). */
struct request_target {
    char *url;
    char *headers_json; /* endpoint-level custom headers, NULL = none */
    bool hmac_enabled;
    struct store_signing_key keys[STORE_MAX_ACTIVE_KEYS];
    int n_keys;
    /* keys[] prepared for signing (request_target_prepare); a key whose
     * secret is malformed has no prepared twin and signs nothing. A signer
     * whose key expires (a key rotated away) signs only attempts started
     * before signer_expires_ms (0 = no expiry). */
    struct signature_key signers[STORE_MAX_ACTIVE_KEYS];
    int64_t signer_expires_ms[STORE_MAX_ACTIVE_KEYS];
    int n_signers;
    /* The endpoint's delivery policy (NULL = none) and the server's header
     * prefix (NULL = "X-Webhook-"). With either asking for other headers than
     * today's standard ones, signing goes through signature_scheme_headers:
     * scheme_keys are then keys[] prepared for it (standard scheme). */
    const struct delivery_policy *pol;
    const char *server_prefix;
    bool general_headers;
    struct signature_scheme_key scheme_keys[STORE_MAX_ACTIVE_KEYS];
    int64_t scheme_key_expires_ms[STORE_MAX_ACTIVE_KEYS];
    int n_scheme_keys;
};

/* Prepare t->keys for signing (after loading them and setting pol and server_prefix). */
void request_target_prepare(struct request_target *t);
/* Free what request_target_prepare made and wipe the keys. */
void request_target_clear_keys(struct request_target *t);

struct request {
    CURL *easy;
    struct curl_slist *headers;
    char body[REQUEST_BODY_MAX + 1];
    size_t body_len;
    bool body_truncated;
    size_t body_seen;                           /* response body bytes received, kept or not */
    bool body_cut;                              /* stopped reading at REQUEST_DRAIN_MAX */
    char resp_headers[REQUEST_HEADERS_MAX + 1]; /* "Name: value\n" lines */
    size_t resp_headers_len;
    char retry_after[64];
    struct addr_guard guard; /* the address policy; guard.blocked: a connect was refused */
    char errbuf[CURL_ERROR_SIZE];
    int64_t started_at_ms;
    /* Set when the attempt failed before any request went out (a destination
     * auth that cannot be applied, an OAuth2 token that cannot be had): the
     * handle is not run, request_finish records this. */
    char preflight_error[512];
};

/* Create r->easy with the options every attempt shares (callbacks into r,
 * protocols, no redirects, the CA bundle): set once, as r stays at one
 * address for the handle's life. False when curl cannot make a handle. */
bool request_init(struct request *r);

/* Configure r->easy (made by request_init) for one attempt: the URL, body,
 * headers and timeouts, all set every time, so nothing of the last attempt
 * carries over. */
void request_setup(struct request *r, const struct request_target *t, const char *webhook_id,
                   const char *payload, size_t payload_len, const char *content_type,
                   const char *msg_headers_json, const char *user_agent, int64_t timeout_ms,
                   bool allow_private, const char *access_token);
/* After request_setup: false when the attempt failed before the request
 * (r->preflight_error says why; do not run the handle, call request_finish). */
bool request_ready(const struct request *r);

/* Fill an attempt record from the finished transfer (result = the CURLMsg code).
 * Returns true when the receiver accepted the delivery (2xx). */
bool request_finish(struct request *r, CURLcode result, struct store_attempt *a);

/* Free the header list; the easy handle is kept for reuse. */
void request_release(struct request *r);

/*
 * Fill t for the endpoint ep that the caller read through s: the active
 * signing keys at now_ms and the delivery policy with its sealed secrets
 * are read through s, the keys prepared for signing with server_prefix
 * (NULL = "X-Webhook-"), and t takes ep->url and ep->headers_json (both set
 * to NULL in ep; the rest of ep stays the caller's). *pol is the policy
 * (NULL = none), which t->pol borrows; free it with delivery_policy_free
 * after t. t must hold nothing (zeroed, or cleared as worker__target_clear
 * or request_target_release do).
 * A policy that cannot be read is not an error: *pol stays NULL (the
 * endpoint delivers with the defaults) and policy_error says why, for the
 * caller to log; it is "" otherwise. Errors: the store's, from reading the
 * keys (d set; t and *pol then hold nothing).
 */
enum err request_target_load(struct request_target *t, struct delivery_policy **pol,
                             struct store *s, struct store_endpoint *ep, const char *server_prefix,
                             int64_t now_ms, struct err_detail *d, struct err_detail *policy_error);
/* Free what request_target_load gave t (not the policy) and zero it. */
void request_target_release(struct request_target *t);

/*
 * After request_setup: fn(ctx, name, value) for each header of r that
 * identifies or signs the delivery (webhook-id, webhook-timestamp and
 * webhook-signature, the HookBridge family under its prefix, svix-*), in
 * the order they are sent, and for the destination auth's header, with
 * value NULL: its value is a secret and is never handed out. Content-Type,
 * User-Agent and custom headers (the endpoint's, and msg_headers_json's as
 * passed to request_setup) are not reported. A preflight error may have
 * left out the auth header: what is reported is what r would send.
 */
void request_each_sent_header(const struct request *r, const struct request_target *t,
                              const char *msg_headers_json,
                              void (*fn)(void *ctx, const char *name, const char *value),
                              void *ctx);

#endif

/*
 * oauth2 - access tokens for endpoints with oauth2_client_credentials auth
 * (POLICIES.md §3): fetched from the token URL, cached per endpoint.
 *
 * Description: oauth2_token answers from the cache while the token is
 * fresh, else POSTs `grant_type=client_credentials` (+ `scope`) as a form
 * to token_url - with HTTP Basic client_id:client_secret (client_auth
 * "basic", the two sent as they are, not form-encoded first) or both in the
 * form (client_auth "body") - and reads {access_token, token_type,
 * expires_in} from the JSON answer.
 *
 * Caching: the key is the endpoint id plus a SHA-256 of the whole auth
 * config (secret included), so a changed config fetches anew and the old
 * entry is dropped. A token is kept until expires_in - 30 s on the injected
 * clock; one with expires_in of 30 s or less is used for the attempts that
 * asked for it but not cached, and an answer without expires_in counts as
 * OAUTH2_DEFAULT_EXPIRES_S. Failures are not cached: the next attempt (on
 * the endpoint's retry schedule) fetches again.
 *
 * One fetch at a time per key: callers that find a fetch running wait for
 * it and share its outcome, token or error, rather than queueing their own
 * requests behind it. oauth2_invalidate serves "a 401 from the receiver
 * refreshes once": the caller invalidates the token the receiver refused,
 * asks again (which fetches) and retries the attempt once; passing the
 * refused token keeps a concurrent caller's fresh token from being dropped.
 *
 * Blocking: a fetch is a blocking libcurl transfer on the calling thread,
 * bounded by timeout_ms (OAUTH2_TIMEOUT_DEFAULT_MS when 0, connect at most
 * 10 s), and waiters block until it ends. On a delivery worker that stalls
 * the worker's other transfers for as long as the token server takes, once
 * per token lifetime per endpoint. The token URL obeys the address policy
 * at connect time like deliveries (the same CURLOPT_OPENSOCKETFUNCTION
 * check as request.c) unless allow_private; no proxy, no redirects, http
 * and https only, the answer read up to OAUTH2_RESPONSE_MAX bytes.
 *
 * Threading: every function is safe from any thread once the cache exists;
 * curl_global_init must have run. Entries are guarded by one mutex held
 * only for lookups, never across a transfer.
 * Ownership: the cache owns its entries and wipes their tokens when they
 * go; oauth2_token copies the token into the caller's buffer.
 * Errors: the detail message is written to be the attempt's error
 * ("oauth2 token request failed: HTTP 401 from token_url (invalid_client)").
 * ERR_INVAL (not an oauth2 config, or the address policy refused the token
 * URL), ERR_TIMEOUT (the token server did not answer in time), ERR_IO
 * (other transfer failures), ERR_PROTO (a non-2xx status, an answer that is
 * not JSON, lacks access_token, or has a token_type other than Bearer),
 * ERR_LIMIT (the answer or the token exceeds its ceiling).
 * See also: src/core/dest_auth.h (dest_auth_apply makes the header),
 * docs/policies/destination-auth.md.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_DELIVER_OAUTH2_H
#define HOOKD_DELIVER_OAUTH2_H

#include <stdbool.h>
#include <stdint.h>

#include "core/dest_auth.h"
#include "util/err.h"

#define OAUTH2_TOKEN_MAX 8192                /* bytes of an access token */
#define OAUTH2_RESPONSE_MAX (64 * 1024)      /* bytes of the token server's answer */
#define OAUTH2_TIMEOUT_DEFAULT_MS 10000      /* a whole fetch, when the caller gives 0 */
#define OAUTH2_EXPIRY_MARGIN_MS 30000        /* a token is refreshed this long before it expires */
#define OAUTH2_DEFAULT_EXPIRES_S 300         /* an answer without expires_in */
#define OAUTH2_MAX_EXPIRES_S (365 * 86400LL) /* longer expires_in values are clamped */

struct oauth2_cache;

/* A clock in milliseconds (monotonic in production; tests inject one). */
typedef int64_t (*oauth2_clock_fn)(void *ctx);

/* A new, empty cache. now_ms NULL uses clock_mono_ms. */
struct oauth2_cache *oauth2_cache_new(oauth2_clock_fn now_ms, void *clock_ctx);

/* Wipe every token and free (NULL is a no-op). No call may be running. */
void oauth2_cache_free(struct oauth2_cache *c);

/*
 * A fresh access token for endpoint_id, whose auth is a
 * (DEST_AUTH_OAUTH2_CC), copied into token (NUL-terminated): from the cache,
 * or fetched now (see above). timeout_ms bounds a fetch (0 = default).
 * allow_private lets the token URL resolve to non-public addresses
 * (--allow-private-networks). On error token is "" and d holds the message
 * for the attempt's record.
 */
enum err oauth2_token(struct oauth2_cache *c, const char *endpoint_id, const struct dest_auth *a,
                      bool allow_private, int64_t timeout_ms, char token[OAUTH2_TOKEN_MAX + 1],
                      struct err_detail *d);

/* Forget the cached token of (endpoint_id, a) so the next oauth2_token
 * fetches; with refused non-NULL only when the cached token is that one
 * (another caller may already have replaced it). */
void oauth2_invalidate(struct oauth2_cache *c, const char *endpoint_id, const struct dest_auth *a,
                       const char *refused);

/* Counters since the cache was made (for metrics and tests). */
struct oauth2_stats {
    uint64_t fetches; /* token requests started */
    uint64_t waits;   /* times a caller waited for another caller's fetch */
    uint64_t waiting; /* callers waiting for another caller's fetch now */
};
void oauth2_get_stats(struct oauth2_cache *c, struct oauth2_stats *out);

#endif

/*
 * dest_auth - an endpoint's authentication to its receiver (POLICIES.md §3,
 * §8 `auth`): parse and validate the `auth` object, render it for reading
 * with the secret replaced by a hint, serialise it whole for sealing at
 * rest, and work out what one attempt adds to its request.
 *
 * Description: five types, each with exactly one secret (in capitals):
 *
 *   bearer       TOKEN                    Authorization: Bearer <token>
 *   basic        username, PASSWORD       Authorization: Basic <b64(user:pass)>
 *   api_key      name, KEY, to            <name>: <key>, or ?<name>=<key> with
 *                                         to "query"
 *   custom_hmac  header, SECRET, encoding <header>: <HMAC-SHA256(secret, body)>
 *                                         in hex or base64
 *   oauth2_client_credentials             Authorization: Bearer <fetched token>
 *                token_url, client_id, CLIENT_SECRET, scope?, client_auth
 *
 * Defaults: api_key.to "header", custom_hmac.encoding "hex",
 * oauth2_client_credentials.client_auth "basic". Reading shows the type,
 * the non-secret fields and `hint`, the secret's last 4 characters (fewer
 * for short secrets: never more than half of it, so a 4-character password
 * is not shown whole).
 *
 * Header names chosen by the user (api_key.name with to "header",
 * custom_hmac.header) must be RFC 9110 tokens and must not be a name hookd
 * sets itself or that frames the request: Host, Content-Type,
 * Content-Length, Transfer-Encoding, Connection, Keep-Alive, Upgrade, TE,
 * Trailer, Expect, User-Agent, Cookie, Proxy-*, webhook-*, svix-*, and the
 * HookBridge family prefix (X-Webhook-* or the configured prefix).
 * Authorization is allowed there: it is what an api_key often is. No value
 * may contain CR, LF or any other control character.
 *
 * This module is pure: the oauth2 token fetch and cache live in
 * src/deliver/oauth2.c, which hands back the access token that
 * dest_auth_apply turns into the header. Sealing is the caller's (secretbox).
 * Threading: any thread; a struct dest_auth is read-only once parsed and
 * may be shared by readers.
 * Ownership: dest_auth_parse fills a caller-owned struct whose strings are
 * freed (secrets wiped) by dest_auth_release; returned strings, JSON trees
 * and results belong to the caller (dest_auth_json_free wipes a serialised
 * config, dest_auth_result_clear an attempt's additions).
 * Errors: ERR_INVAL with code INVALID_REQUEST and the field at fault
 * ("auth.token_url"), ERR_LIMIT when the whole config is too large to seal.
 * See also: src/deliver/oauth2.h, docs/policies/destination-auth.md,
 * src/core/secretbox.h.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_CORE_DEST_AUTH_H
#define HOOKD_CORE_DEST_AUTH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

#define DEST_AUTH_NAME_MAX 256    /* header or query parameter names, usernames, client ids */
#define DEST_AUTH_SECRET_MAX 2048 /* bytes of a token, password, key or secret */
#define DEST_AUTH_SCOPE_MAX 1024
#define DEST_AUTH_JSON_MAX 4096 /* the serialised config (what the caller seals) */
#define DEST_AUTH_HINT_MAX 17   /* 4 characters of up to 4 bytes each, and the NUL */

enum dest_auth_type {
    DEST_AUTH_NONE = 0,
    DEST_AUTH_BEARER,
    DEST_AUTH_BASIC,
    DEST_AUTH_API_KEY,
    DEST_AUTH_CUSTOM_HMAC,
    DEST_AUTH_OAUTH2_CC, /* "oauth2_client_credentials" */
};

struct dest_auth {
    enum dest_auth_type type;
    /* The one secret of every type: bearer token, basic password, api_key
     * key, custom_hmac secret, oauth2 client_secret. */
    char *secret;
    /* basic username, api_key name, custom_hmac header, oauth2 client_id */
    char *name;
    bool to_query;    /* api_key: to "query" */
    bool base64;      /* custom_hmac: encoding "base64" */
    bool client_body; /* oauth2: client_auth "body" */
    char *token_url;  /* oauth2 */
    char *scope;      /* oauth2, NULL when absent */
};

/* What dest_auth_parse accepts beyond the shapes, from the server's config. */
struct dest_auth_rules {
    bool allow_http; /* token_url may be http:// (--allow-http) */
    /* The HookBridge header prefix in force: NULL = "X-Webhook-", "" = none. */
    const char *header_prefix;
};

/*
 * Parse and validate v, the value of `auth`, into out. NULL or JSON null
 * gives DEST_AUTH_NONE (no auth). When the secret field is absent and prev
 * (may be NULL) has the same type, prev's secret is kept, so a client can
 * send back what it read (a `hint` member is accepted and ignored) or
 * change a non-secret field without repeating the secret. Unknown members
 * are refused. On error out holds nothing to release; on success release it
 * with dest_auth_release.
 */
enum err dest_auth_parse(struct dest_auth *out, const json_t *v, const struct dest_auth *prev,
                         const struct dest_auth_rules *rules, struct err_detail *d);

/* Wipe the secret and free every string of a; a is left DEST_AUTH_NONE. */
void dest_auth_release(struct dest_auth *a);

/* The API name of a type ("bearer", ...; "none" for DEST_AUTH_NONE); static. */
const char *dest_auth_type_name(enum dest_auth_type t);

/* The hint of a's secret (see above) into out; "" when a has none. */
void dest_auth_hint(const struct dest_auth *a, char out[DEST_AUTH_HINT_MAX]);

/* What GET shows: {type, non-secret fields, hint}; JSON null for
 * DEST_AUTH_NONE. New reference, the caller's. */
json_t *dest_auth_public_json(const struct dest_auth *a);

/* The whole config, secret included, as compact JSON of at most
 * DEST_AUTH_JSON_MAX bytes, for the caller to seal with secretbox; NULL for
 * DEST_AUTH_NONE. Free it with dest_auth_json_free, which wipes it.
 * XXX jansson's own intermediate buffers are freed unwiped. */
char *dest_auth_to_json(const struct dest_auth *a);
void dest_auth_json_free(char *json);

/* Read back what dest_auth_to_json wrote (after opening it). The rules of
 * the time of writing are not re-applied: http token URLs and header names
 * reserved by a later --header-prefix load as they were stored. */
enum err dest_auth_from_json(struct dest_auth *out, const char *json, size_t len,
                             struct err_detail *d);

/* What one attempt adds. Every member may be NULL (nothing of that kind). */
struct dest_auth_result {
    char *header_name;  /* e.g. "Authorization" */
    char *header_value; /* e.g. "Bearer abc"; a secret: wiped on clear */
    char *url;          /* api_key to "query": the URL to request instead (holds the key) */
};

/*
 * Work out a's additions to one attempt into out (zeroed first): the header,
 * or for api_key with to "query" the URL with `name=key` appended (both
 * percent-encoded, RFC 3986 unreserved characters kept) to its query, before
 * any fragment, after "&" when a query is there. body[0..body_len) is the
 * exact request body (custom_hmac signs it). access_token is the oauth2
 * token from oauth2_token (ignored by the other types). Returns ERR_INVAL
 * for oauth2 without a token or a token with characters a header cannot
 * carry (outside visible ASCII). DEST_AUTH_NONE adds nothing.
 */
enum err dest_auth_apply(const struct dest_auth *a, const char *url, const void *body,
                         size_t body_len, const char *access_token, struct dest_auth_result *out,
                         struct err_detail *d);

/* Wipe and free what dest_auth_apply made; out is left empty. */
void dest_auth_result_clear(struct dest_auth_result *out);

/* True when name may not be chosen as an auth header (see above); prefix as
 * in struct dest_auth_rules. Exposed for the endpoint's custom-header check
 * and tests. */
bool dest_auth_header_is_reserved(const char *name, const char *header_prefix);

#endif

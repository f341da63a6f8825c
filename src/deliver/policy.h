/*
 * policy - an endpoint's delivery policy as a delivery thread uses it: the
 * endpoint's policy document (service/endpoint_policy.h) and sealed secrets
 * compiled once when the endpoint is loaded, so an attempt only reads it.
 *
 * Description: an endpoint without a policy document has no struct
 * delivery_policy at all (the dispatcher keeps NULL), so it pays nothing.
 * What is here: the retry policy, delay before the first attempt, the
 * concurrency cap, the rate over a period, the HTTP method, destination auth,
 * the signature scheme with its prepared private key, the header prefix and
 * the svix-* family. Dedupe is the store's (at send), transformations run
 * elsewhere.
 * Threading: made and used by one delivery thread.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_DELIVER_POLICY_H
#define HOOKD_DELIVER_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/dest_auth.h"
#include "core/retry_policy.h"
#include "core/signature_scheme.h"
#include "util/err.h"

struct delivery_policy {
    bool has_retry;
    struct retry_policy_spec retry;
    int64_t delay_ms;    /* before the first attempt; 0 = none */
    int max_concurrency; /* 0 = the server's endpoint concurrency */
    bool fifo;
    const char *method; /* "PUT" / "PATCH"; NULL = POST */
    int rate;           /* deliveries per period; 0 = no period limit */
    int64_t period_ms;
    struct dest_auth auth; /* type DEST_AUTH_NONE = none */
    /* Headers: the general path (signature_scheme_headers) is used when the
     * scheme is not standard, or a prefix or the svix-* family is asked for. */
    bool custom_headers;
    enum signature_scheme scheme;
    char header_prefix[SIGNATURE_SCHEME_PREFIX_MAX + 1]; /* "" = the server's */
    bool svix_headers;
    bool has_scheme_key; /* ed25519 / bridge-rsa: the endpoint's own key pair */
    struct signature_scheme_key scheme_key;
    char *transformation; /* jq program; NULL = none */
};

/* Compile policy_json (NULL = none: *out stays NULL) with the endpoint's
 * opened secrets (NULL = none) into a new *out. A policy that cannot be read
 * is ERR_INVAL (the endpoint delivers with the defaults then, see worker). */
enum err delivery_policy_load(struct delivery_policy **out, const char *policy_json,
                              const char *auth_secret, const char *scheme_secret,
                              struct err_detail *d);
void delivery_policy_free(struct delivery_policy *p);
/* Does the document need the endpoint's sealed secrets to be read? */
bool delivery_policy_wants_secrets(const char *policy_json);

#endif

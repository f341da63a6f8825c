/*
 * endpoint_policy - an endpoint's delivery policies (POLICIES.md §1-§4, §8):
 * checking what a surface sends, merging it into what the endpoint has, and
 * the fields a read shows.
 *
 * Description: the policy document (the endpoint's policy_json) is a JSON
 * object keyed by the native /v1 names of POLICIES §8 and holds only what is
 * set: retry, delay_ms, deduplicate, rate_limit ({rate, period}),
 * max_concurrency, fifo, http_method, transformation, auth (its public form:
 * type, the non-secret fields and a hint), signature_scheme, public_key,
 * header_prefix, svix_headers, url_locked_while_active. No secret is in it:
 * the full auth config and the private key of an ed25519 or bridge-rsa
 * scheme are sealed apart (store_endpoint_secrets_*). A member sent as null
 * goes back to its default; a replace (PUT) drops every member not sent.
 * Key material for a new ed25519 / bridge-rsa scheme is made when the change
 * is checked (an RSA key pair takes up to a second of CPU: never on the
 * committer), and used only when the scheme really changes.
 * Errors: ERR_INVAL naming the field ("retry.status_codes", "auth.token_url").
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_SERVICE_ENDPOINT_POLICY_H
#define HOOKD_SERVICE_ENDPOINT_POLICY_H

#include <jansson.h>
#include <stdbool.h>

#include "config.h"
#include "store/store.h"

/* Transformations run in deliver/transform.h's helper pool, which service/
 * may not include: main.c hands these in once at startup, before any request
 * (without them a program is only checked for its size, and cannot be run). */
struct endpoint_transform_hooks {
    /* ERR_INVAL / ERR_LIMIT / ERR_TIMEOUT naming "transformation" for a program jq refuses */
    enum err (*check)(void *ctx, const char *program, size_t len, struct err_detail *d);
    /* Run program on a sample: *skip, or *body and *headers_json (new strings). */
    enum err (*run)(void *ctx, const char *program, size_t len, const char *payload,
                    size_t payload_len, const char *headers_json, const char *event_type,
                    const char *endpoint_id, const char *endpoint_url, bool *skip, char **body,
                    char **headers_json_out, struct err_detail *d);
    void *ctx;
};
void endpoint_policy_set_transform(const struct endpoint_transform_hooks *hooks);
/* The hooks handed in (run NULL when none). */
const struct endpoint_transform_hooks *endpoint_policy_transform(void);

/* POST /v1/endpoints/{id}/transformation/test: run program (NULL: the
 * endpoint's own transformation) on a sample payload (JSON text), custom
 * headers (a JSON object text or NULL) and event type, as a delivery to
 * endpoint e would run it; nothing is delivered or stored. ERR_INVAL naming
 * "transformation" when there is no program, or for a run that fails (the
 * message says why); ERR_IO when transformations cannot run here. */
struct endpoint_transform_sample {
    bool skip;
    char *body, *headers_json; /* new strings unless skip */
};
enum err endpoint_policy_transform_test(const struct store_endpoint *e, const char *program,
                                        const char *payload, size_t payload_len,
                                        const char *headers_json, const char *event_type,
                                        struct endpoint_transform_sample *out,
                                        struct err_detail *d);

/* Is name a policy member (a key of the document)? */
bool endpoint_policy_is_member(const char *name);

/* A checked change of the policy members present in a request. */
struct endpoint_policy_change {
    json_t *set;         /* member -> canonical value (auth: as sent, checked in the merge) */
    json_t *unset;       /* names of the members sent as null */
    char *scheme_secret; /* key material made for a new ed25519 / bridge-rsa scheme */
    char *scheme_public;
};

/* Check members (an object of policy members; NULL = none). */
enum err endpoint_policy_check(const json_t *members, const struct config *cfg,
                               struct endpoint_policy_change *out, struct err_detail *d);
void endpoint_policy_change_release(struct endpoint_policy_change *c);

/* The endpoint's policy after the change (on the committer, in the endpoint's
 * transaction): reset drops the members not in the change (PUT). prev_* are
 * what the endpoint has (NULL = none); the outputs are new strings (NULL =
 * none; the secrets for store_endpoint_secrets_set, freed with
 * store_endpoint_secret_free). */
struct endpoint_policy_result {
    char *policy_json, *auth_secret, *scheme_secret;
};
enum err endpoint_policy_merge(const struct endpoint_policy_change *c, bool reset,
                               const char *prev_policy, const char *prev_auth,
                               const char *prev_scheme, const struct config *cfg,
                               struct endpoint_policy_result *out, struct err_detail *d);
void endpoint_policy_result_release(struct endpoint_policy_result *r);

/* Add every field of POLICIES §8 to obj with its value for endpoint e (the
 * default when unset; null where there is none), the lifecycle fields
 * (disabled_reason, disabled_at, circuit_state, circuit_opened_at) included. */
void endpoint_policy_render(const struct store_endpoint *e, json_t *obj);

#endif

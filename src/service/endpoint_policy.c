/* endpoint_policy - see endpoint_policy.h. SPDX-License-Identifier: MIT */
#include "service/endpoint_policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/breaker.h"
#include "core/dedupe.h"
#include "core/dest_auth.h"
#include "core/retry_policy.h"
#include "core/signature_scheme.h"
#include "core/validate.h"
#include "util/clock.h"

#define DELAY_MAX_MS 86400000         /* 24 h */
#define RATE_MAX 1000000              /* deliveries per period */
#define CONCURRENCY_MAX 1000          /* attempts in flight */
#define TRANSFORMATION_MAX (16 << 10) /* bytes of jq program */

static const char *const members[] = {
    "retry",
    "delay_ms",
    "deduplicate",
    "rate_limit",
    "max_concurrency",
    "fifo",
    "http_method",
    "transformation",
    "auth",
    "signature_scheme",
    "header_prefix",
    "svix_headers",
    "url_locked_while_active",
};
#define NMEMBERS (sizeof(members) / sizeof(members[0]))

static struct endpoint_transform_hooks transform_hooks;

void endpoint_policy_set_transform(const struct endpoint_transform_hooks *hooks)
{
    transform_hooks = *hooks;
}

const struct endpoint_transform_hooks *endpoint_policy_transform(void)
{
    return &transform_hooks;
}

bool endpoint_policy_is_member(const char *name)
{
    for (size_t i = 0; i < NMEMBERS; i++)
        if (!strcmp(name, members[i]))
            return true;
    return false;
}

static enum err bad(struct err_detail *d, const char *field, const char *what)
{
    return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", field, "'%s' must be %s", field, what);
}

static enum err int_in(const json_t *v, const char *field, json_int_t lo, json_int_t hi,
                       struct err_detail *d)
{
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        char what[96];
        snprintf(what, sizeof(what), "an integer from %lld to %lld", (long long)lo, (long long)hi);
        return bad(d, field, what);
    }
    return ERR_OK;
}

static enum err check_rate_limit(const json_t *v, struct err_detail *d)
{
    if (!json_is_object(v))
        return bad(d, "rate_limit", "an object {rate, period}");
    static const char *const known[] = {"rate", "period"};
    enum err e =
        validate_known_members(v, "rate_limit", known, 2, "rate and period", "INVALID_REQUEST", d);
    if (e != ERR_OK)
        return e;
    e = int_in(json_object_get(v, "rate"), "rate_limit.rate", 1, RATE_MAX, d);
    if (e != ERR_OK)
        return e;
    const char *p = json_string_value(json_object_get(v, "period"));
    if (!p || (strcmp(p, "second") && strcmp(p, "minute") && strcmp(p, "hour")))
        return bad(d, "rate_limit.period", "\"second\", \"minute\" or \"hour\"");
    return ERR_OK;
}

/* The canonical value of one member, or NULL after setting d. */
static json_t *check_member(const char *name, const json_t *v, struct endpoint_policy_change *c,
                            struct err_detail *d)
{
    if (!strcmp(name, "retry")) {
        struct retry_policy_spec spec;
        retry_policy_init(&spec);
        return retry_policy_parse(v, &spec, d) == ERR_OK ? retry_policy_to_json(&spec) : NULL;
    }
    if (!strcmp(name, "deduplicate")) {
        struct dedupe_policy p;
        dedupe_policy_init(&p);
        json_t *out = dedupe_policy_parse(v, &p, d) == ERR_OK ? dedupe_policy_to_json(&p) : NULL;
        dedupe_policy_release(&p);
        return out;
    }
    if (!strcmp(name, "delay_ms"))
        return int_in(v, name, 0, DELAY_MAX_MS, d) == ERR_OK ? json_deep_copy(v) : NULL;
    if (!strcmp(name, "max_concurrency"))
        return int_in(v, name, 1, CONCURRENCY_MAX, d) == ERR_OK ? json_deep_copy(v) : NULL;
    if (!strcmp(name, "rate_limit"))
        return check_rate_limit(v, d) == ERR_OK ? json_deep_copy(v) : NULL;
    if (!strcmp(name, "fifo") || !strcmp(name, "svix_headers") ||
        !strcmp(name, "url_locked_while_active")) {
        if (!json_is_boolean(v)) {
            bad(d, name, "a boolean");
            return NULL;
        }
        return json_deep_copy(v);
    }
    if (!strcmp(name, "http_method")) {
        const char *m = json_string_value(v);
        if (!m || (strcmp(m, "POST") && strcmp(m, "PUT") && strcmp(m, "PATCH"))) {
            bad(d, name, "\"POST\", \"PUT\" or \"PATCH\"");
            return NULL;
        }
        return json_deep_copy(v);
    }
    if (!strcmp(name, "transformation")) {
        if (!json_is_string(v) || json_string_length(v) == 0 ||
            json_string_length(v) > TRANSFORMATION_MAX) {
            bad(d, name, "a jq program of 1 to 16384 bytes, or null");
            return NULL;
        }
        if (transform_hooks.check &&
            transform_hooks.check(transform_hooks.ctx, json_string_value(v), json_string_length(v),
                                  d) != ERR_OK) {
            if (!d->field[0])
                snprintf(d->field, sizeof(d->field), "transformation");
            d->code[0] = '\0'; /* a 400 INVALID_REQUEST like every other field */
            snprintf(d->code, sizeof(d->code), "INVALID_REQUEST");
            return NULL;
        }
        return json_deep_copy(v);
    }
    if (!strcmp(name, "auth")) { /* checked against the stored config in the merge */
        if (!json_is_object(v)) {
            bad(d, name, "an object {type, ...}");
            return NULL;
        }
        return json_deep_copy(v);
    }
    if (!strcmp(name, "signature_scheme")) {
        enum signature_scheme sc;
        if (!json_is_string(v)) {
            bad(d, name, "\"standard\", \"ed25519\", \"bridge-rsa\" or \"none\"");
            return NULL;
        }
        if (signature_scheme_parse(&sc, json_string_value(v), name, d) != ERR_OK)
            return NULL;
        if (sc == SIGNATURE_SCHEME_ED25519 || sc == SIGNATURE_SCHEME_BRIDGE_RSA) {
            char *sec = calloc(1, SIGNATURE_SCHEME_SECRET_MAX),
                 *pub = calloc(1, SIGNATURE_SCHEME_PUBLIC_MAX);
            if (!sec || !pub)
                abort();
            if (signature_scheme_generate(sc, sec, SIGNATURE_SCHEME_SECRET_MAX, pub,
                                          SIGNATURE_SCHEME_PUBLIC_MAX) != ERR_OK) {
                free(sec);
                free(pub);
                err_set(d, ERR_IO, "INTERNAL_ERROR", "cannot make the signing key pair");
                return NULL;
            }
            c->scheme_secret = sec;
            c->scheme_public = pub;
        }
        return json_deep_copy(v);
    }
    if (!strcmp(name, "header_prefix")) {
        if (!json_is_string(v)) {
            bad(d, name, "a string such as \"X-Acme-\"");
            return NULL;
        }
        return signature_scheme_check_prefix(json_string_value(v), name, d) == ERR_OK
                   ? json_deep_copy(v)
                   : NULL;
    }
    err_set(d, ERR_INVAL, "INVALID_REQUEST", "unknown policy '%s'", name);
    return NULL;
}

enum err endpoint_policy_check(const json_t *in, const struct config *cfg,
                               struct endpoint_policy_change *out, struct err_detail *d)
{
    (void)cfg;
    memset(out, 0, sizeof(*out));
    out->set = json_object();
    out->unset = json_array();
    if (!in)
        return ERR_OK;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)in, key, v)
    {
        if (json_is_null(v)) {
            json_array_append_new(out->unset, json_string(key));
            continue;
        }
        json_t *canon = check_member(key, v, out, d);
        if (!canon) {
            endpoint_policy_change_release(out);
            return strcmp(d->code, "INTERNAL_ERROR") ? ERR_INVAL : ERR_IO;
        }
        json_object_set_new(out->set, key, canon);
    }
    return ERR_OK;
}

void endpoint_policy_change_release(struct endpoint_policy_change *c)
{
    json_decref(c->set);
    json_decref(c->unset);
    if (c->scheme_secret) {
        explicit_bzero(c->scheme_secret, strlen(c->scheme_secret));
        free(c->scheme_secret);
    }
    free(c->scheme_public);
    memset(c, 0, sizeof(*c));
}

/* The auth member sent, merged onto the stored config: its public form into
 * policy, its full form into out->auth_secret. */
static enum err merge_auth(const json_t *sent, const char *prev_auth, const struct config *cfg,
                           json_t *policy, struct endpoint_policy_result *out, struct err_detail *d)
{
    struct dest_auth prev = {0}, next = {0};
    bool have_prev = false;
    if (prev_auth && prev_auth[0]) {
        if (dest_auth_from_json(&prev, prev_auth, strlen(prev_auth), d) != ERR_OK)
            return ERR_IO;
        have_prev = true;
    }
    struct dest_auth_rules rules = {.allow_http = cfg->allow_http,
                                    .header_prefix = cfg->header_prefix};
    enum err e = dest_auth_parse(&next, sent, have_prev ? &prev : NULL, &rules, d);
    if (have_prev)
        dest_auth_release(&prev);
    if (e != ERR_OK)
        return e;
    json_object_set_new(policy, "auth", dest_auth_public_json(&next));
    char *full = dest_auth_to_json(&next);
    dest_auth_release(&next);
    if (!full)
        return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", "auth", "'auth' is too large");
    out->auth_secret = strdup(full);
    dest_auth_json_free(full);
    if (!out->auth_secret)
        abort();
    return ERR_OK;
}

enum err endpoint_policy_merge(const struct endpoint_policy_change *c, bool reset,
                               const char *prev_policy, const char *prev_auth,
                               const char *prev_scheme, const struct config *cfg,
                               struct endpoint_policy_result *out, struct err_detail *d)
{
    memset(out, 0, sizeof(*out));
    json_t *prev = prev_policy ? json_loads(prev_policy, 0, NULL) : NULL;
    if (!json_is_object(prev)) {
        json_decref(prev);
        prev = json_object();
    }
    json_t *policy = reset ? json_object() : json_deep_copy(prev);
    size_t i;
    json_t *v;
    json_array_foreach(c->unset, i, v) json_object_del(policy, json_string_value(v));
    const char *key;
    json_object_foreach(c->set, key, v)
    {
        if (strcmp(key, "auth"))
            json_object_set(policy, key, v);
    }
    enum err e = ERR_OK;
    /* auth: the merged config, or the stored one when it stays */
    json_t *sent_auth = json_object_get(c->set, "auth");
    if (sent_auth) {
        e = merge_auth(sent_auth, prev_auth, cfg, policy, out, d);
    } else if (json_object_get(policy, "auth") && prev_auth) {
        out->auth_secret = strdup(prev_auth);
        if (!out->auth_secret)
            abort();
    }
    /* the scheme's key pair: kept while the scheme stays, new when it changes */
    const char *was = json_string_value(json_object_get(prev, "signature_scheme"));
    const char *now = json_string_value(json_object_get(policy, "signature_scheme"));
    bool keyed = now && (!strcmp(now, "ed25519") || !strcmp(now, "bridge-rsa"));
    if (e == ERR_OK && keyed) {
        if (was && !strcmp(was, now) && prev_scheme && prev_scheme[0]) {
            out->scheme_secret = strdup(prev_scheme);
            json_object_set(policy, "public_key", json_object_get(prev, "public_key"));
        } else if (c->scheme_secret) {
            out->scheme_secret = strdup(c->scheme_secret);
            json_object_set_new(policy, "public_key", json_string(c->scheme_public));
        } else {
            e = err_set(d, ERR_IO, "INTERNAL_ERROR", "no key pair for the signature scheme");
        }
        if (e == ERR_OK && !out->scheme_secret)
            abort();
    } else {
        json_object_del(policy, "public_key");
    }
    if (e == ERR_OK && json_object_size(policy)) {
        out->policy_json = json_dumps(policy, JSON_COMPACT | JSON_SORT_KEYS);
        if (!out->policy_json)
            abort();
    }
    json_decref(policy);
    json_decref(prev);
    if (e != ERR_OK)
        endpoint_policy_result_release(out);
    return e;
}

void endpoint_policy_result_release(struct endpoint_policy_result *r)
{
    free(r->policy_json);
    store_endpoint_secret_free(r->auth_secret);
    store_endpoint_secret_free(r->scheme_secret);
    memset(r, 0, sizeof(*r));
}

void endpoint_policy_render(const struct store_endpoint *e, json_t *obj)
{
    json_t *p = e->policy_json ? json_loads(e->policy_json, 0, NULL) : NULL;
    struct {
        const char *name;
        json_t *dflt;
    } fields[] = {
        {"retry", json_null()},
        {"delay_ms", json_integer(0)},
        {"deduplicate", json_null()},
        {"rate_limit", json_null()},
        {"max_concurrency", json_null()},
        {"fifo", json_false()},
        {"http_method", json_string("POST")},
        {"transformation", json_null()},
        {"auth", json_null()},
        {"signature_scheme", json_string(e->hmac_enabled ? "standard" : "none")},
        {"public_key", json_null()},
        {"header_prefix", json_null()},
        {"svix_headers", json_false()},
        {"url_locked_while_active", json_false()},
    };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        json_t *v = json_object_get(p, fields[i].name);
        if (v) {
            json_object_set(obj, fields[i].name, v);
            json_decref(fields[i].dflt);
        } else {
            json_object_set_new(obj, fields[i].name, fields[i].dflt);
        }
    }
    json_decref(p);
    json_object_set_new(obj, "disabled", json_boolean(e->disabled));
    json_object_set_new(obj, "disabled_reason",
                        e->disabled && e->disabled_reason[0] ? json_string(e->disabled_reason)
                                                             : json_null());
    char at[32];
    if (e->disabled && e->disabled_at_ms) {
        clock_format_rfc3339(at, sizeof(at), e->disabled_at_ms);
        json_object_set_new(obj, "disabled_at", json_string(at));
    } else {
        json_object_set_new(obj, "disabled_at", json_null());
    }
    json_object_set_new(obj, "circuit_state",
                        json_string(breaker_state_name((enum breaker_state)e->circuit_state)));
    if (e->circuit_opened_at_ms) {
        clock_format_rfc3339(at, sizeof(at), e->circuit_opened_at_ms);
        json_object_set_new(obj, "circuit_opened_at", json_string(at));
    } else {
        json_object_set_new(obj, "circuit_opened_at", json_null());
    }
}

enum err endpoint_policy_transform_test(const struct store_endpoint *e, const char *program,
                                        const char *payload, size_t payload_len,
                                        const char *headers_json, const char *event_type,
                                        struct endpoint_transform_sample *out, struct err_detail *d)
{
    memset(out, 0, sizeof(*out));
    json_t *p = !program && e->policy_json ? json_loads(e->policy_json, 0, NULL) : NULL;
    const char *prog = program ? program : json_string_value(json_object_get(p, "transformation"));
    enum err r;
    if (!prog)
        r = err_set_field(d, ERR_INVAL, "INVALID_REQUEST", "transformation",
                          "the endpoint has no transformation and the request gives none");
    else if (!transform_hooks.run)
        r = err_set(d, ERR_IO, "INTERNAL_ERROR", "transformations cannot run in this process");
    else
        r = transform_hooks.run(transform_hooks.ctx, prog, strlen(prog), payload, payload_len,
                                headers_json, event_type, e->id, e->url, &out->skip, &out->body,
                                &out->headers_json, d);
    json_decref(p);
    if (r != ERR_OK && r != ERR_IO) { /* the program's failure: the caller's 400 */
        snprintf(d->field, sizeof(d->field), "transformation");
        r = ERR_INVAL;
    }
    return r;
}

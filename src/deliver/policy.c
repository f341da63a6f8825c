/* policy - see policy.h. SPDX-License-Identifier: MIT */
#include "deliver/policy.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

bool delivery_policy_wants_secrets(const char *policy_json)
{
    return policy_json && (strstr(policy_json, "\"auth\"") || strstr(policy_json, "ed25519") ||
                           strstr(policy_json, "bridge-rsa"));
}

static int64_t period_of(const char *p)
{
    return !p ? 0 : !strcmp(p, "second") ? 1000 : !strcmp(p, "minute") ? 60000 : 3600000;
}

enum err delivery_policy_load(struct delivery_policy **out, const char *policy_json,
                              const char *auth_secret, const char *scheme_secret,
                              struct err_detail *d)
{
    *out = NULL;
    if (!policy_json)
        return ERR_OK;
    json_t *doc = json_loads(policy_json, 0, NULL);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return err_set(d, ERR_INVAL, "INTERNAL_ERROR", "the endpoint's policy is not an object");
    }
    struct delivery_policy *p = calloc(1, sizeof(*p));
    if (!p)
        abort();
    enum err e = ERR_OK;
    json_t *v;
    retry_policy_init(&p->retry);
    if ((v = json_object_get(doc, "retry")) && (e = retry_policy_parse(v, &p->retry, d)) == ERR_OK)
        p->has_retry = true;
    p->delay_ms = json_integer_value(json_object_get(doc, "delay_ms"));
    p->max_concurrency = (int)json_integer_value(json_object_get(doc, "max_concurrency"));
    p->fifo = json_is_true(json_object_get(doc, "fifo"));
    const char *m = json_string_value(json_object_get(doc, "http_method"));
    p->method = m && !strcmp(m, "PUT") ? "PUT" : m && !strcmp(m, "PATCH") ? "PATCH" : NULL;
    if ((v = json_object_get(doc, "rate_limit"))) {
        p->rate = (int)json_integer_value(json_object_get(v, "rate"));
        p->period_ms = period_of(json_string_value(json_object_get(v, "period")));
    }
    if ((v = json_object_get(doc, "transformation")) && json_is_string(v)) {
        p->transformation = strdup(json_string_value(v));
        if (!p->transformation)
            abort();
    }
    if (e == ERR_OK && json_object_get(doc, "auth") && auth_secret)
        e = dest_auth_from_json(&p->auth, auth_secret, strlen(auth_secret), d);
    const char *sc = json_string_value(json_object_get(doc, "signature_scheme"));
    if (e == ERR_OK && sc)
        e = signature_scheme_parse(&p->scheme, sc, "signature_scheme", d);
    const char *prefix = json_string_value(json_object_get(doc, "header_prefix"));
    if (prefix)
        snprintf(p->header_prefix, sizeof(p->header_prefix), "%s", prefix);
    p->svix_headers = json_is_true(json_object_get(doc, "svix_headers"));
    if (e == ERR_OK &&
        (p->scheme == SIGNATURE_SCHEME_ED25519 || p->scheme == SIGNATURE_SCHEME_BRIDGE_RSA)) {
        if (!scheme_secret)
            e = err_set(d, ERR_INVAL, "INTERNAL_ERROR", "the endpoint has no %s key", sc);
        else if (signature_scheme_key_init(&p->scheme_key, p->scheme, scheme_secret) != ERR_OK)
            e = err_set(d, ERR_INVAL, "INTERNAL_ERROR", "the endpoint's %s key is malformed", sc);
        else
            p->has_scheme_key = true;
    }
    p->custom_headers = (sc && p->scheme != SIGNATURE_SCHEME_STANDARD) || prefix || p->svix_headers;
    json_decref(doc);
    if (e != ERR_OK) {
        delivery_policy_free(p);
        return e;
    }
    *out = p;
    return ERR_OK;
}

void delivery_policy_free(struct delivery_policy *p)
{
    if (!p)
        return;
    dest_auth_release(&p->auth);
    if (p->has_scheme_key)
        signature_scheme_key_release(&p->scheme_key);
    free(p->transformation);
    free(p);
}

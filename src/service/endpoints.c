/* endpoints - see endpoints.h. SPDX-License-Identifier: MIT */
#include "service/endpoints.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/addr_policy.h"
#include "core/event_match.h"
#include "core/filter.h"
#include "core/names.h"
#include "core/validate.h"
#include "service/ops_events.h"
#include "service/signing_keys.h"
#include "util/clock.h"

#define DESCRIPTION_MAX 1024
#define RATE_MAX 100000
#define EVENT_TYPES_MAX 100
#define CHANNELS_MAX 10
#define CHANNEL_LEN_MAX 128

/* IP literals outside public space and localhost names (what the dispatcher
 * would refuse at connect time anyway). */
static enum err check_blocked(const char *url, struct err_detail *d)
{
    CURLU *u = curl_url();
    char *host = NULL;
    enum err e = ERR_OK;
    if (!u)
        abort();
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
        goto out; /* validate_endpoint_url already accepted it; nothing more to say */
    size_t hl = strlen(host);
    char lit[64];
    struct sockaddr_in in4 = {.sin_family = AF_INET};
    struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
    bool blocked = false;
    if (!strcasecmp(host, "localhost") || (hl > 10 && !strcasecmp(host + hl - 10, ".localhost"))) {
        blocked = true;
    } else if (inet_pton(AF_INET, host, &in4.sin_addr) == 1) {
        blocked = !addr_policy_is_public((struct sockaddr *)&in4);
    } else if (host[0] == '[' && hl < sizeof(lit) + 1) {
        memcpy(lit, host + 1, hl - 2);
        lit[hl - 2] = '\0';
        char *zone = strchr(lit, '%');
        if (zone)
            *zone = '\0';
        if (inet_pton(AF_INET6, lit, &in6.sin6_addr) == 1)
            blocked = !addr_policy_is_public((struct sockaddr *)&in6);
    }
    if (blocked)
        e = err_set_field(d, ERR_INVAL, "ENDPOINT_BLOCKED", "url",
                          "endpoint URL targets a private or internal address '%s'", host);
out:
    curl_free(host);
    curl_url_cleanup(u);
    return e;
}

enum err service_endpoint_check_url(const char *url, const struct config *cfg, struct err_detail *d)
{
    enum err e = validate_endpoint_url(url, cfg->allow_http, d);
    if (e != ERR_OK) {
        if (d)
            snprintf(d->field, sizeof(d->field), "url");
        return e;
    }
    return cfg->allow_private_networks ? ERR_OK : check_blocked(url, d);
}

static char *dup_or_null(const char *s)
{
    if (!s)
        return NULL;
    char *r = strdup(s);
    if (!r)
        abort();
    return r;
}

static enum err bad(struct err_detail *d, const char *field, const char *what)
{
    return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", field, "'%s' must be %s", field, what);
}

static bool is_set(const json_t *v)
{
    return v && !json_is_null(v);
}

bool service_endpoint_secret_ok(const char *s)
{
    if (strncmp(s, "whsec_", 6) != 0)
        return false;
    const char *b = s + 6;
    size_t n = strlen(b);
    if (n == 0 || n % 4 != 0 || n > 88)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=", b[i]) ||
            (b[i] == '=' && i < n - 2))
            return false;
    unsigned char out[72];
    int len = EVP_DecodeBlock(out, (const unsigned char *)b, (int)n);
    len -= (b[n - 1] == '=') + (b[n - 2] == '=');
    return len >= 24 && len <= 64 && strlen(s) < ID_MAX;
}

static enum err check_fields(struct service_endpoint_op *x, const struct endpoint_fields *f,
                             const struct config *cfg, struct err_detail *d)
{
    enum err e;
    bool need_url = x->kind == ENDPOINT_CREATE || x->kind == ENDPOINT_REPLACE;
    if (need_url && !is_set(f->url))
        return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", "url", "'url' is required");
    if (f->url) {
        if (!json_is_string(f->url))
            return err_set_field(d, ERR_INVAL, "INVALID_ENDPOINT", "url", "'url' must be a string");
        if ((e = service_endpoint_check_url(json_string_value(f->url), cfg, d)) != ERR_OK)
            return e;
    }
    if (is_set(f->description) &&
        (!json_is_string(f->description) || json_string_length(f->description) > DESCRIPTION_MAX))
        return bad(d, "description", "a string of at most 1024 bytes");
    if (is_set(f->uid) && (!json_is_string(f->uid) ||
                           (e = names_check_uid(json_string_value(f->uid), "uid", d)) != ERR_OK))
        return json_is_string(f->uid) ? e : bad(d, "uid", "a string");
    if (is_set(f->disabled) && !json_is_boolean(f->disabled))
        return bad(d, "disabled", "a boolean");
    if (is_set(f->event_types)) {
        if (!json_is_array(f->event_types) || json_array_size(f->event_types) > EVENT_TYPES_MAX)
            return bad(d, "event_types", "an array of at most 100 event type names");
        size_t i;
        json_t *v;
        json_array_foreach(f->event_types, i, v)
        {
            if (!json_is_string(v) || !event_type_pattern_is_valid(json_string_value(v)))
                return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", "event_types",
                                     "'event_types' item %zu is not an event type name or a "
                                     "pattern such as 'order.*'",
                                     i);
        }
    }
    if (is_set(f->channels)) {
        if (!json_is_array(f->channels) || json_array_size(f->channels) > CHANNELS_MAX)
            return bad(d, "channels", "an array of at most 10 strings");
        size_t i;
        json_t *v;
        json_array_foreach(f->channels, i, v)
        {
            if (!json_is_string(v) || json_string_length(v) < 1 ||
                json_string_length(v) > CHANNEL_LEN_MAX)
                return bad(d, "channels", "an array of at most 10 strings of 1 to 128 bytes");
        }
    }
    if (is_set(f->filter) && (e = filter_validate(f->filter, d)) != ERR_OK) {
        snprintf(d->field, sizeof(d->field), "filter");
        return e;
    }
    if (is_set(f->rate_limit_rps) &&
        (!json_is_integer(f->rate_limit_rps) || json_integer_value(f->rate_limit_rps) < 1 ||
         json_integer_value(f->rate_limit_rps) > RATE_MAX))
        return bad(d, "rate_limit_rps", "an integer from 1 to 100000, or null");
    if (is_set(f->burst) && (!json_is_integer(f->burst) || json_integer_value(f->burst) < 1 ||
                             json_integer_value(f->burst) > RATE_MAX))
        return bad(d, "burst", "an integer from 1 to 100000, or null");
    if (is_set(f->hmac_enabled) && !json_is_boolean(f->hmac_enabled))
        return bad(d, "hmac_enabled", "a boolean");
    if (is_set(f->metadata) && (e = names_check_metadata(f->metadata, "metadata", d)) != ERR_OK)
        return e;
    if (is_set(f->headers)) {
        if ((e = validate_headers(f->headers, d)) != ERR_OK) {
            snprintf(d->field, sizeof(d->field), "headers");
            return e;
        }
    }
    if (is_set(f->secret)) {
        if (x->kind != ENDPOINT_CREATE)
            return bad(d, "secret", "set when the endpoint is created (rotate it to change it)");
        if (!json_is_string(f->secret) || !service_endpoint_secret_ok(json_string_value(f->secret)))
            return bad(d, "secret", "'whsec_' followed by the base64 of 24 to 64 bytes");
        snprintf(x->secret, sizeof(x->secret), "%s", json_string_value(f->secret));
    }
    if ((e = endpoint_policy_check(f->policy, cfg, &x->policy, d)) != ERR_OK)
        return e;
    x->fields = json_object();
    const struct {
        const char *name;
        const json_t *v;
    } all[] = {{"url", f->url},
               {"description", f->description},
               {"uid", f->uid},
               {"disabled", f->disabled},
               {"event_types", f->event_types},
               {"channels", f->channels},
               {"filter", f->filter},
               {"rate_limit_rps", f->rate_limit_rps},
               {"burst", f->burst},
               {"hmac_enabled", f->hmac_enabled},
               {"metadata", f->metadata},
               {"headers", f->headers}};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        if (all[i].v)
            json_object_set_new(x->fields, all[i].name, json_deep_copy(all[i].v));
    if (f->empty_event_types_is_none)
        json_object_set_new(x->fields, "event_types_none", json_true());
    return ERR_OK;
}

/* Text of a JSON field for a column: NULL for absent, null, and what means "none". */
static char *column_json(const json_t *v, bool empty_is_none)
{
    if (!is_set(v))
        return NULL;
    if (empty_is_none &&
        ((json_is_array(v) && !json_array_size(v)) || (json_is_object(v) && !json_object_size(v))))
        return NULL;
    char *t = json_dumps(v, JSON_COMPACT);
    if (!t)
        abort();
    return t;
}

/* Apply the op's fields to e; reset: absent fields go back to their defaults (PUT). */
static void merge(struct store_endpoint *e, const json_t *fields, bool reset, int64_t now)
{
    bool was_disabled = e->disabled;
    json_t *v;
#define FIELD(name) ((v = json_object_get(fields, name)) || reset)
    if ((v = json_object_get(fields, "url"))) {
        free(e->url);
        e->url = dup_or_null(json_string_value(v));
    }
    if (FIELD("description")) {
        free(e->description);
        e->description = dup_or_null(json_string_value(v));
    }
    if ((v = json_object_get(fields, "uid"))) { /* kept on PUT: it is an address */
        free(e->uid);
        e->uid = dup_or_null(json_string_value(v));
    }
    if (FIELD("disabled"))
        e->disabled = json_is_true(v);
    if (e->disabled && !was_disabled) { /* by a person: POLICIES §5 "manual" */
        snprintf(e->disabled_reason, sizeof(e->disabled_reason), "manual");
        e->disabled_at_ms = now;
    } else if (!e->disabled) {
        e->disabled_reason[0] = '\0';
        e->disabled_at_ms = 0;
    }
    if (FIELD("event_types")) {
        free(e->event_types_json);
        e->event_types_json = column_json(v, true);
        e->all_event_types = e->event_types_json == NULL;
        if (!e->event_types_json && json_is_array(v) &&
            json_is_true(json_object_get(fields, "event_types_none"))) {
            e->event_types_json = dup_or_null("[]"); /* subscribed to nothing */
            e->all_event_types = false;
        }
    }
    if (FIELD("channels")) {
        free(e->channels_json);
        e->channels_json = column_json(v, true);
    }
    if (FIELD("filter")) {
        free(e->filter_json);
        e->filter_json = column_json(v, true);
    }
    if (FIELD("rate_limit_rps"))
        e->rate_limit_rps = is_set(v) ? (int)json_integer_value(v) : 0;
    if (FIELD("burst"))
        e->burst = is_set(v) ? (int)json_integer_value(v) : 0;
    if (FIELD("hmac_enabled"))
        e->hmac_enabled = is_set(v) ? json_is_true(v) : true;
    if (FIELD("metadata")) {
        free(e->metadata_json);
        e->metadata_json = column_json(v, true);
    }
    if (FIELD("headers")) {
        free(e->headers_json);
        e->headers_json = column_json(v, true);
    }
#undef FIELD
}

/* The op's policy change merged onto ep's (prev_auth/prev_scheme: its stored
 * secrets, NULL for a new endpoint) into ep->policy_json and *res; also keeps
 * hmac_enabled and signature_scheme saying the same thing (none = unsigned). */
static enum err merge_policy(struct service_endpoint_op *x, struct store_endpoint *ep,
                             const char *prev_auth, const char *prev_scheme,
                             struct endpoint_policy_result *res, struct err_detail *d)
{
    struct endpoint_policy_change *c = &x->policy;
    json_t *scheme = json_object_get(c->set, "signature_scheme");
    if (!scheme &&
        json_object_get(x->fields, "hmac_enabled")) /* hmac_enabled picks standard/none */
        json_array_append_new(c->unset, json_string("signature_scheme"));
    enum err e =
        endpoint_policy_merge(c, false, ep->policy_json, prev_auth, prev_scheme, x->cfg, res, d);
    if (e != ERR_OK)
        return e;
    if (scheme)
        ep->hmac_enabled = strcmp(json_string_value(scheme), "none") != 0;
    free(ep->policy_json);
    ep->policy_json = res->policy_json;
    res->policy_json = NULL;
    return ERR_OK;
}

/* A new endpoint of app_id from the op's fields (uid: the fields', else uid). */
static enum err create_endpoint(struct store *s, struct service_endpoint_op *x, const char *app_id,
                                const char *uid, struct err_detail *d)
{
    struct store_endpoint *ep = &x->ep;
    store_endpoint_release(ep);
    memset(ep, 0, sizeof(*ep));
    int64_t now = clock_now_ms();
    id_prefixed_hex(ep->id, sizeof(ep->id), "ep_", 32);
    snprintf(ep->mode, sizeof(ep->mode), "%s", x->mode);
    snprintf(ep->application_id, sizeof(ep->application_id), "%s", app_id);
    ep->hmac_enabled = true;
    ep->all_event_types = true;
    merge(ep, x->fields, true, now);
    struct endpoint_policy_result pol;
    enum err e = merge_policy(x, ep, NULL, NULL, &pol, d);
    if (e != ERR_OK)
        return e;
    if (!ep->uid && uid)
        ep->uid = dup_or_null(uid);
    ep->created_at_ms = ep->updated_at_ms = now;
    struct store_signing_key k = {0};
    service_signing_key_make(&k, x->secret[0] ? x->secret : NULL);
    snprintf(x->secret, sizeof(x->secret), "%s", k.secret);
    snprintf(x->key_id, sizeof(x->key_id), "%s", k.id);
    k.created_at_ms = now;
    e = store_endpoint_insert(s, ep, &k, d);
    explicit_bzero(k.secret, sizeof(k.secret));
    if (e == ERR_OK && (pol.auth_secret || pol.scheme_secret))
        e = store_endpoint_secrets_set(s, ep->id, pol.auth_secret, pol.scheme_secret, d);
    endpoint_policy_result_release(&pol);
    x->created = e == ERR_OK;
    return e != ERR_OK ? e : ops_events_endpoint(s, x->cfg, "endpoint.created", ep, d);
}

/* POLICIES §5 url_locked_while_active: the URL changes only while disabled. */
static enum err check_url_lock(const struct store_endpoint *before, const json_t *fields,
                               struct err_detail *d)
{
    const char *url = json_string_value(json_object_get(fields, "url"));
    if (!url || !strcmp(url, before->url) || before->disabled || !before->policy_json)
        return ERR_OK;
    json_t *p = json_loads(before->policy_json, 0, NULL);
    bool locked = json_is_true(json_object_get(p, "url_locked_while_active"));
    json_decref(p);
    return locked ? err_set_field(d, ERR_CONFLICT, "URL_LOCKED", "url",
                                  "the endpoint's URL changes only while it is disabled "
                                  "(url_locked_while_active)")
                  : ERR_OK;
}

static enum err change(struct store *s, struct service_endpoint_op *x, int64_t now,
                       struct err_detail *d);

/* Update or delete x->ep, the endpoint the op found. */
static enum err edit(struct store *s, struct service_endpoint_op *x, struct err_detail *d)
{
    int64_t now = clock_now_ms();
    if (x->kind == ENDPOINT_DELETE) {
        enum err e = store_endpoint_delete(s, x->mode, x->ep.id, now, d);
        return e != ERR_OK ? e : ops_events_endpoint(s, x->cfg, "endpoint.deleted", &x->ep, d);
    }
    bool was_disabled = x->ep.disabled;
    enum err e = change(s, x, now, d);
    if (e == ERR_OK) /* POLICIES §6, in this transaction */
        e = ops_events_endpoint(s, x->cfg, "endpoint.updated", &x->ep, d);
    if (e == ERR_OK && x->ep.disabled && !was_disabled)
        e = ops_events_endpoint_disabled(s, x->cfg, x->mode, x->ep.id, "manual", now, d);
    return e;
}

/* Update x->ep, the endpoint the op found, with the op's fields. */
static enum err change(struct store *s, struct service_endpoint_op *x, int64_t now,
                       struct err_detail *d)
{
    enum err e = check_url_lock(&x->ep, x->fields, d);
    if (e != ERR_OK)
        return e;
    bool reset = x->kind == ENDPOINT_REPLACE;
    char *old_url = strdup(x->ep.url);
    if (!old_url)
        abort();
    merge(&x->ep, x->fields, reset, now);
    if (strcmp(old_url, x->ep.url) != 0) /* a verify checked the old URL only */
        x->ep.verified_at_ms = 0;
    free(old_url);
    x->ep.updated_at_ms = now;
    bool policy_sent = json_object_size(x->policy.set) || json_array_size(x->policy.unset) ||
                       json_object_get(x->fields, "hmac_enabled");
    if (!policy_sent) /* a PUT keeps the policy: no surface but /v1 shows all of it */
        return store_endpoint_update(s, &x->ep, d);
    char *auth = NULL, *scheme = NULL;
    if ((e = store_endpoint_secrets_get(s, x->ep.id, &auth, &scheme, d)) != ERR_OK)
        return e;
    struct endpoint_policy_result pol;
    e = merge_policy(x, &x->ep, auth, scheme, &pol, d);
    store_endpoint_secret_free(auth);
    store_endpoint_secret_free(scheme);
    if (e == ERR_OK)
        e = store_endpoint_update(s, &x->ep, d);
    if (e == ERR_OK)
        e = store_endpoint_secrets_set(s, x->ep.id, pol.auth_secret, pol.scheme_secret, d);
    endpoint_policy_result_release(&pol);
    return e;
}

/* The operational application of x's mode, made now (ops_events.h): uid "ops"
 * unless a user's application has it already. */
static enum err make_ops_app(struct store *s, struct service_endpoint_op *x,
                             struct store_application *out, struct err_detail *d)
{
    struct store_application *a = out;
    memset(a, 0, sizeof(*a));
    ops_events_app_id(a->id, sizeof(a->id), x->mode);
    snprintf(a->mode, sizeof(a->mode), "%s", x->mode);
    a->name = dup_or_null("operational webhooks");
    a->uid = dup_or_null(OPS_EVENTS_APP_UID);
    a->throttle_rate = -1;
    a->created_at_ms = a->updated_at_ms = clock_now_ms();
    enum err e = store_application_insert(s, a, d);
    if (e == ERR_CONFLICT) {
        free(a->uid);
        a->uid = NULL;
        e = store_application_insert(s, a, d);
    }
    return e;
}

/* reuse_same_url: the live endpoint of app_id whose URL is the op's into
 * x->ep, or ERR_NOTFOUND. */
static enum err find_same_url(struct store *s, struct service_endpoint_op *x, const char *app_id,
                              struct err_detail *d)
{
    const char *url = json_string_value(json_object_get(x->fields, "url"));
    struct store_endpoint page[50];
    char after[ID_MAX] = "";
    bool more = true, found = false;
    enum err e = ERR_OK;
    while (e == ERR_OK && more && !found) {
        int n = 0;
        e = store_endpoint_list_app(s, x->mode, app_id, after, false, 50, page, &n, &more, d);
        for (int i = 0; e == ERR_OK && i < n; i++) {
            if (!found && url && !strcmp(page[i].url, url)) {
                found = true;
                x->ep = page[i];
                continue; /* now x->ep's */
            }
            store_endpoint_release(&page[i]);
        }
        if (e == ERR_OK && n)
            snprintf(after, sizeof(after), "%s", found ? x->ep.id : page[n - 1].id);
        if (!n)
            more = false;
    }
    if (e != ERR_OK)
        return e;
    return found ? ERR_OK : err_set(d, ERR_NOTFOUND, "NOT_FOUND", "no endpoint has that url");
}

static enum err apply(struct store *s, struct commit_op *op)
{
    struct service_endpoint_op *x = (struct service_endpoint_op *)op;
    struct err_detail *d = &op->detail;
    store_endpoint_release(&x->ep);
    memset(&x->ep, 0, sizeof(x->ep));
    enum err e;
    if (!x->app && x->kind != ENDPOINT_CREATE) { /* by id, in any application */
        if ((e = store_endpoint_get(s, x->mode, x->target, false, &x->ep, d)) != ERR_OK)
            return e;
        return edit(s, x, d);
    }
    char default_app[ID_MAX]; /* CREATE without an application: HookBridge's */
    snprintf(default_app, sizeof(default_app), "%s%s", STORE_DEFAULT_APP_PREFIX, x->mode);
    struct store_application app = {0};
    e = store_application_get(s, x->mode, x->app ? x->app : default_app, &app, d);
    if (e == ERR_NOTFOUND && x->kind == ENDPOINT_CREATE && ops_events_is_ops_app(x->app))
        e = make_ops_app(s, x, &app, d); /* with its first endpoint (POLICIES §6) */
    if (e != ERR_OK)
        return e;
    char app_id[ID_MAX];
    snprintf(app_id, sizeof(app_id), "%s", app.id);
    store_application_release(&app);
    if (x->kind == ENDPOINT_CREATE) {
        struct service_idem *idem = &x->head.idem;
        if ((e = service_idem_begin(s, x->mode, idem, d)) != ERR_OK)
            return e;
        if (idem->replayed) {
            x->created = idem->rec.status == 201;
            return store_endpoint_get(s, x->mode, idem->rec.resource, false, &x->ep, d);
        }
        if (x->reuse_same_url && (e = find_same_url(s, x, app_id, d)) != ERR_NOTFOUND)
            return e; /* found (x->ep), or the store failed */
        e = create_endpoint(s, x, app_id, NULL, d);
        return e != ERR_OK ? e : service_idem_end(s, x->mode, idem, 201, x->ep.id, 0, d);
    }
    e = store_endpoint_find(s, x->mode, app_id, x->target, &x->ep, d);
    if (e == ERR_NOTFOUND && x->kind == ENDPOINT_REPLACE && names_is_uid(x->target) &&
        strncmp(x->target, "ep_", 3) != 0) /* PUT creates; the path names its uid */
        return create_endpoint(s, x, app_id, x->target, d);
    return e != ERR_OK ? e : edit(s, x, d);
}

enum err service_endpoint_op_init(struct service_endpoint_op *x, enum endpoint_write kind,
                                  const char *mode, const char *app, const char *target,
                                  const struct endpoint_fields *f, const struct config *cfg,
                                  struct err_detail *d)
{
    memset(x, 0, sizeof(*x));
    x->kind = kind;
    snprintf(x->mode, sizeof(x->mode), "%s", mode);
    if (kind != ENDPOINT_DELETE) {
        enum err e = check_fields(x, f, cfg, d);
        if (e != ERR_OK) {
            service_endpoint_op_release(x);
            return e;
        }
    }
    x->cfg = cfg;
    x->app = dup_or_null(app);
    x->target = dup_or_null(target);
    x->head.op.apply = apply;
    return ERR_OK;
}

void service_endpoint_op_release(struct service_endpoint_op *x)
{
    json_decref(x->fields);
    x->fields = NULL;
    endpoint_policy_change_release(&x->policy);
    store_endpoint_release(&x->ep);
    free(x->app);
    free(x->target);
    x->app = x->target = NULL;
    explicit_bzero(x->secret, sizeof(x->secret));
}

/* The id of application app (id or uid) of mode. */
static enum err app_id_of(struct store *s, const char *mode, const char *app, char out[ID_MAX],
                          struct err_detail *d)
{
    struct store_application a = {0};
    enum err e = store_application_get(s, mode, app, &a, d);
    if (e == ERR_OK)
        snprintf(out, ID_MAX, "%s", a.id);
    store_application_release(&a);
    return e;
}

enum err service_endpoint_get(struct store *s, const char *mode, const char *app,
                              const char *id_or_uid, struct store_endpoint *out,
                              struct err_detail *d)
{
    if (!app)
        return store_endpoint_get(s, mode, id_or_uid, false, out, d);
    char app_id[ID_MAX];
    enum err e = app_id_of(s, mode, app, app_id, d);
    return e != ERR_OK ? e : store_endpoint_find(s, mode, app_id, id_or_uid, out, d);
}

enum err service_endpoint_list(struct store *s, const char *mode, const char *app,
                               const char *iterator, bool descending, int limit,
                               struct store_endpoint *out, int *n, bool *has_more,
                               struct err_detail *d)
{
    *n = 0;
    *has_more = false;
    if (limit < 1 || limit > SERVICE_PAGE_MAX)
        return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", "limit",
                             "'limit' must be from 1 to %d", SERVICE_PAGE_MAX);
    if (!app)
        return store_endpoint_list(s, mode, iterator ? iterator : "", limit, out, n, has_more, d);
    char app_id[ID_MAX];
    enum err e = app_id_of(s, mode, app, app_id, d);
    return e != ERR_OK ? e
                       : store_endpoint_list_app(s, mode, app_id, iterator, descending, limit, out,
                                                 n, has_more, d);
}

enum err service_endpoint_secret(struct store *s, const char *mode, const char *app,
                                 const char *id_or_uid, char secret[ID_MAX], struct err_detail *d)
{
    struct store_endpoint ep = {0};
    enum err e = service_endpoint_get(s, mode, app, id_or_uid, &ep, d);
    if (e != ERR_OK)
        return e;
    struct store_signing_key keys[STORE_MAX_ACTIVE_KEYS];
    int n = 0;
    e = store_signing_keys_active(s, ep.id, clock_now_ms(), keys, &n, d);
    store_endpoint_release(&ep);
    if (e == ERR_OK && n == 0)
        e = err_set(d, ERR_NOTFOUND, "NOT_FOUND", "the endpoint has no active signing secret");
    if (e == ERR_OK)
        snprintf(secret, ID_MAX, "%s", keys[n - 1].secret);
    explicit_bzero(keys, sizeof(keys));
    return e;
}

const char *service_endpoint_status(const struct store_endpoint *e)
{
    return e->disabled ? "disabled" : e->paused ? "paused" : "active";
}

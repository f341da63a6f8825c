/* store_common - the parts of store.h that no backend owns: status names and the
 * release functions of the output structs, and the helpers both backends use
 * (store_internal.h). SPDX-License-Identifier: MIT */
#include "store/store.h"

#include <jansson.h>
#include <openssl/crypto.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dedupe.h"
#include "core/secretbox.h"
#include "store/store_internal.h"
#include "util/log.h"

void store_application_release(struct store_application *a)
{
    free(a->uid);
    free(a->name);
    free(a->metadata_json);
    a->uid = a->name = a->metadata_json = NULL;
}

void store_event_type_release(struct store_event_type *t)
{
    char **f[] = {
        &t->name,         &t->display_name,    &t->description,        &t->category,
        &t->schemas_json, &t->example_payload, &t->feature_flags_json, &t->documentation_url};
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        free(*f[i]);
        *f[i] = NULL;
    }
}

void store_portal_token_release(struct store_portal_token *t)
{
    free(t->allowed_ips_json);
    t->allowed_ips_json = NULL;
}

void store_endpoint_secret_free(char *secret)
{
    if (secret) {
        explicit_bzero(secret, strlen(secret));
        free(secret);
    }
}

void store_dlq_item_release(struct store_dlq_item *it)
{
    if (!it)
        return;
    free(it->endpoint_url);
    free(it->last_error);
    it->endpoint_url = it->last_error = NULL;
}

void store_uuid7_floor(char out[ID_MAX], int64_t unix_ms)
{
    static const char hex[] = "0123456789abcdef";
    uint64_t ms = (uint64_t)(unix_ms < 0 ? 0 : unix_ms) & 0xffffffffffffULL;
    char t[13];
    for (int i = 0; i < 12; i++)
        t[i] = hex[(ms >> (44 - 4 * i)) & 0xf];
    t[12] = '\0';
    snprintf(out, ID_MAX, "%.8s-%.4s-7000-8000-000000000000", t, t + 8);
}

void store_candidates_free(struct store_candidate *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(c[i].event_types_json);
        free(c[i].channels_json);
        free(c[i].filter_json);
        store__dedupe_policy_free(c[i].dedupe);
    }
    free(c);
}

void store_event_release(struct store_event *e)
{
    free(e->event_type);
    free(e->producer_id);
    free(e->payload);
    free(e->content_type);
    free(e->channels_json);
    free(e->tags_json);
    memset(e, 0, sizeof(*e));
}

void store_event_attempt_release(struct store_event_attempt *a)
{
    free(a->url);
    free(a->response_body);
    free(a->error_text);
    a->url = a->response_body = a->error_text = NULL;
}

void store_log_entry_release(struct store_log_entry *e)
{
    if (!e)
        return;
    free(e->endpoint_url);
    free(e->last_error);
    e->endpoint_url = e->last_error = NULL;
}

const char *store_status_name(enum store_status s)
{
    switch (s) {
    case STATUS_QUEUED:
        return "queued";
    case STATUS_DELIVERING:
        return "delivering";
    case STATUS_SUCCEEDED:
        return "succeeded";
    case STATUS_PENDING_RETRY:
        return "pending_retry";
    case STATUS_FAILED_PERMANENT:
        return "failed_permanent";
    case STATUS_DEDUPLICATED:
        return "deduplicated";
    case STATUS_FILTERED:
        return "filtered";
    }
    return "unknown";
}

void store_endpoint_release(struct store_endpoint *e)
{
    if (!e)
        return;
    free(e->url);
    free(e->description);
    free(e->headers_json);
    free(e->uid);
    free(e->event_types_json);
    free(e->channels_json);
    free(e->filter_json);
    free(e->metadata_json);
    free(e->policy_json);
    e->url = e->description = e->headers_json = e->uid = e->event_types_json = NULL;
    e->channels_json = e->filter_json = e->metadata_json = e->policy_json = NULL;
}

void store_message_release(struct store_message *m)
{
    if (!m)
        return;
    free(m->last_error);
    m->last_error = NULL;
}

void store_attempt_release(struct store_attempt *a)
{
    if (!a)
        return;
    free(a->error_text);
    free(a->response_body);
    free(a->response_headers_json);
    free(a->request_headers_json);
    a->error_text = a->response_body = a->response_headers_json = a->request_headers_json = NULL;
}

void store_delivery_release(struct store_delivery *dl)
{
    if (!dl)
        return;
    free(dl->payload);
    free(dl->content_type);
    free(dl->headers_json);
    free(dl->webhook_id);
    dl->payload = dl->content_type = dl->headers_json = dl->webhook_id = NULL;
}

struct dedupe_policy *store__dedupe_policy_of(const char *policy_json)
{
    /* Most documents have no rule: a substring test spares them a parse. */
    if (!policy_json || !strstr(policy_json, "\"deduplicate\""))
        return NULL;
    json_error_t jerr;
    json_t *doc = json_loads(policy_json, 0, &jerr);
    json_t *v = json_object_get(doc, "deduplicate");
    struct dedupe_policy *p = NULL;
    if (json_is_object(v)) {
        p = malloc(sizeof(*p));
        if (!p)
            abort();
        dedupe_policy_init(p);
        struct err_detail d = {0};
        if (dedupe_policy_parse(v, p, &d) != ERR_OK) {
            log_warn("store", "ignoring a deduplicate rule that does not parse: %s", d.msg);
            store__dedupe_policy_free(p);
            p = NULL;
        }
    } else if (!doc) {
        log_warn("store", "ignoring an endpoint policy that is not JSON: %s", jerr.text);
    }
    json_decref(doc);
    return p;
}

void store__dedupe_policy_free(struct dedupe_policy *p)
{
    if (!p)
        return;
    dedupe_policy_release(p);
    free(p);
}

static uint8_t process_key[SECRETBOX_KEY_LEN];
static bool have_process_key;

enum err store_secrets_set_key(const uint8_t key[STORE_SECRET_KEY_LEN])
{
    OPENSSL_cleanse(process_key, sizeof(process_key));
    have_process_key = key != NULL;
    if (key)
        memcpy(process_key, key, sizeof(process_key));
    return ERR_OK;
}

const uint8_t *store__process_key(void)
{
    return have_process_key ? process_key : NULL;
}

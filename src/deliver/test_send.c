/* test_send - see test_send.h. SPDX-License-Identifier: MIT */
#include "deliver/test_send.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deliver/oauth2.h"
#include "deliver/policy.h"
#include "deliver/request.h"
#include "util/clock.h"
#include "util/log.h"

struct test_sender {
    int64_t timeout_ms;
    const char *user_agent;
    const char *header_prefix;
    bool allow_private;
    struct oauth2_cache *oauth2; /* tokens of the endpoints tested, apart from the threads' */
};

struct test_target {
    char id[ID_MAX];
    struct request_target t;
    struct delivery_policy *pol; /* NULL = none; t.pol borrows it */
};

struct test_sender *test_sender_new(const struct dispatcher_config *cfg)
{
    struct test_sender *ts = calloc(1, sizeof(*ts));
    if (!ts)
        abort();
    ts->timeout_ms = cfg->timeout_ms;
    ts->user_agent = cfg->user_agent;
    ts->header_prefix = cfg->header_prefix;
    ts->allow_private = cfg->allow_private_networks;
    ts->oauth2 = oauth2_cache_new(NULL, NULL);
    return ts;
}

void test_sender_free(struct test_sender *ts)
{
    if (!ts)
        return;
    oauth2_cache_free(ts->oauth2);
    free(ts);
}

enum err test_sender_load(struct test_sender *ts, struct store *s, const char *mode,
                          const char *endpoint_id, struct test_target **out, struct err_detail *d)
{
    *out = NULL;
    struct store_endpoint ep = {0};
    enum err e = store_endpoint_get(s, mode, endpoint_id, false, &ep, d);
    if (e != ERR_OK)
        return e;
    struct test_target *tt = calloc(1, sizeof(*tt));
    if (!tt)
        abort();
    snprintf(tt->id, sizeof(tt->id), "%s", ep.id);
    struct err_detail pd = {0};
    e = request_target_load(&tt->t, &tt->pol, s, &ep, ts->header_prefix, clock_now_ms(), d, &pd);
    store_endpoint_release(&ep);
    if (e != ERR_OK) {
        free(tt);
        return e;
    }
    if (pd.msg[0]) /* delivered with the defaults, as the delivery threads do */
        log_error("test_send", "endpoint %s: cannot use its delivery policy: %s", tt->id, pd.msg);
    *out = tt;
    return ERR_OK;
}

void test_target_free(struct test_target *t)
{
    if (!t)
        return;
    request_target_release(&t->t);
    delivery_policy_free(t->pol);
    free(t);
}

/* curl's progress callback: a non-zero answer aborts the transfer. */
static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    const bool *cancel = ud;
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    return cancel && __atomic_load_n(cancel, __ATOMIC_RELAXED) ? 1 : 0;
}

static char *dup_or_die(const char *s)
{
    char *r = strdup(s);
    if (!r)
        abort();
    return r;
}

static void add_sent_header(void *ctx, const char *name, const char *value)
{
    struct test_send_result *out = ctx;
    if (out->n_headers == TEST_SEND_HEADERS_MAX)
        return;
    struct test_send_header *h = &out->headers[out->n_headers++];
    h->name = dup_or_die(name);
    h->value = value ? dup_or_die(value) : NULL;
}

static void clear_sent_headers(struct test_send_result *r)
{
    for (size_t i = 0; i < r->n_headers; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    memset(r->headers, 0, sizeof(r->headers));
    r->n_headers = 0;
}

void test_sender_send(struct test_sender *ts, struct test_target *tt, const char *webhook_id,
                      const char *payload, size_t payload_len, const bool *cancel,
                      struct test_send_result *out)
{
    memset(out, 0, sizeof(*out));
    out->attempt.retry_after_seconds = -1;
    struct request *r = calloc(1, sizeof(*r));
    if (!r)
        abort();
    if (!request_init(r)) {
        out->attempt.created_at_ms = clock_now_ms();
        out->attempt.error_text = dup_or_die("cannot make a curl handle");
        free(r);
        return;
    }
    curl_easy_setopt(r->easy, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(r->easy, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(r->easy, CURLOPT_XFERINFODATA, (void *)cancel);
    const struct delivery_policy *pol = tt->pol;
    bool oauth2 = pol && pol->auth.type == DEST_AUTH_OAUTH2_CC;
    for (int round = 0; round < 2; round++) {
        char *token = NULL;
        struct err_detail td = {0};
        if (oauth2) { /* blocks this thread for a fetch when the cache has no token */
            token = malloc(OAUTH2_TOKEN_MAX + 1);
            if (!token)
                abort();
            if (oauth2_token(ts->oauth2, tt->id, &pol->auth, ts->allow_private, ts->timeout_ms,
                             token, &td) != ERR_OK) {
                free(token);
                token = NULL;
            }
        }
        request_setup(r, &tt->t, webhook_id, payload, payload_len, NULL, NULL, ts->user_agent,
                      ts->timeout_ms, ts->allow_private, token);
        if (!token && td.msg[0])
            snprintf(r->preflight_error, sizeof(r->preflight_error), "%s", td.msg);
        clear_sent_headers(out);
        request_each_sent_header(r, &tt->t, NULL, add_sent_header, out);
        CURLcode rc = request_ready(r) ? curl_easy_perform(r->easy) : CURLE_ABORTED_BY_CALLBACK;
        store_attempt_release(&out->attempt);
        memset(&out->attempt, 0, sizeof(out->attempt));
        out->attempt.retry_after_seconds = -1;
        out->ok = request_finish(r, rc, &out->attempt);
        request_release(r);
        /* POLICIES §3: a 401 refreshes the token once and the request goes again */
        bool again = round == 0 && token && out->attempt.response_status == 401;
        if (again)
            oauth2_invalidate(ts->oauth2, tt->id, &pol->auth, token);
        if (token) {
            explicit_bzero(token, strlen(token));
            free(token);
        }
        if (!again)
            break;
    }
    if (!out->ok && cancel && __atomic_load_n(cancel, __ATOMIC_RELAXED)) {
        free(out->attempt.error_text);
        out->attempt.error_text = dup_or_die("the test send was cancelled: hookd is shutting down");
    }
    curl_easy_cleanup(r->easy);
    free(r);
}

void test_send_result_release(struct test_send_result *r)
{
    store_attempt_release(&r->attempt);
    clear_sent_headers(r);
}

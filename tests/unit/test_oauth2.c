/*
 * test_oauth2 - the client-credentials token cache against a token server
 * started here (libmicrohttpd on 127.0.0.1, a free port): the request it
 * gets (grant_type, scope, Basic vs form client auth), caching, invalidation,
 * expiry on an injected clock (no sleeps), a changed config, the error
 * messages, one fetch for four concurrent callers, the timeout and the
 * address policy.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dest_auth.h"
#include "deliver/oauth2.h"
#include "util/clock.h"

/* ---- the token server ---------------------------------------------------- */

struct server {
    struct MHD_Daemon *daemon;
    int port;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* what to answer: status and body; "%d" in body becomes the request number */
    int status;
    char body[1024];
    bool gate_closed; /* hold answers until the test opens the gate */
    int in_handler;   /* requests waiting at the gate */
    /* what was asked */
    int requests;
    char last_auth[512];
    char last_form[1024];
    char last_content_type[128];
    char last_method[16];
};

static struct server srv;

struct upload {
    char buf[1024];
    size_t len;
};

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)cls, (void)url, (void)version;
    struct upload *up = *con_cls;
    if (!up) {
        up = calloc(1, sizeof(*up));
        *con_cls = up;
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        if (up->len + n < sizeof(up->buf)) {
            memcpy(up->buf + up->len, upload_data, n);
            up->len += n;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    const char *ctype = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");

    pthread_mutex_lock(&srv.mu);
    int n = ++srv.requests;
    snprintf(srv.last_auth, sizeof(srv.last_auth), "%s", auth ? auth : "");
    snprintf(srv.last_content_type, sizeof(srv.last_content_type), "%s", ctype ? ctype : "");
    snprintf(srv.last_method, sizeof(srv.last_method), "%s", method);
    snprintf(srv.last_form, sizeof(srv.last_form), "%.*s", (int)up->len, up->buf);
    srv.in_handler++;
    pthread_cond_broadcast(&srv.cv);
    while (srv.gate_closed)
        pthread_cond_wait(&srv.cv, &srv.mu);
    srv.in_handler--;
    int status = srv.status;
    char body[1100];
    snprintf(body, sizeof(body), srv.body, n);
    pthread_mutex_unlock(&srv.mu);

    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(resp, "Content-Type", "application/json");
    enum MHD_Result r = MHD_queue_response(conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return r;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)conn, (void)toe;
    free(*con_cls);
    *con_cls = NULL;
}

/* Answer 200 with a fresh token tok-<n> valid for expires_in seconds. */
static void answer_token(int expires_in)
{
    pthread_mutex_lock(&srv.mu);
    srv.status = 200;
    snprintf(srv.body, sizeof(srv.body),
             "{\"access_token\":\"tok-%%d\",\"token_type\":\"Bearer\",\"expires_in\":%d}",
             expires_in);
    pthread_mutex_unlock(&srv.mu);
}

static void answer(int status, const char *body)
{
    pthread_mutex_lock(&srv.mu);
    srv.status = status;
    snprintf(srv.body, sizeof(srv.body), "%s", body);
    pthread_mutex_unlock(&srv.mu);
}

static int requests(void)
{
    pthread_mutex_lock(&srv.mu);
    int n = srv.requests;
    pthread_mutex_unlock(&srv.mu);
    return n;
}

static void gate(bool closed)
{
    pthread_mutex_lock(&srv.mu);
    srv.gate_closed = closed;
    pthread_cond_broadcast(&srv.cv);
    pthread_mutex_unlock(&srv.mu);
}

static int server_start(void **state)
{
    (void)state;
    memset(&srv, 0, sizeof(srv));
    pthread_mutex_init(&srv.mu, NULL);
    pthread_cond_init(&srv.cv, NULL);
    answer_token(3600);
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sin.sin_port = 0;
    srv.daemon =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL,
                         NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
                         MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_END);
    if (!srv.daemon)
        return -1;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv.daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv.port = info ? info->port : 0;
    return srv.port ? 0 : -1;
}

static int server_stop(void **state)
{
    (void)state;
    gate(false);
    MHD_stop_daemon(srv.daemon);
    pthread_cond_destroy(&srv.cv);
    pthread_mutex_destroy(&srv.mu);
    return 0;
}

/* Each test starts from a fresh count and the default answer. */
static int reset(void **state)
{
    (void)state;
    pthread_mutex_lock(&srv.mu);
    srv.requests = 0;
    srv.last_auth[0] = srv.last_form[0] = '\0';
    srv.gate_closed = false;
    pthread_mutex_unlock(&srv.mu);
    answer_token(3600);
    return 0;
}

/* ---- helpers -------------------------------------------------------------- */

static _Atomic int64_t fake_now = 1000000;

static int64_t test_clock(void *ctx)
{
    (void)ctx;
    return atomic_load(&fake_now);
}

/* An oauth2 config for the test server; extra is more JSON members. */
static void config(struct dest_auth *a, const char *extra)
{
    char json[1024];
    snprintf(json, sizeof(json),
             "{\"type\": \"oauth2_client_credentials\", \"token_url\": "
             "\"http://127.0.0.1:%d/token\", \"client_id\": \"cid\", \"client_secret\": "
             "\"csecret\"%s}",
             srv.port, extra);
    json_t *v = json_loads(json, 0, NULL);
    assert_non_null(v);
    struct dest_auth_rules rules = {true, NULL};
    struct err_detail d;
    if (dest_auth_parse(a, v, NULL, &rules, &d) != ERR_OK)
        fail_msg("config: %s", d.msg);
    json_decref(v);
}

static char tok[OAUTH2_TOKEN_MAX + 1];

/* oauth2_token for endpoint ep_1 that must succeed with want. */
static void expect_token(struct oauth2_cache *c, const char *ep, const struct dest_auth *a,
                         const char *want)
{
    struct err_detail d;
    memset(&d, 0, sizeof(d));
    enum err e = oauth2_token(c, ep, a, true, 5000, tok, &d);
    if (e != ERR_OK)
        fail_msg("oauth2_token: %s", d.msg);
    assert_string_equal(tok, want);
}

static enum err expect_error(struct oauth2_cache *c, const struct dest_auth *a, const char *msg)
{
    struct err_detail d;
    memset(&d, 0, sizeof(d));
    enum err e = oauth2_token(c, "ep_1", a, true, 5000, tok, &d);
    assert_int_not_equal(e, ERR_OK);
    assert_string_equal(tok, "");
    assert_string_equal(d.msg, msg);
    return e;
}

/* ---- tests ---------------------------------------------------------------- */

static void test_basic_auth_cache_invalidate(void **state)
{
    (void)state;
    struct oauth2_cache *c = oauth2_cache_new(test_clock, NULL);
    struct dest_auth a;
    config(&a, ", \"scope\": \"read write\"");

    expect_token(c, "ep_1", &a, "tok-1");
    assert_int_equal(requests(), 1);
    assert_string_equal(srv.last_method, "POST");
    assert_string_equal(srv.last_content_type, "application/x-www-form-urlencoded");
    assert_string_equal(srv.last_form, "grant_type=client_credentials&scope=read%20write");
    /* base64("cid:csecret") */
    assert_string_equal(srv.last_auth, "Basic Y2lkOmNzZWNyZXQ=");

    expect_token(c, "ep_1", &a, "tok-1"); /* cached */
    assert_int_equal(requests(), 1);

    /* a refusal of some other token (already replaced) drops nothing */
    oauth2_invalidate(c, "ep_1", &a, "tok-0");
    expect_token(c, "ep_1", &a, "tok-1");
    assert_int_equal(requests(), 1);

    /* the receiver answered 401 to tok-1: refresh once */
    oauth2_invalidate(c, "ep_1", &a, tok);
    expect_token(c, "ep_1", &a, "tok-2");
    assert_int_equal(requests(), 2);
    expect_token(c, "ep_1", &a, "tok-2");
    oauth2_invalidate(c, "ep_1", &a, NULL); /* unconditional */
    expect_token(c, "ep_1", &a, "tok-3");

    struct oauth2_stats st;
    oauth2_get_stats(c, &st);
    assert_int_equal(st.fetches, 3);
    assert_int_equal(requests(), 3);
    oauth2_invalidate(c, "ep_unknown", &a, NULL); /* nothing cached: no-op */
    dest_auth_release(&a);
    oauth2_cache_free(c);
    oauth2_cache_free(NULL);
}

static void test_body_client_auth(void **state)
{
    (void)state;
    struct oauth2_cache *c = oauth2_cache_new(test_clock, NULL);
    struct dest_auth a;
    char json[1024];
    snprintf(json, sizeof(json),
             "{\"type\": \"oauth2_client_credentials\", \"token_url\": "
             "\"http://127.0.0.1:%d/token\", \"client_id\": \"c:id\", \"client_secret\": "
             "\"s+e/c&r=t \\u00e9\", \"client_auth\": \"body\"}",
             srv.port);
    json_t *v = json_loads(json, 0, NULL);
    struct dest_auth_rules rules = {true, NULL};
    assert_int_equal(dest_auth_parse(&a, v, NULL, &rules, NULL), ERR_OK);
    json_decref(v);

    expect_token(c, "ep_1", &a, "tok-1");
    assert_string_equal(srv.last_auth, ""); /* no Basic */
    assert_string_equal(srv.last_form, "grant_type=client_credentials&client_id=c%3Aid&client_"
                                       "secret=s%2Be%2Fc%26r%3Dt%20%C3%A9");
    dest_auth_release(&a);
    oauth2_cache_free(c);
}

static void test_expiry(void **state)
{
    (void)state;
    struct oauth2_cache *c = oauth2_cache_new(test_clock, NULL);
    struct dest_auth a;
    config(&a, "");
    atomic_store(&fake_now, 1000000);

    /* expires_in 3600: cached until 3570 s */
    expect_token(c, "ep_1", &a, "tok-1");
    atomic_store(&fake_now, 1000000 + 3570000 - 1);
    expect_token(c, "ep_1", &a, "tok-1");
    atomic_store(&fake_now, 1000000 + 3570000);
    expect_token(c, "ep_1", &a, "tok-2");
    assert_int_equal(requests(), 2);

    /* expires_in of 30 s or less: used, not cached */
    answer_token(30);
    oauth2_invalidate(c, "ep_1", &a, NULL);
    expect_token(c, "ep_1", &a, "tok-3");
    expect_token(c, "ep_1", &a, "tok-4");
    assert_int_equal(requests(), 4);

    /* expires_in 31: cached for one millisecond short of a second */
    answer_token(31);
    expect_token(c, "ep_1", &a, "tok-5");
    expect_token(c, "ep_1", &a, "tok-5");
    atomic_fetch_add(&fake_now, 1000);
    expect_token(c, "ep_1", &a, "tok-6");

    /* no expires_in: OAUTH2_DEFAULT_EXPIRES_S (300 s), so 270 s */
    answer(200, "{\"access_token\":\"tok-%d\",\"token_type\":\"bearer\"}");
    oauth2_invalidate(c, "ep_1", &a, NULL);
    int64_t t0 = atomic_load(&fake_now);
    expect_token(c, "ep_1", &a, "tok-7");
    atomic_store(&fake_now, t0 + 270000 - 1);
    expect_token(c, "ep_1", &a, "tok-7");
    atomic_store(&fake_now, t0 + 270000);
    expect_token(c, "ep_1", &a, "tok-8");

    /* expires_in as a string of digits (some servers): 120 s, so 90 s */
    answer(200, "{\"access_token\":\"tok-%d\",\"expires_in\":\"120\"}");
    oauth2_invalidate(c, "ep_1", &a, NULL);
    t0 = atomic_load(&fake_now);
    expect_token(c, "ep_1", &a, "tok-9");
    atomic_store(&fake_now, t0 + 90000 - 1);
    expect_token(c, "ep_1", &a, "tok-9");
    atomic_store(&fake_now, t0 + 90000);
    expect_token(c, "ep_1", &a, "tok-10");
    assert_int_equal(requests(), 10);

    dest_auth_release(&a);
    oauth2_cache_free(c);
}

static void test_changed_config(void **state)
{
    (void)state;
    struct oauth2_cache *c = oauth2_cache_new(test_clock, NULL);
    struct dest_auth a, b;
    config(&a, ", \"scope\": \"read\"");
    config(&b, ", \"scope\": \"write\"");

    expect_token(c, "ep_1", &a, "tok-1");
    expect_token(c, "ep_1", &a, "tok-1");
    expect_token(c, "ep_1", &b, "tok-2"); /* the config changed: fetch anew */
    assert_string_equal(srv.last_form, "grant_type=client_credentials&scope=write");
    expect_token(c, "ep_1", &b, "tok-2");
    expect_token(c, "ep_2", &b, "tok-3"); /* another endpoint has its own token */
    expect_token(c, "ep_1", &b, "tok-2");
    /* the old config's entry went with the fetch for the new one */
    expect_token(c, "ep_1", &a, "tok-4");
    assert_int_equal(requests(), 4);

    /* not an oauth2 config */
    struct dest_auth bearer = {.type = DEST_AUTH_BEARER, .secret = (char *)"x"};
    struct err_detail d;
    assert_int_equal(oauth2_token(c, "ep_1", &bearer, true, 1000, tok, &d), ERR_INVAL);
    assert_int_equal(requests(), 4);
    dest_auth_release(&a);
    dest_auth_release(&b);
    oauth2_cache_free(c);
}

static void test_errors(void **state)
{
    (void)state;
    struct oauth2_cache *c = oauth2_cache_new(test_clock, NULL);
    struct dest_auth a;
    config(&a, "");

    answer(401, "{\"error\":\"invalid_client\",\"error_description\":\"bad secret\"}");
    assert_int_equal(
        expect_error(c, &a,
                     "oauth2 token request failed: HTTP 401 from token_url (invalid_client)"),
        ERR_PROTO);
    answer(500, "<html>oops</html>");
    assert_int_equal(expect_error(c, &a, "oauth2 token request failed: HTTP 500 from token_url"),
                     ERR_PROTO);
    /* an "error" that is not a plain word is not repeated */
    answer(400, "{\"error\":\"bad\\r\\nthing\"}");
    expect_error(c, &a, "oauth2 token request failed: HTTP 400 from token_url");
    answer(200, "this is not json");
    assert_int_equal(
        expect_error(c, &a, "oauth2 token response from token_url is not a JSON object"),
        ERR_PROTO);
    answer(200, "[\"tok\"]");
    expect_error(c, &a, "oauth2 token response from token_url is not a JSON object");
    answer(200, "{\"token\":\"x\",\"expires_in\":3600}");
    expect_error(c, &a, "oauth2 token response from token_url has no access_token");
    answer(200, "{\"access_token\":\"\"}");
    expect_error(c, &a, "oauth2 token response from token_url has no access_token");
    answer(200, "{\"access_token\":\"a b\"}");
    expect_error(c, &a,
                 "oauth2 access_token from token_url contains characters a header cannot carry");
    answer(200, "{\"access_token\":\"ab\\r\\nX-Evil: 1\"}");
    expect_error(c, &a,
                 "oauth2 access_token from token_url contains characters a header cannot carry");
    answer(200, "{\"access_token\":\"ab\",\"token_type\":\"mac\"}");
    expect_error(c, &a, "oauth2 token_type \"mac\" from token_url is not supported (only Bearer)");
    /* failures are not cached: every call above fetched */
    assert_int_equal(requests(), 10);
    answer_token(3600);
    expect_token(c, "ep_1", &a, "tok-11");

    /* nothing listening */
    struct dest_auth closed;
    json_t *v = json_loads("{\"type\": \"oauth2_client_credentials\", \"token_url\": "
                           "\"http://127.0.0.1:1/token\", \"client_id\": \"c\", "
                           "\"client_secret\": \"s\"}",
                           0, NULL);
    struct dest_auth_rules rules = {true, NULL};
    assert_int_equal(dest_auth_parse(&closed, v, NULL, &rules, NULL), ERR_OK);
    json_decref(v);
    struct err_detail d;
    assert_int_equal(oauth2_token(c, "ep_1", &closed, true, 5000, tok, &d), ERR_IO);
    assert_non_null(strstr(d.msg, "oauth2 token request failed: Couldn't connect"));
    dest_auth_release(&closed);
    dest_auth_release(&a);
    oauth2_cache_free(c);
}

/* ---- concurrency ----------------------------------------------------------- */

struct caller {
    struct oauth2_cache *c;
    const struct dest_auth *a;
    enum err e;
    char token[OAUTH2_TOKEN_MAX + 1];
    struct err_detail d;
};

static void *call(void *arg)
{
    struct caller *k = arg;
    k->e = oauth2_token(k->c, "ep_1", k->a, true, 5000, k->token, &k->d);
    return NULL;
}

/* Spin (yielding) until cond(c) holds; fail after 10 s of real time. */
static void await_waits(struct oauth2_cache *c, uint64_t want)
{
    int64_t deadline = clock_mono_ms() + 10000;
    for (;;) {
        struct oauth2_stats st;
        oauth2_get_stats(c, &st);
        pthread_mutex_lock(&srv.mu);
        int in = srv.in_handler;
        pthread_mutex_unlock(&srv.mu);
        if (st.waiting >= want && in == 1)
            return;
        if (clock_mono_ms() > deadline)
            fail_msg("callers never queued: waiting %llu, at the server %d",
                     (unsigned long long)st.waiting, in);
        sched_yield();
    }
}

/* Four callers at once while the token server holds its answer. */
static void run_four(struct oauth2_cache *c, const struct dest_auth *a, struct caller k[4])
{
    pthread_t th[4];
    gate(true);
    for (int i = 0; i < 4; i++) {
        memset(&k[i], 0, sizeof(k[i]));
        k[i].c = c;
        k[i].a = a;
        pthread_create(&th[i], NULL, call, &k[i]);
    }
    /* one caller is at the server, the three others wait for its answer */
    await_waits(c, 3);
    gate(false);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
}

static void test_concurrent_one_fetch(void **state)
{
    (void)state;
    struct oauth2_cache *c = oauth2_cache_new(test_clock, NULL);
    struct dest_auth a;
    config(&a, "");
    struct caller k[4];

    run_four(c, &a, k);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(k[i].e, ERR_OK);
        assert_string_equal(k[i].token, "tok-1");
    }
    assert_int_equal(requests(), 1);

    /* a token too short-lived to cache is still shared by those who waited for it */
    answer_token(5);
    oauth2_invalidate(c, "ep_1", &a, NULL);
    run_four(c, &a, k);
    for (int i = 0; i < 4; i++)
        assert_string_equal(k[i].token, "tok-2");
    assert_int_equal(requests(), 2);

    /* so is a failure: one request, four errors */
    answer(500, "{}");
    run_four(c, &a, k);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(k[i].e, ERR_PROTO);
        assert_string_equal(k[i].d.msg, "oauth2 token request failed: HTTP 500 from token_url");
        assert_string_equal(k[i].token, "");
    }
    assert_int_equal(requests(), 3);
    struct oauth2_stats st;
    oauth2_get_stats(c, &st);
    assert_int_equal(st.fetches, 3);
    dest_auth_release(&a);
    oauth2_cache_free(c);
}

/* ---- limits ------------------------------------------------------------------ */

static void test_timeout(void **state)
{
    (void)state;
    struct oauth2_cache *c = oauth2_cache_new(test_clock, NULL);
    struct dest_auth a;
    config(&a, "");
    gate(true); /* the server takes the request and never answers */
    struct err_detail d;
    assert_int_equal(oauth2_token(c, "ep_1", &a, true, 200, tok, &d), ERR_TIMEOUT);
    assert_string_equal(d.msg,
                        "oauth2 token request failed: no answer from token_url within 200 ms");
    gate(false);
    dest_auth_release(&a);
    oauth2_cache_free(c);
}

static void test_address_policy(void **state)
{
    (void)state;
    struct oauth2_cache *c = oauth2_cache_new(NULL, NULL); /* the real clock */
    struct dest_auth a;
    config(&a, "");
    struct err_detail d;
    assert_int_equal(oauth2_token(c, "ep_1", &a, false, 5000, tok, &d), ERR_INVAL);
    assert_string_equal(d.msg, "oauth2 token request failed: token_url resolves to a non-public "
                               "address, refused by the address policy (see "
                               "--allow-private-networks)");
    assert_int_equal(requests(), 0);
    /* allowed, as deliveries are with --allow-private-networks */
    assert_int_equal(oauth2_token(c, "ep_1", &a, true, 5000, tok, &d), ERR_OK);
    assert_string_equal(tok, "tok-1");
    dest_auth_release(&a);
    oauth2_cache_free(c);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_basic_auth_cache_invalidate, reset),
        cmocka_unit_test_setup(test_body_client_auth, reset),
        cmocka_unit_test_setup(test_expiry, reset),
        cmocka_unit_test_setup(test_changed_config, reset),
        cmocka_unit_test_setup(test_errors, reset),
        cmocka_unit_test_setup(test_concurrent_one_fetch, reset),
        cmocka_unit_test_setup(test_timeout, reset),
        cmocka_unit_test_setup(test_address_policy, reset),
    };
    int rc = cmocka_run_group_tests(tests, server_start, server_stop);
    curl_global_cleanup();
    return rc;
}

/*
 * test_endpoint_test - the test send below the HTTP layer: the service's
 * input rules and default payloads (service/endpoint_test.c, with a fake
 * sender), request_target_load reading an endpoint with its policy and
 * sealed auth the way delivery threads do, the headers a request reports as
 * sent (the auth header by name only, no custom headers), and the real
 * sender against a dead port and a receiver that never answers (cancel).
 * SPDX-License-Identifier: MIT
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/dest_auth.h"
#include "core/validate.h"
#include "deliver/request.h"
#include "deliver/test_send.h"
#include "service/endpoint_test.h"
#include "store_fixture.h"
#include "util/clock.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    return fixture_setup_dir(dir, sizeof(dir), "endpoint-test");
}

static int teardown(void **state)
{
    (void)state;
    return fixture_remove_dir(dir);
}

/* ---- a fake sender: records what it was asked to send ---- */

static struct {
    char payload[256];
    char webhook_id[ID_MAX];
    int sends;
} fake;

static enum err fake_load(void *ctx, struct store *s, const char *mode, const char *endpoint_id,
                          void **target, struct err_detail *d)
{
    (void)ctx;
    struct store_endpoint ep = {0};
    enum err e = store_endpoint_get(s, mode, endpoint_id, false, &ep, d);
    store_endpoint_release(&ep);
    *target = e == ERR_OK ? strdup(endpoint_id) : NULL;
    return e;
}

static void fake_send(void *ctx, void *target, const char *webhook_id, const char *payload,
                      size_t payload_len, const bool *cancel, struct service_test_attempt *out)
{
    (void)ctx;
    (void)target;
    (void)cancel;
    snprintf(fake.payload, sizeof(fake.payload), "%.*s", (int)payload_len, payload);
    snprintf(fake.webhook_id, sizeof(fake.webhook_id), "%s", webhook_id);
    fake.sends++;
    memset(out, 0, sizeof(*out));
    out->succeeded = false;
    out->response_status = 500;
    out->latency_ms = 3;
    out->response_body = strdup("nope");
    out->error = strdup("receiver answered HTTP 500");
}

static void fake_free(void *ctx, void *target)
{
    (void)ctx;
    free(target);
}

static const struct service_test_sender sender = {
    .load = fake_load, .send = fake_send, .target_free = fake_free};

/* The payload prepare builds for (event_type, payload), both JSON texts or NULL. */
static void expect_payload(struct store *s, const char *event_type, const char *payload,
                           const char *want)
{
    json_t *et = event_type ? json_loads(event_type, JSON_DECODE_ANY, NULL) : NULL;
    json_t *pl = payload ? json_loads(payload, JSON_DECODE_ANY, NULL) : NULL;
    struct endpoint_test_fields f = {et, pl};
    struct service_endpoint_test x;
    struct err_detail d = {0};
    assert_int_equal(service_endpoint_test_prepare(&x, &sender, s, "live", "ep_a", &f, &d), ERR_OK);
    assert_string_equal(x.payload, want);
    assert_int_equal(x.payload_len, strlen(want));
    assert_true(id_is_uuid(x.webhook_id));
    service_endpoint_test_release(&x);
    json_decref(et);
    json_decref(pl);
}

static void test_default_payloads(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    fixture_make_endpoint(s, "ep_a", "live", "https://a.example/", FIXTURE_SECRET, 1);
    struct store_event_type t = {0};
    snprintf(t.id, sizeof(t.id), "et_1");
    snprintf(t.mode, sizeof(t.mode), "live");
    t.name = (char *)"invoice.paid";
    t.example_payload = (char *)"{\"invoice\": 42}";
    t.created_at_ms = t.updated_at_ms = 1;
    struct err_detail d = {0};
    assert_int_equal(store_event_type_insert(s, &t, &d), ERR_OK);

    expect_payload(s, NULL, NULL, "{\"type\":\"hookd.test\",\"data\":{}}");
    expect_payload(s, "null", "null", "{\"type\":\"hookd.test\",\"data\":{}}");
    expect_payload(s, "\"order.created\"", NULL, "{\"type\":\"order.created\",\"data\":{}}");
    expect_payload(s, "\"invoice.paid\"", NULL, "{\"invoice\": 42}"); /* the example as stored */
    expect_payload(s, "\"invoice.paid\"", "[1, \"x\"]", "[1,\"x\"]");
    expect_payload(s, NULL, "\"just a string\"", "\"just a string\"");
    store_close(s);
}

static enum err prepare(struct store *s, const struct service_test_sender *with, const char *mode,
                        const char *id, const char *event_type, const char *payload,
                        struct err_detail *d)
{
    json_t *et = event_type ? json_loads(event_type, JSON_DECODE_ANY, NULL) : NULL;
    json_t *pl = payload ? json_loads(payload, JSON_DECODE_ANY, NULL) : NULL;
    struct endpoint_test_fields f = {et, pl};
    struct service_endpoint_test x;
    memset(d, 0, sizeof(*d));
    enum err e = service_endpoint_test_prepare(&x, with, s, mode, id, &f, d);
    if (e == ERR_OK)
        service_endpoint_test_release(&x);
    else
        assert_null(x.payload); /* holds nothing on error */
    json_decref(et);
    json_decref(pl);
    return e;
}

static void test_errors(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    fixture_make_endpoint(s, "ep_b", "live", "https://b.example/", FIXTURE_SECRET, 1);
    struct err_detail d;
    assert_int_equal(prepare(s, &sender, "live", "ep_b", "5", NULL, &d), ERR_INVAL);
    assert_string_equal(d.field, "event_type");
    assert_int_equal(prepare(s, &sender, "live", "ep_b", "\"bad name\"", NULL, &d), ERR_INVAL);
    assert_string_equal(d.code, "INVALID_REQUEST");
    assert_int_equal(prepare(s, &sender, "live", "ep_nope", NULL, NULL, &d), ERR_NOTFOUND);
    assert_string_equal(d.code, "ENDPOINT_NOT_FOUND");
    assert_int_equal(prepare(s, &sender, "test", "ep_b", NULL, NULL, &d), ERR_NOTFOUND);
    char long_id[200];
    memset(long_id, 'x', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';
    assert_int_equal(prepare(s, &sender, "live", long_id, NULL, NULL, &d), ERR_NOTFOUND);
    assert_int_equal(prepare(s, NULL, "live", "ep_b", NULL, NULL, &d), ERR_IO);
    /* a payload over 1 MiB once compact */
    size_t n = VALIDATE_MAX_PAYLOAD_BYTES + 10;
    char *big = malloc(n + 3);
    assert_non_null(big);
    big[0] = '"';
    memset(big + 1, 'a', n);
    big[n + 1] = '"';
    big[n + 2] = '\0';
    assert_int_equal(prepare(s, &sender, "live", "ep_b", NULL, big, &d), ERR_LIMIT);
    assert_string_equal(d.code, "PAYLOAD_TOO_LARGE");
    free(big);
    /* the error paths never reached the sender's send */
    int before = fake.sends;
    json_t *pl = json_pack("{s:i}", "n", 1);
    struct endpoint_test_fields f = {NULL, pl};
    struct service_endpoint_test x;
    assert_int_equal(service_endpoint_test_prepare(&x, &sender, s, "live", "ep_b", &f, &d), ERR_OK);
    service_endpoint_test_send(&x, NULL);
    assert_int_equal(fake.sends, before + 1);
    assert_string_equal(fake.payload, "{\"n\":1}");
    assert_string_equal(fake.webhook_id, x.webhook_id);
    assert_false(x.attempt.succeeded);
    assert_int_equal(x.attempt.response_status, 500);
    assert_string_equal(x.attempt.response_body, "nope");
    service_endpoint_test_release(&x);
    json_decref(pl);
    store_close(s);
}

/* ---- request_target_load and the headers reported as sent ---- */

struct seen {
    char names[TEST_SEND_HEADERS_MAX][64];
    char values[TEST_SEND_HEADERS_MAX][256];
    bool redacted[TEST_SEND_HEADERS_MAX];
    int n;
};

static void on_header(void *ctx, const char *name, const char *value)
{
    struct seen *s = ctx;
    assert_true(s->n < TEST_SEND_HEADERS_MAX);
    snprintf(s->names[s->n], sizeof(s->names[0]), "%s", name);
    snprintf(s->values[s->n], sizeof(s->values[0]), "%s", value ? value : "");
    s->redacted[s->n] = value == NULL;
    s->n++;
}

/* Endpoint id with custom headers, a bearer auth sealed beside its policy and
 * policy_json (which must name "auth"). */
static void make_policy_endpoint(struct store *s, const char *id, const char *url,
                                 const char *policy_json)
{
    struct store_endpoint e = {0};
    snprintf(e.id, sizeof(e.id), "%s", id);
    snprintf(e.mode, sizeof(e.mode), "live");
    e.url = (char *)url;
    e.headers_json = (char *)"{\"X-Tenant\":\"acme\"}";
    e.hmac_enabled = true;
    e.created_at_ms = e.updated_at_ms = 1000;
    e.policy_json = (char *)policy_json;
    struct store_signing_key k = {0};
    snprintf(k.id, sizeof(k.id), "sk_%s", id);
    snprintf(k.secret, sizeof(k.secret), "%s", FIXTURE_SECRET);
    k.created_at_ms = 1;
    struct err_detail d = {0};
    assert_int_equal(store_endpoint_insert(s, &e, &k, &d), ERR_OK);
    json_t *v = json_pack("{s:s, s:s}", "type", "bearer", "token", "tok-secret-1");
    struct dest_auth a;
    struct dest_auth_rules rules = {.allow_http = true};
    assert_int_equal(dest_auth_parse(&a, v, NULL, &rules, &d), ERR_OK);
    char *sealed = dest_auth_to_json(&a);
    assert_int_equal(store_endpoint_secrets_set(s, id, sealed, NULL, &d), ERR_OK);
    dest_auth_json_free(sealed);
    dest_auth_release(&a);
    json_decref(v);
}

static void sent_headers_of(struct store *s, const char *id, const char *url, struct seen *seen)
{
    struct store_endpoint ep = {0};
    struct err_detail d = {0}, pd = {0};
    assert_int_equal(store_endpoint_get(s, "live", id, false, &ep, &d), ERR_OK);
    struct request_target t;
    memset(&t, 0, sizeof(t));
    struct delivery_policy *pol = NULL;
    assert_int_equal(request_target_load(&t, &pol, s, &ep, NULL, clock_now_ms(), &d, &pd), ERR_OK);
    assert_string_equal(pd.msg, "");
    assert_null(ep.url); /* taken by t */
    store_endpoint_release(&ep);
    assert_string_equal(t.url, url);
    assert_string_equal(t.headers_json, "{\"X-Tenant\":\"acme\"}");
    assert_true(t.hmac_enabled);
    assert_int_equal(t.n_keys, 1);
    assert_non_null(pol);
    assert_ptr_equal(t.pol, pol);
    assert_int_equal(pol->auth.type, DEST_AUTH_BEARER);

    struct request *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    assert_true(request_init(r));
    static const char body[] = "{\"a\":1}";
    request_setup(r, &t, "msg_1", body, sizeof(body) - 1, NULL, "{\"X-Trace\":\"t1\"}", "ua/1",
                  1000, false, NULL);
    assert_true(request_ready(r));
    memset(seen, 0, sizeof(*seen));
    request_each_sent_header(r, &t, "{\"X-Trace\":\"t1\"}", on_header, seen);
    request_release(r);
    curl_easy_cleanup(r->easy);
    free(r);
    request_target_release(&t);
    delivery_policy_free(pol);
}

static void test_target_load_and_sent_headers(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    make_policy_endpoint(s, "ep_c", "https://c.example/hook", "{\"auth\":{\"type\":\"bearer\"}}");
    struct seen seen;
    sent_headers_of(s, "ep_c", "https://c.example/hook", &seen);
    static const char *const want[] = {"webhook-id",   "webhook-timestamp",   "webhook-signature",
                                       "X-Webhook-Id", "X-Webhook-Timestamp", "X-Webhook-Signature",
                                       "Authorization"};
    assert_int_equal(seen.n, 7);
    for (int i = 0; i < 7; i++)
        assert_string_equal(seen.names[i], want[i]);
    assert_string_equal(seen.values[0], "msg_1");
    assert_true(strncmp(seen.values[2], "v1,", 3) == 0);
    assert_true(strncmp(seen.values[5], "sha256=", 7) == 0);
    assert_true(seen.redacted[6]); /* the bearer token is never handed out */
    for (int i = 0; i < 6; i++)
        assert_false(seen.redacted[i]);

    /* the general path: a header prefix of the endpoint's own */
    make_policy_endpoint(s, "ep_d", "https://d.example/hook",
                         "{\"auth\":{\"type\":\"bearer\"},\"header_prefix\":\"X-Acme-\"}");
    sent_headers_of(s, "ep_d", "https://d.example/hook", &seen);
    bool acme = false, auth = false;
    for (int i = 0; i < seen.n; i++) {
        acme |= !strcmp(seen.names[i], "X-Acme-Signature");
        auth |= !strcmp(seen.names[i], "Authorization") && seen.redacted[i];
        assert_true(strcmp(seen.names[i], "X-Tenant") && strcmp(seen.names[i], "X-Trace"));
        assert_true(strcmp(seen.names[i], "X-Webhook-Signature"));
    }
    assert_true(acme);
    assert_true(auth);
    store_close(s);
}

/* ---- the real sender ---- */

static void test_sender_dead_port_and_cancel(void **state)
{
    (void)state;
    struct store *s = fixture_open_store(dir);
    /* a port that refuses: bind one, then close it */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    socklen_t sl = sizeof(sa);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/dead", ntohs(sa.sin_port));
    close(fd);
    fixture_make_endpoint(s, "ep_e", "live", url, FIXTURE_SECRET, 1);

    struct dispatcher_config cfg = {
        .timeout_ms = 5000, .user_agent = "hookd-test/1", .allow_private_networks = true};
    struct test_sender *ts = test_sender_new(&cfg);
    struct test_target *t = NULL;
    struct err_detail d = {0};
    assert_int_equal(test_sender_load(ts, s, "live", "ep_nope", &t, &d), ERR_NOTFOUND);
    assert_null(t);
    assert_int_equal(test_sender_load(ts, s, "live", "ep_e", &t, &d), ERR_OK);
    struct test_send_result res;
    test_sender_send(ts, t, "msg_2", "{}", 2, NULL, &res);
    assert_false(res.ok);
    assert_int_equal(res.attempt.response_status, 0);
    assert_non_null(res.attempt.error_text);
    assert_int_equal(res.n_headers, 6);
    assert_string_equal(res.headers[0].name, "webhook-id");
    assert_string_equal(res.headers[0].value, "msg_2");
    test_send_result_release(&res);
    test_target_free(t);

    /* a receiver that accepts connections (the kernel does) and never answers */
    fd = socket(AF_INET, SOCK_STREAM, 0);
    sa.sin_port = 0;
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 4), 0);
    sl = sizeof(sa);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/hang", ntohs(sa.sin_port));
    fixture_make_endpoint(s, "ep_f", "live", url, FIXTURE_SECRET, 1);
    assert_int_equal(test_sender_load(ts, s, "live", "ep_f", &t, &d), ERR_OK);
    bool cancel = true;
    int64_t t0 = clock_mono_ms();
    test_sender_send(ts, t, "msg_3", "{}", 2, &cancel, &res);
    assert_true(clock_mono_ms() - t0 < 4000); /* well before the 5 s timeout */
    assert_false(res.ok);
    assert_non_null(strstr(res.attempt.error_text, "cancelled"));
    test_send_result_release(&res);
    test_target_free(t);
    close(fd);
    test_sender_free(ts);
    store_close(s);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_default_payloads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_target_load_and_sent_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sender_dead_port_and_cancel, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    store_secrets_set_key(NULL);
    curl_global_cleanup();
    return rc;
}

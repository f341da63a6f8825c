/*
 * test_dest_auth - parsing every auth type (each error naming its field),
 * the hint rendering, the stored round trip, and what an attempt adds:
 * exact header values (RFC 7617 Basic, RFC 4231 HMAC in hex and base64) and
 * the query parameter with and without an existing query.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dest_auth.h"

/* Parse json text (must be valid JSON) with rules (NULL = defaults) and prev. */
static enum err parse_with(struct dest_auth *a, const char *json, const struct dest_auth *prev,
                           const struct dest_auth_rules *rules, struct err_detail *d)
{
    json_error_t jerr;
    json_t *v = json_loads(json, JSON_DECODE_ANY, &jerr);
    if (!v)
        fail_msg("bad test JSON %s: %s", json, jerr.text);
    memset(d, 0, sizeof(*d));
    enum err e = dest_auth_parse(a, v, prev, rules, d);
    json_decref(v);
    return e;
}

static enum err parse(struct dest_auth *a, const char *json, struct err_detail *d)
{
    return parse_with(a, json, NULL, NULL, d);
}

/* json must be refused with ERR_INVAL naming field. */
static void expect_field_rules(const char *json, const struct dest_auth_rules *rules,
                               const char *field)
{
    struct dest_auth a;
    struct err_detail d;
    enum err e = parse_with(&a, json, NULL, rules, &d);
    if (e != ERR_INVAL)
        fail_msg("%s: expected ERR_INVAL, got %d", json, (int)e);
    if (strcmp(d.field, field) != 0)
        fail_msg("%s: expected field %s, got %s (%s)", json, field, d.field, d.msg);
    assert_string_equal(d.code, "INVALID_REQUEST");
    assert_int_equal(a.type, DEST_AUTH_NONE);
    assert_null(a.secret);
}

static void expect_field(const char *json, const char *field)
{
    expect_field_rules(json, NULL, field);
}

static void expect_ok(const char *json)
{
    struct dest_auth a;
    struct err_detail d;
    if (parse(&a, json, &d) != ERR_OK)
        fail_msg("%s: expected ok, got %s (%s)", json, d.field, d.msg);
    dest_auth_release(&a);
}

/* The public rendering of json, dumped with sorted keys. */
static char *public_of(const char *json)
{
    struct dest_auth a;
    struct err_detail d;
    if (parse(&a, json, &d) != ERR_OK)
        fail_msg("%s: %s", json, d.msg);
    json_t *p = dest_auth_public_json(&a);
    char *s = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    json_decref(p);
    dest_auth_release(&a);
    return s;
}

static void expect_public(const char *json, const char *want)
{
    char *got = public_of(json);
    assert_string_equal(got, want);
    free(got);
}

/* What an attempt adds for json (url and body given). */
static void apply_json(const char *json, const char *url, const char *body, const char *token,
                       struct dest_auth_result *r)
{
    struct dest_auth a;
    struct err_detail d;
    if (parse(&a, json, &d) != ERR_OK)
        fail_msg("%s: %s", json, d.msg);
    enum err e = dest_auth_apply(&a, url, body, body ? strlen(body) : 0, token, r, &d);
    if (e != ERR_OK)
        fail_msg("%s: apply failed: %s", json, d.msg);
    dest_auth_release(&a);
}

static void expect_header(const char *json, const char *body, const char *token, const char *name,
                          const char *value)
{
    struct dest_auth_result r;
    apply_json(json, "https://r.example/hook", body, token, &r);
    assert_non_null(r.header_name);
    assert_string_equal(r.header_name, name);
    assert_string_equal(r.header_value, value);
    assert_null(r.url);
    dest_auth_result_clear(&r);
    assert_null(r.header_name);
}

static void expect_url(const char *json, const char *url, const char *want)
{
    struct dest_auth_result r;
    apply_json(json, url, "{}", NULL, &r);
    assert_null(r.header_name);
    assert_non_null(r.url);
    assert_string_equal(r.url, want);
    dest_auth_result_clear(&r);
}

static void test_none_and_shape(void **state)
{
    (void)state;
    struct dest_auth a;
    struct err_detail d;
    assert_int_equal(dest_auth_parse(&a, NULL, NULL, NULL, &d), ERR_OK);
    assert_int_equal(a.type, DEST_AUTH_NONE);
    assert_int_equal(parse(&a, "null", &d), ERR_OK);
    assert_int_equal(a.type, DEST_AUTH_NONE);
    json_t *p = dest_auth_public_json(&a);
    assert_true(json_is_null(p));
    json_decref(p);
    assert_null(dest_auth_to_json(&a));
    struct dest_auth_result r;
    assert_int_equal(dest_auth_apply(&a, "https://x.test/", "{}", 2, NULL, &r, &d), ERR_OK);
    assert_null(r.header_name);
    assert_null(r.url);
    dest_auth_release(&a);
    dest_auth_release(NULL);
    dest_auth_result_clear(NULL);

    expect_field("\"bearer\"", "auth");
    expect_field("[]", "auth");
    expect_field("{}", "auth.type");
    expect_field("{\"type\": 3}", "auth.type");
    expect_field("{\"type\": \"digest\", \"token\": \"abc\"}", "auth.type");
    expect_field("{\"type\": \"Bearer\", \"token\": \"abc\"}", "auth.type");
    /* unknown members are refused, including another type's */
    expect_field("{\"type\": \"bearer\", \"token\": \"abc\", \"tokn\": \"x\"}", "auth");
    expect_field("{\"type\": \"bearer\", \"token\": \"abc\", \"username\": \"x\"}", "auth");
    assert_string_equal(dest_auth_type_name(DEST_AUTH_OAUTH2_CC), "oauth2_client_credentials");
    assert_string_equal(dest_auth_type_name(DEST_AUTH_NONE), "none");
}

static void test_bearer_errors(void **state)
{
    (void)state;
    expect_ok("{\"type\": \"bearer\", \"token\": \"abc\"}");
    expect_ok("{\"type\": \"bearer\", \"token\": \"abc\", \"hint\": \"xyz\"}"); /* as read back */
    expect_field("{\"type\": \"bearer\"}", "auth.token");
    expect_field("{\"type\": \"bearer\", \"token\": null}", "auth.token");
    expect_field("{\"type\": \"bearer\", \"token\": \"\"}", "auth.token");
    expect_field("{\"type\": \"bearer\", \"token\": 12}", "auth.token");
    expect_field("{\"type\": \"bearer\", \"token\": \"ab\\r\\nX-Evil: 1\"}", "auth.token");
    expect_field("{\"type\": \"bearer\", \"token\": \"ab\\ncd\"}", "auth.token");
    expect_field("{\"type\": \"bearer\", \"token\": \"ab\\tcd\"}", "auth.token");
    expect_field("{\"type\": \"bearer\", \"token\": \"ab\\u007fcd\"}", "auth.token");

    char *big = malloc(DEST_AUTH_SECRET_MAX + 64);
    int n = snprintf(big, DEST_AUTH_SECRET_MAX + 64, "{\"type\": \"bearer\", \"token\": \"");
    memset(big + n, 'a', DEST_AUTH_SECRET_MAX + 1);
    strcpy(big + n + DEST_AUTH_SECRET_MAX + 1, "\"}");
    expect_field(big, "auth.token");
    big[n + DEST_AUTH_SECRET_MAX] = '"'; /* exactly the maximum */
    big[n + DEST_AUTH_SECRET_MAX + 1] = '}';
    big[n + DEST_AUTH_SECRET_MAX + 2] = '\0';
    expect_ok(big);
    free(big);
}

static void test_basic_errors(void **state)
{
    (void)state;
    expect_ok("{\"type\": \"basic\", \"username\": \"u\", \"password\": \"p\"}");
    /* an API key as the user name and no password (Stripe's style) */
    expect_ok("{\"type\": \"basic\", \"username\": \"sk_live_1\", \"password\": \"\"}");
    expect_field("{\"type\": \"basic\", \"password\": \"p\"}", "auth.username");
    expect_field("{\"type\": \"basic\", \"username\": \"\", \"password\": \"p\"}", "auth.username");
    expect_field("{\"type\": \"basic\", \"username\": \"a:b\", \"password\": \"p\"}",
                 "auth.username");
    expect_field("{\"type\": \"basic\", \"username\": \"a\\r\\n\", \"password\": \"p\"}",
                 "auth.username");
    expect_field("{\"type\": \"basic\", \"username\": \"u\"}", "auth.password");
    expect_field("{\"type\": \"basic\", \"username\": \"u\", \"password\": true}", "auth.password");
    expect_field("{\"type\": \"basic\", \"username\": \"u\", \"password\": \"p\\n\"}",
                 "auth.password");
}

static void test_api_key_errors(void **state)
{
    (void)state;
    expect_ok("{\"type\": \"api_key\", \"name\": \"X-Api-Key\", \"key\": \"k\"}");
    expect_ok("{\"type\": \"api_key\", \"name\": \"Authorization\", \"key\": \"Token k\"}");
    expect_ok("{\"type\": \"api_key\", \"name\": \"api key[]\", \"key\": \"k\", \"to\": "
              "\"query\"}");
    expect_field("{\"type\": \"api_key\", \"key\": \"k\"}", "auth.name");
    expect_field("{\"type\": \"api_key\", \"name\": \"X Key\", \"key\": \"k\"}", "auth.name");
    expect_field("{\"type\": \"api_key\", \"name\": \"X-Key:\", \"key\": \"k\"}", "auth.name");
    expect_field("{\"type\": \"api_key\", \"name\": \"X-Key\\r\\nHost\", \"key\": \"k\"}",
                 "auth.name");
    expect_field("{\"type\": \"api_key\", \"name\": \"X-K\\u00e9y\", \"key\": \"k\"}", "auth.name");
    static const char *const reserved[] = {
        "Content-Type",
        "content-length",
        "Host",
        "Transfer-Encoding",
        "webhook-id",
        "webhook-signature",
        "Webhook-Anything",
        "svix-signature",
        "X-Webhook-Signature",
        "x-webhook-id",
        "Proxy-Authorization",
        "User-Agent",
        "Expect",
        "Connection",
    };
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
        char json[256];
        snprintf(json, sizeof(json), "{\"type\": \"api_key\", \"name\": \"%s\", \"key\": \"k\"}",
                 reserved[i]);
        expect_field(json, "auth.name");
        assert_true(dest_auth_header_is_reserved(reserved[i], NULL));
    }
    /* the configured HookBridge prefix replaces X-Webhook- */
    struct dest_auth_rules acme = {false, "X-Acme-"};
    expect_field_rules("{\"type\": \"api_key\", \"name\": \"x-acme-signature\", \"key\": \"k\"}",
                       &acme, "auth.name");
    assert_false(dest_auth_header_is_reserved("X-Webhook-Foo", "X-Acme-"));
    assert_false(dest_auth_header_is_reserved("X-Api-Key", NULL));
    assert_false(dest_auth_header_is_reserved("Authorization", NULL));
    /* a query parameter is not a header: the header rules do not apply */
    expect_ok("{\"type\": \"api_key\", \"name\": \"Content-Type\", \"key\": \"k\", \"to\": "
              "\"query\"}");
    expect_field("{\"type\": \"api_key\", \"name\": \"a\\nb\", \"key\": \"k\", \"to\": "
                 "\"query\"}",
                 "auth.name");
    expect_field("{\"type\": \"api_key\", \"name\": \"X-Key\"}", "auth.key");
    expect_field("{\"type\": \"api_key\", \"name\": \"X-Key\", \"key\": \"\"}", "auth.key");
    expect_field("{\"type\": \"api_key\", \"name\": \"X-Key\", \"key\": \"a\\r\\nb\"}", "auth.key");
    expect_field("{\"type\": \"api_key\", \"name\": \"X-Key\", \"key\": \"k\", \"to\": \"body\"}",
                 "auth.to");
    expect_field("{\"type\": \"api_key\", \"name\": \"X-Key\", \"key\": \"k\", \"to\": 1}",
                 "auth.to");
}

static void test_custom_hmac_errors(void **state)
{
    (void)state;
    expect_ok("{\"type\": \"custom_hmac\", \"header\": \"X-Sig\", \"secret\": \"s\"}");
    expect_ok("{\"type\": \"custom_hmac\", \"header\": \"X-Sig\", \"secret\": \"s\", "
              "\"encoding\": \"base64\"}");
    expect_field("{\"type\": \"custom_hmac\", \"secret\": \"s\"}", "auth.header");
    expect_field("{\"type\": \"custom_hmac\", \"header\": \"X Sig\", \"secret\": \"s\"}",
                 "auth.header");
    expect_field("{\"type\": \"custom_hmac\", \"header\": \"webhook-signature\", \"secret\": "
                 "\"s\"}",
                 "auth.header");
    expect_field("{\"type\": \"custom_hmac\", \"header\": \"Content-Type\", \"secret\": \"s\"}",
                 "auth.header");
    expect_field("{\"type\": \"custom_hmac\", \"header\": \"X-Sig\"}", "auth.secret");
    expect_field("{\"type\": \"custom_hmac\", \"header\": \"X-Sig\", \"secret\": \"\"}",
                 "auth.secret");
    expect_field("{\"type\": \"custom_hmac\", \"header\": \"X-Sig\", \"secret\": \"a\\rb\"}",
                 "auth.secret");
    expect_field("{\"type\": \"custom_hmac\", \"header\": \"X-Sig\", \"secret\": \"s\", "
                 "\"encoding\": \"hex64\"}",
                 "auth.encoding");
}

#define OAUTH(extra)                                                                               \
    "{\"type\": \"oauth2_client_credentials\", \"token_url\": \"https://auth.example/token\", "    \
    "\"client_id\": \"cid\", \"client_secret\": \"csecret\"" extra "}"

static void test_oauth2_errors(void **state)
{
    (void)state;
    expect_ok(OAUTH(""));
    expect_ok(OAUTH(", \"scope\": \"read write\", \"client_auth\": \"body\""));
    expect_ok(OAUTH(", \"scope\": null"));
    expect_field("{\"type\": \"oauth2_client_credentials\", \"client_id\": \"c\", "
                 "\"client_secret\": \"s\"}",
                 "auth.token_url");
    static const char *const bad_urls[] = {
        "",
        "ftp://auth.example/token",
        "http://auth.example/token", /* https unless --allow-http */
        "https://user:pw@auth.example/token",
        "https://",
        "auth.example/token",
        "https://auth.example/to ken",
    };
    for (size_t i = 0; i < sizeof(bad_urls) / sizeof(bad_urls[0]); i++) {
        char json[512];
        snprintf(json, sizeof(json),
                 "{\"type\": \"oauth2_client_credentials\", \"token_url\": \"%s\", "
                 "\"client_id\": \"c\", \"client_secret\": \"s\"}",
                 bad_urls[i]);
        expect_field(json, "auth.token_url");
    }
    struct dest_auth a;
    struct err_detail d;
    assert_int_equal(parse(&a,
                           "{\"type\": \"oauth2_client_credentials\", \"token_url\": "
                           "\"http://auth.example/token\", \"client_id\": \"c\", "
                           "\"client_secret\": \"s\"}",
                           &d),
                     ERR_INVAL);
    assert_string_equal(d.msg, "'auth.token_url' must use https");
    struct dest_auth_rules http_ok = {true, NULL};
    assert_int_equal(parse_with(&a,
                                "{\"type\": \"oauth2_client_credentials\", \"token_url\": "
                                "\"http://auth.example/token\", \"client_id\": \"c\", "
                                "\"client_secret\": \"s\"}",
                                NULL, &http_ok, &d),
                     ERR_OK);
    dest_auth_release(&a);

    expect_field("{\"type\": \"oauth2_client_credentials\", \"token_url\": "
                 "\"https://a.example/t\", \"client_secret\": \"s\"}",
                 "auth.client_id");
    expect_field("{\"type\": \"oauth2_client_credentials\", \"token_url\": "
                 "\"https://a.example/t\", \"client_id\": \"c\"}",
                 "auth.client_secret");
    expect_field("{\"type\": \"oauth2_client_credentials\", \"token_url\": "
                 "\"https://a.example/t\", \"client_id\": \"c\", \"client_secret\": \"\"}",
                 "auth.client_secret");
    expect_field(OAUTH(", \"client_auth\": \"post\""), "auth.client_auth");
    expect_field(OAUTH(", \"scope\": [\"read\"]"), "auth.scope");
    expect_field(OAUTH(", \"scope\": \"read\\nwrite\""), "auth.scope");
    expect_field(OAUTH(", \"token_url\": 1"), "auth.token_url"); /* the last duplicate wins */
    /* a colon in client_id cannot go into HTTP Basic, but can go into the form */
    expect_field("{\"type\": \"oauth2_client_credentials\", \"token_url\": "
                 "\"https://a.example/t\", \"client_id\": \"a:b\", \"client_secret\": \"s\"}",
                 "auth.client_id");
    expect_ok("{\"type\": \"oauth2_client_credentials\", \"token_url\": "
              "\"https://a.example/t\", \"client_id\": \"a:b\", \"client_secret\": \"s\", "
              "\"client_auth\": \"body\"}");
}

static void test_too_large(void **state)
{
    (void)state;
    /* each field within its limit, the whole over DEST_AUTH_JSON_MAX */
    char *json = malloc(8192);
    char url[2001], secret[DEST_AUTH_SECRET_MAX + 1], scope[DEST_AUTH_SCOPE_MAX + 1];
    memset(url, 'u', sizeof(url) - 1);
    url[sizeof(url) - 1] = '\0';
    memset(secret, 's', sizeof(secret) - 1);
    secret[sizeof(secret) - 1] = '\0';
    memset(scope, 'r', sizeof(scope) - 1);
    scope[sizeof(scope) - 1] = '\0';
    snprintf(
        json, 8192,
        "{\"type\": \"oauth2_client_credentials\", \"token_url\": \"https://a.example/%.1900s\", "
        "\"client_id\": \"c\", \"client_secret\": \"%s\", \"scope\": \"%s\"}",
        url, secret, scope);
    struct dest_auth a;
    struct err_detail d;
    assert_int_equal(parse(&a, json, &d), ERR_LIMIT);
    assert_string_equal(d.field, "auth");
    assert_int_equal(a.type, DEST_AUTH_NONE);
    free(json);
}

static void test_secret_kept_from_prev(void **state)
{
    (void)state;
    struct dest_auth prev, next;
    struct err_detail d;
    assert_int_equal(parse(&prev, OAUTH(", \"scope\": \"a\""), &d), ERR_OK);
    /* what GET showed, sent back with a new scope: the secret stays */
    assert_int_equal(parse_with(&next,
                                "{\"type\": \"oauth2_client_credentials\", \"token_url\": "
                                "\"https://auth.example/token\", \"client_id\": \"cid\", "
                                "\"hint\": \"cret\", \"scope\": \"b\"}",
                                &prev, NULL, &d),
                     ERR_OK);
    assert_string_equal(next.secret, "csecret");
    assert_string_equal(next.scope, "b");
    dest_auth_release(&next);
    /* another type does not inherit it */
    assert_int_equal(
        parse_with(&next, "{\"type\": \"bearer\", \"hint\": \"cret\"}", &prev, NULL, &d),
        ERR_INVAL);
    assert_string_equal(d.field, "auth.token");
    /* a given secret replaces it */
    assert_int_equal(parse_with(&next, OAUTH(", \"client_secret\": \"other\""), &prev, NULL, &d),
                     ERR_OK);
    assert_string_equal(next.secret, "other");
    dest_auth_release(&next);
    dest_auth_release(&prev);
}

static void test_public_rendering(void **state)
{
    (void)state;
    expect_public("{\"type\": \"bearer\", \"token\": \"tok_abcdef123456\"}",
                  "{\"hint\":\"3456\",\"type\":\"bearer\"}");
    expect_public(
        "{\"type\": \"basic\", \"username\": \"alice\", \"password\": \"hunter2hunter2\"}",
        "{\"hint\":\"ter2\",\"type\":\"basic\",\"username\":\"alice\"}");
    expect_public("{\"type\": \"api_key\", \"name\": \"X-Api-Key\", \"key\": \"key_0123456789\"}",
                  "{\"hint\":\"6789\",\"name\":\"X-Api-Key\",\"to\":\"header\",\"type\":\"api_"
                  "key\"}");
    expect_public("{\"type\": \"api_key\", \"name\": \"k\", \"key\": \"key_0123456789\", \"to\": "
                  "\"query\"}",
                  "{\"hint\":\"6789\",\"name\":\"k\",\"to\":\"query\",\"type\":\"api_key\"}");
    expect_public("{\"type\": \"custom_hmac\", \"header\": \"X-Sig\", \"secret\": \"shhh-secret\"}",
                  "{\"encoding\":\"hex\",\"header\":\"X-Sig\",\"hint\":\"cret\",\"type\":"
                  "\"custom_hmac\"}");
    /* "csecret" has 7 characters: at most half, 3, are shown */
    expect_public(OAUTH(", \"scope\": \"read\", \"client_auth\": \"body\""),
                  "{\"client_auth\":\"body\",\"client_id\":\"cid\",\"hint\":\"ret\",\"scope\":"
                  "\"read\",\"token_url\":\"https://auth.example/token\",\"type\":\"oauth2_client_"
                  "credentials\"}");
    expect_public(OAUTH(""), "{\"client_auth\":\"basic\",\"client_id\":\"cid\",\"hint\":\"ret\","
                             "\"token_url\":\"https://auth.example/token\",\"type\":\"oauth2_"
                             "client_credentials\"}");
    /* the last 4 characters, not bytes */
    expect_public("{\"type\": \"bearer\", \"token\": \"p\\u00e4ssw\\u00f6rd\\u20ac\\u20ac\"}",
                  "{\"hint\":\"rd\xe2\x82\xac\xe2\x82\xac\",\"type\":\"bearer\"}");
    /* short secrets show at most half */
    expect_public("{\"type\": \"bearer\", \"token\": \"12345678\"}",
                  "{\"hint\":\"5678\",\"type\":\"bearer\"}");
    expect_public("{\"type\": \"bearer\", \"token\": \"abcd\"}",
                  "{\"hint\":\"cd\",\"type\":\"bearer\"}");
    expect_public("{\"type\": \"bearer\", \"token\": \"abc\"}",
                  "{\"hint\":\"c\",\"type\":\"bearer\"}");
    expect_public("{\"type\": \"bearer\", \"token\": \"a\"}",
                  "{\"hint\":\"\",\"type\":\"bearer\"}");
    expect_public("{\"type\": \"basic\", \"username\": \"k\", \"password\": \"\"}",
                  "{\"hint\":\"\",\"type\":\"basic\",\"username\":\"k\"}");
}

static void test_stored_round_trip(void **state)
{
    (void)state;
    static const char *const configs[] = {
        "{\"type\": \"bearer\", \"token\": \"t\\\"q\\\\uote\"}",
        "{\"type\": \"basic\", \"username\": \"u\", \"password\": \"p\\u00e4\"}",
        "{\"type\": \"api_key\", \"name\": \"k k\", \"key\": \"v\", \"to\": \"query\"}",
        "{\"type\": \"custom_hmac\", \"header\": \"X-Sig\", \"secret\": \"s\", \"encoding\": "
        "\"base64\"}",
        OAUTH(", \"scope\": \"a b\", \"client_auth\": \"body\""),
    };
    for (size_t i = 0; i < sizeof(configs) / sizeof(configs[0]); i++) {
        struct dest_auth a, b;
        struct err_detail d;
        assert_int_equal(parse(&a, configs[i], &d), ERR_OK);
        char *full = dest_auth_to_json(&a);
        assert_non_null(full);
        assert_int_equal(dest_auth_from_json(&b, full, strlen(full), &d), ERR_OK);
        char *again = dest_auth_to_json(&b);
        assert_string_equal(full, again);
        assert_int_equal(a.type, b.type);
        assert_string_equal(a.secret, b.secret);
        /* the public form never carries the secret */
        json_t *p = dest_auth_public_json(&b);
        char *pub = json_dumps(p, JSON_COMPACT);
        assert_null(strstr(pub, "\"token\""));
        assert_null(strstr(pub, "\"password\""));
        assert_null(strstr(pub, "\"key\""));
        assert_null(strstr(pub, "\"secret\""));
        assert_null(strstr(pub, "\"client_secret\""));
        free(pub);
        json_decref(p);
        dest_auth_json_free(again);
        dest_auth_json_free(full);
        dest_auth_release(&a);
        dest_auth_release(&b);
    }
    /* what was valid when stored loads even if the rules changed since */
    struct dest_auth a;
    struct err_detail d;
    const char *old = "{\"type\":\"oauth2_client_credentials\",\"token_url\":\"http://a.example/"
                      "t\",\"client_id\":\"c\",\"client_secret\":\"s\",\"client_auth\":\"basic\"}";
    assert_int_equal(dest_auth_from_json(&a, old, strlen(old), &d), ERR_OK);
    dest_auth_release(&a);
    assert_int_equal(dest_auth_from_json(&a, "[1]", 3, &d), ERR_INVAL);
    assert_int_equal(dest_auth_from_json(&a, "{\"type\":\"bearer\"}", 17, &d), ERR_INVAL);
    assert_string_equal(d.field, "auth.token");
}

static void test_headers(void **state)
{
    (void)state;
    expect_header("{\"type\": \"bearer\", \"token\": \"abc.def\"}", "{}", NULL, "Authorization",
                  "Bearer abc.def");
    /* RFC 7617 §2 */
    expect_header("{\"type\": \"basic\", \"username\": \"Aladdin\", \"password\": \"open "
                  "sesame\"}",
                  "{}", NULL, "Authorization", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    expect_header("{\"type\": \"basic\", \"username\": \"sk_1\", \"password\": \"\"}", "{}", NULL,
                  "Authorization", "Basic c2tfMTo=");
    expect_header("{\"type\": \"api_key\", \"name\": \"X-Api-Key\", \"key\": \"k 1\"}", "{}", NULL,
                  "X-Api-Key", "k 1");
    /* RFC 4231 test case 2 */
    expect_header("{\"type\": \"custom_hmac\", \"header\": \"X-Sig\", \"secret\": \"Jefe\"}",
                  "what do ya want for nothing?", NULL, "X-Sig",
                  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    expect_header("{\"type\": \"custom_hmac\", \"header\": \"X-Sig\", \"secret\": \"Jefe\", "
                  "\"encoding\": \"base64\"}",
                  "what do ya want for nothing?", NULL, "X-Sig",
                  "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=");
    /* the secret is used as its UTF-8 bytes (openssl dgst -hmac 'sëcret') */
    expect_header("{\"type\": \"custom_hmac\", \"header\": \"X-Sig\", \"secret\": "
                  "\"s\\u00ebcret\"}",
                  "{\"id\":1}", NULL, "X-Sig",
                  "2bc589978ae31dc6b83ed84eb36cea83b3294a2da3acdd556c08240527655690");
    expect_header(OAUTH(""), "{}", "eyJhbGciOi.x-y_z~+/=", "Authorization",
                  "Bearer eyJhbGciOi.x-y_z~+/=");

    /* oauth2 needs a usable token */
    struct dest_auth a;
    struct dest_auth_result r;
    struct err_detail d;
    assert_int_equal(parse(&a, OAUTH(""), &d), ERR_OK);
    assert_int_equal(dest_auth_apply(&a, "https://x.test/", "{}", 2, NULL, &r, &d), ERR_INVAL);
    assert_int_equal(dest_auth_apply(&a, "https://x.test/", "{}", 2, "", &r, &d), ERR_INVAL);
    assert_int_equal(dest_auth_apply(&a, "https://x.test/", "{}", 2, "ab\r\nX: y", &r, &d),
                     ERR_INVAL);
    assert_int_equal(dest_auth_apply(&a, "https://x.test/", "{}", 2, "a b", &r, &d), ERR_INVAL);
    assert_null(r.header_name);
    dest_auth_release(&a);
}

#define QUERY_KEY                                                                                  \
    "{\"type\": \"api_key\", \"name\": \"api_key\", \"key\": \"k1\", \"to\": \"query\"}"

static void test_query(void **state)
{
    (void)state;
    expect_url(QUERY_KEY, "https://r.example/hook", "https://r.example/hook?api_key=k1");
    expect_url(QUERY_KEY, "https://r.example/hook?a=1", "https://r.example/hook?a=1&api_key=k1");
    expect_url(QUERY_KEY, "https://r.example/hook?", "https://r.example/hook?api_key=k1");
    expect_url(QUERY_KEY, "https://r.example/hook?a=1&", "https://r.example/hook?a=1&api_key=k1");
    expect_url(QUERY_KEY, "https://r.example/hook?a=1#top",
               "https://r.example/hook?a=1&api_key=k1#top");
    expect_url(QUERY_KEY, "https://r.example/hook#a?b", "https://r.example/hook?api_key=k1#a?b");
    expect_url(QUERY_KEY, "https://r.example", "https://r.example?api_key=k1");
    /* both sides percent-encoded; only unreserved characters stay */
    expect_url("{\"type\": \"api_key\", \"name\": \"api key[]\", \"key\": \"a&b=c/+%\\u00e9~._-\", "
               "\"to\": \"query\"}",
               "https://r.example/h?x=1",
               "https://r.example/h?x=1&api%20key%5B%5D=a%26b%3Dc%2F%2B%25%C3%A9~._-");

    struct dest_auth a;
    struct dest_auth_result r;
    struct err_detail d;
    assert_int_equal(parse(&a, QUERY_KEY, &d), ERR_OK);
    assert_int_equal(dest_auth_apply(&a, NULL, "{}", 2, NULL, &r, &d), ERR_INVAL);
    dest_auth_release(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_none_and_shape),
        cmocka_unit_test(test_bearer_errors),
        cmocka_unit_test(test_basic_errors),
        cmocka_unit_test(test_api_key_errors),
        cmocka_unit_test(test_custom_hmac_errors),
        cmocka_unit_test(test_oauth2_errors),
        cmocka_unit_test(test_too_large),
        cmocka_unit_test(test_secret_kept_from_prev),
        cmocka_unit_test(test_public_rendering),
        cmocka_unit_test(test_stored_round_trip),
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_query),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_validate - the send body, custom headers and endpoint URLs: the good
 * path and every error path with its API code.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_scan.h"
#include "core/validate.h"

#define EP "\"endpoint_id\":\"ep_0123456789abcdef0123456789abcdef\""

/* Run validate_send on a C string; expect e and (when not OK) the code. */
static void expect_send(const char *body, enum err e, const char *code, const char *msg_part)
{
    struct send_request r;
    struct err_detail d = {{0}, {0}, {0}};
    enum err got = validate_send(&r, body, strlen(body), &d);
    if (got != e)
        fail_msg("body %.80s: got %s (%s: %s), want %s", body, err_str(got), d.code, d.msg,
                 err_str(e));
    if (e != ERR_OK) {
        assert_string_equal(d.code, code);
        if (msg_part && !strstr(d.msg, msg_part))
            fail_msg("message '%s' lacks '%s'", d.msg, msg_part);
        assert_null(r.payload);
        assert_null(r.headers_json);
    }
    send_request_release(&r);
}

static void test_send_good(void **state)
{
    (void)state;
    const char *body = "{" EP ",\"payload\":{\"b\": [1, 2, {\"c\": \"x\"}], \"a\": true},"
                       "\"headers\":{\"X-Tenant\":\"acme\",\"X-Trace\":\"t 1\"},"
                       "\"idempotency_key\":\"order-42_A\",\"retention_hours\":0,"
                       "\"unknown\":[1]}";
    struct send_request r;
    struct err_detail d = {{0}, {0}, {0}};
    assert_int_equal(validate_send(&r, body, strlen(body), &d), ERR_OK);
    assert_string_equal(r.endpoint_id, "ep_0123456789abcdef0123456789abcdef");
    /* The payload is kept exactly as sent, inner whitespace included. */
    const char *compact = "{\"b\": [1, 2, {\"c\": \"x\"}], \"a\": true}";
    assert_string_equal(r.payload, compact);
    assert_int_equal(r.payload_len, strlen(compact));
    assert_string_equal(r.headers_json, "{\"X-Tenant\":\"acme\",\"X-Trace\":\"t 1\"}");
    assert_string_equal(r.idempotency_key, "order-42_A");
    assert_int_equal(r.retention_hours, 0);

    unsigned char md[32];
    char hex[65];
    assert_int_equal(EVP_Digest(compact, strlen(compact), md, NULL, EVP_sha256(), NULL), 1);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    assert_string_equal(r.payload_sha256, hex);
    send_request_release(&r);
    send_request_release(&r); /* idempotent */
    send_request_release(NULL);
}

static void test_send_minimal(void **state)
{
    (void)state;
    /* Scalars and arrays are payloads too; optional fields may be null. */
    const char *body = "{" EP ",\"payload\":\"hello\",\"headers\":null,\"idempotency_key\":null,"
                       "\"retention_hours\":null}";
    struct send_request r;
    struct err_detail d = {{0}, {0}, {0}};
    assert_int_equal(validate_send(&r, body, strlen(body), &d), ERR_OK);
    assert_string_equal(r.payload, "\"hello\"");
    assert_null(r.headers_json);
    assert_string_equal(r.idempotency_key, "");
    assert_int_equal(r.retention_hours, -1);
    assert_int_equal(strlen(r.payload_sha256), 64);
    send_request_release(&r);

    expect_send("{" EP ",\"payload\":[1,2],\"headers\":{}}", ERR_OK, NULL, NULL);
    expect_send("{" EP ",\"payload\":0}", ERR_OK, NULL, NULL);
    expect_send("{" EP ",\"payload\":{},\"retention_hours\":87600}", ERR_OK, NULL, NULL);
    /* Duplicate keys are tolerated (see test_send_duplicate_keys). */
    expect_send("{" EP ",\"payload\":1,\"payload\":2}", ERR_OK, NULL, NULL);
}

static void test_send_bad_json(void **state)
{
    (void)state;
    expect_send("not json", ERR_INVAL, "INVALID_REQUEST", "line 1");
    expect_send("{\"payload\": }", ERR_INVAL, "INVALID_REQUEST", "column");
    expect_send("", ERR_INVAL, "INVALID_REQUEST", NULL);
    expect_send("[1,2]", ERR_INVAL, "INVALID_REQUEST", "object");
    expect_send("\"str\"", ERR_INVAL, "INVALID_REQUEST", "object");
    expect_send("{" EP ",\"payload\":{}} x", ERR_INVAL, "INVALID_REQUEST", "after");
    expect_send("   ", ERR_INVAL, "INVALID_REQUEST", "end of input");
}

static void test_send_fields(void **state)
{
    (void)state;
    expect_send("{\"payload\":{}}", ERR_INVAL, "INVALID_REQUEST", "endpoint_id");
    expect_send("{\"endpoint_id\":42,\"payload\":{}}", ERR_INVAL, "INVALID_REQUEST", "endpoint_id");
    expect_send("{\"endpoint_id\":\"\",\"payload\":{}}", ERR_INVAL, "INVALID_REQUEST",
                "endpoint_id");
    expect_send("{" EP "}", ERR_INVAL, "INVALID_REQUEST", "payload");
    expect_send("{" EP ",\"payload\":null}", ERR_INVAL, "INVALID_REQUEST", "payload");
    expect_send("{" EP ",\"payload\":{},\"headers\":[]}", ERR_INVAL, "INVALID_HEADERS", "headers");
    expect_send("{" EP ",\"payload\":{},\"headers\":{\"X-A\":1}}", ERR_INVAL, "INVALID_HEADERS",
                "X-A");
    expect_send("{" EP ",\"payload\":{},\"idempotency_key\":5}", ERR_INVAL, "INVALID_REQUEST",
                "idempotency_key");
    expect_send("{" EP ",\"payload\":{},\"idempotency_key\":\"a b\"}", ERR_INVAL, "INVALID_REQUEST",
                "idempotency_key");
    expect_send("{" EP ",\"payload\":{},\"idempotency_key\":\"a/b\"}", ERR_INVAL, "INVALID_REQUEST",
                "idempotency_key");
    expect_send("{" EP ",\"payload\":{},\"idempotency_key\":\"\"}", ERR_INVAL, "INVALID_REQUEST",
                "idempotency_key");
    expect_send("{" EP ",\"payload\":{},\"retention_hours\":-1}", ERR_INVAL, "INVALID_REQUEST",
                "retention_hours");
    expect_send("{" EP ",\"payload\":{},\"retention_hours\":87601}", ERR_INVAL, "INVALID_REQUEST",
                "retention_hours");
    expect_send("{" EP ",\"payload\":{},\"retention_hours\":1.5}", ERR_INVAL, "INVALID_REQUEST",
                "retention_hours");
    expect_send("{" EP ",\"payload\":{},\"retention_hours\":\"24\"}", ERR_INVAL, "INVALID_REQUEST",
                "retention_hours");
}

static void test_idempotency_key_length(void **state)
{
    (void)state;
    char key[300];
    char body[512];
    memset(key, 'k', 255);
    key[255] = '\0';
    snprintf(body, sizeof(body), "{" EP ",\"payload\":1,\"idempotency_key\":\"%s\"}", key);
    expect_send(body, ERR_OK, NULL, NULL);
    memset(key, 'k', 256);
    key[256] = '\0';
    snprintf(body, sizeof(body), "{" EP ",\"payload\":1,\"idempotency_key\":\"%s\"}", key);
    expect_send(body, ERR_INVAL, "INVALID_REQUEST", "idempotency_key");
}

/* A send body whose compact payload is a string of exactly payload_bytes bytes. */
static char *payload_body(size_t payload_bytes)
{
    size_t n = payload_bytes - 2; /* the quotes */
    char *b = malloc(n + 128);
    assert_non_null(b);
    int off = snprintf(b, 128, "{" EP ",\"payload\":\"");
    memset(b + off, 'x', n);
    strcpy(b + off + n, "\"}");
    return b;
}

static void test_payload_limit(void **state)
{
    (void)state;
    char *b = payload_body(VALIDATE_MAX_PAYLOAD_BYTES);
    expect_send(b, ERR_OK, NULL, NULL);
    free(b);
    b = payload_body(VALIDATE_MAX_PAYLOAD_BYTES + 1);
    expect_send(b, ERR_LIMIT, "PAYLOAD_TOO_LARGE", NULL);
    free(b);
}

static void test_depth(void **state)
{
    (void)state;
    enum { N = 100000 };
    char *b = malloc(N + 1);
    assert_non_null(b);
    memset(b, '[', N);
    b[N] = '\0';
    expect_send(b, ERR_INVAL, "INVALID_REQUEST", "nesting");
    struct err_detail d;
    assert_null(validate_parse_json(b, N, &d));
    assert_string_equal(d.code, "INVALID_REQUEST");
    free(b);

    /* Exactly the limit parses (the body object is one level); one more does not. */
    char buf[512];
    int depth = VALIDATE_MAX_JSON_DEPTH;
    int o = 0;
    for (int i = 0; i < depth; i++)
        buf[o++] = '[';
    for (int i = 0; i < depth; i++)
        buf[o++] = ']';
    json_t *j = validate_parse_json(buf, (size_t)o, &d);
    assert_non_null(j);
    json_decref(j);
    o = 0;
    for (int i = 0; i < depth + 1; i++)
        buf[o++] = '[';
    for (int i = 0; i < depth + 1; i++)
        buf[o++] = ']';
    assert_null(validate_parse_json(buf, (size_t)o, &d));

    /* Brackets inside strings do not count. */
    char sb[300];
    o = snprintf(sb, sizeof(sb), "{\"s\":\"");
    for (int i = 0; i < 200; i++)
        sb[o++] = '[';
    o += snprintf(sb + o, sizeof(sb) - (size_t)o, "\\\"[\"}");
    j = validate_parse_json(sb, (size_t)o, &d);
    assert_non_null(j);
    json_decref(j);
}

static void test_headers(void **state)
{
    (void)state;
    struct err_detail d;
    json_t *h = json_object();
    char name[32];
    for (int i = 0; i < VALIDATE_MAX_HEADERS; i++) {
        snprintf(name, sizeof(name), "X-H%d", i);
        json_object_set_new(h, name, json_string("v"));
    }
    assert_int_equal(validate_headers(h, &d), ERR_OK);
    json_object_set_new(h, "X-One-Too-Many", json_string("v"));
    assert_int_equal(validate_headers(h, &d), ERR_INVAL);
    assert_string_equal(d.code, "INVALID_HEADERS");
    assert_non_null(strstr(d.msg, "too many"));
    json_decref(h);

    /* Over 8 KB in total. */
    h = json_object();
    char big[5000];
    memset(big, 'v', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    json_object_set_new(h, "X-A", json_string(big));
    assert_int_equal(validate_headers(h, &d), ERR_OK);
    json_object_set_new(h, "X-B", json_string(big));
    assert_int_equal(validate_headers(h, &d), ERR_INVAL);
    assert_string_equal(d.code, "INVALID_HEADERS");
    json_decref(h);

    /* Forbidden names, case-insensitive, with the documented wording. */
    static const char *const forbidden[] = {
        "Host",
        "authorization",
        "Content-Length",
        "TRANSFER-ENCODING",
        "Connection",
        "Keep-Alive",
        "Upgrade",
        "TE",
        "Trailer",
        "Proxy-Authorization",
        "Proxy-Connection",
        "Expect",
        "Cookie",
        "User-Agent",
        "Content-Type",
        "webhook-id",
        "Webhook-Timestamp",
        "webhook-signature",
        "X-Webhook-Id",
        "x-webhook-timestamp",
        "X-Webhook-Signature",
    };
    for (size_t i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++) {
        h = json_object();
        json_object_set_new(h, forbidden[i], json_string("x"));
        assert_int_equal(validate_headers(h, &d), ERR_INVAL);
        assert_string_equal(d.code, "INVALID_HEADERS");
        char want[128];
        snprintf(want, sizeof(want), "header '%s' is forbidden and cannot be overridden",
                 forbidden[i]);
        assert_string_equal(d.msg, want);
        json_decref(h);
    }

    /* CR/LF/NUL and other control characters in values; bad names. */
    static const char *const bad_values[] = {"a\r\nX-Evil: 1", "a\nb", "a\rb", "a\x01"};
    for (size_t i = 0; i < sizeof(bad_values) / sizeof(bad_values[0]); i++) {
        h = json_object();
        json_object_set_new(h, "X-A", json_string(bad_values[i]));
        assert_int_equal(validate_headers(h, &d), ERR_INVAL);
        assert_string_equal(d.code, "INVALID_HEADERS");
        json_decref(h);
    }
    h = json_object();
    json_object_set_new(h, "X-A", json_stringn("a\0b", 3));
    assert_int_equal(validate_headers(h, &d), ERR_INVAL);
    json_decref(h);
    h = json_object();
    json_object_set_new(h, "X-A", json_string("tab\tis fine"));
    assert_int_equal(validate_headers(h, &d), ERR_OK);
    json_decref(h);

    static const char *const bad_names[] = {"", "X A", "X:A", "X-A\r", "X(A)", "é"};
    for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
        h = json_object();
        json_object_set_new(h, bad_names[i], json_string("v"));
        assert_int_equal(validate_headers(h, &d), ERR_INVAL);
        assert_string_equal(d.code, "INVALID_HEADERS");
        json_decref(h);
    }
    json_t *arr = json_array();
    assert_int_equal(validate_headers(arr, &d), ERR_INVAL);
    json_decref(arr);
}

static void test_send_headers(void **state)
{
    (void)state;
    expect_send("{" EP ",\"payload\":{},\"headers\":{\"Host\":\"evil\"}}", ERR_INVAL,
                "INVALID_HEADERS", "header 'Host' is forbidden and cannot be overridden");
    expect_send("{" EP ",\"payload\":{},\"headers\":{\"X-A\":\"a\\r\\nb\"}}", ERR_INVAL,
                "INVALID_HEADERS", NULL);

    char body[4096];
    int o = snprintf(body, sizeof(body), "{" EP ",\"payload\":{},\"headers\":{");
    for (int i = 0; i < 51; i++)
        o += snprintf(body + o, sizeof(body) - (size_t)o, "%s\"X-H%d\":\"v\"", i ? "," : "", i);
    snprintf(body + o, sizeof(body) - (size_t)o, "}}");
    expect_send(body, ERR_INVAL, "INVALID_HEADERS", "too many");
}

/* Expect body (of len bytes) to be accepted with exactly want as payload bytes and hash. */
static void expect_payload_n(const char *body, size_t len, const char *want, size_t want_len)
{
    struct send_request r;
    struct err_detail d = {{0}, {0}, {0}};
    enum err got = validate_send(&r, body, len, &d);
    if (got != ERR_OK)
        fail_msg("body %.80s: got %s (%s: %s), want ok", body, err_str(got), d.code, d.msg);
    assert_int_equal(r.payload_len, want_len);
    assert_memory_equal(r.payload, want, want_len);
    assert_int_equal(r.payload[want_len], '\0');
    unsigned char md[32];
    char hex[65];
    assert_int_equal(EVP_Digest(want, want_len, md, NULL, EVP_sha256(), NULL), 1);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    assert_string_equal(r.payload_sha256, hex);
    send_request_release(&r);
}

static void expect_payload(const char *body, const char *want)
{
    expect_payload_n(body, strlen(body), want, strlen(want));
}

static void test_send_raw_payload(void **state)
{
    (void)state;
    /* Values jansson cannot represent are valid JSON and pass through untouched. */
    expect_payload("{" EP ",\"payload\":{\"id\":12345678901234567890}}",
                   "{\"id\":12345678901234567890}");
    expect_payload("{" EP ",\"payload\":-123456789012345678901234567890.5e-3}",
                   "-123456789012345678901234567890.5e-3");
    expect_payload("{" EP ",\"payload\":\"a\\u0000b\"}", "\"a\\u0000b\"");
    expect_payload("{" EP ",\"payload\":1e400}", "1e400");
    expect_payload("{" EP ",\"payload\":[1E+2,-0,0.0,-0.5e-7]}", "[1E+2,-0,0.0,-0.5e-7]");
    /* No rounding through a double. */
    expect_payload("{" EP ",\"payload\":{\"x\":0.1}}", "{\"x\":0.1}");
    /* Escapes are not rewritten, raw UTF-8 is not escaped. */
    expect_payload("{" EP ",\"payload\":\"\\u00e9\\/\\ud83d\\ude00 \xc3\xa9 \xf0\x9f\x98\x80\"}",
                   "\"\\u00e9\\/\\ud83d\\ude00 \xc3\xa9 \xf0\x9f\x98\x80\"");
    /* Inner whitespace is kept, outer whitespace trimmed; key order kept. */
    expect_payload("{\n  " EP ",\n  \"payload\" :  \r\n\t{ \"z\" : [ 1 ,\n 2 ] ,\"a\":{}}  \n,"
                   "\"retention_hours\":1\n}\n",
                   "{ \"z\" : [ 1 ,\n 2 ] ,\"a\":{}}");
    expect_payload("{\"payload\":true ," EP "}", "true");
    expect_payload("{\"payload\":\"\"," EP "}", "\"\"");
    /* Unknown fields are only syntax-checked now. */
    expect_send("{" EP ",\"payload\":1,\"extra\":[99999999999999999999999,1e999,\"\\u0000\"]}",
                ERR_OK, NULL, NULL);
    /* A NUL byte inside the body ends nothing: it is an invalid token. */
    static const char nul_body[] = "{" EP ",\"payload\":1}\0";
    struct send_request r;
    struct err_detail d;
    assert_int_equal(validate_send(&r, nul_body, sizeof(nul_body) - 1, &d), ERR_INVAL);
    assert_string_equal(d.code, "INVALID_REQUEST");
    expect_payload_n("{" EP ",\"payload\":\"a\\u0000\"}",
                     strlen("{" EP ",\"payload\":\"a\\u0000\"}"), "\"a\\u0000\"", 9);
}

static void test_send_strict_json(void **state)
{
    (void)state;
    static const char *const bad[] = {
        /* invalid UTF-8 in strings: stray continuation, bad lead, overlong, surrogate,
           above U+10FFFF, truncated, wrong continuation */
        "{" EP ",\"payload\":\"\x80\"}",
        "{" EP ",\"payload\":\"\xff\"}",
        "{" EP ",\"payload\":\"\xc0\xaf\"}",
        "{" EP ",\"payload\":\"\xe0\x80\xaf\"}",
        "{" EP ",\"payload\":\"\xed\xa0\x80\"}",
        "{" EP ",\"payload\":\"\xf4\x90\x80\x80\"}",
        "{" EP ",\"payload\":\"\xf0\x9f\x98\"}",
        "{" EP ",\"payload\":\"\xc3\x28\"}",
        "{" EP ",\"\xc3\":1,\"payload\":1}",
        /* trailing garbage and trailing commas */
        "{" EP ",\"payload\":{}}x",
        "{" EP ",\"payload\":{}}{}",
        "{" EP ",\"payload\":{}},",
        "{" EP ",\"payload\":{},}",
        "{" EP ",\"payload\":[1,2,]}",
        "{" EP ",\"payload\":{\"a\":1,}}",
        "{" EP ",\"payload\":[,1]}",
        "{," EP ",\"payload\":1}",
        /* numbers */
        "{" EP ",\"payload\":01}",
        "{" EP ",\"payload\":-01}",
        "{" EP ",\"payload\":-}",
        "{" EP ",\"payload\":1.}",
        "{" EP ",\"payload\":.5}",
        "{" EP ",\"payload\":+1}",
        "{" EP ",\"payload\":1e}",
        "{" EP ",\"payload\":1e+}",
        "{" EP ",\"payload\":0x10}",
        "{" EP ",\"payload\":NaN}",
        "{" EP ",\"payload\":Infinity}",
        /* literals, strings, escapes, structure */
        "{" EP ",\"payload\":tru}",
        "{" EP ",\"payload\":True}",
        "{" EP ",\"payload\":nul}",
        "{" EP ",\"payload\":'a'}",
        "{" EP ",\"payload\":\"a\nb\"}",
        "{" EP ",\"payload\":\"a\tb\"}",
        "{" EP ",\"payload\":\"\\x41\"}",
        "{" EP ",\"payload\":\"\\u12G4\"}",
        "{" EP ",\"payload\":\"\\u12\"}",
        "{" EP ",\"payload\":\"abc}",
        "{" EP ",\"payload\":\"abc\\",
        "{" EP ",\"payload\":{\"a\" 1}}",
        "{" EP ",\"payload\":{1:2}}",
        "{" EP ",\"payload\":[1 2]}",
        "{" EP ",\"payload\":1",
        "{" EP ",payload:1}",
        "{" EP ",\"payload\":1 /* c */}",
        "\xef\xbb\xbf{" EP ",\"payload\":1}",
        "{" EP ",\"payload\":1}\f",
        "{" EP ",\"payload\":\x01}",
        /* lone surrogates are rejected */
        "{" EP ",\"payload\":\"\\ud800\"}",
        "{" EP ",\"payload\":\"\\udc00\"}",
        "{" EP ",\"payload\":\"\\ud800\\u0041\"}",
        "{" EP ",\"payload\":\"\\ud800\\ud800\"}",
        "{" EP ",\"payload\":\"\\ude00\\ud83d\"}",
        "{" EP ",\"payload\":\"\\ud800\\n\"}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_send(bad[i], ERR_INVAL, "INVALID_REQUEST", "invalid JSON at line");

    expect_send("{" EP ",\"payload\":\"\xc3\x28\"}", ERR_INVAL, "INVALID_REQUEST", "UTF-8");
    expect_send("{" EP ",\"payload\":[1,2,]}", ERR_INVAL, "INVALID_REQUEST", "column");
    expect_send("{" EP ",\"payload\":01}", ERR_INVAL, "INVALID_REQUEST", "leading zeros");
    expect_send("{" EP ",\"payload\":\"\\ud800\"}", ERR_INVAL, "INVALID_REQUEST", "surrogate");
    expect_send("{" EP ",\"payload\":{}} x", ERR_INVAL, "INVALID_REQUEST", "column 68");
    /* Line and column (1-based, in bytes) point at the offending byte. */
    expect_send("{\n" EP ",\n\"payload\": [1,\n  2,]}", ERR_INVAL, "INVALID_REQUEST",
                "line 4, column 5");
    /* Valid edge cases: every other escape, a surrogate pair, 4-byte UTF-8 boundaries. */
    expect_payload("{" EP ",\"payload\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\uFFFF\\uDBFF\\uDFFF\"}",
                   "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\uFFFF\\uDBFF\\uDFFF\"");
    expect_payload("{" EP ",\"payload\":\"\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80"
                   "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\x7f\"}",
                   "\"\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80"
                   "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\x7f\"");
}

/* Decode body (must be OK) into r; the caller releases it. */
static void decode_ok(struct send_request *r, const char *body)
{
    struct err_detail d = {{0}, {0}, {0}};
    enum err got = validate_send(r, body, strlen(body), &d);
    if (got != ERR_OK)
        fail_msg("body %.80s: got %s (%s: %s)", body, err_str(got), d.code, d.msg);
}

/*
 * Plain strings and integers of up to 18 digits are read straight from the
 * scanned bytes; escaped strings and other numbers go through jansson. Both
 * paths give the same values and the same errors.
 */
static void test_send_field_decoding_paths(void **state)
{
    (void)state;
    struct send_request r;
    decode_ok(&r, "{\"endpoint_id\":\"ep_\\u0061b\xc3\xa9\",\"payload\":1,"
                  "\"idempotency_key\":\"k\\u002d1\",\"retention_hours\":-0}");
    assert_string_equal(r.endpoint_id, "ep_ab\xc3\xa9");
    assert_string_equal(r.idempotency_key, "k-1");
    assert_int_equal(r.retention_hours, 0);
    send_request_release(&r);
    decode_ok(&r, "{\"endpoint_id\":\"ep_ab\xc3\xa9\",\"payload\":1,\"idempotency_key\":\"k-1\","
                  "\"retention_hours\":87600}");
    assert_string_equal(r.endpoint_id, "ep_ab\xc3\xa9");
    assert_string_equal(r.idempotency_key, "k-1");
    assert_int_equal(r.retention_hours, 87600);
    send_request_release(&r);

    expect_send("{\"endpoint_id\":\"ep_\\u0000\",\"payload\":1}", ERR_INVAL, "INVALID_REQUEST",
                "cannot decode 'endpoint_id'");
    expect_send("{\"endpoint_id\":\"\",\"payload\":1}", ERR_INVAL, "INVALID_REQUEST",
                "endpoint_id must be 1 to");
    expect_send("{\"endpoint_id\":\"\\u0065\",\"payload\":1,\"idempotency_key\":\"\\u0020\"}",
                ERR_INVAL, "INVALID_REQUEST", "idempotency_key must be 1 to");
    /* 18 digits: read directly; 19 or 20 digits and exponents: jansson. */
    expect_send("{" EP ",\"payload\":1,\"retention_hours\":999999999999999999}", ERR_INVAL,
                "INVALID_REQUEST", "retention_hours must be between 0 and 87600");
    expect_send("{" EP ",\"payload\":1,\"retention_hours\":-999999999999999999}", ERR_INVAL,
                "INVALID_REQUEST", "retention_hours must be between 0 and 87600");
    expect_send("{" EP ",\"payload\":1,\"retention_hours\":9223372036854775807}", ERR_INVAL,
                "INVALID_REQUEST", "retention_hours must be between 0 and 87600");
    expect_send("{" EP ",\"payload\":1,\"retention_hours\":99999999999999999999}", ERR_INVAL,
                "INVALID_REQUEST", "cannot decode 'retention_hours'");
    expect_send("{" EP ",\"payload\":1,\"retention_hours\":1e2}", ERR_INVAL, "INVALID_REQUEST",
                "retention_hours must be an integer");
}

static void test_send_duplicate_keys(void **state)
{
    (void)state;
    /* The last member with a given key wins, as with jansson before. */
    expect_payload("{" EP ",\"payload\":1,\"payload\":[2]}", "[2]");
    expect_payload("{" EP ",\"payload\":null,\"payload\":3}", "3");
    expect_send("{" EP ",\"payload\":3,\"payload\":null}", ERR_INVAL, "INVALID_REQUEST",
                "must not be null");
    expect_send("{\"endpoint_id\":5," EP ",\"payload\":1}", ERR_OK, NULL, NULL);
    expect_send("{" EP ",\"endpoint_id\":5,\"payload\":1}", ERR_INVAL, "INVALID_REQUEST",
                "endpoint_id must be a string");
    expect_send("{" EP ",\"payload\":1,\"retention_hours\":\"x\",\"retention_hours\":5}", ERR_OK,
                NULL, NULL);
    /* Keys are compared after unescaping. */
    expect_payload("{" EP ",\"pay\\u006coad\":4}", "4");
    expect_payload("{" EP ",\"payload\":4,\"p\\u0061yload\":5}", "5");
    expect_payload("{" EP ",\"payload\":4,\"payload\\u0000\":5,\"Payload\":6,\"payloa\":7}", "4");
}

static void test_send_small_fields(void **state)
{
    (void)state;
    /* The small fields are decoded by jansson; what it cannot hold is INVALID_REQUEST. */
    expect_send("{\"endpoint_id\":\"ep\\u0000x\",\"payload\":1}", ERR_INVAL, "INVALID_REQUEST",
                "endpoint_id");
    expect_send("{" EP ",\"payload\":1,\"retention_hours\":12345678901234567890}", ERR_INVAL,
                "INVALID_REQUEST", "retention_hours");
    expect_send("{" EP ",\"payload\":1,\"retention_hours\":1e400}", ERR_INVAL, "INVALID_REQUEST",
                "retention_hours");
    expect_send("{" EP ",\"payload\":1,\"headers\":{\"X-A\":\"a\\u0000b\"}}", ERR_INVAL,
                "INVALID_REQUEST", "headers");
    expect_send("{" EP ",\"payload\":1,\"idempotency_key\":\"k\\u0000\"}", ERR_INVAL,
                "INVALID_REQUEST", "idempotency_key");
    expect_send("{\"endpoint_id\" : \"ep_1\" , \"payload\" : 1 , \"headers\" : { \"X-A\" : \"b\" } "
                ", \"idempotency_key\" : \"k\" , \"retention_hours\" : 24 }",
                ERR_OK, NULL, NULL);
    struct send_request r;
    struct err_detail d;
    const char *body = "{\"endpoint_id\":\"ep_\\u0031\",\"payload\":1,\"headers\":{ \"X-\\u0041\" :"
                       " \"\\u00e9\" },\"idempotency_key\":\"k\\u002d1\",\"retention_hours\":2e1}";
    assert_int_equal(validate_send(&r, body, strlen(body), &d), ERR_INVAL); /* 2e1 is a real */
    body = "{\"endpoint_id\":\"ep_\\u0031\",\"payload\":1,\"headers\":{ \"X-\\u0041\" :"
           " \"\\u00e9\" },\"idempotency_key\":\"k\\u002d1\",\"retention_hours\":20}";
    assert_int_equal(validate_send(&r, body, strlen(body), &d), ERR_OK);
    assert_string_equal(r.endpoint_id, "ep_1");
    assert_string_equal(r.headers_json, "{\"X-A\":\"\xc3\xa9\"}");
    assert_string_equal(r.idempotency_key, "k-1");
    assert_int_equal(r.retention_hours, 20);
    send_request_release(&r);
}

/* A send body whose payload is nested arrays depth deep (the body object adds one). */
static char *nested_body(int depth, const char *field)
{
    char *b = malloc((size_t)depth * 2 + 256);
    assert_non_null(b);
    int o = sprintf(b, "{" EP ",\"payload\":1,\"%s\":", field);
    for (int i = 0; i < depth; i++)
        b[o++] = '[';
    for (int i = 0; i < depth; i++)
        b[o++] = ']';
    strcpy(b + o, "}");
    return b;
}

static void test_send_depth(void **state)
{
    (void)state;
    /* VALIDATE_MAX_JSON_DEPTH counts the body object, so a member value gets one less. */
    static const char *const fields[] = {"payload", "extra"};
    for (size_t i = 0; i < 2; i++) {
        char *b = nested_body(VALIDATE_MAX_JSON_DEPTH - 1, fields[i]);
        expect_send(b, ERR_OK, NULL, NULL);
        free(b);
        b = nested_body(VALIDATE_MAX_JSON_DEPTH, fields[i]);
        expect_send(b, ERR_INVAL, "INVALID_REQUEST", "nesting deeper than 64 levels");
        free(b);
    }
    expect_send("{" EP ",\"payload\":[{\"a\":[{}]}]}", ERR_OK, NULL, NULL);
}

static void test_json_scan(void **state)
{
    (void)state;
    struct err_detail d;
    size_t pos = 0;
    const char *s = "  [1, {\"a\": \"b\"}] , 2";
    assert_int_equal(json_scan_value(s, strlen(s), &pos, 3, &d), ERR_OK);
    assert_int_equal(pos, 17);
    pos = 19;
    assert_int_equal(json_scan_value(s, strlen(s), &pos, 0, &d), ERR_OK);
    assert_int_equal(pos, strlen(s));
    pos = 0;
    assert_int_equal(json_scan_value(s, strlen(s), &pos, 1, &d), ERR_INVAL);
    assert_non_null(strstr(d.msg, "nesting deeper than 1 levels"));
    assert_int_equal(json_scan_text(s, strlen(s), 3, &d), ERR_INVAL);
    assert_int_equal(json_scan_text(" 0 ", 3, 0, &d), ERR_OK);
    assert_int_equal(json_scan_text("", 0, 3, &d), ERR_INVAL);
    assert_int_equal(json_scan_object("[]", 2, 3, NULL, NULL, &d), ERR_INVAL);
    assert_int_equal(json_scan_object("{}", 2, 3, NULL, NULL, &d), ERR_OK);
    assert_int_equal(json_scan_object("{}", 2, 0, NULL, NULL, &d), ERR_INVAL);

    assert_true(json_scan_key_equals("payload", 7, "payload"));
    assert_true(json_scan_key_equals("", 0, ""));
    assert_false(json_scan_key_equals("payloa", 6, "payload"));
    assert_false(json_scan_key_equals("payloadx", 8, "payload"));
    assert_true(json_scan_key_equals("\\u0070ay\\/\\\"", 12, "pay/\""));
    assert_true(json_scan_key_equals("\\u00e9\\ud83d\\ude00", 18, "\xc3\xa9\xf0\x9f\x98\x80"));
    assert_true(json_scan_key_equals("\xc3\xa9", 2, "\\u00e9") == false);
    assert_false(json_scan_key_equals("a\\u0000", 7, "a"));
    assert_true(json_scan_key_equals("\\b\\f\\n\\r\\t", 10, "\b\f\n\r\t"));
}

static void expect_url(const char *url, bool allow_http, enum err e, const char *msg_part)
{
    struct err_detail d = {{0}, {0}, {0}};
    enum err got = validate_endpoint_url(url, allow_http, &d);
    if (got != e)
        fail_msg("url %.80s (allow_http %d): got %s (%s), want %s", url ? url : "(null)",
                 allow_http, err_str(got), d.msg, err_str(e));
    if (e != ERR_OK) {
        assert_string_equal(d.code, "INVALID_ENDPOINT");
        if (msg_part && !strstr(d.msg, msg_part))
            fail_msg("message '%s' lacks '%s'", d.msg, msg_part);
    }
}

static void test_urls(void **state)
{
    (void)state;
    expect_url("https://example.com/hook", false, ERR_OK, NULL);
    expect_url("https://example.com", false, ERR_OK, NULL);
    expect_url("HTTPS://Example.COM:8443/a/b?x=1&y=2", false, ERR_OK, NULL);
    expect_url("https://[2606:4700::1111]/h", false, ERR_OK, NULL);
    expect_url("https://93.184.216.34/h", false, ERR_OK, NULL);

    expect_url("http://example.com/hook", false, ERR_INVAL, "must use https");
    expect_url("http://example.com/hook", true, ERR_OK, NULL);
    expect_url("http://127.0.0.1:8080/hook", true, ERR_OK, NULL);
    expect_url("ftp://example.com/x", false, ERR_INVAL, "https");
    expect_url("ftp://example.com/x", true, ERR_INVAL, NULL);
    expect_url("example.com/hook", false, ERR_INVAL, NULL);
    expect_url("//example.com/hook", true, ERR_INVAL, NULL);
    expect_url("/hook", true, ERR_INVAL, NULL);

    expect_url("https://user:pass@example.com/", false, ERR_INVAL, "credentials");
    expect_url("https://user@example.com/", false, ERR_INVAL, "credentials");
    expect_url("https://example.com/a@b", false, ERR_OK, NULL);

    expect_url("https://", false, ERR_INVAL, NULL);
    expect_url("https:///path", false, ERR_INVAL, NULL);
    expect_url("https://exa mple.com/", false, ERR_INVAL, NULL);
    expect_url("https://example.com/\r\nX: y", false, ERR_INVAL, NULL);
    expect_url("https://example.com/\t", false, ERR_INVAL, NULL);
    expect_url(" https://example.com/", false, ERR_INVAL, NULL);
    expect_url("https://example.com:99999/", false, ERR_INVAL, NULL);
    expect_url("https://exa<mple.com/", false, ERR_INVAL, NULL);
    expect_url("garbage", false, ERR_INVAL, NULL);
    expect_url("", false, ERR_INVAL, NULL);
    expect_url(NULL, false, ERR_INVAL, NULL);

    /* Length limit. */
    char *u = malloc(VALIDATE_MAX_URL + 2);
    assert_non_null(u);
    int o = snprintf(u, 64, "https://example.com/");
    memset(u + o, 'a', (size_t)(VALIDATE_MAX_URL - o));
    u[VALIDATE_MAX_URL] = '\0';
    expect_url(u, false, ERR_OK, NULL);
    u[VALIDATE_MAX_URL] = 'a';
    u[VALIDATE_MAX_URL + 1] = '\0';
    expect_url(u, false, ERR_INVAL, "longer");
    free(u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_send_good),
        cmocka_unit_test(test_send_minimal),
        cmocka_unit_test(test_send_bad_json),
        cmocka_unit_test(test_send_fields),
        cmocka_unit_test(test_idempotency_key_length),
        cmocka_unit_test(test_payload_limit),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_send_headers),
        cmocka_unit_test(test_send_raw_payload),
        cmocka_unit_test(test_send_strict_json),
        cmocka_unit_test(test_send_duplicate_keys),
        cmocka_unit_test(test_send_field_decoding_paths),
        cmocka_unit_test(test_send_small_fields),
        cmocka_unit_test(test_send_depth),
        cmocka_unit_test(test_json_scan),
        cmocka_unit_test(test_urls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

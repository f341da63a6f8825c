/*
 * test_dedupe - deduplication rules and keys (core/dedupe.c), table-driven
 * from tests/unit/data/dedupe_cases.json: "same" pairs must get equal keys
 * exactly when they say so, "canonical" cases pin the canonical text (and
 * the key is its SHA-256), "invalid" rules must be refused naming the
 * field, "render" rules must come back in their GET shape. Ownership,
 * limits and a pinned key are tested in C below.
 *
 * The data file is found at $HOOKD_DEDUPE_CASES, else relative to the
 * current directory (make runs tests from the repository root), else
 * relative to this binary (build/<flavor>/unit/ -> ../../../tests/...).
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/dedupe.h"

#define CASES_REL "tests/unit/data/dedupe_cases.json"

static json_t *cases; /* the loaded data file, alive for the whole run */

static json_t *load_cases(void)
{
    json_error_t jerr;
    const char *env = getenv("HOOKD_DEDUPE_CASES");
    if (env && *env) {
        json_t *root = json_load_file(env, 0, &jerr);
        if (!root)
            fprintf(stderr, "cannot load %s: %s (line %d)\n", env, jerr.text, jerr.line);
        return root;
    }
    json_t *root = json_load_file(CASES_REL, 0, &jerr);
    if (root)
        return root;
    char exe[PATH_MAX], path[PATH_MAX + 64];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return NULL;
    *slash = '\0';
    snprintf(path, sizeof(path), "%s/../../../%s", exe, CASES_REL);
    root = json_load_file(path, 0, &jerr);
    if (!root)
        fprintf(stderr, "cannot load %s: %s (line %d)\n", path, jerr.text, jerr.line);
    return root;
}

static char *dump(const json_t *v)
{
    return v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : strdup("(none)");
}

static void parse_policy(const json_t *v, struct dedupe_policy *p)
{
    struct err_detail d = {{0}, {0}, {0}};
    dedupe_policy_init(p);
    if (dedupe_policy_parse(v, p, &d) != ERR_OK) {
        char *t = dump(v);
        print_error("policy %s\n", t);
        free(t);
        fail_msg("refused: [%s] %s", d.field, d.msg);
    }
}

/* A message of the data file: {payload, headers?, event_type?}. */
static void key_of(const struct dedupe_policy *p, const json_t *m, char out[DEDUPE_KEY_LEN + 1])
{
    const json_t *payload = json_object_get(m, "payload");
    assert_true(json_is_string(payload));
    dedupe_key(p, json_string_value(payload), json_string_length(payload),
               json_object_get(m, "headers"), json_string_value(json_object_get(m, "event_type")),
               out);
}

static char *canonical_of(const struct dedupe_policy *p, const json_t *m)
{
    const json_t *payload = json_object_get(m, "payload");
    return dedupe_canonical(p, json_string_value(payload), json_string_length(payload),
                            json_object_get(m, "headers"),
                            json_string_value(json_object_get(m, "event_type")));
}

static void sha256_hex(const char *s, char out[DEDUPE_KEY_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    assert_true(EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL));
    assert_int_equal(n, 32);
    for (unsigned int i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* ---- cases from the data file --------------------------------------------- */

static void run_same_case(void **state)
{
    const json_t *c = *state;
    struct dedupe_policy p;
    parse_policy(json_object_get(c, "policy"), &p);
    char ka[DEDUPE_KEY_LEN + 1], kb[DEDUPE_KEY_LEN + 1];
    key_of(&p, json_object_get(c, "a"), ka);
    key_of(&p, json_object_get(c, "b"), kb);
    bool want = json_is_true(json_object_get(c, "same"));
    if ((strcmp(ka, kb) == 0) != want) {
        char *ca = canonical_of(&p, json_object_get(c, "a"));
        char *cb = canonical_of(&p, json_object_get(c, "b"));
        print_error("a %s\nb %s\n", ca, cb);
        free(ca);
        free(cb);
        fail_msg("keys are %s, want %s", want ? "different" : "equal",
                 want ? "equal" : "different");
    }
    dedupe_policy_release(&p);
}

static void run_canonical_case(void **state)
{
    const json_t *c = *state;
    struct dedupe_policy p;
    parse_policy(json_object_get(c, "policy"), &p);
    char *text = canonical_of(&p, c);
    assert_string_equal(text, json_string_value(json_object_get(c, "canonical")));
    char want[DEDUPE_KEY_LEN + 1], got[DEDUPE_KEY_LEN + 1];
    sha256_hex(text, want);
    key_of(&p, c, got);
    assert_string_equal(got, want);
    free(text);
    dedupe_policy_release(&p);
}

static void run_invalid_case(void **state)
{
    const json_t *c = *state;
    const json_t *v = json_object_get(c, "policy");
    const json_t *want = json_object_get(c, "error_contains");
    struct dedupe_policy p;
    struct err_detail d = {{0}, {0}, {0}};

    /* A refused parse leaves the current rule alone. */
    json_t *keep = json_pack("{s:i, s:[s]}", "window_ms", 5000, "include_fields", "body.keep");
    parse_policy(keep, &p);
    json_decref(keep);
    enum err e = dedupe_policy_parse(v, &p, &d);
    if (e != ERR_INVAL) {
        char *t = dump(v);
        print_error("policy %s\n", t);
        free(t);
        fail_msg("dedupe_policy_parse = %s, want %s", err_str(e), err_str(ERR_INVAL));
    }
    assert_string_equal(d.code, DEDUPE_ERR_CODE);
    assert_string_equal(d.field, json_string_value(json_object_get(c, "field")));
    size_t n = json_is_array(want) ? json_array_size(want) : 1;
    for (size_t i = 0; i < n; i++) {
        const json_t *part = json_is_array(want) ? json_array_get(want, i) : want;
        if (!strstr(d.msg, json_string_value(part)))
            fail_msg("message '%s' lacks '%s'", d.msg, json_string_value(part));
    }
    assert_true(strlen(d.msg) < sizeof(d.msg) - 1); /* never truncated */
    assert_int_equal(p.window_ms, 5000);
    assert_int_equal(p.mode, DEDUPE_INCLUDE);
    assert_int_equal(p.n_fields, 1);
    assert_string_equal(p.fields[0], "body.keep");
    /* No detail buffer is needed. */
    assert_int_equal(dedupe_policy_parse(v, &p, NULL), ERR_INVAL);
    dedupe_policy_release(&p);
}

static void run_render_case(void **state)
{
    const json_t *c = *state;
    struct dedupe_policy p;
    parse_policy(json_object_get(c, "policy"), &p);
    json_t *got = dedupe_policy_to_json(&p);
    const json_t *want = json_object_get(c, "render");
    if (!json_equal(got, want)) {
        char *g = dump(got), *w = dump(want);
        print_error("got  %s\nwant %s\n", g, w);
        free(g);
        free(w);
        fail_msg("render differs");
    }
    /* The rendered form parses to the same rule. */
    struct dedupe_policy again;
    parse_policy(got, &again);
    assert_int_equal(again.window_ms, p.window_ms);
    assert_int_equal(again.mode, p.mode);
    assert_int_equal(again.n_fields, p.n_fields);
    for (size_t i = 0; i < p.n_fields; i++)
        assert_string_equal(again.fields[i], p.fields[i]);
    json_decref(got);
    dedupe_policy_release(&again);
    dedupe_policy_release(&p);
}

static void test_cases_well_formed(void **state)
{
    (void)state;
    static const char *const groups[] = {"same", "canonical", "invalid", "render"};
    json_t *names = json_object();
    for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
        const json_t *list = json_object_get(cases, groups[g]);
        assert_true(json_array_size(list) > 0);
        size_t i;
        const json_t *c;
        json_array_foreach(list, i, c)
        {
            const char *name = json_string_value(json_object_get(c, "name"));
            assert_non_null(name);
            if (json_object_get(names, name))
                fail_msg("duplicate case name '%s'", name);
            json_object_set_new(names, name, json_true());
            assert_non_null(json_object_get(c, "policy"));
        }
    }
    json_decref(names);
    /* Both answers occur in every mode. */
    size_t i, equal = 0, differ = 0;
    const json_t *c;
    json_array_foreach(json_object_get(cases, "same"), i, c)
    {
        if (json_is_true(json_object_get(c, "same")))
            equal++;
        else
            differ++;
    }
    assert_true(equal >= 20);
    assert_true(differ >= 20);
}

/* ---- fixed tests ---------------------------------------------------------- */

/* The key format is frozen: a change here changes every stored key. */
static void test_pinned_key(void **state)
{
    (void)state;
    struct dedupe_policy p;
    json_t *v = json_pack("{s:i}", "window_ms", 60000);
    parse_policy(v, &p);
    json_decref(v);
    char key[DEDUPE_KEY_LEN + 1];
    const char *payload = "{ \"id\" : \"evt_1\" }";
    dedupe_key(&p, payload, strlen(payload), NULL, "order.created", key);
    assert_string_equal(key, "c0ad412e9864a6d716ddce14ad2fc362429c215509391457fe737fc00a60d195");
    for (size_t i = 0; i < DEDUPE_KEY_LEN; i++)
        assert_non_null(strchr("0123456789abcdef", key[i]));
    /* The payload's length is what counts, not a NUL. */
    dedupe_key(&p, "{\"id\":\"evt_1\"}xyz", 14, NULL, "order.created", key);
    assert_string_equal(key, "c0ad412e9864a6d716ddce14ad2fc362429c215509391457fe737fc00a60d195");
    /* No payload at all is the raw empty payload. */
    char *t = dedupe_canonical(&p, NULL, 0, NULL, NULL);
    assert_string_equal(t, "{\"body\":{\"$raw_sha256\":"
                           "\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"},"
                           "\"headers\":{}}");
    free(t);
    dedupe_policy_release(&p);
}

static void test_canonical_json(void **state)
{
    (void)state;
    char *t = dedupe_canonical_json(NULL);
    assert_string_equal(t, "null");
    free(t);
    json_t *v =
        json_loads("{\"z\": {\"b\": [3, 2.50, {\"y\": 1, \"x\": 0}], \"a\": null}}", 0, NULL);
    t = dedupe_canonical_json(v);
    assert_string_equal(t, "{\"z\":{\"a\":null,\"b\":[3,2.5,{\"x\":0,\"y\":1}]}}");
    free(t);
    json_decref(v);
    /* Keys with a NUL sort and print by their bytes. */
    v = json_object();
    json_object_setn_new(v, "a\0b", 3, json_integer(1));
    json_object_set_new(v, "a", json_integer(2));
    t = dedupe_canonical_json(v);
    assert_string_equal(t, "{\"a\":2,\"a\\u0000b\":1}");
    free(t);
    json_decref(v);
    /* Deep nesting within jansson's parser limit works. */
    char deep[2 * 1000 + 1];
    memset(deep, '[', 1000);
    memset(deep + 1000, ']', 1000);
    deep[2000] = '\0';
    struct dedupe_policy p;
    json_t *pv = json_pack("{s:i}", "window_ms", 1000);
    parse_policy(pv, &p);
    json_decref(pv);
    t = dedupe_canonical(&p, deep, strlen(deep), NULL, NULL);
    assert_int_equal(strncmp(t, "{\"body\":[[[[", 12), 0);
    assert_int_equal(strlen(t), strlen("{\"body\":,\"headers\":{}}") + 2000);
    free(t);
    dedupe_policy_release(&p);
}

static void test_parse_replaces_and_releases(void **state)
{
    (void)state;
    struct dedupe_policy p;
    dedupe_policy_init(&p);
    assert_int_equal(p.n_fields, 0);
    dedupe_policy_release(&p); /* releasing an empty rule is fine */

    json_t *a = json_loads("{\"window_ms\": 2000, \"include_fields\": [\"body.a\", "
                           "\"headers.X-B\"]}",
                           0, NULL);
    json_t *b = json_loads("{\"window_ms\": 3000, \"exclude_fields\": [\"body.c\"]}", 0, NULL);
    parse_policy(a, &p);
    assert_int_equal(p.mode, DEDUPE_INCLUDE);
    assert_string_equal(p.fields[1], "headers.x-b");
    /* Parsing over a rule frees the old paths (ASan would see a leak). */
    assert_int_equal(dedupe_policy_parse(b, &p, NULL), ERR_OK);
    assert_int_equal(p.window_ms, 3000);
    assert_int_equal(p.mode, DEDUPE_EXCLUDE);
    assert_int_equal(p.n_fields, 1);
    assert_string_equal(p.fields[0], "body.c");
    dedupe_policy_release(&p);
    assert_int_equal(p.n_fields, 0);
    assert_int_equal(p.window_ms, 0);
    json_decref(a);
    json_decref(b);
}

static void test_header_values_of_any_type(void **state)
{
    (void)state;
    /* Unvalidated headers (non-string values) still give a stable key. */
    struct dedupe_policy p;
    json_t *v = json_pack("{s:i}", "window_ms", 1000);
    parse_policy(v, &p);
    json_decref(v);
    json_t *h1 = json_loads("{\"X-A\": {\"b\": 1, \"a\": 2}, \"x-a\": 5, \"X-a\": \"s\"}", 0, NULL);
    json_t *h2 = json_loads("{\"x-A\": \"s\", \"x-a\": {\"a\": 2, \"b\": 1}, \"X-A\": 5}", 0, NULL);
    char k1[DEDUPE_KEY_LEN + 1], k2[DEDUPE_KEY_LEN + 1];
    dedupe_key(&p, "1", 1, h1, NULL, k1);
    dedupe_key(&p, "1", 1, h2, NULL, k2);
    assert_string_equal(k1, k2);
    char *t = dedupe_canonical(&p, "1", 1, h1, NULL);
    assert_string_equal(t, "{\"body\":1,\"headers\":{\"x-a\":[\"s\",5,{\"a\":2,\"b\":1}]}}");
    free(t);
    /* Headers that are not an object are none. */
    json_t *bad = json_string("x");
    dedupe_key(&p, "1", 1, bad, NULL, k1);
    dedupe_key(&p, "1", 1, NULL, NULL, k2);
    assert_string_equal(k1, k2);
    json_decref(bad);
    json_decref(h1);
    json_decref(h2);
    dedupe_policy_release(&p);
}

int main(void)
{
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_cases_well_formed),
        cmocka_unit_test(test_pinned_key),
        cmocka_unit_test(test_canonical_json),
        cmocka_unit_test(test_parse_replaces_and_releases),
        cmocka_unit_test(test_header_values_of_any_type),
    };
    cases = load_cases();
    if (!cases) {
        fprintf(stderr, "test_dedupe: cannot find %s (set HOOKD_DEDUPE_CASES)\n", CASES_REL);
        return 1;
    }
    static const struct {
        const char *group;
        CMUnitTestFunction fn;
    } groups[] = {
        {"same", run_same_case},
        {"canonical", run_canonical_case},
        {"invalid", run_invalid_case},
        {"render", run_render_case},
    };
    size_t n_fixed = sizeof(fixed) / sizeof(fixed[0]), n = n_fixed;
    for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++)
        n += json_array_size(json_object_get(cases, groups[g].group));
    struct CMUnitTest *tests = calloc(n, sizeof(*tests));
    if (!tests)
        abort();
    memcpy(tests, fixed, sizeof(fixed));
    size_t k = n_fixed;
    for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(cases, groups[g].group), i, c)
        {
            tests[k++] = (struct CMUnitTest){json_string_value(json_object_get(c, "name")),
                                             groups[g].fn, NULL, NULL, c};
        }
    }
    int failed = _cmocka_run_group_tests("dedupe", tests, n, NULL, NULL);
    free(tests);
    json_decref(cases);
    return failed;
}

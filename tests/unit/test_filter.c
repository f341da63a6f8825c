/*
 * test_filter - endpoint filters (core/filter.c), table-driven from
 * tests/unit/data/filter_cases.json: every "match" case is validated and
 * evaluated, every "invalid" case must be rejected with its message. The
 * limits (depth, size, path length, evaluation budget) and filters that
 * skipped validation are tested in C below, since their inputs are built.
 *
 * The data file is found at $HOOKD_FILTER_CASES, else relative to the
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/filter.h"

#define CASES_REL "tests/unit/data/filter_cases.json"

static json_t *cases; /* the loaded data file, alive for the whole run */

static json_t *load_cases(void)
{
    json_error_t jerr;
    const char *env = getenv("HOOKD_FILTER_CASES");
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

/* ---- cases from the data file --------------------------------------------- */

static void run_match_case(void **state)
{
    const json_t *c = *state;
    const json_t *filter = json_object_get(c, "filter");
    const json_t *body = json_object_get(c, "body");
    const json_t *headers = json_object_get(c, "headers");
    bool want = json_is_true(json_object_get(c, "match"));

    struct err_detail d = {{0}, {0}, {0}};
    enum err e = filter_validate(filter, &d);
    if (e != ERR_OK)
        fail_msg("filter of a match case is invalid: %s", d.msg);
    bool got = filter_match(filter, body, headers);
    if (got != want) {
        char *f = dump(filter), *b = dump(body), *h = dump(headers);
        print_error("filter  %s\nbody    %s\nheaders %s\n", f, b, h);
        free(f);
        free(b);
        free(h);
        fail_msg("filter_match = %s, want %s", got ? "true" : "false", want ? "true" : "false");
    }
}

static void run_invalid_case(void **state)
{
    const json_t *c = *state;
    const json_t *filter = json_object_get(c, "filter");
    const json_t *want = json_object_get(c, "error_contains");
    struct err_detail d = {{0}, {0}, {0}};

    enum err e = filter_validate(filter, &d);
    if (e != ERR_INVAL) {
        char *f = dump(filter);
        print_error("filter %s\n", f);
        free(f);
        fail_msg("filter_validate = %s, want %s", err_str(e), err_str(ERR_INVAL));
    }
    assert_string_equal(d.code, FILTER_ERR_CODE);
    size_t n = json_is_array(want) ? json_array_size(want) : 1;
    for (size_t i = 0; i < n; i++) {
        const json_t *part = json_is_array(want) ? json_array_get(want, i) : want;
        if (!strstr(d.msg, json_string_value(part)))
            fail_msg("message '%s' lacks '%s'", d.msg, json_string_value(part));
    }
    /* Validation does not depend on a detail buffer being there. */
    assert_int_equal(filter_validate(filter, NULL), ERR_INVAL);
}

/* Every operator appears in the table; collected by walking the filters. */
static void collect_ops(const json_t *v, json_t *seen)
{
    if (json_is_array(v)) {
        size_t i;
        const json_t *item;
        json_array_foreach(v, i, item)
        {
            collect_ops(item, seen);
        }
    } else if (json_is_object(v)) {
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)v, key, val)
        {
            if (key[0] == '$')
                json_object_set_new(seen, key, json_true());
            collect_ops(val, seen);
        }
    }
}

static void test_cases_well_formed(void **state)
{
    (void)state;
    const json_t *match = json_object_get(cases, "match");
    const json_t *invalid = json_object_get(cases, "invalid");
    assert_true(json_array_size(match) >= 100);
    assert_true(json_array_size(invalid) >= 20);

    json_t *names = json_object();
    json_t *seen_true = json_object(), *seen_false = json_object();
    size_t i;
    const json_t *c;
    json_array_foreach(match, i, c)
    {
        const char *name = json_string_value(json_object_get(c, "name"));
        assert_non_null(name);
        if (json_object_get(names, name))
            fail_msg("duplicate case name '%s'", name);
        json_object_set_new(names, name, json_true());
        assert_non_null(json_object_get(c, "filter"));
        assert_true(json_is_boolean(json_object_get(c, "match")));
        collect_ops(json_object_get(c, "filter"),
                    json_is_true(json_object_get(c, "match")) ? seen_true : seen_false);
    }
    json_array_foreach(invalid, i, c)
    {
        const char *name = json_string_value(json_object_get(c, "name"));
        assert_non_null(name);
        if (json_object_get(names, name))
            fail_msg("duplicate case name '%s'", name);
        json_object_set_new(names, name, json_true());
        const json_t *want = json_object_get(c, "error_contains");
        assert_true(json_is_string(want) || json_is_array(want));
    }
    static const char *const all_ops[] = {
        "$eq",         "$neq",      "$gt",    "$gte", "$lt",  "$lte", "$in",  "$nin",
        "$startsWith", "$endsWith", "$exist", "$or",  "$and", "$not", "$ref",
    };
    for (size_t k = 0; k < sizeof(all_ops) / sizeof(all_ops[0]); k++) {
        if (!json_object_get(seen_true, all_ops[k]))
            fail_msg("no case where %s matches", all_ops[k]);
        if (!json_object_get(seen_false, all_ops[k]))
            fail_msg("no case where %s does not match", all_ops[k]);
    }
    json_decref(names);
    json_decref(seen_true);
    json_decref(seen_false);
}

/* ---- limits --------------------------------------------------------------- */

/* {"body": [[...[1]...]]} with `levels` nested arrays. */
static json_t *nested_arrays(int levels)
{
    json_t *v = json_integer(1);
    for (int i = 0; i < levels; i++) {
        json_t *a = json_array();
        json_array_append_new(a, v);
        v = a;
    }
    return v;
}

static void test_depth_limit(void **state)
{
    (void)state;
    struct err_detail d = {{0}, {0}, {0}};
    json_t *ok = json_pack("{s:o}", "body", nested_arrays(FILTER_MAX_DEPTH));
    assert_int_equal(filter_validate(ok, &d), ERR_OK);
    json_t *body = nested_arrays(FILTER_MAX_DEPTH);
    assert_true(filter_match(ok, body, NULL));
    json_decref(body);
    json_decref(ok);

    json_t *deep = json_pack("{s:o}", "body", nested_arrays(FILTER_MAX_DEPTH + 1));
    assert_int_equal(filter_validate(deep, &d), ERR_INVAL);
    assert_non_null(strstr(d.msg, "deeper than 32 levels"));
    json_decref(deep);

    /* Operator objects count as levels too: {"$not": {"$not": ... 1}}. */
    json_t *v = json_integer(1);
    for (int i = 0; i < FILTER_MAX_DEPTH; i++)
        v = json_pack("{s:o}", "$not", v);
    json_t *nots = json_pack("{s:O}", "body", v);
    assert_int_equal(filter_validate(nots, &d), ERR_OK);
    json_decref(nots);
    nots = json_pack("{s:{s:o}}", "body", "$not", v);
    assert_int_equal(filter_validate(nots, &d), ERR_INVAL);
    assert_non_null(strstr(d.msg, "deeper than"));
    json_decref(nots);

    /* Operand literals too. */
    json_t *eq = json_pack("{s:{s:o}}", "body", "$eq", nested_arrays(FILTER_MAX_DEPTH));
    assert_int_equal(filter_validate(eq, &d), ERR_INVAL);
    json_decref(eq);
}

static void test_size_limits(void **state)
{
    (void)state;
    struct err_detail d = {{0}, {0}, {0}};

    /* Values counted: the body object, {"$in": ...}, the array and its items. */
    json_t *list = json_array();
    for (int i = 0; i < FILTER_MAX_NODES - 2; i++)
        json_array_append_new(list, json_integer(i));
    json_t *f = json_pack("{s:{s:{s:o}}}", "body", "id", "$in", list);
    assert_int_equal(filter_validate(f, &d), ERR_INVAL);
    assert_non_null(strstr(d.msg, "too large"));
    json_array_remove(list, 0);
    assert_int_equal(filter_validate(f, &d), ERR_OK);
    json_decref(f);

    char *big = malloc(FILTER_MAX_BYTES + 2);
    assert_non_null(big);
    memset(big, 'a', FILTER_MAX_BYTES + 1);
    big[FILTER_MAX_BYTES + 1] = '\0';
    f = json_pack("{s:{s:s}}", "body", "k", big);
    assert_int_equal(filter_validate(f, &d), ERR_INVAL);
    assert_non_null(strstr(d.msg, "bytes"));
    json_decref(f);
    /* Keys count as well. */
    f = json_pack("{s:{s:i}}", "body", big, 1);
    assert_int_equal(filter_validate(f, &d), ERR_INVAL);
    json_decref(f);
    free(big);

    char path[FILTER_MAX_REF_PATH + 2];
    memset(path, 'p', sizeof(path) - 1);
    path[sizeof(path) - 1] = '\0';
    f = json_pack("{s:{s:{s:s}}}", "body", "a", "$ref", path);
    assert_int_equal(filter_validate(f, &d), ERR_INVAL);
    assert_non_null(strstr(d.msg, "longer than"));
    json_decref(f);
    path[FILTER_MAX_REF_PATH] = '\0';
    f = json_pack("{s:{s:{s:s}}}", "body", "a", "$ref", path);
    assert_int_equal(filter_validate(f, &d), ERR_OK);
    json_decref(f);
}

/* A $ref between two long arrays costs their product; past the budget nothing matches. */
static void test_step_budget(void **state)
{
    (void)state;
    /* a = [0, ..., 0, 1] holds every item of b = [1, ..., 1], found each time at its end. */
    json_t *a = json_array(), *b = json_array();
    for (int i = 0; i < 3000; i++) {
        json_array_append_new(a, json_integer(i == 2999));
        json_array_append_new(b, json_integer(1));
    }
    json_t *body = json_pack("{s:o, s:o}", "a", a, "b", b);
    json_t *f = json_loads("{\"body\": {\"a\": {\"$ref\": \"b\"}}}", 0, NULL);
    assert_non_null(f);
    assert_int_equal(filter_validate(f, NULL), ERR_OK);
    assert_false(filter_match(f, body, NULL)); /* 9M steps: gives up */
    /* Giving up is final: a $not around it does not turn it into a match. */
    json_t *g = json_loads("{\"body\": {\"a\": {\"$not\": {\"$ref\": \"b\"}}}}", 0, NULL);
    assert_false(filter_match(g, body, NULL));
    json_decref(body);

    /* The same with short arrays stays within the budget. */
    body = json_loads("{\"a\": [0, 0, 1], \"b\": [1, 1]}", 0, NULL);
    assert_true(filter_match(f, body, NULL));
    assert_false(filter_match(g, body, NULL));
    json_decref(body);
    json_decref(f);
    json_decref(g);
}

/* Event nesting beyond FILTER_MAX_EVAL_DEPTH gives up (no match) instead of recursing on. */
static void test_eval_depth(void **state)
{
    (void)state;
    json_t *body = nested_arrays(FILTER_MAX_EVAL_DEPTH + 10);
    json_t *f = json_loads("{\"body\": {\"$not\": 5}}", 0, NULL);
    assert_false(filter_match(f, body, NULL));
    json_decref(body);
    body = nested_arrays(20);
    assert_true(filter_match(f, body, NULL));
    json_decref(body);
    json_decref(f);
}

/* filter_match is total on filters that never went through filter_validate. */
static void test_unvalidated_filters(void **state)
{
    (void)state;
    static const struct {
        const char *filter;
        bool want;
    } rows[] = {
        {"{\"body\": {\"a\": {\"$regex\": \"x\"}}}", false},
        {"{\"body\": {\"$or\": 5}}", false},
        {"{\"body\": {\"$and\": {}}}", false},
        {"{\"body\": {\"a\": {\"$exist\": 1}}}", false},
        {"{\"body\": {\"a\": {\"$ref\": 5}}}", false},
        {"{\"body\": {\"a\": {\"$ref\": \"..\"}}}", false},
        {"{\"body\": {\"a\": {\"$in\": 5}}}", false},
        {"{\"body\": {\"a\": {\"$nin\": 5}}}", false},
        {"{\"body\": {\"a\": {\"$gt\": [1]}}}", false},
        {"{\"body\": {\"a\": {\"$startsWith\": 1}}}", false},
        {"{\"body\": {\"a\": 1}, \"query\": {\"x\": 1}}", true},
        {"[1]", false},
        {"\"x\"", false},
    };
    json_t *body = json_loads("{\"a\": 1}", 0, NULL);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        json_t *f = json_loads(rows[i].filter, JSON_DECODE_ANY, NULL);
        assert_non_null(f);
        if (filter_match(f, body, NULL) != rows[i].want)
            fail_msg("%s: want %s", rows[i].filter, rows[i].want ? "true" : "false");
        json_decref(f);
    }
    json_decref(body);
}

static void test_null_filter(void **state)
{
    (void)state;
    assert_int_equal(filter_validate(NULL, NULL), ERR_OK);
    json_t *null = json_null();
    assert_int_equal(filter_validate(null, NULL), ERR_OK);
    assert_true(filter_match(NULL, NULL, NULL));
    assert_true(filter_match(null, NULL, NULL));
    json_decref(null);
}

int main(void)
{
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_cases_well_formed), cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_size_limits),       cmocka_unit_test(test_step_budget),
        cmocka_unit_test(test_eval_depth),        cmocka_unit_test(test_unvalidated_filters),
        cmocka_unit_test(test_null_filter),
    };
    cases = load_cases();
    if (!cases) {
        fprintf(stderr, "test_filter: cannot find %s (set HOOKD_FILTER_CASES)\n", CASES_REL);
        return 1;
    }
    const json_t *match = json_object_get(cases, "match");
    const json_t *invalid = json_object_get(cases, "invalid");
    size_t n_fixed = sizeof(fixed) / sizeof(fixed[0]);
    size_t n = n_fixed + json_array_size(match) + json_array_size(invalid);
    struct CMUnitTest *tests = calloc(n, sizeof(*tests));
    if (!tests)
        abort();
    memcpy(tests, fixed, sizeof(fixed));
    size_t k = n_fixed, i;
    json_t *c;
    json_array_foreach(match, i, c)
    {
        tests[k++] = (struct CMUnitTest){json_string_value(json_object_get(c, "name")),
                                         run_match_case, NULL, NULL, c};
    }
    json_array_foreach(invalid, i, c)
    {
        tests[k++] = (struct CMUnitTest){json_string_value(json_object_get(c, "name")),
                                         run_invalid_case, NULL, NULL, c};
    }
    int failed = _cmocka_run_group_tests("filter", tests, n, NULL, NULL);
    free(tests);
    json_decref(cases);
    return failed;
}

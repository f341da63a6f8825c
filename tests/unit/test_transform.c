/*
 * test_transform - jq transformations (deliver/transform.c and the helper
 * process of transform_helper.c): shapes in and out, skip, compile and run
 * errors, the time and memory budgets, the sandbox, concurrency.
 *
 * Every run goes through real helper processes (this test binary started
 * again as "hookd-transform"). Nothing sleeps: the slow cases are stopped
 * by the budgets under test, and each asserts how long that took. A
 * watchdog alarm ends the binary if anything hangs anyway.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/validate.h"
#include "deliver/transform.h"

#define PAYLOAD "{\"id\":\"evt_1\",\"type\":\"invoice.paid\",\"amount\":1999}"
#define HEADERS "{\"x-tenant\":\"acme\"}"

static struct transform_pool *pool;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct transform_input input(const char *program)
{
    struct transform_input in = {
        .program = program,
        .program_len = strlen(program),
        .payload = PAYLOAD,
        .payload_len = strlen(PAYLOAD),
        .headers_json = HEADERS,
        .event_type = "invoice.paid",
        .endpoint_id = "ep_123",
        .endpoint_url = "https://example.com/hook",
    };
    return in;
}

/* Run program on the default input; returns the error, fills out and d. */
static enum err run(const char *program, struct transform_result *out, struct err_detail *d)
{
    struct transform_input in = input(program);
    memset(d, 0, sizeof(*d));
    return transform_run(pool, &in, out, d);
}

/* Run a program that must fail with e; returns how long it took. */
static int64_t run_fails(const char *program, enum err e, const char *msg_part)
{
    struct transform_result r;
    struct err_detail d;
    int64_t t0 = now_ms();
    enum err got = run(program, &r, &d);
    int64_t took = now_ms() - t0;
    if (got != e || !strstr(d.msg, msg_part))
        print_error("program %s: got %s \"%s\", want %s \"...%s...\"\n", program, err_str(got),
                    d.msg, err_str(e), msg_part);
    assert_int_equal(got, e);
    assert_non_null(strstr(d.msg, msg_part));
    assert_string_equal(d.code, TRANSFORM_FAILED_CODE);
    assert_null(r.body);
    assert_null(r.headers_json);
    return took;
}

static void expect_body(const char *program, const char *body)
{
    struct transform_result r;
    struct err_detail d;
    enum err e = run(program, &r, &d);
    if (e != ERR_OK)
        print_error("program %s: %s\n", program, d.msg);
    assert_int_equal(e, ERR_OK);
    assert_false(r.skip);
    assert_string_equal(r.body, body);
    assert_int_equal(r.body_len, strlen(body));
    transform_result_release(&r);
}

/* ---- shapes --------------------------------------------------------------- */

static void test_identity(void **state)
{
    (void)state;
    struct transform_result r;
    struct err_detail d;
    assert_int_equal(run(".", &r, &d), ERR_OK);
    assert_false(r.skip);
    assert_string_equal(r.body, PAYLOAD);
    assert_string_equal(r.headers_json, HEADERS);
    assert_int_equal(r.headers_len, strlen(HEADERS));
    transform_result_release(&r);
    assert_null(r.body);
}

static void test_change_body(void **state)
{
    (void)state;
    expect_body(".body.extra = 1",
                "{\"id\":\"evt_1\",\"type\":\"invoice.paid\",\"amount\":1999,\"extra\":1}");
    expect_body(".body = {event: .body.type, cents: .body.amount}",
                "{\"event\":\"invoice.paid\",\"cents\":1999}");
    expect_body("{body: [.body.id]}", "[\"evt_1\"]"); /* headers absent: unchanged */
    expect_body(".body = \"text\"", "\"text\"");
    /* whitespace in the payload goes: the body is re-serialised */
    struct transform_input in = input(".");
    in.payload = "{ \"a\" : [1, 2] }";
    in.payload_len = strlen(in.payload);
    struct transform_result r;
    assert_int_equal(transform_run(pool, &in, &r, NULL), ERR_OK);
    assert_string_equal(r.body, "{\"a\":[1,2]}");
    transform_result_release(&r);
}

static void test_headers(void **state)
{
    (void)state;
    struct transform_result r;
    struct err_detail d;
    assert_int_equal(
        run(".headers[\"x-added\"] = \"yes\" | .headers[\"x-type\"] = .body.type", &r, &d), ERR_OK);
    assert_string_equal(r.body, PAYLOAD);
    assert_string_equal(r.headers_json,
                        "{\"x-tenant\":\"acme\",\"x-added\":\"yes\",\"x-type\":\"invoice.paid\"}");
    transform_result_release(&r);

    assert_int_equal(run(".headers = {}", &r, &d), ERR_OK);
    assert_string_equal(r.headers_json, "{}");
    transform_result_release(&r);

    /* no headers in the input: {} */
    struct transform_input in = input(".");
    in.headers_json = NULL;
    assert_int_equal(transform_run(pool, &in, &r, &d), ERR_OK);
    assert_string_equal(r.headers_json, "{}");
    transform_result_release(&r);

    /* the send API's header rules apply to what a program returns */
    run_fails(".headers.x = 1", ERR_INVAL, "value must be a string");
    run_fails(".headers.host = \"evil\"", ERR_INVAL, "forbidden");
    run_fails(".headers[\"bad name\"] = \"v\"", ERR_INVAL, "invalid characters");
    run_fails(".headers = 5", ERR_INVAL, "\"headers\" must be an object, not number");
}

static void test_input_document(void **state)
{
    (void)state;
    expect_body(".body = {et: .event_type, ep: .endpoint, h: .headers}",
                "{\"et\":\"invoice.paid\",\"ep\":{\"id\":\"ep_123\",\"url\":\"https://example.com/"
                "hook\"},\"h\":{\"x-tenant\":\"acme\"}}");
    struct transform_input in = input(".body = [.event_type, .endpoint.id]");
    in.event_type = NULL;
    in.endpoint_id = "ep_\"quoted\"";
    struct transform_result r;
    assert_int_equal(transform_run(pool, &in, &r, NULL), ERR_OK);
    assert_string_equal(r.body, "[null,\"ep_\\\"quoted\\\"\"]");
    transform_result_release(&r);
    /* a body that is not one JSON value (the send API never stores one) */
    in = input(".");
    in.payload = "{\"a\":1} {\"b\":2}";
    in.payload_len = strlen(in.payload);
    struct err_detail d;
    assert_int_equal(transform_run(pool, &in, &r, &d), ERR_INVAL);
    assert_non_null(strstr(d.msg, "input is not JSON"));
    /* event_type and endpoint may be edited; the edits are ignored */
    expect_body(".event_type = \"x\" | .endpoint = 1", PAYLOAD);
}

static void test_skip(void **state)
{
    (void)state;
    struct transform_result r;
    struct err_detail d;
    assert_int_equal(run("null", &r, &d), ERR_OK);
    assert_true(r.skip);
    assert_null(r.body);
    assert_null(r.headers_json);
    assert_int_equal(run("if .event_type == \"invoice.paid\" then null else . end", &r, &d),
                     ERR_OK);
    assert_true(r.skip);
    assert_int_equal(run("if .body.amount > 5000 then . else null end", &r, &d), ERR_OK);
    assert_true(r.skip);
}

/* The examples of docs/policies/transformations.md, on the default input. */
static void test_doc_examples(void **state)
{
    (void)state;
    expect_body(".body = {event: .event_type, id: .body.id, cents: .body.amount}",
                "{\"event\":\"invoice.paid\",\"id\":\"evt_1\",\"cents\":1999}");
    struct transform_result r;
    struct err_detail d;
    assert_int_equal(
        run(".headers[\"x-source\"] = \"hookd\" | .headers[\"x-event-id\"] = .body.id", &r, &d),
        ERR_OK);
    assert_string_equal(r.headers_json,
                        "{\"x-tenant\":\"acme\",\"x-source\":\"hookd\",\"x-event-id\":\"evt_1\"}");
    transform_result_release(&r);
    assert_int_equal(run(".headers |= del(.[\"x-tenant\"])", &r, &d), ERR_OK);
    assert_string_equal(r.headers_json, "{}");
    transform_result_release(&r);
    assert_int_equal(run("if .body.amount >= 10000 then . else null end", &r, &d), ERR_OK);
    assert_true(r.skip);
    expect_body(
        "if .body.livemode == false then null\n"
        "else .body |= (.customer_id = .customer | del(.customer))\nend",
        "{\"id\":\"evt_1\",\"type\":\"invoice.paid\",\"amount\":1999,\"customer_id\":null}");
    expect_body(".body = {event: .event_type, data: .body}",
                "{\"event\":\"invoice.paid\",\"data\":" PAYLOAD "}");
}

/* ---- errors --------------------------------------------------------------- */

static void test_validate(void **state)
{
    (void)state;
    struct err_detail d = {0};
    assert_int_equal(transform_validate(pool, ".body.extra = 1", 15, &d), ERR_OK);
    assert_int_equal(transform_validate(pool, "null", 4, NULL), ERR_OK);

    const char *bad = ".body |||";
    assert_int_equal(transform_validate(pool, bad, strlen(bad), &d), ERR_INVAL);
    assert_string_equal(d.code, TRANSFORM_INVALID_CODE);
    assert_string_equal(d.field, TRANSFORM_FIELD);
    assert_non_null(strstr(d.msg, "does not compile: syntax error"));
    assert_non_null(strstr(d.msg, "line 1"));
    assert_null(strstr(d.msg, "jq: ")); /* the prefix and the summary line are dropped */
    assert_null(strstr(d.msg, "compile error"));

    memset(&d, 0, sizeof(d));
    assert_int_equal(transform_validate(pool, "nosuchfunc(1)", 13, &d), ERR_INVAL);
    assert_non_null(strstr(d.msg, "nosuchfunc/1 is not defined"));

    assert_int_equal(transform_validate(pool, "", 0, &d), ERR_INVAL);
    assert_non_null(strstr(d.msg, "empty"));
    assert_int_equal(transform_validate(pool, ".\0.", 3, &d), ERR_INVAL);
    assert_non_null(strstr(d.msg, "NUL"));
    size_t big = TRANSFORM_MAX_PROGRAM_BYTES + 1;
    char *p = malloc(big);
    memset(p, ' ', big);
    p[0] = '.';
    assert_int_equal(transform_validate(pool, p, big, &d), ERR_LIMIT);
    assert_string_equal(d.field, TRANSFORM_FIELD);
    assert_int_equal(transform_validate(pool, p, big - 1, &d), ERR_OK); /* at the limit */
    free(p);

    /* a run of a program that does not compile is an attempt error */
    run_fails(".body |||", ERR_INVAL, "does not compile");
}

static void test_runtime_errors(void **state)
{
    (void)state;
    run_fails("error(\"x\")", ERR_INVAL, "jq error: x");
    run_fails("error({\"a\":1})", ERR_INVAL, "jq error: {\"a\":1} (not a string)");
    run_fails(".body.amount.x", ERR_INVAL, "Cannot index number with string \"x\"");
    run_fails(". , error(\"late\")", ERR_INVAL, "after the first output: late");
    run_fails("halt", ERR_INVAL, "called halt");
    /* jq 1.6 would call an uninitialised callback here (a crash); its
     * message for "no more inputs" is "break" */
    run_fails("input", ERR_INVAL, "jq error: break");
    expect_body(".body = [inputs]", "[]");
    expect_body(".body = input_filename", "null");
}

static void test_wrong_shape(void **state)
{
    (void)state;
    run_fails("1", ERR_INVAL, "must return an object or null, not number");
    run_fails("[.]", ERR_INVAL, "not array");
    run_fails("{headers: {}}", ERR_INVAL, "has no \"body\"");
    run_fails(".header = {}", ERR_INVAL, "unknown key \"header\"");
    run_fails(".body = (reduce range(100) as $i (1; [.]))", ERR_INVAL, "deeper than 64");
    /* refused before printing: jq 1.6 prints 2 MB slower than the budget */
    run_fails(".body = (reduce range(21) as $i (\"x\"; . + .))", ERR_LIMIT, "over the limit");
}

static void test_output_count(void **state)
{
    (void)state;
    run_fails(". , .", ERR_INVAL, "more than one output");
    run_fails("repeat(.)", ERR_INVAL, "more than one output");
    run_fails("empty", ERR_INVAL, "no output");
    run_fails("error(null)", ERR_INVAL, "no output"); /* jq 1.6: null error = empty */
}

/* ---- budgets -------------------------------------------------------------- */

static void assert_pool_works(void)
{
    expect_body(".body.ok = true",
                "{\"id\":\"evt_1\",\"type\":\"invoice.paid\",\"amount\":1999,\"ok\":true}");
}

static void test_time_budget(void **state)
{
    (void)state;
    /* warm: compile first, so the timing below is the run alone */
    struct err_detail d;
    assert_int_equal(transform_validate(pool, "def f: f; f", 11, &d), ERR_OK);
    int64_t took = run_fails("def f: f; f", ERR_TIMEOUT, "time budget of 50 ms of CPU");
    assert_true(took < 1000);
    assert_pool_works();
    took = run_fails("last(repeat(1))", ERR_TIMEOUT, "time budget");
    assert_true(took < 2000); /* includes its compile */

    /* a budget per run */
    struct transform_input in = input("def f: f; f");
    in.time_budget_ms = 10;
    struct transform_result r;
    int64_t t0 = now_ms();
    assert_int_equal(transform_run(pool, &in, &r, &d), ERR_TIMEOUT);
    assert_true(now_ms() - t0 < 1000);
    assert_non_null(strstr(d.msg, "10 ms"));
    assert_pool_works();
}

static void test_memory_budget(void **state)
{
    (void)state;
    int64_t took = run_fails("reduce range(40) as $i (\"x\"; . + .) | {body: length}", ERR_LIMIT,
                             "memory budget of 16 MiB");
    assert_true(took < 2000);
    assert_pool_works();

    /* slow growth: stopped by memory when the time budget is large */
    struct transform_input in = input("[range(1e9)]");
    in.time_budget_ms = 5000;
    in.memory_budget_bytes = 4 * 1024 * 1024;
    struct transform_result r;
    struct err_detail d;
    int64_t t0 = now_ms();
    assert_int_equal(transform_run(pool, &in, &r, &d), ERR_LIMIT);
    assert_true(now_ms() - t0 < 5000);
    assert_non_null(strstr(d.msg, "memory budget of 4 MiB"));
    assert_pool_works();

    /* a 1 MiB payload fits the default budget */
    size_t n = VALIDATE_MAX_PAYLOAD_BYTES;
    char *big = malloc(n);
    memset(big, 'a', n);
    big[0] = '"';
    big[n - 1] = '"';
    in = input(".body |= length | .body |= {len: .}");
    in.payload = big;
    in.payload_len = n;
    in.time_budget_ms = 2000; /* sanitizer builds parse slowly */
    assert_int_equal(transform_run(pool, &in, &r, &d), ERR_OK);
    assert_string_equal(r.body, "{\"len\":1048574}");
    transform_result_release(&r);
    in.payload_len = n + 1;
    assert_int_equal(transform_run(pool, &in, &r, &d), ERR_LIMIT);
    free(big);
}

/* ---- sandbox -------------------------------------------------------------- */

static void test_sandbox(void **state)
{
    (void)state;
    /* no environment reaches a program (hookd's may hold secrets) */
    expect_body(".body = ($ENV | del(.HOME) | del(.ASAN_OPTIONS, .UBSAN_OPTIONS, .LSAN_OPTIONS))",
                "{}");
    expect_body(".body = env.PATH", "null");

    /* nor any file: a JSON file it could import must stay unreadable */
    char path[] = "/tmp/hookd-transform-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char json[sizeof(path) + 8];
    snprintf(json, sizeof(json), "%s.json", path);
    FILE *f = fopen(json, "w");
    assert_non_null(f);
    fputs("{\"secret\":\"s3cr3t\"}", f);
    fclose(f);
    char prog[256];
    snprintf(prog, sizeof(prog), "import \"%s\" as $s {search: \"/tmp\"}; .body = $s",
             strrchr(path, '/') + 1);
    struct err_detail d;
    enum err e = transform_validate(pool, prog, strlen(prog), &d);
    unlink(json);
    unlink(path);
    assert_int_equal(e, ERR_INVAL);
    assert_non_null(strstr(d.msg, "does not compile"));
    assert_int_equal(transform_validate(pool, "import \"x\" as x; .", 18, &d), ERR_INVAL);
    assert_non_null(strstr(d.msg, "module not found"));
    assert_int_equal(transform_validate(pool, "include \"x\"; .", 14, &d), ERR_INVAL);
    assert_pool_works();
}

/* ---- concurrency and the pool --------------------------------------------- */

#define THREADS 4
#define RUNS_PER_THREAD 25

static void *worker(void *arg)
{
    intptr_t t = (intptr_t)arg;
    char prog[64], want[160];
    snprintf(prog, sizeof(prog), ".body = {t: %d, n: .body.amount}", (int)t);
    snprintf(want, sizeof(want), "{\"t\":%d,\"n\":1999}", (int)t);
    for (int i = 0; i < RUNS_PER_THREAD; i++) {
        struct transform_input in = input(i % 5 == 4 ? "error(\"boom\")" : prog);
        struct transform_result r;
        struct err_detail d;
        enum err e = transform_run(pool, &in, &r, &d);
        if (i % 5 == 4) {
            if (e != ERR_INVAL || !strstr(d.msg, "boom"))
                return (void *)1;
            continue;
        }
        bool ok = e == ERR_OK && r.body && strcmp(r.body, want) == 0;
        transform_result_release(&r);
        if (!ok)
            return (void *)1;
    }
    return NULL;
}

static void test_concurrent(void **state)
{
    (void)state;
    pthread_t th[THREADS];
    for (intptr_t i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, worker, (void *)i), 0);
    int failed = 0;
    for (int i = 0; i < THREADS; i++) {
        void *ret;
        pthread_join(th[i], &ret);
        failed += ret != NULL;
    }
    assert_int_equal(failed, 0);
}

static void test_affinity_and_stats(void **state)
{
    (void)state;
    struct transform_pool *tp;
    struct transform_config cfg = {.helpers = 2};
    assert_int_equal(transform_pool_new(&tp, &cfg, NULL), ERR_OK);
    struct transform_input in = input(".body.a = 1");
    for (int i = 0; i < 5; i++) {
        struct transform_result r;
        assert_int_equal(transform_run(tp, &in, &r, NULL), ERR_OK);
        transform_result_release(&r);
    }
    struct transform_stats st;
    transform_get_stats(tp, &st);
    assert_int_equal(st.runs, 5);
    assert_int_equal(st.compiles, 1); /* the warm helper is chosen every time */
    assert_int_equal(st.helper_starts, 1);
    assert_int_equal(st.failed, 0);

    in.program = "def f: f; f";
    in.program_len = strlen(in.program);
    struct transform_result r;
    assert_int_equal(transform_run(tp, &in, &r, NULL), ERR_TIMEOUT);
    transform_get_stats(tp, &st);
    assert_int_equal(st.failed, 1);
    assert_int_equal(st.helper_deaths, 1);
    transform_pool_free(tp);

    struct err_detail d;
    cfg.helpers = TRANSFORM_MAX_HELPERS + 1;
    assert_int_equal(transform_pool_new(&tp, &cfg, &d), ERR_INVAL);
    assert_null(tp);
    cfg = (struct transform_config){.memory_budget_bytes = 1};
    assert_int_equal(transform_pool_new(&tp, &cfg, &d), ERR_INVAL);
    transform_pool_free(NULL);
}

/* The pids of this process's children (the helpers), from /proc. */
static int children(pid_t *out, int max)
{
    int n = 0;
    DIR *dir = opendir("/proc");
    assert_non_null(dir);
    struct dirent *de;
    while ((de = readdir(dir)) && n < max) {
        char path[300], buf[512];
        if (de->d_name[0] < '0' || de->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t len = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[len] = '\0';
        char *rp = strrchr(buf, ')');
        char state;
        long ppid;
        if (rp && sscanf(rp + 1, " %c %ld", &state, &ppid) == 2 && ppid == (long)getpid())
            out[n++] = (pid_t)atol(de->d_name);
    }
    closedir(dir);
    return n;
}

/* A pool of one started helper, and that helper's pid. */
static struct transform_pool *one_helper_pool(pid_t *pid)
{
    struct transform_pool *tp;
    struct transform_config cfg = {.helpers = 1};
    assert_int_equal(transform_pool_new(&tp, &cfg, NULL), ERR_OK);
    pid_t before[64], after[64];
    int nb = children(before, 64);
    assert_int_equal(transform_validate(tp, ".", 1, NULL), ERR_OK);
    int na = children(after, 64);
    *pid = 0;
    for (int i = 0; i < na; i++) {
        bool old = false;
        for (int j = 0; j < nb; j++)
            old = old || after[i] == before[j];
        if (!old)
            *pid = after[i];
    }
    assert_true(*pid > 0);
    return tp;
}

static void test_helper_killed_while_idle(void **state)
{
    (void)state;
    pid_t pid;
    struct transform_pool *tp = one_helper_pool(&pid);
    kill(pid, SIGKILL);
    siginfo_t si;
    /* wait until it is a zombie, without reaping it (the pool does) */
    assert_int_equal(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
    struct transform_input in = input(".body = 1");
    struct transform_result r;
    struct err_detail d;
    assert_int_equal(transform_run(tp, &in, &r, &d), ERR_OK); /* on a new helper */
    assert_string_equal(r.body, "1");
    transform_result_release(&r);
    struct transform_stats st;
    transform_get_stats(tp, &st);
    assert_int_equal(st.helper_starts, 2);
    assert_int_equal(st.helper_deaths, 1);
    transform_pool_free(tp);
}

static void test_wall_clock_backstop(void **state)
{
    (void)state;
    /* a helper that never answers (stopped) is killed at the wall-clock
     * deadline: compile budget + time budget + slack */
    pid_t pid;
    struct transform_pool *tp = one_helper_pool(&pid);
    assert_int_equal(kill(pid, SIGSTOP), 0);
    struct transform_input in = input(".");
    in.time_budget_ms = 1;
    struct transform_result r;
    struct err_detail d;
    int64_t t0 = now_ms();
    assert_int_equal(transform_run(tp, &in, &r, &d), ERR_TIMEOUT);
    int64_t took = now_ms() - t0;
    assert_non_null(strstr(d.msg, "wall-clock"));
    assert_true(took >= TRANSFORM_COMPILE_BUDGET_MS + TRANSFORM_WALL_SLACK_MS);
    assert_true(took < TRANSFORM_COMPILE_BUDGET_MS + TRANSFORM_WALL_SLACK_MS + 1000);
    assert_int_equal(kill(pid, 0), -1); /* killed and reaped */
    in.time_budget_ms = 0;
    assert_int_equal(transform_run(tp, &in, &r, &d), ERR_OK);
    transform_result_release(&r);
    transform_pool_free(tp);
}

static int setup(void **state)
{
    (void)state;
    struct transform_config cfg = {.helpers = 4};
    return transform_pool_new(&pool, &cfg, NULL) == ERR_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    transform_pool_free(pool);
    pool = NULL;
    return 0;
}

int main(void)
{
    alarm(300); /* watchdog: the budgets under test bound every case */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identity),
        cmocka_unit_test(test_change_body),
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_input_document),
        cmocka_unit_test(test_skip),
        cmocka_unit_test(test_doc_examples),
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_runtime_errors),
        cmocka_unit_test(test_wrong_shape),
        cmocka_unit_test(test_output_count),
        cmocka_unit_test(test_time_budget),
        cmocka_unit_test(test_memory_budget),
        cmocka_unit_test(test_sandbox),
        cmocka_unit_test(test_concurrent),
        cmocka_unit_test(test_affinity_and_stats),
        cmocka_unit_test(test_helper_killed_while_idle),
        cmocka_unit_test(test_wall_clock_backstop),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/*
 * transform_cost - what a jq transformation costs per delivery (BENCHMARKS.md,
 * "Transformations"), and the figures behind the design in deliver/transform.h.
 *
 * Description
 *   Runs `.body.extra = 1` on a ~200-byte payload, one run after another
 *   from one thread, four ways:
 *   (a) in-process libjq: jq_start + jq_next + jv_dump_string on a compiled
 *       program, no sandbox (what a run costs jq itself; not how hookd runs it);
 *   (b) transform_run through a pool of one helper process: CPU of this
 *       process (hookd's side: building the input, the socket round trip,
 *       checking the headers) and of the helper (parse, run, dump, budgets),
 *       read with clock_getcpuclockid, plus wall-clock latency p50/p99;
 *   (c) the first run on a fresh pool: helper start (posix_spawn + exec)
 *       and jq 1.6's compile, wall clock;
 *   (d) fork + _exit + waitpid of this process, the floor of a fork-per-run
 *       design (which would also need a compile or a copy of a compiled state);
 *   (e) identity on a ~1 MiB payload through the pool (the largest body),
 *       helper CPU per run, to compare with the default 50 ms budget.
 *   Each figure is measured REPS times and the median printed with all values.
 *
 * Usage
 *   transform_cost [-n RUNS] [-r REPS]      defaults: -n 20000 -r 3
 *
 * SPDX-License-Identifier: MIT
 */
#include <dirent.h>
#include <jq.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/validate.h"
#include "deliver/transform.h"

#define PROGRAM ".body.extra = 1"
#define PAYLOAD                                                                                    \
    "{\"id\":\"evt_2Zx8KfQ1\",\"type\":\"invoice.paid\",\"created\":1733011200,\"data\":{"         \
    "\"object\":{\"id\":\"in_1Q2w3E\",\"amount_due\":1999,\"currency\":\"usd\",\"customer\":"      \
    "\"cus_9Rt5\",\"lines\":[{\"id\":\"li_1\",\"amount\":1999}],\"status\":\"paid\"}}}"
#define HEADERS "{\"x-tenant\":\"acme\"}"
#define MAX_REPS 9

static double ns_of(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double wall_ns(void)
{
    return ns_of(CLOCK_MONOTONIC);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    double s[MAX_REPS];
    memcpy(s, v, sizeof(double) * (size_t)n);
    qsort(s, (size_t)n, sizeof(double), cmp_double);
    return s[n / 2];
}

static void report(const char *name, const char *unit, double *v, int n)
{
    printf("%-44s %10.1f %s   (", name, median(v, n), unit);
    for (int i = 0; i < n; i++)
        printf("%s%.1f", i ? " · " : "", v[i]);
    printf(")\n");
}

/* The one child of this process that is running (the pool's helper). */
static pid_t helper_pid(void)
{
    pid_t found = 0;
    DIR *dir = opendir("/proc");
    struct dirent *de;
    while (dir && (de = readdir(dir))) {
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
            found = (pid_t)atol(de->d_name);
    }
    if (dir)
        closedir(dir);
    return found;
}

static struct transform_input input(const char *payload, size_t len)
{
    struct transform_input in = {
        .program = PROGRAM,
        .program_len = strlen(PROGRAM),
        .payload = payload,
        .payload_len = len,
        .headers_json = HEADERS,
        .event_type = "invoice.paid",
        .endpoint_id = "ep_2Zx8",
        .endpoint_url = "https://example.com/hooks",
    };
    return in;
}

/* (a): µs of CPU and of wall per in-process run. */
static void inprocess(int runs, double *cpu_us, double *wall_us)
{
    jq_state *jq = jq_init();
    jq_set_attr(jq, jv_string("JQ_LIBRARY_PATH"), jv_array());
    if (!jq_compile(jq, PROGRAM))
        abort();
    const char *doc = "{\"body\":" PAYLOAD ",\"headers\":" HEADERS
                      ",\"event_type\":\"invoice.paid\",\"endpoint\":{\"id\":\"ep_2Zx8\","
                      "\"url\":\"https://example.com/hooks\"}}";
    double c0 = ns_of(CLOCK_PROCESS_CPUTIME_ID), w0 = wall_ns();
    for (int i = 0; i < runs; i++) {
        jq_start(jq, jv_parse_sized(doc, (int)strlen(doc)), 0);
        jv out = jq_next(jq);
        jv more = jq_next(jq);
        jv body = jv_dump_string(jv_object_get(out, jv_string("body")), 0);
        jv_free(more);
        jv_free(body);
    }
    *cpu_us = (ns_of(CLOCK_PROCESS_CPUTIME_ID) - c0) / 1e3 / runs;
    *wall_us = (wall_ns() - w0) / 1e3 / runs;
    jq_teardown(&jq);
}

struct pool_figures {
    double cold_ms, hookd_us, helper_us, wall_us, p50_us, p99_us;
};

/* (b) and (c). */
static void pooled(int runs, struct pool_figures *f)
{
    struct transform_pool *tp;
    struct transform_config cfg = {.helpers = 1};
    if (transform_pool_new(&tp, &cfg, NULL) != ERR_OK)
        abort();
    struct transform_input in = input(PAYLOAD, strlen(PAYLOAD));
    struct transform_result r;
    struct err_detail d;
    double w0 = wall_ns();
    if (transform_run(tp, &in, &r, &d) != ERR_OK) {
        fprintf(stderr, "transform_cost: %s\n", d.msg);
        exit(1);
    }
    f->cold_ms = (wall_ns() - w0) / 1e6;
    transform_result_release(&r);
    clockid_t helper_clock;
    pid_t pid = helper_pid();
    if (pid <= 0 || clock_getcpuclockid(pid, &helper_clock) != 0)
        abort();

    double *lat = malloc(sizeof(double) * (size_t)runs);
    double c0 = ns_of(CLOCK_PROCESS_CPUTIME_ID), h0 = ns_of(helper_clock);
    w0 = wall_ns();
    for (int i = 0; i < runs; i++) {
        double t = wall_ns();
        if (transform_run(tp, &in, &r, &d) != ERR_OK) {
            fprintf(stderr, "transform_cost: %s\n", d.msg);
            exit(1);
        }
        lat[i] = wall_ns() - t;
        transform_result_release(&r);
    }
    f->wall_us = (wall_ns() - w0) / 1e3 / runs;
    f->hookd_us = (ns_of(CLOCK_PROCESS_CPUTIME_ID) - c0) / 1e3 / runs;
    f->helper_us = (ns_of(helper_clock) - h0) / 1e3 / runs;
    qsort(lat, (size_t)runs, sizeof(double), cmp_double);
    f->p50_us = lat[runs / 2] / 1e3;
    f->p99_us = lat[runs * 99 / 100] / 1e3;
    free(lat);
    transform_pool_free(tp);
}

/* (d): µs of CPU (this process + children) and of wall per fork. */
static void forks(int n, double *cpu_us, double *wall_us)
{
    double c0 = ns_of(CLOCK_PROCESS_CPUTIME_ID), w0 = wall_ns();
    double child = 0;
    for (int i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid == 0)
            _exit(0);
        clockid_t cc;
        int st;
        siginfo_t si;
        /* read the child's CPU while it is a zombie, then reap it */
        waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT);
        if (clock_getcpuclockid(pid, &cc) == 0)
            child += ns_of(cc);
        waitpid(pid, &st, 0);
    }
    *cpu_us = (ns_of(CLOCK_PROCESS_CPUTIME_ID) - c0 + child) / 1e3 / n;
    *wall_us = (wall_ns() - w0) / 1e3 / n;
}

/* (e): helper CPU ms per identity run on a ~1 MiB payload. */
static double large(int runs)
{
    size_t cap = VALIDATE_MAX_PAYLOAD_BYTES, len = 0;
    char *p = malloc(cap);
    p[len++] = '[';
    for (int i = 0; len + 120 < cap; i++)
        len += (size_t)snprintf(p + len, cap - len,
                                "%s{\"id\":\"li_%06d\",\"amount\":%d,\"currency\":\"usd\","
                                "\"tags\":[\"a\",\"b\"],\"paid\":true}",
                                i ? "," : "", i, i * 7);
    p[len++] = ']';
    struct transform_pool *tp;
    struct transform_config cfg = {.helpers = 1, .time_budget_ms = TRANSFORM_MAX_TIME_BUDGET_MS};
    if (transform_pool_new(&tp, &cfg, NULL) != ERR_OK)
        abort();
    struct transform_input in = input(p, len);
    in.program = ".";
    in.program_len = 1;
    struct transform_result r;
    struct err_detail d;
    if (transform_run(tp, &in, &r, &d) != ERR_OK) {
        fprintf(stderr, "transform_cost: large: %s\n", d.msg);
        exit(1);
    }
    transform_result_release(&r);
    clockid_t hc;
    if (clock_getcpuclockid(helper_pid(), &hc) != 0)
        abort();
    double h0 = ns_of(hc);
    for (int i = 0; i < runs; i++) {
        if (transform_run(tp, &in, &r, &d) != ERR_OK) {
            fprintf(stderr, "transform_cost: large: %s\n", d.msg);
            exit(1);
        }
        transform_result_release(&r);
    }
    double ms = (ns_of(hc) - h0) / 1e6 / runs;
    transform_pool_free(tp);
    free(p);
    return ms;
}

int main(int argc, char **argv)
{
    int runs = 20000, reps = 3;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "-n") == 0)
            runs = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "-r") == 0)
            reps = atoi(argv[i + 1]);
    }
    if (runs < 100 || reps < 1 || reps > MAX_REPS) {
        fprintf(stderr, "usage: transform_cost [-n RUNS>=100] [-r REPS 1..%d]\n", MAX_REPS);
        return 2;
    }
    printf("program %s, payload %zu bytes, %d runs x %d reps (medians, then each rep)\n", PROGRAM,
           strlen(PAYLOAD), runs, reps);
    double a_cpu[MAX_REPS], a_wall[MAX_REPS], cold[MAX_REPS], hk[MAX_REPS], hl[MAX_REPS],
        tot[MAX_REPS], wall[MAX_REPS], p50[MAX_REPS], p99[MAX_REPS], f_cpu[MAX_REPS],
        f_wall[MAX_REPS], big[MAX_REPS];
    for (int k = 0; k < reps; k++) {
        inprocess(runs, &a_cpu[k], &a_wall[k]);
        struct pool_figures f;
        pooled(runs, &f);
        cold[k] = f.cold_ms;
        hk[k] = f.hookd_us;
        hl[k] = f.helper_us;
        tot[k] = f.hookd_us + f.helper_us;
        wall[k] = f.wall_us;
        p50[k] = f.p50_us;
        p99[k] = f.p99_us;
        forks(runs / 50, &f_cpu[k], &f_wall[k]);
        big[k] = large(20);
    }
    report("(a) in-process libjq, CPU per run", "us", a_cpu, reps);
    report("(a) in-process libjq, wall per run", "us", a_wall, reps);
    report("(b) pool, CPU per run, hookd side", "us", hk, reps);
    report("(b) pool, CPU per run, helper side", "us", hl, reps);
    report("(b) pool, CPU per run, total", "us", tot, reps);
    report("(b) pool, wall per run (mean)", "us", wall, reps);
    report("(b) pool, latency p50", "us", p50, reps);
    report("(b) pool, latency p99", "us", p99, reps);
    report("(c) first run: helper start + compile", "ms", cold, reps);
    report("(d) fork+_exit+waitpid, CPU (both sides)", "us", f_cpu, reps);
    report("(d) fork+_exit+waitpid, wall", "us", f_wall, reps);
    report("(e) identity on ~1 MiB body, helper CPU", "ms", big, reps);
    return 0;
}

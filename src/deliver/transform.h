/*
 * transform - per-endpoint jq transformations (POLICIES §2 "transformation"):
 * a jq program receives {"body", "headers", "event_type", "endpoint"} and
 * returns the same shape with a changed body and/or headers, or null to skip
 * the delivery. Runs under a CPU-time and a memory budget, in a sandboxed
 * helper process, so a failed, slow or hostile program is an error result
 * and never a crash or a hang of hookd.
 *
 * Description: libjq (Debian ships jq 1.6) never runs inside hookd's
 * process. A pool of helper processes does every compile and every run:
 * - Why processes: libjq has no way to stop a running program (no
 *   interrupt, no step budget) and no allocator hook, so a time or memory
 *   bound needs a process boundary (timers, rlimits, kill). jq 1.6 also
 *   promises no thread safety (jq#2545, jq#2483), has had memory-safety
 *   bugs in the parser and builtins (Debian's changelog lists more than a
 *   dozen fixed CVEs), and can read files (`import "x" as $x {search:
 *   "/etc"}`) and the environment ($ENV). A helper is confined (below).
 * - Why long-lived helpers and not a fork per run: jq 1.6 spends ~40 ms
 *   compiling any program (it rebuilds its builtins every time), and a run
 *   of a small program costs ~30 µs, while a fork + exit + wait costs
 *   ~0.9 ms of wall and CPU time on the reference VM even for a 3 MB
 *   process, and forking hookd itself would also leave each child sharing
 *   (and the parent copying on write) all of hookd's memory
 *   (BENCHMARKS.md, "Transformations"). A helper keeps up to
 *   TRANSFORM__HELPER_CACHE compiled programs and runs each request in
 *   place; the pool sends a program preferably to a helper that compiled it
 *   recently. A helper that breaks a budget is killed (it kills itself) and
 *   restarted on demand: failures cost a restart and recompiles, successes
 *   cost a round trip.
 * - How a helper starts: hookd's own executable again (posix_spawn of
 *   /proc/self/exe, which is a vfork + exec: no copy of hookd's memory,
 *   no inherited threads or locks), recognised by a constructor in
 *   transform_helper.c before main() runs. Any binary that links this module
 *   (hookd, the unit tests, the bench) can therefore be a helper.
 * - Confinement: an empty environment (HOME=""), every inherited descriptor
 *   but its socket closed, no core dumps, and a seccomp filter that denies
 *   opening files, exec, sockets, ptrace and signals to other processes
 *   (x86-64 and arm64; elsewhere the helper refuses to run programs).
 * - Budgets, per run: CPU time (ITIMER_PROF: SIGPROF kills the helper;
 *   default TRANSFORM_DEFAULT_TIME_BUDGET_MS) and memory (RLIMIT_DATA set to
 *   what the helper holds plus the budget; jq's out-of-memory handler then
 *   answers and exits; default TRANSFORM_DEFAULT_MEMORY_BUDGET_BYTES). The
 *   budget covers parsing the input, the program and serialising its output;
 *   a compile (first use of a program in a helper) has its own budget,
 *   TRANSFORM_COMPILE_BUDGET_MS of CPU. hookd also waits at most compile +
 *   run budget + TRANSFORM_WALL_SLACK_MS of wall-clock time, then kills.
 * - The program must produce exactly one value: an object with "body" (any
 *   JSON value; it becomes the delivered body, compact) and optionally
 *   "headers" (an object of strings, checked like the send API's custom
 *   headers; absent = unchanged), or null (skip). "event_type" and
 *   "endpoint" may be present (an edited input is fine) and are ignored;
 *   any other key is an error, so that a typo ("header") is not silently
 *   dropped. jq 1.6 holds numbers as doubles: integers beyond 2^53 lose
 *   precision, and the body is re-serialised even when unchanged.
 * - The input is built from the stored payload bytes, which must be one
 *   JSON value (validate_send guarantees it; a sample for the test route
 *   must be checked the same way), and the headers object as stored.
 * It deliberately does not decide what a failure means for a message (the
 * caller records an attempt error, or `filtered` for a skip) and does not
 * store programs.
 * Cost (BENCHMARKS.md, "Transformations"): a small program on a ~200-byte
 * body costs ~90 µs of CPU per run in all (~27 µs on hookd's side, ~64 µs
 * in the helper; jq alone ~31 µs) and ~80 µs of latency; the first run of
 * a program in a helper adds its compile (~40-60 ms). jq 1.6 reads and
 * prints ~0.13 ms of CPU per KiB, so the default 50 ms budget fits bodies
 * up to roughly 400 KiB; larger ones need a larger time_budget_ms.
 * XXX: a program that always breaks its budget restarts a helper on every
 * run, and the programs that helper had compiled are compiled again on
 * their next use there (~50 ms each); the endpoint's retries and circuit
 * breaker bound how often, nothing here does.
 * XXX: the calls block. A delivery worker is an event loop, so the
 * integration should run transformations off the loop (or this module
 * should grow a non-blocking request/poll pair on the helper's socket).
 * XXX: the helper is /proc/self/exe: hookd needs /proc, and under valgrind
 * (which execs its own tool there) transformations fail with ERR_IO.
 * XXX: layering: service/ may not include deliver/, but the API validates
 * programs when they are saved; main.c has to hand transform_validate to
 * the service (a function pointer), or the validation entry point moves.
 * Threading: every function may be called from any thread, concurrently;
 * transform_pool_free only once nothing else uses the pool. transform_run
 * and transform_validate block the calling thread for the run (bounded as
 * above) and, when every helper is busy, until one is free.
 * Ownership: the pool owns its helpers; the caller frees the pool. Inputs
 * are borrowed; a transform_result's buffers belong to the caller, freed
 * by transform_result_release.
 * Errors: ERR_INVAL for a program that does not compile (code
 * TRANSFORM_INVALID_CODE, field "transformation"), fails at run time, or
 * returns a wrong shape (code TRANSFORM_FAILED_CODE); ERR_LIMIT for a
 * program, input or output over its size limit or a run over its memory
 * budget; ERR_TIMEOUT for a run over its time budget; ERR_IO when a helper
 * cannot start, confine itself, or dies for another reason. The detail's
 * message is lower-case and says what happened ("transformation exceeded
 * its time budget of 50 ms of CPU"). Nothing is logged here.
 * See also: docs/policies/transformations.md, transform_internal.h,
 * core/validate.h (the header rules), BENCHMARKS.md "Transformations".
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_DELIVER_TRANSFORM_H
#define HOOKD_DELIVER_TRANSFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define TRANSFORM_INVALID_CODE "INVALID_TRANSFORMATION" /* saving a bad program */
#define TRANSFORM_FAILED_CODE "TRANSFORMATION_FAILED"   /* a run that failed */
#define TRANSFORM_FIELD "transformation"

#define TRANSFORM_MAX_PROGRAM_BYTES (16 * 1024)
#define TRANSFORM_DEFAULT_TIME_BUDGET_MS 50
#define TRANSFORM_MAX_TIME_BUDGET_MS 10000
#define TRANSFORM_DEFAULT_MEMORY_BUDGET_BYTES ((size_t)16 * 1024 * 1024)
#define TRANSFORM_MIN_MEMORY_BUDGET_BYTES ((size_t)1024 * 1024)
#define TRANSFORM_MAX_MEMORY_BUDGET_BYTES ((size_t)1024 * 1024 * 1024)
/* CPU a compile may take (jq 1.6 needs ~40 ms for any program). */
#define TRANSFORM_COMPILE_BUDGET_MS 2000
/* Wall-clock time hookd waits beyond the budgets before it kills a helper. */
#define TRANSFORM_WALL_SLACK_MS 1000
#define TRANSFORM_MAX_HELPERS 64

struct transform_pool;

struct transform_config {
    int helpers;                /* most helper processes at once; 0 = CPU cores, 2..16 */
    int time_budget_ms;         /* per run, CPU; 0 = TRANSFORM_DEFAULT_TIME_BUDGET_MS */
    size_t memory_budget_bytes; /* per run; 0 = TRANSFORM_DEFAULT_MEMORY_BUDGET_BYTES */
};

struct transform_input {
    const char *program; /* jq source, not NUL-terminated necessarily */
    size_t program_len;
    const char *payload; /* the body: JSON text as stored (validated at send) */
    size_t payload_len;
    const char *headers_json;   /* custom headers, a compact JSON object; NULL = {} */
    const char *event_type;     /* NUL-terminated; NULL = JSON null */
    const char *endpoint_id;    /* NUL-terminated; NULL = JSON null */
    const char *endpoint_url;   /* NUL-terminated; NULL = JSON null */
    int time_budget_ms;         /* 0 = the pool's */
    size_t memory_budget_bytes; /* 0 = the pool's */
};

struct transform_result {
    bool skip;          /* the program returned null: do not deliver (record "filtered") */
    char *body;         /* the new body, compact JSON, NUL-terminated; NULL when skip */
    size_t body_len;    /* at most VALIDATE_MAX_PAYLOAD_BYTES */
    char *headers_json; /* the headers to send, a compact JSON object; NULL when skip */
    size_t headers_len;
};

struct transform_stats {
    uint64_t runs;          /* transform_run calls */
    uint64_t compiles;      /* programs compiled by a helper (cache misses) */
    uint64_t failed;        /* runs with an error result */
    uint64_t helper_starts; /* helpers started */
    uint64_t helper_deaths; /* helpers that died or were killed (budgets, crashes) */
};

/*
 * Make a pool for cfg (NULL = defaults). No helper starts yet: each starts
 * on first need, so a hookd without transformations runs none. Returns
 * ERR_INVAL with d filled for an out-of-range setting.
 */
enum err transform_pool_new(struct transform_pool **out, const struct transform_config *cfg,
                            struct err_detail *d);

/* Stop every helper (SIGKILL, reaped) and free the pool. NULL is a no-op. */
void transform_pool_free(struct transform_pool *tp);

/*
 * Check a program when it is saved: size, then a compile in a helper.
 * Returns ERR_OK; ERR_INVAL with jq's compile message, or for an empty
 * program or one with a NUL byte; ERR_LIMIT for one over
 * TRANSFORM_MAX_PROGRAM_BYTES or whose compile needs more than 64 MiB;
 * ERR_TIMEOUT when its compile takes more than TRANSFORM_COMPILE_BUDGET_MS
 * of CPU. All of these carry code TRANSFORM_INVALID_CODE and field
 * TRANSFORM_FIELD (a 400 for the API). ERR_IO (TRANSFORM_FAILED_CODE) when
 * no helper could compile it. Warms that helper's cache as a side effect.
 */
enum err transform_validate(struct transform_pool *tp, const char *program, size_t program_len,
                            struct err_detail *d);

/*
 * Run in->program on the input document built from in. On ERR_OK, out is
 * either a skip or a body and headers to deliver; on any error out holds no
 * memory and d says why (see Errors above).
 */
enum err transform_run(struct transform_pool *tp, const struct transform_input *in,
                       struct transform_result *out, struct err_detail *d);

/* Free the buffers of a result and zero it. */
void transform_result_release(struct transform_result *r);

/* Counters since the pool was made. */
void transform_get_stats(struct transform_pool *tp, struct transform_stats *out);

#endif

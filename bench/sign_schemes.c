/*
 * sign_schemes - CPU cost of each signature scheme per delivery
 * (`make bench-sign`; figures in BENCHMARKS.md, "Signature schemes").
 *
 * For each scheme of core/signature_scheme.h it measures, on one ~200-byte
 * JSON body, the process CPU time (CLOCK_PROCESS_CPUTIME_ID, so a busy
 * second core does not count) of:
 *  - one signature with a prepared key (signature_key_v1, signature_pkey_v1a,
 *    signature_pkey_bridge_rsa; for standard also the HookBridge sha256=);
 *  - the whole header list of one attempt (signature_scheme_headers) with one
 *    active key and with two (a rotation overlap);
 *  - the same signature from the stored key string, parsed every time
 *    (signature_v1, signature_v1a, signature_bridge_rsa): what a delivery
 *    would pay without the prepared-key cache;
 *  - generating the key material (signature_scheme_generate).
 * Each figure is the median of RUNS runs; a run repeats the operation until
 * it has used at least MIN_CPU_S of CPU (key generation: a fixed count).
 * Every signature made is checked once before timing starts.
 *
 * Usage: sign_schemes [min_cpu_seconds_per_run]   (default 0.5)
 * SPDX-License-Identifier: MIT
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/signature.h"
#include "core/signature_scheme.h"

#define RUNS 3
#define MSG_ID "msg_2ZfYxQ8bWcLkR4nTvP7sJ9hD3aE"
#define NOW_MS 1764547200123LL
/* 200 bytes, a small event (bench/run.sh sends ~220). */
#define BODY                                                                                       \
    "{\"type\":\"invoice.paid\",\"id\":\"evt_01JD8W3K5Q2M\",\"data\":{\"invoice\":"                \
    "\"in_7f3a9c\",\"customer\":\"cus_42b1\",\"amount\":129900,\"currency\":\"eur\","              \
    "\"paid_at\":\"2026-12-01T10:00:00Z\",\"lines\":3,\"note\":\"first payment.\"}}"

static double min_cpu_s = 0.5;

static double cpu_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "sign_schemes: %s failed\n", what);
        exit(1);
    }
}

/* The operations timed: one call does one unit of work, exits on failure. */
struct op {
    const char *label;
    void (*fn)(void *ctx);
    void *ctx;
};

/* µs of CPU per call of op, one run. */
static double run_once(const struct op *op)
{
    long n = 0;
    double start = cpu_now_s(), elapsed = 0;
    do {
        for (int i = 0; i < 16; i++)
            op->fn(op->ctx);
        n += 16;
        elapsed = cpu_now_s() - start;
    } while (elapsed < min_cpu_s);
    return elapsed * 1e6 / (double)n;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Print "| label | median | (run · run · run) |" for op. */
static void measure(const struct op *op)
{
    double r[RUNS], s[RUNS];
    for (int i = 0; i < RUNS; i++)
        r[i] = s[i] = run_once(op);
    qsort(s, RUNS, sizeof(s[0]), cmp_double);
    printf("| %s | %.2f | %.2f · %.2f · %.2f |\n", op->label, s[RUNS / 2], r[0], r[1], r[2]);
    fflush(stdout);
}

/* ---- the operations ---- */

struct keys {
    enum signature_scheme scheme;
    char secret[2][SIGNATURE_SCHEME_SECRET_MAX];
    char public_key[2][SIGNATURE_SCHEME_PUBLIC_MAX];
    struct signature_scheme_key k[2];
    const struct signature_scheme_key *active[2];
    size_t n_active;
};

static struct signature_scheme_header_list headers;

static void op_headers(void *ctx)
{
    struct keys *ks = ctx;
    struct signature_scheme_cfg cfg = {.scheme = ks->scheme};
    check(signature_scheme_headers(&headers, &cfg, ks->active, ks->n_active, MSG_ID, NOW_MS, BODY,
                                   strlen(BODY)) == ERR_OK,
          "signature_scheme_headers");
}

static void op_prepared(void *ctx)
{
    struct keys *ks = ctx;
    char out[SIGNATURE_BRIDGE_ENTRY_MAX];
    enum err e = ERR_INVAL;
    switch (ks->scheme) {
    case SIGNATURE_SCHEME_STANDARD:
        e = signature_key_v1(&ks->k[0].hmac, out, sizeof(out), MSG_ID, NOW_MS / 1000, BODY,
                             strlen(BODY));
        break;
    case SIGNATURE_SCHEME_ED25519:
        e = signature_pkey_v1a(ks->k[0].pkey, out, sizeof(out), MSG_ID, NOW_MS / 1000, BODY,
                               strlen(BODY));
        break;
    case SIGNATURE_SCHEME_BRIDGE_RSA:
        e = signature_pkey_bridge_rsa(ks->k[0].pkey, out, sizeof(out), NOW_MS, BODY, strlen(BODY));
        break;
    case SIGNATURE_SCHEME_NONE:
        break;
    }
    check(e == ERR_OK, "prepared signature");
}

static void op_hookbridge(void *ctx)
{
    struct keys *ks = ctx;
    char out[SIGNATURE_ENTRY_MAX];
    check(signature_key_hookbridge(&ks->k[0].hmac, out, sizeof(out), NOW_MS / 1000, BODY,
                                   strlen(BODY)) == ERR_OK,
          "signature_key_hookbridge");
}

static void op_cold(void *ctx)
{
    struct keys *ks = ctx;
    char out[SIGNATURE_BRIDGE_ENTRY_MAX];
    enum err e = ERR_INVAL;
    switch (ks->scheme) {
    case SIGNATURE_SCHEME_STANDARD:
        e = signature_v1(out, sizeof(out), ks->secret[0], MSG_ID, NOW_MS / 1000, BODY,
                         strlen(BODY));
        break;
    case SIGNATURE_SCHEME_ED25519:
        e = signature_v1a(out, sizeof(out), ks->secret[0], MSG_ID, NOW_MS / 1000, BODY,
                          strlen(BODY));
        break;
    case SIGNATURE_SCHEME_BRIDGE_RSA:
        e = signature_bridge_rsa(out, sizeof(out), ks->secret[0], NOW_MS, BODY, strlen(BODY));
        break;
    case SIGNATURE_SCHEME_NONE:
        break;
    }
    check(e == ERR_OK, "one-shot signature");
}

/* Key generation is slow and variable for RSA: a fixed number of keys per run. */
static void keygen(enum signature_scheme scheme, int per_run)
{
    double r[RUNS], s[RUNS];
    static char secret[SIGNATURE_SCHEME_SECRET_MAX], pub[SIGNATURE_SCHEME_PUBLIC_MAX];
    for (int i = 0; i < RUNS; i++) {
        double start = cpu_now_s();
        for (int j = 0; j < per_run; j++)
            check(signature_scheme_generate(scheme, secret, sizeof(secret), pub, sizeof(pub)) ==
                      ERR_OK,
                  "signature_scheme_generate");
        r[i] = s[i] = (cpu_now_s() - start) * 1e6 / per_run;
    }
    qsort(s, RUNS, sizeof(s[0]), cmp_double);
    printf("| %s: generate key material (%d per run) | %.2f | %.2f · %.2f · %.2f |\n",
           signature_scheme_name(scheme), per_run, s[RUNS / 2], r[0], r[1], r[2]);
    fflush(stdout);
}

static void setup(struct keys *ks, enum signature_scheme scheme)
{
    memset(ks, 0, sizeof(*ks));
    ks->scheme = scheme;
    if (scheme == SIGNATURE_SCHEME_NONE)
        return;
    for (int i = 0; i < 2; i++) {
        check(signature_scheme_generate(scheme, ks->secret[i], sizeof(ks->secret[i]),
                                        ks->public_key[i], sizeof(ks->public_key[i])) == ERR_OK,
              "signature_scheme_generate");
        check(signature_scheme_key_init(&ks->k[i], scheme, ks->secret[i]) == ERR_OK,
              "signature_scheme_key_init");
        ks->active[i] = &ks->k[i];
    }
}

/* Sign once with both keys and verify every signature, so the timed code is the right code. */
static void verify_once(struct keys *ks)
{
    struct signature_scheme_cfg cfg = {.scheme = ks->scheme};
    size_t n = ks->scheme == SIGNATURE_SCHEME_NONE ? 0 : 2;
    int64_t ts = NOW_MS / 1000;
    check(signature_scheme_headers(&headers, &cfg, ks->active, n, MSG_ID, NOW_MS, BODY,
                                   strlen(BODY)) == ERR_OK,
          "signature_scheme_headers");
    const char *sw = signature_scheme_find_header(&headers, "webhook-signature");
    const char *own = signature_scheme_find_header(&headers, "X-Webhook-Signature");
    for (size_t i = 0; i < n; i++) {
        switch (ks->scheme) {
        case SIGNATURE_SCHEME_STANDARD:
            check(sw && signature_verify_v1(sw, ks->secret[i], MSG_ID, ts, BODY, strlen(BODY)),
                  "v1 verification");
            check(own && strstr(own, "sha256=") == own, "sha256= header");
            break;
        case SIGNATURE_SCHEME_ED25519:
            check(sw && signature_verify_v1a(sw, ks->public_key[i], MSG_ID, ts, BODY, strlen(BODY)),
                  "v1a verification");
            break;
        case SIGNATURE_SCHEME_BRIDGE_RSA:
            check(own &&
                      signature_verify_bridge_rsa(own, ks->public_key[i], BODY, strlen(BODY), NULL),
                  "bridge-rsa verification");
            break;
        case SIGNATURE_SCHEME_NONE:
            break;
        }
    }
}

int main(int argc, char **argv)
{
    if (argc > 1)
        min_cpu_s = atof(argv[1]);
    if (min_cpu_s <= 0)
        min_cpu_s = 0.5;
    printf("body %zu bytes, message id %zu bytes; CPU µs per operation, median of %d runs of "
           ">= %.2f s CPU each\n\n",
           strlen(BODY), strlen(MSG_ID), RUNS, min_cpu_s);
    printf("| operation | µs | runs |\n|---|---:|---|\n");

    static const enum signature_scheme schemes[] = {
        SIGNATURE_SCHEME_STANDARD, SIGNATURE_SCHEME_ED25519, SIGNATURE_SCHEME_BRIDGE_RSA,
        SIGNATURE_SCHEME_NONE};
    static struct keys ks;
    char label[4][160];
    for (size_t s = 0; s < sizeof(schemes) / sizeof(schemes[0]); s++) {
        enum signature_scheme scheme = schemes[s];
        const char *name = signature_scheme_name(scheme);
        setup(&ks, scheme);
        verify_once(&ks);
        if (scheme != SIGNATURE_SCHEME_NONE) {
            snprintf(label[0], sizeof(label[0]), "%s: one signature, prepared key (%s)", name,
                     scheme == SIGNATURE_SCHEME_STANDARD  ? "v1 HMAC"
                     : scheme == SIGNATURE_SCHEME_ED25519 ? "v1a Ed25519"
                                                          : "v0 RSA-2048");
            measure(&(struct op){label[0], op_prepared, &ks});
            if (scheme == SIGNATURE_SCHEME_STANDARD)
                measure(&(struct op){"standard: one signature, prepared key (HookBridge sha256=)",
                                     op_hookbridge, &ks});
        }
        ks.n_active = scheme == SIGNATURE_SCHEME_NONE ? 0 : 1;
        snprintf(label[1], sizeof(label[1]), "%s: all headers of one attempt, %s", name,
                 scheme == SIGNATURE_SCHEME_NONE ? "no key" : "1 key");
        measure(&(struct op){label[1], op_headers, &ks});
        if (scheme != SIGNATURE_SCHEME_NONE) {
            ks.n_active = 2;
            snprintf(label[2], sizeof(label[2]),
                     "%s: all headers of one attempt, 2 keys (rotation)", name);
            measure(&(struct op){label[2], op_headers, &ks});
            snprintf(label[3], sizeof(label[3]),
                     "%s: one signature from the stored key string (parsed each time)", name);
            measure(&(struct op){label[3], op_cold, &ks});
            keygen(scheme, scheme == SIGNATURE_SCHEME_BRIDGE_RSA ? 5 : 200);
        }
        for (int i = 0; i < 2; i++)
            signature_scheme_key_release(&ks.k[i]);
    }
    return 0;
}

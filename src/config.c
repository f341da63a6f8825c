/* config - see config.h. SPDX-License-Identifier: MIT */
#include "config.h"

#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/log.h"

enum param_type { P_STRING, P_BOOL, P_INT, P_DURATION, P_FAST_LADDER, P_SLOW_LADDER };

struct param {
    const char *name; /* flag without the leading "--" */
    enum param_type type;
    const char *def;
    size_t offset;
    size_t size; /* string capacity */
    int64_t min, max;
    const char *help;
};

#define OFF(f) offsetof(struct config, f)
#define SZ(f) sizeof(((struct config *)0)->f)

static const struct param params[] = {
    {"listen", P_STRING, "127.0.0.1:8080", OFF(listen), SZ(listen), 0, 0,
     "HOST:PORT the API listens on (port 0 picks a free port)"},
    {"data", P_STRING, "./hookd-data", OFF(data_dir), SZ(data_dir), 0, 0,
     "directory holding the SQLite store (unless --db says otherwise) and the key file"},
    {"db", P_STRING, "", OFF(db), SZ(db), 0, 0,
     "database: sqlite:DIR or a path (default: the --data directory), or PostgreSQL as "
     "postgres://... or a libpq key=value string"},
    {"encryption-key-file", P_STRING, "", OFF(encryption_key_file), SZ(encryption_key_file), 0, 0,
     "key of secrets at rest (64 hex chars or base64 of 32 bytes); else HOOKD_ENCRYPTION_KEY, "
     "else <data>/encryption.key, created on first start"},
    {"allow-http", P_BOOL, "false", OFF(allow_http), 0, 0, 0,
     "let endpoints use plain http:// URLs"},
    {"allow-private-networks", P_BOOL, "false", OFF(allow_private_networks), 0, 0, 0,
     "let deliveries reach loopback/private/link-local addresses"},
    {"retry-fast", P_FAST_LADDER, "30s,60s,120s,240s,300s", 0, 0, 0, 0,
     "retry delays after a 429 answer (comma list of durations)"},
    {"retry-slow", P_SLOW_LADDER, "30m,2h,6h,12h,24h,48h,72h,96h", 0, 0, 0, 0,
     "retry delays after any other failure (comma list of durations)"},
    {"max-attempts", P_INT, "8", OFF(retry.max_attempts), 0, 1, 100,
     "attempts before a message is failed_permanent"},
    {"delivery-timeout", P_DURATION, "30s", OFF(delivery_timeout_ms), 0, 100, 600000,
     "timeout of one delivery attempt"},
    {"max-in-flight", P_INT, "512", OFF(max_in_flight), 0, 1, 100000,
     "concurrent delivery attempts in all"},
    {"endpoint-concurrency", P_INT, "64", OFF(endpoint_concurrency), 0, 1, 10000,
     "concurrent delivery attempts per endpoint"},
    {"delivery-threads", P_INT, "0", OFF(delivery_threads), 0, 0, 64,
     "delivery threads, each with its own connections (0 = one per CPU core)"},
    {"shutdown-grace", P_DURATION, "10s", OFF(shutdown_grace_ms), 0, 0, 600000,
     "how long SIGTERM waits for in-flight attempts"},
    {"api-threads", P_INT, "2", OFF(api_threads), 0, 1, 64, "HTTP API worker threads"},
    {"api-rate-limit", P_INT, "0", OFF(api_rate_limit_per_min), 0, 0, 100000000,
     "API requests per minute per key (token bucket; 0 turns the limit off)"},
    {"api-burst", P_INT, "1000", OFF(api_burst), 0, 1, 100000000,
     "API requests a key may make at once before the per-minute rate applies"},
    {"auth-fail-limit", P_INT, "30", OFF(auth_fail_limit_per_min), 0, 0, 100000000,
     "failed authentications per minute per client address before 429 (0 turns it off)"},
    {"api-max-connections", P_INT, "4096", OFF(api_max_connections), 0, 16, 1000000,
     "open API connections at most (more are closed at once)"},
    {"api-max-connections-per-ip", P_INT, "0", OFF(api_max_connections_per_ip), 0, 0, 1000000,
     "open API connections per client address (0: no per-address cap)"},
    {"api-idle-timeout", P_DURATION, "30s", OFF(api_idle_timeout_ms), 0, 1000, 3600000,
     "close an API connection idle (nothing received or sent) this long"},
    {"retention", P_DURATION, "30d", OFF(retention_ms), 0, 0, 315360000000LL,
     "default payload retention (send's retention_hours overrides per message)"},
    {"history-retention", P_DURATION, "90d", OFF(history_retention_ms), 0, 3600000, 315360000000LL,
     "messages and attempts older than this are deleted entirely"},
    {"janitor-interval", P_DURATION, "60s", OFF(janitor_interval_ms), 0, 100, 86400000,
     "how often expired payloads and old history are purged"},
    {"portal-origins", P_STRING, "*", OFF(portal_origins), SZ(portal_origins), 0, 0,
     "origins browsers may call /api/v1 from (CORS): * or a comma list"},
    {"web-dir", P_STRING, "", OFF(web_dir), SZ(web_dir), 0, 0,
     "directory of the built portal and console pages (empty: build/web beside the binary)"},
    {"header-prefix", P_STRING, "X-Webhook-", OFF(header_prefix), SZ(header_prefix), 0, 0,
     "prefix of hookd's own delivery headers (Id, Timestamp, Signature); endpoints may override"},
    {"user-agent", P_STRING, "hookd/" HOOKD_VERSION, OFF(user_agent), SZ(user_agent), 0, 0,
     "User-Agent of deliveries"},
    {"circuit-failures", P_INT, "0", OFF(circuit_failures), 0, 0, 1000,
     "failed messages in a row that open an endpoint's circuit (0: off; 5 is POLICIES.md's "
     "figure, off by default to keep API.md's retry schedule)"},
    {"circuit-cooldown", P_DURATION, "60s", OFF(circuit_cooldown_ms), 0, 1000, 86400000,
     "how long an open circuit waits before its probe (doubling up to 1h on failed probes)"},
    {"disable-on-gone", P_BOOL, "true", OFF(disable_on_gone), 0, 0, 0,
     "a 410 Gone answer disables the endpoint at once (reason gone)"},
    {"disable-after", P_DURATION, "5d", OFF(disable_after_ms), 0, 0, 315360000000LL,
     "disable an endpoint failing this long with no success (0 never)"},
    {"ops-webhook-url", P_STRING, "", OFF(ops_webhook_url), SZ(ops_webhook_url), 0, 0,
     "an operational webhook (live mode) made at startup if missing; its secret is logged once"},
    {"ops-failing-after", P_INT, "4", OFF(ops_failing_after), 0, 1, 100,
     "failed attempts of a message after which message.attempt.failing is sent"},
    {"log-level", P_STRING, "info", OFF(log_level), SZ(log_level), 0, 0,
     "error, warn, info or debug"},
    {"print-config", P_BOOL, "false", OFF(print_config), 0, 0, 0,
     "print the effective configuration and exit"},
};

#define NPARAMS (sizeof(params) / sizeof(params[0]))

static void env_name(char *out, size_t len, const char *flag)
{
    size_t i = (size_t)snprintf(out, len, "HOOKD_");
    for (; *flag && i + 1 < len; flag++)
        out[i++] = *flag == '-' ? '_' : (char)toupper((unsigned char)*flag);
    out[i] = '\0';
}

static bool parse_bool(const char *v, bool *out)
{
    if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on")) {
        *out = true;
        return true;
    }
    if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off")) {
        *out = false;
        return true;
    }
    return false;
}

static bool set_param(struct config *cfg, const struct param *p, const char *v, const char *src)
{
    char *base = (char *)cfg;
    switch (p->type) {
    case P_STRING:
        if (strlen(v) >= p->size) {
            fprintf(stderr, "hookd: %s: value for '%s' is too long\n", src, p->name);
            return false;
        }
        memcpy(base + p->offset, v, strlen(v) + 1);
        return true;
    case P_BOOL:
        if (!parse_bool(v, (bool *)(base + p->offset))) {
            fprintf(stderr, "hookd: %s: '%s' wants true or false, not '%s'\n", src, p->name, v);
            return false;
        }
        return true;
    case P_INT: {
        char *end;
        long long n = strtoll(v, &end, 10);
        if (!*v || *end || n < p->min || n > p->max) {
            fprintf(stderr, "hookd: %s: '%s' wants an integer in [%lld, %lld], not '%s'\n", src,
                    p->name, (long long)p->min, (long long)p->max, v);
            return false;
        }
        *(int *)(base + p->offset) = (int)n;
        return true;
    }
    case P_DURATION: {
        int64_t ms;
        if (!clock_parse_duration(v, strlen(v), &ms) || ms < p->min || ms > p->max) {
            fprintf(stderr,
                    "hookd: %s: '%s' wants a duration like 30s or 250ms in [%lldms, %lldms], "
                    "not '%s'\n",
                    src, p->name, (long long)p->min, (long long)p->max, v);
            return false;
        }
        *(int64_t *)(base + p->offset) = ms;
        return true;
    }
    case P_FAST_LADDER:
    case P_SLOW_LADDER: {
        bool fast = p->type == P_FAST_LADDER;
        if (!retry_parse_ladder(v, fast ? cfg->retry.fast_ms : cfg->retry.slow_ms,
                                fast ? &cfg->retry.fast_len : &cfg->retry.slow_len)) {
            fprintf(stderr,
                    "hookd: %s: '%s' wants a comma list of durations like 30s,1m,5m, not '%s'\n",
                    src, p->name, v);
            return false;
        }
        return true;
    }
    }
    return false;
}

static bool split_listen(struct config *cfg)
{
    const char *colon = strrchr(cfg->listen, ':');
    char *end;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    if (!colon || colon == cfg->listen || !colon[1] || *end || port < 0 || port > 65535) {
        fprintf(stderr, "hookd: 'listen' wants HOST:PORT, not '%s'\n", cfg->listen);
        return false;
    }
    size_t hl = (size_t)(colon - cfg->listen);
    const char *h = cfg->listen;
    if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') { /* [::1]:8080 */
        h++;
        hl -= 2;
    }
    memcpy(cfg->listen_host, h, hl);
    cfg->listen_host[hl] = '\0';
    cfg->listen_port = (int)port;
    return true;
}

bool config_load(struct config *cfg, int argc, char **argv)
{
    memset(cfg, 0, sizeof(*cfg));
    retry_policy_default(&cfg->retry);
    for (size_t i = 0; i < NPARAMS; i++)
        if (!set_param(cfg, &params[i], params[i].def, "default"))
            return false;
    for (size_t i = 0; i < NPARAMS; i++) {
        char env[64];
        env_name(env, sizeof(env), params[i].name);
        const char *v = getenv(env);
        if (v && !set_param(cfg, &params[i], v, env))
            return false;
    }
    for (int a = 0; a < argc; a++) {
        const char *arg = argv[a];
        if (strncmp(arg, "--", 2) != 0) {
            fprintf(stderr, "hookd: unexpected argument '%s' (see hookd serve --help)\n", arg);
            return false;
        }
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t nl = eq ? (size_t)(eq - name) : strlen(name);
        const struct param *p = NULL;
        for (size_t i = 0; i < NPARAMS; i++)
            if (strlen(params[i].name) == nl && !strncmp(params[i].name, name, nl))
                p = &params[i];
        if (!p) {
            fprintf(stderr, "hookd: unknown flag '%s' (see hookd serve --help)\n", arg);
            return false;
        }
        const char *v;
        if (eq)
            v = eq + 1;
        else if (p->type == P_BOOL)
            v = "true";
        else if (a + 1 < argc)
            v = argv[++a];
        else {
            fprintf(stderr, "hookd: flag '--%s' needs a value\n", p->name);
            return false;
        }
        if (!set_param(cfg, p, v, "command line"))
            return false;
    }
    if (log_level_parse(cfg->log_level) < 0) {
        fprintf(stderr, "hookd: 'log-level' wants error, warn, info or debug, not '%s'\n",
                cfg->log_level);
        return false;
    }
    if (cfg->endpoint_concurrency > cfg->max_in_flight)
        cfg->endpoint_concurrency = cfg->max_in_flight;
    if (cfg->delivery_threads == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        cfg->delivery_threads = cores < 1 ? 1 : cores > 64 ? 64 : (int)cores;
    }
    return split_listen(cfg);
}

void config_print_help(FILE *f)
{
    fprintf(f, "Flags (each also as the environment variable shown):\n");
    for (size_t i = 0; i < NPARAMS; i++) {
        char env[64];
        env_name(env, sizeof(env), params[i].name);
        fprintf(f, "  --%-24s %-30s default %s\n      %s\n", params[i].name, env, params[i].def,
                params[i].help);
    }
}

static void print_ladder(FILE *f, const int64_t *ms, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s%lldms", i ? "," : "", (long long)ms[i]);
    fputc('\n', f);
}

const char *config_db(const struct config *cfg)
{
    return cfg->db[0] ? cfg->db : cfg->data_dir;
}

/* A database string with its password, if any, shown as ***. */
static void print_db(FILE *f, const char *db)
{
    const char *scheme = strstr(db, "://"), *at = scheme ? strchr(scheme + 3, '@') : NULL;
    const char *colon = at ? memchr(scheme + 3, ':', (size_t)(at - scheme - 3)) : NULL;
    if (colon) {
        fprintf(f, "%.*s:***%s\n", (int)(colon - db), db, at);
        return;
    }
    const char *pw = strstr(db, "password=");
    if (pw) {
        const char *end = pw + strcspn(pw, " ");
        fprintf(f, "%.*spassword=***%s\n", (int)(pw - db), db, end);
        return;
    }
    fprintf(f, "%s\n", db);
}

void config_print(const struct config *cfg, FILE *f)
{
    const char *base = (const char *)cfg;
    for (size_t i = 0; i < NPARAMS; i++) {
        const struct param *p = &params[i];
        fprintf(f, "%s = ", p->name);
        switch (p->type) {
        case P_STRING:
            if (p->offset == OFF(db))
                print_db(f, cfg->db);
            else
                fprintf(f, "%s\n", base + p->offset);
            break;
        case P_BOOL:
            fprintf(f, "%s\n", *(const bool *)(base + p->offset) ? "true" : "false");
            break;
        case P_INT:
            fprintf(f, "%d\n", *(const int *)(base + p->offset));
            break;
        case P_DURATION:
            fprintf(f, "%lldms\n", (long long)*(const int64_t *)(base + p->offset));
            break;
        case P_FAST_LADDER:
            print_ladder(f, cfg->retry.fast_ms, cfg->retry.fast_len);
            break;
        case P_SLOW_LADDER:
            print_ladder(f, cfg->retry.slow_ms, cfg->retry.slow_len);
            break;
        }
    }
}

/*
 * config - every `hookd serve` parameter in one table (CONVENTIONS §7).
 *
 * Description: defaults < HOOKD_* environment < command-line flags, all
 * validated at start-up into an immutable struct config. The table also
 * drives `hookd serve --help` and `--print-config`, so they cannot drift.
 * Threading: loaded once on the main thread, then read-only.
 * Errors: config_load prints a precise message and returns false; the
 * caller exits non-zero.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_CONFIG_H
#define HOOKD_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/retry.h"

struct config {
    char listen[256];
    char listen_host[256];
    int listen_port;
    char data_dir[1024];
    char db[1024];                  /* "" = the SQLite store in data_dir (config_db) */
    char encryption_key_file[1024]; /* "" = HOOKD_ENCRYPTION_KEY or <data>/encryption.key */
    bool allow_http;
    bool allow_private_networks;
    struct retry_policy retry;
    int64_t delivery_timeout_ms;
    int max_in_flight;
    int endpoint_concurrency;
    int delivery_threads; /* resolved: 0 on the command line means one per core */
    int64_t shutdown_grace_ms;
    int api_threads;
    int api_rate_limit_per_min; /* per API key; 0 = off */
    int api_burst;
    int auth_fail_limit_per_min;    /* failed auths per client address; 0 = off */
    int api_max_connections;        /* MHD connection limit */
    int api_max_connections_per_ip; /* 0 = no per-address cap */
    int64_t api_idle_timeout_ms;    /* MHD connection timeout (whole seconds) */
    int64_t retention_ms;           /* default payload retention */
    int64_t history_retention_ms;   /* messages and attempts are deleted after this */
    int64_t janitor_interval_ms;    /* how often retention runs */
    char portal_origins[1024];      /* CORS: "*" or a comma list of origins */
    char web_dir[1024];             /* built pages (static.c); "" = build/web beside the binary */
    char header_prefix[40];         /* of X-Webhook-Id/-Timestamp/-Signature (POLICIES §4) */
    char user_agent[128];
    int circuit_failures;        /* failed attempts in a row that open a circuit; 0 = off */
    int64_t circuit_cooldown_ms; /* an open circuit's first wait before its probe */
    int64_t disable_after_ms;    /* auto-disable after failing this long; 0 = never */
    bool disable_on_gone;        /* a 410 disables the endpoint (reason gone) */
    char ops_webhook_url[1024];  /* a live-mode operational endpoint made at startup; "" = none */
    int ops_failing_after;       /* message.attempt.failing after this many failed attempts */
    char log_level[16];
    bool print_config;
};

/* Fill cfg from defaults, the environment and argv (the flags after "serve"). */
bool config_load(struct config *cfg, int argc, char **argv);

/* Print the flag table (name, env var, default, help) to f. */
void config_print_help(FILE *f);

/* The store to open: --db / HOOKD_DB, else the SQLite store in --data. */
const char *config_db(const struct config *cfg);

/* Print the effective configuration, one "name = value" per line. */
void config_print(const struct config *cfg, FILE *f);

#endif

/*
 * main - hookd's command line: serve, keys create, migrate, encryption rotate,
 * version.
 *
 * Description: wires the modules together (the only file that does) and
 * owns process lifecycle: signals, start-up order, and the shutdown order
 * api drain -> dispatcher (grace) -> committer (flush) -> api stop.
 * Errors: fatal start-up problems print one line and exit 1.
 * SPDX-License-Identifier: MIT
 */
#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "core/id.h"
#include "core/signature_scheme.h"
#include "deliver/dispatcher.h"
#include "deliver/test_send.h"
#include "deliver/transform.h"
#include "http/http.h"
#include "service/api_keys.h"
#include "service/endpoint_policy.h"
#include "service/endpoint_test.h"
#include "service/ops_events.h"
#include "store/committer.h"
#include "store/janitor.h"
#include "store/keyfile.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/log.h"

static void usage(FILE *f)
{
    fprintf(
        f,
        "hookd %s - self-hosted webhook delivery server\n\n"
        "Usage:\n"
        "  hookd serve [flags]                 run the server (see hookd serve --help)\n"
        "  hookd keys create --mode live|test [--label L] [--data DIR] [--db DB]\n"
        "                                      create an API key offline; prints it once\n"
        "  hookd migrate [--data DIR] [--db DB] [--encryption-key-file F]\n"
        "                                      apply database migrations and exit\n"
        "  hookd encryption rotate [--data DIR] [--db DB] [--encryption-key-file F] "
        "[--new-key-file N]\n"
        "                                      re-encrypt the secrets with a new key (offline)\n"
        "  hookd version                       print the version\n\n",
        HOOKD_VERSION);
    config_print_help(f);
}

/* Insert an API key for the plain-text secret; only its SHA-256 is stored. */
static enum err key_insert(struct store *s, const char *secret, const char *mode, const char *label,
                           struct err_detail *d)
{
    struct store_api_key k;
    uint8_t digest[32];
    service_api_key_make(&k, digest, mode, label, secret);
    return store_api_key_insert(s, &k, digest, d);
}

/* On an empty store, create the first key (HOOKD_BOOTSTRAP_KEY or a fresh one). */
static bool bootstrap_key(struct store *s)
{
    struct err_detail d = {0};
    int64_t n = 0;
    if (store_api_key_count(s, &n, &d) != ERR_OK) {
        log_error("main", "cannot count api keys: %s", d.msg);
        return false;
    }
    if (n > 0)
        return true;
    const char *fixed = getenv("HOOKD_BOOTSTRAP_KEY");
    char key[ID_MAX];
    if (fixed && fixed[0]) {
        if (strlen(fixed) < 16 || strlen(fixed) >= sizeof(key)) {
            log_error("main", "HOOKD_BOOTSTRAP_KEY must be 16 to %zu characters", sizeof(key) - 1);
            return false;
        }
        snprintf(key, sizeof(key), "%s", fixed);
    } else {
        id_api_key(key, sizeof(key), "live");
    }
    const char *mode = strstr(key, "_test_") ? "test" : "live";
    if (key_insert(s, key, mode, "bootstrap", &d) != ERR_OK) {
        log_error("main", "cannot create the first api key: %s", d.msg);
        return false;
    }
    if (!fixed || !fixed[0]) {
        printf("hookd: created the first API key (shown once, store it now): %s\n", key);
        fflush(stdout);
    } else {
        log_info("main", "created the first api key from HOOKD_BOOTSTRAP_KEY");
    }
    explicit_bzero(key, sizeof(key));
    return true;
}

/* Operational webhooks (POLICIES §6): delivery's hooks, on the committer. */
static enum err ops_attempt(void *ctx, struct store *s, const struct store_attempt *a, int status,
                            struct err_detail *d)
{
    return ops_events_attempt(s, ctx, a, (enum store_status)status, d);
}

static enum err ops_disabled(void *ctx, struct store *s, const char *mode, const char *endpoint_id,
                             const char *reason, int64_t now_ms, struct err_detail *d)
{
    return ops_events_endpoint_disabled(s, ctx, mode, endpoint_id, reason, now_ms, d);
}

/* An endpoint op run on the committer while main waits for it. */
struct sync_op {
    struct service_endpoint_op svc;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
};

static void sync_done(struct commit_op *op)
{
    struct sync_op *x = (struct sync_op *)op;
    pthread_mutex_lock(&x->mu);
    x->done = true;
    pthread_cond_signal(&x->cv);
    pthread_mutex_unlock(&x->mu);
}

/* --ops-webhook-url: make sure a live-mode operational endpoint with that URL
 * exists; its signing secret is printed once, when it is made. */
static bool ops_webhook_ensure(const struct config *cfg, struct committer *c)
{
    if (!cfg->ops_webhook_url[0])
        return true;
    struct sync_op x = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    struct err_detail d = {0};
    json_t *url = json_string(cfg->ops_webhook_url);
    enum err e = ops_events_create_init(&x.svc, "live", url, cfg, &d);
    json_decref(url);
    if (e != ERR_OK) {
        log_error("main", "cannot use --ops-webhook-url '%s': %s", cfg->ops_webhook_url, d.msg);
        return false;
    }
    x.svc.reuse_same_url = true;
    x.svc.head.op.done = sync_done;
    committer_submit(c, &x.svc.head.op);
    pthread_mutex_lock(&x.mu);
    while (!x.done)
        pthread_cond_wait(&x.cv, &x.mu);
    pthread_mutex_unlock(&x.mu);
    bool ok = x.svc.head.op.result == ERR_OK;
    if (!ok) {
        log_error("main", "cannot make the operational webhook '%s': %s", cfg->ops_webhook_url,
                  x.svc.head.op.detail.msg);
    } else if (x.svc.created) {
        /* shown once, like the first API key: it is the receiver's to keep */
        printf("hookd: created operational webhook %s for %s (signing secret, shown once: %s)\n",
               x.svc.ep.id, cfg->ops_webhook_url, x.svc.secret);
        fflush(stdout);
    } else {
        log_info("main", "operational webhook %s for '%s' exists", x.svc.ep.id,
                 cfg->ops_webhook_url);
    }
    service_endpoint_op_release(&x.svc);
    return ok;
}

/* /metrics' view of delivery (the api does not know the dispatcher). */
static void delivery_stats(void *ctx, struct http_delivery_stats *out)
{
    struct dispatcher_stats ds;
    dispatcher_get_stats(ctx, &ds);
    out->attempts = ds.attempts;
    out->succeeded = ds.succeeded;
    out->failed_attempts = ds.failed_attempts;
    out->failed_permanent = ds.failed_permanent;
    out->in_flight = ds.in_flight;
    out->scheduled = ds.scheduled;
    out->resident = ds.resident;
    out->paged_in = ds.paged_in;
    out->stalest_loop_mono_ms = ds.stalest_loop_mono_ms;
    out->latency_ok = ds.latency_ok;
    out->latency_failed = ds.latency_failed;
    out->first_attempt_lag = ds.first_attempt_lag;
}

/* service/endpoint_policy.h's hooks onto deliver/transform.h's pool. */
static enum err transform_check(void *ctx, const char *program, size_t len, struct err_detail *d)
{
    return transform_validate(ctx, program, len, d);
}

static enum err transform_sample(void *ctx, const char *program, size_t len, const char *payload,
                                 size_t payload_len, const char *headers_json,
                                 const char *event_type, const char *endpoint_id,
                                 const char *endpoint_url, bool *skip, char **body,
                                 char **headers_out, struct err_detail *d)
{
    struct transform_input in = {.program = program,
                                 .program_len = len,
                                 .payload = payload,
                                 .payload_len = payload_len,
                                 .headers_json = headers_json,
                                 .event_type = event_type,
                                 .endpoint_id = endpoint_id,
                                 .endpoint_url = endpoint_url};
    struct transform_result res = {0};
    enum err e = transform_run(ctx, &in, &res, d);
    if (e == ERR_OK) {
        *skip = res.skip;
        *body = res.body;
        *headers_out = res.headers_json;
        res.body = res.headers_json = NULL;
    }
    transform_result_release(&res);
    return e;
}

/* The test send's delivery (service/endpoint_test.h) on deliver/test_send.h:
 * service never includes deliver/, so main lends it these. */
static enum err test_load(void *ctx, struct store *s, const char *mode, const char *endpoint_id,
                          void **target, struct err_detail *d)
{
    struct test_target *t = NULL;
    enum err e = test_sender_load(ctx, s, mode, endpoint_id, &t, d);
    *target = t;
    return e;
}

static char *take_str(char **s)
{
    char *r = *s;
    *s = NULL;
    return r;
}

static void test_send(void *ctx, void *target, const char *webhook_id, const char *payload,
                      size_t payload_len, const bool *cancel, struct service_test_attempt *out)
{
    struct test_send_result res;
    test_sender_send(ctx, target, webhook_id, payload, payload_len, cancel, &res);
    memset(out, 0, sizeof(*out));
    out->succeeded = res.ok;
    out->response_status = res.attempt.response_status;
    out->latency_ms = res.attempt.latency_ms;
    out->response_body = take_str(&res.attempt.response_body);
    out->response_body_truncated = res.attempt.response_body_truncated;
    out->error = take_str(&res.attempt.error_text);
    if (res.n_headers) {
        out->headers = calloc(res.n_headers, sizeof(*out->headers));
        if (!out->headers)
            abort();
        for (size_t i = 0; i < res.n_headers; i++) {
            out->headers[i].name = take_str(&res.headers[i].name);
            out->headers[i].value = take_str(&res.headers[i].value);
        }
        out->n_headers = res.n_headers;
    }
    test_send_result_release(&res);
}

static void test_target_release(void *ctx, void *target)
{
    (void)ctx;
    test_target_free(target);
}

/* The node's name on a shared store: this host and data directory, so a node restarted
 * where it ran resumes its own claims (store_set_node_name). */
static void name_node(const char *data_dir)
{
    char host[256] = "", abs[PATH_MAX], name[PATH_MAX + 300];
    if (gethostname(host, sizeof(host) - 1) != 0)
        host[0] = '\0';
    if (mkdir(data_dir, 0700) != 0 && errno != EEXIST)
        log_warn("main", "cannot create data directory '%s': %s", data_dir, strerror(errno));
    snprintf(name, sizeof(name), "%s:%s", host, realpath(data_dir, abs) ? abs : data_dir);
    store_set_node_name(name);
}

static int cmd_serve(int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("Usage: hookd serve [flags]\n\n");
            config_print_help(stdout);
            return 0;
        }
    }
    struct config cfg;
    if (!config_load(&cfg, argc, argv))
        return 2;
    if (cfg.print_config) {
        config_print(&cfg, stdout);
        return 0;
    }
    log_threshold = (enum log_level)log_level_parse(cfg.log_level);
    struct err_detail pd = {0};
    if (signature_scheme_check_prefix(cfg.header_prefix, "--header-prefix", &pd) != ERR_OK) {
        fprintf(stderr, "hookd: %s\n", pd.msg);
        return 2;
    }

    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL); /* inherited by every thread we start */
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);

    int rc = 1;
    struct err_detail d = {0};
    struct store *writer = NULL, *readers[64] = {0};
    struct committer *committer = NULL;
    struct dispatcher *dispatcher = NULL;
    struct transform_pool *transforms = NULL;
    struct janitor *janitor = NULL;
    struct http_server *api = NULL;
    struct test_sender *tester = NULL;
    name_node(cfg.data_dir);
    if (keyfile_setup(cfg.data_dir, config_db(&cfg), cfg.encryption_key_file, &d) != ERR_OK) {
        log_error("main", "%s", d.msg);
        goto out;
    }
    if (store_open(&writer, config_db(&cfg), true, &d) != ERR_OK) {
        log_error("main", "cannot open the store: %s", d.msg);
        goto out;
    }
    if (!bootstrap_key(writer))
        goto out;
    for (int i = 0; i < cfg.delivery_threads; i++) {
        if (store_open(&readers[i], config_db(&cfg), false, &d) != ERR_OK) {
            log_error("main", "cannot open a read connection: %s", d.msg);
            goto out;
        }
    }
    if (committer_start(&committer, writer, &d) != ERR_OK) {
        log_error("main", "%s", d.msg);
        goto out;
    }
    struct janitor_config jc = {.interval_ms = cfg.janitor_interval_ms,
                                .history_retention_ms = cfg.history_retention_ms};
    if (janitor_start(&janitor, &jc, committer, &d) != ERR_OK) {
        log_error("main", "%s", d.msg);
        goto out;
    }
    struct dispatcher_config dc = {
        .retry = cfg.retry,
        .timeout_ms = cfg.delivery_timeout_ms,
        .max_in_flight = cfg.max_in_flight,
        .endpoint_concurrency = cfg.endpoint_concurrency,
        .allow_private_networks = cfg.allow_private_networks,
        .shutdown_grace_ms = cfg.shutdown_grace_ms,
        .user_agent = cfg.user_agent,
        .header_prefix = cfg.header_prefix,
        .circuit_failures = cfg.circuit_failures,
        .circuit_cooldown_ms = cfg.circuit_cooldown_ms,
        .disable_on_gone = cfg.disable_on_gone,
        .disable_after_ms = cfg.disable_after_ms,
        .threads = cfg.delivery_threads,
        .hooks = {.attempt = ops_attempt, .disabled = ops_disabled, .ctx = &cfg},
    };
    struct transform_config tc = {0}; /* helpers start on first use */
    if (transform_pool_new(&transforms, &tc, &d) != ERR_OK) {
        log_error("main", "%s", d.msg);
        goto out;
    }
    endpoint_policy_set_transform(&(struct endpoint_transform_hooks){
        .check = transform_check, .run = transform_sample, .ctx = transforms});
    dc.transforms = transforms;
    if (dispatcher_start(&dispatcher, &dc, readers, committer, &d) != ERR_OK) {
        log_error("main", "%s", d.msg);
        goto out;
    }
    /* From here on every commit tells delivery what it made due. */
    committer_set_feed_sink(committer, dispatcher_feed, dispatcher);
    /* PostgreSQL: this node's heartbeat, and other nodes' changes into the same sink. */
    if (store_node_start(writer, dispatcher_feed, dispatcher, &d) != ERR_OK) {
        log_error("main", "%s", d.msg);
        goto out;
    }
    if (!ops_webhook_ensure(&cfg, committer))
        goto out;
    tester = test_sender_new(&dc); /* dc's strings are cfg's, which outlives it */
    const struct service_test_sender sender = {
        .load = test_load, .send = test_send, .target_free = test_target_release, .ctx = tester};
    struct http_deps deps = {.cfg = &cfg,
                             .committer = committer,
                             .janitor = janitor,
                             .delivery_stats = delivery_stats,
                             .delivery_ctx = dispatcher,
                             .test_sender = &sender};
    if (http_start(&api, &deps, &d) != ERR_OK) {
        log_error("main", "%s", d.msg);
        goto out;
    }
    /* Always printed: scripts and tests wait for this line. */
    log_write(LOG_INFO, "main", NULL, "listening on http://%s:%d (%s store)", cfg.listen_host,
              http_port(api),
              store_backend_of(config_db(&cfg), &(const char *){NULL}) == STORE_POSTGRES
                  ? "PostgreSQL"
                  : "SQLite");
    if (!cfg.allow_http || !cfg.allow_private_networks)
        log_info("main", "endpoint policy: allow_http=%s allow_private_networks=%s",
                 cfg.allow_http ? "true" : "false", cfg.allow_private_networks ? "true" : "false");

    int sig = 0;
    sigwait(&sigs, &sig);
    log_info("main", "received %s, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    rc = 0;
out:
    if (api)
        http_drain(api);
    store_node_stop(writer); /* before the dispatcher it feeds goes */
    dispatcher_stop(dispatcher);
    janitor_stop(janitor);
    committer_stop(committer); /* its last ops may still notify the stopped dispatcher */
    dispatcher_free(dispatcher);
    http_stop(api); /* after the test sends it ran, which use tester */
    test_sender_free(tester);
    transform_pool_free(transforms);
    for (int i = 0; i < 64; i++)
        store_close(readers[i]);
    store_close(writer);
    store_secrets_set_key(NULL);
    curl_global_cleanup();
    if (rc == 0)
        log_info("main", "stopped cleanly");
    return rc;
}

/* Parse "--name value" / "--name=value" pairs of the small offline commands. */
static const char *flag_value(int argc, char **argv, const char *name)
{
    size_t nl = strlen(name);
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], name, nl) != 0)
            continue;
        if (argv[i][nl] == '=')
            return argv[i] + nl + 1;
        if (argv[i][nl] == '\0' && i + 1 < argc)
            return argv[i + 1];
    }
    return NULL;
}

static const char *data_dir_arg(int argc, char **argv)
{
    const char *dir = flag_value(argc, argv, "--data");
    if (!dir)
        dir = getenv("HOOKD_DATA");
    return dir ? dir : "./hookd-data";
}

/* --db, else HOOKD_DB, else the SQLite store in the data directory. */
static const char *db_arg(int argc, char **argv)
{
    const char *db = flag_value(argc, argv, "--db");
    if (!db)
        db = getenv("HOOKD_DB");
    return db && db[0] ? db : data_dir_arg(argc, argv);
}

static int cmd_keys(int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "create") != 0) {
        fprintf(stderr,
                "usage: hookd keys create --mode live|test [--label L] [--data DIR] [--db DB]\n");
        return 2;
    }
    const char *mode = flag_value(argc, argv, "--mode");
    if (!mode)
        mode = "live";
    if (strcmp(mode, "live") != 0 && strcmp(mode, "test") != 0) {
        fprintf(stderr, "hookd: --mode must be live or test, not '%s'\n", mode);
        return 2;
    }
    const char *label = flag_value(argc, argv, "--label");
    struct store *s = NULL;
    struct err_detail d = {0};
    if (store_open(&s, db_arg(argc, argv), true, &d) != ERR_OK) {
        fprintf(stderr, "hookd: cannot open the store: %s\n", d.msg);
        return 1;
    }
    char key[ID_MAX];
    id_api_key(key, sizeof(key), mode);
    enum err e = key_insert(s, key, mode, label, &d);
    store_close(s);
    if (e != ERR_OK) {
        fprintf(stderr, "hookd: cannot create the key: %s\n", d.msg);
        return 1;
    }
    printf("%s\n", key);
    explicit_bzero(key, sizeof(key));
    return 0;
}

/* --encryption-key-file, else HOOKD_ENCRYPTION_KEY_FILE, else NULL. */
static const char *key_file_arg(int argc, char **argv)
{
    const char *f = flag_value(argc, argv, "--encryption-key-file");
    return f ? f : getenv("HOOKD_ENCRYPTION_KEY_FILE");
}

static int cmd_migrate(int argc, char **argv)
{
    struct err_detail d = {0};
    /* Opens the store with migrations and the key, which seals plaintext secrets. */
    enum err e =
        keyfile_setup(data_dir_arg(argc, argv), db_arg(argc, argv), key_file_arg(argc, argv), &d);
    store_secrets_set_key(NULL);
    if (e != ERR_OK) {
        fprintf(stderr, "hookd: %s\n", d.msg);
        return 1;
    }
    return 0;
}

static int cmd_encryption(int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "rotate") != 0) {
        fprintf(stderr,
                "usage: hookd encryption rotate [--data DIR] [--db DB] [--encryption-key-file F] "
                "[--new-key-file N]\n");
        return 2;
    }
    struct err_detail d = {0};
    if (keyfile_rotate(data_dir_arg(argc, argv), db_arg(argc, argv), key_file_arg(argc, argv),
                       flag_value(argc, argv, "--new-key-file"), stdout, &d) != ERR_OK) {
        fprintf(stderr, "hookd: cannot rotate the encryption key: %s\n", d.msg);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "serve"))
        return cmd_serve(argc - 2, argv + 2);
    if (!strcmp(argv[1], "keys"))
        return cmd_keys(argc - 2, argv + 2);
    if (!strcmp(argv[1], "migrate"))
        return cmd_migrate(argc - 2, argv + 2);
    if (!strcmp(argv[1], "encryption"))
        return cmd_encryption(argc - 2, argv + 2);
    if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
        printf("hookd %s\n", HOOKD_VERSION);
        return 0;
    }
    fprintf(stderr, "hookd: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}

/*
 * fuzz_request - libFuzzer harness over the whole request path: method,
 * path, query, headers and body -> router -> authentication -> handler ->
 * committer -> response, on a real SQLite store in a temporary directory
 * (/dev/shm when present) with the real committer thread.
 *
 * Input format (text, as an HTTP request without the version):
 *   METHOD SP TARGET LF            TARGET = path[?query], percent-encoded
 *   Name: value LF                 zero or more header lines
 *   LF
 *   body                           the rest, byte for byte
 * Before parsing, "$KEY" becomes a live API key of the store, "$TKEY" a test
 * key, "$EP" an endpoint id and "$MSG" a message id, so the corpus reaches
 * the authenticated handlers and the paths of things that exist.
 *
 * The request is fed through the api seam (struct http_io in
 * src/http/internal.h) the way libmicrohttpd would: the path percent-decoded,
 * query arguments split at '&' and '=' and decoded ('+' is a space), header
 * names case-insensitive. A deferred op is waited for on a condition
 * variable (woken by the op's done() on the committer thread), never slept
 * on. Each input must produce exactly one response with a status in
 * 200..599 whose JSON body parses, and whose body is the error envelope
 * {error:{code,message},meta:{request_id}} when the status is >= 400 (under
 * /api/v1, Svix's {code, detail} or 422 {detail: [{loc, msg, ...}]}; under the
 * rest of /api and /portal, Hookbase's {error:{code,message}} without meta).
 * The committer has no feed sink, so no delivery thread learns of accepted
 * sends, and the test send's sender is a fake that answers 200 without a
 * network (its work still runs on a thread of its own, through
 * http__offload, and wakes the harness like an op): nothing leaves the machine. The store is
 * recreated every FUZZ_RESET_EVERY inputs so it stays small over millions of runs.
 *
 * Built with clang -fsanitize=fuzzer by `make fuzz`; with the normal compiler
 * (FUZZ_REPLAY) it replays the committed corpus (tests/fuzz/corpus/request).
 * See docs/internals/fuzzing.md.
 */
#include <dirent.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "http/internal.h"
#include "service/endpoint_test.h"
#include "store/committer.h"
#include "store/janitor.h"
#include "store/store.h"
#include "util/hex.h"
#include "util/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_RESET_EVERY 20000
#define FUZZ_MAX_INPUT (256 * 1024)
#define FUZZ_MAX_ARGS 64
#define LIVE_KEY "hk_live_f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0"
#define TEST_KEY "hk_test_0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f"

struct kv {
    char *name, *value;
};

/* One request as libmicrohttpd would hand it over, and what came back. */
struct fake {
    struct kv headers[FUZZ_MAX_ARGS], args[FUZZ_MAX_ARGS];
    size_t nheaders, nargs;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool woken;
    int responses;
    unsigned status;
    char *body;
    size_t body_len;
    bool is_json;
};

static struct {
    bool ready;
    char dir[256];
    struct config cfg;
    struct store *writer;
    struct committer *committer;
    struct janitor *janitor;
    struct http_server *api;
    char ep_id[ID_MAX], msg_id[ID_MAX];
    unsigned long runs;
} g;

/* ---- the http_io callbacks ---- */

static const char *fake_lookup(void *ctx, enum MHD_ValueKind kind, const char *name)
{
    struct fake *f = ctx;
    bool header = kind == MHD_HEADER_KIND;
    struct kv *list = header ? f->headers : f->args;
    size_t n = header ? f->nheaders : f->nargs;
    for (size_t i = 0; i < n; i++)
        if (header ? !strcasecmp(list[i].name, name) : !strcmp(list[i].name, name))
            return list[i].value;
    return NULL;
}

static void fake_respond(void *ctx, unsigned status, const char *body, size_t len,
                         const struct http_header *headers, size_t nheaders)
{
    struct fake *f = ctx;
    f->responses++;
    f->status = status;
    free(f->body);
    f->body = malloc(len + 1);
    if (!f->body)
        abort();
    memcpy(f->body, body, len);
    f->body[len] = '\0';
    f->body_len = len;
    f->is_json = false;
    for (size_t i = 0; i < nheaders; i++)
        if (!strcasecmp(headers[i].name, "Content-Type"))
            f->is_json = !strcmp(headers[i].value, "application/json");
}

static void fake_wake(void *ctx)
{
    struct fake *f = ctx;
    pthread_mutex_lock(&f->mu);
    f->woken = true;
    pthread_cond_signal(&f->cond);
    pthread_mutex_unlock(&f->mu);
}

/* ---- the test send's sender (service/endpoint_test.h), faked ---- */

static char *dup_or_die(const char *s)
{
    char *r = strdup(s);
    if (!r)
        abort();
    return r;
}

/* The endpoint is looked up as the real sender does, so 404s stay real. */
static enum err fake_test_load(void *ctx, struct store *s, const char *mode,
                               const char *endpoint_id, void **target, struct err_detail *d)
{
    (void)ctx;
    struct store_endpoint ep = {0};
    enum err e = store_endpoint_get(s, mode, endpoint_id, false, &ep, d);
    store_endpoint_release(&ep);
    *target = e == ERR_OK ? dup_or_die(endpoint_id) : NULL;
    return e;
}

static void fake_test_send(void *ctx, void *target, const char *webhook_id, const char *payload,
                           size_t payload_len, const bool *cancel, struct service_test_attempt *out)
{
    (void)ctx, (void)target, (void)payload, (void)payload_len, (void)cancel;
    memset(out, 0, sizeof(*out));
    out->succeeded = true;
    out->response_status = 200;
    out->latency_ms = 1;
    out->response_body = dup_or_die("ok");
    out->headers = calloc(2, sizeof(*out->headers));
    if (!out->headers)
        abort();
    out->headers[0] =
        (struct service_test_header){dup_or_die("webhook-id"), dup_or_die(webhook_id)};
    out->headers[1] = (struct service_test_header){dup_or_die("Authorization"), NULL};
    out->n_headers = 2;
}

static void fake_test_free(void *ctx, void *target)
{
    (void)ctx;
    free(target);
}

static const struct service_test_sender fake_sender = {
    .load = fake_test_load, .send = fake_test_send, .target_free = fake_test_free};

/* ---- setup and teardown of the store, committer and api ---- */

/* Remove dir and the files in it (the store directory is flat). */
static void rm_dir(const char *dir)
{
    DIR *dh = opendir(dir);
    if (!dh)
        return;
    for (struct dirent *e; (e = readdir(dh));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        remove(path);
    }
    closedir(dh);
    rmdir(dir);
}

static void fail(const char *what, const struct err_detail *d)
{
    fprintf(stderr, "fuzz_request: %s: %s\n", what, d ? d->msg : "");
    abort();
}

static void insert_key(const char *secret, const char *mode)
{
    struct store_api_key k = {0};
    snprintf(k.id, sizeof(k.id), "key_fuzz_%s", mode);
    snprintf(k.mode, sizeof(k.mode), "%s", mode);
    snprintf(k.prefix, sizeof(k.prefix), "hk_%s", mode);
    uint8_t digest[32];
    SHA256((const unsigned char *)secret, strlen(secret), digest);
    struct err_detail d = {0};
    if (store_api_key_insert(g.writer, &k, digest, &d) != ERR_OK)
        fail("cannot insert an api key", &d);
}

static void run_one(const uint8_t *data, size_t size, struct fake *f);

/* Run a request built by the harness and return the string at data.<field>. */
static void setup_request(const char *text, const char *field, char out[ID_MAX])
{
    struct fake f;
    run_one((const uint8_t *)text, strlen(text), &f);
    json_t *root = json_loads(f.body, 0, NULL);
    const char *v = json_string_value(json_object_get(json_object_get(root, "data"), field));
    if (!v)
        fail("setup request failed", NULL);
    snprintf(out, ID_MAX, "%s", v);
    json_decref(root);
    free(f.body);
}

static void fuzz_setup(void)
{
    struct err_detail d = {0};
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(g.dir, sizeof(g.dir), "%s/hookd-fuzz-%d", base, (int)getpid());
    rm_dir(g.dir);
    if (mkdir(g.dir, 0700) != 0)
        fail("cannot create the store directory", NULL);
    char *argv[] = {NULL};
    if (!config_load(&g.cfg, 0, argv))
        fail("config", NULL);
    snprintf(g.cfg.data_dir, sizeof(g.cfg.data_dir), "%s", g.dir);
    g.cfg.allow_http = true;
    g.cfg.allow_private_networks = false;
    g.cfg.api_rate_limit_per_min = 6000000; /* on, so its headers and 429 are reached */
    g.cfg.api_burst = 100000;
    g.cfg.auth_fail_limit_per_min = 600000;
    log_threshold = LOG_ERROR;
    static const uint8_t key[STORE_SECRET_KEY_LEN] = {1, 2, 3}; /* secrets at rest */
    if (store_secrets_set_key(key) != ERR_OK)
        fail("cannot set the encryption key", NULL);
    if (store_open(&g.writer, g.dir, true, &d) != ERR_OK)
        fail("cannot open the store", &d);
    insert_key(LIVE_KEY, "live");
    insert_key(TEST_KEY, "test");
    if (committer_start(&g.committer, g.writer, &d) != ERR_OK)
        fail("committer", &d);
    struct janitor_config jc = {.interval_ms = 86400000, .history_retention_ms = 86400000};
    if (janitor_start(&g.janitor, &jc, g.committer, &d) != ERR_OK)
        fail("janitor", &d);
    /* No feed sink on the committer: nothing is delivered, nothing leaves. */
    struct http_deps deps = {
        .cfg = &g.cfg, .committer = g.committer, .janitor = g.janitor, .test_sender = &fake_sender};
    g.api = http__new(&deps);
    g.ready = true;
    setup_request("POST /v1/endpoints\nAuthorization: Bearer " LIVE_KEY
                  "\n\n{\"url\":\"https://example.com/hook\"}",
                  "id", g.ep_id);
    char send[256];
    snprintf(send, sizeof(send),
             "POST /v1/webhooks/send\nAuthorization: Bearer " LIVE_KEY
             "\n\n{\"endpoint_id\":\"%s\",\"payload\":{\"a\":1}}",
             g.ep_id);
    setup_request(send, "message_id", g.msg_id);
}

static void fuzz_teardown(void)
{
    if (!g.ready)
        return;
    janitor_stop(g.janitor);
    committer_stop(g.committer);
    http__free(g.api);
    store_close(g.writer);
    rm_dir(g.dir);
    memset(&g, 0, sizeof(g));
}

/* ---- input parsing ---- */

/* Input with $KEY, $TKEY, $EP and $MSG replaced; NUL-terminated, *len set. */
static char *substitute(const uint8_t *data, size_t size, size_t *len)
{
    const struct {
        const char *token, *value;
    } subs[] = {{"$TKEY", TEST_KEY}, {"$KEY", LIVE_KEY}, {"$EP", g.ep_id}, {"$MSG", g.msg_id}};
    size_t cap = size * 12 + 1; /* each 4-byte token grows to at most 48 bytes */
    char *out = malloc(cap);
    if (!out)
        abort();
    size_t o = 0;
    for (size_t i = 0; i < size;) {
        bool done = false;
        for (size_t k = 0; !done && k < sizeof(subs) / sizeof(subs[0]); k++) {
            size_t tl = strlen(subs[k].token);
            if (i + tl <= size && !memcmp(data + i, subs[k].token, tl)) {
                size_t vl = strlen(subs[k].value);
                memcpy(out + o, subs[k].value, vl);
                o += vl;
                i += tl;
                done = true;
            }
        }
        if (!done)
            out[o++] = (char)data[i++];
    }
    out[o] = '\0';
    *len = o;
    return out;
}

/* Percent-decode s in place (libmicrohttpd's MHD_http_unescape, plus '+' for args). */
static void unescape(char *s, bool plus)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        int hi, lo;
        if (*p == '%' && (hi = hex_digit(p[1])) >= 0 && (lo = hex_digit(p[2])) >= 0) {
            *o++ = (char)(hi * 16 + lo);
            p += 2;
        } else {
            *o++ = plus && *p == '+' ? ' ' : *p;
        }
    }
    *o = '\0';
}

static void parse_query(struct fake *f, char *q)
{
    char *save = NULL;
    for (char *tok = strtok_r(q, "&", &save); tok && f->nargs < FUZZ_MAX_ARGS;
         tok = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq)
            continue; /* a bare name has no value: lookups return NULL */
        *eq = '\0';
        unescape(tok, true);
        unescape(eq + 1, true);
        f->args[f->nargs++] = (struct kv){tok, eq + 1};
    }
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

/* ---- one request ---- */

static void check(bool ok, const char *what, const struct fake *f)
{
    if (ok)
        return;
    fprintf(stderr, "fuzz_request: %s (status %u, %d responses): %.300s\n", what, f->status,
            f->responses, f->body ? f->body : "(none)");
    abort();
}

static void check_response(const struct http_request *r, const struct fake *f)
{
    check(f->responses == 1, "not exactly one response", f);
    check(f->status >= 200 && f->status <= 599, "status out of range", f);
    if (!f->is_json)
        return;
    json_error_t jerr;
    json_t *root = json_loadb(f->body, f->body_len, 0, &jerr);
    check(root != NULL, "response body is not JSON", f);
    bool svix = r->nseg >= 2 && !strcmp(r->seg[0], "api") && !strcmp(r->seg[1], "v1");
    if (f->status >= 400 && svix) { /* Svix's shapes: {code, detail}, 422 {detail: [...]} */
        json_t *detail = json_object_get(root, "detail");
        json_t *item = json_array_get(detail, 0);
        check((json_is_string(json_object_get(root, "code")) && json_is_string(detail)) ||
                  (f->status == 422 && json_is_array(json_object_get(item, "loc")) &&
                   json_is_string(json_object_get(item, "msg"))),
              "Svix error without code/detail", f);
    } else if (f->status >= 400) {
        json_t *err = json_object_get(root, "error");
        const char *code = json_string_value(json_object_get(err, "code"));
        const char *rid =
            json_string_value(json_object_get(json_object_get(root, "meta"), "request_id"));
        check(code && code[0] && json_is_string(json_object_get(err, "message")),
              "error envelope without code/message", f);
        /* Hookbase's shape (/api/... but /api/v1, and /portal/...) is {error} alone */
        bool hookbase = r->nseg >= 1 && (!strcmp(r->seg[0], "api") || !strcmp(r->seg[0], "portal"));
        check(hookbase || (rid && !strcmp(rid, r->request_id)),
              "error envelope without meta.request_id", f);
    }
    json_decref(root);
}

static void run_one(const uint8_t *data, size_t size, struct fake *f)
{
    memset(f, 0, sizeof(*f));
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cond, NULL);
    size_t len;
    char *text = substitute(data, size, &len);
    /* request line */
    char *line_end = memchr(text, '\n', len);
    char *rest = line_end ? line_end + 1 : text + len;
    if (line_end)
        *line_end = '\0';
    char *line = text;
    size_t ll = strlen(line);
    if (ll && line[ll - 1] == '\r')
        line[ll - 1] = '\0';
    char *sp = strchr(line, ' ');
    char *method = line, *target = (char *)"/";
    if (sp) {
        *sp = '\0';
        target = sp + 1;
    }
    char *path = strdup(target);
    if (!path)
        abort();
    char *q = strchr(path, '?');
    if (q) {
        *q = '\0';
        parse_query(f, q + 1);
    }
    unescape(path, false);
    /* headers, up to an empty line */
    char *end = text + len;
    while (rest < end) {
        char *nl = memchr(rest, '\n', (size_t)(end - rest));
        char *h = rest;
        rest = nl ? nl + 1 : end;
        if (nl)
            *nl = '\0';
        if (!*trim(h))
            break;
        char *colon = strchr(h, ':');
        if (!colon || colon == h || f->nheaders == FUZZ_MAX_ARGS)
            continue;
        *colon = '\0';
        f->headers[f->nheaders++] = (struct kv){h, trim(colon + 1)};
    }
    struct http_io io = {fake_lookup, fake_respond, fake_wake, f};
    struct http_request *r = http__request_new(g.api, NULL, &io, method, path);
    snprintf(r->client_ip, sizeof(r->client_ip), "192.0.2.%u", (unsigned)(size % 4));
    if (rest < end)
        http__request_body(r, rest, (size_t)(end - rest));
    http__request_handle(r);
    while (r->deferred) { /* the op's done() (or an offloaded work) wakes us */
        pthread_mutex_lock(&f->mu);
        while (!f->woken)
            pthread_cond_wait(&f->cond, &f->mu);
        f->woken = false;
        pthread_mutex_unlock(&f->mu);
        http__request_resume(r);
    }
    check_response(r, f);
    if (getenv("FUZZ_VERBOSE"))
        fprintf(stderr, "%s %s -> %u %.200s\n", method, target, f->status, f->body);
    http__request_free(r);
    pthread_cond_destroy(&f->cond);
    pthread_mutex_destroy(&f->mu);
    free(path);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    if (g.ready && ++g.runs % FUZZ_RESET_EVERY == 0)
        fuzz_teardown();
    if (!g.ready) {
        static bool registered;
        if (!registered) /* libFuzzer ends with exit(): remove the store then */
            registered = atexit(fuzz_teardown) == 0;
        unsigned long runs = g.runs;
        fuzz_setup();
        g.runs = runs;
    }
    struct fake f;
    run_one(data, size, &f);
    free(f.body);
    return 0;
}

#ifdef FUZZ_REPLAY
int main(int argc, char **argv)
{
    static uint8_t buf[FUZZ_MAX_INPUT];
    for (int i = 1; i < argc; i++) {
        FILE *fp = fopen(argv[i], "rb");
        if (!fp) {
            fprintf(stderr, "cannot open %s\n", argv[i]);
            return 1;
        }
        size_t n = fread(buf, 1, sizeof(buf), fp);
        fclose(fp);
        LLVMFuzzerTestOneInput(buf, n);
    }
    fuzz_teardown();
    printf("replayed %d corpus files\n", argc - 1);
    return 0;
}
#endif

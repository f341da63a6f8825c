/*
 * server - libmicrohttpd glue (see http.h, internal.h):
 * request contexts, body accumulation with a ceiling, suspend/resume around
 * commit ops, the read-store pool, draining and shutdown, connection limits
 * and the idle timeout, and work offloaded to threads of its own
 * (http__offload). The request seam lives here too: header and query
 * lookups, the response and the op wakeup go to libmicrohttpd, or to the
 * struct http_io of a request that has one (the fuzz harness).
 * SPDX-License-Identifier: MIT
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include "http/internal.h"
#include "surface/hookbase/hookbase.h"
#include "surface/svix/svix.h"
#include "util/log.h"

struct store *http__store_acquire(struct http_server *a)
{
    pthread_mutex_lock(&a->pool_mu);
    struct store *s = a->pool_len ? a->pool[--a->pool_len] : NULL;
    pthread_mutex_unlock(&a->pool_mu);
    if (s)
        return s;
    struct err_detail d = {0};
    if (store_open(&s, config_db(a->deps.cfg), false, &d) != ERR_OK) {
        log_error("api", "cannot open a read connection: %s", d.msg);
        return NULL;
    }
    return s;
}

void http__store_release(struct http_server *a, struct store *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&a->pool_mu);
    if (a->pool_len == a->pool_cap) {
        a->pool_cap = a->pool_cap ? a->pool_cap * 2 : 8;
        a->pool = realloc(a->pool, a->pool_cap * sizeof(*a->pool));
        if (!a->pool)
            abort();
    }
    a->pool[a->pool_len++] = s;
    pthread_mutex_unlock(&a->pool_mu);
}

/* The op's done() (committer thread): wake its request up. */
static void op_done(struct commit_op *op)
{
    struct http_request *r = ((struct service_op *)op)->waiter;
    if (r->io)
        r->io->wake(r->io->ctx);
    else
        MHD_resume_connection(r->conn);
}

void http__defer(struct http_request *r, struct service_op *op, http_resume_fn fn)
{
    op->waiter = r;
    op->op.done = op_done;
    r->deferred = true;
    r->resume_fn = fn;
    r->op = op;
    __atomic_add_fetch(&r->server->suspended, 1, __ATOMIC_SEQ_CST);
    if (!r->io)
        MHD_suspend_connection(r->conn);
    committer_submit(r->server->deps.committer, &op->op);
}

/* One offloaded work: its request and function, and the server it counts against. */
struct offload {
    struct http_server *a;
    struct http_request *r;
    http_work_fn work;
};

static void *offload_main(void *arg)
{
    struct offload *o = arg;
    struct http_server *a = o->a;
    struct http_request *r = o->r;
    o->work(r, &a->offload_cancel);
    free(o);
    /* From here on r belongs to its MHD thread, which may free it at once. */
    if (r->io)
        r->io->wake(r->io->ctx);
    else
        MHD_resume_connection(r->conn);
    pthread_mutex_lock(&a->offload_mu);
    a->offloads--;
    pthread_cond_broadcast(&a->offload_cv);
    pthread_mutex_unlock(&a->offload_mu);
    return NULL;
}

bool http__offload(struct http_request *r, void *op, http_work_fn work, http_resume_fn resume)
{
    struct http_server *a = r->server;
    pthread_mutex_lock(&a->offload_mu);
    bool room = a->offloads < HTTP_OFFLOAD_MAX && !a->offload_cancel;
    if (room)
        a->offloads++;
    pthread_mutex_unlock(&a->offload_mu);
    if (!room)
        return false;
    struct offload *o = malloc(sizeof(*o));
    if (!o)
        abort();
    *o = (struct offload){.a = a, .r = r, .work = work};
    r->deferred = true;
    r->resume_fn = resume;
    r->op = op;
    __atomic_add_fetch(&a->suspended, 1, __ATOMIC_SEQ_CST);
    if (!r->io)
        MHD_suspend_connection(r->conn); /* before the thread may resume it */
    pthread_attr_t attr;
    pthread_t tid;
    int rc = pthread_attr_init(&attr);
    if (rc == 0) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        rc = pthread_create(&tid, &attr, offload_main, o);
        pthread_attr_destroy(&attr);
    }
    if (rc != 0) {
        log_error("api", "request_id=%s cannot start a thread (%s): working on this one",
                  r->request_id, strerror(rc));
        offload_main(o);
    }
    return true;
}

/* Ask every offloaded work to end and wait until none runs. */
static void offload_join(struct http_server *a)
{
    pthread_mutex_lock(&a->offload_mu);
    __atomic_store_n(&a->offload_cancel, true, __ATOMIC_SEQ_CST);
    while (a->offloads > 0)
        pthread_cond_wait(&a->offload_cv, &a->offload_mu);
    pthread_mutex_unlock(&a->offload_mu);
}

const char *http__query(struct http_request *r, const char *name)
{
    if (r->io)
        return r->io->lookup(r->io->ctx, MHD_GET_ARGUMENT_KIND, name);
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http__header(struct http_request *r, const char *name)
{
    if (r->io)
        return r->io->lookup(r->io->ctx, MHD_HEADER_KIND, name);
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

/* The response for r; body_take is freed here when take, else copied. */
static void respond(struct http_request *r, unsigned status, char *body, size_t len, bool take,
                    const struct http_header *headers, size_t nheaders)
{
    r->status = status;
    r->responded = true;
    if (r->io) {
        r->io->respond(r->io->ctx, status, body, len, headers, nheaders);
        if (take)
            free(body);
        return;
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        len, body, take ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_MUST_COPY);
    if (!resp) { /* out of memory: drop the connection rather than abort */
        log_error("api", "request_id=%s cannot create a response", r->request_id);
        if (take)
            free(body);
        return;
    }
    for (size_t i = 0; i < nheaders; i++)
        MHD_add_response_header(resp, headers[i].name, headers[i].value);
    if (r->cors_origin[0]) {
        MHD_add_response_header(resp, "Access-Control-Allow-Origin", r->cors_origin);
        MHD_add_response_header(resp, "Vary", "Origin");
    }
    if (MHD_queue_response(r->conn, status, resp) != MHD_YES)
        log_warn("api", "request_id=%s cannot queue the %u response", r->request_id, status);
    MHD_destroy_response(resp);
}

void http__respond_raw(struct http_request *r, unsigned status, const char *body, size_t len,
                       const struct http_header *headers, size_t nheaders)
{
    respond(r, status, (char *)body, len, false, headers, nheaders);
}

void http__respond_take(struct http_request *r, unsigned status, char *body_take, size_t len,
                        const struct http_header *headers, size_t nheaders)
{
    respond(r, status, body_take, len, true, headers, nheaders);
}

static void split_path(struct http_request *r, const char *url)
{
    snprintf(r->path_buf, sizeof(r->path_buf), "%s", url);
    r->nseg = 0;
    char *save = NULL;
    for (char *tok = strtok_r(r->path_buf, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
        if (r->nseg == HTTP_PATH_SEGMENTS) {
            r->nseg = HTTP_PATH_SEGMENTS + 1; /* too deep: no route matches */
            break;
        }
        r->seg[r->nseg++] = tok;
    }
}

void http__request_body(struct http_request *r, const char *data, size_t len)
{
    if (r->body_too_large || r->body_len + len > HTTP_MAX_BODY) {
        r->body_too_large = true;
        return;
    }
    if (r->body_len + len + 1 > r->body_cap) {
        size_t cap = r->body_cap ? r->body_cap : 4096;
        while (cap < r->body_len + len + 1)
            cap *= 2;
        r->body = realloc(r->body, cap);
        if (!r->body)
            abort();
        r->body_cap = cap;
    }
    memcpy(r->body + r->body_len, data, len);
    r->body_len += len;
    r->body[r->body_len] = '\0';
}

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* v as a logfmt value into out: bare when it is a plain token, else quoted with
 * '"' and '\\' escaped and control bytes as '?'; truncated to fit out. */
static void logfmt_value(char *out, size_t len, const char *v)
{
    bool bare = *v != '\0';
    for (const char *p = v; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p == 0x7f)
            bare = false;
    size_t n = 0;
    if (!bare)
        out[n++] = '"';
    for (const char *p = v; *p && n + 4 < len; p++) {
        unsigned char c = (unsigned char)*p;
        if (bare) {
            out[n++] = (char)c;
        } else if (c == '"' || c == '\\') {
            out[n++] = '\\';
            out[n++] = (char)c;
        } else {
            out[n++] = c < ' ' || c == 0x7f ? '?' : (char)c;
        }
    }
    if (!bare)
        out[n++] = '"';
    out[n] = '\0';
}

/* The request log line (info): same request_id as the response's meta. */
static void log_request(const struct http_request *r)
{
    char method[40], path[300], status[12], fields[640];
    logfmt_value(method, sizeof(method), r->method ? r->method : "");
    logfmt_value(path, sizeof(path), r->url ? r->url : "");
    if (r->status)
        snprintf(status, sizeof(status), "%u", r->status);
    else
        snprintf(status, sizeof(status), "-");
    int64_t us = mono_us() - r->started_mono_us;
    snprintf(fields, sizeof(fields),
             "request_id=%s method=%s path=%s status=%s duration_ms=%lld.%03lld%s%s", r->request_id,
             method, path, status, (long long)(us / 1000), (long long)(us % 1000),
             r->authenticated ? " key=" : "", r->authenticated ? r->key.id : "");
    log_write(LOG_INFO, "http", fields, "%s",
              r->status ? "request" : "client went away before the response");
}

const char *http__client_ip(struct http_request *r)
{
    if (r->client_ip[0])
        return r->client_ip;
    const union MHD_ConnectionInfo *ci =
        r->conn ? MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS) : NULL;
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, r->client_ip,
                  sizeof(r->client_ip));
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
                  r->client_ip, sizeof(r->client_ip));
    if (!r->client_ip[0])
        snprintf(r->client_ip, sizeof(r->client_ip), "local");
    return r->client_ip;
}

struct http_request *http__request_new(struct http_server *a, struct MHD_Connection *conn,
                                       const struct http_io *io, const char *method,
                                       const char *url)
{
    struct http_request *r = calloc(1, sizeof(*r));
    if (!r)
        abort();
    r->server = a;
    __atomic_add_fetch(&a->live_requests, 1, __ATOMIC_SEQ_CST);
    r->conn = conn;
    r->io = io;
    r->method = method;
    r->url = url;
    r->started_mono_us = mono_us();
    id_prefixed_hex(r->request_id, sizeof(r->request_id), "req_", 24);
    split_path(r, url);
    return r;
}

void http__request_handle(struct http_request *r)
{
    struct http_server *a = r->server;
    __atomic_add_fetch(&a->stats.requests, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&a->active_submitters, 1, __ATOMIC_SEQ_CST);
    svix_claim(r);     /* errors before routing answer in the Svix shape under /api/v1 */
    hookbase_claim(r); /* and in Hookbase's under the rest of /api and /portal */
    if (__atomic_load_n(&a->draining, __ATOMIC_SEQ_CST))
        http__respond_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "SHUTTING_DOWN",
                            "hookd is shutting down; retry against another node or later");
    else
        http__route(r);
    __atomic_sub_fetch(&a->active_submitters, 1, __ATOMIC_SEQ_CST);
}

void http__request_resume(struct http_request *r)
{
    r->deferred = false;
    __atomic_sub_fetch(&r->server->suspended, 1, __ATOMIC_SEQ_CST);
    r->resume_fn(r);
}

void http__request_free(struct http_request *r)
{
    if (!r)
        return;
    __atomic_sub_fetch(&r->server->live_requests, 1, __ATOMIC_SEQ_CST);
    if (r->deferred) {
        /* Resumed after its op finished, but the client had gone: the
         * resume callback still owns and frees the op. */
        r->abandoned = true;
        http__request_resume(r);
    }
    if (log_threshold >= LOG_INFO)
        log_request(r);
    free(r->body);
    free(r);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct http_request *r = *con_cls;
    (void)version;
    if (!r) {
        *con_cls = http__request_new(cls, conn, NULL, method, url);
        return MHD_YES;
    }
    if (*upload_data_size) {
        http__request_body(r, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (r->deferred) { /* resumed after the committer finished our op */
        http__request_resume(r);
        return MHD_YES;
    }
    if (r->responded)
        return MHD_YES;
    http__request_handle(r);
    return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    http__request_free(*con_cls);
    *con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    log_warn("http", "%s", msg);
}

struct http_server *http__new(const struct http_deps *deps)
{
    struct http_server *a = calloc(1, sizeof(*a));
    if (!a)
        abort();
    a->deps = *deps;
    pthread_mutex_init(&a->pool_mu, NULL);
    pthread_mutex_init(&a->gauges_mu, NULL);
    pthread_mutex_init(&a->offload_mu, NULL);
    pthread_cond_init(&a->offload_cv, NULL);
    const struct config *cfg = deps->cfg;
    a->ratelimit = http__ratelimit_new(cfg->api_rate_limit_per_min, cfg->api_burst);
    a->authfail = http__authfail_new(cfg->auth_fail_limit_per_min);
    a->keycache = http__keycache_new();
    return a;
}

void http__free(struct http_server *a)
{
    if (!a)
        return;
    offload_join(a); /* a no-op after http_stop */
    for (size_t i = 0; i < a->pool_len; i++)
        store_close(a->pool[i]);
    free(a->pool);
    pthread_mutex_destroy(&a->pool_mu);
    pthread_mutex_destroy(&a->gauges_mu);
    pthread_mutex_destroy(&a->offload_mu);
    pthread_cond_destroy(&a->offload_cv);
    http__ratelimit_free(a->ratelimit);
    http__authfail_free(a->authfail);
    http__keycache_free(a->keycache);
    free(a);
}

/* The connection cap, lowered to what the file descriptor limit allows (raised
 * to its hard maximum when needed), keeping FD_RESERVE for the store, curl and
 * the dispatcher. */
#define FD_RESERVE 256
static unsigned connection_cap(unsigned want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return want;
    rlim_t need = (rlim_t)want + FD_RESERVE;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
        rlim_t hard = rl.rlim_max;
        rl.rlim_cur = hard == RLIM_INFINITY || hard >= need ? need : hard;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
        unsigned cap = rl.rlim_cur > 2 * FD_RESERVE ? (unsigned)(rl.rlim_cur - FD_RESERVE)
                                                    : (unsigned)(rl.rlim_cur / 2);
        log_warn("api",
                 "open file limit %llu allows %u connections, not api-max-connections=%u; "
                 "raise 'ulimit -n' (LimitNOFILE=)",
                 (unsigned long long)rl.rlim_cur, cap, want);
        return cap;
    }
    return want;
}

enum err http_start(struct http_server **out, const struct http_deps *deps, struct err_detail *d)
{
    const struct config *cfg = deps->cfg;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG;
    const char *host = cfg->listen_host;
    if (!strcmp(host, "localhost"))
        host = "127.0.0.1";
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)cfg->listen_port);
    } else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)cfg->listen_port);
        flags |= MHD_USE_IPv6;
    } else {
        return err_set(d, ERR_INVAL, "", "listen host '%s' is not an IP address", host);
    }
    struct http_server *a = http__new(deps);
    /*
     * Idle and slow clients: a connection without a byte in or out for
     * api_idle_timeout is closed (keep-alive idle included); at most
     * api_max_connections are open at once (more are accepted and closed at
     * once by libmicrohttpd), and api_max_connections_per_ip per address.
     */
    unsigned timeout_s = (unsigned)((cfg->api_idle_timeout_ms + 999) / 1000);
    /* libmicrohttpd clears a connection's whole pool before each keep-alive
     * request: at 64 KiB that was a third of the instructions of a send. 16 KiB
     * holds the request line and headers (our ceiling, CONVENTIONS.md) and the
     * response headers; bodies are copied out as they arrive. */
    enum { API_CONNECTION_POOL = 16 * 1024 };
    a->daemon = MHD_start_daemon(
        flags, (uint16_t)cfg->listen_port, NULL, NULL, on_request, a, MHD_OPTION_EXTERNAL_LOGGER,
        on_mhd_log, a, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)cfg->api_threads, MHD_OPTION_NOTIFY_COMPLETED, on_completed, a,
        MHD_OPTION_CONNECTION_TIMEOUT, timeout_s, MHD_OPTION_CONNECTION_LIMIT,
        connection_cap((unsigned)cfg->api_max_connections), MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)cfg->api_max_connections_per_ip, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)API_CONNECTION_POOL, MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
        MHD_OPTION_END);
    if (!a->daemon) {
        http__free(a);
        return err_set(d, ERR_IO, "", "cannot listen on %s (address in use or not permitted)",
                       cfg->listen);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(a->daemon, MHD_DAEMON_INFO_BIND_PORT);
    a->port = info ? info->port : cfg->listen_port;
    *out = a;
    return ERR_OK;
}

int http_port(const struct http_server *a)
{
    return a->port;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

void http_drain(struct http_server *a)
{
    __atomic_store_n(&a->draining, true, __ATOMIC_SEQ_CST);
    MHD_quiesce_daemon(a->daemon);
    while (__atomic_load_n(&a->active_submitters, __ATOMIC_SEQ_CST) > 0)
        sleep_ms(1);
}

void http_stop(struct http_server *a)
{
    if (!a)
        return;
    /* Offloaded works (test sends) are told to end, and have ended: each
     * resumed its connection before it went. */
    offload_join(a);
    /* Every op is done by now; let resumed connections send their answers. */
    for (int i = 0; i < 2000 && __atomic_load_n(&a->suspended, __ATOMIC_SEQ_CST) > 0; i++)
        sleep_ms(1);
    /* ... and let the answers queued go out: a request ends (and is freed)
     * once libmicrohttpd has sent its response. Bounded: a client that stops
     * reading does not hold the shutdown. */
    for (int i = 0; i < 2000 && __atomic_load_n(&a->live_requests, __ATOMIC_SEQ_CST) > 0; i++)
        sleep_ms(1);
    MHD_stop_daemon(a->daemon);
    http__free(a);
}

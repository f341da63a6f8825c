/*
 * transform - the pool of jq helper processes, inside hookd; see
 * transform.h for the contract and the design, transform_helper.c for the
 * other side of the socket.
 *
 * A caller takes an idle helper (preferring one that ran the same program
 * recently, so its compiled copy is warm), starts it when the slot is
 * empty, writes one request and reads one reply under a wall-clock
 * deadline, and gives the helper back. Any failure of the exchange (a
 * closed socket, a malformed reply, the deadline) ends that helper: it is
 * killed and reaped here, by the caller that held it, and the wait status
 * says why it died (SIGPROF: time budget; SIGVTALRM: compile budget; exit
 * TRANSFORM__EXIT_NOMEM: memory budget). The slot then starts a new helper
 * on its next use. The mutex guards only the slot table and counters; no
 * I/O happens under it.
 * XXX: helpers are reaped with waitpid on their own pid; a process that
 * reaped every child (waitpid(-1)) would steal their statuses. hookd has none.
 * SPDX-License-Identifier: MIT
 */
#include "deliver/transform.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/validate.h"
#include "deliver/transform_internal.h"

#define RECENT 16 /* program hashes remembered per helper for affinity */
#define MAX_META_BYTES 8192

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif

struct helper {
    pid_t pid; /* 0 = not running */
    int fd;    /* our end of its socket, non-blocking; -1 when not running */
    bool busy; /* held by one caller, who alone touches pid, fd and the socket */
    uint64_t recent[RECENT];
    unsigned recent_next;
};

struct transform_pool {
    pthread_mutex_t mu;
    pthread_cond_t idle;
    int time_budget_ms;
    size_t memory_budget_bytes;
    int n;
    struct helper *helpers;
    struct transform_stats stats;
};

/* One reply read from a helper. */
struct reply {
    struct transform__rep rep;
    char *body;    /* rep.body_len bytes + NUL, or NULL */
    char *headers; /* rep.headers_len bytes + NUL, or NULL */
    char msg[TRANSFORM__MAX_MSG_BYTES + 1];
};

enum io { IO_OK, IO_CLOSED, IO_TIMEOUT, IO_BROKEN };

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- helpers: start, stop ------------------------------------------------ */

/* Start a helper in h (held by the caller). */
static enum err helper_start(struct transform_pool *tp, struct helper *h, struct err_detail *d)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return err_set(d, ERR_IO, TRANSFORM_FAILED_CODE,
                       "cannot start a transformation process: socketpair: %s", strerror(errno));

    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_adddup2(&fa, sv[1], TRANSFORM__FD);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
#ifndef SANITIZED
    /* jq's `stderr` builtin writes there: keep programs out of hookd's log
     * (sanitizer builds keep it for their reports) */
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
#endif
    /* the calling thread's mask and hookd's ignored signals (SIGPIPE) would
     * survive exec; the budgets need SIGPROF and SIGVTALRM at their defaults */
    sigset_t none, dflt;
    sigemptyset(&none);
    sigemptyset(&dflt);
    int dflt_signals[] = {SIGPIPE, SIGPROF, SIGVTALRM, SIGALRM, SIGTERM,
                          SIGINT,  SIGHUP,  SIGUSR1,   SIGUSR2, SIGCHLD};
    for (size_t i = 0; i < sizeof(dflt_signals) / sizeof(dflt_signals[0]); i++)
        sigaddset(&dflt, dflt_signals[i]);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &dflt);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    /* the environment: who the parent is, and sanitizer settings only */
    char parent[64];
    snprintf(parent, sizeof(parent), "%s=%ld", TRANSFORM__ENV, (long)getpid());
    char *envp[5] = {parent, NULL, NULL, NULL, NULL};
    char *owned[3] = {NULL, NULL, NULL};
    static const char *const passed[] = {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"};
    int ne = 1;
    for (size_t i = 0; i < 3; i++) {
        const char *v = getenv(passed[i]);
#ifdef SANITIZED
        /* the memory budget makes allocations fail on purpose: ASan must
         * return NULL to jq (whose handler answers) instead of aborting */
        const char *extra = i == 0 ? "allocator_may_return_null=1" : NULL;
#else
        const char *extra = NULL;
#endif
        if ((!v && !extra) || (v && strlen(v) > 4096))
            continue;
        size_t len = strlen(passed[i]) + (v ? strlen(v) : 0) + (extra ? strlen(extra) : 0) + 3;
        owned[i] = malloc(len);
        if (!owned[i])
            abort();
        snprintf(owned[i], len, "%s=%s%s%s", passed[i], v ? v : "", v && extra ? ":" : "",
                 extra ? extra : "");
        envp[ne++] = owned[i];
    }
    char *argv[] = {(char *)transform__helper_argv0, NULL};

    pid_t pid = 0;
    int rc = posix_spawn(&pid, "/proc/self/exe", &fa, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    for (size_t i = 0; i < 3; i++)
        free(owned[i]);
    close(sv[1]);
    if (rc != 0) {
        close(sv[0]);
        return err_set(d, ERR_IO, TRANSFORM_FAILED_CODE,
                       "cannot start a transformation process: %s", strerror(rc));
    }
    int fl = fcntl(sv[0], F_GETFL);
    if (fl < 0 || fcntl(sv[0], F_SETFL, fl | O_NONBLOCK) != 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        close(sv[0]);
        return err_set(d, ERR_IO, TRANSFORM_FAILED_CODE,
                       "cannot start a transformation process: fcntl: %s", strerror(errno));
    }
    h->pid = pid;
    h->fd = sv[0];
    memset(h->recent, 0, sizeof(h->recent));
    h->recent_next = 0;
    pthread_mutex_lock(&tp->mu);
    tp->stats.helper_starts++;
    pthread_mutex_unlock(&tp->mu);
    return ERR_OK;
}

static void helper_forget(struct transform_pool *tp, struct helper *h)
{
    close(h->fd);
    h->fd = -1;
    h->pid = 0;
    pthread_mutex_lock(&tp->mu);
    tp->stats.helper_deaths++;
    pthread_mutex_unlock(&tp->mu);
}

/* Kill (if still running) and reap h; returns its wait status, -1 if unknown. */
static int helper_stop(struct transform_pool *tp, struct helper *h)
{
    int st = -1;
    /* a helper that closed its socket is already exiting: SIGKILL does not
     * replace the signal or exit status it dies with */
    kill(h->pid, SIGKILL);
    while (waitpid(h->pid, &st, 0) < 0 && errno == EINTR)
        ;
    helper_forget(tp, h);
    return st;
}

/* True when h exited on its own while idle (then it is reaped and forgotten). */
static bool helper_exited(struct transform_pool *tp, struct helper *h)
{
    int st;
    if (waitpid(h->pid, &st, WNOHANG) != h->pid)
        return false;
    helper_forget(tp, h);
    return true;
}

/* ---- taking and giving back --------------------------------------------- */

static bool has_recent(const struct helper *h, uint64_t hash)
{
    for (int i = 0; i < RECENT; i++)
        if (h->recent[i] == hash)
            return true;
    return false;
}

/* Hold a helper slot: warm for hash if one is idle, else any running idle
 * helper, else an empty slot; waits while all are busy. */
static struct helper *acquire(struct transform_pool *tp, uint64_t hash)
{
    pthread_mutex_lock(&tp->mu);
    struct helper *got = NULL;
    while (!got) {
        struct helper *any = NULL, *empty = NULL;
        for (int i = 0; i < tp->n; i++) {
            struct helper *h = &tp->helpers[i];
            if (h->busy)
                continue;
            if (h->pid && has_recent(h, hash)) {
                got = h;
                break;
            }
            if (h->pid && !any)
                any = h;
            if (!h->pid && !empty)
                empty = h;
        }
        if (!got)
            got = any ? any : empty;
        if (!got)
            pthread_cond_wait(&tp->idle, &tp->mu);
    }
    got->busy = true;
    pthread_mutex_unlock(&tp->mu);
    return got;
}

static void release(struct transform_pool *tp, struct helper *h, uint64_t hash)
{
    pthread_mutex_lock(&tp->mu);
    if (h->pid && !has_recent(h, hash)) {
        h->recent[h->recent_next] = hash;
        h->recent_next = (h->recent_next + 1) % RECENT;
    }
    h->busy = false;
    pthread_cond_signal(&tp->idle);
    pthread_mutex_unlock(&tp->mu);
}

/* ---- I/O with a deadline ------------------------------------------------- */

/* Wait until fd is ready for events; false at the deadline. */
static bool wait_fd(int fd, short events, int64_t deadline_ms)
{
    for (;;) {
        int64_t left = deadline_ms - now_ms();
        if (left <= 0)
            return false;
        struct pollfd p = {.fd = fd, .events = events};
        int r = poll(&p, 1, left > 60000 ? 60000 : (int)left);
        if (r > 0)
            return true; /* ready, or an error/hangup the next call reports */
        if (r < 0 && errno != EINTR)
            return true;
    }
}

static enum io send_iov(int fd, struct iovec *iov, int cnt, int64_t deadline_ms)
{
    while (cnt > 0) {
        struct msghdr m = {.msg_iov = iov, .msg_iovlen = (size_t)cnt};
        ssize_t n = sendmsg(fd, &m, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) { /* == EWOULDBLOCK on Linux */
                if (!wait_fd(fd, POLLOUT, deadline_ms))
                    return IO_TIMEOUT;
                continue;
            }
            return IO_CLOSED;
        }
        transform__iov_advance(&iov, &cnt, (size_t)n);
    }
    return IO_OK;
}

static enum io recv_full(int fd, void *buf, size_t len, int64_t deadline_ms)
{
    char *p = buf;
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, p + got, len - got);
        if (n > 0) {
            got += (size_t)n;
            continue;
        }
        if (n == 0)
            return IO_CLOSED;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN)
            return IO_CLOSED;
        if (!wait_fd(fd, POLLIN, deadline_ms))
            return IO_TIMEOUT;
    }
    return IO_OK;
}

/* Copy up to len bytes of the scratch buffer into dst, then read the rest. */
static enum io take(int fd, char *dst, size_t len, const char **scratch, size_t *have,
                    int64_t deadline_ms)
{
    size_t n = len < *have ? len : *have;
    memcpy(dst, *scratch, n);
    *scratch += n;
    *have -= n;
    return n < len ? recv_full(fd, dst + n, len - n, deadline_ms) : IO_OK;
}

/*
 * Read a reply. It cannot have arrived when this starts, so it waits first,
 * then reads the header and the start of the parts in one call (a small
 * reply is one read). IO_BROKEN for a header out of range.
 */
static enum io recv_reply(int fd, struct reply *out, int64_t deadline_ms)
{
    char scratch[4096];
    size_t got = 0, have = 0;
    while (got < sizeof(out->rep)) {
        if (!wait_fd(fd, POLLIN, deadline_ms))
            return IO_TIMEOUT;
        struct iovec iv[2] = {{(char *)&out->rep + got, sizeof(out->rep) - got},
                              {scratch, sizeof(scratch)}};
        ssize_t n = readv(fd, iv, 2);
        if (n == 0)
            return IO_CLOSED;
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return IO_CLOSED;
        }
        size_t head = sizeof(out->rep) - got;
        if ((size_t)n < head) {
            got += (size_t)n;
        } else {
            got += head;
            have = (size_t)n - head;
        }
    }
    const struct transform__rep *r = &out->rep;
    if (r->magic != TRANSFORM__REP_MAGIC || r->status > TRANSFORM__REP_BADREQUEST ||
        r->body_len > VALIDATE_MAX_PAYLOAD_BYTES || r->headers_len > TRANSFORM__MAX_HEADERS_BYTES ||
        r->msg_len > TRANSFORM__MAX_MSG_BYTES ||
        have > (size_t)r->body_len + r->headers_len + r->msg_len)
        return IO_BROKEN;

    const char *sp = scratch;
    enum io io = IO_OK;
    if (r->body_len > 0 || r->status == TRANSFORM__REP_OK) {
        out->body = malloc((size_t)r->body_len + 1);
        if (!out->body)
            abort();
        io = take(fd, out->body, r->body_len, &sp, &have, deadline_ms);
        out->body[r->body_len] = '\0';
    }
    if (io == IO_OK && r->headers_len > 0) {
        out->headers = malloc((size_t)r->headers_len + 1);
        if (!out->headers)
            abort();
        io = take(fd, out->headers, r->headers_len, &sp, &have, deadline_ms);
        out->headers[r->headers_len] = '\0';
    }
    if (io == IO_OK)
        io = take(fd, out->msg, r->msg_len, &sp, &have, deadline_ms);
    out->msg[io == IO_OK ? r->msg_len : 0] = '\0';
    return io;
}

static void reply_release(struct reply *r)
{
    free(r->body);
    free(r->headers);
    r->body = r->headers = NULL;
}

static void format_bytes(char *buf, size_t size, size_t n)
{
    if (n % (1024 * 1024) == 0)
        snprintf(buf, size, "%zu MiB", n / (1024 * 1024));
    else
        snprintf(buf, size, "%zu bytes", n);
}

/* The error for a helper that died or broke the exchange; st its wait status. */
static enum err death_error(enum io io, int st, int time_budget_ms, size_t memory_budget,
                            int64_t waited_ms, struct err_detail *d)
{
    char mem[32];
    format_bytes(mem, sizeof(mem), memory_budget);
    if (st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGPROF)
        return err_set(d, ERR_TIMEOUT, TRANSFORM_FAILED_CODE,
                       "transformation exceeded its time budget of %d ms of CPU", time_budget_ms);
    if (st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGVTALRM)
        return err_set(d, ERR_TIMEOUT, TRANSFORM_FAILED_CODE,
                       "transformation did not compile within %d ms of CPU",
                       TRANSFORM_COMPILE_BUDGET_MS);
    if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == TRANSFORM__EXIT_NOMEM)
        return err_set(d, ERR_LIMIT, TRANSFORM_FAILED_CODE,
                       "transformation exceeded its memory budget of %s", mem);
    if (io == IO_TIMEOUT)
        return err_set(d, ERR_TIMEOUT, TRANSFORM_FAILED_CODE,
                       "transformation did not finish within %lld ms of wall-clock time; its "
                       "process was killed",
                       (long long)waited_ms);
    if (st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS)
        return err_set(d, ERR_IO, TRANSFORM_FAILED_CODE,
                       "transformation process was stopped by its sandbox");
    if (st != -1 && WIFSIGNALED(st))
        return err_set(d, ERR_IO, TRANSFORM_FAILED_CODE, "transformation process died (signal %d)",
                       WTERMSIG(st));
    if (io == IO_BROKEN)
        return err_set(d, ERR_IO, TRANSFORM_FAILED_CODE,
                       "transformation process sent a malformed reply");
    if (st != -1 && WIFEXITED(st))
        return err_set(d, ERR_IO, TRANSFORM_FAILED_CODE,
                       "transformation process exited unexpectedly (status %d)", WEXITSTATUS(st));
    return err_set(d, ERR_IO, TRANSFORM_FAILED_CODE, "transformation process died");
}

/*
 * One request on one helper: input (cnt parts, input_len bytes in all) is
 * empty for a compile. On ERR_OK, out holds the reply (the caller releases
 * it); otherwise the helper is gone and d says why.
 */
static enum err exchange(struct transform_pool *tp, enum transform__op op, const char *program,
                         size_t program_len, const struct iovec *input, int cnt, size_t input_len,
                         int time_budget_ms, size_t memory_budget, struct reply *out,
                         struct err_detail *d)
{
    memset(out, 0, sizeof(*out));
    uint64_t hash = transform__hash(program, program_len);
    struct helper *h = acquire(tp, hash);
    if (h->pid)
        helper_exited(tp, h); /* died while idle (killed from outside): start a fresh one */
    enum err e = ERR_OK;
    if (!h->pid && (e = helper_start(tp, h, d)) != ERR_OK) {
        release(tp, h, hash);
        return e;
    }

    struct transform__req req = {
        .magic = TRANSFORM__REQ_MAGIC,
        .op = (uint32_t)op,
        .program_len = (uint32_t)program_len,
        .input_len = (uint32_t)input_len,
        .time_budget_ms = (uint32_t)time_budget_ms,
        .compile_budget_ms = TRANSFORM_COMPILE_BUDGET_MS,
        .memory_budget_bytes = memory_budget,
    };
    struct iovec iov[8];
    int n = 0;
    iov[n++] = (struct iovec){&req, sizeof(req)};
    iov[n++] = (struct iovec){(void *)program, program_len};
    for (int i = 0; i < cnt && n < 8; i++)
        iov[n++] = input[i];

    int64_t start = now_ms();
    int64_t deadline =
        start + TRANSFORM_COMPILE_BUDGET_MS + time_budget_ms + TRANSFORM_WALL_SLACK_MS;
    enum io io = send_iov(h->fd, iov, n, deadline);
    if (io == IO_OK)
        io = recv_reply(h->fd, out, deadline);
    if (io != IO_OK) {
        int st = helper_stop(tp, h);
        e = death_error(io, st, time_budget_ms, memory_budget, now_ms() - start, d);
        reply_release(out);
        release(tp, h, hash);
        return e;
    }
    /* these helpers exit after answering */
    if (out->rep.status == TRANSFORM__REP_NOMEM || out->rep.status == TRANSFORM__REP_BADREQUEST)
        helper_stop(tp, h);
    pthread_mutex_lock(&tp->mu);
    tp->stats.compiles += out->rep.compiled ? 1 : 0;
    pthread_mutex_unlock(&tp->mu);
    release(tp, h, hash);
    return ERR_OK;
}

/* ---- public --------------------------------------------------------------- */

enum err transform_pool_new(struct transform_pool **out, const struct transform_config *cfg,
                            struct err_detail *d)
{
    *out = NULL;
    struct transform_config c = {0};
    if (cfg)
        c = *cfg;
    if (c.helpers == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        c.helpers = cores < 2 ? 2 : cores > 16 ? 16 : (int)cores;
    }
    if (c.time_budget_ms == 0)
        c.time_budget_ms = TRANSFORM_DEFAULT_TIME_BUDGET_MS;
    if (c.memory_budget_bytes == 0)
        c.memory_budget_bytes = TRANSFORM_DEFAULT_MEMORY_BUDGET_BYTES;
    if (c.helpers < 1 || c.helpers > TRANSFORM_MAX_HELPERS)
        return err_set(d, ERR_INVAL, TRANSFORM_FAILED_CODE, "transform helpers must be 1..%d",
                       TRANSFORM_MAX_HELPERS);
    if (c.time_budget_ms < 1 || c.time_budget_ms > TRANSFORM_MAX_TIME_BUDGET_MS)
        return err_set(d, ERR_INVAL, TRANSFORM_FAILED_CODE,
                       "transformation time budget must be 1..%d ms", TRANSFORM_MAX_TIME_BUDGET_MS);
    if (c.memory_budget_bytes < TRANSFORM_MIN_MEMORY_BUDGET_BYTES ||
        c.memory_budget_bytes > TRANSFORM_MAX_MEMORY_BUDGET_BYTES)
        return err_set(d, ERR_INVAL, TRANSFORM_FAILED_CODE,
                       "transformation memory budget must be 1 MiB..1 GiB");

    struct transform_pool *tp = calloc(1, sizeof(*tp));
    if (!tp)
        abort();
    tp->helpers = calloc((size_t)c.helpers, sizeof(*tp->helpers));
    if (!tp->helpers)
        abort();
    for (int i = 0; i < c.helpers; i++)
        tp->helpers[i].fd = -1;
    tp->n = c.helpers;
    tp->time_budget_ms = c.time_budget_ms;
    tp->memory_budget_bytes = c.memory_budget_bytes;
    pthread_mutex_init(&tp->mu, NULL);
    pthread_cond_init(&tp->idle, NULL);
    *out = tp;
    return ERR_OK;
}

void transform_pool_free(struct transform_pool *tp)
{
    if (!tp)
        return;
    for (int i = 0; i < tp->n; i++)
        if (tp->helpers[i].pid)
            helper_stop(tp, &tp->helpers[i]);
    pthread_cond_destroy(&tp->idle);
    pthread_mutex_destroy(&tp->mu);
    free(tp->helpers);
    free(tp);
}

/* Size and bytes of a program; err codes for the API when saving. */
static enum err check_program(const char *program, size_t len, struct err_detail *d)
{
    if (!program || len == 0)
        return err_set_field(d, ERR_INVAL, TRANSFORM_INVALID_CODE, TRANSFORM_FIELD,
                             "transformation must not be empty");
    if (len > TRANSFORM_MAX_PROGRAM_BYTES)
        return err_set_field(d, ERR_LIMIT, TRANSFORM_INVALID_CODE, TRANSFORM_FIELD,
                             "transformation is %zu bytes, over the limit of %d", len,
                             TRANSFORM_MAX_PROGRAM_BYTES);
    if (memchr(program, '\0', len))
        return err_set_field(d, ERR_INVAL, TRANSFORM_INVALID_CODE, TRANSFORM_FIELD,
                             "transformation must not contain NUL bytes");
    return ERR_OK;
}

enum err transform_validate(struct transform_pool *tp, const char *program, size_t program_len,
                            struct err_detail *d)
{
    enum err e = check_program(program, program_len, d);
    if (e != ERR_OK)
        return e;
    struct reply r;
    e = exchange(tp, TRANSFORM__OP_COMPILE, program, program_len, NULL, 0, 0, tp->time_budget_ms,
                 tp->memory_budget_bytes, &r, d);
    if (e == ERR_TIMEOUT || e == ERR_LIMIT) {
        /* the program's fault: a 4xx for the API, with the field named */
        if (d) {
            snprintf(d->code, sizeof(d->code), "%s", TRANSFORM_INVALID_CODE);
            snprintf(d->field, sizeof(d->field), "%s", TRANSFORM_FIELD);
        }
        return e;
    }
    if (e != ERR_OK)
        return e;
    switch ((enum transform__status)r.rep.status) {
    case TRANSFORM__REP_OK:
        break;
    case TRANSFORM__REP_COMPILE:
        e = err_set_field(d, ERR_INVAL, TRANSFORM_INVALID_CODE, TRANSFORM_FIELD,
                          "transformation does not compile: %s", r.msg);
        break;
    case TRANSFORM__REP_NOMEM:
        e = err_set_field(d, ERR_LIMIT, TRANSFORM_INVALID_CODE, TRANSFORM_FIELD,
                          "transformation needs more than %u MiB to compile",
                          TRANSFORM__COMPILE_MEMORY_BYTES / (1024 * 1024));
        break;
    default:
        e = err_set(d, ERR_IO, TRANSFORM_FAILED_CODE, "transformation sandbox unavailable: %s",
                    r.msg[0] ? r.msg : "unexpected reply");
        break;
    }
    reply_release(&r);
    return e;
}

/* *out = ,"event_type":..,"endpoint":{"id":..,"url":..}} (malloc'd), the tail of the input. */
static enum err meta_json(char **out, const struct transform_input *in, struct err_detail *d)
{
    const char *vals[3] = {in->event_type, in->endpoint_id, in->endpoint_url};
    json_t *js[3] = {NULL, NULL, NULL};
    enum err e = ERR_OK;
    *out = NULL;
    for (int i = 0; i < 3 && e == ERR_OK; i++) {
        if (vals[i] && strlen(vals[i]) > MAX_META_BYTES)
            e = err_set(d, ERR_LIMIT, TRANSFORM_FAILED_CODE,
                        "transformation input: event type or endpoint over %d bytes",
                        MAX_META_BYTES);
        else if (!(js[i] = vals[i] ? json_string(vals[i]) : json_null()))
            e = err_set(d, ERR_INVAL, TRANSFORM_FAILED_CODE,
                        "transformation input: event type or endpoint is not valid UTF-8");
    }
    if (e != ERR_OK) {
        for (int i = 0; i < 3; i++)
            json_decref(js[i]);
        return e;
    }
    json_t *ep = json_object();
    json_t *root = json_object();
    if (!ep || !root)
        abort();
    json_object_set_new(ep, "id", js[1]);
    json_object_set_new(ep, "url", js[2]);
    json_object_set_new(root, "event_type", js[0]);
    json_object_set_new(root, "endpoint", ep);
    char *s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!s)
        abort();
    s[0] = ','; /* the object continues the one that holds body and headers */
    *out = s;
    return ERR_OK;
}

/* Validate the headers a program returned; ERR_INVAL with the reason. */
static enum err check_headers(const char *text, size_t len, struct err_detail *d)
{
    json_error_t jerr;
    json_t *h = json_loadb(text, len, 0, &jerr);
    if (!h)
        return err_set(d, ERR_INVAL, TRANSFORM_FAILED_CODE,
                       "the transformation's headers are not JSON: %s", jerr.text);
    struct err_detail vd = {0};
    enum err e = validate_headers(h, &vd);
    json_decref(h);
    if (e != ERR_OK)
        return err_set(d, ERR_INVAL, TRANSFORM_FAILED_CODE,
                       "the transformation returned invalid headers: %s", vd.msg);
    return ERR_OK;
}

static enum err run(struct transform_pool *tp, const struct transform_input *in,
                    struct transform_result *out, struct err_detail *d)
{
    enum err e = check_program(in->program, in->program_len, d);
    if (e != ERR_OK) {
        if (d) {
            snprintf(d->code, sizeof(d->code), "%s", TRANSFORM_FAILED_CODE);
            d->field[0] = '\0';
        }
        return e;
    }
    if (!in->payload || in->payload_len == 0)
        return err_set(d, ERR_INVAL, TRANSFORM_FAILED_CODE, "transformation input has no body");
    if (in->payload_len > VALIDATE_MAX_PAYLOAD_BYTES)
        return err_set(d, ERR_LIMIT, TRANSFORM_FAILED_CODE,
                       "transformation input body is %zu bytes, over the limit of %d",
                       in->payload_len, VALIDATE_MAX_PAYLOAD_BYTES);
    const char *headers = in->headers_json ? in->headers_json : "{}";
    size_t headers_len = strlen(headers);
    if (headers_len > TRANSFORM__MAX_HEADERS_BYTES)
        return err_set(d, ERR_LIMIT, TRANSFORM_FAILED_CODE,
                       "transformation input headers are too large");
    int time_ms = in->time_budget_ms ? in->time_budget_ms : tp->time_budget_ms;
    size_t mem = in->memory_budget_bytes ? in->memory_budget_bytes : tp->memory_budget_bytes;
    if (time_ms < 1 || time_ms > TRANSFORM_MAX_TIME_BUDGET_MS ||
        mem < TRANSFORM_MIN_MEMORY_BUDGET_BYTES || mem > TRANSFORM_MAX_MEMORY_BUDGET_BYTES)
        return err_set(d, ERR_INVAL, TRANSFORM_FAILED_CODE, "transformation budget out of range");

    char *meta = NULL;
    if ((e = meta_json(&meta, in, d)) != ERR_OK)
        return e;
    static const char pre[] = "{\"body\":", mid[] = ",\"headers\":";
    struct iovec parts[5] = {
        {(void *)pre, sizeof(pre) - 1}, {(void *)in->payload, in->payload_len},
        {(void *)mid, sizeof(mid) - 1}, {(void *)headers, headers_len},
        {(void *)meta, strlen(meta)},
    };
    size_t input_len = 0;
    for (int i = 0; i < 5; i++)
        input_len += parts[i].iov_len;
    if (input_len > TRANSFORM__MAX_INPUT_BYTES) {
        free(meta);
        return err_set(d, ERR_LIMIT, TRANSFORM_FAILED_CODE, "transformation input too large");
    }

    struct reply r;
    e = exchange(tp, TRANSFORM__OP_RUN, in->program, in->program_len, parts, 5, input_len, time_ms,
                 mem, &r, d);
    free(meta);
    if (e != ERR_OK)
        return e;

    char membuf[32];
    switch ((enum transform__status)r.rep.status) {
    case TRANSFORM__REP_OK:
        if (r.headers && (e = check_headers(r.headers, r.rep.headers_len, d)) != ERR_OK)
            break;
        out->body = r.body;
        out->body_len = r.rep.body_len;
        r.body = NULL;
        if (r.headers) {
            out->headers_json = r.headers;
            out->headers_len = r.rep.headers_len;
            r.headers = NULL;
        } else {
            out->headers_json = strdup(headers);
            if (!out->headers_json)
                abort();
            out->headers_len = headers_len;
        }
        break;
    case TRANSFORM__REP_SKIP:
        out->skip = true;
        break;
    case TRANSFORM__REP_COMPILE:
        e = err_set(d, ERR_INVAL, TRANSFORM_FAILED_CODE, "transformation does not compile: %s",
                    r.msg);
        break;
    case TRANSFORM__REP_RUNTIME:
    case TRANSFORM__REP_OUTPUT:
    case TRANSFORM__REP_INPUT:
        e = err_set(d, ERR_INVAL, TRANSFORM_FAILED_CODE, "%s", r.msg);
        break;
    case TRANSFORM__REP_TOO_LARGE:
        e = err_set(d, ERR_LIMIT, TRANSFORM_FAILED_CODE, "%s", r.msg);
        break;
    case TRANSFORM__REP_NOMEM:
        format_bytes(membuf, sizeof(membuf), mem);
        e = err_set(d, ERR_LIMIT, TRANSFORM_FAILED_CODE,
                    "transformation exceeded its memory budget of %s", membuf);
        break;
    case TRANSFORM__REP_SANDBOX:
        e = err_set(d, ERR_IO, TRANSFORM_FAILED_CODE, "transformation sandbox unavailable: %s",
                    r.msg);
        break;
    case TRANSFORM__REP_BADREQUEST:
        e = err_set(d, ERR_IO, TRANSFORM_FAILED_CODE, "transformation process: %s", r.msg);
        break;
    }
    reply_release(&r);
    return e;
}

enum err transform_run(struct transform_pool *tp, const struct transform_input *in,
                       struct transform_result *out, struct err_detail *d)
{
    memset(out, 0, sizeof(*out));
    enum err e = run(tp, in, out, d);
    if (e != ERR_OK)
        transform_result_release(out);
    pthread_mutex_lock(&tp->mu);
    tp->stats.runs++;
    tp->stats.failed += e != ERR_OK ? 1 : 0;
    pthread_mutex_unlock(&tp->mu);
    return e;
}

void transform_result_release(struct transform_result *r)
{
    free(r->body);
    free(r->headers_json);
    memset(r, 0, sizeof(*r));
}

void transform_get_stats(struct transform_pool *tp, struct transform_stats *out)
{
    pthread_mutex_lock(&tp->mu);
    *out = tp->stats;
    pthread_mutex_unlock(&tp->mu);
}

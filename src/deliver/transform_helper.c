/*
 * transform_helper - the sandboxed side of transform.h: the process that
 * compiles and runs jq programs for hookd. See transform.h for the design
 * and transform_internal.h for how it starts and what it exchanges.
 *
 * A constructor recognises a helper start (argv[0] and the environment
 * variable set by transform.c) and never returns into main(): it confines
 * the process, then serves requests on TRANSFORM__FD until hookd closes the
 * socket. Everything here runs single-threaded in the helper; nothing in
 * this file runs inside hookd except the cheap check in the constructor.
 *
 * Budgets: a compile runs under ITIMER_VIRTUAL (SIGVTALRM) and a run under
 * ITIMER_PROF (SIGPROF), both with the default action, so a program that
 * spins is ended by the kernel and hookd reads the signal from waitpid.
 * Memory is RLIMIT_DATA, set before each step to what the process maps now
 * plus the budget (glibc's thresholds are pinned so freed memory goes back
 * to the kernel and the next run starts from the same point); jq's
 * out-of-memory handler answers TRANSFORM__REP_NOMEM and exits, since jq
 * cannot unwind from a failed allocation.
 * XXX: the seccomp filter is a deny list (files, exec, sockets, ptrace,
 * other processes' signals), defence in depth behind the process boundary,
 * not an allow list: an allow list would break on the next libc or
 * sanitizer that needs one more system call.
 * SPDX-License-Identifier: MIT
 */
#include "deliver/transform_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <jq.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#include "deliver/transform.h"

const char transform__helper_argv0[] = TRANSFORM__ARGV0;

struct cached {
    uint64_t hash;
    char *program; /* NUL-terminated copy; NULL = free slot */
    size_t len;
    jq_state *jq;
    uint64_t used;
};

struct msgbuf {
    char text[TRANSFORM__MAX_MSG_BYTES];
    size_t len;
};

static struct cached cache[TRANSFORM__HELPER_CACHE];
static uint64_t use_clock;
static int statm_fd = -1;
static long page_size = 4096;
static rlim_t data_hard_limit = RLIM_INFINITY; /* RLIMIT_DATA's hard limit, read once */
static char sandbox_error[160];                /* "" = confined */
static struct msgbuf compile_msgs;

/* ---- I/O on the socket --------------------------------------------------- */

/* Fill every buffer of iov; 1 = done, 0 = clean EOF before the first byte, -1 = error. */
static int read_iov(struct iovec *iov, int cnt)
{
    bool any = false;
    while (cnt > 0) {
        ssize_t n = readv(TRANSFORM__FD, iov, cnt);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return (n == 0 && !any) ? 0 : -1;
        any = true;
        transform__iov_advance(&iov, &cnt, (size_t)n);
    }
    return 1;
}

static void write_iov(struct iovec *iov, int cnt)
{
    while (cnt > 0) {
        ssize_t n = writev(TRANSFORM__FD, iov, cnt);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            _exit(0); /* hookd went away */
        transform__iov_advance(&iov, &cnt, (size_t)n);
    }
}

static void reply(enum transform__status status, bool compiled, const char *body, size_t body_len,
                  const char *headers, size_t headers_len, const char *msg)
{
    size_t msg_len = msg ? strlen(msg) : 0;
    if (msg_len > TRANSFORM__MAX_MSG_BYTES)
        msg_len = TRANSFORM__MAX_MSG_BYTES;
    struct transform__rep rep = {
        .magic = TRANSFORM__REP_MAGIC,
        .status = (uint32_t)status,
        .body_len = (uint32_t)body_len,
        .headers_len = (uint32_t)headers_len,
        .msg_len = (uint32_t)msg_len,
        .compiled = compiled ? 1 : 0,
    };
    struct iovec iov[4] = {
        {&rep, sizeof(rep)},
        {(void *)body, body_len},
        {(void *)headers, headers_len},
        {(void *)msg, msg_len},
    };
    write_iov(iov, 4);
}

static void reply_msg(enum transform__status status, bool compiled, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void reply_msg(enum transform__status status, bool compiled, const char *fmt, ...)
{
    char msg[TRANSFORM__MAX_MSG_BYTES];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    reply(status, compiled, NULL, 0, NULL, 0, msg);
}

/* ---- budgets ------------------------------------------------------------- */

/* Bytes of data mappings now (statm's sixth field, "data": heap, anonymous
 * maps, stack); 0 when it cannot be read. */
static size_t data_bytes(void)
{
    char buf[160];
    ssize_t n = pread(statm_fd, buf, sizeof(buf) - 1, 0);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    const char *p = buf;
    for (int field = 0; field < 5; field++) {
        p = strchr(p, ' ');
        if (!p)
            return 0;
        p++;
    }
    return (size_t)strtoul(p, NULL, 10) * (size_t)page_size;
}

/* Allow budget bytes of new data mappings from now on; false when the
 * current size cannot be read (the run must not go unbounded). */
static bool memory_limit(size_t budget)
{
    size_t now = data_bytes();
    if (now == 0)
        return false;
    rlim_t want = (rlim_t)(now + budget);
    if (data_hard_limit != RLIM_INFINITY && want > data_hard_limit)
        want = data_hard_limit;
    struct rlimit rl = {want, data_hard_limit};
    return setrlimit(RLIMIT_DATA, &rl) == 0;
}

static void memory_unlimit(void)
{
    struct rlimit rl = {data_hard_limit, data_hard_limit};
    setrlimit(RLIMIT_DATA, &rl);
}

static void timer_arm(int which, unsigned ms)
{
    struct itimerval it = {{0, 0}, {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000}};
    setitimer(which, &it, NULL);
}

static void timer_disarm(int which)
{
    struct itimerval it = {{0, 0}, {0, 0}};
    setitimer(which, &it, NULL);
}

/* jq calls this when an allocation fails: answer, then exit (jq cannot unwind). */
static void on_nomem(void *data)
{
    (void)data;
    reply(TRANSFORM__REP_NOMEM, false, NULL, 0, NULL, 0, "out of memory");
    _exit(TRANSFORM__EXIT_NOMEM);
}

/* ---- compile -------------------------------------------------------------- */

static void msg_append(struct msgbuf *b, const char *s, size_t len)
{
    size_t room = sizeof(b->text) - 1 - b->len;
    if (len > room)
        len = room;
    memcpy(b->text + b->len, s, len);
    b->len += len;
    b->text[b->len] = '\0';
}

/*
 * Keep the first line of each of jq's compile messages, without the "jq:
 * error: " prefix, the shell-quoting hint and the "N compile errors"
 * summary: "syntax error, unexpected '|' at <top-level>, line 1".
 */
static void on_jq_error(void *data, jv msg)
{
    struct msgbuf *b = data;
    if (jv_get_kind(msg) != JV_KIND_STRING)
        msg = jv_dump_string(msg, 0);
    const char *s = jv_string_value(msg);
    if (strncmp(s, "jq: error: ", 11) == 0)
        s += 11;
    else if (strncmp(s, "jq: ", 4) == 0)
        s += 4;
    size_t len = strcspn(s, "\n");
    if (len > 0 && s[len - 1] == ':')
        len--;
    bool summary = strstr(s, "compile error") && len < 32;
    if (!summary) {
        const char *hint = " (Unix shell quoting issues?)";
        const char *h = strstr(s, hint);
        if (b->len > 0)
            msg_append(b, "; ", 2);
        if (h && (size_t)(h - s) < len) {
            msg_append(b, s, (size_t)(h - s));
            const char *rest = h + strlen(hint);
            msg_append(b, rest, len - (size_t)(rest - s));
        } else {
            msg_append(b, s, len);
        }
    }
    jv_free(msg);
}

static void on_jq_debug(void *data, jv msg)
{
    (void)data;
    jv_free(msg);
}

/* There are no further inputs: `input` is an error, `inputs` is empty. */
static jv on_jq_input(jq_state *jq, void *data)
{
    (void)jq;
    (void)data;
    return jv_invalid();
}

static void cache_drop(struct cached *c)
{
    if (c->jq)
        jq_teardown(&c->jq);
    free(c->program);
    memset(c, 0, sizeof(*c));
}

/* The compiled program, from the cache or compiled now (*compiled = true);
 * NULL with compile_msgs filled when it does not compile. */
static jq_state *program_get(const char *program, size_t len, unsigned compile_budget_ms,
                             bool *compiled)
{
    uint64_t h = transform__hash(program, len);
    struct cached *victim = &cache[0];
    for (size_t i = 0; i < TRANSFORM__HELPER_CACHE; i++) {
        struct cached *c = &cache[i];
        if (c->program && c->hash == h && c->len == len && memcmp(c->program, program, len) == 0) {
            c->used = ++use_clock;
            return c->jq;
        }
        if (!c->program || (victim->program && c->used < victim->used))
            victim = c;
    }

    *compiled = true;
    compile_msgs.len = 0;
    compile_msgs.text[0] = '\0';
    char *src = malloc(len + 1);
    if (!src)
        on_nomem(NULL);
    memcpy(src, program, len);
    src[len] = '\0';

    if (!memory_limit(TRANSFORM__COMPILE_MEMORY_BYTES)) {
        free(src);
        msg_append(&compile_msgs, "cannot bound the compile's memory", 33);
        return NULL;
    }
    timer_arm(ITIMER_VIRTUAL, compile_budget_ms);
    jq_state *jq = jq_init();
    if (!jq)
        on_nomem(NULL);
    jq_set_error_cb(jq, on_jq_error, &compile_msgs);
    jq_set_debug_cb(jq, on_jq_debug, NULL);
    /* jq 1.6 leaves the input callback uninitialised: `input` would call a
     * garbage pointer */
    jq_set_input_cb(jq, on_jq_input, NULL);
    jq_set_nomem_handler(jq, on_nomem, NULL);
    /* libjq 1.6 asserts on imports when no library path is set; an empty one
     * makes `import "x"` a compile error (the sandbox blocks explicit paths). */
    jq_set_attr(jq, jv_string("JQ_LIBRARY_PATH"), jv_array());
    int ok = jq_compile(jq, src);
    timer_disarm(ITIMER_VIRTUAL);
    memory_unlimit();

    if (!ok) {
        jq_teardown(&jq);
        free(src);
        if (compile_msgs.len == 0)
            msg_append(&compile_msgs, "does not compile", 16);
        return NULL;
    }
    if (victim->program)
        cache_drop(victim);
    victim->hash = h;
    victim->program = src;
    victim->len = len;
    victim->jq = jq;
    victim->used = ++use_clock;
    return jq;
}

/* ---- run ------------------------------------------------------------------ */

static const char *kind_name(jv v)
{
    return jv_kind_name(jv_get_kind(v));
}

/*
 * Walk v: false when it nests arrays/objects deeper than depth_left levels
 * (v itself is level 1). Adds to *bytes a lower bound of its compact JSON
 * size (escapes only add), stopping once that passes the payload limit, so
 * an oversized body is refused before jq spends its budget printing it
 * (jq 1.6 prints one character at a time).
 */
static bool measure(jv v, int depth_left, size_t *bytes)
{
    jv_kind k = jv_get_kind(v);
    switch (k) {
    case JV_KIND_STRING:
        *bytes += (size_t)jv_string_length_bytes(jv_copy(v)) + 2;
        return true;
    case JV_KIND_ARRAY:
    case JV_KIND_OBJECT:
        break;
    default:
        *bytes += k == JV_KIND_NUMBER ? 1 : k == JV_KIND_FALSE ? 5 : 4;
        return true;
    }
    if (depth_left <= 0)
        return false;
    bool ok = true;
    *bytes += 2;
    if (k == JV_KIND_ARRAY) {
        int n = jv_array_length(jv_copy(v));
        for (int i = 0; i < n && ok && *bytes <= VALIDATE_MAX_PAYLOAD_BYTES; i++) {
            jv e = jv_array_get(jv_copy(v), i);
            *bytes += i > 0;
            ok = measure(e, depth_left - 1, bytes);
            jv_free(e);
        }
    } else {
        bool first = true;
        for (int it = jv_object_iter(v);
             jv_object_iter_valid(v, it) && ok && *bytes <= VALIDATE_MAX_PAYLOAD_BYTES;
             it = jv_object_iter_next(v, it)) {
            jv key = jv_object_iter_key(v, it);
            jv e = jv_object_iter_value(v, it);
            *bytes += (size_t)jv_string_length_bytes(key) + 3 + !first;
            first = false;
            ok = measure(e, depth_left - 1, bytes);
            jv_free(e);
        }
    }
    return ok;
}

/* The message of an invalid jv (consumed), as text in buf. */
static const char *error_text(jv invalid, char *buf, size_t size)
{
    jv m = jv_invalid_get_msg(invalid);
    if (jv_get_kind(m) == JV_KIND_STRING) {
        snprintf(buf, size, "%s", jv_string_value(m));
    } else {
        jv s = jv_dump_string(m, 0);
        snprintf(buf, size, "%s (not a string)", jv_string_value(s));
        jv_free(s);
        return buf;
    }
    jv_free(m);
    return buf;
}

/*
 * Check the one output value and dump it. Returns the status; on OK, *body
 * and (when the output has headers) *headers hold dumped strings.
 */
static enum transform__status check_output(jv out, jv *body, jv *headers, char *msg, size_t size)
{
    if (jv_get_kind(out) == JV_KIND_NULL)
        return TRANSFORM__REP_SKIP;
    if (jv_get_kind(out) != JV_KIND_OBJECT) {
        snprintf(msg, size, "the transformation must return an object or null, not %s",
                 kind_name(out));
        return TRANSFORM__REP_OUTPUT;
    }
    bool has_body = false;
    for (int it = jv_object_iter(out); jv_object_iter_valid(out, it);
         it = jv_object_iter_next(out, it)) {
        jv key = jv_object_iter_key(out, it);
        const char *k = jv_string_value(key);
        if (strcmp(k, "body") == 0) {
            has_body = true;
        } else if (strcmp(k, "headers") == 0) {
            jv hv = jv_object_iter_value(out, it);
            jv_kind hk = jv_get_kind(hv);
            if (hk != JV_KIND_OBJECT) {
                snprintf(msg, size, "the transformation's \"headers\" must be an object, not %s",
                         kind_name(hv));
                jv_free(hv);
                jv_free(key);
                return TRANSFORM__REP_OUTPUT;
            }
            jv_free(hv);
        } else if (strcmp(k, "event_type") != 0 && strcmp(k, "endpoint") != 0) {
            snprintf(msg, size,
                     "the transformation returned an unknown key \"%.64s\" (allowed: body, "
                     "headers, event_type, endpoint)",
                     k);
            jv_free(key);
            return TRANSFORM__REP_OUTPUT;
        }
        jv_free(key);
    }
    if (!has_body) {
        snprintf(msg, size, "the transformation's output has no \"body\"");
        return TRANSFORM__REP_OUTPUT;
    }
    jv b = jv_object_get(jv_copy(out), jv_string("body"));
    size_t body_len = 0;
    if (!measure(b, VALIDATE_MAX_JSON_DEPTH, &body_len)) {
        jv_free(b);
        snprintf(msg, size, "the transformation's body nests deeper than %d levels",
                 VALIDATE_MAX_JSON_DEPTH);
        return TRANSFORM__REP_OUTPUT;
    }
    if (body_len <= VALIDATE_MAX_PAYLOAD_BYTES) {
        *body = jv_dump_string(b, 0);
        body_len = (size_t)jv_string_length_bytes(jv_copy(*body));
    } else {
        jv_free(b);
    }
    if (body_len > VALIDATE_MAX_PAYLOAD_BYTES) {
        snprintf(msg, size, "the transformation's body is over the limit of %d bytes",
                 VALIDATE_MAX_PAYLOAD_BYTES);
        return TRANSFORM__REP_TOO_LARGE;
    }
    jv h = jv_object_get(jv_copy(out), jv_string("headers"));
    if (jv_get_kind(h) == JV_KIND_OBJECT) {
        *headers = jv_dump_string(h, 0);
        if ((size_t)jv_string_length_bytes(jv_copy(*headers)) > TRANSFORM__MAX_HEADERS_BYTES) {
            snprintf(msg, size, "the transformation's headers exceed %d bytes",
                     TRANSFORM__MAX_HEADERS_BYTES);
            return TRANSFORM__REP_OUTPUT;
        }
    } else {
        jv_free(h);
    }
    return TRANSFORM__REP_OK;
}

static void run(jq_state *jq, bool compiled, const char *input, size_t input_len,
                const struct transform__req *req)
{
    char msg[TRANSFORM__MAX_MSG_BYTES] = "";
    enum transform__status st = TRANSFORM__REP_OK;
    jv body = jv_invalid(), headers = jv_invalid();

    if (!memory_limit((size_t)req->memory_budget_bytes)) {
        reply_msg(TRANSFORM__REP_SANDBOX, compiled, "cannot bound the run's memory");
        return;
    }
    timer_arm(ITIMER_PROF, req->time_budget_ms);

    jv in = jv_parse_sized(input, (int)input_len);
    if (!jv_is_valid(in)) {
        char why[256];
        snprintf(msg, sizeof(msg), "the transformation's input is not JSON: %s",
                 error_text(in, why, sizeof(why)));
        st = TRANSFORM__REP_INPUT;
        goto done;
    }
    jq_start(jq, in, 0);
    jv out = jq_next(jq);
    if (!jv_is_valid(out)) {
        if (jv_invalid_has_msg(jv_copy(out))) {
            char why[TRANSFORM__MAX_MSG_BYTES - 32];
            snprintf(msg, sizeof(msg), "jq error: %s", error_text(out, why, sizeof(why)));
            st = TRANSFORM__REP_RUNTIME;
        } else {
            jv_free(out);
            snprintf(msg, sizeof(msg), "%s",
                     jq_halted(jq) ? "the transformation called halt"
                                   : "the transformation produced no output (empty)");
            st = jq_halted(jq) ? TRANSFORM__REP_RUNTIME : TRANSFORM__REP_OUTPUT;
        }
        goto done;
    }
    jv second = jq_next(jq);
    if (jv_is_valid(second)) {
        jv_free(second);
        jv_free(out);
        snprintf(msg, sizeof(msg), "the transformation produced more than one output");
        st = TRANSFORM__REP_OUTPUT;
        goto done;
    }
    if (jv_invalid_has_msg(jv_copy(second))) {
        jv_free(out);
        char why[TRANSFORM__MAX_MSG_BYTES - 64];
        snprintf(msg, sizeof(msg), "jq error after the first output: %s",
                 error_text(second, why, sizeof(why)));
        st = TRANSFORM__REP_RUNTIME;
        goto done;
    }
    jv_free(second);
    st = check_output(out, &body, &headers, msg, sizeof(msg));
    jv_free(out);

done:
    /* release the input held by the state, inside the budget, so the next
     * run's memory baseline is what this helper really keeps */
    jq_start(jq, jv_null(), 0);
    timer_disarm(ITIMER_PROF);
    memory_unlimit();
    if (st == TRANSFORM__REP_OK) {
        bool has_headers = jv_is_valid(headers);
        reply(st, compiled, jv_string_value(body), (size_t)jv_string_length_bytes(jv_copy(body)),
              has_headers ? jv_string_value(headers) : NULL,
              has_headers ? (size_t)jv_string_length_bytes(jv_copy(headers)) : 0, NULL);
    } else {
        reply(st, compiled, NULL, 0, NULL, 0, st == TRANSFORM__REP_SKIP ? NULL : msg);
    }
    jv_free(body);
    jv_free(headers);
}

/* ---- confinement ---------------------------------------------------------- */

#if defined(__x86_64__)
#define SANDBOX_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SANDBOX_ARCH AUDIT_ARCH_AARCH64
#endif

#ifdef SANDBOX_ARCH
#define SANDBOX_MAX_INSNS 256

static size_t bpf_deny(struct sock_filter *f, size_t n, long nr)
{
    f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, 1);
    f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES);
    return n;
}

/* Allow a signal-sending call only when its first argument is this process. */
static size_t bpf_self_only(struct sock_filter *f, size_t n, long nr, pid_t self)
{
    f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, 4);
    f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                          offsetof(struct seccomp_data, args[0]));
    f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)self, 1, 0);
    f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
    f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    return n;
}

static const long denied[] = {
#ifdef __NR_open
    __NR_open,
#endif
#ifdef __NR_creat
    __NR_creat,
#endif
#ifdef __NR_openat2
    __NR_openat2,
#endif
    __NR_openat,
    __NR_open_by_handle_at,
    __NR_name_to_handle_at,
    __NR_execve,
    __NR_execveat,
#ifdef __NR_fork
    __NR_fork,
#endif
#ifdef __NR_vfork
    __NR_vfork,
#endif
#ifdef __NR_clone3
    __NR_clone3,
#endif
    __NR_clone,
    __NR_socket,
    __NR_connect,
    __NR_bind,
    __NR_listen,
    __NR_accept4,
    __NR_ptrace,
    __NR_process_vm_readv,
    __NR_process_vm_writev,
    __NR_pidfd_send_signal,
#ifdef __NR_accept
    __NR_accept,
#endif
#ifdef __NR_unlink
    __NR_unlink,
    __NR_rmdir,
    __NR_rename,
    __NR_mkdir,
    __NR_link,
    __NR_symlink,
    __NR_chmod,
    __NR_chown,
    __NR_lchown,
    __NR_mknod,
#endif
#ifdef __NR_renameat
    __NR_renameat,
#endif
    __NR_truncate,
    __NR_unlinkat,
    __NR_mkdirat,
    __NR_linkat,
    __NR_symlinkat,
    __NR_fchmodat,
    __NR_fchownat,
    __NR_mknodat,
#ifdef __NR_renameat2
    __NR_renameat2,
#endif
    __NR_mount,
    __NR_chroot,
    __NR_setxattr,
    __NR_removexattr};

static const long signalling[] = {__NR_kill, __NR_tkill, __NR_tgkill, __NR_rt_sigqueueinfo,
                                  __NR_rt_tgsigqueueinfo};

static void sandbox_install(void)
{
    struct sock_filter f[SANDBOX_MAX_INSNS];
    size_t n = 0;
    pid_t self = getpid();
    f[n++] =
        (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SANDBOX_ARCH, 1, 0);
    f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
    f[n++] =
        (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
#ifdef __x86_64__
    /* the x32 ABI: same architecture, numbers with bit 30 set */
    f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1);
    f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES);
#endif
    for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++)
        n = bpf_deny(f, n, denied[i]);
    for (size_t i = 0; i < sizeof(signalling) / sizeof(signalling[0]); i++)
        n = bpf_self_only(f, n, signalling[i], self);
    f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);

    struct sock_fprog prog = {.len = (unsigned short)n, .filter = f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        snprintf(sandbox_error, sizeof(sandbox_error), "cannot set no_new_privs: %s",
                 strerror(errno));
    else if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0)
        snprintf(sandbox_error, sizeof(sandbox_error), "cannot install the seccomp filter: %s",
                 strerror(errno));
}
#else
static void sandbox_install(void)
{
    snprintf(sandbox_error, sizeof(sandbox_error),
             "no seccomp filter for this architecture (x86-64 and arm64 only)");
}
#endif

/* ---- the loop ------------------------------------------------------------- */

static void helper_main(void) __attribute__((noreturn));

static void helper_main(void)
{
    static char program[TRANSFORM_MAX_PROGRAM_BYTES];
    char *input = NULL;
    size_t input_cap = 0;

    /* nothing of hookd's environment (secrets, $ENV) reaches a program; an
     * empty HOME makes jq skip ~/.jq */
    clearenv();
    setenv("HOME", "", 1);
    closefrom(TRANSFORM__FD + 1);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPROF, SIG_DFL);
    signal(SIGVTALRM, SIG_DFL);
    signal(SIGPIPE, SIG_IGN); /* a write to a closed socket fails; we exit then */
    struct rlimit no_core = {0, 0}, data;
    setrlimit(RLIMIT_CORE, &no_core);
    if (getrlimit(RLIMIT_DATA, &data) == 0)
        data_hard_limit = data.rlim_max;
    long ps = sysconf(_SC_PAGESIZE);
    if (ps > 0)
        page_size = ps;
    statm_fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    /* fixed thresholds: large blocks are mmap'd and unmapped at once, and the
     * heap top is trimmed, so freed memory leaves the data size */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    mallopt(M_TRIM_THRESHOLD, 128 * 1024);
    if (statm_fd < 0)
        snprintf(sandbox_error, sizeof(sandbox_error), "cannot open /proc/self/statm: %s",
                 strerror(errno));
    else
        sandbox_install();

    for (;;) {
        struct transform__req req;
        struct iovec head = {&req, sizeof(req)};
        int r = read_iov(&head, 1);
        if (r == 0)
            _exit(0);
        if (r < 0 || req.magic != TRANSFORM__REQ_MAGIC ||
            (req.op != TRANSFORM__OP_COMPILE && req.op != TRANSFORM__OP_RUN) ||
            req.program_len == 0 || req.program_len > TRANSFORM_MAX_PROGRAM_BYTES ||
            req.input_len > TRANSFORM__MAX_INPUT_BYTES ||
            (req.op == TRANSFORM__OP_RUN && req.input_len == 0) || req.time_budget_ms == 0 ||
            req.compile_budget_ms == 0) {
            reply_msg(TRANSFORM__REP_BADREQUEST, false, "malformed request");
            _exit(2);
        }
        if (req.input_len > input_cap) {
            char *grown = realloc(input, req.input_len);
            if (!grown)
                on_nomem(NULL);
            input = grown;
            input_cap = req.input_len;
        }
        struct iovec body[2] = {{program, req.program_len}, {input, req.input_len}};
        if (read_iov(body, req.input_len > 0 ? 2 : 1) != 1)
            _exit(2);

        if (sandbox_error[0]) {
            reply_msg(TRANSFORM__REP_SANDBOX, false, "%s", sandbox_error);
            continue;
        }
        bool compiled = false;
        jq_state *jq = program_get(program, req.program_len, req.compile_budget_ms, &compiled);
        if (!jq) {
            reply(TRANSFORM__REP_COMPILE, compiled, NULL, 0, NULL, 0, compile_msgs.text);
            continue;
        }
        if (req.op == TRANSFORM__OP_COMPILE)
            reply(TRANSFORM__REP_OK, compiled, NULL, 0, NULL, 0, NULL);
        else
            run(jq, compiled, input, req.input_len, &req);
    }
}

/*
 * Runs in every process that links this file, before main(): returns at
 * once unless this process was started as a helper by transform.c.
 */
__attribute__((constructor)) static void helper_entry(int argc, char **argv, char **envp)
{
    (void)envp;
    const char *parent = getenv(TRANSFORM__ENV);
    if (!parent || argc < 1 || !argv || !argv[0] || strcmp(argv[0], TRANSFORM__ARGV0) != 0)
        return;
    if ((long)getppid() != strtol(parent, NULL, 10))
        _exit(0); /* hookd is already gone */
    helper_main();
}

/*
 * transform_internal - what transform.c (inside hookd) and
 * transform_helper.c (the sandboxed helper process) share: the way a helper
 * is started and the frames they exchange over its socket.
 *
 * Description: a helper is hookd's own executable started again through
 * /proc/self/exe with argv[0] TRANSFORM__ARGV0, the environment variable
 * TRANSFORM__ENV set to the parent's pid, and its end of a stream socket on
 * TRANSFORM__FD. A constructor in transform_helper.c recognises that and
 * runs the helper loop instead of main(). One request at a time: the parent
 * writes a struct transform__req and its payload bytes, the helper answers
 * with a struct transform__rep and its payload bytes. Both ends run on the
 * same machine, so the integers travel in host byte order.
 * Threading: the helper is single-threaded; the parent serialises use of
 * each helper (one request in flight per socket).
 * Errors: a frame with a wrong magic or an out-of-range length is a broken
 * helper: the parent kills it.
 * See also: transform.h, transform.c, transform_helper.c.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_DELIVER_TRANSFORM_INTERNAL_H
#define HOOKD_DELIVER_TRANSFORM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "core/validate.h"

#define TRANSFORM__ARGV0 "hookd-transform"
#define TRANSFORM__ENV "HOOKD_TRANSFORM_HELPER"
#define TRANSFORM__FD 3
#define TRANSFORM__REQ_MAGIC 0x4a515251u /* "JQRQ" */
#define TRANSFORM__REP_MAGIC 0x4a515250u /* "JQRP" */

/* The input document: the payload plus the wrapper keys and the header set. */
#define TRANSFORM__MAX_INPUT_BYTES (VALIDATE_MAX_PAYLOAD_BYTES + 64 * 1024)
/* Error text a helper sends back (jq's compile messages can be long). */
#define TRANSFORM__MAX_MSG_BYTES 1024
/* The headers object a helper sends back, before hookd validates it. */
#define TRANSFORM__MAX_HEADERS_BYTES (64 * 1024)
/* Memory a compile may take above what the helper holds (jq 1.6 rebuilds its
 * builtins for every compile: a few MB). */
#define TRANSFORM__COMPILE_MEMORY_BYTES (64u * 1024 * 1024)
/* How often a compiled program is kept per helper. */
#define TRANSFORM__HELPER_CACHE 64

enum transform__op {
    TRANSFORM__OP_COMPILE = 1, /* compile (or find compiled) only */
    TRANSFORM__OP_RUN = 2,     /* compile if needed, then run on the input */
};

enum transform__status {
    TRANSFORM__REP_OK = 0,     /* OP_RUN: body (+ headers when changed); OP_COMPILE: nothing */
    TRANSFORM__REP_SKIP,       /* the program returned null */
    TRANSFORM__REP_COMPILE,    /* msg: jq's compile errors */
    TRANSFORM__REP_RUNTIME,    /* msg: the jq error */
    TRANSFORM__REP_OUTPUT,     /* msg: what is wrong with the output (count, shape) */
    TRANSFORM__REP_TOO_LARGE,  /* msg: the body is over the payload limit */
    TRANSFORM__REP_NOMEM,      /* the memory budget ran out (the helper then exits) */
    TRANSFORM__REP_INPUT,      /* msg: the input document did not parse */
    TRANSFORM__REP_SANDBOX,    /* msg: the helper could not confine itself */
    TRANSFORM__REP_BADREQUEST, /* msg: the frame made no sense (the helper then exits) */
};

/* The helper exits with this status after answering TRANSFORM__REP_NOMEM. */
#define TRANSFORM__EXIT_NOMEM 3

struct transform__req {
    uint32_t magic;
    uint32_t op;
    uint32_t program_len; /* program bytes follow the header */
    uint32_t input_len;   /* then the input document (OP_RUN only) */
    uint32_t time_budget_ms;
    uint32_t compile_budget_ms;
    uint64_t memory_budget_bytes;
};

struct transform__rep {
    uint32_t magic;
    uint32_t status;
    uint32_t body_len;    /* compact JSON body, follows the header */
    uint32_t headers_len; /* then the compact headers object; 0 = unchanged */
    uint32_t msg_len;     /* then the message */
    uint32_t compiled;    /* 1 when this request compiled the program (a cache miss) */
};

/* Defined in transform_helper.c; transform.c uses it as the helper's argv[0],
 * which also makes every binary that links the pool link the helper. */
extern const char transform__helper_argv0[];

/* FNV-1a: the key of a program in a helper's cache and in the pool's affinity table. */
static inline uint64_t transform__hash(const char *p, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* After a writev/readv that moved n bytes: skip the iovecs it finished and
 * move into the one it stopped in. */
static inline void transform__iov_advance(struct iovec **iov, int *cnt, size_t n)
{
    while (*cnt > 0 && n >= (*iov)->iov_len) {
        n -= (*iov)->iov_len;
        (*iov)++;
        (*cnt)--;
    }
    if (*cnt > 0) {
        (*iov)->iov_base = (char *)(*iov)->iov_base + n;
        (*iov)->iov_len -= n;
    }
}

#endif

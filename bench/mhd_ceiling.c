/*
 * mhd_ceiling - a bare libmicrohttpd + jansson server, the CPU ceiling for
 * hookd's sends.
 *
 * Description
 *   Answers POST /v1/webhooks/send the way a server that does nothing but the
 *   HTTP and JSON work would: it collects the body, parses it with jansson,
 *   checks that "endpoint_id" is a string and "payload" is present, and
 *   answers 202 with a small JSON body made by json_dumps (a message id and
 *   "queued"), or 400 when the body is not such an object. No store, no
 *   authentication, no fsync. It runs libmicrohttpd the way hookd does: an
 *   epoll thread pool (-t THREADS, default 2 = hookd's --api-threads), the same
 *   connection timeout, memory limit and listen backlog (no suspend/resume).
 *
 *   bench/run.sh points the same wrk command at it as at hookd and divides
 *   this process's CPU time (/proc/PID/stat utime+stime, read by the script)
 *   by the requests answered: the CPU per request hookd cannot beat.
 *
 * Usage
 *   mhd_ceiling [-p PORT] [-t THREADS]
 *   Prints "listening on http://127.0.0.1:PORT" on stderr once it accepts
 *   connections (PORT 0, the default, picks a free port), and stops on
 *   SIGTERM or SIGINT, printing "answered=N" on stdout.
 *
 * SPDX-License-Identifier: MIT
 */
#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BODY_MAX (1024 * 1024)

struct req {
    char *buf;
    size_t len;
    size_t cap;
};

static volatile sig_atomic_t stop_flag;
static atomic_long answered;
static atomic_ulong counter;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int status, char *text)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    atomic_fetch_add(&answered, 1);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *data_len, void **con_cls)
{
    (void)cls;
    (void)url;
    (void)version;
    struct req *q = *con_cls;
    if (q == NULL) {
        q = calloc(1, sizeof(*q));
        if (q == NULL)
            return MHD_NO;
        *con_cls = q;
        return MHD_YES;
    }
    if (*data_len > 0) {
        if (q->len + *data_len > BODY_MAX)
            return MHD_NO;
        if (q->len + *data_len + 1 > q->cap) {
            size_t cap = q->cap ? q->cap : 1024;
            while (cap < q->len + *data_len + 1)
                cap *= 2;
            char *nb = realloc(q->buf, cap);
            if (nb == NULL)
                return MHD_NO;
            q->buf = nb;
            q->cap = cap;
        }
        memcpy(q->buf + q->len, data, *data_len);
        q->len += *data_len;
        *data_len = 0;
        return MHD_YES;
    }
    if (strcmp(method, "POST") != 0)
        return reply(c, 405, strdup("{\"error\":{\"code\":\"METHOD_NOT_ALLOWED\"}}"));
    json_error_t err;
    json_t *doc = q->buf ? json_loadb(q->buf, q->len, 0, &err) : NULL;
    const char *ep = doc ? json_string_value(json_object_get(doc, "endpoint_id")) : NULL;
    if (ep == NULL || json_object_get(doc, "payload") == NULL) {
        json_decref(doc);
        return reply(c, 400, strdup("{\"error\":{\"code\":\"VALIDATION_ERROR\"}}"));
    }
    char id[40];
    snprintf(id, sizeof(id), "0190a000-0000-7000-8000-%012lx",
             (unsigned long)atomic_fetch_add(&counter, 1));
    json_t *out = json_pack("{s:{s:s,s:s},s:{s:s}}", "data", "message_id", id, "status", "queued",
                            "meta", "request_id", id);
    char *text = out ? json_dumps(out, JSON_COMPACT) : NULL;
    json_decref(out);
    json_decref(doc);
    if (text == NULL)
        return MHD_NO;
    return reply(c, 202, text);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    struct req *q = *con_cls;
    if (q != NULL) {
        free(q->buf);
        free(q);
        *con_cls = NULL;
    }
}

int main(int argc, char **argv)
{
    unsigned int port = 0, threads = 2;
    int opt;
    while ((opt = getopt(argc, argv, "p:t:")) != -1) {
        switch (opt) {
        case 'p':
            port = (unsigned int)strtoul(optarg, NULL, 10);
            break;
        case 't':
            threads = (unsigned int)strtoul(optarg, NULL, 10);
            break;
        default:
            fprintf(stderr, "usage: mhd_ceiling [-p PORT] [-t THREADS]\n");
            return 2;
        }
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct sockaddr_in addr;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(0x7f000001);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, (uint16_t)port, NULL, NULL, on_request,
        NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_TIMEOUT, 120u, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)(64 * 1024), MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, NULL, MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "mhd_ceiling: cannot start libmicrohttpd on port %u\n", port);
        return 1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    fprintf(stderr, "listening on http://127.0.0.1:%u\n", info ? info->port : port);
    while (!stop_flag)
        pause();
    MHD_stop_daemon(d);
    printf("answered=%ld\n", atomic_load(&answered));
    return 0;
}

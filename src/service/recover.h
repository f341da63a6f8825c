/*
 * recover - resend the messages of an endpoint that failed for good within a
 * time window (Svix endpoint recover, TENANCY.md §5).
 *
 * Description: every message of the endpoint created in [since, until) whose
 * status is failed_permanent starts a new attempt series (as a replay, with
 * the same webhook-id); messages still retrying are left to their schedule.
 * since may be at most 14 days back. One op replays up to SERVICE_RECOVER_MAX
 * messages; x->more tells that the window held more (call again).
 * Errors: ERR_INVAL (field "since"/"until"), ERR_NOTFOUND, ERR_IO.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_SERVICE_RECOVER_H
#define HOOKD_SERVICE_RECOVER_H

#include "service/service.h"

#define SERVICE_RECOVER_MAX 10000
#define SERVICE_RECOVER_WINDOW_MS (14 * 24 * 3600 * 1000LL)

struct service_recover_op {
    struct service_op head;
    char mode[8];
    char *app, *ep;
    int64_t since_ms, until_ms; /* until 0 = now */
    /* out */
    int recovered;
    bool more;
};

enum err service_recover_op_init(struct service_recover_op *x, const char *mode, const char *app,
                                 const char *ep, int64_t since_ms, int64_t until_ms,
                                 struct err_detail *d);
void service_recover_op_release(struct service_recover_op *x);

#endif

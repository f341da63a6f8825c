/* recover - see recover.h. SPDX-License-Identifier: MIT */
#include "service/recover.h"

#include <stdlib.h>
#include <string.h>

#include "service/endpoints.h"
#include "util/clock.h"

static enum err apply(struct store *s, struct commit_op *op)
{
    struct service_recover_op *x = (struct service_recover_op *)op;
    struct err_detail *d = &op->detail;
    struct service_idem *idem = &x->head.idem;
    enum err e = service_idem_begin(s, x->mode, idem, d);
    if (e != ERR_OK || idem->replayed)
        return e;
    struct store_endpoint ep = {0};
    if ((e = service_endpoint_get(s, x->mode, x->app, x->ep, &ep, d)) != ERR_OK)
        return e;
    int64_t now = clock_now_ms();
    struct store_msg_filter f = {.mode = x->mode,
                                 .status = STATUS_FAILED_PERMANENT,
                                 .endpoint_id = ep.id,
                                 .created_after_ms = x->since_ms - 1,
                                 .created_before_ms = x->until_ms ? x->until_ms : now + 1};
    char(*ids)[ID_MAX] = malloc(sizeof(*ids) * (SERVICE_RECOVER_MAX + 1));
    if (!ids)
        abort();
    int n = 0;
    e = store_message_select(s, &f, SERVICE_RECOVER_MAX + 1, ids, &n, d);
    x->more = n > SERVICE_RECOVER_MAX;
    x->recovered = 0;
    for (int i = 0; e == ERR_OK && i < n && i < SERVICE_RECOVER_MAX; i++) {
        struct store_resched r;
        struct err_detail skip = {0};
        /* one that cannot be replayed (payload expired, replay limit) is skipped */
        if (store_message_action(s, x->mode, ids[i], STORE_ACT_REPLAY, now, &r, &skip) == ERR_OK)
            x->recovered++;
    }
    free(ids);
    store_endpoint_release(&ep);
    return e != ERR_OK ? e : service_idem_end(s, x->mode, idem, 202, "", 0, d);
}

enum err service_recover_op_init(struct service_recover_op *x, const char *mode, const char *app,
                                 const char *ep, int64_t since_ms, int64_t until_ms,
                                 struct err_detail *d)
{
    memset(x, 0, sizeof(*x));
    int64_t now = clock_now_ms();
    if (since_ms <= 0)
        return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", "since", "'since' is required");
    if (since_ms < now - SERVICE_RECOVER_WINDOW_MS)
        return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", "since",
                             "'since' may be at most 14 days back");
    if (until_ms && until_ms <= since_ms)
        return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", "until",
                             "'until' must be after 'since'");
    snprintf(x->mode, sizeof(x->mode), "%s", mode);
    x->app = strdup(app);
    x->ep = strdup(ep);
    if (!x->app || !x->ep)
        abort();
    x->since_ms = since_ms;
    x->until_ms = until_ms;
    x->head.op.apply = apply;
    return ERR_OK;
}

void service_recover_op_release(struct service_recover_op *x)
{
    free(x->app);
    free(x->ep);
    x->app = x->ep = NULL;
}

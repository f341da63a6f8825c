/* endpoint_state - see endpoint_state.h. SPDX-License-Identifier: MIT */
#include "service/endpoint_state.h"

#include <stdio.h>
#include <string.h>

#include "util/clock.h"

static enum err pause_apply(struct store *s, struct commit_op *op)
{
    struct service_endpoint_pause_op *x = (struct service_endpoint_pause_op *)op;
    x->unfinished = 0;
    return store_endpoint_set_paused(s, x->mode, x->id, x->paused, clock_now_ms(),
                                     x->paused ? NULL : &x->unfinished, &op->detail);
}

enum err service_endpoint_pause_op_init(struct service_endpoint_pause_op *x, const char *mode,
                                        const char *id, bool paused, struct err_detail *d)
{
    memset(x, 0, sizeof(*x));
    if (strlen(id) >= ID_MAX) /* longer than any id: names nothing */
        return err_set(d, ERR_NOTFOUND, "ENDPOINT_NOT_FOUND", "endpoint not found");
    snprintf(x->mode, sizeof(x->mode), "%s", mode);
    snprintf(x->id, sizeof(x->id), "%s", id);
    x->paused = paused;
    x->head.op.apply = pause_apply;
    return ERR_OK;
}

static enum err reset_apply(struct store *s, struct commit_op *op)
{
    struct service_endpoint_reset_circuit_op *x = (struct service_endpoint_reset_circuit_op *)op;
    return store_endpoint_reset_circuit(s, x->mode, x->id, &op->detail);
}

enum err service_endpoint_reset_circuit_op_init(struct service_endpoint_reset_circuit_op *x,
                                                const char *mode, const char *id,
                                                struct err_detail *d)
{
    memset(x, 0, sizeof(*x));
    if (strlen(id) >= ID_MAX)
        return err_set(d, ERR_NOTFOUND, "ENDPOINT_NOT_FOUND", "endpoint not found");
    snprintf(x->mode, sizeof(x->mode), "%s", mode);
    snprintf(x->id, sizeof(x->id), "%s", id);
    x->head.op.apply = reset_apply;
    return ERR_OK;
}

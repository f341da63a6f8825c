/* idempotency - service_idem_begin/end of service.h. SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "service/service.h"
#include "util/clock.h"

#define IDEM_WINDOW_MS (24 * 3600 * 1000LL)

enum err service_idem_begin(struct store *s, const char *mode, struct service_idem *x,
                            struct err_detail *d)
{
    x->replayed = false;
    if (!x->key[0])
        return ERR_OK;
    enum err e = store_idem_find(s, mode, x->key, clock_now_ms() - IDEM_WINDOW_MS, &x->rec, d);
    if (e == ERR_NOTFOUND)
        return ERR_OK;
    if (e != ERR_OK)
        return e;
    if (strcmp(x->rec.request_sha256, x->request_sha256) != 0)
        return err_set_field(d, ERR_CONFLICT, "IDEMPOTENCY_MISMATCH", "idempotency_key",
                             "idempotency key '%s' was used with a different request", x->key);
    x->replayed = true;
    return ERR_OK;
}

enum err service_idem_end(struct store *s, const char *mode, struct service_idem *x, int status,
                          const char *resource, int64_t at_ms, struct err_detail *d)
{
    if (!x->key[0])
        return ERR_OK;
    struct store_idem rec = {.status = status, .created_at_ms = at_ms ? at_ms : clock_now_ms()};
    snprintf(rec.request_sha256, sizeof(rec.request_sha256), "%s", x->request_sha256);
    snprintf(rec.resource, sizeof(rec.resource), "%s", resource ? resource : "");
    return store_idem_put(s, mode, x->key, &rec, d);
}

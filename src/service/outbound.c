/* outbound - see outbound.h. SPDX-License-Identifier: MIT */
#include "service/outbound.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ATTEMPTS_PAGE 100

static char *dup_or_null(const char *s)
{
    if (!s)
        return NULL;
    char *r = strdup(s);
    if (!r)
        abort();
    return r;
}

void service_outbound_release(struct service_outbound *o)
{
    store_message_release(&o->msg);
    free(o->endpoint_url);
    free(o->event_type);
    free(o->last_response_body);
    memset(o, 0, sizeof(*o));
}

const char *service_outbound_status(enum store_status s, int attempt_count, int max_attempts)
{
    switch (s) {
    case STATUS_SUCCEEDED:
    case STATUS_DEDUPLICATED:
    case STATUS_FILTERED:
        return "success";
    case STATUS_FAILED_PERMANENT:
        return max_attempts > 0 && attempt_count >= max_attempts ? "exhausted" : "failed";
    default:
        return "pending";
    }
}

enum err service_outbound_get(struct store *s, const char *mode, const char *app, const char *id,
                              int max_attempts, struct service_outbound *out, struct err_detail *d)
{
    memset(out, 0, sizeof(*out));
    enum err e = store_message_get(s, mode, id, &out->msg, d);
    if (e == ERR_OK)
        e = store_message_origin(s, id, out->event_id, out->app_id, d);
    if (e == ERR_OK && app && app[0] && strcmp(app, out->app_id) != 0)
        e = err_set(d, ERR_NOTFOUND, "MESSAGE_NOT_FOUND", "no message '%s'", id);
    struct store_endpoint ep = {0};
    if (e == ERR_OK)
        e = store_endpoint_get(s, mode, out->msg.endpoint_id, true, &ep, d);
    if (e == ERR_OK) {
        out->endpoint_url = dup_or_null(ep.url ? ep.url : "");
        e = store_message_event_type(s, id, &out->event_type, d);
    }
    store_endpoint_release(&ep);
    if (e == ERR_OK) { /* the last attempt */
        struct store_attempt *at = calloc(ATTEMPTS_PAGE, sizeof(*at));
        if (!at)
            abort();
        int n = 0;
        bool more = true;
        char after[ID_MAX] = "";
        while (e == ERR_OK && more) {
            for (int i = 0; i < n; i++)
                store_attempt_release(&at[i]);
            n = 0;
            e = store_attempt_list(s, id, after, ATTEMPTS_PAGE, at, &n, &more, d);
            if (n)
                snprintf(after, sizeof(after), "%s", at[n - 1].id);
            else
                more = false;
        }
        if (e == ERR_OK && n) {
            out->last_attempt_ms = at[n - 1].created_at_ms;
            out->last_response_body = dup_or_null(at[n - 1].response_body);
        }
        for (int i = 0; i < n; i++)
            store_attempt_release(&at[i]);
        free(at);
    }
    if (e != ERR_OK) {
        service_outbound_release(out);
        return e == ERR_INVAL ? err_set(d, ERR_NOTFOUND, "MESSAGE_NOT_FOUND", "no message '%s'", id)
                              : e;
    }
    out->max_attempts = max_attempts;
    out->status = service_outbound_status(out->msg.status, out->msg.attempt_count, max_attempts);
    return ERR_OK;
}

enum err service_outbound_select(struct store *s, const struct service_outbound_filter *f,
                                 char (**ids)[ID_MAX], int *n, struct err_detail *d)
{
    *ids = NULL;
    *n = 0;
    int cap = 0;
    enum { PAGE = 200 };
    struct store_log_entry *page = calloc(PAGE, sizeof(*page));
    if (!page)
        abort();
    struct store_log_filter lf = {.mode = f->mode,
                                  .status = -1,
                                  .start_ms = f->start_ms ? f->start_ms : INT64_MIN,
                                  .end_ms = f->end_ms ? f->end_ms : INT64_MAX,
                                  .limit = PAGE,
                                  .application_id = f->app && f->app[0] ? f->app : NULL};
    char cursor[ID_MAX] = "";
    bool more = true;
    int scanned = 0;
    enum err e = ERR_OK;
    while (e == ERR_OK && more && scanned < f->max_scan) {
        int got = 0;
        lf.cursor = cursor[0] ? cursor : NULL;
        e = store_log_list(s, &lf, page, &got, &more, d);
        for (int i = 0; i < got; i++) {
            struct store_log_entry *le = &page[i];
            bool ok = e == ERR_OK && (!f->endpoint_id || !strcmp(f->endpoint_id, le->endpoint_id));
            if (ok && f->status)
                ok = !strcmp(f->status, service_outbound_status(le->status, le->attempt_count,
                                                                f->max_attempts));
            char pub[ID_MAX] = "", app[ID_MAX] = "";
            if (ok && f->event_id)
                ok = store_message_origin(s, le->message_id, pub, app, d) == ERR_OK &&
                     !strcmp(pub, f->event_id);
            if (ok && f->event_type) {
                char *type = NULL;
                ok = store_message_event_type(s, le->message_id, &type, d) == ERR_OK && type &&
                     !strcmp(type, f->event_type);
                free(type);
            }
            if (ok) {
                if (*n == cap) {
                    cap = cap ? cap * 2 : 64;
                    *ids = realloc(*ids, (size_t)cap * sizeof(**ids));
                    if (!*ids)
                        abort();
                }
                snprintf((*ids)[(*n)++], ID_MAX, "%s", le->message_id);
            }
            if (i == got - 1)
                snprintf(cursor, sizeof(cursor), "%s", le->message_id);
            store_log_entry_release(le);
        }
        scanned += got;
        if (!got)
            more = false;
    }
    free(page);
    if (e != ERR_OK) {
        free(*ids);
        *ids = NULL;
        *n = 0;
    }
    return e;
}

enum err service_outbound_attempts(struct store *s, const char *mode, const char *app,
                                   const char *id, int max, struct store_attempt *out, int *n,
                                   struct err_detail *d)
{
    *n = 0;
    struct store_message m = {0};
    enum err e = store_message_get(s, mode, id, &m, d);
    store_message_release(&m);
    char pub[ID_MAX], app_id[ID_MAX];
    if (e == ERR_OK && app && app[0]) {
        e = store_message_origin(s, id, pub, app_id, d);
        if (e == ERR_OK && strcmp(app, app_id) != 0)
            e = err_set(d, ERR_NOTFOUND, "MESSAGE_NOT_FOUND", "no message '%s'", id);
    }
    if (e == ERR_INVAL)
        return err_set(d, ERR_NOTFOUND, "MESSAGE_NOT_FOUND", "no message '%s'", id);
    bool more;
    return e != ERR_OK ? e : store_attempt_list(s, id, "", max, out, n, &more, d);
}

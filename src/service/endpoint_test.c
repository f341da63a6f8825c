/* endpoint_test - see endpoint_test.h. SPDX-License-Identifier: MIT */
#include "service/endpoint_test.h"

#include <stdlib.h>
#include <string.h>

#include "core/event_match.h"
#include "core/validate.h"
#include "store/committer.h"
#include "util/clock.h"
#include "util/log.h"

static bool is_set(const json_t *v)
{
    return v && !json_is_null(v);
}

void service_test_attempt_release(struct service_test_attempt *a)
{
    free(a->response_body);
    free(a->error);
    for (size_t i = 0; i < a->n_headers; i++) {
        free(a->headers[i].name);
        free(a->headers[i].value);
    }
    free(a->headers);
    memset(a, 0, sizeof(*a));
}

/* The payload of a request without one (see the header): into x. */
static enum err default_payload(struct service_endpoint_test *x, struct store *s, const char *mode,
                                const char *event_type, struct err_detail *d)
{
    if (event_type) {
        struct store_event_type t = {0};
        enum err e = store_event_type_get(s, mode, event_type, &t, d);
        if (e != ERR_OK && e != ERR_NOTFOUND)
            return e;
        if (e == ERR_OK && t.example_payload) {
            x->payload = t.example_payload;
            x->payload_len = strlen(x->payload);
            t.example_payload = NULL;
        }
        store_event_type_release(&t);
        if (x->payload)
            return ERR_OK;
    }
    json_t *doc = json_pack("{s:s, s:{}}", "type",
                            event_type ? event_type : SERVICE_TEST_DEFAULT_TYPE, "data");
    if (!doc || !(x->payload = json_dumps(doc, JSON_COMPACT)))
        abort();
    json_decref(doc);
    x->payload_len = strlen(x->payload);
    return ERR_OK;
}

enum err service_endpoint_test_prepare(struct service_endpoint_test *x,
                                       const struct service_test_sender *sender, struct store *s,
                                       const char *mode, const char *endpoint_id,
                                       const struct endpoint_test_fields *f, struct err_detail *d)
{
    memset(x, 0, sizeof(*x));
    const char *event_type = NULL;
    if (is_set(f->event_type)) {
        event_type = json_string_value(f->event_type);
        if (!event_type || !event_type_name_is_valid(event_type))
            return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", "event_type",
                                 "'event_type' must be 1 to 256 characters of a-z, A-Z, 0-9, '-', "
                                 "'_' and '.'");
    }
    enum err e = ERR_OK;
    if (is_set(f->payload)) {
        x->payload = json_dumps(f->payload, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!x->payload)
            abort(); /* a tree jansson parsed always serialises */
        x->payload_len = strlen(x->payload);
        if (x->payload_len > VALIDATE_MAX_PAYLOAD_BYTES)
            e = err_set_field(d, ERR_LIMIT, "PAYLOAD_TOO_LARGE", "payload",
                              "payload is %zu bytes, more than the %d allowed", x->payload_len,
                              VALIDATE_MAX_PAYLOAD_BYTES);
    }
    if (e == ERR_OK && strlen(endpoint_id) >= ID_MAX) /* longer than any id: names nothing */
        e = err_set(d, ERR_NOTFOUND, "ENDPOINT_NOT_FOUND", "endpoint not found");
    if (e == ERR_OK && (!sender || !s))
        e = err_set(d, ERR_IO, "", "test sends are not available: %s",
                    !sender ? "no sender is wired in" : "no store connection");
    if (e == ERR_OK) {
        x->sender = sender;
        e = sender->load(sender->ctx, s, mode, endpoint_id, &x->target, d);
    }
    if (e == ERR_OK && !x->payload)
        e = default_payload(x, s, mode, event_type, d);
    if (e != ERR_OK) {
        service_endpoint_test_release(x);
        return e;
    }
    snprintf(x->endpoint_id, sizeof(x->endpoint_id), "%s", endpoint_id);
    id_uuid7(x->webhook_id, clock_now_ms());
    return ERR_OK;
}

void service_endpoint_test_send(struct service_endpoint_test *x, const bool *cancel)
{
    service_test_attempt_release(&x->attempt);
    x->sender->send(x->sender->ctx, x->target, x->webhook_id, x->payload, x->payload_len, cancel,
                    &x->attempt);
}

void service_endpoint_test_release(struct service_endpoint_test *x)
{
    if (x->target)
        x->sender->target_free(x->sender->ctx, x->target);
    free(x->payload);
    service_test_attempt_release(&x->attempt);
    memset(x, 0, sizeof(*x));
}

struct verified_op {
    struct commit_op op;
    char mode[8];
    char id[ID_MAX];
};

static enum err verified_apply(struct store *s, struct commit_op *op)
{
    struct verified_op *x = (struct verified_op *)op;
    return store_endpoint_set_verified(s, x->mode, x->id, clock_now_ms(), &op->detail);
}

static void verified_done(struct commit_op *op)
{
    if (op->result != ERR_OK && op->result != ERR_NOTFOUND) /* deleted meanwhile: nothing to mark */
        log_warn("api", "cannot mark the endpoint verified: %s", op->detail.msg);
    free(op);
}

void service_endpoint_mark_verified(struct committer *c, const char *mode, const char *id)
{
    struct verified_op *x = calloc(1, sizeof(*x));
    if (!x)
        abort();
    snprintf(x->mode, sizeof(x->mode), "%s", mode);
    snprintf(x->id, sizeof(x->id), "%s", id);
    x->op.apply = verified_apply;
    x->op.done = verified_done;
    committer_submit(c, &x->op);
}

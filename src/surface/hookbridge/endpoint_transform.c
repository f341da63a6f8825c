/*
 * endpoint_transform - POST /v1/endpoints/{id}/transformation/test (POLICIES
 * §2): run the endpoint's jq transformation (or the body's `transformation`)
 * on a sample and answer what a delivery would send; nothing is delivered or
 * stored. Body: {payload? (any JSON; default {}), headers? (object of
 * strings), event_type?, transformation?}. Answer: {data: {skip, body,
 * headers}} (body as JSON, null when skipped). A program that fails is a 400
 * naming `transformation`, with jq's or the budget's message.
 * Threading: the run blocks this libmicrohttpd thread for at most the
 * transformation's budgets (deliver/transform.h).
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "core/validate.h"
#include "service/endpoint_policy.h"
#include "service/endpoints.h"
#include "surface/hookbridge/internal.h"

static enum err read_sample(json_t *body, char **payload, char **headers, const char **event_type,
                            const char **program, struct err_detail *d)
{
    *payload = *headers = NULL;
    *event_type = *program = NULL;
    if (!json_is_object(body))
        return err_set(d, ERR_INVAL, "INVALID_REQUEST", "request body must be a JSON object");
    json_t *v = json_object_get(body, "payload");
    *payload = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("{}");
    if (!*payload)
        abort();
    if ((v = json_object_get(body, "headers")) && !json_is_null(v)) {
        enum err e = validate_headers(v, d);
        if (e != ERR_OK)
            return e;
        *headers = json_dumps(v, JSON_COMPACT);
    }
    v = json_object_get(body, "event_type");
    if (v && !json_is_null(v) && !(*event_type = json_string_value(v)))
        return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", "event_type",
                             "'event_type' must be a string");
    v = json_object_get(body, "transformation");
    if (v && !json_is_null(v) && (!(*program = json_string_value(v)) || !**program))
        return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", "transformation",
                             "'transformation' must be a jq program");
    return ERR_OK;
}

void hookbridge__endpoints_transformation_test(struct http_request *r)
{
    struct err_detail d = {0};
    json_t *body = http__parse_body(r, true, &d);
    char *payload = NULL, *headers = NULL;
    const char *event_type = NULL, *program = NULL;
    enum err e =
        body ? read_sample(body, &payload, &headers, &event_type, &program, &d) : ERR_INVAL;
    struct store_endpoint ep = {0};
    if (e == ERR_OK) {
        struct store *s = http__store_acquire(r->server);
        e = s ? service_endpoint_get(s, r->key.mode, NULL, r->param[0], &ep, &d) : ERR_IO;
        http__store_release(r->server, s);
    }
    struct endpoint_transform_sample out = {0};
    if (e == ERR_OK)
        e = endpoint_policy_transform_test(&ep, program, payload, strlen(payload), headers,
                                           event_type, &out, &d);
    if (e != ERR_OK) {
        http__respond_err(r, e, &d);
    } else {
        json_t *b = out.skip ? json_null() : json_loads(out.body, JSON_DECODE_ANY, NULL);
        json_t *h = out.skip ? json_null() : json_loads(out.headers_json, 0, NULL);
        http__respond_data(r, MHD_HTTP_OK,
                           json_pack("{s:b, s:o, s:o}", "skip", out.skip, "body",
                                     b ? b : json_null(), "headers", h ? h : json_object()),
                           NULL);
    }
    free(out.body);
    free(out.headers_json);
    store_endpoint_release(&ep);
    free(payload);
    free(headers);
    json_decref(body);
}

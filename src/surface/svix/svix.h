/*
 * svix - the Svix wire API (/api/v1, TENANCY.md §5): a thin translator of
 * Svix's names, envelopes, iterators and status codes onto service/.
 *
 * Description: svix_route answers every request under /api/v1 (authenticated
 * with the same API keys as /v1); errors are Svix's {code, detail}, and
 * validation errors 422 {detail: [{loc, msg, type}]}. The files of this
 * directory share internal.h (svix__ names).
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_SURFACE_SVIX_SVIX_H
#define HOOKD_SURFACE_SVIX_SVIX_H

struct http_request;

void svix_route(struct http_request *r);
/* When r's path is under /api/v1, make its errors Svix's from now on (before routing:
 * a 503 while shutting down, a method that is not a token). */
void svix_claim(struct http_request *r);

#endif

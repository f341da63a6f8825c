/*
 * hookbase - the Hookbase wire API (/api/..., TENANCY.md §6) and the routes
 * of Hookbase's customer portal (/portal/..., surface/portal): thin
 * translators of Hookbase's names, {data} envelopes, offset/cursor lists
 * and status codes onto service/.
 *
 * Description: hookbase_route answers every request under /api/ that is not
 * /api/v1 (Svix's); API keys come as Bearer or x-api-key; errors are
 * {"error": {"message", "code", "validationErrors"?}}. The files of this
 * directory share internal.h (hookbase__ names), which surface/portal uses
 * too: the portal's objects are the API's, scoped to one application.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_SURFACE_HOOKBASE_HOOKBASE_H
#define HOOKD_SURFACE_HOOKBASE_HOOKBASE_H

#include <stdbool.h>

struct http_request;

/* Is r's path one of Hookbase's (/api/... but not /api/v1/..., or /portal/...)? */
bool hookbase_owns(const struct http_request *r);
void hookbase_route(struct http_request *r);
/* When r's path is Hookbase's, make its errors Hookbase's from now on. */
void hookbase_claim(struct http_request *r);

#endif

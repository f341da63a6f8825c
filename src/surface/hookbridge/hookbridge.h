/*
 * hookbridge - the HookBridge wire API (/v1, API.md): a thin translator of
 * its names, envelopes, cursors and codes onto service/ and the store's
 * reads. hookbridge_route answers every request under /v1, authenticated
 * with an API key (a portal token is 403 here). The files of this directory
 * share internal.h (hookbridge__ names).
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_SURFACE_HOOKBRIDGE_HOOKBRIDGE_H
#define HOOKD_SURFACE_HOOKBRIDGE_HOOKBRIDGE_H

struct http_request;

void hookbridge_route(struct http_request *r);

#endif

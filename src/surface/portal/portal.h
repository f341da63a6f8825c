/*
 * portal - the routes of Hookbase's customer portal (/portal/...,
 * TENANCY.md §6): a browser holding a portal token (whpt_..., made through
 * /api/portal/... or Svix's app-portal-access) manages the endpoints,
 * subscriptions and messages of the token's application only.
 *
 * Description: every answer carries Access-Control-Allow-Origin for an
 * origin allowed by --portal-origins (errors too); preflights are answered
 * without a token; an API key is refused (403: the portal acts for one
 * application); a token without the write scope gets 403 on every write.
 * The objects are Hookbase's (surface/hookbase/internal.h), whose handlers
 * these routes reuse inside the token's application.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_SURFACE_PORTAL_PORTAL_H
#define HOOKD_SURFACE_PORTAL_PORTAL_H

struct http_request;

void portal_route(struct http_request *r);

#endif

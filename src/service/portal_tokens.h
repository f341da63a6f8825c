/*
 * portal_tokens - tokens that act for one application (TENANCY.md §1, §4):
 * made through Svix's app-portal-access (and later Hookbase's portal routes),
 * shown once, kept only as a SHA-256, valid until they expire or are revoked,
 * with the scopes read or read+write.
 * Errors: ERR_INVAL (field named), ERR_NOTFOUND, ERR_IO.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_SERVICE_PORTAL_TOKENS_H
#define HOOKD_SERVICE_PORTAL_TOKENS_H

#include <jansson.h>
#include <stdbool.h>

#include "service/service.h"

#define PORTAL_TOKEN_PREFIX "whpt_"
#define PORTAL_TOKEN_MAX 64
#define PORTAL_EXPIRY_MIN_S 3600
#define PORTAL_EXPIRY_MAX_S (365 * 24 * 3600)
#define PORTAL_EXPIRY_DEFAULT_S (7 * 24 * 3600)

/* Make a token for application app (id or uid) of mode. */
struct service_portal_token_op {
    struct service_op head;
    char mode[8];
    char *app;
    int64_t expiry_s;
    bool read_only;
    /* out */
    struct store_portal_token token;
    char secret[PORTAL_TOKEN_MAX]; /* the token itself: shown once */
    char name[128];
    char scopes[32];        /* "" = from read_only */
    char *allowed_ips_json; /* NULL = any */
};
/* expiry_s 0 = the default (7 days); else PORTAL_EXPIRY_MIN_S..PORTAL_EXPIRY_MAX_S. */
enum err service_portal_token_op_init(struct service_portal_token_op *x, const char *mode,
                                      const char *app, int64_t expiry_s, bool read_only,
                                      struct err_detail *d);
void service_portal_token_op_release(struct service_portal_token_op *x);

/* Hookbase's portal tokens and magic links (TENANCY §6): a name (at most 127
 * bytes), scopes (an array of "read"/"write"; NULL = both), a lifetime of
 * min_s..max_s seconds (0 = def_s; field names the input at fault when out of
 * range) and allowed_ips (an array of IPv4/IPv6 addresses or IPv4 CIDRs; NULL =
 * any). */
struct portal_token_fields {
    const json_t *name, *scopes, *allowed_ips;
    int64_t expiry_s, min_s, max_s, def_s;
    const char *expiry_field; /* the domain name of the lifetime input */
};
enum err service_portal_token_op_init_fields(struct service_portal_token_op *x, const char *mode,
                                             const char *app, const struct portal_token_fields *f,
                                             struct err_detail *d);
/* The tokens of application app (id or uid) of mode, newest first, at most max
 * (release each of the *n). ERR_NOTFOUND when there is no such application. */
enum err service_portal_tokens_list(struct store *s, const char *mode, const char *app,
                                    struct store_portal_token *out, int max, int *n,
                                    struct err_detail *d);

/* Revoke token id of mode: it stops working at once (the next request is 401).
 * ERR_NOTFOUND when unknown. */
struct service_portal_token_revoke_op {
    struct service_op head;
    char mode[8];
    char id[ID_MAX];
};
void service_portal_token_revoke_op_init(struct service_portal_token_revoke_op *x, const char *mode,
                                         const char *id);

/* May a request from address ip use token t (its allowed_ips)? */
bool service_portal_ip_allowed(const struct store_portal_token *t, const char *ip);

/* The live token secret names (ERR_NOTFOUND when unknown, expired or revoked). */
enum err service_portal_authenticate(struct store *s, const char *secret,
                                     struct store_portal_token *out, struct err_detail *d);
/* Does the token allow writes? */
bool service_portal_can_write(const struct store_portal_token *t);

#endif

/*
 * addr_guard - the address policy (core/addr_policy.h) applied to a curl
 * handle at connect time: every address curl is about to connect to (after
 * DNS, for every redirect and retry) is checked, so a hostname that resolves
 * into private space is refused like an IP literal would be. Used by
 * deliveries (request.c) and by OAuth2 token fetches (oauth2.c).
 * Threading: the guard belongs to its handle's thread.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_DELIVER_ADDR_GUARD_H
#define HOOKD_DELIVER_ADDR_GUARD_H

#include <curl/curl.h>
#include <stdbool.h>

struct addr_guard {
    bool allow_private; /* --allow-private-networks: every address passes */
    bool blocked;       /* out: a connect was refused by the policy */
};

/* Check every connect of c against g (which must outlive the transfer). */
void addr_guard_install(CURL *c, struct addr_guard *g);

#endif

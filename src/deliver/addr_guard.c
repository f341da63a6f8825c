/* addr_guard - see addr_guard.h. SPDX-License-Identifier: MIT */
#include "deliver/addr_guard.h"

#include <sys/socket.h>

#include "core/addr_policy.h"

static curl_socket_t on_opensocket(void *ud, curlsocktype purpose, struct curl_sockaddr *addr)
{
    struct addr_guard *g = ud;
    (void)purpose;
    if (!g->allow_private && !addr_policy_is_public(&addr->addr)) {
        g->blocked = true;
        return CURL_SOCKET_BAD;
    }
    return socket(addr->family, addr->socktype, addr->protocol);
}

void addr_guard_install(CURL *c, struct addr_guard *g)
{
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, on_opensocket);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, g);
}

/*
 * addr_policy - which resolved addresses a delivery may connect to (ARCHITECTURE §6).
 *
 * Description: refuses loopback, private (RFC 1918, ULA), link-local,
 * multicast, CGNAT, unspecified, broadcast, documentation, benchmarking,
 * reserved and cloud-metadata addresses, plus IPv4-mapped forms of them,
 * unless the operator allowed private networks. Applied at connect time,
 * after DNS, so a hostname cannot smuggle a private address past it.
 * Threading: pure function.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_CORE_ADDR_POLICY_H
#define HOOKD_CORE_ADDR_POLICY_H

#include <stdbool.h>
#include <sys/socket.h>

/* True when sa is a public unicast address a delivery may reach. */
bool addr_policy_is_public(const struct sockaddr *sa);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* Living with dockerd's iptables. Once dockerd has turned forwarding on it sets the FORWARD
 * chain's policy to DROP and accepts only what crosses its own bridges, so it would drop every
 * packet berth's bridges forward (their containers talking, going out, being published). berth
 * owns one iptables chain, BERTH-DOCKER, jumped to first from DOCKER-USER (the chain Docker
 * leaves to its users and runs before its own rules); per berth bridge B it holds
 *     -i B -o B -j ACCEPT               traffic inside the network
 *     -i B -o D -m conntrack --ctstate RELATED,ESTABLISHED,DNAT -j RETURN
 *     -i B -o D -j DROP                 towards Docker's own bridges D (docker0, br-+): only
 *                                       replies and published ports, which Docker's rules
 *                                       then judge; berth's networks and Docker's are isolated
 *                                       whatever the FORWARD policy (ACCEPT when forwarding
 *                                       was on before dockerd started)
 *     -i B -j ACCEPT                    out of the network: berth's nftables rules decide
 *     -o B -j ACCEPT                    into the network: berth's nftables rules decide
 * ACCEPT there only means "not Docker's business": every packet still crosses berth's own
 * nftables tables, which isolate, publish and drop as for any berth network. Written with
 * iptables-restore --noflush (the chain is rewritten whole, atomically), for iptables and
 * ip6tables; hosts without them have nothing to cooperate with. */
#pragma once

#include <stddef.h>

#include "common/error.h"
#include "common/names.h"

#define DKP_IPT_CHAIN "BERTH-DOCKER"

/* The iptables-restore input that rewrites BERTH-DOCKER for these bridges (malloc'd). */
char *dkp_iptables_rules(char (*bridges)[IFNAME_LEN], size_t n);
/* Rewrites the chain and makes sure FORWARD -> DOCKER-USER -> BERTH-DOCKER, for iptables and
 * ip6tables (one missing: skipped). 0, or -errno with the tool's message. */
int dkp_iptables_sync(char (*bridges)[IFNAME_LEN], size_t n, struct berr *err);
/* Removes the chain and the jump to it (berthd --cleanup); what is missing already is fine. */
int dkp_iptables_remove(struct berr *err);

/* SPDX-License-Identifier: Apache-2.0 */
/* The firewall seen from the manager. Until the nftables subsystem exists these hooks do nothing:
 * no publishing, no NAT, no isolation (issue 3 fills them in over nft/). */
#include "daemon/mgr_internal.h"

int mgr_fw_init(struct manager *m, struct berr *err) { return 0; }
void mgr_fw_close(struct manager *m) {}
int mgr_fw_network_added(struct manager *m, struct net_entry *n, struct berr *err) { return 0; }
void mgr_fw_network_removed(struct manager *m, struct net_entry *n) {}
int mgr_fw_endpoint_added(struct manager *m, struct ctr_entry *c, struct ep_entry *ep,
			  struct berr *err)
{
	return 0;
}
void mgr_fw_endpoint_removed(struct manager *m, struct ctr_entry *c, struct ep_entry *ep) {}
int mgr_fw_ports_add(struct manager *m, struct ctr_entry *c, struct berr *err) { return 0; }
void mgr_fw_ports_remove(struct manager *m, struct ctr_entry *c) {}

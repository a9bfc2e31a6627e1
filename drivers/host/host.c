/* SPDX-License-Identifier: Apache-2.0 */
/* The host driver: containers share the host's network namespace. No interfaces, no addresses;
 * the only network of this driver is the predefined "host". */
#include <errno.h>

#include "drivers/driver.h"

static int host_validate(struct drv_ctx *ctx, struct bnetwork *n, struct berr *err)
{
	if (n->n_subnets > 0)
		return berr_set(err, -EINVAL, "the host driver takes no subnets");
	return 0;
}

const struct driver_ops host_driver = {
	.name = "host",
	.no_ipam = true,
	.shares_host_netns = true,
	.validate = host_validate,
};

/* SPDX-License-Identifier: Apache-2.0 */
/* The none driver: the container gets its own network namespace holding only lo. The only
 * network of this driver is the predefined "none". */
#include <errno.h>

#include "drivers/driver.h"

static int none_validate(struct drv_ctx *ctx, struct bnetwork *n, struct berr *err)
{
	if (n->n_subnets > 0)
		return berr_set(err, -EINVAL, "the none driver takes no subnets");
	return 0;
}

const struct driver_ops none_driver = {
	.name = "none",
	.no_ipam = true,
	.validate = none_validate,
};

/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "drivers/driver.h"

static const struct driver_ops *const drivers[] = {
	&bridge_driver,
	&host_driver,
	&none_driver,
};

const struct driver_ops *driver_lookup(const char *name)
{
	for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++)
		if (strcmp(drivers[i]->name, name) == 0)
			return drivers[i];
	return NULL;
}

bool driver_is_predefined_only(const struct driver_ops *d)
{
	return d == &host_driver || d == &none_driver;
}

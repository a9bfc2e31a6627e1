/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "drivers/driver.h"
#include "drivers/macvlan/macvlan.h"

static const struct driver_ops *const drivers[] = {
	&bridge_driver,
	&macvlan_driver,
	&overlay_driver,
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

const char *driver_user_names(void)
{
	static char buf[256];

	if (buf[0])
		return buf;
	for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++) {
		if (driver_is_predefined_only(drivers[i]))
			continue;
		if (buf[0])
			strncat(buf, ", ", sizeof(buf) - strlen(buf) - 1);
		strncat(buf, drivers[i]->name, sizeof(buf) - strlen(buf) - 1);
	}
	return buf;
}

const struct driver_ops *driver_at(size_t i)
{
	return i < sizeof(drivers) / sizeof(drivers[0]) ? drivers[i] : NULL;
}

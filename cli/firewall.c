/* SPDX-License-Identifier: Apache-2.0 */
/* berth firewall reload: rebuild berth's nftables tables from the daemon's state now. */
#include <stdio.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "common/util.h"

int cmd_firewall(int argc, char **argv);

static int firewall_reload(int argc, char **argv)
{
	const struct cmd_spec spec = { "firewall reload", "",
				       "Rebuild berth's nftables tables from the daemon's state", NULL,
				       false };
	struct berr err = BERR_INIT;
	struct args args;
	int r;

	r = flags_parse(&spec, argc, argv, &args);
	if (r != 0 || args_require(&spec, &args, 0, 0) < 0)
		return cmd_parse_exit(r ? r : -EINVAL);
	if (client_json("POST", "/firewall/reload", NULL, NULL, &err) < 0)
		return cli_fail_err(&err);
	return 0;
}

int cmd_firewall(int argc, char **argv)
{
	static const struct cmd_group_entry cmds[] = {
		{ "reload", firewall_reload, "Rebuild berth's nftables tables now" },
		{ 0 },
	};

	return cmd_group_dispatch("firewall", cmds, argc, argv);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* berth dns: lookups through the embedded DNS from the host, and its counters. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "common/util.h"


static void lookup_print(const cJSON *r)
{
	const cJSON *answers = cJSON_GetObjectItemCaseSensitive(r, "Answers"), *a;

	printf("%s %s (%s%s%s): %s\n", json_str(r, "Query"), json_str(r, "Type"),
	       json_str(r, "Source"), *json_str(r, "Network") ? ", network " : "",
	       json_str(r, "Network"), json_str(r, "Rcode"));
	cJSON_ArrayForEach(a, answers)
		printf("%s\t%s\n", json_str(a, "Type"), json_str(a, "Data"));
}

static int dns_lookup(int argc, char **argv)
{
	const char *network = NULL, *type = NULL;
	bool json = false;
	const struct flag flags[] = {
		{ "network", 0, FLAG_STR, &network, "NETWORK", "Resolve as a container on this network" },
		{ "type", 't', FLAG_STR, &type, "TYPE", "Record type: A (default), AAAA or PTR" },
		{ "json", 0, FLAG_BOOL, &json, NULL, "Print the API's JSON reply" },
		{ 0 },
	};
	const struct cmd_spec spec = { "dns lookup", "[OPTIONS] NAME",
				       "Resolve a name through the embedded DNS", flags, false };
	_cleanup_json_ cJSON *reply = NULL;
	_cleanup_free_ char *path = NULL, *n = NULL, *net = NULL, *t = NULL;
	struct berr err = BERR_INIT;
	struct args args;
	int r;

	r = flags_parse(&spec, argc, argv, &args);
	if (r != 0 || args_require(&spec, &args, 1, 1) < 0)
		return cmd_parse_exit(r ? r : -EINVAL);
	n = client_escape(args.v[0]);
	net = client_escape(network ? network : "");
	t = client_escape(type ? type : "A");
	path = xasprintf("/dns/lookup?name=%s&network=%s&type=%s", n, net, t);
	if (client_json("GET", path, NULL, &reply, &err) < 0)
		return cli_fail_err(&err);
	if (json) {
		_cleanup_free_ char *s = cJSON_Print(reply);

		printf("%s\n", s);
	} else {
		lookup_print(reply);
	}
	return strcmp(json_str(reply, "Rcode"), "NOERROR") == 0 ? 0 : 1;
}

static int dns_stats(int argc, char **argv)
{
	bool json = false;
	const struct flag flags[] = {
		{ "json", 0, FLAG_BOOL, &json, NULL, "Print the API's JSON reply" },
		{ 0 },
	};
	const struct cmd_spec spec = { "dns stats", "[OPTIONS]",
				       "Show the embedded DNS server's counters", flags, false };
	_cleanup_json_ cJSON *reply = NULL;
	struct berr err = BERR_INIT;
	struct args args;
	const cJSON *it;
	int r;

	r = flags_parse(&spec, argc, argv, &args);
	if (r != 0 || args_require(&spec, &args, 0, 0) < 0)
		return cmd_parse_exit(r ? r : -EINVAL);
	if (client_json("GET", "/dns/stats", NULL, &reply, &err) < 0)
		return cli_fail_err(&err);
	if (json) {
		_cleanup_free_ char *s = cJSON_Print(reply);

		printf("%s\n", s);
		return 0;
	}
	cJSON_ArrayForEach(it, reply)
		if (cJSON_IsNumber(it))
			printf("%-16s %.0f\n", it->string, it->valuedouble);
	return 0;
}

int cmd_dns(int argc, char **argv)
{
	static const struct cmd_group_entry cmds[] = {
		{ "lookup", dns_lookup, "Resolve a name as a container on a network would" },
		{ "stats", dns_stats, "Show the embedded DNS server's counters" },
		{ 0 },
	};

	return cmd_group_dispatch("dns", cmds, argc, argv);
}

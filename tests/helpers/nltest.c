/* SPDX-License-Identifier: Apache-2.0 */
/* nltest: a small command line over netlink/netlink.h, driven by tests/system/test_netlink.sh.
 * Every command acts in the calling process's current network namespace. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "netlink/netlink.h"

struct cmd {
	const char *name;
	int argc;                  /* minimum number of arguments */
	const char *usage;
	int (*run)(struct nlx *nl, char **argv, int argc, struct berr *err);
};

static const char *opt(const char *s)
{
	return strcmp(s, "-") == 0 ? NULL : s;
}

static int open_ns(const char *path, struct berr *err)
{
	int fd;

	if (!path)
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return berr_errno(err, -errno, "opening %s", path);
	return fd;
}

static int cmd_index(struct nlx *nl, char **argv, int argc, struct berr *err)
{
	int r = nlx_link_index(nl, argv[0], err);

	if (r >= 0)
		printf("%d\n", r);
	return r < 0 ? r : 0;
}

static int cmd_bridge(struct nlx *nl, char **argv, int argc, struct berr *err)
{
	return nlx_bridge_create(nl, argv[0], atoi(argv[1]), err);
}

static int cmd_veth(struct nlx *nl, char **argv, int argc, struct berr *err)
{
	_cleanup_close_ int fd = -1;
	uint8_t mac[6];
	int r;

	if (opt(argv[2])) {
		fd = open_ns(argv[2], err);
		if (fd < 0)
			return fd;
	}
	if (opt(argv[4])) {
		r = mac_parse(argv[4], mac, err);
		if (r < 0)
			return r;
	}
	return nlx_veth_create(nl, argv[0], opt(argv[1]), fd, argv[3],
			       opt(argv[4]) ? mac : NULL, argc > 5 ? atoi(argv[5]) : 0, 0, err);
}

static int cmd_del(struct nlx *nl, char **argv, int argc, struct berr *err)
{
	return nlx_link_delete(nl, argv[0], err);
}

static int cmd_up(struct nlx *nl, char **argv, int argc, struct berr *err)
{
	return nlx_link_set_up(nl, argv[0], atoi(argv[1]) != 0, err);
}

static int cmd_mtu(struct nlx *nl, char **argv, int argc, struct berr *err)
{
	return nlx_link_set_mtu(nl, argv[0], atoi(argv[1]), err);
}

static int cmd_list(struct nlx *nl, char **argv, int argc, struct berr *err)
{
	_cleanup_free_ char (*names)[IFNAME_LEN] = NULL;
	size_t i, n;
	int r;

	r = nlx_link_list_prefix(nl, argv[0], &names, &n, err);
	if (r < 0)
		return r;
	for (i = 0; i < n; i++)
		printf("%s\n", names[i]);
	return 0;
}

static int addr_common(struct nlx *nl, char **argv, int argc, bool add, struct berr *err)
{
	struct cidr c;
	int r;

	r = cidr_parse(argv[1], &c, err);
	if (r < 0)
		return r;
	if (add)
		return nlx_addr_add(nl, argv[0], &c, argc > 2 && !strcmp(argv[2], "nodad"), err);
	return nlx_addr_del(nl, argv[0], &c, err);
}

static int cmd_addr(struct nlx *nl, char **argv, int argc, struct berr *err)
{
	return addr_common(nl, argv, argc, true, err);
}

static int cmd_addr_del(struct nlx *nl, char **argv, int argc, struct berr *err)
{
	return addr_common(nl, argv, argc, false, err);
}

static int family_parse(const char *s)
{
	return strchr(s, '6') ? AF_INET6 : AF_INET;   /* "6", "inet6", "ipv6" */
}

static int cmd_route_default(struct nlx *nl, char **argv, int argc, struct berr *err)
{
	struct ipaddr gw;
	int r;

	r = ip_parse(argv[1], &gw, err);
	if (r < 0)
		return r;
	return nlx_route_default_set(nl, family_parse(argv[0]), &gw, argv[2], err);
}

static int cmd_route_default_del(struct nlx *nl, char **argv, int argc, struct berr *err)
{
	return nlx_route_default_del(nl, family_parse(argv[0]), err);
}

static int cmd_routes(struct nlx *nl, char **argv, int argc, struct berr *err)
{
	_cleanup_free_ struct cidr *routes = NULL;
	char buf[CIDR_STRLEN];
	size_t i, n;
	int r;

	r = nlx_route_list(nl, family_parse(argv[0]), &routes, &n, err);
	if (r < 0)
		return r;
	for (i = 0; i < n; i++)
		printf("%s\n", cidr_fmt(&routes[i], buf));
	return 0;
}

static int cmd_sysctl_write(struct nlx *nl, char **argv, int argc, struct berr *err)
{
	return sysctl_write(argv[0], argv[1], err);
}

static int cmd_sysctl_read(struct nlx *nl, char **argv, int argc, struct berr *err)
{
	char buf[256];
	int r = sysctl_read(argv[0], buf, sizeof(buf), err);

	if (r >= 0)
		printf("%s\n", buf);
	return r;
}

static int cmd_netns_create(struct nlx *nl, char **argv, int argc, struct berr *err)
{
	return netns_create(argv[0], err);
}

static int cmd_netns_delete(struct nlx *nl, char **argv, int argc, struct berr *err)
{
	return netns_delete(argv[0], err);
}

static int cmd_netns_bind(struct nlx *nl, char **argv, int argc, struct berr *err)
{
	return netns_bind_pid(atoi(argv[0]), argv[1], err);
}

/* ns-index PATH NAME: nlx_open() on a namespace fd, then a lookup there. */
static int cmd_ns_index(struct nlx *unused, char **argv, int argc, struct berr *err)
{
	_cleanup_(nlx_closep) struct nlx *nl = NULL;
	_cleanup_close_ int fd = open_ns(argv[0], err);
	int r;

	if (fd < 0)
		return fd;
	r = nlx_open(fd, &nl, err);
	if (r < 0)
		return r;
	return cmd_index(nl, argv + 1, argc - 1, err);
}

/* ns-sysctl PATH KEY: netns_enter(), sysctl_read(), netns_leave(). */
static int cmd_ns_sysctl(struct nlx *nl, char **argv, int argc, struct berr *err)
{
	_cleanup_close_ int fd = open_ns(argv[0], err);
	int saved, r, r2;

	if (fd < 0)
		return fd;
	r = netns_enter(fd, &saved, err);
	if (r < 0)
		return r;
	r = cmd_sysctl_read(nl, argv + 1, argc - 1, err);
	r2 = netns_leave(saved, err);
	return r < 0 ? r : r2;
}

static double now_ms(void)
{
	return time_mono_ns() / 1e6;
}

/* bench-veth COUNT MASTER NETNS_PATH: COUNT veth creates then deletes, mean time of each. */
static int cmd_bench_veth(struct nlx *nl, char **argv, int argc, struct berr *err)
{
	_cleanup_close_ int fd = open_ns(argv[2], err);
	int i, n = atoi(argv[0]), r = 0;
	char name[IFNAME_LEN], peer[IFNAME_LEN];
	double t0, t1, t2;

	if (fd < 0)
		return fd;
	t0 = now_ms();
	for (i = 0; i < n && r >= 0; i++) {
		snprintf(name, sizeof(name), "bvb%d", i);
		snprintf(peer, sizeof(peer), "bpb%d", i);
		r = nlx_veth_create(nl, name, opt(argv[1]), fd, peer, NULL, 0, 0, err);
	}
	t1 = now_ms();
	for (i = 0; i < n && r >= 0; i++) {
		snprintf(name, sizeof(name), "bvb%d", i);
		r = nlx_link_delete(nl, name, err);
	}
	t2 = now_ms();
	if (r >= 0 && n > 0)
		printf("veth create mean %.3f ms, delete mean %.3f ms (%d each)\n",
		       (t1 - t0) / n, (t2 - t1) / n, n);
	return r;
}

static const struct cmd cmds[] = {
	{ "index", 1, "NAME", cmd_index },
	{ "bridge", 2, "NAME MTU", cmd_bridge },
	{ "veth", 5, "NAME MASTER|- NETNS_PATH|- PEER MAC|- [MTU]", cmd_veth },
	{ "del", 1, "NAME", cmd_del },
	{ "up", 2, "NAME 0|1", cmd_up },
	{ "mtu", 2, "NAME MTU", cmd_mtu },
	{ "list", 1, "PREFIX", cmd_list },
	{ "addr", 2, "IF CIDR [nodad]", cmd_addr },
	{ "addr-del", 2, "IF CIDR", cmd_addr_del },
	{ "route-default", 3, "4|6 GW IF", cmd_route_default },
	{ "route-default-del", 1, "4|6", cmd_route_default_del },
	{ "routes", 1, "4|6", cmd_routes },
	{ "sysctl-write", 2, "KEY VALUE", cmd_sysctl_write },
	{ "sysctl-read", 1, "KEY", cmd_sysctl_read },
	{ "netns-create", 1, "PATH", cmd_netns_create },
	{ "netns-delete", 1, "PATH", cmd_netns_delete },
	{ "netns-bind", 2, "PID PATH", cmd_netns_bind },
	{ "ns-index", 2, "NETNS_PATH NAME", cmd_ns_index },
	{ "ns-sysctl", 2, "NETNS_PATH KEY", cmd_ns_sysctl },
	{ "bench-veth", 3, "COUNT MASTER|- NETNS_PATH", cmd_bench_veth },
};

static int usage(void)
{
	size_t i;

	fprintf(stderr, "usage:\n");
	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		fprintf(stderr, "  nltest %s %s\n", cmds[i].name, cmds[i].usage);
	return 2;
}

int main(int argc, char **argv)
{
	_cleanup_(nlx_closep) struct nlx *nl = NULL;
	struct berr err = BERR_INIT;
	const struct cmd *c = NULL;
	size_t i;
	int r;

	for (i = 0; argc > 1 && i < ARRAY_SIZE(cmds); i++)
		if (!strcmp(argv[1], cmds[i].name))
			c = &cmds[i];
	if (!c || argc - 2 < c->argc)
		return usage();
	r = nlx_open(-1, &nl, &err);
	if (r >= 0)
		r = c->run(nl, argv + 2, argc - 2, &err);
	if (r < 0) {
		fprintf(stderr, "nltest %s: %s\n", c->name, berr_str(&err));
		return 1;
	}
	return 0;
}

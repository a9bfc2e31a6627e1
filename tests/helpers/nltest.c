/* SPDX-License-Identifier: Apache-2.0 */
/* nltest: a small command line over netlink/netlink.h, driven by tests/system/test_netlink.sh.
 * Every command acts in the calling process's current network namespace. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/capability.h>

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

struct ns_sysctl {
	struct nlx *nl;
	char **argv;
	int argc;
};

static int ns_sysctl_here(void *arg, struct berr *err)
{
	struct ns_sysctl *a = arg;

	return cmd_sysctl_read(a->nl, a->argv, a->argc, err);
}

/* ns-sysctl PATH KEY: sysctl_read() inside the namespace, through netns_run(). */
static int cmd_ns_sysctl(struct nlx *nl, char **argv, int argc, struct berr *err)
{
	_cleanup_close_ int fd = open_ns(argv[0], err);
	struct ns_sysctl a = { nl, argv + 1, argc - 1 };

	if (fd < 0)
		return fd;
	return netns_run(fd, ns_sysctl_here, &a, err);
}

/* The inode of the calling thread's network namespace. */
static unsigned long thread_netns(void)
{
	struct stat st;

	return stat("/proc/thread-self/ns/net", &st) == 0 ? (unsigned long)st.st_ino : 0;
}

struct ns_probe {
	pid_t tid;               /* of the thread that ran the function */
	unsigned long netns;     /* its network namespace */
	enum { PROBE_OK, PROBE_FAIL, PROBE_STRAND, PROBE_NESTED } how;
	int fd;                  /* PROBE_NESTED: the namespace of the inner call */
	int inner_r;
	unsigned long inner_netns;
};

/* Drops CAP_SYS_ADMIN from the calling thread's effective set (capabilities are per thread): that
 * thread can no longer change namespace, so its way back fails. */
static int thread_drop_sys_admin(struct berr *err)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) < 0)
		return berr_errno(err, -errno, "capget");
	d[0].effective &= ~(1u << CAP_SYS_ADMIN);
	if (syscall(SYS_capset, &h, d) < 0)
		return berr_errno(err, -errno, "capset");
	return 0;
}

static int ns_probe_here(void *arg, struct berr *err)
{
	struct ns_probe *p = arg;

	p->tid = gettid();
	p->netns = thread_netns();
	switch (p->how) {
	case PROBE_FAIL:
		return berr_set(err, -EIO, "deliberate failure inside the namespace");
	case PROBE_STRAND:
		return thread_drop_sys_admin(err);
	case PROBE_NESTED: {
		struct ns_probe in = { .how = PROBE_OK };

		p->inner_r = netns_run(p->fd, ns_probe_here, &in, err);
		p->inner_netns = in.netns;
		return p->inner_r;
	}
	default:
		return 0;
	}
}

/* One netns_run() of the probe; prints what ran where and what the caller is left in:
 * "TAG rc=R ran=INODE thread=other|caller|none caller=INODE msg=..." */
static void ns_probe_run(const char *tag, int fd, struct ns_probe p)
{
	struct berr err = BERR_INIT;
	int r = netns_run(fd, ns_probe_here, &p, &err);

	printf("%s rc=%d ran=%lu thread=%s caller=%lu", tag, r, p.netns,
	       !p.tid ? "none" : p.tid == gettid() ? "caller" : "other", thread_netns());
	if (p.how == PROBE_NESTED)
		printf(" inner_rc=%d inner_ran=%lu", p.inner_r, p.inner_netns);
	printf(" msg=%s\n", r < 0 ? berr_str(&err) : "");
}

/* How many threads of this process are in the namespace of fd. */
static int threads_in_netns(int fd)
{
	DIR *d = opendir("/proc/self/task");
	struct stat target, st;
	struct dirent *e;
	char path[300];
	int n = 0;

	if (!d)
		return -1;
	while (fstat(fd, &target) == 0 && (e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(path, sizeof(path), "/proc/self/task/%s/ns/net", e->d_name);
			n += stat(path, &st) == 0 && st.st_ino == target.st_ino &&
			     st.st_dev == target.st_dev;
		}
	closedir(d);
	return n;
}

/* The same once it reaches 0, or after 2 s (a thread that could not come back may still be
 * ending). */
static int threads_in_netns_wait(int fd)
{
	uint64_t deadline = time_mono_ns() + 2000000000ull;
	int n;

	while ((n = threads_in_netns(fd)) != 0 && time_mono_ns() < deadline)
		usleep(1000);
	return n;
}

/* ns-run PATH: netns_run() of a function that succeeds, of one that fails, on a file that is not
 * a namespace (/dev/null), of one after which its thread cannot change namespace any more (a
 * thread that had to come back would be stranded), then of one that succeeds again, and of one
 * that calls netns_run itself; finally, how many threads are left in the namespace. */
static int cmd_ns_run(struct nlx *nl, char **argv, int argc, struct berr *err)
{
	_cleanup_close_ int fd = open_ns(argv[0], err);
	_cleanup_close_ int bad = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fd;
	printf("before caller=%lu\n", thread_netns());
	ns_probe_run("ok", fd, (struct ns_probe){ .how = PROBE_OK });
	ns_probe_run("fail", fd, (struct ns_probe){ .how = PROBE_FAIL });
	ns_probe_run("bad", bad, (struct ns_probe){ .how = PROBE_OK });
	ns_probe_run("strand", fd, (struct ns_probe){ .how = PROBE_STRAND });
	ns_probe_run("after", fd, (struct ns_probe){ .how = PROBE_OK });
	ns_probe_run("nested", fd, (struct ns_probe){ .how = PROBE_NESTED, .fd = fd });
	printf("threads-left=%d\n", threads_in_netns_wait(fd));
	return 0;
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

/* ---- VXLAN, forwarding and neighbour entries ---- */

static double now_us(void)
{
	return time_mono_ns() / 1e3;
}

/* The ifindex of an existing device, or an error naming it. */
static int dev_index(struct nlx *nl, const char *name, struct berr *err)
{
	int r = nlx_link_index(nl, name, err);

	if (r == 0)
		return berr_set(err, -ENODEV, "%s: no such device", name);
	return r;
}

/* "flood" or "-" is the all-zero MAC of the flood list. */
static int mac_arg(const char *s, uint8_t ret[6], struct berr *err)
{
	if (!strcmp(s, "flood") || !strcmp(s, "-")) {
		memset(ret, 0, 6);
		return 0;
	}
	return mac_parse(s, ret, err);
}

/* vxlan NAME VNI LOCAL|- PORT UNDERLAY|- MTU MASTER|- [l2miss] [l3miss] */
static int cmd_vxlan(struct nlx *nl, char **argv, int argc, struct berr *err)
{
	struct nlx_vxlan cfg = {
		.name = argv[0], .vni = (uint32_t)strtoul(argv[1], NULL, 0),
		.port = (uint16_t)atoi(argv[3]), .mtu = atoi(argv[5]), .master = opt(argv[6]),
	};
	int i, r;

	if (opt(argv[2])) {
		r = ip_parse(argv[2], &cfg.local, err);
		if (r < 0)
			return r;
	}
	if (opt(argv[4])) {
		cfg.underlay = dev_index(nl, argv[4], err);
		if (cfg.underlay < 0)
			return cfg.underlay;
	}
	for (i = 7; i < argc; i++)
		cfg.flags |= !strcmp(argv[i], "l2miss") ? NLX_VXLAN_L2MISS :
			     !strcmp(argv[i], "l3miss") ? NLX_VXLAN_L3MISS : 0;
	return nlx_vxlan_create(nl, &cfg, err);
}

/* vxlan-underlay LOCAL: "IFINDEX MTU VXLAN_MTU" of the interface holding LOCAL, or "0". */
static int cmd_vxlan_underlay(struct nlx *nl, char **argv, int argc, struct berr *err)
{
	struct ipaddr local;
	int mtu = 0, r;

	r = ip_parse(argv[0], &local, err);
	if (r < 0)
		return r;
	r = nlx_vxlan_underlay(nl, &local, &mtu, err);
	if (r > 0)
		printf("%d %d %d\n", r, mtu, nlx_vxlan_mtu(mtu, local.family));
	else if (r == 0)
		printf("0\n");
	return r < 0 ? r : 0;
}

static int fdb_common(struct nlx *nl, char **argv, int argc, bool add, struct berr *err)
{
	struct ipaddr vtep;
	uint8_t mac[6];
	int ifindex, r;

	ifindex = dev_index(nl, argv[0], err);
	if (ifindex < 0)
		return ifindex;
	r = mac_arg(argv[1], mac, err);
	if (r >= 0 && argc > 2)
		r = ip_parse(argv[2], &vtep, err);
	if (r < 0)
		return r;
	if (add)
		return nlx_fdb_add(nl, ifindex, mac, argc > 2 ? &vtep : NULL, err);
	return nlx_fdb_del(nl, ifindex, mac, argc > 2 ? &vtep : NULL, err);
}

static int cmd_fdb_add(struct nlx *nl, char **argv, int argc, struct berr *err)
{
	return fdb_common(nl, argv, argc, true, err);
}

static int cmd_fdb_del(struct nlx *nl, char **argv, int argc, struct berr *err)
{
	return fdb_common(nl, argv, argc, false, err);
}

static int neigh_common(struct nlx *nl, char **argv, int argc, bool add, struct berr *err)
{
	struct ipaddr ip;
	uint8_t mac[6];
	int ifindex, r;

	ifindex = dev_index(nl, argv[0], err);
	if (ifindex < 0)
		return ifindex;
	r = ip_parse(argv[1], &ip, err);
	if (r < 0)
		return r;
	if (!add)
		return nlx_neigh_del(nl, ifindex, &ip, err);
	if (argc < 3)
		return berr_set(err, -EINVAL, "neigh-add needs a MAC");
	r = mac_parse(argv[2], mac, err);
	return r < 0 ? r : nlx_neigh_add(nl, ifindex, &ip, mac, err);
}

static int cmd_neigh_add(struct nlx *nl, char **argv, int argc, struct berr *err)
{
	return neigh_common(nl, argv, argc, true, err);
}

static int cmd_neigh_del(struct nlx *nl, char **argv, int argc, struct berr *err)
{
	return neigh_common(nl, argv, argc, false, err);
}

static const char *permanence(bool permanent)
{
	return permanent ? "permanent" : "dynamic";
}

/* fdb-list DEV: "MAC VTEP permanent|dynamic" per entry; neigh-list DEV [4|6]: "IP MAC ...". */
static int entries_list(struct nlx *nl, char **argv, int argc, bool fdb, struct berr *err)
{
	_cleanup_free_ struct nlx_fdb_entry *fe = NULL;
	_cleanup_free_ struct nlx_neigh_entry *ne = NULL;
	char m[18], ip[IP_STRLEN];
	int ifindex = dev_index(nl, argv[0], err), r;
	size_t i, n = 0;

	if (ifindex < 0)
		return ifindex;
	if (fdb)
		r = nlx_fdb_list(nl, ifindex, &fe, &n, err);
	else
		r = nlx_neigh_list(nl, ifindex, argc > 1 ? family_parse(argv[1]) : 0, &ne, &n,
				   err);
	for (i = 0; r >= 0 && i < n; i++) {
		mac_fmt(fdb ? fe[i].mac : ne[i].mac, m);
		if (fdb)
			printf("%s %s %s\n", m, fe[i].vtep.family ? ip_fmt(&fe[i].vtep, ip) : "-",
			       permanence(fe[i].permanent));
		else
			printf("%s %s %s\n", ip_fmt(&ne[i].ip, ip), m, permanence(ne[i].permanent));
	}
	return r;
}

static int cmd_fdb_list(struct nlx *nl, char **argv, int argc, struct berr *err)
{
	return entries_list(nl, argv, argc, true, err);
}

static int cmd_neigh_list(struct nlx *nl, char **argv, int argc, struct berr *err)
{
	return entries_list(nl, argv, argc, false, err);
}

/* bench-vxlan COUNT MASTER|- LOCAL|-: COUNT VXLAN devices created then deleted. */
static int cmd_bench_vxlan(struct nlx *nl, char **argv, int argc, struct berr *err)
{
	struct nlx_vxlan cfg = { .master = opt(argv[1]) };
	int i, n = atoi(argv[0]), r = 0;
	char name[IFNAME_LEN];
	double t0, t1, t2;

	if (opt(argv[2]) && ip_parse(argv[2], &cfg.local, err) < 0)
		return err->code;
	cfg.name = name;
	t0 = now_us();
	for (i = 0; i < n && r >= 0; i++) {
		snprintf(name, sizeof(name), "bxb%d", i);
		cfg.vni = 900000 + (uint32_t)i;
		r = nlx_vxlan_create(nl, &cfg, err);
	}
	t1 = now_us();
	for (i = 0; i < n && r >= 0; i++) {
		snprintf(name, sizeof(name), "bxb%d", i);
		r = nlx_link_delete(nl, name, err);
	}
	t2 = now_us();
	if (r >= 0 && n > 0)
		printf("vxlan create mean %.0f us, delete mean %.0f us (%d each)\n",
		       (t1 - t0) / n, (t2 - t1) / n, n);
	return r;
}

/* The i-th synthetic remote endpoint of bench-neigh: MAC, IPv4 and IPv6 address. */
static void bench_peer(int i, uint8_t mac[6], struct ipaddr *v4, struct ipaddr *v6)
{
	uint8_t m[6] = { 0x02, 0xbb, 0, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };
	uint8_t a4[16] = { 100, 64 + (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };
	uint8_t a6[16] = { 0xfd, 0xbb, [13] = (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };

	memcpy(mac, m, 6);
	v4->family = AF_INET;
	memcpy(v4->b, a4, 16);
	v6->family = AF_INET6;
	memcpy(v6->b, a6, 16);
}

/* Operation `phase` of bench-neigh on peer i: 0 fdb add, 1 neigh add (IPv4 and IPv6),
 * 2 fdb del, 3 neigh del (IPv4 and IPv6). */
static int bench_op(struct nlx *nl, int ifindex, const struct ipaddr *vtep, int i, int phase,
		    struct berr *err)
{
	struct ipaddr v4, v6;
	uint8_t mac[6];
	int r;

	bench_peer(i, mac, &v4, &v6);
	switch (phase) {
	case 0:
		return nlx_fdb_add(nl, ifindex, mac, vtep, err);
	case 1:
		r = nlx_neigh_add(nl, ifindex, &v4, mac, err);
		return r < 0 ? r : nlx_neigh_add(nl, ifindex, &v6, mac, err);
	case 2:
		return nlx_fdb_del(nl, ifindex, mac, vtep, err);
	default:
		r = nlx_neigh_del(nl, ifindex, &v4, err);
		return r < 0 ? r : nlx_neigh_del(nl, ifindex, &v6, err);
	}
}

/* Mean time of one operation of `phase` over n peers, in microseconds; < 0 on error. */
static double bench_phase(struct nlx *nl, int ifindex, const struct ipaddr *vtep, int n,
			  int phase, struct berr *err)
{
	double t0 = now_us();
	int i, r = 0;

	for (i = 0; i < n && r >= 0; i++)
		r = bench_op(nl, ifindex, vtep, i, phase, err);
	if (r < 0)
		return -1;
	return (now_us() - t0) / (n * (phase % 2 ? 2 : 1));
}

/* bench-neigh COUNT DEV VTEP: COUNT forwarding entries and 2 x COUNT neighbours added, listed
 * and deleted on DEV; mean time of each operation and of a full listing. */
static int cmd_bench_neigh(struct nlx *nl, char **argv, int argc, struct berr *err)
{
	_cleanup_free_ struct nlx_fdb_entry *fe = NULL;
	_cleanup_free_ struct nlx_neigh_entry *ne = NULL;
	int n = atoi(argv[0]), ifindex, phase;
	double t[4], tl0, tl1, tl2;
	size_t nf = 0, nn = 0;
	struct ipaddr vtep;

	ifindex = dev_index(nl, argv[1], err);
	if (ifindex < 0 || ip_parse(argv[2], &vtep, err) < 0 || n <= 0)
		return ifindex < 0 ? ifindex : -EINVAL;
	for (phase = 0; phase < 2; phase++)
		if ((t[phase] = bench_phase(nl, ifindex, &vtep, n, phase, err)) < 0)
			return err->code;
	tl0 = now_us();
	if (nlx_fdb_list(nl, ifindex, &fe, &nf, err) < 0)
		return err->code;
	tl1 = now_us();
	if (nlx_neigh_list(nl, ifindex, 0, &ne, &nn, err) < 0)
		return err->code;
	tl2 = now_us();
	for (phase = 2; phase < 4; phase++)
		if ((t[phase] = bench_phase(nl, ifindex, &vtep, n, phase, err)) < 0)
			return err->code;
	printf("fdb add mean %.1f us, neigh add mean %.1f us, fdb del mean %.1f us, neigh del "
	       "mean %.1f us; list %zu fdb %.0f us, %zu neigh %.0f us (%d peers)\n", t[0], t[1],
	       t[2], t[3], nf, tl1 - tl0, nn, tl2 - tl1, n);
	return 0;
}

/* crypto-probe: what the kernel offers to encrypt overlay traffic. */
static int cmd_crypto_probe(struct nlx *nl, char **argv, int argc, struct berr *err)
{
	struct nlx_crypto c;

	if (nlx_crypto_probe(&c, err) < 0)
		return err->code;
	printf("wireguard %s%s%s\n", c.wireguard ? "yes" : "no", c.wireguard ? "" : ": ",
	       c.wireguard_why);
	printf("esp %s%s%s\n", c.esp ? "yes" : "no", c.esp ? "" : ": ", c.esp_why);
	return 0;
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
	{ "ns-run", 1, "NETNS_PATH", cmd_ns_run },
	{ "bench-veth", 3, "COUNT MASTER|- NETNS_PATH", cmd_bench_veth },
	{ "vxlan", 7, "NAME VNI LOCAL|- PORT UNDERLAY|- MTU MASTER|- [l2miss] [l3miss]",
	  cmd_vxlan },
	{ "vxlan-underlay", 1, "LOCAL_IP", cmd_vxlan_underlay },
	{ "fdb-add", 3, "DEV MAC|flood VTEP", cmd_fdb_add },
	{ "fdb-del", 2, "DEV MAC|flood [VTEP]", cmd_fdb_del },
	{ "fdb-list", 1, "DEV", cmd_fdb_list },
	{ "neigh-add", 3, "DEV IP MAC", cmd_neigh_add },
	{ "neigh-del", 2, "DEV IP", cmd_neigh_del },
	{ "neigh-list", 1, "DEV [4|6]", cmd_neigh_list },
	{ "bench-vxlan", 3, "COUNT MASTER|- LOCAL|-", cmd_bench_vxlan },
	{ "bench-neigh", 3, "COUNT DEV VTEP", cmd_bench_neigh },
	{ "crypto-probe", 0, "", cmd_crypto_probe },
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

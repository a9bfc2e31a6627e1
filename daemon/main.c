/* SPDX-License-Identifier: Apache-2.0 */
/* berthd: the daemon. Parses flags, opens the manager (which reconciles state), serves the API
 * on the unix socket and runs the event loop: signals as a signalfd, container exits as pidfds. */
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <pthread.h>

#include "common/util.h"
#include "daemon/api.h"
#include "daemon/manager.h"
#include "daemon/plugin_api.h"
#include "plugins/docker/iptables.h"
#include "runtime/runtime.h"

struct options {
	struct mgr_config cfg;
	const char *socket;
	const char *plugin;        /* --docker-plugin: the plugin socket, NULL when not served */
	enum blog_level level;
	bool cleanup;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: berthd [OPTIONS]\n\n"
		"The berth container network manager daemon (runs in the foreground).\n\n"
		"Options:\n"
		"  --root DIR                    persistent state (default /var/lib/berth)\n"
		"  --run DIR                     runtime state (default /run/berth)\n"
		"  --socket PATH                 API socket (default <run>/berth.sock)\n"
		"  --log-level LEVEL             error, warn, info or debug (default info)\n"
		"  --cni-config-dir DIR          CNI configuration lists of the networks, for\n"
		"                                berth-cni (default $BERTH_CNI_CONFIG_DIR, else\n"
		"                                /etc/cni/net.d; \"\": none)\n"
		"  --default-address-pool base=CIDR,size=N\n"
		"                                default subnet pool (repeatable; replaces Docker's)\n"
		"  --cluster-store URL           etcd://HOST:PORT[,HOST:PORT...][/PREFIX]: the cluster\n"
		"                                store of overlay networks (etcd v3)\n"
		"  --cluster-store-cafile FILE   CA to verify etcd (https)\n"
		"  --cluster-store-certfile FILE client certificate for etcd\n"
		"  --cluster-store-keyfile FILE  its key\n"
		"  --advertise-addr IP           this host's address for VXLAN (its VTEP)\n"
		"  --cluster-host-name NAME      this host's name in the cluster (default: hostname)\n"
		"  --cluster-ttl SECONDS         lease of this host's records (default 15)\n"
		"  --data-path-port PORT         VXLAN UDP port (default 4789)\n"
		"  --docker-plugin[=PATH]        also serve Docker's remote network and IPAM driver\n"
		"                                (default " PLUGIN_SOCKET_DEFAULT ")\n"
		"  --cleanup                     remove berth's nftables tables (and its iptables chain\n"
		"                                for dockerd) and exit\n"
		"  -h, --help                    this help\n");
}

static int int_opt(const char *flag, const char *s, long lo, long hi, int *ret, struct berr *err)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return berr_set(err, -EINVAL, "invalid %s \"%s\": an integer from %ld to %ld", flag,
				s, lo, hi);
	*ret = (int)v;
	return 0;
}

static int options_parse(int argc, char **argv, struct options *o, struct berr *err)
{
	static const struct option longs[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "run", required_argument, NULL, 'R' },
		{ "socket", required_argument, NULL, 's' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "default-address-pool", required_argument, NULL, 'p' },
		{ "cleanup", no_argument, NULL, 'C' },
		{ "docker-plugin", optional_argument, NULL, 'D' },
		{ "cluster-store", required_argument, NULL, 'S' },
		{ "cluster-store-cafile", required_argument, NULL, 'A' },
		{ "cluster-store-certfile", required_argument, NULL, 'E' },
		{ "cluster-store-keyfile", required_argument, NULL, 'K' },
		{ "advertise-addr", required_argument, NULL, 'a' },
		{ "cluster-host-name", required_argument, NULL, 'H' },
		{ "cluster-ttl", required_argument, NULL, 'T' },
		{ "data-path-port", required_argument, NULL, 'P' },
		{ "cni-config-dir", required_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->cfg.root = "/var/lib/berth";
	o->cfg.run = "/run/berth";
	o->cfg.cni_config_dir = getenv("BERTH_CNI_CONFIG_DIR") ? getenv("BERTH_CNI_CONFIG_DIR")
							       : "/etc/cni/net.d";
	o->level = BLOG_INFO;
	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		switch (c) {
		case 'r': o->cfg.root = optarg; break;
		case 'R': o->cfg.run = optarg; break;
		case 's': o->socket = optarg; break;
		case 'l':
			if (blog_parse_level(optarg, &o->level) < 0)
				return berr_set(err, -EINVAL, "invalid --log-level \"%s\" (error, warn, "
						"info, debug)", optarg);
			break;
		case 'p':
			if (o->cfg.n_pools == MGR_MAX_POOLS)
				return berr_set(err, -EINVAL, "too many --default-address-pool");
			if (ipam_default_pool_parse(optarg, &o->cfg.pools[o->cfg.n_pools++], err) < 0)
				return berr_prefix(err, "invalid --default-address-pool");
			break;
		case 'C': o->cleanup = true; break;
		case 'D': o->plugin = optarg && *optarg ? optarg : PLUGIN_SOCKET_DEFAULT; break;
		case 'S': o->cfg.cluster.store_url = optarg; break;
		case 'A': o->cfg.cluster.cafile = optarg; break;
		case 'E': o->cfg.cluster.certfile = optarg; break;
		case 'K': o->cfg.cluster.keyfile = optarg; break;
		case 'a': o->cfg.cluster.advertise = optarg; break;
		case 'H': o->cfg.cluster.host_name = optarg; break;
		case 'T':
			if (int_opt("--cluster-ttl", optarg, 2, 3600, &o->cfg.cluster.ttl_s, err) < 0)
				return -EINVAL;
			break;
		case 'P':
			if (int_opt("--data-path-port", optarg, 1, 65535, &o->cfg.cluster.data_port,
				    err) < 0)
				return -EINVAL;
			break;
		case 'N': o->cfg.cni_config_dir = optarg; break;
		case 'h': usage(stdout); exit(0);
		default: return berr_set(err, -EINVAL, "invalid arguments (see berthd --help)");
		}
	}
	if (optind < argc)
		return berr_set(err, -EINVAL, "unexpected argument \"%s\"", argv[optind]);
	return 0;
}

static int signals_setup(struct berr *err)
{
	sigset_t set;
	int fd, r;

	/* signal() and sigaddset() fail only for invalid signal numbers: these are constants. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	/* Blocked before any thread exists, so every thread inherits the mask. */
	r = pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (r != 0)
		return berr_errno(err, -r, "blocking signals");
	fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		return berr_errno(err, -errno, "signalfd");
	return fd;
}

/* Returns 0 when SIGTERM or SIGINT arrives, -errno when the loop cannot wait any more. */
static int event_loop(struct manager *m, int sfd)
{
	struct pollfd fds[2] = { { .fd = sfd, .events = POLLIN },
				 { .fd = mgr_event_fd(m), .events = POLLIN } };

	for (;;) {
		struct signalfd_siginfo si;
		bool stop = false, sigchld = false;

		if (poll(fds, 2, -1) < 0 && errno != EINTR) {
			int r = -errno;

			blog_error("event loop: poll: %s: stopping", strerror(-r));
			return r;
		}
		while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
				stop = true;
			else if (si.ssi_signo == SIGCHLD)
				sigchld = true;
		}
		mgr_reap(m, sigchld);
		if (stop)
			return 0;
	}
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	struct berr err = BERR_INIT;
	struct manager *m = NULL;
	struct api *api = NULL, *plugin = NULL;
	_cleanup_free_ char *sock = NULL;
	int sfd, rc;

	if (argc > 1 && strcmp(argv[1], RT_SHIM_ARG) == 0)
		rt_shim_main(argc, argv);
	if (argc > 1 && strcmp(argv[1], RT_EXEC_SHIM_ARG) == 0)
		rt_exec_shim_main(argc, argv);
	if (options_parse(argc, argv, &o, &err) < 0) {
		fprintf(stderr, "berthd: %s\n", berr_str(&err));
		return 1;
	}
	blog_set_level(o.level);
	if (geteuid() != 0) {
		fprintf(stderr, "berthd: must run as root\n");
		return 1;
	}
	if (o.cleanup) {
		if (mgr_firewall_cleanup(&err) < 0 || dkp_iptables_remove(&err) < 0) {
			fprintf(stderr, "berthd: %s\n", berr_str(&err));
			return 1;
		}
		return 0;
	}
	umask(022);
	/* Orphaned container processes (a shim that died) must come back to berthd, not to a PID 1
	 * that may not reap them (it does not on these machines). */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		fprintf(stderr, "berthd: becoming a child subreaper: %s\n", strerror(errno));
		return 1;
	}
	sock = o.socket ? xstrdup(o.socket) : xasprintf("%s/berth.sock", o.cfg.run);
	o.cfg.socket = sock;
	sfd = signals_setup(&err);
	if (sfd < 0 || mgr_open(&o.cfg, &m, &err) < 0 || api_start(m, sock, &api, &err) < 0 ||
	    (o.plugin && api_plugin_start(m, o.plugin, &plugin, &err) < 0)) {
		fprintf(stderr, "berthd: %s\n", berr_str(&err));
		api_stop(api);
		mgr_close(m);
		return 1;
	}
	blog_info("berthd ready: root %s, run %s, socket %s%s%s", o.cfg.root, o.cfg.run, sock,
		  o.plugin ? ", docker plugin " : "", o.plugin ? o.plugin : "");
	rc = event_loop(m, sfd) < 0 ? 1 : 0;
	blog_info("berthd stopping (containers keep running)");
	api_cancel(plugin);   /* then woken by mgr_shutdown, waiting requests end at once */
	api_cancel(api);
	mgr_shutdown(m);   /* pending stops and waits give up: the API's threads end promptly */
	api_stop(plugin);
	api_stop(api);
	mgr_close(m);
	close(sfd);
	return rc;
}

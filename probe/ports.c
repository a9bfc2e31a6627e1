/* SPDX-License-Identifier: Apache-2.0 */
/* The ports a target listens on, read from its socket tables as its namespace sees them
 * (/proc/thread-self/net/{tcp,tcp6,udp,udp6} inside a netns_run job): nothing of the container's
 * processes is touched. Sockets bound to a loopback address are left out (nothing from outside
 * reaches them; the embedded DNS listens on 127.0.0.11). */
#include <fcntl.h>
#include <netinet/in.h>

#include "common/inet.h"
#include "common/util.h"
#include "netlink/netlink.h"
#include "probe/probe.h"

#define LISTEN_MAX 1024

struct discover {
	struct probe_listen *v;
	size_t n;
};

static bool loopback(const struct ipaddr *a)
{
	static const uint8_t lo6[16] = { [15] = 1 };

	return (a->family == AF_INET && a->b[0] == 127) ||
	       (a->family == AF_INET6 && !memcmp(a->b, lo6, 16));
}

static void table_read(struct discover *d, const char *file, int family, uint8_t proto)
{
	_cleanup_free_ char *path = xasprintf("/proc/thread-self/net/%s", file);
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	unsigned want = proto == PROBE_TCP ? SOCKTAB_TCP_LISTEN : SOCKTAB_UDP_BOUND;
	struct socktab_ent s;
	char line[512];

	while (f && fgets(line, sizeof(line), f) && d->n < LISTEN_MAX) {
		if (socktab_line_parse(line, family, &s) < 0 || s.state != want ||
		    loopback(&s.addr) || !s.port)
			continue;
		d->v = xrealloc(d->v, (d->n + 1) * sizeof(*d->v));
		d->v[d->n++] = (struct probe_listen){ .proto = proto, .addr = s.addr,
						      .port = s.port };
	}
}

/* Runs inside the target's namespace. */
static int discover_job(void *arg, struct berr *err)
{
	struct discover *d = arg;

	table_read(d, "tcp", AF_INET, PROBE_TCP);
	table_read(d, "tcp6", AF_INET6, PROBE_TCP);
	table_read(d, "udp", AF_INET, PROBE_UDP);
	table_read(d, "udp6", AF_INET6, PROBE_UDP);
	return 0;
}

int probe_ports_discover(struct probe_world *w, struct berr *err)
{
	for (size_t i = 0; i < w->n_nodes; i++) {
		struct probe_node *n = &w->nodes[i];
		struct discover d = { 0 };
		_cleanup_close_ int fd = -1;
		struct berr e2 = BERR_INIT;

		if (!n->netns)
			continue;
		fd = open(n->netns, O_RDONLY | O_CLOEXEC);
		/* a container that stopped meanwhile: its cells will say so */
		if (fd < 0 || netns_run(fd, discover_job, &d, &e2) < 0) {
			blog_debug("probe: ports of %s: %s", n->name,
				   fd < 0 ? strerror(errno) : berr_str(&e2));
			free(d.v);
			continue;
		}
		free(n->listen);
		n->listen = d.v;
		n->n_listen = d.n;
	}
	return 0;
}

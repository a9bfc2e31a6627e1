/* SPDX-License-Identifier: Apache-2.0 */
/* The ports a target listens on, as its namespace sees them: a sock_diag dump (NETLINK_SOCK_DIAG,
 * listening TCP and bound UDP sockets) made inside a netns_run job; nothing of the container's
 * processes is touched. Not /proc/net/tcp: reading it walks the kernel's whole TCP hash table
 * (10-20 ms each, 50-70 ms a container for the four tables), where the dump of listening
 * sockets walks only theirs. Sockets bound to a loopback address are left out (nothing from
 * outside reaches them; the embedded DNS listens on 127.0.0.11). */
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "common/util.h"
#include "netlink/netlink.h"
#include "probe/probe.h"

#define LISTEN_MAX 1024
#define DIAG_BUF 32768
#define DIAG_TIMEOUT_MS 1000
#define ST_LISTEN 10               /* TCP_LISTEN */
#define ST_CLOSE 7                 /* TCP_CLOSE: a UDP socket bound, not connected */

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

static void diag_take(struct discover *d, const struct inet_diag_msg *m, uint8_t proto)
{
	struct probe_listen l = { .proto = proto, .port = ntohs(m->id.idiag_sport) };

	l.addr.family = m->idiag_family;
	memcpy(l.addr.b, m->id.idiag_src, m->idiag_family == AF_INET ? 4 : 16);
	if (!l.port || loopback(&l.addr) || d->n >= LISTEN_MAX)
		return;
	d->v = xrealloc(d->v, (d->n + 1) * sizeof(*d->v));
	d->v[d->n++] = l;
}

/* 1: the dump ended, 0: more to read, -errno. */
static int diag_read(struct discover *d, const char *buf, size_t len, uint8_t proto)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;

	for (; NLMSG_OK(nlh, len); nlh = NLMSG_NEXT(nlh, len)) {
		if (nlh->nlmsg_type == NLMSG_DONE)
			return 1;
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(nlh);

			return nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)) ? -EBADMSG :
			       e->error ? e->error : 1;
		}
		if (nlh->nlmsg_type == SOCK_DIAG_BY_FAMILY &&
		    nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
			diag_take(d, NLMSG_DATA(nlh), proto);
	}
	return 0;
}

/* The sockets of family and protocol in the given states, from the calling thread's
 * namespace. */
static int diag_dump(int fd, struct discover *d, int family, uint8_t proto, uint32_t states)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg = {
		.nlh = { .nlmsg_len = sizeof(msg), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			 .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1 },
		.req = { .sdiag_family = (uint8_t)family,
			 .sdiag_protocol = proto == PROBE_TCP ? IPPROTO_TCP : IPPROTO_UDP,
			 .idiag_states = states },
	};
	_cleanup_free_ char *buf = xmalloc(DIAG_BUF);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r = 0;

	if (send(fd, &msg, sizeof(msg), 0) < 0)
		return -errno;
	while (r == 0) {
		ssize_t n;

		if (poll(&p, 1, DIAG_TIMEOUT_MS) <= 0)
			return -ETIMEDOUT;
		n = recv(fd, buf, DIAG_BUF, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		r = diag_read(d, buf, (size_t)n, proto);
	}
	return r < 0 ? r : 0;
}

/* Runs inside the target's namespace. */
static int discover_job(void *arg, struct berr *err)
{
	static const struct {
		int family;
		uint8_t proto;
		uint32_t states;
	} dumps[] = {
		{ AF_INET, PROBE_TCP, 1u << ST_LISTEN }, { AF_INET6, PROBE_TCP, 1u << ST_LISTEN },
		{ AF_INET, PROBE_UDP, 1u << ST_CLOSE }, { AF_INET6, PROBE_UDP, 1u << ST_CLOSE },
	};
	_cleanup_close_ int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	int r = fd < 0 ? -errno : 0;

	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(dumps); i++)
		r = diag_dump(fd, arg, dumps[i].family, dumps[i].proto, dumps[i].states);
	return r < 0 ? berr_errno(err, r, "listing listening sockets") : 0;
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

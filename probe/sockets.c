/* SPDX-License-Identifier: Apache-2.0 */
/* The probe's sockets, made inside the namespaces of the sources and targets by netns_run jobs
 * (a socket keeps the namespace it was made in; the engine drives them from its own thread):
 * raw ICMP and ICMPv6 sockets for echo requests, UDP sockets, a UDP socket connected to the
 * embedded DNS (127.0.0.11:53), UDP probe listeners on targets, a packet socket that sees UDP
 * datagrams arrive at a target whose own listener holds the port, and TCP sockets. */
#include <fcntl.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <linux/filter.h>
#include <linux/icmp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include "common/inet.h"
#include "common/util.h"
#include "netlink/netlink.h"
#include "probe/probe_internal.h"

#define RCVBUF (1 << 20)
#define OBSERVE_SNAPLEN 160   /* IPv6 + UDP headers and the payload */

static int sock_new(int domain, int type, int proto)
{
	int fd = socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);

	return fd < 0 ? -errno : fd;
}

static void rcvbuf_grow(int fd)
{
	int size = RCVBUF;

	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
}

static int icmp_open(int family)
{
	int fd = sock_new(family == 4 ? AF_INET : AF_INET6, SOCK_RAW,
			  family == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6);

	if (fd < 0)
		return fd;
	if (family == 4) {
		struct icmp_filter f = { .data = ~((1u << ICMP_ECHOREPLY) |
						   (1u << ICMP_DEST_UNREACH) |
						   (1u << ICMP_TIME_EXCEEDED)) };

		setsockopt(fd, SOL_RAW, ICMP_FILTER, &f, sizeof(f));
	} else {
		struct icmp6_filter f;

		ICMP6_FILTER_SETBLOCKALL(&f);
		ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
		ICMP6_FILTER_SETPASS(ICMP6_DST_UNREACH, &f);
		ICMP6_FILTER_SETPASS(ICMP6_TIME_EXCEEDED, &f);
		setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof(f));
	}
	rcvbuf_grow(fd);
	return fd;
}

/* A UDP socket bound to addr:port (family 0 address: any, port 0: ephemeral). */
static int udp_bound(int family, const struct ipaddr *addr, uint16_t port)
{
	struct ipaddr any = { .family = family == 4 ? AF_INET : AF_INET6 };
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, fd = sock_new(any.family, SOCK_DGRAM, 0), r;

	if (fd < 0)
		return fd;
	if (family == 6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	inet_sockaddr(addr && addr->family ? addr : &any, port, &ss, &len);
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	rcvbuf_grow(fd);
	return fd;
}

/* A source's UDP socket: ICMP errors about what it sends come back on its error queue. */
static int udp_source(int family)
{
	int one = 1, fd = udp_bound(family, NULL, 0);

	if (fd >= 0 && family == 4)
		setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
	else if (fd >= 0)
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof(one));
	return fd;
}

static int dns_open(void)
{
	struct ipaddr a = { .family = AF_INET, .b = { 127, 0, 0, 11 } };
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = sock_new(AF_INET, SOCK_DGRAM, 0), r;

	if (fd < 0)
		return fd;
	inet_sockaddr(&a, 53, &ss, &len);
	if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	rcvbuf_grow(fd);
	return fd;
}

/* A packet socket that keeps UDP over IPv4 or IPv6 only (cut to OBSERVE_SNAPLEN bytes): the
 * filter is in place before the socket is bound, so nothing else is ever queued. */
static int observe_open(void)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, (uint32_t)(SKF_AD_OFF + SKF_AD_PROTOCOL)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 0, 2),
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9),                      /* protocol */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 3, 4),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6, 0, 3),
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 6),                      /* next header */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, OBSERVE_SNAPLEN),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = { .len = ARRAY_SIZE(code), .filter = code };
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	int fd = sock_new(AF_PACKET, SOCK_DGRAM, 0), r = 0;

	if (fd < 0)
		return fd;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0 ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		r = -errno;
	if (r < 0) {
		close(fd);
		return r;
	}
	rcvbuf_grow(fd);
	return fd;
}

static int socks_job(void *arg, struct berr *err)
{
	struct sock_req *q = arg;
	bool taken = false;

	for (int f = 0; f < 2; f++) {
		q->icmp_fd[f] = q->icmp[f] ? icmp_open(f ? 6 : 4) : -1;
		q->udp_fd[f] = q->udp[f] ? udp_source(f ? 6 : 4) : -1;
	}
	q->dns_fd = q->dns ? dns_open() : -1;
	for (size_t i = 0; i < q->n_listen; i++) {
		struct esock *l = &q->listen[i];

		l->fd = udp_bound(l->family, &l->addr, l->port);
		taken |= l->fd == -EADDRINUSE;
	}
	q->observe_fd = q->observe || taken ? observe_open() : -1;
	return 0;
}

int probe_socks_make(int netns_fd, struct sock_req *req, struct berr *err)
{
	if (netns_fd < 0)
		return socks_job(req, err);
	return netns_run(netns_fd, socks_job, req, err);
}

struct tcp_job {
	int family;
	size_t n;
	bool bind_any;
	int *fds;
};

static int tcp_one(int family, bool bind_any)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };   /* close = reset: no TIME_WAIT */
	struct ipaddr any = { .family = family == 4 ? AF_INET : AF_INET6 };
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = sock_new(any.family, SOCK_STREAM, 0), r;

	if (fd < 0)
		return fd;
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	inet_sockaddr(&any, 0, &ss, &len);
	if (bind_any && bind(fd, (struct sockaddr *)&ss, len) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

static int tcp_job_run(void *arg, struct berr *err)
{
	struct tcp_job *j = arg;

	for (size_t i = 0; i < j->n; i++)
		j->fds[i] = tcp_one(j->family, j->bind_any);
	return 0;
}

int probe_tcp_make(int netns_fd, int family, size_t n, bool bind_any, int *fds,
		   struct berr *err)
{
	struct tcp_job j = { .family = family, .n = n, .bind_any = bind_any, .fds = fds };

	if (netns_fd < 0)
		return tcp_job_run(&j, err);
	return netns_run(netns_fd, tcp_job_run, &j, err);
}

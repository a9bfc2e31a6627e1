/* SPDX-License-Identifier: Apache-2.0 */
/* The probe engine: every cell of the matrix probed at once from one thread.
 *
 * Each source namespace gets, through one netns_run job, a raw ICMP and ICMPv6 socket, a UDP
 * socket per family and a socket connected to its embedded DNS; each target the UDP probe
 * listeners its cells need (bound to its address, on ports nothing of its own holds) and, where
 * its own listener holds a probed port, a packet socket that sees probe datagrams arrive. TCP
 * connections are made in windows that fit the descriptor limit. An epoll loop sends paced
 * bursts and reads answers; a cell unanswered after wait_ms is sent once more, then called
 * blocked. Expiry happens only after the ready events are drained, so a busy machine delays a
 * verdict instead of turning a late answer into "blocked". Everything is closed at the end. */
#include <dirent.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>

#include "common/inet.h"
#include "common/util.h"
#include "dns/dns.h"
#include "probe/probe_internal.h"

#define BURST 128              /* datagrams sent between two looks at the answers */
#define TCP_GROUP 64           /* TCP sockets made by one namespace job */
#define TCP_WINDOW_MAX 4096
#define FD_RESERVE 1536        /* left for the DNS server and API connections */
#define EVENTS 256
#define PROGRESS_NS 100000000ull
#define TRIES 2

struct ecell {
	uint64_t deadline;         /* of the try in flight */
	uint64_t first_ns;
	uint8_t tries;
	struct esock *tcp;
};

struct enode {
	int nsfd;                  /* -1: the host (the calling thread's namespace) */
	int err;                   /* its sockets could not be made: -errno */
	struct esock *icmp[2], *udp[2], *dns, *observe;
	int icmp_err[2], udp_err[2], dns_err;   /* -errno of a socket that could not be made */
	struct esock *listen;
	size_t n_listen;
	uint16_t dns_base;
	uint32_t *dns_cells;       /* cell of DNS id dns_base + i */
	size_t n_dns;
};

struct ring {
	uint32_t *v;
	size_t cap, head, len;
};

struct engine {
	const struct probe_world *w;
	struct probe_cell *cells;
	size_t n, done;
	const struct probe_opts *o;
	const struct probe_ctl *ctl;
	struct ecell *ec;
	struct enode *nodes;
	int ep;
	uint32_t token;
	uint16_t icmp_id;
	uint64_t wait_ns, deadline, next_progress;
	struct ring dq, tq, flight;  /* datagrams to send, TCP cells to send, tries in flight */
	size_t tcp_inflight, tcp_window;
	bool flow_told, abort;
	struct berr *err;
};

/* ---- queues ---- */

static void ring_init(struct ring *r, size_t cap)
{
	r->cap = cap ? cap : 1;
	r->v = xcalloc(r->cap, sizeof(*r->v));
}

static void ring_push(struct ring *r, uint32_t x)
{
	if (r->len == r->cap) {   /* cannot happen: sized for every try */
		blog_debug("probe: queue full");
		return;
	}
	r->v[(r->head + r->len++) % r->cap] = x;
}

static uint32_t ring_peek(const struct ring *r) { return r->v[r->head]; }

static uint32_t ring_pop(struct ring *r)
{
	uint32_t x = r->v[r->head];

	r->head = (r->head + 1) % r->cap;
	r->len--;
	return x;
}

/* ---- results ---- */

static bool cell_open(const struct engine *e, uint32_t i)
{
	return i < e->n && e->cells[i].verdict == PROBE_NOT_RUN;
}

static void tcp_close(struct engine *e, uint32_t i)
{
	struct esock *s = e->ec[i].tcp;

	if (!s)
		return;
	close(s->fd);   /* leaves the epoll set too */
	free(s);
	e->ec[i].tcp = NULL;
	e->tcp_inflight--;
}

static void cell_done(struct engine *e, uint32_t i, int verdict, int why, int code,
		      const struct ipaddr *from)
{
	struct probe_cell *c = &e->cells[i];

	if (!cell_open(e, i))
		return;
	c->verdict = (uint8_t)verdict;
	c->why = (uint8_t)why;
	c->code = code;
	if (from)
		c->from = *from;
	if (e->ec[i].first_ns)
		c->rtt_us = (uint32_t)((time_mono_ns() - e->ec[i].first_ns) / 1000);
	tcp_close(e, i);
	e->done++;
}

static void cell_error(struct engine *e, uint32_t i, int why, int code)
{
	cell_done(e, i, PROBE_ERROR, why, code < 0 ? -code : code, NULL);
}

/* A send failed at once: no route is a verdict, a full buffer is tried again later. */
static bool send_failed(struct engine *e, uint32_t i, int errnum)
{
	if (errnum == EAGAIN || errnum == ENOBUFS)
		return false;
	if (errnum == ENETUNREACH || errnum == EHOSTUNREACH || errnum == EACCES ||
	    errnum == EPERM || errnum == EADDRNOTAVAIL)
		cell_done(e, i, PROBE_BLOCKED, PW_NO_ROUTE, errnum, NULL);
	else
		cell_error(e, i, PW_SEND, errnum);
	return true;
}

static void cell_sent(struct engine *e, uint32_t i)
{
	uint64_t now = time_mono_ns();

	if (!e->ec[i].first_ns)
		e->ec[i].first_ns = now;
	e->ec[i].tries++;
	e->ec[i].deadline = now + e->wait_ns;
	ring_push(&e->flight, i);
}

/* ---- epoll ---- */

static struct esock *esock_add(struct engine *e, int fd, uint8_t kind, uint32_t node, int family,
			       uint32_t events)
{
	struct esock *s = xcalloc(1, sizeof(*s));
	struct epoll_event ev = { .events = events, .data.ptr = s };

	*s = (struct esock){ .fd = fd, .kind = kind, .family = (uint8_t)family, .node = node };
	if (epoll_ctl(e->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		blog_debug("probe: epoll: %m");
	return s;
}

static void esock_free(struct esock *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}

/* ---- setting up the namespaces ---- */

static int fam_i(int family) { return family == 4 ? 0 : 1; }

/* What node k's namespace must hold: from the cells it is the source or the target of. */
static void req_fill(struct engine *e, uint32_t k, struct sock_req *q)
{
	for (size_t i = 0; i < e->n; i++) {
		const struct probe_cell *c = &e->cells[i];

		if (c->src == k && c->proto == PROBE_ICMP)
			q->icmp[fam_i(c->family)] = true;
		if (c->src == k && c->proto == PROBE_UDP)
			q->udp[fam_i(c->family)] = true;
		if (c->src == k && c->proto == PROBE_DNS)
			q->dns = true;
		if (c->dst != k || c->proto != PROBE_UDP)
			continue;
		if (c->real_listener) {
			q->observe = true;
			continue;
		}
		bool dup = false;

		for (size_t j = 0; j < q->n_listen && !dup; j++)
			dup = q->listen[j].port == c->tport && ip_equal(&q->listen[j].addr, &c->taddr);
		if (dup)
			continue;
		q->listen = xrealloc(q->listen, (q->n_listen + 1) * sizeof(*q->listen));
		q->listen[q->n_listen++] = (struct esock){ .fd = -1, .kind = SK_LISTEN,
							   .family = c->family, .node = k,
							   .addr = c->taddr, .port = c->tport };
	}
}

static struct esock *fd_take(struct engine *e, int fd, uint8_t kind, uint32_t k, int family)
{
	return fd >= 0 ? esock_add(e, fd, kind, k, family, EPOLLIN) : NULL;
}

/* Listeners that could not be bound: a port taken meanwhile is the target's own (the
 * observer sees it), anything else fails the cells. */
static void listeners_take(struct engine *e, uint32_t k, struct sock_req *q)
{
	struct enode *nd = &e->nodes[k];

	nd->listen = xcalloc(q->n_listen + 1, sizeof(*nd->listen));
	for (size_t j = 0; j < q->n_listen; j++) {
		struct esock *l = &q->listen[j];

		for (size_t i = 0; l->fd < 0 && i < e->n; i++) {
			struct probe_cell *c = &e->cells[i];

			if (c->dst != k || c->proto != PROBE_UDP || c->real_listener ||
			    c->tport != l->port || !ip_equal(&c->taddr, &l->addr))
				continue;
			if (l->fd == -EADDRINUSE)
				c->real_listener = true;
			else
				cell_error(e, (uint32_t)i, PW_LISTEN, l->fd);
		}
		if (l->fd < 0)
			continue;
		nd->listen[nd->n_listen] = *l;
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &nd->listen[nd->n_listen] };

		if (epoll_ctl(e->ep, EPOLL_CTL_ADD, l->fd, &ev) < 0)
			blog_debug("probe: epoll: %m");
		nd->n_listen++;
	}
}

static bool req_empty(const struct sock_req *q)
{
	return !q->icmp[0] && !q->icmp[1] && !q->udp[0] && !q->udp[1] && !q->dns &&
	       !q->observe && !q->n_listen;
}

static void node_setup(struct engine *e, uint32_t k)
{
	const struct probe_node *n = &e->w->nodes[k];
	struct enode *nd = &e->nodes[k];
	struct sock_req q = { 0 };
	struct berr e2 = BERR_INIT;

	nd->nsfd = -1;
	req_fill(e, k, &q);
	if (n->netns) {
		nd->nsfd = open(n->netns, O_RDONLY | O_CLOEXEC);
		if (nd->nsfd < 0)
			nd->err = -errno;
	}
	if (!nd->err && req_empty(&q))
		return;
	if (!nd->err && probe_socks_make(nd->nsfd, &q, &e2) < 0)
		nd->err = e2.code ? e2.code : -EIO;
	if (nd->err) {
		blog_debug("probe: sockets of %s: %s", n->name, strerror(-nd->err));
		free(q.listen);
		return;
	}
	for (int f = 0; f < 2; f++) {
		nd->icmp[f] = fd_take(e, q.icmp_fd[f], SK_ICMP, k, f ? 6 : 4);
		nd->udp[f] = fd_take(e, q.udp_fd[f], SK_UDP, k, f ? 6 : 4);
		nd->icmp_err[f] = q.icmp_fd[f] < 0 ? q.icmp_fd[f] : 0;
		nd->udp_err[f] = q.udp_fd[f] < 0 ? q.udp_fd[f] : 0;
	}
	nd->dns = fd_take(e, q.dns_fd, SK_DNS, k, 4);
	nd->dns_err = q.dns_fd < 0 ? q.dns_fd : 0;
	nd->observe = fd_take(e, q.observe_fd, SK_OBSERVE, k, 0);
	listeners_take(e, k, &q);
	free(q.listen);
}

/* The DNS ids of node k's queries: a random base, one id per cell. */
static void dns_ids(struct engine *e)
{
	for (size_t i = 0; i < e->n; i++) {
		struct enode *nd = &e->nodes[e->cells[i].src];

		if (e->cells[i].proto != PROBE_DNS)
			continue;
		nd->dns_cells = xrealloc(nd->dns_cells, (nd->n_dns + 1) * sizeof(uint32_t));
		nd->dns_cells[nd->n_dns++] = (uint32_t)i;
	}
}

/* ---- descriptors ---- */

static size_t fds_open(void)
{
	DIR *d = opendir("/proc/self/fd");
	size_t n = 0;

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

/* TCP connections at once: what the soft limit leaves after what is open and a reserve. */
static size_t tcp_window(void)
{
	struct rlimit rl;
	size_t open = fds_open(), lim;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		rl.rlim_cur = 1024;
	lim = (size_t)rl.rlim_cur;
	if (lim < open + FD_RESERVE + 16)
		return 16;
	lim -= open + FD_RESERVE;
	return lim < TCP_WINDOW_MAX ? lim : TCP_WINDOW_MAX;
}

/* ---- sending ---- */

static struct probe_payload payload(const struct engine *e, uint32_t magic, uint32_t i)
{
	return (struct probe_payload){ .magic = magic, .token = e->token, .cell = i };
}

static int sendto_cell(int fd, const void *buf, size_t len, const struct ipaddr *a,
		       uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t sl;

	inet_sockaddr(a, port, &ss, &sl);
	return sendto(fd, buf, len, MSG_DONTWAIT, (struct sockaddr *)&ss, sl) < 0 ? -errno : 0;
}

static int send_icmp(struct engine *e, uint32_t i, struct enode *nd)
{
	const struct probe_cell *c = &e->cells[i];
	struct probe_payload p = payload(e, PROBE_MAGIC_ICMP, i);
	uint8_t buf[64];
	size_t len = probe_echo_build(c->family, e->icmp_id, (uint16_t)i, &p, buf, sizeof(buf));

	return sendto_cell(nd->icmp[fam_i(c->family)]->fd, buf, len, &c->addr, 0);
}

static int send_udp(struct engine *e, uint32_t i, struct enode *nd)
{
	const struct probe_cell *c = &e->cells[i];
	struct probe_payload p = payload(e, PROBE_MAGIC_UDP, i);

	return sendto_cell(nd->udp[fam_i(c->family)]->fd, &p, sizeof(p), &c->addr, c->port);
}

/* Not recursive (RD off): the embedded DNS answers from its records and forwards nothing. */
static int dns_query(struct engine *e, uint32_t i, uint16_t id, uint8_t *buf, size_t cap)
{
	const struct probe_cell *c = &e->cells[i];
	int len = dns_query_build(buf, cap, id, e->w->nodes[c->dst].name,
				  c->family == 4 ? DNS_T_A : DNS_T_AAAA, 0);

	if (len >= DNS_HDR_LEN)
		buf[2] &= (uint8_t)~(DNS_F_RD >> 8);
	return len;
}

static int send_dns(struct engine *e, uint32_t i, struct enode *nd)
{
	uint8_t buf[DNS_UDP_LEGACY];
	int len;

	for (size_t k = 0; k < nd->n_dns; k++) {
		if (nd->dns_cells[k] != i)
			continue;
		len = dns_query(e, i, (uint16_t)(nd->dns_base + k), buf, sizeof(buf));
		if (len < 0)
			return len;
		return send(nd->dns->fd, buf, (size_t)len, MSG_DONTWAIT) < 0 ? -errno : 0;
	}
	return -EINVAL;
}

static struct esock *src_sock(struct enode *nd, const struct probe_cell *c, int *ret_err)
{
	int f = fam_i(c->family);

	switch (c->proto) {
	case PROBE_ICMP:
		*ret_err = nd->err ? nd->err : nd->icmp_err[f];
		return nd->icmp[f];
	case PROBE_UDP:
		*ret_err = nd->err ? nd->err : nd->udp_err[f];
		return nd->udp[f];
	default:
		*ret_err = nd->err ? nd->err : nd->dns_err;
		return nd->dns;
	}
}

/* The flow of a cell (explain): what a trace rule should match. */
static int flow_tell(struct engine *e, uint32_t i, int fd)
{
	const struct probe_cell *c = &e->cells[i];
	struct probe_flow f = { .daddr = c->addr, .dport = c->port, .icmp_id = e->icmp_id };
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct ipaddr self;

	if (!e->ctl || !e->ctl->flow_ready || e->flow_told)
		return 0;
	e->flow_told = true;
	e->abort = true;   /* until the flow is told */
	f.ipproto = c->proto == PROBE_TCP ? IPPROTO_TCP : c->proto == PROBE_UDP ? IPPROTO_UDP :
		    c->family == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	if (c->proto != PROBE_ICMP &&
	    (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0 ||
	     inet_from_sockaddr((struct sockaddr *)&ss, &self, &f.sport) < 0))
		return berr_errno(e->err, -errno, "reading the probe socket's port");
	if (e->ctl->flow_ready(e->ctl->ud, &f, e->err) < 0)
		return e->err->code ? e->err->code : -EIO;
	e->abort = false;
	return 0;
}

static int send_one(struct engine *e, uint32_t i, struct enode *nd)
{
	switch (e->cells[i].proto) {
	case PROBE_ICMP:
		return send_icmp(e, i, nd);
	case PROBE_UDP:
		return send_udp(e, i, nd);
	default:
		return send_dns(e, i, nd);
	}
}

/* One datagram cell; false when it must wait (the socket buffer is full). */
static bool send_datagram(struct engine *e, uint32_t i)
{
	const struct probe_cell *c = &e->cells[i];
	struct enode *nd = &e->nodes[c->src];
	int r, serr = 0;
	struct esock *s = src_sock(nd, c, &serr);

	if (!cell_open(e, i))
		return true;
	if (!s) {
		cell_error(e, i, PW_SOCKET, serr ? serr : -EPROTONOSUPPORT);
		return true;
	}
	if (flow_tell(e, i, s->fd) < 0) {
		cell_error(e, i, PW_SEND, e->err->code);
		return true;
	}
	r = send_one(e, i, nd);
	/* a UDP socket reports an ICMP error about an earlier datagram on the next send (the error
	 * queue has it too): that send did not happen */
	if (r == -ECONNREFUSED || ((r == -EHOSTUNREACH || r == -ENETUNREACH) &&
				   c->proto != PROBE_ICMP))
		r = send_one(e, i, nd);
	if (r < 0)
		return send_failed(e, i, -r);
	cell_sent(e, i);
	return true;
}

static void send_datagrams(struct engine *e)
{
	for (int k = 0; k < BURST && e->dq.len; k++) {
		if (!send_datagram(e, ring_peek(&e->dq)))
			return;
		ring_pop(&e->dq);
	}
}

static void tcp_connect(struct engine *e, uint32_t i, int fd)
{
	const struct probe_cell *c = &e->cells[i];
	struct epoll_event ev = { .events = EPOLLOUT };
	struct sockaddr_storage ss;
	socklen_t sl;
	struct esock *s;

	if (flow_tell(e, i, fd) < 0) {
		close(fd);
		cell_error(e, i, PW_SEND, e->err->code);
		return;
	}
	inet_sockaddr(&c->addr, c->port, &ss, &sl);
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) {
		int errnum = errno;

		close(fd);
		if (errnum == ECONNREFUSED)
			cell_done(e, i, PROBE_REACH, PW_REFUSED, 0, NULL);
		else if (!send_failed(e, i, errnum))
			ring_push(&e->tq, i);
		return;
	}
	s = xcalloc(1, sizeof(*s));
	*s = (struct esock){ .fd = fd, .kind = SK_TCP, .family = c->family, .node = c->src,
			     .cell = i };
	ev.data.ptr = s;
	epoll_ctl(e->ep, EPOLL_CTL_ADD, fd, &ev);
	e->ec[i].tcp = s;
	e->tcp_inflight++;
	cell_sent(e, i);
}

/* The next TCP cells of one source and family, their sockets made by one job. */
static void send_tcp_group(struct engine *e)
{
	uint32_t first = ring_peek(&e->tq), group[TCP_GROUP];
	const struct probe_cell *c0 = &e->cells[first];
	struct enode *nd = &e->nodes[c0->src];
	size_t k = 0, room = e->tcp_window - e->tcp_inflight;
	int fds[TCP_GROUP];
	struct berr e2 = BERR_INIT;

	while (e->tq.len && k < TCP_GROUP && k < room) {
		const struct probe_cell *c = &e->cells[ring_peek(&e->tq)];

		if (c->src != c0->src || c->family != c0->family)
			break;
		group[k++] = ring_pop(&e->tq);
	}
	if (nd->err || probe_tcp_make(nd->nsfd, c0->family, k, e->ctl && e->ctl->flow_ready,
				      fds, &e2) < 0) {
		for (size_t j = 0; j < k; j++)
			cell_error(e, group[j], PW_SOCKET, nd->err ? nd->err : e2.code);
		return;
	}
	for (size_t j = 0; j < k; j++) {
		if (!cell_open(e, group[j]) || fds[j] < 0) {
			if (fds[j] >= 0)
				close(fds[j]);
			else
				cell_error(e, group[j], PW_SOCKET, fds[j]);
			continue;
		}
		tcp_connect(e, group[j], fds[j]);
	}
}

static void send_tcp(struct engine *e)
{
	for (int rounds = 0; rounds < 4 && e->tq.len && e->tcp_inflight < e->tcp_window;
	     rounds++)
		send_tcp_group(e);
}

/* ---- answers ---- */

static bool cell_is(const struct engine *e, uint32_t i, uint32_t src, int proto, int family)
{
	return cell_open(e, i) && e->cells[i].src == src && e->cells[i].proto == proto &&
	       e->cells[i].family == family;
}

static void icmp_answer(struct engine *e, struct esock *s, const struct icmp_answer *a)
{
	uint32_t i = a->has_payload ? a->p.cell : a->seq;

	if (a->id != e->icmp_id || (a->has_payload && (a->p.magic != PROBE_MAGIC_ICMP ||
						       a->p.token != e->token)) ||
	    (!a->has_payload && e->n > 65536) || !cell_is(e, i, s->node, PROBE_ICMP, s->family))
		return;
	if (!a->reply)
		cell_done(e, i, PROBE_BLOCKED, PW_UNREACHABLE, a->type << 8 | a->code, &a->from);
	else if (ip_equal(&a->from, &e->cells[i].addr))
		cell_done(e, i, PROBE_REACH, PW_ECHO_REPLY, 0, NULL);
}

static void on_icmp(struct engine *e, struct esock *s)
{
	uint8_t buf[2048];
	struct sockaddr_storage ss;
	struct icmp_answer a;
	struct ipaddr from;

	for (;;) {
		socklen_t sl = sizeof(ss);
		ssize_t n = recvfrom(s->fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&ss,
				     &sl);

		if (n < 0)
			return;
		if (inet_from_sockaddr((struct sockaddr *)&ss, &from, NULL) < 0)
			continue;
		if (probe_icmp_parse(s->family, buf, (size_t)n, &from, &a) == 0)
			icmp_answer(e, s, &a);
	}
}

/* A datagram from a target's own listener (not an echo of ours): the cell of that address and
 * port. */
static void udp_app_answer(struct engine *e, struct esock *s, const struct ipaddr *from,
			   uint16_t port)
{
	for (size_t i = 0; i < e->n; i++)
		if (cell_is(e, (uint32_t)i, s->node, PROBE_UDP, s->family) &&
		    e->cells[i].port == port && ip_equal(&e->cells[i].addr, from)) {
			cell_done(e, (uint32_t)i, PROBE_REACH, PW_ANSWERED, 0, NULL);
			return;
		}
}

static void udp_errqueue(struct engine *e, struct esock *s)
{
	uint8_t ctl[512];
	struct probe_payload p;
	struct ipaddr from = { 0 };

	for (;;) {
		struct iovec iov = { .iov_base = &p, .iov_len = sizeof(p) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
				     .msg_controllen = sizeof(ctl) };
		const struct sock_extended_err *ee = NULL;
		ssize_t n = recvmsg(s->fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT);

		if (n < 0)
			return;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
			if ((cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_RECVERR) ||
			    (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_RECVERR))
				ee = (const struct sock_extended_err *)CMSG_DATA(cm);
		if (!ee || n < (ssize_t)sizeof(p) || p.magic != PROBE_MAGIC_UDP ||
		    p.token != e->token || !cell_is(e, p.cell, s->node, PROBE_UDP, s->family))
			continue;
		inet_from_sockaddr(SO_EE_OFFENDER(ee), &from, NULL);
		if (ee->ee_errno == ECONNREFUSED && ip_equal(&from, &e->cells[p.cell].addr))
			cell_done(e, p.cell, PROBE_REACH, PW_REFUSED, 0, NULL);
		else if (ee->ee_origin == SO_EE_ORIGIN_ICMP || ee->ee_origin == SO_EE_ORIGIN_ICMP6)
			cell_done(e, p.cell, PROBE_BLOCKED, PW_UNREACHABLE,
				  ee->ee_type << 8 | ee->ee_code, &from);
	}
}

static void on_udp(struct engine *e, struct esock *s, uint32_t events)
{
	struct sockaddr_storage ss;
	struct probe_payload p;
	struct ipaddr from;
	uint16_t port;

	if (events & EPOLLERR)
		udp_errqueue(e, s);
	for (;;) {
		socklen_t sl = sizeof(ss);
		ssize_t n = recvfrom(s->fd, &p, sizeof(p), MSG_DONTWAIT | MSG_TRUNC,
				     (struct sockaddr *)&ss, &sl);

		if (n < 0 && errno != EAGAIN && errno != EINTR)
			continue;   /* an error report: taken from the error queue */
		if (n < 0 || inet_from_sockaddr((struct sockaddr *)&ss, &from, &port) < 0)
			return;
		if (n == (ssize_t)sizeof(p) && p.magic == PROBE_MAGIC_UDP && p.token == e->token) {
			if (cell_is(e, p.cell, s->node, PROBE_UDP, s->family) &&
			    ip_equal(&from, &e->cells[p.cell].addr))
				cell_done(e, p.cell, PROBE_REACH, PW_ECHOED, 0, NULL);
			continue;
		}
		udp_app_answer(e, s, &from, port);
	}
}

/* A probe datagram at a target's listener: sent back to whoever sent it. */
static void on_listen(struct engine *e, struct esock *s)
{
	struct sockaddr_storage ss;
	struct probe_payload p;

	for (;;) {
		socklen_t sl = sizeof(ss);
		ssize_t n = recvfrom(s->fd, &p, sizeof(p), MSG_DONTWAIT, (struct sockaddr *)&ss, &sl);

		if (n < 0)
			return;
		if (n != (ssize_t)sizeof(p) || p.magic != PROBE_MAGIC_UDP || p.token != e->token ||
		    !cell_open(e, p.cell) || e->cells[p.cell].dst != s->node)
			continue;
		sendto(s->fd, &p, sizeof(p), MSG_DONTWAIT, (struct sockaddr *)&ss, sl);
	}
}

static void on_observe(struct engine *e, struct esock *s)
{
	uint8_t buf[256];
	struct sockaddr_ll sll;
	struct probe_payload p;
	struct ipaddr dst;
	uint16_t port;

	for (;;) {
		socklen_t sl = sizeof(sll);
		ssize_t n = recvfrom(s->fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&sll,
				     &sl);
		const struct probe_cell *c;

		if (n < 0)
			return;
		if (sll.sll_pkttype == PACKET_OUTGOING ||
		    probe_observed_parse(buf, (size_t)n, &dst, &port, &p) < 0 ||
		    p.token != e->token || !cell_open(e, p.cell))
			continue;
		c = &e->cells[p.cell];
		if (c->dst == s->node && c->real_listener && c->tport == port &&
		    ip_equal(&c->taddr, &dst))
			cell_done(e, p.cell, PROBE_REACH, PW_ARRIVED, 0, NULL);
	}
}

static void on_dns(struct engine *e, struct esock *s)
{
	struct enode *nd = &e->nodes[s->node];
	uint8_t buf[DNS_MSG_MAX], q[DNS_UDP_LEGACY];
	struct dns_result res;

	for (;;) {
		ssize_t n = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT);
		uint16_t k;
		uint32_t i;
		int qlen;
		bool hit = false;

		if (n < 0 && errno == ECONNREFUSED) {   /* nothing listens on 127.0.0.11 */
			for (size_t j = 0; j < nd->n_dns; j++)
				cell_error(e, nd->dns_cells[j], PW_NO_DNS, 0);
			continue;
		}
		if (n < 0)
			return;
		if (n < DNS_HDR_LEN)
			continue;
		k = (uint16_t)(dns_get16(buf) - nd->dns_base);
		if (k >= nd->n_dns || !cell_open(e, (i = nd->dns_cells[k])))
			continue;
		qlen = dns_query(e, i, dns_get16(buf), q, sizeof(q));
		if (qlen < 0 || !dns_reply_matches(q, (size_t)qlen, buf, (size_t)n) ||
		    dns_reply_parse(buf, (size_t)n, &res) < 0)
			continue;
		for (size_t j = 0; j < res.n && !hit; j++)
			hit = ip_equal(&res.rrs[j].ip, &e->cells[i].addr);
		if (hit)
			cell_done(e, i, PROBE_REACH, PW_RESOLVED, 0, NULL);
		else if (res.rcode != DNS_R_NOERROR)
			cell_done(e, i, PROBE_BLOCKED, PW_NOT_RESOLVED, res.rcode, NULL);
		else
			cell_done(e, i, PROBE_BLOCKED, res.n ? PW_OTHER_ADDRESS : PW_NOT_RESOLVED,
				  0, NULL);
	}
}

static void on_tcp(struct engine *e, struct esock *s)
{
	uint32_t i = s->cell;
	int errnum = 0;
	socklen_t len = sizeof(errnum);

	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &errnum, &len) < 0)
		errnum = errno;
	if (errnum == 0)
		cell_done(e, i, PROBE_REACH, PW_CONNECTED, 0, NULL);
	else if (errnum == ECONNREFUSED)
		cell_done(e, i, PROBE_REACH, PW_REFUSED, 0, NULL);
	else if (errnum != EINPROGRESS && errnum != EAGAIN)
		cell_done(e, i, PROBE_BLOCKED, PW_FAILED, errnum, NULL);
}

static void on_event(struct engine *e, struct esock *s, uint32_t events)
{
	switch (s->kind) {
	case SK_ICMP:
		on_icmp(e, s);
		break;
	case SK_UDP:
		on_udp(e, s, events);
		break;
	case SK_DNS:
		on_dns(e, s);
		break;
	case SK_LISTEN:
		on_listen(e, s);
		break;
	case SK_OBSERVE:
		on_observe(e, s);
		break;
	default:
		on_tcp(e, s);
	}
}

/* ---- timing ---- */

/* Tries whose wait is over: sent once more, or blocked. */
static void expire(struct engine *e, uint64_t now)
{
	while (e->flight.len && e->ec[ring_peek(&e->flight)].deadline <= now) {
		uint32_t i = ring_pop(&e->flight);

		if (!cell_open(e, i))
			continue;
		if (e->ec[i].deadline > now)   /* a later try of the same cell */
			continue;
		if (e->ec[i].tries >= TRIES || (e->ctl && e->ctl->single_try)) {
			cell_done(e, i, PROBE_BLOCKED, PW_TIMEOUT, 0, NULL);
			continue;
		}
		if (e->cells[i].proto == PROBE_TCP) {
			tcp_close(e, i);
			ring_push(&e->tq, i);
		} else {
			ring_push(&e->dq, i);
		}
	}
}

static int wait_ms(const struct engine *e, uint64_t now)
{
	uint64_t until = e->deadline;

	if (e->dq.len || (e->tq.len && e->tcp_inflight < e->tcp_window))
		return 0;
	if (e->flight.len && e->ec[ring_peek(&e->flight)].deadline < until)
		until = e->ec[ring_peek(&e->flight)].deadline;
	if (e->ctl && e->ctl->progress && e->next_progress < until)
		until = e->next_progress;
	return until <= now ? 0 : (int)((until - now) / 1000000 + 1);
}

static void progress(struct engine *e, uint64_t now)
{
	if (!e->ctl || !e->ctl->progress || now < e->next_progress)
		return;
	e->next_progress = now + PROGRESS_NS;
	e->ctl->progress(e->ctl->ud, e->done, e->n);
}

static bool cancelled(const struct engine *e)
{
	return e->ctl && e->ctl->cancel && atomic_load(e->ctl->cancel);
}

/* The time limit ended: a cell that waited a full try is blocked, others cannot be told. */
static void finish_all(struct engine *e, uint64_t now, bool cancel)
{
	for (uint32_t i = 0; i < e->n; i++) {
		const struct ecell *c = &e->ec[i];
		bool waited = c->tries > 1 || (c->tries == 1 && c->deadline <= now);

		if (!cell_open(e, i))
			continue;
		if (cancel)
			cell_error(e, i, PW_CANCELLED, 0);
		else if (waited)
			cell_done(e, i, PROBE_BLOCKED, PW_TIMEOUT, 0, NULL);
		else
			cell_error(e, i, PW_TIME_LIMIT, 0);
	}
}

static void loop(struct engine *e)
{
	struct epoll_event evs[EVENTS];

	while (e->done < e->n && !cancelled(e) && !e->abort) {
		uint64_t now = time_mono_ns();
		int n;

		if (now >= e->deadline)
			break;
		n = epoll_wait(e->ep, evs, EVENTS, wait_ms(e, now));
		for (int k = 0; k < n; k++)
			on_event(e, evs[k].data.ptr, evs[k].events);
		if (n == EVENTS)
			continue;   /* more are ready: read them before anything expires */
		now = time_mono_ns();
		expire(e, now);
		send_datagrams(e);
		send_tcp(e);
		progress(e, now);
	}
	finish_all(e, time_mono_ns(), cancelled(e));
}

/* ---- the run ---- */

static void engine_free(struct engine *e)
{
	for (size_t i = 0; i < e->n; i++)
		if (e->ec && e->ec[i].tcp)
			tcp_close(e, (uint32_t)i);
	for (size_t k = 0; e->nodes && k < e->w->n_nodes; k++) {
		struct enode *nd = &e->nodes[k];

		for (int f = 0; f < 2; f++) {
			esock_free(nd->icmp[f]);
			esock_free(nd->udp[f]);
		}
		esock_free(nd->dns);
		esock_free(nd->observe);
		for (size_t j = 0; j < nd->n_listen; j++)
			close(nd->listen[j].fd);
		free(nd->listen);
		free(nd->dns_cells);
		if (nd->nsfd >= 0)
			close(nd->nsfd);
	}
	free(e->nodes);
	free(e->ec);
	free(e->dq.v);
	free(e->tq.v);
	free(e->flight.v);
	if (e->ep >= 0)
		close(e->ep);
}

static void queues_fill(struct engine *e)
{
	ring_init(&e->dq, TRIES * e->n);
	ring_init(&e->tq, TRIES * e->n);
	ring_init(&e->flight, TRIES * e->n);
	for (uint32_t i = 0; i < e->n; i++)
		if (cell_open(e, i))
			ring_push(e->cells[i].proto == PROBE_TCP ? &e->tq : &e->dq, i);
}

static void ids_random(struct engine *e)
{
	uint32_t r[2] = { 0 };

	if (getrandom(r, sizeof(r), 0) != sizeof(r)) {
		r[0] = (uint32_t)time_mono_ns();
		r[1] = (uint32_t)getpid() * 2654435761u;
	}
	e->token = r[0];
	e->icmp_id = (uint16_t)r[1];
	for (size_t k = 0; k < e->w->n_nodes; k++)
		e->nodes[k].dns_base = (uint16_t)(r[1] >> 16) + (uint16_t)(k * 4099);
}

int probe_run(const struct probe_world *w, struct probe_cell *cells, size_t n,
	      const struct probe_opts *o, const struct probe_ctl *ctl, struct berr *err)
{
	struct engine e = { .w = w, .cells = cells, .n = n, .o = o, .ctl = ctl, .err = err };
	uint64_t start = o->start_ns ? o->start_ns : time_mono_ns();

	e.ep = epoll_create1(EPOLL_CLOEXEC);
	if (e.ep < 0)
		return berr_errno(err, -errno, "probe: epoll");
	e.wait_ns = (uint64_t)(o->wait_ms > 0 ? o->wait_ms : PROBE_WAIT_MS) * 1000000;
	if (ctl && ctl->single_try)
		e.wait_ns *= TRIES;
	e.deadline = start + (uint64_t)(o->timeout_ms > 0 ? o->timeout_ms : PROBE_TIMEOUT_MS) *
				     1000000;
	e.ec = xcalloc(n + 1, sizeof(*e.ec));
	e.nodes = xcalloc(w->n_nodes + 1, sizeof(*e.nodes));
	for (size_t i = 0; i < n; i++)
		cells[i].verdict = PROBE_NOT_RUN;
	ids_random(&e);
	dns_ids(&e);
	for (uint32_t k = 0; k < w->n_nodes; k++) {
		e.nodes[k].nsfd = -1;
		if (time_mono_ns() < e.deadline)
			node_setup(&e, k);   /* else its cells end as "time limit" */
	}
	e.tcp_window = tcp_window();
	queues_fill(&e);
	blog_debug("probe: %zu cells, %zu nodes set up in %llu us, TCP window %zu", n,
		   w->n_nodes, (unsigned long long)(time_mono_ns() - start) / 1000, e.tcp_window);
	loop(&e);
	engine_free(&e);
	return err && err->code ? err->code : 0;
}

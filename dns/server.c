/* SPDX-License-Identifier: Apache-2.0 */
/* The DNS server thread: one epoll over every container's listeners (UDP and TCP on
 * 127.0.0.11:53 inside its netns), the TCP connections, one upstream socket per query in flight
 * (in the host namespace) and an eventfd. Everything it touches is guarded by s->lock, which the
 * manager's hooks take after the manager lock (never the reverse). Objects an epoll event may
 * still point at are freed only by this thread, after the batch of events. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/names.h"
#include "common/util.h"
#include "dns/dns.h"
#include "dns/dns_internal.h"
#include "netlink/netlink.h"

#define EVENTS_MAX 64
#define UDP_BURST 64                 /* datagrams per readiness event, for fairness */
#define UDP_BATCH 32                 /* datagrams per recvmmsg / sendmmsg */
#define UDP_QUERY_MAX 4096
#define RRS_MAX 32
/* The longest reply made from the records: header, question (a name of at most 255 bytes on the
 * wire, type, class), RRS_MAX answers (pointer, fixed part, rdata of at most a 255-byte name),
 * OPT. */
#define REPLY_MAX (DNS_HDR_LEN + 255 + 4 + RRS_MAX * (2 + 10 + 255) + 11)
#define UDP_ARENA (64 * 1024)        /* replies of one batch, sent together */
/* UDP queries waiting for an upstream, each holding one socket: with the TCP connections and
 * workers below, berthd's DNS never holds more than 1,024 + 256 + 16 descriptors besides two per
 * listening container, well inside the 20,000 of RLIMIT_NOFILE. */
#define FWD_MAX 1024
#define FWD_PER_CLIENT 64            /* so that one container cannot take every slot */
#define TCP_CONNS_MAX 256
#define TCP_CONNS_PER_CLIENT 32
#define TCP_QUERY_MAX 4096           /* a query needs no more */
#define TCP_OUT_MAX (128 * 1024)     /* unread answers a client may leave queued (2 of 64 KiB) */
#define TCP_IDLE_MS 10000            /* without a complete query */
#define TCP_MSG_MS 3000              /* from the first byte of a query to its last */
#define TCP_WRITE_MS 3000            /* answers queued with none of them taken by the client */
#define TCP_SWEEP_MS 250
#define WORKERS_MAX 16
#define WORKERS_PER_CLIENT 4
#define RESOLV_CHECK_MS 100
#define FORBID_MAX 256

enum handle_kind { H_UDP, H_TCP, H_CONN, H_UPSTREAM, H_WAKE };

struct handle {
	enum handle_kind kind;
	int fd;
};

struct client {
	struct handle udp, tcp;
	struct client *next;
	struct client *hnext;      /* chain of its by_id bucket (while in clients) */
	char id[ID_LEN + 1];
	char **nets;
	size_t n_nets;
	char **search;             /* lower case */
	size_t n_search;
	bool forward;
	struct ipaddr up[DNS_MAX_UPSTREAMS];
	size_t n_up;
	unsigned conns;
	unsigned fwds, jobs;       /* UDP forwards in flight, TCP forwards in workers */
	unsigned refs;             /* connections + forwards + jobs */
	bool dead;
};

struct conn {
	struct handle h;
	struct conn *next;
	struct client *cl;
	uint64_t id;
	uint8_t in[2 + TCP_QUERY_MAX];
	size_t in_len;
	uint8_t *out;              /* answers not yet sent: [out_off, out_len) of out_cap bytes */
	size_t out_cap, out_len, out_off;
	uint64_t deadline;
	uint64_t write_deadline;   /* with answers queued: when the client must have taken some */
	bool busy;                 /* a worker forwards its query */
	bool dead;
};

struct fwd {
	struct handle h;           /* its socket, connect()ed to up[cur] */
	struct fwd *prev, *next;   /* by deadline; next also links the graveyard */
	struct client *cl;
	uint16_t client_id;
	struct sockaddr_storage peer;
	socklen_t peer_len;
	uint8_t *q;
	size_t qlen;
	struct ipaddr up[DNS_MAX_UPSTREAMS];
	size_t n_up, cur;
	uint64_t deadline;
};

/* Queries read and replies sent UDP_BATCH at a time: one recvmmsg and one sendmmsg per batch
 * instead of two system calls per query (and one chance, not one per reply, for the client's
 * wake-up to preempt the server). */
struct udp_batch {
	struct mmsghdr in[UDP_BATCH], out[UDP_BATCH];
	struct iovec in_iov[UDP_BATCH], out_iov[UDP_BATCH];
	struct sockaddr_storage peer[UDP_BATCH];
	unsigned n_out;
	size_t arena_len;
	uint8_t q[UDP_BATCH][UDP_QUERY_MAX + 1];
	uint8_t arena[UDP_ARENA];
};

struct job {
	struct job *next;
	struct dns_server *s;
	struct client *cl;
	uint64_t conn_id;
	uint8_t *q;
	size_t qlen;
	struct ipaddr up[DNS_MAX_UPSTREAMS];
	size_t n_up;
	uint8_t *a;
	size_t alen;
};

#define CLIENT_BUCKETS 1024u

struct dns_server {
	pthread_mutex_t lock;
	atomic_uint lock_waiting;    /* threads other than the server's waiting for lock */
	pthread_cond_t lock_cv;      /* the server thread waits there while they go first */
	pthread_cond_t workers_cv;
	pthread_t thread;
	bool started, stopping;
	int epfd;
	struct handle wake;
	struct dns_table *table;
	struct client *clients, *dying;
	struct client *by_id[CLIENT_BUCKETS];   /* clients by container ID */
	struct conn *conns, *conn_grave;
	unsigned n_conns;
	uint64_t conn_seq;
	struct fwd *fhead, *ftail, *fwd_grave;
	unsigned n_fwd;
	struct job *done;
	unsigned workers;
	char *resolv_path;
	struct dns_resolv host;
	struct stat resolv_st;
	uint64_t resolv_checked;
	struct ipaddr forbid[FORBID_MAX];
	size_t n_forbid;
	struct dns_stats st;
	uint64_t next_sweep;
	unsigned delay_udp_ms;       /* tests: BERTH_DELAY_AT=dns-udp:MS, once per UDP event */
	struct udp_batch *udp;
	uint8_t buf[DNS_MSG_MAX + 2], out[DNS_MSG_MAX + 2];
};

static void strv_free(char **v, size_t n);

/* ---- the lock ----
 * The server thread holds s->lock while it serves a batch of events. Every other thread (the
 * manager's hooks, API lookups and counters, TCP workers) takes it through lock_enter, and the
 * server thread steps aside after each event while one is waiting: a mutex is not fair, the
 * server thread took it back at once, and a flood of queries kept a manager hook (which runs
 * under the manager lock) waiting for seconds (test_dns_abuse). */

static void lock_enter(struct dns_server *s)
{
	uint64_t t0 = time_mono_ns(), waited;

	atomic_fetch_add(&s->lock_waiting, 1);
	pthread_mutex_lock(&s->lock);
	atomic_fetch_sub(&s->lock_waiting, 1);
	waited = (time_mono_ns() - t0) / 1000000;
	if (waited >= 10)
		blog_debug("dns: waited %" PRIu64 " ms for the server's lock", waited);
}

static void lock_leave(struct dns_server *s)
{
	pthread_cond_signal(&s->lock_cv);
	pthread_mutex_unlock(&s->lock);
}

/* The server thread, holding the lock: lets the threads waiting for it go first. Each of them
 * signals lock_cv when it leaves, so no wake-up is lost. */
static void lock_yield(struct dns_server *s)
{
	while (atomic_load(&s->lock_waiting))
		pthread_cond_wait(&s->lock_cv, &s->lock);
}

#define container_of(p, type, member) ((type *)((char *)(p) - offsetof(type, member)))

static uint64_t ms_from_now(unsigned ms)
{
	return time_mono_ns() + (uint64_t)ms * 1000000;
}

static int epoll_add(struct dns_server *s, struct handle *h, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = h };

	return epoll_ctl(s->epfd, EPOLL_CTL_ADD, h->fd, &ev) < 0 ? -errno : 0;
}

static int epoll_mod(struct dns_server *s, struct handle *h, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = h };

	return epoll_ctl(s->epfd, EPOLL_CTL_MOD, h->fd, &ev) < 0 ? -errno : 0;
}

static void handle_close(struct dns_server *s, struct handle *h)
{
	if (h->fd < 0)
		return;
	/* close() removes the fd from the epoll set anyway (no other copy of it exists); the
	 * explicit DEL only makes that immediate, so its failure changes nothing. */
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, h->fd, NULL);
	close(h->fd);
	h->fd = -1;
}

/* ---- upstream selection ---- */

static void resolv_refresh(struct dns_server *s)
{
	uint64_t now = time_mono_ns();
	struct stat st;

	if (s->resolv_checked && now - s->resolv_checked < (uint64_t)RESOLV_CHECK_MS * 1000000)
		return;
	s->resolv_checked = now;
	if (stat(s->resolv_path, &st) < 0)
		memset(&st, 0, sizeof(st));
	if (st.st_ino == s->resolv_st.st_ino && st.st_size == s->resolv_st.st_size &&
	    st.st_mtim.tv_sec == s->resolv_st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == s->resolv_st.st_mtim.tv_nsec && st.st_dev == s->resolv_st.st_dev)
		return;
	s->resolv_st = st;
	dns_resolv_load(s->resolv_path, &s->host);
	blog_debug("dns: %s reloaded: %zu upstream(s)", s->resolv_path, s->host.n_servers);
}

static bool upstream_forbidden(struct dns_server *s, const struct ipaddr *a)
{
	struct ipaddr self;

	ip_parse(DNS_LISTEN_ADDR, &self, NULL);
	if (ip_equal(a, &self))
		return true;
	for (size_t i = 0; i < s->n_forbid; i++)
		if (ip_equal(a, &s->forbid[i]))
			return true;
	return false;
}

/* The upstreams of a client (its own, else the host's), minus those that would loop. */
static size_t upstreams_pick(struct dns_server *s, const struct ipaddr *own, size_t n_own,
			     struct ipaddr ret[DNS_MAX_UPSTREAMS])
{
	const struct ipaddr *src = own;
	size_t n = 0;

	if (!n_own) {
		resolv_refresh(s);
		src = s->host.servers;
		n_own = s->host.n_servers;
	}
	for (size_t i = 0; i < n_own && n < DNS_MAX_UPSTREAMS; i++)
		if (!upstream_forbidden(s, &src[i]))
			ret[n++] = src[i];
	return n;
}

/* ---- answering ---- */

/* The name itself, else the name minus one of the client's search domains. */
static int local_lookup(struct dns_server *s, const struct client *cl, const char *name,
			uint16_t type, struct dns_rr *rrs)
{
	const char *const *nets = (const char *const *)cl->nets;
	size_t len = strlen(name);
	int n = dns_table_lookup(s->table, name, type, nets, cl->n_nets, rrs, RRS_MAX);

	for (size_t i = 0; n == -ENOENT && i < cl->n_search; i++) {
		size_t dl = strlen(cl->search[i]);
		char bare[DNS_NAME_MAX + 1];

		if (len <= dl + 1 || name[len - dl - 1] != '.' ||
		    strcmp(name + len - dl, cl->search[i]) != 0)
			continue;
		memcpy(bare, name, len - dl - 1);
		bare[len - dl - 1] = '\0';
		n = dns_table_lookup(s->table, bare, type, nets, cl->n_nets, rrs, RRS_MAX);
	}
	return n;
}

enum action { ACT_DROP, ACT_REPLY, ACT_FORWARD };

/* Answers from the records, or decides to forward (or refuse). *ret_len: the reply in out, whose
 * cap must be at least REPLY_MAX. */
static enum action query_answer(struct dns_server *s, const struct client *cl, const uint8_t *in,
				size_t len, bool tcp, uint8_t *out, size_t cap, size_t *ret_len)
{
	struct dns_rr rrs[RRS_MAX];
	struct dns_query q;
	size_t limit;
	int r, n;

	r = dns_query_parse(in, len, &q);
	if (r == -EINVAL) {
		s->st.dropped++;
		return ACT_DROP;
	}
	if (r < 0) {
		s->st.formerr++;
		r = dns_error_build(out, cap, in, len,
				    r == -EOPNOTSUPP ? DNS_R_NOTIMP : DNS_R_FORMERR);
		*ret_len = (size_t)r;
		return ACT_REPLY;
	}
	limit = tcp ? DNS_MSG_MAX : q.edns_size;
	if (limit > cap)
		limit = cap;    /* no reply from the records is longer than REPLY_MAX <= cap */
	n = -ENOENT;
	if (!q.odd_name && (q.qclass == DNS_C_IN || q.qclass == DNS_C_ANY))
		n = local_lookup(s, cl, q.name, q.qtype, rrs);
	/* A query without recursion desired (RD off, as `berth network probe` asks) is answered
	 * from the records alone: nothing goes upstream. */
	if (n >= 0)
		s->st.answered++;
	else if (!cl->forward || !(q.flags & DNS_F_RD))
		s->st.refused++;
	else
		return ACT_FORWARD;
	r = dns_reply_build(out, limit, in, &q, n >= 0 ? DNS_R_NOERROR : DNS_R_REFUSED, rrs,
			    n > 0 ? (size_t)n : 0);
	if (r < 0)
		return ACT_DROP;
	*ret_len = (size_t)r;
	return ACT_REPLY;
}

/* A SERVFAIL or REFUSED for a stored query (whose ID may have been rewritten). */
static size_t reply_error(struct dns_server *s, const uint8_t *q, size_t qlen, uint16_t id,
			  int rcode)
{
	struct dns_query pq;
	int r;

	if (dns_query_parse(q, qlen, &pq) < 0)
		return 0;
	pq.id = id;
	r = dns_reply_build(s->out, pq.edns_size, q, &pq, rcode, NULL, 0);
	return r < 0 ? 0 : (size_t)r;
}

/* ---- forwarding over UDP, asynchronously ----
 * Each query in flight has a socket of its own, made in this (the host's) namespace and
 * connect()ed to the upstream it asks: the kernel binds it to a random ephemeral port and drops
 * datagrams from any other address or port. Each try carries a fresh random ID; an answer counts
 * only from that upstream's port 53, with that ID and the query's question. */

static void fwd_unlink(struct dns_server *s, struct fwd *f)
{
	if (f->prev)
		f->prev->next = f->next;
	else if (s->fhead == f)
		s->fhead = f->next;
	if (f->next)
		f->next->prev = f->prev;
	else if (s->ftail == f)
		s->ftail = f->prev;
	f->prev = f->next = NULL;
}

static void fwd_append(struct dns_server *s, struct fwd *f)
{
	f->prev = s->ftail;
	f->next = NULL;
	if (s->ftail)
		s->ftail->next = f;
	else
		s->fhead = f;
	s->ftail = f;
}

/* Its socket is closed now; the object, which an event of this batch may still point at, goes
 * to the graveyard. */
static void fwd_free(struct dns_server *s, struct fwd *f)
{
	fwd_unlink(s, f);
	handle_close(s, &f->h);
	s->n_fwd--;
	f->cl->fwds--;
	f->cl->refs--;
	f->next = s->fwd_grave;
	s->fwd_grave = f;
}

static void client_send(struct dns_server *s, struct fwd *f, const uint8_t *msg, size_t len)
{
	if (!f->cl->dead && len)
		sendto(f->cl->udp.fd, msg, len, MSG_DONTWAIT, (struct sockaddr *)&f->peer,
		       f->peer_len);
}

static void fwd_fail(struct dns_server *s, struct fwd *f)
{
	s->st.failed++;
	client_send(s, f, s->out, reply_error(s, f->q, f->qlen, f->client_id, DNS_R_SERVFAIL));
	fwd_free(s, f);
}

/* A new socket and ID for the current upstream, and the query sent there. */
static int fwd_send(struct dns_server *s, struct fwd *f)
{
	uint16_t id;
	int r;

	handle_close(s, &f->h);
	r = dns_id_random(&id);
	if (r < 0)
		return r;
	dns_put16(f->q, id);
	f->h.fd = dns_upstream_connect(&f->up[f->cur], SOCK_DGRAM);
	if (f->h.fd < 0)
		return f->h.fd;
	if (send(f->h.fd, f->q, f->qlen, MSG_DONTWAIT) < 0)
		r = -errno;
	if (r >= 0)
		r = epoll_add(s, &f->h, EPOLLIN);
	if (r < 0)
		handle_close(s, &f->h);
	return r;
}

/* Ask the current upstream, moving on past those that cannot be reached at all. */
static void fwd_try(struct dns_server *s, struct fwd *f)
{
	for (; f->cur < f->n_up; f->cur++) {
		if (fwd_send(s, f) >= 0) {
			f->deadline = ms_from_now(DNS_TRY_MS);
			fwd_unlink(s, f);
			fwd_append(s, f);
			return;
		}
	}
	fwd_fail(s, f);
}

static void fwd_next(struct dns_server *s, struct fwd *f)
{
	f->cur++;
	fwd_try(s, f);
}

/* Over the limits (all of them, or the client's share) or without upstreams: answered at once. */
static bool fwd_refuse(struct dns_server *s, struct client *cl, size_t n_up, const uint8_t *q,
		       size_t qlen, const struct sockaddr_storage *peer, socklen_t peer_len)
{
	int rc = n_up ? DNS_R_SERVFAIL : DNS_R_REFUSED;
	size_t n;

	if (n_up && s->n_fwd < FWD_MAX && cl->fwds < FWD_PER_CLIENT)
		return false;
	if (n_up)
		s->st.failed++;
	else
		s->st.refused++;
	n = reply_error(s, q, qlen, dns_get16(q), rc);
	if (n)
		sendto(cl->udp.fd, s->out, n, MSG_DONTWAIT, (const struct sockaddr *)peer, peer_len);
	return true;
}

static void fwd_start(struct dns_server *s, struct client *cl, const uint8_t *q, size_t qlen,
		      const struct sockaddr_storage *peer, socklen_t peer_len)
{
	struct ipaddr up[DNS_MAX_UPSTREAMS];
	size_t n_up = upstreams_pick(s, cl->up, cl->n_up, up);
	struct fwd *f;

	if (fwd_refuse(s, cl, n_up, q, qlen, peer, peer_len))
		return;
	f = xcalloc(1, sizeof(*f));
	f->h = (struct handle){ H_UPSTREAM, -1 };
	memcpy(f->up, up, sizeof(up));
	f->n_up = n_up;
	f->cl = cl;
	cl->refs++;
	cl->fwds++;
	f->client_id = dns_get16(q);
	f->peer = *peer;
	f->peer_len = peer_len;
	f->q = xmalloc(qlen);
	memcpy(f->q, q, qlen);
	f->qlen = qlen;
	s->n_fwd++;
	fwd_append(s, f);
	s->st.forwarded++;
	fwd_try(s, f);
}

/* The kernel filters on the connected address already; checked again all the same. */
static bool from_upstream(const struct fwd *f, const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
	const struct ipaddr *up = &f->up[f->cur];

	if (ss->ss_family != up->family)
		return false;
	if (up->family == AF_INET)
		return ntohs(s4->sin_port) == 53 && memcmp(&s4->sin_addr, up->b, 4) == 0;
	return ntohs(s6->sin6_port) == 53 && memcmp(&s6->sin6_addr, up->b, 16) == 0;
}

static void upstream_read(struct dns_server *s, struct fwd *f)
{
	for (int i = 0; i < UDP_BURST; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		ssize_t n = recvfrom(f->h.fd, s->buf, sizeof(s->buf), MSG_DONTWAIT,
				     (struct sockaddr *)&ss, &sl);
		int rc;

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n < 0) {                 /* an ICMP error: unreachable, no server there */
			fwd_next(s, f);
			return;
		}
		if (!from_upstream(f, &ss) || !dns_reply_matches(f->q, f->qlen, s->buf, (size_t)n))
			continue;
		rc = dns_get16(s->buf + 2) & 0xf;
		if ((rc == DNS_R_SERVFAIL || rc == DNS_R_REFUSED) && f->cur + 1 < f->n_up) {
			fwd_next(s, f);
			return;
		}
		dns_put16(s->buf, f->client_id);
		client_send(s, f, s->buf, (size_t)n);
		fwd_free(s, f);
		return;
	}
}

static void fwd_expire(struct dns_server *s, uint64_t now)
{
	while (s->fhead && s->fhead->deadline <= now)
		fwd_next(s, s->fhead);
}

/* ---- UDP queries ---- */

/* Sends the replies queued in the batch; one that the kernel refuses is dropped, as a lost
 * datagram would be. */
static void udp_flush(struct client *cl, struct udp_batch *b)
{
	for (unsigned i = 0; i < b->n_out && !cl->dead;) {
		int r = sendmmsg(cl->udp.fd, b->out + i, b->n_out - i, MSG_DONTWAIT);

		i += r > 0 ? (unsigned)r : 1;
	}
	b->n_out = 0;
	b->arena_len = 0;
}

static int udp_recv(struct client *cl, struct udp_batch *b)
{
	for (int i = 0; i < UDP_BATCH; i++) {
		b->in_iov[i] = (struct iovec){ b->q[i], sizeof(b->q[i]) };
		b->in[i].msg_hdr = (struct msghdr){
			.msg_name = &b->peer[i], .msg_namelen = sizeof(b->peer[i]),
			.msg_iov = &b->in_iov[i], .msg_iovlen = 1,
		};
	}
	/* MSG_TRUNC: msg_len is the datagram's real length, so that an oversized one is seen. */
	return recvmmsg(cl->udp.fd, b->in, UDP_BATCH, MSG_DONTWAIT | MSG_TRUNC, NULL);
}

/* Datagram i of the batch: its reply queued, or its query forwarded. */
static void udp_query(struct dns_server *s, struct client *cl, struct udp_batch *b, int i)
{
	const struct msghdr *h = &b->in[i].msg_hdr;
	size_t n = b->in[i].msg_len, out_len = 0;
	uint8_t *out;

	if (n > UDP_QUERY_MAX) {
		s->st.dropped++;
		return;
	}
	if (sizeof(b->arena) - b->arena_len < REPLY_MAX)
		udp_flush(cl, b);
	out = b->arena + b->arena_len;
	switch (query_answer(s, cl, b->q[i], n, false, out, sizeof(b->arena) - b->arena_len,
			     &out_len)) {
	case ACT_REPLY:
		b->out_iov[b->n_out] = (struct iovec){ out, out_len };
		b->out[b->n_out].msg_hdr = (struct msghdr){
			.msg_name = h->msg_name, .msg_namelen = h->msg_namelen,
			.msg_iov = &b->out_iov[b->n_out], .msg_iovlen = 1,
		};
		b->n_out++;
		b->arena_len += out_len;
		break;
	case ACT_FORWARD:
		fwd_start(s, cl, b->q[i], n, &b->peer[i], h->msg_namelen);
		break;
	case ACT_DROP:
		break;
	}
}

static void udp_serve(struct dns_server *s, struct client *cl)
{
	struct udp_batch *b = s->udp;

	if (s->delay_udp_ms) {            /* tests: busy, as a flood keeps it */
		uint64_t until = ms_from_now(s->delay_udp_ms);

		while (time_mono_ns() < until)
			;
	}

	for (int seen = 0; seen < UDP_BURST && !cl->dead;) {
		int n = udp_recv(cl, b);

		for (int i = 0; i < n && !cl->dead; i++)
			udp_query(s, cl, b, i);
		udp_flush(cl, b);
		if (n < UDP_BATCH)
			return;
		seen += n;
	}
}

/* ---- TCP ---- */

static void conn_close(struct dns_server *s, struct conn *c)
{
	struct conn **pp;

	if (c->dead)
		return;
	for (pp = &s->conns; *pp && *pp != c; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = c->next;
	handle_close(s, &c->h);
	c->dead = true;
	c->cl->conns--;
	c->cl->refs--;
	s->n_conns--;
	c->next = s->conn_grave;
	s->conn_grave = c;
}

/* A client that leaves its answers unread: reset at once, so that the kernel does not keep
 * them either. */
static void conn_abort(struct dns_server *s, struct conn *c)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	s->st.dropped++;
	if (!c->dead)
		setsockopt(c->h.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	conn_close(s, c);
}

static void conn_out_drop(struct conn *c)
{
	free(c->out);
	c->out = NULL;
	c->out_cap = c->out_len = c->out_off = 0;
	c->write_deadline = 0;
}

/* Sends what the kernel takes. A client that leaves its answers unread for TCP_WRITE_MS is
 * dropped by conns_expire. */
static void conn_flush(struct dns_server *s, struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->h.fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno == EAGAIN) {
			if (!c->write_deadline)
				c->write_deadline = ms_from_now(TCP_WRITE_MS);
			/* Without EPOLLOUT the queued answers would never be sent: drop instead. */
			if (epoll_mod(s, &c->h, EPOLLIN | EPOLLOUT | EPOLLRDHUP) < 0)
				conn_close(s, c);
			return;
		}
		if (n <= 0) {
			conn_close(s, c);
			return;
		}
		c->out_off += (size_t)n;
		c->write_deadline = 0;
	}
	conn_out_drop(c);
	if (epoll_mod(s, &c->h, EPOLLIN | EPOLLRDHUP) < 0)
		conn_close(s, c);
}

/* Room for need more bytes at the end of the queue, which never takes more than TCP_OUT_MAX:
 * what was sent is dropped from its head (when it is no less than what is left, or to make room),
 * then it grows. */
static void conn_out_reserve(struct conn *c, size_t need)
{
	size_t left = c->out_len - c->out_off, cap;

	if (c->out_off && (c->out_off >= left || c->out_len + need > c->out_cap)) {
		memmove(c->out, c->out + c->out_off, left);
		c->out_len = left;
		c->out_off = 0;
	}
	if (c->out_len + need <= c->out_cap)
		return;
	cap = c->out_cap * 2 > c->out_len + need ? c->out_cap * 2 : c->out_len + need;
	c->out_cap = cap < TCP_OUT_MAX ? cap : TCP_OUT_MAX;
	c->out = xrealloc(c->out, c->out_cap);
}

static void conn_send(struct dns_server *s, struct conn *c, const uint8_t *msg, size_t len)
{
	if (c->out_len - c->out_off + len + 2 > TCP_OUT_MAX) {
		conn_abort(s, c);
		return;
	}
	conn_out_reserve(c, len + 2);
	dns_put16(c->out + c->out_len, (uint16_t)len);
	memcpy(c->out + c->out_len + 2, msg, len);
	c->out_len += len + 2;
	conn_flush(s, c);
}

static void *worker_main(void *arg);

/* Forward a TCP query in a worker thread (blocking exchanges, bounded in time). */
static void conn_forward(struct dns_server *s, struct conn *c, const uint8_t *q, size_t qlen)
{
	struct job *j = xcalloc(1, sizeof(*j));
	pthread_attr_t attr;
	pthread_t t;
	size_t n;

	j->n_up = upstreams_pick(s, c->cl->up, c->cl->n_up, j->up);
	if (j->n_up && s->workers < WORKERS_MAX && c->cl->jobs < WORKERS_PER_CLIENT) {
		j->s = s;
		j->cl = c->cl;
		j->conn_id = c->id;
		j->q = xmalloc(qlen);
		memcpy(j->q, q, qlen);
		j->qlen = qlen;
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &attr, worker_main, j) == 0) {
			pthread_attr_destroy(&attr);
			s->workers++;
			j->cl->jobs++;
			j->cl->refs++;
			s->st.forwarded++;
			c->busy = true;
			return;
		}
		pthread_attr_destroy(&attr);
		free(j->q);
	}
	if (j->n_up)
		s->st.failed++;
	else
		s->st.refused++;
	n = reply_error(s, q, qlen, dns_get16(q), j->n_up ? DNS_R_SERVFAIL : DNS_R_REFUSED);
	free(j);
	if (n)
		conn_send(s, c, s->out, n);
}

/* Serves every complete message in the input buffer. */
static void conn_process(struct dns_server *s, struct conn *c)
{
	while (!c->dead && !c->busy && c->in_len >= 2) {
		size_t mlen = dns_get16(c->in), out_len = 0;

		if (mlen > TCP_QUERY_MAX || mlen < DNS_HDR_LEN) {
			s->st.dropped++;
			conn_close(s, c);
			return;
		}
		if (c->in_len < 2 + mlen)
			return;
		switch (query_answer(s, c->cl, c->in + 2, mlen, true, s->out, sizeof(s->out),
				     &out_len)) {
		case ACT_REPLY:
			conn_send(s, c, s->out, out_len);
			break;
		case ACT_FORWARD:
			conn_forward(s, c, c->in + 2, mlen);
			break;
		case ACT_DROP:
			conn_close(s, c);
			return;
		}
		memmove(c->in, c->in + 2 + mlen, c->in_len - 2 - mlen);
		c->in_len -= 2 + mlen;
		c->deadline = ms_from_now(c->in_len ? TCP_MSG_MS : TCP_IDLE_MS);
	}
}

static void conn_read(struct dns_server *s, struct conn *c, uint32_t events)
{
	if (events & EPOLLOUT)
		conn_flush(s, c);
	if (c->dead || !(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
		return;
	if (c->in_len == sizeof(c->in)) {    /* cannot happen with the size check; be safe */
		conn_close(s, c);
		return;
	}
	ssize_t n = recv(c->h.fd, c->in + c->in_len, sizeof(c->in) - c->in_len, MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(s, c);
		return;
	}
	if (c->in_len == 0) {
		uint64_t msg_deadline = ms_from_now(TCP_MSG_MS);

		if (msg_deadline < c->deadline)
			c->deadline = msg_deadline;    /* a message must arrive in time, trickled or not */
	}
	c->in_len += (size_t)n;
	conn_process(s, c);
}

static void tcp_accept(struct dns_server *s, struct client *cl)
{
	for (int i = 0; i < UDP_BURST && !cl->dead; i++) {
		int fd = accept4(cl->tcp.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;

		if (fd < 0)
			return;
		if (s->n_conns >= TCP_CONNS_MAX || cl->conns >= TCP_CONNS_PER_CLIENT) {
			s->st.dropped++;
			close(fd);
			continue;
		}
		c = xcalloc(1, sizeof(*c));
		c->h.kind = H_CONN;
		c->h.fd = fd;
		c->cl = cl;
		c->id = ++s->conn_seq;
		c->deadline = ms_from_now(TCP_IDLE_MS);
		if (epoll_add(s, &c->h, EPOLLIN | EPOLLRDHUP) < 0) {
			close(fd);
			free(c);
			continue;
		}
		cl->conns++;
		cl->refs++;
		s->n_conns++;
		c->next = s->conns;
		s->conns = c;
	}
}

static void conns_expire(struct dns_server *s, uint64_t now)
{
	for (struct conn *c = s->conns, *next; c; c = next) {
		next = c->next;
		if (c->write_deadline && c->write_deadline <= now)
			conn_abort(s, c);
		else if (!c->busy && c->deadline <= now)
			conn_close(s, c);
	}
}

static void *worker_main(void *arg)
{
	struct job *j = arg;
	struct dns_server *s = j->s;
	uint8_t *a = xmalloc(DNS_MSG_MAX);
	int n = dns_forward_sync(j->up, j->n_up, j->q, j->qlen, true, a, DNS_MSG_MAX);
	uint64_t one = 1;

	lock_enter(s);
	if (n >= 0) {
		j->a = a;
		j->alen = (size_t)n;
	} else {
		free(a);
	}
	j->next = s->done;
	s->done = j;
	if (write(s->wake.fd, &one, sizeof(one)) < 0)
		blog_debug("dns: waking the server: %m");
	pthread_cond_broadcast(&s->workers_cv);
	lock_leave(s);
	return NULL;
}

static struct conn *conn_by_id(struct dns_server *s, uint64_t id)
{
	for (struct conn *c = s->conns; c; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

/* Answers of the workers go to their connections (if still open). */
static void jobs_finish(struct dns_server *s)
{
	uint64_t v;

	if (read(s->wake.fd, &v, sizeof(v)) < 0)
		v = 0;
	while (s->done) {
		struct job *j = s->done;
		struct conn *c = conn_by_id(s, j->conn_id);

		s->done = j->next;
		s->workers--;
		j->cl->jobs--;
		j->cl->refs--;
		if (!j->a)
			s->st.failed++;
		if (c) {
			c->busy = false;
			c->deadline = ms_from_now(TCP_IDLE_MS);
			if (j->a)
				conn_send(s, c, j->a, j->alen);
			else
				conn_send(s, c, s->out, reply_error(s, j->q, j->qlen, dns_get16(j->q),
								    DNS_R_SERVFAIL));
			if (!c->dead)
				conn_process(s, c);
		}
		free(j->a);
		free(j->q);
		free(j);
	}
	pthread_cond_broadcast(&s->workers_cv);
}

/* ---- the loop ---- */

static void client_free(struct client *cl)
{
	strv_free(cl->nets, cl->n_nets);
	strv_free(cl->search, cl->n_search);
	free(cl);
}

/* Free what no epoll event can point at any more. */
static void graveyard_sweep(struct dns_server *s)
{
	struct client **pp = &s->dying;

	while (s->conn_grave) {
		struct conn *c = s->conn_grave;

		s->conn_grave = c->next;
		free(c->out);
		free(c);
	}
	while (s->fwd_grave) {
		struct fwd *f = s->fwd_grave;

		s->fwd_grave = f->next;
		free(f->q);
		free(f);
	}
	while (*pp) {
		struct client *cl = *pp;

		if (cl->refs) {
			pp = &cl->next;
			continue;
		}
		*pp = cl->next;
		client_free(cl);
	}
}

static void event_dispatch(struct dns_server *s, struct handle *h, uint32_t events)
{
	switch (h->kind) {
	case H_UDP:
		udp_serve(s, container_of(h, struct client, udp));
		break;
	case H_TCP:
		tcp_accept(s, container_of(h, struct client, tcp));
		break;
	case H_CONN: {
		struct conn *c = container_of(h, struct conn, h);

		if (!c->dead)
			conn_read(s, c, events);
		break;
	}
	case H_UPSTREAM:
		upstream_read(s, container_of(h, struct fwd, h));
		break;
	case H_WAKE:
		jobs_finish(s);
		break;
	}
}

static int loop_timeout(struct dns_server *s, uint64_t now)
{
	uint64_t next = UINT64_MAX;

	if (s->fhead)
		next = s->fhead->deadline;
	if (s->conns && s->next_sweep < next)
		next = s->next_sweep;
	if (next == UINT64_MAX)
		return -1;
	return next <= now ? 0 : (int)((next - now) / 1000000 + 1);
}

static void *server_main(void *arg)
{
	struct dns_server *s = arg;
	struct epoll_event evs[EVENTS_MAX];
	int timeout = -1;

	for (;;) {
		int n = epoll_wait(s->epfd, evs, EVENTS_MAX, timeout);
		uint64_t now;

		pthread_mutex_lock(&s->lock);
		if (s->stopping) {
			pthread_mutex_unlock(&s->lock);
			return NULL;
		}
		lock_yield(s);
		for (int i = 0; i < n; i++) {
			struct handle *h = evs[i].data.ptr;

			if (h->fd >= 0)
				event_dispatch(s, h, evs[i].events);
			lock_yield(s);
		}
		now = time_mono_ns();
		fwd_expire(s, now);
		if (now >= s->next_sweep) {
			conns_expire(s, now);
			s->next_sweep = now + (uint64_t)TCP_SWEEP_MS * 1000000;
		}
		graveyard_sweep(s);
		timeout = loop_timeout(s, time_mono_ns());
		pthread_mutex_unlock(&s->lock);
	}
}

/* ---- life cycle ---- */

static int server_setup(struct dns_server *s, struct berr *err)
{
	int r;

	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0)
		return berr_errno(err, -errno, "creating the DNS server's epoll");
	s->wake.kind = H_WAKE;
	s->wake.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->wake.fd < 0)
		return berr_errno(err, -errno, "creating the DNS server's eventfd");
	r = epoll_add(s, &s->wake, EPOLLIN);
	if (r < 0)
		return berr_errno(err, r, "setting up the DNS server");
	r = pthread_create(&s->thread, NULL, server_main, s);
	if (r)
		return berr_errno(err, -r, "starting the DNS server thread");
	s->started = true;
	return 0;
}

/* Tests: BERTH_DELAY_AT=dns-udp:MS keeps the server thread busy for MS ms (on the CPU, with the
 * lock held) at each UDP event, as a flood of queries would. */
static unsigned delay_udp_ms(void)
{
	const char *spec = getenv("BERTH_DELAY_AT"), *p = spec ? strstr(spec, "dns-udp:") : NULL;

	return p ? (unsigned)strtoul(p + strlen("dns-udp:"), NULL, 10) : 0;
}

int dns_server_new(const char *resolv_path, struct dns_server **ret, struct berr *err)
{
	struct dns_server *s = xcalloc(1, sizeof(*s));
	int r;

	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->workers_cv, NULL);
	pthread_cond_init(&s->lock_cv, NULL);
	s->epfd = s->wake.fd = -1;
	s->table = dns_table_new();
	s->udp = xcalloc(1, sizeof(*s->udp));
	s->delay_udp_ms = delay_udp_ms();
	s->resolv_path = xstrdup(resolv_path);
	r = server_setup(s, err);
	if (r < 0) {
		dns_server_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

static void client_close(struct dns_server *s, struct client *cl)
{
	handle_close(s, &cl->udp);
	handle_close(s, &cl->tcp);
	cl->dead = true;
	for (struct conn *c = s->conns, *next; c; c = next) {
		next = c->next;
		if (c->cl == cl)
			conn_close(s, c);
	}
}

void dns_server_free(struct dns_server *s)
{
	uint64_t one = 1;

	if (!s)
		return;
	lock_enter(s);
	s->stopping = true;
	if (s->wake.fd >= 0 && write(s->wake.fd, &one, sizeof(one)) < 0)
		blog_debug("dns: waking the server: %m");
	lock_leave(s);
	if (s->started)
		pthread_join(s->thread, NULL);
	lock_enter(s);
	jobs_finish(s);        /* those that ended after the thread's last loop: no wake-up to come */
	while (s->workers) {
		pthread_cond_wait(&s->workers_cv, &s->lock);
		jobs_finish(s);
	}
	while (s->fhead)
		fwd_free(s, s->fhead);
	while (s->clients) {
		struct client *cl = s->clients;

		s->clients = cl->next;
		client_close(s, cl);
		cl->next = s->dying;
		s->dying = cl;
	}
	memset(s->by_id, 0, sizeof(s->by_id));
	graveyard_sweep(s);
	lock_leave(s);
	handle_close(s, &s->wake);
	if (s->epfd >= 0)
		close(s->epfd);
	dns_table_free(s->table);
	free(s->udp);
	free(s->resolv_path);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->workers_cv);
	pthread_cond_destroy(&s->lock_cv);
	free(s);
}

/* ---- listeners and clients ---- */

static int listener_bind(int type, struct berr *err)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(53) };
	int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return berr_errno(err, -errno, "creating the DNS listener socket");
	memcpy(&sin.sin_addr, (uint8_t[]){ 127, 0, 0, 11 }, 4);
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 64) < 0)) {
		int r = berr_errno(err, -errno, "binding %s:53/%s in the container's namespace",
				   DNS_LISTEN_ADDR, type == SOCK_STREAM ? "tcp" : "udp");

		close(fd);
		return r;
	}
	return fd;
}

struct listener_pair {
	int udp, tcp;
};

/* Runs inside the container's namespace: the sockets stay bound there. */
static int listener_pair_bind(void *arg, struct berr *err)
{
	struct listener_pair *p = arg;

	p->udp = listener_bind(SOCK_DGRAM, err);
	if (p->udp < 0)
		return p->udp;
	p->tcp = listener_bind(SOCK_STREAM, err);
	if (p->tcp < 0) {
		close(p->udp);
		return p->tcp;
	}
	return 0;
}

int dns_listener_open(int netns_fd, int *ret_udp, int *ret_tcp, struct berr *err)
{
	struct listener_pair p = { -1, -1 };
	int r = netns_run(netns_fd, listener_pair_bind, &p, err);

	if (r < 0)
		return r;
	*ret_udp = p.udp;
	*ret_tcp = p.tcp;
	return 0;
}

/* Through an index: with a container per client, a list walk grows with the containers. */
static struct client **client_bucket(struct dns_server *s, const char *id)
{
	return &s->by_id[hash64(id, strlen(id), 0) % CLIENT_BUCKETS];
}

static struct client *client_find(struct dns_server *s, const char *id)
{
	for (struct client *cl = *client_bucket(s, id); cl; cl = cl->hnext)
		if (strcmp(cl->id, id) == 0)
			return cl;
	return NULL;
}

static void client_unlink(struct dns_server *s, struct client *cl)
{
	struct client **pp;

	for (pp = client_bucket(s, cl->id); *pp && *pp != cl; pp = &(*pp)->hnext)
		;
	if (*pp)
		*pp = cl->hnext;
	for (pp = &s->clients; *pp && *pp != cl; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = cl->next;
	client_close(s, cl);
	cl->next = s->dying;
	s->dying = cl;
}

int dns_server_client_add(struct dns_server *s, const char *id, int udp_fd, int tcp_fd,
			  struct berr *err)
{
	struct client *cl = xcalloc(1, sizeof(*cl)), *old;
	int r;

	strscpy(cl->id, id, sizeof(cl->id));
	cl->udp = (struct handle){ H_UDP, udp_fd };
	cl->tcp = (struct handle){ H_TCP, tcp_fd };
	lock_enter(s);
	old = client_find(s, id);
	if (old)
		client_unlink(s, old);
	r = epoll_add(s, &cl->udp, EPOLLIN);
	if (r >= 0)
		r = epoll_add(s, &cl->tcp, EPOLLIN);
	cl->next = s->clients;
	s->clients = cl;
	cl->hnext = *client_bucket(s, id);
	*client_bucket(s, id) = cl;
	s->st.listeners++;
	if (r < 0) {
		client_unlink(s, cl);
		berr_errno(err, r, "watching the DNS listeners of container %.12s", id);
	}
	lock_leave(s);
	return r;
}

void dns_server_client_del(struct dns_server *s, const char *id)
{
	struct client *cl;

	lock_enter(s);
	cl = client_find(s, id);
	if (cl)
		client_unlink(s, cl);
	lock_leave(s);
}

bool dns_server_client_has(struct dns_server *s, const char *id)
{
	bool has;

	lock_enter(s);
	has = client_find(s, id) != NULL;
	lock_leave(s);
	return has;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static char **strv_copy(const char *const *v, size_t n)
{
	char **out = xcalloc(n + 1, sizeof(char *));

	for (size_t i = 0; i < n; i++)
		out[i] = xstrdup(v[i]);
	return out;
}

void dns_server_client_set(struct dns_server *s, const char *id, const struct dns_client_view *v)
{
	struct client *cl;

	lock_enter(s);
	cl = client_find(s, id);
	if (cl) {
		strv_free(cl->nets, cl->n_nets);
		cl->nets = strv_copy(v->nets, v->n_nets);
		cl->n_nets = v->n_nets;
		strv_free(cl->search, cl->n_search);
		cl->search = strv_copy(v->search, v->n_search);
		cl->n_search = v->n_search;
		cl->forward = v->forward;
		cl->n_up = v->n_up < DNS_MAX_UPSTREAMS ? v->n_up : DNS_MAX_UPSTREAMS;
		memcpy(cl->up, v->up, cl->n_up * sizeof(*v->up));
	}
	lock_leave(s);
}

void dns_server_ep_set(struct dns_server *s, const char *ep_id, const char *net_id,
		       const char *const *names, size_t n_names, const struct ipaddr *addrs,
		       size_t n_addrs)
{
	lock_enter(s);
	dns_table_ep_set(s->table, ep_id, net_id, names, n_names, addrs, n_addrs);
	lock_leave(s);
}

void dns_server_ep_del(struct dns_server *s, const char *ep_id)
{
	lock_enter(s);
	dns_table_ep_del(s->table, ep_id);
	lock_leave(s);
}

void dns_server_forbid(struct dns_server *s, const struct ipaddr *addrs, size_t n)
{
	lock_enter(s);
	s->n_forbid = n < FORBID_MAX ? n : FORBID_MAX;
	memcpy(s->forbid, addrs, s->n_forbid * sizeof(*addrs));
	lock_leave(s);
}

void dns_server_stats(struct dns_server *s, struct dns_stats *ret)
{
	size_t listeners = 0;

	lock_enter(s);
	*ret = s->st;
	for (struct client *cl = s->clients; cl; cl = cl->next)
		listeners++;
	ret->listeners = listeners;
	ret->tcp_conns = s->n_conns;
	ret->records = dns_table_count(s->table);
	ret->pending = s->n_fwd + s->workers;
	lock_leave(s);
}

/* ---- lookups from the host ---- */

int dns_server_resolve(struct dns_server *s, const char *name, uint16_t type,
		       const char *const *nets, size_t n_nets, bool forward,
		       struct dns_result *ret, bool *ret_local, struct berr *err)
{
	_cleanup_free_ uint8_t *q = xmalloc(DNS_MSG_MAX), *a = xmalloc(DNS_MSG_MAX);
	struct ipaddr up[DNS_MAX_UPSTREAMS];
	struct dns_rr rrs[RRS_MAX];
	size_t n_up = 0;
	uint16_t id;
	int n, qlen, r;

	memset(ret, 0, sizeof(*ret));
	lock_enter(s);
	n = dns_table_lookup(s->table, name, type, nets, n_nets, rrs, RRS_MAX);
	if (n < 0 && forward)
		n_up = upstreams_pick(s, NULL, 0, up);
	lock_leave(s);
	*ret_local = n >= 0;
	if (n >= 0) {
		ret->n = (size_t)n;
		memcpy(ret->rrs, rrs, (size_t)n * sizeof(rrs[0]));
		return 0;
	}
	ret->rcode = forward ? DNS_R_SERVFAIL : DNS_R_REFUSED;
	if (!forward)
		return 0;
	r = dns_id_random(&id);
	if (r < 0)
		return berr_errno(err, r, "drawing a random query ID");
	qlen = dns_query_build(q, DNS_MSG_MAX, id, name, type, 1232);
	if (qlen < 0)
		return berr_set(err, qlen, "\"%s\" is not a valid DNS name", name);
	if (!n_up) {
		ret->rcode = DNS_R_REFUSED;     /* no upstream, or only loops */
		return 0;
	}
	n = dns_forward_sync(up, n_up, q, (size_t)qlen, false, a, DNS_MSG_MAX);
	if (n < 0)
		return 0;
	if (dns_reply_parse(a, (size_t)n, ret) < 0)
		return berr_set(err, -EBADMSG, "the upstream server sent a malformed reply");
	return 0;
}

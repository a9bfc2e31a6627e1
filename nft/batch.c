/* SPDX-License-Identifier: Apache-2.0 */
/* Batches (a growable buffer of netlink messages with a label per message) and their commit:
 * one send, then one acknowledgement per message. The connection numbers every message it sends
 * (the numbers keep increasing on the socket), so an answer is credited only to the batch or
 * request that owns its sequence number; late answers to an earlier one are dropped. */
#include <poll.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "common/util.h"
#include "nft/nft.h"
#include "nft/nft_internal.h"

#define MSG_ROOM 16384   /* free space guaranteed before building one message */

void nft_names_default(struct nft_names *ret)
{
	const char *t = getenv("BERTH_NFT_TABLE"), *bt = getenv("BERTH_NFT_BRIDGE_TABLE");

	strscpy(ret->inet, t && *t ? t : "berth", sizeof(ret->inet));
	strscpy(ret->bridge, bt && *bt ? bt : "berth", sizeof(ret->bridge));
}

struct nft_batch *nft_batch_new(const struct nft_names *names)
{
	struct nft_batch *b = xcalloc(1, sizeof(*b));

	b->names = *names;
	b->cap = 4 * MSG_ROOM;
	b->buf = xmalloc(b->cap);
	b->seq = 1;
	nftnl_batch_begin(b->buf, b->seq++);
	b->len = ((struct nlmsghdr *)b->buf)->nlmsg_len;
	return b;
}

void nft_batch_free(struct nft_batch *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n_labels; i++)
		free(b->labels[i]);
	free(b->labels);
	free(b->buf);
	free(b);
}

void nft_batch_freep(struct nft_batch **b) { nft_batch_free(*b); }

size_t nft_batch_count(const struct nft_batch *b) { return b->n_labels; }

/* Room for the next message; returns where to build it. */
char *nft_batch_room(struct nft_batch *b)
{
	if (b->cap - b->len < MSG_ROOM) {
		b->cap = b->cap * 2 + MSG_ROOM;
		b->buf = xrealloc(b->buf, b->cap);
	}
	return b->buf + b->len;
}

/* The message just built at nft_batch_room() is complete. */
void nft_batch_push(struct nft_batch *b, const char *label)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)(b->buf + b->len);

	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
	if (b->n_labels == b->cap_labels) {
		b->cap_labels = b->cap_labels ? b->cap_labels * 2 : 64;
		b->labels = xrealloc(b->labels, b->cap_labels * sizeof(*b->labels));
	}
	b->labels[b->n_labels++] = xstrdup(label);
}

struct nlmsghdr *nft_batch_hdr(struct nft_batch *b, int type, int family, uint16_t flags)
{
	return nftnl_nlmsg_build_hdr(nft_batch_room(b), (uint16_t)type, (uint16_t)family,
				     flags | NLM_F_ACK, b->seq++);
}

const void *nft_batch_data(struct nft_batch *b, size_t *ret_len)
{
	if (!b->ended) {
		nftnl_batch_end(nft_batch_room(b), b->seq++);
		b->len += NLMSG_ALIGN(((struct nlmsghdr *)(b->buf + b->len))->nlmsg_len);
		b->ended = true;
	}
	*ret_len = b->len;
	return b->buf;
}

/* ---- elements ---- */

void nft_batch_elem(struct nft_batch *b, bool add, const struct nft_elem *e)
{
	bool br = nft_set_is_bridge(e->set);
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elem *el = nftnl_set_elem_alloc();
	struct nlmsghdr *nlh;
	uint16_t flags = add ? NLM_F_CREATE | (e->excl ? NLM_F_EXCL : 0) : 0;

	nftnl_set_set_str(s, NFTNL_SET_TABLE, br ? b->names.bridge : b->names.inet);
	nftnl_set_set_str(s, NFTNL_SET_NAME, nft_set_name(e->set));
	nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, e->key, e->key_len);
	if (e->data_len)
		nftnl_set_elem_set(el, NFTNL_SET_ELEM_DATA, e->data, e->data_len);
	nftnl_set_elem_add(s, el);
	nlh = nft_batch_hdr(b, add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM,
			    br ? NFPROTO_BRIDGE : NFPROTO_INET, flags);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	nft_batch_push(b, e->label);
}

/* ---- the socket ---- */

#define ACK_TIMEOUT_MS 5000
#define RECV_SIZE (64 << 10)

struct nft_conn {
	int fd;
	uint32_t portid;
	uint32_t seq;          /* the last sequence number sent: keeps increasing on the socket */
	int timeout_ms;        /* the longest wait for the answers of one request or batch */
	char *rbuf;
};

struct nft_conn *nft_conn_adopt(int fd, uint32_t portid, uint32_t seq, int timeout_ms)
{
	struct nft_conn *c = xcalloc(1, sizeof(*c));

	c->fd = fd;
	c->portid = portid;
	c->seq = seq;
	c->timeout_ms = timeout_ms;
	c->rbuf = xmalloc(RECV_SIZE);
	return c;
}

int nft_conn_open(struct nft_conn **ret, struct berr *err)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	socklen_t sa_len = sizeof(sa);
	int one = 1, size = 16 << 20;
	_cleanup_close_ int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sa_len) < 0)
		return berr_errno(err, -errno, "opening the nftables netlink socket");
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
	*ret = nft_conn_adopt(steal_fd(fd), sa.nl_pid, (uint32_t)time(NULL), ACK_TIMEOUT_MS);
	return 0;
}

void nft_conn_close(struct nft_conn *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c->rbuf);
	free(c);
}

uint32_t nft_conn_portid(const struct nft_conn *c) { return c->portid; }

/* ---- acknowledgements ---- */

/* The kernel's extended-ack text of an error message, if any. */
static const char *ack_text(const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;
	size_t off;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NULL;
	off = sizeof(*e);
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += mnl_nlmsg_get_payload_len(&e->msg);
	if (off > mnl_nlmsg_get_payload_len(nlh))
		return NULL;
	mnl_attr_for_each_payload((const struct nlattr *)((const char *)e + off),
				  mnl_nlmsg_get_payload_len(nlh) - off) {
		if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
		    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
			return mnl_attr_get_str(attr);
	}
	return NULL;
}

void nft_acks_for_batch(struct nft_acks *a, uint32_t first, size_t n)
{
	*a = (struct nft_acks){ .first = first, .last = first + (uint32_t)n + 1,
				.acked = first + 1, .want = n };
}

void nft_acks_for_request(struct nft_acks *a, uint32_t seq)
{
	*a = (struct nft_acks){ .first = seq, .last = seq, .acked = seq, .want = 1 };
}

/* seq is one of the n numbers from first on (sequence numbers wrap). */
static bool seq_within(uint32_t seq, uint32_t first, uint64_t n)
{
	return (uint32_t)(seq - first) < n;
}

/* Keeps the error of the lowest-numbered refused message: later ones usually follow from it. */
static void acks_error(struct nft_acks *a, const struct nlmsghdr *nlh, int error)
{
	const char *text;

	if (a->error && (uint32_t)(nlh->nlmsg_seq - a->first) > (uint32_t)(a->error_seq - a->first))
		return;
	a->error = error > 0 ? -error : error;
	a->error_seq = nlh->nlmsg_seq;
	text = ack_text(nlh);
	strscpy(a->text, text ? text : "", sizeof(a->text));
}

static void acks_one(struct nft_acks *a, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	bool is_err = nlh->nlmsg_type == NLMSG_ERROR;

	if (!seq_within(nlh->nlmsg_seq, a->first, (uint64_t)(uint32_t)(a->last - a->first) + 1) ||
	    (is_err && nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(*e))) {
		a->stale++;
		blog_debug("nft: dropped a message outside sequence numbers %u-%u (seq %u, type %u, "
			   "error %d)", a->first, a->last, nlh->nlmsg_seq, nlh->nlmsg_type,
			   is_err && nlh->nlmsg_len >= NLMSG_HDRLEN + sizeof(*e) ? e->error : 0);
		return;
	}
	if (!is_err) {
		a->replies++;
		return;
	}
	if (seq_within(nlh->nlmsg_seq, a->acked, a->want))
		a->got++;
	else if (e->error)
		a->whole = true;   /* against the batch begin or end: no other answer follows */
	if (e->error)
		acks_error(a, nlh, e->error);
}

void nft_acks_take(struct nft_acks *a, const void *buf, size_t len)
{
	const struct nlmsghdr *nlh = buf;
	int left = (int)len;

	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left))
		acks_one(a, nlh);
}

bool nft_acks_done(const struct nft_acks *a)
{
	return a->got >= a->want || a->whole;
}

/* Reads until every answer of `a` is in, for at most the connection's timeout; what belongs to
 * no request of `a` (late answers to an earlier one) is dropped. */
static int conn_wait(struct nft_conn *c, struct nft_acks *a, struct berr *err)
{
	uint64_t deadline = time_mono_ns() + (uint64_t)c->timeout_ms * 1000000;
	struct pollfd p = { .fd = c->fd, .events = POLLIN };

	while (!nft_acks_done(a)) {
		uint64_t now = time_mono_ns();
		ssize_t n;
		int r;

		if (now >= deadline)
			return berr_set(err, -ETIMEDOUT, "nftables: %zu of %zu acknowledgements "
					"missing after %d ms", a->want - a->got, a->want, c->timeout_ms);
		r = poll(&p, 1, (int)((deadline - now + 999999) / 1000000));
		if (r < 0 && errno != EINTR)
			return berr_errno(err, -errno, "nftables: waiting for acknowledgements");
		if (r <= 0)
			continue;
		n = recv(c->fd, c->rbuf, RECV_SIZE, MSG_DONTWAIT);
		if (n < 0 && errno == ENOBUFS)
			return berr_set(err, -ENOBUFS, "nftables: acknowledgements lost (the socket's "
					"receive buffer overflowed)");
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return berr_errno(err, -errno, "nftables: reading acknowledgements");
		if (n > 0)
			nft_acks_take(a, c->rbuf, (size_t)n);
	}
	return 0;
}

/* Numbers the batch's messages from `first` on (the builder's numbers are placeholders). */
static void batch_number(struct nft_batch *b, uint32_t first)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)b->buf;
	int left = (int)b->len;

	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left))
		nlh->nlmsg_seq = first++;
}

static int batch_blame(const struct nft_batch *b, const struct nft_acks *a, struct berr *err)
{
	uint32_t i = a->error_seq - a->acked;
	const char *sep = a->text[0] ? ": " : "";

	if (i < b->n_labels)
		return berr_set(err, a->error, "nftables refused %s: %s%s%s", b->labels[i],
				strerror(-a->error), sep, a->text);
	return berr_set(err, a->error, "nftables refused the batch: %s%s%s", strerror(-a->error),
			sep, a->text);
}

int nft_batch_commit(struct nft_conn *c, struct nft_batch *b, struct berr *err)
{
	struct nft_acks a;
	const void *data;
	size_t len;
	int r;

	if (b->n_labels == 0)
		return 0;
	data = nft_batch_data(b, &len);
	nft_acks_for_batch(&a, c->seq + 1, b->n_labels);
	batch_number(b, a.first);
	c->seq = a.last;
	if (send(c->fd, data, len, 0) < 0)
		return berr_errno(err, -errno, "nftables: sending a batch of %zu messages",
				  b->n_labels);
	r = conn_wait(c, &a, err);
	if (r >= 0 && a.error)
		r = batch_blame(b, &a, err);
	blog_debug("nft: batch %u-%u of %zu messages: %s", a.first, a.last, b->n_labels,
		   r < 0 ? berr_str(err) : "ok");
	return r;
}

/* ---- existence of our tables ---- */

static int table_get(struct nft_conn *c, int family, const char *name, bool *ret,
		     struct berr *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;
	struct nft_acks a;
	int r;

	nft_acks_for_request(&a, ++c->seq);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, name);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, (uint16_t)family, NLM_F_ACK, a.first);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	if (send(c->fd, nlh, nlh->nlmsg_len, 0) < 0)
		return berr_errno(err, -errno, "nftables: asking for table %s", name);
	r = conn_wait(c, &a, err);
	if (r < 0)
		return berr_prefix(err, "table %s", name);
	if (a.error && a.error != -ENOENT)
		return berr_errno(err, a.error, "nftables: reading table %s", name);
	*ret = !a.error && a.replies > 0;
	return 0;
}

int nft_tables_exist(struct nft_conn *c, const struct nft_names *names, bool *ret,
		     struct berr *err)
{
	bool a = false, b = false;
	int r = table_get(c, NFPROTO_INET, names->inet, &a, err);

	if (r >= 0)
		r = table_get(c, NFPROTO_BRIDGE, names->bridge, &b, err);
	*ret = a && b;
	return r;
}

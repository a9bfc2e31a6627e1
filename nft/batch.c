/* SPDX-License-Identifier: Apache-2.0 */
/* Batches (a growable buffer of netlink messages with a label per message) and their commit:
 * one sendmsg, then one acknowledgement per message, matched by sequence number. */
#include <poll.h>
#include <time.h>

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

struct nft_conn {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
};

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

int nft_conn_open(struct nft_conn **ret, struct berr *err)
{
	struct nft_conn *c = xcalloc(1, sizeof(*c));
	int one = 1, size = 16 << 20;

	c->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!c->nl || mnl_socket_bind(c->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int r = -errno;

		nft_conn_close(c);
		return berr_errno(err, r, "opening the nftables netlink socket");
	}
	c->portid = mnl_socket_get_portid(c->nl);
	c->seq = (uint32_t)time(NULL);
	mnl_socket_setsockopt(c->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(c->nl, NETLINK_CAP_ACK, &one, sizeof(one));
	setsockopt(mnl_socket_get_fd(c->nl), SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size));
	setsockopt(mnl_socket_get_fd(c->nl), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
	*ret = c;
	return 0;
}

void nft_conn_close(struct nft_conn *c)
{
	if (!c)
		return;
	if (c->nl)
		mnl_socket_close(c->nl);
	free(c);
}

uint32_t nft_conn_portid(const struct nft_conn *c) { return c->portid; }

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
	mnl_attr_for_each_payload((const struct nlattr *)((const char *)e + off),
				  mnl_nlmsg_get_payload_len(nlh) - off) {
		if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
		    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
			return mnl_attr_get_str(attr);
	}
	return NULL;
}

struct acks {
	struct nft_batch *b;
	uint32_t first, last;   /* sequence numbers of the labelled messages */
	size_t got;
	int error;
	struct berr *err;
};

static void ack_one(struct acks *a, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	uint32_t seq = e->msg.nlmsg_seq;
	const char *text;

	a->got++;
	if (e->error == 0 || a->error)
		return;
	a->error = e->error < 0 ? e->error : -e->error;
	text = ack_text(nlh);
	if (seq >= a->first && seq <= a->last)
		berr_set(a->err, a->error, "nftables refused %s: %s%s%s", a->b->labels[seq - a->first],
			 strerror(-a->error), text ? ": " : "", text ? text : "");
	else
		berr_set(a->err, a->error, "nftables refused the batch: %s", strerror(-a->error));
}

static int acks_parse(struct acks *a, const char *buf, size_t len)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	int left = (int)len;

	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		if (nlh->nlmsg_type == NLMSG_ERROR &&
		    nlh->nlmsg_len >= NLMSG_HDRLEN + sizeof(struct nlmsgerr))
			ack_one(a, nlh);
	}
	return 0;
}

static int acks_read(struct nft_conn *c, struct acks *a, size_t want)
{
	size_t size = 1 << 20;
	_cleanup_free_ char *buf = xmalloc(size);
	struct pollfd p = { .fd = mnl_socket_get_fd(c->nl), .events = POLLIN };
	ssize_t n;

	while (a->got < want) {
		int r = poll(&p, 1, 5000);

		if (r == 0)
			return berr_set(a->err, -ETIMEDOUT, "nftables: %zu of %zu acknowledgements "
					"missing after 5 s", want - a->got, want);
		if (r < 0 && errno != EINTR)
			return berr_errno(a->err, -errno, "nftables: waiting for acknowledgements");
		n = mnl_socket_recvfrom(c->nl, buf, size);
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return berr_errno(a->err, -errno, "nftables: reading acknowledgements");
		if (n > 0)
			acks_parse(a, buf, (size_t)n);
	}
	return a->error;
}

int nft_batch_commit(struct nft_conn *c, struct nft_batch *b, struct berr *err)
{
	struct acks a = { .b = b, .first = 2, .err = err };
	size_t len;
	const void *data;
	int r;

	if (b->n_labels == 0)
		return 0;
	data = nft_batch_data(b, &len);
	a.last = (uint32_t)(a.first + b->n_labels - 1);
	if (mnl_socket_sendto(c->nl, data, len) < 0)
		return berr_errno(err, -errno, "nftables: sending a batch of %zu messages",
				  b->n_labels);
	r = acks_read(c, &a, b->n_labels);
	blog_debug("nft: batch of %zu messages: %s", b->n_labels, r < 0 ? berr_str(err) : "ok");
	return r;
}

/* ---- existence of our tables ---- */

static int table_get(struct nft_conn *c, int family, const char *name, bool *ret,
		     struct berr *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;
	uint32_t seq = ++c->seq;
	ssize_t n;
	int r = 0;

	nftnl_table_set_str(t, NFTNL_TABLE_NAME, name);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, (uint16_t)family, NLM_F_ACK, seq);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	if (mnl_socket_sendto(c->nl, nlh, nlh->nlmsg_len) < 0)
		return berr_errno(err, -errno, "nftables: asking for table %s", name);
	*ret = false;
	do {
		n = mnl_socket_recvfrom(c->nl, buf, sizeof(buf));
		if (n < 0)
			return berr_errno(err, -errno, "nftables: reading table %s", name);
		r = mnl_cb_run(buf, (size_t)n, seq, c->portid, NULL, NULL);
	} while (r == MNL_CB_OK);
	if (r == MNL_CB_STOP)
		*ret = true;
	else if (errno != ENOENT)
		return berr_errno(err, -errno, "nftables: reading table %s", name);
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

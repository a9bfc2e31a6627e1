/* SPDX-License-Identifier: Apache-2.0 */
/* Tracing: the events the kernel sends for packets marked with `meta nftrace` (NFNLGRP_NFTRACE),
 * parsed into plain structs, and the rules of berth's tables with their comments, so that an
 * event's rule handle can be named. The marking rule itself is built in skeleton.c. */
#include <poll.h>
#include <time.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/rule.h>
#include <libnftnl/trace.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "common/util.h"
#include "nft/nft_internal.h"

#define TRACE_RECV (64 << 10)
#define DUMP_TIMEOUT_MS 2000

int nft_trace_open(int *ret_fd, struct berr *err)
{
	return nft_group_open(NFNLGRP_NFTRACE, 4 << 20, "trace", ret_fd, err);
}

static void trace_str(const struct nftnl_trace *t, uint16_t attr, char *out, size_t size)
{
	const char *s = nftnl_trace_is_set(t, attr) ? nftnl_trace_get_str(t, attr) : NULL;

	strscpy(out, s ? s : "", size);
}

static uint32_t trace_u32(const struct nftnl_trace *t, uint16_t attr)
{
	return nftnl_trace_is_set(t, attr) ? nftnl_trace_get_u32(t, attr) : 0;
}

/* The first size bytes of a header the event carries; their number. */
static uint32_t trace_data(const struct nftnl_trace *t, uint16_t attr, uint8_t *out, size_t size)
{
	uint32_t len = 0;
	const void *d = nftnl_trace_is_set(t, attr) ? nftnl_trace_get_data(t, attr, &len) : NULL;

	if (!d)
		return 0;
	len = len < size ? len : (uint32_t)size;
	memcpy(out, d, len);
	return len;
}

static void trace_fill(const struct nftnl_trace *t, struct nft_trace_event *ev)
{

	memset(ev, 0, sizeof(*ev));
	ev->id = trace_u32(t, NFTNL_TRACE_ID);
	ev->type = trace_u32(t, NFTNL_TRACE_TYPE);
	ev->family = (int)trace_u32(t, NFTNL_TRACE_FAMILY);
	trace_str(t, NFTNL_TRACE_TABLE, ev->table, sizeof(ev->table));
	trace_str(t, NFTNL_TRACE_CHAIN, ev->chain, sizeof(ev->chain));
	trace_str(t, NFTNL_TRACE_JUMP_TARGET, ev->target, sizeof(ev->target));
	if (nftnl_trace_is_set(t, NFTNL_TRACE_RULE_HANDLE))
		ev->handle = nftnl_trace_get_u64(t, NFTNL_TRACE_RULE_HANDLE);
	ev->has_verdict = nftnl_trace_is_set(t, NFTNL_TRACE_VERDICT);
	ev->verdict = (int)trace_u32(t, NFTNL_TRACE_VERDICT);
	if (!ev->has_verdict && nftnl_trace_is_set(t, NFTNL_TRACE_POLICY)) {
		ev->has_verdict = true;
		ev->verdict = (int)trace_u32(t, NFTNL_TRACE_POLICY);
	}
	ev->iif = trace_u32(t, NFTNL_TRACE_IIF);
	ev->oif = trace_u32(t, NFTNL_TRACE_OIF);
	ev->nh_len = trace_data(t, NFTNL_TRACE_NETWORK_HEADER, ev->nh, sizeof(ev->nh));
	ev->th_len = trace_data(t, NFTNL_TRACE_TRANSPORT_HEADER, ev->th, sizeof(ev->th));
}

int nft_trace_parse(const void *msg, size_t len, struct nft_trace_event *ret)
{
	const struct nlmsghdr *nlh = msg;
	struct nftnl_trace *t;
	int r;

	if (len < NLMSG_HDRLEN + sizeof(struct nfgenmsg) || nlh->nlmsg_len > len ||
	    nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(struct nfgenmsg) ||
	    nlh->nlmsg_type != ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_TRACE))
		return -EINVAL;
	t = nftnl_trace_alloc();
	r = nftnl_trace_nlmsg_parse(nlh, t);
	if (r >= 0)
		trace_fill(t, ret);
	nftnl_trace_free(t);
	return r < 0 ? -EINVAL : 0;
}

static void trace_take(const char *buf, size_t len, struct nft_trace_event **v, size_t *n,
		       size_t max)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	int left = (int)len;
	struct nft_trace_event ev;

	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		if (*n >= max || nft_trace_parse(nlh, nlh->nlmsg_len, &ev) < 0)
			continue;
		*v = xrealloc(*v, (*n + 1) * sizeof(**v));
		(*v)[(*n)++] = ev;
	}
}

int nft_trace_read(int fd, struct nft_trace_event **v, size_t *n, size_t max, struct berr *err)
{
	_cleanup_free_ char *buf = xmalloc(TRACE_RECV);

	for (;;) {
		ssize_t k = recv(fd, buf, TRACE_RECV, MSG_DONTWAIT);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == EAGAIN)
			return 0;
		if (k < 0 && errno == ENOBUFS)
			return berr_set(err, -ENOBUFS, "trace events were lost (the socket's receive "
					"buffer overflowed)");
		if (k < 0)
			return berr_errno(err, -errno, "reading trace events");
		if (k == 0)
			return 0;
		trace_take(buf, (size_t)k, v, n, max);
	}
}

/* ---- the rules of our tables ---- */

static int comment_cb(const struct nftnl_udata *attr, void *data)
{
	char *out = data;
	size_t len = nftnl_udata_len(attr);

	if (nftnl_udata_type(attr) != NFTNL_UDATA_RULE_COMMENT || len == 0 || len > NFT_LABEL_MAX)
		return MNL_CB_OK;
	memcpy(out, nftnl_udata_get(attr), len);
	out[len - 1] = '\0';
	return MNL_CB_OK;
}

struct rules_acc {
	int family;
	struct nft_rule_info *v;
	size_t n;
};

static void rule_take(const struct nlmsghdr *nlh, struct rules_acc *acc)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nft_rule_info info = { .family = acc->family };
	const void *ud;
	uint32_t len = 0;

	if (nftnl_rule_nlmsg_parse(nlh, r) >= 0 && nftnl_rule_is_set(r, NFTNL_RULE_HANDLE)) {
		info.handle = nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE);
		strscpy(info.chain, nftnl_rule_get_str(r, NFTNL_RULE_CHAIN), sizeof(info.chain));
		ud = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len);
		if (ud)
			nftnl_udata_parse(ud, len, comment_cb, info.comment);
		acc->v = xrealloc(acc->v, (acc->n + 1) * sizeof(*acc->v));
		acc->v[acc->n++] = info;
	}
	nftnl_rule_free(r);
}

/* 1 when the dump ended, 0 to read on, -errno. */
static int dump_take(const char *buf, size_t len, uint32_t seq, struct rules_acc *acc)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	int left = (int)len;

	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		if (nlh->nlmsg_seq != seq)
			continue;
		if (nlh->nlmsg_type == NLMSG_DONE)
			return 1;
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

			return nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(*e) ? -EBADMSG :
			       e->error ? e->error : 1;
		}
		rule_take(nlh, acc);
	}
	return 0;
}

static int dump_wait(int fd, uint32_t seq, struct rules_acc *acc, struct berr *err)
{
	uint64_t deadline = time_mono_ns() + (uint64_t)DUMP_TIMEOUT_MS * 1000000;
	_cleanup_free_ char *buf = xmalloc(TRACE_RECV);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r = 0;

	while (r == 0) {
		uint64_t now = time_mono_ns();
		ssize_t k;

		if (now >= deadline)
			return berr_set(err, -ETIMEDOUT, "nftables: listing rules timed out");
		if (poll(&p, 1, (int)((deadline - now) / 1000000) + 1) <= 0)
			continue;
		k = recv(fd, buf, TRACE_RECV, MSG_DONTWAIT);
		if (k < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (k <= 0)
			return berr_errno(err, k < 0 ? -errno : -EIO, "nftables: listing rules");
		r = dump_take(buf, (size_t)k, seq, acc);
	}
	if (r < 0 && r != -ENOENT)
		return berr_errno(err, r, "nftables: listing rules");
	return 0;
}

static int rules_dump(int fd, int family, const char *table, struct rules_acc *acc,
		      struct berr *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nftnl_rule *r = nftnl_rule_alloc();
	uint32_t seq = (uint32_t)time(NULL) ^ (uint32_t)family;
	struct nlmsghdr *nlh;

	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, (uint16_t)family, NLM_F_DUMP | NLM_F_ACK,
				    seq);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	if (send(fd, nlh, nlh->nlmsg_len, 0) < 0)
		return berr_errno(err, -errno, "nftables: asking for the rules of table %s", table);
	acc->family = family;
	return dump_wait(fd, seq, acc, err);
}

int nft_rules_list(const struct nft_names *names, struct nft_rule_info **ret, size_t *ret_n,
		   struct berr *err)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	_cleanup_close_ int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	struct rules_acc acc = { 0 };
	int r;

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return berr_errno(err, -errno, "opening an nftables socket");
	r = rules_dump(fd, NFPROTO_INET, names->inet, &acc, err);
	if (r >= 0)
		r = rules_dump(fd, NFPROTO_BRIDGE, names->bridge, &acc, err);
	if (r < 0) {
		free(acc.v);
		return r;
	}
	*ret = acc.v;
	*ret_n = acc.n;
	return 0;
}

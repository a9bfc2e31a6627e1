/* SPDX-License-Identifier: Apache-2.0 */
/* Removing stale conntrack entries of a host port (UDP and SCTP flows keep their old NAT binding
 * otherwise): one ctnetlink dump, then a delete by original tuple for each match. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include "common/util.h"
#include "nft/nft.h"

struct ct_match {
	int family;
	uint8_t proto;
	uint16_t port;                 /* network order */
	const struct ipaddr *daddr;    /* NULL or family 0 = any */
	void **tuples;                 /* copies of matching CTA_TUPLE_ORIG attributes */
	size_t n, cap;
};

static const struct nlattr *nest_get(const struct nlattr *nest, uint16_t type)
{
	const struct nlattr *attr;

	mnl_attr_for_each_nested(attr, nest)
		if (mnl_attr_get_type(attr) == type)
			return attr;
	return NULL;
}

static bool tuple_matches(const struct nlattr *tuple, const struct ct_match *m)
{
	const struct nlattr *ip = nest_get(tuple, CTA_TUPLE_IP);
	const struct nlattr *proto = nest_get(tuple, CTA_TUPLE_PROTO);
	const struct nlattr *num = proto ? nest_get(proto, CTA_PROTO_NUM) : NULL;
	const struct nlattr *port = proto ? nest_get(proto, CTA_PROTO_DST_PORT) : NULL;
	const struct nlattr *dst;
	size_t alen = m->family == AF_INET ? 4 : 16;

	if (!num || !port || mnl_attr_get_payload_len(num) < 1 || mnl_attr_get_payload_len(port) < 2)
		return false;
	if (mnl_attr_get_u8(num) != m->proto || mnl_attr_get_u16(port) != m->port)
		return false;
	if (!m->daddr || !m->daddr->family)
		return true;
	dst = ip ? nest_get(ip, m->family == AF_INET ? CTA_IP_V4_DST : CTA_IP_V6_DST) : NULL;
	return dst && mnl_attr_get_payload_len(dst) == alen &&
	       memcmp(mnl_attr_get_payload(dst), m->daddr->b, alen) == 0;
}

static int ct_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ct_match *m = data;
	const struct nlattr *attr;

	mnl_attr_for_each(attr, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(attr) != CTA_TUPLE_ORIG || !tuple_matches(attr, m))
			continue;
		if (m->n == m->cap) {
			m->cap = m->cap ? m->cap * 2 : 16;
			m->tuples = xrealloc(m->tuples, m->cap * sizeof(*m->tuples));
		}
		m->tuples[m->n] = xmalloc(attr->nla_len);
		memcpy(m->tuples[m->n++], attr, attr->nla_len);
	}
	return MNL_CB_OK;
}

static struct nlmsghdr *ct_hdr(char *buf, int family, uint16_t msg, uint16_t flags, uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *g;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | msg;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = (uint8_t)family;
	g->version = NFNETLINK_V0;
	return nlh;
}

static int ct_run(struct mnl_socket *nl, const struct nlmsghdr *req, mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE * 4];
	uint32_t portid = mnl_socket_get_portid(nl);
	ssize_t n;
	int r;

	if (mnl_socket_sendto(nl, req, req->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		r = mnl_cb_run(buf, (size_t)n, req->nlmsg_seq, portid, cb, data);
	} while (r == MNL_CB_OK);
	return r < 0 ? -errno : 0;
}

static void ct_delete_all(struct mnl_socket *nl, struct ct_match *m, uint32_t seq)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	for (size_t i = 0; i < m->n; i++) {
		struct nlmsghdr *nlh = ct_hdr(buf, m->family, IPCTNL_MSG_CT_DELETE, NLM_F_ACK,
					      seq + (uint32_t)i);
		struct nlattr *t = m->tuples[i];

		mnl_attr_put(nlh, CTA_TUPLE_ORIG | NLA_F_NESTED, t->nla_len - NLA_HDRLEN,
			     (char *)t + NLA_HDRLEN);
		if (ct_run(nl, nlh, NULL, NULL) < 0 && errno != ENOENT)
			blog_debug("conntrack: deleting an entry: %m");
		free(t);
	}
	free(m->tuples);
}

int nft_ct_flush_port(int family, uint8_t proto, const struct ipaddr *daddr, uint16_t port,
		      struct berr *err)
{
	struct ct_match m = { .family = family, .proto = proto, .port = htons(port), .daddr = daddr };
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	uint32_t seq = (uint32_t)time(NULL);
	int r;

	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		if (nl)
			mnl_socket_close(nl);
		return berr_errno(err, r, "opening a conntrack netlink socket");
	}
	r = ct_run(nl, ct_hdr(buf, family, IPCTNL_MSG_CT_GET, NLM_F_DUMP, seq), ct_dump_cb, &m);
	blog_debug("conntrack: %zu entries for port %u/%u", m.n, port, proto);
	ct_delete_all(nl, &m, seq + 1);
	mnl_socket_close(nl);
	if (r < 0)
		return berr_errno(err, r, "listing conntrack entries");
	return 0;
}

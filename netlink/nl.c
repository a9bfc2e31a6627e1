/* SPDX-License-Identifier: Apache-2.0 */
/* The netlink socket wrapper: open (optionally in another namespace), extended ACKs, one
 * request/reply exchange, and errors as -errno plus the kernel's own words. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/util.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

int nlx_nle_errno(int nle)
{
	static const int map[] = {
		[NLE_FAILURE] = EIO,          [NLE_INTR] = EINTR,
		[NLE_BAD_SOCK] = EBADF,       [NLE_AGAIN] = EAGAIN,
		[NLE_NOMEM] = ENOMEM,         [NLE_EXIST] = EEXIST,
		[NLE_INVAL] = EINVAL,         [NLE_RANGE] = ERANGE,
		[NLE_MSGSIZE] = EMSGSIZE,     [NLE_OPNOTSUPP] = EOPNOTSUPP,
		[NLE_AF_NOSUPPORT] = EAFNOSUPPORT, [NLE_OBJ_NOTFOUND] = ENOENT,
		[NLE_NOATTR] = ENODATA,       [NLE_MISSING_ATTR] = EINVAL,
		[NLE_AF_MISMATCH] = EAFNOSUPPORT, [NLE_SEQ_MISMATCH] = EPROTO,
		[NLE_MSG_OVERFLOW] = EOVERFLOW, [NLE_MSG_TRUNC] = EMSGSIZE,
		[NLE_NOADDR] = EADDRNOTAVAIL, [NLE_SRCRT_NOSUPPORT] = EOPNOTSUPP,
		[NLE_MSG_TOOSHORT] = EBADMSG, [NLE_MSGTYPE_NOSUPPORT] = EOPNOTSUPP,
		[NLE_OBJ_MISMATCH] = EINVAL,  [NLE_NOCACHE] = ENOENT,
		[NLE_BUSY] = EBUSY,           [NLE_PROTO_MISMATCH] = EPROTONOSUPPORT,
		[NLE_NOACCESS] = EACCES,      [NLE_PERM] = EPERM,
		[NLE_PKTLOC_FILE] = ENOENT,   [NLE_PARSE_ERR] = EBADMSG,
		[NLE_NODEV] = ENODEV,         [NLE_IMMUTABLE] = EPERM,
		[NLE_DUMP_INTR] = EINTR,      [NLE_ATTRSIZE] = EMSGSIZE,
	};

	if (nle < 0)
		nle = -nle;
	if (nle == 0)
		return 0;
	if ((size_t)nle >= ARRAY_SIZE(map) || map[nle] == 0)
		return -EIO;
	return -map[nle];
}

int nlx_fail(struct nlx *nl, int code, struct berr *err, const char *fmt, ...)
{
	char what[BERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (code >= 0)
		code = -EIO;
	if (nl && nl->kmsg[0])
		return berr_set(err, code, "%s: %s (kernel: %s)", what, strerror(-code), nl->kmsg);
	return berr_set(err, code, "%s: %s", what, strerror(-code));
}

/* Copy NLMSGERR_ATTR_MSG of an NLMSG_ERROR into buf ("" when the kernel gave no text). */
static void nlx_ext_ack_text(struct nlmsghdr *hdr, struct nlmsgerr *e, char *buf, size_t size)
{
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	int hlen = sizeof(*e);
	size_t len;

	buf[0] = '\0';
	if (!(hdr->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(hdr->nlmsg_flags & NLM_F_CAPPED)) {
		if (e->msg.nlmsg_len < NLMSG_HDRLEN || e->msg.nlmsg_len > hdr->nlmsg_len)
			return;
		hlen += e->msg.nlmsg_len - NLMSG_HDRLEN;
	}
	if (nlmsg_parse(hdr, hlen, tb, NLMSGERR_ATTR_MAX, NULL) < 0 || !tb[NLMSGERR_ATTR_MSG])
		return;
	len = strnlen(nla_data(tb[NLMSGERR_ATTR_MSG]), nla_len(tb[NLMSGERR_ATTR_MSG]));
	if (len >= size)
		len = size - 1;
	memcpy(buf, nla_data(tb[NLMSGERR_ATTR_MSG]), len);
	buf[len] = '\0';
}

/* libnl calls this for every NLMSG_ERROR carrying a non-zero error; e is the payload of the
 * message, so its header sits right in front of it. */
static int nlx_err_cb(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct nlx *nl = arg;
	struct nlmsghdr *hdr = (struct nlmsghdr *)((char *)e - NLMSG_HDRLEN);

	nl->kerr = e->error < 0 ? e->error : -e->error;
	nlx_ext_ack_text(hdr, e, nl->kmsg, sizeof(nl->kmsg));
	return NL_STOP;
}

static int nlx_on_done(struct nl_msg *msg, void *arg)
{
	*(bool *)arg = true;
	return NL_STOP;
}

int nlx_talk(struct nlx *nl, struct nl_msg *msg, nl_recvmsg_msg_cb_t valid, void *arg)
{
	struct nl_cb *base, *cb;
	bool done = false;
	int r;

	nl->kerr = 0;
	nl->kmsg[0] = '\0';
	r = nl_send_auto(nl->sk, msg);
	nlmsg_free(msg);
	if (r < 0)
		return nlx_nle_errno(r);
	base = nl_socket_get_cb(nl->sk);
	cb = nl_cb_clone(base);
	nl_cb_put(base);
	if (!cb)
		return -ENOMEM;
	if (valid)
		nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, valid, arg);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, nlx_on_done, &done);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, nlx_on_done, &done);
	do
		r = nl_recvmsgs(nl->sk, cb);
	while (r >= 0 && !done);
	nl_cb_put(cb);
	if (r < 0)
		return nl->kerr ? nl->kerr : nlx_nle_errno(r);
	return 0;
}

/* The socket belongs to the namespace of the thread that creates it. */
static int nlx_connect_here(void *arg, struct berr *err)
{
	struct nlx *nl = arg;
	int r;

	errno = 0;
	r = nl_connect(nl->sk, nl->protocol);
	if (r < 0)
		return berr_errno(err, errno ? -errno : nlx_nle_errno(r), "connecting");
	return 0;
}

static int nlx_connect(struct nlx *nl, int netns_fd, struct berr *err)
{
	int r = netns_fd < 0 ? nlx_connect_here(nl, err)
			     : netns_run(netns_fd, nlx_connect_here, nl, err);

	if (r < 0)
		berr_prefix(err, "opening a netlink socket");
	return r;
}

int nlx_open(int netns_fd, struct nlx **ret, struct berr *err)
{
	return nlx_open_proto(netns_fd, NETLINK_ROUTE, ret, err);
}

int nlx_open_proto(int netns_fd, int protocol, struct nlx **ret, struct berr *err)
{
	_cleanup_(nlx_closep) struct nlx *nl = xcalloc(1, sizeof(*nl));
	int one = 1, fd, r;

	nl->protocol = protocol;
	nl->conf6_fd = -1;
	nl->sk = nl_socket_alloc();
	if (!nl->sk)
		return berr_set(err, -ENOMEM, "opening a netlink socket: out of memory");
	r = nlx_connect(nl, netns_fd, err);
	if (r < 0)
		return r;
	fd = nl_socket_get_fd(nl->sk);
	/* Both are optional: an old kernel simply gives shorter errors. */
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	r = nl_socket_modify_err_cb(nl->sk, NL_CB_CUSTOM, nlx_err_cb, nl);
	if (r < 0)
		return berr_set(err, nlx_nle_errno(r), "opening a netlink socket: %s",
				nl_geterror(r));
	*ret = steal_ptr(nl);
	return 0;
}

void nlx_close(struct nlx *nl)
{
	if (!nl)
		return;
	if (nl->sk)
		nl_socket_free(nl->sk);
	if (nl->conf6_fd >= 0)
		close(nl->conf6_fd);
	free(nl);
}

int nlx_conf6_dir(struct nlx *nl, struct berr *err)
{
	if (nl->conf6_fd < 0)
		nl->conf6_fd = open("/proc/sys/net/ipv6/conf", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (nl->conf6_fd < 0)
		return berr_errno(err, -errno, "opening /proc/sys/net/ipv6/conf");
	return nl->conf6_fd;
}

void nlx_closep(struct nlx **nl)
{
	nlx_close(*nl);
	*nl = NULL;
}

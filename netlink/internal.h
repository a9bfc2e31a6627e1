/* SPDX-License-Identifier: Apache-2.0 */
/* Private plumbing of the netlink module: the socket wrapper, one request/reply exchange with the
 * kernel, and the translation of failures into -errno plus the kernel's extended-ack text.
 * Nothing here may be included outside netlink/. */
#pragma once

/* Our public header is also called netlink/netlink.h and -I. precedes libnl's include directory,
 * so libnl's main header is included by its full path first (its include guard then keeps the
 * short spelling used inside libnl's own headers from mattering). */
#include <libnl3/netlink/netlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/socket.h>

#include "netlink.h"

#define NLX_KMSG_MAX 256

struct nlx {
	struct nl_sock *sk;
	int protocol;                /* NETLINK_ROUTE, NETLINK_XFRM... */
	int kerr;                    /* -errno of the last NLMSG_ERROR, 0 = none */
	char kmsg[NLX_KMSG_MAX];     /* its NLMSGERR_ATTR_MSG, "" = none */
	int conf6_fd;                /* O_PATH /proc/sys/net/ipv6/conf (nlx_conf6_dir), -1 */
};

/* /proc/sys/net/ipv6/conf, opened once per socket by a thread of nl's namespace (the first call
 * must come from one): each lookup of a /proc/sys/net path walks one entry per network namespace
 * at each of its first components (every namespace registers the same names), so a file opened
 * relative to this directory costs the same with 500 containers as with none. -errno. */
int nlx_conf6_dir(struct nlx *nl, struct berr *err);
/* Write value to the sysctl file `rel` under directory dirfd. */
int sysctl_write_at(int dirfd, const char *rel, const char *value, struct berr *err);

/* nlx_open() for another netlink protocol. */
int nlx_open_proto(int netns_fd, int protocol, struct nlx **ret, struct berr *err);

/* Send msg (always freed) and read until the ACK, the end of a dump or an error. Every message of
 * the reply goes to valid(msg, arg) when valid is not NULL. Returns 0 or -errno (the kernel's when
 * it sent one, see nl->kerr / nl->kmsg). */
int nlx_talk(struct nlx *nl, struct nl_msg *msg, nl_recvmsg_msg_cb_t valid, void *arg);

/* Fill err with "<what>: <strerror(code)> (kernel: <ext-ack text>)" and return code. */
int nlx_fail(struct nlx *nl, int code, struct berr *err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* -errno for a libnl NLE_* code (used when no kernel errno is available). */
int nlx_nle_errno(int nle);

/* An RTM_{NEW,GET}LINK message addressing a link by name (NULL: out of memory). */
struct ifinfomsg;
struct nl_msg *link_msg_new(int type, int flags, const struct ifinfomsg *ifi, const char *name);

/* Resolve a link by name with one RTM_GETLINK. ret_kind receives IFLA_INFO_KIND ("" if none);
 * ret_flags the ifi_flags. Returns ifindex > 0, 0 when absent, -errno. Both out-params optional. */
int nlx_link_query(struct nlx *nl, const char *name, char ret_kind[32], unsigned *ret_flags,
		   struct berr *err);

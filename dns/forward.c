/* SPDX-License-Identifier: Apache-2.0 */
/* Blocking exchanges with an upstream server (UDP, TCP), each bounded in time, and failover over
 * a list of upstreams. Used by the TCP path of the server (in worker threads) and by lookups from
 * the host; the UDP path of the server forwards asynchronously from its event loop. Every
 * exchange has a socket of its own, connect()ed to the upstream: a random ephemeral port, and the
 * kernel drops datagrams from any other address or port; a reply must also repeat the query's
 * ID and question. */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/inet.h"
#include "common/util.h"
#include "dns/dns.h"
#include "dns/dns_internal.h"

void dns_sockaddr(const struct ipaddr *a, uint16_t port, struct sockaddr_storage *ss,
		  socklen_t *ret_len)
{
	inet_sockaddr(a, port, ss, ret_len);
}

static int remaining_ms(uint64_t deadline)
{
	uint64_t now = time_mono_ns();

	return now >= deadline ? 0 : (int)((deadline - now) / 1000000 + 1);
}

static int wait_fd(int fd, short events, uint64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r;

	do {
		r = poll(&p, 1, remaining_ms(deadline));
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	return r == 0 ? -ETIMEDOUT : 0;
}

int dns_id_random(uint16_t *ret)
{
	ssize_t n;

	do {
		n = getrandom(ret, sizeof(*ret), 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == sizeof(*ret) ? 0 : -EIO;
}

int dns_upstream_connect(const struct ipaddr *up, int type)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd = socket(up->family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), r;

	if (fd < 0)
		return -errno;
	dns_sockaddr(up, 53, &ss, &sl);
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

static int connected_socket(const struct ipaddr *up, int type, uint64_t deadline)
{
	int fd = dns_upstream_connect(up, type), soerr = 0, r;
	socklen_t el = sizeof(soerr);

	if (fd < 0 || type != SOCK_STREAM)
		return fd;
	r = wait_fd(fd, POLLOUT, deadline);
	if (r >= 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &el) == 0 && soerr)
		r = -soerr;
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

static int udp_exchange(const struct ipaddr *up, const uint8_t *q, size_t qlen, uint8_t *out,
			size_t cap, uint64_t deadline)
{
	_cleanup_close_ int fd = connected_socket(up, SOCK_DGRAM, deadline);

	if (fd < 0)
		return fd;
	if (send(fd, q, qlen, 0) < 0)
		return -errno;
	for (;;) {
		int r = wait_fd(fd, POLLIN, deadline);
		ssize_t n;

		if (r < 0)
			return r;
		n = recv(fd, out, cap, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0)
			return -errno;
		if (dns_reply_matches(q, qlen, out, (size_t)n))
			return (int)n;
	}
}

static int io_full(int fd, uint8_t *buf, size_t len, bool writing, uint64_t deadline)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = writing ? send(fd, buf + done, len - done, MSG_NOSIGNAL)
				    : recv(fd, buf + done, len - done, 0);
		int r;

		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n == 0)
			return -ECONNRESET;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		r = wait_fd(fd, writing ? POLLOUT : POLLIN, deadline);
		if (r < 0)
			return r;
	}
	return 0;
}

static int tcp_exchange(const struct ipaddr *up, const uint8_t *q, size_t qlen, uint8_t *out,
			size_t cap, uint64_t deadline)
{
	_cleanup_close_ int fd = connected_socket(up, SOCK_STREAM, deadline);
	_cleanup_free_ uint8_t *msg = xmalloc(qlen + 2);
	uint8_t lenb[2];
	size_t alen;
	int r;

	if (fd < 0)
		return fd;
	dns_put16(msg, (uint16_t)qlen);
	memcpy(msg + 2, q, qlen);
	r = io_full(fd, msg, qlen + 2, true, deadline);
	if (r >= 0)
		r = io_full(fd, lenb, 2, false, deadline);
	if (r < 0)
		return r;
	alen = dns_get16(lenb);
	if (alen > cap)
		return -EMSGSIZE;
	r = io_full(fd, out, alen, false, deadline);
	if (r < 0)
		return r;
	return dns_reply_matches(q, qlen, out, alen) ? (int)alen : -EBADMSG;
}

static bool rcode_failover(const uint8_t *a)
{
	int rc = dns_get16(a + 2) & 0xf;

	return rc == DNS_R_SERVFAIL || rc == DNS_R_REFUSED;
}

int dns_forward_sync(const struct ipaddr *ups, size_t n_up, const uint8_t *q, size_t qlen,
		     bool tcp, uint8_t *out, size_t cap)
{
	int last = -EHOSTUNREACH;

	for (size_t i = 0; i < n_up; i++) {
		uint64_t deadline = time_mono_ns() + (uint64_t)DNS_TRY_MS * 1000000;
		int n = -ETIMEDOUT;

		if (!tcp)
			n = udp_exchange(&ups[i], q, qlen, out, cap, deadline);
		if (tcp || (n >= DNS_HDR_LEN && (dns_get16(out + 2) & DNS_F_TC))) {
			deadline = time_mono_ns() + (uint64_t)DNS_TCP_TRY_MS * 1000000;
			n = tcp_exchange(&ups[i], q, qlen, out, cap, deadline);
		}
		if (n < 0) {
			last = n;
			continue;
		}
		if (rcode_failover(out) && i + 1 < n_up) {
			last = -EREMOTEIO;
			continue;
		}
		return n;
	}
	return last;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* dns_probe: queries and abuse against a DNS server (default 127.0.0.11), for the embedded DNS
 * tests; run inside a container's netns with nsenter.
 *
 *   dns_probe [-s ADDR] [-t] [-e EDNS_SIZE] [-w MS] query NAME [TYPE]
 *       prints "rcode=R tc=0|1 n=N edns=0|1" then "TYPE DATA" per answer; exit 0 on a reply
 *   dns_probe [-s ADDR] raw HEX          one UDP datagram; prints rcode=R or "noreply"
 *   dns_probe [-s ADDR] garbage N        N random and mutated datagrams (no reply expected)
 *   dns_probe [-s ADDR] tcp-slow         trickle a query a byte per 400 ms: prints the ms until
 *                                        the server closes (or "served" if it answered)
 *   dns_probe [-s ADDR] tcp-idle         connect and say nothing: ms until closed
 *   dns_probe [-s ADDR] tcp-half N       N times: half a query, then a reset
 *   dns_probe [-s ADDR] tcp-big          a length prefix over the limit: "closed" or "open"
 *   dns_probe [-s ADDR] tcp-flood N      hold N connections: prints how many the server kept
 *   dns_probe [-s ADDR] tcp-pipeline     two queries in one write: prints the answers' count
 *   dns_probe [-s ADDR] flood MS         UDP queries for distinct names, ~20 per ms, for MS ms:
 *                                        prints "sent N replies R"
 *   dns_probe [-s ADDR] tcp-hold N MS    N connections, each asking again as soon as answered,
 *                                        for MS ms: prints "answers A"
 *   dns_probe [-s ADDR] tcp-noread MS    small buffers, 2,500 pipelined queries, then one a second,
 *                                        never reading: "closed after T ms" or "open"
 *   dns_probe [-s ADDR] tcp-slowread N MS  small buffers, ~100 KiB of answers always in flight,
 *                                        read as they come, until N answers or MS ms:
 *                                        "answers A in T ms" or "closed after T ms" */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/util.h"
#include "dns/dns.h"
#include "dns/dns_internal.h"

static struct ipaddr server;
static bool use_tcp;
static int edns, wait_ms = 3000;

/* small: a tiny receive buffer and MSS, so that little of what the server sends fits in the
 * kernel (the tests also shrink tcp_wmem in the namespace) and unread answers pile up in the
 * server itself. */
static int sock_open_opt(int type, bool small)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd = socket(server.family, type | SOCK_CLOEXEC, 0), rcv = 4096, mss = 536;

	if (small) {
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
		setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof(mss));
	}
	dns_sockaddr(&server, 53, &ss, &sl);
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		perror("dns_probe: connect");
		exit(2);
	}
	return fd;
}

static int sock_open(int type)
{
	return sock_open_opt(type, false);
}

static long ms_since(uint64_t t0)
{
	return (long)((time_mono_ns() - t0) / 1000000);
}

static bool readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) > 0;
}

static ssize_t tcp_read_msg(int fd, uint8_t *buf, size_t cap, int ms)
{
	uint8_t lenb[2];
	size_t got = 0, want;
	ssize_t n;

	while (got < 2) {
		if (!readable(fd, ms) || (n = read(fd, lenb + got, 2 - got)) <= 0)
			return -1;
		got += (size_t)n;
	}
	want = dns_get16(lenb);
	if (want > cap)
		return -1;
	for (got = 0; got < want; got += (size_t)n)
		if (!readable(fd, ms) || (n = read(fd, buf + got, want - got)) <= 0)
			return -1;
	return (ssize_t)want;
}

static void result_print(const uint8_t *a, size_t len)
{
	struct dns_result res;
	char buf[IP_STRLEN];
	bool opt = dns_get16(a + 10) > 0;

	if (dns_reply_parse(a, len, &res) < 0) {
		printf("malformed reply\n");
		exit(1);
	}
	printf("rcode=%s tc=%d n=%zu edns=%d len=%zu\n", dns_rcode_str(res.rcode), res.tc, res.n,
	       opt, len);
	for (size_t i = 0; i < res.n; i++)
		printf("%s %s\n", dns_type_str(res.rrs[i].type),
		       res.rrs[i].type == DNS_T_A || res.rrs[i].type == DNS_T_AAAA
			       ? ip_fmt(&res.rrs[i].ip, buf) : res.rrs[i].target);
}

static int cmd_query(const char *name, const char *type)
{
	uint8_t q[512], a[DNS_MSG_MAX];
	int qt = type ? dns_type_parse(type) : DNS_T_A, fd;
	int ql = dns_query_build(q + 2, sizeof(q) - 2, (uint16_t)getpid(), name,
				 (uint16_t)(qt < 0 ? DNS_T_A : qt), (uint16_t)edns);
	ssize_t n;

	if (ql < 0)
		return 2;
	fd = sock_open(use_tcp ? SOCK_STREAM : SOCK_DGRAM);
	if (use_tcp) {
		dns_put16(q, (uint16_t)ql);
		if (write(fd, q, (size_t)ql + 2) != ql + 2)
			return 2;
		n = tcp_read_msg(fd, a, sizeof(a), wait_ms);
	} else {
		if (send(fd, q + 2, (size_t)ql, 0) < 0)
			return 2;
		n = readable(fd, wait_ms) ? recv(fd, a, sizeof(a), 0) : -1;
	}
	if (n < DNS_HDR_LEN) {
		printf("noreply\n");
		return 1;
	}
	result_print(a, (size_t)n);
	return 0;
}

static int cmd_raw(const char *hex)
{
	uint8_t pkt[4096], a[DNS_MSG_MAX];
	size_t n = 0;
	int fd = sock_open(SOCK_DGRAM);
	ssize_t r;

	for (; hex[0] && hex[1] && n < sizeof(pkt); hex += 2) {
		unsigned v;

		if (sscanf(hex, "%2x", &v) != 1)
			return 2;
		pkt[n++] = (uint8_t)v;
	}
	if (send(fd, pkt, n, 0) < 0)
		return 2;
	r = readable(fd, wait_ms) ? recv(fd, a, sizeof(a), 0) : -1;
	if (r < DNS_HDR_LEN) {
		printf("noreply\n");
		return 0;
	}
	printf("rcode=%s\n", dns_rcode_str(dns_get16(a + 2) & 0xf));
	return 0;
}

static int cmd_garbage(int count)
{
	uint8_t base[512], pkt[600];
	int fd = sock_open(SOCK_DGRAM);
	int bl = dns_query_build(base, sizeof(base), 7, "web.example", DNS_T_A, 1232);

	srand((unsigned)getpid());
	for (int i = 0; i < count; i++) {
		size_t n = (size_t)(rand() % (int)sizeof(pkt));

		if (i % 2 == 0) {           /* a real query, mutated */
			memcpy(pkt, base, (size_t)bl);
			n = (size_t)bl;
			for (int k = 0; k < 4; k++)
				pkt[rand() % bl] = (uint8_t)rand();
			if (i % 4 == 0)
				n = (size_t)(rand() % bl);
		} else {
			for (size_t k = 0; k < n; k++)
				pkt[k] = (uint8_t)rand();
		}
		send(fd, pkt, n, 0);
	}
	printf("sent %d\n", count);
	return 0;
}

static long ms_until_closed(int fd, int max_ms)
{
	uint64_t t0 = time_mono_ns();
	uint8_t b[512];

	while ((int)((time_mono_ns() - t0) / 1000000) < max_ms) {
		if (readable(fd, 100) && read(fd, b, sizeof(b)) <= 0)
			return (long)((time_mono_ns() - t0) / 1000000);
	}
	return -1;
}

static int cmd_tcp_slow(void)
{
	uint8_t q[512];
	int ql = dns_query_build(q + 2, sizeof(q) - 2, 9, "web", DNS_T_A, 0);
	int fd = sock_open(SOCK_STREAM);
	uint64_t t0 = time_mono_ns();

	dns_put16(q, (uint16_t)ql);
	for (int i = 0; i < ql + 2; i++) {
		if (write(fd, q + i, 1) != 1 || (readable(fd, 400) && ms_until_closed(fd, 1) >= 0)) {
			printf("closed after %ld ms\n", (long)((time_mono_ns() - t0) / 1000000));
			return 0;
		}
	}
	printf("served\n");
	return 0;
}

static int cmd_tcp_half(int count)
{
	uint8_t q[512];
	int ql = dns_query_build(q + 2, sizeof(q) - 2, 9, "web", DNS_T_A, 0);
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	dns_put16(q, (uint16_t)ql);
	for (int i = 0; i < count; i++) {
		int fd = sock_open(SOCK_STREAM);

		if (write(fd, q, (size_t)(ql + 2) / 2) < 0)
			return 2;
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(fd);     /* RST */
	}
	printf("done %d\n", count);
	return 0;
}

static int cmd_tcp_big(void)
{
	uint8_t pkt[4100] = { 0xff, 0xff };
	int fd = sock_open(SOCK_STREAM);

	if (write(fd, pkt, sizeof(pkt)) < 0) {
		printf("closed\n");
		return 0;
	}
	printf("%s\n", ms_until_closed(fd, 3000) >= 0 ? "closed" : "open");
	return 0;
}

static int cmd_tcp_flood(int count)
{
	int *fds = xcalloc((size_t)count, sizeof(int)), kept = 0;

	for (int i = 0; i < count; i++)
		fds[i] = sock_open(SOCK_STREAM);
	for (int i = 0; i < count; i++) {     /* the server closes those over its limits */
		uint8_t b;

		if (!(readable(fds[i], 300) && read(fds[i], &b, 1) <= 0))
			kept++;
	}
	printf("kept %d of %d\n", kept, count);
	for (int i = 0; i < count; i++)
		close(fds[i]);
	free(fds);
	return 0;
}

static int cmd_tcp_pipeline(void)
{
	uint8_t q[1024], a[DNS_MSG_MAX];
	int l1 = dns_query_build(q + 2, 500, 1, "web", DNS_T_A, 0), l2, fd, got = 0;

	dns_put16(q, (uint16_t)l1);
	l2 = dns_query_build(q + 4 + l1, 500, 2, "web", DNS_T_AAAA, 0);
	dns_put16(q + 2 + l1, (uint16_t)l2);
	fd = sock_open(SOCK_STREAM);
	if (write(fd, q, (size_t)(l1 + l2 + 4)) != l1 + l2 + 4)
		return 2;
	while (got < 2 && tcp_read_msg(fd, a, sizeof(a), wait_ms) > 0)
		got++;
	printf("answers %d\n", got);
	return 0;
}

/* A query for NAME, with its TCP length prefix when tcp. Returns the length. */
static size_t query_make(uint8_t *out, size_t cap, const char *name, uint16_t id, bool tcp)
{
	int ql = dns_query_build(out + (tcp ? 2 : 0), cap - 2, id, name, DNS_T_A, 0);

	if (ql < 0)
		exit(2);
	if (tcp)
		dns_put16(out, (uint16_t)ql);
	return (size_t)ql + (tcp ? 2 : 0);
}

static int cmd_flood(int ms)
{
	int fd = sock_open(SOCK_DGRAM);
	uint64_t t0 = time_mono_ns();
	unsigned long sent = 0, replies = 0;
	uint8_t q[512], a[DNS_MSG_MAX];
	char name[64];

	while (ms_since(t0) < ms) {
		for (int k = 0; k < 20; k++) {
			snprintf(name, sizeof(name), "f%lu-%d.flood.example", sent, (int)getpid());
			if (send(fd, q, query_make(q, sizeof(q), name, (uint16_t)sent, false),
				 MSG_DONTWAIT) >= 0)
				sent++;
		}
		while (recv(fd, a, sizeof(a), MSG_DONTWAIT) > 0)
			replies++;
		poll(NULL, 0, 1);       /* pacing: ~20 queries per ms */
	}
	printf("sent %lu replies %lu\n", sent, replies);
	return 0;
}

static int tcp_ask(int fd, unsigned long seq)
{
	uint8_t q[512];
	char name[64];
	size_t n;

	snprintf(name, sizeof(name), "h%lu-%d.hold.example", seq, (int)getpid());
	n = query_make(q, sizeof(q), name, (uint16_t)seq, true);
	return write(fd, q, n) == (ssize_t)n ? 0 : -1;
}

static int cmd_tcp_hold(int count, int ms)
{
	_cleanup_free_ struct pollfd *p = xcalloc((size_t)count, sizeof(*p));
	uint64_t t0 = time_mono_ns();
	unsigned long seq = 0, answers = 0;
	uint8_t a[DNS_MSG_MAX];

	for (int i = 0; i < count; i++) {
		p[i] = (struct pollfd){ .fd = sock_open(SOCK_STREAM), .events = POLLIN };
		tcp_ask(p[i].fd, seq++);
	}
	while (ms_since(t0) < ms) {
		if (poll(p, (nfds_t)count, 100) <= 0)
			continue;
		for (int i = 0; i < count; i++) {
			if (!p[i].revents)
				continue;
			if (tcp_read_msg(p[i].fd, a, sizeof(a), 100) >= DNS_HDR_LEN)
				answers++;
			else {       /* closed by the server: a new connection */
				close(p[i].fd);
				p[i].fd = sock_open(SOCK_STREAM);
			}
			tcp_ask(p[i].fd, seq++);
		}
	}
	for (int i = 0; i < count; i++)
		close(p[i].fd);
	printf("answers %lu\n", answers);
	return 0;
}

static bool tcp_reset(int fd)
{
	struct pollfd p = { .fd = fd, .events = 0 };

	return poll(&p, 1, 0) > 0 && (p.revents & (POLLERR | POLLHUP));
}

static int cmd_tcp_noread(int ms)
{
	int fd = sock_open_opt(SOCK_STREAM, true);
	uint8_t q[64 * 100];
	size_t ql = query_make(q, 64, "web", 1, true);
	uint64_t t0 = time_mono_ns(), last = 0;

	for (int i = 1; i < 100; i++)
		memcpy(q + (size_t)i * ql, q, ql);
	for (int i = 0; i < 25; i++)
		if (send(fd, q, ql * 100, MSG_NOSIGNAL) < 0)
			break;
	while (ms_since(t0) < ms) {
		if (tcp_reset(fd)) {
			printf("closed after %ld ms\n", ms_since(t0));
			return 0;
		}
		if (ms_since(t0) - (long)last >= 1000) {     /* not idle: a query a second */
			last = (uint64_t)ms_since(t0);
			send(fd, q, ql, MSG_DONTWAIT | MSG_NOSIGNAL);
		}
		poll(NULL, 0, 20);
	}
	printf("open\n");
	return 0;
}

static int cmd_tcp_slowread(unsigned long goal, int ms)
{
	int fd = sock_open_opt(SOCK_STREAM, true);
	uint8_t q[64], buf[4096];
	size_t ql = query_make(q, sizeof(q), "web", 1, true);
	size_t alen = ql + 16;                 /* the answer: the query plus one A record */
	uint64_t t0 = time_mono_ns(), asked = 0, got = 0;

	while (ms_since(t0) < ms && got / alen < goal) {
		ssize_t n;

		for (; (asked - got / alen) * alen < 100 * 1024; asked++)
			if (send(fd, q, ql, MSG_NOSIGNAL) != (ssize_t)ql)
				break;     /* closed: the read below sees it */
		if (!readable(fd, 100))
			continue;
		n = read(fd, buf, sizeof(buf));
		if (n <= 0) {
			printf("closed after %ld ms\n", ms_since(t0));
			return 0;
		}
		got += (uint64_t)n;
	}
	printf("answers %lu in %ld ms\n", (unsigned long)(got / alen), ms_since(t0));
	return 0;
}

int main(int argc, char **argv)
{
	const char *srv = DNS_LISTEN_ADDR;
	int opt;

	while ((opt = getopt(argc, argv, "s:te:w:")) != -1) {
		if (opt == 's')
			srv = optarg;
		else if (opt == 't')
			use_tcp = true;
		else if (opt == 'e')
			edns = atoi(optarg);
		else if (opt == 'w')
			wait_ms = atoi(optarg);
		else
			return 2;
	}
	if (optind >= argc || ip_parse(srv, &server, NULL) < 0) {
		fprintf(stderr, "usage: see the comment at the top of tests/helpers/dns_probe.c\n");
		return 2;
	}
	const char *cmd = argv[optind], *a1 = optind + 1 < argc ? argv[optind + 1] : NULL;
	const char *a2 = optind + 2 < argc ? argv[optind + 2] : NULL;

	if (!strcmp(cmd, "query") && a1)
		return cmd_query(a1, a2);
	if (!strcmp(cmd, "raw") && a1)
		return cmd_raw(a1);
	if (!strcmp(cmd, "garbage") && a1)
		return cmd_garbage(atoi(a1));
	if (!strcmp(cmd, "tcp-slow"))
		return cmd_tcp_slow();
	if (!strcmp(cmd, "tcp-idle")) {
		printf("closed after %ld ms\n", ms_until_closed(sock_open(SOCK_STREAM), 20000));
		return 0;
	}
	if (!strcmp(cmd, "tcp-half") && a1)
		return cmd_tcp_half(atoi(a1));
	if (!strcmp(cmd, "tcp-big"))
		return cmd_tcp_big();
	if (!strcmp(cmd, "tcp-flood") && a1)
		return cmd_tcp_flood(atoi(a1));
	if (!strcmp(cmd, "tcp-pipeline"))
		return cmd_tcp_pipeline();
	if (!strcmp(cmd, "flood") && a1)
		return cmd_flood(atoi(a1));
	if (!strcmp(cmd, "tcp-hold") && a1 && a2)
		return cmd_tcp_hold(atoi(a1), atoi(a2));
	if (!strcmp(cmd, "tcp-noread") && a1)
		return cmd_tcp_noread(atoi(a1));
	if (!strcmp(cmd, "tcp-slowread") && a1 && a2)
		return cmd_tcp_slowread(strtoul(a1, NULL, 10), atoi(a2));
	fprintf(stderr, "dns_probe: unknown command %s\n", cmd);
	return 2;
}

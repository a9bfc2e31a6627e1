/* SPDX-License-Identifier: Apache-2.0 */
/* fakedns: a tiny upstream DNS server for the embedded DNS tests.
 *
 *   fakedns ADDR COUNTFILE MODE [ANSWER_IPV4]
 *
 * Listens on ADDR:53 (UDP and TCP). Every query received (UDP datagram or TCP message) bumps the
 * count written to COUNTFILE ("-": no count). MODE: normal | silent (counts, never answers) |
 * servfail | refused | truncate (UDP answers have TC set and no records; TCP answers in full) |
 * spoof (as normal, but each UDP query is logged as "PORT ID NAME" to COUNTFILE.log, and some
 * names get a forged answer first, A 6.6.6.N: badid* with another ID, badport* from port 5353,
 * badq* for another question, blind* sent to the port the previous query came from).
 * Records: nx.* -> NXDOMAIN; big.* -> 60 A records (truncated over plain UDP); other A ->
 * ANSWER_IPV4 (default 198.51.100.1); AAAA -> 2001:db8::1; anything else: no records. EDNS is
 * echoed. */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/util.h"
#include "dns/dns.h"
#include "dns/dns_internal.h"

static const char *count_file, *mode;
static struct ipaddr answer4;
static unsigned long count;
static int spoof_fd = -1;          /* spoof mode: ADDR:5353 */
static uint16_t last_port;         /* spoof mode: where the previous query came from */

static void count_bump(void)
{
	char buf[32];
	int n;

	if (strcmp(count_file, "-") == 0)      /* no counting (benchmarks) */
		return;
	n = snprintf(buf, sizeof(buf), "%lu\n", ++count);

	write_file_atomic(count_file, buf, (size_t)n, 0644, NULL);
}

static size_t records(const struct dns_query *q, struct dns_rr *rrs, int *rcode)
{
	size_t n = 0;

	*rcode = DNS_R_NOERROR;
	if (strncmp(q->name, "nx.", 3) == 0) {
		*rcode = DNS_R_NXDOMAIN;
		return 0;
	}
	if (q->qtype == DNS_T_A && strncmp(q->name, "big.", 4) == 0) {
		for (n = 0; n < 60; n++) {
			memset(&rrs[n], 0, sizeof(rrs[n]));
			rrs[n].type = DNS_T_A;
			rrs[n].ttl = 60;
			ip_parse("203.0.113.0", &rrs[n].ip, NULL);
			rrs[n].ip.b[3] = (uint8_t)(n + 1);
		}
		return n;
	}
	memset(rrs, 0, sizeof(*rrs));
	rrs[0].ttl = 60;
	if (q->qtype == DNS_T_A) {
		rrs[0].type = DNS_T_A;
		rrs[0].ip = answer4;
		return 1;
	}
	if (q->qtype == DNS_T_AAAA) {
		rrs[0].type = DNS_T_AAAA;
		ip_parse("2001:db8::1", &rrs[0].ip, NULL);
		return 1;
	}
	return 0;
}

/* The answer to msg in out, or -1 for no answer. */
static int answer(const uint8_t *msg, size_t len, bool tcp, uint8_t *out, size_t cap)
{
	struct dns_rr rrs[64];
	struct dns_query q;
	int rcode;
	size_t n;

	count_bump();
	if (strcmp(mode, "silent") == 0 || dns_query_parse(msg, len, &q) < 0)
		return -1;
	n = records(&q, rrs, &rcode);
	if (strcmp(mode, "servfail") == 0)
		rcode = DNS_R_SERVFAIL, n = 0;
	if (strcmp(mode, "refused") == 0)
		rcode = DNS_R_REFUSED, n = 0;
	if (!tcp && strcmp(mode, "truncate") == 0) {
		int r = dns_reply_build(out, cap, msg, &q, rcode, NULL, 0);

		dns_put16(out + 2, dns_get16(out + 2) | DNS_F_TC);
		return r;
	}
	return dns_reply_build(out, tcp ? cap : q.edns_size, msg, &q, rcode, rrs, n);
}

static uint16_t *sa_port(struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET ? &((struct sockaddr_in *)ss)->sin_port
					: &((struct sockaddr_in6 *)ss)->sin6_port;
}

static void spoof_log(const struct dns_query *q, uint16_t port)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s.log", count_file);
	f = fopen(path, "a");
	if (!f)
		return;
	fprintf(f, "%u %u %s\n", port, q->id, q->name);
	fclose(f);
}

/* The forged answer (A 6.6.6.n) that a name asks for, sent before the real one. */
static void spoof_send(int fd, const uint8_t *msg, size_t len, const struct dns_query *q,
		       struct sockaddr_storage ss, socklen_t sl)
{
	static const char *const kinds[] = { "badid", "badport", "badq", "blind" };
	uint8_t in[4096], out[4096];
	struct dns_rr rr = { .type = DNS_T_A, .ttl = 60 };
	struct dns_query fq = *q;
	size_t k;
	int r;

	for (k = 0; k < 4 && strncmp(q->name, kinds[k], strlen(kinds[k])) != 0; k++)
		;
	if (k == 4 || len > sizeof(in))
		return;
	ip_parse("6.6.6.0", &rr.ip, NULL);
	rr.ip.b[3] = (uint8_t)(k + 1);
	memcpy(in, msg, len);
	if (k == 0)
		fq.id = (uint16_t)(q->id + 1);
	if (k == 2)
		in[DNS_HDR_LEN + 1] = 'x';         /* the first letter of the name */
	if (k == 3)
		*sa_port(&ss) = htons(last_port);
	dns_put16(in, fq.id);
	r = dns_reply_build(out, sizeof(out), in, &fq, DNS_R_NOERROR, &rr, 1);
	if (r > 0)
		sendto(k == 1 ? spoof_fd : fd, out, (size_t)r, 0, (struct sockaddr *)&ss, sl);
}

static void serve_spoof(int fd, const uint8_t *msg, size_t len, struct sockaddr_storage *ss,
			socklen_t sl)
{
	struct dns_query q;

	if (dns_query_parse(msg, len, &q) < 0)
		return;
	spoof_log(&q, ntohs(*sa_port(ss)));
	spoof_send(fd, msg, len, &q, *ss, sl);
	last_port = ntohs(*sa_port(ss));
}

static void serve_udp(int fd)
{
	uint8_t in[4096], out[DNS_MSG_MAX];
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	ssize_t n = recvfrom(fd, in, sizeof(in), 0, (struct sockaddr *)&ss, &sl);
	int r;

	if (n <= 0)
		return;
	if (spoof_fd >= 0)
		serve_spoof(fd, in, (size_t)n, &ss, sl);
	r = answer(in, (size_t)n, false, out, sizeof(out));
	if (r > 0)
		sendto(fd, out, (size_t)r, 0, (struct sockaddr *)&ss, sl);
}

static bool read_full(int fd, uint8_t *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 2000) <= 0)
			return false;
		n = read(fd, buf + done, len - done);
		if (n <= 0)
			return false;
		done += (size_t)n;
	}
	return true;
}

static void serve_tcp(int lfd)
{
	uint8_t in[DNS_MSG_MAX + 2], out[DNS_MSG_MAX + 2];
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC), r;

	if (fd < 0)
		return;
	while (read_full(fd, in, 2) && read_full(fd, in + 2, dns_get16(in))) {
		r = answer(in + 2, dns_get16(in), true, out + 2, DNS_MSG_MAX);
		if (r < 0)
			continue;
		dns_put16(out, (uint16_t)r);
		if (write(fd, out, (size_t)r + 2) != r + 2)
			break;
	}
	close(fd);
}

static int listen_on(const struct ipaddr *a, uint16_t port, int type)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd = socket(a->family, type | SOCK_CLOEXEC, 0), one = 1;

	dns_sockaddr(a, port, &ss, &sl);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, sl) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 16) < 0)) {
		perror("fakedns: bind");
		exit(1);
	}
	return fd;
}

int main(int argc, char **argv)
{
	struct pollfd p[2];
	struct ipaddr a;

	if (argc < 4 || ip_parse(argv[1], &a, NULL) < 0) {
		fprintf(stderr, "usage: fakedns ADDR COUNTFILE MODE [ANSWER_IPV4]\n");
		return 2;
	}
	count_file = argv[2];
	mode = argv[3];
	ip_parse(argc > 4 ? argv[4] : "198.51.100.1", &answer4, NULL);
	p[0] = (struct pollfd){ .fd = listen_on(&a, 53, SOCK_DGRAM), .events = POLLIN };
	p[1] = (struct pollfd){ .fd = listen_on(&a, 53, SOCK_STREAM), .events = POLLIN };
	if (strcmp(mode, "spoof") == 0)
		spoof_fd = listen_on(&a, 5353, SOCK_DGRAM);
	if (strcmp(count_file, "-") != 0)
		write_file_atomic(count_file, "0\n", 2, 0644, NULL);    /* also: ready */
	for (;;) {
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			return 1;
		if (p[0].revents & POLLIN)
			serve_udp(p[0].fd);
		if (p[1].revents & POLLIN)
			serve_tcp(p[1].fd);
	}
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Test helper for the anti-spoofing rules (statically linked, copied into containers):
 *   spoof send IFACE ip4 SRC DST DSTMAC          IPv4/UDP from any source, payload BERTHSPOOF
 *   spoof send IFACE ip6 SRC DST DSTMAC          IPv6/UDP likewise
 *   spoof send IFACE mac SRCMAC SRC DST DSTMAC   IPv4/UDP with a forged Ethernet source
 *   spoof send IFACE arp SENDERIP                gratuitous ARP reply claiming SENDERIP
 *   spoof send IFACE icmp6 TYPE SRC [TARGET]     ICMPv6 134 (RA) / 137 (redirect) / 136 (NA for
 *                                                TARGET) to ff02::1
 *   spoof recv IFACE SECONDS marker|arp:IP|icmp6:TYPE   count matching frames, print the count
 * Sends through AF_PACKET (needs CAP_NET_RAW). Self-contained: no berth library. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MARKER "BERTHSPOOF"

static int die(const char *what)
{
	fprintf(stderr, "spoof: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void mac_parse(const char *s, uint8_t m[6])
{
	unsigned v[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6) {
		fprintf(stderr, "spoof: bad MAC %s\n", s);
		exit(2);
	}
	for (int i = 0; i < 6; i++)
		m[i] = (uint8_t)v[i];
}

static uint16_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint16_t csum(const void *data, size_t len) { return htons((uint16_t)~csum_add(0, data, len)); }

/* IPv6 upper-layer checksum over the pseudo header. */
static uint16_t csum6(const uint8_t *src, const uint8_t *dst, uint8_t nh, const void *l4, size_t len)
{
	uint8_t ph[40] = { 0 };
	uint32_t s;

	memcpy(ph, src, 16);
	memcpy(ph + 16, dst, 16);
	ph[34] = (uint8_t)(len >> 8);
	ph[35] = (uint8_t)len;
	ph[39] = nh;
	s = csum_add(0, ph, sizeof(ph));
	return htons((uint16_t)~csum_add(s, l4, len));
}

struct frame {
	uint8_t b[1500];
	size_t len;
};

static void eth(struct frame *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	memcpy(f->b, dst, 6);
	memcpy(f->b + 6, src, 6);
	f->b[12] = (uint8_t)(type >> 8);
	f->b[13] = (uint8_t)type;
	f->len = 14;
}

static void udp4(struct frame *f, const char *src, const char *dst)
{
	uint8_t *ip = f->b + f->len, *udp = ip + 20;
	size_t plen = strlen(MARKER);

	memset(ip, 0, 28);
	ip[0] = 0x45;
	ip[2] = 0;
	ip[3] = (uint8_t)(28 + plen);
	ip[8] = 64;
	ip[9] = IPPROTO_UDP;
	inet_pton(AF_INET, src, ip + 12);
	inet_pton(AF_INET, dst, ip + 16);
	memcpy(ip + 10, &(uint16_t){ csum(ip, 20) }, 2);
	udp[0] = 0x9c; udp[1] = 0x40;      /* 40000 */
	udp[2] = 0x14; udp[3] = 0xb4;      /* 5300 */
	udp[5] = (uint8_t)(8 + plen);
	memcpy(udp + 8, MARKER, plen);
	f->len += 28 + plen;
}

static void udp6(struct frame *f, const char *src, const char *dst)
{
	uint8_t *ip = f->b + f->len, *udp = ip + 40;
	size_t plen = strlen(MARKER), l4 = 8 + plen;

	memset(ip, 0, 48);
	ip[0] = 0x60;
	ip[5] = (uint8_t)l4;
	ip[6] = IPPROTO_UDP;
	ip[7] = 64;
	inet_pton(AF_INET6, src, ip + 8);
	inet_pton(AF_INET6, dst, ip + 24);
	udp[0] = 0x9c; udp[1] = 0x40;
	udp[2] = 0x14; udp[3] = 0xb4;
	udp[5] = (uint8_t)l4;
	memcpy(udp + 8, MARKER, plen);
	memcpy(udp + 6, &(uint16_t){ csum6(ip + 8, ip + 24, IPPROTO_UDP, udp, l4) }, 2);
	f->len += 40 + l4;
}

static void arp_reply(struct frame *f, const uint8_t *mac, const char *sender)
{
	uint8_t *a = f->b + f->len;

	memcpy(a, "\x00\x01\x08\x00\x06\x04\x00\x02", 8);   /* reply */
	memcpy(a + 8, mac, 6);
	inet_pton(AF_INET, sender, a + 14);
	memset(a + 18, 0xff, 6);
	inet_pton(AF_INET, sender, a + 24);                  /* gratuitous */
	f->len += 28;
}

static void icmp6(struct frame *f, int type, const char *src, const char *target)
{
	uint8_t *ip = f->b + f->len, *ic = ip + 40;
	size_t l4 = type == 134 ? 16 : type == 137 ? 40 : 24;

	memset(ip, 0, 40 + l4);
	ip[0] = 0x60;
	ip[5] = (uint8_t)l4;
	ip[6] = IPPROTO_ICMPV6;
	ip[7] = 255;
	inet_pton(AF_INET6, src, ip + 8);
	inet_pton(AF_INET6, "ff02::1", ip + 24);
	ic[0] = (uint8_t)type;
	if (type == 134) {
		ic[4] = 64;          /* hop limit */
		ic[6] = 0x0e;        /* router lifetime 3600 */
		ic[7] = 0x10;
	} else if (type == 136) {
		ic[4] = 0x20;        /* override */
		inet_pton(AF_INET6, target ? target : src, ic + 8);
	} else if (type == 137) {
		inet_pton(AF_INET6, target ? target : src, ic + 8);
		inet_pton(AF_INET6, target ? target : src, ic + 24);
	}
	memcpy(ic + 2, &(uint16_t){ csum6(ip + 8, ip + 24, IPPROTO_ICMPV6, ic, l4) }, 2);
	f->len += 40 + l4;
}

static int sock_open(const char *ifname, int *ret_index, uint8_t mac[6])
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_PACKET, SOCK_RAW, htons(0x0003 /* ETH_P_ALL */));

	if (fd < 0)
		die("socket(AF_PACKET)");
	strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
	if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0)
		die(ifname);
	*ret_index = ifr.ifr_ifindex;
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		die("SIOCGIFHWADDR");
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return fd;
}

static int do_send(int argc, char **argv)
{
	uint8_t mac[6], dst[6], bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t all6[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	struct sockaddr_ll sa = { .sll_family = AF_PACKET, .sll_halen = 6 };
	struct frame f;
	const char *kind = argv[3];
	int idx, fd = sock_open(argv[2], &idx, mac);

	sa.sll_ifindex = idx;
	if (!strcmp(kind, "ip4") && argc >= 7) {
		mac_parse(argv[6], dst);
		eth(&f, dst, mac, 0x0800);
		udp4(&f, argv[4], argv[5]);
	} else if (!strcmp(kind, "ip6") && argc >= 7) {
		mac_parse(argv[6], dst);
		eth(&f, dst, mac, 0x86dd);
		udp6(&f, argv[4], argv[5]);
	} else if (!strcmp(kind, "mac") && argc >= 8) {
		uint8_t fake[6];

		mac_parse(argv[4], fake);
		mac_parse(argv[7], dst);
		eth(&f, dst, fake, 0x0800);
		udp4(&f, argv[5], argv[6]);
	} else if (!strcmp(kind, "arp") && argc >= 5) {
		eth(&f, bcast, mac, 0x0806);
		arp_reply(&f, mac, argv[4]);
	} else if (!strcmp(kind, "icmp6") && argc >= 6) {
		eth(&f, all6, mac, 0x86dd);
		icmp6(&f, atoi(argv[4]), argv[5], argc > 6 ? argv[6] : NULL);
	} else {
		fprintf(stderr, "spoof: bad send arguments\n");
		return 2;
	}
	memcpy(sa.sll_addr, f.b, 6);
	for (int i = 0; i < 3; i++)
		if (sendto(fd, f.b, f.len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			die("sendto");
	return 0;
}

static int frame_matches(const uint8_t *b, size_t n, const char *what)
{
	uint16_t type = n >= 14 ? (uint16_t)(b[12] << 8 | b[13]) : 0;

	if (!strcmp(what, "marker"))
		return memmem(b, n, MARKER, strlen(MARKER)) != NULL;
	if (!strncmp(what, "arp:", 4)) {
		uint8_t ip[4];

		inet_pton(AF_INET, what + 4, ip);
		return type == 0x0806 && n >= 42 && !memcmp(b + 28, ip, 4);
	}
	if (!strncmp(what, "icmp6:", 6))
		return type == 0x86dd && n >= 55 && b[20] == IPPROTO_ICMPV6 && b[54] == atoi(what + 6);
	return 0;
}

static int do_recv(char **argv)
{
	uint8_t mac[6], buf[2048];
	int idx, fd = sock_open(argv[2], &idx, mac), count = 0;
	struct sockaddr_ll sa = { .sll_family = AF_PACKET, .sll_protocol = htons(0x0003) };
	struct timespec t0, t;
	int ms = atoi(argv[3]) * 1000;

	sa.sll_ifindex = idx;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("bind");
	printf("ready\n");
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left;

		clock_gettime(CLOCK_MONOTONIC, &t);
		left = ms - (int)((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0 || poll(&p, 1, left) <= 0)
			break;
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n > 0 && frame_matches(buf, (size_t)n, argv[4]))
			count++;
	}
	printf("%d\n", count);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 5 && !strcmp(argv[1], "send"))
		return do_send(argc, argv);
	if (argc >= 5 && !strcmp(argv[1], "recv"))
		return do_recv(argv);
	fprintf(stderr, "usage: spoof send IFACE KIND ... | spoof recv IFACE SECONDS MATCH\n");
	return 2;
}

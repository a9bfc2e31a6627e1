/* SPDX-License-Identifier: Apache-2.0 */
/* What the probe sends and how it reads what comes back. Every read is length-checked: the
 * answers come from containers. */
#include <netinet/in.h>

#include "common/util.h"
#include "probe/probe_internal.h"

#define ICMP_HDR 8
#define IP6_HDR 40

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t inet_csum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

size_t probe_echo_build(int family, uint16_t id, uint16_t seq, const struct probe_payload *p,
			uint8_t *out, size_t cap)
{
	size_t len = ICMP_HDR + sizeof(*p);

	if (cap < len)
		return 0;
	memset(out, 0, ICMP_HDR);
	out[0] = family == 4 ? 8 : 128;   /* echo request; ICMPv6: the kernel sums it */
	put16(out + 4, id);
	put16(out + 6, seq);
	memcpy(out + ICMP_HDR, p, sizeof(*p));
	if (family == 4)
		put16(out + 2, inet_csum(out, len));
	return len;
}

/* The echo header (+ payload) at icmp, len bytes. */
static int echo_read(const uint8_t *icmp, size_t len, int echo_type, struct icmp_answer *ret)
{
	if (len < ICMP_HDR || icmp[0] != echo_type)
		return -EINVAL;
	ret->id = get16(icmp + 4);
	ret->seq = get16(icmp + 6);
	ret->has_payload = len >= ICMP_HDR + sizeof(ret->p);
	if (ret->has_payload)
		memcpy(&ret->p, icmp + ICMP_HDR, sizeof(ret->p));
	return 0;
}

/* An error quotes the packet it is about: our echo request. */
static int error_read(int family, const uint8_t *inner, size_t len, struct icmp_answer *ret)
{
	size_t ihl;

	if (family == 4) {
		if (len < 20 || (inner[0] >> 4) != 4 || inner[9] != IPPROTO_ICMP)
			return -EINVAL;
		ihl = (size_t)(inner[0] & 0xf) * 4;
		if (ihl < 20 || ihl > len)
			return -EINVAL;
		return echo_read(inner + ihl, len - ihl, 8, ret);
	}
	if (len < IP6_HDR || (inner[0] >> 4) != 6 || inner[6] != IPPROTO_ICMPV6)
		return -EINVAL;
	return echo_read(inner + IP6_HDR, len - IP6_HDR, 128, ret);
}

int probe_icmp_parse(int family, const uint8_t *buf, size_t len, const struct ipaddr *from,
		     struct icmp_answer *ret)
{
	const uint8_t *icmp = buf;
	size_t ihl;

	memset(ret, 0, sizeof(*ret));
	if (family == 4) {   /* a raw IPv4 socket reads the IP header too */
		if (len < 20 || (buf[0] >> 4) != 4)
			return -EINVAL;
		ihl = (size_t)(buf[0] & 0xf) * 4;
		if (ihl < 20 || ihl + ICMP_HDR > len)
			return -EINVAL;
		ret->from.family = AF_INET;
		memcpy(ret->from.b, buf + 12, 4);
		icmp = buf + ihl;
		len -= ihl;
	} else if (from) {
		ret->from = *from;
	}
	if (len < ICMP_HDR)
		return -EINVAL;
	ret->type = icmp[0];
	ret->code = icmp[1];
	ret->reply = icmp[0] == (family == 4 ? 0 : 129);
	if (ret->reply)
		return echo_read(icmp, len, icmp[0], ret);
	return error_read(family, icmp + ICMP_HDR, len - ICMP_HDR, ret);
}

int probe_observed_parse(const uint8_t *buf, size_t len, struct ipaddr *ret_dst,
			 uint16_t *ret_dport, struct probe_payload *ret_p)
{
	size_t off;

	memset(ret_dst, 0, sizeof(*ret_dst));
	if (len >= 20 && (buf[0] >> 4) == 4 && buf[9] == IPPROTO_UDP) {
		off = (size_t)(buf[0] & 0xf) * 4;
		ret_dst->family = AF_INET;
		memcpy(ret_dst->b, buf + 16, 4);
	} else if (len >= IP6_HDR && (buf[0] >> 4) == 6 && buf[6] == IPPROTO_UDP) {
		off = IP6_HDR;
		ret_dst->family = AF_INET6;
		memcpy(ret_dst->b, buf + 24, 16);
	} else {
		return -EINVAL;
	}
	if (off < 20 || off + 8 + sizeof(*ret_p) > len)
		return -EINVAL;
	*ret_dport = get16(buf + off + 2);
	memcpy(ret_p, buf + off + 8, sizeof(*ret_p));
	return ret_p->magic == PROBE_MAGIC_UDP ? 0 : -EINVAL;
}

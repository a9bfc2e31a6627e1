/* SPDX-License-Identifier: Apache-2.0 */
/* DNS wire format: a length-checked reader of queries and replies and a bounded writer of
 * replies. Untrusted bytes only pass through the cursor below; every loop has a bound. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dns/dns.h"

#define PTR_HOPS_MAX 16
#define RR_FIXED 10      /* type, class, ttl, rdlength */

/* ---- names ---- */

static bool label_char_plain(uint8_t c)
{
	return c > 0x20 && c < 0x7f && c != '.' && c != '\\';
}

static char lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : (char)c;
}

/* Appends one label to out (at *olen), lower-cased; odd bytes become '?'. */
static int label_append(const uint8_t *p, size_t n, char *out, size_t *olen, bool *odd)
{
	if (*olen + n + 1 > DNS_NAME_MAX)
		return -EBADMSG;
	if (*olen)
		out[(*olen)++] = '.';
	for (size_t i = 0; i < n; i++) {
		if (!label_char_plain(p[i]))
			*odd = true;
		out[(*olen)++] = label_char_plain(p[i]) ? lower(p[i]) : '?';
	}
	out[*olen] = '\0';
	return 0;
}

int dns_name_read(const uint8_t *msg, size_t len, size_t *off, char ret[DNS_NAME_MAX + 1],
		  bool *ret_odd)
{
	size_t pos = *off, olen = 0, wire = 0, end = 0;
	int hops = 0;
	bool odd = false, jumped = false;

	ret[0] = '\0';
	for (;;) {
		if (pos >= len)
			return -EBADMSG;
		uint8_t l = msg[pos];

		if ((l & 0xc0) == 0xc0) {
			if (pos + 1 >= len || ++hops > PTR_HOPS_MAX)
				return -EBADMSG;
			size_t target = (size_t)(l & 0x3f) << 8 | msg[pos + 1];

			if (target >= pos)     /* only backwards: no loops */
				return -EBADMSG;
			if (!jumped)
				end = pos + 2;
			jumped = true;
			pos = target;
			continue;
		}
		if (l & 0xc0)              /* 0x40 / 0x80: extended label types, obsolete */
			return -EBADMSG;
		wire += (size_t)l + 1;
		if (wire > 255 || pos + 1 + l > len)
			return -EBADMSG;
		if (l == 0)
			break;
		if (label_append(msg + pos + 1, l, ret, &olen, &odd) < 0)
			return -EBADMSG;
		pos += 1 + (size_t)l;
	}
	*off = jumped ? end : pos + 1;
	if (ret_odd)
		*ret_odd = odd;
	return 0;
}

int dns_name_write(const char *name, uint8_t *out, size_t cap)
{
	size_t o = 0, nlen = strlen(name);
	const char *p = name;

	if (nlen && name[nlen - 1] == '.')
		nlen--;
	while (p < name + nlen) {
		const char *dot = memchr(p, '.', (size_t)(name + nlen - p));
		size_t l = dot ? (size_t)(dot - p) : (size_t)(name + nlen - p);

		if (l == 0 || l > 63)
			return -EINVAL;
		if (o + 1 + l + 1 > cap || o + 1 + l + 1 > 255)
			return -ENAMETOOLONG;
		out[o++] = (uint8_t)l;
		memcpy(out + o, p, l);
		o += l;
		p += l + (dot ? 1 : 0);
	}
	if (o + 1 > cap)
		return -ENAMETOOLONG;
	out[o++] = 0;
	return (int)o;
}

/* ---- queries ---- */

/* Skips one resource record at *off; reports its type and class. */
static int rr_skip(const uint8_t *msg, size_t len, size_t *off, uint16_t *ret_type,
		   uint16_t *ret_class)
{
	char name[DNS_NAME_MAX + 1];
	size_t rdlen;

	if (dns_name_read(msg, len, off, name, NULL) < 0 || *off + RR_FIXED > len)
		return -EBADMSG;
	*ret_type = dns_get16(msg + *off);
	*ret_class = dns_get16(msg + *off + 2);
	rdlen = dns_get16(msg + *off + 8);
	if (*off + RR_FIXED + rdlen > len)
		return -EBADMSG;
	*off += RR_FIXED + rdlen;
	return 0;
}

/* Walks answer, authority and additional sections looking for one OPT record. */
static int query_sections(const uint8_t *msg, size_t len, size_t off, struct dns_query *q)
{
	unsigned total = (unsigned)dns_get16(msg + 6) + dns_get16(msg + 8) + dns_get16(msg + 10);
	unsigned opts = 0;

	if (total > len / 11)      /* the smallest record is 11 bytes */
		return -EBADMSG;
	for (unsigned i = 0; i < total; i++) {
		uint16_t type, class;

		if (rr_skip(msg, len, &off, &type, &class) < 0)
			return -EBADMSG;
		if (type != DNS_T_OPT)
			continue;
		if (++opts > 1)
			return -EBADMSG;
		q->edns = true;
		q->edns_size = class < DNS_UDP_LEGACY ? DNS_UDP_LEGACY : class;
	}
	return 0;
}

/* A pointer in the question could only point into the header: refuse it (replies copy the
 * question verbatim). The name [12, end) was read successfully before. */
static bool question_compressed(const uint8_t *msg, size_t end)
{
	for (size_t pos = DNS_HDR_LEN; pos < end && msg[pos]; pos += (size_t)msg[pos] + 1)
		if (msg[pos] & 0xc0)
			return true;
	return false;
}

int dns_query_parse(const uint8_t *msg, size_t len, struct dns_query *q)
{
	size_t off = DNS_HDR_LEN;

	memset(q, 0, sizeof(*q));
	if (!msg || len < DNS_HDR_LEN)
		return -EINVAL;
	q->id = dns_get16(msg);
	q->flags = dns_get16(msg + 2);
	q->edns_size = DNS_UDP_LEGACY;
	if (q->flags & DNS_F_QR)
		return -EINVAL;                  /* a reply: never answer it (no reflection) */
	if ((q->flags >> 11 & 0xf) != 0)
		return -EOPNOTSUPP;
	if (dns_get16(msg + 4) != 1)
		return -EBADMSG;
	if (dns_name_read(msg, len, &off, q->name, &q->odd_name) < 0 || off + 4 > len ||
	    question_compressed(msg, off))
		return -EBADMSG;
	q->qtype = dns_get16(msg + off);
	q->qclass = dns_get16(msg + off + 2);
	q->question_end = off + 4;
	return query_sections(msg, len, q->question_end, q);
}

/* ---- replies ---- */

static void header_write(uint8_t *out, uint16_t id, uint16_t qflags, int rcode, uint16_t qd)
{
	uint16_t flags = DNS_F_QR | DNS_F_RA | (qflags & DNS_F_RD) | (uint16_t)(rcode & 0xf);

	memset(out, 0, DNS_HDR_LEN);
	dns_put16(out, id);
	dns_put16(out + 2, flags);
	dns_put16(out + 4, qd);
}

int dns_error_build(uint8_t *out, size_t cap, const uint8_t *msg, size_t len, int rcode)
{
	if (cap < DNS_HDR_LEN || len < DNS_HDR_LEN)
		return -ENOSPC;
	header_write(out, dns_get16(msg), dns_get16(msg + 2) & ~0x7800, rcode, 0);
	return DNS_HDR_LEN;
}

/* One answer: a pointer to the question name, then the fixed part and the rdata. */
static int answer_write(uint8_t *out, size_t room, const struct dns_rr *rr)
{
	uint8_t rdata[DNS_NAME_MAX + 2];
	int rdlen;

	if (rr->type == DNS_T_A) {
		memcpy(rdata, rr->ip.b, 4);
		rdlen = 4;
	} else if (rr->type == DNS_T_AAAA) {
		memcpy(rdata, rr->ip.b, 16);
		rdlen = 16;
	} else {
		rdlen = dns_name_write(rr->target, rdata, sizeof(rdata));
		if (rdlen < 0)
			return rdlen;
	}
	if (room < 2 + RR_FIXED + (size_t)rdlen)
		return -ENOSPC;
	dns_put16(out, 0xc000 | DNS_HDR_LEN);
	dns_put16(out + 2, rr->type);
	dns_put16(out + 4, DNS_C_IN);
	dns_put16(out + 6, (uint16_t)(rr->ttl >> 16));
	dns_put16(out + 8, (uint16_t)rr->ttl);
	dns_put16(out + 10, (uint16_t)rdlen);
	memcpy(out + 12, rdata, (size_t)rdlen);
	return 12 + rdlen;
}

static size_t opt_write(uint8_t *out)
{
	out[0] = 0;                            /* root */
	dns_put16(out + 1, DNS_T_OPT);
	dns_put16(out + 3, 4096);              /* our UDP payload size */
	memset(out + 5, 0, 6);                 /* ext rcode, version, flags, rdlength */
	return 11;
}

int dns_reply_build(uint8_t *out, size_t limit, const uint8_t *msg, const struct dns_query *q,
		    int rcode, const struct dns_rr *rrs, size_t n)
{
	size_t qlen = q->question_end - DNS_HDR_LEN, off, opt = q->edns ? 11 : 0;
	unsigned an = 0;

	if (limit < DNS_HDR_LEN + qlen + opt)
		return -ENOSPC;
	header_write(out, q->id, q->flags, rcode, 1);
	dns_put16(out + 2, dns_get16(out + 2) | DNS_F_AA);
	memcpy(out + DNS_HDR_LEN, msg + DNS_HDR_LEN, qlen);    /* the question as asked */
	off = DNS_HDR_LEN + qlen;
	for (size_t i = 0; i < n; i++) {
		int w = answer_write(out + off, limit - off - opt, &rrs[i]);

		if (w == -ENOSPC) {           /* all or nothing: a truncated reply holds no answers */
			dns_put16(out + 2, dns_get16(out + 2) | DNS_F_TC);
			off = DNS_HDR_LEN + qlen;
			an = 0;
			break;
		}
		if (w < 0)
			continue;
		off += (size_t)w;
		an++;
	}
	dns_put16(out + 6, (uint16_t)an);
	if (opt) {
		off += opt_write(out + off);
		dns_put16(out + 10, 1);
	}
	return (int)off;
}

int dns_query_build(uint8_t *out, size_t cap, uint16_t id, const char *name, uint16_t type,
		    uint16_t edns_size)
{
	int nl;
	size_t off;

	if (cap < DNS_HDR_LEN + 4 + 11 + 1)
		return -ENOSPC;
	memset(out, 0, DNS_HDR_LEN);
	dns_put16(out, id);
	dns_put16(out + 2, DNS_F_RD);
	dns_put16(out + 4, 1);
	nl = dns_name_write(name, out + DNS_HDR_LEN, cap - DNS_HDR_LEN - 4 - 11);
	if (nl < 0)
		return nl;
	off = DNS_HDR_LEN + (size_t)nl;
	dns_put16(out + off, type);
	dns_put16(out + off + 2, DNS_C_IN);
	off += 4;
	if (edns_size) {
		off += opt_write(out + off);
		dns_put16(out + off - 8, edns_size);
		dns_put16(out + 10, 1);
	}
	return (int)off;
}

/* One answer record into ret (when of a type we show). */
static int answer_read(const uint8_t *msg, size_t len, size_t *off, struct dns_result *ret)
{
	char name[DNS_NAME_MAX + 1];
	struct dns_rr *rr = &ret->rrs[ret->n];
	size_t rd, rdlen;
	uint16_t type, class;

	if (dns_name_read(msg, len, off, name, NULL) < 0 || *off + RR_FIXED > len)
		return -EBADMSG;
	type = dns_get16(msg + *off);
	class = dns_get16(msg + *off + 2);
	rdlen = dns_get16(msg + *off + 8);
	rd = *off + RR_FIXED;
	if (rd + rdlen > len)
		return -EBADMSG;
	*off = rd + rdlen;
	if (ret->n >= sizeof(ret->rrs) / sizeof(ret->rrs[0]) || class != DNS_C_IN)
		return 0;
	memset(rr, 0, sizeof(*rr));
	rr->type = type;
	rr->ttl = (uint32_t)dns_get16(msg + rd - 6) << 16 | dns_get16(msg + rd - 4);
	if (type == DNS_T_A && rdlen == 4) {
		rr->ip.family = AF_INET;
		memcpy(rr->ip.b, msg + rd, 4);
	} else if (type == DNS_T_AAAA && rdlen == 16) {
		rr->ip.family = AF_INET6;
		memcpy(rr->ip.b, msg + rd, 16);
	} else if (type == DNS_T_PTR || type == DNS_T_CNAME) {
		size_t p = rd;

		if (dns_name_read(msg, rd + rdlen, &p, rr->target, NULL) < 0 || p != rd + rdlen)
			return -EBADMSG;
	} else {
		return 0;
	}
	ret->n++;
	return 0;
}

int dns_reply_parse(const uint8_t *msg, size_t len, struct dns_result *ret)
{
	size_t off = DNS_HDR_LEN;
	char name[DNS_NAME_MAX + 1];
	unsigned qd, an;

	memset(ret, 0, sizeof(*ret));
	if (len < DNS_HDR_LEN || !(dns_get16(msg + 2) & DNS_F_QR))
		return -EBADMSG;
	ret->rcode = dns_get16(msg + 2) & 0xf;
	ret->tc = dns_get16(msg + 2) & DNS_F_TC;
	qd = dns_get16(msg + 4);
	an = dns_get16(msg + 6);
	if (qd > 1 || an > len / 11)
		return -EBADMSG;
	for (unsigned i = 0; i < qd; i++)
		if (dns_name_read(msg, len, &off, name, NULL) < 0 || (off += 4) > len)
			return -EBADMSG;
	for (unsigned i = 0; i < an; i++)
		if (answer_read(msg, len, &off, ret) < 0)
			return ret->tc ? 0 : -EBADMSG;
	return 0;
}

bool dns_reply_matches(const uint8_t *q, size_t qlen, const uint8_t *a, size_t alen)
{
	struct dns_query pq;

	if (alen < DNS_HDR_LEN || dns_query_parse(q, qlen, &pq) < 0)
		return false;
	return dns_get16(a) == pq.id && (dns_get16(a + 2) & DNS_F_QR) &&
	       dns_get16(a + 4) == 1 && alen >= pq.question_end &&
	       memcmp(a + DNS_HDR_LEN, q + DNS_HDR_LEN, pq.question_end - DNS_HDR_LEN) == 0;
}

/* ---- reverse names ---- */

void dns_ptr_name(const struct ipaddr *a, char ret[DNS_NAME_MAX + 1])
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (a->family == AF_INET) {
		snprintf(ret, DNS_NAME_MAX + 1, "%u.%u.%u.%u.in-addr.arpa", a->b[3], a->b[2], a->b[1],
			 a->b[0]);
		return;
	}
	for (int i = 15; i >= 0; i--) {
		ret[o++] = hex[a->b[i] & 0xf];
		ret[o++] = '.';
		ret[o++] = hex[a->b[i] >> 4];
		ret[o++] = '.';
	}
	strcpy(ret + o, "ip6.arpa");
}

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static bool ptr6_parse(const char *name, struct ipaddr *ret)
{
	if (strlen(name) != 64 + 8 || strcmp(name + 64, "ip6.arpa") != 0)
		return false;
	memset(ret, 0, sizeof(*ret));
	ret->family = AF_INET6;
	for (int i = 0; i < 32; i++) {
		int v = nibble(name[2 * i]);

		if (v < 0 || name[2 * i + 1] != '.')
			return false;
		ret->b[15 - i / 2] |= (uint8_t)(i % 2 ? v << 4 : v);
	}
	return true;
}

bool dns_ptr_parse(const char *name, struct ipaddr *ret)
{
	unsigned o[4];
	int end = 0;

	if (ptr6_parse(name, ret))
		return true;
	if (sscanf(name, "%3u.%3u.%3u.%3u.in-addr.arpa%n", &o[0], &o[1], &o[2], &o[3], &end) != 4 ||
	    name[end] != '\0' || o[0] > 255 || o[1] > 255 || o[2] > 255 || o[3] > 255)
		return false;
	memset(ret, 0, sizeof(*ret));
	ret->family = AF_INET;
	for (int i = 0; i < 4; i++)
		ret->b[i] = (uint8_t)o[3 - i];
	return true;
}

/* ---- names of codes ---- */

static const struct {
	uint16_t type;
	const char *name;
} types[] = {
	{ DNS_T_A, "A" }, { DNS_T_NS, "NS" }, { DNS_T_CNAME, "CNAME" }, { DNS_T_SOA, "SOA" },
	{ DNS_T_PTR, "PTR" }, { DNS_T_MX, "MX" }, { DNS_T_TXT, "TXT" }, { DNS_T_AAAA, "AAAA" },
	{ DNS_T_ANY, "ANY" },
};

const char *dns_type_str(uint16_t type)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i].type == type)
			return types[i].name;
	return "?";
}

int dns_type_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcasecmp(types[i].name, s) == 0)
			return types[i].type;
	return -EINVAL;
}

const char *dns_rcode_str(int rcode)
{
	static const char *const names[] = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
					     "NOTIMP", "REFUSED" };

	return rcode >= 0 && rcode < 6 ? names[rcode] : "RCODE?";
}

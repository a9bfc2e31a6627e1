/* SPDX-License-Identifier: Apache-2.0 */
/* Object IDs, name validation, deterministic interface names and MAC addresses. */
#include "common/names.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/random.h>

#define FNV64_OFFSET 0xcbf29ce484222325ULL
#define FNV64_PRIME 0x100000001b3ULL

#define NAME_QUOTE_MAX (4 * 64 + 1)

static const char hexdigits[] = "0123456789abcdef";

uint64_t hash64(const void *data, size_t len, uint64_t seed)
{
	const uint8_t *p = data;
	uint64_t h = FNV64_OFFSET ^ seed;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= FNV64_PRIME;
	}
	return h;
}

static void random_fill(uint8_t *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = getrandom(buf + done, len - done, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* getrandom() cannot fail on a supported kernel; never hand out a fixed ID. */
			abort();
		}
		done += (size_t)n;
	}
}

void id_generate(char ret[ID_LEN + 1])
{
	uint8_t raw[ID_LEN / 2];

	random_fill(raw, sizeof(raw));
	for (size_t i = 0; i < sizeof(raw); i++) {
		ret[2 * i] = hexdigits[raw[i] >> 4];
		ret[2 * i + 1] = hexdigits[raw[i] & 0xf];
	}
	ret[ID_LEN] = '\0';
}

bool id_is_valid(const char *s)
{
	size_t i;

	if (!s)
		return false;
	for (i = 0; s[i]; i++)
		if (!strchr(hexdigits, s[i]) || i >= ID_LEN)
			return false;
	return i == ID_LEN;
}

static bool name_char_ok(char c, bool first)
{
	if (isascii((unsigned char)c) && isalnum((unsigned char)c))
		return true;
	return !first && (c == '_' || c == '.' || c == '-');
}

/* The first n bytes of name, printable for a message: a byte outside printable ASCII (invalid
 * UTF-8 among them), a quote or a backslash is written \xNN. */
static const char *name_quote(const char *name, size_t n, char buf[NAME_QUOTE_MAX])
{
	size_t o = 0;

	for (size_t i = 0; i < n && name[i] && o + 5 < NAME_QUOTE_MAX; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			o += (size_t)snprintf(buf + o, NAME_QUOTE_MAX - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
	return buf;
}

int name_validate(const char *kind, const char *name, struct berr *err)
{
	char q[NAME_QUOTE_MAX];
	size_t len;

	if (!kind)
		kind = "object";
	if (!name || !*name)
		return berr_set(err, -EINVAL, "invalid %s name: must not be empty", kind);
	len = strlen(name);
	if (len >= NAME_LEN)
		return berr_set(err, -EINVAL, "invalid %s name \"%s...\": %zu characters, at most %d allowed",
				kind, name_quote(name, 32, q), len, NAME_LEN - 1);
	for (size_t i = 0; i < len; i++)
		if (!name_char_ok(name[i], i == 0))
			return berr_set(err, -EINVAL,
					"invalid %s name \"%s\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
					kind, name_quote(name, len, q));
	return 0;
}

int ifname_validate(const char *name, struct berr *err)
{
	char q[NAME_QUOTE_MAX];
	size_t len;

	if (!name || !*name)
		return berr_set(err, -EINVAL, "invalid interface name: must not be empty");
	len = strlen(name);
	if (len >= IFNAME_LEN)
		return berr_set(err, -EINVAL, "invalid interface name \"%s\": %zu characters, at most %d allowed",
				name_quote(name, 32, q), len, IFNAME_LEN - 1);
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return berr_set(err, -EINVAL, "invalid interface name \"%s\"", name);
	for (size_t i = 0; i < len; i++)
		if (name[i] == '/' || name[i] == ':' || isspace((unsigned char)name[i]) ||
		    iscntrl((unsigned char)name[i]))
			return berr_set(err, -EINVAL,
					"invalid interface name \"%s\": '/', ':', whitespace and control characters are not allowed",
					name_quote(name, len, q));
	return 0;
}

void ifname_bridge(const char *network_id, char ret[IFNAME_LEN])
{
	snprintf(ret, IFNAME_LEN, "br-%.12s", network_id);
}

void ifname_veth_host(const char *network_id, const char *container_id, char ret[IFNAME_LEN])
{
	uint64_t h;

	/* The NUL separates the two IDs so that ("ab","c") and ("a","bc") hash differently. */
	h = hash64(network_id, strlen(network_id) + 1, 0);
	h = hash64(container_id, strlen(container_id), h);
	snprintf(ret, IFNAME_LEN, "bv%013llx", (unsigned long long)(h & 0xfffffffffffffULL));
}

static void ifname_spill(const char *prefix, const char *network_id, int idx,
			 char ret[IFNAME_LEN])
{
	snprintf(ret, IFNAME_LEN, "%s%.10s%03x", prefix, network_id,
		 (unsigned)idx & IFNAME_SPILL_MAX);
}

void ifname_spill_bridge(const char *network_id, int idx, char ret[IFNAME_LEN])
{
	ifname_spill("bx", network_id, idx, ret);
}

void ifname_spill_trunk(const char *network_id, int idx, char ret[IFNAME_LEN])
{
	ifname_spill("by", network_id, idx, ret);
}

void ifname_spill_uplink(const char *network_id, int idx, char ret[IFNAME_LEN])
{
	ifname_spill("bz", network_id, idx, ret);
}

void mac_from_seed(const char *seed, uint8_t ret[6])
{
	uint64_t h = hash64(seed, strlen(seed), 0);

	ret[0] = 0x02;
	for (int i = 1; i < 6; i++) {
		ret[i] = (uint8_t)(h & 0xff);
		h >>= 8;
	}
}

void mac_from_ip4(const uint8_t ip4[4], uint8_t ret[6])
{
	ret[0] = 0x02;
	ret[1] = 0x42;
	memcpy(ret + 2, ip4, 4);
}

void mac_fmt(const uint8_t mac[6], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int mac_parse(const char *s, uint8_t ret[6], struct berr *err)
{
	uint8_t mac[6];

	if (!s || strlen(s) != 17)
		return berr_set(err, -EINVAL, "invalid MAC address \"%.40s\": expected xx:xx:xx:xx:xx:xx",
				s ? s : "");
	for (int i = 0; i < 6; i++) {
		int hi = hexval(s[3 * i]), lo = hexval(s[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return berr_set(err, -EINVAL,
					"invalid MAC address \"%s\": expected xx:xx:xx:xx:xx:xx", s);
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(ret, mac, 6);
	return 0;
}

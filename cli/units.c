/* SPDX-License-Identifier: Apache-2.0 */
#include "cli/units.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int units_bytes_parse(const char *s, int64_t *ret)
{
	static const char units[] = "bkmgtp";
	unsigned long long v = 0;
	const char *p = s, *u;
	int shift;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		if (v > (1ULL << 62) / 10)
			return -ERANGE;
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (!*p) {
		*ret = (int64_t)v;
		return 0;
	}
	u = strchr(units, tolower((unsigned char)*p));
	if (!u)
		return -EINVAL;
	shift = (int)(u - units) * 10;
	p++;
	if (*p && (shift == 0 || tolower((unsigned char)*p) != 'b' || p[1]))
		return -EINVAL;   /* "64m", "64mb" and "64MB"; "64bb" is not a size */
	if (shift && v > (1ULL << (62 - shift)))
		return -ERANGE;
	*ret = (int64_t)(v << shift);
	return 0;
}

int units_cpus_parse(const char *s, int64_t *ret)
{
	int64_t whole = 0, frac = 0, scale = 1000000000;
	const char *p = s;

	if (!isdigit((unsigned char)*p) && *p != '.')
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		if (whole > 1000000)
			return -EINVAL;
		whole = whole * 10 + (*p - '0');
	}
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++) {
			scale /= 10;
			if (scale == 0)
				return -EINVAL;   /* below a billionth */
			frac += (*p - '0') * scale;
		}
	}
	if (*p || p == s || (p == s + 1 && *s == '.'))
		return -EINVAL;
	*ret = whole * 1000000000 + frac;
	return 0;
}

static void units_format(double v, double base, const char *const *names, size_t n, char *buf,
			 size_t size)
{
	size_t i = 0;

	while (v >= base && i + 1 < n) {
		v /= base;
		i++;
	}
	if (i == 0 || v >= 100)
		snprintf(buf, size, "%.0f%s", v, names[i]);
	else if (v >= 10)
		snprintf(buf, size, "%.1f%s", v, names[i]);
	else
		snprintf(buf, size, "%.2f%s", v, names[i]);
	/* "1.50MiB" reads as docker's "1.5MiB": drop a trailing zero of the decimals */
	if (strchr(buf, '.')) {
		char *unit = buf + strcspn(buf, "kKMGTPEB"), *z = unit;

		while (z > buf && z[-1] == '0')
			z--;
		if (z > buf && z[-1] == '.')
			z--;
		memmove(z, unit, strlen(unit) + 1);
	}
}

void units_human(double bytes, char *buf, size_t size)
{
	static const char *const names[] = { "B", "kB", "MB", "GB", "TB", "PB" };

	units_format(bytes, 1000, names, 6, buf, size);
}

void units_binary(double bytes, char *buf, size_t size)
{
	static const char *const names[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };

	units_format(bytes, 1024, names, 6, buf, size);
}

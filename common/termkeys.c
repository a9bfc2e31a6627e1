/* SPDX-License-Identifier: Apache-2.0 */
#include "common/termkeys.h"

#include <errno.h>
#include <string.h>

#include "common/util.h"

static int termkey_one(const char *k, uint8_t *ret)
{
	if (strlen(k) == 1) {
		*ret = (uint8_t)k[0];
		return 0;
	}
	if (strncmp(k, "ctrl-", 5) != 0 || strlen(k) != 6)
		return -EINVAL;
	if (k[5] >= 'a' && k[5] <= 'z')
		*ret = (uint8_t)(k[5] - 'a' + 1);
	else if (k[5] >= '@' && k[5] <= '_')
		*ret = (uint8_t)(k[5] - '@');
	else
		return -EINVAL;
	return 0;
}

int termkeys_parse(const char *s, struct termkeys *ret, struct berr *err)
{
	_cleanup_free_ char *copy = xstrdup(s && *s ? s : "ctrl-p,ctrl-q");
	char *rest = copy, *k;

	memset(ret, 0, sizeof(*ret));
	while ((k = strsep(&rest, ","))) {   /* an empty key ("a,,b") is refused, as Docker */
		if (ret->n == TERMKEYS_MAX || termkey_one(k, &ret->keys[ret->n]) < 0)
			return berr_set(err, -EINVAL, "Invalid detach keys (%s) provided", s);
		ret->n++;
	}
	return ret->n ? 0 : berr_set(err, -EINVAL, "Invalid detach keys (%s) provided", s);
}

bool termkeys_filter(struct termkeys *k, const uint8_t *in, size_t n, uint8_t *out,
		     size_t *ret_len)
{
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		if (k->n && in[i] == k->keys[k->matched]) {
			if (++k->matched == k->n) {
				*ret_len = len;
				return true;
			}
			continue;
		}
		if (k->matched) {   /* a false start: what was held goes on */
			memcpy(out + len, k->keys, k->matched);
			len += k->matched;
			k->matched = 0;
			if (in[i] == k->keys[0]) {
				k->matched = 1;
				continue;
			}
		}
		out[len++] = in[i];
	}
	*ret_len = len;
	return false;
}

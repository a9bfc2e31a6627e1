/* SPDX-License-Identifier: Apache-2.0 */
/* Streamed replies made of lines (events, stats): the line being handed to MHD's content reader
 * in pieces as large as it asks for. */
#include <string.h>

#include "daemon/api_internal.h"

void api_line_set(struct api_line *l, const char *text)
{
	free(l->s);
	l->s = xasprintf("%s\n", text);
	l->off = 0;
	l->len = strlen(l->s);
}

bool api_line_empty(const struct api_line *l)
{
	return l->off == l->len;
}

ssize_t api_line_copy(struct api_line *l, char *buf, size_t max)
{
	size_t n = l->len - l->off < max ? l->len - l->off : max;

	memcpy(buf, l->s + l->off, n);
	l->off += n;
	return (ssize_t)n;
}

void api_line_free(struct api_line *l)
{
	free(l->s);
	l->s = NULL;
	l->off = l->len = 0;
}

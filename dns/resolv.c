/* SPDX-License-Identifier: Apache-2.0 */
/* resolv.conf: nameservers (at most three, as the libc resolver), search domains, options. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "dns/dns.h"

#define RESOLV_MAX_BYTES 65536

static void resolv_nameserver(struct dns_resolv *r, char *word)
{
	struct ipaddr a;

	if (!word || r->n_servers >= DNS_MAX_UPSTREAMS)
		return;
	word[strcspn(word, "%")] = '\0';      /* a zone index: unusable from elsewhere */
	if (ip_parse(word, &a, NULL) >= 0)
		r->servers[r->n_servers++] = a;
}

static void resolv_search(struct dns_resolv *r, char **save)
{
	char *w;

	r->n_search = 0;     /* the last search line wins */
	while ((w = strtok_r(NULL, " \t", save)) && r->n_search < DNS_MAX_SEARCH)
		if (strlen(w) <= DNS_NAME_MAX)
			strscpy(r->search[r->n_search++], w, sizeof(r->search[0]));
}

static void resolv_options(struct dns_resolv *r, char **save)
{
	char *w;

	while ((w = strtok_r(NULL, " \t", save))) {
		size_t len = strlen(r->options);

		if (len + strlen(w) + 2 < sizeof(r->options))
			snprintf(r->options + len, sizeof(r->options) - len, "%s%s", len ? " " : "",
				 w);
	}
}

void dns_resolv_parse(const char *text, struct dns_resolv *ret)
{
	_cleanup_free_ char *copy = xstrdup(text ? text : "");
	char *lsave = NULL;

	memset(ret, 0, sizeof(*ret));
	for (char *line = strtok_r(copy, "\n", &lsave); line; line = strtok_r(NULL, "\n", &lsave)) {
		char *wsave = NULL, *key;

		line[strcspn(line, "#;")] = '\0';
		key = strtok_r(line, " \t\r", &wsave);
		if (!key)
			continue;
		if (strcmp(key, "nameserver") == 0)
			resolv_nameserver(ret, strtok_r(NULL, " \t\r", &wsave));
		else if (strcmp(key, "search") == 0 || strcmp(key, "domain") == 0)
			resolv_search(ret, &wsave);
		else if (strcmp(key, "options") == 0)
			resolv_options(ret, &wsave);
	}
}

void dns_resolv_load(const char *path, struct dns_resolv *ret)
{
	_cleanup_free_ char *text = NULL;

	if (read_file(path, RESOLV_MAX_BYTES, &text, NULL, NULL) < 0)
		text = NULL;
	dns_resolv_parse(text, ret);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* The embedded DNS seen from the manager. Until the DNS subsystem exists, containers get the
 * host's resolvers (minus loopback ones they cannot reach) and the record hooks do nothing. */
#include "daemon/mgr_internal.h"

int mgr_dns_init(struct manager *m, struct berr *err) { return 0; }
void mgr_dns_close(struct manager *m) {}
int mgr_dns_container_started(struct manager *m, struct ctr_entry *c, struct berr *err) { return 0; }
void mgr_dns_container_stopped(struct manager *m, struct ctr_entry *c) {}
int mgr_dns_endpoint_added(struct manager *m, struct ctr_entry *c, struct ep_entry *ep,
			   struct berr *err)
{
	return 0;
}
void mgr_dns_endpoint_removed(struct manager *m, struct ctr_entry *c, struct ep_entry *ep) {}

/* The host's resolvers, minus loopback ones a container cannot reach. */
static char *resolv_render(void)
{
	_cleanup_free_ char *host = NULL;
	char *out = xstrdup(""), *save = NULL;

	if (read_file("/etc/resolv.conf", 65536, &host, NULL, NULL) < 0)
		return out;
	for (char *line = strtok_r(host, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *next;

		if (strncmp(line, "nameserver", 10) == 0) {
			const char *ip = line + 10 + strspn(line + 10, " \t");

			if (strncmp(ip, "127.", 4) == 0 || strncmp(ip, "::1", 3) == 0)
				continue;
		} else if (strncmp(line, "search", 6) != 0 && strncmp(line, "options", 7) != 0) {
			continue;
		}
		next = xasprintf("%s%s\n", out, line);
		free(out);
		out = next;
	}
	return out;
}

char *mgr_dns_resolv_conf(struct manager *m, struct ctr_entry *c)
{
	return resolv_render();
}

/* SPDX-License-Identifier: Apache-2.0 */
/* CNI network configuration lists: berthd writes <cni-config-dir>/<network>.conflist for each
 * network a CNI runtime can attach to (a driver with interfaces: bridge, macvlan), so that
 * `podman --network my-net` finds it, and removes it with the network. The file names berth-cni
 * with the network and, when berthd does not listen on the default socket, the socket. A file
 * that exists is left as it is (the administrator may have edited it); only a file that still
 * names this network through berth-cni is removed. */
#include <fcntl.h>
#include <sys/stat.h>

#include "daemon/mgr_internal.h"

#define CNI_SOCKET_DEFAULT "/run/berth/berth.sock"

static bool conflist_wanted(struct manager *m, const struct net_entry *n)
{
	return m->cni_dir && *m->cni_dir && n->drv && n->drv->join && !mgr_net_predefined(n) &&
	       !mgr_net_docker_owned(n);
}

static char *conflist_path(struct manager *m, const struct net_entry *n)
{
	return xasprintf("%s/%s.conflist", m->cni_dir, n->n.name);
}

static char *conflist_render(struct manager *m, const struct net_entry *n)
{
	cJSON *o = cJSON_CreateObject(), *plugins, *p, *caps;
	char *text;

	cJSON_AddStringToObject(o, "cniVersion", "1.0.0");
	cJSON_AddStringToObject(o, "name", n->n.name);
	plugins = cJSON_AddArrayToObject(o, "plugins");
	p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "type", "berth-cni");
	cJSON_AddStringToObject(p, "network", n->n.name);
	if (m->api_socket && strcmp(m->api_socket, CNI_SOCKET_DEFAULT) != 0)
		cJSON_AddStringToObject(p, "socket", m->api_socket);
	caps = cJSON_AddObjectToObject(p, "capabilities");
	cJSON_AddTrueToObject(caps, "portMappings");
	cJSON_AddTrueToObject(caps, "aliases");
	cJSON_AddTrueToObject(caps, "ips");
	cJSON_AddTrueToObject(caps, "mac");
	cJSON_AddItemToArray(plugins, p);
	p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "type", "tuning");
	cJSON_AddItemToArray(plugins, p);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

void mgr_cni_conflist_write(struct manager *m, const struct net_entry *n)
{
	_cleanup_free_ char *path = NULL, *text = NULL, *line = NULL;
	struct berr e2 = BERR_INIT;
	struct stat st;

	if (!conflist_wanted(m, n))
		return;
	path = conflist_path(m, n);
	if (stat(path, &st) == 0)
		return;
	text = conflist_render(m, n);
	line = xasprintf("%s\n", text);
	if (mkdir_p(m->cni_dir, 0755, &e2) < 0 ||
	    write_file_atomic(path, line, strlen(line), 0644, &e2) < 0)
		blog_warn("network %s: writing its CNI configuration: %s", n->n.name, berr_str(&e2));
}

/* Only a file that still hands this network to berth-cni. */
static bool conflist_ours(const char *path, const char *network)
{
	_cleanup_free_ char *text = NULL;
	const cJSON *p;
	cJSON *o;
	bool ours = false;

	if (read_file(path, 1 << 20, &text, NULL, NULL) < 0 || !(o = cJSON_Parse(text)))
		return false;
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(o, "plugins")) {
		const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "type"));
		const char *net = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "network"));

		ours |= type && net && !strcmp(type, "berth-cni") && !strcmp(net, network);
	}
	cJSON_Delete(o);
	return ours;
}

void mgr_cni_conflist_remove(struct manager *m, const struct net_entry *n)
{
	_cleanup_free_ char *path = NULL;

	if (!conflist_wanted(m, n))
		return;
	path = conflist_path(m, n);
	if (conflist_ours(path, n->n.name) && unlink(path) < 0 && errno != ENOENT)
		blog_warn("network %s: removing %s: %m", n->n.name, path);
}

void mgr_cni_conflists_sync(struct manager *m)
{
	for (size_t i = 0; i < m->nets.n; i++)
		mgr_cni_conflist_write(m, m->nets.v[i]);
}

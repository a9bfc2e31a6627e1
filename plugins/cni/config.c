/* SPDX-License-Identifier: Apache-2.0 */
/* What the runtime passes berth-cni, decoded and checked before anything is sent to berthd:
 * the CNI_* environment and the JSON configuration on stdin. Everything is bounded (sizes,
 * counts, lengths) and every failure names the variable or field, with the spec's code. */
#include "plugins/cni/cni.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/cidr.h"
#include "common/json_num.h"
#include "common/util.h"

#define CNI_IPS_MAX 2
#define CNI_ALIASES_MAX 64
#define CNI_PORTS_MAX 1024

static const char *const supported[] = { "0.4.0", "1.0.0", "1.1.0" };

int cni_fail(struct cni_error *err, int code, const char *msg, const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	snprintf(err->msg, sizeof(err->msg), "%s", msg);
	va_start(ap, fmt);
	vsnprintf(err->details, sizeof(err->details), fmt, ap);
	va_end(ap);
	return -1;
}

bool cni_version_supported(const char *v)
{
	for (size_t i = 0; v && i < ARRAY_SIZE(supported); i++)
		if (strcmp(v, supported[i]) == 0)
			return true;
	return false;
}

/* The first bytes of a value for a message, printable. */
static const char *shown(const char *s, char buf[64])
{
	size_t i = 0;

	for (; s && s[i] && i < 60; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	buf[i] = '\0';
	if (s && strlen(s) > 60)
		strcpy(buf + 60, "...");
	return buf;
}

/* ---- environment ---- */

static int env_command(const char *s, enum cni_cmd *ret, struct cni_error *err)
{
	static const struct { const char *name; enum cni_cmd cmd; } cmds[] = {
		{ "ADD", CNI_CMD_ADD }, { "DEL", CNI_CMD_DEL }, { "CHECK", CNI_CMD_CHECK },
		{ "VERSION", CNI_CMD_VERSION }, { "STATUS", CNI_CMD_STATUS }, { "GC", CNI_CMD_GC },
	};
	char b[64];

	for (size_t i = 0; s && i < ARRAY_SIZE(cmds); i++)
		if (strcmp(s, cmds[i].name) == 0) {
			*ret = cmds[i].cmd;
			return 0;
		}
	return cni_fail(err, CNI_ERR_ENV, "invalid CNI_COMMAND",
			"CNI_COMMAND is \"%s\": expected ADD, DEL, CHECK, VERSION, STATUS or GC",
			s ? shown(s, b) : "(unset)");
}

/* A letter or digit, then letters, digits, '_', '.' or '-' (container IDs, network names). */
static bool token_valid(const char *s, size_t max)
{
	size_t len = strlen(s);
	char first = s[0];

	if (len == 0 || len > max)
		return false;
	if (!((first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z') ||
	      (first >= '0' && first <= '9')))
		return false;
	for (size_t i = 1; i < len; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-'))
			return false;
	}
	return true;
}

static int env_attachment(const struct cni_env *env, struct cni_call *c, struct cni_error *err)
{
	char b[64];
	size_t len;

	if (!env->containerid || !token_valid(env->containerid, CNI_CID_MAX))
		return cni_fail(err, CNI_ERR_ENV, "invalid CNI_CONTAINERID",
				"CNI_CONTAINERID \"%s\" must be 1-%d letters, digits, '_', '.' or '-', "
				"starting with a letter or digit", env->containerid ?
				shown(env->containerid, b) : "(unset)", CNI_CID_MAX);
	strscpy(c->cid, env->containerid, sizeof(c->cid));
	if (!env->ifname || ifname_validate(env->ifname, NULL) < 0 || strchr(env->ifname, ':'))
		return cni_fail(err, CNI_ERR_ENV, "invalid CNI_IFNAME",
				"CNI_IFNAME \"%s\" must be 1-15 bytes, not \".\" or \"..\", without '/', "
				"':' or whitespace", env->ifname ? shown(env->ifname, b) : "(unset)");
	strscpy(c->ifname, env->ifname, sizeof(c->ifname));
	len = env->netns ? strlen(env->netns) : 0;
	if (len == 0 && c->cmd == CNI_CMD_DEL)
		return 0;   /* DEL: optional */
	if (len == 0 || env->netns[0] != '/' || len >= CNI_NETNS_MAX || strstr(env->netns, "/../") ||
	    (len >= 3 && strcmp(env->netns + len - 3, "/..") == 0))
		return cni_fail(err, CNI_ERR_ENV, "invalid CNI_NETNS",
				"CNI_NETNS \"%s\" must be an absolute path without \"..\", shorter than "
				"%d bytes", env->netns ? shown(env->netns, b) : "(unset)",
				CNI_NETNS_MAX);
	strscpy(c->netns, env->netns, sizeof(c->netns));
	return 0;
}

/* ---- CNI_ARGS: "K=V;K=V" ---- */

struct cni_args {
	bool ignore_unknown;
	const char *ip, *mac, *pod_name;   /* point into the copy */
	char *copy;
};

static bool arg_bool(const char *v, bool *ret)
{
	if (!strcmp(v, "1") || !strcasecmp(v, "true"))
		*ret = true;
	else if (!strcmp(v, "0") || !strcasecmp(v, "false"))
		*ret = false;
	else
		return false;
	return true;
}

static int arg_one(char *pair, struct cni_args *a, const char **unknown, struct cni_error *err)
{
	static const char *const ignored[] = { "K8S_POD_NAMESPACE", "K8S_POD_INFRA_CONTAINER_ID",
					       "K8S_POD_UID" };
	char *eq = strchr(pair, '='), b[64];

	if (!eq || eq == pair)
		return cni_fail(err, CNI_ERR_ENV, "invalid CNI_ARGS",
				"CNI_ARGS entry \"%s\" is not KEY=VALUE", shown(pair, b));
	*eq = '\0';
	if (!strcmp(pair, "IgnoreUnknown")) {
		if (!arg_bool(eq + 1, &a->ignore_unknown))
			return cni_fail(err, CNI_ERR_ENV, "invalid CNI_ARGS",
					"IgnoreUnknown must be 1, true, 0 or false, not \"%s\"",
					shown(eq + 1, b));
	} else if (!strcmp(pair, "IP")) {
		a->ip = eq + 1;
	} else if (!strcmp(pair, "MAC")) {
		a->mac = eq + 1;
	} else if (!strcmp(pair, "K8S_POD_NAME")) {
		a->pod_name = eq + 1;
	} else {
		bool known = false;

		for (size_t i = 0; i < ARRAY_SIZE(ignored); i++)
			known |= !strcmp(pair, ignored[i]);
		if (!known && !*unknown)
			*unknown = pair;
	}
	return 0;
}

static int args_parse(const char *s, struct cni_args *a, struct cni_error *err)
{
	const char *unknown = NULL;
	char *save = NULL, b[64];

	memset(a, 0, sizeof(*a));
	if (!s || !*s)
		return 0;
	if (strlen(s) > CNI_ARGS_MAX)
		return cni_fail(err, CNI_ERR_ENV, "invalid CNI_ARGS", "CNI_ARGS is longer than %d "
				"bytes", CNI_ARGS_MAX);
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return cni_fail(err, CNI_ERR_ENV, "invalid CNI_ARGS",
					"CNI_ARGS holds a control character (byte 0x%02x)",
					(unsigned char)*p);
	a->copy = xstrdup(s);
	for (char *pair = strtok_r(a->copy, ";", &save); pair; pair = strtok_r(NULL, ";", &save))
		if (arg_one(pair, a, &unknown, err) < 0)
			return -1;
	if (unknown && !a->ignore_unknown)
		return cni_fail(err, CNI_ERR_ENV, "invalid CNI_ARGS",
				"unknown CNI_ARGS key \"%s\" (IgnoreUnknown=1 lets unknown keys pass)",
				shown(unknown, b));
	return 0;
}

/* ---- configuration ---- */

static int conf_string(const cJSON *conf, const char *key, bool required, const char **ret,
		       struct cni_error *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(conf, key);

	*ret = NULL;
	if (!v && !required)
		return 0;
	if (!cJSON_IsString(v))
		return cni_fail(err, CNI_ERR_CONFIG, "invalid network configuration",
				"field %s %s", key, v ? "must be a string" : "is required");
	*ret = v->valuestring;
	return 0;
}

static int conf_version(const cJSON *conf, struct cni_call *c, struct cni_error *err)
{
	const char *v;
	char b[64];

	if (conf_string(conf, "cniVersion", true, &v, err) < 0)
		return -1;
	if (!cni_version_supported(v))
		return cni_fail(err, CNI_ERR_VERSION, "incompatible CNI version",
				"cniVersion \"%s\" is not supported (berth-cni supports 0.4.0, 1.0.0 "
				"and 1.1.0)", shown(v, b));
	strscpy(c->version, v, sizeof(c->version));
	if ((c->cmd == CNI_CMD_GC || c->cmd == CNI_CMD_STATUS) && strcmp(v, "1.1.0") != 0)
		return cni_fail(err, CNI_ERR_VERSION, "incompatible CNI version",
				"%s needs cniVersion 1.1.0 (the configuration has %s)",
				c->cmd == CNI_CMD_GC ? "GC" : "STATUS", v);
	return 0;
}

static int conf_names(const cJSON *conf, struct cni_call *c, struct cni_error *err)
{
	const char *name, *type, *net, *sock;
	char b[64];

	if (conf_string(conf, "name", true, &name, err) < 0 ||
	    conf_string(conf, "type", true, &type, err) < 0 ||
	    conf_string(conf, "network", false, &net, err) < 0 ||
	    conf_string(conf, "socket", false, &sock, err) < 0)
		return -1;
	if (!token_valid(name, NAME_LEN - 1))
		return cni_fail(err, CNI_ERR_CONFIG, "invalid network configuration",
				"name \"%s\" must be 1-%d letters, digits, '_', '.' or '-', starting "
				"with a letter or digit", shown(name, b), NAME_LEN - 1);
	if (!token_valid(type, CNI_TYPE_MAX))
		return cni_fail(err, CNI_ERR_CONFIG, "invalid network configuration",
				"type \"%s\" must be a plugin file name (letters, digits, '_', '.', "
				"'-'; no path)", shown(type, b));
	if (net && !token_valid(net, NAME_LEN - 1))
		return cni_fail(err, CNI_ERR_CONFIG, "invalid network configuration",
				"network \"%s\" is not a berth network name", shown(net, b));
	if (sock && (sock[0] != '/' || strlen(sock) >= CNI_SOCKET_MAX))
		return cni_fail(err, CNI_ERR_CONFIG, "invalid network configuration",
				"socket \"%s\" must be an absolute path shorter than %d bytes",
				shown(sock, b), CNI_SOCKET_MAX);
	strscpy(c->name, name, sizeof(c->name));
	strscpy(c->network, net ? net : name, sizeof(c->network));
	strscpy(c->socket, sock ? sock : CNI_SOCKET_DEFAULT, sizeof(c->socket));
	return 0;
}

static int ip_check(const char *s, struct cni_error *err)
{
	struct cidr c;
	char b[64];

	if ((strchr(s, '/') ? cidr_parse(s, &c, NULL) : ip_parse(s, &c.addr, NULL)) < 0)
		return cni_fail(err, CNI_ERR_CONFIG, "invalid IP request",
				"\"%s\" is not an IP address (optionally with a prefix length)",
				shown(s, b));
	return 0;
}

/* ips: from runtimeConfig.ips, else args.cni.ips, else CNI_ARGS IP= (comma separated). */
static int ips_add(cJSON *ips, const char *s, struct cni_error *err)
{
	if (cJSON_GetArraySize(ips) >= CNI_IPS_MAX)
		return cni_fail(err, CNI_ERR_CONFIG, "invalid IP request",
				"at most one IPv4 and one IPv6 address can be requested");
	if (ip_check(s, err) < 0)
		return -1;
	cJSON_AddItemToArray(ips, cJSON_CreateString(s));
	return 0;
}

static int ips_from_json(cJSON *ips, const cJSON *arr, const char *where, struct cni_error *err)
{
	const cJSON *it;

	if (!cJSON_IsArray(arr))
		return cni_fail(err, CNI_ERR_CONFIG, "invalid IP request", "%s must be an array of "
				"strings", where);
	cJSON_ArrayForEach(it, arr) {
		if (!cJSON_IsString(it))
			return cni_fail(err, CNI_ERR_CONFIG, "invalid IP request", "%s must hold "
					"strings", where);
		if (ips_add(ips, it->valuestring, err) < 0)
			return -1;
	}
	return 0;
}

static int ips_from_arg(cJSON *ips, const char *s, struct cni_error *err)
{
	_cleanup_free_ char *copy = xstrdup(s);
	char *save = NULL;

	for (char *ip = strtok_r(copy, ",", &save); ip; ip = strtok_r(NULL, ",", &save))
		if (ips_add(ips, ip, err) < 0)
			return -1;
	return 0;
}

static int mac_set(struct cni_call *c, const char *s, struct cni_error *err)
{
	uint8_t mac[6];
	char b[64];

	if (mac_parse(s, mac, NULL) < 0 || (mac[0] & 1) || !(mac[0] | mac[1] | mac[2] | mac[3] |
							     mac[4] | mac[5]))
		return cni_fail(err, CNI_ERR_CONFIG, "invalid MAC request",
				"\"%s\" is not a unicast MAC address", shown(s, b));
	mac_fmt(mac, c->mac);
	return 0;
}

static int alias_list(struct cni_call *c, const cJSON *arr, struct cni_error *err)
{
	const cJSON *it;
	char b[64];

	if (!cJSON_IsArray(arr))
		return cni_fail(err, CNI_ERR_CONFIG, "invalid aliases", "runtimeConfig.aliases must "
				"be a list of names, or an object of lists keyed by network name");
	cJSON_ArrayForEach(it, arr) {
		if (!cJSON_IsString(it) || !token_valid(it->valuestring, NAME_LEN - 1))
			return cni_fail(err, CNI_ERR_CONFIG, "invalid aliases", "alias \"%s\" must be "
					"a name (letters, digits, '_', '.', '-')",
					cJSON_IsString(it) ? shown(it->valuestring, b) : "(not a string)");
		if (cJSON_GetArraySize(c->aliases) >= CNI_ALIASES_MAX)
			return cni_fail(err, CNI_ERR_CONFIG, "invalid aliases", "more than %d aliases",
					CNI_ALIASES_MAX);
		cJSON_AddItemToArray(c->aliases, cJSON_CreateString(it->valuestring));
	}
	return 0;
}

/* A list, or podman's {"<network name>": [...]} (only this network's entry counts). */
static int aliases_parse(struct cni_call *c, const cJSON *v, struct cni_error *err)
{
	if (!v || cJSON_IsNull(v))
		return 0;
	if (cJSON_IsObject(v)) {
		const cJSON *mine = cJSON_GetObjectItemCaseSensitive(v, c->name);

		return mine ? alias_list(c, mine, err) : 0;
	}
	return alias_list(c, v, err);
}

static int port_check(const cJSON *pm, struct cni_error *err)
{
	const cJSON *hp = cJSON_GetObjectItemCaseSensitive(pm, "hostPort");
	const cJSON *cp = cJSON_GetObjectItemCaseSensitive(pm, "containerPort");
	const cJSON *pr = cJSON_GetObjectItemCaseSensitive(pm, "protocol");
	const cJSON *hip = cJSON_GetObjectItemCaseSensitive(pm, "hostIP");
	struct ipaddr a;

	if (!cJSON_IsObject(pm) || !json_int_in(cp, 1, 65535))
		return cni_fail(err, CNI_ERR_CONFIG, "invalid portMappings", "each entry needs a "
				"containerPort between 1 and 65535");
	if (hp && !json_int_in(hp, 0, 65535))
		return cni_fail(err, CNI_ERR_CONFIG, "invalid portMappings", "hostPort must be a "
				"number between 0 and 65535");
	if (pr && (!cJSON_IsString(pr) || (strcasecmp(pr->valuestring, "tcp") &&
					   strcasecmp(pr->valuestring, "udp") &&
					   strcasecmp(pr->valuestring, "sctp"))))
		return cni_fail(err, CNI_ERR_CONFIG, "invalid portMappings", "protocol must be tcp, "
				"udp or sctp");
	if (hip && (!cJSON_IsString(hip) ||
		    (*hip->valuestring && ip_parse(hip->valuestring, &a, NULL) < 0)))
		return cni_fail(err, CNI_ERR_CONFIG, "invalid portMappings", "hostIP must be an IP "
				"address or empty");
	return 0;
}

static int ports_parse(struct cni_call *c, const cJSON *v, struct cni_error *err)
{
	const cJSON *it;

	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > CNI_PORTS_MAX)
		return cni_fail(err, CNI_ERR_CONFIG, "invalid portMappings", "runtimeConfig."
				"portMappings must be an array of at most %d entries", CNI_PORTS_MAX);
	cJSON_ArrayForEach(it, v)
		if (port_check(it, err) < 0)
			return -1;
	cJSON_Delete(c->ports);
	c->ports = cJSON_Duplicate(v, 1);
	return 0;
}

static int runtime_config(const cJSON *conf, struct cni_call *c, const struct cni_args *a,
			  struct cni_error *err)
{
	const cJSON *rc = cJSON_GetObjectItemCaseSensitive(conf, "runtimeConfig");
	const cJSON *args = cJSON_GetObjectItemCaseSensitive(conf, "args");
	const cJSON *cni = cJSON_GetObjectItemCaseSensitive(args, "cni");
	const cJSON *ips = cJSON_GetObjectItemCaseSensitive(rc, "ips");
	const cJSON *mac = cJSON_GetObjectItemCaseSensitive(rc, "mac");

	if (rc && !cJSON_IsObject(rc))
		return cni_fail(err, CNI_ERR_CONFIG, "invalid network configuration",
				"runtimeConfig must be an object");
	if (!ips && cJSON_IsObject(cni))
		ips = cJSON_GetObjectItemCaseSensitive(cni, "ips");
	if (ips ? ips_from_json(c->ips, ips, "runtimeConfig.ips", err) < 0
		: a->ip && ips_from_arg(c->ips, a->ip, err) < 0)
		return -1;
	if (mac && !cJSON_IsString(mac))
		return cni_fail(err, CNI_ERR_CONFIG, "invalid MAC request", "runtimeConfig.mac must "
				"be a string");
	if ((mac || a->mac) && mac_set(c, mac ? mac->valuestring : a->mac, err) < 0)
		return -1;
	if (aliases_parse(c, cJSON_GetObjectItemCaseSensitive(rc, "aliases"), err) < 0)
		return -1;
	return ports_parse(c, cJSON_GetObjectItemCaseSensitive(rc, "portMappings"), err);
}

static int pod_name(struct cni_call *c, const char *s, struct cni_error *err)
{
	char b[64];

	if (!s || !*s)
		return 0;
	if (!token_valid(s, NAME_LEN - 1))
		return cni_fail(err, CNI_ERR_ENV, "invalid CNI_ARGS", "K8S_POD_NAME \"%s\" is not a "
				"name (letters, digits, '_', '.', '-')", shown(s, b));
	strscpy(c->pod_name, s, sizeof(c->pod_name));
	return 0;
}

static int valid_attachments(const cJSON *conf, struct cni_call *c, struct cni_error *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(conf, "cni.dev/valid-attachments"), *it;

	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsArray(v))
		return cni_fail(err, CNI_ERR_CONFIG, "invalid network configuration",
				"cni.dev/valid-attachments must be an array");
	cJSON_ArrayForEach(it, v)
		if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(it, "containerID")) ||
		    !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(it, "ifname")))
			return cni_fail(err, CNI_ERR_CONFIG, "invalid network configuration",
					"cni.dev/valid-attachments entries must be {\"containerID\": "
					"string, \"ifname\": string}");
	c->valid = v;
	return 0;
}

static int key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The first key that an object under j holds twice (NULL: none). A JSON decoder may keep the
 * first or the last of them (Go's, in the runtime and the next plugin, keeps the last): such a
 * configuration means two things, and is refused. */
static const char *dup_key(const cJSON *j)
{
	const cJSON *it;
	const char **keys, *dup = NULL;
	size_t n = 0;

	cJSON_ArrayForEach(it, j)
		if ((dup = dup_key(it)))
			return dup;
	if (!cJSON_IsObject(j) || !j->child)
		return NULL;
	keys = xcalloc((size_t)cJSON_GetArraySize(j), sizeof(*keys));
	cJSON_ArrayForEach(it, j)
		keys[n++] = it->string;
	qsort(keys, n, sizeof(*keys), key_cmp);
	for (size_t i = 1; i < n && !dup; i++)
		if (!strcmp(keys[i - 1], keys[i]))
			dup = keys[i];
	free(keys);
	return dup;
}

static int conf_parse(const char *in, size_t len, struct cni_call *c, struct cni_error *err)
{
	const char *end = NULL, *dup;
	char b[64];

	if (len > CNI_STDIN_MAX)
		return cni_fail(err, CNI_ERR_IO, "configuration too large",
				"the configuration on stdin is larger than %u bytes", CNI_STDIN_MAX);
	if (memchr(in, '\0', len))
		return cni_fail(err, CNI_ERR_DECODE, "failed to decode the configuration",
				"stdin holds a NUL byte");
	c->conf = cJSON_ParseWithLengthOpts(in, len, &end, false);
	if (!c->conf)
		return cni_fail(err, CNI_ERR_DECODE, "failed to decode the configuration",
				"stdin is not JSON (syntax error at byte %zu)",
				end ? (size_t)(end - in) : (size_t)0);
	for (; end && (size_t)(end - in) < len; end++)
		if (*end != ' ' && *end != '\n' && *end != '\r' && *end != '\t')
			return cni_fail(err, CNI_ERR_DECODE, "failed to decode the configuration",
					"stdin holds more than one JSON value (byte %zu)",
					(size_t)(end - in));
	if (!cJSON_IsObject(c->conf))
		return cni_fail(err, CNI_ERR_DECODE, "failed to decode the configuration",
				"the configuration must be a JSON object");
	dup = dup_key(c->conf);
	if (dup)
		return cni_fail(err, CNI_ERR_DECODE, "failed to decode the configuration",
				"key \"%s\" appears twice in one object", shown(dup, b));
	return 0;
}

static int conf_fields(struct cni_call *c, const struct cni_args *a, struct cni_error *err)
{
	const cJSON *prev = cJSON_GetObjectItemCaseSensitive(c->conf, "prevResult");

	if (conf_names(c->conf, c, err) < 0)
		return -1;
	if (cJSON_GetObjectItemCaseSensitive(c->conf, "ipam"))
		return cni_fail(err, CNI_ERR_FIELD, "unsupported field ipam",
				"field \"ipam\": berthd allocates the addresses of network %s itself "
				"(remove the ipam section)", c->network);
	if (prev && !cJSON_IsNull(prev) && !cJSON_IsObject(prev))
		return cni_fail(err, CNI_ERR_CONFIG, "invalid network configuration",
				"prevResult must be an object");
	c->prev = cJSON_IsObject(prev) ? prev : NULL;
	if (c->cmd == CNI_CMD_GC)
		return valid_attachments(c->conf, c, err);
	if (c->cmd == CNI_CMD_STATUS)
		return 0;
	if (runtime_config(c->conf, c, a, err) < 0)
		return -1;
	return pod_name(c, a->pod_name, err);
}

/* VERSION: any stdin; its cniVersion is echoed when it is a plausible version string. */
static void version_only(const char *in, size_t len, struct cni_call *c)
{
	const cJSON *v;

	c->conf = len <= CNI_STDIN_MAX && !memchr(in, '\0', len) ?
		  cJSON_ParseWithLength(in, len) : NULL;
	v = cJSON_GetObjectItemCaseSensitive(c->conf, "cniVersion");
	if (cJSON_IsString(v) && strlen(v->valuestring) < sizeof(c->version) &&
	    strspn(v->valuestring, "0123456789.") == strlen(v->valuestring))
		strscpy(c->version, v->valuestring, sizeof(c->version));
}

int cni_call_decode(const struct cni_env *env, const char *in, size_t len, struct cni_call *ret,
		    struct cni_error *err)
{
	struct cni_args a = { 0 };
	int r;

	memset(ret, 0, sizeof(*ret));
	ret->ips = cJSON_CreateArray();
	ret->aliases = cJSON_CreateArray();
	ret->ports = cJSON_CreateArray();
	memset(err, 0, sizeof(*err));
	if (env_command(env->command, &ret->cmd, err) < 0)
		return -1;
	if (ret->cmd == CNI_CMD_VERSION) {
		version_only(in, len, ret);
		return 0;
	}
	r = conf_parse(in, len, ret, err);
	if (r >= 0)
		r = conf_version(ret->conf, ret, err);
	if (r >= 0 && (ret->cmd == CNI_CMD_ADD || ret->cmd == CNI_CMD_DEL ||
		       ret->cmd == CNI_CMD_CHECK))
		r = env_attachment(env, ret, err);
	if (r >= 0)
		r = args_parse(env->args, &a, err);
	if (r >= 0)
		r = conf_fields(ret, &a, err);
	free(a.copy);
	return r;
}

void cni_call_free(struct cni_call *c)
{
	cJSON_Delete(c->conf);
	cJSON_Delete(c->ips);
	cJSON_Delete(c->aliases);
	cJSON_Delete(c->ports);
	memset(c, 0, sizeof(*c));
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Container statistics in the Docker Engine API's shape (GET /containers/{id}/stats): CPU time
 * and memory from the container's cgroup, pids, and the bytes of each network interface read
 * from /proc/<pid>/net/dev (the container's network namespace seen from the host). The manager
 * lock is held only to copy what identifies the container: reading happens without it. */
#include <stdio.h>
#include <sys/sysinfo.h>
#include <time.h>

#include "daemon/mgr_internal.h"
#include "runtime/runtime.h"

#define STATS_INTERVAL_MS 200

struct stats_target {
	char id[ID_LEN + 1];
	char name[NAME_LEN];
	pid_t pid;
	uint64_t pid_start;
	bool running;
};

struct stats_sample {
	struct rt_cg_stats cg;
	uint64_t system_ns;     /* CPU time of the whole host, /proc/stat */
	char read[40];
	cJSON *networks;
};

static int target_get(struct manager *m, const char *ref, struct stats_target *t,
		      struct berr *err)
{
	struct ctr_entry *c;

	pthread_mutex_lock(&m->lock);
	c = mgr_ctr_find(m, ref, err);
	if (c) {
		strscpy(t->id, c->c.id, sizeof(t->id));
		strscpy(t->name, c->c.name, sizeof(t->name));
		t->pid = c->c.pid;
		t->pid_start = c->c.pid_start;
		t->running = c->c.state == CTR_RUNNING;
	}
	pthread_mutex_unlock(&m->lock);
	return c ? 0 : err->code;
}

/* The "cpu" line of /proc/stat, in ns. */
static uint64_t system_cpu_ns(void)
{
	_cleanup_free_ char *text = NULL;
	unsigned long long v[8] = { 0 };
	long hz = sysconf(_SC_CLK_TCK);
	uint64_t sum = 0;

	if (read_file("/proc/stat", 1 << 20, &text, NULL, NULL) < 0 || hz <= 0)
		return 0;
	if (sscanf(text, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
		   &v[4], &v[5], &v[6], &v[7]) < 4)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++)
		sum += v[i];
	return sum * (1000000000ULL / (uint64_t)hz);
}

static cJSON *net_iface(const unsigned long long v[16])
{
	static const char *const keys[] = { "rx_bytes", "rx_packets", "rx_errors", "rx_dropped",
					    "tx_bytes", "tx_packets", "tx_errors", "tx_dropped" };
	static const int cols[] = { 0, 1, 2, 3, 8, 9, 10, 11 };
	cJSON *o = cJSON_CreateObject();

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		cJSON_AddNumberToObject(o, keys[i], (double)v[cols[i]]);
	return o;
}

/* {"eth0": {rx_bytes, ...}} from /proc/<pid>/net/dev, loopback left out. */
static cJSON *net_stats(pid_t pid)
{
	_cleanup_free_ char *path = xasprintf("/proc/%d/net/dev", (int)pid);
	_cleanup_free_ char *text = NULL;
	cJSON *o = cJSON_CreateObject();
	char *save = NULL;

	if (pid <= 0 || read_file(path, 1 << 20, &text, NULL, NULL) < 0)
		return o;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		unsigned long long v[16] = { 0 };
		char *colon = strchr(l, ':'), *name = l;

		if (!colon)
			continue;
		*colon = '\0';
		name += strspn(name, " ");
		if (!strcmp(name, "lo") ||
		    sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9],
			   &v[10], &v[11]) != 12)
			continue;
		cJSON_AddItemToObject(o, name, net_iface(v));
	}
	return o;
}

static void sample_take(const struct stats_target *t, struct stats_sample *s)
{
	rt_cgroup_stats(t->id, &s->cg);
	s->system_ns = system_cpu_ns();
	time_now_rfc3339(s->read);
	s->networks = net_stats(t->pid);
}

static cJSON *cpu_render(const struct stats_sample *s)
{
	cJSON *o = cJSON_CreateObject(), *usage = cJSON_AddObjectToObject(o, "cpu_usage");
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	if (s) {
		cJSON_AddNumberToObject(usage, "total_usage", (double)(s->cg.cpu_ns > 0 ? s->cg.cpu_ns : 0));
		cJSON_AddNumberToObject(o, "system_cpu_usage", (double)s->system_ns);
	} else {
		cJSON_AddNumberToObject(usage, "total_usage", 0);
	}
	cJSON_AddNumberToObject(o, "online_cpus", (double)(ncpu > 0 ? ncpu : 1));
	return o;
}

static cJSON *memory_render(const struct rt_cg_stats *cg)
{
	cJSON *o = cJSON_CreateObject(), *st = cJSON_CreateObject();
	struct sysinfo si;
	int64_t limit = cg->mem_limit;

	if (limit <= 0 && sysinfo(&si) == 0)
		limit = (int64_t)si.totalram * si.mem_unit;   /* no limit: the host's memory */
	cJSON_AddNumberToObject(o, "usage", (double)(cg->mem_usage > 0 ? cg->mem_usage : 0));
	cJSON_AddNumberToObject(o, "limit", (double)limit);
	cJSON_AddNumberToObject(st, "inactive_file",
				(double)(cg->mem_inactive_file > 0 ? cg->mem_inactive_file : 0));
	cJSON_AddItemToObject(o, "stats", st);
	return o;
}

static cJSON *stats_render(const struct stats_target *t, struct stats_sample *now,
			   const struct stats_sample *pre)
{
	cJSON *o = cJSON_CreateObject(), *pids = cJSON_CreateObject();
	_cleanup_free_ char *name = xasprintf("/%s", t->name);

	cJSON_AddStringToObject(o, "id", t->id);
	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddStringToObject(o, "read", now->read);
	cJSON_AddStringToObject(o, "preread", pre ? pre->read : "0001-01-01T00:00:00Z");
	cJSON_AddItemToObject(o, "cpu_stats", cpu_render(now));
	cJSON_AddItemToObject(o, "precpu_stats", cpu_render(pre));
	cJSON_AddItemToObject(o, "memory_stats", memory_render(&now->cg));
	cJSON_AddNumberToObject(pids, "current", (double)(now->cg.pids > 0 ? now->cg.pids : 0));
	if (now->cg.pids_limit > 0)
		cJSON_AddNumberToObject(pids, "limit", (double)now->cg.pids_limit);
	cJSON_AddItemToObject(o, "pids_stats", pids);
	cJSON_AddItemToObject(o, "networks", now->networks);
	now->networks = NULL;
	return o;
}

static int rt_alive(const struct stats_target *t)
{
	return t->running && rt_proc_alive(t->pid, t->pid_start) == 1;
}

int mgr_container_stats(struct manager *m, const char *ref, bool one_shot, cJSON **ret,
			struct berr *err)
{
	struct stats_target t;
	struct stats_sample pre = { 0 }, now = { 0 };
	struct timespec ts = { 0, STATS_INTERVAL_MS * 1000000L };
	int r;

	r = target_get(m, ref, &t, err);
	if (r < 0)
		return r;
	if (!rt_alive(&t)) {   /* Docker: zeroes for a container that does not run */
		memset(&now.cg, 0, sizeof(now.cg));
		time_now_rfc3339(now.read);
		now.networks = cJSON_CreateObject();
		*ret = stats_render(&t, &now, NULL);
		return 0;
	}
	if (!one_shot) {
		sample_take(&t, &pre);
		nanosleep(&ts, NULL);
	}
	sample_take(&t, &now);
	*ret = stats_render(&t, &now, one_shot ? NULL : &pre);
	cJSON_Delete(pre.networks);
	return 0;
}

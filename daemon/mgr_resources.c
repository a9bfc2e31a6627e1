/* SPDX-License-Identifier: Apache-2.0 */
/* Resource limits of a container: HostConfig.Memory, MemorySwap, PidsLimit, NanoCpus,
 * CpuShares, CpuQuota and CpuPeriod as Docker takes them, kept in extra.Resources, handed to
 * the runtime (cgroups) at start and shown again in inspect; the OOM kill a shim recorded. */
#include "daemon/mgr_internal.h"
#include "runtime/runtime.h"

#define MEMORY_MIN (6LL << 20)       /* Docker's minimum: 6 MB */
#define CPU_PERIOD_DEFAULT 100000LL  /* µs, the kernel's default CFS period */

static const char *const resource_keys[] = { "Memory", "MemorySwap", "PidsLimit", "NanoCpus",
					     "CpuShares", "CpuQuota", "CpuPeriod" };

/* An integral JSON number (absent or null: 0). */
static int json_int64_member(const cJSON *obj, const char *key, int64_t *ret, struct berr *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	*ret = 0;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsNumber(v) || v->valuedouble > 9.0e15 || v->valuedouble < -9.0e15 ||
	    (double)(int64_t)v->valuedouble != v->valuedouble)
		return berr_set(err, -EINVAL, "field HostConfig.%s must be an integer", key);
	*ret = (int64_t)v->valuedouble;
	return 0;
}

struct resources {
	int64_t memory, memory_swap, pids, nano_cpus, shares, quota, period;
};

static int resources_read(const cJSON *host, struct resources *r, struct berr *err)
{
	int64_t *dst[] = { &r->memory, &r->memory_swap, &r->pids, &r->nano_cpus, &r->shares,
			   &r->quota, &r->period };
	int ret = 0;

	for (size_t i = 0; i < ARRAY_SIZE(dst) && ret >= 0; i++)
		ret = json_int64_member(host, resource_keys[i], dst[i], err);
	return ret;
}

static int memory_check(struct resources *r, struct berr *err)
{
	if (r->memory < 0)
		return berr_set(err, -EINVAL, "invalid memory limit %lld", (long long)r->memory);
	if (r->memory > 0 && r->memory < MEMORY_MIN)
		return berr_set(err, -EINVAL, "Minimum memory limit allowed is 6MB");
	if (r->memory_swap < -1)
		return berr_set(err, -EINVAL, "invalid memory+swap limit %lld",
				(long long)r->memory_swap);
	if (r->memory_swap != 0 && r->memory_swap != -1 && r->memory == 0)
		return berr_set(err, -EINVAL, "You should always set the Memory limit when using "
				"Memoryswap limit");
	if (r->memory_swap > 0 && r->memory_swap < r->memory)
		return berr_set(err, -EINVAL, "Minimum memoryswap limit should be larger than "
				"memory limit, see usage");
	if (r->memory > 0 && r->memory_swap == 0)
		r->memory_swap = 2 * r->memory;   /* Docker's default: as much swap as memory */
	return 0;
}

static int cpu_check(struct resources *r, struct berr *err)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	if (r->nano_cpus < 0 || (r->nano_cpus > 0 && r->nano_cpus < 10000000) ||
	    (ncpu > 0 && r->nano_cpus > ncpu * 1000000000LL))
		return berr_set(err, -EINVAL, "Range of CPUs is from 0.01 to %ld.00, as there are "
				"only %ld CPUs available", ncpu, ncpu);
	if (r->nano_cpus > 0 && (r->quota > 0 || r->period > 0))
		return berr_set(err, -EINVAL, "Conflicting options: Nano CPUs and CPU Period/Quota "
				"cannot both be set");
	if (r->period != 0 && (r->period < 1000 || r->period > 1000000))
		return berr_set(err, -EINVAL, "CPU cfs period can not be less than 1ms (i.e. 1000) "
				"or larger than 1s (i.e. 1000000)");
	if (r->quota != 0 && r->quota != -1 && r->quota < 1000)
		return berr_set(err, -EINVAL, "CPU cfs quota can not be less than 1ms (i.e. 1000)");
	if (r->shares < 0 || r->shares > 262144)
		return berr_set(err, -EINVAL, "invalid CPU shares %lld: 2 to 262144",
				(long long)r->shares);
	if (r->pids < 0)
		r->pids = 0;  /* -1: unlimited, as 0 */
	if (r->quota < 0)
		r->quota = 0;
	return 0;
}

int mgr_ctr_resources_parse(const cJSON *host, cJSON *extra, struct berr *err)
{
	int64_t vals[ARRAY_SIZE(resource_keys)];
	struct resources r;
	cJSON *o;
	int ret;

	ret = resources_read(host, &r, err);
	if (ret >= 0)
		ret = memory_check(&r, err);
	if (ret >= 0)
		ret = cpu_check(&r, err);
	if (ret < 0)
		return ret;
	vals[0] = r.memory, vals[1] = r.memory_swap, vals[2] = r.pids, vals[3] = r.nano_cpus;
	vals[4] = r.shares, vals[5] = r.quota, vals[6] = r.period;
	o = cJSON_AddObjectToObject(extra, "Resources");
	for (size_t i = 0; i < ARRAY_SIZE(resource_keys); i++)
		cJSON_AddNumberToObject(o, resource_keys[i], (double)vals[i]);
	return 0;
}

static int64_t resource_get(const struct bcontainer *c, const char *key)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(c->extra, "Resources");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

void mgr_ctr_resources_spec(const struct bcontainer *c, struct rt_spec *spec)
{
	int64_t nano = resource_get(c, "NanoCpus"), quota = resource_get(c, "CpuQuota");
	int64_t period = resource_get(c, "CpuPeriod");

	spec->memory_max = resource_get(c, "Memory");
	spec->memory_swap_max = resource_get(c, "MemorySwap");
	spec->pids_max = resource_get(c, "PidsLimit");
	spec->cpu_shares = resource_get(c, "CpuShares");
	spec->cpu_period_us = period > 0 ? period : CPU_PERIOD_DEFAULT;
	spec->cpu_quota_us = nano > 0 ? nano * spec->cpu_period_us / 1000000000LL : quota;
	if (spec->cpu_shares == 1)
		spec->cpu_shares = 2;   /* the kernel's minimum */
}

void mgr_render_resources(cJSON *host_config, const struct bcontainer *c)
{
	for (size_t i = 0; i < ARRAY_SIZE(resource_keys); i++)
		cJSON_AddNumberToObject(host_config, resource_keys[i],
					(double)resource_get(c, resource_keys[i]));
}

/* ---- OOM kills ---- */

bool mgr_ctr_oom_killed(const struct bcontainer *c)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c->extra, "OOMKilled"));
}

void mgr_ctr_oom_set(struct bcontainer *c, bool oom)
{
	if (!c->extra)
		c->extra = cJSON_CreateObject();
	cJSON_DeleteItemFromObjectCaseSensitive(c->extra, "OOMKilled");
	if (oom)
		cJSON_AddTrueToObject(c->extra, "OOMKilled");
}

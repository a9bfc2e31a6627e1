/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for what a CNI runtime hands berth-cni (plugins/cni/config.c) and for the
 * results it reads and writes (plugins/cni/result.c). Whatever the bytes: a decoding either
 * succeeds with a supported version and bounded, checked values, or fails with one of the
 * spec's codes and a message; a prevResult that converts converts again to the same JSON, and
 * every error object is valid JSON.
 *
 * Input: CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME and CNI_ARGS separated by NUL
 * bytes (a missing one is unset), then the configuration as stdin. */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "plugins/cni/cni.h"

#define FUZZ_ENV_VARS 5

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool code_known(int code)
{
	static const int codes[] = { 1, 2, 3, 4, 5, 6, 7, 11, 50, 51, 100, 110, 999 };

	for (size_t i = 0; i < ARRAY_SIZE(codes); i++)
		if (code == codes[i])
			return true;
	return false;
}

static void fuzz_error_check(const struct cni_error *err, const char *version)
{
	cJSON *j = cni_error_json(err, version);
	char *text = cJSON_PrintUnformatted(j);
	cJSON *back = text ? cJSON_Parse(text) : NULL;

	if (!code_known(err->code) || !err->msg[0] || !back)
		abort();
	cJSON_Delete(back);
	free(text);
	cJSON_Delete(j);
}

/* Converting a converted result again changes nothing: the same JSON text (not cJSON_Compare,
 * which finds a number that overflowed to infinity, printed as null, unequal to itself). */
static void fuzz_result_check(const cJSON *r, const char *version)
{
	struct cni_error err = { 0 };
	cJSON *once = cni_result_convert(r, version, &err), *twice;
	char *a, *b;

	if (!once) {
		fuzz_error_check(&err, version);
		return;
	}
	twice = cni_result_convert(once, version, &err);
	if (!twice)
		abort();
	a = cJSON_PrintUnformatted(once);
	b = cJSON_PrintUnformatted(twice);
	if (!a || !b || strcmp(a, b) != 0)
		abort();
	free(a);
	free(b);
	cJSON_Delete(twice);
	cJSON_Delete(once);
}

static void fuzz_call_check(const struct cni_call *c)
{
	struct cni_error err = { 0 };
	cJSON *x;

	if (c->cmd != CNI_CMD_VERSION && !cni_version_supported(c->version))
		abort();
	if (cJSON_GetArraySize(c->ips) > 2 || !c->aliases || !c->ports ||
	    strlen(c->ifname) >= IFNAME_LEN || strchr(c->name, '/') || strchr(c->network, '/'))
		abort();
	if (!c->prev)
		return;
	fuzz_result_check(c->prev, c->version);
	x = cni_check_expect(c->prev, c->ifname, c->netns, &err);
	if (!x)
		fuzz_error_check(&err, c->version);
	cJSON_Delete(x);
	/* the configuration as berthd's reply: shapes the ADD result may meet */
	x = cni_result_build(c->conf, c->prev, c->version, &err);
	if (x)
		fuzz_result_check(x, c->version);
	cJSON_Delete(x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *vars[FUZZ_ENV_VARS] = { NULL };
	const char *p = (const char *)data, *end = p + size;
	struct cni_error err;
	struct cni_call c;
	struct cni_env env;

	for (int i = 0; i < FUZZ_ENV_VARS && p < end; i++) {
		const char *nul = memchr(p, '\0', (size_t)(end - p));

		if (!nul)
			break;
		vars[i] = xmalloc((size_t)(nul - p) + 1);
		memcpy(vars[i], p, (size_t)(nul - p) + 1);
		p = nul + 1;
	}
	env = (struct cni_env){ .command = vars[0], .containerid = vars[1], .netns = vars[2],
				.ifname = vars[3], .args = vars[4] };
	if (cni_call_decode(&env, p, (size_t)(end - p), &c, &err) < 0)
		fuzz_error_check(&err, c.version);
	else
		fuzz_call_check(&c);
	cni_call_free(&c);
	for (int i = 0; i < FUZZ_ENV_VARS; i++)
		free(vars[i]);
	return 0;
}

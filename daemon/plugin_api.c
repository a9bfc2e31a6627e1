/* SPDX-License-Identifier: Apache-2.0 */
#include "daemon/plugin_api.h"

#include <inttypes.h>

#include "common/util.h"
#include "daemon/http_util.h"
#include "daemon/manager.h"
#include "plugins/docker/dkp.h"

static char *plugin_reply_text(cJSON *reply)
{
	char *s;

	if (!reply)
		return xstrdup("{}");
	http_json_utf8_fix(reply);
	s = cJSON_PrintUnformatted(reply);
	return s ? s : xstrdup("{}");
}

void plugin_serve(struct manager *m, const char *method, const char *path, const char *body,
		  size_t len, int *ret_status, char **ret_body)
{
	struct dkp_request q;
	struct berr err = BERR_INIT;
	_cleanup_json_ cJSON *reply = NULL;
	uint64_t t0 = time_mono_ns();
	int r;

	r = dkp_request_decode(method, path, body, len, &q, &err);
	if (r >= 0)
		r = mgr_remote_call(m, &q, &reply, &err);
	if (r < 0) {
		/* dockerd shows {"Err"} to the user as "<call>: <message>" whatever the status */
		*ret_status = http_status_from_errno(r);
		if (*ret_status == 304)
			*ret_status = 409;
		*ret_body = dkp_error_text(berr_str(&err));
		if (*ret_status >= 500)
			blog_warn("plugin: %s: %s", path, berr_str(&err));
		else
			blog_info("plugin: %s refused: %s", path, berr_str(&err));
	} else {
		*ret_status = 200;
		*ret_body = plugin_reply_text(reply);
	}
	blog_debug("plugin: %s %d %" PRIu64 "us", path, *ret_status, (time_mono_ns() - t0) / 1000);
	dkp_request_done(&q);
}

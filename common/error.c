/* SPDX-License-Identifier: Apache-2.0 */
#include "common/error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int berr_setv(struct berr *err, int code, const char *fmt, va_list ap)
{
	if (code > 0)
		code = -code;
	if (code == 0)
		code = -EIO;
	if (!err)
		return code;
	err->code = code;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	return code;
}

int berr_set(struct berr *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	code = berr_setv(err, code, fmt, ap);
	va_end(ap);
	return code;
}

int berr_errno(struct berr *err, int code, const char *fmt, ...)
{
	va_list ap;
	size_t len;

	va_start(ap, fmt);
	code = berr_setv(err, code, fmt, ap);
	va_end(ap);
	if (err) {
		len = strlen(err->msg);
		snprintf(err->msg + len, sizeof(err->msg) - len, ": %s", strerror(-code));
	}
	return code;
}

int berr_prefix(struct berr *err, const char *fmt, ...)
{
	char old[BERR_MSG_MAX];
	va_list ap;
	size_t len;

	if (!err)
		return 0;
	memcpy(old, err->msg, sizeof(old));
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	len = strlen(err->msg);
	snprintf(err->msg + len, sizeof(err->msg) - len, ": %s", old[0] ? old : strerror(-err->code));
	return err->code;
}

void berr_clear(struct berr *err)
{
	if (!err)
		return;
	err->code = 0;
	err->msg[0] = '\0';
}

const char *berr_str(const struct berr *err)
{
	if (!err)
		return "unknown error";
	if (err->msg[0])
		return err->msg;
	return err->code ? strerror(-err->code) : "success";
}

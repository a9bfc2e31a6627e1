/* SPDX-License-Identifier: Apache-2.0 */
#include "daemon/http_util.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "common/util.h"

static int http_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int http_url_decode(const char *in, size_t len, char *out, size_t out_size)
{
	size_t i = 0, o = 0;
	int hi, lo;
	char c;

	if (out_size == 0)
		return -ENAMETOOLONG;
	while (i < len) {
		c = in[i++];
		if (c == '%') {
			if (len - i < 2)
				return -EINVAL;
			hi = http_hex_value(in[i]);
			lo = http_hex_value(in[i + 1]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return -EINVAL;
			c = (char)(hi * 16 + lo);
			i += 2;
		} else if (c == '\0') {
			return -EINVAL;
		}
		if (o + 1 >= out_size) {
			out[o] = '\0';
			return -ENAMETOOLONG;
		}
		out[o++] = c;
	}
	out[o] = '\0';
	return (int)o;
}

const char *http_path_strip_version(const char *path)
{
	const char *p = path;

	if (p[0] != '/' || p[1] != 'v' || !isdigit((unsigned char)p[2]))
		return path;
	p += 2;
	while (isdigit((unsigned char)*p))
		p++;
	if (*p != '.' || !isdigit((unsigned char)p[1]))
		return path;
	p++;
	while (isdigit((unsigned char)*p))
		p++;
	if (*p != '/' && *p != '\0')
		return path;
	return p;
}

/* Length of the segment starting at s (up to the next '/' or the end). */
static size_t http_segment_len(const char *s)
{
	const char *slash = strchr(s, '/');

	return slash ? (size_t)(slash - s) : strlen(s);
}

static int http_param_store(const char *seg, size_t len, bool slash_ok, struct http_params *ret)
{
	int r;

	if (ret->n >= HTTP_MAX_PARAMS)
		return -EINVAL;
	if (len == 0)
		return -EINVAL;
	r = http_url_decode(seg, len, ret->v[ret->n], sizeof(ret->v[ret->n]));
	if (r < 0)
		return r;
	if (r == 0 || (!slash_ok && strchr(ret->v[ret->n], '/')))
		return -EINVAL;
	ret->n++;
	return 0;
}

int http_path_match(const char *pattern, const char *path, struct http_params *ret)
{
	size_t plen, slen;
	int bad = 0, r;

	ret->n = 0;
	for (;;) {
		if (*pattern != '/' || *path != '/')
			return *pattern == *path ? 1 : 0;
		pattern++;
		path++;
		plen = http_segment_len(pattern);
		slen = http_segment_len(path);
		if (plen >= 3 && !strncmp(pattern + plen - 2, "*}", 2) && !pattern[plen]) {
			/* "{name*}" last: the rest of the path, slashes and all */
			r = http_param_store(path, strlen(path), true, ret);
			return r < 0 ? r : bad ? bad : 1;
		}
		if (plen >= 2 && pattern[0] == '{' && pattern[plen - 1] == '}') {
			r = http_param_store(path, slen, false, ret);
			if (r < 0 && !bad)
				bad = r;
		} else if (plen != slen || strncmp(pattern, path, plen) != 0) {
			return 0;
		}
		pattern += plen;
		path += slen;
		if (*pattern == '\0' && *path == '\0')
			return bad ? bad : 1;
	}
}

static const struct {
	const char *name;
	int sig;
} http_signals[] = {
	{ "HUP", SIGHUP },	 { "INT", SIGINT },	  { "QUIT", SIGQUIT },
	{ "ILL", SIGILL },	 { "TRAP", SIGTRAP },	  { "ABRT", SIGABRT },
	{ "IOT", SIGIOT },	 { "BUS", SIGBUS },	  { "FPE", SIGFPE },
	{ "KILL", SIGKILL },	 { "USR1", SIGUSR1 },	  { "SEGV", SIGSEGV },
	{ "USR2", SIGUSR2 },	 { "PIPE", SIGPIPE },	  { "ALRM", SIGALRM },
	{ "TERM", SIGTERM },	 { "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD },
	{ "CONT", SIGCONT },	 { "STOP", SIGSTOP },	  { "TSTP", SIGTSTP },
	{ "TTIN", SIGTTIN },	 { "TTOU", SIGTTOU },	  { "URG", SIGURG },
	{ "XCPU", SIGXCPU },	 { "XFSZ", SIGXFSZ },	  { "VTALRM", SIGVTALRM },
	{ "PROF", SIGPROF },	 { "WINCH", SIGWINCH },	  { "IO", SIGIO },
	{ "POLL", SIGPOLL },	 { "PWR", SIGPWR },	  { "SYS", SIGSYS },
};

/* "123" -> 123; anything else (empty, sign, junk, overflow) -> -1. */
static long http_digits_value(const char *s)
{
	long v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s) || v > 100000)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v;
}

/* "RTMIN", "RTMIN+3", "RTMAX-2" -> signal number or -1. */
static long http_signal_rt(const char *s)
{
	long base, off = 0;

	if (strncasecmp(s, "RTMIN", 5) == 0)
		base = SIGRTMIN;
	else if (strncasecmp(s, "RTMAX", 5) == 0)
		base = SIGRTMAX;
	else
		return -1;
	s += 5;
	if (*s == '\0')
		return base;
	if ((*s != '+' && *s != '-') || (off = http_digits_value(s + 1)) < 0)
		return -1;
	return *s == '+' ? base + off : base - off;
}

int http_signal_parse(const char *s, int *ret_sig)
{
	long v;
	size_t i;

	if (!s)
		return -EINVAL;
	v = http_digits_value(s);
	if (v < 0) {
		if (strncasecmp(s, "SIG", 3) == 0)
			s += 3;
		for (i = 0; i < sizeof(http_signals) / sizeof(http_signals[0]); i++)
			if (strcasecmp(s, http_signals[i].name) == 0)
				v = http_signals[i].sig;
		if (v < 0)
			v = http_signal_rt(s);
	}
	if (v < 1 || v > SIGRTMAX)
		return -EINVAL;
	*ret_sig = (int)v;
	return 0;
}

int http_bool_parse(const char *s, bool def, bool *ret)
{
	if (!s || !*s) {
		*ret = def;
		return 0;
	}
	if (!strcasecmp(s, "1") || !strcasecmp(s, "true") || !strcasecmp(s, "yes")) {
		*ret = true;
		return 0;
	}
	if (!strcasecmp(s, "0") || !strcasecmp(s, "false") || !strcasecmp(s, "no")) {
		*ret = false;
		return 0;
	}
	return -EINVAL;
}

int http_uint_parse(const char *s, long def, long max, long *ret)
{
	long v = 0;

	if (!s || !*s) {
		*ret = def;
		return 0;
	}
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		if (v > (LONG_MAX - 9) / 10)
			return -ERANGE;
		v = v * 10 + (*s - '0');
	}
	if (v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

int http_filters_name(const char *filters, char *buf, size_t size)
{
	_cleanup_json_ cJSON *f = NULL;
	const cJSON *first;
	int r = http_filters_parse(filters, &f);

	if (r <= 0)
		return r;
	first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(f, "name"), 0);
	if (!first || !*first->valuestring)
		return 0;
	if (strlen(first->valuestring) >= size)
		return -ENAMETOOLONG;
	memcpy(buf, first->valuestring, strlen(first->valuestring) + 1);
	return 1;
}

/* Length of the well-formed UTF-8 sequence at s (n bytes available), 0 when there is none. */
static size_t http_utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	/* The second byte's range excludes overlong forms, surrogates and > U+10FFFF. */
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

size_t http_utf8_invalid_at(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n;

	while (i < len) {
		n = http_utf8_seq(u + i, len - i);
		if (n == 0)
			return i;
		i += n;
	}
	return len;
}

char *http_utf8_escape(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len = strlen(s), i = 0, o = 0, n;
	char *out = xmalloc(len * 4 + 1);

	while (i < len) {
		n = http_utf8_seq(u + i, len - i);
		if (n == 0) {
			o += (size_t)sprintf(out + o, "\\x%02x", u[i++]);
			continue;
		}
		memcpy(out + o, u + i, n);
		o += n;
		i += n;
	}
	out[o] = '\0';
	return out;
}

static bool http_utf8_valid(const char *s)
{
	size_t len = strlen(s);

	return http_utf8_invalid_at(s, len) == len;
}

static void http_utf8_fix(char **s)
{
	char *fixed;

	if (http_utf8_valid(*s))
		return;
	fixed = http_utf8_escape(*s);
	cJSON_free(*s);
	*s = fixed;
}

void http_json_utf8_fix(cJSON *j)
{
	cJSON *it;

	if (!j)
		return;
	if (j->string && !(j->type & cJSON_StringIsConst))
		http_utf8_fix(&j->string);
	if (cJSON_IsString(j) && !(j->type & cJSON_IsReference))
		http_utf8_fix(&j->valuestring);
	cJSON_ArrayForEach(it, j)
		http_json_utf8_fix(it);
}

/* Past the string whose opening quote is at text[i]; *ret_at set on a \u0000 escape or NUL. */
static int http_json_skip_string(const char *text, size_t len, size_t *i, size_t *ret_at)
{
	for ((*i)++; *i < len; (*i)++) {
		if (text[*i] == '\0') {
			*ret_at = *i;
			return -EILSEQ;
		}
		if (text[*i] == '"')
			return 0;
		if (text[*i] != '\\')
			continue;
		if (len - *i >= 6 && !memcmp(text + *i, "\\u0000", 6)) {
			*ret_at = *i;
			return -EILSEQ;
		}
		(*i)++; /* the escaped character, a quote included */
	}
	return 0; /* unterminated: the parser reports it */
}

int http_json_scan(const char *text, size_t len, int max_depth, size_t *ret_at)
{
	int depth = 0, r;

	for (size_t i = 0; i < len; i++) {
		switch (text[i]) {
		case '\0':
			*ret_at = i;
			return -EILSEQ;
		case '"':
			r = http_json_skip_string(text, len, &i, ret_at);
			if (r < 0)
				return r;
			break;
		case '[':
		case '{':
			if (++depth > max_depth) {
				*ret_at = i;
				return -ELOOP;
			}
			break;
		case ']':
		case '}':
			depth--;
			break;
		}
	}
	return 0;
}

int http_status_from_errno(int code)
{
	switch (code < 0 ? -code : code) {
	case 0:
		return 200;
	case EALREADY:
		return 304;
	case EINVAL:
	case ERANGE:
	case ENAMETOOLONG:
	case EBADMSG:
	case EDOM:
	case EILSEQ:
	case ELOOP:
	case ENODEV:        /* a named host interface that does not exist (macvlan parent) */
	case EADDRNOTAVAIL: /* a host address that is not the host's (HostIp) */
		return 400;
	case EPERM:
	case EACCES:
		return 403;
	case ENOENT:
		return 404;
	case EEXIST:
	case EADDRINUSE:
	case EBUSY:
	case EISCONN:
	case ENOTCONN:
	case ESRCH:
	case ENOTEMPTY:
		return 409;
	case E2BIG:
	case EFBIG:
		return 413;
	case EOPNOTSUPP:
	case ENOSYS:
		return 501;
	default:
		return 500;
	}
}

int http_json_parse(const char *text, size_t len, int max_depth, cJSON **ret, struct berr *err)
{
	const char *end = NULL;
	size_t at = 0;
	int n;

	*ret = NULL;
	n = http_json_scan(text, len, max_depth, &at);
	if (n == -ELOOP)
		return berr_set(err, n, "JSON body nests arrays and objects deeper than %d levels "
				"(byte %zu)", max_depth, at);
	if (n < 0)
		return berr_set(err, n, "JSON body holds a NUL character (byte %zu)", at);
	/* len + 1 takes in the NUL after the text, so trailing garbage after the value is refused. */
	*ret = cJSON_ParseWithLengthOpts(text, len + 1, &end, true);
	if (!*ret)
		return berr_set(err, -EINVAL, "malformed JSON body: syntax error at byte %zu",
				end ? (size_t)(end - text) : (size_t)0);
	return 0;
}

int http_json_utf8_check(const cJSON *j, char *path, size_t size, struct berr *err)
{
	size_t len = strlen(path), at, n;
	const cJSON *it;
	int i = 0, r;

	cJSON_ArrayForEach(it, j) {
		if (cJSON_IsArray(j)) {
			snprintf(path + len, size - len, "[%d]", i++);
		} else {
			_cleanup_free_ char *key = http_utf8_escape(it->string);

			snprintf(path + len, size - len, "%s%s", len ? "." : "", key);
			n = strlen(it->string);
			at = http_utf8_invalid_at(it->string, n);
			if (at < n)
				return berr_set(err, -EILSEQ, "the name of field %s is not valid UTF-8 "
						"(byte 0x%02x at offset %zu)", path,
						(unsigned char)it->string[at], at);
		}
		if (cJSON_IsString(it)) {
			n = strlen(it->valuestring);
			at = http_utf8_invalid_at(it->valuestring, n);
			if (at < n)
				return berr_set(err, -EILSEQ, "field %s is not valid UTF-8 (byte 0x%02x "
						"at offset %zu)", path, (unsigned char)it->valuestring[at],
						at);
		}
		r = http_json_utf8_check(it, path, size, err);
		if (r < 0)
			return r;
		path[len] = '\0';
	}
	return 0;
}

/* One filter's values: ["a", "b"] or {"a": true, "b": true} -> a new array of strings. */
static cJSON *http_filter_values(const cJSON *v)
{
	cJSON *out = cJSON_CreateArray();
	const cJSON *it;

	cJSON_ArrayForEach(it, v) {
		const char *s = cJSON_IsArray(v) ? (cJSON_IsString(it) ? it->valuestring : NULL)
						 : (cJSON_IsBool(it) ? it->string : NULL);

		if (!s) {
			cJSON_Delete(out);
			return NULL;
		}
		if (cJSON_IsArray(v) || cJSON_IsTrue(it))
			cJSON_AddItemToArray(out, cJSON_CreateString(s));
	}
	return out;
}

int http_filters_parse(const char *filters, cJSON **ret)
{
	cJSON *root, *out;
	const cJSON *it;

	*ret = NULL;
	if (!filters || !*filters)
		return 0;
	root = cJSON_ParseWithLength(filters, strlen(filters));
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return -EINVAL;
	}
	out = cJSON_CreateObject();
	cJSON_ArrayForEach(it, root) {
		cJSON *vals = (cJSON_IsArray(it) || cJSON_IsObject(it)) ? http_filter_values(it) : NULL;

		if (!vals || http_utf8_invalid_at(it->string, strlen(it->string)) < strlen(it->string)) {
			cJSON_Delete(vals);
			cJSON_Delete(out);
			cJSON_Delete(root);
			return -EINVAL;
		}
		cJSON_AddItemToObject(out, it->string, vals);
	}
	cJSON_Delete(root);
	*ret = out;
	return 1;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for the CLI's HTTP reply parser (cli/http_reply.c). The input is a reply
 * as berthd would send it; it is parsed whole, then cut in pieces (sizes drawn from the input
 * itself, down to one byte), then with streaming of 2xx bodies, with a small body bound, and
 * with tight line and header bounds. How the bytes are cut must not change the outcome
 * (status, body, error code), and what was streamed must equal what was collected. Built with -fsanitize=fuzzer it is a fuzzer (`make fuzz`);
 * linked with replay.c (BERTH_FUZZ_REPLAY) it replays files and directories of inputs
 * (`make fuzz-replay`, the seed corpus). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/http_reply.h"
#include "common/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_BODY_MAX (1u << 20)

/* How one parse runs. */
struct how {
	bool whole;          /* all bytes in one piece, else pieces of 1..64 bytes */
	bool stream;         /* 2xx bodies to a callback */
	size_t body_max;
	bool tight;          /* lines of 40 bytes, header sections of 200: the bounds are hit */
};

struct outcome {
	int ret;             /* the first error of feed or eof, 0 if none */
	bool done;
	int status;
	char *body;          /* collected, or streamed */
	size_t len;
};

struct stream {
	char *buf;
	size_t len;
};

static int stream_take(void *ud, const char *p, size_t n, struct berr *err)
{
	struct stream *s = ud;

	s->buf = xrealloc(s->buf, s->len + n + 1);
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	return 0;
}

/* Piece sizes cycle through the input's first bytes. */
static size_t piece_size(const uint8_t *data, size_t size, size_t i, const struct how *h)
{
	if (h->whole || size == 0)
		return size ? size : 1;
	return (size_t)(data[i % (size < 8 ? size : 8)] % 64) + 1;
}

/* What must hold after every feed. */
static void invariants(const struct http_reply *r, const struct how *h)
{
	if (r->line_len > r->line_max || r->head_bytes > r->head_max)
		abort();
	if (!h->stream && r->len > h->body_max)
		abort();
	if (r->body && r->body[r->len] != '\0')
		abort();   /* a collected body is NUL-terminated */
}

static void outcome_take(struct outcome *o, struct http_reply *r, struct stream *s)
{
	if (s->len && r->body)
		abort();   /* a body is streamed or collected, never both */
	o->done = http_reply_done(r);
	o->status = r->status;
	o->body = s->len ? s->buf : steal_ptr(r->body);
	o->len = s->len ? s->len : r->len;
	if (!s->len)
		free(s->buf);
}

static void parse(const uint8_t *data, size_t size, const struct how *h, struct outcome *o)
{
	struct stream s = { 0 };
	struct berr err = BERR_INIT;
	struct http_reply r;
	size_t off = 0, n;

	http_reply_init(&r, h->body_max, h->stream ? stream_take : NULL, &s);
	if (h->tight) {
		r.line_max = 40;
		r.head_max = 200;
	}
	for (size_t i = 0; off < size && o->ret == 0; i++) {
		n = piece_size(data, size, i, h);
		if (n > size - off)
			n = size - off;
		o->ret = http_reply_feed(&r, (const char *)data + off, n, &err);
		invariants(&r, h);
		if (o->ret == 0 && http_reply_done(&r))
			break;   /* what the client does: stop reading */
		off += n;
	}
	if (o->ret == 0)
		o->ret = http_reply_eof(&r, &err);
	if (o->ret < 0 && !err.msg[0])
		abort();   /* every error says why */
	if (o->ret == 0 && !http_reply_done(&r))
		abort();   /* success means a complete reply */
	outcome_take(o, &r, &s);
	http_reply_release(&r);
}

static void same(const struct outcome *a, const struct outcome *b)
{
	if (a->ret != b->ret || a->done != b->done)
		abort();
	if (a->ret == 0 && (a->status != b->status || a->len != b->len))
		abort();
	if (a->ret == 0 && a->len && memcmp(a->body, b->body, a->len) != 0)
		abort();
}

static void outcome_free(struct outcome *o)
{
	free(o->body);
	memset(o, 0, sizeof(*o));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct how whole = { true, false, FUZZ_BODY_MAX, false },
				cut = { false, false, FUZZ_BODY_MAX, false },
				streamed = { false, true, FUZZ_BODY_MAX, false },
				small = { false, false, 16, false },
				tight_whole = { true, false, FUZZ_BODY_MAX, true },
				tight_cut = { false, false, FUZZ_BODY_MAX, true };
	struct outcome ref = { 0 }, o = { 0 };

	parse(data, size, &whole, &ref);
	parse(data, size, &cut, &o);
	same(&ref, &o);   /* how the bytes are cut changes nothing */
	outcome_free(&o);
	parse(data, size, &streamed, &o);
	if (ref.ret == 0 && ref.status >= 200 && ref.status < 300)
		same(&ref, &o);   /* the streamed bytes are the collected ones */
	outcome_free(&o);
	parse(data, size, &small, &o);
	if (o.ret == 0)
		same(&ref, &o);
	else if (o.ret != -E2BIG && o.ret != ref.ret)
		abort();   /* a smaller body bound can only add -E2BIG */
	outcome_free(&o);
	outcome_free(&ref);
	parse(data, size, &tight_whole, &ref);
	parse(data, size, &tight_cut, &o);
	same(&ref, &o);
	outcome_free(&o);
	outcome_free(&ref);
	return 0;
}


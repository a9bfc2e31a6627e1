/* SPDX-License-Identifier: Apache-2.0 */
/* An incremental parser of one HTTP/1.x reply: status line, headers, then a body framed by
 * Content-Length, by the chunked transfer coding, or by the end of the connection. Bytes are
 * fed as they arrive, in pieces of any size (down to one byte); the parser tells when the
 * reply is complete, so the caller never waits for more than the reply. Interim 1xx replies
 * are skipped. Every line, the header section and a collected body are bounded. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define HTTP_REPLY_LINE_MAX 8192           /* one status, header, chunk-size or trailer line */
#define HTTP_REPLY_HEAD_MAX (64u << 10)    /* a header section (status line + headers) */

/* Takes a piece of a 2xx body as it arrives; returns 0, or -errno with err set. */
typedef int (*http_body_fn)(void *ud, const char *data, size_t len, struct berr *err);

struct http_reply {
	/* Set by http_reply_init(); the two limits may be lowered before feeding (tests). */
	size_t body_max;        /* a collected body longer than this fails with -E2BIG */
	size_t line_max;        /* HTTP_REPLY_LINE_MAX */
	size_t head_max;        /* HTTP_REPLY_HEAD_MAX */
	http_body_fn on_body;   /* NULL: collect every body; else 2xx bodies stream to it */
	void *ud;
	/* Results. */
	int status;             /* the final status code; 0 until its line is parsed */
	char *body;             /* collected body, NUL-terminated; NULL if empty or streamed */
	size_t len;
	/* Parser state (private). */
	int state;
	int error;              /* the -errno that stopped the parser, 0 if none */
	bool chunked, have_length, streaming, got_bytes;
	uint64_t length;        /* Content-Length while reading headers, then bytes left */
	size_t head_bytes;      /* bytes of the header (or trailer) section so far */
	size_t cap;
	size_t line_len;
	char line[HTTP_REPLY_LINE_MAX + 1];
};

void http_reply_init(struct http_reply *r, size_t body_max, http_body_fn on_body, void *ud);

/* Parse the next len bytes of the reply. Bytes after the end of the reply are ignored.
 * Returns 0 (more may be needed: see http_reply_done()), or -errno with err set: -EBADMSG for
 * a malformed reply, -E2BIG for a collected body over body_max, on_body's error. */
int http_reply_feed(struct http_reply *r, const char *data, size_t len, struct berr *err);

/* The connection was closed: 0 when that completes the reply (a body framed by the end of the
 * connection, or a reply already complete), -EPIPE otherwise. */
int http_reply_eof(struct http_reply *r, struct berr *err);

bool http_reply_done(const struct http_reply *r);

/* Frees the collected body (not the struct). */
void http_reply_release(struct http_reply *r);

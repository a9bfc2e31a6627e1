/* SPDX-License-Identifier: Apache-2.0 */
/* Internals of the nft module. Not a public header. */
#pragma once

#include <linux/netlink.h>

#include "nft/nft.h"

struct nft_batch {
	struct nft_names names;
	char *buf;
	size_t len, cap;
	uint32_t seq;
	char **labels;           /* one per message after the batch begin */
	size_t n_labels, cap_labels;
	bool ended;
	uint32_t set_id;         /* NFTA_SET_ID of sets created in this batch */
};

char *nft_batch_room(struct nft_batch *b);
void nft_batch_push(struct nft_batch *b, const char *label);
struct nlmsghdr *nft_batch_hdr(struct nft_batch *b, int type, int family, uint16_t flags);

/* A non-blocking socket subscribed to a netfilter multicast group (monitor.c). */
int nft_group_open(int group, int rcvbuf, const char *what, int *ret_fd, struct berr *err);

/* Set definitions (elem.c). */
struct nft_set_def {
	const char *name;
	bool bridge;
	uint32_t key_type, key_len;
	uint32_t data_type, data_len;   /* maps */
};
const struct nft_set_def *nft_set_def(enum nft_set_id id);

/* ---- answers of the kernel (batch.c), separated from the socket so tests can feed them ---- */

/* What is awaited for the messages numbered first..last: one acknowledgement each for the `want`
 * messages from `acked` on. An answer numbered outside first..last belongs to an earlier request
 * (it arrived after that one gave up) and is dropped. */
struct nft_acks {
	uint32_t first, last;
	uint32_t acked;
	size_t want, got;
	size_t replies;          /* other answers in range (a GET's object) */
	size_t stale;            /* answers dropped */
	bool whole;              /* the kernel refused the batch itself (its begin): nothing follows */
	int error;               /* of the lowest-numbered refused message, 0 if none */
	uint32_t error_seq;
	char text[256];          /* its extended-ack message */
};

/* A batch of n messages numbered first (its begin) .. first + n + 1 (its end). */
void nft_acks_for_batch(struct nft_acks *a, uint32_t first, size_t n);
/* One request asking for an acknowledgement. */
void nft_acks_for_request(struct nft_acks *a, uint32_t seq);
/* Credits the messages of one read. */
void nft_acks_take(struct nft_acks *a, const void *buf, size_t len);
bool nft_acks_done(const struct nft_acks *a);

/* A connection over an existing socket (tests: one end of a socketpair); `seq` is the last
 * sequence number used, `timeout_ms` the longest wait for the answers of one batch. */
struct nft_conn *nft_conn_adopt(int fd, uint32_t portid, uint32_t seq, int timeout_ms);

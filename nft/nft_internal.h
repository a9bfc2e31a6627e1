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

/* Set definitions (elem.c). */
struct nft_set_def {
	const char *name;
	bool bridge;
	uint32_t key_type, key_len;
	uint32_t data_type, data_len;   /* maps */
};
const struct nft_set_def *nft_set_def(enum nft_set_id id);

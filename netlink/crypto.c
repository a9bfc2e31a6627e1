/* SPDX-License-Identifier: Apache-2.0 */
/* What the kernel offers to encrypt an overlay's traffic: WireGuard devices and IPsec ESP
 * security associations. Probed by trying both in a scratch namespace that vanishes afterwards,
 * so no real namespace ever sees the probe. */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/xfrm.h>

#include "common/util.h"

/* RTM_NEWLINK of kind wireguard. */
static int probe_wireguard(struct berr *err)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	_cleanup_(nlx_closep) struct nlx *nl = NULL;
	struct nlattr *info;
	int r = nlx_open(-1, &nl, err);

	if (r < 0 || !msg) {
		nlmsg_free(msg);
		return r < 0 ? r : berr_set(err, -ENOMEM, "out of memory");
	}
	if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    nla_put_string(msg, IFLA_IFNAME, "bprobe0") < 0 ||
	    !(info = nla_nest_start(msg, IFLA_LINKINFO)) ||
	    nla_put_string(msg, IFLA_INFO_KIND, "wireguard") < 0) {
		nlmsg_free(msg);
		return berr_set(err, -ENOMEM, "out of memory");
	}
	nla_nest_end(msg, info);
	r = nlx_talk(nl, msg, NULL, NULL);
	return r < 0 ? nlx_fail(nl, r, err, "WireGuard") : 0;
}

static int algo_put(struct nl_msg *msg, int type, const char *name, unsigned key_bits)
{
	uint8_t buf[sizeof(struct xfrm_algo) + 64] = { 0 };
	struct xfrm_algo *a = (struct xfrm_algo *)buf;

	strscpy(a->alg_name, name, sizeof(a->alg_name));
	a->alg_key_len = key_bits;
	memset(a->alg_key, 0x42, key_bits / 8);
	return nla_put(msg, type, (int)(sizeof(*a) + key_bits / 8), a);
}

/* XFRM_MSG_NEWSA: an ESP transport-mode security association (AES-CBC + HMAC-SHA256). */
static int probe_esp(struct berr *err)
{
	struct xfrm_usersa_info sa = { 0 };
	struct nl_msg *msg = nlmsg_alloc_simple(XFRM_MSG_NEWSA, NLM_F_CREATE | NLM_F_EXCL);
	_cleanup_(nlx_closep) struct nlx *nl = NULL;
	int r = nlx_open_proto(-1, NETLINK_XFRM, &nl, err);

	if (r < 0 || !msg) {
		nlmsg_free(msg);
		return r < 0 ? berr_prefix(err, "IPsec") : berr_set(err, -ENOMEM, "out of memory");
	}
	sa.family = AF_INET;
	sa.id.proto = IPPROTO_ESP;
	sa.id.spi = htonl(0x1000);
	sa.id.daddr.a4 = htonl(0x0a000002);
	sa.saddr.a4 = htonl(0x0a000001);
	sa.mode = XFRM_MODE_TRANSPORT;
	sa.lft.soft_byte_limit = sa.lft.hard_byte_limit = XFRM_INF;
	sa.lft.soft_packet_limit = sa.lft.hard_packet_limit = XFRM_INF;
	if (nlmsg_append(msg, &sa, sizeof(sa), NLMSG_ALIGNTO) < 0 ||
	    algo_put(msg, XFRMA_ALG_CRYPT, "cbc(aes)", 128) < 0 ||
	    algo_put(msg, XFRMA_ALG_AUTH, "hmac(sha256)", 256) < 0) {
		nlmsg_free(msg);
		return berr_set(err, -ENOMEM, "out of memory");
	}
	r = nlx_talk(nl, msg, NULL, NULL);
	return r < 0 ? nlx_fail(nl, r, err, "IPsec ESP") : 0;
}

static int probe_here(void *arg, struct berr *err)
{
	struct nlx_crypto *c = arg;
	struct berr e = BERR_INIT;

	c->wireguard = probe_wireguard(&e) == 0;
	if (!c->wireguard)
		snprintf(c->wireguard_why, sizeof(c->wireguard_why), "%s", berr_str(&e));
	berr_clear(&e);
	c->esp = probe_esp(&e) == 0;
	if (!c->esp)
		snprintf(c->esp_why, sizeof(c->esp_why), "%s", berr_str(&e));
	return 0;
}

int nlx_crypto_probe(struct nlx_crypto *ret, struct berr *err)
{
	memset(ret, 0, sizeof(*ret));
	return netns_run_scratch(probe_here, ret, err);
}

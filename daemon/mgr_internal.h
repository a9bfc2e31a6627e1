/* SPDX-License-Identifier: Apache-2.0 */
/* Manager internals shared by the daemon/mgr_*.c files. Not a public header. */
#pragma once

#include <pthread.h>

#include "common/strmap.h"
#include "common/util.h"
#include "daemon/manager.h"
#include "drivers/driver.h"
#include "ipam/ipam.h"
#include "netlink/netlink.h"
#include "store/store.h"

struct net_entry {
	struct bnetwork n;
	const struct driver_ops *drv;
	struct ipam_pool pools[NET_MAX_SUBNETS];   /* parallel to n.subnets */
	/* Its bridges when it spills over several (mgr_spill.c): [0] is its own. */
	struct spill_bridge {
		bool up;
		size_t ports;
		/* interface indexes, 0 until asked (mgr_spill_nd.c): the bridge, its trunk's end on
		 * the own bridge, its uplink (the trunk's end on it) */
		int ifindex, trunk_ifindex, uplink_ifindex;
	} *spill;
	size_t n_spill;
	uint8_t br_mac[6];                         /* its own bridge's MAC, once it spills */
	bool br_mac_known;
	bool nd_sync;          /* its bridges hold its endpoints' ARP entries (mgr_spill_nd.c) */
};

struct remote_ep;

struct ep_entry {
	struct bendpoint e;
	bool persisted;        /* a row exists in the store */
	bool mac_given;        /* e.mac was asked for (CNI): it never follows the address */
	/* An endpoint of dockerd's (the remote driver, mgr_remote.c): its container_id is its own
	 * ID, it is persisted as metadata, not in the endpoints table. NULL for berth's. */
	struct remote_ep *remote;
	int br;                /* index of the bridge its host end is on (mgr_spill.c), -1: none */
};

/* A default route of a container's namespace, as berth last set it (memory only). */
struct ctr_route {
	bool set;
	struct ipaddr gw;
	char ifname[IFNAME_LEN];
};

struct ctr_entry {
	struct bcontainer c;
	int pidfd;              /* of the shim while running (-1 otherwise) */
	/* IPv4, IPv6: what the namespace has, when routes_known (mgr_sandbox_routes) */
	struct ctr_route routes[2];
	bool routes_known;
	bool dns_listening;     /* the embedded DNS has sockets in its namespace */
	bool stopping;
	int attach_pending;     /* attach requests not yet connected to the shim */
	bool removing;          /* a forced removal waits for the process to exit */
	unsigned exits;         /* exits seen since berthd started (wait condition=next-exit) */
};

static inline void json_deletep(cJSON **p)
{
	cJSON_Delete(*p);
}

/* A growable array of owned pointers. */
#define VEC(type)                \
	struct {                 \
		type **v;        \
		size_t n, cap;   \
	}

/* A file descriptor the event loop watches for a subsystem; the callback runs with the lock held. */
struct manager;
struct exit_watch;
typedef void (*mgr_watch_cb)(struct manager *m, int fd, void *ud);
struct mgr_watch {
	int fd;
	mgr_watch_cb cb;
	void *ud;
};

/* The manager lock is never held across anything slow: an image build runs before it is taken
 * (under image_lock), a container's files are removed after (mgr_tree_discard), waits for a
 * container release it (the condition variable, on CLOCK_MONOTONIC) and end at shutdown. */
struct manager {
	pthread_mutex_t lock;
	pthread_cond_t exited;      /* broadcast whenever a container stops running, and at shutdown */
	bool shutting_down;         /* SIGTERM: waits give up, containers keep running */
	pthread_mutex_t image_lock; /* one image build at a time; taken without the manager lock */
	/* Children that threads not holding the lock wait for (an image build): reaping "any
	 * child" is deferred until there are none, so it never steals their exit status. */
	unsigned unlocked_children;
	bool reap_deferred;
	char *root, *run;
	char *seccomp_path;         /* <run>/seccomp.bpf (rt_seccomp_export); NULL: not written */
	struct ipam_default_pool pools[MGR_MAX_POOLS];
	size_t n_pools;
	int lock_fd;
	struct store *store;
	int host_netns_fd;
	struct nlx *host_nl;
	struct drv_ctx drv;
	int epfd;                   /* epoll over shim pidfds */
	uint8_t host_id[32];
	size_t host_id_len;
	VEC(struct net_entry) nets;
	VEC(struct ep_entry) eps;
	struct strmap ep_groups;    /* container ID -> struct ep_group: its entries of eps */
	VEC(struct ctr_entry) ctrs;
	VEC(struct exec_entry) execs;   /* daemon/mgr_exec.c */
	VEC(struct mgr_watch) watches;
	VEC(struct exit_watch) exit_watches;   /* daemon/mgr_notify.c */
	bool creating_defaults;     /* the predefined networks are being created */
	struct fw_state *fw;        /* owned by daemon/mgr_fw.c */
	struct dns_state *dns;      /* owned by daemon/mgr_dns.c */
	struct reaper *reaper;      /* owned by daemon/mgr_reaper.c */
	struct event_ring *events;  /* owned by daemon/mgr_events.c */
	struct remote_state *remote; /* owned by daemon/mgr_remote*.c (Docker remote driver) */
	struct ext_state *ext;      /* owned by daemon/mgr_external.c */
	char *cni_dir;              /* CNI configuration lists (NULL or "": none) */
	char *api_socket;           /* berthd's socket, written into them */
	struct cluster *cl;         /* owned by daemon/mgr_cluster*.c; NULL without a cluster */
	char last_exit_id[ID_LEN + 1];   /* exit code of the last removed container, for wait */
	int last_exit_code;
};

#define vec_push(vec, item)                                                          \
	do {                                                                         \
		if ((vec).n == (vec).cap) {                                          \
			(vec).cap = (vec).cap ? (vec).cap * 2 : 16;                  \
			(vec).v = xrealloc((vec).v, (vec).cap * sizeof(*(vec).v));   \
		}                                                                    \
		(vec).v[(vec).n++] = (item);                                         \
	} while (0)

/* The endpoints of one container ID (m->ep_groups), in the order they were added. */
struct ep_group {
	char ctr_id[ID_LEN + 1];   /* the key */
	VEC(struct ep_entry) eps;
};

/* Remove element i (order kept). */
#define vec_remove(vec, i)                                                                 \
	do {                                                                               \
		memmove(&(vec).v[(i)], &(vec).v[(i) + 1], ((vec).n - (i) - 1) * sizeof(*(vec).v)); \
		(vec).n--;                                                                 \
	} while (0)

/* Step timings of one operation, logged at debug level ("store=85us join=950us ..."). */
struct steps {
	uint64_t last;
	char buf[256];
	size_t len;
};

static inline void steps_start(struct steps *s)
{
	s->last = time_mono_ns();
	s->buf[0] = '\0';
	s->len = 0;
}

static inline void steps_mark(struct steps *s, const char *what)
{
	uint64_t now = time_mono_ns();
	int n = snprintf(s->buf + s->len, sizeof(s->buf) - s->len, "%s%s=%lluus",
			 s->len ? " " : "", what, (unsigned long long)((now - s->last) / 1000));

	if (n > 0 && (size_t)n < sizeof(s->buf) - s->len)
		s->len += (size_t)n;
	s->last = now;
}

/* ---- lookups (lock held) ---- */
struct net_entry *mgr_net_find(struct manager *m, const char *ref, struct berr *err);
struct net_entry *mgr_net_by_id(struct manager *m, const char *id);
struct ctr_entry *mgr_ctr_find(struct manager *m, const char *ref, struct berr *err);
struct ctr_entry *mgr_ctr_by_id(struct manager *m, const char *id);
struct ep_entry *mgr_ep_find(struct manager *m, const char *net_id, const char *ctr_id);
/* Endpoints of a container sorted by seq; *ret malloc'd. */
size_t mgr_ctr_eps(struct manager *m, const char *ctr_id, struct ep_entry ***ret);
/* The endpoints of a container ID, not copied (NULL when none): valid until one is added or
 * dropped. */
const struct ep_group *mgr_ep_group(struct manager *m, const char *ctr_id);
/* Every new entry of m->eps goes in through here (and out through mgr_ep_drop). */
void mgr_ep_add(struct manager *m, struct ep_entry *ep);
void mgr_ep_ungroup(struct manager *m, const struct ep_entry *ep);
size_t mgr_net_ep_count(struct manager *m, const char *net_id);
/* An endpoint on the network holds (or is acquiring) kernel state here: active or pending. */
bool mgr_net_has_live_eps(struct manager *m, const char *net_id);

bool mgr_net_predefined(const struct net_entry *n);
/* Subnets in use for `family`: the host's routes, the networks' subnets and berth IPAM's pools
 * (*ret malloc'd). A new subnet chosen from the default pools avoids them. */
int mgr_subnets_used(struct manager *m, int family, struct cidr **ret, size_t *ret_n,
		     struct berr *err);
/* Create a network from a Docker-shaped request (lock held); id NULL: a new ID, else that one
 * (-EEXIST when taken). *ret (may be NULL) is the network, also when it failed but was kept. */
int mgr_net_create_locked(struct manager *m, const cJSON *req, const char *id,
			  struct net_entry **ret, struct berr *err);
int mgr_default_networks(struct manager *m, struct berr *err);
int mgr_net_remove_locked(struct manager *m, struct net_entry *n, struct berr *err);
/* This host's part of a removal (intent, kernel, firewall, store, memory), no checks. */
int mgr_net_remove_local(struct manager *m, struct net_entry *n, struct berr *err);
/* The network's row and its gateway/auxiliary allocations, in one transaction. */
int mgr_net_store_put(struct manager *m, struct net_entry *e, struct berr *err);
void mgr_net_entry_free(struct net_entry *e);
/* Fresh pools of the network's subnets, gateways and auxiliary addresses reserved. */
int mgr_net_pools_init(struct net_entry *e, struct berr *err);
/* 1 when a removal of this network was interrupted (its intent is recorded), 0, -errno. */
int mgr_net_removing(struct manager *m, const char *id, struct berr *err);

/* ---- endpoints (mgr_endpoint.c) ---- */
int mgr_ep_activate(struct manager *m, struct ctr_entry *c, struct ep_entry *ep,
		    struct berr *err);
/* Tear down kernel state and free addresses; final: delete the endpoint, else mark inactive. */
int mgr_ep_deactivate(struct manager *m, struct ctr_entry *c, struct ep_entry *ep, bool final,
		      struct berr *err);
/* The same (not final) for an endpoint whose sandbox is going away: its host interface is
 * retired (drivers/driver.h) and reaped in the background. */
int mgr_ep_retire(struct manager *m, struct ctr_entry *c, struct ep_entry *ep, struct berr *err);
void mgr_ep_release_addrs(struct manager *m, struct ep_entry *ep);
/* Store key of the allocation cursor of subnet i of network n (malloc'd). */
char *mgr_ipam_cursor_key(const struct net_entry *n, int i);
/* at_create: the container is being created (host/none may be chosen only then). */
int mgr_ep_new(struct manager *m, struct ctr_entry *c, struct net_entry *n, const cJSON *cfg,
	       bool at_create, struct ep_entry **ret, struct berr *err);
/* The container shares the host's network namespace (attached to the "host" network). */
bool mgr_ctr_host_netns(struct manager *m, const struct ctr_entry *c);
void mgr_ep_drop(struct manager *m, struct ep_entry *ep);  /* from memory only */
/* New endpoints are in memory only until persisted (or activated). */
int mgr_ep_store_put(struct manager *m, struct ep_entry *ep, struct berr *err);
int mgr_sandbox_routes(struct manager *m, struct ctr_entry *c, struct berr *err);
/* The endpoint that carries the default route of `family` (the first active one, by connection
 * order, on a non-internal network with a gateway for its address), with that gateway. */
struct ep_entry *mgr_route_carrier(struct manager *m, struct ctr_entry *c, int family,
				   const struct ipaddr **ret_gw);
int mgr_ctr_files_write(struct manager *m, struct ctr_entry *c, struct berr *err);

/* ---- containers (mgr_container.c) ---- */
char *mgr_ctr_netns_path(struct manager *m, const struct bcontainer *c);
char *mgr_ctr_run_dir(struct manager *m, const struct bcontainer *c);
char *mgr_ctr_state_dir(struct manager *m, const struct bcontainer *c);
/* A container's process is gone: tear its networking down, record the exit, auto-remove. */
void mgr_ctr_exited(struct manager *m, struct ctr_entry *c, int code);
/* mgr_notify.c, lock held: wake the exit watches of container id (NULL: all of them), and the
 * threads waiting on m->exited. */
void mgr_exit_watch_signal(struct manager *m, const char *id);
void mgr_exit_watch_free_all(struct manager *m);
static inline void mgr_exited_broadcast(struct manager *m, const char *id)
{
	mgr_exit_watch_signal(m, id);
	pthread_cond_broadcast(&m->exited);
}
int mgr_ctr_watch(struct manager *m, struct ctr_entry *c);
/* Deactivate every endpoint (kernel state, addresses) and delete the network namespace. */
int mgr_ctr_net_teardown(struct manager *m, struct ctr_entry *c);
struct rt_proc;
/* The container's process runs: record it (state, pids, start time) in memory and store. */
int mgr_ctr_record_running(struct manager *m, struct ctr_entry *c, const struct rt_proc *proc,
			   struct berr *err);
int mgr_ctr_delete(struct manager *m, struct ctr_entry *c, struct berr *err);

/* Children a thread waits for without the manager lock (hold before it starts them, release
 * once it has reaped them; lock not held): mgr_reap() leaves zombies alone meanwhile (it would
 * steal their exit status) and the last one out reaps them. */
void mgr_children_hold(struct manager *m);
void mgr_children_release(struct manager *m);

/* Remove the directory tree at path without blocking: it is renamed into <root>/trash at once
 * and deleted by a background thread; what a crash leaves there is deleted at the next start. */
void mgr_tree_discard(struct manager *m, const char *path);

/* ---- the reaper (mgr_reaper.c): a thread that deletes retired links (nlx_link_doom) in
 * batches, without the manager lock; links retired when berthd stops are reaped at its next
 * start ---- */
int mgr_reaper_start(struct manager *m, struct berr *err);
void mgr_reaper_kick(struct manager *m);
void mgr_reaper_stop(struct manager *m);

/* ---- networks over several bridges (mgr_spill.c) ---- */
/* Choose the bridge of an endpoint being activated (ep->br, ep->e.master), adding an extra
 * bridge when all are full; release it when the endpoint's interface is gone (removing an extra
 * bridge left empty). */
int mgr_spill_assign(struct manager *m, struct net_entry *n, struct ep_entry *ep,
		     struct berr *err);
void mgr_spill_release(struct manager *m, struct net_entry *n, struct ep_entry *ep);
/* Start-up: where the active endpoints are (before reconciliation touches them), then trunks
 * completed and empty extra bridges removed (after). */
void mgr_spill_scan(struct manager *m);
void mgr_spill_tidy(struct manager *m);
/* name is an extra bridge or trunk end of a network, in use. */
bool mgr_spill_owns(struct manager *m, const char *name);
/* Append the names of n's bridges (its own first) to arr. */
void mgr_spill_names(const struct net_entry *n, cJSON *arr);
/* ARP entries of a network over several bridges (mgr_spill_nd.c): every entry of bridge k;
 * endpoint ep's on every bridge (after its join / after its leave); the own bridge's removed
 * (back to one bridge); start-up removal of the entries no endpoint owns. */
void mgr_spill_nd_fill(struct manager *m, struct net_entry *n, size_t k);
void mgr_spill_nd_ep(struct manager *m, struct net_entry *n, const struct ep_entry *ep, bool add);
void mgr_spill_nd_off(struct manager *m, struct net_entry *n);
/* Forget the interface indexes kept for n's bridges and trunks (one of them was re-made). */
void mgr_spill_nd_forget(struct net_entry *n);
void mgr_spill_nd_sweep(struct manager *m, struct net_entry *n, size_t k);

/* ---- reconciliation at start (mgr_reconcile.c) ---- */
int mgr_reconcile(struct manager *m, struct berr *err);

/* Watch fd (readable) from the daemon's event loop; cb runs there with the lock held. */
int mgr_watch_add(struct manager *m, int fd, mgr_watch_cb cb, void *ud);
void mgr_watch_del(struct manager *m, int fd);

/* ---- subsystem hooks ----
 * The manager calls these at fixed points, lock held. The firewall (daemon/mgr_fw.c, over nft/)
 * and the embedded DNS (daemon/mgr_dns.c, over dns/) implement them. A hook returning <0 makes
 * the operation fail and be rolled back; the *_removed/_stopped hooks cannot fail (they log). */
int mgr_fw_init(struct manager *m, struct berr *err);         /* after reconcile: full rebuild */
void mgr_fw_close(struct manager *m);                         /* daemon stop: rules stay */
int mgr_fw_network_added(struct manager *m, struct net_entry *n, struct berr *err);
void mgr_fw_network_removed(struct manager *m, struct net_entry *n);
int mgr_fw_endpoint_added(struct manager *m, struct ctr_entry *c, struct ep_entry *ep,
			  struct berr *err);
/* Extra bridge idx of network n (its trunk) was added / is being retired. */
int mgr_fw_spill_added(struct manager *m, struct net_entry *n, int idx, struct berr *err);
void mgr_fw_spill_removed(struct manager *m, struct net_entry *n, int idx);
void mgr_fw_endpoint_removed(struct manager *m, struct ctr_entry *c, struct ep_entry *ep);
/* Published ports: before the process starts / after it exited. */
int mgr_fw_ports_add(struct manager *m, struct ctr_entry *c, struct berr *err);
void mgr_fw_ports_remove(struct manager *m, struct ctr_entry *c);
/* Published ports of a Docker endpoint (remote driver), to its own addresses: pb in
 * PortBindings shape; record() gets the resolved ports (BerthPorts shape, it takes the JSON) and
 * must commit them before the batch is applied. */
int mgr_fw_ep_ports_add(struct manager *m, struct ep_entry *ep, const cJSON *pb,
			int (*record)(struct manager *m, void *ud, cJSON *rec, struct berr *err),
			void *ud, struct berr *err);
void mgr_fw_ep_ports_remove(struct manager *m, struct ep_entry *ep);
/* PortBindings of a container being created: syntax, host addresses, not internal-only. */
int mgr_fw_ports_validate(struct manager *m, struct ctr_entry *c, struct berr *err);
/* NetworkSettings.Ports in Docker's shape (an empty object unless running). */
cJSON *mgr_fw_render_ports(struct manager *m, struct ctr_entry *c);
/* Explain (daemon/mgr_explain.c): adds the trace rule of flow f, or removes it (f NULL), in
 * berth's tables through the firewall's own connection (its changes are not someone else's). */
struct nft_flow;
struct nft_names;
int mgr_fw_trace(struct manager *m, const struct nft_flow *f, struct berr *err);
void mgr_fw_names(struct manager *m, struct nft_names *ret);

int mgr_dns_init(struct manager *m, struct berr *err);        /* after reconcile */
void mgr_dns_close(struct manager *m);
/* The container's netns exists (before its process starts): open listeners. */
int mgr_dns_container_started(struct manager *m, struct ctr_entry *c, struct berr *err);
void mgr_dns_container_stopped(struct manager *m, struct ctr_entry *c);
int mgr_dns_endpoint_added(struct manager *m, struct ctr_entry *c, struct ep_entry *ep,
			   struct berr *err);
void mgr_dns_endpoint_removed(struct manager *m, struct ctr_entry *c, struct ep_entry *ep);
/* The content of the container's /etc/resolv.conf (malloc'd). */
char *mgr_dns_resolv_conf(struct manager *m, struct ctr_entry *c);

/* ---- events (mgr_events.c): appended at the points below, lock held ---- */
void mgr_events_init(struct manager *m);
void mgr_events_shutdown(struct manager *m);
void mgr_events_close(struct manager *m);
/* attrs (may be NULL) is taken; image and name are added. */
void mgr_event_container(struct manager *m, const struct ctr_entry *c, const char *action,
			 cJSON *attrs);
/* c: the container connected or disconnected (NULL for create/destroy). */
void mgr_event_network(struct manager *m, const struct net_entry *n, const char *action,
		       const struct ctr_entry *c);
void mgr_event_image(struct manager *m, const char *ref, const char *id, const char *action);

/* ---- resource limits (mgr_resources.c) ---- */
/* HostConfig's limits, checked as Docker does, into extra.Resources. */
int mgr_ctr_resources_parse(const cJSON *host, cJSON *extra, struct berr *err);
struct rt_spec;
void mgr_ctr_resources_spec(const struct bcontainer *c, struct rt_spec *spec);
void mgr_render_resources(cJSON *host_config, const struct bcontainer *c);
bool mgr_ctr_oom_killed(const struct bcontainer *c);
void mgr_ctr_oom_set(struct bcontainer *c, bool oom);

/* ---- --add-host (mgr_hosts.c) ---- */
int mgr_ctr_extra_hosts_parse(const cJSON *host, cJSON *extra, struct berr *err);
/* "ip\tname\n" lines for the container's /etc/hosts (malloc'd). */
char *mgr_hosts_extra_render(struct manager *m, const struct ctr_entry *c);
void mgr_render_extra_hosts(cJSON *host_config, const struct bcontainer *c);

/* ---- pool usage (mgr_pools.c): [{Subnet, IPRange, Size, InUse, Free}] ---- */
cJSON *mgr_render_pool_usage(const struct net_entry *n);

/* ---- images (mgr_image.c) ---- */
/* At create (lock held): resolves the container's image (extra.ImageID) and merges its config:
 * Env, Cmd, Entrypoint, WorkingDir, User, ExposedPorts (the request's own win). */
int mgr_ctr_image_apply(struct manager *m, struct bcontainer *c, const cJSON *req,
			struct berr *err);
int mgr_ctr_image_rootfs(struct manager *m, const struct bcontainer *c, char *buf, size_t size,
			 struct berr *err);
/* Entrypoint + Cmd (a new array). */
cJSON *mgr_ctr_argv(const struct bcontainer *c);
void mgr_ctr_image_spec(const struct bcontainer *c, const char **ret_workdir,
			const char **ret_user);
/* Config.Entrypoint, WorkingDir, User, ExposedPorts, ImageID. */
void mgr_render_image_config(cJSON *config, const struct bcontainer *c);
void mgr_images_sweep(struct manager *m);

/* ---- exec sessions (mgr_exec.c) ---- */
struct exec_entry;
void mgr_execs_close(struct manager *m);
void mgr_execs_forget(struct manager *m, const char *ctr_id);

/* ---- terminals (mgr_tty.c) ---- */
/* Tty, OpenStdin, StdinOnce, Attach*, HostConfig.ConsoleSize into extra. */
int mgr_ctr_tty_parse(const cJSON *req, const cJSON *host, cJSON *extra, struct berr *err);
/* attach_path is malloc'd when set (the caller frees it). */
void mgr_ctr_tty_spec(struct manager *m, const struct ctr_entry *c, struct rt_spec *spec);
char *mgr_attach_path(struct manager *m, const char *id, const char *prefix);
void mgr_render_tty_config(cJSON *config, const struct bcontainer *c);

/* ---- Docker remote driver (mgr_remote.c, mgr_remote_ipam.c) ---- */
/* At load, before reconciliation: dockerd's endpoints (into m->eps) and IPAM pools. */
int mgr_remote_load(struct manager *m, struct berr *err);
/* Reconciliation phase: endpoints caught PENDING rolled back. */
void mgr_remote_reconcile(struct manager *m);
void mgr_remote_close(struct manager *m);
/* The recorded published ports of a Docker endpoint (BerthPorts shape), or NULL. */
const cJSON *mgr_remote_ep_ports(const struct ep_entry *ep);
/* The subnets of berth IPAM's pools (dockerd's): how many there are, written to out when not
 * NULL. New networks avoid them. */
size_t mgr_remote_pools(struct manager *m, struct cidr *out);
/* The set of networks changed (lock held): dockerd's iptables must learn berth's bridges. */
void mgr_remote_networks_changed(struct manager *m);
/* ... which they do here, without the manager lock (lock NOT held; iptables takes a few ms):
 * every entry point that may have changed the set calls it after unlocking. */
void mgr_remote_fw_flush(struct manager *m);
/* The network was created by dockerd (through the plugin): only dockerd removes it. */
bool mgr_net_docker_owned(const struct net_entry *n);

/* ---- images (mgr_docker.c) ---- */
void mgr_image_id(struct manager *m, const char *name, char ret[MGR_IMAGE_ID_LEN]);

/* Remote endpoints of overlay networks (no local container): records only. */
void mgr_dns_remote_set(struct manager *m, const char *ep_id, const char *net_id,
			const char *ctr_name, const char *ctr_id, const cJSON *aliases,
			const struct ipaddr *ip4, const struct ipaddr *ip6);
void mgr_dns_remote_del(struct manager *m, const char *ep_id);
/* The VTEP allow-list (cluster members) changed: bring the firewall's sets in line. */
void mgr_fw_vteps_changed(struct manager *m);

/* ---- the cluster: overlay networks over etcd (mgr_cluster*.c) ----
 * Without --cluster-store, m->cl is NULL and every hook is a no-op (or a clear refusal). */
int mgr_cluster_open(struct manager *m, const struct mgr_cluster_config *cfg, struct berr *err);
int mgr_cluster_start(struct manager *m, struct berr *err);  /* after reconcile, fw, dns */
void mgr_cluster_close(struct manager *m);
/* Fails fast (-EHOSTUNREACH "cluster store unreachable: ...") unless the store is configured,
 * reachable (its watch streams) and mirrored here. */
int mgr_cluster_check(struct manager *m, struct berr *err);
/* Network e (prepared, validated) recorded in the store: name and subnets unique in the
 * cluster, a VNI of its own. */
int mgr_cluster_network_create(struct manager *m, struct net_entry *e, struct berr *err);
/* Removed from the store, refused while any host has endpoints on it. */
int mgr_cluster_network_remove(struct manager *m, struct net_entry *n, struct berr *err);
/* The endpoint's addresses allocated in the store (under this host's lease). */
int mgr_cluster_ep_alloc(struct manager *m, struct net_entry *n, struct ep_entry *ep,
			 struct berr *err);
/* Its record written, once its interface is up: other hosts reach and resolve it from then. */
int mgr_cluster_ep_announce(struct manager *m, struct ctr_entry *c, struct net_entry *n,
			    struct ep_entry *ep, struct berr *err);
/* Its keys deleted (best effort: what remains is removed when the store is back). */
void mgr_cluster_ep_withdraw(struct manager *m, struct net_entry *n, struct ep_entry *ep);
/* The network's bridge and VXLAN device exist here, with every remote peer's entries. */
int mgr_cluster_dataplane_up(struct manager *m, struct net_entry *n, struct berr *err);
/* Deleted when no local endpoint is left on the network. */
void mgr_cluster_dataplane_gc(struct manager *m, struct net_entry *n);
/* Containers with an endpoint on a non-internal overlay network get one on berth_gwbridge too
 * (outbound access, published ports), removed with the last such endpoint. at_create: the
 * container is being created (endpoints kept in memory, persisted with it). */
int mgr_cluster_gw_sync(struct manager *m, struct ctr_entry *c, bool at_create,
			struct berr *err);
/* Member VTEP addresses for the firewall (*ret malloc'd) and the data-path port (0: none). */
size_t mgr_cluster_vteps(struct manager *m, struct ipaddr **ret, uint16_t *ret_port);
/* Scope, VNI, peers and the remote endpoints of a global network, added to its JSON. */
void mgr_cluster_render(struct manager *m, struct net_entry *n, cJSON *o, cJSON *containers);
void mgr_cluster_info(struct manager *m, cJSON *o);

/* ---- external sandboxes: CNI attachments (mgr_external.c, mgr_cni_conf.c) ---- */
/* A container record with no process, for a network namespace a CNI runtime made. */
bool mgr_ctr_external(const struct ctr_entry *c);
int mgr_ext_init(struct manager *m, struct berr *err);   /* after the DNS: the sweep */
void mgr_ext_close(struct manager *m);
/* Start-up: 1 when c's namespace is gone and c was released (removed), else 0 (adopt it). */
int mgr_ext_reconcile(struct manager *m, struct ctr_entry *c);
/* Default routes in a sandbox berth shares: added where none is, never replaced. */
int mgr_ext_routes(struct manager *m, struct ctr_entry *c, struct berr *err);
/* berth's own commands: refused (what: "stopped", "connected"...), rm --force releases. */
int mgr_ext_refuse(const struct ctr_entry *c, const char *what, struct berr *err);
int mgr_ext_remove(struct manager *m, struct ctr_entry *c, bool force, struct berr *err);
/* {Kind, ContainerID, Netns} of an external sandbox, NULL for any other container. */
cJSON *mgr_ext_render(const struct ctr_entry *c);
/* <cni-config-dir>/<network>.conflist: written when missing, removed when it is berth's. */
void mgr_cni_conflist_write(struct manager *m, const struct net_entry *n);
void mgr_cni_conflist_remove(struct manager *m, const struct net_entry *n);
void mgr_cni_conflists_sync(struct manager *m);

/* ---- JSON rendering (mgr_render.c) ---- */
cJSON *mgr_render_network(struct manager *m, struct net_entry *n);
cJSON *mgr_render_container(struct manager *m, struct ctr_entry *c);
cJSON *mgr_render_container_summary(struct manager *m, struct ctr_entry *c);

/* ---- request parsing helpers (mgr_network.c) ---- */
int json_string_member(const cJSON *obj, const char *key, const char **ret, struct berr *err);
int json_bool_member(const cJSON *obj, const char *key, bool *ret, struct berr *err);
int json_string_map(const cJSON *obj, const char *key, cJSON **ret, struct berr *err);
int json_string_array(const cJSON *obj, const char *key, cJSON **ret, struct berr *err);

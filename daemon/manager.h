/* SPDX-License-Identifier: Apache-2.0 */
/* The manager: orchestrates store, IPAM, drivers, runtime (and later nft and DNS) for every API
 * operation. All entry points are thread-safe (one manager lock) and speak JSON: requests are
 * the Docker-shaped bodies of docs/API.md, replies are the documented objects (*ret owned by the
 * caller, cJSON_Delete). Errors: -errno + message in err:
 *   -ENOENT unknown object; -EEXIST / -EADDRINUSE / -EBUSY / -EISCONN / -ENOTCONN / -ESRCH
 *   conflicts (ESRCH = container not running); -EINVAL / -ERANGE / -ENAMETOOLONG bad input;
 *   -EALREADY nothing to do (start of a running container, stop of a stopped one);
 *   -EOPNOTSUPP unsupported by the driver; anything else: internal failure. */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/error.h"
#include "ipam/ipam.h"

#define MGR_MAX_POOLS 64

/* Multi-host overlay networks (daemon/mgr_cluster*.c): off when store_url is NULL. */
struct mgr_cluster_config {
	const char *store_url;      /* --cluster-store etcd://h1:2379,h2:2379[/prefix] */
	const char *cafile, *certfile, *keyfile;
	const char *advertise;      /* --advertise-addr: this host's VTEP address */
	const char *host_name;      /* --cluster-host-name (NULL: the hostname) */
	int ttl_s;                  /* --cluster-ttl (0: 15) */
	int data_port;              /* --data-path-port (0: 4789) */
};

struct mgr_config {
	const char *root;           /* persistent state: berth.db, images/, containers/ */
	const char *run;            /* runtime: netns/, containers/ */
	struct ipam_default_pool pools[MGR_MAX_POOLS];
	size_t n_pools;             /* 0 = Docker's defaults */
	struct mgr_cluster_config cluster;
	const char *cni_config_dir; /* CNI configuration lists per network; NULL or "": none */
	const char *socket;         /* the API's socket (named in those lists) */
};

struct manager;

/* Opens the store, loads state and reconciles it with the kernel and the running processes. */
int mgr_open(const struct mgr_config *cfg, struct manager **ret, struct berr *err);
/* Shutting down (SIGTERM): requests waiting for a container (stop, rm -f, wait) give up at once
 * with -ECANCELED and the containers keep running. Call before stopping the API. */
void mgr_shutdown(struct manager *m);
void mgr_close(struct manager *m);

int mgr_info(struct manager *m, cJSON **ret, struct berr *err);

int mgr_network_create(struct manager *m, const cJSON *req, cJSON **ret, struct berr *err);
int mgr_network_list(struct manager *m, const char *name_filter, cJSON **ret, struct berr *err);
int mgr_network_inspect(struct manager *m, const char *ref, cJSON **ret, struct berr *err);
int mgr_network_remove(struct manager *m, const char *ref, struct berr *err);
int mgr_network_prune(struct manager *m, cJSON **ret, struct berr *err);
int mgr_network_connect(struct manager *m, const char *ref, const cJSON *req, struct berr *err);
int mgr_network_disconnect(struct manager *m, const char *ref, const cJSON *req, struct berr *err);

/* name may be NULL or "" (a name is generated). */
int mgr_container_create(struct manager *m, const char *name, const cJSON *req, cJSON **ret,
			 struct berr *err);
int mgr_container_start(struct manager *m, const char *ref, struct berr *err);
int mgr_container_stop(struct manager *m, const char *ref, int timeout_s, struct berr *err);
int mgr_container_kill(struct manager *m, const char *ref, int sig, struct berr *err);
/* Blocks (without holding the lock) until the container is not running; returns its exit code. */
int mgr_container_wait(struct manager *m, const char *ref, int *ret_code, struct berr *err);
int mgr_container_remove(struct manager *m, const char *ref, bool force, struct berr *err);
int mgr_container_list(struct manager *m, bool all, cJSON **ret, struct berr *err);
int mgr_container_inspect(struct manager *m, const char *ref, cJSON **ret, struct berr *err);
/* Path of the log file (*ret malloc'd) and the full ID (for mgr_container_running). */
int mgr_container_log_path(struct manager *m, const char *ref, char **ret_path,
			   char ret_id[65], struct berr *err);
bool mgr_container_running(struct manager *m, const char *id);
/* An exit watch: an eventfd (returned, or -errno) that becomes readable whenever container id
 * stops running or is removed, and at shutdown. Register it before looking at the state;
 * drain it after each wake-up; delete it (closes it) when done. */
int mgr_exit_watch_add(struct manager *m, const char *id);
void mgr_exit_watch_drain(int fd);
void mgr_exit_watch_del(struct manager *m, int fd);
/* Docker-shaped statistics (cgroup CPU, memory, pids; bytes per interface). Without one_shot,
 * precpu_stats is a sample taken 200 ms earlier; blocks that long, never under the lock. */
int mgr_container_stats(struct manager *m, const char *ref, bool one_shot, cJSON **ret,
			struct berr *err);

/* Images (daemon/mgr_image.c). The archive is a file berthd can read (an upload); progress is
 * called as layers are read (< 0 stops the load). ret_names: the tags (or IDs) loaded. */
struct rt_load_progress;
int mgr_image_load(struct manager *m, const char *archive,
		   int (*progress)(void *, const struct rt_load_progress *), void *ud,
		   cJSON **ret_names, struct berr *err);
/* A rootfs tarball as an image tagged ref (may be NULL: untagged). */
int mgr_image_import(struct manager *m, const char *archive, const char *ref,
		     int (*progress)(void *, const struct rt_load_progress *), void *ud,
		     cJSON **ret_names, struct berr *err);
int mgr_image_list(struct manager *m, cJSON **ret, struct berr *err);
/* -EBUSY while a container uses it (unless force: then only the tag goes). Docker's reply:
 * [{"Untagged": ref}, {"Deleted": id}]. */
int mgr_image_remove(struct manager *m, const char *ref, bool force, cJSON **ret,
		     struct berr *err);
/* A new file for an upload in the image store (fd returned; *ret_path malloc'd). */
int mgr_image_upload_file(struct manager *m, char **ret_path, struct berr *err);
uint64_t mgr_image_bytes_max(void);

/* Attaching (daemon/mgr_tty.c): what the API needs to relay a client to a container's shim. */
struct mgr_attach {
	char id[65];
	char name[128];
	char sock[4096];            /* the shim's attach socket */
	char log[4096];             /* the container's log (output without a terminal) */
	char started_at[40];        /* of the last start ("" or Docker's zero time: never) */
	bool tty, open_stdin, running;
};
/* Looks the container up and counts an attach until mgr_container_attach_end(): a start
 * meanwhile keeps the terminal's first output for it. */
int mgr_container_attach_begin(struct manager *m, const char *ref, struct mgr_attach *ret,
			       struct berr *err);
void mgr_container_attach_end(struct manager *m, const char *id);
/* The container's state now: -ENOENT once removed. */
int mgr_container_attach_state(struct manager *m, const char *id, struct mgr_attach *ret);
/* The terminal's window size (a container without one: nothing to do; not running: -ESRCH). */
int mgr_container_resize(struct manager *m, const char *ref, int rows, int cols,
			 struct berr *err);
/* "resize" to any shim socket (containers and exec sessions). */
int mgr_tty_resize(const char *sock, int rows, int cols, struct berr *err);

/* Exec sessions (daemon/mgr_exec.c), Docker's: create ({Cmd, Env, User, WorkingDir, Tty,
 * DetachKeys, AttachStdin...} -> {"Id"}), start (the command runs under an exec shim serving ret->sock;
 * unless detached it keeps the first output for the client),
 * inspect ({ID, Running, ExitCode, ProcessConfig...}), resize. */
struct mgr_exec_io {
	char id[65];
	char sock[4096];
	char detach_keys[256];      /* the exec's DetachKeys ("": Docker's default) */
	bool tty, in;
};
int mgr_exec_create(struct manager *m, const char *ref, const cJSON *req, cJSON **ret,
		    struct berr *err);
int mgr_exec_start(struct manager *m, const char *ref, int rows, int cols, bool detach,
		   struct mgr_exec_io *ret, struct berr *err);
int mgr_exec_inspect(struct manager *m, const char *ref, cJSON **ret, struct berr *err);
int mgr_exec_resize(struct manager *m, const char *ref, int rows, int cols, struct berr *err);

/* What a wait with a condition watches (id: a full ID): whether the container exists, runs, how
 * many times it has exited since berthd started, and its exit code (a removed container's too
 * when it is the last one removed). */
struct mgr_ctr_state {
	bool exists, running;
	unsigned exits;
	int exit_code;
};
int mgr_container_state(struct manager *m, const char *id, struct mgr_ctr_state *ret);

/* Images (daemon/mgr_docker.c): GET /images/json in Docker's shape; an image's ID is
 * "sha256:" + 64 hex digits of its name and its rootfs directory's identity. */
#define MGR_IMAGE_ID_LEN 72
int mgr_image_list(struct manager *m, cJSON **ret, struct berr *err);
/* By name, name:latest or (a prefix of) its ID: Docker's image inspect shape; -ENOENT. */
int mgr_image_inspect(struct manager *m, const char *ref, cJSON **ret, struct berr *err);
/* Bytes of the files and symbolic links under path (one file system; 0 when missing). */
uint64_t mgr_tree_size(const char *path);

/* The embedded DNS: a lookup as a container on network ref would see it (ref NULL or "": on
 * every network), type "A", "AAAA" or "PTR" (NULL: A; a PTR name may be an address); may block
 * while forwarding. Reply {Name, Query, Type, Network, Source, Rcode, Answers[{Type, Data, TTL}]}. */
int mgr_dns_lookup(struct manager *m, const char *name, const char *network, const char *type,
		   cJSON **ret, struct berr *err);
/* Counters {Answered, Forwarded, Failed, Refused, Dropped, Formerr, Listeners, ...}. */
int mgr_dns_stats(struct manager *m, cJSON **ret, struct berr *err);

/* Events (daemon/mgr_events.c): a bounded ring; a reader keeps a cursor (a sequence number). */
struct mgr_event {
	uint64_t seq;
	int64_t time_ns;            /* CLOCK_REALTIME, never decreasing along the ring */
	char type[16];              /* "container", "network", "image" */
	char action[32];            /* "create", "start", "die", "connect" ... */
	char actor[256];            /* the object's ID (an image: its reference) */
	char name[256];             /* the object's name */
	char ctr_id[65];            /* container events, and network events about one */
	char ctr_name[128];
	char *json;                 /* Docker's message, one line */
};
/* The sequence number the next event will get (a reader starting now begins there). */
uint64_t mgr_events_head(struct manager *m);
/* The event at *cursor, or the oldest kept if that one is gone (then *cursor jumps); waits at
 * most timeout_ms for one. 1 with *ret filled (free ret->json), 0 on timeout, -ECANCELED once
 * berthd is stopping. Never takes the manager lock. */
int mgr_events_next(struct manager *m, uint64_t *cursor, int timeout_ms, struct mgr_event *ret);

/* Docker's remote network and IPAM driver (daemon/mgr_remote*.c): one decoded call of
 * plugins/docker/dkp.h; *ret is the reply object (NULL: an empty one). */
struct dkp_request;
int mgr_remote_call(struct manager *m, const struct dkp_request *q, cJSON **ret,
		    struct berr *err);
/* The plugin socket is being served: dockerd's iptables FORWARD chain is told to leave berth's
 * bridges to berth's rules (plugins/docker/iptables.c), now and after every network change. */
void mgr_remote_plugin_enable(struct manager *m);
/* Isolation testing (daemon/mgr_probe.c, docs/PROBE.md): the reachability matrix of the running
 * containers, compared with a policy, or one flow explained from the nftables trace. Body and
 * reply: docs/API.md (POST /networks/probe). The manager lock is held only to copy the state. */
struct mgr_probe_ctl {
	void (*progress)(void *ud, size_t done, size_t total);   /* about every 100 ms */
	void *ud;
	const atomic_bool *cancel;          /* the client went away */
};
int mgr_network_probe(struct manager *m, const cJSON *req, const struct mgr_probe_ctl *ctl,
		      cJSON **ret, struct berr *err);
/* The request is well-formed (fields, policy): checked before a streamed reply begins. */
int mgr_network_probe_check(const cJSON *req, struct berr *err);
/* CNI attachments of network namespaces berth did not create (berth-cni; docs/API.md, "CNI").
 * ADD {ContainerID, IfName, Netns, Network, Name, Aliases, IPs, MAC, PortMappings} replies
 * {Container, Endpoint, Interfaces, IPs, Routes, DNS}; DEL {ContainerID, IfName, Network}
 * succeeds when nothing is attached; CHECK replies {Problems: [...]} (-ENOENT: no such
 * attachment); GC {Network, Valid: [{containerID, ifname}]} replies {Removed: [...]}; STATUS
 * replies {Network, Attachable, Exhausted}. */
int mgr_cni_add(struct manager *m, const cJSON *req, cJSON **ret, struct berr *err);
int mgr_cni_del(struct manager *m, const cJSON *req, struct berr *err);
int mgr_cni_check(struct manager *m, const cJSON *req, cJSON **ret, struct berr *err);
int mgr_cni_gc(struct manager *m, const cJSON *req, cJSON **ret, struct berr *err);
int mgr_cni_status(struct manager *m, const char *network, cJSON **ret, struct berr *err);

/* Called from the daemon's event loop. */
/* An fd that becomes readable when a container's shim exits; then call mgr_reap(). */
int mgr_event_fd(struct manager *m);
/* Process container exits and the watches' events; after a SIGCHLD (sigchld), also reap exited
 * children (berthd is a child subreaper). */
int mgr_reap(struct manager *m, bool sigchld);

/* The firewall (daemon/mgr_fw.c): rebuild berth's nftables tables from the state now
 * (POST /firewall/reload); remove the tables (berthd --cleanup, no manager needed). */
int mgr_firewall_reload(struct manager *m, struct berr *err);
int mgr_firewall_cleanup(struct berr *err);

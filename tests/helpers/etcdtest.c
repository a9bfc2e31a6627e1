/* SPDX-License-Identifier: Apache-2.0 */
/* etcdtest: a command line over store/etcd.h, driven by tests/system/test_etcd_store.sh.
 *   etcdtest [--endpoints URL] [--cafile F] [--certfile F] [--keyfile F]
 *            [--connect-timeout MS] [--timeout MS] [--repeat N] COMMAND ARGS...
 * --repeat runs the command N times on one client and prints each run's time on stderr.
 * Exit status: 0 done, 1 error (one line on stderr), 3 exists / changed, 4 not found. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "store/etcd.h"

struct cmd {
	const char *name;
	int argc;                  /* minimum number of arguments */
	const char *usage;
	int (*run)(struct etcd_client *c, char **argv, int argc, struct berr *err);
};

static int64_t num(const char *s)
{
	return strtoll(s, NULL, 10);
}

static void print_kv(const struct etcd_kv *kv)
{
	printf("%s=%s\n", kv->key, kv->value);
}

static int cmd_put(struct etcd_client *c, char **argv, int argc, struct berr *err)
{
	int64_t rev;
	int r = etcd_put(c, argv[0], argv[1], argc > 2 ? num(argv[2]) : 0, &rev, err);

	if (r == 0)
		printf("%" PRId64 "\n", rev);
	return r;
}

static int cmd_get(struct etcd_client *c, char **argv, int argc, struct berr *err)
{
	struct etcd_kv kv;
	int r = etcd_get(c, argv[0], &kv, NULL, err);

	if (r < 0)
		return r;
	printf("%s\n", kv.value);
	printf("# create=%" PRId64 " mod=%" PRId64 " version=%" PRId64 " lease=%" PRId64 "\n",
	       kv.create_revision, kv.mod_revision, kv.version, kv.lease);
	etcd_kv_clear(&kv);
	return 0;
}

static int cmd_range(struct etcd_client *c, char **argv, int argc, struct berr *err)
{
	struct etcd_kvs kvs;
	int r = etcd_range_prefix(c, argv[0], argc > 1 ? num(argv[1]) : 0, &kvs, err);

	if (r < 0)
		return r;
	printf("revision %" PRId64 "\n", kvs.revision);
	for (size_t i = 0; i < kvs.n; i++)
		print_kv(&kvs.kv[i]);
	etcd_kvs_clear(&kvs);
	return 0;
}

static int cmd_del(struct etcd_client *c, char **argv, int argc, struct berr *err)
{
	int64_t n;
	int r = etcd_delete(c, argv[0], strcmp(argv[-1], "delprefix") == 0, &n, err);

	if (r == 0)
		printf("%" PRId64 "\n", n);
	return r;
}

static int cmd_create(struct etcd_client *c, char **argv, int argc, struct berr *err)
{
	struct etcd_kv old = { 0 };
	int r = etcd_create(c, argv[0], argv[1], argc > 2 ? num(argv[2]) : 0, &old, err);

	if (r == -EEXIST && old.key)
		printf("%s\n", old.value);
	etcd_kv_clear(&old);
	return r;
}

static int cmd_cas(struct etcd_client *c, char **argv, int argc, struct berr *err)
{
	int64_t rev;
	int r = etcd_cas(c, argv[0], num(argv[1]), argv[2], 0, &rev, err);

	if (r == 0)
		printf("%" PRId64 "\n", rev);
	return r;
}

/* txn-value KEY EXPECTED NEW: replace KEY's value only if it is EXPECTED (compare VALUE). */
static int cmd_txn_value(struct etcd_client *c, char **argv, int argc, struct berr *err)
{
	const struct etcd_cmp cmp = { .key = argv[0], .target = ETCD_CMP_VALUE,
				      .result = ETCD_CMP_EQUAL, .value = argv[1] };
	const struct etcd_op put = { .kind = ETCD_OP_PUT, .key = argv[0], .value = argv[2] };
	const struct etcd_op get = { .kind = ETCD_OP_GET, .key = argv[0] };
	struct etcd_txn_reply t;
	int r = etcd_txn(c, &cmp, 1, &put, 1, &get, 1, &t, err);

	if (r < 0)
		return r;
	if (!t.succeeded && t.n == 1 && t.replies[0].kvs.n == 1)
		printf("%s\n", t.replies[0].kvs.kv[0].value);
	r = t.succeeded ? 0 : berr_set(err, -ESTALE, "value of %s is not %s", argv[0], argv[1]);
	etcd_txn_reply_clear(&t);
	return r;
}

static int cmd_lease_grant(struct etcd_client *c, char **argv, int argc, struct berr *err)
{
	int64_t id;
	int ttl;
	int r = etcd_lease_grant(c, (int)num(argv[0]), &id, &ttl, err);

	if (r == 0)
		printf("%" PRId64 " %d\n", id, ttl);
	return r;
}

static int cmd_lease_keepalive(struct etcd_client *c, char **argv, int argc, struct berr *err)
{
	int ttl;
	int r = etcd_lease_keepalive(c, num(argv[0]), &ttl, err);

	if (r == 0)
		printf("%d\n", ttl);
	return r;
}

static int cmd_lease_revoke(struct etcd_client *c, char **argv, int argc, struct berr *err)
{
	return etcd_lease_revoke(c, num(argv[0]), err);
}

static double now_s(void)
{
	return (double)time_mono_ns() / 1e9;
}

/* Waits (bounded by deadline) until fd is readable; false on timeout. */
static bool wait_fd(int fd, double deadline)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	double left = deadline - now_s();

	if (left <= 0)
		return false;
	return poll(&p, 1, (int)(left * 1000) + 1) > 0;
}

/* keep ID TTL SECONDS: keep the lease alive, print each state change, stop when lost. */
static int cmd_keep(struct etcd_client *c, char **argv, int argc, struct berr *err)
{
	struct etcd_keeper *k;
	double start = now_s(), deadline = start + (double)num(argv[2]);
	enum etcd_lease_state s = ETCD_LEASE_ALIVE;
	int r = etcd_keeper_start(c, num(argv[0]), (int)num(argv[1]), &k, err);

	if (r < 0)
		return r;
	printf("%.2f alive\n", 0.0);
	fflush(stdout);
	while (s != ETCD_LEASE_LOST && wait_fd(etcd_keeper_fd(k), deadline)) {
		struct berr why = BERR_INIT;
		enum etcd_lease_state n = etcd_keeper_state(k, &why);

		if (n != s)
			printf("%.2f %s%s%s\n", now_s() - start, etcd_lease_state_str(n),
			       n == ETCD_LEASE_ALIVE ? "" : ": ", n == ETCD_LEASE_ALIVE ? "" : why.msg);
		fflush(stdout);
		s = n;
	}
	etcd_keeper_stop(k);
	return 0;
}

static void print_item(const struct etcd_watch_item *it, double start)
{
	printf("%.2f %s", now_s() - start, etcd_watch_kind_str(it->kind));
	switch (it->kind) {
	case ETCD_WATCH_PUT:
		printf(" %" PRId64 " %s=%s\n", it->revision, it->kv.key, it->kv.value);
		break;
	case ETCD_WATCH_DELETE:
		printf(" %" PRId64 " %s\n", it->revision, it->kv.key);
		break;
	case ETCD_WATCH_RESET:
		printf(" %" PRId64 " %zu\n", it->revision, it->snapshot.n);
		for (size_t i = 0; i < it->snapshot.n; i++)
			printf("%.2f kv %s=%s\n", now_s() - start, it->snapshot.kv[i].key,
			       it->snapshot.kv[i].value);
		break;
	default:
		printf(" %s\n", it->msg);
	}
	fflush(stdout);
}

/* watch PREFIX REV COUNT SECONDS [HOLD_MS]: print items until COUNT put/delete/reset items
 * arrived (0: until the time is up); exit 1 if the time ran out first. HOLD_MS: start reading
 * only that long after the start (the queue fills up meanwhile). */
static int cmd_watch(struct etcd_client *c, char **argv, int argc, struct berr *err)
{
	struct etcd_watch *w;
	long want = (long)num(argv[2]), got = 0;
	double start = now_s(), deadline = start + (double)num(argv[3]);
	int r = etcd_watch_start(c, argv[0], num(argv[1]), &w, err);

	if (r < 0)
		return r;
	if (argc > 4)
		usleep((useconds_t)num(argv[4]) * 1000);
	while ((want == 0 || got < want) && wait_fd(etcd_watch_fd(w), deadline)) {
		struct etcd_watch_item it;

		while ((want == 0 || got < want) && etcd_watch_next(w, &it) == 1) {
			print_item(&it, start);
			if (it.kind <= ETCD_WATCH_RESET)
				got++;
			etcd_watch_item_clear(&it);
		}
	}
	etcd_watch_stop(w);
	if (want > 0 && got < want)
		return berr_set(err, -ETIMEDOUT, "watch: %ld of %ld items in %s s", got, want,
				argv[3]);
	return 0;
}

/* alloc PREFIX POOL COUNT OWNER: take COUNT free slots of 0..POOL-1 by create-if-absent, lowest
 * first (two allocators race for the same slots); print each slot taken. */
static int cmd_alloc(struct etcd_client *c, char **argv, int argc, struct berr *err)
{
	long pool = (long)num(argv[1]), count = (long)num(argv[2]), slot = 0;

	for (long n = 0; n < count; n++) {
		int r = -EEXIST;

		for (; slot < pool && r == -EEXIST; slot++) {
			_cleanup_free_ char *key = xasprintf("%s%ld", argv[0], slot);

			berr_clear(err);
			r = etcd_create(c, key, argv[3], 0, NULL, err);
		}
		if (r < 0)
			return r == -EEXIST ? berr_set(err, -ENOSPC, "pool exhausted") : r;
		printf("%ld\n", slot - 1);
	}
	return 0;
}

/* fill PREFIX N: PREFIX0..PREFIX<N-1> = their number, ETCD_TXN_MAX_OPS puts per transaction. */
static int cmd_fill(struct etcd_client *c, char **argv, int argc, struct berr *err)
{
	long n = (long)num(argv[1]);
	struct etcd_op ops[ETCD_TXN_MAX_OPS];
	char keys[ETCD_TXN_MAX_OPS][64], vals[ETCD_TXN_MAX_OPS][24];

	for (long i = 0; i < n;) {
		struct etcd_txn_reply t;
		size_t k = 0;
		int r;

		for (; k < ETCD_TXN_MAX_OPS && i < n; k++, i++) {
			snprintf(keys[k], sizeof(keys[k]), "%s%ld", argv[0], i);
			snprintf(vals[k], sizeof(vals[k]), "%ld", i);
			ops[k] = (struct etcd_op){ .kind = ETCD_OP_PUT, .key = keys[k], .value = vals[k] };
		}
		r = etcd_txn(c, NULL, 0, ops, k, NULL, 0, &t, err);
		if (r < 0)
			return r;
		etcd_txn_reply_clear(&t);
	}
	return 0;
}

/* incr KEY COUNT: COUNT increments of a counter by compare-and-swap; print each value got. */
static int cmd_incr(struct etcd_client *c, char **argv, int argc, struct berr *err)
{
	long count = (long)num(argv[1]);

	for (long n = 0; n < count;) {
		struct etcd_kv kv = { 0 };
		_cleanup_free_ char *next = NULL;
		int64_t mod = 0, v = 0;
		int r = etcd_get(c, argv[0], &kv, NULL, err);

		if (r < 0 && r != -ENOENT)
			return r;
		if (r == 0) {
			mod = kv.mod_revision;
			v = num(kv.value);
		}
		etcd_kv_clear(&kv);
		next = xasprintf("%" PRId64, v + 1);
		berr_clear(err);
		r = etcd_cas(c, argv[0], mod, next, 0, NULL, err);
		if (r == -ESTALE)
			continue;
		if (r < 0)
			return r;
		printf("%s\n", next);
		n++;
	}
	return 0;
}

static const struct cmd cmds[] = {
	{ "put", 2, "KEY VALUE [LEASE]", cmd_put },
	{ "get", 1, "KEY", cmd_get },
	{ "range", 1, "PREFIX [REVISION]", cmd_range },
	{ "del", 1, "KEY", cmd_del },
	{ "delprefix", 1, "PREFIX", cmd_del },
	{ "create", 2, "KEY VALUE [LEASE]", cmd_create },
	{ "cas", 3, "KEY MOD_REVISION VALUE", cmd_cas },
	{ "txn-value", 3, "KEY EXPECTED NEW", cmd_txn_value },
	{ "lease-grant", 1, "TTL", cmd_lease_grant },
	{ "lease-keepalive", 1, "ID", cmd_lease_keepalive },
	{ "lease-revoke", 1, "ID", cmd_lease_revoke },
	{ "keep", 3, "ID TTL SECONDS", cmd_keep },
	{ "watch", 4, "PREFIX REVISION COUNT SECONDS [HOLD_MS]", cmd_watch },
	{ "alloc", 4, "PREFIX POOL COUNT OWNER", cmd_alloc },
	{ "incr", 2, "KEY COUNT", cmd_incr },
	{ "fill", 2, "PREFIX N", cmd_fill },
};

static int usage(void)
{
	fprintf(stderr, "usage: etcdtest [--endpoints URL] [--cafile F] [--certfile F] "
		"[--keyfile F] [--connect-timeout MS] [--timeout MS] [--repeat N] COMMAND ARGS\n");
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++)
		fprintf(stderr, "  %s %s\n", cmds[i].name, cmds[i].usage);
	return 1;
}

static int exit_code(int r)
{
	switch (r) {
	case 0: return 0;
	case -EEXIST: case -ESTALE: return 3;
	case -ENOENT: return 4;
	default: return 1;
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "endpoints", required_argument, NULL, 'e' },
		{ "cafile", required_argument, NULL, 'a' },
		{ "certfile", required_argument, NULL, 'c' },
		{ "keyfile", required_argument, NULL, 'k' },
		{ "connect-timeout", required_argument, NULL, 'C' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "repeat", required_argument, NULL, 'R' },
		{ 0 },
	};
	struct etcd_config cfg = { .url = getenv("ETCDTEST_ENDPOINTS") };
	struct berr err = BERR_INIT;
	struct etcd_client *c = NULL;
	int o, r, repeat = 1;

	if (getenv("ETCDTEST_DEBUG"))
		blog_set_level(BLOG_DEBUG);
	while ((o = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (o) {
		case 'e': cfg.url = optarg; break;
		case 'a': cfg.cafile = optarg; break;
		case 'c': cfg.certfile = optarg; break;
		case 'k': cfg.keyfile = optarg; break;
		case 'C': cfg.connect_timeout_ms = atoi(optarg); break;
		case 'T': cfg.request_timeout_ms = atoi(optarg); break;
		case 'R': repeat = atoi(optarg); break;
		default: return usage();
		}
	}
	if (optind >= argc)
		return usage();
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++) {
		if (strcmp(argv[optind], cmds[i].name) != 0)
			continue;
		if (argc - optind - 1 < cmds[i].argc)
			return usage();
		r = etcd_client_new(&cfg, &c, &err);
		for (int n = 0; r == 0 && n < repeat; n++) {
			double t0 = now_s();

			r = cmds[i].run(c, argv + optind + 1, argc - optind - 1, &err);
			if (repeat > 1)
				fprintf(stderr, "run %d: %.0f ms\n", n + 1, (now_s() - t0) * 1000);
		}
		etcd_client_free(c);
		fflush(stdout);
		if (r < 0)
			fprintf(stderr, "etcdtest: %s\n", berr_str(&err));
		return exit_code(r);
	}
	return usage();
}

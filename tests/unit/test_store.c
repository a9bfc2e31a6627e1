/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the SQLite store, on a real database file in a private temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common/util.h"
#include "store/store.h"

struct fixture {
	char dir[64];
	char path[128];
	struct store *s;
};

static int fixture_setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct berr err = BERR_INIT;

	strcpy(f->dir, "/tmp/berth-test-store-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/berth.db", f->dir);
	assert_int_equal(store_open(f->path, &f->s, &err), 0);
	*state = f;
	return 0;
}

static int fixture_teardown(void **state)
{
	struct fixture *f = *state;
	char p[160];

	store_close(f->s);
	snprintf(p, sizeof(p), "%s", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->path);
	unlink(p);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void mkid(char id[ID_LEN + 1], unsigned n)
{
	snprintf(id, ID_LEN + 1, "%08x%056x", n, 0);
}

static struct ipaddr ip(const char *s)
{
	struct ipaddr a;

	assert_int_equal(ip_parse(s, &a, NULL), 0);
	return a;
}

static struct cidr cidr(const char *s)
{
	struct cidr c;

	assert_int_equal(cidr_parse(s, &c, NULL), 0);
	return c;
}

static void assert_json_equal(const cJSON *a, const cJSON *b)
{
	assert_true(cJSON_Compare(a, b, true));
}

static void assert_ip_equal(const struct ipaddr *a, const struct ipaddr *b)
{
	assert_int_equal(a->family, b->family);
	assert_memory_equal(a->b, b->b, sizeof(a->b));
}

/* ---- collecting list results ---- */

#define MAX_ITEMS 16

struct bag {
	int n;
	void *items[MAX_ITEMS];
	int stop_after;      /* return -42 after this many, 0 = never */
};

static int bag_add(struct bag *b, void *obj)
{
	assert_true(b->n < MAX_ITEMS);
	b->items[b->n++] = obj;
	return b->stop_after && b->n >= b->stop_after ? -42 : 0;
}

static int net_cb(struct bnetwork *n, void *ud)
{
	return bag_add(ud, n);
}

static int ctr_cb(struct bcontainer *c, void *ud)
{
	return bag_add(ud, c);
}

static int ep_cb(struct bendpoint *e, void *ud)
{
	return bag_add(ud, e);
}

static void bag_free(struct bag *b, void (*fn)(void *))
{
	for (int i = 0; i < b->n; i++)
		fn(b->items[i]);
	b->n = 0;
}

static void net_free(void *p)
{
	bnetwork_free(p);
}

static void ctr_free(void *p)
{
	bcontainer_free(p);
}

static void ep_free(void *p)
{
	bendpoint_free(p);
}

/* ---- sample objects ---- */

static void network_sample(struct bnetwork *n, unsigned id, const char *name)
{
	memset(n, 0, sizeof(*n));
	mkid(n->id, id);
	snprintf(n->name, sizeof(n->name), "%s", name);
	strcpy(n->driver, "bridge");
	strcpy(n->created, "2026-11-28T03:04:05.123456789Z");
	n->internal = true;
	n->ipv6 = true;
	n->attachable = false;
	n->n_subnets = 2;
	n->subnets[0].subnet = cidr("10.7.0.0/16");
	n->subnets[0].range = cidr("10.7.128.0/17");
	n->subnets[0].gateway = ip("10.7.0.1");
	n->subnets[0].aux = cJSON_Parse("{\"router\":\"10.7.0.2\",\"dns\":\"10.7.0.3\"}");
	n->subnets[1].subnet = cidr("fd00:7::/64");
	n->subnets[1].gateway = ip("fd00:7::1");
	n->options = cJSON_Parse("{\"com.docker.network.bridge.name\":\"br-test\"}");
	n->labels = cJSON_Parse("{\"team\":\"net\",\"env\":\"ci\"}");
	strcpy(n->ifname, "br-test");
	n->ifname_foreign = true;
	n->subnets[1].gateway_foreign = true;
	n->mtu = 1450;
}

static void network_clear(struct bnetwork *n)
{
	for (int i = 0; i < n->n_subnets; i++)
		cJSON_Delete(n->subnets[i].aux);
	cJSON_Delete(n->options);
	cJSON_Delete(n->labels);
}

static void container_sample(struct bcontainer *c, unsigned id, const char *name)
{
	memset(c, 0, sizeof(*c));
	mkid(c->id, id);
	snprintf(c->name, sizeof(c->name), "%s", name);
	strcpy(c->image, "busybox");
	strcpy(c->hostname, "web1");
	strcpy(c->created, "2026-11-28T03:04:05.000000001Z");
	strcpy(c->network_mode, "");
	c->cmd = cJSON_Parse("[\"sleep\",\"1000\"]");
	c->env = cJSON_Parse("[\"A=1\",\"PATH=/bin\"]");
	c->extra = cJSON_Parse("{\"ports\":[{\"HostPort\":\"8080\"}]}");
	c->auto_remove = true;
	c->state = CTR_RUNNING;
	c->pid = 12345;
	c->shim_pid = 12344;
	c->pid_start = UINT64_C(0xfedcba9876543210);
	c->exit_code = 137;
	strcpy(c->started_at, "2026-11-28T03:04:06Z");
	strcpy(c->finished_at, "2026-11-28T03:04:07Z");
}

static void container_clear(struct bcontainer *c)
{
	cJSON_Delete(c->cmd);
	cJSON_Delete(c->env);
	cJSON_Delete(c->extra);
}

static void endpoint_sample(struct bendpoint *e, unsigned id, const char *net, const char *ctr)
{
	memset(e, 0, sizeof(*e));
	mkid(e->id, id);
	strcpy(e->network_id, net);
	strcpy(e->container_id, ctr);
	e->seq = INT64_C(1) << 40;
	e->state = EP_PENDING;
	strcpy(e->ifname, "eth1");
	strcpy(e->host_ifname, "bv0123456789abc");
	strcpy(e->mac, "02:42:0a:07:00:05");
	e->ip4 = ip("10.7.0.5");
	e->ip6 = ip("fd00:7::5");
	e->req_ip6 = ip("fd00:7::5");
	e->aliases = cJSON_Parse("[\"web\",\"www\"]");
}

/* ---- tests ---- */

static void test_open_reopen_persists(void **state)
{
	struct fixture *f = *state;
	struct berr err = BERR_INIT;
	struct bnetwork n;
	struct bag bag = { 0 };
	char *v = NULL;

	network_sample(&n, 1, "persist");
	assert_int_equal(store_network_put(f->s, &n, &err), 0);
	assert_int_equal(store_meta_put(f->s, "host-id", "abc", &err), 0);
	store_close(f->s);
	assert_int_equal(store_open(f->path, &f->s, &err), 0);
	assert_int_equal(store_meta_get(f->s, "host-id", &v, &err), 0);
	assert_string_equal(v, "abc");
	free(v);
	assert_int_equal(store_network_list(f->s, net_cb, &bag, &err), 0);
	assert_int_equal(bag.n, 1);
	assert_string_equal(((struct bnetwork *)bag.items[0])->name, "persist");
	bag_free(&bag, net_free);
	network_clear(&n);
}

static void test_wal_and_schema_version(void **state)
{
	struct fixture *f = *state;
	sqlite3 *db;
	sqlite3_stmt *st;

	assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 2);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void test_newer_schema_refused(void **state)
{
	struct fixture *f = *state;
	struct berr err = BERR_INIT;
	struct store *s2 = NULL;
	sqlite3 *db;

	store_close(f->s);
	f->s = NULL;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version=99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(f->path, &s2, &err), -EPROTO);
	assert_null(s2);
	assert_non_null(strstr(err.msg, "schema version 99"));
}

static void network_assert_equal(const struct bnetwork *a, const struct bnetwork *b)
{
	assert_string_equal(a->id, b->id);
	assert_string_equal(a->name, b->name);
	assert_string_equal(a->driver, b->driver);
	assert_string_equal(a->created, b->created);
	assert_int_equal(a->internal, b->internal);
	assert_int_equal(a->ipv6, b->ipv6);
	assert_int_equal(a->attachable, b->attachable);
	assert_int_equal(a->n_subnets, b->n_subnets);
	for (int i = 0; i < a->n_subnets; i++) {
		const struct bsubnet *x = &a->subnets[i], *y = &b->subnets[i];

		assert_ip_equal(&x->subnet.addr, &y->subnet.addr);
		assert_int_equal(x->subnet.prefix, y->subnet.prefix);
		assert_ip_equal(&x->range.addr, &y->range.addr);
		assert_int_equal(x->range.prefix, y->range.prefix);
		assert_ip_equal(&x->gateway, &y->gateway);
		assert_int_equal(x->gateway_foreign, y->gateway_foreign);
		if (x->aux || y->aux)
			assert_json_equal(x->aux, y->aux);
	}
	assert_json_equal(a->options, b->options);
	assert_json_equal(a->labels, b->labels);
	assert_string_equal(a->ifname, b->ifname);
	assert_int_equal(a->ifname_foreign, b->ifname_foreign);
	assert_int_equal(a->mtu, b->mtu);
}

static void test_network_roundtrip(void **state)
{
	struct fixture *f = *state;
	struct berr err = BERR_INIT;
	struct bnetwork n, bare = { 0 };
	struct bag bag = { 0 };
	struct bnetwork *got;

	network_sample(&n, 1, "front");
	assert_int_equal(store_network_put(f->s, &n, &err), 0);
	mkid(bare.id, 2);
	strcpy(bare.name, "bare");
	strcpy(bare.driver, "null");
	assert_int_equal(store_network_put(f->s, &bare, &err), 0);

	assert_int_equal(store_network_list(f->s, net_cb, &bag, &err), 0);
	assert_int_equal(bag.n, 2);
	network_assert_equal(bag.items[0], &n);
	got = bag.items[1];
	assert_string_equal(got->name, "bare");
	assert_int_equal(got->n_subnets, 0);
	assert_non_null(got->options);
	assert_true(cJSON_IsObject(got->options));
	assert_int_equal(cJSON_GetArraySize(got->options), 0);
	assert_non_null(got->labels);
	bag_free(&bag, net_free);

	/* Put by the same id replaces (a rename here). */
	strcpy(n.name, "front2");
	n.mtu = 9000;
	assert_int_equal(store_network_put(f->s, &n, &err), 0);
	assert_int_equal(store_network_list(f->s, net_cb, &bag, &err), 0);
	assert_int_equal(bag.n, 2);
	network_assert_equal(bag.items[0], &n);
	bag_free(&bag, net_free);

	assert_int_equal(store_network_delete(f->s, n.id, &err), 0);
	assert_int_equal(store_network_delete(f->s, n.id, &err), 0);   /* missing: fine */
	assert_int_equal(store_network_list(f->s, net_cb, &bag, &err), 0);
	assert_int_equal(bag.n, 1);
	assert_string_equal(((struct bnetwork *)bag.items[0])->name, "bare");
	bag_free(&bag, net_free);
	network_clear(&n);
}

static void test_network_duplicate_name(void **state)
{
	struct fixture *f = *state;
	struct berr err = BERR_INIT;
	struct bnetwork a, b;

	network_sample(&a, 1, "dup");
	network_sample(&b, 2, "dup");
	assert_int_equal(store_network_put(f->s, &a, &err), 0);
	assert_int_equal(store_network_put(f->s, &b, &err), -EEXIST);
	assert_string_equal(err.msg, "network name \"dup\" is already in use");
	network_clear(&a);
	network_clear(&b);
}

static void container_assert_equal(const struct bcontainer *a, const struct bcontainer *b)
{
	assert_string_equal(a->id, b->id);
	assert_string_equal(a->name, b->name);
	assert_string_equal(a->image, b->image);
	assert_string_equal(a->hostname, b->hostname);
	assert_string_equal(a->created, b->created);
	assert_string_equal(a->network_mode, b->network_mode);
	assert_json_equal(a->cmd, b->cmd);
	assert_json_equal(a->env, b->env);
	assert_json_equal(a->extra, b->extra);
	assert_int_equal(a->auto_remove, b->auto_remove);
	assert_int_equal(a->state, b->state);
	assert_int_equal(a->pid, b->pid);
	assert_int_equal(a->shim_pid, b->shim_pid);
	assert_true(a->pid_start == b->pid_start);
	assert_int_equal(a->exit_code, b->exit_code);
	assert_string_equal(a->started_at, b->started_at);
	assert_string_equal(a->finished_at, b->finished_at);
}

/* A version 1 file (no ifname_foreign column) is brought forward: its networks keep the
 * behaviour they were created under (berth owns their interface). */
static void test_schema_v1_migrated(void **state)
{
	struct fixture *f = *state;
	struct berr err = BERR_INIT;
	struct bnetwork n;
	struct bag bag = { 0 };
	sqlite3 *db;

	network_sample(&n, 1, "old");
	assert_int_equal(store_network_put(f->s, &n, &err), 0);
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "ALTER TABLE networks DROP COLUMN ifname_foreign; "
				      "PRAGMA user_version=1", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(f->path, &f->s, &err), 0);
	assert_int_equal(store_network_list(f->s, net_cb, &bag, &err), 0);
	assert_int_equal(bag.n, 1);
	assert_false(((struct bnetwork *)bag.items[0])->ifname_foreign);
	bag_free(&bag, net_free);
	assert_int_equal(store_network_put(f->s, &n, &err), 0);
	assert_int_equal(store_network_list(f->s, net_cb, &bag, &err), 0);
	network_assert_equal(bag.items[0], &n);
	bag_free(&bag, net_free);
	network_clear(&n);
}

/* BERTH_STORE_FAIL makes the named statements fail; every failure of the database is counted,
 * constraint answers are not. */
static void test_injected_failures(void **state)
{
	struct fixture *f = *state;
	struct berr err = BERR_INIT;
	struct ipaddr a = ip("10.7.0.9");
	struct store *s2 = NULL;
	struct bnetwork n, dup;
	unsigned before;

	network_sample(&n, 1, "n");
	network_sample(&dup, 2, "n");
	assert_int_equal(store_network_put(f->s, &n, &err), 0);
	assert_int_equal(store_alloc_put(f->s, n.id, &a, "ep", &err), 0);
	before = store_failures(f->s);
	assert_int_equal(store_network_put(f->s, &dup, &err), -EEXIST);
	assert_int_equal(store_failures(f->s), before);

	setenv("BERTH_STORE_FAIL", "nonsense", 1);
	assert_int_equal(store_open(f->path, &s2, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "nonsense"));
	setenv("BERTH_STORE_FAIL", "alloc-delete,commit", 1);
	assert_int_equal(store_open(f->path, &s2, &err), 0);
	unsetenv("BERTH_STORE_FAIL");
	assert_int_equal(store_failures(s2), 0);
	assert_int_equal(store_alloc_delete(s2, n.id, &a, &err), -EIO);
	assert_non_null(strstr(err.msg, "injected"));
	assert_int_equal(store_failures(s2), 1);
	assert_int_equal(store_begin(s2, &err), 0);
	assert_int_equal(store_meta_put(s2, "k", "v", &err), 0);
	assert_int_equal(store_commit(s2, &err), -EIO);
	assert_int_equal(store_failures(s2), 2);
	store_close(s2);
	/* nothing of it reached the file */
	assert_int_equal(store_meta_get(f->s, "k", &(char *){ NULL }, &err), -ENOENT);
	assert_int_equal(store_alloc_delete(f->s, n.id, &a, &err), 0);
	network_clear(&n);
	network_clear(&dup);
}

static void test_container_roundtrip(void **state)
{
	struct fixture *f = *state;
	struct berr err = BERR_INIT;
	struct bcontainer c, d = { 0 }, dup;
	struct bag bag = { 0 };
	struct bcontainer *got;

	container_sample(&c, 1, "web");
	assert_int_equal(store_container_put(f->s, &c, &err), 0);
	mkid(d.id, 2);
	strcpy(d.name, "plain");
	strcpy(d.network_mode, "host");
	assert_int_equal(store_container_put(f->s, &d, &err), 0);

	assert_int_equal(store_container_list(f->s, ctr_cb, &bag, &err), 0);
	assert_int_equal(bag.n, 2);
	container_assert_equal(bag.items[0], &c);
	got = bag.items[1];
	assert_string_equal(got->network_mode, "host");
	assert_null(got->cmd);   /* NULL round-trips as NULL */
	assert_null(got->extra);
	bag_free(&bag, ctr_free);

	container_sample(&dup, 3, "web");
	assert_int_equal(store_container_put(f->s, &dup, &err), -EEXIST);
	assert_string_equal(err.msg, "container name \"web\" is already in use");
	container_clear(&dup);

	assert_int_equal(store_container_delete(f->s, c.id, &err), 0);
	assert_int_equal(store_container_delete(f->s, c.id, &err), 0);
	assert_int_equal(store_container_list(f->s, ctr_cb, &bag, &err), 0);
	assert_int_equal(bag.n, 1);
	bag_free(&bag, ctr_free);
	container_clear(&c);
}

static void endpoint_assert_equal(const struct bendpoint *a, const struct bendpoint *b)
{
	assert_string_equal(a->id, b->id);
	assert_string_equal(a->network_id, b->network_id);
	assert_string_equal(a->container_id, b->container_id);
	assert_true(a->seq == b->seq);
	assert_int_equal(a->state, b->state);
	assert_string_equal(a->ifname, b->ifname);
	assert_string_equal(a->host_ifname, b->host_ifname);
	assert_string_equal(a->mac, b->mac);
	assert_ip_equal(&a->ip4, &b->ip4);
	assert_ip_equal(&a->ip6, &b->ip6);
	assert_ip_equal(&a->req_ip4, &b->req_ip4);
	assert_ip_equal(&a->req_ip6, &b->req_ip6);
	assert_json_equal(a->aliases, b->aliases);
}

/* A network (id 1) and a container (id 1) to hang endpoints on. */
static void parents_put(struct store *s, struct bnetwork *n, struct bcontainer *c)
{
	struct berr err = BERR_INIT;

	network_sample(n, 1, "net");
	container_sample(c, 1, "ctr");
	assert_int_equal(store_network_put(s, n, &err), 0);
	assert_int_equal(store_container_put(s, c, &err), 0);
}

static void test_endpoint_roundtrip(void **state)
{
	struct fixture *f = *state;
	struct berr err = BERR_INIT;
	struct bnetwork n;
	struct bcontainer c;
	struct bendpoint e, e2;
	struct bag bag = { 0 };

	parents_put(f->s, &n, &c);
	endpoint_sample(&e, 1, n.id, c.id);
	assert_int_equal(store_endpoint_put(f->s, &e, &err), 0);
	e.state = EP_ACTIVE;   /* update in place */
	assert_int_equal(store_endpoint_put(f->s, &e, &err), 0);
	assert_int_equal(store_endpoint_list(f->s, ep_cb, &bag, &err), 0);
	assert_int_equal(bag.n, 1);
	endpoint_assert_equal(bag.items[0], &e);
	bag_free(&bag, ep_free);

	/* Same (network, container) under another id. */
	endpoint_sample(&e2, 2, n.id, c.id);
	assert_int_equal(store_endpoint_put(f->s, &e2, &err), -EEXIST);
	assert_non_null(strstr(err.msg, "already connected"));
	cJSON_Delete(e2.aliases);

	/* Parents in use cannot go. */
	assert_int_equal(store_network_delete(f->s, n.id, &err), -EBUSY);
	assert_int_equal(store_container_delete(f->s, c.id, &err), -EBUSY);

	assert_int_equal(store_endpoint_delete(f->s, e.id, &err), 0);
	assert_int_equal(store_endpoint_delete(f->s, e.id, &err), 0);
	assert_int_equal(store_endpoint_list(f->s, ep_cb, &bag, &err), 0);
	assert_int_equal(bag.n, 0);
	assert_int_equal(store_network_delete(f->s, n.id, &err), 0);
	cJSON_Delete(e.aliases);
	network_clear(&n);
	container_clear(&c);
}

static void test_endpoint_aliases_default(void **state)
{
	struct fixture *f = *state;
	struct berr err = BERR_INIT;
	struct bnetwork n;
	struct bcontainer c;
	struct bendpoint e = { 0 };
	struct bag bag = { 0 };
	struct bendpoint *got;

	parents_put(f->s, &n, &c);
	mkid(e.id, 5);
	strcpy(e.network_id, n.id);
	strcpy(e.container_id, c.id);
	assert_int_equal(store_endpoint_put(f->s, &e, &err), 0);
	assert_int_equal(store_endpoint_list(f->s, ep_cb, &bag, &err), 0);
	got = bag.items[0];
	assert_true(cJSON_IsArray(got->aliases));
	assert_int_equal(got->ip4.family, 0);
	assert_int_equal(got->req_ip6.family, 0);
	bag_free(&bag, ep_free);
	network_clear(&n);
	container_clear(&c);
}

static void test_endpoint_foreign_key(void **state)
{
	struct fixture *f = *state;
	struct berr err = BERR_INIT;
	struct bnetwork n;
	struct bcontainer c;
	struct bendpoint e;
	char unknown[ID_LEN + 1];

	parents_put(f->s, &n, &c);
	mkid(unknown, 0xdead);
	endpoint_sample(&e, 1, unknown, c.id);
	assert_int_equal(store_endpoint_put(f->s, &e, &err), -ENOENT);
	assert_string_equal(err.msg, "network 0000dead0000 does not exist");
	strcpy(e.network_id, n.id);
	strcpy(e.container_id, unknown);
	assert_int_equal(store_endpoint_put(f->s, &e, &err), -ENOENT);
	assert_string_equal(err.msg, "container 0000dead0000 does not exist");
	cJSON_Delete(e.aliases);
	network_clear(&n);
	container_clear(&c);
}

struct alloc_row {
	char net[ID_LEN + 1];
	struct ipaddr a;
	char owner[64];
};

struct alloc_bag {
	int n;
	struct alloc_row rows[MAX_ITEMS];
};

static int alloc_cb(const char *network_id, const struct ipaddr *a, const char *owner, void *ud)
{
	struct alloc_bag *b = ud;

	assert_true(b->n < MAX_ITEMS);
	strcpy(b->rows[b->n].net, network_id);
	b->rows[b->n].a = *a;
	snprintf(b->rows[b->n].owner, sizeof(b->rows[0].owner), "%s", owner);
	b->n++;
	return 0;
}

static void test_allocations(void **state)
{
	struct fixture *f = *state;
	struct berr err = BERR_INIT;
	struct bnetwork n;
	struct ipaddr a4 = ip("10.0.0.2"), a6 = ip("fd00::2"), gw = ip("10.0.0.1");
	struct alloc_bag bag = { 0 };
	char unknown[ID_LEN + 1];

	network_sample(&n, 1, "n");
	assert_int_equal(store_network_put(f->s, &n, &err), 0);
	assert_int_equal(store_alloc_put(f->s, n.id, &gw, "gateway", &err), 0);
	assert_int_equal(store_alloc_put(f->s, n.id, &a4, "ep1", &err), 0);
	assert_int_equal(store_alloc_put(f->s, n.id, &a6, "ep1", &err), 0);
	assert_int_equal(store_alloc_put(f->s, n.id, &a4, "ep2", &err), -EADDRINUSE);
	assert_string_equal(err.msg, "address 10.0.0.2 is already allocated in network 000000010000");

	mkid(unknown, 0xbeef);
	assert_int_equal(store_alloc_put(f->s, unknown, &a4, "ep1", &err), -ENOENT);

	assert_int_equal(store_alloc_list(f->s, alloc_cb, &bag, &err), 0);
	assert_int_equal(bag.n, 3);
	assert_string_equal(bag.rows[0].owner, "gateway");
	assert_ip_equal(&bag.rows[0].a, &gw);
	assert_string_equal(bag.rows[2].net, n.id);
	assert_ip_equal(&bag.rows[2].a, &a6);
	assert_string_equal(bag.rows[2].owner, "ep1");

	/* A network with allocations cannot be deleted. */
	assert_int_equal(store_network_delete(f->s, n.id, &err), -EBUSY);
	assert_int_equal(store_alloc_delete(f->s, n.id, &a4, &err), 0);
	assert_int_equal(store_alloc_delete(f->s, n.id, &a4, &err), 0);
	bag.n = 0;
	assert_int_equal(store_alloc_list(f->s, alloc_cb, &bag, &err), 0);
	assert_int_equal(bag.n, 2);
	assert_int_equal(store_alloc_delete_network(f->s, n.id, &err), 0);
	bag.n = 0;
	assert_int_equal(store_alloc_list(f->s, alloc_cb, &bag, &err), 0);
	assert_int_equal(bag.n, 0);
	assert_int_equal(store_network_delete(f->s, n.id, &err), 0);
	network_clear(&n);
}

static int count_networks(struct store *s)
{
	struct berr err = BERR_INIT;
	struct bag bag = { 0 };
	int n;

	assert_int_equal(store_network_list(s, net_cb, &bag, &err), 0);
	n = bag.n;
	bag_free(&bag, net_free);
	return n;
}

static void test_transactions(void **state)
{
	struct fixture *f = *state;
	struct berr err = BERR_INIT;
	struct bnetwork a, b;

	network_sample(&a, 1, "a");
	network_sample(&b, 2, "b");
	assert_int_equal(store_begin(f->s, &err), 0);
	assert_int_equal(store_begin(f->s, &err), -EBUSY);
	assert_int_equal(store_network_put(f->s, &a, &err), 0);
	assert_int_equal(count_networks(f->s), 1);
	store_rollback(f->s);
	assert_int_equal(count_networks(f->s), 0);
	store_rollback(f->s);   /* no transaction: harmless */

	assert_int_equal(store_begin(f->s, &err), 0);
	assert_int_equal(store_network_put(f->s, &a, &err), 0);
	assert_int_equal(store_network_put(f->s, &b, &err), 0);
	assert_int_equal(store_commit(f->s, &err), 0);
	assert_int_equal(store_commit(f->s, &err), -EINVAL);

	/* A failed statement leaves the transaction usable; rollback discards all of it. */
	assert_int_equal(store_begin(f->s, &err), 0);
	assert_int_equal(store_network_delete(f->s, a.id, &err), 0);
	strcpy(a.name, "b");
	assert_int_equal(store_network_put(f->s, &b, &err), 0);
	assert_int_equal(store_network_put(f->s, &a, &err), -EEXIST);
	store_rollback(f->s);
	assert_int_equal(count_networks(f->s), 2);

	/* Committed data survives a reopen. */
	store_close(f->s);
	assert_int_equal(store_open(f->path, &f->s, &err), 0);
	assert_int_equal(count_networks(f->s), 2);
	network_clear(&a);
	network_clear(&b);
}

static void test_meta(void **state)
{
	struct fixture *f = *state;
	struct berr err = BERR_INIT;
	char *v = (char *)"untouched";

	assert_int_equal(store_meta_get(f->s, "nope", &v, &err), -ENOENT);
	assert_null(v);
	assert_int_equal(store_meta_put(f->s, "k", "one", &err), 0);
	assert_int_equal(store_meta_put(f->s, "k", "two", &err), 0);
	assert_int_equal(store_meta_get(f->s, "k", &v, &err), 0);
	assert_string_equal(v, "two");
	free(v);
}

static int meta_collect(const char *key, const char *value, void *ud)
{
	char *acc = ud;

	snprintf(acc + strlen(acc), 256 - strlen(acc), "%s=%s;", key, value);
	return strcmp(key, "docker/stop") == 0 ? -ECANCELED : 0;
}

/* Listing by prefix: in key order, only that prefix (not "docker2/..."), a callback may stop. */
static void test_meta_list(void **state)
{
	struct fixture *f = *state;
	struct berr err = BERR_INIT;
	char acc[256] = "";

	assert_int_equal(store_meta_put(f->s, "docker/b", "2", &err), 0);
	assert_int_equal(store_meta_put(f->s, "docker/a", "1", &err), 0);
	assert_int_equal(store_meta_put(f->s, "docker2/x", "9", &err), 0);
	assert_int_equal(store_meta_put(f->s, "other", "9", &err), 0);
	assert_int_equal(store_meta_list(f->s, "docker/", meta_collect, acc, &err), 0);
	assert_string_equal(acc, "docker/a=1;docker/b=2;");
	acc[0] = '\0';
	assert_int_equal(store_meta_list(f->s, "nothing/", meta_collect, acc, &err), 0);
	assert_string_equal(acc, "");
	assert_int_equal(store_meta_put(f->s, "docker/stop", "3", &err), 0);
	assert_int_equal(store_meta_put(f->s, "docker/z", "4", &err), 0);
	assert_int_equal(store_meta_list(f->s, "docker/", meta_collect, acc, &err), -ECANCELED);
	assert_string_equal(acc, "docker/a=1;docker/b=2;docker/stop=3;");
}

static void test_list_stops(void **state)
{
	struct fixture *f = *state;
	struct berr err = BERR_INIT;
	struct bnetwork n;
	struct bag bag = { .stop_after = 1 };
	char name[16];

	for (unsigned i = 1; i <= 3; i++) {
		snprintf(name, sizeof(name), "n%u", i);
		network_sample(&n, i, name);
		assert_int_equal(store_network_put(f->s, &n, &err), 0);
		network_clear(&n);
	}
	assert_int_equal(store_network_list(f->s, net_cb, &bag, &err), -42);
	assert_int_equal(bag.n, 1);
	bag_free(&bag, net_free);
	/* The cached statement was reset: a new list sees everything. */
	assert_int_equal(count_networks(f->s), 3);
}

struct nested {
	struct store *s;
	int outer, inner_total;
};

/* Calls back into the store from a list callback, including the same list and a delete. */
static int nested_cb(struct bnetwork *n, void *ud)
{
	struct nested *x = ud;
	struct berr err = BERR_INIT;

	x->outer++;
	x->inner_total += count_networks(x->s);
	assert_int_equal(store_meta_put(x->s, n->name, n->id, &err), 0);
	bnetwork_free(n);
	return 0;
}

static void test_list_reentrant(void **state)
{
	struct fixture *f = *state;
	struct berr err = BERR_INIT;
	struct bnetwork n;
	struct nested x = { f->s, 0, 0 };
	char *v;

	network_sample(&n, 1, "x1");
	assert_int_equal(store_network_put(f->s, &n, &err), 0);
	network_clear(&n);
	network_sample(&n, 2, "x2");
	assert_int_equal(store_network_put(f->s, &n, &err), 0);
	assert_int_equal(store_network_list(f->s, nested_cb, &x, &err), 0);
	assert_int_equal(x.outer, 2);
	assert_int_equal(x.inner_total, 4);
	assert_int_equal(store_meta_get(f->s, "x2", &v, &err), 0);
	assert_string_equal(v, n.id);
	free(v);
	network_clear(&n);
}

static void test_corrupt_row(void **state)
{
	struct fixture *f = *state;
	struct berr err = BERR_INIT;
	struct bnetwork n;
	struct bag bag = { 0 };
	sqlite3 *db;

	network_sample(&n, 1, "bad");
	assert_int_equal(store_network_put(f->s, &n, &err), 0);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE networks SET subnets = '[{\"Subnet\":\"zz\"}]'",
				      NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_network_list(f->s, net_cb, &bag, &err), -EIO);
	assert_int_equal(bag.n, 0);
	assert_non_null(strstr(err.msg, "network 000000010000 is corrupt: column subnets"));
	network_clear(&n);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Not a benchmark, a guard: an autocommit put must cost microseconds, not milliseconds. */
static void test_put_is_fast(void **state)
{
	struct fixture *f = *state;
	struct berr err = BERR_INIT;
	struct bnetwork n;
	struct bcontainer c;
	struct bendpoint e;
	struct ipaddr a = ip("10.0.0.0");
	uint64_t t0, per;
	const int count = 500;

	parents_put(f->s, &n, &c);
	endpoint_sample(&e, 1, n.id, c.id);
	t0 = now_ns();
	for (int i = 0; i < count; i++) {
		a.b[2] = (uint8_t)(i >> 8);
		a.b[3] = (uint8_t)i;
		assert_int_equal(store_alloc_put(f->s, n.id, &a, e.id, &err), 0);
		e.seq = i;
		assert_int_equal(store_endpoint_put(f->s, &e, &err), 0);
	}
	per = (now_ns() - t0) / (2u * count);
	print_message("autocommit put: %llu us\n", (unsigned long long)(per / 1000));
	assert_true(per < 1000000);   /* generous: < 1 ms even on a slow CI disk */
	cJSON_Delete(e.aliases);
	network_clear(&n);
	container_clear(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)
		T(test_open_reopen_persists),
		T(test_wal_and_schema_version),
		T(test_newer_schema_refused),
		T(test_schema_v1_migrated),
		T(test_injected_failures),
		T(test_network_roundtrip),
		T(test_network_duplicate_name),
		T(test_container_roundtrip),
		T(test_endpoint_roundtrip),
		T(test_endpoint_aliases_default),
		T(test_endpoint_foreign_key),
		T(test_allocations),
		T(test_transactions),
		T(test_meta),
		T(test_meta_list),
		T(test_list_stops),
		T(test_list_reentrant),
		T(test_corrupt_row),
		T(test_put_is_fast),
#undef T
	};

	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}

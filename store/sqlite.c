/* SPDX-License-Identifier: Apache-2.0 */
/* The embedded store: SQLite in WAL mode at <root>/berth.db.
 *
 * Durability: journal_mode=WAL with synchronous=NORMAL. COMMIT returns once the transaction's
 * pages are written (write(2), no fsync) to the WAL file, so a committed transaction survives the
 * death of the process at any instant (kill -9, crash): the kernel owns those pages. Only a power
 * loss or kernel crash may drop the last few commits, and even then the database stays
 * consistent. Process-crash safety is what berth's reconciliation relies on, and it costs no
 * fsync per operation, which keeps a put in the microseconds.
 *
 * Every statement is prepared once at open and cached in struct store (reset + bind per call).
 * Transactions span calls, so a struct store is used by one thread at a time; FULLMUTEX only
 * guards against accidental sharing.
 *
 * Schema versions live in PRAGMA user_version; schema_migrate() brings an older file forward.
 *
 * Failures of the database itself (not constraint answers) are counted (store_failures), and
 * BERTH_STORE_FAIL injects them per statement, so that tests can show the callers survive them. */
#include "store/store.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include <sqlite3.h>

#include "common/util.h"
#include "store/store_json.h"

#define SCHEMA_VERSION 2
#define BUSY_TIMEOUT_MS 5000

enum stmt_id {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_META_GET,
	ST_META_PUT,
	ST_NET_PUT,
	ST_NET_DEL,
	ST_NET_LIST,
	ST_NET_EXISTS,
	ST_CTR_PUT,
	ST_CTR_DEL,
	ST_CTR_LIST,
	ST_CTR_EXISTS,
	ST_EP_PUT,
	ST_EP_DEL,
	ST_EP_LIST,
	ST_ALLOC_PUT,
	ST_ALLOC_DEL,
	ST_ALLOC_DEL_NET,
	ST_ALLOC_LIST,
	ST_META_DEL,
	ST_META_LIST,
	ST_COUNT,
};
_Static_assert(ST_COUNT <= 32, "fail_mask holds one bit per statement");

/* Statement names for BERTH_STORE_FAIL. */
static const char *const stmt_name[ST_COUNT] = {
	[ST_BEGIN] = "begin",
	[ST_COMMIT] = "commit",
	[ST_ROLLBACK] = "rollback",
	[ST_META_GET] = "meta-get",
	[ST_META_PUT] = "meta-put",
	[ST_META_DEL] = "meta-delete",
	[ST_META_LIST] = "meta-list",
	[ST_NET_PUT] = "network-put",
	[ST_NET_DEL] = "network-delete",
	[ST_NET_LIST] = "network-list",
	[ST_NET_EXISTS] = "network-exists",
	[ST_CTR_PUT] = "container-put",
	[ST_CTR_DEL] = "container-delete",
	[ST_CTR_LIST] = "container-list",
	[ST_CTR_EXISTS] = "container-exists",
	[ST_EP_PUT] = "endpoint-put",
	[ST_EP_DEL] = "endpoint-delete",
	[ST_EP_LIST] = "endpoint-list",
	[ST_ALLOC_PUT] = "alloc-put",
	[ST_ALLOC_DEL] = "alloc-delete",
	[ST_ALLOC_DEL_NET] = "alloc-delete-network",
	[ST_ALLOC_LIST] = "alloc-list",
};

#define NET_COLS "id, name, driver, created, internal, ipv6, attachable, subnets, options, " \
		 "labels, ifname, mtu, ifname_foreign"
#define CTR_COLS "id, name, image, hostname, created, network_mode, cmd, env, extra, " \
		 "auto_remove, state, pid, shim_pid, pid_start, exit_code, started_at, finished_at"
#define EP_COLS "id, network_id, container_id, seq, state, ifname, host_ifname, mac, ip4, ip6, " \
		"req_ip4, req_ip6, aliases"

static const char *const stmt_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
	[ST_META_DEL] = "DELETE FROM meta WHERE key = ?1",
	[ST_META_LIST] = "SELECT key, value FROM meta WHERE substr(key, 1, length(?1)) = ?1 "
			 "ORDER BY key",
	[ST_META_PUT] = "INSERT INTO meta(key, value) VALUES (?1, ?2) "
			"ON CONFLICT(key) DO UPDATE SET value = excluded.value",
	[ST_NET_PUT] = "INSERT INTO networks(" NET_COLS ") VALUES "
		       "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) "
		       "ON CONFLICT(id) DO UPDATE SET name = excluded.name, "
		       "driver = excluded.driver, created = excluded.created, "
		       "internal = excluded.internal, ipv6 = excluded.ipv6, "
		       "attachable = excluded.attachable, subnets = excluded.subnets, "
		       "options = excluded.options, labels = excluded.labels, "
		       "ifname = excluded.ifname, mtu = excluded.mtu, "
		       "ifname_foreign = excluded.ifname_foreign",
	[ST_NET_DEL] = "DELETE FROM networks WHERE id = ?1",
	[ST_NET_LIST] = "SELECT " NET_COLS " FROM networks ORDER BY rowid",
	[ST_NET_EXISTS] = "SELECT 1 FROM networks WHERE id = ?1",
	[ST_CTR_PUT] = "INSERT INTO containers(" CTR_COLS ") VALUES "
		       "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17) "
		       "ON CONFLICT(id) DO UPDATE SET name = excluded.name, "
		       "image = excluded.image, hostname = excluded.hostname, "
		       "created = excluded.created, network_mode = excluded.network_mode, "
		       "cmd = excluded.cmd, env = excluded.env, extra = excluded.extra, "
		       "auto_remove = excluded.auto_remove, state = excluded.state, "
		       "pid = excluded.pid, shim_pid = excluded.shim_pid, "
		       "pid_start = excluded.pid_start, exit_code = excluded.exit_code, "
		       "started_at = excluded.started_at, finished_at = excluded.finished_at",
	[ST_CTR_DEL] = "DELETE FROM containers WHERE id = ?1",
	[ST_CTR_LIST] = "SELECT " CTR_COLS " FROM containers ORDER BY rowid",
	[ST_CTR_EXISTS] = "SELECT 1 FROM containers WHERE id = ?1",
	[ST_EP_PUT] = "INSERT INTO endpoints(" EP_COLS ") VALUES "
		      "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) "
		      "ON CONFLICT(id) DO UPDATE SET network_id = excluded.network_id, "
		      "container_id = excluded.container_id, seq = excluded.seq, "
		      "state = excluded.state, ifname = excluded.ifname, "
		      "host_ifname = excluded.host_ifname, mac = excluded.mac, "
		      "ip4 = excluded.ip4, ip6 = excluded.ip6, req_ip4 = excluded.req_ip4, "
		      "req_ip6 = excluded.req_ip6, aliases = excluded.aliases",
	[ST_EP_DEL] = "DELETE FROM endpoints WHERE id = ?1",
	[ST_EP_LIST] = "SELECT " EP_COLS " FROM endpoints ORDER BY rowid",
	[ST_ALLOC_PUT] = "INSERT INTO allocations(network_id, address, owner) VALUES (?1, ?2, ?3)",
	[ST_ALLOC_DEL] = "DELETE FROM allocations WHERE network_id = ?1 AND address = ?2",
	[ST_ALLOC_DEL_NET] = "DELETE FROM allocations WHERE network_id = ?1",
	[ST_ALLOC_LIST] = "SELECT network_id, address, owner FROM allocations ORDER BY rowid",
};

static const char schema_v1[] =
	"CREATE TABLE meta ("
	"  key TEXT PRIMARY KEY NOT NULL,"
	"  value TEXT NOT NULL);"
	"CREATE TABLE networks ("
	"  id TEXT PRIMARY KEY NOT NULL,"
	"  name TEXT NOT NULL UNIQUE,"
	"  driver TEXT NOT NULL,"
	"  created TEXT NOT NULL,"
	"  internal INTEGER NOT NULL DEFAULT 0,"
	"  ipv6 INTEGER NOT NULL DEFAULT 0,"
	"  attachable INTEGER NOT NULL DEFAULT 0,"
	"  subnets TEXT,"
	"  options TEXT,"
	"  labels TEXT,"
	"  ifname TEXT NOT NULL DEFAULT '',"
	"  mtu INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE containers ("
	"  id TEXT PRIMARY KEY NOT NULL,"
	"  name TEXT NOT NULL UNIQUE,"
	"  image TEXT NOT NULL,"
	"  hostname TEXT NOT NULL DEFAULT '',"
	"  created TEXT NOT NULL,"
	"  network_mode TEXT NOT NULL DEFAULT '',"
	"  cmd TEXT,"
	"  env TEXT,"
	"  extra TEXT,"
	"  auto_remove INTEGER NOT NULL DEFAULT 0,"
	"  state INTEGER NOT NULL DEFAULT 0,"
	"  pid INTEGER NOT NULL DEFAULT 0,"
	"  shim_pid INTEGER NOT NULL DEFAULT 0,"
	"  pid_start INTEGER NOT NULL DEFAULT 0,"
	"  exit_code INTEGER NOT NULL DEFAULT 0,"
	"  started_at TEXT NOT NULL DEFAULT '',"
	"  finished_at TEXT NOT NULL DEFAULT '');"
	"CREATE TABLE endpoints ("
	"  id TEXT PRIMARY KEY NOT NULL,"
	"  network_id TEXT NOT NULL REFERENCES networks(id),"
	"  container_id TEXT NOT NULL REFERENCES containers(id),"
	"  seq INTEGER NOT NULL DEFAULT 0,"
	"  state INTEGER NOT NULL DEFAULT 0,"
	"  ifname TEXT NOT NULL DEFAULT '',"
	"  host_ifname TEXT NOT NULL DEFAULT '',"
	"  mac TEXT NOT NULL DEFAULT '',"
	"  ip4 TEXT,"
	"  ip6 TEXT,"
	"  req_ip4 TEXT,"
	"  req_ip6 TEXT,"
	"  aliases TEXT,"
	"  UNIQUE(network_id, container_id));"
	"CREATE INDEX endpoints_container ON endpoints(container_id);"
	"CREATE TABLE allocations ("
	"  network_id TEXT NOT NULL REFERENCES networks(id),"
	"  address TEXT NOT NULL,"
	"  owner TEXT NOT NULL,"
	"  PRIMARY KEY(network_id, address));";

static const char schema_v2[] =
	"ALTER TABLE networks ADD COLUMN ifname_foreign INTEGER NOT NULL DEFAULT 0;";

struct store {
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
	bool in_tx;
	unsigned failures;      /* see store_failures() */
	uint32_t fail_mask;     /* statements BERTH_STORE_FAIL makes fail (bit = enum stmt_id) */
};

/* ---- errors ---- */

static bool rc_is(int rc, int code)
{
	return rc == code;
}

/* -EBUSY when the database is locked, else -EIO. */
static int fail_code(int rc)
{
	return ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) ? -EBUSY : -EIO;
}

/* "store: <what>: <sqlite message>", counted as a failure of the database. */
static int sql_fail(struct store *s, int rc, struct berr *err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int sql_fail(struct store *s, int rc, struct berr *err, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	s->failures++;
	return berr_set(err, fail_code(rc), "store: %s: %s", what,
			s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
}

unsigned store_failures(const struct store *s)
{
	return s->failures;
}

/* BERTH_STORE_FAIL: a comma-separated list of statement names. */
static int fail_mask_parse(const char *spec, uint32_t *ret, struct berr *err)
{
	_cleanup_free_ char *copy = xstrdup(spec ? spec : "");
	char *save = NULL;

	*ret = 0;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int i = 0;

		while (i < ST_COUNT && strcmp(t, stmt_name[i]) != 0)
			i++;
		if (i == ST_COUNT)
			return berr_set(err, -EINVAL, "BERTH_STORE_FAIL: no statement \"%s\"", t);
		*ret |= 1u << i;
	}
	return 0;
}

/* ---- statements ---- */

/* A statement in use: the cached one, or a private copy when the cached one is already
 * stepping (a list callback calling back into the store). */
struct sq {
	sqlite3_stmt *st;
	bool transient;
};

static void sq_done(struct sq *q)
{
	if (!q->st)
		return;
	/* finalize and reset repeat the error of the last step, which the caller has reported;
	 * clear_bindings cannot fail. */
	if (q->transient) {
		sqlite3_finalize(q->st);
	} else {
		sqlite3_reset(q->st);
		sqlite3_clear_bindings(q->st);
	}
	q->st = NULL;
}

#define _cleanup_sq_ _cleanup_(sq_done)

static int sq_get(struct store *s, enum stmt_id id, struct sq *q, struct berr *err)
{
	int rc;

	if (s->fail_mask & (1u << id)) {
		s->failures++;
		q->st = NULL;
		return berr_set(err, -EIO, "store: %s: injected failure (BERTH_STORE_FAIL)",
				stmt_name[id]);
	}
	q->st = s->st[id];
	q->transient = false;
	if (!sqlite3_stmt_busy(q->st))
		return 0;
	q->transient = true;
	rc = sqlite3_prepare_v2(s->db, stmt_sql[id], -1, &q->st, NULL);
	if (rc != SQLITE_OK) {
		q->st = NULL;
		return sql_fail(s, rc, err, "preparing a statement");
	}
	return 0;
}

static int stmts_prepare(struct store *s, struct berr *err)
{
	for (int i = 0; i < ST_COUNT; i++) {
		int rc = sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
					    &s->st[i], NULL);
		if (rc != SQLITE_OK)
			return sql_fail(s, rc, err, "preparing \"%s\"", stmt_sql[i]);
	}
	return 0;
}

/* Binds the only parameter (?1) of a statement: SQLITE_OK or the error code. */
static int bind_key(struct sq *q, const char *key)
{
	return sqlite3_bind_text(q->st, 1, key, -1, SQLITE_STATIC);
}

/* Steps a statement that returns no rows: SQLITE_OK or the (extended) error code. */
static int sq_exec(struct sq *q)
{
	int rc = sqlite3_step(q->st);

	return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

/* ---- binding ---- */

struct binder {
	sqlite3_stmt *st;
	int i;
	int rc;
};

static void binder_init(struct binder *b, sqlite3_stmt *st)
{
	b->st = st;
	b->i = 1;
	b->rc = SQLITE_OK;
}

static void b_note(struct binder *b, int rc)
{
	if (rc != SQLITE_OK && b->rc == SQLITE_OK)
		b->rc = rc;
	b->i++;
}

/* Fixed buffers of the caller: SQLITE_STATIC is safe, bindings are cleared before return. */
static void b_text(struct binder *b, const char *v)
{
	b_note(b, sqlite3_bind_text(b->st, b->i, v, -1, SQLITE_STATIC));
}

/* Takes ownership of v (cJSON-allocated), NULL binds SQL NULL. */
static void b_text_owned(struct binder *b, char *v)
{
	if (!v)
		b_note(b, sqlite3_bind_null(b->st, b->i));
	else
		b_note(b, sqlite3_bind_text(b->st, b->i, v, -1, cJSON_free));
}

static void b_int(struct binder *b, int64_t v)
{
	b_note(b, sqlite3_bind_int64(b->st, b->i, v));
}

/* Text an encoder produced from a value that exists: NULL is its out-of-memory failure, never
 * "no value". */
static void b_text_encoded(struct binder *b, char *v)
{
	if (!v)
		b_note(b, SQLITE_NOMEM);
	else
		b_text_owned(b, v);
}

static void b_json(struct binder *b, const cJSON *j)
{
	if (!j)
		b_text_owned(b, NULL);
	else
		b_text_encoded(b, cJSON_PrintUnformatted(j));
}

static void b_ip(struct binder *b, const struct ipaddr *a)
{
	char buf[IP_STRLEN];

	if (!a->family)
		b_note(b, sqlite3_bind_null(b->st, b->i));
	else
		b_note(b, sqlite3_bind_text(b->st, b->i, ip_fmt(a, buf), -1, SQLITE_TRANSIENT));
}

/* ---- reading rows ---- */

struct row {
	sqlite3_stmt *st;
	int i;
	int bad;          /* first malformed column + 1, 0 = none */
	struct berr detail;
};

static void row_init(struct row *r, sqlite3_stmt *st)
{
	r->st = st;
	r->i = 0;
	r->bad = 0;
	berr_clear(&r->detail);
}

static void r_mark_bad(struct row *r)
{
	if (!r->bad)
		r->bad = r->i + 1;
}

static const char *r_cstr(struct row *r)
{
	return (const char *)sqlite3_column_text(r->st, r->i);
}

static void r_text(struct row *r, char *buf, size_t size)
{
	const char *v = r_cstr(r);

	if (strscpy(buf, v ? v : "", size) < 0)
		r_mark_bad(r);
	r->i++;
}

static int64_t r_int(struct row *r)
{
	return sqlite3_column_int64(r->st, r->i++);
}

static void r_ip(struct row *r, struct ipaddr *a)
{
	const char *v = r_cstr(r);

	memset(a, 0, sizeof(*a));
	if (v && ip_parse(v, a, r->bad ? NULL : &r->detail) < 0)
		r_mark_bad(r);
	r->i++;
}

static cJSON *r_json(struct row *r, int type, bool empty_if_null)
{
	cJSON *j = NULL;

	if (store_json_decode(r_cstr(r), type, empty_if_null, &j, r->bad ? NULL : &r->detail) < 0)
		r_mark_bad(r);
	r->i++;
	return j;
}

static int row_check(struct row *r, const char *kind, const char *id, struct berr *err)
{
	if (!r->bad)
		return 0;
	return berr_set(err, -EIO, "store: %s %.12s is corrupt: column %s: %s", kind, id,
			sqlite3_column_name(r->st, r->bad - 1),
			r->detail.msg[0] ? r->detail.msg : "value too long");
}

/* Steps q and calls fn for every row; a negative return of fn stops and is returned. */
static int rows_each(struct store *s, struct sq *q,
		     int (*fn)(sqlite3_stmt *st, void *ctx, struct berr *err), void *ctx,
		     const char *what, struct berr *err)
{
	int rc, r;

	while ((rc = sqlite3_step(q->st)) == SQLITE_ROW) {
		r = fn(q->st, ctx, err);
		if (r < 0)
			return r;
	}
	if (rc != SQLITE_DONE)
		return sql_fail(s, rc, err, "listing %s", what);
	return 0;
}

/* ---- open, schema, close ---- */

static int db_exec(sqlite3 *db, const char *sql, struct berr *err)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);

	if (rc == SQLITE_OK)
		return 0;
	rc = berr_set(err, (rc & 0xff) == SQLITE_BUSY ? -EBUSY : -EIO, "store: \"%.60s\": %s", sql,
		      msg ? msg : sqlite3_errstr(rc));
	sqlite3_free(msg);
	return rc;
}

/* Runs a pragma that returns one text row and copies it to buf. */
static int db_pragma(sqlite3 *db, const char *sql, char *buf, size_t size, struct berr *err)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		rc = berr_set(err, fail_code(rc), "store: \"%s\": %s", sql, sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return rc;
	}
	strscpy(buf, (const char *)sqlite3_column_text(st, 0) ?: "", size);
	sqlite3_finalize(st);
	return 0;
}

static int db_configure(sqlite3 *db, struct berr *err)
{
	char mode[16];
	int r;

	/* Both only set a field of an open handle: they cannot fail. */
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
	r = db_pragma(db, "PRAGMA journal_mode=WAL", mode, sizeof(mode), err);
	if (r < 0)
		return r;
	if (strcmp(mode, "wal") != 0)
		return berr_set(err, -EIO, "store: the database refuses WAL mode (journal mode is %s)",
				mode);
	return db_exec(db, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;", err);
}

static int schema_create(sqlite3 *db, int version, struct berr *err)
{
	char sql[64];
	int r;

	if (version == 0) {
		r = db_exec(db, schema_v1, err);
		if (r < 0)
			return r;
	}
	/* 2: whether berth created a network's interface. Older rows: it did (berth then deleted
	 * every bridge it used, so that is the behaviour they were created under). */
	if (version < 2) {
		r = db_exec(db, schema_v2, err);
		if (r < 0)
			return r;
	}
	/* Later versions: `if (version < 3) { ALTER ... }` here. */
	snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", SCHEMA_VERSION);
	return db_exec(db, sql, err);
}

static int schema_migrate(sqlite3 *db, struct berr *err)
{
	char buf[16];
	int r, version;

	r = db_exec(db, "BEGIN IMMEDIATE", err);
	if (r < 0)
		return r;
	r = db_pragma(db, "PRAGMA user_version", buf, sizeof(buf), err);
	if (r < 0)
		goto fail;
	version = atoi(buf);
	if (version > SCHEMA_VERSION) {
		r = berr_set(err, -EPROTO,
			     "store: schema version %d is newer than this berth supports (%d)",
			     version, SCHEMA_VERSION);
		goto fail;
	}
	if (version < SCHEMA_VERSION) {
		r = schema_create(db, version, err);
		if (r < 0)
			goto fail;
	}
	return db_exec(db, "COMMIT", err);
fail:
	/* The error above is the one to report; a failed ROLLBACK leaves nothing either: store_open
	 * closes the connection, which rolls back. */
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

int store_open(const char *path, struct store **ret, struct berr *err)
{
	const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
	struct store *s = xcalloc(1, sizeof(*s));
	int rc, r;

	*ret = NULL;
	r = fail_mask_parse(getenv("BERTH_STORE_FAIL"), &s->fail_mask, err);
	if (r < 0)
		goto fail;
	rc = sqlite3_open_v2(path, &s->db, flags, NULL);
	if (rc != SQLITE_OK) {
		r = sql_fail(s, rc, err, "opening %s", path);
		goto fail;
	}
	r = db_configure(s->db, err);
	if (r >= 0)
		r = schema_migrate(s->db, err);
	if (r >= 0)
		r = stmts_prepare(s, err);
	if (r < 0) {
		berr_prefix(err, "opening %s", path);
		goto fail;
	}
	blog_debug("store: opened %s (schema version %d)", path, SCHEMA_VERSION);
	*ret = s;
	return 0;
fail:
	store_close(s);
	return r;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	if (s->in_tx)
		store_rollback(s);
	/* finalize repeats errors already reported; close_v2 always succeeds (a busy handle
	 * becomes a zombie that closes when its last statement is finalized). */
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_close_v2(s->db);
	free(s);
}

/* ---- transactions ---- */

static int tx_exec(struct store *s, enum stmt_id id, const char *what, struct berr *err)
{
	_cleanup_sq_ struct sq q = { 0 };
	int rc, r;

	r = sq_get(s, id, &q, err);
	if (r < 0)
		return r;
	rc = sq_exec(&q);
	if (rc != SQLITE_OK)
		return sql_fail(s, rc, err, "%s", what);
	return 0;
}

int store_begin(struct store *s, struct berr *err)
{
	int r;

	if (s->in_tx)
		return berr_set(err, -EBUSY, "store: a transaction is already open");
	r = tx_exec(s, ST_BEGIN, "starting a transaction", err);
	if (r < 0)
		return r;
	s->in_tx = true;
	return 0;
}

int store_commit(struct store *s, struct berr *err)
{
	int r;

	if (!s->in_tx)
		return berr_set(err, -EINVAL, "store: no transaction is open to commit");
	if (sqlite3_get_autocommit(s->db)) {
		/* SQLite rolled back on its own (disk full, I/O error): nothing to commit. */
		s->in_tx = false;
		s->failures++;
		return berr_set(err, -EIO, "store: the transaction was rolled back after an error");
	}
	r = tx_exec(s, ST_COMMIT, "committing", err);
	if (r < 0) {
		store_rollback(s);
		return r;
	}
	s->in_tx = false;
	return 0;
}

void store_rollback(struct store *s)
{
	struct berr ignored = BERR_INIT;

	if (!s || !s->in_tx)
		return;
	s->in_tx = false;
	if (sqlite3_get_autocommit(s->db))
		return;
	if (tx_exec(s, ST_ROLLBACK, "rolling back", &ignored) < 0)
		blog_debug("%s", ignored.msg);
}

/* ---- meta ---- */

int store_meta_get(struct store *s, const char *key, char **ret, struct berr *err)
{
	_cleanup_sq_ struct sq q = { 0 };
	const char *v;
	int rc, r;

	*ret = NULL;
	r = sq_get(s, ST_META_GET, &q, err);
	if (r < 0)
		return r;
	rc = bind_key(&q, key) ?: sqlite3_step(q.st);
	if (rc == SQLITE_DONE)
		return berr_set(err, -ENOENT, "store: no metadata \"%s\"", key);
	if (rc != SQLITE_ROW)
		return sql_fail(s, rc, err, "reading metadata \"%s\"", key);
	v = (const char *)sqlite3_column_text(q.st, 0);
	*ret = xstrdup(v ? v : "");
	return 0;
}

int store_meta_put(struct store *s, const char *key, const char *value, struct berr *err)
{
	_cleanup_sq_ struct sq q = { 0 };
	struct binder b;
	int rc, r;

	r = sq_get(s, ST_META_PUT, &q, err);
	if (r < 0)
		return r;
	binder_init(&b, q.st);
	b_text(&b, key);
	b_text(&b, value);
	rc = b.rc ?: sq_exec(&q);
	if (rc != SQLITE_OK)
		return sql_fail(s, rc, err, "saving metadata \"%s\"", key);
	return 0;
}

static int delete_by_id(struct store *s, enum stmt_id id, const char *kind, const char *key,
			struct berr *err);

int store_meta_delete(struct store *s, const char *key, struct berr *err)
{
	return delete_by_id(s, ST_META_DEL, "metadata", key, err);
}

struct meta_iter {
	int (*cb)(const char *key, const char *value, void *ud);
	void *ud;
};

static int meta_row(sqlite3_stmt *st, void *ctx, struct berr *err)
{
	const struct meta_iter *it = ctx;
	const char *k = (const char *)sqlite3_column_text(st, 0);
	const char *v = (const char *)sqlite3_column_text(st, 1);

	return it->cb(k ? k : "", v ? v : "", it->ud);
}

int store_meta_list(struct store *s, const char *prefix,
		    int (*cb)(const char *key, const char *value, void *ud), void *ud,
		    struct berr *err)
{
	_cleanup_sq_ struct sq q = { 0 };
	struct meta_iter it = { cb, ud };
	int rc, r;

	r = sq_get(s, ST_META_LIST, &q, err);
	if (r < 0)
		return r;
	rc = bind_key(&q, prefix);
	if (rc != SQLITE_OK)
		return sql_fail(s, rc, err, "listing metadata \"%s*\"", prefix);
	return rows_each(s, &q, meta_row, &it, "metadata", err);
}

/* ---- deletes by id ---- */

static int delete_by_id(struct store *s, enum stmt_id id, const char *kind, const char *key,
			struct berr *err)
{
	_cleanup_sq_ struct sq q = { 0 };
	int rc, r;

	r = sq_get(s, id, &q, err);
	if (r < 0)
		return r;
	rc = bind_key(&q, key) ?: sq_exec(&q);
	if (rc_is(rc, SQLITE_CONSTRAINT_FOREIGNKEY))
		return berr_set(err, -EBUSY, "%s %.12s is still in use (endpoints or addresses refer "
				"to it)", kind, key);
	if (rc != SQLITE_OK)
		return sql_fail(s, rc, err, "deleting %s %.12s", kind, key);
	return 0;
}

static bool row_exists(struct store *s, enum stmt_id id, const char *key)
{
	_cleanup_sq_ struct sq q = { 0 };

	/* cannot tell: let the caller report the generic error */
	if (sq_get(s, id, &q, NULL) < 0 || bind_key(&q, key) != SQLITE_OK)
		return true;
	return sqlite3_step(q.st) == SQLITE_ROW;
}

/* ---- networks ---- */

int store_network_put(struct store *s, const struct bnetwork *n, struct berr *err)
{
	_cleanup_sq_ struct sq q = { 0 };
	struct binder b;
	int rc, r;

	if (n->n_subnets < 0 || n->n_subnets > NET_MAX_SUBNETS)
		return berr_set(err, -EINVAL, "network \"%s\" has %d subnets (at most %d)", n->name,
				n->n_subnets, NET_MAX_SUBNETS);
	r = sq_get(s, ST_NET_PUT, &q, err);
	if (r < 0)
		return r;
	binder_init(&b, q.st);
	b_text(&b, n->id);
	b_text(&b, n->name);
	b_text(&b, n->driver);
	b_text(&b, n->created);
	b_int(&b, n->internal);
	b_int(&b, n->ipv6);
	b_int(&b, n->attachable);
	b_text_encoded(&b, store_subnets_encode(n->subnets, n->n_subnets));
	b_json(&b, n->options);
	b_json(&b, n->labels);
	b_text(&b, n->ifname);
	b_int(&b, n->mtu);
	b_int(&b, n->ifname_foreign);
	rc = b.rc ?: sq_exec(&q);
	if (rc_is(rc, SQLITE_CONSTRAINT_UNIQUE))
		return berr_set(err, -EEXIST, "network name \"%s\" is already in use", n->name);
	if (rc != SQLITE_OK)
		return sql_fail(s, rc, err, "saving network %.12s", n->id);
	return 0;
}

int store_network_delete(struct store *s, const char *id, struct berr *err)
{
	return delete_by_id(s, ST_NET_DEL, "network", id, err);
}

static int network_load(sqlite3_stmt *st, struct bnetwork **ret, struct berr *err)
{
	struct bnetwork *n = xcalloc(1, sizeof(*n));
	struct row r;
	int k;

	row_init(&r, st);
	r_text(&r, n->id, sizeof(n->id));
	r_text(&r, n->name, sizeof(n->name));
	r_text(&r, n->driver, sizeof(n->driver));
	r_text(&r, n->created, sizeof(n->created));
	n->internal = r_int(&r) != 0;
	n->ipv6 = r_int(&r) != 0;
	n->attachable = r_int(&r) != 0;
	if (store_subnets_decode(r_cstr(&r), n->subnets, &n->n_subnets,
				 r.bad ? NULL : &r.detail) < 0)
		r_mark_bad(&r);
	r.i++;
	n->options = r_json(&r, cJSON_Object, true);
	n->labels = r_json(&r, cJSON_Object, true);
	r_text(&r, n->ifname, sizeof(n->ifname));
	n->mtu = (int)r_int(&r);
	n->ifname_foreign = r_int(&r) != 0;
	k = row_check(&r, "network", n->id, err);
	if (k < 0) {
		bnetwork_free(n);
		return k;
	}
	*ret = n;
	return 0;
}

struct network_iter {
	int (*cb)(struct bnetwork *n, void *ud);
	void *ud;
};

static int network_row(sqlite3_stmt *st, void *ctx, struct berr *err)
{
	struct network_iter *it = ctx;
	struct bnetwork *n;
	int r = network_load(st, &n, err);

	return r < 0 ? r : it->cb(n, it->ud);
}

int store_network_list(struct store *s, int (*cb)(struct bnetwork *n, void *ud), void *ud,
		       struct berr *err)
{
	_cleanup_sq_ struct sq q = { 0 };
	struct network_iter it = { cb, ud };
	int r;

	r = sq_get(s, ST_NET_LIST, &q, err);
	if (r < 0)
		return r;
	return rows_each(s, &q, network_row, &it, "networks", err);
}

/* ---- containers ---- */

int store_container_put(struct store *s, const struct bcontainer *c, struct berr *err)
{
	_cleanup_sq_ struct sq q = { 0 };
	struct binder b;
	int rc, r;

	r = sq_get(s, ST_CTR_PUT, &q, err);
	if (r < 0)
		return r;
	binder_init(&b, q.st);
	b_text(&b, c->id);
	b_text(&b, c->name);
	b_text(&b, c->image);
	b_text(&b, c->hostname);
	b_text(&b, c->created);
	b_text(&b, c->network_mode);
	b_json(&b, c->cmd);
	b_json(&b, c->env);
	b_json(&b, c->extra);
	b_int(&b, c->auto_remove);
	b_int(&b, c->state);
	b_int(&b, c->pid);
	b_int(&b, c->shim_pid);
	b_int(&b, (int64_t)c->pid_start);
	b_int(&b, c->exit_code);
	b_text(&b, c->started_at);
	b_text(&b, c->finished_at);
	rc = b.rc ?: sq_exec(&q);
	if (rc_is(rc, SQLITE_CONSTRAINT_UNIQUE))
		return berr_set(err, -EEXIST, "container name \"%s\" is already in use", c->name);
	if (rc != SQLITE_OK)
		return sql_fail(s, rc, err, "saving container %.12s", c->id);
	return 0;
}

int store_container_delete(struct store *s, const char *id, struct berr *err)
{
	return delete_by_id(s, ST_CTR_DEL, "container", id, err);
}

static int container_load(sqlite3_stmt *st, struct bcontainer **ret, struct berr *err)
{
	struct bcontainer *c = xcalloc(1, sizeof(*c));
	struct row r;
	int k;

	row_init(&r, st);
	r_text(&r, c->id, sizeof(c->id));
	r_text(&r, c->name, sizeof(c->name));
	r_text(&r, c->image, sizeof(c->image));
	r_text(&r, c->hostname, sizeof(c->hostname));
	r_text(&r, c->created, sizeof(c->created));
	r_text(&r, c->network_mode, sizeof(c->network_mode));
	c->cmd = r_json(&r, cJSON_Array, false);
	c->env = r_json(&r, cJSON_Array, false);
	c->extra = r_json(&r, cJSON_Object, false);
	c->auto_remove = r_int(&r) != 0;
	c->state = (enum ctr_state)r_int(&r);
	c->pid = (pid_t)r_int(&r);
	c->shim_pid = (pid_t)r_int(&r);
	c->pid_start = (uint64_t)r_int(&r);
	c->exit_code = (int)r_int(&r);
	r_text(&r, c->started_at, sizeof(c->started_at));
	r_text(&r, c->finished_at, sizeof(c->finished_at));
	k = row_check(&r, "container", c->id, err);
	if (k < 0) {
		bcontainer_free(c);
		return k;
	}
	*ret = c;
	return 0;
}

struct container_iter {
	int (*cb)(struct bcontainer *c, void *ud);
	void *ud;
};

static int container_row(sqlite3_stmt *st, void *ctx, struct berr *err)
{
	struct container_iter *it = ctx;
	struct bcontainer *c;
	int r = container_load(st, &c, err);

	return r < 0 ? r : it->cb(c, it->ud);
}

int store_container_list(struct store *s, int (*cb)(struct bcontainer *c, void *ud), void *ud,
			 struct berr *err)
{
	_cleanup_sq_ struct sq q = { 0 };
	struct container_iter it = { cb, ud };
	int r;

	r = sq_get(s, ST_CTR_LIST, &q, err);
	if (r < 0)
		return r;
	return rows_each(s, &q, container_row, &it, "containers", err);
}

/* ---- endpoints ---- */

static int endpoint_fk_error(struct store *s, const struct bendpoint *e, struct berr *err)
{
	if (!row_exists(s, ST_NET_EXISTS, e->network_id))
		return berr_set(err, -ENOENT, "network %.12s does not exist", e->network_id);
	if (!row_exists(s, ST_CTR_EXISTS, e->container_id))
		return berr_set(err, -ENOENT, "container %.12s does not exist", e->container_id);
	return berr_set(err, -ENOENT, "endpoint %.12s refers to a missing network or container",
			e->id);
}

int store_endpoint_put(struct store *s, const struct bendpoint *e, struct berr *err)
{
	_cleanup_sq_ struct sq q = { 0 };
	struct binder b;
	int rc, r;

	r = sq_get(s, ST_EP_PUT, &q, err);
	if (r < 0)
		return r;
	binder_init(&b, q.st);
	b_text(&b, e->id);
	b_text(&b, e->network_id);
	b_text(&b, e->container_id);
	b_int(&b, e->seq);
	b_int(&b, e->state);
	b_text(&b, e->ifname);
	b_text(&b, e->host_ifname);
	b_text(&b, e->mac);
	b_ip(&b, &e->ip4);
	b_ip(&b, &e->ip6);
	b_ip(&b, &e->req_ip4);
	b_ip(&b, &e->req_ip6);
	b_json(&b, e->aliases);
	rc = b.rc ?: sq_exec(&q);
	if (rc_is(rc, SQLITE_CONSTRAINT_UNIQUE))
		return berr_set(err, -EEXIST, "container %.12s is already connected to network %.12s",
				e->container_id, e->network_id);
	if (rc_is(rc, SQLITE_CONSTRAINT_FOREIGNKEY)) {
		sq_done(&q);   /* endpoint_fk_error() runs other statements */
		return endpoint_fk_error(s, e, err);
	}
	if (rc != SQLITE_OK)
		return sql_fail(s, rc, err, "saving endpoint %.12s", e->id);
	return 0;
}

int store_endpoint_delete(struct store *s, const char *id, struct berr *err)
{
	return delete_by_id(s, ST_EP_DEL, "endpoint", id, err);
}

static int endpoint_load(sqlite3_stmt *st, struct bendpoint **ret, struct berr *err)
{
	struct bendpoint *e = xcalloc(1, sizeof(*e));
	struct row r;
	int k;

	row_init(&r, st);
	r_text(&r, e->id, sizeof(e->id));
	r_text(&r, e->network_id, sizeof(e->network_id));
	r_text(&r, e->container_id, sizeof(e->container_id));
	e->seq = r_int(&r);
	e->state = (enum ep_state)r_int(&r);
	r_text(&r, e->ifname, sizeof(e->ifname));
	r_text(&r, e->host_ifname, sizeof(e->host_ifname));
	r_text(&r, e->mac, sizeof(e->mac));
	r_ip(&r, &e->ip4);
	r_ip(&r, &e->ip6);
	r_ip(&r, &e->req_ip4);
	r_ip(&r, &e->req_ip6);
	e->aliases = r_json(&r, cJSON_Array, true);
	k = row_check(&r, "endpoint", e->id, err);
	if (k < 0) {
		bendpoint_free(e);
		return k;
	}
	*ret = e;
	return 0;
}

struct endpoint_iter {
	int (*cb)(struct bendpoint *e, void *ud);
	void *ud;
};

static int endpoint_row(sqlite3_stmt *st, void *ctx, struct berr *err)
{
	struct endpoint_iter *it = ctx;
	struct bendpoint *e;
	int r = endpoint_load(st, &e, err);

	return r < 0 ? r : it->cb(e, it->ud);
}

int store_endpoint_list(struct store *s, int (*cb)(struct bendpoint *e, void *ud), void *ud,
			struct berr *err)
{
	_cleanup_sq_ struct sq q = { 0 };
	struct endpoint_iter it = { cb, ud };
	int r;

	r = sq_get(s, ST_EP_LIST, &q, err);
	if (r < 0)
		return r;
	return rows_each(s, &q, endpoint_row, &it, "endpoints", err);
}

/* ---- address allocations ---- */

int store_alloc_put(struct store *s, const char *network_id, const struct ipaddr *a,
		    const char *owner, struct berr *err)
{
	_cleanup_sq_ struct sq q = { 0 };
	char ip[IP_STRLEN];
	struct binder b;
	int rc, r;

	if (!a->family)
		return berr_set(err, -EINVAL, "store: cannot record an unset address");
	r = sq_get(s, ST_ALLOC_PUT, &q, err);
	if (r < 0)
		return r;
	binder_init(&b, q.st);
	b_text(&b, network_id);
	b_text(&b, ip_fmt(a, ip));
	b_text(&b, owner);
	rc = b.rc ?: sq_exec(&q);
	if (rc_is(rc, SQLITE_CONSTRAINT_PRIMARYKEY) || rc_is(rc, SQLITE_CONSTRAINT_UNIQUE))
		return berr_set(err, -EADDRINUSE, "address %s is already allocated in network %.12s",
				ip, network_id);
	if (rc_is(rc, SQLITE_CONSTRAINT_FOREIGNKEY))
		return berr_set(err, -ENOENT, "network %.12s does not exist", network_id);
	if (rc != SQLITE_OK)
		return sql_fail(s, rc, err, "recording address %s in network %.12s", ip,
				network_id);
	return 0;
}

int store_alloc_delete(struct store *s, const char *network_id, const struct ipaddr *a,
		       struct berr *err)
{
	_cleanup_sq_ struct sq q = { 0 };
	char ip[IP_STRLEN];
	struct binder b;
	int rc, r;

	if (!a->family)
		return 0;
	r = sq_get(s, ST_ALLOC_DEL, &q, err);
	if (r < 0)
		return r;
	binder_init(&b, q.st);
	b_text(&b, network_id);
	b_text(&b, ip_fmt(a, ip));
	rc = b.rc ?: sq_exec(&q);
	if (rc != SQLITE_OK)
		return sql_fail(s, rc, err, "releasing address %s in network %.12s", ip,
				network_id);
	return 0;
}

int store_alloc_delete_network(struct store *s, const char *network_id, struct berr *err)
{
	_cleanup_sq_ struct sq q = { 0 };
	int rc, r;

	r = sq_get(s, ST_ALLOC_DEL_NET, &q, err);
	if (r < 0)
		return r;
	rc = bind_key(&q, network_id) ?: sq_exec(&q);
	if (rc != SQLITE_OK)
		return sql_fail(s, rc, err, "releasing the addresses of network %.12s",
				network_id);
	return 0;
}

struct alloc_iter {
	int (*cb)(const char *network_id, const struct ipaddr *a, const char *owner, void *ud);
	void *ud;
};

static int alloc_row(sqlite3_stmt *st, void *ctx, struct berr *err)
{
	struct alloc_iter *it = ctx;
	const char *net = (const char *)sqlite3_column_text(st, 0);
	const char *addr = (const char *)sqlite3_column_text(st, 1);
	const char *owner = (const char *)sqlite3_column_text(st, 2);
	struct ipaddr a;
	char id[ID_LEN + 1], who[256];

	/* Copies: the callback may use the store, which can invalidate column pointers. */
	strscpy(id, net ?: "", sizeof(id));
	strscpy(who, owner ?: "", sizeof(who));
	if (ip_parse(addr ?: "", &a, NULL) < 0)
		return berr_set(err, -EIO, "store: allocation \"%s\" in network %.12s is corrupt",
				addr ?: "", id);
	return it->cb(id, &a, who, it->ud);
}

int store_alloc_list(struct store *s,
		     int (*cb)(const char *network_id, const struct ipaddr *a, const char *owner,
			       void *ud),
		     void *ud, struct berr *err)
{
	_cleanup_sq_ struct sq q = { 0 };
	struct alloc_iter it = { cb, ud };
	int r;

	r = sq_get(s, ST_ALLOC_LIST, &q, err);
	if (r < 0)
		return r;
	return rows_each(s, &q, alloc_row, &it, "address allocations", err);
}

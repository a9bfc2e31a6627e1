/* SPDX-License-Identifier: Apache-2.0 */
/* The background parts of the etcd client: a watch (a thread streaming /v3/watch into a bounded
 * queue signalled by an eventfd) and a lease keeper (a thread refreshing one lease). Each thread
 * has its own client (own libcurl handles); stopping interrupts its transfer at once. */
#include "store/etcd.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>

#include "common/util.h"
#include "store/etcd_priv.h"

#define WATCH_QUEUE_MAX 4096
#define WATCH_BACKOFF_MIN_MS 100
#define WATCH_BACKOFF_MAX_MS 2000

/* ---- what both threads share: a stop flag, an eventfd, interruptible sleeps ---- */

struct bg {
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
	int efd;
	struct etcd_client *client;   /* the thread's own */
};

static int bg_init(struct bg *b, struct etcd_client *parent, int request_ms, struct berr *err)
{
	pthread_condattr_t attr;

	pthread_mutex_init(&b->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&b->cond, &attr);
	pthread_condattr_destroy(&attr);
	b->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (b->efd < 0)
		return berr_errno(err, -errno, "eventfd");
	return etcd_client_clone(parent, request_ms, &b->client, err);
}

static int bg_start(struct bg *b, void *(*fn)(void *), void *arg, struct berr *err)
{
	int r = pthread_create(&b->thread, NULL, fn, arg);

	if (r != 0)
		return berr_errno(err, -r, "starting the etcd thread");
	b->started = true;
	return 0;
}

static void bg_stop(struct bg *b)
{
	pthread_mutex_lock(&b->lock);
	b->stop = true;
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
	if (b->client)
		etcd_client_interrupt(b->client);
	if (b->started)
		pthread_join(b->thread, NULL);
	etcd_client_free(b->client);
	if (b->efd >= 0)
		close(b->efd);
	pthread_cond_destroy(&b->cond);
	pthread_mutex_destroy(&b->lock);
}

/* Called with b->lock held. */
static void bg_signal(struct bg *b)
{
	uint64_t one = 1;

	if (write(b->efd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is saturated, the fd readable anyway */
	}
}

/* Called with b->lock held. */
static void bg_drain(struct bg *b)
{
	uint64_t v;

	if (read(b->efd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing to drain */
	}
}

/* Sleeps ms unless stopped; returns false when stopped. */
static bool bg_sleep(struct bg *b, long ms)
{
	struct timespec ts;
	bool stop;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&b->lock);
	while (!b->stop && pthread_cond_timedwait(&b->cond, &b->lock, &ts) == 0)
		;
	stop = b->stop;
	pthread_mutex_unlock(&b->lock);
	return !stop;
}

static bool bg_stopped(struct bg *b)
{
	bool stop;

	pthread_mutex_lock(&b->lock);
	stop = b->stop;
	pthread_mutex_unlock(&b->lock);
	return stop;
}

/* ---- the watch ---- */

struct witem {
	struct witem *next;
	struct etcd_watch_item it;
};

struct etcd_watch {
	struct bg bg;
	char *prefix;
	int64_t rev;               /* the next revision to deliver */
	bool need_reset;
	enum { W_NEW, W_UP, W_DOWN } state;
	struct witem *head, *tail; /* under bg.lock */
	size_t n;
	/* the stream in progress */
	size_t ep;
	bool created;
	bool compacted;
	char end_reason[BERR_MSG_MAX];
};

/* Queues an item (taking its contents); waits while the queue is full. False when stopped. */
static bool watch_push(struct etcd_watch *w, struct etcd_watch_item *it)
{
	struct witem *n = xcalloc(1, sizeof(*n));

	n->it = *it;
	memset(it, 0, sizeof(*it));
	pthread_mutex_lock(&w->bg.lock);
	while (w->n >= WATCH_QUEUE_MAX && !w->bg.stop)
		pthread_cond_wait(&w->bg.cond, &w->bg.lock);
	if (w->bg.stop) {
		pthread_mutex_unlock(&w->bg.lock);
		etcd_watch_item_clear(&n->it);
		free(n);
		return false;
	}
	if (w->tail)
		w->tail->next = n;
	else
		w->head = n;
	w->tail = n;
	w->n++;
	bg_signal(&w->bg);
	pthread_mutex_unlock(&w->bg.lock);
	return true;
}

static void watch_push_state(struct etcd_watch *w, enum etcd_watch_kind kind, const char *msg)
{
	struct etcd_watch_item it = { .kind = kind, .revision = w->rev - 1 };

	if ((kind == ETCD_WATCH_UP && w->state == W_UP) ||
	    (kind == ETCD_WATCH_DOWN && w->state == W_DOWN))
		return;
	w->state = kind == ETCD_WATCH_UP ? W_UP : W_DOWN;
	snprintf(it.msg, sizeof(it.msg), "%s", msg);
	watch_push(w, &it);
}

static int watch_on_msg(void *ctx, const char *text, size_t len)
{
	struct etcd_watch *w = ctx;
	struct berr err = BERR_INIT;
	struct etcd_watch_msg m;
	int r = 0;

	if (etcd_parse_watch(text, &m, &err) < 0) {
		snprintf(w->end_reason, sizeof(w->end_reason), "%s", berr_str(&err));
		return -EPROTO;
	}
	if (m.error_code) {
		snprintf(w->end_reason, sizeof(w->end_reason), "%s", m.reason);
		r = -EIO;
	} else if (m.canceled) {
		w->compacted = m.compact_revision > 0;
		snprintf(w->end_reason, sizeof(w->end_reason), "watch cancelled%s%.400s",
			 m.reason[0] ? ": " : "", m.reason);
		r = -ECANCELED;
	} else if (m.created && !w->created) {
		w->created = true;
		watch_push_state(w, ETCD_WATCH_UP, w->bg.client->url.host[w->ep]);
	}
	if (m.skipped)
		blog_debug("etcd watch: %zu events of revision %lld do not decode", m.skipped,
			   (long long)m.revision);
	/* One transaction gives several events of one revision, always in one message: resume
	 * after the message, never between its events. */
	int64_t from = w->rev;

	for (size_t i = 0; i < m.n && r == 0; i++) {
		int64_t rev = m.events[i].revision;

		if (rev < from)
			continue;   /* already delivered (never expected) */
		if (!watch_push(w, &m.events[i]))
			r = -ECANCELED;
		if (rev >= w->rev)
			w->rev = rev + 1;
	}
	etcd_watch_msg_clear(&m);
	return r;
}

/* Reads the whole prefix and queues it as a RESET; the stream then starts after it. */
static int watch_reset(struct etcd_watch *w, struct berr *err)
{
	struct etcd_watch_item it = { .kind = ETCD_WATCH_RESET };
	int r = etcd_range_prefix(w->bg.client, w->prefix, 0, &it.snapshot, err);

	if (r < 0)
		return r;
	if (it.snapshot.skipped)
		blog_debug("etcd watch: %zu keys under %s do not decode", it.snapshot.skipped,
			   w->prefix);
	it.revision = it.snapshot.revision;
	w->rev = it.revision + 1;
	w->need_reset = false;
	if (!watch_push(w, &it))
		return -ECANCELED;
	return 0;
}

/* One stream on endpoint w->ep, from w->rev; fills w->end_reason when it ends. */
static void watch_stream(struct etcd_watch *w)
{
	_cleanup_cjson_ cJSON *body = NULL;
	struct berr err = BERR_INIT;
	bool connected = false;
	int r;

	body = etcd_req_watch(w->prefix, w->rev);
	w->created = false;
	w->compacted = false;
	w->end_reason[0] = '\0';
	r = etcd_client_stream(w->bg.client, w->ep, "/v3/watch", body, watch_on_msg, w,
			       &connected, &err);
	if (r == 0 && !w->end_reason[0])
		snprintf(w->end_reason, sizeof(w->end_reason), "stream closed by etcd");
	else if (r < 0 && !w->end_reason[0])
		snprintf(w->end_reason, sizeof(w->end_reason), "%s", berr_str(&err));
}

/* The reset before streaming; false when it failed (back off). */
static bool watch_reset_step(struct etcd_watch *w, unsigned *fails)
{
	struct berr err = BERR_INIT;
	int r = watch_reset(w, &err);

	if (r == 0) {
		*fails = 0;
		return true;
	}
	if (r != -ECANCELED) {
		watch_push_state(w, ETCD_WATCH_DOWN, berr_str(&err));
		(*fails)++;
	}
	return false;
}

/* One stream; false when the next endpoint should be tried at once, true to back off first. */
static bool watch_stream_step(struct etcd_watch *w, unsigned *fails)
{
	struct etcd_client *c = w->bg.client;
	char msg[BERR_MSG_MAX];

	watch_stream(w);
	if (bg_stopped(&w->bg))
		return false;
	if (w->compacted) {
		w->need_reset = true;
		return false;
	}
	snprintf(msg, sizeof(msg), "etcd watch on %s: %.400s", c->url.host[w->ep], w->end_reason);
	blog_debug("%s", msg);
	watch_push_state(w, ETCD_WATCH_DOWN, msg);
	*fails = w->created ? 0 : *fails + 1;
	w->ep = (w->ep + 1) % c->url.n;
	/* A round of endpoints failed: back off before the next one. */
	return *fails >= c->url.n;
}

static void *watch_main(void *arg)
{
	struct etcd_watch *w = arg;
	unsigned fails = 0;

	w->ep = w->bg.client->cur;
	while (!bg_stopped(&w->bg)) {
		bool backoff = w->need_reset ? !watch_reset_step(w, &fails) :
					       watch_stream_step(w, &fails);
		unsigned shift = fails < 5 ? fails : 5;
		long ms = WATCH_BACKOFF_MIN_MS << shift;

		if (backoff && !bg_sleep(&w->bg, ms < WATCH_BACKOFF_MAX_MS ? ms : WATCH_BACKOFF_MAX_MS))
			break;
	}
	return NULL;
}

int etcd_watch_start(struct etcd_client *c, const char *prefix, int64_t start_revision,
		     struct etcd_watch **ret, struct berr *err)
{
	struct etcd_watch *w = xcalloc(1, sizeof(*w));
	int r;

	w->bg.efd = -1;
	w->prefix = xstrdup(prefix);
	w->rev = start_revision;
	w->need_reset = start_revision <= 0;
	r = bg_init(&w->bg, c, 0, err);
	if (r == 0)
		r = bg_start(&w->bg, watch_main, w, err);
	if (r < 0) {
		etcd_watch_stop(w);
		return berr_prefix(err, "watching %s", prefix);
	}
	*ret = w;
	return 0;
}

int etcd_watch_fd(const struct etcd_watch *w)
{
	return w->bg.efd;
}

int etcd_watch_next(struct etcd_watch *w, struct etcd_watch_item *ret)
{
	struct witem *n;

	pthread_mutex_lock(&w->bg.lock);
	n = w->head;
	if (n) {
		w->head = n->next;
		if (!w->head)
			w->tail = NULL;
		w->n--;
		pthread_cond_broadcast(&w->bg.cond);
	} else {
		bg_drain(&w->bg);
	}
	pthread_mutex_unlock(&w->bg.lock);
	if (!n)
		return 0;
	*ret = n->it;
	free(n);
	return 1;
}

void etcd_watch_stop(struct etcd_watch *w)
{
	if (!w)
		return;
	bg_stop(&w->bg);
	while (w->head) {
		struct witem *n = w->head;

		w->head = n->next;
		etcd_watch_item_clear(&n->it);
		free(n);
	}
	free(w->prefix);
	free(w);
}

const char *etcd_watch_kind_str(enum etcd_watch_kind k)
{
	static const char *const names[] = {
		[ETCD_WATCH_PUT] = "put", [ETCD_WATCH_DELETE] = "delete",
		[ETCD_WATCH_RESET] = "reset", [ETCD_WATCH_UP] = "up", [ETCD_WATCH_DOWN] = "down",
	};

	return (unsigned)k < ARRAY_SIZE(names) ? names[k] : "?";
}

/* ---- the lease keeper ---- */

struct etcd_keeper {
	struct bg bg;
	int64_t id;
	long interval_ms;
	enum etcd_lease_state state;   /* under bg.lock */
	char why[BERR_MSG_MAX];
};

static void keeper_set(struct etcd_keeper *k, enum etcd_lease_state s, const char *why)
{
	pthread_mutex_lock(&k->bg.lock);
	if (k->state != s) {
		k->state = s;
		snprintf(k->why, sizeof(k->why), "%s", why);
		bg_signal(&k->bg);
	}
	pthread_mutex_unlock(&k->bg.lock);
}

static void *keeper_main(void *arg)
{
	struct etcd_keeper *k = arg;
	long wait = k->interval_ms;

	while (bg_sleep(&k->bg, wait)) {
		struct berr err = BERR_INIT;
		int r = etcd_lease_keepalive(k->bg.client, k->id, NULL, &err);

		if (r == 0) {
			keeper_set(k, ETCD_LEASE_ALIVE, "");
			wait = k->interval_ms;
		} else if (r == -ENOENT) {
			keeper_set(k, ETCD_LEASE_LOST, berr_str(&err));
			break;
		} else if (r != -ECANCELED) {
			keeper_set(k, ETCD_LEASE_UNREACHABLE, berr_str(&err));
			wait = k->interval_ms < 1000 ? k->interval_ms : 1000;
		}
	}
	return NULL;
}

int etcd_keeper_start(struct etcd_client *c, int64_t id, int ttl_s, struct etcd_keeper **ret,
		      struct berr *err)
{
	struct etcd_keeper *k;
	int r;

	if (ttl_s <= 0)
		return berr_set(err, -EINVAL, "lease TTL must be positive");
	k = xcalloc(1, sizeof(*k));
	k->bg.efd = -1;
	k->id = id;
	k->state = ETCD_LEASE_ALIVE;
	/* Three refreshes per TTL; each must finish before the next is due. */
	k->interval_ms = ttl_s * 1000L / 3;
	r = bg_init(&k->bg, c, (int)(k->interval_ms < c->request_ms ? k->interval_ms : c->request_ms),
		    err);
	if (r == 0)
		r = bg_start(&k->bg, keeper_main, k, err);
	if (r < 0) {
		etcd_keeper_stop(k);
		return berr_prefix(err, "keeping lease %llx alive", (unsigned long long)id);
	}
	*ret = k;
	return 0;
}

int etcd_keeper_fd(const struct etcd_keeper *k)
{
	return k->bg.efd;
}

enum etcd_lease_state etcd_keeper_state(struct etcd_keeper *k, struct berr *ret_why)
{
	enum etcd_lease_state s;

	pthread_mutex_lock(&k->bg.lock);
	bg_drain(&k->bg);
	s = k->state;
	if (ret_why && s != ETCD_LEASE_ALIVE)
		berr_set(ret_why, s == ETCD_LEASE_LOST ? -ENOENT : -EHOSTUNREACH, "%s", k->why);
	pthread_mutex_unlock(&k->bg.lock);
	return s;
}

void etcd_keeper_stop(struct etcd_keeper *k)
{
	if (!k)
		return;
	bg_stop(&k->bg);
	free(k);
}

const char *etcd_lease_state_str(enum etcd_lease_state s)
{
	static const char *const names[] = {
		[ETCD_LEASE_ALIVE] = "alive", [ETCD_LEASE_UNREACHABLE] = "unreachable",
		[ETCD_LEASE_LOST] = "lost",
	};

	return (unsigned)s < ARRAY_SIZE(names) ? names[s] : "?";
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Events (GET /events): what happened to networks, containers and images, in Docker's shape.
 * The manager appends at fixed points (lock held); events live in a ring (1,024), so
 * appending never waits for a reader: a reader that falls behind loses the oldest events and
 * goes on from the oldest one kept. The ring has its own lock (order: manager -> events);
 * readers never take the manager lock, and copy an event out before writing it anywhere. */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "daemon/mgr_internal.h"

#define EVENTS_RING_DEFAULT 1024
#define EVENTS_RING_MIN 16
#define EVENTS_RING_MAX 65536

struct event_ring {
	pthread_mutex_t lock;
	pthread_cond_t added;        /* on CLOCK_MONOTONIC; broadcast per event and at shutdown */
	struct mgr_event *ev;
	uint64_t size;
	uint64_t next;               /* seq the next event gets; event s is ev[s % size] */
	bool closing;
};

/* $BERTH_EVENTS_RING (16..65536) makes the ring smaller or larger, for tests. */
static uint64_t ring_size(void)
{
	const char *v = getenv("BERTH_EVENTS_RING");
	long n = v ? strtol(v, NULL, 10) : 0;

	if (n < EVENTS_RING_MIN || n > EVENTS_RING_MAX)
		return EVENTS_RING_DEFAULT;
	return (uint64_t)n;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void mgr_events_init(struct manager *m)
{
	struct event_ring *r = xcalloc(1, sizeof(*r));
	pthread_condattr_t ca;

	pthread_mutex_init(&r->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->added, &ca);
	pthread_condattr_destroy(&ca);
	r->size = ring_size();
	r->ev = xcalloc(r->size, sizeof(*r->ev));
	r->next = 1;
	m->events = r;
}

void mgr_events_close(struct manager *m)
{
	if (!m->events)
		return;
	for (size_t i = 0; i < m->events->size; i++)
		free(m->events->ev[i].json);
	free(m->events->ev);
	pthread_cond_destroy(&m->events->added);
	pthread_mutex_destroy(&m->events->lock);
	free(m->events);
	m->events = NULL;
}

void mgr_events_shutdown(struct manager *m)
{
	pthread_mutex_lock(&m->events->lock);
	m->events->closing = true;
	pthread_cond_broadcast(&m->events->added);
	pthread_mutex_unlock(&m->events->lock);
}

/* Docker's message: {"status", "id", "from" (containers and images), "Type", "Action",
 * "Actor": {"ID", "Attributes"}, "scope": "local", "time", "timeNano"}. attrs is taken. */
static char *event_json(const struct mgr_event *e, cJSON *attrs, const char *from)
{
	cJSON *o = cJSON_CreateObject(), *actor = cJSON_CreateObject();
	char num[32], *text;

	if (strcmp(e->type, "network") != 0) {
		cJSON_AddStringToObject(o, "status", e->action);
		cJSON_AddStringToObject(o, "id", e->actor);
		if (from)
			cJSON_AddStringToObject(o, "from", from);
	}
	cJSON_AddStringToObject(o, "Type", e->type);
	cJSON_AddStringToObject(o, "Action", e->action);
	cJSON_AddStringToObject(actor, "ID", e->actor);
	cJSON_AddItemToObject(actor, "Attributes", attrs);
	cJSON_AddItemToObject(o, "Actor", actor);
	cJSON_AddStringToObject(o, "scope", "local");
	/* as text: a double cannot hold nanoseconds since 1970 exactly */
	snprintf(num, sizeof(num), "%" PRId64, e->time_ns / 1000000000);
	cJSON_AddRawToObject(o, "time", num);
	snprintf(num, sizeof(num), "%" PRId64, e->time_ns);
	cJSON_AddRawToObject(o, "timeNano", num);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text ? text : xstrdup("{}");
}

static void event_append(struct manager *m, struct mgr_event *e, cJSON *attrs, const char *from)
{
	struct event_ring *r = m->events;
	struct mgr_event *slot;

	if (!r) {
		cJSON_Delete(attrs);
		return;
	}
	e->json = event_json(e, attrs, from);
	pthread_mutex_lock(&r->lock);
	/* timeNano never goes backwards in the ring, whatever the clock does */
	if (r->next > 1 && e->time_ns < r->ev[(r->next - 1) % r->size].time_ns)
		e->time_ns = r->ev[(r->next - 1) % r->size].time_ns;
	e->seq = r->next++;
	slot = &r->ev[e->seq % r->size];
	free(slot->json);
	*slot = *e;
	pthread_cond_broadcast(&r->added);
	pthread_mutex_unlock(&r->lock);
}

void mgr_event_container(struct manager *m, const struct ctr_entry *c, const char *action,
			 cJSON *attrs)
{
	struct mgr_event e = { .time_ns = now_ns() };

	if (!attrs)
		attrs = cJSON_CreateObject();
	strscpy(e.type, "container", sizeof(e.type));
	strscpy(e.action, action, sizeof(e.action));
	strscpy(e.actor, c->c.id, sizeof(e.actor));
	strscpy(e.name, c->c.name, sizeof(e.name));
	strscpy(e.ctr_id, c->c.id, sizeof(e.ctr_id));
	strscpy(e.ctr_name, c->c.name, sizeof(e.ctr_name));
	cJSON_AddStringToObject(attrs, "image", c->c.image);
	cJSON_AddStringToObject(attrs, "name", c->c.name);
	event_append(m, &e, attrs, c->c.image);
}

void mgr_event_network(struct manager *m, const struct net_entry *n, const char *action,
		       const struct ctr_entry *c)
{
	struct mgr_event e = { .time_ns = now_ns() };
	cJSON *attrs = cJSON_CreateObject();

	strscpy(e.type, "network", sizeof(e.type));
	strscpy(e.action, action, sizeof(e.action));
	strscpy(e.actor, n->n.id, sizeof(e.actor));
	strscpy(e.name, n->n.name, sizeof(e.name));
	if (c) {
		strscpy(e.ctr_id, c->c.id, sizeof(e.ctr_id));
		strscpy(e.ctr_name, c->c.name, sizeof(e.ctr_name));
		cJSON_AddStringToObject(attrs, "container", c->c.id);
	}
	cJSON_AddStringToObject(attrs, "name", n->n.name);
	cJSON_AddStringToObject(attrs, "type", n->n.driver);
	event_append(m, &e, attrs, NULL);
}

void mgr_event_image(struct manager *m, const char *ref, const char *id, const char *action)
{
	struct mgr_event e = { .time_ns = now_ns() };
	cJSON *attrs = cJSON_CreateObject();

	strscpy(e.type, "image", sizeof(e.type));
	strscpy(e.action, action, sizeof(e.action));
	strscpy(e.actor, ref, sizeof(e.actor));
	strscpy(e.name, ref, sizeof(e.name));
	cJSON_AddStringToObject(attrs, "name", ref);
	if (id && *id)
		cJSON_AddStringToObject(attrs, "id", id);
	event_append(m, &e, attrs, NULL);
}

/* ---- readers ---- */

uint64_t mgr_events_head(struct manager *m)
{
	uint64_t next;

	pthread_mutex_lock(&m->events->lock);
	next = m->events->next;
	pthread_mutex_unlock(&m->events->lock);
	return next;
}

static void deadline_in(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

int mgr_events_next(struct manager *m, uint64_t *cursor, int timeout_ms, struct mgr_event *ret)
{
	struct event_ring *r = m->events;
	uint64_t oldest;
	struct timespec dl;
	int got = 0;

	deadline_in(&dl, timeout_ms);
	pthread_mutex_lock(&r->lock);
	for (;;) {
		oldest = r->next > r->size ? r->next - r->size : 1;
		if (*cursor < oldest)
			*cursor = oldest;   /* fell behind: the older ones are gone */
		if (*cursor < r->next) {
			*ret = r->ev[*cursor % r->size];
			ret->json = xstrdup(ret->json);
			(*cursor)++;
			got = 1;
			break;
		}
		if (r->closing) {
			got = -ECANCELED;
			break;
		}
		if (pthread_cond_timedwait(&r->added, &r->lock, &dl) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&r->lock);
	return got;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Exit watches: a request that waits for a container to change state (a followed log, /wait)
 * polls an eventfd that the manager signals whenever that container stops running or is
 * removed, and at shutdown: the answer leaves as soon as the exit is handled, not at the next
 * poll tick. A watch is registered before its owner first looks at the state, so a change in
 * between is never missed. */
#include <sys/eventfd.h>

#include "daemon/mgr_internal.h"

struct exit_watch {
	int fd;
	char id[ID_LEN + 1];
};

int mgr_exit_watch_add(struct manager *m, const char *id)
{
	struct exit_watch *w;
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	w = xcalloc(1, sizeof(*w));
	w->fd = fd;
	strscpy(w->id, id, sizeof(w->id));
	pthread_mutex_lock(&m->lock);
	vec_push(m->exit_watches, w);
	if (m->shutting_down)
		(void)eventfd_write(fd, 1);   /* cannot fail: the counter is far from its maximum */
	pthread_mutex_unlock(&m->lock);
	blog_debug("exit watch on %.12s", id);
	return fd;
}

void mgr_exit_watch_del(struct manager *m, int fd)
{
	if (fd < 0)
		return;
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->exit_watches.n; i++)
		if (m->exit_watches.v[i]->fd == fd) {
			free(m->exit_watches.v[i]);
			vec_remove(m->exit_watches, i);
			break;
		}
	pthread_mutex_unlock(&m->lock);
	close(fd);
}

void mgr_exit_watch_drain(int fd)
{
	eventfd_t v;

	if (fd >= 0)
		(void)eventfd_read(fd, &v);   /* EAGAIN: nothing was signalled, which is fine */
}

void mgr_exit_watch_signal(struct manager *m, const char *id)
{
	for (size_t i = 0; i < m->exit_watches.n; i++)
		if (!id || !strcmp(m->exit_watches.v[i]->id, id))
			(void)eventfd_write(m->exit_watches.v[i]->fd, 1);
}

void mgr_exit_watch_free_all(struct manager *m)
{
	for (size_t i = 0; i < m->exit_watches.n; i++) {
		close(m->exit_watches.v[i]->fd);
		free(m->exit_watches.v[i]);
	}
	free(m->exit_watches.v);
	m->exit_watches.v = NULL;
	m->exit_watches.n = m->exit_watches.cap = 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* The reaper: a thread that deletes retired links (nlx_link_doom) off the request path. Deleting
 * a link makes the kernel wait for an RCU grace period before it answers (~15 ms here, more under
 * load); a stopped container only retires its host interfaces (off the bridge, down: they no
 * longer matter) and kicks this thread, which deletes every retired link in one request, so one
 * grace period covers all those retired meanwhile. It never takes the manager lock. What a stop
 * or a crash of berthd leaves retired is reaped at the next start (mgr_reaper_start). */
#include <pthread.h>
#include <signal.h>

#include "daemon/mgr_internal.h"

struct reaper {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool work, stop;
	struct nlx *nl;            /* in berthd's namespace */
};

/* Wait until there is work (true) or the thread must end (false). */
static bool reaper_wait(struct reaper *rp)
{
	bool go;

	pthread_mutex_lock(&rp->lock);
	while (!rp->work && !rp->stop)
		pthread_cond_wait(&rp->wake, &rp->lock);
	go = !rp->stop;
	rp->work = false;
	pthread_mutex_unlock(&rp->lock);
	return go;
}

static void *reaper_main(void *arg)
{
	struct reaper *rp = arg;

	while (reaper_wait(rp)) {
		struct berr err = BERR_INIT;
		uint64_t t0 = time_mono_ns();

		delay_point("reaper");
		if (nlx_link_reap(rp->nl, &err) < 0)
			blog_warn("%s; tried again at the next stop or start", berr_str(&err));
		else
			blog_debug("reaped the retired links in %lluus",
				   (unsigned long long)((time_mono_ns() - t0) / 1000));
	}
	return NULL;
}

static void reaper_free(struct reaper *rp)
{
	nlx_close(rp->nl);
	pthread_cond_destroy(&rp->wake);
	pthread_mutex_destroy(&rp->lock);
	free(rp);
}

int mgr_reaper_start(struct manager *m, struct berr *err)
{
	struct reaper *rp = xcalloc(1, sizeof(*rp));
	sigset_t all, old;
	int r;

	pthread_mutex_init(&rp->lock, NULL);
	pthread_cond_init(&rp->wake, NULL);
	rp->work = true;   /* what an earlier run left retired */
	r = nlx_open(-1, &rp->nl, err);
	if (r < 0) {
		reaper_free(rp);
		return berr_prefix(err, "starting the link reaper");
	}
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);   /* signals are the event loop's */
	r = pthread_create(&rp->thread, NULL, reaper_main, rp);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		reaper_free(rp);
		return berr_errno(err, -r, "starting the link reaper");
	}
	m->reaper = rp;
	return 0;
}

static void reaper_poke(struct reaper *rp, bool stop)
{
	pthread_mutex_lock(&rp->lock);
	if (stop)
		rp->stop = true;
	else
		rp->work = true;
	pthread_cond_signal(&rp->wake);
	pthread_mutex_unlock(&rp->lock);
}

void mgr_reaper_kick(struct manager *m)
{
	if (m->reaper)
		reaper_poke(m->reaper, false);
}

void mgr_reaper_stop(struct manager *m)
{
	struct reaper *rp = m->reaper;

	if (!rp)
		return;
	reaper_poke(rp, true);
	pthread_join(rp->thread, NULL);
	reaper_free(rp);
	m->reaper = NULL;
}

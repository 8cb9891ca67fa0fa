/*
 * gate.c - admission of executions (at most max_running at once, at most
 * max_queued waiting, the rest refused) and their cancellation: each
 * running execution owns an eventfd that the executor watches; it fires
 * when the client hangs up (a monitor thread watches the client sockets
 * with epoll for EPOLLRDHUP) or when the server drains at shutdown.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server/server_int.h"

struct execution {
	uint64_t id; /* epoll data: never a pointer that may be freed and reused */
	bool slot;   /* counted among the running executions */
	int cancel_fd;
	int socket_fd;
	execution *next;
};

static void fire(int fd)
{
	uint64_t one = 1;
	ssize_t n;

	do
		n = write(fd, &one, sizeof(one));
	while (n < 0 && errno == EINTR);
}

/* Watches the sockets of running executions; a hang-up cancels. */
static void *monitor(void *arg)
{
	gate *g = arg;
	struct epoll_event events[32];

	for (;;) {
		int n = epoll_wait(g->epoll_fd, events, 32, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return NULL;
		for (int i = 0; i < n; i++) {
			if (events[i].data.u64 == 0)
				return NULL; /* the wake fd: shutting down */
			pthread_mutex_lock(&g->lock);
			/* The execution may have finished meanwhile: only fire
			 * for one still registered. */
			for (execution *e = g->active; e; e = e->next)
				if (e->id == events[i].data.u64)
					fire(e->cancel_fd);
			pthread_mutex_unlock(&g->lock);
		}
	}
}

int gate_init(gate *g, unsigned max_running, unsigned max_queued, aims_error *err)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0};

	memset(g, 0, sizeof(*g));
	g->max_running = max_running;
	g->max_queued = max_queued;
	g->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	g->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (g->epoll_fd < 0 || g->wake_fd < 0 ||
	    epoll_ctl(g->epoll_fd, EPOLL_CTL_ADD, g->wake_fd, &ev) < 0) {
		int saved = errno;

		gate_free(g);
		return aims_error_set(err, AIMS_EIO, "cannot watch client connections: %s",
				      strerror(saved));
	}
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->changed, NULL);
	if (pthread_create(&g->monitor, NULL, monitor, g) != 0) {
		gate_free(g);
		return aims_error_set(err, AIMS_EIO, "cannot start the connection monitor");
	}
	g->monitor_started = true;
	return 0;
}

void gate_free(gate *g)
{
	if (g->monitor_started) {
		fire(g->wake_fd);
		pthread_join(g->monitor, NULL);
		pthread_mutex_destroy(&g->lock);
		pthread_cond_destroy(&g->changed);
		g->monitor_started = false;
	}
	if (g->epoll_fd >= 0)
		close(g->epoll_fd);
	if (g->wake_fd >= 0)
		close(g->wake_fd);
	g->epoll_fd = g->wake_fd = -1;
}

/* True when the peer closed the connection (or it broke). */
static bool client_gone(int socket_fd)
{
	char byte;
	ssize_t n = recv(socket_fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);

	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/* Creates an execution with its cancel eventfd and links it into the
 * active list (the lock is held). */
static int register_watch(execution **out, gate *g, int socket_fd, bool slot, aims_error *err)
{
	execution *e = calloc(1, sizeof(*e));

	if (!e)
		return aims_error_set(err, AIMS_ENOMEM, "out of memory");
	e->id = ++g->next_id;
	e->slot = slot;
	e->socket_fd = socket_fd;
	e->cancel_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (e->cancel_fd < 0) {
		int saved = errno;

		free(e);
		return aims_error_set(err, AIMS_EIO, "eventfd: %s", strerror(saved));
	}
	e->next = g->active;
	g->active = e;
	if (slot)
		g->running++;
	else
		g->watched++;
	*out = e;
	return 0;
}

/* A client that already left cancels at once; one that leaves later is
 * noticed by the monitor. (A client that half-closes its socket after
 * its request counts as gone, as with most HTTP servers.) */
static void watch_socket(gate *g, execution *e)
{
	struct epoll_event ev;

	ev.events = EPOLLRDHUP | EPOLLONESHOT;
	ev.data.u64 = e->id;
	if (e->socket_fd >= 0 && epoll_ctl(g->epoll_fd, EPOLL_CTL_ADD, e->socket_fd, &ev) < 0)
		e->socket_fd = -1; /* not a socket we can watch: no cancel on hang-up */
	if (e->socket_fd >= 0 && client_gone(e->socket_fd))
		fire(e->cancel_fd);
}

int gate_enter(execution **out, gate *g, metrics *m, int socket_fd, aims_error *err)
{
	execution *e = NULL;
	int status = GATE_RUN, rc;

	pthread_mutex_lock(&g->lock);
	if (g->closed) {
		pthread_mutex_unlock(&g->lock);
		return GATE_CLOSED;
	}
	if (g->running >= g->max_running) {
		if (g->queued >= g->max_queued) {
			pthread_mutex_unlock(&g->lock);
			return GATE_FULL;
		}
		g->queued++;
		atomic_fetch_add(&m->queued, 1);
		while (g->running >= g->max_running && !g->closed) {
			struct timespec until;

			/* Wake up now and then to notice a client that left. */
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_nsec += 100 * 1000000L;
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&g->changed, &g->lock, &until);
			if (socket_fd >= 0 && client_gone(socket_fd)) {
				status = GATE_GONE;
				break;
			}
		}
		g->queued--;
		atomic_fetch_sub(&m->queued, 1);
		if (status == GATE_RUN && g->closed)
			status = GATE_CLOSED;
		if (status != GATE_RUN) {
			pthread_cond_broadcast(&g->changed);
			pthread_mutex_unlock(&g->lock);
			return status;
		}
	}
	if ((rc = register_watch(&e, g, socket_fd, true, err)) < 0) {
		pthread_mutex_unlock(&g->lock);
		return rc;
	}
	atomic_fetch_add(&m->running, 1);
	pthread_mutex_unlock(&g->lock);
	watch_socket(g, e);
	*out = e;
	return GATE_RUN;
}

int gate_watch(execution **out, gate *g, int socket_fd, aims_error *err)
{
	execution *e = NULL;
	int rc;

	pthread_mutex_lock(&g->lock);
	if (g->closed) {
		pthread_mutex_unlock(&g->lock);
		return GATE_CLOSED;
	}
	rc = register_watch(&e, g, socket_fd, false, err);
	pthread_mutex_unlock(&g->lock);
	if (rc < 0)
		return rc;
	watch_socket(g, e);
	*out = e;
	return GATE_RUN;
}

int execution_cancel_fd(const execution *e)
{
	return e->cancel_fd;
}

void gate_leave(gate *g, metrics *m, execution *e)
{
	if (e->socket_fd >= 0)
		epoll_ctl(g->epoll_fd, EPOLL_CTL_DEL, e->socket_fd, NULL);
	pthread_mutex_lock(&g->lock);
	for (execution **p = &g->active; *p; p = &(*p)->next)
		if (*p == e) {
			*p = e->next;
			break;
		}
	if (e->slot) {
		g->running--;
		atomic_fetch_sub(&m->running, 1);
	} else {
		g->watched--;
	}
	pthread_cond_broadcast(&g->changed);
	pthread_mutex_unlock(&g->lock);
	close(e->cancel_fd);
	free(e);
}

bool gate_closing(gate *g)
{
	bool closed;

	pthread_mutex_lock(&g->lock);
	closed = g->closed;
	pthread_mutex_unlock(&g->lock);
	return closed;
}

void gate_close(gate *g)
{
	pthread_mutex_lock(&g->lock);
	g->closed = true;
	pthread_cond_broadcast(&g->changed);
	pthread_mutex_unlock(&g->lock);
}

void gate_drain(gate *g, unsigned ms)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&g->lock);
	while (g->running > 0 || g->queued > 0 || g->watched > 0)
		if (pthread_cond_timedwait(&g->changed, &g->lock, &until) == ETIMEDOUT)
			break;
	for (execution *e = g->active; e; e = e->next)
		fire(e->cancel_fd);
	while (g->running > 0 || g->queued > 0 || g->watched > 0)
		pthread_cond_wait(&g->changed, &g->lock);
	pthread_mutex_unlock(&g->lock);
}

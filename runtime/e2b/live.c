/*
 * live.c - the process-wide registry of E2B sandboxes alive, and shutdown.
 *
 * An E2B sandbox costs money until it is deleted or its lifetime ends, so
 * every sandbox this process creates is listed here from the moment its id
 * is known until its delete was attempted. A server shutting down calls
 * aims_e2b_shutdown: a byte written to a pipe makes every transfer in
 * flight (each polls the pipe's read end as a cancel fd) stop at once, and
 * every listed sandbox is deleted. Whoever takes an id out of the list
 * (the execution that created it, or shutdown) is the one that deletes it,
 * so a sandbox is deleted once.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/http_client.h"
#include "e2b/e2b_int.h"

#define SHUTDOWN_BUDGET_MS 20000 /* all the deletes at shutdown */

typedef struct live_entry {
	struct live_entry *next;
	char id[72];
	aims_e2b_config cfg; /* what deletes it: URL and key */
} live_entry;

static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static live_entry *live_head;
static size_t live_count;
static atomic_bool shutting_down;
static pthread_once_t pipe_once = PTHREAD_ONCE_INIT;
static int shutdown_pipe[2] = {-1, -1};

static void make_pipe(void)
{
	if (pipe2(shutdown_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
		shutdown_pipe[0] = -1;
		shutdown_pipe[1] = -1;
	}
}

int e2b_live_shutdown_fd(void)
{
	pthread_once(&pipe_once, make_pipe);
	return shutdown_pipe[0];
}

bool e2b_live_shutting_down(void)
{
	return atomic_load(&shutting_down);
}

int e2b_live_add(const char *id, const aims_e2b_config *cfg)
{
	live_entry *e = calloc(1, sizeof(*e));

	if (!e)
		return AIMS_ENOMEM;
	snprintf(e->id, sizeof(e->id), "%s", id);
	e->cfg = *cfg;
	pthread_mutex_lock(&live_lock);
	e->next = live_head;
	live_head = e;
	live_count++;
	pthread_mutex_unlock(&live_lock);
	return 0;
}

static void entry_free(live_entry *e)
{
	/* The copy of the API key does not outlive its use. */
	explicit_bzero(e->cfg.api_key, sizeof(e->cfg.api_key));
	free(e);
}

bool e2b_live_take(const char *id)
{
	live_entry **pp, *e = NULL;

	pthread_mutex_lock(&live_lock);
	for (pp = &live_head; *pp; pp = &(*pp)->next)
		if (strcmp((*pp)->id, id) == 0) {
			e = *pp;
			*pp = e->next;
			live_count--;
			break;
		}
	pthread_mutex_unlock(&live_lock);
	if (!e)
		return false;
	entry_free(e);
	return true;
}

size_t aims_e2b_live_count(void)
{
	size_t n;

	pthread_mutex_lock(&live_lock);
	n = live_count;
	pthread_mutex_unlock(&live_lock);
	return n;
}

int aims_e2b_shutdown(size_t *out_deleted, aims_error *err)
{
	live_entry *list, *e;
	size_t deleted = 0, failed = 0;
	aims_error one;
	char byte = 1;
	uint64_t end = aims_http_now_ms() + SHUTDOWN_BUDGET_MS;

	/* Take the list first, then wake the transfers: an execution that
	 * stops finds its sandbox gone from the list and leaves it to us. */
	atomic_store(&shutting_down, true);
	pthread_mutex_lock(&live_lock);
	list = live_head;
	live_head = NULL;
	live_count = 0;
	pthread_mutex_unlock(&live_lock);
	pthread_once(&pipe_once, make_pipe);
	if (shutdown_pipe[1] >= 0 && write(shutdown_pipe[1], &byte, 1) < 0) {
		/* Full pipe: already written; nothing else can fail here. */
	}

	/* A shutdown must end: the deletes share one budget; what is left
	 * when it runs out ends at its lifetime timeout. */
	while ((e = list)) {
		uint64_t now = aims_http_now_ms();

		list = e->next;
		aims_error_clear(&one);
		if (now + 100 < end) {
			if (e->cfg.delete_timeout_ms > end - now)
				e->cfg.delete_timeout_ms = (uint32_t)(end - now);
			if (e2b_delete(&e->cfg, e->id, &one) == 0)
				deleted++;
			else
				failed++;
		} else {
			failed++;
		}
		entry_free(e);
	}
	if (out_deleted)
		*out_deleted = deleted;
	if (failed)
		return aims_error_set(err, AIMS_EUPSTREAM,
				      "%zu E2B sandbox(es) could not be deleted at shutdown; they "
				      "end at their lifetime timeout",
				      failed);
	return 0;
}

/*
 * metrics.c - counters for /metrics in the Prometheus text format:
 * requests by route and status, execution durations as a histogram,
 * executions running and queued, failures by cause.
 */
#include <stdlib.h>
#include <string.h>

#include "server/server_int.h"

static const double buckets[METRIC_BUCKETS] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
					       1,     2.5,  5,	   10,	 30,  60,   300};

/* Failure causes: the limit that ended an execution, or the error class
 * of an execution that could not run. */
enum {
	CAUSE_WALL_TIME,
	CAUSE_CPU_TIME,
	CAUSE_MEMORY,
	CAUSE_PIDS,
	CAUSE_OUTPUT,
	CAUSE_FILE_SIZE,
	CAUSE_DISK,
	CAUSE_CANCELED,
	CAUSE_SANDBOX,
	CAUSE_UNSUPPORTED,
	CAUSE_UPSTREAM,
	CAUSE_INVALID,
	CAUSE_INSTALL,
	CAUSE_OTHER,
	CAUSE_COUNT
};
static const char *const cause_names[CAUSE_COUNT] = {
	"wall_time",	   "cpu_time",	  "memory",   "pids",
	"output",	   "file_size",	  "disk",     "canceled",
	"sandbox_setup",   "unsupported", "upstream", "invalid_request",
	"package_install", "other"};

void metrics_init(metrics *m)
{
	memset(m, 0, sizeof(*m));
	pthread_mutex_init(&m->lock, NULL);
	atomic_init(&m->running, 0);
	atomic_init(&m->queued, 0);
}

void metrics_free(metrics *m)
{
	metric_counter *c, *next;

	for (c = m->requests; c; c = next) {
		next = c->next;
		free(c->route);
		free(c);
	}
	pthread_mutex_destroy(&m->lock);
}

void metrics_request(metrics *m, const char *route, unsigned status)
{
	metric_counter *c;

	pthread_mutex_lock(&m->lock);
	for (c = m->requests; c; c = c->next)
		if (c->status == status && strcmp(c->route, route) == 0)
			break;
	if (!c && (c = calloc(1, sizeof(*c)))) {
		if ((c->route = strdup(route))) {
			c->status = status;
			c->next = m->requests;
			m->requests = c;
		} else {
			free(c);
			c = NULL;
		}
	}
	if (c)
		c->count++;
	if (status == 429)
		m->rejected++;
	pthread_mutex_unlock(&m->lock);
}

static int cause_of_limit(aims_limit limit)
{
	switch (limit) {
	case AIMS_LIMIT_WALL_TIME: return CAUSE_WALL_TIME;
	case AIMS_LIMIT_CPU_TIME: return CAUSE_CPU_TIME;
	case AIMS_LIMIT_MEMORY: return CAUSE_MEMORY;
	case AIMS_LIMIT_PIDS: return CAUSE_PIDS;
	case AIMS_LIMIT_OUTPUT: return CAUSE_OUTPUT;
	case AIMS_LIMIT_FILE_SIZE: return CAUSE_FILE_SIZE;
	case AIMS_LIMIT_DISK: return CAUSE_DISK;
	case AIMS_LIMIT_CANCELED: return CAUSE_CANCELED;
	case AIMS_LIMIT_NONE: break;
	}
	return -1;
}

static int cause_of_error(int rc)
{
	switch (rc) {
	case AIMS_ESANDBOX: return CAUSE_SANDBOX;
	case AIMS_EUNSUPPORTED: return CAUSE_UNSUPPORTED;
	case AIMS_EUPSTREAM:
	case AIMS_EAUTH: return CAUSE_UPSTREAM;
	case AIMS_ETIMEOUT: return CAUSE_WALL_TIME;
	case AIMS_ECANCELED: return CAUSE_CANCELED;
	case AIMS_EINVALID:
	case AIMS_ETOOBIG: return CAUSE_INVALID;
	case AIMS_EINSTALL: return CAUSE_INSTALL;
	}
	return CAUSE_OTHER;
}

void metrics_execution(metrics *m, const aims_exec_result *result, int rc)
{
	/* rc 0 without a result: nothing ran (a dispatch refused for unmet
	 * requirements). */
	int cause = rc < 0 ? cause_of_error(rc) : result ? cause_of_limit(result->limit) : -1;

	pthread_mutex_lock(&m->lock);
	if (result) {
		double seconds = (double)result->duration_ms / 1000.0;
		size_t b = 0;

		while (b < METRIC_BUCKETS && seconds > buckets[b])
			b++;
		m->exec_buckets[b]++;
		m->exec_sum_seconds += seconds;
		m->exec_count++;
	}
	if (cause >= 0)
		m->failures[cause]++;
	pthread_mutex_unlock(&m->lock);
}

char *metrics_render(metrics *m)
{
	aims_buf buf;
	uint64_t cumulative = 0;

	aims_buf_init(&buf, 1 << 20);
	pthread_mutex_lock(&m->lock);
	aims_buf_puts(&buf, "# HELP aims_http_requests_total HTTP requests by route and status.\n"
			    "# TYPE aims_http_requests_total counter\n");
	for (metric_counter *c = m->requests; c; c = c->next)
		aims_buf_printf(&buf, "aims_http_requests_total{route=\"%s\",status=\"%u\"} %llu\n",
				c->route, c->status, (unsigned long long)c->count);
	aims_buf_puts(&buf, "# HELP aims_execution_duration_seconds Duration of code executions.\n"
			    "# TYPE aims_execution_duration_seconds histogram\n");
	for (size_t b = 0; b < METRIC_BUCKETS; b++) {
		cumulative += m->exec_buckets[b];
		aims_buf_printf(&buf, "aims_execution_duration_seconds_bucket{le=\"%g\"} %llu\n",
				buckets[b], (unsigned long long)cumulative);
	}
	cumulative += m->exec_buckets[METRIC_BUCKETS];
	aims_buf_printf(&buf, "aims_execution_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
			(unsigned long long)cumulative);
	aims_buf_printf(&buf, "aims_execution_duration_seconds_sum %.6f\n", m->exec_sum_seconds);
	aims_buf_printf(&buf, "aims_execution_duration_seconds_count %llu\n",
			(unsigned long long)m->exec_count);
	aims_buf_puts(&buf, "# HELP aims_executions_running Code executions running now.\n"
			    "# TYPE aims_executions_running gauge\n");
	aims_buf_printf(&buf, "aims_executions_running %u\n", atomic_load(&m->running));
	aims_buf_puts(&buf, "# HELP aims_executions_queued Code executions waiting for a slot.\n"
			    "# TYPE aims_executions_queued gauge\n");
	aims_buf_printf(&buf, "aims_executions_queued %u\n", atomic_load(&m->queued));
	aims_buf_puts(&buf, "# HELP aims_executions_rejected_total Executions refused with 429.\n"
			    "# TYPE aims_executions_rejected_total counter\n");
	aims_buf_printf(&buf, "aims_executions_rejected_total %llu\n",
			(unsigned long long)m->rejected);
	aims_buf_puts(&buf, "# HELP aims_sandbox_failures_total Executions ended by a limit or "
			    "that could not run, by cause.\n"
			    "# TYPE aims_sandbox_failures_total counter\n");
	for (size_t i = 0; i < CAUSE_COUNT; i++)
		aims_buf_printf(&buf, "aims_sandbox_failures_total{cause=\"%s\"} %llu\n",
				cause_names[i], (unsigned long long)m->failures[i]);
	pthread_mutex_unlock(&m->lock);
	return aims_buf_detach(&buf);
}

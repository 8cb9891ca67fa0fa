/*
 * server_int.h - shared by the files of the server subsystem.
 */
#ifndef AIMS_SERVER_INT_H
#define AIMS_SERVER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "aims/exec.h"
#include "aims/registry.h"
#include "aims/router.h"
#include "aims/server.h"

/* ---- Replies ------------------------------------------------------------- */

typedef struct reply {
	unsigned status;
	cJSON *json; /* body as JSON (owned), or */
	char *text;  /* a text body (owned, malloc'd) */
	const char *content_type;
	const char *allow;    /* 405: the Allow header */
	unsigned retry_after; /* 429/503: seconds, 0: none */
	char *detail;	      /* 500: the message, for the server's log only */
} reply;

/* Sets r to {"error": message} with status. A 500 (other than out of
 * memory) tells the client only that the server's log has the message:
 * it names the server's own files and set-up. Returns 0. */
int reply_error(reply *r, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The request as the handlers see it. */
typedef struct request {
	const char *method;
	const char *path; /* without the query */
	const char *body; /* NUL-terminated, may be empty */
	size_t body_len;
	struct MHD_Connection *connection;
	int socket_fd;	   /* the client's socket, to notice a disconnect */
	const char *route; /* the matched route pattern, for metrics */
} request;

/* ---- Metrics ------------------------------------------------------------- */

#define METRIC_BUCKETS 14

typedef struct metric_counter {
	char *route;
	unsigned status;
	uint64_t count;
	struct metric_counter *next;
} metric_counter;

typedef struct metrics {
	pthread_mutex_t lock;
	metric_counter *requests;
	uint64_t exec_buckets[METRIC_BUCKETS + 1]; /* last: +Inf */
	double exec_sum_seconds;
	uint64_t exec_count;
	uint64_t failures[16]; /* by cause, see metrics.c */
	atomic_uint running;
	atomic_uint queued;
	uint64_t rejected; /* 429 */
} metrics;

void metrics_init(metrics *m);
void metrics_free(metrics *m);
void metrics_request(metrics *m, const char *route, unsigned status);
/* Records a finished execution: its duration and, if it failed, why. */
void metrics_execution(metrics *m, const aims_exec_result *result, int rc);
/* The Prometheus text exposition (malloc'd). */
char *metrics_render(metrics *m);

/* ---- Executions: the gate and cancellation -------------------------------- */

typedef struct execution execution;

typedef struct gate {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	unsigned max_running;
	unsigned max_queued;
	unsigned running;
	unsigned queued;
	unsigned watched;  /* work without a slot, watched for cancel */
	bool closed;	   /* shutting down: no new executions */
	execution *active; /* running executions, for cancel at shutdown */
	uint64_t next_id;
	int epoll_fd; /* client sockets of running executions */
	int wake_fd;  /* eventfd: stops the monitor */
	pthread_t monitor;
	bool monitor_started;
} gate;

int gate_init(gate *g, unsigned max_running, unsigned max_queued, aims_error *err);
void gate_free(gate *g);

/* The outcome of asking for a slot. */
enum { GATE_RUN = 0, GATE_FULL = 1, GATE_CLOSED = 2, GATE_GONE = 3 };

/*
 * Takes a slot for an execution on behalf of the client on socket_fd:
 * waits in the queue when all slots are taken and the queue has room.
 * Returns GATE_RUN with *out set (its cancel_fd fires when the client
 * disconnects or the server cancels), GATE_FULL (queue full: 429),
 * GATE_CLOSED (shutting down: 503), GATE_GONE (the client left while
 * queued), or a negative AIMS_E* code.
 */
int gate_enter(execution **out, gate *g, metrics *m, int socket_fd, aims_error *err);
/*
 * Watches the client on socket_fd for work that needs no slot (a forward
 * to another service): *out gets a cancel eventfd that fires when the
 * client hangs up or the server drains, like an execution's. Returns
 * GATE_RUN, GATE_CLOSED, or a negative AIMS_E* code. Give it back with
 * gate_leave.
 */
int gate_watch(execution **out, gate *g, int socket_fd, aims_error *err);
/* The eventfd that cancels this execution. */
int execution_cancel_fd(const execution *e);
/* Gives the slot (if it took one) and the watch back. */
void gate_leave(gate *g, metrics *m, execution *e);
/* Refuses new executions and wakes the queue. */
void gate_close(gate *g);
/* Whether gate_close was called: the server is shutting down. */
bool gate_closing(gate *g);
/* Waits up to ms for running executions to finish; then cancels the rest
 * and waits for them. */
void gate_drain(gate *g, unsigned ms);

/* ---- The server ------------------------------------------------------------ */

struct aims_server {
	aims_server_config cfg;
	char *token;
	const aims_registry *reg;
	aims_router *router;
	struct MHD_Daemon *daemon;
	uint16_t port;
	int family;
	unsigned char addr[16];
	metrics metrics;
	gate gate;
	atomic_bool shut_down;
	atomic_uint in_flight; /* requests between their first call and completion */
	pthread_mutex_t log_lock;
};

/* Handlers: fill r; return 0 (any status) or AIMS_ENOMEM. */
int handle_healthz(aims_server *srv, const request *req, reply *r);
int handle_metrics(aims_server *srv, const request *req, reply *r);
int handle_skills(aims_server *srv, const request *req, reply *r);
int handle_skill(aims_server *srv, const request *req, reply *r);
int handle_tools(aims_server *srv, const request *req, reply *r);
int handle_execute(aims_server *srv, const request *req, reply *r);
int handle_route(aims_server *srv, const request *req, reply *r);
int handle_dispatch(aims_server *srv, const request *req, reply *r);
int handle_validate(aims_server *srv, const request *req, reply *r);

/* Parses a JSON object body; on failure fills r with a 400 and returns
 * NULL. Rejects invalid UTF-8 and NUL characters. */
cJSON *parse_json_object(const request *req, reply *r);

#endif

/*
 * server.h - the HTTP JSON API (SPEC §8) on libmicrohttpd.
 *
 * One connection, one thread (libmicrohttpd's thread-per-connection
 * mode): a handler may block for the whole of an execution without
 * holding up other clients, and the number of threads is bounded by the
 * connection limit. Executions are bounded separately: at most
 * max_concurrency run, at most queue wait, the rest get 429.
 */
#ifndef AIMS_SERVER_H
#define AIMS_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "aims/core.h"
#include "aims/registry.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AIMS_SERVER_DEFAULT_LISTEN	"127.0.0.1:8080"
#define AIMS_SERVER_DEFAULT_MAX_BODY	(1u << 20)
#define AIMS_SERVER_DEFAULT_CONNECTIONS 256
#define AIMS_SERVER_TOKEN_MAX		4096

typedef struct aims_server aims_server;

typedef struct aims_server_config {
	const char *listen;	  /* "ADDR:PORT", "[V6]:PORT"; port 0: any free port */
	const char *token;	  /* Bearer token for /api/; NULL or "": no auth */
	unsigned max_concurrency; /* running executions; 0: one per CPU */
	unsigned queue;		  /* waiting executions; 0: 8 x max_concurrency, at least 16 */
	size_t max_body;	  /* request body; 0: AIMS_SERVER_DEFAULT_MAX_BODY */
	unsigned connections;	  /* open connections; 0: AIMS_SERVER_DEFAULT_CONNECTIONS */
	unsigned drain_ms;	  /* on shutdown, how long running executions may
				    * finish before they are canceled; 0: 10 s */
	FILE *access_log;	  /* one line per request; NULL: none */
	FILE *error_log;	  /* the messages of 500s, which the client does
				   * not get, and libmicrohttpd's; NULL: none */
	const char *root;	  /* for requirement checks; NULL: AIMS_ROOT or cwd */
} aims_server_config;

/* Fills cfg with the defaults above. */
void aims_server_config_init(aims_server_config *cfg);

/*
 * Creates a server over reg (borrowed: it must outlive the server). Fails
 * with AIMS_EINVALID when the listen address does not parse, or when it is
 * not a loopback address and no token is set (the API runs code).
 */
int aims_server_new(aims_server **out, const aims_server_config *cfg, const aims_registry *reg,
		    aims_error *err);

/* Starts listening. Fails with AIMS_EIO (address in use...) . */
int aims_server_start(aims_server *srv, aims_error *err);

/* The port listened on (useful with port 0), or 0 when not started. */
uint16_t aims_server_port(const aims_server *srv);

/*
 * Stops gracefully: no new connections or executions; queued executions
 * are refused; running ones may finish for drain_ms, then are canceled
 * (their sandboxes cleaned up); then every connection is closed. Safe to
 * call once from any thread; blocks until done.
 */
void aims_server_shutdown(aims_server *srv);

/* Frees the server (shuts it down first if needed). srv may be NULL. */
void aims_server_free(aims_server *srv);

/* Compares a presented token with the expected one in time independent of
 * where they differ. Returns true when equal. */
bool aims_server_token_equal(const char *expected, const char *presented, size_t presented_len);

#ifdef __cplusplus
}
#endif
#endif

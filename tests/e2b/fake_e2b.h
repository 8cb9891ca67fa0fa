/*
 * fake_e2b.h - a local stand-in for E2B, for tests: one real HTTP server on
 * 127.0.0.1 (ephemeral port) that plays the control plane (X-API-Key,
 * POST/DELETE /sandboxes, timeout, list by metadata), the data-plane proxy
 * (routing by E2b-Sandbox-Id / E2b-Sandbox-Port, 502 for an unknown
 * sandbox or a closed port, X-Access-Token), the code-interpreter's
 * /execute NDJSON stream and envd's Connect process stream, as
 * shared/E2B-PROTOCOL.md describes them. Scripts make it fail the way E2B
 * does (401, 429 + Retry-After, 500, slow answers, cut and endless
 * streams). Every request is recorded for assertions.
 */
#ifndef FAKE_E2B_H
#define FAKE_E2B_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fake_e2b fake_e2b;

typedef struct fake_header {
	char *name;
	char *value;
} fake_header;

/* One request as the server received it (immutable once recorded). */
typedef struct fake_request {
	char *method;
	char *path;
	char *metadata_query; /* decoded ?metadata=, or NULL */
	fake_header *headers;
	size_t header_count;
	char *body; /* NUL-terminated copy; body_len bytes */
	size_t body_len;
	uint64_t at_ms;	      /* monotonic */
	unsigned client_port; /* the client's TCP port: same port, same connection */
} fake_request;

typedef enum fake_exec_mode {
	FAKE_EXEC_NORMAL = 0, /* the scripted lines, then end_of_execution */
	FAKE_EXEC_CUT,	      /* the scripted lines, then a clean end without end_of_execution */
	FAKE_EXEC_ABORT,      /* the scripted lines, then the connection is cut mid-chunk */
	FAKE_EXEC_SLOW,	      /* the scripted lines, then keepalives for ever (20 s max) */
	FAKE_EXEC_LINGER,     /* the lines, end_of_execution, then keepalives as SLOW */
} fake_exec_mode;

/* Starts a server that accepts api_key. Fails the test on error. */
fake_e2b *fake_e2b_start(const char *api_key);
void fake_e2b_stop(fake_e2b *f);
/* "http://127.0.0.1:<port>" (borrowed). */
const char *fake_e2b_url(const fake_e2b *f);
/* Forgets the requests and scripts of the previous test (sandboxes stay). */
void fake_e2b_reset(fake_e2b *f);

/* Queues the answer to the next POST /sandboxes: status (201 creates the
 * sandbox, then answers), Retry-After seconds (-1: none), a delay before
 * answering. Queued answers are used in order; then every create is a
 * plain 201. */
void fake_e2b_queue_create(fake_e2b *f, int status, int retry_after_s, unsigned delay_ms);
/* Sandboxes vanish right after creation: the data plane answers 502. */
void fake_e2b_lose_sandboxes(fake_e2b *f, bool lose);
/* The /execute answer: JSON lines (without '\n'), sent in pieces of chunk
 * bytes with delay_ms between pieces, then what mode says. With status
 * other than 200, answers that status with an E2B error body instead. */
void fake_e2b_exec_script(fake_e2b *f, const char *const *lines, size_t n_lines, size_t chunk,
			  unsigned delay_ms, fake_exec_mode mode, int status);
/* The process.Process/Start answer: exit code, stdout and stderr, and an
 * error code in the final envelope (NULL: none). Envelopes are sent in
 * pieces of chunk bytes. */
void fake_e2b_process_script(fake_e2b *f, int exit_code, const char *out, const char *err,
			     const char *final_error, size_t chunk);

/* The recorded requests (borrowed; valid until reset or stop). */
size_t fake_e2b_request_count(fake_e2b *f);
const fake_request *fake_e2b_request(fake_e2b *f, size_t i);
/* The nth (0-based) request with this method whose path starts with prefix. */
const fake_request *fake_e2b_find(fake_e2b *f, const char *method, const char *prefix, size_t nth);
size_t fake_e2b_count(fake_e2b *f, const char *method, const char *prefix);
/* A header's value (case-insensitive name), or NULL. */
const char *fake_request_header(const fake_request *r, const char *name);

size_t fake_e2b_created(fake_e2b *f); /* sandboxes ever created */
size_t fake_e2b_alive(fake_e2b *f);   /* created and neither deleted nor lost */
/* The id of the nth sandbox created (borrowed), or NULL. */
const char *fake_e2b_sandbox_id(fake_e2b *f, size_t nth);
/* Streams the client closed before they ended, and when the last was. */
size_t fake_e2b_streams_cut_by_client(fake_e2b *f);
uint64_t fake_e2b_last_cut_ms(fake_e2b *f);

uint64_t fake_now_ms(void);

#endif

/*
 * http_client.h - the one place in libaims that speaks HTTP as a client
 * (libcurl). Internal to the library: the E2B backend uses it now, the
 * HTTP forward executor can use it later.
 *
 * One call performs one request with an absolute deadline and a set of
 * "cancel" file descriptors: when one becomes readable (or hangs up) the
 * transfer is aborted and its connection closed, which is how a streaming
 * response is interrupted on timeout, cancel or server shutdown. The body
 * is either collected into a bounded buffer or streamed to a sink.
 * Redirects are never followed (a redirect could carry credentials to
 * another host); only http and https are allowed.
 */
#ifndef AIMS_HTTP_CLIENT_H
#define AIMS_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "aims/core.h"

#define AIMS_HTTP_MAX_CANCEL_FDS 4

/* Receives a piece of the response body. Returns 0 to continue, or a
 * negative AIMS_E* code to abort the transfer (aims_http_perform then
 * returns that code; the sink sets the message). */
typedef int (*aims_http_sink)(void *ctx, const char *data, size_t len, aims_error *err);

typedef struct aims_http_request {
	const char *method;	    /* "GET", "POST", "DELETE" */
	const char *url;	    /* never contains credentials */
	const char *const *headers; /* "Name: value", NULL-terminated, may be NULL */
	const void *body;	    /* may be NULL */
	size_t body_len;
	uint64_t deadline_ms;			  /* absolute, aims_http_now_ms() clock; 0: none */
	int cancel_fds[AIMS_HTTP_MAX_CANCEL_FDS]; /* -1: unused */
	aims_http_sink sink;			  /* NULL: collect the body into the response */
	void *sink_ctx;
	/* Only 2xx bodies go to the sink; others are collected (error text). */
	size_t max_body; /* cap of a collected body */
} aims_http_request;

typedef struct aims_http_response {
	long status;	     /* HTTP status, 0 when none was received */
	aims_buf body;	     /* collected body (NUL-terminated when not empty) */
	long retry_after_ms; /* from Retry-After, -1 when absent */
	uint64_t elapsed_ms;
} aims_http_response;

/* Initializes a request: no headers, no body, no deadline, no cancel fds. */
void aims_http_request_init(aims_http_request *req);

/* The monotonic clock the deadlines use, in milliseconds. */
uint64_t aims_http_now_ms(void);

/*
 * Performs req. Returns 0 when a complete response was received, whatever
 * its status (resp->status says); the caller frees resp with
 * aims_http_response_free. Fails with AIMS_ETIMEOUT (deadline), AIMS_ECANCELED
 * (a cancel fd fired), AIMS_EUPSTREAM (connection failed or was cut, with
 * the host named and the transport's reason), AIMS_ETOOBIG (a collected body
 * over max_body), AIMS_ENOMEM, or the sink's code. On failure resp->status
 * still holds the status when one was received. Thread-safe.
 */
int aims_http_perform(aims_http_response *resp, const aims_http_request *req, aims_error *err);

/* Frees the response body. resp may be NULL. */
void aims_http_response_free(aims_http_response *resp);

/* Whether url's host is a loopback address (127.0.0.0/8, ::1, localhost). */
int aims_http_url_is_loopback(const char *url);

#endif

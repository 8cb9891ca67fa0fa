/*
 * e2b_int.h - shared by the files of the E2B backend: the sandbox handle,
 * the control-plane client, the two stream decoders and the registry of
 * live sandboxes. Tests include it to drive the decoders directly.
 */
#ifndef AIMS_E2B_INT_H
#define AIMS_E2B_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aims/e2b.h"

/* A created sandbox, as the control plane described it. */
typedef struct e2b_sandbox {
	char id[72];
	char domain[256];	 /* empty: the configured domain */
	char envd_token[512];	 /* X-Access-Token, empty when not secure */
	char traffic_token[512]; /* E2B-Traffic-Access-Token, may be empty */
	char envd_version[32];
} e2b_sandbox;

/* What a new sandbox gets. */
typedef struct e2b_create_params {
	unsigned timeout_s;	/* lifetime; the sandbox dies after it */
	const char *run_tag;	/* metadata aimsRun, to find orphans */
	const char *const *env; /* "NAME=VALUE", NULL-terminated, may be NULL */
	int cancel_fds[2];	/* -1: unused */
} e2b_create_params;

/* api.c: the control plane. */

/* Creates a sandbox, retrying 429/5xx/timeouts within cfg's budget.
 * *maybe_orphans is set when an attempt may have created a sandbox whose
 * id never reached us (a timed-out or cut request). */
int e2b_create(e2b_sandbox *out, bool *maybe_orphans, const aims_e2b_config *cfg,
	       const e2b_create_params *params, aims_error *err);
/* Deletes a sandbox; 404 (already gone) is success. Not cancelable. */
int e2b_delete(const aims_e2b_config *cfg, const char *id, aims_error *err);
/* Sets a sandbox's lifetime to now + secs. */
int e2b_set_timeout(const aims_e2b_config *cfg, const char *id, unsigned secs,
		    const int cancel_fds[2], aims_error *err);
/* Deletes every running sandbox whose metadata aimsRun is tag. */
int e2b_delete_tagged(size_t *out_deleted, const aims_e2b_config *cfg, const char *tag,
		      aims_error *err);
/* A one-line, printable summary of an E2B error body ("message" of
 * {"code","message"} when present), at most out_len-1 bytes. */
void e2b_error_text(char *out, size_t out_len, const char *body, size_t len);

/* The base URL of a sandbox's port (no trailing slash). */
int e2b_data_url(char *out, size_t out_len, const aims_e2b_config *cfg, const e2b_sandbox *sb,
		 int port, aims_error *err);

/* stream.c: the code-interpreter /execute NDJSON stream. */
typedef struct e2b_exec_stream {
	aims_buf line;	 /* the incomplete line so far */
	aims_buf out;	 /* stdout, results' text */
	aims_buf errout; /* stderr, tracebacks */
	size_t output_max;
	bool truncated;
	bool skipping; /* inside a line over AIMS_E2B_MAX_LINE: dropped */
	char *error;   /* "<name>: <value>" of an error line, or NULL */
	bool ended;    /* end_of_execution seen */
	size_t lines;
} e2b_exec_stream;

void e2b_exec_stream_init(e2b_exec_stream *s, size_t output_max);
/* Feeds bytes as they arrive; lines may be split anywhere. A line over
 * AIMS_E2B_MAX_LINE (one huge print) is dropped and the output flagged
 * truncated, as the local backend does. Fails with AIMS_EUPSTREAM (a line
 * that is not a JSON object), AIMS_ENOMEM. */
int e2b_exec_stream_feed(e2b_exec_stream *s, const char *data, size_t len, aims_error *err);
/* At end of body: handles a last line without '\n'. */
int e2b_exec_stream_finish(e2b_exec_stream *s, aims_error *err);
void e2b_exec_stream_free(e2b_exec_stream *s);

/* stream.c: the envd process API's Connect streaming envelopes. */
#define E2B_ENVELOPE_COMPRESSED 0x01
#define E2B_ENVELOPE_END	0x02

typedef struct e2b_proc_stream {
	aims_buf pending; /* bytes of the envelope being received */
	aims_buf out;	  /* the last AIMS_E2B_MAX_INSTALL_OUTPUT bytes of stdout */
	aims_buf errout;  /* same for stderr */
	bool started;
	uint32_t pid;
	bool ended; /* an "end" event came */
	int exit_code;
	bool exited;
	char status[96];
	char end_error[256]; /* the end event's error, if any */
	bool finished;	     /* the end-of-stream envelope came */
	char error_code[64]; /* from the end-of-stream envelope, empty if none */
	char error_message[256];
	size_t envelopes;
} e2b_proc_stream;

void e2b_proc_stream_init(e2b_proc_stream *s);
/* Feeds bytes; envelopes may be split anywhere. Fails with AIMS_ETOOBIG
 * (an envelope over AIMS_E2B_MAX_ENVELOPE), AIMS_EUPSTREAM (compressed or
 * malformed envelopes, bad base64, data after the end), AIMS_ENOMEM. */
int e2b_proc_stream_feed(e2b_proc_stream *s, const char *data, size_t len, aims_error *err);
void e2b_proc_stream_free(e2b_proc_stream *s);

/* Appends one envelope (flags, big-endian length, payload) to out. */
int e2b_envelope_append(aims_buf *out, unsigned flags, const char *payload, size_t len);

/* Decodes padded standard base64 into out (appending). AIMS_EINVALID on
 * bad input. */
int e2b_base64_decode(aims_buf *out, const char *in, size_t len);
/* Appends the padded standard base64 of data to out. */
int e2b_base64_encode(aims_buf *out, const void *data, size_t len);

/* live.c: the registry of sandboxes alive. */

/* Registers a created sandbox with the configuration that can delete it. */
int e2b_live_add(const char *id, const aims_e2b_config *cfg);
/* Removes id; true when it was there (the caller must then delete it),
 * false when aims_e2b_shutdown already took it. */
bool e2b_live_take(const char *id);
/* The read end of the shutdown pipe (readable once shutdown began), or -1. */
int e2b_live_shutdown_fd(void);
bool e2b_live_shutting_down(void);

#endif

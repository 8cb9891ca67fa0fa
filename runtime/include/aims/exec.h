/*
 * exec.h - the code executor: run a piece of Python, Node.js or Bash code
 * on a backend (the local sandbox or E2B) and get the result of SPEC §7.1.
 *
 * The request and result types are shared by every backend; the executor
 * picks the backend (auto: e2b when E2B_API_KEY is set, else local) and
 * always cleans up what it created, also on error, timeout or cancel.
 */
#ifndef AIMS_EXEC_H
#define AIMS_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aims/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Named limits (SPEC §7.1, §7.3). */
#define AIMS_EXEC_MAX_CODE	     (256u << 10) /* code size */
#define AIMS_EXEC_MAX_STDIN	     (1u << 20)	  /* stdin size */
#define AIMS_EXEC_DEFAULT_TIMEOUT_MS 30000u	  /* wall time */
#define AIMS_EXEC_MAX_TIMEOUT_MS     300000u
#define AIMS_EXEC_DEFAULT_OUTPUT     (1u << 20) /* per stream */
#define AIMS_EXEC_MAX_PACKAGES	     64

typedef enum aims_language { AIMS_LANG_PYTHON = 1, AIMS_LANG_NODE, AIMS_LANG_BASH } aims_language;

typedef enum aims_backend {
	AIMS_BACKEND_AUTO = 0, /* e2b when E2B_API_KEY is set, else local */
	AIMS_BACKEND_LOCAL,
	AIMS_BACKEND_E2B
} aims_backend;

/* Which limit ended the execution, if any. */
typedef enum aims_limit {
	AIMS_LIMIT_NONE = 0,
	AIMS_LIMIT_WALL_TIME,
	AIMS_LIMIT_CPU_TIME,
	AIMS_LIMIT_MEMORY,
	AIMS_LIMIT_PIDS,
	AIMS_LIMIT_OUTPUT, /* output was truncated (the process ran on) */
	AIMS_LIMIT_FILE_SIZE,
	AIMS_LIMIT_DISK,    /* the writable tmpfs is full */
	AIMS_LIMIT_CANCELED /* the caller canceled */
} aims_limit;

/* Parses "python", "node" (aliases "javascript", "js"), "bash" (alias
 * "sh"). Returns 0, or AIMS_EINVALID with a message naming the value. */
int aims_language_parse(aims_language *out, const char *name, aims_error *err);
/* "python", "node" or "bash" (static). */
const char *aims_language_name(aims_language lang);
/* Parses "auto", "local", "e2b". Returns 0 or AIMS_EINVALID. */
int aims_backend_parse(aims_backend *out, const char *name, aims_error *err);
/* "auto", "local", "e2b" (static). */
const char *aims_backend_name(aims_backend backend);
/* A short name of a limit ("memory", "wall-time", ...; static). */
const char *aims_limit_name(aims_limit limit);

/* The backend `requested` means now: AIMS_BACKEND_AUTO becomes the value
 * of AIMS_CODE_BACKEND when that is local or e2b, else e2b when
 * E2B_API_KEY is set, else local. Other values are returned as they are. */
aims_backend aims_exec_resolve_backend(aims_backend requested);

/*
 * Whether a backend can run code here now (auto is resolved first).
 * Returns 0 when it can; otherwise AIMS_EUNSUPPORTED (local: no user
 * namespaces, no seccomp, or no interpreter) or AIMS_ENOTREADY (e2b: no
 * E2B_API_KEY), with the reason in err.
 */
int aims_exec_backend_ready(aims_backend backend, aims_error *err);

/*
 * Checks one package name for lang, strictly, before anything is
 * installed (names never pass through a shell, and a name that looks like
 * an option or a URL is refused too): python takes PEP 508 names with
 * optional extras and version clauses ("pandas", "requests>=2.31,<3",
 * "uvicorn[standard]==0.30"); node takes npm names with optional scope and
 * version ("left-pad", "@e2b/sdk@1.2.3"); bash takes Debian package names
 * with an optional version ("jq", "jq=1.6-2.1"). Returns 0, or
 * AIMS_EINVALID with a message naming the package.
 */
int aims_exec_check_package(aims_language lang, const char *name, aims_error *err);

/* What to run. Every pointer is borrowed for the duration of the call. */
typedef struct aims_exec_request {
	aims_language language;
	const char *code; /* not NUL-terminated necessarily */
	size_t code_len;
	const char *stdin_data; /* may be NULL */
	size_t stdin_len;
	const char *const *packages; /* package names, may be NULL */
	size_t package_count;
	const char *const *env; /* extra "NAME=VALUE" entries, NULL-terminated, may be NULL */
	aims_backend backend;
	uint32_t timeout_ms; /* 0: AIMS_EXEC_DEFAULT_TIMEOUT_MS */
	uint32_t memory_mb;  /* 0: the backend's default */
	size_t output_max;   /* per stream; 0: AIMS_EXEC_DEFAULT_OUTPUT */
	int cancel_fd;	     /* readable (or hung up) means cancel; -1: none */
} aims_exec_request;

/* Initializes a request with defaults (no code, cancel_fd -1). */
void aims_exec_request_init(aims_exec_request *req);

/* The outcome (SPEC §7.1). Strings are NUL-terminated and owned by the
 * result; free with aims_exec_result_free. */
typedef struct aims_exec_result {
	char *stdout_data;
	size_t stdout_len;
	char *stderr_data;
	size_t stderr_len;
	int exit_code;	 /* -1 when the program did not exit by itself */
	int term_signal; /* the signal that ended it, or 0 */
	char *error;	 /* NULL, or a sentence a user understands */
	bool success;	 /* exited 0 with no error */
	uint64_t duration_ms;
	bool timed_out;
	bool truncated;	      /* some output was dropped at output_max */
	aims_limit limit;     /* which limit fired, if any */
	aims_backend backend; /* which backend ran it (never auto) */
} aims_exec_result;

/* Frees a result and its strings. r may be NULL. */
void aims_exec_result_free(aims_exec_result *r);

/*
 * Runs req on its backend. On success (the code ran, whatever it did:
 * a non-zero exit, a timeout and a memory kill are all successes of this
 * call) *out is a new result. Fails, with a message in err, when the
 * request is invalid (AIMS_EINVALID, AIMS_ETOOBIG), when the backend cannot
 * be used (AIMS_EUNSUPPORTED, AIMS_ESANDBOX, AIMS_EAUTH, AIMS_EUPSTREAM),
 * or on AIMS_ENOMEM / AIMS_ECANCELED. Safe to call from several threads.
 */
int aims_exec_run(aims_exec_result **out, const aims_exec_request *req, aims_error *err);

#ifdef __cplusplus
}
#endif
#endif

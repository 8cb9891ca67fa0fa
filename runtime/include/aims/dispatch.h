/*
 * dispatch.h - running what a plan or an id names (SPEC §6).
 *
 * The executor table: a task whose execution is `api` with a route the
 * runtime implements runs built in (/api/code/execute: the code executor);
 * `api` with any other route is forwarded over HTTP to AIMS_API_BASE;
 * `command` (or a non-empty execution.command) runs in the local sandbox;
 * everything else, and every skill and hook, is loaded: the definition and
 * its body come back for the agent to follow. Requirements are checked
 * first; unmet ones refuse the run with the list (the code task's
 * built-in exception applies, SPEC §5).
 */
#ifndef AIMS_DISPATCH_H
#define AIMS_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aims/check.h"
#include "aims/core.h"
#include "aims/exec.h"
#include "aims/manifest.h"
#include "aims/router.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AIMS_DISPATCH_MAX_INPUT		 (1u << 20) /* input JSON */
#define AIMS_DISPATCH_MAX_UPSTREAM	 (4u << 20) /* a forwarded reply */
#define AIMS_DISPATCH_DEFAULT_FORWARD_MS 30000u

typedef enum aims_executor {
	AIMS_EXECUTOR_CODE = 1, /* built-in /api/code/execute */
	AIMS_EXECUTOR_FORWARD,	/* api route forwarded to AIMS_API_BASE */
	AIMS_EXECUTOR_COMMAND,	/* execution.command in the local sandbox */
	AIMS_EXECUTOR_LOAD	/* the definition and its body, returned */
} aims_executor;

typedef struct aims_dispatch_options {
	const char *root;		/* requirements; NULL: AIMS_ROOT or cwd */
	const char *api_base;		/* forward base URL; NULL: AIMS_API_BASE */
	uint32_t forward_timeout_ms;	/* 0: AIMS_DISPATCH_DEFAULT_FORWARD_MS */
	int cancel_fd;			/* readable: cancel; -1: none */
	bool dry_run;			/* check and choose, run nothing */
	aims_exec_progress_fn progress; /* package installs of code; may be NULL */
	void *progress_ctx;
} aims_dispatch_options;

/* Fills opts with the defaults (cancel_fd -1). */
void aims_dispatch_options_init(aims_dispatch_options *opts);

typedef struct aims_dispatch_result {
	const aims_manifest *manifest; /* borrowed */
	aims_executor executor;
	aims_readiness *readiness; /* owned */
	bool refused;		   /* requirements unmet: nothing ran */
	bool ran;		   /* false for a dry run or a refusal */
	/* code and command executors */
	aims_exec_result *exec;
	aims_language language; /* code: the language that ran */
	char *code;		/* code: the code that ran (owned) */
	/* forward */
	char *url;	    /* the URL called */
	const char *method; /* static */
	long upstream_status;
	char *upstream_body; /* as received, NUL-terminated */
	size_t upstream_len;
	bool upstream_json; /* the body parsed as JSON */
} aims_dispatch_result;

/* Which executor serves m. */
aims_executor aims_dispatch_executor_for(const aims_manifest *m);
/* "code", "forward", "command", "load" (static). */
const char *aims_executor_name(aims_executor executor);

/*
 * Runs m. match (may be NULL) is the candidate that routed to m: its
 * slots reach the command executor (AIMS_SLOT_<NAME>) and the forward body,
 * and its span locates code in the utterance. utterance (may be NULL) is
 * where code comes from when the input has none: a fenced block, else the
 * text after the trigger. input_json (may be NULL: {}) is a JSON object.
 *
 * On success *out is a new result (free with aims_dispatch_result_free):
 * also when requirements refused the run (refused, with the readiness
 * listing what is missing), when the program failed, or when the upstream
 * answered with an error status. Fails with AIMS_EINVALID (bad input, no
 * code), AIMS_ETOOBIG, AIMS_ENOTFOUND (a forward with no AIMS_API_BASE),
 * AIMS_EUPSTREAM / AIMS_ETIMEOUT (the upstream could not be reached in
 * time), AIMS_ECANCELED, the code executor's failures, AIMS_ENOMEM.
 */
int aims_dispatch_run(aims_dispatch_result **out, const aims_manifest *m,
		      const aims_candidate *match, const char *utterance, const char *input_json,
		      size_t input_len, const aims_dispatch_options *opts, aims_error *err);

/*
 * Runs the task of a plan; with no task, loads its best skill. Fails with
 * AIMS_ENOTFOUND when the plan has neither, AIMS_ECONFLICT when it is
 * ambiguous (the message names the tasks); otherwise as aims_dispatch_run.
 */
int aims_dispatch_plan(aims_dispatch_result **out, const aims_plan *plan, const char *input_json,
		       size_t input_len, const aims_dispatch_options *opts, aims_error *err);

/* Frees r. r may be NULL. */
void aims_dispatch_result_free(aims_dispatch_result *r);

/*
 * Finds code in an utterance (SPEC §6): the first fenced block (its info
 * string names the language), else the text after the byte offset
 * after_trigger (skipping blanks and one ':'). *out_code is a malloc'd
 * copy; *out_lang is set when the fence or the trigger text names a
 * language (python / node, javascript, js / bash, shell, sh), else left.
 * trigger may be NULL. Returns 0, or AIMS_ENOTFOUND when there is no code.
 */
int aims_dispatch_find_code(char **out_code, aims_language *out_lang, const char *utterance,
			    size_t after_trigger, const char *trigger, aims_error *err);

#ifdef __cplusplus
}
#endif
#endif

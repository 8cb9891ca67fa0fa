/*
 * check.h - requirements of a definition (SPEC §5): environment
 * variables, files, packages, a tool's env_vars; and, for a task served by
 * a built-in executor, the executor's own requirements.
 *
 * Values of environment variables are never read beyond "set and not
 * empty", never copied, never reported.
 */
#ifndef AIMS_CHECK_H
#define AIMS_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "aims/core.h"
#include "aims/exec.h"
#include "aims/manifest.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum aims_req_kind {
	AIMS_REQ_ENV = 1, /* an environment variable, set and non-empty */
	AIMS_REQ_FILE,	  /* a path relative to the root */
	AIMS_REQ_PACKAGE, /* npm by default; "pip:NAME", "deb:NAME" */
	AIMS_REQ_BACKEND  /* a built-in executor's backend */
} aims_req_kind;

/* One requirement and whether it is met. Strings are owned by the
 * readiness that holds it. */
typedef struct aims_requirement {
	aims_req_kind kind;
	const char *name; /* as declared: "E2B_API_KEY", "pip:requests" */
	bool met;
	const char *detail; /* why it is missing ("not set"...), or NULL */
	/* A declared dependency that a built-in executor replaces: checked
	 * and reported, but it does not decide readiness. */
	bool informational;
	aims_pos pos; /* where it is declared (line 0: built in) */
} aims_requirement;

/* The readiness of one definition. */
typedef struct aims_readiness {
	const aims_manifest *manifest; /* borrowed */
	bool ready;
	size_t count;
	aims_requirement *items;
	/* Served by a built-in executor (the route the runtime implements). */
	bool builtin;
	/* For the code executor: the backend that would serve now. */
	aims_backend backend;
	/* A sentence for the user when the built-in exception applies, e.g.
	 * "E2B_API_KEY missing: e2b backend unavailable; local backend
	 * serves"; NULL otherwise. */
	const char *note;
} aims_readiness;

typedef struct aims_check_options {
	const char *root; /* files and packages are looked up here; NULL:
			   * AIMS_ROOT, else the working directory */
} aims_check_options;

/*
 * Checks m. On success *out is a new readiness (free with
 * aims_readiness_free). Fails only on AIMS_ENOMEM.
 */
int aims_check_definition(aims_readiness **out, const aims_manifest *m,
			  const aims_check_options *opts, aims_error *err);

/* Frees r. r may be NULL. */
void aims_readiness_free(aims_readiness *r);

/* Number of unmet requirements that decide readiness. */
size_t aims_readiness_missing(const aims_readiness *r);

/* "env", "file", "package", "backend" (static). */
const char *aims_req_kind_name(aims_req_kind kind);

/*
 * True when route is implemented by the runtime itself (a built-in
 * executor): "/api/code/execute".
 */
bool aims_check_builtin_route(const char *route);

/*
 * True when m is a task served by a built-in executor: execution.target
 * `api` (any case; a missing target counts as api) with a built-in route.
 * Readiness and dispatch both decide by this, so they never disagree.
 */
bool aims_check_is_builtin(const aims_manifest *m);

/*
 * Fills the readiness of every candidate of plan (aims_plan_set_missing):
 * a candidate that cannot run gets the names of what it misses. Returns 0
 * or AIMS_ENOMEM.
 */
struct aims_plan;
int aims_check_plan(struct aims_plan *plan, const aims_check_options *opts, aims_error *err);

#ifdef __cplusplus
}
#endif
#endif

/*
 * harness.h - helpers for the sandbox tests: run code through
 * aims_exec_run, require the sandbox (fail under AIMS_MUST_WORK=1, skip
 * loudly otherwise), and look for leftovers.
 */
#ifndef AIMS_SANDBOX_HARNESS_H
#define AIMS_SANDBOX_HARNESS_H

#include <limits.h>
#include <stdbool.h>

#include "aims/exec.h"
#include "aims/sandbox.h"
#include "support.h"

typedef struct outcome {
	int rc;
	aims_error err;
	aims_exec_result *r;
	const char *out; /* r->stdout_data or "" */
	const char *errout;
} outcome;

/* Options of one run; zero means the default. */
typedef struct run_opts {
	uint32_t timeout_ms;
	uint32_t memory_mb;
	size_t output_max;
	const char *stdin_data;
	const char *const *env;
	int cancel_fd;
} run_opts;

/* Skips (loudly) or fails (AIMS_MUST_WORK=1) when the sandbox cannot run. */
void require_sandbox(void);
/* Runs code; asserts nothing about the outcome. opts may be NULL. */
void run_code(outcome *o, aims_language lang, const char *code, const run_opts *opts);
/* Runs code and asserts the call succeeded (a result exists). */
void run_ok(outcome *o, aims_language lang, const char *code, const run_opts *opts);
void outcome_free(outcome *o);
/* Prints the outcome (for failing tests). */
void outcome_dump(const outcome *o);

/* Number of processes on the host whose command line contains marker. */
int count_processes(const char *marker);
/* Number of cgroup directories aims-<our pid ns>-<our pid>-* under the
 * v1/v2 bases. */
int count_our_cgroups(void);
/* Their paths (at most max); returns how many were written. */
size_t our_cgroups(char paths[][PATH_MAX], size_t max);
/* Asserts that the pooled cgroups hold no process. */
void assert_pool_empty(void);

#endif

/*
 * harness.c - helpers for the sandbox tests (see harness.h).
 */
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

void require_sandbox(void)
{
	test_require_sandbox();
}

void run_code(outcome *o, aims_language lang, const char *code, const run_opts *opts)
{
	aims_exec_request req;

	memset(o, 0, sizeof(*o));
	aims_error_clear(&o->err);
	aims_exec_request_init(&req);
	req.language = lang;
	req.code = code;
	req.code_len = strlen(code);
	req.backend = AIMS_BACKEND_LOCAL;
	if (opts) {
		req.timeout_ms = opts->timeout_ms;
		req.memory_mb = opts->memory_mb;
		req.output_max = opts->output_max;
		req.stdin_data = opts->stdin_data;
		req.stdin_len = opts->stdin_data ? strlen(opts->stdin_data) : 0;
		req.env = opts->env;
		if (opts->cancel_fd > 0)
			req.cancel_fd = opts->cancel_fd;
	}
	o->rc = aims_exec_run(&o->r, &req, &o->err);
	o->out = o->r && o->r->stdout_data ? o->r->stdout_data : "";
	o->errout = o->r && o->r->stderr_data ? o->r->stderr_data : "";
}

void outcome_dump(const outcome *o)
{
	fprintf(stderr, "rc=%d err=%s\n", o->rc, o->err.message);
	if (!o->r)
		return;
	fprintf(stderr,
		"exit=%d signal=%d success=%d timedOut=%d truncated=%d limit=%s error=%s "
		"duration=%llu ms\n--- stdout ---\n%.2000s\n--- stderr ---\n%.2000s\n",
		o->r->exit_code, o->r->term_signal, o->r->success, o->r->timed_out, o->r->truncated,
		aims_limit_name(o->r->limit), o->r->error ? o->r->error : "-",
		(unsigned long long)o->r->duration_ms, o->out, o->errout);
}

void run_ok(outcome *o, aims_language lang, const char *code, const run_opts *opts)
{
	run_code(o, lang, code, opts);
	if (o->rc != 0)
		outcome_dump(o);
	assert_int_equal(o->rc, 0);
	assert_non_null(o->r);
}

void outcome_free(outcome *o)
{
	aims_exec_result_free(o->r);
	o->r = NULL;
}

int count_processes(const char *marker)
{
	return test_count_processes(marker);
}

static char prefix[64];
static int found;
static bool check_empty;
static char (*found_paths)[PATH_MAX];
static size_t found_max;

static int visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	if (type == FTW_D && strncmp(path + ftw->base, prefix, strlen(prefix)) == 0) {
		if (found_paths && (size_t)found < found_max)
			snprintf(found_paths[found], PATH_MAX, "%s", path);
		found++;
		if (check_empty) {
			char procs[PATH_MAX], text[64];
			ssize_t n;
			int fd;

			snprintf(procs, sizeof(procs), "%s/cgroup.procs", path);
			fd = open(procs, O_RDONLY | O_CLOEXEC);
			assert_true(fd >= 0);
			n = read(fd, text, sizeof(text));
			close(fd);
			if (n != 0)
				fail_msg("cgroup %s still holds processes", path);
		}
	}
	return 0;
}

static int walk(bool empty)
{
	test_cgroup_prefix(prefix, sizeof(prefix), (long)getpid());
	found = 0;
	check_empty = empty;
	nftw("/sys/fs/cgroup", visit, 16, FTW_PHYS);
	return found;
}

int count_our_cgroups(void)
{
	return walk(false);
}

size_t our_cgroups(char paths[][PATH_MAX], size_t max)
{
	int n;

	found_paths = paths;
	found_max = max;
	n = walk(false);
	found_paths = NULL;
	return (size_t)n < max ? (size_t)n : max;
}

void assert_pool_empty(void)
{
	int groups = walk(true);

	/* Not vacuous: with cgroups in use, the pool holds the groups the
	 * runs used. */
	if (strcmp(aims_sandbox_limits_backend(), "rlimits") != 0)
		assert_true(groups >= 1);
}

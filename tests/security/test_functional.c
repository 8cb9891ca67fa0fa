/*
 * test_functional.c - the local sandbox backend does what SPEC §7.1 says:
 * each language's hello, exit codes, stderr, stdin, unicode, truncation,
 * the request checks, cancel, and 8 concurrent runs leaving nothing behind.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "aims/json.h"
#include "harness.h"

static int setup(void **state)
{
	(void)state;
	return 0;
}

static void hello_python(void **state)
{
	outcome o;

	(void)state;
	require_sandbox();
	run_ok(&o, AIMS_LANG_PYTHON, "print('Hello from AIMS')", NULL);
	assert_string_equal(o.out, "Hello from AIMS\n");
	assert_string_equal(o.errout, "");
	assert_int_equal(o.r->exit_code, 0);
	assert_true(o.r->success);
	assert_null(o.r->error);
	assert_false(o.r->timed_out);
	assert_false(o.r->truncated);
	assert_int_equal(o.r->limit, AIMS_LIMIT_NONE);
	assert_int_equal(o.r->backend, AIMS_BACKEND_LOCAL);
	outcome_free(&o);
}

/* Runs code and asserts it succeeded printing exactly expect. */
static void expect_output(aims_language lang, const char *code, const char *expect)
{
	outcome o;

	require_sandbox();
	run_ok(&o, lang, code, NULL);
	assert_string_equal(o.out, expect);
	assert_true(o.r->success);
	outcome_free(&o);
}

static void hello_node(void **state)
{
	(void)state;
	expect_output(AIMS_LANG_NODE, "console.log('Hello from ' + 'node')", "Hello from node\n");
}

static void hello_bash(void **state)
{
	(void)state;
	expect_output(AIMS_LANG_BASH, "x=bash; echo \"Hello from $x\"; pwd",
		      "Hello from bash\n" AIMS_SANDBOX_WORKDIR "\n");
}

static void exit_codes_and_stderr(void **state)
{
	static const struct {
		aims_language lang;
		const char *code;
	} cases[] = {
		{AIMS_LANG_PYTHON, "import sys; print('out'); print('oops', file=sys.stderr); "
				   "sys.exit(7)"},
		{AIMS_LANG_NODE, "console.log('out'); console.error('oops'); process.exit(7)"},
		{AIMS_LANG_BASH, "echo out; echo oops >&2; exit 7"},
	};

	(void)state;
	require_sandbox();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		outcome o;

		run_ok(&o, cases[i].lang, cases[i].code, NULL);
		assert_string_equal(o.out, "out\n");
		assert_string_equal(o.errout, "oops\n");
		assert_int_equal(o.r->exit_code, 7);
		assert_false(o.r->success);
		assert_null(o.r->error);
		outcome_free(&o);
	}
}

static void python_exception_is_a_failure(void **state)
{
	outcome o;

	(void)state;
	require_sandbox();
	run_ok(&o, AIMS_LANG_PYTHON, "raise ValueError('bad value')", NULL);
	assert_int_equal(o.r->exit_code, 1);
	assert_non_null(strstr(o.errout, "ValueError: bad value"));
	assert_false(o.r->success);
	outcome_free(&o);
}

static void stdin_is_fed(void **state)
{
	run_opts opts = {.stdin_data = "line one\nline two\n"};
	outcome o;

	(void)state;
	require_sandbox();
	run_ok(&o, AIMS_LANG_PYTHON, "import sys\nfor l in sys.stdin: print(l.strip().upper())",
	       &opts);
	assert_string_equal(o.out, "LINE ONE\nLINE TWO\n");
	outcome_free(&o);
	run_ok(&o, AIMS_LANG_BASH, "while read a b; do echo \"$b-$a\"; done", &opts);
	assert_string_equal(o.out, "one-line\ntwo-line\n");
	outcome_free(&o);
	run_ok(&o, AIMS_LANG_NODE,
	       "let d='';process.stdin.on('data',c=>d+=c).on('end',()=>"
	       "console.log(d.split('\\n').length))",
	       &opts);
	assert_string_equal(o.out, "3\n");
	outcome_free(&o);
	/* No stdin: reading gives EOF at once, never a hang. */
	run_ok(&o, AIMS_LANG_BASH, "cat; echo done", NULL);
	assert_string_equal(o.out, "done\n");
	outcome_free(&o);
}

static void unicode_output(void **state)
{
	outcome o;
	const char *expect =
		"h\xc3\xa9llo \xe2\x9c\x93 \xe4\xb8\x96\xe7\x95\x8c \xf0\x9f\x99\x82\n";

	(void)state;
	require_sandbox();
	run_ok(&o, AIMS_LANG_PYTHON, "print('h\\u00e9llo \\u2713 \\u4e16\\u754c \\U0001F642')",
	       NULL);
	assert_string_equal(o.out, expect);
	outcome_free(&o);
	run_ok(&o, AIMS_LANG_NODE, "console.log('h\\u00e9llo \\u2713 \\u4e16\\u754c \\u{1F642}')",
	       NULL);
	assert_string_equal(o.out, expect);
	outcome_free(&o);
	run_ok(&o, AIMS_LANG_BASH,
	       "printf 'h\\xc3\\xa9llo \\xe2\\x9c\\x93 "
	       "\\xe4\\xb8\\x96\\xe7\\x95\\x8c \\xf0\\x9f\\x99\\x82\\n'",
	       NULL);
	assert_string_equal(o.out, expect);
	outcome_free(&o);
}

static void large_output_is_truncated(void **state)
{
	run_opts opts = {.output_max = 100000};
	outcome o;

	(void)state;
	require_sandbox();
	/* 3 MB on stdout, a little on stderr: stdout is cut at the limit,
	 * stderr kept whole, the program runs to its end. */
	run_ok(&o, AIMS_LANG_PYTHON,
	       "import sys\nsys.stdout.write('x' * 3000000)\nsys.stdout.flush()\n"
	       "print('end', file=sys.stderr)",
	       &opts);
	assert_int_equal(o.r->stdout_len, 100000);
	assert_int_equal(strspn(o.out, "x"), 100000);
	assert_string_equal(o.errout, "end\n");
	assert_true(o.r->truncated);
	assert_int_equal(o.r->exit_code, 0);
	assert_int_equal(o.r->limit, AIMS_LIMIT_OUTPUT);
	assert_non_null(o.r->error);
	assert_non_null(strstr(o.r->error, "stdout"));
	assert_false(o.r->success);
	outcome_free(&o);

	/* The default limit is 1 MiB per stream. */
	run_ok(&o, AIMS_LANG_BASH, "head -c 5000000 /dev/zero | tr '\\0' y", NULL);
	assert_int_equal(o.r->stdout_len, AIMS_EXEC_DEFAULT_OUTPUT);
	assert_true(o.r->truncated);
	outcome_free(&o);
}

static void env_from_request_only(void **state)
{
	const char *const env[] = {"GREETING=hi there", "PATH=/usr/bin:/bin", NULL};
	run_opts opts = {.env = env};
	outcome o;

	(void)state;
	require_sandbox();
	run_ok(&o, AIMS_LANG_BASH, "echo \"$GREETING|$PATH|$HOME|$TMPDIR\"", &opts);
	assert_string_equal(o.out, "hi there|/usr/bin:/bin|" AIMS_SANDBOX_WORKDIR "|/tmp\n");
	outcome_free(&o);
}

static void request_checks(void **state)
{
	aims_exec_request req;
	aims_exec_result *r = NULL;
	aims_error err;
	char *big;
	const char *const bad_pkgs[] = {"--target=/"};

	(void)state;
	aims_exec_request_init(&req);
	req.language = AIMS_LANG_PYTHON;
	req.backend = AIMS_BACKEND_LOCAL;

	aims_error_clear(&err);
	req.code = "";
	req.code_len = 0;
	assert_int_equal(aims_exec_run(&r, &req, &err), AIMS_EINVALID);
	assert_non_null(strstr(err.message, "empty"));
	assert_null(r);

	aims_error_clear(&err);
	req.code = "  \n\t ";
	req.code_len = strlen(req.code);
	assert_int_equal(aims_exec_run(&r, &req, &err), AIMS_EINVALID);

	big = malloc(AIMS_EXEC_MAX_CODE + 2);
	assert_non_null(big);
	memset(big, '#', AIMS_EXEC_MAX_CODE + 1);
	big[AIMS_EXEC_MAX_CODE + 1] = '\0';
	aims_error_clear(&err);
	req.code = big;
	req.code_len = AIMS_EXEC_MAX_CODE + 1;
	assert_int_equal(aims_exec_run(&r, &req, &err), AIMS_ETOOBIG);
	free(big);

	req.code = "print(1)";
	req.code_len = 8;
	aims_error_clear(&err);
	req.timeout_ms = AIMS_EXEC_MAX_TIMEOUT_MS + 1;
	assert_int_equal(aims_exec_run(&r, &req, &err), AIMS_EINVALID);
	assert_non_null(strstr(err.message, "timeout"));
	req.timeout_ms = 0;

	aims_error_clear(&err);
	req.language = (aims_language)42;
	assert_int_equal(aims_exec_run(&r, &req, &err), AIMS_EINVALID);
	req.language = AIMS_LANG_PYTHON;

	/* Package names are checked before anything is installed (installs
	 * themselves: tests/packages). */
	aims_error_clear(&err);
	req.packages = bad_pkgs;
	req.package_count = 1;
	assert_int_equal(aims_exec_run(&r, &req, &err), AIMS_EINVALID);
	assert_non_null(strstr(err.message, "invalid package name '--target=/'"));
	req.packages = NULL;
	req.package_count = 0;

	{
		const char *const env[] = {"BAD NAME=1", NULL};

		aims_error_clear(&err);
		req.env = env;
		assert_int_equal(aims_exec_run(&r, &req, &err), AIMS_EINVALID);
		req.env = NULL;
	}

	/* The e2b backend without a key refuses before any network use: not
	 * ready here (configuration), not a key E2B rejected. */
	aims_error_clear(&err);
	unsetenv("E2B_API_KEY");
	req.backend = AIMS_BACKEND_E2B;
	assert_int_equal(aims_exec_run(&r, &req, &err), AIMS_ENOTREADY);
	assert_non_null(strstr(err.message, "E2B_API_KEY"));
	assert_null(r);
}

static void *cancel_later(void *arg)
{
	int fd = *(int *)arg;
	struct timespec ts = {0, 300 * 1000000};

	nanosleep(&ts, NULL);
	assert_int_equal(write(fd, "x", 1), 1);
	return NULL;
}

static void cancel_fd_stops_the_run(void **state)
{
	int fds[2];
	pthread_t thread;
	run_opts opts = {.timeout_ms = 30000};
	outcome o;
	struct timespec t0, t1;

	(void)state;
	require_sandbox();
	assert_int_equal(pipe(fds), 0);
	opts.cancel_fd = fds[0];
	assert_int_equal(pthread_create(&thread, NULL, cancel_later, &fds[1]), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	run_code(&o, AIMS_LANG_PYTHON, "print('HOSTILE-CANCEL-MARK')\nwhile True: pass", &opts);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pthread_join(thread, NULL);
	assert_int_equal(o.rc, AIMS_ECANCELED);
	assert_null(o.r);
	/* Promptly: well before the 30 s wall time. */
	assert_true((t1.tv_sec - t0.tv_sec) < 3);
	assert_pool_empty(); /* nothing of the canceled run is left */
	close(fds[0]);
	close(fds[1]);
}

typedef struct job {
	int index;
	outcome o;
} job;

static void *run_job(void *arg)
{
	job *j = arg;
	char code[256];
	aims_language langs[] = {AIMS_LANG_PYTHON, AIMS_LANG_NODE, AIMS_LANG_BASH};
	aims_language lang = langs[j->index % 3];

	if (lang == AIMS_LANG_PYTHON)
		snprintf(code, sizeof(code), "import os\nprint('job %d', os.getpid())", j->index);
	else if (lang == AIMS_LANG_NODE)
		snprintf(code, sizeof(code), "console.log('job %d', process.pid)", j->index);
	else
		snprintf(code, sizeof(code), "echo job %d $$", j->index);
	run_code(&j->o, lang, code, NULL);
	return NULL;
}

/* The set-up has steps that race by design (the helper detaches the old
 * root while the init goes on): many runs in a row must all succeed,
 * each in a fresh sandbox. */
static void many_runs_in_a_row(void **state)
{
	(void)state;
	require_sandbox();
	for (int i = 0; i < 60; i++) {
		char code[64], expect[64];
		outcome o;

		snprintf(code, sizeof(code), "echo run %d; ls -a / | grep -c old-root", i);
		snprintf(expect, sizeof(expect), "run %d\n0\n", i);
		run_code(&o, AIMS_LANG_BASH, code, NULL);
		if (o.rc != 0)
			outcome_dump(&o);
		assert_int_equal(o.rc, 0);
		assert_string_equal(o.out, expect);
		outcome_free(&o);
	}
}

static void eight_concurrent_runs(void **state)
{
	pthread_t threads[8];
	job jobs[8];

	(void)state;
	require_sandbox();
	for (int i = 0; i < 8; i++) {
		jobs[i].index = i;
		assert_int_equal(pthread_create(&threads[i], NULL, run_job, &jobs[i]), 0);
	}
	for (int i = 0; i < 8; i++)
		pthread_join(threads[i], NULL);
	for (int i = 0; i < 8; i++) {
		char expect[64];

		if (jobs[i].o.rc != 0)
			outcome_dump(&jobs[i].o);
		assert_int_equal(jobs[i].o.rc, 0);
		/* Each run is pid 3 in its own pid namespace (init is 1, the
		 * helper that detaches the old root 2). */
		snprintf(expect, sizeof(expect), "job %d 3\n", i);
		assert_string_equal(jobs[i].o.out, expect);
		assert_true(jobs[i].o.r->success);
		outcome_free(&jobs[i].o);
	}
	/* Nothing left: the pooled cgroups are empty, and gone after
	 * shutdown. */
	assert_pool_empty();
	if (strcmp(aims_sandbox_limits_backend(), "rlimits") != 0) {
		assert_true(aims_sandbox_pool_size() >= 1);
		assert_true(count_our_cgroups() >= 1);
	}
	aims_sandbox_shutdown();
	assert_int_equal(aims_sandbox_pool_size(), 0);
	assert_int_equal(count_our_cgroups(), 0);
}

/* How limits are enforced is never a silent choice: with cgroups there is
 * no reason to give; with rlimits, a sentence for the operator says why
 * (as root on this cgroup v1 machine: cgroups; as a user: no write access
 * to the v1 groups, which the as-user run checks). */
static void limits_backend_says_why(void **state)
{
	const char *backend, *reason;

	(void)state;
	require_sandbox();
	backend = aims_sandbox_limits_backend();
	reason = aims_sandbox_limits_reason();
	if (strcmp(backend, "rlimits") == 0) {
		assert_non_null(reason);
		assert_true(strlen(reason) > 20);
		if (geteuid() != 0 && access("/sys/fs/cgroup/memory", F_OK) == 0)
			assert_non_null(strstr(reason, "cgroup v1: no write access"));
	} else {
		assert_null(reason);
		assert_true(strcmp(backend, "cgroup v1") == 0 || strcmp(backend, "cgroup v2") == 0);
	}
}

/* The program is the first to go when memory runs short. */
static void oom_score_is_raised(void **state)
{
	outcome o;

	(void)state;
	require_sandbox();
	run_ok(&o, AIMS_LANG_BASH, "cat /proc/self/oom_score_adj", NULL);
	assert_string_equal(o.out, "1000\n");
	outcome_free(&o);
}

/* Runs python3 -c code with cfg's limits but the program; returns the
 * result (asserting the run succeeded). */
static aims_exec_result *run_python_cfg(aims_sandbox_config *cfg, const char *code)
{
	const char *const argv[] = {"/usr/bin/python3", "-c", code, NULL};
	aims_exec_result *r = NULL;
	aims_error err;

	aims_error_clear(&err);
	cfg->program = argv[0];
	cfg->argv = argv;
	if (aims_sandbox_run(&r, cfg, &err) < 0)
		fail_msg("%s", err.message);
	cfg->argv = NULL;
	return r;
}

/* The process limit is the program's: the sandbox's own init and setup
 * helper do not count. With 4, python and three children run; a fourth
 * child is refused (on cgroup v2 it may start once the setup helper is
 * gone, a fifth never). */
static void process_limit_is_the_programs(void **state)
{
	static const char code[] = "import os, time\n"
				   "kids = []\n"
				   "for i in range(%d):\n"
				   "    try:\n"
				   "        pid = os.fork()\n"
				   "    except OSError:\n"
				   "        print('refused', i); break\n"
				   "    if pid == 0:\n"
				   "        time.sleep(5); os._exit(0)\n"
				   "    kids.append(pid)\n"
				   "else:\n"
				   "    print('all', len(kids))\n"
				   "for k in kids: os.kill(k, 9)\n";
	char three[sizeof(code) + 8], five[sizeof(code) + 8];
	aims_sandbox_config cfg;
	aims_exec_result *r;

	(void)state;
	require_sandbox();
	if (strcmp(aims_sandbox_limits_backend(), "rlimits") == 0) {
		/* RLIMIT_NPROC counts every process of the caller's uid on the
		 * host: no exact count holds (security-model.md). */
		fprintf(stderr, "process_limit_is_the_programs: limits are rlimits here: "
				"checked with cgroups only\n");
		return;
	}
	snprintf(three, sizeof(three), code, 3);
	snprintf(five, sizeof(five), code, 5);
	aims_sandbox_config_init(&cfg);
	cfg.pids = 4;
	r = run_python_cfg(&cfg, three);
	assert_string_equal(r->stdout_data, "all 3\n");
	assert_int_equal(r->limit, AIMS_LIMIT_NONE);
	aims_exec_result_free(r);
	r = run_python_cfg(&cfg, five);
	if (strcmp(aims_sandbox_limits_backend(), "cgroup v1") == 0)
		assert_string_equal(r->stdout_data, "refused 3\n");
	else if (strcmp(r->stdout_data, "refused 3\n") != 0)
		assert_string_equal(r->stdout_data, "refused 4\n");
	aims_exec_result_free(r);
}

/* A process in a run's group when the run ends (put there from outside:
 * the run's own die with its pid namespace) is killed, and the group is
 * removed, not given to the next run. */
static void leftover_in_a_group_is_killed(void **state)
{
	char groups[4][PATH_MAX], pid_text[32];
	size_t n;
	outcome o;
	pid_t pid;
	int status;

	(void)state;
	require_sandbox();
	if (geteuid() != 0 || strcmp(aims_sandbox_limits_backend(), "rlimits") == 0) {
		fprintf(stderr, "leftover_in_a_group_is_killed: needs root and cgroups\n");
		return;
	}
	aims_sandbox_shutdown();
	run_ok(&o, AIMS_LANG_BASH, "true", NULL);
	outcome_free(&o);
	assert_int_equal(aims_sandbox_pool_size(), 1);
	n = our_cgroups(groups, 4);
	assert_true(n >= 1);
	if ((pid = fork()) == 0) {
		pause();
		_exit(0);
	}
	assert_true(pid > 0);
	snprintf(pid_text, sizeof(pid_text), "%ld", (long)pid);
	for (size_t i = 0; i < n; i++) {
		char procs[PATH_MAX + 16];

		int fd;

		snprintf(procs, sizeof(procs), "%s/cgroup.procs", groups[i]);
		assert_true((fd = open(procs, O_WRONLY | O_CLOEXEC)) >= 0);
		assert_int_equal(write(fd, pid_text, strlen(pid_text)), (ssize_t)strlen(pid_text));
		close(fd);
	}
	run_ok(&o, AIMS_LANG_BASH, "echo ran", NULL);
	assert_string_equal(o.out, "ran\n");
	outcome_free(&o);
	for (int i = 0; i < 300 && waitpid(pid, &status, WNOHANG) == 0; i++)
		usleep(10000);
	if (kill(pid, 0) == 0 && waitpid(pid, &status, WNOHANG) == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		fail_msg("the process left in the group is still alive");
	}
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	assert_int_equal(aims_sandbox_pool_size(), 0);
	assert_int_equal(count_our_cgroups(), 0);
}

/* A new group's creation removes the groups left by dead processes of our
 * pid namespace (and the names of versions before it), never those of
 * another pid namespace, whose pids are not ours to test. */
static void stale_groups_of_our_namespace_only_are_removed(void **state)
{
	char groups[4][PATH_MAX], base[PATH_MAX], ours[PATH_MAX + 128], theirs[PATH_MAX + 128],
		legacy[PATH_MAX + 128], prefix[64];
	struct stat st;
	size_t n;
	outcome o;
	pid_t dead;
	int status;

	(void)state;
	require_sandbox();
	if (geteuid() != 0 || strcmp(aims_sandbox_limits_backend(), "rlimits") == 0) {
		fprintf(stderr, "stale_groups_of_our_namespace_only_are_removed: needs root and "
				"cgroups\n");
		return;
	}
	run_ok(&o, AIMS_LANG_BASH, "true", NULL);
	outcome_free(&o);
	n = our_cgroups(groups, 4);
	assert_true(n >= 1);
	memcpy(base, groups[0], sizeof(base));
	*strrchr(base, '/') = '\0';
	if ((dead = fork()) == 0)
		_exit(0);
	assert_true(dead > 0);
	assert_int_equal(waitpid(dead, &status, 0), dead);
	test_cgroup_prefix(prefix, sizeof(prefix), (long)dead);
	assert_int_equal(stat("/proc/self/ns/pid", &st), 0);
	snprintf(ours, sizeof(ours), "%s/%s7", base, prefix);
	snprintf(theirs, sizeof(theirs), "%s/aims-%llu-%ld-7", base,
		 (unsigned long long)st.st_ino + 1, (long)dead);
	snprintf(legacy, sizeof(legacy), "%s/aims-%ld-7", base, (long)dead);
	assert_int_equal(mkdir(ours, 0700), 0);
	assert_int_equal(mkdir(theirs, 0700), 0);
	assert_int_equal(mkdir(legacy, 0700), 0);
	aims_sandbox_shutdown(); /* the next run makes a new group */
	run_ok(&o, AIMS_LANG_BASH, "true", NULL);
	outcome_free(&o);
	assert_int_equal(access(ours, F_OK), -1);
	assert_int_equal(access(legacy, F_OK), -1);
	assert_int_equal(access(theirs, F_OK), 0);
	assert_int_equal(rmdir(theirs), 0);
}

/* A step of the setup that fails is named; nothing runs. */
static void setup_failures_are_reported(void **state)
{
	const char *const argv[] = {"/usr/bin/aims-no-such-interpreter", NULL};
	const char *const echo_argv[] = {"/bin/bash", "-c", "echo RAN", NULL};
	aims_sandbox_config cfg;
	aims_exec_result *r = NULL;
	aims_error err;

	(void)state;
	require_sandbox();
	aims_error_clear(&err);
	aims_sandbox_config_init(&cfg);
	cfg.program = argv[0];
	cfg.argv = argv;
	assert_int_equal(aims_sandbox_run(&r, &cfg, &err), AIMS_EUNSUPPORTED);
	assert_null(r);
	assert_non_null(strstr(err.message, "cannot start /usr/bin/aims-no-such-interpreter"));

	aims_error_clear(&err);
	cfg.program = echo_argv[0];
	cfg.argv = echo_argv;
	cfg.layer_dir = "/nonexistent/aims-layer";
	assert_int_equal(aims_sandbox_run(&r, &cfg, &err), AIMS_ESANDBOX);
	assert_null(r);
	assert_non_null(
		strstr(err.message, "sandbox setup failed while mounting the package layer"));
	assert_pool_empty();
}

/* A package layer is mounted read-only at /opt/aims/layer. */
static void layer_is_read_only(void **state)
{
	const char *const argv[] = {"/bin/bash", "-c",
				    "cat /opt/aims/layer/lib/mod.txt; "
				    "(echo x > /opt/aims/layer/new) 2>/dev/null || echo read-only",
				    NULL};
	char *dir = test_tmpdir();
	char *created = test_join(dir, "new");
	aims_sandbox_config cfg;
	aims_exec_result *r = NULL;
	aims_error err;
	struct stat st;

	(void)state;
	require_sandbox();
	test_write_str(dir, "lib/mod.txt", "from the layer\n");
	/* The sandbox user (host nobody) must be able to traverse it. */
	assert_int_equal(chmod(dir, 0755), 0);
	aims_error_clear(&err);
	aims_sandbox_config_init(&cfg);
	cfg.program = argv[0];
	cfg.argv = argv;
	cfg.layer_dir = dir;
	assert_int_equal(aims_sandbox_run(&r, &cfg, &err), 0);
	assert_string_equal(r->stdout_data, "from the layer\nread-only\n");
	aims_exec_result_free(r);
	assert_int_equal(stat(created, &st), -1);
	test_rmtree(dir);
	free(created);
	free(dir);
}

/* The caller's signal dispositions and mask do not reach the program: a
 * server that ignores SIGPIPE and blocks SIGTERM in its threads. */
/* The install step's options (packages): a writable layer, extra
 * read-only mounts, the host's network. Off by default; bad mounts are
 * refused before anything starts. */
static void install_options(void **state)
{
	const char *const argv[] = {
		"/bin/bash", "-c",
		"echo built > /opt/aims/layer/made; cat /etc/aims-extra/conf; "
		"(echo x > /etc/aims-extra/conf) 2>/dev/null || echo conf-read-only; pwd; "
		"(exec 3<>/dev/tcp/127.0.0.1/$PORT && echo reached) 2>/dev/null || echo "
		"unreachable",
		NULL};
	char *dir = test_tmpdir(), *layer = test_join(dir, "layer"),
	     *extra = test_join(dir, "extra");
	char *made = test_join(layer, "made"), port_env[32], expected[256];
	const char *env[] = {"PATH=/usr/bin:/bin", port_env, NULL};
	aims_sandbox_bind binds[] = {{extra, "/etc/aims-extra"}};
	aims_sandbox_bind bad[] = {{extra, "/etc/../root"}};
	struct sockaddr_in addr;
	socklen_t alen = sizeof(addr);
	aims_sandbox_config cfg;
	aims_exec_result *r = NULL;
	aims_error err;
	int listener;

	(void)state;
	require_sandbox();
	test_write_str(dir, "extra/conf", "extra config\n");
	assert_int_equal(mkdir(layer, 0777), 0);
	assert_int_equal(chmod(layer, 0777), 0); /* the sandbox user writes it */
	assert_int_equal(chmod(dir, 0755), 0);
	listener = socket(AF_INET, SOCK_STREAM, 0);
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(listener, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(listener, 4), 0);
	assert_int_equal(getsockname(listener, (struct sockaddr *)&addr, &alen), 0);
	snprintf(port_env, sizeof(port_env), "PORT=%u", (unsigned)ntohs(addr.sin_port));

	aims_sandbox_config_init(&cfg);
	assert_false(cfg.layer_writable);
	assert_false(cfg.share_network);
	assert_int_equal(cfg.bind_count, 0);
	cfg.program = argv[0];
	cfg.argv = argv;
	cfg.env = env;
	cfg.layer_dir = layer;
	cfg.layer_writable = true;
	cfg.binds = binds;
	cfg.bind_count = 1;
	cfg.start_dir = "/opt/aims/layer";
	aims_error_clear(&err);
	assert_int_equal(aims_sandbox_run(&r, &cfg, &err), 0);
	assert_string_equal(r->stdout_data,
			    "extra config\nconf-read-only\n/opt/aims/layer\nunreachable\n");
	aims_exec_result_free(r);
	{ /* the run wrote into the layer on the host */
		char *text = NULL;
		size_t len;

		assert_int_equal(aims_file_read(&text, &len, made, 64, NULL), 0);
		assert_string_equal(text, "built\n");
		free(text);
	}

	cfg.share_network = true; /* the host's network: loopback too */
	aims_error_clear(&err);
	assert_int_equal(aims_sandbox_run(&r, &cfg, &err), 0);
	snprintf(expected, sizeof(expected),
		 "extra config\nconf-read-only\n/opt/aims/layer\nreached\n");
	assert_string_equal(r->stdout_data, expected);
	aims_exec_result_free(r);
	close(listener);

	cfg.share_network = false;
	cfg.binds = bad;
	aims_error_clear(&err);
	assert_int_equal(aims_sandbox_run(&r, &cfg, &err), AIMS_EINVALID);
	assert_non_null(strstr(err.message, "without '..'"));
	bad[0].inside = "/etc/aims-extra";
	bad[0].host = "/nonexistent/aims-extra";
	aims_error_clear(&err);
	assert_int_equal(aims_sandbox_run(&r, &cfg, &err), AIMS_EINVALID);
	assert_non_null(strstr(err.message, "/nonexistent/aims-extra"));
	cfg.binds = NULL;
	cfg.bind_count = 0;
	cfg.layer_dir = NULL;
	aims_error_clear(&err);
	assert_int_equal(aims_sandbox_run(&r, &cfg, &err), AIMS_EINVALID);
	assert_non_null(strstr(err.message, "writable layer needs a layer_dir"));
	assert_pool_empty();
	test_rmtree(dir);
	free(made);
	free(layer);
	free(extra);
	free(dir);
}

static void signals_start_clean(void **state)
{
	struct sigaction ignore, old;
	sigset_t block, old_mask;
	outcome o;

	(void)state;
	require_sandbox();
	memset(&ignore, 0, sizeof(ignore));
	ignore.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &ignore, &old);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old_mask);
	run_ok(&o, AIMS_LANG_BASH, "grep -E '^Sig(Blk|Ign)' /proc/self/status; yes | head -c 3",
	       NULL);
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	sigaction(SIGPIPE, &old, NULL);
	assert_string_equal(o.out, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\ny\ny");
	assert_true(o.r->success);
	outcome_free(&o);
}

/* Limits only the sandbox configuration exposes: CPU time and file size. */
static void cpu_time_and_file_size_limits(void **state)
{
	const char *const cpu_argv[] = {"/bin/bash", "-c", "while :; do :; done", NULL};
	const char *const fsize_argv[] = {"/bin/bash", "-c",
					  "head -c 5000000 /dev/zero > big; echo $?", NULL};
	aims_sandbox_config cfg;
	aims_exec_result *r = NULL;
	aims_error err;

	(void)state;
	require_sandbox();
	aims_error_clear(&err);
	aims_sandbox_config_init(&cfg);
	cfg.program = "/bin/bash";
	cfg.argv = cpu_argv;
	cfg.cpu_ms = 1000;
	cfg.wall_ms = 10000;
	assert_int_equal(aims_sandbox_run(&r, &cfg, &err), 0);
	assert_int_equal(r->limit, AIMS_LIMIT_CPU_TIME);
	assert_string_equal(r->error, "killed: CPU time limit of 1 s reached");
	assert_false(r->timed_out);
	assert_true(r->duration_ms < 5000);
	aims_exec_result_free(r);

	aims_sandbox_config_init(&cfg);
	cfg.program = "/bin/bash";
	cfg.argv = fsize_argv;
	cfg.file_size = 1 << 20;
	assert_int_equal(aims_sandbox_run(&r, &cfg, &err), 0);
	/* head is killed by SIGXFSZ (exit 128 + 25) and the file stays at
	 * the limit; bash itself goes on. */
	assert_string_equal(r->stdout_data, "153\n");
	aims_exec_result_free(r);

	/* A bad configuration is refused before anything runs. */
	aims_sandbox_config_init(&cfg);
	cfg.program = "bash";
	cfg.argv = cpu_argv;
	assert_int_equal(aims_sandbox_run(&r, &cfg, &err), AIMS_EINVALID);
	aims_error_clear(&err);
	cfg.program = "/bin/bash";
	cfg.wall_ms = AIMS_SANDBOX_MAX_WALL_MS + 1;
	assert_int_equal(aims_sandbox_run(&r, &cfg, &err), AIMS_EINVALID);
	aims_error_clear(&err);
	cfg.wall_ms = 1000;
	cfg.file_name = "../escape";
	assert_int_equal(aims_sandbox_run(&r, &cfg, &err), AIMS_EINVALID);
}

static void json_result_has_the_contract_keys(void **state)
{
	static const char *const keys[] = {"stdout",  "stderr",	    "exitCode", "error",
					   "success", "durationMs", "timedOut", "truncated",
					   "backend", "limit"};
	outcome o;
	cJSON *json, *item;

	(void)state;
	require_sandbox();
	run_ok(&o, AIMS_LANG_BASH, "printf 'a\\000b\\377\\n'; exit 3", NULL);
	json = aims_json_exec_result(o.r);
	assert_non_null(json);
	assert_int_equal(cJSON_GetArraySize(json), 10);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_non_null(cJSON_GetObjectItemCaseSensitive(json, keys[i]));
	item = cJSON_GetObjectItemCaseSensitive(json, "stdout");
	/* NUL and the invalid byte became U+FFFD. */
	assert_string_equal(item->valuestring, "a\xef\xbf\xbd"
					       "b\xef\xbf\xbd\n");
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(json, "exitCode")->valueint, 3);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(json, "success")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(json, "error")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(json, "limit")));
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(json, "backend")->valuestring,
			    "local");
	cJSON_Delete(json);
	outcome_free(&o);
}

int main(void)
{
	const char *filter = getenv("AIMS_TEST_FILTER");

	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hello_python),
		cmocka_unit_test(hello_node),
		cmocka_unit_test(hello_bash),
		cmocka_unit_test(exit_codes_and_stderr),
		cmocka_unit_test(python_exception_is_a_failure),
		cmocka_unit_test(stdin_is_fed),
		cmocka_unit_test(unicode_output),
		cmocka_unit_test(large_output_is_truncated),
		cmocka_unit_test(env_from_request_only),
		cmocka_unit_test(request_checks),
		cmocka_unit_test(cancel_fd_stops_the_run),
		cmocka_unit_test(setup_failures_are_reported),
		cmocka_unit_test(process_limit_is_the_programs),
		cmocka_unit_test(leftover_in_a_group_is_killed),
		cmocka_unit_test(stale_groups_of_our_namespace_only_are_removed),
		cmocka_unit_test(layer_is_read_only),
		cmocka_unit_test(install_options),
		cmocka_unit_test(signals_start_clean),
		cmocka_unit_test(cpu_time_and_file_size_limits),
		cmocka_unit_test(json_result_has_the_contract_keys),
		cmocka_unit_test(limits_backend_says_why),
		cmocka_unit_test(oom_score_is_raised),
		cmocka_unit_test(many_runs_in_a_row),
		cmocka_unit_test(eight_concurrent_runs),
	};

	if (filter)
		cmocka_set_test_filter(filter);
	return cmocka_run_group_tests(tests, setup, NULL);
}

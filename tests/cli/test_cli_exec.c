/*
 * test_cli_exec.c - `aims exec` against the real binary: output and exit
 * code passed through, code from FILE, - and -c, --stdin, limits reported
 * with exit 1, usage errors with exit 2, --json, and a clear refusal when
 * user namespaces are missing.
 */
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "aims/sandbox.h"
#include "support.h"

/* The local backend whatever the environment says (an E2B key in CI
 * would otherwise pick e2b for `auto`). */
static const char *const local_env[] = {"E2B_API_KEY=", "AIMS_CODE_BACKEND=", NULL};

static void require_sandbox(void)
{
	test_require_sandbox();
}

static void output_and_exit_code_pass_through(void **state)
{
	test_run run;

	(void)state;
	require_sandbox();
	test_run_aims(&run, NULL, NULL, local_env,
		      (const char *const[]){"exec", "-l", "bash", "-c",
					    "echo out; echo err >&2; exit 7", NULL});
	assert_int_equal(run.status, 7);
	assert_string_equal(run.out, "out\n");
	assert_string_equal(run.err, "err\n");
	test_run_free(&run);
	test_run_aims(&run, NULL, NULL, local_env,
		      (const char *const[]){"exec", "--language", "js", "--code",
					    "console.log(6 * 7)", NULL});
	assert_int_equal(run.status, 0);
	assert_string_equal(run.out, "42\n");
	test_run_free(&run);
}

static void code_from_file_and_stdin(void **state)
{
	char *dir = test_tmpdir();
	char *file = test_join(dir, "main.py");
	char *input = test_join(dir, "input.txt");
	test_run run;

	(void)state;
	require_sandbox();
	test_write_str(dir, "main.py", "import sys\nprint(sys.stdin.read().upper(), end='')\n");
	test_write_str(dir, "input.txt", "from a file\n");
	test_run_aims(&run, NULL, NULL, local_env,
		      (const char *const[]){"exec", "-l", "python", file, "--stdin", input, NULL});
	assert_int_equal(run.status, 0);
	assert_string_equal(run.out, "FROM A FILE\n");
	test_run_free(&run);
	/* The code from our stdin. */
	test_run_aims(&run, NULL, "print('code from stdin')", local_env,
		      (const char *const[]){"exec", "-l", "python", "-", NULL});
	assert_int_equal(run.status, 0);
	assert_string_equal(run.out, "code from stdin\n");
	test_run_free(&run);
	/* The program's input from our stdin. */
	test_run_aims(&run, NULL, "piped\n", local_env,
		      (const char *const[]){"exec", "-l", "bash", "-c", "tr a-z A-Z", "--stdin",
					    "-", NULL});
	assert_int_equal(run.status, 0);
	assert_string_equal(run.out, "PIPED\n");
	test_run_free(&run);
	test_rmtree(dir);
	free(dir);
	free(file);
	free(input);
}

static void limits_exit_1_with_a_sentence(void **state)
{
	test_run run;

	(void)state;
	require_sandbox();
	test_run_aims(&run, NULL, NULL, local_env,
		      (const char *const[]){"exec", "-l", "bash", "--timeout", "500", "-c",
					    "echo started; while :; do :; done", NULL});
	assert_int_equal(run.status, 1);
	assert_string_equal(run.out, "started\n");
	assert_string_equal(run.err, "aims: exec: killed: wall time limit of 500 ms reached\n");
	test_run_free(&run);
	test_run_aims(&run, NULL, NULL, local_env,
		      (const char *const[]){"exec", "-l", "python", "--memory", "32", "-c",
					    "x = bytearray(200 << 20)", NULL});
	assert_int_equal(run.status, 1);
	assert_string_equal(run.err, "aims: exec: killed: memory limit of 32 MiB reached\n");
	test_run_free(&run);
}

static void usage_errors_exit_2(void **state)
{
	static const char *const cases[][8] = {
		{"exec", "-c", "echo hi", NULL},
		{"exec", "-l", "cobol", "-c", "x", NULL},
		{"exec", "-l", "bash", NULL},
		{"exec", "-l", "bash", "-c", "x", "file.sh", NULL},
		{"exec", "-l", "bash", "--timeout", "0", "-c", "x", NULL},
		{"exec", "-l", "bash", "--timeout", "300001", "-c", "x", NULL},
		{"exec", "-l", "bash", "--timeout", "12abc", "-c", "x", NULL},
		{"exec", "-l", "bash", "--memory", "1", "-c", "x", NULL},
		{"exec", "-l", "bash", "--backend", "cloud", "-c", "x", NULL},
		{"exec", "-l", "bash", "--frobnicate", "-c", "x", NULL},
		{"exec", "-l", "bash", "--stdin", "-", "-", NULL},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		test_run run;

		test_run_aims(&run, NULL, NULL, local_env, cases[i]);
		if (run.status != 2)
			fail_msg("case %zu: status %d, stderr %s", i, run.status, run.err);
		assert_non_null(strstr(run.err, "aims: exec: "));
		assert_string_equal(run.out, "");
		test_run_free(&run);
	}
}

static void bad_requests_exit_1(void **state)
{
	test_run run;
	char *dir = test_tmpdir();
	char *missing = test_join(dir, "missing.py");

	(void)state;
	test_run_aims(&run, NULL, NULL, local_env,
		      (const char *const[]){"exec", "-l", "python", "-c", "   ", NULL});
	assert_int_equal(run.status, 1);
	assert_string_equal(run.err, "aims: exec: the code is empty\n");
	test_run_free(&run);
	test_run_aims(&run, NULL, NULL, local_env,
		      (const char *const[]){"exec", "-l", "python", missing, NULL});
	assert_int_equal(run.status, 1);
	assert_non_null(strstr(run.err, "aims: exec: "));
	test_run_free(&run);
	test_run_aims(&run, NULL, NULL, (const char *const[]){"E2B_API_KEY=", NULL},
		      (const char *const[]){"exec", "-l", "python", "--backend", "e2b", "-c",
					    "print(1)", NULL});
	assert_int_equal(run.status, 1);
	assert_non_null(strstr(run.err, "aims: exec: E2B_API_KEY is not set"));
	test_run_free(&run);
	test_rmtree(dir);
	free(dir);
	free(missing);
}

static void json_output(void **state)
{
	test_run run;
	cJSON *json;

	(void)state;
	require_sandbox();
	test_run_aims(
		&run, NULL, NULL, local_env,
		(const char *const[]){"exec", "-l", "python", "--json", "-c", "print('hi')", NULL});
	assert_int_equal(run.status, 0);
	json = cJSON_Parse(run.out);
	assert_non_null(json);
	assert_int_equal(cJSON_GetArraySize(json), 10);
	assert_string_equal(cJSON_GetObjectItem(json, "stdout")->valuestring, "hi\n");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(json, "success")));
	assert_int_equal(cJSON_GetObjectItem(json, "exitCode")->valueint, 0);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(json, "error")));
	assert_string_equal(cJSON_GetObjectItem(json, "backend")->valuestring, "local");
	cJSON_Delete(json);
	test_run_free(&run);

	test_run_aims(&run, NULL, NULL, local_env,
		      (const char *const[]){"exec", "-l", "node", "--json", "--timeout", "300",
					    "-c", "for(;;){}", NULL});
	assert_int_equal(run.status, 1);
	json = cJSON_Parse(run.out);
	assert_non_null(json);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(json, "timedOut")));
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(json, "success")));
	assert_string_equal(cJSON_GetObjectItem(json, "limit")->valuestring, "wall-time");
	assert_string_equal(cJSON_GetObjectItem(json, "error")->valuestring,
			    "killed: wall time limit of 300 ms reached");
	cJSON_Delete(json);
	test_run_free(&run);
}

/* Runs the binary in a user namespace whose own limit of user namespaces
 * is 0: the sandbox must refuse, naming what is missing, and run nothing. */
static void refuses_without_user_namespaces(void **state)
{
	const char *unshare = "/usr/bin/unshare";
	char *const argv[] = {(char *)unshare,
			      "-Ur",
			      "/bin/sh",
			      "-c",
			      "echo 0 > /proc/sys/user/max_user_namespaces && "
			      "exec \"$0\" exec --backend local -l bash -c 'echo RAN'",
			      (char *)AIMS_BINARY,
			      NULL};
	extern char **environ;
	posix_spawn_file_actions_t fa;
	int out[2], status;
	char buf[4096];
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	(void)state;
	if (access(unshare, X_OK) < 0) {
		if (getenv("AIMS_MUST_WORK"))
			fail_msg("%s is missing", unshare);
		fprintf(stderr, "SKIPPED: %s is missing\n", unshare);
		skip();
	}
	assert_int_equal(pipe(out), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, out[1], 2);
	posix_spawn_file_actions_addclose(&fa, out[0]);
	assert_int_equal(posix_spawn(&pid, unshare, &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(out[1]);
	while ((n = read(out[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	close(out[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (strstr(buf, "unshare failed")) {
		if (getenv("AIMS_MUST_WORK"))
			fail_msg("cannot create the test's user namespace: %s", buf);
		fprintf(stderr, "SKIPPED: %s", buf);
		skip();
	}
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	assert_null(strstr(buf, "RAN"));
	assert_non_null(strstr(buf, "aims: exec: user namespaces are not available"));
	assert_non_null(strstr(buf, "refusing to run code unsandboxed"));
}

/* AIMS_REQUIRE_CGROUPS=1: a run whose limits would be rlimits is refused
 * with the reason, and nothing runs; with cgroups it runs. */
static void cgroups_can_be_required(void **state)
{
	const char *const env[] = {"AIMS_REQUIRE_CGROUPS=1",
				   "E2B_API_KEY=", "AIMS_CODE_BACKEND=", NULL};
	const char *const argv[] = {"exec", "-l", "bash", "-c", "echo RAN", NULL};
	bool rlimits;
	test_run run;

	(void)state;
	require_sandbox();
	rlimits = strcmp(aims_sandbox_limits_backend(), "rlimits") == 0;
	test_run_aims(&run, NULL, NULL, env, argv);
	if (rlimits) {
		assert_int_equal(run.status, 1);
		assert_string_equal(run.out, "");
		assert_non_null(strstr(run.err, "AIMS_REQUIRE_CGROUPS=1, but cgroups cannot "
						"enforce limits here: cgroup v"));
	} else {
		assert_int_equal(run.status, 0);
		assert_string_equal(run.out, "RAN\n");
	}
	test_run_free(&run);
	/* A value that is neither 1 nor 0 is a mistake said, not ignored. */
	{
		const char *const bad_env[] = {"AIMS_REQUIRE_CGROUPS=yes",
					       "E2B_API_KEY=", "AIMS_CODE_BACKEND=", NULL};

		test_run_aims(&run, NULL, NULL, bad_env, argv);
		assert_int_equal(run.status, 1);
		assert_string_equal(run.out, "");
		assert_non_null(strstr(run.err, "AIMS_REQUIRE_CGROUPS must be 1 (require cgroups) "
						"or 0, not 'yes'"));
		test_run_free(&run);
	}
	if (geteuid() != 0)
		return;
	/* uid 1000, in root's cgroup: no cgroup of its own to write to, on
	 * v1 as on v2. */
	test_run_aims_as_user(&run, env, argv);
	assert_int_equal(run.status, 1);
	assert_string_equal(run.out, "");
	assert_non_null(strstr(run.err, "AIMS_REQUIRE_CGROUPS=1, but cgroups cannot enforce "
					"limits here: cgroup v"));
	test_run_free(&run);
}

static int count_cgroups_of(pid_t pid)
{
	char prefix[64];

	test_cgroup_prefix(prefix, sizeof(prefix), (long)pid);
	return test_count_dirs_with_prefix("/sys/fs/cgroup", prefix, 6);
}

/* The caller is killed mid-run: the sandbox dies with it (its init has
 * PR_SET_PDEATHSIG and is the pid namespace's init), and the next run of
 * aims removes the dead caller's cgroups. */
static void caller_killed_leaves_nothing(void **state)
{
	/* The marker is built by bash, so our argv does not contain it. */
	char *const argv[] = {(char *)AIMS_BINARY,
			      "exec",
			      "--backend",
			      "local",
			      "-l",
			      "bash",
			      "-c",
			      "sleep $((4245)) & sleep $((4245)); echo not reached",
			      NULL};
	extern char **environ;
	test_run run;
	pid_t pid;
	int status, started;

	(void)state;
	require_sandbox();
	assert_int_equal(posix_spawn(&pid, AIMS_BINARY, NULL, NULL, argv, environ), 0);
	for (int i = 0; i < 100 && test_count_processes("sleep 4245") < 2; i++)
		usleep(20000);
	started = test_count_processes("sleep 4245");
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(started, 2);
	for (int i = 0; i < 100 && test_count_processes("sleep 4245") > 0; i++)
		usleep(20000);
	assert_int_equal(test_count_processes("sleep 4245"), 0);
	/* Its cgroups are left (it had no chance to clean up) until the
	 * next aims process sweeps them. */
	test_run_aims(&run, NULL, NULL, local_env,
		      (const char *const[]){"exec", "-l", "bash", "-c", "true", NULL});
	assert_int_equal(run.status, 0);
	test_run_free(&run);
	assert_int_equal(count_cgroups_of(pid), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(output_and_exit_code_pass_through),
		cmocka_unit_test(code_from_file_and_stdin),
		cmocka_unit_test(limits_exit_1_with_a_sentence),
		cmocka_unit_test(usage_errors_exit_2),
		cmocka_unit_test(bad_requests_exit_1),
		cmocka_unit_test(json_output),
		cmocka_unit_test(refuses_without_user_namespaces),
		cmocka_unit_test(cgroups_can_be_required),
		cmocka_unit_test(caller_killed_leaves_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

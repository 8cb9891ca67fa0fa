/*
 * test_cli_serve.c - `aims serve` as a user starts it: the token from a
 * file or AIMS_API_TOKEN, the refusal to listen beyond loopback without
 * one, bad options, the access log (no bodies, no tokens) and the error
 * log, which --quiet keeps.
 */
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.h"

extern char **environ;

typedef struct server_proc {
	pid_t pid;
	int err_fd;
	unsigned port;
	char log[16384];
	size_t len;
} server_proc;

/* Starts `aims serve ARGS` with extra environment entries; reads stderr
 * until the port is printed (or the process ends). */
static void spawn_serve(server_proc *s, const char *const *args, const char *const *env)
{
	char *argv[32];
	char *envp[256];
	size_t n = 0, e = 0;
	int pipefd[2];
	posix_spawn_file_actions_t fa;

	memset(s, 0, sizeof(*s));
	argv[n++] = (char *)AIMS_BINARY;
	argv[n++] = "serve";
	for (const char *const *a = args; *a && n < 31; a++)
		argv[n++] = (char *)*a;
	argv[n] = NULL;
	for (const char *const *v = env; v && *v && e < 200; v++)
		envp[e++] = (char *)*v;
	for (char **v = environ; *v && e < 255; v++)
		if (strncmp(*v, "AIMS_API_TOKEN=", 15) != 0)
			envp[e++] = *v;
	envp[e] = NULL;
	assert_int_equal(pipe(pipefd), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
	posix_spawn_file_actions_addclose(&fa, pipefd[0]);
	assert_int_equal(posix_spawn(&s->pid, AIMS_BINARY, &fa, NULL, argv, envp), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	s->err_fd = pipefd[0];
	while (!s->port && s->len + 1 < sizeof(s->log)) {
		ssize_t r = read(s->err_fd, s->log + s->len, sizeof(s->log) - 1 - s->len);
		const char *at;

		if (r <= 0)
			break;
		s->len += (size_t)r;
		s->log[s->len] = '\0';
		if ((at = strstr(s->log, "on port ")))
			s->port = (unsigned)strtoul(at + 8, NULL, 10);
	}
}

/* Stops it with SIGTERM; returns its exit status; the whole log is in s->log. */
static int stop_serve(server_proc *s)
{
	int status;

	kill(s->pid, SIGTERM);
	assert_int_equal(waitpid(s->pid, &status, 0), s->pid);
	for (ssize_t r; s->len + 1 < sizeof(s->log) &&
			(r = read(s->err_fd, s->log + s->len, sizeof(s->log) - 1 - s->len)) > 0;)
		s->len += (size_t)r;
	s->log[s->len] = '\0';
	close(s->err_fd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static long get_status(unsigned port, const char *path, const char *auth)
{
	char url[128];
	test_http_response resp;
	long status;

	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port, path);
	test_http(&resp, "GET", url, (const char *const[]){auth, NULL}, NULL, 0, 5000);
	status = resp.status;
	test_http_free(&resp);
	return status;
}

static void test_token_file(void **state)
{
	char *dir = test_tmpdir();
	char *file = test_join(dir, "token");
	server_proc s;

	(void)state;
	test_write_str(dir, "token", "file-s3cret-token\n");
	spawn_serve(&s,
		    (const char *const[]){"--listen", "127.0.0.1:0", "--token-file", file,
					  "--skills", AIMS_SOURCE_DIR "/skills", NULL},
		    NULL);
	assert_true(s.port > 0);
	assert_non_null(strstr(s.log, "(token required)"));
	assert_int_equal(get_status(s.port, "/api/skills", NULL), 401);
	assert_int_equal(get_status(s.port, "/api/skills", "Authorization: Bearer wrong"), 401);
	assert_int_equal(
		get_status(s.port, "/api/skills", "Authorization: Bearer file-s3cret-token"), 200);
	assert_int_equal(get_status(s.port, "/healthz", NULL), 200);
	assert_int_equal(stop_serve(&s), 0);
	/* The access log has the requests, never the token. */
	assert_non_null(strstr(s.log, "GET /api/skills 401"));
	assert_non_null(strstr(s.log, "GET /api/skills 200"));
	assert_null(strstr(s.log, "s3cret"));
	test_rmtree(dir);
	free(file);
	free(dir);
}

/* Under --quiet there is no access log, but a 500's message (which the
 * client does not get) still reaches stderr. */
static void test_quiet_still_logs_internal_errors(void **state)
{
	static const char body[] = "{\"code\": \"print(1)\", \"language\": \"python\", "
				   "\"packages\": [\"aims-quiet-demo==1.0\"]}";
	char *dir = test_tmpdir(), env[4200], url[128];
	test_http_response resp;
	server_proc s;

	(void)state;
	test_write_str(dir, "a-file", "not a directory\n");
	snprintf(env, sizeof(env), "AIMS_CACHE_DIR=%s/a-file/cache", dir);
	spawn_serve(&s, (const char *const[]){"--listen", "127.0.0.1:0", "--quiet", NULL},
		    (const char *const[]){env, NULL});
	assert_true(s.port > 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/api/code/execute", s.port);
	test_http(&resp, "POST", url, (const char *const[]){"Content-Type: application/json", NULL},
		  body, strlen(body), 30000);
	assert_int_equal(resp.status, 500);
	assert_null(strstr(resp.body, dir));
	test_http_free(&resp);
	assert_int_equal(stop_serve(&s), 0);
	assert_non_null(strstr(s.log, "aims: serve: POST /api/code/execute: 500: "));
	assert_non_null(strstr(s.log, "/a-file/cache"));
	assert_null(strstr(s.log, "POST /api/code/execute 500")); /* no access log */
	test_rmtree(dir);
	free(dir);
}

static void test_token_env_and_listen_rules(void **state)
{
	server_proc s;

	(void)state;
	spawn_serve(&s, (const char *const[]){"--listen", "127.0.0.1:0", "--quiet", NULL},
		    (const char *const[]){"AIMS_API_TOKEN=env-token-123", NULL});
	assert_true(s.port > 0);
	assert_int_equal(get_status(s.port, "/api/tools", NULL), 401);
	assert_int_equal(get_status(s.port, "/api/tools", "Authorization: Bearer env-token-123"),
			 200);
	assert_int_equal(stop_serve(&s), 0);
	assert_null(strstr(s.log, "GET /api/tools")); /* --quiet */

	/* Beyond loopback without a token: refused before listening. */
	spawn_serve(&s, (const char *const[]){"--listen", "0.0.0.0:0", NULL}, NULL);
	assert_int_equal(s.port, 0);
	assert_int_equal(stop_serve(&s), 2);
	assert_non_null(strstr(s.log, "refusing to listen on 0.0.0.0:0 without a token"));

	spawn_serve(&s, (const char *const[]){"--listen", "nowhere", NULL}, NULL);
	assert_int_equal(stop_serve(&s), 2);
	assert_non_null(strstr(s.log, "is not ADDR:PORT"));

	spawn_serve(&s, (const char *const[]){"--max-concurrency", "0", NULL}, NULL);
	assert_int_equal(stop_serve(&s), 2);
	assert_non_null(strstr(s.log, "needs a positive number"));

	spawn_serve(&s, (const char *const[]){"--token-file", "/nonexistent/token", NULL}, NULL);
	assert_int_equal(stop_serve(&s), 2);
	assert_non_null(strstr(s.log, "token file"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_file),
		cmocka_unit_test(test_token_env_and_listen_rules),
		cmocka_unit_test(test_quiet_still_logs_internal_errors),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * loop.c - the sandbox's cost inside a long-running process (the HTTP
 * server's case): N hello runs through aims_exec_run, one after the other
 * (the cgroup pool warm), against N bare runs of the same interpreter
 * started with posix_spawn, interleaved so machine noise hits both alike.
 * Prints the medians and their ratio.
 * Usage: exec-loop LANG N
 */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "aims/exec.h"
#include "aims/sandbox.h"

extern char **environ;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name, *code, *program, *flag;
	} langs[] = {
		{"python", "print('hello')", "/usr/bin/python3", "-c"},
		{"node", "console.log('hello')", "/usr/bin/node", "-e"},
		{"bash", "echo hello", "/bin/bash", "-c"},
	};
	char *clean_env[] = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/tmp", "LANG=C.UTF-8",
			     NULL};
	int n = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 30;
	double *bare, *boxed;
	size_t l = 0;

	if (argc < 2 || n < 1 || n > 10000)
		return 2;
	while (l < 3 && strcmp(langs[l].name, argv[1]) != 0)
		l++;
	if (l == 3)
		return 2;
	bare = calloc((size_t)n, sizeof(*bare));
	boxed = calloc((size_t)n, sizeof(*boxed));
	if (!bare || !boxed)
		return 2;
	for (int i = -3; i < n; i++) { /* three warm-up rounds */
		char *args[] = {(char *)langs[l].program, (char *)langs[l].flag,
				(char *)langs[l].code, NULL};
		posix_spawn_file_actions_t fa;
		aims_exec_request req;
		aims_exec_result *r = NULL;
		aims_error err;
		double t0;
		pid_t pid;
		int status;

		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", 1, 0);
		t0 = now_ms();
		if (posix_spawn(&pid, args[0], &fa, NULL, args, clean_env) != 0 ||
		    waitpid(pid, &status, 0) != pid)
			return 1;
		if (i >= 0)
			bare[i] = now_ms() - t0;
		posix_spawn_file_actions_destroy(&fa);

		aims_exec_request_init(&req);
		aims_error_clear(&err);
		req.language = (aims_language)(l + 1);
		req.code = langs[l].code;
		req.code_len = strlen(req.code);
		req.backend = AIMS_BACKEND_LOCAL;
		t0 = now_ms();
		if (aims_exec_run(&r, &req, &err) < 0 || !r->success) {
			fprintf(stderr, "exec-loop: %s\n", err.message);
			return 1;
		}
		if (i >= 0)
			boxed[i] = now_ms() - t0;
		aims_exec_result_free(r);
	}
	qsort(bare, (size_t)n, sizeof(*bare), cmp);
	qsort(boxed, (size_t)n, sizeof(*boxed), cmp);
	printf("%-7s %10.2f %10.2f %10.2fx\n", langs[l].name, bare[n / 2], boxed[n / 2],
	       boxed[n / 2] / bare[n / 2]);
	aims_sandbox_shutdown();
	free(bare);
	free(boxed);
	return 0;
}

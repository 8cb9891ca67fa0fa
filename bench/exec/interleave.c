/*
 * interleave.c - whole commands timed round-robin: run 1 of each, then run
 * 2 of each, and so on, so that drift in the machine's load hits every
 * command alike (hyperfine runs each command's runs back to back, and on a
 * shared machine the blocks drift apart). Prints each command's median and
 * its ratio to the first.
 * Usage: exec-interleave N NAME CMD... -- NAME CMD... [-- ...]
 * (each CMD is an argv: program path and its arguments; stdout and stderr
 * go to /dev/null)
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_COMMANDS 8

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

	return (x > y) - (x < y);
}

/* Runs argv once; returns its wall time in ms, or -1 when it failed. */
static double run_once(char **argv, posix_spawn_file_actions_t *fa)
{
	double start = now_ms();
	pid_t pid;
	int status;

	if (posix_spawnp(&pid, argv[0], fa, NULL, argv, environ) != 0)
		return -1;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -1;
	return now_ms() - start;
}

int main(int argc, char **argv)
{
	char *names[MAX_COMMANDS], **cmds[MAX_COMMANDS];
	double *times[MAX_COMMANDS];
	posix_spawn_file_actions_t fa;
	long n;
	int count = 0;

	if (argc < 4 || (n = strtol(argv[1], NULL, 10)) < 1) {
		fprintf(stderr, "usage: exec-interleave N NAME CMD... [-- NAME CMD...]...\n");
		return 2;
	}
	for (int i = 2; i < argc && count < MAX_COMMANDS;) {
		names[count] = argv[i++];
		cmds[count] = &argv[i];
		while (i < argc && strcmp(argv[i], "--") != 0)
			i++;
		if (i < argc)
			argv[i++] = NULL; /* ends this command's argv */
		if (!(times[count] = calloc((size_t)n, sizeof(double))))
			return 2;
		count++;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	for (int w = 0; w < 3; w++) /* warm-up */
		for (int c = 0; c < count; c++)
			run_once(cmds[c], &fa);
	for (long r = 0; r < n; r++)
		for (int c = 0; c < count; c++)
			if ((times[c][r] = run_once(cmds[c], &fa)) < 0) {
				fprintf(stderr, "exec-interleave: %s failed\n", names[c]);
				return 1;
			}
	for (int c = 0; c < count; c++) {
		qsort(times[c], (size_t)n, sizeof(double), cmp);
		printf("%s %.2f\n", names[c], times[c][n / 2]);
		free(times[c]);
	}
	posix_spawn_file_actions_destroy(&fa);
	return 0;
}

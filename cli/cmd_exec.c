/*
 * cmd_exec.c - `aims exec`: run Python, Node.js or Bash code in the local
 * sandbox (or on E2B) and print its output as it is, exiting with the
 * program's exit code; or print the SPEC §7.1 result as JSON.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aims/exec.h"
#include "aims/sandbox.h"
#include "cli.h"

static void help(void)
{
	puts("Usage: aims exec -l LANG [FILE | - | -c CODE] [OPTIONS]\n"
	     "\n"
	     "Runs code in an isolated sandbox: no network, no host files, an\n"
	     "unprivileged user, limited time, memory, processes and output. Prints\n"
	     "what the program printed and exits with its exit code. When a limit\n"
	     "stopped it or cut its output, says so on stderr (aims: exec: ...) and\n"
	     "exits with the program's non-zero code, or 1. Usage errors exit 2.\n"
	     "\n"
	     "Options:\n"
	     "  -l, --language LANG   python, node (javascript, js) or bash (sh)\n"
	     "  -c, --code CODE       the code to run (else FILE, or - for stdin)\n"
	     "  --timeout MS          wall time limit (default 30000, at most 300000)\n"
	     "  --memory MB           memory limit (default 256)\n"
	     "  --stdin FILE          feed FILE to the program's stdin (- : our stdin,\n"
	     "                        unless the code is read from it)\n"
	     "  --backend B           auto (default: e2b when E2B_API_KEY is set),\n"
	     "                        local or e2b\n"
	     "  --json                print the result as JSON (stdout, stderr, exitCode,\n"
	     "                        error, success, durationMs, timedOut, truncated,\n"
	     "                        backend, limit); exit 0 on success, else 1\n"
	     "  -h, --help            show this help");
}

/* Parses a decimal number in [min, max]. */
static int parse_uint(uint32_t *out, const char *text, uint32_t min, uint32_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (!text[0] || text[0] == '-')
		return -1;
	v = strtoull(text, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int read_input(char **out, size_t *len, const char *path, size_t max, const char *what)
{
	aims_error err;
	int rc;

	aims_error_clear(&err);
	if (strcmp(path, "-") == 0) {
		aims_buf buf;
		char chunk[65536];
		ssize_t n;

		aims_buf_init(&buf, max);
		while ((n = read(0, chunk, sizeof(chunk))) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 || (rc = aims_buf_append(&buf, chunk, (size_t)n)) < 0) {
				aims_buf_free(&buf);
				return cli_fail("exec", "cannot read %s from stdin: %s", what,
						n < 0 ? strerror(errno) : "it is too large");
			}
		}
		*len = buf.len;
		if (!(*out = aims_buf_detach(&buf)))
			return cli_fail("exec", "out of memory");
		return 0;
	}
	if ((rc = aims_file_read(out, len, path, max, &err)) < 0)
		return cli_fail("exec", "%s", err.message);
	return 0;
}

static void write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		data += n;
		len -= (size_t)n;
	}
}

int cmd_exec(int argc, char **argv)
{
	static const struct option options[] = {
		{"language", required_argument, NULL, 'l'},
		{"code", required_argument, NULL, 'c'},
		{"timeout", required_argument, NULL, 't'},
		{"memory", required_argument, NULL, 'm'},
		{"stdin", required_argument, NULL, 'i'},
		{"backend", required_argument, NULL, 'b'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	aims_exec_request req;
	aims_exec_result *result = NULL;
	aims_error err;
	const char *lang = NULL, *code_arg = NULL, *stdin_path = NULL, *file = NULL;
	char *code = NULL, *input = NULL;
	size_t code_len = 0, input_len = 0;
	bool json = false;
	int opt, rc, status = EXIT_OK;

	aims_exec_request_init(&req);
	aims_error_clear(&err);
	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "l:c:h", options, NULL)) != -1) {
		switch (opt) {
		case 'l': lang = optarg; break;
		case 'c': code_arg = optarg; break;
		case 't':
			if (parse_uint(&req.timeout_ms, optarg, 1, AIMS_EXEC_MAX_TIMEOUT_MS) < 0)
				return cli_usage_error("exec",
						       "--timeout wants milliseconds from 1 to %u",
						       AIMS_EXEC_MAX_TIMEOUT_MS);
			break;
		case 'm':
			if (parse_uint(&req.memory_mb, optarg,
				       (uint32_t)(AIMS_SANDBOX_MIN_MEMORY >> 20),
				       (uint32_t)(AIMS_SANDBOX_MAX_MEMORY >> 20)) < 0)
				return cli_usage_error("exec",
						       "--memory wants MiB from %llu to %llu",
						       AIMS_SANDBOX_MIN_MEMORY >> 20,
						       AIMS_SANDBOX_MAX_MEMORY >> 20);
			break;
		case 'i': stdin_path = optarg; break;
		case 'b':
			if (aims_backend_parse(&req.backend, optarg, &err) < 0)
				return cli_usage_error("exec", "%s", err.message);
			break;
		case 'j': json = true; break;
		case 'h': help(); return EXIT_OK;
		default:
			return cli_usage_error("exec", "unknown or incomplete option '%s'",
					       argv[optind - 1]);
		}
	}
	if (!lang)
		return cli_usage_error("exec", "missing -l LANG (python, node or bash)");
	if (aims_language_parse(&req.language, lang, &err) < 0)
		return cli_usage_error("exec", "%s", err.message);
	if (optind < argc)
		file = argv[optind++];
	if (optind < argc)
		return cli_usage_error("exec", "unexpected argument '%s'", argv[optind]);
	if ((file != NULL) == (code_arg != NULL))
		return cli_usage_error("exec", "give the code as FILE, - or -c CODE (one of them)");
	if (stdin_path && file && strcmp(file, "-") == 0 && strcmp(stdin_path, "-") == 0)
		return cli_usage_error("exec", "stdin cannot hold both the code and the input");

	if (file) {
		/* One byte over the limit, so the library reports ETOOBIG. */
		if ((status = read_input(&code, &code_len, file, AIMS_EXEC_MAX_CODE + 1, "code")))
			goto out;
		req.code = code;
		req.code_len = code_len;
	} else {
		req.code = code_arg;
		req.code_len = strlen(code_arg);
	}
	if (stdin_path) {
		if ((status = read_input(&input, &input_len, stdin_path, AIMS_EXEC_MAX_STDIN,
					 "input")))
			goto out;
		req.stdin_data = input;
		req.stdin_len = input_len;
	}

	rc = aims_exec_run(&result, &req, &err);
	if (rc < 0) {
		cli_fail("exec", "%s", err.message);
		status = cli_exit_for(rc);
		goto out;
	}
	if (json) {
		status = cli_print_json(aims_json_exec_result(result), true);
		if (status == EXIT_OK && !result->success)
			status = EXIT_FAIL;
		goto out;
	}
	fflush(stdout);
	write_all(1, result->stdout_data, result->stdout_len);
	write_all(2, result->stderr_data, result->stderr_len);
	if (result->error)
		cli_fail("exec", "%s", result->error);
	if (result->exit_code > 0)
		status = result->exit_code;
	else if (result->exit_code == 0)
		status = result->error ? EXIT_FAIL : EXIT_OK;
	else {
		if (!result->error)
			cli_fail("exec", "the program was killed by signal %d",
				 result->term_signal);
		status = EXIT_FAIL;
	}
out:
	aims_exec_result_free(result);
	free(code);
	free(input);
	aims_sandbox_shutdown();
	return status;
}

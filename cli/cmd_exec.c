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
	     "  -p, --package NAME    a package to install first (repeatable): pip\n"
	     "                        for python, npm for node, Debian for bash;\n"
	     "                        installed once into a cached layer (aims cache\n"
	     "                        list); a failed install says which package and\n"
	     "                        why, and exits 1 (docs/packages.md: AIMS_CACHE_DIR,\n"
	     "                        AIMS_PIP_INDEX_URL, AIMS_NPM_REGISTRY, AIMS_DEB_DIR)\n"
	     "  --timeout MS          wall time limit (default 30000, at most 300000)\n"
	     "  --memory MB           memory limit (default 256)\n"
	     "  --stdin FILE          feed FILE to the program's stdin (- : our stdin,\n"
	     "                        unless the code is read from it)\n"
	     "  --backend B           auto (default: e2b when E2B_API_KEY is set),\n"
	     "                        local or e2b\n"
	     "  --json                print the result as JSON (stdout, stderr, exitCode,\n"
	     "                        error, success, durationMs, timedOut, truncated,\n"
	     "                        backend, limit); exit 0 on success, else 1\n"
	     "  -h, --help            show this help\n"
	     "\n"
	     "Memory and process limits are cgroups where aims can create them, else\n"
	     "rlimits; AIMS_REQUIRE_CGROUPS=1 refuses to run with rlimits only\n"
	     "(docs/security-model.md).");
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

int cmd_exec(int argc, char **argv)
{
	static const struct option options[] = {
		{"language", required_argument, NULL, 'l'},
		{"code", required_argument, NULL, 'c'},
		{"package", required_argument, NULL, 'p'},
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
	const char *packages[AIMS_EXEC_MAX_PACKAGES];
	size_t code_len = 0, input_len = 0;
	bool json = false;
	int opt, rc, status = EXIT_OK;

	aims_exec_request_init(&req);
	aims_error_clear(&err);
	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "l:c:p:h", options, NULL)) != -1) {
		switch (opt) {
		case 'l': lang = optarg; break;
		case 'c': code_arg = optarg; break;
		case 'p':
			if (req.package_count >= AIMS_EXEC_MAX_PACKAGES)
				return cli_usage_error("exec", "more than %d packages",
						       AIMS_EXEC_MAX_PACKAGES);
			packages[req.package_count++] = optarg;
			break;
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
		default: return cli_bad_option("exec", argv);
		}
	}
	if (!lang)
		return cli_usage_error("exec", "missing -l LANG (python, node or bash)");
	if (aims_language_parse(&req.language, lang, &err) < 0)
		return cli_usage_error("exec", "%s", err.message);
	for (size_t i = 0; i < req.package_count; i++)
		if (aims_exec_check_package(req.language, packages[i], &err) < 0)
			return cli_usage_error("exec", "%s", err.message);
	req.packages = req.package_count ? packages : NULL;
	cli_progress(&req.progress, &req.progress_ctx, "exec");
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
		if ((status = cli_read_input(&code, &code_len, file, AIMS_EXEC_MAX_CODE + 1, "code",
					     "exec")))
			goto out;
		req.code = code;
		req.code_len = code_len;
	} else {
		req.code = code_arg;
		req.code_len = strlen(code_arg);
	}
	if (stdin_path) {
		if ((status = cli_read_input(&input, &input_len, stdin_path, AIMS_EXEC_MAX_STDIN,
					     "input", "exec")))
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
	status = cli_exec_output(result, "exec");
out:
	aims_exec_result_free(result);
	free(code);
	free(input);
	aims_sandbox_shutdown();
	return status;
}

/*
 * cmd_serve.c - `aims serve`: the HTTP JSON API until SIGTERM or SIGINT,
 * then a graceful stop (running executions finish or are canceled, every
 * sandbox cleaned up).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "aims/sandbox.h"
#include "aims/server.h"
#include "cli.h"

static void help(void)
{
	puts("Usage: aims serve [--listen ADDR:PORT] [--skills DIR]... [--token-file F]\n"
	     "                  [--max-concurrency N] [--queue N] [--max-body BYTES] [--quiet]\n"
	     "\n"
	     "Serves the HTTP JSON API: POST /api/code/execute, /api/route, /api/dispatch,\n"
	     "/api/validate; GET /api/skills[/ID], /api/tools, /healthz, /metrics.\n"
	     "\n"
	     "Options:\n"
	     "  --listen ADDR:PORT     where to listen (default 127.0.0.1:8080; port 0 picks\n"
	     "                         a free port, printed on start)\n"
	     "  --token-file F         require 'Authorization: Bearer <token>' on /api/,\n"
	     "                         the token read from F (default: AIMS_API_TOKEN)\n"
	     "  --max-concurrency N    executions running at once (default: CPU count)\n"
	     "  --queue N              executions waiting for a slot (default: 8 x N, at least "
	     "16);\n"
	     "                         beyond, 429 with Retry-After\n"
	     "  --max-body BYTES       request body limit (default 1048576), beyond: 413\n"
	     "  --skills DIR           load manifests from DIR (repeatable)\n"
	     "  --quiet                no access log on stderr (errors are still logged)\n"
	     "  -h, --help             show this help\n"
	     "\n"
	     "Listening beyond loopback needs a token. SIGTERM or SIGINT stops gracefully.");
}

static int read_token(char **out, const char *path)
{
	char *text = NULL;
	size_t len;
	aims_error err;

	aims_error_clear(&err);
	if (aims_file_read(&text, &len, path, AIMS_SERVER_TOKEN_MAX + 2, &err) < 0)
		return cli_fail("serve", "token file: %s", err.message);
	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		text[--len] = '\0';
	if (!len || strlen(text) != len) {
		free(text);
		return cli_fail("serve", "token file %s is empty or holds a NUL byte", path);
	}
	*out = text;
	return 0;
}

static int parse_unsigned(const char *text, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long value;

	errno = 0;
	value = strtoul(text, &end, 10);
	if (errno || !*text || *end || value == 0 || value > max || text[0] == '-')
		return -1;
	*out = value;
	return 0;
}

int cmd_serve(int argc, char **argv)
{
	static const struct option options[] = {
		{"listen", required_argument, NULL, 'l'},
		{"token-file", required_argument, NULL, 't'},
		{"max-concurrency", required_argument, NULL, 'c'},
		{"queue", required_argument, NULL, 'q'},
		{"max-body", required_argument, NULL, 'b'},
		{"skills", required_argument, NULL, 'S'},
		{"quiet", no_argument, NULL, 'Q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	aims_server_config cfg;
	cli_paths paths = {0};
	aims_registry *reg = NULL;
	aims_server *srv = NULL;
	char *token = NULL;
	const char *env_token;
	aims_error err;
	sigset_t signals;
	unsigned long value;
	int opt, code = EXIT_OK, sig;
	bool quiet = false;

	aims_server_config_init(&cfg);
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'l': cfg.listen = optarg; break;
		case 't':
			free(token);
			token = NULL;
			if (read_token(&token, optarg) != 0) {
				code = EXIT_USAGE;
				goto out;
			}
			break;
		case 'c':
		case 'q':
		case 'b':
			if (parse_unsigned(optarg, opt == 'b' ? 1ul << 30 : 100000, &value) < 0) {
				code = cli_usage_error("serve",
						       "%s needs a positive number, not '%s'",
						       argv[optind - 1], optarg);
				goto out;
			}
			if (opt == 'c')
				cfg.max_concurrency = (unsigned)value;
			else if (opt == 'q')
				cfg.queue = (unsigned)value;
			else
				cfg.max_body = value;
			break;
		case 'S': cli_paths_add(&paths, optarg); break;
		case 'Q': quiet = true; break;
		case 'h': help(); goto out;
		default: code = cli_bad_option("serve", argv); goto out;
		}
	}
	if (optind < argc) {
		code = cli_usage_error("serve", "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	env_token = getenv("AIMS_API_TOKEN");
	cfg.token = token ? token : env_token;
	cfg.access_log = quiet ? NULL : stderr;
	cfg.error_log = stderr;
	if ((code = cli_load_registry(&reg, &paths)) != 0)
		goto out;

	/* Block the stop signals before any thread starts, so they are all
	 * taken here by sigwait and no server thread is interrupted. */
	sigemptyset(&signals);
	sigaddset(&signals, SIGTERM);
	sigaddset(&signals, SIGINT);
	pthread_sigmask(SIG_BLOCK, &signals, NULL);
	signal(SIGPIPE, SIG_IGN);

	aims_error_clear(&err);
	if (aims_server_new(&srv, &cfg, reg, &err) < 0 || aims_server_start(srv, &err) < 0) {
		code = cli_fail("serve", "%s", err.message);
		code = EXIT_USAGE;
		goto out;
	}
	if (aims_sandbox_limits_reason())
		fprintf(stderr, "aims: local sandbox limits are rlimits, not cgroups: %s\n",
			aims_sandbox_limits_reason());
	fprintf(stderr, "aims: serving %zu definitions on port %u%s\n", aims_registry_count(reg),
		aims_server_port(srv), cfg.token && *cfg.token ? " (token required)" : "");
	fflush(stderr);
	while (sigwait(&signals, &sig) != 0)
		;
	fprintf(stderr, "aims: %s received: stopping\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	aims_server_shutdown(srv);
out:
	aims_server_free(srv);
	aims_sandbox_shutdown(); /* the pooled cgroups */
	aims_registry_free(reg);
	cli_paths_free(&paths);
	if (token) {
		explicit_bzero(token, strlen(token));
		free(token);
	}
	return code;
}

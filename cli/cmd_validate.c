/*
 * cmd_validate.c - `aims validate`: check manifests for CI and print the
 * diagnostics as text, JSON, GitHub annotations or SARIF.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aims/validate.h"
#include "cli.h"

static void help(void)
{
	puts("Usage: aims validate [PATH...] [--root DIR] [--strict] [--format FORMAT]\n"
	     "                     [--skills DIR]...\n"
	     "\n"
	     "Checks manifests (files and/or directories; default: the search path) and\n"
	     "prints one diagnostic per problem, `path:line:col: error: message [rule-id]`,\n"
	     "then a summary. A file named explicitly without front matter is reported;\n"
	     "in directories such files are skipped.\n"
	     "\n"
	     "Options:\n"
	     "  --root DIR      check that dependencies.files and aims_files exist under DIR\n"
	     "  --strict        warnings count as errors\n"
	     "  --format F      text (default), json, github (workflow annotations) or sarif\n"
	     "  --json          same as --format json\n"
	     "  --skills DIR    validate DIR too (repeatable)\n"
	     "  -h, --help      show this help\n"
	     "\n"
	     "Rule ids and how to fix each: docs/manifest-reference.md.\n"
	     "Exit codes: 0 no errors (warnings allowed unless --strict), 1 errors found,\n"
	     "2 usage or internal error.");
}

enum format { FORMAT_TEXT, FORMAT_JSON, FORMAT_GITHUB, FORMAT_SARIF };

static int parse_format(enum format *out, const char *name)
{
	static const char *const names[] = {"text", "json", "github", "sarif"};

	for (size_t i = 0; i < 4; i++)
		if (strcmp(name, names[i]) == 0) {
			*out = (enum format)i;
			return 0;
		}
	return -1;
}

static int print_buf(const aims_buf *buf)
{
	if (buf->len && fwrite(buf->ptr, 1, buf->len, stdout) != buf->len) {
		cli_fail("validate", "cannot write the report");
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

int cmd_validate(int argc, char **argv)
{
	static const struct option options[] = {
		{"root", required_argument, NULL, 'r'},
		{"strict", no_argument, NULL, 's'},
		{"format", required_argument, NULL, 'f'},
		{"json", no_argument, NULL, 'j'},
		{"skills", required_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	aims_validate_options opts = {NULL, false, 0};
	cli_paths paths = {0};
	enum format format = FORMAT_TEXT;
	aims_validation *v = NULL;
	char *cwd = NULL;
	aims_error err;
	aims_buf out;
	int opt, rc, code = EXIT_OK;

	aims_buf_init(&out, AIMS_VALIDATE_MAX_OUTPUT);
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'r': opts.root = optarg; break;
		case 's': opts.strict = true; break;
		case 'f':
			if (parse_format(&format, optarg) < 0) {
				code = cli_usage_error("validate",
						       "unknown format '%s' (text, json, github, "
						       "sarif)",
						       optarg);
				goto out;
			}
			break;
		case 'j': format = FORMAT_JSON; break;
		case 'S': cli_paths_add(&paths, optarg); break;
		case 'h': help(); goto out;
		default: code = cli_bad_option("validate", argv); goto out;
		}
	}
	for (int i = optind; i < argc; i++)
		cli_paths_add(&paths, argv[i]);
	if (opts.root && access(opts.root, F_OK) < 0) {
		code = cli_usage_error("validate", "--root %s: no such directory", opts.root);
		goto out;
	}

	aims_error_clear(&err);
	if ((rc = aims_validate_paths(&v, paths.items, paths.count, &opts, &err)) < 0) {
		fprintf(stderr, "aims: validate: %s\n", err.message);
		code = EXIT_USAGE; /* a missing path is a usage error; the rest internal */
		goto out;
	}
	if (aims_validate_file_count(v) == 0)
		fputs("aims: validate: no manifest files found\n", stderr);
	cwd = getcwd(NULL, 0);
	switch (format) {
	case FORMAT_TEXT: rc = aims_validate_format_text(&out, v, cwd, cli_color(stdout)); break;
	case FORMAT_GITHUB: rc = aims_validate_format_github(&out, v, cwd); break;
	case FORMAT_JSON: code = cli_print_json(aims_json_validation(v, cwd), true); break;
	case FORMAT_SARIF: code = cli_print_json(aims_json_sarif(v, cwd), true); break;
	}
	if (format == FORMAT_TEXT || format == FORMAT_GITHUB) {
		if (rc < 0) {
			fprintf(stderr, "aims: validate: report: %s\n", aims_strerror(rc));
			code = EXIT_USAGE;
			goto out;
		}
		code = print_buf(&out);
	}
	if (code == EXIT_OK && aims_validate_errors(v) > 0)
		code = EXIT_FAIL;
	if (fflush(stdout) != 0)
		code = EXIT_USAGE;
out:
	free(cwd);
	aims_buf_free(&out);
	aims_validate_free(v);
	cli_paths_free(&paths);
	return code;
}

/*
 * cmd_run.c - `aims run`: route an utterance, check, dispatch, print the
 * result (or only the plan with --dry-run); `--id` skips routing.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "aims/dispatch.h"
#include "aims/router.h"
#include "aims/sandbox.h"
#include "cli.h"

static void help(void)
{
	puts("Usage: aims run \"UTTERANCE\" [--input JSON | --code-file F] [--json] [--dry-run]\n"
	     "       aims run --id ID [--input JSON | --code-file F] [\"UTTERANCE\"] ...\n"
	     "\n"
	     "Routes the utterance to a task, checks its requirements and runs it:\n"
	     "code tasks run in the sandbox (the code comes from --input's \"code\",\n"
	     "--code-file, a fenced block in the utterance, or the text after the\n"
	     "trigger: aims run \"run python: print(6*7)\"); api tasks are forwarded to\n"
	     "AIMS_API_BASE; command tasks run in the sandbox with slots as\n"
	     "AIMS_SLOT_<NAME>; other definitions are shown for the agent to follow.\n"
	     "\n"
	     "Options:\n"
	     "  --id ID          run this definition, without routing\n"
	     "  --input JSON     the input object (code, language, packages, timeoutMs,\n"
	     "                   stdin, env, backend for code; the body for api tasks)\n"
	     "  --code-file F    the code, from a file (- for stdin)\n"
	     "  --json           the plan and the result as JSON\n"
	     "  --dry-run        route and check only: print the plan and the executor\n"
	     "  --root DIR       where requirement files and packages are looked up\n"
	     "  --skills DIR     load manifests from DIR (repeatable)\n"
	     "  -h, --help       show this help\n"
	     "\n"
	     "Exit codes: the program's own exit code for code and command tasks;\n"
	     "otherwise 0 done, 1 not ready / no match / upstream error, 2 usage.");
}

typedef struct run_args {
	const char *utterance;
	const char *id;
	const char *input;
	const char *code_file;
	bool json;
	aims_dispatch_options opts;
	cli_paths paths;
} run_args;

static int parse_args(run_args *a, int argc, char **argv)
{
	static const struct option options[] = {
		{"id", required_argument, NULL, 'i'},
		{"input", required_argument, NULL, 'I'},
		{"code-file", required_argument, NULL, 'c'},
		{"json", no_argument, NULL, 'j'},
		{"dry-run", no_argument, NULL, 'n'},
		{"root", required_argument, NULL, 'r'},
		{"skills", required_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int opt;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'i': a->id = optarg; break;
		case 'I': a->input = optarg; break;
		case 'c': a->code_file = optarg; break;
		case 'j': a->json = true; break;
		case 'n': a->opts.dry_run = true; break;
		case 'r': a->opts.root = optarg; break;
		case 'S': cli_paths_add(&a->paths, optarg); break;
		case 'h': help(); return -1;
		default: return cli_bad_option("run", argv);
		}
	}
	if (optind < argc)
		a->utterance = argv[optind++];
	if (optind < argc)
		return cli_usage_error("run", "unexpected argument '%s' (quote the utterance)",
				       argv[optind]);
	if (!a->utterance && !a->id)
		return cli_usage_error("run", "missing UTTERANCE (or --id ID)");
	if (a->input && a->code_file)
		return cli_usage_error("run", "--input and --code-file exclude each other");
	return 0;
}

/* {"code": <file>} as the input. */
static int code_file_input(char **out, const char *path)
{
	char *code = NULL, *text;
	size_t len;
	cJSON *obj;
	int rc;

	if ((rc = cli_read_input(&code, &len, path, AIMS_EXEC_MAX_CODE + 1, "code", "run")))
		return rc;
	if (strlen(code) != len) {
		free(code);
		return cli_fail("run", "%s holds a NUL byte", path);
	}
	obj = cJSON_CreateObject();
	if (obj)
		cJSON_AddStringToObject(obj, "code", code);
	free(code);
	text = obj ? cJSON_PrintUnformatted(obj) : NULL;
	cJSON_Delete(obj);
	if (!text)
		return cli_fail("run", "out of memory");
	*out = text;
	return 0;
}

static void print_refusal(const aims_dispatch_result *r)
{
	aims_buf buf;

	aims_buf_init(&buf, 64 * 1024);
	for (size_t i = 0; i < r->readiness->count; i++) {
		const aims_requirement *q = &r->readiness->items[i];

		if (!q->met && !q->informational)
			aims_buf_printf(&buf, "%s%s %s (%s)", buf.len ? ", " : "",
					aims_req_kind_name(q->kind), q->name,
					q->detail ? q->detail : "missing");
	}
	cli_fail("run", "%s is not ready: missing %s", r->manifest->id.str,
		 buf.ptr ? buf.ptr : "requirements");
	aims_buf_free(&buf);
}

/* Prints the result for a person; returns the exit status. */
static int print_result(const aims_dispatch_result *r)
{
	if (r->refused) {
		print_refusal(r);
		return EXIT_FAIL;
	}
	if (!r->ran) { /* dry run */
		printf("would run %s with the %s executor%s%s\n", r->manifest->id.str,
		       aims_executor_name(r->executor), r->code ? " in " : "",
		       r->code ? aims_language_name(r->language) : "");
		if (r->url)
			printf("%s %s\n", r->method, r->url);
		return EXIT_OK;
	}
	switch (r->executor) {
	case AIMS_EXECUTOR_CODE:
	case AIMS_EXECUTOR_COMMAND: return cli_exec_output(r->exec, "run");
	case AIMS_EXECUTOR_FORWARD:
		fflush(stdout);
		cli_write_all(1, r->upstream_body, r->upstream_len);
		if (r->upstream_len && r->upstream_body[r->upstream_len - 1] != '\n')
			putchar('\n');
		if (r->upstream_status < 200 || r->upstream_status > 299)
			return cli_fail("run", "%s %s answered %ld", r->method, r->url,
					r->upstream_status);
		return EXIT_OK;
	case AIMS_EXECUTOR_LOAD: cli_print_definition(r->manifest); return EXIT_OK;
	}
	return EXIT_OK;
}

int cmd_run(int argc, char **argv)
{
	run_args a;
	aims_registry *reg = NULL;
	aims_router *router = NULL;
	aims_plan *plan = NULL;
	aims_dispatch_result *result = NULL;
	char *input = NULL;
	const char *input_text;
	aims_check_options check = {NULL};
	aims_error err;
	int rc, status = EXIT_OK;

	memset(&a, 0, sizeof(a));
	aims_dispatch_options_init(&a.opts);
	cli_progress(&a.opts.progress, &a.opts.progress_ctx, "run");
	aims_error_clear(&err);
	if ((status = parse_args(&a, argc, argv)) != 0) {
		cli_paths_free(&a.paths);
		return status < 0 ? EXIT_OK : status;
	}
	if (a.code_file && (status = code_file_input(&input, a.code_file)) != 0)
		goto out;
	input_text = input ? input : a.input;
	check.root = a.opts.root;
	if ((status = cli_load_registry(&reg, &a.paths)) != 0)
		goto out;

	if (a.id) {
		const aims_manifest *m = aims_registry_find_id(reg, a.id);

		if (!m) {
			status = cli_fail("run", "no definition with id '%s'", a.id);
			goto out;
		}
		rc = aims_dispatch_run(&result, m, NULL, a.utterance, input_text,
				       input_text ? strlen(input_text) : 0, &a.opts, &err);
	} else {
		if ((rc = aims_router_new(&router, reg, NULL, &err)) < 0 ||
		    (rc = aims_router_route(&plan, router, a.utterance, strlen(a.utterance), 0,
					    &err)) < 0 ||
		    (rc = aims_check_plan(plan, &check, &err)) < 0) {
			status = cli_fail("run", "%s", err.message);
			status = rc == AIMS_ENOMEM ? EXIT_USAGE : EXIT_FAIL;
			goto out;
		}
		rc = aims_dispatch_plan(&result, plan, input_text,
					input_text ? strlen(input_text) : 0, &a.opts, &err);
	}
	if (a.json) {
		cJSON *obj = cJSON_CreateObject();

		if (obj && plan)
			cJSON_AddItemToObject(obj, "plan", aims_json_plan(plan, 0));
		if (obj && result)
			cJSON_AddItemToObject(obj, "result", aims_json_dispatch_result(result));
		if (obj && rc < 0)
			cJSON_AddStringToObject(obj, "error", err.message);
		status = cli_print_json(obj, true);
		/* The program's own exit code, as without --json. */
		if (status == EXIT_OK && rc == 0 && result->exec && result->exec->exit_code > 0)
			status = result->exec->exit_code;
		else if (status == EXIT_OK &&
			 (rc < 0 || result->refused || (result->exec && !result->exec->success) ||
			  (result->executor == AIMS_EXECUTOR_FORWARD && result->ran &&
			   (result->upstream_status < 200 || result->upstream_status > 299))))
			status = EXIT_FAIL;
		goto out;
	}
	if (rc < 0) {
		status = cli_fail("run", "%s", err.message);
		if (rc == AIMS_ENOMEM)
			status = EXIT_USAGE;
		goto out;
	}
	status = print_result(result);
out:
	aims_dispatch_result_free(result);
	aims_plan_free(plan);
	aims_router_free(router);
	aims_registry_free(reg);
	cli_paths_free(&a.paths);
	free(input);
	aims_sandbox_shutdown();
	return status;
}

/*
 * cmd_check.c - `aims check`: which definitions can run here, and what is
 * missing for the others. Environment values are never printed.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "aims/check.h"
#include "cli.h"

static void help(void)
{
	puts("Usage: aims check [ID...] [--root DIR] [--json] [--skills DIR]...\n"
	     "\n"
	     "Checks the requirements of definitions: environment variables (set and\n"
	     "not empty; values are never shown), files under the root, packages\n"
	     "(npm names in package.json or node_modules/, pip:NAME, deb:NAME), a\n"
	     "tool's env_vars. A task served by a built-in executor (the code task)\n"
	     "is ready when its backend is; its declared dependencies are reported\n"
	     "as information.\n"
	     "\n"
	     "Options:\n"
	     "  --root DIR      where files and packages are looked up\n"
	     "                  (default: AIMS_ROOT, else the working directory)\n"
	     "  --json          one JSON array of readiness records\n"
	     "  --skills DIR    load manifests from DIR (repeatable)\n"
	     "  -h, --help      show this help\n"
	     "\n"
	     "Exit codes: 0 when every named definition is ready (or none is named),\n"
	     "1 when a named definition is not ready or not found, 2 usage errors.");
}

static char *missing_text(const aims_readiness *r)
{
	aims_buf buf;

	aims_buf_init(&buf, 64 * 1024);
	for (size_t i = 0; i < r->count; i++) {
		const aims_requirement *q = &r->items[i];

		if (q->met || q->informational)
			continue;
		aims_buf_printf(&buf, "%s%s %s (%s)", buf.len ? ", " : "",
				aims_req_kind_name(q->kind), q->name,
				q->detail ? q->detail : "missing");
	}
	return aims_buf_detach(&buf);
}

int cmd_check(int argc, char **argv)
{
	static const struct option options[] = {
		{"root", required_argument, NULL, 'r'},
		{"json", no_argument, NULL, 'j'},
		{"skills", required_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	cli_paths paths = {0};
	aims_check_options opts = {NULL};
	aims_registry *reg = NULL;
	cJSON *json_out = NULL;
	cli_table table;
	bool json = false, named;
	int opt, code;
	size_t count;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'r': opts.root = optarg; break;
		case 'j': json = true; break;
		case 'S': cli_paths_add(&paths, optarg); break;
		case 'h':
			help();
			cli_paths_free(&paths);
			return EXIT_OK;
		default: cli_paths_free(&paths); return cli_bad_option("check", argv);
		}
	}
	if ((code = cli_load_registry(&reg, &paths)) != 0) {
		cli_paths_free(&paths);
		return code;
	}
	named = optind < argc;
	count = named ? (size_t)(argc - optind) : aims_registry_count(reg);
	cli_table_init(&table, 5);
	cli_table_add(&table, (const char *const[]){"ID", "TYPE", "READY", "MISSING", "NOTE"});
	if (json && !(json_out = cJSON_CreateArray()))
		code = cli_fail("check", "out of memory");
	for (size_t i = 0; code != EXIT_USAGE && i < count; i++) {
		const aims_manifest *m = named ? aims_registry_find_id(reg, argv[optind + i])
					       : aims_registry_at(reg, i);
		aims_readiness *r = NULL;
		aims_error err;
		char *missing;

		if (!m) {
			code = cli_fail("check", "no definition with id '%s'", argv[optind + i]);
			continue;
		}
		aims_error_clear(&err);
		if (aims_check_definition(&r, m, &opts, &err) < 0) {
			code = cli_fail("check", "%s", err.message);
			code = EXIT_USAGE;
			break;
		}
		if (named && !r->ready)
			code = EXIT_FAIL;
		if (json) {
			cJSON_AddItemToArray(json_out, aims_json_readiness(r));
		} else {
			missing = missing_text(r);
			cli_table_add(&table,
				      (const char *const[]){m->id.str, aims_kind_name(m->kind),
							    r->ready ? "ready" : "no",
							    *missing ? missing : "-", r->note});
			free(missing);
		}
		aims_readiness_free(r);
	}
	if (json && code != EXIT_USAGE)
		cli_print_json(json_out, true);
	else if (json)
		cJSON_Delete(json_out);
	else if (table.rows > 1)
		cli_table_print(&table, stdout);
	cli_table_free(&table);
	aims_registry_free(reg);
	cli_paths_free(&paths);
	return code;
}

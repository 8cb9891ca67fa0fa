/*
 * cmd_list.c - `aims list`: every definition found, as a table or JSON.
 */
#include <getopt.h>
#include <string.h>

#include "cli.h"

static void help(void)
{
	puts("Usage: aims list [--type T] [--status S] [--json] [--skills DIR]...\n"
	     "\n"
	     "Lists the definitions found on the search path: id, type, status,\n"
	     "priority, number of triggers and source file.\n"
	     "\n"
	     "Options:\n"
	     "  --type T        only this type: task, skill, hook, tool, integration, reference\n"
	     "  --status S      only this status: active, beta, planned, disabled, deprecated\n"
	     "  --json          full records as a JSON array\n"
	     "  --skills DIR    load manifests from DIR (repeatable)\n"
	     "  -h, --help      show this help");
}

static bool status_matches(const aims_manifest *m, const char *status)
{
	if (m->status == AIMS_STATUS_OTHER)
		return m->status_field.str && strcasecmp(m->status_field.str, status) == 0;
	return strcasecmp(aims_status_name(m->status), status) == 0;
}

int cmd_list(int argc, char **argv)
{
	static const struct option options[] = {
		{"type", required_argument, NULL, 't'}, {"status", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},	{"skills", required_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'},	{NULL, 0, NULL, 0},
	};
	cli_paths paths = {0};
	aims_registry *reg = NULL;
	const char *type = NULL, *status = NULL;
	aims_kind kind = AIMS_KIND_UNKNOWN;
	bool json = false;
	int opt, code;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+h", options, NULL)) != -1) {
		switch (opt) {
		case 't': type = optarg; break;
		case 's': status = optarg; break;
		case 'j': json = true; break;
		case 'S': cli_paths_add(&paths, optarg); break;
		case 'h':
			help();
			cli_paths_free(&paths);
			return EXIT_OK;
		default: cli_paths_free(&paths); return cli_bad_option("list", argv);
		}
	}
	if (optind < argc) {
		cli_paths_free(&paths);
		return cli_usage_error("list", "unexpected argument '%s'", argv[optind]);
	}
	if (type && (kind = aims_kind_parse(type)) == AIMS_KIND_UNKNOWN) {
		cli_paths_free(&paths);
		return cli_usage_error("list", "unknown type '%s'", type);
	}
	if (status && aims_status_parse(status) == AIMS_STATUS_OTHER) {
		cli_paths_free(&paths);
		return cli_usage_error("list", "unknown status '%s'", status);
	}
	if ((code = cli_load_registry(&reg, &paths)) != 0) {
		cli_paths_free(&paths);
		return code;
	}

	if (json) {
		cJSON *arr = cJSON_CreateArray();

		for (size_t i = 0; arr && i < aims_registry_count(reg); i++) {
			const aims_manifest *m = aims_registry_at(reg, i);

			if ((type && m->kind != kind) || (status && !status_matches(m, status)))
				continue;
			cJSON_AddItemToArray(
				arr, aims_json_manifest(m, AIMS_JSON_FIELDS | AIMS_JSON_PROBLEMS));
		}
		code = cli_print_json(arr, true);
	} else {
		cli_table table;
		const char *header[] = {"ID", "TYPE", "STATUS", "PRIORITY", "TRIGGERS", "SOURCE"};
		size_t shown = 0;

		cli_table_init(&table, 6);
		cli_table_add(&table, header);
		for (size_t i = 0; i < aims_registry_count(reg); i++) {
			const aims_manifest *m = aims_registry_at(reg, i);
			char triggers[32];
			const char *row[6];

			if ((type && m->kind != kind) || (status && !status_matches(m, status)))
				continue;
			snprintf(triggers, sizeof(triggers), "%zu", m->triggers.count);
			row[0] = m->id.str;
			row[1] = aims_kind_name(m->kind);
			row[2] = m->status == AIMS_STATUS_OTHER ? m->status_field.str
								: aims_status_name(m->status);
			row[3] = m->priority == AIMS_PRIORITY_OTHER
					 ? m->priority_field.str
					 : aims_priority_name(m->priority);
			row[4] = triggers;
			row[5] = cli_display_path(m->path);
			cli_table_add(&table, row);
			shown++;
		}
		if (shown)
			cli_table_print(&table, stdout);
		else
			fputs("no definitions found\n", stderr);
		cli_table_free(&table);
		code = EXIT_OK;
	}
	aims_registry_free(reg);
	cli_paths_free(&paths);
	return code;
}

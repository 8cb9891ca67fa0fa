/*
 * cmd_show.c - `aims show ID`: one definition's fields and body, for the
 * terminal, as HTML, or as JSON.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void help(void)
{
	puts("Usage: aims show ID [--type T] [--json | --html] [--skills DIR]...\n"
	     "\n"
	     "Shows one definition: its fields, then its markdown body.\n"
	     "\n"
	     "Options:\n"
	     "  --type T        look the id up among definitions of this type only\n"
	     "  --json          everything as JSON: fields (unknown keys too), body,\n"
	     "                  sections, code blocks, load problems\n"
	     "  --html          the body rendered to HTML (raw HTML in it is dropped)\n"
	     "  --skills DIR    load manifests from DIR (repeatable)\n"
	     "  -h, --help      show this help");
}

static void field(const char *label, const char *value)
{
	if (!value || !*value)
		return;
	cli_bold(stdout, label);
	printf("%*s", (int)(14 - strlen(label)), "");
	cli_puts_safe(stdout, value, false);
	putchar('\n');
}

static void list_field(const char *label, const aims_strlist *list)
{
	aims_buf buf;

	if (!list->count)
		return;
	aims_buf_init(&buf, 64 * 1024);
	for (size_t i = 0; i < list->count; i++)
		if (aims_buf_printf(&buf, "%s%s", i ? ", " : "", list->items[i]) < 0)
			break;
	field(label, buf.ptr);
	aims_buf_free(&buf);
}

void cli_print_definition(const aims_manifest *m)
{
	char head[512], *body = NULL;
	aims_error err;

	snprintf(head, sizeof(head), "%s (%s%s, %s, priority %s)", m->id.str,
		 aims_kind_name(m->kind), m->kind_inferred ? ", inferred" : "",
		 m->status == AIMS_STATUS_OTHER ? m->status_field.str : aims_status_name(m->status),
		 m->priority == AIMS_PRIORITY_OTHER ? m->priority_field.str
						    : aims_priority_name(m->priority));
	if (cli_color(stdout))
		fputs("\033[1m", stdout);
	cli_puts_safe(stdout, head, false);
	if (cli_color(stdout))
		fputs("\033[0m", stdout);
	putchar('\n');
	field("Name", m->name.str);
	field("Description", m->description.str);
	list_field("Triggers", &m->triggers);
	field("Schedule", m->schedule.str);
	if (m->execution) {
		char exec[1024];

		snprintf(exec, sizeof(exec), "%s%s%s%s%s",
			 m->exec_target.str ? m->exec_target.str : "",
			 m->exec_method.str ? " " : "",
			 m->exec_method.str ? m->exec_method.str : "", m->exec_route.str ? " " : "",
			 m->exec_route.str ? m->exec_route.str : "");
		field("Execution", exec);
		if (m->exec_command.str && *m->exec_command.str)
			field("Command", m->exec_command.str);
	}
	list_field("Needs env", &m->dep_env);
	list_field("Needs pkgs", &m->dep_packages);
	list_field("Needs files", &m->dep_files);
	field("Category", m->category.str);
	field("Provider", m->provider.str);
	list_field("Env vars", &m->env_vars);
	field("Docs", m->docs_url.str);
	list_field("AIMS files", &m->aims_files);
	field("Source", cli_display_path(m->path));
	for (size_t i = 0; i < m->problem_count; i++) {
		const aims_problem *p = &m->problems[i];

		printf("%s %u:%u: ", p->severity == AIMS_SEVERITY_ERROR ? "error" : "warning",
		       p->pos.line, p->pos.col);
		cli_puts_safe(stdout, p->message, false);
		printf(" [%s]\n", p->rule);
	}
	aims_error_clear(&err);
	if (m->body_len && aims_manifest_body_text(&body, m, 80, &err) == 0) {
		putchar('\n');
		cli_puts_safe(stdout, body, true);
		free(body);
	}
}

int cmd_show(int argc, char **argv)
{
	static const struct option options[] = {
		{"type", required_argument, NULL, 't'}, {"json", no_argument, NULL, 'j'},
		{"html", no_argument, NULL, 'H'},	{"skills", required_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'},	{NULL, 0, NULL, 0},
	};
	cli_paths paths = {0};
	aims_registry *reg = NULL;
	const aims_manifest *m;
	const char *type = NULL, *id;
	bool json = false, html = false;
	int opt, code = EXIT_OK;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 't': type = optarg; break;
		case 'j': json = true; break;
		case 'H': html = true; break;
		case 'S': cli_paths_add(&paths, optarg); break;
		case 'h':
			help();
			cli_paths_free(&paths);
			return EXIT_OK;
		default: cli_paths_free(&paths); return cli_bad_option("show", argv);
		}
	}
	if (optind + 1 != argc) {
		cli_paths_free(&paths);
		return cli_usage_error("show",
				       optind == argc ? "missing ID" : "expected one ID, got more");
	}
	if (json && html) {
		cli_paths_free(&paths);
		return cli_usage_error("show", "--json and --html exclude each other");
	}
	id = argv[optind];
	if (type && aims_kind_parse(type) == AIMS_KIND_UNKNOWN) {
		cli_paths_free(&paths);
		return cli_usage_error("show", "unknown type '%s'", type);
	}
	if ((code = cli_load_registry(&reg, &paths)) != 0) {
		cli_paths_free(&paths);
		return code;
	}
	m = type ? aims_registry_find(reg, aims_kind_parse(type), id)
		 : aims_registry_find_id(reg, id);
	if (!m) {
		code = cli_fail("show", "no definition with id '%s'%s%s", id,
				type ? " of type " : "", type ? type : "");
	} else if (json) {
		code = cli_print_json(aims_json_manifest(m, AIMS_JSON_FULL), true);
	} else if (html) {
		char *out = NULL;
		aims_error err;

		aims_error_clear(&err);
		if (aims_manifest_body_html(&out, m, &err) < 0) {
			code = cli_fail("show", "%s", err.message);
		} else {
			fputs(out, stdout);
			free(out);
		}
	} else {
		cli_print_definition(m);
	}
	aims_registry_free(reg);
	cli_paths_free(&paths);
	return code;
}

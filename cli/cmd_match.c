/*
 * cmd_match.c - `aims match`: route an utterance and show the plan, or
 * route one utterance per line of stdin (`aims match -`) and print one
 * JSON plan per line.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "aims/check.h"
#include "aims/router.h"
#include "cli.h"

#define DEFAULT_ROWS 10 /* candidates shown without --all */

static void help(void)
{
	puts("Usage: aims match UTTERANCE... [--json] [--all] [--explain] [--include-inactive]\n"
	     "                  [--skills DIR]...\n"
	     "       aims match - [--explain] [--all] [--include-inactive] [--skills DIR]...\n"
	     "\n"
	     "Routes an utterance to the definitions whose triggers match it and shows\n"
	     "the plan: status (matched, ambiguous, no_match), the task, the hooks and\n"
	     "skills, and every candidate with its score, confidence, trigger, byte span\n"
	     "and slots. Several arguments are joined with spaces. With '-', reads one\n"
	     "utterance per line from stdin and prints one JSON plan per line (a line\n"
	     "that cannot be routed prints {\"line\": N, \"error\": \"...\"}).\n"
	     "\n"
	     "Options:\n"
	     "  --json              the plan as JSON\n"
	     "  --all               every candidate (default: the first 10) and every\n"
	     "                      matching trigger of each\n"
	     "  --explain           why each candidate scored as it did\n"
	     "  --include-inactive  also route planned, disabled and deprecated definitions\n"
	     "  --skills DIR        load manifests from DIR (repeatable)\n"
	     "  --root DIR          where requirement files and packages are looked up\n"
	     "                      (readiness of the candidates; default AIMS_ROOT or .)\n"
	     "  -h, --help          show this help\n"
	     "\n"
	     "Exit codes: 0 matched or ambiguous (with '-': every line routed), 1 no match\n"
	     "or an utterance that cannot be routed, 2 usage or internal error.");
}

/* Manifests and utterances are untrusted: their control characters must
 * not reach the terminal. Returns text with them replaced by spaces, in
 * one of a few rotating buffers (long text is cut). */
static const char *safe(const char *text)
{
	static char bufs[6][1024];
	static unsigned next;
	char *buf = bufs[next++ % 6];
	size_t i = 0;

	for (; text[i] && i + 1 < sizeof(bufs[0]); i++)
		buf[i] = (unsigned char)text[i] < 0x20 || text[i] == 0x7f ? ' ' : text[i];
	buf[i] = '\0';
	return buf;
}

typedef struct match_opts {
	bool json, all, explain;
	unsigned flags;
	const char *root; /* requirements are looked up here (--root) */
} match_opts;

/* Routes one utterance and marks which candidates can run. */
static int route_checked(aims_plan **out, const aims_router *router, const char *text, size_t len,
			 const match_opts *o, aims_error *err)
{
	aims_check_options check = {o->root};
	int rc;

	if ((rc = aims_router_route(out, router, text, len, o->flags, err)) < 0)
		return rc;
	if ((rc = aims_check_plan(*out, &check, err)) < 0) {
		aims_plan_free(*out);
		*out = NULL;
	}
	return rc;
}

static void report_problems(const aims_router *router)
{
	for (size_t i = 0; i < aims_router_problem_count(router); i++) {
		const aims_router_problem *p = aims_router_problem_at(router, i);
		const aims_manifest *m = p->manifest;
		aims_pos pos = m->triggers.pos[p->trigger_index];

		fprintf(stderr,
			"aims: match: warning: %s:%u:%u: trigger \"%s\" skipped: %s (byte %zu of "
			"the trigger)\n",
			safe(cli_display_path(m->path)), pos.line, pos.col,
			safe(m->triggers.items[p->trigger_index]), safe(p->message), p->offset);
	}
}

static void print_slots(const aims_trigger_match *m, FILE *out)
{
	for (size_t i = 0; i < m->slot_count; i++)
		fprintf(out, "%s%s=\"%s\"", i ? " " : "", m->slots[i].name,
			safe(m->slots[i].value));
}

static void print_ids(const char *label, const aims_candidate *const *items, size_t count)
{
	if (!count)
		return;
	printf("%-13s", label);
	for (size_t i = 0; i < count; i++)
		printf("%s%s", i ? ", " : "", safe(items[i]->id));
	putchar('\n');
}

static void print_plan(const aims_plan *plan, const match_opts *o)
{
	size_t rows = o->all ? plan->candidate_count
			     : (plan->candidate_count < DEFAULT_ROWS ? plan->candidate_count
								     : DEFAULT_ROWS);

	printf("%-13s", "status");
	cli_bold(stdout, aims_plan_status_name(plan->status));
	putchar('\n');
	if (plan->task) {
		printf("%-13s%s (trigger \"%s\", score %.1f, confidence %.2f)\n", "task",
		       safe(plan->task->id), safe(plan->task->best.trigger), plan->task->score,
		       plan->task->confidence);
		if (plan->task->best.slot_count) {
			printf("%-13s", "slots");
			print_slots(&plan->task->best, stdout);
			putchar('\n');
		}
	} else {
		printf("%-13s-\n", "task");
	}
	print_ids("alternatives", plan->alternatives, plan->alternative_count);
	print_ids("hooks", plan->hooks, plan->hook_count);
	print_ids("skills", plan->skills, plan->skill_count);
	for (size_t i = 0; i < plan->warning_count; i++)
		fprintf(stderr, "aims: match: warning: %s\n", safe(plan->warnings[i]));
	if (!plan->candidate_count)
		return;
	putchar('\n');
	{
		cli_table table;
		const char *header[] = {"RANK",	   "ID",   "KIND",  "SCORE", "CONFIDENCE",
					"TRIGGER", "SPAN", "SLOTS", "READY"};

		cli_table_init(&table, 9);
		cli_table_add(&table, header);
		for (size_t i = 0; i < rows; i++) {
			const aims_candidate *c = &plan->candidates[i];

			for (size_t k = 0; k < (o->all ? c->match_count : 1); k++) {
				const aims_trigger_match *m = &c->matches[k];
				char rank[24], score[32], conf[32], spanbuf[48], slots[512] = "";
				char ready[512] = "";
				const char *row[9];
				size_t used = 0;

				rank[0] = conf[0] = '\0';
				if (k) {
					snprintf(score, sizeof(score), "(%u)", m->specificity);
				} else {
					snprintf(rank, sizeof(rank), "%zu", i + 1);
					snprintf(score, sizeof(score), "%.1f", c->score);
					snprintf(conf, sizeof(conf), "%.2f", c->confidence);
				}
				snprintf(spanbuf, sizeof(spanbuf), "%zu-%zu", m->start, m->end);
				for (size_t s = 0; s < m->slot_count && used < sizeof(slots); s++) {
					int n = snprintf(slots + used, sizeof(slots) - used,
							 "%s%s=\"%s\"", s ? " " : "",
							 m->slots[s].name, m->slots[s].value);

					if (n < 0)
						break;
					used += (size_t)n;
				}
				row[0] = rank;
				row[1] = k ? "" : c->id;
				row[2] = k ? "" : aims_kind_name(c->kind);
				row[3] = score;
				row[4] = conf;
				row[5] = m->trigger;
				row[6] = spanbuf;
				row[7] = slots[0] ? slots : "-";
				if (!k) {
					size_t n = (size_t)snprintf(ready, sizeof(ready), "%s",
								    c->ready ? "yes" : "no:");

					for (size_t q = 0;
					     q < c->missing_count && n < sizeof(ready); q++)
						n += (size_t)snprintf(ready + n, sizeof(ready) - n,
								      "%s%s", q ? ", " : " ",
								      c->missing[q]);
				}
				row[8] = ready;
				cli_table_add(&table, row);
			}
		}
		cli_table_print(&table, stdout);
		cli_table_free(&table);
	}
	if (rows < plan->candidate_count)
		printf("(%zu more candidates; --all shows them)\n", plan->candidate_count - rows);
	if (o->explain) {
		putchar('\n');
		for (size_t i = 0; i < rows; i++) {
			const aims_candidate *c = &plan->candidates[i];
			char why[1024];

			aims_candidate_explain(why, sizeof(why), c, plan);
			printf("%s: %s\n", safe(c->id), why);
		}
	}
}

static int match_one(const aims_router *router, const char *utterance, const match_opts *o)
{
	aims_plan *plan = NULL;
	aims_error err;
	int rc, code;

	aims_error_clear(&err);
	if ((rc = route_checked(&plan, router, utterance, strlen(utterance), o, &err)) < 0) {
		cli_fail("match", "%s", err.message);
		return cli_exit_for(rc);
	}
	code = plan->status == AIMS_PLAN_NO_MATCH ? EXIT_FAIL : EXIT_OK;
	if (o->json) {
		if (cli_print_json(aims_json_plan(plan, o->explain ? AIMS_JSON_PLAN_EXPLAIN : 0),
				   true) != EXIT_OK)
			code = EXIT_USAGE;
	} else {
		print_plan(plan, o);
	}
	aims_plan_free(plan);
	return code;
}

static int print_line_error(size_t line, const char *message)
{
	cJSON *obj = cJSON_CreateObject();

	if (obj) {
		cJSON_AddNumberToObject(obj, "line", (double)line);
		cJSON_AddStringToObject(obj, "error", message);
	}
	return cli_print_json(obj, false);
}

/* One utterance per line; a line longer than the router's limit is read
 * to its end and reported, never kept whole. */
static int match_lines(const aims_router *router, const match_opts *o)
{
	aims_buf line;
	size_t number = 0;
	bool too_long = false, failed = false;
	int c, code = EXIT_OK;

	aims_buf_init(&line, AIMS_ROUTER_MAX_UTTERANCE);
	for (;;) {
		c = getchar();
		if (c != EOF && c != '\n') {
			char ch = (char)c;

			if (!too_long && aims_buf_append(&line, &ch, 1) < 0)
				too_long = true;
			continue;
		}
		if (c == EOF && line.len == 0 && !too_long)
			break;
		number++;
		if (line.len && line.ptr[line.len - 1] == '\r')
			line.ptr[--line.len] = '\0';
		if (too_long) {
			char message[128];

			snprintf(message, sizeof(message),
				 "utterance is over the limit of %u bytes",
				 AIMS_ROUTER_MAX_UTTERANCE);
			failed = true;
			code = print_line_error(number, message);
		} else {
			aims_plan *plan = NULL;
			aims_error err;

			aims_error_clear(&err);
			if (route_checked(&plan, router, line.ptr ? line.ptr : "", line.len, o,
					  &err) < 0) {
				failed = true;
				code = print_line_error(number, err.message);
			} else {
				code = cli_print_json(
					aims_json_plan(plan,
						       o->explain ? AIMS_JSON_PLAN_EXPLAIN : 0),
					false);
				aims_plan_free(plan);
			}
		}
		fflush(stdout);
		aims_buf_reset(&line);
		too_long = false;
		if (code != EXIT_OK || c == EOF)
			break;
	}
	aims_buf_free(&line);
	if (code != EXIT_OK)
		return code;
	return failed ? EXIT_FAIL : EXIT_OK;
}

int cmd_match(int argc, char **argv)
{
	static const struct option options[] = {
		{"json", no_argument, NULL, 'j'},
		{"all", no_argument, NULL, 'a'},
		{"explain", no_argument, NULL, 'e'},
		{"include-inactive", no_argument, NULL, 'i'},
		{"skills", required_argument, NULL, 'S'},
		{"root", required_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	cli_paths paths = {0};
	aims_registry *reg = NULL;
	aims_router *router = NULL;
	match_opts o = {0};
	aims_buf utterance;
	aims_error err;
	int opt, code;

	aims_buf_init(&utterance, AIMS_ROUTER_MAX_UTTERANCE * 4);
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'j': o.json = true; break;
		case 'a':
			o.all = true;
			o.flags |= AIMS_ROUTE_ALL_MATCHES;
			break;
		case 'e': o.explain = true; break;
		case 'i': o.flags |= AIMS_ROUTE_INCLUDE_INACTIVE; break;
		case 'S': cli_paths_add(&paths, optarg); break;
		case 'r': o.root = optarg; break;
		case 'h':
			help();
			cli_paths_free(&paths);
			return EXIT_OK;
		default: cli_paths_free(&paths); return cli_bad_option("match", argv);
		}
	}
	if (optind >= argc) {
		cli_paths_free(&paths);
		return cli_usage_error("match", "missing UTTERANCE (or '-' to read lines)");
	}
	for (int i = optind; i < argc; i++)
		if ((i > optind && aims_buf_append(&utterance, " ", 1) < 0) ||
		    aims_buf_puts(&utterance, argv[i]) < 0) {
			cli_paths_free(&paths);
			aims_buf_free(&utterance);
			return cli_fail("match", "utterance is over the limit of %u bytes",
					AIMS_ROUTER_MAX_UTTERANCE);
		}
	if ((code = cli_load_registry(&reg, &paths)) != 0)
		goto out;
	aims_error_clear(&err);
	if (aims_router_new(&router, reg, NULL, &err) < 0) {
		cli_fail("match", "%s", err.message);
		code = EXIT_USAGE;
		goto out;
	}
	report_problems(router);
	if (argc - optind == 1 && strcmp(argv[optind], "-") == 0)
		code = match_lines(router, &o);
	else
		code = match_one(router, utterance.ptr, &o);
out:
	aims_router_free(router);
	aims_registry_free(reg);
	aims_buf_free(&utterance);
	cli_paths_free(&paths);
	return code;
}

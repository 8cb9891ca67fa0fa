/*
 * test_cli_basic.c - the real aims binary: --help, --version, usage errors,
 * `aims list` and `aims show` in text, JSON (parsed back) and HTML.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "support.h"

#define RUN(run, ...) \
	test_run_aims(run, AIMS_SOURCE_DIR, NULL, NULL, (const char *const[]){__VA_ARGS__, NULL})

static void test_help_version_usage(void **state)
{
	test_run run;

	(void)state;
	RUN(&run, "--help");
	assert_int_equal(run.status, 0);
	assert_non_null(strstr(run.out, "Usage: aims COMMAND"));
	assert_non_null(strstr(run.out, "list"));
	assert_non_null(strstr(run.out, "show"));
	test_run_free(&run);

	RUN(&run, "--version");
	assert_int_equal(run.status, 0);
	assert_true(strncmp(run.out, "aims ", 5) == 0);
	test_run_free(&run);

	test_run_aims(&run, AIMS_SOURCE_DIR, NULL, NULL, NULL);
	assert_int_equal(run.status, 2);
	assert_non_null(strstr(run.err, "Usage"));
	test_run_free(&run);

	RUN(&run, "frobnicate");
	assert_int_equal(run.status, 2);
	assert_non_null(strstr(run.err, "aims: frobnicate: unknown command"));
	test_run_free(&run);

	RUN(&run, "list", "--help");
	assert_int_equal(run.status, 0);
	assert_non_null(strstr(run.out, "--type"));
	test_run_free(&run);

	RUN(&run, "list", "--bogus");
	assert_int_equal(run.status, 2);
	assert_non_null(strstr(run.err, "aims: list: unknown or incomplete option '--bogus'"));
	test_run_free(&run);

	RUN(&run, "list", "--type", "widget");
	assert_int_equal(run.status, 2);
	assert_non_null(strstr(run.err, "unknown type 'widget'"));
	test_run_free(&run);

	RUN(&run, "list", "--skills");
	assert_int_equal(run.status, 2);
	test_run_free(&run);

	RUN(&run, "list", "--skills", "/nonexistent/aims-dir");
	assert_int_equal(run.status, 2);
	assert_non_null(strstr(run.err, "aims: loading manifests: /nonexistent/aims-dir"));
	test_run_free(&run);
}

static void test_list_table(void **state)
{
	test_run run;
	char *line2;

	(void)state;
	/* Without --skills: the default path ./skills and ./tools. */
	RUN(&run, "list");
	assert_int_equal(run.status, 0);
	assert_true(strncmp(run.out, "ID ", 3) == 0);
	assert_non_null(strstr(run.out, "SOURCE"));
	line2 = strchr(run.out, '\n') + 1;
	assert_true(
		strncmp(line2,
			"e2b-sandbox  task  active  high      7         skills/e2b-sandbox.md\n",
			69) == 0);
	assert_non_null(strstr(
		line2, "\ne2b          tool  active  medium    0         tools/e2b.tool.md\n"));
	test_run_free(&run);

	RUN(&run, "list", "--skills", "skills", "--type", "tool");
	assert_int_equal(run.status, 0);
	assert_string_equal(run.out, "");
	assert_non_null(strstr(run.err, "no definitions found"));
	test_run_free(&run);
}

static void test_list_json(void **state)
{
	test_run run;
	cJSON *arr, *task, *fields;

	(void)state;
	RUN(&run, "list", "--json", "--skills", "skills", "--skills", "tools");
	assert_int_equal(run.status, 0);
	arr = cJSON_Parse(run.out);
	assert_non_null(arr);
	assert_int_equal(cJSON_GetArraySize(arr), 2);
	task = cJSON_GetArrayItem(arr, 0);
	assert_string_equal(cJSON_GetObjectItem(task, "id")->valuestring, "e2b-sandbox");
	assert_string_equal(cJSON_GetObjectItem(task, "type")->valuestring, "task");
	assert_string_equal(cJSON_GetObjectItem(task, "priority")->valuestring, "high");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(task, "triggers")), 7);
	assert_string_equal(
		cJSON_GetObjectItem(cJSON_GetObjectItem(task, "execution"), "route")->valuestring,
		"/api/code/execute");
	fields = cJSON_GetObjectItem(task, "fields");
	assert_string_equal(
		cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(fields, "dependencies"),
						       "packages"),
				   0)
			->valuestring,
		"@e2b/sdk");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(task, "problems")), 0);
	assert_string_equal(
		cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 1), "envVars")->child->valuestring,
		"E2B_API_KEY");
	cJSON_Delete(arr);
	test_run_free(&run);

	/* Filters and the corpus: unknown keys are kept in fields. */
	RUN(&run, "list", "--json", "--status", "planned", "--skills", "tests/corpus/load");
	assert_int_equal(run.status, 0);
	arr = cJSON_Parse(run.out);
	assert_non_null(arr);
	assert_int_equal(cJSON_GetArraySize(arr), 1);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 0), "id")->valuestring,
			    "later");
	assert_false(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 0), "routable")));
	cJSON_Delete(arr);
	test_run_free(&run);

	RUN(&run, "list", "--json", "--type", "tool", "--skills", "tests/corpus/load");
	arr = cJSON_Parse(run.out);
	assert_non_null(arr);
	for (int i = 0; i < cJSON_GetArraySize(arr); i++) {
		cJSON *m = cJSON_GetArrayItem(arr, i);

		assert_string_equal(cJSON_GetObjectItem(m, "type")->valuestring, "tool");
		if (strcmp(cJSON_GetObjectItem(m, "id")->valuestring, "unknown-keys") == 0)
			assert_string_equal(
				cJSON_GetObjectItem(cJSON_GetObjectItem(m, "fields"), "owner")
					->valuestring,
				"team-a");
	}
	assert_true(cJSON_GetArraySize(arr) >= 3);
	cJSON_Delete(arr);
	test_run_free(&run);
}

static void test_show(void **state)
{
	test_run run;
	cJSON *m, *sections, *blocks;

	(void)state;
	RUN(&run, "show", "e2b-sandbox");
	assert_int_equal(run.status, 0);
	assert_non_null(strstr(run.out, "e2b-sandbox (task, active, priority high)"));
	assert_non_null(strstr(run.out, "run code, execute code, sandbox"));
	assert_non_null(strstr(run.out, "/api/code/execute"));
	assert_non_null(strstr(run.out, "Endpoint"));
	test_run_free(&run);

	RUN(&run, "show", "e2b-sandbox", "--json");
	assert_int_equal(run.status, 0);
	m = cJSON_Parse(run.out);
	assert_non_null(m);
	assert_string_equal(cJSON_GetObjectItem(m, "title")->valuestring,
			    "E2B Code Sandbox Execution Task");
	sections = cJSON_GetObjectItem(m, "sections");
	assert_string_equal(
		cJSON_GetObjectItem(cJSON_GetArrayItem(sections, 0), "title")->valuestring,
		"Endpoint");
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(sections, 0), "line")->valueint,
			 32);
	blocks = cJSON_GetObjectItem(m, "codeBlocks");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(blocks, 0), "info")->valuestring,
			    "json");
	assert_non_null(strstr(cJSON_GetObjectItem(m, "body")->valuestring, "## Pipeline"));
	cJSON_Delete(m);
	test_run_free(&run);

	RUN(&run, "show", "e2b-sandbox", "--html");
	assert_int_equal(run.status, 0);
	assert_non_null(strstr(run.out, "<h2>Endpoint</h2>"));
	assert_non_null(strstr(run.out, "<code class=\"language-json\">"));
	test_run_free(&run);

	RUN(&run, "show", "e2b", "--type", "tool");
	assert_int_equal(run.status, 0);
	assert_non_null(strstr(run.out, "https://e2b.dev/docs"));
	test_run_free(&run);

	RUN(&run, "show", "e2b", "--type", "task");
	assert_int_equal(run.status, 1);
	assert_non_null(strstr(run.err, "aims: show: no definition with id 'e2b' of type task"));
	test_run_free(&run);

	RUN(&run, "show", "no-such-id");
	assert_int_equal(run.status, 1);
	assert_non_null(strstr(run.err, "aims: show: no definition with id 'no-such-id'"));
	test_run_free(&run);

	RUN(&run, "show");
	assert_int_equal(run.status, 2);
	assert_non_null(strstr(run.err, "missing ID"));
	test_run_free(&run);

	RUN(&run, "show", "e2b", "--json", "--html");
	assert_int_equal(run.status, 2);
	test_run_free(&run);
}

/* Untrusted manifests: raw HTML is dropped, control characters do not
 * reach the terminal table. */
static void test_hostile_manifest(void **state)
{
	char *dir = test_tmpdir();
	test_run run;

	(void)state;
	test_write_str(dir, "skills/evil.md",
		       "---\nid: \"evil\\e[31m\\nid\"\ntype: skill\n---\n# "
		       "Evil\n\n<script>alert(1)</script>\n\n"
		       "[x](javascript:alert(1))\n");
	test_run_aims(&run, dir, NULL, NULL, (const char *const[]){"list", NULL});
	assert_int_equal(run.status, 0);
	assert_null(strchr(run.out, '\033'));
	assert_non_null(strstr(run.out, "evil [31m id"));
	test_run_free(&run);

	test_run_aims(&run, dir, NULL, NULL,
		      (const char *const[]){"show", "evil\033[31m\nid", NULL});
	assert_int_equal(run.status, 0);
	assert_null(strchr(run.out, '\033'));
	assert_non_null(strstr(run.out, "evil [31m id (skill"));
	test_run_free(&run);

	test_run_aims(&run, dir, NULL, NULL,
		      (const char *const[]){"show", "evil\033[31m\nid", "--html", NULL});
	assert_int_equal(run.status, 0);
	assert_null(strstr(run.out, "<script>"));
	assert_null(strstr(run.out, "javascript:"));
	test_run_free(&run);
	test_rmtree(dir);
	free(dir);
}

static void test_skills_path_env(void **state)
{
	test_run run;

	(void)state;
	test_run_aims(&run, "/", NULL,
		      (const char *const[]){"AIMS_SKILLS_PATH=" AIMS_SOURCE_DIR "/tools", NULL},
		      (const char *const[]){"list", NULL});
	assert_int_equal(run.status, 0);
	assert_non_null(strstr(run.out, "e2b "));
	assert_null(strstr(run.out, "e2b-sandbox"));
	test_run_free(&run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_help_version_usage), cmocka_unit_test(test_list_table),
		cmocka_unit_test(test_list_json),	   cmocka_unit_test(test_show),
		cmocka_unit_test(test_hostile_manifest),   cmocka_unit_test(test_skills_path_env),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

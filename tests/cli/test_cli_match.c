/*
 * test_cli_match.c - `aims match` against the real binary and the routing
 * test registry (tests/routing/registry): JSON and human output, batch
 * mode, flags, errors and exit codes.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

#define REGISTRY AIMS_TEST_DIR "/routing/registry"

static cJSON *parse_json(const char *text)
{
	cJSON *json = cJSON_Parse(text);

	if (!json)
		fail_msg("not JSON: %s", text);
	return json;
}

static const char *str(const cJSON *obj, const char *key)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);

	assert_true(cJSON_IsString(item));
	return item->valuestring;
}

static void test_json_plan(void **state)
{
	const char *argv[] = {"match", "--skills", REGISTRY, "--json", "please flip 12 Main St",
			      NULL};
	test_run run;
	cJSON *json, *task, *slots, *span;

	(void)state;
	test_run_aims(&run, NULL, NULL, NULL, argv);
	assert_int_equal(run.status, 0);
	json = parse_json(run.out);
	assert_string_equal(str(json, "status"), "matched");
	assert_string_equal(str(json, "utterance"), "please flip 12 Main St");
	task = cJSON_GetObjectItem(json, "task");
	assert_string_equal(str(task, "id"), "flip-house");
	assert_string_equal(str(task, "kind"), "task");
	assert_string_equal(str(task, "trigger"), "flip {address}");
	assert_string_equal(str(task, "text"), "flip 12 Main St");
	slots = cJSON_GetObjectItem(task, "slots");
	assert_string_equal(str(slots, "address"), "12 Main St");
	span = cJSON_GetObjectItem(task, "span");
	assert_int_equal(cJSON_GetObjectItem(span, "start")->valueint, 7);
	assert_int_equal(cJSON_GetObjectItem(span, "end")->valueint, 22);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(task, "ready")));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(task, "missing")), 0);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(json, "candidates")), 1);
	/* 12 of 18 non-space characters, rounded to 3 decimals */
	assert_true(cJSON_GetObjectItem(task, "confidence")->valuedouble == 0.667);
	assert_null(cJSON_GetObjectItem(task, "explain"));
	cJSON_Delete(json);
	/* triggers that cannot compile are reported once, with their position */
	assert_non_null(strstr(run.err, "broken.md:9:5: trigger \"re:(unclosed\" skipped"));
	test_run_free(&run);
}

static void test_json_ambiguous_and_explain(void **state)
{
	const char *argv[] = {"match",	   "--skills", REGISTRY, "research quantum computing",
			      "--explain", "--json",   NULL};
	test_run run;
	cJSON *json, *alternatives, *first;

	(void)state;
	test_run_aims(&run, NULL, NULL, NULL, argv);
	assert_int_equal(run.status, 0);
	json = parse_json(run.out);
	assert_string_equal(str(json, "status"), "ambiguous");
	assert_string_equal(str(cJSON_GetObjectItem(json, "task"), "id"), "deep-research");
	alternatives = cJSON_GetObjectItem(json, "alternatives");
	assert_int_equal(cJSON_GetArraySize(alternatives), 1);
	assert_string_equal(str(cJSON_GetArrayItem(alternatives, 0), "id"), "web-research");
	assert_string_equal(str(cJSON_GetArrayItem(cJSON_GetObjectItem(json, "skills"), 0), "id"),
			    "research-notes");
	first = cJSON_GetArrayItem(cJSON_GetObjectItem(json, "candidates"), 0);
	assert_non_null(strstr(str(first, "explain"),
			       "phrase: 8 literal characters + 1 word x 2 + 0 slots x 1 = 10"));
	assert_int_equal(
		cJSON_GetObjectItem(cJSON_GetObjectItem(first, "scoreParts"), "specificity")
			->valueint,
		10);
	cJSON_Delete(json);
	test_run_free(&run);
}

static void test_human_output(void **state)
{
	const char *argv[] = {"match", "--skills", REGISTRY, "--explain", "deploy", "prod", NULL};
	test_run run;

	(void)state;
	test_run_aims(&run, NULL, NULL, NULL, argv);
	assert_int_equal(run.status, 0);
	assert_non_null(strstr(run.out, "status       matched\n"));
	assert_non_null(strstr(run.out, "task         deploy (trigger"));
	assert_non_null(strstr(run.out, "slots        env=\"prod\"\n"));
	assert_non_null(strstr(run.out, "hooks        cost-guard, logger\n"));
	assert_non_null(strstr(run.out, "RANK  ID"));
	assert_non_null(strstr(
		run.out, "deploy: pattern: 1 + 6 required literal characters + 1 slot x 1 = 8"));
	/* no colour when not on a terminal */
	assert_null(strchr(run.out, '\033'));
	test_run_free(&run);
}

static void test_all_shows_every_trigger(void **state)
{
	const char *argv[] = {"match", "--skills", REGISTRY, "Run Python, then run bash", NULL};
	const char *argv_all[] = {
		"match", "--skills", REGISTRY, "--all", "Run Python, then run bash", NULL};
	test_run run;

	(void)state;
	test_run_aims(&run, NULL, NULL, NULL, argv);
	assert_int_equal(run.status, 0);
	assert_null(strstr(run.out, "run bash "));
	test_run_free(&run);
	test_run_aims(&run, NULL, NULL, NULL, argv_all);
	assert_int_equal(run.status, 0);
	assert_non_null(strstr(run.out, "run bash "));
	assert_non_null(strstr(run.out, "(11)"));
	test_run_free(&run);
}

static void test_no_match_exit_code(void **state)
{
	const char *argv[] = {"match", "--skills", REGISTRY, "legacy runner", NULL};
	const char *argv_inactive[] = {"match",		"--skills", REGISTRY, "--include-inactive",
				       "legacy runner", NULL};
	test_run run;

	(void)state;
	test_run_aims(&run, NULL, NULL, NULL, argv);
	assert_int_equal(run.status, 1);
	assert_non_null(strstr(run.out, "status       no_match\n"));
	test_run_free(&run);
	test_run_aims(&run, NULL, NULL, NULL, argv_inactive);
	assert_int_equal(run.status, 0);
	assert_non_null(strstr(run.out, "old-runner"));
	test_run_free(&run);
}

static void test_batch_lines(void **state)
{
	const char *argv[] = {"match", "--skills", REGISTRY, "-", NULL};
	const char *input = "run python\r\nbuild\n\nÜBERPRÜFE DEN CODE\nsend 5 to Bob";
	const char *expect[][2] = {{"matched", "code-runner"},
				   {"ambiguous", "build-app"},
				   {"no_match", NULL},
				   {"matched", "code-review"},
				   {"matched", "send-money"}};
	test_run run;
	char *line, *next;
	size_t n = 0;

	(void)state;
	test_run_aims(&run, NULL, input, NULL, argv);
	assert_int_equal(run.status, 0);
	for (line = run.out; *line; line = next) {
		cJSON *json, *task;

		next = strchr(line, '\n');
		assert_non_null(next);
		*next++ = '\0';
		json = parse_json(line);

		assert_true(n < 5);
		assert_string_equal(str(json, "status"), expect[n][0]);
		task = cJSON_GetObjectItem(json, "task");
		if (expect[n][1])
			assert_string_equal(str(task, "id"), expect[n][1]);
		else
			assert_true(cJSON_IsNull(task));
		if (n == 0)
			assert_string_equal(str(json, "utterance"), "run python");
		cJSON_Delete(json);
		n++;
	}
	assert_int_equal(n, 5);
	test_run_free(&run);
}

static void test_batch_long_line(void **state)
{
	const char *argv[] = {"match", "--skills", REGISTRY, "-", NULL};
	size_t big = 20000;
	char *input = malloc(big + 64);
	test_run run;
	cJSON *json;
	char *second;

	(void)state;
	memcpy(input, "run python\n", 11);
	memset(input + 11, 'a', big);
	memcpy(input + 11 + big, "\nbuild docs\n", 13);
	test_run_aims(&run, NULL, input, NULL, argv);
	assert_int_equal(run.status, 1);
	second = strchr(run.out, '\n');
	assert_non_null(second);
	json = parse_json(second + 1);
	assert_int_equal(cJSON_GetObjectItem(json, "line")->valueint, 2);
	assert_non_null(strstr(str(json, "error"), "over the limit of 16384 bytes"));
	cJSON_Delete(json);
	assert_non_null(strstr(second + 1, "\"task\":{\"id\":\"build-docs\""));
	test_run_free(&run);
	free(input);
}

/* Untrusted text (here: a slot from the utterance) never drives the
 * terminal, and JSON escapes it. */
static void test_control_characters(void **state)
{
	const char *argv[] = {"match", "--skills", REGISTRY, "flip 12\033[2J Main\a St", NULL};
	const char *argv_json[] = {
		"match", "--skills", REGISTRY, "--json", "flip 12\033[2J Main St", NULL};
	test_run run;
	cJSON *json;

	(void)state;
	test_run_aims(&run, NULL, NULL, NULL, argv);
	assert_int_equal(run.status, 0);
	assert_non_null(strstr(run.out, "address=\"12 [2J Main  St\""));
	assert_null(strchr(run.out, '\033'));
	assert_null(strchr(run.out, '\a'));
	test_run_free(&run);
	test_run_aims(&run, NULL, NULL, NULL, argv_json);
	assert_int_equal(run.status, 0);
	assert_non_null(strstr(run.out, "\\u001b[2J"));
	json = parse_json(run.out);
	assert_string_equal(
		str(cJSON_GetObjectItem(cJSON_GetObjectItem(json, "task"), "slots"), "address"),
		"12\033[2J Main St");
	cJSON_Delete(json);
	test_run_free(&run);
}

static void test_errors(void **state)
{
	const char *none[] = {"match", "--skills", REGISTRY, NULL};
	const char *bad_option[] = {"match", "--bogus", "x", NULL};
	const char *missing_dir[] = {"match", "--skills", "/nonexistent/dir", "x", NULL};
	const char *invalid_utf8[] = {"match", "--skills", REGISTRY, "run \xff python", NULL};
	const char *help[] = {"match", "--help", NULL};
	char *huge = malloc(20001);
	const char *too_big[] = {"match", "--skills", REGISTRY, huge, NULL};
	test_run run;

	(void)state;
	test_run_aims(&run, NULL, NULL, NULL, none);
	assert_int_equal(run.status, 2);
	assert_non_null(strstr(run.err, "aims: match: missing UTTERANCE"));
	test_run_free(&run);

	test_run_aims(&run, NULL, NULL, NULL, bad_option);
	assert_int_equal(run.status, 2);
	assert_non_null(strstr(run.err, "unknown or incomplete option '--bogus'"));
	test_run_free(&run);

	test_run_aims(&run, NULL, NULL, NULL, missing_dir);
	assert_int_equal(run.status, 2);
	test_run_free(&run);

	test_run_aims(&run, NULL, NULL, NULL, invalid_utf8);
	assert_int_equal(run.status, 1);
	assert_non_null(strstr(run.err, "aims: match: utterance is not valid UTF-8 (byte 4)"));
	test_run_free(&run);

	memset(huge, 'z', 20000);
	huge[20000] = '\0';
	test_run_aims(&run, NULL, NULL, NULL, too_big);
	assert_int_equal(run.status, 1);
	assert_non_null(strstr(run.err, "aims: match: utterance is 20000 bytes, over the limit "
					"of 16384 bytes"));
	assert_int_equal(run.out_len, 0);
	test_run_free(&run);
	free(huge);

	test_run_aims(&run, NULL, NULL, NULL, help);
	assert_int_equal(run.status, 0);
	assert_non_null(strstr(run.out, "Usage: aims match"));
	test_run_free(&run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_plan),
		cmocka_unit_test(test_json_ambiguous_and_explain),
		cmocka_unit_test(test_human_output),
		cmocka_unit_test(test_all_shows_every_trigger),
		cmocka_unit_test(test_no_match_exit_code),
		cmocka_unit_test(test_batch_lines),
		cmocka_unit_test(test_batch_long_line),
		cmocka_unit_test(test_control_characters),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

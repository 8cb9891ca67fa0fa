/*
 * test_cli_run.c - `aims run` end to end with the real binary and the real
 * sandbox: code from the utterance (text after the trigger, a fenced
 * block), slots into a command task, loading a skill, dry runs, JSON,
 * refusals and usage errors.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "support.h"

static char *dir;

static int setup(void **state)
{
	(void)state;
	dir = test_tmpdir();
	test_write_str(dir, "skills/flip.md",
		       "---\nid: flip\ntype: task\nname: Flip\ndescription: Flips a house.\n"
		       "triggers: [\"flip {address}\"]\nexecution:\n  target: command\n"
		       "  command: 'echo \"flipping $AIMS_SLOT_ADDRESS\"'\n---\n");
	test_write_str(dir, "skills/guide.md",
		       "---\nid: guide\ntype: skill\nname: Guide\ndescription: d\n"
		       "triggers: [style guide]\n---\n# Guide\n\nBe kind.\n");
	test_write_str(dir, "skills/locked.md",
		       "---\nid: locked\ntype: task\ntriggers: [open the vault]\n"
		       "execution: {target: internal}\ndependencies:\n  env: "
		       "[AIMS_TEST_VAULT_KEY]\n---\n");
	test_write_str(dir, "code.py", "import sys\nprint('from a file', sys.version_info[0])\n");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	test_rmtree(dir);
	free(dir);
	return 0;
}

#define SEED(run, ...)                                                                         \
	test_run_aims(run, AIMS_SOURCE_DIR, NULL, (const char *const[]){"E2B_API_KEY=", NULL}, \
		      (const char *const[]){__VA_ARGS__, NULL})
#define TREE(run, ...) test_run_aims(run, dir, NULL, NULL, (const char *const[]){__VA_ARGS__, NULL})

static void test_code_from_utterance(void **state)
{
	test_run run;

	(void)state;
	SEED(&run, "run", "run python: print(6*7)");
	assert_int_equal(run.status, 0);
	assert_string_equal(run.out, "42\n");
	test_run_free(&run);

	SEED(&run, "run", "please run bash on this\n```bash\necho \"hi $((6*7))\"\nexit 3\n```");
	assert_int_equal(run.status, 3);
	assert_string_equal(run.out, "hi 42\n");
	test_run_free(&run);

	SEED(&run, "run", "run javascript: console.log([1,2,3].map(x => x * 2).join(','))");
	assert_int_equal(run.status, 0);
	assert_string_equal(run.out, "2,4,6\n");
	test_run_free(&run);

	/* --input overrides what the utterance says. */
	SEED(&run, "run", "run code", "--input", "{\"code\": \"echo $0\", \"language\": \"bash\"}");
	assert_int_equal(run.status, 0);
	assert_non_null(strstr(run.out, "main.sh"));
	test_run_free(&run);

	{
		char *path = test_join(dir, "code.py");

		SEED(&run, "run", "--id", "e2b-sandbox", "--code-file", path);
		assert_int_equal(run.status, 0);
		assert_string_equal(run.out, "from a file 3\n");
		test_run_free(&run);
		free(path);
	}

	SEED(&run, "run", "run python");
	assert_int_equal(run.status, 1);
	assert_non_null(strstr(run.err, "aims: run: no code found"));
	test_run_free(&run);
}

static void test_slots_and_load(void **state)
{
	test_run run;

	(void)state;
	TREE(&run, "run", "flip 12 Main St");
	assert_int_equal(run.status, 0);
	assert_string_equal(run.out, "flipping 12 Main St\n");
	test_run_free(&run);

	TREE(&run, "run", "show me the style guide");
	assert_int_equal(run.status, 0);
	assert_non_null(strstr(run.out, "guide (skill"));
	test_run_free(&run);

	TREE(&run, "run", "--id", "guide");
	assert_int_equal(run.status, 0);
	assert_non_null(strstr(run.out, "Be kind."));
	test_run_free(&run);
}

static void test_dry_run_and_json(void **state)
{
	test_run run;
	cJSON *json;

	(void)state;
	SEED(&run, "run", "run python: print(1)", "--dry-run");
	assert_int_equal(run.status, 0);
	assert_string_equal(run.out, "would run e2b-sandbox with the code executor in python\n");
	test_run_free(&run);

	SEED(&run, "run", "run python: print(6*7)", "--json");
	assert_int_equal(run.status, 0);
	json = cJSON_Parse(run.out);
	assert_non_null(json);
	assert_string_equal(
		cJSON_GetObjectItem(cJSON_GetObjectItem(json, "plan"), "status")->valuestring,
		"matched");
	assert_string_equal(
		cJSON_GetObjectItem(
			cJSON_GetObjectItem(cJSON_GetObjectItem(json, "result"), "result"),
			"stdout")
			->valuestring,
		"42\n");
	assert_string_equal(
		cJSON_GetObjectItem(cJSON_GetObjectItem(json, "result"), "executor")->valuestring,
		"code");
	cJSON_Delete(json);
	test_run_free(&run);

	/* --json keeps the program's own exit code. */
	SEED(&run, "run", "run python: import sys; sys.exit(3)", "--json");
	assert_int_equal(run.status, 3);
	test_run_free(&run);

	SEED(&run, "run", "good morning", "--json");
	assert_int_equal(run.status, 1);
	json = cJSON_Parse(run.out);
	assert_non_null(json);
	assert_string_equal(
		cJSON_GetObjectItem(cJSON_GetObjectItem(json, "plan"), "status")->valuestring,
		"no_match");
	assert_non_null(strstr(cJSON_GetObjectItem(json, "error")->valuestring,
			       "no task or skill matches"));
	cJSON_Delete(json);
	test_run_free(&run);
}

static void test_refusals_and_usage(void **state)
{
	test_run run;

	(void)state;
	TREE(&run, "run", "open the vault");
	assert_int_equal(run.status, 1);
	assert_non_null(strstr(
		run.err,
		"aims: run: locked is not ready: missing env AIMS_TEST_VAULT_KEY (not set)"));
	test_run_free(&run);

	SEED(&run, "run", "good morning");
	assert_int_equal(run.status, 1);
	assert_non_null(strstr(run.err, "no task or skill matches"));
	test_run_free(&run);

	SEED(&run, "run");
	assert_int_equal(run.status, 2);
	test_run_free(&run);
	SEED(&run, "run", "a", "b");
	assert_int_equal(run.status, 2);
	assert_non_null(strstr(run.err, "quote the utterance"));
	test_run_free(&run);
	SEED(&run, "run", "x", "--input", "{}", "--code-file", "f");
	assert_int_equal(run.status, 2);
	test_run_free(&run);
	SEED(&run, "run", "--id", "nope");
	assert_int_equal(run.status, 1);
	assert_non_null(strstr(run.err, "no definition with id 'nope'"));
	test_run_free(&run);
	SEED(&run, "run", "run python: 1", "--input", "[1]");
	assert_int_equal(run.status, 1);
	assert_non_null(strstr(run.err, "must be a JSON object"));
	test_run_free(&run);
	SEED(&run, "run", "--help");
	assert_int_equal(run.status, 0);
	assert_non_null(strstr(run.out, "--dry-run"));
	test_run_free(&run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_code_from_utterance),
		cmocka_unit_test(test_slots_and_load),
		cmocka_unit_test(test_dry_run_and_json),
		cmocka_unit_test(test_refusals_and_usage),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

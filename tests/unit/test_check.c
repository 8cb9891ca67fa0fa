/*
 * test_check.c - requirements: env (values never reported), files under
 * the root, npm / pip / deb packages, tool env_vars, and the built-in
 * executor exception of the code task.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aims/check.h"
#include "aims/dispatch.h"
#include "aims/json.h"
#include "support.h"

static char *root;

static int setup(void **state)
{
	(void)state;
	root = test_tmpdir();
	test_write_str(root, "present.txt", "x");
	test_write_str(root, "package.json",
		       "{\"dependencies\": {\"left-pad\": \"1\"}, \"devDependencies\": "
		       "{\"@scope/dev\": \"2\"}}");
	test_write_str(root, "node_modules/@e2b/sdk/package.json", "{}");
	test_write_str(root, ".venv/lib/python3.11/site-packages/Foo_Bar-1.0.dist-info/METADATA",
		       "");
	test_write_str(root, "dpkg-status",
		       "Package: aims-installed\nStatus: install ok installed\nVersion: 1\n\n"
		       "Package: aims-removed\nStatus: deinstall ok config-files\nVersion: 1\n\n"
		       "Package: aims-installed-too\nStatus: install ok installed\n");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	test_rmtree(root);
	free(root);
	return 0;
}

static aims_manifest *parse(const char *text)
{
	aims_manifest *m = NULL;
	aims_error err;

	aims_error_clear(&err);
	assert_int_equal(aims_manifest_parse(&m, "skills/t.md", text, strlen(text), &err), 0);
	return m;
}

static aims_readiness *check(const aims_manifest *m)
{
	aims_check_options opts = {root};
	aims_readiness *r = NULL;
	aims_error err;

	aims_error_clear(&err);
	assert_int_equal(aims_check_definition(&r, m, &opts, &err), 0);
	return r;
}

static const aims_requirement *req(const aims_readiness *r, const char *name)
{
	for (size_t i = 0; i < r->count; i++)
		if (strcmp(r->items[i].name, name) == 0)
			return &r->items[i];
	fail_msg("no requirement %s", name);
	return NULL;
}

static void test_env(void **state)
{
	aims_manifest *m = parse("---\nid: t\ntype: task\ndependencies:\n  env: [AIMS_T_SET, "
				 "AIMS_T_EMPTY, AIMS_T_UNSET]\n---\n");
	aims_readiness *r;
	char *json;

	(void)state;
	setenv("AIMS_T_SET", "s3cr3t-value", 1);
	setenv("AIMS_T_EMPTY", "", 1);
	unsetenv("AIMS_T_UNSET");
	r = check(m);
	assert_false(r->ready);
	assert_int_equal(aims_readiness_missing(r), 2);
	assert_true(req(r, "AIMS_T_SET")->met);
	assert_false(req(r, "AIMS_T_EMPTY")->met);
	assert_string_equal(req(r, "AIMS_T_EMPTY")->detail, "set but empty");
	assert_string_equal(req(r, "AIMS_T_UNSET")->detail, "not set");
	assert_int_equal(req(r, "AIMS_T_UNSET")->pos.line, 5);
	{
		cJSON *tree = aims_json_readiness(r);

		json = cJSON_PrintUnformatted(tree);
		cJSON_Delete(tree);
	}
	assert_null(strstr(json, "s3cr3t"));
	assert_non_null(strstr(json, "\"missing\":[\"AIMS_T_EMPTY\",\"AIMS_T_UNSET\"]"));
	free(json);
	aims_readiness_free(r);
	aims_manifest_free(m);
}

static void test_files_and_packages(void **state)
{
	aims_manifest *m = parse(
		"---\nid: t\ntype: task\ndependencies:\n  files: [present.txt, absent.txt]\n"
		"  packages: [left-pad, \"@scope/dev\", \"@e2b/sdk\", missing-pkg, \"../escape\",\n"
		"             \"pip:foo.bar\", \"pip:Foo-Bar\", \"pip:nope\", "
		"\"deb:aims-installed\",\n"
		"             \"deb:aims-removed\", \"deb:aims-absent\", "
		"\"deb:aims-installed-too\"]\n---\n");
	aims_readiness *r;

	(void)state;
	{
		char *status = test_join(root, "dpkg-status");

		setenv("AIMS_DPKG_STATUS", status, 1);
		free(status);
	}
	r = check(m);
	assert_true(req(r, "present.txt")->met);
	assert_false(req(r, "absent.txt")->met);
	assert_true(req(r, "left-pad")->met);
	assert_true(req(r, "@scope/dev")->met);
	assert_true(req(r, "@e2b/sdk")->met);
	assert_false(req(r, "missing-pkg")->met);
	assert_false(req(r, "../escape")->met);
	assert_true(req(r, "pip:foo.bar")->met);
	assert_true(req(r, "pip:Foo-Bar")->met);
	assert_false(req(r, "pip:nope")->met);
	assert_true(req(r, "deb:aims-installed")->met);
	assert_false(req(r, "deb:aims-removed")->met);
	assert_false(req(r, "deb:aims-absent")->met);
	assert_true(req(r, "deb:aims-installed-too")->met);
	assert_int_equal(aims_readiness_missing(r), 6);
	assert_false(r->ready);
	aims_readiness_free(r);
	aims_manifest_free(m);
	unsetenv("AIMS_DPKG_STATUS");
}

static void test_tool_env_vars(void **state)
{
	aims_manifest *m = parse("---\nid: gh\ntype: tool\nenv_vars: [AIMS_T_TOKEN]\n---\n");
	aims_readiness *r;

	(void)state;
	unsetenv("AIMS_T_TOKEN");
	r = check(m);
	assert_false(r->ready);
	assert_false(r->builtin);
	aims_readiness_free(r);
	setenv("AIMS_T_TOKEN", "x", 1);
	r = check(m);
	assert_true(r->ready);
	aims_readiness_free(r);
	aims_manifest_free(m);
}

static void test_code_task_exception(void **state)
{
	aims_manifest *m = NULL;
	aims_readiness *r;
	aims_error err;

	(void)state;
	aims_error_clear(&err);
	assert_int_equal(aims_manifest_load(&m, AIMS_SOURCE_DIR "/skills/e2b-sandbox.md", &err), 0);
	unsetenv("E2B_API_KEY");
	unsetenv("AIMS_CODE_BACKEND");
	r = check(m);
	/* No key: ready on the local backend, and the report says so. */
	assert_true(r->builtin);
	assert_int_equal(r->backend, AIMS_BACKEND_LOCAL);
	assert_true(r->ready);
	assert_string_equal(r->note,
			    "E2B_API_KEY missing: e2b backend unavailable; local backend serves");
	assert_true(req(r, "E2B_API_KEY")->informational);
	assert_false(req(r, "E2B_API_KEY")->met);
	assert_true(req(r, "@e2b/sdk")->informational);
	assert_true(req(r, "local")->met);
	aims_readiness_free(r);

	/* Forced to e2b without a key: not ready, and it says why. */
	setenv("AIMS_CODE_BACKEND", "e2b", 1);
	r = check(m);
	assert_false(r->ready);
	assert_int_equal(r->backend, AIMS_BACKEND_E2B);
	assert_non_null(strstr(req(r, "e2b")->detail, "E2B_API_KEY"));
	aims_readiness_free(r);

	/* With a key, auto picks e2b and there is no note. */
	unsetenv("AIMS_CODE_BACKEND");
	setenv("E2B_API_KEY", "e2b_0123456789abcdef", 1);
	r = check(m);
	assert_true(r->ready);
	assert_int_equal(r->backend, AIMS_BACKEND_E2B);
	assert_null(r->note);
	assert_true(req(r, "E2B_API_KEY")->met);
	aims_readiness_free(r);
	unsetenv("E2B_API_KEY");
	aims_manifest_free(m);
}

/* Built in whatever the case of the target, or with no target: readiness
 * and dispatch decide by the same rule. */
static void test_builtin_rule(void **state)
{
	aims_manifest *upper =
		parse("---\nid: up\ntype: task\nexecution: {target: API, route: "
		      "/api/code/execute}\ndependencies: {env: [AIMS_T_NEVER_SET]}\n---\n");
	aims_manifest *none = parse("---\nid: none\ntype: task\nexecution: {route: "
				    "/api/code/execute}\n---\n");
	aims_manifest *other = parse("---\nid: other\ntype: task\nexecution: {target: command, "
				     "route: /api/code/execute}\n---\n");
	aims_readiness *r;

	(void)state;
	unsetenv("E2B_API_KEY");
	unsetenv("AIMS_T_NEVER_SET");
	assert_true(aims_check_is_builtin(upper));
	assert_true(aims_check_is_builtin(none));
	assert_false(aims_check_is_builtin(other));
	r = check(upper);
	assert_true(r->builtin);
	assert_true(r->ready); /* the declared env is information only */
	assert_int_equal(aims_dispatch_executor_for(upper), AIMS_EXECUTOR_CODE);
	aims_readiness_free(r);
	aims_manifest_free(upper);
	aims_manifest_free(none);
	aims_manifest_free(other);
}

static void test_cli_check(void **state)
{
	test_run run;
	cJSON *arr;

	(void)state;
	test_run_aims(&run, AIMS_SOURCE_DIR, NULL, (const char *const[]){"E2B_API_KEY=", NULL},
		      (const char *const[]){"check", "e2b-sandbox", NULL});
	assert_int_equal(run.status, 0);
	assert_non_null(strstr(run.out, "local backend serves"));
	test_run_free(&run);

	test_run_aims(&run, AIMS_SOURCE_DIR, NULL, (const char *const[]){"E2B_API_KEY=", NULL},
		      (const char *const[]){"check", "e2b", NULL});
	assert_int_equal(run.status, 1);
	assert_non_null(strstr(run.out, "env E2B_API_KEY (set but empty)"));
	test_run_free(&run);

	test_run_aims(&run, AIMS_SOURCE_DIR, NULL,
		      (const char *const[]){"E2B_API_KEY=e2b_topsecretvalue", NULL},
		      (const char *const[]){"check", "--json", NULL});
	assert_int_equal(run.status, 0);
	assert_null(strstr(run.out, "topsecret"));
	arr = cJSON_Parse(run.out);
	assert_non_null(arr);
	assert_int_equal(cJSON_GetArraySize(arr), 2);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 1), "ready")));
	cJSON_Delete(arr);
	test_run_free(&run);

	test_run_aims(&run, AIMS_SOURCE_DIR, NULL, NULL,
		      (const char *const[]){"check", "nope", NULL});
	assert_int_equal(run.status, 1);
	assert_non_null(strstr(run.err, "aims: check: no definition with id 'nope'"));
	test_run_free(&run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_env),	      cmocka_unit_test(test_files_and_packages),
		cmocka_unit_test(test_tool_env_vars), cmocka_unit_test(test_code_task_exception),
		cmocka_unit_test(test_builtin_rule),  cmocka_unit_test(test_cli_check),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

/*
 * test_cli_validate.c - `aims validate` as CI runs it: exit codes, the four
 * formats through the real binary, paths relative to the working
 * directory, the default search path, --root and usage errors.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "support.h"

static const char *const good =
	"---\nid: good\nname: Good\ntype: task\ndescription: d\ntriggers: [do good things]\n---\n";
static const char *const warns =
	"---\nid: warns\nname: Warns\ntype: task\ndescription: d\ncolour: blue\n---\n";
static const char *const bad = "---\nid: bad\nname: [oops\n---\n";

typedef struct fixture {
	char *dir;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	f->dir = test_tmpdir();
	test_write_str(f->dir, "skills/good.md", good);
	test_write_str(f->dir, "skills/README.md", "# Not a manifest\n");
	test_write_str(f->dir, "warn/warns.md", warns);
	test_write_str(f->dir, "bad/bad.md", bad);
	test_write_str(f->dir, "bad/good2.md",
		       "---\nid: good2\nname: G\ntype: task\ndescription: d\n---\n");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	test_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static void run_in(test_run *run, const char *cwd, const char *const *argv)
{
	static const char *const env[] = {"NO_COLOR=1", "AIMS_SKILLS_PATH=", NULL};

	test_run_aims(run, cwd, NULL, env, argv);
}

static void test_clean_exit_zero(void **state)
{
	fixture *f = *state;
	test_run run;
	const char *argv[] = {"validate", "skills", NULL};

	run_in(&run, f->dir, argv);
	assert_int_equal(run.status, 0);
	/* The README in a directory is skipped silently. */
	assert_string_equal(run.out, "0 errors, 0 warnings in 1 file\n");
	test_run_free(&run);
}

/* The manifests an installed aims bundles (`cmake --install`), which the
 * default search path ends with: none on a machine where aims is not
 * installed. */
static size_t installed_manifests(void)
{
	DIR *d = opendir(AIMS_TEST_INSTALLED_MANIFESTS);
	struct dirent *e;
	size_t n = 0;

	while (d && (e = readdir(d))) {
		size_t len = strlen(e->d_name);

		n += len > 3 && strcmp(e->d_name + len - 3, ".md") == 0;
	}
	if (d)
		closedir(d);
	return n;
}

static void test_default_search_path(void **state)
{
	fixture *f = *state;
	test_run run;
	const char *argv[] = {"validate", NULL};
	size_t n = 1 + installed_manifests();
	char expected[64];

	/* No PATH: ./skills (and ./tools) of the working directory, then
	 * the installed manifests (clean). */
	snprintf(expected, sizeof(expected), "0 errors, 0 warnings in %zu file%s\n", n,
		 n == 1 ? "" : "s");
	run_in(&run, f->dir, argv);
	assert_int_equal(run.status, 0);
	assert_string_equal(run.out, expected);
	test_run_free(&run);
}

static void test_nothing_to_validate(void **state)
{
	fixture *f = *state;
	test_run run;
	char *empty = test_join(f->dir, "empty");
	const char *argv[] = {"validate", NULL};

	/* An empty search path is not an error, but it is said. */
	if (installed_manifests()) {
		fprintf(stderr, "SKIPPED: aims is installed: its manifests are on the default "
				"search path\n");
		free(empty);
		skip();
	}
	test_write_str(f->dir, "empty/notes.txt", "not markdown\n");
	run_in(&run, empty, argv);
	assert_int_equal(run.status, 0);
	assert_string_equal(run.out, "0 errors, 0 warnings in 0 files\n");
	assert_non_null(strstr(run.err, "no manifest files found"));
	test_run_free(&run);
	free(empty);
}

static void test_warnings_and_strict(void **state)
{
	fixture *f = *state;
	test_run run;
	const char *argv[] = {"validate", "warn", NULL};
	const char *strict[] = {"validate", "--strict", "warn", NULL};

	run_in(&run, f->dir, argv);
	assert_int_equal(run.status, 0);
	assert_string_equal(run.out, "warn/warns.md:6:1: warning: unknown key 'colour' (kept) "
				     "[unknown-key]\n0 errors, 1 warning in 1 file\n");
	test_run_free(&run);

	run_in(&run, f->dir, strict);
	assert_int_equal(run.status, 1);
	assert_non_null(strstr(run.out, "warn/warns.md:6:1: error: "));
	assert_non_null(strstr(run.out, "1 error, 0 warnings in 1 file\n"));
	test_run_free(&run);
}

static void test_errors_exit_one_and_others_checked(void **state)
{
	fixture *f = *state;
	test_run run;
	char *abs_bad = test_join(f->dir, "bad");
	const char *argv[] = {"validate", abs_bad, "warn", "skills/README.md", NULL};

	/* An absolute path is shown relative to the working directory. */
	run_in(&run, f->dir, argv);
	assert_int_equal(run.status, 1);
	assert_non_null(strstr(run.out, "bad/bad.md:4:1: error: YAML: "));
	assert_non_null(strstr(run.out, "[yaml-syntax]\n"));
	assert_null(strstr(run.out, f->dir));
	/* The YAML error did not stop the other files. */
	assert_non_null(strstr(run.out, "warn/warns.md:6:1: warning: "));
	/* A file named explicitly without front matter is reported. */
	assert_non_null(strstr(run.out, "skills/README.md:1:1: warning: no front matter"));
	assert_non_null(strstr(run.out, "1 error, 2 warnings in 4 files\n"));
	/* Sorted by file: bad/ before skills/ before warn/. */
	assert_true(strstr(run.out, "bad/bad.md") < strstr(run.out, "skills/README.md"));
	assert_true(strstr(run.out, "skills/README.md") < strstr(run.out, "warn/warns.md"));
	test_run_free(&run);
	free(abs_bad);
}

static void test_json_format(void **state)
{
	fixture *f = *state;
	test_run run;
	const char *argv[] = {"validate", "--format", "json", "bad", "warn", NULL};
	const char *alias[] = {"validate", "--json", "skills", NULL};
	cJSON *json, *diags, *files;

	run_in(&run, f->dir, argv);
	assert_int_equal(run.status, 1);
	json = cJSON_Parse(run.out);
	assert_non_null(json);
	diags = cJSON_GetObjectItem(json, "diagnostics");
	files = cJSON_GetObjectItem(json, "files");
	assert_int_equal(cJSON_GetArraySize(diags), 2);
	assert_int_equal(cJSON_GetArraySize(files), 3);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(diags, 0), "file")->valuestring,
			    "bad/bad.md");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(diags, 0), "rule")->valuestring,
			    "yaml-syntax");
	assert_string_equal(
		cJSON_GetObjectItem(cJSON_GetArrayItem(files, 1), "verdict")->valuestring, "ok");
	assert_string_equal(
		cJSON_GetObjectItem(cJSON_GetArrayItem(files, 2), "verdict")->valuestring,
		"warnings");
	cJSON_Delete(json);
	test_run_free(&run);

	run_in(&run, f->dir, alias);
	assert_int_equal(run.status, 0);
	json = cJSON_Parse(run.out);
	assert_non_null(json);
	assert_int_equal(cJSON_GetObjectItem(json, "fileCount")->valueint, 1);
	cJSON_Delete(json);
	test_run_free(&run);
}

static void test_sarif_format(void **state)
{
	fixture *f = *state;
	test_run run;
	const char *argv[] = {"validate", "--format=sarif", "bad", NULL};
	cJSON *json, *run0, *result, *loc;

	run_in(&run, f->dir, argv);
	assert_int_equal(run.status, 1);
	json = cJSON_Parse(run.out);
	assert_non_null(json);
	assert_string_equal(cJSON_GetObjectItem(json, "version")->valuestring, "2.1.0");
	run0 = cJSON_GetArrayItem(cJSON_GetObjectItem(json, "runs"), 0);
	result = cJSON_GetArrayItem(cJSON_GetObjectItem(run0, "results"), 0);
	assert_string_equal(cJSON_GetObjectItem(result, "ruleId")->valuestring, "yaml-syntax");
	assert_string_equal(cJSON_GetObjectItem(result, "level")->valuestring, "error");
	loc = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(result, "locations"), 0),
				  "physicalLocation");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(loc, "artifactLocation"), "uri")
				    ->valuestring,
			    "bad/bad.md");
	assert_int_equal(
		cJSON_GetObjectItem(cJSON_GetObjectItem(loc, "region"), "startLine")->valueint, 4);
	cJSON_Delete(json);
	test_run_free(&run);
}

static void test_github_format(void **state)
{
	fixture *f = *state;
	test_run run;
	const char *argv[] = {"validate", "--format", "github", "bad", "warn", NULL};

	run_in(&run, f->dir, argv);
	assert_int_equal(run.status, 1);
	assert_true(strncmp(run.out, "::error file=bad/bad.md,line=4,col=1,title=yaml-syntax::YAML",
			    60) == 0);
	assert_non_null(strstr(run.out, "\n::warning file=warn/warns.md,line=6,col=1,title=unknown-"
					"key::unknown key 'colour' (kept)\n"));
	/* The plain lines follow (annotation counts are capped by the host). */
	assert_non_null(strstr(run.out, "\nwarn/warns.md:6:1: warning: unknown key"));
	assert_non_null(strstr(run.out, "1 error, 1 warning in 3 files\n"));
	test_run_free(&run);
}

static void test_root_option(void **state)
{
	fixture *f = *state;
	test_run run;
	const char *argv[] = {"validate", "--root", "proj", "t.md", NULL};

	test_write_str(
		f->dir, "t.md",
		"---\nid: t\nname: T\ntype: task\ndescription: d\ndependencies:\n"
		"  files: [lib/there.ts, lib/gone.ts, lib/../../t.md, ./lib/./there.ts]\n---\n");
	test_write_str(f->dir, "proj/lib/there.ts", "x\n");
	run_in(&run, f->dir, argv);
	assert_int_equal(run.status, 0);
	/* ../t.md exists, but outside the root: no file of the project. */
	assert_string_equal(run.out,
			    "t.md:7:25: warning: dependencies.files: 'lib/gone.ts' does "
			    "not exist under proj [file-not-found]\n"
			    "t.md:7:38: warning: dependencies.files: 'lib/../../t.md' names no "
			    "file under proj [file-not-found]\n"
			    "0 errors, 2 warnings in 1 file\n");
	test_run_free(&run);
}

static void test_usage_errors(void **state)
{
	fixture *f = *state;
	test_run run;
	const char *bad_format[] = {"validate", "--format", "xml", NULL};
	const char *missing[] = {"validate", "no/such/path.md", NULL};
	const char *bad_option[] = {"validate", "--bogus", NULL};
	const char *bad_root[] = {"validate", "--root", "no-such-dir", "skills", NULL};
	const char *no_value[] = {"validate", "--format", NULL};
	const char *help[] = {"validate", "--help", NULL};

	run_in(&run, f->dir, bad_format);
	assert_int_equal(run.status, 2);
	assert_non_null(strstr(run.err, "aims: validate: unknown format 'xml'"));
	test_run_free(&run);

	run_in(&run, f->dir, missing);
	assert_int_equal(run.status, 2);
	assert_non_null(strstr(run.err, "aims: validate: no/such/path.md: "));
	assert_string_equal(run.out, "");
	test_run_free(&run);

	run_in(&run, f->dir, bad_option);
	assert_int_equal(run.status, 2);
	assert_non_null(strstr(run.err, "--bogus"));
	test_run_free(&run);

	run_in(&run, f->dir, bad_root);
	assert_int_equal(run.status, 2);
	assert_non_null(strstr(run.err, "no-such-dir"));
	test_run_free(&run);

	run_in(&run, f->dir, no_value);
	assert_int_equal(run.status, 2);
	test_run_free(&run);

	run_in(&run, f->dir, help);
	assert_int_equal(run.status, 0);
	assert_non_null(strstr(run.out, "Usage: aims validate"));
	assert_non_null(strstr(run.out, "--strict"));
	test_run_free(&run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_clean_exit_zero, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_search_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nothing_to_validate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_warnings_and_strict, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors_exit_one_and_others_checked, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_json_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sarif_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_github_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_root_option, setup, teardown),
		cmocka_unit_test_setup_teardown(test_usage_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

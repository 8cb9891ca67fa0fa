/*
 * test_validate.c - the validator's library API and its four output
 * formats: the rule table, in-memory validation, --strict, files that
 * cannot be read, the text format parsed back, the JSON and SARIF views
 * parsed with cJSON, and GitHub escaping under hostile names and messages.
 * (The rules themselves are covered case by case in tests/corpus/validate.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aims/json.h"
#include "aims/validate.h"
#include "support.h"

static aims_validation *validate_text(const char *path, const char *text, bool strict)
{
	aims_validate_options opts = {NULL, strict, 0};
	aims_validation *v = NULL;
	aims_error err;

	aims_error_clear(&err);
	assert_int_equal(aims_validate_text(&v, path, text, strlen(text), &opts, &err), 0);
	assert_non_null(v);
	return v;
}

static char *render(const aims_validation *v, bool github, const char *base)
{
	aims_buf buf;

	aims_buf_init(&buf, AIMS_VALIDATE_MAX_OUTPUT);
	if (github)
		assert_int_equal(aims_validate_format_github(&buf, v, base), 0);
	else
		assert_int_equal(aims_validate_format_text(&buf, v, base, false), 0);
	return aims_buf_detach(&buf);
}

static const char *const warn_and_error = "---\n"
					  "id: two-problems\n"
					  "type: task\n"
					  "description: d\n"
					  "colour: blue\n"
					  "---\n";

static void test_rule_table(void **state)
{
	size_t n = aims_validate_rule_count(), index = 99;

	(void)state;
	assert_true(n >= 26);
	for (size_t i = 0; i < n; i++) {
		const aims_validate_rule *r = aims_validate_rule_at(i);

		assert_non_null(r);
		assert_true(strlen(r->id) > 2);
		assert_true(strspn(r->id, "abcdefghijklmnopqrstuvwxyz-") == strlen(r->id));
		assert_true(r->severity == AIMS_SEVERITY_ERROR ||
			    r->severity == AIMS_SEVERITY_WARNING);
		assert_true(strlen(r->summary) > 5 && strlen(r->help) > 20);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(aims_validate_rule_at(j)->id, r->id);
		assert_ptr_equal(aims_validate_rule_find(r->id, &index), r);
		assert_int_equal(index, i);
	}
	assert_null(aims_validate_rule_at(n));
	assert_null(aims_validate_rule_find("no-such-rule", NULL));
	/* SPEC §3: these are errors, these warnings. */
	assert_int_equal(aims_validate_rule_find("duplicate-id", NULL)->severity,
			 AIMS_SEVERITY_ERROR);
	assert_int_equal(aims_validate_rule_find("bad-env-name", NULL)->severity,
			 AIMS_SEVERITY_ERROR);
	assert_int_equal(aims_validate_rule_find("trigger-shared", NULL)->severity,
			 AIMS_SEVERITY_WARNING);
	assert_int_equal(aims_validate_rule_find("json-block", NULL)->severity,
			 AIMS_SEVERITY_WARNING);
}

static void test_text_and_strict(void **state)
{
	aims_validation *v = validate_text("skills/x.md", warn_and_error, false);
	const aims_diagnostic *d;

	(void)state;
	assert_int_equal(aims_validate_count(v), 2);
	assert_int_equal(aims_validate_errors(v), 1);
	assert_int_equal(aims_validate_warnings(v), 1);
	/* Sorted by line: missing-name (1:1) before unknown-key (5:1). */
	d = aims_validate_at(v, 0);
	assert_string_equal(d->rule, "missing-name");
	assert_string_equal(d->path, "skills/x.md");
	assert_int_equal(d->pos.line, 1);
	d = aims_validate_at(v, 1);
	assert_string_equal(d->rule, "unknown-key");
	assert_int_equal(d->severity, AIMS_SEVERITY_WARNING);
	assert_int_equal(d->pos.line, 5);
	assert_int_equal(d->pos.col, 1);
	assert_non_null(strstr(d->message, "colour"));
	assert_int_equal(aims_validate_file_count(v), 1);
	assert_string_equal(aims_validate_verdict(aims_validate_file_at(v, 0)), "errors");
	assert_string_equal(aims_validate_file_at(v, 0)->id, "two-problems");
	aims_validate_free(v);

	v = validate_text("skills/x.md", warn_and_error, true);
	assert_int_equal(aims_validate_errors(v), 2);
	assert_int_equal(aims_validate_warnings(v), 0);
	assert_int_equal(aims_validate_at(v, 1)->severity, AIMS_SEVERITY_ERROR);
	aims_validate_free(v);

	v = validate_text("notes.md", "just notes\n", false);
	assert_int_equal(aims_validate_count(v), 1);
	assert_string_equal(aims_validate_at(v, 0)->rule, "not-a-manifest");
	assert_false(aims_validate_file_at(v, 0)->manifest);
	assert_string_equal(aims_validate_verdict(aims_validate_file_at(v, 0)), "warnings");
	aims_validate_free(v);
}

/* A file named twice, or named and found again in its directory, is
 * checked once and is no duplicate of itself; another file with its id
 * is. Files are checked as they load (on several threads with enough of
 * them), so this holds the bookkeeping of that to the result. */
static void test_repeats_are_checked_once(void **state)
{
	char *dir = test_tmpdir(), *a = test_join(dir, "a.md");
	aims_validate_options opts = {NULL, false, 4};
	aims_validation *v = NULL;
	aims_error err;
	size_t dups = 0, shorts = 0;

	(void)state;
	test_write_str(dir, "a.md",
		       "---\nid: a\nname: A\ntype: skill\ndescription: d\ntriggers: [ab]\n---\n");
	test_write_str(dir, "b.md", "---\nid: a\nname: B\ntype: skill\ndescription: d\n---\n");
	/* Enough other files for several loading threads. */
	for (int i = 0; i < 600; i++) {
		char name[32], text[160];

		snprintf(name, sizeof(name), "n%03d.md", i);
		snprintf(text, sizeof(text),
			 "---\nid: n%d\nname: N\ntype: skill\ndescription: d\n---\n", i);
		test_write_str(dir, name, text);
	}
	{
		const char *paths[] = {a, a, dir, a};

		aims_error_clear(&err);
		assert_int_equal(aims_validate_paths(&v, paths, 4, &opts, &err), 0);
	}
	assert_int_equal(aims_validate_file_count(v), 602);
	for (size_t i = 0; i < aims_validate_count(v); i++) {
		const aims_diagnostic *d = aims_validate_at(v, i);

		if (strcmp(d->rule, "duplicate-id") == 0) {
			dups++;
			assert_non_null(strstr(d->path, "b.md"));
		}
		if (strcmp(d->rule, "trigger-too-short") == 0) {
			shorts++;
			assert_non_null(strstr(d->path, "a.md"));
		}
	}
	assert_int_equal(dups, 1);
	assert_int_equal(shorts, 1);
	assert_int_equal(aims_validate_count(v), 2);
	for (size_t i = 0; i < aims_validate_file_count(v); i++) {
		const aims_validate_file *f = aims_validate_file_at(v, i);

		assert_int_equal(f->errors + f->warnings,
				 strstr(f->path, "/a.md") || strstr(f->path, "/b.md") ? 1 : 0);
	}
	aims_validate_free(v);
	test_rmtree(dir);
	free(a);
	free(dir);
}

static void test_unreadable_and_siblings(void **state)
{
	char *dir = test_tmpdir(), *big_path;
	size_t big = AIMS_MANIFEST_MAX_FILE + 10;
	char *data = malloc(big);
	const char *paths[1];
	aims_validation *v = NULL;
	aims_error err;
	size_t read_errors = 0, yaml_errors = 0, unknown_keys = 0;

	(void)state;
	assert_non_null(data);
	memset(data, 'x', big);
	memcpy(data, "---\nid: big\n---\n", 16);
	test_write(dir, "a-big.md", data, big);
	free(data);
	test_write_str(dir, "b-bad.md", "---\nid: [unclosed\n---\n");
	test_write_str(dir, "c-good.md",
		       "---\nid: c\nname: C\ntype: task\ndescription: d\nextra: 1\n---\n");
	paths[0] = dir;
	aims_error_clear(&err);
	assert_int_equal(aims_validate_paths(&v, paths, 1, NULL, &err), 0);
	/* One bad file never stops the others from being checked. */
	assert_int_equal(aims_validate_file_count(v), 3);
	for (size_t i = 0; i < aims_validate_count(v); i++) {
		const aims_diagnostic *d = aims_validate_at(v, i);

		if (strcmp(d->rule, "read-error") == 0) {
			read_errors++;
			assert_int_equal(d->severity, AIMS_SEVERITY_ERROR);
			assert_int_equal(d->pos.line, 1);
			assert_int_equal(d->pos.col, 1);
			assert_non_null(strstr(d->path, "a-big.md"));
		}
		yaml_errors += strcmp(d->rule, "yaml-syntax") == 0;
		unknown_keys += strcmp(d->rule, "unknown-key") == 0;
	}
	assert_int_equal(read_errors, 1);
	assert_int_equal(yaml_errors, 1);
	assert_int_equal(unknown_keys, 1);
	aims_validate_free(v);

	/* A missing path is a failure of the call, not a diagnostic. */
	big_path = test_join(dir, "nope.md");
	paths[0] = big_path;
	aims_error_clear(&err);
	assert_int_equal(aims_validate_paths(&v, paths, 1, NULL, &err), AIMS_ENOTFOUND);
	assert_non_null(strstr(err.message, "nope.md"));
	free(big_path);
	test_rmtree(dir);
	free(dir);
}

/* A FIFO named as a manifest is a read error at once, not a wait for a
 * writer; a file whose size says 0 is read all the same (/proc's files
 * do: reading /proc/self/mem fails, which must not pass for "empty"). */
static void test_fifo_and_unsized_files(void **state)
{
	char *dir = test_tmpdir(), *fifo = test_join(dir, "pipe.md"),
	     *mem = test_join(dir, "mem.md");
	const char *paths[] = {fifo, mem};
	aims_validation *v = NULL;
	aims_error err;

	(void)state;
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(symlink("/proc/self/mem", mem), 0);
	aims_error_clear(&err);
	assert_int_equal(aims_validate_paths(&v, paths, 2, NULL, &err), 0);
	assert_int_equal(aims_validate_count(v), 2);
	for (size_t i = 0; i < 2; i++) {
		const aims_diagnostic *d = aims_validate_at(v, i);

		assert_string_equal(d->rule, "read-error");
		assert_non_null(strstr(d->message, strstr(d->path, "mem.md")
							   ? "Input/output error"
							   : "not a regular file"));
	}
	aims_validate_free(v);
	test_rmtree(dir);
	free(dir);
	free(fifo);
	free(mem);
}

static void test_display_path(void **state)
{
	static const struct {
		const char *path, *base, *shown;
	} cases[] = {
		{"./skills/x.md", "/w", "skills/x.md"},
		{"skills//./x.md", NULL, "skills/x.md"},
		{"/w/p/skills/x.md", "/w/p", "skills/x.md"},
		{"/w/p/skills/x.md", "/w/p/", "skills/x.md"},
		{"/w/other/x.md", "/w/p", "../other/x.md"},
		{"/elsewhere/x.md", "/w/p", "../../elsewhere/x.md"},
		{"/w/p", "/w/p", "."},
		{"/w/pq/x.md", "/w/p", "../pq/x.md"},
		{"../up/x.md", "/w", "../up/x.md"},
		{"/abs/x.md", NULL, "/abs/x.md"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		aims_buf buf;

		aims_buf_init(&buf, 4096);
		assert_int_equal(aims_validate_display_path(&buf, cases[i].path, cases[i].base), 0);
		assert_string_equal(buf.ptr, cases[i].shown);
		aims_buf_free(&buf);
	}
}

/* Parses "path:line:col: severity: message [rule]" back. */
static void parse_text_line(const char *line, char *path, unsigned *ln, unsigned *col, char *sev,
			    char *msg, char *rule)
{
	const char *p = strstr(line, ": error: ");
	const char *q = p ? p : strstr(line, ": warning: ");
	const char *open, *colon2, *colon1;
	size_t n;

	assert_non_null(q);
	/* path:line:col -> scan back from q for the two numbers. */
	colon2 = q;
	do
		colon2--;
	while (colon2 > line && *colon2 != ':');
	colon1 = colon2;
	do
		colon1--;
	while (colon1 > line && *colon1 != ':');
	n = (size_t)(colon1 - line);
	memcpy(path, line, n);
	path[n] = '\0';
	*ln = (unsigned)strtoul(colon1 + 1, NULL, 10);
	*col = (unsigned)strtoul(colon2 + 1, NULL, 10);
	snprintf(sev, 16, "%s", p ? "error" : "warning");
	q += p ? 9 : 11;
	open = strrchr(q, '[');
	assert_non_null(open);
	n = (size_t)(open - q - 1);
	memcpy(msg, q, n);
	msg[n] = '\0';
	n = strlen(open + 1) - 1;
	memcpy(rule, open + 1, n);
	rule[n] = '\0';
}

static void test_text_format_parses_back(void **state)
{
	/* A key with a newline, a tab and an escape sequence in it: the text
	 * format must keep every diagnostic on one line. */
	aims_validation *v = validate_text(
		"/w/p/skills/odd name.md",
		"---\nid: odd\nname: Odd\ntype: task\ndescription: d\n\"bad\\nkey\\there\\e\": 1\n"
		"triggers: [ab]\n---\n",
		false);
	char *text = render(v, false, "/w/p");
	char *line;
	size_t i = 0, errors, warnings, files;

	(void)state;
	assert_int_equal(aims_validate_count(v), 2);
	for (line = text; *line; i++) {
		char *end = strchr(line, '\n');
		char path[256], sev[16], msg[512], rule[64];
		unsigned ln, col;

		assert_non_null(end);
		*end = '\0';
		if (i == aims_validate_count(v)) {
			assert_int_equal(sscanf(line, "%zu errors, %zu warnings in %zu file",
						&errors, &warnings, &files),
					 3);
			assert_int_equal(errors, 0);
			assert_int_equal(warnings, 2);
			assert_int_equal(files, 1);
			assert_string_equal(line, "0 errors, 2 warnings in 1 file");
		} else {
			const aims_diagnostic *d = aims_validate_at(v, i);

			parse_text_line(line, path, &ln, &col, sev, msg, rule);
			assert_string_equal(path, "skills/odd name.md");
			assert_int_equal(ln, d->pos.line);
			assert_int_equal(col, d->pos.col);
			assert_string_equal(sev, "warning");
			assert_string_equal(rule, d->rule);
			if (strcmp(d->rule, "unknown-key") == 0)
				assert_string_equal(msg,
						    "unknown key 'bad\\nkey\\there\\x1b' (kept)");
		}
		line = end + 1;
	}
	assert_int_equal(i, aims_validate_count(v) + 1);
	free(text);
	aims_validate_free(v);
}

static void test_github_escaping(void **state)
{
	/* Hostile: %, CR, LF, ':' and ',' in the file name and the message. */
	aims_validation *v = validate_text("dir/we:ird,na%me.md",
					   "---\nid: g\nname: G\ntype: task\ndescription: d\n"
					   "\"k%25:1,2\\r\\n::error::x\": 1\n---\n",
					   false);
	char *out = render(v, true, NULL);
	const char *expected_annotation =
		"::warning file=dir/we%3Aird%2Cna%25me.md,line=6,col=1,title=unknown-key"
		"::unknown key 'k%2525:1,2%0D%0A::error::x' (kept)\n";

	(void)state;
	assert_int_equal(aims_validate_count(v), 1);
	assert_true(strncmp(out, expected_annotation, strlen(expected_annotation)) == 0);
	/* Exactly one workflow command: the injected "::error::" stays data. */
	assert_null(strstr(out + 1, "\n::"));
	/* Then the plain lines and the summary. */
	assert_non_null(strstr(out, "\ndir/we:ird,na%me.md:6:1: warning: unknown key "
				    "'k%25:1,2\\r\\n::error::x' (kept) [unknown-key]\n"));
	assert_non_null(strstr(out, "0 errors, 1 warning in 1 file\n"));
	free(out);
	aims_validate_free(v);
}

static void test_json_format(void **state)
{
	aims_validation *v = validate_text("/w/p/tools/t.md", warn_and_error, false);
	cJSON *json = aims_json_validation(v, "/w/p");
	char *text = cJSON_PrintUnformatted(json);
	cJSON *parsed = cJSON_Parse(text), *diags, *files, *d, *f;

	(void)state;
	assert_non_null(parsed);
	diags = cJSON_GetObjectItemCaseSensitive(parsed, "diagnostics");
	files = cJSON_GetObjectItemCaseSensitive(parsed, "files");
	assert_true(cJSON_IsArray(diags) && cJSON_IsArray(files));
	assert_int_equal(cJSON_GetArraySize(diags), 2);
	d = cJSON_GetArrayItem(diags, 1);
	assert_string_equal(cJSON_GetObjectItem(d, "file")->valuestring, "tools/t.md");
	assert_string_equal(cJSON_GetObjectItem(d, "rule")->valuestring, "unknown-key");
	assert_string_equal(cJSON_GetObjectItem(d, "severity")->valuestring, "warning");
	assert_int_equal(cJSON_GetObjectItem(d, "line")->valueint, 5);
	assert_int_equal(cJSON_GetObjectItem(d, "column")->valueint, 1);
	assert_true(cJSON_IsString(cJSON_GetObjectItem(d, "message")));
	f = cJSON_GetArrayItem(files, 0);
	assert_string_equal(cJSON_GetObjectItem(f, "verdict")->valuestring, "errors");
	assert_string_equal(cJSON_GetObjectItem(f, "type")->valuestring, "task");
	assert_string_equal(cJSON_GetObjectItem(f, "id")->valuestring, "two-problems");
	assert_int_equal(cJSON_GetObjectItem(f, "errors")->valueint, 1);
	assert_int_equal(cJSON_GetObjectItem(f, "warnings")->valueint, 1);
	assert_int_equal(cJSON_GetObjectItem(parsed, "errors")->valueint, 1);
	assert_int_equal(cJSON_GetObjectItem(parsed, "fileCount")->valueint, 1);
	cJSON_Delete(parsed);
	free(text);
	cJSON_Delete(json);
	aims_validate_free(v);
}

static const cJSON *get(const cJSON *obj, const char *path)
{
	char key[64];

	while (obj && *path) {
		size_t n = strcspn(path, ".");

		memcpy(key, path, n);
		key[n] = '\0';
		obj = key[0] >= '0' && key[0] <= '9'
			      ? cJSON_GetArrayItem(obj, (int)strtol(key, NULL, 10))
			      : cJSON_GetObjectItemCaseSensitive(obj, key);
		path += n + (path[n] == '.');
	}
	return obj;
}

static void test_sarif(void **state)
{
	aims_validation *v = validate_text("/w/p/skills/my file.md", warn_and_error, false);
	cJSON *sarif = aims_json_sarif(v, "/w/p");
	char *text = cJSON_PrintUnformatted(sarif);
	cJSON *log = cJSON_Parse(text);
	const cJSON *rules, *results;

	(void)state;
	assert_non_null(log);
	assert_true(strstr(get(log, "$schema")->valuestring, "sarif-schema-2.1.0") != NULL);
	assert_string_equal(get(log, "version")->valuestring, "2.1.0");
	assert_string_equal(get(log, "runs.0.tool.driver.name")->valuestring, "aims");
	assert_string_equal(get(log, "runs.0.tool.driver.version")->valuestring, aims_version());
	/* Columns are characters (SARIF would read UTF-16 units). */
	assert_string_equal(get(log, "runs.0.columnKind")->valuestring, "unicodeCodePoints");
#ifdef AIMS_VALIDATE_INFO_URI
	assert_string_equal(get(log, "runs.0.tool.driver.informationUri")->valuestring,
			    AIMS_VALIDATE_INFO_URI);
#else
	/* No published address configured: none is made up. */
	assert_null(cJSON_GetObjectItem(get(log, "runs.0.tool.driver"), "informationUri"));
#endif
	rules = get(log, "runs.0.tool.driver.rules");
	assert_int_equal(cJSON_GetArraySize(rules), (int)aims_validate_rule_count());
	for (int i = 0; i < cJSON_GetArraySize(rules); i++) {
		const cJSON *r = cJSON_GetArrayItem(rules, i);
		const aims_validate_rule *want = aims_validate_rule_at((size_t)i);

		assert_string_equal(get(r, "id")->valuestring, want->id);
		assert_string_equal(get(r, "shortDescription.text")->valuestring, want->summary);
		assert_string_equal(get(r, "help.text")->valuestring, want->help);
		assert_string_equal(get(r, "defaultConfiguration.level")->valuestring,
				    aims_validate_severity_name(want->severity));
	}
	assert_string_equal(get(log, "runs.0.originalUriBaseIds.%SRCROOT%.uri")->valuestring,
			    "file:///w/p/");
	results = get(log, "runs.0.results");
	assert_int_equal(cJSON_GetArraySize(results), 2);
	for (int i = 0; i < 2; i++) {
		const cJSON *r = cJSON_GetArrayItem(results, i);
		const aims_diagnostic *d = aims_validate_at(v, (size_t)i);
		const cJSON *rule_index = get(r, "ruleIndex");
		size_t index = 0;

		assert_string_equal(get(r, "ruleId")->valuestring, d->rule);
		aims_validate_rule_find(d->rule, &index);
		assert_int_equal(rule_index->valueint, (int)index);
		assert_string_equal(
			get(cJSON_GetArrayItem(rules, rule_index->valueint), "id")->valuestring,
			d->rule);
		assert_string_equal(get(r, "level")->valuestring,
				    aims_validate_severity_name(d->severity));
		assert_string_equal(get(r, "message.text")->valuestring, d->message);
		assert_string_equal(
			get(r, "locations.0.physicalLocation.artifactLocation.uri")->valuestring,
			"skills/my%20file.md");
		assert_string_equal(
			get(r, "locations.0.physicalLocation.artifactLocation.uriBaseId")
				->valuestring,
			"%SRCROOT%");
		assert_int_equal(get(r, "locations.0.physicalLocation.region.startLine")->valueint,
				 (int)d->pos.line);
		assert_int_equal(
			get(r, "locations.0.physicalLocation.region.startColumn")->valueint,
			(int)d->pos.col);
	}
	cJSON_Delete(log);
	free(text);
	cJSON_Delete(sarif);
	aims_validate_free(v);
}

static void test_json_check(void **state)
{
	size_t at = 99;

	(void)state;
	assert_int_equal(aims_json_check("{\"a\": [1, 2]}", 13, &at), 0);
	assert_int_equal(aims_json_check(" 1 \n", 4, &at), 0);
	assert_int_equal(aims_json_check("{\"a\": 1} x", 10, &at), AIMS_EINVALID);
	assert_int_equal(at, 9);
	assert_int_equal(aims_json_check("nope", 4, &at), AIMS_EINVALID);
	assert_int_equal(at, 0);
	assert_int_equal(aims_json_check("[1, 2", 5, &at), AIMS_EINVALID);
	assert_true(at <= 5);
}

static void test_non_utf8_path_and_message(void **state)
{
	/* Invalid UTF-8 in a path ends up as U+FFFD, so JSON stays valid. */
	aims_validation *v = validate_text("caf\xe9.md", warn_and_error, false);
	cJSON *json = aims_json_validation(v, NULL);
	char *text = cJSON_PrintUnformatted(json);

	(void)state;
	assert_string_equal(aims_validate_at(v, 0)->path, "caf\xef\xbf\xbd.md");
	assert_non_null(strstr(text, "caf\xef\xbf\xbd.md"));
	free(text);
	cJSON_Delete(json);
	aims_validate_free(v);
}

static char *render_paths(const char *dir, unsigned threads)
{
	aims_validate_options opts = {NULL, false, threads};
	aims_validation *v = NULL;
	const char *paths[] = {dir};
	aims_error err;
	char *text;

	aims_error_clear(&err);
	assert_int_equal(aims_validate_paths(&v, paths, 1, &opts, &err), 0);
	text = render(v, false, NULL);
	aims_validate_free(v);
	return text;
}

/* The same files validated through a registry loaded first (no load
 * hook: every rule, across files too, works from full manifests). */
static char *render_registry(const char *dir)
{
	aims_registry *reg = NULL;
	aims_validation *v = NULL;
	aims_error err;
	char *text;

	aims_error_clear(&err);
	assert_int_equal(aims_registry_new(&reg, &err), 0);
	assert_int_equal(aims_registry_add_path(reg, dir, &err), 0);
	assert_int_equal(aims_validate_registry(&v, reg, NULL, &err), 0);
	text = render(v, false, NULL);
	aims_validate_free(v);
	aims_registry_free(reg);
	return text;
}

static void test_threads_do_not_change_the_result(void **state)
{
	char *dir = test_tmpdir(), *one, *four, *whole;

	(void)state;
	/* Enough files for several checking threads, with problems of every
	 * kind spread over them (per file and across files). */
	for (int i = 0; i < 700; i++) {
		char name[64], text[512];

		snprintf(name, sizeof(name), "%s/m%03d.md", i % 2 ? "skills" : "tasks", i);
		snprintf(text, sizeof(text),
			 "---\nid: %s\nname: N%d\n%s\ntriggers: ['%s phrase %d', go]\n"
			 "dependencies:\n  env: [%s]\n---\n```json\n{\"a\": %s}\n```\n",
			 i % 7 ? "m" : "dup", i, i % 5 ? "description: d" : "",
			 i % 4 ? "shared" : " Shared\t", i % 3, i % 11 ? "OK_NAME" : "bad-name",
			 i % 13 ? "1" : "oops");
		if (i % 17 == 0)
			snprintf(text, sizeof(text), "---\nid: [broken\n---\n");
		test_write_str(dir, name, text);
	}
	one = render_paths(dir, 1);
	four = render_paths(dir, 4);
	whole = render_registry(dir);
	assert_string_equal(one, four);
	assert_string_equal(one, whole);
	assert_non_null(strstr(one, "[duplicate-id]"));
	assert_non_null(strstr(one, "[trigger-shared]"));
	assert_non_null(strstr(one, "[json-block]"));
	assert_non_null(strstr(one, "[yaml-syntax]"));
	assert_non_null(strstr(one, " in 700 files\n"));
	free(one);
	free(four);
	free(whole);
	test_rmtree(dir);
	free(dir);
}

/* Files and diagnostics come out in the order of their paths, whatever
 * the order of the paths given and of the listing ("a/" lists before
 * "a-b.md", but "a-b.md" sorts first: '-' < '/'). */
static void test_results_in_path_order(void **state)
{
	char *dir = test_tmpdir(), *tree = test_join(dir, "t"), *z = test_join(dir, "z.md");
	const char *paths[] = {z, tree};
	const char *want[] = {"t/a-b.md", "t/a/x.md", "t/b.md", "z.md"};
	aims_validation *v = NULL;
	aims_error err;
	size_t n = sizeof(want) / sizeof(*want), shown = 0;

	(void)state;
	test_write_str(dir, "z.md", "---\nid: z\ntype: skill\ncolour: red\n---\n");
	test_write_str(dir, "t/b.md", "---\nid: b\ntype: skill\ncolour: red\n---\n");
	test_write_str(dir, "t/a/x.md", "---\nid: x\ntype: skill\ncolour: red\n---\n");
	test_write_str(dir, "t/a-b.md", "---\nid: ab\ntype: skill\ncolour: red\n---\n");
	aims_error_clear(&err);
	assert_int_equal(aims_validate_paths(&v, paths, 2, NULL, &err), 0);
	assert_int_equal(aims_validate_file_count(v), n);
	for (size_t i = 0; i < n; i++) {
		const char *p = aims_validate_file_at(v, i)->path;

		assert_string_equal(p + strlen(p) - strlen(want[i]), want[i]);
	}
	/* Each file's unknown-key warning, in the same order. */
	for (size_t i = 0; i < aims_validate_count(v); i++) {
		const aims_diagnostic *d = aims_validate_at(v, i);

		if (strcmp(d->rule, "unknown-key") != 0)
			continue;
		assert_true(shown < n);
		assert_string_equal(d->path + strlen(d->path) - strlen(want[shown]), want[shown]);
		shown++;
	}
	assert_int_equal(shown, n);
	aims_validate_free(v);
	test_rmtree(dir);
	free(dir);
	free(tree);
	free(z);
}

/* Triggers that differ only in case are shared, in any script: the
 * router matches them caselessly (PCRE2, Unicode). */
static void test_shared_triggers_fold_unicode_case(void **state)
{
	char *dir = test_tmpdir();
	const char *paths[] = {dir};
	aims_validation *v = NULL;
	aims_error err;
	size_t shared = 0;

	(void)state;
	test_write_str(dir, "tasks/a.md",
		       "---\nid: a\nname: A\ntype: task\ndescription: d\n"
		       "triggers: [\"\xc3\x89"
		       "COLE run\", \"\xc5\xbftop now\", \"\xce\xa3\xce\xbf\xcf\x86"
		       "\xce\xaf\xce\xb1 ask\"]\n---\n");
	/* école run, stop now, σοφία ASK are shared; σοφίας ask is not. */
	test_write_str(
		dir, "tasks/b.md",
		"---\nid: b\nname: B\ntype: task\ndescription: d\n"
		"triggers: [\"\xc3\xa9"
		"cole run\", \"stop now\", \"\xcf\x83\xce\xbf\xcf\x86\xce\xaf"
		"\xce\xb1 ASK\", \"\xcf\x83\xce\xbf\xcf\x86\xce\xaf\xce\xb1\xcf\x82 ask\"]\n---\n");
	aims_error_clear(&err);
	assert_int_equal(aims_validate_paths(&v, paths, 1, NULL, &err), 0);
	for (size_t i = 0; i < aims_validate_count(v); i++)
		shared += strcmp(aims_validate_at(v, i)->rule, "trigger-shared") == 0;
	assert_int_equal(shared, 3);
	aims_validate_free(v);
	test_rmtree(dir);
	free(dir);
}

static void test_reference_documents_every_rule(void **state)
{
	char *doc = NULL;
	size_t len = 0;
	aims_error err;

	(void)state;
	aims_error_clear(&err);
	assert_int_equal(aims_file_read(&doc, &len, AIMS_SOURCE_DIR "/docs/manifest-reference.md",
					1 << 20, &err),
			 0);
	for (size_t i = 0; i < aims_validate_rule_count(); i++) {
		char heading[128];

		snprintf(heading, sizeof(heading), "\n### `%s`\n", aims_validate_rule_at(i)->id);
		if (!strstr(doc, heading))
			fail_msg("docs/manifest-reference.md has no section for rule '%s'",
				 aims_validate_rule_at(i)->id);
	}
	free(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule_table),
		cmocka_unit_test(test_text_and_strict),
		cmocka_unit_test(test_unreadable_and_siblings),
		cmocka_unit_test(test_repeats_are_checked_once),
		cmocka_unit_test(test_display_path),
		cmocka_unit_test(test_text_format_parses_back),
		cmocka_unit_test(test_github_escaping),
		cmocka_unit_test(test_json_format),
		cmocka_unit_test(test_sarif),
		cmocka_unit_test(test_json_check),
		cmocka_unit_test(test_non_utf8_path_and_message),
		cmocka_unit_test(test_threads_do_not_change_the_result),
		cmocka_unit_test(test_results_in_path_order),
		cmocka_unit_test(test_fifo_and_unsized_files),
		cmocka_unit_test(test_shared_triggers_fold_unicode_case),
		cmocka_unit_test(test_reference_documents_every_rule),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_load_corpus.c - data-driven loader tests: every NAME.md under
 * tests/corpus/load/ has NAME.expect beside it stating what loading must
 * give (front matter or not, id, type, status, priority, counts, title,
 * and every problem as rule@line:col). One runner compares them all.
 *
 * To write the .expect files of new cases, run with AIMS_CORPUS_WRITE=1
 * and review every line before committing: the expectation is the spec.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "aims/manifest.h"
#include "aims/registry.h"
#include "support.h"

#define CORPUS AIMS_TEST_DIR "/corpus/load"

/* The outcome of loading one file, as text in the .expect format. */
static char *describe(const aims_manifest *m)
{
	aims_buf buf;

	aims_buf_init(&buf, 1 << 20);
	aims_buf_printf(&buf, "manifest: %s\n", m->has_front_matter ? "yes" : "no");
	if (m->has_front_matter) {
		aims_buf_printf(&buf, "id: %s%s\n", m->id.str ? m->id.str : "(none)",
				m->id_inferred ? " (inferred)" : "");
		aims_buf_printf(&buf, "type: %s%s\n", aims_kind_name(m->kind),
				m->kind_inferred ? " (inferred)" : "");
		aims_buf_printf(&buf, "status: %s\n",
				m->status == AIMS_STATUS_OTHER ? "other"
							       : aims_status_name(m->status));
		aims_buf_printf(&buf, "priority: %s\n", aims_priority_name(m->priority));
		aims_buf_printf(&buf, "yaml: %s\n", m->root ? "parsed" : "none");
		aims_buf_printf(&buf, "triggers:");
		for (size_t i = 0; i < m->triggers.count; i++)
			aims_buf_printf(&buf, " [%s]", m->triggers.items[i]);
		aims_buf_printf(&buf, "\n");
		aims_buf_printf(&buf, "execution: %s %s\n",
				m->exec_target.str ? m->exec_target.str : "-",
				m->exec_route.str ? m->exec_route.str : "-");
		aims_buf_printf(&buf, "body-line: %u\n", m->body_line);
		aims_buf_printf(&buf, "title: %s\n", m->title ? m->title : "(none)");
		aims_buf_printf(&buf, "sections: %zu\n", m->section_count);
		aims_buf_printf(&buf, "code-blocks:");
		for (size_t i = 0; i < m->code_block_count; i++)
			aims_buf_printf(&buf, " %s@%u",
					*m->code_blocks[i].info ? m->code_blocks[i].info : "-",
					m->code_blocks[i].line);
		aims_buf_printf(&buf, "\n");
		aims_buf_printf(&buf, "tables: %zu\n", m->table_count);
	}
	aims_buf_printf(&buf, "problems:");
	for (size_t i = 0; i < m->problem_count; i++)
		aims_buf_printf(&buf, " %s@%u:%u", m->problems[i].rule, m->problems[i].pos.line,
				m->problems[i].pos.col);
	aims_buf_printf(&buf, "\n");
	return aims_buf_detach(&buf);
}

static size_t cases;

static void check_file(const char *path)
{
	aims_manifest *m = NULL;
	aims_error err;
	char *got, *want = NULL, *expect_path;
	size_t want_len, len = strlen(path);

	aims_error_clear(&err);
	assert_int_equal(aims_manifest_load(&m, path, &err), 0);
	got = describe(m);
	expect_path = malloc(len + 8);
	assert_non_null(expect_path);
	snprintf(expect_path, len + 8, "%.*s.expect", (int)(len - 3), path);
	if (getenv("AIMS_CORPUS_WRITE")) {
		FILE *f = fopen(expect_path, "w");

		assert_non_null(f);
		fputs(got, f);
		fclose(f);
	}
	aims_error_clear(&err);
	if (aims_file_read(&want, &want_len, expect_path, 1 << 20, &err) < 0)
		fail_msg("%s: no expectation (%s)", path, err.message);
	if (strcmp(got, want) != 0)
		fail_msg("%s: outcome differs\n--- expected\n%s--- got\n%s", path, want, got);
	cases++;
	free(want);
	free(got);
	free(expect_path);
	aims_manifest_free(m);
}

static void walk(const char *dir)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);

	assert_true(n >= 0);
	for (int i = 0; i < n; i++) {
		char *path = test_join(dir, names[i]->d_name);
		struct stat st;
		size_t len = strlen(names[i]->d_name);

		if (names[i]->d_name[0] != '.' && stat(path, &st) == 0) {
			if (S_ISDIR(st.st_mode))
				walk(path);
			else if (len > 3 && strcmp(names[i]->d_name + len - 3, ".md") == 0)
				check_file(path);
		}
		free(path);
		free(names[i]);
	}
	free(names);
}

static void test_corpus(void **state)
{
	(void)state;
	walk(CORPUS);
	/* The issue asks for at least 30 cases; losing files must fail. */
	assert_true(cases >= 30);
}

/* Loading the corpus as a registry: no crash, files without front matter
 * skipped, load order sorted, every definition reachable by its id. */
static void test_corpus_registry(void **state)
{
	aims_registry *reg = NULL;
	aims_error err;
	size_t n;

	(void)state;
	aims_error_clear(&err);
	assert_int_equal(aims_registry_new(&reg, &err), 0);
	assert_int_equal(aims_registry_add_path(reg, CORPUS, &err), 0);
	n = aims_registry_file_count(reg);
	assert_true(n >= 30);
	for (size_t i = 0; i < n; i++) {
		const aims_manifest *m = aims_registry_file_at(reg, i);

		assert_true(m->has_front_matter);
		assert_null(strstr(m->path, "readme.md"));
		if (i > 0)
			assert_true(strcmp(aims_registry_file_at(reg, i - 1)->path, m->path) < 0);
	}
	for (size_t i = 0; i < aims_registry_count(reg); i++) {
		const aims_manifest *m = aims_registry_at(reg, i);

		assert_ptr_equal(aims_registry_find(reg, m->kind, m->id.str), m);
	}
	aims_registry_free(reg);
}

/* A 1 MB body loads, and its last heading is found on the right line. */
static void test_megabyte_body(void **state)
{
	aims_buf buf;
	aims_manifest *m = NULL;
	aims_error err;
	unsigned lines = 4;

	(void)state;
	aims_buf_init(&buf, 2 << 20);
	assert_int_equal(aims_buf_puts(&buf, "---\nid: big\ntype: skill\n---\n# Big\n"), 0);
	lines++;
	while (buf.len < (1 << 20)) {
		assert_int_equal(
			aims_buf_puts(&buf,
				      "Lorem ipsum dolor sit amet, consectetur adipiscing.\n\n"),
			0);
		lines += 2;
	}
	assert_int_equal(aims_buf_puts(&buf, "## Last\n"), 0);
	aims_error_clear(&err);
	assert_int_equal(aims_manifest_parse(&m, "skills/big.md", buf.ptr, buf.len, &err), 0);
	assert_string_equal(m->title, "Big");
	assert_int_equal(m->section_count, 1);
	assert_int_equal(m->sections[0].line, lines + 1);
	assert_int_equal(m->problem_count, 0);
	aims_manifest_free(m);
	aims_buf_free(&buf);
}

/* Over the file limit: a clear error, not a crash. */
static void test_file_too_big(void **state)
{
	char *dir = test_tmpdir();
	char *path = test_join(dir, "huge.md");
	size_t len = AIMS_MANIFEST_MAX_FILE + 1;
	char *data = malloc(len);
	aims_manifest *m = NULL;
	aims_error err;

	(void)state;
	assert_non_null(data);
	memset(data, 'a', len);
	memcpy(data, "---\nid: x\n---\n", 14);
	test_write(dir, "huge.md", data, len);
	aims_error_clear(&err);
	assert_int_equal(aims_manifest_load(&m, path, &err), AIMS_ETOOBIG);
	assert_null(m);
	assert_non_null(strstr(err.message, "limit"));
	free(data);
	free(path);
	test_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus),
		cmocka_unit_test(test_corpus_registry),
		cmocka_unit_test(test_megabyte_body),
		cmocka_unit_test(test_file_too_big),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_manifest.c - the front-matter splitter, the YAML model with
 * positions, inference and the body parser.
 */
#include <stdlib.h>
#include <string.h>

#include "aims/manifest.h"
#include "support.h"

static aims_manifest *parse(const char *path, const char *text)
{
	aims_manifest *m = NULL;
	aims_error err;

	aims_error_clear(&err);
	assert_int_equal(aims_manifest_parse(&m, path, text, strlen(text), &err), 0);
	assert_non_null(m);
	return m;
}

static const aims_problem *find_problem(const aims_manifest *m, const char *rule)
{
	for (size_t i = 0; i < m->problem_count; i++)
		if (strcmp(m->problems[i].rule, rule) == 0)
			return &m->problems[i];
	return NULL;
}

static void test_seed_fields(void **state)
{
	aims_manifest *m = NULL;
	aims_error err;

	(void)state;
	aims_error_clear(&err);
	assert_int_equal(aims_manifest_load(&m, AIMS_SOURCE_DIR "/skills/e2b-sandbox.md", &err), 0);
	assert_true(m->has_front_matter);
	assert_string_equal(m->id.str, "e2b-sandbox");
	assert_false(m->id_inferred);
	assert_int_equal(m->kind, AIMS_KIND_TASK);
	assert_false(m->kind_inferred);
	assert_int_equal(m->status, AIMS_STATUS_ACTIVE);
	assert_int_equal(m->priority, AIMS_PRIORITY_HIGH);
	assert_int_equal(m->triggers.count, 7);
	assert_string_equal(m->triggers.items[0], "run code");
	assert_int_equal(m->triggers.pos[0].line, 7);
	assert_int_equal(m->triggers.pos[0].col, 5);
	assert_string_equal(m->exec_target.str, "api");
	assert_string_equal(m->exec_route.str, "/api/code/execute");
	assert_string_equal(m->exec_command.str, "");
	assert_int_equal(m->exec_route.pos.line, 17);
	assert_int_equal(m->dep_env.count, 1);
	assert_string_equal(m->dep_env.items[0], "E2B_API_KEY");
	assert_int_equal(m->dep_files.count, 2);
	assert_int_equal(m->problem_count, 0);
	assert_int_equal(m->body_line, 29);
	assert_string_equal(m->title, "E2B Code Sandbox Execution Task");
	assert_true(m->section_count >= 6);
	assert_string_equal(m->sections[0].title, "Endpoint");
	assert_int_equal(m->sections[0].line, 32);
	assert_true(strncmp(m->body + m->sections[0].offset, "## Endpoint", 11) == 0);
	assert_true(m->code_block_count >= 3);
	assert_string_equal(m->code_blocks[0].info, "json");
	assert_int_equal(m->code_blocks[0].line, 35);
	assert_true(strstr(m->code_blocks[0].literal, "\"language\": \"python\"") != NULL);
	assert_true(m->table_count >= 1);
	aims_manifest_free(m);
}

static void test_tool_seed(void **state)
{
	aims_manifest *m = NULL;
	aims_error err;

	(void)state;
	aims_error_clear(&err);
	assert_int_equal(aims_manifest_load(&m, AIMS_SOURCE_DIR "/tools/e2b.tool.md", &err), 0);
	assert_int_equal(m->kind, AIMS_KIND_TOOL);
	assert_string_equal(m->id.str, "e2b");
	assert_string_equal(m->category.str, "ai");
	assert_string_equal(m->docs_url.str, "https://e2b.dev/docs");
	assert_int_equal(m->env_vars.count, 1);
	assert_int_equal(m->aims_files.count, 1);
	assert_int_equal(m->problem_count, 0);
	aims_manifest_free(m);
}

static void test_no_front_matter(void **state)
{
	aims_manifest *m = parse("README.md", "# Hello\n\nNot a manifest.\n");

	(void)state;
	assert_false(m->has_front_matter);
	assert_int_equal(m->problem_count, 0);
	aims_manifest_free(m);
	/* "---" not on the first line does not open front matter. */
	m = parse("x.md", "\n---\nid: a\n---\n");
	assert_false(m->has_front_matter);
	aims_manifest_free(m);
}

static void test_unclosed(void **state)
{
	aims_manifest *m = parse("skills/x.md", "---\nid: x\nname: X\n");
	const aims_problem *p = find_problem(m, "unclosed-front-matter");

	(void)state;
	assert_true(m->has_front_matter);
	assert_non_null(p);
	assert_int_equal(p->severity, AIMS_SEVERITY_ERROR);
	assert_int_equal(p->pos.line, 1);
	assert_null(m->root);
	aims_manifest_free(m);
}

static void test_yaml_error_position(void **state)
{
	/* An unquoted ": " inside a value breaks YAML on line 3. */
	aims_manifest *m =
		parse("skills/bad.md",
		      "---\nid: bad\ndescription: Use this: it works: sometimes\n---\nbody\n");
	const aims_problem *p = find_problem(m, "yaml-syntax");

	(void)state;
	assert_non_null(p);
	assert_int_equal(p->pos.line, 3);
	assert_true(p->pos.col > 1);
	assert_null(m->root);
	/* Lenient: still an id (from the file name) and a kind (from the dir). */
	assert_string_equal(m->id.str, "bad");
	assert_true(m->id_inferred);
	assert_int_equal(m->kind, AIMS_KIND_SKILL);
	assert_true(m->kind_inferred);
	aims_manifest_free(m);
}

static void test_crlf_bom_no_final_newline(void **state)
{
	aims_manifest *m =
		parse("a.md", "\xEF\xBB\xBF---\r\nid: crlf\r\ntype: skill\r\ntriggers:\r\n  - "
			      "\"go\"\r\n---\r\n# Title\r\nlast line");

	(void)state;
	assert_true(m->has_front_matter);
	assert_string_equal(m->id.str, "crlf");
	assert_int_equal(m->kind, AIMS_KIND_SKILL);
	assert_int_equal(m->triggers.count, 1);
	assert_int_equal(m->triggers.pos[0].line, 5);
	assert_string_equal(m->title, "Title");
	assert_int_equal(m->body_line, 7);
	assert_null(find_problem(m, "yaml-syntax"));
	aims_manifest_free(m);
}

static void test_inference(void **state)
{
	aims_manifest *m;

	(void)state;
	m = parse("repo/x/deploy.hook.md", "---\nname: Deploy Guard!\n---\n");
	assert_int_equal(m->kind, AIMS_KIND_HOOK);
	assert_true(m->kind_inferred);
	assert_string_equal(m->id.str, "deploy-guard");
	assert_true(m->id_inferred);
	assert_non_null(find_problem(m, "missing-id"));
	assert_non_null(find_problem(m, "inferred-type"));
	aims_manifest_free(m);

	m = parse("aims-skills/tasks/sub/My_Task.md", "---\ndescription: d\n---\n");
	assert_int_equal(m->kind, AIMS_KIND_TASK);
	assert_string_equal(m->id.str, "my_task");
	aims_manifest_free(m);

	m = parse("notes/thing.md", "---\nid: t\n---\n");
	assert_int_equal(m->kind, AIMS_KIND_UNKNOWN);
	assert_non_null(find_problem(m, "missing-type"));
	aims_manifest_free(m);

	m = parse("skills/i.md", "---\nid: i\ntype: integration\n---\n");
	assert_int_equal(m->kind, AIMS_KIND_INTEGRATION);
	assert_false(m->kind_inferred);
	assert_non_null(find_problem(m, "unknown-type"));
	aims_manifest_free(m);
}

static void test_singular_trigger_and_enums(void **state)
{
	aims_manifest *m =
		parse("skills/s.md", "---\nid: s\ntrigger: flip {address}\nstatus: "
				     "planned\npriority: normal\nowner: me\nfoo: 1\n---\n");
	const aims_problem *p;

	(void)state;
	assert_true(m->singular_trigger);
	assert_int_equal(m->triggers.count, 1);
	assert_string_equal(m->triggers.items[0], "flip {address}");
	assert_int_equal(m->status, AIMS_STATUS_PLANNED);
	assert_false(aims_status_routable(m->status));
	assert_int_equal(m->priority, AIMS_PRIORITY_MEDIUM);
	assert_non_null(find_problem(m, "singular-trigger"));
	p = find_problem(m, "unknown-key");
	assert_non_null(p);
	assert_int_equal(p->pos.line, 7);
	assert_int_equal(p->pos.col, 1);
	assert_true(strstr(p->message, "foo") != NULL);
	/* owner is a known tool key: no warning; the type is inferred. */
	assert_non_null(find_problem(m, "inferred-type"));
	assert_int_equal(m->problem_count, 3);
	aims_manifest_free(m);
}

static void test_wrong_types(void **state)
{
	aims_manifest *m =
		parse("skills/w.md", "---\nid: w\ntriggers: just one\nexecution: "
				     "[a]\ndependencies:\n  env: {a: b}\nname: [x]\n---\n");
	size_t wrong = 0;

	(void)state;
	for (size_t i = 0; i < m->problem_count; i++)
		wrong += strcmp(m->problems[i].rule, "wrong-type") == 0;
	assert_int_equal(wrong, 4);
	/* The lone string is still usable as a trigger. */
	assert_int_equal(m->triggers.count, 1);
	assert_null(m->execution);
	assert_null(m->name.str);
	aims_manifest_free(m);
}

static void test_alias_bomb(void **state)
{
	aims_buf buf;
	aims_manifest *m;

	(void)state;
	aims_buf_init(&buf, 1 << 20);
	assert_int_equal(
		aims_buf_puts(&buf, "---\nid: bomb\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"), 0);
	for (int i = 1; i < 12; i++)
		assert_int_equal(aims_buf_printf(&buf,
						 "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, "
						 "*a%d, *a%d, *a%d, *a%d]\n",
						 i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1,
						 i - 1, i - 1, i - 1, i - 1),
				 0);
	assert_int_equal(aims_buf_puts(&buf, "---\n"), 0);
	m = parse("skills/bomb.md", buf.ptr);
	assert_non_null(find_problem(m, "too-big"));
	assert_null(m->root);
	aims_manifest_free(m);
	aims_buf_free(&buf);
}

static void test_self_alias_rejected(void **state)
{
	aims_manifest *m = parse("skills/loop.md", "---\nid: loop\na: &a [1, *a]\n---\n");

	(void)state;
	assert_non_null(find_problem(m, "yaml-syntax"));
	aims_manifest_free(m);
}

static void test_deep_nesting(void **state)
{
	aims_buf buf;
	aims_manifest *m;

	(void)state;
	aims_buf_init(&buf, 1 << 20);
	aims_buf_puts(&buf, "---\nid: deep\nx: ");
	for (int i = 0; i < 200; i++)
		aims_buf_puts(&buf, "[");
	for (int i = 0; i < 200; i++)
		aims_buf_puts(&buf, "]");
	aims_buf_puts(&buf, "\n---\n");
	m = parse("skills/deep.md", buf.ptr);
	assert_non_null(find_problem(m, "too-big"));
	aims_manifest_free(m);
	aims_buf_free(&buf);
}

static void test_body_dashes(void **state)
{
	aims_manifest *m = parse("skills/d.md", "---\nid: d\n---\n# T\n\ntext\n\n---\n\n## "
						"Next\n\n```bash\necho hi\n```\n\n    indented\n");

	(void)state;
	assert_string_equal(m->title, "T");
	assert_int_equal(m->section_count, 1);
	assert_string_equal(m->sections[0].title, "Next");
	assert_int_equal(m->sections[0].line, 10);
	assert_int_equal(m->code_block_count, 1);
	assert_string_equal(m->code_blocks[0].info, "bash");
	assert_string_equal(m->code_blocks[0].literal, "echo hi\n");
	assert_int_equal(m->code_blocks[0].line, 12);
	aims_manifest_free(m);
}

static void test_empty_and_list_front_matter(void **state)
{
	aims_manifest *m = parse("skills/e.md", "---\n---\nbody\n");

	(void)state;
	assert_non_null(find_problem(m, "not-a-mapping"));
	aims_manifest_free(m);
	m = parse("skills/l.md", "---\n- a\n- b\n---\n");
	assert_non_null(find_problem(m, "not-a-mapping"));
	assert_int_equal(find_problem(m, "not-a-mapping")->pos.line, 2);
	aims_manifest_free(m);
}

static void test_duplicate_key(void **state)
{
	aims_manifest *m = parse("skills/k.md", "---\nid: first\nname: N\nid: second\n---\n");
	const aims_problem *p = find_problem(m, "duplicate-key");

	(void)state;
	assert_non_null(p);
	assert_int_equal(p->pos.line, 4);
	assert_string_equal(m->id.str, "first");
	aims_manifest_free(m);
}

static void test_scalar_types(void **state)
{
	aims_manifest *m =
		parse("skills/t.md",
		      "---\nid: t\nx: [null, ~, true, 12, 1.5, '12', abc, 0x1f, \"\"]\n---\n");
	const aims_yaml_node *x = aims_yaml_get(m->root, "x");

	(void)state;
	assert_non_null(x);
	assert_int_equal(x->count, 9);
	assert_string_equal(aims_yaml_type_name(x->items[0]), "null");
	assert_string_equal(aims_yaml_type_name(x->items[1]), "null");
	assert_string_equal(aims_yaml_type_name(x->items[2]), "boolean");
	assert_string_equal(aims_yaml_type_name(x->items[3]), "number");
	assert_string_equal(aims_yaml_type_name(x->items[4]), "number");
	assert_string_equal(aims_yaml_type_name(x->items[5]), "string");
	assert_string_equal(aims_yaml_type_name(x->items[6]), "string");
	assert_string_equal(aims_yaml_type_name(x->items[7]), "number");
	assert_string_equal(aims_yaml_type_name(x->items[8]), "string");
	aims_manifest_free(m);
}

static void test_body_rendering(void **state)
{
	aims_manifest *m = parse("skills/r.md",
				 "---\nid: r\n---\n# Title\n\nSome *text* with `code` and a "
				 "[link](https://x.test).\n\n"
				 "- one\n- two\n\n```sh\necho hi\n```\n\n<script>bad()</script>\n");
	char *text = NULL, *html = NULL;
	aims_error err;

	(void)state;
	aims_error_clear(&err);
	assert_int_equal(aims_manifest_body_text(&text, m, 80, &err), 0);
	assert_string_equal(text,
			    "# Title\n\nSome text with `code` and a link <https://x.test>.\n\n"
			    "- one\n- two\n\n    echo hi\n");
	assert_int_equal(aims_manifest_body_html(&html, m, &err), 0);
	assert_non_null(strstr(html, "<h1>Title</h1>"));
	assert_non_null(strstr(html, "<a href=\"https://x.test\">link</a>"));
	assert_null(strstr(html, "<script>"));
	free(text);
	free(html);
	aims_manifest_free(m);
}

static void test_body_wrapping(void **state)
{
	aims_manifest *m = parse("skills/w.md", "---\nid: w\n---\naaa bbb ccc ddd eee fff\n");
	char *text = NULL;
	aims_error err;

	(void)state;
	aims_error_clear(&err);
	assert_int_equal(aims_manifest_body_text(&text, m, 11, &err), 0);
	assert_string_equal(text, "aaa bbb ccc\nddd eee fff\n");
	free(text);
	aims_manifest_free(m);
}

static void test_json_blocks_only_flag(void **state)
{
	static const char *const plain = "---\nid: a\n---\n# Title\n\n```bash\nls\n```\n";
	static const char *const json =
		"---\nid: a\n---\n# Title\n\n- item\n\n  ~~~ JSON\n  {}\n  ~~~\n";
	aims_manifest *m = NULL;
	aims_error err;

	(void)state;
	aims_error_clear(&err);
	/* No possible json block: the body is neither kept nor parsed. */
	assert_int_equal(aims_manifest_parse_flags(&m, "skills/a.md", plain, strlen(plain),
						   AIMS_MANIFEST_JSON_BLOCKS_ONLY, &err),
			 0);
	assert_false(m->body_parsed);
	assert_null(m->title);
	assert_int_equal(m->code_block_count, 0);
	assert_null(m->body);
	assert_int_equal(m->body_len, 0);
	aims_manifest_free(m);
	/* Without the flag everything is parsed. */
	m = parse("skills/a.md", plain);
	assert_true(m->body_parsed);
	assert_string_equal(m->title, "Title");
	aims_manifest_free(m);
	/* A json fence anywhere (here in a list item, tildes, upper case)
	 * gets the full parse, with the fence's line and column. */
	assert_int_equal(aims_manifest_parse_flags(&m, "skills/a.md", json, strlen(json),
						   AIMS_MANIFEST_JSON_BLOCKS_ONLY, &err),
			 0);
	assert_true(m->body_parsed);
	assert_int_equal(m->code_block_count, 1);
	assert_string_equal(m->code_blocks[0].info, "JSON");
	assert_int_equal(m->code_blocks[0].line, 8);
	assert_int_equal(m->code_blocks[0].col, 3);
	aims_manifest_free(m);
}

static void test_reader_error_position(void **state)
{
	/* libyaml reports bad UTF-8 by byte offset (of the broken character
	 * or of the octet after it): still a line and column. */
	aims_manifest *m = parse("skills/u.md", "---\nid: u\nname: caf\xe9\n---\n");
	const aims_problem *p = find_problem(m, "yaml-syntax");

	(void)state;
	assert_non_null(p);
	assert_int_equal(p->pos.line, 3);
	assert_true(p->pos.col == 10 || p->pos.col == 11);
	/* The YAML failed: no extra "no type"/"no id" noise. */
	assert_null(find_problem(m, "missing-id"));
	assert_null(find_problem(m, "inferred-type"));
	aims_manifest_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed_fields),
		cmocka_unit_test(test_tool_seed),
		cmocka_unit_test(test_no_front_matter),
		cmocka_unit_test(test_unclosed),
		cmocka_unit_test(test_yaml_error_position),
		cmocka_unit_test(test_crlf_bom_no_final_newline),
		cmocka_unit_test(test_inference),
		cmocka_unit_test(test_singular_trigger_and_enums),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_alias_bomb),
		cmocka_unit_test(test_self_alias_rejected),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_body_dashes),
		cmocka_unit_test(test_empty_and_list_front_matter),
		cmocka_unit_test(test_duplicate_key),
		cmocka_unit_test(test_scalar_types),
		cmocka_unit_test(test_body_rendering),
		cmocka_unit_test(test_body_wrapping),
		cmocka_unit_test(test_json_blocks_only_flag),
		cmocka_unit_test(test_reader_error_position),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

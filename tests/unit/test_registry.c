/*
 * test_registry.c - search paths, sorted recursive loading, skipping of
 * non-manifests, duplicate (type, id) conflicts, lookups, thread count
 * independence.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aims/registry.h"
#include "support.h"

static char *dir;

static int setup(void **state)
{
	(void)state;
	dir = test_tmpdir();
	test_write_str(dir, "tree/b/skill-b.md", "---\nid: b\ntype: skill\n---\n");
	test_write_str(dir, "tree/a/skill-a.md", "---\nid: a\ntype: skill\n---\n");
	test_write_str(dir, "tree/a/README.md", "# notes, not a manifest\n");
	test_write_str(dir, "tree/a/notes.txt", "---\nid: txt\n---\n");
	test_write_str(dir, "tree/.hidden/h.md", "---\nid: hidden\ntype: skill\n---\n");
	test_write_str(dir, "tree/c/dup.md", "---\nid: a\ntype: skill\n---\n");
	test_write_str(dir, "tree/c/same-id-other-kind.md", "---\nid: a\ntype: tool\n---\n");
	test_write_str(dir, "tree/tasks/t.md", "---\nid: t\nname: T\n---\n");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	test_rmtree(dir);
	free(dir);
	return 0;
}

static aims_registry *load(const char *sub, unsigned threads)
{
	aims_registry *reg = NULL;
	aims_error err;
	char *path = test_join(dir, sub);

	aims_error_clear(&err);
	assert_int_equal(aims_registry_new(&reg, &err), 0);
	aims_registry_set_threads(reg, threads);
	assert_int_equal(aims_registry_add_path(reg, path, &err), 0);
	free(path);
	return reg;
}

static void test_sorted_and_skips(void **state)
{
	aims_registry *reg = load("tree", 1);
	const char *expect[] = {"a", "b", "a", "t"}; /* a/, b/, c/ (tool a), tasks/ */

	(void)state;
	assert_int_equal(aims_registry_file_count(reg), 5);
	assert_int_equal(aims_registry_count(reg), 4);
	for (size_t i = 0; i < 4; i++)
		assert_string_equal(aims_registry_at(reg, i)->id.str, expect[i]);
	assert_int_equal(aims_registry_at(reg, 2)->kind, AIMS_KIND_TOOL);
	assert_int_equal(aims_registry_at(reg, 3)->kind, AIMS_KIND_TASK);
	assert_true(aims_registry_at(reg, 3)->kind_inferred);
	assert_null(aims_registry_find_id(reg, "hidden"));
	assert_null(aims_registry_find_id(reg, "txt"));
	aims_registry_free(reg);
}

static void test_conflicts(void **state)
{
	aims_registry *reg = load("tree", 2);
	const aims_conflict *c;

	(void)state;
	assert_int_equal(aims_registry_conflict_count(reg), 1);
	c = aims_registry_conflict_at(reg, 0);
	assert_non_null(strstr(c->winner->path, "tree/a/skill-a.md"));
	assert_non_null(strstr(c->loser->path, "tree/c/dup.md"));
	assert_ptr_equal(aims_registry_find(reg, AIMS_KIND_SKILL, "a"), c->winner);
	assert_null(aims_registry_conflict_at(reg, 1));
	aims_registry_free(reg);
}

static void test_lookups(void **state)
{
	aims_registry *reg = load("tree", 0);

	(void)state;
	assert_int_equal(aims_registry_find(reg, AIMS_KIND_TOOL, "a")->kind, AIMS_KIND_TOOL);
	/* find_id prefers task, then skill, then hook, then tool. */
	assert_int_equal(aims_registry_find_id(reg, "a")->kind, AIMS_KIND_SKILL);
	assert_null(aims_registry_find(reg, AIMS_KIND_HOOK, "a"));
	assert_null(aims_registry_find_id(reg, "nope"));
	assert_null(aims_registry_at(reg, 99));
	aims_registry_free(reg);
}

static void test_explicit_file_without_front_matter(void **state)
{
	aims_registry *reg = load("tree/a/README.md", 1);

	(void)state;
	/* Named explicitly: kept in the file list (validate reports it) but
	 * not registered as a definition. */
	assert_int_equal(aims_registry_file_count(reg), 1);
	assert_false(aims_registry_file_at(reg, 0)->has_front_matter);
	assert_int_equal(aims_registry_count(reg), 0);
	aims_registry_free(reg);
}

static void test_missing_path(void **state)
{
	aims_registry *reg = NULL;
	aims_error err;

	(void)state;
	aims_error_clear(&err);
	assert_int_equal(aims_registry_new(&reg, &err), 0);
	assert_int_equal(aims_registry_add_path(reg, "/nonexistent/aims/path", &err),
			 AIMS_ENOTFOUND);
	assert_non_null(strstr(err.message, "/nonexistent/aims/path"));
	aims_registry_free(reg);
}

static void test_many_files_threads_agree(void **state)
{
	char name[64], text[128];
	aims_registry *one, *many;

	(void)state;
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "many/d%02d/f%03d.md", i % 17, i);
		/* every 50th file repeats an id: conflicts must be the same */
		snprintf(text, sizeof(text), "---\nid: s%d\ntype: skill\n---\n",
			 i % 50 == 49 ? 0 : i);
		test_write_str(dir, name, text);
	}
	one = load("many", 1);
	many = load("many", 4);
	assert_int_equal(aims_registry_count(one), aims_registry_count(many));
	assert_int_equal(aims_registry_conflict_count(one), 6);
	assert_int_equal(aims_registry_conflict_count(many), 6);
	for (size_t i = 0; i < aims_registry_count(one); i++)
		assert_string_equal(aims_registry_at(one, i)->path,
				    aims_registry_at(many, i)->path);
	for (size_t i = 0; i < 6; i++)
		assert_string_equal(aims_registry_conflict_at(one, i)->loser->path,
				    aims_registry_conflict_at(many, i)->loser->path);
	aims_registry_free(one);
	aims_registry_free(many);
}

/* The descriptors this process has open, or -1 when it cannot look
 * (none left to open /proc/self/fd with). Safe on any thread. */
static long open_fds(void)
{
	long n = -3; /* ".", ".." and the listing's own */
	DIR *d = opendir("/proc/self/fd");

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* Files in more directories than are kept open load by their paths, and
 * no directory stays open after the load. */
static void test_many_directories(void **state)
{
	char name[64];
	long before = open_fds();
	aims_registry *reg;

	(void)state;
	assert_true(before >= 0);
	for (int i = 0; i < 150; i++) {
		snprintf(name, sizeof(name), "dirs/d%03d/f.md", i);
		test_write_str(dir, name, "---\nid: x\ntype: skill\n---\n");
	}
	reg = load("dirs", 2);
	assert_int_equal(aims_registry_file_count(reg), 150);
	assert_int_equal(aims_registry_conflict_count(reg), 149);
	for (size_t i = 0; i < 150; i++) {
		snprintf(name, sizeof(name), "/dirs/d%03zu/f.md", i);
		assert_non_null(strstr(aims_registry_file_at(reg, i)->path, name));
		assert_true(aims_registry_file_at(reg, i)->has_front_matter);
	}
	assert_int_equal(open_fds(), before);
	aims_registry_free(reg);
}

/* Near the limit of open files, the directories are not kept open: the
 * loading threads keep descriptors to spare (each failure to open a file
 * would read as a broken file). The hook, on the loading threads, looks
 * how many are left. */
static long fd_limit;
static long fewest_spare = 1 << 30;

static aims_manifest *count_spare_fds(void *ctx, unsigned worker, aims_manifest *m, uint64_t *tag)
{
	long open = open_fds(), spare = open < 0 ? 0 : fd_limit - open;

	(void)ctx;
	(void)worker;
	(void)tag;
	for (long seen = __atomic_load_n(&fewest_spare, __ATOMIC_RELAXED); spare < seen;)
		if (__atomic_compare_exchange_n(&fewest_spare, &seen, spare, false,
						__ATOMIC_RELAXED, __ATOMIC_RELAXED))
			break;
	return m;
}

static void few_descriptors_left(void **state)
{
	char name[64], *path;
	struct rlimit saved, low;
	aims_registry *reg = NULL;
	aims_error err;

	(void)state;
	for (int i = 0; i < 70; i++) {
		snprintf(name, sizeof(name), "fds/d%02d/f.md", i);
		test_write_str(dir, name, "---\nid: x\ntype: skill\n---\n");
	}
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
	low = saved;
	/* Room for 64 directories and the listing's own 2, then 2 more. */
	assert_true((fd_limit = open_fds()) >= 0);
	fd_limit += 68;
	low.rlim_cur = (rlim_t)fd_limit;
	aims_error_clear(&err);
	assert_int_equal(aims_registry_new(&reg, &err), 0);
	aims_registry_set_threads(reg, 8);
	aims_registry_set_load_hook(reg, count_spare_fds, NULL);
	path = test_join(dir, "fds");
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	assert_int_equal(aims_registry_add_path(reg, path, &err), 0);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
	free(path);
	assert_int_equal(aims_registry_file_count(reg), 70);
	for (size_t i = 0; i < 70; i++)
		assert_true(aims_registry_file_at(reg, i)->has_front_matter);
	if (fewest_spare < 4 * 8)
		fail_msg("%ld descriptors left while loading", fewest_spare);
	aims_registry_free(reg);
}

/* Directories are searched 30 levels below the path given; a deeper one
 * is not searched, and says so (a read-error of its own), not silently. */
static void too_deep_is_reported(void **state)
{
	char name[256] = "deep";
	aims_registry *reg;
	const aims_manifest *m;

	(void)state;
	for (int level = 1; level <= 31; level++) {
		char file[300];

		strcat(name, "/d");
		/* fNN.md is in the NNth directory below deep/. */
		snprintf(file, sizeof(file), "%s/f%02d.md", name, level);
		if (level >= 30)
			test_write_str(dir, file, "---\nid: x\ntype: skill\n---\n");
	}
	reg = load("deep", 1);
	/* In list order: the 31st directory ("d") before f30.md beside it. */
	assert_int_equal(aims_registry_file_count(reg), 2);
	m = aims_registry_file_at(reg, 1);
	assert_true(m->has_front_matter);
	assert_non_null(strstr(m->path, "/f30.md"));
	m = aims_registry_file_at(reg, 0);
	assert_false(m->has_front_matter);
	assert_int_equal(m->problem_count, 1);
	assert_string_equal(m->problems[0].rule, "read-error");
	assert_non_null(strstr(m->problems[0].message, "searched 30 levels below"));
	aims_registry_free(reg);
}

/* Files load in strcmp order of their names, however long the prefix
 * they share (the listing compares eight bytes first). */
static void test_strcmp_order(void **state)
{
	/* In strcmp order; written shuffled. */
	const char *names[] = {"Z.md",		"a.md",		  "abcdefgh.md",
			       "abcdefgh0.md",	"abcdefgh1.md",	  "abcdefghij-a.md",
			       "abcdefghij.md", "abcdefghij~.md", "b\xc3\xa9.md"};
	const size_t n = sizeof(names) / sizeof(*names);
	aims_registry *reg;
	char path[64];

	(void)state;
	for (size_t i = 0; i < n; i++) {
		size_t k = (i * 5) % n; /* 5 and 9 are coprime: each once */

		snprintf(path, sizeof(path), "order/%s", names[k]);
		test_write_str(dir, path, "---\nid: same\ntype: skill\n---\n");
	}
	reg = load("order", 1);
	assert_int_equal(aims_registry_file_count(reg), n);
	for (size_t i = 0; i < n; i++) {
		const char *p = aims_registry_file_at(reg, i)->path;

		assert_string_equal(strrchr(p, '/') + 1, names[i]);
	}
	aims_registry_free(reg);
}

/* A tag the hook can work out from the manifest alone: its path's hash. */
static uint64_t path_tag(const char *path)
{
	uint64_t h = 1469598103934665603ull;

	for (; *path; path++)
		h = (h ^ (unsigned char)*path) * 1099511628211ull;
	return h ? h : 1;
}

static aims_manifest *tag_by_path(void *ctx, unsigned worker, aims_manifest *m, uint64_t *tag)
{
	unsigned *calls = ctx;

	assert_true(worker < AIMS_REGISTRY_MAX_THREADS);
	assert_int_equal(*tag, 0);
	__atomic_add_fetch(calls, 1, __ATOMIC_RELAXED);
	*tag = path_tag(m->path);
	return m;
}

/* Each file keeps the tag its hook call gave it, whichever thread loaded
 * it and in whatever order the threads finished. */
static void test_hook_tags_follow_their_files(void **state)
{
	char name[64], *path;
	unsigned calls = 0;
	aims_registry *reg = NULL;
	aims_error err;

	(void)state;
	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "tagged/d%d/f%03d.md", i % 7, i);
		test_write_str(dir, name,
			       i % 9 ? "---\nid: x\ntype: skill\n---\n" : "no front matter\n");
	}
	aims_error_clear(&err);
	assert_int_equal(aims_registry_new(&reg, &err), 0);
	aims_registry_set_threads(reg, 4);
	aims_registry_set_load_hook(reg, tag_by_path, &calls);
	path = test_join(dir, "tagged");
	assert_int_equal(aims_registry_add_path(reg, path, &err), 0);
	free(path);
	path = test_join(dir, "tree/a/README.md"); /* named: kept without front matter */
	assert_int_equal(aims_registry_add_path(reg, path, &err), 0);
	free(path);
	assert_int_equal(aims_registry_file_count(reg), 200 - 23 + 1);
	assert_int_equal(calls, aims_registry_file_count(reg));
	for (size_t i = 0; i < aims_registry_file_count(reg); i++)
		assert_true(aims_registry_file_tag(reg, i) ==
			    path_tag(aims_registry_file_at(reg, i)->path));
	assert_true(aims_registry_file_tag(reg, aims_registry_file_count(reg)) == 0);
	/* Files of the same id: one definition, the rest conflicts. */
	assert_int_equal(aims_registry_count(reg), 1);
	assert_int_equal(aims_registry_conflict_count(reg), 200 - 23 - 1);
	aims_registry_free(reg);
}

static void test_symlink_loop_and_md_directory(void **state)
{
	char *loop_target = test_join(dir, "loop");
	char *link = test_join(dir, "loop/sub/back");
	char *locked = test_join(dir, "loop/locked.md");
	aims_registry *reg;

	(void)state;
	test_write_str(dir, "loop/sub/x.md", "---\nid: x\ntype: skill\n---\n");
	test_write_str(dir, "loop/locked.md", "---\nid: locked\ntype: skill\n---\n");
	assert_int_equal(symlink(loop_target, link), 0);
	/* A directory named like a manifest is walked, not read. */
	unlink(locked);
	assert_int_equal(mkdir(locked, 0755), 0);
	reg = load("loop", 1);
	assert_int_equal(aims_registry_count(reg), 1);
	assert_string_equal(aims_registry_at(reg, 0)->id.str, "x");
	aims_registry_free(reg);
	free(loop_target);
	free(link);
	free(locked);
}

/* A file that cannot be read is recorded with a read-error problem. */
static void test_unreadable_file_recorded(void **state)
{
	size_t len = AIMS_MANIFEST_MAX_FILE + 16;
	char *data = malloc(len);
	aims_registry *reg;
	const aims_manifest *m;

	(void)state;
	assert_non_null(data);
	memset(data, 'x', len);
	test_write(dir, "big/huge.md", data, len);
	free(data);
	reg = load("big/huge.md", 1);
	assert_int_equal(aims_registry_file_count(reg), 1);
	m = aims_registry_file_at(reg, 0);
	assert_int_equal(m->problem_count, 1);
	assert_string_equal(m->problems[0].rule, "read-error");
	assert_non_null(strstr(m->problems[0].message, "limit"));
	aims_registry_free(reg);
}

static void test_default_path_env(void **state)
{
	aims_registry *reg = NULL;
	aims_error err;
	char *a = test_join(dir, "tree/a"), *b = test_join(dir, "tree/b");
	char value[8192];

	(void)state;
	snprintf(value, sizeof(value), "%s::%s", a, b);
	setenv("AIMS_SKILLS_PATH", value, 1);
	aims_error_clear(&err);
	assert_int_equal(aims_registry_new(&reg, &err), 0);
	assert_int_equal(aims_registry_add_default(reg, &err), 0);
	assert_int_equal(aims_registry_count(reg), 2);
	aims_registry_free(reg);

	snprintf(value, sizeof(value), "%s:%s/missing", a, dir);
	setenv("AIMS_SKILLS_PATH", value, 1);
	aims_error_clear(&err);
	assert_int_equal(aims_registry_new(&reg, &err), 0);
	assert_int_equal(aims_registry_add_default(reg, &err), AIMS_ENOTFOUND);
	aims_registry_free(reg);
	unsetenv("AIMS_SKILLS_PATH");
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sorted_and_skips),
		cmocka_unit_test(test_conflicts),
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_explicit_file_without_front_matter),
		cmocka_unit_test(test_missing_path),
		cmocka_unit_test(test_many_files_threads_agree),
		cmocka_unit_test(test_strcmp_order),
		cmocka_unit_test(too_deep_is_reported),
		cmocka_unit_test(test_many_directories),
		cmocka_unit_test(few_descriptors_left),
		cmocka_unit_test(test_hook_tags_follow_their_files),
		cmocka_unit_test(test_symlink_loop_and_md_directory),
		cmocka_unit_test(test_unreadable_file_recorded),
		cmocka_unit_test(test_default_path_env),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

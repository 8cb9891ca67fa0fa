/*
 * run_corpus.c - the data-driven validation tests: every NAME.md (one
 * file) and every NAME/ (a small tree) in this directory is validated, and
 * its diagnostics are compared with NAME.expected, one per line:
 *
 *     [FILE ]RULE LINE:COL SEVERITY
 *
 * FILE (relative to the case directory) only for tree cases; blank lines
 * and lines starting with '#' are ignored; an empty file means "clean".
 * NAME.options, when present, holds words: `strict`, `root=DIR` (relative
 * to this directory), `text=PATH` (validate the file's content in memory,
 * under that path, as POST /api/validate does).
 *
 * Also checked: every rule emitted is in the rule table with the severity
 * the table says (unless strict), every rule of the table is covered by
 * at least one case, and validating files (which checks each file as it
 * loads, aims_validate_paths) finds exactly what validating a registry
 * loaded first finds (aims_validate_registry), message for message.
 *
 * Usage: run_corpus CORPUS_DIR [NAME]   (exit 0 when every case passes)
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aims/registry.h"
#include "aims/validate.h"

/* Rules that no file in a repository can trigger, tested elsewhere. */
static const char *const covered_elsewhere[] = {
	"read-error", /* a file over 8 MiB or unreadable: tests/unit/test_validate.c */
	NULL,
};

typedef struct lines {
	char **items;
	size_t count, cap;
} lines;

static void lines_add(lines *l, const char *text)
{
	if (l->count == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->items = realloc(l->items, l->cap * sizeof(*l->items));
		if (!l->items)
			abort();
	}
	if (!(l->items[l->count++] = strdup(text)))
		abort();
}

static void lines_free(lines *l)
{
	for (size_t i = 0; i < l->count; i++)
		free(l->items[i]);
	free(l->items);
	memset(l, 0, sizeof(*l));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *read_text(const char *path, size_t *len)
{
	char *data = NULL;
	aims_error err;

	aims_error_clear(&err);
	if (aims_file_read(&data, len, path, AIMS_MANIFEST_MAX_FILE, &err) < 0)
		return NULL;
	return data;
}

static bool covered[256];

/* Runs one case; returns true when it passes. */
/* Validates path through a registry loaded first: the result must be v's,
 * diagnostic for diagnostic and file for file. */
static bool same_as_registry(const char *name, const char *path, const aims_validate_options *opts,
			     const aims_validation *v)
{
	aims_registry *reg = NULL;
	aims_validation *w = NULL;
	aims_error err;
	bool same;

	aims_error_clear(&err);
	if (aims_registry_new(&reg, &err) < 0 || aims_registry_add_path(reg, path, &err) < 0 ||
	    aims_validate_registry(&w, reg, opts, &err) < 0) {
		printf("FAIL %s: validating the registry: %s\n", name, err.message);
		aims_registry_free(reg);
		return false;
	}
	same = aims_validate_count(v) == aims_validate_count(w) &&
	       aims_validate_file_count(v) == aims_validate_file_count(w);
	for (size_t i = 0; same && i < aims_validate_count(v); i++) {
		const aims_diagnostic *a = aims_validate_at(v, i), *b = aims_validate_at(w, i);

		same = strcmp(a->path, b->path) == 0 && strcmp(a->rule, b->rule) == 0 &&
		       a->pos.line == b->pos.line && a->pos.col == b->pos.col &&
		       a->severity == b->severity && strcmp(a->message, b->message) == 0;
	}
	for (size_t i = 0; same && i < aims_validate_file_count(v); i++) {
		const aims_validate_file *a = aims_validate_file_at(v, i);
		const aims_validate_file *b = aims_validate_file_at(w, i);

		same = strcmp(a->path, b->path) == 0 && a->errors == b->errors &&
		       a->warnings == b->warnings && a->kind == b->kind &&
		       a->manifest == b->manifest && !a->id == !b->id &&
		       (!a->id || strcmp(a->id, b->id) == 0);
	}
	if (!same)
		printf("FAIL %s: validating the files and validating their registry differ\n",
		       name);
	aims_validate_free(w);
	aims_registry_free(reg);
	return same;
}

static bool run_case(const char *name, bool tree)
{
	char case_path[1024], expected_path[1024], options_path[1024], text_path[512] = "";
	char root[1024] = "";
	aims_validate_options opts = {NULL, false, 0};
	aims_validation *v = NULL;
	lines expected = {0}, actual = {0};
	aims_error err;
	bool ok = true;
	char *data;
	size_t len;
	int rc;

	snprintf(case_path, sizeof(case_path), tree ? "%s" : "%s.md", name);
	snprintf(expected_path, sizeof(expected_path), "%s.expected", name);
	snprintf(options_path, sizeof(options_path), "%s.options", name);

	if ((data = read_text(options_path, &len))) {
		for (char *word = data; *word;) {
			size_t n = strcspn(word, " \t\r\n");
			char saved = word[n];

			word[n] = '\0';
			if (strcmp(word, "strict") == 0)
				opts.strict = true;
			else if (strncmp(word, "root=", 5) == 0)
				snprintf(root, sizeof(root), "%s", word + 5);
			else if (strncmp(word, "text=", 5) == 0)
				snprintf(text_path, sizeof(text_path), "%s", word + 5);
			else if (*word) {
				printf("FAIL %s: unknown option '%s'\n", name, word);
				ok = false;
			}
			word[n] = saved;
			word += n;
			word += strspn(word, " \t\r\n");
		}
		free(data);
	}
	if (root[0])
		opts.root = root;

	if (!(data = read_text(expected_path, &len))) {
		printf("FAIL %s: no %s\n", name, expected_path);
		return false;
	}
	for (char *p = data; p && *p;) {
		size_t n = strcspn(p, "\n");
		char saved = p[n];

		p[n] = '\0';
		if (n && p[n - 1] == '\r')
			p[n - 1] = '\0';
		if (*p && *p != '#')
			lines_add(&expected, p);
		p[n] = saved;
		p += n + (saved ? 1 : 0);
	}
	free(data);

	aims_error_clear(&err);
	if (text_path[0]) {
		if (!(data = read_text(case_path, &len))) {
			printf("FAIL %s: cannot read %s\n", name, case_path);
			return false;
		}
		rc = aims_validate_text(&v, text_path, data, len, &opts, &err);
		free(data);
	} else {
		const char *paths[] = {case_path};

		rc = aims_validate_paths(&v, paths, 1, &opts, &err);
		if (rc == 0 && !same_as_registry(name, case_path, &opts, v))
			ok = false;
	}
	if (rc < 0) {
		printf("FAIL %s: validation failed: %s\n", name, err.message);
		lines_free(&expected);
		return false;
	}
	for (size_t i = 0; i < aims_validate_count(v); i++) {
		const aims_diagnostic *d = aims_validate_at(v, i);
		size_t index = 0;
		const aims_validate_rule *rule = aims_validate_rule_find(d->rule, &index);
		char line[2048];
		const char *file = d->path;

		if (!rule) {
			printf("FAIL %s: rule '%s' is not in the rule table\n", name, d->rule);
			ok = false;
		} else {
			if (index < sizeof(covered))
				covered[index] = true;
			if (!opts.strict && rule->severity != d->severity) {
				printf("FAIL %s: rule '%s' emitted as %s, the table says %s\n",
				       name, d->rule, aims_validate_severity_name(d->severity),
				       aims_validate_severity_name(rule->severity));
				ok = false;
			}
		}
		if (tree) {
			size_t nl = strlen(name);

			if (strncmp(file, name, nl) == 0 && file[nl] == '/')
				file += nl + 1;
			snprintf(line, sizeof(line), "%s %s %u:%u %s", file, d->rule, d->pos.line,
				 d->pos.col, aims_validate_severity_name(d->severity));
		} else {
			snprintf(line, sizeof(line), "%s %u:%u %s", d->rule, d->pos.line,
				 d->pos.col, aims_validate_severity_name(d->severity));
		}
		lines_add(&actual, line);
	}
	if (expected.count)
		qsort(expected.items, expected.count, sizeof(char *), cmp_str);
	if (actual.count)
		qsort(actual.items, actual.count, sizeof(char *), cmp_str);
	if (expected.count != actual.count)
		ok = false;
	for (size_t i = 0; ok && i < expected.count; i++)
		if (strcmp(expected.items[i], actual.items[i]) != 0)
			ok = false;
	if (!ok) {
		printf("FAIL %s\n  expected:\n", name);
		for (size_t i = 0; i < expected.count; i++)
			printf("    %s\n", expected.items[i]);
		printf("  actual:\n");
		for (size_t i = 0; i < aims_validate_count(v); i++) {
			const aims_diagnostic *d = aims_validate_at(v, i);

			printf("    %s %s %u:%u %s  (%s)\n", d->path, d->rule, d->pos.line,
			       d->pos.col, aims_validate_severity_name(d->severity), d->message);
		}
	}
	aims_validate_free(v);
	lines_free(&expected);
	lines_free(&actual);
	return ok;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n > k && strcmp(s + n - k, suffix) == 0;
}

int main(int argc, char **argv)
{
	lines cases = {0};
	DIR *dir;
	struct dirent *ent;
	size_t passed = 0, failed = 0;
	bool all = argc < 3;

	if (argc < 2 || chdir(argv[1]) < 0) {
		fprintf(stderr, "usage: run_corpus CORPUS_DIR [NAME]\n");
		return 2;
	}
	if (!(dir = opendir(".")))
		return 2;
	while ((ent = readdir(dir))) {
		struct stat st;

		if (ent->d_name[0] == '.' || stat(ent->d_name, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode) || (S_ISREG(st.st_mode) && ends_with(ent->d_name, ".md")))
			lines_add(&cases, ent->d_name);
	}
	closedir(dir);
	qsort(cases.items, cases.count, sizeof(char *), cmp_str);
	for (size_t i = 0; i < cases.count; i++) {
		char *name = cases.items[i];
		bool tree = !ends_with(name, ".md");

		if (!tree)
			name[strlen(name) - 3] = '\0';
		if (!all && strcmp(name, argv[2]) != 0)
			continue;
		if (run_case(name, tree))
			passed++;
		else
			failed++;
	}
	if (all) {
		for (size_t i = 0; i < aims_validate_rule_count(); i++) {
			const char *id = aims_validate_rule_at(i)->id;
			bool elsewhere = false;

			for (const char *const *e = covered_elsewhere; *e; e++)
				elsewhere |= strcmp(*e, id) == 0;
			if (!covered[i] && !elsewhere) {
				printf("FAIL rule '%s' has no case in the corpus\n", id);
				failed++;
			}
		}
		if (passed + failed < 60) {
			printf("FAIL only %zu cases: the corpus needs at least 60\n",
			       passed + failed);
			failed++;
		}
	}
	printf("%zu passed, %zu failed\n", passed, failed);
	lines_free(&cases);
	return failed ? 1 : 0;
}

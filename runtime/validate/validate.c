/*
 * validate.c - the validator: copies the loader's problems, adds the rules
 * that need the whole file, the file system or other files (SPEC §3), and
 * sorts everything into a result.
 *
 * The loader parses the files (on several threads, in the registry); what
 * is left here is cheap per file (string checks, one JSON parse per
 * ```json block, one stat per listed file with --root) plus two passes
 * over the registry: duplicate ids (its conflicts) and triggers shared
 * between definitions (one hash table). aims_validate_paths runs the
 * per-file part on the loading threads, as each file is parsed, and
 * keeps only slim copies for the two passes ("Checking files as they
 * load", below).
 */
#include <errno.h>
#include <locale.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wctype.h>

#include "aims/json.h"
#include "aims/router.h"
#include "aims/validate.h"
#include "core/arena.h"
#include "core/array.h"
#include "core/file.h"
#include "core/utf8.h"
#include "manifest/slim.h"

#define MAX_THREADS	 8
#define FILES_PER_THREAD 256 /* below this many files a thread is not worth it */

struct aims_validation {
	aims_arena arena;
	aims_arena thread_arenas[MAX_THREADS]; /* strings made by the checking threads */
	aims_diagnostic *diags;
	size_t count, cap;
	aims_validate_file *files;
	size_t file_count;
	size_t errors, warnings;
	bool strict;
};

static const aims_validate_options default_options = {NULL, false, 0};

/* ---- Diagnostics ---------------------------------------------------------- */

/* Copies text into dst (size > 0) replacing invalid UTF-8 with U+FFFD, so
 * every format can carry the message (JSON needs valid UTF-8). */
static void utf8_clean(char *dst, size_t size, const char *src)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t n = 0;

	while (*s && n + 4 < size) {
		size_t len = 0;

		if (s[0] < 0x80)
			len = 1;
		else if (s[0] >= 0xC2 && s[0] <= 0xDF)
			len = 2;
		else if (s[0] >= 0xE0 && s[0] <= 0xEF)
			len = 3;
		else if (s[0] >= 0xF0 && s[0] <= 0xF4)
			len = 4;
		for (size_t i = 1; i < len; i++)
			if ((s[i] & 0xC0) != 0x80)
				len = 0;
		/* Overlong 3/4-byte forms, surrogates and > U+10FFFF. */
		if (len == 3 && ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] >= 0xA0)))
			len = 0;
		if (len == 4 && ((s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] >= 0x90)))
			len = 0;
		if (!len) {
			memcpy(dst + n, "\xEF\xBF\xBD", 3);
			n += 3;
			s++;
			continue;
		}
		memcpy(dst + n, s, len);
		n += len;
		s += len;
	}
	dst[n] = '\0';
}

/* One checking thread's state: its diagnostics and the arena for their
 * strings, merged into the validation at the end. */
typedef struct checker {
	aims_validation *v;
	const aims_validate_options *opts;
	aims_arena *arena;
	aims_diagnostic *diags;
	size_t count, cap;
	/* The verdict record of the file being checked while files are
	 * checked as they load (v->files is made later); else NULL. */
	aims_validate_file *cur;
	int rc;
} checker;

static void checker_init(checker *c, aims_validation *v, const aims_validate_options *opts,
			 aims_arena *arena)
{
	memset(c, 0, sizeof(*c));
	c->v = v;
	c->opts = opts;
	c->arena = arena;
}

static void vdiag(checker *c, size_t file, const char *rule, aims_severity severity, aims_pos pos,
		  const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));

static void vdiag(checker *c, size_t file, const char *rule, aims_severity severity, aims_pos pos,
		  const char *fmt, va_list ap)
{
	aims_validation *v = c->v;
	aims_validate_file *f = c->cur ? c->cur : &v->files[file];
	char raw[AIMS_ERROR_MESSAGE_MAX], clean[AIMS_ERROR_MESSAGE_MAX * 2];
	aims_diagnostic *d;

	if (c->rc < 0 || c->count >= AIMS_VALIDATE_MAX_DIAGNOSTICS)
		return;
	if (c->count == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		aims_diagnostic *bigger = realloc(c->diags, cap * sizeof(*bigger));

		if (!bigger) {
			c->rc = AIMS_ENOMEM;
			return;
		}
		c->diags = bigger;
		c->cap = cap;
	}
	vsnprintf(raw, sizeof(raw), fmt, ap);
	utf8_clean(clean, sizeof(clean), raw);
	d = &c->diags[c->count];
	if (!(d->message = aims_arena_strdup(c->arena, clean))) {
		c->rc = AIMS_ENOMEM;
		return;
	}
	d->rule = rule;
	d->severity = v->strict ? AIMS_SEVERITY_ERROR : severity;
	d->path = f->path;
	/* "The whole file" (line 0) is shown as its first line. */
	d->pos.line = pos.line ? pos.line : 1;
	d->pos.col = pos.line && pos.col ? pos.col : 1;
	c->count++;
	if (d->severity == AIMS_SEVERITY_ERROR)
		f->errors++;
	else
		f->warnings++;
}

static void diag(checker *c, size_t file, const char *rule, aims_severity severity, aims_pos pos,
		 const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void diag(checker *c, size_t file, const char *rule, aims_severity severity, aims_pos pos,
		 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag(c, file, rule, severity, pos, fmt, ap);
	va_end(ap);
}

/* ---- Per-file rules ------------------------------------------------------ */

static const aims_pos file_start = {1, 1};

static bool is_slug(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '.' ||
		      *s == '_' || *s == '-'))
			return false;
	return true;
}

static bool is_env_name(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || *s == '_'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

/* Number of code points in s, leading and trailing blanks left out;
 * counting stops at limit. */
static size_t trimmed_chars(const char *s, size_t limit)
{
	const char *end;
	size_t n = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	for (; s < end && n < limit; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* A required string field: absent, null or empty is reported; a value of
 * the wrong type was already reported by the loader. */
static void check_required(checker *c, size_t file, const aims_manifest *m, const char *key,
			   const aims_field *field, const char *rule, const char *what)
{
	const aims_yaml_node *value = aims_yaml_get(m->root, key);

	if (!value) {
		diag(c, file, rule, AIMS_SEVERITY_ERROR, file_start, "no '%s': add %s", key, what);
		return;
	}
	if (value->type != AIMS_YAML_SCALAR)
		return;
	if (!field->str || trimmed_chars(field->str, 1) == 0)
		diag(c, file, rule, AIMS_SEVERITY_ERROR, value->pos, "'%s' is empty: write %s", key,
		     what);
}

static void check_env_names(checker *c, size_t file, const aims_strlist *list, const char *what)
{
	for (size_t i = 0; i < list->count; i++)
		if (!is_env_name(list->items[i]))
			diag(c, file, "bad-env-name", AIMS_SEVERITY_ERROR, list->pos[i],
			     "%s: '%s' is not an environment variable name ([A-Z_][A-Z0-9_]*)",
			     what, list->items[i]);
}

/* Whether a URL's authority (what follows "//") names a host: not empty
 * once the user part ("user@") and the port (":80") are taken away. */
static bool has_host(const char *authority)
{
	size_t len = strcspn(authority, "/?#"), start = 0, end;

	for (size_t i = 0; i < len; i++)
		if (authority[i] == '@')
			start = i + 1;
	if (authority[start] == '[') /* an IPv6 address */
		return len > start + 2 && memchr(authority + start, ']', len - start);
	for (end = start; end < len && authority[end] != ':'; end++)
		;
	return end > start;
}

static void check_docs_url(checker *c, size_t file, const aims_manifest *m)
{
	const char *url = m->docs_url.str;
	size_t skip = 0;

	if (!url)
		return;
	if (strncasecmp(url, "https://", 8) == 0)
		skip = 8;
	else if (strncasecmp(url, "http://", 7) == 0)
		skip = 7;
	if (!skip || !has_host(url + skip) || strpbrk(url, " \t\r\n"))
		diag(c, file, "docs-url", AIMS_SEVERITY_WARNING, m->docs_url.pos,
		     "docs_url '%s' is not an absolute http:// or https:// URL", url);
}

/* Line and column (1-based, in characters) of byte offset in text. */
static aims_pos offset_pos(const char *text, size_t offset)
{
	aims_pos pos = {1, 1};

	for (size_t i = 0; i < offset && text[i]; i++) {
		if (text[i] == '\n') {
			pos.line++;
			pos.col = 1;
		} else if (((unsigned char)text[i] & 0xC0) != 0x80) {
			pos.col++;
		}
	}
	return pos;
}

static bool is_json_info(const char *info)
{
	size_t len = strcspn(info, " \t{");

	return len == 4 && strncasecmp(info, "json", 4) == 0;
}

static void check_json_blocks(checker *c, size_t file, const aims_manifest *m)
{
	for (size_t i = 0; i < m->code_block_count; i++) {
		const aims_code_block *b = &m->code_blocks[i];
		size_t len = strlen(b->literal), offset = 0;
		aims_pos at;
		int rc;

		if (!is_json_info(b->info) || strspn(b->literal, " \t\r\n") == len)
			continue;
		rc = aims_json_check(b->literal, len, &offset);
		if (rc == AIMS_ENOMEM) {
			c->rc = rc;
			return;
		}
		if (rc == 0)
			continue;
		at = offset_pos(b->literal, offset);
		/* The literal starts on the line after the fence, its lines
		 * where the fence starts (inside lists and quotes too). */
		at.line += b->line;
		at.col += b->col > 1 ? b->col - 1 : 0;
		diag(c, file, "json-block", AIMS_SEVERITY_WARNING, at,
		     "the ```json block opened on line %u is not valid JSON (stops here)", b->line);
	}
}

/* Whether path (relative; leading '/' already skipped) leaves the
 * directory it is taken from: more ".." than names before them. */
static bool escapes(const char *path)
{
	long depth = 0;

	while (*path) {
		size_t len = strcspn(path, "/");

		if (len == 2 && path[0] == '.' && path[1] == '.') {
			if (--depth < 0)
				return true;
		} else if (len && !(len == 1 && path[0] == '.')) {
			depth++;
		}
		path += len;
		path += *path == '/';
	}
	return false;
}

static void check_files_exist(checker *c, size_t file, const aims_strlist *list, const char *what)
{
	const char *root = c->opts->root;
	aims_buf path;

	aims_buf_init(&path, 64 * 1024);
	for (size_t i = 0; i < list->count; i++) {
		const char *item = list->items[i];
		struct stat st;

		aims_buf_reset(&path);
		while (*item == '/')
			item++;
		if (aims_buf_puts(&path, root) < 0 || aims_buf_puts(&path, "/") < 0 ||
		    aims_buf_puts(&path, item) < 0) {
			c->rc = AIMS_ENOMEM;
			break;
		}
		if (!*item || escapes(item))
			diag(c, file, "file-not-found", AIMS_SEVERITY_WARNING, list->pos[i],
			     "%s: '%s' names no file under %s", what, list->items[i], root);
		else if (stat(path.ptr, &st) < 0 && (errno == ENOENT || errno == ENOTDIR))
			diag(c, file, "file-not-found", AIMS_SEVERITY_WARNING, list->pos[i],
			     "%s: '%s' does not exist under %s", what, list->items[i], root);
	}
	aims_buf_free(&path);
}

static void check_file(checker *c, size_t file, const aims_manifest *m)
{
	for (size_t i = 0; i < m->problem_count; i++) {
		const aims_problem *p = &m->problems[i];

		diag(c, file, p->rule, p->severity, p->pos, "%s", p->message);
	}
	if (!m->has_front_matter) {
		if (m->problem_count == 0)
			diag(c, file, "not-a-manifest", AIMS_SEVERITY_WARNING, file_start,
			     "no front matter: a manifest starts with a line '---', then YAML, "
			     "then '---'");
		return;
	}
	if (!m->root)
		return; /* the YAML did not give a mapping: already reported */

	check_required(c, file, m, "name", &m->name, "missing-name", "a short human-readable name");
	check_required(c, file, m, "description", &m->description, "missing-description",
		       "one line saying what it does");
	if (m->id.str && !m->id_inferred && !is_slug(m->id.str))
		diag(c, file, "id-not-slug", AIMS_SEVERITY_WARNING, m->id.pos,
		     "id '%s' is not a slug ([a-z0-9][a-z0-9._-]*)", m->id.str);
	for (size_t i = 0; i < m->triggers.count; i++) {
		const char *t = m->triggers.items[i];
		aims_error err;
		size_t offset = 0;

		/* compiled the way the router compiles it (router.h) */
		aims_error_clear(&err);
		if (aims_router_check_trigger(t, &offset, &err) == AIMS_EINVALID)
			diag(c, file, "trigger-invalid", AIMS_SEVERITY_ERROR, m->triggers.pos[i],
			     "trigger '%s' cannot compile: %s (byte %zu of the trigger)", t,
			     err.message, offset);
		if (trimmed_chars(t, AIMS_VALIDATE_MIN_TRIGGER) < AIMS_VALIDATE_MIN_TRIGGER)
			diag(c, file, "trigger-too-short", AIMS_SEVERITY_WARNING,
			     m->triggers.pos[i],
			     "trigger '%s' is shorter than %d characters: it would match too "
			     "much",
			     t, AIMS_VALIDATE_MIN_TRIGGER);
	}
	check_env_names(c, file, &m->dep_env, "dependencies.env");
	check_env_names(c, file, &m->env_vars, "env_vars");
	check_docs_url(c, file, m);
	check_json_blocks(c, file, m);
	if (c->opts->root) {
		check_files_exist(c, file, &m->dep_files, "dependencies.files");
		check_files_exist(c, file, &m->aims_files, "aims_files");
	}
}

/* ---- Rules across files ------------------------------------------------- */

typedef struct file_ref {
	const aims_manifest *m;
	size_t file;
} file_ref;

static int cmp_ref(const void *a, const void *b)
{
	const aims_manifest *x = ((const file_ref *)a)->m, *y = ((const file_ref *)b)->m;

	return x < y ? -1 : x > y;
}

static size_t file_of(const file_ref *refs, size_t count, const aims_manifest *m)
{
	file_ref key = {m, 0};
	const file_ref *r = bsearch(&key, refs, count, sizeof(*refs), cmp_ref);

	return r ? r->file : (size_t)-1;
}

/* Where a definition's id was written: the id value, else the file start. */
static aims_pos id_pos(const aims_manifest *m)
{
	return m->id.pos.line && !m->id_inferred ? m->id.pos : file_start;
}

/* Marks in skip[] the files that repeat a file already loaded: they are
 * not checked twice and are no duplicate of themselves. */
static void find_repeats(const aims_registry *reg, const file_ref *refs, size_t count, bool *skip)
{
	for (size_t i = 0; i < aims_registry_conflict_count(reg); i++) {
		const aims_conflict *k = aims_registry_conflict_at(reg, i);
		size_t file = file_of(refs, count, k->loser);

		/* The same file named twice, or directly and through its
		 * directory: no duplicate of itself. */
		if (file != (size_t)-1 && aims_same_file(k->winner->path, k->loser->path))
			skip[file] = true;
	}
}

static void check_conflicts(checker *c, const aims_registry *reg, const file_ref *refs,
			    size_t count)
{
	for (size_t i = 0; i < aims_registry_conflict_count(reg); i++) {
		const aims_conflict *k = aims_registry_conflict_at(reg, i);
		size_t file = file_of(refs, count, k->loser);

		if (file == (size_t)-1)
			continue; /* the same file loaded twice */
		diag(c, file, "duplicate-id", AIMS_SEVERITY_ERROR, id_pos(k->loser),
		     "duplicate %s id '%s'%s: already defined in %s:%u (that one is used)",
		     aims_kind_name(k->loser->kind), k->loser->id.str,
		     k->loser->id_inferred ? " (derived)" : "", k->winner->path,
		     id_pos(k->winner).line);
	}
}

/* Triggers are compared as routing reads them: case folded (in any
 * script, as caseless PCRE2 does), runs of blanks as one, none at the
 * ends. The normalized text is never built: it is read one character at
 * a time. */

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* The case fold of a non-ASCII character at *p (advanced past it), as
 * the router's caseless PCRE2 matching sees it: lowercase of uppercase,
 * so that 'É' and 'é', 'ς' and 'Σ', 'ſ' and 's' are one. A byte that
 * starts no valid UTF-8 sequence stands for itself (above U+10FFFF). */
static locale_t fold_locale;
static pthread_once_t fold_once = PTHREAD_ONCE_INIT;

static void fold_init(void)
{
	fold_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

static int32_t fold_wide(const char **p)
{
	const unsigned char *s = (const unsigned char *)*p;
	uint32_t cp;
	size_t len = utf8_decode(s, strnlen(*p, 4), &cp);

	if (!len) {
		*p += 1;
		return (int32_t)(0x110000u + s[0]);
	}
	*p += len;
	pthread_once(&fold_once, fold_init);
	if (fold_locale)
		cp = (uint32_t)towlower_l(towupper_l((wint_t)cp, fold_locale), fold_locale);
	return (int32_t)cp;
}

/* The next normalized character of *p (advanced), or -1 at the end. */
static int32_t next_folded(const char **p, bool *started)
{
	const char *s = *p;
	bool blank = false;
	unsigned char ch;

	while (is_blank(*s)) {
		s++;
		blank = true;
	}
	*p = s;
	if (!*s)
		return -1;
	if (blank && *started)
		return ' '; /* the character itself comes next time */
	*started = true;
	ch = (unsigned char)*s;
	if (ch >= 0x80)
		return fold_wide(p);
	*p = s + 1;
	return ch >= 'A' && ch <= 'Z' ? ch + 32 : ch;
}

/* Hash of the normalized trigger and kind; 0 when it is blank. (The same
 * walk as next_folded, unrolled for ASCII: it runs for every trigger.) */
static uint64_t hash_trigger(aims_kind kind, const char *t)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)kind;
	bool started = false, blank = false;

	while (*t) {
		unsigned char ch = (unsigned char)*t;
		uint32_t c;

		if (is_blank((char)ch)) {
			blank = started;
			t++;
			continue;
		}
		if (blank)
			h = (h ^ ' ') * 1099511628211ull;
		blank = false;
		started = true;
		if (ch < 0x80) {
			c = ch >= 'A' && ch <= 'Z' ? ch + 32u : ch;
			t++;
		} else {
			c = (uint32_t)fold_wide(&t);
		}
		h = (h ^ c) * 1099511628211ull;
	}
	return started ? (h ? h : 1) : 0;
}

static bool same_trigger(const char *a, const char *b)
{
	bool sa = false, sb = false;
	int32_t x, y;

	do {
		x = next_folded(&a, &sa);
		y = next_folded(&b, &sb);
		if (x != y)
			return false;
	} while (x >= 0);
	return true;
}

/* A slot of the shared-trigger table: 8 bytes, so the table stays small
 * (it is new memory, probed at random, once per trigger). */
typedef struct trigger_slot {
	uint32_t tag; /* the hash's high half (never 0); 0: empty */
	uint32_t def; /* registry definition index */
} trigger_slot;

/* The index in m's triggers of the first one that reads as text; -1 if
 * none does. */
static ssize_t trigger_index(const aims_manifest *m, const char *text)
{
	for (size_t t = 0; t < m->triggers.count; t++)
		if (same_trigger(m->triggers.items[t], text))
			return (ssize_t)t;
	return -1;
}

/* hashes: of each definition, its triggers' hash_trigger values (worked
 * out on the loading threads), or NULL to work them out here. */
static void check_shared_triggers(checker *c, const aims_registry *reg, const file_ref *refs,
				  size_t count, const uint64_t *const *hashes)
{
	size_t total = 0, cap = 16, mask, defs = aims_registry_count(reg);
	trigger_slot *table = NULL;

	for (size_t i = 0; i < defs; i++)
		total += aims_registry_at(reg, i)->triggers.count;
	if (total > UINT32_MAX / 4 || defs > UINT32_MAX) {
		c->rc = AIMS_ENOMEM;
		return;
	}
	while (cap < total + total / 3) /* at most 3/4 full */
		cap *= 2;
	if (!(table = calloc(cap, sizeof(*table)))) {
		c->rc = AIMS_ENOMEM;
		return;
	}
	mask = cap - 1;
	for (size_t i = 0; i < defs; i++) {
		const aims_manifest *m = aims_registry_at(reg, i);

		/* (A file whose YAML gave no mapping has no triggers.) */
		if (!aims_status_routable(m->status))
			continue;
		for (size_t t = 0; t < m->triggers.count; t++) {
			const char *text = m->triggers.items[t];
			uint64_t hash =
				hashes && hashes[i] ? hashes[i][t] : hash_trigger(m->kind, text);
			uint32_t tag = (uint32_t)(hash >> 32) ? (uint32_t)(hash >> 32) : 1;
			const aims_manifest *first = NULL;
			ssize_t first_t = -1;
			size_t h;

			if (!hash)
				continue;
			for (h = hash & mask; table[h].tag; h = (h + 1) & mask) {
				const aims_manifest *other;

				if (table[h].tag != tag)
					continue;
				other = aims_registry_at(reg, table[h].def);
				if (other->kind == m->kind &&
				    (first_t = trigger_index(other, text)) >= 0) {
					first = other;
					break;
				}
			}
			if (!first) {
				table[h].tag = tag;
				table[h].def = (uint32_t)i;
			} else if (first != m) {
				size_t file = file_of(refs, count, m);

				if (file != (size_t)-1)
					diag(c, file, "trigger-shared", AIMS_SEVERITY_WARNING,
					     m->triggers.pos[t],
					     "trigger '%s' is also a trigger of %s '%s' (%s:%u): "
					     "routing between them is ambiguous",
					     text, aims_kind_name(m->kind), first->id.str,
					     first->path, first->triggers.pos[first_t].line);
			}
		}
	}
	free(table);
}

/* ---- Results ------------------------------------------------------------- */

static int cmp_diag(const void *a, const void *b)
{
	const aims_diagnostic *x = a, *y = b;
	int r;

	if ((r = strcmp(x->path, y->path)) != 0)
		return r;
	if (x->pos.line != y->pos.line)
		return x->pos.line < y->pos.line ? -1 : 1;
	if (x->pos.col != y->pos.col)
		return x->pos.col < y->pos.col ? -1 : 1;
	if ((r = strcmp(x->rule, y->rule)) != 0)
		return r;
	return strcmp(x->message, y->message);
}

static int cmp_file(const void *a, const void *b)
{
	return strcmp(((const aims_validate_file *)a)->path, ((const aims_validate_file *)b)->path);
}

/* qsort, after a look whether base is in order already: files come from
 * the registry in the order of their paths, as a rule. */
static void sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	const char *p = base;

	for (size_t i = 1; i < n; i++) {
		if (cmp(p + (i - 1) * size, p + i * size) > 0) {
			qsort(base, n, size, cmp);
			return;
		}
	}
}

static aims_validation *validation_new(const aims_validate_options *opts, size_t files)
{
	aims_validation *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	aims_arena_init(&v->arena);
	for (size_t i = 0; i < MAX_THREADS; i++)
		aims_arena_init(&v->thread_arenas[i]);
	v->strict = opts->strict;
	if (!(v->files = calloc(files ? files : 1, sizeof(*v->files)))) {
		free(v);
		return NULL;
	}
	return v;
}

/* Fills the verdict record f for m. */
static int init_record(checker *c, aims_validate_file *f, const aims_manifest *m)
{
	size_t size = strlen(m->path) * 3 + 5;
	char *path = aims_arena_alloc(c->arena, size);

	/* Paths end up in JSON and SARIF, which need UTF-8. */
	if (!path)
		return c->rc = AIMS_ENOMEM;
	utf8_clean(path, size, m->path);
	f->path = path;
	if (m->id.str && !(f->id = aims_arena_strdup(c->arena, m->id.str)))
		return c->rc = AIMS_ENOMEM;
	f->manifest = m->has_front_matter;
	f->kind = m->kind;
	return 0;
}

/* Moves c's diagnostics into v (the arena stays where it is). */
static int merge(aims_validation *v, checker *c)
{
	if (c->rc < 0)
		return c->rc;
	if (!c->count)
		return 0;
	if (v->count + c->count > v->cap) {
		size_t cap = v->count + c->count;
		aims_diagnostic *bigger = realloc(v->diags, cap * sizeof(*bigger));

		if (!bigger)
			return AIMS_ENOMEM;
		v->diags = bigger;
		v->cap = cap;
	}
	memcpy(v->diags + v->count, c->diags, c->count * sizeof(*c->diags));
	v->count += c->count;
	return 0;
}

/* ---- Checking files on several threads ------------------------------------- */

typedef struct check_job {
	const aims_registry *reg;
	const size_t *slot_of; /* (size_t)-1: a repeat, not checked */
	size_t count;
	atomic_size_t next;
} check_job;

typedef struct check_thread {
	check_job *job;
	checker c;
} check_thread;

static void *check_worker(void *arg)
{
	check_thread *t = arg;
	check_job *j = t->job;

	for (;;) {
		size_t first = atomic_fetch_add(&j->next, 64);

		if (first >= j->count || t->c.rc < 0)
			break;
		for (size_t i = first; i < j->count && i < first + 64; i++) {
			const aims_manifest *m = aims_registry_file_at(j->reg, i);

			if (j->slot_of[i] == (size_t)-1 ||
			    init_record(&t->c, &t->c.v->files[j->slot_of[i]], m) < 0)
				continue;
			check_file(&t->c, j->slot_of[i], m);
		}
	}
	return NULL;
}

/* Runs the per-file rules over every file of reg, on up to MAX_THREADS
 * threads; the result does not depend on their number (diagnostics are
 * sorted at the end). */
static int check_files(aims_validation *v, const aims_registry *reg, const size_t *slot_of,
		       const aims_validate_options *opts)
{
	check_thread threads[MAX_THREADS];
	pthread_t ids[MAX_THREADS];
	check_job job = {reg, slot_of, aims_registry_file_count(reg), 0};
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned n = opts->threads ? opts->threads : (unsigned)(cpus > 0 ? cpus : 1), started = 1;
	int rc = 0;

	if (n > MAX_THREADS)
		n = MAX_THREADS;
	if (n > job.count / FILES_PER_THREAD + 1)
		n = (unsigned)(job.count / FILES_PER_THREAD + 1);
	atomic_init(&job.next, 0);
	for (unsigned t = 0; t < n; t++) {
		checker_init(&threads[t].c, v, opts, &v->thread_arenas[t]);
		threads[t].job = &job;
	}
	for (unsigned t = 1; t < n; t++) {
		if (pthread_create(&ids[t], NULL, check_worker, &threads[t]) != 0)
			break; /* fewer threads is fine */
		started++;
	}
	check_worker(&threads[0]);
	for (unsigned t = 1; t < started; t++)
		pthread_join(ids[t], NULL);
	for (unsigned t = 0; t < n; t++) {
		if (rc == 0)
			rc = merge(v, &threads[t].c);
		free(threads[t].c.diags);
	}
	return rc;
}

static void finish(aims_validation *v)
{
	/* File paths are sorted after the diagnostics point at them: the
	 * strings stay where they are, only the verdict records move. */
	sort(v->diags, v->count, sizeof(*v->diags), cmp_diag);
	sort(v->files, v->file_count, sizeof(*v->files), cmp_file);
	for (size_t i = 0; i < v->count; i++) {
		if (v->diags[i].severity == AIMS_SEVERITY_ERROR)
			v->errors++;
		else
			v->warnings++;
	}
}

/* Ends a validation: on success sorts it and hands it over in *out,
 * otherwise frees it and names the failure (only ENOMEM gets here). */
static int deliver(aims_validation **out, aims_validation *v, int rc, aims_error *err)
{
	if (rc == 0) {
		finish(v);
		*out = v;
		return 0;
	}
	aims_validate_free(v);
	return aims_error_set(err, rc, "validating: out of memory");
}

/* The rules across files, once every file has its slot: refs map the
 * registry's manifests to registry indexes, slot_of those to result
 * files ((size_t)-1: a repeat). */
static int check_across(aims_validation *v, const aims_registry *reg, file_ref *refs, size_t nfiles,
			const size_t *slot_of, const uint64_t *const *hashes,
			const aims_validate_options *opts)
{
	checker c;
	int rc;

	for (size_t i = 0; i < nfiles; i++)
		refs[i].file = slot_of[refs[i].file];
	checker_init(&c, v, opts, &v->arena);
	check_conflicts(&c, reg, refs, nfiles);
	check_shared_triggers(&c, reg, refs, nfiles, hashes);
	rc = merge(v, &c);
	free(c.diags);
	return rc;
}

/* refs (nfiles) of the registry's files, sorted by manifest, and the
 * repeats among them marked in skip (nfiles). */
static int index_files(const aims_registry *reg, size_t nfiles, file_ref **refs, bool **skip)
{
	if (!(*refs = calloc(nfiles ? nfiles : 1, sizeof(**refs))) ||
	    !(*skip = calloc(nfiles ? nfiles : 1, sizeof(**skip))))
		return AIMS_ENOMEM;
	for (size_t i = 0; i < nfiles; i++) {
		(*refs)[i].m = aims_registry_file_at(reg, i);
		(*refs)[i].file = i;
	}
	qsort(*refs, nfiles, sizeof(**refs), cmp_ref);
	find_repeats(reg, *refs, nfiles, *skip);
	return 0;
}

int aims_validate_registry(aims_validation **out, const aims_registry *reg,
			   const aims_validate_options *opts, aims_error *err)
{
	size_t nfiles = aims_registry_file_count(reg);
	file_ref *refs = NULL;
	size_t *slot_of = NULL; /* registry file index -> result file index */
	bool *skip = NULL;
	aims_validation *v;
	int rc = 0;

	if (!opts)
		opts = &default_options;
	if (!(v = validation_new(opts, nfiles)) ||
	    !(slot_of = calloc(nfiles ? nfiles : 1, sizeof(*slot_of))) ||
	    (rc = index_files(reg, nfiles, &refs, &skip)) < 0) {
		rc = AIMS_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < nfiles; i++)
		slot_of[i] = skip[i] ? (size_t)-1 : v->file_count++;
	if ((rc = check_files(v, reg, slot_of, opts)) < 0)
		goto out;
	rc = check_across(v, reg, refs, nfiles, slot_of, NULL, opts);
out:
	free(refs);
	free(slot_of);
	free(skip);
	return deliver(out, v, rc, err);
}

/* ---- Checking files as they load ----------------------------------------- */

/* aims_validate_paths checks each file on the thread that loaded it, while
 * it is in the cache, and lets the registry keep only its slim copy (what
 * the rules across files read): ten thousand files then take a few MB,
 * not seventy, and the page faults of the rest are never paid. */

/* A file checked as it loaded: its verdict record, its diagnostics (a
 * range of its worker's), its triggers' hashes (a range of its worker's)
 * and the slim manifest the registry keeps. */
typedef struct loaded_file {
	aims_validate_file f;
	unsigned worker;
	size_t first_diag, diag_count;
	size_t first_hash;
} loaded_file;

typedef struct load_worker {
	checker c;
	loaded_file *files;
	size_t count, cap;
	uint64_t *hashes;
	size_t hash_count, hash_cap;
	aims_arena slim; /* the slim manifests the registry keeps */
} load_worker;

typedef struct load_check {
	load_worker workers[AIMS_REGISTRY_MAX_THREADS];
} load_check;

_Static_assert(AIMS_REGISTRY_MAX_THREADS <= MAX_THREADS,
	       "each loading thread needs an arena of the validation's");

/* A file's tag in the registry: its worker and its index there, plus 1. */
#define TAG_SHIFT 48

static aims_manifest *check_loaded(void *ctx, unsigned worker, aims_manifest *m, uint64_t *tag)
{
	load_worker *w = &((load_check *)ctx)->workers[worker];
	aims_manifest *slim = NULL;
	loaded_file *lf;

	if (aims_array_reserve((void **)&w->files, &w->cap, w->count, sizeof(*w->files)) < 0 ||
	    (m->triggers.count &&
	     aims_array_reserve_n((void **)&w->hashes, &w->hash_cap, w->hash_count,
				  m->triggers.count, sizeof(*w->hashes)) < 0) ||
	    !(slim = aims_manifest_slim(m, &w->slim))) {
		aims_manifest_free(m);
		return NULL;
	}
	lf = &w->files[w->count++];
	memset(lf, 0, sizeof(*lf));
	*tag = (uint64_t)worker << TAG_SHIFT | w->count;
	lf->worker = worker;
	lf->first_diag = w->c.count;
	lf->first_hash = w->hash_count;
	for (size_t t = 0; t < m->triggers.count; t++)
		w->hashes[w->hash_count++] = hash_trigger(m->kind, m->triggers.items[t]);
	w->c.cur = &lf->f;
	if (init_record(&w->c, &lf->f, m) == 0)
		check_file(&w->c, 0, m);
	w->c.cur = NULL;
	lf->diag_count = w->c.count - lf->first_diag;
	aims_manifest_free(m);
	return slim;
}

static loaded_file *loaded_of(load_check *lc, uint64_t tag)
{
	load_worker *w;
	uint64_t i = tag & (((uint64_t)1 << TAG_SHIFT) - 1);

	if (!i || (tag >> TAG_SHIFT) >= AIMS_REGISTRY_MAX_THREADS)
		return NULL;
	w = &lc->workers[tag >> TAG_SHIFT];
	return i <= w->count ? &w->files[i - 1] : NULL;
}

/* Gives each file of reg that is not a repeat its slot in v, with its
 * verdict and diagnostics as checked while loading, and each definition
 * its triggers' hashes (hashes, one per definition). */
static int collect_loaded(aims_validation *v, const aims_registry *reg, load_check *lc,
			  const bool *skip, size_t *slot_of, const uint64_t **hashes)
{
	size_t nfiles = aims_registry_file_count(reg), diags = 0, def = 0;
	size_t defs = aims_registry_count(reg);
	aims_validate_file *files;

	for (size_t t = 0; t < AIMS_REGISTRY_MAX_THREADS; t++) {
		if (lc->workers[t].c.rc < 0)
			return lc->workers[t].c.rc;
		diags += lc->workers[t].c.count;
	}
	if (!(files = realloc(v->files, (nfiles ? nfiles : 1) * sizeof(*files))))
		return AIMS_ENOMEM;
	v->files = files;
	if (diags && !(v->diags = malloc(diags * sizeof(*v->diags))))
		return AIMS_ENOMEM;
	v->cap = diags;
	for (size_t i = 0; i < nfiles; i++) {
		const aims_manifest *m = aims_registry_file_at(reg, i);
		const loaded_file *lf = loaded_of(lc, aims_registry_file_tag(reg, i));
		const load_worker *w = lf ? &lc->workers[lf->worker] : NULL;

		/* Definitions are the files that won, in the same order. */
		if (def < defs && aims_registry_at(reg, def) == m)
			hashes[def++] = w && w->hashes ? w->hashes + lf->first_hash : NULL;
		slot_of[i] = (size_t)-1;
		if (skip[i] || !lf)
			continue;
		slot_of[i] = v->file_count;
		v->files[v->file_count++] = lf->f;
		if (lf->diag_count)
			memcpy(v->diags + v->count, w->c.diags + lf->first_diag,
			       lf->diag_count * sizeof(*v->diags));
		v->count += lf->diag_count;
	}
	return 0;
}

int aims_validate_paths(aims_validation **out, const char *const *paths, size_t count,
			const aims_validate_options *opts, aims_error *err)
{
	aims_registry *reg = NULL;
	aims_validation *v = NULL;
	load_check *lc = NULL;
	file_ref *refs = NULL;
	size_t *slot_of = NULL, nfiles;
	const uint64_t **hashes = NULL;
	bool *skip = NULL, loaded = false;
	int rc;

	if (!opts)
		opts = &default_options;
	if ((rc = aims_registry_new(&reg, err)) < 0)
		return rc;
	if (!(v = validation_new(opts, 0)) || !(lc = calloc(1, sizeof(*lc)))) {
		rc = aims_error_set(err, AIMS_ENOMEM, "validating: out of memory");
		goto out;
	}
	for (size_t t = 0; t < AIMS_REGISTRY_MAX_THREADS; t++) {
		checker_init(&lc->workers[t].c, v, opts, &v->thread_arenas[t]);
		aims_arena_init(&lc->workers[t].slim);
	}
	aims_registry_set_threads(reg, opts->threads);
	/* Of the body, validation reads only ```json blocks. */
	aims_registry_set_load_flags(reg, AIMS_MANIFEST_JSON_BLOCKS_ONLY);
	aims_registry_set_load_hook(reg, check_loaded, lc);
	if (count == 0)
		rc = aims_registry_add_default(reg, err);
	for (size_t i = 0; rc == 0 && i < count; i++)
		rc = aims_registry_add_path(reg, paths[i], err);
	loaded = rc == 0;
	if (loaded) {
		nfiles = aims_registry_file_count(reg);
		if (!(slot_of = calloc(nfiles ? nfiles : 1, sizeof(*slot_of))) ||
		    !(hashes = calloc(aims_registry_count(reg) + 1, sizeof(*hashes))) ||
		    index_files(reg, nfiles, &refs, &skip) < 0)
			rc = AIMS_ENOMEM;
		else if ((rc = collect_loaded(v, reg, lc, skip, slot_of, hashes)) == 0)
			rc = check_across(v, reg, refs, nfiles, slot_of, hashes, opts);
	}
out:
	free(refs);
	free(slot_of);
	free(hashes);
	free(skip);
	aims_registry_free(reg); /* before the slim manifests it holds */
	for (size_t t = 0; lc && t < AIMS_REGISTRY_MAX_THREADS; t++) {
		free(lc->workers[t].files);
		free(lc->workers[t].hashes);
		free(lc->workers[t].c.diags);
		aims_arena_free(&lc->workers[t].slim);
	}
	free(lc);
	if (!loaded) {
		/* err says why: a path that does not exist, out of memory. */
		aims_validate_free(v);
		return rc;
	}
	return deliver(out, v, rc, err);
}

int aims_validate_text(aims_validation **out, const char *path, const char *text, size_t len,
		       const aims_validate_options *opts, aims_error *err)
{
	aims_manifest *m = NULL;
	aims_validation *v = NULL;
	checker c;
	int rc;

	if (!opts)
		opts = &default_options;
	if ((rc = aims_manifest_parse(&m, path, text, len, err)) < 0)
		return rc;
	if (!(v = validation_new(opts, 1))) {
		rc = AIMS_ENOMEM;
		goto out;
	}
	checker_init(&c, v, opts, &v->arena);
	v->file_count = 1;
	if (init_record(&c, &v->files[0], m) == 0)
		check_file(&c, 0, m);
	rc = merge(v, &c);
	free(c.diags);
out:
	aims_manifest_free(m);
	return deliver(out, v, rc, err);
}

void aims_validate_free(aims_validation *v)
{
	if (!v)
		return;
	free(v->diags);
	free(v->files);
	aims_arena_free(&v->arena);
	for (size_t i = 0; i < MAX_THREADS; i++)
		aims_arena_free(&v->thread_arenas[i]);
	free(v);
}

size_t aims_validate_count(const aims_validation *v)
{
	return v->count;
}

const aims_diagnostic *aims_validate_at(const aims_validation *v, size_t i)
{
	return i < v->count ? &v->diags[i] : NULL;
}

size_t aims_validate_file_count(const aims_validation *v)
{
	return v->file_count;
}

const aims_validate_file *aims_validate_file_at(const aims_validation *v, size_t i)
{
	return i < v->file_count ? &v->files[i] : NULL;
}

size_t aims_validate_errors(const aims_validation *v)
{
	return v->errors;
}

size_t aims_validate_warnings(const aims_validation *v)
{
	return v->warnings;
}

const char *aims_validate_verdict(const aims_validate_file *f)
{
	return f->errors ? "errors" : f->warnings ? "warnings" : "ok";
}

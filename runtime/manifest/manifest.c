/*
 * manifest.c - one manifest file: split the front matter from the body,
 * parse the YAML (yaml.c), fill the typed model, infer what is missing,
 * parse the body (body.c), and record every problem on the way.
 *
 * Lenient by design (SPEC §2.1): real files lack ids, use a singular
 * `trigger:`, carry BOMs and CRLF line ends, and sometimes do not parse.
 * Loading keeps what it can use and records the rest as problems; it fails
 * only when the file cannot be read at all.
 */
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/array.h"
#include "core/file.h"
#include "manifest/manifest_int.h"
#include "manifest/slim.h"

/* ---- Names ------------------------------------------------------------- */

static const char *const kind_names[AIMS_KIND_COUNT] = {
	"unknown", "task", "skill", "hook", "tool", "integration", "reference"};

const char *aims_kind_name(aims_kind kind)
{
	return (unsigned)kind < AIMS_KIND_COUNT ? kind_names[kind] : "unknown";
}

aims_kind aims_kind_parse(const char *name)
{
	for (int k = AIMS_KIND_TASK; k < AIMS_KIND_COUNT; k++)
		if (strcasecmp(name, kind_names[k]) == 0)
			return (aims_kind)k;
	return AIMS_KIND_UNKNOWN;
}

const char *aims_status_name(aims_status status)
{
	switch (status) {
	case AIMS_STATUS_UNSET: return "active";
	case AIMS_STATUS_ACTIVE: return "active";
	case AIMS_STATUS_BETA: return "beta";
	case AIMS_STATUS_PLANNED: return "planned";
	case AIMS_STATUS_DISABLED: return "disabled";
	case AIMS_STATUS_DEPRECATED: return "deprecated";
	case AIMS_STATUS_OTHER: return "other";
	}
	return "other";
}

aims_status aims_status_parse(const char *name)
{
	static const struct {
		const char *name;
		aims_status status;
	} table[] = {
		{"active", AIMS_STATUS_ACTIVE},		{"beta", AIMS_STATUS_BETA},
		{"planned", AIMS_STATUS_PLANNED},	{"disabled", AIMS_STATUS_DISABLED},
		{"deprecated", AIMS_STATUS_DEPRECATED},
	};

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcasecmp(name, table[i].name) == 0)
			return table[i].status;
	return AIMS_STATUS_OTHER;
}

bool aims_status_routable(aims_status status)
{
	return status == AIMS_STATUS_UNSET || status == AIMS_STATUS_ACTIVE ||
	       status == AIMS_STATUS_BETA;
}

const char *aims_priority_name(aims_priority priority)
{
	switch (priority) {
	case AIMS_PRIORITY_UNSET: return "medium";
	case AIMS_PRIORITY_LOW: return "low";
	case AIMS_PRIORITY_MEDIUM: return "medium";
	case AIMS_PRIORITY_HIGH: return "high";
	case AIMS_PRIORITY_CRITICAL: return "critical";
	case AIMS_PRIORITY_OTHER: return "other";
	}
	return "other";
}

static aims_priority priority_parse(const char *name)
{
	if (strcasecmp(name, "critical") == 0)
		return AIMS_PRIORITY_CRITICAL;
	if (strcasecmp(name, "high") == 0)
		return AIMS_PRIORITY_HIGH;
	if (strcasecmp(name, "medium") == 0 || strcasecmp(name, "normal") == 0)
		return AIMS_PRIORITY_MEDIUM;
	if (strcasecmp(name, "low") == 0)
		return AIMS_PRIORITY_LOW;
	return AIMS_PRIORITY_OTHER;
}

/* ---- Problems ------------------------------------------------------------ */

int manifest_vproblem(manifest_impl *m, const char *rule, aims_severity severity, aims_pos pos,
		      const char *fmt, va_list ap)
{
	char message[AIMS_ERROR_MESSAGE_MAX];
	aims_problem *p;

	if (aims_array_reserve((void **)&m->problems, &m->problem_cap, m->problem_count,
			       sizeof(*m->problems)) < 0)
		return AIMS_ENOMEM;
	vsnprintf(message, sizeof(message), fmt, ap);
	p = &m->problems[m->problem_count];
	p->rule = rule;
	p->severity = severity;
	p->pos = pos;
	if (!(p->message = aims_arena_strdup(&m->arena, message)))
		return AIMS_ENOMEM;
	m->problem_count++;
	m->pub.problems = m->problems;
	m->pub.problem_count = m->problem_count;
	return 0;
}

int manifest_problem(manifest_impl *m, const char *rule, aims_severity severity, aims_pos pos,
		     const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = manifest_vproblem(m, rule, severity, pos, fmt, ap);
	va_end(ap);
	return rc;
}

int aims_manifest_add_problem(aims_manifest *m, const char *rule, aims_severity severity,
			      aims_pos pos, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = manifest_vproblem(impl_of(m), rule, severity, pos, fmt, ap);
	va_end(ap);
	return rc;
}

size_t aims_manifest_count_problems(const aims_manifest *m, aims_severity severity)
{
	size_t n = 0;

	for (size_t i = 0; i < m->problem_count; i++)
		n += m->problems[i].severity == severity;
	return n;
}

/* ---- Front matter ------------------------------------------------------- */

/* Returns the length of the line starting at p (without its line end) and
 * sets *next to the start of the following line. */
static size_t line_at(const char *p, const char *end, const char **next)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

	*next = nl ? nl + 1 : end;
	if (len && p[len - 1] == '\r')
		len--;
	return len;
}

/* True when the line is exactly delim ("---" or "...") plus blanks. A CR
 * counts as a blank: "---\r\r\n" is what a CRLF file converted twice
 * ends its lines with. */
static bool is_delimiter(const char *line, size_t len, const char *delim)
{
	if (len < 3 || memcmp(line, delim, 3) != 0)
		return false;
	for (size_t i = 3; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
			return false;
	return true;
}

/* ---- Inference ---------------------------------------------------------- */

static const char *basename_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static bool ends_with(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && strncasecmp(s + len - n, suffix, n) == 0;
}

/* The kind named by a file name suffix (`x.skill.md`) or, failing that, by
 * the nearest directory named skills/, tools/, hooks/ or tasks/. */
static aims_kind infer_kind(const char *path)
{
	static const struct {
		const char *word;
		aims_kind kind;
	} words[] = {
		{"task", AIMS_KIND_TASK},
		{"skill", AIMS_KIND_SKILL},
		{"hook", AIMS_KIND_HOOK},
		{"tool", AIMS_KIND_TOOL},
	};
	const char *base = basename_of(path);
	size_t len = strlen(base);
	const char *end;

	if (ends_with(base, len, ".md"))
		len -= 3;
	for (size_t i = 0; i < 4; i++) {
		char suffix[16];

		snprintf(suffix, sizeof(suffix), ".%s", words[i].word);
		if (ends_with(base, len, suffix))
			return words[i].kind;
	}
	/* Walk the directories from the nearest outwards. */
	end = base;
	while (end > path) {
		const char *dir_end = end - 1; /* the '/' */
		const char *dir = dir_end;
		size_t dir_len;

		while (dir > path && dir[-1] != '/')
			dir--;
		dir_len = (size_t)(dir_end - dir);
		for (size_t i = 0; i < 4; i++) {
			size_t wl = strlen(words[i].word);

			if ((dir_len == wl || (dir_len == wl + 1 && dir[wl] == 's')) &&
			    strncasecmp(dir, words[i].word, wl) == 0)
				return words[i].kind;
		}
		end = dir;
	}
	return AIMS_KIND_UNKNOWN;
}

/* Lower-case ASCII slug of text: runs of anything else become one '-'. */
static char *slugify(aims_arena *arena, const char *text, size_t len)
{
	char *slug = aims_arena_alloc(arena, len + 1);
	size_t n = 0;

	if (!slug)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (isalnum(c) && c < 0x80) {
			slug[n++] = (char)tolower(c);
		} else if (c == '.' || c == '_') {
			if (n && slug[n - 1] != '-')
				slug[n++] = (char)c;
		} else if (n && slug[n - 1] != '-' && slug[n - 1] != '.' && slug[n - 1] != '_') {
			slug[n++] = '-';
		}
	}
	while (n && (slug[n - 1] == '-' || slug[n - 1] == '.' || slug[n - 1] == '_'))
		n--;
	slug[n] = '\0';
	return slug;
}

static const char *stem_of(const char *path, size_t *out_len)
{
	const char *base = basename_of(path);
	size_t len = strlen(base);
	static const char *const suffixes[] = {".skill", ".tool", ".hook", ".task"};

	if (ends_with(base, len, ".md"))
		len -= 3;
	for (size_t i = 0; i < 4; i++)
		if (ends_with(base, len, suffixes[i])) {
			len -= strlen(suffixes[i]);
			break;
		}
	*out_len = len;
	return base;
}

/* ---- Typed fields ------------------------------------------------------- */

typedef struct loader {
	manifest_impl *m;
	aims_arena *arena;
	int rc;
} loader;

static void problem(loader *l, const char *rule, aims_severity severity, aims_pos pos,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void problem(loader *l, const char *rule, aims_severity severity, aims_pos pos,
		    const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = manifest_vproblem(l->m, rule, severity, pos, fmt, ap);
	va_end(ap);
	if (rc < 0)
		l->rc = rc;
}

static void wrong_type(loader *l, const char *what, const char *expected,
		       const aims_yaml_node *value)
{
	problem(l, "wrong-type", AIMS_SEVERITY_ERROR, value->pos, "%s must be %s, not %s", what,
		expected, aims_yaml_type_name(value));
}

/* A string field: any non-null scalar is accepted as its text. */
static void get_string(loader *l, aims_field *field, const char *what, const aims_yaml_node *key,
		       const aims_yaml_node *value)
{
	field->key_pos = key->pos;
	field->pos = value->pos;
	if (value->type != AIMS_YAML_SCALAR) {
		wrong_type(l, what, "a string", value);
		return;
	}
	if (aims_yaml_is_null(value))
		return;
	field->str = value->value;
}

/* A list of strings. A lone string is accepted as a one-item list (with an
 * error when strict_list: the SPEC wants lists); non-string items are
 * skipped with an error. */
static void get_list(loader *l, aims_strlist *list, const char *what, const aims_yaml_node *key,
		     const aims_yaml_node *value, bool strict_list)
{
	size_t n = 0, old = list->count;
	const char **items;
	aims_pos *pos;

	if (!list->key_pos.line)
		list->key_pos = key->pos;
	if (aims_yaml_is_null(value))
		return;
	if (value->type == AIMS_YAML_MAPPING) {
		wrong_type(l, what, "a list of strings", value);
		return;
	}
	if (value->type == AIMS_YAML_SCALAR) {
		if (strict_list)
			wrong_type(l, what, "a list of strings", value);
		n = 1;
	} else {
		n = value->count;
	}
	items = aims_arena_alloc(l->arena, (old + n + 1) * sizeof(*items));
	pos = aims_arena_alloc(l->arena, (old + n + 1) * sizeof(*pos));
	if (!items || !pos) {
		l->rc = AIMS_ENOMEM;
		return;
	}
	if (old) {
		memcpy(items, list->items, old * sizeof(*items));
		memcpy(pos, list->pos, old * sizeof(*pos));
	}
	list->items = items;
	list->pos = pos;
	if (value->type == AIMS_YAML_SCALAR) {
		items[list->count] = value->value;
		pos[list->count++] = value->pos;
		return;
	}
	for (size_t i = 0; i < value->count; i++) {
		const aims_yaml_node *item = value->items[i];

		if (item->type != AIMS_YAML_SCALAR || aims_yaml_is_null(item)) {
			problem(l, "wrong-type", AIMS_SEVERITY_ERROR, item->pos,
				"each item of %s must be a string, not %s", what,
				aims_yaml_type_name(item));
			continue;
		}
		items[list->count] = item->value;
		pos[list->count++] = item->pos;
	}
}

static const aims_yaml_node *get_map(loader *l, const char *what, const aims_yaml_node *value)
{
	if (aims_yaml_is_null(value))
		return NULL;
	if (value->type != AIMS_YAML_MAPPING) {
		wrong_type(l, what, "a map", value);
		return NULL;
	}
	return value;
}

static bool check_duplicate_keys(loader *l, const aims_yaml_node *map);

/* Whether k is the first of its name in map (when keys may repeat, later
 * ones are reported and not used, as at the top level). */
static bool first_key(const aims_yaml_node *map, const aims_yaml_node *k, bool may_repeat)
{
	return !may_repeat || aims_yaml_get_key(map, k->value) == k;
}

static void load_execution(loader *l, const aims_yaml_node *key, const aims_yaml_node *value)
{
	aims_manifest *m = &l->m->pub;
	const aims_yaml_node *map = get_map(l, "execution", value);
	bool may_repeat;

	(void)key;
	if (!map)
		return;
	m->execution = map;
	may_repeat = check_duplicate_keys(l, map) || map->count > 512;
	for (size_t i = 0; i < map->count; i++) {
		const aims_yaml_node *k = map->keys[i], *v = map->items[i];

		if (k->type != AIMS_YAML_SCALAR || !first_key(map, k, may_repeat))
			continue;
		if (strcmp(k->value, "target") == 0)
			get_string(l, &m->exec_target, "execution.target", k, v);
		else if (strcmp(k->value, "route") == 0)
			get_string(l, &m->exec_route, "execution.route", k, v);
		else if (strcmp(k->value, "command") == 0)
			get_string(l, &m->exec_command, "execution.command", k, v);
		else if (strcmp(k->value, "method") == 0)
			get_string(l, &m->exec_method, "execution.method", k, v);
		else if (strcmp(k->value, "body") == 0)
			m->exec_body = get_map(l, "execution.body", v);
	}
}

static void load_dependencies(loader *l, const aims_yaml_node *value)
{
	aims_manifest *m = &l->m->pub;
	const aims_yaml_node *map = get_map(l, "dependencies", value);
	bool may_repeat;

	if (!map)
		return;
	m->dependencies = map;
	may_repeat = check_duplicate_keys(l, map) || map->count > 512;
	for (size_t i = 0; i < map->count; i++) {
		const aims_yaml_node *k = map->keys[i], *v = map->items[i];

		if (k->type != AIMS_YAML_SCALAR || !first_key(map, k, may_repeat))
			continue;
		if (strcmp(k->value, "env") == 0)
			get_list(l, &m->dep_env, "dependencies.env", k, v, true);
		else if (strcmp(k->value, "packages") == 0)
			get_list(l, &m->dep_packages, "dependencies.packages", k, v, true);
		else if (strcmp(k->value, "files") == 0)
			get_list(l, &m->dep_files, "dependencies.files", k, v, true);
	}
}

/* Keys every kind may carry; the rest are kept and warned about. */
static const char *const known_keys[] = {
	"id", "name", "type", "status", "triggers", "trigger", "description", "execution",
	"dependencies", "priority", "schedule",
	/* tools */
	"category", "provider", "env_vars", "docs_url", "aims_files", "owner", "secondary_owners",
	"mcp_endpoint", "tier", NULL};

static bool is_known_key(const char *key)
{
	for (const char *const *k = known_keys; *k; k++)
		if (strcmp(*k, key) == 0)
			return true;
	return false;
}

/* Reports keys that appear twice; returns true when there was one. */
static bool check_duplicate_keys(loader *l, const aims_yaml_node *map)
{
	bool found = false;

	/* Front matter maps are small; quadratic is fine up to a bound, and
	 * beyond it only the first keys are compared (the node cap bounds the
	 * map anyway). */
	size_t n = map->count < 512 ? map->count : 512;

	for (size_t i = 1; i < n; i++) {
		const aims_yaml_node *k = map->keys[i];

		if (k->type != AIMS_YAML_SCALAR)
			continue;
		for (size_t j = 0; j < i; j++) {
			const aims_yaml_node *prev = map->keys[j];

			if (prev->type == AIMS_YAML_SCALAR && prev->len == k->len &&
			    memcmp(prev->value, k->value, k->len) == 0) {
				problem(l, "duplicate-key", AIMS_SEVERITY_ERROR, k->pos,
					"key '%s' appears twice (first on line %u); the first is "
					"used",
					k->value, prev->pos.line);
				found = true;
				break;
			}
		}
	}
	return found;
}

/* strcmp(key, name) == 0, with the first character compared inline: the
 * key dispatch below runs for every key of every manifest. */
static bool key_is(const char *key, const char *name)
{
	return key[0] == name[0] && strcmp(key, name) == 0;
}

static void load_fields(loader *l, const aims_yaml_node *root)
{
	aims_manifest *m = &l->m->pub;

	/* Beyond 512 keys duplicates are not all reported: look them up. */
	bool may_repeat = check_duplicate_keys(l, root) || root->count > 512;

	for (size_t i = 0; i < root->count; i++) {
		const aims_yaml_node *k = root->keys[i], *v = root->items[i];
		const char *key;

		if (k->type != AIMS_YAML_SCALAR) {
			problem(l, "wrong-type", AIMS_SEVERITY_ERROR, k->pos,
				"keys must be strings, not %s", aims_yaml_type_name(k));
			continue;
		}
		key = k->value;
		/* The first occurrence of a duplicated key wins. */
		if (!first_key(root, k, may_repeat))
			continue;
		if (key_is(key, "id"))
			get_string(l, &m->id, "id", k, v);
		else if (key_is(key, "name"))
			get_string(l, &m->name, "name", k, v);
		else if (key_is(key, "type"))
			get_string(l, &m->type, "type", k, v);
		else if (key_is(key, "description"))
			get_string(l, &m->description, "description", k, v);
		else if (key_is(key, "status"))
			get_string(l, &m->status_field, "status", k, v);
		else if (key_is(key, "priority"))
			get_string(l, &m->priority_field, "priority", k, v);
		else if (key_is(key, "schedule"))
			get_string(l, &m->schedule, "schedule", k, v);
		else if (key_is(key, "triggers"))
			get_list(l, &m->triggers, "triggers", k, v, true);
		else if (key_is(key, "trigger")) {
			m->singular_trigger = true;
			problem(l, "singular-trigger", AIMS_SEVERITY_WARNING, k->pos,
				"'trigger' should be 'triggers' (a list); accepted");
			get_list(l, &m->triggers, "trigger", k, v, false);
		} else if (key_is(key, "execution"))
			load_execution(l, k, v);
		else if (key_is(key, "dependencies"))
			load_dependencies(l, v);
		else if (key_is(key, "category"))
			get_string(l, &m->category, "category", k, v);
		else if (key_is(key, "provider"))
			get_string(l, &m->provider, "provider", k, v);
		else if (key_is(key, "docs_url"))
			get_string(l, &m->docs_url, "docs_url", k, v);
		else if (key_is(key, "mcp_endpoint"))
			get_string(l, &m->mcp_endpoint, "mcp_endpoint", k, v);
		else if (key_is(key, "env_vars"))
			get_list(l, &m->env_vars, "env_vars", k, v, true);
		else if (key_is(key, "aims_files"))
			get_list(l, &m->aims_files, "aims_files", k, v, true);
		else if (!is_known_key(key))
			problem(l, "unknown-key", AIMS_SEVERITY_WARNING, k->pos,
				"unknown key '%s' (kept)", key);
	}
}

static void resolve_kind_and_id(loader *l, const char *path)
{
	aims_manifest *m = &l->m->pub;
	aims_pos file_pos = {1, 1};
	/* When the front matter could not be read, its type and id may well
	 * be there: infer them quietly, the YAML problem says what is wrong. */
	bool quiet = !m->root;

	if (m->type.str) {
		m->kind = aims_kind_parse(m->type.str);
		if (m->kind == AIMS_KIND_INTEGRATION || m->kind == AIMS_KIND_REFERENCE)
			problem(l, "unknown-type", AIMS_SEVERITY_WARNING, m->type.pos,
				"type '%s' is not one of task, skill, hook, tool; loaded as is",
				m->type.str);
	}
	if (m->kind == AIMS_KIND_UNKNOWN) {
		aims_kind inferred = infer_kind(path);

		if (m->type.str)
			problem(l, "unknown-type", AIMS_SEVERITY_WARNING, m->type.pos,
				"type '%s' is not one of task, skill, hook, tool%s%s", m->type.str,
				inferred ? "; inferred " : "",
				inferred ? aims_kind_name(inferred) : "");
		else if (quiet)
			; /* the YAML problem is reported instead */
		else if (inferred)
			problem(l, "inferred-type", AIMS_SEVERITY_WARNING, file_pos,
				"no type: inferred '%s' from the file name or directory",
				aims_kind_name(inferred));
		else
			problem(l, "missing-type", AIMS_SEVERITY_WARNING, file_pos,
				"no type, and none can be inferred from the file name or "
				"directory");
		m->kind = inferred;
		m->kind_inferred = inferred != AIMS_KIND_UNKNOWN;
	}

	if (!m->id.str) {
		char *slug = NULL;
		const char *from = "file name";

		if (m->name.str) {
			slug = slugify(l->arena, m->name.str, strlen(m->name.str));
			from = "name";
		}
		if (!slug || !*slug) {
			size_t len;
			const char *stem = stem_of(path, &len);

			slug = slugify(l->arena, stem, len);
			from = "file name";
		}
		if (!slug) {
			l->rc = AIMS_ENOMEM;
			return;
		}
		if (*slug) {
			m->id.str = slug;
			m->id_inferred = true;
			if (!quiet)
				problem(l, "missing-id", AIMS_SEVERITY_WARNING,
					m->id.key_pos.line ? m->id.key_pos : file_pos,
					"no id: using '%s' derived from the %s", slug, from);
		} else if (!quiet) {
			/* Nothing to register it under: it would never load. */
			problem(l, "no-id", AIMS_SEVERITY_ERROR,
				m->id.key_pos.line ? m->id.key_pos : file_pos,
				"no id, and neither the name nor the file name gives one (an id "
				"needs ASCII letters or digits): add 'id:'");
		}
	}

	if (m->status_field.str) {
		m->status = aims_status_parse(m->status_field.str);
		if (m->status == AIMS_STATUS_OTHER)
			problem(l, "bad-status", AIMS_SEVERITY_WARNING, m->status_field.pos,
				"status '%s' is not one of active, beta, planned, disabled, "
				"deprecated; "
				"not routed",
				m->status_field.str);
	}
	if (m->priority_field.str) {
		m->priority = priority_parse(m->priority_field.str);
		if (m->priority == AIMS_PRIORITY_OTHER)
			problem(l, "bad-priority", AIMS_SEVERITY_WARNING, m->priority_field.pos,
				"priority '%s' is not one of critical, high, medium, normal, low; "
				"medium is used",
				m->priority_field.str);
	}
}

/* ---- Loading ------------------------------------------------------------- */

/* Splits data into front matter and body. Returns false when the file
 * does not start with a '---' line (not a manifest). Otherwise sets the
 * front matter range (*fm_end NULL when never closed), the body start and
 * the file line where the body starts. */
static bool split_front_matter(const char *data, size_t len, const char **fm_start,
			       const char **fm_end, const char **body_start, uint32_t *body_line)
{
	const char *p = data, *end = data + len, *next;
	uint32_t line = 2;
	size_t line_len;

	/* A UTF-8 byte order mark is tolerated. */
	if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	line_len = line_at(p, end, &next);
	if (!is_delimiter(p, line_len, "---"))
		return false;
	*fm_start = p = next;
	*fm_end = NULL;
	*body_start = end;
	while (p < end) {
		line_len = line_at(p, end, &next);
		if (is_delimiter(p, line_len, "---") || is_delimiter(p, line_len, "...")) {
			*fm_end = p;
			*body_start = next;
			line++;
			break;
		}
		p = next;
		line++;
	}
	*body_line = line;
	return true;
}

/* Parses the YAML between the delimiters and fills the typed fields.
 * Returns 0 or AIMS_ENOMEM; YAML problems are recorded, not returned. */
static int load_front_matter(loader *l, const char *text, size_t len)
{
	aims_manifest *m = &l->m->pub;
	const aims_pos first = {1, 1};
	const aims_yaml_node *root = NULL;
	aims_pos err_pos = {0, 0};
	aims_error yerr;
	int rc;

	if (len > AIMS_MANIFEST_MAX_FRONT_MATTER) {
		problem(l, "too-big", AIMS_SEVERITY_ERROR, first,
			"front matter is %zu bytes, over the limit of %u", len,
			AIMS_MANIFEST_MAX_FRONT_MATTER);
		return l->rc;
	}
	aims_error_clear(&yerr);
	rc = manifest_yaml_parse(&root, &err_pos, l->arena, text, len, m->front_matter_line - 1,
				 &yerr);
	if (rc == AIMS_ENOMEM)
		return rc;
	if (rc < 0)
		problem(l, rc == AIMS_ETOOBIG ? "too-big" : "yaml-syntax", AIMS_SEVERITY_ERROR,
			err_pos, "%s", yerr.message);
	else if (!root || aims_yaml_is_null(root))
		problem(l, "not-a-mapping", AIMS_SEVERITY_ERROR, first, "front matter is empty");
	else if (root->type != AIMS_YAML_MAPPING)
		problem(l, "not-a-mapping", AIMS_SEVERITY_ERROR, root->pos,
			"front matter must be a mapping of keys to values, not %s",
			aims_yaml_type_name(root));
	else {
		m->root = root;
		load_fields(l, root);
	}
	return l->rc;
}

/* Where the last fence in body (len bytes, not necessarily NUL-terminated)
 * that may open a ```json block ends: a run of three or more ` or ~
 * followed by blanks and "json" in any case (a superset of what cmark
 * reads as one). NULL when there is none; *fence is its character. */
static const char *last_json_fence(const char *body, size_t len, char *fence)
{
	const char *end = body + len, *last = NULL;
	const char *tick = memchr(body, '`', len), *tilde = memchr(body, '~', len);

	while (tick || tilde) {
		const char *p = !tilde || (tick && tick < tilde) ? tick : tilde, *q = p, *info;

		while (q < end && *q == *p)
			q++;
		for (info = q; info < end && (*info == ' ' || *info == '\t'); info++)
			;
		if (q - p >= 3 && end - info >= 4 && strncasecmp(info, "json", 4) == 0) {
			last = q;
			*fence = *p;
		}
		/* The next fence character of either kind past q. */
		if (tick && tick < q)
			tick = q < end ? memchr(q, '`', (size_t)(end - q)) : NULL;
		if (tilde && tilde < q)
			tilde = q < end ? memchr(q, '~', (size_t)(end - q)) : NULL;
	}
	return last;
}

/* How much of body (len bytes) cmark must read to see every ```json block
 * whole, given the last fence that may open one (last_json_fence): up to
 * the line after the first later line that holds a run of three or more
 * of its fence character (a closing fence looks like that, in any
 * container). len when there is no such line. A guess that cuts a block
 * short is caught by manifest_body_parse (a code block reaching the last
 * line read). */
static size_t json_blocks_end(const char *body, size_t len, const char *last, char fence)
{
	const char *end = body + len, *p = memchr(last, '\n', (size_t)(end - last));

	while (p && ++p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *c = p;
		size_t run = 0;

		for (; c < (eol ? eol : end) && run < 3; c++)
			run = *c == fence ? run + 1 : 0;
		if (!eol)
			break;
		if (run >= 3) {
			/* And the line after it, whole. */
			const char *next = memchr(eol + 1, '\n', (size_t)(end - eol - 1));

			return next ? (size_t)(next + 1 - body) : len;
		}
		p = eol;
	}
	return len;
}

int aims_manifest_parse(aims_manifest **out, const char *path, const char *data, size_t len,
			aims_error *err)
{
	return aims_manifest_parse_flags(out, path, data, len, 0, err);
}

int aims_manifest_parse_flags(aims_manifest **out, const char *path, const char *data, size_t len,
			      unsigned flags, aims_error *err)
{
	const char *fm_start = NULL, *fm_end = NULL, *body_start = NULL;
	uint32_t body_line = 1;
	size_t feed;
	char fence = 0;
	manifest_impl *impl;
	aims_manifest *m;
	aims_arena arena;
	bool has_fm;
	loader l;
	int rc = 0;

	if (len > AIMS_MANIFEST_MAX_FILE)
		return aims_error_set(err, AIMS_ETOOBIG, "%s: file is over the limit of %u bytes",
				      path, AIMS_MANIFEST_MAX_FILE);
	/* The manifest and everything in it live in one arena, in one block
	 * when the size is known: the YAML tree takes about eight times its
	 * text, the body its length (more when parsed: a new chunk). */
	aims_arena_init(&arena);
	has_fm = split_front_matter(data, len, &fm_start, &fm_end, &body_start, &body_line);
	if (has_fm && fm_end && (size_t)(fm_end - fm_start) < AIMS_MANIFEST_MAX_FRONT_MATTER &&
	    aims_arena_reserve(&arena, sizeof(*impl) + strlen(path) +
					       (size_t)(fm_end - fm_start) * 8 +
					       (size_t)(data + len - body_start) + 256) < 0)
		return aims_error_set(err, AIMS_ENOMEM, "out of memory");
	if (!(impl = aims_arena_alloc(&arena, sizeof(*impl)))) {
		aims_arena_free(&arena);
		return aims_error_set(err, AIMS_ENOMEM, "out of memory");
	}
	impl->arena = arena;
	m = &impl->pub;
	l.m = impl;
	l.arena = &impl->arena;
	l.rc = 0;
	m->body_line = has_fm ? body_line : 1;
	if (!(m->path = aims_arena_strdup(&impl->arena, path))) {
		rc = AIMS_ENOMEM;
		goto out;
	}
	/* Files without front matter are not manifests: nothing more to do. */
	if (!has_fm)
		goto done;

	m->has_front_matter = true;
	m->front_matter_line = 2;
	if (!fm_end) {
		const aims_pos first = {1, 1};

		problem(&l, "unclosed-front-matter", AIMS_SEVERITY_ERROR, first,
			"front matter opened with '---' on line 1 is never closed "
			"(expected a line '---' or '...')");
	} else if ((rc = load_front_matter(&l, fm_start, (size_t)(fm_end - fm_start))) < 0) {
		goto out;
	}
	resolve_kind_and_id(&l, path);
	if ((rc = l.rc) < 0)
		goto out;

	/* Validation loads thousands of files and reads only ```json
	 * blocks: other bodies are neither copied nor parsed, and cmark
	 * reads the others only to just past their last one. */
	m->body_len = (size_t)(data + len - body_start);
	feed = m->body_len;
	if (flags & AIMS_MANIFEST_JSON_BLOCKS_ONLY) {
		const char *last = last_json_fence(body_start, m->body_len, &fence);

		if (!last) {
			m->body_len = 0;
			goto done;
		}
		feed = json_blocks_end(body_start, m->body_len, last, fence);
	}
	if (!(m->body = aims_arena_strndup(&impl->arena, body_start, m->body_len))) {
		rc = AIMS_ENOMEM;
		goto out;
	}
	if ((rc = manifest_body_parse(impl, feed)) == 1)
		rc = manifest_body_parse(impl, m->body_len);
	if (rc < 0)
		goto out;
	m->body_parsed = true;
done:
	*out = m;
	impl = NULL;
out:
	if (rc == AIMS_ENOMEM)
		aims_error_set(err, rc, "%s: out of memory", path);
	if (impl)
		aims_manifest_free(&impl->pub);
	return rc;
}

int aims_manifest_load(aims_manifest **out, const char *path, aims_error *err)
{
	return aims_manifest_load_flags(out, path, 0, err);
}

int aims_manifest_load_flags(aims_manifest **out, const char *path, unsigned flags, aims_error *err)
{
	char *data = NULL;
	size_t len = 0, cap = 0;
	int rc;

	if ((rc = aims_file_read_at(&data, &cap, &len, AT_FDCWD, path, path, AIMS_MANIFEST_MAX_FILE,
				    AIMS_FILE_REGULAR_ONLY, err)) == 0)
		rc = aims_manifest_parse_flags(out, path, data, len, flags, err);
	free(data);
	return rc;
}

static int copy_field(aims_arena *arena, aims_field *dst, const aims_field *src)
{
	*dst = *src;
	return !src->str || (dst->str = aims_arena_strdup(arena, src->str)) ? 0 : AIMS_ENOMEM;
}

aims_manifest *aims_manifest_slim(const aims_manifest *m, aims_arena *arena)
{
	const aims_strlist *t = &m->triggers;
	manifest_impl *impl;
	aims_manifest *s;

	if (!(impl = aims_arena_alloc(arena, sizeof(*impl))))
		return NULL;
	impl->borrowed = true;
	s = &impl->pub;
	s->has_front_matter = m->has_front_matter;
	s->front_matter_line = m->front_matter_line;
	s->body_line = m->body_line;
	s->kind = m->kind;
	s->kind_inferred = m->kind_inferred;
	s->id_inferred = m->id_inferred;
	s->status = m->status;
	s->status_field.key_pos = m->status_field.key_pos;
	s->status_field.pos = m->status_field.pos;
	s->priority = m->priority;
	s->priority_field.key_pos = m->priority_field.key_pos;
	s->priority_field.pos = m->priority_field.pos;
	s->singular_trigger = m->singular_trigger;
	s->triggers.count = t->count;
	s->triggers.key_pos = t->key_pos;
	if (!(s->path = aims_arena_strdup(arena, m->path)) ||
	    copy_field(arena, &s->type, &m->type) < 0 || copy_field(arena, &s->id, &m->id) < 0 ||
	    copy_field(arena, &s->name, &m->name) < 0)
		return NULL;
	if (t->count) {
		const char **items = aims_arena_alloc(arena, t->count * sizeof(*items));
		aims_pos *pos = aims_arena_alloc(arena, t->count * sizeof(*pos));

		if (!items || !pos)
			return NULL;
		for (size_t i = 0; i < t->count; i++)
			if (!(items[i] = aims_arena_strdup(arena, t->items[i])))
				return NULL;
		memcpy(pos, t->pos, t->count * sizeof(*pos));
		s->triggers.items = items;
		s->triggers.pos = pos;
	}
	return s;
}

void aims_manifest_free(aims_manifest *m)
{
	manifest_impl *impl;
	aims_arena arena;

	if (!m)
		return;
	impl = impl_of(m);
	if (impl->borrowed)
		return;
	free(impl->problems);
	/* impl itself lives in its arena: free from a copy. */
	arena = impl->arena;
	aims_arena_free(&arena);
}

/*
 * check.c - requirements of a definition (SPEC §5).
 *
 * env: set and non-empty (the value is never copied). files: exist under
 * the root. packages: npm names in the root's package.json dependencies
 * or node_modules/, "pip:NAME" as an installed Python distribution
 * (a *.dist-info or *.egg-info directory in the usual site directories or
 * the root's virtualenv), "deb:NAME" as an installed Debian package
 * (dpkg's status file). Nothing is executed to find out.
 *
 * A task whose route the runtime implements itself (the code executor)
 * is ready when its backend is; its declared dependencies, which describe
 * the external implementation the built-in replaces, are still checked
 * and reported as information.
 */
#include <ctype.h>
#include <dirent.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "aims/check.h"
#include "core/arena.h"

#define PACKAGE_JSON_MAX (4u << 20)
#define DPKG_STATUS_MAX	 (64u << 20)

typedef struct readiness_impl {
	aims_readiness pub;
	aims_arena arena;
	size_t cap;
} readiness_impl;

const char *aims_req_kind_name(aims_req_kind kind)
{
	switch (kind) {
	case AIMS_REQ_ENV: return "env";
	case AIMS_REQ_FILE: return "file";
	case AIMS_REQ_PACKAGE: return "package";
	case AIMS_REQ_BACKEND: return "backend";
	}
	return "unknown";
}

bool aims_check_builtin_route(const char *route)
{
	return route && strcmp(route, "/api/code/execute") == 0;
}

bool aims_check_is_builtin(const aims_manifest *m)
{
	return m->kind == AIMS_KIND_TASK && aims_check_builtin_route(m->exec_route.str) &&
	       (!m->exec_target.str || strcasecmp(m->exec_target.str, "api") == 0);
}

static int add(readiness_impl *r, aims_req_kind kind, const char *name, aims_pos pos, bool met,
	       const char *detail, bool informational)
{
	aims_requirement *item;

	if (r->pub.count == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 8;
		aims_requirement *items = realloc(r->pub.items, cap * sizeof(*items));

		if (!items)
			return AIMS_ENOMEM;
		r->pub.items = items;
		r->cap = cap;
	}
	item = &r->pub.items[r->pub.count];
	memset(item, 0, sizeof(*item));
	item->kind = kind;
	item->pos = pos;
	item->met = met;
	item->informational = informational;
	if (!(item->name = aims_arena_strdup(&r->arena, name)))
		return AIMS_ENOMEM;
	if (detail && !(item->detail = aims_arena_strdup(&r->arena, detail)))
		return AIMS_ENOMEM;
	r->pub.count++;
	return 0;
}

/* ---- Files and packages ------------------------------------------------ */

static const char *root_of(const aims_check_options *opts)
{
	const char *root = opts && opts->root ? opts->root : getenv("AIMS_ROOT");

	return root && *root ? root : ".";
}

static bool path_exists(const char *root, const char *rel)
{
	char path[4096];
	struct stat st;
	int n;

	if (rel[0] == '/')
		n = snprintf(path, sizeof(path), "%s", rel);
	else
		n = snprintf(path, sizeof(path), "%s/%s", root, rel);
	return n > 0 && (size_t)n < sizeof(path) && stat(path, &st) == 0;
}

static bool in_package_json(const char *root, const char *name)
{
	static const char *const sections[] = {"dependencies", "devDependencies",
					       "peerDependencies", "optionalDependencies"};
	char path[4096], *text = NULL;
	size_t len;
	cJSON *json;
	bool found = false;
	int n = snprintf(path, sizeof(path), "%s/package.json", root);

	if (n < 0 || (size_t)n >= sizeof(path) ||
	    aims_file_read(&text, &len, path, PACKAGE_JSON_MAX, NULL) < 0)
		return false;
	json = cJSON_ParseWithLength(text, len);
	for (size_t i = 0; json && !found && i < sizeof(sections) / sizeof(sections[0]); i++)
		found = cJSON_GetObjectItemCaseSensitive(
				cJSON_GetObjectItemCaseSensitive(json, sections[i]), name) != NULL;
	cJSON_Delete(json);
	free(text);
	return found;
}

/* npm: a name like "@e2b/sdk" or "left-pad": never a path outside. */
static bool npm_name_ok(const char *name)
{
	return *name && !strstr(name, "..") && name[0] != '/' && !strchr(name, '\\');
}

static bool npm_installed(const char *root, const char *name)
{
	char rel[4096];
	int n;

	if (!npm_name_ok(name))
		return false;
	if (in_package_json(root, name))
		return true;
	n = snprintf(rel, sizeof(rel), "node_modules/%s/package.json", name);
	return n > 0 && (size_t)n < sizeof(rel) && path_exists(root, rel);
}

/* PEP 503 normalization, with '_' as the separator (how wheels name their
 * .dist-info directories): "Foo.Bar-baz" -> "foo_bar_baz". */
static void pep503(char *out, size_t size, const char *name, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n + 1 < size; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '-' || c == '_' || c == '.') {
			if (n && out[n - 1] != '_')
				out[n++] = '_';
		} else {
			out[n++] = (char)tolower(c);
		}
	}
	out[n] = '\0';
}

static bool dist_in_dir(const char *dir, const char *want)
{
	DIR *d = opendir(dir);
	struct dirent *ent;
	bool found = false;

	if (!d)
		return false;
	while (!found && (ent = readdir(d))) {
		const char *dot = strstr(ent->d_name, ".dist-info");
		char norm[256];
		const char *dash;

		if (!dot)
			dot = strstr(ent->d_name, ".egg-info");
		if (!dot)
			continue;
		/* NAME-VERSION.dist-info: the name ends at the first '-'
		 * (wheel names escape '-' in names as '_'). */
		dash = memchr(ent->d_name, '-', (size_t)(dot - ent->d_name));
		pep503(norm, sizeof(norm), ent->d_name,
		       (size_t)((dash ? dash : dot) - ent->d_name));
		found = strcmp(norm, want) == 0;
	}
	closedir(d);
	return found;
}

static bool pip_in_pattern(const char *pattern, const char *want)
{
	glob_t g;
	bool found = false;

	if (glob(pattern, GLOB_NOSORT, NULL, &g) != 0)
		return false;
	for (size_t j = 0; !found && j < g.gl_pathc; j++)
		found = dist_in_dir(g.gl_pathv[j], want);
	globfree(&g);
	return found;
}

static bool pip_installed(const char *root, const char *name)
{
	static const char *const system_dirs[] = {
		"/usr/lib/python3/dist-packages",
		"/usr/local/lib/python3*/dist-packages",
		"/usr/local/lib/python3*/site-packages",
		"/usr/lib/python3*/site-packages",
	};
	static const char *const venv_dirs[] = {".venv", "venv"};
	char want[256], pattern[4096];

	pep503(want, sizeof(want), name, strlen(name));
	if (!*want)
		return false;
	for (size_t i = 0; i < sizeof(system_dirs) / sizeof(system_dirs[0]); i++)
		if (pip_in_pattern(system_dirs[i], want))
			return true;
	for (size_t i = 0; i < sizeof(venv_dirs) / sizeof(venv_dirs[0]); i++) {
		int n = snprintf(pattern, sizeof(pattern), "%s/%s/lib/python3*/site-packages", root,
				 venv_dirs[i]);

		if (n > 0 && (size_t)n < sizeof(pattern) && pip_in_pattern(pattern, want))
			return true;
	}
	return false;
}

/* dpkg's status file: a stanza "Package: NAME" whose Status line ends in
 * "installed". */
static bool deb_installed(const char *name)
{
	const char *status_path = getenv("AIMS_DPKG_STATUS");
	char *text = NULL, *p;
	size_t len, name_len = strlen(name);
	bool found = false;

	if (!status_path || !*status_path)
		status_path = "/var/lib/dpkg/status";
	if (aims_file_read(&text, &len, status_path, DPKG_STATUS_MAX, NULL) < 0)
		return false;
	for (p = text; p && *p;) {
		char *stanza_end = strstr(p, "\n\n");
		size_t stanza_len = stanza_end ? (size_t)(stanza_end - p) : strlen(p);

		if (strncmp(p, "Package: ", 9) == 0 && strncmp(p + 9, name, name_len) == 0 &&
		    p[9 + name_len] == '\n') {
			char *status = memmem(p, stanza_len, "\nStatus: ", 9);

			if (status) {
				char *eol = memchr(status + 1, '\n',
						   stanza_len - (size_t)(status + 1 - p));
				size_t line = eol ? (size_t)(eol - status)
						  : stanza_len - (size_t)(status - p);

				found = line >= 10 &&
					memcmp(status + line - 10, " installed", 10) == 0;
			}
			break;
		}
		p = stanza_end ? stanza_end + 2 : NULL;
	}
	free(text);
	return found;
}

static int check_package(readiness_impl *r, const char *root, const char *name, aims_pos pos,
			 bool informational)
{
	bool met;
	const char *detail;

	if (strncmp(name, "pip:", 4) == 0) {
		met = pip_installed(root, name + 4);
		detail = "no such Python distribution installed";
	} else if (strncmp(name, "deb:", 4) == 0) {
		met = deb_installed(name + 4);
		detail = "no such Debian package installed";
	} else {
		met = npm_installed(root, name);
		detail = "not in package.json or node_modules";
	}
	return add(r, AIMS_REQ_PACKAGE, name, pos, met, met ? NULL : detail, informational);
}

static int check_env(readiness_impl *r, const char *name, aims_pos pos, bool informational)
{
	const char *value = getenv(name);
	bool met = value && *value;

	return add(r, AIMS_REQ_ENV, name, pos, met,
		   met	   ? NULL
		   : value ? "set but empty"
			   : "not set",
		   informational);
}

/* ---- The definition ----------------------------------------------------- */

static int check_declared(readiness_impl *r, const aims_manifest *m, const char *root,
			  bool informational)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < m->dep_env.count; i++)
		rc = check_env(r, m->dep_env.items[i], m->dep_env.pos[i], informational);
	for (size_t i = 0; rc == 0 && i < m->env_vars.count; i++)
		rc = check_env(r, m->env_vars.items[i], m->env_vars.pos[i], informational);
	for (size_t i = 0; rc == 0 && i < m->dep_files.count; i++) {
		bool met = path_exists(root, m->dep_files.items[i]);

		rc = add(r, AIMS_REQ_FILE, m->dep_files.items[i], m->dep_files.pos[i], met,
			 met ? NULL : "no such file under the root", informational);
	}
	for (size_t i = 0; rc == 0 && i < m->dep_packages.count; i++)
		rc = check_package(r, root, m->dep_packages.items[i], m->dep_packages.pos[i],
				   informational);
	return rc;
}

static int check_builtin(readiness_impl *r)
{
	const aims_pos none = {0, 0};
	aims_backend backend = aims_exec_resolve_backend(AIMS_BACKEND_AUTO);
	aims_error err;
	int rc;
	bool key = getenv("E2B_API_KEY") && *getenv("E2B_API_KEY");

	aims_error_clear(&err);
	r->pub.builtin = true;
	r->pub.backend = backend;
	rc = aims_exec_backend_ready(backend, &err);
	if ((rc = add(r, AIMS_REQ_BACKEND, aims_backend_name(backend), none, rc == 0,
		      rc == 0 ? NULL : err.message, false)) < 0)
		return rc;
	if (!key && backend == AIMS_BACKEND_LOCAL &&
	    !(r->pub.note = aims_arena_strdup(&r->arena, "E2B_API_KEY missing: e2b backend "
							 "unavailable; local backend serves")))
		return AIMS_ENOMEM;
	return 0;
}

size_t aims_readiness_missing(const aims_readiness *r)
{
	size_t n = 0;

	for (size_t i = 0; i < r->count; i++)
		n += !r->items[i].met && !r->items[i].informational;
	return n;
}

int aims_check_definition(aims_readiness **out, const aims_manifest *m,
			  const aims_check_options *opts, aims_error *err)
{
	readiness_impl *r = calloc(1, sizeof(*r));
	const char *root = root_of(opts);
	bool builtin;
	int rc;

	if (!r)
		return aims_error_set(err, AIMS_ENOMEM, "out of memory");
	aims_arena_init(&r->arena);
	r->pub.manifest = m;
	builtin = aims_check_is_builtin(m);
	if (builtin && (rc = check_builtin(r)) < 0)
		goto fail;
	if ((rc = check_declared(r, m, root, builtin)) < 0)
		goto fail;
	r->pub.ready = aims_readiness_missing(&r->pub) == 0;
	*out = &r->pub;
	return 0;
fail:
	aims_readiness_free(&r->pub);
	return aims_error_set(err, rc, "out of memory");
}

void aims_readiness_free(aims_readiness *pub)
{
	readiness_impl *r = (readiness_impl *)(void *)pub;

	if (!r)
		return;
	free(r->pub.items);
	aims_arena_free(&r->arena);
	free(r);
}

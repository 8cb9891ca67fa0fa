/*
 * packages.c - strict validation of package names per ecosystem. Only a
 * small, documented grammar is accepted; everything else (URLs, paths,
 * shell or option syntax, environment markers) is refused with the name.
 */
#include <string.h>
#include <strings.h>

#include "aims/exec.h"

#define PACKAGE_NAME_MAX 214 /* npm's limit; generous for the others */

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Length of a run of characters from set at s. */
static size_t span(const char *s, bool (*ok)(char))
{
	size_t n = 0;

	while (s[n] && ok(s[n]))
		n++;
	return n;
}

static bool pep508_name_char(char c)
{
	return is_alnum(c) || c == '.' || c == '_' || c == '-';
}

static bool pep440_version_char(char c)
{
	return is_alnum(c) || c == '.' || c == '*' || c == '+' || c == '!' || c == '_' || c == '-';
}

/* A PEP 508 name that starts and ends with a letter or digit. */
static size_t pep508_name(const char *s)
{
	size_t n = span(s, pep508_name_char);

	if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
		return 0;
	return n;
}

static const char *skip_spaces(const char *s)
{
	while (*s == ' ')
		s++;
	return s;
}

static bool python_ok(const char *s)
{
	size_t n = pep508_name(s);

	if (!n)
		return false;
	s += n;
	if (*s == '[') { /* extras: [a,b] */
		s++;
		for (;;) {
			s = skip_spaces(s);
			if (!(n = pep508_name(s)))
				return false;
			s = skip_spaces(s + n);
			if (*s == ']')
				break;
			if (*s++ != ',')
				return false;
		}
		s++;
	}
	s = skip_spaces(s);
	if (!*s)
		return true;
	for (;;) { /* version clauses: OP VERSION [, OP VERSION]... */
		static const char *const ops[] = {"===", "==", "!=", "<=", ">=", "~=", "<", ">"};
		size_t op = 0;

		for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
			if (strncmp(s, ops[i], strlen(ops[i])) == 0) {
				op = strlen(ops[i]);
				break;
			}
		if (!op)
			return false;
		s = skip_spaces(s + op);
		if (!(n = span(s, pep440_version_char)) || !is_alnum(s[0]))
			return false;
		s = skip_spaces(s + n);
		if (!*s)
			return true;
		if (*s++ != ',')
			return false;
		s = skip_spaces(s);
	}
}

static bool npm_name_char(char c)
{
	return is_lower_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static bool npm_version_char(char c)
{
	return is_alnum(c) || c == '.' || c == '^' || c == '~' || c == '<' || c == '>' ||
	       c == '=' || c == '*' || c == '|' || c == '+' || c == '-';
}

static bool node_ok(const char *s)
{
	size_t n;

	if (*s == '@') { /* @scope/ */
		s++;
		if (!(n = span(s, npm_name_char)) || !is_lower_alnum(s[0]))
			return false;
		s += n;
		if (*s++ != '/')
			return false;
	}
	if (!(n = span(s, npm_name_char)) || !is_lower_alnum(s[0]))
		return false;
	s += n;
	if (!*s)
		return true;
	if (*s++ != '@')
		return false;
	n = span(s, npm_version_char);
	return n > 0 && s[n] == '\0' && (is_alnum(s[0]) || strchr("^~<>=*", s[0]));
}

static bool deb_name_char(char c)
{
	return is_lower_alnum(c) || c == '+' || c == '.' || c == '-';
}

static bool deb_version_char(char c)
{
	return is_alnum(c) || c == '.' || c == '+' || c == '~' || c == ':' || c == '-';
}

static bool bash_ok(const char *s)
{
	size_t n = span(s, deb_name_char);

	if (n < 2 || !is_lower_alnum(s[0]))
		return false;
	s += n;
	if (!*s)
		return true;
	if (*s++ != '=')
		return false;
	n = span(s, deb_version_char);
	return n > 0 && s[n] == '\0' && is_alnum(s[0]);
}

/* True when s ends like an archive: npm and pip read such a name as a
 * file to install ("evil.tgz", "foo==1.tar.gz"). */
static bool looks_like_archive(const char *s)
{
	static const char *const suffixes[] = {".tgz",	  ".tar",  ".tar.gz", ".tar.bz2",
					       ".tar.xz", ".tbz2", ".txz",    ".whl",
					       ".zip",	  ".egg",  ".deb",    NULL};
	size_t len = strlen(s);

	for (size_t i = 0; suffixes[i]; i++) {
		size_t n = strlen(suffixes[i]);

		if (len > n && strcasecmp(s + len - n, suffixes[i]) == 0)
			return true;
	}
	return false;
}

int aims_exec_check_package(aims_language lang, const char *name, aims_error *err)
{
	bool ok;
	const char *what;

	if (strlen(name) > PACKAGE_NAME_MAX)
		return aims_error_set(err, AIMS_EINVALID,
				      "package name '%.40s...' is longer than %d", name,
				      PACKAGE_NAME_MAX);
	switch (lang) {
	case AIMS_LANG_PYTHON:
		ok = python_ok(name);
		what = "a PyPI name with optional [extras] and version clauses";
		break;
	case AIMS_LANG_NODE:
		ok = node_ok(name);
		what = "an npm name, optionally @scope/ and @version";
		break;
	case AIMS_LANG_BASH:
		ok = bash_ok(name);
		what = "a Debian package name, optionally =version";
		break;
	default:
		ok = false;
		what = "a package of a known language";
		break;
	}
	if (ok && looks_like_archive(name)) {
		ok = false;
		what = "a package name, not an archive file";
	}
	if (ok)
		return 0;
	/* Quote the name with its control characters made visible. */
	{
		char shown[80];
		size_t n = 0;

		for (const char *p = name; *p && n + 5 < sizeof(shown); p++)
			shown[n++] = (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p;
		shown[n] = '\0';
		return aims_error_set(err, AIMS_EINVALID, "invalid package name '%s': expected %s",
				      shown, what);
	}
}

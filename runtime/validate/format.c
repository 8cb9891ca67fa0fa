/*
 * format.c - the text and GitHub Actions renderings of a validation, into
 * a caller's bounded buffer (the library never prints). JSON and SARIF are
 * cJSON trees and live in runtime/json/.
 *
 * Every diagnostic stays on one line whatever the manifest contains: the
 * text format escapes control characters, the GitHub format percent-encodes
 * what the runner would otherwise read as syntax.
 */
#include <stdio.h>
#include <string.h>

#include "aims/validate.h"

/* ---- Paths ---------------------------------------------------------------- */

#define MAX_COMPONENTS 256

/* Splits a path into its components, dropping "", "." and resolving ".."
 * lexically (never above the start for absolute paths). Components point
 * into path; lens gives their lengths. Returns the count, or -1 when there
 * are too many. *up counts leading ".." of a relative path. */
static int split(const char *path, const char **parts, size_t *lens, size_t *up)
{
	int n = 0;
	bool absolute = path[0] == '/';

	*up = 0;
	while (*path) {
		size_t len = strcspn(path, "/");

		if (len == 0 || (len == 1 && path[0] == '.')) {
			/* nothing */
		} else if (len == 2 && path[0] == '.' && path[1] == '.') {
			if (n > 0)
				n--;
			else if (!absolute)
				(*up)++;
		} else {
			if (n == MAX_COMPONENTS)
				return -1;
			parts[n] = path;
			lens[n++] = len;
		}
		path += len;
		while (*path == '/')
			path++;
	}
	return n;
}

static int put_parts(aims_buf *buf, size_t up, const char **parts, const size_t *lens, int from,
		     int to)
{
	bool first = true;
	int rc;

	for (size_t i = 0; i < up; i++, first = false)
		if ((rc = aims_buf_puts(buf, first ? ".." : "/..")) < 0)
			return rc;
	for (int i = from; i < to; i++, first = false)
		if ((!first && (rc = aims_buf_puts(buf, "/")) < 0) ||
		    (rc = aims_buf_append(buf, parts[i], lens[i])) < 0)
			return rc;
	return first ? aims_buf_puts(buf, ".") : 0;
}

int aims_validate_display_path(aims_buf *buf, const char *path, const char *base)
{
	const char *pp[MAX_COMPONENTS], *bp[MAX_COMPONENTS];
	size_t pl[MAX_COMPONENTS], bl[MAX_COMPONENTS], pup, bup;
	int np, nb, common = 0;

	if (!base || path[0] != '/' || base[0] != '/') {
		/* Relative paths are relative to base already: tidy them. */
		if (path[0] == '/' || (np = split(path, pp, pl, &pup)) < 0)
			return aims_buf_puts(buf, path);
		return put_parts(buf, pup, pp, pl, 0, np);
	}
	if ((np = split(path, pp, pl, &pup)) < 0 || (nb = split(base, bp, bl, &bup)) < 0)
		return aims_buf_puts(buf, path);
	while (common < np && common < nb && pl[common] == bl[common] &&
	       memcmp(pp[common], bp[common], pl[common]) == 0)
		common++;
	return put_parts(buf, (size_t)(nb - common), pp, pl, common, np);
}

/* ---- Text ----------------------------------------------------------------- */

/* Appends s with control characters escaped, so it stays on one line. */
static int put_escaped(aims_buf *buf, const char *s)
{
	int rc = 0;

	while (*s && rc == 0) {
		size_t run = 0;

		while (s[run] && (unsigned char)s[run] >= 0x20 && s[run] != 0x7f)
			run++;
		if (run) {
			rc = aims_buf_append(buf, s, run);
			s += run;
			continue;
		}
		switch (*s) {
		case '\n': rc = aims_buf_puts(buf, "\\n"); break;
		case '\r': rc = aims_buf_puts(buf, "\\r"); break;
		case '\t': rc = aims_buf_puts(buf, "\\t"); break;
		default: rc = aims_buf_printf(buf, "\\x%02x", (unsigned char)*s); break;
		}
		s++;
	}
	return rc;
}

static int put_display_path(aims_buf *buf, const char *path, const char *base)
{
	aims_buf tmp;
	int rc;

	aims_buf_init(&tmp, 64 * 1024);
	if ((rc = aims_validate_display_path(&tmp, path, base)) == 0)
		rc = put_escaped(buf, tmp.ptr ? tmp.ptr : "");
	aims_buf_free(&tmp);
	return rc;
}

static const char *plural(size_t n)
{
	return n == 1 ? "" : "s";
}

int aims_validate_format_text(aims_buf *buf, const aims_validation *v, const char *base, bool color)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < aims_validate_count(v); i++) {
		const aims_diagnostic *d = aims_validate_at(v, i);
		bool error = d->severity == AIMS_SEVERITY_ERROR;
		const char *sev = aims_validate_severity_name(d->severity);

		if ((rc = put_display_path(buf, d->path, base)) < 0)
			break;
		if (color)
			rc = aims_buf_printf(buf, ":%u:%u: \033[1;%dm%s\033[0m: ", d->pos.line,
					     d->pos.col, error ? 31 : 33, sev);
		else
			rc = aims_buf_printf(buf, ":%u:%u: %s: ", d->pos.line, d->pos.col, sev);
		if (rc == 0)
			rc = put_escaped(buf, d->message);
		if (rc == 0)
			rc = aims_buf_printf(buf, " [%s]\n", d->rule);
	}
	if (rc == 0)
		rc = aims_buf_printf(buf, "%zu error%s, %zu warning%s in %zu file%s\n",
				     aims_validate_errors(v), plural(aims_validate_errors(v)),
				     aims_validate_warnings(v), plural(aims_validate_warnings(v)),
				     aims_validate_file_count(v),
				     plural(aims_validate_file_count(v)));
	return rc;
}

/* ---- GitHub Actions ------------------------------------------------------- */

/* Workflow-command escaping: data escapes % CR LF; a property value also
 * escapes ':' and ',' (they separate properties). */
static int put_github(aims_buf *buf, const char *s, bool property)
{
	int rc = 0;

	for (; *s && rc == 0; s++) {
		switch (*s) {
		case '%': rc = aims_buf_puts(buf, "%25"); break;
		case '\r': rc = aims_buf_puts(buf, "%0D"); break;
		case '\n': rc = aims_buf_puts(buf, "%0A"); break;
		case ':':
			rc = property ? aims_buf_puts(buf, "%3A") : aims_buf_append(buf, s, 1);
			break;
		case ',':
			rc = property ? aims_buf_puts(buf, "%2C") : aims_buf_append(buf, s, 1);
			break;
		default: rc = aims_buf_append(buf, s, 1); break;
		}
	}
	return rc;
}

int aims_validate_format_github(aims_buf *buf, const aims_validation *v, const char *base)
{
	aims_buf path;
	int rc = 0;

	aims_buf_init(&path, 64 * 1024);
	for (size_t i = 0; rc == 0 && i < aims_validate_count(v); i++) {
		const aims_diagnostic *d = aims_validate_at(v, i);

		aims_buf_reset(&path);
		if ((rc = aims_validate_display_path(&path, d->path, base)) < 0)
			break;
		if ((rc = aims_buf_printf(
			     buf, "::%s file=", aims_validate_severity_name(d->severity))) < 0 ||
		    (rc = put_github(buf, path.ptr ? path.ptr : "", true)) < 0 ||
		    (rc = aims_buf_printf(buf, ",line=%u,col=%u,title=", d->pos.line, d->pos.col)) <
			    0 ||
		    (rc = put_github(buf, d->rule, true)) < 0 ||
		    (rc = aims_buf_puts(buf, "::")) < 0 ||
		    (rc = put_github(buf, d->message, false)) < 0)
			break;
		rc = aims_buf_puts(buf, "\n");
	}
	aims_buf_free(&path);
	if (rc == 0)
		rc = aims_validate_format_text(buf, v, base, false);
	return rc;
}

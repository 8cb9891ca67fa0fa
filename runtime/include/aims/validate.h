/*
 * validate.h - manifest validation for CI (SPEC §3): every rule of the
 * loader plus the rules that need more than one file's YAML (duplicate
 * ids, shared triggers, files on disk, JSON blocks in the body...).
 *
 * A validation is a result object: diagnostics (rule id, severity, file,
 * line, column, message) sorted by file, then line, then column, and one
 * verdict per file. The library never prints; the text and GitHub formats
 * are written into a caller's buffer, the JSON and SARIF views live with
 * the other JSON views in json.h.
 */
#ifndef AIMS_VALIDATE_H
#define AIMS_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

#include "aims/core.h"
#include "aims/manifest.h"
#include "aims/registry.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Named limits of validation. */
#define AIMS_VALIDATE_MAX_OUTPUT      (256u << 20) /* formatted text or GitHub output */
#define AIMS_VALIDATE_MIN_TRIGGER     3		   /* shorter triggers are warned about */
#define AIMS_VALIDATE_MAX_DIAGNOSTICS 1000000	   /* beyond this, the rest are dropped */

/* Where SARIF points users for the rules (each rule: this + "#rule-id"),
 * set by the build that knows where its docs are published (CMake
 * -DAIMS_VALIDATE_INFO_URI=https://...). Unset, SARIF carries the rules'
 * help text only, never an address that may not exist. */

/* A rule: its stable id, default severity, one-line summary and a short
 * help text (what triggers it, how to fix it). Static. */
typedef struct aims_validate_rule {
	const char *id;
	aims_severity severity;
	const char *summary;
	const char *help;
} aims_validate_rule;

/* Number of rules, and the i-th rule (NULL past the end). The order is
 * stable: new rules are only ever appended. */
size_t aims_validate_rule_count(void);
const aims_validate_rule *aims_validate_rule_at(size_t i);
/* The rule with this id, or NULL; its index in *out_index when not NULL. */
const aims_validate_rule *aims_validate_rule_find(const char *id, size_t *out_index);

/* One finding. Every string is owned by the validation. */
typedef struct aims_diagnostic {
	const char *rule;	/* stable rule id */
	aims_severity severity; /* after --strict */
	const char *path;	/* the file, as it was named or found */
	aims_pos pos;		/* 1-based line and column, never 0 */
	const char *message;	/* one line, valid UTF-8 */
} aims_diagnostic;

/* The verdict for one file checked. */
typedef struct aims_validate_file {
	const char *path;
	bool manifest; /* had front matter */
	aims_kind kind;
	const char *id; /* NULL when none could be found */
	size_t errors;
	size_t warnings;
} aims_validate_file;

typedef struct aims_validate_options {
	/* Check dependencies.files and aims_files against this directory
	 * (--root DIR). NULL: not checked. */
	const char *root;
	/* Warnings count as errors (--strict). */
	bool strict;
	/* Loader threads for aims_validate_paths (0: one per CPU). */
	unsigned threads;
} aims_validate_options;

typedef struct aims_validation aims_validation;

/*
 * Validates paths (files and/or directories; count 0: the default search
 * path, see aims_registry_add_default). A file named explicitly without
 * front matter is reported (not-a-manifest); in directories such files are
 * skipped. On success *out is a new validation (free with
 * aims_validate_free) - whatever the manifests contain. Fails with
 * AIMS_ENOTFOUND when a path does not exist, AIMS_EIO when a directory
 * cannot be read, AIMS_ENOMEM. opts may be NULL (defaults).
 */
int aims_validate_paths(aims_validation **out, const char *const *paths, size_t count,
			const aims_validate_options *opts, aims_error *err);

/* Validates what reg holds (every file it loaded, its conflicts). reg is
 * only read and may be freed after. Fails only with AIMS_ENOMEM. */
int aims_validate_registry(aims_validation **out, const aims_registry *reg,
			   const aims_validate_options *opts, aims_error *err);

/*
 * Validates one manifest given as text (POST /api/validate). path names it
 * in diagnostics and drives type inference (e.g. "skills/x.md"). Text
 * without front matter is reported as not-a-manifest. Fails with
 * AIMS_ETOOBIG (over AIMS_MANIFEST_MAX_FILE) or AIMS_ENOMEM.
 */
int aims_validate_text(aims_validation **out, const char *path, const char *text, size_t len,
		       const aims_validate_options *opts, aims_error *err);

/* Frees a validation. v may be NULL. */
void aims_validate_free(aims_validation *v);

/* Diagnostics, sorted by file, line, column (then rule id). Borrowed. */
size_t aims_validate_count(const aims_validation *v);
const aims_diagnostic *aims_validate_at(const aims_validation *v, size_t i);

/* Files checked, sorted by path, with their verdicts. Borrowed. */
size_t aims_validate_file_count(const aims_validation *v);
const aims_validate_file *aims_validate_file_at(const aims_validation *v, size_t i);

/* Totals (after --strict). */
size_t aims_validate_errors(const aims_validation *v);
size_t aims_validate_warnings(const aims_validation *v);

/* "error" or "warning". */
const char *aims_validate_severity_name(aims_severity severity);
/* A file's verdict: "ok", "warnings" or "errors". */
const char *aims_validate_verdict(const aims_validate_file *f);

/*
 * Appends path as shown to users: relative to base (normally the working
 * directory) with "./" and "//" removed, "../" when it lies beside base.
 * A relative path is taken as relative to base already. base NULL: path
 * as is. Returns 0, AIMS_ENOMEM or AIMS_ETOOBIG (buf's cap).
 */
int aims_validate_display_path(aims_buf *buf, const char *path, const char *base);

/*
 * Appends the text report: one line per diagnostic,
 * `path:line:col: severity: message [rule-id]`, then a summary line
 * `N errors, M warnings in K files`. Paths as aims_validate_display_path
 * with base; control characters in paths and messages are escaped (\n,
 * \r, \t, \xNN) so every diagnostic stays on one line. color adds ANSI
 * colour to the severities. Returns 0, AIMS_ENOMEM or AIMS_ETOOBIG.
 */
int aims_validate_format_text(aims_buf *buf, const aims_validation *v, const char *base,
			      bool color);

/*
 * Appends GitHub Actions workflow commands, one per diagnostic:
 * `::error file=P,line=L,col=C,title=RULE::MESSAGE` (warnings:
 * `::warning`), escaped as the runner expects (data: % CR LF; properties
 * also : and ,), then the text report (the host caps annotations, the
 * plain lines show everything). Same returns as aims_validate_format_text.
 */
int aims_validate_format_github(aims_buf *buf, const aims_validation *v, const char *base);

#ifdef __cplusplus
}
#endif
#endif

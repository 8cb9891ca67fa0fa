/*
 * json.h - JSON views of library objects, for the edges (the CLI's --json
 * output and the HTTP API). The only public header that exposes cJSON.
 * Every function returns a new cJSON tree owned by the caller (free with
 * cJSON_Delete), or NULL when out of memory.
 */
#ifndef AIMS_JSON_H
#define AIMS_JSON_H

#include <cjson/cJSON.h>

#include "aims/check.h"
#include "aims/dispatch.h"
#include "aims/exec.h"
#include "aims/manifest.h"
#include "aims/router.h"
#include "aims/validate.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What aims_json_manifest includes beyond the summary fields. */
enum {
	AIMS_JSON_FIELDS = 1 << 0,   /* every front-matter key, unknown ones too */
	AIMS_JSON_BODY = 1 << 1,     /* body text, title, sections, code blocks */
	AIMS_JSON_PROBLEMS = 1 << 2, /* load problems */
	AIMS_JSON_FULL = AIMS_JSON_FIELDS | AIMS_JSON_BODY | AIMS_JSON_PROBLEMS
};

/* A YAML node as JSON: plain scalars become numbers, booleans or null as
 * YAML reads them; everything else a string. NULL node gives JSON null. */
cJSON *aims_json_from_yaml(const aims_yaml_node *node);

/* A manifest: id, kind, name, status, priority, description, triggers,
 * path, and what flags ask for. */
cJSON *aims_json_manifest(const aims_manifest *m, unsigned flags);

/* A readiness: {"id", "type", "ready", "builtin", "backend"?, "note"?,
 * "missing": [names], "requirements": [{"kind", "name", "met",
 * "detail"?, "informational"}]}. Never contains an env value. */
cJSON *aims_json_readiness(const aims_readiness *r);

/* A position as {"line": L, "column": C}. */
cJSON *aims_json_pos(aims_pos pos);

/* A JSON string of len bytes of data as valid UTF-8: every byte that does
 * not start a well-formed sequence (and every NUL) becomes U+FFFD. */
cJSON *aims_json_text(const char *data, size_t len);

/* What aims_json_plan adds. */
enum {
	AIMS_JSON_PLAN_EXPLAIN = 1 << 0, /* "explain" text and score parts per candidate */
};

/*
 * A plan: {"utterance", "status", "task" (candidate or null),
 * "alternatives", "hooks", "skills", "candidates" (arrays of candidates),
 * "warnings"}. A candidate: id, kind, name, status, priority, path, score,
 * confidence, trigger, triggerIndex, regex, span {start, end} (bytes),
 * text, slots {name: value}, ready, missing, and "matches" when routed
 * with every match kept. docs/routing.md shows an example.
 */
cJSON *aims_json_plan(const aims_plan *plan, unsigned flags);

/* An execution result (SPEC §7.1): stdout, stderr, exitCode (-1 when
 * the program did not exit by itself), error (string or null), success,
 * durationMs, timedOut, truncated, backend, and limit (the limit that
 * fired, or null). Output bytes that are not UTF-8, and NUL bytes, become
 * U+FFFD. */
cJSON *aims_json_exec_result(const aims_exec_result *r);

/*
 * A dispatch result: {"id", "type", "executor", "ran", "refused",
 * "readiness", "result"} where result is, by executor: code and command:
 * the execution result (code adds "language"); forward: {"url",
 * "method", "status", "body" (parsed JSON, else the text)}; load: the
 * whole definition ("definition", with "html"). result is null when
 * nothing ran (dry run, refusal).
 */
cJSON *aims_json_dispatch_result(const aims_dispatch_result *r);

/* ---- Reading requests -------------------------------------------------- */

#define AIMS_JSON_EXEC_MAX_ENV 64 /* entries of "env" in a request */

/* An execution request read from JSON: req points into the JSON it was
 * read from (which must outlive it) and into the arrays here. */
typedef struct aims_json_exec_input {
	aims_exec_request req;
	const char *packages[AIMS_EXEC_MAX_PACKAGES];
	char *env[AIMS_JSON_EXEC_MAX_ENV + 1];
	bool has_code;
	bool has_language;
} aims_json_exec_input;

/*
 * Reads the fields of an execution request (SPEC §7.1): code, language
 * (default python), packages (checked per ecosystem), timeoutMs, stdin,
 * env, backend; unknown keys are ignored. code_required false lets code
 * be absent (dispatch takes it from the utterance), then has_code says.
 * Fails with AIMS_EINVALID (the message names the field) or AIMS_ETOOBIG
 * (code or stdin over its limit). in is usable for aims_json_exec_input_free
 * in every case.
 */
int aims_json_exec_input_read(aims_json_exec_input *in, const cJSON *body, bool code_required,
			      aims_error *err);

/* Frees what the input owns (the env entries). */
void aims_json_exec_input_free(aims_json_exec_input *in);

/* ---- Validation (validate.h) ------------------------------------------ */

/*
 * Checks that text (len bytes) is exactly one JSON value, blanks around it
 * allowed. Returns 0 when it is, AIMS_EINVALID when not, with the byte
 * offset where parsing stopped in *error_offset (may be NULL). Safe to
 * call from several threads.
 */
int aims_json_check(const char *text, size_t len, size_t *error_offset);

/* A validation: {"diagnostics": [{file, line, column, severity, rule,
 * message}], "files": [{file, manifest, type, id, errors, warnings,
 * verdict}], "errors", "warnings", "fileCount"}. Paths are shown relative
 * to base (see aims_validate_display_path; NULL: as loaded). */
cJSON *aims_json_validation(const aims_validation *v, const char *base);

/* A validation as a SARIF 2.1.0 log: one run, the whole rule table as the
 * driver's rules, one result per diagnostic with a region. URIs are
 * relative to base under uriBaseId %SRCROOT% (base must then be absolute;
 * NULL: paths as loaded, no base). */
cJSON *aims_json_sarif(const aims_validation *v, const char *base);

#ifdef __cplusplus
}
#endif
#endif

/*
 * validate_json.c - validation results as JSON (the CLI's --format json and
 * POST /api/validate) and as SARIF 2.1.0 (code-scanning uploads), plus the
 * JSON syntax check the validator runs on ```json blocks. cJSON stays here,
 * at the edge.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "aims/json.h"

/* cJSON records the failure position in a process-wide variable: parses
 * are serialized so that concurrent validations (the server) never race
 * on it. The blocks are small; the lock is uncontended in the CLI. */
static pthread_mutex_t parse_lock = PTHREAD_MUTEX_INITIALIZER;

int aims_json_check(const char *text, size_t len, size_t *error_offset)
{
	const char *end = NULL;
	cJSON *json;

	pthread_mutex_lock(&parse_lock);
	json = cJSON_ParseWithLengthOpts(text, len, &end, false);
	pthread_mutex_unlock(&parse_lock);
	if (json) {
		size_t at = end ? (size_t)(end - text) : len;

		cJSON_Delete(json);
		/* Anything after the value but blanks is an error too. */
		while (at < len && strchr(" \t\r\n", text[at]) && text[at])
			at++;
		if (at == len)
			return 0;
		if (error_offset)
			*error_offset = at;
		return AIMS_EINVALID;
	}
	if (error_offset)
		*error_offset = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
	return AIMS_EINVALID;
}

/* ---- Plain JSON ---------------------------------------------------------- */

static char *display(const char *path, const char *base)
{
	aims_buf buf;

	aims_buf_init(&buf, 64 * 1024);
	if (aims_validate_display_path(&buf, path, base) < 0) {
		aims_buf_free(&buf);
		return NULL;
	}
	return aims_buf_detach(&buf);
}

cJSON *aims_json_validation(const aims_validation *v, const char *base)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *diags = cJSON_AddArrayToObject(root, "diagnostics");
	cJSON *files = cJSON_AddArrayToObject(root, "files");

	if (!root || !diags || !files)
		goto fail;
	for (size_t i = 0; i < aims_validate_count(v); i++) {
		const aims_diagnostic *d = aims_validate_at(v, i);
		cJSON *item = cJSON_CreateObject();
		char *path = display(d->path, base);

		if (!item || !path || !cJSON_AddStringToObject(item, "file", path) ||
		    !cJSON_AddNumberToObject(item, "line", d->pos.line) ||
		    !cJSON_AddNumberToObject(item, "column", d->pos.col) ||
		    !cJSON_AddStringToObject(item, "severity",
					     aims_validate_severity_name(d->severity)) ||
		    !cJSON_AddStringToObject(item, "rule", d->rule) ||
		    !cJSON_AddStringToObject(item, "message", d->message)) {
			free(path);
			cJSON_Delete(item);
			goto fail;
		}
		free(path);
		cJSON_AddItemToArray(diags, item);
	}
	for (size_t i = 0; i < aims_validate_file_count(v); i++) {
		const aims_validate_file *f = aims_validate_file_at(v, i);
		cJSON *item = cJSON_CreateObject();
		char *path = display(f->path, base);

		if (!item || !path || !cJSON_AddStringToObject(item, "file", path) ||
		    !cJSON_AddBoolToObject(item, "manifest", f->manifest) ||
		    !cJSON_AddStringToObject(item, "type", aims_kind_name(f->kind)) ||
		    !(f->id ? cJSON_AddStringToObject(item, "id", f->id)
			    : cJSON_AddNullToObject(item, "id")) ||
		    !cJSON_AddNumberToObject(item, "errors", (double)f->errors) ||
		    !cJSON_AddNumberToObject(item, "warnings", (double)f->warnings) ||
		    !cJSON_AddStringToObject(item, "verdict", aims_validate_verdict(f))) {
			free(path);
			cJSON_Delete(item);
			goto fail;
		}
		free(path);
		cJSON_AddItemToArray(files, item);
	}
	if (!cJSON_AddNumberToObject(root, "errors", (double)aims_validate_errors(v)) ||
	    !cJSON_AddNumberToObject(root, "warnings", (double)aims_validate_warnings(v)) ||
	    !cJSON_AddNumberToObject(root, "fileCount", (double)aims_validate_file_count(v)))
		goto fail;
	return root;
fail:
	cJSON_Delete(root);
	return NULL;
}

/* ---- SARIF ----------------------------------------------------------------- */

#define SARIF_SCHEMA                                                          \
	"https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/" \
	"sarif-schema-2.1.0.json"
#define SRCROOT "%SRCROOT%"

/* Appends s percent-encoded as a URI path (RFC 3986: unreserved and '/'
 * kept). Returns 0 or a negative AIMS_E*. */
static int put_uri_path(aims_buf *buf, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	int rc = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p && rc == 0; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~/", *p)) {
			rc = aims_buf_append(buf, p, 1);
		} else {
			char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};

			rc = aims_buf_append(buf, esc, 3);
		}
	}
	return rc;
}

static char *uri_of(const char *path, const char *base, bool *relative)
{
	aims_buf shown, uri;
	char *out = NULL;

	aims_buf_init(&shown, 64 * 1024);
	aims_buf_init(&uri, 3 * 64 * 1024 + 16);
	if (aims_validate_display_path(&shown, path, base) < 0)
		goto out;
	*relative = shown.ptr[0] != '/';
	if (!*relative && aims_buf_puts(&uri, "file://") < 0)
		goto out;
	if (put_uri_path(&uri, shown.ptr) < 0)
		goto out;
	out = aims_buf_detach(&uri);
out:
	aims_buf_free(&shown);
	aims_buf_free(&uri);
	return out;
}

static cJSON *text_object(const char *text)
{
	cJSON *obj = cJSON_CreateObject();

	if (obj && !cJSON_AddStringToObject(obj, "text", text)) {
		cJSON_Delete(obj);
		return NULL;
	}
	return obj;
}

static cJSON *sarif_rules(void)
{
	cJSON *rules = cJSON_CreateArray();

	for (size_t i = 0; rules && i < aims_validate_rule_count(); i++) {
		const aims_validate_rule *r = aims_validate_rule_at(i);
		cJSON *rule = cJSON_CreateObject(), *config;
		char *help_uri = NULL;

#ifdef AIMS_VALIDATE_INFO_URI
		{
			aims_buf uri;

			aims_buf_init(&uri, 4096);
			if (aims_buf_printf(&uri, "%s#%s", AIMS_VALIDATE_INFO_URI, r->id) < 0 ||
			    !(help_uri = aims_buf_detach(&uri))) {
				aims_buf_free(&uri);
				cJSON_Delete(rule);
				cJSON_Delete(rules);
				return NULL;
			}
		}
#endif
		if (!rule || !cJSON_AddStringToObject(rule, "id", r->id) ||
		    !cJSON_AddItemToObject(rule, "shortDescription", text_object(r->summary)) ||
		    !cJSON_AddItemToObject(rule, "fullDescription", text_object(r->help)) ||
		    !cJSON_AddItemToObject(rule, "help", text_object(r->help)) ||
		    (help_uri && !cJSON_AddStringToObject(rule, "helpUri", help_uri)) ||
		    !(config = cJSON_AddObjectToObject(rule, "defaultConfiguration")) ||
		    !cJSON_AddStringToObject(config, "level",
					     aims_validate_severity_name(r->severity))) {
			free(help_uri);
			cJSON_Delete(rule);
			cJSON_Delete(rules);
			return NULL;
		}
		free(help_uri);
		cJSON_AddItemToArray(rules, rule);
	}
	return rules;
}

static cJSON *sarif_result(const aims_diagnostic *d, const char *base)
{
	cJSON *result = cJSON_CreateObject(), *locations, *location, *physical, *artifact, *region;
	size_t index = 0;
	bool relative = false;
	char *uri = uri_of(d->path, base, &relative);

	aims_validate_rule_find(d->rule, &index);
	if (!result || !uri || !cJSON_AddStringToObject(result, "ruleId", d->rule) ||
	    !cJSON_AddNumberToObject(result, "ruleIndex", (double)index) ||
	    !cJSON_AddStringToObject(result, "level", aims_validate_severity_name(d->severity)) ||
	    !cJSON_AddItemToObject(result, "message", text_object(d->message)) ||
	    !(locations = cJSON_AddArrayToObject(result, "locations")) ||
	    !(location = cJSON_CreateObject()) || !cJSON_AddItemToArray(locations, location) ||
	    !(physical = cJSON_AddObjectToObject(location, "physicalLocation")) ||
	    !(artifact = cJSON_AddObjectToObject(physical, "artifactLocation")) ||
	    !cJSON_AddStringToObject(artifact, "uri", uri) ||
	    (relative && base && !cJSON_AddStringToObject(artifact, "uriBaseId", SRCROOT)) ||
	    !(region = cJSON_AddObjectToObject(physical, "region")) ||
	    !cJSON_AddNumberToObject(region, "startLine", d->pos.line) ||
	    !cJSON_AddNumberToObject(region, "startColumn", d->pos.col)) {
		free(uri);
		cJSON_Delete(result);
		return NULL;
	}
	free(uri);
	return result;
}

cJSON *aims_json_sarif(const aims_validation *v, const char *base)
{
	cJSON *log = cJSON_CreateObject(), *runs, *run, *tool, *driver, *results;

	if (!log || !cJSON_AddStringToObject(log, "$schema", SARIF_SCHEMA) ||
	    !cJSON_AddStringToObject(log, "version", "2.1.0") ||
	    !(runs = cJSON_AddArrayToObject(log, "runs")) || !(run = cJSON_CreateObject()) ||
	    !cJSON_AddItemToArray(runs, run) || !(tool = cJSON_AddObjectToObject(run, "tool")) ||
	    /* Columns count characters; SARIF's default is UTF-16 units. */
	    !cJSON_AddStringToObject(run, "columnKind", "unicodeCodePoints") ||
	    !(driver = cJSON_AddObjectToObject(tool, "driver")) ||
	    !cJSON_AddStringToObject(driver, "name", "aims") ||
	    !cJSON_AddStringToObject(driver, "version", aims_version()) ||
	    !cJSON_AddItemToObject(driver, "rules", sarif_rules()))
		goto fail;
#ifdef AIMS_VALIDATE_INFO_URI
	if (!cJSON_AddStringToObject(driver, "informationUri", AIMS_VALIDATE_INFO_URI))
		goto fail;
#endif
	if (base && base[0] == '/') {
		cJSON *ids = cJSON_AddObjectToObject(run, "originalUriBaseIds"), *srcroot;
		aims_buf uri;
		char *text;

		aims_buf_init(&uri, 3 * 64 * 1024 + 16);
		if (!ids || !(srcroot = cJSON_AddObjectToObject(ids, SRCROOT)) ||
		    aims_buf_puts(&uri, "file://") < 0 || put_uri_path(&uri, base) < 0 ||
		    (base[strlen(base) - 1] != '/' && aims_buf_puts(&uri, "/") < 0) ||
		    !(text = aims_buf_detach(&uri))) {
			aims_buf_free(&uri);
			goto fail;
		}
		if (!cJSON_AddStringToObject(srcroot, "uri", text)) {
			free(text);
			goto fail;
		}
		free(text);
	}
	if (!(results = cJSON_AddArrayToObject(run, "results")))
		goto fail;
	for (size_t i = 0; i < aims_validate_count(v); i++) {
		cJSON *result = sarif_result(aims_validate_at(v, i), base);

		if (!result)
			goto fail;
		cJSON_AddItemToArray(results, result);
	}
	return log;
fail:
	cJSON_Delete(log);
	return NULL;
}

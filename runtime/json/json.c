/*
 * json.c - JSON views of manifests and YAML trees (cJSON stays at the
 * edges: the CLI's --json and the HTTP API both come through here).
 */
#include <stdlib.h>
#include <string.h>

#include "aims/json.h"

static cJSON *yaml_scalar(const aims_yaml_node *node)
{
	const char *type = aims_yaml_type_name(node);

	if (strcmp(type, "null") == 0)
		return cJSON_CreateNull();
	if (strcmp(type, "boolean") == 0)
		return cJSON_CreateBool(node->value[0] == 't' || node->value[0] == 'T');
	if (strcmp(type, "number") == 0) {
		char *end;
		double d = strtod(node->value, &end);

		/* Hex, octal and "1_000" are numbers to YAML 1.1 but not to
		 * strtod: keep the text rather than guess. */
		if (*end == '\0')
			return cJSON_CreateNumber(d);
	}
	return cJSON_CreateString(node->value);
}

cJSON *aims_json_from_yaml(const aims_yaml_node *node)
{
	cJSON *json;

	if (!node)
		return cJSON_CreateNull();
	if (node->type == AIMS_YAML_SCALAR)
		return yaml_scalar(node);
	json = node->type == AIMS_YAML_SEQUENCE ? cJSON_CreateArray() : cJSON_CreateObject();
	if (!json)
		return NULL;
	for (size_t i = 0; i < node->count; i++) {
		cJSON *item = aims_json_from_yaml(node->items[i]);

		if (!item) {
			cJSON_Delete(json);
			return NULL;
		}
		if (node->type == AIMS_YAML_SEQUENCE) {
			cJSON_AddItemToArray(json, item);
		} else {
			const aims_yaml_node *key = node->keys[i];
			const char *name = key->type == AIMS_YAML_SCALAR ? key->value : "?";

			/* JSON objects keep one value per key: the first, as the
			 * typed model does. The check is linear, so huge maps
			 * (hostile input) skip it rather than go quadratic. */
			if (node->count <= 256 && cJSON_GetObjectItemCaseSensitive(json, name))
				cJSON_Delete(item);
			else
				cJSON_AddItemToObject(json, name, item);
		}
	}
	return json;
}

cJSON *aims_json_pos(aims_pos pos)
{
	cJSON *json = cJSON_CreateObject();

	if (!json)
		return NULL;
	cJSON_AddNumberToObject(json, "line", pos.line);
	cJSON_AddNumberToObject(json, "column", pos.col);
	return json;
}

static void add_string_or_null(cJSON *obj, const char *name, const char *value)
{
	if (value)
		cJSON_AddStringToObject(obj, name, value);
	else
		cJSON_AddNullToObject(obj, name);
}

static cJSON *strlist(const aims_strlist *list)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; arr && i < list->count; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(list->items[i]));
	return arr;
}

static void add_body(cJSON *obj, const aims_manifest *m)
{
	cJSON *sections = cJSON_AddArrayToObject(obj, "sections");
	cJSON *blocks = cJSON_AddArrayToObject(obj, "codeBlocks");

	add_string_or_null(obj, "title", m->title);
	cJSON_AddStringToObject(obj, "body", m->body ? m->body : "");
	for (size_t i = 0; sections && i < m->section_count; i++) {
		const aims_section *s = &m->sections[i];
		cJSON *item = cJSON_CreateObject();
		char *text = strndup(m->body + s->offset, s->len);

		cJSON_AddStringToObject(item, "title", s->title);
		cJSON_AddNumberToObject(item, "line", s->line);
		cJSON_AddStringToObject(item, "markdown", text ? text : "");
		free(text);
		cJSON_AddItemToArray(sections, item);
	}
	for (size_t i = 0; blocks && i < m->code_block_count; i++) {
		const aims_code_block *b = &m->code_blocks[i];
		cJSON *item = cJSON_CreateObject();

		cJSON_AddStringToObject(item, "info", b->info);
		cJSON_AddNumberToObject(item, "line", b->line);
		cJSON_AddStringToObject(item, "code", b->literal);
		cJSON_AddItemToArray(blocks, item);
	}
	cJSON_AddNumberToObject(obj, "tables", (double)m->table_count);
}

static void add_problems(cJSON *obj, const aims_manifest *m)
{
	cJSON *arr = cJSON_AddArrayToObject(obj, "problems");

	for (size_t i = 0; arr && i < m->problem_count; i++) {
		const aims_problem *p = &m->problems[i];
		cJSON *item = cJSON_CreateObject();

		cJSON_AddStringToObject(item, "rule", p->rule);
		cJSON_AddStringToObject(item, "severity",
					p->severity == AIMS_SEVERITY_ERROR ? "error" : "warning");
		cJSON_AddNumberToObject(item, "line", p->pos.line);
		cJSON_AddNumberToObject(item, "column", p->pos.col);
		cJSON_AddStringToObject(item, "message", p->message);
		cJSON_AddItemToArray(arr, item);
	}
}

cJSON *aims_json_manifest(const aims_manifest *m, unsigned flags)
{
	cJSON *obj = cJSON_CreateObject();
	cJSON *exec;

	if (!obj)
		return NULL;
	add_string_or_null(obj, "id", m->id.str);
	cJSON_AddBoolToObject(obj, "idInferred", m->id_inferred);
	cJSON_AddStringToObject(obj, "type", aims_kind_name(m->kind));
	cJSON_AddBoolToObject(obj, "typeInferred", m->kind_inferred);
	add_string_or_null(obj, "name", m->name.str);
	add_string_or_null(obj, "description", m->description.str);
	cJSON_AddStringToObject(obj, "status",
				m->status == AIMS_STATUS_OTHER ? m->status_field.str
							       : aims_status_name(m->status));
	cJSON_AddBoolToObject(obj, "routable", aims_status_routable(m->status));
	cJSON_AddStringToObject(obj, "priority",
				m->priority == AIMS_PRIORITY_OTHER
					? m->priority_field.str
					: aims_priority_name(m->priority));
	cJSON_AddItemToObject(obj, "triggers", strlist(&m->triggers));
	if (m->schedule.str)
		cJSON_AddStringToObject(obj, "schedule", m->schedule.str);
	if (m->execution) {
		exec = cJSON_AddObjectToObject(obj, "execution");
		if (exec) {
			add_string_or_null(exec, "target", m->exec_target.str);
			add_string_or_null(exec, "route", m->exec_route.str);
			add_string_or_null(exec, "command", m->exec_command.str);
			add_string_or_null(exec, "method", m->exec_method.str);
			if (m->exec_body)
				cJSON_AddItemToObject(exec, "body",
						      aims_json_from_yaml(m->exec_body));
		}
	}
	if (m->kind == AIMS_KIND_TOOL) {
		add_string_or_null(obj, "category", m->category.str);
		add_string_or_null(obj, "provider", m->provider.str);
		add_string_or_null(obj, "docsUrl", m->docs_url.str);
		cJSON_AddItemToObject(obj, "envVars", strlist(&m->env_vars));
	}
	cJSON_AddStringToObject(obj, "path", m->path);
	if (flags & AIMS_JSON_FIELDS)
		cJSON_AddItemToObject(obj, "fields", aims_json_from_yaml(m->root));
	if (flags & AIMS_JSON_BODY)
		add_body(obj, m);
	if (flags & AIMS_JSON_PROBLEMS)
		add_problems(obj, m);
	return obj;
}

/* A copy of data as valid UTF-8 without NUL bytes: every byte that does
 * not start a well-formed sequence (and every NUL) becomes U+FFFD. */
static char *utf8_clean(const char *data, size_t len)
{
	const unsigned char *s = (const unsigned char *)data;
	char *out = malloc(len * 3 + 1), *o = out;
	size_t i = 0;

	if (!out)
		return NULL;
	while (i < len) {
		unsigned char c = s[i];
		size_t n = c < 0x80		? 1
			   : (c & 0xe0) == 0xc0 ? 2
			   : (c & 0xf0) == 0xe0 ? 3
			   : (c & 0xf8) == 0xf0 ? 4
						: 0;
		bool ok = n > 0 && c != 0 && i + n <= len;

		for (size_t k = 1; ok && k < n; k++)
			ok = (s[i + k] & 0xc0) == 0x80;
		if (ok && n == 2)
			ok = c >= 0xc2; /* overlong */
		if (ok && n == 3) {
			unsigned cp = ((c & 0x0fu) << 12) | ((s[i + 1] & 0x3fu) << 6) |
				      (s[i + 2] & 0x3fu);

			ok = cp >= 0x800 && (cp < 0xd800 || cp > 0xdfff);
		}
		if (ok && n == 4) {
			unsigned cp = ((c & 0x07u) << 18) | ((s[i + 1] & 0x3fu) << 12) |
				      ((s[i + 2] & 0x3fu) << 6) | (s[i + 3] & 0x3fu);

			ok = cp >= 0x10000 && cp <= 0x10ffff;
		}
		if (ok) {
			memcpy(o, s + i, n);
			o += n;
			i += n;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	*o = '\0';
	return out;
}

cJSON *aims_json_text(const char *data, size_t len)
{
	char *clean = utf8_clean(data ? data : "", data ? len : 0);
	cJSON *json = clean ? cJSON_CreateString(clean) : NULL;

	free(clean);
	return json;
}

static void add_output(cJSON *obj, const char *name, const char *data, size_t len)
{
	cJSON *json = aims_json_text(data, len);

	if (json)
		cJSON_AddItemToObject(obj, name, json);
}

cJSON *aims_json_exec_result(const aims_exec_result *r)
{
	cJSON *obj = cJSON_CreateObject();

	if (!obj)
		return NULL;
	add_output(obj, "stdout", r->stdout_data, r->stdout_len);
	add_output(obj, "stderr", r->stderr_data, r->stderr_len);
	cJSON_AddNumberToObject(obj, "exitCode", r->exit_code);
	/* Messages may carry what a program or a server wrote, cut anywhere. */
	if (r->error)
		add_output(obj, "error", r->error, strlen(r->error));
	else
		cJSON_AddNullToObject(obj, "error");
	cJSON_AddBoolToObject(obj, "success", r->success);
	cJSON_AddNumberToObject(obj, "durationMs", (double)r->duration_ms);
	cJSON_AddBoolToObject(obj, "timedOut", r->timed_out);
	cJSON_AddBoolToObject(obj, "truncated", r->truncated);
	cJSON_AddStringToObject(obj, "backend", aims_backend_name(r->backend));
	add_string_or_null(obj, "limit",
			   r->limit == AIMS_LIMIT_NONE ? NULL : aims_limit_name(r->limit));
	if (r->layer) {
		cJSON *packages = cJSON_AddObjectToObject(obj, "packages");

		if (packages) {
			cJSON_AddStringToObject(packages, "layer", r->layer);
			cJSON_AddBoolToObject(packages, "installed", r->packages_installed);
			cJSON_AddNumberToObject(packages, "installMs", (double)r->install_ms);
		}
		if (!packages || cJSON_GetArraySize(packages) != 3) {
			cJSON_Delete(obj);
			return NULL;
		}
	}
	if (cJSON_GetArraySize(obj) != (r->layer ? 11 : 10)) { /* an allocation failed */
		cJSON_Delete(obj);
		return NULL;
	}
	return obj;
}

cJSON *aims_json_readiness(const aims_readiness *r)
{
	cJSON *obj = cJSON_CreateObject();
	cJSON *missing, *reqs;

	if (!obj)
		return NULL;
	add_string_or_null(obj, "id", r->manifest->id.str);
	cJSON_AddStringToObject(obj, "type", aims_kind_name(r->manifest->kind));
	cJSON_AddBoolToObject(obj, "ready", r->ready);
	cJSON_AddBoolToObject(obj, "builtin", r->builtin);
	if (r->builtin)
		cJSON_AddStringToObject(obj, "backend", aims_backend_name(r->backend));
	if (r->note)
		cJSON_AddStringToObject(obj, "note", r->note);
	missing = cJSON_AddArrayToObject(obj, "missing");
	reqs = cJSON_AddArrayToObject(obj, "requirements");
	for (size_t i = 0; missing && reqs && i < r->count; i++) {
		const aims_requirement *q = &r->items[i];
		cJSON *item = cJSON_CreateObject();

		if (!q->met && !q->informational)
			cJSON_AddItemToArray(missing, cJSON_CreateString(q->name));
		cJSON_AddStringToObject(item, "kind", aims_req_kind_name(q->kind));
		cJSON_AddStringToObject(item, "name", q->name);
		cJSON_AddBoolToObject(item, "met", q->met);
		if (q->detail)
			cJSON_AddStringToObject(item, "detail", q->detail);
		cJSON_AddBoolToObject(item, "informational", q->informational);
		cJSON_AddItemToArray(reqs, item);
	}
	return obj;
}

cJSON *aims_json_dispatch_result(const aims_dispatch_result *r)
{
	cJSON *obj = cJSON_CreateObject(), *result = NULL;

	if (!obj)
		return NULL;
	add_string_or_null(obj, "id", r->manifest->id.str);
	cJSON_AddStringToObject(obj, "type", aims_kind_name(r->manifest->kind));
	cJSON_AddStringToObject(obj, "executor", aims_executor_name(r->executor));
	cJSON_AddBoolToObject(obj, "ran", r->ran);
	cJSON_AddBoolToObject(obj, "refused", r->refused);
	if (r->readiness)
		cJSON_AddItemToObject(obj, "readiness", aims_json_readiness(r->readiness));
	if (r->code)
		cJSON_AddStringToObject(obj, "language", aims_language_name(r->language));
	switch (r->executor) {
	case AIMS_EXECUTOR_CODE:
	case AIMS_EXECUTOR_COMMAND:
		if (r->exec)
			result = aims_json_exec_result(r->exec);
		break;
	case AIMS_EXECUTOR_FORWARD:
		if (r->url)
			cJSON_AddStringToObject(obj, "url", r->url);
		if (r->method)
			cJSON_AddStringToObject(obj, "method", r->method);
		if (r->ran && (result = cJSON_CreateObject())) {
			cJSON *body = r->upstream_json ? cJSON_ParseWithLength(r->upstream_body,
									       r->upstream_len)
						       : NULL;

			cJSON_AddNumberToObject(result, "status", (double)r->upstream_status);
			if (body)
				cJSON_AddItemToObject(result, "body", body);
			else
				add_output(result, "body", r->upstream_body, r->upstream_len);
		}
		break;
	case AIMS_EXECUTOR_LOAD:
		if (r->ran && (result = cJSON_CreateObject())) {
			char *html = NULL;

			cJSON_AddItemToObject(result, "definition",
					      aims_json_manifest(r->manifest, AIMS_JSON_FULL));
			if (aims_manifest_body_html(&html, r->manifest, NULL) == 0) {
				cJSON_AddStringToObject(result, "html", html);
				free(html);
			}
		}
		break;
	}
	if (result)
		cJSON_AddItemToObject(obj, "result", result);
	else
		cJSON_AddNullToObject(obj, "result");
	return obj;
}

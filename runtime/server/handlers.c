/*
 * handlers.c - the endpoints of SPEC §8: each turns a request into a
 * reply with the library's calls and the JSON views of runtime/json/.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aims/check.h"
#include "aims/dispatch.h"
#include "aims/json.h"
#include "aims/validate.h"
#include "server/mhd.h"
#include "server/server_int.h"

/* ---- JSON bodies ----------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (0 when invalid), per RFC 3629:
 * no overlongs, no surrogates, nothing above U+10FFFF. */
static size_t utf8_sequence(const unsigned char *s, size_t left)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return left >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c >= 0xE0 && c <= 0xEF) {
		unsigned char lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;

		return left >= 3 && s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80 ? 3 : 0;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		unsigned char lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;

		return left >= 4 && s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80 &&
				       (s[3] & 0xC0) == 0x80
			       ? 4
			       : 0;
	}
	return 0;
}

/* Finds a problem cJSON would not report: invalid UTF-8, a raw NUL, or a
 * \u0000 escape (C strings would silently cut the value there). Returns
 * the byte offset of the problem, or -1. */
static long find_bad_text(const char *body, size_t len, const char **what)
{
	const unsigned char *s = (const unsigned char *)body;
	bool in_string = false;

	for (size_t i = 0; i < len;) {
		size_t n;

		if (s[i] == 0) {
			*what = "a NUL byte";
			return (long)i;
		}
		if (in_string && s[i] == '\\') {
			if (i + 5 < len && s[i + 1] == 'u' && memcmp(s + i + 2, "0000", 4) == 0) {
				*what = "a NUL character (\\u0000)";
				return (long)i;
			}
			i += 2; /* skip the escaped character */
			continue;
		}
		if (s[i] == '"')
			in_string = !in_string;
		if (!(n = utf8_sequence(s + i, len - i))) {
			*what = "invalid UTF-8";
			return (long)i;
		}
		i += n;
	}
	return -1;
}

cJSON *parse_json_object(const request *req, reply *r)
{
	const char *end = NULL, *what = NULL;
	long bad = find_bad_text(req->body, req->body_len, &what);
	cJSON *json;

	if (bad >= 0) {
		reply_error(r, 400, "the body contains %s at byte %ld", what, bad);
		return NULL;
	}
	if (req->body_len == 0) {
		reply_error(r, 400, "the body is empty: a JSON object is expected");
		return NULL;
	}
	json = cJSON_ParseWithLengthOpts(req->body, req->body_len, &end, 0);
	if (!json) {
		size_t at = end && end >= req->body ? (size_t)(end - req->body) : 0;

		reply_error(r, 400, "malformed JSON at byte %zu (or nested too deep)", at);
		return NULL;
	}
	while (end && (size_t)(end - req->body) < req->body_len && strchr(" \t\r\n", *end))
		end++;
	if (end && (size_t)(end - req->body) < req->body_len) {
		cJSON_Delete(json);
		reply_error(r, 400, "malformed JSON: unexpected data after the value at byte %zu",
			    (size_t)(end - req->body));
		return NULL;
	}
	if (!cJSON_IsObject(json)) {
		cJSON_Delete(json);
		reply_error(r, 400, "the body must be a JSON object");
		return NULL;
	}
	return json;
}

/* ---- Simple endpoints ------------------------------------------------------ */

int handle_healthz(aims_server *srv, const request *req, reply *r)
{
	(void)req;
	r->status = 200;
	if (!(r->json = cJSON_CreateObject()))
		return AIMS_ENOMEM;
	cJSON_AddStringToObject(r->json, "status", "ok");
	cJSON_AddStringToObject(r->json, "version", aims_version());
	cJSON_AddNumberToObject(r->json, "definitions", (double)aims_registry_count(srv->reg));
	return 0;
}

int handle_metrics(aims_server *srv, const request *req, reply *r)
{
	(void)req;
	r->status = 200;
	r->content_type = "text/plain; version=0.0.4; charset=utf-8";
	return (r->text = metrics_render(&srv->metrics)) ? 0 : AIMS_ENOMEM;
}

/* A definition with its readiness. */
static cJSON *definition_json(aims_server *srv, const aims_manifest *m, unsigned flags)
{
	aims_check_options opts = {srv->cfg.root};
	aims_readiness *ready = NULL;
	cJSON *obj = aims_json_manifest(m, flags);

	if (obj && aims_check_definition(&ready, m, &opts, NULL) == 0) {
		cJSON_AddItemToObject(obj, "readiness", aims_json_readiness(ready));
		aims_readiness_free(ready);
	}
	return obj;
}

static int list_definitions(aims_server *srv, const request *req, reply *r, bool tools_only)
{
	const char *type =
		MHD_lookup_connection_value(req->connection, MHD_GET_ARGUMENT_KIND, "type");
	const char *status =
		MHD_lookup_connection_value(req->connection, MHD_GET_ARGUMENT_KIND, "status");
	aims_kind kind = tools_only ? AIMS_KIND_TOOL : AIMS_KIND_UNKNOWN;
	cJSON *items;

	if (!tools_only && type && (kind = aims_kind_parse(type)) == AIMS_KIND_UNKNOWN)
		return reply_error(r, 400,
				   "type must be one of task, skill, hook, tool, integration, "
				   "reference");
	if (status && aims_status_parse(status) == AIMS_STATUS_OTHER)
		return reply_error(r, 400,
				   "status must be one of active, beta, planned, disabled, "
				   "deprecated");
	if (!(r->json = cJSON_CreateObject()) ||
	    !(items = cJSON_AddArrayToObject(r->json, tools_only ? "tools" : "skills")))
		return AIMS_ENOMEM;
	for (size_t i = 0; i < aims_registry_count(srv->reg); i++) {
		const aims_manifest *m = aims_registry_at(srv->reg, i);
		cJSON *item;

		if (kind != AIMS_KIND_UNKNOWN && m->kind != kind)
			continue;
		if (status && strcasecmp(aims_status_name(m->status), status) != 0)
			continue;
		if (!(item = definition_json(srv, m, 0)))
			return AIMS_ENOMEM;
		cJSON_AddItemToArray(items, item);
	}
	cJSON_AddNumberToObject(r->json, "count", cJSON_GetArraySize(items));
	r->status = 200;
	return 0;
}

int handle_skills(aims_server *srv, const request *req, reply *r)
{
	return list_definitions(srv, req, r, false);
}

int handle_tools(aims_server *srv, const request *req, reply *r)
{
	return list_definitions(srv, req, r, true);
}

int handle_skill(aims_server *srv, const request *req, reply *r)
{
	const char *id = req->path + strlen("/api/skills/");
	const char *type =
		MHD_lookup_connection_value(req->connection, MHD_GET_ARGUMENT_KIND, "type");
	const aims_manifest *m;
	char *html = NULL;

	if (type && aims_kind_parse(type) == AIMS_KIND_UNKNOWN)
		return reply_error(r, 400,
				   "type must be one of task, skill, hook, tool, integration, "
				   "reference");
	m = type ? aims_registry_find(srv->reg, aims_kind_parse(type), id)
		 : aims_registry_find_id(srv->reg, id);
	if (!m)
		return reply_error(r, 404, "no definition with id '%.200s'", id);
	if (!(r->json = definition_json(srv, m, AIMS_JSON_FULL)))
		return AIMS_ENOMEM;
	if (aims_manifest_body_html(&html, m, NULL) == 0) {
		cJSON_AddStringToObject(r->json, "html", html);
		free(html);
	}
	r->status = 200;
	return 0;
}

/* ---- POST /api/code/execute ----------------------------------------------- */

/* An error of the execute endpoint keeps the seed's five keys. */
static void add_seed_keys(cJSON *json)
{
	if (!json)
		return;
	cJSON_AddStringToObject(json, "stdout", "");
	cJSON_AddStringToObject(json, "stderr", "");
	cJSON_AddNullToObject(json, "exitCode");
	cJSON_AddFalseToObject(json, "success");
}

static int execute_error(reply *r, unsigned status, const char *message)
{
	reply_error(r, status, "%s", message);
	add_seed_keys(r->json);
	return r->json ? 0 : AIMS_ENOMEM;
}

/* A run canceled by the server's shutdown, not by its client: 503. */
static bool canceled_by_shutdown(aims_server *srv, int rc)
{
	return rc == AIMS_ECANCELED && gate_closing(&srv->gate);
}

static unsigned status_for(int rc)
{
	switch (rc) {
	case AIMS_EINVALID: return 400;
	case AIMS_ETOOBIG: return 413;
	case AIMS_EBUSY: return 429;
	case AIMS_EAUTH:
	case AIMS_EUPSTREAM: return 502;
	case AIMS_ETIMEOUT: return 504;
	case AIMS_EUNSUPPORTED:
	case AIMS_ENOTREADY: return 503;
	case AIMS_ECANCELED: return 499;
	case AIMS_EINSTALL: return 424; /* a package failed to install */
	}
	return 500;
}

int handle_execute(aims_server *srv, const request *req, reply *r)
{
	aims_json_exec_input in;
	aims_exec_result *result = NULL;
	execution *slot = NULL;
	aims_error err;
	cJSON *body;
	int rc;

	aims_error_clear(&err);
	if (!(body = parse_json_object(req, r))) {
		add_seed_keys(r->json);
		return 0;
	}
	if ((rc = aims_json_exec_input_read(&in, body, true, &err)) < 0) {
		execute_error(r, status_for(rc), err.message);
		goto out;
	}
	switch (gate_enter(&slot, &srv->gate, &srv->metrics, req->socket_fd, &err)) {
	case GATE_RUN: break;
	case GATE_FULL:
		execute_error(r, 429,
			      "too many executions: every slot and the queue are taken; "
			      "retry later");
		r->retry_after = 1;
		goto out;
	case GATE_CLOSED: execute_error(r, 503, "the server is shutting down"); goto out;
	case GATE_GONE: execute_error(r, 499, "the client went away while queued"); goto out;
	default: execute_error(r, 500, err.message); goto out;
	}
	in.req.cancel_fd = execution_cancel_fd(slot);
	rc = aims_exec_run(&result, &in.req, &err);
	metrics_execution(&srv->metrics, result, rc);
	gate_leave(&srv->gate, &srv->metrics, slot);
	if (canceled_by_shutdown(srv, rc)) {
		execute_error(r, 503, "the server is shutting down: the execution was canceled");
		goto out;
	}
	if (rc < 0) {
		execute_error(r, status_for(rc), err.message);
		goto out;
	}
	r->status = 200;
	if (!(r->json = aims_json_exec_result(result)))
		execute_error(r, 500, "out of memory");
out:
	aims_json_exec_input_free(&in);
	aims_exec_result_free(result);
	cJSON_Delete(body);
	return 0;
}

/* ---- POST /api/route, POST /api/dispatch ----------------------------------- */

/* An optional boolean field; fills r with 400 and returns -1 when it is
 * there but not a boolean. */
static int get_bool(bool *out, const cJSON *body, const char *name, reply *r)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(body, name);

	*out = false;
	if (!item || cJSON_IsNull(item))
		return 0;
	if (!cJSON_IsBool(item)) {
		reply_error(r, 400, "%s must be true or false", name);
		return -1;
	}
	*out = cJSON_IsTrue(item);
	return 0;
}

/* Routes the body's "utterance" into *out with readiness filled. Fills r
 * and returns -1 on a bad request or failure. */
static int route_body(aims_plan **out, aims_server *srv, const cJSON *body, bool required, reply *r)
{
	const cJSON *utterance = cJSON_GetObjectItemCaseSensitive(body, "utterance");
	aims_check_options check = {srv->cfg.root};
	bool inactive, all;
	aims_error err;
	int rc;

	*out = NULL;
	if (!utterance || cJSON_IsNull(utterance)) {
		if (required)
			reply_error(r, 400, "utterance is required");
		return required ? -1 : 0;
	}
	if (!cJSON_IsString(utterance)) {
		reply_error(r, 400, "utterance must be a string");
		return -1;
	}
	if (get_bool(&inactive, body, "includeInactive", r) < 0 ||
	    get_bool(&all, body, "all", r) < 0)
		return -1;
	aims_error_clear(&err);
	rc = aims_router_route(
		out, srv->router, utterance->valuestring, strlen(utterance->valuestring),
		(inactive ? AIMS_ROUTE_INCLUDE_INACTIVE : 0) | (all ? AIMS_ROUTE_ALL_MATCHES : 0),
		&err);
	if (rc == 0)
		rc = aims_check_plan(*out, &check, &err);
	if (rc < 0) {
		aims_plan_free(*out);
		*out = NULL;
		reply_error(r, status_for(rc), "%s", err.message);
		return -1;
	}
	return 0;
}

int handle_route(aims_server *srv, const request *req, reply *r)
{
	cJSON *body = parse_json_object(req, r);
	aims_plan *plan = NULL;
	bool explain;

	if (!body)
		return 0;
	if (get_bool(&explain, body, "explain", r) == 0 &&
	    route_body(&plan, srv, body, true, r) == 0) {
		r->status = 200;
		if (!(r->json = aims_json_plan(plan, explain ? AIMS_JSON_PLAN_EXPLAIN : 0)))
			reply_error(r, 500, "out of memory");
	}
	aims_plan_free(plan);
	cJSON_Delete(body);
	return 0;
}

/* Runs a dispatch, through the gate when it starts a sandbox. */
static int gated_dispatch(aims_server *srv, const request *req, aims_dispatch_result **out,
			  const aims_manifest *m, const aims_plan *plan, const char *utterance,
			  const char *input, bool dry_run, aims_error *err, reply *r)
{
	aims_dispatch_options opts;
	aims_executor executor = aims_dispatch_executor_for(m);
	bool sandboxed =
		!dry_run && (executor == AIMS_EXECUTOR_CODE || executor == AIMS_EXECUTOR_COMMAND);
	execution *slot = NULL;
	int rc;

	aims_dispatch_options_init(&opts);
	opts.root = srv->cfg.root;
	opts.dry_run = dry_run;
	if (!sandboxed) {
		/* No slot, but still canceled when the client leaves or the
		 * server drains (a forward may wait on another service). */
		switch (gate_watch(&slot, &srv->gate, req->socket_fd, err)) {
		case GATE_RUN: break;
		case GATE_CLOSED: reply_error(r, 503, "the server is shutting down"); return -1;
		default: reply_error(r, 500, "%s", err->message); return -1;
		}
		opts.cancel_fd = execution_cancel_fd(slot);
	} else {
		switch (gate_enter(&slot, &srv->gate, &srv->metrics, req->socket_fd, err)) {
		case GATE_RUN: break;
		case GATE_FULL:
			reply_error(r, 429,
				    "too many executions: every slot and the queue are taken; "
				    "retry later");
			r->retry_after = 1;
			return -1;
		case GATE_CLOSED: reply_error(r, 503, "the server is shutting down"); return -1;
		case GATE_GONE: reply_error(r, 499, "the client went away while queued"); return -1;
		default: reply_error(r, 500, "%s", err->message); return -1;
		}
		opts.cancel_fd = execution_cancel_fd(slot);
	}
	if (plan)
		rc = aims_dispatch_plan(out, plan, input, input ? strlen(input) : 0, &opts, err);
	else
		rc = aims_dispatch_run(out, m, NULL, utterance, input, input ? strlen(input) : 0,
				       &opts, err);
	if (sandboxed)
		metrics_execution(&srv->metrics, *out && rc == 0 ? (*out)->exec : NULL, rc);
	gate_leave(&srv->gate, &srv->metrics, slot);
	return rc;
}

int handle_dispatch(aims_server *srv, const request *req, reply *r)
{
	cJSON *body = parse_json_object(req, r);
	const cJSON *id, *input, *utterance;
	const aims_manifest *m = NULL;
	aims_plan *plan = NULL;
	aims_dispatch_result *result = NULL;
	char *input_text = NULL;
	aims_error err;
	bool dry_run;
	int rc;

	if (!body)
		return 0;
	aims_error_clear(&err);
	id = cJSON_GetObjectItemCaseSensitive(body, "id");
	input = cJSON_GetObjectItemCaseSensitive(body, "input");
	utterance = cJSON_GetObjectItemCaseSensitive(body, "utterance");
	if (get_bool(&dry_run, body, "dryRun", r) < 0)
		goto out;
	if (id && !cJSON_IsNull(id) && !cJSON_IsString(id)) {
		reply_error(r, 400, "id must be a string");
		goto out;
	}
	if (input && !cJSON_IsNull(input) && !cJSON_IsObject(input)) {
		reply_error(r, 400, "input must be an object");
		goto out;
	}
	if (utterance && !cJSON_IsNull(utterance) && !cJSON_IsString(utterance)) {
		reply_error(r, 400, "utterance must be a string");
		goto out;
	}
	if (!cJSON_IsString(id) && !cJSON_IsString(utterance)) {
		reply_error(r, 400, "give utterance, or id (with an optional input)");
		goto out;
	}
	if (cJSON_IsObject(input) && !(input_text = cJSON_PrintUnformatted(input))) {
		reply_error(r, 500, "out of memory");
		goto out;
	}
	if (cJSON_IsString(id)) {
		if (!(m = aims_registry_find_id(srv->reg, id->valuestring))) {
			reply_error(r, 404, "no definition with id '%.200s'", id->valuestring);
			goto out;
		}
	} else {
		if (route_body(&plan, srv, body, true, r) < 0)
			goto out;
		if (!plan->task && !plan->skill_count) {
			reply_error(r, 404, "no task or skill matches this request");
			cJSON_AddItemToObject(r->json, "plan", aims_json_plan(plan, 0));
			goto out;
		}
		m = plan->task ? plan->task->manifest : plan->skills[0]->manifest;
	}
	rc = gated_dispatch(srv, req, &result, m, plan,
			    cJSON_IsString(utterance) ? utterance->valuestring : NULL, input_text,
			    dry_run, &err, r);
	if (rc < 0 && r->json)
		goto out; /* the gate refused: r is filled */
	if (rc < 0) {
		/* ENOTFOUND here is configuration (AIMS_API_BASE unset); a
		 * cancel by the server's shutdown is no client's doing. */
		reply_error(r,
			    rc == AIMS_ECONFLICT ? 409
			    : rc == AIMS_ENOTFOUND || canceled_by_shutdown(srv, rc)
				    ? 503
				    : status_for(rc),
			    "%s", err.message);
	} else if (result->refused) {
		reply_error(r, 424, "%s is not ready: its requirements are not met (see readiness)",
			    m->id.str);
	} else {
		r->status = 200;
		if (!(r->json = cJSON_CreateObject())) {
			reply_error(r, 500, "out of memory");
			goto out;
		}
	}
	if (plan)
		cJSON_AddItemToObject(r->json, "plan", aims_json_plan(plan, 0));
	if (result)
		cJSON_AddItemToObject(r->json, "result", aims_json_dispatch_result(result));
out:
	aims_dispatch_result_free(result);
	aims_plan_free(plan);
	free(input_text);
	cJSON_Delete(body);
	return 0;
}

/* ---- POST /api/validate ---------------------------------------------------- */

int handle_validate(aims_server *srv, const request *req, reply *r)
{
	cJSON *body = parse_json_object(req, r);
	const cJSON *text, *path;
	aims_validate_options opts = {0};
	aims_validation *v = NULL;
	aims_error err;
	bool strict;
	int rc;

	if (!body)
		return 0;
	text = cJSON_GetObjectItemCaseSensitive(body, "text");
	path = cJSON_GetObjectItemCaseSensitive(body, "path");
	if (!cJSON_IsString(text)) {
		reply_error(r, 400, text ? "text must be a string" : "text is required");
		goto out;
	}
	if (path && !cJSON_IsNull(path) &&
	    (!cJSON_IsString(path) || !*path->valuestring || strlen(path->valuestring) > 1024)) {
		reply_error(r, 400, "path must be a file name like skills/x.md");
		goto out;
	}
	if (get_bool(&strict, body, "strict", r) < 0)
		goto out;
	opts.strict = strict;
	opts.threads = 1;
	aims_error_clear(&err);
	rc = aims_validate_text(&v, cJSON_IsString(path) ? path->valuestring : "manifest.md",
				text->valuestring, strlen(text->valuestring), &opts, &err);
	if (rc < 0) {
		reply_error(r, status_for(rc), "%s", err.message);
		goto out;
	}
	if (!(r->json = aims_json_validation(v, NULL))) {
		reply_error(r, 500, "out of memory");
		goto out;
	}
	cJSON_AddBoolToObject(r->json, "ok", aims_validate_errors(v) == 0);
	r->status = 200;
out:
	aims_validate_free(v);
	cJSON_Delete(body);
	(void)srv;
	return 0;
}

/*
 * dispatch.c - from a definition (or a plan's task) and an input to a
 * result (SPEC §6): check the requirements, pick the executor, run it.
 *
 * The input is a JSON document, and so are a forward's body and reply:
 * cJSON is used here for them (the one place besides the edges), with the
 * input size bounded before parsing.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "aims/dispatch.h"
#include "aims/json.h"
#include "core/http_client.h"

#define SLOT_ENV_MAX 32 /* AIMS_SLOT_* entries given to a command */

void aims_dispatch_options_init(aims_dispatch_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->cancel_fd = -1;
}

const char *aims_executor_name(aims_executor executor)
{
	switch (executor) {
	case AIMS_EXECUTOR_CODE: return "code";
	case AIMS_EXECUTOR_FORWARD: return "forward";
	case AIMS_EXECUTOR_COMMAND: return "command";
	case AIMS_EXECUTOR_LOAD: return "load";
	}
	return "unknown";
}

aims_executor aims_dispatch_executor_for(const aims_manifest *m)
{
	const char *target = m->exec_target.str;

	if (m->kind != AIMS_KIND_TASK)
		return AIMS_EXECUTOR_LOAD;
	if (aims_check_is_builtin(m))
		return AIMS_EXECUTOR_CODE;
	if (target && strcasecmp(target, "api") == 0 && m->exec_route.str && *m->exec_route.str)
		return AIMS_EXECUTOR_FORWARD;
	if ((target && strcasecmp(target, "command") == 0) ||
	    (m->exec_command.str && *m->exec_command.str))
		return m->exec_command.str && *m->exec_command.str ? AIMS_EXECUTOR_COMMAND
								   : AIMS_EXECUTOR_LOAD;
	return AIMS_EXECUTOR_LOAD;
}

void aims_dispatch_result_free(aims_dispatch_result *r)
{
	if (!r)
		return;
	aims_readiness_free(r->readiness);
	aims_exec_result_free(r->exec);
	free(r->code);
	free(r->url);
	free(r->upstream_body);
	free(r);
}

/* ---- Code from an utterance ---------------------------------------------- */

/* The language a word names, or 0. */
static aims_language language_word(const char *word, size_t len)
{
	static const struct {
		const char *word;
		aims_language lang;
	} words[] = {
		{"python", AIMS_LANG_PYTHON}, {"python3", AIMS_LANG_PYTHON},
		{"py", AIMS_LANG_PYTHON},     {"node", AIMS_LANG_NODE},
		{"nodejs", AIMS_LANG_NODE},   {"javascript", AIMS_LANG_NODE},
		{"js", AIMS_LANG_NODE},	      {"bash", AIMS_LANG_BASH},
		{"shell", AIMS_LANG_BASH},    {"sh", AIMS_LANG_BASH},
	};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strlen(words[i].word) == len && strncasecmp(word, words[i].word, len) == 0)
			return words[i].lang;
	return 0;
}

/* The first language word in text, or 0. */
static aims_language language_in(const char *text)
{
	while (text && *text) {
		size_t len;

		while (*text && !isalnum((unsigned char)*text))
			text++;
		len = 0;
		while (isalnum((unsigned char)text[len]))
			len++;
		if (len) {
			aims_language lang = language_word(text, len);

			if (lang)
				return lang;
		}
		text += len;
	}
	return 0;
}

/* Finds a fenced block: sets *start and *len to its content, *info_lang. */
static bool find_fence(const char *text, const char **start, size_t *len, aims_language *info_lang)
{
	const char *line = text;

	while (line && *line) {
		const char *p = line + strspn(line, " \t");
		const char *eol = strchr(p, '\n');

		if (strncmp(p, "```", 3) == 0 || strncmp(p, "~~~", 3) == 0) {
			char fence = *p;
			size_t width = strspn(p, fence == '`' ? "`" : "~");
			const char *info = p + width, *body, *close;

			/* a one-line fence: ```code``` */
			if (fence == '`' && (close = strstr(info, "```")) &&
			    (!eol || close < eol)) {
				*start = info;
				*len = (size_t)(close - info);
				return *len > 0;
			}
			*info_lang = language_word(info + strspn(info, " \t"),
						   strcspn(info + strspn(info, " \t"), " \t\r\n{"));
			body = eol ? eol + 1 : p + strlen(p);
			for (close = body; *close;) {
				const char *q = close + strspn(close, " \t");
				const char *next = strchr(close, '\n');

				if (strspn(q, fence == '`' ? "`" : "~") >= width)
					break;
				close = next ? next + 1 : close + strlen(close);
			}
			*start = body;
			*len = (size_t)(close - body);
			return true;
		}
		/* ```code``` inside a line of prose: searched within the line
		 * only, so a long text costs linear time */
		{
			size_t line_len = eol ? (size_t)(eol - p) : strlen(p);
			const char *open = memmem(p, line_len, "```", 3), *close = NULL;

			if (open)
				close = memmem(open + 3, line_len - (size_t)(open + 3 - p), "```",
					       3);
			if (open && close && close > open + 3) {
				*start = open + 3;
				*len = (size_t)(close - open - 3);
				return true;
			}
		}
		line = eol ? eol + 1 : NULL;
	}
	return false;
}

int aims_dispatch_find_code(char **out_code, aims_language *out_lang, const char *utterance,
			    size_t after_trigger, const char *trigger, aims_error *err)
{
	const char *start = NULL;
	size_t len = 0, ulen = utterance ? strlen(utterance) : 0;
	aims_language fence_lang = 0, lang;
	char *code;

	if (!utterance)
		return aims_error_set(err, AIMS_ENOTFOUND, "no code given");
	if (find_fence(utterance, &start, &len, &fence_lang)) {
		lang = fence_lang ? fence_lang : language_in(trigger);
	} else {
		if (after_trigger > ulen)
			after_trigger = ulen;
		start = utterance + after_trigger;
		start += strspn(start, " \t\r\n");
		if (*start == ':')
			start++;
		start += strspn(start, " \t\r\n");
		len = strlen(start);
		lang = language_in(trigger);
	}
	while (len && isspace((unsigned char)start[len - 1]))
		len--;
	if (!len)
		return aims_error_set(err, AIMS_ENOTFOUND,
				      "no code found: write it after the trigger (\"run python: "
				      "print(1)\") or in a fenced block");
	if (!(code = strndup(start, len)))
		return aims_error_set(err, AIMS_ENOMEM, "out of memory");
	if (lang)
		*out_lang = lang;
	*out_code = code;
	return 0;
}

/* ---- Executors ------------------------------------------------------------ */

static int run_code(aims_dispatch_result *r, const aims_candidate *match, const char *utterance,
		    const cJSON *input, const aims_dispatch_options *opts, aims_error *err)
{
	aims_json_exec_input in;
	int rc;

	if ((rc = aims_json_exec_input_read(&in, input, false, err)) < 0)
		goto out;
	r->language = in.req.language;
	if (in.has_code) {
		if (!(r->code = strdup(in.req.code))) {
			rc = aims_error_set(err, AIMS_ENOMEM, "out of memory");
			goto out;
		}
	} else {
		aims_language lang = AIMS_LANG_PYTHON;

		rc = aims_dispatch_find_code(&r->code, &lang, utterance,
					     match ? match->best.end : 0,
					     match ? match->best.trigger : NULL, err);
		if (rc < 0) {
			rc = aims_error_set(err, AIMS_EINVALID, "%s", err->message);
			goto out;
		}
		if (!in.has_language)
			r->language = lang;
		if (strlen(r->code) > AIMS_EXEC_MAX_CODE) {
			rc = aims_error_set(err, AIMS_ETOOBIG,
					    "the code is over the limit of %u KiB",
					    AIMS_EXEC_MAX_CODE >> 10);
			goto out;
		}
		/* Packages were checked against the language read so far. */
		for (size_t i = 0; i < in.req.package_count; i++)
			if ((rc = aims_exec_check_package(r->language, in.req.packages[i], err)) <
			    0)
				goto out;
	}
	if (opts->dry_run)
		goto out;
	in.req.language = r->language;
	in.req.code = r->code;
	in.req.code_len = strlen(r->code);
	in.req.cancel_fd = opts->cancel_fd;
	in.req.progress = opts->progress;
	in.req.progress_ctx = opts->progress_ctx;
	if ((rc = aims_exec_run(&r->exec, &in.req, err)) == 0)
		r->ran = true;
out:
	aims_json_exec_input_free(&in);
	return rc;
}

/* "address" -> "AIMS_SLOT_ADDRESS=value" */
static char *slot_env(const aims_slot *slot)
{
	size_t nlen = strlen(slot->name), len = 10 + nlen + 1 + strlen(slot->value) + 1;
	char *entry = malloc(len);

	if (!entry)
		return NULL;
	memcpy(entry, "AIMS_SLOT_", 10);
	for (size_t i = 0; i < nlen; i++) {
		unsigned char c = (unsigned char)slot->name[i];

		entry[10 + i] = isalnum(c) && c < 0x80 ? (char)toupper(c) : '_';
	}
	snprintf(entry + 10 + nlen, len - 10 - nlen, "=%s", slot->value);
	return entry;
}

static int run_command(aims_dispatch_result *r, const aims_candidate *match, const cJSON *input,
		       const aims_dispatch_options *opts, aims_error *err)
{
	char *env[SLOT_ENV_MAX + 2] = {NULL};
	char *stdin_text = NULL;
	size_t n = 0;
	int rc = 0;

	for (size_t i = 0; match && i < match->best.slot_count && n < SLOT_ENV_MAX; i++)
		if (!(env[n++] = slot_env(&match->best.slots[i]))) {
			rc = aims_error_set(err, AIMS_ENOMEM, "out of memory");
			goto out;
		}
	if (r->manifest->id.str) {
		size_t len = strlen(r->manifest->id.str) + 14;

		if (!(env[n] = malloc(len))) {
			rc = aims_error_set(err, AIMS_ENOMEM, "out of memory");
			goto out;
		}
		snprintf(env[n++], len, "AIMS_TASK_ID=%s", r->manifest->id.str);
	}
	if (opts->dry_run)
		goto out;
	if (!(stdin_text = cJSON_PrintUnformatted(input))) {
		rc = aims_error_set(err, AIMS_ENOMEM, "out of memory");
		goto out;
	}
	rc = aims_exec_command(&r->exec, r->manifest->exec_command.str, (const char *const *)env,
			       stdin_text, strlen(stdin_text), 0, opts->cancel_fd, err);
	if (rc == 0)
		r->ran = true;
out:
	for (size_t i = 0; i < n; i++)
		free(env[i]);
	free(stdin_text);
	return rc;
}

/* Merges src over dst: objects recursively, anything else replaced. */
static int merge_over(cJSON *dst, const cJSON *src)
{
	const cJSON *item;

	cJSON_ArrayForEach(item, src)
	{
		cJSON *existing = cJSON_GetObjectItemCaseSensitive(dst, item->string);
		cJSON *copy;

		if (existing && cJSON_IsObject(existing) && cJSON_IsObject(item)) {
			if (merge_over(existing, item) < 0)
				return AIMS_ENOMEM;
			continue;
		}
		if (!(copy = cJSON_Duplicate(item, 1)))
			return AIMS_ENOMEM;
		if (existing)
			cJSON_ReplaceItemInObjectCaseSensitive(dst, item->string, copy);
		else
			cJSON_AddItemToObject(dst, item->string, copy);
	}
	return 0;
}

/* A copy of url without "user:password@" after the scheme. */
static char *url_without_userinfo(const char *url)
{
	const char *host = strstr(url, "://");
	const char *end, *at = NULL;
	char *copy;

	if (!host)
		return strdup(url);
	host += 3;
	end = host + strcspn(host, "/?#");
	for (const char *p = host; p < end; p++)
		if (*p == '@')
			at = p; /* the last '@' before the path ends the userinfo */
	if (!at)
		return strdup(url);
	if (!(copy = malloc(strlen(url) + 1)))
		return NULL;
	memcpy(copy, url, (size_t)(host - url));
	memcpy(copy + (host - url), at + 1, strlen(at + 1) + 1);
	return copy;
}

static const char *http_method(const char *declared)
{
	static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};

	if (!declared || !*declared)
		return "POST";
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcasecmp(declared, methods[i]) == 0)
			return methods[i];
	return NULL;
}

static int run_forward(aims_dispatch_result *r, const aims_candidate *match, const cJSON *input,
		       const aims_dispatch_options *opts, aims_error *err)
{
	const aims_manifest *m = r->manifest;
	const char *base = opts->api_base ? opts->api_base : getenv("AIMS_API_BASE");
	const char *headers[] = {"Content-Type: application/json", "Accept: application/json",
				 NULL};
	cJSON *body = NULL;
	char *text = NULL, *url = NULL;
	aims_http_request req;
	aims_http_response resp;
	size_t base_len;
	int rc = 0;

	memset(&resp, 0, sizeof(resp));
	if (!(r->method = http_method(m->exec_method.str)))
		return aims_error_set(err, AIMS_EINVALID,
				      "execution.method '%.32s' of %s is not GET, POST, PUT, PATCH "
				      "or DELETE",
				      m->exec_method.str, m->id.str);
	if ((!base || !*base) && opts->dry_run) {
		/* A dry run shows what would be called. */
		if (!(r->url = strdup(m->exec_route.str)))
			return aims_error_set(err, AIMS_ENOMEM, "out of memory");
		return 0;
	}
	if (!base || !*base)
		return aims_error_set(
			err, AIMS_ENOTFOUND,
			"route %s is not built in and AIMS_API_BASE is not set: set it "
			"to the base URL of the service that serves it",
			m->exec_route.str);
	if (strncmp(base, "http://", 7) != 0 && strncmp(base, "https://", 8) != 0)
		return aims_error_set(err, AIMS_EINVALID, "AIMS_API_BASE must be an http(s) URL");
	if (m->exec_route.str[0] != '/')
		return aims_error_set(err, AIMS_EINVALID,
				      "execution.route '%.100s' must start with '/'",
				      m->exec_route.str);
	base_len = strlen(base);
	while (base_len && base[base_len - 1] == '/')
		base_len--;
	if (!(url = malloc(base_len + strlen(m->exec_route.str) + 1)))
		return aims_error_set(err, AIMS_ENOMEM, "out of memory");
	memcpy(url, base, base_len);
	memcpy(url + base_len, m->exec_route.str, strlen(m->exec_route.str) + 1);
	/* What is shown (results, messages) never carries credentials that
	 * AIMS_API_BASE may hold (http://user:secret@host). */
	if (!(r->url = url_without_userinfo(url))) {
		rc = aims_error_set(err, AIMS_ENOMEM, "out of memory");
		goto out;
	}

	/* body = execution.body, then the slots, then the input over them */
	body = m->exec_body ? aims_json_from_yaml(m->exec_body) : cJSON_CreateObject();
	if (!body) {
		rc = aims_error_set(err, AIMS_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; match && i < match->best.slot_count; i++) {
		const aims_slot *slot = &match->best.slots[i];

		cJSON_DeleteItemFromObjectCaseSensitive(body, slot->name);
		cJSON_AddStringToObject(body, slot->name, slot->value);
	}
	if (merge_over(body, input) < 0 || !(text = cJSON_PrintUnformatted(body))) {
		rc = aims_error_set(err, AIMS_ENOMEM, "out of memory");
		goto out;
	}
	if (opts->dry_run)
		goto out;
	aims_http_request_init(&req);
	req.method = r->method;
	req.url = url;
	req.headers = headers;
	if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "DELETE") != 0) {
		req.body = text;
		req.body_len = strlen(text);
	}
	req.deadline_ms =
		aims_http_now_ms() + (opts->forward_timeout_ms ? opts->forward_timeout_ms
							       : AIMS_DISPATCH_DEFAULT_FORWARD_MS);
	req.cancel_fds[0] = opts->cancel_fd;
	req.max_body = AIMS_DISPATCH_MAX_UPSTREAM;
	if ((rc = aims_http_perform(&resp, &req, err)) < 0)
		goto out;
	r->upstream_status = resp.status;
	r->upstream_len = resp.body.len;
	if (!(r->upstream_body = aims_buf_detach(&resp.body))) {
		rc = aims_error_set(err, AIMS_ENOMEM, "out of memory");
		goto out;
	}
	{
		cJSON *parsed = cJSON_ParseWithLength(r->upstream_body, r->upstream_len);

		r->upstream_json = parsed != NULL;
		cJSON_Delete(parsed);
	}
	r->ran = true;
out:
	aims_http_response_free(&resp);
	cJSON_Delete(body);
	free(text);
	free(url);
	return rc;
}

/* ---- Entry points ------------------------------------------------------- */

int aims_dispatch_run(aims_dispatch_result **out, const aims_manifest *m,
		      const aims_candidate *match, const char *utterance, const char *input_json,
		      size_t input_len, const aims_dispatch_options *opts, aims_error *err)
{
	aims_dispatch_options defaults;
	aims_check_options check = {NULL};
	aims_dispatch_result *r;
	cJSON *input = NULL;
	int rc;

	if (!opts) {
		aims_dispatch_options_init(&defaults);
		opts = &defaults;
	}
	if (utterance && strlen(utterance) > AIMS_ROUTER_MAX_UTTERANCE)
		return aims_error_set(err, AIMS_ETOOBIG,
				      "the utterance is over the limit of %u bytes (send long code "
				      "in the input's \"code\")",
				      AIMS_ROUTER_MAX_UTTERANCE);
	if (input_json && input_len > AIMS_DISPATCH_MAX_INPUT)
		return aims_error_set(err, AIMS_ETOOBIG, "the input is over the limit of %u bytes",
				      AIMS_DISPATCH_MAX_INPUT);
	if (input_json && input_len) {
		input = cJSON_ParseWithLength(input_json, input_len);
		if (!cJSON_IsObject(input)) {
			cJSON_Delete(input);
			return aims_error_set(err, AIMS_EINVALID,
					      "the input must be a JSON object");
		}
	} else if (!(input = cJSON_CreateObject())) {
		return aims_error_set(err, AIMS_ENOMEM, "out of memory");
	}
	if (!(r = calloc(1, sizeof(*r)))) {
		cJSON_Delete(input);
		return aims_error_set(err, AIMS_ENOMEM, "out of memory");
	}
	r->manifest = m;
	r->executor = aims_dispatch_executor_for(m);
	check.root = opts->root;
	if ((rc = aims_check_definition(&r->readiness, m, &check, err)) < 0)
		goto fail;
	if (!r->readiness->ready) {
		r->refused = true;
		goto done;
	}
	switch (r->executor) {
	case AIMS_EXECUTOR_CODE: rc = run_code(r, match, utterance, input, opts, err); break;
	case AIMS_EXECUTOR_COMMAND: rc = run_command(r, match, input, opts, err); break;
	case AIMS_EXECUTOR_FORWARD: rc = run_forward(r, match, input, opts, err); break;
	case AIMS_EXECUTOR_LOAD: r->ran = !opts->dry_run; break;
	}
	if (rc < 0)
		goto fail;
done:
	cJSON_Delete(input);
	*out = r;
	return 0;
fail:
	cJSON_Delete(input);
	aims_dispatch_result_free(r);
	return rc;
}

int aims_dispatch_plan(aims_dispatch_result **out, const aims_plan *plan, const char *input_json,
		       size_t input_len, const aims_dispatch_options *opts, aims_error *err)
{
	if (!plan->task && plan->skill_count) /* instructions to follow: load the best */
		return aims_dispatch_run(out, plan->skills[0]->manifest, plan->skills[0],
					 plan->utterance, input_json, input_len, opts, err);
	if (!plan->task)
		return aims_error_set(err, AIMS_ENOTFOUND, "no task or skill matches this request");
	if (plan->status == AIMS_PLAN_AMBIGUOUS && plan->alternative_count)
		return aims_error_set(
			err, AIMS_ECONFLICT,
			"ambiguous: tasks '%s' and '%s' match this request equally well; "
			"name one with its id",
			plan->task->id, plan->alternatives[0]->id);
	return aims_dispatch_run(out, plan->task->manifest, plan->task, plan->utterance, input_json,
				 input_len, opts, err);
}

/*
 * pipeline.c - one code execution on E2B, as the seed's pipeline says:
 * validate → create → install → execute → collect → delete, always.
 *
 * The sandbox is created with a lifetime just long enough for the work
 * planned (so a process killed outright leaks it for minutes, not hours),
 * is registered as live from the moment its id is known, and is deleted on
 * every path out of aims_e2b_exec_with. A creation attempt whose answer
 * never arrived may still have made a sandbox: every sandbox carries the
 * run's random tag in its metadata, and such runs end by deleting whatever
 * carries the tag. Every transfer can be interrupted by the request's
 * cancel fd and by aims_e2b_shutdown; the deletes cannot.
 */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/http_client.h"
#include "e2b/e2b_int.h"

#define MAX_ENV_ENTRIES 256
#define MAX_ENV_ENTRY	(32u << 10)

typedef struct run {
	const aims_e2b_config *cfg;
	const aims_exec_request *req;
	e2b_sandbox sb;
	int cancel_fds[2];
	uint32_t timeout_ms;
	size_t output_max;
} run;

/* --- validation --- */

static int env_entry_check(const char *entry, aims_error *err)
{
	const char *eq = strchr(entry, '=');

	if (!eq || eq == entry || !(isalpha((unsigned char)entry[0]) || entry[0] == '_'))
		return aims_error_set(err, AIMS_EINVALID,
				      "environment entries must look like NAME=VALUE");
	for (const char *p = entry; p < eq; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			return aims_error_set(err, AIMS_EINVALID,
					      "invalid environment variable name in '%.40s'",
					      entry);
	if (strlen(entry) > MAX_ENV_ENTRY)
		return aims_error_set(err, AIMS_ETOOBIG, "an environment entry is over %u bytes",
				      (unsigned)MAX_ENV_ENTRY);
	return 0;
}

static int validate(const aims_exec_request *req, aims_error *err)
{
	bool blank = true;
	size_t n_env = 0;
	int rc;

	if (req->language != AIMS_LANG_PYTHON && req->language != AIMS_LANG_NODE &&
	    req->language != AIMS_LANG_BASH)
		return aims_error_set(err, AIMS_EINVALID,
				      "unknown language: use python, node or bash");
	if (!req->code || req->code_len == 0)
		return aims_error_set(err, AIMS_EINVALID, "the code is empty");
	if (req->code_len > AIMS_EXEC_MAX_CODE)
		return aims_error_set(err, AIMS_ETOOBIG, "the code is larger than %u KiB",
				      AIMS_EXEC_MAX_CODE >> 10);
	for (size_t i = 0; i < req->code_len; i++) {
		if (req->code[i] == '\0')
			return aims_error_set(err, AIMS_EINVALID, "the code contains a NUL byte");
		if (!isspace((unsigned char)req->code[i]))
			blank = false;
	}
	if (blank)
		return aims_error_set(err, AIMS_EINVALID, "the code is empty");
	if (req->timeout_ms > AIMS_EXEC_MAX_TIMEOUT_MS)
		return aims_error_set(err, AIMS_EINVALID, "the time limit is over %u s",
				      AIMS_EXEC_MAX_TIMEOUT_MS / 1000);
	if (req->stdin_len > 0)
		return aims_error_set(err, AIMS_EUNSUPPORTED,
				      "the e2b backend cannot feed stdin to the code (E2B's code "
				      "interpreter has no stdin): use the local backend");
	if (req->package_count > AIMS_EXEC_MAX_PACKAGES)
		return aims_error_set(err, AIMS_EINVALID, "more than %d packages",
				      AIMS_EXEC_MAX_PACKAGES);
	for (size_t i = 0; i < req->package_count; i++) {
		if (!req->packages || !req->packages[i])
			return aims_error_set(err, AIMS_EINVALID, "a package name is missing");
		if ((rc = aims_exec_check_package(req->language, req->packages[i], err)) < 0)
			return rc;
	}
	for (size_t i = 0; req->env && req->env[i]; i++) {
		if (++n_env > MAX_ENV_ENTRIES)
			return aims_error_set(err, AIMS_EINVALID,
					      "more than %d environment entries", MAX_ENV_ENTRIES);
		if ((rc = env_entry_check(req->env[i], err)) < 0)
			return rc;
	}
	return 0;
}

/* --- shared by the data-plane calls --- */

typedef struct data_headers {
	char id[120], port[64], access[600], traffic[640], timeout[64], auth[128];
	const char *list[12];
	size_t n;
} data_headers;

static void data_headers_init(data_headers *h, const e2b_sandbox *sb, int port)
{
	memset(h, 0, sizeof(*h));
	/* Both routing headers, always: a shared data-plane host routes by them. */
	snprintf(h->id, sizeof(h->id), "E2b-Sandbox-Id: %s", sb->id);
	snprintf(h->port, sizeof(h->port), "E2b-Sandbox-Port: %d", port);
	h->list[h->n++] = h->id;
	h->list[h->n++] = h->port;
	if (sb->envd_token[0]) {
		snprintf(h->access, sizeof(h->access), "X-Access-Token: %s", sb->envd_token);
		h->list[h->n++] = h->access;
	}
	if (sb->traffic_token[0]) {
		snprintf(h->traffic, sizeof(h->traffic), "E2B-Traffic-Access-Token: %s",
			 sb->traffic_token);
		h->list[h->n++] = h->traffic;
	}
}

static void data_headers_add(data_headers *h, const char *line)
{
	if (h->n + 1 < sizeof(h->list) / sizeof(h->list[0]))
		h->list[h->n++] = line;
}

static int add_env_object(cJSON *obj, const char *name, const char *const *env)
{
	cJSON *map = cJSON_AddObjectToObject(obj, name);

	if (!map)
		return AIMS_ENOMEM;
	for (size_t i = 0; env && env[i]; i++) {
		const char *eq = strchr(env[i], '=');
		char key[256];
		size_t n = (size_t)(eq - env[i]);

		if (n >= sizeof(key))
			continue;
		memcpy(key, env[i], n);
		key[n] = '\0';
		cJSON_DeleteItemFromObjectCaseSensitive(map, key); /* the last one wins */
		if (!cJSON_AddStringToObject(map, key, eq + 1))
			return AIMS_ENOMEM;
	}
	return 0;
}

/* The last non-empty line of a command's output, printable, short. */
static void last_line(char *out, size_t out_len, const aims_buf *a, const aims_buf *b)
{
	const aims_buf *buf = a->len ? a : b;
	size_t end = buf->len, start, n = 0;

	out[0] = '\0';
	while (end > 0 && isspace((unsigned char)buf->ptr[end - 1]))
		end--;
	start = end;
	while (start > 0 && buf->ptr[start - 1] != '\n')
		start--;
	for (size_t i = start; i < end && n + 1 < out_len && n < 240; i++)
		if ((unsigned char)buf->ptr[i] >= 0x20 && buf->ptr[i] != 0x7f)
			out[n++] = buf->ptr[i];
	out[n] = '\0';
}

static int gone_or(long status, const char *why, const char *what, aims_error *err)
{
	if (status == 502)
		return aims_error_set(
			err, AIMS_EUPSTREAM,
			"the sandbox is gone or timed out (E2B answered 502 to %s: %s)", what, why);
	if (status == 401 || status == 403)
		return aims_error_set(err, AIMS_EAUTH,
				      "the sandbox refused its access token (HTTP %ld to %s: %s)",
				      status, what, why);
	return aims_error_set(err, AIMS_EUPSTREAM, "E2B answered HTTP %ld to %s: %s", status, what,
			      why);
}

/* POSTs body to a sandbox port with a streamed answer, within deadline_ms
 * (absolute), interrupted by the run's cancel fds. */
static int stream_post(aims_http_response *resp, const run *r, const char *url,
		       const data_headers *h, const void *body, size_t len, uint64_t deadline_ms,
		       aims_http_sink sink, void *sink_ctx, aims_error *err)
{
	aims_http_request hreq;

	aims_http_request_init(&hreq);
	hreq.method = "POST";
	hreq.url = url;
	hreq.headers = h->list;
	hreq.body = body;
	hreq.body_len = len;
	hreq.deadline_ms = deadline_ms;
	hreq.cancel_fds[0] = r->cancel_fds[0];
	hreq.cancel_fds[1] = r->cancel_fds[1];
	hreq.sink = sink;
	hreq.sink_ctx = sink_ctx;
	hreq.max_body = AIMS_E2B_MAX_RESPONSE;
	return aims_http_perform(resp, &hreq, err);
}

/* --- installs through envd's process API (Connect, server streaming) --- */

static int proc_sink(void *ctx, const char *data, size_t len, aims_error *err)
{
	return e2b_proc_stream_feed(ctx, data, len, err);
}

/* Runs cmd with argv (no shell) as user in the sandbox; what names it in
 * messages. */
static int run_process(run *r, const char *user, const char *cmd, const char *const *args,
		       const char *const *pkgs, size_t n_pkgs, const char *const *env,
		       const char *what, aims_error *err)
{
	const aims_e2b_config *cfg = r->cfg;
	cJSON *root = NULL, *process, *argv;
	char *json = NULL, base[600], url[700], why[256], tail[256];
	aims_buf body, cred;
	data_headers h;
	aims_http_response resp = {0};
	e2b_proc_stream ps;
	char userpass[64];
	int rc;

	aims_buf_init(&body, AIMS_E2B_MAX_ENVELOPE + 5);
	aims_buf_init(&cred, 128);
	e2b_proc_stream_init(&ps);
	if ((rc = e2b_data_url(base, sizeof(base), cfg, &r->sb, AIMS_E2B_ENVD_PORT, err)) < 0)
		goto out;
	snprintf(url, sizeof(url), "%s/process.Process/Start", base);

	/* The command is argv: envd executes cmd with args directly, so no
	 * name reaches a shell. stdin is sent as false: missing means true. */
	rc = AIMS_ENOMEM;
	if (!(root = cJSON_CreateObject()) ||
	    !(process = cJSON_AddObjectToObject(root, "process")) ||
	    !cJSON_AddStringToObject(process, "cmd", cmd) ||
	    !(argv = cJSON_AddArrayToObject(process, "args")))
		goto nomem;
	for (size_t i = 0; args[i]; i++)
		if (!cJSON_AddItemToArray(argv, cJSON_CreateString(args[i])))
			goto nomem;
	for (size_t i = 0; i < n_pkgs; i++)
		if (!cJSON_AddItemToArray(argv, cJSON_CreateString(pkgs[i])))
			goto nomem;
	if (add_env_object(process, "envs", env) < 0 ||
	    !cJSON_AddStringToObject(process, "cwd", "/home/user") ||
	    !cJSON_AddBoolToObject(root, "stdin", 0) || !(json = cJSON_PrintUnformatted(root)))
		goto nomem;
	if ((rc = e2b_envelope_append(&body, 0, json, strlen(json))) < 0) {
		rc = aims_error_set(err, rc, "the install request is too large");
		goto out;
	}

	data_headers_init(&h, &r->sb, AIMS_E2B_ENVD_PORT);
	data_headers_add(&h, "Content-Type: application/connect+json");
	data_headers_add(&h, "Connect-Protocol-Version: 1");
	snprintf(h.timeout, sizeof(h.timeout), "Connect-Timeout-Ms: %u", cfg->install_timeout_ms);
	data_headers_add(&h, h.timeout);
	data_headers_add(&h, "Keepalive-Ping-Interval: 50");
	snprintf(userpass, sizeof(userpass), "%s:", user);
	if (aims_buf_puts(&cred, "Authorization: Basic ") < 0 ||
	    e2b_base64_encode(&cred, userpass, strlen(userpass)) < 0)
		goto nomem;
	snprintf(h.auth, sizeof(h.auth), "%s", cred.ptr);
	data_headers_add(&h, h.auth);

	{
		aims_error one;

		aims_error_clear(&one);
		/* envd stops the command at Connect-Timeout-Ms; give it time to
		 * say so. */
		rc = stream_post(&resp, r, url, &h, body.ptr, body.len,
				 aims_http_now_ms() + cfg->install_timeout_ms + 5000, proc_sink,
				 &ps, &one);
		if (rc == AIMS_ECANCELED) {
			rc = aims_error_set(err, rc, "the execution was canceled during %s", what);
			goto out;
		}
		if (rc == AIMS_ETIMEOUT) {
			rc = aims_error_set(err, rc, "%s took longer than %u s", what,
					    cfg->install_timeout_ms / 1000);
			goto out;
		}
		if (rc < 0) {
			rc = aims_error_set(err, rc, "%s: %s", what, one.message);
			goto out;
		}
	}
	if (resp.status != 200) {
		e2b_error_text(why, sizeof(why), resp.body.ptr, resp.body.len);
		rc = gone_or(resp.status, why, what, err);
		goto out;
	}
	if (ps.pending.len > 0 || !ps.finished) {
		rc = aims_error_set(err, AIMS_EUPSTREAM,
				    "the sandbox's answer to %s ended before its final message",
				    what);
		goto out;
	}
	if (ps.error_code[0]) {
		if (strcmp(ps.error_code, "deadline_exceeded") == 0)
			rc = aims_error_set(err, AIMS_ETIMEOUT, "%s took longer than %u s", what,
					    cfg->install_timeout_ms / 1000);
		else if (strcmp(ps.error_code, "unauthenticated") == 0)
			rc = aims_error_set(err, AIMS_EAUTH, "the sandbox refused %s (%s: %s)",
					    what, ps.error_code, ps.error_message);
		else
			rc = aims_error_set(err, AIMS_EUPSTREAM,
					    "%s failed in the sandbox (%s: %s)", what,
					    ps.error_code, ps.error_message);
		goto out;
	}
	if (!ps.ended) {
		rc = aims_error_set(err, AIMS_EUPSTREAM, "the sandbox did not report how %s ended",
				    what);
		goto out;
	}
	if (ps.exit_code != 0 || !ps.exited) {
		last_line(tail, sizeof(tail), &ps.errout, &ps.out);
		/* The install's failure, like a local one: 424 (docs/packages.md). */
		if (ps.exited)
			rc = aims_error_set(err, AIMS_EINSTALL,
					    "%s failed in the E2B sandbox (exit code %d)%s%s", what,
					    ps.exit_code, tail[0] ? ": " : "", tail);
		else
			rc = aims_error_set(err, AIMS_EINSTALL,
					    "%s did not finish in the E2B sandbox (%s)%s%s", what,
					    ps.status[0] ? ps.status : "killed",
					    tail[0] ? ": " : "", tail);
		goto out;
	}
	rc = 0;
	goto out;
nomem:
	rc = aims_error_set(err, AIMS_ENOMEM, "out of memory");
out:
	aims_http_response_free(&resp);
	e2b_proc_stream_free(&ps);
	aims_buf_free(&body);
	aims_buf_free(&cred);
	cJSON_Delete(root);
	free(json);
	return rc;
}

static int install(run *r, aims_error *err)
{
	const aims_exec_request *req = r->req;
	const char *const *pkgs = req->packages;
	size_t n = req->package_count;
	static const char *const pip[] = {"install", "--no-input", "--disable-pip-version-check",
					  NULL};
	static const char *const npm[] = {"install", "--no-audit", "--no-fund", "--no-progress",
					  NULL};
	static const char *const apt_update[] = {"update", "-q", NULL};
	static const char *const apt_install[] = {"install", "-y", "-q", "--no-install-recommends",
						  NULL};
	static const char *const apt_env[] = {"DEBIAN_FRONTEND=noninteractive", NULL};
	int rc;

	switch (req->language) {
	case AIMS_LANG_PYTHON:
		return run_process(r, "user", "pip", pip, pkgs, n, NULL, "pip install", err);
	case AIMS_LANG_NODE:
		return run_process(r, "user", "npm", npm, pkgs, n, NULL, "npm install", err);
	case AIMS_LANG_BASH:
		/* Debian packages need root and fresh package lists. */
		if ((rc = run_process(r, "root", "apt-get", apt_update, NULL, 0, apt_env,
				      "apt-get update", err)) < 0)
			return rc;
		return run_process(r, "root", "apt-get", apt_install, pkgs, n, apt_env,
				   "apt-get install", err);
	}
	return aims_error_set(err, AIMS_EINVALID, "unknown language");
}

/* --- the code-interpreter's /execute stream --- */

static int exec_sink(void *ctx, const char *data, size_t len, aims_error *err)
{
	return e2b_exec_stream_feed(ctx, data, len, err);
}

static const char *interpreter_language(aims_language lang)
{
	switch (lang) {
	case AIMS_LANG_PYTHON: return "python";
	case AIMS_LANG_NODE: return "javascript";
	case AIMS_LANG_BASH: return "bash";
	}
	return "python";
}

static int take_buf(char **out, size_t *out_len, aims_buf *buf)
{
	*out_len = buf->len;
	*out = aims_buf_detach(buf);
	return *out ? 0 : AIMS_ENOMEM;
}

static int execute(aims_exec_result **out, run *r, aims_error *err)
{
	const aims_exec_request *req = r->req;
	cJSON *root = NULL;
	char *code = NULL, *json = NULL, base[600], url[700], why[256];
	data_headers h;
	aims_http_response resp = {0};
	e2b_exec_stream es;
	aims_exec_result *res = NULL;
	bool timed_out = false;
	int rc;

	e2b_exec_stream_init(&es, r->output_max);
	if ((rc = e2b_data_url(base, sizeof(base), r->cfg, &r->sb, AIMS_E2B_CODE_PORT, err)) < 0)
		goto out;
	snprintf(url, sizeof(url), "%s/execute", base);
	if (!(code = strndup(req->code, req->code_len)) || !(root = cJSON_CreateObject()) ||
	    !cJSON_AddStringToObject(root, "code", code) ||
	    !cJSON_AddStringToObject(root, "language", interpreter_language(req->language)) ||
	    add_env_object(root, "env_vars", req->env) < 0 ||
	    !(json = cJSON_PrintUnformatted(root))) {
		rc = aims_error_set(err, AIMS_ENOMEM, "out of memory");
		goto out;
	}
	data_headers_init(&h, &r->sb, AIMS_E2B_CODE_PORT);
	data_headers_add(&h, "Content-Type: application/json");

	{
		aims_error one;

		aims_error_clear(&one);
		/* The interpreter has no deadline of its own: this one is the
		 * limit, and passing it closes the connection, which stops the
		 * stream. */
		rc = stream_post(&resp, r, url, &h, json, strlen(json),
				 aims_http_now_ms() + r->timeout_ms, exec_sink, &es, &one);
		if (rc == AIMS_ETIMEOUT && resp.status == 0) {
			/* Not even the headers came: nothing says the code ran. */
			rc = aims_error_set(err, rc,
					    "the sandbox's code interpreter did not answer within "
					    "%.1f s",
					    (double)r->timeout_ms / 1000.0);
			goto out;
		} else if (rc == AIMS_ETIMEOUT) {
			/* After end_of_execution the code was done: only the
			 * server kept the stream open. */
			timed_out = !es.ended;
			rc = 0;
		} else if (rc == AIMS_ECANCELED) {
			rc = aims_error_set(err, rc, "%s",
					    e2b_live_shutting_down()
						    ? "the execution was stopped: the server is "
						      "shutting down"
						    : "the execution was canceled");
			goto out;
		} else if (rc == AIMS_EUPSTREAM && resp.status == 200) {
			rc = aims_error_set(err, rc,
					    "the E2B output stream broke before end_of_execution: "
					    "%s",
					    one.message);
			goto out;
		} else if (rc < 0) {
			rc = aims_error_set(err, rc, "%s", one.message);
			goto out;
		}
	}
	if (!timed_out) {
		if (resp.status != 200) {
			e2b_error_text(why, sizeof(why), resp.body.ptr, resp.body.len);
			rc = gone_or(resp.status, why, "the code execution", err);
			goto out;
		}
		if ((rc = e2b_exec_stream_finish(&es, err)) < 0)
			goto out;
		if (!es.ended) {
			rc = aims_error_set(err, AIMS_EUPSTREAM,
					    "the E2B output stream ended before end_of_execution: "
					    "the execution did not complete");
			goto out;
		}
	}

	if (!(res = calloc(1, sizeof(*res))))
		goto nomem;
	if (take_buf(&res->stdout_data, &res->stdout_len, &es.out) < 0 ||
	    take_buf(&res->stderr_data, &res->stderr_len, &es.errout) < 0)
		goto nomem;
	res->backend = AIMS_BACKEND_E2B;
	res->truncated = es.truncated;
	if (es.truncated)
		res->limit = AIMS_LIMIT_OUTPUT;
	if (timed_out) {
		char msg[160];

		snprintf(msg, sizeof(msg),
			 "the code ran longer than the time limit of %.1f s and was stopped",
			 (double)r->timeout_ms / 1000.0);
		res->timed_out = true;
		res->limit = AIMS_LIMIT_WALL_TIME;
		res->exit_code = -1;
		if (!(res->error = strdup(msg)))
			goto nomem;
	} else {
		/* The interpreter reports no exit code: 1 with an error, else 0. */
		res->exit_code = es.error ? 1 : 0;
		res->error = es.error;
		es.error = NULL;
	}
	res->success = !res->error && res->exit_code == 0;
	*out = res;
	res = NULL;
	rc = 0;
	goto out;
nomem:
	rc = aims_error_set(err, AIMS_ENOMEM, "out of memory");
out:
	aims_exec_result_free(res);
	aims_http_response_free(&resp);
	e2b_exec_stream_free(&es);
	cJSON_Delete(root);
	free(json);
	free(code);
	return rc;
}

/* --- the pipeline --- */

static void redact(char *message, const char *key)
{
	static const char mask[] = "[redacted]";
	size_t key_len = strlen(key);
	char *hit;

	if (key_len < 4)
		return;
	while ((hit = strstr(message, key))) {
		size_t rest = strlen(hit + key_len);

		if (key_len >= sizeof(mask) - 1) {
			memcpy(hit, mask, sizeof(mask) - 1);
			memmove(hit + sizeof(mask) - 1, hit + key_len, rest + 1);
		} else {
			memset(hit, '*', key_len);
		}
	}
}

static int run_tag(char *out, size_t out_len)
{
	unsigned char bytes[12];
	size_t n = 0;

	if (getrandom(bytes, sizeof(bytes), 0) != (ssize_t)sizeof(bytes))
		return AIMS_EIO;
	for (size_t i = 0; i < sizeof(bytes) && n + 2 < out_len; i++)
		n += (size_t)snprintf(out + n, out_len - n, "%02x", bytes[i]);
	return 0;
}

int aims_e2b_exec_with(aims_exec_result **out, const aims_exec_request *req,
		       const aims_e2b_config *cfg, aims_error *err)
{
	uint64_t start = aims_http_now_ms();
	aims_exec_result *res = NULL;
	e2b_create_params params;
	aims_error local;
	bool created = false, registered = false, maybe_orphans = false;
	char tag[32] = "";
	run r;
	int rc;

	aims_error_clear(&local);
	memset(&r, 0, sizeof(r));
	r.cfg = cfg;
	r.req = req;
	r.timeout_ms = req->timeout_ms ? req->timeout_ms : AIMS_EXEC_DEFAULT_TIMEOUT_MS;
	r.output_max = req->output_max ? req->output_max : AIMS_EXEC_DEFAULT_OUTPUT;
	r.cancel_fds[0] = req->cancel_fd;
	r.cancel_fds[1] = e2b_live_shutdown_fd();

	if ((rc = validate(req, &local)) < 0 || (rc = aims_e2b_config_check(cfg, &local)) < 0)
		goto out;
	if (e2b_live_shutting_down()) {
		rc = aims_error_set(&local, AIMS_ECANCELED,
				    "the server is shutting down: no new E2B sandbox");
		goto out;
	}
	if ((rc = run_tag(tag, sizeof(tag))) < 0) {
		aims_error_set(&local, rc, "no random bytes for the run tag");
		goto out;
	}

	memset(&params, 0, sizeof(params));
	params.timeout_s = (r.timeout_ms + 999) / 1000 + cfg->lifetime_margin_s;
	if (req->package_count)
		params.timeout_s += (cfg->install_timeout_ms + 999) / 1000 *
				    (req->language == AIMS_LANG_BASH ? 2 : 1);
	params.run_tag = tag;
	params.env = req->env;
	params.cancel_fds[0] = r.cancel_fds[0];
	params.cancel_fds[1] = r.cancel_fds[1];
	if ((rc = e2b_create(&r.sb, &maybe_orphans, cfg, &params, &local)) < 0)
		goto out;
	created = true;
	if ((rc = e2b_live_add(r.sb.id, cfg)) < 0) {
		aims_error_set(&local, rc, "out of memory");
		goto out;
	}
	registered = true;

	if (req->package_count) {
		if ((rc = install(&r, &local)) < 0)
			goto out;
		/* Installs took a while: the lifetime now only needs to cover
		 * the execution. */
		if ((rc = e2b_set_timeout(cfg, r.sb.id,
					  (r.timeout_ms + 999) / 1000 + cfg->lifetime_margin_s,
					  r.cancel_fds, &local)) < 0)
			goto out;
	}
	rc = execute(&res, &r, &local);

out:
	if (created && (!registered || e2b_live_take(r.sb.id))) {
		aims_error del;

		aims_error_clear(&del);
		if (e2b_delete(cfg, r.sb.id, &del) < 0)
			/* Keep it listed: shutdown tries again; its lifetime ends it
			 * otherwise. The code's result stands. */
			(void)e2b_live_add(r.sb.id, cfg);
	}
	if (maybe_orphans) {
		aims_error ignored;
		size_t n;

		aims_error_clear(&ignored);
		(void)e2b_delete_tagged(&n, cfg, tag, &ignored);
	}
	explicit_bzero(&r.sb, sizeof(r.sb));
	if (rc < 0) {
		aims_exec_result_free(res);
		redact(local.message, cfg->api_key);
		return aims_error_set(err, rc, "%s", local.message);
	}
	res->duration_ms = aims_http_now_ms() - start;
	*out = res;
	return 0;
}

int aims_e2b_exec(aims_exec_result **out, const aims_exec_request *req, aims_error *err)
{
	aims_e2b_config *cfg = malloc(sizeof(*cfg));
	int rc;

	if (!cfg)
		return aims_error_set(err, AIMS_ENOMEM, "out of memory");
	rc = aims_e2b_config_from_env(cfg, err);
	if (rc == 0)
		rc = aims_e2b_exec_with(out, req, cfg, err);
	explicit_bzero(cfg, sizeof(*cfg));
	free(cfg);
	return rc;
}

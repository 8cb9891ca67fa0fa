/*
 * test_e2b.c - the E2B backend end to end against fake_e2b, a real HTTP
 * server on loopback that speaks E2B's protocol. Each test checks what the
 * client sent (headers, bodies, envelope framing, order), what it returned,
 * and that every sandbox created was deleted.
 */
#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aims/e2b.h"
#include "fake_e2b.h"
#include "support.h"

#define KEY	  "e2b_0123456789abcdef0123456789abcdef01234567"
#define OTHER_KEY "e2b_deadbeefdeadbeefdeadbeefdeadbeefdeadbeef"

static fake_e2b *fake;

static int setup(void **state)
{
	(void)state;
	fake = fake_e2b_start(KEY);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fake_e2b_stop(fake);
	return 0;
}

static int reset(void **state)
{
	(void)state;
	fake_e2b_reset(fake);
	return 0;
}

static void config(aims_e2b_config *cfg)
{
	aims_error err;

	setenv("E2B_API_KEY", KEY, 1);
	setenv("E2B_API_URL", fake_e2b_url(fake), 1);
	setenv("E2B_SANDBOX_URL", fake_e2b_url(fake), 1);
	unsetenv("E2B_DOMAIN");
	unsetenv("E2B_DEBUG");
	aims_error_clear(&err);
	assert_int_equal(aims_e2b_config_from_env(cfg, &err), 0);
	cfg->retry_base_ms = 50;
	cfg->retry_max_ms = 2000;
	cfg->request_timeout_ms = 3000;
	cfg->create_budget_ms = 15000;
	cfg->install_timeout_ms = 20000;
}

typedef struct outcome {
	int rc;
	aims_exec_result *res;
	aims_error err;
	uint64_t elapsed_ms;
} outcome;

static void no_key_in(const char *text)
{
	if (text) {
		assert_null(strstr(text, KEY));
		assert_null(strstr(text, OTHER_KEY));
	}
}

static void run_with(outcome *o, const aims_exec_request *req, const aims_e2b_config *cfg)
{
	uint64_t start = fake_now_ms();

	aims_error_clear(&o->err);
	o->res = NULL;
	o->rc = aims_e2b_exec_with(&o->res, req, cfg, &o->err);
	o->elapsed_ms = fake_now_ms() - start;
	/* The key never shows, whatever happened. */
	no_key_in(o->err.message);
	if (o->res) {
		no_key_in(o->res->stdout_data);
		no_key_in(o->res->stderr_data);
		no_key_in(o->res->error);
	}
	assert_int_equal(aims_e2b_live_count(), 0);
}

static void request_for(aims_exec_request *req, aims_language lang, const char *code)
{
	aims_exec_request_init(req);
	req->language = lang;
	req->code = code;
	req->code_len = strlen(code);
	req->backend = AIMS_BACKEND_E2B;
}

/* Runs python code (timeout_ms: 0 for the default) against the fake, as
 * configured by config(). */
static void run_python(outcome *o, const char *code, uint32_t timeout_ms)
{
	aims_exec_request req;
	aims_e2b_config cfg;

	config(&cfg);
	request_for(&req, AIMS_LANG_PYTHON, code);
	req.timeout_ms = timeout_ms;
	run_with(o, &req, &cfg);
}

static cJSON *json_of(const fake_request *r)
{
	cJSON *j = cJSON_ParseWithLength(r->body, r->body_len);

	assert_non_null(j);
	return j;
}

static const char *jstr(const cJSON *obj, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	assert_true(cJSON_IsString(item));
	return item->valuestring;
}

/* Every sandbox created was deleted (or vanished on E2B's side). */
static void all_deleted(size_t created)
{
	assert_int_equal(fake_e2b_created(fake), created);
	assert_int_equal(fake_e2b_alive(fake), 0);
}

static size_t index_of(const fake_request *r)
{
	for (size_t i = 0; i < fake_e2b_request_count(fake); i++)
		if (fake_e2b_request(fake, i) == r)
			return i;
	fail_msg("request not recorded");
	return 0;
}

static void test_python_hello(void **state)
{
	static const char *const lines[] = {
		"{\"type\": \"number_of_executions\", \"execution_count\": 1}",
		("{\"type\": \"stdout\", \"text\": \"Hello from AIMS\\n\", \"timestamp\": "
		 "\"2026-01-01T00:00:00Z\"}"),
		"{\"type\": \"stderr\", \"text\": \"a warning\\n\"}",
		"{\"type\": \"keepalive\"}",
		"{\"type\": \"a_type_from_the_future\", \"x\": 1}",
		"{\"type\": \"result\", \"text\": \"2\", \"is_main_result\": true, \"extra\": {}}",
	};
	static const char *const env[] = {"GREETING=hi there", NULL};
	size_t before = fake_e2b_created(fake);
	const fake_request *create, *exec, *del;
	aims_exec_request req;
	aims_e2b_config cfg;
	cJSON *body, *meta;
	char path[128];
	const char *id;
	outcome o;

	(void)state;
	config(&cfg);
	fake_e2b_exec_script(fake, lines, 6, 0, 0, FAKE_EXEC_NORMAL, 200);
	request_for(&req, AIMS_LANG_PYTHON, "print('Hello from AIMS')\n1 + 1");
	req.env = env;
	run_with(&o, &req, &cfg);

	assert_int_equal(o.rc, 0);
	assert_string_equal(o.res->stdout_data, "Hello from AIMS\n2\n");
	assert_string_equal(o.res->stderr_data, "a warning\n");
	assert_int_equal(o.res->exit_code, 0);
	assert_null(o.res->error);
	assert_true(o.res->success);
	assert_false(o.res->timed_out);
	assert_false(o.res->truncated);
	assert_int_equal(o.res->backend, AIMS_BACKEND_E2B);

	/* Exactly: create, execute, delete, in that order. */
	assert_int_equal(fake_e2b_request_count(fake), 3);
	create = fake_e2b_find(fake, "POST", "/sandboxes", 0);
	exec = fake_e2b_find(fake, "POST", "/execute", 0);
	id = fake_e2b_sandbox_id(fake, before);
	assert_non_null(id);
	snprintf(path, sizeof(path), "/sandboxes/%s", id);
	del = fake_e2b_find(fake, "DELETE", path, 0);
	assert_non_null(create);
	assert_non_null(exec);
	assert_non_null(del);
	assert_true(index_of(create) < index_of(exec) && index_of(exec) < index_of(del));
	assert_string_equal(del->path, path);

	assert_string_equal(fake_request_header(create, "X-API-Key"), KEY);
	assert_string_equal(fake_request_header(create, "Content-Type"), "application/json");
	body = json_of(create);
	assert_string_equal(jstr(body, "templateID"), "code-interpreter-v1");
	assert_int_equal(cJSON_GetObjectItem(body, "timeout")->valueint, 30 + 30);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(body, "secure")));
	meta = cJSON_GetObjectItem(body, "metadata");
	assert_string_equal(jstr(meta, "createdBy"), "aims");
	assert_int_equal(strlen(jstr(meta, "aimsRun")), 24);
	assert_string_equal(jstr(cJSON_GetObjectItem(body, "envVars"), "GREETING"), "hi there");
	cJSON_Delete(body);

	/* The data plane is reached through the routing headers. */
	assert_string_equal(fake_request_header(exec, "E2b-Sandbox-Id"), id);
	assert_string_equal(fake_request_header(exec, "E2b-Sandbox-Port"), "49999");
	snprintf(path, sizeof(path), "envd-token-%zu", before + 1);
	assert_string_equal(fake_request_header(exec, "X-Access-Token"), path);
	snprintf(path, sizeof(path), "traffic-token-%zu", before + 1);
	assert_string_equal(fake_request_header(exec, "E2B-Traffic-Access-Token"), path);
	assert_null(
		fake_request_header(exec, "X-API-Key")); /* the key stays on the control plane */
	assert_string_equal(fake_request_header(exec, "Content-Type"), "application/json");
	body = json_of(exec);
	assert_string_equal(jstr(body, "code"), "print('Hello from AIMS')\n1 + 1");
	assert_string_equal(jstr(body, "language"), "python");
	assert_null(cJSON_GetObjectItem(body, "context_id"));
	assert_string_equal(jstr(cJSON_GetObjectItem(body, "env_vars"), "GREETING"), "hi there");
	cJSON_Delete(body);
	assert_string_equal(fake_request_header(del, "X-API-Key"), KEY);
	/* One connection served the three calls (kept alive, shared). */
	assert_int_not_equal(create->client_port, 0);
	assert_int_equal(exec->client_port, create->client_port);
	assert_int_equal(del->client_port, create->client_port);

	all_deleted(before + 1);
	aims_exec_result_free(o.res);
}

static void test_lines_split_across_reads(void **state)
{
	static const char *const lines[] = {
		"{\"type\": \"stdout\", \"text\": \"h\\u00e9llo \\u2713\\n\"}",
		"{\"type\": \"stdout\", \"text\": \"second line of output\\n\"}",
	};
	size_t before = fake_e2b_created(fake);
	outcome o;

	(void)state;
	/* Three bytes at a time, with pauses: lines arrive in many reads. */
	fake_e2b_exec_script(fake, lines, 2, 3, 1, FAKE_EXEC_NORMAL, 200);
	run_python(&o, "print('x')", 0);
	assert_int_equal(o.rc, 0);
	assert_string_equal(o.res->stdout_data,
			    "h\xc3\xa9llo \xe2\x9c\x93\nsecond line of output\n");
	assert_true(o.res->success);
	all_deleted(before + 1);
	aims_exec_result_free(o.res);
}

static void test_error_line(void **state)
{
	static const char *const lines[] = {
		"{\"type\": \"stdout\", \"text\": \"before\\n\"}",
		"{\"type\": \"error\", \"name\": \"NameError\", \"value\": \"name 'x' is not "
		"defined\", \"traceback\": \"Traceback (most recent call last):\\nNameError\"}",
	};
	size_t before = fake_e2b_created(fake);
	outcome o;

	(void)state;
	fake_e2b_exec_script(fake, lines, 2, 0, 0, FAKE_EXEC_NORMAL, 200);
	run_python(&o, "print('before')\nx", 0);
	assert_int_equal(o.rc, 0); /* the code ran: its failure is in the result */
	assert_string_equal(o.res->stdout_data, "before\n");
	assert_string_equal(o.res->error, "NameError: name 'x' is not defined");
	assert_string_equal(o.res->stderr_data, "Traceback (most recent call last):\nNameError\n");
	assert_int_equal(o.res->exit_code, 1);
	assert_false(o.res->success);
	all_deleted(before + 1);
	aims_exec_result_free(o.res);
}

static void test_languages(void **state)
{
	static const struct {
		aims_language lang;
		const char *wire;
	} cases[] = {{AIMS_LANG_NODE, "javascript"}, {AIMS_LANG_BASH, "bash"}};

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		aims_exec_request req;
		aims_e2b_config cfg;
		cJSON *body;
		outcome o;

		fake_e2b_reset(fake);
		config(&cfg);
		request_for(&req, cases[i].lang, "echo hi");
		run_with(&o, &req, &cfg);
		assert_int_equal(o.rc, 0);
		assert_string_equal(o.res->stdout_data, "hello\n"); /* the fake's default */
		body = json_of(fake_e2b_find(fake, "POST", "/execute", 0));
		assert_string_equal(jstr(body, "language"), cases[i].wire);
		cJSON_Delete(body);
		assert_int_equal(fake_e2b_alive(fake), 0);
		aims_exec_result_free(o.res);
	}
}

/* Checks a process.Process/Start request: headers, framing, argv. */
static cJSON *check_process_request(const fake_request *r, const char *id, const char *user_b64,
				    uint32_t timeout_ms)
{
	const unsigned char *p = (const unsigned char *)r->body;
	char expect[64];
	cJSON *msg, *process;
	size_t len;

	assert_string_equal(fake_request_header(r, "Content-Type"), "application/connect+json");
	assert_string_equal(fake_request_header(r, "Connect-Protocol-Version"), "1");
	snprintf(expect, sizeof(expect), "%u", timeout_ms);
	assert_string_equal(fake_request_header(r, "Connect-Timeout-Ms"), expect);
	assert_string_equal(fake_request_header(r, "E2b-Sandbox-Id"), id);
	assert_string_equal(fake_request_header(r, "E2b-Sandbox-Port"), "49983");
	assert_non_null(fake_request_header(r, "X-Access-Token"));
	snprintf(expect, sizeof(expect), "Basic %s", user_b64);
	assert_string_equal(fake_request_header(r, "Authorization"), expect);
	assert_null(fake_request_header(r, "X-API-Key"));
	/* One envelope: flag 0, big-endian length of the rest, JSON. */
	assert_true(r->body_len > 5);
	assert_int_equal(p[0], 0);
	len = (size_t)p[1] << 24 | (size_t)p[2] << 16 | (size_t)p[3] << 8 | p[4];
	assert_int_equal(len, r->body_len - 5);
	msg = cJSON_ParseWithLength(r->body + 5, len);
	assert_non_null(msg);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(msg, "stdin"))); /* sent, and false */
	process = cJSON_GetObjectItem(msg, "process");
	assert_non_null(process);
	assert_string_equal(jstr(process, "cwd"), "/home/user");
	return msg;
}

static void assert_argv(const cJSON *msg, const char *cmd, const char *const *args)
{
	const cJSON *process = cJSON_GetObjectItem(msg, "process");
	const cJSON *list = cJSON_GetObjectItem(process, "args");
	size_t n = 0;

	assert_string_equal(jstr(process, "cmd"), cmd);
	while (args[n])
		n++;
	assert_int_equal(cJSON_GetArraySize(list), n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(cJSON_GetArrayItem(list, (int)i)->valuestring, args[i]);
}

static void test_packages_python(void **state)
{
	static const char *const pkgs[] = {"requests", "pandas==2.2.0"};
	static const char *const argv[] = {
		"install",  "--no-input",    "--disable-pip-version-check",
		"requests", "pandas==2.2.0", NULL};
	size_t before = fake_e2b_created(fake);
	const fake_request *create, *proc, *timeout, *exec, *del;
	aims_exec_request req;
	aims_e2b_config cfg;
	char path[128];
	const char *id;
	cJSON *msg, *body;
	outcome o;

	(void)state;
	config(&cfg);
	/* Envelopes in 3-byte pieces: they are split across reads. */
	fake_e2b_process_script(fake, 0, "Successfully installed requests pandas\n", "", NULL, 3);
	request_for(&req, AIMS_LANG_PYTHON, "import requests");
	req.packages = pkgs;
	req.package_count = 2;
	req.timeout_ms = 5000;
	run_with(&o, &req, &cfg);
	assert_int_equal(o.rc, 0);
	assert_true(o.res->success);

	id = fake_e2b_sandbox_id(fake, before);
	create = fake_e2b_find(fake, "POST", "/sandboxes", 0);
	proc = fake_e2b_find(fake, "POST", "/process.Process/Start", 0);
	snprintf(path, sizeof(path), "/sandboxes/%s/timeout", id);
	timeout = fake_e2b_find(fake, "POST", path, 0);
	exec = fake_e2b_find(fake, "POST", "/execute", 0);
	del = fake_e2b_find(fake, "DELETE", "/sandboxes/", 0);
	assert_non_null(proc);
	assert_non_null(timeout);
	assert_true(index_of(create) < index_of(proc) && index_of(proc) < index_of(timeout) &&
		    index_of(timeout) < index_of(exec) && index_of(exec) < index_of(del));
	assert_int_equal(fake_e2b_count(fake, "POST", "/process.Process/Start"), 1);

	/* The lifetime covers install + execution + margin, then is cut back. */
	body = json_of(create);
	assert_int_equal(cJSON_GetObjectItem(body, "timeout")->valueint, 5 + 20 + 30);
	cJSON_Delete(body);
	body = json_of(timeout);
	assert_int_equal(cJSON_GetObjectItem(body, "timeout")->valueint, 5 + 30);
	cJSON_Delete(body);

	msg = check_process_request(proc, id, "dXNlcjo=", cfg.install_timeout_ms); /* "user:" */
	assert_argv(msg, "pip", argv);
	cJSON_Delete(msg);
	all_deleted(before + 1);
	aims_exec_result_free(o.res);
}

static void test_packages_node_and_bash(void **state)
{
	static const char *const npm_pkgs[] = {"@types/node@20", "lodash"};
	static const char *const npm_argv[] = {
		"install",	  "--no-audit", "--no-fund", "--no-progress",
		"@types/node@20", "lodash",	NULL};
	static const char *const deb_pkgs[] = {"jq", "curl"};
	static const char *const update_argv[] = {"update", "-q", NULL};
	static const char *const install_argv[] = {
		"install", "-y", "-q", "--no-install-recommends", "jq", "curl", NULL};
	aims_exec_request req;
	aims_e2b_config cfg;
	const fake_request *p;
	const char *id;
	cJSON *msg, *envs;
	outcome o;

	(void)state;
	fake_e2b_reset(fake);
	config(&cfg);
	request_for(&req, AIMS_LANG_NODE, "console.log(1)");
	req.packages = npm_pkgs;
	req.package_count = 2;
	run_with(&o, &req, &cfg);
	assert_int_equal(o.rc, 0);
	id = fake_e2b_sandbox_id(fake, fake_e2b_created(fake) - 1);
	msg = check_process_request(fake_e2b_find(fake, "POST", "/process.Process/Start", 0), id,
				    "dXNlcjo=", cfg.install_timeout_ms);
	assert_argv(msg, "npm", npm_argv);
	cJSON_Delete(msg);
	assert_int_equal(fake_e2b_alive(fake), 0);
	aims_exec_result_free(o.res);

	/* Debian packages: as root, lists first, then the install. */
	fake_e2b_reset(fake);
	request_for(&req, AIMS_LANG_BASH, "jq --version");
	req.packages = deb_pkgs;
	req.package_count = 2;
	run_with(&o, &req, &cfg);
	assert_int_equal(o.rc, 0);
	id = fake_e2b_sandbox_id(fake, fake_e2b_created(fake) - 1);
	assert_int_equal(fake_e2b_count(fake, "POST", "/process.Process/Start"), 2);
	p = fake_e2b_find(fake, "POST", "/process.Process/Start", 0);
	msg = check_process_request(p, id, "cm9vdDo=", cfg.install_timeout_ms); /* "root:" */
	assert_argv(msg, "apt-get", update_argv);
	cJSON_Delete(msg);
	p = fake_e2b_find(fake, "POST", "/process.Process/Start", 1);
	msg = check_process_request(p, id, "cm9vdDo=", cfg.install_timeout_ms);
	assert_argv(msg, "apt-get", install_argv);
	envs = cJSON_GetObjectItem(cJSON_GetObjectItem(msg, "process"), "envs");
	assert_string_equal(jstr(envs, "DEBIAN_FRONTEND"), "noninteractive");
	cJSON_Delete(msg);
	assert_int_equal(fake_e2b_alive(fake), 0);
	aims_exec_result_free(o.res);
}

static void test_install_fails(void **state)
{
	static const char *const pkgs[] = {"nosuchpkg"};
	size_t before = fake_e2b_created(fake);
	aims_exec_request req;
	aims_e2b_config cfg;
	outcome o;

	(void)state;
	config(&cfg);
	fake_e2b_process_script(fake, 1, "Collecting nosuchpkg\n",
				"ERROR: Could not find a version that satisfies the requirement "
				"nosuchpkg\nERROR: No matching distribution found for nosuchpkg\n",
				NULL, 7);
	request_for(&req, AIMS_LANG_PYTHON, "import nosuchpkg");
	req.packages = pkgs;
	req.package_count = 1;
	run_with(&o, &req, &cfg);
	assert_int_equal(o.rc, AIMS_EINSTALL); /* 424, as for a local install */
	assert_null(o.res);
	assert_string_equal(o.err.message, "pip install failed in the E2B sandbox (exit code 1): "
					   "ERROR: No matching distribution found for nosuchpkg");
	assert_int_equal(fake_e2b_count(fake, "POST", "/execute"), 0);
	all_deleted(before + 1);
}

static void test_install_deadline(void **state)
{
	static const char *const pkgs[] = {"torch"};
	size_t before = fake_e2b_created(fake);
	aims_exec_request req;
	aims_e2b_config cfg;
	outcome o;

	(void)state;
	config(&cfg);
	fake_e2b_process_script(fake, 0, "Downloading torch\n", NULL, "deadline_exceeded", 0);
	request_for(&req, AIMS_LANG_PYTHON, "import torch");
	req.packages = pkgs;
	req.package_count = 1;
	run_with(&o, &req, &cfg);
	assert_int_equal(o.rc, AIMS_ETIMEOUT);
	assert_non_null(strstr(o.err.message, "pip install took longer than 20 s"));
	all_deleted(before + 1);
}

static void test_bad_packages_send_nothing(void **state)
{
	static const char *const bad[] = {
		"requests; rm -rf /",	   "$(curl evil)", "-r/etc/passwd",
		"--index-url=http://evil", "a b",	   ""};
	aims_exec_request req;
	aims_e2b_config cfg;
	outcome o;

	(void)state;
	config(&cfg);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *pkgs[] = {"requests", bad[i]};

		request_for(&req, AIMS_LANG_PYTHON, "print(1)");
		req.packages = pkgs;
		req.package_count = 2;
		run_with(&o, &req, &cfg);
		assert_int_equal(o.rc, AIMS_EINVALID);
		assert_non_null(strstr(o.err.message, "invalid package name"));
	}
	assert_int_equal(fake_e2b_request_count(fake), 0);
}

static void test_invalid_requests_send_nothing(void **state)
{
	static const char *const bad_env[] = {"1NAME=x", NULL};
	aims_exec_request req;
	aims_e2b_config cfg;
	outcome o;

	(void)state;
	config(&cfg);
	request_for(&req, AIMS_LANG_PYTHON, "   \n");
	run_with(&o, &req, &cfg);
	assert_int_equal(o.rc, AIMS_EINVALID);
	assert_string_equal(o.err.message, "the code is empty");

	request_for(&req, AIMS_LANG_PYTHON, "print(1)");
	req.code_len = 9; /* includes the NUL */
	run_with(&o, &req, &cfg);
	assert_int_equal(o.rc, AIMS_EINVALID);

	request_for(&req, AIMS_LANG_PYTHON, "print(1)");
	req.stdin_data = "input";
	req.stdin_len = 5;
	run_with(&o, &req, &cfg);
	assert_int_equal(o.rc, AIMS_EUNSUPPORTED);
	assert_non_null(strstr(o.err.message, "stdin"));

	request_for(&req, AIMS_LANG_PYTHON, "print(1)");
	req.env = bad_env;
	run_with(&o, &req, &cfg);
	assert_int_equal(o.rc, AIMS_EINVALID);

	request_for(&req, AIMS_LANG_PYTHON, "print(1)");
	req.timeout_ms = AIMS_EXEC_MAX_TIMEOUT_MS + 1;
	run_with(&o, &req, &cfg);
	assert_int_equal(o.rc, AIMS_EINVALID);
	assert_int_equal(fake_e2b_request_count(fake), 0);
}

static void test_rejected_key(void **state)
{
	aims_exec_request req;
	aims_e2b_config cfg;
	outcome o;

	(void)state;
	config(&cfg);
	snprintf(cfg.api_key, sizeof(cfg.api_key), "%s", OTHER_KEY);
	request_for(&req, AIMS_LANG_PYTHON, "print(1)");
	run_with(&o, &req, &cfg);
	assert_int_equal(o.rc, AIMS_EAUTH);
	assert_non_null(strstr(o.err.message, "E2B rejected the API key"));
	/* The fake repeats the key in its answer; the message must not. */
	assert_non_null(strstr(o.err.message, "[redacted]"));
	assert_int_equal(fake_e2b_count(fake, "POST", "/sandboxes"), 1); /* no retry */
	assert_int_equal(fake_e2b_alive(fake), 0);
}

static void test_429_honours_retry_after(void **state)
{
	size_t before = fake_e2b_created(fake);
	const fake_request *first, *second;
	outcome o;

	(void)state;
	fake_e2b_queue_create(fake, 429, 1, 0);
	run_python(&o, "print(1)", 0);
	assert_int_equal(o.rc, 0);
	assert_true(o.res->success);
	assert_int_equal(fake_e2b_count(fake, "POST", "/sandboxes"), 2);
	first = fake_e2b_find(fake, "POST", "/sandboxes", 0);
	second = fake_e2b_find(fake, "POST", "/sandboxes", 1);
	/* Retry-After: 1 is honoured rather than the 50 ms backoff. */
	assert_true(second->at_ms - first->at_ms >= 950);
	assert_true(second->at_ms - first->at_ms < 3000);
	all_deleted(before + 1);
	aims_exec_result_free(o.res);
}

static void test_5xx_bounded_retries(void **state)
{
	outcome o;

	(void)state;
	for (int i = 0; i < 8; i++)
		fake_e2b_queue_create(fake, 500, -1, 0);
	run_python(&o, "print(1)", 0);
	assert_int_equal(o.rc, AIMS_EUPSTREAM);
	assert_non_null(strstr(o.err.message, "E2B failed to create a sandbox (HTTP 500"));
	assert_non_null(strstr(o.err.message, "gave up after 4 attempt(s)"));
	assert_int_equal(fake_e2b_count(fake, "POST", "/sandboxes"), 4);
	/* 50 + 100 + 200 ms of backoff: bounded, no sandbox. */
	assert_true(o.elapsed_ms >= 350);
	assert_true(o.elapsed_ms < 5000);
	assert_int_equal(fake_e2b_alive(fake), 0);
}

static void test_429_until_budget(void **state)
{
	aims_exec_request req;
	aims_e2b_config cfg;
	outcome o;

	(void)state;
	config(&cfg);
	cfg.create_budget_ms = 1500;
	cfg.create_attempts = 10;
	for (int i = 0; i < 10; i++)
		fake_e2b_queue_create(fake, 429, 1, 0);
	request_for(&req, AIMS_LANG_PYTHON, "print(1)");
	run_with(&o, &req, &cfg);
	assert_int_equal(o.rc, AIMS_EBUSY);
	assert_non_null(strstr(o.err.message, "too many requests or sandboxes running"));
	/* The total is bounded by the budget, not by the attempts. */
	assert_int_equal(fake_e2b_count(fake, "POST", "/sandboxes"), 2);
	assert_true(o.elapsed_ms < 2500);
}

static void test_create_timeout_then_orphan_deleted(void **state)
{
	size_t before = fake_e2b_created(fake);
	const fake_request *list;
	aims_exec_request req;
	aims_e2b_config cfg;
	cJSON *body;
	outcome o;

	(void)state;
	config(&cfg);
	cfg.request_timeout_ms = 400;
	/* E2B creates the sandbox but answers too late: the client gives up. */
	fake_e2b_queue_create(fake, 201, -1, 1200);
	request_for(&req, AIMS_LANG_PYTHON, "print(1)");
	run_with(&o, &req, &cfg);
	assert_int_equal(o.rc, 0);
	assert_true(o.res->success);
	assert_int_equal(fake_e2b_count(fake, "POST", "/sandboxes"), 2);
	/* The sandbox whose id never arrived is found by the run's tag. */
	list = fake_e2b_find(fake, "GET", "/v2/sandboxes", 0);
	assert_non_null(list);
	body = json_of(fake_e2b_find(fake, "POST", "/sandboxes", 0));
	{
		char want[80];

		snprintf(want, sizeof(want), "aimsRun=%s",
			 jstr(cJSON_GetObjectItem(body, "metadata"), "aimsRun"));
		assert_string_equal(list->metadata_query, want);
	}
	cJSON_Delete(body);
	/* The fake is still sleeping on the first answer for a moment. */
	for (int i = 0; i < 40 && fake_e2b_alive(fake) > 0; i++)
		usleep(50000);
	all_deleted(before + 2);
	aims_exec_result_free(o.res);
}

/* A gateway's 5xx to the creation may come after E2B made the sandbox:
 * the run looks for its tag afterwards; a 4xx made nothing, no search. */
static void test_create_5xx_sweeps_for_orphans(void **state)
{
	aims_exec_request req;
	aims_e2b_config cfg;
	outcome o;

	(void)state;
	config(&cfg);
	fake_e2b_queue_create(fake, 503, -1, 0);
	request_for(&req, AIMS_LANG_PYTHON, "print(1)");
	run_with(&o, &req, &cfg);
	assert_int_equal(o.rc, 0);
	assert_true(o.res->success);
	assert_int_equal(fake_e2b_count(fake, "POST", "/sandboxes"), 2);
	assert_int_equal(fake_e2b_count(fake, "GET", "/v2/sandboxes"), 1);
	aims_exec_result_free(o.res);

	fake_e2b_reset(fake);
	fake_e2b_queue_create(fake, 400, -1, 0);
	run_with(&o, &req, &cfg);
	assert_int_equal(o.rc, AIMS_EINVALID);
	assert_int_equal(fake_e2b_count(fake, "GET", "/v2/sandboxes"), 0);
}

/* A stream that ends cleanly without end_of_execution, and one whose
 * connection is cut mid-chunk: both failures, never successes. */
static void test_stream_ends_early(void **state)
{
	static const char *const lines[] = {"{\"type\": \"stdout\", \"text\": \"partial\\n\"}"};
	static const struct {
		fake_exec_mode mode;
		const char *says;
	} cases[] = {{FAKE_EXEC_CUT, "ended before end_of_execution"},
		     {FAKE_EXEC_ABORT, "broke before end_of_execution"}};

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		size_t before = fake_e2b_created(fake);
		outcome o;

		fake_e2b_exec_script(fake, lines, 1, 0, 0, cases[i].mode, 200);
		run_python(&o, "print('partial')", 0);
		assert_int_equal(o.rc, AIMS_EUPSTREAM);
		assert_non_null(strstr(o.err.message, cases[i].says));
		assert_null(o.res);
		all_deleted(before + 1);
	}
}

static void test_slow_stream_times_out(void **state)
{
	static const char *const lines[] = {"{\"type\": \"stdout\", \"text\": \"started\\n\"}"};
	size_t before = fake_e2b_created(fake);
	uint64_t returned;
	outcome o;

	(void)state;
	fake_e2b_exec_script(fake, lines, 1, 0, 0, FAKE_EXEC_SLOW, 200);
	run_python(&o, "while True: pass", 800);
	returned = fake_now_ms();
	assert_int_equal(o.rc, 0);
	assert_true(o.res->timed_out);
	assert_int_equal(o.res->limit, AIMS_LIMIT_WALL_TIME);
	assert_false(o.res->success);
	assert_int_equal(o.res->exit_code, -1);
	assert_non_null(strstr(o.res->error, "time limit of 0.8 s"));
	assert_string_equal(o.res->stdout_data, "started\n"); /* what came before is kept */
	assert_true(o.elapsed_ms >= 800);
	assert_true(o.elapsed_ms < 800 + 1500);
	/* The client closed the stream; the server saw it soon after. */
	for (int i = 0; i < 40 && fake_e2b_streams_cut_by_client(fake) == 0; i++)
		usleep(50000);
	assert_int_equal(fake_e2b_streams_cut_by_client(fake), 1);
	assert_true(fake_e2b_last_cut_ms(fake) < returned + 1000);
	all_deleted(before + 1);
	aims_exec_result_free(o.res);
}

/* end_of_execution came, then the server kept the stream open until the
 * time limit: the code finished, so the result is its own, not a timeout. */
static void test_end_then_open_stream_is_a_result(void **state)
{
	static const char *const lines[] = {"{\"type\": \"stdout\", \"text\": \"done\\n\"}"};
	size_t before = fake_e2b_created(fake);
	outcome o;

	(void)state;
	fake_e2b_exec_script(fake, lines, 1, 0, 0, FAKE_EXEC_LINGER, 200);
	run_python(&o, "print('done')", 800);
	assert_int_equal(o.rc, 0);
	assert_false(o.res->timed_out);
	assert_true(o.res->success);
	assert_int_equal(o.res->exit_code, 0);
	assert_string_equal(o.res->stdout_data, "done\n");
	all_deleted(before + 1);
	aims_exec_result_free(o.res);
}

static void test_unknown_sandbox_502(void **state)
{
	size_t before = fake_e2b_created(fake);
	const fake_request *exec;
	outcome o;

	(void)state;
	fake_e2b_lose_sandboxes(fake, true);
	run_python(&o, "print(1)", 0);
	assert_int_equal(o.rc, AIMS_EUPSTREAM);
	assert_non_null(strstr(o.err.message, "the sandbox is gone or timed out"));
	assert_non_null(strstr(o.err.message, "The sandbox was not found"));
	exec = fake_e2b_find(fake, "POST", "/execute", 0);
	assert_non_null(exec);
	/* The delete is still sent; its 404 counts as done. */
	assert_int_equal(fake_e2b_count(fake, "DELETE", "/sandboxes/"), 1);
	all_deleted(before + 1);
}

static void *cancel_later(void *arg)
{
	int fd = *(int *)arg;

	usleep(300000);
	assert_int_equal(write(fd, "x", 1), 1);
	return NULL;
}

/* Runs req with a cancel fd that becomes readable after 300 ms. */
static void run_canceled(outcome *o, aims_exec_request *req, const aims_e2b_config *cfg)
{
	pthread_t thread;
	int fds[2];

	assert_int_equal(pipe(fds), 0);
	req->cancel_fd = fds[0];
	assert_int_equal(pthread_create(&thread, NULL, cancel_later, &fds[1]), 0);
	run_with(o, req, cfg);
	pthread_join(thread, NULL);
	close(fds[0]);
	close(fds[1]);
	assert_int_equal(o->rc, AIMS_ECANCELED);
	assert_true(o->elapsed_ms < 2000);
}

static void test_cancel_during_execution(void **state)
{
	size_t before = fake_e2b_created(fake);
	aims_exec_request req;
	aims_e2b_config cfg;
	outcome o;

	(void)state;
	config(&cfg);
	fake_e2b_exec_script(fake, NULL, 0, 0, 0, FAKE_EXEC_SLOW, 200);
	request_for(&req, AIMS_LANG_PYTHON, "import time; time.sleep(100)");
	req.timeout_ms = 20000;
	run_canceled(&o, &req, &cfg);
	assert_string_equal(o.err.message, "the execution was canceled");
	assert_int_equal(fake_e2b_count(fake, "DELETE", "/sandboxes/"), 1);
	all_deleted(before + 1);
}

static void test_cancel_while_waiting_to_retry(void **state)
{
	size_t before = fake_e2b_created(fake);
	aims_exec_request req;
	aims_e2b_config cfg;
	outcome o;

	(void)state;
	config(&cfg);
	cfg.retry_max_ms = 10000;
	fake_e2b_queue_create(fake, 429, 8, 0); /* Retry-After: 8 s */
	request_for(&req, AIMS_LANG_PYTHON, "print(1)");
	run_canceled(&o, &req, &cfg); /* well before the 8 s of Retry-After */
	assert_non_null(strstr(o.err.message, "canceled while waiting to retry"));
	assert_int_equal(fake_e2b_count(fake, "POST", "/sandboxes"), 1);
	all_deleted(before);
}

static void test_output_truncated(void **state)
{
	static const char *const lines[] = {
		"{\"type\": \"stdout\", \"text\": \"0123456789abcdefghij\"}"};
	aims_exec_request req;
	aims_e2b_config cfg;
	outcome o;

	(void)state;
	config(&cfg);
	fake_e2b_exec_script(fake, lines, 1, 0, 0, FAKE_EXEC_NORMAL, 200);
	request_for(&req, AIMS_LANG_PYTHON, "print('x' * 100)");
	req.output_max = 10;
	run_with(&o, &req, &cfg);
	assert_int_equal(o.rc, 0);
	assert_string_equal(o.res->stdout_data, "0123456789");
	assert_true(o.res->truncated);
	assert_int_equal(o.res->limit, AIMS_LIMIT_OUTPUT);
	assert_int_equal(fake_e2b_alive(fake), 0);
	aims_exec_result_free(o.res);
}

static void test_exec_from_environment(void **state)
{
	aims_exec_request req;
	aims_exec_result *res = NULL;
	aims_e2b_config cfg;
	aims_error err;

	(void)state;
	config(&cfg); /* sets the environment */
	/* A proxy configured for the machine is never used for loopback. */
	setenv("http_proxy", "http://127.0.0.1:9", 1);
	setenv("ALL_PROXY", "http://127.0.0.1:9", 1);
	request_for(&req, AIMS_LANG_PYTHON, "print('hello')");
	aims_error_clear(&err);
	assert_int_equal(aims_e2b_exec(&res, &req, &err), 0);
	unsetenv("http_proxy");
	unsetenv("ALL_PROXY");
	assert_string_equal(res->stdout_data, "hello\n");
	assert_int_equal(res->backend, AIMS_BACKEND_E2B);
	assert_int_equal(fake_e2b_alive(fake), 0);
	aims_exec_result_free(res);

	/* A missing key is a clear error before anything is sent. */
	fake_e2b_reset(fake);
	unsetenv("E2B_API_KEY");
	aims_error_clear(&err);
	res = NULL;
	assert_int_equal(aims_e2b_exec(&res, &req, &err), AIMS_EAUTH);
	assert_non_null(strstr(err.message, "E2B_API_KEY is not set"));
	assert_null(res);
	setenv("E2B_API_KEY", "e2b_not-hex-SECRETVALUE", 1);
	aims_error_clear(&err);
	assert_int_equal(aims_e2b_exec(&res, &req, &err), AIMS_EAUTH);
	assert_non_null(strstr(err.message, "malformed"));
	assert_null(strstr(err.message, "SECRETVALUE"));
	assert_int_equal(fake_e2b_request_count(fake), 0);
}

static void test_unreachable_e2b(void **state)
{
	aims_exec_request req;
	aims_e2b_config cfg;
	outcome o;

	(void)state;
	config(&cfg);
	/* Port 1 on loopback: nothing listens; connection refused each time. */
	snprintf(cfg.api_url, sizeof(cfg.api_url), "http://127.0.0.1:1");
	cfg.create_attempts = 2;
	request_for(&req, AIMS_LANG_PYTHON, "print(1)");
	run_with(&o, &req, &cfg);
	assert_int_equal(o.rc, AIMS_EUPSTREAM);
	assert_non_null(strstr(o.err.message, "cannot reach E2B"));
	assert_non_null(strstr(o.err.message, "127.0.0.1:1"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_python_hello, reset),
		cmocka_unit_test_setup(test_lines_split_across_reads, reset),
		cmocka_unit_test_setup(test_error_line, reset),
		cmocka_unit_test_setup(test_languages, reset),
		cmocka_unit_test_setup(test_packages_python, reset),
		cmocka_unit_test_setup(test_packages_node_and_bash, reset),
		cmocka_unit_test_setup(test_install_fails, reset),
		cmocka_unit_test_setup(test_install_deadline, reset),
		cmocka_unit_test_setup(test_bad_packages_send_nothing, reset),
		cmocka_unit_test_setup(test_invalid_requests_send_nothing, reset),
		cmocka_unit_test_setup(test_rejected_key, reset),
		cmocka_unit_test_setup(test_429_honours_retry_after, reset),
		cmocka_unit_test_setup(test_5xx_bounded_retries, reset),
		cmocka_unit_test_setup(test_429_until_budget, reset),
		cmocka_unit_test_setup(test_create_timeout_then_orphan_deleted, reset),
		cmocka_unit_test_setup(test_create_5xx_sweeps_for_orphans, reset),
		cmocka_unit_test_setup(test_stream_ends_early, reset),
		cmocka_unit_test_setup(test_slow_stream_times_out, reset),
		cmocka_unit_test_setup(test_end_then_open_stream_is_a_result, reset),
		cmocka_unit_test_setup(test_unknown_sandbox_502, reset),
		cmocka_unit_test_setup(test_cancel_during_execution, reset),
		cmocka_unit_test_setup(test_cancel_while_waiting_to_retry, reset),
		cmocka_unit_test_setup(test_output_truncated, reset),
		cmocka_unit_test_setup(test_exec_from_environment, reset),
		cmocka_unit_test_setup(test_unreachable_e2b, reset),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

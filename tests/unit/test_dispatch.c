/*
 * test_dispatch.c - every executor and every refusal: forward to a real
 * HTTP server on loopback (success, 4xx, 5xx, timeout, non-JSON reply),
 * a command task in the real sandbox with slots and stdin, loading a
 * skill, missing env/file/package, the code task's e2b exception, and
 * code found in utterances.
 */
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "aims/dispatch.h"
#include "aims/json.h"
#include "aims/router.h"
#include "support.h"

/* ---- A small upstream on loopback ------------------------------------------ */

typedef struct upstream_conn {
	aims_buf body;
} upstream_conn;

static enum MHD_Result upstream(void *cls, struct MHD_Connection *c, const char *url,
				const char *method, const char *version, const char *data,
				size_t *size, void **con_cls)
{
	upstream_conn *uc = *con_cls;
	struct MHD_Response *resp;
	unsigned status = 200;
	char *reply;
	enum MHD_Result ret;

	(void)cls;
	(void)version;
	if (!uc) {
		uc = calloc(1, sizeof(*uc));
		aims_buf_init(&uc->body, 1 << 20);
		*con_cls = uc;
		return MHD_YES;
	}
	if (*size) {
		aims_buf_append(&uc->body, data, *size);
		*size = 0;
		return MHD_YES;
	}
	if (strcmp(url, "/slow") == 0)
		sleep(3);
	if (strcmp(url, "/text") == 0) {
		reply = strdup("plain words, not JSON");
	} else {
		cJSON *obj = cJSON_CreateObject();
		cJSON *got = cJSON_Parse(uc->body.ptr ? uc->body.ptr : "");
		const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");

		cJSON_AddStringToObject(obj, "method", method);
		cJSON_AddStringToObject(obj, "path", url);
		cJSON_AddStringToObject(obj, "contentType", ct ? ct : "");
		cJSON_AddItemToObject(obj, "received", got ? got : cJSON_CreateNull());
		reply = cJSON_PrintUnformatted(obj);
		cJSON_Delete(obj);
		if (strncmp(url, "/status/", 8) == 0)
			status = (unsigned)strtoul(url + 8, NULL, 10);
	}
	resp = MHD_create_response_from_buffer(strlen(reply), reply, MHD_RESPMEM_MUST_FREE);
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void upstream_done(void *cls, struct MHD_Connection *c, void **con_cls,
			  enum MHD_RequestTerminationCode toe)
{
	upstream_conn *uc = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (uc) {
		aims_buf_free(&uc->body);
		free(uc);
	}
}

static struct MHD_Daemon *up;
static char base[64];
static char *dir;
static aims_registry *reg;

static const char *const manifests[][2] = {
	{"tasks/notify.md",
	 "---\nid: notify\ntype: task\nname: Notify\ndescription: d\n"
	 "triggers: [\"notify {who}\"]\nexecution:\n  target: api\n  route: /notify\n"
	 "  body:\n    channel: ops\n    options: {urgent: false, retries: 3}\n---\n"},
	{"tasks/get.md",
	 "---\nid: get-thing\ntype: task\nexecution:\n  target: api\n  route: /thing\n"
	 "  method: get\n---\n"},
	{"tasks/bad-method.md", "---\nid: bad-method\ntype: task\nexecution:\n  target: api\n"
				"  route: /x\n  method: BREW\n---\n"},
	{"tasks/s404.md",
	 "---\nid: s404\ntype: task\nexecution: {target: api, route: /status/404}\n---\n"},
	{"tasks/s500.md",
	 "---\nid: s500\ntype: task\nexecution: {target: api, route: /status/500}\n---\n"},
	{"tasks/slow.md",
	 "---\nid: slow\ntype: task\nexecution: {target: api, route: /slow}\n---\n"},
	{"tasks/text.md",
	 "---\nid: text\ntype: task\nexecution: {target: api, route: /text}\n---\n"},
	{"tasks/flip.md",
	 "---\nid: flip\ntype: task\nname: Flip\ndescription: d\n"
	 "triggers: [\"flip {address}\"]\nexecution:\n  target: command\n"
	 "  command: 'echo \"address=$AIMS_SLOT_ADDRESS task=$AIMS_TASK_ID\"; cat'\n---\n"},
	{"skills/guide.md", "---\nid: guide\ntype: skill\ntriggers: [style guide]\n---\n# "
			    "Guide\n\n## Rules\n\nBe kind.\n"},
	{"tasks/needs.md",
	 "---\nid: needs\ntype: task\nexecution: {target: internal}\ndependencies:\n"
	 "  env: [AIMS_TEST_UNSET_VAR]\n  files: [missing/file.txt]\n"
	 "  packages: [\"pip:surely-not-installed-pkg\"]\n---\n"},
	{"tasks/internal.md",
	 "---\nid: internal-thing\ntype: task\nexecution: {target: frontend}\n---\n"},
	{"tasks/e2b-sandbox.md", NULL},
};

static int setup(void **state)
{
	aims_error err;
	char *seed;

	(void)state;
	up = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0,
			      NULL, NULL, upstream, NULL, MHD_OPTION_NOTIFY_COMPLETED,
			      upstream_done, NULL, MHD_OPTION_SOCK_ADDR, NULL, MHD_OPTION_END);
	assert_non_null(up);
	snprintf(base, sizeof(base), "http://127.0.0.1:%u",
		 MHD_get_daemon_info(up, MHD_DAEMON_INFO_BIND_PORT)->port);
	dir = test_tmpdir();
	for (size_t i = 0; i < sizeof(manifests) / sizeof(manifests[0]); i++) {
		if (manifests[i][1]) {
			test_write_str(dir, manifests[i][0], manifests[i][1]);
			continue;
		}
		aims_error_clear(&err);
		{
			size_t len;

			assert_int_equal(aims_file_read(&seed, &len,
							AIMS_SOURCE_DIR "/skills/e2b-sandbox.md",
							1 << 20, &err),
					 0);
			test_write(dir, manifests[i][0], seed, len);
			free(seed);
		}
	}
	aims_error_clear(&err);
	assert_int_equal(aims_registry_new(&reg, &err), 0);
	assert_int_equal(aims_registry_add_path(reg, dir, &err), 0);
	unsetenv("E2B_API_KEY");
	unsetenv("AIMS_CODE_BACKEND");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	aims_registry_free(reg);
	MHD_stop_daemon(up);
	test_rmtree(dir);
	free(dir);
	return 0;
}

static const aims_manifest *def(const char *id)
{
	const aims_manifest *m = aims_registry_find_id(reg, id);

	assert_non_null(m);
	return m;
}

static int run(aims_dispatch_result **out, const char *id, const char *input, uint32_t timeout,
	       aims_error *err)
{
	aims_dispatch_options opts;

	aims_dispatch_options_init(&opts);
	opts.api_base = base;
	opts.forward_timeout_ms = timeout;
	aims_error_clear(err);
	*out = NULL;
	return aims_dispatch_run(out, def(id), NULL, NULL, input, input ? strlen(input) : 0, &opts,
				 err);
}

/* The upstream's JSON reply of a forward. */
static cJSON *reply_of(const aims_dispatch_result *r)
{
	cJSON *json;

	assert_true(r->upstream_json);
	json = cJSON_Parse(r->upstream_body);
	assert_non_null(json);
	return json;
}

static void test_executor_table(void **state)
{
	(void)state;
	assert_int_equal(aims_dispatch_executor_for(def("e2b-sandbox")), AIMS_EXECUTOR_CODE);
	assert_int_equal(aims_dispatch_executor_for(def("notify")), AIMS_EXECUTOR_FORWARD);
	assert_int_equal(aims_dispatch_executor_for(def("flip")), AIMS_EXECUTOR_COMMAND);
	assert_int_equal(aims_dispatch_executor_for(def("guide")), AIMS_EXECUTOR_LOAD);
	assert_int_equal(aims_dispatch_executor_for(def("internal-thing")), AIMS_EXECUTOR_LOAD);
	assert_string_equal(aims_executor_name(AIMS_EXECUTOR_FORWARD), "forward");
}

static void test_forward_success_and_merge(void **state)
{
	aims_dispatch_result *r;
	aims_error err;
	cJSON *reply, *received;

	(void)state;
	assert_int_equal(run(&r, "notify", "{\"message\": \"hi\", \"options\": {\"urgent\": true}}",
			     0, &err),
			 0);
	assert_true(r->ran);
	assert_int_equal(r->upstream_status, 200);
	assert_string_equal(r->method, "POST");
	reply = reply_of(r);
	assert_string_equal(cJSON_GetObjectItem(reply, "path")->valuestring, "/notify");
	assert_string_equal(cJSON_GetObjectItem(reply, "contentType")->valuestring,
			    "application/json");
	received = cJSON_GetObjectItem(reply, "received");
	/* execution.body, with the input merged over it (objects deeply). */
	assert_string_equal(cJSON_GetObjectItem(received, "channel")->valuestring, "ops");
	assert_string_equal(cJSON_GetObjectItem(received, "message")->valuestring, "hi");
	assert_true(cJSON_IsTrue(
		cJSON_GetObjectItem(cJSON_GetObjectItem(received, "options"), "urgent")));
	assert_int_equal(
		cJSON_GetObjectItem(cJSON_GetObjectItem(received, "options"), "retries")->valueint,
		3);
	cJSON_Delete(reply);
	aims_dispatch_result_free(r);

	/* GET sends no body. */
	assert_int_equal(run(&r, "get-thing", "{\"x\": 1}", 0, &err), 0);
	assert_string_equal(r->method, "GET");
	reply = reply_of(r);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(reply, "received")));
	cJSON_Delete(reply);
	aims_dispatch_result_free(r);
}

static void test_forward_statuses(void **state)
{
	aims_dispatch_result *r;
	aims_error err;
	cJSON *json;

	(void)state;
	assert_int_equal(run(&r, "s404", NULL, 0, &err), 0);
	assert_int_equal(r->upstream_status, 404);
	assert_true(r->ran);
	json = aims_json_dispatch_result(r);
	assert_int_equal(
		cJSON_GetObjectItem(cJSON_GetObjectItem(json, "result"), "status")->valueint, 404);
	assert_string_equal(
		cJSON_GetObjectItem(
			cJSON_GetObjectItem(cJSON_GetObjectItem(json, "result"), "body"), "path")
			->valuestring,
		"/status/404");
	cJSON_Delete(json);
	aims_dispatch_result_free(r);

	assert_int_equal(run(&r, "s500", NULL, 0, &err), 0);
	assert_int_equal(r->upstream_status, 500);
	aims_dispatch_result_free(r);

	/* A reply that is not JSON comes back as text. */
	assert_int_equal(run(&r, "text", NULL, 0, &err), 0);
	assert_false(r->upstream_json);
	json = aims_json_dispatch_result(r);
	assert_string_equal(
		cJSON_GetObjectItem(cJSON_GetObjectItem(json, "result"), "body")->valuestring,
		"plain words, not JSON");
	cJSON_Delete(json);
	aims_dispatch_result_free(r);
}

static void test_forward_failures(void **state)
{
	aims_dispatch_result *r;
	aims_dispatch_options opts;
	aims_error err;

	(void)state;
	assert_int_equal(run(&r, "slow", NULL, 500, &err), AIMS_ETIMEOUT);
	assert_null(r);

	assert_int_equal(run(&r, "bad-method", NULL, 0, &err), AIMS_EINVALID);
	assert_non_null(strstr(err.message, "BREW"));

	aims_dispatch_options_init(&opts);
	unsetenv("AIMS_API_BASE");
	aims_error_clear(&err);
	assert_int_equal(aims_dispatch_run(&r, def("notify"), NULL, NULL, NULL, 0, &opts, &err),
			 AIMS_ENOTFOUND);
	assert_non_null(strstr(err.message, "AIMS_API_BASE"));
	assert_non_null(strstr(err.message, "/notify"));

	/* Nothing listens there: a clear upstream error. */
	opts.api_base = "http://127.0.0.1:1";
	aims_error_clear(&err);
	assert_int_equal(aims_dispatch_run(&r, def("notify"), NULL, NULL, NULL, 0, &opts, &err),
			 AIMS_EUPSTREAM);

	/* Input must be a JSON object. */
	assert_int_equal(run(&r, "notify", "[1]", 0, &err), AIMS_EINVALID);
	assert_int_equal(run(&r, "notify", "{bad", 0, &err), AIMS_EINVALID);
}

static void test_command_with_slots(void **state)
{
	aims_router *router = NULL;
	aims_plan *plan = NULL;
	aims_dispatch_result *r = NULL;
	aims_error err;
	const char *utterance = "flip 12 Main St";

	(void)state;
	aims_error_clear(&err);
	assert_int_equal(aims_router_new(&router, reg, NULL, &err), 0);
	assert_int_equal(aims_router_route(&plan, router, utterance, strlen(utterance), 0, &err),
			 0);
	assert_non_null(plan->task);
	assert_string_equal(plan->task->id, "flip");
	assert_int_equal(aims_dispatch_plan(&r, plan, "{\"n\": 1}", 8, NULL, &err), 0);
	assert_int_equal(r->executor, AIMS_EXECUTOR_COMMAND);
	assert_true(r->ran);
	assert_non_null(r->exec);
	assert_int_equal(r->exec->exit_code, 0);
	assert_string_equal(r->exec->stdout_data, "address=12 Main St task=flip\n{\"n\":1}");
	aims_dispatch_result_free(r);
	aims_plan_free(plan);
	aims_router_free(router);
}

static void test_load_and_refusals(void **state)
{
	aims_dispatch_result *r;
	aims_error err;
	cJSON *json;
	size_t missing = 0;

	(void)state;
	assert_int_equal(run(&r, "guide", NULL, 0, &err), 0);
	assert_int_equal(r->executor, AIMS_EXECUTOR_LOAD);
	assert_true(r->ran);
	json = aims_json_dispatch_result(r);
	assert_non_null(strstr(
		cJSON_GetObjectItem(cJSON_GetObjectItem(json, "result"), "html")->valuestring,
		"<h2>Rules</h2>"));
	cJSON_Delete(json);
	aims_dispatch_result_free(r);

	unsetenv("AIMS_TEST_UNSET_VAR");
	assert_int_equal(run(&r, "needs", NULL, 0, &err), 0);
	assert_true(r->refused);
	assert_false(r->ran);
	for (size_t i = 0; i < r->readiness->count; i++)
		missing += !r->readiness->items[i].met;
	assert_int_equal(missing, 3);
	json = aims_json_dispatch_result(r);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(
				 cJSON_GetObjectItem(json, "readiness"), "missing")),
			 3);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(json, "result")));
	cJSON_Delete(json);
	aims_dispatch_result_free(r);
}

static void test_code_task_exception(void **state)
{
	aims_dispatch_result *r;
	aims_error err;

	(void)state;
	/* No E2B key: the declared dependencies are missing, yet the local
	 * backend serves the code task. */
	assert_int_equal(run(&r, "e2b-sandbox", "{\"code\": \"print(6*7)\"}", 0, &err), 0);
	assert_false(r->refused);
	assert_true(r->ran);
	assert_int_equal(r->exec->backend, AIMS_BACKEND_LOCAL);
	assert_string_equal(r->exec->stdout_data, "42\n");
	assert_non_null(r->readiness->note);
	aims_dispatch_result_free(r);

	/* Forced to e2b without a key: refused, and it says why. */
	setenv("AIMS_CODE_BACKEND", "e2b", 1);
	assert_int_equal(run(&r, "e2b-sandbox", "{\"code\": \"print(1)\"}", 0, &err), 0);
	assert_true(r->refused);
	aims_dispatch_result_free(r);
	unsetenv("AIMS_CODE_BACKEND");

	/* Bad code input. */
	assert_int_equal(run(&r, "e2b-sandbox", "{\"code\": 5}", 0, &err), AIMS_EINVALID);
	assert_int_equal(run(&r, "e2b-sandbox", "{}", 0, &err), AIMS_EINVALID);
	assert_non_null(strstr(err.message, "no code"));
}

static void expect_code(const char *utterance, size_t after, const char *trigger, const char *code,
			aims_language lang)
{
	char *got = NULL;
	aims_language found = 0;
	aims_error err;

	aims_error_clear(&err);
	assert_int_equal(aims_dispatch_find_code(&got, &found, utterance, after, trigger, &err), 0);
	if (strcmp(got, code) != 0)
		fail_msg("'%s': code '%s', expected '%s'", utterance, got, code);
	assert_int_equal(found, lang);
	free(got);
}

static void test_find_code(void **state)
{
	char *got = NULL;
	aims_language lang = 0;
	aims_error err;

	(void)state;
	expect_code("run python: print(6*7)", 10, "run python", "print(6*7)", AIMS_LANG_PYTHON);
	expect_code("run code   echo hi  ", 8, "run code", "echo hi", 0);
	expect_code("please run this\n```bash\necho hi\nexit 3\n```\nthanks", 10, "run",
		    "echo hi\nexit 3", AIMS_LANG_BASH);
	expect_code("run javascript ```console.log(1)```", 14, "run javascript", "console.log(1)",
		    AIMS_LANG_NODE);
	expect_code("run it\n~~~js\nconsole.log(2)\n~~~", 6, "run it", "console.log(2)",
		    AIMS_LANG_NODE);
	expect_code("run bash: ls -la", 8, "run bash", "ls -la", AIMS_LANG_BASH);
	/* The fence's language wins over the trigger's. */
	expect_code("run python\n```sh\necho x\n```", 10, "run python", "echo x", AIMS_LANG_BASH);
	/* An unclosed fence runs to the end. */
	expect_code("run code\n```python\nprint(1)\n", 8, "run code", "print(1)", AIMS_LANG_PYTHON);
	aims_error_clear(&err);
	assert_int_equal(aims_dispatch_find_code(&got, &lang, "run python", 10, "run python", &err),
			 AIMS_ENOTFOUND);
	assert_int_equal(
		aims_dispatch_find_code(&got, &lang, "run python:   ", 10, "run python", &err),
		AIMS_ENOTFOUND);
	assert_int_equal(aims_dispatch_find_code(&got, &lang, "x", 99, NULL, &err), AIMS_ENOTFOUND);
}

static void test_limits_and_secrets(void **state)
{
	aims_dispatch_result *r = NULL;
	aims_dispatch_options opts;
	aims_error err;
	size_t big = 64 * 1024;
	char *utterance = malloc(big + 1);

	(void)state;
	/* A long utterance is refused before anything scans it. */
	assert_non_null(utterance);
	for (size_t i = 0; i < big; i += 4)
		memcpy(utterance + i, "``\n`", 4);
	utterance[big] = '\0';
	aims_dispatch_options_init(&opts);
	aims_error_clear(&err);
	assert_int_equal(
		aims_dispatch_run(&r, def("e2b-sandbox"), NULL, utterance, NULL, 0, &opts, &err),
		AIMS_ETOOBIG);
	/* At the limit, the search for code stays linear: it returns. */
	utterance[AIMS_ROUTER_MAX_UTTERANCE] = '\0';
	{
		char *code = NULL;
		aims_language lang = 0;

		aims_error_clear(&err);
		aims_dispatch_find_code(&code, &lang, utterance, 0, NULL, &err);
		free(code);
	}
	free(utterance);

	/* Credentials in AIMS_API_BASE never reach the result. */
	opts.api_base = "http://user:s3cret@127.0.0.1:1";
	opts.dry_run = true;
	aims_error_clear(&err);
	assert_int_equal(aims_dispatch_run(&r, def("notify"), NULL, NULL, NULL, 0, &opts, &err), 0);
	assert_string_equal(r->url, "http://127.0.0.1:1/notify");
	aims_dispatch_result_free(r);

	/* A dry run of a forward works without AIMS_API_BASE. */
	opts.api_base = NULL;
	unsetenv("AIMS_API_BASE");
	assert_int_equal(aims_dispatch_run(&r, def("notify"), NULL, NULL, NULL, 0, &opts, &err), 0);
	assert_false(r->ran);
	assert_string_equal(r->url, "/notify");
	aims_dispatch_result_free(r);

	/* Upstream errors name the host, never the credentials. */
	opts.dry_run = false;
	opts.api_base = "http://user:s3cret@127.0.0.1:1";
	aims_error_clear(&err);
	assert_int_equal(aims_dispatch_run(&r, def("notify"), NULL, NULL, NULL, 0, &opts, &err),
			 AIMS_EUPSTREAM);
	assert_null(strstr(err.message, "s3cret"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_executor_table),
		cmocka_unit_test(test_forward_success_and_merge),
		cmocka_unit_test(test_forward_statuses),
		cmocka_unit_test(test_forward_failures),
		cmocka_unit_test(test_command_with_slots),
		cmocka_unit_test(test_load_and_refusals),
		cmocka_unit_test(test_code_task_exception),
		cmocka_unit_test(test_find_code),
		cmocka_unit_test(test_limits_and_secrets),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

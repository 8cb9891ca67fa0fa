/*
 * test_http_exec.c - the HTTP API with real executions: the seed contract
 * exactly, the three languages, limits, /api/route and /api/dispatch,
 * 429 beyond the concurrency limit, cancel on client disconnect, graceful
 * shutdown, and the real `aims serve` binary stopped by SIGTERM.
 */
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "aims/server.h"
#include "support.h"

static const char *const json_header[] = {"Content-Type: application/json", NULL};

typedef struct fixture {
	aims_registry *reg;
	aims_server *srv;
	char base[64];
} fixture;

/* Starts a server over the manifests in dir (NULL: the bundled ones). */
static void start_with(fixture *f, const char *dir, unsigned concurrency, unsigned queue,
		       unsigned drain_ms)
{
	aims_server_config cfg;
	aims_error err;

	unsetenv("E2B_API_KEY");
	unsetenv("AIMS_CODE_BACKEND");
	aims_error_clear(&err);
	assert_int_equal(aims_registry_new(&f->reg, &err), 0);
	if (dir) {
		assert_int_equal(aims_registry_add_path(f->reg, dir, &err), 0);
	} else {
		assert_int_equal(aims_registry_add_path(f->reg, AIMS_SOURCE_DIR "/skills", &err),
				 0);
		assert_int_equal(aims_registry_add_path(f->reg, AIMS_SOURCE_DIR "/tools", &err), 0);
	}
	aims_server_config_init(&cfg);
	cfg.listen = "127.0.0.1:0";
	cfg.max_concurrency = concurrency;
	cfg.queue = queue;
	cfg.drain_ms = drain_ms;
	assert_int_equal(aims_server_new(&f->srv, &cfg, f->reg, &err), 0);
	assert_int_equal(aims_server_start(f->srv, &err), 0);
	snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%u", aims_server_port(f->srv));
}

static void start(fixture *f, unsigned concurrency, unsigned queue, unsigned drain_ms)
{
	start_with(f, NULL, concurrency, queue, drain_ms);
}

static void stop(fixture *f)
{
	aims_server_free(f->srv);
	aims_registry_free(f->reg);
}

static cJSON *post(fixture *f, const char *path, const char *body, long status)
{
	char url[256];
	test_http_response resp;
	cJSON *json;

	snprintf(url, sizeof(url), "%s%s", f->base, path);
	test_http(&resp, "POST", url, json_header, body, strlen(body), 60000);
	assert_int_equal(resp.curl_code, 0);
	if (resp.status != status)
		fail_msg("POST %s %s: %ld, expected %ld: %s", path, body, resp.status, status,
			 resp.body);
	json = cJSON_Parse(resp.body);
	assert_non_null(json);
	test_http_free(&resp);
	return json;
}

static const char *str(const cJSON *obj, const char *key)
{
	const cJSON *item = cJSON_GetObjectItem(obj, key);

	assert_true(cJSON_IsString(item));
	return item->valuestring;
}

/* The seed request, and exactly the seed's keys plus the documented ones. */
static void test_seed_contract(void **state)
{
	static const char *const keys[] = {"stdout",  "stderr",	    "exitCode", "error",
					   "success", "durationMs", "timedOut", "truncated",
					   "backend", "limit"};
	fixture f;
	cJSON *json, *item;
	size_t n = 0;

	(void)state;
	start(&f, 2, 4, 0);
	json = post(&f, "/api/code/execute",
		    "{\"code\": \"print('Hello from AIMS')\", \"language\": \"python\"}", 200);
	assert_string_equal(str(json, "stdout"), "Hello from AIMS\n");
	assert_string_equal(str(json, "stderr"), "");
	assert_int_equal(cJSON_GetObjectItem(json, "exitCode")->valueint, 0);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(json, "error")));
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(json, "success")));
	assert_string_equal(str(json, "backend"), "local");
	cJSON_ArrayForEach(item, json)
	{
		bool known = false;

		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			known |= strcmp(item->string, keys[i]) == 0;
		if (!known)
			fail_msg("unexpected key %s", item->string);
		n++;
	}
	assert_int_equal(n, sizeof(keys) / sizeof(keys[0]));
	cJSON_Delete(json);
	stop(&f);
}

static void test_languages_and_outcomes(void **state)
{
	fixture f;
	cJSON *json;

	(void)state;
	start(&f, 2, 4, 0);
	json = post(&f, "/api/code/execute",
		    "{\"code\": \"console.log('node', 6*7); console.error('warn')\", \"language\": "
		    "\"node\"}",
		    200);
	assert_string_equal(str(json, "stdout"), "node 42\n");
	assert_string_equal(str(json, "stderr"), "warn\n");
	cJSON_Delete(json);
	json = post(&f, "/api/code/execute",
		    "{\"code\": \"read x; echo \\\"got $x\\\"; exit 4\", \"language\": \"sh\", "
		    "\"stdin\": \"data\\n\"}",
		    200);
	assert_string_equal(str(json, "stdout"), "got data\n");
	assert_int_equal(cJSON_GetObjectItem(json, "exitCode")->valueint, 4);
	assert_false(cJSON_IsTrue(cJSON_GetObjectItem(json, "success")));
	cJSON_Delete(json);
	json = post(&f, "/api/code/execute",
		    "{\"code\": \"import os; print(os.environ['GREETING'])\", \"env\": "
		    "{\"GREETING\": \"héllo\"}}",
		    200);
	assert_string_equal(str(json, "stdout"), "héllo\n");
	cJSON_Delete(json);
	json = post(
		&f, "/api/code/execute",
		"{\"code\": \"while True: pass\", \"language\": \"python\", \"timeoutMs\": 500}",
		200);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(json, "timedOut")));
	assert_false(cJSON_IsTrue(cJSON_GetObjectItem(json, "success")));
	assert_true(cJSON_IsString(cJSON_GetObjectItem(json, "error")));
	assert_string_equal(str(json, "limit"), "wall-time");
	cJSON_Delete(json);
	stop(&f);
}

static void test_route_and_dispatch(void **state)
{
	fixture f;
	cJSON *json, *result;

	(void)state;
	start(&f, 2, 4, 0);
	json = post(&f, "/api/route",
		    "{\"utterance\": \"run python: print(6*7)\", \"explain\": true}", 200);
	assert_string_equal(str(json, "status"), "matched");
	assert_string_equal(str(cJSON_GetObjectItem(json, "task"), "id"), "e2b-sandbox");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(json, "task"), "ready")));
	cJSON_Delete(json);
	json = post(&f, "/api/route", "{\"utterance\": \"good morning\"}", 200);
	assert_string_equal(str(json, "status"), "no_match");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(json, "task")));
	cJSON_Delete(json);
	cJSON_Delete(post(&f, "/api/route", "{}", 400));
	cJSON_Delete(post(&f, "/api/route", "{\"utterance\": 5}", 400));
	cJSON_Delete(post(&f, "/api/route", "{\"utterance\": \"x\", \"explain\": \"yes\"}", 400));
	{
		size_t big = 20000;
		char *body = malloc(big + 32);

		assert_non_null(body);
		memcpy(body, "{\"utterance\": \"", 15);
		memset(body + 15, 'a', big);
		memcpy(body + 15 + big, "\"}", 3);
		json = post(&f, "/api/route", body, 413);
		assert_non_null(strstr(str(json, "error"), "limit"));
		cJSON_Delete(json);
		free(body);
	}

	json = post(&f, "/api/dispatch", "{\"utterance\": \"run python: print(6*7)\"}", 200);
	result = cJSON_GetObjectItem(json, "result");
	assert_string_equal(str(result, "executor"), "code");
	assert_string_equal(str(cJSON_GetObjectItem(result, "result"), "stdout"), "42\n");
	assert_string_equal(str(cJSON_GetObjectItem(json, "plan"), "status"), "matched");
	cJSON_Delete(json);
	json = post(&f, "/api/dispatch",
		    "{\"id\": \"e2b-sandbox\", \"input\": {\"code\": \"echo $((6*7))\", "
		    "\"language\": \"bash\"}}",
		    200);
	assert_string_equal(
		str(cJSON_GetObjectItem(cJSON_GetObjectItem(json, "result"), "result"), "stdout"),
		"42\n");
	cJSON_Delete(json);
	json = post(&f, "/api/dispatch", "{\"utterance\": \"run python: 1\", \"dryRun\": true}",
		    200);
	assert_false(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(json, "result"), "ran")));
	cJSON_Delete(json);
	json = post(&f, "/api/dispatch", "{\"utterance\": \"good morning\"}", 404);
	assert_non_null(cJSON_GetObjectItem(json, "plan"));
	cJSON_Delete(json);
	json = post(&f, "/api/dispatch", "{\"id\": \"e2b\"}", 424);
	assert_string_equal(
		cJSON_GetArrayItem(
			cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(json, "result"),
								"readiness"),
					    "missing"),
			0)
			->valuestring,
		"E2B_API_KEY");
	cJSON_Delete(json);
	cJSON_Delete(post(&f, "/api/dispatch", "{\"id\": \"nope\"}", 404));
	cJSON_Delete(post(&f, "/api/dispatch", "{}", 400));
	cJSON_Delete(post(&f, "/api/dispatch", "{\"id\": \"e2b-sandbox\", \"input\": [1]}", 400));
	cJSON_Delete(post(&f, "/api/dispatch", "{\"utterance\": \"run python\"}", 400));
	stop(&f);
}

typedef struct slow_call {
	fixture *f;
	const char *body;
	long timeout_ms;
	test_http_response resp;
} slow_call;

static void *call_thread(void *arg)
{
	slow_call *c = arg;
	char url[256];

	snprintf(url, sizeof(url), "%s/api/code/execute", c->f->base);
	test_http(&c->resp, "POST", url, json_header, c->body, strlen(c->body), c->timeout_ms);
	return NULL;
}

static char *metrics_text(fixture *f)
{
	char url[256];
	test_http_response resp;
	char *text;

	snprintf(url, sizeof(url), "%s/metrics", f->base);
	test_http(&resp, "GET", url, NULL, NULL, 0, 5000);
	text = strdup(resp.body);
	test_http_free(&resp);
	return text;
}

/* One slot, one queue place: of three long executions at once, one runs,
 * one waits, one gets 429 with Retry-After; nothing hangs. */
static void test_concurrency_limit(void **state)
{
	fixture f;
	slow_call calls[3];
	pthread_t threads[3];
	int ok = 0, rejected = 0;

	(void)state;
	start(&f, 1, 1, 0);
	for (int i = 0; i < 3; i++) {
		memset(&calls[i], 0, sizeof(calls[i]));
		calls[i].f = &f;
		calls[i].body = "{\"code\": \"import time; time.sleep(1); print('done')\"}";
		calls[i].timeout_ms = 30000;
		assert_int_equal(pthread_create(&threads[i], NULL, call_thread, &calls[i]), 0);
		usleep(150 * 1000);
	}
	for (int i = 0; i < 3; i++) {
		pthread_join(threads[i], NULL);
		assert_int_equal(calls[i].resp.curl_code, 0);
		if (calls[i].resp.status == 200) {
			assert_non_null(strstr(calls[i].resp.body, "\"stdout\":\"done\\n\""));
			ok++;
		} else {
			char *retry = test_http_header(&calls[i].resp, "Retry-After");

			assert_int_equal(calls[i].resp.status, 429);
			assert_string_equal(retry, "1");
			assert_non_null(strstr(calls[i].resp.body, "retry later"));
			free(retry);
			rejected++;
		}
		test_http_free(&calls[i].resp);
	}
	assert_int_equal(ok, 2);
	assert_int_equal(rejected, 1);
	{
		char *m = metrics_text(&f);

		assert_non_null(strstr(m, "aims_executions_rejected_total 1\n"));
		assert_non_null(strstr(m, "aims_execution_duration_seconds_count 2\n"));
		free(m);
	}
	stop(&f);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A client that gives up cancels its execution: the slot frees long
 * before the program would have ended. */
static void test_disconnect_cancels(void **state)
{
	fixture f;
	slow_call c;
	uint64_t start_ms;
	char *m = NULL;

	(void)state;
	start(&f, 1, 1, 0);
	memset(&c, 0, sizeof(c));
	c.f = &f;
	c.body = "{\"code\": \"import time; time.sleep(30)\", \"timeoutMs\": 60000}";
	c.timeout_ms = 700;
	start_ms = now_ms();
	call_thread(&c);
	assert_int_not_equal(c.resp.curl_code, 0); /* the client timed out */
	test_http_free(&c.resp);
	for (int i = 0; i < 100; i++) {
		free(m);
		m = metrics_text(&f);
		if (strstr(m, "aims_executions_running 0\n") &&
		    strstr(m, "aims_sandbox_failures_total{cause=\"canceled\"} 1\n"))
			break;
		usleep(50 * 1000);
	}
	assert_non_null(strstr(m, "aims_executions_running 0\n"));
	assert_non_null(strstr(m, "aims_sandbox_failures_total{cause=\"canceled\"} 1\n"));
	assert_true(now_ms() - start_ms < 10000);
	free(m);
	/* The slot is free again. */
	cJSON_Delete(post(&f, "/api/code/execute", "{\"code\": \"print(1)\"}", 200));
	stop(&f);
}

/* Shutdown with an execution running: it is canceled after the drain
 * time, and shutdown returns promptly. */
static void test_graceful_shutdown(void **state)
{
	fixture f;
	slow_call c;
	pthread_t thread;
	uint64_t start_ms;

	(void)state;
	start(&f, 1, 1, 300);
	memset(&c, 0, sizeof(c));
	c.f = &f;
	c.body = "{\"code\": \"import time; time.sleep(30)\", \"timeoutMs\": 60000}";
	c.timeout_ms = 20000;
	assert_int_equal(pthread_create(&thread, NULL, call_thread, &c), 0);
	usleep(500 * 1000);
	start_ms = now_ms();
	aims_server_shutdown(f.srv);
	assert_true(now_ms() - start_ms < 5000);
	pthread_join(thread, NULL);
	/* The client got an answer or a closed connection, never a hang;
	 * an answer says the server canceled it (503), not the client (499). */
	if (c.resp.curl_code == 0) {
		if (c.resp.status != 503 || !strstr(c.resp.body, "the server is shutting down"))
			fail_msg("after shutdown: %ld %s", c.resp.status, c.resp.body);
	}
	test_http_free(&c.resp);
	stop(&f);
}

/* A forwarded route without AIMS_API_BASE is the server's configuration:
 * 503, whether routed or named. */
static void test_forward_unconfigured(void **state)
{
	char *dir = test_tmpdir();
	fixture f;
	cJSON *json;

	(void)state;
	unsetenv("AIMS_API_BASE");
	test_write_str(
		dir, "tasks/widget.md",
		"---\nid: widget\ntype: task\nname: Widget\ndescription: d\n"
		"triggers: [send widget]\nexecution: {target: api, route: /api/widgets}\n---\n");
	start_with(&f, dir, 2, 4, 0);
	json = post(&f, "/api/dispatch", "{\"utterance\": \"send widget\"}", 503);
	assert_non_null(strstr(str(json, "error"), "AIMS_API_BASE"));
	cJSON_Delete(json);
	json = post(&f, "/api/dispatch", "{\"id\": \"widget\"}", 503);
	assert_non_null(strstr(str(json, "error"), "AIMS_API_BASE"));
	cJSON_Delete(json);
	stop(&f);
	test_rmtree(dir);
	free(dir);
}

/* Shutdown while an execution runs that ends within the drain time: the
 * client gets its whole reply. */
static void test_shutdown_delivers_finished_work(void **state)
{
	fixture f;
	slow_call c;
	pthread_t thread;

	(void)state;
	start(&f, 1, 1, 5000);
	memset(&c, 0, sizeof(c));
	c.f = &f;
	c.body = "{\"code\": \"import time; time.sleep(1); print('finished')\"}";
	c.timeout_ms = 20000;
	assert_int_equal(pthread_create(&thread, NULL, call_thread, &c), 0);
	usleep(400 * 1000);
	aims_server_shutdown(f.srv);
	pthread_join(thread, NULL);
	assert_int_equal(c.resp.curl_code, 0);
	assert_int_equal(c.resp.status, 200);
	assert_non_null(strstr(c.resp.body, "\"stdout\":\"finished\\n\""));
	test_http_free(&c.resp);
	stop(&f);
}

/* The real binary: prints its port, serves, stops on SIGTERM with 0. */
static void test_binary_sigterm(void **state)
{
	int err_pipe[2];
	posix_spawn_file_actions_t fa;
	char *argv[] = {(char *)AIMS_BINARY,
			"serve",
			"--listen",
			"127.0.0.1:0",
			"--skills",
			(char *)AIMS_SOURCE_DIR "/skills",
			NULL};
	char buf[4096] = "", url[128];
	size_t len = 0;
	pid_t pid;
	int status;
	unsigned port = 0;
	test_http_response resp;
	extern char **environ;

	(void)state;
	assert_int_equal(pipe(err_pipe), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
	posix_spawn_file_actions_addclose(&fa, err_pipe[0]);
	assert_int_equal(posix_spawn(&pid, AIMS_BINARY, &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(err_pipe[1]);
	while (!port && len + 1 < sizeof(buf)) {
		ssize_t n = read(err_pipe[0], buf + len, sizeof(buf) - 1 - len);
		const char *at;

		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		if ((at = strstr(buf, "on port ")))
			port = (unsigned)strtoul(at + 8, NULL, 10);
	}
	assert_true(port > 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/healthz", port);
	test_http(&resp, "GET", url, NULL, NULL, 0, 5000);
	assert_int_equal(resp.status, 200);
	test_http_free(&resp);
	kill(pid, SIGTERM);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	for (ssize_t n; (n = read(err_pipe[0], buf + len, sizeof(buf) - 1 - len)) > 0;)
		len += (size_t)n;
	buf[len] = '\0';
	assert_non_null(strstr(buf, "GET /healthz 200"));
	assert_non_null(strstr(buf, "SIGTERM received"));
	close(err_pipe[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed_contract),
		cmocka_unit_test(test_languages_and_outcomes),
		cmocka_unit_test(test_route_and_dispatch),
		cmocka_unit_test(test_concurrency_limit),
		cmocka_unit_test(test_disconnect_cancels),
		cmocka_unit_test(test_graceful_shutdown),
		cmocka_unit_test(test_shutdown_delivers_finished_work),
		cmocka_unit_test(test_forward_unconfigured),
		cmocka_unit_test(test_binary_sigterm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

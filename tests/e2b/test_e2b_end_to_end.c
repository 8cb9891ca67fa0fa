/*
 * test_e2b_end_to_end.c - the E2B backend end to end, against the local
 * stand-in: `aims exec --backend e2b` (the real binary) and
 * POST /api/code/execute with "backend": "e2b" (the real server), each
 * creating, executing in and deleting a sandbox, with the key never in
 * any output.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "aims/server.h"
#include "fake_e2b.h"
#include "support.h"

#define KEY "e2b_0123456789abcdef0123456789abcdef"

static fake_e2b *fake;
static const char *const lines[] = {
	"{\"type\": \"number_of_executions\", \"execution_count\": 1}",
	"{\"type\": \"stdout\", \"text\": \"Hello from E2B\\n\"}",
	"{\"type\": \"end_of_execution\"}",
};

static int setup(void **state)
{
	(void)state;
	fake = fake_e2b_start(KEY);
	setenv("E2B_API_KEY", KEY, 1);
	setenv("E2B_API_URL", fake_e2b_url(fake), 1);
	setenv("E2B_SANDBOX_URL", fake_e2b_url(fake), 1);
	unsetenv("E2B_DOMAIN");
	unsetenv("E2B_DEBUG");
	unsetenv("AIMS_CODE_BACKEND");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fake_e2b_stop(fake);
	return 0;
}

static void test_cli_exec_backend_e2b(void **state)
{
	test_run run;
	size_t before = fake_e2b_created(fake);

	(void)state;
	fake_e2b_reset(fake);
	fake_e2b_exec_script(fake, lines, 3, 0, 0, FAKE_EXEC_NORMAL, 200);
	test_run_aims(&run, NULL, NULL, NULL,
		      (const char *const[]){"exec", "--backend", "e2b", "-l", "python", "-c",
					    "print('Hello from E2B')", NULL});
	assert_int_equal(run.status, 0);
	assert_string_equal(run.out, "Hello from E2B\n");
	assert_null(strstr(run.err, KEY));
	assert_int_equal(fake_e2b_created(fake), before + 1);
	assert_int_equal(fake_e2b_alive(fake), 0);
	assert_int_equal(fake_e2b_count(fake, "DELETE", "/sandboxes/"), 1);
	test_run_free(&run);

	/* --json says which backend ran it. */
	fake_e2b_reset(fake);
	fake_e2b_exec_script(fake, lines, 3, 0, 0, FAKE_EXEC_NORMAL, 200);
	test_run_aims(&run, NULL, NULL, NULL,
		      (const char *const[]){"exec", "--backend", "e2b", "--json", "-l", "python",
					    "-c", "print('Hello from E2B')", NULL});
	assert_int_equal(run.status, 0);
	assert_non_null(strstr(run.out, "\"backend\":\t\"e2b\""));
	assert_null(strstr(run.out, KEY));
	test_run_free(&run);

	/* A rejected key: a clear error, the key not repeated. */
	test_run_aims(
		&run, NULL, NULL, (const char *const[]){"E2B_API_KEY=e2b_ffffffffffffffff", NULL},
		(const char *const[]){"exec", "--backend", "e2b", "-l", "python", "-c", "1", NULL});
	assert_int_equal(run.status, 1);
	assert_non_null(strstr(run.err, "E2B rejected the API key"));
	assert_null(strstr(run.err, "e2b_ffffffffffffffff"));
	test_run_free(&run);
	assert_int_equal(fake_e2b_alive(fake), 0);
}

static void test_http_backend_e2b(void **state)
{
	aims_registry *reg = NULL;
	aims_server *srv = NULL;
	aims_server_config cfg;
	aims_error err;
	char url[128];
	const char *body = "{\"code\": \"print('Hello from E2B')\", \"language\": \"python\", "
			   "\"backend\": \"e2b\"}";
	test_http_response resp;
	cJSON *json;

	(void)state;
	fake_e2b_reset(fake);
	fake_e2b_exec_script(fake, lines, 3, 0, 0, FAKE_EXEC_NORMAL, 200);
	aims_error_clear(&err);
	assert_int_equal(aims_registry_new(&reg, &err), 0);
	aims_server_config_init(&cfg);
	cfg.listen = "127.0.0.1:0";
	assert_int_equal(aims_server_new(&srv, &cfg, reg, &err), 0);
	assert_int_equal(aims_server_start(srv, &err), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/api/code/execute", aims_server_port(srv));
	test_http(&resp, "POST", url, (const char *const[]){"Content-Type: application/json", NULL},
		  body, strlen(body), 30000);
	assert_int_equal(resp.status, 200);
	json = cJSON_Parse(resp.body);
	assert_non_null(json);
	assert_string_equal(cJSON_GetObjectItem(json, "stdout")->valuestring, "Hello from E2B\n");
	assert_string_equal(cJSON_GetObjectItem(json, "backend")->valuestring, "e2b");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(json, "success")));
	assert_null(strstr(resp.body, KEY));
	cJSON_Delete(json);
	test_http_free(&resp);
	assert_int_equal(fake_e2b_alive(fake), 0);
	/* The execute request carried the code to the sandbox. */
	assert_non_null(strstr(fake_e2b_find(fake, "POST", "/execute", 0)->body, "Hello from E2B"));
	aims_server_free(srv);
	aims_registry_free(reg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cli_exec_backend_e2b),
		cmocka_unit_test(test_http_backend_e2b),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

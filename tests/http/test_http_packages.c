/*
 * test_http_packages.c - POST /api/code/execute with "packages" against a
 * real server on loopback, from a local package index built by the test
 * (a wheel; never a registry): the code imports the package, the second
 * request reuses the layer, an unknown package is a 424 naming it with
 * the installer's last lines (and counted in /metrics), a bad name a 400.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "aims/sandbox.h"
#include "aims/server.h"
#include "package_fixtures.h"
#include "support.h"

static const char *const json_header[] = {"Content-Type: application/json", NULL};

typedef struct fixture {
	aims_registry *reg;
	aims_server *srv;
	char base[64];
	char *root, *cache, *wheels;
	FILE *log; /* the server's access log */
} fixture;

static void start(fixture *f)
{
	aims_server_config cfg;
	aims_error err;

	test_require_sandbox();
	f->root = test_tmpdir();
	assert_int_equal(chmod(f->root, 0755), 0); /* the sandbox user mounts from here */
	f->cache = test_join(f->root, "cache");
	f->wheels = test_join(f->root, "wheels");
	test_make_wheel(f->wheels, "aims_http_demo", "0.3",
			"def answer():\n    return 'answer from a package'\n");
	setenv("AIMS_CACHE_DIR", f->cache, 1);
	setenv("AIMS_PIP_INDEX_URL", f->wheels, 1);
	unsetenv("E2B_API_KEY");
	unsetenv("AIMS_CODE_BACKEND");
	aims_error_clear(&err);
	assert_int_equal(aims_registry_new(&f->reg, &err), 0);
	aims_server_config_init(&cfg);
	cfg.listen = "127.0.0.1:0";
	assert_non_null(f->log = tmpfile());
	cfg.error_log = f->log; /* (no access log: only the 500's line) */
	assert_int_equal(aims_server_new(&f->srv, &cfg, f->reg, &err), 0);
	assert_int_equal(aims_server_start(f->srv, &err), 0);
	snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%u", aims_server_port(f->srv));
}

static void stop(fixture *f)
{
	aims_server_free(f->srv);
	fclose(f->log);
	aims_registry_free(f->reg);
	aims_sandbox_shutdown();
	test_rmtree(f->root);
	free(f->root);
	free(f->cache);
	free(f->wheels);
}

static cJSON *post(fixture *f, const char *body, long status)
{
	char url[256];
	test_http_response resp;
	cJSON *json;

	snprintf(url, sizeof(url), "%s/api/code/execute", f->base);
	test_http(&resp, "POST", url, json_header, body, strlen(body), 120000);
	assert_int_equal(resp.curl_code, 0);
	if (resp.status != status)
		fail_msg("POST %s: %ld, expected %ld: %s", body, resp.status, status, resp.body);
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

static void execute_with_packages(void **state)
{
	static const char body[] =
		"{\"code\": \"import aims_http_demo; print(aims_http_demo.answer())\", "
		"\"language\": \"python\", \"packages\": [\"aims-http-demo==0.3\"]}";
	fixture f;
	cJSON *first, *second, *p1, *p2;

	(void)state;
	start(&f);
	first = post(&f, body, 200);
	assert_string_equal(str(first, "stdout"), "answer from a package\n");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(first, "success")));
	p1 = cJSON_GetObjectItem(first, "packages");
	assert_non_null(p1);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(p1, "installed")));
	second = post(&f, body, 200);
	assert_string_equal(str(second, "stdout"), "answer from a package\n");
	p2 = cJSON_GetObjectItem(second, "packages");
	assert_non_null(p2);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(p2, "installed")));
	assert_string_equal(str(p1, "layer"), str(p2, "layer"));
	cJSON_Delete(first);
	cJSON_Delete(second);
	stop(&f);
}

static void failing_packages(void **state)
{
	fixture f;
	cJSON *json;

	(void)state;
	start(&f);
	json = post(&f,
		    "{\"code\": \"print(1)\", \"language\": \"python\", "
		    "\"packages\": [\"aims-missing-thing\"]}",
		    424);
	assert_non_null(strstr(str(json, "error"), "'aims-missing-thing'"));
	assert_non_null(strstr(str(json, "error"),
			       "No matching distribution found for aims-missing-thing"));
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(json, "success")));
	cJSON_Delete(json);
	{ /* counted as a failed install */
		char url[256];
		test_http_response resp;

		snprintf(url, sizeof(url), "%s/metrics", f.base);
		test_http(&resp, "GET", url, NULL, NULL, 0, 10000);
		assert_int_equal(resp.status, 200);
		assert_non_null(strstr(
			resp.body, "aims_sandbox_failures_total{cause=\"package_install\"} 1\n"));
		test_http_free(&resp);
	}
	json = post(&f,
		    "{\"code\": \"print(1)\", \"language\": \"python\", "
		    "\"packages\": [\"x; rm -rf /\"]}",
		    400);
	assert_non_null(strstr(str(json, "error"), "invalid package name 'x; rm -rf /'"));
	cJSON_Delete(json);
	stop(&f);
}

/* A fault of the server's own (here: its cache directory cannot be made)
 * answers 500 without naming the server's files; its log has them. */
static void internal_fault_stays_in_the_log(void **state)
{
	fixture f;
	cJSON *json;
	char *blocker, line[1024];
	bool logged = false;

	(void)state;
	start(&f);
	blocker = test_join(f.root, "not-a-directory");
	test_write_str(f.root, "not-a-directory", "a file\n");
	free(f.cache);
	f.cache = test_join(blocker, "cache");
	setenv("AIMS_CACHE_DIR", f.cache, 1);
	json = post(&f,
		    "{\"code\": \"print(1)\", \"language\": \"python\", "
		    "\"packages\": [\"aims-http-demo==0.3\"]}",
		    500);
	assert_string_equal(str(json, "error"), "internal error: the server's log has the details");
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(json, "success")));
	cJSON_Delete(json);
	rewind(f.log);
	while (fgets(line, sizeof(line), f.log))
		logged |= strstr(line, "aims: serve: POST /api/code/execute: 500: ") == line &&
			  strstr(line, blocker) != NULL;
	assert_true(logged);
	free(blocker);
	stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(execute_with_packages),
		cmocka_unit_test(failing_packages),
		cmocka_unit_test(internal_fault_stays_in_the_log),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_http_api.c - the HTTP API against a real server on an ephemeral
 * loopback port, with libcurl: every endpoint that needs no sandbox, every
 * error status with a hostile input, auth on and off, limits.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "aims/server.h"
#include "support.h"

static const char *const json_header[] = {"Content-Type: application/json", NULL};
static const char *const expect_continue[] = {"Content-Type: application/json",
					      "Expect: 100-continue", NULL};

typedef struct fixture {
	aims_registry *reg;
	aims_server *srv;
	char base[64];
} fixture;

static void start(fixture *f, const char *token, unsigned max_body)
{
	aims_server_config cfg;
	aims_error err;

	aims_error_clear(&err);
	assert_int_equal(aims_registry_new(&f->reg, &err), 0);
	assert_int_equal(aims_registry_add_path(f->reg, AIMS_SOURCE_DIR "/skills", &err), 0);
	assert_int_equal(aims_registry_add_path(f->reg, AIMS_SOURCE_DIR "/tools", &err), 0);
	aims_server_config_init(&cfg);
	cfg.listen = "127.0.0.1:0";
	cfg.token = token;
	cfg.max_body = max_body;
	assert_int_equal(aims_server_new(&f->srv, &cfg, f->reg, &err), 0);
	assert_int_equal(aims_server_start(f->srv, &err), 0);
	assert_true(aims_server_port(f->srv) > 0);
	snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%u", aims_server_port(f->srv));
}

static void stop(fixture *f)
{
	aims_server_free(f->srv);
	aims_registry_free(f->reg);
}

static cJSON *call(fixture *f, const char *method, const char *path, const char *const *headers,
		   const char *body, size_t len, long expect_status)
{
	char url[512];
	test_http_response resp;
	cJSON *json;

	snprintf(url, sizeof(url), "%s%s", f->base, path);
	test_http(&resp, method, url, headers, body, len, 10000);
	assert_int_equal(resp.curl_code, 0);
	if (resp.status != expect_status)
		fail_msg("%s %s: status %ld, expected %ld: %s", method, path, resp.status,
			 expect_status, resp.body);
	json = cJSON_Parse(resp.body);
	if (strcmp(method, "HEAD") != 0 && strcmp(path, "/metrics") != 0 && !json)
		fail_msg("%s %s: body is not JSON: %s", method, path, resp.body);
	test_http_free(&resp);
	return json;
}

static void expect_error(fixture *f, const char *method, const char *path,
			 const char *const *headers, const char *body, size_t len, long status,
			 const char *needle)
{
	cJSON *json = call(f, method, path, headers, body, len, status);
	cJSON *error = cJSON_GetObjectItem(json, "error");

	if (!cJSON_IsString(error) || !strstr(error->valuestring, needle))
		fail_msg("%s %s: error should mention '%s': %s", method, path, needle,
			 cJSON_IsString(error) ? error->valuestring : "(none)");
	cJSON_Delete(json);
}

static void test_healthz_and_listing(void **state)
{
	fixture f;
	cJSON *json, *items;

	(void)state;
	start(&f, NULL, 0);
	json = call(&f, "GET", "/healthz", NULL, NULL, 0, 200);
	assert_string_equal(cJSON_GetObjectItem(json, "status")->valuestring, "ok");
	assert_int_equal(cJSON_GetObjectItem(json, "definitions")->valueint, 2);
	cJSON_Delete(json);

	json = call(&f, "GET", "/api/skills", NULL, NULL, 0, 200);
	items = cJSON_GetObjectItem(json, "skills");
	assert_int_equal(cJSON_GetArraySize(items), 2);
	assert_int_equal(cJSON_GetObjectItem(json, "count")->valueint, 2);
	assert_non_null(cJSON_GetObjectItem(cJSON_GetArrayItem(items, 0), "readiness"));
	cJSON_Delete(json);

	json = call(&f, "GET", "/api/skills?type=task&status=active", NULL, NULL, 0, 200);
	items = cJSON_GetObjectItem(json, "skills");
	assert_int_equal(cJSON_GetArraySize(items), 1);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(items, 0), "id")->valuestring,
			    "e2b-sandbox");
	cJSON_Delete(json);
	expect_error(&f, "GET", "/api/skills?type=widget", NULL, NULL, 0, 400, "type must be");
	expect_error(&f, "GET", "/api/skills?status=gone", NULL, NULL, 0, 400, "status must be");

	json = call(&f, "GET", "/api/tools", NULL, NULL, 0, 200);
	items = cJSON_GetObjectItem(json, "tools");
	assert_int_equal(cJSON_GetArraySize(items), 1);
	assert_false(
		cJSON_IsTrue(cJSON_GetObjectItem(
			cJSON_GetObjectItem(cJSON_GetArrayItem(items, 0), "readiness"), "ready")) &&
		getenv("E2B_API_KEY") == NULL);
	cJSON_Delete(json);

	json = call(&f, "GET", "/api/skills/e2b-sandbox", NULL, NULL, 0, 200);
	assert_non_null(
		strstr(cJSON_GetObjectItem(json, "html")->valuestring, "<h2>Endpoint</h2>"));
	assert_string_equal(
		cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(json, "sections"), 0),
				    "title")
			->valuestring,
		"Endpoint");
	assert_true(cJSON_IsObject(cJSON_GetObjectItem(json, "readiness")));
	cJSON_Delete(json);
	expect_error(&f, "GET", "/api/skills/nope", NULL, NULL, 0, 404,
		     "no definition with id 'nope'");
	expect_error(&f, "GET", "/api/skills/e2b?type=task", NULL, NULL, 0, 404, "no definition");
	json = call(&f, "HEAD", "/healthz", NULL, NULL, 0, 200);
	cJSON_Delete(json);
	stop(&f);
}

static void test_routing_errors(void **state)
{
	fixture f;
	test_http_response resp;
	char url[128], *allow;

	(void)state;
	start(&f, NULL, 0);
	expect_error(&f, "GET", "/nope", NULL, NULL, 0, 404, "no such endpoint");
	expect_error(&f, "GET", "/api/skills/a/b", NULL, NULL, 0, 404, "no such endpoint");
	/* %00 is not decoded: a NUL would end the path early. Others are. */
	expect_error(&f, "GET", "/healthz%00x", NULL, NULL, 0, 404,
		     "no such endpoint: /healthz%00x");
	expect_error(&f, "GET", "/api/skills/e2b-sandbox%00x", NULL, NULL, 0, 404,
		     "no definition with id 'e2b-sandbox%00x'");
	cJSON_Delete(call(&f, "GET", "/api/skills/e2b%2Dsandbox", NULL, NULL, 0, 200));

	snprintf(url, sizeof(url), "%s/api/tools", f.base);
	test_http(&resp, "DELETE", url, NULL, NULL, 0, 5000);
	assert_int_equal(resp.status, 405);
	allow = test_http_header(&resp, "Allow");
	assert_string_equal(allow, "GET, HEAD");
	free(allow);
	test_http_free(&resp);

	snprintf(url, sizeof(url), "%s/api/code/execute", f.base);
	test_http(&resp, "GET", url, NULL, NULL, 0, 5000);
	assert_int_equal(resp.status, 405);
	allow = test_http_header(&resp, "Allow");
	assert_string_equal(allow, "POST");
	free(allow);
	test_http_free(&resp);

	expect_error(&f, "POST", "/api/code/execute",
		     (const char *const[]){"Content-Type: text/plain", NULL}, "{}", 2, 415,
		     "must be JSON");
	expect_error(&f, "POST", "/api/code/execute", NULL, "{}", 2, 415, "must be JSON");
	stop(&f);
}

static void test_body_limits(void **state)
{
	fixture f;
	size_t big = 10u << 20;
	char *body = malloc(big);

	(void)state;
	assert_non_null(body);
	memset(body, ' ', big);
	body[0] = '{';
	body[big - 1] = '}';
	start(&f, NULL, 0);
	/* Announced too big: refused before the body is read. The client
	 * asks first (Expect: 100-continue), as a client sending a large
	 * body should: one that sends at once may see its upload cut before
	 * it reads the answer (the server does not read 10 MB to refuse it). */
	expect_error(&f, "POST", "/api/code/execute", expect_continue, body, big, 413,
		     "over the limit");
	/* Chunked (no length announced): refused once the cap is crossed. */
	expect_error(&f, "POST", "/api/code/execute",
		     (const char *const[]){"Content-Type: application/json",
					   "Transfer-Encoding: chunked", NULL},
		     body, 2u << 20, 413, "over the limit");
	stop(&f);

	/* A configured smaller limit. */
	start(&f, NULL, 1000);
	expect_error(&f, "POST", "/api/code/execute", expect_continue, body, 1001, 413,
		     "1000 bytes");
	/* A chunked body far past the limit is cut off, not read for ever,
	 * and the server goes on. */
	{
		char url[128];
		test_http_response resp;

		snprintf(url, sizeof(url), "%s/api/code/execute", f.base);
		test_http(&resp, "POST", url,
			  (const char *const[]){"Content-Type: application/json",
						"Transfer-Encoding: chunked", NULL},
			  body, 1u << 20, 10000);
		assert_true(resp.curl_code != 0 || resp.status == 413);
		test_http_free(&resp);
		cJSON_Delete(call(&f, "GET", "/healthz", NULL, NULL, 0, 200));
	}
	stop(&f);
	free(body);
}

static void test_hostile_bodies(void **state)
{
	static const struct {
		const char *body;
		size_t len; /* 0: strlen */
		const char *needle;
	} cases[] = {
		{"{\"code\": \"print(1)\", \"language\": \"pyth", 0, "malformed JSON"},
		{"", 0, "empty"},
		{"[1, 2]", 0, "must be a JSON object"},
		{"{\"code\": \"x\"} trailing", 0, "unexpected data"},
		{"{\"code\": 1}", 0, "code must be a string"},
		{"{\"language\": \"python\"}", 0, "code is required"},
		{"{\"code\": \"\"}", 0, "code is empty"},
		{"{\"code\": \"x\", \"language\": 5}", 0, "language must be a string"},
		{"{\"code\": \"x\", \"language\": \"cobol\"}", 0, "unknown language 'cobol'"},
		{"{\"code\": \"x\", \"packages\": \"requests\"}", 0, "packages must be a list"},
		{"{\"code\": \"x\", \"packages\": [1]}", 0, "packages must be a list"},
		{"{\"code\": \"x\", \"packages\": [\"requests; rm -rf /\"]}", 0,
		 "invalid package name 'requests; rm -rf /'"},
		{"{\"code\": \"x\", \"language\": \"node\", \"packages\": "
		 "[\"--registry=http://x\"]}",
		 0, "invalid package name"},
		{"{\"code\": \"x\", \"timeoutMs\": -5}", 0, "timeoutMs"},
		{"{\"code\": \"x\", \"timeoutMs\": \"10\"}", 0, "timeoutMs"},
		{"{\"code\": \"x\", \"timeoutMs\": 1.5}", 0, "timeoutMs"},
		{"{\"code\": \"x\", \"timeoutMs\": 300001}", 0, "timeoutMs"},
		{"{\"code\": \"x\", \"stdin\": 5}", 0, "stdin must be a string"},
		{"{\"code\": \"x\", \"env\": [\"A=1\"]}", 0, "env must be an object"},
		{"{\"code\": \"x\", \"env\": {\"A B\": \"1\"}}", 0, "env must map"},
		{"{\"code\": \"x\", \"env\": {\"A\": 1}}", 0, "env must map"},
		{"{\"code\": \"x\", \"backend\": \"cloud\"}", 0, "unknown backend 'cloud'"},
		{"{\"code\": \"print(1)\\u0000rm\"}", 0, "NUL character"},
		{"{\"code\": \"a\0b\"}", 12, "NUL byte"},
		{"{\"code\": \"caf\xe9\"}", 0, "invalid UTF-8"},
		{"{\"code\": \"\xed\xa0\x80\"}", 0, "invalid UTF-8"},
		{"{\"code\": \"\xc0\xaf\"}", 0, "invalid UTF-8"},
	};
	fixture f;
	char *deep;
	size_t depth = 100000;

	(void)state;
	start(&f, NULL, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].body);
		cJSON *json =
			call(&f, "POST", "/api/code/execute", json_header, cases[i].body, len, 400);
		cJSON *error = cJSON_GetObjectItem(json, "error");

		if (!cJSON_IsString(error) || !strstr(error->valuestring, cases[i].needle))
			fail_msg("case %zu: error should mention '%s': %s", i, cases[i].needle,
				 cJSON_IsString(error) ? error->valuestring : "(none)");
		/* Execute errors keep the seed's keys. */
		assert_false(cJSON_IsTrue(cJSON_GetObjectItem(json, "success")));
		assert_non_null(cJSON_GetObjectItem(json, "stdout"));
		assert_non_null(cJSON_GetObjectItem(json, "exitCode"));
		cJSON_Delete(json);
	}
	/* Deep nesting: refused, the server stays up. */
	deep = malloc(depth * 2);
	assert_non_null(deep);
	memset(deep, '[', depth);
	memset(deep + depth, ']', depth);
	expect_error(&f, "POST", "/api/code/execute", json_header, deep, depth * 2, 400,
		     "malformed");
	free(deep);
	{
		char code[300 * 1024 + 64];

		memcpy(code, "{\"code\": \"", 10);
		memset(code + 10, 'x', 300 * 1024);
		memcpy(code + 10 + 300 * 1024, "\"}", 3);
		expect_error(&f, "POST", "/api/code/execute", json_header, code, strlen(code), 413,
			     "over the limit");
	}
	cJSON_Delete(call(&f, "GET", "/healthz", NULL, NULL, 0, 200));
	stop(&f);
}

static void test_auth(void **state)
{
	fixture f;
	cJSON *json;

	(void)state;
	start(&f, "s3cret-token", 0);
	expect_error(&f, "GET", "/api/skills", NULL, NULL, 0, 401, "missing Authorization");
	expect_error(&f, "GET", "/api/skills",
		     (const char *const[]){"Authorization: Bearer wrong", NULL}, NULL, 0, 401,
		     "invalid token");
	expect_error(&f, "GET", "/api/skills",
		     (const char *const[]){"Authorization: Bearer s3cret-token2", NULL}, NULL, 0,
		     401, "invalid token");
	expect_error(&f, "GET", "/api/skills",
		     (const char *const[]){"Authorization: Basic s3cret-token", NULL}, NULL, 0, 401,
		     "invalid token");
	/* Unknown /api/ paths are not revealed before auth. */
	expect_error(&f, "GET", "/api/secret-endpoint", NULL, NULL, 0, 401, "missing");
	/* Refused before reading a body. */
	expect_error(&f, "POST", "/api/code/execute", json_header, "{\"code\":\"x\"}", 12, 401,
		     "missing");
	json = call(&f, "GET", "/api/skills",
		    (const char *const[]){"Authorization: Bearer s3cret-token", NULL}, NULL, 0,
		    200);
	cJSON_Delete(json);
	json = call(&f, "GET", "/api/skills",
		    (const char *const[]){"Authorization: bearer s3cret-token", NULL}, NULL, 0,
		    200);
	cJSON_Delete(json);
	/* Health and metrics stay open for probes. */
	cJSON_Delete(call(&f, "GET", "/healthz", NULL, NULL, 0, 200));
	stop(&f);
}

static void test_listen_rules(void **state)
{
	aims_server_config cfg;
	aims_server *srv = NULL;
	aims_registry *reg = NULL;
	aims_error err;
	static const char *const bad[] = {"nowhere", "127.0.0.1",	"127.0.0.1:99999",
					  "[::1:80", "host.example:80", "127.0.0.1:-1"};

	(void)state;
	aims_error_clear(&err);
	assert_int_equal(aims_registry_new(&reg, &err), 0);
	aims_server_config_init(&cfg);
	cfg.listen = "0.0.0.0:0";
	assert_int_equal(aims_server_new(&srv, &cfg, reg, &err), AIMS_EINVALID);
	assert_non_null(strstr(err.message, "without a token"));
	cfg.listen = "[::]:0";
	aims_error_clear(&err);
	assert_int_equal(aims_server_new(&srv, &cfg, reg, &err), AIMS_EINVALID);
	cfg.token = "t";
	aims_error_clear(&err);
	assert_int_equal(aims_server_new(&srv, &cfg, reg, &err), 0);
	aims_server_free(srv); /* never started: nothing listened beyond loopback */
	cfg.token = NULL;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cfg.listen = bad[i];
		aims_error_clear(&err);
		srv = NULL;
		if (aims_server_new(&srv, &cfg, reg, &err) != AIMS_EINVALID)
			fail_msg("listen '%s' accepted", bad[i]);
	}
	cfg.listen = "[::1]:0";
	aims_error_clear(&err);
	assert_int_equal(aims_server_new(&srv, &cfg, reg, &err), 0);
	aims_server_free(srv);
	aims_registry_free(reg);
}

static void test_token_compare(void **state)
{
	(void)state;
	assert_true(aims_server_token_equal("abc", "abc", 3));
	assert_false(aims_server_token_equal("abc", "abd", 3));
	assert_false(aims_server_token_equal("abc", "ab", 2));
	assert_false(aims_server_token_equal("abc", "abcabc", 6));
	assert_false(aims_server_token_equal("", "", 0));
	assert_false(aims_server_token_equal("abc", "", 0));
}

static void test_metrics(void **state)
{
	fixture f;
	test_http_response resp;
	char url[128];

	(void)state;
	start(&f, NULL, 0);
	cJSON_Delete(call(&f, "GET", "/healthz", NULL, NULL, 0, 200));
	cJSON_Delete(call(&f, "GET", "/nope", NULL, NULL, 0, 404));
	expect_error(&f, "POST", "/api/code/execute", json_header, "{", 1, 400, "malformed");
	snprintf(url, sizeof(url), "%s/metrics", f.base);
	test_http(&resp, "GET", url, NULL, NULL, 0, 5000);
	assert_int_equal(resp.status, 200);
	assert_non_null(strstr(resp.body, "# TYPE aims_http_requests_total counter\n"));
	assert_non_null(strstr(resp.body,
			       "aims_http_requests_total{route=\"/healthz\",status=\"200\"} 1\n"));
	assert_non_null(strstr(resp.body,
			       "aims_http_requests_total{route=\"unmatched\",status=\"404\"} 1\n"));
	assert_non_null(
		strstr(resp.body,
		       "aims_http_requests_total{route=\"/api/code/execute\",status=\"400\"} 1\n"));
	assert_non_null(strstr(resp.body, "# TYPE aims_execution_duration_seconds histogram\n"));
	assert_non_null(
		strstr(resp.body, "aims_execution_duration_seconds_bucket{le=\"+Inf\"} 0\n"));
	assert_non_null(strstr(resp.body, "aims_executions_running 0\n"));
	assert_non_null(strstr(resp.body, "aims_executions_queued 0\n"));
	assert_non_null(strstr(resp.body, "aims_sandbox_failures_total{cause=\"memory\"} 0\n"));
	{
		char *type = test_http_header(&resp, "Content-Type");

		assert_true(strncmp(type, "text/plain; version=0.0.4", 25) == 0);
		free(type);
	}
	test_http_free(&resp);
	stop(&f);
}

/* Sends raw bytes to the server on a new connection and returns what it
 * answers until it closes (at most size - 1 bytes, NUL-terminated).
 * reset: close at once with a reset instead of reading. */
static void raw_exchange(fixture *f, const char *request, char *out, size_t size, bool reset)
{
	struct sockaddr_in addr;
	struct timeval tv = {5, 0};
	size_t n = 0;
	ssize_t got;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons(aims_server_port(f->srv));
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	assert_int_equal(send(fd, request, strlen(request), MSG_NOSIGNAL),
			 (ssize_t)strlen(request));
	if (reset) {
		struct linger l = {1, 0};

		assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)), 0);
	} else {
		while (n + 1 < size && (got = recv(fd, out + n, size - 1 - n, 0)) > 0)
			n += (size_t)got;
	}
	if (out)
		out[n] = '\0';
	close(fd);
}

/* Headers that leave where the body ends in doubt could hide a second
 * request from a proxy that reads them otherwise: each is refused, with a
 * JSON body, and the connection closed (the hidden request never runs). */
static void test_ambiguous_framing(void **state)
{
	static const struct {
		const char *headers;
		const char *status, *error;
	} cases[] = {
		{"Content-Length: 2\r\nContent-Length: 80\r\n", "400",
		 "more than one Content-Length header"},
		{"Transfer-Encoding: chunked\r\nContent-Length: 80\r\n", "400",
		 "both Transfer-Encoding and Content-Length"},
		{"Content-Length : 80\r\n", "400", "a header name holds a blank"},
		{"Transfer-Encoding: gzip\r\n", "501", "Transfer-Encoding other than chunked"},
		{"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", "501",
		 "Transfer-Encoding other than chunked"},
	};
	fixture f;
	char request[1024], answer[8192];

	(void)state;
	start(&f, NULL, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(request, sizeof(request),
			 "POST /api/route HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
			 "%s\r\n{}GET /api/skills/HIDDEN HTTP/1.1\r\nHost: x\r\n\r\n",
			 cases[i].headers);
		raw_exchange(&f, request, answer, sizeof(answer), false);
		if (strncmp(answer + 9, cases[i].status, 3) != 0 || !strstr(answer, cases[i].error))
			fail_msg("case %zu: %s", i, answer);
		assert_non_null(strstr(answer, "Connection: close"));
		assert_null(strstr(answer, "HIDDEN"));
	}
	/* A plain request on the same server still works. */
	raw_exchange(&f,
		     "POST /api/route HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
		     "Content-Length: 19\r\nConnection: close\r\n\r\n{\"utterance\": \"hi\"}",
		     answer, sizeof(answer), false);
	assert_int_equal(strncmp(answer, "HTTP/1.1 200", 12), 0);
	stop(&f);
}

/* What libmicrohttpd logs may quote a client's path: a newline in it
 * (sent as %0a) must not start a line of the log. A client that resets
 * the connection at once makes it log a failed send, with the path; how
 * soon depends on timing, so it is tried until one is logged. */
static bool forged_or_quoted(FILE *log, bool *quoted)
{
	char line[2048];

	rewind(log);
	while (fgets(line, sizeof(line), log)) {
		if (strncmp(line, "FORGED", 6) == 0 || strncmp(line, "POST ", 5) == 0)
			fail_msg("a forged log line: %s", line);
		*quoted |= strstr(line, "/x?POST /api/code/execute 200 1.0ms?FORGED") != NULL;
	}
	return *quoted;
}

static void test_log_lines_cannot_be_forged(void **state)
{
	aims_server_config cfg;
	aims_error err;
	fixture f;
	FILE *log = tmpfile();
	bool quoted = false;

	(void)state;
	assert_non_null(log);
	aims_error_clear(&err);
	assert_int_equal(aims_registry_new(&f.reg, &err), 0);
	aims_server_config_init(&cfg);
	cfg.listen = "127.0.0.1:0";
	cfg.access_log = log;
	cfg.error_log = log;
	assert_int_equal(aims_server_new(&f.srv, &cfg, f.reg, &err), 0);
	assert_int_equal(aims_server_start(f.srv, &err), 0);
	for (int i = 0; i < 2000 && !forged_or_quoted(log, &quoted); i++)
		raw_exchange(&f,
			     "GET /x%0aPOST%20/api/code/execute%20200%201.0ms%0aFORGED HTTP/1.1\r\n"
			     "Host: x\r\n\r\n",
			     NULL, 0, true);
	stop(&f);
	assert_true(forged_or_quoted(log, &quoted)); /* and nothing forged */
	fclose(log);
}

static void test_validate_endpoint(void **state)
{
	fixture f;
	cJSON *json, *diag;

	(void)state;
	start(&f, NULL, 0);
	json = call(&f, "POST", "/api/validate", json_header,
		    "{\"path\": \"skills/x.md\", \"text\": \"---\\nid: x\\nname: X\\ndescription: "
		    "d\\ntriggers: [do the thing]\\n---\\n\"}",
		    strlen("{\"path\": \"skills/x.md\", \"text\": \"---\\nid: x\\nname: "
			   "X\\ndescription: d\\ntriggers: [do the thing]\\n---\\n\"}"),
		    200);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(json, "ok")));
	assert_int_equal(cJSON_GetObjectItem(json, "errors")->valueint, 0);
	cJSON_Delete(json);

	{
		const char *body =
			"{\"text\": \"---\\nid: y\\ndescription: Use this: it breaks\\n---\\n\"}";

		json = call(&f, "POST", "/api/validate", json_header, body, strlen(body), 200);
	}
	assert_false(cJSON_IsTrue(cJSON_GetObjectItem(json, "ok")));
	diag = cJSON_GetArrayItem(cJSON_GetObjectItem(json, "diagnostics"), 0);
	assert_string_equal(cJSON_GetObjectItem(diag, "rule")->valuestring, "yaml-syntax");
	assert_int_equal(cJSON_GetObjectItem(diag, "line")->valueint, 3);
	cJSON_Delete(json);

	expect_error(&f, "POST", "/api/validate", json_header, "{}", 2, 400, "text is required");
	expect_error(&f, "POST", "/api/validate", json_header, "{\"text\": 1}", 11, 400,
		     "text must be a string");
	expect_error(&f, "POST", "/api/validate", json_header, "{\"text\": \"x\", \"path\": 3}", 24,
		     400, "path must be");
	stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_healthz_and_listing),
		cmocka_unit_test(test_routing_errors),
		cmocka_unit_test(test_body_limits),
		cmocka_unit_test(test_hostile_bodies),
		cmocka_unit_test(test_auth),
		cmocka_unit_test(test_listen_rules),
		cmocka_unit_test(test_token_compare),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_validate_endpoint),
		cmocka_unit_test(test_ambiguous_framing),
		cmocka_unit_test(test_log_lines_cannot_be_forged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

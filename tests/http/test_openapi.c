/*
 * test_openapi.c - docs/openapi.yaml checked against a real server: every
 * documented path and method exists, and its `x-aims-example` request gets
 * the documented 2xx status with every `required` property of the
 * documented response schema. The document cannot drift from the server.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "aims/json.h"
#include "aims/manifest.h"
#include "aims/server.h"
#include "support.h"

/* The OpenAPI document as JSON (parsed by the project's YAML loader). */
static cJSON *load_openapi(void)
{
	char *yaml = NULL, *wrapped;
	size_t len;
	aims_manifest *m = NULL;
	aims_error err;
	cJSON *json;

	aims_error_clear(&err);
	assert_int_equal(
		aims_file_read(&yaml, &len, AIMS_SOURCE_DIR "/docs/openapi.yaml", 1 << 20, &err),
		0);
	wrapped = malloc(len + 16);
	assert_non_null(wrapped);
	snprintf(wrapped, len + 16, "---\n%s\n---\n", yaml);
	assert_int_equal(aims_manifest_parse(&m, "openapi.md", wrapped, strlen(wrapped), &err), 0);
	if (!m->root)
		fail_msg("docs/openapi.yaml does not parse: %s",
			 m->problem_count ? m->problems[0].message : "?");
	json = aims_json_from_yaml(m->root);
	aims_manifest_free(m);
	free(wrapped);
	free(yaml);
	return json;
}

static const cJSON *resolve(const cJSON *doc, const cJSON *node)
{
	const cJSON *ref = cJSON_GetObjectItem(node, "$ref");
	const char *prefix = "#/components/schemas/";

	if (!cJSON_IsString(ref))
		return node;
	assert_true(strncmp(ref->valuestring, prefix, strlen(prefix)) == 0);
	node = cJSON_GetObjectItem(
		cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "components"), "schemas"),
		ref->valuestring + strlen(prefix));
	assert_non_null(node);
	return node;
}

static void test_openapi(void **state)
{
	cJSON *doc = load_openapi();
	const cJSON *paths = cJSON_GetObjectItem(doc, "paths"), *path;
	aims_registry *reg = NULL;
	aims_server *srv = NULL;
	aims_server_config cfg;
	aims_error err;
	char base[64];
	size_t checked = 0;

	(void)state;
	unsetenv("E2B_API_KEY");
	aims_error_clear(&err);
	assert_int_equal(aims_registry_new(&reg, &err), 0);
	assert_int_equal(aims_registry_add_path(reg, AIMS_SOURCE_DIR "/skills", &err), 0);
	assert_int_equal(aims_registry_add_path(reg, AIMS_SOURCE_DIR "/tools", &err), 0);
	aims_server_config_init(&cfg);
	cfg.listen = "127.0.0.1:0";
	assert_int_equal(aims_server_new(&srv, &cfg, reg, &err), 0);
	assert_int_equal(aims_server_start(srv, &err), 0);
	snprintf(base, sizeof(base), "http://127.0.0.1:%u", aims_server_port(srv));
	assert_true(cJSON_GetArraySize(paths) >= 9);

	cJSON_ArrayForEach(path, paths)
	{
		const cJSON *op;

		cJSON_ArrayForEach(op, path)
		{
			const cJSON *example = cJSON_GetObjectItem(op, "x-aims-example");
			const cJSON *responses = cJSON_GetObjectItem(op, "responses"), *resp;
			const cJSON *params = cJSON_GetObjectItem(example, "path");
			const cJSON *query = cJSON_GetObjectItem(example, "query");
			const cJSON *body = cJSON_GetObjectItem(example, "body");
			char url[512], method[16], *text = NULL;
			const char *p;
			size_t n = 0;
			long want = 0;
			test_http_response got;
			cJSON *json;

			if (!example)
				fail_msg("%s %s has no x-aims-example", op->string, path->string);
			/* the path with {param} filled from the example */
			n = (size_t)snprintf(url, sizeof(url), "%s", base);
			for (p = path->string; *p && n + 1 < sizeof(url);) {
				if (*p == '{') {
					const char *end = strchr(p, '}');
					char name[64];
					const cJSON *value;

					snprintf(name, sizeof(name), "%.*s", (int)(end - p - 1),
						 p + 1);
					value = cJSON_GetObjectItem(params, name);
					assert_true(cJSON_IsString(value));
					n += (size_t)snprintf(url + n, sizeof(url) - n, "%s",
							      value->valuestring);
					p = end + 1;
				} else {
					url[n++] = *p++;
					url[n] = '\0';
				}
			}
			if (cJSON_IsString(query))
				snprintf(url + n, sizeof(url) - n, "?%s", query->valuestring);
			for (size_t i = 0; i < sizeof(method) - 1 && op->string[i]; i++)
				method[i] = (char)(op->string[i] & ~0x20), method[i + 1] = '\0';
			cJSON_ArrayForEach(resp, responses) if (resp->string[0] == '2' && !want)
				want = strtol(resp->string, NULL, 10);
			assert_true(want >= 200);
			if (body)
				text = cJSON_PrintUnformatted(body);
			test_http(&got, method, url,
				  (const char *const[]){"Content-Type: application/json", NULL},
				  text, text ? strlen(text) : 0, 60000);
			free(text);
			if (got.status != want)
				fail_msg("%s %s: status %ld, documented %ld: %s", method,
					 path->string, got.status, want, got.body);
			resp = cJSON_GetObjectItem(responses,
						   cJSON_GetArrayItem(responses, 0)->string);
			for (resp = responses->child;
			     resp && strtol(resp->string, NULL, 10) != want;)
				resp = resp->next;
			{
				const cJSON *schema = cJSON_GetObjectItem(
					cJSON_GetObjectItem(cJSON_GetObjectItem(resp, "content"),
							    "application/json"),
					"schema");
				const cJSON *req;

				if (schema) {
					schema = resolve(doc, schema);
					json = cJSON_Parse(got.body);
					if (!json)
						fail_msg("%s %s: not JSON: %s", method,
							 path->string, got.body);
					cJSON_ArrayForEach(
						req,
						cJSON_GetObjectItem(
							schema,
							"requir"
							"e"
							"d")) if (!cJSON_GetObjectItem(json,
										       req->valuestring))
						fail_msg("%s %s: documented field '%s' missing: %s",
							 method, path->string, req->valuestring,
							 got.body);
					cJSON_Delete(json);
				}
			}
			test_http_free(&got);
			checked++;
		}
	}
	assert_true(checked >= 9);
	aims_server_free(srv);
	aims_registry_free(reg);
	cJSON_Delete(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_openapi),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

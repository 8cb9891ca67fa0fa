/*
 * exec_input.c - an execution request from JSON (SPEC §7.1), shared by
 * POST /api/code/execute and the dispatcher's code executor, so both
 * accept exactly the same fields with the same messages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aims/json.h"

static bool env_name_ok(const char *name)
{
	if (!((*name >= 'A' && *name <= 'Z') || (*name >= 'a' && *name <= 'z') || *name == '_'))
		return false;
	for (name++; *name; name++)
		if (!((*name >= 'A' && *name <= 'Z') || (*name >= 'a' && *name <= 'z') ||
		      (*name >= '0' && *name <= '9') || *name == '_'))
			return false;
	return true;
}

static int read_packages(aims_json_exec_input *in, const cJSON *packages, aims_error *err)
{
	const cJSON *item;
	size_t n = 0;
	int rc;

	if (!cJSON_IsArray(packages))
		return aims_error_set(err, AIMS_EINVALID, "packages must be a list of strings");
	cJSON_ArrayForEach(item, packages)
	{
		if (!cJSON_IsString(item))
			return aims_error_set(err, AIMS_EINVALID,
					      "packages must be a list of strings");
		if (n == AIMS_EXEC_MAX_PACKAGES)
			return aims_error_set(err, AIMS_EINVALID, "too many packages (at most %d)",
					      AIMS_EXEC_MAX_PACKAGES);
		if ((rc = aims_exec_check_package(in->req.language, item->valuestring, err)) < 0)
			return rc;
		in->packages[n++] = item->valuestring;
	}
	in->req.packages = in->packages;
	in->req.package_count = n;
	return 0;
}

static int read_env(aims_json_exec_input *in, const cJSON *env, aims_error *err)
{
	const cJSON *item;
	size_t count = 0;

	if (!cJSON_IsObject(env))
		return aims_error_set(err, AIMS_EINVALID, "env must be an object of strings");
	cJSON_ArrayForEach(item, env)
	{
		size_t len;

		if (!cJSON_IsString(item) || !env_name_ok(item->string))
			return aims_error_set(err, AIMS_EINVALID,
					      "env must map names like NAME_1 to strings");
		if (count == AIMS_JSON_EXEC_MAX_ENV)
			return aims_error_set(err, AIMS_EINVALID,
					      "too many env entries (at most %d)",
					      AIMS_JSON_EXEC_MAX_ENV);
		len = strlen(item->string) + strlen(item->valuestring) + 2;
		if (!(in->env[count] = malloc(len)))
			return aims_error_set(err, AIMS_ENOMEM, "out of memory");
		snprintf(in->env[count], len, "%s=%s", item->string, item->valuestring);
		count++;
	}
	in->env[count] = NULL;
	in->req.env = (const char *const *)in->env;
	return 0;
}

int aims_json_exec_input_read(aims_json_exec_input *in, const cJSON *body, bool code_required,
			      aims_error *err)
{
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(body, "code");
	const cJSON *language = cJSON_GetObjectItemCaseSensitive(body, "language");
	const cJSON *packages = cJSON_GetObjectItemCaseSensitive(body, "packages");
	const cJSON *timeout = cJSON_GetObjectItemCaseSensitive(body, "timeoutMs");
	const cJSON *stdin_data = cJSON_GetObjectItemCaseSensitive(body, "stdin");
	const cJSON *env = cJSON_GetObjectItemCaseSensitive(body, "env");
	const cJSON *backend = cJSON_GetObjectItemCaseSensitive(body, "backend");
	int rc;

	memset(in, 0, sizeof(*in));
	aims_exec_request_init(&in->req);
	in->req.language = AIMS_LANG_PYTHON;
	if (code && !cJSON_IsNull(code)) {
		if (!cJSON_IsString(code))
			return aims_error_set(err, AIMS_EINVALID, "code must be a string");
		in->req.code = code->valuestring;
		in->req.code_len = strlen(code->valuestring);
		if (in->req.code_len == 0)
			return aims_error_set(err, AIMS_EINVALID, "code is empty");
		if (in->req.code_len > AIMS_EXEC_MAX_CODE)
			return aims_error_set(err, AIMS_ETOOBIG,
					      "code is %zu bytes, over the limit of %u",
					      in->req.code_len, AIMS_EXEC_MAX_CODE);
		in->has_code = true;
	} else if (code_required) {
		return aims_error_set(err, AIMS_EINVALID, "code is required");
	}
	if (language && !cJSON_IsNull(language)) {
		if (!cJSON_IsString(language))
			return aims_error_set(err, AIMS_EINVALID, "language must be a string");
		if ((rc = aims_language_parse(&in->req.language, language->valuestring, err)) < 0)
			return rc;
		in->has_language = true;
	}
	if (packages && !cJSON_IsNull(packages) && (rc = read_packages(in, packages, err)) < 0)
		return rc;
	if (timeout && !cJSON_IsNull(timeout)) {
		double ms = timeout->valuedouble;

		/* Range first: casting an out-of-range double is undefined. */
		if (!cJSON_IsNumber(timeout) || !(ms >= 1 && ms <= AIMS_EXEC_MAX_TIMEOUT_MS) ||
		    ms != (double)(uint32_t)ms)
			return aims_error_set(err, AIMS_EINVALID,
					      "timeoutMs must be a whole number from 1 to %u",
					      AIMS_EXEC_MAX_TIMEOUT_MS);
		in->req.timeout_ms = (uint32_t)ms;
	}
	if (stdin_data && !cJSON_IsNull(stdin_data)) {
		if (!cJSON_IsString(stdin_data))
			return aims_error_set(err, AIMS_EINVALID, "stdin must be a string");
		in->req.stdin_data = stdin_data->valuestring;
		in->req.stdin_len = strlen(stdin_data->valuestring);
		if (in->req.stdin_len > AIMS_EXEC_MAX_STDIN)
			return aims_error_set(err, AIMS_ETOOBIG,
					      "stdin is over the limit of %u bytes",
					      AIMS_EXEC_MAX_STDIN);
	}
	if (env && !cJSON_IsNull(env) && (rc = read_env(in, env, err)) < 0)
		return rc;
	if (backend && !cJSON_IsNull(backend)) {
		if (!cJSON_IsString(backend))
			return aims_error_set(err, AIMS_EINVALID, "backend must be a string");
		if ((rc = aims_backend_parse(&in->req.backend, backend->valuestring, err)) < 0)
			return rc;
	}
	return 0;
}

void aims_json_exec_input_free(aims_json_exec_input *in)
{
	for (size_t i = 0; i < AIMS_JSON_EXEC_MAX_ENV && in->env[i]; i++)
		free(in->env[i]);
	memset(in->env, 0, sizeof(in->env));
}

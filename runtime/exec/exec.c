/*
 * exec.c - the code executor: validates a request (SPEC §7.1), picks the
 * backend and runs it. The local backend writes the code to a file in the
 * sandbox's work directory and runs the system interpreter on it; the e2b
 * backend lives in runtime/e2b/.
 *
 * Packages (request.packages) come in a later step as a content-addressed
 * layer the sandbox mounts read-only (aims_sandbox_config.layer_dir); until
 * then the local backend refuses them clearly rather than ignore them.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aims/e2b.h"
#include "aims/exec.h"
#include "aims/sandbox.h"

/* Entries the sandboxed program always gets; the request's env entries
 * come first and override these. */
static const char *const base_env[] = {
	"PATH=/usr/local/bin:/usr/bin:/bin",
	"HOME=" AIMS_SANDBOX_WORKDIR,
	"TMPDIR=/tmp",
	"LANG=C.UTF-8",
	"USER=sandbox",
	"PYTHONDONTWRITEBYTECODE=1",
	NULL,
};

#define MAX_ENV_ENTRY 4096

static bool valid_env_entry(const char *entry)
{
	const char *eq = strchr(entry, '=');

	if (!eq || eq == entry || strlen(entry) > MAX_ENV_ENTRY)
		return false;
	if (!(isalpha((unsigned char)entry[0]) || entry[0] == '_'))
		return false;
	for (const char *p = entry; p < eq; p++)
		if (!(isalnum((unsigned char)*p) || *p == '_'))
			return false;
	return true;
}

static bool blank(const char *code, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isspace((unsigned char)code[i]))
			return false;
	return true;
}

static int validate(const aims_exec_request *req, aims_error *err)
{
	size_t n;

	if (req->language != AIMS_LANG_PYTHON && req->language != AIMS_LANG_NODE &&
	    req->language != AIMS_LANG_BASH)
		return aims_error_set(err, AIMS_EINVALID,
				      "unknown language: use python, node or bash");
	if (!req->code || req->code_len == 0 || blank(req->code, req->code_len))
		return aims_error_set(err, AIMS_EINVALID, "the code is empty");
	if (req->code_len > AIMS_EXEC_MAX_CODE)
		return aims_error_set(err, AIMS_ETOOBIG,
				      "the code is %zu bytes, over the limit of %u KiB",
				      req->code_len, AIMS_EXEC_MAX_CODE >> 10);
	if (memchr(req->code, '\0', req->code_len))
		return aims_error_set(err, AIMS_EINVALID, "the code contains a NUL byte");
	if (req->stdin_data && req->stdin_len > AIMS_EXEC_MAX_STDIN)
		return aims_error_set(err, AIMS_ETOOBIG, "stdin is over the limit of %u KiB",
				      AIMS_EXEC_MAX_STDIN >> 10);
	if (req->timeout_ms > AIMS_EXEC_MAX_TIMEOUT_MS)
		return aims_error_set(err, AIMS_EINVALID,
				      "timeout of %u ms is over the maximum of %u ms",
				      req->timeout_ms, AIMS_EXEC_MAX_TIMEOUT_MS);
	if (req->output_max > AIMS_SANDBOX_MAX_OUTPUT)
		return aims_error_set(err, AIMS_EINVALID, "output limit over the maximum of %u MiB",
				      AIMS_SANDBOX_MAX_OUTPUT >> 20);
	if (req->package_count > AIMS_EXEC_MAX_PACKAGES)
		return aims_error_set(err, AIMS_ETOOBIG, "more than %d packages",
				      AIMS_EXEC_MAX_PACKAGES);
	if (req->package_count && !req->packages)
		return aims_error_set(err, AIMS_EINVALID, "package count without packages");
	for (n = 0; n < req->package_count; n++) {
		int rc = aims_exec_check_package(req->language, req->packages[n], err);

		if (rc < 0)
			return rc;
	}
	for (n = 0; req->env && req->env[n]; n++) {
		if (n >= AIMS_SANDBOX_MAX_ENV - 8)
			return aims_error_set(err, AIMS_ETOOBIG, "too many environment variables");
		if (!valid_env_entry(req->env[n]))
			return aims_error_set(err, AIMS_EINVALID,
					      "environment entry '%.40s' is not NAME=VALUE",
					      req->env[n]);
	}
	return 0;
}

/* The request's entries, then the base entries it does not override. */
static void build_env(const char **envp, const aims_exec_request *req)
{
	size_t n = 0;

	for (size_t i = 0; req->env && req->env[i]; i++)
		envp[n++] = req->env[i];
	for (size_t i = 0; base_env[i]; i++) {
		size_t name_len = (size_t)(strchr(base_env[i], '=') - base_env[i]) + 1;
		bool overridden = false;

		for (size_t j = 0; req->env && req->env[j]; j++)
			overridden |= strncmp(req->env[j], base_env[i], name_len) == 0;
		if (!overridden)
			envp[n++] = base_env[i];
	}
	envp[n] = NULL;
}

static int run_local(aims_exec_result **out, const aims_exec_request *req, aims_error *err)
{
	static const struct {
		const char *program, *file;
	} interpreters[] = {
		[AIMS_LANG_PYTHON] = {"/usr/bin/python3", "main.py"},
		[AIMS_LANG_NODE] = {"/usr/bin/node", "main.js"},
		[AIMS_LANG_BASH] = {"/bin/bash", "main.sh"},
	};
	const char *envp[AIMS_SANDBOX_MAX_ENV + 1];
	const char *argv[3];
	aims_sandbox_config cfg;

	if (req->package_count)
		return aims_error_set(err, AIMS_EUNSUPPORTED,
				      "packages are not supported by the local backend yet: "
				      "run without packages or use the e2b backend");
	build_env(envp, req);
	aims_sandbox_config_init(&cfg);
	cfg.program = interpreters[req->language].program;
	argv[0] = cfg.program;
	argv[1] = interpreters[req->language].file;
	argv[2] = NULL;
	cfg.argv = argv;
	cfg.env = envp;
	cfg.file_name = interpreters[req->language].file;
	cfg.file_data = req->code;
	cfg.file_len = req->code_len;
	cfg.stdin_data = req->stdin_data;
	cfg.stdin_len = req->stdin_data ? req->stdin_len : 0;
	if (req->timeout_ms)
		cfg.wall_ms = req->timeout_ms;
	if (req->memory_mb)
		cfg.memory_bytes = (uint64_t)req->memory_mb << 20;
	if (req->output_max)
		cfg.output_max = req->output_max;
	cfg.cancel_fd = req->cancel_fd;
	return aims_sandbox_run(out, &cfg, err);
}

int aims_exec_run(aims_exec_result **out, const aims_exec_request *req, aims_error *err)
{
	int rc;

	if ((rc = validate(req, err)) < 0)
		return rc;
	switch (aims_exec_resolve_backend(req->backend)) {
	case AIMS_BACKEND_E2B: return aims_e2b_exec(out, req, err);
	case AIMS_BACKEND_LOCAL:
	case AIMS_BACKEND_AUTO: break;
	}
	return run_local(out, req, err);
}

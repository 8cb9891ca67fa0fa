/*
 * exec.c - the code executor: validates a request (SPEC §7.1), picks the
 * backend and runs it. The local backend writes the code to a file in the
 * sandbox's work directory and runs the system interpreter on it; the e2b
 * backend lives in runtime/e2b/.
 *
 * Packages (request.packages) are installed by runtime/packages/ into a
 * content-addressed layer (or found there already), which the sandbox
 * mounts read-only at /opt/aims/layer; the layer's entries (PYTHONPATH,
 * NODE_PATH, PATH, LD_LIBRARY_PATH) join the program's environment.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aims/e2b.h"
#include "aims/exec.h"
#include "aims/packages.h"
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

/* Whether entry's name is set by one of list's entries. */
static bool overridden(const char *entry, const char *const *list)
{
	size_t name_len = (size_t)(strchr(entry, '=') - entry) + 1;

	for (size_t j = 0; list && list[j]; j++)
		if (strncmp(list[j], entry, name_len) == 0)
			return true;
	return false;
}

/* The given entries, then the package layer's entries, then the base
 * entries, each skipped when an earlier list sets its name. envp holds
 * AIMS_SANDBOX_MAX_ENV + 1 pointers; validate() bounds env. */
static void build_env(const char **envp, const char *const *env, const char *const *layer)
{
	size_t n = 0;

	for (size_t i = 0; env && env[i]; i++)
		envp[n++] = env[i];
	for (size_t i = 0; layer && layer[i]; i++)
		if (!overridden(layer[i], env) && n < AIMS_SANDBOX_MAX_ENV)
			envp[n++] = layer[i];
	for (size_t i = 0; base_env[i]; i++)
		if (!overridden(base_env[i], env) && !overridden(base_env[i], layer) &&
		    n < AIMS_SANDBOX_MAX_ENV)
			envp[n++] = base_env[i];
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
	aims_packages_layer *layer = NULL;
	int rc;

	if (req->package_count &&
	    (rc = aims_packages_acquire(&layer, req->language, req->packages, req->package_count,
					req->cancel_fd, req->progress, req->progress_ctx, err)) < 0)
		return rc;
	build_env(envp, req->env, layer ? aims_packages_layer_env(layer) : NULL);
	aims_sandbox_config_init(&cfg);
	cfg.layer_dir = layer ? aims_packages_layer_dir(layer) : NULL;
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
	rc = aims_sandbox_run(out, &cfg, err);
	if (rc == 0 && layer) {
		(*out)->packages_installed = aims_packages_layer_installed(layer);
		(*out)->install_ms = aims_packages_layer_install_ms(layer);
		if (!((*out)->layer = strdup(aims_packages_layer_key(layer)))) {
			aims_exec_result_free(*out);
			*out = NULL;
			rc = aims_error_set(err, AIMS_ENOMEM, "out of memory");
		}
	}
	aims_packages_release(layer);
	return rc;
}

int aims_exec_run(aims_exec_result **out, const aims_exec_request *req, aims_error *err)
{
	int rc;

	if ((rc = validate(req, err)) < 0)
		return rc;
	switch (aims_exec_resolve_backend(req->backend)) {
	case AIMS_BACKEND_E2B:
		/* No key is this server's configuration (503), not E2B
		 * rejecting one (502). */
		if ((rc = aims_exec_backend_ready(AIMS_BACKEND_E2B, err)) < 0)
			return rc;
		return aims_e2b_exec(out, req, err);
	case AIMS_BACKEND_LOCAL:
	case AIMS_BACKEND_AUTO: break;
	}
	return run_local(out, req, err);
}

#define COMMAND_MAX (64u << 10)

int aims_exec_command(aims_exec_result **out, const char *command, const char *const *env,
		      const char *stdin_data, size_t stdin_len, uint32_t timeout_ms, int cancel_fd,
		      aims_error *err)
{
	const char *envp[AIMS_SANDBOX_MAX_ENV + 1];
	const char *argv[] = {"/bin/sh", "-c", command, NULL};
	aims_sandbox_config cfg;
	size_t n;

	if (!command || !*command)
		return aims_error_set(err, AIMS_EINVALID, "the command is empty");
	if (strlen(command) > COMMAND_MAX)
		return aims_error_set(err, AIMS_ETOOBIG, "the command is over %u bytes",
				      COMMAND_MAX);
	if (timeout_ms > AIMS_EXEC_MAX_TIMEOUT_MS)
		return aims_error_set(err, AIMS_EINVALID,
				      "timeout of %u ms is over the maximum of %u ms", timeout_ms,
				      AIMS_EXEC_MAX_TIMEOUT_MS);
	for (n = 0; env && env[n]; n++) {
		if (n >= AIMS_SANDBOX_MAX_ENV - 8)
			return aims_error_set(err, AIMS_ETOOBIG, "too many environment variables");
		if (!valid_env_entry(env[n]))
			return aims_error_set(err, AIMS_EINVALID,
					      "environment entry '%.40s' is not NAME=VALUE",
					      env[n]);
	}
	build_env(envp, env, NULL);
	aims_sandbox_config_init(&cfg);
	cfg.program = argv[0];
	cfg.argv = argv;
	cfg.env = envp;
	cfg.stdin_data = stdin_data;
	cfg.stdin_len = stdin_data ? stdin_len : 0;
	if (timeout_ms)
		cfg.wall_ms = timeout_ms;
	cfg.cancel_fd = cancel_fd;
	return aims_sandbox_run(out, &cfg, err);
}

/*
 * command.c - a manifest's command line in the local sandbox (the command
 * executor of dispatch). The line comes from the manifest, never from a
 * request; request data arrives as environment entries and stdin.
 */
#include <string.h>

#include "aims/exec.h"
#include "aims/sandbox.h"

#define COMMAND_MAX (64u << 10)

int aims_exec_command(aims_exec_result **out, const char *command, const char *const *env,
		      const char *stdin_data, size_t stdin_len, uint32_t timeout_ms, int cancel_fd,
		      aims_error *err)
{
	static const char *const base[] = {"PATH=/usr/local/bin:/usr/bin:/bin",
					   "HOME=" AIMS_SANDBOX_WORKDIR, "TMPDIR=/tmp",
					   "LANG=C.UTF-8", NULL};
	const char *envp[AIMS_SANDBOX_MAX_ENV + 1];
	const char *argv[] = {"/bin/sh", "-c", command, NULL};
	aims_sandbox_config cfg;
	size_t n = 0;

	if (!command || !*command)
		return aims_error_set(err, AIMS_EINVALID, "the command is empty");
	if (strlen(command) > COMMAND_MAX)
		return aims_error_set(err, AIMS_ETOOBIG, "the command is over %u bytes",
				      COMMAND_MAX);
	if (timeout_ms > AIMS_EXEC_MAX_TIMEOUT_MS)
		return aims_error_set(err, AIMS_EINVALID,
				      "timeout of %u ms is over the maximum of %u ms", timeout_ms,
				      AIMS_EXEC_MAX_TIMEOUT_MS);
	for (size_t i = 0; env && env[i]; i++) {
		if (n == AIMS_SANDBOX_MAX_ENV - 8)
			return aims_error_set(err, AIMS_ETOOBIG, "too many environment variables");
		envp[n++] = env[i];
	}
	for (size_t i = 0; base[i]; i++)
		envp[n++] = base[i];
	envp[n] = NULL;
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

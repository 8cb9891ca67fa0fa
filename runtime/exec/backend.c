/*
 * backend.c - which backend serves the code executor, and whether it can
 * run here now. Used by the executor before it runs anything and by the
 * requirements check (a built-in executor's readiness is its backend's).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "aims/exec.h"

static bool env_set(const char *name)
{
	const char *value = getenv(name);

	return value && *value;
}

aims_backend aims_exec_resolve_backend(aims_backend requested)
{
	const char *forced;

	if (requested != AIMS_BACKEND_AUTO)
		return requested;
	forced = getenv("AIMS_CODE_BACKEND");
	if (forced && strcmp(forced, "local") == 0)
		return AIMS_BACKEND_LOCAL;
	if (forced && strcmp(forced, "e2b") == 0)
		return AIMS_BACKEND_E2B;
	return env_set("E2B_API_KEY") ? AIMS_BACKEND_E2B : AIMS_BACKEND_LOCAL;
}

/* Reads a small integer from a /proc file; -1 when absent. */
static long read_proc_long(const char *path)
{
	char buf[32];
	FILE *f = fopen(path, "re");
	long value = -1;

	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f))
		value = strtol(buf, NULL, 10);
	fclose(f);
	return value;
}

static int local_ready(aims_error *err)
{
	static const char *const interpreters[] = {"/usr/bin/python3", "/usr/bin/node",
						   "/usr/bin/bash"};
	long userns = read_proc_long("/proc/sys/user/max_user_namespaces");
	long unprivileged = read_proc_long("/proc/sys/kernel/unprivileged_userns_clone");

	if (userns == 0)
		return aims_error_set(
			err, AIMS_EUNSUPPORTED,
			"user namespaces are disabled (user.max_user_namespaces = 0)");
	if (access("/proc/self/ns/user", F_OK) != 0)
		return aims_error_set(err, AIMS_EUNSUPPORTED, "this kernel has no user namespaces");
	if (unprivileged == 0 && geteuid() != 0)
		return aims_error_set(err, AIMS_EUNSUPPORTED,
				      "unprivileged user namespaces are disabled "
				      "(kernel.unprivileged_userns_clone = 0)");
	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0 && errno == EINVAL)
		return aims_error_set(err, AIMS_EUNSUPPORTED, "this kernel has no seccomp");
	for (size_t i = 0; i < sizeof(interpreters) / sizeof(interpreters[0]); i++)
		if (access(interpreters[i], X_OK) != 0)
			return aims_error_set(err, AIMS_EUNSUPPORTED, "interpreter %s not found",
					      interpreters[i]);
	return 0;
}

int aims_exec_backend_ready(aims_backend backend, aims_error *err)
{
	switch (aims_exec_resolve_backend(backend)) {
	case AIMS_BACKEND_E2B:
		if (!env_set("E2B_API_KEY"))
			return aims_error_set(
				err, AIMS_ENOTREADY,
				"E2B_API_KEY is not set: the e2b backend is unavailable");
		return 0;
	case AIMS_BACKEND_LOCAL:
	default: return local_ready(err);
	}
}

/*
 * backend.c - which backend serves the code executor, and whether it can
 * run here now. Used by the executor before it runs anything and by the
 * requirements check (a built-in executor's readiness is its backend's).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aims/exec.h"
#include "aims/sandbox.h"

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

static int local_ready(aims_error *err)
{
	static const char *const interpreters[] = {"/usr/bin/python3", "/usr/bin/node",
						   "/bin/bash"};
	int rc;

	/* The sandbox's own probe: user namespaces, seccomp, limits. */
	if ((rc = aims_sandbox_check(err)) < 0)
		return rc;
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

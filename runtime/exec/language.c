/*
 * language.c - names of languages, backends and limits; the request and
 * result life cycle shared by every backend.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aims/exec.h"

int aims_language_parse(aims_language *out, const char *name, aims_error *err)
{
	static const struct {
		const char *name;
		aims_language lang;
	} table[] = {
		{"python", AIMS_LANG_PYTHON}, {"python3", AIMS_LANG_PYTHON},
		{"py", AIMS_LANG_PYTHON},     {"node", AIMS_LANG_NODE},
		{"nodejs", AIMS_LANG_NODE},   {"javascript", AIMS_LANG_NODE},
		{"js", AIMS_LANG_NODE},	      {"bash", AIMS_LANG_BASH},
		{"sh", AIMS_LANG_BASH},	      {"shell", AIMS_LANG_BASH},
	};

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcasecmp(name, table[i].name) == 0) {
			*out = table[i].lang;
			return 0;
		}
	return aims_error_set(err, AIMS_EINVALID,
			      "unknown language '%.64s': use python, node or bash", name);
}

const char *aims_language_name(aims_language lang)
{
	switch (lang) {
	case AIMS_LANG_PYTHON: return "python";
	case AIMS_LANG_NODE: return "node";
	case AIMS_LANG_BASH: return "bash";
	}
	return "unknown";
}

int aims_backend_parse(aims_backend *out, const char *name, aims_error *err)
{
	if (strcasecmp(name, "auto") == 0)
		*out = AIMS_BACKEND_AUTO;
	else if (strcasecmp(name, "local") == 0)
		*out = AIMS_BACKEND_LOCAL;
	else if (strcasecmp(name, "e2b") == 0)
		*out = AIMS_BACKEND_E2B;
	else
		return aims_error_set(err, AIMS_EINVALID,
				      "unknown backend '%.64s': use auto, local or e2b", name);
	return 0;
}

const char *aims_backend_name(aims_backend backend)
{
	switch (backend) {
	case AIMS_BACKEND_AUTO: return "auto";
	case AIMS_BACKEND_LOCAL: return "local";
	case AIMS_BACKEND_E2B: return "e2b";
	}
	return "unknown";
}

const char *aims_limit_name(aims_limit limit)
{
	switch (limit) {
	case AIMS_LIMIT_NONE: return "none";
	case AIMS_LIMIT_WALL_TIME: return "wall-time";
	case AIMS_LIMIT_CPU_TIME: return "cpu-time";
	case AIMS_LIMIT_MEMORY: return "memory";
	case AIMS_LIMIT_PIDS: return "pids";
	case AIMS_LIMIT_OUTPUT: return "output";
	case AIMS_LIMIT_FILE_SIZE: return "file-size";
	case AIMS_LIMIT_DISK: return "disk";
	case AIMS_LIMIT_CANCELED: return "canceled";
	}
	return "unknown";
}

void aims_exec_request_init(aims_exec_request *req)
{
	memset(req, 0, sizeof(*req));
	req->cancel_fd = -1;
}

void aims_exec_result_free(aims_exec_result *r)
{
	if (!r)
		return;
	free(r->stdout_data);
	free(r->stderr_data);
	free(r->error);
	free(r->layer);
	free(r);
}

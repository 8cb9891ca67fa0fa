/*
 * e2b_placeholder.c - PLACEHOLDER for the E2B backend, written on another
 * branch: it keeps this branch linking and is replaced at merge. It runs
 * nothing and says so.
 */
#include "aims/e2b.h"

int aims_e2b_exec(aims_exec_result **out, const aims_exec_request *req, aims_error *err)
{
	(void)out;
	(void)req;
	return aims_error_set(err, AIMS_EUNSUPPORTED,
			      "the e2b backend is not built into this binary");
}

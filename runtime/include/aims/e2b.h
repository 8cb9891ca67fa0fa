/*
 * e2b.h - the E2B backend of the code executor (SPEC §7.4): runs a request
 * in a remote E2B sandbox and maps the outcome to the §7.1 result.
 */
#ifndef AIMS_E2B_H
#define AIMS_E2B_H

#include "aims/core.h"
#include "aims/exec.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Runs req in a new E2B sandbox and always deletes it. On success *out is
 * a new result (free with aims_exec_result_free). Fails with
 * AIMS_EUNSUPPORTED, AIMS_EAUTH, AIMS_EUPSTREAM, AIMS_ETIMEOUT,
 * AIMS_ECANCELED or AIMS_ENOMEM and a message in err. Thread-safe.
 */
int aims_e2b_exec(aims_exec_result **out, const aims_exec_request *req, aims_error *err);

#ifdef __cplusplus
}
#endif
#endif

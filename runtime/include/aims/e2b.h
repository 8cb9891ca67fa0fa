/*
 * e2b.h - the E2B cloud backend of the code executor (SPEC §7.4).
 *
 * One execution is one pipeline: validate → create a code-interpreter
 * sandbox (retrying 429/5xx/timeouts with bounded backoff) → install
 * packages through envd's process API → run the code through the
 * code-interpreter's /execute stream → collect → delete the sandbox, always
 * (after errors, timeouts and cancels too). Every sandbox alive is listed
 * in a process-wide registry so a server can delete them all on shutdown.
 *
 * Configuration comes from the environment the way E2B's SDKs read it:
 * E2B_API_KEY (required, "e2b_" + hex), E2B_DOMAIN, E2B_API_URL,
 * E2B_SANDBOX_URL, E2B_DEBUG. The API key never appears in an error
 * message or a result.
 */
#ifndef AIMS_E2B_H
#define AIMS_E2B_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aims/core.h"
#include "aims/exec.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AIMS_E2B_DEFAULT_DOMAIN "e2b.app"
#define AIMS_E2B_TEMPLATE	"code-interpreter-v1"
#define AIMS_E2B_ENVD_PORT	49983
#define AIMS_E2B_CODE_PORT	49999

/* Named limits. */
#define AIMS_E2B_MAX_RESPONSE	    (256u << 10) /* a control-plane answer */
#define AIMS_E2B_MAX_LINE	    (16u << 20)	 /* one NDJSON line of /execute */
#define AIMS_E2B_MAX_ENVELOPE	    (4u << 20)	 /* one Connect envelope */
#define AIMS_E2B_MAX_INSTALL_OUTPUT (64u << 10)	 /* install output kept for errors */

/* How to reach E2B and how patient to be. Strings are copies. */
typedef struct aims_e2b_config {
	char api_key[128];
	char domain[256];
	char api_url[512];     /* control plane, no trailing slash */
	char sandbox_url[512]; /* data plane for every sandbox; empty: per-port hosts */
	bool debug;	       /* E2B_DEBUG: plain http on localhost */
	char template_id[128];
	uint32_t request_timeout_ms; /* one control-plane request */
	uint32_t create_budget_ms;   /* sandbox creation, all retries included */
	unsigned create_attempts;    /* at most this many create requests */
	uint32_t retry_base_ms;	     /* first backoff, doubled each retry */
	uint32_t retry_max_ms;	     /* cap of one wait (Retry-After included) */
	uint32_t install_timeout_ms; /* one package-manager command */
	uint32_t delete_timeout_ms;  /* the delete at clean-up */
	uint32_t lifetime_margin_s;  /* sandbox lifetime beyond the work planned */
} aims_e2b_config;

/*
 * Fills cfg from the environment (see the top of this file) with the
 * default timings. Fails with AIMS_EAUTH when E2B_API_KEY is missing or
 * malformed (the message never repeats the key), AIMS_EINVALID when a URL
 * is not http(s), or is plain http to a host that is not loopback.
 */
int aims_e2b_config_from_env(aims_e2b_config *cfg, aims_error *err);

/* Checks a configuration filled by hand (same failures as above). */
int aims_e2b_config_check(const aims_e2b_config *cfg, aims_error *err);

/*
 * Runs req on E2B with the configuration from the environment. Same
 * contract as aims_exec_run (result backend AIMS_BACKEND_E2B): the code
 * having run (whatever it did, a timeout included) is a success; failures
 * are AIMS_EINVALID/AIMS_ETOOBIG (request), AIMS_EUNSUPPORTED (stdin),
 * AIMS_EAUTH (key), AIMS_EBUSY (E2B kept answering 429), AIMS_EUPSTREAM
 * (E2B failed, the stream broke, the sandbox is gone), AIMS_ETIMEOUT
 * (creation or install too slow), AIMS_ESANDBOX (package install failed),
 * AIMS_ECANCELED (req->cancel_fd or aims_e2b_shutdown), AIMS_ENOMEM.
 * The sandbox is deleted before returning in every case.
 */
int aims_e2b_exec(aims_exec_result **out, const aims_exec_request *req, aims_error *err);

/* Same as aims_e2b_exec with an explicit configuration. */
int aims_e2b_exec_with(aims_exec_result **out, const aims_exec_request *req,
		       const aims_e2b_config *cfg, aims_error *err);

/*
 * For a server shutting down: aborts every E2B transfer in flight (their
 * executions return AIMS_ECANCELED), refuses new executions, and deletes
 * every sandbox still alive. *out_deleted (may be NULL) receives how many
 * were deleted. The deletes share a 20 s budget. Returns 0, or
 * AIMS_EUPSTREAM when some delete failed or did not fit (those
 * sandboxes expire at their lifetime timeout). Thread-safe; final.
 */
int aims_e2b_shutdown(size_t *out_deleted, aims_error *err);

/* How many sandboxes this process has created and not yet deleted. */
size_t aims_e2b_live_count(void);

#ifdef __cplusplus
}
#endif
#endif

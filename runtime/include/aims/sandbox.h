/*
 * sandbox.h - the local Linux sandbox: run one program in fresh user, pid,
 * mount, network, ipc, uts and cgroup namespaces, on a tmpfs root holding
 * read-only binds of the system directories, as an unprivileged uid with no
 * capabilities, no_new_privs and a seccomp filter, under wall-time, CPU,
 * memory, process, output, file-size and disk limits.
 *
 * One declared configuration (aims_sandbox_config, every limit with a safe
 * default) drives one ordered setup sequence (docs/security-model.md lists
 * the steps). Nothing runs unsandboxed: when a needed kernel feature is
 * missing, aims_sandbox_run fails with AIMS_EUNSUPPORTED and names it.
 *
 * Safe to call from several threads at once: the child of clone() makes
 * only async-signal-safe system calls on memory prepared by the parent.
 */
#ifndef AIMS_SANDBOX_H
#define AIMS_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aims/core.h"
#include "aims/exec.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Safe defaults and hard bounds of the limits (SPEC §7.3). */
#define AIMS_SANDBOX_DEFAULT_WALL_MS   AIMS_EXEC_DEFAULT_TIMEOUT_MS
#define AIMS_SANDBOX_MAX_WALL_MS       AIMS_EXEC_MAX_TIMEOUT_MS
#define AIMS_SANDBOX_DEFAULT_MEMORY    (256ull << 20)
#define AIMS_SANDBOX_MIN_MEMORY	       (16ull << 20)
#define AIMS_SANDBOX_MAX_MEMORY	       (16ull << 30)
#define AIMS_SANDBOX_DEFAULT_PIDS      64u
#define AIMS_SANDBOX_MAX_PIDS	       4096u
#define AIMS_SANDBOX_DEFAULT_OUTPUT    AIMS_EXEC_DEFAULT_OUTPUT
#define AIMS_SANDBOX_MAX_OUTPUT	       (64u << 20)
#define AIMS_SANDBOX_DEFAULT_FILE_SIZE (64ull << 20)
#define AIMS_SANDBOX_DEFAULT_TMPFS     (64ull << 20) /* each of /tmp and the work dir */
#define AIMS_SANDBOX_MAX_TMPFS	       (4ull << 30)
#define AIMS_SANDBOX_DEFAULT_NOFILE    1024u
#define AIMS_SANDBOX_MAX_ARGS	       96 /* an install: options + 64 packages */
#define AIMS_SANDBOX_MAX_ENV	       128
#define AIMS_SANDBOX_MAX_FILE_NAME     64
#define AIMS_SANDBOX_MAX_BINDS	       8
#define AIMS_SANDBOX_MAX_BIND_PATH     200

/* Where things are inside the sandbox. */
#define AIMS_SANDBOX_WORKDIR  "/sandbox"
#define AIMS_SANDBOX_UID      1000u
#define AIMS_SANDBOX_HOSTNAME "aims-sandbox"

/* A host file or directory mounted read-only (nosuid, nodev) inside the
 * sandbox: both paths absolute, without "..". */
typedef struct aims_sandbox_bind {
	const char *host;
	const char *inside;
} aims_sandbox_bind;

/*
 * The declared configuration of one run. Initialize with
 * aims_sandbox_config_init, then set what differs. Every pointer is
 * borrowed for the duration of aims_sandbox_run.
 */
typedef struct aims_sandbox_config {
	/* What to run: an absolute path inside the sandbox and its argv
	 * (argv[0] included, NULL-terminated, at most AIMS_SANDBOX_MAX_ARGS). */
	const char *program;
	const char *const *argv;
	/* The complete environment ("NAME=VALUE", NULL-terminated, at most
	 * AIMS_SANDBOX_MAX_ENV); nothing of the caller's is inherited. NULL
	 * gives PATH, HOME, TMPDIR and LANG only. */
	const char *const *env;
	/* A file written into the work dir before the program starts (the
	 * code): a plain name, no '/'. NULL: none. */
	const char *file_name;
	const char *file_data;
	size_t file_len;
	/* Fed to the program's stdin (at most AIMS_EXEC_MAX_STDIN); NULL:
	 * stdin is empty. */
	const char *stdin_data;
	size_t stdin_len;
	/* A host directory mounted read-only at /opt/aims/layer (the package
	 * layer of a later step); NULL: none. The sandbox user (host nobody
	 * when the caller is root) must be able to traverse the path. */
	const char *layer_dir;
	/* Mount layer_dir writable (nosuid, nodev) instead of read-only: the
	 * package install step only, never code. Default off. */
	bool layer_writable;
	/* Keep the host's network namespace instead of a fresh one with only
	 * a down lo: the package install step only, when it must reach a
	 * registry; it can then reach whatever the host can, loopback
	 * included (docs/security-model.md). Default off. */
	bool share_network;
	/* Extra read-only mounts (configuration files of package managers, a
	 * local package index), at most AIMS_SANDBOX_MAX_BINDS; each host
	 * path must exist and be traversable by the sandbox user. */
	const aims_sandbox_bind *binds;
	size_t bind_count;
	/* The directory the program starts in: AIMS_SANDBOX_WORKDIR when
	 * NULL, else an absolute path inside the sandbox (the install step
	 * downloads into its layer). */
	const char *start_dir;

	/* Limits. */
	uint32_t wall_ms;      /* wall time; default 30 s, at most 300 s */
	uint32_t cpu_ms;       /* CPU time per process; default = wall_ms */
	uint64_t memory_bytes; /* whole tree (cgroup; rlimit fallback) */
	uint32_t pids;	       /* the program's processes and threads (cgroup;
				* rlimit fallback); the sandbox's own init and
				* setup helper are not counted (on cgroup v2 the
				* program may get one more, once the helper
				* is gone) */
	size_t output_max;     /* per stream, then truncated and flagged */
	uint64_t file_size;    /* largest file a process may write */
	uint64_t tmpfs_bytes;  /* size of /tmp and of the work dir, each */
	uint32_t nofile;       /* open files per process */

	/* Readable or hung up: cancel the run (AIMS_ECANCELED). -1: none. */
	int cancel_fd;
} aims_sandbox_config;

/* Fills cfg with the safe defaults (no program; cancel_fd -1). */
void aims_sandbox_config_init(aims_sandbox_config *cfg);

/*
 * Checks, once per process, that the sandbox can run here: user
 * namespaces, seccomp filters, the cgroup controllers (or the rlimit
 * fallback). Returns 0, or AIMS_EUNSUPPORTED with a message naming what
 * is missing. Thread-safe; later calls return the cached answer.
 */
int aims_sandbox_check(aims_error *err);

/* A short description of how limits are enforced here: "cgroup v1",
 * "cgroup v2" or "rlimits" (static; runs the check). */
const char *aims_sandbox_limits_backend(void);

/* When limits are rlimits: why cgroups could not be used, as a sentence
 * for the operator (what was tried, the error, how to fix it); NULL when
 * cgroups are used. Static; runs the check. */
const char *aims_sandbox_limits_reason(void);

/*
 * Runs cfg->program in a fresh sandbox and waits for it, its whole process
 * tree and every resource of the run to be gone. On success *out is a new
 * result (free with aims_exec_result_free) whatever the program did:
 * a non-zero exit, a timeout or a limit kill are reported in it. Fails
 * with AIMS_EINVALID (bad configuration), AIMS_EUNSUPPORTED (the machine
 * cannot sandbox), AIMS_ESANDBOX (a setup step failed; the message names
 * it), AIMS_ECANCELED (cancel_fd fired; the tree was killed), AIMS_ENOMEM
 * or AIMS_EIO. Thread-safe.
 */
int aims_sandbox_run(aims_exec_result **out, const aims_sandbox_config *cfg, aims_error *err);

/*
 * Removes the cgroups kept for reuse between runs. Call when no run is in
 * progress (at exit); later runs create new ones. Never fails.
 */
void aims_sandbox_shutdown(void);

/* Number of reusable cgroups currently kept (for tests). */
size_t aims_sandbox_pool_size(void);

#ifdef __cplusplus
}
#endif
#endif

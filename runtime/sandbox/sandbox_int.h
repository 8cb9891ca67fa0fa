/*
 * sandbox_int.h - shared by the files of the sandbox subsystem: the seccomp
 * program (seccomp.c), the cgroup pool (cgroup.c), the child's setup
 * sequence (child.c) and the parent's run loop (sandbox.c).
 */
#ifndef AIMS_SANDBOX_INT_H
#define AIMS_SANDBOX_INT_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "aims/sandbox.h"

/* ---- seccomp.c: the filter, built with libseccomp at build time ---- */

/* The BPF program (static, immutable). */
const struct sock_fprog *sandbox_seccomp_program(void);

/* ---- cgroup.c: limits through cgroups, reused between runs ---- */

typedef enum { CGROUP_NONE = 0, CGROUP_V1, CGROUP_V2 } cgroup_kind;

#define SANDBOX_PATH_MAX 4096

typedef struct cgroup_slot cgroup_slot;

/* Counters read before and after a run to tell which limit fired. */
typedef struct cgroup_counters {
	uint64_t oom_kills;
	uint64_t pids_max_hits;
	uint64_t cpu_usec; /* v2 only; 0 on v1 */
} cgroup_counters;

/* Writes value to dir/name (a cgroup or /proc file). Returns 0 or -errno. */
int sandbox_write_file(const char *dir, const char *name, const char *value);

/* Detects the cgroup version once. Thread-safe. */
cgroup_kind sandbox_cgroup_kind(void);
/* Why cgroups are not used (static), or NULL when they are. */
const char *sandbox_cgroup_reason(void);
/* Takes a free cgroup from the pool (or makes one) and sets its limits.
 * *out is NULL (not an error) when cgroups are not usable here. */
int sandbox_cgroup_acquire(cgroup_slot **out, uint64_t memory_bytes, uint32_t pids,
			   aims_error *err);
/* cgroup v2: an open fd of the slot's group, for clone3's
 * CLONE_INTO_CGROUP (the child is born in it: no migration, whose lock
 * costs an RCU grace period); -1 on v1. */
int sandbox_cgroup_dirfd(const cgroup_slot *slot);
/* Moves pid into the slot's groups (from the parent: cgroup v2 when
 * clone3 cannot place the child). */
int sandbox_cgroup_attach(cgroup_slot *slot, pid_t pid, aims_error *err);
/* The files a single-threaded child writes "0" to, to move itself into
 * the slot's groups (cgroup v1: <group>/tasks). Moving the writing thread
 * itself skips the global lock, and the RCU grace period it costs, that
 * moving another process takes. Returns how many (0: the parent must use
 * sandbox_cgroup_attach). */
size_t sandbox_cgroup_self_join(cgroup_slot *slot, char paths[][SANDBOX_PATH_MAX]);
/* Reads the counters of the slot. */
void sandbox_cgroup_counters(cgroup_slot *slot, cgroup_counters *out);
/* Returns the slot to the pool, or removes it when it is not empty. */
void sandbox_cgroup_release(cgroup_slot *slot);
void sandbox_cgroup_shutdown(void);
size_t sandbox_cgroup_pool_size(void);

/* ---- child.c: the setup sequence, run in the child of clone() ---- */

/* The steps of the sequence, reported by the child when one fails. */
typedef enum {
	STEP_NONE = 0,
	STEP_SYNC,
	STEP_SIGNALS,
	STEP_CGROUP_JOIN,
	STEP_CGROUP_NS,
	STEP_NETWORK,
	STEP_DUMPABLE,
	STEP_MOUNT_PRIVATE,
	STEP_ROOT_TMPFS,
	STEP_BIND,
	STEP_READONLY,
	STEP_SYMLINK,
	STEP_MKDIR,
	STEP_FILE,
	STEP_PROC,
	STEP_DEV,
	STEP_TMP,
	STEP_WORKDIR,
	STEP_LAYER,
	STEP_EXTRA_BIND,
	STEP_PIVOT_ROOT,
	STEP_ROOT_READONLY,
	STEP_HOSTNAME,
	STEP_RLIMITS,
	STEP_SESSION,
	STEP_CAPS_BOUNDING,
	STEP_GROUPS,
	STEP_UID,
	STEP_CAPS,
	STEP_PDEATHSIG,
	STEP_CLOSE_FDS,
	STEP_NO_NEW_PRIVS,
	STEP_FORK,
	STEP_SECCOMP,
	STEP_EXEC,
	STEP_DONE /* the program ran: the record carries its wait status */
} child_step;

/* The name of a step for messages (static). */
const char *sandbox_step_name(child_step step);

/* What the child writes to the status pipe: a failed step and its errno,
 * or STEP_DONE with the program's wait status and what init saw. */
typedef struct child_record {
	int32_t step;
	int32_t err; /* errno of a failed step */
	int32_t detail;
	int32_t wait_status;
	int32_t disk_full; /* bit 0: /tmp, bit 1: the work dir */
	int32_t pad;
} child_record;

/* One mount of the static plan (host paths probed once by the parent). */
typedef enum { PLAN_DIR, PLAN_BIND_DIR, PLAN_BIND_FILE, PLAN_SYMLINK } plan_kind;

typedef struct plan_entry {
	plan_kind kind;
	char src[256]; /* host path, or the symlink's target */
	char dst[256]; /* absolute path under the staging root */
	bool writable; /* device nodes */
	bool optional; /* a failure to bind is not fatal */
} plan_entry;

#define PLAN_MAX 48

/* Everything the child needs, prepared by the parent before clone():
 * the child allocates nothing and formats nothing. */
typedef struct child_args {
	int stdin_fd, stdout_fd, stderr_fd, sync_fd, status_fd;
	const plan_entry *plan; /* system directories and /etc pieces */
	size_t plan_len;
	const plan_entry *dev_plan; /* device nodes and links in /dev */
	size_t dev_plan_len;
	const struct sock_fprog *seccomp;

	char tmp_opts[96];     /* tmpfs options of /tmp */
	char work_opts[128];   /* tmpfs options of the work dir */
	const char *layer_dir; /* or NULL */
	bool layer_writable;
	/* Extra read-only mounts: host paths, and where they go under the
	 * staging root; files get an empty file as mount point. */
	const char *bind_src[AIMS_SANDBOX_MAX_BINDS];
	char bind_dst[AIMS_SANDBOX_MAX_BINDS][AIMS_SANDBOX_MAX_BIND_PATH + 16];
	bool bind_is_file[AIMS_SANDBOX_MAX_BINDS];
	size_t bind_count;
	const char *start_dir;			/* where the program starts */
	char cgroup_tasks[2][SANDBOX_PATH_MAX]; /* see sandbox_cgroup_self_join */
	size_t cgroup_tasks_count;

	const char *file_name; /* code file, written in the work dir */
	const char *file_data;
	size_t file_len;
	char file_path[128];

	const char *program;
	char *const *argv;
	char *const *envp;

	uint64_t cpu_seconds, file_size, memory_fallback;
	uint32_t nofile, pids_fallback;
	bool in_host_root; /* the caller is root: drop supplementary groups */
	bool new_network;  /* a network namespace of its own (not share_network) */
} child_args;

/* The staging mount point of the new root, in the child's mount namespace. */
#define SANDBOX_STAGE "/tmp"

/* The child's entry point after clone(); never returns. */
void sandbox_child_main(const child_args *args) __attribute__((noreturn));

#endif

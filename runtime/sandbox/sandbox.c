/*
 * sandbox.c - the parent side of a sandboxed run: validate the declared
 * configuration, prepare everything the child needs (the mount plan, the
 * seccomp program, argv, environment, option strings), clone() into fresh
 * namespaces, write the child's uid/gid maps, put it in a cgroup, then
 * feed stdin, collect output within its limits, enforce the wall time and
 * the cancel fd, and turn what happened into an aims_exec_result.
 *
 * Threads: the child of clone() is a copy of one thread of a possibly
 * multithreaded process, so it only runs child.c, which makes
 * async-signal-safe system calls on memory prepared here. The run waits
 * with a pidfd (no SIGCHLD: the child's exit signal is 0), so it neither
 * needs nor disturbs a SIGCHLD handler of the caller.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox_int.h"

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif

/* The host uid and gid the sandbox user maps to when the caller is root:
 * an escaped process owns nothing on the host. */
#define HOST_NOBODY 65534u
/* How long output is still drained after the init exited (normally the
 * pipes reach EOF at once; this bounds a write end kept by a process
 * outside the sandbox, which the child closes right after clone). */
#define DRAIN_MS   2000
#define READ_CHUNK (64u << 10)

static const unsigned long namespaces =
	CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS;

void aims_sandbox_config_init(aims_sandbox_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->wall_ms = AIMS_SANDBOX_DEFAULT_WALL_MS;
	cfg->cpu_ms = 0; /* = wall_ms */
	cfg->memory_bytes = AIMS_SANDBOX_DEFAULT_MEMORY;
	cfg->pids = AIMS_SANDBOX_DEFAULT_PIDS;
	cfg->output_max = AIMS_SANDBOX_DEFAULT_OUTPUT;
	cfg->file_size = AIMS_SANDBOX_DEFAULT_FILE_SIZE;
	cfg->tmpfs_bytes = AIMS_SANDBOX_DEFAULT_TMPFS;
	cfg->nofile = AIMS_SANDBOX_DEFAULT_NOFILE;
	cfg->cancel_fd = -1;
}

/* ---- the mount plan, probed once ---- */

static struct {
	pthread_once_t once;
	plan_entry plan[PLAN_MAX];
	size_t len;
	plan_entry dev[16];
	size_t dev_len;
} plans = {PTHREAD_ONCE_INIT, {{0}}, 0, {{0}}, 0};

static void plan_add(plan_entry *list, size_t *len, size_t max, plan_kind kind, const char *src,
		     const char *dst, bool writable)
{
	plan_entry *p;

	if (*len >= max)
		return;
	p = &list[(*len)++];
	p->kind = kind;
	snprintf(p->src, sizeof(p->src), "%s", src ? src : "");
	snprintf(p->dst, sizeof(p->dst), SANDBOX_STAGE "%s", dst);
	p->writable = writable;
	p->optional = false;
}

/* Adds host path as it is: a symlink is recreated, a directory or a file
 * is bound read-only; a missing path is skipped. */
static void plan_host(const char *path)
{
	struct stat st;
	char target[256];
	ssize_t n;

	if (lstat(path, &st) < 0)
		return;
	if (S_ISLNK(st.st_mode)) {
		n = readlink(path, target, sizeof(target) - 1);
		if (n <= 0)
			return;
		target[n] = '\0';
		plan_add(plans.plan, &plans.len, PLAN_MAX, PLAN_SYMLINK, target, path, false);
	} else if (S_ISDIR(st.st_mode)) {
		plan_add(plans.plan, &plans.len, PLAN_MAX, PLAN_BIND_DIR, path, path, false);
	} else if (S_ISREG(st.st_mode)) {
		plan_add(plans.plan, &plans.len, PLAN_MAX, PLAN_BIND_FILE, path, path, false);
	}
}

static void build_plans(void)
{
	/* What python3, node and bash need: the system directories (on a
	 * merged-/usr system the top-level ones are symlinks into /usr) and
	 * the /etc files the dynamic loader, the C library, TLS and Python
	 * read. Never /root, /home, /tmp, the caller's tree or secrets such
	 * as /etc/shadow or /etc/ssl/private. */
	static const char *const system[] = {"/usr",   "/bin",	 "/sbin",  "/lib",
					     "/lib32", "/lib64", "/libx32"};
	static const char *const etc[] = {"/etc/ld.so.cache",
					  "/etc/ld.so.conf",
					  "/etc/ld.so.conf.d",
					  "/etc/localtime",
					  "/etc/timezone",
					  "/etc/alternatives",
					  "/etc/nsswitch.conf",
					  "/etc/protocols",
					  "/etc/services",
					  "/etc/mime.types",
					  "/etc/python3",
					  "/etc/python3.11",
					  "/etc/python3.12",
					  "/etc/python3.13",
					  "/etc/ssl/certs",
					  "/etc/ssl/openssl.cnf",
					  "/etc/ca-certificates.conf"};
	static const char *const devices[] = {"/dev/null", "/dev/zero", "/dev/full", "/dev/random",
					      "/dev/urandom"};
	static const char *const links[][2] = {
		{"/proc/self/fd", "/dev/fd"},
		{"/proc/self/fd/0", "/dev/stdin"},
		{"/proc/self/fd/1", "/dev/stdout"},
		{"/proc/self/fd/2", "/dev/stderr"},
		{"/tmp", "/dev/shm"},
	};
	struct stat st;

	for (size_t i = 0; i < sizeof(system) / sizeof(system[0]); i++)
		plan_host(system[i]);
	plan_add(plans.plan, &plans.len, PLAN_MAX, PLAN_DIR, NULL, "/etc", false);
	plan_add(plans.plan, &plans.len, PLAN_MAX, PLAN_DIR, NULL, "/etc/ssl", false);
	for (size_t i = 0; i < sizeof(etc) / sizeof(etc[0]); i++)
		plan_host(etc[i]);
	for (size_t i = 0; i < sizeof(devices) / sizeof(devices[0]); i++)
		if (stat(devices[i], &st) == 0 && S_ISCHR(st.st_mode))
			plan_add(plans.dev, &plans.dev_len, 16, PLAN_BIND_FILE, devices[i],
				 devices[i], true);
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		plan_add(plans.dev, &plans.dev_len, 16, PLAN_SYMLINK, links[i][0], links[i][1],
			 false);
}

/* ---- the capability check, once ---- */

/* What is checked once per process: seccomp and, with
 * AIMS_REQUIRE_CGROUPS=1, cgroups (always, before any run), and the
 * namespaces (a throw-away clone, for aims_sandbox_check only: a run
 * learns the same from its own clone). */
typedef struct check_state {
	pthread_once_t once;
	int rc;
	char message[AIMS_ERROR_MESSAGE_MAX];
} check_state;

static check_state host_check = {PTHREAD_ONCE_INIT, 0, ""};
static check_state namespace_check = {PTHREAD_ONCE_INIT, 0, ""};

static int userns_missing(check_state *st, int e)
{
	st->rc = AIMS_EUNSUPPORTED;
	snprintf(st->message, sizeof(st->message),
		 "user namespaces are not available here (clone with new user, pid, "
		 "mount and network namespaces failed: %s; see the sysctls "
		 "user.max_user_namespaces and kernel.unprivileged_userns_clone): "
		 "refusing to run code unsandboxed",
		 strerror(e));
	return st->rc;
}

static void run_host_check(void)
{
	uint32_t errno_action = SECCOMP_RET_ERRNO, kill_action = SECCOMP_RET_KILL_PROCESS;
	const char *require;

	/* The actions the filter uses: ERRNO, and KILL_PROCESS (Linux 4.14)
	 * for other ABIs. */
	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0 ||
	    syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &errno_action) < 0 ||
	    syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &kill_action) < 0) {
		host_check.rc = AIMS_EUNSUPPORTED;
		snprintf(host_check.message, sizeof(host_check.message),
			 "seccomp filters are not available in this kernel (%s): "
			 "refusing to run code without them",
			 strerror(errno));
		return;
	}
	/* An operator who wants no run with rlimits only says so. */
	require = getenv("AIMS_REQUIRE_CGROUPS");
	if (require && *require && strcmp(require, "0") != 0 && strcmp(require, "1") != 0) {
		host_check.rc = AIMS_ENOTREADY;
		snprintf(host_check.message, sizeof(host_check.message),
			 "AIMS_REQUIRE_CGROUPS must be 1 (require cgroups) or 0, not '%.32s'",
			 require);
		return;
	}
	if (sandbox_cgroup_kind() == CGROUP_NONE && require && strcmp(require, "1") == 0) {
		host_check.rc = AIMS_EUNSUPPORTED;
		snprintf(host_check.message, sizeof(host_check.message),
			 "AIMS_REQUIRE_CGROUPS=1, but cgroups cannot enforce limits here: %s",
			 sandbox_cgroup_reason());
		return;
	}
	pthread_once(&plans.once, build_plans);
}

static void run_namespace_check(void)
{
	pid_t pid = (pid_t)syscall(SYS_clone, namespaces, NULL, NULL, NULL, 0);
	int status;

	if (pid == 0)
		_exit(0);
	if (pid < 0) {
		userns_missing(&namespace_check, errno);
		return;
	}
	while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR)
		;
}

static int host_ready(aims_error *err)
{
	pthread_once(&host_check.once, run_host_check);
	if (host_check.rc < 0)
		return aims_error_set(err, host_check.rc, "%s", host_check.message);
	return 0;
}

int aims_sandbox_check(aims_error *err)
{
	int rc;

	if ((rc = host_ready(err)) < 0)
		return rc;
	pthread_once(&namespace_check.once, run_namespace_check);
	if (namespace_check.rc < 0)
		return aims_error_set(err, namespace_check.rc, "%s", namespace_check.message);
	return 0;
}

const char *aims_sandbox_limits_reason(void)
{
	return sandbox_cgroup_reason();
}

const char *aims_sandbox_limits_backend(void)
{
	switch (sandbox_cgroup_kind()) {
	case CGROUP_V1: return "cgroup v1";
	case CGROUP_V2: return "cgroup v2";
	case CGROUP_NONE: break;
	}
	return "rlimits";
}

void aims_sandbox_shutdown(void)
{
	sandbox_cgroup_shutdown();
}

size_t aims_sandbox_pool_size(void)
{
	return sandbox_cgroup_pool_size();
}

/* ---- validation ---- */

/* An absolute path of bounded length without "." or ".." components. */
static bool sane_path(const char *path)
{
	size_t len = strlen(path);

	if (path[0] != '/' || len > AIMS_SANDBOX_MAX_BIND_PATH)
		return false;
	for (const char *p = path; (p = strchr(p, '/')) != NULL; p++)
		if ((p[1] == '.' && (p[2] == '/' || p[2] == '\0')) ||
		    (p[1] == '.' && p[2] == '.' && (p[3] == '/' || p[3] == '\0')))
			return false;
	return true;
}

static int validate(const aims_sandbox_config *cfg, aims_error *err)
{
	size_t n;

	if (!cfg->program || cfg->program[0] != '/')
		return aims_error_set(err, AIMS_EINVALID,
				      "the sandbox program must be an absolute path");
	if (!cfg->argv || !cfg->argv[0])
		return aims_error_set(err, AIMS_EINVALID, "the sandbox program needs an argv");
	for (n = 0; cfg->argv[n]; n++)
		if (n >= AIMS_SANDBOX_MAX_ARGS)
			return aims_error_set(err, AIMS_ETOOBIG, "more than %d arguments",
					      AIMS_SANDBOX_MAX_ARGS);
	for (n = 0; cfg->env && cfg->env[n]; n++) {
		if (n >= AIMS_SANDBOX_MAX_ENV)
			return aims_error_set(err, AIMS_ETOOBIG,
					      "more than %d environment variables",
					      AIMS_SANDBOX_MAX_ENV);
		if (!strchr(cfg->env[n], '=') || cfg->env[n][0] == '=')
			return aims_error_set(err, AIMS_EINVALID,
					      "environment entry '%.40s' is not NAME=VALUE",
					      cfg->env[n]);
	}
	if (cfg->file_name &&
	    (!cfg->file_name[0] || strchr(cfg->file_name, '/') ||
	     strlen(cfg->file_name) > AIMS_SANDBOX_MAX_FILE_NAME ||
	     strcmp(cfg->file_name, ".") == 0 || strcmp(cfg->file_name, "..") == 0))
		return aims_error_set(err, AIMS_EINVALID, "bad code file name");
	if (cfg->file_name && cfg->file_len && !cfg->file_data)
		return aims_error_set(err, AIMS_EINVALID, "code file without data");
	if (cfg->file_len > cfg->tmpfs_bytes)
		return aims_error_set(err, AIMS_ETOOBIG, "the code is larger than the work dir");
	if (cfg->stdin_len > AIMS_EXEC_MAX_STDIN)
		return aims_error_set(err, AIMS_ETOOBIG, "stdin is larger than %u bytes",
				      AIMS_EXEC_MAX_STDIN);
	if (cfg->wall_ms == 0 || cfg->wall_ms > AIMS_SANDBOX_MAX_WALL_MS)
		return aims_error_set(err, AIMS_EINVALID,
				      "the time limit must be between 1 ms and %u ms",
				      AIMS_SANDBOX_MAX_WALL_MS);
	if (cfg->cpu_ms > AIMS_SANDBOX_MAX_WALL_MS)
		return aims_error_set(err, AIMS_EINVALID, "the CPU time limit is above %u ms",
				      AIMS_SANDBOX_MAX_WALL_MS);
	if (cfg->memory_bytes < AIMS_SANDBOX_MIN_MEMORY ||
	    cfg->memory_bytes > AIMS_SANDBOX_MAX_MEMORY)
		return aims_error_set(err, AIMS_EINVALID,
				      "the memory limit must be between %llu MiB and %llu MiB",
				      AIMS_SANDBOX_MIN_MEMORY >> 20, AIMS_SANDBOX_MAX_MEMORY >> 20);
	if (cfg->pids == 0 || cfg->pids > AIMS_SANDBOX_MAX_PIDS)
		return aims_error_set(err, AIMS_EINVALID,
				      "the process limit must be between 1 and %u",
				      AIMS_SANDBOX_MAX_PIDS);
	if (cfg->output_max == 0 || cfg->output_max > AIMS_SANDBOX_MAX_OUTPUT)
		return aims_error_set(err, AIMS_EINVALID,
				      "the output limit must be between 1 byte and %u bytes",
				      AIMS_SANDBOX_MAX_OUTPUT);
	if (cfg->tmpfs_bytes < (1u << 20) || cfg->tmpfs_bytes > AIMS_SANDBOX_MAX_TMPFS)
		return aims_error_set(err, AIMS_EINVALID,
				      "the tmpfs size must be between 1 MiB and %llu MiB",
				      AIMS_SANDBOX_MAX_TMPFS >> 20);
	if (cfg->file_size == 0 || cfg->nofile < 16 || cfg->nofile > 65536)
		return aims_error_set(err, AIMS_EINVALID, "bad file size or open file limit");
	if (cfg->layer_writable && !cfg->layer_dir)
		return aims_error_set(err, AIMS_EINVALID, "a writable layer needs a layer_dir");
	if (cfg->start_dir && !sane_path(cfg->start_dir))
		return aims_error_set(err, AIMS_EINVALID, "bad start directory");
	if (cfg->bind_count > AIMS_SANDBOX_MAX_BINDS || (cfg->bind_count && !cfg->binds))
		return aims_error_set(err, AIMS_ETOOBIG, "more than %d extra mounts",
				      AIMS_SANDBOX_MAX_BINDS);
	for (n = 0; n < cfg->bind_count; n++) {
		const aims_sandbox_bind *b = &cfg->binds[n];

		if (!b->host || !b->inside || !sane_path(b->host) || !sane_path(b->inside) ||
		    strcmp(b->inside, "/") == 0)
			return aims_error_set(err, AIMS_EINVALID,
					      "extra mount %zu: both paths must be absolute, "
					      "without '..', at most %d bytes",
					      n, AIMS_SANDBOX_MAX_BIND_PATH);
	}
	return 0;
}

/* ---- pipes ---- */

/* A pipe whose both ends are >= 5, so the child can dup2 its ends to
 * 0..4 without clobbering one it has not moved yet. Both ends close on
 * exec. */
static int make_pipe(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	for (int i = 0; i < 2; i++)
		if (fds[i] < 5) {
			int high = fcntl(fds[i], F_DUPFD_CLOEXEC, 5);

			if (high < 0) {
				close(fds[0]);
				close(fds[1]);
				fds[0] = fds[1] = -1;
				return -1;
			}
			close(fds[i]);
			fds[i] = high;
		}
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

static int set_nonblock(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/* Writes /proc/<pid>/<name>. Returns 0 or -errno. */
static int write_proc(pid_t pid, const char *name, const char *value)
{
	char dir[32];

	snprintf(dir, sizeof(dir), "/proc/%ld", (long)pid);
	return sandbox_write_file(dir, name, value);
}

/* Maps the sandbox uid/gid to the caller's (or, for root, to nobody). */
static int write_maps(pid_t pid, bool root, aims_error *err)
{
	char map[64];
	int rc;

	if (!root && (rc = write_proc(pid, "setgroups", "deny")) < 0)
		return aims_error_set(err, AIMS_ESANDBOX, "cannot write the setgroups policy: %s",
				      strerror(-rc));
	snprintf(map, sizeof(map), "%u %u 1\n", AIMS_SANDBOX_UID,
		 root ? HOST_NOBODY : (unsigned)geteuid());
	if ((rc = write_proc(pid, "uid_map", map)) < 0)
		return aims_error_set(err, AIMS_ESANDBOX, "cannot write the uid map: %s",
				      strerror(-rc));
	snprintf(map, sizeof(map), "%u %u 1\n", AIMS_SANDBOX_UID,
		 root ? HOST_NOBODY : (unsigned)getegid());
	if ((rc = write_proc(pid, "gid_map", map)) < 0)
		return aims_error_set(err, AIMS_ESANDBOX, "cannot write the gid map: %s",
				      strerror(-rc));
	return 0;
}

/* Writes to a pipe that may have been closed without raising SIGPIPE in
 * the process: the signal is blocked in this thread and consumed. */
static ssize_t write_nosigpipe(int fd, const void *data, size_t len)
{
	sigset_t pipe_set, old;
	ssize_t n;
	int e;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	n = write(fd, data, len);
	e = errno;
	if (n < 0 && e == EPIPE) {
		struct timespec zero = {0, 0};

		while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return n;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* One output stream: kept up to max bytes, the rest read and dropped. */
typedef struct stream {
	int fd;
	aims_buf buf;
	bool truncated;
} stream;

static int read_stream(stream *s, char *chunk)
{
	ssize_t n = read(s->fd, chunk, READ_CHUNK);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (n == 0)
		return -1; /* EOF */
	size_t room = s->buf.max - s->buf.len;
	size_t keep = (size_t)n < room ? (size_t)n : room;

	if (keep && aims_buf_append(&s->buf, chunk, keep) < 0)
		return -2;
	if ((size_t)n > keep)
		s->truncated = true;
	return 0;
}

static void format_duration(char *out, size_t size, uint64_t ms)
{
	if (ms % 1000 == 0)
		snprintf(out, size, "%" PRIu64 " s", ms / 1000);
	else
		snprintf(out, size, "%" PRIu64 " ms", ms);
}

static char *describe_size(uint64_t bytes, char *out, size_t size)
{
	if (bytes >= (1u << 20) && bytes % (1u << 20) == 0)
		snprintf(out, size, "%" PRIu64 " MiB", bytes >> 20);
	else if (bytes >= 1024 && bytes % 1024 == 0)
		snprintf(out, size, "%" PRIu64 " KiB", bytes >> 10);
	else
		snprintf(out, size, "%" PRIu64 " bytes", bytes);
	return out;
}

/* ---- the run ---- */

typedef struct run_state {
	pid_t pid;
	int pidfd;
	int stdin_fd;
	stream out, err;
	int status_fd;
	int sync_fd;
	const char *stdin_data;
	size_t stdin_len, stdin_off;
	bool exited, timed_out, canceled;
	char *chunk; /* READ_CHUNK bytes, made before the clone: once the
		      * child runs, nothing may fail before it is reaped */
	int wait_status;
	struct rusage usage;
	child_record records[4];
	size_t record_count;
	size_t record_bytes;
	char record_buf[sizeof(child_record)];
} run_state;

static void kill_tree(run_state *st)
{
	/* The child is the pid namespace's init: its death kills every
	 * process in the namespace. */
	if (!st->exited)
		syscall(SYS_pidfd_send_signal, st->pidfd, SIGKILL, NULL, 0);
}

static void read_records(run_state *st)
{
	for (;;) {
		ssize_t n = read(st->status_fd, st->record_buf + st->record_bytes,
				 sizeof(st->record_buf) - st->record_bytes);

		if (n <= 0) {
			if (n == 0 || (errno != EAGAIN && errno != EINTR))
				close_fd(&st->status_fd);
			return;
		}
		st->record_bytes += (size_t)n;
		if (st->record_bytes == sizeof(child_record)) {
			if (st->record_count < sizeof(st->records) / sizeof(st->records[0]))
				memcpy(&st->records[st->record_count++], st->record_buf,
				       sizeof(child_record));
			st->record_bytes = 0;
		}
	}
}

static int wait_loop(run_state *st, const aims_sandbox_config *cfg, uint64_t start, aims_error *err)
{
	uint64_t deadline = start + cfg->wall_ms;
	uint64_t drain_deadline = 0;
	int rc = 0;

	for (;;) {
		struct pollfd pfd[6];
		int idx[6], n = 0, timeout;
		uint64_t now = now_ms();

		if (st->exited && st->out.fd < 0 && st->err.fd < 0 && st->status_fd < 0)
			break;
		if (!st->exited && !st->timed_out && !st->canceled && now >= deadline) {
			st->timed_out = true;
			kill_tree(st);
		}
		if (st->exited && now >= drain_deadline)
			break;
		if (!st->exited) {
			pfd[n] = (struct pollfd){st->pidfd, POLLIN, 0};
			idx[n++] = 0;
		}
		if (st->out.fd >= 0) {
			pfd[n] = (struct pollfd){st->out.fd, POLLIN, 0};
			idx[n++] = 1;
		}
		if (st->err.fd >= 0) {
			pfd[n] = (struct pollfd){st->err.fd, POLLIN, 0};
			idx[n++] = 2;
		}
		if (st->stdin_fd >= 0) {
			pfd[n] = (struct pollfd){st->stdin_fd, POLLOUT, 0};
			idx[n++] = 3;
		}
		if (st->status_fd >= 0) {
			pfd[n] = (struct pollfd){st->status_fd, POLLIN, 0};
			idx[n++] = 4;
		}
		if (cfg->cancel_fd >= 0 && !st->exited && !st->canceled) {
			pfd[n] = (struct pollfd){cfg->cancel_fd, POLLIN, 0};
			idx[n++] = 5;
		}
		if (st->exited)
			timeout = (int)(drain_deadline - now);
		else if (st->timed_out || st->canceled)
			timeout = 100; /* the kill is on its way */
		else
			timeout = (int)(deadline - now);
		if (poll(pfd, (nfds_t)n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			rc = aims_error_set(err, AIMS_EIO, "poll: %s", strerror(errno));
			kill_tree(st);
			st->canceled = true; /* keep going until the tree is gone */
			continue;
		}
		for (int i = 0; i < n; i++) {
			if (!pfd[i].revents)
				continue;
			switch (idx[i]) {
			case 0:
				while (wait4(st->pid, &st->wait_status, __WALL, &st->usage) < 0) {
					if (errno != EINTR) {
						st->wait_status = 0;
						break;
					}
				}
				st->exited = true;
				drain_deadline = now_ms() + DRAIN_MS;
				close_fd(&st->sync_fd);
				close_fd(&st->stdin_fd);
				break;
			case 1:
			case 2: {
				stream *s = idx[i] == 1 ? &st->out : &st->err;
				int r = read_stream(s, st->chunk);

				if (r == -2) {
					rc = aims_error_set(err, AIMS_ENOMEM, "out of memory");
					kill_tree(st);
				}
				if (r < 0)
					close_fd(&s->fd);
				break;
			}
			case 3: {
				ssize_t w = write_nosigpipe(st->stdin_fd,
							    st->stdin_data + st->stdin_off,
							    st->stdin_len - st->stdin_off);

				if (w > 0)
					st->stdin_off += (size_t)w;
				if ((w < 0 && errno != EAGAIN && errno != EINTR) ||
				    st->stdin_off >= st->stdin_len)
					close_fd(&st->stdin_fd);
				break;
			}
			case 4: read_records(st); break;
			case 5:
				st->canceled = true;
				kill_tree(st);
				break;
			}
		}
	}
	return rc;
}

static int setup_failure(const child_record *rec, const aims_sandbox_config *cfg, aims_error *err)
{
	if (rec->step == STEP_EXEC)
		return aims_error_set(err, rec->err == ENOENT ? AIMS_EUNSUPPORTED : AIMS_ESANDBOX,
				      "cannot start %s in the sandbox: %s", cfg->program,
				      strerror(rec->err));
	return aims_error_set(err, AIMS_ESANDBOX, "sandbox setup failed while %s (%d): %s",
			      sandbox_step_name((child_step)rec->step), rec->detail,
			      strerror(rec->err));
}

/* Sets result->limit and result->error from what was observed. */
/* The CPU time each process may use (RLIMIT_CPU, whole seconds). Without
 * a CPU limit of its own it is only a backstop of the wall time, a second
 * above it: a busy loop must end by the wall limit (and be reported so),
 * not by SIGXCPU racing it. */
static uint64_t cpu_limit_ms(const aims_sandbox_config *cfg)
{
	if (cfg->cpu_ms)
		return (cfg->cpu_ms + 999) / 1000 * 1000;
	return (cfg->wall_ms + 999) / 1000 * 1000 + 1000;
}

static int describe(aims_exec_result *r, const run_state *st, const child_record *done,
		    const cgroup_counters *before, const cgroup_counters *after,
		    const aims_sandbox_config *cfg, uint64_t cpu_ms)
{
	char what[192], size[32];
	bool pids_hit = after->pids_max_hits > before->pids_max_hits;
	int sig = r->term_signal;

	what[0] = '\0';
	if (st->timed_out) {
		r->limit = AIMS_LIMIT_WALL_TIME;
		r->timed_out = true;
		format_duration(size, sizeof(size), cfg->wall_ms);
		snprintf(what, sizeof(what), "killed: wall time limit of %s reached%s", size,
			 pids_hit ? " (the process limit was reached too)" : "");
	} else if (after->oom_kills > before->oom_kills) {
		r->limit = AIMS_LIMIT_MEMORY;
		snprintf(what, sizeof(what), "killed: memory limit of %s reached",
			 describe_size(cfg->memory_bytes, size, sizeof(size)));
	} else if (sig == SIGXCPU || (sig == SIGKILL && cpu_ms + 10 >= cpu_limit_ms(cfg))) {
		r->limit = AIMS_LIMIT_CPU_TIME;
		format_duration(size, sizeof(size), cpu_limit_ms(cfg));
		snprintf(what, sizeof(what), "killed: CPU time limit of %s reached", size);
	} else if (sig == SIGXFSZ) {
		r->limit = AIMS_LIMIT_FILE_SIZE;
		snprintf(what, sizeof(what), "killed: file size limit of %s reached",
			 describe_size(cfg->file_size, size, sizeof(size)));
	} else if (done && done->disk_full) {
		r->limit = AIMS_LIMIT_DISK;
		snprintf(what, sizeof(what), "disk full: %s of %s is used up",
			 done->disk_full & 1 ? "/tmp" : "the work directory",
			 describe_size(cfg->tmpfs_bytes, size, sizeof(size)));
	} else if (pids_hit) {
		r->limit = AIMS_LIMIT_PIDS;
		snprintf(what, sizeof(what), "process limit of %u reached: a fork failed",
			 cfg->pids);
	} else if (r->truncated) {
		r->limit = AIMS_LIMIT_OUTPUT;
		snprintf(what, sizeof(what), "output truncated: %s exceeded %s",
			 st->out.truncated ? "stdout" : "stderr",
			 describe_size(cfg->output_max, size, sizeof(size)));
	}
	if (what[0] && !(r->error = strdup(what)))
		return AIMS_ENOMEM;
	return 0;
}

/* Clones the child with the namespaces but the network's (the child's
 * helper creates that one while the child builds its root) and exit
 * signal 0 (no SIGCHLD for the caller; waited for with __WALL). With a
 * cgroup v2 fd the child is born in that group (clone3, Linux 5.7);
 * *in_group tells whether it was. Returns what clone returns. */
static pid_t spawn_child(run_state *st, int cgroup_fd, bool *in_group)
{
	static int no_clone3; /* the kernel (or a filter) has no clone3 */
	unsigned long flags = (namespaces & ~(unsigned long)CLONE_NEWNET) | CLONE_PIDFD;

	*in_group = false;
	if (cgroup_fd >= 0 && !__atomic_load_n(&no_clone3, __ATOMIC_RELAXED)) {
		struct clone_args ca;
		pid_t pid;

		memset(&ca, 0, sizeof(ca));
		ca.flags = flags | CLONE_INTO_CGROUP;
		ca.pidfd = (uint64_t)(uintptr_t)&st->pidfd;
		ca.cgroup = (uint64_t)cgroup_fd;
		pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
		if (pid >= 0) {
			*in_group = pid > 0;
			return pid;
		}
		/* Any failure is told by the plain clone and the attach that
		 * follow, each naming what failed. */
		if (errno == ENOSYS || errno == E2BIG)
			__atomic_store_n(&no_clone3, 1, __ATOMIC_RELAXED);
	}
	return (pid_t)syscall(SYS_clone, flags, NULL, &st->pidfd, NULL, 0);
}

int aims_sandbox_run(aims_exec_result **out, const aims_sandbox_config *cfg, aims_error *err)
{
	cgroup_slot *slot = NULL;
	cgroup_counters before, after;
	child_args args;
	run_state st;
	aims_exec_result *r = NULL;
	int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
	int sync_pipe[2] = {-1, -1}, status_pipe[2] = {-1, -1};
	char *argv[AIMS_SANDBOX_MAX_ARGS + 1];
	char *envp[AIMS_SANDBOX_MAX_ENV + 1];
	static const char *const default_env[] = {"PATH=/usr/local/bin:/usr/bin:/bin",
						  "HOME=" AIMS_SANDBOX_WORKDIR, "TMPDIR=/tmp",
						  "LANG=C.UTF-8", NULL};
	const char *const *env = cfg->env ? cfg->env : default_env;
	const child_record *done = NULL;
	bool root = geteuid() == 0, born_in_group = false;
	uint64_t start, cpu_ms;
	int rc = 0;
	pid_t pid;

	assert(out && cfg);
	memset(&st, 0, sizeof(st));
	st.pid = -1;
	st.pidfd = st.stdin_fd = st.status_fd = st.sync_fd = -1;
	st.out.fd = st.err.fd = -1;
	aims_buf_init(&st.out.buf, cfg->output_max);
	aims_buf_init(&st.err.buf, cfg->output_max);
	memset(&before, 0, sizeof(before));
	memset(&after, 0, sizeof(after));

	if ((rc = host_ready(err)) < 0 || (rc = validate(cfg, err)) < 0)
		goto out;
	pthread_once(&plans.once, build_plans);

	memset(&args, 0, sizeof(args));
	for (size_t i = 0; cfg->argv[i]; i++)
		argv[i] = (char *)cfg->argv[i], argv[i + 1] = NULL;
	{
		size_t i = 0;

		for (; env[i]; i++)
			envp[i] = (char *)env[i];
		envp[i] = NULL;
	}
	args.plan = plans.plan;
	args.plan_len = plans.len;
	args.dev_plan = plans.dev;
	args.dev_plan_len = plans.dev_len;
	args.seccomp = sandbox_seccomp_program();
	snprintf(args.tmp_opts, sizeof(args.tmp_opts), "size=%" PRIu64 ",nr_inodes=16384,mode=1777",
		 cfg->tmpfs_bytes);
	snprintf(args.work_opts, sizeof(args.work_opts),
		 "size=%" PRIu64 ",nr_inodes=16384,mode=0755,uid=%u,gid=%u", cfg->tmpfs_bytes,
		 AIMS_SANDBOX_UID, AIMS_SANDBOX_UID);
	args.layer_dir = cfg->layer_dir;
	args.layer_writable = cfg->layer_writable;
	args.start_dir = cfg->start_dir;
	for (size_t i = 0; i < cfg->bind_count; i++) {
		struct stat info;

		if (stat(cfg->binds[i].host, &info) < 0) {
			rc = aims_error_set(err, AIMS_EINVALID,
					    "cannot mount %s in the sandbox: %s",
					    cfg->binds[i].host, strerror(errno));
			goto out;
		}
		args.bind_src[i] = cfg->binds[i].host;
		args.bind_is_file[i] = !S_ISDIR(info.st_mode);
		snprintf(args.bind_dst[i], sizeof(args.bind_dst[i]), SANDBOX_STAGE "%s",
			 cfg->binds[i].inside);
	}
	args.bind_count = cfg->bind_count;
	args.file_name = cfg->file_name;
	args.file_data = cfg->file_data ? cfg->file_data : "";
	args.file_len = cfg->file_len;
	if (cfg->file_name)
		snprintf(args.file_path, sizeof(args.file_path),
			 SANDBOX_STAGE AIMS_SANDBOX_WORKDIR "/%s", cfg->file_name);
	args.program = cfg->program;
	args.argv = argv;
	args.envp = envp;
	args.cpu_seconds = cpu_limit_ms(cfg) / 1000;
	args.file_size = cfg->file_size;
	args.nofile = cfg->nofile;
	args.in_host_root = root;
	args.new_network = !cfg->share_network;

	/* The run's init is not the program's, nor, on cgroup v2 (born in
	 * the group by clone3), its setup helper, which may still be leaving
	 * when the program starts: the program gets at least cfg->pids. */
	if ((rc = sandbox_cgroup_acquire(&slot, cfg->memory_bytes,
					 cfg->pids + (sandbox_cgroup_kind() == CGROUP_V2 ? 2 : 1),
					 err)) < 0)
		goto out;
	if (slot) {
		sandbox_cgroup_counters(slot, &before);
		args.cgroup_tasks_count = sandbox_cgroup_self_join(slot, args.cgroup_tasks);
	} else {
		args.memory_fallback = cfg->memory_bytes;
		args.pids_fallback = cfg->pids;
	}

	if (!(st.chunk = malloc(READ_CHUNK))) {
		rc = aims_error_set(err, AIMS_ENOMEM, "out of memory");
		goto out;
	}
	if (make_pipe(in_pipe) < 0 || make_pipe(out_pipe) < 0 || make_pipe(err_pipe) < 0 ||
	    make_pipe(sync_pipe) < 0 || make_pipe(status_pipe) < 0) {
		rc = aims_error_set(err, AIMS_EIO, "cannot create pipes: %s", strerror(errno));
		goto out;
	}
	args.stdin_fd = in_pipe[0];
	args.stdout_fd = out_pipe[1];
	args.stderr_fd = err_pipe[1];
	args.sync_fd = sync_pipe[0];
	args.status_fd = status_pipe[1];

	start = now_ms();
	pid = spawn_child(&st, sandbox_cgroup_dirfd(slot), &born_in_group);
	if (pid == 0)
		sandbox_child_main(&args);
	if (pid < 0) {
		int e = errno;

		if (e == EPERM || e == EINVAL || e == ENOSPC || e == EUSERS) {
			check_state missing = {PTHREAD_ONCE_INIT, 0, ""};

			rc = aims_error_set(err, userns_missing(&missing, e), "%s",
					    missing.message);
		} else {
			rc = aims_error_set(err, e == ENOMEM ? AIMS_ENOMEM : AIMS_ESANDBOX,
					    "cannot create the sandbox's namespaces: %s",
					    strerror(e));
		}
		goto out;
	}
	st.pid = pid;
	close_fd(&in_pipe[0]);
	close_fd(&out_pipe[1]);
	close_fd(&err_pipe[1]);
	close_fd(&sync_pipe[0]);
	close_fd(&status_pipe[1]);
	st.stdin_fd = in_pipe[1];
	st.out.fd = out_pipe[0];
	st.err.fd = err_pipe[0];
	st.status_fd = status_pipe[0];
	st.sync_fd = sync_pipe[1];
	in_pipe[1] = out_pipe[0] = err_pipe[0] = status_pipe[0] = sync_pipe[1] = -1;
	st.stdin_data = cfg->stdin_data;
	st.stdin_len = cfg->stdin_data ? cfg->stdin_len : 0;

	/* The maps first (the child needs them to set up its root), then
	 * the cgroups while the child builds its root. */
	if ((rc = write_maps(pid, root, err)) < 0)
		goto abort;
	if (write(st.sync_fd, "g", 1) != 1) {
		rc = aims_error_set(err, AIMS_EIO, "cannot start the sandbox: %s", strerror(errno));
		goto abort;
	}
	if (slot && !args.cgroup_tasks_count && !born_in_group &&
	    (rc = sandbox_cgroup_attach(slot, pid, err)) < 0)
		goto abort;
	if (set_nonblock(st.stdin_fd) < 0 || set_nonblock(st.out.fd) < 0 ||
	    set_nonblock(st.err.fd) < 0 || set_nonblock(st.status_fd) < 0 ||
	    write(st.sync_fd, "c", 1) != 1) {
		rc = aims_error_set(err, AIMS_EIO, "cannot start the sandbox: %s", strerror(errno));
		goto abort;
	}
	if (st.stdin_len == 0)
		close_fd(&st.stdin_fd);

	rc = wait_loop(&st, cfg, start, err);
	if (slot)
		sandbox_cgroup_counters(slot, &after);
	if (rc < 0)
		goto out;
	if (st.canceled) {
		rc = aims_error_set(err, AIMS_ECANCELED, "the execution was canceled");
		goto out;
	}
	for (size_t i = 0; i < st.record_count; i++) {
		if (st.records[i].step == STEP_DONE)
			done = &st.records[i];
		else if (!st.timed_out) {
			rc = setup_failure(&st.records[i], cfg, err);
			goto out;
		}
	}

	if (!(r = calloc(1, sizeof(*r)))) {
		rc = aims_error_set(err, AIMS_ENOMEM, "out of memory");
		goto out;
	}
	r->backend = AIMS_BACKEND_LOCAL;
	r->duration_ms = now_ms() - start;
	r->exit_code = -1;
	if (done && WIFEXITED(done->wait_status)) {
		r->exit_code = WEXITSTATUS(done->wait_status);
	} else if (done && WIFSIGNALED(done->wait_status)) {
		r->term_signal = WTERMSIG(done->wait_status);
	} else if (!done) {
		/* The init itself was killed: by us (timeout), or by the
		 * kernel (out of memory). */
		r->term_signal = WIFSIGNALED(st.wait_status) ? WTERMSIG(st.wait_status) : SIGKILL;
	}
	r->truncated = st.out.truncated || st.err.truncated;
	cpu_ms = (uint64_t)st.usage.ru_utime.tv_sec * 1000 + st.usage.ru_utime.tv_usec / 1000 +
		 (uint64_t)st.usage.ru_stime.tv_sec * 1000 + st.usage.ru_stime.tv_usec / 1000;
	if (after.cpu_usec > before.cpu_usec)
		cpu_ms = (after.cpu_usec - before.cpu_usec) / 1000;
	r->stdout_len = st.out.buf.len;
	r->stderr_len = st.err.buf.len;
	if (describe(r, &st, done, &before, &after, cfg, cpu_ms) < 0 ||
	    !(r->stdout_data = aims_buf_detach(&st.out.buf)) ||
	    !(r->stderr_data = aims_buf_detach(&st.err.buf))) {
		rc = aims_error_set(err, AIMS_ENOMEM, "out of memory");
		goto out;
	}
	r->success = r->exit_code == 0 && !r->error;
	goto out;
abort:
	/* Started but not released: kill it and wait until it is gone. */
	kill_tree(&st);
	wait_loop(&st, cfg, start, NULL);
out:
	close_fd(&in_pipe[0]);
	close_fd(&in_pipe[1]);
	close_fd(&out_pipe[0]);
	close_fd(&out_pipe[1]);
	close_fd(&err_pipe[0]);
	close_fd(&err_pipe[1]);
	close_fd(&sync_pipe[0]);
	close_fd(&sync_pipe[1]);
	close_fd(&status_pipe[0]);
	close_fd(&status_pipe[1]);
	close_fd(&st.stdin_fd);
	close_fd(&st.out.fd);
	close_fd(&st.err.fd);
	close_fd(&st.status_fd);
	close_fd(&st.sync_fd);
	close_fd(&st.pidfd);
	sandbox_cgroup_release(slot);
	free(st.chunk);
	aims_buf_free(&st.out.buf);
	aims_buf_free(&st.err.buf);
	if (rc < 0) {
		aims_exec_result_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

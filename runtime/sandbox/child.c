/*
 * child.c - the sandbox's setup sequence, run by the child of clone().
 *
 * The parent may be multithreaded (the HTTP server), so everything here is
 * limited to async-signal-safe system calls on memory the parent prepared:
 * no malloc, no stdio, no formatting, no locks, and credentials changed
 * with raw system calls (the C library's setuid family would try to signal
 * the parent's threads, which do not exist in the child).
 *
 * The child is the init (pid 1) of the new pid namespace. In order it:
 *  1. resets the signal handlers and mask it inherited, moves its pipes
 *     to fds 0-4 and closes every other inherited fd; starts the helper,
 *     which creates the network namespace meanwhile (see start_helper);
 *  2. waits until the parent has written its uid/gid maps; moves itself
 *     into the run's cgroups (v1);
 *  3. builds the new root: a tmpfs with read-only binds of the system
 *     directories and a few /etc files, generated passwd/group/hosts,
 *     a fresh /proc, a minimal /dev, size-limited /tmp and work dir, the
 *     code file; pivot_root into it, detach the old root (the helper
 *     again), make / read-only; enters the network namespace;
 *  4. sets the hostname; waits until the parent has put it in the run's
 *     cgroups and enters a new cgroup namespace; sets the rlimits, starts
 *     a new session;
 *  5. empties the capability bounding and ambient sets, locks the
 *     securebits, drops supplementary groups, switches to the sandbox uid
 *     and gid, clears every capability, sets no_new_privs;
 *  6. starts the program (vfork-like), which installs the seccomp filter
 *     and execs;
 *  7. as init, reaps every process until the program exits, notes whether
 *     /tmp or the work dir were full, reports the program's wait status and
 *     exits: the kernel then kills whatever is left in the namespace.
 * A failing step writes (step, errno) to the status pipe and exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox_int.h"

#ifndef SECBIT_NOROOT
#define SECBIT_NOROOT			   1
#define SECBIT_NOROOT_LOCKED		   2
#define SECBIT_NO_SETUID_FIXUP_LOCKED	   8
#define SECBIT_KEEP_CAPS_LOCKED		   32
#define SECBIT_NO_CAP_AMBIENT_RAISE	   64
#define SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED 128
#endif

enum { FD_SYNC = 3, FD_STATUS = 4, FD_FIRST_FREE = 5 };

#define DEV_OPTS  "size=64k,nr_inodes=64,mode=0755"
#define ROOT_OPTS "size=1m,nr_inodes=256,mode=0755"

static const char *const step_names[] = {
	[STEP_NONE] = "none",
	[STEP_SYNC] = "waiting for the parent",
	[STEP_SIGNALS] = "resetting signal handlers",
	[STEP_CGROUP_JOIN] = "joining the run's cgroups",
	[STEP_CGROUP_NS] = "entering a cgroup namespace",
	[STEP_NETWORK] = "creating the network namespace",
	[STEP_DUMPABLE] = "making the init's memory private",
	[STEP_MOUNT_PRIVATE] = "making mounts private",
	[STEP_ROOT_TMPFS] = "mounting the root tmpfs",
	[STEP_BIND] = "bind-mounting a system directory",
	[STEP_READONLY] = "making a bind mount read-only",
	[STEP_SYMLINK] = "creating a symlink",
	[STEP_MKDIR] = "creating a directory",
	[STEP_FILE] = "writing a file",
	[STEP_PROC] = "mounting /proc",
	[STEP_DEV] = "building /dev",
	[STEP_TMP] = "mounting /tmp",
	[STEP_WORKDIR] = "mounting the work directory",
	[STEP_LAYER] = "mounting the package layer",
	[STEP_EXTRA_BIND] = "mounting an extra read-only path",
	[STEP_PIVOT_ROOT] = "pivot_root",
	[STEP_ROOT_READONLY] = "making / read-only",
	[STEP_HOSTNAME] = "setting the hostname",
	[STEP_RLIMITS] = "setting rlimits",
	[STEP_SESSION] = "starting a session",
	[STEP_CAPS_BOUNDING] = "dropping the capability bounding set",
	[STEP_GROUPS] = "dropping supplementary groups",
	[STEP_UID] = "switching to the sandbox uid",
	[STEP_CAPS] = "dropping capabilities",
	[STEP_PDEATHSIG] = "setting the parent-death signal",
	[STEP_CLOSE_FDS] = "closing inherited file descriptors",
	[STEP_NO_NEW_PRIVS] = "setting no_new_privs",
	[STEP_FORK] = "starting the program",
	[STEP_SECCOMP] = "installing the seccomp filter",
	[STEP_EXEC] = "executing the interpreter",
	[STEP_DONE] = "done",
};

const char *sandbox_step_name(child_step step)
{
	if ((unsigned)step < sizeof(step_names) / sizeof(step_names[0]) && step_names[step])
		return step_names[step];
	return "unknown step";
}

static int status_fd = -1;

static void report(child_step step, int err, int detail)
{
	child_record rec;

	memset(&rec, 0, sizeof(rec));
	rec.step = (int32_t)step;
	rec.err = err;
	rec.detail = detail;
	if (status_fd >= 0)
		(void)!write(status_fd, &rec, sizeof(rec));
}

static void __attribute__((noreturn)) fail(child_step step, int detail)
{
	report(step, errno, detail);
	_exit(126);
}

static int set_attr(const char *path, unsigned flags, uint64_t set)
{
	struct mount_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.attr_set = set;
	return (int)syscall(SYS_mount_setattr, AT_FDCWD, path, flags, &attr, sizeof(attr));
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = write(fd, data, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static void write_file(const char *path, const char *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);

	if (fd < 0 || write_all(fd, data, len) < 0)
		fail(STEP_FILE, 0);
	if (fchown(fd, AIMS_SANDBOX_UID, AIMS_SANDBOX_UID) < 0)
		fail(STEP_FILE, 1);
	close(fd);
}

static void run_plan(const plan_entry *plan, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		const plan_entry *p = &plan[i];
		uint64_t attrs =
			MOUNT_ATTR_NOSUID |
			(p->writable ? MOUNT_ATTR_NOEXEC : MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV);
		int fd;

		switch (p->kind) {
		case PLAN_DIR:
			if (mkdir(p->dst, 0755) < 0 && errno != EEXIST)
				fail(STEP_MKDIR, (int)i);
			continue;
		case PLAN_SYMLINK:
			if (symlink(p->src, p->dst) < 0)
				fail(STEP_SYMLINK, (int)i);
			continue;
		case PLAN_BIND_DIR:
			if (mkdir(p->dst, 0755) < 0 && errno != EEXIST)
				fail(STEP_MKDIR, (int)i);
			break;
		case PLAN_BIND_FILE:
			fd = open(p->dst, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0444);
			if (fd < 0)
				fail(STEP_FILE, (int)i);
			close(fd);
			break;
		}
		if (mount(p->src, p->dst, NULL, MS_BIND | MS_REC, NULL) < 0) {
			if (p->optional)
				continue;
			fail(STEP_BIND, (int)i);
		}
		if (set_attr(p->dst, AT_RECURSIVE, attrs) < 0)
			fail(STEP_READONLY, (int)i);
	}
}

static const char passwd[] = "root:x:0:0:root:/:/usr/sbin/nologin\n"
			     "sandbox:x:1000:1000:sandbox:" AIMS_SANDBOX_WORKDIR ":/bin/bash\n"
			     "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
static const char group[] = "root:x:0:\nsandbox:x:1000:\nnogroup:x:65534:\n";
static const char hosts[] = "127.0.0.1\tlocalhost\n::1\tlocalhost\n"
			    "127.0.1.1\t" AIMS_SANDBOX_HOSTNAME "\n";

/* A detached copy of a host tree (open_tree), with the given attributes,
 * or -1 after errno is set. */
static int clone_tree(const char *path, uint64_t attrs)
{
	struct mount_attr attr;
	int fd = (int)syscall(SYS_open_tree, AT_FDCWD, path,
			      OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);

	if (fd < 0)
		return -1;
	memset(&attr, 0, sizeof(attr));
	attr.attr_set = attrs;
	if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) <
	    0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Creates the missing directories leading to path (its last component
 * excluded), in a copy on the stack. */
static int make_parents(const char *path)
{
	char buf[AIMS_SANDBOX_MAX_BIND_PATH + 16];
	size_t len = strlen(path);

	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, path, len + 1);
	for (size_t i = 1; i < len; i++) {
		if (buf[i] != '/')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -1;
		buf[i] = '/';
	}
	return 0;
}

/*
 * The helper: a process sharing our memory and file table (clone with
 * CLONE_VM | CLONE_FILES: no page tables copied), started first, does the
 * two slowest steps of the set-up on another CPU while we build the root:
 *  - it creates the network namespace (unshare: 0.4 ms of kernel work,
 *    most of what the parent's clone cost when it made it) and opens it
 *    for us to enter (setns) before the program starts;
 *  - once we have pivoted, it detaches the old root. umount2(MNT_DETACH)
 *    takes the mounts out of the tree at once, then waits for an RCU
 *    grace period before it returns (0.1 to 1.5 ms measured here). We go
 *    on as soon as the mount point is free, which rmdir proves: it fails
 *    with EBUSY while anything is mounted there and succeeds once the
 *    tree is gone.
 * It is pid 2 of the namespace and is reaped by be_init. Without it
 * (clone failed) we do both ourselves.
 */
#define OLD_ROOT "/.old-root"

enum { HELPER_BUSY, HELPER_DONE, HELPER_FAILED };

static struct {
	pid_t pid;	       /* 0: not started, or gone */
	atomic_int net;	       /* HELPER_*: the network namespace */
	atomic_int net_fd;     /* it, open */
	atomic_int go;	       /* futex word: 1 once the old root may go */
	atomic_int detach;     /* HELPER_*: the old root */
	atomic_int net_err;    /* errno of a failure (errno itself is */
	atomic_int detach_err; /* shared: same thread-local storage) */
} helper;

/* Sleeps while *word == value, at most ms milliseconds (0: no limit). */
static void futex_wait(atomic_int *word, int value, long ms)
{
	struct timespec limit = {ms / 1000, (ms % 1000) * 1000000};

	syscall(SYS_futex, (int *)word, FUTEX_WAIT_PRIVATE, value, ms ? &limit : NULL, NULL, 0);
}

static void futex_wake(atomic_int *word)
{
	syscall(SYS_futex, (int *)word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void make_network(void)
{
	int fd = -1;

	if (unshare(CLONE_NEWNET) < 0 ||
	    (fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) < 0) {
		atomic_store(&helper.net_err, errno);
		atomic_store(&helper.net, HELPER_FAILED);
	} else {
		atomic_store(&helper.net_fd, fd);
		atomic_store(&helper.net, HELPER_DONE);
	}
	futex_wake(&helper.net);
}

static void detach(void)
{
	if (umount2(OLD_ROOT, MNT_DETACH) < 0) {
		atomic_store(&helper.detach_err, errno);
		atomic_store(&helper.detach, HELPER_FAILED);
	} else {
		atomic_store(&helper.detach, HELPER_DONE);
	}
}

static int helper_main(void *arg)
{
	uint64_t all = ~(uint64_t)0;

	/* Only SIGKILL and SIGSTOP reach it (the program may share its uid:
	 * see sandbox_child_main). Our working directory is the caller's,
	 * somewhere in the host tree: "/" follows the root through
	 * pivot_root, nothing else does. */
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, sizeof(all));
	(void)!chdir("/");
	if (arg)
		make_network();
	while (atomic_load(&helper.go) == 0)
		futex_wait(&helper.go, 0, 0);
	detach();
	return 0;
}

static void start_helper(const child_args *a, char *stack_top)
{
	pid_t pid;

	atomic_store(&helper.net, a->new_network ? HELPER_BUSY : HELPER_DONE);
	atomic_store(&helper.net_fd, -1);
	atomic_store(&helper.go, 0);
	atomic_store(&helper.detach, HELPER_BUSY);
	pid = clone(helper_main, stack_top, CLONE_VM | CLONE_FILES | SIGCHLD,
		    a->new_network ? (void *)a : NULL);
	helper.pid = pid > 0 ? pid : 0;
	if (!helper.pid && a->new_network)
		make_network();
}

/* True once the helper has left, reaped here (killed by the OOM killer or
 * by a host process of the caller's uid, say): its work is then ours. */
static bool helper_gone(void)
{
	int status;

	if (helper.pid && waitpid(helper.pid, &status, WNOHANG | __WALL) == 0)
		return false;
	helper.pid = 0;
	return true;
}

/* Enters the helper's network namespace. */
static void enter_network(const child_args *a)
{
	int state, fd;

	if (!a->new_network)
		return;
	while ((state = atomic_load(&helper.net)) == HELPER_BUSY) {
		if (helper_gone())
			make_network();
		else
			futex_wait(&helper.net, HELPER_BUSY, 10);
	}
	if (state == HELPER_FAILED) {
		errno = atomic_load(&helper.net_err);
		fail(STEP_NETWORK, 0);
	}
	fd = atomic_load(&helper.net_fd);
	if (setns(fd, CLONE_NEWNET) < 0)
		fail(STEP_NETWORK, 1);
	close(fd);
}

static void detach_old_root(void)
{
	if (helper.pid) {
		atomic_store(&helper.go, 1);
		futex_wake(&helper.go);
	} else {
		detach();
	}
	/* The state is read before rmdir: when the detach was done by then,
	 * rmdir must succeed. While the helper runs, errno means nothing (it
	 * shares ours: a futex call of its own may have set it), so a failed
	 * rmdir is only retried; once it is done, errno is ours again. */
	for (;;) {
		int state = atomic_load(&helper.detach);

		if (state == HELPER_FAILED) {
			errno = atomic_load(&helper.detach_err);
			fail(STEP_PIVOT_ROOT, 1);
		}
		if (rmdir(OLD_ROOT) == 0)
			break;
		if (state == HELPER_DONE)
			fail(STEP_PIVOT_ROOT, 2);
		if (helper_gone() && atomic_load(&helper.detach) == HELPER_BUSY)
			detach();
		else
			sched_yield();
	}
}

static void build_root(const child_args *a)
{
	int layer = -1, binds[AIMS_SANDBOX_MAX_BINDS];

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		fail(STEP_MOUNT_PRIVATE, 0);
	/* The layer and the extra paths may live anywhere, /tmp included,
	 * which the staging tmpfs is about to cover: take detached copies
	 * of them now, attach them at the end. */
	if (a->layer_dir) {
		layer = clone_tree(a->layer_dir,
				   MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
					   (a->layer_writable ? 0 : MOUNT_ATTR_RDONLY));
		if (layer < 0)
			fail(STEP_LAYER, 0);
	}
	for (size_t i = 0; i < a->bind_count; i++)
		if ((binds[i] = clone_tree(a->bind_src[i], MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
								   MOUNT_ATTR_NODEV)) < 0)
			fail(STEP_EXTRA_BIND, (int)i);
	if (mount("tmpfs", SANDBOX_STAGE, "tmpfs", MS_NOSUID | MS_NODEV, ROOT_OPTS) < 0)
		fail(STEP_ROOT_TMPFS, 0);
	run_plan(a->plan, a->plan_len);

	write_file(SANDBOX_STAGE "/etc/passwd", passwd, sizeof(passwd) - 1, 0644);
	write_file(SANDBOX_STAGE "/etc/group", group, sizeof(group) - 1, 0644);
	write_file(SANDBOX_STAGE "/etc/hosts", hosts, sizeof(hosts) - 1, 0644);
	write_file(SANDBOX_STAGE "/etc/hostname", AIMS_SANDBOX_HOSTNAME "\n",
		   sizeof(AIMS_SANDBOX_HOSTNAME), 0644);

	if (mkdir(SANDBOX_STAGE "/proc", 0555) < 0 ||
	    mount("proc", SANDBOX_STAGE "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) <
		    0)
		fail(STEP_PROC, 0);

	if (mkdir(SANDBOX_STAGE "/dev", 0755) < 0 ||
	    mount("tmpfs", SANDBOX_STAGE "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, DEV_OPTS) < 0)
		fail(STEP_DEV, 0);
	run_plan(a->dev_plan, a->dev_plan_len);
	if (set_attr(SANDBOX_STAGE "/dev", 0, MOUNT_ATTR_RDONLY) < 0)
		fail(STEP_DEV, 1);

	if (mkdir(SANDBOX_STAGE "/tmp", 01777) < 0 ||
	    mount("tmpfs", SANDBOX_STAGE "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, a->tmp_opts) < 0)
		fail(STEP_TMP, 0);
	if (mkdir(SANDBOX_STAGE AIMS_SANDBOX_WORKDIR, 0755) < 0 ||
	    mount("tmpfs", SANDBOX_STAGE AIMS_SANDBOX_WORKDIR, "tmpfs", MS_NOSUID | MS_NODEV,
		  a->work_opts) < 0)
		fail(STEP_WORKDIR, 0);
	if (a->file_name)
		write_file(a->file_path, a->file_data, a->file_len, 0644);

	if (layer >= 0) {
		if ((mkdir(SANDBOX_STAGE "/opt", 0755) < 0 && errno != EEXIST) ||
		    (mkdir(SANDBOX_STAGE "/opt/aims", 0755) < 0 && errno != EEXIST) ||
		    mkdir(SANDBOX_STAGE "/opt/aims/layer", 0755) < 0)
			fail(STEP_LAYER, 2);
		if (syscall(SYS_move_mount, layer, "", AT_FDCWD, SANDBOX_STAGE "/opt/aims/layer",
			    MOVE_MOUNT_F_EMPTY_PATH) < 0)
			fail(STEP_LAYER, 3);
		close(layer);
	}
	for (size_t i = 0; i < a->bind_count; i++) {
		const char *dst = a->bind_dst[i];

		if (make_parents(dst) < 0)
			fail(STEP_EXTRA_BIND, 100 + (int)i);
		if (a->bind_is_file[i]) {
			int fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0444);

			if (fd < 0)
				fail(STEP_EXTRA_BIND, 200 + (int)i);
			close(fd);
		} else if (mkdir(dst, 0755) < 0 && errno != EEXIST) {
			fail(STEP_EXTRA_BIND, 200 + (int)i);
		}
		if (syscall(SYS_move_mount, binds[i], "", AT_FDCWD, dst, MOVE_MOUNT_F_EMPTY_PATH) <
		    0)
			fail(STEP_EXTRA_BIND, 300 + (int)i);
		close(binds[i]);
	}

	/* The old root goes to /.old-root, then is detached: nothing of the
	 * host tree stays reachable. */
	if (mkdir(SANDBOX_STAGE OLD_ROOT, 0700) < 0 || chdir(SANDBOX_STAGE) < 0 ||
	    syscall(SYS_pivot_root, ".", "." OLD_ROOT) < 0 || chdir("/") < 0)
		fail(STEP_PIVOT_ROOT, 0);
	detach_old_root();
	if (set_attr("/", 0, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV) < 0)
		fail(STEP_ROOT_READONLY, 0);
}

static void set_limit(int resource, uint64_t soft, uint64_t hard)
{
	struct rlimit rl = {(rlim_t)soft, (rlim_t)hard};

	if (setrlimit(resource, &rl) < 0)
		fail(STEP_RLIMITS, resource);
}

/*
 * Becomes the sandbox uid/gid right away, keeping the capabilities of the
 * new user namespace for the setup: when the caller is root, the child's
 * uid 0 has no mapping in the namespace, and files cannot be created on
 * the sandbox's tmpfs by an unmapped uid.
 */
static void become_sandbox_user(const child_args *a)
{
	struct __user_cap_header_struct head = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2];

	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		fail(STEP_UID, 2);
	/* Raw system calls: the C library's wrappers broadcast the change
	 * to the threads it believes exist, which are the parent's. */
	if (a->in_host_root && syscall(SYS_setgroups, 0, NULL) < 0)
		fail(STEP_GROUPS, 0);
	if (syscall(SYS_setresgid, AIMS_SANDBOX_UID, AIMS_SANDBOX_UID, AIMS_SANDBOX_UID) < 0)
		fail(STEP_UID, 0);
	if (syscall(SYS_setresuid, AIMS_SANDBOX_UID, AIMS_SANDBOX_UID, AIMS_SANDBOX_UID) < 0)
		fail(STEP_UID, 1);
	if (syscall(SYS_capget, &head, data) < 0)
		fail(STEP_CAPS, 1);
	data[0].effective = data[0].permitted;
	data[1].effective = data[1].permitted;
	if (syscall(SYS_capset, &head, data) < 0)
		fail(STEP_CAPS, 2);
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		fail(STEP_UID, 3);
}

static void drop_privileges(const child_args *a)
{
	struct __user_cap_header_struct head = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2];

	/* While CAP_SETPCAP is still held: empty the bounding and ambient
	 * sets and lock the securebits so uid 0 never means capabilities. */
	for (int cap = 0; cap <= 63; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			fail(STEP_CAPS_BOUNDING, cap);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		fail(STEP_CAPS_BOUNDING, 64);
	if (prctl(PR_SET_SECUREBITS,
		  SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP_LOCKED |
			  SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE |
			  SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED,
		  0, 0, 0) < 0)
		fail(STEP_CAPS_BOUNDING, 65);

	/* Already the sandbox uid (become_sandbox_user): check, then clear
	 * every capability. */
	if (getuid() != AIMS_SANDBOX_UID || geteuid() != AIMS_SANDBOX_UID ||
	    getgid() != AIMS_SANDBOX_UID)
		fail(STEP_UID, 4);
	(void)a;
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &head, data) < 0)
		fail(STEP_CAPS, 0);
}

/* A changed uid clears the parent-death signal: set it again, then make
 * sure the parent did not die before it was set (it holds the sync pipe's
 * write end for the whole run). */
static void watch_parent(void)
{
	struct pollfd pfd = {FD_SYNC, POLLIN, 0};

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		fail(STEP_PDEATHSIG, 0);
	if (poll(&pfd, 1, 0) != 0)
		_exit(126); /* hung up (or wrote): the parent is gone */
}

/* cgroup v1: move ourselves (still single-threaded, still the caller's
 * uid on the host) into the run's groups by writing "0" to their tasks
 * files: moving the writing thread itself costs no RCU grace period. */
static void join_cgroups(const child_args *a)
{
	for (size_t i = 0; i < a->cgroup_tasks_count; i++) {
		int fd = open(a->cgroup_tasks[i], O_WRONLY | O_CLOEXEC);

		if (fd < 0 || write(fd, "0", 1) != 1)
			fail(STEP_CGROUP_JOIN, (int)i);
		close(fd);
	}
}

static bool is_full(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && (st.f_bavail == 0 || st.f_ffree == 0);
}

static void __attribute__((noreturn)) run_program(const child_args *a)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		fail(STEP_PDEATHSIG, 1);
	if (chdir(a->start_dir ? a->start_dir : AIMS_SANDBOX_WORKDIR) < 0)
		fail(STEP_WORKDIR, 1);
	close(FD_SYNC);
	/* Last step before execve: from here on the filter applies. */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, a->seccomp) < 0)
		fail(STEP_SECCOMP, 0);
	execve(a->program, a->argv, a->envp);
	report(STEP_EXEC, errno, 0);
	_exit(127);
}

static int program_main(void *arg)
{
	run_program(arg);
}

static void __attribute__((noreturn)) be_init(pid_t program)
{
	child_record rec;
	int status = 0, wstatus;
	pid_t pid;

	close(0);
	close(1);
	close(2);
	for (;;) {
		pid = waitpid(-1, &wstatus, 0);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid < 0)
			_exit(126); /* no child left: cannot happen before the program's exit */
		if (pid == program) {
			status = wstatus;
			break;
		}
	}
	memset(&rec, 0, sizeof(rec));
	rec.step = STEP_DONE;
	rec.wait_status = status;
	rec.disk_full = (is_full("/tmp") ? 1 : 0) | (is_full(AIMS_SANDBOX_WORKDIR) ? 2 : 0);
	(void)!write(FD_STATUS, &rec, sizeof(rec));
	_exit(0);
}

/* The caller's signal handlers and mask were copied by clone(): reset
 * every handler to the default (a handler of the server must not run in
 * the sandbox's init when the program signals it, and an ignored signal
 * would stay ignored across execve) and unblock everything. Raw system
 * calls: no sanitizer or C library wrapper in between. */
static void reset_signals(void)
{
	struct {
		void *handler;
		unsigned long flags;
		void *restorer;
		uint64_t mask;
	} act;
	uint64_t none = 0;

	memset(&act, 0, sizeof(act)); /* SIG_DFL, no flags, empty mask */
	for (int sig = 1; sig <= 64; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			syscall(SYS_rt_sigaction, sig, &act, NULL, sizeof(uint64_t));
	if (syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof(none)) < 0)
		fail(STEP_SIGNALS, 0);
}

void sandbox_child_main(const child_args *a)
{
	/* Stacks for the helper and the program, which share our memory: in this frame,
	 * which lives as long as we do (and inside the stack the sanitizers
	 * know: a static array would make ASan warn on the program's
	 * stderr). */
	_Alignas(16) char helper_stack[16384], program_stack[32768];
	char byte;
	pid_t pid;

	status_fd = a->status_fd;
	reset_signals();
	set_limit(RLIMIT_CORE, 0, 0); /* for the helper too */
	/* Dies with the calling thread; the sync pipe covers the race. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		fail(STEP_PDEATHSIG, 2);

	/* The parent made every fd >= FD_FIRST_FREE, so dup2 cannot clobber
	 * one not yet moved. dup2 clears close-on-exec: the program keeps
	 * 0-2 only. */
	if (dup2(a->stdin_fd, 0) < 0 || dup2(a->stdout_fd, 1) < 0 || dup2(a->stderr_fd, 2) < 0 ||
	    dup2(a->sync_fd, FD_SYNC) < 0 || dup2(a->status_fd, FD_STATUS) < 0)
		fail(STEP_CLOSE_FDS, 0);
	status_fd = FD_STATUS;
	if (fcntl(FD_SYNC, F_SETFD, FD_CLOEXEC) < 0 || fcntl(FD_STATUS, F_SETFD, FD_CLOEXEC) < 0)
		fail(STEP_CLOSE_FDS, 1);
	if (syscall(SYS_close_range, FD_FIRST_FREE, ~0u, 0) < 0)
		fail(STEP_CLOSE_FDS, 2);
	start_helper(a, helper_stack + sizeof(helper_stack));

	/* First byte: the uid/gid maps are written. */
	if (read(FD_SYNC, &byte, 1) != 1)
		_exit(126); /* the parent gave up */
	/* The first to go when memory runs short, whatever the caller's own
	 * score (a service with OOMScoreAdjust=-1000 would leave an OOM in
	 * the run's cgroup with nothing to kill). Raising it needs no
	 * privilege; a kernel without the file changes nothing. Before the
	 * memory turns non-dumpable: /proc/self then belongs to root. */
	{
		int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);

		if (fd >= 0) {
			(void)!write(fd, "1000", 4);
			close(fd);
		}
	}
	/* A memory nobody of our uid may read or write (/proc/<pid>/mem,
	 * environ): for a caller that is not root the program runs as the
	 * caller's own uid on the host, and our memory is the helper's too.
	 * Not before the maps: a caller that is not root writes them through
	 * /proc/<pid>, which a non-dumpable process gives to root. Set again
	 * before the program starts: a change of credentials may reset it. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		fail(STEP_DUMPABLE, 0);
	join_cgroups(a);
	become_sandbox_user(a);
	build_root(a);
	enter_network(a);
	if (sethostname(AIMS_SANDBOX_HOSTNAME, sizeof(AIMS_SANDBOX_HOSTNAME) - 1) < 0)
		fail(STEP_HOSTNAME, 0);
	/* Second byte: we are in the run's cgroups (moving a process into a
	 * cgroup v1 waits for an RCU grace period; the mounts above overlap
	 * with it). Nothing of the program runs before this point. */
	if (read(FD_SYNC, &byte, 1) != 1 || byte != 'c')
		_exit(126);
	if (unshare(CLONE_NEWCGROUP) < 0)
		fail(STEP_CGROUP_NS, 0);

	set_limit(RLIMIT_CPU, a->cpu_seconds, a->cpu_seconds + 1);
	set_limit(RLIMIT_FSIZE, a->file_size, a->file_size);
	set_limit(RLIMIT_NOFILE, a->nofile, a->nofile);
	set_limit(RLIMIT_MEMLOCK, 64 << 10, 64 << 10);
	set_limit(RLIMIT_MSGQUEUE, 0, 0);
	if (a->memory_fallback)
		set_limit(RLIMIT_DATA, a->memory_fallback, a->memory_fallback);
	if (a->pids_fallback)
		set_limit(RLIMIT_NPROC, a->pids_fallback, a->pids_fallback);

	if (setsid() < 0)
		fail(STEP_SESSION, 0);
	drop_privileges(a);
	watch_parent();
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		fail(STEP_NO_NEW_PRIVS, 0);
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		fail(STEP_DUMPABLE, 1);

	/* vfork-like: the program shares our memory (no page tables copied)
	 * on its own stack, and we sleep until its execve. */
	pid = clone(program_main, program_stack + sizeof(program_stack),
		    CLONE_VM | CLONE_VFORK | SIGCHLD, (void *)a);
	if (pid < 0)
		fail(STEP_FORK, 0);
	be_init(pid);
}

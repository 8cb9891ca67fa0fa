/*
 * cgroup.c - memory and process limits through cgroups, with a pool of
 * groups reused between runs.
 *
 * Creating and removing a cgroup v1 memory+pids pair costs 3.5-6.5 ms, a
 * third of a Python start-up, so groups are kept: a run takes a free one,
 * sets its limits when they differ from the last run's, and gives it back
 * once its processes are gone (a pid namespace dies with its init, so the
 * group is empty when the run's init has been reaped). Groups are named
 * aims-<ns>-<pid>-<n> below the caller's own cgroup, <ns> the inode of
 * the caller's pid namespace: processes of other pid namespaces may share
 * the place and have the same pid. Groups left by a process of ours that
 * died are removed when the next process starts its pool.
 *
 * Version detection: cgroup v2 when /sys/fs/cgroup/cgroup.controllers
 * exists and offers memory and pids; else cgroup v1 when
 * /sys/fs/cgroup/memory and /sys/fs/cgroup/pids are mounted; else none
 * (the sandbox falls back to rlimits).
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "core/file.h"
#include "sandbox_int.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
#define POOL_MAX    64 /* groups kept; more concurrent runs make and remove theirs */

struct cgroup_slot {
	char dir[2][PATH_MAX - 16]; /* v1: memory, pids; v2: dir[0] only */
	int fd;			    /* v2: dir[0], for clone3's CLONE_INTO_CGROUP */
	uint64_t memory;
	uint32_t pids;
	cgroup_slot *next;
};

static struct {
	pthread_once_t once;
	pthread_mutex_t lock;
	cgroup_kind kind;
	char base[2][PATH_MAX / 2]; /* where our groups go: v1 memory, pids; v2 [0] */
	bool memsw;		    /* v1 memory.memsw.* exists (swap accounting) */
	char reason[512];	    /* CGROUP_NONE: why, for the operator */
	cgroup_slot *free_list;
	size_t free_count;
	unsigned next_id;
	uint64_t pidns; /* our pid namespace's inode (random if unknown) */
} pool = {PTHREAD_ONCE_INIT,
	  PTHREAD_MUTEX_INITIALIZER,
	  CGROUP_NONE,
	  {"", ""},
	  false,
	  "",
	  NULL,
	  0,
	  0,
	  0};

/* The start of the names of this process's groups: aims-<ns>-<pid>. */
static void group_prefix(char *out, size_t size)
{
	snprintf(out, size, "aims-%" PRIu64 "-%ld", pool.pidns, (long)getpid());
}

int sandbox_write_file(const char *dir, const char *name, const char *value)
{
	char path[PATH_MAX + 64];
	int fd, rc = 0;
	size_t len = strlen(value);

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
		return -errno;
	if (write(fd, value, len) != (ssize_t)len)
		rc = -errno;
	close(fd);
	return rc;
}

/* Reads a small file; returns its length or -errno. */
static ssize_t read_file(const char *dir, const char *name, char *buf, size_t size)
{
	char path[PATH_MAX + 64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		n = -errno;
	else
		buf[n] = '\0';
	close(fd);
	return n;
}

/* The value after "key " in a "key value" per line file, or 0. */
static uint64_t keyed_value(const char *dir, const char *name, const char *key)
{
	char text[4096];
	size_t klen = strlen(key);

	if (read_file(dir, name, text, sizeof(text)) <= 0)
		return 0;
	for (char *line = text; line && *line;) {
		char *next = strchr(line, '\n');

		if (strncmp(line, key, klen) == 0 && line[klen] == ' ')
			return strtoull(line + klen + 1, NULL, 10);
		line = next ? next + 1 : NULL;
	}
	return 0;
}

/* The caller's own cgroup path for a v1 controller (or "" for v2), from
 * /proc/self/cgroup. Returns 0 or -1. */
static int self_path(const char *controller, char *out, size_t size)
{
	char text[4096];
	size_t clen = strlen(controller);
	ssize_t n = read_file("/proc/self", "cgroup", text, sizeof(text));

	if (n <= 0)
		return -1;
	for (char *line = text; line && *line;) {
		char *next = strchr(line, '\n');
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

		if (next)
			*next = '\0';
		if (c2) {
			/* The controller list is comma-separated. */
			for (char *p = c1 + 1; p < c2;) {
				char *comma = memchr(p, ',', (size_t)(c2 - p));
				size_t len = (size_t)((comma ? comma : c2) - p);

				if (len == clen && strncmp(p, controller, clen) == 0) {
					snprintf(out, size, "%s", c2 + 1);
					return 0;
				}
				if (!comma)
					break;
				p = comma + 1;
			}
			if (clen == 0 && c2 == c1 + 1 && strncmp(line, "0:", 2) == 0) {
				snprintf(out, size, "%s", c2 + 1);
				return 0;
			}
		}
		line = next ? next + 1 : NULL;
	}
	return -1;
}

/* Removes the groups of our pid namespace's processes that no longer
 * exist: aims-<ns>-<pid>-<n>, and aims-<pid>-<n> as versions before
 * session 4 named them. Other namespaces' groups are theirs to remove:
 * the pid in their name is not one of ours. */
static void sweep_stale(const char *base)
{
	DIR *dir = opendir(base);
	struct dirent *de;

	if (!dir)
		return;
	while ((de = readdir(dir))) {
		char path[PATH_MAX + 300];
		const char *p = de->d_name + 5;
		char *end;
		unsigned long long first, second;
		long pid;

		if (strncmp(de->d_name, "aims-", 5) != 0 || !(*p >= '0' && *p <= '9'))
			continue;
		first = strtoull(p, &end, 10);
		if (*end != '-')
			continue;
		p = end + 1;
		second = *p >= '0' && *p <= '9' ? strtoull(p, &end, 10) : 0;
		if (second && *end == '-') { /* aims-<ns>-<pid>-<n> */
			if (first != pool.pidns)
				continue;
			pid = (long)second;
		} else {
			pid = (long)first;
		}
		if (pid <= 0 || pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(path, sizeof(path), "%s/%s", base, de->d_name);
		rmdir(path);
	}
	closedir(dir);
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Records why cgroups are not used (aims_sandbox_limits_reason). */
static void no_cgroups(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void no_cgroups(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(pool.reason, sizeof(pool.reason), fmt, ap);
	va_end(ap);
}

/* Whether this process is the only one in the cgroup dir. */
static bool alone_in(const char *dir)
{
	char text[64], self[32];

	snprintf(self, sizeof(self), "%ld\n", (long)getpid());
	return read_file(dir, "cgroup.procs", text, sizeof(text)) > 0 && strcmp(text, self) == 0;
}

/* cgroup v2 lets a cgroup hand controllers down only while it holds no
 * process itself, and ours holds us (a service's own cgroup, say): move
 * this process into a leaf beside the runs' groups, aims-<ns>-<pid>-main. */
static int move_into_leaf(const char *base)
{
	char leaf[PATH_MAX], prefix[64];
	int rc;

	group_prefix(prefix, sizeof(prefix));
	snprintf(leaf, sizeof(leaf), "%s/%s-main", base, prefix);
	if (mkdir(leaf, 0755) < 0 && errno != EEXIST)
		return -errno;
	if ((rc = sandbox_write_file(leaf, "cgroup.procs", "0")) < 0)
		rmdir(leaf);
	return rc;
}

/* Makes base hand the memory and pids controllers down to the groups we
 * create in it. own: base is this process's own cgroup, which it may
 * leave for a leaf. Returns 0 or -errno (-ENOENT: base is not given the
 * controllers at all). */
static int use_base_v2(const char *base, bool own)
{
	char text[256];
	int rc = 0;

	if (read_file(base, "cgroup.controllers", text, sizeof(text)) <= 0 ||
	    !strstr(text, "memory") || !strstr(text, "pids"))
		return -ENOENT;
	if (read_file(base, "cgroup.subtree_control", text, sizeof(text)) < 0)
		text[0] = '\0';
	if (!strstr(text, "memory") || !strstr(text, "pids")) {
		rc = sandbox_write_file(base, "cgroup.subtree_control", "+memory +pids");
		if (rc == -EBUSY && own && alone_in(base) && move_into_leaf(base) == 0)
			rc = sandbox_write_file(base, "cgroup.subtree_control", "+memory +pids");
	}
	if (rc == 0 && access(base, W_OK) < 0)
		rc = -errno;
	return rc;
}

/* Root without a delegated cgroup (a login shell, a test, a service
 * without Delegate=yes): a group of our own at the top of the hierarchy,
 * whose root cgroup may hand controllers down whatever it holds. */
static int use_top_group_v2(void)
{
	bool made;
	int rc;

	if ((rc = use_base_v2(CGROUP_ROOT, false)) < 0)
		return rc;
	if (mkdir(CGROUP_ROOT "/aims", 0755) == 0)
		made = true;
	else if (errno == EEXIST)
		made = false;
	else
		return -errno;
	if ((rc = use_base_v2(CGROUP_ROOT "/aims", false)) < 0 && made)
		rmdir(CGROUP_ROOT "/aims");
	return rc;
}

/* Whether the cgroup dir (rel below the root) was handed to this process
 * to manage: the root of the hierarchy (or of our cgroup namespace), or
 * marked delegated by systemd (Delegate=yes; systemd 251 and later). A
 * cgroup systemd manages itself may have its controllers taken away at
 * any reload, which would leave the runs' groups without limits. */
static bool delegated(const char *dir, const char *rel)
{
	char value[8];
	ssize_t n;

	if (strcmp(rel, "/") == 0)
		return true;
	if ((n = getxattr(dir, "trusted.delegate", value, sizeof(value))) <= 0)
		n = getxattr(dir, "user.delegate", value, sizeof(value));
	return n == 1 && value[0] == '1';
}

#define NOT_DELEGATED (-EXDEV) /* a reason of ours, not the kernel's */

static const char *why(int rc)
{
	return rc == -ENOENT	     ? "the memory and pids controllers are not given to it"
	       : rc == NOT_DELEGATED ? "it is not delegated to aims"
				     : strerror(-rc);
}

static void detect_v2(void)
{
	char rel[PATH_MAX / 2 - 32], own[sizeof(pool.base[0])];
	bool root = geteuid() == 0;
	int rc, top = 0;

	/* Our groups go below our own cgroup when it is delegated to us. */
	if (self_path("", rel, sizeof(rel)) < 0) {
		no_cgroups("cgroup v2: this process's cgroup is not in /proc/self/cgroup");
		return;
	}
	snprintf(own, sizeof(own), CGROUP_ROOT "%s", rel);
	/* A process that is not root may only write to cgroups it was given
	 * (which a user's systemd does not always mark delegated); root may
	 * write anywhere, so it asks. */
	rc = root && !delegated(own, rel) ? NOT_DELEGATED : use_base_v2(own, true);
	if (rc == 0) {
		memcpy(pool.base[0], own, sizeof(own));
	} else if (root && (top = use_top_group_v2()) == 0) {
		snprintf(pool.base[0], sizeof(pool.base[0]), "%s", CGROUP_ROOT "/aims");
	} else {
		no_cgroups("cgroup v2: cannot create groups with memory and pids limits below "
			   "%s: %s (%s)%s%s",
			   own, why(rc),
			   rc == -EBUSY
				   ? "other processes share that cgroup: run aims as a systemd "
				     "service with Delegate=yes, or alone under systemd-run "
				     "--scope -p Delegate=yes"
			   : root ? "run aims as a systemd service with Delegate=yes"
				  : "run aims under systemd-run --user --scope -p Delegate=yes, "
				    "or as a systemd service with Delegate=yes",
			   root ? "; nor below " CGROUP_ROOT "/aims: " : "", root ? why(top) : "");
		return;
	}
	sweep_stale(pool.base[0]);
	pool.kind = CGROUP_V2;
}

static void detect(void)
{
	char rel[PATH_MAX / 2 - 32], text[PATH_MAX];
	struct stat st;

	if (stat("/proc/self/ns/pid", &st) == 0)
		pool.pidns = (uint64_t)st.st_ino;
	else if (getrandom(&pool.pidns, sizeof(pool.pidns), 0) != sizeof(pool.pidns))
		pool.pidns = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);

	if (stat(CGROUP_ROOT "/cgroup.controllers", &st) == 0) {
		detect_v2();
		return;
	}
	if (!is_dir(CGROUP_ROOT "/memory") || !is_dir(CGROUP_ROOT "/pids")) {
		no_cgroups("no cgroup v2, nor v1 memory and pids hierarchies, at " CGROUP_ROOT);
		return;
	}
	for (int i = 0; i < 2; i++) {
		const char *controller = i ? "pids" : "memory";

		if (self_path(controller, rel, sizeof(rel)) < 0) {
			no_cgroups("cgroup v1: this process's %s group is not in "
				   "/proc/self/cgroup",
				   controller);
			return;
		}
		snprintf(pool.base[i], sizeof(pool.base[i]), CGROUP_ROOT "/%s%s", controller, rel);
	}
	if (access(pool.base[0], W_OK) < 0 || access(pool.base[1], W_OK) < 0) {
		no_cgroups("cgroup v1: no write access to %s and %s (run aims as root, or give "
			   "this user groups there)",
			   pool.base[0], pool.base[1]);
		return;
	}
	snprintf(text, sizeof(text), "%s/memory.memsw.limit_in_bytes", pool.base[0]);
	pool.memsw = access(text, F_OK) == 0;
	sweep_stale(pool.base[0]);
	sweep_stale(pool.base[1]);
	pool.kind = CGROUP_V1;
}

cgroup_kind sandbox_cgroup_kind(void)
{
	pthread_once(&pool.once, detect);
	return pool.kind;
}

const char *sandbox_cgroup_reason(void)
{
	pthread_once(&pool.once, detect);
	return pool.kind == CGROUP_NONE ? pool.reason : NULL;
}

static size_t dir_count(void)
{
	return pool.kind == CGROUP_V1 ? 2 : 1;
}

static void remove_slot(cgroup_slot *slot)
{
	if (slot->fd >= 0)
		close(slot->fd);
	for (size_t i = 0; i < dir_count(); i++)
		if (slot->dir[i][0])
			rmdir(slot->dir[i]);
	free(slot);
}

static int make_slot(cgroup_slot **out, aims_error *err)
{
	cgroup_slot *slot = calloc(1, sizeof(*slot));
	char prefix[64];
	unsigned id;

	if (!slot)
		return aims_error_set(err, AIMS_ENOMEM, "out of memory");
	slot->fd = -1;
	pthread_mutex_lock(&pool.lock);
	id = pool.next_id++;
	pthread_mutex_unlock(&pool.lock);
	/* The pool grows rarely: a good time to remove the groups of
	 * processes that died since we started. */
	for (size_t i = 0; i < dir_count(); i++)
		sweep_stale(pool.base[i]);
	group_prefix(prefix, sizeof(prefix));
	for (size_t i = 0; i < dir_count(); i++) {
		snprintf(slot->dir[i], sizeof(slot->dir[i]), "%s/%s-%u", pool.base[i], prefix, id);
		/* The name is this process's alone: one that exists is a stale
		 * group still holding processes, never to be shared (or, in v1,
		 * dir[0] again when memory and pids are mounted together). */
		int e = mkdir(slot->dir[i], 0700) < 0 ? errno : 0;

		if (e && (e != EEXIST || !(i > 0 && aims_same_file(slot->dir[0], slot->dir[i])))) {
			slot->dir[i][0] = '\0';
			remove_slot(slot);
			return aims_error_set(err, AIMS_ESANDBOX, "cannot create cgroup %s: %s",
					      pool.base[i], strerror(e));
		}
	}
	if (pool.kind == CGROUP_V2 &&
	    (slot->fd = open(slot->dir[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		int e = errno;

		remove_slot(slot);
		return aims_error_set(err, AIMS_ESANDBOX, "cannot open cgroup %s: %s", pool.base[0],
				      strerror(e));
	}
	*out = slot;
	return 0;
}

static int set_memory(cgroup_slot *slot, uint64_t bytes, aims_error *err)
{
	char value[32];
	int rc;

	snprintf(value, sizeof(value), "%" PRIu64, bytes);
	if (pool.kind == CGROUP_V2) {
		if ((rc = sandbox_write_file(slot->dir[0], "memory.max", value)) < 0)
			goto fail;
		/* No swap: the limit is the memory a run may use. The file is
		 * absent when the kernel accounts no swap. */
		if (!slot->memory &&
		    (rc = sandbox_write_file(slot->dir[0], "memory.swap.max", "0")) < 0 &&
		    rc != -ENOENT)
			goto fail;
		return 0;
	}
	/* v1: memsw (memory + swap) must stay >= memory: raise it first,
	 * lower it last. A new group (memory 0) is unlimited. */
	bool raise = slot->memory != 0 && bytes > slot->memory;

	if (pool.memsw && raise &&
	    (rc = sandbox_write_file(slot->dir[0], "memory.memsw.limit_in_bytes", value)) < 0)
		goto fail;
	if ((rc = sandbox_write_file(slot->dir[0], "memory.limit_in_bytes", value)) < 0)
		goto fail;
	if (pool.memsw && !raise &&
	    (rc = sandbox_write_file(slot->dir[0], "memory.memsw.limit_in_bytes", value)) < 0)
		goto fail;
	return 0;
fail:
	return aims_error_set(err, AIMS_ESANDBOX, "cannot set the memory limit of cgroup %s: %s",
			      slot->dir[0], strerror(-rc));
}

int sandbox_cgroup_acquire(cgroup_slot **out, uint64_t memory_bytes, uint32_t pids, aims_error *err)
{
	cgroup_slot *slot = NULL;
	char value[32];
	int rc = 0;

	*out = NULL;
	if (sandbox_cgroup_kind() == CGROUP_NONE)
		return 0;
	pthread_mutex_lock(&pool.lock);
	if ((slot = pool.free_list)) {
		pool.free_list = slot->next;
		pool.free_count--;
	}
	pthread_mutex_unlock(&pool.lock);
	/* v2: a reused group whose controllers were taken away since (by
	 * whoever manages the cgroup above) would run without limits: it is
	 * dropped, and a new group fails when it cannot set its limits. */
	if (slot && pool.kind == CGROUP_V2 &&
	    (faccessat(slot->fd, "memory.max", F_OK, 0) < 0 ||
	     faccessat(slot->fd, "pids.max", F_OK, 0) < 0)) {
		remove_slot(slot);
		slot = NULL;
	}
	if (!slot && (rc = make_slot(&slot, err)) < 0)
		return rc;
	if (slot->memory != memory_bytes) {
		if ((rc = set_memory(slot, memory_bytes, err)) < 0)
			goto out;
		slot->memory = memory_bytes;
	}
	if (slot->pids != pids) {
		snprintf(value, sizeof(value), "%" PRIu32, pids);
		if ((rc = sandbox_write_file(slot->dir[dir_count() - 1], "pids.max", value)) < 0) {
			rc = aims_error_set(err, AIMS_ESANDBOX,
					    "cannot set the process limit of cgroup %s: %s",
					    slot->dir[dir_count() - 1], strerror(-rc));
			goto out;
		}
		slot->pids = pids;
	}
out:
	if (rc < 0) {
		remove_slot(slot);
		return rc;
	}
	*out = slot;
	return 0;
}

int sandbox_cgroup_attach(cgroup_slot *slot, pid_t pid, aims_error *err)
{
	char value[32];
	int rc;

	snprintf(value, sizeof(value), "%ld", (long)pid);
	for (size_t i = 0; i < dir_count(); i++)
		if ((rc = sandbox_write_file(slot->dir[i], "cgroup.procs", value)) < 0)
			return aims_error_set(err, AIMS_ESANDBOX,
					      "cannot move the sandbox into cgroup %s: %s",
					      slot->dir[i], strerror(-rc));
	return 0;
}

size_t sandbox_cgroup_self_join(cgroup_slot *slot, char paths[][SANDBOX_PATH_MAX])
{
	if (pool.kind != CGROUP_V1)
		return 0;
	for (size_t i = 0; i < 2; i++)
		snprintf(paths[i], SANDBOX_PATH_MAX, "%s/tasks", slot->dir[i]);
	return 2;
}

void sandbox_cgroup_counters(cgroup_slot *slot, cgroup_counters *out)
{
	memset(out, 0, sizeof(*out));
	if (pool.kind == CGROUP_V2) {
		out->oom_kills = keyed_value(slot->dir[0], "memory.events", "oom_kill");
		out->pids_max_hits = keyed_value(slot->dir[0], "pids.events", "max");
		out->cpu_usec = keyed_value(slot->dir[0], "cpu.stat", "usage_usec");
	} else {
		out->oom_kills = keyed_value(slot->dir[0], "memory.oom_control", "oom_kill");
		out->pids_max_hits = keyed_value(slot->dir[1], "pids.events", "max");
	}
}

int sandbox_cgroup_dirfd(const cgroup_slot *slot)
{
	return slot && pool.kind == CGROUP_V2 ? slot->fd : -1;
}

/* Whether no process is left in the slot's groups. */
static bool is_empty(cgroup_slot *slot)
{
	char text[256];

	if (pool.kind == CGROUP_V2)
		return read_file(slot->dir[0], "cgroup.events", text, sizeof(text)) > 0 &&
		       strstr(text, "populated 0\n");
	for (size_t i = 0; i < dir_count(); i++)
		if (read_file(slot->dir[i], "cgroup.procs", text, sizeof(text)) != 0)
			return false;
	return true;
}

/* Kills whatever is left in the slot's groups and waits (up to a second)
 * until they are empty. */
static void empty_slot(cgroup_slot *slot)
{
	if (pool.kind != CGROUP_V2 || sandbox_write_file(slot->dir[0], "cgroup.kill", "1") < 0) {
		/* v1, or a kernel before 5.14: each process by its pid. */
		for (size_t i = 0; i < dir_count(); i++) {
			char text[4096];

			if (read_file(slot->dir[i], "cgroup.procs", text, sizeof(text)) <= 0)
				continue;
			for (char *p = text; *p;) {
				char *end;
				long pid = strtol(p, &end, 10);

				if (end == p)
					break;
				if (pid > 0)
					kill((pid_t)pid, SIGKILL);
				p = end + (*end == '\n');
			}
		}
	}
	for (int i = 0; i < 100 && !is_empty(slot); i++) {
		struct timespec ten_ms = {0, 10 * 1000 * 1000};

		nanosleep(&ten_ms, NULL);
	}
}

void sandbox_cgroup_release(cgroup_slot *slot)
{
	bool empty;

	if (!slot)
		return;
	/* A pid namespace dies with its init, so a reaped run leaves its
	 * groups empty; should anything be left, it is killed and the group
	 * removed, not reused. */
	if (!(empty = is_empty(slot)))
		empty_slot(slot);
	pthread_mutex_lock(&pool.lock);
	if (empty && pool.free_count < POOL_MAX) {
		slot->next = pool.free_list;
		pool.free_list = slot;
		pool.free_count++;
		slot = NULL;
	}
	pthread_mutex_unlock(&pool.lock);
	if (slot)
		remove_slot(slot); /* rmdir fails on a group still in use: it stays */
}

void sandbox_cgroup_shutdown(void)
{
	cgroup_slot *list;

	pthread_mutex_lock(&pool.lock);
	list = pool.free_list;
	pool.free_list = NULL;
	pool.free_count = 0;
	pthread_mutex_unlock(&pool.lock);
	while (list) {
		cgroup_slot *next = list->next;

		remove_slot(list);
		list = next;
	}
}

size_t sandbox_cgroup_pool_size(void)
{
	size_t n;

	pthread_mutex_lock(&pool.lock);
	n = pool.free_count;
	pthread_mutex_unlock(&pool.lock);
	return n;
}

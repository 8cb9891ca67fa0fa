/*
 * seccomp.c - the sandbox's system-call filter, the only user of
 * libseccomp.
 *
 * libseccomp allocates, so it cannot run in the child of clone() in a
 * multithreaded process. The filter is therefore built once per process
 * here, exported as a classic BPF program, and kept immutable; the child
 * only hands that program to the kernel (prctl/seccomp are plain system
 * calls) right before execve.
 *
 * The filter allows by default and denies what a sandboxed program never
 * needs and what widens the kernel's attack surface: mounts, namespaces,
 * ptrace and cross-process memory access, kexec and modules, bpf,
 * perf_event_open, userfaultfd, keyrings, io_uring, swap, reboot, handles
 * (open_by_handle_at), clock and accounting changes, and the ioctls that
 * push input into a terminal (TIOCSTI, TIOCLINUX). Other architectures'
 * system-call ABIs kill the process.
 */
#include <errno.h>
#include <linux/sched.h>
#include <pthread.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox_int.h"

#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* Denied with EPERM. Names unknown to this libseccomp are skipped. */
static const char *const denied[] = {
	"mount",
	"umount",
	"umount2",
	"pivot_root",
	"chroot",
	"move_mount",
	"open_tree",
	"fsopen",
	"fsconfig",
	"fsmount",
	"fspick",
	"mount_setattr",
	"unshare",
	"setns",
	"ptrace",
	"process_vm_readv",
	"process_vm_writev",
	"pidfd_getfd",
	"kcmp",
	"kexec_load",
	"kexec_file_load",
	"reboot",
	"bpf",
	"perf_event_open",
	"userfaultfd",
	"keyctl",
	"add_key",
	"request_key",
	"io_uring_setup",
	"io_uring_enter",
	"io_uring_register",
	"swapon",
	"swapoff",
	"init_module",
	"finit_module",
	"delete_module",
	"open_by_handle_at",
	"name_to_handle_at",
	"acct",
	"settimeofday",
	"clock_settime",
	"clock_adjtime",
	"adjtimex",
	"syslog",
	"quotactl",
	"quotactl_fd",
	"lookup_dcookie",
	"uselib",
	"vhangup",
	"iopl",
	"ioperm",
	"nfsservctl",
	"_sysctl",
	"fanotify_init",
	"move_pages",
	"migrate_pages",
	"sethostname",
	"setdomainname",
};

static const unsigned long namespace_flags[] = {
	CLONE_NEWNS,  CLONE_NEWUTS,    CLONE_NEWIPC, CLONE_NEWUSER,
	CLONE_NEWPID, CLONE_NEWCGROUP, CLONE_NEWNET, CLONE_NEWTIME,
};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static struct sock_fprog program;
static int build_rc;
static char build_message[160];

static int add(scmp_filter_ctx ctx, uint32_t action, const char *name, unsigned count,
	       const struct scmp_arg_cmp *cmp)
{
	int nr = seccomp_syscall_resolve_name(name);

	if (nr == __NR_SCMP_ERROR)
		return 0; /* not a system call of this architecture */
	return seccomp_rule_add_array(ctx, action, nr, count, cmp);
}

static int export_program(scmp_filter_ctx ctx)
{
	int fd = memfd_create("aims-seccomp", MFD_CLOEXEC);
	struct stat st;
	void *code = NULL;
	int rc = -1;

	if (fd < 0)
		return -1;
	if (seccomp_export_bpf(ctx, fd) < 0 || fstat(fd, &st) < 0 || st.st_size <= 0 ||
	    st.st_size % (off_t)sizeof(struct sock_filter) != 0)
		goto out;
	if (!(code = malloc((size_t)st.st_size)))
		goto out;
	if (pread(fd, code, (size_t)st.st_size, 0) != st.st_size)
		goto out;
	program.len = (unsigned short)(st.st_size / (off_t)sizeof(struct sock_filter));
	program.filter = code;
	code = NULL;
	rc = 0;
out:
	free(code);
	close(fd);
	return rc;
}

static void build(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int rc = 0;

	if (!ctx) {
		build_rc = AIMS_ENOMEM;
		snprintf(build_message, sizeof(build_message), "cannot build the seccomp filter");
		return;
	}
	/* A system call through another ABI (i386, x32) kills the process. */
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS)) < 0)
		goto out;
	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++)
		if ((rc = add(ctx, SCMP_ACT_ERRNO(EPERM), denied[i], 0, NULL)) < 0)
			goto out;
	/* clone3 passes its flags in memory the filter cannot read: make
	 * it look absent so the C library falls back to clone. */
	if ((rc = add(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL)) < 0)
		goto out;
	for (size_t i = 0; i < sizeof(namespace_flags) / sizeof(namespace_flags[0]); i++) {
		struct scmp_arg_cmp cmp =
			SCMP_A0(SCMP_CMP_MASKED_EQ, namespace_flags[i], namespace_flags[i]);

		if ((rc = add(ctx, SCMP_ACT_ERRNO(EPERM), "clone", 1, &cmp)) < 0)
			goto out;
	}
	{
		/* The ioctl request is an unsigned int: compare the low 32 bits. */
		struct scmp_arg_cmp sti = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCSTI);
		struct scmp_arg_cmp linux_ = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCLINUX);

		if ((rc = add(ctx, SCMP_ACT_ERRNO(EPERM), "ioctl", 1, &sti)) < 0 ||
		    (rc = add(ctx, SCMP_ACT_ERRNO(EPERM), "ioctl", 1, &linux_)) < 0)
			goto out;
	}
	if (export_program(ctx) < 0)
		rc = -ENOMEM;
out:
	if (rc < 0) {
		build_rc = AIMS_EUNSUPPORTED;
		snprintf(build_message, sizeof(build_message),
			 "cannot build the seccomp filter: %s", strerror(-rc));
	}
	seccomp_release(ctx);
}

int sandbox_seccomp_program(const struct sock_fprog **out, aims_error *err)
{
	pthread_once(&once, build);
	if (build_rc < 0)
		return aims_error_set(err, build_rc, "%s", build_message);
	*out = &program;
	return 0;
}

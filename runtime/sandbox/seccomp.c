/*
 * seccomp.c - the sandbox's system-call filter.
 *
 * The program is built with libseccomp at build time (gen/seccomp_gen.c
 * holds the rules and says why) and compiled in as classic BPF: nothing
 * is generated or allocated at run time, and the child of clone() only
 * hands it to seccomp(SECCOMP_SET_MODE_FILTER) right before execve.
 */
#include <linux/audit.h>
#include <linux/filter.h>

#include "sandbox_int.h"
#include "seccomp_filter.h"

/* Built by a program run on the build machine: it must be the machine the
 * library is compiled for (a foreign filter would kill every program). */
#if defined(__x86_64__) && !defined(__ILP32__)
_Static_assert(AIMS_SECCOMP_AUDIT_ARCH == AUDIT_ARCH_X86_64,
	       "seccomp filter of another architecture");
#elif defined(__aarch64__)
_Static_assert(AIMS_SECCOMP_AUDIT_ARCH == AUDIT_ARCH_AARCH64,
	       "seccomp filter of another architecture");
#endif /* other architectures: not checked here (add them) */

static const struct sock_fprog program = {
	AIMS_SECCOMP_FILTER_LEN,
	(struct sock_filter *)aims_seccomp_filter, /* the kernel only reads it */
};

const struct sock_fprog *sandbox_seccomp_program(void)
{
	return &program;
}

/*
 * seccomp.c - the sandbox's system-call filter.
 *
 * The program is built with libseccomp at build time (gen/seccomp_gen.c
 * holds the rules and says why) and compiled in as classic BPF: nothing
 * is generated or allocated at run time, and the child of clone() only
 * hands it to seccomp(SECCOMP_SET_MODE_FILTER) right before execve.
 */
#include <linux/filter.h>

#include "sandbox_int.h"
#include "seccomp_filter.h"

static const struct sock_fprog program = {
	AIMS_SECCOMP_FILTER_LEN,
	(struct sock_filter *)aims_seccomp_filter, /* the kernel only reads it */
};

const struct sock_fprog *sandbox_seccomp_program(void)
{
	return &program;
}

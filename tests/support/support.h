/*
 * support.h - helpers for tests: run the real aims binary and capture what
 * it prints; make temporary trees of files.
 */
#ifndef AIMS_TEST_SUPPORT_H
#define AIMS_TEST_SUPPORT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

typedef struct test_run {
	int status; /* exit code, or 128+signal */
	char *out;  /* stdout, NUL-terminated */
	size_t out_len;
	char *err; /* stderr */
	size_t err_len;
} test_run;

/* Runs AIMS_BINARY with argv (NULL-terminated, without argv[0]) in cwd
 * (NULL: the current directory), feeding stdin_data (may be NULL), with
 * extra environment entries "K=V" (NULL-terminated list, may be NULL).
 * Fails the test on a system error. */
void test_run_aims(test_run *run, const char *cwd, const char *stdin_data, const char *const *env,
		   const char *const *argv);
/* Runs AIMS_BINARY with argv (as test_run_aims, in /) as a caller that
 * is not root: as root, a copy of it as uid/gid 1000 (setpriv). */
void test_run_aims_as_user(test_run *run, const char *const *env, const char *const *argv);
/* The same for any program: argv[0] is its path. */
void test_run_program(test_run *run, const char *cwd, const char *stdin_data,
		      const char *const *env, const char *const *argv);
void test_run_free(test_run *run);

/* Creates a fresh temporary directory; returns its malloc'd path. */
char *test_tmpdir(void);
/* Removes a directory tree (like rm -rf, without a shell). */
void test_rmtree(const char *path);
/* Writes data to dir/name, creating parent directories. */
void test_write(const char *dir, const char *name, const char *data, size_t len);
/* Same for a NUL-terminated string. */
void test_write_str(const char *dir, const char *name, const char *data);
/* Returns malloc'd "a/b". */
char *test_join(const char *a, const char *b);

/* An HTTP exchange made with libcurl (tests only talk to 127.0.0.1). */
typedef struct test_http_response {
	long status;
	char *body; /* NUL-terminated */
	size_t body_len;
	char *headers; /* raw response headers */
	int curl_code; /* CURLcode: 0 when a response arrived */
} test_http_response;

/* Sends method url with headers ("Name: value", NULL-terminated, may be
 * NULL) and body (may be NULL); waits at most timeout_ms. */
void test_http(test_http_response *resp, const char *method, const char *url,
	       const char *const *headers, const char *body, size_t body_len, long timeout_ms);
void test_http_free(test_http_response *resp);
/* The value of a response header (malloc'd) or NULL. */
char *test_http_header(const test_http_response *resp, const char *name);
/* Number of host processes whose command line (arguments joined by
 * spaces) contains marker. */
int test_count_processes(const char *marker);
/* Number of directories named prefix* under root, at most depth levels
 * down (symlinks not followed, other file systems included). */
int test_count_dirs_with_prefix(const char *root, const char *prefix, int depth);
/* The start of the names of the cgroups aims process pid makes (in our pid
 * namespace): "aims-<pid namespace inode>-<pid>-". */
void test_cgroup_prefix(char *out, size_t size, long pid);

/* Skips the test loudly, or fails it when AIMS_MUST_WORK=1, when the local
 * sandbox cannot run here (no user namespaces or seccomp). */
void test_require_sandbox(void);

#endif

/*
 * support.c - test helpers: spawn the aims binary, temp trees.
 */
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <strings.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aims/sandbox.h"
#include "support.h"

extern char **environ;

static void append(char **buf, size_t *len, size_t *cap, const char *data, size_t n)
{
	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		*buf = realloc(*buf, *cap);
		assert_non_null(*buf);
	}
	memcpy(*buf + *len, data, n);
	*len += n;
	(*buf)[*len] = '\0';
}

/* The aims binary: AIMS_TEST_AIMS names a copy where the build tree is
 * out of reach (tests/security/as-user.sh). */
static const char *aims_binary(void)
{
	const char *copy = getenv("AIMS_TEST_AIMS");

	return copy && *copy ? copy : AIMS_BINARY;
}

void test_run_aims(test_run *run, const char *cwd, const char *stdin_data, const char *const *env,
		   const char *const *argv)
{
	const char *args[64];
	size_t n = 0;

	args[n++] = aims_binary();
	for (; argv && argv[n - 1] && n < 63; n++)
		args[n] = argv[n - 1];
	args[n] = NULL;
	test_run_program(run, cwd, stdin_data, env, args);
}

void test_run_aims_as_user(test_run *run, const char *const *env, const char *const *argv)
{
	const char *args[64];
	char *dir = NULL, *copy = NULL;
	size_t n = 0;

	if (geteuid() == 0) {
		/* A copy anyone may run: the build tree may sit in a directory
		 * uid 1000 cannot enter. */
		const char *cp_argv[] = {"/bin/cp", aims_binary(), NULL, NULL};
		test_run cp;

		dir = test_tmpdir();
		assert_int_equal(chmod(dir, 0755), 0);
		copy = test_join(dir, "aims");
		cp_argv[2] = copy;
		test_run_program(&cp, NULL, NULL, NULL, cp_argv);
		assert_int_equal(cp.status, 0);
		test_run_free(&cp);
		args[n++] = "/usr/bin/setpriv";
		args[n++] = "--reuid=1000";
		args[n++] = "--regid=1000";
		args[n++] = "--clear-groups";
		args[n++] = copy;
	} else {
		args[n++] = aims_binary();
	}
	for (size_t i = 0; argv[i] && n < 63; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	test_run_program(run, "/", NULL, env, args);
	if (dir) {
		test_rmtree(dir);
		free(dir);
		free(copy);
	}
}

void test_run_program(test_run *run, const char *cwd, const char *stdin_data,
		      const char *const *env, const char *const *argv)
{
	int in[2], out[2], err[2];
	posix_spawn_file_actions_t fa;
	char **envp;
	size_t envc = 0, out_cap = 0, err_cap = 0;
	size_t in_len = stdin_data ? strlen(stdin_data) : 0, in_off = 0;
	pid_t pid;
	int status;

	memset(run, 0, sizeof(*run));

	for (char **e = environ; *e; e++)
		envc++;
	for (const char *const *e = env; e && *e; e++)
		envc++;
	envp = calloc(envc + 1, sizeof(*envp));
	assert_non_null(envp);
	envc = 0;
	for (const char *const *e = env; e && *e; e++)
		envp[envc++] = (char *)*e;
	for (char **e = environ; *e; e++) {
		/* Entries given in env override the inherited ones. */
		const char *eq = strchr(*e, '=');
		int skip = 0;

		for (const char *const *o = env; eq && o && *o; o++)
			skip |= strncmp(*o, *e, (size_t)(eq - *e) + 1) == 0;
		if (!skip)
			envp[envc++] = *e;
	}

	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	assert_int_equal(pipe2(err, O_CLOEXEC), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err[1], 2);
	if (cwd)
		posix_spawn_file_actions_addchdir_np(&fa, cwd);
	assert_int_equal(posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, envp), 0);
	posix_spawn_file_actions_destroy(&fa);
	free(envp);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	if (!in_len) {
		close(in[1]);
		in[1] = -1;
	} else {
		fcntl(in[1], F_SETFL, O_NONBLOCK);
	}

	signal(SIGPIPE, SIG_IGN);
	for (int open_fds = 2; open_fds > 0;) {
		struct pollfd fds[3] = {
			{out[0], POLLIN, 0}, {err[0], POLLIN, 0}, {in[1], POLLOUT, 0}};
		char buf[65536];

		if (poll(fds, in[1] >= 0 ? 3 : 2, -1) < 0) {
			assert_int_equal(errno, EINTR);
			continue;
		}
		for (int i = 0; i < 2; i++) {
			ssize_t r;

			if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = read(fds[i].fd, buf, sizeof(buf));
			if (r > 0) {
				if (i == 0)
					append(&run->out, &run->out_len, &out_cap, buf, (size_t)r);
				else
					append(&run->err, &run->err_len, &err_cap, buf, (size_t)r);
			} else {
				close(fds[i].fd);
				if (i == 0)
					out[0] = -1;
				else
					err[0] = -1;
				open_fds--;
			}
		}
		if (in[1] >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t w = write(in[1], stdin_data + in_off, in_len - in_off);

			if (w > 0)
				in_off += (size_t)w;
			if (w < 0 || in_off == in_len) {
				close(in[1]);
				in[1] = -1;
			}
		}
		if (out[0] < 0 && err[0] < 0)
			break;
	}
	if (in[1] >= 0)
		close(in[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	run->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (!run->out)
		append(&run->out, &run->out_len, &out_cap, "", 0);
	if (!run->err)
		append(&run->err, &run->err_len, &err_cap, "", 0);
}

void test_run_free(test_run *run)
{
	free(run->out);
	free(run->err);
	memset(run, 0, sizeof(*run));
}

char *test_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *path = malloc(4096);

	assert_non_null(path);
	snprintf(path, 4096, "%s/aims-test-XXXXXX", base && *base ? base : "/tmp");
	assert_non_null(mkdtemp(path));
	return path;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void test_rmtree(const char *path)
{
	nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

char *test_join(const char *a, const char *b)
{
	size_t len = strlen(a) + strlen(b) + 2;
	char *path = malloc(len);

	assert_non_null(path);
	snprintf(path, len, "%s/%s", a, b);
	return path;
}

void test_write(const char *dir, const char *name, const char *data, size_t len)
{
	char *path = test_join(dir, name);
	FILE *f;

	for (char *p = path + strlen(dir) + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	free(path);
}

void test_write_str(const char *dir, const char *name, const char *data)
{
	test_write(dir, name, data, strlen(data));
}

typedef struct growing {
	char *data;
	size_t len;
} growing;

static size_t collect(char *ptr, size_t size, size_t n, void *arg)
{
	growing *g = arg;
	size_t len = size * n;
	char *bigger = realloc(g->data, g->len + len + 1);

	if (!bigger)
		return 0;
	g->data = bigger;
	memcpy(g->data + g->len, ptr, len);
	g->len += len;
	g->data[g->len] = '\0';
	return len;
}

void test_http(test_http_response *resp, const char *method, const char *url,
	       const char *const *headers, const char *body, size_t body_len, long timeout_ms)
{
	CURL *curl = curl_easy_init();
	struct curl_slist *list = NULL;
	growing out = {NULL, 0}, head = {NULL, 0};

	assert_non_null(curl);
	memset(resp, 0, sizeof(*resp));
	for (const char *const *h = headers; h && *h; h++)
		list = curl_slist_append(list, *h);
	/* No "Expect: 100-continue" round trip. */
	list = curl_slist_append(list, "Expect:");
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
	if (body) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	}
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, &head);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	resp->curl_code = (int)curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
	resp->body = out.data ? out.data : strdup("");
	resp->body_len = out.len;
	resp->headers = head.data ? head.data : strdup("");
	curl_slist_free_all(list);
	curl_easy_cleanup(curl);
}

void test_http_free(test_http_response *resp)
{
	free(resp->body);
	free(resp->headers);
	memset(resp, 0, sizeof(*resp));
}

char *test_http_header(const test_http_response *resp, const char *name)
{
	size_t len = strlen(name);

	for (const char *line = resp->headers; line && *line;) {
		const char *end = strstr(line, "\r\n");

		if (!end)
			break;
		if (strncasecmp(line, name, len) == 0 && line[len] == ':') {
			const char *value = line + len + 1;

			while (*value == ' ')
				value++;
			return strndup(value, (size_t)(end - value));
		}
		line = end + 2;
	}
	return NULL;
}

int test_count_processes(const char *marker)
{
	DIR *proc = opendir("/proc");
	struct dirent *de;
	int count = 0;

	assert_non_null(proc);
	while ((de = readdir(proc))) {
		char path[300], cmdline[4096];
		ssize_t n;
		int fd;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", de->d_name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		n = read(fd, cmdline, sizeof(cmdline) - 1);
		close(fd);
		if (n <= 0)
			continue;
		for (ssize_t i = 0; i < n; i++)
			if (cmdline[i] == '\0')
				cmdline[i] = ' ';
		cmdline[n] = '\0';
		if (strstr(cmdline, marker))
			count++;
	}
	closedir(proc);
	return count;
}

void test_cgroup_prefix(char *out, size_t size, long pid)
{
	struct stat st;

	assert_int_equal(stat("/proc/self/ns/pid", &st), 0);
	snprintf(out, size, "aims-%llu-%ld-", (unsigned long long)st.st_ino, pid);
}

int test_count_dirs_with_prefix(const char *root, const char *prefix, int depth)
{
	DIR *dir;
	struct dirent *de;
	int count = 0;

	if (depth <= 0 || !(dir = opendir(root)))
		return 0;
	while ((de = readdir(dir))) {
		char *path;

		if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
			count++;
		path = test_join(root, de->d_name);
		count += test_count_dirs_with_prefix(path, prefix, depth - 1);
		free(path);
	}
	closedir(dir);
	return count;
}

void test_require_sandbox(void)
{
	aims_error err;
	const char *must = getenv("AIMS_MUST_WORK");

	aims_error_clear(&err);
	if (aims_sandbox_check(&err) == 0)
		return;
	if (must && strcmp(must, "1") == 0)
		fail_msg("the sandbox cannot run here and AIMS_MUST_WORK=1: %s", err.message);
	fprintf(stderr, "SKIPPED (set AIMS_MUST_WORK=1 to fail instead): %s\n", err.message);
	skip();
}

/*
 * package_fixtures.c - see package_fixtures.h.
 */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "package_fixtures.h"
#include "support.h"

extern char **environ;

void test_run_tool(const char *const *argv, const char *cwd)
{
	posix_spawn_file_actions_t fa;
	int status;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, 2, 1);
	if (cwd)
		posix_spawn_file_actions_addchdir_np(&fa, cwd);
	if (posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ) != 0)
		fail_msg("cannot start %s", argv[0]);
	posix_spawn_file_actions_destroy(&fa);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("%s %s failed (status %d)", argv[0], argv[1] ? argv[1] : "", status);
}

/* The wheel: METADATA, WHEEL and a RECORD with the files' SHA-256. */
static const char wheel_script[] =
	"import base64, hashlib, sys, zipfile\n"
	"out, name, version, code = sys.argv[1:5]\n"
	"info = f'{name}-{version}.dist-info'\n"
	"files = {f'{name}/__init__.py': code,\n"
	"         f'{info}/METADATA': f'Metadata-Version: 2.1\\nName: {name}\\nVersion: "
	"{version}\\n',\n"
	"         f'{info}/WHEEL': 'Wheel-Version: 1.0\\nGenerator: aims-tests\\n'\n"
	"                          'Root-Is-Purelib: true\\nTag: py3-none-any\\n'}\n"
	"record = []\n"
	"for path, text in files.items():\n"
	"    digest = hashlib.sha256(text.encode()).digest()\n"
	"    b64 = base64.urlsafe_b64encode(digest).rstrip(b'=').decode()\n"
	"    record.append(f'{path},sha256={b64},{len(text.encode())}')\n"
	"files[f'{info}/RECORD'] = '\\n'.join(record + [f'{info}/RECORD,,']) + '\\n'\n"
	"with zipfile.ZipFile(f'{out}/{name}-{version}-py3-none-any.whl', 'w') as z:\n"
	"    for path, text in files.items():\n"
	"        z.writestr(path, text)\n";

void test_make_wheel(const char *dir, const char *name, const char *version, const char *init_py)
{
	const char *argv[] = {
		"/usr/bin/python3", "-c", wheel_script, dir, name, version, init_py, NULL};

	mkdir(dir, 0755);
	test_run_tool(argv, NULL);
	assert_int_equal(chmod(dir, 0755), 0);
}

void test_make_npm_package(const char *dir, const char *name, const char *version,
			   const char *index_js, const char *scripts_json)
{
	char fields[2048] = "";

	if (scripts_json)
		snprintf(fields, sizeof(fields), "\"scripts\": %s", scripts_json);
	test_make_npm_package_with(dir, name, version, index_js, fields);
}

void test_make_npm_package_with(const char *dir, const char *name, const char *version,
				const char *index_js, const char *fields)
{
	char *work = test_tmpdir();
	char json[4096], tgz[4096];
	const char *argv[] = {"/bin/tar", "-czf", tgz, "-C", work, "package", NULL};

	snprintf(json, sizeof(json),
		 "{\"name\": \"%s\", \"version\": \"%s\", \"main\": \"index.js\"%s%s}\n", name,
		 version, *fields ? ", " : "", fields);
	test_write_str(work, "package/package.json", json);
	test_write_str(work, "package/index.js", index_js);
	mkdir(dir, 0755);
	snprintf(tgz, sizeof(tgz), "%s/%s-%s.tgz", dir, name, version);
	test_run_tool(argv, NULL);
	assert_int_equal(chmod(dir, 0755), 0);
	test_rmtree(work);
	free(work);
}

void test_make_deb(const char *dir, const char *name, const char *version, const char *path,
		   const char *content, unsigned mode)
{
	char *work = test_tmpdir();
	char control[1024], deb[4096], *file;
	const char *argv[] = {
		"/usr/bin/dpkg-deb", "--build", "--root-owner-group", work, deb, NULL};

	snprintf(control, sizeof(control),
		 "Package: %s\nVersion: %s\nArchitecture: all\n"
		 "Maintainer: AIMS tests <tests@example.invalid>\n"
		 "Description: a package built by a test\n a package built by a test\n",
		 name, version);
	test_write_str(work, "DEBIAN/control", control);
	test_write_str(work, path + 1, content);
	file = test_join(work, path + 1);
	assert_int_equal(chmod(file, (mode_t)mode), 0);
	assert_int_equal(chmod(work, 0755), 0);
	mkdir(dir, 0755);
	snprintf(deb, sizeof(deb), "%s/%s_%s_all.deb", dir, name, version);
	test_run_tool(argv, NULL);
	assert_int_equal(chmod(dir, 0755), 0);
	test_rmtree(work);
	free(file);
	free(work);
}

/*
 * test_packages.c - packages for sandboxed code, end to end in the real
 * sandbox, from local sources only (never a registry): a wheel, an npm
 * tarball and a .deb built by the test are installed into layers and used
 * by code; the second execution reuses the layer; concurrent first
 * requests install once; failures name the package and why; a malicious
 * install script stays inside its layer; layers are keyed by content and
 * evicted least-recently-used, never while in use.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aims/exec.h"
#include "aims/packages.h"
#include "aims/sandbox.h"
#include "package_fixtures.h"
#include "support.h"

/* One test's world: a cache and the local indexes, all in a temp dir. */
typedef struct world {
	char *root;
	char *cache, *wheels, *npm, *debs;
} world;

static void world_open(world *w)
{
	test_require_sandbox();
	w->root = test_tmpdir();
	assert_int_equal(chmod(w->root, 0755), 0); /* the sandbox user (nobody) */
	w->cache = test_join(w->root, "cache");
	w->wheels = test_join(w->root, "wheels");
	w->npm = test_join(w->root, "npm");
	w->debs = test_join(w->root, "debs");
	assert_int_equal(mkdir(w->wheels, 0755), 0);
	assert_int_equal(mkdir(w->npm, 0755), 0);
	assert_int_equal(mkdir(w->debs, 0755), 0);
	setenv("AIMS_CACHE_DIR", w->cache, 1);
	setenv("AIMS_PIP_INDEX_URL", w->wheels, 1);
	setenv("AIMS_NPM_REGISTRY", w->npm, 1);
	setenv("AIMS_DEB_DIR", w->debs, 1);
	unsetenv("AIMS_CACHE_MAX_MB");
	unsetenv("AIMS_INSTALL_TIMEOUT_MS");
	unsetenv("E2B_API_KEY");
	unsetenv("AIMS_CODE_BACKEND");
}

static void world_close(world *w)
{
	aims_sandbox_shutdown();
	test_rmtree(w->root);
	free(w->root);
	free(w->cache);
	free(w->wheels);
	free(w->npm);
	free(w->debs);
}

typedef struct exec_run {
	int rc;
	aims_error err;
	aims_exec_result *r;
} exec_run;

static void exec_with(exec_run *o, aims_language lang, const char *code,
		      const char *const *packages, size_t count)
{
	aims_exec_request req;

	aims_exec_request_init(&req);
	req.language = lang;
	req.code = code;
	req.code_len = strlen(code);
	req.packages = packages;
	req.package_count = count;
	req.backend = AIMS_BACKEND_LOCAL;
	aims_error_clear(&o->err);
	o->r = NULL;
	o->rc = aims_exec_run(&o->r, &req, &o->err);
}

/* Runs and asserts the code ran and succeeded with out on stdout. */
static void exec_ok(exec_run *o, aims_language lang, const char *code, const char *const *packages,
		    size_t count, const char *out)
{
	exec_with(o, lang, code, packages, count);
	if (o->rc != 0)
		fail_msg("exec failed (%d): %s", o->rc, o->err.message);
	if (!o->r->success || strcmp(o->r->stdout_data, out) != 0)
		fail_msg("stdout '%s', expected '%s'; stderr: %s; error: %s", o->r->stdout_data,
			 out, o->r->stderr_data, o->r->error ? o->r->error : "none");
	assert_non_null(o->r->layer);
	assert_int_equal(strlen(o->r->layer), AIMS_PACKAGES_KEY_LEN);
}

static void run_free(exec_run *o)
{
	aims_exec_result_free(o->r);
	o->r = NULL;
}

/* Entries of dir (not . or ..); 0 when it does not exist. */
static size_t count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

static char *layer_path(const world *w, const char *key, const char *rest)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/layers/%s/layer%s%s", w->cache, key, rest ? "/" : "",
		 rest ? rest : "");
	return strdup(path);
}

/* ---- the three ecosystems ---- */

/* A wheel from a local index: importable; the second execution reuses
 * the layer (no install ran); the layer on the host belongs to us, not to
 * the sandbox user, and is read-only inside. */
static void python_wheel_installed_then_reused(void **state)
{
	const char *const packages[] = {"aims_demo"};
	const char *const same[] = {"Aims.Demo"}; /* the same name, PEP 503 */
	const char *code = "import aims_demo\n"
			   "print(aims_demo.hello())\n"
			   "try:\n"
			   "    open('/opt/aims/layer/x', 'w')\n"
			   "except OSError as e:\n"
			   "    print('read-only' if e.errno == 30 else e)\n";
	world w;
	exec_run first, second;
	struct stat st;
	char *init;

	(void)state;
	world_open(&w);
	test_make_wheel(w.wheels, "aims_demo", "1.0",
			"def hello():\n    return 'hello from a wheel'\n");
	exec_ok(&first, AIMS_LANG_PYTHON, code, packages, 1, "hello from a wheel\nread-only\n");
	assert_true(first.r->packages_installed);
	exec_ok(&second, AIMS_LANG_PYTHON, code, same, 1, "hello from a wheel\nread-only\n");
	assert_false(second.r->packages_installed);
	assert_string_equal(first.r->layer, second.r->layer);
	init = layer_path(&w, first.r->layer, "aims_demo/__init__.py");
	assert_int_equal(stat(init, &st), 0);
	assert_int_equal(st.st_uid, geteuid());
	assert_int_equal(st.st_mode & 07022, 0);
	free(init);
	run_free(&first);
	run_free(&second);
	world_close(&w);
}

/* An npm tarball (with an install script that runs inside the install
 * sandbox) and a .deb (its program on PATH). */
static void node_and_deb_packages(void **state)
{
	const char *const npm[] = {"aims-greet@1.2.0"};
	const char *const deb[] = {"aims-hello"};
	world w;
	exec_run node, bash, again;

	(void)state;
	world_open(&w);
	test_make_npm_package(w.npm, "aims-greet", "1.0.0", "module.exports = () => 'old';\n",
			      NULL);
	test_make_npm_package(w.npm, "aims-greet", "1.2.0",
			      "module.exports = (n) => 'greetings, ' + n;\n",
			      "{\"postinstall\": \"node -e "
			      "\\\"require('fs').writeFileSync('installed.txt', 'yes')\\\"\"}");
	exec_ok(&node, AIMS_LANG_NODE,
		"console.log(require('aims-greet')('aims'));\n"
		"console.log(require('fs').readFileSync("
		"'/opt/aims/layer/node_modules/aims-greet/installed.txt', 'utf8'));\n",
		npm, 1, "greetings, aims\nyes\n");
	assert_true(node.r->packages_installed);

	test_make_deb(w.debs, "aims-hello", "1.0-1", "/usr/bin/aims-hello",
		      "#!/bin/sh\necho \"hello from a deb: $1\"\n", 0755);
	exec_ok(&bash, AIMS_LANG_BASH, "aims-hello one\ncommand -v aims-hello\n", deb, 1,
		"hello from a deb: one\n/opt/aims/layer/usr/bin/aims-hello\n");
	assert_true(bash.r->packages_installed);
	exec_ok(&again, AIMS_LANG_BASH, "aims-hello two\n", deb, 1, "hello from a deb: two\n");
	assert_false(again.r->packages_installed);
	run_free(&node);
	run_free(&bash);
	run_free(&again);
	world_close(&w);
}

/* A package names the directories of its tree: a library directory whose
 * name holds a newline or a colon adds no line to the layer's settings
 * and no entry to the library path; a real triplet does. */
static void library_directory_names_are_checked(void **state)
{
	/* dpkg-deb --build refuses such names, dpkg-deb -x unpacks them:
	 * the package is made by hand (an ar archive of two tarballs). */
	static const char craft[] =
		"import io, sys, tarfile\n"
		"def tar(files):\n"
		"    b = io.BytesIO()\n"
		"    with tarfile.open(fileobj=b, mode='w:gz') as t:\n"
		"        for name, data in files:\n"
		"            info = tarfile.TarInfo(name)\n"
		"            info.size, info.mode = len(data), 0o644\n"
		"            t.addfile(info, io.BytesIO(data))\n"
		"    return b.getvalue()\n"
		"control = tar([('./control', b'Package: aims-libs\\nVersion: 1.0\\n'\n"
		"    b'Architecture: all\\nMaintainer: t <t@example.invalid>\\n'\n"
		"    b'Description: d\\n d\\n')])\n"
		"data = tar([('./usr/lib/x86_64-linux-gnu/f', b'x'),\n"
		"    ('./usr/lib/evil\\nenv AIMS_INJECTED=1\\n-linux-gnu/f', b'x'),\n"
		"    ('./usr/lib/a:b-linux-gnu/f', b'x')])\n"
		"def member(name, payload):\n"
		"    head = (name.ljust(16) + '0'.ljust(12) + '0'.ljust(6) + '0'.ljust(6)\n"
		"            + '100644'.ljust(8) + str(len(payload)).ljust(10) + '`\\n')\n"
		"    return head.encode() + payload + (b'\\n' if len(payload) % 2 else b'')\n"
		"with open(sys.argv[1] + '/aims-libs_1.0_all.deb', 'wb') as f:\n"
		"    f.write(b'!<arch>\\n' + member('debian-binary', b'2.0\\n')\n"
		"            + member('control.tar.gz', control) + member('data.tar.gz', data))\n";
	const char *const deb[] = {"aims-libs"};
	world w;
	exec_run run;

	(void)state;
	world_open(&w);
	mkdir(w.debs, 0755);
	{
		const char *argv[] = {"/usr/bin/python3", "-c", craft, w.debs, NULL};

		test_run_tool(argv, NULL);
	}
	exec_ok(&run, AIMS_LANG_BASH, "echo \"${AIMS_INJECTED-unset}|$LD_LIBRARY_PATH\"\n", deb, 1,
		"unset|/opt/aims/layer/usr/lib/x86_64-linux-gnu:/opt/aims/layer/usr/lib\n");
	run_free(&run);
	world_close(&w);
}

/* ---- concurrency ---- */

#define THREADS 4

static void *concurrent_exec(void *arg)
{
	static const char *const packages[] = {"aims-count"};
	exec_run *o = arg;

	exec_with(o, AIMS_LANG_NODE, "console.log(require('aims-count')())\n", packages, 1);
	return NULL;
}

/* Several first requests for one set at once: one installs, the others
 * wait and reuse (the install script appends a line per run). */
static void concurrent_first_requests_install_once(void **state)
{
	pthread_t threads[THREADS];
	exec_run runs[THREADS];
	world w;
	int installs = 0;
	char *marker, *text = NULL;
	size_t len;

	(void)state;
	world_open(&w);
	test_make_npm_package(
		w.npm, "aims-count", "1.0.0", "module.exports = () => 'counted';\n",
		"{\"postinstall\": \"node -e "
		"\\\"require('fs').appendFileSync('/opt/aims/layer/runs', 'x\\\\n'); "
		"Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300)\\\"\"}");
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&threads[i], NULL, concurrent_exec, &runs[i]), 0);
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(threads[i], NULL), 0);
		if (runs[i].rc != 0)
			fail_msg("thread %d: %s", i, runs[i].err.message);
		assert_string_equal(runs[i].r->stdout_data, "counted\n");
		installs += runs[i].r->packages_installed;
		assert_string_equal(runs[i].r->layer, runs[0].r->layer);
	}
	assert_int_equal(installs, 1);
	marker = layer_path(&w, runs[0].r->layer, "runs");
	assert_int_equal(aims_file_read(&text, &len, marker, 1024, NULL), 0);
	assert_string_equal(text, "x\n");
	free(text);
	free(marker);
	for (int i = 0; i < THREADS; i++)
		run_free(&runs[i]);
	world_close(&w);
}

/* ---- failures ---- */

/* Whether this npm has --allow-git and --allow-remote (late npm 11). */
static bool npm_knows_allow_settings(void)
{
	FILE *p = popen("/usr/bin/npm install --help 2>&1", "r");
	char line[512];
	bool git = false, remote = false;

	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		git |= strstr(line, "--allow-git") != NULL;
		remote |= strstr(line, "--allow-remote") != NULL;
	}
	pclose(p);
	return git && remote;
}

static char last_message[AIMS_ERROR_MESSAGE_MAX]; /* expect_failure's */

static void expect_failure(aims_language lang, const char *code, const char *package, int rc,
			   const char *const *needles)
{
	const char *const packages[] = {package};
	exec_run o;

	exec_with(&o, lang, code, packages, 1);
	if (o.rc != rc)
		fail_msg("%s: rc %d, expected %d: %s", package, o.rc, rc, o.err.message);
	assert_null(o.r);
	snprintf(last_message, sizeof(last_message), "%s", o.err.message);
	for (size_t i = 0; needles[i]; i++)
		if (!strstr(o.err.message, needles[i]))
			fail_msg("'%s' not in: %s", needles[i], o.err.message);
}

/* Unknown packages, an unreachable index, a failing install script, an
 * install over its time limit: each names the package and why, with the installer's last
 * lines; nothing is left in the cache. */
static void failing_installs_are_reported(void **state)
{
	char *layers, *tmp;
	world w;

	(void)state;
	world_open(&w);
	test_make_wheel(w.wheels, "present", "1.0", "");
	expect_failure(AIMS_LANG_PYTHON, "print(1)", "absent-thing", AIMS_EINSTALL,
		       (const char *const[]){"'absent-thing'", "unknown package",
					     "No matching distribution found for absent-thing",
					     NULL});
	expect_failure(AIMS_LANG_NODE, "1", "no-such-npm", AIMS_EINSTALL,
		       (const char *const[]){"'no-such-npm' not found in the local index", NULL});
	expect_failure(AIMS_LANG_BASH, "true", "no-such-deb", AIMS_EINSTALL,
		       (const char *const[]){"'no-such-deb' not found in the local index", NULL});

	test_make_npm_package(
		w.npm, "aims-broken", "1.0.0", "",
		"{\"postinstall\": \"node -e \\\"console.error('cannot build aims-broken: "
		"no compiler'); process.exit(3)\\\"\"}");
	expect_failure(AIMS_LANG_NODE, "1", "aims-broken", AIMS_EINSTALL,
		       (const char *const[]){"'aims-broken'", "npm exit",
					     "cannot build aims-broken: no compiler", NULL});

	/* A dependency on a git repository or a tarball URL is refused by
	 * npm that knows --allow-git/--allow-remote; its pointer to a debug
	 * log in the install sandbox is no cause and is left out. */
	test_make_npm_package_with(w.npm, "aims-gitdep", "1.0.0", "",
				   "\"dependencies\": {\"evil\": "
				   "\"git+https://127.0.0.1:9/evil.git\"}");
	test_make_npm_package_with(w.npm, "aims-urldep", "1.0.0", "",
				   "\"dependencies\": {\"evil\": "
				   "\"https://127.0.0.1:9/evil.tgz\"}");
	if (npm_knows_allow_settings()) {
		expect_failure(AIMS_LANG_NODE, "1", "aims-gitdep", AIMS_EINSTALL,
			       (const char *const[]){"'aims-gitdep'",
						     "packages of type \"git\" have been disabled",
						     "Refusing to fetch", NULL});
		expect_failure(AIMS_LANG_NODE, "1", "aims-urldep", AIMS_EINSTALL,
			       (const char *const[]){
				       "'aims-urldep'",
				       "packages of type \"remote\" have been disabled", NULL});
	} else {
		/* (Debian 12's npm 9: no network here, so it fails too.) */
		print_message("npm does not know --allow-git: only the failure is checked\n");
		expect_failure(AIMS_LANG_NODE, "1", "aims-gitdep", AIMS_EINSTALL,
			       (const char *const[]){"'aims-gitdep'", NULL});
	}
	assert_null(strstr(last_message, "complete log"));
	assert_null(strstr(last_message, "_logs/"));

	/* More packages than an install takes, through the library (the
	 * request checks stop them earlier): refused, not overrun. */
	{
		static char names[AIMS_EXEC_MAX_PACKAGES + 1][16];
		const char *many[AIMS_EXEC_MAX_PACKAGES + 1];
		aims_packages_layer *layer = NULL;
		aims_error err;

		for (size_t i = 0; i <= AIMS_EXEC_MAX_PACKAGES; i++) {
			snprintf(names[i], sizeof(names[i]), "present%zu", i);
			many[i] = names[i];
		}
		aims_error_clear(&err);
		assert_int_equal(aims_packages_acquire(&layer, AIMS_LANG_PYTHON, many,
						       AIMS_EXEC_MAX_PACKAGES + 1, -1, NULL, NULL,
						       &err),
				 AIMS_ETOOBIG);
		assert_null(layer);
		assert_non_null(strstr(err.message, "more than 64 packages"));
	}

	/* An index nobody listens on (loopback): the registry is unreachable. */
	{
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in addr;
		socklen_t alen = sizeof(addr);
		char url[64];

		memset(&addr, 0, sizeof(addr));
		addr.sin_family = AF_INET;
		addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
		assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &alen), 0);
		close(fd); /* nothing listens there now */
		snprintf(url, sizeof(url), "http://127.0.0.1:%u/simple",
			 (unsigned)ntohs(addr.sin_port));
		setenv("AIMS_PIP_INDEX_URL", url, 1);
		expect_failure(AIMS_LANG_PYTHON, "print(1)", "present", AIMS_EUPSTREAM,
			       (const char *const[]){"'present'", "registry is unreachable",
						     "pip exit 1", NULL});
		setenv("AIMS_PIP_INDEX_URL", w.wheels, 1);
	}

	/* The server's settings are wrong, not the request: 503, not 400. */
	setenv("AIMS_PIP_INDEX_URL", "ftp://example.invalid/simple", 1);
	expect_failure(AIMS_LANG_PYTHON, "print(1)", "present", AIMS_ENOTREADY,
		       (const char *const[]){"AIMS_PIP_INDEX_URL must be an http(s) URL", NULL});
	setenv("AIMS_PIP_INDEX_URL", w.wheels, 1);

	/* A package 300 directories deep: refused, and removed whole (an
	 * earlier walk stopped at 256 and left it in tmp/ for ever). */
	{
		static const char deep_wheel[] =
			"import sys, zipfile\n"
			"out = sys.argv[1]\n"
			"info = 'aims_deep-1.0.dist-info'\n"
			"deep = 'aims_deep/' + 'd/' * 300 + 'leaf.py'\n"
			"files = {'aims_deep/__init__.py': '', deep: 'x = 1\\n',\n"
			"         info + '/METADATA': 'Metadata-Version: 2.1\\nName: "
			"aims-deep\\n'\n"
			"                             'Version: 1.0\\n',\n"
			"         info + '/WHEEL': 'Wheel-Version: 1.0\\nGenerator: "
			"aims-tests\\n'\n"
			"                          'Root-Is-Purelib: true\\nTag: "
			"py3-none-any\\n',\n"
			"         info + '/RECORD': ''}\n"
			"with zipfile.ZipFile(out + '/aims_deep-1.0-py3-none-any.whl', 'w') as z:\n"
			"    for path, text in files.items():\n"
			"        z.writestr(path, text)\n";
		const char *argv[] = {"/usr/bin/python3", "-c", deep_wheel, w.wheels, NULL};

		test_run_tool(argv, NULL);
		expect_failure(AIMS_LANG_PYTHON, "print(1)", "aims-deep", AIMS_EINSTALL,
			       (const char *const[]){"cannot settle the installed files",
						     "deeper than 256", NULL});
	}

	setenv("AIMS_INSTALL_TIMEOUT_MS", "1500", 1);
	test_make_npm_package(w.npm, "aims-slow", "1.0.0", "",
			      "{\"postinstall\": \"node -e \\\"setTimeout(() => 0, 60000)\\\"\"}");
	expect_failure(AIMS_LANG_NODE, "1", "aims-slow", AIMS_ETIMEOUT,
		       (const char *const[]){"'aims-slow'", "timed out after 1500 ms", NULL});
	unsetenv("AIMS_INSTALL_TIMEOUT_MS");

	layers = test_join(w.cache, "layers");
	tmp = test_join(w.cache, "tmp");
	assert_int_equal(count_entries(layers), 0);
	assert_int_equal(count_entries(tmp), 0);
	{
		/* Others may pass through tmp/ to a layer's random name, not
		 * list it (cache.c: root settles trees there by path). */
		struct stat st;

		assert_int_equal(stat(tmp, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0711);
	}
	free(layers);
	free(tmp);
	world_close(&w);
}

/* ---- containment of install scripts ---- */

/* An npm install script tries to write outside its layer, to reach a
 * host service on loopback, and to read host files; a .deb brings a
 * setuid program. The script runs, and everything else fails: the host
 * file is absent, the listener saw no connection, the source index is
 * unchanged, and the setuid bit is gone from the layer on the host. */
static void malicious_install_script_is_contained(void **state)
{
	const char *const npm[] = {"aims-evil"};
	const char *const deb[] = {"aims-suid"};
	char script[2048], *host_marker, *report_path, *report = NULL, *suid;
	struct sockaddr_in addr;
	socklen_t alen = sizeof(addr);
	int listener, conn;
	size_t len;
	world w;
	exec_run o, d;
	struct stat st;

	(void)state;
	world_open(&w);
	host_marker = test_join(w.root, "escaped");
	listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(listener >= 0);
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(listener, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(listener, 4), 0);
	assert_int_equal(getsockname(listener, (struct sockaddr *)&addr, &alen), 0);

	/* The script records each attempt in the layer (the one place it
	 * may write). */
	snprintf(script, sizeof(script), "{\"postinstall\": \"node evil.js %s %u\"}", host_marker,
		 (unsigned)ntohs(addr.sin_port));
	{
		char *work = test_tmpdir(), *tgz = test_join(w.npm, "aims-evil-1.0.0.tgz");
		const char *argv[] = {"/bin/tar", "-czf", tgz, "-C", work, "package", NULL};
		char json[2560];

		snprintf(json, sizeof(json),
			 "{\"name\": \"aims-evil\", \"version\": \"1.0.0\", \"scripts\": %s}\n",
			 script);
		test_write_str(work, "package/package.json", json);
		test_write_str(work, "package/index.js", "module.exports = 1;\n");
		test_write_str(work, "package/evil.js",
			       "const fs = require('fs'), net = require('net');\n"
			       "const [marker, port] = process.argv.slice(2);\n"
			       "const log = (l) => fs.appendFileSync('/opt/aims/layer/report', l + "
			       "'\\n');\n"
			       "const tryWrite = (p) => { try { fs.writeFileSync(p, 'x'); "
			       "log('wrote ' + p); }\n"
			       "  catch (e) { log('denied ' + p); } };\n"
			       "tryWrite(marker);\n"
			       "tryWrite('/opt/aims/source/planted.tgz');\n"
			       "tryWrite('/etc/planted');\n"
			       "tryWrite('/usr/planted');\n"
			       "log(fs.existsSync(marker.replace(/escaped$/, 'cache')) ? 'sees "
			       "host' : 'blind');\n"
			       "const s = net.connect(+port, '127.0.0.1');\n"
			       "s.on('connect', () => { log('connected'); s.destroy(); });\n"
			       "s.on('error', () => log('no network'));\n");
		test_run_tool(argv, NULL);
		test_rmtree(work);
		free(work);
		free(tgz);
	}
	exec_ok(&o, AIMS_LANG_NODE, "console.log(require('aims-evil'))\n", npm, 1, "1\n");
	report_path = layer_path(&w, o.r->layer, "report");
	assert_int_equal(aims_file_read(&report, &len, report_path, 4096, NULL), 0);
	{
		char expected[4096];

		snprintf(expected, sizeof(expected),
			 "denied %s\ndenied /opt/aims/source/planted.tgz\ndenied /etc/planted\n"
			 "denied /usr/planted\nblind\nno network\n",
			 host_marker);
		assert_string_equal(report, expected);
	}
	assert_int_equal(stat(host_marker, &st), -1);
	assert_int_equal(count_entries(w.npm), 1);
	conn = accept(listener, NULL, NULL);
	assert_int_equal(conn, -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	close(listener);

	test_make_deb(w.debs, "aims-suid", "1.0", "/usr/bin/aims-suid", "#!/bin/sh\nid -u\n",
		      04755);
	exec_ok(&d, AIMS_LANG_BASH, "aims-suid\n", deb, 1, "1000\n");
	suid = layer_path(&w, d.r->layer, "usr/bin/aims-suid");
	assert_int_equal(stat(suid, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(st.st_uid, geteuid());

	free(suid);
	free(report);
	free(report_path);
	free(host_marker);
	run_free(&o);
	run_free(&d);
	world_close(&w);
}

/* ---- keys, listing, eviction ---- */

static void acquire(aims_packages_layer **out, aims_language lang, const char *const *packages,
		    size_t count)
{
	aims_error err;

	aims_error_clear(&err);
	if (aims_packages_acquire(out, lang, packages, count, -1, NULL, NULL, &err) != 0)
		fail_msg("acquire: %s", err.message);
}

/* The key depends on the set, not its order or spelling, and on the
 * index settings. */
static void layer_keys_follow_content(void **state)
{
	const char *const ab[] = {"pkg-a", "pkg_b"}, *const ba[] = {"PKG.B", "pkg-a"};
	const char *const a[] = {"pkg-a"};
	aims_packages_layer *l1, *l2, *l3, *l4;
	char *other;
	world w;

	(void)state;
	world_open(&w);
	test_make_wheel(w.wheels, "pkg_a", "1.0", "");
	test_make_wheel(w.wheels, "pkg_b", "1.0", "");
	acquire(&l1, AIMS_LANG_PYTHON, ab, 2);
	acquire(&l2, AIMS_LANG_PYTHON, ba, 2);
	assert_string_equal(aims_packages_layer_key(l1), aims_packages_layer_key(l2));
	assert_true(aims_packages_layer_installed(l1));
	assert_false(aims_packages_layer_installed(l2));
	acquire(&l3, AIMS_LANG_PYTHON, a, 1);
	assert_string_not_equal(aims_packages_layer_key(l1), aims_packages_layer_key(l3));
	/* Another index: another layer. */
	other = test_join(w.root, "other");
	test_make_wheel(other, "pkg_a", "1.0", "");
	setenv("AIMS_PIP_INDEX_URL", other, 1);
	acquire(&l4, AIMS_LANG_PYTHON, a, 1);
	assert_string_not_equal(aims_packages_layer_key(l3), aims_packages_layer_key(l4));
	assert_true(aims_packages_layer_installed(l4));
	aims_packages_release(l1);
	aims_packages_release(l2);
	aims_packages_release(l3);
	aims_packages_release(l4);
	free(other);
	world_close(&w);
}

static bool listed(const char *key)
{
	aims_packages_entry *entries = NULL;
	size_t count = 0;
	bool found = false;
	aims_error err;

	aims_error_clear(&err);
	assert_int_equal(aims_packages_cache_list(&entries, &count, &err), 0);
	for (size_t i = 0; i < count; i++)
		found |= strcmp(entries[i].key, key) == 0;
	aims_packages_entries_free(entries, count);
	return found;
}

/* Over the budget (0 MB here) a new layer evicts the others least
 * recently used first, but never one in use; prune does the same. */
static void eviction_spares_layers_in_use(void **state)
{
	const char *const a[] = {"ev-a"}, *const b[] = {"ev-b"}, *const c[] = {"ev-c"};
	aims_packages_layer *la, *lb, *lc;
	aims_packages_entry *entries = NULL;
	char key_a[80], key_b[80], key_c[80];
	size_t count = 0, removed = 0;
	uint64_t freed = 0;
	aims_error err;
	world w;

	(void)state;
	world_open(&w);
	test_make_wheel(w.wheels, "ev_a", "1.0", "");
	test_make_wheel(w.wheels, "ev_b", "1.0", "");
	test_make_wheel(w.wheels, "ev_c", "1.0", "");
	setenv("AIMS_CACHE_MAX_MB", "0", 1);
	acquire(&la, AIMS_LANG_PYTHON, a, 1); /* held */
	snprintf(key_a, sizeof(key_a), "%s", aims_packages_layer_key(la));
	acquire(&lb, AIMS_LANG_PYTHON, b, 1);
	snprintf(key_b, sizeof(key_b), "%s", aims_packages_layer_key(lb));
	aims_packages_release(lb);
	assert_true(listed(key_a)); /* in use: spared */
	assert_true(listed(key_b));

	aims_error_clear(&err);
	assert_int_equal(aims_packages_cache_list(&entries, &count, &err), 0);
	assert_int_equal(count, 2);
	for (size_t i = 0; i < count; i++) {
		assert_true(entries[i].size_bytes > 0);
		assert_string_equal(entries[i].language, "python");
		assert_int_equal(entries[i].in_use, strcmp(entries[i].key, key_a) == 0);
	}
	aims_packages_entries_free(entries, count);

	aims_packages_release(la);
	acquire(&lc, AIMS_LANG_PYTHON, c, 1); /* evicts a and b */
	snprintf(key_c, sizeof(key_c), "%s", aims_packages_layer_key(lc));
	assert_false(listed(key_a));
	assert_false(listed(key_b));
	assert_true(listed(key_c));
	/* prune spares c while it is held, removes it once released */
	assert_int_equal(aims_packages_cache_prune(&removed, &freed, 0, &err), 0);
	assert_int_equal(removed, 0);
	aims_packages_release(lc);
	assert_int_equal(aims_packages_cache_prune(&removed, &freed, 0, &err), 0);
	assert_int_equal(removed, 1);
	assert_true(freed > 0);
	assert_false(listed(key_c));
	/* and an evicted set is simply installed again */
	acquire(&la, AIMS_LANG_PYTHON, a, 1);
	assert_true(aims_packages_layer_installed(la));
	aims_packages_release(la);
	world_close(&w);
}

/* ---- the command line ---- */

/* aims exec -p and aims run with packages (one layer), then aims cache
 * list and prune, through the real binary;
 * a bad name is a usage error naming it. */
static void cli_exec_and_cache(void **state)
{
	const char *const exec_args[] = {"exec",
					 "-l",
					 "python",
					 "-p",
					 "aims_cli",
					 "-c",
					 "import aims_cli; print(aims_cli.X)",
					 NULL};
	const char *const bad_args[] = {"exec", "-l",	    "python", "-p", "--index-url=http://x",
					"-c",	"print(1)", NULL};
	const char *const run_args[] = {"run", "run python: import aims_cli; print(aims_cli.X)",
					"--input", "{\"packages\": [\"aims-cli\"]}", NULL};
	const char *const list_args[] = {"cache", "list", NULL};
	const char *const json_args[] = {"cache", "list", "--json", NULL};
	const char *const prune_args[] = {"cache", "prune", NULL};
	char env_cache[4200], env_pip[4200];
	const char *env[] = {env_cache, env_pip, "AIMS_CODE_BACKEND=local", NULL};
	test_run run;
	world w;

	(void)state;
	world_open(&w);
	snprintf(env_cache, sizeof(env_cache), "AIMS_CACHE_DIR=%s", w.cache);
	snprintf(env_pip, sizeof(env_pip), "AIMS_PIP_INDEX_URL=%s", w.wheels);
	test_make_wheel(w.wheels, "aims_cli", "2.0", "X = 'from the cli'\n");
	test_run_aims(&run, NULL, NULL, env, exec_args);
	if (run.status != 0)
		fail_msg("exit %d: %s", run.status, run.err);
	assert_string_equal(run.out, "from the cli\n");
	assert_string_equal(run.err, ""); /* no progress: stderr is not a TTY */
	test_run_free(&run);

	test_run_aims(&run, NULL, NULL, env, bad_args);
	assert_int_equal(run.status, 2);
	assert_non_null(strstr(run.err, "invalid package name '--index-url=http://x'"));
	test_run_free(&run);

	/* aims run: "packages" in the input, the code from the utterance */
	test_run_aims(&run, AIMS_SOURCE_DIR, NULL, env, run_args);
	if (run.status != 0)
		fail_msg("aims run: exit %d: %s", run.status, run.err);
	assert_string_equal(run.out, "from the cli\n");
	test_run_free(&run);

	test_run_aims(&run, NULL, NULL, env, list_args);
	assert_int_equal(run.status, 0);
	assert_non_null(strstr(run.out, "python"));
	assert_non_null(strstr(run.out, "aims-cli"));
	test_run_free(&run);
	test_run_aims(&run, NULL, NULL, env, json_args);
	assert_int_equal(run.status, 0);
	assert_non_null(strstr(run.out, "\"packages\""));
	test_run_free(&run);

	test_run_aims(&run, NULL, NULL, env, prune_args);
	assert_int_equal(run.status, 0);
	assert_non_null(strstr(run.out, "removed 1 layer"));
	test_run_free(&run);
	test_run_aims(&run, NULL, NULL, env, list_args);
	assert_int_equal(run.status, 0);
	assert_null(strstr(run.out, "aims-cli"));
	test_run_free(&run);
	world_close(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(python_wheel_installed_then_reused),
		cmocka_unit_test(node_and_deb_packages),
		cmocka_unit_test(library_directory_names_are_checked),
		cmocka_unit_test(concurrent_first_requests_install_once),
		cmocka_unit_test(failing_installs_are_reported),
		cmocka_unit_test(malicious_install_script_is_contained),
		cmocka_unit_test(layer_keys_follow_content),
		cmocka_unit_test(eviction_spares_layers_in_use),
		cmocka_unit_test(cli_exec_and_cache),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

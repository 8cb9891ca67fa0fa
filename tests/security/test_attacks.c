/*
 * test_attacks.c - real attacks run in the real sandbox (SPEC §12). Each
 * case asserts containment (what the attack tried did not happen on the
 * host) and the outcome the sandbox reports (exit code, limit, error).
 *
 * The attack programs print BLOCKED when the operation was refused and
 * ESCAPED when it went through; a case passes only when BLOCKED appears
 * and ESCAPED does not, plus its own host-side checks. The system-call
 * numbers used through ctypes are those of x86_64.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define SECRET "aims-test-secret-7f3a9c1e"

/* Python prelude: a raw system call through ctypes, returning errno. */
#define PY_SYSCALL                                                                      \
	"import ctypes, os\n"                                                           \
	"libc = ctypes.CDLL(None, use_errno=True)\n"                                    \
	"def arg(a):\n"                                                                 \
	"    return ctypes.c_char_p(a) if isinstance(a, bytes) else ctypes.c_long(a)\n" \
	"def sc(*args):\n"                                                              \
	"    r = libc.syscall(*[arg(a) for a in args])\n"                               \
	"    return r, ctypes.get_errno()\n"                                            \
	"def check(name, r):\n"                                                         \
	"    print(('ESCAPED ' if r[0] >= 0 else 'BLOCKED ') + name, r[1])\n"

static void assert_blocked(const outcome *o)
{
	if (!strstr(o->out, "BLOCKED") || strstr(o->out, "ESCAPED") ||
	    strstr(o->errout, "ESCAPED")) {
		outcome_dump(o);
		fail_msg("the attack was not contained");
	}
}

/* Runs an attack that must be refused while the program itself ends
 * normally (exit 0, no limit). */
static void attack(aims_language lang, const char *code, const run_opts *opts)
{
	outcome o;

	run_ok(&o, lang, code, opts);
	assert_blocked(&o);
	if (o.r->exit_code != 0 || o.r->limit != AIMS_LIMIT_NONE) {
		outcome_dump(&o);
		fail_msg("unexpected outcome");
	}
	assert_true(o.r->success);
	outcome_free(&o);
}

/* ---- network ---- */

typedef struct listener {
	int fd;
	int port;
	char env_port[32];
} listener;

static void listen_loopback(listener *l)
{
	struct sockaddr_in addr = {.sin_family = AF_INET};
	socklen_t len = sizeof(addr);

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	assert_true(l->fd >= 0);
	assert_int_equal(bind(l->fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(l->fd, 16), 0);
	assert_int_equal(getsockname(l->fd, (struct sockaddr *)&addr, &len), 0);
	l->port = ntohs(addr.sin_port);
	snprintf(l->env_port, sizeof(l->env_port), "PORT=%d", l->port);
}

/* Asserts nobody connected to the listener, then closes it. */
static void assert_no_connection(listener *l)
{
	int c = accept(l->fd, NULL, NULL);

	if (c >= 0)
		fail_msg("a connection from the sandbox reached the host listener");
	assert_int_equal(errno, EAGAIN);
	close(l->fd);
}

/* Runs code with PORT set to a port the test listens on at the host's
 * loopback, and asserts nothing connected. */
static void loopback_attack(aims_language lang, const char *code)
{
	listener l;

	require_sandbox();
	listen_loopback(&l);
	{
		const char *const env[] = {l.env_port, NULL};
		run_opts opts = {.env = env};

		attack(lang, code, &opts);
	}
	assert_no_connection(&l);
}

static void network_python_connect_host_loopback(void **state)
{
	(void)state;
	loopback_attack(AIMS_LANG_PYTHON,
			"import os, socket\n"
			"for host in ('127.0.0.1', '::1', 'localhost'):\n"
			"    try:\n"
			"        socket.create_connection((host, int(os.environ['PORT'])), 2)\n"
			"        print('ESCAPED', host)\n"
			"    except OSError as e:\n"
			"        print('BLOCKED', host, e)\n");
}

static void network_node_connect_host_loopback(void **state)
{
	(void)state;
	loopback_attack(AIMS_LANG_NODE,
			"const net = require('net');\n"
			"const s = net.connect({host: '127.0.0.1', port: +process.env.PORT});\n"
			"s.on('connect', () => { console.log('ESCAPED'); process.exit(0); });\n"
			"s.on('error', e => console.log('BLOCKED', e.code));\n");
}

static void network_bash_dev_tcp(void **state)
{
	(void)state;
	loopback_attack(AIMS_LANG_BASH, "if exec 3<>/dev/tcp/127.0.0.1/$PORT; then echo ESCAPED; "
					"else echo BLOCKED; fi 2>/dev/null");
}

/* Abstract unix sockets have no file to hide, but belong to the network
 * namespace: one the test listens on is out of reach. */
static void network_abstract_unix_socket(void **state)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	char name[64], env_name[96];
	int fd, c;

	(void)state;
	require_sandbox();
	snprintf(name, sizeof(name), "aims-test-%ld", (long)getpid());
	snprintf(env_name, sizeof(env_name), "NAME=%s", name);
	memcpy(addr.sun_path + 1, name, strlen(name)); /* sun_path[0] = 0: abstract */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	assert_true(fd >= 0);
	assert_int_equal(
		bind(fd, (struct sockaddr *)&addr,
		     (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name))),
		0);
	assert_int_equal(listen(fd, 4), 0);
	{
		const char *const env[] = {env_name, NULL};
		run_opts opts = {.env = env};

		attack(AIMS_LANG_PYTHON,
		       "import os, socket\n"
		       "s = socket.socket(socket.AF_UNIX)\n"
		       "try:\n"
		       "    s.connect('\\0' + os.environ['NAME']); print('ESCAPED')\n"
		       "except OSError as e:\n"
		       "    print('BLOCKED', e)\n",
		       &opts);
	}
	c = accept(fd, NULL, NULL);
	assert_true(c < 0);
	close(fd);
}

static void network_dns_and_interfaces(void **state)
{
	(void)state;
	require_sandbox();
	attack(AIMS_LANG_PYTHON,
	       "import socket\n"
	       "try:\n"
	       "    print('ESCAPED', socket.getaddrinfo('example.com', 80))\n"
	       "except OSError as e:\n"
	       "    print('BLOCKED dns', e)\n"
	       "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
	       "try:\n"
	       "    s.sendto(b'x', ('8.8.8.8', 53)); print('ESCAPED udp')\n"
	       "except OSError as e:\n"
	       "    print('BLOCKED udp', e)\n"
	       "names = [l.split(':')[0].strip() for l in open('/proc/net/dev').readlines()[2:]]\n"
	       "print('BLOCKED ifaces' if names == ['lo'] else 'ESCAPED ifaces %s' % names)\n",
	       NULL);
}

/* ---- host files and secrets ---- */

static void files_python_checkout_and_home(void **state)
{
	char code[2048];

	(void)state;
	require_sandbox();
	snprintf(code, sizeof(code),
		 "import os\n"
		 "for p in ['%s/CMakeLists.txt', '%s', '/root', '/home', '/etc/shadow',\n"
		 "          '/etc/ssl/private', '/var', '/run', '/sys', '/boot']:\n"
		 "    try:\n"
		 "        os.stat(p); print('ESCAPED', p)\n"
		 "    except OSError as e:\n"
		 "        print('BLOCKED', p, e.errno)\n",
		 AIMS_SOURCE_DIR, AIMS_SOURCE_DIR);
	attack(AIMS_LANG_PYTHON, code, NULL);
}

static void files_node_etc_shadow(void **state)
{
	(void)state;
	require_sandbox();
	attack(AIMS_LANG_NODE,
	       "const fs = require('fs');\n"
	       "for (const p of ['/etc/shadow', '/root/.bashrc', '/etc/gshadow']) {\n"
	       "  try { fs.readFileSync(p); console.log('ESCAPED', p); }\n"
	       "  catch (e) { console.log('BLOCKED', p, e.code); }\n"
	       "}\n",
	       NULL);
}

static void files_bash_only_system_dirs(void **state)
{
	outcome o;

	(void)state;
	require_sandbox();
	run_ok(&o, AIMS_LANG_BASH, "cd / && echo *", NULL);
	assert_string_equal(o.out, "bin dev etc lib lib32 lib64 proc sandbox sbin tmp usr\n");
	outcome_free(&o);
}

/* The host's root is detached before the program starts (child.c does it
 * in a helper and waits only until the mount point is free): the
 * program's first look at its mount table finds only the sandbox's own
 * mounts, none left of the old root. */
static void host_mounts_are_detached(void **state)
{
	(void)state;
	require_sandbox();
	attack(AIMS_LANG_PYTHON,
	       "import os\n"
	       "mine = ('/usr', '/etc', '/proc', '/dev', '/tmp', '/sandbox', '/bin', '/sbin',\n"
	       "        '/lib', '/lib32', '/lib64', '/libx32')\n"
	       "for line in open('/proc/self/mountinfo'):\n"
	       "    point = line.split()[4]\n"
	       "    ok = point == '/' or any(point == d or point.startswith(d + '/') for d in "
	       "mine)\n"
	       "    print(('BLOCKED ' if ok else 'ESCAPED ') + point)\n"
	       "print(('ESCAPED' if os.path.exists('/.old-root') else 'BLOCKED') + ' "
	       "/.old-root')\n",
	       NULL);
}

/* A caller that is not root: the sandbox user maps to the caller's own
 * uid, so the program runs as the same host uid as the init (and its
 * helper), whose memory holds the caller's environment. Run as root, the
 * test runs a copy of the aims binary as uid 1000 (setpriv). The program
 * must not read the init's environ or memory, nor the helper's. */
static void non_root_caller_keeps_its_secrets(void **state)
{
	static const char code[] =
		"def t(name, f):\n"
		"    try:\n"
		"        f(); print('ESCAPED', name)\n"
		"    except OSError as e:\n"
		"        print('BLOCKED', name, e.errno)\n"
		"for pid in (1, 2):\n"
		"    t('/proc/%d/environ' % pid, lambda: open('/proc/%d/environ' % pid, "
		"'rb').read())\n"
		"    t('/proc/%d/mem' % pid, lambda: open('/proc/%d/mem' % pid, 'r+b'))\n";
	const char *const env[] = {"AIMS_TEST_SECRET=hunter2-non-root", NULL};
	const char *const argv[] = {"exec", "--backend", "local", "-l", "python", "-c", code, NULL};
	test_run run;

	(void)state;
	require_sandbox();
	test_run_aims_as_user(&run, env, argv);
	if (run.status != 0 || !strstr(run.out, "BLOCKED /proc/1/mem") ||
	    strstr(run.out, "ESCAPED") || strstr(run.out, "hunter2")) {
		fprintf(stderr, "status %d\nstdout:\n%s\nstderr:\n%s\n", run.status, run.out,
			run.err);
		fail_msg("the program reached the init or the helper");
	}
	test_run_free(&run);
}

static void secrets_parent_proc_environ(void **state)
{
	char env_pid[32];
	const char *const env[] = {env_pid, NULL};
	run_opts opts = {.env = env};

	(void)state;
	require_sandbox();
	setenv("AIMS_TEST_SECRET", SECRET, 1);
	snprintf(env_pid, sizeof(env_pid), "PARENT=%ld", (long)getpid());
	/* The parent's pid is not in the sandbox's pid namespace, and no
	 * process of the sandbox's /proc holds the secret. */
	attack(AIMS_LANG_PYTHON,
	       "import os, glob\n"
	       "try:\n"
	       "    open('/proc/%s/environ' % os.environ['PARENT'], 'rb').read(); "
	       "print('ESCAPED')\n"
	       "except OSError as e:\n"
	       "    print('BLOCKED parent', e.errno)\n"
	       "found = False\n"
	       "for p in glob.glob('/proc/*/environ'):\n"
	       "    try:\n"
	       "        found |= b'" SECRET "' in open(p, 'rb').read()\n"
	       "    except OSError:\n"
	       "        pass\n"
	       "print('ESCAPED secret' if found else 'BLOCKED secret')\n"
	       "print('pids', sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))\n",
	       &opts);
	unsetenv("AIMS_TEST_SECRET");
}

static void secrets_env_not_inherited(void **state)
{
	static const struct {
		aims_language lang;
		const char *code;
	} cases[] = {
		{AIMS_LANG_PYTHON, "import os; print(sorted(os.environ))\n"
				   "print('ESCAPED' if 'AIMS_TEST_SECRET' in os.environ or "
				   "'E2B_API_KEY' in os.environ else 'BLOCKED')"},
		{AIMS_LANG_NODE,
		 "console.log(Object.keys(process.env).sort().join(' '));\n"
		 "console.log(process.env.AIMS_TEST_SECRET || process.env.E2B_API_KEY"
		 " ? 'ESCAPED' : 'BLOCKED')"},
		{AIMS_LANG_BASH, "env | grep -q '" SECRET "' && echo ESCAPED || echo BLOCKED"},
	};

	(void)state;
	require_sandbox();
	setenv("AIMS_TEST_SECRET", SECRET, 1);
	setenv("AIMS_CODE_BACKEND", "local", 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		outcome o;

		run_ok(&o, cases[i].lang, cases[i].code, NULL);
		assert_blocked(&o);
		assert_null(strstr(o.out, SECRET));
		outcome_free(&o);
	}
	unsetenv("AIMS_TEST_SECRET");
	unsetenv("AIMS_CODE_BACKEND");
}

/* ---- writes ---- */

static void writes_bash_system_dirs(void **state)
{
	char host_tmp[128];
	struct stat st;

	(void)state;
	require_sandbox();
	attack(AIMS_LANG_BASH,
	       "for f in /usr/bin/aims-escape /etc/aims-escape /aims-escape /dev/aims-escape "
	       "/proc/aims-escape /usr/lib/aims-escape; do\n"
	       "  if (echo x > $f) 2>/dev/null; then echo ESCAPED $f; else echo BLOCKED $f; fi\n"
	       "done\n"
	       "if (echo x >> /etc/passwd) 2>/dev/null; then echo ESCAPED passwd; fi\n"
	       "if (echo 1 > /proc/sys/kernel/hostname) 2>/dev/null; then echo ESCAPED sysctl; "
	       "fi\n",
	       NULL);
	assert_int_equal(stat("/usr/bin/aims-escape", &st), -1);
	assert_int_equal(stat("/etc/aims-escape", &st), -1);
	assert_int_equal(stat("/aims-escape", &st), -1);
	/* The sandbox's /tmp is its own tmpfs: a file written there never
	 * shows up in the host's /tmp. */
	snprintf(host_tmp, sizeof(host_tmp), "/tmp/aims-escape-%ld", (long)getpid());
	{
		char code[256];
		outcome o;

		snprintf(code, sizeof(code), "echo x > %s && echo BLOCKED written-inside",
			 host_tmp);
		run_ok(&o, AIMS_LANG_BASH, code, NULL);
		assert_blocked(&o);
		outcome_free(&o);
	}
	assert_int_equal(stat(host_tmp, &st), -1);
}

static void writes_python_outside_workdir(void **state)
{
	(void)state;
	require_sandbox();
	attack(AIMS_LANG_PYTHON,
	       "import os\n"
	       "for p in ['/usr/local/aims-escape', '/etc/hosts', '/bin/sh']:\n"
	       "    try:\n"
	       "        open(p, 'a').write('x'); print('ESCAPED', p)\n"
	       "    except OSError as e:\n"
	       "        print('BLOCKED', p, e.errno)\n"
	       "open('/sandbox/ok.txt', 'w').write('fine')\n"
	       "open('/tmp/ok.txt', 'w').write('fine')\n",
	       NULL);
}

/* ---- resources ---- */

/* Without cgroups (a caller that is not root, on cgroup v1), limits are
 * rlimits: each process is held to them, but the run cannot tell which
 * limit a failure came from. The bombs must still be contained; in that
 * mode the program's own error is the evidence instead of the report. */
static bool rlimits_only(void)
{
	return strcmp(aims_sandbox_limits_backend(), "rlimits") == 0;
}

static void fork_bomb_bash(void **state)
{
	run_opts opts = {.timeout_ms = 3000};
	outcome o;
	pid_t pid;
	int status;

	(void)state;
	require_sandbox();
	run_ok(&o, AIMS_LANG_BASH, "bomb() { bomb | bomb & }; bomb; sleep 2; echo survived", &opts);
	/* Contained by the process limit; the host still forks. */
	if (rlimits_only() && o.r->limit == AIMS_LIMIT_NONE) {
		if (!strstr(o.errout, "fork: retry: Resource temporarily unavailable")) {
			outcome_dump(&o);
			fail_msg("a fork bomb was not stopped by RLIMIT_NPROC");
		}
	} else {
		if (o.r->limit != AIMS_LIMIT_PIDS && o.r->limit != AIMS_LIMIT_WALL_TIME) {
			outcome_dump(&o);
			fail_msg("a fork bomb was not reported");
		}
		assert_non_null(o.r->error);
		assert_false(o.r->success);
	}
	assert_true(o.r->duration_ms < 8000);
	outcome_free(&o);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_pool_empty();
}

static void fork_bomb_python(void **state)
{
	run_opts opts = {.timeout_ms = 3000};
	outcome o;

	(void)state;
	require_sandbox();
	run_ok(&o, AIMS_LANG_PYTHON,
	       "import os, time\n"
	       "n = 0\n"
	       "try:\n"
	       "    while True:\n"
	       "        if os.fork() == 0:\n"
	       "            time.sleep(100)\n"
	       "            os._exit(0)\n"
	       "        n += 1\n"
	       "except OSError as e:\n"
	       "    print('BLOCKED after', n, e.errno)\n",
	       &opts);
	assert_blocked(&o);
	if (!rlimits_only()) {
		assert_int_equal(o.r->limit, AIMS_LIMIT_PIDS);
		assert_non_null(strstr(o.r->error, "process limit"));
	}
	assert_pool_empty(); /* no forked child is left in the run's cgroup */
	outcome_free(&o);
}

static void memory_bomb_python(void **state)
{
	run_opts opts = {.memory_mb = 64, .timeout_ms = 20000};
	outcome o;

	(void)state;
	require_sandbox();
	run_ok(&o, AIMS_LANG_PYTHON,
	       "chunks = []\n"
	       "while True:\n"
	       "    chunks.append(bytearray(16 << 20))\n"
	       "    print('ESCAPED' if len(chunks) > 64 else 'alloc', len(chunks), flush=True)\n",
	       &opts);
	if (rlimits_only() && o.r->limit == AIMS_LIMIT_NONE) {
		/* MemoryError (exit 1), or any other abnormal end. */
		if (o.r->exit_code == 0 && o.r->term_signal == 0) {
			outcome_dump(&o);
			fail_msg("memory bomb not stopped by RLIMIT_DATA");
		}
	} else {
		if (o.r->limit != AIMS_LIMIT_MEMORY) {
			outcome_dump(&o);
			fail_msg("memory bomb not reported as the memory limit");
		}
		assert_string_equal(o.r->error, "killed: memory limit of 64 MiB reached");
		assert_int_equal(o.r->exit_code, -1);
	}
	assert_null(strstr(o.out, "ESCAPED"));
	assert_false(o.r->success);
	outcome_free(&o);
}

static void memory_bomb_node(void **state)
{
	run_opts opts = {.memory_mb = 96, .timeout_ms = 20000};
	outcome o;

	(void)state;
	require_sandbox();
	run_ok(&o, AIMS_LANG_NODE,
	       "const a = [];\n"
	       "for (;;) { const b = Buffer.alloc(16 << 20, 1); a.push(b);\n"
	       "  if (a.length > 64) { console.log('ESCAPED'); break; } }\n",
	       &opts);
	if (rlimits_only() && o.r->limit == AIMS_LIMIT_NONE) {
		/* V8 fails in several ways when an allocation is refused (a
		 * RangeError, a fatal "allocation failed", std::bad_alloc and
		 * SIGABRT): any end but a normal one, without ESCAPED. */
		if (o.r->exit_code == 0 && o.r->term_signal == 0) {
			outcome_dump(&o);
			fail_msg("memory bomb not stopped by RLIMIT_DATA");
		}
	} else if (o.r->limit != AIMS_LIMIT_MEMORY) {
		outcome_dump(&o);
		fail_msg("memory bomb not reported as the memory limit");
	}
	assert_null(strstr(o.out, "ESCAPED"));
	assert_false(o.r->success);
	outcome_free(&o);
}

static void infinite_loop_is_killed(void **state)
{
	static const struct {
		aims_language lang;
		const char *code;
	} cases[] = {
		{AIMS_LANG_PYTHON, "print('start', flush=True)\nwhile True: pass"},
		{AIMS_LANG_NODE, "console.log('start'); for (;;) {}"},
		{AIMS_LANG_BASH, "echo start; while :; do :; done"},
	};
	run_opts opts = {.timeout_ms = 1000};

	(void)state;
	require_sandbox();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		outcome o;

		run_ok(&o, cases[i].lang, cases[i].code, &opts);
		assert_string_equal(o.out, "start\n"); /* output before the kill is kept */
		assert_true(o.r->timed_out);
		assert_int_equal(o.r->limit, AIMS_LIMIT_WALL_TIME);
		assert_string_equal(o.r->error, "killed: wall time limit of 1 s reached");
		assert_int_equal(o.r->exit_code, -1);
		assert_false(o.r->success);
		assert_true(o.r->duration_ms >= 1000 && o.r->duration_ms < 3000);
		outcome_free(&o);
	}
	assert_pool_empty();
}

static void output_flood_does_not_block(void **state)
{
	run_opts opts = {.timeout_ms = 2000};
	outcome o;

	(void)state;
	require_sandbox();
	/* Floods both streams forever: capped at 1 MiB each, the program is
	 * never blocked on a full pipe, and the wall time ends it. */
	run_ok(&o, AIMS_LANG_PYTHON,
	       "import sys\nwhile True:\n    sys.stdout.write('o' * 65536)\n"
	       "    sys.stderr.write('e' * 65536)\n",
	       &opts);
	assert_int_equal(o.r->stdout_len, AIMS_EXEC_DEFAULT_OUTPUT);
	assert_int_equal(o.r->stderr_len, AIMS_EXEC_DEFAULT_OUTPUT);
	assert_true(o.r->truncated);
	assert_true(o.r->timed_out);
	assert_int_equal(o.r->limit, AIMS_LIMIT_WALL_TIME);
	outcome_free(&o);
}

static void tmp_fill_hits_disk_limit(void **state)
{
	outcome o;

	(void)state;
	require_sandbox();
	run_ok(&o, AIMS_LANG_PYTHON,
	       "import os\n"
	       "n = 0\n"
	       "try:\n"
	       "    for i in range(1000):\n"
	       "        with open('/tmp/fill%d' % i, 'wb') as f:\n"
	       "            f.write(b'z' * (8 << 20))\n"
	       "        n += 8\n"
	       "    print('ESCAPED', n)\n"
	       "except OSError as e:\n"
	       "    print('BLOCKED at', n, 'MiB', e.errno)\n"
	       "    raise SystemExit(1)\n",
	       NULL);
	assert_blocked(&o);
	assert_int_equal(o.r->limit, AIMS_LIMIT_DISK);
	assert_non_null(strstr(o.r->error, "/tmp"));
	assert_int_equal(o.r->exit_code, 1);
	outcome_free(&o);
}

static void tmp_inode_exhaustion_hits_disk_limit(void **state)
{
	outcome o;

	(void)state;
	require_sandbox();
	run_ok(&o, AIMS_LANG_PYTHON,
	       "n = 0\n"
	       "try:\n"
	       "    for i in range(1000000):\n"
	       "        open('/tmp/i%d' % i, 'w').close()\n"
	       "        n += 1\n"
	       "    print('ESCAPED', n)\n"
	       "except OSError as e:\n"
	       "    print('BLOCKED at', n, e.errno)\n"
	       "    raise SystemExit(1)\n",
	       NULL);
	assert_blocked(&o);
	assert_int_equal(o.r->limit, AIMS_LIMIT_DISK);
	outcome_free(&o);
}

static void daemon_does_not_outlive_the_run(void **state)
{
	static const struct {
		aims_language lang;
		const char *code;
	} cases[] = {
		{AIMS_LANG_BASH, "(setsid sleep 4242 &) ; nohup sleep 4242 >/dev/null 2>&1 &\n"
				 "disown; echo BLOCKED started"},
		{AIMS_LANG_PYTHON, "import os, subprocess\n"
				   "if os.fork() == 0:\n"
				   "    os.setsid()\n"
				   "    if os.fork() == 0:\n"
				   "        os.execv('/bin/sleep', ['sleep', '4243'])\n"
				   "    os._exit(0)\n"
				   "subprocess.Popen(['sleep', '4243'], start_new_session=True)\n"
				   "print('BLOCKED started')"},
		{AIMS_LANG_NODE, "const cp = require('child_process');\n"
				 "cp.spawn('sleep', ['4244'], {detached: true, stdio: 'ignore'})"
				 ".unref();\nconsole.log('BLOCKED started')"},
	};

	(void)state;
	require_sandbox();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		outcome o;

		run_ok(&o, cases[i].lang, cases[i].code, NULL);
		assert_blocked(&o);
		assert_int_equal(o.r->exit_code, 0);
		assert_true(o.r->duration_ms < 5000);
		outcome_free(&o);
	}
	assert_int_equal(count_processes("sleep 4242"), 0);
	assert_int_equal(count_processes("sleep 4243"), 0);
	assert_int_equal(count_processes("sleep 4244"), 0);
	assert_pool_empty();
}

static void kill_all_spares_the_host(void **state)
{
	pid_t witness;
	int status;
	outcome o;

	(void)state;
	require_sandbox();
	witness = fork();
	assert_true(witness >= 0);
	if (witness == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		pause();
		_exit(0);
	}
	run_ok(&o, AIMS_LANG_BASH, "kill -9 -1; kill -9 1; echo BLOCKED still here", NULL);
	assert_blocked(&o);
	outcome_free(&o);
	run_ok(&o, AIMS_LANG_PYTHON,
	       "import os, signal\n"
	       "for pid in set(range(1, 40000)) - {os.getpid()}:\n"
	       "    try:\n"
	       "        os.kill(pid, signal.SIGKILL)\n"
	       "    except OSError:\n"
	       "        pass\n"
	       "print('BLOCKED still here')\n",
	       NULL);
	assert_blocked(&o);
	outcome_free(&o);
	/* The witness outside the sandbox is alive. */
	assert_int_equal(waitpid(witness, &status, WNOHANG), 0);
	assert_int_equal(kill(witness, 0), 0);
	kill(witness, SIGKILL);
	waitpid(witness, &status, 0);
}

static void ptrace_is_denied(void **state)
{
	(void)state;
	require_sandbox();
	/* PTRACE_TRACEME = 0, PTRACE_ATTACH = 16 on init (pid 1). */
	attack(AIMS_LANG_PYTHON,
	       PY_SYSCALL "check('ptrace-traceme', sc(101, 0, 0, 0, 0))\n"
			  "check('ptrace-attach', sc(101, 16, 1, 0, 0))\n"
			  "check('process_vm_readv', sc(310, 1, 0, 0, 0, 0, 0))\n",
	       NULL);
	attack(AIMS_LANG_BASH,
	       "if command -v gdb >/dev/null; then gdb -p 1 -batch && echo ESCAPED; fi\n"
	       "if (exec 3</proc/1/mem) 2>/dev/null; then echo ESCAPED mem; else echo BLOCKED mem; "
	       "fi",
	       NULL);
}

static void mount_is_denied(void **state)
{
	(void)state;
	require_sandbox();
	attack(AIMS_LANG_PYTHON,
	       PY_SYSCALL "r = libc.mount(b'none', b'/tmp', b'tmpfs', 0, None)\n"
			  "check('mount', (r, ctypes.get_errno()))\n"
			  "r = libc.umount2(b'/proc', 2)\n"
			  "check('umount', (r, ctypes.get_errno()))\n"
			  "check('pivot_root', sc(155, b'/tmp', b'/tmp'))\n"
			  "check('chroot', (libc.chroot(b'/tmp'), ctypes.get_errno()))\n",
	       NULL);
	attack(AIMS_LANG_BASH,
	       "if mount -t tmpfs none /tmp 2>/dev/null; then echo ESCAPED; else echo BLOCKED; fi\n"
	       "if mount --bind / /tmp 2>/dev/null; then echo ESCAPED; fi",
	       NULL);
}

static void namespaces_cannot_be_created(void **state)
{
	(void)state;
	require_sandbox();
	/* unshare(CLONE_NEWUSER), setns, clone(CLONE_NEWUSER|SIGCHLD). */
	attack(AIMS_LANG_PYTHON,
	       PY_SYSCALL "check('unshare-user', sc(272, 0x10000000))\n"
			  "check('unshare-net', sc(272, 0x40000000))\n"
			  "check('setns', sc(308, 0, 0))\n"
			  "r = sc(56, 0x10000000 | 17, 0, 0, 0, 0)\n"
			  "if r[0] == 0: os._exit(0)\n"
			  "check('clone-newuser', r)\n",
	       NULL);
	attack(AIMS_LANG_BASH,
	       "if unshare -U true 2>/dev/null; then echo ESCAPED; else echo BLOCKED unshare; fi\n"
	       "if unshare -r true 2>/dev/null; then echo ESCAPED; fi",
	       NULL);
}

static void keyrings_are_denied(void **state)
{
	(void)state;
	require_sandbox();
	/* keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING), add_key,
	 * request_key. */
	attack(AIMS_LANG_PYTHON,
	       PY_SYSCALL "check('keyctl', sc(250, 0, -3, 0))\n"
			  "check('add_key', sc(248, b'user', b'k', b'v', 1, -3))\n"
			  "check('request_key', sc(249, b'user', b'k', 0, 0))\n",
	       NULL);
}

static void io_uring_and_kernel_interfaces_are_denied(void **state)
{
	(void)state;
	require_sandbox();
	attack(AIMS_LANG_PYTHON,
	       PY_SYSCALL
	       "params = ctypes.create_string_buffer(120)\n"
	       "check('io_uring_setup', sc(425, 8, ctypes.addressof(params)))\n"
	       "attr = ctypes.create_string_buffer(128)\n"
	       "check('bpf', sc(321, 0, ctypes.addressof(attr), 128))\n"
	       "check('perf_event_open', sc(298, ctypes.addressof(attr), 0, -1, -1, 0))\n"
	       "check('userfaultfd', sc(323, 0))\n"
	       "check('kexec_load', sc(246, 0, 0, 0, 0))\n"
	       "check('init_module', sc(175, 0, 0, b''))\n"
	       "check('open_by_handle_at', sc(304, -100, 0, 0))\n"
	       "check('swapon', sc(167, b'/tmp/x', 0))\n"
	       "check('reboot', sc(169, 0xfee1dead, 672274793, 0x1234567, 0))\n"
	       "import fcntl, termios\n"
	       "try:\n"
	       "    fcntl.ioctl(0, termios.TIOCSTI, b'x'); print('ESCAPED tiocsti')\n"
	       "except OSError as e:\n"
	       "    print('BLOCKED tiocsti', e.errno)\n"
	       "    assert e.errno == 1, e\n",
	       NULL);
}

static void other_abi_kills_the_process(void **state)
{
	outcome o;

	(void)state;
	require_sandbox();
	/* getpid through the x32 ABI (syscall bit 30) would skip an
	 * x86_64-only filter: the filter kills instead. */
	run_ok(&o, AIMS_LANG_PYTHON, PY_SYSCALL "check('x32-getpid', sc(0x40000000 + 39))\n", NULL);
	assert_null(strstr(o.out, "ESCAPED"));
	assert_int_equal(o.r->exit_code, -1);
	assert_int_equal(o.r->term_signal, SIGSYS);
	assert_false(o.r->success);
	outcome_free(&o);
}

static void setuid_binaries_give_nothing(void **state)
{
	(void)state;
	require_sandbox();
	attack(AIMS_LANG_BASH,
	       "for b in su mount umount passwd chsh chfn newgrp gpasswd sudo; do\n"
	       "  p=$(command -v $b) || continue\n"
	       "  out=$(echo | $p -c id root 2>&1; $p 2>&1 </dev/null)\n"
	       "  case \"$out\" in *uid=0*) echo ESCAPED $b;; *) echo BLOCKED $b;; esac\n"
	       "done\n"
	       "grep -q '^NoNewPrivs:.1' /proc/self/status && echo BLOCKED nnp || echo ESCAPED "
	       "nnp\n"
	       "grep -q '^CapEff:.0000000000000000' /proc/self/status && echo BLOCKED caps "
	       "|| echo ESCAPED caps\n"
	       "grep -q '^Seccomp:.2' /proc/self/status && echo BLOCKED seccomp "
	       "|| echo ESCAPED seccomp\n"
	       "[ \"$(id -u)\" = 1000 ] && echo BLOCKED uid || echo ESCAPED uid\n",
	       NULL);
}

int main(void)
{
	const char *filter = getenv("AIMS_TEST_FILTER");

	const struct CMUnitTest tests[] = {
		cmocka_unit_test(network_python_connect_host_loopback),
		cmocka_unit_test(network_node_connect_host_loopback),
		cmocka_unit_test(network_bash_dev_tcp),
		cmocka_unit_test(network_abstract_unix_socket),
		cmocka_unit_test(network_dns_and_interfaces),
		cmocka_unit_test(files_python_checkout_and_home),
		cmocka_unit_test(files_node_etc_shadow),
		cmocka_unit_test(files_bash_only_system_dirs),
		cmocka_unit_test(host_mounts_are_detached),
		cmocka_unit_test(secrets_parent_proc_environ),
		cmocka_unit_test(non_root_caller_keeps_its_secrets),
		cmocka_unit_test(secrets_env_not_inherited),
		cmocka_unit_test(writes_bash_system_dirs),
		cmocka_unit_test(writes_python_outside_workdir),
		cmocka_unit_test(fork_bomb_bash),
		cmocka_unit_test(fork_bomb_python),
		cmocka_unit_test(memory_bomb_python),
		cmocka_unit_test(memory_bomb_node),
		cmocka_unit_test(infinite_loop_is_killed),
		cmocka_unit_test(output_flood_does_not_block),
		cmocka_unit_test(tmp_fill_hits_disk_limit),
		cmocka_unit_test(tmp_inode_exhaustion_hits_disk_limit),
		cmocka_unit_test(daemon_does_not_outlive_the_run),
		cmocka_unit_test(kill_all_spares_the_host),
		cmocka_unit_test(ptrace_is_denied),
		cmocka_unit_test(mount_is_denied),
		cmocka_unit_test(namespaces_cannot_be_created),
		cmocka_unit_test(keyrings_are_denied),
		cmocka_unit_test(io_uring_and_kernel_interfaces_are_denied),
		cmocka_unit_test(other_abi_kills_the_process),
		cmocka_unit_test(setuid_binaries_give_nothing),
	};
	int failed;

	if (filter)
		cmocka_set_test_filter(filter);
	failed = cmocka_run_group_tests(tests, NULL, NULL);

	aims_sandbox_shutdown();
	return failed;
}

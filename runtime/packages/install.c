/*
 * install.c - the install step: the package manager runs in a sandbox of
 * its own (aims_sandbox_run with the same isolation as code) that differs
 * in three declared ways: the layer is writable, the machine's
 * configuration files of that package manager (and a local index, if one
 * is set) are mounted read-only, and the host's network is kept only when
 * a registry must be reached. Names reach the installer as argv entries
 * after "--", never through a shell. When the network is kept, install
 * scripts are turned off (npm --ignore-scripts, pip wheels only): what
 * runs is the package manager, not code from the registry.
 *
 * python: pip install --target LAYER; node: npm install --prefix LAYER;
 * bash: apt-get download (or the files of AIMS_DEB_DIR), then dpkg-deb -x
 * of each into the layer. Nothing is installed on the host.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aims/sandbox.h"
#include "packages_int.h"

#define INSTALL_MEMORY	 (1024ull << 20)
#define INSTALL_PIDS	 256u
#define INSTALL_TMPFS	 (1024ull << 20)
#define INSTALL_FILESIZE (1024ull << 20)
#define INSTALL_OUTPUT	 (256u << 10)
#define TAIL_LINES	 2
#define TAIL_LINE_MAX	 160
#define MAX_DEBS	 AIMS_EXEC_MAX_PACKAGES

uint32_t packages_install_timeout(void)
{
	const char *v = getenv("AIMS_INSTALL_TIMEOUT_MS");
	char *end;
	unsigned long ms;

	if (!v || !*v)
		return AIMS_PACKAGES_DEFAULT_INSTALL_MS;
	errno = 0;
	ms = strtoul(v, &end, 10);
	if (errno || *end || ms == 0)
		return AIMS_PACKAGES_DEFAULT_INSTALL_MS;
	return ms > AIMS_SANDBOX_MAX_WALL_MS ? AIMS_SANDBOX_MAX_WALL_MS : (uint32_t)ms;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* npm's pointer to its debug log ("A complete log of this run can be
 * found in:", the path on that line or the next): a file in the install
 * sandbox's /tmp, gone with it, and no cause. */
static bool npm_log_pointer(const char *line, size_t len)
{
	static const char *const marks[] = {"A complete log of this run can be found in", "/_logs/",
					    NULL};

	for (size_t i = 0; marks[i]; i++)
		if (memmem(line, len, marks[i], strlen(marks[i])))
			return true;
	return false;
}

/* The last non-empty lines of the installer's output (stderr, else
 * stdout), each cut to TAIL_LINE_MAX, joined with " | " into out; npm's
 * (lang node) without its log pointer. */
static void tail(char *out, size_t size, const aims_exec_result *r, aims_language lang)
{
	const char *text = r->stderr_len ? r->stderr_data : r->stdout_data;
	size_t end = r->stderr_len ? r->stderr_len : r->stdout_len;
	size_t starts[TAIL_LINES], ends[TAIL_LINES], lines = 0, n = 0;

	while (end > 0 && lines < TAIL_LINES) {
		size_t e = end, s;

		while (e > 0 && (text[e - 1] == '\n' || text[e - 1] == '\r' || text[e - 1] == ' '))
			e--;
		if (e == 0)
			break;
		for (s = e; s > 0 && text[s - 1] != '\n'; s--)
			;
		end = s;
		if (lang == AIMS_LANG_NODE && npm_log_pointer(text + s, e - s))
			continue;
		starts[lines] = s;
		ends[lines++] = e;
	}
	out[0] = '\0';
	for (size_t i = lines; i-- > 0 && n + 1 < size;) {
		size_t len = ends[i] - starts[i];

		n += (size_t)snprintf(out + n, size - n, "%s%.*s", n ? " | " : "",
				      (int)(len > TAIL_LINE_MAX ? TAIL_LINE_MAX : len),
				      text + starts[i]);
	}
	if (n >= size)
		n = size - 1;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			out[i] = ' ';
	if (!n)
		snprintf(out, size, "(no output)");
}

/* Whether an installer's argv, n entries so far, has room for "--", the
 * plan's packages and the NULL (the plan holds AIMS_EXEC_MAX_PACKAGES at
 * most: this holds the options to the room left beside them). */
static bool argv_room(size_t n, const packages_plan *plan, aims_error *err)
{
	if (n + 1 + plan->count <= AIMS_SANDBOX_MAX_ARGS)
		return true;
	aims_error_set(err, AIMS_ETOOBIG, "too many packages for one install (%zu)", plan->count);
	return false;
}

static bool contains_any(const char *text, const char *const *needles)
{
	for (size_t i = 0; needles[i]; i++)
		if (strcasestr(text, needles[i]))
			return true;
	return false;
}

/* The bare name of a normalized package (without version or extras). */
static void bare_name(char *out, size_t size, const char *name)
{
	size_t n = 0;

	/* npm scopes start with '@': the version '@' comes later. */
	for (size_t i = 0; name[i] && n + 1 < size; i++) {
		if (i > 0 && strchr("@[<>=!~ ", name[i]))
			break;
		if (i == 0 && name[i] != '@' && strchr("[<>=!~ ", name[i]))
			break;
		out[n++] = name[i];
	}
	out[n] = '\0';
}

/* Turns a failed installer run into an error naming the package(s) and
 * why, with the installer's last lines. */
static int install_failed(const packages_plan *plan, const aims_exec_result *r, const char *tool,
			  uint32_t timeout_ms, aims_error *err)
{
	static const char *const unreachable[] = {"Failed to establish a new connection",
						  "NewConnectionError",
						  "Temporary failure in name resolution",
						  "Network is unreachable",
						  "Connection refused",
						  "ECONNREFUSED",
						  "ENOTFOUND",
						  "EAI_AGAIN",
						  "ENETUNREACH",
						  "ETIMEDOUT",
						  "Could not resolve",
						  "Failed to fetch",
						  "Could not connect",
						  NULL};
	static const char *const not_found[] = {"No matching distribution found",
						"Could not find a version",
						"E404",
						"404 Not Found",
						"is not in this registry",
						"Unable to locate package",
						"Can't select candidate version",
						"has no installation candidate",
						"No such file",
						NULL};
	char last[2 * TAIL_LINE_MAX + 16], which[160] = "", bare[128];
	size_t n = 0;
	const char *out = r->stderr_len ? r->stderr_data : r->stdout_data;

	tail(last, sizeof(last), r, plan->lang);
	/* The packages the installer's output names, else all of them. */
	for (int pass = 0; pass < 2 && !n; pass++)
		for (size_t i = 0; i < plan->count; i++) {
			bare_name(bare, sizeof(bare), plan->names[i]);
			if (pass == 0 && !(*bare && (strcasestr(r->stderr_data, bare) ||
						     strcasestr(r->stdout_data, bare))))
				continue;
			n += (size_t)snprintf(which + n, sizeof(which) - n, "%s'%s'", n ? ", " : "",
					      plan->names[i]);
			if (n >= sizeof(which)) {
				snprintf(which, sizeof(which), "%zu %s packages", plan->count,
					 aims_language_name(plan->lang));
				break;
			}
		}
	if (r->timed_out)
		return aims_error_set(
			err, AIMS_ETIMEOUT,
			"installing %s timed out after %u ms (%s was still running): %s", which,
			timeout_ms, tool, last);
	if (r->limit != AIMS_LIMIT_NONE && r->error)
		return aims_error_set(err, AIMS_EINSTALL, "installing %s failed: %s: %s", which,
				      r->error, last);
	/* An unreachable index also reads as "no version found": first. */
	if (contains_any(out, unreachable))
		return aims_error_set(err, AIMS_EUPSTREAM,
				      "installing %s failed: the package registry is unreachable "
				      "(%s exit %d): %s",
				      which, tool, r->exit_code, last);
	if (contains_any(out, not_found))
		return aims_error_set(
			err, AIMS_EINSTALL,
			"installing %s failed: unknown package or version (%s exit %d): %s", which,
			tool, r->exit_code, last);
	return aims_error_set(err, AIMS_EINSTALL, "installing %s failed (%s exit %d): %s", which,
			      tool, r->exit_code, last);
}

/* The configuration of the install sandbox around one installer run. */
typedef struct install_box {
	aims_sandbox_bind binds[AIMS_SANDBOX_MAX_BINDS];
	size_t bind_count;
	bool network;
	const char *layer;
	const char *start_dir;
	uint64_t deadline;
	int cancel_fd;
} install_box;

static void box_bind(install_box *box, const char *host, const char *inside)
{
	struct stat st;

	if (box->bind_count < AIMS_SANDBOX_MAX_BINDS && stat(host, &st) == 0)
		box->binds[box->bind_count++] = (aims_sandbox_bind){host, inside ? inside : host};
}

/* Runs argv in the install sandbox. *out is the result (the caller looks
 * at the exit), or the call fails as aims_sandbox_run does. */
static int box_run(aims_exec_result **out, const install_box *box, const char *const *argv,
		   const char *const *env, aims_error *err)
{
	aims_sandbox_config cfg;
	uint64_t now = now_ms();

	if (now + 50 >= box->deadline)
		return aims_error_set(err, AIMS_ETIMEOUT,
				      "installing packages ran out of time before %s", argv[0]);
	aims_sandbox_config_init(&cfg);
	cfg.program = argv[0];
	cfg.argv = argv;
	cfg.env = env;
	cfg.layer_dir = box->layer;
	cfg.layer_writable = true;
	cfg.share_network = box->network;
	cfg.binds = box->binds;
	cfg.bind_count = box->bind_count;
	cfg.start_dir = box->start_dir;
	cfg.wall_ms = (uint32_t)(box->deadline - now);
	cfg.memory_bytes = INSTALL_MEMORY;
	cfg.pids = INSTALL_PIDS;
	cfg.tmpfs_bytes = INSTALL_TMPFS;
	cfg.file_size = INSTALL_FILESIZE;
	cfg.output_max = INSTALL_OUTPUT;
	cfg.cancel_fd = box->cancel_fd;
	return aims_sandbox_run(out, &cfg, err);
}

/* Local index: the file in dir for a package: "<prefix><version>.<ext>",
 * the highest version when several match. Returns 0 and the file name in
 * out, or AIMS_EINSTALL naming the package. */
static int find_local(char *out, size_t size, const char *dir, const char *prefix,
		      const char *exact, const char *ext, const char *package, aims_error *err)
{
	struct dirent **list = NULL;
	int n = scandir(dir, &list, NULL, versionsort);
	size_t plen = strlen(prefix), elen = strlen(ext);
	bool found = false;

	if (n < 0)
		return aims_error_set(err, AIMS_EIO, "cannot read the local package index %s: %s",
				      dir, strerror(errno));
	for (int i = 0; i < n; i++) {
		const char *name = list[i]->d_name;
		size_t len = strlen(name);

		if (len > plen + elen && strncmp(name, prefix, plen) == 0 &&
		    strcmp(name + len - elen, ext) == 0 &&
		    ((exact && strncmp(name + plen, exact, strlen(exact)) == 0 &&
		      (name[plen + strlen(exact)] == '.' || name[plen + strlen(exact)] == '_')) ||
		     (!exact && name[plen] >= '0' && name[plen] <= '9')) &&
		    len < size) {
			memcpy(out, name, len + 1); /* versionsort: the last is the highest */
			found = true;
		}
		free(list[i]);
	}
	free(list);
	if (!found)
		return aims_error_set(err, AIMS_EINSTALL,
				      "package '%s' not found in the local index %s (no %s%s*%s)",
				      package, dir, prefix, exact ? exact : "", ext);
	return 0;
}

static int install_python(aims_exec_result **out, const packages_plan *plan, install_box *box,
			  aims_error *err)
{
	const char *argv[AIMS_SANDBOX_MAX_ARGS + 1];
	static const char *const env[] = {
		"PATH=/usr/bin:/bin",	     "HOME=/tmp",      "TMPDIR=/tmp", "LANG=C.UTF-8",
		"PYTHONDONTWRITEBYTECODE=1", "PIP_NO_COLOR=1", NULL};
	size_t n = 0;

	argv[n++] = "/usr/bin/python3";
	argv[n++] = "-m";
	argv[n++] = "pip";
	argv[n++] = "install";
	argv[n++] = "--target";
	argv[n++] = AIMS_PACKAGES_LAYER_PATH;
	argv[n++] = "--no-cache-dir";
	argv[n++] = "--disable-pip-version-check";
	argv[n++] = "--no-input";
	argv[n++] = "--no-warn-script-location";
	argv[n++] = "--progress-bar=off";
	argv[n++] = "--retries=2"; /* an unreachable index fails in seconds */
	switch (plan->source) {
	case SOURCE_DIR:
		argv[n++] = "--isolated";
		argv[n++] = "--no-index";
		argv[n++] = "--find-links";
		argv[n++] = AIMS_PACKAGES_SOURCE_PATH;
		box_bind(box, plan->source_value, AIMS_PACKAGES_SOURCE_PATH);
		break;
	case SOURCE_URL:
		argv[n++] = "--isolated";
		argv[n++] = "--index-url";
		argv[n++] = plan->source_value;
		box->network = true;
		break;
	case SOURCE_MACHINE:
		for (size_t i = 0; packages_pip_config[i]; i++)
			box_bind(box, packages_pip_config[i], NULL);
		box->network = true;
		break;
	}
	if (box->network) {
		argv[n++] = "--only-binary=:all:"; /* no setup.py runs */
		box_bind(box, "/etc/resolv.conf", NULL);
	}
	if (!argv_room(n, plan, err))
		return AIMS_ETOOBIG;
	argv[n++] = "--";
	for (size_t i = 0; i < plan->count; i++)
		argv[n++] = plan->names[i];
	argv[n] = NULL;
	return box_run(out, box, argv, env, err);
}

static int install_node(aims_exec_result **out, const packages_plan *plan, install_box *box,
			aims_error *err)
{
	const char *argv[AIMS_SANDBOX_MAX_ARGS + 1];
	static const char *const env[] = {"PATH=/usr/bin:/bin",
					  "HOME=/tmp",
					  "TMPDIR=/tmp",
					  "LANG=C.UTF-8",
					  "NO_UPDATE_NOTIFIER=1",
					  "npm_config_update_notifier=false",
					  NULL};
	char(*files)[PATH_MAX] = NULL;
	size_t n = 0;
	int rc = 0;

	if (access("/usr/bin/npm", X_OK) < 0)
		return aims_error_set(err, AIMS_EUNSUPPORTED,
				      "npm is not installed (/usr/bin/npm): cannot install node "
				      "packages");
	argv[n++] = "/usr/bin/npm";
	argv[n++] = "install";
	argv[n++] = "--prefix";
	argv[n++] = AIMS_PACKAGES_LAYER_PATH;
	argv[n++] = "--cache";
	argv[n++] = "/tmp/npm-cache";
	argv[n++] = "--no-audit";
	argv[n++] = "--no-fund";
	argv[n++] = "--loglevel=warn";
	/* A package may name a git repository or a tarball URL as a
	 * dependency: refused by the npm releases that know these settings
	 * (late npm 11; npm 12 refuses by default). Older npm warns of an
	 * unknown setting and fetches them (docs/packages.md). */
	argv[n++] = "--allow-git=none";
	argv[n++] = "--allow-remote=none";
	switch (plan->source) {
	case SOURCE_DIR:
		argv[n++] = "--offline";
		box_bind(box, plan->source_value, AIMS_PACKAGES_SOURCE_PATH);
		if (!(files = calloc(plan->count, sizeof(*files))))
			return aims_error_set(err, AIMS_ENOMEM, "out of memory");
		break;
	case SOURCE_URL:
		argv[n++] = "--registry";
		argv[n++] = plan->source_value;
		box->network = true;
		break;
	case SOURCE_MACHINE:
		for (size_t i = 0; packages_npm_config[i]; i++)
			box_bind(box, packages_npm_config[i], NULL);
		box->network = true;
		break;
	}
	if (box->network) {
		argv[n++] = "--ignore-scripts"; /* no code from the registry runs */
		box_bind(box, "/etc/resolv.conf", NULL);
	}
	if (!argv_room(n, plan, err)) {
		rc = AIMS_ETOOBIG;
		goto out;
	}
	argv[n++] = "--";
	for (size_t i = 0; i < plan->count; i++) {
		char prefix[260], bare[256], file[NAME_MAX + 1];
		const char *version = NULL;
		const char *at = strchr(plan->names[i] + 1, '@');

		if (!files) {
			argv[n++] = plan->names[i];
			continue;
		}
		/* npm pack names "@scope/name" scope-name-VERSION.tgz. */
		bare_name(bare, sizeof(bare), plan->names[i]);
		snprintf(prefix, sizeof(prefix), "%s-", bare[0] == '@' ? bare + 1 : bare);
		for (char *p = prefix; *p; p++)
			if (*p == '/')
				*p = '-';
		if (at && at[1] >= '0' && at[1] <= '9')
			version = at + 1; /* an exact version; ranges take the highest */
		if ((rc = find_local(file, sizeof(file), plan->source_value, prefix, version,
				     ".tgz", plan->names[i], err)) < 0)
			goto out;
		snprintf(files[i], PATH_MAX, AIMS_PACKAGES_SOURCE_PATH "/%s", file);
		argv[n++] = files[i];
	}
	argv[n] = NULL;
	rc = box_run(out, box, argv, env, err);
out:
	free(files);
	return rc;
}

/* bash: the .deb files to unpack, as names in debs_dir (the host
 * directory the second step mounts as the source). */
static int download_debs(char names[][NAME_MAX + 1], size_t *count, const packages_plan *plan,
			 install_box *box, const char *scratch, aims_error *err)
{
	const char *argv[AIMS_SANDBOX_MAX_ARGS + 1];
	static const char *const env[] = {"PATH=/usr/bin:/bin", "HOME=/tmp", "TMPDIR=/tmp",
					  "LANG=C.UTF-8", NULL};
	aims_exec_result *r = NULL;
	struct dirent **list = NULL;
	char from[PATH_MAX], to[PATH_MAX];
	size_t n = 0;
	int rc, entries;

	*count = 0;
	if (plan->source == SOURCE_DIR) {
		for (size_t i = 0; i < plan->count; i++) {
			char bare[256], prefix[260];
			const char *eq = strchr(plan->names[i], '=');

			bare_name(bare, sizeof(bare), plan->names[i]);
			snprintf(prefix, sizeof(prefix), "%s_", bare);
			if ((rc = find_local(names[i], NAME_MAX + 1, plan->source_value, prefix,
					     eq ? eq + 1 : NULL, ".deb", plan->names[i], err)) < 0)
				return rc;
		}
		*count = plan->count;
		return 0;
	}
	if (access("/usr/bin/apt-get", X_OK) < 0)
		return aims_error_set(err, AIMS_EUNSUPPORTED,
				      "apt-get is not installed: cannot download Debian packages");
	/* apt reads the machine's sources and lists, never writes them: its
	 * caches go to /tmp, the files to the layer, moved out below. */
	argv[n++] = "/usr/bin/apt-get";
	argv[n++] = "download";
	argv[n++] = "-q";
	argv[n++] = "-o";
	argv[n++] = "Dir::Cache=/tmp/apt-cache";
	argv[n++] = "-o";
	argv[n++] = "Dir::Cache::pkgcache=";
	argv[n++] = "-o";
	argv[n++] = "Dir::Cache::srcpkgcache=";
	argv[n++] = "-o";
	argv[n++] = "Debug::NoLocking=1";
	/* Exact names only: without it, apt reads a name that matches no
	 * package ("lib.+") as a regular expression and downloads hundreds. */
	argv[n++] = "-o";
	argv[n++] = "APT::Cmd::Pattern-Only=true";
	if (!argv_room(n, plan, err))
		return AIMS_ETOOBIG;
	argv[n++] = "--";
	for (size_t i = 0; i < plan->count; i++)
		argv[n++] = plan->names[i];
	argv[n] = NULL;
	for (size_t i = 0; packages_apt_config[i]; i++)
		box_bind(box, packages_apt_config[i], NULL);
	box_bind(box, "/etc/resolv.conf", NULL);
	box->network = true;
	box->start_dir = AIMS_PACKAGES_LAYER_PATH;
	rc = box_run(&r, box, argv, env, err);
	box->start_dir = NULL;
	box->network = false;
	box->bind_count = 0;
	if (rc < 0)
		return rc;
	if (!r->success) {
		rc = install_failed(plan, r, "apt-get download", packages_install_timeout(), err);
		aims_exec_result_free(r);
		return rc;
	}
	aims_exec_result_free(r);
	/* Move the downloaded files out of the layer into scratch. */
	entries = scandir(box->layer, &list, NULL, alphasort);
	for (int i = 0; i < entries; i++) {
		const char *name = list[i]->d_name;
		size_t len = strlen(name);

		if (len > 4 && strcmp(name + len - 4, ".deb") == 0 && *count < MAX_DEBS &&
		    (size_t)snprintf(from, sizeof(from), "%s/%s", box->layer, name) <
			    sizeof(from) &&
		    (size_t)snprintf(to, sizeof(to), "%s/%s", scratch, name) < sizeof(to) &&
		    rename(from, to) == 0)
			memcpy(names[(*count)++], name, len + 1);
		free(list[i]);
	}
	free(list);
	if (*count == 0)
		return aims_error_set(err, AIMS_EINSTALL,
				      "apt-get download reported success but left no .deb file");
	return 0;
}

static int install_bash(aims_exec_result **out, const packages_plan *plan, install_box *box,
			const char *scratch, aims_error *err)
{
	char(*debs)[NAME_MAX + 1] = calloc(MAX_DEBS, sizeof(*debs));
	static const char *const env[] = {"PATH=/usr/bin:/bin", "HOME=/tmp", "TMPDIR=/tmp",
					  "LANG=C.UTF-8", NULL};
	char path[PATH_MAX];
	size_t count = 0;
	int rc = 0;

	*out = NULL;
	if (!debs)
		return aims_error_set(err, AIMS_ENOMEM, "out of memory");
	if ((rc = download_debs(debs, &count, plan, box, scratch, err)) < 0)
		goto out;
	box->bind_count = 0;
	box_bind(box, plan->source == SOURCE_DIR ? plan->source_value : scratch,
		 AIMS_PACKAGES_SOURCE_PATH);
	/* dpkg-deb -x unpacks the files only: no maintainer script runs. */
	for (size_t i = 0; i < count; i++) {
		const char *argv[] = {"/usr/bin/dpkg-deb", "-x", path, AIMS_PACKAGES_LAYER_PATH,
				      NULL};

		snprintf(path, sizeof(path), AIMS_PACKAGES_SOURCE_PATH "/%s", debs[i]);
		aims_exec_result_free(*out);
		*out = NULL;
		if ((rc = box_run(out, box, argv, env, err)) < 0 || !(*out)->success)
			goto out;
	}
out:
	free(debs);
	return rc;
}

/* A multiarch triplet like x86_64-linux-gnu. A package chooses the names
 * in its tree: one with a newline would add a line to the layer's meta,
 * one with a colon an entry to the path. */
static bool multiarch_name(const char *name)
{
	if (!strstr(name, "-linux-"))
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.'))
			return false;
	return true;
}

/* The library directories of an unpacked Debian tree (multiarch ones
 * included) that exist in the layer, as an LD_LIBRARY_PATH value. */
static void library_path(char *out, size_t size, const char *layer)
{
	static const char *const parents[] = {"usr/lib", "lib", "usr/local/lib"};
	char dir[PATH_MAX];
	size_t n = 0;

	out[0] = '\0';
	for (size_t p = 0; p < sizeof(parents) / sizeof(parents[0]); p++) {
		struct dirent **list = NULL;
		int entries;

		snprintf(dir, sizeof(dir), "%s/%s", layer, parents[p]);
		if ((entries = scandir(dir, &list, NULL, alphasort)) < 0)
			continue;
		for (int i = 0; i < entries; i++) {
			if (multiarch_name(list[i]->d_name) && n + 2 < size)
				n += (size_t)snprintf(out + n, size - n,
						      "%s" AIMS_PACKAGES_LAYER_PATH "/%s/%s",
						      n ? ":" : "", parents[p], list[i]->d_name);
			free(list[i]);
		}
		free(list);
		if (n + 2 < size)
			n += (size_t)snprintf(out + n, size - n,
					      "%s" AIMS_PACKAGES_LAYER_PATH "/%s", n ? ":" : "",
					      parents[p]);
		if (n >= size)
			n = size - 1;
	}
}

int packages_install(char **env_out, const packages_plan *plan, const char *layer,
		     const char *scratch, uint32_t timeout_ms, int cancel_fd, aims_error *err)
{
	static const char *const tools[] = {[AIMS_LANG_PYTHON] = "pip",
					    [AIMS_LANG_NODE] = "npm",
					    [AIMS_LANG_BASH] = "dpkg-deb"};
	install_box box;
	aims_exec_result *r = NULL;
	aims_buf env;
	char libs[1024];
	int rc = 0;

	memset(&box, 0, sizeof(box));
	box.layer = layer;
	box.deadline = now_ms() + timeout_ms;
	box.cancel_fd = cancel_fd;
	aims_buf_init(&env, 8192);
	switch (plan->lang) {
	case AIMS_LANG_PYTHON: rc = install_python(&r, plan, &box, err); break;
	case AIMS_LANG_NODE: rc = install_node(&r, plan, &box, err); break;
	case AIMS_LANG_BASH: rc = install_bash(&r, plan, &box, scratch, err); break;
	}
	if (rc < 0)
		goto out;
	if (r && !r->success) {
		rc = install_failed(plan, r, tools[plan->lang], timeout_ms, err);
		goto out;
	}
	switch (plan->lang) {
	case AIMS_LANG_PYTHON:
		rc = aims_buf_puts(&env, "PYTHONPATH=" AIMS_PACKAGES_LAYER_PATH "\n");
		break;
	case AIMS_LANG_NODE:
		rc = aims_buf_puts(&env, "NODE_PATH=" AIMS_PACKAGES_LAYER_PATH "/node_modules\n");
		break;
	case AIMS_LANG_BASH:
		library_path(libs, sizeof(libs), layer);
		rc = aims_buf_puts(&env, "PATH=" AIMS_PACKAGES_LAYER_PATH
					 "/usr/local/bin:" AIMS_PACKAGES_LAYER_PATH
					 "/usr/bin:" AIMS_PACKAGES_LAYER_PATH
					 "/bin:/usr/local/bin:/usr/bin:/bin\n");
		/* An empty entry would mean the current directory. */
		if (rc == 0 && libs[0])
			rc = aims_buf_printf(&env, "LD_LIBRARY_PATH=%s\n", libs);
		break;
	}
	if (rc < 0) {
		rc = aims_error_set(err, AIMS_ENOMEM, "out of memory");
		goto out;
	}
	if (!(*env_out = aims_buf_detach(&env)))
		rc = aims_error_set(err, AIMS_ENOMEM, "out of memory");
out:
	aims_exec_result_free(r);
	aims_buf_free(&env);
	return rc;
}

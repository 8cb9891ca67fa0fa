/*
 * cache.c - the layer cache: where layers live, how one is found or built
 * exactly once, held while an execution uses it, listed and evicted.
 *
 *   <cache>/layers/<key>/meta    language, packages, size, environment
 *   <cache>/layers/<key>/layer/  mounted read-only at /opt/aims/layer
 *   <cache>/locks/<key>.use      shared by every user of the layer; an
 *                                eviction needs it exclusively
 *   <cache>/locks/<key>.build    exclusive while the layer is built
 *   <cache>/tmp/                 layers being built or removed
 *
 * A layer is built in tmp/ and renamed into layers/ in one step, so a
 * layer that exists is complete. The meta file's modification time is the
 * last use (touched at each acquire) and orders eviction.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aims/sandbox.h"
#include "core/array.h"
#include "packages_int.h"

#define META_MAX       (64u << 10)
#define LOCK_POLL_MS   20
#define WAIT_EXTRA_MS  30000u	 /* beyond the install limit, for a waiter */
#define STALE_TMP_S    (30 * 60) /* leftovers of interrupted installs */
#define HOST_NOBODY    65534u	 /* the sandbox user when the caller is root */
#define WALK_DEPTH_MAX 256

struct aims_packages_layer {
	int use_fd;
	char dir[PATH_MAX];
	char key[AIMS_PACKAGES_KEY_LEN + 1];
	bool installed;
	uint64_t install_ms;
	char *meta; /* the meta file's text; env points into it */
	const char *env[AIMS_PACKAGES_MAX_ENV + 1];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- paths ---- */

int aims_packages_cache_dir(char **out, aims_error *err)
{
	const char *dir = getenv("AIMS_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	char path[PATH_MAX];
	int n;

	if (dir && *dir) {
		if (dir[0] != '/')
			return aims_error_set(err, AIMS_ENOTREADY,
					      "AIMS_CACHE_DIR must be an absolute path");
		n = snprintf(path, sizeof(path), "%s", dir);
	} else if (xdg && xdg[0] == '/') {
		n = snprintf(path, sizeof(path), "%s/aims", xdg);
	} else if (geteuid() == 0) {
		/* root's home is closed to the sandbox user (host nobody),
		 * who must traverse the path to mount a layer */
		n = snprintf(path, sizeof(path), "/var/cache/aims");
	} else if (home && home[0] == '/') {
		n = snprintf(path, sizeof(path), "%s/.cache/aims", home);
	} else {
		return aims_error_set(
			err, AIMS_EIO,
			"no cache directory: set AIMS_CACHE_DIR, XDG_CACHE_HOME or HOME");
	}
	if (n < 0 || (size_t)n >= sizeof(path) - 128)
		return aims_error_set(err, AIMS_ENOTREADY, "the cache directory path is too long");
	if (!(*out = strdup(path)))
		return aims_error_set(err, AIMS_ENOMEM, "out of memory");
	return 0;
}

/* mkdir -p with mode 0755. */
static int make_dirs(const char *path, aims_error *err)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len >= sizeof(buf))
		return aims_error_set(err, AIMS_EINVALID, "path too long: %s", path);
	memcpy(buf, path, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return aims_error_set(err, AIMS_EIO, "cannot create %s: %s", buf,
					      strerror(errno));
		buf[i] = i == len ? '\0' : '/';
	}
	return 0;
}

/* When the caller is root, the sandbox user is host nobody: every
 * directory down to a layer must let others through. */
static int check_traversable(const char *path, aims_error *err)
{
	char buf[PATH_MAX];
	struct stat st;
	size_t len = strlen(path);

	if (geteuid() != 0 || len >= sizeof(buf))
		return 0;
	for (size_t i = 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		memcpy(buf, path, i);
		buf[i] = '\0';
		if (stat(buf, &st) == 0 && !(st.st_mode & S_IXOTH))
			return aims_error_set(err, AIMS_EIO,
					      "the cache directory %s is not reachable by the "
					      "sandbox user: %s is not traversable by others "
					      "(chmod o+x, or set AIMS_CACHE_DIR)",
					      path, buf);
	}
	return 0;
}

static int open_cache(char **out, aims_error *err)
{
	static const char *const subdirs[] = {"layers", "locks", "tmp"};
	char path[PATH_MAX];
	struct stat st;
	char *dir = NULL;
	int rc;

	if ((rc = aims_packages_cache_dir(&dir, err)) < 0)
		return rc;
	for (size_t i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, subdirs[i]);
		if ((rc = make_dirs(path, err)) < 0)
			goto out;
	}
	/* tmp/ holds layers being built, writable by the sandbox user (host
	 * nobody when the caller is root): others may pass through to the
	 * random name they are given, not list it, so no other process of
	 * that uid can find a tree while root settles it. */
	snprintf(path, sizeof(path), "%s/tmp", dir);
	if ((stat(path, &st) < 0 || (st.st_mode & 07777) != 0711) && chmod(path, 0711) < 0) {
		rc = aims_error_set(err, AIMS_EIO, "cannot protect %s: %s", path, strerror(errno));
		goto out;
	}
	if ((rc = check_traversable(dir, err)) < 0)
		goto out;
	*out = dir;
	dir = NULL;
out:
	free(dir);
	return rc;
}

/* ---- walking a tree ---- */

typedef int (*walk_fn)(const char *path, const struct stat *st, bool after, void *ctx);

/* Calls fn on path and, for a directory, everything under it (symlinks
 * not followed): before (after = false) and after its children. path is a
 * PATH_MAX buffer, extended and restored in place. */
static int walk(char *path, size_t len, int depth, walk_fn fn, void *ctx)
{
	struct stat st;
	struct dirent *e;
	DIR *d;
	int rc = 0;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (fn(path, &st, false, ctx) < 0)
		return -1;
	if (S_ISDIR(st.st_mode)) {
		if (depth > WALK_DEPTH_MAX) {
			errno = ELOOP;
			return -1;
		}
		if (!(d = opendir(path)))
			return -1;
		while ((e = readdir(d)) != NULL) {
			size_t name_len = strlen(e->d_name);

			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			if (len + 1 + name_len >= PATH_MAX) {
				errno = ENAMETOOLONG;
				rc = -1;
				continue;
			}
			path[len] = '/';
			memcpy(path + len + 1, e->d_name, name_len + 1);
			if (walk(path, len + 1 + name_len, depth + 1, fn, ctx) < 0)
				rc = -1;
			path[len] = '\0';
		}
		closedir(d);
	}
	if (fn(path, &st, true, ctx) < 0)
		rc = -1;
	return rc;
}

static int walk_tree(const char *root, walk_fn fn, void *ctx)
{
	char path[PATH_MAX];
	size_t len = strlen(root);

	if (len >= sizeof(path))
		return -1;
	memcpy(path, root, len + 1);
	return walk(path, len, 0, fn, ctx);
}

/* The first entry of the directory fd (not . or ..) into name; false
 * when it is empty (or unreadable: then errno is set). */
static bool first_entry(int fd, char name[NAME_MAX + 1])
{
	int copy = dup(fd);
	DIR *d = copy >= 0 ? fdopendir(copy) : NULL;
	struct dirent *e;
	bool found = false;

	if (!d) {
		if (copy >= 0)
			close(copy);
		return false;
	}
	rewinddir(d); /* the copy shares fd's offset */
	errno = 0;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(name, NAME_MAX + 1, "%s", e->d_name);
		found = true;
		break;
	}
	closedir(d);
	return found;
}

typedef struct entered {
	char *name; /* the directory entered, in its parent */
	dev_t dev;  /* the parent, to check the way back up */
	ino_t ino;
} entered;

/*
 * rm -rf, without a shell and without a limit of depth or path length (an
 * install's tree is the package's to shape; one that walk() cannot settle
 * must still go). One directory is open at a time: entered by name with
 * openat(O_NOFOLLOW), left by "..", which must be the directory it was
 * entered from; its entries are removed as they are met, unreadable
 * directories made readable first. Every step removes an entry, enters a
 * directory or leaves one: it ends.
 */
static int remove_tree(const char *path)
{
	entered *stack = NULL;
	size_t depth = 0, cap = 0;
	char name[NAME_MAX + 1];
	struct stat st;
	int fd, rc = -1;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
	if (((st.st_mode & 0700) != 0700 && chmod(path, 0700) < 0) ||
	    (fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -1;
	for (;;) {
		if (first_entry(fd, name)) {
			struct stat here;
			int sub;

			if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
				if (errno == ENOENT)
					continue;
				break;
			}
			if (!S_ISDIR(st.st_mode)) {
				if (unlinkat(fd, name, 0) < 0 && errno != ENOENT)
					break;
				continue;
			}
			if (((st.st_mode & 0700) != 0700 && fchmodat(fd, name, 0700, 0) < 0) ||
			    fstat(fd, &here) < 0 ||
			    aims_array_reserve((void **)&stack, &cap, depth, sizeof(*stack)) < 0 ||
			    !(stack[depth].name = strdup(name)))
				break;
			stack[depth].dev = here.st_dev;
			stack[depth].ino = here.st_ino;
			if ((sub = openat(fd, name,
					  O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
				free(stack[depth].name);
				break;
			}
			depth++;
			close(fd);
			fd = sub;
			continue;
		}
		if (errno)
			break; /* unreadable */
		if (depth == 0) {
			rc = 0;
			break;
		}
		{
			int up = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			struct stat there;

			close(fd);
			fd = up;
			depth--;
			if (up < 0 || fstat(up, &there) < 0 || there.st_dev != stack[depth].dev ||
			    there.st_ino != stack[depth].ino) {
				free(stack[depth].name);
				break; /* moved while we were inside */
			}
			if (unlinkat(fd, stack[depth].name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
				free(stack[depth].name);
				break;
			}
			free(stack[depth].name);
		}
	}
	if (fd >= 0)
		close(fd);
	while (depth > 0)
		free(stack[--depth].name);
	free(stack);
	if (rc == 0 && rmdir(path) < 0 && errno != ENOENT)
		rc = -1;
	return rc;
}

/* After an install: the tree belongs to the caller (not to the sandbox
 * user, so no later sandbox process could change it on the host), is
 * readable by everyone and has no set-id or group/other-writable bits. */
static int settle_entry(const char *path, const struct stat *st, bool after, void *ctx)
{
	uint64_t *size = ctx;
	mode_t mode;

	if (after)
		return 0;
	*size += (uint64_t)st->st_blocks * 512u;
	if (geteuid() == 0 && lchown(path, 0, 0) < 0)
		return -1;
	if (S_ISLNK(st->st_mode))
		return 0;
	mode = S_ISDIR(st->st_mode) || (st->st_mode & 0111) ? 0755 : 0644;
	return chmod(path, mode);
}

/* ---- locks ---- */

static int open_lock(const char *cache, const char *key, const char *kind, bool create,
		     aims_error *err)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/locks/%s.%s", cache, key, kind);
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | (create ? O_CREAT : 0), 0644);
	if (fd < 0 && (create || errno != ENOENT))
		aims_error_set(err, AIMS_EIO, "cannot open the lock %s: %s", path, strerror(errno));
	return fd;
}

/* flock that can be canceled and gives up at deadline (monotonic ms). */
static int wait_lock(int fd, int op, int cancel_fd, uint64_t deadline, aims_error *err)
{
	for (;;) {
		struct pollfd pfd = {cancel_fd, POLLIN, 0};

		if (flock(fd, op | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return aims_error_set(err, AIMS_EIO, "cannot lock the layer: %s",
					      strerror(errno));
		if (now_ms() >= deadline)
			return aims_error_set(err, AIMS_ETIMEOUT,
					      "timed out waiting for another install of the same "
					      "packages");
		if (cancel_fd >= 0) {
			if (poll(&pfd, 1, LOCK_POLL_MS) > 0)
				return aims_error_set(err, AIMS_ECANCELED,
						      "the execution was canceled");
		} else {
			poll(NULL, 0, LOCK_POLL_MS);
		}
	}
}

/* ---- meta ---- */

/* Loads layers/<key>/meta into the layer: 0, AIMS_ENOTFOUND when the
 * layer is not there, AIMS_EIO when it is damaged. */
static int load_meta(aims_packages_layer *layer, const char *cache)
{
	char path[PATH_MAX];
	size_t len, n = 0;
	char *line, *next;

	snprintf(path, sizeof(path), "%s/layers/%s/meta", cache, layer->key);
	free(layer->meta);
	layer->meta = NULL;
	if (aims_file_read(&layer->meta, &len, path, META_MAX, NULL) < 0)
		return access(path, F_OK) == 0 ? AIMS_EIO : AIMS_ENOTFOUND;
	if (strncmp(layer->meta, "aims-layer 1\n", 13) != 0)
		return AIMS_EIO;
	for (line = layer->meta; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (strncmp(line, "env ", 4) == 0 && n < AIMS_PACKAGES_MAX_ENV)
			layer->env[n++] = line + 4;
	}
	layer->env[n] = NULL;
	snprintf(layer->dir, sizeof(layer->dir), "%s/layers/%s/layer", cache, layer->key);
	/* The last use orders eviction; failing to note it is harmless. */
	(void)!utimensat(AT_FDCWD, path, NULL, 0);
	return 0;
}

static int write_meta(const char *dir, const packages_plan *plan, uint64_t size, const char *env,
		      aims_error *err)
{
	char path[PATH_MAX];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/meta", dir);
	if (!(f = fopen(path, "wxe")))
		return aims_error_set(err, AIMS_EIO, "cannot write %s: %s", path, strerror(errno));
	fprintf(f, "aims-layer 1\nlanguage %s\npackages", aims_language_name(plan->lang));
	for (size_t i = 0; i < plan->count; i++)
		fprintf(f, " %s", plan->names[i]);
	fprintf(f, "\nsize %" PRIu64 "\n", size);
	for (const char *line = env; *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);

		fprintf(f, "env %.*s\n", (int)len, line);
		line += len + (end ? 1 : 0);
	}
	ok = !ferror(f);
	if (fclose(f) != 0 || !ok)
		return aims_error_set(err, AIMS_EIO, "cannot write %s", path);
	return 0;
}

/* ---- building ---- */

static void report(aims_exec_progress_fn progress, void *ctx, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void report(aims_exec_progress_fn progress, void *ctx, const char *fmt, ...)
{
	char message[512];
	va_list ap;

	if (!progress)
		return;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	progress(ctx, message);
}

/* Moves layers/<key> (a damaged or evicted layer) into tmp/ and removes
 * it. The caller holds what keeps others away. */
static int drop_layer(const char *cache, const char *key)
{
	static unsigned counter;
	char from[PATH_MAX], to[PATH_MAX];

	snprintf(from, sizeof(from), "%s/layers/%s", cache, key);
	snprintf(to, sizeof(to), "%s/tmp/%s.drop.%ld.%u", cache, key, (long)getpid(),
		 __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
	if (rename(from, to) < 0)
		return errno == ENOENT ? 0 : -1;
	return remove_tree(to);
}

static int build(aims_packages_layer *layer, const char *cache, const packages_plan *plan,
		 int cancel_fd, aims_error *err)
{
	/* open_cache keeps the cache path 128 bytes under PATH_MAX */
	char tmp[PATH_MAX - 32], path[PATH_MAX], scratch[PATH_MAX], final[PATH_MAX];
	char *env = NULL;
	uint64_t size = 0;
	int rc = 0;

	snprintf(tmp, sizeof(tmp), "%s/tmp/%s.XXXXXX", cache, layer->key);
	if (!mkdtemp(tmp))
		return aims_error_set(err, AIMS_EIO, "cannot create a directory in %s/tmp: %s",
				      cache, strerror(errno));
	snprintf(path, sizeof(path), "%s/layer", tmp);
	snprintf(scratch, sizeof(scratch), "%s/scratch", tmp);
	/* The sandbox user writes the layer (and apt's downloads). */
	if (chmod(tmp, 0711) < 0 || mkdir(path, 0755) < 0 || mkdir(scratch, 0755) < 0 ||
	    (geteuid() == 0 && (chown(path, HOST_NOBODY, HOST_NOBODY) < 0 ||
				chown(scratch, HOST_NOBODY, HOST_NOBODY) < 0))) {
		rc = aims_error_set(err, AIMS_EIO, "cannot prepare %s: %s", tmp, strerror(errno));
		goto out;
	}
	if ((rc = packages_install(&env, plan, path, scratch, packages_install_timeout(), cancel_fd,
				   err)) < 0)
		goto out;
	if (remove_tree(scratch) < 0 || walk_tree(path, settle_entry, &size) < 0) {
		/* (Removed below, however deep.) */
		rc = aims_error_set(err, AIMS_EINSTALL,
				    "cannot settle the installed files: %s (trees deeper than %d "
				    "directories or with paths over %d bytes are refused)",
				    strerror(errno), WALK_DEPTH_MAX, PATH_MAX);
		goto out;
	}
	if ((rc = write_meta(tmp, plan, size, env, err)) < 0)
		goto out;
	snprintf(final, sizeof(final), "%s/layers/%s", cache, layer->key);
	(void)drop_layer(cache, layer->key); /* a damaged one, without meta */
	if (rename(tmp, final) < 0) {
		rc = aims_error_set(err, AIMS_EIO, "cannot move the new layer into %s: %s", final,
				    strerror(errno));
		goto out;
	}
	tmp[0] = '\0';
out:
	if (tmp[0])
		remove_tree(tmp);
	free(env);
	return rc;
}

static uint64_t cache_budget(void)
{
	const char *v = getenv("AIMS_CACHE_MAX_MB");
	char *end;
	unsigned long long mb;

	if (!v || !*v)
		return (uint64_t)AIMS_PACKAGES_DEFAULT_CACHE_MB << 20;
	errno = 0;
	mb = strtoull(v, &end, 10);
	if (errno || *end || mb > (1ull << 30))
		return (uint64_t)AIMS_PACKAGES_DEFAULT_CACHE_MB << 20;
	return (uint64_t)mb << 20;
}

int aims_packages_acquire(aims_packages_layer **out, aims_language lang,
			  const char *const *packages, size_t count, int cancel_fd,
			  aims_exec_progress_fn progress, void *progress_ctx, aims_error *err)
{
	packages_plan plan;
	aims_packages_layer *layer = NULL;
	char *cache = NULL;
	int build_fd = -1, rc;
	uint64_t start = now_ms(), deadline;

	memset(&plan, 0, sizeof(plan));
	if ((rc = packages_plan_make(&plan, lang, packages, count, err)) < 0)
		goto out;
	if ((rc = open_cache(&cache, err)) < 0)
		goto out;
	if (!(layer = calloc(1, sizeof(*layer)))) {
		rc = aims_error_set(err, AIMS_ENOMEM, "out of memory");
		goto out;
	}
	layer->use_fd = -1;
	memcpy(layer->key, plan.key, sizeof(layer->key));
	deadline = start + packages_install_timeout() + WAIT_EXTRA_MS;
	if ((layer->use_fd = open_lock(cache, layer->key, "use", true, err)) < 0 ||
	    (rc = wait_lock(layer->use_fd, LOCK_SH, cancel_fd, deadline, err)) < 0) {
		rc = rc < 0 ? rc : AIMS_EIO;
		goto out;
	}
	if ((rc = load_meta(layer, cache)) == 0)
		goto done;
	/* Not there (or damaged): one builder at a time; whoever waited
	 * finds it built. */
	if ((build_fd = open_lock(cache, layer->key, "build", true, err)) < 0) {
		rc = AIMS_EIO;
		goto out;
	}
	report(progress, progress_ctx, "installing %zu %s package%s ...", plan.count,
	       aims_language_name(lang), plan.count == 1 ? "" : "s");
	if ((rc = wait_lock(build_fd, LOCK_EX, cancel_fd, deadline, err)) < 0)
		goto out;
	if ((rc = load_meta(layer, cache)) == 0)
		goto waited;
	if ((rc = build(layer, cache, &plan, cancel_fd, err)) < 0)
		goto out;
	if ((rc = load_meta(layer, cache)) < 0) {
		rc = aims_error_set(err, AIMS_EIO, "the new layer %s cannot be read back",
				    layer->key);
		goto out;
	}
	layer->installed = true;
waited:
	layer->install_ms = now_ms() - start;
	report(progress, progress_ctx, "%s %zu %s package%s in %" PRIu64 " ms",
	       layer->installed ? "installed" : "another request installed", plan.count,
	       aims_language_name(lang), plan.count == 1 ? "" : "s", layer->install_ms);
	close(build_fd);
	build_fd = -1;
	if (layer->installed)
		(void)aims_packages_cache_prune(NULL, NULL, cache_budget(), NULL);
done:
	*out = layer;
	layer = NULL;
	rc = 0;
out:
	if (build_fd >= 0)
		close(build_fd);
	aims_packages_release(layer);
	packages_plan_free(&plan);
	free(cache);
	return rc;
}

const char *aims_packages_layer_dir(const aims_packages_layer *layer)
{
	return layer->dir;
}

const char *aims_packages_layer_key(const aims_packages_layer *layer)
{
	return layer->key;
}

bool aims_packages_layer_installed(const aims_packages_layer *layer)
{
	return layer->installed;
}

uint64_t aims_packages_layer_install_ms(const aims_packages_layer *layer)
{
	return layer->install_ms;
}

const char *const *aims_packages_layer_env(const aims_packages_layer *layer)
{
	return layer->env;
}

void aims_packages_release(aims_packages_layer *layer)
{
	if (!layer)
		return;
	if (layer->use_fd >= 0)
		close(layer->use_fd); /* drops the shared lock */
	free(layer->meta);
	free(layer);
}

/* ---- listing and eviction ---- */

static bool is_key(const char *name)
{
	size_t n = 0;

	for (; name[n]; n++)
		if (!((name[n] >= '0' && name[n] <= '9') || (name[n] >= 'a' && name[n] <= 'f')))
			return false;
	return n == AIMS_PACKAGES_KEY_LEN;
}

static int by_last_use(const void *a, const void *b)
{
	const aims_packages_entry *x = a, *y = b;

	return x->last_used < y->last_used ? 1 : x->last_used > y->last_used ? -1 : 0;
}

/* Reads one layer's meta into e; false when it is not a complete layer. */
static bool read_entry(aims_packages_entry *e, const char *cache, const char *key)
{
	char path[PATH_MAX], *meta = NULL, *line, *next;
	struct stat st;
	size_t len;
	int fd;

	memset(e, 0, sizeof(*e));
	snprintf(path, sizeof(path), "%s/layers/%s/meta", cache, key);
	if (stat(path, &st) < 0 || aims_file_read(&meta, &len, path, META_MAX, NULL) < 0)
		return false;
	memcpy(e->key, key, AIMS_PACKAGES_KEY_LEN + 1);
	e->last_used = (int64_t)st.st_mtim.tv_sec;
	for (line = meta; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (strncmp(line, "language ", 9) == 0)
			snprintf(e->language, sizeof(e->language), "%s", line + 9);
		else if (strncmp(line, "packages", 8) == 0 && !e->packages)
			e->packages = strdup(line[8] == ' ' ? line + 9 : "");
		else if (strncmp(line, "size ", 5) == 0)
			e->size_bytes = strtoull(line + 5, NULL, 10);
	}
	free(meta);
	if (!e->packages)
		return false;
	if ((fd = open_lock(cache, key, "use", false, NULL)) >= 0) {
		if (flock(fd, LOCK_EX | LOCK_NB) < 0)
			e->in_use = true;
		close(fd);
	}
	return true;
}

static int list_in(aims_packages_entry **out, size_t *out_count, const char *cache, aims_error *err)
{
	char path[PATH_MAX];
	struct dirent **names = NULL;
	aims_packages_entry *entries = NULL;
	size_t count = 0;
	int n;

	snprintf(path, sizeof(path), "%s/layers", cache);
	n = scandir(path, &names, NULL, alphasort);
	if (n < 0 && errno != ENOENT)
		return aims_error_set(err, AIMS_EIO, "cannot read %s: %s", path, strerror(errno));
	if (n > 0 && !(entries = calloc((size_t)n, sizeof(*entries)))) {
		for (int i = 0; i < n; i++)
			free(names[i]);
		free(names);
		return aims_error_set(err, AIMS_ENOMEM, "out of memory");
	}
	for (int i = 0; i < n; i++) {
		if (is_key(names[i]->d_name) &&
		    read_entry(&entries[count], cache, names[i]->d_name))
			count++;
		free(names[i]);
	}
	free(names);
	if (count)
		qsort(entries, count, sizeof(*entries), by_last_use);
	*out = entries;
	*out_count = count;
	return 0;
}

int aims_packages_cache_list(aims_packages_entry **out, size_t *out_count, aims_error *err)
{
	char *cache = NULL;
	int rc;

	if ((rc = aims_packages_cache_dir(&cache, err)) < 0)
		return rc;
	rc = list_in(out, out_count, cache, err);
	free(cache);
	return rc;
}

void aims_packages_entries_free(aims_packages_entry *entries, size_t count)
{
	for (size_t i = 0; entries && i < count; i++)
		free(entries[i].packages);
	free(entries);
}

/* Removes the layer unless someone uses it: true when it went. */
static bool evict(const char *cache, const char *key)
{
	int fd = open_lock(cache, key, "use", false, NULL);
	bool gone = false;

	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) == 0)
		gone = drop_layer(cache, key) == 0;
	if (fd >= 0)
		close(fd);
	return gone;
}

/* Leftovers in tmp/ of installs or removals that were interrupted. */
static void remove_stale(const char *cache)
{
	char path[PATH_MAX];
	struct dirent **names = NULL;
	struct stat st;
	time_t now = time(NULL);
	int n;

	snprintf(path, sizeof(path), "%s/tmp", cache);
	n = scandir(path, &names, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.' &&
		    (size_t)snprintf(path, sizeof(path), "%s/tmp/%s", cache, names[i]->d_name) <
			    sizeof(path) &&
		    lstat(path, &st) == 0 && now - st.st_mtime > STALE_TMP_S)
			remove_tree(path);
		free(names[i]);
	}
	free(names);
}

int aims_packages_cache_prune(size_t *out_removed, uint64_t *out_freed, uint64_t keep_bytes,
			      aims_error *err)
{
	aims_packages_entry *entries = NULL;
	char *cache = NULL;
	size_t count = 0, removed = 0;
	uint64_t kept = 0, freed = 0;
	int rc;

	if ((rc = aims_packages_cache_dir(&cache, err)) < 0)
		return rc;
	if ((rc = list_in(&entries, &count, cache, err)) < 0)
		goto out;
	/* Most recently used first: keep while they fit. */
	for (size_t i = 0; i < count; i++) {
		if (entries[i].in_use || kept + entries[i].size_bytes <= keep_bytes) {
			kept += entries[i].size_bytes;
			continue;
		}
		if (evict(cache, entries[i].key)) {
			removed++;
			freed += entries[i].size_bytes;
		} else {
			kept += entries[i].size_bytes;
		}
	}
	remove_stale(cache);
	if (out_removed)
		*out_removed = removed;
	if (out_freed)
		*out_freed = freed;
out:
	aims_packages_entries_free(entries, count);
	free(cache);
	return rc;
}

/*
 * registry.c - loads manifests from search paths and indexes them by
 * (kind, id).
 *
 * A directory is first listed recursively in sorted order, then its files
 * are parsed by a few threads (parsing dominates: YAML and markdown), then
 * the results are registered one by one in list order, so the outcome
 * (which duplicate wins) never depends on thread timing.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aims/registry.h"
#include "core/array.h"
#include "core/file.h"

#define MAX_THREADS	 AIMS_REGISTRY_MAX_THREADS
#define FILES_PER_THREAD 32 /* below this many files a thread is not worth it */

typedef struct slot {
	const aims_manifest *m; /* NULL: empty */
	uint64_t hash;		/* of m's kind and id: most probes end here */
} slot;

struct aims_registry {
	aims_manifest **files; /* owned, load order */
	uint64_t *tags;	       /* set by the load hook, one per file */
	size_t file_count, file_cap, tag_cap;
	const aims_manifest **defs; /* registered winners, load order */
	size_t def_count, def_cap;
	aims_conflict *conflicts;
	size_t conflict_count, conflict_cap;
	slot *table; /* open addressing over (kind, id) */
	size_t table_cap;
	unsigned threads;
	unsigned load_flags;
	aims_registry_load_hook hook;
	void *hook_ctx;
};

/* ---- The index ---------------------------------------------------------- */

static uint64_t hash_key(aims_kind kind, const char *id)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)kind;

	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	return h;
}

/* The slot of (kind, id), whose hash_key is hash: its manifest's, or the
 * empty slot where it would go. */
static slot *lookup(const aims_registry *reg, aims_kind kind, const char *id, uint64_t hash)
{
	size_t mask, i;

	if (!reg->table_cap)
		return NULL;
	mask = reg->table_cap - 1;
	for (i = hash & mask;; i = (i + 1) & mask) {
		slot *s = &reg->table[i];

		if (!s->m ||
		    (s->hash == hash && s->m->kind == kind && strcmp(s->m->id.str, id) == 0))
			return s;
	}
}

/* Makes room for `more` definitions: the table stays at most half full. */
static int reserve_table(aims_registry *reg, size_t more)
{
	size_t cap = reg->table_cap ? reg->table_cap : 64;
	slot *old = reg->table;
	size_t old_cap = reg->table_cap;

	while ((reg->def_count + more) * 2 > cap)
		cap *= 2;
	if (cap == old_cap)
		return 0;
	if (!(reg->table = calloc(cap, sizeof(*reg->table)))) {
		reg->table = old;
		return AIMS_ENOMEM;
	}
	reg->table_cap = cap;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].m)
			*lookup(reg, old[i].m->kind, old[i].m->id.str, old[i].hash) = old[i];
	free(old);
	return 0;
}

/* Takes ownership of m and registers it (or records the conflict); hash
 * is hash_key of its kind and id (0 when it has none), tag the hook's. */
static int add_manifest(aims_registry *reg, aims_manifest *m, uint64_t hash, uint64_t tag)
{
	slot *s;
	int rc;

	if ((rc = aims_array_reserve((void **)&reg->files, &reg->file_cap, reg->file_count,
				     sizeof(*reg->files))) < 0 ||
	    (rc = aims_array_reserve((void **)&reg->tags, &reg->tag_cap, reg->file_count,
				     sizeof(*reg->tags))) < 0) {
		aims_manifest_free(m);
		return rc;
	}
	reg->tags[reg->file_count] = tag;
	reg->files[reg->file_count++] = m;
	if (!m->has_front_matter || !m->id.str)
		return 0;
	if ((rc = reserve_table(reg, 1)) < 0)
		return rc;
	s = lookup(reg, m->kind, m->id.str, hash);
	if (s->m) {
		if ((rc = aims_array_reserve((void **)&reg->conflicts, &reg->conflict_cap,
					     reg->conflict_count, sizeof(*reg->conflicts))) < 0)
			return rc;
		reg->conflicts[reg->conflict_count].winner = s->m;
		reg->conflicts[reg->conflict_count].loser = m;
		reg->conflict_count++;
		return 0;
	}
	if ((rc = aims_array_reserve((void **)&reg->defs, &reg->def_cap, reg->def_count,
				     sizeof(*reg->defs))) < 0)
		return rc;
	s->m = m;
	s->hash = hash;
	reg->defs[reg->def_count++] = m;
	return 0;
}

/* ---- Listing directories ------------------------------------------------ */

/* A file to load: its path, and the directory it was listed in, kept
 * open so the file opens by its name alone (no walk of the whole path
 * for each of thousands of files). */
typedef struct listed {
	char *path;
	int dirfd;	/* AT_FDCWD: open by the whole path */
	size_t name_at; /* where the name starts in path (0 with AT_FDCWD) */
	bool too_deep;	/* a directory past AIMS_REGISTRY_MAX_DEPTH, not searched */
} listed;

#define MAX_DIR_FDS 64 /* directories kept open while loading; others by path */

typedef struct path_list {
	listed *items;
	size_t count, cap;
	int fds[MAX_DIR_FDS];
	size_t fd_count;
} path_list;

typedef struct dir_id {
	dev_t dev;
	ino_t ino;
} dir_id;

/* A directory entry: its name's first eight bytes as a big-endian number
 * (zero-padded), which orders most names without a strcmp, and its
 * d_type byte followed by the name. */
typedef struct entry {
	uint64_t key;
	char *name;
} entry;

static uint64_t name_key(const char *name)
{
	uint64_t key = 0;
	size_t i;

	for (i = 0; i < 8 && name[i]; i++)
		key = key << 8 | (unsigned char)name[i];
	return i ? key << 8 * (8 - i) : 0; /* (a shift by 64 is undefined) */
}

/* The order of strcmp on the names. */
static int cmp_entries(const void *a, const void *b)
{
	const entry *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return strcmp(x->name + 1, y->name + 1);
}

static bool is_markdown(const char *name)
{
	size_t len = strlen(name);

	return len > 3 && strcmp(name + len - 3, ".md") == 0;
}

static char *join(const char *dir, const char *name)
{
	size_t dl = strlen(dir), nl = strlen(name);
	char *path = malloc(dl + nl + 2);

	if (!path)
		return NULL;
	memcpy(path, dir, dl);
	if (dl && dir[dl - 1] != '/')
		path[dl++] = '/';
	memcpy(path + dl, name, nl + 1);
	return path;
}

/* Whether a directory kept open as fd leaves the loading threads (and
 * the caller) descriptors enough below the process's limit. */
static bool fd_to_spare(int fd)
{
	struct rlimit rl;

	return getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	       (rl.rlim_cur == RLIM_INFINITY || (rlim_t)fd + 4 * MAX_THREADS + 32 < rl.rlim_cur);
}

static int list_dir(path_list *out, const char *dir, dir_id *stack, size_t depth, aims_error *err)
{
	DIR *d;
	struct dirent *ent;
	entry *names = NULL;
	size_t count = 0, cap = 0;
	int rc = 0, fd, kept = AT_FDCWD;
	bool tried = false;

	if (depth >= AIMS_REGISTRY_MAX_DEPTH) {
		/* Listed, to be reported: its files are not searched. */
		char *path = strdup(dir);

		if (!path || aims_array_reserve((void **)&out->items, &out->cap, out->count,
						sizeof(*out->items)) < 0) {
			free(path);
			return aims_error_set(err, AIMS_ENOMEM, "out of memory");
		}
		out->items[out->count++] = (listed){path, AT_FDCWD, 0, true};
		return 0;
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || !(d = fdopendir(fd))) {
		rc = aims_error_set(err, AIMS_EIO, "%s: %s", dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	while ((ent = readdir(d))) {
		if (ent->d_name[0] == '.')
			continue; /* hidden entries, ".", ".." */
		if ((rc = aims_array_reserve((void **)&names, &cap, count, sizeof(*names))) < 0)
			goto out;
		{
			size_t len = strlen(ent->d_name);

			if (!(names[count].name = malloc(len + 2))) {
				rc = AIMS_ENOMEM;
				goto out;
			}
			names[count].key = name_key(ent->d_name);
			names[count].name[0] = (char)ent->d_type;
			memcpy(names[count].name + 1, ent->d_name, len + 1);
		}
		count++;
	}
	if (count)
		qsort(names, count, sizeof(*names), cmp_entries);
	for (size_t i = 0; i < count; i++) {
		const char *name = names[i].name + 1;
		unsigned char type = (unsigned char)names[i].name[0];
		char *path;
		struct stat st;
		bool loop = false;

		/* A regular file the readdir type names needs no stat: large
		 * trees list thousands of them. */
		if (type == DT_REG && !is_markdown(name))
			continue;
		if (!(path = join(dir, name))) {
			rc = AIMS_ENOMEM;
			goto out;
		}
		if (type == DT_REG) {
			st.st_mode = S_IFREG;
		} else if (stat(path, &st) < 0) {
			free(path); /* dangling symlink or vanished: not ours */
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			for (size_t j = 0; j < depth; j++)
				loop |= stack[j].dev == st.st_dev && stack[j].ino == st.st_ino;
			if (!loop) {
				stack[depth].dev = st.st_dev;
				stack[depth].ino = st.st_ino;
				rc = list_dir(out, path, stack, depth + 1, err);
			}
			free(path);
			if (rc < 0)
				goto out;
		} else if (S_ISREG(st.st_mode) && is_markdown(name)) {
			if ((rc = aims_array_reserve((void **)&out->items, &out->cap, out->count,
						     sizeof(*out->items))) < 0) {
				free(path);
				goto out;
			}
			/* The first file here keeps the directory open, if
			 * there is room (else files open by their paths). */
			if (!tried) {
				tried = true;
				if (out->fd_count < MAX_DIR_FDS &&
				    (kept = fcntl(fd, F_DUPFD_CLOEXEC, 3)) >= 0 &&
				    !fd_to_spare(kept)) {
					close(kept);
					kept = -1;
				}
				if (kept >= 0)
					out->fds[out->fd_count++] = kept;
				else
					kept = AT_FDCWD;
			}
			out->items[out->count].path = path;
			out->items[out->count].too_deep = false;
			out->items[out->count].dirfd = kept;
			out->items[out->count].name_at =
				kept == AT_FDCWD ? 0 : strlen(path) - strlen(name);
			out->count++;
		} else {
			free(path);
		}
	}
out:
	if (rc == AIMS_ENOMEM)
		aims_error_set(err, rc, "out of memory");
	for (size_t i = 0; i < count; i++)
		free(names[i].name);
	free(names);
	closedir(d);
	return rc;
}

/* ---- Parallel parsing --------------------------------------------------- */

/* A file loaded, ready to be registered. */
typedef struct loaded {
	aims_manifest *m; /* NULL: none to keep */
	uint64_t hash;	  /* hash_key of its kind and id, worked out on its thread */
	uint64_t tag;	  /* the hook's */
} loaded;

typedef struct job {
	const aims_registry *reg;
	const listed *files;
	loaded *results;
	size_t count;
	atomic_size_t next;
	atomic_int failed; /* AIMS_ENOMEM seen */
} job;

/* A loading thread's buffer for the files' text, used file after file. */
typedef struct reader {
	char *buf;
	size_t cap;
} reader;

/* Loads one file; an unreadable file becomes a manifest that says so. */
static int load_one(aims_manifest **out, const listed *f, reader *r, unsigned flags)
{
	const char *path = f->path;
	aims_error err;
	size_t len = 0;
	int rc;

	aims_error_clear(&err);
	if (f->too_deep) {
		const aims_pos none = {0, 0};

		if ((rc = aims_manifest_parse(out, path, "", 0, NULL)) < 0)
			return rc;
		return aims_manifest_add_problem(
			*out, "read-error", AIMS_SEVERITY_ERROR, none,
			"directories are searched %d levels below the path "
			"given; this one is deeper, its files were not searched",
			AIMS_REGISTRY_MAX_DEPTH - 2);
	}
	rc = aims_file_read_at(&r->buf, &r->cap, &len, f->dirfd, path + f->name_at, path,
			       AIMS_MANIFEST_MAX_FILE, AIMS_FILE_REGULAR_ONLY, &err);
	if (rc == 0)
		rc = aims_manifest_parse_flags(out, path, r->buf, len, flags, &err);
	if (rc == AIMS_ENOMEM || rc == 0)
		return rc;
	if ((rc = aims_manifest_parse(out, path, "", 0, NULL)) < 0)
		return rc;
	{
		const aims_pos none = {0, 0};
		const char *why = err.message;
		size_t plen = strlen(path);

		/* The loader's message starts with the path: drop it. */
		if (strncmp(why, path, plen) == 0 && why[plen] == ':')
			why += plen + 2;
		return aims_manifest_add_problem(*out, "read-error", AIMS_SEVERITY_ERROR, none,
						 "cannot read the file: %s", why);
	}
}

/* Loads f for the registry on loading thread worker: out->m is the
 * manifest to keep (after the hook), or NULL for a file found in a
 * directory that is not one (a README or a note; a file named on its own
 * is kept, to be reported). */
static int load_for(const aims_registry *reg, unsigned worker, loaded *out, const listed *f,
		    reader *r, bool named)
{
	aims_manifest *m = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = load_one(&m, f, r, reg->load_flags)) < 0)
		return rc;
	if (!named && !m->has_front_matter && m->problem_count == 0) {
		aims_manifest_free(m);
		return 0;
	}
	if (reg->hook && !(m = reg->hook(reg->hook_ctx, worker, m, &out->tag)))
		return AIMS_ENOMEM;
	out->m = m;
	if (m->has_front_matter && m->id.str)
		out->hash = hash_key(m->kind, m->id.str);
	return 0;
}

typedef struct worker_arg {
	job *job;
	unsigned worker;
} worker_arg;

static void *worker(void *arg)
{
	const worker_arg *w = arg;
	job *j = w->job;
	reader r = {NULL, 0};

	for (;;) {
		size_t i = atomic_fetch_add(&j->next, 1);

		if (i >= j->count)
			break;
		if (load_for(j->reg, w->worker, &j->results[i], &j->files[i], &r, false) < 0)
			atomic_store(&j->failed, 1);
	}
	free(r.buf);
	return NULL;
}

static unsigned thread_count(const aims_registry *reg, size_t files)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned n = reg->threads ? reg->threads : (unsigned)(cpus > 0 ? cpus : 1);

	if (n > MAX_THREADS)
		n = MAX_THREADS;
	if (n > files / FILES_PER_THREAD + 1)
		n = (unsigned)(files / FILES_PER_THREAD + 1);
	return n ? n : 1;
}

static int load_all(aims_registry *reg, path_list *list, aims_error *err)
{
	pthread_t threads[MAX_THREADS];
	worker_arg args[MAX_THREADS];
	unsigned n = thread_count(reg, list->count), started = 0;
	size_t defs = 0;
	job j;
	int rc = 0;

	if (!list->count)
		return 0;
	j.reg = reg;
	j.files = list->items;
	j.count = list->count;
	atomic_init(&j.next, 0);
	atomic_init(&j.failed, 0);
	if (!(j.results = calloc(list->count, sizeof(*j.results))))
		return aims_error_set(err, AIMS_ENOMEM, "out of memory");
	for (unsigned t = 0; t < n; t++)
		args[t] = (worker_arg){&j, t};
	for (unsigned t = 1; t < n; t++) {
		if (pthread_create(&threads[t], NULL, worker, &args[t]) != 0)
			break; /* fewer threads is fine */
		started++;
	}
	worker(&args[0]);
	for (unsigned t = 1; t <= started; t++)
		pthread_join(threads[t], NULL);

	/* Registering is the serial part: no table growth on the way. */
	for (size_t i = 0; i < list->count; i++)
		defs += j.results[i].hash != 0;
	rc = reserve_table(reg, defs);
	for (size_t i = 0; i < list->count; i++) {
		loaded *l = &j.results[i];

		if (!l->m)
			continue;
		if (rc == 0)
			rc = add_manifest(reg, l->m, l->hash, l->tag);
		else
			aims_manifest_free(l->m);
	}
	if (rc == 0 && atomic_load(&j.failed))
		rc = AIMS_ENOMEM;
	if (rc < 0)
		aims_error_set(err, rc, "out of memory");
	free(j.results);
	return rc;
}

/* ---- Public API --------------------------------------------------------- */

int aims_registry_new(aims_registry **out, aims_error *err)
{
	aims_registry *reg = calloc(1, sizeof(*reg));

	if (!reg)
		return aims_error_set(err, AIMS_ENOMEM, "out of memory");
	*out = reg;
	return 0;
}

void aims_registry_free(aims_registry *reg)
{
	if (!reg)
		return;
	for (size_t i = 0; i < reg->file_count; i++)
		aims_manifest_free(reg->files[i]);
	free(reg->files);
	free(reg->tags);
	free(reg->defs);
	free(reg->conflicts);
	free(reg->table);
	free(reg);
}

void aims_registry_set_threads(aims_registry *reg, unsigned threads)
{
	reg->threads = threads;
}

void aims_registry_set_load_flags(aims_registry *reg, unsigned flags)
{
	reg->load_flags = flags;
}

void aims_registry_set_load_hook(aims_registry *reg, aims_registry_load_hook hook, void *ctx)
{
	reg->hook = hook;
	reg->hook_ctx = ctx;
}

int aims_registry_add_path(aims_registry *reg, const char *path, aims_error *err)
{
	struct stat st;
	path_list list = {0};
	dir_id stack[AIMS_REGISTRY_MAX_DEPTH];
	int rc;

	if (stat(path, &st) < 0)
		return aims_error_set(err, errno == ENOENT ? AIMS_ENOTFOUND : AIMS_EIO, "%s: %s",
				      path, strerror(errno));
	if (!S_ISDIR(st.st_mode)) {
		listed f = {(char *)path, AT_FDCWD, 0, false};
		reader r = {NULL, 0};
		loaded l;

		rc = load_for(reg, 0, &l, &f, &r, true);
		free(r.buf);
		if (rc < 0)
			return aims_error_set(err, rc, "out of memory");
		return l.m && add_manifest(reg, l.m, l.hash, l.tag) < 0
			       ? aims_error_set(err, AIMS_ENOMEM, "out of memory")
			       : 0;
	}
	stack[0].dev = st.st_dev;
	stack[0].ino = st.st_ino;
	rc = list_dir(&list, path, stack, 1, err);
	if (rc == 0)
		rc = load_all(reg, &list, err);
	for (size_t i = 0; i < list.count; i++)
		free(list.items[i].path);
	free(list.items);
	for (size_t i = 0; i < list.fd_count; i++)
		close(list.fds[i]);
	return rc;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int aims_registry_add_default(aims_registry *reg, aims_error *err)
{
	const char *env = getenv("AIMS_SKILLS_PATH");
	int rc;

	if (env && *env) {
		char *copy = strdup(env), *p, *next;

		if (!copy)
			return aims_error_set(err, AIMS_ENOMEM, "out of memory");
		for (p = copy; p; p = next) {
			next = strchr(p, ':');
			if (next)
				*next++ = '\0';
			if (!*p)
				continue;
			if ((rc = aims_registry_add_path(reg, p, err)) < 0) {
				free(copy);
				return rc;
			}
		}
		free(copy);
		return 0;
	}
	if (is_dir("skills") && (rc = aims_registry_add_path(reg, "skills", err)) < 0)
		return rc;
	if (is_dir("tools") && (rc = aims_registry_add_path(reg, "tools", err)) < 0)
		return rc;
	if (is_dir(AIMS_DATADIR) && (rc = aims_registry_add_path(reg, AIMS_DATADIR, err)) < 0)
		return rc;
	return 0;
}

size_t aims_registry_count(const aims_registry *reg)
{
	return reg->def_count;
}

const aims_manifest *aims_registry_at(const aims_registry *reg, size_t i)
{
	return i < reg->def_count ? reg->defs[i] : NULL;
}

size_t aims_registry_file_count(const aims_registry *reg)
{
	return reg->file_count;
}

const aims_manifest *aims_registry_file_at(const aims_registry *reg, size_t i)
{
	return i < reg->file_count ? reg->files[i] : NULL;
}

uint64_t aims_registry_file_tag(const aims_registry *reg, size_t i)
{
	return i < reg->file_count ? reg->tags[i] : 0;
}

size_t aims_registry_conflict_count(const aims_registry *reg)
{
	return reg->conflict_count;
}

const aims_conflict *aims_registry_conflict_at(const aims_registry *reg, size_t i)
{
	return i < reg->conflict_count ? &reg->conflicts[i] : NULL;
}

const aims_manifest *aims_registry_find(const aims_registry *reg, aims_kind kind, const char *id)
{
	slot *s = lookup(reg, kind, id, hash_key(kind, id));

	return s ? s->m : NULL;
}

const aims_manifest *aims_registry_find_id(const aims_registry *reg, const char *id)
{
	for (int k = AIMS_KIND_TASK; k < AIMS_KIND_COUNT; k++) {
		const aims_manifest *m = aims_registry_find(reg, (aims_kind)k, id);

		if (m)
			return m;
	}
	return NULL;
}

/*
 * key.c - the plan of a layer (normalized package names, where they come
 * from) and its content address: SHA-256 (OpenSSL's libcrypto, used only
 * here) over the language, the sorted names, the source, the contents of
 * the configuration files the package manager reads, the listing of a
 * local index directory and the identity of the interpreter. Anything
 * that changes what an install would produce changes the key.
 */
#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "aims/sandbox.h"
#include "core/dynlib.h"
#include "packages_int.h"

/* libcrypto's SHA-256, loaded the first time a layer key is made (see
 * core/dynlib.h: most runs need no package layer). */
static struct {
	AIMS_DYNFN(EVP_MD_CTX_new, ctx_new);
	AIMS_DYNFN(EVP_MD_CTX_free, ctx_free);
	AIMS_DYNFN(EVP_DigestInit_ex, init);
	AIMS_DYNFN(EVP_DigestUpdate, update);
	AIMS_DYNFN(EVP_DigestFinal_ex, final);
	AIMS_DYNFN(EVP_sha256, sha256);
} crypto;
static pthread_once_t crypto_once = PTHREAD_ONCE_INIT;
static bool crypto_loaded;

static void crypto_load(void)
{
	static const char *const names[] = {"libcrypto.so.3"};
	const aims_dynsym syms[] = {
		{"EVP_MD_CTX_new", (void **)&crypto.ctx_new},
		{"EVP_MD_CTX_free", (void **)&crypto.ctx_free},
		{"EVP_DigestInit_ex", (void **)&crypto.init},
		{"EVP_DigestUpdate", (void **)&crypto.update},
		{"EVP_DigestFinal_ex", (void **)&crypto.final},
		{"EVP_sha256", (void **)&crypto.sha256},
	};

	crypto_loaded = aims_dynlib_load(names, 1, syms, sizeof(syms) / sizeof(syms[0]));
}

#define EVP_MD_CTX_new	   (*crypto.ctx_new)
#define EVP_MD_CTX_free	   (*crypto.ctx_free)
#define EVP_DigestInit_ex  (*crypto.init)
#define EVP_DigestUpdate   (*crypto.update)
#define EVP_DigestFinal_ex (*crypto.final)
#define EVP_sha256	   (*crypto.sha256)

#define KEY_VERSION	"aims-layer-v1"
#define CONFIG_FILE_MAX (1u << 20) /* larger configuration files are refused */
#define INDEX_URL_MAX	2048

const char *const packages_pip_config[] = {"/etc/pip.conf", "/etc/xdg/pip/pip.conf", NULL};
const char *const packages_npm_config[] = {"/etc/npmrc", "/usr/etc/npmrc", NULL};
const char *const packages_apt_config[] = {"/etc/apt", "/var/lib/apt/lists", "/var/lib/dpkg", NULL};

/* python: PEP 503 normalization of the name (lower case, runs of -_. as
 * one -), the rest (extras, version clauses) without spaces. */
static char *normalize(aims_language lang, const char *name)
{
	size_t len = strlen(name), n = 0;
	char *out = malloc(len + 1);
	bool in_name = true;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (lang != AIMS_LANG_PYTHON) {
			out[n++] = c;
			continue;
		}
		if (c == ' ')
			continue;
		if (in_name && (c == '-' || c == '_' || c == '.')) {
			if (n == 0 || out[n - 1] != '-')
				out[n++] = '-';
			continue;
		}
		if (c == '[' || c == '<' || c == '>' || c == '=' || c == '!' || c == '~')
			in_name = false;
		out[n++] = in_name && c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	out[n] = '\0';
	return out;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void hash_str(EVP_MD_CTX *ctx, const char *s)
{
	EVP_DigestUpdate(ctx, s, strlen(s) + 1); /* with the NUL: unambiguous */
}

/* Hashes a file's path and content, or its absence; for a directory, the
 * files directly in it (apt's sources.list.d, trusted.gpg.d). */
static void hash_path(EVP_MD_CTX *ctx, const char *path, int depth)
{
	struct stat st;
	char *data = NULL;
	size_t len = 0;

	hash_str(ctx, path);
	if (stat(path, &st) < 0) {
		hash_str(ctx, "absent");
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		struct dirent **list = NULL;
		int n = depth > 0 ? scandir(path, &list, NULL, alphasort) : -1;
		char child[PATH_MAX];

		/* Large directories (apt lists) count by their identity. */
		if (n < 0 || n > 64) {
			char id[96];

			snprintf(id, sizeof(id), "dir %lld %lld %lld", (long long)st.st_ino,
				 (long long)st.st_mtim.tv_sec, (long long)st.st_mtim.tv_nsec);
			hash_str(ctx, id);
		}
		for (int i = 0; i < n; i++) {
			if (n <= 64 && list[i]->d_name[0] != '.' &&
			    (size_t)snprintf(child, sizeof(child), "%s/%s", path, list[i]->d_name) <
				    sizeof(child))
				hash_path(ctx, child, depth - 1);
			free(list[i]);
		}
		free(list);
		return;
	}
	if (aims_file_read(&data, &len, path, CONFIG_FILE_MAX, NULL) == 0)
		EVP_DigestUpdate(ctx, data, len);
	else
		hash_str(ctx, "unreadable");
	free(data);
}

/* A local index directory counts by its listing: names, sizes, times. */
static void hash_listing(EVP_MD_CTX *ctx, const char *dir)
{
	struct dirent **list = NULL;
	int n = scandir(dir, &list, NULL, alphasort);
	char path[PATH_MAX], line[PATH_MAX + 96];
	struct stat st;

	for (int i = 0; i < n; i++) {
		if (list[i]->d_name[0] != '.' &&
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir, list[i]->d_name) <
			    sizeof(path) &&
		    stat(path, &st) == 0) {
			snprintf(line, sizeof(line), "%s %lld %lld.%09ld", list[i]->d_name,
				 (long long)st.st_size, (long long)st.st_mtim.tv_sec,
				 st.st_mtim.tv_nsec);
			hash_str(ctx, line);
		}
		free(list[i]);
	}
	free(list);
}

/* The program that will see the layer: its real path, size and time. */
static void hash_program(EVP_MD_CTX *ctx, const char *path)
{
	char real[PATH_MAX], line[PATH_MAX + 64];
	struct stat st;

	if (!realpath(path, real) || stat(real, &st) < 0) {
		hash_str(ctx, path);
		return;
	}
	snprintf(line, sizeof(line), "%s %lld %lld", real, (long long)st.st_size,
		 (long long)st.st_mtim.tv_sec);
	hash_str(ctx, line);
}

static int read_source(packages_plan *plan, aims_error *err)
{
	const char *var = plan->lang == AIMS_LANG_PYTHON ? "AIMS_PIP_INDEX_URL"
			  : plan->lang == AIMS_LANG_NODE ? "AIMS_NPM_REGISTRY"
							 : "AIMS_DEB_DIR";
	const char *value = getenv(var);
	struct stat st;

	plan->source = SOURCE_MACHINE;
	if (!value || !*value)
		return 0;
	if (value[0] == '/') {
		if (!realpath(value, plan->source_value) || stat(plan->source_value, &st) < 0 ||
		    !S_ISDIR(st.st_mode))
			return aims_error_set(err, AIMS_ENOTREADY, "%s=%s is not a directory: %s",
					      var, value, strerror(errno ? errno : ENOTDIR));
		if (strlen(plan->source_value) > AIMS_SANDBOX_MAX_BIND_PATH)
			return aims_error_set(err, AIMS_ENOTREADY, "%s: the path is too long", var);
		plan->source = SOURCE_DIR;
		return 0;
	}
	if (plan->lang == AIMS_LANG_BASH)
		return aims_error_set(err, AIMS_ENOTREADY,
				      "AIMS_DEB_DIR must be an absolute directory path");
	if ((strncmp(value, "https://", 8) != 0 && strncmp(value, "http://", 7) != 0) ||
	    strlen(value) > INDEX_URL_MAX || strpbrk(value, " \t\r\n"))
		return aims_error_set(err, AIMS_ENOTREADY,
				      "%s must be an http(s) URL or an absolute directory path",
				      var);
	snprintf(plan->source_value, sizeof(plan->source_value), "%s", value);
	plan->source = SOURCE_URL;
	return 0;
}

int packages_plan_make(packages_plan *plan, aims_language lang, const char *const *packages,
		       size_t count, aims_error *err)
{
	static const char *const programs[] = {
		[AIMS_LANG_PYTHON] = "/usr/bin/python3",
		[AIMS_LANG_NODE] = "/usr/bin/node",
		[AIMS_LANG_BASH] = "/usr/bin/dpkg-deb",
	};
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int digest_len = 0;
	EVP_MD_CTX *ctx = NULL;
	struct utsname uts;
	size_t n = 0;
	int rc = 0;

	memset(plan, 0, sizeof(*plan));
	plan->lang = lang;
	/* The installers' argument vectors have room for this many. */
	if (count > AIMS_EXEC_MAX_PACKAGES)
		return aims_error_set(err, AIMS_ETOOBIG, "more than %d packages",
				      AIMS_EXEC_MAX_PACKAGES);
	if ((rc = read_source(plan, err)) < 0)
		goto out;
	if (!(plan->names = calloc(count ? count : 1, sizeof(char *)))) {
		rc = aims_error_set(err, AIMS_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < count; i++)
		if (!(plan->names[i] = normalize(lang, packages[i]))) {
			rc = aims_error_set(err, AIMS_ENOMEM, "out of memory");
			goto out;
		}
	plan->count = count;
	qsort(plan->names, count, sizeof(char *), compare_names);
	for (size_t i = 0; i < count; i++) { /* unique */
		if (n && strcmp(plan->names[n - 1], plan->names[i]) == 0) {
			free(plan->names[i]);
			plan->names[i] = NULL;
			continue;
		}
		plan->names[n++] = plan->names[i];
	}
	plan->count = n;

	pthread_once(&crypto_once, crypto_load);
	if (!crypto_loaded) {
		rc = aims_error_set(err, AIMS_EUNSUPPORTED,
				    "libcrypto (libcrypto.so.3) cannot be loaded: install libssl3");
		goto out;
	}
	if (!(ctx = EVP_MD_CTX_new()) || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		rc = aims_error_set(err, AIMS_ENOMEM, "cannot start a SHA-256 digest");
		goto out;
	}
	hash_str(ctx, KEY_VERSION);
	hash_str(ctx, aims_language_name(lang));
	for (size_t i = 0; i < plan->count; i++)
		hash_str(ctx, plan->names[i]);
	hash_str(ctx, plan->source == SOURCE_DIR   ? "dir"
		      : plan->source == SOURCE_URL ? "url"
						   : "machine");
	hash_str(ctx, plan->source_value);
	if (plan->source == SOURCE_DIR)
		hash_listing(ctx, plan->source_value);
	if (plan->source == SOURCE_MACHINE) {
		const char *const *config = lang == AIMS_LANG_PYTHON ? packages_pip_config
					    : lang == AIMS_LANG_NODE ? packages_npm_config
								     : packages_apt_config;

		for (size_t i = 0; config[i]; i++)
			hash_path(ctx, config[i], lang == AIMS_LANG_BASH && i == 0 ? 2 : 0);
		if (lang == AIMS_LANG_BASH)
			hash_path(ctx, "/etc/apt/sources.list.d", 1);
	}
	hash_program(ctx, programs[lang]);
	if (uname(&uts) == 0)
		hash_str(ctx, uts.machine);
	if (EVP_DigestFinal_ex(ctx, digest, &digest_len) != 1 ||
	    digest_len * 2 != AIMS_PACKAGES_KEY_LEN) {
		rc = aims_error_set(err, AIMS_EIO, "SHA-256 failed");
		goto out;
	}
	for (unsigned i = 0; i < digest_len; i++)
		snprintf(plan->key + 2 * i, 3, "%02x", digest[i]);
out:
	if (ctx)
		EVP_MD_CTX_free(ctx);
	if (rc < 0)
		packages_plan_free(plan);
	return rc;
}

void packages_plan_free(packages_plan *plan)
{
	if (!plan->names)
		return;
	for (size_t i = 0; i < plan->count; i++)
		free(plan->names[i]);
	free(plan->names);
	plan->names = NULL;
	plan->count = 0;
}

/*
 * packages.h - packages for sandboxed code: pip, npm and Debian packages
 * installed in a sandbox of their own into content-addressed layers, kept
 * in a cache directory and mounted read-only into executions.
 *
 * A layer's key is the SHA-256 of (language, the sorted normalized package
 * names, the index settings: the override variables or the machine's
 * pip/npm/apt configuration, the interpreter). Layers are built in a
 * temporary directory and renamed into place; concurrent first requests
 * for one key install once (the others wait, then reuse it); a layer in
 * use is never evicted. docs/packages.md describes the whole scheme.
 *
 * Environment:
 *   AIMS_CACHE_DIR           the cache (default $XDG_CACHE_HOME/aims, else
 *                            ~/.cache/aims; /var/cache/aims for root)
 *   AIMS_CACHE_MAX_MB        size budget of the layers (default 2048)
 *   AIMS_INSTALL_TIMEOUT_MS  time limit of one install (default 120000)
 *   AIMS_PIP_INDEX_URL       python: an index URL, or a local directory of
 *                            wheels (--no-index --find-links)
 *   AIMS_NPM_REGISTRY        node: a registry URL, or a local directory of
 *                            npm tarballs (name-version.tgz)
 *   AIMS_DEB_DIR             bash: a local directory of .deb files used
 *                            instead of apt-get download
 */
#ifndef AIMS_PACKAGES_H
#define AIMS_PACKAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aims/core.h"
#include "aims/exec.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AIMS_PACKAGES_DEFAULT_CACHE_MB	 2048u
#define AIMS_PACKAGES_DEFAULT_INSTALL_MS 120000u
#define AIMS_PACKAGES_KEY_LEN		 64		   /* hex digits of SHA-256 */
#define AIMS_PACKAGES_LAYER_PATH	 "/opt/aims/layer" /* inside the sandbox */
#define AIMS_PACKAGES_MAX_ENV		 4
/* Where a local package index appears inside the install sandbox. */
#define AIMS_PACKAGES_SOURCE_PATH "/opt/aims/source"

/* A layer held for an execution (opaque). While held, it is not evicted. */
typedef struct aims_packages_layer aims_packages_layer;

/*
 * Finds or builds the layer of (lang, packages) and holds it. The names
 * must have passed aims_exec_check_package; more than
 * AIMS_EXEC_MAX_PACKAGES fail with AIMS_ETOOBIG. Waits for a concurrent
 * install of the same set instead of installing twice. On success *out
 * is a held layer (release with aims_packages_release). Fails with
 * AIMS_EINSTALL (a package is unknown or the installer failed: the
 * message names the package and ends with the installer's last lines),
 * AIMS_EUPSTREAM (the registry is unreachable), AIMS_ETIMEOUT (the install
 * took longer than its limit), AIMS_EUNSUPPORTED (the package manager is
 * missing), AIMS_ECANCELED (cancel_fd fired), AIMS_EIO (the cache
 * directory), AIMS_ESANDBOX or AIMS_ENOMEM. Thread-safe.
 */
int aims_packages_acquire(aims_packages_layer **out, aims_language lang,
			  const char *const *packages, size_t count, int cancel_fd,
			  aims_exec_progress_fn progress, void *progress_ctx, aims_error *err);

/* The host directory to mount at AIMS_PACKAGES_LAYER_PATH (borrowed). */
const char *aims_packages_layer_dir(const aims_packages_layer *layer);
/* The layer's key: AIMS_PACKAGES_KEY_LEN hex digits (borrowed). */
const char *aims_packages_layer_key(const aims_packages_layer *layer);
/* Whether this acquire ran the install (false: an existing layer). */
bool aims_packages_layer_installed(const aims_packages_layer *layer);
/* How long this acquire spent installing, or waiting for another's install. */
uint64_t aims_packages_layer_install_ms(const aims_packages_layer *layer);
/* The "NAME=VALUE" entries that make the layer visible to the program
 * (PYTHONPATH, NODE_PATH, PATH, LD_LIBRARY_PATH), NULL-terminated,
 * borrowed. */
const char *const *aims_packages_layer_env(const aims_packages_layer *layer);
/* Lets go of the layer (it may be evicted afterwards). layer may be NULL. */
void aims_packages_release(aims_packages_layer *layer);

/* The cache directory in use (from the environment), as a new string in
 * *out (caller frees). Fails with AIMS_EIO when no directory can be named
 * (no AIMS_CACHE_DIR, XDG_CACHE_HOME or HOME). */
int aims_packages_cache_dir(char **out, aims_error *err);

/* One cached layer, as listed. */
typedef struct aims_packages_entry {
	char key[AIMS_PACKAGES_KEY_LEN + 1];
	char language[8];
	char *packages; /* space-separated normalized names */
	uint64_t size_bytes;
	int64_t last_used; /* seconds since the epoch */
	bool in_use;	   /* held by an execution now */
} aims_packages_entry;

/* Lists the cached layers, most recently used first, into a new array
 * *out of *out_count entries (free with aims_packages_entries_free). A
 * missing cache is an empty list. Fails with AIMS_EIO or AIMS_ENOMEM. */
int aims_packages_cache_list(aims_packages_entry **out, size_t *out_count, aims_error *err);
void aims_packages_entries_free(aims_packages_entry *entries, size_t count);

/* Removes layers least recently used first until the rest fit in
 * keep_bytes (0: every layer), never one in use, and leftovers of
 * interrupted installs. *out_removed / *out_freed (may be NULL) tell what
 * went. Fails with AIMS_EIO or AIMS_ENOMEM. */
int aims_packages_cache_prune(size_t *out_removed, uint64_t *out_freed, uint64_t keep_bytes,
			      aims_error *err);

#ifdef __cplusplus
}
#endif
#endif
